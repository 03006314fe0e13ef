//! The configuration and the link-layer security counter in flash, over the nRF52840 NVMC:
//! [`firmware::store::ConfigStore`] and [`firmware::store::CounterStore`].
//!
//! # Layout
//!
//! Four 4 KiB pages at the end of the 1 MiB flash (memory.x keeps code below them):
//!
//! | page | address range              | holds |
//! | ---- | -------------------------- | ----- |
//! | counter A | 0x000F_C000..0x000F_D000 | security counter log ([`firmware::store::counter_log`]) |
//! | counter B | 0x000F_D000..0x000F_E000 | security counter log |
//! | config A  | 0x000F_E000..0x000F_F000 | configuration |
//! | config B  | 0x000F_F000..0x0010_0000 | configuration |
//!
//! The counter pages are an append-only log of 8-byte records (format, power-cut rules and
//! wear in `firmware::store::counter_log`; this file only programs, erases and reads them): a
//! save is two word programs, a page erase (85 ms, CPU stalled) comes once every 510 saves.
//! A configuration reset (`sixgate config reset`) never erases them: a frame counter must not
//! be sent twice under one key.
//!
//! # Configuration pages
//!
//! Each page holds one record: a 16-byte header, then the data (padded with 0xff to a whole
//! 32-bit word, the NVMC's write unit):
//!
//! | offset | field    | value |
//! | ------ | -------- | ----- |
//! | 0      | magic    | `"SGST"`; written last |
//! | 4      | sequence | u32 LE, +1 per save (wrapping) |
//! | 8      | length   | u32 LE, data bytes |
//! | 12     | crc      | CRC-32 (ISO-HDLC) of sequence, length and data |
//!
//! # Atomicity
//!
//! `save` erases the page that does *not* hold the newest valid record, writes data, then
//! sequence/length/crc, and the magic word last. A power cut at any point leaves that page
//! without a valid record (erased magic, or a CRC that does not match), so `load` still finds
//! the previous record in the other page. `load` takes the valid record with the newer
//! sequence number (serial-number arithmetic, so wrapping is fine). `erase` erases both pages.
//!
//! Erasing a page takes up to 85 ms, during which the CPU stalls (it executes from the same
//! flash) and the radio interrupt waits: saving is a management action, not a data-path one.

use embassy_nrf::nvmc::Nvmc;
use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use firmware::store::counter_log::{CounterFlash, CounterLog, CounterLogError, PAGE_WORDS, Page};
use firmware::store::{ConfigStore, CounterStore, SecurityCounter};

/// Start of page A.
pub const PAGE_A: u32 = 0x000f_e000;
/// Start of page B.
pub const PAGE_B: u32 = 0x000f_f000;
/// Start of the counter log's page A.
pub const COUNTER_A: u32 = 0x000f_c000;
/// Start of the counter log's page B.
pub const COUNTER_B: u32 = 0x000f_d000;
/// Flash page size of the nRF52840.
pub const PAGE_SIZE: u32 = 4096;

const MAGIC: [u8; 4] = *b"SGST";
const HEADER_LEN: usize = 16;
/// Largest record payload.
pub const MAX_DATA: usize = PAGE_SIZE as usize - HEADER_LEN;
const WORD: usize = 4;

const CRC: crc::Crc<u32, crc::NoTable> = crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// What went wrong in the flash store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, defmt::Format)]
#[non_exhaustive]
pub enum FlashStoreError {
    /// The NVMC refused an operation (address or alignment; a bug here).
    Flash,
    /// `save` got more than [`MAX_DATA`] bytes.
    TooLarge,
    /// `load`'s buffer is shorter than the stored record.
    BufferTooSmall,
    /// Reading back what was just written gave different bytes.
    Verify,
}

impl core::fmt::Display for FlashStoreError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FlashStoreError::Flash => "flash controller error",
            FlashStoreError::TooLarge => "configuration larger than a flash page",
            FlashStoreError::BufferTooSmall => "load buffer shorter than the stored record",
            FlashStoreError::Verify => "flash read-back differs from what was written",
        })
    }
}

impl core::error::Error for FlashStoreError {}

/// A valid record's header.
#[derive(Debug, Clone, Copy)]
struct Record {
    page: u32,
    seq: u32,
    len: usize,
}

/// The configuration store in the two configuration pages, and the counter log in the two
/// counter pages.
pub struct FlashStore<'d> {
    flash: Nvmc<'d>,
    counters: CounterLog,
}

impl<'d> FlashStore<'d> {
    /// A store on the NVMC.
    pub fn new(flash: Nvmc<'d>) -> Self {
        FlashStore {
            flash,
            counters: CounterLog::new(),
        }
    }

    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), FlashStoreError> {
        self.flash
            .read(addr, buf)
            .map_err(|_| FlashStoreError::Flash)
    }

    /// The page's record if it is complete and its CRC matches.
    fn record(&mut self, page: u32) -> Result<Option<Record>, FlashStoreError> {
        let mut h = [0u8; HEADER_LEN];
        self.read(page, &mut h)?;
        let [
            m0,
            m1,
            m2,
            m3,
            s0,
            s1,
            s2,
            s3,
            l0,
            l1,
            l2,
            l3,
            c0,
            c1,
            c2,
            c3,
        ] = h;
        if [m0, m1, m2, m3] != MAGIC {
            return Ok(None);
        }
        let seq = u32::from_le_bytes([s0, s1, s2, s3]);
        let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
        if len > MAX_DATA {
            return Ok(None);
        }
        let mut digest = CRC.digest();
        digest.update(&[s0, s1, s2, s3, l0, l1, l2, l3]);
        // Stream the data through the CRC in small chunks (no page-sized buffer on the stack).
        let mut chunk = [0u8; 64];
        let mut off = 0usize;
        while off < len {
            let n = (len - off).min(chunk.len());
            let c = &mut chunk[..n];
            self.read(page + (HEADER_LEN + off) as u32, c)?;
            digest.update(c);
            off += n;
        }
        if digest.finalize() != u32::from_le_bytes([c0, c1, c2, c3]) {
            return Ok(None);
        }
        Ok(Some(Record { page, seq, len }))
    }

    /// The newest valid record of the two pages.
    fn newest(&mut self) -> Result<Option<Record>, FlashStoreError> {
        let a = self.record(PAGE_A)?;
        let b = self.record(PAGE_B)?;
        Ok(match (a, b) {
            (Some(a), Some(b)) => Some(if newer(b.seq, a.seq) { b } else { a }),
            (a, b) => a.or(b),
        })
    }

    fn write(&mut self, addr: u32, data: &[u8]) -> Result<(), FlashStoreError> {
        self.flash
            .write(addr, data)
            .map_err(|_| FlashStoreError::Flash)
    }
}

