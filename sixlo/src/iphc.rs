//! RFC 6282 §3 IPHC: the compressed IPv6 header.
//!
//! [`Packet`] is a zero-copy view of the two IPHC base bytes (and the optional CID byte);
//! [`Repr`] is the meaning: the full IPv6 header fields plus the [`Encoding`] that carries them.
//! [`Repr::parse`] expands every mode (TF 00–11, NH inline or compressed, HLIM inline/1/64/255,
//! SCI/DCI contexts, SAC/SAM and M/DAC/DAM including link-layer derived and unicast-prefix-based
//! multicast addresses); [`Repr::compress`] picks the smallest encoding for given link-layer
//! addresses and context table; [`Repr::emit`] writes exactly [`Repr::buffer_len`] bytes.
//!
//! Wire layout (RFC 6282 figure 2):
//! ```text
//!  0   1   2   3   4   5   6   7   8   9  10  11  12  13  14  15
//! | 0 | 1 | 1 |  TF   |NH | HLIM  |CID|SAC|  SAM  | M |DAC|  DAM  |
//! ```
//! followed by, in order: SCI/DCI byte (CID=1), TF fields, next header (NH=0), hop limit
//! (HLIM=00), source address bits, destination address bits.

use crate::buf::{Reader, Writer};
use crate::context::{Context, ContextTable};
use crate::decompress::DecompressError;
use crate::link::LinkAddr;

mod field {
    /// Mask and value of the dispatch bits in the first byte.
    pub const DISPATCH_MASK: u8 = 0b1110_0000;
    pub const DISPATCH: u8 = 0b0110_0000;
    /// The two base bytes.
    pub const BASE: core::ops::Range<usize> = 0..2;
    /// The optional SCI/DCI byte.
    pub const CID: usize = 2;
}

/// Whether `b` is an IPHC dispatch byte (`011xxxxx`).
pub const fn is_iphc_dispatch(b: u8) -> bool {
    b & field::DISPATCH_MASK == field::DISPATCH
}

/// Errors of the view's length check.
pub use crate::decompress::DecompressError as Error;

/// A zero-copy view of the IPHC base header.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap without checks; accessors return `0` for missing bytes (they never panic).
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }
    /// Wrap and [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self, DecompressError> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// The dispatch is IPHC and the base bytes (and CID byte if flagged) are present.
    pub fn check_len(&self) -> Result<(), DecompressError> {
        let b = self.buffer.as_ref();
        let first = *b.first().ok_or(DecompressError::Truncated)?;
        if !is_iphc_dispatch(first) {
            return Err(DecompressError::UnknownDispatch(first));
        }
        let need = if self.cid() {
            field::CID + 1
        } else {
            field::BASE.end
        };
        if b.len() < need {
            return Err(DecompressError::Truncated);
        }
        Ok(())
    }
    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    fn byte(&self, i: usize) -> u8 {
        self.buffer.as_ref().get(i).copied().unwrap_or(0)
    }
    /// TF: traffic class / flow label mode, 0–3.
    pub fn tf(&self) -> u8 {
        (self.byte(0) >> 3) & 0b11
    }
    /// NH: the next header is NHC-compressed.
    pub fn nh(&self) -> bool {
        self.byte(0) & 0b100 != 0
    }
    /// HLIM: hop limit mode, 0–3.
    pub fn hlim(&self) -> u8 {
        self.byte(0) & 0b11
    }
    /// CID: an SCI/DCI byte follows.
    pub fn cid(&self) -> bool {
        self.byte(1) & 0x80 != 0
    }
    /// SAC: stateful source compression.
    pub fn sac(&self) -> bool {
        self.byte(1) & 0x40 != 0
    }
    /// SAM: source address mode, 0–3.
    pub fn sam(&self) -> u8 {
        (self.byte(1) >> 4) & 0b11
    }
    /// M: the destination is multicast.
    pub fn m(&self) -> bool {
        self.byte(1) & 0x08 != 0
    }
    /// DAC: stateful destination compression.
    pub fn dac(&self) -> bool {
        self.byte(1) & 0x04 != 0
    }
    /// DAM: destination address mode, 0–3.
    pub fn dam(&self) -> u8 {
        self.byte(1) & 0b11
    }
    /// Source context identifier (0 without a CID byte).
    pub fn sci(&self) -> u8 {
        if self.cid() {
            self.byte(field::CID) >> 4
        } else {
            0
        }
    }
    /// Destination context identifier (0 without a CID byte).
    pub fn dci(&self) -> u8 {
        if self.cid() {
            self.byte(field::CID) & 0x0f
        } else {
            0
        }
    }
    /// The bytes after the base header (and CID byte): the inline fields and what follows.
    pub fn inline(&self) -> &[u8] {
        let start = if self.cid() {
            field::CID + 1
        } else {
            field::BASE.end
        };
        self.buffer.as_ref().get(start..).unwrap_or(&[])
    }
}

