//! Re-cutting smoltcp's 6LoWPAN frames to the room a secured frame leaves.
//!
//! smoltcp 0.14 sizes every 6LoWPAN frame for a 125-byte MPDU under its own unsecured MAC
//! header (it ignores the device's MTU), so a frame that fills it has no room for the
//! auxiliary security header and the MIC (10 bytes at ENC-MIC-32 with a key index). With
//! link-layer security on, the adapter hands each of smoltcp's frame payloads to a
//! [`Recutter`]: one that fits goes out as it is; a fragmented datagram is collected (smoltcp
//! emits a datagram's fragments in order, one datagram at a time) and, once complete, cut
//! again into fragments that fit; an unfragmented one that no longer fits is cut the same way.
//!
//! smoltcp's compressed headers are kept byte for byte: only the cut points, the fragment
//! headers and the datagram tag change. RFC 4944 §5.3: offsets count 8-octet units of the
//! *uncompressed* datagram, so the cut points are where the uncompressed position (compressed
//! position − compressed header length + uncompressed header length, both measured by
//! `sixlo::decompress_headers`) is a multiple of 8; the first fragment carries every compressed
//! header.

use sixlo::frag::{FRAG1_LEN, FRAGN_LEN, MAX_DATAGRAM_SIZE, Repr as FragRepr};
use sixlo::{ContextTable, LinkAddr, decompress_headers};

/// Room for the uncompressed headers when measuring them (IPv6, extension headers, UDP).
const HEADER_SCRATCH: usize = 512;

/// Why a frame could not be re-cut (the adapter drops it and counts it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecutError {
    /// The 6LoWPAN headers do not decompress (unknown dispatch or context).
    Headers,
    /// A fragment that does not continue the datagram being collected (that datagram is
    /// abandoned too).
    OutOfOrder,
    /// The budget cannot hold a fragment header, the compressed headers and one 8-octet unit.
    BudgetTooSmall,
    /// A datagram larger than 2047 bytes, or fragments that overrun their datagram size.
    Size,
}

impl std::fmt::Display for RecutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RecutError::Headers => "6LoWPAN headers do not decompress",
            RecutError::OutOfOrder => "fragment does not continue its datagram",
            RecutError::BudgetTooSmall => "frame budget too small for the compressed headers",
            RecutError::Size => "datagram size out of range",
        })
    }
}

impl std::error::Error for RecutError {}

/// A fragmented datagram being collected.
#[derive(Debug)]
struct Collecting {
    tag: u16,
    size: usize,
    /// Compressed header bytes at the start of `stream`.
    comp_hdr: usize,
    /// Their uncompressed length.
    unc_hdr: usize,
    /// The compressed headers and the payload so far (fragment headers removed).
    stream: Vec<u8>,
    /// Bytes of the uncompressed datagram collected.
    covered: usize,
}

/// Re-cuts one node's outgoing 6LoWPAN frames to a smaller MAC payload budget (see the
/// module documentation).
#[derive(Debug)]
pub struct Recutter {
    collecting: Option<Collecting>,
    next_tag: u16,
    abandoned: u64,
}

impl Recutter {
    /// A recutter whose datagram tags start at `first_tag`.
    pub fn new(first_tag: u16) -> Self {
        Recutter {
            collecting: None,
            next_tag: first_tag,
            abandoned: 0,
        }
    }

    /// Datagrams abandoned unfinished because smoltcp started another.
    pub fn abandoned(&self) -> u64 {
        self.abandoned
    }

    /// Takes one frame's 6LoWPAN `payload` (as smoltcp emitted it, from `ll_src` to `ll_dst`)
    /// and returns the payloads to send, each at most `budget` bytes: the frame itself if it
    /// fits, nothing while a fragmented datagram is being collected, the datagram's new
    /// fragments once it is complete.
    pub fn push(
        &mut self,
        payload: &[u8],
        budget: usize,
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
    ) -> Result<Vec<Vec<u8>>, RecutError> {
        match FragRepr::parse(payload) {
            None => {
                if payload.len() <= budget {
                    return Ok(vec![payload.to_vec()]);
                }
                let (comp_hdr, unc_hdr) = headers(payload, ll_src, ll_dst, contexts)?;
                let size = (unc_hdr + payload.len())
                    .checked_sub(comp_hdr)
                    .ok_or(RecutError::Size)?;
                self.cut(payload, comp_hdr, unc_hdr, size, budget)
            }
            Some((FragRepr::First { size, tag }, hl)) => {
                // A datagram still being collected is abandoned (smoltcp started another).
                if self.collecting.take().is_some() {
                    self.abandoned += 1;
                }
                let body = payload.get(hl..).ok_or(RecutError::Size)?;
                let (comp_hdr, unc_hdr) = headers(body, ll_src, ll_dst, contexts)?;
                let covered = (unc_hdr + body.len())
                    .checked_sub(comp_hdr)
                    .ok_or(RecutError::Size)?;
                self.collecting = Some(Collecting {
                    tag,
                    size: usize::from(size),
                    comp_hdr,
                    unc_hdr,
                    stream: body.to_vec(),
                    covered,
                });
                self.finish(budget)
            }
            Some((FragRepr::Next { size, tag, offset }, hl)) => {
                let body = payload.get(hl..).ok_or(RecutError::Size)?;
                let Some(c) = &mut self.collecting else {
                    return Err(RecutError::OutOfOrder);
                };
                if c.tag != tag
                    || c.size != usize::from(size)
                    || usize::from(offset) * 8 != c.covered
                {
                    self.collecting = None;
                    return Err(RecutError::OutOfOrder);
                }
                c.stream.extend_from_slice(body);
                c.covered += body.len();
                self.finish(budget)
            }
        }
    }

