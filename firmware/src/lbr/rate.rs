//! The 6LBR's registration rate limit per link-layer source ([`SourceRate`], a token
//! bucket per source kept as netif's GCRA state).

use l2_15_4::Address;
use netif::Instant;
use netif::icmp;

use super::{Lbr, REG_RATE_BURST, REG_RATE_REFILL_S, REG_RATE_SOURCES};

/// The registration budget of one link-layer source: a token bucket of [`REG_RATE_BURST`]
/// tokens, one more every [`REG_RATE_REFILL_S`] seconds, kept as netif's GCRA state
/// ([`netif::icmp::take_every`]). A free slot has `key` 0.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SourceRate {
    /// The source ([`rate_key`]).
    pub(super) key: u64,
    /// When its bucket is full again, µs.
    pub(super) tat: u64,
}

/// A link-layer address as one number: an extended address as itself, a short one above
/// every extended address with its top bytes `ff:ff:ff:ff:ff:fe` (a collision only makes two
/// sources share a budget).
pub(super) fn rate_key(ll: Address) -> u64 {
    match ll {
        Address::Extended(e) => u64::from_be_bytes(e),
        Address::Short(s) => 0xffff_ffff_fffe_0000 | u64::from(s),
    }
}

impl Lbr {
    /// Takes one registration token of `ll`; false (counted) when it has none left. A new
    /// source takes a free slot, else the one with the fullest bucket (counted): it loses
    /// least by starting over.
    pub(super) fn reg_rate_take(&mut self, ll: Address, now: Instant) -> bool {
        let key = rate_key(ll);
        let slots = &mut self.reg_rate;
        let i = match slots.iter().position(|r| r.key == key) {
            Some(i) => i,
            None => {
                let i = (0..REG_RATE_SOURCES)
                    .min_by_key(|&i| slots.get(i).map(|r| (r.key != 0, r.tat)))
                    .unwrap_or(0);
                if slots.get(i).is_some_and(|r| r.key != 0) {
                    self.stats.reg_rate_evicted += 1;
                }
                if let Some(r) = slots.get_mut(i) {
                    *r = SourceRate { key, tat: 0 };
                }
                i
            }
        };
        let Some(r) = slots.get_mut(i) else {
            return false;
        };
        let interval = u64::from(REG_RATE_REFILL_S) * 1_000_000;
        match icmp::take_every(r.tat, now, interval, u32::from(REG_RATE_BURST)) {
            Some(tat) => {
                r.tat = tat;
                true
            }
            None => {
                self.stats.reg_rate_limited += 1;
                false
            }
        }
    }
}
