//! The RPL root's side of `wpan0` (issue 22): the source-routing tunnel to non-storing
//! targets behind other nodes ([`Tunnel`], RFC 9008 §7 / RFC 6554) and the data-path check
//! of the RPL Option on packets from the mesh (RFC 6550 §11.2).

use core::net::Ipv6Addr;

use netif::{PacketHandle, PacketPool};

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
    let (first, rest) = hops.split_first()?;
    let over = tunnel_overhead(hops)?;
    let payload_len = u16::try_from(inner_len.checked_add(over)?.checked_sub(40)?).ok()?;
    let rpi = rpl::hbh::RplOption {
        down: true,
        rank_error: false,
        forwarding_error: false,
        instance_id: t.instance,
        sender_rank: t.rank,
    };
    let [p0, p1] = payload_len.to_be_bytes();
    let [v0, v1, v2, v3] = vtf;
    out.get_mut(..8)?
        .copy_from_slice(&[v0, v1, v2, v3, p0, p1, rpl::hbh::NEXT_HEADER_HBH, 64]);
    out.get_mut(8..24)?.copy_from_slice(&t.src.octets());
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
        if write_tunnel_headers(&t, &route.hops, vtf, inner_len, b) != Some(over) {
            let _ = pool.pull_front(pkt, over);
            return false;
        }
        if let Some(m) = pool.meta_mut(pkt) {
            m.next_hop = *first;
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
