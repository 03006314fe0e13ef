//! Every RFC 4443 error the core sends (Time Exceeded, Destination Unreachable codes 0-5,
//! Packet Too Big, Parameter Problem), when it must not send one, and the token bucket that
//! limits them.

use netif::dummy::{self, DummyL2};
use netif::icmp::IcmpError;
use netif::{DropReason, IngressPolicy, Outcome, Prefix, Resources, Route, StackConfig};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv6Repr};

use crate::harness::{
    A_LL, B_LL, Res, T0, assert_error, echo_request, host_a, host_b, ip, ipv6, parse_icmp, router,
    udp,
};

#[test]
fn time_exceeded_when_hop_limit_runs_out() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    for hl in [0u8, 1] {
        let pkt = udp(host_a(), host_b(), hl, b"x");
        assert_eq!(r.inject(r.ia, &pkt), Outcome::Dropped(DropReason::HopLimit));
        let sent = r.sent(r.ia);
        assert_eq!(sent.len(), 1);
        // The source of the error: our address on the arrival interface, same scope.
        assert_error(
            &sent[0].1,
            IcmpError::TimeExceeded(0),
            host_a(),
            ip("2001:db8:1::1"),
            &pkt,
        );
    }
    assert_eq!(r.st.stats(r.ia).unwrap().dropped(DropReason::HopLimit), 2);
    assert!(r.sent(r.ib).is_empty());
    r.assert_pool_full();
}

#[test]
fn destination_unreachable_codes() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    // Code 0: no route.
    let pkt = udp(host_a(), ip("2001:db8:99::1"), 64, b"x");
    assert_eq!(r.inject(r.ia, &pkt), Outcome::Dropped(DropReason::NoRoute));
    assert_error(
        &r.sent(r.ia)[0].1,
        IcmpError::DstUnreachable(0),
        host_a(),
        ip("2001:db8:1::1"),
        &pkt,
    );
    // Code 1: a reject route.
    let mut reject = Route::new(Prefix::new(ip("2001:db8:66::"), 48).unwrap(), r.ib, None);
    reject.action = netif::RouteAction::Reject;
    r.st.add_route(reject).unwrap();
    let pkt = udp(host_a(), ip("2001:db8:66::1"), 64, b"x");
    assert_eq!(r.inject(r.ia, &pkt), Outcome::Dropped(DropReason::Rejected));
    assert_error(
        &r.sent(r.ia)[0].1,
        IcmpError::DstUnreachable(1),
        host_a(),
        ip("2001:db8:1::1"),
        &pkt,
    );
    // Code 2: beyond scope of source (link-local source toward a global destination).
    let pkt = udp(ip("fe80::ff:fe00:5"), host_b(), 64, b"x");
    assert_eq!(r.inject(r.ia, &pkt), Outcome::Dropped(DropReason::Scope));
    assert_error(
        &r.sent(r.ia)[0].1,
        IcmpError::DstUnreachable(2),
        ip("fe80::ff:fe00:5"),
        ip("fe80::ff:fe00:1"),
        &pkt,
    );
    // Code 3: the L2 could not resolve the next hop of a forwarded packet.
    let pkt = udp(host_a(), host_b(), 64, b"x");
    assert_eq!(r.inject(r.ia, &pkt), Outcome::Forwarded(r.ib));
    let queued = r.st.dequeue(r.ib).unwrap();
    let _ = r.st.address_unreachable(T0, r.ib, queued);
    let mut quoted = pkt.clone();
    quoted[7] = 63;
    assert_error(
        &r.sent(r.ia)[0].1,
        IcmpError::DstUnreachable(3),
        host_a(),
        ip("2001:db8:1::1"),
        &quoted,
    );
    assert_eq!(
        r.st.stats(r.ib)
            .unwrap()
            .dropped(DropReason::AddressUnreachable),
        1
    );
    // Code 4: port unreachable for UDP to the router itself.
    let pkt = udp(host_a(), ip("2001:db8:1::1"), 64, b"x");
    assert_eq!(
        r.inject(r.ia, &pkt),
        Outcome::Dropped(DropReason::NoHandler)
    );
    assert_error(
        &r.sent(r.ia)[0].1,
        IcmpError::DstUnreachable(4),
        host_a(),
        ip("2001:db8:1::1"),
        &pkt,
    );
    // Code 5: source failed the ingress policy.
    let policy = IngressPolicy::SourcePrefixes(
        [Prefix::new(ip("2001:db8:1::"), 64).unwrap()]
            .into_iter()
            .collect(),
    );
    r.st.set_ingress_policy(r.ia, policy).unwrap();
    let spoofed = udp(ip("2001:db8:7::ff:fe00:5"), host_b(), 64, b"x");
    assert_eq!(
        r.inject(r.ia, &spoofed),
        Outcome::Dropped(DropReason::Policy)
    );
    let sent = r.sent(r.ia);
    assert_eq!(sent[0].0, [0, 5], "answered on the link it came from");
    assert_error(
        &sent[0].1,
        IcmpError::DstUnreachable(5),
        ip("2001:db8:7::ff:fe00:5"),
        ip("2001:db8:1::1"),
        &spoofed,
    );
    // In-prefix and link-local sources still pass.
    assert_eq!(
        r.inject(r.ia, &udp(host_a(), host_b(), 64, b"ok")),
        Outcome::Forwarded(r.ib)
    );
    assert_eq!(
        r.inject(
            r.ia,
            &echo_request(ip("fe80::ff:fe00:5"), ip("fe80::ff:fe00:1"), 64, b"")
        ),
        Outcome::Delivered
    );
    assert!(r.sent(r.ib).len() == 1 && r.sent(r.ia).len() == 1);
    assert!(r.sent(r.ib).is_empty());
    r.assert_pool_full();
}

