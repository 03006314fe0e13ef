//! Two-interface router on dummy links: local delivery, forwarding, every RFC 4443 error the
//! core sends, traffic classes, queues, events and counters. Packets are built and checked
//! with smoltcp's wire module, an implementation independent of ours.

use std::net::Ipv6Addr;

use netif::dummy::{self, DummyL2, TwoLinkRouter};
use netif::icmp::IcmpError;
use netif::{
    AddrState, DropReason, Event, IfIndex, IngressPolicy, Instant, Lifetimes, Match, Outcome,
    Prefix, Resources, Route, Stack, StackConfig,
};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv6Packet, Ipv6Repr, UdpPacket, UdpRepr,
};

type Res = Resources<16, { netif::config::DEFAULT_BUF_SIZE }, 16, 8, 64>;

const A_LL: [u8; 2] = [0x00, 0x01];
const B_LL: [u8; 2] = [0x00, 0x02];
const T0: Instant = Instant::from_secs(100);

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// A host on link A (wpan0 side): 2001:db8:1::ff:fe00:5, link address 00:05.
fn host_a() -> Ipv6Addr {
    ip("2001:db8:1::ff:fe00:5")
}
/// A host on link B (eth0 side): 2001:db8:2::ff:fe00:9, link address 00:09.
fn host_b() -> Ipv6Addr {
    ip("2001:db8:2::ff:fe00:9")
}

struct Router<'r> {
    st: Stack<'r>,
    a: DummyL2,
    b: DummyL2,
    ia: IfIndex,
    ib: IfIndex,
}

fn router<const P: usize, const B: usize, const R: usize, const Q: usize, const E: usize>(
    res: &mut Resources<P, B, R, Q, E>,
    cfg: StackConfig,
) -> Router<'_> {
    let TwoLinkRouter {
        stack,
        links: [a, b],
        mesh,
        backbone,
    } = TwoLinkRouter::new(cfg, res, 1280).unwrap();
    Router {
        st: stack,
        a,
        b,
        ia: mesh,
        ib: backbone,
    }
}

impl Router<'_> {
    /// Deliver `ipv6` as a frame from link address `src_ll` on interface `on`.
    fn inject_from(
        &mut self,
        on: IfIndex,
        src_ll: [u8; 2],
        dst_ll: [u8; 2],
        ipv6: &[u8],
        now: Instant,
    ) -> Outcome {
        let mut frame = vec![0u8; ipv6.len() + dummy::HEADER_LEN];
        DummyL2::frame(dst_ll, src_ll, ipv6, &mut frame);
        let h = self.st.pool_mut().alloc_from(&frame).unwrap();
        let l2 = if on == self.ia {
            &mut self.a
        } else {
            &mut self.b
        };
        self.st.receive(now, on, l2, h)
    }
    fn inject(&mut self, on: IfIndex, ipv6: &[u8]) -> Outcome {
        let (src, dst) = if on == self.ia {
            ([0, 5], A_LL)
        } else {
            ([0, 9], B_LL)
        };
        self.inject_from(on, src, dst, ipv6, T0)
    }
    /// Transmit everything queued and return the frames sent on `on` (link dst, IPv6 bytes).
    fn sent(&mut self, on: IfIndex) -> Vec<([u8; 2], Vec<u8>)> {
        let l2 = if on == self.ia {
            &mut self.a
        } else {
            &mut self.b
        };
        self.st.transmit(T0, on, l2);
        let mut out = vec![];
        while let Some(h) = l2.take_tx() {
            let d = self.st.pool().data(&h).to_vec();
            out.push(([d[0], d[1]], d[4..].to_vec()));
            self.st.pool_mut().free(h);
        }
        out
    }
    fn assert_pool_full(&self) {
        assert_eq!(
            self.st.pool().available(),
            self.st.pool().capacity(),
            "a buffer leaked"
        );
    }
}

