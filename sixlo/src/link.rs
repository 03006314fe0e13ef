//! Link-layer addresses as 6LoWPAN sees them, and the interface identifiers derived from them
//! (RFC 4944 §6, RFC 6282 §3.2.2). The firmware converts from the MAC crate's address type.

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

#[cfg(test)]
mod tests {
    use super::*;

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
