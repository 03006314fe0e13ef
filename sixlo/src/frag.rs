//! RFC 4944 §5.3 fragmentation: FRAG1/FRAGN headers and the [`Fragmenter`].
//!
//! ```text
//! FRAG1: | 1 1 0 0 0 | datagram_size (11) | datagram_tag (16) |
//! FRAGN: | 1 1 1 0 0 | datagram_size (11) | datagram_tag (16) | datagram_offset (8) |
//! ```
//! `datagram_size` is the size of the *uncompressed* IPv6 datagram and `datagram_offset` counts
//! 8-octet units of the uncompressed datagram. Only the first fragment carries the compressed
//! headers.

use core::fmt;

use crate::buf::Writer;
use crate::compress::{CompressError, CompressOptions, Compressed, compress_planned};
use crate::context::ContextTable;
use crate::link::LinkAddr;

/// Length of a FRAG1 header.
pub const FRAG1_LEN: usize = 4;
/// Length of a FRAGN header.
pub const FRAGN_LEN: usize = 5;

/// Largest datagram_size the 11-bit field can express.
pub const MAX_DATAGRAM_SIZE: usize = 2047;

/// Whether `b` starts a FRAG1 (`11000xxx`) header.
pub const fn is_frag1(b: u8) -> bool {
    b & 0xf8 == 0xc0
}
/// Whether `b` starts a FRAGN (`11100xxx`) header.
pub const fn is_fragn(b: u8) -> bool {
    b & 0xf8 == 0xe0
}

/// A parsed fragment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Repr {
    /// FRAG1.
    First {
        /// Uncompressed datagram size.
        size: u16,
        /// Datagram tag.
        tag: u16,
    },
    /// FRAGN.
    Next {
        /// Uncompressed datagram size.
        size: u16,
        /// Datagram tag.
        tag: u16,
        /// Offset in 8-octet units.
        offset: u8,
    },
}

/// `(is FRAG1, datagram_size, datagram_tag, offset, header length)` of the fragment header at
/// the start of `data` (primitive values, so the receive path keeps them in registers).
#[inline]
pub(crate) fn parse_fields(data: &[u8]) -> Option<(bool, u16, u16, u8, usize)> {
    let b0 = *data.first()?;
    let size = u16::from_be_bytes([b0 & 0x07, *data.get(1)?]);
    let tag = u16::from_be_bytes([*data.get(2)?, *data.get(3)?]);
    if is_frag1(b0) {
        Some((true, size, tag, 0, FRAG1_LEN))
    } else if is_fragn(b0) {
        Some((false, size, tag, *data.get(4)?, FRAGN_LEN))
    } else {
        None
    }
}

impl Repr {
    /// Parse a fragment header at the start of `data`; returns it and its length. `None` if the
    /// data is not a fragment header or is shorter than one.
    pub fn parse(data: &[u8]) -> Option<(Repr, usize)> {
        let (first, size, tag, offset, len) = parse_fields(data)?;
        let r = if first {
            Repr::First { size, tag }
        } else {
            Repr::Next { size, tag, offset }
        };
        Some((r, len))
    }

    /// The uncompressed datagram size.
    pub const fn datagram_size(&self) -> u16 {
        match *self {
            Repr::First { size, .. } | Repr::Next { size, .. } => size,
        }
    }
    /// The datagram tag.
    pub const fn tag(&self) -> u16 {
        match *self {
            Repr::First { tag, .. } | Repr::Next { tag, .. } => tag,
        }
    }
    /// The offset in 8-octet units (0 for FRAG1).
    pub const fn offset(&self) -> u8 {
        match *self {
            Repr::First { .. } => 0,
            Repr::Next { offset, .. } => offset,
        }
    }
    /// Bytes [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        match self {
            Repr::First { .. } => FRAG1_LEN,
            Repr::Next { .. } => FRAGN_LEN,
        }
    }
    /// Write the header; `None` if `buf` is too short or the size exceeds 11 bits.
    pub fn emit(&self, buf: &mut [u8]) -> Option<usize> {
        let size = self.datagram_size();
        if usize::from(size) > MAX_DATAGRAM_SIZE {
            return None;
        }
        let [s0, s1] = size.to_be_bytes();
        let [t0, t1] = self.tag().to_be_bytes();
        let mut w = Writer::new(buf);
        match self {
            Repr::First { .. } => w.put(&[0xc0 | s0, s1, t0, t1]).ok()?,
            Repr::Next { offset, .. } => w.put(&[0xe0 | s0, s1, t0, t1, *offset]).ok()?,
        }
        Some(w.pos())
    }
}

