//! Wire formats of the backbone: the Ethernet II header (with an optional 802.1Q tag), the
//! IPv6 multicast → `33:33:xx:xx:xx:xx` mapping (RFC 2464 §7), and the Route Information
//! Option of router advertisements (RFC 4191 §2.3).
//!
//! The untagged Ethernet header is smoltcp's [`EthernetFrame`]/[`EthernetRepr`](smoltcp::wire::EthernetRepr); this module
//! adds the 802.1Q tag, which smoltcp does not parse, on top of it. smoltcp has no RFC 4191
//! option at all (its `NdiscOptionRepr` knows only the RFC 4861 options), so [`RouteInfo`] is
//! written here, in the same view + `Repr` style.
//!
//! Contract: `parse` never panics on any input; `emit` writes exactly `buffer_len()` bytes and
//! refuses (returns an error) what `parse` could not read back.

use core::fmt;
use core::net::Ipv6Addr;

use smoltcp::wire::{EthernetAddress, EthernetFrame, EthernetProtocol};

/// An Ethernet MAC address (smoltcp's type).
pub type Mac = EthernetAddress;

/// Length of an untagged Ethernet II header.
pub const HEADER_LEN: usize = 14;
/// Length of an 802.1Q tag.
pub const VLAN_TAG_LEN: usize = 4;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// EtherType (TPID) of an 802.1Q tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// The broadcast address.
pub const BROADCAST: Mac = EthernetAddress([0xff; 6]);

/// Why a frame or option could not be parsed or emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WireError {
    /// Shorter than its header (or than its own length field says).
    Truncated,
    /// A field holds a value the format forbids.
    Malformed,
    /// The output buffer is too small.
    BufferTooSmall,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WireError::Truncated => "truncated",
            WireError::Malformed => "malformed field",
            WireError::BufferTooSmall => "output buffer too small",
        })
    }
}
impl core::error::Error for WireError {}

/// The meaning of an Ethernet II header, possibly 802.1Q-tagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthHeader {
    /// Destination address.
    pub dst: Mac,
    /// Source address.
    pub src: Mac,
    /// The 802.1Q tag control information (PCP, DEI, VLAN ID), when tagged.
    pub vlan_tci: Option<u16>,
    /// EtherType of the payload (the inner one when tagged).
    pub ethertype: u16,
}

impl EthHeader {
    /// Parse the header at the start of `frame`.
    pub fn parse(frame: &[u8]) -> Result<EthHeader, WireError> {
        let f = EthernetFrame::new_checked(frame).map_err(|_| WireError::Truncated)?;
        let outer = u16::from(f.ethertype());
        let (vlan_tci, ethertype) = if outer == ETHERTYPE_VLAN {
            let t = f
                .payload()
                .get(..VLAN_TAG_LEN)
                .ok_or(WireError::Truncated)?;
            (
                Some(u16::from_be_bytes([t[0], t[1]])),
                u16::from_be_bytes([t[2], t[3]]),
            )
        } else {
            (None, outer)
        };
        Ok(EthHeader {
            dst: f.dst_addr(),
            src: f.src_addr(),
            vlan_tci,
            ethertype,
        })
    }

    /// Header length: 14, or 18 with the tag.
    pub const fn buffer_len(&self) -> usize {
        match self.vlan_tci {
            Some(_) => HEADER_LEN + VLAN_TAG_LEN,
            None => HEADER_LEN,
        }
    }

    /// Write the header into the first [`EthHeader::buffer_len`] bytes of `out`.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), WireError> {
        let len = self.buffer_len();
        let out = out.get_mut(..len).ok_or(WireError::BufferTooSmall)?;
        if self.vlan_tci.is_none() && self.ethertype == ETHERTYPE_VLAN {
            // An untagged header naming the 802.1Q TPID would parse back as a tagged one. A
            // tagged header whose inner EtherType is the TPID (Q-in-Q) is fine: parsing reads
            // one tag only, so it comes back unchanged.
            return Err(WireError::Malformed);
        }
        let mut f = EthernetFrame::new_unchecked(&mut *out);
        f.set_dst_addr(self.dst);
        f.set_src_addr(self.src);
        match self.vlan_tci {
            Some(tci) => {
                f.set_ethertype(EthernetProtocol::from(ETHERTYPE_VLAN));
                if let Some(t) = out.get_mut(HEADER_LEN..HEADER_LEN + VLAN_TAG_LEN) {
                    t[..2].copy_from_slice(&tci.to_be_bytes());
                    t[2..].copy_from_slice(&self.ethertype.to_be_bytes());
                }
            }
            None => f.set_ethertype(EthernetProtocol::from(self.ethertype)),
        }
        Ok(())
    }
}

