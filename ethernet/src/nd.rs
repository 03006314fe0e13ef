//! Neighbor discovery messages (RFC 4861 §4): validation and parsing of received RS, RA, NS,
//! NA and Redirect, and construction of the ones we send.
//!
//! [`NdMessage::parse`] applies every check of RFC 4861 §6.1.1, §6.1.2, §7.1.1 and §7.1.2 that
//! does not need state (hop limit 255, code 0, minimum length, every option of non-zero length
//! inside the message, target not multicast, unspecified source only where allowed…); the
//! ICMPv6 checksum was already verified by the core. It copies what it needs out of the
//! packet, so the buffer can be freed before the stack acts.
//!
//! Messages we send ([`Outgoing`]) are written by hand (see [`Outgoing::buffer_len`] and its
//! `emit`; a test checks their bytes against smoltcp's `NdiscRepr`), followed by the RFC 4191
//! options from [`crate::wire::RouteInfo`], into a pool buffer with room in front for the
//! Ethernet header, by netif's one ICMPv6 builder ([`netif::icmp::build_message`]). The ND
//! code points are netif's ([`netif::icmp::nd`]).

use core::fmt;
use core::net::Ipv6Addr;

use heapless::Vec;
use netif::icmp::nd::{OPT_MTU, OPT_PREFIX_INFO as OPT_PREFIX, OPT_SLLAO, OPT_TLLAO};
use netif::{PacketHandle, PacketPool};
use smoltcp::wire::{EthernetAddress, NdiscNeighborFlags, NdiscOption, NdiscPrefixInfoFlags};

use crate::wire::{Mac, RouteInfo};

pub use netif::icmp::nd::{
    NEIGHBOR_ADVERT, NEIGHBOR_SOLICIT, REDIRECT, ROUTER_ADVERT, ROUTER_SOLICIT,
};

/// Prefix Information Options kept from one RA.
pub const MAX_PREFIXES: usize = 4;
/// Route Information Options kept from one RA.
pub const MAX_ROUTES: usize = 4;

/// Why a received ND message is invalid (each has an [`crate::NdStats`] counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NdError {
    /// IP hop limit is not 255 (the message may come from off-link).
    HopLimit,
    /// ICMP code is not 0.
    Code,
    /// Shorter than the message type requires.
    Length,
    /// An option has length 0 or runs past the message.
    Option,
    /// Another RFC 4861 validity rule failed.
    Invalid,
    /// Not an ND message type.
    NotNd,
}

impl fmt::Display for NdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NdError::HopLimit => "hop limit is not 255",
            NdError::Code => "ICMP code is not 0",
            NdError::Length => "message too short",
            NdError::Option => "option of length 0 or past the end",
            NdError::Invalid => "message fails RFC 4861 validation",
            NdError::NotNd => "not a neighbor discovery message",
        })
    }
}
impl core::error::Error for NdError {}

/// A Prefix Information Option (RFC 4861 §4.6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefixInfo {
    /// Prefix (host bits cleared).
    pub prefix: Ipv6Addr,
    /// Prefix length.
    pub prefix_len: u8,
    /// L flag.
    pub on_link: bool,
    /// A flag.
    pub autonomous: bool,
    /// Valid lifetime, seconds (`u32::MAX`: infinity).
    pub valid: u32,
    /// Preferred lifetime, seconds.
    pub preferred: u32,
}

/// A validated ND message, copied out of its packet.
// The RA variant is large (its option lists), but a message lives briefly on the stack and
// boxing is not available without a heap.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NdMessage {
    /// Router Solicitation.
    RouterSolicit {
        /// Source link-layer address option.
        sllao: Option<Mac>,
    },
    /// Router Advertisement.
    RouterAdvert {
        /// Cur Hop Limit (0: unspecified).
        hop_limit: u8,
        /// Router lifetime in seconds (0: not a default router).
        router_lifetime: u16,
        /// Reachable time, ms (0: unspecified).
        reachable_time: u32,
        /// Retrans timer, ms (0: unspecified).
        retrans_time: u32,
        /// Source link-layer address option.
        sllao: Option<Mac>,
        /// MTU option.
        mtu: Option<u32>,
        /// Prefix Information Options (the first [`MAX_PREFIXES`]).
        prefixes: Vec<PrefixInfo, MAX_PREFIXES>,
        /// Route Information Options (the first [`MAX_ROUTES`] that parse).
        routes: Vec<RouteInfo, MAX_ROUTES>,
    },
    /// Neighbor Solicitation.
    NeighborSolicit {
        /// Target address.
        target: Ipv6Addr,
        /// Source link-layer address option.
        sllao: Option<Mac>,
    },
    /// Neighbor Advertisement.
    NeighborAdvert {
        /// R flag.
        router: bool,
        /// S flag.
        solicited: bool,
        /// O flag.
        override_: bool,
        /// Target address.
        target: Ipv6Addr,
        /// Target link-layer address option.
        tllao: Option<Mac>,
    },
    /// Redirect (validated, then ignored: we do not act on redirects).
    Redirect,
}

