//! Duplicate rejection: the last sequence number seen per source, for a configured lifetime.

use netif::time::Instant;

use crate::frame::Address;

use super::Mac;
use super::counters::bump;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DupEntry {
    pub(super) addr: Address,
    pub(super) seq: u8,
    pub(super) seen: Instant,
}

impl<const TXQ: usize, const DUP: usize, const NBR: usize> Mac<TXQ, DUP, NBR> {
    pub(super) fn is_duplicate(&mut self, addr: Address, seq: u8, now: Instant) -> bool {
        let lifetime = self.cfg.duplicate_lifetime;
        if let Some(e) = self.res.dups.iter_mut().find(|e| e.addr == addr) {
            let dup = e.seq == seq && now.saturating_since(e.seen) < lifetime;
            e.seq = seq;
            e.seen = now;
            return dup;
        }
        let entry = DupEntry {
            addr,
            seq,
            seen: now,
        };
        if let Err(entry) = self.res.dups.push(entry) {
            bump(&mut self.counters.dup_table_evictions);
            if let Some(oldest) = self.res.dups.iter_mut().min_by_key(|e| e.seen) {
                *oldest = entry;
            }
        }
        false
    }
}
