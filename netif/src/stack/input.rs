//! Receive path: a frame through its L2, IPv6 input (validation, ingress policy, ingress
//! filtering of sources that belong to another link, hop-by-hop options), local delivery to
//! handlers, and echo replies answered in place.

use core::net::Ipv6Addr;

use smoltcp::wire::IpProtocol;

use super::{Hdr, LocalDelivery, Match, Outcome, Stack};
use crate::ext_header::{self, IPV6_HEADER_LEN, NextHeader, Upper, options_header, walk_to_upper};
use crate::icmp::{self, IcmpError, nd, param_problem, types};
use crate::iface::{AddrState, IfIndex, IngressInfo};
use crate::l2::{L2, L2Context, Verdict};
use crate::pool::PacketHandle;
use crate::route::RouteOrigin;
use crate::stats::DropReason;
use crate::time::Instant;

impl<'r> Stack<'r> {
    // ----- receive path ----------------------------------------------------------------

    /// A frame arrived on interface `i`: run its L2, then IPv6 input.
    pub fn receive(
        &mut self,
        now: Instant,
        i: IfIndex,
        l2: &mut dyn L2,
        pkt: PacketHandle,
    ) -> Outcome {
        let Some(iface) = self.ifaces.get(i.get()) else {
            self.core_stats.no_iface = self.core_stats.no_iface.wrapping_add(1);
            self.pool.free(pkt);
            return Outcome::Dropped(DropReason::BadHeader);
        };
        if !iface.is_up() {
            return self.drop_pkt(i, pkt, DropReason::IfaceDown);
        }
        let mut cx = L2Context {
            now,
            iface,
            pool: &mut self.pool,
        };
        match l2.recv(&mut cx, pkt) {
            Verdict::Drop(p) => self.drop_pkt(i, p, DropReason::L2),
            Verdict::Ok => Outcome::Consumed,
            Verdict::Continue(p) => self.input(now, i, p),
        }
    }

    /// An IPv6 packet (at the packet's head) arrived on interface `i`.
    pub fn input(&mut self, now: Instant, i: IfIndex, pkt: PacketHandle) -> Outcome {
        let Some(iface) = self.ifaces.get_mut(i.get()) else {
            self.core_stats.no_iface = self.core_stats.no_iface.wrapping_add(1);
            self.pool.free(pkt);
            return Outcome::Dropped(DropReason::BadHeader);
        };
        let meta = self.pool.meta(&pkt);
        let have = self.pool.len(&pkt);
        let wire_len = if meta.wire_len > 0 {
            usize::from(meta.wire_len)
        } else {
            have
        };
        iface.stats.count_rx(wire_len);
        if !iface.is_up() {
            return self.drop_pkt(i, pkt, DropReason::IfaceDown);
        }
        if let Some(m) = self.pool.meta_mut(&pkt) {
            m.rx_iface = Some(i);
        }

        // Fixed header.
        let Some(h) = Hdr::parse(self.pool.data(&pkt)) else {
            return self.drop_pkt(i, pkt, DropReason::BadHeader);
        };
        let total = IPV6_HEADER_LEN + h.payload_len;
        if h.payload_len == 0 && NextHeader::from(h.next) == NextHeader::HopByHop {
            // A jumbogram (RFC 2675): not supported on these links.
            return self.drop_pkt(i, pkt, DropReason::BadExtensionHeader);
        }
        if total > wire_len {
            return self.drop_pkt(i, pkt, DropReason::Truncated);
        }
        let truncated = total > have;
        if !truncated {
            self.pool.truncate(&pkt, total); // strip link-layer padding
        }

        // Address sanity (RFC 4291 §2.5.2/§2.5.3, RFC 8200).
        if h.src.is_multicast() || h.src.is_loopback() {
            return self.drop_pkt(i, pkt, DropReason::BadSource);
        }
        if h.dst.is_unspecified() || h.dst.is_loopback() {
            return self.drop_pkt(i, pkt, DropReason::BadDestination);
        }
        if h.src.is_unspecified()
            && !(h.dst.is_multicast() && h.next == u8::from(IpProtocol::Icmpv6))
        {
            // Only ND (DAD probes, router solicitations) may come from `::`.
            return self.drop_pkt(i, pkt, DropReason::BadSource);
        }

        // Ingress policy.
        let info = IngressInfo {
            iface: i,
            src: h.src,
            dst: h.dst,
            ll_src: meta.ll_src,
        };
        let allowed = self
            .ifaces
            .get(i.get())
            .is_some_and(|x| x.ingress_policy().allows(&info));
        if !allowed {
            return self.error_and_drop(
                now,
                i,
                pkt,
                &h,
                IcmpError::DstUnreachable(5),
                DropReason::Policy,
            );
        }

        // Ingress filtering (RFC 3704): a source on-link on another interface (the mesh
        // prefix arriving on the backbone) is forged. No error: it would go to the
        // impersonated host, on its own link.
        if self.source_belongs_elsewhere(now, i, &h.src) {
            return self.drop_pkt(i, pkt, DropReason::SpoofedSource);
        }

        // Hop-by-hop options are examined by every node on the path (RFC 8200 §4.3).
        if NextHeader::from(h.next) == NextHeader::HopByHop {
            if truncated {
                return self.drop_pkt(i, pkt, DropReason::TooBigForBuffer);
            }
            if let Err(u) =
                options_header(self.pool.data(&pkt), IPV6_HEADER_LEN, h.dst.is_multicast())
            {
                return self.upper_error(now, i, pkt, &h, u);
            }
        }

        match self.classify_dst(i, &h) {
            Some(tentative) => {
                if truncated {
                    return self.drop_pkt(i, pkt, DropReason::TooBigForBuffer);
                }
                self.local(now, i, pkt, &h, tentative)
            }
            None => self.forward(now, i, pkt, &h, wire_len, truncated),
        }
    }

