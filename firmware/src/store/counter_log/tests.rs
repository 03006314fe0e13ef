//! The counter log over a simulated NOR flash: NOR rules checked (programming only clears
//! bits, a word at most twice between erases, the nRF52840's limit), and a power cut injected
//! at every word program and erase.

#[cfg(not(feature = "std"))]
extern crate std;
use std::vec::Vec;

use super::*;

/// The power went out during an operation (everything after it fails until `reboot`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cut;

/// Two NOR pages that lose power after `budget` word programs / erases.
struct SimFlash {
    pages: [Vec<u32>; 2],
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
            pages: [std::vec![!0; PAGE_WORDS], std::vec![!0; PAGE_WORDS]],
            writes: [std::vec![0; PAGE_WORDS], std::vec![0; PAGE_WORDS]],
            budget: None,
            dead: false,
            rng: seed | 1,
            programs: 0,
            erases: 0,
        }
    }

    fn rand(&mut self) -> u32 {
        // xorshift64
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng as u32
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

    fn read(&mut self, page: Page, word: usize) -> Result<u32, Cut> {
        if self.dead {
            return Err(Cut);
        }
        Ok(self.pages[Self::idx(page)][word])
    }

    fn program(&mut self, page: Page, word: usize, value: u32) -> Result<(), Cut> {
        assert!(word < PAGE_WORDS);
        let cut = self.cut_now()?;
        let p = Self::idx(page);
        self.writes[p][word] += 1;
        assert!(
            self.writes[p][word] <= 2,
            "word {word} of {page:?} programmed a third time without an erase"
        );
        self.programs += 1;
        // NOR: programming clears bits; a cut clears only some of them.
        let v = if cut { value | self.rand() } else { value };
        self.pages[p][word] &= v;
        if cut { Err(Cut) } else { Ok(()) }
    }

    fn erase(&mut self, page: Page) -> Result<(), Cut> {
        let cut = self.cut_now()?;
        let p = Self::idx(page);
        self.erases += 1;
        for i in 0..PAGE_WORDS {
            // A cut erase sets only some bits.
            let r = if cut { self.rand() } else { !0 };
            self.pages[p][i] |= r;
        }
        if !cut {
            self.writes[p].iter_mut().for_each(|w| *w = 0);
        }
        if cut { Err(Cut) } else { Ok(()) }
    }
}

/// The `i`th counter saved: a new key sequence every 700 saves (so the log switches pages both
/// because one is full and because the key sequence changed).
fn ctr(i: u32) -> SecurityCounter {
    SecurityCounter {
        key_sequence: i / 700,
        frame_counter: i.wrapping_mul(1024),
    }
}

fn sc(key_sequence: u32, frame_counter: u32) -> SecurityCounter {
    SecurityCounter {
        key_sequence,
        frame_counter,
    }
}

fn load(f: &mut SimFlash) -> Option<SecurityCounter> {
    CounterLog::new().load(f).unwrap()
}

