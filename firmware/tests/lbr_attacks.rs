//! Hostile neighbours against the 6LBR's registration rules (issue 19, findings 5, 6 and 7),
//! with real bytes: every attack is a hand-built 802.15.4 frame carrying an NS with SLLAO and
//! ARO/EARO (see `lbr.rs` for how the harness builds and reads frames).
//!
//! - 5, address takeover: an address in use (gleaned and heard, or registered) is not given to
//!   another link-layer address; the SLLAO must be the frame's source; a replayed ROVR from
//!   another link-layer address changes nothing; an ARO without TID does not bypass the TID.
//! - 6, table flood: one source holds at most a quota of registrations and registers at a
//!   bounded rate; honest nodes still register under a flood.
//! - 7, stale TID: answered status 3 (Moved) without touching the entry; a rebooted node
//!   (TID back in the lollipop's linear region) registers again.

#[path = "lbr/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "lbr/node.rs"]
#[allow(dead_code)]
mod node;
#[path = "lbr/sent.rs"]
#[allow(dead_code)]
mod sent;

use std::net::Ipv6Addr;

use firmware::app::AppEvent;
use firmware::config::Config;
use firmware::lbr::LbrEvent;
use firmware::registry::Origin;
use netif::Duration;

use harness::Harness;
use node::{Ip, MESH, NA, Node, addr, at, ns_body, ns_earo_body};
use sent::{na_aro, na_target};

/// `from` (its own MAC) sends an NS from `src` registering `target` with SLLAO `sllao`, EARO
/// (`tid`, `lifetime` minutes, `rovr`).
#[allow(clippy::too_many_arguments)]
fn claim(
    h: &mut Harness,
    from: Node,
    src: Ipv6Addr,
    target: Ipv6Addr,
    sllao: [u8; 8],
    tid: Option<u8>,
    lifetime: u16,
    rovr: [u8; 8],
) {
    let ip = Ip::nd(src, h.br_link_local());
    let body = ns_earo_body(&ip, target, sllao, tid, lifetime, rovr);
    let dst = h.to_br();
    h.send(from.eui, dst, &ip.build(body));
}

/// `node` registers its own global address with an EARO (its EUI-64 as ROVR).
fn register_earo(h: &mut Harness, node: Node, tid: Option<u8>, lifetime: u16) {
    let a = node.global();
    claim(h, node, a, a, node.eui, tid, lifetime, node.eui);
}

/// A frame from `node` with its global address as source (a plain NS for the router's
/// link-local address): how a node that never registers gets gleaned.
fn traffic(h: &mut Harness, node: Node) {
    let ip = Ip::nd(node.global(), h.br_link_local());
    let body = ns_body(&ip, h.br_link_local(), Some(node.eui), None);
    let dst = h.to_br();
    h.send(node.eui, dst, &ip.build(body));
}

fn entry(h: &Harness, a: Ipv6Addr) -> firmware::registry::Entry {
    h.app.wpan().registry().lookup(&a).expect("an entry")
}

// ----- finding 5: address takeover -------------------------------------------------------------

#[test]
fn gleaned_address_is_not_given_to_another_link_address() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let victim = Node::new(1);
    let attacker = Node::new(66);
    traffic(&mut h, victim);
    assert_eq!(entry(&h, victim.global()).origin, Origin::Gleaned);

    // From the attacker's own link-local address, and then with the victim's address as the
    // IPv6 source (the frame is gleaned before the 6LBR reads it).
    for src in [attacker.link_local(), victim.global()] {
        let t = h.now;
        claim(
            &mut h,
            attacker,
            src,
            victim.global(),
            attacker.eui,
            Some(240),
            1440,
            attacker.eui,
        );
        let na = h.one_na(t);
        assert_eq!(na.ll_dst, Some(attacker.ll()));
        assert_eq!(na_target(&na), victim.global());
        assert_eq!(na_aro(&na).0, 1, "status 1: duplicate (source {src})");
        let e = entry(&h, victim.global());
        assert_eq!((e.origin, e.ll), (Origin::Gleaned, victim.ll()), "{src}");
    }
    assert_eq!(h.app.lbr().stats().reg_duplicate, 2);
    // The spoofed-source frame was not the victim's traffic.
    assert_eq!(h.app.wpan().registry().stats().glean_conflicts, 1);
    // The victim's own traffic keeps its entry, and the victim may still register.
    traffic(&mut h, victim);
    assert_eq!(entry(&h, victim.global()).ll, victim.ll());
    let t = h.now;
    register_earo(&mut h, victim, Some(240), 10);
    assert_eq!(na_aro(&h.one_na(t)).0, 0);
    let e = entry(&h, victim.global());
    assert_eq!((e.origin, e.ll), (Origin::Registered, victim.ll()));
    h.assert_pool();
}

