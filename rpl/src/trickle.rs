//! The Trickle algorithm (RFC 6206), which paces DIOs (RFC 6550 §8.3), sans-IO: time is
//! milliseconds passed in by the caller, and randomness is a `u32` the caller draws for
//! every call that may start an interval.
//!
//! Parameters: the minimum interval Imin, the number of doublings to Imax, and the redundancy
//! constant k (0: never suppress, RFC 6550's "infinity"). State: the current interval I, the
//! point t in it (uniform in [I/2, I)), and the counter c of consistent messages heard.
//!
//! - [`Trickle::start`]: I = Imin and a new interval (RFC 6206 §4.2 rule 1);
//! - [`Trickle::hear_consistent`]: c += 1 (rule 3);
//! - [`Trickle::hear_inconsistent`]: back to Imin unless already there (rule 6);
//! - [`Trickle::poll`]: at t, transmit if c < k (rule 4); at the end of the interval, double
//!   I up to Imax and start a new one (rule 5).

/// A Trickle timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Trickle {
    imin_ms: u64,
    imax_ms: u64,
    k: u8,
    /// The current interval.
    i_ms: u64,
    /// When it began.
    start_ms: u64,
    /// Offset of the transmission point in it.
    t_ms: u64,
    /// Consistent messages heard in it.
    c: u8,
    /// The transmission point of this interval has passed.
    past_t: bool,
    running: bool,
}

/// What [`Trickle::poll`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Fire {
    /// Nothing due.
    Idle,
    /// Transmit now.
    Transmit,
    /// The transmission of this interval was suppressed (c >= k).
    Suppressed,
}

impl Trickle {
    /// A stopped timer with Imin = `imin_ms` (at least 1), Imax = Imin × 2^`doublings`
    /// (doublings capped at 31) and redundancy constant `k`.
    pub const fn new(imin_ms: u32, doublings: u8, k: u8) -> Trickle {
        let imin = if imin_ms == 0 { 1 } else { imin_ms as u64 };
        let d = if doublings > 31 { 31 } else { doublings };
        Trickle {
            imin_ms: imin,
            imax_ms: imin << d,
            k,
            i_ms: imin,
            start_ms: 0,
            t_ms: 0,
            c: 0,
            past_t: true,
            running: false,
        }
    }

    /// Imin, milliseconds.
    pub fn imin_ms(&self) -> u64 {
        self.imin_ms
    }

    /// Imax, milliseconds.
    pub fn imax_ms(&self) -> u64 {
        self.imax_ms
    }

    /// The current interval, milliseconds.
    pub fn interval_ms(&self) -> u64 {
        self.i_ms
    }

    /// Consistent messages heard in the current interval.
    pub fn counter(&self) -> u8 {
        self.c
    }

    /// Whether the timer runs.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Starts (or restarts) with I = Imin (RFC 6206 §4.2 rule 1).
    pub fn start(&mut self, now_ms: u64, rand: u32) {
        self.running = true;
        self.i_ms = self.imin_ms;
        self.begin(now_ms, rand);
    }

    /// Stops the timer: [`poll`](Self::poll) fires nothing until the next start.
    pub fn stop(&mut self) {
        self.running = false;
    }

    /// A consistent transmission was heard (rule 3).
    pub fn hear_consistent(&mut self) {
        self.c = self.c.saturating_add(1);
    }

    /// An inconsistency was heard, or an event asks for quick updates (rule 6): if I is
    /// above Imin, back to Imin with a new interval; else nothing.
    pub fn hear_inconsistent(&mut self, now_ms: u64, rand: u32) {
        if self.running && self.i_ms > self.imin_ms {
            self.i_ms = self.imin_ms;
            self.begin(now_ms, rand);
        }
    }

    /// Advance to `now_ms`: [`Fire::Transmit`] once when the transmission point of the
    /// current interval has passed and fewer than k consistent messages were heard (always
    /// with k = 0). Intervals that ended are doubled (up to Imax) and restarted, with `rand`
    /// choosing the new t. Called late, it catches up without firing for intervals that
    /// passed whole.
    pub fn poll(&mut self, now_ms: u64, rand: u32) -> Fire {
        if !self.running {
            return Fire::Idle;
        }
        let mut fire = Fire::Idle;
        // Intervals that ended, one by one (each doubles I up to Imax); after 64 of them the
        // rest are skipped whole, keeping the phase.
        let mut steps = 0;
        loop {
            let end = self.start_ms.saturating_add(self.i_ms);
            if now_ms < end || end == u64::MAX {
                break;
            }
            if !self.past_t {
                // Its transmission point passed while nobody polled.
                self.past_t = true;
                fire = self.decide();
            }
            self.i_ms = self.i_ms.saturating_mul(2).min(self.imax_ms);
            steps += 1;
            let start = if steps >= 64 {
                now_ms - now_ms.saturating_sub(end) % self.i_ms
            } else {
                end
            };
            self.begin(start, rand);
            if steps >= 64 {
                break;
            }
        }
        if !self.past_t && now_ms >= self.start_ms.saturating_add(self.t_ms) {
            self.past_t = true;
            fire = self.decide();
        }
        fire
    }

