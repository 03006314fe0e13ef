//! Link-layer addresses as 6LoWPAN sees them, and the interface identifiers derived from them
//! (RFC 4944 §6, RFC 6282 §3.2.2), and the conversions between [`LinkAddr`], the 802.15.4
//! layer's [`Address`] (`From` one way, `TryFrom` back: [`LinkAddr::Absent`] has no
//! `Address`) and `netif`'s link address (`From` one way, `TryFrom` back: an Ethernet MAC is
//! not an 802.15.4 address).

use l2_15_4::frame::{Address, NotIeee802154};

/// An IEEE 802.15.4 link-layer address of a frame's source or destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LinkAddr {
    /// No address in the frame (address mode 0): nothing can be derived from it.
    #[default]
    Absent,
    /// A 16-bit short address, as transmitted in big-endian order.
    Short([u8; 2]),
    /// A 64-bit extended address (EUI-64), in big-endian (canonical) order.
    Extended([u8; 8]),
}

impl LinkAddr {
    /// The 64-bit interface identifier derived from this address: `0000:00ff:fe00:XXXX` for a
    /// short address, the EUI-64 with the universal/local bit flipped for an extended one.
    pub const fn iid(&self) -> Option<[u8; 8]> {
        match *self {
            LinkAddr::Absent => None,
            LinkAddr::Short([a, b]) => Some([0, 0, 0, 0xff, 0xfe, 0, a, b]),
            LinkAddr::Extended(e) => Some([e[0] ^ 0x02, e[1], e[2], e[3], e[4], e[5], e[6], e[7]]),
        }
    }

    /// Whether the address is the 802.15.4 broadcast short address `0xffff`.
    pub const fn is_broadcast(&self) -> bool {
        matches!(self, LinkAddr::Short([0xff, 0xff]))
    }
}

impl From<Address> for LinkAddr {
    #[inline]
    fn from(a: Address) -> Self {
        match a {
            Address::Short(s) => LinkAddr::Short(s.to_be_bytes()),
            Address::Extended(e) => LinkAddr::Extended(e),
        }
    }
}

impl TryFrom<LinkAddr> for Address {
    type Error = NotIeee802154;

    #[inline]
    fn try_from(l: LinkAddr) -> Result<Self, Self::Error> {
        match l {
            LinkAddr::Absent => Err(NotIeee802154),
            LinkAddr::Short(b) => Ok(Address::Short(u16::from_be_bytes(b))),
            LinkAddr::Extended(e) => Ok(Address::Extended(e)),
        }
    }
}

impl From<LinkAddr> for netif::LinkAddr {
    /// [`LinkAddr::Absent`] is [`netif::LinkAddr::NONE`].
    #[inline]
    fn from(l: LinkAddr) -> Self {
        match l {
            LinkAddr::Absent => netif::LinkAddr::NONE,
            LinkAddr::Short(b) => netif::LinkAddr::ieee802154_short(b),
            LinkAddr::Extended(e) => netif::LinkAddr::ieee802154_extended(e),
        }
    }
}

impl TryFrom<netif::LinkAddr> for LinkAddr {
    type Error = NotIeee802154;

    /// No address is [`LinkAddr::Absent`]; 2 bytes a short address, 8 an extended one (as
    /// [`Address`] reads them).
    #[inline]
    fn try_from(l: netif::LinkAddr) -> Result<Self, Self::Error> {
        if l.is_empty() {
            Ok(LinkAddr::Absent)
        } else {
            Address::try_from(l).map(LinkAddr::from)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EUI: [u8; 8] = [0x00, 0x12, 0x4b, 0x00, 0x01, 0x02, 0x03, 0x04];

    #[test]
    fn l2_address_both_directions() {
        let cases = [
            (Address::Short(0x1234), LinkAddr::Short([0x12, 0x34])),
            (Address::BROADCAST, LinkAddr::Short([0xff, 0xff])),
            (Address::Extended(EUI), LinkAddr::Extended(EUI)),
        ];
        for (a, l) in cases {
            assert_eq!(LinkAddr::from(a), l);
            assert_eq!(Address::try_from(l), Ok(a));
        }
        assert_eq!(Address::try_from(LinkAddr::Absent), Err(NotIeee802154));
        assert!(LinkAddr::from(Address::BROADCAST).is_broadcast());
    }

    #[test]
    fn netif_link_addr_both_directions() {
        let cases = [
            (LinkAddr::Absent, netif::LinkAddr::NONE),
            (
                LinkAddr::Short([0x12, 0x34]),
                netif::LinkAddr::ieee802154_short([0x12, 0x34]),
            ),
            (
                LinkAddr::Extended(EUI),
                netif::LinkAddr::ieee802154_extended(EUI),
            ),
        ];
        for (l, n) in cases {
            assert_eq!(netif::LinkAddr::from(l), n);
            assert_eq!(LinkAddr::try_from(n), Ok(l));
            // Same interface identifier either way.
            assert_eq!(l.iid(), n.to_iid());
        }
        let mac = netif::LinkAddr::ethernet([0x02, 0, 0, 0, 0, 1]);
        assert_eq!(LinkAddr::try_from(mac), Err(NotIeee802154));
    }

    #[test]
    fn the_three_types_agree() {
        for a in [Address::Short(0xbeef), Address::Extended(EUI)] {
            let via_sixlo = netif::LinkAddr::from(LinkAddr::from(a));
            assert_eq!(via_sixlo, netif::LinkAddr::from(a));
        }
    }

    #[test]
    fn iid_derivation() {
        assert_eq!(
            LinkAddr::Short([0x12, 0x34]).iid(),
            Some([0, 0, 0, 0xff, 0xfe, 0, 0x12, 0x34])
        );
        assert_eq!(
            LinkAddr::Extended([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]).iid(),
            Some([0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77])
        );
        assert_eq!(LinkAddr::Absent.iid(), None);
    }
}
