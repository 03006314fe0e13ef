//! IPv6 headers → page 1: the compressor's RFC 8138 path (see
//! [`CompressOptions::rfc8138`](crate::CompressOptions::rfc8138)).
//!
//! Two shapes are carried as 6LoRHs; anything else returns `None` and is compressed as on
//! page 0:
//! - **tunnel**: IPv6 (traffic class and flow label 0) [+ hop-by-hop holding only the RPL
//!   Option] [+ type-3 Routing Header with Segments Left ≥ 1] + IPv6 → Paging Dispatch,
//!   SRH-6LoRHs, RPI-6LoRH, IP-in-IP-6LoRH, IPHC of the inner packet. The SRH-6LoRHs carry
//!   the outer destination, then the addresses the Routing Header has left to visit (Segments
//!   Left of them); they are left out when the destination is the DODAG root;
//! - **RPI only**: IPv6 + hop-by-hop holding only the RPL Option + anything but a Routing
//!   Header → Paging Dispatch, RPI-6LoRH, IPHC of the packet without its hop-by-hop header.
//!
//! Decompression gives the same bytes back when the Routing Header has no visited address
//! (Segments Left = its number of addresses) and uses `rpl::srh::layout`'s CmprI/CmprE, the
//! RPL Option has type 0x23 (0x63 comes back as 0x23, RFC 9008), and the hop-by-hop header
//! is the 8 bytes of the option alone.

use super::{AddrSize, DISPATCH_PAGE1, MAX_SRH_6LORH, MAX_SRH_HOPS_PER_6LORH, Rpi, TYPE_IP_IN_IP};
use crate::IPV6_HEADER_LEN;
use crate::buf::Writer;
use crate::compress::{CompressError, Cx, ipv6, ipv6_ok, wr};
use crate::nhc::proto;

/// The type-3 Routing Header of the datagram: its bytes and geometry (RFC 6554 §3).
struct Rh3<'a> {
    b: &'a [u8],
    n: usize,
    segs: usize,
    cmpr_i: usize,
    cmpr_e: usize,
}

impl<'a> Rh3<'a> {
    fn parse(b: &'a [u8]) -> Option<Rh3<'a>> {
        let [_, _, ty, segs, cmpr, pad, ..] = *b.first_chunk::<8>()?;
        if ty != 3 {
            return None;
        }
        let (cmpr_i, cmpr_e) = (usize::from(cmpr >> 4), usize::from(cmpr & 0x0f));
        let body = b.len().checked_sub(8 + usize::from(pad >> 4))?;
        let last = 16 - cmpr_e;
        let rest = body.checked_sub(last)?;
        if rest % (16 - cmpr_i) != 0 {
            return None;
        }
        let n = rest / (16 - cmpr_i) + 1;
        let segs = usize::from(segs);
        (segs >= 1 && segs <= n).then_some(Rh3 {
            b,
            n,
            segs,
            cmpr_i,
            cmpr_e,
        })
    }
    /// Address `i` (0-based) expanded with the prefix of `dst`.
    fn address(&self, i: usize, dst: &[u8; 16]) -> Option<[u8; 16]> {
        let (at, keep) = if i + 1 == self.n {
            (8 + i * (16 - self.cmpr_i), self.cmpr_e)
        } else {
            (8 + i * (16 - self.cmpr_i), self.cmpr_i)
        };
        let mut a = *dst;
        a.get_mut(keep..)?
            .copy_from_slice(self.b.get(at..at + 16 - keep)?);
        Some(a)
    }
}

/// The addresses the SRH-6LoRHs carry: the outer destination, then the unvisited Routing
/// Header addresses.
struct Path<'a> {
    dst: [u8; 16],
    rh: Option<Rh3<'a>>,
}

impl Path<'_> {
    fn len(&self) -> usize {
        1 + self.rh.as_ref().map_or(0, |r| r.segs)
    }
    fn get(&self, i: usize) -> Option<[u8; 16]> {
        match (i, &self.rh) {
            (0, _) => Some(self.dst),
            (_, Some(r)) => r.address(r.n - r.segs + i - 1, &self.dst),
            _ => None,
        }
    }
}