/// The Ethernet address an IPv6 multicast group maps to: `33:33` and the group's last 32 bits
/// (RFC 2464 §7).
pub fn ipv6_multicast_mac(group: &Ipv6Addr) -> Mac {
    let o = group.octets();
    EthernetAddress([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// Route preference (RFC 4191 §2.1), a 2-bit signed field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RoutePreference {
    /// `11`.
    Low,
    /// `00`.
    Medium,
    /// `01`.
    High,
    /// `10`: reserved; a receiver ignores the option (RFC 4191 §2.3).
    Reserved,
}

impl From<u8> for RoutePreference {
    fn from(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => RoutePreference::Medium,
            0b01 => RoutePreference::High,
            0b11 => RoutePreference::Low,
            _ => RoutePreference::Reserved,
        }
    }
}

impl From<RoutePreference> for u8 {
    fn from(p: RoutePreference) -> u8 {
        match p {
            RoutePreference::Medium => 0b00,
            RoutePreference::High => 0b01,
            RoutePreference::Reserved => 0b10,
            RoutePreference::Low => 0b11,
        }
    }
}

/// NDP option type of the Route Information Option (netif's, under the name used here).
pub use netif::icmp::nd::OPT_ROUTE_INFO as RIO_TYPE;

/// A Route Information Option (RFC 4191 §2.3):
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// |     Type      |    Length     | Prefix Length |Resvd|Prf|Resvd|
/// |                        Route Lifetime                         |
/// |                   Prefix (Variable Length)                    |
/// ```
///
/// Length is 1, 2 or 3 (units of 8 bytes) and must be large enough for the prefix length:
/// a prefix of more than 64 bits needs 3, more than 0 needs at least 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    /// Prefix length (0..=128).
    pub prefix_len: u8,
    /// Preference.
    pub preference: RoutePreference,
    /// Lifetime in seconds (`0xffff_ffff`: infinity).
    pub lifetime: u32,
    /// The prefix (bits past `prefix_len` are zero after `parse`).
    pub prefix: Ipv6Addr,
}

