//! Reading IEEE 802.15.4 frames from capture files: classic pcap (either byte order, µs or ns
//! timestamps) and pcapng (either byte order per section, Interface Description with
//! `if_tsresol`, Enhanced and Simple Packet Blocks), with the link types
//! LINKTYPE_IEEE802_15_4_WITHFCS (195), LINKTYPE_IEEE802_15_4_NOFCS (230) and
//! LINKTYPE_IEEE802_15_4_TAP (283, whose FCS-type TLV says whether the FCS is present).
//! [`read_15_4`] yields PSDUs with their FCS, so `sixgate-sim --inject` can hand them to the
//! radio exactly as received and `sixgate pcap decode` can check them.
//!
//! [`intact_len`] tells how much of a file is whole: a record or block running past the end,
//! or an impossible length, ends the intact part, so a damaged capture can still be used up to
//! there.

use std::fmt;

use crate::pcapng::block;
use crate::tap::{self, FcsType};
use crate::{
    LINKTYPE_IEEE802_15_4_NOFCS, LINKTYPE_IEEE802_15_4_TAP, LINKTYPE_IEEE802_15_4_WITHFCS,
};

const LINKTYPE_WITHFCS: u32 = LINKTYPE_IEEE802_15_4_WITHFCS as u32;
const LINKTYPE_NOFCS: u32 = LINKTYPE_IEEE802_15_4_NOFCS as u32;
const LINKTYPE_TAP: u32 = LINKTYPE_IEEE802_15_4_TAP as u32;

/// A pcap record or pcapng block longer than this is corruption, not a frame (802.15.4 frames
/// are ≤ 127 bytes; TAP headers add a few dozen).
const MAX_SANE_RECORD: u32 = 256 * 1024;

/// One 802.15.4 frame from a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedFrame {
    /// Timestamp, µs since the epoch of the capture.
    pub ts_us: u64,
    /// The PSDU with its FCS (computed when the capture had none).
    pub psdu: Vec<u8>,
    /// The FCS was not in the capture and was computed here.
    pub fcs_added: bool,
}

/// What a capture held.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CaptureContents {
    /// 802.15.4 frames, in file order.
    pub frames: Vec<CapturedFrame>,
    /// Packets of other link types (skipped).
    pub other_linktype: u64,
    /// Packets whose record or pseudo-header was malformed (skipped).
    pub malformed: u64,
}

/// Why a capture could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PcapError {
    /// Neither a pcap nor a pcapng file.
    NotACapture,
    /// The file ends inside a header.
    Truncated,
    /// No 802.15.4 link type in the file.
    NoIeee802154,
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PcapError::NotACapture => "not a pcap or pcapng file",
            PcapError::Truncated => "the file is truncated inside a header",
            PcapError::NoIeee802154 => {
                "no IEEE 802.15.4 link type (195, 230 or 283) in the capture"
            }
        })
    }
}

impl std::error::Error for PcapError {}

struct Rd<'a> {
    b: &'a [u8],
    le: bool,
}

impl Rd<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let s: [u8; 2] = self.b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.le {
            u16::from_le_bytes(s)
        } else {
            u16::from_be_bytes(s)
        })
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let s: [u8; 4] = self.b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.le {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    }
}

/// CRC-16/KERMIT as 802.15.4 uses it, appended little-endian.
fn append_fcs(p: &mut Vec<u8>) {
    let crc = crc::Crc::<u16>::new(&crc::CRC_16_KERMIT).checksum(p);
    p.extend_from_slice(&crc.to_le_bytes());
}

/// Convert one packet of `linktype` into a PSDU with FCS; `None` if malformed.
fn to_frame(linktype: u32, data: &[u8], ts_us: u64) -> Option<CapturedFrame> {
    let (mut psdu, has_fcs) = match linktype {
        LINKTYPE_WITHFCS => (data.to_vec(), true),
        LINKTYPE_NOFCS => (data.to_vec(), false),
        LINKTYPE_TAP => {
            let (body, fcs_type) = tap::parse(data)?;
            match fcs_type {
                FcsType::None => (body.to_vec(), false),
                FcsType::Crc16 => (body.to_vec(), true),
                FcsType::Unknown(_) => return None,
            }
        }
        _ => return None,
    };
    if !has_fcs {
        append_fcs(&mut psdu);
    }
    if psdu.len() < 5 || psdu.len() > 127 {
        return None;
    }
    Some(CapturedFrame {
        ts_us,
        psdu,
        fcs_added: !has_fcs,
    })
}

