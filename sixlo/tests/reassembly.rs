//! Every malformed fragment pattern that broke other stacks, each a test with its counted drop,
//! plus timeouts, slot limits and the "a slot is always released" guarantee.

mod common;

use common::{addr, build};
use netif::time::{Duration, Instant};
use sixlo::reassembly::ReceiveError as E;
use sixlo::{
    CompressOptions, ContextTable, Fragmenter, LinkAddr, Reassembler, ReassemblyConfig, Received,
};

const SRC: LinkAddr = LinkAddr::Short([0, 1]);
const DST: LinkAddr = LinkAddr::Short([0, 2]);

fn datagram(len: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..len - 48).map(|i| i as u8).collect();
    build(
        0,
        0,
        64,
        addr("fe80::ff:fe00:1"),
        addr("fe80::ff:fe00:2"),
        &[],
        Some((1000, 2000)),
        0,
        &payload,
    )
}

fn frames(p: &[u8], budget: usize, tag: u16) -> Vec<Vec<u8>> {
    let ctx = ContextTable::new();
    let mut f =
        Fragmenter::new(p, SRC, DST, &ctx, CompressOptions::default(), tag, budget).unwrap();
    let mut v = Vec::new();
    let mut b = [0u8; 200];
    while let Some(n) = f.next_frame(&mut b).unwrap() {
        v.push(b[..n].to_vec());
    }
    assert_eq!(v.len(), f.frame_count());
    v
}

fn rx(r: &mut Reassembler, f: &[u8]) -> Result<Received, E> {
    let mut out = [0u8; 1280];
    r.receive(f, &SRC, &DST, &ContextTable::new(), Instant::ZERO, &mut out)
}

fn fragn(size: u16, tag: u16, off: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![
        0xe0 | (size >> 8) as u8,
        size as u8,
        (tag >> 8) as u8,
        tag as u8,
        off,
    ];
    v.extend_from_slice(body);
    v
}

/// Compressed headers longer than the fragmenter keeps between planning and the first frame
/// (a 64-byte hop-by-hop header plus UDP, with inline global addresses) take the path that
/// compresses a second time; the frames must still reassemble to the datagram.
#[test]
fn long_compressed_headers_fragment_and_reassemble() {
    let mut hbh = vec![0u8, 7];
    // One PadN option filling the rest of the 64-byte header.
    hbh.extend_from_slice(&[1, 60]);
    hbh.extend(std::iter::repeat_n(0u8, 60));
    let payload: Vec<u8> = (0..600).map(|i| i as u8).collect();
    let p = build(
        0,
        0,
        17,
        addr("2001:db8::1234:5678:9abc:def0"),
        addr("2001:db8:1::4321"),
        &[(0, hbh)],
        Some((1000, 2000)),
        0,
        &payload,
    );
    let ctx = ContextTable::new();
    let mut m = [0u8; 256];
    let c =
        sixlo::compress::compress_headers(&p, &SRC, &DST, &ctx, CompressOptions::default(), &mut m)
            .unwrap();
    assert!(c.written > 64, "compressed headers are {} bytes", c.written);
    let fs = frames(&p, 116, 9);
    let mut r: Reassembler = Reassembler::default();
    let mut out = [0u8; 1280];
    let mut res = None;
    for f in &fs {
        res = Some(
            r.receive(f, &SRC, &DST, &ctx, Instant::ZERO, &mut out)
                .unwrap(),
        );
    }
    assert_eq!(res, Some(Received::Complete(p.len())));
    assert_eq!(&out[..p.len()], &p[..]);
}

#[test]
fn whole_1280_datagram_in_minimum_frames() {
    let p = datagram(1280);
    // 102-byte budget (a 127-byte PSDU with short addresses and PAN ID compression).
    let fs = frames(&p, 102, 7);
    // Lower bound: every frame carries at most 96 (FRAGN) payload bytes in 8-byte units.
    assert!(fs.len() <= 1 + (1280usize - 48).div_ceil(96) + 1);
    let mut r: Reassembler = Reassembler::default();
    let mut out = [0u8; 1280];
    let mut res = None;
    for f in &fs {
        assert!(f.len() <= 102);
        res = Some(
            r.receive(f, &SRC, &DST, &ContextTable::new(), Instant::ZERO, &mut out)
                .unwrap(),
        );
    }
    assert_eq!(res, Some(Received::Complete(1280)));
    assert_eq!(&out[..], &p[..]);
    assert_eq!(r.slots_in_use(), 0);
    assert_eq!(r.stats().rx_datagrams, 1);
}

