//! Frame counters: the per-(neighbour, key) replay table of received counters and the outgoing
//! frame counter with its persist-ahead rule.

use heapless::Vec;

/// One neighbour's highest accepted frame counter under one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct Entry {
    source: [u8; 8],
    key_index: u8,
    counter: u32,
    /// Accepts of other pairs since this one's last (saturating): the largest is the least
    /// recently used. Sits in the padding: the entry stays 16 bytes.
    age: u16,
}

/// A received frame counter that is not above the last one accepted from that neighbour
/// under that key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Replayed {
    /// The highest counter accepted so far.
    pub last: u32,
}

impl core::fmt::Display for Replayed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "frame counter not above {} (replay)", self.last)
    }
}

impl core::error::Error for Replayed {}

/// The highest frame counter accepted per (source extended address, key index), for at most
/// `N` pairs.
///
/// A frame passes [`ReplayTable::check`] only if its counter is strictly greater than the one
/// stored for its pair (any counter passes for an unknown pair). [`ReplayTable::accept`]
/// records it, and must be called only after the frame's MIC verified: an attacker's forged
/// counter never moves the window. When the table is full, accepting a new pair evicts the
/// least recently used one and counts it ([`ReplayTable::evictions`]): the evicted neighbour's
/// old frames would pass again, so the capacity must cover the neighbours.
#[derive(Debug, Clone)]
pub struct ReplayTable<const N: usize> {
    /// In no order; [`Entry::age`] ranks them (updated in place: no element moves).
    entries: Vec<Entry, N>,
    evictions: u32,
}

impl<const N: usize> Default for ReplayTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ReplayTable<N> {
    /// An empty table.
    pub const fn new() -> Self {
        ReplayTable {
            entries: Vec::new(),
            evictions: 0,
        }
    }

    fn position(&self, source: &[u8; 8], key_index: u8) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.source == *source && e.key_index == key_index)
    }

    /// The highest counter accepted from `source` under `key_index`, if the pair is tracked.
    pub fn last(&self, source: &[u8; 8], key_index: u8) -> Option<u32> {
        self.position(source, key_index)
            .and_then(|i| self.entries.get(i))
            .map(|e| e.counter)
    }

    /// Whether a frame from `source` under `key_index` with `counter` is new. Changes nothing.
    pub fn check(&self, source: &[u8; 8], key_index: u8, counter: u32) -> Result<(), Replayed> {
        match self.last(source, key_index) {
            Some(last) if counter <= last => Err(Replayed { last }),
            _ => Ok(()),
        }
    }

    /// Records `counter` as accepted from `source` under `key_index` (after its MIC verified)
    /// and marks the pair most recently used. A counter below the stored one never lowers it.
    /// Returns `true` if a least recently used pair was evicted to make room.
    pub fn accept(&mut self, source: &[u8; 8], key_index: u8, counter: u32) -> bool {
        for e in self.entries.iter_mut() {
            e.age = e.age.saturating_add(1);
        }
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.source == *source && e.key_index == key_index)
        {
            e.counter = e.counter.max(counter);
            e.age = 0;
            return false;
        }
        let entry = Entry {
            source: *source,
            key_index,
            counter,
            age: 0,
        };
        let Err(entry) = self.entries.push(entry) else {
            return false;
        };
        // Full: the oldest pair makes room (N == 0 stores nothing).
        let Some(victim) = self.entries.iter_mut().max_by_key(|e| e.age) else {
            return false;
        };
        *victim = entry;
        self.evictions = self.evictions.wrapping_add(1);
        true
    }

    /// Forgets every pair of key index `key_index` (its key was retired).
    pub fn forget_key(&mut self, key_index: u8) {
        self.entries.retain(|e| e.key_index != key_index);
    }

    /// Pairs tracked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no pair is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Pairs evicted to make room since creation (wrapping).
    pub fn evictions(&self) -> u32 {
        self.evictions
    }
}

/// Why no outgoing frame counter was handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CounterError {
    /// Every counter below `0xffff_ffff` was used (the standard reserves that value): rotate
    /// to a new key and [`FrameCounter::restart`].
    Exhausted,
    /// The counter reached the last persisted value plus the persist step: persist
    /// ([`FrameCounter::needs_persist`]) and confirm ([`FrameCounter::persisted`]) first, or a
    /// reboot could send these counters again.
    PersistPending,
}

