//! The RPL root role of the border router, driven with real bytes and no simulator (the
//! harness of `lbr.rs`): what nodes send is built with smoltcp's RPL wire types, a reference
//! we did not write, and what the border router sends is read back with them.

#[path = "lbr/harness.rs"]
#[allow(dead_code)] // the registration helpers serve lbr.rs
mod harness;
#[path = "lbr/node.rs"]
#[allow(dead_code)]
mod node;
#[path = "lbr/sent.rs"]
#[allow(dead_code)]
mod sent;

use std::net::Ipv6Addr;

use firmware::config::{Config, RplMop};
use firmware::registry::Origin;
use firmware::root::ALL_RPL_NODES;
use l2_15_4::frame::Address;
use netif::{Duration, Instant};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv6Packet, Ipv6Repr, RplInstanceId, RplOptionPacket,
    RplOptionRepr, RplRepr, UdpPacket, UdpRepr,
};

use harness::Harness;
use node::{MESH, Node, addr, at, iid};
use sent::Sent;

const RPL: u8 = 155;
const INSTANCE: u8 = 30;

/// An RPL message from `src` to `dst`, built by smoltcp with its options.
fn rpl_packet(src: Ipv6Addr, dst: Ipv6Addr, repr: RplRepr<'_>) -> Vec<u8> {
    let icmp = Icmpv6Repr::Rpl(repr);
    let mut body = vec![0u8; icmp.buffer_len()];
    icmp.emit(
        &src,
        &dst,
        &mut Icmpv6Packet::new_unchecked(&mut body[..]),
        &ChecksumCapabilities::default(),
    );
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmpv6,
        payload_len: body.len(),
        hop_limit: 64,
    };
    let mut buf = vec![0u8; 40 + body.len()];
    ip.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
    buf[40..].copy_from_slice(&body);
    buf
}

/// smoltcp options, one after another.
fn options(opts: &[RplOptionRepr<'_>]) -> Vec<u8> {
    let mut v = Vec::new();
    for o in opts {
        let mut b = vec![0u8; o.buffer_len()];
        o.emit(&mut RplOptionPacket::new_unchecked(&mut b[..]));
        v.extend_from_slice(&b);
    }
    v
}

fn target(a: Ipv6Addr) -> RplOptionRepr<'static> {
    RplOptionRepr::RplTarget {
        prefix_length: 128,
        prefix: a,
    }
}

fn transit(seq: u8, lifetime: u8, parent: Option<Ipv6Addr>) -> RplOptionRepr<'static> {
    RplOptionRepr::TransitInformation {
        external: false,
        path_control: 0,
        path_sequence: seq,
        path_lifetime: lifetime,
        parent_address: parent,
    }
}

fn dao(opts: &[u8], seq: u8) -> RplRepr<'_> {
    RplRepr::DestinationAdvertisementObject {
        rpl_instance_id: RplInstanceId::Global(INSTANCE),
        expect_ack: true,
        sequence: seq,
        dodag_id: None,
        options: opts,
    }
}

/// The RPL messages the border router sent since `since`, parsed by smoltcp.
fn sent_rpl(h: &Harness, since: Instant) -> Vec<(Sent, RplRepr<'static>)> {
    h.sent_icmp(RPL, since)
        .into_iter()
        .map(|s| {
            let icmp: &'static [u8] = Box::leak(s.icmp().unwrap().to_vec().into_boxed_slice());
            let p = Icmpv6Packet::new_checked(icmp).unwrap();
            assert!(
                p.verify_checksum(&s.src(), &s.dst()),
                "smoltcp verifies the checksum"
            );
            let r = RplRepr::parse(&p).expect("smoltcp reads every RPL message we send");
            (s, r)
        })
        .collect()
}

fn dao_acks(h: &Harness, since: Instant) -> Vec<(Ipv6Addr, u8, u8)> {
    sent_rpl(h, since)
        .into_iter()
        .filter_map(|(s, r)| match r {
            RplRepr::DestinationAdvertisementObjectAck {
                sequence, status, ..
            } => Some((s.dst(), sequence, status)),
            _ => None,
        })
        .collect()
}

fn stats(h: &Harness) -> firmware::root::RootStats {
    h.app.root().stats()
}