#[test]
fn frame_shorter_than_fragment_header() {
    let mut r: Reassembler = Reassembler::default();
    assert_eq!(rx(&mut r, &[]), Err(E::FrameTooShort));
    assert_eq!(rx(&mut r, &[0xc5, 0x00, 0x12]), Err(E::FrameTooShort));
    assert_eq!(rx(&mut r, &[0xe5, 0x00, 0x12, 0x34]), Err(E::FrameTooShort));
    assert_eq!(r.stats().frame_too_short, 3);
}

#[test]
fn datagram_size_below_40() {
    let mut r: Reassembler = Reassembler::default();
    let mut f = frames(&datagram(300), 80, 1)[0].clone();
    f[0] = 0xc0;
    f[1] = 39;
    assert_eq!(rx(&mut r, &f), Err(E::DatagramSizeTooSmall));
    assert_eq!(r.stats().datagram_size_too_small, 1);
    assert_eq!(r.slots_in_use(), 0);
}

#[test]
fn datagram_size_smaller_than_decompressed_headers() {
    let mut r: Reassembler = Reassembler::default();
    let mut f = frames(&datagram(300), 80, 1)[0].clone();
    f[0] = 0xc0;
    f[1] = 44; // headers decompress to 48 bytes
    assert_eq!(rx(&mut r, &f), Err(E::HeaderExceedsDatagramSize));
    assert_eq!(r.stats().header_exceeds_datagram_size, 1);
    assert_eq!(r.slots_in_use(), 0);
}

#[test]
fn frag1_payload_past_datagram_size() {
    let mut r: Reassembler = Reassembler::default();
    let mut f = frames(&datagram(300), 80, 1)[0].clone();
    f[0] = 0xc0;
    f[1] = 56; // headers (48) fit, payload does not
    assert_eq!(rx(&mut r, &f), Err(E::FragmentPastDatagramSize));
    assert_eq!(r.stats().fragment_past_datagram_size, 1);
    assert_eq!(r.slots_in_use(), 0);
}

#[test]
fn offset_plus_length_past_datagram_size() {
    let mut r: Reassembler = Reassembler::default();
    let fs = frames(&datagram(300), 80, 1);
    assert_eq!(rx(&mut r, &fs[0]), Ok(Received::Pending));
    assert_eq!(
        rx(&mut r, &fragn(300, 1, 36, &[0; 16])),
        Err(E::FragmentPastDatagramSize)
    );
    assert_eq!(r.stats().fragment_past_datagram_size, 1);
    assert_eq!(r.slots_in_use(), 0, "whole datagram discarded");
}

#[test]
fn fragment_length_not_multiple_of_8() {
    let mut r: Reassembler = Reassembler::default();
    let fs = frames(&datagram(300), 80, 1);
    assert_eq!(rx(&mut r, &fs[0]), Ok(Received::Pending));
    assert_eq!(
        rx(&mut r, &fragn(300, 1, 20, &[0; 12])),
        Err(E::FragmentNotMultipleOf8)
    );
    assert_eq!(r.stats().fragment_not_multiple_of_8, 1);
    assert_eq!(r.slots_in_use(), 0);
    // ... except the last one, which may end anywhere.
    let fs = frames(&datagram(301), 80, 2);
    let mut res = Ok(Received::Pending);
    for f in &fs {
        res = rx(&mut r, f);
    }
    assert_eq!(res, Ok(Received::Complete(301)));
}

#[test]
fn iphc_inline_fields_past_the_frame() {
    let mut r: Reassembler = Reassembler::default();
    // IPHC with SAM=00 (16 inline bytes) but only 5 present, unfragmented and in a FRAG1.
    let iphc = [0x7a, 0x03, 59, 0xfe, 0x80, 0, 0, 0];
    assert_eq!(
        rx(&mut r, &iphc),
        Err(E::Decompress(sixlo::DecompressError::Truncated))
    );
    let mut f1 = vec![0xc0, 200, 0, 9];
    f1.extend_from_slice(&iphc);
    assert_eq!(
        rx(&mut r, &f1),
        Err(E::Decompress(sixlo::DecompressError::Truncated))
    );
    assert_eq!(r.stats().iphc_truncated, 2);
    assert_eq!(r.slots_in_use(), 0);
}

