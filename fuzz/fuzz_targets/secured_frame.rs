//! Fuzz the secured-frame receive path: auxiliary security header, key lookup (modes 0-3,
//! rotation), replay check, CCM* unsecure, replay update. Nothing may panic; a refused frame is
//! left as received and leaves the replay table alone; a frame secured under the key its key
//! identifier names must come back out (and then be a replay).
//!
//! The same bytes also go through `LinkSecurity::receive` (the interface's path: policy,
//! counters, rotation on a next-key frame): every call counts exactly one outcome, and a
//! refused frame is left as received.
//!
//! Input: one control byte (bits 0-1: key sequence 0/1/127/128 of the table, bit 2: an
//! extended nonce source is supplied for short sources, bit 3: secure the rest first, bit 4:
//! the policy accepts unsecured data frames), then the MPDU (no FCS).
#![no_main]

use aes::Aes128;
use l2_15_4::security::{
    FrameCounter, Inbound, Key, KeyTable, LinkSecurity, ReplayTable, RxError, SecuredLayout,
    SecurityPolicy, SecurityStats, receive, secure,
};
use libfuzzer_sys::fuzz_target;

const NETWORK_KEY: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, mpdu)) = data.split_first() else {
        return;
    };
    let sequence = [0u32, 1, 127, 128][usize::from(ctl & 3)];
    let keys = KeyTable::<Aes128>::new(Key::new(NETWORK_KEY), sequence);
    let nonce_source = (ctl & 4 != 0).then_some([0x02, 0, 0, 0, 0, 0, 0, 0x42]);
    let mut replay = ReplayTable::<4>::new();
    replay.accept(&[0x02, 0, 0, 0, 0, 0, 0, 0x42], 1, 1000);

    let _ = SecuredLayout::parse(mpdu, nonce_source);
    link_receive(ctl, sequence, mpdu, nonce_source);

    let mut frame = mpdu.to_vec();
    if ctl & 8 != 0 {
        // Secure with the key the frame's key identifier names, as a peer would have.
        let Ok(layout) = SecuredLayout::parse(&frame, nonce_source) else {
            return;
        };
        let Ok((_, cipher)) = keys.lookup(&layout.aux.key_id) else {
            return;
        };
        if secure(cipher, &mut frame, nonce_source).is_err() {
            return;
        }
        let sent = frame.clone();
        match receive(&keys, &mut replay, &mut frame, nonce_source) {
            Ok(got) => {
                assert!(got.payload.end <= frame.len());
                assert_eq!(&frame[..got.payload.start], &sent[..got.payload.start]);
                let mut again = sent.clone();
                assert!(matches!(
                    receive(&keys, &mut replay, &mut again, nonce_source),
                    Err(RxError::Replay(_))
                ));
                assert_eq!(again, sent);
            }
            // A counter at or below the pre-seeded one: refused before any crypto.
            Err(RxError::Replay(_)) => assert_eq!(frame, sent),
            Err(e) => panic!("a frame secured here was refused: {e:?}"),
        }
        return;
    }

    let before = replay.clone();
    match receive(&keys, &mut replay, &mut frame, nonce_source) {
        Ok(got) => assert!(got.payload.end <= frame.len() && replay.len() <= 4),
        Err(_) => {
            assert_eq!(frame, mpdu, "refused frame modified");
            assert_eq!(replay.len(), before.len());
            assert_eq!(replay.evictions(), before.evictions());
        }
    }
});

/// Outcomes counted by `LinkSecurity::receive` (an accepted unsecured frame counts none).
fn outcomes(s: &SecurityStats) -> u32 {
    s.rx_secured
        + s.rx_unsecured
        + s.rx_no_key
        + s.rx_mic_failures
        + s.rx_replays
        + s.rx_duplicates
        + s.rx_unsupported
}

fn link_receive(ctl: u8, sequence: u32, mpdu: &[u8], nonce_source: Option<[u8; 8]>) {
    let mut policy = SecurityPolicy::DEFAULT;
    if ctl & 16 != 0 {
        policy.unsecured_allowed = 1 << 1;
    }
    let mut link = LinkSecurity::<Aes128, 4>::new(
        KeyTable::new(Key::new(NETWORK_KEY), sequence),
        FrameCounter::restart(16),
        ReplayTable::new(),
        policy,
    );
    let mut frame = mpdu.to_vec();
    match link.receive(&mut frame, nonce_source) {
        Ok(Inbound::Clear) => {
            assert_eq!(frame, mpdu);
            assert_eq!(outcomes(link.stats()), 0);
        }
        Ok(Inbound::Secured(r)) => {
            assert!(r.payload.end <= frame.len());
            assert_eq!(link.stats().rx_secured, 1);
            assert_eq!(outcomes(link.stats()), 1);
        }
        Err(_) => {
            assert_eq!(frame, mpdu, "refused frame modified");
            assert_eq!(outcomes(link.stats()), 1);
        }
    }
}