#[test]
fn dios_follow_trickle_with_the_dodag_configuration_and_the_prefix() {
    let mut h = Harness::new();
    h.run_until(at(70_000));
    let dios: Vec<_> = sent_rpl(&h, Instant::ZERO)
        .into_iter()
        .filter(|(_, r)| matches!(r, RplRepr::DodagInformationObject { .. }))
        .collect();
    // Imin 2^12 ms = 4.1 s: intervals of 4.1, 8.2, 16.4, 32.8 s end at 61.4 s, one DIO each,
    // and one more in the fifth interval only if it falls before 70 s.
    assert!(
        (4..=5).contains(&dios.len()),
        "{} DIOs in 70 s: {:?}",
        dios.len(),
        dios.iter().map(|(s, _)| s.at).collect::<Vec<_>>()
    );
    let gaps: Vec<u64> = dios
        .windows(2)
        .map(|w| (w[1].0.at - w[0].0.at).as_millis())
        .collect();
    assert!(
        gaps.windows(2).all(|g| g[1] + 4_096 >= g[0]),
        "intervals grow: {gaps:?}"
    );
    let (s, r) = &dios[0];
    assert_eq!(s.dst(), ALL_RPL_NODES);
    assert_eq!(s.src(), h.br_link_local());
    assert_eq!(s.ll_dst, Some(Address::BROADCAST));
    let RplRepr::DodagInformationObject {
        rpl_instance_id,
        version_number,
        rank,
        grounded,
        mode_of_operation,
        dtsn,
        dodag_id,
        options,
        ..
    } = *r
    else {
        unreachable!()
    };
    assert_eq!(rpl_instance_id, RplInstanceId::Global(INSTANCE));
    assert_eq!(
        (version_number, rank, grounded, dtsn),
        (240, 256, true, 240)
    );
    assert_eq!(format!("{mode_of_operation:?}"), "NonStoringMode");
    assert_eq!(dodag_id, h.br_global());
    let mut o = options;
    let mut seen = Vec::new();
    while !o.is_empty() {
        let r = RplOptionRepr::parse(&RplOptionPacket::new_checked(o).unwrap()).unwrap();
        o = &o[r.buffer_len()..];
        seen.push(r);
    }
    assert_eq!(
        seen[0],
        RplOptionRepr::DodagConfiguration {
            authentication_enabled: false,
            path_control_size: 0,
            dio_interval_doublings: 8,
            dio_interval_min: 12,
            dio_redundancy_constant: 10,
            max_rank_increase: 768,
            minimum_hop_rank_increase: 256,
            objective_code_point: 0,
            default_lifetime: 30,
            lifetime_unit: 60,
        }
    );
    let RplOptionRepr::PrefixInformation {
        prefix_length,
        on_link,
        autonomous_address_configuration,
        router_address,
        destination_prefix,
        ..
    } = seen[1]
    else {
        panic!("{:?}", seen[1]);
    };
    assert_eq!(
        (
            prefix_length,
            on_link,
            autonomous_address_configuration,
            router_address
        ),
        (64, false, true, true)
    );
    assert_eq!(destination_prefix, &h.br_global().octets()[..]);
    assert_eq!(stats(&h).dio_tx as usize, dios.len());
    h.assert_pool();
}

#[test]
fn a_unicast_dis_gets_a_unicast_dio_and_a_multicast_one_resets_trickle() {
    let mut h = Harness::new();
    h.run_until(at(200_000));
    let node = Node::new(1);
    let t0 = h.now;
    let dis = RplRepr::DodagInformationSolicitation { options: &[] };
    let to = h.to_br();
    h.send(
        node.eui,
        to,
        &rpl_packet(node.link_local(), h.br_link_local(), dis),
    );
    let answers: Vec<_> = sent_rpl(&h, t0)
        .into_iter()
        .filter(|(s, _)| s.dst() == node.link_local())
        .collect();
    assert_eq!(answers.len(), 1, "one unicast DIO within 100 ms");
    assert!(matches!(
        answers[0].1,
        RplRepr::DodagInformationObject { .. }
    ));
    assert_eq!(answers[0].0.ll_dst, Some(node.ll()));
    // Trickle is at a long interval by now; a multicast DIS brings a DIO within Imin.
    let t1 = h.now;
    h.send(
        node.eui,
        Address::BROADCAST,
        &rpl_packet(node.link_local(), ALL_RPL_NODES, dis),
    );
    h.run_for(Duration::from_millis(4_096));
    let multicast = sent_rpl(&h, t1)
        .into_iter()
        .filter(|(s, _)| s.dst() == ALL_RPL_NODES)
        .count();
    assert_eq!(multicast, 1, "a DIO within Imin of the multicast DIS");
    assert_eq!(stats(&h).dis_rx, 2);
}

