//! The nRF52840 RADIO in IEEE 802.15.4 mode behind [`l2_15_4::radio::Radio`].
//!
//! # Why registers and not `embassy_nrf::radio::ieee802154`
//!
//! The embassy driver is async and shaped for a simple app: `try_send` always runs a CCA
//! first (the soft-MAC needs a direct send for ACKs and after its own CSMA/CA), there is no
//! stand-alone CCA (our trait's `cca(now)` is synchronous), no energy detection, no RSSI, the
//! receiver is off between `receive` calls (an ACK 192 µs after our frame would be missed
//! unless a task re-arms it in time), and invalid channels panic. So this module drives the
//! RADIO registers itself (through the register API that embassy-nrf re-exports from
//! `nrf-pac`; register access is safe there), with an interrupt handler that does the
//! time-critical work and a queue of events for the thread-mode main loop.
//!
//! # Split of work
//!
//! - **Interrupt handler** ([`RadioIrq`]): on END in receive mode it copies the frame (PHR,
//!   PSDU, LQI, CRC status, RSSI, timestamp) out of the DMA buffer into [`EVENTS`] and restarts
//!   the receiver at once (blind for a few µs); on PHYEND in transmit mode it reports
//!   [`TxOutcome::Sent`] and turns the radio back to receive (TX → DISABLED → RX, the errata-204
//!   safe path; the receiver is up about 50 µs after the last symbol, well inside the 192 µs
//!   turnaround before an ACK); on EDEND it reports the energy level and resumes receiving.
//! - **Thread mode** ([`NrfRadio`], the `Radio` impl): every command reprograms the radio
//!   inside a critical section, so the interrupt handler never sees a half-changed radio.
//!   `cca` blocks for the 128 µs measurement (about 150 µs in all) with interrupts masked.
//! - **Main loop**: awaits [`NrfRadio::wait`], then drains [`NrfRadio::try_event`] into the
//!   MAC. An event is an owned [`PendingEvent`], so the MAC can be handed the radio mutably
//!   while it reads the frame.
//!
//! # What the hardware does (the [`Capabilities`] we declare)
//!
//! - FCS: the RADIO computes the CRC on transmit and checks it on receive (`hw_fcs`). On
//!   receive the hardware writes the LQI over the first FCS byte, so the driver rebuilds both
//!   FCS bytes from the MPDU when the CRC was good (a capture then shows a valid FCS) and
//!   leaves them zero when it was bad (`fcs_ok: Some(false)` says so).
//! - No auto-ACK, no CSMA/CA, no address filtering: the nRF52840 has none of them in hardware
//!   without PPI/TIMER choreography (which Nordic's own driver does); the soft-MAC in
//!   `l2-15_4` sends ACKs, runs CSMA/CA and filters. Soft ACK timing is best effort: the MAC
//!   sends the ACK at RX end + 192 µs if the main loop gets there in time (up to
//!   macAckWaitDuration − ACK airtime ≈ 512 µs), else it skips it and counts
//!   `acks_skipped`; see the README.
//! - Energy detection (`energy_scan`) and promiscuous reception (the radio never filters).
//!
//! # Timestamps
//!
//! Taken with `embassy_time::Instant::now()` in the interrupt handler (RTC1, 32.768 kHz, so a
//! 30.5 µs grain plus interrupt latency), converted to [`netif::time::Instant`] µs since boot.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU8, AtomicU32, Ordering, compiler_fence};

use embassy_nrf::Peri;
use embassy_nrf::interrupt::typelevel::{Binding, Handler, Interrupt};
use embassy_nrf::interrupt::{self, InterruptExt};
use embassy_nrf::pac;
use embassy_nrf::pac::radio::vals;
use embassy_nrf::peripherals::RADIO;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel as EvChannel;
use l2_15_4::frame::{FCS_LEN, MAX_PSDU_LEN, PanId, fcs};
use l2_15_4::radio::{
    Capabilities, Channel, Radio, RadioError, RadioEvent, RxFrame, TxMode, TxOutcome,
};
use netif::time::{Duration, Instant};

