//! The shared 802.15.4 medium in virtual time.
//!
//! Radios are attached with [`Medium::attach`] and driven through [`SimRadio`], a short-lived
//! handle that implements [`l2_15_4::Radio`]. The model:
//! - a transmission started at `t` occupies the air for `(6 + PSDU length) × 32 µs`
//!   ([`l2_15_4::consts::airtime`]) from `t` (the soft-MAC already times turnarounds);
//! - a receiver *hears* a transmission when both are on the same channel, the topology has an
//!   up link from sender to receiver, and its RSSI is at least the sensitivity;
//! - CCA at `t` reports busy while any transmission the radio hears with RSSI at or above the
//!   CCA threshold is on the air at `t`;
//! - two transmissions a receiver hears that overlap in time destroy each other at that
//!   receiver (no capture effect); a radio that transmits, or retunes, during a frame loses it
//!   (half duplex);
//! - a frame that survives is still lost with the link's loss probability (plus the global
//!   extra loss), drawn from the medium's seeded PRNG; otherwise it is delivered at its end
//!   with the link's RSSI (± jitter) and LQI;
//! - a radio that is powered off ([`Medium::set_powered`]) neither hears nor is heard: its
//!   frame on the air is cut off (nobody receives it), the frames it was receiving are lost
//!   to it, and what it would transmit is refused.
//!
//! Time only moves forward through [`Medium::advance_to`]; every scheduled item is keyed by
//! `(time, sequence number)` so ties resolve the same way on every run. Events for a radio
//! queue up in its inbox until [`Medium::take_events`] collects them.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;

use l2_15_4::consts::airtime;
use l2_15_4::frame::{MAX_PSDU_LEN, PanId};
use l2_15_4::radio::{Channel, RadioError, RadioEvent, RxFrame, TxOutcome};
use netif::time::Instant;

mod capture;
mod deaf;
mod radio;

pub use radio::SimRadio;

use crate::rng::SimRng;
use crate::topology::{Link, Topology};
use capture::Capture;

/// Identifies an attached radio (its index in attach order, also its topology index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RadioId(pub usize);

impl fmt::Display for RadioId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "radio{}", self.0)
    }
}

/// Every knob of the medium.
#[derive(Debug, Clone, PartialEq)]
pub struct MediumConfig {
    /// Seed of the loss / jitter PRNG.
    pub seed: u64,
    /// Loss probability added to every link's own (clamped to 1).
    pub extra_loss: f64,
    /// Per-frame RSSI jitter, uniform in ±this many dB.
    pub rssi_jitter_db: u8,
    /// Frames weaker than this are not heard at all, dBm.
    pub sensitivity_dbm: i8,
    /// CCA (energy detection) threshold, dBm.
    pub cca_threshold_dbm: i8,
    /// Energy reported by energy detection on an idle channel, dBm.
    pub noise_floor_dbm: i8,
    /// Undelivered events a radio's inbox holds; more are dropped and counted.
    pub inbox_capacity: usize,
}

impl Default for MediumConfig {
    fn default() -> Self {
        MediumConfig {
            seed: 1,
            extra_loss: 0.0,
            rssi_jitter_db: 0,
            sensitivity_dbm: -100,
            cca_threshold_dbm: -85,
            noise_floor_dbm: -100,
            inbox_capacity: 256,
        }
    }
}

/// How a radio is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RadioConfig {
    /// Initial channel (the MAC sets it again when it starts).
    pub channel: Channel,
}

/// Channel 26, the default (checked at compile time).
pub const CHANNEL_26: Channel = match Channel::new(26) {
    Some(c) => c,
    None => panic!("channel 26 is valid"),
};

impl Default for RadioConfig {
    fn default() -> Self {
        RadioConfig {
            channel: CHANNEL_26,
        }
    }
}

