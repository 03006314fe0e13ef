//! Output: locally originated packets, the traffic-class TX queues and transmission
//! through the L2.

use core::net::Ipv6Addr;

use super::{Hdr, Stack};
use crate::iface::IfIndex;
use crate::l2::{L2, L2Context, Reach};
use crate::pool::PacketHandle;
use crate::route::RouteAction;
use crate::stats::DropReason;
use crate::time::Instant;

impl<'r> Stack<'r> {
    /// Queue on `egress` in the class of `tc`'s DSCP; counts and frees on a full queue.
    pub(super) fn enqueue(
        &mut self,
        egress: IfIndex,
        pkt: PacketHandle,
        tc: u8,
        next_hop: Ipv6Addr,
    ) -> Result<(), DropReason> {
        let class = self.config.dscp_map.class_of(tc >> 2);
        if let Some(m) = self.pool.meta_mut(&pkt) {
            m.next_hop = next_hop;
            m.class = class;
        }
        match self.queues.push(egress, class, pkt) {
            Ok(()) => Ok(()),
            Err(p) => {
                self.count_drop(egress, DropReason::QueueFull);
                self.pool.free(p);
                Err(DropReason::QueueFull)
            }
        }
    }

    // ----- output ----------------------------------------------------------------------

    /// Send a locally originated IPv6 packet (complete header at the packet's head): routed
    /// by destination; link-local and multicast destinations need [`Stack::send_on`].
    pub fn send(&mut self, now: Instant, pkt: PacketHandle) -> Result<IfIndex, DropReason> {
        self.output(now, pkt, None)
    }

    /// Send a locally originated packet out of interface `i` to `next_hop` (link-local and
    /// multicast traffic such as ND).
    pub fn send_on(
        &mut self,
        now: Instant,
        i: IfIndex,
        next_hop: Ipv6Addr,
        pkt: PacketHandle,
    ) -> Result<IfIndex, DropReason> {
        self.output_checked(now, pkt, Some((i, next_hop)), true)
    }

    /// Pass a packet on out of interface `i` to the neighbour `next_hop` as it is, even
    /// larger than the interface's MTU when the L2 takes it (what a mesh router does with a
    /// packet in the RPL root's source-routed tunnel: the root sized the inner packet to the
    /// mesh MTU, and the link carries the tunnel around it, RFC 9008). The L2 refuses what it
    /// cannot carry.
    pub fn relay_on(
        &mut self,
        now: Instant,
        i: IfIndex,
        next_hop: Ipv6Addr,
        pkt: PacketHandle,
    ) -> Result<IfIndex, DropReason> {
        self.output_checked(now, pkt, Some((i, next_hop)), false)
    }

    pub(super) fn output(
        &mut self,
        now: Instant,
        pkt: PacketHandle,
        scoped: Option<(IfIndex, Ipv6Addr)>,
    ) -> Result<IfIndex, DropReason> {
        self.output_checked(now, pkt, scoped, true)
    }

    fn output_checked(
        &mut self,
        now: Instant,
        pkt: PacketHandle,
        scoped: Option<(IfIndex, Ipv6Addr)>,
        check_mtu: bool,
    ) -> Result<IfIndex, DropReason> {
        let fail = |s: &mut Self, i: IfIndex, pkt: PacketHandle, r: DropReason| {
            s.count_drop(i, r);
            s.pool.free(pkt);
            Err(r)
        };
        // Failures before an egress interface is known belong to no interface.
        let unsent = |s: &mut Self, pkt: PacketHandle, r: DropReason| {
            s.core_stats.local_unsent = s.core_stats.local_unsent.wrapping_add(1);
            s.pool.free(pkt);
            Err(r)
        };
        let Some(h) = Hdr::parse(self.pool.data(&pkt)) else {
            return match scoped {
                Some((i, _)) => fail(self, i, pkt, DropReason::BadHeader),
                None => unsent(self, pkt, DropReason::BadHeader),
            };
        };
        let (egress, next_hop) = match scoped {
            Some(s) => s,
            None if h.dst.is_multicast() || h.dst.is_unicast_link_local() => {
                return unsent(self, pkt, DropReason::Scope);
            }
            None => match self.routes.lookup(&h.dst, now).map(|r| r.action) {
                Some(RouteAction::Forward { iface, via }) => (iface, via.unwrap_or(h.dst)),
                Some(RouteAction::Reject) | None => return unsent(self, pkt, DropReason::NoRoute),
            },
        };
        let Some(out) = self.ifaces.get(egress.get()) else {
            self.core_stats.no_iface = self.core_stats.no_iface.wrapping_add(1);
            self.pool.free(pkt);
            return Err(DropReason::NoRoute);
        };
        if !out.is_up() {
            return fail(self, egress, pkt, DropReason::IfaceDown);
        }
        if check_mtu && self.pool.len(&pkt) > usize::from(out.mtu()) {
            return fail(self, egress, pkt, DropReason::TooBig);
        }
        if let Some(m) = self.pool.meta_mut(&pkt) {
            m.rx_iface = None;
        }
        self.enqueue(egress, pkt, h.tc, next_hop)?;
        Ok(egress)
    }

    /// Take the next packet to transmit on `i` (highest class first) without an L2, e.g. to
    /// hand it to a driver task. The caller owns it.
    pub fn dequeue(&mut self, i: IfIndex) -> Option<PacketHandle> {
        self.queues.pop(i)
    }

    /// Hand every queued packet of interface `i` to its L2; returns how many were sent.
    pub fn transmit(&mut self, now: Instant, i: IfIndex, l2: &mut dyn L2) -> usize {
        self.transmit_some(now, i, l2, usize::MAX)
    }

    /// Hand at most `max` queued packets of interface `i` (highest class first) to its L2;
    /// returns how many were sent. A packet whose next hop the L2 cannot resolve
    /// ([`L2::reach`]) is dropped with Destination Unreachable and does not count against
    /// `max`. An L2 with a shallow queue of its own (e.g. one that
    /// fragments a datagram over many frames) takes only what it has room for, so the rest
    /// keeps its traffic-class order in the core's queues.
    pub fn transmit_some(
        &mut self,
        now: Instant,
        i: IfIndex,
        l2: &mut dyn L2,
        max: usize,
    ) -> usize {
        let mut sent = 0;
        let mut taken = 0;
        while taken < max {
            let Some(pkt) = self.queues.pop(i) else { break };
            match l2.reach(&self.pool, &pkt) {
                Reach::Unresolved => {
                    // Refused without using the link's room (a flood to unknown neighbours
                    // drains here, and is answered within the ICMPv6 error rate limit).
                    let _ = self.address_unreachable(now, i, pkt);
                    continue;
                }
                Reach::Resolved { mtu: Some(mtu) } if self.pool.len(&pkt) > usize::from(mtu) => {
                    let _ = self.path_too_big(now, i, pkt, mtu);
                    continue;
                }
                Reach::Resolved { .. } => {}
            }
            taken += 1;
            let len = self.pool.len(&pkt);
            let Some(iface) = self.ifaces.get(i.get()) else {
                self.pool.free(pkt);
                continue;
            };
            let mut cx = L2Context {
                now,
                iface,
                pool: &mut self.pool,
            };
            match l2.send(&mut cx, pkt) {
                Ok(_) => {
                    sent += 1;
                    if let Some(x) = self.ifaces.get_mut(i.get()) {
                        x.stats.count_tx(len);
                    }
                }
                Err(e) => {
                    debug!("tx error on {}: {}", i.0, e);
                    self.count_drop(i, DropReason::TxError);
                }
            }
        }
        sent
    }
}
