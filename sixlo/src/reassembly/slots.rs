//! The slot table of [`PooledReassembler`]: one [`Slot`] per datagram in progress, keyed by
//! (link source, link destination, datagram_tag), with the stored fragment ranges of its
//! datagram; finding a datagram's slot, freeing one, choosing where a new datagram goes (the
//! per-source limit and the eviction of the [`PooledReassembler::victim`]) and the timeout
//! sweep ([`PooledReassembler::expire`]).

use netif::time::Instant;

use super::{DatagramStore, MAX_FRAGMENTS, PooledReassembler, ReceiveError};
use crate::decompress::HeaderFixups;
use crate::link::LinkAddr;

/// One datagram in progress: its key, deadline, age and the fragment ranges stored so far.
#[derive(Debug)]
pub(super) struct Slot {
    pub(super) used: bool,
    pub(super) src: LinkAddr,
    pub(super) dst: LinkAddr,
    pub(super) size: u16,
    pub(super) tag: u16,
    pub(super) deadline: Instant,
    /// The datagram's place in the order datagrams were started ([`PooledReassembler`]'s
    /// `started` when its FRAG1 arrived): the eviction order, exact even for datagrams
    /// started within one clock tick.
    pub(super) born: u16,
    /// Bytes stored.
    pub(super) received: u16,
    /// Stored ranges in 8-octet units: start (exact: every fragment starts on a multiple of
    /// 8) and end rounded up (exact too except for the datagram's last fragment, which is the
    /// only one ending off a multiple of 8), so comparing units compares the byte ranges.
    pub(super) ranges: [(u8, u8); MAX_FRAGMENTS],
    pub(super) n_ranges: u8,
    /// The largest range end stored, in 8-octet units.
    pub(super) max_end: u8,
    pub(super) fixups: HeaderFixups,
}

impl Slot {
    pub(super) const fn new() -> Self {
        Slot {
            used: false,
            src: LinkAddr::Absent,
            dst: LinkAddr::Absent,
            size: 0,
            tag: 0,
            deadline: Instant::ZERO,
            born: 0,
            received: 0,
            ranges: [(0, 0); MAX_FRAGMENTS],
            n_ranges: 0,
            max_end: 0,
            fixups: HeaderFixups::EMPTY,
        }
    }

    /// `[start, end)` (bytes) in 8-octet units. Callers guarantee `start % 8 == 0`, `end` a
    /// multiple of 8 or the datagram size, and `end <= MAX_DATAGRAM`.
    pub(super) fn units(start: usize, end: usize) -> (u8, u8) {
        let unit = |b: usize| u8::try_from(b).unwrap_or(u8::MAX);
        (unit(start / 8), unit(end.div_ceil(8)))
    }

    /// Add the range `[start, end)`; `Ok(false)` for an exact duplicate.
    #[inline]
    pub(super) fn add_range(&mut self, start: usize, end: usize) -> Result<bool, ReceiveError> {
        let (s, e) = Self::units(start, end);
        // In-order arrival (the common case): nothing stored reaches past `start`, so there is
        // nothing to compare against.
        if s < self.max_end {
            for (a, b) in self.ranges.iter().take(usize::from(self.n_ranges)) {
                if (*a, *b) == (s, e) {
                    return Ok(false);
                }
                if s < *b && *a < e {
                    return Err(ReceiveError::OverlappingFragment);
                }
            }
        }
        let r = self
            .ranges
            .get_mut(usize::from(self.n_ranges))
            .ok_or(ReceiveError::TooManyFragments)?;
        *r = (s, e);
        self.n_ranges += 1;
        self.max_end = self.max_end.max(e);
        let len = u16::try_from(end - start).unwrap_or(u16::MAX);
        self.received = self.received.saturating_add(len);
        Ok(true)
    }
}

/// Deadline of "no datagram pending".
pub(super) const NEVER: Instant = Instant::from_micros(u64::MAX);

