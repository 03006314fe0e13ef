//! The measurement mode's link-layer security figures (issue 24): what CCM* costs per
//! 802.15.4 frame on the Cortex-M4 with software AES ([`aes::Aes128`], RustCrypto's fixsliced
//! implementation, loaded through [`KeyTable::new`] as the firmware does without a hardware
//! block).
//!
//! Each [`Case`] is a 2006 data frame with extended destination and source (PAN ID
//! compressed: a 21-byte MAC header), an auxiliary security header in key identifier mode 1
//! (6 bytes), the MAC payload and the MIC; [`CASES`] are a full 127-byte PSDU and a short one
//! (a 40-byte MAC payload: an acknowledgement-sized RPL or ND message), each at level 5
//! (ENC-MIC-32) and level 7 (ENC-MIC-128).
//!
//! What is timed ([`measure`]), per frame, with the board's [`Meter`]:
//! - **secure**: [`secure`] on the plaintext frame (its header already carries the auxiliary
//!   security header, as the MAC emits it): the header walk, the nonce, CCM* (CBC-MAC over
//!   a-data and payload, counter-mode encryption), the MIC written;
//! - **open**: [`LinkSecurity::receive`] on the secured frame: the header walk, the key
//!   lookup, the replay check, CCM* decryption and MIC check, the replay table's update.
//!
//! Not timed: building the frames and checking the plaintext that comes back. The AES block
//! operations per frame (what the nRF52840's AES-ECB peripheral replaces) are counted on one
//! more frame of each case with a [`Counting`] cipher, untimed.

use core::cell::Cell;
use core::hint::black_box;

use aes::Aes128;
use l2_15_4::frame::{AuxSecurityHeader, Security, SecurityLevel};
use l2_15_4::security::{
    BlockCipher, FrameCounter, Inbound, Key, KeyTable, KeyedCipher, LinkSecurity, ReplayTable,
    SecurityPolicy, receive, secure,
};
use l2_15_4::{Address, FrameType, FrameVersion, PanId, Repr};

use crate::far::Meter;

/// The largest PSDU (aMaxPhyPacketSize).
pub const MAX_PSDU: usize = 127;
/// The FCS ends the PSDU (the radio computes and checks it; CCM* does not cover it).
pub const FCS_LEN: usize = 2;
/// MAC header (frame control, sequence number, destination PAN ID, two EUI-64s: 21 bytes)
/// and auxiliary security header (security control, frame counter, key index: 6 bytes).
pub const HEADER_LEN: usize = 27;
/// The MAC payload of the short frames: an acknowledgement-sized RPL or ND message.
pub const SHORT_PAYLOAD: usize = 40;
/// Frames measured per case (averaged).
pub const FRAMES: u32 = 100;
/// Single-block encryptions timed for the figure of one AES block ([`aes_block`]).
pub const AES_BLOCKS: u32 = 1000;

/// The network key of the measurement (any key: CCM* costs the same under every key).
const NETWORK_KEY: [u8; 16] = [0x42; 16];
/// The key sequence of both ends.
const SEQUENCE: u32 = 0;
const PAN: PanId = PanId(0xabcd);
/// The sender's and the receiver's EUI-64.
const SENDER: [u8; 8] = [0x02, 0, 0, 0xff, 0xfe, 0, 0, 0x02];
const RECEIVER: [u8; 8] = [0x02, 0, 0, 0xff, 0xfe, 0, 0, 0x01];
/// Replay entries of the receiver (one sender).
const REPLAY: usize = 2;

/// One frame shape: the MAC payload's length and the security level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    /// MAC payload bytes (plaintext, before the MIC).
    pub payload: usize,
    /// Security level (5 or 7: ENC-MIC-32 or ENC-MIC-128).
    pub level: u8,
}

impl Case {
    /// The payload that fills a 127-byte PSDU at `level`.
    pub const fn full(level: u8) -> Case {
        Case {
            payload: MAX_PSDU - FCS_LEN - HEADER_LEN - SecurityLevel::new(level).mic_len(),
            level,
        }
    }

    /// A [`SHORT_PAYLOAD`] frame at `level`.
    pub const fn short(level: u8) -> Case {
        Case {
            payload: SHORT_PAYLOAD,
            level,
        }
    }

    /// The MIC's length.
    pub const fn mic_len(&self) -> usize {
        SecurityLevel::new(self.level).mic_len()
    }

    /// The MPDU without FCS (what CCM* runs on).
    pub const fn mpdu_len(&self) -> usize {
        HEADER_LEN + self.payload + self.mic_len()
    }

    /// The PSDU on the air (FCS included).
    pub const fn psdu_len(&self) -> usize {
        self.mpdu_len() + FCS_LEN
    }
}

/// The measured cases: full and short frames at levels 5 and 7.
pub const CASES: [Case; 4] = [Case::full(5), Case::short(5), Case::full(7), Case::short(7)];

