//! RFC 4944 §5.3 reassembly with fixed storage, and the single receive entry point.
//!
//! [`PooledReassembler::receive`] takes one MAC payload (the 6LoWPAN frame) with its link-layer
//! addresses, the context table, `now` and a [`DatagramStore`] that lends buffers (the border
//! router's packet pool):
//! - an unfragmented IPHC (or uncompressed-IPv6) frame is decompressed straight into a buffer
//!   of the store → [`Assembled::Datagram`];
//! - a FRAG1 starts a datagram in a free slot, which takes one buffer of the store for it (its
//!   compressed headers are decompressed at once, so the header/size checks happen on
//!   arrival); a FRAGN adds to it → [`Assembled::Pending`];
//! - when the last byte arrives, the datagram's length and elided-checksum fields are filled
//!   in place, the slot is freed and its buffer is handed to the caller, no copy →
//!   [`Assembled::Datagram`].
//!
//! A buffer is always returned to the store: on completion it goes to the caller, on timeout,
//! error and discard back through [`DatagramStore::give_back`]. [`Reassembler`] is the same
//! receiver over its own inline buffers (`SLOTS × BUF` bytes), delivering into the caller's
//! `out` ([`Received`]); tests, fuzzing and hosts use it.
//!
//! Per-fragment cost is kept flat: the timeout sweep is skipped until the earliest pending
//! deadline, the slot of the previous fragment is tried first, and an in-order fragment (nothing
//! stored past its offset) needs no range comparison.
//!
//! Slots are keyed by (link source, link destination, datagram_tag) and checked against
//! datagram_size. The number of slots is a const generic (default 8), the largest datagram the
//! store's capacity (default 1280), the timeout, per-source limit and buffer share are
//! [`ReassemblyConfig`] fields.
//!
//! A FRAG1 never waits for a slot: when every slot (or the buffer share) is taken, the
//! oldest datagram of the source holding the most slots is evicted to make room
//! ([`SixloStats::reassembly_evictions`]), as RIOT's `gnrc_sixlowpan_frag_rb` evicts its
//! oldest entry. "Oldest" is by creation (the FRAG1), not last activity, so a sender that
//! keeps its datagrams busy with FRAGNs cannot keep them; preferring the largest holder means
//! a few sources that flood FRAG1s (the per-source limit stops them at their share) evict
//! each other's datagrams, not the one of an honest node with a datagram in progress. A
//! sender at its per-source limit is refused ([`ReceiveError::PerSourceLimit`]), never
//! evicts. The eviction comes before the new FRAG1's headers are checked (a refused one has
//! cost a datagram, as a valid one would have). Every failure is a [`ReceiveError`] counted in [`SixloStats`] (an exhausted store
//! too: [`ReceiveError::NoBuffer`]); a slot is released on completion, timeout, error and
//! discard alike, which [`PooledReassembler::slots_in_use`] makes observable. FRAGN before
//! FRAG1, overlaps, size changes, lengths past the datagram and non-multiple-of-8 fragments are
//! all refused; an exact duplicate is dropped without harming the datagram.
//!
//! This file holds the receive path (dispatch, FRAG1/FRAGN checks, placing a fragment,
//! completion); `slots.rs` the slot table (keys, fragment ranges, eviction, timeout sweep);
//! `inline.rs` the [`Reassembler`] over inline buffers.

use core::fmt;

use netif::time::{Duration, Instant};

use crate::IPV6_HEADER_LEN;
use crate::context::ContextTable;
use crate::decompress::{DecompressError, decompress, decompress_headers};
use crate::frag;
use crate::iphc::is_iphc_dispatch;
use crate::link::LinkAddr;
use crate::stats::SixloStats;
use crate::{DISPATCH_IPV6, IPV6_MIN_MTU};

use self::slots::{NEVER, Slot};

mod inline;
mod slots;
#[cfg(test)]
mod tests;

pub use self::inline::Reassembler;

/// Fragments one datagram may arrive in before it is discarded.
pub const MAX_FRAGMENTS: usize = 48;

/// The largest datagram reassembled, whatever the buffers hold: fragment ranges are kept in
/// 8-octet units in one byte each (RFC 4944 offsets are in 8-octet units; the mesh MTU is
/// 1280), which halves the per-slot range table.
pub const MAX_DATAGRAM: usize = 255 * 8;