#[test]
fn replayed_rovr_from_another_link_address_is_a_duplicate() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let victim = Node::new(2);
    let attacker = Node::new(66);
    // An RFC 6775 node: its ROVR is its EUI-64, which every frame it sends carries.
    h.register(victim, victim.eui, 60);
    let before = entry(&h, victim.global());

    for (tid, lifetime) in [(None, 1440), (None, 0), (Some(250), 1440), (Some(250), 0)] {
        let t = h.now;
        claim(
            &mut h,
            attacker,
            attacker.link_local(),
            victim.global(),
            attacker.eui,
            tid,
            lifetime,
            victim.eui,
        );
        let na = h.one_na(t);
        assert_eq!(na.ll_dst, Some(attacker.ll()));
        assert_eq!(
            na_aro(&na).0,
            1,
            "status 1 for TID {tid:?}, lifetime {lifetime}"
        );
        let e = entry(&h, victim.global());
        assert_eq!(
            (e.ll, e.expires, e.eui64()),
            (before.ll, before.expires, before.eui64())
        );
    }
    assert_eq!(h.app.lbr().stats().reg_duplicate, 4);
    h.assert_pool();
}

#[test]
fn sllao_other_than_the_frame_source_is_dropped() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let victim = Node::new(3);
    let attacker = Node::new(66);
    let t = h.now;
    // The attacker registers an address for the victim's link-layer address (so that the
    // victim gets the answers, and the traffic).
    let target = addr(MESH, [0, 0, 0, 0, 0, 0, 0x66, 0x01]);
    claim(
        &mut h,
        attacker,
        attacker.link_local(),
        target,
        victim.eui,
        Some(240),
        1440,
        attacker.eui,
    );
    h.run_for(Duration::from_secs(1));
    assert!(h.sent_icmp(NA, t).is_empty(), "answered a forged SLLAO");
    assert!(h.app.wpan().registry().lookup(&target).is_none());
    let s = h.app.lbr().stats();
    assert_eq!((s.rx_ns_aro, s.reg_sllao_mismatch, s.tx_na), (1, 1, 0));
    h.assert_pool();
}

#[test]
fn aro_without_tid_does_not_bypass_the_tid() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(4);
    register_earo(&mut h, node, Some(20), 60);
    let before = entry(&h, node.global());
    // A replay of the owner's ROVR from the owner's own MAC address (spoofed): a plain ARO, no
    // TID, lifetime zero and then a long one.
    for lifetime in [0, 1440] {
        let t = h.now;
        register_earo(&mut h, node, None, lifetime);
        let na = h.one_na(t);
        assert_eq!(
            na_aro(&na).0,
            3,
            "status 3: not the freshest (lifetime {lifetime})"
        );
        let e = entry(&h, node.global());
        assert_eq!((e.expires, e.tid), (before.expires, before.tid));
    }
    assert_eq!(h.app.lbr().stats().reg_stale_tid, 2);
    h.assert_pool();
}

// ----- finding 6: table flood ------------------------------------------------------------------

#[test]
fn flood_from_one_mac_leaves_the_table_to_honest_nodes() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let attacker = Node::new(66);
    let cap = h.app.wpan().registry().capacity();
    for k in 0..cap {
        let [a, b] = (k as u16).to_be_bytes();
        let target = addr(MESH, [0x02, 0, 0, 0, 0, 0x66, a, b]);
        let rovr = [0x66, 0, 0, 0, 0, 0, a, b];
        claim(
            &mut h,
            attacker,
            attacker.link_local(),
            target,
            attacker.eui,
            Some(240),
            1440,
            rovr,
        );
    }
    let held = h
        .app
        .wpan()
        .registry()
        .iter()
        .filter(|e| e.origin == Origin::Registered && e.ll == attacker.ll())
        .count();
    assert!(
        held <= usize::from(Config::default().max_registrations_per_source),
        "one MAC holds {held} registrations"
    );
    for k in 0..16 {
        let honest = Node::new(100 + k);
        let t = h.now;
        register_earo(&mut h, honest, Some(240), 60);
        assert_eq!(na_aro(&h.one_na(t)).0, 0, "honest node {k} refused");
    }
    let s = h.app.lbr().stats();
    assert_eq!(s.reg_success, held as u64 + 16);
    assert!(s.reg_over_quota >= 1 && s.reg_rate_limited >= 1, "{s:#?}");
    assert_eq!(
        s.reg_success + s.reg_over_quota + s.reg_rate_limited,
        cap as u64 + 16,
        "every flooding NS refused or dropped, counted"
    );
    h.assert_pool();
}

