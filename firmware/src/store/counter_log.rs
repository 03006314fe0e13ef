//! The link-layer security counter ([`SecurityCounter`]) as an append-only log in two flash
//! pages: the record format and the rules (which record is the latest, where the next one goes,
//! when to switch pages), over a three-call flash trait ([`CounterFlash`]) that a board
//! implements with its flash controller (the nRF52840's NVMC in `boards/nrf52840/src/store.rs`).
//! Host tests drive it over a simulated NOR flash that loses power at every step.
//!
//! # Format
//!
//! Everything is a *pair* of little-endian 32-bit words, a value and its complement
//! (`v`, `!v`): a pair is valid iff its second word is the complement of its first. Erased
//! flash (`0xffff_ffff`, `0xffff_ffff`) is not a valid pair, and a pair cut short by a power
//! loss is not either: programming only clears bits, so a word cut mid-write reads as the
//! value with some bits still set; the first word is written first, and a valid pair always
//! holds the value that was being written.
//!
//! A page ([`PAGE_BYTES`]) opens with a header of two pairs, then holds
//! [`RECORDS_PER_PAGE`] records of one pair each:
//!
//! | words | holds |
//! | ----- | ----- |
//! | 0, 1 | generation, `!generation` |
//! | 2, 3 | key sequence, `!key sequence` |
//! | 4 + 2n, 5 + 2n | record n: frame counter, `!frame counter` |
//!
//! A page holds the counters of one key sequence. A pair that is not erased is never
//! programmed again (the NOR rule: a word is written once between erases), so a record cut
//! short is skipped, not reused.
//!
//! # Rules
//!
//! - The *current* page is the one with a valid header and the newer generation (serial-number
//!   arithmetic). Its last valid record is the latest; when it has none (a cut between a page
//!   switch's header and its first record), the other page's last valid record is, under that
//!   page's key sequence.
//! - A save is one pair appended after the current page's last non-erased pair, when the
//!   current page has the saved key sequence and room. Otherwise (a new key sequence, a full
//!   page, no page yet) it erases a page, writes its header with the next generation, and
//!   appends the record. The page erased is never the one holding the latest record: the other
//!   page, or the current one itself when its header is all it holds.
//! - Each pair is read back after it is written; a failure drops what the log knew of the
//!   pages (the next call reads them again) and is returned: the caller saves again later.
//! - A power cut at any point leaves the last complete record, or the one before it, as
//!   [`CounterLog::load`]'s answer: a page is only erased while the other holds the latest
//!   record, and a record counts only once its second word is down.
//!
//! # Wear
//!
//! A record is 2 word programs (about 85 µs on the nRF52840) and no erase; a page takes
//! [`RECORDS_PER_PAGE`] = 510 records, so one page erase (up to 85 ms of stalled CPU) per 510
//! saves, each page erased every 1,020 (a new key sequence costs an erase too).
//! `l2_15_4`'s default persist step (1024) asks for a save every 512 frames: a page erase every
//! 261,120 frames, each page every 522,240. At the nRF52840's 10,000 erase cycles per page that
//! is 5.2 × 10⁹ frames — 16 years of 10 frames per second without a pause, and beyond the 2³²
//! frames after which a key sequence must rotate anyway. (Each boot also saves once: the
//! counter resumes a step ahead.)
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

use core::fmt;

use super::SecurityCounter;

/// Bytes of one flash page of the log.
pub const PAGE_BYTES: usize = 4096;
/// 32-bit words of one page.
pub const PAGE_WORDS: usize = PAGE_BYTES / 4;
/// Words of the page header (two pairs).
pub const HEADER_WORDS: usize = 4;
/// Records per page.
pub const RECORDS_PER_PAGE: usize = (PAGE_WORDS - HEADER_WORDS) / 2;

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

    /// Reads word `word` (< [`PAGE_WORDS`]) of `page`.
    fn read(&mut self, page: Page, word: usize) -> Result<u32, Self::Error>;

    /// Programs word `word` (< [`PAGE_WORDS`]) of `page` with `value`.
    fn program(&mut self, page: Page, word: usize, value: u32) -> Result<(), Self::Error>;

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
    /// Reading back what was written gave other bytes.
    Verify,
}

