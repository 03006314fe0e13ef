//! Neighbor Discovery code points, written once for every ND speaker of the border router
//! (backbone NDP in `ethernet`, the 6LBR in `firmware`, the 6LoWPAN-ND codecs in `sixlo`):
//! ICMPv6 message types (RFC 4861 §4, RFC 6775 §4.4), option types (RFC 4861 §4.6,
//! RFC 4191, RFC 6775, RFC 8505) and the Neighbor Advertisement flags.

/// Hop limit of every ND message; a received one with another is not from the link.
pub const HOP_LIMIT: u8 = 255;

/// ICMPv6 type of a Router Solicitation.
pub const ROUTER_SOLICIT: u8 = 133;
/// ICMPv6 type of a Router Advertisement.
pub const ROUTER_ADVERT: u8 = 134;
/// ICMPv6 type of a Neighbor Solicitation.
pub const NEIGHBOR_SOLICIT: u8 = 135;
/// ICMPv6 type of a Neighbor Advertisement.
pub const NEIGHBOR_ADVERT: u8 = 136;
/// ICMPv6 type of a Redirect.
pub const REDIRECT: u8 = 137;
/// ICMPv6 type of a Duplicate Address Request (6LR → 6LBR).
pub const DUPLICATE_ADDRESS_REQUEST: u8 = 157;
/// ICMPv6 type of a Duplicate Address Confirmation (6LBR → 6LR).
pub const DUPLICATE_ADDRESS_CONFIRM: u8 = 158;

/// Option type of the Source Link-Layer Address option.
pub const OPT_SLLAO: u8 = 1;
/// Option type of the Target Link-Layer Address option.
pub const OPT_TLLAO: u8 = 2;
/// Option type of the Prefix Information option.
pub const OPT_PREFIX_INFO: u8 = 3;
/// Option type of the Redirected Header option.
pub const OPT_REDIRECTED_HEADER: u8 = 4;
/// Option type of the MTU option.
pub const OPT_MTU: u8 = 5;
/// Option type of the Route Information option (RFC 4191).
pub const OPT_ROUTE_INFO: u8 = 24;
/// Option type of the Address Registration option, plain (RFC 6775) and extended (EARO,
/// RFC 8505) alike.
pub const OPT_ARO: u8 = 33;
/// Option type of the 6LoWPAN Context option (6CO).
pub const OPT_6CO: u8 = 34;
/// Option type of the Authoritative Border Router option (ABRO).
pub const OPT_ABRO: u8 = 35;

/// Neighbor Advertisement flag R: the sender is a router.
pub const NA_ROUTER: u8 = 0x80;
/// Neighbor Advertisement flag S: sent in answer to a solicitation.
pub const NA_SOLICITED: u8 = 0x40;
/// Neighbor Advertisement flag O: override an existing cache entry.
pub const NA_OVERRIDE: u8 = 0x20;

#[cfg(test)]
mod tests {
    use smoltcp::wire::{Icmpv6Message, NdiscNeighborFlags, NdiscOptionType};

    use super::*;

    /// The numbers smoltcp also knows are smoltcp's.
    #[test]
    fn code_points_are_smoltcps() {
        for (ours, theirs) in [
            (ROUTER_SOLICIT, Icmpv6Message::RouterSolicit),
            (ROUTER_ADVERT, Icmpv6Message::RouterAdvert),
            (NEIGHBOR_SOLICIT, Icmpv6Message::NeighborSolicit),
            (NEIGHBOR_ADVERT, Icmpv6Message::NeighborAdvert),
            (REDIRECT, Icmpv6Message::Redirect),
        ] {
            assert_eq!(ours, u8::from(theirs));
        }
        for (ours, theirs) in [
            (OPT_SLLAO, NdiscOptionType::SourceLinkLayerAddr),
            (OPT_TLLAO, NdiscOptionType::TargetLinkLayerAddr),
            (OPT_PREFIX_INFO, NdiscOptionType::PrefixInformation),
            (OPT_REDIRECTED_HEADER, NdiscOptionType::RedirectedHeader),
            (OPT_MTU, NdiscOptionType::Mtu),
        ] {
            assert_eq!(ours, u8::from(theirs));
        }
        assert_eq!(NA_ROUTER, NdiscNeighborFlags::ROUTER.bits());
        assert_eq!(NA_SOLICITED, NdiscNeighborFlags::SOLICITED.bits());
        assert_eq!(NA_OVERRIDE, NdiscNeighborFlags::OVERRIDE.bits());
    }
}
