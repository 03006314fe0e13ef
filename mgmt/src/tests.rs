extern crate std;

use std::collections::BTreeSet;
use std::vec;
use std::vec::Vec;

use super::*;

fn frame_of<T: Serialize>(h: Header, body: &T) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME];
    let n = encode(h, body, &mut out).unwrap();
    out[..n].to_vec()
}

fn payload_of(frame: &[u8]) -> Vec<u8> {
    let mut d = FrameDecoder::<MAX_FRAME>::new();
    let (n, r) = d.feed(frame);
    assert_eq!(n, frame.len());
    r.unwrap().unwrap().to_vec()
}

#[test]
fn every_sample_round_trips_through_a_frame() {
    for (i, r) in samples::requests().into_iter().enumerate() {
        let h = Header::new(Kind::Request, i as u16 + 1);
        let p = payload_of(&frame_of(h, &r));
        let (h2, m) = decode(&p).unwrap();
        assert_eq!(h2, h);
        assert_eq!(m.unwrap(), Message::Request(r));
    }
    for r in samples::responses() {
        let h = Header::new(Kind::Response, 7);
        let p = payload_of(&frame_of(h, &r));
        assert_eq!(decode(&p).unwrap().1.unwrap(), Message::Response(r));
    }
    for e in samples::events() {
        let p = payload_of(&frame_of(Header::new(Kind::Event, 0), &e));
        assert_eq!(decode(&p).unwrap().1.unwrap(), Message::Event(e));
    }
    let l = samples::log();
    let p = payload_of(&frame_of(Header::new(Kind::Log, 0), &l));
    assert_eq!(decode(&p).unwrap().1.unwrap(), Message::Log(l));
    let c = samples::capture();
    let p = payload_of(&frame_of(Header::new(Kind::Capture, 0), &c));
    assert_eq!(decode(&p).unwrap().1.unwrap(), Message::Capture(c));
}

/// The first body byte is the variant index (postcard varint, one byte below 128): every
/// index from 0 to the highest must have a sample, so a new variant cannot be forgotten.
fn variant_indices<T: Serialize>(items: &[T]) -> BTreeSet<u8> {
    items
        .iter()
        .map(|r| {
            let mut b = [0u8; 1024];
            postcard::to_slice(r, &mut b).unwrap()[0]
        })
        .collect()
}

#[test]
fn samples_cover_every_variant() {
    let r = variant_indices(&samples::requests());
    assert_eq!(r, (0..REQUEST_VARIANTS as u8).collect(), "requests");
    let r = variant_indices(&samples::responses());
    assert_eq!(r, (0..=17).collect(), "responses");
    let e: Vec<EventKind<'_>> = samples::events().into_iter().map(|e| e.kind).collect();
    assert_eq!(variant_indices(&e), (0..=26).collect(), "events");
    let p = [
        PingOutcome::Reply {
            rtt_us: 1,
            hop_limit: 1,
            size: 1,
        },
        PingOutcome::Timeout,
        PingOutcome::Error {
            icmp_type: 1,
            code: 0,
            from: [0; 16],
        },
        PingOutcome::NotSent,
    ];
    assert_eq!(variant_indices(&p), (0..=3).collect());
}

#[test]
fn frozen_hello_and_error_bytes() {
    // These bytes must never change (docs/protocol.md §Versioning).
    let hello = Request::Hello {
        version: 1,
        schema: 0x0102_0304,
        client: "ab",
    };
    let mut b = [0u8; 64];
    let n = postcard::to_slice(&hello, &mut b).unwrap().len();
    // variant 0 | version 1 | schema varint(0x01020304) = 84 86 88 08 | len 2 | "ab"
    assert_eq!(
        &b[..n],
        &[0x00, 0x01, 0x84, 0x86, 0x88, 0x08, 0x02, b'a', b'b']
    );
    let hello = Response::Hello {
        version: 2,
        schema: 5,
        firmware: "f",
        board: "b",
    };
    let n = postcard::to_slice(&hello, &mut b).unwrap().len();
    assert_eq!(&b[..n], &[0x00, 0x02, 0x05, 0x01, b'f', 0x01, b'b']);
    let err = Response::Error {
        code: ErrorCode::UnknownRequest,
        message: "x",
    };
    let n = postcard::to_slice(&err, &mut b).unwrap().len();
    assert_eq!(&b[..n], &[0x01, 0x00, 0x01, b'x']);
    assert_eq!(
        Header::new(Kind::Response, 0x1234).to_bytes(),
        [PROTOCOL_VERSION, 1, 0x34, 0x12]
    );
}

