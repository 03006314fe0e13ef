//! The link-layer security counter ([`SecurityCounter`]) as an append-only log in two flash
//! pages: the record format and the rules (which record is the latest, where the next one goes,
//! when to switch pages), over a three-call flash trait ([`CounterFlash`]) that a board
//! implements with its flash controller (the nRF52840's NVMC in `boards/nrf52840/src/store.rs`).
//! Host tests drive it over a simulated NOR flash that loses power at every step.
//!
//! # Format
//!
//! Each page ([`PAGE_BYTES`]) is [`SLOTS`] slots of [`SLOT_BYTES`]; every slot is four
//! little-endian 32-bit words:
//!
//! | slot | word 0 | word 1 | word 2 | word 3 |
//! | ---- | ------ | ------ | ------ | ------ |
//! | 0 (page header) | `"SGCP"` | generation | 0 | CRC |
//! | 1..=255 (records) | `"SGFC"` | key sequence | frame counter | CRC |
//!
//! CRC is CRC-32/ISO-HDLC of words 0..=2. Words 1..=3 are programmed first and word 0 (the
//! magic) last: a slot whose magic and CRC match is complete. A slot that is not all `0xff` is
//! never programmed again (the NOR rule: a word is written once between erases), so a record cut
//! short by a power loss is skipped, not reused.
//!
//! # Rules
//!
//! - The *current* page is the one with a valid header and the newer generation (serial-number
//!   arithmetic). Its last valid record is the latest; when it has none (a cut between a page
//!   switch's header and its first record), the other page's last valid record is.
//! - A save appends at the slot after the current page's last non-erased slot. When the current
//!   page is full (or there is none), it erases the other page, writes its header with the next
//!   generation, and appends at slot 1. Read-back verifies every write; a failure rescans and
//!   tries once more ([`SAVE_ATTEMPTS`]).
//! - A power cut at any point leaves the last complete record, or the one before it, as
//!   [`CounterLog::load`]'s answer: the page being written is only erased once the other page
//!   holds the newest record, and a record counts only once its magic is down.
//!
//! # Wear
//!
//! A record is 4 word programs (about 165 µs on the nRF52840) and no erase; a page takes
//! [`RECORDS_PER_PAGE`] = 255 records, so one page erase (up to 85 ms of stalled CPU) per 255
//! saves, each page erased every 510. `l2_15_4`'s default persist step (1024) asks for a save
//! every 512 frames: a page erase every 130,560 frames, each page every 261,120. At the
//! nRF52840's 10,000 erase cycles per page that is 2.6 × 10⁹ frames — 8 years of 10 frames per
//! second without a pause, and beyond the 2³² frames after which a key sequence must rotate
//! anyway. (Each boot also saves once: the counter resumes a step ahead.)
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

use core::fmt;

use super::SecurityCounter;

/// Bytes of one flash page of the log.
pub const PAGE_BYTES: usize = 4096;
/// Bytes of one slot (page header or record).
pub const SLOT_BYTES: usize = 16;
/// Slots per page: the header and [`RECORDS_PER_PAGE`] records.
pub const SLOTS: usize = PAGE_BYTES / SLOT_BYTES;
/// Records per page.
pub const RECORDS_PER_PAGE: usize = SLOTS - 1;
/// Magic of a page header.
pub const HEADER_MAGIC: [u8; 4] = *b"SGCP";
/// Magic of a record.
pub const RECORD_MAGIC: [u8; 4] = *b"SGFC";
/// Write attempts of one save (the second after a rescan).
pub const SAVE_ATTEMPTS: usize = 2;
/// An erased slot.
const ERASED: [u8; SLOT_BYTES] = [0xff; SLOT_BYTES];

const CRC32: crc::Crc<u32, crc::NoTable> =
    crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// One of the log's two pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Page {
    /// The first page.
    A,
    /// The second page.
    B,
}

impl Page {
    /// The other page.
    pub const fn other(self) -> Page {
        match self {
            Page::A => Page::B,
            Page::B => Page::A,
        }
    }
}

/// The two pages of flash the log lives in: NOR semantics (erase sets every bit, programming
/// only clears bits), written in whole 32-bit words.
pub trait CounterFlash {
    /// What went wrong in the flash controller.
    type Error: fmt::Debug;

    /// Reads slot `slot` (< [`SLOTS`]) of `page`.
    fn read_slot(&mut self, page: Page, slot: usize) -> Result<[u8; SLOT_BYTES], Self::Error>;