/// A radio event owned by the medium until the radio's driver collects it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimEvent {
    /// See [`RadioEvent::TxDone`].
    TxDone {
        /// Last symbol on air.
        end: Instant,
        /// Outcome.
        outcome: TxOutcome,
    },
    /// See [`RadioEvent::Received`].
    Received {
        /// PSDU with FCS.
        psdu: Vec<u8>,
        /// RSSI, dBm.
        rssi: i8,
        /// LQI.
        lqi: u8,
        /// End of reception.
        timestamp: Instant,
        /// Channel.
        channel: Channel,
    },
    /// See [`RadioEvent::EnergyDetect`].
    EnergyDetect {
        /// Channel.
        channel: Channel,
        /// Peak energy, dBm.
        dbm: i8,
    },
}

impl SimEvent {
    /// The borrowed [`RadioEvent`] to hand to a MAC.
    pub fn as_radio_event(&self) -> RadioEvent<'_> {
        match self {
            SimEvent::TxDone { end, outcome } => RadioEvent::TxDone {
                end: *end,
                outcome: *outcome,
            },
            SimEvent::Received {
                psdu,
                rssi,
                lqi,
                timestamp,
                channel,
            } => RadioEvent::Received(RxFrame {
                psdu,
                rssi: *rssi,
                lqi: *lqi,
                timestamp: *timestamp,
                channel: *channel,
                fcs_ok: None,
            }),
            SimEvent::EnergyDetect { channel, dbm } => RadioEvent::EnergyDetect {
                channel: *channel,
                dbm: *dbm,
            },
        }
    }

    /// When the event happened.
    pub fn time(&self) -> Option<Instant> {
        match self {
            SimEvent::TxDone { end, .. } => Some(*end),
            SimEvent::Received { timestamp, .. } => Some(*timestamp),
            SimEvent::EnergyDetect { .. } => None,
        }
    }
}

/// Per-radio counters. All saturate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RadioCounters {
    /// Transmissions started (ACKs included).
    pub tx_frames: u64,
    /// PSDU bytes transmitted.
    pub tx_bytes: u64,
    /// Air time used by transmissions, µs.
    pub tx_airtime_us: u64,
    /// Transmissions refused (bad length, already transmitting, unsupported mode).
    pub tx_refused: u64,
    /// CCAs answered idle.
    pub cca_idle: u64,
    /// CCAs answered busy.
    pub cca_busy: u64,
    /// Frames delivered to this radio.
    pub rx_frames: u64,
    /// Frames heard but destroyed by an overlapping frame at this radio.
    pub rx_collisions: u64,
    /// Frames heard but lost to link loss.
    pub rx_lost: u64,
    /// Frames missed because this radio was transmitting (half duplex).
    pub rx_while_transmitting: u64,
    /// Frames missed because this radio retuned during them.
    pub rx_retuned: u64,
    /// Events dropped because the inbox was full.
    pub inbox_overflow: u64,
    /// Transmissions held back until a deaf receiver listened again
    /// ([`Medium::set_deaf_until`]).
    pub tx_deferred: u64,
    /// Times the radio was powered off ([`Medium::set_powered`]).
    pub powered_off: u64,
}

