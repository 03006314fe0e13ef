//! A scripted [`Radio`] for tests, harnesses, benchmarks and fuzz targets: it records every
//! transmission and CCA, answers CCAs and hardware TX outcomes from a script, acknowledges
//! frames that ask for an ACK when told to, and queues received frames for the harness to
//! hand to the MAC. `no_std`, no heap: every queue holds at most `N` entries.
//!
//! The radio never reports events itself (a [`RadioEvent`](super::RadioEvent) borrows its
//! PSDU, the MAC takes the radio mutably): the harness ends transmissions
//! ([`ScriptedRadio::end_tx`] or [`ScriptedRadio::pop_sent`]) and delivers received frames
//! ([`ScriptedRadio::pop_rx`]) at the instants it chooses.

use core::fmt;

use heapless::{Deque, Vec};
use netif::time::{Duration, Instant};

use super::{Capabilities, Channel, Radio, RadioError, RxFrame, TxMode, TxOutcome};
use crate::consts::airtime;
use crate::frame::{PanId, fcs};
use crate::mac::Psdu;

/// A frame as the test doubles deliver it: `psdu` (FCS included, not checked by the radio)
/// heard at `at` on `channel` with a good signal (-60 dBm, LQI 200).
pub fn received(psdu: &[u8], at: Instant, channel: Channel) -> RxFrame<'_> {
    RxFrame {
        psdu,
        rssi: -60,
        lqi: 200,
        timestamp: at,
        channel,
        fcs_ok: None,
    }
}

/// One transmission the radio started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxRecord {
    /// When [`Radio::transmit`] was called.
    pub at: Instant,
    /// When its last symbol leaves the antenna: `at` plus the airtime of the PSDU.
    pub end: Instant,
    /// The PSDU, FCS bytes included.
    pub psdu: Psdu,
    /// How the MAC asked to send it.
    pub mode: TxMode,
    /// The outcome to report: the next scripted outcome for [`TxMode::Csma`] or a radio with
    /// hardware auto-ACK, [`TxOutcome::Sent`] otherwise.
    pub outcome: TxOutcome,
}

/// What the MAC last programmed into the radio (`None` before the first call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    /// [`Radio::set_channel`].
    pub channel: Option<Channel>,
    /// [`Radio::set_pan_id`].
    pub pan_id: Option<PanId>,
    /// [`Radio::set_short_address`].
    pub short_address: Option<u16>,
    /// [`Radio::set_extended_address`].
    pub extended_address: Option<[u8; 8]>,
    /// [`Radio::set_pan_coordinator`].
    pub pan_coordinator: bool,
    /// [`Radio::set_promiscuous`].
    pub promiscuous: bool,
}

/// A script or receive queue of a [`ScriptedRadio`] is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

impl fmt::Display for QueueFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("scripted radio queue full")
    }
}

impl core::error::Error for QueueFull {}

/// A radio whose behaviour a test scripts; see the [module documentation](self).
///
/// By default it has no hardware help, finds the channel idle, and sends every frame.
#[derive(Debug, Clone)]
pub struct ScriptedRadio<const N: usize> {
    /// Capabilities reported to the MAC.
    pub caps: Capabilities,
    /// The CCA answer once the CCA script is used up (`true`: idle).
    pub cca_idle: bool,
    /// Refuse every [`Radio::transmit`] with this error.
    pub refuse_tx: Option<RadioError>,
    /// Answer each frame that requests an ACK (data or command, not an ACK) with an Imm-Ack
    /// that ends this long after the frame, queued as a received frame.
    pub ack_after: Option<Duration>,
    /// What the MAC programmed.
    pub settings: Settings,
    cca_script: Deque<bool, N>,
    tx_outcomes: Deque<TxOutcome, N>,
    ccas: Vec<Instant, N>,
    cca_count: u32,
    sent: Vec<TxRecord, N>,
    rx: Deque<(Instant, Psdu), N>,
    on_air: Option<(Instant, TxOutcome)>,
    overlapping_tx: u32,
    dropped: u32,
}

impl<const N: usize> Default for ScriptedRadio<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ScriptedRadio<N> {
    /// A radio without hardware help, an idle channel and empty scripts.
    pub const fn new() -> Self {
        ScriptedRadio {
            caps: Capabilities {
                hw_fcs: false,
                hw_auto_ack: false,
                hw_csma: false,
                energy_scan: false,
                promiscuous: false,
            },
            cca_idle: true,
            refuse_tx: None,
            ack_after: None,
            settings: Settings {
                channel: None,
                pan_id: None,
                short_address: None,
                extended_address: None,
                pan_coordinator: false,
                promiscuous: false,
            },
            cca_script: Deque::new(),
            tx_outcomes: Deque::new(),
            ccas: Vec::new(),
            cca_count: 0,
            sent: Vec::new(),
            rx: Deque::new(),
            on_air: None,
            overlapping_tx: 0,
            dropped: 0,
        }
    }