    /// Programs `data` (a whole number of 32-bit words) at byte `offset` (word-aligned) of
    /// `page`, in order.
    fn program(&mut self, page: Page, offset: usize, data: &[u8]) -> Result<(), Self::Error>;

    /// Erases `page` (every byte `0xff`).
    fn erase(&mut self, page: Page) -> Result<(), Self::Error>;
}

/// Why [`CounterLog::save`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CounterLogError<E> {
    /// The flash controller failed.
    Flash(E),
    /// Reading back what was written gave other bytes, [`SAVE_ATTEMPTS`] times.
    Verify,
}

impl<E: fmt::Debug> fmt::Display for CounterLogError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CounterLogError::Flash(e) => write!(f, "counter flash failed: {e:?}"),
            CounterLogError::Verify => f.write_str("counter flash read-back differs"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for CounterLogError<E> {}

/// A slot: `magic`, two words, the CRC of the three (see the module docs).
pub fn encode_slot(magic: [u8; 4], a: u32, b: u32) -> [u8; SLOT_BYTES] {
    let [a0, a1, a2, a3] = a.to_le_bytes();
    let [b0, b1, b2, b3] = b.to_le_bytes();
    let [m0, m1, m2, m3] = magic;
    let body = [m0, m1, m2, m3, a0, a1, a2, a3, b0, b1, b2, b3];
    let [c0, c1, c2, c3] = CRC32.checksum(&body).to_le_bytes();
    [
        m0, m1, m2, m3, a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3,
    ]
}

/// The two words of a complete slot with `magic`, or `None`.
pub fn decode_slot(s: &[u8; SLOT_BYTES], magic: [u8; 4]) -> Option<(u32, u32)> {
    let [
        m0,
        m1,
        m2,
        m3,
        a0,
        a1,
        a2,
        a3,
        b0,
        b1,
        b2,
        b3,
        c0,
        c1,
        c2,
        c3,
    ] = *s;
    let body = [m0, m1, m2, m3, a0, a1, a2, a3, b0, b1, b2, b3];
    ([m0, m1, m2, m3] == magic && CRC32.checksum(&body) == u32::from_le_bytes([c0, c1, c2, c3]))
        .then_some((
            u32::from_le_bytes([a0, a1, a2, a3]),
            u32::from_le_bytes([b0, b1, b2, b3]),
        ))
}

/// What one page holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PageScan {
    /// The header's generation; `None`: no valid header (erased, cut, foreign).
    generation: Option<u32>,
    /// The last valid record.
    last: Option<SecurityCounter>,
    /// The slot after the last non-erased one: where a record goes next ([`SLOTS`]: full).
    next: usize,
}

/// Where the next record goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Write {
    page: Page,
    slot: usize,
    /// `Some(g)`: erase `page` and write a header of generation `g` first.
    start: Option<u32>,
}

/// Serial-number comparison: `a` is newer than `b`.
fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// The two pages' contents as last read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scan {
    a: PageScan,
    b: PageScan,
}

impl Scan {
    fn read<F: CounterFlash>(f: &mut F) -> Result<Scan, F::Error> {
        Ok(Scan {
            a: scan_page(f, Page::A)?,
            b: scan_page(f, Page::B)?,
        })
    }

    fn page(&self, p: Page) -> &PageScan {
        match p {
            Page::A => &self.a,
            Page::B => &self.b,
        }
    }

    fn page_mut(&mut self, p: Page) -> &mut PageScan {
        match p {
            Page::A => &mut self.a,
            Page::B => &mut self.b,
        }
    }

    /// The page with a valid header and the newer generation.
    fn current(&self) -> Option<Page> {
        match (self.a.generation, self.b.generation) {
            (Some(a), Some(b)) => Some(if newer(b, a) { Page::B } else { Page::A }),
            (Some(_), None) => Some(Page::A),
            (None, Some(_)) => Some(Page::B),
            (None, None) => None,
        }
    }

    fn latest(&self) -> Option<SecurityCounter> {
        let cur = self.current()?;
        let other = self.page(cur.other());
        self.page(cur).last.or(other.generation.and(other.last))
    }

