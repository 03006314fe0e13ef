//! RPL targets at the root, against hand-built DAO sequences: parent chains in and out of
//! order, Path Sequence rollover, No-Path, cycles, depth, a full table, storing mode,
//! expiry, and how targets and registrations share entries.

use super::*;

const ROOT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xffff);

/// Node `i`'s address: IID 0212:4b00:0000:00ii, formed from EUI-64 00:12:4b:00:00:00:00:ii.
fn n(i: u8) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x0212, 0x4b00, 0, u16::from(i))
}
fn eui(i: u8) -> Address {
    Address::Extended([0, 0x12, 0x4b, 0, 0, 0, 0, i])
}

fn ns(target: Ipv6Addr, parent: Ipv6Addr, seq: u8, life: u64) -> Dao {
    Dao {
        target,
        parent: Some(parent),
        child: None,
        path_seq: seq,
        lifetime: d(life),
        root: ROOT,
        max_depth: 8,
        external: false,
    }
}

fn hops(r: &Small, dst: Ipv6Addr) -> Option<(Address, std::vec::Vec<Ipv6Addr>)> {
    r.source_route(&dst)
        .map(|s| (s.first_hop, s.hops.iter().copied().collect()))
}

#[test]
fn a_parent_chain_becomes_a_source_route_in_any_order() {
    let mut r = Small::new();
    // The deepest DAO first: its route is incomplete until its parents report.
    assert_eq!(r.dao(t(0), &ns(n(3), n(2), 240, 600)), DaoOutcome::Added);
    assert_eq!(hops(&r, n(3)), None, "parent 2 unknown yet");
    assert_eq!(r.dao(t(0), &ns(n(2), n(1), 240, 600)), DaoOutcome::Added);
    assert_eq!(r.dao(t(0), &ns(n(1), ROOT, 240, 600)), DaoOutcome::Added);
    assert_eq!(
        hops(&r, n(3)),
        Some((eui(1), std::vec![n(1), n(2), n(3)])),
        "first hop: node 1, reached at the EUI-64 its IID was formed from"
    );
    assert_eq!(hops(&r, n(1)), Some((eui(1), std::vec![n(1)])));
    let e = r.lookup(&n(3)).unwrap();
    assert_eq!(e.origin, Origin::Dao);
    assert_eq!(e.neighbour(), None);
    assert_eq!(
        e.target.unwrap().parent,
        Some([0x02, 0x12, 0x4b, 0, 0, 0, 0, 2])
    );
    assert_eq!(r.lookup(&n(1)).unwrap().neighbour(), Some(eui(1)));
    assert_eq!(r.targets().count(), 3);
    assert_eq!(r.target_stats().added, 3);
    check_invariants(&r);
}

#[test]
fn a_registered_node_is_one_entry_and_the_first_hop() {
    let mut r = Small::new();
    let ll1 = ll(0x0101);
    r.register(t(0), n(1), ll1, &R1, Some(240), d(900));
    assert_eq!(r.dao(t(1), &ns(n(1), ROOT, 10, 600)), DaoOutcome::Added);
    assert_eq!(r.dao(t(1), &ns(n(2), n(1), 10, 600)), DaoOutcome::Added);
    assert_eq!(r.len(), 2, "the registered target is one entry");
    let e = r.lookup(&n(1)).unwrap();
    assert_eq!(
        (e.origin, e.ll, e.neighbour()),
        (Origin::Registered, ll1, Some(ll1))
    );
    assert_eq!(hops(&r, n(2)), Some((ll1, std::vec![n(1), n(2)])));
    // A DAO never moves a registered node's link-layer address.
    let storing = Dao {
        parent: None,
        child: Some(ll(0x0202)),
        ..ns(n(1), ROOT, 11, 600)
    };
    assert_eq!(r.dao(t(2), &storing), DaoOutcome::Refreshed);
    assert_eq!(r.lookup(&n(1)).unwrap().ll, ll1);
}