/// Why a datagram could not be fragmented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FragError {
    /// The datagram could not be compressed.
    Compress(CompressError),
    /// The datagram exceeds the 2047-byte datagram_size field.
    TooLarge,
    /// The budget cannot hold the fragment header, the compressed headers and one 8-octet unit.
    BudgetTooSmall,
    /// The output buffer is smaller than the frame to write.
    BufferTooSmall,
    /// A [`Continuation`] was given a datagram of another length than the one it was made for.
    WrongDatagram,
}

impl fmt::Display for FragError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Compress(e) => write!(f, "compression failed: {e}"),
            Self::TooLarge => f.write_str("datagram larger than 2047 bytes"),
            Self::BudgetTooSmall => {
                f.write_str("MAC payload budget too small for the compressed headers")
            }
            Self::BufferTooSmall => f.write_str("frame buffer smaller than the frame"),
            Self::WrongDatagram => f.write_str("continuation used with another datagram"),
        }
    }
}

impl core::error::Error for FragError {}

/// Produces the frame payloads of one datagram, one at a time, into caller buffers.
///
/// If the compressed datagram fits the budget, one unfragmented frame is produced. Otherwise
/// FRAG1 carries the compressed headers and as much payload as fits while keeping the next
/// offset a multiple of 8 octets; each FRAGN carries the largest multiple of 8 octets that fits
/// (the last one the remainder). Every frame but the last is as full as the rules allow, so the
/// frame count is the minimum.
///
/// [`Fragmenter::new`] plans: it chooses the encoding and measures the compressed headers
/// without writing them. The first frame emits them once, straight into the caller's buffer,
/// with the encoding chosen at planning; every later frame is one header store and one copy.
#[derive(Debug, PartialEq, Eq)]
pub struct Fragmenter<'a> {
    packet: &'a [u8],
    ll_src: LinkAddr,
    ll_dst: LinkAddr,
    contexts: &'a ContextTable,
    opts: CompressOptions,
    tag: u16,
    budget: usize,
    hdr: Compressed,
    /// The outer IPHC encoding chosen at planning (packed, see `iphc::Encoding::pack`),
    /// reused when the first frame is written.
    enc: u32,
    fragmented: bool,
    /// End (in the uncompressed datagram) of the first frame's payload.
    first_end: usize,
    /// Payload bytes of a FRAGN frame (but the last): the budget after the FRAGN header,
    /// rounded down to 8 octets.
    per: usize,
    /// The first four FRAGN header bytes (dispatch + datagram_size, datagram_tag).
    fragn: [u8; 4],
    /// Bytes of the uncompressed datagram already sent (`None` before the first frame).
    sent: Option<usize>,
}

