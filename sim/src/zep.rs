//! ZEP version 2, the ZigBee Encapsulation Protocol: 802.15.4 frames in UDP datagrams, as
//! RIOT OS's `socket_zep` radio and Wireshark's `zep` dissector speak it (UDP port 17754 by
//! default).
//!
//! A data datagram is a 32-byte header, big-endian, then the PSDU (MPDU and its 2-byte FCS):
//!
//! | offset | field | here |
//! |---|---|---|
//! | 0 | preamble `"EX"` | checked |
//! | 2 | version | 2, checked |
//! | 3 | type | 1 data (ACKs too, as RIOT sends them); 2 (Wireshark's ACK type, RIOT drops it) and anything else refused |
//! | 4 | channel | kept |
//! | 5 | device id (2) | kept |
//! | 7 | LQI/CRC mode | 1 written ("CRC": the last two bytes are the FCS, which Wireshark then checks; with 0 it reads them as TI CC24xx RSSI/LQI metadata and calls half of all frames "Bad FCS"); read: not checked (RIOT sends 0) |
//! | 8 | LQI | kept |
//! | 9 | NTP timestamp (8) | kept |
//! | 17 | sequence (4) | kept |
//! | 21 | reserved (10) | ignored, written as zeros |
//! | 31 | length | must equal the datagram's length − 32 (FCS included) |
//!
//! [`parse`] checks every field it relies on and the FCS (CRC-16/KERMIT, little-endian, as the
//! radio would), so a malformed datagram is an [`ZepError`] the caller counts, never a frame.
//! [`encode`] writes the header in front of a PSDU whose FCS is already in place.

use l2_15_4::frame::{FCS_LEN, MAX_PSDU_LEN, fcs};

/// Bytes of the ZEP v2 data header.
pub const HEADER_LEN: usize = 32;
/// The preamble every ZEP datagram starts with.
pub const PREAMBLE: [u8; 2] = *b"EX";
/// The only version this codec reads and writes.
pub const VERSION: u8 = 2;
/// The data type (frames and, as RIOT sends them, ACKs).
pub const TYPE_DATA: u8 = 1;
/// The UDP port Wireshark dissects as ZEP by default.
pub const DEFAULT_PORT: u16 = 17754;
/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
pub const NTP_UNIX_OFFSET_S: u64 = 2_208_988_800;

/// The header fields a ZEP data datagram carries besides its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZepHeader {
    /// IEEE 802.15.4 channel.
    pub channel: u8,
    /// Sender's device id.
    pub device_id: u16,
    /// Link quality indication.
    pub lqi: u8,
    /// NTP timestamp: seconds since 1900 in the upper 32 bits, the fraction in the lower.
    pub ntp_timestamp: u64,
    /// Sender's sequence number.
    pub sequence: u32,
}

/// Why a datagram is not a ZEP v2 data frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZepError {
    /// Shorter than the header.
    TooShort,
    /// Does not start with `"EX"`.
    BadPreamble,
    /// A version other than 2.
    BadVersion(u8),
    /// A type other than data.
    BadType(u8),
    /// The length field differs from the bytes that follow the header.
    LengthMismatch,
    /// A PSDU shorter than an FCS or longer than aMaxPHYPacketSize (127).
    BadPsduLength,
    /// The FCS does not match the MPDU.
    BadFcs,
}

impl core::fmt::Display for ZepError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ZepError::TooShort => f.write_str("shorter than the 32-byte ZEP v2 header"),
            ZepError::BadPreamble => f.write_str("no \"EX\" preamble"),
            ZepError::BadVersion(v) => write!(f, "ZEP version {v}, not 2"),
            ZepError::BadType(t) => write!(f, "ZEP type {t}, not 1 (data)"),
            ZepError::LengthMismatch => f.write_str("length field differs from the datagram"),
            ZepError::BadPsduLength => f.write_str("PSDU length outside 2..=127"),
            ZepError::BadFcs => f.write_str("bad FCS"),
        }
    }
}

impl std::error::Error for ZepError {}

/// A parsed data datagram: its header and the PSDU (MPDU followed by a valid FCS), borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZepFrame<'a> {
    /// The header fields.
    pub header: ZepHeader,
    /// MPDU and FCS.
    pub psdu: &'a [u8],
}

/// Reads a ZEP v2 data datagram (see the module docs for what is checked).
pub fn parse(datagram: &[u8]) -> Result<ZepFrame<'_>, ZepError> {
    let (h, psdu) = datagram
        .split_first_chunk::<HEADER_LEN>()
        .ok_or(ZepError::TooShort)?;
    let [
        p0,
        p1,
        version,
        kind,
        channel,
        d0,
        d1,
        _mode,
        lqi,
        rest @ ..,
    ] = *h;
    if [p0, p1] != PREAMBLE {
        return Err(ZepError::BadPreamble);
    }
    if version != VERSION {
        return Err(ZepError::BadVersion(version));
    }
    if kind != TYPE_DATA {
        return Err(ZepError::BadType(kind));
    }
    let (ts, rest) = rest.split_first_chunk::<8>().ok_or(ZepError::TooShort)?;
    let (seq, rest) = rest.split_first_chunk::<4>().ok_or(ZepError::TooShort)?;
    let &len = rest.last().ok_or(ZepError::TooShort)?;
    if usize::from(len) != psdu.len() {
        return Err(ZepError::LengthMismatch);
    }
    if !(FCS_LEN..=MAX_PSDU_LEN).contains(&psdu.len()) {
        return Err(ZepError::BadPsduLength);
    }
    if !fcs::verify(psdu) {
        return Err(ZepError::BadFcs);
    }
    Ok(ZepFrame {
        header: ZepHeader {
            channel,
            device_id: u16::from_be_bytes([d0, d1]),
            lqi,
            ntp_timestamp: u64::from_be_bytes(*ts),
            sequence: u32::from_be_bytes(*seq),
        },
        psdu,
    })
}