fn addr16(b: &[u8]) -> Option<Ipv6Addr> {
    let a: [u8; 16] = b.get(..16)?.try_into().ok()?;
    Some(Ipv6Addr::from(a))
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_be_bytes)
}

/// Ethernet link-layer address from an SLLAO/TLLAO (Length must be 1 on Ethernet, RFC 2464
/// §6); other lengths are ignored like unknown options.
fn lla(opt: &[u8]) -> Option<Mac> {
    (opt.len() == 8)
        .then(|| opt.get(2..8).map(EthernetAddress::from_bytes))
        .flatten()
}

impl NdMessage {
    /// Validate and parse the ICMPv6 message `icmp` (type, code, checksum onward) that came
    /// from `src` to `dst` with IP hop limit `hop_limit`.
    pub fn parse(
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
        hop_limit: u8,
        icmp: &[u8],
    ) -> Result<NdMessage, NdError> {
        let ty = *icmp.first().ok_or(NdError::Length)?;
        let min = match ty {
            ROUTER_SOLICIT => 8,
            ROUTER_ADVERT => 16,
            NEIGHBOR_SOLICIT | NEIGHBOR_ADVERT => 24,
            REDIRECT => 40,
            _ => return Err(NdError::NotNd),
        };
        if hop_limit != netif::icmp::nd::HOP_LIMIT {
            return Err(NdError::HopLimit);
        }
        if icmp.get(1) != Some(&0) {
            return Err(if icmp.len() < 2 {
                NdError::Length
            } else {
                NdError::Code
            });
        }
        if icmp.len() < min {
            return Err(NdError::Length);
        }
        // Options: every one of non-zero length, inside the message.
        let (mut sllao, mut tllao, mut mtu) = (None, None, None);
        let mut prefixes = Vec::new();
        let mut routes = Vec::new();
        let mut off = min;
        while off < icmp.len() {
            let units = *icmp.get(off + 1).ok_or(NdError::Option)?;
            let len = usize::from(units) * 8;
            let end = off + len;
            if units == 0 || end > icmp.len() {
                return Err(NdError::Option);
            }
            let opt = icmp.get(off..end).ok_or(NdError::Option)?;
            match opt.first().copied() {
                Some(OPT_SLLAO) => sllao = lla(opt).or(sllao),
                Some(OPT_TLLAO) => tllao = lla(opt).or(tllao),
                Some(OPT_MTU) if len == 8 => mtu = Some(u32_at(opt, 4)),
                Some(OPT_PREFIX) if len == 32 => {
                    // smoltcp's field accessors, not `NdiscOptionRepr::parse`: that parses
                    // every option type and costs the board about 0.7 KB of flash.
                    if let Ok(o) = NdiscOption::new_checked(opt)
                        && o.prefix_len() <= 128
                    {
                        let flags = o.prefix_flags();
                        let _ = prefixes.push(PrefixInfo {
                            prefix: netif::addr::mask(o.prefix(), o.prefix_len()),
                            prefix_len: o.prefix_len(),
                            on_link: flags.contains(NdiscPrefixInfoFlags::ON_LINK),
                            autonomous: flags.contains(NdiscPrefixInfoFlags::ADDRCONF),
                            valid: u32_at(opt, 4),
                            preferred: u32_at(opt, 8),
                        });
                    }
                }
                Some(crate::wire::RIO_TYPE) => {
                    if let Ok(r) = RouteInfo::parse(opt) {
                        let _ = routes.push(r);
                    }
                }
                _ => {} // Unknown options are ignored (RFC 4861 §4.6).
            }
            off = end;
        }
        let body = icmp.get(8..).unwrap_or(&[]);
        match ty {
            ROUTER_SOLICIT => {
                if src.is_unspecified() && sllao.is_some() {
                    return Err(NdError::Invalid);
                }
                Ok(NdMessage::RouterSolicit { sllao })
            }
            ROUTER_ADVERT => {
                if !src.is_unicast_link_local() {
                    return Err(NdError::Invalid);
                }
                let b4 = icmp.get(4..8).unwrap_or(&[0; 4]);
                Ok(NdMessage::RouterAdvert {
                    hop_limit: b4.first().copied().unwrap_or(0),
                    router_lifetime: u16::from_be_bytes([
                        b4.get(2).copied().unwrap_or(0),
                        b4.get(3).copied().unwrap_or(0),
                    ]),
                    reachable_time: u32_at(icmp, 8),
                    retrans_time: u32_at(icmp, 12),
                    sllao,
                    mtu,
                    prefixes,
                    routes,
                })
            }
            NEIGHBOR_SOLICIT => {
                let target = addr16(body).ok_or(NdError::Length)?;
                if target.is_multicast() {
                    return Err(NdError::Invalid);
                }
                if src.is_unspecified()
                    && (sllao.is_some() || *dst != netif::addr::solicited_node(&target))
                {
                    return Err(NdError::Invalid);
                }
                Ok(NdMessage::NeighborSolicit { target, sllao })
            }
            NEIGHBOR_ADVERT => {
                let target = addr16(body).ok_or(NdError::Length)?;
                let flags = icmp.get(4).copied().unwrap_or(0);
                let solicited = flags & netif::icmp::nd::NA_SOLICITED != 0;
                if target.is_multicast() || (dst.is_multicast() && solicited) {
                    return Err(NdError::Invalid);
                }
                Ok(NdMessage::NeighborAdvert {
                    router: flags & netif::icmp::nd::NA_ROUTER != 0,
                    solicited,
                    override_: flags & netif::icmp::nd::NA_OVERRIDE != 0,
                    target,
                    tllao,
                })
            }
            _ => {
                // Redirect (RFC 4861 §8.1): link-local source; destination not multicast.
                let dest = body.get(16..).and_then(addr16).ok_or(NdError::Length)?;
                if !src.is_unicast_link_local() || dest.is_multicast() {
                    return Err(NdError::Invalid);
                }
                Ok(NdMessage::Redirect)
            }
        }
    }
}