/// Received frames the queue holds for the main loop; beyond that frames are dropped and
/// counted in [`RadioStats::rx_overruns`].
const RX_QUEUE: usize = 4;
/// Queue slots that received frames may not take, so a completion always finds room: at most
/// one `TxDone` (the radio takes no new transmission before the MAC has seen the last one's)
/// and one `EnergyDetect` are outstanding. A lost completion would leave the MAC waiting.
const RESERVED: usize = 2;
/// Events queued by the interrupt handler (and by `transmit` in CCA mode) for the main loop.
const EVENT_QUEUE: usize = RX_QUEUE + RESERVED;

/// CCA: busy when a carrier is seen OR the energy is above −72 dBm (EDSAMPLE 20 above the
/// −92 dBm floor), with Nordic's correlator defaults (threshold 45, two peaks).
const CCA_ED_THRESHOLD: u8 = 20;
const CCA_CORR_THRESHOLD: u8 = 45;
const CCA_CORR_COUNT: u8 = 2;

/// dBm of EDSAMPLE/LQI value 0 on the nRF52840 (product specification, ED_RSSIOFFS).
const ED_RSSI_OFFSET: i16 = -92;
/// EDSAMPLE × 4 maps linearly onto the 802.15.4 0..=255 ED/LQI scale (ED_RSSISCALE).
const ED_RSSI_SCALE: u16 = 4;

/// An energy measurement lasts (EDCNT + 1) × 128 µs.
const ED_PERIOD_US: u64 = 128;
const EDCNT_MAX: u32 = 0x000f_ffff;

/// Spins waiting for the radio to change state; every transition waited on here takes at
/// most tens of µs (ramp-down, CCA 128 µs), so this bound (about 1 ms at 64 MHz) only
/// matters if the radio is wedged.
const SPIN_LIMIT: u32 = 64_000;

/// Radio activity, shared with the interrupt handler.
const MODE_OFF: u8 = 0;
const MODE_RX: u8 = 1;
const MODE_TX: u8 = 2;
const MODE_ED: u8 = 3;

/// One PHR byte followed by up to 127 PSDU bytes: the RADIO's EasyDMA buffer.
const DMA_LEN: usize = 1 + MAX_PSDU_LEN;

/// The EasyDMA buffer. The RADIO reads (TX) and writes (RX) it behind the compiler's back,
/// so it lives in an `UnsafeCell` and is only touched through a raw pointer while the radio
/// cannot be using it (see the `SAFETY` notes at each use).
struct DmaBuf(UnsafeCell<[u8; DMA_LEN]>);

// SAFETY: the buffer is only accessed (a) by the RADIO interrupt handler after END/EDEND with
// the radio idle, and (b) by thread-mode code inside a critical section after the radio was
// stopped; those two never overlap on this single-core MCU.
unsafe impl Sync for DmaBuf {}

static DMA: DmaBuf = DmaBuf(UnsafeCell::new([0; DMA_LEN]));
static MODE: AtomicU8 = AtomicU8::new(MODE_OFF);
static CHANNEL: AtomicU8 = AtomicU8::new(11);
static EVENTS: EvChannel<CriticalSectionRawMutex, PendingEvent, EVENT_QUEUE> = EvChannel::new();
static RX_OVERRUNS: AtomicU32 = AtomicU32::new(0);
static RX_FRAMES: AtomicU32 = AtomicU32::new(0);
static RX_CRC_ERRORS: AtomicU32 = AtomicU32::new(0);
static TX_FRAMES: AtomicU32 = AtomicU32::new(0);

/// Driver statistics (the MAC has its own counters; these are what only the driver sees).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, defmt::Format)]
pub struct RadioStats {
    /// Frames received (CRC good or bad).
    pub rx_frames: u32,
    /// Frames whose CRC failed.
    pub rx_crc_errors: u32,
    /// Events dropped because the main loop had not drained the queue.
    pub rx_overruns: u32,
    /// Transmissions completed.
    pub tx_frames: u32,
}

/// A radio event waiting for the main loop: owns its frame bytes.
#[derive(Clone, Copy)]
pub struct PendingEvent {
    kind: Kind,
    at: Instant,
    /// PSDU incl. FCS (receive only); `len` bytes are valid.
    psdu: [u8; MAX_PSDU_LEN],
    len: u8,
}