fn is_15_4(lt: u32) -> bool {
    matches!(lt, LINKTYPE_WITHFCS | LINKTYPE_NOFCS | LINKTYPE_TAP)
}

/// What a file's first four bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Classic pcap: byte order, nanosecond (instead of microsecond) timestamps.
    Pcap { le: bool, nanos: bool },
    /// pcapng (the byte order is per section).
    Pcapng,
}

fn format(magic: &[u8]) -> Option<Format> {
    Some(match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => Format::Pcap {
            le: true,
            nanos: false,
        },
        [0xa1, 0xb2, 0xc3, 0xd4] => Format::Pcap {
            le: false,
            nanos: false,
        },
        [0x4d, 0x3c, 0xb2, 0xa1] => Format::Pcap {
            le: true,
            nanos: true,
        },
        [0xa1, 0xb2, 0x3c, 0x4d] => Format::Pcap {
            le: false,
            nanos: true,
        },
        [0x0a, 0x0d, 0x0d, 0x0a] => Format::Pcapng,
        _ => return None,
    })
}

/// Read every 802.15.4 frame of a pcap or pcapng file's bytes.
pub fn read_15_4(b: &[u8]) -> Result<CaptureContents, PcapError> {
    let magic = b.get(..4).ok_or(PcapError::Truncated)?;
    match format(magic) {
        Some(Format::Pcap { le, nanos }) => read_pcap(b, le, nanos),
        Some(Format::Pcapng) => read_pcapng(b),
        None => Err(PcapError::NotACapture),
    }
}

fn read_pcap(b: &[u8], le: bool, nanos: bool) -> Result<CaptureContents, PcapError> {
    let r = Rd { b, le };
    let lt = r.u32(20).ok_or(PcapError::Truncated)? & 0x0fff_ffff;
    if !is_15_4(lt) {
        return Err(PcapError::NoIeee802154);
    }
    let mut out = CaptureContents::default();
    let mut off = 24usize;
    while off < b.len() {
        let (Some(sec), Some(frac), Some(incl)) = (r.u32(off), r.u32(off + 4), r.u32(off + 8))
        else {
            out.malformed += 1;
            break;
        };
        let start = off + 16;
        let Some(data) = start
            .checked_add(incl as usize)
            .and_then(|end| b.get(start..end))
        else {
            out.malformed += 1;
            break;
        };
        let us = if nanos {
            u64::from(frac) / 1000
        } else {
            u64::from(frac)
        };
        let ts = u64::from(sec) * 1_000_000 + us;
        match to_frame(lt, data, ts) {
            Some(f) => out.frames.push(f),
            None => out.malformed += 1,
        }
        off = start + data.len();
    }
    Ok(out)
}