/// Reassembly parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReassemblyConfig {
    /// How long a datagram may take to complete, from its FRAG1 (default 10 s).
    pub timeout: Duration,
    /// Slots one link-layer source may hold at once (default 4).
    pub per_source_limit: usize,
    /// Buffers of the store partial datagrams may hold at once, one each (default: every
    /// slot). With a store shared with the rest of a router (the packet pool), this is the
    /// share reassembly may take; a FRAG1 beyond it evicts like one finding no free slot.
    pub buffer_share: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            timeout: Duration::from_secs(10),
            per_source_limit: 4,
            buffer_share: usize::MAX,
        }
    }
}

/// Outcome of a frame that was not dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Received {
    /// A whole IPv6 datagram of this length is in `out[..len]`.
    Complete(usize),
    /// A fragment was stored; nothing to deliver yet.
    Pending,
}

/// Why a frame was dropped (each variant has a counter in [`SixloStats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ReceiveError {
    /// Empty frame or shorter than its fragment header.
    FrameTooShort,
    /// A dispatch this receiver does not handle.
    UnsupportedDispatch(u8),
    /// The IPHC/NHC headers could not be decompressed.
    Decompress(DecompressError),
    /// datagram_size below 40.
    DatagramSizeTooSmall,
    /// datagram_size above the reassembly buffer.
    DatagramTooLarge,
    /// FRAG1 whose decompressed headers exceed datagram_size.
    HeaderExceedsDatagramSize,
    /// offset×8 + length past datagram_size (datagram discarded).
    FragmentPastDatagramSize,
    /// Non-final fragment length not a multiple of 8 (datagram discarded).
    FragmentNotMultipleOf8,
    /// Fragment without payload.
    EmptyFragment,
    /// FRAGN before any FRAG1 of its datagram.
    FragnWithoutFrag1,
    /// Exact duplicate of a stored fragment (datagram kept).
    DuplicateFragment,
    /// Fragment overlapping a stored one (datagram discarded).
    OverlappingFragment,
    /// datagram_size differs from the datagram's (datagram discarded).
    DatagramSizeMismatch,
    /// More fragments than [`MAX_FRAGMENTS`] (datagram discarded).
    TooManyFragments,
    /// No slot could be freed for the datagram.
    NoFreeSlot,
    /// The sender holds its share of slots.
    PerSourceLimit,
    /// The [`DatagramStore`] had no buffer (the packet pool is exhausted).
    NoBuffer,
    /// `out` is smaller than the datagram (datagram discarded).
    OutputTooSmall,
}

impl fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FrameTooShort => f.write_str("frame shorter than its 6LoWPAN header"),
            Self::UnsupportedDispatch(d) => write!(f, "unsupported 6LoWPAN dispatch 0x{d:02x}"),
            Self::Decompress(e) => write!(f, "decompression failed: {e}"),
            Self::DatagramSizeTooSmall => f.write_str("datagram_size smaller than an IPv6 header"),
            Self::DatagramTooLarge => {
                f.write_str("datagram_size larger than the reassembly buffer")
            }
            Self::HeaderExceedsDatagramSize => {
                f.write_str("decompressed headers exceed datagram_size")
            }
            Self::FragmentPastDatagramSize => f.write_str("fragment extends past datagram_size"),
            Self::FragmentNotMultipleOf8 => {
                f.write_str("non-final fragment length not a multiple of 8")
            }
            Self::EmptyFragment => f.write_str("fragment without payload"),
            Self::FragnWithoutFrag1 => f.write_str("FRAGN before its FRAG1"),
            Self::DuplicateFragment => f.write_str("duplicate fragment"),
            Self::OverlappingFragment => f.write_str("overlapping fragment"),
            Self::DatagramSizeMismatch => f.write_str("datagram_size changed within one datagram"),
            Self::TooManyFragments => f.write_str("too many fragments"),
            Self::NoFreeSlot => f.write_str("no free reassembly slot"),
            Self::PerSourceLimit => f.write_str("per-source reassembly limit reached"),
            Self::NoBuffer => f.write_str("no buffer for the datagram"),
            Self::OutputTooSmall => f.write_str("output buffer smaller than the datagram"),
        }
    }
}