#[test]
fn path_sequence_follows_the_lollipop_rules() {
    let mut r = Small::new();
    assert_eq!(r.dao(t(0), &ns(n(1), ROOT, 254, 600)), DaoOutcome::Added);
    assert_eq!(
        r.dao(t(1), &ns(n(1), ROOT, 255, 600)),
        DaoOutcome::Refreshed
    );
    // 255 rolls into the circular region at 0.
    assert_eq!(r.dao(t(2), &ns(n(1), ROOT, 0, 600)), DaoOutcome::Refreshed);
    assert_eq!(r.dao(t(3), &ns(n(1), ROOT, 5, 600)), DaoOutcome::Refreshed);
    assert_eq!(r.dao(t(4), &ns(n(1), ROOT, 3, 600)), DaoOutcome::Stale);
    // 127 -> 0 in the circular region: 0 is newer than 127.
    assert_eq!(r.dao(t(5), &ns(n(2), ROOT, 127, 600)), DaoOutcome::Added);
    assert_eq!(r.dao(t(6), &ns(n(2), ROOT, 0, 600)), DaoOutcome::Refreshed);
    assert_eq!(r.dao(t(7), &ns(n(2), ROOT, 127, 600)), DaoOutcome::Stale);
    // 240 is 16 steps before 0 (240..=255, then 0): older, per RFC 6550 §7.2.
    assert_eq!(r.dao(t(7), &ns(n(2), ROOT, 240, 600)), DaoOutcome::Stale);
    // Further apart than the window: not comparable, the newest message wins.
    assert_eq!(r.dao(t(8), &ns(n(2), ROOT, 30, 600)), DaoOutcome::Refreshed);
    // A node that rebooted restarts in the linear region, more than a window away: newer.
    assert_eq!(
        r.dao(t(8), &ns(n(2), ROOT, 240, 600)),
        DaoOutcome::Refreshed
    );
    // A stale No-Path removes nothing.
    assert_eq!(r.dao(t(9), &ns(n(2), ROOT, 239, 0)), DaoOutcome::Stale);
    assert!(r.lookup(&n(2)).is_some());
    assert_eq!(r.target_stats().stale, 4);
}

#[test]
fn no_path_removes_the_target_and_breaks_the_routes_below_it() {
    let mut r = Small::new();
    r.register(t(0), n(1), ll(1), &R1, None, d(900));
    r.dao(t(0), &ns(n(1), ROOT, 1, 600));
    r.dao(t(0), &ns(n(2), n(1), 1, 600));
    r.dao(t(0), &ns(n(3), n(2), 1, 600));
    assert_eq!(r.dao(t(1), &ns(n(2), n(1), 2, 0)), DaoOutcome::Removed);
    assert!(
        r.lookup(&n(2)).is_none(),
        "a DAO-only entry goes with its target state"
    );
    assert_eq!(hops(&r, n(3)), None, "node 3's parent is gone");
    assert_eq!(r.dao(t(1), &ns(n(1), ROOT, 2, 0)), DaoOutcome::Removed);
    let e = r.lookup(&n(1)).expect("the registration stays");
    assert_eq!((e.origin, e.target), (Origin::Registered, None));
    // A No-Path for an unknown target succeeds and counts nothing.
    assert_eq!(r.dao(t(1), &ns(n(9), ROOT, 1, 0)), DaoOutcome::Removed);
    assert_eq!(r.target_stats().no_path, 2);
    check_invariants(&r);
}

