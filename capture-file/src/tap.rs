//! The IEEE 802.15.4 TAP pseudo-header (LINKTYPE_IEEE802_15_4_TAP, 283): version 0, a
//! reserved byte, the header length (little-endian, header and TLVs), then TLVs — type `u16`,
//! length `u16`, the value padded to 4 bytes — and after them the PSDU.
//!
//! [`header`] writes the TLVs our captures carry (FCS type, channel, RSS, LQI, start and end of
//! frame); [`parse`] finds the PSDU and the FCS type in any TAP record.

/// TLV types (IEEE 802.15.4 TAP link type specification).
mod tlv {
    pub const FCS_TYPE: u16 = 0;
    pub const RSS: u16 = 1;
    pub const CHANNEL: u16 = 3;
    pub const SOF_TS: u16 = 5;
    pub const EOF_TS: u16 = 6;
    pub const LQI: u16 = 10;
}

/// The FCS-type TLV's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FcsType {
    /// The PSDU carries no FCS (0).
    None,
    /// A 16-bit CRC (1); also what a record without the TLV means.
    Crc16,
    /// Anything else (a 32-bit CRC is 2); we do not read such frames.
    Unknown(u8),
}

impl From<u8> for FcsType {
    fn from(v: u8) -> Self {
        match v {
            0 => FcsType::None,
            1 => FcsType::Crc16,
            v => FcsType::Unknown(v),
        }
    }
}

impl From<FcsType> for u8 {
    fn from(t: FcsType) -> u8 {
        match t {
            FcsType::None => 0,
            FcsType::Crc16 => 1,
            FcsType::Unknown(v) => v,
        }
    }
}

/// Reception metadata of an 802.15.4 frame for the TAP pseudo-header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TapInfo {
    /// Channel number (page 0).
    pub channel: u8,
    /// RSSI, dBm; omitted when `None`.
    pub rssi_dbm: Option<i8>,
    /// LQI; omitted when `None`.
    pub lqi: Option<u8>,
    /// Start and end of the frame on air, µs of simulated (or real) time.
    pub start_us: u64,
    /// End of the frame on air, µs.
    pub end_us: u64,
}

/// Builds the TAP pseudo-header for `info` (FCS type 16-bit CRC, channel, RSS, LQI, start and
/// end of frame in nanoseconds).
pub fn header(info: &TapInfo) -> Vec<u8> {
    let mut tlvs = Vec::with_capacity(64);
    let mut put = |t: u16, v: &[u8]| {
        tlvs.extend_from_slice(&t.to_le_bytes());
        tlvs.extend_from_slice(&(v.len() as u16).to_le_bytes());
        tlvs.extend_from_slice(v);
        while !tlvs.len().is_multiple_of(4) {
            tlvs.push(0);
        }
    };
    put(tlv::FCS_TYPE, &[u8::from(FcsType::Crc16)]);
    let ch = u16::from(info.channel).to_le_bytes();
    put(tlv::CHANNEL, &[ch[0], ch[1], 0]);
    if let Some(r) = info.rssi_dbm {
        put(tlv::RSS, &f32::from(r).to_le_bytes());
    }
    if let Some(l) = info.lqi {
        put(tlv::LQI, &[l]);
    }
    put(
        tlv::SOF_TS,
        &info.start_us.saturating_mul(1000).to_le_bytes(),
    );
    put(tlv::EOF_TS, &info.end_us.saturating_mul(1000).to_le_bytes());
    let total = 4 + tlvs.len();
    let mut out = Vec::with_capacity(total);
    out.push(0); // version
    out.push(0); // reserved
    out.extend_from_slice(&(total as u16).to_le_bytes());
    out.extend_from_slice(&tlvs);
    out
}

/// The PSDU of a TAP record and its FCS type; `None` if the pseudo-header is malformed
/// (another version, a length that is not a multiple of 4 or does not end on a TLV boundary,
/// a TLV past the end).
pub fn parse(data: &[u8]) -> Option<(&[u8], FcsType)> {
    if *data.first()? != 0 {
        return None;
    }
    let hlen = usize::from(u16::from_le_bytes([*data.get(2)?, *data.get(3)?]));
    if hlen < 4 || !hlen.is_multiple_of(4) {
        return None;
    }
    let mut fcs_type = FcsType::Crc16;
    let mut off = 4usize;
    while off < hlen {
        let t = u16::from_le_bytes([*data.get(off)?, *data.get(off.checked_add(1)?)?]);
        let l = usize::from(u16::from_le_bytes([
            *data.get(off.checked_add(2)?)?,
            *data.get(off.checked_add(3)?)?,
        ]));
        if t == tlv::FCS_TYPE && l == 1 {
            fcs_type = FcsType::from(*data.get(off.checked_add(4)?)?);
        }
        off = off.checked_add(l.div_ceil(4).checked_mul(4)?.checked_add(4)?)?;
    }
    if off != hlen {
        return None;
    }
    Some((data.get(hlen..)?, fcs_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bytes() {
        let h = header(&TapInfo {
            channel: 26,
            rssi_dbm: Some(-60),
            lqi: Some(200),
            start_us: 1,
            end_us: 2,
        });
        #[rustfmt::skip]
        let want: &[u8] = &[
            0, 0, 60, 0,                      // version 0, reserved, length 60
            0, 0, 1, 0, 1, 0, 0, 0,           // FCS type: 16-bit CRC
            3, 0, 3, 0, 26, 0, 0, 0,          // channel 26, page 0
            1, 0, 4, 0, 0, 0, 0x70, 0xc2,     // RSS -60.0 dBm (f32 LE)
            10, 0, 1, 0, 200, 0, 0, 0,        // LQI 200
            5, 0, 8, 0, 0xe8, 3, 0, 0, 0, 0, 0, 0, // start of frame 1000 ns
            6, 0, 8, 0, 0xd0, 7, 0, 0, 0, 0, 0, 0, // end of frame 2000 ns
        ];
        assert_eq!(h, want);
        assert_eq!(parse(&h), Some((&[][..], FcsType::Crc16)));
    }

    #[test]
    fn parse_finds_the_fcs_type_and_refuses_bad_headers() {
        // No FCS, one byte of PSDU after the header.
        let rec = [0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0xaa];
        assert_eq!(parse(&rec), Some((&[0xaa][..], FcsType::None)));
        // Version 1; length 6 (not a multiple of 4); a TLV running past the header length.
        assert_eq!(parse(&[1, 0, 4, 0]), None);
        assert_eq!(parse(&[0, 0, 6, 0, 0, 0]), None);
        assert_eq!(parse(&[0, 0, 8, 0, 3, 0, 8, 0, 0, 0, 0, 0]), None);
        // Every prefix of a valid record parses or is refused, never panics.
        for n in 0..rec.len() {
            let _ = parse(&rec[..n]);
        }
        assert_eq!(u8::from(FcsType::from(2)), 2);
    }
}