#[test]
fn a_storing_mode_dao_installs_a_route_via_the_child_and_is_acknowledged() {
    let mut cfg = Config::default();
    cfg.rpl.mop = RplMop::Storing;
    let mut h = Harness::with_config(cfg);
    h.run_until(at(1_000));
    let child = Node::new(7);
    let grandchild = addr(MESH, iid(Node::new(8).eui));
    let t0 = h.now;
    let opts = options(&[
        target(child.global()),
        target(grandchild),
        transit(240, 30, None),
    ]);
    // RIOT's routers send this: link-local source, to the parent's link-local address.
    let to = h.to_br();
    h.send(
        child.eui,
        to,
        &rpl_packet(child.link_local(), h.br_link_local(), dao(&opts, 11)),
    );
    assert_eq!(dao_acks(&h, t0), vec![(child.link_local(), 11, 0)]);
    let reg = h.app.wpan().registry();
    for a in [child.global(), grandchild] {
        let e = reg.lookup(&a).unwrap();
        assert_eq!(
            e.neighbour(),
            Some(child.ll()),
            "{a} forwarded to the child"
        );
        let t = e.target.unwrap();
        assert!(t.storing);
        assert!(
            t.expires >= t0 + Duration::from_secs(1800)
                && t.expires <= h.now + Duration::from_secs(1801),
            "30 units of 60 s, rounded up to the second: {:?}",
            t.expires
        );
    }
    let topo: Vec<_> = h.app.topology().collect();
    assert_eq!(topo.len(), 2);
    assert!(
        topo.iter()
            .all(|n| n.storing && n.lifetime_s > 1790 && n.lifetime_s <= 1800)
    );
    // No-Path for the grandchild: gone, and the event says so.
    let t1 = h.now;
    let opts = options(&[target(grandchild), transit(241, 0, None)]);
    h.send(
        child.eui,
        to,
        &rpl_packet(child.link_local(), h.br_link_local(), dao(&opts, 12)),
    );
    assert_eq!(dao_acks(&h, t1), vec![(child.link_local(), 12, 0)]);
    assert!(h.app.wpan().registry().lookup(&grandchild).is_none());
    assert_eq!(stats(&h).dao_rx, 2);
    h.assert_pool();
}

/// A RIOT router one hop from the root advertises itself and the routers below it in its
/// storing-mode DAOs (found with `tests/riot_rpl.rs`). The root knows only the next hop:
/// the router itself is a child of the root (depth 1), a target advertised through it hangs
/// off it, named by its address in the mesh prefix, at an unknown depth.
#[test]
fn storing_mode_topology_puts_the_sender_under_the_root_and_its_targets_under_it() {
    let mut cfg = Config::default();
    cfg.rpl.mop = RplMop::Storing;
    let mut h = Harness::with_config(cfg);
    h.run_until(at(1_000));
    let (a, b) = (Node::new(7), Node::new(8));
    let opts = options(&[
        target(b.global()),
        transit(240, 30, None),
        target(a.global()),
        transit(240, 30, None),
    ]);
    let to = h.to_br();
    h.send(
        a.eui,
        to,
        &rpl_packet(a.link_local(), h.br_link_local(), dao(&opts, 1)),
    );
    let topo: Vec<_> = h.app.topology().collect();
    let node = |x: Ipv6Addr| *topo.iter().find(|t| t.addr == x).unwrap();
    assert_eq!(node(a.global()).parent, None, "{topo:?}");
    assert_eq!(node(a.global()).depth, Some(1), "{topo:?}");
    assert_eq!(node(b.global()).parent, Some(a.global()), "{topo:?}");
    assert_eq!(node(b.global()).depth, None, "{topo:?}");
}

