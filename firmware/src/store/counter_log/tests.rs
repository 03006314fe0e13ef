//! The counter log over a simulated NOR flash: NOR rules checked (programming only clears
//! bits, a word at most twice between erases, the nRF52840's limit), and a power cut injected
//! at every word program and erase.

#[cfg(not(feature = "std"))]
extern crate std;
use std::vec::Vec;

use super::*;

const WORDS: usize = PAGE_BYTES / 4;

/// The power went out during an operation (everything after it fails until `reboot`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cut;

/// Two NOR pages that lose power after `budget` word programs / erases.
struct SimFlash {
    pages: [Vec<u8>; 2],
    /// Programs of each word since its page's last erase.
    writes: [Vec<u8>; 2],
    budget: Option<usize>,
    dead: bool,
    rng: u64,
    programs: usize,
    erases: usize,
}

impl SimFlash {
    fn new(seed: u64) -> Self {
        SimFlash {
            pages: [std::vec![0xff; PAGE_BYTES], std::vec![0xff; PAGE_BYTES]],
            writes: [std::vec![0; WORDS], std::vec![0; WORDS]],
            budget: None,
            dead: false,
            rng: seed | 1,
            programs: 0,
            erases: 0,
        }
    }

    fn rand(&mut self) -> u8 {
        // xorshift64
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng as u8
    }

    /// Whether the operation about to happen is the one the power is cut in.
    fn cut_now(&mut self) -> Result<bool, Cut> {
        if self.dead {
            return Err(Cut);
        }
        match &mut self.budget {
            Some(0) => {
                self.dead = true;
                Ok(true)
            }
            Some(n) => {
                *n -= 1;
                Ok(false)
            }
            None => Ok(false),
        }
    }

    fn reboot(&mut self) {
        self.budget = None;
        self.dead = false;
    }

    fn idx(p: Page) -> usize {
        match p {
            Page::A => 0,
            Page::B => 1,
        }
    }
}

impl CounterFlash for SimFlash {
    type Error = Cut;

    fn read_slot(&mut self, page: Page, slot: usize) -> Result<[u8; SLOT_BYTES], Cut> {
        if self.dead {
            return Err(Cut);
        }
        assert!(slot < SLOTS);
        let at = slot * SLOT_BYTES;
        Ok(self.pages[Self::idx(page)][at..at + SLOT_BYTES]
            .try_into()
            .unwrap())
    }

    fn program(&mut self, page: Page, offset: usize, data: &[u8]) -> Result<(), Cut> {
        assert_eq!(offset % 4, 0, "unaligned program");
        assert_eq!(data.len() % 4, 0, "partial word");
        assert!(offset + data.len() <= PAGE_BYTES);
        let p = Self::idx(page);
        for (k, w) in data.chunks(4).enumerate() {
            let at = offset + 4 * k;
            let cut = self.cut_now()?;
            self.writes[p][at / 4] += 1;
            assert!(
                self.writes[p][at / 4] <= 2,
                "word {at:#x} of {page:?} programmed a third time without an erase"
            );
            self.programs += 1;
            for (i, v) in w.iter().enumerate() {
                // NOR: programming clears bits; a cut clears only some of them.
                let v = if cut { *v | self.rand() } else { *v };
                self.pages[p][at + i] &= v;
            }
            if cut {
                return Err(Cut);
            }
        }
        Ok(())
    }

    fn erase(&mut self, page: Page) -> Result<(), Cut> {
        let cut = self.cut_now()?;
        let p = Self::idx(page);
        self.erases += 1;
        for i in 0..PAGE_BYTES {
            // A cut erase sets only some bits.
            let r = if cut { self.rand() } else { 0xff };
            self.pages[p][i] |= r;
        }
        if !cut {
            self.writes[p].iter_mut().for_each(|w| *w = 0);
        }
        if cut { Err(Cut) } else { Ok(()) }
    }
}

fn ctr(i: u32) -> SecurityCounter {
    SecurityCounter {
        key_sequence: i / 300,
        frame_counter: i.wrapping_mul(1024),
    }
}

fn load(f: &mut SimFlash) -> Option<SecurityCounter> {
    CounterLog::new().load(f).unwrap()
}

