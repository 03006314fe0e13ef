//! The registration table's tests: the rules one by one, sizes and probe lengths at full
//! load. The model-based property test against a `BTreeMap` is in [`model`].

#[cfg(not(feature = "std"))]
extern crate std;

use super::stored::to_secs;
use super::*;
use core::cmp::Ordering;
use std::vec::Vec;

const R1: [u8; 8] = [0x02, 0x12, 0x4b, 0, 0, 0, 0, 1];
const R2: [u8; 8] = [0x02, 0x12, 0x4b, 0, 0, 0, 0, 2];
const LONG: [u8; 16] = [7; 16];

fn a(i: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i)
}
fn t(s: u64) -> Instant {
    Instant::from_secs(s)
}
fn d(s: u64) -> Duration {
    Duration::from_secs(s)
}
fn ll(i: u16) -> Address {
    Address::Short(i)
}

type Small = Registry<16, 32>;

/// Index and storage agree: every stored entry is reachable from its home slot, every
/// occupied slot points at a distinct stored entry, addresses are unique.
fn check_invariants<const N: usize, const I: usize>(r: &Registry<N, I>) {
    assert!(r.len <= N);
    let occupied: Vec<u16> = r.index.iter().copied().filter(|&p| p != EMPTY).collect();
    assert_eq!(occupied.len(), r.len, "index slots vs entries");
    let mut seen = std::vec![false; r.len];
    for p in occupied {
        let p = usize::from(p);
        assert!(p < r.len, "index points past the entries");
        assert!(!seen[p], "two slots point at entry {p}");
        seen[p] = true;
    }
    for (pos, e) in r.stored().iter().enumerate() {
        match r.probe(&e.addr) {
            Some(Probe::Found { pos: found }) => assert_eq!(found, pos),
            _ => panic!("entry {pos} ({}) unreachable", e.addr),
        }
    }
}

#[test]
fn register_refresh_duplicate_remove() {
    let mut r = Small::new();
    assert_eq!(
        r.register(t(0), a(1), ll(1), &R1, None, d(60)),
        RegisterOutcome::Registered
    );
    let e = r.lookup(&a(1)).unwrap();
    assert_eq!(e.origin, Origin::Registered);
    assert_eq!(e.eui64(), Some(R1));
    assert!(e.is_owned_by(&R1) && !e.is_owned_by(&R2));
    assert_eq!((e.expires, e.last_heard), (t(60), t(0)));

    // Same ROVR and link-layer address: refresh, lifetime and TID.
    assert_eq!(
        r.register(t(10), a(1), ll(1), &R1, Some(3), d(100)),
        RegisterOutcome::Refreshed
    );
    let e = r.lookup(&a(1)).unwrap();
    assert_eq!(
        (e.ll, e.tid, e.expires, e.last_heard),
        (ll(1), Some(3), t(110), t(10))
    );

    // The same ROVR from another link-layer address (a replayed EUI-64): duplicate,
    // untouched, even with a fresher TID or a zero lifetime.
    assert_eq!(
        r.register(t(11), a(1), ll(9), &R1, Some(4), d(100)),
        RegisterOutcome::Duplicate
    );
    assert_eq!(
        r.register(t(11), a(1), ll(9), &R1, Some(4), Duration::ZERO),
        RegisterOutcome::Duplicate
    );
    // Another ROVR: duplicate, untouched, even with a zero lifetime.
    assert_eq!(
        r.register(t(11), a(1), ll(2), &R2, None, d(100)),
        RegisterOutcome::Duplicate
    );
    assert_eq!(
        r.register(t(11), a(1), ll(2), &R2, None, Duration::ZERO),
        RegisterOutcome::Duplicate
    );
    assert_eq!(r.lookup(&a(1)).unwrap(), e);

    // The owner deregisters.
    assert_eq!(
        r.register(t(12), a(1), ll(1), &R1, Some(4), Duration::ZERO),
        RegisterOutcome::Removed
    );
    assert!(r.lookup(&a(1)).is_none() && r.is_empty());
    // Deregistering an unknown address succeeds and deletes nothing.
    assert_eq!(
        r.register(t(12), a(1), ll(9), &R1, None, Duration::ZERO),
        RegisterOutcome::Removed
    );
    let s = r.stats();
    assert_eq!(
        (s.registrations, s.refreshes, s.duplicates, s.removed),
        (1, 1, 4, 1)
    );
    assert_eq!(RegisterOutcome::Duplicate.aro_status(), 1);
    assert_eq!(RegisterOutcome::Full.aro_status(), 2);
    assert_eq!(RegisterOutcome::OverQuota.aro_status(), 2);
    assert_eq!(RegisterOutcome::StaleTid.aro_status(), 3);
    assert_eq!(RegisterOutcome::Refreshed.aro_status(), 0);
    check_invariants(&r);
}