impl<E> From<E> for CounterLogError<E> {
    fn from(e: E) -> Self {
        CounterLogError::Flash(e)
    }
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

/// The value of the pair at words `word` (even), `word | 1` of `page`, if it is valid.
fn pair<F: CounterFlash>(f: &mut F, page: Page, word: usize) -> Result<Option<u32>, F::Error> {
    let v = f.read(page, word)?;
    Ok((f.read(page, word | 1)? == !v).then_some(v))
}

/// Programs the pair of `v` at words `word` (even), `word | 1` of `page` and reads it back.
fn put<F: CounterFlash>(
    f: &mut F,
    page: Page,
    word: usize,
    v: u32,
) -> Result<(), CounterLogError<F::Error>> {
    f.program(page, word, v)?;
    f.program(page, word | 1, !v)?;
    match pair(f, page, word)? {
        Some(r) if r == v => Ok(()),
        _ => Err(CounterLogError::Verify),
    }
}

/// Serial-number comparison: `a` is newer than `b`.
fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// What the log knows of its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    /// The current page: the page, its generation and key sequence, the word where its next
    /// record goes ([`PAGE_WORDS`]: full).
    cur: Option<(Page, u32, u32, usize)>,
    /// The latest record and the page that holds it.
    latest: Option<(Page, SecurityCounter)>,
}

impl State {
    /// Reads both pages' headers and records.
    fn read<F: CounterFlash>(f: &mut F) -> Result<State, F::Error> {
        let mut st = State {
            cur: None,
            latest: None,
        };
        for page in [Page::A, Page::B] {
            let (Some(g), Some(k)) = (pair(f, page, 0)?, pair(f, page, 2)?) else {
                continue;
            };
            let mut last = None;
            let mut next = HEADER_WORDS;
            for word in (HEADER_WORDS..PAGE_WORDS).step_by(2) {
                let v = f.read(page, word)?;
                let c = f.read(page, word | 1)?;
                if v & c != u32::MAX {
                    next = word.saturating_add(2);
                }
                if c == !v {
                    last = Some(v);
                }
            }
            let rec = last.map(|frame_counter| {
                let key_sequence = k;
                (
                    page,
                    SecurityCounter {
                        key_sequence,
                        frame_counter,
                    },
                )
            });
            match st.cur {
                // An older page: its record is the latest only when the current has none.
                Some((_, cg, _, _)) if !newer(g, cg) => st.latest = st.latest.or(rec),
                _ => {
                    st.cur = Some((page, g, k, next));
                    st.latest = rec.or(st.latest);
                }
            }
        }
        Ok(st)
    }
}

/// The counter log: what the two pages hold (read once, then kept up to date by each save).
#[derive(Clone, Debug, Default)]
pub struct CounterLog {
    state: Option<State>,
}

impl CounterLog {
    /// A log not read yet.
    pub const fn new() -> Self {
        CounterLog { state: None }
    }

    fn state<F: CounterFlash>(&mut self, f: &mut F) -> Result<State, F::Error> {
        let st = match self.state {
            Some(st) => st,
            None => State::read(f)?,
        };
        self.state = Some(st);
        Ok(st)
    }

    /// The latest complete record, `None` when the pages hold none.
    pub fn load<F: CounterFlash>(
        &mut self,
        f: &mut F,
    ) -> Result<Option<SecurityCounter>, F::Error> {
        Ok(self.state(f)?.latest.map(|(_, c)| c))
    }

    /// Appends `c` (see the module docs); on success [`load`](Self::load) returns `c`.
    pub fn save<F: CounterFlash>(
        &mut self,
        f: &mut F,
        c: SecurityCounter,
    ) -> Result<(), CounterLogError<F::Error>> {
        let st = self.state(f)?;
        // Whatever happens next, the pages must be read again unless it all succeeds.
        self.state = None;
        let (page, g, word) = match st.cur {
            Some((p, g, k, next)) if k == c.key_sequence && next < PAGE_WORDS => (p, g, next),
            cur => {
                let g = cur.map_or(0, |(_, g, _, _)| g).wrapping_add(1);
                // A new page, never the one holding the latest record.
                let p = st.latest.map_or(Page::A, |(p, _)| p.other());
                f.erase(p)?;
                put(f, p, 0, g)?;
                put(f, p, 2, c.key_sequence)?;
                (p, g, HEADER_WORDS)
            }
        };
        put(f, page, word, c.frame_counter)?;
        self.state = Some(State {
            cur: Some((page, g, c.key_sequence, word.saturating_add(2))),
            latest: Some((page, c)),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests;