    fn next_write(&self) -> Write {
        let Some(cur) = self.current() else {
            return Write {
                page: Page::A,
                slot: 1,
                start: Some(1),
            };
        };
        let p = self.page(cur);
        match p.generation {
            Some(g) if p.next >= SLOTS => Write {
                page: cur.other(),
                slot: 1,
                start: Some(g.wrapping_add(1)),
            },
            _ => Write {
                page: cur,
                slot: p.next,
                start: None,
            },
        }
    }
}

/// Reads one page's header and records.
fn scan_page<F: CounterFlash>(f: &mut F, page: Page) -> Result<PageScan, F::Error> {
    let generation = decode_slot(&f.read_slot(page, 0)?, HEADER_MAGIC).map(|(g, _)| g);
    let mut scan = PageScan {
        generation,
        last: None,
        next: 1,
    };
    if generation.is_none() {
        return Ok(scan);
    }
    for slot in 1..SLOTS {
        let s = f.read_slot(page, slot)?;
        if s != ERASED {
            scan.next = slot.saturating_add(1);
        }
        if let Some((key_sequence, frame_counter)) = decode_slot(&s, RECORD_MAGIC) {
            scan.last = Some(SecurityCounter {
                key_sequence,
                frame_counter,
            });
        }
    }
    Ok(scan)
}

/// Byte offset of `slot` in a page (`slot` < [`SLOTS`], so no overflow).
fn offset(slot: usize) -> usize {
    slot.saturating_mul(SLOT_BYTES)
}

/// Programs `s` into `slot` of `page`, the magic word last, and reads it back.
fn put_slot<F: CounterFlash>(
    f: &mut F,
    page: Page,
    slot: usize,
    s: &[u8; SLOT_BYTES],
) -> Result<bool, F::Error> {
    let (magic, rest) = s.split_at(4);
    let at = offset(slot);
    f.program(page, at.saturating_add(4), rest)?;
    f.program(page, at, magic)?;
    Ok(f.read_slot(page, slot)? == *s)
}

/// The counter log: what the two pages hold (read once, then kept up to date by each save).
#[derive(Clone, Debug, Default)]
pub struct CounterLog {
    scan: Option<Scan>,
}

impl CounterLog {
    /// A log not read yet.
    pub const fn new() -> Self {
        CounterLog { scan: None }
    }

    fn scan<F: CounterFlash>(&mut self, f: &mut F) -> Result<Scan, F::Error> {
        match self.scan {
            Some(s) => Ok(s),
            None => {
                let s = Scan::read(f)?;
                self.scan = Some(s);
                Ok(s)
            }
        }
    }

    /// The latest complete record, `None` when the pages hold none.
    pub fn load<F: CounterFlash>(
        &mut self,
        f: &mut F,
    ) -> Result<Option<SecurityCounter>, F::Error> {
        Ok(self.scan(f)?.latest())
    }

    /// Appends `c` (see the module docs); on success [`load`](Self::load) returns `c`.
    pub fn save<F: CounterFlash>(
        &mut self,
        f: &mut F,
        c: SecurityCounter,
    ) -> Result<(), CounterLogError<F::Error>> {
        let mut err = CounterLogError::Verify;
        for _ in 0..SAVE_ATTEMPTS {
            let mut scan = self.scan(f).map_err(CounterLogError::Flash)?;
            let w = scan.next_write();
            // Whatever happens next, the pages must be read again unless it all succeeds.
            self.scan = None;
            match write(f, w, c) {
                Ok(true) => {
                    let p = scan.page_mut(w.page);
                    if let Some(g) = w.start {
                        p.generation = Some(g);
                    }
                    p.last = Some(c);
                    p.next = w.slot.saturating_add(1);
                    self.scan = Some(scan);
                    return Ok(());
                }
                Ok(false) => err = CounterLogError::Verify,
                Err(e) => err = CounterLogError::Flash(e),
            }
        }
        Err(err)
    }
}

/// Carries out `w` for `c`: whether every write read back as written.
fn write<F: CounterFlash>(f: &mut F, w: Write, c: SecurityCounter) -> Result<bool, F::Error> {
    if let Some(g) = w.start {
        f.erase(w.page)?;
        if !put_slot(f, w.page, 0, &encode_slot(HEADER_MAGIC, g, 0))? {
            return Ok(false);
        }
    }
    let rec = encode_slot(RECORD_MAGIC, c.key_sequence, c.frame_counter);
    put_slot(f, w.page, w.slot, &rec)
}

#[cfg(test)]
mod tests;