#[test]
fn long_rovr_is_hashed() {
    let mut r = Small::new();
    r.register(t(0), a(1), ll(1), &LONG, Some(240), d(60));
    let e = r.lookup(&a(1)).unwrap();
    assert_eq!(e.rovr, rovr_hash(&LONG));
    assert_eq!(e.eui64(), None);
    assert!(e.is_owned_by(&LONG));
    let mut other = LONG;
    other[15] ^= 1;
    assert_eq!(
        r.register(t(1), a(1), ll(1), &other, Some(241), d(60)),
        RegisterOutcome::Duplicate
    );
    // An 8-byte ROVR whose value equals the hash is still another owner.
    let lookalike = rovr_hash(&LONG).to_be_bytes();
    assert_eq!(
        r.register(t(1), a(1), ll(1), &lookalike, None, d(60)),
        RegisterOutcome::Duplicate
    );
    // FNV-1a 64 reference values.
    assert_eq!(rovr_hash(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(rovr_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
}

/// The lollipop successor of a TID (RFC 6550 §7.2 rule 2).
fn next_tid(t: u8) -> u8 {
    match t {
        127 | 255 => 0,
        t => t + 1,
    }
}

#[test]
fn tid_comparison_follows_rfc_8505() {
    use Ordering::{Equal, Greater, Less};
    let cases: &[(u8, u8, Option<Ordering>, &str)] = &[
        (
            240,
            5,
            Some(Greater),
            "RFC example: 256+5-240 = 21 > 16, the reboot wins",
        ),
        (
            250,
            5,
            Some(Less),
            "RFC example: 256+5-250 = 11 <= 16, 5 wrapped past 250",
        ),
        (240, 0, Some(Less), "256+0-240 = 16: edge of the window"),
        (239, 0, Some(Greater), "256+0-239 = 17: just outside"),
        (255, 0, Some(Less), "linear 255 is followed by circular 0"),
        (
            128,
            127,
            Some(Greater),
            "256+127-128 = 255: a linear value wins",
        ),
        (240, 241, Some(Less), "linear, in window"),
        (128, 144, Some(Less), "linear, |d| = 16"),
        (128, 145, None, "linear, |d| = 17: desynchronised"),
        (255, 128, None, "the linear region does not wrap"),
        (0, 16, Some(Less), "circular, d = 16"),
        (0, 17, None, "circular, d = 17"),
        (127, 0, Some(Less), "circular wrap: 0 follows 127"),
        (120, 8, Some(Less), "circular wrap, d = 16"),
        (120, 9, None, "circular wrap, d = 17"),
        (60, 60, Some(Equal), "equal"),
        (200, 200, Some(Equal), "equal, linear"),
    ];
    for &(x, y, want, why) in cases {
        assert_eq!(compare_tid(x, y), want, "{x} vs {y}: {why}");
    }
    for x in 0..=255u8 {
        assert_eq!(compare_tid(x, x), Some(Equal));
        for y in 0..=255u8 {
            assert_eq!(compare_tid(x, y), compare_tid(y, x).map(Ordering::reverse));
        }
        // Up to a window's worth of increments is always fresher, across both wraps.
        let mut later = x;
        for k in 1..=TID_SEQUENCE_WINDOW {
            later = next_tid(later);
            assert_eq!(compare_tid(later, x), Some(Greater), "{x} + {k}");
        }
    }
}

#[test]
fn stale_tid_is_ignored() {
    let mut r = Small::new();
    assert_eq!(
        r.register(t(0), a(1), ll(1), &R1, Some(20), d(60)),
        RegisterOutcome::Registered
    );
    let stored = r.lookup(&a(1)).unwrap();
    for old in [19, 10, 4] {
        assert_eq!(
            r.register(t(1), a(1), ll(1), &R1, Some(old), d(600)),
            RegisterOutcome::StaleTid,
            "{old}"
        );
    }
    // A stale deregistration is ignored too, and so is an ARO without TID where the owner
    // uses TIDs: it must not bypass them.
    for (tid, life) in [
        (Some(19), Duration::ZERO),
        (None, d(600)),
        (None, Duration::ZERO),
    ] {
        assert_eq!(
            r.register(t(1), a(1), ll(1), &R1, tid, life),
            RegisterOutcome::StaleTid,
            "{tid:?}"
        );
    }
    assert_eq!(r.lookup(&a(1)).unwrap(), stored);
    let accepted: &[(u8, &str)] = &[
        (20, "equal: retransmission"),
        (30, "fresher"),
        (90, "not comparable: the newest wins"),
        (
            240,
            "a reboot: 256+90-240 = 106 > 16, the linear value wins",
        ),
        (245, "fresher, linear"),
        (240, "older but linear: only a reboot goes back there"),
        (255, "fresher, linear"),
        (0, "wrapped into the circular region"),
        (
            240,
            "a reboot right after the wrap (256+0-240 = 16: compares older)",
        ),
    ];
    for (i, &(tid, why)) in accepted.iter().enumerate() {
        assert_eq!(
            r.register(t(2 + i as u64), a(1), ll(1), &R1, Some(tid), d(60)),
            RegisterOutcome::Refreshed,
            "{why}"
        );
        assert_eq!(r.lookup(&a(1)).unwrap().tid, Some(tid));
    }
    // An owner without TID refreshes with or without one; once it has one, it keeps it.
    r.register(t(20), a(2), ll(2), &R2, None, d(60));
    assert_eq!(
        r.register(t(21), a(2), ll(2), &R2, None, d(60)),
        RegisterOutcome::Refreshed
    );
    assert_eq!(
        r.register(t(22), a(2), ll(2), &R2, Some(5), d(60)),
        RegisterOutcome::Refreshed
    );
    assert_eq!(
        r.register(t(23), a(2), ll(2), &R2, None, d(60)),
        RegisterOutcome::StaleTid
    );
    let s = r.stats();
    assert_eq!(s.stale_tid, 7);
}

#[test]
fn quota_per_link_address() {
    let mut r = Small::new();
    for i in 1..=2 {
        assert_eq!(
            r.register_within(t(0), a(i), ll(1), &R1, None, d(60), 2),
            RegisterOutcome::Registered
        );
    }
    assert_eq!(
        r.register_within(t(0), a(3), ll(1), &R1, None, d(60), 2),
        RegisterOutcome::OverQuota
    );
    assert!(r.lookup(&a(3)).is_none());
    // Refreshing one it holds, and another link-layer address, are not affected.
    assert_eq!(
        r.register_within(t(1), a(1), ll(1), &R1, None, d(60), 2),
        RegisterOutcome::Refreshed
    );
    assert_eq!(
        r.register_within(t(1), a(3), ll(2), &R1, None, d(60), 2),
        RegisterOutcome::Registered
    );
    // Taking over a gleaned entry is a new registration.
    r.glean(t(1), a(4), ll(1), d(60));
    assert_eq!(
        r.register_within(t(1), a(4), ll(1), &R1, None, d(60), 2),
        RegisterOutcome::OverQuota
    );
    assert_eq!(r.lookup(&a(4)).unwrap().origin, Origin::Gleaned);
    // A deregistration frees a place.
    r.register_within(t(2), a(2), ll(1), &R1, None, Duration::ZERO, 2);
    assert_eq!(r.registered_by(&ll(1)), 1);
    assert_eq!(
        r.register_within(t(2), a(4), ll(1), &R1, None, d(60), 2),
        RegisterOutcome::Registered
    );
    // Expired entries do not count.
    assert_eq!(r.registered_by(&ll(1)), 2);
    r.expire(t(100));
    assert_eq!(r.registered_by(&ll(1)), 0);
    check_invariants(&r);
}

#[test]
fn glean_never_overrides_a_registration() {
    let mut r = Small::new();
    r.register(t(0), a(1), ll(1), &R1, Some(5), d(60));
    let before = r.lookup(&a(1)).unwrap();
    assert!(r.glean(t(5), a(1), ll(66), d(600)));
    let after = r.lookup(&a(1)).unwrap();
    assert_eq!(after.origin, Origin::Registered);
    assert_eq!(
        (after.ll, after.expires, after.tid),
        (ll(1), t(60), Some(5))
    );
    assert_eq!(
        (after.last_heard, after.rx_frames),
        (t(5), before.rx_frames + 1)
    );
    assert_eq!(r.stats().gleaned, 0);
}

#[test]
fn registration_takes_over_a_gleaned_entry() {
    let mut r = Small::new();
    assert!(r.glean(t(0), a(1), ll(1), d(30)));
    let g = r.lookup(&a(1)).unwrap();
    assert_eq!(
        (g.origin, g.rx_frames, g.eui64()),
        (Origin::Gleaned, 1, None)
    );
    assert!(!g.is_owned_by(&[0; 8]));
    // A gleaned entry belongs to the link-layer address it was learnt from: a frame from
    // another one claiming the address changes nothing (counted).
    assert!(r.glean(t(10), a(1), ll(2), d(100)));
    let g = r.lookup(&a(1)).unwrap();
    assert_eq!(
        (g.ll, g.expires, g.rx_frames, g.last_heard),
        (ll(1), t(30), 1, t(0))
    );
    assert_eq!(r.stats().glean_conflicts, 1);
    // Its own frames extend it, never shorten it.
    assert!(r.glean(t(10), a(1), ll(1), d(5)));
    let g = r.lookup(&a(1)).unwrap();
    assert_eq!(
        (g.ll, g.expires, g.rx_frames, g.last_heard),
        (ll(1), t(30), 2, t(10))
    );
    assert!(r.glean(t(11), a(1), ll(1), d(100)));
    assert_eq!(r.lookup(&a(1)).unwrap().expires, t(111));

    // Another link-layer address cannot register it; the node itself can.
    assert_eq!(
        r.register(t(12), a(1), ll(3), &R2, Some(1), d(60)),
        RegisterOutcome::Duplicate
    );
    assert_eq!(
        r.register(t(12), a(1), ll(1), &R2, Some(1), d(60)),
        RegisterOutcome::Registered
    );
    let e = r.lookup(&a(1)).unwrap();
    assert_eq!(
        (e.origin, e.ll, e.tid, e.expires),
        (Origin::Registered, ll(1), Some(1), t(72))
    );
    assert_eq!(e.rx_frames, 3, "traffic counters survive the takeover");
    assert_eq!(r.len(), 1);

    // Lifetime zero for an address that is only gleaned removes it.
    r.glean(t(13), a(2), ll(4), d(30));
    assert_eq!(
        r.register(t(13), a(2), ll(4), &R1, None, Duration::ZERO),
        RegisterOutcome::Removed
    );
    assert!(r.lookup(&a(2)).is_none());
    let s = r.stats();
    assert_eq!((s.gleaned, s.registrations, s.removed), (2, 1, 1));
    // Once the gleaned entry expired, the address is free for anyone.
    r.glean(t(14), a(3), ll(5), d(30));
    assert_eq!(
        r.register(t(44), a(3), ll(6), &R2, None, d(60)),
        RegisterOutcome::Registered
    );
}

#[test]
fn glean_evicts_least_recently_heard_gleaned_entry() {
    let mut r = Registry::<4, 8>::new();
    r.register(t(0), a(1), ll(1), &R1, None, d(1000));
    r.glean(t(1), a(2), ll(2), d(1000));
    r.glean(t(2), a(3), ll(3), d(1000));
    r.glean(t(3), a(4), ll(4), d(1000));
    // a(2) heard again: a(3) becomes the least recently heard gleaned entry. a(1), older
    // still, is registered and stays.
    r.glean(t(4), a(2), ll(2), d(1000));
    assert!(r.glean(t(5), a(5), ll(5), d(1000)));
    assert!(r.lookup(&a(3)).is_none());
    for i in [1, 2, 4, 5] {
        assert!(r.lookup(&a(i)).is_some(), "a({i})");
    }
    assert_eq!(r.stats().glean_evicted, 1);
    // Registrations evict gleaned entries too (a(4) is now the oldest).
    assert_eq!(
        r.register(t(6), a(6), ll(6), &R2, None, d(1000)),
        RegisterOutcome::Registered
    );
    assert!(r.lookup(&a(4)).is_none());
    assert_eq!(r.stats().glean_evicted, 2);
    check_invariants(&r);
}

#[test]
fn eviction_ties_go_to_the_lowest_address() {
    let mut r = Registry::<3, 8>::new();
    r.glean(t(1), a(3), ll(3), d(1000));
    r.glean(t(1), a(1), ll(1), d(1000));
    r.glean(t(1), a(2), ll(2), d(1000));
    r.glean(t(2), a(4), ll(4), d(1000));
    assert!(r.lookup(&a(1)).is_none());
    assert_eq!(r.len(), 3);
}

#[test]
fn full_of_registrations() {
    let mut r = Registry::<4, 8>::new();
    for i in 1..=4 {
        assert_eq!(
            r.register(t(0), a(i), ll(i), &R1, None, d(100 + u64::from(i))),
            RegisterOutcome::Registered
        );
    }
    assert_eq!(
        r.register(t(1), a(5), ll(5), &R2, None, d(100)),
        RegisterOutcome::Full
    );
    assert!(!r.glean(t(1), a(6), ll(6), d(100)));
    // Refreshing is possible when full.
    assert_eq!(
        r.register(t(2), a(4), ll(4), &R1, None, d(100)),
        RegisterOutcome::Refreshed
    );
    // a(1) expires at 101: its slot is free before expire() runs.
    assert_eq!(
        r.register(t(101), a(5), ll(5), &R2, None, d(100)),
        RegisterOutcome::Registered
    );
    assert!(r.lookup(&a(1)).is_none());
    let s = r.stats();
    assert_eq!((s.full, s.glean_refused_full, s.expired), (1, 1, 1));
    check_invariants(&r);
}

#[test]
fn expiry() {
    let mut r = Small::new();
    r.register(t(0), a(1), ll(1), &R1, None, d(10));
    r.register(t(0), a(2), ll(2), &R1, None, d(20));
    r.glean(t(0), a(3), ll(3), d(15));
    assert_eq!(r.next_expiry(), Some(t(10)));
    // The clock moves with any call that takes `now`: at 10 s a(1) is dead for lookup
    // even though nothing reclaimed it yet.
    r.glean(t(10), a(9), ll(9), d(100));
    assert!(r.lookup(&a(1)).is_none());
    assert!(!r.note_tx(&a(1)));
    assert_eq!(r.iter().count(), 3);
    assert_eq!(r.len(), 4, "stored until reclaimed");
    assert_eq!(r.next_expiry(), Some(t(10)), "overdue: expire() now");
    assert_eq!(r.expire(t(10)), 1);
    assert_eq!(r.len(), 3);
    assert_eq!(r.next_expiry(), Some(t(15)));
    assert_eq!(r.expire(t(20)), 2);
    assert_eq!(r.stats().expired, 3);
    assert_eq!(r.next_expiry(), Some(t(110)));

    // An expired owner no longer blocks another ROVR.
    r.register(t(20), a(5), ll(5), &R1, None, d(10));
    assert_eq!(
        r.register(t(30), a(5), ll(6), &R2, None, d(10)),
        RegisterOutcome::Registered
    );
    assert_eq!(r.lookup(&a(5)).unwrap().eui64(), Some(R2));
    // remove() of an expired entry reclaims it and finds nothing.
    r.register(t(30), a(6), ll(6), &R1, None, d(1));
    r.expire(t(31));
    r.register(t(31), a(7), ll(7), &R1, None, d(1));
    r.glean(t(32), a(9), ll(9), d(1));
    let expired = r.stats().expired;
    assert_eq!(r.remove(&a(7)), None);
    assert_eq!(r.stats().expired, expired + 1);
    assert_eq!(r.expire(Instant::ZERO), 0, "time does not run backwards");
    check_invariants(&r);
}

#[test]
fn remove_and_remove_where() {
    let mut r = Small::new();
    let other = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
    for i in 1..=10 {
        r.register(t(0), a(i), ll(i), &R1, None, d(100));
    }
    r.glean(t(0), other, ll(99), d(100));
    let e = r.remove(&a(3)).unwrap();
    assert_eq!(e.addr, a(3));
    assert_eq!(r.remove(&a(3)), None);
    let prefix = |x: &Ipv6Addr| x.segments()[0] == 0x2001;
    assert_eq!(r.remove_where(|e| !prefix(&e.addr)), 1);
    assert_eq!(r.remove_where(|e| e.addr.segments()[7] % 2 == 0), 5);
    let mut left: Vec<u16> = r.iter().map(|e| e.addr.segments()[7]).collect();
    left.sort();
    assert_eq!(left, [1, 5, 7, 9]);
    assert_eq!(
        r.stats().removed,
        0,
        "administrative removals are not deregistrations"
    );
    for _ in 0..3 {
        assert!(r.note_tx(&a(5)));
    }
    assert!(!r.note_tx(&a(3)), "removed");
    assert_eq!(r.lookup(&a(5)).unwrap().tx_frames, 3);
    r.reset_stats();
    assert_eq!(r.stats(), RegistryStats::default());
    check_invariants(&r);
}

#[test]
fn a_corrupted_key_keeps_the_table_consistent() {
    // Defence in depth: the API cannot change a stored address any more, but should one
    // change (a bug), removal still finds its index slot by a scan.
    let mut r = Registry::<8, 16>::new();
    for i in 1..=8 {
        r.register(t(0), a(i), ll(i), &R1, None, d(100));
    }
    let Some(Probe::Found { pos }) = r.probe(&a(2)) else {
        panic!("a(2) stored");
    };
    r.entries[pos].addr = a(200);
    // a(2)'s entry can no longer be found by address, but everything else works, and the
    // sweeps still reclaim it.
    assert!(r.lookup(&a(2)).is_none());
    for i in [1, 3, 4, 5, 6, 7, 8] {
        assert!(r.remove(&a(i)).is_some(), "a({i})");
    }
    assert_eq!(r.remove_where(|_| true), 1);
    assert!(r.is_empty());
    assert!(r.index.iter().all(|&p| p == EMPTY));
}

#[test]
fn churn_keeps_the_index_consistent() {
    // Remove and re-add many times in a full, colliding table (xorshift, fixed seed).
    let mut r = Small::new();
    let mut x: u32 = 0x1234_5678;
    for round in 0..20_000u64 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let addr = a((x % 40) as u16);
        if x & 0x100 == 0 {
            r.register(t(round), addr, ll(1), &R1, None, d(1_000_000));
        } else {
            r.remove(&addr);
        }
        if round % 97 == 0 {
            check_invariants(&r);
        }
    }
    check_invariants(&r);
    assert!(r.max_probe_len() <= r.len().max(1));
}

static STATIC_REGISTRY: Registry<4, 8> = Registry::new();

#[test]
fn usable_in_a_static() {
    assert_eq!(STATIC_REGISTRY.capacity(), 4);
    assert!(STATIC_REGISTRY.is_empty());
    assert!(STATIC_REGISTRY.lookup(&a(1)).is_none());
    assert_eq!(STATIC_REGISTRY.next_expiry(), None);
}

#[test]
fn size() {
    let entry = core::mem::size_of::<Entry>();
    let registry = core::mem::size_of::<DefaultRegistry>();
    std::eprintln!("size_of::<Entry>() = {entry}, size_of::<DefaultRegistry>() = {registry}");
    assert!(entry <= 96);
    assert!(
        registry <= DEFAULT_REGISTRATIONS * 72 + DEFAULT_INDEX_SLOTS * 2 + 128,
        "{registry}"
    );
}

/// Fills a `DefaultRegistry` with `addrs` and returns the longest probe.
fn fill(addrs: impl Iterator<Item = Ipv6Addr>) -> usize {
    let mut r = DefaultRegistry::new();
    for addr in addrs {
        assert_eq!(
            r.register(t(0), addr, ll(0), &R1, None, d(100)),
            RegisterOutcome::Registered
        );
    }
    assert_eq!(r.len(), DEFAULT_REGISTRATIONS);
    check_invariants(&r);
    r.max_probe_len()
}

#[test]
fn probe_length_stays_small_at_full_load() {
    const BOUND: usize = 16;
    let n = DEFAULT_REGISTRATIONS as u16;
    let sequential = fill((1..=n).map(a));
    let short_iids = fill((0..n).map(|i| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, i)));
    let spread_iids = fill(
        (0..n).map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0xff, 0xfe00, i.wrapping_mul(257))),
    );
    std::eprintln!(
        "max probe at 256/512: sequential {sequential}, short-address IIDs {short_iids}, \
         spread short IIDs {spread_iids}"
    );
    assert!(sequential <= BOUND && short_iids <= BOUND && spread_iids <= BOUND);
    // 256 addresses sharing 15 of 16 bytes, for each position of the varying byte.
    let base = Ipv6Addr::new(
        0x2001, 0xdb8, 0x1234, 0x5678, 0x9abc, 0xdef0, 0x1357, 0x2468,
    )
    .octets();
    let mut worst = 0;
    for k in 0..16 {
        let probe = fill((0..=255u8).map(|b| {
            let mut o = base;
            o[k] = b;
            Ipv6Addr::from(o)
        }));
        std::eprintln!("  varying byte {k:2}: max probe {probe}");
        assert!(probe <= BOUND, "byte {k}: {probe}");
        worst = worst.max(probe);
    }
    std::eprintln!("max probe over one-byte families: {worst}");
}