/// One case's figures.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    /// The frame shape.
    pub case: Case,
    /// Frames secured and opened.
    pub frames: u32,
    /// The [`secure`] calls, timed (one clock pair per frame).
    pub secure: Meter,
    /// The [`LinkSecurity::receive`] calls, timed (one clock pair per frame).
    pub open: Meter,
    /// AES block operations to secure one frame.
    pub secure_blocks: u32,
    /// AES block operations to open one frame.
    pub open_blocks: u32,
}

/// A block cipher that counts its block operations: what a hardware AES-ECB block (the
/// nRF52840's) would be asked for.
#[derive(Debug)]
pub struct Counting<C> {
    inner: C,
    blocks: Cell<u32>,
}

impl<C> Counting<C> {
    /// Block operations since the last [`Counting::take`].
    pub fn take(&self) -> u32 {
        self.blocks.replace(0)
    }
}

impl<C: BlockCipher> BlockCipher for Counting<C> {
    fn encrypt_block(&self, block: &mut [u8; 16]) {
        self.blocks.set(self.blocks.get().wrapping_add(1));
        self.inner.encrypt_block(block);
    }
}

impl<C: KeyedCipher> KeyedCipher for Counting<C> {
    fn with_key(key: &Key) -> Self {
        Counting {
            inner: C::with_key(key),
            blocks: Cell::new(0),
        }
    }
}

/// The payload byte at `at` of frame `counter`: each frame differs.
fn payload_byte(counter: u32, at: usize) -> u8 {
    (counter as usize).wrapping_add(at) as u8
}

/// Writes the plaintext frame `counter` of `case` into `buf` (MIC room zeroed, under
/// `key_id`'s key) and returns its MPDU length.
fn emit(
    case: Case,
    counter: u32,
    key_index: u8,
    buf: &mut [u8; MAX_PSDU],
) -> Result<usize, &'static str> {
    let mut repr = Repr::new(
        FrameType::Data,
        FrameVersion::Ieee2006,
        Some(counter as u8),
        Some((PAN, Address::Extended(RECEIVER))),
        Some((PAN, Address::Extended(SENDER))),
    )
    .map_err(|_| "ccm: the frame header is refused")?;
    repr.security = Some(Security::Aux(AuxSecurityHeader {
        level: SecurityLevel::new(case.level),
        key_id: l2_15_4::frame::KeyId::Index(key_index),
        frame_counter: Some(counter),
        asn_in_nonce: false,
    }));
    let len = case.mpdu_len();
    let frame = buf
        .get_mut(..len)
        .ok_or("ccm: the frame exceeds 127 bytes")?;
    let h = repr
        .emit_bytes(frame)
        .map_err(|_| "ccm: the frame header does not fit")?;
    if h != HEADER_LEN {
        return Err("ccm: the frame header is not 27 bytes");
    }
    let (payload, mic) = frame
        .get_mut(h..)
        .ok_or("ccm: no room for the payload")?
        .split_at_mut_checked(case.payload)
        .ok_or("ccm: no room for the MIC")?;
    for (at, b) in payload.iter_mut().enumerate() {
        *b = payload_byte(counter, at);
    }
    mic.fill(0);
    Ok(len)
}

/// Whether `frame` carries frame `counter`'s plaintext at `payload`.
fn plaintext_ok(frame: &[u8], payload: &core::ops::Range<usize>, counter: u32) -> bool {
    frame.get(payload.clone()).is_some_and(|p| {
        p.iter()
            .enumerate()
            .all(|(at, b)| *b == payload_byte(counter, at))
    })
}

/// Secures and opens `frames` frames of `case` with software AES, timing each call on `clock`
/// (see the module docs); then counts the AES blocks of one more frame. Fails if a frame does
/// not secure, open, or come back as it was sent.
pub fn measure(clock: fn() -> u32, case: Case, frames: u32) -> Result<Cost, &'static str> {
    let keys = KeyTable::<Aes128>::new(Key::new(NETWORK_KEY), SEQUENCE);
    let key_index = l2_15_4::security::key_index(SEQUENCE);
    let mut rx = LinkSecurity::<Aes128, REPLAY>::new(
        KeyTable::new(Key::new(NETWORK_KEY), SEQUENCE),
        FrameCounter::restart(SecurityPolicy::DEFAULT.persist_step),
        ReplayTable::new(),
        SecurityPolicy {
            level: SecurityLevel::new(case.level),
            ..SecurityPolicy::DEFAULT
        },
    );
    let mut secure_meter = Meter::new(clock);
    let mut open_meter = Meter::new(clock);
    let mut buf = [0u8; MAX_PSDU];
    for counter in 0..frames {
        let len = emit(case, counter, key_index, &mut buf)?;
        let frame = buf.get_mut(..len).ok_or("ccm: frame length")?;
        secure_meter
            .time(|| secure(black_box(keys.current()), black_box(&mut *frame), None))
            .map_err(|_| "ccm: a frame did not secure")?;
        let opened = open_meter.time(|| rx.receive(black_box(&mut *frame), None));
        match opened {
            Ok(Inbound::Secured(r))
                if r.frame_counter == counter && plaintext_ok(frame, &r.payload, counter) => {}
            _ => return Err("ccm: a secured frame did not open to its plaintext"),
        }
    }
    let (secure_blocks, open_blocks) = count_blocks(case, frames, &mut buf)?;
    Ok(Cost {
        case,
        frames,
        secure: secure_meter,
        open: open_meter,
        secure_blocks,
        open_blocks,
    })
}

