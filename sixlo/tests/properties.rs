//! Property tests: decompress(compress(p)) == p over random valid IPv6 datagrams (every
//! address form, contexts, extension-header chains, UDP, IPv6-in-IPv6); fragment → reassemble
//! round trips; arbitrary bytes never panic and never leak a reassembly slot.

mod common;

use common::{Ext, build};
use netif::time::{Duration, Instant};
use proptest::prelude::*;
use sixlo::{
    CompressOptions, Context, ContextTable, Fragmenter, LinkAddr, Reassembler, Received, compress,
    decompress,
};

fn link() -> impl Strategy<Value = LinkAddr> {
    prop_oneof![
        any::<[u8; 2]>().prop_map(LinkAddr::Short),
        any::<[u8; 8]>().prop_map(LinkAddr::Extended),
        Just(LinkAddr::Absent),
    ]
}

const PFX_A: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];
const PFX_B: [u8; 16] = [
    0xfd, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0, 0, 0, 0, 0, 0, 0,
];

fn contexts() -> impl Strategy<Value = ContextTable> {
    (any::<bool>(), 0u8..16, any::<bool>(), 0u8..16, 40u8..=72).prop_map(|(a, ca, b, cb, lb)| {
        let mut t = ContextTable::new();
        if a {
            t.set(ca, Context::new(PFX_A, 48));
        }
        if b {
            t.set(cb, Context::new(PFX_B, lb));
        }
        t
    })
}

/// An address in one of the forms the compressor distinguishes.
fn address(ll: LinkAddr) -> impl Strategy<Value = [u8; 16]> {
    let iid = ll.iid().unwrap_or([1, 2, 3, 4, 5, 6, 7, 8]);
    (0u8..10, any::<[u8; 16]>(), any::<[u8; 2]>()).prop_map(move |(form, r, s)| {
        let mut a = r;
        match form {
            0 => {}
            1..=3 => {
                a[..8].copy_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0]);
                if form == 1 {
                    a[8..].copy_from_slice(&iid);
                } else if form == 2 {
                    a[8..14].copy_from_slice(&[0, 0, 0, 0xff, 0xfe, 0]);
                    a[14..].copy_from_slice(&s);
                }
            }
            4 | 5 => {
                let p = if form == 4 { PFX_A } else { PFX_B };
                a[..9].copy_from_slice(&p[..9]);
                if r[0] & 1 == 0 {
                    a[8..].copy_from_slice(&iid);
                    if form == 5 {
                        a[8] = p[8];
                    }
                }
            }
            6 => {
                a = [0xff, r[1], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, r[15]];
                if r[2] & 1 == 0 {
                    a[1] = 2;
                }
            }
            7 => a[2..11].fill(0),
            8 => {
                a[0] = 0xff;
                a[3] = 48;
                a[4..12].copy_from_slice(&PFX_A[..8]);
            }
            _ => a = [0; 16],
        }
        a
    })
}

fn ext() -> impl Strategy<Value = Ext> {
    (
        prop_oneof![Just(0u8), Just(43), Just(44), Just(60), Just(135)],
        0u8..4,
        any::<[u8; 40]>(),
    )
        .prop_map(|(p, units, fill)| {
            if p == 44 {
                let mut b = fill[..8].to_vec();
                b[1] = 0;
                return (p, b);
            }
            let len = (usize::from(units) + 1) * 8;
            let mut b = fill[..len].to_vec();
            b[1] = units;
            (p, b)
        })
}

#[derive(Debug, Clone)]
struct Dgram {
    src_ll: LinkAddr,
    dst_ll: LinkAddr,
    ctx: ContextTable,
    bytes: Vec<u8>,
}