    /// True when the best route to `src` is the connected route of another interface: hosts
    /// with such addresses are on that other link, so their packets cannot arrive on `i`.
    /// (Link-local prefixes have no connected route: they belong to every link.)
    fn source_belongs_elsewhere(&self, now: Instant, i: IfIndex, src: &Ipv6Addr) -> bool {
        self.routes
            .lookup(src, now)
            .is_some_and(|r| r.origin == RouteOrigin::Connected && r.iface() != Some(i))
    }

    /// `Some(tentative)` when the destination is ours: a joined group on `i`, a link-local
    /// address of `i`, or a global address of any interface (weak host model).
    fn classify_dst(&self, i: IfIndex, h: &Hdr) -> Option<bool> {
        let x = self.ifaces.get(i.get())?;
        if h.dst.is_multicast() {
            return x.has_group(&h.dst).then_some(false);
        }
        if h.dst.is_unicast_link_local() {
            return x.addr(&h.dst).map(|a| a.state == AddrState::Tentative);
        }
        self.ifaces
            .iter()
            .find_map(|x| x.addr(&h.dst))
            .map(|a| a.state == AddrState::Tentative)
    }

    fn local(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        h: &Hdr,
        tentative: bool,
    ) -> Outcome {
        let (proto, off) = match walk_to_upper(self.pool.data(&pkt), h.next, h.dst.is_multicast()) {
            Upper::At(p, o) => (p, o),
            Upper::Routing(ty, o) => return self.routing_header(now, i, pkt, h, ty, o),
            u => return self.upper_error(now, i, pkt, h, u),
        };
        let icmp = proto == u8::from(IpProtocol::Icmpv6);
        let icmp_type = if icmp {
            self.pool.data(&pkt).get(off).copied()
        } else {
            None
        };
        if icmp {
            let d = self.pool.data(&pkt);
            let ok = d
                .get(off..)
                .is_some_and(|m| m.len() >= 4 && icmp::checksum_ok(m, &h.src, &h.dst));
            if !ok {
                return self.drop_pkt(i, pkt, DropReason::BadIcmp);
            }
        }
        if tentative && !matches!(icmp_type, Some(nd::NEIGHBOR_SOLICIT | nd::NEIGHBOR_ADVERT)) {
            // A tentative address only takes part in duplicate address detection.
            return self.drop_pkt(i, pkt, DropReason::BadDestination);
        }
        let udp_port = if proto == u8::from(IpProtocol::Udp) {
            let d = self.pool.data(&pkt);
            d.get(off + 2..off + 4)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
        } else {
            None
        };
        let handler = self.handlers.iter().find(|e| {
            e.iface.is_none_or(|x| x == i)
                && match e.m {
                    Match::Icmpv6 { first, last } => {
                        icmp_type.is_some_and(|t| (first..=last).contains(&t))
                    }
                    Match::Udp(port) => udp_port == Some(port),
                    Match::Protocol(p) => p == proto,
                    Match::Routing(_) => false,
                }
        });
        if let Some(e) = handler.copied() {
            self.count_delivered(i);
            return Outcome::Local(LocalDelivery {
                handler: e.id,
                iface: i,
                packet: pkt,
                upper_offset: off,
                protocol: proto,
            });
        }
        match (proto, icmp_type) {
            (_, Some(types::ECHO_REQUEST)) => self.echo_reply(now, i, pkt, h, off),
            (p, _) if NextHeader::from(p) == NextHeader::NoNextHeader => {
                // No Next Header: nothing to deliver.
                self.count_delivered(i);
                self.pool.free(pkt);
                Outcome::Delivered
            }
            (_, Some(_)) => self.drop_pkt(i, pkt, DropReason::NoHandler),
            (p, _) if p == u8::from(IpProtocol::Tcp) || p == u8::from(IpProtocol::Udp) => self
                .error_and_drop(
                    now,
                    i,
                    pkt,
                    h,
                    IcmpError::DstUnreachable(4),
                    DropReason::NoHandler,
                ),
            _ => {
                // Unrecognised next header: point at the field that named it.
                let ptr = ext_header::next_header_ptr(self.pool.data(&pkt), h.next, off);
                self.error_and_drop(
                    now,
                    i,
                    pkt,
                    h,
                    IcmpError::ParamProblem(param_problem::UNRECOGNIZED_NEXT_HEADER, ptr),
                    DropReason::NoHandler,
                )
            }
        }
    }

