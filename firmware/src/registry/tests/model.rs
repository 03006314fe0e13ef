//! The registration table's model-based property test: random operations on a small
//! [`Registry`] and on [`Model`], the same rules written for clarity on a `BTreeMap`, must
//! agree; and the takeover and quota rules checked directly under random traffic.

use super::*;
use std::collections::BTreeMap;
use std::vec::Vec;

/// The reference: the same rules on a `BTreeMap`, written for clarity.
struct Model {
    cap: usize,
    map: BTreeMap<Ipv6Addr, Entry>,
    clock: Instant,
    stats: RegistryStats,
}

impl Model {
    fn new(cap: usize) -> Self {
        Model {
            cap,
            map: BTreeMap::new(),
            clock: Instant::ZERO,
            stats: RegistryStats::default(),
        }
    }

    fn live(&self) -> Vec<Entry> {
        self.map
            .values()
            .filter(|e| e.expires > self.clock)
            .copied()
            .collect()
    }

    /// Whether `addr` is live; an expired entry is reclaimed.
    fn present(&mut self, addr: Ipv6Addr) -> bool {
        match self.map.get(&addr) {
            Some(e) if e.expires > self.clock => true,
            Some(_) => {
                self.map.remove(&addr);
                self.stats.expired += 1;
                false
            }
            None => false,
        }
    }

    fn expire(&mut self, now: Instant) -> usize {
        self.clock = self.clock.max(now);
        let clock = self.clock;
        let before = self.map.len();
        self.map.retain(|_, e| e.expires > clock);
        let n = before - self.map.len();
        self.stats.expired += n as u32;
        n
    }