    fn decide(&self) -> Fire {
        if self.k == 0 || self.c < self.k {
            Fire::Transmit
        } else {
            Fire::Suppressed
        }
    }

    /// The next instant [`poll`](Self::poll) has something to do (`None` when stopped).
    pub fn next_deadline(&self) -> Option<u64> {
        if !self.running {
            return None;
        }
        Some(if self.past_t {
            self.start_ms.saturating_add(self.i_ms)
        } else {
            self.start_ms.saturating_add(self.t_ms)
        })
    }

    /// Until the transmission point of this interval (`None`: passed, or stopped).
    pub fn until_transmit(&self, now_ms: u64) -> Option<u64> {
        (self.running && !self.past_t).then(|| {
            self.start_ms
                .saturating_add(self.t_ms)
                .saturating_sub(now_ms)
        })
    }

    fn begin(&mut self, now_ms: u64, rand: u32) {
        self.start_ms = now_ms;
        self.c = 0;
        self.past_t = false;
        let half = self.i_ms / 2;
        // t uniform in [I/2, I): I − I/2 values.
        let span = self.i_ms - half;
        self.t_ms = half + ((u128::from(rand) * u128::from(span)) >> 32) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Runs `t` until `until_ms` with a poll every millisecond; returns transmission times.
    fn run(t: &mut Trickle, from: u64, until_ms: u64, rand: u32) -> std::vec::Vec<u64> {
        let mut out = std::vec::Vec::new();
        for now in from..until_ms {
            if t.poll(now, rand) == Fire::Transmit {
                out.push(now);
            }
        }
        out
    }

    extern crate std;

    #[test]
    fn intervals_double_up_to_imax() {
        let mut t = Trickle::new(100, 3, 10);
        t.start(0, 0); // t at I/2
        let sent = run(&mut t, 0, 100 + 200 + 400 + 800 + 800 + 1, 0);
        // Intervals [0,100) [100,300) [300,700) [700,1500) [1500,2300): one DIO at each I/2.
        assert_eq!(sent, std::vec![50, 200, 500, 1100, 1900]);
        assert_eq!(t.interval_ms(), 800, "capped at Imax = 100 * 2^3");
    }

    #[test]
    fn k_consistent_messages_suppress_the_transmission() {
        let mut t = Trickle::new(100, 2, 2);
        t.start(0, 0);
        t.hear_consistent();
        t.hear_consistent();
        assert_eq!(t.poll(50, 0), Fire::Suppressed);
        // The counter restarts with the next interval.
        assert_eq!(t.poll(100, 0), Fire::Idle);
        assert_eq!(t.counter(), 0);
        assert_eq!(t.poll(200, 0), Fire::Transmit);
        // k = 0 never suppresses.
        let mut t = Trickle::new(100, 2, 0);
        t.start(0, 0);
        for _ in 0..300 {
            t.hear_consistent();
        }
        assert_eq!(t.poll(50, 0), Fire::Transmit);
    }

    #[test]
    fn an_inconsistency_resets_to_imin() {
        let mut t = Trickle::new(100, 4, 10);
        t.start(0, 0);
        run(&mut t, 0, 1500, 0);
        assert!(t.interval_ms() > 100);
        t.hear_inconsistent(1500, 0);
        assert_eq!(t.interval_ms(), 100);
        assert_eq!(t.next_deadline(), Some(1550));
        // At Imin already: nothing changes (no endless resets).
        t.hear_inconsistent(1520, u32::MAX);
        assert_eq!(t.next_deadline(), Some(1550));
    }

    #[test]
    fn a_late_poll_catches_up_and_fires_once() {
        let mut t = Trickle::new(100, 2, 10);
        t.start(0, 0);
        assert_eq!(t.poll(10_000, 0), Fire::Transmit);
        assert_eq!(t.interval_ms(), 400);
        let d = t.next_deadline().unwrap();
        assert!(d > 10_000 && d <= 10_400, "{d}");
        assert_eq!(t.poll(10_000, 0), Fire::Idle);
    }

    #[test]
    fn no_overflow_at_the_end_of_time() {
        let mut t = Trickle::new(u32::MAX, 31, 1);
        t.start(u64::MAX - 10, u32::MAX);
        for now in [u64::MAX - 5, u64::MAX] {
            let _ = t.poll(now, u32::MAX);
        }
        assert!(t.next_deadline().is_some());
        let stopped = Trickle::new(0, 0, 0);
        assert_eq!(stopped.next_deadline(), None);
        assert_eq!(stopped.imin_ms(), 1);
    }

    proptest! {
        /// t is in [I/2, I) for any random draw and interval.
        #[test]
        fn t_lies_in_the_second_half(imin in 1u32..100_000, d in 0u8..20, r: u32, now in 0u64..1u64 << 40) {
            let mut t = Trickle::new(imin, d, 1);
            t.start(now, r);
            let i = t.interval_ms();
            let until = t.until_transmit(now).unwrap();
            prop_assert!(until >= i / 2 && until < i.max(1), "t {} for I {}", until, i);
        }
    }
}
