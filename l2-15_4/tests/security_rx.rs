//! The secured receive path end to end (key lookup, replay, MIC, rotation) and property tests:
//! every supported level round-trips and matches RustCrypto's `ccm` crate, any flipped bit is
//! refused with the frame left as received, and arbitrary or truncated bytes never panic.

use aes::Aes128;
use l2_15_4::frame::{AuxSecurityHeader, KeyId, Security, SecurityLevel};
use l2_15_4::security::{
    Key, KeySlot, KeyTable, KeyedCipher, ReplayTable, RxError, SecureFrameError, SecuredLayout,
    derive_thread_keys, key_index, nonce, receive, secure, unsecure,
};
use l2_15_4::{Address, FrameType, FrameVersion, PanId, Repr};
use proptest::prelude::*;

const NETWORK_KEY: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];
const ALICE: [u8; 8] = [0x02, 0, 0, 0, 0, 0, 0, 0x0a];
const BOB: [u8; 8] = [0x02, 0, 0, 0, 0, 0, 0, 0x0b];

#[allow(clippy::too_many_arguments)]
fn frame(
    frame_type: FrameType,
    version: FrameVersion,
    src: Address,
    level: u8,
    key_id: KeyId,
    counter: u32,
    header_ies: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let repr = Repr {
        frame_type,
        frame_version: version,
        frame_pending: false,
        ack_request: false,
        sequence_number: Some(7),
        dst_pan_id: Some(PanId(0xabcd)),
        dst_addr: Some(Address::Short(0x0001)),
        src_pan_id: None,
        src_addr: Some(src),
        security: Some(Security::Aux(AuxSecurityHeader {
            level: SecurityLevel::new(level),
            key_id,
            frame_counter: Some(counter),
            asn_in_nonce: false,
        })),
        header_ies,
        payload_ies: &[],
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit_bytes(&mut buf).unwrap();
    buf.extend_from_slice(payload);
    buf.resize(buf.len() + SecurityLevel::new(level).mic_len(), 0);
    buf
}

fn data(level: u8, key_id: KeyId, counter: u32, payload: &[u8]) -> Vec<u8> {
    frame(
        FrameType::Data,
        FrameVersion::Ieee2006,
        Address::Extended(ALICE),
        level,
        key_id,
        counter,
        &[],
        payload,
    )
}

fn table(seq: u32) -> KeyTable<Aes128> {
    KeyTable::new(Key::new(NETWORK_KEY), seq)
}

fn secured(t: &KeyTable<Aes128>, level: u8, counter: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = data(level, t.tx_key_id(), counter, payload);
    secure(t.current(), &mut f, None).unwrap();
    f
}

#[test]
fn receive_accepts_new_counters_and_refuses_replays_unknown_keys_and_forgeries() {
    let keys = table(5);
    let mut replay = ReplayTable::<8>::new();
    let f = secured(&keys, 5, 100, b"hello");

    let mut rx = f.clone();
    let got = receive(&keys, &mut replay, &mut rx, None).unwrap();
    assert_eq!(&rx[got.payload.clone()], b"hello");
    assert_eq!(got.source, ALICE);
    assert_eq!(got.frame_counter, 100);
    assert_eq!(got.key.slot, KeySlot::Current);
    assert_eq!(got.key.key_index, key_index(5));

    // The same frame again: a replay, bytes untouched.
    let mut again = f.clone();
    assert_eq!(
        receive(&keys, &mut replay, &mut again, None),
        Err(RxError::Replay(l2_15_4::security::Replayed { last: 100 }))
    );
    assert_eq!(again, f);

    // A forged frame with a higher counter fails its MIC and does not move the window.
    let mut forged = f.clone();
    forged[16..20].copy_from_slice(&1000u32.to_le_bytes()); // counter field of the aux header
    assert_eq!(
        receive(&keys, &mut replay, &mut forged, None),
        Err(RxError::MicMismatch)
    );
    assert_eq!(replay.last(&ALICE, key_index(5)), Some(100));
    let mut next = secured(&keys, 5, 101, b"again");
    assert!(receive(&keys, &mut replay, &mut next, None).is_ok());

    // A key index the table does not hold, and key identifier modes 2 and 3.
    for key_id in [
        KeyId::Index(key_index(9)),
        KeyId::Source4([0; 4], key_index(5)),
        KeyId::Source8([0; 8], key_index(5)),
    ] {
        let mut f = data(5, key_id, 200, b"x");
        secure(keys.current(), &mut f, None).unwrap();
        assert_eq!(
            receive(&keys, &mut replay, &mut f, None),
            Err(RxError::UnknownKey)
        );
    }

    // An unsecured frame is the caller's policy; level 4 is refused.
    let plain = Repr {
        security: None,
        ..Repr::parse_bytes(&f[..]).unwrap()
    };
    let mut buf = vec![0u8; plain.buffer_len()];
    plain.emit_bytes(&mut buf).unwrap();
    buf.extend_from_slice(b"plain");
    assert_eq!(
        receive(&keys, &mut replay, &mut buf, None),
        Err(RxError::NotSecured)
    );
    let mut l4 = data(4, keys.tx_key_id(), 300, b"x");
    assert_eq!(
        receive(&keys, &mut replay, &mut l4, None),
        Err(RxError::Unsupported(SecureFrameError::UnsupportedLevel(4)))
    );
    assert_eq!(replay.len(), 1);
}

#[test]
fn key_table_accepts_previous_current_and_next_during_a_rotation() {
    let old = table(127);
    let mut keys = table(127);
    let ahead = table(128);
    // Sequence 128 wraps the key index to 1.
    assert_eq!(key_index(128), 1);
    let mut replay = ReplayTable::<8>::new();

    let mut from_ahead = secured(&ahead, 6, 1, b"next");
    let got = receive(&keys, &mut replay, &mut from_ahead, None).unwrap();
    assert_eq!((got.key.slot, got.key.sequence), (KeySlot::Next, 128));

    assert!(keys.rotate());
    assert_eq!(keys.sequence(), 128);
    assert_eq!(keys.tx_key_id(), KeyId::Index(1));
    let mut from_old = secured(&old, 6, 2, b"prev");
    let got = receive(&keys, &mut replay, &mut from_old, None).unwrap();
    assert_eq!((got.key.slot, got.key.sequence), (KeySlot::Previous, 127));
    let mut current = secured(&ahead, 6, 3, b"cur");
    let got = receive(&keys, &mut replay, &mut current, None).unwrap();
    assert_eq!((got.key.slot, got.key.sequence), (KeySlot::Current, 128));

    // Two rotations later the old key is gone.
    assert!(keys.rotate());
    let mut stale = secured(&old, 6, 4, b"stale");
    assert_eq!(
        receive(&keys, &mut replay, &mut stale, None),
        Err(RxError::UnknownKey)
    );

    // Mode 0 is the current key; the first sequence has no previous key; the last cannot
    // rotate.
    let first = table(0);
    assert_eq!(
        first.lookup(&KeyId::Implicit).unwrap().0.slot,
        KeySlot::Current
    );
    assert!(first.lookup(&KeyId::Index(key_index(u32::MAX))).is_err());
    let mut last = table(u32::MAX);
    assert!(!last.rotate());
    assert_eq!(last.sequence(), u32::MAX);

    // The table's keys are Thread's MAC keys.
    let mut f = data(5, KeyId::Index(key_index(3)), 9, b"thread");
    let mac = Aes128::with_key(&derive_thread_keys(&Key::new(NETWORK_KEY), 3).mac);
    secure(&mac, &mut f, None).unwrap();
    assert!(receive(&table(3), &mut replay, &mut f, None).is_ok());
}

#[test]
fn a_short_source_needs_the_sender_eui64_for_the_nonce() {
    let keys = table(0);
    let mut f = frame(
        FrameType::Data,
        FrameVersion::Ieee2006,
        Address::Short(0x1234),
        5,
        keys.tx_key_id(),
        1,
        &[],
        b"short",
    );
    assert_eq!(
        secure(keys.current(), &mut f.clone(), None),
        Err(SecureFrameError::NoNonceSource)
    );
    secure(keys.current(), &mut f, Some(ALICE)).unwrap();
    let mut replay = ReplayTable::<2>::new();
    // The wrong EUI-64 is a different nonce: MIC failure.
    assert_eq!(
        receive(&keys, &mut replay, &mut f.clone(), Some(BOB)),
        Err(RxError::MicMismatch)
    );
    let got = receive(&keys, &mut replay, &mut f, Some(ALICE)).unwrap();
    assert_eq!(got.source, ALICE);
}

#[test]
fn a_2015_frame_with_header_ies_authenticates_them() {
    let keys = table(0);
    // One header IE (element 0x1a, 2 content bytes), then HT2 (no payload IEs follow).
    let d: u16 = 2 | (0x1a << 7);
    let mut ies = d.to_le_bytes().to_vec();
    ies.extend_from_slice(&[0xaa, 0xbb]);
    ies.extend_from_slice(&(0x7fu16 << 7).to_le_bytes());
    let f0 = frame(
        FrameType::Data,
        FrameVersion::Ieee2015,
        Address::Extended(ALICE),
        7,
        keys.tx_key_id(),
        5,
        &ies,
        b"payload",
    );
    let mut f = f0.clone();
    let layout = secure(keys.current(), &mut f, None).unwrap();
    assert_eq!(&f0[layout.payload.clone()], b"payload");
    // The IE's first content byte.
    let ie_at = layout.payload.start - ies.len() + 2;
    assert_eq!(f[ie_at], 0xaa);
    let mut tampered = f.clone();
    tampered[ie_at] ^= 1;
    assert_eq!(
        unsecure(keys.current(), &mut tampered, None),
        Err(SecureFrameError::MicMismatch)
    );
    let range = unsecure(keys.current(), &mut f, None).unwrap();
    assert_eq!(&f[range], b"payload");
}

fn level() -> impl Strategy<Value = u8> {
    prop_oneof![Just(1u8), Just(2), Just(3), Just(5), Just(6), Just(7)]
}

/// A frame to secure: type, version, source, level, counter, payload.
fn plaintext_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just(FrameType::Data),
            Just(FrameType::MacCommand),
            Just(FrameType::Beacon)
        ],
        prop_oneof![Just(FrameVersion::Ieee2006), Just(FrameVersion::Ieee2015)],
        prop_oneof![
            any::<[u8; 8]>().prop_map(Address::Extended),
            any::<u16>().prop_map(Address::Short)
        ],
        level(),
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..60),
    )
        .prop_map(|(ty, version, src, level, counter, mut payload)| {
            match ty {
                // Superframe specification, no GTS, no pending addresses, beacon payload.
                FrameType::Beacon => {
                    let mut p = vec![0xff, 0xcf, 0, 0];
                    p.append(&mut payload);
                    payload = p;
                }
                FrameType::MacCommand => payload.insert(0, 0x04),
                _ => {}
            }
            frame(
                ty,
                version,
                src,
                level,
                KeyId::Index(1),
                counter,
                &[],
                &payload,
            )
        })
}

