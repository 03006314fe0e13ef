//! Decompression: a pure function of `(frame bytes, link-layer addresses, context table)` into a
//! caller-provided buffer.
//!
//! [`decompress_headers`] expands the IPHC header and its NHC chain (UDP, extension headers,
//! IPv6-in-IPv6 recursively) and reports how many frame bytes it consumed and how many
//! uncompressed bytes it wrote. Length fields (IPv6 payload length, UDP length) and an elided UDP
//! checksum depend on the whole datagram, so they are left to [`HeaderFixups::apply`], run once
//! the datagram is complete (at once for an unfragmented frame, at the end of reassembly for a
//! fragmented one). [`decompress`] does all of it for one unfragmented frame.

use core::fmt;

use netif::checksum;

use crate::buf::{Reader, Writer};
use crate::context::ContextTable;
use crate::iphc::{self, NextHeader};
use crate::link::LinkAddr;
use crate::lorh::{self, LorhError};
use crate::nhc::{ExtHeaderId, ExtRepr, NhcDispatch, UdpRepr};
use crate::{DISPATCH_IPV6, IPV6_HEADER_LEN};

/// The deepest IPv6-in-IPv6 nesting accepted (outer header included).
pub const MAX_IPV6_HEADERS: usize = 4;
/// The longest NHC chain accepted (all levels together).
pub const MAX_NHC_CHAIN: usize = 16;

/// Why a frame could not be decompressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DecompressError {
    /// An inline field or NHC header runs past the end of the frame.
    Truncated,
    /// The first byte is not an IPHC or IPv6 dispatch.
    UnknownDispatch(u8),
    /// SCI/DCI names a context the table does not hold.
    UnknownContext(u8),
    /// A reserved address-mode combination (DAC=1 DAM=00 unicast, M=1 DAC=1 DAM≠00).
    ReservedEncoding,
    /// The address must be derived from a link-layer address the frame does not carry.
    MissingLinkAddr,
    /// An NHC byte this crate does not know.
    UnsupportedNhc(u8),
    /// More NHC headers or nested IPv6 headers than accepted.
    NhcChainTooLong,
    /// A routing/mobility header whose length is not a multiple of 8, or a fragment header
    /// whose length is not 6.
    BadExtensionLength,
    /// The output buffer (or the datagram size) cannot hold the decompressed headers.
    BufferTooSmall,
    /// The datagram is too short or too long for its length fields.
    BadLength,
    /// An RFC 8138 6LoRH that cannot be decoded (unknown critical type, impossible length,
    /// repeated, or naming an unknown DODAG root).
    Lorh(LorhError),
}

impl fmt::Display for DecompressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("6LoWPAN header runs past the end of the frame"),
            Self::UnknownDispatch(d) => write!(f, "unknown 6LoWPAN dispatch 0x{d:02x}"),
            Self::UnknownContext(c) => write!(f, "unknown compression context {c}"),
            Self::ReservedEncoding => f.write_str("reserved IPHC address mode"),
            Self::MissingLinkAddr => {
                f.write_str("address derived from an absent link-layer address")
            }
            Self::UnsupportedNhc(b) => write!(f, "unsupported NHC header 0x{b:02x}"),
            Self::NhcChainTooLong => f.write_str("NHC chain too long"),
            Self::BadExtensionLength => f.write_str("invalid compressed extension header length"),
            Self::BufferTooSmall => {
                f.write_str("decompressed headers exceed the buffer or datagram size")
            }
            Self::BadLength => f.write_str("datagram length inconsistent with its headers"),
            Self::Lorh(e) => write!(f, "RFC 8138: {e}"),
        }
    }
}

impl core::error::Error for DecompressError {}

impl From<LorhError> for DecompressError {
    fn from(e: LorhError) -> Self {
        match e {
            LorhError::Truncated => Self::Truncated,
            e => Self::Lorh(e),
        }
    }
}

/// Fields to fill once the whole datagram is present.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HeaderFixups {
    ipv6: [u16; MAX_IPV6_HEADERS],
    n_ipv6: u8,
    /// (UDP header offset, offset of the IPv6 header it belongs to, checksum elided).
    udp: Option<(u16, u16, bool)>,
}

impl HeaderFixups {
    /// No fixups (an uncompressed datagram).
    pub const EMPTY: HeaderFixups = HeaderFixups {
        ipv6: [0; MAX_IPV6_HEADERS],
        n_ipv6: 0,
        udp: None,
    };

