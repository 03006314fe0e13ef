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

use core::fmt;

use netif::time::{Duration, Instant};

use crate::IPV6_HEADER_LEN;
use crate::context::ContextTable;
use crate::decompress::{DecompressError, HeaderFixups, decompress, decompress_headers};
use crate::frag;
use crate::iphc::is_iphc_dispatch;
use crate::link::LinkAddr;
use crate::stats::SixloStats;
use crate::{DISPATCH_IPV6, IPV6_MIN_MTU};

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

#[derive(Debug)]
struct Slot {
    used: bool,
    src: LinkAddr,
    dst: LinkAddr,
    size: u16,
    tag: u16,
    deadline: Instant,
    /// The datagram's place in the order datagrams were started ([`PooledReassembler`]'s
    /// `started` when its FRAG1 arrived): the eviction order, exact even for datagrams
    /// started within one clock tick.
    born: u16,
    /// Bytes stored.
    received: u16,
    /// Stored ranges in 8-octet units: start (exact: every fragment starts on a multiple of
    /// 8) and end rounded up (exact too except for the datagram's last fragment, which is the
    /// only one ending off a multiple of 8), so comparing units compares the byte ranges.
    ranges: [(u8, u8); MAX_FRAGMENTS],
    n_ranges: u8,
    /// The largest range end stored, in 8-octet units.
    max_end: u8,
    fixups: HeaderFixups,
}

impl Slot {
    const fn new() -> Self {
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
    fn units(start: usize, end: usize) -> (u8, u8) {
        let unit = |b: usize| u8::try_from(b).unwrap_or(u8::MAX);
        (unit(start / 8), unit(end.div_ceil(8)))
    }

    /// Add the range `[start, end)`; `Ok(false)` for an exact duplicate.
    #[inline]
    fn add_range(&mut self, start: usize, end: usize) -> Result<bool, ReceiveError> {
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

/// Deadline of "no datagram pending".
const NEVER: Instant = Instant::from_micros(u64::MAX);

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

    #[inline]
    fn find(&self, src: &LinkAddr, dst: &LinkAddr, tag: u16) -> Option<usize> {
        let is = |s: &Slot| s.used && s.tag == tag && s.src == *src && s.dst == *dst;
        if self.slots.get(self.last).is_some_and(is) {
            return Some(self.last);
        }
        self.slots.iter().position(is)
    }

    /// Mark slot `i` free and give its buffer back.
    fn free_slot<S: DatagramStore<Buf = B>>(&mut self, i: usize, store: &mut S) {
        if let Some(s) = self.slots.get_mut(i) {
            s.used = false;
        }
        if let Some(b) = self.bufs.get_mut(i).and_then(Option::take) {
            store.give_back(b);
        }
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
        if b0 == DISPATCH_IPV6 || is_iphc_dispatch(b0) {
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
    fn room_for<S: DatagramStore<Buf = B>>(
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

/// A buffer of [`Reassembler`]'s inline store: the caller's `out`, or a slot's own buffer.
#[derive(Debug, Clone, Copy)]
enum InlineBuf {
    Out,
    Slot(usize),
}

/// [`Reassembler`]'s buffers for one call: one per slot, plus the caller's `out`, where every
/// datagram is delivered.
struct InlineStore<'a, const BUF: usize> {
    bufs: &'a mut [[u8; BUF]],
    out: &'a mut [u8],
}

impl<const BUF: usize> DatagramStore for InlineStore<'_, BUF> {
    type Buf = InlineBuf;

    fn capacity(&self) -> usize {
        BUF
    }

    fn take(&mut self, slot: Option<usize>) -> Option<InlineBuf> {
        match slot {
            None => Some(InlineBuf::Out),
            Some(i) if i < self.bufs.len() => Some(InlineBuf::Slot(i)),
            Some(_) => None,
        }
    }

    fn bytes(&mut self, buf: &InlineBuf) -> &mut [u8] {
        match *buf {
            InlineBuf::Out => self.out,
            InlineBuf::Slot(i) => self.bufs.get_mut(i).map_or(&mut [], |b| b.as_mut_slice()),
        }
    }

    fn give_back(&mut self, _: InlineBuf) {}

    fn finish(&mut self, buf: InlineBuf, len: usize) -> Result<InlineBuf, InlineBuf> {
        let InlineBuf::Slot(i) = buf else {
            return Ok(buf);
        };
        let (Some(src), Some(dst)) = (
            self.bufs.get(i).and_then(|b| b.get(..len)),
            self.out.get_mut(..len),
        ) else {
            return Err(buf);
        };
        dst.copy_from_slice(src);
        Ok(InlineBuf::Out)
    }
}

/// The 6LoWPAN receiver with its own buffers: `SLOTS` concurrent datagrams of at most `BUF`
/// bytes each, every datagram delivered into the caller's `out`. A [`PooledReassembler`] over
/// inline storage; use that one directly to assemble in packet-pool buffers instead.
#[derive(Debug)]
pub struct Reassembler<const SLOTS: usize = 8, const BUF: usize = IPV6_MIN_MTU> {
    core: PooledReassembler<InlineBuf, SLOTS>,
    bufs: [[u8; BUF]; SLOTS],
}

impl<const SLOTS: usize, const BUF: usize> Default for Reassembler<SLOTS, BUF> {
    fn default() -> Self {
        Self::new(ReassemblyConfig::default())
    }
}

impl<const SLOTS: usize, const BUF: usize> Reassembler<SLOTS, BUF> {
    /// An idle receiver.
    pub fn new(config: ReassemblyConfig) -> Self {
        Reassembler {
            core: PooledReassembler::new(config),
            bufs: [[0; BUF]; SLOTS],
        }
    }

    /// The configuration.
    pub const fn config(&self) -> &ReassemblyConfig {
        self.core.config()
    }

    /// The counters.
    pub const fn stats(&self) -> &SixloStats {
        self.core.stats()
    }

    /// Reset the counters.
    pub fn reset_stats(&mut self) {
        self.core.reset_stats();
    }

    /// Slots holding a partial datagram.
    pub fn slots_in_use(&self) -> usize {
        self.core.slots_in_use()
    }

    /// Discard every datagram whose timeout passed at `now`; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut store = InlineStore {
            bufs: &mut self.bufs,
            out: &mut [],
        };
        self.core.expire(now, &mut store)
    }

    /// Process one 6LoWPAN frame (the MAC payload); a complete datagram is written to
    /// `out`. See the module documentation.
    pub fn receive(
        &mut self,
        frame: &[u8],
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
        now: Instant,
        out: &mut [u8],
    ) -> Result<Received, ReceiveError> {
        let mut store = InlineStore {
            bufs: &mut self.bufs,
            out,
        };
        match self
            .core
            .receive(&mut store, frame, ll_src, ll_dst, contexts, now)?
        {
            Assembled::Datagram { len, .. } => Ok(Received::Complete(len)),
            Assembled::Pending => Ok(Received::Pending),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compress::CompressOptions;
    use crate::frag::Fragmenter;

    const SRC: LinkAddr = LinkAddr::Short([0, 1]);
    const DST: LinkAddr = LinkAddr::Short([0, 2]);

    /// A `len`-byte IPv6/UDP datagram between the link-derived addresses of SRC and DST.
    fn datagram(len: usize) -> [u8; 1280] {
        let mut p = [0u8; 1280];
        let plen = (len - 40) as u16;
        p[..8].copy_from_slice(&[0x60, 0, 0, 0, (plen >> 8) as u8, plen as u8, 17, 64]);
        p[8..24].copy_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 1]);
        p[24..40].copy_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 2]);
        p[40..48].copy_from_slice(&[0x16, 0x33, 0x16, 0x34, (plen >> 8) as u8, plen as u8, 1, 2]);
        for (i, b) in p[48..len].iter_mut().enumerate() {
            *b = i as u8;
        }
        p
    }

