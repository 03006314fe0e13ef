//! RFC 4944 §5.3 reassembly with fixed storage, and the single receive entry point.
//!
//! [`Reassembler::receive`] takes one MAC payload (the 6LoWPAN frame) with its link-layer
//! addresses, the context table and `now`:
//! - an unfragmented IPHC (or uncompressed-IPv6) frame is decompressed straight into the
//!   caller's `out` buffer → [`Received::Complete`];
//! - a FRAG1 starts a datagram in a free slot (its compressed headers are decompressed at once,
//!   so the header/size checks happen on arrival); a FRAGN adds to it → [`Received::Pending`];
//! - when the last byte arrives, the datagram is copied into the caller's `out` buffer (the
//!   border router passes a buffer of its packet pool), its length and elided-checksum fields
//!   are filled, and the slot is freed → [`Received::Complete`].
//!
//! Slots are keyed by (link source, link destination, datagram_tag) and checked against
//! datagram_size. The number of slots and their size are const generics (default 8 × 1280),
//! the timeout and per-source limit are [`ReassemblyConfig`] fields. Every failure is a
//! [`ReceiveError`] counted in [`SixloStats`]; a slot is released on completion, timeout, error
//! and discard alike, which [`Reassembler::slots_in_use`] makes observable. FRAGN before FRAG1,
//! overlaps, size changes, lengths past the datagram and non-multiple-of-8 fragments are all
//! refused; an exact duplicate is dropped without harming the datagram.

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

/// Reassembly parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReassemblyConfig {
    /// How long a datagram may take to complete, from its FRAG1 (default 10 s).
    pub timeout: Duration,
    /// Slots one link-layer source may hold at once (default 4).
    pub per_source_limit: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            timeout: Duration::from_secs(10),
            per_source_limit: 4,
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
    /// Every slot is busy.
    NoFreeSlot,
    /// The sender holds its share of slots.
    PerSourceLimit,
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
    received: usize,
    ranges: [(u16, u16); MAX_FRAGMENTS],
    n_ranges: usize,
    max_end: u16,
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
            received: 0,
            ranges: [(0, 0); MAX_FRAGMENTS],
            n_ranges: 0,
            max_end: 0,
            fixups: HeaderFixups::EMPTY,
        }
    }

    /// Add the range `[start, end)`; `Ok(false)` for an exact duplicate.
    fn add_range(&mut self, start: usize, end: usize) -> Result<bool, ReceiveError> {
        let (s, e) = (start as u16, end as u16);
        // In-order arrival (the common case): nothing stored reaches past `start`.
        let in_order = s >= self.max_end;
        for (a, b) in self
            .ranges
            .iter()
            .take(if in_order { 0 } else { self.n_ranges })
        {
            if (*a, *b) == (s, e) {
                return Ok(false);
            }
            if s < *b && *a < e {
                return Err(ReceiveError::OverlappingFragment);
            }
        }
        let r = self
            .ranges
            .get_mut(self.n_ranges)
            .ok_or(ReceiveError::TooManyFragments)?;
        *r = (s, e);
        self.n_ranges += 1;
        self.max_end = self.max_end.max(e);
        self.received += end - start;
        Ok(true)
    }
}