/// A packet forwarded back onto the link it came in on was carried by that link at its size
/// (an RPL mesh carries the RPL Option and tunnels around 1280-byte packets, RFC 9008): it
/// goes on past the 1280-byte MTU; from the other link the MTU still binds.
#[test]
fn a_packet_past_the_mtu_goes_back_out_of_the_link_it_came_in_on() {
    let mut res = Resources::<4, 1400, 4, 4, 8>::new();
    let mut r = router(&mut res, StackConfig::default());
    let other_a = ip("2001:db8:1::ff:fe00:6");
    let pkt = udp(host_a(), other_a, 64, &vec![7; 1328 - 48]);
    assert_eq!(pkt.len(), 1328);
    assert_eq!(r.inject(r.ia, &pkt), Outcome::Forwarded(r.ia));
    let sent = r.sent(r.ia);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.len(), 1328);
    assert_eq!(sent[0].1[7], 63);
    // From link B the same packet changes links: too big for link A (below, and
    // `packet_too_big_toward_the_smaller_mtu`).
    let pkt = udp(host_b(), other_a, 64, &vec![7; 1328 - 48]);
    assert_eq!(r.inject(r.ib, &pkt), Outcome::Dropped(DropReason::TooBig));
    assert_eq!(r.sent(r.ib).len(), 1, "Packet Too Big back to link B");
    r.assert_pool_full();
}

#[test]
fn packet_too_big_toward_the_smaller_mtu() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    // 1400 bytes fit eth0 (1500) but not the pool buffer (1280 + headroom), let alone wpan0.
    // The L2 truncates what does not fit and records the wire length (here by hand).
    let pkt = udp(host_b(), host_a(), 64, &vec![0xab; 1400 - 48]);
    assert_eq!(pkt.len(), 1400);
    let mut frame = vec![0u8; 1280];
    DummyL2::frame(B_LL, [0, 9], &pkt[..1276], &mut frame);
    let h = r.st.pool_mut().alloc_from(&frame).unwrap();
    r.st.pool_mut().meta_mut(&h).unwrap().wire_len = 1400;
    assert_eq!(
        r.st.receive(T0, r.ib, &mut r.b, h),
        Outcome::Dropped(DropReason::TooBig)
    );
    let sent = r.sent(r.ib);
    assert_error(
        &sent[0].1,
        IcmpError::PacketTooBig(1280),
        host_b(),
        ip("2001:db8:2::1"),
        &pkt,
    );
    assert_eq!(
        sent[0].1.len(),
        1280,
        "as much of the invoking packet as fits"
    );
    // 1300 bytes whole in the buffer from a larger-MTU link toward wpan0: PTB 1280 too.
    let pkt = udp(host_b(), host_a(), 64, &vec![1; 1300 - 48]);
    let mut res2 = Resources::<4, 1400, 4, 4, 8>::new();
    let mut r2 = router(&mut res2, StackConfig::default());
    assert_eq!(r2.inject(r2.ib, &pkt), Outcome::Dropped(DropReason::TooBig));
    assert_error(
        &r2.sent(r2.ib)[0].1,
        IcmpError::PacketTooBig(1280),
        host_b(),
        ip("2001:db8:2::1"),
        &pkt,
    );
    // PTB is sent even for a link-layer broadcast frame (RFC 4443 §2.4(e.3) exception).
    let mut frame = vec![0u8; 4 + pkt.len()];
    DummyL2::frame(dummy::BROADCAST, [0, 9], &pkt, &mut frame);
    let h = r2.st.pool_mut().alloc_from(&frame).unwrap();
    assert_eq!(
        r2.st.receive(T0, r2.ib, &mut r2.b, h),
        Outcome::Dropped(DropReason::TooBig)
    );
    assert_eq!(r2.sent(r2.ib).len(), 1);
    r.assert_pool_full();
    r2.assert_pool_full();
}

