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

use super::{AddrSize, DISPATCH_PAGE1, MAX_SRH_6LORH, MAX_SRH_HOPS_PER_6LORH, Packet, Repr, Rpi};
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
    /// Visit the runs of equal compressed size (each ≤ 32 addresses): `(first index, count,
    /// size)`, the first address compressed against `src`, each next one against the one
    /// before. Returns the number of runs.
    fn runs(
        &self,
        src: &[u8; 16],
        mut f: impl FnMut(usize, usize, AddrSize) -> Option<()>,
    ) -> Option<usize> {
        let mut reference = *src;
        let mut run: Option<(usize, usize, AddrSize)> = None;
        let mut runs = 0;
        for i in 0..self.len() {
            let a = self.get(i)?;
            let s = AddrSize::elide(&a, &reference);
            reference = a;
            run = match run {
                Some((first, n, size)) if size == s && n < MAX_SRH_HOPS_PER_6LORH => {
                    Some((first, n + 1, size))
                }
                Some((first, n, size)) => {
                    f(first, n, size)?;
                    runs += 1;
                    Some((i, 1, s))
                }
                None => Some((i, 1, s)),
            };
        }
        if let Some((first, n, size)) = run {
            f(first, n, size)?;
            runs += 1;
        }
        Some(runs)
    }
}

fn lorh(w: &mut Writer<'_>, r: &Repr<'_>) -> Result<(), CompressError> {
    let mut b = [0u8; 2 + 16 + 1];
    let n = r.buffer_len();
    let out = b.get_mut(..n).ok_or(CompressError::Malformed)?;
    r.emit(&mut Packet::new_unchecked(&mut *out))
        .map_err(|_| CompressError::Malformed)?;
    wr(w.put(out))
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
            lorh(w, &Repr::Rpi(r))?;
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
    if with_srh {
        let runs = path.runs(&src, |_, _, _| Some(()))?;
        if runs > MAX_SRH_6LORH {
            return None;
        }
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
            let mut buf = [0u8; MAX_SRH_HOPS_PER_6LORH * 16];
            let mut err = Ok(());
            path.runs(&src, |first, n, size| {
                let k = size.bytes();
                let mut used = 0;
                for i in first..first + n {
                    let a = path.get(i)?;
                    buf.get_mut(used..used + k)?
                        .copy_from_slice(a.get(16 - k..)?);
                    used += k;
                }
                let addrs = buf.get(..used)?;
                err = err.and(srh(w, size, addrs));
                Some(())
            })
            .ok_or(CompressError::Malformed)?;
            err?;
        }
        if let Some(r) = rpi {
            lorh(w, &Repr::Rpi(r))?;
        }
        lorh(
            w,
            &Repr::IpInIp {
                hop_limit: h[7],
                encapsulator: encap,
            },
        )?;
        let (n, enc) = ipv6(ih, irest, cx, w, 1, &mut chain, pre)?;
        Ok((IPV6_HEADER_LEN + pos + n, enc))
    })();
    Some(run)
}

/// One SRH-6LoRH of `addrs` (compressed to `size` each).
fn srh(w: &mut Writer<'_>, size: AddrSize, addrs: &[u8]) -> Result<(), CompressError> {
    let n = addrs.len() / size.bytes();
    let head = [0x80 | (n.saturating_sub(1) as u8 & 0x1f), size.lorh_type()];
    wr(w.put(&head))?;
    wr(w.put(addrs))
}