#[test]
fn a_cycle_is_refused_and_the_old_path_stays() {
    let mut r = Small::new();
    r.dao(t(0), &ns(n(1), ROOT, 1, 600));
    r.dao(t(0), &ns(n(2), n(1), 1, 600));
    r.dao(t(0), &ns(n(3), n(2), 1, 600));
    assert_eq!(r.dao(t(1), &ns(n(1), n(3), 2, 600)), DaoOutcome::Cycle);
    assert!(DaoOutcome::Cycle.is_rejection());
    assert_eq!(r.lookup(&n(1)).unwrap().target.unwrap().parent, None);
    assert_eq!(hops(&r, n(3)).unwrap().1, std::vec![n(1), n(2), n(3)]);
    // A node naming itself as its parent.
    assert_eq!(r.dao(t(1), &ns(n(4), n(4), 1, 600)), DaoOutcome::BadParent);
    assert_eq!(r.target_stats().cycles, 1);
}

#[test]
fn a_chain_deeper_than_the_maximum_is_refused() {
    let mut r = Small::new();
    r.dao(t(0), &ns(n(1), ROOT, 1, 600));
    for i in 2..=8 {
        assert_eq!(
            r.dao(t(0), &ns(n(i), n(i - 1), 1, 600)),
            DaoOutcome::Added,
            "{i}"
        );
    }
    assert_eq!(hops(&r, n(8)).unwrap().1.len(), 8);
    assert_eq!(r.dao(t(0), &ns(n(9), n(8), 1, 600)), DaoOutcome::TooDeep);
    assert!(r.lookup(&n(9)).is_none());
    let deeper = Dao {
        max_depth: 100,
        external: false,
        ..ns(n(9), n(8), 1, 600)
    };
    assert_eq!(
        r.dao(t(0), &deeper),
        DaoOutcome::Added,
        "the caller's maximum"
    );
    assert_eq!(hops(&r, n(9)).unwrap().1.len(), 9);
}

#[test]
fn a_parent_outside_the_targets_prefix_is_refused() {
    let mut r = Small::new();
    let other = Ipv6Addr::new(0x2001, 0xdb8, 9, 0, 0, 0, 0, 1);
    assert_eq!(r.dao(t(0), &ns(n(1), other, 1, 600)), DaoOutcome::BadParent);
    assert!(r.is_empty());
}

#[test]
fn a_full_table_rejects_new_targets_but_evicts_gleaned_ones() {
    let mut r = Small::new();
    for i in 0..15u16 {
        r.register(t(0), a(100 + i), ll(i), &R1, None, d(900));
    }
    r.glean(t(0), a(200), ll(99), d(900));
    assert_eq!(r.dao(t(1), &ns(n(1), ROOT, 1, 600)), DaoOutcome::Added);
    assert!(r.lookup(&a(200)).is_none(), "the gleaned entry made room");
    assert_eq!(r.dao(t(1), &ns(n(2), ROOT, 1, 600)), DaoOutcome::Full);
    assert!(DaoOutcome::Full.is_rejection());
    // An existing target still refreshes.
    assert_eq!(r.dao(t(2), &ns(n(1), ROOT, 2, 600)), DaoOutcome::Refreshed);
    // A target is not evicted for a glean.
    assert!(!r.glean(t(3), a(201), ll(98), d(900)));
    assert!(r.lookup(&n(1)).is_some());
    assert_eq!(r.target_stats().full, 1);
}

#[test]
fn storing_mode_forwards_to_the_child() {
    let mut r = Small::new();
    let child = eui(7);
    let via = |target, seq, life| Dao {
        parent: None,
        child: Some(child),
        ..ns(target, ROOT, seq, life)
    };
    assert_eq!(r.dao(t(0), &via(n(8), 1, 600)), DaoOutcome::Added);
    let e = r.lookup(&n(8)).unwrap();
    assert_eq!(
        (e.origin, e.ll, e.neighbour()),
        (Origin::Dao, child, Some(child))
    );
    let tg = e.target.unwrap();
    assert!(tg.storing);
    assert_eq!(
        tg.parent,
        Some([0x02, 0x12, 0x4b, 0, 0, 0, 0, 7]),
        "shown as the child"
    );
    assert_eq!(hops(&r, n(8)), Some((child, std::vec![n(8)])));
    // The subtree moves to another child with a newer Path Sequence.
    let moved = Dao {
        child: Some(eui(6)),
        ..via(n(8), 2, 600)
    };
    assert_eq!(r.dao(t(1), &moved), DaoOutcome::Refreshed);
    assert_eq!(r.lookup(&n(8)).unwrap().ll, eui(6));
}