#[test]
fn no_error_for_errors_multicast_or_link_broadcast() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    // An ICMPv6 error (Destination Unreachable) whose hop limit runs out: no Time Exceeded.
    let inner = udp(host_b(), host_a(), 64, b"x");
    let du = Icmpv6Repr::DstUnreachable {
        reason: smoltcp::wire::Icmpv6DstUnreachable::NoRoute,
        header: Ipv6Repr {
            src_addr: host_b(),
            dst_addr: host_a(),
            next_header: IpProtocol::Udp,
            payload_len: 9,
            hop_limit: 64,
        },
        data: &inner[40..],
    };
    let mut icmp = vec![0u8; du.buffer_len()];
    du.emit(
        &host_a(),
        &host_b(),
        &mut Icmpv6Packet::new_unchecked(&mut icmp[..]),
        &ChecksumCapabilities::default(),
    );
    let pkt = ipv6(host_a(), host_b(), IpProtocol::Icmpv6, 1, &icmp);
    assert_eq!(r.inject(r.ia, &pkt), Outcome::Dropped(DropReason::HopLimit));
    assert!(r.sent(r.ia).is_empty(), "never an error about an error");
    // Expired hop limit of a frame sent to the link broadcast address: no error.
    let pkt = udp(host_a(), host_b(), 1, b"x");
    assert_eq!(
        r.inject_from(r.ia, [0, 5], dummy::BROADCAST, &pkt, T0),
        Outcome::Dropped(DropReason::HopLimit)
    );
    assert!(r.sent(r.ia).is_empty());
    // Multicast beyond link scope is not forwarded, and ff02::/16 never; no error either.
    for g in ["ff05::1:3", "ff02::fb", "ff0e::1"] {
        let pkt = udp(host_a(), ip(g), 1, b"x");
        assert_eq!(
            r.inject(r.ia, &pkt),
            Outcome::Dropped(DropReason::Multicast),
            "{g}"
        );
    }
    // A link-local destination that is not ours is never forwarded.
    let pkt = udp(ip("fe80::ff:fe00:5"), ip("fe80::ff:fe00:9"), 64, b"x");
    assert_eq!(r.inject(r.ia, &pkt), Outcome::Dropped(DropReason::Scope));
    assert!(r.sent(r.ia).is_empty() && r.sent(r.ib).is_empty());
    // UDP to all-nodes with no listener: no port unreachable for multicast.
    let pkt = udp(host_a(), ip("ff02::1"), 64, b"x");
    assert_eq!(
        r.inject(r.ia, &pkt),
        Outcome::Dropped(DropReason::NoHandler)
    );
    assert!(r.sent(r.ia).is_empty());
    r.assert_pool_full();
}

#[test]
fn errors_are_rate_limited_by_a_token_bucket() {
    let mut res = Res::new();
    let cfg = StackConfig {
        icmp_errors_per_sec: 2,
        icmp_error_burst: 4,
        ..StackConfig::default()
    };
    let mut r = router(&mut res, cfg);
    let pkt = udp(host_a(), host_b(), 1, b"x");
    let mut sent = 0;
    for _ in 0..10 {
        assert_eq!(r.inject(r.ia, &pkt), Outcome::Dropped(DropReason::HopLimit));
        sent += r.sent(r.ia).len();
    }
    assert_eq!(sent, 4, "the burst");
    let s = r.st.stats(r.ia).unwrap();
    assert_eq!((s.icmp_errors_sent, s.icmp_errors_rate_limited), (4, 6));
    // One second later: two more tokens.
    for _ in 0..5 {
        let _ = r.inject_from(r.ia, [0, 5], A_LL, &pkt, T0 + netif::Duration::from_secs(1));
    }
    assert_eq!(r.sent(r.ia).len(), 2);
    r.assert_pool_full();
}

