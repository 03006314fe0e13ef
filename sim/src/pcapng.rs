//! A small pcapng writer: Section Header, Interface Description (with `if_name` and
//! `if_tsresol`), Enhanced Packet and Interface Statistics blocks, little-endian.
//!
//! Hand-written rather than taken from the `pcap-file` crate: the format needs only a few
//! dozen lines here, the IEEE 802.15.4 TAP pseudo-header (LINKTYPE_IEEE802_15_4_TAP, 283)
//! would have to be built by hand anyway, and the firmware and host CLI can reuse this module
//! without another dependency. Timestamps are microseconds (`if_tsresol` = 6), as DESIGN.md
//! asks; every block is 32-bit aligned.

use std::io::{self, Write};

/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u16 = 1;
/// LINKTYPE_IEEE802_15_4_TAP: a TLV pseudo-header, then the PSDU with its FCS.
pub const LINKTYPE_IEEE802_15_4_TAP: u16 = 283;

const BT_SHB: u32 = 0x0A0D_0D0A;
const BT_IDB: u32 = 0x0000_0001;
const BT_ISB: u32 = 0x0000_0005;
const BT_EPB: u32 = 0x0000_0006;

/// TAP TLV types (IEEE 802.15.4 TAP link type specification).
mod tap {
    pub const FCS_TYPE: u16 = 0;
    pub const RSS: u16 = 1;
    pub const CHANNEL: u16 = 3;
    pub const SOF_TS: u16 = 5;
    pub const EOF_TS: u16 = 6;
    pub const LQI: u16 = 10;
    /// FCS_TYPE value: 16-bit CRC.
    pub const FCS_16: u8 = 1;
}

/// An interface to declare in the section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceDesc {
    /// Link type (e.g. [`LINKTYPE_IEEE802_15_4_TAP`]).
    pub linktype: u16,
    /// `if_name`, e.g. `wpan0`.
    pub name: String,
    /// Snap length (0 = unlimited).
    pub snaplen: u32,
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
pub fn tap_header(info: &TapInfo) -> Vec<u8> {
    let mut tlvs = Vec::with_capacity(64);
    let mut tlv = |t: u16, v: &[u8]| {
        tlvs.extend_from_slice(&t.to_le_bytes());
        tlvs.extend_from_slice(&(v.len() as u16).to_le_bytes());
        tlvs.extend_from_slice(v);
        while !tlvs.len().is_multiple_of(4) {
            tlvs.push(0);
        }
    };
    tlv(tap::FCS_TYPE, &[tap::FCS_16]);
    let ch = u16::from(info.channel).to_le_bytes();
    tlv(tap::CHANNEL, &[ch[0], ch[1], 0]);
    if let Some(r) = info.rssi_dbm {
        tlv(tap::RSS, &f32::from(r).to_le_bytes());
    }
    if let Some(l) = info.lqi {
        tlv(tap::LQI, &[l]);
    }
    tlv(
        tap::SOF_TS,
        &info.start_us.saturating_mul(1000).to_le_bytes(),
    );
    tlv(tap::EOF_TS, &info.end_us.saturating_mul(1000).to_le_bytes());
    let total = 4 + tlvs.len();
    let mut out = Vec::with_capacity(total);
    out.push(0); // version
    out.push(0); // reserved
    out.extend_from_slice(&(total as u16).to_le_bytes());
    out.extend_from_slice(&tlvs);
    out
}

/// A pcapng writer over any [`Write`].
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    out: W,
    interfaces: usize,
    block: Vec<u8>,
}

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

fn opt(v: &mut Vec<u8>, code: u16, value: &[u8]) {
    v.extend_from_slice(&code.to_le_bytes());
    v.extend_from_slice(&(value.len() as u16).to_le_bytes());
    v.extend_from_slice(value);
    pad4(v);
}