/// Medium-wide counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MediumCounters {
    /// Transmissions put on the air.
    pub transmissions: u64,
    /// Transmissions that overlapped another one audible at some common receiver.
    pub collided_transmissions: u64,
    /// Frames written to the capture.
    pub captured: u64,
    /// Capture write errors (the capture is stopped after the first).
    pub capture_errors: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxState {
    Ok,
    Collided,
    Transmitting,
    Retuned,
    /// The receiver was powered off during the frame.
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Receiver {
    radio: usize,
    state: RxState,
}

#[derive(Debug, Clone)]
struct Transmission {
    id: u64,
    src: usize,
    channel: Channel,
    start: Instant,
    end: Instant,
    psdu: Vec<u8>,
    receivers: Vec<Receiver>,
    collided: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    TxEnd(u64),
    /// A transmission held back for a deaf receiver starts.
    Deferred(usize),
    Notify(usize, NotifyKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum NotifyKind {
    ChannelBusy,
    EnergyDetect(u8, i8),
}

#[derive(Debug)]
struct RadioSlot {
    channel: Channel,
    pan_id: PanId,
    short: u16,
    extended: [u8; 8],
    coordinator: bool,
    promiscuous: bool,
    transmitting: Option<u64>,
    /// Frames addressed to this radio wait until then (see [`Medium::set_deaf_until`]).
    deaf_until: Instant,
    /// A transmission held back by a deaf receiver: its PSDU.
    deferred: Option<Vec<u8>>,
    /// ACKs this radio hears are delivered when they start (see [`Medium::set_early_acks`]).
    early_acks: bool,
    /// Powered off: neither hears nor is heard (see [`Medium::set_powered`]).
    off: bool,
    inbox: VecDeque<SimEvent>,
    counters: RadioCounters,
}

/// What to capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaptureMode {
    /// Every frame put on the air, with the best RSSI/LQI among the radios that received it
    /// (none when nobody did); the statistics block counts collided transmissions as drops.
    #[default]
    Air,
    /// What one radio hears: the frames it received (with its RSSI/LQI) and its own
    /// transmissions; frames it heard but lost (collision, loss, half duplex) are counted as
    /// drops.
    Observer(RadioId),
}

/// The shared medium.
pub struct Medium {
    cfg: MediumConfig,
    topo: Topology,
    link_down: Vec<(usize, usize)>,
    radios: Vec<RadioSlot>,
    air: Vec<Transmission>,
    queue: BinaryHeap<Reverse<(Instant, u64, Kind)>>,
    seq: u64,
    next_tx: u64,
    now: Instant,
    rng: SimRng,
    counters: MediumCounters,
    capture: Option<Capture>,
}

impl fmt::Debug for Medium {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Medium")
            .field("now", &self.now)
            .field("radios", &self.radios.len())
            .field("on_air", &self.air.len())
            .field("counters", &self.counters)
            .finish()
    }
}

impl Medium {
    /// A medium with `topology` (grown as radios attach).
    pub fn new(cfg: MediumConfig, topology: Topology) -> Self {
        let rng = SimRng::new(cfg.seed);
        Medium {
            cfg,
            topo: topology,
            link_down: Vec::new(),
            radios: Vec::new(),
            air: Vec::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            next_tx: 0,
            now: Instant::ZERO,
            rng,
            counters: MediumCounters::default(),
            capture: None,
        }
    }

    /// Attaches a radio; its id is also its index in the topology.
    pub fn attach(&mut self, cfg: RadioConfig) -> RadioId {
        let id = self.radios.len();
        self.radios.push(RadioSlot {
            channel: cfg.channel,
            pan_id: PanId::BROADCAST,
            short: 0xffff,
            extended: [0; 8],
            coordinator: false,
            promiscuous: false,
            transmitting: None,
            deaf_until: Instant::ZERO,
            deferred: None,
            early_acks: false,
            off: false,
            inbox: VecDeque::new(),
            counters: RadioCounters::default(),
        });
        self.topo.resize(id + 1);
        RadioId(id)
    }

    /// A handle implementing [`Radio`](l2_15_4::Radio) for `id`. Panics only if `id` was not returned by
    /// [`Medium::attach`] of this medium (a programming error, not an input).
    pub fn radio(&mut self, id: RadioId) -> SimRadio<'_> {
        assert!(id.0 < self.radios.len(), "unknown {id}");
        SimRadio { medium: self, id }
    }

    /// Number of attached radios.
    pub fn radio_count(&self) -> usize {
        self.radios.len()
    }

    /// Current simulated time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The configuration.
    pub fn config(&self) -> &MediumConfig {
        &self.cfg
    }

    /// The topology.
    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// Replaces the topology (frames already on the air keep their receivers).
    pub fn set_topology(&mut self, t: Topology) {
        self.topo = t;
        self.topo.resize(self.radios.len());
    }

    /// Sets the global extra loss probability.
    pub fn set_extra_loss(&mut self, p: f64) {
        self.cfg.extra_loss = p;
    }

    /// Takes the link `a ↔ b` down (both directions) or brings it back up.
    pub fn set_link_up(&mut self, a: RadioId, b: RadioId, up: bool) {
        let key = (a.0.min(b.0), a.0.max(b.0));
        self.link_down.retain(|k| *k != key);
        if !up {
            self.link_down.push(key);
        }
    }

    /// Sets the link `from → to` in the topology (`None`: `to` does not hear `from`).
    pub fn set_link(&mut self, from: RadioId, to: RadioId, link: Option<Link>) {
        self.topo.set(from.0, to.0, link);
    }

    /// Sets the addresses a radio answers to, as its driver would program them (for radios
    /// driven without a MAC, e.g. a ZEP peer: used by [`Medium::set_deaf_until`]).
    pub fn set_addresses(&mut self, id: RadioId, extended: [u8; 8], short: u16) {
        if let Some(s) = self.radios.get_mut(id.0) {
            s.extended = extended;
            s.short = short;
        }
    }

    /// ACKs that radio `id` hears are delivered to it when their transmission STARTS (then not
    /// again at their end, and an overlap during their 352 µs cannot destroy them there): for
    /// a bridge to a node on the wall clock, which must have the ACK inside its ACK window and
    /// gains the ACK's air time this way (see [`crate::zep_bridge`]).
    pub fn set_early_acks(&mut self, id: RadioId, on: bool) {
        if let Some(s) = self.radios.get_mut(id.0) {
            s.early_acks = on;
        }
    }

    /// Powers radio `id` off (`on == false`) or back on. Off, it neither hears nor is heard,
    /// as a node whose power failed: its transmission on the air, if any, is cut off (no
    /// receiver gets it; the sender gets no `TxDone`), a transmission it held back
    /// ([`Medium::set_deaf_until`]) is dropped, the frames it was receiving are lost to it,
    /// its waiting events are discarded, nothing more is queued for it, and
    /// [`Radio::transmit`](l2_15_4::Radio::transmit) through it is refused. Powered on
    /// again, it starts with an empty inbox (whoever drives it reboots its MAC).
    pub fn set_powered(&mut self, id: RadioId, on: bool) {
        let Some(slot) = self.radios.get_mut(id.0) else {
            return;
        };
        if slot.off != on {
            return;
        }
        slot.off = !on;
        slot.inbox.clear();
        if on {
            return;
        }
        bump(&mut slot.counters.powered_off);
        slot.deferred = None;
        slot.transmitting = None;
        self.air.retain(|tx| tx.src != id.0);
        for tx in &mut self.air {
            for r in &mut tx.receivers {
                if r.radio == id.0 {
                    r.state = RxState::Off;
                }
            }
        }
    }

    /// Whether radio `id` is powered (see [`Medium::set_powered`]; `false` for an unknown id).
    pub fn is_powered(&self, id: RadioId) -> bool {
        self.radios.get(id.0).is_some_and(|r| !r.off)
    }

    /// A transmission by `id` that ENDS now: `psdu` occupied the air for its air time before
    /// the current instant. This is how a frame from outside the simulation (a ZEP datagram,
    /// which arrives when its sender has finished transmitting it) enters the medium: its
    /// receivers get it now, so an ACK can follow a turnaround later, as on air. Because its
    /// air time lies in the past, it can only collide with transmissions still on the air
    /// now (both are then lost at the common receivers); frames that ended during its air time
    /// were already delivered and stay delivered, and CCAs made then did not see it.
    pub fn transmit_ended(
        &mut self,
        id: RadioId,
        now: Instant,
        psdu: &[u8],
    ) -> Result<(), RadioError> {
        if !self.is_powered(id) || psdu.is_empty() || psdu.len() > MAX_PSDU_LEN {
            self.refuse(id.0);
            return Err(RadioError::InvalidParameter);
        }
        self.advance_to(now);
        let start = Instant::from_micros(
            self.now
                .as_micros()
                .saturating_sub(airtime(psdu.len()).as_micros()),
        );
        self.begin_tx(id.0, start, self.now, psdu);
        self.advance_to(self.now);
        Ok(())
    }

    /// The link `from → to` as the medium uses it now (`None` when absent or down).
    pub fn link(&self, from: RadioId, to: RadioId) -> Option<Link> {
        let key = (from.0.min(to.0), from.0.max(to.0));
        if self.link_down.contains(&key) {
            return None;
        }
        self.topo.link(from.0, to.0)
    }

    /// Counters of `id` (zeros for an unknown id).
    pub fn counters(&self, id: RadioId) -> RadioCounters {
        self.radios
            .get(id.0)
            .map(|r| r.counters)
            .unwrap_or_default()
    }

    /// Medium-wide counters.
    pub fn medium_counters(&self) -> MediumCounters {
        self.counters
    }

    /// The channel `id` is tuned to.
    pub fn channel(&self, id: RadioId) -> Option<Channel> {
        self.radios.get(id.0).map(|r| r.channel)
    }

    /// The extended address the driver of `id` programmed (for tools and captures).
    pub fn extended_address(&self, id: RadioId) -> Option<[u8; 8]> {
        self.radios.get(id.0).map(|r| r.extended)
    }

    /// Whether `id` is transmitting.
    pub fn is_transmitting(&self, id: RadioId) -> bool {
        self.radios
            .get(id.0)
            .is_some_and(|r| r.transmitting.is_some())
    }

    /// When the next scheduled item happens (`None`: nothing pending).
    pub fn next_event_time(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse((t, _, _))| *t)
    }

    /// Whether any radio has uncollected events.
    pub fn has_pending_events(&self) -> bool {
        self.radios.iter().any(|r| !r.inbox.is_empty())
    }

    /// Processes everything scheduled at or before `t` and moves the clock to `t` (never
    /// backwards). Resulting events wait in the radios' inboxes.
    pub fn advance_to(&mut self, t: Instant) {
        while let Some(Reverse((at, _, _))) = self.queue.peek() {
            if *at > t {
                break;
            }
            let Some(Reverse((at, _, kind))) = self.queue.pop() else {
                break;
            };
            self.now = self.now.max(at);
            match kind {
                Kind::TxEnd(id) => self.end_tx(id),
                Kind::Deferred(r) => self.start_deferred(r, at),
                Kind::Notify(r, NotifyKind::ChannelBusy) => self.push_event(
                    r,
                    SimEvent::TxDone {
                        end: at,
                        outcome: TxOutcome::ChannelBusy,
                    },
                ),
                Kind::Notify(r, NotifyKind::EnergyDetect(ch, dbm)) => {
                    if let Some(channel) = Channel::new(ch) {
                        self.push_event(r, SimEvent::EnergyDetect { channel, dbm });
                    }
                }
            }
        }
        self.now = self.now.max(t);
    }

    /// Takes the events waiting for `id`, oldest first.
    pub fn take_events(&mut self, id: RadioId) -> Vec<SimEvent> {
        self.radios
            .get_mut(id.0)
            .map(|r| r.inbox.drain(..).collect())
            .unwrap_or_default()
    }

    /// Takes the oldest event waiting for `id`.
    pub fn pop_event(&mut self, id: RadioId) -> Option<SimEvent> {
        self.radios.get_mut(id.0).and_then(|r| r.inbox.pop_front())
    }

    fn schedule(&mut self, at: Instant, kind: Kind) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, kind)));
    }

    fn push_event(&mut self, r: usize, ev: SimEvent) {
        let cap = self.cfg.inbox_capacity;
        if let Some(slot) = self.radios.get_mut(r) {
            if slot.off {
                return;
            }
            if slot.inbox.len() >= cap {
                slot.counters.inbox_overflow = slot.counters.inbox_overflow.saturating_add(1);
            } else {
                slot.inbox.push_back(ev);
            }
        }
    }

    /// The link `from → to` if `to` would hear a frame from `from` on `channel`.
    fn audible(&self, from: usize, to: usize, channel: Channel) -> Option<Link> {
        let slot = self.radios.get(to)?;
        if slot.channel != channel || slot.off || self.radios.get(from).is_none_or(|s| s.off) {
            return None;
        }
        self.link(RadioId(from), RadioId(to))
            .filter(|l| l.rssi_dbm >= self.cfg.sensitivity_dbm)
    }

    fn cca_at(&mut self, id: usize, t: Instant) -> bool {
        let Some(ch) = self.radios.get(id).map(|r| r.channel) else {
            return false;
        };
        let busy = self.air.iter().any(|tx| {
            tx.src != id
                && tx.start <= t
                && t < tx.end
                && self
                    .audible(tx.src, id, ch)
                    .is_some_and(|l| l.rssi_dbm >= self.cfg.cca_threshold_dbm)
        });
        if let Some(r) = self.radios.get_mut(id) {
            if busy {
                r.counters.cca_busy += 1;
            } else {
                r.counters.cca_idle += 1;
            }
        }
        !busy
    }

    fn start_tx(&mut self, id: usize, now: Instant, psdu: &[u8]) -> Result<(), RadioError> {
        if id >= self.radios.len() {
            return Err(RadioError::InvalidParameter);
        }
        if psdu.is_empty() || psdu.len() > MAX_PSDU_LEN {
            self.refuse(id);
            return Err(RadioError::InvalidParameter);
        }
        // Never start in the past: anything due up to `now` (e.g. our own previous frame
        // ending) happens first.
        self.advance_to(now);
        let Some((busy, deferred, off)) = self
            .radios
            .get(id)
            .map(|s| (s.transmitting.is_some(), s.deferred.is_some(), s.off))
        else {
            return Err(RadioError::InvalidParameter);
        };
        if off {
            self.refuse(id);
            return Err(RadioError::Busy);
        }
        let ack = is_ack(psdu);
        if busy || (deferred && !ack) {
            self.refuse(id);
            return Err(RadioError::Busy);
        }
        if !ack && let Some(until) = self.deaf_addressee(id, psdu) {
            if let Some(s) = self.radios.get_mut(id) {
                s.deferred = Some(psdu.to_vec());
                bump(&mut s.counters.tx_deferred);
            }
            self.schedule(until, Kind::Deferred(id));
            return Ok(());
        }
        let start = self.now;
        self.begin_tx(id, start, start + airtime(psdu.len()), psdu);
        Ok(())
    }

    /// Puts a transmission by `id` from `start` to `end` on the air (its end is scheduled).
    fn begin_tx(&mut self, id: usize, start: Instant, end: Instant, psdu: &[u8]) {
        let Some(channel) = self.radios.get(id).map(|s| s.channel) else {
            return;
        };
        let txid = self.next_tx;
        self.next_tx += 1;
        // Half duplex: frames this radio is receiving are lost to it.
        for tx in &mut self.air {
            for r in &mut tx.receivers {
                if r.radio == id && r.state == RxState::Ok {
                    r.state = RxState::Transmitting;
                }
            }
        }
        let mut receivers = Vec::new();
        let mut collided = false;
        for r in 0..self.radios.len() {
            if r == id || self.audible(id, r, channel).is_none() {
                continue;
            }
            let mut state = if self.radios[r].transmitting.is_some() {
                RxState::Transmitting
            } else {
                RxState::Ok
            };
            for other in &mut self.air {
                if let Some(o) = other.receivers.iter_mut().find(|x| x.radio == r) {
                    if o.state == RxState::Ok {
                        o.state = RxState::Collided;
                    }
                    other.collided = true;
                    collided = true;
                    if state == RxState::Ok {
                        state = RxState::Collided;
                    }
                }
            }
            if state == RxState::Ok
                && self.radios[r].early_acks
                && is_ack(psdu)
                && let Some(link) = self.link(RadioId(id), RadioId(r))
            {
                bump(&mut self.radios[r].counters.rx_frames);
                self.push_event(
                    r,
                    SimEvent::Received {
                        psdu: psdu.to_vec(),
                        rssi: link.rssi_dbm,
                        lqi: link.lqi,
                        timestamp: start,
                        channel,
                    },
                );
                continue;
            }
            receivers.push(Receiver { radio: r, state });
        }
        if let Some(s) = self.radios.get_mut(id) {
            s.transmitting = Some(txid);
            s.counters.tx_frames += 1;
            s.counters.tx_bytes += psdu.len() as u64;
            s.counters.tx_airtime_us += (end - start).as_micros();
        }
        self.counters.transmissions += 1;
        self.air.push(Transmission {
            id: txid,
            src: id,
            channel,
            start,
            end,
            psdu: psdu.to_vec(),
            receivers,
            collided,
        });
        self.schedule(end, Kind::TxEnd(txid));
    }

    fn refuse(&mut self, id: usize) {
        if let Some(s) = self.radios.get_mut(id) {
            s.counters.tx_refused += 1;
        }
    }

    fn end_tx(&mut self, txid: u64) {
        let Some(pos) = self.air.iter().position(|t| t.id == txid) else {
            return;
        };
        let tx = self.air.remove(pos);
        if tx.collided {
            self.counters.collided_transmissions += 1;
        }
        if let Some(s) = self.radios.get_mut(tx.src) {
            s.transmitting = None;
        }
        self.push_event(
            tx.src,
            SimEvent::TxDone {
                end: tx.end,
                outcome: TxOutcome::Sent,
            },
        );
        let mut best: Option<(i8, u8)> = None;
        let mut observer_saw: Option<Option<(i8, u8)>> = None;
        let observer = match self.capture.as_ref().map(|c| c.mode) {
            Some(CaptureMode::Observer(o)) => Some(o.0),
            _ => None,
        };
        for rx in &tx.receivers {
            let r = rx.radio;
            let mut delivered = None;
            let link = self.topo.link(tx.src, r);
            match rx.state {
                RxState::Collided => bump(&mut self.radios[r].counters.rx_collisions),
                RxState::Transmitting => bump(&mut self.radios[r].counters.rx_while_transmitting),
                RxState::Retuned => bump(&mut self.radios[r].counters.rx_retuned),
                RxState::Off => {}
                RxState::Ok => {
                    let Some(link) = link else { continue };
                    let p = (link.loss + self.cfg.extra_loss).min(1.0);
                    if self.rng.chance(p) {
                        bump(&mut self.radios[r].counters.rx_lost);
                    } else {
                        let j = self.rng.symmetric(i64::from(self.cfg.rssi_jitter_db));
                        let rssi = (i64::from(link.rssi_dbm) + j).clamp(-128, 127) as i8;
                        delivered = Some((rssi, link.lqi));
                        bump(&mut self.radios[r].counters.rx_frames);
                        self.push_event(
                            r,
                            SimEvent::Received {
                                psdu: tx.psdu.clone(),
                                rssi,
                                lqi: link.lqi,
                                timestamp: tx.end,
                                channel: tx.channel,
                            },
                        );
                    }
                }
            }
            if let Some((rssi, lqi)) = delivered
                && best.is_none_or(|(b, _)| rssi > b)
            {
                best = Some((rssi, lqi));
            }
            if observer == Some(r) {
                observer_saw = Some(delivered);
            }
        }
        self.capture_frame(&tx, best, observer_saw);
    }

    fn retune(&mut self, id: usize, ch: Channel) {
        let Some(slot) = self.radios.get_mut(id) else {
            return;
        };
        if slot.channel == ch {
            return;
        }
        slot.channel = ch;
        for tx in &mut self.air {
            for r in &mut tx.receivers {
                if r.radio == id && r.state == RxState::Ok {
                    r.state = RxState::Retuned;
                }
            }
        }
    }

    fn energy_at(&self, id: usize, ch: Channel, t: Instant) -> i8 {
        self.air
            .iter()
            .filter(|tx| tx.src != id && tx.start <= t && t < tx.end)
            .filter_map(|tx| self.audible(tx.src, id, ch).map(|l| l.rssi_dbm))
            .fold(self.cfg.noise_floor_dbm, i8::max)
    }
}

/// Whether `psdu` is an acknowledgment frame (frame type 2).
fn is_ack(psdu: &[u8]) -> bool {
    psdu.first().is_some_and(|b| b & 0x07 == 2)
}

fn bump(c: &mut u64) {
    *c = c.saturating_add(1);
}