#[test]
fn path_lifetimes_expire() {
    let mut r = Small::new();
    r.register(t(0), n(1), ll(1), &R1, None, d(900));
    r.dao(t(0), &ns(n(1), ROOT, 1, 60));
    r.dao(t(0), &ns(n(2), n(1), 1, 60));
    assert_eq!(r.targets().count(), 2);
    assert_eq!(r.next_expiry(), Some(t(60)));
    let mut gone = std::vec::Vec::new();
    assert_eq!(r.expire_targets(t(60), |a| gone.push(a)), 2);
    gone.sort();
    assert_eq!(gone, std::vec![n(1), n(2)]);
    assert_eq!(r.expire(t(60)), 0, "nothing left for the plain sweep");
    assert!(r.lookup(&n(2)).is_none());
    let e = r.lookup(&n(1)).unwrap();
    assert_eq!((e.origin, e.target), (Origin::Registered, None));
    assert_eq!(r.targets().count(), 0);
    assert_eq!(r.target_stats().expired, 2);
    // A path lifetime never ends early: rounded up to the second.
    r.dao(Instant::from_micros(100_500_000), &ns(n(3), ROOT, 1, 10));
    assert_eq!(r.lookup(&n(3)).unwrap().expires, t(111));
}

#[test]
fn a_registration_takes_over_a_target_only_from_its_own_link_address() {
    let mut r = Small::new();
    r.dao(t(0), &ns(n(1), ROOT, 1, 600));
    r.dao(t(0), &ns(n(2), n(1), 1, 600));
    // Node 2 is two hops away: a neighbour claiming its address is a duplicate.
    assert_eq!(
        r.register(t(1), n(2), eui(66), &R2, None, d(900)),
        RegisterOutcome::Duplicate
    );
    // Node 1, a child of the root, registers from the address its IID was formed from.
    assert_eq!(
        r.register(t(1), n(1), eui(1), &R1, None, d(900)),
        RegisterOutcome::Registered
    );
    let e = r.lookup(&n(1)).unwrap();
    assert_eq!(e.origin, Origin::Registered);
    assert!(e.target.is_some(), "the RPL state is kept");
    // A glean never changes a target's link-layer address.
    r.glean(t(2), n(2), eui(66), d(900));
    assert_eq!(r.lookup(&n(2)).unwrap().neighbour(), None);
    assert_eq!(hops(&r, n(2)).unwrap().1, std::vec![n(1), n(2)]);
}

#[test]
fn the_target_table_holds_256_nodes_in_the_default_registry() {
    let mut r = DefaultRegistry::new();
    let root = ROOT;
    let node = |i: u16| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x0212, 0x4b00, 0, i);
    for i in 0..DEFAULT_REGISTRATIONS as u16 {
        // A binary tree under node 0.
        let parent = if i == 0 { root } else { node((i - 1) / 2) };
        let dao = Dao {
            target: node(i),
            parent: Some(parent),
            child: None,
            path_seq: 1,
            lifetime: d(600),
            root,
            max_depth: MAX_RPL_DEPTH,
            external: false,
        };
        assert_eq!(r.dao(t(0), &dao), DaoOutcome::Added, "{i}");
    }
    let deepest = r.source_route(&node(255)).unwrap();
    assert_eq!(
        deepest.hops.len(),
        9,
        "node 255 is 9 hops down a binary tree of 256"
    );
    assert_eq!(deepest.hops.first(), Some(&node(0)));
    check_invariants(&r);
}

