//! The sans-IO soft-MAC: unslotted CSMA/CA, ACK wait and retransmission, ACK generation,
//! receive filtering, duplicate rejection, per-neighbour link statistics, a bounded TX queue
//! with per-frame status, and counters.
//!
//! The MAC never reads a clock or sleeps. A driver (embassy task, Linux process or the
//! deterministic simulator) does three things:
//! 1. hands every [`RadioEvent`] to [`Mac::handle_event`] (in time order, with `now` ≥ the
//!    event's own timestamp) and passes any returned [`MacIndication`] up;
//! 2. calls [`Mac::poll`] whenever [`Mac::next_deadline`] is reached (and after
//!    [`Mac::enqueue`]);
//! 3. collects per-frame results with [`Mac::pop_tx_report`].
//!
//! Per frame: NB = 0, BE = macMinBE (macMaxBE for a broadcast, which is never retried, unless
//! macMinBE is 0); wait a random (0..2^BE − 1) × aUnitBackoffPeriod; CCA (8 symbols); if
//! idle, transmit (the radio adds the turnaround); if busy, NB += 1, BE = min(BE + 1,
//! macMaxBE); after macMaxCSMABackoffs + 1 busy CCAs the attempt has failed, and the frame
//! waits a random whole number of its air times (as a retry after a missing ACK, below) and
//! starts a fresh attempt, up to [`MacConfig::max_channel_access_retries`] times, then
//! [`TxStatus::ChannelAccessFailure`] (a busy channel is most often a neighbour sending a
//! datagram's fragments back to back, longer than one attempt's backoffs; the standard
//! leaves that retry to the layer above, which would lose the datagram instead). A unicast
//! frame requests an ACK and waits
//! macAckWaitDuration after its last symbol; without a matching ACK it is sent again up to
//! macMaxFrameRetries times, then [`TxStatus::NoAck`]: retry k first waits a random whole
//! number of the frame's air times in 0..2^min(macMinBE + k, macMaxBE) − 1 (a missing ACK is
//! most often a hidden-terminal collision, which CCA cannot prevent), then runs a fresh
//! CSMA/CA. Frames are spaced by SIFS/LIFS. Radios with hardware CSMA/CA or auto-ACK do
//! those parts themselves.
//!
//! Capacities are the const parameters of [`MacResources`]; when a table is full the MAC
//! evicts (duplicate and neighbour tables) or refuses (TX queue) and counts it.
//!
//! The TX queue holds [`TxEntry`] records addressed by [`TxHandle`]; indirect transmission for
//! sleepy children would add a second list of entries parked until a data request, reusing
//! the same entry type and report path.
//!
//! Files, by job: `config.rs` (the PIB attributes), `queue.rs` (requests, the TX queue and
//! per-frame reports), `framer.rs` (the MAC header of a request), `csma.rs` (CSMA/CA, ACK wait
//! and retries), `rx.rs` (receive filtering and indications), `ack.rs` (ACK generation),
//! `dup.rs` (duplicate rejection), `neighbors.rs` (link statistics), `counters.rs`. This file
//! holds the [`Mac`] itself, its storage and the radio settings it owns.

use heapless::{Deque, Vec};
use netif::time::Instant;

use crate::frame::{Address, MAX_PSDU_LEN};
use crate::radio::{Capabilities, Channel, Radio, RadioError, RadioEvent};

mod ack;
mod config;
mod counters;
mod csma;
mod dup;
mod framer;
mod neighbors;
mod queue;
mod rx;

pub use config::{ConfigError, MacConfig};
pub use counters::MacCounters;
pub use framer::Framer;
pub use neighbors::{ETX_ABSENT_RUN, ETX_ALPHA_SHIFT, ETX_DIVISOR, ETX_NOACK_PENALTY, LinkStats};
pub use queue::{
    EnqueueError, SrcAddrMode, TxEntry, TxHandle, TxReport, TxRequest, TxSecurity, TxStatus,
};
pub use rx::{MacIndication, RxIndication};

use ack::AckState;
use csma::{Prng, State};
use dup::DupEntry;

/// A PSDU buffer.
pub type Psdu = Vec<u8, MAX_PSDU_LEN>;

/// Storage of the MAC, with every capacity as a const parameter: `TXQ` queued frames (and as
/// many undelivered reports), `DUP` duplicate-filter entries, `NBR` neighbours.
#[derive(Debug)]
pub struct MacResources<const TXQ: usize, const DUP: usize, const NBR: usize> {
    queue: Deque<TxEntry, TXQ>,
    reports: Deque<TxReport, TXQ>,
    dups: Vec<DupEntry, DUP>,
    neighbors: Vec<(Address, LinkStats), NBR>,
}

