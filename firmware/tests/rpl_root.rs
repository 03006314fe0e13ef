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
use rpl::message::Message;
use rpl::option::{DodagConfiguration, Opt};
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
            // MRHOF (RFC 6719), the default objective.
            objective_code_point: 1,
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

/// A root that rebooted after global repairs starts again at version 240, which its nodes
/// hold older than the 241..=255 they still advertise, so they would ignore its DIOs. Hearing
/// a DIO of its own DODAG with a newer version, the root continues above it.
#[test]
fn a_root_that_hears_a_newer_version_of_its_dodag_continues_above_it() {
    let mut h = Harness::new();
    h.run_until(at(10_000));
    assert_eq!(h.app.root().version(), 240);
    let node = Node::new(1);
    let ours = h.br_global();
    let dio = move |version_number| RplRepr::DodagInformationObject {
        rpl_instance_id: RplInstanceId::Global(INSTANCE),
        version_number,
        rank: 512,
        grounded: true,
        mode_of_operation: Default::default(),
        dodag_preference: 0,
        dtsn: 240,
        dodag_id: ours,
        options: &[],
    };
    let to = Address::BROADCAST;
    // An older version (a node that has not followed yet) changes nothing.
    h.send(
        node.eui,
        to,
        &rpl_packet(node.link_local(), ALL_RPL_NODES, dio(239)),
    );
    assert_eq!(h.app.root().version(), 240);
    let t0 = h.now;
    h.send(
        node.eui,
        to,
        &rpl_packet(node.link_local(), ALL_RPL_NODES, dio(243)),
    );
    assert_eq!(h.app.root().version(), 244);
    // Announced at once (Trickle back to Imin), with a new DTSN.
    h.run_for(Duration::from_millis(4_096));
    let versions: Vec<(u8, u8)> = sent_rpl(&h, t0)
        .into_iter()
        .filter_map(|(_, r)| match r {
            RplRepr::DodagInformationObject {
                version_number,
                dtsn,
                ..
            } => Some((version_number, dtsn)),
            _ => None,
        })
        .collect();
    assert_eq!(versions, vec![(244, 241)]);
    // Another DODAG's version is none of our business.
    let mut other = dio(250);
    if let RplRepr::DodagInformationObject { dodag_id, .. } = &mut other {
        *dodag_id = "2001:db8:99::1".parse().unwrap();
    }
    h.send(
        node.eui,
        to,
        &rpl_packet(node.link_local(), ALL_RPL_NODES, other),
    );
    assert_eq!(h.app.root().version(), 244);
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

/// Each DIO's (version, DODAG Configuration) sent since `since`, read with our rpl crate, and
/// the DODAG Configuration option's Flags byte as smoltcp's option view holds it.
fn dio_configurations(
    h: &Harness,
    since: Instant,
) -> Vec<(u8, DodagConfiguration, RplOptionRepr<'static>, u8)> {
    sent_rpl(h, since)
        .into_iter()
        .filter(|(_, r)| matches!(r, RplRepr::DodagInformationObject { .. }))
        .map(|(s, r)| {
            let icmp: &'static [u8] = Box::leak(s.icmp().unwrap().to_vec().into_boxed_slice());
            let Ok(Message::Dio(dio, opts)) = Message::parse(icmp) else {
                panic!("our rpl crate reads the DIO: {icmp:02x?}");
            };
            let conf = opts
                .filter_map(|o| match o.unwrap() {
                    Opt::DodagConfiguration(c) => Some(c),
                    _ => None,
                })
                .next()
                .expect("a DODAG Configuration option");
            let RplRepr::DodagInformationObject { options, .. } = r else {
                unreachable!()
            };
            let p = RplOptionPacket::new_checked(options).unwrap();
            let smol = RplOptionRepr::parse(&p).unwrap();
            // Type, length, then the Flags|A|PCS byte (RFC 6550 §6.7.6, RFC 9035 §3).
            (dio.version, conf, smol, options[2])
        })
        .collect()
}

/// RFC 8138 on (RFC 9035): the root's DIOs carry the DODAG Configuration's T flag, and turning
/// it off (as `sixgate rpl set --rfc8138 off` does, through `App::set_rpl`) starts a new DODAG
/// version, so the nodes, which only take a DODAG Configuration from a new version, see it.
#[test]
fn the_dodag_configuration_says_whether_rfc8138_is_on() {
    let mut cfg = Config::default();
    cfg.rpl.rfc8138 = true;
    let mut h = Harness::with_config(cfg);
    h.run_until(at(5_000));
    let dios = dio_configurations(&h, Instant::ZERO);
    assert!(!dios.is_empty(), "a DIO within Imin");
    for (version, conf, smol, flags) in &dios {
        assert_eq!(*version, 240);
        assert!(conf.rfc8138, "T flag set: {conf:?}");
        assert_eq!(*flags, 0x20, "T is bit 2 of the Flags (0x20), A and PCS 0");
        // smoltcp 0.14 has no field for T: it reads the option as before, T ignored (so a
        // smoltcp node keeps joining; it just does not learn the setting).
        let RplOptionRepr::DodagConfiguration {
            authentication_enabled,
            path_control_size,
            minimum_hop_rank_increase,
            ..
        } = *smol
        else {
            panic!("{smol:?}");
        };
        assert_eq!(
            (
                authentication_enabled,
                path_control_size,
                minimum_hop_rank_increase
            ),
            (false, 0, 256)
        );
    }

    let t0 = h.now;
    let mut rpl = h.cfg().rpl;
    rpl.rfc8138 = false;
    h.app.set_rpl(h.now, rpl).unwrap();
    // The boards poll the App after every management request; Trickle restarts there.
    h.run_until(h.now);
    h.run_for(Duration::from_millis(4_096));
    let dios = dio_configurations(&h, t0);
    assert!(!dios.is_empty(), "a DIO within Imin of the change");
    for (version, conf, _, flags) in &dios {
        assert_eq!(*version, 241, "the change starts a new DODAG version");
        assert!(!conf.rfc8138, "T flag clear: {conf:?}");
        assert_eq!(*flags, 0);
    }
    // On again: another version.
    let t1 = h.now;
    let mut rpl = h.cfg().rpl;
    rpl.rfc8138 = true;
    h.app.set_rpl(h.now, rpl).unwrap();
    h.run_until(h.now);
    h.run_for(Duration::from_millis(4_096));
    let dios = dio_configurations(&h, t1);
    assert!(!dios.is_empty());
    assert!(
        dios.iter().all(|(v, c, _, _)| *v == 242 && c.rfc8138),
        "{dios:?}"
    );
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
    // Only a router of the DODAG tunnels to the root (RFC 9008 §7), and every one advertises
    // itself: before n1's DAO its tunnel is refused and counted.
    h.send(n1.eui, to, &pkt);
    assert_eq!((stats(&h).decapsulated, stats(&h).decap_dropped), (0, 1));
    assert_eq!(forwarded(&h), before);
    let root = h.br_global();
    let opts = options(&[target(n1.global()), transit(240, 30, Some(root))]);
    h.send(n1.eui, to, &rpl_packet(n1.global(), root, dao(&opts, 1)));
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

/// The non-storing chain root → n1 → n2 → n3 (n1 a neighbour of the root).
fn chain(h: &mut Harness) -> (Node, Node, Node) {
    let (n1, n2, n3) = (Node::new(1), Node::new(2), Node::new(3));
    let root = h.br_global();
    let to = h.to_br();
    for (n, parent) in [(n1, root), (n2, n1.global()), (n3, n2.global())] {
        let opts = options(&[target(n.global()), transit(240, 30, Some(parent))]);
        let mut d = dao(&opts, 1);
        if let RplRepr::DestinationAdvertisementObject { expect_ack, .. } = &mut d {
            *expect_ack = false;
        }
        h.send(n1.eui, to, &rpl_packet(n.global(), root, d));
    }
    (n1, n2, n3)
}

/// The outer headers of a tunnelled datagram, read by smoltcp: (RPL option bytes, SRH
/// addresses as smoltcp expands them against the outer destination, the inner packet).
fn untunnel(ip: &[u8]) -> (Vec<u8>, Vec<Ipv6Addr>, Vec<u8>) {
    use smoltcp::wire::{Ipv6ExtHeader, Ipv6RoutingHeader, Ipv6RoutingRepr};
    let outer = Ipv6Packet::new_checked(ip).unwrap();
    assert_eq!(outer.next_header(), IpProtocol::HopByHop);
    let dst = outer.dst_addr();
    let hbh = Ipv6ExtHeader::new_checked(outer.payload()).unwrap();
    assert_eq!(hbh.next_header(), IpProtocol::Ipv6Route);
    let hbh_len = (usize::from(hbh.header_len()) + 1) * 8;
    let rpi = outer.payload()[2..hbh_len].to_vec();
    let rest = &outer.payload()[hbh_len..];
    let rh = Ipv6ExtHeader::new_checked(rest).unwrap();
    assert_eq!(u8::from(rh.next_header()), 41, "IPv6-in-IPv6 after the SRH");
    let rh_len = (usize::from(rh.header_len()) + 1) * 8;
    let rh_hdr = Ipv6RoutingHeader::new_checked(rh.payload()).unwrap();
    let Ipv6RoutingRepr::Rpl {
        segments_left,
        cmpr_i,
        cmpr_e,
        pad,
        addresses,
    } = Ipv6RoutingRepr::parse(&rh_hdr).unwrap()
    else {
        panic!("not an RPL source route")
    };
    // Expand as RFC 6554 §3 says, against the outer destination.
    let per = 16 - usize::from(cmpr_i);
    let n = (addresses.len() - usize::from(pad) - (16 - usize::from(cmpr_e))) / per + 1;
    assert_eq!(usize::from(segments_left), n);
    let mut hops = Vec::new();
    for k in 0..n {
        let (c, start, len) = if k + 1 == n {
            (usize::from(cmpr_e), k * per, 16 - usize::from(cmpr_e))
        } else {
            (usize::from(cmpr_i), k * per, per)
        };
        let mut o = dst.octets();
        o[c..].copy_from_slice(&addresses[start..start + len]);
        hops.push(Ipv6Addr::from(o));
    }
    (rpi, hops, rest[rh_len..].to_vec())
}

#[test]
fn the_dao_ack_to_a_far_target_goes_down_a_source_routed_tunnel() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let (n1, n2, n3) = chain(&mut h);
    let t0 = h.now;
    let opts = options(&[target(n3.global()), transit(241, 30, Some(n2.global()))]);
    let to = h.to_br();
    h.send(
        n1.eui,
        to,
        &rpl_packet(n3.global(), h.br_global(), dao(&opts, 9)),
    );
    let sent: Vec<_> = h
        .sent_ip(t0)
        .into_iter()
        .filter(|s| s.dst() == n1.global())
        .collect();
    assert_eq!(sent.len(), 1, "one tunnelled datagram to the first hop");
    assert_eq!(sent[0].ll_dst, Some(n1.ll()));
    assert_eq!(sent[0].src(), h.br_global());
    let (rpi, hops, inner) = untunnel(&sent[0].ip);
    // RPL Option (RFC 9008 type 0x23): O (down), instance 30, the root's rank 256.
    assert_eq!(rpi[..6], [0x23, 4, 0x80, INSTANCE, 1, 0]);
    assert_eq!(hops, vec![n2.global(), n3.global()]);
    let inner = Ipv6Packet::new_checked(&inner[..]).unwrap();
    assert_eq!(
        (inner.src_addr(), inner.dst_addr()),
        (h.br_global(), n3.global())
    );
    let icmp = Icmpv6Packet::new_checked(inner.payload()).unwrap();
    assert!(icmp.verify_checksum(&inner.src_addr(), &inner.dst_addr()));
    assert!(matches!(
        RplRepr::parse(&icmp).unwrap(),
        RplRepr::DestinationAdvertisementObjectAck {
            sequence: 9,
            status: 0,
            ..
        }
    ));
    assert_eq!(h.app.wpan().stats().tx_tunnelled, 1);
    h.assert_pool();
}

#[test]
fn a_1280_byte_packet_goes_down_the_tunnel_whole() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let (n1, _n2, n3) = chain(&mut h);
    // n1 sends 1280 bytes to n3 through the root (a mesh-to-mesh packet the root must
    // tunnel down): with the tunnel's 40 + 8 + 16 bytes the mesh carries a 1344-byte
    // datagram (6LoWPAN fragments count to 2047, the packet buffers hold 1408): no Packet Too
    // Big, as a 1280-byte packet must cross an IPv6 link whole (RFC 8200 §5).
    let udp = UdpRepr {
        src_port: 1,
        dst_port: 2,
    };
    let payload = vec![0xa5u8; 1280 - 48];
    let mut pkt = vec![0u8; 1280];
    let ip = Ipv6Repr {
        src_addr: n1.global(),
        dst_addr: n3.global(),
        next_header: IpProtocol::Udp,
        payload_len: 1240,
        hop_limit: 64,
    };
    ip.emit(&mut Ipv6Packet::new_unchecked(&mut pkt[..]));
    udp.emit(
        &mut UdpPacket::new_unchecked(&mut pkt[40..]),
        &n1.global().into(),
        &n3.global().into(),
        payload.len(),
        |b| b.copy_from_slice(&payload),
        &ChecksumCapabilities::default(),
    );
    let t0 = h.now;
    let to = h.to_br();
    h.send(n1.eui, to, &pkt);
    assert!(
        h.sent_icmp(2, t0).is_empty(),
        "no Packet Too Big for a 1280-byte packet"
    );
    let over = firmware::wpan::tunnel_overhead(&[n1.global(), Node::new(2).global(), n3.global()])
        .unwrap();
    assert_eq!(
        over,
        40 + 8 + 16,
        "the chain's addresses share 15 bytes: one byte each"
    );
    let down: Vec<_> = h
        .sent_ip(t0)
        .into_iter()
        .filter(|s| s.ip.len() == 1280 + over)
        .collect();
    assert_eq!(down.len(), 1, "the tunnelled packet, {} bytes", 1280 + over);
    let (_, hops, inner) = untunnel(&down[0].ip);
    // Byte for byte, but for the hop limit the root's forwarding took one from.
    let mut expect = pkt.clone();
    expect[7] -= 1;
    assert!(inner == expect, "the packet inside");
    assert_eq!(hops.last(), Some(&n3.global()));
    h.assert_pool();
}