/// A host a 6LR advertises for it (the Transit E flag, RFC 9010) is reached by a tunnel that
/// ends at the 6LR, which delivers the inner packet: the host is not in the source route, and
/// the E flag survives packing.
#[test]
fn an_external_target_is_reached_by_a_tunnel_to_its_parent() {
    let mut r = Small::new();
    assert_eq!(r.dao(t(0), &ns(n(1), ROOT, 240, 600)), DaoOutcome::Added);
    assert_eq!(r.dao(t(0), &ns(n(2), n(1), 240, 600)), DaoOutcome::Added);
    let host = Dao {
        external: true,
        ..ns(n(9), n(2), 240, 600)
    };
    assert_eq!(r.dao(t(0), &host), DaoOutcome::Added);
    assert!(r.lookup(&n(9)).unwrap().target.unwrap().external);
    assert_eq!(hops(&r, n(9)), Some((eui(1), std::vec![n(1), n(2)])));
    // Under a router one hop from the root: a tunnel of one hop, still to the router.
    let near = Dao {
        external: true,
        ..ns(n(8), n(1), 240, 600)
    };
    assert_eq!(r.dao(t(0), &near), DaoOutcome::Added);
    assert_eq!(hops(&r, n(8)), Some((eui(1), std::vec![n(1)])));
    check_invariants(&r);
}

/// A target first known behind another node, then a child of the root (its parent changed
/// to the root): the root reaches it at the link-layer address its identifier was formed
/// from. Before, the entry kept the unused all-zero address of its first DAO and every packet
/// to it went to 00:00:00:00:00:00:00:00 (seen in a 100-node mesh: one router of 20
/// unreachable, 3 of its 51 DAOs acknowledged).
#[test]
fn a_target_that_moves_under_the_root_is_reached_at_its_own_address() {
    let mut r = Small::new();
    assert_eq!(r.dao(t(0), &ns(n(1), ROOT, 240, 600)), DaoOutcome::Added);
    assert_eq!(r.dao(t(0), &ns(n(2), n(1), 240, 600)), DaoOutcome::Added);
    assert_eq!(r.lookup(&n(2)).unwrap().neighbour(), None);
    assert_eq!(
        r.dao(t(1), &ns(n(2), ROOT, 241, 600)),
        DaoOutcome::Refreshed
    );
    assert_eq!(r.lookup(&n(2)).unwrap().neighbour(), Some(eui(2)));
    assert_eq!(hops(&r, n(2)), Some((eui(2), std::vec![n(2)])));
    check_invariants(&r);
}

/// A host advertised by 6LRs on its behalf (E flag, RFC 9010) gets each 6LR's own Path
/// Sequence: they are not comparable. Seen in the 100-node mesh: a leaf whose router died
/// moved to another router, whose DAO for it (sequence 240) was refused as older than the
/// dead router's (241), and the leaf stayed unreachable until that route expired (26 min).
/// Another 6LR's claim wins whatever its sequence; its No-Path does not take away the
/// current claim; the current claimer's sequence rules still hold.
#[test]
fn an_external_target_moves_to_the_router_that_advertises_it_last() {
    let ext = |target, parent, seq, life| Dao {
        external: true,
        ..ns(target, parent, seq, life)
    };
    let mut r = Small::new();
    assert_eq!(r.dao(t(0), &ns(n(1), ROOT, 240, 600)), DaoOutcome::Added);
    assert_eq!(r.dao(t(0), &ns(n(2), ROOT, 240, 600)), DaoOutcome::Added);
    assert_eq!(r.dao(t(1), &ext(n(9), n(1), 241, 600)), DaoOutcome::Added);
    // Router 2 now advertises the host, with its own (lower) sequence: it moves.
    assert_eq!(
        r.dao(t(2), &ext(n(9), n(2), 240, 600)),
        DaoOutcome::Refreshed
    );
    assert_eq!(
        hops(&r, n(9)),
        Some((eui(2), std::vec![n(2)])),
        "a tunnel to router 2"
    );
    // Router 1's No-Path for it does not withdraw router 2's claim.
    assert_eq!(r.dao(t(3), &ext(n(9), n(1), 242, 0)), DaoOutcome::Stale);
    assert_eq!(
        hops(&r, n(9)),
        Some((eui(2), std::vec![n(2)])),
        "a tunnel to router 2"
    );
    // Router 2's own older sequence is still stale; its No-Path removes the target.
    assert_eq!(r.dao(t(4), &ext(n(9), n(2), 239, 600)), DaoOutcome::Stale);
    assert_eq!(r.dao(t(5), &ext(n(9), n(2), 240, 0)), DaoOutcome::Removed);
    // A target that is no host (no E flag) keeps the lollipop rule across parents.
    assert_eq!(r.dao(t(6), &ns(n(3), n(1), 241, 600)), DaoOutcome::Added);
    assert_eq!(r.dao(t(7), &ns(n(3), n(2), 240, 600)), DaoOutcome::Stale);
    check_invariants(&r);
}