/// The ND message to build (what [`build`] emits).
#[derive(Clone, Debug)]
pub enum Outgoing<'a> {
    /// Neighbor Solicitation for `target`; with our MAC as SLLAO unless `None` (DAD).
    Ns {
        /// Target.
        target: Ipv6Addr,
        /// Source link-layer address option.
        sllao: Option<Mac>,
    },
    /// Neighbor Advertisement.
    Na {
        /// Target.
        target: Ipv6Addr,
        /// R, S, O flags.
        router: bool,
        /// S flag.
        solicited: bool,
        /// O flag.
        override_: bool,
        /// Target link-layer address option.
        tllao: Mac,
    },
    /// Router Solicitation.
    Rs {
        /// SLLAO (only with a specified source).
        sllao: Option<Mac>,
    },
    /// Router Advertisement with Route Information Options.
    Ra {
        /// Router lifetime, seconds.
        router_lifetime: u16,
        /// Our MAC.
        sllao: Mac,
        /// MTU option.
        mtu: Option<u32>,
        /// RIOs.
        routes: &'a [RouteInfo],
    },
}

const OPT_MTU_LEN: usize = 8;
const LLA_OPT_LEN: usize = 8;

impl Outgoing<'_> {
    /// Length of the fixed part and the SLLAO/TLLAO/MTU options (RIOs come after).
    fn base_len(&self) -> usize {
        let lla = |m: &Option<Mac>| if m.is_some() { LLA_OPT_LEN } else { 0 };
        match self {
            Outgoing::Ns { sllao, .. } => 24 + lla(sllao),
            Outgoing::Na { .. } => 24 + LLA_OPT_LEN,
            Outgoing::Rs { sllao } => 8 + lla(sllao),
            Outgoing::Ra { mtu, .. } => {
                16 + LLA_OPT_LEN + if mtu.is_some() { OPT_MTU_LEN } else { 0 }
            }
        }
    }

    /// ICMPv6 message length.
    pub fn buffer_len(&self) -> usize {
        let rio: usize = match self {
            Outgoing::Ra { routes, .. } => routes.iter().map(RouteInfo::buffer_len).sum(),
            _ => 0,
        };
        self.base_len() + rio
    }

    /// Writes the message (checksum left zero) into `icmp`, zero-filled and
    /// [`Outgoing::buffer_len`] long; `false` when it is too short.
    ///
    /// Written by hand rather than with smoltcp's `NdiscRepr::emit`, which handles every
    /// message and option type and cost the board about 1 KB of flash; a test checks the bytes
    /// against `NdiscRepr`'s for every message.
    fn emit(&self, icmp: &mut [u8]) -> bool {
        let Some(base) = icmp.get_mut(..self.base_len()) else {
            return false;
        };
        // (type, offset of the options, link-layer option type and address, MTU)
        let (ty, opts, lla, mtu) = match *self {
            Outgoing::Ns { target, sllao } => {
                put(base, 8, &target.octets());
                (NEIGHBOR_SOLICIT, 24, sllao.map(|m| (OPT_SLLAO, m)), None)
            }
            Outgoing::Na {
                target,
                router,
                solicited,
                override_,
                tllao,
            } => {
                let mut flags = NdiscNeighborFlags::empty();
                flags.set(NdiscNeighborFlags::ROUTER, router);
                flags.set(NdiscNeighborFlags::SOLICITED, solicited);
                flags.set(NdiscNeighborFlags::OVERRIDE, override_);
                put(base, 4, &[flags.bits()]);
                put(base, 8, &target.octets());
                (NEIGHBOR_ADVERT, 24, Some((OPT_TLLAO, tllao)), None)
            }
            Outgoing::Rs { sllao } => (ROUTER_SOLICIT, 8, sllao.map(|m| (OPT_SLLAO, m)), None),
            Outgoing::Ra {
                router_lifetime,
                sllao,
                mtu,
                ..
            } => {
                // Hop limit, flags, reachable and retransmit times stay 0 (unspecified).
                put(base, 6, &router_lifetime.to_be_bytes());
                (ROUTER_ADVERT, 16, Some((OPT_SLLAO, sllao)), mtu)
            }
        };
        put(base, 0, &[ty]);
        let mut off = opts;
        if let Some((t, mac)) = lla {
            put(base, off, &[t, 1]);
            put(base, off + 2, mac.as_bytes());
            off += LLA_OPT_LEN;
        }
        if let Some(m) = mtu {
            put(base, off, &[OPT_MTU, 1]);
            put(base, off + 4, &m.to_be_bytes());
        }
        true
    }
}