impl<'a> Fragmenter<'a> {
    /// Plan the frames of `packet` (a whole IPv6 datagram) for a MAC payload `budget`.
    ///
    /// Inlined so the fragmenter is built in the caller's frame rather than moved there.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn new(
        packet: &'a [u8],
        ll_src: LinkAddr,
        ll_dst: LinkAddr,
        contexts: &'a ContextTable,
        opts: CompressOptions,
        tag: u16,
        budget: usize,
    ) -> Result<Self, FragError> {
        let plan = plan(packet, &ll_src, &ll_dst, contexts, opts, budget)?;
        let [s0, s1] = (packet.len() as u16).to_be_bytes();
        let [t0, t1] = tag.to_be_bytes();
        Ok(Fragmenter {
            packet,
            ll_src,
            ll_dst,
            contexts,
            opts,
            tag,
            budget,
            hdr: plan.hdr,
            enc: plan.enc,
            fragmented: plan.fragmented,
            first_end: plan.first_end,
            per: budget.saturating_sub(FRAGN_LEN) / 8 * 8,
            fragn: [0xe0 | (s0 & 0x07), s1, t0, t1],
            sent: None,
        })
    }

    /// Whether the datagram needs fragment headers.
    pub const fn is_fragmented(&self) -> bool {
        self.fragmented
    }

    /// Number of frames the datagram takes.
    pub fn frame_count(&self) -> usize {
        if !self.fragmented {
            return 1;
        }
        // `per` is at least 8 here: `new` refuses a smaller budget for a fragmented datagram.
        1 + (self.packet.len() - self.first_end).div_ceil(self.per.max(8))
    }

    /// Progress so far: bytes of the uncompressed datagram already carried (`None` before the
    /// first frame). With [`Fragmenter::resume`] a caller that cannot keep the fragmenter (it
    /// borrows the datagram) continues later where it stopped.
    pub const fn position(&self) -> Option<usize> {
        self.sent
    }

    /// Continue from a [`Fragmenter::position`] of a fragmenter built with the same arguments.
    /// A position past the datagram ends it; one that is not on a frame boundary of this plan
    /// still produces valid frames (offsets stay 8-octet aligned only if `position` was).
    pub fn resume(&mut self, position: Option<usize>) {
        self.sent = position.map(|p| p.min(self.packet.len()));
    }

    /// Whether every frame has been produced.
    pub fn is_done(&self) -> bool {
        self.sent.is_some_and(|s| s >= self.packet.len())
    }

    /// Write the next frame payload into `out`; `Ok(None)` once all frames were produced.
    #[inline]
    pub fn next_frame(&mut self, out: &mut [u8]) -> Result<Option<usize>, FragError> {
        let Some(sent) = self.sent else {
            return self.first_frame(out);
        };
        // Hot path (every frame but the first): one header store and one copy.
        match fragn_frame(self.packet, sent, self.per, self.fragn, out)? {
            Some((n, sent)) => {
                self.sent = Some(sent);
                Ok(Some(n))
            }
            None => Ok(None),
        }
    }

    /// What the frames after the first one need, without the borrow of the datagram; `None`
    /// before the first frame. See [`Continuation`].
    pub fn continuation(&self) -> Option<Continuation> {
        Some(Continuation {
            len: self.packet.len(),
            sent: self.sent?,
            per: self.per,
            fragn: self.fragn,
        })
    }

    /// The first frame: FRAG1 (if fragmented), the compressed headers emitted with the planned
    /// encoding, and the payload up to `first_end`.
    #[inline(never)]
    fn first_frame(&mut self, out: &mut [u8]) -> Result<Option<usize>, FragError> {
        let (start, body) = if self.fragmented {
            let (h, body) = out
                .split_first_chunk_mut::<FRAG1_LEN>()
                .ok_or(FragError::BufferTooSmall)?;
            let [f0, f1, f2, f3] = self.fragn;
            *h = [0xc0 | (f0 & 0x07), f1, f2, f3];
            (FRAG1_LEN, body)
        } else {
            (0, out)
        };
        let mut w = Writer::new(body);
        compress_planned(
            self.packet,
            &self.ll_src,
            &self.ll_dst,
            self.contexts,
            self.opts,
            &mut w,
            Some(self.enc),
        )
        .map_err(|e| match e {
            CompressError::BufferTooSmall => FragError::BufferTooSmall,
            e => FragError::Compress(e),
        })?;
        let payload = self
            .packet
            .get(self.hdr.consumed..self.first_end)
            .unwrap_or(&[]);
        w.put(payload).map_err(|()| FragError::BufferTooSmall)?;
        self.sent = Some(self.first_end);
        Ok(Some(start + w.pos()))
    }
}

