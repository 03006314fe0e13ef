//! IPv6 extension headers (RFC 8200 §4) as a destination processes them: the walk from the
//! fixed header to the upper-layer header, hop-by-hop and destination options (§4.2), and the
//! routing header's Segments Left rule (§4.4).
//!
//! Header numbers are [`NextHeader`] and option types [`OptionType`] with the
//! [`OptionAction`] of their two high-order bits (small enums rather than smoltcp's
//! `IpProtocol` and `Ipv6OptionType`, whose conversions cost the board about 300 bytes of
//! flash here; a test checks every value against smoltcp's). Field offsets are in [`field`].
//! The fragment header is not walked (the core does not reassemble IPv6 fragments): its number
//! is handed on like an upper-layer protocol, and local delivery answers it as an unrecognised
//! next header.
//!
//! Every byte is read through a checked `get`: a header or an option that runs past the
//! buffer ends the walk with [`DropReason::Truncated`] or [`DropReason::BadExtensionHeader`],
//! never a panic. Headers are read field by field, as far as the decision needs: a routing
//! header with Segments Left 0 is skipped by its length without reading its data.

use crate::icmp::param_problem;
use crate::stats::DropReason;

/// Length of the fixed IPv6 header, where the first extension header starts.
pub const IPV6_HEADER_LEN: usize = 40;
/// Offset of the fixed header's Next Header field (where a Parameter Problem about the first
/// header points).
pub const IPV6_NEXT_HEADER: usize = 6;
/// Longest chain of extension headers walked before giving up.
pub const MAX_EXT_HEADERS: usize = 8;

/// Field offsets, from the first byte of an extension header or an option.
pub mod field {
    /// Next Header (every extension header).
    pub const NEXT_HEADER: usize = 0;
    /// Hdr Ext Len: 8-octet units after the first 8 (hop-by-hop, routing, destination options).
    pub const LENGTH: usize = 1;
    /// Routing header: Routing Type.
    pub const ROUTING_TYPE: usize = 2;
    /// Routing header: Segments Left.
    pub const SEGMENTS_LEFT: usize = 3;
    /// Options header: the first option.
    pub const OPTIONS: usize = 2;
    /// Option: Option Type.
    pub const OPTION_TYPE: usize = 0;
    /// Option: Opt Data Len (absent in Pad1).
    pub const OPTION_LENGTH: usize = 1;
    /// Option: Option Data.
    pub const OPTION_DATA: usize = 2;
}

/// The Next Header values the walk acts on (IANA protocol numbers); the rest are `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHeader {
    /// Hop-by-hop options (0).
    HopByHop,
    /// Routing header (43).
    Routing,
    /// Fragment header (44).
    Fragment,
    /// No next header (59).
    NoNextHeader,
    /// Destination options (60).
    DestinationOptions,
    /// Anything else: an upper-layer protocol, or a header the walk does not know.
    Unknown(u8),
}

impl From<u8> for NextHeader {
    #[inline]
    fn from(v: u8) -> Self {
        match v {
            0 => NextHeader::HopByHop,
            43 => NextHeader::Routing,
            44 => NextHeader::Fragment,
            59 => NextHeader::NoNextHeader,
            60 => NextHeader::DestinationOptions,
            v => NextHeader::Unknown(v),
        }
    }
}

impl From<NextHeader> for u8 {
    #[inline]
    fn from(v: NextHeader) -> u8 {
        match v {
            NextHeader::HopByHop => 0,
            NextHeader::Routing => 43,
            NextHeader::Fragment => 44,
            NextHeader::NoNextHeader => 59,
            NextHeader::DestinationOptions => 60,
            NextHeader::Unknown(v) => v,
        }
    }
}

