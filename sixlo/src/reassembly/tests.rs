//! Tests of the receiver: reassembly orders, timeouts, pooled buffers, 8-octet range units.

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

/// A two-buffer store that tracks which buffers are out.
struct TwoBuffers {
    bufs: [[u8; 1280]; 2],
    out: [bool; 2],
}

impl TwoBuffers {
    fn outstanding(&self) -> usize {
        self.out.iter().filter(|o| **o).count()
    }
}

impl DatagramStore for TwoBuffers {
    type Buf = usize;
    fn capacity(&self) -> usize {
        1280
    }
    fn take(&mut self, _: Option<usize>) -> Option<usize> {
        let i = self.out.iter().position(|o| !*o)?;
        self.out[i] = true;
        Some(i)
    }
    fn bytes(&mut self, b: &usize) -> &mut [u8] {
        &mut self.bufs[*b]
    }
    fn give_back(&mut self, b: usize) {
        assert!(self.out[b], "buffer {b} given back twice");
        self.out[b] = false;
    }
}

#[test]
fn pooled_assembles_in_store_buffers_and_always_returns_them() {
    let p = datagram(1280);
    let mut fs = [([0u8; 127], 0); 20];
    let n = frames(&p, 7, &mut fs);
    let ctx = ContextTable::new();
    let mut st = TwoBuffers {
        bufs: [[0; 1280]; 2],
        out: [false; 2],
    };
    let mut r: PooledReassembler<usize, 4> = PooledReassembler::default();
    let rx = |r: &mut PooledReassembler<usize, 4>, st: &mut TwoBuffers, f: &[u8], now| {
        r.receive(st, f, &SRC, &DST, &ctx, now)
    };
    // Assembled in one store buffer, handed over without a copy.
    let mut got = None;
    for (f, len) in &fs[..n] {
        match rx(&mut r, &mut st, &f[..*len], Instant::ZERO) {
            Ok(Assembled::Datagram { buf, len }) => got = Some((buf, len)),
            Ok(Assembled::Pending) => assert_eq!(st.outstanding(), 1),
            Err(e) => panic!("{e}"),
        }
    }
    let (buf, len) = got.unwrap();
    assert!(st.bufs[buf][..len] == p[..]);
    assert_eq!((st.outstanding(), r.slots_in_use()), (1, 0));
    st.give_back(buf);

    // An exhausted store: the FRAG1 is refused and counted, nothing is held.
    let (a, b) = (st.take(None).unwrap(), st.take(None).unwrap());
    let (f1, l1) = &fs[0];
    assert_eq!(
        rx(&mut r, &mut st, &f1[..*l1], Instant::ZERO),
        Err(ReceiveError::NoBuffer)
    );
    assert_eq!((r.stats().no_buffer, r.slots_in_use()), (1, 0));
    st.give_back(a);
    st.give_back(b);

    // A discarded datagram gives its buffer back...
    assert_eq!(
        rx(&mut r, &mut st, &f1[..*l1], Instant::ZERO),
        Ok(Assembled::Pending)
    );
    assert_eq!(st.outstanding(), 1);
    let mut other = [([0u8; 127], 0); 20];
    let d600 = datagram(600);
    frames(&d600[..600], 7, &mut other);
    let (f, l) = &other[0];
    assert_eq!(
        rx(&mut r, &mut st, &f[..*l], Instant::ZERO),
        Err(ReceiveError::DatagramSizeMismatch)
    );
    assert_eq!((st.outstanding(), r.slots_in_use()), (0, 0));
    // ... and so does a timed-out one; a refused unfragmented frame holds nothing either.
    assert_eq!(
        rx(&mut r, &mut st, &f1[..*l1], Instant::ZERO),
        Ok(Assembled::Pending)
    );
    assert_eq!(
        rx(&mut r, &mut st, &[0x7a, 0xff], Instant::ZERO),
        Err(ReceiveError::Decompress(DecompressError::Truncated))
    );
    assert_eq!(st.outstanding(), 1);
    assert_eq!(r.expire(Instant::from_secs(10), &mut st), 1);
    assert_eq!((st.outstanding(), r.slots_in_use()), (0, 0));
    assert_eq!(r.clear(&mut st), 0);
}

#[test]
fn eight_byte_fragments_in_units() {
    // A 300-byte datagram cut by hand into 8-byte FRAGNs after an uncompressed FRAG1: ranges
    // kept in 8-octet units still catch duplicates and overlaps exactly.
    let p = datagram(300);
    let ctx = ContextTable::new();
    let mut r: Reassembler<2, 1280> = Reassembler::default();
    let mut out = [0u8; 1280];
    let size: u16 = 300;
    // FRAG1: dispatch 0xc0 | size, tag 9, then IPv6 dispatch 0x41 and the first 80 bytes.
    let mut f1 = [0u8; 4 + 1 + 80];
    f1[..4].copy_from_slice(&[0xc0 | (size >> 8) as u8, size as u8, 0, 9]);
    f1[4] = 0x41;
    f1[5..].copy_from_slice(&p[..80]);
    let fragn = |off: usize, len: usize, buf: &mut [u8; 5 + 64]| -> usize {
        buf[..5].copy_from_slice(&[0xe0 | (size >> 8) as u8, size as u8, 0, 9, (off / 8) as u8]);
        buf[5..5 + len].copy_from_slice(&p[off..off + len]);
        5 + len
    };
    let rx = |r: &mut Reassembler<2, 1280>, f: &[u8], out: &mut [u8]| {
        r.receive(f, &SRC, &DST, &ctx, Instant::ZERO, out)
    };
    assert_eq!(rx(&mut r, &f1, &mut out), Ok(Received::Pending));
    let mut b = [0u8; 69];
    let n = fragn(88, 8, &mut b);
    assert_eq!(rx(&mut r, &b[..n], &mut out), Ok(Received::Pending));
    assert_eq!(
        rx(&mut r, &b[..n], &mut out),
        Err(ReceiveError::DuplicateFragment)
    );
    let n = fragn(80, 8, &mut b);
    assert_eq!(rx(&mut r, &b[..n], &mut out), Ok(Received::Pending));
    let mut off = 96;
    let mut last = Ok(Received::Pending);
    while off < 300 {
        let len = (300 - off).min(64);
        let n = fragn(off, len, &mut b);
        last = rx(&mut r, &b[..n], &mut out);
        off += len;
    }
    assert_eq!(last, Ok(Received::Complete(300)));
    assert!(out[..300] == p[..300]);
    // Overlap by one unit: the final fragment again, shifted back by 8.
    assert_eq!(rx(&mut r, &f1, &mut out), Ok(Received::Pending));
    let n = fragn(256, 44, &mut b);
    assert_eq!(rx(&mut r, &b[..n], &mut out), Ok(Received::Pending));
    let n = fragn(248, 16, &mut b);
    assert_eq!(
        rx(&mut r, &b[..n], &mut out),
        Err(ReceiveError::OverlappingFragment)
    );
    assert_eq!(r.slots_in_use(), 0);
}
