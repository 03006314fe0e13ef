//! The RPL root's side of `wpan0` (issue 22): the source-routing tunnel to non-storing
//! targets behind other nodes ([`Tunnel`], RFC 9008 §7 / RFC 6554) and the data-path check
//! of the RPL Option on packets from the mesh (RFC 6550 §11.2).

use core::net::Ipv6Addr;

use netif::{PacketHandle, PacketPool};
use rpl::hbh::RplOption;

use super::Wpan;
use crate::registry::SourceRoute;
use l2_15_4::Address;

/// What the RPL root puts around a packet for a target behind other nodes (RFC 9008 §7,
/// non-storing mode): IPv6-in-IPv6 from the root to the target, with the RPL Option (down,
/// the instance, the root's rank) in a hop-by-hop header and a Source Routing Header (RFC
/// 6554) listing the hops after the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tunnel {
    /// The root's address: the outer source.
    pub src: Ipv6Addr,
    /// RPLInstanceID.
    pub instance: u8,
    /// The root's rank.
    pub rank: u16,
}

impl Tunnel {
    /// The RPL Option the root's tunnels carry: down, our instance, our rank.
    fn rpi(&self) -> RplOption {
        RplOption {
            down: true,
            rank_error: false,
            forwarding_error: false,
            instance_id: self.instance,
            sender_rank: self.rank,
        }
    }
}

/// Writes the root's tunnel headers for `hops` (first hop first, the target last) into the
/// start of `out`: IPv6 (version, traffic class and flow label `vtf` from the inner packet,
/// the payload length for `inner_len` bytes inside, hop limit 64, from `t.src` to the first
/// hop), hop-by-hop with the RPL Option (down, `t.instance`, `t.rank`), and the Source
/// Routing Header of the other hops with IPv6-in-IPv6 after it. Returns the bytes written
/// ([`tunnel_overhead`]), `None` when `out` is short or the path is empty or too long.
pub fn write_tunnel_headers(
    t: &Tunnel,
    hops: &[Ipv6Addr],
    vtf: [u8; 4],
    inner_len: usize,
    out: &mut [u8],
) -> Option<usize> {
    write_outer(&t.src, &t.rpi(), hops, vtf, inner_len, out)
}

/// The outer headers of an RPL tunnel from `src` along `hops` (the root's down, a router's
/// up to the root: one hop, no Source Routing Header) with `rpi` in the hop-by-hop header.
fn write_outer(
    src: &Ipv6Addr,
    rpi: &RplOption,
    hops: &[Ipv6Addr],
    vtf: [u8; 4],
    inner_len: usize,
    out: &mut [u8],
) -> Option<usize> {
    let (first, rest) = hops.split_first()?;
    let over = tunnel_overhead(hops)?;
    let payload_len = u16::try_from(inner_len.checked_add(over)?.checked_sub(40)?).ok()?;
    let [p0, p1] = payload_len.to_be_bytes();
    let [v0, v1, v2, v3] = vtf;
    out.get_mut(..8)?
        .copy_from_slice(&[v0, v1, v2, v3, p0, p1, rpl::hbh::NEXT_HEADER_HBH, 64]);
    out.get_mut(8..24)?.copy_from_slice(&src.octets());
    out.get_mut(24..40)?.copy_from_slice(&first.octets());
    if rest.is_empty() {
        out.get_mut(40..48)?
            .copy_from_slice(&rpi.hbh_header(IPV6_IN_IPV6));
        return Some(48);
    }
    out.get_mut(40..48)?
        .copy_from_slice(&rpi.hbh_header(rpl::srh::NEXT_HEADER_ROUTING));
    let n = rpl::srh::build(first, rest, IPV6_IN_IPV6, out.get_mut(48..)?).ok()?;
    Some(48 + n)
}

/// Where [`Wpan::next`] sends a packet.
// A route of 16 addresses lives briefly on the stack; there is no heap to box it into.
#[allow(clippy::large_enum_variant)]
pub(super) enum Next {
    Link(Address),
    Tunnel(SourceRoute),
}

