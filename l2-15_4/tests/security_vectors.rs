//! Link-layer security against vectors we did not write: the IEEE 802.15.4 Annex C.2 secured
//! frames (beacon, data, MAC command), the Thread key derivation test vectors, and an
//! MLE-secured message from OpenThread's certification scripts. Byte-exact, both directions.

use aes::Aes128;
use l2_15_4::frame::SecurityLevel;
use l2_15_4::security::{
    Key, KeyedCipher, SecureFrameError, ccm, derive_thread_keys, key_index, nonce, secure, unsecure,
};

// IEEE 802.15.4-2015 Annex C.2 (the 2006 edition's C.2 carries the same bytes), as
// reproduced in tock/tock `capsules/extra/src/test/aes_ccm.rs` lines 208-266 (commit
// 65608d717a1d) and, for C.2.1 and C.2.3, in openthread/openthread `tests/unit/test_aes.cpp`
// (`TestMacBeaconFrame`, `TestMacCommandFrame`).

/// Key of every Annex C vector: C0 C1 … CF.
const KEY: [u8; 16] = [
    0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF,
];
/// Source of every Annex C frame: extended address ac:de:48:00:00:00:00:01.
const SOURCE: [u8; 8] = [0xAC, 0xDE, 0x48, 0x00, 0x00, 0x00, 0x00, 0x01];

/// C.2.1.2: beacon, unsecured, security bit and aux header already set.
const BEACON_UNSECURED: [u8; 26] = [
    0x08, 0xD0, // frame control: beacon, security, 2006, src extended
    0x84, // sequence number
    0x21, 0x43, // source PAN 0x4321
    0x01, 0x00, 0x00, 0x00, 0x00, 0x48, 0xDE, 0xAC, // source ac:de:48:00:00:00:00:01
    0x02, // security control: level 2 (MIC-64), key id mode 0
    0x05, 0x00, 0x00, 0x00, // frame counter 5
    0x55, 0xCF, // superframe specification
    0x00, // GTS specification
    0x00, // pending address specification
    0x51, 0x52, 0x53, 0x54, // beacon payload
];
/// C.2.1.1: the beacon secured (MIC-64 appended).
const BEACON_SECURED: [u8; 34] = [
    0x08, 0xD0, 0x84, 0x21, 0x43, 0x01, 0x00, 0x00, 0x00, 0x00, 0x48, 0xDE, 0xAC, 0x02, 0x05, 0x00,
    0x00, 0x00, 0x55, 0xCF, 0x00, 0x00, 0x51, 0x52, 0x53, 0x54, // as above
    0x22, 0x3B, 0xC1, 0xEC, 0x84, 0x1A, 0xB5, 0x53, // MIC
];
/// C.2.1.3: the beacon's nonce.
const BEACON_NONCE: [u8; 13] = [
    0xAC, 0xDE, 0x48, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x02,
];

/// C.2.2.2: data frame, unsecured, security bit and aux header set.
const DATA_UNSECURED: [u8; 30] = [
    0x69, 0xDC, // data, security, ack request, PAN ID compression; dst/src extended; 2006
    0x84, // sequence number
    0x21, 0x43, // PAN 0x4321
    0x02, 0x00, 0x00, 0x00, 0x00, 0x48, 0xDE, 0xAC, // destination ac:de:48:00:00:00:00:02
    0x01, 0x00, 0x00, 0x00, 0x00, 0x48, 0xDE, 0xAC, // source ac:de:48:00:00:00:00:01
    0x04, // security control: level 4 (ENC, no MIC), key id mode 0
    0x05, 0x00, 0x00, 0x00, // frame counter 5
    0x61, 0x62, 0x63, 0x64, // payload "abcd"
];
/// C.2.2.1: the data frame secured (ciphertext, no MIC).
const DATA_SECURED: [u8; 30] = [
    0x69, 0xDC, 0x84, 0x21, 0x43, 0x02, 0x00, 0x00, 0x00, 0x00, 0x48, 0xDE, 0xAC, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x48, 0xDE, 0xAC, 0x04, 0x05, 0x00, 0x00, 0x00, // as above
    0xD4, 0x3E, 0x02, 0x2B, // ciphertext
];
/// C.2.2.2: the data frame's nonce.
const DATA_NONCE: [u8; 13] = [
    0xAC, 0xDE, 0x48, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x04,
];

