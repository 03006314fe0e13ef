//! RFC 4944 §5.3 reassembly with fixed storage, and the single receive entry point.
//!
//! [`Reassembler::receive`] takes one MAC payload (the 6LoWPAN frame) with its link-layer
//! addresses, the context table and `now`:
//! - an unfragmented IPHC (or uncompressed-IPv6) frame is decompressed straight into the
//!   caller's `out` buffer → [`Received::Complete`];
//! - a FRAG1 starts a datagram in a free slot (its compressed headers are decompressed at once,
//!   so the header/size checks happen on arrival); a FRAGN adds to it → [`Received::Pending`];
//! - when the last byte arrives, the datagram is copied into the caller's `out` buffer (the
//!   border router passes a buffer of its packet pool; the completing fragment goes there
//!   straight from the frame), its length and elided-checksum fields are filled, and the slot
//!   is freed → [`Received::Complete`].
//!
//! Per-fragment cost is kept flat: the timeout sweep is skipped until the earliest pending
//! deadline, the slot of the previous fragment is tried first, and an in-order fragment (nothing
//! stored past its offset) needs no range comparison.
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
    #[inline]
    fn add_range(&mut self, start: usize, end: usize) -> Result<bool, ReceiveError> {
        let (s, e) = (start as u16, end as u16);
        // In-order arrival (the common case): nothing stored reaches past `start`, so there is
        // nothing to compare against.
        if s < self.max_end {
            for (a, b) in self.ranges.iter().take(self.n_ranges) {
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
    /// No used slot's deadline is earlier than this, so [`Self::expire`] has nothing to do
    /// before it (a lower bound: freeing a slot leaves it alone, a sweep makes it exact).
    next_deadline: Instant,
    /// The slot the last fragment went to, tried first by [`Self::find`] (keys are unique among
    /// used slots, so this only changes the order of the search, never its result).
    last: usize,
}

/// Deadline of "no datagram pending".
const NEVER: Instant = Instant::from_micros(u64::MAX);

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
            next_deadline: NEVER,
            last: 0,
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
        if now < self.next_deadline {
            return 0;
        }
        let mut n = 0;
        let mut next = NEVER;
        for s in self.slots.iter_mut().filter(|s| s.used) {
            if s.deadline <= now {
                s.used = false;
                n += 1;
            } else {
                next = next.min(s.deadline);
            }
        }
        self.next_deadline = next;
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

    #[inline]
    fn find(&self, src: &LinkAddr, dst: &LinkAddr, tag: u16) -> Option<usize> {
        let is = |s: &Slot| s.used && s.tag == tag && s.src == *src && s.dst == *dst;
        if self.slots.get(self.last).is_some_and(is) {
            return Some(self.last);
        }
        self.slots.iter().position(is)
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
        self.next_deadline = self.next_deadline.min(slot.deadline);
        self.last = i;
        self.finish_if_complete(i, out)
    }

    #[inline]
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
        self.last = i;
        let size = usize::from(slot.size);
        let Some(buf) = self.bufs.get_mut(i).and_then(|b| b.get_mut(..size)) else {
            return Err(self.discard(i, ReceiveError::FragmentPastDatagramSize));
        };
        if slot.received < size {
            match buf.get_mut(start..end) {
                Some(d) => d.copy_from_slice(data),
                None => return Err(self.discard(i, ReceiveError::FragmentPastDatagramSize)),
            }
            return Ok(Received::Pending);
        }
        // The last missing piece: assemble straight into `out` (the slot's buffer before and
        // after it, this fragment from the frame) instead of storing it first.
        slot.used = false;
        let dst = out.get_mut(..size).ok_or(ReceiveError::OutputTooSmall)?;
        let (Some(head), Some(tail)) = (buf.get(..start), buf.get(end..)) else {
            return Err(ReceiveError::FragmentPastDatagramSize);
        };
        let Some((d_head, rest)) = dst.split_at_mut_checked(start) else {
            return Err(ReceiveError::FragmentPastDatagramSize);
        };
        let Some((d_mid, d_tail)) = rest.split_at_mut_checked(data.len()) else {
            return Err(ReceiveError::FragmentPastDatagramSize);
        };
        d_head.copy_from_slice(head);
        d_mid.copy_from_slice(data);
        d_tail.copy_from_slice(tail);
        slot.fixups.apply(dst).map_err(ReceiveError::Decompress)?;
        Ok(Received::Complete(size))
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
}