/// IPv6-in-IPv6 (RFC 2473), the tunnel's inner header.
const IPV6_IN_IPV6: u8 = 41;
/// The mesh's IPv6 MTU (RFC 4944: 1280, the IPv6 minimum, carried by fragmentation).
pub const MESH_MTU: usize = 1280;

/// The outer headers of the root's tunnel to `hops` (first hop first, the tunnel's end
/// last): IPv6 (40), hop-by-hop with the RPL Option (8), the Source Routing Header (none for
/// a tunnel to a neighbour: the 6LR parent of a host one hop from the root).
pub fn tunnel_overhead(hops: &[Ipv6Addr]) -> Option<usize> {
    let (first, rest) = hops.split_first()?;
    let srh = if rest.is_empty() {
        0
    } else {
        rpl::srh::layout(first, rest)?.len
    };
    Some(40 + rpl::hbh::HBH_LEN + srh)
}

impl Wpan<'_> {
    /// Where a packet leaving on this link goes: a link-layer address, or the RPL root's
    /// tunnel to a target behind other nodes (when the tunnel is on and the parent chain is
    /// complete).
    pub(super) fn next(&self, pool: &PacketPool<'_>, pkt: &PacketHandle) -> Option<Next> {
        if let Some(a) = self.resolve(pool, pkt) {
            return Some(Next::Link(a));
        }
        self.tunnel?;
        let next_hop = pool.meta(pkt).next_hop;
        let route = self.registry.source_route(&next_hop)?;
        // One hop is a tunnel too when it ends short of the destination (the 6LR parent of a
        // host); else the destination would have resolved as a neighbour.
        (route.hops.len() > 1 || route.hops.last() != Some(&next_hop))
            .then_some(Next::Tunnel(route))
    }

    /// Puts the tunnel's headers in front of `pkt` for `route` (see [`Tunnel`]) and makes the
    /// first hop its next hop. False (the packet untouched) when the tunnel is off or there
    /// is no room.
    pub(super) fn encapsulate(
        &self,
        pool: &mut PacketPool<'_>,
        pkt: &PacketHandle,
        route: &SourceRoute,
    ) -> bool {
        let Some(t) = self.tunnel else { return false };
        let (Some(first), Some(over)) = (route.hops.first(), tunnel_overhead(&route.hops)) else {
            return false;
        };
        if !self.wrap(pool, pkt, &t.src, &t.rpi(), &route.hops, over) {
            return false;
        }
        if let Some(m) = pool.meta_mut(pkt) {
            m.next_hop = *first;
        }
        true
    }

    /// Puts an RPL tunnel's outer headers ([`write_outer`], `over` bytes) in front of `pkt`.
    /// False (the packet untouched) when there is no room.
    fn wrap(
        &self,
        pool: &mut PacketPool<'_>,
        pkt: &PacketHandle,
        src: &Ipv6Addr,
        rpi: &RplOption,
        hops: &[Ipv6Addr],
        over: usize,
    ) -> bool {
        // The inner packet's version, traffic class and flow label go outside too (RFC 2473),
        // except with RFC 8138: its IP-in-IP 6LoRH has no room for them, so the outer header
        // carries none (a Linux host labels every flow, and a copied label kept every tunnel
        // of its packets out of 6LoRH).
        let Some(&inner_vtf) = pool.data(pkt).first_chunk::<4>() else {
            return false;
        };
        let vtf = if self.opts.rfc8138 {
            [0x60, 0, 0, 0]
        } else {
            inner_vtf
        };
        let inner_len = pool.len(pkt);
        if pool.ensure_headroom(pkt, over).is_err() {
            return false;
        }
        let Ok(b) = pool.push_front(pkt, over) else {
            return false;
        };
        if write_outer(src, rpi, hops, vtf, inner_len, b) != Some(over) {
            let _ = pool.pull_front(pkt, over);
            return false;
        }
        true
    }

    /// The data-path validation of RFC 6550 §11.2 at the root, for a packet from the mesh
    /// carrying the RPL Option of our instance: every such packet comes from below, so one
    /// marked down (O) is a rank error: with R already set it is dropped (a loop), else R is
    /// set and it goes on. One with F (forwarding error, a child had no route down for its
    /// destination) is dropped and the root forgets its route to that destination. False:
    /// drop. Packets without the option, of another instance, or with the root off pass.
    pub(super) fn check_rpl_option(
        &mut self,
        pool: &mut PacketPool<'_>,
        pkt: &PacketHandle,
    ) -> bool {
        let Some(t) = self.tunnel else { return true };
        let d = pool.data(pkt);
        if d.get(6) != Some(&rpl::hbh::NEXT_HEADER_HBH) {
            return true;
        }
        let Some(found) = d.get(40..).and_then(rpl::hbh::find) else {
            return true;
        };
        let Ok(o) = found else {
            // Malformed: the core's hop-by-hop walk refuses it and counts it.
            return true;
        };
        if o.instance_id != t.instance {
            return true;
        }
        if o.forwarding_error {
            self.stats.rx_rpl_forwarding_error += 1;
            if let Some(dst) = d.get(24..40).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
                self.registry.forget_target(&Ipv6Addr::from(dst));
            }
            return false;
        }
        if o.down {
            self.stats.rx_rpl_rank_error += 1;
            if o.rank_error {
                return false;
            }
            // Set R in place: the option's flags byte.
            if let Some(Ok(at)) = pool.data(pkt).get(40..).and_then(rpl::hbh::position)
                && let Some(f) = pool.data_mut(pkt).get_mut(40 + at + 2)
            {
                *f |= 0x40;
            }
        }
        true
    }
}