/// One FRAGN frame of `packet` from `sent` into `out`: `(bytes written, new sent)`, or `None`
/// when the datagram is done.
#[inline]
fn fragn_frame(
    packet: &[u8],
    sent: usize,
    per: usize,
    fragn: [u8; 4],
    out: &mut [u8],
) -> Result<Option<(usize, usize)>, FragError> {
    let rest = match packet.get(sent..) {
        Some(r) if !r.is_empty() => r,
        _ => return Ok(None),
    };
    if per == 0 {
        // Only reachable by resuming an unfragmented plan whose budget cannot hold a FRAGN
        // header and 8 octets.
        return Err(FragError::BudgetTooSmall);
    }
    let chunk = rest.get(..per).unwrap_or(rest);
    let (hdr, body) = out
        .split_first_chunk_mut::<FRAGN_LEN>()
        .ok_or(FragError::BufferTooSmall)?;
    let body = body
        .get_mut(..chunk.len())
        .ok_or(FragError::BufferTooSmall)?;
    let [f0, f1, f2, f3] = fragn;
    *hdr = [f0, f1, f2, f3, (sent / 8) as u8];
    body.copy_from_slice(chunk);
    Ok(Some((FRAGN_LEN + chunk.len(), sent + chunk.len())))
}

/// A datagram's fragmentation after its first frame ([`Fragmenter::continuation`]): what the
/// remaining FRAGN frames need (datagram length, progress, FRAGN payload size and header),
/// without borrowing the datagram.
///
/// `Copy` and small: a caller that cannot keep a [`Fragmenter`] across calls (it borrows the
/// datagram, e.g. a pool buffer that stays queued while the MAC drains) keeps this instead of
/// planning the datagram again for every frame. The later frames do not depend on the
/// compression contexts or options (only the first frame carries compressed headers), so a
/// continuation produces exactly the frames the fragmenter would have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Continuation {
    len: usize,
    sent: usize,
    per: usize,
    fragn: [u8; 4],
}

impl Continuation {
    /// Bytes of the uncompressed datagram already carried.
    pub const fn position(&self) -> usize {
        self.sent
    }

    /// Whether every frame has been produced.
    pub const fn is_done(&self) -> bool {
        self.sent >= self.len
    }

    /// Write the next frame payload of `packet` (the datagram the [`Fragmenter`] was made
    /// for) into `out`; `Ok(None)` once all frames were produced.
    /// [`FragError::WrongDatagram`] if `packet` is not as long as that datagram.
    #[inline]
    pub fn next_frame(
        &mut self,
        packet: &[u8],
        out: &mut [u8],
    ) -> Result<Option<usize>, FragError> {
        if packet.len() != self.len {
            return Err(FragError::WrongDatagram);
        }
        match fragn_frame(packet, self.sent, self.per, self.fragn, out)? {
            Some((n, sent)) => {
                self.sent = sent;
                Ok(Some(n))
            }
            None => Ok(None),
        }
    }
}

/// Payload bytes (after the compressed headers `hdr`) carried by FRAG1 of a `total`-byte
/// datagram at this budget.
fn first_payload(budget: usize, hdr: Compressed, total: usize) -> Option<usize> {
    let room = budget.checked_sub(FRAG1_LEN + hdr.written)?;
    let end = hdr.consumed.checked_add(room)? / 8 * 8;
    let n = end.checked_sub(hdr.consumed)?;
    Some(n.min(total.saturating_sub(hdr.consumed)))
}

/// What [`Fragmenter::new`] learns before the first frame.
struct Plan {
    hdr: Compressed,
    enc: u32,
    fragmented: bool,
    first_end: usize,
}