fn read_pcapng(b: &[u8]) -> Result<CaptureContents, PcapError> {
    let mut out = CaptureContents::default();
    // Per section: (linktype, ticks per second) of each interface.
    let mut ifaces: Vec<(u32, u64)> = Vec::new();
    let mut le = true;
    let mut off = 0usize;
    let mut saw_15_4 = false;
    while off < b.len() {
        let ty_raw = b.get(off..off + 4).ok_or(PcapError::Truncated)?;
        if ty_raw == block::SHB.to_le_bytes() {
            let bom = b.get(off + 8..off + 12).ok_or(PcapError::Truncated)?;
            le = match bom {
                [0x4d, 0x3c, 0x2b, 0x1a] => true,
                [0x1a, 0x2b, 0x3c, 0x4d] => false,
                _ => return Err(PcapError::NotACapture),
            };
            ifaces.clear();
        }
        let r = Rd { b, le };
        let ty = r.u32(off).ok_or(PcapError::Truncated)?;
        let len = r.u32(off + 4).ok_or(PcapError::Truncated)? as usize;
        if len < 12 || !len.is_multiple_of(4) || off.checked_add(len).is_none_or(|e| e > b.len()) {
            out.malformed += 1;
            break;
        }
        let body = off + 8..off + len - 4;
        match ty {
            block::IDB => {
                let lt = u32::from(r.u16(body.start).ok_or(PcapError::Truncated)?);
                let mut tps = 1_000_000u64;
                // Options after linktype(2) reserved(2) snaplen(4).
                let mut o = body.start + 8;
                while o + 4 <= body.end {
                    let code = r.u16(o).unwrap_or(0);
                    let olen = usize::from(r.u16(o + 2).unwrap_or(0));
                    if code == 0 {
                        break;
                    }
                    if code == 9 && olen == 1 {
                        let v = b.get(o + 4).copied().unwrap_or(6);
                        let exp = u32::from(v & 0x7f);
                        tps = if v & 0x80 != 0 {
                            2u64.checked_pow(exp).unwrap_or(1_000_000)
                        } else {
                            10u64.checked_pow(exp).unwrap_or(1_000_000)
                        };
                    }
                    o += 4 + olen.div_ceil(4) * 4;
                }
                saw_15_4 |= is_15_4(lt);
                ifaces.push((lt, tps.max(1)));
            }
            block::EPB => {
                let (Some(id), Some(hi), Some(lo), Some(cap)) = (
                    r.u32(body.start),
                    r.u32(body.start + 4),
                    r.u32(body.start + 8),
                    r.u32(body.start + 12),
                ) else {
                    out.malformed += 1;
                    off += len;
                    continue;
                };
                let start = body.start + 20;
                let data = start
                    .checked_add(cap as usize)
                    .filter(|e| *e <= body.end)
                    .and_then(|e| b.get(start..e));
                match (ifaces.get(id as usize), data) {
                    (Some(&(lt, tps)), Some(data)) if is_15_4(lt) => {
                        let ticks = (u64::from(hi) << 32) | u64::from(lo);
                        let ts = (u128::from(ticks) * 1_000_000 / u128::from(tps)) as u64;
                        match to_frame(lt, data, ts) {
                            Some(f) => out.frames.push(f),
                            None => out.malformed += 1,
                        }
                    }
                    (Some(_), Some(_)) => out.other_linktype += 1,
                    _ => out.malformed += 1,
                }
            }
            block::SPB => {
                // Simple Packet Block: interface 0, no timestamp.
                let data = b.get(body.start + 4..body.end);
                match (ifaces.first(), data) {
                    (Some(&(lt, _)), Some(data)) if is_15_4(lt) => {
                        let orig = r.u32(body.start).unwrap_or(0) as usize;
                        let d = data.get(..orig.min(data.len())).unwrap_or(data);
                        match to_frame(lt, d, 0) {
                            Some(f) => out.frames.push(f),
                            None => out.malformed += 1,
                        }
                    }
                    (Some(_), Some(_)) => out.other_linktype += 1,
                    _ => out.malformed += 1,
                }
            }
            _ => {}
        }
        off += len;
    }
    if !saw_15_4 {
        return Err(PcapError::NoIeee802154);
    }
    Ok(out)
}

/// The byte length of the intact part of a capture, and what is wrong right after it (a record
/// or block running past the end of the file, an impossible length). A file too short for its
/// file header is left to [`read_15_4`] to report.
pub fn intact_len(b: &[u8]) -> (usize, Option<&'static str>) {
    let u32_at = |at: usize, le: bool| Rd { b, le }.u32(at);
    match b.get(..4).and_then(format) {
        Some(Format::Pcap { le, .. }) => pcap_intact(b, le, u32_at),
        Some(Format::Pcapng) => pcapng_intact(b, u32_at),
        None => (b.len(), None),
    }
}

fn pcap_intact(
    b: &[u8],
    le: bool,
    u32_at: impl Fn(usize, bool) -> Option<u32>,
) -> (usize, Option<&'static str>) {
    if b.len() < 24 {
        return (b.len(), None);
    }
    let mut off = 24usize;
    while off < b.len() {
        let Some(incl) = u32_at(off + 8, le).filter(|_| off + 16 <= b.len()) else {
            return (off, Some("the last record header is cut short"));
        };
        if incl > MAX_SANE_RECORD {
            return (off, Some("a record claims an implausible length"));
        }
        match (off + 16).checked_add(incl as usize) {
            Some(end) if end <= b.len() => off = end,
            _ => return (off, Some("the last record runs past the end of the file")),
        }
    }
    (off, None)
}

