//! A classic pcap writer (libpcap's format): little-endian, microsecond timestamps, one link
//! type per file. `sixgate pcap decode` writes its LINKTYPE_IPV6 output with it.

use std::io::{self, Write};

/// One packet to write: its timestamp (µs) and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Timestamp, µs since the epoch of the capture.
    pub ts_us: u64,
    /// The packet.
    pub data: &'a [u8],
}

/// Write `records` as a classic pcap of `linktype` (snap length 65535).
pub fn write<'a>(
    linktype: u16,
    records: impl IntoIterator<Item = Record<'a>>,
    mut w: impl Write,
) -> io::Result<()> {
    let mut hdr = Vec::with_capacity(24);
    hdr.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    hdr.extend_from_slice(&2u16.to_le_bytes());
    hdr.extend_from_slice(&4u16.to_le_bytes());
    hdr.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    hdr.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    hdr.extend_from_slice(&65535u32.to_le_bytes()); // snaplen
    hdr.extend_from_slice(&u32::from(linktype).to_le_bytes());
    w.write_all(&hdr)?;
    for p in records {
        let sec = u32::try_from(p.ts_us / 1_000_000).unwrap_or(u32::MAX);
        let usec = (p.ts_us % 1_000_000) as u32;
        let len = u32::try_from(p.data.len()).unwrap_or(u32::MAX);
        let mut rec = [0u8; 16];
        for (i, v) in [sec, usec, len, len].into_iter().enumerate() {
            if let Some(s) = rec.get_mut(i * 4..i * 4 + 4) {
                s.copy_from_slice(&v.to_le_bytes());
            }
        }
        w.write_all(&rec)?;
        w.write_all(p.data)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let mut p = Vec::new();
        let data = [0x60, 0, 0, 0];
        write(
            229,
            [Record {
                ts_us: 3_000_004,
                data: &data,
            }],
            &mut p,
        )
        .unwrap();
        #[rustfmt::skip]
        let want: &[u8] = &[
            0xd4, 0xc3, 0xb2, 0xa1, // magic (LE, µs)
            2, 0, 4, 0,             // version 2.4
            0, 0, 0, 0, 0, 0, 0, 0, // thiszone, sigfigs
            0xff, 0xff, 0, 0,       // snaplen 65535
            229, 0, 0, 0,           // LINKTYPE_IPV6
            3, 0, 0, 0, 4, 0, 0, 0, // 3 s + 4 µs
            4, 0, 0, 0, 4, 0, 0, 0, // captured and original length
            0x60, 0, 0, 0,
        ];
        assert_eq!(p, want);
        // And our own reader's walker agrees the file is whole.
        assert_eq!(crate::intact_len(&p), (p.len(), None));
    }
}