impl core::error::Error for ReceiveError {}

/// Where a [`PooledReassembler`] gets the buffers datagrams are assembled in: typically the
/// packet pool of the interface core, so a partial datagram holds one pool buffer rather than
/// private storage. The store is lent for each call; every buffer the reassembler takes goes
/// back through [`DatagramStore::give_back`] (discard, error, timeout) unless it is handed to
/// the caller as a complete datagram.
pub trait DatagramStore {
    /// Owner of one buffer (a pool handle).
    type Buf;
    /// The largest datagram a buffer holds; a larger datagram_size is refused
    /// ([`ReceiveError::DatagramTooLarge`]).
    fn capacity(&self) -> usize;
    /// A buffer for the datagram of reassembly slot `slot`, or for an unfragmented frame
    /// (`None`); `None` when the store is exhausted ([`ReceiveError::NoBuffer`], counted).
    fn take(&mut self, slot: Option<usize>) -> Option<Self::Buf>;
    /// The buffer's bytes (at least [`DatagramStore::capacity`] of them).
    fn bytes(&mut self, buf: &Self::Buf) -> &mut [u8];
    /// Take a buffer back: its datagram was discarded, refused or timed out.
    fn give_back(&mut self, buf: Self::Buf);
    /// The datagram in `buf[..len]` is complete: the buffer to hand to the caller. The
    /// default hands over `buf` itself; a store may move the datagram elsewhere, or refuse
    /// (`Err(buf)`: the datagram is discarded as [`ReceiveError::OutputTooSmall`]).
    fn finish(&mut self, buf: Self::Buf, len: usize) -> Result<Self::Buf, Self::Buf> {
        let _ = len;
        Ok(buf)
    }
}

/// Outcome of a frame a [`PooledReassembler`] did not drop.
#[derive(Debug, PartialEq, Eq)]
pub enum Assembled<B> {
    /// A whole IPv6 datagram is in `buf[..len]`; the buffer now belongs to the caller.
    Datagram {
        /// The buffer holding it.
        buf: B,
        /// Its length.
        len: usize,
    },
    /// A fragment was stored; nothing to deliver yet.
    Pending,
}

/// The 6LoWPAN receiver over caller-lent buffers ([`DatagramStore`]): unfragmented frames and
/// up to `SLOTS` concurrent reassemblies, each holding one buffer of the store from its FRAG1
/// until it completes (the buffer is handed over, no copy), times out, or is discarded (the
/// buffer is given back). [`Reassembler`] is the same over its own inline buffers.
#[derive(Debug)]
pub struct PooledReassembler<B, const SLOTS: usize = 8> {
    /// Per-datagram state, kept apart from the buffers so lookups touch few cache lines.
    slots: [Slot; SLOTS],
    /// The buffer of each used slot (`Some` exactly when the slot is used).
    bufs: [Option<B>; SLOTS],
    config: ReassemblyConfig,
    stats: SixloStats,
    /// No used slot's deadline is earlier than this, so [`Self::expire`] has nothing to do
    /// before it (a lower bound: freeing a slot leaves it alone, a sweep makes it exact).
    next_deadline: Instant,
    /// The slot the last fragment went to, tried first by [`Self::find`] (keys are unique among
    /// used slots, so this only changes the order of the search, never its result).
    last: usize,
    /// Datagrams started so far (wrapping): a slot's age is this minus its `born`, exact while
    /// fewer than 65,536 datagrams start within one timeout.
    started: u16,
}

/// Scratch for decompressing the headers of a second FRAG1 (only to learn its extent).
const SCRATCH: usize = IPV6_MIN_MTU;

impl<B, const SLOTS: usize> Default for PooledReassembler<B, SLOTS> {
    fn default() -> Self {
        Self::new(ReassemblyConfig::default())
    }
}

impl<B, const SLOTS: usize> PooledReassembler<B, SLOTS> {
    /// An idle receiver.
    pub fn new(config: ReassemblyConfig) -> Self {
        PooledReassembler {
            slots: core::array::from_fn(|_| Slot::new()),
            bufs: core::array::from_fn(|_| None),
            config,
            stats: SixloStats::default(),
            next_deadline: NEVER,
            last: 0,
            started: 0,
        }
    }