fn end_opts(v: &mut Vec<u8>) {
    v.extend_from_slice(&[0, 0, 0, 0]);
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the section header and one interface block per entry of `interfaces`
    /// (interface ids are their indices).
    pub fn new(out: W, interfaces: &[InterfaceDesc]) -> io::Result<Self> {
        let mut w = PcapngWriter {
            out,
            interfaces: interfaces.len(),
            block: Vec::with_capacity(256),
        };
        let mut body = Vec::new();
        body.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        opt(&mut body, 4, b"sixgate sim"); // shb_userappl
        end_opts(&mut body);
        w.write_block(BT_SHB, &body)?;
        for i in interfaces {
            let mut body = Vec::new();
            body.extend_from_slice(&i.linktype.to_le_bytes());
            body.extend_from_slice(&0u16.to_le_bytes());
            body.extend_from_slice(&i.snaplen.to_le_bytes());
            opt(&mut body, 2, i.name.as_bytes()); // if_name
            opt(&mut body, 9, &[6]); // if_tsresol: microseconds
            end_opts(&mut body);
            w.write_block(BT_IDB, &body)?;
        }
        Ok(w)
    }

    fn write_block(&mut self, ty: u32, body: &[u8]) -> io::Result<()> {
        let len = (12 + body.len()) as u32;
        self.block.clear();
        self.block.extend_from_slice(&ty.to_le_bytes());
        self.block.extend_from_slice(&len.to_le_bytes());
        self.block.extend_from_slice(body);
        self.block.extend_from_slice(&len.to_le_bytes());
        self.out.write_all(&self.block)
    }

    fn check_iface(&self, iface: u32) -> io::Result<()> {
        if (iface as usize) < self.interfaces {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "unknown pcapng interface id",
            ))
        }
    }

    /// An Enhanced Packet Block: `data` captured on `iface` at `ts_us`.
    pub fn write_packet(&mut self, iface: u32, ts_us: u64, data: &[u8]) -> io::Result<()> {
        self.check_iface(iface)?;
        let mut body = Vec::with_capacity(20 + data.len() + 4);
        body.extend_from_slice(&iface.to_le_bytes());
        body.extend_from_slice(&((ts_us >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts_us as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        pad4(&mut body);
        self.write_block(BT_EPB, &body)
    }

    /// An 802.15.4 frame (`psdu` with its FCS) on a [`LINKTYPE_IEEE802_15_4_TAP`] interface,
    /// timestamped with the end of the frame.
    pub fn write_15_4(&mut self, iface: u32, psdu: &[u8], info: &TapInfo) -> io::Result<()> {
        let mut data = tap_header(info);
        data.extend_from_slice(psdu);
        self.write_packet(iface, info.end_us, &data)
    }

    /// An Interface Statistics Block: packets received and dropped on `iface` between
    /// `start_us` and `end_us`.
    pub fn write_stats(
        &mut self,
        iface: u32,
        start_us: u64,
        end_us: u64,
        received: u64,
        dropped: u64,
    ) -> io::Result<()> {
        self.check_iface(iface)?;
        let mut body = Vec::new();
        body.extend_from_slice(&iface.to_le_bytes());
        body.extend_from_slice(&((end_us >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(end_us as u32).to_le_bytes());
        let split = |t: u64| {
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&((t >> 32) as u32).to_le_bytes());
            b[4..].copy_from_slice(&(t as u32).to_le_bytes());
            b
        };
        opt(&mut body, 2, &split(start_us)); // isb_starttime
        opt(&mut body, 3, &split(end_us)); // isb_endtime
        opt(&mut body, 4, &received.to_le_bytes()); // isb_ifrecv
        opt(&mut body, 5, &dropped.to_le_bytes()); // isb_ifdrop
        end_opts(&mut body);
        self.write_block(BT_ISB, &body)
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }
}

/// A cloneable in-memory sink (`Rc<RefCell<Vec<u8>>>`) for captures that are inspected in
/// the same thread, e.g. by tests.
#[derive(Debug, Clone, Default)]
pub struct SharedBuf(pub std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl SharedBuf {
    /// A copy of the bytes written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.borrow().clone()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_and_lengths_match() {
        let ifs = [InterfaceDesc {
            linktype: LINKTYPE_IEEE802_15_4_TAP,
            name: "wpan0".into(),
            snaplen: 0,
        }];
        let mut w = PcapngWriter::new(Vec::new(), &ifs).unwrap();
        let info = TapInfo {
            channel: 15,
            rssi_dbm: Some(-60),
            lqi: Some(170),
            start_us: 1000,
            end_us: 1352,
        };
        w.write_15_4(0, &[0x02, 0, 7, 0x11, 0x22], &info).unwrap();
        w.write_stats(0, 0, 2000, 1, 3).unwrap();
        assert!(w.write_packet(1, 0, &[]).is_err());
        let buf = w.finish().unwrap();
        // Walk the blocks: each has equal leading and trailing lengths and is 4-aligned.
        let mut off = 0;
        let mut types = Vec::new();
        while off < buf.len() {
            let ty = u32::from_le_bytes(buf[off..off + 4].try_into().unwrap());
            let len = u32::from_le_bytes(buf[off + 4..off + 8].try_into().unwrap()) as usize;
            assert_eq!(len % 4, 0);
            let tail = u32::from_le_bytes(buf[off + len - 4..off + len].try_into().unwrap());
            assert_eq!(tail as usize, len);
            types.push(ty);
            off += len;
        }
        assert_eq!(types, vec![BT_SHB, BT_IDB, BT_EPB, BT_ISB]);
        let tap = tap_header(&info);
        assert_eq!(tap.len() % 4, 0);
        assert_eq!(u16::from_le_bytes([tap[2], tap[3]]) as usize, tap.len());
    }
}