/// Write the SRH-6LoRHs for `path` into `w`, or only count them (`w` = `None`): runs of
/// addresses of one compressed size (at most 32 each), the first address compressed against
/// `src`, each next one against the one before. Returns the number of SRH-6LoRHs; `None` when
/// `w` has no room.
fn srh_6lorhs(path: &Path<'_>, src: &[u8; 16], mut w: Option<&mut Writer<'_>>) -> Option<usize> {
    let n = path.len();
    let (mut reference, mut runs, mut i) = (*src, 0, 0);
    while i < n {
        let first = path.get(i)?;
        let size = AddrSize::elide(&first, &reference);
        let (mut j, mut prev) = (i + 1, first);
        while j < n && j - i < MAX_SRH_HOPS_PER_6LORH {
            let a = path.get(j)?;
            if AddrSize::elide(&a, &prev) != size {
                break;
            }
            prev = a;
            j += 1;
        }
        if let Some(w) = w.as_deref_mut() {
            w.put(&[0x80 | (j - i - 1) as u8, size.lorh_type()]).ok()?;
            for k in i..j {
                w.put(path.get(k)?.get(16 - size.bytes()..)?).ok()?;
            }
        }
        reference = prev;
        runs += 1;
        i = j;
    }
    Some(runs)
}

/// Compress `packet` (a checked IPv6 datagram) on page 1, or `None` when its shape has no
/// 6LoRH form (then nothing was written). `pre` is the IPHC encoding planned before, as in
/// [`compress_planned`](crate::compress::compress_planned).
#[inline(never)]
pub(crate) fn compress(
    packet: &[u8],
    cx: &Cx<'_>,
    w: &mut Writer<'_>,
    pre: Option<u32>,
) -> Option<Result<(usize, u32), CompressError>> {
    let (h, after) = packet.split_first_chunk::<IPV6_HEADER_LEN>()?;
    let mut pos = 0;
    let mut nh = h[6];
    let mut rpi = None;
    if nh == proto::HOP_BY_HOP {
        let hbh = after.first_chunk::<8>()?;
        if hbh[1] != 0 {
            return None;
        }
        rpi = Some(Rpi::from_option(hbh.get(2..)?)?);
        nh = hbh[0];
        pos = 8;
    }
    let mut rh = None;
    if nh == proto::ROUTING {
        let len = (usize::from(*after.get(pos + 1)?) + 1) * 8;
        let b = after.get(pos..pos + len)?;
        rh = Some(Rh3::parse(b)?);
        nh = b[0];
        pos += len;
    }
    let mut chain = 0;
    if nh != proto::IPV6 {
        // RPI only: the IPHC header stands for the IPv6 header without the hop-by-hop one.
        let r = rpi?;
        if rh.is_some() {
            return None;
        }
        let mut h2 = *h;
        let plen = u16::from_be_bytes([h[4], h[5]]).checked_sub(8)?;
        h2[4..6].copy_from_slice(&plen.to_be_bytes());
        h2[6] = nh;
        let rest = after.get(8..)?;
        let run = (|| {
            wr(w.u8(DISPATCH_PAGE1))?;
            let (b, n) = r.wire();
            wr(w.put(b.get(..n).unwrap_or(&[])))?;
            let (n, enc) = ipv6(&h2, rest, cx, w, 1, &mut chain, pre)?;
            Ok((n + 8, enc))
        })();
        return Some(run);
    }
    let inner = after.get(pos..)?;
    if h[..4] != [0x60, 0, 0, 0] || !ipv6_ok(inner) {
        return None;
    }
    let src: [u8; 16] = h.get(8..24)?.try_into().ok()?;
    let dst: [u8; 16] = h.get(24..40)?.try_into().ok()?;
    let root = cx.contexts.rpl_root();
    let path = Path { dst, rh };
    let with_srh = path.rh.is_some() || root != Some(&dst);
    if with_srh && srh_6lorhs(&path, &src, None)? > MAX_SRH_6LORH {
        return None;
    }
    let encap: &[u8] = match root {
        Some(r) if *r == src => &[],
        Some(r) => src.get(16 - AddrSize::elide(&src, r).bytes()..)?,
        None => &src,
    };
    let (ih, irest) = inner.split_first_chunk::<IPV6_HEADER_LEN>()?;
    let run = (|| {
        wr(w.u8(DISPATCH_PAGE1))?;
        if with_srh {
            srh_6lorhs(&path, &src, Some(&mut *w)).ok_or(CompressError::BufferTooSmall)?;
        }
        if let Some(r) = rpi {
            let (b, n) = r.wire();
            wr(w.put(b.get(..n).unwrap_or(&[])))?;
        }
        // IP-in-IP-6LoRH: Length = 1 + encapsulator bytes (0, 1, 2, 4, 8 or 16).
        wr(w.put(&[0xa0 | (1 + encap.len()) as u8, TYPE_IP_IN_IP, h[7]]))?;
        wr(w.put(encap))?;
        // Depth 2: the outer header, rebuilt from the IP-in-IP-6LoRH, counts against the
        // decompressor's MAX_IPV6_HEADERS like any other.
        let (n, enc) = ipv6(ih, irest, cx, w, 2, &mut chain, pre)?;
        Ok((IPV6_HEADER_LEN + pos + n, enc))
    })();
    Some(run)
}