/// How the next header is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NextHeader {
    /// NH=1: an NHC header follows; the protocol number comes from it.
    Compressed,
    /// NH=0: the protocol number inline.
    Inline(u8),
}

/// The encoding choices of one IPHC header (the bits of the base header and the CID byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Encoding {
    /// TF mode 0–3.
    pub tf: u8,
    /// HLIM mode 0–3.
    pub hlim: u8,
    /// Whether an SCI/DCI byte is present.
    pub cid: bool,
    /// Source context identifier.
    pub sci: u8,
    /// Destination context identifier.
    pub dci: u8,
    /// Stateful source compression.
    pub sac: bool,
    /// Source address mode 0–3.
    pub sam: u8,
    /// Multicast destination.
    pub m: bool,
    /// Stateful destination compression.
    pub dac: bool,
    /// Destination address mode 0–3.
    pub dam: u8,
}

impl Encoding {
    /// The encoding in one word: byte 0 `TF << 3 | HLIM`, byte 1 the second IPHC base byte
    /// (CID, SAC, SAM, M, DAC, DAM), byte 2 `SCI << 4 | DCI`. For keeping an encoding in a
    /// struct that is handed between functions: one store and one load instead of ten.
    pub(crate) const fn pack(&self) -> u32 {
        let b0 = (self.tf & 3) << 3 | (self.hlim & 3);
        let b1 = (self.cid as u8) << 7
            | (self.sac as u8) << 6
            | (self.sam & 3) << 4
            | (self.m as u8) << 3
            | (self.dac as u8) << 2
            | (self.dam & 3);
        let b2 = (self.sci & 0x0f) << 4 | (self.dci & 0x0f);
        u32::from_le_bytes([b0, b1, b2, 0])
    }

    /// The inverse of [`pack`](Self::pack) (for encodings whose fields are in range).
    pub(crate) const fn unpack(w: u32) -> Encoding {
        let [b0, b1, b2, _] = w.to_le_bytes();
        Encoding {
            tf: (b0 >> 3) & 3,
            hlim: b0 & 3,
            cid: b1 & 0x80 != 0,
            sci: b2 >> 4,
            dci: b2 & 0x0f,
            sac: b1 & 0x40 != 0,
            sam: (b1 >> 4) & 3,
            m: b1 & 0x08 != 0,
            dac: b1 & 0x04 != 0,
            dam: b1 & 3,
        }
    }

    /// Length of the header with these choices: base, CID, TF, NH, HLIM and address bytes.
    pub const fn header_len(&self, nh_inline: bool) -> usize {
        let tf = match self.tf {
            0 => 4,
            1 => 3,
            2 => 1,
            _ => 0,
        };
        2 + self.cid as usize
            + tf
            + nh_inline as usize
            + (self.hlim == 0) as usize
            + src_inline_len(self.sac, self.sam)
            + match dst_inline_len(self.m, self.dac, self.dam) {
                Some(n) => n,
                None => 0,
            }
    }
}

/// Inline TF bytes by TF mode.
const TF_LEN: [u8; 4] = [4, 3, 1, 0];
/// Inline source-address bytes by `SAC << 2 | SAM` (bits 6–4 of the second base byte).
const SRC_LEN: [u8; 8] = [16, 8, 2, 0, 0, 8, 2, 0];
/// Inline destination-address bytes by `M << 3 | DAC << 2 | DAM` (bits 3–0 of the second base
/// byte); 0 for the reserved combinations, as [`Encoding::header_len`] counts them.
const DST_LEN: [u8; 16] = [16, 8, 2, 0, 0, 8, 2, 0, 16, 6, 4, 1, 6, 0, 0, 0];

