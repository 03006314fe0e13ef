//! sixgate on QEMU's MPS2 AN386 (Cortex-M4F): the border-router application with the product
//! image's capacities and its management server, as one superloop.
//!
//! Each turn: bytes from the host (UART0) to the management server; the far ends and the
//! application ([`FarEnds::step`]: radio events, the nodes' frames, the backbone host, then
//! `App::poll`); the stack high-water mark; the server's poll and output to UART0; what the
//! server asked for (save, erase, reboot) and a configuration change to persist. Then the core
//! sleeps (WFI) until a byte from the host or the next SysTick ([`hw::TICK_CYCLES`], 10 ms;
//! 100 µs in the measurement mode, the `bench` feature: src/bench.rs).
//!
//! `wpan0` runs on a scripted radio and `eth0` on an in-memory cable whose far ends live in
//! this image (the library, `src/mesh.rs` and `src/backbone.rs`); time comes from SysTick
//! (`src/hw.rs`); the configuration lives in RAM kept across a warm reset
//! (`src/ram.rs`). UART1 is a console: a boot line, a status line every
//! [`STATUS_EVERY_S`] seconds of emulated time, and faults.
#![no_std]
#![no_main]

#[allow(unsafe_code)] // MMIO registers and the NVIC; see hw.rs
mod hw;
#[allow(unsafe_code)] // the `.uninit` configuration record; see ram.rs
mod ram;
// One source for both Cortex-M boards: painting and measuring the stack is not board-specific.
#[allow(unsafe_code)] // painting and reading the free stack; see stack.rs
#[path = "../../common/stack.rs"]
mod stack;

use core::fmt::Write as _;
use core::sync::atomic::{AtomicBool, Ordering};

use cortex_m_rt::{ExceptionFrame, entry, exception};
use firmware::app::{App, AppResources};
use firmware::config::Config;
use firmware::mgmt::{Action, MgmtServer};
use firmware::store::{ConfigStore as _, load_config, save_config};
use heapless::Vec;
use netif::Instant;
use sixgate_qemu_m4::far::FarEnds;
#[cfg(feature = "bench")]
use sixgate_qemu_m4::far::Meter;
use static_cell::StaticCell;

use crate::ram::RamStore;

/// The board's EUI-64 (locally administered).
const EUI64: [u8; 8] = [0x02, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01];
/// The board name `sixgate info` shows.
const BOARD: &str = "qemu-mps2-an386";
/// Capture ring: the nRF52840's ([`firmware/boards/nrf52840/src/board.rs`]).
const CAPTURE_BYTES: usize = 1600;
/// Management transmit buffer: one frame, as on the nRF52840.
const MGMT_TX_BYTES: usize = firmware::mgmt::RESPONSE_RESERVE;
/// Bytes from the host held for the server (it may take part of them).
const RX_BYTES: usize = 128;
/// Between two console status lines, seconds of emulated time.
const STATUS_EVERY_S: u64 = 10;
/// Measured packets each way in the measurement mode (the `bench` feature).
#[cfg(feature = "bench")]
const BENCH_PACKETS: u32 = 100;
/// Empty timed calls that measure the meter's own cost (the `bench` feature).
#[cfg(feature = "bench")]
const BENCH_CALIBRATION: u32 = 4096;

/// SysTick (25 MHz, wrapping every [`hw::TICK_CYCLES`]) extended to 64 bits by the wraps
/// its handler counts, never going back: QEMU shows the counter reloaded a few instructions
/// before the SysTick exception counts the wrap, so a read just then is one period low
/// (measured: 73 of 200 000 back-to-back reads with a 100 µs period); the last instant is
/// returned instead.
struct Clock {
    last: Instant,
}

impl Clock {
    fn now(&mut self) -> Instant {
        let t = Instant::from_micros(hw::cycles() / (hw::SYSCLK_HZ / 1_000_000));
        self.last = self.last.max(t);
        self.last
    }
}

