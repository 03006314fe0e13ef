//! The configuration store of this board: RAM that the runtime neither loads nor zeroes
//! (`.uninit`), so a record written before a warm reset (`sixgate reboot`, which resets the
//! core with SCB AIRCR.SYSRESETREQ) is there after it. QEMU does not clear RAM on a system
//! reset; a cold start (a new QEMU process) finds garbage and no magic.
//!
//! Record: magic `"SGQR"`, length (u32 LE), then the configuration as the firmware encodes it
//! (`Config::encode`: versioned and CRC-protected, so a torn or stale record loads as
//! corrupt and the defaults apply). The magic is written last and cleared first.

use core::mem::MaybeUninit;
use core::ptr;

use firmware::config::CONFIG_MAX_ENCODED;
use firmware::store::ConfigStore;

const MAGIC: u32 = u32::from_le_bytes(*b"SGQR");
const HEADER: usize = 8;
const SIZE: usize = HEADER + CONFIG_MAX_ENCODED;

#[unsafe(link_section = ".uninit.sixgate_config")]
static mut RECORD: MaybeUninit<[u8; SIZE]> = MaybeUninit::uninit();

/// What went wrong in the RAM store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RamStoreError {
    /// More than [`CONFIG_MAX_ENCODED`] bytes to save.
    TooLarge,
    /// The load buffer is shorter than the record.
    BufferTooSmall,
}

/// The store; one per image (it is the `.uninit` record).
pub struct RamStore(());

fn base() -> *mut u8 {
    (&raw mut RECORD).cast::<u8>()
}

fn read(i: usize) -> u8 {
    debug_assert!(i < SIZE);
    // SAFETY: `i < SIZE` (every caller bounds it), so the byte is inside RECORD, which only
    // this module touches, from one thread. The volatile read takes whatever the RAM holds
    // (any value is a valid u8) and lets the compiler assume nothing about it.
    unsafe { ptr::read_volatile(base().add(i)) }
}

fn write(i: usize, b: u8) {
    debug_assert!(i < SIZE);
    // SAFETY: as in `read`.
    unsafe { ptr::write_volatile(base().add(i), b) }
}

fn read_u32(at: usize) -> u32 {
    u32::from_le_bytes([read(at), read(at + 1), read(at + 2), read(at + 3)])
}

fn write_u32(at: usize, v: u32) {
    for (k, b) in v.to_le_bytes().into_iter().enumerate() {
        write(at + k, b);
    }
}

impl RamStore {
    /// The store. Call once.
    pub fn take() -> Self {
        RamStore(())
    }
}

impl ConfigStore for RamStore {
    type Error = RamStoreError;

    fn load(&mut self, buf: &mut [u8]) -> Result<Option<usize>, RamStoreError> {
        if read_u32(0) != MAGIC {
            return Ok(None);
        }
        let len = read_u32(4) as usize;
        if len > CONFIG_MAX_ENCODED {
            return Ok(None);
        }
        let out = buf.get_mut(..len).ok_or(RamStoreError::BufferTooSmall)?;
        for (k, b) in out.iter_mut().enumerate() {
            *b = read(HEADER + k);
        }
        Ok(Some(len))
    }

    fn save(&mut self, data: &[u8]) -> Result<(), RamStoreError> {
        if data.len() > CONFIG_MAX_ENCODED {
            return Err(RamStoreError::TooLarge);
        }
        write_u32(0, 0);
        for (k, b) in data.iter().enumerate() {
            write(HEADER + k, *b);
        }
        write_u32(4, data.len() as u32);
        write_u32(0, MAGIC);
        Ok(())
    }

    fn erase(&mut self) -> Result<(), RamStoreError> {
        write_u32(0, 0);
        Ok(())
    }
}