    /// The configuration.
    pub const fn config(&self) -> &ReassemblyConfig {
        &self.config
    }

    /// Replace the configuration; datagrams in progress keep their deadlines.
    pub fn set_config(&mut self, config: ReassemblyConfig) {
        self.config = config;
    }

    /// The counters.
    pub const fn stats(&self) -> &SixloStats {
        &self.stats
    }

    /// Reset the counters.
    pub fn reset_stats(&mut self) {
        self.stats = SixloStats::default();
    }

    /// Slots holding a partial datagram (each holds one buffer of the store).
    pub fn slots_in_use(&self) -> usize {
        self.slots.iter().filter(|s| s.used).count()
    }

    /// Process one 6LoWPAN frame (the MAC payload). See the module documentation.
    pub fn receive<S: DatagramStore<Buf = B>>(
        &mut self,
        store: &mut S,
        frame: &[u8],
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
        now: Instant,
    ) -> Result<Assembled<B>, ReceiveError> {
        self.stats.rx_frames = self.stats.rx_frames.saturating_add(1);
        self.expire(now, store);
        let r = self.receive_inner(store, frame, ll_src, ll_dst, contexts, now);
        let s = &mut self.stats;
        let c = match &r {
            Ok(Assembled::Datagram { .. }) => &mut s.rx_datagrams,
            Ok(Assembled::Pending) => &mut s.rx_fragments,
            Err(ReceiveError::Decompress(e)) => {
                s.record_decompress(e);
                return r;
            }
            Err(e) => match e {
                ReceiveError::FrameTooShort => &mut s.frame_too_short,
                ReceiveError::UnsupportedDispatch(_) => &mut s.unsupported_dispatch,
                ReceiveError::DatagramSizeTooSmall => &mut s.datagram_size_too_small,
                ReceiveError::DatagramTooLarge => &mut s.datagram_too_large,
                ReceiveError::HeaderExceedsDatagramSize => &mut s.header_exceeds_datagram_size,
                ReceiveError::FragmentPastDatagramSize => &mut s.fragment_past_datagram_size,
                ReceiveError::FragmentNotMultipleOf8 => &mut s.fragment_not_multiple_of_8,
                ReceiveError::EmptyFragment => &mut s.empty_fragment,
                ReceiveError::FragnWithoutFrag1 => &mut s.fragn_without_frag1,
                ReceiveError::DuplicateFragment => &mut s.duplicate_fragments,
                ReceiveError::OverlappingFragment => &mut s.overlapping_fragments,
                ReceiveError::DatagramSizeMismatch => &mut s.datagram_size_mismatch,
                ReceiveError::TooManyFragments => &mut s.too_many_fragments,
                ReceiveError::NoFreeSlot => &mut s.no_free_slot,
                ReceiveError::PerSourceLimit => &mut s.per_source_limit,
                ReceiveError::NoBuffer => &mut s.no_buffer,
                ReceiveError::OutputTooSmall => &mut s.output_too_small,
                ReceiveError::Decompress(_) => &mut s.bad_length,
            },
        };
        *c = c.saturating_add(1);
        if let Err(e) = &r {
            debug!("sixlo: drop {}", e);
        }
        r
    }

    fn discard<S: DatagramStore<Buf = B>>(
        &mut self,
        i: usize,
        e: ReceiveError,
        store: &mut S,
    ) -> ReceiveError {
        self.free_slot(i, store);
        e
    }

    /// Hand a complete datagram to the caller through the store.
    fn deliver<S: DatagramStore<Buf = B>>(
        store: &mut S,
        buf: B,
        len: usize,
    ) -> Result<Assembled<B>, ReceiveError> {
        match store.finish(buf, len) {
            Ok(buf) => Ok(Assembled::Datagram { buf, len }),
            Err(buf) => {
                store.give_back(buf);
                Err(ReceiveError::OutputTooSmall)
            }
        }
    }