/// Appends a ZEP v2 data datagram carrying `psdu` (MPDU with its FCS in place) to `out`.
/// Refuses a PSDU outside 2..=127 bytes.
pub fn encode(header: &ZepHeader, psdu: &[u8], out: &mut Vec<u8>) -> Result<(), ZepError> {
    let len = u8::try_from(psdu.len())
        .ok()
        .filter(|n| (FCS_LEN..=MAX_PSDU_LEN).contains(&usize::from(*n)))
        .ok_or(ZepError::BadPsduLength)?;
    out.extend_from_slice(&PREAMBLE);
    out.extend_from_slice(&[VERSION, TYPE_DATA, header.channel]);
    out.extend_from_slice(&header.device_id.to_be_bytes());
    // CRC mode: the last two bytes are an FCS, not CC24xx metadata (Wireshark's `zep`
    // dissector hands mode 0 to its CC24xx-metadata dissector).
    out.extend_from_slice(&[1, header.lqi]);
    out.extend_from_slice(&header.ntp_timestamp.to_be_bytes());
    out.extend_from_slice(&header.sequence.to_be_bytes());
    out.extend_from_slice(&[0; 10]);
    out.push(len);
    out.extend_from_slice(psdu);
    Ok(())
}

/// An NTP timestamp for `unix_us` microseconds since 1970.
pub fn ntp_from_unix_micros(unix_us: u64) -> u64 {
    let secs = unix_us / 1_000_000 + NTP_UNIX_OFFSET_S;
    let frac = ((unix_us % 1_000_000) << 32) / 1_000_000;
    (secs << 32) | frac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data frame, 2006, intra-PAN, long → broadcast short, with its FCS.
    fn psdu() -> Vec<u8> {
        let mut p = vec![
            0x41, 0xd8, 0x07, 0x23, 0x00, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 0xaa, 0xbb, 0, 0,
        ];
        assert!(fcs::append(&mut p));
        p
    }

    #[test]
    fn round_trip_and_layout() {
        let h = ZepHeader {
            channel: 26,
            device_id: 0x1234,
            lqi: 0xff,
            ntp_timestamp: ntp_from_unix_micros(1_500_000),
            sequence: 7,
        };
        let mut d = Vec::new();
        encode(&h, &psdu(), &mut d).unwrap();
        assert_eq!(d.len(), HEADER_LEN + psdu().len());
        assert_eq!(&d[..5], &[b'E', b'X', 2, 1, 26]);
        assert_eq!(&d[5..7], &[0x12, 0x34]);
        assert_eq!(d[31] as usize, psdu().len());
        // 1970 + 1.5 s in NTP: seconds 2208988801, fraction one half.
        assert_eq!(&d[9..13], &2_208_988_801u32.to_be_bytes());
        assert_eq!(&d[13..17], &0x8000_0000u32.to_be_bytes());
        let f = parse(&d).unwrap();
        assert_eq!(f.header, h);
        assert_eq!(f.psdu, &psdu()[..]);
    }

    #[test]
    fn malformed_datagrams_are_errors() {
        let mut good = Vec::new();
        encode(&ZepHeader::default(), &psdu(), &mut good).unwrap();
        assert_eq!(parse(&good[..31]), Err(ZepError::TooShort));
        let mut d = good.clone();
        d[0] = b'X';
        assert_eq!(parse(&d), Err(ZepError::BadPreamble));
        let mut d = good.clone();
        d[2] = 1;
        assert_eq!(parse(&d), Err(ZepError::BadVersion(1)));
        let mut d = good.clone();
        d[3] = 2;
        assert_eq!(parse(&d), Err(ZepError::BadType(2)));
        let mut d = good.clone();
        d[31] += 1;
        assert_eq!(parse(&d), Err(ZepError::LengthMismatch));
        let mut d = good.clone();
        d.pop();
        d[31] -= 1;
        assert_eq!(parse(&d), Err(ZepError::BadFcs));
        let mut d = good[..HEADER_LEN + 1].to_vec();
        d[31] = 1;
        assert_eq!(parse(&d), Err(ZepError::BadPsduLength));
        assert_eq!(
            encode(&ZepHeader::default(), &[0; 128], &mut Vec::new()),
            Err(ZepError::BadPsduLength)
        );
        assert_eq!(
            encode(&ZepHeader::default(), &[0; 1], &mut Vec::new()),
            Err(ZepError::BadPsduLength)
        );
    }
}