/// A mesh router's way up (RFC 9008 §7 and its Table 13, non-storing mode), set by the
/// router role while it is joined ([`Wpan::set_upward`]). What leaves for the preferred parent
/// toward a global destination (the root, the rest of the DODAG through the root, or the
/// Internet):
/// - a packet we send (6LN/6LR → root, → Internet, → another node of the DODAG) carries our
///   RPL Option in a hop-by-hop header of its own: no tunnel, the root is on its way out;
/// - a packet forwarded from below that carries the RPL Option of our instance (a router's
///   own, or its tunnel) has it checked and rewritten (RFC 6550 §11.2: O = 0, our rank; a
///   second rank error drops it);
/// - any other forwarded packet comes from an RPL-unaware leaf (a RUL → root, → Internet, →
///   another RUL or node of the DODAG, all through the root in MOP 1): it goes in IPv6-in-IPv6
///   from [`Upward::own`] to [`Upward::root`] with our RPL Option, and the root takes it out.
///
/// Link-local destinations (RPL control messages, ND) go bare.
#[cfg(feature = "router-role")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upward {
    /// Our global address: the tunnel's outer source.
    pub own: Ipv6Addr,
    /// The DODAG ID: the tunnel's end.
    pub root: Ipv6Addr,
    /// Our RPL Option for packets going up: O = 0, the instance, our rank.
    pub rpi: RplOption,
    /// The DODAG's MinHopRankIncrease (ranks are compared as DAGRank).
    pub min_hop_rank_increase: u16,
}