    fn count_delivered(&mut self, i: IfIndex) {
        if let Some(x) = self.ifaces.get_mut(i.get()) {
            x.stats.delivered = x.stats.delivered.wrapping_add(1);
        }
    }

    /// A routing header of type `ty` at `off` with segments left: to its handler, or
    /// Parameter Problem at the Routing Type.
    fn routing_header(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        h: &Hdr,
        ty: u8,
        off: usize,
    ) -> Outcome {
        let handler = self
            .handlers
            .iter()
            .find(|e| e.iface.is_none_or(|x| x == i) && e.m == Match::Routing(ty));
        if let Some(e) = handler.copied() {
            self.count_delivered(i);
            return Outcome::Local(LocalDelivery {
                handler: e.id,
                iface: i,
                packet: pkt,
                upper_offset: off,
                protocol: u8::from(NextHeader::Routing),
            });
        }
        let ptr = (off + ext_header::field::ROUTING_TYPE) as u32;
        self.upper_error(
            now,
            i,
            pkt,
            h,
            Upper::Problem(param_problem::ERRONEOUS_FIELD, ptr),
        )
    }

    fn upper_error(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        h: &Hdr,
        u: Upper,
    ) -> Outcome {
        match u {
            Upper::Problem(code, ptr) => self.error_and_drop(
                now,
                i,
                pkt,
                h,
                IcmpError::ParamProblem(code, ptr),
                DropReason::BadExtensionHeader,
            ),
            Upper::Drop(r) => self.drop_pkt(i, pkt, r),
            Upper::At(..) | Upper::Routing(..) => {
                self.drop_pkt(i, pkt, DropReason::BadExtensionHeader)
            }
        }
    }

    /// Answer an echo request in place: swap addresses, strip extension headers, type 129.
    fn echo_reply(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        h: &Hdr,
        off: usize,
    ) -> Outcome {
        if h.src.is_unspecified() {
            return self.drop_pkt(i, pkt, DropReason::BadSource);
        }
        let src = if h.dst.is_multicast() {
            match self
                .ifaces
                .get(i.get())
                .and_then(|x| x.select_source(&h.src))
            {
                Some(s) => s,
                None => return self.drop_pkt(i, pkt, DropReason::NoHandler),
            }
        } else {
            h.dst
        };
        self.count_delivered(i);
        // Drop the extension headers: move the fixed header up to the ICMPv6 message.
        let ext = off - IPV6_HEADER_LEN;
        if ext > 0 {
            self.pool
                .data_mut(&pkt)
                .copy_within(0..IPV6_HEADER_LEN, ext);
            if self.pool.pull_front(&pkt, ext).is_err() {
                return self.drop_pkt(i, pkt, DropReason::BadHeader);
            }
        }
        let hop_limit = self.config.hop_limit;
        let d = self.pool.data_mut(&pkt);
        let icmp_len = d.len().saturating_sub(IPV6_HEADER_LEN);
        if let Some(hdr) = d.get_mut(..IPV6_HEADER_LEN) {
            icmp::write_ipv6_header(
                hdr,
                h.tc,
                icmp_len as u16,
                IpProtocol::Icmpv6,
                hop_limit,
                &src,
                &h.src,
            );
        }
        if let Some(m) = d.get_mut(IPV6_HEADER_LEN..) {
            if let Some(t) = m.first_mut() {
                *t = types::ECHO_REPLY;
            }
            icmp::fill_checksum(m, &src, &h.src);
        }
        self.forget_received_link(&pkt);
        let scoped = h.src.is_unicast_link_local().then_some((i, h.src));
        match self.output(now, pkt, scoped) {
            Ok(_) => Outcome::Delivered,
            Err(r) => Outcome::Dropped(r),
        }
    }
}