#[test]
fn nhc_chain_longer_than_the_buffer() {
    // 30 chained hop-by-hop NHC headers of 255 bytes each: far beyond any buffer and chain limit.
    let mut f = vec![0x7f, 0x33]; // TF=11 NH=1 HLIM=11, SAM=11 DAM=11
    for _ in 0..30 {
        f.extend_from_slice(&[0xe1, 255]);
        f.extend_from_slice(&[0; 255]);
    }
    let mut r: Reassembler = Reassembler::default();
    let e = rx(&mut r, &f).unwrap_err();
    assert!(matches!(
        e,
        E::Decompress(
            sixlo::DecompressError::BufferTooSmall | sixlo::DecompressError::NhcChainTooLong
        )
    ));
    // Unfragmented into a small buffer: the chain is refused, not overrun.
    let mut small = [0u8; 64];
    let d = sixlo::decompress(&f, &SRC, &DST, &ContextTable::new(), &mut small);
    assert_eq!(d, Err(sixlo::DecompressError::BufferTooSmall));
    // Chain limit with tiny headers.
    let mut g = vec![0x7f, 0x33];
    for _ in 0..40 {
        g.extend_from_slice(&[0xe1, 6, 0, 0, 0, 0, 0, 0]);
    }
    let mut out = [0u8; 1280];
    assert_eq!(
        sixlo::decompress(&g, &SRC, &DST, &ContextTable::new(), &mut out),
        Err(sixlo::DecompressError::NhcChainTooLong)
    );
}

#[test]
fn fragn_before_any_frag1() {
    let mut r: Reassembler = Reassembler::default();
    let fs = frames(&datagram(300), 80, 1);
    assert_eq!(rx(&mut r, &fs[1]), Err(E::FragnWithoutFrag1));
    assert_eq!(r.stats().fragn_without_frag1, 1);
    assert_eq!(r.slots_in_use(), 0);
}

#[test]
fn duplicate_fragments_are_dropped_datagram_survives() {
    let mut r: Reassembler = Reassembler::default();
    let fs = frames(&datagram(300), 80, 1);
    assert_eq!(rx(&mut r, &fs[0]), Ok(Received::Pending));
    assert_eq!(rx(&mut r, &fs[0]), Err(E::DuplicateFragment));
    assert_eq!(rx(&mut r, &fs[1]), Ok(Received::Pending));
    assert_eq!(rx(&mut r, &fs[1]), Err(E::DuplicateFragment));
    let mut res = Ok(Received::Pending);
    for f in &fs[2..] {
        res = rx(&mut r, f);
    }
    assert_eq!(res, Ok(Received::Complete(300)));
    assert_eq!(r.stats().duplicate_fragments, 2);
}

#[test]
fn overlapping_fragments_discard_the_datagram() {
    let mut r: Reassembler = Reassembler::default();
    let fs = frames(&datagram(300), 80, 1);
    assert_eq!(rx(&mut r, &fs[0]), Ok(Received::Pending));
    let off = fs[1][4];
    assert_eq!(
        rx(&mut r, &fragn(300, 1, off - 1, &[0; 16])),
        Err(E::OverlappingFragment)
    );
    assert_eq!(r.stats().overlapping_fragments, 1);
    assert_eq!(r.slots_in_use(), 0);
    // The rest of that datagram is now FRAGN-without-FRAG1.
    assert_eq!(rx(&mut r, &fs[1]), Err(E::FragnWithoutFrag1));
}

#[test]
fn datagram_size_changing_between_fragments() {
    let mut r: Reassembler = Reassembler::default();
    let fs = frames(&datagram(300), 80, 1);
    assert_eq!(rx(&mut r, &fs[0]), Ok(Received::Pending));
    let mut g = fs[1].clone();
    g[1] = (304u16 & 0xff) as u8;
    g[0] = 0xe0 | (304u16 >> 8) as u8;
    assert_eq!(rx(&mut r, &g), Err(E::DatagramSizeMismatch));
    assert_eq!(r.stats().datagram_size_mismatch, 1);
    assert_eq!(r.slots_in_use(), 0);
}

#[test]
fn empty_fragment_and_unsupported_dispatch() {
    let mut r: Reassembler = Reassembler::default();
    let fs = frames(&datagram(300), 80, 1);
    rx(&mut r, &fs[0]).unwrap();
    assert_eq!(rx(&mut r, &fragn(300, 1, 20, &[])), Err(E::EmptyFragment));
    assert_eq!(rx(&mut r, &[0x80, 1, 2]), Err(E::UnsupportedDispatch(0x80)));
    assert_eq!(rx(&mut r, &[0x00, 1, 2]), Err(E::UnsupportedDispatch(0x00)));
    assert_eq!(r.stats().empty_fragment, 1);
    assert_eq!(r.stats().unsupported_dispatch, 2);
}