/// What the tunnel costs on the air: the tunnelled DAO-ACK compressed by sixlo against the
/// same DAO-ACK sent bare (as to a neighbour), in bytes of 6LoWPAN payload. Printed for
/// docs/rpl.md; the assertion bounds it.
#[test]
fn the_tunnel_costs_a_few_dozen_bytes_after_compression() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let (n1, n2, n3) = chain(&mut h);
    let t0 = h.now;
    let opts = options(&[target(n3.global()), transit(241, 30, Some(n2.global()))]);
    let to = h.to_br();
    h.send(
        n1.eui,
        to,
        &rpl_packet(n3.global(), h.br_global(), dao(&opts, 9)),
    );
    let sent = h
        .sent_ip(t0)
        .into_iter()
        .find(|s| s.dst() == n1.global())
        .unwrap();
    let (_, _, inner) = untunnel(&sent.ip);
    let ctx = h.app.wpan().contexts().clone();
    let compress = |ip: &[u8], dst: Address| {
        let mut out = [0u8; 1400];
        sixlo::compress(
            ip,
            &sixlo::LinkAddr::Extended(h.br_eui()),
            &sixlo::LinkAddr::from(dst),
            &ctx,
            sixlo::CompressOptions::default(),
            &mut out,
        )
        .unwrap()
    };
    let tunnelled = compress(&sent.ip, n1.ll());
    let bare = compress(&inner, Node::new(3).ll());
    eprintln!(
        "DAO-ACK to a 3-hop target: {} bytes uncompressed tunnelled, {} compressed tunnelled, \
         {} compressed bare: the tunnel costs {} bytes",
        sent.ip.len(),
        tunnelled,
        bare,
        tunnelled - bare
    );
    assert!(
        tunnelled > bare && tunnelled - bare <= 40,
        "{tunnelled} vs {bare}"
    );
}