impl RouteInfo {
    /// Parse a whole option (type, length and body) from `opt`, whose length is exactly the
    /// option's (`8 * Length` bytes).
    pub fn parse(opt: &[u8]) -> Result<RouteInfo, WireError> {
        let hdr = opt.get(..8).ok_or(WireError::Truncated)?;
        if hdr[0] != RIO_TYPE {
            return Err(WireError::Malformed);
        }
        let units = usize::from(hdr[1]);
        if !(1..=3).contains(&units) || opt.len() != units * 8 {
            return Err(WireError::Malformed);
        }
        let prefix_len = hdr[2];
        let need = match prefix_len {
            0 => 1,
            1..=64 => 2,
            65..=128 => 3,
            _ => return Err(WireError::Malformed),
        };
        if units < need {
            return Err(WireError::Malformed);
        }
        let mut p = [0u8; 16];
        let body = opt.get(8..).unwrap_or(&[]);
        let n = body.len().min(16);
        p[..n].copy_from_slice(&body[..n]);
        Ok(RouteInfo {
            prefix_len,
            preference: RoutePreference::from(hdr[3] >> 3),
            lifetime: u32::from_be_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]),
            prefix: netif::addr::mask(Ipv6Addr::from(p), prefix_len),
        })
    }

    /// Option length in bytes (the smallest the prefix length allows).
    pub const fn buffer_len(&self) -> usize {
        match self.prefix_len {
            0 => 8,
            1..=64 => 16,
            _ => 24,
        }
    }

    /// Write the option into the first [`RouteInfo::buffer_len`] bytes of `out`.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), WireError> {
        if self.prefix_len > 128 || self.preference == RoutePreference::Reserved {
            return Err(WireError::Malformed);
        }
        let len = self.buffer_len();
        let out = out.get_mut(..len).ok_or(WireError::BufferTooSmall)?;
        out.fill(0);
        out[0] = RIO_TYPE;
        out[1] = (len / 8) as u8;
        out[2] = self.prefix_len;
        out[3] = u8::from(self.preference) << 3;
        out[4..8].copy_from_slice(&self.lifetime.to_be_bytes());
        let p = netif::addr::mask(self.prefix, self.prefix_len).octets();
        let n = len - 8;
        out[8..].copy_from_slice(&p[..n]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_header_untagged_and_tagged() {
        // A real frame head: dst 33:33:00:00:00:01, src 52:54:00:12:34:56, EtherType IPv6.
        let untagged = [
            0x33, 0x33, 0, 0, 0, 1, // dst
            0x52, 0x54, 0, 0x12, 0x34, 0x56, // src
            0x86, 0xdd, // IPv6
            0x60, // first payload byte
        ];
        let h = EthHeader::parse(&untagged).unwrap();
        assert_eq!(h.dst, EthernetAddress([0x33, 0x33, 0, 0, 0, 1]));
        assert_eq!(h.src, EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        assert_eq!(
            (h.vlan_tci, h.ethertype, h.buffer_len()),
            (None, 0x86dd, 14)
        );
        let mut out = [0u8; 14];
        h.emit(&mut out).unwrap();
        assert_eq!(out[..], untagged[..14]);

        let tagged = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // dst broadcast
            0x52, 0x54, 0, 0x12, 0x34, 0x56, // src
            0x81, 0x00, // 802.1Q TPID
            0x20, 0x2a, // PCP 1, VLAN 42
            0x86, 0xdd, // inner EtherType
        ];
        let h = EthHeader::parse(&tagged).unwrap();
        assert_eq!(
            (h.vlan_tci, h.ethertype, h.buffer_len()),
            (Some(0x202a), 0x86dd, 18)
        );
        let mut out = [0u8; 18];
        h.emit(&mut out).unwrap();
        assert_eq!(out, tagged);
        assert_eq!(EthHeader::parse(&tagged[..16]), Err(WireError::Truncated));
        assert_eq!(EthHeader::parse(&tagged[..13]), Err(WireError::Truncated));
        assert_eq!(h.emit(&mut [0u8; 17]), Err(WireError::BufferTooSmall));

        // Q-in-Q: the outer tag is read, the inner TPID is the EtherType; it re-emits as read.
        let qinq = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // dst broadcast
            0x52, 0x54, 0, 0x12, 0x34, 0x56, // src
            0x81, 0x00, // 802.1Q TPID
            0x00, 0x74, // PCP 0, VLAN 116
            0x81, 0x00, // inner EtherType: another tag
        ];
        let h = EthHeader::parse(&qinq).unwrap();
        assert_eq!((h.vlan_tci, h.ethertype), (Some(0x0074), ETHERTYPE_VLAN));
        let mut out = [0u8; 18];
        h.emit(&mut out).unwrap();
        assert_eq!(out, qinq);
        // Untagged, the TPID as EtherType would read back as a tag: refused.
        let untagged_tpid = EthHeader {
            vlan_tci: None,
            ..h
        };
        assert_eq!(
            untagged_tpid.emit(&mut [0u8; 18]),
            Err(WireError::Malformed)
        );
    }

    #[test]
    fn multicast_mapping_rfc2464() {
        // RFC 2464 §7 example: ff02::1:ff00:1 → 33:33:ff:00:00:01; all-nodes → 33:33:00:00:00:01.
        let g: Ipv6Addr = "ff02::1:ff00:1".parse().unwrap();
        assert_eq!(ipv6_multicast_mac(&g).0, [0x33, 0x33, 0xff, 0, 0, 1]);
        let all: Ipv6Addr = "ff02::1".parse().unwrap();
        assert_eq!(ipv6_multicast_mac(&all).0, [0x33, 0x33, 0, 0, 0, 1]);
    }

    #[test]
    fn route_info_vectors() {
        // 2001:db8:100::/64, high preference, 1800 s: Length 2.
        let v = [
            24, 2, 64, 0x08, // type, length, prefix length, Prf = 01
            0, 0, 0x07, 0x08, // lifetime 1800
            0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, // prefix (first 64 bits)
        ];
        let r = RouteInfo::parse(&v).unwrap();
        assert_eq!(r.prefix, "2001:db8:100::".parse::<Ipv6Addr>().unwrap());
        assert_eq!(
            (r.prefix_len, r.preference, r.lifetime),
            (64, RoutePreference::High, 1800)
        );
        let mut out = [0u8; 16];
        r.emit(&mut out).unwrap();
        assert_eq!(out, v);
        // ::/0, Length 1.
        let d = [24, 1, 0, 0x18, 0xff, 0xff, 0xff, 0xff];
        let r = RouteInfo::parse(&d).unwrap();
        assert_eq!((r.preference, r.buffer_len()), (RoutePreference::Low, 8));
        // Length too small for the prefix, bad lengths, prefix length > 128.
        assert!(RouteInfo::parse(&[24, 1, 64, 0, 0, 0, 0, 0]).is_err());
        assert!(RouteInfo::parse(&v[..8]).is_err());
        let mut bad = v;
        bad[2] = 129;
        assert!(RouteInfo::parse(&bad).is_err());
        bad[1] = 0;
        assert!(RouteInfo::parse(&bad).is_err());
        // A /96 needs Length 3.
        let r = RouteInfo {
            prefix_len: 96,
            preference: RoutePreference::Medium,
            lifetime: 60,
            prefix: "2001:db8::1:0:0".parse().unwrap(),
        };
        let mut out = [0u8; 24];
        r.emit(&mut out).unwrap();
        assert_eq!(out[1], 3);
        assert_eq!(RouteInfo::parse(&out).unwrap(), r);
    }
}