#[test]
fn other_versions_decode_only_frozen_messages() {
    let mut h = Header::new(Kind::Request, 9);
    h.version = 7;
    let p = payload_of(&frame_of(h, &Request::Info));
    let (h2, m) = decode(&p).unwrap();
    assert_eq!(h2.id, 9);
    assert_eq!(m, Err(DecodeError::Version(7)));
    let p = payload_of(&frame_of(
        h,
        &Request::Hello {
            version: 7,
            schema: 1,
            client: "future",
        },
    ));
    assert!(matches!(
        decode(&p).unwrap().1,
        Ok(Message::Request(Request::Hello { version: 7, .. }))
    ));
    // An undecodable body of another version is a version error, not garbage.
    let mut p = std::vec![7, 0, 1, 0];
    p.extend_from_slice(&[200, 1, 2, 3]);
    assert_eq!(decode(&p).unwrap().1, Err(DecodeError::Version(7)));
}

#[test]
fn unknown_variant_keeps_the_id() {
    let p = [PROTOCOL_VERSION, 0, 0x34, 0x12, 99];
    let (h, m) = decode(&p).unwrap();
    assert_eq!(h.id, 0x1234);
    assert_eq!(m, Err(DecodeError::Body));
    // Trailing bytes are an error too.
    let p = [PROTOCOL_VERSION, 0, 1, 0, 1, 0];
    assert_eq!(decode(&p).unwrap().1, Err(DecodeError::Body));
    assert_eq!(
        decode(&[1, 9, 0, 0]).map(|_| ()),
        Err(DecodeError::UnknownKind(9))
    );
    assert_eq!(decode(&[1, 0, 0]).map(|_| ()), Err(DecodeError::TooShort));
}

#[test]
fn fingerprint_constant_is_current() {
    assert_eq!(
        SCHEMA_FINGERPRINT,
        schema_fingerprint(),
        "the schema changed: update SCHEMA_FINGERPRINT to {:#010x} (and PROTOCOL_VERSION if \
         old peers cannot read the new encoding)",
        schema_fingerprint()
    );
}

/// `decode_request` agrees with `decode` on requests, version rules included, and refuses
/// every other kind while keeping the header.
#[test]
fn decode_request_matches_decode() {
    for r in samples::requests() {
        for version in [PROTOCOL_VERSION, PROTOCOL_VERSION + 1] {
            let h = Header {
                version,
                kind: Kind::Request,
                id: 9,
            };
            let p = payload_of(&frame_of(h, &r));
            let (h1, m1) = decode(&p).unwrap();
            let (h2, m2) = decode_request(&p).unwrap();
            assert_eq!(h1, h2);
            match (m1, m2) {
                (Ok(Message::Request(a)), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a, b),
                other => panic!("{other:?}"),
            }
        }
    }
    let h = Header::new(Kind::Response, 5);
    let p = payload_of(&frame_of(h, &Response::Ok));
    let (h2, m2) = decode_request(&p).unwrap();
    assert_eq!((h2, m2), (h, Err(DecodeError::Body)));
}

#[test]
fn fingerprint_is_stable_and_sensitive() {
    assert_eq!(schema_fingerprint(), schema_fingerprint());
    assert_ne!(schema_fingerprint(), 0);
}

#[test]
fn largest_capture_fits() {
    let data = [0x5au8; 1514];
    let c = Capture {
        data: &data,
        ..samples::capture()
    };
    let f = frame_of(Header::new(Kind::Capture, 0), &c);
    assert!(f.len() <= MAX_FRAME);
    let p = payload_of(&f);
    assert_eq!(decode(&p).unwrap().1.unwrap(), Message::Capture(c));
}

#[test]
fn full_pages_fit() {
    let mut values = heapless::Vec::new();
    for _ in 0..VALUES_PER_PAGE {
        values.push(u64::MAX).unwrap();
    }
    let _ = frame_of(
        Header::new(Kind::Response, 1),
        &Response::Stats {
            total: u16::MAX,
            start: u16::MAX,
            list: u32::MAX,
            values,
        },
    );
    let n = samples::responses()[8].clone();
    let Response::Nodes { nodes, .. } = n else {
        panic!()
    };
    let mut full = heapless::Vec::<NodeInfo, NODES_PER_PAGE>::new();
    while full.push(nodes[0]).is_ok() {}
    let _ = frame_of(
        Header::new(Kind::Response, 1),
        &Response::Nodes {
            total: 256,
            start: 0,
            nodes: full,
        },
    );
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000)) {
        let mut d = FrameDecoder::<MAX_FRAME>::new();
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let (n, r) = d.feed(rest);
            proptest::prop_assert!(n >= 1 && n <= rest.len());
            if let Some(Ok(p)) = r {
                let _ = decode(p);
            }
            rest = &rest[n..];
        }
        let _ = decode(&bytes);
    }
}