/// RustCrypto's CCM over the same split: (m-data ciphertext or plaintext, MIC).
fn reference(key: &[u8; 16], n: &[u8; 13], a: &[u8], m: &[u8], mic_len: usize) -> Vec<u8> {
    use ccm::aead::{AeadInPlace, KeyInit};
    use ccm::consts::{U4, U8, U13, U16};
    let mut buf = m.to_vec();
    let tag: Vec<u8> = match mic_len {
        4 => ccm::Ccm::<Aes128, U4, U13>::new(key.into())
            .encrypt_in_place_detached(n.into(), a, &mut buf)
            .unwrap()
            .to_vec(),
        8 => ccm::Ccm::<Aes128, U8, U13>::new(key.into())
            .encrypt_in_place_detached(n.into(), a, &mut buf)
            .unwrap()
            .to_vec(),
        _ => ccm::Ccm::<Aes128, U16, U13>::new(key.into())
            .encrypt_in_place_detached(n.into(), a, &mut buf)
            .unwrap()
            .to_vec(),
    };
    buf.extend_from_slice(&tag);
    buf
}

proptest! {
    #[test]
    fn every_level_round_trips_and_matches_rustcrypto_ccm(
        f0 in plaintext_frame(), key in any::<[u8; 16]>(), eui in any::<[u8; 8]>()
    ) {
        let aes = Aes128::with_key(&Key::new(key));
        let mut f = f0.clone();
        let layout = secure(&aes, &mut f, Some(eui)).unwrap();
        let mic_len = layout.aux.level.mic_len();
        // Same bytes as RustCrypto's CCM given the standard's a-data / m-data split.
        let m_start = if layout.aux.level.encrypted() { layout.private_start } else { layout.payload.end };
        let n = nonce(&layout.nonce_source, layout.frame_counter, layout.aux.level);
        let want = reference(&key, &n, &f0[..m_start], &f0[m_start..layout.payload.end], mic_len);
        prop_assert_eq!(&f[m_start..], &want[..]);
        prop_assert_eq!(&f[..m_start], &f0[..m_start]);

        let range = unsecure(&aes, &mut f, Some(eui)).unwrap();
        prop_assert_eq!(range, layout.payload.clone());
        prop_assert_eq!(&f[..layout.payload.end], &f0[..layout.payload.end]);
    }

    #[test]
    fn any_flipped_bit_is_refused_and_leaves_the_frame_as_received(
        f0 in plaintext_frame(), bit in any::<prop::sample::Index>()
    ) {
        let aes = Aes128::with_key(&Key::new(NETWORK_KEY));
        let mut f = f0.clone();
        secure(&aes, &mut f, Some(BOB)).unwrap();
        let i = bit.index(f.len() * 8);
        f[i / 8] ^= 1 << (i % 8);
        let received = f.clone();
        prop_assert!(unsecure(&aes, &mut f, Some(BOB)).is_err());
        prop_assert_eq!(&f, &received);
    }

    #[test]
    fn truncated_frames_are_errors(f0 in plaintext_frame(), cut in any::<prop::sample::Index>()) {
        let aes = Aes128::with_key(&Key::new(NETWORK_KEY));
        let mut f = f0.clone();
        secure(&aes, &mut f, Some(BOB)).unwrap();
        let n = cut.index(f.len());
        let mut short = f[..n].to_vec();
        prop_assert!(unsecure(&aes, &mut short, Some(BOB)).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_receive_path(
        bytes in proptest::collection::vec(any::<u8>(), 0..140),
        eui in proptest::option::of(any::<[u8; 8]>()),
    ) {
        let keys = table(1);
        let mut replay = ReplayTable::<4>::new();
        let mut a = bytes.clone();
        let r = receive(&keys, &mut replay, &mut a, eui);
        prop_assert!(r.is_err() || replay.len() == 1);
        if r.is_err() {
            prop_assert_eq!(&a, &bytes);
        }
        let mut b = bytes.clone();
        let _ = unsecure(keys.current(), &mut b, eui);
        let _ = SecuredLayout::parse(&bytes, eui);
        // Securing arbitrary bytes either fails or yields a frame that unsecures.
        let mut c = bytes.clone();
        if secure(keys.current(), &mut c, eui).is_ok() {
            prop_assert!(unsecure(keys.current(), &mut c, eui).is_ok());
        }
    }
}