    fn receive_inner<S: DatagramStore<Buf = B>>(
        &mut self,
        store: &mut S,
        frame: &[u8],
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
        now: Instant,
    ) -> Result<Assembled<B>, ReceiveError> {
        let b0 = *frame.first().ok_or(ReceiveError::FrameTooShort)?;
        if b0 == DISPATCH_IPV6 || is_iphc_dispatch(b0) || b0 == crate::lorh::DISPATCH_PAGE1 {
            let buf = store.take(None).ok_or(ReceiveError::NoBuffer)?;
            return match decompress(frame, ll_src, ll_dst, contexts, store.bytes(&buf)) {
                Ok(len) => Self::deliver(store, buf, len),
                Err(e) => {
                    store.give_back(buf);
                    Err(ReceiveError::Decompress(e))
                }
            };
        }
        if !frag::is_frag1(b0) && !frag::is_fragn(b0) {
            return Err(ReceiveError::UnsupportedDispatch(b0));
        }
        let (first, size, tag, offset, hlen) =
            frag::parse_fields(frame).ok_or(ReceiveError::FrameTooShort)?;
        let rest = frame.get(hlen..).unwrap_or(&[]);
        let size = usize::from(size);
        if size < IPV6_HEADER_LEN {
            return Err(ReceiveError::DatagramSizeTooSmall);
        }
        if size > store.capacity().min(MAX_DATAGRAM) {
            return Err(ReceiveError::DatagramTooLarge);
        }
        let existing = self.find(ll_src, ll_dst, tag);
        if let Some(i) = existing
            && self
                .slots
                .get(i)
                .is_some_and(|s| usize::from(s.size) != size)
        {
            return Err(self.discard(i, ReceiveError::DatagramSizeMismatch, store));
        }
        if first {
            if let Some(i) = existing {
                return Err(self.second_frag1(i, rest, size, ll_src, ll_dst, contexts, store));
            }
            self.first(store, rest, size, tag, ll_src, ll_dst, contexts, now)
        } else {
            let i = existing.ok_or(ReceiveError::FragnWithoutFrag1)?;
            if rest.is_empty() {
                return Err(ReceiveError::EmptyFragment);
            }
            let start = usize::from(offset) * 8;
            let end = start + rest.len();
            if end > size {
                return Err(self.discard(i, ReceiveError::FragmentPastDatagramSize, store));
            }
            if end < size && rest.len() % 8 != 0 {
                return Err(self.discard(i, ReceiveError::FragmentNotMultipleOf8, store));
            }
            self.store(store, i, start, end, rest)
        }
    }

