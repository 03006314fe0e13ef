//! A pcapng writer: Section Header, one Interface Description per interface (with `if_name`
//! and `if_tsresol`), Enhanced Packet and Interface Statistics blocks, little-endian.
//! Timestamps are microseconds (`if_tsresol` = 6); every block is 32-bit aligned. (Why not the
//! `pcap-file` crate: see the crate docs.)

use std::io::{self, Write};

use crate::tap::{self, TapInfo};

/// Block types.
pub(crate) mod block {
    /// Section Header Block (the same bytes in either byte order).
    pub const SHB: u32 = 0x0A0D_0D0A;
    /// Interface Description Block.
    pub const IDB: u32 = 0x0000_0001;
    /// Simple Packet Block.
    pub const SPB: u32 = 0x0000_0003;
    /// Interface Statistics Block.
    pub const ISB: u32 = 0x0000_0005;
    /// Enhanced Packet Block.
    pub const EPB: u32 = 0x0000_0006;
}

/// An interface to declare in the section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceDesc {
    /// Link type (e.g. [`crate::LINKTYPE_IEEE802_15_4_TAP`]).
    pub linktype: u16,
    /// `if_name`, e.g. `wpan0`.
    pub name: String,
    /// Snap length (0 = unlimited).
    pub snaplen: u32,
}

/// `shb_userappl` of [`PcapngWriter::new`].
pub const DEFAULT_APPLICATION: &str = concat!("sixgate ", env!("CARGO_PKG_VERSION"));

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
    /// (interface ids are their indices); `shb_userappl` is [`DEFAULT_APPLICATION`].
    pub fn new(out: W, interfaces: &[InterfaceDesc]) -> io::Result<Self> {
        Self::with_application(out, DEFAULT_APPLICATION, interfaces)
    }

    /// [`PcapngWriter::new`] naming the program that writes the file (`shb_userappl`, e.g.
    /// `sixgate-sim 0.1.0`).
    pub fn with_application(
        out: W,
        application: &str,
        interfaces: &[InterfaceDesc],
    ) -> io::Result<Self> {
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
        // shb_userappl; an option value is at most 65535 bytes.
        let appl = application.as_bytes();
        opt(
            &mut body,
            4,
            appl.get(..usize::from(u16::MAX)).unwrap_or(appl),
        );
        end_opts(&mut body);
        w.write_block(block::SHB, &body)?;
        for i in interfaces {
            let mut body = Vec::new();
            body.extend_from_slice(&i.linktype.to_le_bytes());
            body.extend_from_slice(&0u16.to_le_bytes());
            body.extend_from_slice(&i.snaplen.to_le_bytes());
            opt(&mut body, 2, i.name.as_bytes()); // if_name
            opt(&mut body, 9, &[6]); // if_tsresol: microseconds
            end_opts(&mut body);
            w.write_block(block::IDB, &body)?;
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
        self.write_block(block::EPB, &body)
    }

    /// An 802.15.4 frame (`psdu` with its FCS) on a [`crate::LINKTYPE_IEEE802_15_4_TAP`] interface,
    /// timestamped with the end of the frame.
    pub fn write_15_4(&mut self, iface: u32, psdu: &[u8], info: &TapInfo) -> io::Result<()> {
        let mut data = tap::header(info);
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
        self.write_block(block::ISB, &body)
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
    use crate::LINKTYPE_IEEE802_15_4_TAP;

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
        assert_eq!(types, vec![block::SHB, block::IDB, block::EPB, block::ISB]);
        let tap = tap::header(&info);
        assert_eq!(tap.len() % 4, 0);
        assert_eq!(u16::from_le_bytes([tap[2], tap[3]]) as usize, tap.len());
    }

    /// The section header's first option is `shb_userappl`: the writer's name.
    #[test]
    fn section_header_names_the_application() {
        let userappl = |buf: &[u8]| {
            // Block type, length, byte-order magic, version, section length: options at 24.
            assert_eq!(u16::from_le_bytes([buf[24], buf[25]]), 4);
            let n = usize::from(u16::from_le_bytes([buf[26], buf[27]]));
            String::from_utf8(buf[28..28 + n].to_vec()).unwrap()
        };
        let w = PcapngWriter::with_application(Vec::new(), "sixgate-sim 9.9", &[]).unwrap();
        assert_eq!(userappl(&w.finish().unwrap()), "sixgate-sim 9.9");
        let w = PcapngWriter::new(Vec::new(), &[]).unwrap();
        assert_eq!(userappl(&w.finish().unwrap()), DEFAULT_APPLICATION);
        assert!(DEFAULT_APPLICATION.starts_with("sixgate "));
    }
}