    /// Fill payload lengths, the UDP length and an elided UDP checksum in `datagram` (the whole
    /// uncompressed datagram, exactly its length).
    pub fn apply(&self, datagram: &mut [u8]) -> Result<(), DecompressError> {
        let total = datagram.len();
        let bad = DecompressError::BadLength;
        for at in self.ipv6.iter().take(usize::from(self.n_ipv6)) {
            let at = usize::from(*at);
            let plen = total
                .checked_sub(at)
                .and_then(|r| r.checked_sub(IPV6_HEADER_LEN))
                .ok_or(bad)?;
            let plen = u16::try_from(plen).map_err(|_| bad)?;
            datagram
                .get_mut(at + 4..at + 6)
                .ok_or(bad)?
                .copy_from_slice(&plen.to_be_bytes());
        }
        if let Some((at, ip_at, elided)) = self.udp {
            let (at, ip_at) = (usize::from(at), usize::from(ip_at));
            let len = total.checked_sub(at).ok_or(bad)?;
            let len16 = u16::try_from(len).map_err(|_| bad)?;
            datagram
                .get_mut(at + 4..at + 6)
                .ok_or(bad)?
                .copy_from_slice(&len16.to_be_bytes());
            if elided {
                let src: [u8; 16] = datagram
                    .get(ip_at + 8..ip_at + 24)
                    .and_then(|s| s.try_into().ok())
                    .ok_or(bad)?;
                let dst: [u8; 16] = datagram
                    .get(ip_at + 24..ip_at + 40)
                    .and_then(|s| s.try_into().ok())
                    .ok_or(bad)?;
                let udp = datagram.get_mut(at..).ok_or(bad)?;
                if !checksum::fill(udp, &src.into(), &dst.into(), checksum::UDP) {
                    return Err(bad);
                }
            }
        }
        Ok(())
    }
}

/// Result of [`decompress_headers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Headers {
    /// Frame bytes consumed (dispatch, IPHC, NHC chain); the payload starts here.
    pub consumed: usize,
    /// Uncompressed header bytes written at the start of the output.
    pub written: usize,
    /// Length and checksum fields to fill once the datagram is complete.
    pub fixups: HeaderFixups,
}

pub(crate) struct State<'f, 'o> {
    pub(crate) r: Reader<'f>,
    pub(crate) w: Writer<'o>,
    pub(crate) fix: HeaderFixups,
    pub(crate) chain: usize,
    /// A hop-by-hop header (from an RPI-6LoRH without IP-in-IP-6LoRH) to place after the next
    /// IPv6 header; its next-header byte is taken from that header.
    pub(crate) hbh: Option<[u8; 8]>,
}

/// Expand the dispatch + IPHC + NHC headers at the start of `frame` into `out`.
///
/// `frame` starts at the 6LoWPAN dispatch (after any fragment header). An uncompressed IPv6
/// dispatch (`0x41`) consumes one byte and writes nothing: the rest is the datagram as is.
pub fn decompress_headers(
    frame: &[u8],
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    contexts: &ContextTable,
    out: &mut [u8],
) -> Result<Headers, DecompressError> {
    let first = *frame.first().ok_or(DecompressError::Truncated)?;
    if first == DISPATCH_IPV6 {
        return Ok(Headers {
            consumed: 1,
            written: 0,
            fixups: HeaderFixups::default(),
        });
    }
    let page1 = first == lorh::DISPATCH_PAGE1;
    if !iphc::is_iphc_dispatch(first) && !page1 {
        return Err(DecompressError::UnknownDispatch(first));
    }
    let mut st = State {
        r: Reader::new(frame),
        w: Writer::new(out),
        fix: HeaderFixups::default(),
        chain: 0,
        hbh: None,
    };
    if page1 {
        lorh::expand::page1(&mut st, ll_src, ll_dst, contexts)?;
    } else {
        ipv6(&mut st, ll_src, ll_dst, contexts)?;
    }
    Ok(Headers {
        consumed: st.r.pos(),
        written: st.w.pos(),
        fixups: st.fix,
    })
}

pub(crate) fn put(w: &mut Writer<'_>, b: &[u8]) -> Result<(), DecompressError> {
    w.put(b).map_err(|()| DecompressError::BufferTooSmall)
}

pub(crate) fn offset16(v: usize) -> Result<u16, DecompressError> {
    u16::try_from(v).map_err(|_| DecompressError::BufferTooSmall)
}

fn next_protocol(r: &Reader<'_>) -> Result<u8, DecompressError> {
    NhcDispatch::from(r.peek().ok_or(DecompressError::Truncated)?).protocol()
}

/// Note an IPv6 header written at `at` for the payload-length fixup.
pub(crate) fn push_ipv6(st: &mut State<'_, '_>, at: usize) -> Result<(), DecompressError> {
    let n = usize::from(st.fix.n_ipv6);
    let slot = st
        .fix
        .ipv6
        .get_mut(n)
        .ok_or(DecompressError::NhcChainTooLong)?;
    *slot = offset16(at)?;
    st.fix.n_ipv6 += 1;
    Ok(())
}