impl<const TXQ: usize, const DUP: usize, const NBR: usize> MacResources<TXQ, DUP, NBR> {
    /// Empty storage.
    pub const fn new() -> Self {
        MacResources {
            queue: Deque::new(),
            reports: Deque::new(),
            dups: Vec::new(),
            neighbors: Vec::new(),
        }
    }
}

impl<const TXQ: usize, const DUP: usize, const NBR: usize> Default for MacResources<TXQ, DUP, NBR> {
    fn default() -> Self {
        Self::new()
    }
}

/// The default capacities: 8 queued frames, 16 duplicate entries, 16 neighbours.
pub type DefaultResources = MacResources<8, 16, 16>;

/// The soft-MAC of one 802.15.4 interface.
#[derive(Debug)]
pub struct Mac<const TXQ: usize, const DUP: usize, const NBR: usize> {
    cfg: MacConfig,
    caps: Capabilities,
    res: MacResources<TXQ, DUP, NBR>,
    state: State,
    ack: AckState,
    ifs_until: Instant,
    rng: Prng,
    dsn: u8,
    next_handle: u16,
    framer: Framer,
    counters: MacCounters,
}

impl<const TXQ: usize, const DUP: usize, const NBR: usize> Mac<TXQ, DUP, NBR> {
    /// Creates the MAC and programs the radio (channel, addresses, filtering mode).
    pub fn new(
        cfg: MacConfig,
        res: MacResources<TXQ, DUP, NBR>,
        radio: &mut impl Radio,
    ) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let caps = radio.capabilities();
        radio.set_channel(cfg.channel).map_err(ConfigError::Radio)?;
        radio.set_pan_id(cfg.pan_id);
        radio.set_short_address(cfg.short_address);
        radio.set_extended_address(cfg.extended_address);
        radio.set_pan_coordinator(cfg.pan_coordinator);
        radio
            .set_promiscuous(cfg.promiscuous)
            .map_err(ConfigError::Radio)?;
        let mut rng = Prng::new(cfg.seed);
        let dsn = rng.next() as u8;
        Ok(Mac {
            cfg,
            caps,
            res,
            state: State::Idle,
            ack: AckState::None,
            ifs_until: Instant::ZERO,
            rng,
            dsn,
            next_handle: 0,
            framer: Framer::new(),
            counters: MacCounters::default(),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &MacConfig {
        &self.cfg
    }

    /// The counters.
    pub fn counters(&self) -> &MacCounters {
        &self.counters
    }

    /// Switches promiscuous mode.
    pub fn set_promiscuous(&mut self, radio: &mut impl Radio, on: bool) -> Result<(), RadioError> {
        radio.set_promiscuous(on)?;
        self.cfg.promiscuous = on;
        Ok(())
    }

    /// Retunes.
    pub fn set_channel(
        &mut self,
        radio: &mut impl Radio,
        channel: Channel,
    ) -> Result<(), RadioError> {
        radio.set_channel(channel)?;
        self.cfg.channel = channel;
        Ok(())
    }

    /// Who records the link statistics of received frames
    /// ([`MacConfig::rx_stats_from_above`]).
    pub fn set_rx_stats_from_above(&mut self, on: bool) {
        self.cfg.rx_stats_from_above = on;
    }

    /// Sets the short address (`0xfffe`: none).
    pub fn set_short_address(&mut self, radio: &mut impl Radio, addr: u16) {
        radio.set_short_address(addr);
        self.cfg.short_address = addr;
    }

    /// Feeds a radio event. Returns what to pass up, if anything. Call [`Mac::poll`] after it
    /// if [`Mac::next_deadline`] moved.
    pub fn handle_event<'a>(
        &mut self,
        now: Instant,
        ev: RadioEvent<'a>,
        radio: &mut impl Radio,
    ) -> Option<MacIndication<'a>> {
        match ev {
            RadioEvent::TxDone { end, outcome } => {
                self.on_tx_done(end, outcome);
                self.poll(now, radio);
                None
            }
            RadioEvent::Received(rx) => {
                let out = self.on_rx(rx);
                self.poll(now, radio);
                out.map(MacIndication::Frame)
            }
            RadioEvent::EnergyDetect { channel, dbm } => {
                Some(MacIndication::EnergyDetect { channel, dbm })
            }
        }
    }
}