/// C.2.3.2: MAC command frame (association request), unsecured.
const COMMAND_UNSECURED: [u8; 30] = [
    0x2B, 0xDC, // command, security, ack request; dst/src extended; 2006
    0x84, // sequence number
    0x21, 0x43, // destination PAN 0x4321
    0x02, 0x00, 0x00, 0x00, 0x00, 0x48, 0xDE, 0xAC, // destination ac:de:48:00:00:00:00:02
    0xFF, 0xFF, // source PAN 0xffff
    0x01, 0x00, 0x00, 0x00, 0x00, 0x48, 0xDE, 0xAC, // source ac:de:48:00:00:00:00:01
    0x06, // security control: level 6 (ENC-MIC-64), key id mode 0
    0x05, 0x00, 0x00, 0x00, // frame counter 5
    0x01, // command ID (association request): authenticated, not encrypted
    0xCE, // capability information: encrypted
];
/// C.2.3.1: the command frame secured.
const COMMAND_SECURED: [u8; 38] = [
    0x2B, 0xDC, 0x84, 0x21, 0x43, 0x02, 0x00, 0x00, 0x00, 0x00, 0x48, 0xDE, 0xAC, 0xFF, 0xFF, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x48, 0xDE, 0xAC, 0x06, 0x05, 0x00, 0x00, 0x00, // as above
    0x01, // command ID in the clear
    0xD8, // capability information, encrypted
    0x4F, 0xDE, 0x52, 0x90, 0x61, 0xF9, 0xC6, 0xF1, // MIC-64
];
/// C.2.3.2: the command frame's nonce.
const COMMAND_NONCE: [u8; 13] = [
    0xAC, 0xDE, 0x48, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x06,
];

fn cipher() -> Aes128 {
    Aes128::with_key(&Key::new(KEY))
}

/// The unsecured frame with `mic` zero bytes of room at its end.
fn with_room(frame: &[u8], mic: usize) -> Vec<u8> {
    let mut v = frame.to_vec();
    v.resize(frame.len() + mic, 0);
    v
}

#[test]
fn annex_c_2_1_beacon_mic64_secures_and_unsecures_byte_exact() {
    assert_eq!(nonce(&SOURCE, 5, SecurityLevel::new(2)), BEACON_NONCE);
    let mut f = with_room(&BEACON_UNSECURED, 8);
    let layout = secure(&cipher(), &mut f, None).unwrap();
    assert_eq!(f, BEACON_SECURED);
    assert_eq!(layout.payload, 18..26);
    assert_eq!(layout.nonce_source, SOURCE);

    let mut rx = BEACON_SECURED.to_vec();
    let payload = unsecure(&cipher(), &mut rx, None).unwrap();
    assert_eq!(payload, 18..26);
    assert_eq!(&rx[..26], &BEACON_UNSECURED[..]);
}

#[test]
fn annex_c_2_3_command_enc_mic64_secures_and_unsecures_byte_exact() {
    assert_eq!(nonce(&SOURCE, 5, SecurityLevel::new(6)), COMMAND_NONCE);
    let mut f = with_room(&COMMAND_UNSECURED, 8);
    let layout = secure(&cipher(), &mut f, None).unwrap();
    assert_eq!(f, COMMAND_SECURED);
    // The command ID (byte 28) is open, the capability byte private.
    assert_eq!(layout.payload, 28..30);
    assert_eq!(layout.private_start, 29);

    let mut rx = COMMAND_SECURED.to_vec();
    let payload = unsecure(&cipher(), &mut rx, None).unwrap();
    assert_eq!(&rx[payload], &[0x01, 0xCE]);
    assert_eq!(&rx[..30], &COMMAND_UNSECURED[..]);
}

/// C.2.2 uses level 4 (encryption without MIC), which the frame layer refuses; the CCM*
/// engine underneath still produces the standard's bytes (M = 0).
#[test]
fn annex_c_2_2_data_enc_is_byte_exact_in_the_engine_and_refused_on_frames() {
    assert_eq!(nonce(&SOURCE, 5, SecurityLevel::new(4)), DATA_NONCE);
    let mut m = DATA_UNSECURED[26..].to_vec();
    ccm::encrypt(
        &cipher(),
        &DATA_NONCE,
        &DATA_UNSECURED[..26],
        &mut m,
        &mut [],
    )
    .unwrap();
    assert_eq!(m, DATA_SECURED[26..]);
    ccm::decrypt(&cipher(), &DATA_NONCE, &DATA_SECURED[..26], &mut m, &[]).unwrap();
    assert_eq!(m, DATA_UNSECURED[26..]);

    let mut tx = DATA_UNSECURED.to_vec();
    assert_eq!(
        secure(&cipher(), &mut tx, None),
        Err(SecureFrameError::UnsupportedLevel(4))
    );
    assert_eq!(tx, DATA_UNSECURED);
    let mut rx = DATA_SECURED.to_vec();
    assert_eq!(
        unsecure(&cipher(), &mut rx, None),
        Err(SecureFrameError::UnsupportedLevel(4))
    );
    assert_eq!(rx, DATA_SECURED);
}

