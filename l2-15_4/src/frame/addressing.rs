//! Addressing: the addressing modes, PAN identifiers, link-layer addresses (canonical and
//! on-air byte order) and which PAN IDs a header carries for a given version, pair of
//! addressing modes and PAN ID compression bit.

use core::fmt;

use super::FrameVersion;

enum_with_unknown! {
    /// An addressing mode (2 bits); mode 1 is reserved.
    pub enum AddressingMode(u8) {
        /// No PAN ID and no address.
        Absent = 0,
        /// 16-bit short address.
        Short = 2,
        /// 64-bit extended address.
        Extended = 3,
    }
}

impl AddressingMode {
    /// Bytes the address takes on air.
    pub fn size(self) -> usize {
        match self {
            AddressingMode::Short => 2,
            AddressingMode::Extended => 8,
            _ => 0,
        }
    }
}

/// A PAN identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PanId(pub u16);

impl PanId {
    /// The broadcast PAN identifier.
    pub const BROADCAST: PanId = PanId(0xffff);
}

impl fmt::Display for PanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}", self.0)
    }
}

/// A link-layer address.
///
/// A short address is the 16-bit value; an extended address is the EUI-64 in its canonical
/// (big-endian, "as printed") order. On air both are little-endian: the codec reverses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Address {
    /// 16-bit short address (`0xffff` is broadcast, `0xfffe` "no short address").
    Short(u16),
    /// EUI-64, canonical byte order.
    Extended([u8; 8]),
}

impl Address {
    /// The broadcast address.
    pub const BROADCAST: Address = Address::Short(0xffff);

    /// The address an IPv6 interface identifier was formed from (RFC 4944 §6 / RFC 6282
    /// §3.2.2): `0000:00ff:fe00:XXXX` is short address XXXX; any other IID is an EUI-64 with
    /// the U/L bit inverted.
    pub fn from_iid(iid: [u8; 8]) -> Address {
        if iid[..6] == [0, 0, 0, 0xff, 0xfe, 0] {
            Address::Short(u16::from_be_bytes([iid[6], iid[7]]))
        } else {
            let mut e = iid;
            e[0] ^= 0x02;
            Address::Extended(e)
        }
    }

    /// Whether this is the broadcast short address.
    pub fn is_broadcast(&self) -> bool {
        *self == Address::BROADCAST
    }

    /// Whether this names a single node.
    pub fn is_unicast(&self) -> bool {
        !self.is_broadcast()
    }

    /// The addressing mode that carries this address.
    pub fn mode(&self) -> AddressingMode {
        match self {
            Address::Short(_) => AddressingMode::Short,
            Address::Extended(_) => AddressingMode::Extended,
        }
    }

    /// The on-air (little-endian) bytes of the address, in the first [`AddressingMode::size`]
    /// bytes.
    pub(super) fn air_bytes(&self) -> [u8; 8] {
        match *self {
            Address::Short(v) => {
                let [a, b] = v.to_le_bytes();
                [a, b, 0, 0, 0, 0, 0, 0]
            }
            Address::Extended(e) => Address::ext_to_air(e),
        }
    }

    /// The on-air (little-endian) bytes of an extended address.
    const fn ext_to_air(a: [u8; 8]) -> [u8; 8] {
        u64::from_be_bytes(a).to_le_bytes()
    }

    /// The canonical form of an extended address read from the air.
    pub(super) const fn ext_from_air(b: [u8; 8]) -> [u8; 8] {
        u64::from_le_bytes(b).to_be_bytes()
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Short(v) => write!(f, "{v:04x}"),
            Address::Extended(a) => {
                for (i, b) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(":")?;
                    }
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// Which PAN IDs a header carries, given its version, address modes and compression bit.
/// `None` when the combination is not allowed.
pub(super) fn pan_presence(
    version: FrameVersion,
    dst: AddressingMode,
    src: AddressingMode,
    comp: bool,
) -> Option<(bool, bool)> {
    use AddressingMode::{Absent, Extended};
    let d = dst != Absent;
    let s = src != Absent;
    match version {
        FrameVersion::Ieee2003 | FrameVersion::Ieee2006 => match (d, s, comp) {
            (true, true, c) => Some((true, !c)),
            (d, s, false) => Some((d, s)),
            _ => None,
        },
        _ => Some(match (d, s, comp) {
            (false, false, c) => (c, false),
            (true, false, c) => (!c, false),
            (false, true, c) => (false, !c),
            (true, true, c) if dst == Extended && src == Extended => (!c, false),
            (true, true, c) => (true, !c),
        }),
    }
}

/// A link-layer address that is not an IEEE 802.15.4 short (2-byte) or extended (8-byte)
/// address: none, or another link's (an Ethernet MAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NotIeee802154;

impl fmt::Display for NotIeee802154 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an IEEE 802.15.4 short or extended address")
    }
}

impl core::error::Error for NotIeee802154 {}

impl From<Address> for netif::LinkAddr {
    /// 2 bytes (the short address, big-endian) or 8 (the EUI-64).
    #[inline]
    fn from(a: Address) -> Self {
        match a {
            Address::Short(s) => netif::LinkAddr::ieee802154_short(s.to_be_bytes()),
            Address::Extended(e) => netif::LinkAddr::ieee802154_extended(e),
        }
    }
}

impl TryFrom<netif::LinkAddr> for Address {
    type Error = NotIeee802154;

    /// A 2-byte address is a short address (big-endian), an 8-byte one an EUI-64.
    #[inline]
    fn try_from(l: netif::LinkAddr) -> Result<Self, Self::Error> {
        match l.as_bytes() {
            [a, b] => Ok(Address::Short(u16::from_be_bytes([*a, *b]))),
            b => <[u8; 8]>::try_from(b)
                .map(Address::Extended)
                .map_err(|_| NotIeee802154),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EUI: [u8; 8] = [0x00, 0x12, 0x4b, 0x00, 0x01, 0x02, 0x03, 0x04];

    #[test]
    fn netif_link_addr_both_directions() {
        let short = netif::LinkAddr::from(Address::Short(0x1234));
        assert_eq!(short, netif::LinkAddr::ieee802154_short([0x12, 0x34]));
        assert_eq!(Address::try_from(short), Ok(Address::Short(0x1234)));
        let bcast = netif::LinkAddr::from(Address::BROADCAST);
        assert_eq!(bcast.as_bytes(), &[0xff, 0xff]);
        assert_eq!(Address::try_from(bcast), Ok(Address::BROADCAST));
        let ext = netif::LinkAddr::from(Address::Extended(EUI));
        assert_eq!(ext, netif::LinkAddr::ieee802154_extended(EUI));
        assert_eq!(Address::try_from(ext), Ok(Address::Extended(EUI)));
    }

    #[test]
    fn other_link_addrs_are_refused() {
        assert_eq!(Address::try_from(netif::LinkAddr::NONE), Err(NotIeee802154));
        let mac = netif::LinkAddr::ethernet([0x02, 0, 0, 0, 0, 1]);
        assert_eq!(Address::try_from(mac), Err(NotIeee802154));
    }
}