impl core::fmt::Display for CounterError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CounterError::Exhausted => "outgoing frame counter exhausted: rotate the key",
            CounterError::PersistPending => "outgoing frame counter must be persisted first",
        })
    }
}

impl core::error::Error for CounterError {}

/// The outgoing frame counter of one interface, never reused across reboots.
///
/// Persist ahead: storage holds a value `S` such that every counter used so far is below
/// `S + step`. After a reboot the counter starts at `S + step` ([`FrameCounter::resume`]), so
/// no counter is sent twice even though storage is written only every so often.
/// [`FrameCounter::needs_persist`] asks for a write (of the counter's current value) once half
/// a step has been used since the last one, leaving the other half for the write to finish;
/// [`FrameCounter::take`] refuses ([`CounterError::PersistPending`]) at a full step without a
/// confirmed write. After [`FrameCounter::resume`] the first write is due at once.
///
/// The value `0xffff_ffff` is never sent ([`CounterError::Exhausted`]): the key must be
/// rotated, after which the counter restarts at 0 ([`FrameCounter::restart`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameCounter {
    next: u32,
    persisted: u32,
    step: u32,
}

impl FrameCounter {
    /// A counter at 0 for a fresh key whose storage holds 0 (`step` at least 2).
    pub const fn restart(step: u32) -> Self {
        FrameCounter {
            next: 0,
            persisted: 0,
            step: if step < 2 { 2 } else { step },
        }
    }

    /// The counter after a reboot, storage holding `stored`: it starts at `stored + step`
    /// (saturating: at `0xffff_ffff` it is exhausted).
    pub const fn resume(stored: u32, step: u32) -> Self {
        let step = if step < 2 { 2 } else { step };
        FrameCounter {
            next: stored.saturating_add(step),
            persisted: stored,
            step,
        }
    }

    /// The counter for the next frame, consumed.
    pub fn take(&mut self) -> Result<u32, CounterError> {
        if self.next == u32::MAX {
            return Err(CounterError::Exhausted);
        }
        if self.next.wrapping_sub(self.persisted) >= self.step {
            return Err(CounterError::PersistPending);
        }
        let c = self.next;
        self.next += 1;
        Ok(c)
    }

    /// The counter the next frame would get (without consuming it).
    pub fn peek(&self) -> u32 {
        self.next
    }

    /// The value to write to storage now, if a write is due: the current counter.
    pub fn needs_persist(&self) -> Option<u32> {
        (self.next.wrapping_sub(self.persisted) >= self.step / 2).then_some(self.next)
    }

    /// Confirms that `value` (from [`FrameCounter::needs_persist`]) is in storage. Values
    /// above the current counter or below the last confirmed one are ignored.
    pub fn persisted(&mut self, value: u32) {
        if value <= self.next && value >= self.persisted {
            self.persisted = value;
        }
    }