/// Seen in the 100-node mesh: a leaf whose router died fell back to the border router and
/// talked to it directly, but the root kept the dead router's claim on it (an external
/// target) and tunnelled to that router for 26 minutes. A host advertised for it that the
/// root hears itself becomes a gleaned neighbour; an RPL router's own target does not.
#[test]
fn an_external_target_heard_directly_becomes_a_neighbour() {
    let mut r = Small::new();
    let host = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
    assert_eq!(r.dao(t(0), &ns(n(1), ROOT, 240, 600)), DaoOutcome::Added);
    let claim = Dao {
        external: true,
        ..ns(host, n(1), 240, 600)
    };
    assert_eq!(r.dao(t(1), &claim), DaoOutcome::Added);
    assert_eq!(hops(&r, host), Some((eui(1), std::vec![n(1)])));
    assert!(r.glean(t(2), host, ll(7), d(1800)));
    let e = r.lookup(&host).unwrap();
    assert_eq!((e.origin, e.ll, e.target), (Origin::Gleaned, ll(7), None));
    assert_eq!(r.lookup(&host).unwrap().neighbour(), Some(ll(7)));
    // A router's own target, heard directly, keeps its DAO state.
    assert_eq!(r.dao(t(3), &ns(n(2), n(1), 240, 600)), DaoOutcome::Added);
    assert!(r.glean(t(4), n(2), eui(2), d(1800)));
    assert_eq!(r.lookup(&n(2)).unwrap().origin, Origin::Dao);
    check_invariants(&r);
}

/// Seen with MRHOF in the 100-node mesh: a router the root had heard directly (a gleaned
/// entry) moved under another parent, whose DAO the root took, but the root kept sending to
/// it directly over the link the router had left, and it answered no ping. A router's own
/// target is reached along the parent its DAO names, whatever made the entry.
#[test]
fn a_gleaned_router_under_another_parent_is_reached_through_it() {
    let mut r = Small::new();
    assert_eq!(r.dao(t(0), &ns(n(1), ROOT, 240, 600)), DaoOutcome::Added);
    assert!(r.glean(t(1), n(2), eui(2), d(1800)));
    assert_eq!(r.dao(t(2), &ns(n(2), ROOT, 240, 600)), DaoOutcome::Added);
    assert_eq!(r.lookup(&n(2)).unwrap().neighbour(), Some(eui(2)));
    assert_eq!(
        r.dao(t(3), &ns(n(2), n(1), 241, 600)),
        DaoOutcome::Refreshed
    );
    let e = r.lookup(&n(2)).unwrap();
    assert_eq!((e.origin, e.neighbour()), (Origin::Gleaned, None));
    assert_eq!(hops(&r, n(2)), Some((eui(1), std::vec![n(1), n(2)])));
    check_invariants(&r);
}