/// An IPv6 packet built by smoltcp: `next` with `payload` (already including its header).
fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, next: IpProtocol, hop_limit: u8, payload: &[u8]) -> Vec<u8> {
    let repr = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: next,
        payload_len: payload.len(),
        hop_limit,
    };
    let mut buf = vec![0u8; repr.buffer_len() + payload.len()];
    let mut p = Ipv6Packet::new_unchecked(&mut buf);
    repr.emit(&mut p);
    p.payload_mut().copy_from_slice(payload);
    buf
}

fn echo_request(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, data: &[u8]) -> Vec<u8> {
    let r = Icmpv6Repr::EchoRequest {
        ident: 0x1234,
        seq_no: 7,
        data,
    };
    let mut icmp = vec![0u8; r.buffer_len()];
    r.emit(
        &src,
        &dst,
        &mut Icmpv6Packet::new_unchecked(&mut icmp[..]),
        &ChecksumCapabilities::default(),
    );
    ipv6(src, dst, IpProtocol::Icmpv6, hop_limit, &icmp)
}

fn udp(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, payload: &[u8]) -> Vec<u8> {
    let r = UdpRepr {
        src_port: 5683,
        dst_port: 61616,
    };
    let mut b = vec![0u8; 8 + payload.len()];
    let mut p = UdpPacket::new_unchecked(&mut b[..]);
    r.emit(
        &mut p,
        &src.into(),
        &dst.into(),
        payload.len(),
        |b| b.copy_from_slice(payload),
        &ChecksumCapabilities::default(),
    );
    ipv6(src, dst, IpProtocol::Udp, hop_limit, &b)
}

/// Parse an ICMPv6 message with smoltcp (checksum verified), returning the header too.
fn parse_icmp(bytes: &[u8]) -> (Ipv6Repr, Icmpv6Repr<'_>) {
    let p = Ipv6Packet::new_checked(bytes).expect("valid IPv6");
    let ip = Ipv6Repr::parse(&p).unwrap();
    assert_eq!(ip.next_header, IpProtocol::Icmpv6);
    let payload = &bytes[40..40 + ip.payload_len];
    let icmp = Icmpv6Packet::new_checked(payload).unwrap();
    let repr = Icmpv6Repr::parse(
        &ip.src_addr,
        &ip.dst_addr,
        &icmp,
        &ChecksumCapabilities::default(),
    )
    .expect("ICMPv6 with a valid checksum");
    (ip, repr)
}

/// Assert `frame` is an ICMPv6 error of `kind` to `to`, quoting the start of `invoking`.
fn assert_error(frame: &[u8], kind: IcmpError, to: Ipv6Addr, from: Ipv6Addr, invoking: &[u8]) {
    assert!(frame.len() <= 1280, "ICMPv6 errors fit the minimum MTU");
    let (ip, repr) = parse_icmp(frame);
    assert_eq!((ip.src_addr, ip.dst_addr), (from, to));
    let (ty, code, field) = kind.wire();
    assert_eq!((frame[40], frame[41]), (ty, code), "type/code");
    assert_eq!(u32::from_be_bytes(frame[44..48].try_into().unwrap()), field);
    let quoted = &frame[48..];
    let n = quoted.len().min(invoking.len());
    assert_eq!(
        &quoted[..n],
        &invoking[..n],
        "the invoking packet is quoted verbatim"
    );
    assert!(matches!(
        repr,
        Icmpv6Repr::DstUnreachable { .. }
            | Icmpv6Repr::PktTooBig { .. }
            | Icmpv6Repr::TimeExceeded { .. }
            | Icmpv6Repr::ParamProblem { .. }
    ));
}

