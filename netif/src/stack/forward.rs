//! Forwarding of transit packets: scope and hop-limit checks, route lookup, egress MTU.

use super::{Hdr, Outcome, Stack};
use crate::icmp::IcmpError;
use crate::iface::IfIndex;
use crate::pool::PacketHandle;
use crate::route::RouteAction;
use crate::stats::DropReason;
use crate::time::Instant;

impl<'r> Stack<'r> {
    pub(super) fn forward(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        h: &Hdr,
        wire_len: usize,
        truncated: bool,
    ) -> Outcome {
        if !self.ifaces.get(i.get()).is_some_and(|x| x.is_forwarding()) {
            return self.drop_pkt(i, pkt, DropReason::NotForwarding);
        }
        if h.dst.is_multicast() {
            // Never forward ff02::/16 (nor any multicast: no multicast routing here).
            return self.drop_pkt(i, pkt, DropReason::Multicast);
        }
        if h.dst.is_unicast_link_local() {
            return self.drop_pkt(i, pkt, DropReason::Scope);
        }
        if h.src.is_unicast_link_local() {
            return self.error_and_drop(
                now,
                i,
                pkt,
                h,
                IcmpError::DstUnreachable(2),
                DropReason::Scope,
            );
        }
        if h.hop_limit <= 1 {
            return self.error_and_drop(
                now,
                i,
                pkt,
                h,
                IcmpError::TimeExceeded(0),
                DropReason::HopLimit,
            );
        }
        let (egress, via) = match self.routes.lookup(&h.dst, now).map(|r| r.action) {
            Some(RouteAction::Forward { iface, via }) => (iface, via),
            Some(RouteAction::Reject) => {
                return self.error_and_drop(
                    now,
                    i,
                    pkt,
                    h,
                    IcmpError::DstUnreachable(1),
                    DropReason::Rejected,
                );
            }
            None => {
                return self.error_and_drop(
                    now,
                    i,
                    pkt,
                    h,
                    IcmpError::DstUnreachable(0),
                    DropReason::NoRoute,
                );
            }
        };
        let Some(out) = self.ifaces.get(egress.get()) else {
            return self.error_and_drop(
                now,
                i,
                pkt,
                h,
                IcmpError::DstUnreachable(0),
                DropReason::NoRoute,
            );
        };
        if !out.is_up() {
            return self.error_and_drop(
                now,
                i,
                pkt,
                h,
                IcmpError::DstUnreachable(0),
                DropReason::IfaceDown,
            );
        }
        // The egress MTU binds a packet that changes links. One forwarded back onto the link
        // it came in on was carried by that link at this size: an RPL mesh carries datagrams
        // past its 1280-byte MTU (the RPL Option and the tunnels that RFC 9008 adds around a
        // packet of up to 1280 bytes), and its routers pass them on.
        let mtu = usize::from(out.mtu());
        if wire_len > mtu && egress != i {
            let e = IcmpError::PacketTooBig(mtu as u32);
            return self.error_and_drop(now, i, pkt, h, e, DropReason::TooBig);
        }
        if truncated {
            // It fits the link but not our buffers: our buffer size is the path MTU through us.
            let e = IcmpError::PacketTooBig(self.pool.max_packet() as u32);
            return self.error_and_drop(now, i, pkt, h, e, DropReason::TooBigForBuffer);
        }
        if let Some(hl) = self.pool.data_mut(&pkt).get_mut(7) {
            *hl = h.hop_limit - 1;
        }
        let next_hop = via.unwrap_or(h.dst);
        let trusted = self.ifaces.get(i.get()).is_some_and(|x| x.trust_dscp);
        let tc = if trusted { h.tc } else { 0 };
        match self.enqueue(egress, pkt, tc, next_hop) {
            Ok(()) => {
                if let Some(x) = self.ifaces.get_mut(egress.get()) {
                    x.stats.forwarded = x.stats.forwarded.wrapping_add(1);
                }
                Outcome::Forwarded(egress)
            }
            Err(r) => Outcome::Dropped(r),
        }
    }
}
