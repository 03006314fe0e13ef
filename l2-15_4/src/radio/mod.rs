//! The driver boundary: a small, synchronous, sans-IO [`Radio`] trait plus the
//! [`RadioEvent`]s a driver reports back to the MAC.
//!
//! Conventions (the deterministic simulator relies on them):
//! - Commands are synchronous calls that only *start* work. Their completions come back as
//!   [`RadioEvent`]s that the driver hands to [`crate::mac::Mac::handle_event`], each stamped
//!   with the instant it happened.
//! - [`Radio::cca`] is the one synchronous measurement: it reports whether the channel was idle
//!   during the CCA window (8 symbols) starting at `now`. A simulator answers it from its
//!   medium state; hardware blocks for 128 µs or reads the CCA result register.
//! - [`Radio::transmit`] starts the RX→TX turnaround and the frame at `now`; the driver reports
//!   [`RadioEvent::TxDone`] with the instant the last symbol left the antenna.
//! - A received frame is [`RadioEvent::Received`] with the instant its last symbol arrived
//!   ([`RxFrame::timestamp`]), RSSI and LQI. After a transmission the radio returns to receive
//!   on its own.
//! - PSDUs always include the two FCS bytes. With [`Capabilities::hw_fcs`] the radio fills them
//!   in on transmit and reports [`RxFrame::fcs_ok`]; otherwise the MAC computes and checks them.
//!
//! The test double, [`testing::ScriptedRadio`], lives beside the trait.

use core::fmt;
use netif::time::{Duration, Instant};

use crate::frame::{Address, PanId};

pub mod testing;

/// An O-QPSK 2.4 GHz channel, 11..=26.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Channel(u8);

impl Channel {
    /// Channel `n` if it is in 11..=26.
    pub const fn new(n: u8) -> Option<Channel> {
        if n >= 11 && n <= 26 {
            Some(Channel(n))
        } else {
            None
        }
    }
    /// The channel number.
    pub const fn number(self) -> u8 {
        self.0
    }
    /// Centre frequency in MHz: 2405 + 5 (k − 11).
    pub const fn mhz(self) -> u16 {
        2405 + 5 * (self.0 as u16 - 11)
    }
}

/// What the radio does in hardware; the soft-MAC fills in the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Capabilities {
    /// Computes the FCS on transmit and checks it on receive.
    pub hw_fcs: bool,
    /// Sends ACKs for received frames and waits for ACKs of its own (reporting the outcome in
    /// [`TxOutcome`]).
    pub hw_auto_ack: bool,
    /// Runs CSMA/CA itself for [`TxMode::Csma`].
    pub hw_csma: bool,
    /// Supports [`Radio::energy_detect`].
    pub energy_scan: bool,
    /// Supports promiscuous mode.
    pub promiscuous: bool,
}

/// How [`Radio::transmit`] sends a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TxMode {
    /// Send now, no CCA (the soft-MAC already did CSMA/CA, or this is an ACK).
    Direct,
    /// One CCA, then send if idle (else [`TxOutcome::ChannelBusy`]).
    Cca,
    /// Hardware CSMA/CA ([`Capabilities::hw_csma`]).
    Csma,
}

/// Outcome of a transmission, reported in [`RadioEvent::TxDone`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TxOutcome {
    /// On air; no ACK awaited by the radio.
    Sent,
    /// Hardware auto-ACK: the ACK arrived (with its frame-pending bit).
    Acked {
        /// Frame pending bit of the ACK.
        frame_pending: bool,
    },
    /// Hardware auto-ACK: no ACK within the wait duration.
    NoAck,
    /// CCA or hardware CSMA/CA found the channel busy; nothing was sent.
    ChannelBusy,
    /// The radio could not send (e.g. frame too long, radio off).
    Failed(RadioError),
}