/// Copies `v` into `b` at `off` when it fits (the callers' offsets always do).
fn put(b: &mut [u8], off: usize, v: &[u8]) {
    if let Some(d) = b.get_mut(off..).and_then(|d| d.get_mut(..v.len())) {
        d.copy_from_slice(v);
    }
}

/// Build the IPv6 packet `src → dst` (hop limit 255) carrying `msg`, in a fresh pool buffer
/// (headroom left for the Ethernet header). `None` when the pool is empty.
pub fn build(
    pool: &mut PacketPool<'_>,
    src: &Ipv6Addr,
    dst: &Ipv6Addr,
    msg: &Outgoing<'_>,
) -> Option<PacketHandle> {
    let icmp_len = msg.buffer_len();
    let mut write = |icmp: &mut [u8]| {
        let mut ok = msg.emit(icmp);
        if let Outgoing::Ra { routes, .. } = msg {
            let mut off = msg.base_len();
            for r in routes.iter() {
                ok &= icmp.get_mut(off..).is_some_and(|o| r.emit(o).is_ok());
                off += r.buffer_len();
            }
        }
        ok.then_some(icmp_len)
    };
    netif::icmp::build_message(
        pool,
        src,
        dst,
        netif::icmp::nd::HOP_LIMIT,
        icmp_len,
        &mut write,
    )
}