/// The CID flag of a packed encoding (see [`Encoding::pack`]).
pub(crate) const PACKED_CID: u32 = 0x80 << 8;

/// Whether a packed encoding compresses an address through a context (stateful SAM 1–3 or
/// DAC): with `explicit_context_id` such a header carries the CID byte.
pub(crate) const fn packed_uses_context(e: u32) -> bool {
    let b1 = (e >> 8) as u8;
    (b1 & 0x40 != 0 && b1 & 0x30 != 0) || b1 & 0x04 != 0
}

/// [`Encoding::header_len`] of a packed encoding, from three small tables.
#[inline]
pub(crate) fn packed_header_len(e: u32, nh_inline: bool) -> usize {
    let [b0, b1, _, _] = e.to_le_bytes();
    let at = |t: &[u8], i: u8| usize::from(t.get(usize::from(i)).copied().unwrap_or(0));
    2 + usize::from(b1 >> 7)
        + at(&TF_LEN, (b0 >> 3) & 3)
        + usize::from(nh_inline)
        + usize::from(b0 & 3 == 0)
        + at(&SRC_LEN, (b1 >> 4) & 7)
        + at(&DST_LEN, b1 & 0x0f)
}

const fn src_inline_len(sac: bool, sam: u8) -> usize {
    match (sac, sam) {
        (false, 0) => 16,
        (_, 1) => 8,
        (_, 2) => 2,
        _ => 0,
    }
}

/// `None` for a reserved combination.
const fn dst_inline_len(m: bool, dac: bool, dam: u8) -> Option<usize> {
    match (m, dac, dam) {
        (false, false, 0) => Some(16),
        (false, true, 0) => None,
        (false, _, 1) => Some(8),
        (false, _, 2) => Some(2),
        (false, _, _) => Some(0),
        (true, false, 0) => Some(16),
        (true, false, 1) => Some(6),
        (true, false, 2) => Some(4),
        (true, false, _) => Some(1),
        (true, true, 0) => Some(6),
        (true, true, _) => None,
    }
}

/// The semantic IPHC header: the uncompressed IPv6 fields (payload length excepted, which is
/// always elided) and the encoding that carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Repr {
    /// IPv6 traffic class (DSCP << 2 | ECN).
    pub traffic_class: u8,
    /// IPv6 flow label (20 bits).
    pub flow_label: u32,
    /// The next header.
    pub next_header: NextHeader,
    /// The hop limit.
    pub hop_limit: u8,
    /// Source address.
    pub src_addr: [u8; 16],
    /// Destination address.
    pub dst_addr: [u8; 16],
    /// How these fields are encoded.
    pub encoding: Encoding,
}

const LINK_LOCAL_PREFIX: [u8; 8] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0];
const SHORT_IID_PREFIX: [u8; 6] = [0, 0, 0, 0xff, 0xfe, 0];

fn ctx_for(table: &ContextTable, cid: u8) -> Result<&Context, DecompressError> {
    table.get(cid).ok_or(DecompressError::UnknownContext(cid))
}

/// Build an address from 8 IID bytes with either the link-local prefix or a context.
fn with_iid(iid: &[u8; 8], ctx: Option<&Context>) -> [u8; 16] {
    let mut a = [0u8; 16];
    if let Some((_, tail)) = a.split_first_chunk_mut::<8>()
        && let Some(t) = tail.first_chunk_mut::<8>()
    {
        *t = *iid;
    }
    match ctx {
        Some(c) => c.apply(&mut a),
        None => {
            if let Some(h) = a.first_chunk_mut::<8>() {
                *h = LINK_LOCAL_PREFIX;
            }
        }
    }
    a
}

fn short_iid(b: [u8; 2]) -> [u8; 8] {
    [0, 0, 0, 0xff, 0xfe, 0, b[0], b[1]]
}

fn iid_of(a: &[u8; 16]) -> [u8; 8] {
    let mut i = [0u8; 8];
    if let Some(t) = a.last_chunk::<8>() {
        i = *t;
    }
    i
}