#[test]
fn parameter_problems_for_headers_we_cannot_process() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    // Unknown upper-layer protocol (253, experimental) to us: code 1, pointer to Next Header.
    let pkt = ipv6(
        host_a(),
        ip("2001:db8:1::1"),
        IpProtocol::Unknown(253),
        64,
        &[0; 8],
    );
    assert_eq!(
        r.inject(r.ia, &pkt),
        Outcome::Dropped(DropReason::NoHandler)
    );
    assert_error(
        &r.sent(r.ia)[0].1,
        IcmpError::ParamProblem(1, 6),
        host_a(),
        ip("2001:db8:1::1"),
        &pkt,
    );
    // Hop-by-hop option of unknown type 0x80 (action 10: discard + error even to multicast),
    // on a forwarded packet: code 2, pointer to the option type (offset 42).
    let hbh = [17u8, 0, 0x80, 1, 0, 1, 0, 0]; // next UDP, len 0, opt 0x80 len 1, PadN
    let mut payload = hbh.to_vec();
    payload.extend_from_slice(&udp(host_a(), host_b(), 64, b"x")[40..]);
    let pkt = ipv6(host_a(), host_b(), IpProtocol::HopByHop, 64, &payload);
    assert_eq!(
        r.inject(r.ia, &pkt),
        Outcome::Dropped(DropReason::BadExtensionHeader)
    );
    assert_error(
        &r.sent(r.ia)[0].1,
        IcmpError::ParamProblem(2, 42),
        host_a(),
        ip("2001:db8:1::1"),
        &pkt,
    );
    // Option type 0x40 (action 01): silently discarded.
    let mut payload = payload.clone();
    payload[2] = 0x40;
    let pkt = ipv6(host_a(), host_b(), IpProtocol::HopByHop, 64, &payload);
    assert_eq!(
        r.inject(r.ia, &pkt),
        Outcome::Dropped(DropReason::BadExtensionHeader)
    );
    assert!(r.sent(r.ia).is_empty());
    // Skippable option (type 0x1e, action 00) and PadN: forwarded.
    payload[2] = 0x1e;
    let pkt = ipv6(host_a(), host_b(), IpProtocol::HopByHop, 64, &payload);
    assert_eq!(r.inject(r.ia, &pkt), Outcome::Forwarded(r.ib));
    // Routing header with segments left to us: code 0, pointer to the routing type.
    let rh = [58u8, 0, 253, 1, 0, 0, 0, 0];
    let mut payload = rh.to_vec();
    payload.extend_from_slice(&echo_request(host_a(), ip("2001:db8:1::1"), 64, b"")[40..]);
    let pkt = ipv6(
        host_a(),
        ip("2001:db8:1::1"),
        IpProtocol::Ipv6Route,
        64,
        &payload,
    );
    assert_eq!(
        r.inject(r.ia, &pkt),
        Outcome::Dropped(DropReason::BadExtensionHeader)
    );
    assert_error(
        &r.sent(r.ia)[0].1,
        IcmpError::ParamProblem(0, 42),
        host_a(),
        ip("2001:db8:1::1"),
        &pkt,
    );
    // Echo request behind a destination-options header: answered, without the header.
    let dopt = [58u8, 0, 1, 4, 0, 0, 0, 0];
    let mut payload = dopt.to_vec();
    payload.extend_from_slice(&echo_request(host_a(), ip("2001:db8:1::1"), 64, b"opt")[40..]);
    let pkt = ipv6(
        host_a(),
        ip("2001:db8:1::1"),
        IpProtocol::Ipv6Opts,
        64,
        &payload,
    );
    assert_eq!(r.inject(r.ia, &pkt), Outcome::Delivered);
    let reply = r.sent(r.ia);
    let (_, repr) = parse_icmp(&reply[0].1);
    assert_eq!(
        repr,
        Icmpv6Repr::EchoReply {
            ident: 0x1234,
            seq_no: 7,
            data: b"opt"
        }
    );
    r.sent(r.ib);
    r.assert_pool_full();
}