/// One IPHC header (at the reader's position) and its NHC chain.
pub(crate) fn ipv6(
    st: &mut State<'_, '_>,
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    ctx: &ContextTable,
) -> Result<(), DecompressError> {
    if usize::from(st.fix.n_ipv6) >= MAX_IPV6_HEADERS {
        return Err(DecompressError::NhcChainTooLong);
    }
    let (repr, used) = iphc::Repr::parse(
        &iphc::Packet::new_unchecked(st.r.rest()),
        ll_src,
        ll_dst,
        ctx,
    )?;
    st.r.take(used).ok_or(DecompressError::Truncated)?;
    let nh = match repr.next_header {
        NextHeader::Inline(p) => p,
        NextHeader::Compressed => next_protocol(&st.r)?,
    };
    let ip_at = st.w.pos();
    push_ipv6(st, ip_at)?;
    let fl = repr.flow_label.to_be_bytes();
    let tc = repr.traffic_class;
    let hbh = st.hbh.take();
    put(
        &mut st.w,
        &[
            0x60 | tc >> 4,
            (tc << 4) | (fl[1] & 0x0f),
            fl[2],
            fl[3],
            0,
            0,
            if hbh.is_some() {
                crate::nhc::proto::HOP_BY_HOP
            } else {
                nh
            },
            repr.hop_limit,
        ],
    )?;
    put(&mut st.w, &repr.src_addr)?;
    put(&mut st.w, &repr.dst_addr)?;
    if let Some(mut h) = hbh {
        h[0] = nh;
        put(&mut st.w, &h)?;
    }
    if repr.next_header == NextHeader::Compressed {
        chain(st, ip_at, ll_src, ll_dst, ctx)?;
    }
    Ok(())
}

fn chain(
    st: &mut State<'_, '_>,
    ip_at: usize,
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    ctx: &ContextTable,
) -> Result<(), DecompressError> {
    loop {
        st.chain += 1;
        if st.chain > MAX_NHC_CHAIN {
            return Err(DecompressError::NhcChainTooLong);
        }
        let b = st.r.peek().ok_or(DecompressError::Truncated)?;
        match NhcDispatch::from(b) {
            NhcDispatch::Udp => {
                let (u, used) = UdpRepr::parse(st.r.rest())?;
                st.r.take(used).ok_or(DecompressError::Truncated)?;
                let at = st.w.pos();
                let (s, d) = (u.src_port.to_be_bytes(), u.dst_port.to_be_bytes());
                let c = u.checksum.unwrap_or(0).to_be_bytes();
                put(&mut st.w, &[s[0], s[1], d[0], d[1], 0, 0, c[0], c[1]])?;
                st.fix.udp = Some((offset16(at)?, offset16(ip_at)?, u.checksum.is_none()));
                return Ok(());
            }
            NhcDispatch::Ext(ExtHeaderId::Ipv6) => {
                st.r.take(1).ok_or(DecompressError::Truncated)?;
                return ipv6(st, ll_src, ll_dst, ctx);
            }
            NhcDispatch::Ext(_) => {
                let (e, used) = ExtRepr::parse(st.r.rest())?;
                st.r.take(used).ok_or(DecompressError::Truncated)?;
                let nh = match e.next_header {
                    NextHeader::Inline(p) => p,
                    NextHeader::Compressed => next_protocol(&st.r)?,
                };
                let total = 2 + e.data.len();
                let (hdr_len, pad) = match e.id {
                    ExtHeaderId::Fragment => {
                        if e.data.len() != 6 {
                            return Err(DecompressError::BadExtensionLength);
                        }
                        (0u8, 0usize)
                    }
                    ExtHeaderId::HopByHop | ExtHeaderId::DestinationOptions => {
                        let pad = (8 - total % 8) % 8;
                        (((total + pad) / 8 - 1) as u8, pad)
                    }
                    _ => {
                        if total % 8 != 0 {
                            return Err(DecompressError::BadExtensionLength);
                        }
                        ((total / 8 - 1) as u8, 0)
                    }
                };
                put(&mut st.w, &[nh, hdr_len])?;
                put(&mut st.w, e.data)?;
                match pad {
                    0 => {}
                    1 => put(&mut st.w, &[0])?,
                    n => {
                        put(&mut st.w, &[1, (n - 2) as u8])?;
                        put(&mut st.w, [0u8; 6].get(..n - 2).unwrap_or(&[]))?;
                    }
                }
                if e.next_header != NextHeader::Compressed {
                    return Ok(());
                }
            }
            NhcDispatch::Unknown(b) => return Err(DecompressError::UnsupportedNhc(b)),
        }
    }
}

/// Decompress one complete (unfragmented) 6LoWPAN frame payload into `out`; returns the
/// datagram length. `frame` starts at the dispatch byte.
pub fn decompress(
    frame: &[u8],
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    contexts: &ContextTable,
    out: &mut [u8],
) -> Result<usize, DecompressError> {
    let h = decompress_headers(frame, ll_src, ll_dst, contexts, out)?;
    let payload = frame.get(h.consumed..).ok_or(DecompressError::Truncated)?;
    let total = h
        .written
        .checked_add(payload.len())
        .ok_or(DecompressError::BufferTooSmall)?;
    out.get_mut(h.written..total)
        .ok_or(DecompressError::BufferTooSmall)?
        .copy_from_slice(payload);
    let dgram = out
        .get_mut(..total)
        .ok_or(DecompressError::BufferTooSmall)?;
    h.fixups.apply(dgram)?;
    Ok(total)
}
