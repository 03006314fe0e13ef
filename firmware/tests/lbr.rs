//! The 6LBR role of the border router, driven with real bytes and no simulator.
//!
//! A test radio records every PSDU the border router transmits and answers as a perfect
//! channel would (TX done, then an Imm-Ack for frames that request one); time advances only
//! when the test says so. Frames *from* nodes are built independently of the code under test:
//! IPv6/ICMPv6 with smoltcp's wire types, the 6LoWPAN-ND options (ARO, DAR) and the ICMPv6
//! checksum by hand, the 802.15.4 header and FCS by hand; only the IPHC compression uses
//! `sixlo::compress`. What the border router sends is decoded the other way round (FCS, MAC
//! header, RFC 4944 fragments, `sixlo::decompress`, smoltcp's IPv6 view) and its ND options are
//! walked by hand.
//!
//! The harness is beside this file: `lbr/node.rs` builds what nodes send, `lbr/harness.rs`
//! drives the border router, `lbr/sent.rs` reads what it sent back.

#[path = "lbr/harness.rs"]
mod harness;
#[path = "lbr/node.rs"]
#[allow(dead_code)] // the EARO builders serve lbr_attacks.rs
mod node;
#[path = "lbr/sent.rs"]
mod sent;

use std::net::Ipv6Addr;

use firmware::lbr::MIN_DELAY_BETWEEN_RAS;
use firmware::registry::Origin;
use l2_15_4::frame::Address;
use netif::{DropReason, Duration, Instant};

use harness::Harness;
use node::{
    ALL_NODES, ALL_ROUTERS, DAC, Ip, MESH, NA, Node, OPT_6CO, OPT_ABRO, OPT_ARO, OPT_PIO,
    OPT_SLLAO, OPT_TLLAO, RA, at, dar_body, lla_option, ns_body, rs_body,
};
use sent::{na_aro, na_target, option};

// ----- tests ---------------------------------------------------------------------------------

#[test]
fn rs_gets_a_unicast_ra_with_pio_6co_abro() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(1);
    let t0 = h.now;
    let ip = Ip::nd(node.link_local(), ALL_ROUTERS);
    let body = rs_body(&ip, Some(node.eui));
    h.send(node.eui, Address::BROADCAST, &ip.build(body));

    let ras: Vec<_> = h
        .sent_icmp(RA, t0)
        .into_iter()
        .filter(|s| s.dst() == node.link_local())
        .collect();
    assert_eq!(ras.len(), 1, "one solicited RA: {ras:#?}");
    let ra = &ras[0];
    assert_eq!(
        ra.ll_dst,
        Some(node.ll()),
        "sent to the node's extended address"
    );
    assert_eq!(ra.src(), h.br_link_local());
    assert_eq!(ra.hop_limit(), 255);
    assert!(ra.checksum_ok(), "RA checksum");
    let m = ra.icmp().unwrap();
    let cfg = h.cfg().clone();
    assert_eq!(m[1], 0, "code");
    let router_lifetime = u16::from_be_bytes([m[6], m[7]]);
    assert_ne!(router_lifetime, 0);
    assert_eq!(router_lifetime, cfg.ra.router_lifetime_s);

    // SLLAO: the border router's EUI-64.
    let sllao = option(m, 16, OPT_SLLAO).expect("SLLAO");
    assert_eq!(sllao, lla_option(OPT_SLLAO, h.br_eui()));

    // PIO (RFC 4861 §4.6.2): length 4, prefix length, L|A|reserved, valid, preferred,
    // reserved2, prefix.
    let pio = option(m, 16, OPT_PIO).expect("PIO");
    assert_eq!(pio[1], 4);
    assert_eq!(pio[2], 64);
    assert_eq!(pio[3] & 0x80, 0, "L=0");
    assert_eq!(pio[3] & 0x40, 0x40, "A=1");
    assert_eq!(
        u32::from_be_bytes(pio[4..8].try_into().unwrap()),
        cfg.ra.prefix_valid_s
    );
    assert_eq!(
        u32::from_be_bytes(pio[8..12].try_into().unwrap()),
        cfg.ra.prefix_preferred_s
    );
    assert_eq!(&pio[16..24], &MESH);
    assert_eq!(&pio[24..32], &[0; 8]);

    // 6CO (RFC 6775 §4.2): length 2 for a /64, context length, res|C|CID, reserved, valid
    // lifetime (minutes), prefix.
    let co = option(m, 16, OPT_6CO).expect("6CO");
    assert_eq!(co[1], 2);
    assert_eq!(co[2], 64);
    assert_eq!(co[3] & 0x10, 0x10, "C=1");
    assert_eq!(co[3] & 0x0f, 0, "CID 0");
    assert_eq!(
        u16::from_be_bytes([co[6], co[7]]),
        cfg.ra.context_lifetime_min
    );
    assert_eq!(&co[8..16], &MESH);

    // ABRO (RFC 6775 §4.3): length 3, version low, version high, valid lifetime, 6LBR address.
    let abro = option(m, 16, OPT_ABRO).expect("ABRO");
    assert_eq!(abro[1], 3);
    let low = u16::from_be_bytes([abro[2], abro[3]]);
    let high = u16::from_be_bytes([abro[4], abro[5]]);
    assert_eq!(u32::from(high) << 16 | u32::from(low), cfg.abro_version);
    assert_eq!(
        u16::from_be_bytes([abro[6], abro[7]]),
        cfg.ra.abro_valid_lifetime_min
    );
    assert_eq!(&abro[8..24], &h.br_global().octets());

    assert_eq!(h.app.lbr().stats().rx_rs, 1);
    assert_eq!(h.app.lbr().stats().tx_ra_solicited, 1);
    h.assert_pool();
}

