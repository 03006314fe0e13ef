//! PHY and MAC timing constants of the 2.4 GHz O-QPSK PHY (250 kb/s, 16 µs per symbol,
//! 2 symbols per byte), and the helpers that turn symbols and frame lengths into time.

use netif::time::Duration;

/// One symbol, µs.
pub const SYMBOL_US: u64 = 16;
/// One byte on air, µs.
pub const BYTE_US: u64 = 32;
/// Synchronisation header plus PHY header, bytes.
pub const SHR_PHR_LEN: usize = 6;
/// aUnitBackoffPeriod, symbols.
pub const UNIT_BACKOFF_SYMBOLS: u64 = 20;
/// aTurnaroundTime, symbols.
pub const TURNAROUND_SYMBOLS: u64 = 12;
/// CCA duration, symbols.
pub const CCA_SYMBOLS: u64 = 8;
/// macAckWaitDuration, symbols.
pub const ACK_WAIT_SYMBOLS: u64 = 54;
/// macSIFSPeriod, symbols.
pub const SIFS_SYMBOLS: u64 = 12;
/// macLIFSPeriod, symbols.
pub const LIFS_SYMBOLS: u64 = 40;
/// aMaxSIFSFrameSize: MPDUs (FCS included) up to this many bytes are followed by SIFS,
/// longer ones by LIFS.
pub const MAX_SIFS_FRAME_SIZE: usize = 18;
/// PSDU length of an Imm-Ack (3-byte MPDU + FCS).
pub const IMM_ACK_PSDU_LEN: usize = 5;

/// `n` symbols as a duration.
pub const fn symbols(n: u64) -> Duration {
    Duration::from_micros(n * SYMBOL_US)
}

/// Time on air of a PSDU of `psdu_len` bytes, preamble and PHY header included.
pub const fn airtime(psdu_len: usize) -> Duration {
    Duration::from_micros((SHR_PHR_LEN + psdu_len) as u64 * BYTE_US)
}

/// The interframe space that must follow a frame whose MPDU (the whole PSDU, FCS included, as
/// the standard counts it) is `mpdu_len` bytes.
pub const fn ifs(mpdu_len: usize) -> Duration {
    if mpdu_len <= MAX_SIFS_FRAME_SIZE {
        symbols(SIFS_SYMBOLS)
    } else {
        symbols(LIFS_SYMBOLS)
    }
}
