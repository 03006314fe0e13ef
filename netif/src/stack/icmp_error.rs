//! The ICMPv6 errors the core answers with (RFC 4443): when one may be sent, its source
//! address, the rate limit (per destination, Packet Too Big on its own budget: `icmp::limit`),
//! and Destination Unreachable for next hops the L2 cannot resolve.

use smoltcp::wire::IpProtocol;

use super::{Hdr, Outcome, Stack};
use crate::addr::LinkAddr;
use crate::ext_header::{Upper, walk_to_upper};
use crate::icmp::{self, IcmpError};
use crate::iface::{IfIndex, Iface};
use crate::pool::PacketHandle;
use crate::stats::DropReason;
use crate::time::Instant;

impl<'r> Stack<'r> {
    // ----- ICMPv6 errors ---------------------------------------------------------------

    /// Count the drop, then (rules and rate limit permitting) turn the packet into an ICMPv6
    /// error to its source.
    pub(super) fn error_and_drop(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        h: &Hdr,
        err: IcmpError,
        reason: DropReason,
    ) -> Outcome {
        self.count_drop(i, reason);
        if !self.may_send_error(&pkt, h, err) {
            self.pool.free(pkt);
            return Outcome::Dropped(reason);
        }
        let ptb = matches!(err, IcmpError::PacketTooBig(_));
        if self
            .icmp_limiter
            .allow(&self.config, now, &h.src, ptb)
            .is_err()
        {
            if let Some(x) = self.ifaces.get_mut(i.get()) {
                x.stats.icmp_errors_rate_limited = x.stats.icmp_errors_rate_limited.wrapping_add(1);
            }
            self.pool.free(pkt);
            return Outcome::Dropped(reason);
        }
        // A source that failed the ingress policy has no route back: answer on its link.
        let back_on_link = err == IcmpError::DstUnreachable(5);
        // Source (RFC 4443 §2.2): the address the packet was sent to if it is one of ours;
        // else an address of the interface the error leaves by (the arrival interface for a
        // link-local destination), of the destination's scope.
        let src = if self.iface_of_addr(&h.dst).is_some() {
            Some(h.dst)
        } else {
            let out = if h.src.is_unicast_link_local() || back_on_link {
                Some(i)
            } else {
                self.routes.lookup(&h.src, now).and_then(|r| r.iface())
            };
            let want_global = !h.src.is_unicast_link_local();
            let pick = |x: &Iface| {
                x.select_source(&h.src)
                    .filter(|s| !want_global || !s.is_unicast_link_local())
            };
            out.and_then(|o| self.ifaces.get(o.get()))
                .and_then(pick)
                .or_else(|| self.ifaces.iter().find_map(pick))
        };
        let Some(src) = src else {
            self.core_stats.icmp_errors_no_source =
                self.core_stats.icmp_errors_no_source.wrapping_add(1);
            self.pool.free(pkt);
            return Outcome::Dropped(reason);
        };
        if icmp::build_error(
            &mut self.pool,
            &pkt,
            err,
            &src,
            &h.src,
            self.config.hop_limit,
        )
        .is_err()
        {
            self.count_drop(i, DropReason::PoolEmpty);
            self.pool.free(pkt);
            return Outcome::Dropped(reason);
        }
        self.forget_received_link(&pkt);
        if let Some(x) = self.ifaces.get_mut(i.get()) {
            x.stats.icmp_errors_sent = x.stats.icmp_errors_sent.wrapping_add(1);
        }
        let scoped = (h.src.is_unicast_link_local() || back_on_link).then_some((i, h.src));
        let _ = self.output(now, pkt, scoped);
        Outcome::Dropped(reason)
    }

    /// RFC 4443 §2.4(e): never in answer to an error, nor to a multicast destination or
    /// link-layer multicast (except Packet Too Big and Parameter Problem code 2), nor to a
    /// source that does not identify a single node.
    fn may_send_error(&self, pkt: &PacketHandle, h: &Hdr, err: IcmpError) -> bool {
        if h.src.is_unspecified() || h.src.is_multicast() {
            return false;
        }
        let multicast = h.dst.is_multicast() || self.pool.meta(pkt).ll_multicast;
        if multicast && !err.allowed_for_multicast() {
            return false;
        }
        let d = self.pool.data(pkt);
        // An ICMPv6 error (type < 128), or one we cannot see the type of, gets no answer.
        !matches!(walk_to_upper(d, h.next, false), Upper::At(p, off) if p == u8::from(IpProtocol::Icmpv6) && d.get(off).is_none_or(|&t| t < 128))
    }

    /// A packet we originate in a received packet's buffer (an ICMPv6 error, an echo reply)
    /// keeps none of the received frame's link-layer metadata: an L2 takes `ll_dst` of an
    /// originated packet as its explicit destination, which sent such packets into the mesh
    /// to our own address.
    pub(super) fn forget_received_link(&mut self, pkt: &PacketHandle) {
        if let Some(m) = self.pool.meta_mut(pkt) {
            m.wire_len = 0;
            m.ll_src = LinkAddr::NONE;
            m.ll_dst = LinkAddr::NONE;
            m.ll_multicast = false;
        }
    }

    /// The L2 could not resolve the next hop of `pkt`: count it and send Destination
    /// Unreachable, code 3 (address unreachable), to the packet's source.
    pub fn address_unreachable(&mut self, now: Instant, i: IfIndex, pkt: PacketHandle) -> Outcome {
        let Some(h) = Hdr::parse(self.pool.data(&pkt)) else {
            return self.drop_pkt(i, pkt, DropReason::AddressUnreachable);
        };
        if self.iface_of_addr(&h.src).is_some() {
            // Our own packet: nobody to tell.
            return self.drop_pkt(i, pkt, DropReason::AddressUnreachable);
        }
        // The hop limit was already decremented; the quoted packet shows it as forwarded.
        self.error_and_drop(
            now,
            i,
            pkt,
            &h,
            IcmpError::DstUnreachable(3),
            DropReason::AddressUnreachable,
        )
    }

    /// `pkt` is larger than the link carries to its next hop ([`L2::reach`](crate::L2::reach)):
    /// count it and send Packet Too Big with `mtu` to the packet's source (not for our own
    /// packets).
    pub fn path_too_big(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        mtu: u16,
    ) -> Outcome {
        let Some(h) = Hdr::parse(self.pool.data(&pkt)) else {
            return self.drop_pkt(i, pkt, DropReason::TooBig);
        };
        if self.iface_of_addr(&h.src).is_some() {
            return self.drop_pkt(i, pkt, DropReason::TooBig);
        }
        self.error_and_drop(
            now,
            i,
            pkt,
            &h,
            IcmpError::PacketTooBig(u32::from(mtu)),
            DropReason::TooBig,
        )
    }
}