/// The console (UART1) as a `core::fmt` sink.
struct Console;

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        hw::console(s.as_bytes());
        Ok(())
    }
}

#[entry]
fn main() -> ! {
    stack::paint();
    let cp = cortex_m::Peripherals::take().unwrap_or_else(|| halt());
    hw::init(cp.SYST);
    let mut clock = Clock {
        last: Instant::ZERO,
    };
    let now = clock.now();

    let mut store = RamStore::take();
    let (config, outcome) = load_config(&mut store, Config::default_for(EUI64));
    let _ = writeln!(Console, "sixgate {BOARD}: config: {outcome:?}");
    #[cfg(feature = "bench")]
    let config = sixgate_qemu_m4::bench::config(config);

    static RESOURCES: StaticCell<AppResources<CAPTURE_BYTES>> = StaticCell::new();
    static FAR: StaticCell<FarEnds> = StaticCell::new();
    static SERVER: StaticCell<MgmtServer<MGMT_TX_BYTES>> = StaticCell::new();
    let res = RESOURCES.init_with(AppResources::new);
    #[cfg(not(feature = "bench"))]
    let far = FAR.init_with(|| FarEnds::new(config.eth_mac, now));
    #[cfg(feature = "bench")]
    let far = FAR.init_with(|| FarEnds::bench(config.eth_mac, now, BENCH_PACKETS, hw::stopwatch));
    #[cfg(feature = "bench")]
    let clock_cost = bench_calibrate();
    #[cfg(feature = "bench")]
    let mut reported = false;
    let mut app = match App::new(config, res, now, far.radio()) {
        Ok(app) => app,
        Err(e) => {
            let _ = writeln!(Console, "application refused its configuration: {e}");
            halt()
        }
    };
    let server = SERVER.init_with(|| MgmtServer::new(BOARD));
    server.set_logs_unavailable(Some(
        "this board has no log stream: its console is UART1 (scripts/qemu-m4.sh prints it)",
    ));
    let _ = writeln!(Console, "running");

    let mut rx: Vec<u8, RX_BYTES> = Vec::new();
    let mut next_status = STATUS_EVERY_S;
    loop {
        // Bytes from the host, as many as wait and the server wants.
        if server.wants_input() {
            while !rx.is_full() {
                match hw::uart0_read() {
                    Some(b) => {
                        let _ = rx.push(b);
                    }
                    None => break,
                }
            }
        }
        let now = clock.now();
        if !rx.is_empty() && server.wants_input() {
            let taken = server
                .receive(&rx, &mut app, now, far.radio())
                .min(rx.len());
            rx.copy_within(taken.., 0);
            rx.truncate(rx.len() - taken);
        }

        // The measurement mode steps only when something is due, as the host bench (and the
        // nRF52840's event loop) does: no poll on a bare SysTick wake-up.
        if !cfg!(feature = "bench") || far.next_deadline(&app) <= now {
            far.step(now, &mut app);
        }
        #[cfg(feature = "bench")]
        if !reported && let Some(outcome) = far.bench.as_ref().and_then(|b| b.outcome()) {
            reported = true;
            bench_report(outcome, clock_cost);
        }
        app.set_stack_high_water(stack::high_water(app.stack_high_water()));
        server.poll(&mut app, now, far.radio());
        flush(server);
        match server.take_action() {
            Some(Action::SaveConfig) => server.action_done(persist(&mut app, &mut store)),
            Some(Action::ResetConfig) => {
                let failed = store.erase().err().map(|_| "RAM store erase failed");
                server.action_done(failed);
            }
            Some(Action::Reboot) => {
                // Let the answer reach the host first.
                while !server.pending().is_empty() {
                    flush(server);
                }
                let _ = writeln!(Console, "rebooting (requested)");
                cortex_m::peripheral::SCB::sys_reset();
            }
            None => {}
        }
        // Offered once per change; it stays unsaved (`config show`) until a write succeeds.
        if app.take_dirty_config().is_some() {
            let _ = persist(&mut app, &mut store);
        }

        let up = app.uptime().as_secs();
        if up >= next_status {
            next_status = up + STATUS_EVERY_S;
            status_line(&app, far);
        }

        // Sleep until the next deadline, a byte from the host, or MAX_SLEEP_US.
        if server.pending().is_empty() && rx.is_empty() {
            let now = clock.now();
            let mut until = far.next_deadline(&app);
            if let Some(d) = server.next_deadline() {
                until = until.min(d);
            }
            if until > now {
                hw::sleep();
            }
        }
    }
}