#[test]
fn echo_request_to_each_address_is_answered() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    for (dst, want_src) in [
        (ip("2001:db8:1::1"), ip("2001:db8:1::1")),
        // Our address on the *other* interface (weak host model).
        (ip("2001:db8:2::1"), ip("2001:db8:2::1")),
        // All-nodes: answered from a unicast address of the arrival interface.
        (ip("ff02::1"), ip("2001:db8:1::1")),
        (ip("fe80::ff:fe00:1"), ip("fe80::ff:fe00:1")),
    ] {
        let req = echo_request(host_a(), dst, 64, b"hello mesh");
        assert_eq!(r.inject(r.ia, &req), Outcome::Delivered, "to {dst}");
        let sent = r.sent(r.ia);
        assert_eq!(sent.len(), 1);
        let (ll_dst, bytes) = &sent[0];
        assert_eq!(*ll_dst, [0, 5], "link address derived from the IID");
        let (ipr, repr) = parse_icmp(bytes);
        assert_eq!(
            (ipr.src_addr, ipr.dst_addr, ipr.hop_limit),
            (want_src, host_a(), 64)
        );
        assert_eq!(
            repr,
            Icmpv6Repr::EchoReply {
                ident: 0x1234,
                seq_no: 7,
                data: b"hello mesh"
            }
        );
    }
    let s = r.st.stats(r.ia).unwrap();
    assert_eq!((s.rx_packets, s.delivered, s.tx_packets), (4, 4, 4));
    r.assert_pool_full();
}

#[test]
fn echo_reply_matches_linux_kernel_bytes() {
    // A request and the reply the Linux kernel sent for it (see tests/vectors.md): our reply
    // to the same request must be the same bytes.
    let request = hex(
        "6000000000103a40 20010db8000100000000000000000002 20010db8000100000000000000000001 80007e6f53470001a1b2c3d4e5f60708",
    );
    let reply = hex(
        "6000000000103a40 20010db8000100000000000000000001 20010db8000100000000000000000002 81007d6f53470001a1b2c3d4e5f60708",
    );
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    assert_eq!(r.inject(r.ia, &request), Outcome::Delivered);
    let sent = r.sent(r.ia);
    assert_eq!(sent[0].1, reply, "byte-identical to the kernel's reply");
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn forwards_between_interfaces_and_decrements_hop_limit() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    let pkt = udp(host_a(), host_b(), 64, b"reading=21.5C");
    assert_eq!(r.inject(r.ia, &pkt), Outcome::Forwarded(r.ib));
    let sent = r.sent(r.ib);
    assert_eq!(sent.len(), 1);
    let (ll, out) = &sent[0];
    assert_eq!(*ll, [0, 9]);
    assert_eq!(out[7], 63, "hop limit decremented");
    let mut expect = pkt.clone();
    expect[7] = 63;
    assert_eq!(*out, expect, "nothing else changed");
    // The UDP checksum is still valid for smoltcp (the hop limit is not in the pseudo-header).
    let p = Ipv6Packet::new_checked(&out[..]).unwrap();
    let u = UdpPacket::new_checked(p.payload()).unwrap();
    assert!(u.verify_checksum(&host_a().into(), &host_b().into()));
    assert_eq!(r.st.stats(r.ib).unwrap().forwarded, 1);
    // And back.
    let back = udp(host_b(), host_a(), 2, b"ack");
    assert_eq!(r.inject(r.ib, &back), Outcome::Forwarded(r.ia));
    assert_eq!(r.sent(r.ia)[0].1[7], 1);
    r.assert_pool_full();
}

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