/// Decode a unicast address in mode `mode` (1–3 for stateless/stateful; 0 handled by caller).
fn decode_unicast(
    r: &mut Reader<'_>,
    mode: u8,
    ctx: Option<&Context>,
    ll: &LinkAddr,
) -> Result<[u8; 16], DecompressError> {
    let t = DecompressError::Truncated;
    let iid = match mode {
        1 => r.array::<8>().ok_or(t)?,
        2 => short_iid(r.array::<2>().ok_or(t)?),
        _ => ll.iid().ok_or(DecompressError::MissingLinkAddr)?,
    };
    Ok(with_iid(&iid, ctx))
}

/// The 64 prefix bits P of a unicast-prefix-based multicast address from a context.
fn multicast_prefix(c: &Context) -> [u8; 8] {
    let mut z = [0u8; 16];
    let masked = Context {
        prefix_len: c.prefix_len.min(64),
        ..*c
    };
    masked.apply(&mut z);
    let mut p = [0u8; 8];
    if let Some(h) = z.first_chunk::<8>() {
        p = *h;
    }
    p
}

impl Repr {
    /// Parse and expand an IPHC header. Returns the header and the number of bytes it occupies
    /// (so the NHC chain or payload starts there).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&T>,
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
    ) -> Result<(Repr, usize), DecompressError> {
        packet.check_len()?;
        let t = DecompressError::Truncated;
        let enc = Encoding {
            tf: packet.tf(),
            hlim: packet.hlim(),
            cid: packet.cid(),
            sci: packet.sci(),
            dci: packet.dci(),
            sac: packet.sac(),
            sam: packet.sam(),
            m: packet.m(),
            dac: packet.dac(),
            dam: packet.dam(),
        };
        let inline = packet.inline();
        let mut r = Reader::new(inline);
        let (traffic_class, flow_label) = match enc.tf {
            0 => {
                let b = r.array::<4>().ok_or(t)?;
                let tc = b[0].rotate_left(2);
                (tc, u32::from_be_bytes([0, b[1] & 0x0f, b[2], b[3]]))
            }
            1 => {
                let b = r.array::<3>().ok_or(t)?;
                (
                    (b[0] >> 6) & 0b11,
                    u32::from_be_bytes([0, b[0] & 0x0f, b[1], b[2]]),
                )
            }
            2 => {
                let b = r.u8().ok_or(t)?;
                (b.rotate_left(2), 0)
            }
            _ => (0, 0),
        };
        let next_header = if packet.nh() {
            NextHeader::Compressed
        } else {
            NextHeader::Inline(r.u8().ok_or(t)?)
        };
        let hop_limit = match enc.hlim {
            0 => r.u8().ok_or(t)?,
            1 => 1,
            2 => 64,
            _ => 255,
        };
        let src_addr = match (enc.sac, enc.sam) {
            (false, 0) => r.array::<16>().ok_or(t)?,
            (true, 0) => [0u8; 16],
            (false, m) => decode_unicast(&mut r, m, None, ll_src)?,
            (true, m) => decode_unicast(&mut r, m, Some(ctx_for(contexts, enc.sci)?), ll_src)?,
        };
        let dst_addr = match (enc.m, enc.dac, enc.dam) {
            (false, false, 0) | (true, false, 0) => r.array::<16>().ok_or(t)?,
            (false, true, 0) | (true, true, 1..) => return Err(DecompressError::ReservedEncoding),
            (false, false, m) => decode_unicast(&mut r, m, None, ll_dst)?,
            (false, true, m) => {
                decode_unicast(&mut r, m, Some(ctx_for(contexts, enc.dci)?), ll_dst)?
            }
            (true, false, 1) => {
                let b = r.array::<6>().ok_or(t)?;
                [
                    0xff, b[0], 0, 0, 0, 0, 0, 0, 0, 0, 0, b[1], b[2], b[3], b[4], b[5],
                ]
            }
            (true, false, 2) => {
                let b = r.array::<4>().ok_or(t)?;
                [
                    0xff, b[0], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b[1], b[2], b[3],
                ]
            }
            (true, false, _) => {
                let b = r.u8().ok_or(t)?;
                [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b]
            }
            (true, true, 0) => {
                let c = ctx_for(contexts, enc.dci)?;
                let b = r.array::<6>().ok_or(t)?;
                let p = multicast_prefix(c);
                [
                    0xff,
                    b[0],
                    b[1],
                    c.prefix_len.min(64),
                    p[0],
                    p[1],
                    p[2],
                    p[3],
                    p[4],
                    p[5],
                    p[6],
                    p[7],
                    b[2],
                    b[3],
                    b[4],
                    b[5],
                ]
            }
        };
        let consumed = packet.buffer.as_ref().len() - inline.len() + r.pos();
        Ok((
            Repr {
                traffic_class,
                flow_label,
                next_header,
                hop_limit,
                src_addr,
                dst_addr,
                encoding: enc,
            },
            consumed,
        ))
    }

    /// Choose the smallest encoding for these IPv6 fields given the link-layer addresses and the
    /// contexts allowed for compression.
    #[allow(clippy::too_many_arguments)]
    pub fn compress(
        traffic_class: u8,
        flow_label: u32,
        next_header: NextHeader,
        hop_limit: u8,
        src_addr: [u8; 16],
        dst_addr: [u8; 16],
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
    ) -> Repr {
        let encoding = Encoding::unpack(choose(
            traffic_class,
            flow_label,
            hop_limit,
            &src_addr,
            &dst_addr,
            ll_src,
            ll_dst,
            contexts,
        ));
        Repr {
            traffic_class,
            flow_label: flow_label & 0x000f_ffff,
            next_header,
            hop_limit,
            src_addr,
            dst_addr,
            encoding,
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        self.encoding
            .header_len(matches!(self.next_header, NextHeader::Inline(_)))
    }

    /// Write the header into `buf`; returns the bytes written, or `None` if `buf` is too short
    /// or the encoding is reserved. Writes exactly [`buffer_len`](Self::buffer_len) bytes.
    pub fn emit(&self, buf: &mut [u8]) -> Option<usize> {
        let mut w = Writer::new(buf);
        self.emit_to(&mut w).ok()?;
        Some(w.pos())
    }

    pub(crate) fn emit_to(&self, w: &mut Writer<'_>) -> Result<(), ()> {
        emit_fields(
            self.encoding.pack(),
            self.traffic_class,
            self.flow_label,
            self.next_header,
            self.hop_limit,
            &self.src_addr,
            &self.dst_addr,
            w,
        )
    }
}

