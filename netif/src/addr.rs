//! Addresses: the link-layer address type every L2 shares, and IPv6 address helpers (scope,
//! solicited-node groups, interface identifiers derived from link-layer addresses).

use core::fmt;
use core::net::Ipv6Addr;

/// A link-layer address of up to 8 bytes: Ethernet MAC (6), IEEE 802.15.4 short (2) or
/// extended (8), or none (0). Small and `Copy`, so packet metadata can carry one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LinkAddr {
    len: u8,
    bytes: [u8; 8],
}

impl LinkAddr {
    /// No link-layer address (e.g. a point-to-point link).
    pub const NONE: LinkAddr = LinkAddr {
        len: 0,
        bytes: [0; 8],
    };

    /// An address from raw bytes; `None` if longer than 8 bytes.
    pub fn new(raw: &[u8]) -> Option<Self> {
        let mut bytes = [0u8; 8];
        bytes.get_mut(..raw.len())?.copy_from_slice(raw);
        Some(LinkAddr {
            len: raw.len() as u8,
            bytes,
        })
    }
    /// An Ethernet MAC address.
    pub const fn ethernet(mac: [u8; 6]) -> Self {
        let b = mac;
        LinkAddr {
            len: 6,
            bytes: [b[0], b[1], b[2], b[3], b[4], b[5], 0, 0],
        }
    }
    /// An IEEE 802.15.4 short address, in network (big-endian) order as IPv6 embeds it.
    pub const fn ieee802154_short(short: [u8; 2]) -> Self {
        LinkAddr {
            len: 2,
            bytes: [short[0], short[1], 0, 0, 0, 0, 0, 0],
        }
    }
    /// An IEEE 802.15.4 extended address (EUI-64), big-endian.
    pub const fn ieee802154_extended(eui64: [u8; 8]) -> Self {
        LinkAddr {
            len: 8,
            bytes: eui64,
        }
    }
    /// The address bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
    /// Length in bytes (0, 2, 6 or 8 in practice).
    pub const fn len(&self) -> usize {
        self.len as usize
    }
    /// True for [`LinkAddr::NONE`].
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The 64-bit IPv6 interface identifier this link-layer address maps to:
    /// Ethernet → modified EUI-64 (RFC 4291 appendix A, `ff:fe` inserted, U/L bit flipped);
    /// 802.15.4 extended → EUI-64 with the U/L bit flipped (RFC 4944 §6);
    /// 802.15.4 short → `0000:00ff:fe00:XXXX` (RFC 4944 §6, RFC 6282 §3.2.2).
    /// `None` for other lengths.
    pub fn to_iid(&self) -> Option<[u8; 8]> {
        let b = self.bytes;
        match self.len {
            6 => Some([b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]]),
            8 => Some([b[0] ^ 0x02, b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            2 => Some([0, 0, 0, 0xff, 0xfe, 0, b[0], b[1]]),
            _ => None,
        }
    }
}

impl fmt::Debug for LinkAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for LinkAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 0 {
            return f.write_str("-");
        }
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for LinkAddr {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=[u8]:02x}", self.as_bytes())
    }
}

/// An IPv6 prefix: address and length (the bits past the length are ignored by comparisons).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Prefix {
    addr: Ipv6Addr,
    len: u8,
}

impl Prefix {
    /// The prefix `addr/len`, with the host bits cleared. `None` if `len > 128`.
    pub fn new(addr: Ipv6Addr, len: u8) -> Option<Self> {
        if len > 128 {
            return None;
        }
        Some(Prefix {
            addr: mask(addr, len),
            len,
        })
    }
    /// `::/0`, the default route.
    pub const DEFAULT: Prefix = Prefix {
        addr: Ipv6Addr::UNSPECIFIED,
        len: 0,
    };
    /// The network address.
    pub const fn addr(&self) -> Ipv6Addr {
        self.addr
    }
    /// The prefix length in bits.
    pub const fn prefix_len(&self) -> u8 {
        self.len
    }
    /// True for `::/0`.
    pub const fn is_default(&self) -> bool {
        self.len == 0
    }
    /// True when `a` lies inside this prefix.
    pub fn contains(&self, a: &Ipv6Addr) -> bool {
        // The network address has no bits past `len`, so this is `mask(a, len) == addr`
        // without the 128-bit shift.
        common_prefix_len(&self.addr, a) >= self.len
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Prefix {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=[u8]:02x}/{=u8}", self.addr.octets(), self.len)
    }
}

/// `a` with every bit past `len` cleared (`len` ≥ 128 keeps all bits).
pub fn mask(a: Ipv6Addr, len: u8) -> Ipv6Addr {
    let bits = u128::from(a);
    let m = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    };
    Ipv6Addr::from(bits & m)
}

/// Number of leading bits two addresses share (for source selection, RFC 6724 rule 8).
pub fn common_prefix_len(a: &Ipv6Addr, b: &Ipv6Addr) -> u8 {
    (u128::from(*a) ^ u128::from(*b)).leading_zeros() as u8
}