    /// A FRAG1 for a datagram already started: an exact duplicate is dropped, anything else
    /// discards the datagram. Its headers are decompressed into scratch only to learn its
    /// extent (the stored datagram stays untouched).
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn second_frag1<S: DatagramStore<Buf = B>>(
        &mut self,
        i: usize,
        rest: &[u8],
        size: usize,
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
        store: &mut S,
    ) -> ReceiveError {
        let mut scratch = [0u8; SCRATCH];
        let lim = size.min(SCRATCH);
        let h = match decompress_headers(
            rest,
            ll_src,
            ll_dst,
            contexts,
            scratch.get_mut(..lim).unwrap_or(&mut []),
        ) {
            Ok(h) => h,
            Err(e) => return self.discard(i, map_header_error(e), store),
        };
        let end = h.written + rest.len().saturating_sub(h.consumed);
        // Units compare exactly only for a well-formed end (a multiple of 8, or the size).
        let well_formed = end % 8 == 0 || end == size;
        let dup = well_formed
            && end <= size
            && self.slots.get(i).is_some_and(|s| {
                s.ranges
                    .iter()
                    .take(usize::from(s.n_ranges))
                    .any(|r| *r == Slot::units(0, end))
            });
        if dup {
            ReceiveError::DuplicateFragment
        } else {
            self.discard(i, ReceiveError::OverlappingFragment, store)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn first<S: DatagramStore<Buf = B>>(
        &mut self,
        store: &mut S,
        rest: &[u8],
        size: usize,
        tag: u16,
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
        now: Instant,
    ) -> Result<Assembled<B>, ReceiveError> {
        let i = self.room_for(ll_src, store)?;
        let buf = store.take(Some(i)).ok_or(ReceiveError::NoBuffer)?;
        let placed = (|| {
            let dgram = store
                .bytes(&buf)
                .get_mut(..size)
                .ok_or(ReceiveError::DatagramTooLarge)?;
            let h = decompress_headers(rest, ll_src, ll_dst, contexts, &mut *dgram)
                .map_err(map_header_error)?;
            let payload = rest.get(h.consumed..).unwrap_or(&[]);
            let end = h.written + payload.len();
            if end > size {
                return Err(ReceiveError::FragmentPastDatagramSize);
            }
            if end < size && end % 8 != 0 {
                return Err(ReceiveError::FragmentNotMultipleOf8);
            }
            dgram
                .get_mut(h.written..end)
                .ok_or(ReceiveError::FragmentPastDatagramSize)?
                .copy_from_slice(payload);
            Ok((h.fixups, end))
        })();
        let (fixups, end) = match placed {
            Ok(p) => p,
            Err(e) => {
                store.give_back(buf);
                return Err(e);
            }
        };
        let (Some(slot), Some(held)) = (self.slots.get_mut(i), self.bufs.get_mut(i)) else {
            store.give_back(buf);
            return Err(ReceiveError::NoFreeSlot);
        };
        *held = Some(buf);
        slot.used = true;
        slot.src = *ll_src;
        slot.dst = *ll_dst;
        slot.size = size as u16;
        slot.tag = tag;
        slot.deadline = now.checked_add(self.config.timeout).unwrap_or(NEVER);
        self.started = self.started.wrapping_add(1);
        slot.born = self.started;
        slot.received = 0;
        slot.n_ranges = 0;
        slot.max_end = 0;
        slot.fixups = fixups;
        if let Err(e) = slot.add_range(0, end) {
            return Err(self.discard(i, e, store));
        }
        self.next_deadline = self.next_deadline.min(slot.deadline);
        self.last = i;
        self.finish_if_complete(store, i)
    }

    #[inline]
    fn store<S: DatagramStore<Buf = B>>(
        &mut self,
        store: &mut S,
        i: usize,
        start: usize,
        end: usize,
        data: &[u8],
    ) -> Result<Assembled<B>, ReceiveError> {
        let slot = self
            .slots
            .get_mut(i)
            .ok_or(ReceiveError::FragnWithoutFrag1)?;
        match slot.add_range(start, end) {
            Ok(true) => {}
            Ok(false) => return Err(ReceiveError::DuplicateFragment),
            Err(e) => return Err(self.discard(i, e, store)),
        }
        self.last = i;
        let size = usize::from(slot.size);
        let dst = self
            .bufs
            .get(i)
            .and_then(Option::as_ref)
            .and_then(|b| store.bytes(b).get_mut(..size))
            .and_then(|d| d.get_mut(start..end));
        match dst {
            Some(d) => d.copy_from_slice(data),
            None => return Err(self.discard(i, ReceiveError::FragmentPastDatagramSize, store)),
        }
        self.finish_if_complete(store, i)
    }

    /// Deliver slot `i`'s datagram if every byte has arrived: its length and elided checksum
    /// fields are filled in place and the buffer is handed over.
    fn finish_if_complete<S: DatagramStore<Buf = B>>(
        &mut self,
        store: &mut S,
        i: usize,
    ) -> Result<Assembled<B>, ReceiveError> {
        let Some(slot) = self.slots.get_mut(i) else {
            return Err(ReceiveError::NoFreeSlot);
        };
        let size = usize::from(slot.size);
        if usize::from(slot.received) < size {
            return Ok(Assembled::Pending);
        }
        slot.used = false;
        let fixups = slot.fixups;
        let buf = self
            .bufs
            .get_mut(i)
            .and_then(Option::take)
            .ok_or(ReceiveError::FragnWithoutFrag1)?;
        let fixed = match store.bytes(&buf).get_mut(..size) {
            Some(d) => fixups.apply(d).map_err(ReceiveError::Decompress),
            None => Err(ReceiveError::OutputTooSmall),
        };
        if let Err(e) = fixed {
            store.give_back(buf);
            return Err(e);
        }
        Self::deliver(store, buf, size)
    }
}

fn map_header_error(e: DecompressError) -> ReceiveError {
    match e {
        DecompressError::BufferTooSmall => ReceiveError::HeaderExceedsDatagramSize,
        e => ReceiveError::Decompress(e),
    }
}