/// The smallest encoding of these IPv6 fields given the link-layer addresses and the contexts
/// allowed for compression (the choice behind [`Repr::compress`]; the compressor calls it
/// with the addresses borrowed straight from the datagram), [`Encoding::pack`]ed: a word
/// crosses function boundaries in a register, where a ten-field struct goes through memory
/// byte by byte and stalls the wide load that reads it back.
#[allow(clippy::too_many_arguments)]
pub(crate) fn choose(
    traffic_class: u8,
    flow_label: u32,
    hop_limit: u8,
    src_addr: &[u8; 16],
    dst_addr: &[u8; 16],
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    contexts: &ContextTable,
) -> u32 {
    let flow_label = flow_label & 0x000f_ffff;
    let tf = match (traffic_class, flow_label) {
        (0, 0) => 3,
        (_, 0) => 2,
        (tc, _) if tc >> 2 == 0 => 1,
        _ => 0,
    };
    let hlim = match hop_limit {
        1 => 1,
        64 => 2,
        255 => 3,
        _ => 0,
    };
    // Source: (cost, cid, sac, sam) for the stateless choice and the best stateful one.
    let src_free = if *src_addr == [0u8; 16] {
        (true, 0)
    } else {
        stateless_unicast(src_addr, ll_src)
    };
    let src_free = Choice {
        cost: src_inline_len(src_free.0, src_free.1),
        cid: 0,
        stateful: src_free.0,
        mode: src_free.1,
    };
    let mut src_ctx: Option<Choice> = None;
    let mut dst_ctx: Option<Choice> = None;
    let is_mc = dst_addr[0] == 0xff;
    let dst_free = if is_mc {
        let m = stateless_multicast(dst_addr);
        Choice {
            cost: dst_inline_len(true, false, m).unwrap_or(16),
            cid: 0,
            stateful: false,
            mode: m,
        }
    } else {
        let (_, m) = stateless_unicast(dst_addr, ll_dst);
        Choice {
            cost: src_inline_len(false, m),
            cid: 0,
            stateful: false,
            mode: m,
        }
    };
    if src_free.cost > 0 || dst_free.cost > 0 {
        for (cid, c) in contexts.compressible() {
            if src_free.cost > 0
                && !(src_free.stateful && src_free.mode == 0)
                && let Some(mode) = stateful_unicast(src_addr, ll_src, c)
            {
                let ch = Choice {
                    cost: src_inline_len(true, mode),
                    cid,
                    stateful: true,
                    mode,
                };
                if src_ctx.is_none_or(|b| ch.better(&b)) {
                    src_ctx = Some(ch);
                }
            }
            if dst_free.cost > 0 {
                let found = if is_mc {
                    stateful_multicast(dst_addr, c).then_some(Choice {
                        cost: 6,
                        cid,
                        stateful: true,
                        mode: 0,
                    })
                } else {
                    stateful_unicast(dst_addr, ll_dst, c).map(|mode| Choice {
                        cost: src_inline_len(true, mode),
                        cid,
                        stateful: true,
                        mode,
                    })
                };
                if let Some(ch) = found
                    && dst_ctx.is_none_or(|b| ch.better(&b))
                {
                    dst_ctx = Some(ch);
                }
            }
        }
    }
    if src_ctx.is_none() && dst_ctx.is_none() {
        // No context helps (the usual case): the stateless choices, no CID byte.
        return Encoding {
            tf,
            hlim,
            cid: false,
            sci: 0,
            dci: 0,
            sac: src_free.stateful,
            sam: src_free.mode,
            m: is_mc,
            dac: false,
            dam: dst_free.mode,
        }
        .pack();
    }
    // Best without a CID byte (stateless or context 0), and best overall.
    let zero = |free: Choice, ctx: Option<Choice>| match ctx {
        Some(c) if c.cid == 0 && c.cost < free.cost => c,
        _ => free,
    };
    let any = |free: Choice, ctx: Option<Choice>| match ctx {
        Some(c) if c.cost < free.cost => c,
        _ => free,
    };
    let (s0, d0) = (zero(src_free, src_ctx), zero(dst_free, dst_ctx));
    let (sa, da) = (any(src_free, src_ctx), any(dst_free, dst_ctx));
    let needs_cid = |s: &Choice, d: &Choice| {
        (s.stateful && s.mode != 0 && s.cid != 0) || (d.stateful && d.cid != 0)
    };
    let cost_any = sa.cost + da.cost + usize::from(needs_cid(&sa, &da));
    let (s, d) = if cost_any < s0.cost + d0.cost {
        (sa, da)
    } else {
        (s0, d0)
    };
    let cid = needs_cid(&s, &d);
    Encoding {
        tf,
        hlim,
        cid,
        sci: if cid && s.stateful && s.mode != 0 {
            s.cid
        } else {
            0
        },
        dci: if cid && d.stateful { d.cid } else { 0 },
        sac: s.stateful,
        sam: s.mode,
        m: is_mc,
        dac: d.stateful,
        dam: d.mode,
    }
    .pack()
}