#[test]
fn periodic_multicast_ras_follow_rfc4861_and_rfc6775() {
    let mut h = Harness::new();
    h.run_until(at(60_000));
    let ras: Vec<_> = h
        .sent_icmp(RA, Instant::ZERO)
        .into_iter()
        .filter(|s| s.dst() == ALL_NODES)
        .collect();
    let times: Vec<u64> = ras.iter().map(|r| r.at.as_millis()).collect();
    for r in &ras {
        assert_eq!(
            r.ll_dst,
            Some(Address::BROADCAST),
            "multicast RAs go to 0xffff"
        );
        assert_eq!(r.hop_limit(), 255);
        assert!(r.checksum_ok());
    }
    assert!(!ras.is_empty(), "no RA at all in 60 s");
    assert!(times[0] < 100, "the first RA waits: {times:?} ms");
    for w in ras.windows(2) {
        let gap = w[1].at.saturating_since(w[0].at);
        // RFC 6775 §9 MIN_DELAY_BETWEEN_RAS; RFC 4861 §6.2.4 MAX_INITIAL_RTR_ADVERT_INTERVAL
        // (plus the MAC's channel access).
        assert!(
            gap >= MIN_DELAY_BETWEEN_RAS,
            "RAs {times:?} ms closer than 10 s"
        );
        assert!(
            gap <= Duration::from_secs(16) + Duration::from_millis(50),
            "{times:?}"
        );
    }
    // RFC 4861 §6.2.4: only the first MAX_INITIAL_RTR_ADVERTISEMENTS (3) use the short
    // interval; the regular one is at least 200 s with the default configuration, so nothing
    // else falls in the first minute.
    assert!(
        ras.len() <= 3,
        "more than MAX_INITIAL_RTR_ADVERTISEMENTS RAs in the first 60 s: at {times:?} ms"
    );
    assert_eq!(h.app.lbr().stats().tx_ra_multicast, ras.len() as u64);
    h.assert_pool();
}

#[test]
fn ns_with_aro_registers_and_is_answered() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(7);
    let t0 = h.now;
    h.register(node, node.eui, 10);

    let na = h.one_na(t0);
    assert_eq!(na.ll_dst, Some(node.ll()));
    assert_eq!(na.dst(), node.global());
    assert_eq!(na.src(), h.br_link_local());
    assert_eq!(na.hop_limit(), 255);
    assert!(na.checksum_ok());
    assert_eq!(na_target(&na), node.global());
    assert_eq!(na_aro(&na), (0, 10, node.eui));

    let info = h
        .app
        .nodes()
        .find(|n| n.addr == node.global())
        .expect("listed by nodes()");
    assert!(info.registered);
    assert_eq!(info.eui64, Some(node.eui));
    assert_eq!(info.ll, node.ll());
    let e = h.app.wpan().registry().lookup(&node.global()).unwrap();
    assert_eq!(e.origin, Origin::Registered);
    assert_eq!(e.eui64(), Some(node.eui));
    assert_eq!(e.ll, node.ll());
    assert_eq!(e.expires, t0 + Duration::from_secs(600));
    assert_eq!(h.app.status().registered, 1);
    assert_eq!(h.app.lbr().stats().reg_success, 1);
    h.assert_pool();
}