#[test]
fn timeout_releases_slot_and_counts() {
    let mut r: Reassembler = Reassembler::default();
    let mut out = [0u8; 1280];
    let fs = frames(&datagram(300), 80, 1);
    let ctx = ContextTable::new();
    r.receive(&fs[0], &SRC, &DST, &ctx, Instant::ZERO, &mut out)
        .unwrap();
    assert_eq!(r.slots_in_use(), 1);
    assert_eq!(r.expire(Instant::from_secs(9)), 0);
    // The next fragment after the deadline finds nothing: the sweep ran first.
    assert_eq!(
        r.receive(&fs[1], &SRC, &DST, &ctx, Instant::from_secs(10), &mut out),
        Err(E::FragnWithoutFrag1)
    );
    assert_eq!(r.stats().reassembly_timeouts, 1);
    assert_eq!(r.slots_in_use(), 0);
}

#[test]
fn slot_and_per_source_limits() {
    let cfg = ReassemblyConfig {
        timeout: Duration::from_secs(10),
        per_source_limit: 2,
        ..ReassemblyConfig::default()
    };
    let mut r: Reassembler<3, 1280> = Reassembler::new(cfg);
    let mut out = [0u8; 1280];
    let ctx = ContextTable::new();
    let p = datagram(300);
    let first = |tag| frames(&p, 80, tag)[0].clone();
    let a = LinkAddr::Short([0, 0xa]);
    let b = LinkAddr::Short([0, 0xb]);
    assert_eq!(
        r.receive(&first(1), &a, &DST, &ctx, Instant::ZERO, &mut out),
        Ok(Received::Pending)
    );
    assert_eq!(
        r.receive(&first(2), &a, &DST, &ctx, Instant::ZERO, &mut out),
        Ok(Received::Pending)
    );
    assert_eq!(
        r.receive(&first(3), &a, &DST, &ctx, Instant::ZERO, &mut out),
        Err(E::PerSourceLimit)
    );
    assert_eq!(
        r.receive(&first(1), &b, &DST, &ctx, Instant::ZERO, &mut out),
        Ok(Received::Pending)
    );
    // Every slot taken: a new datagram evicts the oldest of the largest holder (a's first).
    assert_eq!(
        r.receive(&first(2), &SRC, &DST, &ctx, Instant::ZERO, &mut out),
        Ok(Received::Pending)
    );
    assert_eq!(r.stats().per_source_limit, 1);
    assert_eq!(r.stats().no_free_slot, 0);
    assert_eq!(r.stats().reassembly_evictions, 1);
    assert_eq!(r.slots_in_use(), 3);
    r.expire(Instant::from_secs(10));
    assert_eq!(r.slots_in_use(), 0);
}

#[test]
fn datagram_larger_than_buffer_and_small_output() {
    let mut r: Reassembler<2, 600> = Reassembler::default();
    let fs = frames(&datagram(700), 80, 1);
    let mut out = [0u8; 1280];
    let ctx = ContextTable::new();
    assert_eq!(
        r.receive(&fs[0], &SRC, &DST, &ctx, Instant::ZERO, &mut out),
        Err(E::DatagramTooLarge)
    );
    let fs = frames(&datagram(300), 80, 2);
    let mut small = [0u8; 100];
    let mut last = Ok(Received::Pending);
    for f in &fs {
        last = r.receive(f, &SRC, &DST, &ctx, Instant::ZERO, &mut small);
    }
    assert_eq!(last, Err(E::OutputTooSmall));
    assert_eq!(
        r.slots_in_use(),
        0,
        "slot released even when the caller's buffer is too small"
    );
}

// ----- eviction under a FRAG1 flood (issue 19, finding 8) ----------------------------------

/// A flooding source: `LinkAddr::Short([0xa0, s])`.
fn flooder(s: u8) -> LinkAddr {
    LinkAddr::Short([0xa0, s])
}