/// Write an IPHC header with the [`Encoding::pack`]ed encoding `e` for these fields (what
/// [`Repr::emit`] writes).
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn emit_fields(
    e: u32,
    traffic_class: u8,
    flow_label: u32,
    next_header: NextHeader,
    hop_limit: u8,
    s: &[u8; 16],
    d: &[u8; 16],
    w: &mut Writer<'_>,
) -> Result<(), ()> {
    // Byte 1 of the packed form is the second base byte and byte 2 the CID byte as sent.
    let [b0, b1, b2, _] = e.to_le_bytes();
    let (tf, hlim) = ((b0 >> 3) & 3, b0 & 3);
    let (sac, sam) = (b1 & 0x40 != 0, (b1 >> 4) & 3);
    let (m, dac, dam) = (b1 & 0x08 != 0, b1 & 0x04 != 0, b1 & 3);
    dst_inline_len(m, dac, dam).ok_or(())?;
    let nh = matches!(next_header, NextHeader::Compressed);
    let b0 = 0b0110_0000 | tf << 3 | u8::from(nh) << 2 | hlim;
    if b1 & 0x80 != 0 {
        w.put(&[b0, b1, b2])?;
    } else {
        w.put(&[b0, b1])?;
    }
    let ecn = traffic_class & 0b11;
    let dscp = traffic_class >> 2;
    let fl = flow_label.to_be_bytes();
    match tf {
        0 => w.put(&[ecn << 6 | dscp, fl[1] & 0x0f, fl[2], fl[3]])?,
        1 => w.put(&[ecn << 6 | (fl[1] & 0x0f), fl[2], fl[3]])?,
        2 => w.u8(ecn << 6 | dscp)?,
        _ => {}
    }
    if let NextHeader::Inline(n) = next_header {
        w.u8(n)?;
    }
    if hlim == 0 {
        w.u8(hop_limit)?;
    }
    match (sac, sam) {
        (false, 0) => w.put(s)?,
        (_, 1) => w.put(s.get(8..).ok_or(())?)?,
        (_, 2) => w.put(s.get(14..).ok_or(())?)?,
        _ => {}
    }
    match (m, dac, dam) {
        (_, false, 0) => w.put(d)?,
        (false, _, 1) => w.put(d.get(8..).ok_or(())?)?,
        (false, _, 2) => w.put(d.get(14..).ok_or(())?)?,
        (false, _, _) => {}
        (true, false, 1) => {
            w.u8(d[1])?;
            w.put(d.get(11..).ok_or(())?)?
        }
        (true, false, 2) => {
            w.u8(d[1])?;
            w.put(d.get(13..).ok_or(())?)?
        }
        (true, false, _) => w.u8(d[15])?,
        (true, true, _) => {
            w.put(d.get(1..3).ok_or(())?)?;
            w.put(d.get(12..).ok_or(())?)?
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug)]
struct Choice {
    cost: usize,
    cid: u8,
    stateful: bool,
    mode: u8,
}

impl Choice {
    fn better(&self, other: &Choice) -> bool {
        self.cost < other.cost || (self.cost == other.cost && self.cid == 0 && other.cid != 0)
    }
}

/// `(sac=false, mode)` for a stateless unicast encoding.
fn stateless_unicast(a: &[u8; 16], ll: &LinkAddr) -> (bool, u8) {
    if a.first_chunk::<8>() != Some(&LINK_LOCAL_PREFIX) {
        return (false, 0);
    }
    let iid = iid_of(a);
    if ll.iid() == Some(iid) {
        (false, 3)
    } else if iid.first_chunk::<6>() == Some(&SHORT_IID_PREFIX) {
        (false, 2)
    } else {
        (false, 1)
    }
}

/// The best stateful unicast mode (1–3) through context `c`, if the context reproduces `a`.
fn stateful_unicast(a: &[u8; 16], ll: &LinkAddr, c: &Context) -> Option<u8> {
    if !c.matches(a) {
        return None;
    }
    if let Some(iid) = ll.iid()
        && with_iid(&iid, Some(c)) == *a
    {
        return Some(3);
    }
    if with_iid(&short_iid([a[14], a[15]]), Some(c)) == *a {
        return Some(2);
    }
    if with_iid(&iid_of(a), Some(c)) == *a {
        return Some(1);
    }
    None
}

fn stateless_multicast(a: &[u8; 16]) -> u8 {
    let zero = |r: core::ops::Range<usize>| a.get(r).is_some_and(|s| s.iter().all(|b| *b == 0));
    if a[1] == 0x02 && zero(2..15) {
        3
    } else if zero(2..13) {
        2
    } else if zero(2..11) {
        1
    } else {
        0
    }
}

fn stateful_multicast(a: &[u8; 16], c: &Context) -> bool {
    c.prefix_len <= 64 && a[3] == c.prefix_len && a.get(4..12) == Some(&multicast_prefix(c)[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_encoding_round_trips_and_measures_alike() {
        for tf in 0..4u8 {
            for hlim in 0..4u8 {
                for b1 in 0..=255u8 {
                    for b2 in [0u8, 0x12, 0xf0, 0x0f] {
                        let w = u32::from_le_bytes([tf << 3 | hlim, b1, b2, 0]);
                        let e = Encoding::unpack(w);
                        assert_eq!(e.pack(), w);
                        for nh_inline in [false, true] {
                            assert_eq!(packed_header_len(w, nh_inline), e.header_len(nh_inline));
                        }
                        assert_eq!(packed_uses_context(w), (e.sac && e.sam != 0) || e.dac);
                    }
                }
            }
        }
    }
}