#[test]
fn second_owner_of_an_address_is_a_duplicate() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let first = Node::new(1);
    let second = Node::new(2);
    h.register(first, first.eui, 10);
    let t1 = h.now;
    // The second node claims the first one's address.
    h.register_addr(second, first.global(), second.eui, 10);

    let na = h.one_na(t1);
    assert_eq!(na.ll_dst, Some(second.ll()), "told at its own link address");
    assert_eq!(na_aro(&na).0, 1, "status 1: duplicate address");
    assert_eq!(na_aro(&na).2, second.eui);
    let e = h.app.wpan().registry().lookup(&first.global()).unwrap();
    assert_eq!(e.eui64(), Some(first.eui), "first registration intact");
    assert_eq!(e.ll, first.ll());
    assert_eq!(e.origin, Origin::Registered);
    assert_eq!(h.app.lbr().stats().reg_duplicate, 1);
    h.assert_pool();
}

#[test]
fn lifetime_zero_from_the_owner_deregisters() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(3);
    h.register(node, node.eui, 10);
    assert!(h.app.wpan().registry().lookup(&node.global()).is_some());
    let t1 = h.now;
    h.register(node, node.eui, 0);

    let na = h.one_na(t1);
    assert_eq!(na.ll_dst, Some(node.ll()));
    assert_eq!(na_aro(&na), (0, 0, node.eui));
    assert!(h.app.wpan().registry().lookup(&node.global()).is_none());
    assert!(h.app.nodes().all(|n| n.addr != node.global()));
    assert_eq!(h.app.lbr().stats().reg_removed, 1);
    h.assert_pool();
}

#[test]
fn address_outside_the_mesh_prefix_is_topologically_incorrect() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(4);
    let outside: Ipv6Addr = "2001:db8:99::1".parse().unwrap();
    let t0 = h.now;
    // From its link-local address (an outside source would be dropped by the ingress policy
    // before the 6LBR sees it), registering the outside address as the target (RFC 8505).
    let ip = Ip::nd(node.link_local(), h.br_link_local());
    let body = ns_body(&ip, outside, Some(node.eui), Some((10, node.eui)));
    let dst = h.to_br();
    h.send(node.eui, dst, &ip.build(body));

    let na = h.one_na(t0);
    assert_eq!(na.ll_dst, Some(node.ll()));
    assert_eq!(na_target(&na), outside);
    assert_eq!(na_aro(&na).0, 8, "status 8: topologically incorrect");
    assert!(h.app.wpan().registry().lookup(&outside).is_none());
    assert_eq!(h.app.lbr().stats().reg_topology, 1);
    h.assert_pool();
}

#[test]
fn full_table_answers_status_2() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let cap = h.app.wpan().registry().capacity();
    assert_eq!(cap, 256);
    for k in 0..cap {
        let n = Node::new(1000 + k as u16);
        h.register(n, n.eui, 60);
    }
    assert_eq!(h.app.lbr().stats().reg_success, cap as u64);
    assert_eq!(h.app.status().registered, cap);
    let last = Node::new(5000);
    let t1 = h.now;
    h.register(last, last.eui, 60);
    let na = h.one_na(t1);
    assert_eq!(na.ll_dst, Some(last.ll()));
    assert_eq!(na_aro(&na).0, 2, "status 2: neighbor cache full");
    assert!(h.app.wpan().registry().lookup(&last.global()).is_none());
    assert_eq!(h.app.lbr().stats().reg_full, 1);
    // Every earlier registration is still there.
    for k in 0..cap {
        let n = Node::new(1000 + k as u16);
        assert!(h.app.wpan().registry().lookup(&n.global()).is_some());
    }
    h.assert_pool();
}