/// COBS as Cheshire and Baker describe it (blocks of up to 254 non-zero bytes, each led by
/// its length + 1), written here independently of the `cobs` crate the encoder uses.
fn reference_cobs(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    let mut code_at = 0;
    let mut code = 1u8;
    // After a full block (254 non-zero bytes) the next block opens only when a byte follows:
    // data that ends with a full block gets no trailing empty block (0x01), as the `cobs`
    // crate encodes it. Cheshire and Baker's encoder writes that 0x01; decoders take both
    // (`frame_decoder_takes_both_endings_of_a_full_last_block`).
    let mut full = false;
    for &b in data {
        if full {
            code_at = out.len();
            out.push(0);
            code = 1;
            full = false;
        }
        if b == 0 {
            out[code_at] = code;
            code_at = out.len();
            out.push(0);
            code = 1;
        } else {
            out.push(b);
            code += 1;
            if code == 0xFF {
                out[code_at] = code;
                full = true;
            }
        }
    }
    if !full {
        out[code_at] = code;
    }
    out
}

#[test]
fn frame_decoder_takes_both_endings_of_a_full_last_block() {
    // A payload whose COBS encoding ends with a full 254-byte block: find one by trying
    // lengths (the CRC's bytes are part of the encoding).
    let mut explicit_forms = 0;
    for (len, seed) in (240..260).flat_map(|l| (1..4u8).map(move |s| (l, s))) {
        let payload: Vec<u8> = (0..len)
            .map(|i| ((i * usize::from(seed)) % 250 + 1) as u8)
            .collect();
        let mut out = vec![0u8; MAX_FRAME];
        let n = encode_frame(&payload, &mut out).unwrap();
        let ours = &out[..n];
        let mut with_crc = payload.clone();
        with_crc.extend_from_slice(&frame::CRC32.checksum(&payload).to_le_bytes());
        let mut want = reference_cobs(&with_crc);
        want.push(0);
        assert_eq!(ours, &want[..], "len {len}");
        // The other form: an explicit empty block before the delimiter, where it applies.
        let mut forms = vec![ours.to_vec()];
        if with_crc.len().is_multiple_of(254) && with_crc.iter().all(|&b| b != 0) {
            let mut explicit = ours[..n - 1].to_vec();
            explicit.extend_from_slice(&[0x01, 0x00]);
            forms.push(explicit);
            explicit_forms += 1;
        }
        for f in forms {
            let mut dec = FrameDecoder::<MAX_FRAME>::default();
            let (_, got) = dec.feed(&f);
            assert_eq!(got.unwrap().unwrap(), &payload[..], "len {len}");
        }
    }
    assert!(explicit_forms > 0, "no payload ended with a full block");
}

/// The frame as the protocol spec builds it: header ‖ postcard body, CRC-32 appended, COBS,
/// delimiter; every step a separate copy.
fn reference_frame<T: Serialize>(h: Header, body: &T) -> Vec<u8> {
    let mut payload = h.to_bytes().to_vec();
    let mut buf = vec![0u8; 4096];
    payload.extend_from_slice(postcard::to_slice(body, &mut buf).unwrap());
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    let mut f = reference_cobs(&payload);
    f.push(0);
    f
}

proptest::proptest! {
    /// The streaming encoder (no payload buffer) writes exactly the bytes of the copy-per-step
    /// construction, for payloads across the 254-byte COBS block boundaries up to the maximum;
    /// an output one byte short fails cleanly, and a body over the maximum is `TooLarge`.
    #[test]
    fn streaming_encoder_matches_the_reference(
        data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1620),
        zeros in proptest::prelude::any::<bool>(),
        id in proptest::prelude::any::<u16>(),
    ) {
        let data: Vec<u8> = if zeros { data.iter().map(|b| b % 3).collect() } else { data };
        let rec = Capture {
            ts_us: 1,
            iface: CaptureIface::Eth0,
            tx: false,
            channel: 0,
            rssi: 0,
            lqi: 0,
            orig_len: 0,
            dropped: [0, 0],
            data: &data,
        };
        let h = Header::new(Kind::Capture, id);
        let mut out = vec![0u8; MAX_FRAME + 64];
        let want = reference_frame(h, &rec);
        match encode(h, &rec, &mut out) {
            Ok(n) => {
                proptest::prop_assert_eq!(&out[..n], &want[..]);
                proptest::prop_assert!(n <= MAX_FRAME);
                let mut short = vec![0u8; n - 1];
                proptest::prop_assert_eq!(encode(h, &rec, &mut short), Err(EncodeError::BufferTooSmall));
            }
            Err(e) => {
                proptest::prop_assert_eq!(e, EncodeError::TooLarge);
                let mut buf = vec![0u8; 4096];
                let body = postcard::to_slice(&rec, &mut buf).unwrap();
                proptest::prop_assert!(HEADER_LEN + body.len() > MAX_PAYLOAD);
            }
        }
    }
}