#[test]
fn non_storing_daos_build_a_parent_chain_shown_by_the_topology() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let (n1, n2, n3) = (Node::new(1), Node::new(2), Node::new(3));
    let root = h.br_global();
    let to = h.to_br();
    // n1 is a neighbour (parent: the root); n2 hangs off n1 and n3 off n2. Their DAOs reach
    // the root through n1 (the frame's source), from their global addresses.
    for (n, parent) in [(n1, root), (n2, n1.global()), (n3, n2.global())] {
        let opts = options(&[target(n.global()), transit(240, 30, Some(parent))]);
        let mut d = dao(&opts, 1);
        if let RplRepr::DestinationAdvertisementObject { expect_ack, .. } = &mut d {
            *expect_ack = false;
        }
        h.send(n1.eui, to, &rpl_packet(n.global(), root, d));
    }
    let route = h.app.wpan().registry().source_route(&n3.global()).unwrap();
    assert_eq!(route.first_hop, n1.ll());
    assert_eq!(
        route.hops.as_slice(),
        &[n1.global(), n2.global(), n3.global()]
    );
    let topo: Vec<_> = h.app.topology().collect();
    let depth = |a: Ipv6Addr| topo.iter().find(|t| t.addr == a).unwrap();
    assert_eq!(depth(n1.global()).depth, Some(1));
    assert_eq!(depth(n1.global()).parent, None);
    assert_eq!(depth(n3.global()).depth, Some(3));
    assert_eq!(depth(n3.global()).parent, Some(n2.global()));
    assert_eq!(
        h.app.wpan().registry().lookup(&n3.global()).unwrap().origin,
        Origin::Dao
    );
    // A cycle: n1 claims n3 as its parent. Refused with status 128, the old path stays.
    let t0 = h.now;
    let opts = options(&[target(n1.global()), transit(241, 30, Some(n3.global()))]);
    h.send(n1.eui, to, &rpl_packet(n1.global(), root, dao(&opts, 2)));
    assert_eq!(dao_acks(&h, t0), vec![(n1.global(), 2, 128)]);
    assert_eq!(stats(&h).dao_rejected, 1);
    assert_eq!(h.app.wpan().registry().target_stats().cycles, 1);
    assert!(h.app.wpan().registry().source_route(&n3.global()).is_some());
}

#[test]
fn a_full_table_and_a_foreign_target_are_rejected_never_dropped_silently() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let n1 = Node::new(1);
    let root = h.br_global();
    let to = h.to_br();
    // Outside the mesh prefix: 0xc8 (E, A, ND status 8: topologically incorrect).
    let t0 = h.now;
    let foreign: Ipv6Addr = "2001:db8:99::1".parse().unwrap();
    let opts = options(&[target(foreign), transit(1, 30, None)]);
    h.send(
        n1.eui,
        to,
        &rpl_packet(n1.link_local(), h.br_link_local(), dao(&opts, 1)),
    );
    assert_eq!(dao_acks(&h, t0), vec![(n1.link_local(), 1, 0xc8)]);
    // 256 targets fill the table, 8 per DAO; the next one gets 0xc2 (ND status 2, full).
    let cap = h.app.wpan().registry().capacity();
    let mut k = 0u16;
    let mut seq = 2u8;
    while usize::from(k) < cap {
        let targets: Vec<_> = (0..8)
            .map(|j| {
                let a = addr(MESH, [0, 0, 0, 0, 0, 1, 0, 0]).to_bits() + u128::from(k + j);
                target(Ipv6Addr::from(a))
            })
            .collect();
        let mut all = targets.clone();
        all.push(transit(1, 30, None));
        let opts = options(&all);
        let t = h.now;
        h.send(
            n1.eui,
            to,
            &rpl_packet(n1.link_local(), h.br_link_local(), dao(&opts, seq)),
        );
        assert_eq!(
            dao_acks(&h, t),
            vec![(n1.link_local(), seq, 0)],
            "DAO {seq}"
        );
        seq = seq.wrapping_add(1);
        k += 8;
    }
    let t1 = h.now;
    let opts = options(&[target(addr(MESH, [9; 8])), transit(1, 30, None)]);
    h.send(
        n1.eui,
        to,
        &rpl_packet(n1.link_local(), h.br_link_local(), dao(&opts, seq)),
    );
    assert_eq!(dao_acks(&h, t1), vec![(n1.link_local(), seq, 0xc2)]);
    assert_eq!(stats(&h).dao_rejected, 2);
    let _ = root;
    h.assert_pool();
}

#[test]
fn malformed_or_foreign_rpl_messages_are_counted_and_unanswered() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let n1 = Node::new(1);
    let to = h.to_br();
    let t0 = h.now;
    // Targets without a Transit Information option.
    let opts = options(&[target(n1.global())]);
    h.send(
        n1.eui,
        to,
        &rpl_packet(n1.link_local(), h.br_link_local(), dao(&opts, 1)),
    );
    // Another instance.
    let opts = options(&[target(n1.global()), transit(1, 30, None)]);
    let mut other = dao(&opts, 2);
    if let RplRepr::DestinationAdvertisementObject {
        rpl_instance_id, ..
    } = &mut other
    {
        *rpl_instance_id = RplInstanceId::Global(7);
    }
    h.send(
        n1.eui,
        to,
        &rpl_packet(n1.link_local(), h.br_link_local(), other),
    );
    // A bad checksum: the core drops it before the root sees it (bad_icmp).
    let wpan = h.app.wpan_index();
    let bad_icmp = |h: &Harness| {
        h.app
            .iface_stats(wpan)
            .unwrap()
            .dropped(netif::DropReason::BadIcmp)
    };
    let before = bad_icmp(&h);
    let mut bad = rpl_packet(n1.link_local(), h.br_link_local(), dao(&opts, 3));
    bad[43] ^= 0xff;
    h.send(n1.eui, to, &bad);
    assert_eq!(bad_icmp(&h), before + 1);
    assert!(dao_acks(&h, t0).is_empty());
    assert!(h.app.wpan().registry().lookup(&n1.global()).is_none());
    assert_eq!(stats(&h).rx_invalid, 2, "{:?}", stats(&h));
    h.assert_pool();
}