#[test]
fn entries_are_stored_packed_and_read_back_exactly() {
    assert_eq!(core::mem::size_of::<Stored>(), 72);
    let mut r = Small::new();
    let ext = Address::Extended([0x02, 0x12, 0x4b, 0, 1, 2, 3, 4]);
    let at = Instant::from_micros(5_750_001);
    r.register(at, a(1), ext, &LONG, Some(240), d(60));
    r.register(at, a(2), ll(0xabcd), &R1, None, d(60));
    r.glean(at, a(3), ll(7), d(60));
    let e = r.lookup(&a(1)).unwrap();
    assert_eq!(
        (e.ll, e.tid, e.origin),
        (ext, Some(240), Origin::Registered)
    );
    assert_eq!((e.rovr, e.eui64()), (rovr_hash(&LONG), None));
    assert_eq!(e.expires, at + d(60), "expiry is exact");
    assert_eq!(e.last_heard, t(5), "last heard to the second, rounded down");
    let e = r.lookup(&a(2)).unwrap();
    assert_eq!((e.ll, e.tid, e.eui64()), (ll(0xabcd), None, Some(R1)));
    let e = r.lookup(&a(3)).unwrap();
    assert_eq!(
        (e.ll, e.origin, e.rovr, e.rx_frames),
        (ll(7), Origin::Gleaned, 0, 1)
    );
    assert_eq!(to_secs(Instant::from_secs(u64::MAX / 2_000_000)), u32::MAX);
}

mod model;

mod targets;