#[cfg(feature = "router-role")]
impl Wpan<'_> {
    /// A mesh router's way up (see [`Upward`]), or `None` (not joined: packets go bare).
    pub fn set_upward(&mut self, up: Option<Upward>) {
        self.upward = up;
    }

    /// Prepares `pkt`, leaving for the preferred parent, for its way up (see [`Upward`]):
    /// false to drop it (no room for the headers, a malformed hop-by-hop header, a rank loop).
    pub(super) fn go_up(&mut self, pool: &mut PacketPool<'_>, pkt: &PacketHandle) -> bool {
        let Some(up) = self.upward else { return true };
        let forwarded = pool.meta(pkt).rx_iface.is_some();
        let d = pool.data(pkt);
        let (Some(&nh), Some(dst)) = (d.get(6), d.get(24..40)) else {
            return false;
        };
        if dst.first().is_some_and(|&b| b == 0xff) || dst.get(..2) == Some(&[0xfe, 0x80]) {
            return true;
        }
        let hbh = if nh == rpl::hbh::NEXT_HEADER_HBH {
            d.get(40..).and_then(rpl::hbh::position)
        } else {
            None
        };
        match hbh {
            Some(Ok(at)) => self.rewrite_rpi(pool, pkt, &up, 40 + at),
            Some(Err(_)) => false,
            None if !forwarded && nh != rpl::hbh::NEXT_HEADER_HBH => insert_rpi(pool, pkt, &up.rpi),
            None => {
                let ok = self.wrap(pool, pkt, &up.own, &up.rpi, &[up.root], UP_OVERHEAD);
                if ok {
                    self.stats.tx_tunnelled += 1;
                } else {
                    self.stats.tx_tunnel_failed += 1;
                }
                ok
            }
        }
    }

    /// RFC 6550 §11.2 for a packet going up with the RPL Option at `at`: another instance's
    /// goes on untouched; ours is checked against our rank (a rank error sets R, a second one
    /// drops the packet, counted in `rx_rpl_rank_error`) and leaves with O = 0 and our rank.
    fn rewrite_rpi(
        &mut self,
        pool: &mut PacketPool<'_>,
        pkt: &PacketHandle,
        up: &Upward,
        at: usize,
    ) -> bool {
        // The option's data: flags, instance, rank (its type and length stay, sub-TLVs too).
        let data = at + 2..at + 6;
        let d = pool.data_mut(pkt);
        let Some(Ok(rpi)) = d.get(data.clone()).map(RplOption::parse) else {
            return false;
        };
        if rpi.instance_id != up.rpi.instance_id {
            return true;
        }
        let mut out = up.rpi;
        out.forwarding_error = rpi.forwarding_error;
        out.rank_error = rpi.rank_error;
        if !rpl::router::rank_consistent(&rpi, up.rpi.sender_rank, up.min_hop_rank_increase) {
            self.stats.rx_rpl_rank_error += 1;
            if rpi.rank_error {
                return false;
            }
            out.rank_error = true;
        }
        if let (Some(b), Some(new)) = (d.get_mut(data), out.to_bytes(0).get(2..)) {
            b.copy_from_slice(new);
        }
        true
    }
}

/// The outer headers of a router's tunnel up to the root: IPv6 (40) and the hop-by-hop
/// header with the RPL Option (8).
#[cfg(feature = "router-role")]
const UP_OVERHEAD: usize = 40 + rpl::hbh::HBH_LEN;

/// Inserts a hop-by-hop header holding `rpi` after the IPv6 header of `pkt`, a packet we
/// send (its source may add extension headers, RFC 8200 §4). False when there is no room.
#[cfg(feature = "router-role")]
fn insert_rpi(pool: &mut PacketPool<'_>, pkt: &PacketHandle, rpi: &RplOption) -> bool {
    const H: usize = rpl::hbh::HBH_LEN;
    let d = pool.data(pkt);
    let (Some(&[p0, p1, nh]), true) = (d.get(4..7).and_then(|b| b.first_chunk()), d.len() >= 40)
    else {
        return false;
    };
    let Some(plen) = u16::from_be_bytes([p0, p1]).checked_add(H as u16) else {
        return false;
    };
    if pool.ensure_headroom(pkt, H).is_err() || pool.push_front(pkt, H).is_err() {
        return false;
    }
    let d = pool.data_mut(pkt);
    if d.len() < 40 + H {
        return false;
    }
    d.copy_within(H..H + 40, 0);
    let [l0, l1] = plen.to_be_bytes();
    if let Some(b) = d.get_mut(4..7) {
        b.copy_from_slice(&[l0, l1, rpl::hbh::NEXT_HEADER_HBH]);
    }
    if let Some(b) = d.get_mut(40..40 + H) {
        b.copy_from_slice(&rpi.hbh_header(nh));
    }
    true
}