    fn room(&mut self) -> bool {
        if self.map.len() >= self.cap {
            self.expire(self.clock);
        }
        if self.map.len() < self.cap {
            return true;
        }
        let victim = self
            .map
            .values()
            .filter(|e| e.origin == Origin::Gleaned)
            .min_by_key(|e| (e.last_heard, e.addr))
            .map(|e| e.addr);
        match victim {
            Some(v) => {
                self.map.remove(&v);
                self.stats.glean_evicted += 1;
                true
            }
            None => false,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn register(
        &mut self,
        now: Instant,
        addr: Ipv6Addr,
        ll: Address,
        rovr: &[u8],
        tid: Option<u8>,
        life: Duration,
        quota: usize,
        proved: bool,
    ) -> RegisterOutcome {
        self.clock = self.clock.max(now);
        let now = self.clock;
        let key = RovrKey::of(rovr);
        let clock = self.clock;
        let held = |m: &Model| {
            m.map
                .values()
                .filter(|e| e.origin == Origin::Registered && e.expires > clock && e.ll == ll)
                .count()
        };
        let fresh = Entry {
            addr,
            ll,
            rovr: key.value,
            rovr_is_eui64: key.eui64,
            origin: Origin::Registered,
            tid,
            crypto: proved,
            expires: now + life,
            last_heard: now,
            rx_frames: 0,
            tx_frames: 0,
            target: None,
        };
        if self.present(addr) {
            let old = self.map[&addr];
            let duplicate = if old.crypto {
                // Protected: its Crypto-ID only; without a proof, a refresh from its address.
                old.rovr_key() != key || (!proved && (old.ll != ll || life == Duration::ZERO))
            } else {
                // In use by another link-layer address, or registered by another owner.
                old.ll != ll || (old.origin == Origin::Registered && old.rovr_key() != key)
            };
            if duplicate {
                self.stats.duplicates += 1;
                return RegisterOutcome::Duplicate;
            }
            if old.origin == Origin::Registered {
                let stale = match (tid, old.tid) {
                    (None, Some(_)) => true,
                    // Older, unless back in the linear region: a reboot.
                    (Some(n), Some(o)) => compare_tid(n, o) == Some(Ordering::Less) && n < 128,
                    _ => false,
                };
                if stale {
                    self.stats.stale_tid += 1;
                    return RegisterOutcome::StaleTid;
                }
            }
            if life == Duration::ZERO {
                self.map.remove(&addr);
                self.stats.removed += 1;
                return RegisterOutcome::Removed;
            }
            if (old.origin == Origin::Gleaned || old.ll != ll) && held(self) >= quota {
                return RegisterOutcome::OverQuota;
            }
            let e = Entry {
                rx_frames: old.rx_frames,
                tx_frames: old.tx_frames,
                crypto: old.crypto || proved,
                ..fresh
            };
            self.map.insert(addr, e);
            return if old.origin == Origin::Registered {
                self.stats.refreshes += 1;
                RegisterOutcome::Refreshed
            } else {
                self.stats.registrations += 1;
                RegisterOutcome::Registered
            };
        }
        if life == Duration::ZERO {
            return RegisterOutcome::Removed;
        }
        if held(self) >= quota {
            return RegisterOutcome::OverQuota;
        }
        if !self.room() {
            self.stats.full += 1;
            return RegisterOutcome::Full;
        }
        self.map.insert(addr, fresh);
        self.stats.registrations += 1;
        RegisterOutcome::Registered
    }

    fn glean(&mut self, now: Instant, addr: Ipv6Addr, ll: Address, life: Duration) -> bool {
        self.clock = self.clock.max(now);
        let now = self.clock;
        if self.present(addr) {
            let e = self.map.get_mut(&addr).unwrap();
            if e.origin == Origin::Gleaned && e.ll != ll {
                self.stats.glean_conflicts += 1;
                return true;
            }
            e.last_heard = now;
            e.rx_frames += 1;
            if e.origin == Origin::Gleaned {
                e.expires = e.expires.max(now + life);
            }
            return true;
        }
        if life == Duration::ZERO {
            return false;
        }
        if !self.room() {
            self.stats.glean_refused_full += 1;
            return false;
        }
        self.map.insert(
            addr,
            Entry {
                addr,
                ll,
                rovr: 0,
                rovr_is_eui64: false,
                origin: Origin::Gleaned,
                tid: None,
                crypto: false,
                expires: now + life,
                last_heard: now,
                rx_frames: 1,
                tx_frames: 0,
                target: None,
            },
        );
        self.stats.gleaned += 1;
        true
    }

    fn remove(&mut self, addr: Ipv6Addr) -> Option<Entry> {
        if self.present(addr) {
            self.map.remove(&addr)
        } else {
            None
        }
    }

    fn remove_where(&mut self, mut f: impl FnMut(&Entry) -> bool) -> usize {
        let clock = self.clock;
        let before = self.map.len();
        self.map.retain(|_, e| e.expires <= clock || !f(e));
        before - self.map.len()
    }
}

/// A small pool so that addresses repeat and collide in a 32-slot index: sequential
/// addresses, short-address IIDs and addresses differing in one high byte.
fn pool(i: u8) -> Ipv6Addr {
    let i = u16::from(i);
    match i % 3 {
        0 => a(i),
        1 => Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, i),
        _ => Ipv6Addr::new(0x2001, 0xdb8 + i, 0, 0, 0, 0, 0, 1),
    }
}
const POOL: u8 = 24;
const ROVRS: [&[u8]; 3] = [&R1, &R2, &LONG];

#[derive(Clone, Debug)]
enum Op {
    Register {
        addr: u8,
        ll: u16,
        rovr: usize,
        tid: Option<u8>,
        life: u64,
        quota: usize,
        proved: bool,
    },
    Glean {
        addr: u8,
        ll: u16,
        life: u64,
    },
    Remove {
        addr: u8,
    },
    Expire,
    Advance {
        secs: u64,
    },
    RemoveWhere {
        mask: u32,
    },
    CountTx {
        addr: u8,
    },
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    let addr = 0..POOL;
    let tid = proptest::sample::select(std::vec![
        None,
        Some(0),
        Some(1),
        Some(3),
        Some(20),
        Some(126),
        Some(127),
        Some(128),
        Some(240),
        Some(241),
        Some(250),
        Some(255),
    ]);
    prop_oneof![
        4 => (
            addr.clone(),
            0..4u16,
            0..3usize,
            tid,
            0..6u64,
            proptest::sample::select(std::vec![1usize, 2, 4, usize::MAX]),
            proptest::prelude::any::<bool>(),
        )
            .prop_map(|(addr, ll, rovr, tid, life, quota, proved)| Op::Register {
                addr, ll, rovr, tid, life, quota, proved
            }),
        3 => (addr.clone(), 0..4u16, 0..6u64)
            .prop_map(|(addr, ll, life)| Op::Glean { addr, ll, life }),
        1 => addr.clone().prop_map(|addr| Op::Remove { addr }),
        1 => Just(Op::Expire),
        2 => (0..3u64).prop_map(|secs| Op::Advance { secs }),
        1 => any::<u32>().prop_map(|mask| Op::RemoveWhere { mask: mask & mask.rotate_left(7) }),
        1 => addr.prop_map(|addr| Op::CountTx { addr }),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    #[test]
    fn matches_the_model(ops in proptest::collection::vec(op(), 1..200)) {
        let mut r = Small::new();
        let mut m = Model::new(16);
        let mut now = Instant::ZERO;
        for op in ops {
            match op {
                Op::Register { addr, ll, rovr, tid, life, quota, proved } => {
                    let (addr, ll, rovr, life) =
                        (pool(addr), Address::Short(ll), ROVRS[rovr], d(life));
                    let needs = r.needs_proof(now, &addr, &ll, rovr, life);
                    let reg = Registration { addr, ll, rovr, tid, lifetime: life, quota, proved };
                    proptest::prop_assert_eq!(
                        r.register_with(now, &reg),
                        m.register(now, addr, ll, rovr, tid, life, quota, proved)
                    );
                    // What needs no proof is a refresh of a protected entry by its owner.
                    if !needs {
                        let e = r.lookup(&addr).unwrap();
                        proptest::prop_assert!(e.crypto && e.ll == ll && e.is_owned_by(rovr));
                    }
                    for l in 0..4 {
                        let l = Address::Short(l);
                        let clock = m.clock;
                        let held = m.map.values().filter(|e| {
                            e.origin == Origin::Registered && e.expires > clock && e.ll == l
                        });
                        proptest::prop_assert_eq!(r.registered_by(&l), held.count());
                    }
                }
                Op::Glean { addr, ll, life } => {
                    let (addr, ll, life) = (pool(addr), Address::Short(ll), d(life));
                    proptest::prop_assert_eq!(
                        r.glean(now, addr, ll, life),
                        m.glean(now, addr, ll, life)
                    );
                }
                Op::Remove { addr } => {
                    proptest::prop_assert_eq!(r.remove(&pool(addr)), m.remove(pool(addr)));
                }
                Op::Expire => proptest::prop_assert_eq!(r.expire(now), m.expire(now)),
                Op::Advance { secs } => now += d(secs),
                Op::RemoveWhere { mask } => {
                    let hit = |e: &Entry| (0..POOL).any(|i| mask & (1 << i) != 0 && pool(i) == e.addr);
                    proptest::prop_assert_eq!(r.remove_where(hit), m.remove_where(hit));
                }
                Op::CountTx { addr } => {
                    let clock = m.clock;
                    r.note_tx(&pool(addr));
                    if let Some(e) = m.map.get_mut(&pool(addr)).filter(|e| e.expires > clock) {
                        e.tx_frames += 1;
                    }
                }
            }
            check_invariants(&r);
            let mut live: Vec<Entry> = r.iter().collect();
            live.sort_by_key(|e| e.addr);
            proptest::prop_assert_eq!(&live, &m.live());
            proptest::prop_assert_eq!(r.len(), m.map.len());
            proptest::prop_assert_eq!(r.stats(), m.stats);
            proptest::prop_assert_eq!(r.next_expiry(), m.map.values().map(|e| e.expires).min());
            for i in 0..POOL {
                let want = m.map.get(&pool(i)).filter(|e| e.expires > m.clock);
                proptest::prop_assert_eq!(r.lookup(&pool(i)), want.copied());
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// The takeover rule: while an entry lives, nothing another link-layer address sends
    /// (registrations with any ROVR, the owner's included, any TID or lifetime; frames
    /// claiming the address) changes who holds it, where it is reached or when it lapses.
    #[test]
    fn another_link_address_never_takes_a_live_entry(
        gleaned in proptest::prelude::any::<bool>(),
        ops in proptest::collection::vec(
            (0..3usize, proptest::option::of(proptest::prelude::any::<u8>()), 0..3u64,
             proptest::prelude::any::<bool>(), 2..9u16),
            1..60),
    ) {
        let mut r = Small::new();
        let victim = a(1);
        if gleaned {
            r.glean(t(0), victim, ll(1), d(1000));
        } else {
            r.register(t(0), victim, ll(1), &R1, Some(20), d(1000));
        }
        let before = r.lookup(&victim).unwrap();
        for (i, (rovr, tid, life, glean, from)) in ops.into_iter().enumerate() {
            let now = t(1 + i as u64);
            if glean {
                r.glean(now, victim, ll(from), d(600));
            } else {
                let out = r.register(now, victim, ll(from), ROVRS[rovr], tid, d(life * 600));
                proptest::prop_assert_eq!(out, RegisterOutcome::Duplicate);
            }
            let e = r.lookup(&victim).unwrap();
            proptest::prop_assert_eq!(
                (e.ll, e.origin, e.rovr, e.tid, e.expires),
                (before.ll, before.origin, before.rovr, before.tid, before.expires)
            );
        }
    }

    /// The quota rule: whatever is registered, from whichever link-layer addresses, no address
    /// ever holds more live registrations than the quota, and the refused ones are counted
    /// as such (never as a full table while there is room).
    #[test]
    fn no_link_address_exceeds_its_quota(
        quota in 1..5usize,
        ops in proptest::collection::vec((0..POOL, 0..3u16, 0..3u64), 1..120),
    ) {
        let mut r = Small::new();
        for (i, (addr, from, life)) in ops.into_iter().enumerate() {
            let now = t(i as u64);
            let out = r.register_within(now, pool(addr), ll(from), &R1, None, d(life * 30), quota);
            proptest::prop_assert_ne!(out, RegisterOutcome::Full);
            for l in 0..3 {
                proptest::prop_assert!(r.registered_by(&ll(l)) <= quota);
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Address protection (RFC 8928): once an owner proved its Crypto-ID, no registration
    /// without a proof of that same Crypto-ID — from any link-layer address (the owner's
    /// included), with any ROVR, TID or lifetime — moves, removes or re-owns the entry, and a
    /// proof of another Crypto-ID never does either; a refresh without proof comes only from
    /// the owner's (current) link-layer address with its ROVR. Frames (gleaning) change
    /// nothing either.
    #[test]
    fn a_protected_entry_changes_only_with_a_proof_of_its_crypto_id(
        ops in proptest::collection::vec(
            (0..3usize, proptest::option::of(proptest::prelude::any::<u8>()), 0..3u64,
             proptest::prelude::any::<bool>(), 1..5u16, proptest::prelude::any::<bool>()),
            1..60),
    ) {
        let mut r = Small::new();
        let victim = a(1);
        let reg = |ll: Address, rovr: &'static [u8], tid, lifetime, proved| Registration {
            addr: victim, ll, rovr, tid, lifetime, quota: usize::MAX, proved,
        };
        let owner = ll(1);
        let out = r.register_with(t(0), &reg(owner, &LONG, Some(20), d(1000), true));
        proptest::prop_assert_eq!(out, RegisterOutcome::Registered);
        for (i, (rovr, tid, life, glean, from, proved)) in ops.into_iter().enumerate() {
            let now = t(1 + i as u64);
            let before = r.lookup(&victim).unwrap();
            let rovr = ROVRS[rovr];
            // A proof is only ever of the prover's own Crypto-ID: only LONG's owner has one
            // for LONG, and whoever proves R1 or R2 proves another Crypto-ID.
            let life = d(life * 600);
            if glean {
                r.glean(now, victim, ll(from), d(600));
            } else {
                let out = r.register_with(now, &reg(ll(from), rovr, tid, life, proved));
                let owns = rovr == &LONG[..];
                let allowed = owns && (proved || (ll(from) == before.ll && life != Duration::ZERO));
                if !allowed {
                    // Refused: another owner, or its own ROVR without proof from elsewhere
                    // (Duplicate); the owner's stale TID (StaleTid) changes nothing either.
                    proptest::prop_assert!(
                        matches!(out, RegisterOutcome::Duplicate | RegisterOutcome::StaleTid),
                        "{:?}", out
                    );
                }
            }
            match r.lookup(&victim) {
                Some(e) => {
                    proptest::prop_assert!(e.crypto && e.is_owned_by(&LONG));
                    if !(proved && rovr == &LONG[..]) {
                        proptest::prop_assert_eq!(e.ll, before.ll);
                    }
                }
                None => proptest::prop_assert!(proved && rovr == &LONG[..] && life == Duration::ZERO),
            }
            if r.lookup(&victim).is_none() {
                break;
            }
        }
    }
}
