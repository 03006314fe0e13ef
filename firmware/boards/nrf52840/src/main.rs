//! sixgate on the nRF52840: the border-router application ([`firmware::app::App`]) driven by
//! embassy.
//!
//! Tasks:
//! - `main` (this file): boot, then the application loop — it owns the app, the management
//!   server, the radio, the Ethernet device half and the management UART, and sleeps in one
//!   `select` until a radio event, a received Ethernet frame, the next deadline (the app's or
//!   the server's), bytes from the host, or room to send the server's output;
//! - `eth_task`: the W5500 runner (all SPI traffic, INT pin, link polling).
//!
//! With the `mgmt` feature (the default) the management protocol (`sixgate` CLI) runs on
//! UARTE0 at [`board::UART_BAUD`]; logs go to defmt over RTT (`probe-rs`), so `sixgate log` is
//! refused with a pointer there. Without it (`--no-default-features`, the router-only image)
//! bytes from the host are read and dropped.
//!
//! The radio's time-critical work happens in its interrupt handler (see `radio.rs`). The stack
//! is painted at boot and its high-water mark measured every turn of the loop (`stack.rs`),
//! reported as the `stack_high_water` counter.
#![no_std]
#![no_main]

mod board;
mod ecb;
mod eth;
mod ids;
#[allow(unsafe_code)] // the intrinsic's ABI: a raw pointer for the remainder; see intrinsics.rs
mod intrinsics;
#[allow(unsafe_code)] // EasyDMA buffer and NVIC enable; see radio.rs
mod radio;
// One source for both Cortex-M boards: painting and measuring the stack is not board-specific.
#[allow(unsafe_code)] // painting and reading the free stack; see stack.rs
#[path = "../../common/stack.rs"]
mod stack;
mod store;
mod uart;

use core::convert::Infallible;
use core::sync::atomic::{AtomicBool, Ordering};

use defmt::{error, info, warn};
use embassy_executor::Spawner;
use embassy_futures::select::{Either4, select4};
use embassy_nrf::buffered_uarte::BufferedUarte;
#[cfg(feature = "mgmt")]
use embassy_nrf::buffered_uarte::BufferedUarteTx;
use embassy_nrf::config::{HfclkSource, LfclkSource};
use embassy_nrf::gpio::{Input, Level, Output, OutputDrive, Pull};
use embassy_nrf::nvmc::Nvmc;
use embassy_nrf::spim::Spim;
use embassy_nrf::{bind_interrupts, buffered_uarte, peripherals, spim, uarte};
use embassy_time::Timer;
use firmware::app::{App, AppResources};
use firmware::config::Config;
#[cfg(feature = "mgmt")]
use firmware::mgmt::{Action, MgmtServer};
#[cfg(feature = "mgmt")]
use firmware::store::ConfigStore as _;
use firmware::store::{CounterStore as _, load_config, save_config};
use netif::time::{Duration, Instant};
use static_cell::StaticCell;

use defmt_rtt as _;

use crate::eth::{W5500Eth, W5500Runner, W5500Spi, W5500State};
use crate::radio::NrfRadio;
use crate::store::FlashStore;

bind_interrupts!(struct Irqs {
    RADIO => radio::RadioIrq;
    SPIM3 => spim::InterruptHandler<peripherals::SPI3>;
    UARTE0 => buffered_uarte::InterruptHandler<peripherals::UARTE0>;
});

/// The W5500 runner: all SPI traffic with the chip.
#[embassy_executor::task]
async fn eth_task(runner: W5500Runner) -> ! {
    runner.run().await
}

/// The Ethernet port as the app sees it: the W5500, or nothing when the chip did not answer
/// at boot (the router then serves the mesh alone, with `eth0` down).
enum EthPort {
    W5500(W5500Eth),
    Absent([u8; 6]),
}

impl EthPort {
    async fn wait_rx(&mut self) {
        match self {
            EthPort::W5500(e) => e.wait_rx().await,
            EthPort::Absent(_) => core::future::pending().await,
        }
    }
}

impl ethernet::Driver for EthPort {
    type Error = Infallible;