/// Issue 19 #3: one backbone host sending 20 hop-limit-1 packets a second must not starve
/// another host of its Packet Too Big (path-MTU discovery into the mesh) nor of its Time
/// Exceeded (traceroute): errors are limited per destination, and PTB has its own budget.
#[test]
fn one_hosts_error_flood_does_not_starve_another_hosts_errors() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    let attacker = ip("2001:db8:2::bad");
    let tracer = ip("2001:db8:2::ff:fe00:8");
    let flood = udp(attacker, host_a(), 1, b"x");
    let big = udp(host_b(), host_a(), 64, &vec![7; 1400 - 48]);
    let probe = udp(tracer, host_a(), 1, b"probe");
    let (mut ptb, mut te, mut to_attacker) = (0, 0, 0);
    for ms in (0..30_000u64).step_by(50) {
        let now = T0 + netif::Duration::from_millis(ms);
        let _ = r.inject_from(r.ib, [0, 0x0b], B_LL, &flood, now);
        if ms % 1000 == 500 {
            // 1400 bytes from the 1500-byte backbone: the L2 keeps what fits a buffer and
            // records the wire length.
            let mut frame = vec![0u8; 1280];
            DummyL2::frame(B_LL, [0, 9], &big[..1276], &mut frame);
            let h = r.st.pool_mut().alloc_from(&frame).unwrap();
            r.st.pool_mut().meta_mut(&h).unwrap().wire_len = 1400;
            assert_eq!(
                r.st.receive(now, r.ib, &mut r.b, h),
                Outcome::Dropped(DropReason::TooBig)
            );
            assert_eq!(
                r.inject_from(r.ib, [0, 8], B_LL, &probe, now),
                Outcome::Dropped(DropReason::HopLimit)
            );
        }
        for (_, f) in r.sent(r.ib) {
            let (h, _) = parse_icmp(&f);
            match (h.dst_addr, f[40]) {
                (d, 2) if d == host_b() => ptb += 1,
                (d, 3) if d == tracer => te += 1,
                (d, 3) if d == attacker => to_attacker += 1,
                other => panic!("unexpected error {other:?}"),
            }
        }
    }
    assert_eq!(
        ptb, 30,
        "Packet Too Big to the host doing path-MTU discovery"
    );
    assert_eq!(te, 30, "Time Exceeded to the host doing traceroute");
    // The flooder gets its own share: the burst, then the per-destination rate.
    assert!(to_attacker <= 10 + 10 * 30, "{to_attacker}");
    assert!(r.st.stats(r.ib).unwrap().icmp_errors_rate_limited >= 600 - 310);
    r.assert_pool_full();
}

/// A link that carries at most `mtu` bytes to every next hop (as an RPL root's tunnel does to
/// a target behind other nodes): the core answers larger packets with Packet Too Big carrying
/// that MTU, and hands smaller ones over.
struct Tunnel<'a> {
    inner: &'a mut DummyL2,
    mtu: u16,
}

impl netif::L2 for Tunnel<'_> {
    fn recv(
        &mut self,
        cx: &mut netif::L2Context<'_, '_>,
        pkt: netif::PacketHandle,
    ) -> netif::Verdict {
        self.inner.recv(cx, pkt)
    }
    fn send(
        &mut self,
        cx: &mut netif::L2Context<'_, '_>,
        pkt: netif::PacketHandle,
    ) -> Result<usize, netif::SendError> {
        self.inner.send(cx, pkt)
    }
    fn enable(
        &mut self,
        cx: &mut netif::L2Context<'_, '_>,
        up: bool,
    ) -> Result<(), netif::l2::EnableError> {
        self.inner.enable(cx, up)
    }
    fn flags(&self) -> netif::L2Flags {
        self.inner.flags()
    }
    fn reach(&self, _: &netif::PacketPool<'_>, _: &netif::PacketHandle) -> netif::Reach {
        netif::Reach::Resolved {
            mtu: Some(self.mtu),
        }
    }
}

#[test]
fn a_link_with_a_smaller_path_mtu_gets_packet_too_big_with_it() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    let big = udp(host_b(), host_a(), 64, &[7; 1240 - 48]);
    let small = udp(host_b(), host_a(), 64, &[7; 1100 - 48]);
    for p in [&big, &small] {
        assert_eq!(r.inject(r.ib, p), Outcome::Forwarded(r.ia));
    }
    let mut t = Tunnel {
        inner: &mut r.a,
        mtu: 1200,
    };
    assert_eq!(
        r.st.transmit(T0, r.ia, &mut t),
        1,
        "only the small one is handed over"
    );
    let mut quoted = big.clone();
    quoted[7] = 63;
    assert_error(
        &r.sent(r.ib)[0].1,
        IcmpError::PacketTooBig(1200),
        host_b(),
        ip("2001:db8:2::1"),
        &quoted,
    );
    let out = r.sent(r.ia);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.len(), 1100);
    assert_eq!(r.st.stats(r.ia).unwrap().dropped(DropReason::TooBig), 1);
    r.assert_pool_full();
}
