//! Property tests of the frame codec: parse ∘ emit is the identity on every legal `Repr`, and
//! arbitrary bytes never make the parser (or the re-emitter) panic.

use l2_15_4::frame::{AuxSecurityHeader, KeyId, Security, SecurityLevel, fcs};
use l2_15_4::{Address, Frame, FrameType, FrameVersion, PanId, Repr};
use proptest::prelude::*;

fn addr() -> impl Strategy<Value = Option<Address>> {
    prop_oneof![
        Just(None),
        any::<u16>().prop_map(|a| Some(Address::Short(a))),
        any::<[u8; 8]>().prop_map(|a| Some(Address::Extended(a))),
    ]
}

fn key_id() -> impl Strategy<Value = KeyId> {
    prop_oneof![
        Just(KeyId::Implicit),
        any::<u8>().prop_map(KeyId::Index),
        (any::<[u8; 4]>(), any::<u8>()).prop_map(|(s, i)| KeyId::Source4(s, i)),
        (any::<[u8; 8]>(), any::<u8>()).prop_map(|(s, i)| KeyId::Source8(s, i)),
    ]
}

/// Header IE bytes: some ordinary IEs, then maybe HT1 (`1`) or HT2 (`2`).
fn header_ie_bytes(ies: &[(u8, Vec<u8>)], term: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |id: u8, content: &[u8]| {
        let d = (content.len() as u16) | (u16::from(id) << 7);
        out.extend_from_slice(&d.to_le_bytes());
        out.extend_from_slice(content);
    };
    for (id, c) in ies {
        push(*id, c);
    }
    match term {
        1 => push(0x7e, &[]),
        2 => push(0x7f, &[]),
        _ => {}
    }
    out
}

fn payload_ie_bytes(ies: &[(u8, Vec<u8>)], terminate: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |g: u8, content: &[u8]| {
        let d = 0x8000 | (content.len() as u16) | (u16::from(g) << 11);
        out.extend_from_slice(&d.to_le_bytes());
        out.extend_from_slice(content);
    };
    for (g, c) in ies {
        push(*g, c);
    }
    if terminate {
        push(0x0f, &[]);
    }
    out
}