#[derive(Clone, Copy)]
enum Kind {
    Rx {
        rssi: i8,
        lqi: u8,
        crc_ok: bool,
        channel: u8,
    },
    TxDone(TxOutcome),
    Energy {
        channel: u8,
        dbm: i8,
    },
}

impl PendingEvent {
    const fn new(kind: Kind, at: Instant) -> Self {
        PendingEvent {
            kind,
            at,
            psdu: [0; MAX_PSDU_LEN],
            len: 0,
        }
    }

    /// The event as the MAC takes it.
    pub fn event(&self) -> RadioEvent<'_> {
        match self.kind {
            Kind::Rx {
                rssi,
                lqi,
                crc_ok,
                channel,
            } => RadioEvent::Received(RxFrame {
                psdu: self.psdu.get(..usize::from(self.len)).unwrap_or(&[]),
                rssi,
                lqi,
                timestamp: self.at,
                channel: Channel::new(channel).unwrap_or(DEFAULT_CHANNEL),
                fcs_ok: Some(crc_ok),
            }),
            Kind::TxDone(outcome) => RadioEvent::TxDone {
                end: self.at,
                outcome,
            },
            Kind::Energy { channel, dbm } => RadioEvent::EnergyDetect {
                channel: Channel::new(channel).unwrap_or(DEFAULT_CHANNEL),
                dbm,
            },
        }
    }
}

const DEFAULT_CHANNEL: Channel = match Channel::new(11) {
    Some(c) => c,
    None => panic!("11 is a valid channel"),
};

/// Now, as the protocol cores count time: µs since boot.
pub fn now() -> Instant {
    Instant::from_micros(embassy_time::Instant::now().as_micros())
}

/// The RADIO interrupt handler; bind it with `bind_interrupts!(… RADIO => RadioIrq; …)`.
pub struct RadioIrq;

impl Handler<embassy_nrf::interrupt::typelevel::RADIO> for RadioIrq {
    unsafe fn on_interrupt() {
        on_radio_interrupt();
    }
}

/// The work of the interrupt handler (safe code; `on_interrupt` is only `unsafe` to call).
fn on_radio_interrupt() {
    let r = pac::RADIO;
    match MODE.load(Ordering::Relaxed) {
        MODE_RX => {
            r.events_phyend().write_value(0);
            if take_rx() {
                // Listen again at once: the buffer has been copied.
                r.tasks_start().write_value(1);
            }
        }
        MODE_TX => {
            r.events_end().write_value(0);
            if r.events_phyend().read() == 0 {
                return;
            }
            r.events_phyend().write_value(0);
            let at = now();
            TX_FRAMES.fetch_add(1, Ordering::Relaxed);
            // PHYEND→DISABLE (short) is under way; receive again once it is done.
            wait_state(vals::State::Disabled);
            start_rx();
            push(PendingEvent::new(Kind::TxDone(TxOutcome::Sent), at));
        }
        MODE_ED => {
            if r.events_edend().read() == 0 {
                return;
            }
            r.events_edend().write_value(0);
            let at = now();
            let level = r.edsample().read().edlvl();
            let dbm = clamp_i8(ED_RSSI_OFFSET + i16::from(level));
            let channel = CHANNEL.load(Ordering::Relaxed);
            MODE.store(MODE_RX, Ordering::Relaxed);
            r.events_end().write_value(0);
            r.events_framestart().write_value(0);
            r.tasks_start().write_value(1);
            push(PendingEvent::new(Kind::Energy { channel, dbm }, at));
        }
        _ => {
            // Not ours to handle (radio off): clear what could have fired.
            r.events_end().write_value(0);
            r.events_phyend().write_value(0);
            r.events_edend().write_value(0);
        }
    }
}

