//! Compression of an uncompressed IPv6 datagram into IPHC + NHC, into a caller-provided buffer.
//!
//! The smallest encoding is chosen automatically from the link-layer addresses and the
//! compression-enabled contexts. The NHC chain covers UDP, the extension headers hop-by-hop,
//! routing, fragment, destination options and mobility, and IPv6-in-IPv6 (recursive IPHC). A
//! header that cannot be represented exactly (e.g. a UDP length that disagrees with the IPv6
//! payload length, or a fragment header with a non-zero reserved byte) ends the chain and is
//! carried inline, so decompression always restores the original bytes. The UDP checksum is
//! elided only when [`CompressOptions::elide_udp_checksum`] is set.

use core::fmt;

use crate::IPV6_HEADER_LEN;
use crate::buf::Writer;
use crate::context::ContextTable;
use crate::decompress::{MAX_IPV6_HEADERS, MAX_NHC_CHAIN};
use crate::iphc::{self, NextHeader};
use crate::link::LinkAddr;
use crate::nhc::{ExtHeaderId, ExtRepr, NHC_IPV6, UdpRepr, proto};

/// Caller choices for compression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CompressOptions {
    /// RFC 8138: carry a datagram whose outer headers are IPv6-in-IPv6 (with an optional
    /// hop-by-hop header holding only the RPL Option and an optional type-3 Routing Header)
    /// or IPv6 + such a hop-by-hop header, as page 1 + 6LoRHs + the IPHC of the rest. Any
    /// other datagram is compressed as without it.
    pub rfc8138: bool,
    /// Elide the UDP checksum (RFC 6282 §4.3.2: only when an upper layer, e.g. IPsec, protects
    /// the payload and explicitly allows it). The receiver recomputes it.
    pub elide_udp_checksum: bool,
    /// Carry the Context Identifier Extension (with SCI/DCI 0) whenever a context is used,
    /// although RFC 6282 §3.1.1 makes context 0 implicit without it. One byte more, for
    /// decompressors that only accept explicit context IDs (smoltcp 0.14 rejects stateful
    /// addresses when CID=0).
    pub explicit_context_id: bool,
}

/// Why a datagram could not be compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CompressError {
    /// Not an IPv6 datagram: too short, wrong version, or a payload length that disagrees with
    /// the datagram's length.
    Malformed,
    /// The output buffer is too small.
    BufferTooSmall,
}

impl fmt::Display for CompressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("not a well-formed IPv6 datagram"),
            Self::BufferTooSmall => {
                f.write_str("output buffer too small for the compressed datagram")
            }
        }
    }
}

impl core::error::Error for CompressError {}

/// Result of [`compress_headers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Compressed {
    /// Bytes of the uncompressed datagram covered by the compressed headers; the rest is
    /// payload, carried as is.
    pub consumed: usize,
    /// Bytes of compressed header written.
    pub written: usize,
}

/// Compress the headers of `packet` (a whole IPv6 datagram) into `out`.
pub fn compress_headers(
    packet: &[u8],
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    contexts: &ContextTable,
    opts: CompressOptions,
    out: &mut [u8],
) -> Result<Compressed, CompressError> {
    let mut w = Writer::new(out);
    let consumed = compress_to(packet, ll_src, ll_dst, contexts, opts, &mut w)?;
    Ok(Compressed {
        consumed,
        written: w.pos(),
    })
}

/// Compress a whole IPv6 datagram (headers and payload) into `out`; returns the frame payload
/// length.
pub fn compress(
    packet: &[u8],
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    contexts: &ContextTable,
    opts: CompressOptions,
    out: &mut [u8],
) -> Result<usize, CompressError> {
    let c = compress_headers(packet, ll_src, ll_dst, contexts, opts, out)?;
    let payload = packet.get(c.consumed..).ok_or(CompressError::Malformed)?;
    let end = c
        .written
        .checked_add(payload.len())
        .ok_or(CompressError::BufferTooSmall)?;
    out.get_mut(c.written..end)
        .ok_or(CompressError::BufferTooSmall)?
        .copy_from_slice(payload);
    Ok(end)
}

pub(crate) fn compress_to(
    packet: &[u8],
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    contexts: &ContextTable,
    opts: CompressOptions,
    w: &mut Writer<'_>,
) -> Result<usize, CompressError> {
    compress_planned(packet, ll_src, ll_dst, contexts, opts, w, None).map(|(n, _)| n)
}

