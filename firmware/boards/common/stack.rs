//! The stack high-water mark: the free stack is painted at boot, and the lowest word that no
//! longer holds the paint is how deep the stack has been (interrupts included). The firmware
//! reports it as the `stack_high_water` counter (`App::set_stack_high_water`), so the RAM
//! budget counts the stack as well as the statics. No static RAM: the last measurement is
//! kept by the application.

use core::ptr;

/// What a painted word holds.
const PAINT: u32 = 0xc5c5_c5c5;
/// Bytes left unpainted under the stack pointer at boot: `paint`'s own calls and an
/// interrupt frame live there.
const MARGIN: usize = 256;
/// Painted words in a row that mark the end of the used stack (a used word may hold the
/// paint value by chance).
const RUN: usize = 4;

unsafe extern "C" {
    /// Top of the stack (cortex-m-rt's link.x: the end of RAM).
    static _stack_start: u32;
    /// Bottom of the stack (after `.bss` and `.uninit`).
    static _stack_end: u32;
}

/// (bottom, top) of the stack, word-aligned.
fn bounds() -> (usize, usize) {
    let bottom = (&raw const _stack_end) as usize;
    let top = (&raw const _stack_start) as usize;
    (bottom.next_multiple_of(4), top & !3)
}

/// Paints the stack from its bottom to [`MARGIN`] below the current stack pointer, with
/// interrupts off. Call once, early.
pub fn paint() {
    let (bottom, _) = bounds();
    let sp = cortex_m::register::msp::read() as usize;
    let end = sp.saturating_sub(MARGIN) & !3;
    cortex_m::interrupt::free(|_| {
        let mut a = bottom;
        while a < end {
            // SAFETY: [bottom, end) is RAM between the statics and the live stack (MARGIN
            // under the stack pointer, interrupts off): nothing else uses it now; a word-
            // aligned volatile write there only changes what an unused stack word holds.
            unsafe { ptr::write_volatile(a as *mut u32, PAINT) };
            a += 4;
        }
    });
}

/// The stack's deepest use in bytes, given the previous measurement `prev`: walks down from
/// there to the first [`RUN`] painted words, so a call costs what the stack grew since.
pub fn high_water(prev: u32) -> u32 {
    let (bottom, top) = bounds();
    let mut low = top.saturating_sub(prev as usize).max(bottom) & !3;
    let painted = |a: usize| {
        // SAFETY: `a` is a word-aligned address in [bottom, top), RAM reserved for the stack;
        // a volatile read of it has no side effect (it may race with the stack, harmlessly).
        unsafe { ptr::read_volatile(a as *const u32) == PAINT }
    };
    while low >= bottom + 4 * RUN && !(1..=RUN).all(|k| painted(low - 4 * k)) {
        low -= 4;
    }
    if low < bottom + 4 * RUN {
        low = bottom;
    }
    u32::try_from(top - low).unwrap_or(u32::MAX)
}