/// If a received frame is waiting in the DMA buffer (END), queues it and returns `true`; the
/// radio is then in RXIDLE and the caller decides what comes next. Called by the interrupt
/// handler and, inside a critical section, by commands that are about to reuse the buffer.
fn take_rx() -> bool {
    let r = pac::RADIO;
    if r.events_end().read() == 0 {
        return false;
    }
    r.events_end().write_value(0);
    r.events_framestart().write_value(0);
    let at = now();
    dma_end_fence();
    let crc_ok = r.crcstatus().read().crcstatus() == vals::Crcstatus::CrcOk;
    let rssi = rssi_dbm(r.rssisample().read().rssisample());
    let mut ev = PendingEvent::new(
        Kind::Rx {
            rssi,
            lqi: 0,
            crc_ok,
            channel: CHANNEL.load(Ordering::Relaxed),
        },
        at,
    );
    // SAFETY: END means EasyDMA has finished writing the frame and the receiver is idle
    // (receive mode has no READY→START or END→START short) until someone STARTs it again,
    // which only this handler or thread code in a critical section does, after this copy.
    let buf: &[u8; DMA_LEN] = unsafe { &*DMA.0.get() };
    if copy_rx(buf, crc_ok, &mut ev) {
        RX_FRAMES.fetch_add(1, Ordering::Relaxed);
        if !crc_ok {
            RX_CRC_ERRORS.fetch_add(1, Ordering::Relaxed);
        }
        if EVENTS.free_capacity() > RESERVED {
            push(ev);
        } else {
            RX_OVERRUNS.fetch_add(1, Ordering::Relaxed);
        }
    }
    true
}

/// Copies a received frame out of the DMA buffer; `false` if the PHR is not a frame.
fn copy_rx(buf: &[u8; DMA_LEN], crc_ok: bool, ev: &mut PendingEvent) -> bool {
    let len = usize::from(buf[0] & 0x7f);
    // A PSDU shorter than the FCS carries nothing; the hardware gives no LQI for it either.
    if len < FCS_LEN + 1 {
        return false;
    }
    let mpdu_len = len - FCS_LEN;
    let (Some(mpdu), Some(&lqi_raw)) = (buf.get(1..1 + mpdu_len), buf.get(1 + mpdu_len)) else {
        return false;
    };
    let Some(dst) = ev.psdu.get_mut(..len) else {
        return false;
    };
    let (m, f) = dst.split_at_mut(mpdu_len);
    m.copy_from_slice(mpdu);
    if crc_ok {
        // The hardware wrote the LQI over the first FCS byte: rebuild the FCS it checked.
        f.copy_from_slice(&fcs::compute(mpdu).to_le_bytes());
    } else {
        f.fill(0);
    }
    ev.len = len as u8;
    if let Kind::Rx { lqi, .. } = &mut ev.kind {
        *lqi = u8::try_from(u16::from(lqi_raw).saturating_mul(ED_RSSI_SCALE)).unwrap_or(u8::MAX);
    }
    true
}

fn push(ev: PendingEvent) {
    if EVENTS.try_send(ev).is_err() {
        RX_OVERRUNS.fetch_add(1, Ordering::Relaxed);
    }
}

/// RSSISAMPLE holds −dBm.
fn rssi_dbm(sample: u8) -> i8 {
    clamp_i8(-i16::from(sample))
}

fn clamp_i8(v: i16) -> i8 {
    v.clamp(i16::from(i8::MIN), i16::from(i8::MAX)) as i8
}

/// Waits (bounded) until the radio is in `state`; `false` on timeout.
fn wait_state(state: vals::State) -> bool {
    let r = pac::RADIO;
    for _ in 0..SPIN_LIMIT {
        if r.state().read().state() == state {
            return true;
        }
    }
    false
}

/// From DISABLED: ramp up the receiver into the DMA buffer and listen (RXREADY→START).
fn start_rx() {
    let r = pac::RADIO;
    r.shorts().write(|w| {
        w.set_rxready_start(true);
        w.set_address_rssistart(true);
    });
    r.packetptr().write_value(DMA.0.get() as u32);
    r.events_end().write_value(0);
    r.events_phyend().write_value(0);
    r.events_framestart().write_value(0);
    MODE.store(MODE_RX, Ordering::Relaxed);
    dma_start_fence();
    r.tasks_rxen().write_value(1);
}