/// Option types of hop-by-hop and destination options headers the walk knows (RFC 8200
/// §4.2, RFC 2711).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionType {
    /// One byte of padding (type byte only).
    Pad1,
    /// Padding of 2 + length bytes.
    PadN,
    /// Router Alert.
    RouterAlert,
    /// The RPL Option (RFC 6553: 0x63; RFC 9008: 0x23), carried in hop-by-hop headers of
    /// packets inside an RPL DODAG. Known to the core so that packets from an RPL mesh are
    /// not discarded for an "unrecognised" 0x63 (action bits 01); the root checks it.
    Rpl(u8),
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for OptionType {
    #[inline]
    fn from(v: u8) -> Self {
        match v {
            0 => OptionType::Pad1,
            1 => OptionType::PadN,
            5 => OptionType::RouterAlert,
            RPL_OPTION_6553 | RPL_OPTION_9008 => OptionType::Rpl(v),
            v => OptionType::Unknown(v),
        }
    }
}

impl From<OptionType> for u8 {
    #[inline]
    fn from(v: OptionType) -> u8 {
        match v {
            OptionType::Pad1 => 0,
            OptionType::PadN => 1,
            OptionType::RouterAlert => 5,
            OptionType::Rpl(v) | OptionType::Unknown(v) => v,
        }
    }
}

/// What a node does with an option it does not recognise: the two high-order bits of the
/// option type (RFC 8200 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionAction {
    /// 00: skip the option.
    Skip,
    /// 01: discard the packet.
    Discard,
    /// 10: discard and send Parameter Problem code 2, even to a multicast destination.
    DiscardSendAll,
    /// 11: discard and send Parameter Problem code 2 unless the destination is multicast.
    DiscardSendUnicast,
}

impl OptionType {
    /// The action bits of this type.
    #[inline]
    pub fn action(self) -> OptionAction {
        match u8::from(self) >> 6 {
            0 => OptionAction::Skip,
            1 => OptionAction::Discard,
            2 => OptionAction::DiscardSendAll,
            _ => OptionAction::DiscardSendUnicast,
        }
    }
}

/// Length in bytes of a header whose Hdr Ext Len field is `length_field`.
pub fn header_len(length_field: u8) -> usize {
    (usize::from(length_field) + 1) * 8
}

/// The RPL Option's type in RFC 6553.
pub const RPL_OPTION_6553: u8 = 0x63;
/// The RPL Option's type since RFC 9008 §12.1 (action bits 00: routers outside RPL skip it).
pub const RPL_OPTION_9008: u8 = 0x23;
/// Least data length of the RPL Option (flags, instance, sender rank; RFC 6553 §3).
const RPL_OPTION_MIN_LEN: usize = 4;

/// Data length of the Router Alert option (RFC 2711 §2.1).
const ROUTER_ALERT_LEN: usize = 2;

/// Result of walking the extension headers to the upper layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Upper {
    /// Upper-layer protocol and its offset.
    At(u8, usize),
    /// Drop silently (counted).
    Drop(DropReason),
    /// Drop and answer Parameter Problem (code, pointer).
    Problem(u8, u32),
    /// A routing header with segments left: its Routing Type and offset. A handler for the
    /// type ([`crate::stack::Match::Routing`]) processes it; without one, Parameter Problem
    /// code 0 at the Routing Type (RFC 8200 §4.4).
    Routing(u8, usize),
}