#[test]
fn malformed_packets_are_counted_drops() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    let good = echo_request(host_a(), ip("2001:db8:1::1"), 64, b"abc");
    let mut cases: Vec<(Vec<u8>, DropReason)> = vec![];
    cases.push((good[..39].to_vec(), DropReason::BadHeader));
    let mut v4 = good.clone();
    v4[0] = 0x45;
    cases.push((v4, DropReason::BadHeader));
    cases.push((good[..good.len() - 1].to_vec(), DropReason::Truncated));
    let mut bad_sum = good.clone();
    *bad_sum.last_mut().unwrap() ^= 1;
    cases.push((bad_sum, DropReason::BadIcmp));
    cases.push((
        echo_request(ip("ff02::1"), ip("2001:db8:1::1"), 64, b""),
        DropReason::BadSource,
    ));
    cases.push((
        echo_request(ip("::1"), ip("2001:db8:1::1"), 64, b""),
        DropReason::BadSource,
    ));
    cases.push((
        udp(ip("::"), ip("2001:db8:1::1"), 64, b""),
        DropReason::BadSource,
    ));
    cases.push((udp(host_a(), ip("::"), 64, b""), DropReason::BadDestination));
    let mut jumbo = ipv6(
        host_a(),
        host_b(),
        IpProtocol::HopByHop,
        64,
        &[17, 0, 0xc2, 4, 0, 0, 0, 0],
    );
    jumbo[4] = 0;
    jumbo[5] = 0;
    cases.push((jumbo, DropReason::BadExtensionHeader));
    for (i, (pkt, reason)) in cases.iter().enumerate() {
        assert_eq!(r.inject(r.ia, pkt), Outcome::Dropped(*reason), "case {i}");
    }
    // Trailing link-layer padding is trimmed, not an error.
    let mut padded = good.clone();
    padded.extend_from_slice(&[0; 6]);
    assert_eq!(r.inject(r.ia, &padded), Outcome::Delivered);
    assert_eq!(
        parse_icmp(&r.sent(r.ia)[0].1).0.payload_len,
        good.len() - 40
    );
    // A frame the L2 rejects (too short, wrong link destination) is counted as an L2 drop.
    let h = r.st.pool_mut().alloc_from(&[1, 2]).unwrap();
    assert_eq!(
        r.st.receive(T0, r.ia, &mut r.a, h),
        Outcome::Dropped(DropReason::L2)
    );
    assert_eq!(
        r.inject_from(r.ia, [0, 5], [0, 7], &good, T0),
        Outcome::Dropped(DropReason::L2)
    );
    let s = r.st.stats(r.ia).unwrap();
    assert_eq!(s.dropped(DropReason::L2), 2);
    assert_eq!(s.dropped(DropReason::BadSource), 3);
    assert_eq!(r.a.stats.rx_filtered, 1);
    r.assert_pool_full();
}

#[test]
fn strict_priority_and_tail_drop() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    let with_dscp = |dscp: u8, tag: u8| {
        let mut p = udp(host_a(), host_b(), 64, &[tag]);
        let tc = dscp << 2;
        p[0] = 0x60 | (tc >> 4);
        p[1] = (tc << 4) | (p[1] & 0x0f);
        p
    };
    // Best effort, then background (CS1), then expedited forwarding (EF).
    assert_eq!(r.inject(r.ia, &with_dscp(0, 1)), Outcome::Forwarded(r.ib));
    assert_eq!(r.inject(r.ia, &with_dscp(8, 2)), Outcome::Forwarded(r.ib));
    assert_eq!(r.inject(r.ia, &with_dscp(46, 3)), Outcome::Forwarded(r.ib));
    let order: Vec<u8> = r
        .sent(r.ib)
        .iter()
        .map(|(_, p)| *p.last().unwrap())
        .collect();
    assert_eq!(order, vec![3, 1, 2], "EF first, background last");
    // The traffic class survives forwarding.
    assert_eq!(r.inject(r.ia, &with_dscp(46, 4)), Outcome::Forwarded(r.ib));
    assert_eq!(
        Ipv6Packet::new_checked(&r.sent(r.ib)[0].1[..])
            .unwrap()
            .traffic_class(),
        46 << 2
    );
    // Fill one class queue (depth 8): the ninth packet is tail-dropped and counted.
    for i in 0..8 {
        assert_eq!(r.inject(r.ia, &with_dscp(0, i)), Outcome::Forwarded(r.ib));
    }
    assert_eq!(
        r.inject(r.ia, &with_dscp(0, 9)),
        Outcome::Dropped(DropReason::QueueFull)
    );
    assert_eq!(
        r.inject(r.ia, &with_dscp(46, 9)),
        Outcome::Forwarded(r.ib),
        "other classes unaffected"
    );
    assert_eq!(r.st.stats(r.ib).unwrap().dropped(DropReason::QueueFull), 1);
    assert_eq!(r.sent(r.ib).len(), 9);
    r.assert_pool_full();
}