/// Serial-number comparison: `a` is newer than `b`.
fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl ConfigStore for FlashStore<'_> {
    type Error = FlashStoreError;

    fn load(&mut self, buf: &mut [u8]) -> Result<Option<usize>, FlashStoreError> {
        let Some(rec) = self.newest()? else {
            return Ok(None);
        };
        let dst = buf
            .get_mut(..rec.len)
            .ok_or(FlashStoreError::BufferTooSmall)?;
        self.read(rec.page + HEADER_LEN as u32, dst)?;
        Ok(Some(rec.len))
    }

    fn save(&mut self, data: &[u8]) -> Result<(), FlashStoreError> {
        if data.len() > MAX_DATA {
            return Err(FlashStoreError::TooLarge);
        }
        let current = self.newest()?;
        let (page, seq) = match current {
            Some(r) if r.page == PAGE_A => (PAGE_B, r.seq.wrapping_add(1)),
            Some(r) => (PAGE_A, r.seq.wrapping_add(1)),
            None => (PAGE_A, 1),
        };
        self.flash
            .erase(page, page + PAGE_SIZE)
            .map_err(|_| FlashStoreError::Flash)?;

        // Data, whole words (the tail padded with the erased value).
        let body = page + HEADER_LEN as u32;
        let whole = data.len() - data.len() % WORD;
        let (head, tail) = data.split_at(whole);
        if !head.is_empty() {
            self.write(body, head)?;
        }
        if !tail.is_empty() {
            let mut w = [0xffu8; WORD];
            w[..tail.len()].copy_from_slice(tail);
            self.write(body + whole as u32, &w)?;
        }

        let len = (data.len() as u32).to_le_bytes();
        let seq_b = seq.to_le_bytes();
        let mut digest = CRC.digest();
        digest.update(&seq_b);
        digest.update(&len);
        digest.update(data);
        let crc = digest.finalize().to_le_bytes();
        let mut meta = [0u8; 12];
        meta[..4].copy_from_slice(&seq_b);
        meta[4..8].copy_from_slice(&len);
        meta[8..].copy_from_slice(&crc);
        self.write(page + 4, &meta)?;
        // The commit point.
        self.write(page, &MAGIC)?;

        match self.record(page)? {
            Some(r) if r.seq == seq && r.len == data.len() => Ok(()),
            _ => Err(FlashStoreError::Verify),
        }
    }

    fn erase(&mut self) -> Result<(), FlashStoreError> {
        self.flash
            .erase(PAGE_A, PAGE_B + PAGE_SIZE)
            .map_err(|_| FlashStoreError::Flash)
    }
}

/// The counter log's two pages on the NVMC.
struct CounterPages<'a, 'd>(&'a mut Nvmc<'d>);

/// Word `word` (< a page, from the counter log) of page `p` as a flash address.
fn counter_addr(p: Page, word: usize) -> Result<u32, FlashStoreError> {
    let base = match p {
        Page::A => COUNTER_A,
        Page::B => COUNTER_B,
    };
    (word < PAGE_WORDS)
        .then(|| base + word as u32 * 4)
        .ok_or(FlashStoreError::Flash)
}

impl CounterFlash for CounterPages<'_, '_> {
    type Error = FlashStoreError;

    fn read(&mut self, page: Page, word: usize) -> Result<u32, FlashStoreError> {
        let mut w = [0u8; 4];
        self.0
            .read(counter_addr(page, word)?, &mut w)
            .map_err(|_| FlashStoreError::Flash)?;
        Ok(u32::from_le_bytes(w))
    }

    fn program(&mut self, page: Page, word: usize, value: u32) -> Result<(), FlashStoreError> {
        self.0
            .write(counter_addr(page, word)?, &value.to_le_bytes())
            .map_err(|_| FlashStoreError::Flash)
    }

    fn erase(&mut self, page: Page) -> Result<(), FlashStoreError> {
        let at = counter_addr(page, 0)?;
        self.0
            .erase(at, at + PAGE_SIZE)
            .map_err(|_| FlashStoreError::Flash)
    }
}

impl CounterStore for FlashStore<'_> {
    type Error = CounterLogError<FlashStoreError>;

    fn load_counter(&mut self) -> Result<Option<SecurityCounter>, Self::Error> {
        self.counters
            .load(&mut CounterPages(&mut self.flash))
            .map_err(CounterLogError::Flash)
    }

    fn save_counter(&mut self, c: SecurityCounter) -> Result<(), Self::Error> {
        self.counters.save(&mut CounterPages(&mut self.flash), c)
    }
}
