//! The ICMPv6 error rate limiter (RFC 4443 §2.4(f)), per destination and per class.
//!
//! Two classes, each with its own budgets: Packet Too Big, and every other error. Path-MTU
//! discovery must survive a flood of other errors (Linux exempts PTB from its rate mask for
//! the same reason). Each class has one bucket per destination (the invoking packet's
//! source), so one host's flood spends its own bucket and not another host's, and one total
//! bucket that bounds what all destinations get together.
//!
//! Buckets are kept per destination *address*, not per prefix: the hosts of the backbone, and
//! the nodes of the mesh, share one /64 each, so a per-prefix bucket would let any neighbour
//! starve the others. The table holds [`ICMP_PEERS`] destinations; a new one takes the place
//! of the one with the fullest buckets (counted), which loses least by starting over: a full
//! bucket is a fresh one. So a flood from rotating sources churns its own fresh entries and
//! leaves a drained destination's bucket in place (an error-reflection victim stays limited),
//! and a host whose entry was taken comes back with a full bucket: the table never starves
//! anyone; only the total budgets are shared.

use core::net::Ipv6Addr;

use crate::config::{ICMP_PEERS, RateLimit, StackConfig};
use crate::time::Instant;

/// A bucket is kept as its theoretical arrival time (GCRA, the token bucket's equivalent):
/// the instant, in microseconds, at which it will be full again. With `T = 1 s / per_sec`, a
/// token is available while `tat <= now + (burst - 1) T`, and taking it adds `T`. The
/// bucket's state after a token is taken at `now`, or `None` when it is empty (a zero rate
/// or burst is always empty).
#[inline(never)]
pub(crate) fn take(tat: u64, now: Instant, r: RateLimit) -> Option<u64> {
    take_every(
        tat,
        now,
        1_000_000u64.checked_div(u64::from(r.per_sec))?,
        r.burst,
    )
}

/// [`take`] for a bucket that gains one token every `interval_us` microseconds (for rates
/// below one per second) and holds at most `burst`. A zero burst is always empty (a zero
/// interval never runs out). Out of line: one copy for every bucket of the firmware (ICMPv6 errors, solicited
/// RAs, the 6LBR's per-source registration budget).
#[inline(never)]
pub fn take_every(tat: u64, now: Instant, interval_us: u64, burst: u32) -> Option<u64> {
    let tolerance = interval_us.saturating_mul(u64::from(burst.checked_sub(1)?));
    let now = now.as_micros();
    (tat <= now.saturating_add(tolerance)).then(|| tat.max(now).saturating_add(interval_us))
}

#[derive(Clone, Copy, Debug)]
struct Peer {
    /// The destination (`::`: a free entry).
    dst: Ipv6Addr,
    /// Its buckets per class (other errors, Packet Too Big), see [`take`].
    tat: [u64; 2],
}

/// Why an error was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Limited {
    /// The destination spent its own budget.
    Destination,
    /// All destinations together spent the total budget.
    Total,
}

/// The limiter (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct ErrorLimiter {
    /// The total budget per class, see [`take`].
    total: [u64; 2],
    peers: [Peer; ICMP_PEERS],
    /// Destinations that lost their place to a newer one.
    pub(crate) evictions: u32,
    /// Errors refused by a total budget.
    pub(crate) total_limited: u32,
}

impl ErrorLimiter {
    /// Full budgets, no destinations.
    pub(crate) const fn new() -> Self {
        ErrorLimiter {
            total: [0; 2],
            peers: [Peer {
                dst: Ipv6Addr::UNSPECIFIED,
                tat: [0; 2],
            }; ICMP_PEERS],
            evictions: 0,
            total_limited: 0,
        }
    }

