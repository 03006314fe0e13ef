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
use crate::compress::{CompressError, CompressOptions, Compressed, compress_to};
use crate::context::ContextTable;
use crate::link::LinkAddr;

/// Length of a FRAG1 header.
pub const FRAG1_LEN: usize = 4;
/// Length of a FRAGN header.
pub const FRAGN_LEN: usize = 5;
/// Compressed-header bytes a [`Fragmenter`] keeps from planning to the first frame.
const HDR_CACHE: usize = 64;

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
    /// The compressed headers when they fit [`HDR_CACHE`] bytes (the common case: IPHC + UDP
    /// NHC is at most 48 bytes), so the first frame copies them instead of compressing again;
    /// longer chains are compressed a second time straight into the frame.
    cache: [u8; HDR_CACHE],
    fragmented: bool,
    /// Bytes of the uncompressed datagram already sent (`None` before the first frame).
    sent: Option<usize>,
}

impl<'a> Fragmenter<'a> {
    /// Plan the frames of `packet` (a whole IPv6 datagram) for a MAC payload `budget`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        packet: &'a [u8],
        ll_src: LinkAddr,
        ll_dst: LinkAddr,
        contexts: &'a ContextTable,
        opts: CompressOptions,
        tag: u16,
        budget: usize,
    ) -> Result<Self, FragError> {
        let mut cache = [0u8; HDR_CACHE];
        let mut w = Writer::new(&mut cache);
        let hdr = match compress_to(packet, &ll_src, &ll_dst, contexts, opts, &mut w) {
            Ok(consumed) => Compressed {
                consumed,
                written: w.pos(),
            },
            Err(CompressError::BufferTooSmall) => {
                let mut m = Writer::measuring();
                let consumed = compress_to(packet, &ll_src, &ll_dst, contexts, opts, &mut m)
                    .map_err(FragError::Compress)?;
                Compressed {
                    consumed,
                    written: m.pos(),
                }
            }
            Err(e) => return Err(FragError::Compress(e)),
        };
        let payload = packet.len().saturating_sub(hdr.consumed);
        let fragmented = hdr.written.saturating_add(payload) > budget;
        let f = Fragmenter {
            packet,
            ll_src,
            ll_dst,
            contexts,
            opts,
            tag,
            budget,
            hdr,
            cache,
            fragmented,
            sent: None,
        };
        if fragmented {
            if packet.len() > MAX_DATAGRAM_SIZE {
                return Err(FragError::TooLarge);
            }
            if budget < FRAGN_LEN + 8 || f.first_payload().is_none() {
                return Err(FragError::BudgetTooSmall);
            }
        }
        Ok(f)
    }

    /// Payload bytes (after the compressed headers) carried by FRAG1.
    fn first_payload(&self) -> Option<usize> {
        let room = self.budget.checked_sub(FRAG1_LEN + self.hdr.written)?;
        let end = (self.hdr.consumed + room) / 8 * 8;
        let n = end.checked_sub(self.hdr.consumed)?;
        Some(n.min(self.packet.len() - self.hdr.consumed))
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
        let first_end = self.hdr.consumed + self.first_payload().unwrap_or(0);
        let per = (self.budget - FRAGN_LEN) / 8 * 8;
        1 + (self.packet.len() - first_end).div_ceil(per)
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
        if self.is_done() {
            return Ok(None);
        }
        let total = self.packet.len();
        let size = total as u16;
        let bts = |r: Result<(), ()>| r.map_err(|()| FragError::BufferTooSmall);
        match self.sent {
            None => {
                let mut w = Writer::new(out);
                let end = if self.fragmented {
                    let hdr = Repr::First {
                        size,
                        tag: self.tag,
                    };
                    let n = hdr.emit(w_rest(&mut w)?).ok_or(FragError::BufferTooSmall)?;
                    skip(&mut w, n)?;
                    self.hdr.consumed + self.first_payload().unwrap_or(0)
                } else {
                    total
                };
                match self.cache.get(..self.hdr.written) {
                    Some(h) => bts(w.put(h))?,
                    None => {
                        compress_to(
                            self.packet,
                            &self.ll_src,
                            &self.ll_dst,
                            self.contexts,
                            self.opts,
                            &mut w,
                        )
                        .map_err(FragError::Compress)?;
                    }
                }
                bts(w.put(self.packet.get(self.hdr.consumed..end).unwrap_or(&[])))?;
                self.sent = Some(end);
                Ok(Some(w.pos()))
            }
            Some(sent) => {
                // Hot path (every frame but the first): one header store and one copy.
                let per = (self.budget - FRAGN_LEN) / 8 * 8;
                let end = sent.saturating_add(per).min(total);
                let chunk = self.packet.get(sent..end).unwrap_or(&[]);
                let len = FRAGN_LEN + chunk.len();
                let frame = out.get_mut(..len).ok_or(FragError::BufferTooSmall)?;
                let (hdr, body) = frame
                    .split_first_chunk_mut::<FRAGN_LEN>()
                    .ok_or(FragError::BufferTooSmall)?;
                let [s0, s1] = size.to_be_bytes();
                let [t0, t1] = self.tag.to_be_bytes();
                *hdr = [0xe0 | (s0 & 0x07), s1, t0, t1, (sent / 8) as u8];
                body.copy_from_slice(chunk);
                self.sent = Some(end);
                Ok(Some(len))
            }
        }
    }
}

fn w_rest<'w>(w: &'w mut Writer<'_>) -> Result<&'w mut [u8], FragError> {
    w.rest_mut().ok_or(FragError::BufferTooSmall)
}

fn skip(w: &mut Writer<'_>, n: usize) -> Result<(), FragError> {
    w.advance(n).map_err(|()| FragError::BufferTooSmall)
}