/// Any state → DISABLED, with no shorts left that could restart anything.
fn disable() -> bool {
    let r = pac::RADIO;
    r.shorts().write(|_| {});
    match r.state().read().state() {
        vals::State::Disabled => return true,
        vals::State::Rx | vals::State::Tx => {
            r.tasks_ccastop().write_value(1);
            r.tasks_edstop().write_value(1);
            r.tasks_stop().write_value(1);
        }
        _ => {}
    }
    r.tasks_disable().write_value(1);
    let ok = wait_state(vals::State::Disabled);
    dma_end_fence();
    ok
}

/// Makes DMA writes before this point visible to the RADIO before the next task trigger.
fn dma_start_fence() {
    compiler_fence(Ordering::Release);
}

/// Makes the RADIO's DMA writes visible to the reads after this point.
fn dma_end_fence() {
    compiler_fence(Ordering::Acquire);
}

/// The nRF52840 RADIO as an [`l2_15_4::radio::Radio`].
pub struct NrfRadio<'d> {
    _radio: Peri<'d, RADIO>,
    channel: Channel,
}

impl<'d> NrfRadio<'d> {
    /// Powers the RADIO up in 802.15.4 mode on channel 11 and starts receiving. The HFXO must
    /// be running (`embassy_nrf::config::Config::hfclk_source = ExternalXtal`).
    pub fn new(
        radio: Peri<'d, RADIO>,
        _irq: impl Binding<embassy_nrf::interrupt::typelevel::RADIO, RadioIrq> + 'd,
    ) -> Self {
        let r = pac::RADIO;
        interrupt::RADIO.disable();
        r.power().write(|w| w.set_power(false));
        r.power().write(|w| w.set_power(true));
        r.mode()
            .write(|w| w.set_mode(vals::Mode::Ieee802154250kbit));
        // Fast ramp-up (40 µs) keeps TX→RX well inside the 192 µs turnaround; the carrier is
        // the centre frequency between packets (Nordic's 802.15.4 settings).
        r.modecnf0().write(|w| {
            w.set_ru(vals::Ru::Fast);
            w.set_dtx(vals::Dtx::Center);
        });
        // 802.15.4 PHY: 8-bit length (the PHR), 32-bit zero preamble, length includes the
        // two CRC bytes, which the hardware computes (ITU-T, init 0) over the PSDU.
        r.pcnf0().write(|w| {
            w.set_lflen(8);
            w.set_s0len(false);
            w.set_s1len(0);
            w.set_s1incl(vals::S1incl::Automatic);
            w.set_cilen(0);
            w.set_plen(vals::Plen::_32bitZero);
            w.set_crcinc(vals::Crcinc::Include);
        });
        r.pcnf1().write(|w| {
            w.set_maxlen(MAX_PSDU_LEN as u8);
            w.set_statlen(0);
            w.set_balen(0);
            w.set_endian(vals::Endian::Little);
            w.set_whiteen(false);
        });
        r.crccnf().write(|w| {
            w.set_len(vals::Len::Two);
            w.set_skipaddr(vals::Skipaddr::Ieee802154);
        });
        r.crcpoly().write(|w| w.set_crcpoly(0x0001_1021));
        r.crcinit().write(|w| w.set_crcinit(0));
        r.sfd().write(|w| w.set_sfd(0xa7));
        r.ccactrl().write(|w| {
            w.set_ccamode(vals::Ccamode::CarrierOrEdMode);
            w.set_ccaedthres(CCA_ED_THRESHOLD);
            w.set_ccacorrthres(CCA_CORR_THRESHOLD);
            w.set_ccacorrcnt(CCA_CORR_COUNT);
        });
        r.txpower().write(|w| w.set_txpower(vals::Txpower::_0dBm));
        let this = NrfRadio {
            _radio: radio,
            channel: DEFAULT_CHANNEL,
        };
        set_frequency(DEFAULT_CHANNEL);
        r.intenclr().write(|w| w.0 = 0xffff_ffff);
        r.intenset().write(|w| {
            w.set_end(true);
            w.set_phyend(true);
            w.set_edend(true);
        });
        interrupt::RADIO.unpend();
        interrupt::RADIO.set_priority(interrupt::Priority::P1);
        critical_section::with(|_| {
            disable();
            start_rx();
        });
        // SAFETY: enabling the RADIO interrupt in the NVIC: the `Binding` argument proves that
        // `RadioIrq` is installed as its handler, and the handler only touches state built to
        // be shared with it (atomics, a critical-section channel, the DMA buffer under the rule
        // above). No critical section is relied on across this point.
        unsafe { embassy_nrf::interrupt::typelevel::RADIO::enable() };
        this
    }