#[test]
fn pool_exhaustion_is_counted_not_fatal() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    let mut held = vec![];
    while let Ok(h) = r.st.pool_mut().alloc() {
        held.push(h);
    }
    assert_eq!(held.len(), 16);
    assert!(r.st.pool_mut().alloc().is_err());
    assert_eq!(r.st.pool_stats().exhausted, 2);
    // Errors are built in place, so even with one buffer per packet the router answers.
    let last = held.pop().unwrap();
    r.st.pool_mut().free(last);
    let pkt = udp(host_a(), host_b(), 1, b"x");
    assert_eq!(r.inject(r.ia, &pkt), Outcome::Dropped(DropReason::HopLimit));
    assert_eq!(r.sent(r.ia).len(), 1);
    for h in held {
        r.st.pool_mut().free(h);
    }
    r.assert_pool_full();
}

#[test]
fn handlers_get_their_packets_and_can_answer() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    let nd =
        r.st.register_handler(
            Match::Icmpv6 {
                first: 133,
                last: 137,
            },
            None,
        )
        .unwrap();
    let coap =
        r.st.register_handler(Match::Udp(61616), Some(r.ib))
            .unwrap();
    // Router solicitation from the unspecified address to all-routers: for the ND handler.
    let rs = [133u8, 0, 0, 0, 0, 0, 0, 0];
    let mut icmp = rs.to_vec();
    netif::icmp::fill_checksum(&mut icmp, &Ipv6Addr::UNSPECIFIED, &netif::addr::ALL_ROUTERS);
    let pkt = ipv6(
        Ipv6Addr::UNSPECIFIED,
        netif::addr::ALL_ROUTERS,
        IpProtocol::Icmpv6,
        255,
        &icmp,
    );
    match r.inject(r.ia, &pkt) {
        Outcome::Local(d) => {
            assert_eq!(
                (d.handler, d.iface, d.upper_offset, d.protocol),
                (nd, r.ia, 40, 58)
            );
            // The handler answers on the same link (here: echoes the packet to all-nodes).
            let h = d.packet;
            r.st.pool_mut().data_mut(&h)[24..40].copy_from_slice(&netif::addr::ALL_NODES.octets());
            r.st.pool_mut().data_mut(&h)[8..24].copy_from_slice(&ip("fe80::ff:fe00:1").octets());
            assert_eq!(r.st.send_on(T0, r.ia, netif::addr::ALL_NODES, h), Ok(r.ia));
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(r.sent(r.ia)[0].0, dummy::BROADCAST);
    // UDP 61616 on eth0 goes to its handler; on wpan0 it is a port unreachable.
    let to_b = udp(host_b(), ip("2001:db8:2::1"), 64, b"x");
    match r.inject(r.ib, &to_b) {
        Outcome::Local(d) => {
            assert_eq!(d.handler, coap);
            r.st.pool_mut().free(d.packet);
        }
        o => panic!("{o:?}"),
    }
    let to_a = udp(host_a(), ip("2001:db8:1::1"), 64, b"x");
    assert_eq!(
        r.inject(r.ia, &to_a),
        Outcome::Dropped(DropReason::NoHandler)
    );
    // A handler's packet with no route is dropped and counted against no interface.
    let lost = udp(ip("2001:db8:1::1"), ip("2001:db8:99::1"), 64, b"x");
    let lost = r.st.pool_mut().alloc_from(&lost).unwrap();
    assert_eq!(r.st.send(T0, lost), Err(DropReason::NoRoute));
    assert_eq!(r.st.core_stats().local_unsent, 1);
    r.sent(r.ia);
    r.assert_pool_full();
}

#[test]
fn events_addresses_routes_and_lifetimes() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    let mut evs = vec![];
    while let Some(e) = r.st.pop_event() {
        evs.push(e);
    }
    let p1 = Prefix::new(ip("2001:db8:1::"), 64).unwrap();
    assert!(evs.contains(&Event::IfaceUp(r.ia)));
    assert!(evs.contains(&Event::AddrAdded(r.ia, ip("fe80::ff:fe00:1"))));
    assert!(evs.contains(&Event::AddrAdded(r.ia, ip("2001:db8:1::1"))));
    assert!(evs.contains(&Event::RouteAdded(p1, Some(r.ia))));
    // Joined groups: all-nodes, all-routers, and one solicited-node group per address.
    let groups: Vec<Ipv6Addr> =
        r.st.iface(r.ia)
            .unwrap()
            .multicast_groups()
            .iter()
            .map(|g| g.addr)
            .collect();
    for g in ["ff02::1", "ff02::2", "ff02::1:ff00:1"] {
        assert!(groups.contains(&ip(g)), "{g} in {groups:?}");
    }
    // fe80::ff:fe00:1 and 2001:db8:1::1 share ff02::1:ff00:1: reference counted.
    assert_eq!(
        r.st.iface(r.ia)
            .unwrap()
            .multicast_groups()
            .iter()
            .find(|g| g.addr == ip("ff02::1:ff00:1"))
            .unwrap()
            .refs,
        2
    );
    // An address with lifetimes: deprecated, then removed with its connected route.
    let life = Lifetimes {
        valid: Some(netif::Duration::from_secs(20)),
        preferred: Some(netif::Duration::from_secs(10)),
    };
    r.st.add_addr(
        T0,
        r.ib,
        ip("2001:db8:3::1"),
        64,
        life,
        AddrState::Preferred,
    )
    .unwrap();
    let p3 = Prefix::new(ip("2001:db8:3::"), 64).unwrap();
    r.st.poll(T0 + netif::Duration::from_secs(10));
    r.st.poll(T0 + netif::Duration::from_secs(20));
    let evs: Vec<Event> = std::iter::from_fn(|| r.st.pop_event()).collect();
    assert_eq!(
        evs,
        vec![
            Event::AddrAdded(r.ib, ip("2001:db8:3::1")),
            Event::RouteAdded(p3, Some(r.ib)),
            Event::AddrDeprecated(r.ib, ip("2001:db8:3::1")),
            Event::AddrRemoved(r.ib, ip("2001:db8:3::1")),
            Event::RouteRemoved(p3, Some(r.ib)),
        ]
    );
    assert!(r.st.lookup_route(&ip("2001:db8:3::5"), T0).is_none());
    // Static and default routes; a learned route with a lifetime expires.
    let mut learned = Route::new(Prefix::DEFAULT, r.ib, Some(ip("fe80::ff:fe00:9")));
    learned.origin = netif::RouteOrigin::Learned;
    learned.expires = Some(T0 + netif::Duration::from_secs(30));
    r.st.add_route(learned).unwrap();
    assert_eq!(
        r.inject(r.ia, &udp(host_a(), ip("2001:4860::8888"), 64, b"x")),
        Outcome::Forwarded(r.ib)
    );
    assert_eq!(
        r.sent(r.ib)[0].0,
        [0, 9],
        "sent to the gateway's link address"
    );
    r.st.poll(T0 + netif::Duration::from_secs(30));
    assert_eq!(
        r.st.pop_event(),
        Some(Event::RouteAdded(Prefix::DEFAULT, Some(r.ib)))
    );
    assert_eq!(
        r.st.pop_event(),
        Some(Event::RouteRemoved(Prefix::DEFAULT, Some(r.ib)))
    );
    // Interface down: events, queued packets freed, traffic dropped and counted.
    assert_eq!(
        r.inject(r.ia, &udp(host_a(), host_b(), 64, b"x")),
        Outcome::Forwarded(r.ib)
    );
    r.st.set_admin(T0, r.ib, &mut r.b, false).unwrap();
    assert_eq!(r.st.pop_event(), Some(Event::IfaceDown(r.ib)));
    r.assert_pool_full();
    assert_eq!(
        r.inject(r.ia, &udp(host_a(), host_b(), 64, b"x")),
        Outcome::Dropped(DropReason::IfaceDown)
    );
    r.sent(r.ia);
    r.assert_pool_full();
    // A tentative address takes no traffic but ND.
    r.st.add_addr(
        T0,
        r.ia,
        ip("2001:db8:1::77"),
        64,
        Lifetimes::INFINITE,
        AddrState::Tentative,
    )
    .unwrap();
    assert_eq!(
        r.inject(r.ia, &echo_request(host_a(), ip("2001:db8:1::77"), 64, b"")),
        Outcome::Dropped(DropReason::BadDestination)
    );
    r.assert_pool_full();
}
