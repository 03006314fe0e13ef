//! Frame check sequence: CRC-16/KERMIT (ITU-T polynomial, reflected, init 0), sent
//! little-endian after the MPDU.
//!
//! The software FCS runs over every byte sent and received on a radio without hardware FCS
//! (the simulator's): on hosted targets it is the `crc` crate's slice-by-16 implementation
//! (16 tables, 8 KiB; about five times faster than one table, see `docs/performance.md`). On
//! bare-metal targets (`target_os = "none"`) it is the one-table, byte-at-a-time version
//! (512 bytes): the nRF52840 computes and checks the FCS in hardware. There the software FCS
//! only restores the FCS bytes of a good received frame (the hardware overwrites one with the
//! LQI) and covers the soft-MAC's ACKs, which does not justify 7.5 KiB more flash.

use super::FCS_LEN;

#[cfg(not(target_os = "none"))]
const CRC: crc::Crc<u16, crc::Table<16>> =
    crc::Crc::<u16, crc::Table<16>>::new(&crc::CRC_16_KERMIT);
#[cfg(target_os = "none")]
const CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_KERMIT);

/// The FCS of `mpdu`.
pub fn compute(mpdu: &[u8]) -> u16 {
    CRC.checksum(mpdu)
}

/// Whether the last two bytes of `psdu` are the FCS of the bytes before them.
pub fn verify(psdu: &[u8]) -> bool {
    match psdu.len().checked_sub(FCS_LEN) {
        Some(n) => match (psdu.get(..n), psdu.get(n..)) {
            (Some(mpdu), Some(f)) if f.len() == 2 => {
                compute(mpdu) == u16::from_le_bytes([f[0], f[1]])
            }
            _ => false,
        },
        None => false,
    }
}

/// Writes the FCS of `psdu[..len-2]` into its last two bytes. Returns `false` (and writes
/// nothing) if `psdu` is shorter than the FCS.
pub fn append(psdu: &mut [u8]) -> bool {
    let Some(n) = psdu.len().checked_sub(FCS_LEN) else {
        return false;
    };
    let c = compute(psdu.get(..n).unwrap_or(&[]));
    match psdu.get_mut(n..) {
        Some(f) => {
            f.copy_from_slice(&c.to_le_bytes());
            true
        }
        None => false,
    }
}