    /// Cuts the datagram being collected once it is complete.
    fn finish(&mut self, budget: usize) -> Result<Vec<Vec<u8>>, RecutError> {
        let Some(c) = &self.collecting else {
            return Ok(Vec::new());
        };
        if c.covered < c.size {
            return Ok(Vec::new());
        }
        let Some(c) = self.collecting.take() else {
            return Ok(Vec::new());
        };
        if c.covered > c.size {
            return Err(RecutError::Size);
        }
        self.cut(&c.stream, c.comp_hdr, c.unc_hdr, c.size, budget)
    }

    /// The frames of a complete datagram: `stream` is its compressed headers
    /// (`comp_hdr` bytes, `unc_hdr` uncompressed) and payload; `size` its uncompressed size.
    fn cut(
        &mut self,
        stream: &[u8],
        comp_hdr: usize,
        unc_hdr: usize,
        size: usize,
        budget: usize,
    ) -> Result<Vec<Vec<u8>>, RecutError> {
        if size > MAX_DATAGRAM_SIZE
            || size.checked_add(comp_hdr) != stream.len().checked_add(unc_hdr)
        {
            return Err(RecutError::Size);
        }
        if stream.len() <= budget {
            return Ok(vec![stream.to_vec()]);
        }
        let room1 = budget
            .checked_sub(FRAG1_LEN)
            .and_then(|r| r.checked_sub(comp_hdr))
            .ok_or(RecutError::BudgetTooSmall)?;
        // The first fragment ends on an 8-octet boundary of the uncompressed datagram.
        let first_end = (unc_hdr + room1) / 8 * 8;
        let per = budget.saturating_sub(FRAGN_LEN) / 8 * 8;
        if first_end <= unc_hdr || per == 0 {
            return Err(RecutError::BudgetTooSmall);
        }
        let size16 = u16::try_from(size).map_err(|_| RecutError::Size)?;
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1);
        let mut frames = Vec::new();
        let mut pos = first_end - unc_hdr + comp_hdr;
        let mut f = vec![0u8; FRAG1_LEN];
        FragRepr::First { size: size16, tag }
            .emit(&mut f)
            .ok_or(RecutError::Size)?;
        f.extend_from_slice(stream.get(..pos).ok_or(RecutError::Size)?);
        frames.push(f);
        while pos < stream.len() {
            let end = (pos + per).min(stream.len());
            let offset =
                u8::try_from((pos - comp_hdr + unc_hdr) / 8).map_err(|_| RecutError::Size)?;
            let mut f = vec![0u8; FRAGN_LEN];
            FragRepr::Next {
                size: size16,
                tag,
                offset,
            }
            .emit(&mut f)
            .ok_or(RecutError::Size)?;
            f.extend_from_slice(stream.get(pos..end).ok_or(RecutError::Size)?);
            frames.push(f);
            pos = end;
        }
        Ok(frames)
    }
}