    /// Resolves when at least one event is waiting in [`NrfRadio::try_event`]. Borrows nothing,
    /// so the main loop can await it while it owns the radio.
    pub async fn wait() {
        EVENTS.ready_to_receive().await;
    }

    /// The next event for the MAC, oldest first.
    pub fn try_event(&mut self) -> Option<PendingEvent> {
        EVENTS.try_receive().ok()
    }

    /// Driver statistics.
    #[expect(
        dead_code,
        reason = "read by the management server once the mgmt crate lands"
    )]
    pub fn stats(&self) -> RadioStats {
        RadioStats {
            rx_frames: RX_FRAMES.load(Ordering::Relaxed),
            rx_crc_errors: RX_CRC_ERRORS.load(Ordering::Relaxed),
            rx_overruns: RX_OVERRUNS.load(Ordering::Relaxed),
            tx_frames: TX_FRAMES.load(Ordering::Relaxed),
        }
    }

    /// Transmit power (takes effect at the next transmission).
    #[expect(dead_code, reason = "for the management server's tx-power command")]
    pub fn set_tx_power(&mut self, p: vals::Txpower) {
        pac::RADIO.txpower().write(|w| w.set_txpower(p));
    }

    /// One CCA from RXIDLE; the caller holds a critical section and the radio listens again
    /// afterwards. `Err` if the radio did not answer.
    fn cca_locked() -> Result<bool, RadioError> {
        let r = pac::RADIO;
        // A frame that has just ended is queued first (the CCA would not clobber it, but the
        // restart below would).
        take_rx();
        // A frame is arriving: the channel is busy, and stopping would lose the frame.
        if r.events_framestart().read() != 0 && r.state().read().state() == vals::State::Rx {
            return Ok(false);
        }
        r.shorts().write(|w| w.set_address_rssistart(true));
        r.tasks_stop().write_value(1);
        if !wait_state(vals::State::RxIdle) {
            disable();
            start_rx();
            return Err(RadioError::Hardware);
        }
        r.events_ccaidle().write_value(0);
        r.events_ccabusy().write_value(0);
        r.tasks_ccastart().write_value(1);
        let mut result = Err(RadioError::Hardware);
        for _ in 0..SPIN_LIMIT {
            if r.events_ccaidle().read() != 0 {
                result = Ok(true);
                break;
            }
            if r.events_ccabusy().read() != 0 {
                result = Ok(false);
                break;
            }
        }
        r.events_ccaidle().write_value(0);
        r.events_ccabusy().write_value(0);
        if result.is_err() {
            r.tasks_ccastop().write_value(1);
        }
        // Back to listening from RXIDLE.
        r.events_end().write_value(0);
        r.events_framestart().write_value(0);
        r.shorts().write(|w| {
            w.set_rxready_start(true);
            w.set_address_rssistart(true);
        });
        r.tasks_start().write_value(1);
        result
    }
}

fn set_frequency(channel: Channel) {
    // FREQUENCY is MHz above 2400: channel k is 2405 + 5 (k − 11) MHz.
    let offset = (channel.mhz() - 2400) as u8;
    pac::RADIO.frequency().write(|w| {
        w.set_frequency(offset);
        w.set_map(vals::Map::Default);
    });
    CHANNEL.store(channel.number(), Ordering::Relaxed);
}