/// Feeds the honest datagram's frames (from SRC) with the flood's FRAG1s interleaved, each
/// `(source, tag, position)` going before the honest frame at `position` (past the end:
/// after the last); checks the share after every frame and returns the honest outcome of
/// the last frame.
fn honest_among_flood(
    share: usize,
    before: &[(u8, u16)],
    during: &[(u8, u16, usize)],
) -> Result<Received, E> {
    let cfg = ReassemblyConfig {
        buffer_share: share,
        ..ReassemblyConfig::default()
    };
    let mut r: Reassembler = Reassembler::new(cfg);
    let ctx = ContextTable::new();
    let mut out = [0u8; 1280];
    let p = datagram(300);
    let honest = frames(&p, 80, 0x5555);
    let attack = frames(&datagram(1000), 80, 0)[0].clone();
    let flood = |r: &mut Reassembler, s: u8, tag: u16| {
        let mut f = attack.clone();
        f[2..4].copy_from_slice(&tag.to_be_bytes());
        let _ = r.receive(&f, &flooder(s), &DST, &ctx, Instant::ZERO, &mut [0u8; 1280]);
        assert!(r.slots_in_use() <= share);
    };
    for (s, tag) in before {
        flood(&mut r, *s, *tag);
    }
    let mut last = Err(E::NoFreeSlot);
    for (k, f) in honest.iter().enumerate() {
        if k > 0 {
            for (s, tag, _) in during.iter().filter(|d| d.2 == k) {
                flood(&mut r, *s, *tag);
            }
        }
        last = r.receive(f, &SRC, &DST, &ctx, Instant::ZERO, &mut out);
        assert!(r.slots_in_use() <= share);
    }
    if last == Ok(Received::Complete(300)) {
        assert!(out[..300] == p[..]);
    }
    last
}

proptest::proptest! {
    /// Eviction goes by age of the FRAG1 among the largest holders: a datagram can only be
    /// evicted once every datagram older than it is gone, so an honest datagram completes
    /// whatever came before it, if fewer than `share` FRAG1s from others arrive while it is
    /// in progress (from any number of sources, each tied at one slot or not).
    #[test]
    fn honest_datagram_survives_fewer_than_share_new_datagrams(
        share in 2usize..=8,
        before in proptest::collection::vec((0u8..16, 0u16..64), 0..40),
        during in proptest::collection::vec((0u8..16, 0u16..64, 1usize..6), 0..8),
    ) {
        let during = &during[..during.len().min(share - 1)];
        proptest::prop_assert_eq!(
            honest_among_flood(share, &before, during),
            Ok(Received::Complete(300))
        );
    }

    /// With at most `share - 2` flooding sources, some flooder always holds two slots when
    /// the share is full, so the honest source's one datagram is never the one evicted, however
    /// many FRAG1s the flooders send.
    #[test]
    fn few_flooding_sources_never_evict_an_honest_datagram(
        share in 3usize..=8,
        sources in 1u8..=6,
        before in proptest::collection::vec((0u8..16, 0u16..64), 0..40),
        during in proptest::collection::vec((0u8..16, 0u16..64, 1usize..6), 0..60),
    ) {
        let m = sources.min(share as u8 - 2);
        let before: Vec<_> = before.iter().map(|(s, t)| (s % m, *t)).collect();
        let during: Vec<_> = during.iter().map(|(s, t, k)| (s % m, *t, *k)).collect();
        proptest::prop_assert_eq!(
            honest_among_flood(share, &before, &during),
            Ok(Received::Complete(300))
        );
    }
}

/// The buffer share below the slot count: the datagrams in progress never exceed it, and a
/// FRAG1 beyond it evicts (counted) instead of taking another buffer.
#[test]
fn buffer_share_caps_held_buffers() {
    let cfg = ReassemblyConfig {
        buffer_share: 3,
        ..ReassemblyConfig::default()
    };
    let mut r: Reassembler<8, 1280> = Reassembler::new(cfg);
    let ctx = ContextTable::new();
    let mut out = [0u8; 1280];
    let f1 = frames(&datagram(300), 80, 1)[0].clone();
    for s in 0..6 {
        assert_eq!(
            r.receive(&f1, &flooder(s), &DST, &ctx, Instant::ZERO, &mut out),
            Ok(Received::Pending)
        );
        assert_eq!(r.slots_in_use(), usize::from(s + 1).min(3));
    }
    assert_eq!(r.stats().reassembly_evictions, 3);
    // The three oldest went (sources 0, 1, 2): their next fragment starts nothing.
    let fragn = frames(&datagram(300), 80, 1)[1].clone();
    assert_eq!(
        r.receive(&fragn, &flooder(0), &DST, &ctx, Instant::ZERO, &mut out),
        Err(E::FragnWithoutFrag1)
    );
    assert_eq!(
        r.receive(&fragn, &flooder(5), &DST, &ctx, Instant::ZERO, &mut out),
        Ok(Received::Pending)
    );
}
