//! Two-interface router on dummy links: local delivery, forwarding, every RFC 4443 error the
//! core sends, traffic classes, queues, events and counters. Packets are built and checked
//! with smoltcp's wire module, an implementation independent of ours.
//!
//! The router and the packet builders are in `forwarding/harness.rs`; the ICMPv6 error tests in
//! `forwarding/icmp_errors.rs`, the events and lifetimes test in `forwarding/events.rs`. Here:
//! local delivery, forwarding, traffic classes and queues, handlers, counted drops.

#[path = "forwarding/events.rs"]
mod events;
#[path = "forwarding/harness.rs"]
mod harness;
#[path = "forwarding/icmp_errors.rs"]
mod icmp_errors;
#[path = "forwarding/ingress.rs"]
mod ingress;

use std::net::Ipv6Addr;

use netif::dummy;
use netif::{DropReason, Match, Outcome, StackConfig};
use smoltcp::wire::{Icmpv6Repr, IpProtocol, Ipv6Packet, UdpPacket};

use crate::harness::{Res, T0, echo_request, host_a, host_b, ip, ipv6, parse_icmp, router, udp};

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

/// An interface whose DSCP is not trusted (issue 19 #2: the backbone) cannot buy priority on
/// another link: its packets share the class of DSCP 0 and leave in arrival order, with their
/// traffic class unchanged.
#[test]
fn untrusted_dscp_queues_as_default_forwarding() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    r.st.set_trust_dscp(r.ia, false).unwrap();
    let with_dscp = |dscp: u8, tag: u8| {
        let mut p = udp(host_a(), host_b(), 64, &[tag]);
        let tc = dscp << 2;
        p[0] = 0x60 | (tc >> 4);
        p[1] = (tc << 4) | (p[1] & 0x0f);
        p
    };
    assert_eq!(r.inject(r.ia, &with_dscp(0, 1)), Outcome::Forwarded(r.ib));
    assert_eq!(r.inject(r.ia, &with_dscp(8, 2)), Outcome::Forwarded(r.ib));
    assert_eq!(r.inject(r.ia, &with_dscp(46, 3)), Outcome::Forwarded(r.ib));
    let sent = r.sent(r.ib);
    let order: Vec<u8> = sent.iter().map(|(_, p)| *p.last().unwrap()).collect();
    assert_eq!(order, vec![1, 2, 3], "one class: arrival order");
    assert_eq!(
        Ipv6Packet::new_checked(&sent[2].1[..])
            .unwrap()
            .traffic_class(),
        46 << 2,
        "the traffic class is carried, only not obeyed"
    );
    r.assert_pool_full();
}

/// A flood toward one link, spread over every traffic class (issue 19 #2), queues at most
/// `PACKETS - RX_RESERVE` packets there: the rest are tail-dropped as `QueueFull` although
/// their classes have room, and the buffers left let the other link's traffic through.
#[test]
fn one_links_queues_leave_the_receive_reserve() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    let pool = r.st.pool().capacity();
    let limit = pool - netif::config::RX_RESERVE;
    let with_dscp = |dscp: u8, tag: u8| {
        let mut p = udp(host_a(), host_b(), 64, &[tag]);
        let tc = dscp << 2;
        p[0] = 0x60 | (tc >> 4);
        p[1] = (tc << 4) | (p[1] & 0x0f);
        p
    };
    // Eight DSCPs in distinct classes of the default map: no class fills before the cap.
    let dscps = [0u8, 8, 18, 26, 34, 40, 46, 56];
    let mut queued = 0;
    for k in 0..pool {
        let dscp = dscps[k % dscps.len()];
        match r.inject(r.ia, &with_dscp(dscp, k as u8)) {
            Outcome::Forwarded(i) if i == r.ib => queued += 1,
            Outcome::Dropped(DropReason::QueueFull) => {}
            o => panic!("packet {k}: {o:?}"),
        }
    }
    assert_eq!(queued, limit, "queued toward B");
    assert_eq!(
        r.st.stats(r.ib).unwrap().dropped(DropReason::QueueFull) as usize,
        pool - limit
    );
    assert_eq!(r.st.pool().available(), pool - limit, "the reserve is free");
    // Traffic the other way still gets buffers, and is forwarded.
    let up = udp(host_b(), host_a(), 64, b"up");
    assert_eq!(r.inject(r.ib, &up), Outcome::Forwarded(r.ia));
    assert_eq!(r.sent(r.ia).len(), 1);
    assert_eq!(r.sent(r.ib).len(), limit);
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
