//! Fuzz the management protocol's receive path, what the CLI and the device run on every byte
//! from the serial line:
//! - arbitrary bytes, in arbitrary chunks, through the COBS + CRC-32 frame decoder: the frames
//!   must not depend on the chunking, every discarded frame must be counted, and the device's
//!   small decoder (`MAX_REQUEST_FRAME`) must deliver the same frames or refuse them as too
//!   long;
//! - every frame payload (and the raw input as a payload, so the message decoder is reached
//!   without passing the CRC gate) through `mgmt::decode`;
//! - every message that decodes, parse → emit → parse: the re-encoded frame decodes to the same
//!   header and message, is never longer than what was read, and encodes to the same bytes
//!   again (the encoding is canonical).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mgmt::{
    EncodeError, FrameDecoder, FrameError, Header, MAX_FRAME, MAX_PAYLOAD, MAX_REQUEST_FRAME,
    Message,
};

type Frames = Vec<Result<Vec<u8>, FrameError>>;

/// Feeds the chunks to a fresh decoder; returns every frame it reported and checks its
/// counters against them.
fn frames<'a, const N: usize>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Frames {
    let mut d = FrameDecoder::<N>::new();
    let mut got = Vec::new();
    for chunk in chunks {
        let mut rest = chunk;
        while !rest.is_empty() {
            let (n, f) = d.feed(rest);
            assert!(
                n >= 1 && n <= rest.len(),
                "feed consumed {n} of {}",
                rest.len()
            );
            if let Some(f) = f {
                if let Ok(p) = f {
                    assert!(p.len() + 4 <= N, "payload larger than the frame buffer");
                }
                got.push(f.map(<[u8]>::to_vec));
            }
            rest = &rest[n..];
        }
    }
    let s = d.stats();
    let ok = got.iter().filter(|f| f.is_ok()).count() as u64;
    assert_eq!(s.frames, ok, "delivered frames not counted");
    assert_eq!(
        s.discarded(),
        got.len() as u64 - ok,
        "discarded frames not counted"
    );
    got
}

/// Splits `stream` into chunks of 1..=`max` bytes chosen by a xorshift generator.
fn chunks(stream: &[u8], mut seed: u32, max: u32) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (1 + seed % max) as usize;
        let (a, b) = rest.split_at(n.min(rest.len()));
        out.push(a);
        rest = b;
    }
    out
}

fn emit(h: Header, m: &Message<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    match m {
        Message::Request(b) => mgmt::encode(h, b, out),
        Message::Response(b) => mgmt::encode(h, b, out),
        Message::Event(b) => mgmt::encode(h, b, out),
        Message::Log(b) => mgmt::encode(h, b, out),
        Message::Capture(b) => mgmt::encode(h, b, out),
    }
}

/// A payload the decoder delivered goes back through `encode_frame` and out again unchanged.
fn frame_round_trip(payload: &[u8]) {
    let mut out = [0u8; MAX_FRAME];
    match mgmt::encode_frame(payload, &mut out) {
        Ok(n) => {
            assert!(payload.len() <= MAX_PAYLOAD);
            assert_eq!(frames::<MAX_FRAME>([&out[..n]]), [Ok(payload.to_vec())]);
        }
        Err(_) => assert!(
            payload.len() > MAX_PAYLOAD,
            "a payload within MAX_PAYLOAD refused"
        ),
    }
}

/// parse → emit → parse for one payload.
fn message_round_trip(payload: &[u8]) {
    let Ok((h, msg)) = mgmt::decode(payload) else {
        return;
    };
    assert_eq!(
        h.to_bytes()[..],
        payload[..4],
        "header read back differently"
    );
    let Ok(m) = msg else {
        return;
    };
    let mut out = [0u8; MAX_FRAME];
    let n = match emit(h, &m, &mut out) {
        Ok(n) => n,
        Err(e) => {
            // Only a payload longer than the encoder's limit (a receiver's buffer holds a few
            // bytes more) may fail to re-encode: the canonical encoding is never longer.
            assert!(
                payload.len() > MAX_PAYLOAD,
                "decoded message does not re-encode: {e}"
            );
            return;
        }
    };
    let frame = &out[..n];
    assert_eq!(frame.last(), Some(&0), "frame without its delimiter");
    assert!(!frame[..n - 1].contains(&0), "a zero inside a COBS frame");
    let again = frames::<MAX_FRAME>([frame]);
    let [Ok(p2)] = &again[..] else {
        panic!("re-encoded frame did not decode: {again:?}");
    };
    assert!(
        p2.len() <= payload.len(),
        "re-encoding is longer than the original"
    );
    let (h2, m2) = mgmt::decode(p2).expect("re-encoded header decodes");
    assert_eq!(h2, h);
    assert_eq!(
        m2.as_ref(),
        Ok(&m),
        "parse → emit → parse changed the message"
    );
    let mut out2 = [0u8; MAX_FRAME];
    let n2 = emit(h2, &m2.expect("checked above"), &mut out2).expect("re-encodes");
    assert_eq!(&out2[..n2], frame, "encoding is not canonical");
}

fuzz_target!(|data: &[u8]| {
    // The first bytes choose the chunking; the rest is the byte stream.
    let Some((&[a, b], stream)) = data.split_first_chunk::<2>() else {
        return;
    };
    let seed = u32::from_le_bytes([a, b, 0x5a, 0xa5]);
    let max = if a & 0x80 != 0 { 4 } else { 700 };
    let whole = frames::<MAX_FRAME>([stream]);
    let chunked = frames::<MAX_FRAME>(chunks(stream, seed, max));
    assert_eq!(whole, chunked, "frames depend on the chunking");
    let device = frames::<MAX_REQUEST_FRAME>(chunks(stream, seed.rotate_left(7), max));
    assert_eq!(
        device.len(),
        whole.len(),
        "decoders split the stream differently"
    );
    for (d, w) in device.iter().zip(&whole) {
        assert!(
            d == w || *d == Err(FrameError::TooLong),
            "device decoder: {d:?}, host decoder: {w:?}"
        );
    }
    for p in whole.iter().flatten() {
        frame_round_trip(p);
        message_round_trip(p);
    }
    message_round_trip(stream);
});