#[derive(Debug, Clone)]
struct Case {
    ftype: u8,
    version: u8,
    pending: bool,
    ar: bool,
    seq: Option<u8>,
    dst: Option<Address>,
    src: Option<Address>,
    dst_pan: Option<u16>,
    src_pan: Option<u16>,
    sec: Option<(u8, KeyId, Option<u32>, bool)>,
    hies: Vec<(u8, Vec<u8>)>,
    hterm: u8,
    pies: Vec<(u8, Vec<u8>)>,
    pterm: bool,
    payload: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    let ie = |max_id: u8| (0..max_id, proptest::collection::vec(any::<u8>(), 0..6));
    (
        (
            0u8..4,
            0u8..3,
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(any::<u8>()),
        ),
        (
            addr(),
            addr(),
            proptest::option::of(any::<u16>()),
            proptest::option::of(any::<u16>()),
        ),
        proptest::option::of((
            0u8..8,
            key_id(),
            proptest::option::of(any::<u32>()),
            any::<bool>(),
        )),
        (
            proptest::collection::vec(ie(0x7e), 0..3),
            0u8..3,
            proptest::collection::vec(ie(0x0f), 0..3),
            any::<bool>(),
        ),
        proptest::collection::vec(any::<u8>(), 0..20),
    )
        .prop_map(
            |(
                (ftype, version, pending, ar, seq),
                (dst, src, dst_pan, src_pan),
                sec,
                (hies, hterm, pies, pterm),
                payload,
            )| Case {
                ftype,
                version,
                pending,
                ar,
                seq,
                dst,
                src,
                dst_pan,
                src_pan,
                sec,
                hies,
                hterm,
                pies,
                pterm,
                payload,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// parse(emit(repr)) == repr for every Repr that emit accepts; emit accepts all the
    /// combinations the standard allows (checked by the count of accepted cases elsewhere).
    #[test]
    fn parse_emit_roundtrip(c in case()) {
        let version = FrameVersion::from(c.version);
        let v2015 = version == FrameVersion::Ieee2015;
        let hbytes = if v2015 { header_ie_bytes(&c.hies, c.hterm) } else { Vec::new() };
        let secured = c.sec.is_some();
        let pbytes = if v2015 && c.hterm == 1 && !secured { payload_ie_bytes(&c.pies, c.pterm) } else { Vec::new() };
        let security = c.sec.map(|(level, key_id, fc, asn)| {
            if version == FrameVersion::Ieee2003 {
                Security::Legacy2003
            } else {
                Security::Aux(AuxSecurityHeader {
                    level: SecurityLevel::new(level),
                    key_id,
                    frame_counter: if v2015 { fc } else { Some(fc.unwrap_or(0)) },
                    asn_in_nonce: v2015 && asn,
                })
            }
        });
        let repr = Repr {
            frame_type: FrameType::from(c.ftype),
            frame_version: version,
            frame_pending: c.pending,
            ack_request: c.ar,
            sequence_number: if v2015 { c.seq } else { Some(c.seq.unwrap_or(7)) },
            dst_pan_id: c.dst_pan.map(PanId),
            dst_addr: c.dst,
            src_pan_id: c.src_pan.map(PanId),
            src_addr: c.src,
            security,
            header_ies: &hbytes,
            payload_ies: &pbytes,
        };
        let mut buf = [0u8; 200];
        let Ok(n) = repr.emit_bytes(&mut buf) else {
            // Only PAN ID combinations outside the tables (or an oversize header) are refused.
            let mut fixed = repr;
            fixed.dst_pan_id = fixed.dst_addr.map(|_| PanId(1));
            fixed.src_pan_id = match (fixed.dst_addr, fixed.src_addr) {
                (None, Some(_)) => Some(PanId(2)),
                _ => None,
            };
            prop_assert!(fixed.emit_bytes(&mut buf).is_ok() || fixed.buffer_len() > 125, "{fixed:?}");
            return Ok(());
        };
        prop_assert_eq!(n, repr.buffer_len());
        // A payload may follow only where the IE list says where it starts.
        let payload_ok = hbytes.is_empty() || c.hterm == 2 || (c.hterm == 1 && (secured || c.pterm));
        let mut total = n;
        if payload_ok || repr.mic_len() > 0 {
            let extra = if payload_ok { c.payload.len().max(repr.mic_len()) } else { repr.mic_len() };
            if n + extra > 125 {
                return Ok(());
            }
            for (i, b) in buf[n..n + extra].iter_mut().enumerate() {
                *b = c.payload.get(i).copied().unwrap_or(0x5a);
            }
            total = n + extra;
        }
        let frame = Frame::new_checked(&buf[..total]).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let back = Repr::parse(&frame).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(back, repr);
        prop_assert_eq!(frame.header_len(), Some(n));
    }

    /// Arbitrary bytes: no panic; whatever parses re-emits to a header that parses the same.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..140)) {
        let _ = fcs::verify(&bytes);
        let f = Frame::new_unchecked(&bytes[..]);
        let _ = (f.sequence_number(), f.dst_addr(), f.src_addr(), f.payload(), f.security(), f.header_ies());
        if let Ok(repr) = Repr::parse_bytes(&bytes) {
            let mut buf = [0u8; 127];
            let n = repr.emit_bytes(&mut buf).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            let view = Frame::new_unchecked(&bytes[..]);
            let payload = view.payload().unwrap_or(&[]);
            let end = n + payload.len();
            prop_assume!(end <= 125);
            buf[n..end].copy_from_slice(payload);
            let again = Repr::parse_bytes(&buf[..end]).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(again, repr);
        }
    }

    /// Frames that follow a valid frame control but have random bodies.
    #[test]
    fn random_bodies_never_panic(fc in any::<u16>(), body in proptest::collection::vec(any::<u8>(), 0..40)) {
        let mut bytes = fc.to_le_bytes().to_vec();
        bytes.extend_from_slice(&body);
        let _ = Repr::parse_bytes(&bytes);
    }
}