#[test]
fn quota_is_per_source_and_configurable() {
    let cfg = Config {
        max_registrations_per_source: 2,
        ..Config::default()
    };
    let mut h = Harness::with_config(cfg);
    h.run_until(at(1_000));
    let router = Node::new(20);
    let statuses: Vec<u8> = (0..4u8)
        .map(|k| {
            let target = addr(MESH, [0x02, 0, 0, 0, 0, 0x20, 0, k]);
            let t = h.now;
            claim(
                &mut h,
                router,
                router.link_local(),
                target,
                router.eui,
                Some(240),
                10,
                [0x20, 0, 0, 0, 0, 0, 0, k],
            );
            na_aro(&h.one_na(t)).0
        })
        .collect();
    assert_eq!(
        statuses,
        [0, 0, 2, 2],
        "the third registration is over quota"
    );
    // Refreshing one it holds is not a new registration.
    let target = addr(MESH, [0x02, 0, 0, 0, 0, 0x20, 0, 0]);
    let t = h.now;
    claim(
        &mut h,
        router,
        router.link_local(),
        target,
        router.eui,
        Some(241),
        10,
        [0x20, 0, 0, 0, 0, 0, 0, 0],
    );
    assert_eq!(na_aro(&h.one_na(t)).0, 0);
    assert_eq!(h.app.lbr().stats().reg_over_quota, 2);
    h.assert_pool();
}

#[test]
fn registration_rate_is_limited_per_source() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let chatty = Node::new(5);
    let quiet = Node::new(6);
    let t0 = h.now;
    for k in 0..40u8 {
        register_earo(&mut h, chatty, Some(240 + k % 16), 10);
    }
    let answered = h.sent_icmp(NA, t0).len();
    assert!(
        answered < 40,
        "every one of 40 registrations in 4 s answered"
    );
    assert_eq!(h.app.lbr().stats().reg_rate_limited, 40 - answered as u64);
    // Another source is not affected.
    let t = h.now;
    register_earo(&mut h, quiet, Some(240), 10);
    assert_eq!(na_aro(&h.one_na(t)).0, 0);
    // The chatty source recovers after a pause.
    h.run_for(Duration::from_secs(30));
    let t = h.now;
    register_earo(&mut h, chatty, Some(250), 10);
    assert_eq!(na_aro(&h.one_na(t)).0, 0);
    h.assert_pool();
}

// ----- finding 7: stale TID ----------------------------------------------------------------------

#[test]
fn stale_tid_is_answered_moved_and_changes_nothing() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(7);
    register_earo(&mut h, node, Some(20), 10);
    let before = entry(&h, node.global());
    h.run_for(Duration::from_secs(60));
    let t = h.now;
    register_earo(&mut h, node, Some(10), 60);
    let na = h.one_na(t);
    assert_eq!(
        na_aro(&na).0,
        3,
        "status 3: moved (a fresher registration exists)"
    );
    // The registration is untouched (the frame itself counts as traffic from the node).
    let e = entry(&h, node.global());
    assert_eq!(
        (e.ll, e.rovr, e.origin, e.tid, e.expires),
        (
            before.ll,
            before.rovr,
            before.origin,
            before.tid,
            before.expires
        )
    );
    assert_eq!(h.app.lbr().stats().reg_stale_tid, 1);
    let events: Vec<_> = std::iter::from_fn(|| h.app.pop_event()).collect();
    assert!(
        events.contains(&AppEvent::Lbr(LbrEvent::Refused(node.global(), 3))),
        "{events:?}"
    );
    h.assert_pool();
}

#[test]
fn rebooted_node_registers_again_from_its_initial_tid() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(8);
    // Two boots' worth: 240..=245 (linear region), and 240..=255, 0 (wrapped once).
    for tids in [&[240u8, 241, 242, 243, 244, 245][..], &[255, 0][..]] {
        for &tid in tids {
            register_earo(&mut h, node, Some(tid), 10);
        }
        h.run_for(Duration::from_secs(60));
        // Reboot: the lollipop restarts at 240 (RFC 8505 §5.2.1 / RFC 6550 §7.2).
        let t = h.now;
        register_earo(&mut h, node, Some(240), 30);
        let na = h.one_na(t);
        assert_eq!(na_aro(&na), (0, 30, node.eui), "after {tids:?}");
        let e = entry(&h, node.global());
        assert_eq!(e.tid, Some(240));
        assert!(
            e.expires >= t + Duration::from_secs(30 * 60),
            "not refreshed"
        );
    }
    h.assert_pool();
}