/// AES block operations to secure and to open frame `counter` of `case` (the same calls as
/// [`measure`] times: [`LinkSecurity::receive`] runs [`receive`] on a secured frame).
fn count_blocks(
    case: Case,
    counter: u32,
    buf: &mut [u8; MAX_PSDU],
) -> Result<(u32, u32), &'static str> {
    let keys = KeyTable::<Counting<Aes128>>::new(Key::new(NETWORK_KEY), SEQUENCE);
    let mut replay = ReplayTable::<REPLAY>::new();
    let len = emit(case, counter, l2_15_4::security::key_index(SEQUENCE), buf)?;
    let frame = buf.get_mut(..len).ok_or("ccm: frame length")?;
    // Deriving the keys ran no block operation; start from zero anyway.
    keys.current().take();
    secure(keys.current(), frame, None).map_err(|_| "ccm: a frame did not secure")?;
    let secured = keys.current().take();
    let r = receive(&keys, &mut replay, frame, None)
        .map_err(|_| "ccm: a secured frame did not open")?;
    if !plaintext_ok(frame, &r.payload, counter) {
        return Err("ccm: a secured frame did not open to its plaintext");
    }
    Ok((secured, keys.current().take()))
}

/// Times [`AES_BLOCKS`] single-block encryptions with software AES in one call on `clock`
/// (one clock pair for all of them).
pub fn aes_block(clock: fn() -> u32) -> Meter {
    let cipher = Aes128::with_key(&Key::new(NETWORK_KEY));
    let mut block = [0u8; 16];
    let mut m = Meter::new(clock);
    m.time(|| {
        for _ in 0..AES_BLOCKS {
            BlockCipher::encrypt_block(black_box(&cipher), black_box(&mut block));
        }
    });
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases have the shapes the docs name, every frame secures and opens to its
    /// plaintext, and the AES blocks per frame are CCM*'s: B0, the a-data blocks (2 + 27
    /// bytes: 2), the payload's blocks for the CBC-MAC and again for the key stream, and S0.
    #[test]
    fn frames_secure_and_open_and_take_ccm_star_blocks() {
        assert_eq!(Case::full(5).psdu_len(), 127);
        assert_eq!(Case::full(5).payload, 94);
        assert_eq!(Case::full(7).psdu_len(), 127);
        assert_eq!(Case::full(7).payload, 82);
        assert_eq!(Case::short(5).psdu_len(), 27 + 40 + 4 + 2);
        for case in CASES {
            let cost = measure(|| 0, case, 20).unwrap();
            let payload_blocks = case.payload.div_ceil(16) as u32;
            let want = 1 + 2 + 2 * payload_blocks + 1;
            assert_eq!(cost.secure_blocks, want, "{case:?}");
            assert_eq!(cost.open_blocks, want, "{case:?}");
            assert_eq!((cost.secure.calls, cost.open.calls), (20, 20));
        }
        assert_eq!(measure(|| 0, Case::full(5), 1).unwrap().secure_blocks, 16);
        assert_eq!(measure(|| 0, Case::short(5), 1).unwrap().secure_blocks, 10);
    }

    /// A frame changed after securing does not open (the measurement checks its outcome, it
    /// does not just time a call that may have failed).
    #[test]
    fn a_tampered_frame_does_not_open() {
        let case = Case::full(5);
        let keys = KeyTable::<Aes128>::new(Key::new(NETWORK_KEY), SEQUENCE);
        let mut rx = LinkSecurity::<Aes128, REPLAY>::new(
            KeyTable::new(Key::new(NETWORK_KEY), SEQUENCE),
            FrameCounter::restart(1024),
            ReplayTable::new(),
            SecurityPolicy::DEFAULT,
        );
        let mut buf = [0u8; MAX_PSDU];
        let len = emit(case, 7, l2_15_4::security::key_index(SEQUENCE), &mut buf).unwrap();
        secure(keys.current(), &mut buf[..len], None).unwrap();
        buf[HEADER_LEN + 3] ^= 1;
        assert!(rx.receive(&mut buf[..len], None).is_err());
    }
}