/// A UDP packet from `src` to `dst` with a hop-by-hop header holding the RPL Option of
/// RFC 6553 (0x63, as RIOT sends it) with `flags`, instance 30, sender rank 512.
fn udp_with_rpi(src: Ipv6Addr, dst: Ipv6Addr, flags: u8) -> Vec<u8> {
    let payload = b"reading";
    let mut udp = vec![0u8; 8 + payload.len()];
    UdpRepr {
        src_port: 42001,
        dst_port: 42000,
    }
    .emit(
        &mut UdpPacket::new_unchecked(&mut udp[..]),
        &src.into(),
        &dst.into(),
        payload.len(),
        |b| b.copy_from_slice(payload),
        &ChecksumCapabilities::default(),
    );
    let hbh = [17u8, 0, 0x63, 4, flags, INSTANCE, 0x02, 0x00];
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::HopByHop,
        payload_len: 8 + udp.len(),
        hop_limit: 64,
    };
    let mut pkt = vec![0u8; 40];
    ip.emit(&mut Ipv6Packet::new_unchecked(&mut pkt[..]));
    pkt.extend_from_slice(&hbh);
    pkt.extend_from_slice(&udp);
    pkt
}

#[test]
fn the_rpl_option_is_checked_at_the_root() {
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
    let host: Ipv6Addr = "2001:db8::99".parse().unwrap();
    let eth = h.app.eth_index();
    let forwarded = |h: &Harness| h.app.iface_stats(eth).unwrap().forwarded;
    let to = h.to_br();
    // Upward, as it should be (O = 0): forwarded.
    let f0 = forwarded(&h);
    h.send(n1.eui, to, &udp_with_rpi(n1.global(), host, 0x00));
    assert_eq!(forwarded(&h), f0 + 1);
    // Marked down while it comes up: a rank error, still forwarded once (R set)...
    h.send(n1.eui, to, &udp_with_rpi(n1.global(), host, 0x80));
    assert_eq!(forwarded(&h), f0 + 2);
    // ...and dropped when R was already set (it looped).
    h.send(n1.eui, to, &udp_with_rpi(n1.global(), host, 0xc0));
    assert_eq!(forwarded(&h), f0 + 2);
    assert_eq!(h.app.wpan().stats().rx_rpl_rank_error, 2);
    // Forwarding error: a child had no route down to the packet's destination. The root
    // drops it and forgets its storing-mode route to that destination.
    let child = Node::new(7);
    let far = addr(MESH, iid(Node::new(8).eui));
    let opts = options(&[target(far), transit(240, 30, None)]);
    h.send(
        child.eui,
        to,
        &rpl_packet(child.link_local(), h.br_link_local(), dao(&opts, 1)),
    );
    assert!(h.app.wpan().registry().lookup(&far).is_some());
    h.send(child.eui, to, &udp_with_rpi(n1.global(), far, 0x20));
    assert!(
        h.app.wpan().registry().lookup(&far).is_none(),
        "the route is forgotten"
    );
    assert_eq!(h.app.wpan().stats().rx_rpl_forwarding_error, 1);
    h.assert_pool();
}