/// The address `prefix`'s first 64 bits followed by `iid`.
pub fn with_iid(prefix: Ipv6Addr, iid: [u8; 8]) -> Ipv6Addr {
    let mut o = prefix.octets();
    o[8..].copy_from_slice(&iid);
    Ipv6Addr::from(o)
}

/// The link-local address `fe80::/64` + `iid`.
pub fn link_local(iid: [u8; 8]) -> Ipv6Addr {
    with_iid(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), iid)
}

/// The solicited-node multicast group `ff02::1:ffXX:XXXX` of `a` (RFC 4291 §2.7.1).
pub fn solicited_node(a: &Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// All-nodes multicast, `ff02::1`.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// All-routers multicast, `ff02::2`.
pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// Address scope, ordered from narrowest to widest (RFC 4291 §2.7, RFC 4007).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Scope {
    /// Interface-local (multicast ff01::/16, loopback).
    InterfaceLocal,
    /// Link-local (fe80::/10, ff02::/16).
    LinkLocal,
    /// Realm/admin/site/organisation-local multicast (ff03–ff08 scopes).
    SubGlobal,
    /// Global (includes ULAs, which RFC 4193 gives global scope).
    Global,
}

/// The scope of `a`.
pub fn scope(a: &Ipv6Addr) -> Scope {
    if a.is_multicast() {
        match a.octets()[1] & 0x0f {
            0x1 => Scope::InterfaceLocal,
            0x0 | 0x2 => Scope::LinkLocal,
            0xe | 0xf => Scope::Global,
            _ => Scope::SubGlobal,
        }
    } else if a.is_loopback() {
        Scope::InterfaceLocal
    } else if a.is_unicast_link_local() {
        Scope::LinkLocal
    } else {
        Scope::Global
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn iids_follow_the_rfcs() {
        // RFC 4291 appendix A: MAC 34:56:78:9a:bc:de → IID 3656:78ff:fe9a:bcde.
        let mac = LinkAddr::ethernet([0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde]);
        assert_eq!(
            mac.to_iid(),
            Some([0x36, 0x56, 0x78, 0xff, 0xfe, 0x9a, 0xbc, 0xde])
        );
        // RFC 4944 §6: short address 0x1234 → 0000:00ff:fe00:1234.
        let short = LinkAddr::ieee802154_short([0x12, 0x34]);
        assert_eq!(short.to_iid(), Some([0, 0, 0, 0xff, 0xfe, 0, 0x12, 0x34]));
        let ext = LinkAddr::ieee802154_extended([0x00, 0x12, 0x4b, 0, 0x01, 0x02, 0x03, 0x04]);
        assert_eq!(
            ext.to_iid(),
            Some([0x02, 0x12, 0x4b, 0, 0x01, 0x02, 0x03, 0x04])
        );
        assert_eq!(LinkAddr::NONE.to_iid(), None);
        assert_eq!(LinkAddr::new(&[0; 9]), None);
        assert_eq!(mac.to_string(), "34:56:78:9a:bc:de");
    }

    #[test]
    fn solicited_node_and_masks() {
        let a: Ipv6Addr = "2001:db8::2aa:ff:fe28:9c5a".parse().unwrap();
        // RFC 4291 §2.7.1 example form.
        assert_eq!(
            solicited_node(&a),
            "ff02::1:ff28:9c5a".parse::<Ipv6Addr>().unwrap()
        );
        let p = Prefix::new("2001:db8:1:2::77".parse().unwrap(), 48).unwrap();
        assert_eq!(p.addr(), "2001:db8:1::".parse::<Ipv6Addr>().unwrap());
        assert!(p.contains(&"2001:db8:1:ffff::1".parse().unwrap()));
        assert!(!p.contains(&"2001:db8:2::1".parse().unwrap()));
        assert!(Prefix::DEFAULT.contains(&"::1".parse().unwrap()));
        assert_eq!(Prefix::new(Ipv6Addr::UNSPECIFIED, 129), None);
        assert_eq!(
            common_prefix_len(
                &"2001:db8::1".parse().unwrap(),
                &"2001:db8::1".parse().unwrap()
            ),
            128
        );
        assert_eq!(scope(&"ff02::1".parse().unwrap()), Scope::LinkLocal);
        assert_eq!(scope(&"ff05::1".parse().unwrap()), Scope::SubGlobal);
        assert_eq!(scope(&"fe80::1".parse().unwrap()), Scope::LinkLocal);
        assert_eq!(scope(&"fd00::1".parse().unwrap()), Scope::Global);
    }

    proptest::proptest! {
        /// `contains` is the masked comparison it replaces (no 128-bit shift).
        #[test]
        fn contains_is_the_masked_comparison(p: u128, a: u128, len in 0u8..=128) {
            let pfx = Prefix::new(Ipv6Addr::from(p), len).unwrap();
            proptest::prop_assert_eq!(
                pfx.contains(&Ipv6Addr::from(a)),
                mask(Ipv6Addr::from(a), len) == pfx.addr()
            );
            // `a`'s host bits behind the prefix: always inside.
            let host = u128::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            let inside = Ipv6Addr::from(u128::from(pfx.addr()) | (a & host));
            proptest::prop_assert!(pfx.contains(&inside));
        }
    }
}