    /// Take a token for an error to `dst` (`ptb`: a Packet Too Big), or say why not.
    pub(crate) fn allow(
        &mut self,
        c: &StackConfig,
        now: Instant,
        dst: &Ipv6Addr,
        ptb: bool,
    ) -> Result<(), Limited> {
        let p = match self.peers.iter().position(|p| p.dst == *dst) {
            Some(i) => self.peers.get_mut(i),
            None => {
                // Room for it: the fullest buckets (earliest full again) lose least by
                // starting over; free entries are the fullest of all.
                let old = self
                    .peers
                    .iter_mut()
                    .min_by_key(|p| p.tat[0].saturating_add(p.tat[1]));
                old.map(|old| {
                    if !old.dst.is_unspecified() {
                        self.evictions = self.evictions.wrapping_add(1);
                    }
                    *old = Peer {
                        dst: *dst,
                        tat: [0; 2],
                    };
                    old
                })
            }
        };
        let p = p.ok_or(Limited::Total)?;
        // The class: 0 other errors, 1 Packet Too Big (in bounds: a bool).
        let k = usize::from(ptb);
        let (dest, total) = if ptb {
            (c.ptb_per_dest, c.ptb_total)
        } else {
            let r = RateLimit {
                per_sec: c.icmp_errors_per_sec,
                burst: c.icmp_error_burst,
            };
            (r, c.icmp_errors_total)
        };
        let mine = take(p.tat[k], now, dest).ok_or(Limited::Destination)?;
        let Some(all) = take(self.total[k], now, total) else {
            self.total_limited = self.total_limited.wrapping_add(1);
            return Err(Limited::Total);
        };
        p.tat[k] = mine;
        self.total[k] = all;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn dst(n: u8) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, u16::from(n) + 1)
    }

    fn config(per_sec: u32, burst: u32) -> StackConfig {
        let r = RateLimit { per_sec, burst };
        let twice = RateLimit {
            per_sec: 2 * per_sec,
            burst: 2 * burst,
        };
        StackConfig {
            icmp_errors_per_sec: per_sec,
            icmp_error_burst: burst,
            icmp_errors_total: twice,
            ptb_per_dest: r,
            ptb_total: twice,
            ..StackConfig::default()
        }
    }

    /// Run `events` (microseconds since the previous one, destination, PTB?) and return the
    /// decisions.
    fn run(c: &StackConfig, events: &[(u64, u8, bool)]) -> Vec<Result<(), Limited>> {
        let mut l = ErrorLimiter::new();
        let mut now = Instant::from_secs(1);
        events
            .iter()
            .map(|&(dt, d, ptb)| {
                now += crate::Duration::from_micros(dt);
                l.allow(c, now, &dst(d), ptb)
            })
            .collect()
    }

    #[test]
    fn burst_then_rate_per_destination_and_the_total_caps_the_rest() {
        let c = config(2, 3); // per destination 2/s, burst 3; total 4/s, burst 6
        let mut l = ErrorLimiter::new();
        let t = Instant::from_secs(5);
        let a = dst(0);
        assert!((0..3).all(|_| l.allow(&c, t, &a, false).is_ok()));
        assert_eq!(l.allow(&c, t, &a, false), Err(Limited::Destination));
        // Its PTB budget is untouched, and so is another destination's.
        assert!((0..3).all(|_| l.allow(&c, t, &a, true).is_ok()));
        assert!((0..3).all(|_| l.allow(&c, t, &dst(1), false).is_ok()));
        // The total (6) is spent now: a third destination waits for the refill.
        assert_eq!(l.allow(&c, t, &dst(2), false), Err(Limited::Total));
        assert_eq!(l.total_limited, 1);
        let t = t + crate::Duration::from_millis(500);
        assert!(l.allow(&c, t, &dst(2), false).is_ok());
        assert!(
            l.allow(&c, t, &a, false).is_ok(),
            "one token back in 500 ms"
        );
        assert_eq!(l.allow(&c, t, &a, false), Err(Limited::Destination));
    }

    #[test]
    fn the_fullest_bucket_makes_room_counted() {
        let big = RateLimit {
            per_sec: 100,
            burst: 100,
        };
        let c = StackConfig {
            icmp_errors_total: big,
            ptb_total: big,
            ..config(1, 2)
        };
        let mut l = ErrorLimiter::new();
        let t = Instant::from_secs(5);
        // dst(0) spends its whole budget; the others one token each.
        for n in 0..ICMP_PEERS as u8 {
            let _ = l.allow(&c, t, &dst(n), true);
        }
        let _ = l.allow(&c, t, &dst(0), true);
        assert_eq!(l.allow(&c, t, &dst(0), true), Err(Limited::Destination));
        assert_eq!(l.evictions, 0);
        // New destinations (a source rotating its address) take the place of the fullest
        // entries, never of the drained dst(0).
        for n in 10..30 {
            assert!(l.allow(&c, t, &dst(n), false).is_ok());
        }
        assert_eq!(l.evictions, 20);
        assert_eq!(l.allow(&c, t, &dst(0), true), Err(Limited::Destination));
    }

    proptest! {
        /// Whatever the traffic, each class's total never exceeds its burst plus its rate
        /// over the time elapsed, and with no more destinations than the table holds neither
        /// does any destination's.
        #[test]
        fn never_more_than_the_buckets_allow(
            events in prop::collection::vec((0u64..400_000, 0u8..8, any::<bool>()), 1..300),
            per_sec in 1u32..20,
            burst in 1u32..10,
        ) {
            let c = config(per_sec, burst);
            let got = run(&c, &events);
            let few = events.iter().all(|e| usize::from(e.1) < ICMP_PEERS);
            for ptb in [false, true] {
                let mut elapsed = 0u64;
                let (mut total, mut per) = (0u64, [0u64; 8]);
                for (e, r) in events.iter().zip(&got) {
                    elapsed += e.0;
                    if e.2 == ptb && r.is_ok() {
                        total += 1;
                        per[usize::from(e.1)] += 1;
                    }
                    // A token every `1 s / rate` (rounded down), after the burst.
                    let allowance = |rate: u32, burst: u32| {
                        u64::from(burst) + elapsed / (1_000_000 / u64::from(rate))
                    };
                    prop_assert!(total <= allowance(2 * per_sec, 2 * burst));
                    if few {
                        for n in per {
                            prop_assert!(n <= allowance(per_sec, burst));
                        }
                    }
                }
            }
        }

        /// Packet Too Big has its own budget: with every destination in the table, removing
        /// all the other errors changes no PTB decision (and the other way round).
        #[test]
        fn one_class_never_spends_the_others_budget(
            events in prop::collection::vec(
                (0u64..400_000, 0u8..ICMP_PEERS as u8, any::<bool>()), 1..300),
            per_sec in 1u32..20,
            burst in 1u32..10,
        ) {
            let c = config(per_sec, burst);
            let all = run(&c, &events);
            for ptb in [false, true] {
                // Keep the time line: a removed event's delay moves to the next one.
                let mut carry = 0;
                let mut only = Vec::new();
                let mut want = Vec::new();
                for (e, r) in events.iter().zip(&all) {
                    carry += e.0;
                    if e.2 == ptb {
                        only.push((carry, e.1, e.2));
                        want.push(*r);
                        carry = 0;
                    }
                }
                prop_assert_eq!(run(&c, &only), want);
            }
        }

        /// One destination's flood never denies another that stays within its rate, while
        /// the total is at least the sum of both (the issue-19 attack, for every timing).
        #[test]
        fn a_flooder_never_starves_a_host_within_its_rate(
            flood in prop::collection::vec((0u64..200_000, any::<bool>()), 1..400),
            per_sec in 1u32..20,
            burst in 1u32..10,
            first in 0u64..2_000_000,
        ) {
            let c = config(per_sec, burst);
            let mut l = ErrorLimiter::new();
            let start = Instant::from_secs(1);
            let spacing = 1_000_000u64.div_ceil(u64::from(per_sec));
            let (mut now, mut next) = (start, start + crate::Duration::from_micros(first));
            for (dt, ptb) in flood {
                now += crate::Duration::from_micros(dt);
                while next <= now {
                    prop_assert!(l.allow(&c, next, &dst(1), true).is_ok(), "PTB");
                    prop_assert!(l.allow(&c, next, &dst(1), false).is_ok(), "other");
                    next += crate::Duration::from_micros(spacing);
                }
                let _ = l.allow(&c, now, &dst(0), ptb);
            }
        }
    }
}
