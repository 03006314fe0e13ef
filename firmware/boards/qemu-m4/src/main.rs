//! sixgate on QEMU's MPS2 AN386 (Cortex-M4F): the border-router application with the product
//! image's capacities and its management server, as one superloop.
//!
//! Each turn: bytes from the host (UART0) to the management server; the far ends and the
//! application ([`FarEnds::step`]: radio events, the nodes' frames, the backbone host, then
//! `App::poll`); the stack high-water mark; the server's poll and output to UART0; what the
//! server asked for (save, erase, reboot) and a configuration change to persist. Then the core
//! sleeps (WFI) until a byte from the host or the next SysTick ([`hw::TICK_CYCLES`], 10 ms).
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

/// SysTick (25 MHz, wrapping every [`hw::TICK_CYCLES`]) extended to 64 bits by the wraps
/// its handler counts.
struct Clock;

impl Clock {
    fn now(&mut self) -> Instant {
        Instant::from_micros(hw::cycles() / (hw::SYSCLK_HZ / 1_000_000))
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
    let mut clock = Clock;
    let now = clock.now();

    let mut store = RamStore::take();
    let (config, outcome) = load_config(&mut store, Config::default_for(EUI64));
    let _ = writeln!(Console, "sixgate {BOARD}: config: {outcome:?}");

    static RESOURCES: StaticCell<AppResources<CAPTURE_BYTES>> = StaticCell::new();
    static FAR: StaticCell<FarEnds> = StaticCell::new();
    static SERVER: StaticCell<MgmtServer<MGMT_TX_BYTES>> = StaticCell::new();
    let res = RESOURCES.init_with(AppResources::new);
    let far = FAR.init_with(|| FarEnds::new(config.eth_mac, now));
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

        far.step(now, &mut app);
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