    fn mac(&self) -> [u8; 6] {
        match self {
            EthPort::W5500(e) => e.mac(),
            EthPort::Absent(mac) => *mac,
        }
    }

    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Infallible> {
        match self {
            EthPort::W5500(e) => e.receive(buf),
            EthPort::Absent(_) => Ok(None),
        }
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<bool, Infallible> {
        match self {
            EthPort::W5500(e) => e.transmit(frame),
            // Nowhere to send: consumed (and lost), so nothing queues up behind it.
            EthPort::Absent(_) => Ok(true),
        }
    }

    fn link_up(&mut self) -> bool {
        match self {
            EthPort::W5500(e) => e.link_up(),
            EthPort::Absent(_) => false,
        }
    }
}

/// `t` as an embassy instant, rounded up to the next RTC tick so a timer never fires before
/// the deadline it stands for.
fn to_embassy(t: Instant) -> embassy_time::Instant {
    let us = u128::from(t.as_micros());
    let hz = u128::from(embassy_time::TICK_HZ);
    let ticks = (us * hz).div_ceil(1_000_000);
    embassy_time::Instant::from_ticks(u64::try_from(ticks).unwrap_or(u64::MAX))
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let mut hal = embassy_nrf::config::Config::default();
    // The radio needs the crystal; the DK has a 32.768 kHz crystal for RTC1 as well.
    hal.hfclk_source = HfclkSource::ExternalXtal;
    hal.lfclk_source = LfclkSource::ExternalXtal;
    let b = board::Board::new(embassy_nrf::init(hal));
    stack::paint();

    let dev_addr = ids::device_addr();
    let eui64 = ids::eui64(dev_addr);
    let mac = ids::mac48(dev_addr);
    info!("sixgate nrf52840: EUI-64 {:02x}, MAC {:02x}", eui64, mac);

    // Configuration: flash, or the defaults for this chip.
    let mut store = FlashStore::new(Nvmc::new(b.nvmc));
    let (config, outcome) = load_config(&mut store, Config::default_for(eui64));
    info!("config: {}", outcome);

    let mut radio = NrfRadio::new(b.radio, Irqs);

    // Management UART.
    static UART_RX_RING: StaticCell<[u8; uart::UART_RX_RING]> = StaticCell::new();
    static UART_TX_RING: StaticCell<[u8; uart::UART_TX_RING]> = StaticCell::new();
    let mut ucfg = uarte::Config::default();
    ucfg.baudrate = board::UART_BAUD;
    let u = b.uart;
    let serial = BufferedUarte::new(
        u.uarte,
        u.timer,
        u.ppi_ch1,
        u.ppi_ch2,
        u.ppi_group,
        u.rx,
        u.tx,
        Irqs,
        ucfg,
        UART_RX_RING.init([0; uart::UART_RX_RING]),
        UART_TX_RING.init([0; uart::UART_TX_RING]),
    );
    let (mut urx, mut utx) = serial.split();

    // Ethernet: W5500 on SPIM3.
    let w = b.w5500;
    let mut scfg = spim::Config::default();
    scfg.frequency = board::W5500_SPI_FREQ;
    static SPI_BUS: StaticCell<Spim<'static>> = StaticCell::new();
    let bus = SPI_BUS.init(Spim::new(w.spim, Irqs, w.sck, w.miso, w.mosi, scfg));
    let cs = Output::new(w.cs, Level::High, OutputDrive::Standard);
    let int = Input::new(w.int, Pull::Up);
    let rst = Output::new(w.rst, Level::High, OutputDrive::Standard);
    static ETH_STATE: StaticCell<W5500State> = StaticCell::new();
    let state = ETH_STATE.init(W5500State::new());
    let mut eth = match embassy_net_wiznet::new(mac, state, W5500Spi::new(bus, cs), int, rst).await
    {
        Ok((dev, runner)) => {
            spawner.spawn(eth_task(runner).expect("eth task spawns once"));
            EthPort::W5500(W5500Eth::new(dev, mac))
        }
        Err(e) => {
            error!("W5500 not answering ({}); running without eth0", e);
            EthPort::Absent(mac)
        }
    };

    // The application.
    static RESOURCES: StaticCell<AppResources<{ board::CAPTURE_BYTES }>> = StaticCell::new();
    let res = RESOURCES.init_with(AppResources::new);
    let mut app = match App::new(config, res, radio::now(), &mut radio) {
        Ok(app) => app,
        Err(e) => defmt::panic!("application refused its configuration: {}", e),
    };
    start_security(&mut app, &mut store, b.rng);
    info!("running");

    #[cfg(feature = "mgmt")]
    let mut server: MgmtServer<{ board::MGMT_TX_BYTES }> = MgmtServer::new("nrf52840-dk");
    #[cfg(feature = "mgmt")]
    server.set_logs_unavailable(Some(
        "this board logs with defmt over RTT: use probe-rs (e.g. `probe-rs attach`)",
    ));
    #[cfg(not(feature = "mgmt"))]
    let mut host_rx_total: u32 = 0;
    // A failed counter save is tried again no sooner than this (the app keeps asking).
    let mut counter_retry: Option<Instant> = None;
    let mut ecb_failures = 0u32;
    loop {
        #[cfg(feature = "mgmt")]
        let (pending, want_rx, mgmt_deadline) = (
            server.pending(),
            server.wants_input(),
            server.next_deadline(),
        );
        #[cfg(not(feature = "mgmt"))]
        let (pending, want_rx, mgmt_deadline): (&[u8], bool, Option<Instant>) = (&[], true, None);
        let deadline = [app.next_deadline(), mgmt_deadline, counter_retry]
            .into_iter()
            .flatten()
            .min();
        let timer = async {
            match deadline {
                Some(d) => Timer::at(to_embassy(d)).await,
                None => core::future::pending().await,
            }
        };
        let woke = select4(
            NrfRadio::wait(),
            eth.wait_rx(),
            timer,
            uart::io(&mut urx, &mut utx, pending, want_rx),
        )
        .await;
        match woke {
            Either4::Fourth(uart::Io::Rx(Ok(bytes))) => {
                #[cfg(feature = "mgmt")]
                let taken = server.receive(bytes, &mut app, radio::now(), &mut radio);
                #[cfg(not(feature = "mgmt"))]
                let taken = {
                    host_rx_total = host_rx_total.wrapping_add(bytes.len() as u32);
                    defmt::debug!("uart: {} bytes dropped (no mgmt feature)", host_rx_total);
                    bytes.len()
                };
                urx.consume(taken);
            }
            Either4::Fourth(uart::Io::Rx(Err(e))) => warn!("uart: {}", e),
            #[cfg(feature = "mgmt")]
            Either4::Fourth(uart::Io::Tx(n)) => server.consumed(n),
            _ => {}
        }

        // Radio events first (ACK timing), each stamped with the time it is handled.
        while let Some(ev) = radio.try_event() {
            app.on_radio_event(radio::now(), ev.event(), &mut radio);
        }
        app.poll(radio::now(), &mut radio, &mut eth);
        app.set_stack_high_water(stack::high_water(app.stack_high_water()));
        #[cfg(feature = "mgmt")]
        {
            server.poll(&mut app, radio::now(), &mut radio);
            flush_now(&mut utx, &mut server);
            mgmt_action(&mut server, &mut app, &mut store, &mut utx).await;
        }
        // Offered once per change; it stays unsaved (`config show`) until a write succeeds.
        if app.take_dirty_config().is_some() {
            let _ = persist(&mut app, &mut store);
        }
        // The security counter, persisted ahead before the frames that use it are sent.
        persist_counter(&mut app, &mut store, &mut counter_retry);
        if ecb::failures() != ecb_failures {
            ecb_failures = ecb::failures();
            warn!(
                "AES-ECB: {} blocks failed (RNG-filled), {} attempts retried",
                ecb_failures,
                ecb::retries()
            );
        }
    }
}

/// Link-layer security: the ECB block once it computed FIPS-197 C.1 right, the counter
/// resumed from the log. No counter readable means no security: restarting from 0 could send a
/// counter twice.
#[inline(never)]
fn start_security(
    app: &mut App<'_>,
    store: &mut FlashStore<'_>,
    rng: embassy_nrf::Peri<'static, peripherals::RNG>,
) {
    if !ecb::init(rng) {
        error!("AES-ECB known-answer test failed: link-layer security off");
    } else {
        match store.load_counter() {
            Ok(stored) => {
                app.start_security(stored, ecb::ecb_cipher);
                // The first record at once: no secured frame goes out before one is stored.
                persist_counter(app, store, &mut None);
            }
            Err(e) => error!(
                "security counter unreadable ({}): link-layer security off",
                e
            ),
        }
    }
}

/// Saves the security counter the app asks for (persisted ahead, before the frames that use
/// it are sent); a failed save is tried again no sooner than [`COUNTER_RETRY`].
#[inline(never)]
fn persist_counter(app: &mut App<'_>, store: &mut FlashStore<'_>, retry: &mut Option<Instant>) {
    let now = radio::now();
    if retry.is_none_or(|t| now >= t)
        && let Some(c) = app.take_security_persist()
    {
        *retry = match store.save_counter(c) {
            Ok(()) => {
                app.security_persisted(c);
                None
            }
            Err(e) => {
                warn!("security counter not saved: {}", e);
                Some(now + COUNTER_RETRY)
            }
        };
    }
}

/// Wait before trying a failed security-counter save again.
const COUNTER_RETRY: Duration = Duration::from_secs(1);

/// What the host is told when the flash store fails (the defmt log has the details).
const FLASH_FAILED: &str = "flash write failed";

/// Writes the running configuration; on success nothing is left unsaved. Returns why it
/// failed, in the host's words (static text: `core::fmt` would cost ~2 KB of flash).
fn persist(app: &mut App<'_>, store: &mut FlashStore<'_>) -> Option<&'static str> {
    match save_config(store, app.config()) {
        Ok(()) => {
            app.config_saved();
            None
        }
        Err(e) => {
            warn!("config not saved: {}", e);
            Some(FLASH_FAILED)
        }
    }
}