/// [`compress_to`] that also returns the encoding chosen for the outer IPHC header
/// (packed, see `iphc::Encoding::pack`), and that
/// takes one chosen before (`outer`, from an earlier call with the same arguments) instead of
/// choosing again: a [`Fragmenter`](crate::Fragmenter) plans with a measuring writer and emits
/// into the first frame without repeating the choice. Always inlined: each caller's writer
/// mode (measuring or emitting) is then known, and the other mode's code drops out.
#[inline(always)]
pub(crate) fn compress_planned(
    packet: &[u8],
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    contexts: &ContextTable,
    opts: CompressOptions,
    w: &mut Writer<'_>,
    outer: Option<u32>,
) -> Result<(usize, u32), CompressError> {
    if !ipv6_ok(packet) {
        return Err(CompressError::Malformed);
    }
    let cx = Cx {
        ll_src,
        ll_dst,
        contexts,
        opts,
    };
    if opts.rfc8138
        && let Some(r) = crate::lorh::pack::compress(packet, &cx, w, outer)
    {
        return r;
    }
    let (h, rest) = packet
        .split_first_chunk::<IPV6_HEADER_LEN>()
        .ok_or(CompressError::Malformed)?;
    let mut chain = 0;
    ipv6_level(h, rest, &cx, w, 1, &mut chain, outer)
}

/// Compression arguments shared by every level of the chain.
pub(crate) struct Cx<'a> {
    pub(crate) ll_src: &'a LinkAddr,
    pub(crate) ll_dst: &'a LinkAddr,
    pub(crate) contexts: &'a ContextTable,
    pub(crate) opts: CompressOptions,
}

/// A well-formed IPv6 header whose payload length matches `p`.
pub(crate) fn ipv6_ok(p: &[u8]) -> bool {
    match p.first_chunk::<IPV6_HEADER_LEN>() {
        Some(h) => {
            h[0] >> 4 == 6
                && usize::from(u16::from_be_bytes([h[4], h[5]])) + IPV6_HEADER_LEN == p.len()
        }
        None => false,
    }
}

/// Can header `p` (protocol `nh`) at the start of `rest` be NHC-compressed exactly?
/// Returns its uncompressed length.
fn nhc_len(nh: u8, rest: &[u8], depth: usize) -> Option<usize> {
    match nh {
        proto::UDP => {
            let h = rest.first_chunk::<8>()?;
            (usize::from(u16::from_be_bytes([h[4], h[5]])) == rest.len()).then_some(8)
        }
        proto::HOP_BY_HOP | proto::ROUTING | proto::DEST_OPTS | proto::MOBILITY => {
            let len = (usize::from(*rest.get(1)?) + 1) * 8;
            (len <= rest.len() && len - 2 <= 255).then_some(len)
        }
        proto::FRAGMENT => (rest.len() >= 8 && rest.get(1) == Some(&0)).then_some(8),
        proto::IPV6 => (depth < MAX_IPV6_HEADERS && ipv6_ok(rest)).then_some(IPV6_HEADER_LEN),
        _ => None,
    }
}

pub(crate) fn wr(r: Result<(), ()>) -> Result<(), CompressError> {
    r.map_err(|()| CompressError::BufferTooSmall)
}

