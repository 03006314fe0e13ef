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
    /// Least recently used first.
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
        let mut entry = Entry {
            source: *source,
            key_index,
            counter,
        };
        if let Some(i) = self.position(source, key_index) {
            let old = self.entries.remove(i);
            entry.counter = entry.counter.max(old.counter);
        }
        let mut evicted = false;
        if self.entries.is_full() && !self.entries.is_empty() {
            self.entries.remove(0);
            self.evictions = self.evictions.wrapping_add(1);
            evicted = true;
        }
        // There is room now (N == 0 stores nothing).
        let _ = self.entries.push(entry);
        evicted
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