    /// Queues the answer to a coming CCA (`true`: idle); answers are used in order.
    pub fn script_cca(&mut self, idle: bool) -> Result<(), QueueFull> {
        self.cca_script.push_back(idle).map_err(|_| QueueFull)
    }

    /// Queues the outcome of a coming hardware-CSMA/CA or auto-ACK transmission.
    pub fn script_tx_outcome(&mut self, outcome: TxOutcome) -> Result<(), QueueFull> {
        self.tx_outcomes.push_back(outcome).map_err(|_| QueueFull)
    }

    /// Queues `psdu` (FCS included) as received, its last symbol arriving at `at`. Frames are
    /// delivered in the order queued.
    pub fn inject_rx(&mut self, at: Instant, psdu: &[u8]) -> Result<(), QueueFull> {
        let p = Psdu::from_slice(psdu).map_err(|_| QueueFull)?;
        self.rx.push_back((at, p)).map_err(|_| QueueFull)
    }

    /// When the next queued received frame ends.
    pub fn next_rx_at(&self) -> Option<Instant> {
        self.rx.front().map(|(t, _)| *t)
    }

    /// The next queued received frame and when it ends.
    pub fn pop_rx(&mut self) -> Option<(Instant, Psdu)> {
        self.rx.pop_front()
    }

    /// The instants of the first `N` CCAs.
    pub fn ccas(&self) -> &[Instant] {
        &self.ccas
    }

    /// CCAs made in all.
    pub fn cca_count(&self) -> u32 {
        self.cca_count
    }

    /// The transmissions recorded and not yet popped, oldest first.
    pub fn sent(&self) -> &[TxRecord] {
        &self.sent
    }

    /// Removes and returns the oldest recorded transmission.
    pub fn pop_sent(&mut self) -> Option<TxRecord> {
        if self.sent.is_empty() {
            None
        } else {
            Some(self.sent.remove(0))
        }
    }

    /// The transmission on air: its end and outcome, until [`ScriptedRadio::end_tx`].
    pub fn on_air(&self) -> Option<(Instant, TxOutcome)> {
        self.on_air
    }

    /// Ends the transmission on air; returns its end and outcome for
    /// [`RadioEvent::TxDone`](super::RadioEvent::TxDone).
    pub fn end_tx(&mut self) -> Option<(Instant, TxOutcome)> {
        self.on_air.take()
    }

    /// Transmissions started while another was on air (not ended by
    /// [`ScriptedRadio::end_tx`]).
    pub fn overlapping_tx(&self) -> u32 {
        self.overlapping_tx
    }

    /// Transmissions refused and ACKs not queued because a queue was full.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }
}