/// The 6LoWPAN receiver: unfragmented frames and bounded reassembly. `SLOTS` concurrent
/// datagrams of at most `BUF` bytes each.
#[derive(Debug)]
pub struct Reassembler<const SLOTS: usize = 8, const BUF: usize = IPV6_MIN_MTU> {
    /// Per-datagram state, kept apart from the buffers so lookups touch few cache lines.
    slots: [Slot; SLOTS],
    bufs: [[u8; BUF]; SLOTS],
    config: ReassemblyConfig,
    stats: SixloStats,
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
            slots: core::array::from_fn(|_| Slot::new()),
            bufs: [[0; BUF]; SLOTS],
            config,
            stats: SixloStats::default(),
        }
    }

    /// The configuration.
    pub const fn config(&self) -> &ReassemblyConfig {
        &self.config
    }

    /// The counters.
    pub const fn stats(&self) -> &SixloStats {
        &self.stats
    }

    /// Reset the counters.
    pub fn reset_stats(&mut self) {
        self.stats = SixloStats::default();
    }

    /// Slots holding a partial datagram.
    pub fn slots_in_use(&self) -> usize {
        self.slots.iter().filter(|s| s.used).count()
    }

    /// Discard every datagram whose timeout passed at `now`; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut n = 0;
        for s in self.slots.iter_mut() {
            if s.used && s.deadline <= now {
                s.used = false;
                n += 1;
            }
        }
        self.stats.reassembly_timeouts = self.stats.reassembly_timeouts.saturating_add(n as u32);
        n
    }

    /// Process one 6LoWPAN frame (the MAC payload). See the module documentation.
    pub fn receive(
        &mut self,
        frame: &[u8],
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
        now: Instant,
        out: &mut [u8],
    ) -> Result<Received, ReceiveError> {
        self.stats.rx_frames = self.stats.rx_frames.saturating_add(1);
        self.expire(now);
        let r = self.receive_inner(frame, ll_src, ll_dst, contexts, now, out);
        let s = &mut self.stats;
        let c = match r {
            Ok(Received::Complete(_)) => &mut s.rx_datagrams,
            Ok(Received::Pending) => &mut s.rx_fragments,
            Err(ReceiveError::Decompress(e)) => {
                s.record_decompress(&e);
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

    fn find(&self, src: &LinkAddr, dst: &LinkAddr, tag: u16) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.used && s.tag == tag && s.src == *src && s.dst == *dst)
    }

    fn discard(&mut self, i: usize, e: ReceiveError) -> ReceiveError {
        if let Some(s) = self.slots.get_mut(i) {
            s.used = false;
        }
        e
    }

    fn receive_inner(
        &mut self,
        frame: &[u8],
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
        now: Instant,
        out: &mut [u8],
    ) -> Result<Received, ReceiveError> {
        let b0 = *frame.first().ok_or(ReceiveError::FrameTooShort)?;
        if b0 == DISPATCH_IPV6 || is_iphc_dispatch(b0) {
            return decompress(frame, ll_src, ll_dst, contexts, out)
                .map(Received::Complete)
                .map_err(ReceiveError::Decompress);
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
        if size > BUF {
            return Err(ReceiveError::DatagramTooLarge);
        }
        let existing = self.find(ll_src, ll_dst, tag);
        if let Some(i) = existing
            && self
                .slots
                .get(i)
                .is_some_and(|s| usize::from(s.size) != size)
        {
            return Err(self.discard(i, ReceiveError::DatagramSizeMismatch));
        }
        if first {
            self.first(
                existing, rest, size, tag, ll_src, ll_dst, contexts, now, out,
            )
        } else {
            {
                let i = existing.ok_or(ReceiveError::FragnWithoutFrag1)?;
                if rest.is_empty() {
                    return Err(ReceiveError::EmptyFragment);
                }
                let start = usize::from(offset) * 8;
                let end = start + rest.len();
                if end > size {
                    return Err(self.discard(i, ReceiveError::FragmentPastDatagramSize));
                }
                if end < size && rest.len() % 8 != 0 {
                    return Err(self.discard(i, ReceiveError::FragmentNotMultipleOf8));
                }
                self.store(i, start, end, rest, out)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn first(
        &mut self,
        existing: Option<usize>,
        rest: &[u8],
        size: usize,
        tag: u16,
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
        now: Instant,
        out: &mut [u8],
    ) -> Result<Received, ReceiveError> {
        let map = |e: DecompressError| match e {
            DecompressError::BufferTooSmall => ReceiveError::HeaderExceedsDatagramSize,
            e => ReceiveError::Decompress(e),
        };
        if let Some(i) = existing {
            // A second FRAG1: decompress into the caller's buffer only to learn its extent.
            let lim = size.min(out.len());
            let h = decompress_headers(
                rest,
                ll_src,
                ll_dst,
                contexts,
                out.get_mut(..lim).unwrap_or(&mut []),
            )
            .map_err(|e| self.discard(i, map(e)))?;
            let end = h.written + rest.len().saturating_sub(h.consumed);
            let dup = self.slots.get(i).is_some_and(|s| {
                s.ranges
                    .iter()
                    .take(s.n_ranges)
                    .any(|r| *r == (0, end as u16))
            });
            return Err(if dup {
                ReceiveError::DuplicateFragment
            } else {
                self.discard(i, ReceiveError::OverlappingFragment)
            });
        }
        if self
            .slots
            .iter()
            .filter(|s| s.used && s.src == *ll_src)
            .count()
            >= self.config.per_source_limit
        {
            return Err(ReceiveError::PerSourceLimit);
        }
        let i = self
            .slots
            .iter()
            .position(|s| !s.used)
            .ok_or(ReceiveError::NoFreeSlot)?;
        let timeout = self.config.timeout;
        let slot = self.slots.get_mut(i).ok_or(ReceiveError::NoFreeSlot)?;
        let dgram = self
            .bufs
            .get_mut(i)
            .and_then(|b| b.get_mut(..size))
            .ok_or(ReceiveError::DatagramTooLarge)?;
        let h = decompress_headers(rest, ll_src, ll_dst, contexts, dgram).map_err(map)?;
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
        slot.used = true;
        slot.src = *ll_src;
        slot.dst = *ll_dst;
        slot.size = size as u16;
        slot.tag = tag;
        slot.deadline = now
            .checked_add(timeout)
            .unwrap_or(Instant::from_micros(u64::MAX));
        slot.received = 0;
        slot.n_ranges = 0;
        slot.max_end = 0;
        slot.fixups = h.fixups;
        slot.add_range(0, end)?;
        self.finish_if_complete(i, out)
    }

    fn store(
        &mut self,
        i: usize,
        start: usize,
        end: usize,
        data: &[u8],
        out: &mut [u8],
    ) -> Result<Received, ReceiveError> {
        let slot = self
            .slots
            .get_mut(i)
            .ok_or(ReceiveError::FragnWithoutFrag1)?;
        match slot.add_range(start, end) {
            Ok(true) => {}
            Ok(false) => return Err(ReceiveError::DuplicateFragment),
            Err(e) => return Err(self.discard(i, e)),
        }
        match self.bufs.get_mut(i).and_then(|b| b.get_mut(start..end)) {
            Some(d) => d.copy_from_slice(data),
            None => return Err(self.discard(i, ReceiveError::FragmentPastDatagramSize)),
        }
        self.finish_if_complete(i, out)
    }

    fn finish_if_complete(&mut self, i: usize, out: &mut [u8]) -> Result<Received, ReceiveError> {
        let Some(slot) = self.slots.get_mut(i) else {
            return Err(ReceiveError::NoFreeSlot);
        };
        let size = usize::from(slot.size);
        if slot.received < size {
            return Ok(Received::Pending);
        }
        slot.used = false;
        let dst = out.get_mut(..size).ok_or(ReceiveError::OutputTooSmall)?;
        let src = self.bufs.get(i).and_then(|b| b.get(..size));
        dst.copy_from_slice(src.ok_or(ReceiveError::OutputTooSmall)?);
        slot.fixups.apply(dst).map_err(ReceiveError::Decompress)?;
        Ok(Received::Complete(size))
    }
}