impl Radio for NrfRadio<'_> {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            hw_fcs: true,
            hw_auto_ack: false,
            hw_csma: false,
            energy_scan: true,
            promiscuous: true,
        }
    }

    fn set_channel(&mut self, channel: Channel) -> Result<(), RadioError> {
        if channel == self.channel && MODE.load(Ordering::Relaxed) != MODE_OFF {
            return Ok(());
        }
        critical_section::with(|_| {
            // Not in the middle of a transmission or a measurement (whose completion the
            // MAC waits for).
            if matches!(MODE.load(Ordering::Relaxed), MODE_TX | MODE_ED) {
                return Err(RadioError::Busy);
            }
            // The synthesizer takes the new frequency at the next ramp-up.
            take_rx();
            disable();
            set_frequency(channel);
            start_rx();
            Ok(())
        })?;
        self.channel = channel;
        Ok(())
    }

    // The RADIO has no 802.15.4 address filter: the soft-MAC filters, so these are no-ops.
    fn set_pan_id(&mut self, _pan: PanId) {}
    fn set_short_address(&mut self, _addr: u16) {}
    fn set_extended_address(&mut self, _addr: [u8; 8]) {}
    fn set_pan_coordinator(&mut self, _on: bool) {}

    fn set_promiscuous(&mut self, _on: bool) -> Result<(), RadioError> {
        // Always delivers every frame; promiscuous mode is the MAC's business.
        Ok(())
    }

    fn energy_detect(&mut self, _now: Instant, duration: Duration) -> Result<(), RadioError> {
        let periods = duration.as_micros().div_ceil(ED_PERIOD_US).max(1);
        let edcnt = u32::try_from(periods - 1)
            .unwrap_or(EDCNT_MAX)
            .min(EDCNT_MAX);
        critical_section::with(|_| {
            if MODE.load(Ordering::Relaxed) != MODE_RX {
                return Err(RadioError::Busy);
            }
            let r = pac::RADIO;
            take_rx();
            r.shorts().write(|w| w.set_address_rssistart(true));
            r.tasks_stop().write_value(1);
            if !wait_state(vals::State::RxIdle) {
                disable();
                start_rx();
                return Err(RadioError::Hardware);
            }
            // A frame cut off by the STOP must not look like one still arriving.
            r.events_framestart().write_value(0);
            r.edcnt().write(|w| w.set_edcnt(edcnt));
            r.events_edend().write_value(0);
            MODE.store(MODE_ED, Ordering::Relaxed);
            r.tasks_edstart().write_value(1);
            Ok(())
        })
    }

    fn cca(&mut self, _now: Instant) -> Result<bool, RadioError> {
        critical_section::with(|_| match MODE.load(Ordering::Relaxed) {
            MODE_RX => Self::cca_locked(),
            // Our own transmission (or a measurement) occupies the radio.
            _ => Err(RadioError::Busy),
        })
    }

    fn transmit(&mut self, now: Instant, psdu: &[u8], mode: TxMode) -> Result<(), RadioError> {
        let len = psdu.len();
        if !(FCS_LEN + 1..=MAX_PSDU_LEN).contains(&len) {
            return Err(RadioError::InvalidParameter);
        }
        if mode == TxMode::Csma {
            return Err(RadioError::Unsupported);
        }
        critical_section::with(|_| {
            if MODE.load(Ordering::Relaxed) != MODE_RX {
                return Err(RadioError::Busy);
            }
            if mode == TxMode::Cca && !Self::cca_locked()? {
                push(PendingEvent::new(Kind::TxDone(TxOutcome::ChannelBusy), now));
                return Ok(());
            }
            let r = pac::RADIO;
            take_rx();
            if !disable() {
                start_rx();
                return Err(RadioError::Hardware);
            }
            // SAFETY: the radio is DISABLED (EasyDMA idle) and we are in a critical section,
            // so neither the RADIO nor the interrupt handler accesses the buffer now.
            let buf: &mut [u8; DMA_LEN] = unsafe { &mut *DMA.0.get() };
            // PHR = PSDU length incl. FCS; the FCS itself is generated by the hardware and
            // never read from RAM, so only the MPDU is copied.
            buf[0] = len as u8;
            let mpdu = &psdu[..len - FCS_LEN];
            buf[1..1 + mpdu.len()].copy_from_slice(mpdu);
            r.packetptr().write_value(DMA.0.get() as u32);
            r.events_end().write_value(0);
            r.events_phyend().write_value(0);
            r.shorts().write(|w| {
                w.set_txready_start(true);
                w.set_phyend_disable(true);
            });
            MODE.store(MODE_TX, Ordering::Relaxed);
            dma_start_fence();
            r.tasks_txen().write_value(1);
            Ok(())
        })
    }
}