#[test]
fn a_disabled_root_sends_no_dio_and_ignores_rpl() {
    let mut cfg = Config::default();
    cfg.rpl.enabled = false;
    let mut h = Harness::with_config(cfg);
    h.run_until(at(60_000));
    assert!(sent_rpl(&h, Instant::ZERO).is_empty());
    let n1 = Node::new(1);
    let opts = options(&[target(n1.global()), transit(1, 30, None)]);
    let to = h.to_br();
    h.send(
        n1.eui,
        to,
        &rpl_packet(n1.link_local(), h.br_link_local(), dao(&opts, 1)),
    );
    assert!(sent_rpl(&h, Instant::ZERO).is_empty());
    assert_eq!(stats(&h).rx_invalid, 1);
}

#[test]
fn a_packet_tunnelled_to_the_root_is_forwarded_by_its_inner_header() {
    // A backbone with a route to the host (on-link 2001:db8::/64).
    let cfg = Config {
        backbone: firmware::config::Backbone::Static {
            addr: "2001:db8::1".parse::<Ipv6Addr>().unwrap().octets(),
            prefix_len: 64,
            gateway: None,
        },
        ..Config::default()
    };
    let mut h = Harness::with_config(cfg);
    h.run_until(at(1_000));
    let n1 = Node::new(1);
    let backbone_host: Ipv6Addr = "2001:db8::99".parse().unwrap();
    // Inner: UDP from n1 to a backbone host.
    let udp = UdpRepr {
        src_port: 42001,
        dst_port: 42000,
    };
    let payload = b"reading";
    let mut inner = vec![0u8; 40 + 8 + payload.len()];
    let ip = Ipv6Repr {
        src_addr: n1.global(),
        dst_addr: backbone_host,
        next_header: IpProtocol::Udp,
        payload_len: 8 + payload.len(),
        hop_limit: 64,
    };
    ip.emit(&mut Ipv6Packet::new_unchecked(&mut inner[..]));
    udp.emit(
        &mut UdpPacket::new_unchecked(&mut inner[40..]),
        &n1.global().into(),
        &backbone_host.into(),
        payload.len(),
        |b| b.copy_from_slice(payload),
        &ChecksumCapabilities::default(),
    );
    let outer = Ipv6Repr {
        src_addr: n1.global(),
        dst_addr: h.br_global(),
        next_header: IpProtocol::IpSecEsp, // replaced below with 41 (IPv6-in-IPv6)
        payload_len: inner.len(),
        hop_limit: 64,
    };
    let mut pkt = vec![0u8; 40 + inner.len()];
    outer.emit(&mut Ipv6Packet::new_unchecked(&mut pkt[..]));
    pkt[6] = 41;
    pkt[40..].copy_from_slice(&inner);
    let eth = h.app.eth_index();
    let forwarded = |h: &Harness| h.app.iface_stats(eth).unwrap().forwarded;
    let before = forwarded(&h);
    let to = h.to_br();
    h.send(n1.eui, to, &pkt);
    assert_eq!(stats(&h).decapsulated, 1);
    assert_eq!(
        forwarded(&h),
        before + 1,
        "the inner packet went out of eth0"
    );
    // A tunnelled packet whose inner source is outside the mesh is refused by the mesh's
    // ingress rule, as if it had come in bare.
    let mut spoof = pkt.clone();
    spoof[40 + 8..40 + 24].copy_from_slice(&"2001:db8:77::1".parse::<Ipv6Addr>().unwrap().octets());
    h.send(n1.eui, to, &spoof);
    assert_eq!(stats(&h).decapsulated, 2);
    assert_eq!(
        forwarded(&h),
        before + 1,
        "refused by the mesh's ingress rule"
    );
    h.assert_pool();
}