/// Carries out what the management server asked for (save, erase, reboot); save and erase
/// are answered with their outcome.
#[cfg(feature = "mgmt")]
async fn mgmt_action<const TX: usize>(
    server: &mut MgmtServer<TX>,
    app: &mut App<'_>,
    store: &mut FlashStore<'_>,
    utx: &mut BufferedUarteTx<'static>,
) {
    match server.take_action() {
        Some(Action::SaveConfig) => server.action_done(persist(app, store)),
        // The answer tells the host; no log line (flash).
        Some(Action::ResetConfig) => {
            let r = store.erase();
            if r.is_ok() {
                // What runs is no longer stored: `config show` says unsaved.
                app.config_erased();
            }
            server.action_done(r.err().map(|_| FLASH_FAILED))
        }
        Some(Action::Reboot) => {
            // Let the answer reach the host first.
            while !server.pending().is_empty() {
                let n = utx.write(server.pending()).await.unwrap_or(0);
                server.consumed(n);
            }
            let _ = utx.flush().await;
            info!("rebooting (requested)");
            cortex_m::peripheral::SCB::sys_reset();
        }
        None => {}
    }
}

#[cfg(feature = "mgmt")]
/// Queues as much of the server's output as the UART's transmit ring takes now (the ring
/// wraps, so a second write may take more).
fn flush_now<const TX: usize>(utx: &mut BufferedUarteTx<'static>, server: &mut MgmtServer<TX>) {
    for _ in 0..2 {
        let n = uart::write_now(utx, server.pending());
        if n == 0 {
            break;
        }
        server.consumed(n);
    }
}

/// Panics: log the location (and the message when it is a plain string) over defmt, then stop
/// with an undefined instruction, which probe-rs reports as a fault. panic-probe's `print-defmt`
/// prints the whole formatted message instead, which links `core::fmt`'s formatting machinery
/// into flash (about 2 KB this image cannot spare); the location names the panic site.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    static PANICKED: AtomicBool = AtomicBool::new(false);
    cortex_m::interrupt::disable();
    // A panic while logging the first one must not recurse.
    if !PANICKED.swap(true, Ordering::Relaxed) {
        let message = info
            .message()
            .as_str()
            .unwrap_or("(formatted message not kept)");
        match info.location() {
            Some(at) => defmt::error!(
                "panic at {=str}:{=u32}: {=str}",
                at.file(),
                at.line(),
                message
            ),
            None => defmt::error!("panic: {=str}", message),
        }
    }
    cortex_m::asm::udf()
}