/// Choose the encoding, measure the compressed headers (nothing is written) and check that the
/// datagram can be cut for this budget. Out of line: [`Fragmenter::new`] is inlined into its
/// caller and only copies these few fields.
#[inline(never)]
fn plan(
    packet: &[u8],
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    contexts: &ContextTable,
    opts: CompressOptions,
    budget: usize,
) -> Result<Plan, FragError> {
    let mut m = Writer::measuring();
    let (consumed, enc) = compress_planned(packet, ll_src, ll_dst, contexts, opts, &mut m, None)
        .map_err(FragError::Compress)?;
    let hdr = Compressed {
        consumed,
        written: m.pos(),
    };
    let total = packet.len();
    let payload = total.saturating_sub(consumed);
    let fragmented = hdr.written.saturating_add(payload) > budget;
    let first_end = if fragmented {
        if total > MAX_DATAGRAM_SIZE {
            return Err(FragError::TooLarge);
        }
        if budget < FRAGN_LEN + 8 {
            return Err(FragError::BudgetTooSmall);
        }
        let n = first_payload(budget, hdr, total).ok_or(FragError::BudgetTooSmall)?;
        consumed + n
    } else {
        total
    };
    Ok(Plan {
        hdr,
        enc,
        fragmented,
        first_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1280-byte IPv6/UDP datagram between link-derived addresses (fe80::ff:fe00:1 → 2).
    fn datagram() -> [u8; 1280] {
        let mut p = [0u8; 1280];
        p[..8].copy_from_slice(&[0x60, 0, 0, 0, 0x04, 0xd8, 17, 64]);
        p[8..24].copy_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 1]);
        p[24..40].copy_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 2]);
        p[40..48].copy_from_slice(&[0x16, 0x33, 0x16, 0x34, 0x04, 0xd8, 0x12, 0x34]);
        for (i, b) in p[48..].iter_mut().enumerate() {
            *b = i as u8;
        }
        p
    }

    #[test]
    fn continuation_produces_the_fragmenters_frames() {
        let p = datagram();
        let ctx = ContextTable::new();
        let (src, dst) = (LinkAddr::Short([0, 1]), LinkAddr::Short([0, 2]));
        let opts = CompressOptions::default();
        let mut whole = Fragmenter::new(&p, src, dst, &ctx, opts, 7, 104).unwrap();
        let mut expected = [[0u8; 127]; 16];
        let mut lens = [0usize; 16];
        let mut n = 0;
        while let Some(len) = whole.next_frame(&mut expected[n]).unwrap() {
            lens[n] = len;
            n += 1;
        }
        assert!(n > 10);
        // Plan once, take the first frame, then only the (copied) continuation.
        let mut f = Fragmenter::new(&p, src, dst, &ctx, opts, 7, 104).unwrap();
        assert_eq!(f.continuation(), None);
        let mut out = [0u8; 127];
        assert_eq!(f.next_frame(&mut out).unwrap(), Some(lens[0]));
        assert_eq!(out[..lens[0]], expected[0][..lens[0]]);
        let mut cont = f.continuation().unwrap();
        for i in 1..n {
            assert!(!cont.is_done());
            let mut c = cont; // as wpan0 does: advance a copy, keep it once the frame is taken
            let mut out = [0u8; 127];
            assert_eq!(c.next_frame(&p, &mut out).unwrap(), Some(lens[i]));
            assert_eq!(out[..lens[i]], expected[i][..lens[i]], "frame {i}");
            cont = c;
        }
        assert!(cont.is_done());
        assert_eq!(cont.position(), p.len());
        assert_eq!(cont.next_frame(&p, &mut out).unwrap(), None);
        // Another datagram's length is refused; a short buffer too.
        let mut c = f.continuation().unwrap();
        assert_eq!(
            c.next_frame(&p[..1000], &mut out),
            Err(FragError::WrongDatagram)
        );
        assert_eq!(
            c.next_frame(&p, &mut out[..20]),
            Err(FragError::BufferTooSmall)
        );
    }
}
