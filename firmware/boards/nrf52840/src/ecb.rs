//! The nRF52840's AES-ECB block as link-layer security's block cipher: [`ecb_block`] is the
//! [`firmware::wpan::HwBlock`] that CCM* calls for every 16-byte block, [`ecb_cipher`] the
//! board's cipher factory, [`init`] takes the peripherals and runs the known-answer test at
//! boot (FIPS-197 Appendix C.1); security is started only when it passes.
//!
//! One block: the key and the cleartext go into a 48-byte key|cleartext|ciphertext structure
//! in RAM, ECBDATAPTR points the block's EasyDMA at it, TASKS_STARTECB starts it, and the CPU
//! polls EVENTS_ENDECB (done: the ciphertext is in the structure) or EVENTS_ERRORECB (aborted:
//! the CCM or AAR block pre-empted it — this firmware uses neither — or a STOPECB). An
//! encryption takes a few microseconds; the poll is bounded ([`SPIN_LIMIT`]), and an attempt
//! that ends in ERRORECB or the bound is tried again, [`ATTEMPTS`] times in all. The whole
//! operation runs in a critical section, so nothing else starts the block meanwhile, and the
//! structure is a static, so even a block that never stops cannot write into a stack frame.
//!
//! A block that fails every attempt is counted ([`failures`], logged by the main loop) and
//! comes back filled from the RNG peripheral instead of from AES: the frame it belongs to is
//! then garbage to every receiver (its MIC fails, so it is dropped and counted there), and
//! neither its cleartext nor anything about the key reaches the air. Zeros or the cleartext
//! would have made the keystream known: the frame's payload would have gone out readable.
//!
//! QEMU does not model the ECB (nor the RNG): the known-answer test at boot, on the chip, is
//! the evidence that the block and this driver compute AES-128.

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering, compiler_fence};

use critical_section::Mutex;
use embassy_nrf::{Peri, pac, peripherals};
use firmware::wpan::WpanCipher;
use l2_15_4::security::Key;

/// Attempts of one block before it counts as failed.
const ATTEMPTS: u32 = 4;
/// Polls of the two events before an attempt is abandoned: an encryption takes about 7 µs
/// (nRF52840 product specification, ECB), a poll at least 4 CPU cycles at 64 MHz: 2,000 polls
/// are more than 100 µs.
const SPIN_LIMIT: u32 = 2_000;
/// Polls of the RNG's VALRDY per byte before giving up (about 120 µs a byte with bias
/// correction; a poll is at least 4 cycles: 100,000 are more than 6 ms).
const RNG_SPIN_LIMIT: u32 = 100_000;

/// FIPS-197 Appendix C.1: key, cleartext, ciphertext.
const KAT_KEY: [u8; 16] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
];
const KAT_CLEAR: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];
const KAT_CIPHER: [u8; 16] = [
    0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a,
];

/// The ECB's data structure (nRF52840 PS, ECB: key, cleartext, ciphertext, 16 bytes each,
/// key and data most significant byte first), word-aligned for its EasyDMA.
#[repr(C, align(4))]
struct EcbData {
    key: [u8; 16],
    clear: [u8; 16],
    cipher: [u8; 16],
}

/// The one structure the ECB reads and writes; only touched inside a critical section.
static DATA: Mutex<RefCell<EcbData>> = Mutex::new(RefCell::new(EcbData {
    key: [0; 16],
    clear: [0; 16],
    cipher: [0; 16],
}));

/// Blocks that failed every attempt (and went out RNG-filled).
static FAILURES: AtomicU32 = AtomicU32::new(0);
/// Attempts that ended in ERRORECB or the poll bound (each retried or counted a failure).
static RETRIES: AtomicU32 = AtomicU32::new(0);

/// Takes the RNG peripheral (so the HAL hands it to nobody else; embassy-nrf has no ECB
/// singleton, and no HAL driver uses the ECB) and runs the FIPS-197 known-answer test: whether
/// the block computes AES-128.
pub fn init(_rng: Peri<'static, peripherals::RNG>) -> bool {
    let failed = FAILURES.load(Ordering::Relaxed);
    let mut block = KAT_CLEAR;
    ecb_block(&KAT_KEY, &mut block);
    block == KAT_CIPHER && FAILURES.load(Ordering::Relaxed) == failed
}

/// The board's cipher factory (`App::start_security`): `k` for the ECB block.
pub fn ecb_cipher(k: &Key) -> WpanCipher {
    WpanCipher::hardware(k, ecb_block)
}

/// Blocks that failed every attempt since boot.
pub fn failures() -> u32 {
    FAILURES.load(Ordering::Relaxed)
}

/// Attempts retried or failed since boot.
pub fn retries() -> u32 {
    RETRIES.load(Ordering::Relaxed)
}

/// One AES-128 block: `block` encrypted in place under `key` by the ECB peripheral. Never
/// panics; a block the ECB does not deliver is RNG-filled and counted (see the module docs).
pub fn ecb_block(key: &[u8; 16], block: &mut [u8; 16]) {
    let done = critical_section::with(|cs| {
        let mut data = DATA.borrow_ref_mut(cs);
        data.key = *key;
        data.clear = *block;
        for _ in 0..ATTEMPTS {
            if attempt(&mut data) {
                *block = data.cipher;
                data.key = [0; 16];
                return true;
            }
            RETRIES.fetch_add(1, Ordering::Relaxed);
        }
        data.key = [0; 16];
        false
    });
    if !done {
        FAILURES.fetch_add(1, Ordering::Relaxed);
        rng_fill(block);
    }
}

/// One run of the ECB over `data`: whether it ended with ENDECB.
fn attempt(data: &mut EcbData) -> bool {
    let ecb = pac::ECB;
    ecb.events_endecb().write_value(0);
    ecb.events_errorecb().write_value(0);
    // The address of a static in RAM: 32 bits on this chip.
    ecb.ecbdataptr()
        .write_value(core::ptr::from_mut(data) as usize as u32);
    // The key and cleartext are in memory before the block reads them.
    compiler_fence(Ordering::SeqCst);
    ecb.tasks_startecb().write_value(1);
    for _ in 0..SPIN_LIMIT {
        if ecb.events_endecb().read() != 0 {
            // The ciphertext the block wrote is read after this point.
            compiler_fence(Ordering::SeqCst);
            return true;
        }
        if ecb.events_errorecb().read() != 0 {
            return false;
        }
    }
    // Stuck: stop it (that raises ERRORECB) and wait, bounded, for it to stop.
    ecb.tasks_stopecb().write_value(1);
    for _ in 0..SPIN_LIMIT {
        if ecb.events_errorecb().read() != 0 {
            break;
        }
    }
    false
}

/// Fills `block` from the RNG peripheral (bias correction on), each byte polled at most
/// [`RNG_SPIN_LIMIT`] times.
fn rng_fill(block: &mut [u8; 16]) {
    let rng = pac::RNG;
    rng.config().write(|w| w.set_dercen(true));
    for b in block.iter_mut() {
        rng.events_valrdy().write_value(0);
        rng.tasks_start().write_value(1);
        for _ in 0..RNG_SPIN_LIMIT {
            if rng.events_valrdy().read() != 0 {
                break;
            }
        }
        *b = rng.value().read().value();
    }
    rng.tasks_stop().write_value(1);
}