#[cfg(test)]
mod tests {
    use std::{vec, vec::Vec as StdVec};

    use super::*;

    fn ip(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// A Neighbor Solicitation as Linux sends it to resolve fe80::2 from
    /// fe80::5054:ff:fe12:3456 (RFC 4861 §4.3 layout), ICMPv6 part only; the checksum is
    /// checked by the core before ND sees a message, so it is left zero here.
    const LINUX_NS: [u8; 32] = [
        0x87, 0x00, 0x00, 0x00, // type 135, code 0, checksum
        0x00, 0x00, 0x00, 0x00, // reserved
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // target fe80::2
        0x01, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // SLLAO 52:54:00:12:34:56
    ];

    #[test]
    fn ns_parses_and_rejects_what_rfc4861_rejects() {
        let src = ip("fe80::5054:ff:fe12:3456");
        let dst = ip("ff02::1:ff00:2");
        let m = NdMessage::parse(&src, &dst, 255, &LINUX_NS).unwrap();
        assert_eq!(
            m,
            NdMessage::NeighborSolicit {
                target: ip("fe80::2"),
                sllao: Some(EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]))
            }
        );
        assert_eq!(
            NdMessage::parse(&src, &dst, 64, &LINUX_NS),
            Err(NdError::HopLimit)
        );
        let mut bad = LINUX_NS;
        bad[1] = 1;
        assert_eq!(NdMessage::parse(&src, &dst, 255, &bad), Err(NdError::Code));
        assert_eq!(
            NdMessage::parse(&src, &dst, 255, &LINUX_NS[..20]),
            Err(NdError::Length)
        );
        let mut bad = LINUX_NS;
        bad[25] = 0; // option length 0
        assert_eq!(
            NdMessage::parse(&src, &dst, 255, &bad),
            Err(NdError::Option)
        );
        bad[25] = 2; // option past the end
        assert_eq!(
            NdMessage::parse(&src, &dst, 255, &bad),
            Err(NdError::Option)
        );
        // DAD probe (unspecified source) with an SLLAO is invalid; to a non-solicited-node too.
        let un = Ipv6Addr::UNSPECIFIED;
        assert_eq!(
            NdMessage::parse(&un, &dst, 255, &LINUX_NS),
            Err(NdError::Invalid)
        );
        assert_eq!(
            NdMessage::parse(&un, &ip("ff02::1"), 255, &LINUX_NS[..24]),
            Err(NdError::Invalid)
        );
        assert!(NdMessage::parse(&un, &dst, 255, &LINUX_NS[..24]).is_ok());
        // Multicast target.
        let mut bad = LINUX_NS;
        bad[8] = 0xff;
        assert_eq!(
            NdMessage::parse(&src, &dst, 255, &bad),
            Err(NdError::Invalid)
        );
    }

    /// smoltcp's `NdiscRepr` for `msg`: the independent reference for `Outgoing::emit`.
    fn smoltcp_bytes(msg: &Outgoing<'_>) -> StdVec<u8> {
        use smoltcp::wire::{Icmpv6Packet, NdiscRepr, NdiscRouterFlags, RawHardwareAddress};
        let raw = |m: Mac| RawHardwareAddress::from(m);
        let repr = match *msg {
            Outgoing::Ns { target, sllao } => NdiscRepr::NeighborSolicit {
                target_addr: target,
                lladdr: sllao.map(raw),
            },
            Outgoing::Na {
                target,
                router,
                solicited,
                override_,
                tllao,
            } => {
                let mut flags = NdiscNeighborFlags::empty();
                flags.set(NdiscNeighborFlags::ROUTER, router);
                flags.set(NdiscNeighborFlags::SOLICITED, solicited);
                flags.set(NdiscNeighborFlags::OVERRIDE, override_);
                NdiscRepr::NeighborAdvert {
                    flags,
                    target_addr: target,
                    lladdr: Some(raw(tllao)),
                }
            }
            Outgoing::Rs { sllao } => NdiscRepr::RouterSolicit {
                lladdr: sllao.map(raw),
            },
            Outgoing::Ra {
                router_lifetime,
                sllao,
                mtu,
                ..
            } => NdiscRepr::RouterAdvert {
                hop_limit: 0,
                flags: NdiscRouterFlags::empty(),
                router_lifetime: smoltcp::time::Duration::from_secs(u64::from(router_lifetime)),
                reachable_time: smoltcp::time::Duration::ZERO,
                retrans_time: smoltcp::time::Duration::ZERO,
                lladdr: Some(raw(sllao)),
                mtu,
                prefix_info: None,
            },
        };
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv6Packet::new_unchecked(&mut b[..]));
        b
    }

    #[test]
    fn emitted_messages_are_smoltcps_bytes() {
        let mac = EthernetAddress([0x02, 0x12, 0x34, 0x56, 0x78, 0x9a]);
        let t = ip("2001:db8::9");
        let mut cases = StdVec::new();
        for sllao in [None, Some(mac)] {
            cases.push(Outgoing::Ns { target: t, sllao });
            cases.push(Outgoing::Rs { sllao });
        }
        for bits in 0..8u8 {
            cases.push(Outgoing::Na {
                target: t,
                router: bits & 1 != 0,
                solicited: bits & 2 != 0,
                override_: bits & 4 != 0,
                tllao: mac,
            });
        }
        for (lifetime, mtu) in [(0, None), (1800, Some(1500)), (u16::MAX, Some(1280))] {
            cases.push(Outgoing::Ra {
                router_lifetime: lifetime,
                sllao: mac,
                mtu,
                routes: &[],
            });
        }
        for msg in &cases {
            let want = smoltcp_bytes(msg);
            let mut got = vec![0u8; msg.buffer_len()];
            assert!(msg.emit(&mut got));
            assert_eq!(got, want, "{msg:?}");
            // Too short a buffer is refused, not written past.
            let mut short = vec![0u8; msg.buffer_len() - 1];
            assert!(!msg.emit(&mut short));
        }
    }

    #[test]
    fn built_messages_parse_back_and_checksum() {
        let mut bytes = [0u8; 4 * 256];
        let mut slots = [netif::pool::Slot::FREE; 4];
        let mut pool = PacketPool::new(&mut bytes, &mut slots, 32);
        let mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
        let src = ip("fe80::ff:fe00:2");
        let routes = [RouteInfo {
            prefix_len: 64,
            preference: crate::wire::RoutePreference::Medium,
            lifetime: 1800,
            prefix: ip("2001:db8:100::"),
        }];
        let cases = [
            (
                ip("ff02::1:ff00:9"),
                Outgoing::Ns {
                    target: ip("2001:db8::9"),
                    sllao: Some(mac),
                },
            ),
            (
                ip("fe80::9"),
                Outgoing::Na {
                    target: src,
                    router: true,
                    solicited: true,
                    override_: true,
                    tllao: mac,
                },
            ),
            (ip("ff02::2"), Outgoing::Rs { sllao: Some(mac) }),
            (
                ip("ff02::1"),
                Outgoing::Ra {
                    router_lifetime: 0,
                    sllao: mac,
                    mtu: Some(1500),
                    routes: &routes,
                },
            ),
        ];
        for (dst, msg) in cases {
            let h = build(&mut pool, &src, &dst, &msg).unwrap();
            let d = pool.data(&h).to_vec();
            pool.free(h);
            assert_eq!(d[7], 255);
            assert!(netif::icmp::checksum_ok(&d[40..], &src, &dst));
            let m = NdMessage::parse(&src, &dst, 255, &d[40..]).unwrap();
            match (msg, m) {
                (Outgoing::Ra { .. }, NdMessage::RouterAdvert { routes: r, mtu, .. }) => {
                    assert_eq!(&r[..], &routes[..]);
                    assert_eq!(mtu, Some(1500));
                }
                (
                    Outgoing::Na { .. },
                    NdMessage::NeighborAdvert {
                        tllao, solicited, ..
                    },
                ) => {
                    assert_eq!((tllao, solicited), (Some(mac), true));
                }
                (Outgoing::Ns { .. }, NdMessage::NeighborSolicit { sllao, .. })
                | (Outgoing::Rs { .. }, NdMessage::RouterSolicit { sllao }) => {
                    assert_eq!(sllao, Some(mac))
                }
                (o, m) => panic!("{o:?} came back as {m:?}"),
            }
        }
    }
}