fn datagram(max_payload: usize) -> impl Strategy<Value = Dgram> {
    (link(), link(), contexts()).prop_flat_map(move |(s, d, ctx)| {
        (
            address(s),
            address(d),
            any::<u8>(),
            prop_oneof![Just(0u32), any::<u32>().prop_map(|v| v & 0xfffff)],
            prop_oneof![Just(1u8), Just(64), Just(255), any::<u8>()],
            prop::collection::vec(ext(), 0..3),
            prop_oneof![
                Just(None),
                (any::<u16>(), any::<u16>()).prop_map(Some),
                (0u16..16, 0u16..16).prop_map(|(a, b)| Some((0xf0b0 | a, 0xf0b0 | b))),
                any::<u8>().prop_map(|a| Some((0xf000 | u16::from(a), 5683)))
            ],
            prop::collection::vec(any::<u8>(), 0..max_payload),
            0u8..4,
            (address(s), address(d)),
        )
            .prop_map(
                move |(src, dst, tc, fl, hl, exts, udp, payload, shape, (isrc, idst))| {
                    let tc = if tc == 0 { 0 } else { tc };
                    let bytes = if shape == 0 {
                        // IPv6-in-IPv6.
                        let inner = build(tc, 0, 63, isrc, idst, &[], udp, 59, &payload);
                        let mut outer = build(0, fl, hl, src, dst, &exts, None, 41, &inner);
                        if exts.is_empty() {
                            outer[6] = 41;
                        }
                        outer
                    } else {
                        build(tc, fl, hl, src, dst, &exts, udp, 59, &payload)
                    };
                    Dgram {
                        src_ll: s,
                        dst_ll: d,
                        ctx: ctx.clone(),
                        bytes,
                    }
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn compress_decompress_round_trip(d in datagram(200)) {
        let mut frame = vec![0u8; 2048];
        let n = compress(&d.bytes, &d.src_ll, &d.dst_ll, &d.ctx, CompressOptions::default(), &mut frame).unwrap();
        prop_assert!(n <= d.bytes.len() + 8);
        let mut out = vec![0u8; 2048];
        let m = decompress(&frame[..n], &d.src_ll, &d.dst_ll, &d.ctx, &mut out).unwrap();
        prop_assert_eq!(&out[..m], &d.bytes[..]);
    }

    #[test]
    fn checksum_elision_round_trip(d in datagram(200)) {
        let mut frame = vec![0u8; 2048];
        let n = compress(&d.bytes, &d.src_ll, &d.dst_ll, &d.ctx, CompressOptions { elide_udp_checksum: true, ..Default::default() }, &mut frame).unwrap();
        let mut out = vec![0u8; 2048];
        let m = decompress(&frame[..n], &d.src_ll, &d.dst_ll, &d.ctx, &mut out).unwrap();
        prop_assert_eq!(&out[..m], &d.bytes[..]);
    }

    #[test]
    fn explicit_context_id_round_trips(d in datagram(200)) {
        let opts = CompressOptions { explicit_context_id: true, ..Default::default() };
        let mut frame = vec![0u8; 2048];
        let n = compress(&d.bytes, &d.src_ll, &d.dst_ll, &d.ctx, opts, &mut frame).unwrap();
        // A context in use is always named: the CID bit is set whenever SAC (with an
        // address) or DAC is.
        let b1 = frame[1];
        let (cid, sac, sam, dac) = (b1 & 0x80 != 0, b1 & 0x40 != 0, (b1 >> 4) & 3, b1 & 0x04 != 0);
        if frame[0] >> 5 == 0b011 && ((sac && sam != 0) || dac) {
            prop_assert!(cid);
        }
        let mut out = vec![0u8; 2048];
        let m = decompress(&frame[..n], &d.src_ll, &d.dst_ll, &d.ctx, &mut out).unwrap();
        prop_assert_eq!(&out[..m], &d.bytes[..]);
    }

    #[test]
    fn fragment_reassemble_round_trip(d in datagram(1100), budget in 40usize..=116, tag in any::<u16>()) {
        let f = Fragmenter::new(&d.bytes, d.src_ll, d.dst_ll, &d.ctx, CompressOptions::default(), tag, budget);
        // Headers that cannot fit one FRAG1 with this budget are refused, never mis-sent.
        prop_assume!(f != Err(sixlo::FragError::BudgetTooSmall));
        let mut f = f.unwrap();
        let count = f.frame_count();
        let mut r: Reassembler = Reassembler::default();
        let mut out = vec![0u8; 1280];
        let mut frame = [0u8; 127];
        let mut frames = 0;
        let mut done = None;
        while let Some(n) = f.next_frame(&mut frame).unwrap() {
            prop_assert!(n <= budget);
            frames += 1;
            match r.receive(&frame[..n], &d.src_ll, &d.dst_ll, &d.ctx, Instant::ZERO, &mut out).unwrap() {
                Received::Complete(m) => done = Some(m),
                Received::Pending => {}
            }
        }
        prop_assert_eq!(frames, count);
        let m = done.unwrap();
        prop_assert_eq!(&out[..m], &d.bytes[..]);
        prop_assert_eq!(r.slots_in_use(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(frame in prop::collection::vec(any::<u8>(), 0..140), src in link(), dst in link(), ctx in contexts()) {
        let mut out = [0u8; 1280];
        let _ = decompress(&frame, &src, &dst, &ctx, &mut out);
        let mut small = [0u8; 48];
        let _ = decompress(&frame, &src, &dst, &ctx, &mut small);
    }

    #[test]
    fn arbitrary_fragment_sequences_free_every_slot(
        frames in prop::collection::vec((prop::collection::vec(any::<u8>(), 0..100), 0u8..4, any::<u8>(), 0u16..3, 0u16..1300, any::<u8>()), 0..60),
        ctx in contexts(),
    ) {
        let mut r: Reassembler = Reassembler::default();
        let mut out = [0u8; 1280];
        let mut now = Instant::ZERO;
        let srcs = [LinkAddr::Short([0, 1]), LinkAddr::Short([0, 2]), LinkAddr::Extended([1; 8]), LinkAddr::Absent];
        for (body, s, kind, tag, size, off) in frames {
            // Bias toward well-formed fragment headers so the slot logic is exercised.
            let mut f = Vec::new();
            match kind % 3 {
                0 => { f.extend_from_slice(&[0xc0 | (size >> 8) as u8 & 7, size as u8]); f.extend_from_slice(&tag.to_be_bytes()); }
                1 => { f.extend_from_slice(&[0xe0 | (size >> 8) as u8 & 7, size as u8]); f.extend_from_slice(&tag.to_be_bytes()); f.push(off); }
                _ => {}
            }
            f.extend_from_slice(&body);
            let src = srcs[usize::from(s)];
            let before = r.stats().total_drops() + u64::from(r.stats().rx_fragments) + u64::from(r.stats().rx_datagrams);
            let _ = r.receive(&f, &src, &LinkAddr::Short([0, 9]), &ctx, now, &mut out);
            let after = r.stats().total_drops() + u64::from(r.stats().rx_fragments) + u64::from(r.stats().rx_datagrams);
            // Every frame is accounted for exactly once (timeouts may add to the drops).
            prop_assert!(after > before);
            prop_assert!(r.slots_in_use() <= 8);
            now += Duration::from_millis(100);
        }
        r.expire(now + Duration::from_secs(10));
        prop_assert_eq!(r.slots_in_use(), 0);
    }
}
