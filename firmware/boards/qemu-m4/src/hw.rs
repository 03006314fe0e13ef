//! The MPS2 AN386 peripherals this board uses, polled (register layouts as QEMU models them:
//! hw/char/cmsdk-apb-uart.c, hw/timer/cmsdk-apb-timer.c, hw/arm/mps2.c):
//!
//! | what | peripheral | base | IRQ |
//! | --- | --- | --- | --- |
//! | management line | CMSDK APB UART0 | 0x4000_4000 | 0 (RX) |
//! | console (boot line, faults) | CMSDK APB UART1 | 0x4000_5000 | — |
//! | time, wake-up | SysTick (core clock = SYSCLK, 25 MHz), every [`TICK_CYCLES`] | core | exception 15 |
//! | the measurement mode's clock | CMSDK APB timer 1, free-running, no interrupt | 0x4000_1000 | — |
//!
//! UART: DATA (0x0; a read takes the received byte), STATE (0x4; bit 0 TX full, bit 1 RX
//! full), CTRL (0x8; bit 0 TX enable, bit 1 RX enable, bit 3 RX interrupt enable),
//! INTSTATUS (0xc; write 1 to clear), BAUDDIV (0x10; at least 16). QEMU holds further host
//! bytes back while RX is full, so polling loses none.
//!
//! Time: QEMU 7.2 (Debian 12) advances neither the CMSDK timers (VALUE reads a constant) nor
//! SysTick without `-icount`, so scripts/qemu-m4.sh always passes `-icount`; SysTick then
//! counts emulated time.

use core::ptr;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;

/// SYSCLK of the AN386 image, the timers' and UARTs' clock.
pub const SYSCLK_HZ: u64 = 25_000_000;
const UART0: usize = 0x4000_4000;
const UART1: usize = 0x4000_5000;
/// UART0's receive interrupt line.
pub const UART0_RX_IRQ: u16 = 0;
/// SysTick period in SYSCLK cycles: 10 ms (the longest sleep).
#[cfg(not(feature = "bench"))]
pub const TICK_CYCLES: u32 = 250_000;
/// In the measurement mode 100 µs: the loop sleeps until the next SysTick, so this is how late
/// it can see a deadline (backoffs, ACKs); at 10 ms a 1280-byte packet took 0.4 s of emulated
/// time instead of the 0.09 s it takes with exact deadlines (the host bench's, the library's
/// tests), and more of the application's timers fell due per packet.
#[cfg(feature = "bench")]
pub const TICK_CYCLES: u32 = 2_500;
/// CMSDK APB timer 1, free-running (the measurement mode's clock, [`stopwatch`]).
#[cfg(feature = "bench")]
const TIMER1: usize = 0x4000_1000;

/// SysTick periods elapsed (counted by its handler).
static TICKS: AtomicU32 = AtomicU32::new(0);

const DATA: usize = 0x0;
const STATE: usize = 0x4;
const CTRL: usize = 0x8;
const INTSTATUS: usize = 0xc;
const BAUDDIV: usize = 0x10;

fn read(addr: usize) -> u32 {
    // SAFETY: `addr` is one of the word-aligned device registers listed above, which QEMU's
    // mps2-an386 maps; reading one has only the documented effect (DATA takes a byte).
    unsafe { ptr::read_volatile(addr as *const u32) }
}

fn write(addr: usize, v: u32) {
    // SAFETY: as in `read`; the values written are the ones the register layouts define.
    unsafe { ptr::write_volatile(addr as *mut u32, v) }
}

/// Enables both UARTs (8N1; 115 200 baud as far as a divider means anything to QEMU), the
/// UART0 receive interrupt and SysTick.
pub fn init(mut syst: SYST) {
    for base in [UART0, UART1] {
        write(base + BAUDDIV, (SYSCLK_HZ / 115_200) as u32);
        write(base + CTRL, 0b11);
    }
    // UART0 also interrupts on a received byte, to end `sleep` early.
    write(UART0 + CTRL, 0b1011);
    // Timer 1 counts down from 2^32 - 1 at SYSCLK, wrapping, without interrupt (RELOAD,
    // VALUE, CTRL enable).
    #[cfg(feature = "bench")]
    {
        write(TIMER1 + 0x8, u32::MAX);
        write(TIMER1 + 0x4, u32::MAX);
        write(TIMER1, 0b1);
    }
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(TICK_CYCLES - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
    // SAFETY: unmasking the line whose handler (`DefaultHandler` in main.rs) clears its
    // source; no other code depends on it staying masked.
    unsafe {
        let nvic = &*cortex_m::peripheral::NVIC::PTR;
        nvic.iser[0].write(1 << UART0_RX_IRQ);
    }
}

/// Counts one SysTick period (from its handler).
pub fn tick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// SYSCLK cycles since `init`.
pub fn cycles() -> u64 {
    loop {
        let t = TICKS.load(Ordering::Relaxed);
        let v = SYST::get_current();
        // A wrap between the two reads is counted by the handler before the second load.
        if TICKS.load(Ordering::Relaxed) == t {
            let into = (TICK_CYCLES - 1).saturating_sub(v);
            return u64::from(t) * u64::from(TICK_CYCLES) + u64::from(into);
        }
    }
}

/// SYSCLK cycles on a free-running 32-bit counter (timer 1; it wraps every 171 s): the
/// measurement mode's clock, for intervals shorter than that. Unlike [`cycles`] it needs no
/// interrupt: QEMU shows SysTick's counter reloaded a few instructions before it takes the
/// SysTick exception, so [`cycles`] can read up to one period low just at a wrap.
#[cfg(feature = "bench")]
pub fn stopwatch() -> u32 {
    0u32.wrapping_sub(read(TIMER1 + 0x4))
}

/// The next byte from the host on UART0, if one waits.
pub fn uart0_read() -> Option<u8> {
    (read(UART0 + STATE) & 0b10 != 0).then(|| read(UART0 + DATA) as u8)
}

/// Writes `b` to UART0 if its transmit register has room.
pub fn uart0_try_write(b: u8) -> bool {
    if read(UART0 + STATE) & 0b1 != 0 {
        return false;
    }
    write(UART0 + DATA, u32::from(b));
    true
}

/// Writes `s` to the console (UART1), waiting for room.
pub fn console(s: &[u8]) {
    for &b in s {
        while read(UART1 + STATE) & 0b1 != 0 {}
        write(UART1 + DATA, u32::from(b));
    }
}

/// Clears the interrupt source `DefaultHandler` serves (UART0 RX).
pub fn clear_wakeups() {
    write(UART0 + INTSTATUS, 0b1111);
}

/// Sleeps (WFI) until a byte from the host or the next SysTick.
pub fn sleep() {
    // A byte that arrived since the last poll would not interrupt again: look first.
    if read(UART0 + STATE) & 0b10 == 0 {
        cortex_m::asm::wfi();
    }
}