#[test]
fn registration_expires_after_its_lifetime() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(9);
    let t0 = h.now;
    h.register(node, node.eui, 1);
    h.run_until(t0 + Duration::from_secs(59));
    assert!(h.app.wpan().registry().lookup(&node.global()).is_some());
    h.run_until(t0 + Duration::from_secs(62));
    assert!(h.app.wpan().registry().lookup(&node.global()).is_none());
    assert!(
        h.app
            .wpan()
            .registry()
            .iter()
            .all(|e| e.addr != node.global()),
        "expired entry still in the table"
    );
    assert_eq!(h.app.status().registered, 0);
    assert!(h.app.nodes().all(|n| n.addr != node.global()));
    h.assert_pool();
}

/// RIOT OS's 6LN (issue 21) registers RFC 6775 style with the ROUTER's link-local address as
/// the NS target and its own address as the source: the NA must carry that same target (RFC
/// 4861 §7.2.4), or RIOT, which looks the NA's target up in its neighbor cache, ignores the
/// ARO and keeps its address tentative.
#[test]
fn ns_with_aro_targeting_the_router_is_answered_with_that_target() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(12);
    let br_ll = h.br_link_local();
    let t0 = h.now;
    let ip = Ip::nd(node.global(), br_ll);
    let body = ns_body(&ip, br_ll, Some(node.eui), Some((15, node.eui)));
    let dst = h.to_br();
    h.send(node.eui, dst, &ip.build(body));

    let na = h.one_na(t0);
    assert_eq!(na.dst(), node.global());
    assert_eq!(na.src(), br_ll);
    assert!(na.checksum_ok());
    assert_eq!(na_target(&na), br_ll, "the NS's target");
    assert_eq!(na_aro(&na), (0, 15, node.eui));
    let e = h.app.wpan().registry().lookup(&node.global()).unwrap();
    assert_eq!(e.origin, Origin::Registered);
    assert_eq!(e.expires, t0 + Duration::from_secs(900));
    h.assert_pool();
}

#[test]
fn plain_ns_for_our_link_local_gets_a_solicited_na() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(11);
    let br_ll = h.br_link_local();
    // An RFC 4861 host resolving the router: to its solicited-node group ff02::1:ffXX:XXXX.
    let o = br_ll.octets();
    let sn = Ipv6Addr::from([
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, o[13], o[14], o[15],
    ]);
    let t0 = h.now;
    let ip = Ip::nd(node.link_local(), sn);
    let body = ns_body(&ip, br_ll, Some(node.eui), None);
    h.send(node.eui, Address::BROADCAST, &ip.build(body));

    let na = h.one_na(t0);
    assert_eq!(na.ll_dst, Some(node.ll()));
    assert_eq!(na.dst(), node.link_local());
    assert_eq!(na.src(), br_ll);
    assert_eq!(na.hop_limit(), 255);
    assert!(na.checksum_ok());
    assert_eq!(na_target(&na), br_ll);
    let m = na.icmp().unwrap();
    assert_eq!(m[4] & 0xe0, 0xe0, "R, S and O set");
    let tllao = option(m, 24, OPT_TLLAO).expect("TLLAO");
    assert_eq!(tllao, lla_option(OPT_TLLAO, h.br_eui()));
    assert!(option(m, 24, OPT_ARO).is_none());
    h.assert_pool();
}