/// A radio operation that could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RadioError {
    /// A parameter the radio cannot take (frame too long, channel, ...).
    InvalidParameter,
    /// The radio is busy with another operation (e.g. still transmitting).
    Busy,
    /// The operation is not supported ([`Capabilities`]).
    Unsupported,
    /// A driver or bus failure.
    Hardware,
}

impl fmt::Display for RadioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RadioError::InvalidParameter => "invalid radio parameter",
            RadioError::Busy => "radio busy",
            RadioError::Unsupported => "radio operation not supported",
            RadioError::Hardware => "radio hardware failure",
        })
    }
}

impl core::error::Error for RadioError {}

/// A received PSDU with its reception metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RxFrame<'a> {
    /// The PSDU, FCS included.
    pub psdu: &'a [u8],
    /// Received signal strength, dBm.
    pub rssi: i8,
    /// Link quality indication, 0..=255.
    pub lqi: u8,
    /// When the last symbol of the frame arrived.
    pub timestamp: Instant,
    /// Channel it was received on.
    pub channel: Channel,
    /// FCS result when the radio checked it ([`Capabilities::hw_fcs`]); `None` = unchecked.
    pub fcs_ok: Option<bool>,
}

/// What a driver reports to the MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RadioEvent<'a> {
    /// The transmission started by [`Radio::transmit`] has ended (`end` = last symbol on air,
    /// or when the radio gave up).
    TxDone {
        /// When it ended.
        end: Instant,
        /// How it ended.
        outcome: TxOutcome,
    },
    /// A frame was received.
    Received(RxFrame<'a>),
    /// Result of [`Radio::energy_detect`]: peak energy in dBm.
    EnergyDetect {
        /// Channel measured.
        channel: Channel,
        /// Peak energy, dBm.
        dbm: i8,
    },
}

/// The radio driver. Implemented by hardware drivers (nRF52840) and by the simulator.
pub trait Radio {
    /// What the hardware does by itself.
    fn capabilities(&self) -> Capabilities;
    /// Tunes to `channel`.
    fn set_channel(&mut self, channel: Channel) -> Result<(), RadioError>;
    /// PAN ID for hardware address filtering (and auto-ACK).
    fn set_pan_id(&mut self, pan: PanId);
    /// Short address for hardware filtering (`0xfffe`/`0xffff`: none).
    fn set_short_address(&mut self, addr: u16);
    /// Extended address (canonical byte order) for hardware filtering.
    fn set_extended_address(&mut self, addr: [u8; 8]);
    /// Whether this node is the PAN coordinator (accepts frames without destination).
    fn set_pan_coordinator(&mut self, on: bool);
    /// Promiscuous mode: no filtering, no auto-ACK.
    fn set_promiscuous(&mut self, on: bool) -> Result<(), RadioError>;
    /// Starts an energy measurement of `duration`; the result is [`RadioEvent::EnergyDetect`].
    fn energy_detect(&mut self, now: Instant, duration: Duration) -> Result<(), RadioError>;
    /// Clear channel assessment over the 8 symbols from `now`: `Ok(true)` when idle.
    fn cca(&mut self, now: Instant) -> Result<bool, RadioError>;
    /// Starts sending `psdu` (FCS bytes included) at `now`; completion is
    /// [`RadioEvent::TxDone`].
    fn transmit(&mut self, now: Instant, psdu: &[u8], mode: TxMode) -> Result<(), RadioError>;
}

/// Hardware filter settings in one place, for drivers that program them together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AddressFilter {
    /// PAN ID.
    pub pan_id: PanId,
    /// Short address.
    pub short: u16,
    /// Extended address (canonical order).
    pub extended: [u8; 8],
    /// PAN coordinator.
    pub pan_coordinator: bool,
}

impl AddressFilter {
    /// Whether `a` is one of this node's addresses.
    pub fn is_mine(&self, a: &Address) -> bool {
        match a {
            Address::Short(s) => *s == self.short && *s < 0xfffe,
            Address::Extended(e) => *e == self.extended,
        }
    }
}