#[test]
fn page_format_words() {
    let mut f = SimFlash::new(1);
    let mut log = CounterLog::new();
    log.save(&mut f, sc(0x0102_0304, 0x0a0b_0c0d)).unwrap();
    log.save(&mut f, sc(0x0102_0304, 0)).unwrap();
    assert_eq!(
        f.pages[0][..10],
        [
            1, // generation
            !1,
            0x0102_0304, // key sequence
            !0x0102_0304,
            0x0a0b_0c0d, // record 0: frame counter
            !0x0a0b_0c0d,
            0, // record 1
            !0,
            !0, // erased
            !0,
        ]
    );
    assert!(f.pages[1].iter().all(|&w| w == !0), "page B untouched");
    // A pair with any single bit flipped is not valid.
    for bit in 0..64 {
        let (mut v, mut c) = (0x0a0b_0c0d_u32, !0x0a0b_0c0d_u32);
        if bit < 32 {
            v ^= 1 << bit;
        } else {
            c ^= 1 << (bit - 32);
        }
        f.pages[0][4] = v;
        f.pages[0][5] = c;
        f.pages[0][6] = !0;
        f.pages[0][7] = !0;
        assert_eq!(load(&mut f), None, "bit {bit}");
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
fn wear_one_pair_per_save_one_erase_per_page_of_records() {
    let mut f = SimFlash::new(2);
    let mut log = CounterLog::new();
    let n = 4 * RECORDS_PER_PAGE;
    for i in 0..n as u32 {
        let (p0, e0) = (f.programs, f.erases);
        log.save(&mut f, sc(7, i)).unwrap();
        let (p, e) = (f.programs - p0, f.erases - e0);
        if (i as usize).is_multiple_of(RECORDS_PER_PAGE) {
            // Page start: erase, header (4 words), record (2 words).
            assert_eq!((p, e), (6, 1), "save {i}");
        } else {
            assert_eq!((p, e), (2, 0), "save {i}");
        }
    }
    // One erase per 510 saves.
    assert_eq!(RECORDS_PER_PAGE, 510);
    assert_eq!(f.erases, n / RECORDS_PER_PAGE);
}

#[test]
fn a_new_key_sequence_starts_a_page() {
    let mut f = SimFlash::new(3);
    let mut log = CounterLog::new();
    log.save(&mut f, sc(1, 100)).unwrap();
    log.save(&mut f, sc(1, 200)).unwrap();
    log.save(&mut f, sc(2, 0)).unwrap();
    assert_eq!(f.erases, 2);
    assert_eq!(f.pages[1][..6], [2, !2, 2, !2, 0, !0]);
    assert_eq!(load(&mut f), Some(sc(2, 0)));
    // And back: page A again, generation 3.
    log.save(&mut f, sc(1, 300)).unwrap();
    assert_eq!(f.pages[0][..6], [3, !3, 1, !1, 300, !300]);
    assert_eq!(load(&mut f), Some(sc(1, 300)));
}

/// Saves `ctr(0..n)` with the power cut at operation `cut`; then reboots, checks what loads,
/// and checks that saving goes on working: first a save under the loaded key sequence (what a
/// rebooted node does), then the rest.
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
    if let Some(g) = got {
        let resumed = sc(g.key_sequence, g.frame_counter + 1);
        log.save(&mut f, resumed).unwrap();
        assert_eq!(load(&mut f), Some(resumed), "cut at op {cut}");
    }
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
    // Page switches at saves 0, 510 (page full) and 700 (key sequence): a cut in every word
    // program and erase of 1030 saves.
    let n = 2 * RECORDS_PER_PAGE as u32 + 10;
    let mut cut = 0;
    while cut_run(0x5eed ^ cut as u64, n, cut) {
        cut += 1;
    }
    // 1030 records of 2 words, 3 headers of 4, 3 erases.
    assert_eq!(cut, 1030 * 2 + 3 * 4 + 3);
}

/// A cut right after a page switch (the new page holds its header only), then after the
/// reboot a save under the old key sequence cut at each of its operations: the record before
/// the switch must survive (the page erased is the empty new one, not the one holding it).
#[test]
fn a_cut_after_a_switch_then_a_cut_in_the_next_save_keeps_the_latest() {
    for second in 0.. {
        let mut f = SimFlash::new(second as u64 + 9);
        let mut log = CounterLog::new();
        log.save(&mut f, sc(1, 100)).unwrap();
        log.save(&mut f, sc(1, 200)).unwrap();
        // Erase, header (4 words), then the cut in the record's first word.
        f.budget = Some(5);
        assert!(log.save(&mut f, sc(2, 0)).is_err());
        f.reboot();
        assert_eq!(load(&mut f), Some(sc(1, 200)));
        f.budget = Some(second);
        let mut log = CounterLog::new();
        let r = log.save(&mut f, sc(1, 1224));
        f.reboot();
        let got = load(&mut f);
        assert!(
            got == Some(sc(1, 200)) || got == Some(sc(1, 1224)),
            "second cut at op {second}: loaded {got:?}"
        );
        if r.is_ok() {
            assert_eq!(got, Some(sc(1, 1224)));
            // The save restarted the page with no record; the record before is still there.
            assert_eq!(f.pages[0][4..8], [100, !100, 200, !200]);
            break;
        }
    }
}

#[test]
fn a_damaged_record_falls_back_to_the_one_before() {
    let mut f = SimFlash::new(3);
    let mut log = CounterLog::new();
    for i in 0..10 {
        log.save(&mut f, ctr(i)).unwrap();
    }
    // The last record (record 9 of page A) loses a bit.
    f.pages[0][HEADER_WORDS + 2 * 9 + 1] ^= 0x20;
    assert_eq!(load(&mut f), Some(ctr(8)));
    // The next save goes after it, not into it.
    let mut log = CounterLog::new();
    log.save(&mut f, ctr(10)).unwrap();
    assert_eq!(load(&mut f), Some(ctr(10)));
    let at = HEADER_WORDS + 2 * 10;
    assert_eq!(
        f.pages[0][at..at + 2],
        [ctr(10).frame_counter, !ctr(10).frame_counter]
    );
}

#[test]
fn a_failed_read_back_is_an_error_and_the_next_save_goes_on() {
    let mut f = SimFlash::new(6);
    let mut log = CounterLog::new();
    log.save(&mut f, sc(1, 1)).unwrap();
    // A worn bit: record 1's first word reads with bit 3 stuck low.
    f.pages[0][HEADER_WORDS + 2] = !8;
    assert_eq!(log.save(&mut f, sc(1, 0xf)), Err(CounterLogError::Verify));
    assert_eq!(load(&mut f), Some(sc(1, 1)));
    log.save(&mut f, sc(1, 3)).unwrap();
    assert_eq!(load(&mut f), Some(sc(1, 3)));
}

#[test]
fn garbage_pages_load_nothing_and_are_erased_before_use() {
    let mut f = SimFlash::new(4);
    for p in 0..2 {
        for i in 0..PAGE_WORDS {
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
    let put = |f: &mut SimFlash, p: Page, word: usize, v: u32| {
        f.program(p, word, v).unwrap();
        f.program(p, word + 1, !v).unwrap();
    };
    put(&mut f, Page::A, 0, u32::MAX);
    put(&mut f, Page::A, 2, 1);
    put(&mut f, Page::A, 4, 100);
    put(&mut f, Page::B, 0, 0);
    put(&mut f, Page::B, 2, 1);
    put(&mut f, Page::B, 4, 200);
    assert_eq!(load(&mut f), Some(sc(1, 200)));
    // The latest is by position, not by value: a smaller counter written later wins.
    put(&mut f, Page::B, 6, 5);
    assert_eq!(load(&mut f), Some(sc(1, 5)));
}