/// One console line: uptime, forwarding, registrations, what the far ends saw, the stack.
fn status_line(app: &App<'_>, far: &FarEnds) {
    let s = app.status();
    let m = far.mesh.stats();
    let b = far.backbone.stats();
    let _ = writeln!(
        Console,
        "status uptime_s={} registered={} forwarded_up={} forwarded_down={} drops={} \
         rx_no_buffer={} readings_sent={} readings_received={} time_exceeded={} \
         echo_replies={} stack_high_water={} pool_free={}",
        s.uptime.as_secs(),
        s.registered,
        s.forwarded_up,
        s.forwarded_down,
        s.drops,
        app.stats().rx_no_buffer_wpan,
        m.readings,
        b.readings,
        m.time_exceeded,
        m.echo_replies,
        s.stack_high_water,
        s.pool_free,
    );
}

/// The measurement mode's clock, checked and calibrated (console lines): a known instruction
/// count against the clock (under `-icount shift=0` one instruction is 1 ns of emulated time),
/// then the cost of timing an empty call (clock ticks × 1024), returned.
#[cfg(feature = "bench")]
fn bench_calibrate() -> u64 {
    const NS_PER_TICK: u64 = 1_000_000_000 / hw::SYSCLK_HZ;
    let _ = writeln!(
        Console,
        "measurement mode: {BENCH_PACKETS} packets each way"
    );
    // `delay(n)` runs n + 1 turns of a two-instruction loop (cortex-m 0.7.10).
    let mut m = Meter::new(hw::stopwatch);
    m.time(|| cortex_m::asm::delay(999_999));
    // Delays of 1..=53 cycles between the calls: the clock's 40 ns ticks fall at every phase.
    let cost = Meter::calibrate(hw::stopwatch, BENCH_CALIBRATION, |k| {
        cortex_m::asm::delay(k % 53 + 1)
    });
    let _ = writeln!(
        Console,
        "bench clock: 2000000 instructions took {} ns; an empty timed call {} ns/1024",
        m.busy * NS_PER_TICK,
        cost * NS_PER_TICK,
    );
    cost
}

/// The measurement's outcome on the console: per direction, the time of the application's
/// calls per packet in ns of emulated time (instructions under `-icount shift=0`), the clock's
/// own cost (`clock_cost`, ticks × 1024 per read) taken out; then CCM* per frame
/// ([`bench_ccm`]); a failure as a `FAULT` line.
#[cfg(feature = "bench")]
fn bench_report(outcome: sixgate_qemu_m4::bench::Outcome, clock_cost: u64) {
    use sixgate_qemu_m4::bench::Outcome;
    const NS_PER_TICK: u64 = 1_000_000_000 / hw::SYSCLK_HZ;
    let (down, up) = match outcome {
        Outcome::Done { down, up } => (down, up),
        Outcome::Failed(why) => {
            let _ = writeln!(Console, "FAULT: bench failed: {why}");
            return;
        }
    };
    for (name, leg) in [("down", down), ("up", up)] {
        let work_ns = bench_work_ns(leg.busy, leg.clock_reads, clock_cost);
        let packets = u64::from(leg.packets.max(1));
        let _ = writeln!(
            Console,
            "bench {name} packets={} frames={} calls={} clock_ns_per_call={} work_ns={} \
             ns_per_packet={}",
            leg.packets,
            leg.frames,
            leg.clock_reads,
            clock_cost * NS_PER_TICK / 1024,
            work_ns,
            work_ns / packets,
        );
    }
    if let Err(why) = bench_ccm(clock_cost) {
        let _ = writeln!(Console, "FAULT: bench failed: {why}");
        return;
    }
    let _ = writeln!(Console, "bench done");
}