/// Thread 1.1 §7.1.4 test vectors 1-3 (network key 00112233445566778899aabbccddeeff, key
/// sequences 0, 1, 2), as reproduced in openthread/openthread
/// `tests/scripts/thread-cert/test_crypto.py` lines 198-262 (class `TestCryptoMaterialCreator`,
/// commit 346504c40473).
#[test]
fn thread_key_derivation_matches_the_thread_specification_vectors() {
    let network = Key::new([
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff,
    ]);
    let vectors: [(u32, [u8; 16], [u8; 16]); 3] = [
        (
            0,
            [
                0x54, 0x45, 0xf4, 0x15, 0x8f, 0xd7, 0x59, 0x12, 0x17, 0x58, 0x09, 0xf8, 0xb5, 0x7a,
                0x66, 0xa4,
            ],
            [
                0xde, 0x89, 0xc5, 0x3a, 0xf3, 0x82, 0xb4, 0x21, 0xe0, 0xfd, 0xe5, 0xa9, 0xba, 0xe3,
                0xbe, 0xf0,
            ],
        ),
        (
            1,
            [
                0x8f, 0x4c, 0xd1, 0xa2, 0x7d, 0x95, 0xc0, 0x7d, 0x12, 0xdb, 0x89, 0x74, 0xbd, 0x61,
                0x5c, 0x13,
            ],
            [
                0x9b, 0xe0, 0xd1, 0xaf, 0x7b, 0xd8, 0x73, 0x50, 0xde, 0xab, 0xcd, 0xd0, 0x7f, 0xeb,
                0xb9, 0xd5,
            ],
        ),
        (
            2,
            [
                0x01, 0x6e, 0x2a, 0xb8, 0xec, 0x88, 0x87, 0x96, 0x87, 0xa7, 0x2e, 0x0a, 0x35, 0x7e,
                0xcf, 0x2a,
            ],
            [
                0x56, 0x41, 0x09, 0xe9, 0xd2, 0xaa, 0xd7, 0xf7, 0x23, 0xec, 0x3b, 0x96, 0x11, 0x0e,
                0xef, 0xa3,
            ],
        ),
    ];
    for (seq, mle, mac) in vectors {
        let keys = derive_thread_keys(&network, seq);
        assert_eq!(keys.mle.bytes(), &mle, "MLE key, sequence {seq}");
        assert_eq!(keys.mac.bytes(), &mac, "MAC key, sequence {seq}");
    }
    assert_eq!(key_index(0), 1);
    // Thread's rule (OpenThread KeyManager: `(mKeySequence & 0x7f) + 1`), 1..=128.
    assert_eq!(key_index(126), 127);
    assert_eq!(key_index(127), 128);
    assert_eq!(key_index(128), 1);
    assert_eq!(key_index(131), 4);
    assert_eq!(key_index(u32::MAX), 128);
}

/// An MLE message secured at level 5 (ENC-MIC-32) under the MLE key of sequence 0 derived
/// from network key 00112233…ff: derivation and CCM* with M = 4 together. From
/// openthread/openthread `tests/scripts/thread-cert/test_crypto.py` lines 100-165
/// (`test_should_decrypt_bytearray_to_mle_message_…` and `…encrypt…`, commit 346504c40473).
#[test]
fn openthread_mle_vector_level5_mic32_byte_exact() {
    let network = Key::new([
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff,
    ]);
    let mle_key = derive_thread_keys(&network, 0).mle;
    let eui64 = [0x00, 0x35, 0xcc, 0x94, 0xd7, 0x7a, 0x07, 0xe8];
    let counter = 262_165;
    let mut a = Vec::new();
    // Source fe80::235:cc94:d77a:7e8, destination ff02::2.
    a.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0]);
    a.extend_from_slice(&[0x02, 0x35, 0xcc, 0x94, 0xd7, 0x7a, 0x07, 0xe8]);
    a.extend_from_slice(&[0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02]);
    // Aux header: level 5 | key id mode 2 << 3, counter (LE), key source 0, key index 1.
    a.push(5 | (2 << 3));
    a.extend_from_slice(&u32::to_le_bytes(counter));
    a.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x01]);
    let plain = [
        0x04, 0x00, 0x02, 0x00, 0x00, 0x09, 0x0b, 0x8f, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,
        0x00, 0x01, 0xf1, 0x0b, 0x08, 0x65, 0x5e, 0x0f, 0x83, 0x40, 0xc7, 0x83, 0x31,
    ];
    let cipher_text = [
        0x9a, 0x5a, 0x9a, 0x5b, 0xba, 0x25, 0x9c, 0x5e, 0x58, 0xa2, 0x7e, 0x75, 0x74, 0xef, 0x79,
        0xbc, 0x4f, 0xa3, 0xf9, 0xae, 0xa8, 0x34, 0xf6, 0xf2, 0x37, 0x21, 0x93, 0x60,
    ];
    let mic = [0xe1, 0xb5, 0xa2, 0x53];
    let n = nonce(&eui64, counter, SecurityLevel::new(5));
    let aes = Aes128::with_key(&mle_key);

    let mut m = plain;
    let mut out_mic = [0u8; 4];
    ccm::encrypt(&aes, &n, &a, &mut m, &mut out_mic).unwrap();
    assert_eq!(m, cipher_text);
    assert_eq!(out_mic, mic);

    ccm::decrypt(&aes, &n, &a, &mut m, &mic).unwrap();
    assert_eq!(m, plain);
}