/// Process an options header (hop-by-hop or destination options) at `off`; returns its length.
pub(crate) fn options_header(d: &[u8], off: usize, dst_multicast: bool) -> Result<usize, Upper> {
    let bad = Upper::Drop(DropReason::BadExtensionHeader);
    let len = d
        .get(off + field::LENGTH)
        .map(|&l| header_len(l))
        .ok_or(Upper::Drop(DropReason::Truncated))?;
    let end = off
        .checked_add(len)
        .filter(|&e| e <= d.len())
        .ok_or(Upper::Drop(DropReason::Truncated))?;
    let mut i = off + field::OPTIONS;
    while i < end {
        let ty = OptionType::from(*d.get(i + field::OPTION_TYPE).ok_or(bad)?);
        if ty == OptionType::Pad1 {
            i += 1; // Pad1 is the type byte alone
            continue;
        }
        let olen = usize::from(
            *d.get(i + field::OPTION_LENGTH)
                .ok_or(Upper::Drop(DropReason::BadExtensionHeader))?,
        );
        let next = i + field::OPTION_DATA + olen;
        if next > end {
            return Err(Upper::Drop(DropReason::BadExtensionHeader));
        }
        match ty {
            OptionType::PadN => {}
            // Nothing to intercept without MLD.
            OptionType::RouterAlert if olen == ROUTER_ALERT_LEN => {}
            // Well formed; its flags are the RPL root's business.
            OptionType::Rpl(_) if olen >= RPL_OPTION_MIN_LEN => {}
            _ => match ty.action() {
                OptionAction::Skip => {}
                OptionAction::Discard => {
                    return Err(Upper::Drop(DropReason::BadExtensionHeader));
                }
                OptionAction::DiscardSendUnicast if dst_multicast => {
                    return Err(Upper::Drop(DropReason::BadExtensionHeader));
                }
                _ => {
                    return Err(Upper::Problem(param_problem::UNRECOGNIZED_OPTION, i as u32));
                }
            },
        }
        i = next;
    }
    Ok(len)
}

/// Walk from the IPv6 header to the upper layer, processing what a destination must.
pub(crate) fn walk_to_upper(d: &[u8], first: u8, dst_multicast: bool) -> Upper {
    let mut next = first;
    let mut off = IPV6_HEADER_LEN;
    let mut next_ptr = IPV6_NEXT_HEADER; // offset of the byte that named `next`
    for n in 0..MAX_EXT_HEADERS {
        match NextHeader::from(next) {
            NextHeader::HopByHop if n > 0 => {
                // Hop-by-hop options only right after the fixed header (RFC 8200 §4.1).
                return Upper::Problem(param_problem::UNRECOGNIZED_NEXT_HEADER, next_ptr as u32);
            }
            NextHeader::HopByHop | NextHeader::DestinationOptions => {
                match options_header(d, off, dst_multicast) {
                    Ok(len) => {
                        next_ptr = off;
                        next = match d.get(off + field::NEXT_HEADER) {
                            Some(&v) => v,
                            None => return Upper::Drop(DropReason::Truncated),
                        };
                        off += len;
                    }
                    Err(u) => return u,
                }
            }
            NextHeader::Routing => {
                let (Some(&nh), Some(&l), Some(&ty), Some(&segs_left)) = (
                    d.get(off + field::NEXT_HEADER),
                    d.get(off + field::LENGTH),
                    d.get(off + field::ROUTING_TYPE),
                    d.get(off + field::SEGMENTS_LEFT),
                ) else {
                    return Upper::Drop(DropReason::Truncated);
                };
                if segs_left != 0 {
                    return Upper::Routing(ty, off);
                }
                next_ptr = off;
                next = nh;
                off += header_len(l);
            }
            _ => return Upper::At(next, off),
        }
    }
    Upper::Drop(DropReason::BadExtensionHeader)
}

/// Offset of the next-header field that named the header at `target`.
pub(crate) fn next_header_ptr(d: &[u8], first: u8, target: usize) -> u32 {
    let (mut off, mut ptr, mut next) = (IPV6_HEADER_LEN, IPV6_NEXT_HEADER, first);
    for _ in 0..MAX_EXT_HEADERS {
        let walked = matches!(
            NextHeader::from(next),
            NextHeader::HopByHop | NextHeader::Routing | NextHeader::DestinationOptions
        );
        if off >= target || !walked {
            break;
        }
        let (Some(&nh), Some(&l)) = (d.get(off + field::NEXT_HEADER), d.get(off + field::LENGTH))
        else {
            break;
        };
        ptr = off;
        next = nh;
        off += header_len(l);
    }
    ptr as u32
}

#[cfg(test)]
mod tests;