    /// The frames of `p`, with their lengths; returns how many.
    fn frames(p: &[u8], tag: u16, out: &mut [([u8; 127], usize); 20]) -> usize {
        let ctx = ContextTable::new();
        let opts = CompressOptions::default();
        let mut f = Fragmenter::new(p, SRC, DST, &ctx, opts, tag, 116).unwrap();
        let mut n = 0;
        while let Some(len) = f.next_frame(&mut out[n].0).unwrap() {
            out[n].1 = len;
            n += 1;
        }
        n
    }

    #[test]
    fn completes_on_a_middle_fragment() {
        // FRAG1, then the FRAGNs last to first: the datagram completes with its second frame,
        // which lands between stored data on both sides, straight into `out`.
        let p = datagram(1280);
        let mut fs = [([0u8; 127], 0); 20];
        let n = frames(&p, 3, &mut fs);
        assert!(n > 3);
        let ctx = ContextTable::new();
        let mut r: Reassembler = Reassembler::default();
        let mut out = [0u8; 1280];
        let order = core::iter::once(0).chain((1..n).rev());
        let mut done = None;
        for (k, i) in order.enumerate() {
            let (f, len) = &fs[i];
            match r.receive(&f[..*len], &SRC, &DST, &ctx, Instant::ZERO, &mut out) {
                Ok(Received::Complete(m)) => done = Some((k, m)),
                Ok(Received::Pending) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(done, Some((n - 1, 1280)));
        assert!(out == p);
        assert_eq!(r.slots_in_use(), 0);
    }

    #[test]
    fn staggered_deadlines_expire_one_at_a_time() {
        let p = datagram(600);
        let mut fa = [([0u8; 127], 0); 20];
        let mut fb = [([0u8; 127], 0); 20];
        frames(&p[..600], 1, &mut fa);
        frames(&p[..600], 2, &mut fb);
        let ctx = ContextTable::new();
        let mut r: Reassembler = Reassembler::default();
        let mut out = [0u8; 1280];
        let at = Instant::from_secs;
        let (f, len) = &fa[0];
        assert_eq!(
            r.receive(&f[..*len], &SRC, &DST, &ctx, at(0), &mut out),
            Ok(Received::Pending)
        );
        let (f, len) = &fb[0];
        assert_eq!(
            r.receive(&f[..*len], &SRC, &DST, &ctx, at(5), &mut out),
            Ok(Received::Pending)
        );
        assert_eq!(r.expire(at(9)), 0);
        assert_eq!(r.expire(at(10)), 1);
        assert_eq!(r.slots_in_use(), 1);
        assert_eq!(r.expire(at(14)), 0);
        // B is still alive and still takes fragments.
        let (f, len) = &fb[1];
        assert_eq!(
            r.receive(&f[..*len], &SRC, &DST, &ctx, at(14), &mut out),
            Ok(Received::Pending)
        );
        let (f, len) = &fa[1];
        assert_eq!(
            r.receive(&f[..*len], &SRC, &DST, &ctx, at(14), &mut out),
            Err(ReceiveError::FragnWithoutFrag1)
        );
        assert_eq!(r.expire(at(15)), 1);
        assert_eq!(r.slots_in_use(), 0);
        assert_eq!(r.stats().reassembly_timeouts, 2);
    }

    #[test]
    fn completing_into_a_short_output_discards() {
        let p = datagram(1280);
        let mut fs = [([0u8; 127], 0); 20];
        let n = frames(&p, 4, &mut fs);
        let ctx = ContextTable::new();
        let mut r: Reassembler = Reassembler::default();
        let mut out = [0u8; 1280];
        for (f, len) in &fs[..n - 1] {
            let got = r.receive(&f[..*len], &SRC, &DST, &ctx, Instant::ZERO, &mut out);
            assert_eq!(got, Ok(Received::Pending));
        }
        let (f, len) = &fs[n - 1];
        let mut short = [0u8; 1000];
        assert_eq!(
            r.receive(&f[..*len], &SRC, &DST, &ctx, Instant::ZERO, &mut short),
            Err(ReceiveError::OutputTooSmall)
        );
        assert_eq!(r.slots_in_use(), 0);
        assert_eq!(r.stats().output_too_small, 1);
    }

    /// A two-buffer store that tracks which buffers are out.
    struct TwoBuffers {
        bufs: [[u8; 1280]; 2],
        out: [bool; 2],
    }

    impl TwoBuffers {
        fn outstanding(&self) -> usize {
            self.out.iter().filter(|o| **o).count()
        }
    }

    impl DatagramStore for TwoBuffers {
        type Buf = usize;
        fn capacity(&self) -> usize {
            1280
        }
        fn take(&mut self, _: Option<usize>) -> Option<usize> {
            let i = self.out.iter().position(|o| !*o)?;
            self.out[i] = true;
            Some(i)
        }
        fn bytes(&mut self, b: &usize) -> &mut [u8] {
            &mut self.bufs[*b]
        }
        fn give_back(&mut self, b: usize) {
            assert!(self.out[b], "buffer {b} given back twice");
            self.out[b] = false;
        }
    }

    #[test]
    fn pooled_assembles_in_store_buffers_and_always_returns_them() {
        let p = datagram(1280);
        let mut fs = [([0u8; 127], 0); 20];
        let n = frames(&p, 7, &mut fs);
        let ctx = ContextTable::new();
        let mut st = TwoBuffers {
            bufs: [[0; 1280]; 2],
            out: [false; 2],
        };
        let mut r: PooledReassembler<usize, 4> = PooledReassembler::default();
        let rx = |r: &mut PooledReassembler<usize, 4>, st: &mut TwoBuffers, f: &[u8], now| {
            r.receive(st, f, &SRC, &DST, &ctx, now)
        };
        // Assembled in one store buffer, handed over without a copy.
        let mut got = None;
        for (f, len) in &fs[..n] {
            match rx(&mut r, &mut st, &f[..*len], Instant::ZERO) {
                Ok(Assembled::Datagram { buf, len }) => got = Some((buf, len)),
                Ok(Assembled::Pending) => assert_eq!(st.outstanding(), 1),
                Err(e) => panic!("{e}"),
            }
        }
        let (buf, len) = got.unwrap();
        assert!(st.bufs[buf][..len] == p[..]);
        assert_eq!((st.outstanding(), r.slots_in_use()), (1, 0));
        st.give_back(buf);

        // An exhausted store: the FRAG1 is refused and counted, nothing is held.
        let (a, b) = (st.take(None).unwrap(), st.take(None).unwrap());
        let (f1, l1) = &fs[0];
        assert_eq!(
            rx(&mut r, &mut st, &f1[..*l1], Instant::ZERO),
            Err(ReceiveError::NoBuffer)
        );
        assert_eq!((r.stats().no_buffer, r.slots_in_use()), (1, 0));
        st.give_back(a);
        st.give_back(b);

        // A discarded datagram gives its buffer back...
        assert_eq!(
            rx(&mut r, &mut st, &f1[..*l1], Instant::ZERO),
            Ok(Assembled::Pending)
        );
        assert_eq!(st.outstanding(), 1);
        let mut other = [([0u8; 127], 0); 20];
        let d600 = datagram(600);
        frames(&d600[..600], 7, &mut other);
        let (f, l) = &other[0];
        assert_eq!(
            rx(&mut r, &mut st, &f[..*l], Instant::ZERO),
            Err(ReceiveError::DatagramSizeMismatch)
        );
        assert_eq!((st.outstanding(), r.slots_in_use()), (0, 0));
        // ... and so does a timed-out one; a refused unfragmented frame holds nothing either.
        assert_eq!(
            rx(&mut r, &mut st, &f1[..*l1], Instant::ZERO),
            Ok(Assembled::Pending)
        );
        assert_eq!(
            rx(&mut r, &mut st, &[0x7a, 0xff], Instant::ZERO),
            Err(ReceiveError::Decompress(DecompressError::Truncated))
        );
        assert_eq!(st.outstanding(), 1);
        assert_eq!(r.expire(Instant::from_secs(10), &mut st), 1);
        assert_eq!((st.outstanding(), r.slots_in_use()), (0, 0));
        assert_eq!(r.clear(&mut st), 0);
    }

    #[test]
    fn eight_byte_fragments_in_units() {
        // A 300-byte datagram cut by hand into 8-byte FRAGNs after an uncompressed FRAG1: ranges
        // kept in 8-octet units still catch duplicates and overlaps exactly.
        let p = datagram(300);
        let ctx = ContextTable::new();
        let mut r: Reassembler<2, 1280> = Reassembler::default();
        let mut out = [0u8; 1280];
        let size: u16 = 300;
        // FRAG1: dispatch 0xc0 | size, tag 9, then IPv6 dispatch 0x41 and the first 80 bytes.
        let mut f1 = [0u8; 4 + 1 + 80];
        f1[..4].copy_from_slice(&[0xc0 | (size >> 8) as u8, size as u8, 0, 9]);
        f1[4] = 0x41;
        f1[5..].copy_from_slice(&p[..80]);
        let fragn = |off: usize, len: usize, buf: &mut [u8; 5 + 64]| -> usize {
            buf[..5].copy_from_slice(&[
                0xe0 | (size >> 8) as u8,
                size as u8,
                0,
                9,
                (off / 8) as u8,
            ]);
            buf[5..5 + len].copy_from_slice(&p[off..off + len]);
            5 + len
        };
        let rx = |r: &mut Reassembler<2, 1280>, f: &[u8], out: &mut [u8]| {
            r.receive(f, &SRC, &DST, &ctx, Instant::ZERO, out)
        };
        assert_eq!(rx(&mut r, &f1, &mut out), Ok(Received::Pending));
        let mut b = [0u8; 69];
        let n = fragn(88, 8, &mut b);
        assert_eq!(rx(&mut r, &b[..n], &mut out), Ok(Received::Pending));
        assert_eq!(
            rx(&mut r, &b[..n], &mut out),
            Err(ReceiveError::DuplicateFragment)
        );
        let n = fragn(80, 8, &mut b);
        assert_eq!(rx(&mut r, &b[..n], &mut out), Ok(Received::Pending));
        let mut off = 96;
        let mut last = Ok(Received::Pending);
        while off < 300 {
            let len = (300 - off).min(64);
            let n = fragn(off, len, &mut b);
            last = rx(&mut r, &b[..n], &mut out);
            off += len;
        }
        assert_eq!(last, Ok(Received::Complete(300)));
        assert!(out[..300] == p[..300]);
        // Overlap by one unit: the final fragment again, shifted back by 8.
        assert_eq!(rx(&mut r, &f1, &mut out), Ok(Received::Pending));
        let n = fragn(256, 44, &mut b);
        assert_eq!(rx(&mut r, &b[..n], &mut out), Ok(Received::Pending));
        let n = fragn(248, 16, &mut b);
        assert_eq!(
            rx(&mut r, &b[..n], &mut out),
            Err(ReceiveError::OverlappingFragment)
        );
        assert_eq!(r.slots_in_use(), 0);
    }
}