fn pcapng_intact(
    b: &[u8],
    u32_at: impl Fn(usize, bool) -> Option<u32>,
) -> (usize, Option<&'static str>) {
    let mut le = true;
    let mut off = 0usize;
    while off < b.len() {
        if b.get(off..off + 4) == Some(&block::SHB.to_le_bytes()) {
            le = match b.get(off + 8..off + 12) {
                Some([0x4d, 0x3c, 0x2b, 0x1a]) => true,
                Some([0x1a, 0x2b, 0x3c, 0x4d]) => false,
                Some(_) => return (off, Some("a section header has a bad byte-order magic")),
                None => return (off, Some("the last block is cut short")),
            };
        }
        let Some(len) = u32_at(off + 4, le) else {
            return (off, Some("the last block header is cut short"));
        };
        if len < 12 || len % 4 != 0 || len > MAX_SANE_RECORD {
            return (off, Some("a block claims an implausible length"));
        }
        let Some(end) = off.checked_add(len as usize).filter(|e| *e <= b.len()) else {
            return (off, Some("the last block runs past the end of the file"));
        };
        if u32_at(end - 4, le) != Some(len) {
            return (
                off,
                Some("a block's trailing length does not match its header"),
            );
        }
        off = end;
    }
    (off, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap(lt: u32, frames: &[&[u8]]) -> Vec<u8> {
        let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&lt.to_le_bytes());
        for (i, f) in frames.iter().enumerate() {
            v.extend_from_slice(&(i as u32).to_le_bytes());
            v.extend_from_slice(&500u32.to_le_bytes());
            v.extend_from_slice(&(f.len() as u32).to_le_bytes());
            v.extend_from_slice(&(f.len() as u32).to_le_bytes());
            v.extend_from_slice(f);
        }
        v
    }

    #[test]
    fn pcap_nofcs_gets_a_kermit_fcs() {
        // An ACK frame (FC 0x0002, seq 0x05): FCS from an independent reference value.
        let c = read_15_4(&pcap(230, &[&[0x02, 0x00, 0x05]])).unwrap();
        assert_eq!(c.frames.len(), 1);
        let f = &c.frames[0];
        assert_eq!(f.ts_us, 500);
        assert!(f.fcs_added);
        // CRC-16/KERMIT("123456789") = 0x2189: check the algorithm itself.
        let k = crc::Crc::<u16>::new(&crc::CRC_16_KERMIT);
        assert_eq!(k.checksum(b"123456789"), 0x2189);
        assert_eq!(f.psdu.len(), 5);
    }

    #[test]
    fn truncated_and_foreign_files_are_errors_or_counted() {
        assert_eq!(read_15_4(b"abc"), Err(PcapError::Truncated));
        assert_eq!(read_15_4(b"GIF89a.........."), Err(PcapError::NotACapture));
        assert_eq!(read_15_4(&pcap(1, &[])), Err(PcapError::NoIeee802154));
        let mut p = pcap(195, &[&[1, 2, 3, 4, 5, 6]]);
        p.truncate(p.len() - 2);
        let c = read_15_4(&p).unwrap();
        assert_eq!((c.frames.len(), c.malformed), (0, 1));
        // Every prefix of a valid file is handled without panicking.
        let p = pcap(195, &[&[1, 2, 3, 4, 5, 6], &[7; 20]]);
        for n in 0..p.len() {
            let _ = read_15_4(&p[..n]);
        }
    }

    #[test]
    fn pcapng_tap_written_by_the_sim_writer_reads_back() {
        let buf = crate::pcapng::SharedBuf::default();
        let mut w = crate::pcapng::PcapngWriter::new(
            buf.clone(),
            &[crate::pcapng::InterfaceDesc {
                linktype: crate::LINKTYPE_IEEE802_15_4_TAP,
                name: "wpan0".into(),
                snaplen: 0,
            }],
        )
        .unwrap();
        let mut psdu = vec![0x41, 0xd8, 0x01, 0xcd, 0xab, 0xff, 0xff, 0x01, 0x00, 0x42];
        append_fcs(&mut psdu);
        let info = crate::TapInfo {
            channel: 26,
            rssi_dbm: Some(-60),
            lqi: Some(200),
            start_us: 1000,
            end_us: 1480,
        };
        w.write_15_4(0, &psdu, &info).unwrap();
        w.finish().unwrap();
        let c = read_15_4(&buf.bytes()).unwrap();
        assert_eq!(c.frames.len(), 1);
        assert_eq!(c.frames[0].psdu, psdu);
        assert_eq!(c.frames[0].ts_us, 1480);
        assert!(!c.frames[0].fcs_added);
    }
}