#[test]
fn invalid_nd_messages_are_counted_and_never_answered() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(12);
    let br_ll = h.br_link_local();
    let to = h.to_br();
    let before = h.app.lbr().stats();
    let w = h.app.wpan_index();
    let bad_icmp = h.app.iface_stats(w).unwrap().dropped(DropReason::BadIcmp);
    let t0 = h.now;
    let aro = Some((10, node.eui));

    // Hop limit 64: not from a neighbour (RFC 4861 §7.1.1).
    let mut ip = Ip::nd(node.global(), br_ll);
    ip.hop_limit = 64;
    let body = ns_body(&ip, node.global(), Some(node.eui), aro);
    h.send(node.eui, to, &ip.build(body));

    // Code 1.
    let ip = Ip::nd(node.global(), br_ll);
    let mut body = ns_body(&ip, node.global(), Some(node.eui), aro);
    body[1] = 1;
    h.send(node.eui, to, &ip.build(body));

    // A zero-length option (RFC 4861 §4.6: must be silently discarded).
    let mut body = ns_body(&ip, node.global(), Some(node.eui), aro);
    body.extend_from_slice(&[OPT_SLLAO, 0, 0, 0, 0, 0, 0, 0]);
    h.send(node.eui, to, &ip.build(body));

    // An ARO without SLLAO (RFC 6775 §6.5).
    let body = ns_body(&ip, node.global(), None, aro);
    h.send(node.eui, to, &ip.build(body));

    let after = h.app.lbr().stats();
    assert_eq!(after.rx_invalid, before.rx_invalid + 4, "{after:#?}");

    // A bad checksum never reaches the 6LBR: the core drops it (counted as bad_icmp).
    let mut ip = Ip::nd(node.global(), br_ll);
    ip.good_checksum = false;
    let body = ns_body(&ip, node.global(), Some(node.eui), aro);
    h.send(node.eui, to, &ip.build(body));
    assert_eq!(
        h.app.iface_stats(w).unwrap().dropped(DropReason::BadIcmp),
        bad_icmp + 1
    );
    assert_eq!(h.app.lbr().stats().rx_invalid, before.rx_invalid + 4);

    h.run_for(Duration::from_secs(1));
    assert!(h.sent_icmp(NA, t0).is_empty(), "an invalid NS was answered");
    let s = h.app.lbr().stats();
    assert_eq!(s.tx_na, before.tx_na);
    assert_eq!(s.reg_success, before.reg_success);
    assert!(
        h.app
            .wpan()
            .registry()
            .lookup(&node.global())
            .is_none_or(|e| e.origin == Origin::Gleaned)
    );
    h.assert_pool();
}

#[test]
fn dar_from_a_6lr_gets_a_dac() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let router = Node::new(20);
    let host = Node::new(21);
    let other = Node::new(22);
    let br = h.br_global();
    let to = h.to_br();

    let t0 = h.now;
    let mut ip = Ip::nd(router.global(), br);
    ip.hop_limit = 64; // multihop (RFC 6775 §8.2.1)
    h.send(
        router.eui,
        to,
        &ip.build(dar_body(10, host.eui, host.global())),
    );
    let dacs = h.sent_icmp(DAC, t0);
    assert_eq!(dacs.len(), 1, "{dacs:#?}");
    let dac = &dacs[0];
    assert_eq!(dac.ll_dst, Some(router.ll()));
    assert_eq!(dac.dst(), router.global());
    assert_eq!(dac.src(), br);
    assert!(dac.checksum_ok());
    let m = dac.icmp().unwrap();
    assert_eq!(m.len(), 32);
    assert_eq!(m[1], 0, "code 0: 64-bit EUI-64");
    assert_eq!(m[4], 0, "status 0");
    assert_eq!(u16::from_be_bytes([m[6], m[7]]), 10);
    assert_eq!(&m[8..16], &host.eui);
    assert_eq!(&m[16..32], &host.global().octets());
    let e = h.app.wpan().registry().lookup(&host.global()).unwrap();
    assert_eq!(e.origin, Origin::Registered);
    assert_eq!(e.eui64(), Some(host.eui));
    assert_eq!(e.ll, router.ll(), "reached through the 6LR");

    let t1 = h.now;
    h.send(
        router.eui,
        to,
        &ip.build(dar_body(10, other.eui, host.global())),
    );
    let dacs = h.sent_icmp(DAC, t1);
    assert_eq!(dacs.len(), 1);
    let m = dacs[0].icmp().unwrap();
    assert_eq!(m[4], 1, "status 1: duplicate");
    assert_eq!(&m[8..16], &other.eui);
    let e = h.app.wpan().registry().lookup(&host.global()).unwrap();
    assert_eq!(e.eui64(), Some(host.eui), "first owner intact");
    let s = h.app.lbr().stats();
    assert_eq!((s.rx_dar, s.tx_dac), (2, 2));
    h.assert_pool();
}