/// The time of `calls` timed calls that took `busy` clock ticks, in ns of emulated time, the
/// clock's own cost (`clock_cost`, ticks × 1024 per timed call) taken out.
#[cfg(feature = "bench")]
fn bench_work_ns(busy: u64, calls: u64, clock_cost: u64) -> u64 {
    const NS_PER_TICK: u64 = 1_000_000_000 / hw::SYSCLK_HZ;
    let raw = busy.saturating_mul(1024);
    let cost = calls.saturating_mul(clock_cost);
    raw.saturating_sub(cost) * NS_PER_TICK / 1024
}

/// CCM* per 802.15.4 frame with software AES (src/ccm.rs), one console line per frame shape,
/// and one AES block alone: instructions under `-icount shift=0`, the clock's cost taken out.
#[cfg(feature = "bench")]
fn bench_ccm(clock_cost: u64) -> Result<(), &'static str> {
    use sixgate_qemu_m4::ccm;
    let aes = ccm::aes_block(hw::stopwatch);
    let _ = writeln!(
        Console,
        "bench aes blocks={} ns_per_block={}",
        ccm::AES_BLOCKS,
        bench_work_ns(aes.busy, aes.calls, clock_cost) / u64::from(ccm::AES_BLOCKS),
    );
    for case in ccm::CASES {
        let c = ccm::measure(hw::stopwatch, case, ccm::FRAMES)?;
        let frames = u64::from(c.frames.max(1));
        let _ = writeln!(
            Console,
            "bench ccm psdu={} payload={} level={} mic={} frames={} aes_blocks_secure={} \
             aes_blocks_open={} ns_per_secure={} ns_per_open={}",
            case.psdu_len(),
            case.payload,
            case.level,
            case.mic_len(),
            c.frames,
            c.secure_blocks,
            c.open_blocks,
            bench_work_ns(c.secure.busy, c.secure.calls, clock_cost) / frames,
            bench_work_ns(c.open.busy, c.open.calls, clock_cost) / frames,
        );
    }
    Ok(())
}

/// Writes what UART0 takes now.
fn flush(server: &mut MgmtServer<MGMT_TX_BYTES>) {
    let mut n = 0;
    for &b in server.pending() {
        if !hw::uart0_try_write(b) {
            break;
        }
        n += 1;
    }
    server.consumed(n);
}

/// Writes the running configuration; on success nothing is left unsaved.
fn persist(app: &mut App<'_>, store: &mut RamStore) -> Option<&'static str> {
    match save_config(store, app.config()) {
        Ok(()) => {
            app.config_saved();
            None
        }
        Err(_) => Some("RAM store write failed"),
    }
}

/// Stops here (QEMU keeps running; the console says why).
fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

/// The interrupt `hw::sleep` waits for besides SysTick (UART0 RX): clear its source, so the
/// core returns from WFI and the line drops.
#[allow(unsafe_code)] // cortex-m-rt declares exception handlers `unsafe`
#[exception]
unsafe fn DefaultHandler(_irqn: i16) {
    hw::clear_wakeups();
}

/// One SysTick period has passed.
#[exception]
fn SysTick() {
    hw::tick();
}

#[allow(unsafe_code)] // as above
#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    let _ = writeln!(
        Console,
        "FAULT: hard fault at pc={:#010x} lr={:#010x}",
        ef.pc(),
        ef.lr()
    );
    halt()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    static PANICKED: AtomicBool = AtomicBool::new(false);
    cortex_m::interrupt::disable();
    if !PANICKED.swap(true, Ordering::Relaxed) {
        let _ = writeln!(Console, "FAULT: panic: {info}");
    }
    halt()
}