/// (Compressed, uncompressed) length of the 6LoWPAN headers at the start of `frame`.
fn headers(
    frame: &[u8],
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    contexts: &ContextTable,
) -> Result<(usize, usize), RecutError> {
    let mut scratch = [0u8; HEADER_SCRATCH];
    let h = decompress_headers(frame, ll_src, ll_dst, contexts, &mut scratch)
        .map_err(|_| RecutError::Headers)?;
    Ok((h.consumed, h.written))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sixlo::{CompressOptions, Fragmenter};

    const SRC: LinkAddr = LinkAddr::Extended([0x02, 0, 0, 0, 0, 0, 0, 1]);
    const DST: LinkAddr = LinkAddr::Extended([0x02, 0, 0, 0, 0, 0, 0, 2]);

    /// An IPv6/UDP datagram fe80::1 → fe80::2 with `n` payload bytes.
    fn datagram(n: usize) -> Vec<u8> {
        let mut p = vec![0u8; 48 + n];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&((8 + n) as u16).to_be_bytes());
        p[6] = 17;
        p[7] = 64;
        p[8] = 0xfe;
        p[9] = 0x80;
        p[23] = 1;
        p[24] = 0xfe;
        p[25] = 0x80;
        p[39] = 2;
        p[40..42].copy_from_slice(&1234u16.to_be_bytes());
        p[42..44].copy_from_slice(&5678u16.to_be_bytes());
        p[44..46].copy_from_slice(&((8 + n) as u16).to_be_bytes());
        for (i, b) in p[48..].iter_mut().enumerate() {
            *b = i as u8;
        }
        p
    }

    /// The frame payloads of `packet` fragmented for `budget` (as smoltcp would, for 104).
    fn fragments(packet: &[u8], budget: usize) -> Vec<Vec<u8>> {
        let ctx = ContextTable::new();
        let mut f = Fragmenter::new(
            packet,
            SRC,
            DST,
            &ctx,
            CompressOptions::default(),
            7,
            budget,
        )
        .unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 127];
        while let Some(n) = f.next_frame(&mut buf).unwrap() {
            out.push(buf[..n].to_vec());
        }
        out
    }

    /// The datagram the receiver rebuilds from `frames` (headers decompressed, payload placed
    /// at each fragment's offset), checking every fragment header on the way.
    fn reassemble(frames: &[Vec<u8>]) -> Vec<u8> {
        let ctx = ContextTable::new();
        let (first, hl) = FragRepr::parse(&frames[0]).unwrap();
        let FragRepr::First { size, tag } = first else {
            panic!("{first:?}")
        };
        let mut out = vec![0u8; usize::from(size)];
        let body = &frames[0][hl..];
        let h = decompress_headers(body, &SRC, &DST, &ctx, &mut out).unwrap();
        let data = &body[h.consumed..];
        out[h.written..h.written + data.len()].copy_from_slice(data);
        let mut covered = h.written + data.len();
        assert_eq!(covered % 8, 0);
        for f in &frames[1..] {
            let (r, hl) = FragRepr::parse(f).unwrap();
            assert_eq!((r.datagram_size(), r.tag()), (size, tag));
            assert_eq!(usize::from(r.offset()) * 8, covered, "contiguous");
            let d = &f[hl..];
            out[covered..covered + d.len()].copy_from_slice(d);
            covered += d.len();
        }
        assert_eq!(covered, usize::from(size));
        h.fixups.apply(&mut out).unwrap();
        out
    }

    #[test]
    fn a_fragmented_datagram_is_cut_again_to_the_budget_and_reassembles_the_same() {
        let ctx = ContextTable::new();
        for n in [60, 100, 300, 1232] {
            let packet = datagram(n);
            let mut r = Recutter::new(0x100);
            let mut out = Vec::new();
            for f in fragments(&packet, 104) {
                out.extend(r.push(&f, 94, &SRC, &DST, &ctx).unwrap());
            }
            assert!(!out.is_empty(), "{n}");
            assert!(out.iter().all(|f| f.len() <= 94), "{n}");
            if out.len() > 1 {
                assert_eq!(reassemble(&out), packet, "{n}");
            }
        }
    }

    #[test]
    fn an_unfragmented_frame_that_no_longer_fits_is_fragmented() {
        let ctx = ContextTable::new();
        let packet = datagram(90);
        let one = fragments(&packet, 104);
        assert_eq!(one.len(), 1);
        assert!(one[0].len() > 94);
        let mut r = Recutter::new(1);
        let out = r.push(&one[0], 94, &SRC, &DST, &ctx).unwrap();
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|f| f.len() <= 94));
        assert_eq!(reassemble(&out), packet);
        // A frame that fits passes unchanged.
        let small = fragments(&datagram(10), 104);
        assert_eq!(r.push(&small[0], 94, &SRC, &DST, &ctx).unwrap(), small);
    }

    #[test]
    fn fragments_out_of_order_or_malformed_are_refused_without_panicking() {
        let ctx = ContextTable::new();
        let frags = fragments(&datagram(300), 104);
        let mut r = Recutter::new(1);
        assert_eq!(
            r.push(&frags[1], 94, &SRC, &DST, &ctx),
            Err(RecutError::OutOfOrder)
        );
        assert!(r.push(&frags[0], 94, &SRC, &DST, &ctx).unwrap().is_empty());
        assert_eq!(
            r.push(&frags[2], 94, &SRC, &DST, &ctx),
            Err(RecutError::OutOfOrder)
        );
        // Hostile bytes: never a panic.
        for len in 0..40 {
            for seed in 0..16u8 {
                let junk: Vec<u8> = (0..len)
                    .map(|i| (i as u8).wrapping_mul(seed) ^ 0xc0)
                    .collect();
                let _ = r.push(&junk, 20, &SRC, &DST, &ctx);
                let _ = r.push(&junk, 0, &SRC, &DST, &ctx);
            }
        }
    }
}