#[test]
fn slot_format_bytes() {
    let s = encode_slot(RECORD_MAGIC, 0x0102_0304, 0x0a0b_0c0d);
    assert_eq!(&s[..4], b"SGFC");
    assert_eq!(&s[4..12], &[4, 3, 2, 1, 0x0d, 0x0c, 0x0b, 0x0a]);
    let crc = CRC32.checksum(&s[..12]).to_le_bytes();
    assert_eq!(&s[12..], &crc);
    assert_eq!(
        decode_slot(&s, RECORD_MAGIC),
        Some((0x0102_0304, 0x0a0b_0c0d))
    );
    assert_eq!(decode_slot(&s, HEADER_MAGIC), None);
    assert_eq!(decode_slot(&ERASED, RECORD_MAGIC), None);
    // Every single flipped bit is refused.
    for bit in 0..128 {
        let mut b = s;
        b[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(decode_slot(&b, RECORD_MAGIC), None, "bit {bit}");
    }
}

#[test]
fn blank_flash_holds_nothing_and_saves_load_back() {
    let mut f = SimFlash::new(1);
    let mut log = CounterLog::new();
    assert_eq!(log.load(&mut f), Ok(None));
    for i in 0..3 * RECORDS_PER_PAGE as u32 + 7 {
        log.save(&mut f, ctr(i)).unwrap();
        assert_eq!(log.load(&mut f), Ok(Some(ctr(i))));
        // A fresh reader (a reboot) agrees with the cached state.
        assert_eq!(load(&mut f), Some(ctr(i)), "save {i}");
    }
}

#[test]
fn wear_one_record_per_save_one_erase_per_page_of_records() {
    let mut f = SimFlash::new(2);
    let mut log = CounterLog::new();
    let n = 4 * RECORDS_PER_PAGE;
    for i in 0..n as u32 {
        let (p0, e0) = (f.programs, f.erases);
        log.save(&mut f, ctr(i)).unwrap();
        let (p, e) = (f.programs - p0, f.erases - e0);
        if (i as usize).is_multiple_of(RECORDS_PER_PAGE) {
            // Page start: erase, header (4 words), record (4 words).
            assert_eq!((p, e), (8, 1), "save {i}");
        } else {
            assert_eq!((p, e), (4, 0), "save {i}");
        }
    }
    // One erase per 255 saves.
    assert_eq!(f.erases, n / RECORDS_PER_PAGE);
}

/// Saves `ctr(0..n)` with the power cut at operation `cut`; then reboots, checks what loads,
/// and checks that saving goes on working.
fn cut_run(seed: u64, n: u32, cut: usize) -> bool {
    let mut f = SimFlash::new(seed);
    f.budget = Some(cut);
    let mut log = CounterLog::new();
    let mut done: Option<SecurityCounter> = None;
    let mut in_flight = None;
    for i in 0..n {
        match log.save(&mut f, ctr(i)) {
            Ok(()) => done = Some(ctr(i)),
            Err(_) => {
                in_flight = Some(ctr(i));
                break;
            }
        }
    }
    let Some(attempt) = in_flight else {
        return false; // the budget outlasted the run
    };
    f.reboot();
    let got = load(&mut f);
    assert!(
        got == done || got == Some(attempt),
        "cut at op {cut} (seed {seed}) during {attempt:?}: loaded {got:?}, last complete {done:?}"
    );
    // The log keeps working after the cut.
    let mut log = CounterLog::new();
    let more = n + RECORDS_PER_PAGE as u32 + 1;
    for i in n..more {
        log.save(&mut f, ctr(i))
            .unwrap_or_else(|e| panic!("cut at op {cut}: save after reboot: {e:?}"));
    }
    assert_eq!(load(&mut f), Some(ctr(more - 1)), "cut at op {cut}");
    true
}

#[test]
fn a_power_cut_at_any_write_or_erase_leaves_the_last_or_the_previous_record() {
    // Across two page switches: a cut in every word program and erase of 520 saves.
    let n = 2 * RECORDS_PER_PAGE as u32 + 10;
    let mut cut = 0;
    while cut_run(0x5eed ^ cut as u64, n, cut) {
        cut += 1;
    }
    // 520 records of 4 words, 3 headers, 3 erases.
    assert_eq!(cut, 520 * 4 + 3 * 4 + 3);
}

#[test]
fn a_damaged_record_falls_back_to_the_one_before() {
    let mut f = SimFlash::new(3);
    let mut log = CounterLog::new();
    for i in 0..10 {
        log.save(&mut f, ctr(i)).unwrap();
    }
    // The last record (slot 10 of page A) loses a bit.
    f.pages[0][10 * SLOT_BYTES + 5] ^= 0x20;
    assert_eq!(load(&mut f), Some(ctr(8)));
    // The next save goes after it, not into it.
    let mut log = CounterLog::new();
    log.save(&mut f, ctr(10)).unwrap();
    assert_eq!(load(&mut f), Some(ctr(10)));
    assert_eq!(
        decode_slot(&f.read_slot(Page::A, 11).unwrap(), RECORD_MAGIC),
        Some((ctr(10).key_sequence, ctr(10).frame_counter))
    );
}

#[test]
fn garbage_pages_load_nothing_and_are_erased_before_use() {
    let mut f = SimFlash::new(4);
    for p in 0..2 {
        for i in 0..PAGE_BYTES {
            f.pages[p][i] = f.rand() & f.rand();
        }
    }
    let mut log = CounterLog::new();
    assert_eq!(log.load(&mut f), Ok(None));
    log.save(&mut f, ctr(1)).unwrap();
    assert_eq!(load(&mut f), Some(ctr(1)));
    assert_eq!(f.erases, 1);
}

#[test]
fn the_newer_generation_wins_across_the_wrap() {
    let mut f = SimFlash::new(5);
    let put = |f: &mut SimFlash, p: Page, slot: usize, s: [u8; 16]| {
        f.program(p, slot * SLOT_BYTES, &s).unwrap()
    };
    put(&mut f, Page::A, 0, encode_slot(HEADER_MAGIC, u32::MAX, 0));
    put(&mut f, Page::A, 1, encode_slot(RECORD_MAGIC, 1, 100));
    put(&mut f, Page::B, 0, encode_slot(HEADER_MAGIC, 0, 0));
    put(&mut f, Page::B, 1, encode_slot(RECORD_MAGIC, 1, 200));
    assert_eq!(
        load(&mut f),
        Some(SecurityCounter {
            key_sequence: 1,
            frame_counter: 200
        })
    );
    // The latest is by position, not by value: a smaller counter written later wins (a new
    // network key restarts the counter).
    put(&mut f, Page::B, 2, encode_slot(RECORD_MAGIC, 0, 5));
    assert_eq!(
        load(&mut f),
        Some(SecurityCounter {
            key_sequence: 0,
            frame_counter: 5
        })
    );
}