impl<B, const SLOTS: usize> PooledReassembler<B, SLOTS> {
    /// Discard every datagram whose timeout passed at `now`, giving its buffer back to
    /// `store`; returns how many.
    pub fn expire<S: DatagramStore<Buf = B>>(&mut self, now: Instant, store: &mut S) -> usize {
        if now < self.next_deadline {
            return 0;
        }
        let mut n = 0;
        let mut next = NEVER;
        for (s, b) in self.slots.iter_mut().zip(self.bufs.iter_mut()) {
            if !s.used {
                continue;
            }
            if s.deadline <= now {
                s.used = false;
                if let Some(b) = b.take() {
                    store.give_back(b);
                }
                n += 1;
            } else {
                next = next.min(s.deadline);
            }
        }
        self.next_deadline = next;
        self.stats.reassembly_timeouts = self.stats.reassembly_timeouts.saturating_add(n as u32);
        n
    }

    /// Discard every partial datagram (e.g. the interface is reset), giving the buffers back;
    /// returns how many. Not counted as timeouts.
    pub fn clear<S: DatagramStore<Buf = B>>(&mut self, store: &mut S) -> usize {
        let mut n = 0;
        for i in 0..SLOTS {
            if self.slots.get(i).is_some_and(|s| s.used) {
                self.free_slot(i, store);
                n += 1;
            }
        }
        self.next_deadline = NEVER;
        n
    }

    #[inline]
    pub(super) fn find(&self, src: &LinkAddr, dst: &LinkAddr, tag: u16) -> Option<usize> {
        let is = |s: &Slot| s.used && s.tag == tag && s.src == *src && s.dst == *dst;
        if self.slots.get(self.last).is_some_and(is) {
            return Some(self.last);
        }
        self.slots.iter().position(is)
    }

    /// Mark slot `i` free and give its buffer back.
    pub(super) fn free_slot<S: DatagramStore<Buf = B>>(&mut self, i: usize, store: &mut S) {
        if let Some(s) = self.slots.get_mut(i) {
            s.used = false;
        }
        if let Some(b) = self.bufs.get_mut(i).and_then(Option::take) {
            store.give_back(b);
        }
    }

    /// Slots held by link-layer source `src`.
    fn held_by(&self, src: &LinkAddr) -> usize {
        self.slots
            .iter()
            .filter(|s| s.used && s.src == *src)
            .count()
    }

    /// A free slot for a new datagram from `src`: refused when `src` holds its share of slots;
    /// when every slot or the buffer share is taken, the [`Self::victim`] is evicted (its
    /// buffer goes back to `store`) and counted.
    #[inline(never)]
    pub(super) fn room_for<S: DatagramStore<Buf = B>>(
        &mut self,
        src: &LinkAddr,
        store: &mut S,
    ) -> Result<usize, ReceiveError> {
        if self.held_by(src) >= self.config.per_source_limit {
            return Err(ReceiveError::PerSourceLimit);
        }
        if self.slots_in_use() >= self.config.buffer_share.min(SLOTS) {
            let v = self.victim().ok_or(ReceiveError::NoFreeSlot)?;
            self.free_slot(v, store);
            self.stats.reassembly_evictions = self.stats.reassembly_evictions.saturating_add(1);
            debug!("sixlo: reassembly full, oldest datagram evicted");
        }
        self.slots
            .iter()
            .position(|s| !s.used)
            .ok_or(ReceiveError::NoFreeSlot)
    }

    /// The datagram to evict for a new one: of the sources holding the most slots, the
    /// oldest datagram (the first started, whatever arrived for it since).
    #[inline(never)]
    fn victim(&self) -> Option<usize> {
        let mut best = None;
        // (slots of its source, age): every used slot's key is above (0, 0).
        let mut key = (0, 0);
        for (i, s) in self.slots.iter().enumerate() {
            if s.used {
                let k = (self.held_by(&s.src), self.started.wrapping_sub(s.born));
                if k > key {
                    (key, best) = (k, Some(i));
                }
            }
        }
        best
    }
}