    /// Whether the counter is within `margin` of exhaustion (time to rotate the key).
    pub fn near_exhaustion(&self, margin: u32) -> bool {
        self.next >= u32::MAX.saturating_sub(margin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 8] = [0xa; 8];
    const B: [u8; 8] = [0xb; 8];

    #[test]
    fn only_strictly_increasing_counters_pass() {
        let mut t = ReplayTable::<4>::new();
        assert_eq!(t.check(&A, 1, 0), Ok(()), "unknown pair: anything passes");
        assert!(!t.accept(&A, 1, 10));
        assert_eq!(t.check(&A, 1, 10), Err(Replayed { last: 10 }), "equal");
        assert_eq!(t.check(&A, 1, 9), Err(Replayed { last: 10 }), "older");
        assert_eq!(t.check(&A, 1, 11), Ok(()));
        // Per neighbour and per key.
        assert_eq!(t.check(&B, 1, 5), Ok(()));
        assert_eq!(t.check(&A, 2, 5), Ok(()));
        // Checking changes nothing; accepting an older counter never lowers the window.
        assert!(!t.accept(&A, 1, 3));
        assert_eq!(t.last(&A, 1), Some(10));
        assert!(!t.accept(&A, 1, u32::MAX));
        assert_eq!(t.check(&A, 1, u32::MAX), Err(Replayed { last: u32::MAX }));
    }

    #[test]
    fn a_full_table_evicts_the_least_recently_used_pair_and_counts_it() {
        let mut t = ReplayTable::<3>::new();
        for (i, c) in [(1u8, 100u32), (2, 200), (3, 300)] {
            assert!(!t.accept(&[i; 8], 1, c));
        }
        // Touch pair 1: pair 2 is now the least recently used.
        assert!(!t.accept(&[1; 8], 1, 101));
        assert!(t.accept(&[4; 8], 1, 400), "a fourth pair evicts");
        assert_eq!(t.evictions(), 1);
        assert_eq!(t.len(), 3);
        assert_eq!(t.last(&[2; 8], 1), None, "pair 2 evicted");
        assert_eq!(t.last(&[1; 8], 1), Some(101));
        assert_eq!(t.last(&[3; 8], 1), Some(300));
        // Bounded whatever comes.
        for i in 0..=255u8 {
            t.accept(&[i; 8], i, u32::from(i));
            assert!(t.len() <= t.capacity());
        }
        assert_eq!(t.len(), 3);
        assert_eq!(
            t.evictions(),
            1 + 256 - 1,
            "one eviction per new pair after the first"
        );
        t.forget_key(255);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn a_zero_capacity_table_stores_nothing_and_never_panics() {
        let mut t = ReplayTable::<0>::new();
        assert!(!t.accept(&A, 1, 1));
        assert_eq!(t.check(&A, 1, 1), Ok(()));
        assert!(t.is_empty());
    }

    #[test]
    fn the_outgoing_counter_persists_ahead_and_never_repeats_across_reboots() {
        const STEP: u32 = 8;
        let mut sent = std::collections::BTreeSet::new();
        let mut storage = 0u32;
        let mut c = FrameCounter::restart(STEP);
        // Send, persist when asked, "reboot" at arbitrary points without the pending write.
        for round in 0..20u32 {
            for _ in 0..(round * 3 % 11) {
                match c.take() {
                    Ok(v) => assert!(sent.insert(v), "counter {v} sent twice"),
                    Err(CounterError::PersistPending) => {}
                    Err(e) => panic!("{e}"),
                }
                if let Some(v) = c.needs_persist()
                    && round % 2 == 0
                {
                    storage = v;
                    c.persisted(v);
                }
            }
            c = FrameCounter::resume(storage, STEP);
            assert_eq!(c.needs_persist(), Some(storage + STEP), "write due at once");
            assert_eq!(c.take(), Err(CounterError::PersistPending));
            storage = c.needs_persist().unwrap();
            c.persisted(storage);
        }
        assert!(!sent.is_empty());
    }

    #[test]
    fn needs_persist_every_half_step_and_refuses_at_a_full_step() {
        let mut c = FrameCounter::restart(10);
        for i in 0..5 {
            assert_eq!(c.needs_persist(), None);
            assert_eq!(c.take(), Ok(i));
        }
        assert_eq!(c.needs_persist(), Some(5));
        for i in 5..10 {
            assert_eq!(c.take(), Ok(i));
        }
        assert_eq!(c.take(), Err(CounterError::PersistPending));
        c.persisted(42); // above the counter: ignored
        assert_eq!(c.take(), Err(CounterError::PersistPending));
        c.persisted(10);
        assert_eq!(c.take(), Ok(10));
    }

    #[test]
    fn the_last_counter_is_never_sent() {
        let mut c = FrameCounter::resume(u32::MAX - 4, 4);
        assert_eq!(c.peek(), u32::MAX);
        assert_eq!(c.take(), Err(CounterError::Exhausted));
        let mut c = FrameCounter::resume(u32::MAX - 10, 4);
        c.persisted(u32::MAX - 6);
        assert!(c.near_exhaustion(8));
        for v in (u32::MAX - 6)..u32::MAX {
            assert_eq!(c.take(), Ok(v));
            if let Some(p) = c.needs_persist() {
                c.persisted(p);
            }
        }
        assert_eq!(c.take(), Err(CounterError::Exhausted));
        // A saturated resume is exhausted, not wrapped.
        assert_eq!(
            FrameCounter::resume(u32::MAX, 100).take(),
            Err(CounterError::Exhausted)
        );
    }
}