/// Compress the IPv6 header `h` and its chain in `rest` (the bytes after it); returns bytes
/// consumed (the header's 40 included) and the IPHC encoding used for this header (`pre` if
/// given, else the smallest one), packed.
/// `chain` counts NHC headers emitted so far: past [`MAX_NHC_CHAIN`] the rest is carried
/// inline, so the decompressor's limit is never exceeded by our own output.
/// Inlined into the entry points, so the outer level works on registers; nested IPv6 headers
/// go through the out-of-line [`ipv6`].
#[inline(always)]
fn ipv6_level(
    h: &[u8; IPV6_HEADER_LEN],
    rest: &[u8],
    cx: &Cx<'_>,
    w: &mut Writer<'_>,
    depth: usize,
    chain: &mut usize,
    pre: Option<u32>,
) -> Result<(usize, u32), CompressError> {
    // `pos` counts from the end of `h`; the chain loop shadows `rest` with what is left.
    let after = rest;
    let (fixed, addrs) = h.split_first_chunk::<8>().ok_or(CompressError::Malformed)?;
    let (src, dst) = addrs
        .split_first_chunk::<16>()
        .ok_or(CompressError::Malformed)?;
    let dst: &[u8; 16] = dst.try_into().map_err(|_| CompressError::Malformed)?;
    let [v_tc, tc_fl, fl1, fl2, _, _, mut nh, hop] = *fixed;
    let tc = (v_tc << 4) | (tc_fl >> 4);
    let flow = u32::from_be_bytes([0, tc_fl & 0x0f, fl1, fl2]);
    let mut pos = 0;
    let mut chained = *chain < MAX_NHC_CHAIN && nhc_len(nh, rest, depth).is_some();
    let enc = match pre {
        Some(e) => e,
        None => {
            let e = iphc::choose(tc, flow, hop, src, dst, cx.ll_src, cx.ll_dst, cx.contexts);
            if cx.opts.explicit_context_id && iphc::packed_uses_context(e) {
                e | iphc::PACKED_CID
            } else {
                e
            }
        }
    };
    let next = if chained {
        NextHeader::Compressed
    } else {
        NextHeader::Inline(nh)
    };
    if w.is_measuring() {
        // Planning: the length follows from the encoding (`emit_fields` writes exactly it).
        wr(w.count(iphc::packed_header_len(enc, !chained)))?;
    } else {
        wr(iphc::emit_fields(
            enc,
            tc,
            flow & 0x000f_ffff,
            next,
            hop,
            src,
            dst,
            w,
        ))?;
    }
    while chained {
        let rest = after.get(pos..).unwrap_or(&[]);
        let len = nhc_len(nh, rest, depth).ok_or(CompressError::Malformed)?;
        *chain += 1;
        match nh {
            proto::UDP => {
                let u = rest.first_chunk::<8>().ok_or(CompressError::Malformed)?;
                let checksum = if cx.opts.elide_udp_checksum {
                    None
                } else {
                    Some(u16::from_be_bytes([u[6], u[7]]))
                };
                let r = UdpRepr {
                    src_port: u16::from_be_bytes([u[0], u[1]]),
                    dst_port: u16::from_be_bytes([u[2], u[3]]),
                    checksum,
                };
                if w.is_measuring() {
                    wr(w.count(r.buffer_len()))?;
                } else {
                    wr(r.emit_to(w))?;
                }
                return Ok((IPV6_HEADER_LEN + pos + 8, enc));
            }
            proto::IPV6 => {
                wr(w.u8(NHC_IPV6))?;
                let (ih, irest) = rest
                    .split_first_chunk::<IPV6_HEADER_LEN>()
                    .ok_or(CompressError::Malformed)?;
                let (inner, _) = ipv6(ih, irest, cx, w, depth + 1, chain, None)?;
                return Ok((IPV6_HEADER_LEN + pos + inner, enc));
            }
            _ => {
                let id = ExtHeaderId::from_protocol(nh).ok_or(CompressError::Malformed)?;
                let next = *rest.first().ok_or(CompressError::Malformed)?;
                let after = rest.get(len..).unwrap_or(&[]);
                let next_chained = *chain < MAX_NHC_CHAIN && nhc_len(next, after, depth).is_some();
                let data = rest.get(2..len).ok_or(CompressError::Malformed)?;
                let e = ExtRepr {
                    id,
                    next_header: if next_chained {
                        NextHeader::Compressed
                    } else {
                        NextHeader::Inline(next)
                    },
                    data,
                };
                wr(e.emit_to(w))?;
                pos += len;
                nh = next;
                chained = next_chained;
            }
        }
    }
    Ok((IPV6_HEADER_LEN + pos, enc))
}

/// [`ipv6_level`] out of line: an inner (IPv6-in-IPv6) header, and the IPHC header after
/// RFC 8138 6LoRHs.
#[inline(never)]
pub(crate) fn ipv6(
    h: &[u8; IPV6_HEADER_LEN],
    rest: &[u8],
    cx: &Cx<'_>,
    w: &mut Writer<'_>,
    depth: usize,
    chain: &mut usize,
    pre: Option<u32>,
) -> Result<(usize, u32), CompressError> {
    ipv6_level(h, rest, cx, w, depth, chain, pre)
}