impl<const N: usize> Radio for ScriptedRadio<N> {
    fn capabilities(&self) -> Capabilities {
        self.caps
    }
    fn set_channel(&mut self, channel: Channel) -> Result<(), RadioError> {
        self.settings.channel = Some(channel);
        Ok(())
    }
    fn set_pan_id(&mut self, pan: PanId) {
        self.settings.pan_id = Some(pan);
    }
    fn set_short_address(&mut self, addr: u16) {
        self.settings.short_address = Some(addr);
    }
    fn set_extended_address(&mut self, addr: [u8; 8]) {
        self.settings.extended_address = Some(addr);
    }
    fn set_pan_coordinator(&mut self, on: bool) {
        self.settings.pan_coordinator = on;
    }
    fn set_promiscuous(&mut self, on: bool) -> Result<(), RadioError> {
        self.settings.promiscuous = on;
        Ok(())
    }
    fn energy_detect(&mut self, _now: Instant, _duration: Duration) -> Result<(), RadioError> {
        Err(RadioError::Unsupported)
    }
    fn cca(&mut self, now: Instant) -> Result<bool, RadioError> {
        // Only the first N instants are kept; the count goes on.
        let _ = self.ccas.push(now);
        self.cca_count = self.cca_count.wrapping_add(1);
        Ok(self.cca_script.pop_front().unwrap_or(self.cca_idle))
    }
    fn transmit(&mut self, now: Instant, psdu: &[u8], mode: TxMode) -> Result<(), RadioError> {
        if let Some(e) = self.refuse_tx {
            return Err(e);
        }
        let copy = Psdu::from_slice(psdu).map_err(|_| RadioError::InvalidParameter)?;
        let end = now + airtime(psdu.len());
        let outcome = if mode == TxMode::Csma || self.caps.hw_auto_ack {
            self.tx_outcomes.pop_front().unwrap_or(TxOutcome::Sent)
        } else {
            TxOutcome::Sent
        };
        let record = TxRecord {
            at: now,
            end,
            psdu: copy,
            mode,
            outcome,
        };
        if self.sent.push(record).is_err() {
            self.dropped = self.dropped.wrapping_add(1);
            return Err(RadioError::Busy);
        }
        if self.on_air.is_some() {
            self.overlapping_tx = self.overlapping_tx.wrapping_add(1);
        }
        self.on_air = Some((end, outcome));
        let ack_request = psdu.first().is_some_and(|b| b & 0x20 != 0 && b & 0x07 != 2);
        if let (true, Some(d), Some(seq)) = (ack_request, self.ack_after, psdu.get(2)) {
            let mut ack = [0x02, 0x00, *seq, 0, 0];
            fcs::append(&mut ack);
            if self.inject_rx(end + d, &ack).is_err() {
                self.dropped = self.dropped.wrapping_add(1);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn radio() -> ScriptedRadio<4> {
        ScriptedRadio::new()
    }

    #[test]
    fn records_transmissions_and_settings() {
        let mut r = radio();
        r.set_channel(Channel::new(15).unwrap()).unwrap();
        r.set_pan_id(PanId(0xabcd));
        r.set_short_address(1);
        let t = Instant::from_millis(1);
        r.transmit(t, &[0x41, 0x88, 7, 0, 0], TxMode::Direct)
            .unwrap();
        assert_eq!(r.settings.channel, Channel::new(15));
        assert_eq!(r.settings.pan_id, Some(PanId(0xabcd)));
        assert_eq!(r.settings.short_address, Some(1));
        assert_eq!(r.sent().len(), 1);
        assert_eq!(r.on_air(), Some((t + airtime(5), TxOutcome::Sent)));
        assert_eq!(r.end_tx(), Some((t + airtime(5), TxOutcome::Sent)));
        let rec = r.pop_sent().unwrap();
        assert_eq!(
            (rec.at, &rec.psdu[..], rec.mode),
            (t, &[0x41, 0x88, 7, 0, 0][..], TxMode::Direct)
        );
        assert_eq!(r.pop_sent(), None);
        assert_eq!(r.overlapping_tx(), 0);
    }

    #[test]
    fn scripts_cca_outcomes_refusal_and_acks() {
        let mut r = radio();
        r.script_cca(false).unwrap();
        let t = Instant::from_millis(1);
        assert_eq!(r.cca(t), Ok(false));
        assert_eq!(r.cca(t), Ok(true));
        r.cca_idle = false;
        assert_eq!(r.cca(t), Ok(false));
        assert_eq!((r.ccas().len(), r.cca_count()), (3, 3));

        r.caps.hw_auto_ack = true;
        r.script_tx_outcome(TxOutcome::NoAck).unwrap();
        r.transmit(t, &[0x01, 0x88, 1, 0, 0], TxMode::Direct)
            .unwrap();
        assert_eq!(r.end_tx().map(|(_, o)| o), Some(TxOutcome::NoAck));

        r.caps.hw_auto_ack = false;
        r.ack_after = Some(Duration::from_micros(192));
        // Data frame with the AR bit: an ACK for sequence number 9 is queued.
        r.transmit(t, &[0x61, 0x88, 9, 0, 0], TxMode::Direct)
            .unwrap();
        let (at, ack) = r.pop_rx().unwrap();
        assert_eq!(at, t + airtime(5) + Duration::from_micros(192));
        assert_eq!(&ack[..3], &[0x02, 0x00, 9]);
        assert!(fcs::verify(&ack));
        // A second transmission before `end_tx` counts as overlapping.
        r.transmit(t, &[0x41, 0x88, 1, 0, 0], TxMode::Direct)
            .unwrap();
        assert_eq!(r.overlapping_tx(), 1);

        r.refuse_tx = Some(RadioError::Busy);
        assert_eq!(
            r.transmit(t, &[0x41, 0x88, 1], TxMode::Direct),
            Err(RadioError::Busy)
        );
        r.refuse_tx = None;
        // Full record queue: refused and counted.
        r.transmit(t, &[0x41, 0x88, 1], TxMode::Direct).unwrap();
        assert_eq!(
            r.transmit(t, &[0x41, 0x88, 1], TxMode::Direct),
            Err(RadioError::Busy)
        );
        assert_eq!(r.dropped(), 1);
        assert_eq!(
            r.transmit(t, &[0; 128], TxMode::Direct),
            Err(RadioError::InvalidParameter)
        );
    }

    #[test]
    fn injected_frames_come_back_in_order() {
        let mut r = radio();
        r.inject_rx(Instant::from_millis(2), &[1, 2]).unwrap();
        r.inject_rx(Instant::from_millis(1), &[3]).unwrap();
        assert_eq!(r.next_rx_at(), Some(Instant::from_millis(2)));
        assert_eq!(r.pop_rx().map(|(_, p)| p.to_vec()), Some(std::vec![1, 2]));
        assert_eq!(r.pop_rx().map(|(_, p)| p.to_vec()), Some(std::vec![3]));
        assert_eq!(r.pop_rx(), None);
        assert_eq!(r.inject_rx(Instant::ZERO, &[0; 128]), Err(QueueFull));
    }
}
