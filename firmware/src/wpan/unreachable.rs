//! Neighbours that stopped acknowledging: neighbour unreachability detection on `wpan0` from
//! the MAC's link-layer hints (RFC 4861 §7.3; RFC 6775 §5.5 has 6LoWPAN nodes use link-layer
//! ACKs for it).
//!
//! [`UNREACHABLE_AFTER`] unicast frames in a row to a neighbour that ended without ACK, each
//! after all the MAC's retries, make it unreachable: datagrams for it are refused at once
//! (the core answers Destination Unreachable, address unreachable) instead of each costing
//! the radio a full round of retries while the rest of the mesh waits behind it. One
//! datagram every [`PROBE_EVERY`] still goes, as NUD's probe does; its ACK, or any frame
//! heard from the neighbour, makes it reachable again. The table is bounded
//! ([`UNREACHABLE_NBRS`]); when full, a neighbour merely failing gives way before one found
//! unreachable, and the one touched longest ago goes first (counted).

use heapless::Vec;
use l2_15_4::frame::Address;
use netif::time::{Duration, Instant};

/// Failed frames in a row after which a neighbour is unreachable.
pub const UNREACHABLE_AFTER: u8 = 3;
/// How often one datagram still goes to an unreachable neighbour, as a probe.
pub const PROBE_EVERY: Duration = Duration::from_secs(5);
/// Neighbours tracked (failing or unreachable).
pub const UNREACHABLE_NBRS: usize = 8;

#[derive(Debug, Clone, Copy)]
struct Nbr {
    addr: Address,
    fails: u8,
    /// Unreachable: when the next probe may go.
    probe_at: Option<Instant>,
}

/// The failing and unreachable neighbours of one interface.
#[derive(Debug, Default)]
pub struct Unreachable {
    /// Least recently touched first.
    table: Vec<Nbr, UNREACHABLE_NBRS>,
}

/// What a transmit outcome changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing worth counting.
    None,
    /// The neighbour just became unreachable.
    Unreachable,
    /// A tracked neighbour was forgotten to make room.
    Evicted,
}

impl Unreachable {
    fn take(&mut self, addr: &Address) -> Option<Nbr> {
        let k = self.table.iter().position(|n| n.addr == *addr)?;
        Some(self.table.remove(k))
    }

    /// A unicast frame to `addr` ended: acknowledged, or without ACK after every retry.
    pub fn tx_outcome(&mut self, now: Instant, addr: Address, acked: bool) -> Change {
        if addr.is_broadcast() {
            return Change::None;
        }
        let found = self.take(&addr);
        if acked {
            return Change::None;
        }
        let mut n = found.unwrap_or(Nbr {
            addr,
            fails: 0,
            probe_at: None,
        });
        n.fails = n.fails.saturating_add(1);
        let mut change = Change::None;
        if n.fails >= UNREACHABLE_AFTER {
            // Newly unreachable, or a probe that failed: the next probe waits.
            if n.probe_at.is_none() {
                change = Change::Unreachable;
            }
            n.probe_at = Some(now + PROBE_EVERY);
        }
        if self.table.is_full() {
            // Someone merely failing goes before someone unreachable; the oldest first.
            let k = self
                .table
                .iter()
                .position(|n| n.probe_at.is_none())
                .unwrap_or(0);
            self.table.remove(k);
            if change == Change::None {
                change = Change::Evicted;
            }
        }
        let _ = self.table.push(n);
        change
    }

    /// A frame arrived from `addr`: it is there.
    pub fn heard(&mut self, addr: &Address) {
        self.take(addr);
    }

    /// Whether a datagram for `addr` is refused now (unreachable, and no probe due).
    pub fn refuses(&self, now: Instant, addr: &Address) -> bool {
        self.table
            .iter()
            .any(|n| n.addr == *addr && n.probe_at.is_some_and(|p| now < p))
    }

    /// A datagram for `addr` goes: if it is unreachable, it is the probe, and the next one
    /// waits [`PROBE_EVERY`].
    pub fn sending(&mut self, now: Instant, addr: &Address) {
        if let Some(n) = self.table.iter_mut().find(|n| n.addr == *addr)
            && n.probe_at.is_some()
        {
            n.probe_at = Some(now + PROBE_EVERY);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::ZERO + Duration::from_millis(ms)
    }

    const A: Address = Address::Extended([1; 8]);
    const B: Address = Address::Extended([2; 8]);

    #[test]
    fn three_failures_in_a_row_make_a_neighbour_unreachable_until_heard() {
        let mut u = Unreachable::default();
        assert_eq!(u.tx_outcome(at(0), A, false), Change::None);
        assert_eq!(u.tx_outcome(at(1), A, false), Change::None);
        assert_eq!(u.tx_outcome(at(2), A, true), Change::None, "an ACK resets");
        u.tx_outcome(at(3), A, false);
        u.tx_outcome(at(4), A, false);
        assert!(!u.refuses(at(4), &A));
        assert_eq!(u.tx_outcome(at(5), A, false), Change::Unreachable);
        assert!(u.refuses(at(5), &A));
        assert!(!u.refuses(at(5), &B));
        u.heard(&A);
        assert!(!u.refuses(at(6), &A));
    }

    #[test]
    fn one_probe_goes_every_interval_and_its_ack_lifts_it() {
        let mut u = Unreachable::default();
        for t in 0..3 {
            u.tx_outcome(at(t), A, false);
        }
        assert!(u.refuses(at(4_999 + 2), &A));
        assert!(!u.refuses(at(5_002), &A), "a probe is due");
        u.sending(at(5_002), &A);
        assert!(u.refuses(at(5_003), &A), "only one");
        assert_eq!(
            u.tx_outcome(at(5_050), A, false),
            Change::None,
            "the probe failed"
        );
        assert!(u.refuses(at(10_049), &A));
        assert!(!u.refuses(at(10_050), &A));
        u.sending(at(10_050), &A);
        u.tx_outcome(at(10_060), A, true);
        assert!(!u.refuses(at(10_061), &A));
    }

    #[test]
    fn the_table_is_bounded_and_keeps_the_unreachable() {
        let mut u = Unreachable::default();
        for t in 0..3 {
            u.tx_outcome(at(t), A, false);
        }
        for k in 0..UNREACHABLE_NBRS as u8 + 4 {
            let n = Address::Extended([0x10 + k; 8]);
            u.tx_outcome(at(10), n, false);
        }
        assert!(u.refuses(at(11), &A), "the unreachable one stays");
        assert_eq!(
            u.tx_outcome(at(12), Address::BROADCAST, false),
            Change::None
        );
    }
}
