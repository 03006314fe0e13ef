//! The MAC's configuration (the PIB attributes it uses) and its range check.

use core::fmt;

use netif::time::Duration;

use crate::consts::{self, symbols};
use crate::frame::{FrameVersion, PanId};
use crate::radio::{AddressFilter, Channel, RadioError};

/// Runtime MAC parameters (the PIB attributes this MAC uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MacConfig {
    /// macPANId.
    pub pan_id: PanId,
    /// macShortAddress (`0xfffe`/`0xffff`: none; extended source addresses are used).
    pub short_address: u16,
    /// aExtendedAddress, canonical byte order.
    pub extended_address: [u8; 8],
    /// This node is the PAN coordinator.
    pub pan_coordinator: bool,
    /// Promiscuous mode: the radio passes every frame up (for a capture tap); the MAC still
    /// filters, acknowledges and drops duplicates, and returns frames not for us as `None`.
    pub promiscuous: bool,
    /// Channel.
    pub channel: Channel,
    /// Frame version of frames this MAC builds (2006 by default).
    pub frame_version: FrameVersion,
    /// macMinBE (0..=max_be).
    pub min_be: u8,
    /// macMaxBE (3..=8).
    pub max_be: u8,
    /// macMaxCSMABackoffs (0..=5).
    pub max_csma_backoffs: u8,
    /// macMaxFrameRetries (0..=7).
    pub max_frame_retries: u8,
    /// New CSMA/CA attempts after one ends with the channel busy (0..=7; 0: the first
    /// channel-access failure is final). Each waits a random whole number of the frame's air
    /// times first, as a retry after a missing ACK does.
    pub max_channel_access_retries: u8,
    /// macAckWaitDuration, as time.
    pub ack_wait: Duration,
    /// How long a (source, sequence number) pair marks later copies as duplicates.
    pub duplicate_lifetime: Duration,
    /// Seed of the backoff PRNG (and of the first sequence number).
    pub seed: u32,
    /// The layer above records the link statistics of the frames it accepts
    /// ([`Mac::record_rx`](super::Mac::record_rx)) and the MAC records none on receive: with
    /// link-layer security, a frame that fails it must not move a neighbour's RSSI/LQI, nor
    /// create an entry that evicts a real neighbour's statistics (its ETX with them). Off by
    /// default: the MAC records every frame it passes up or drops as a duplicate.
    pub rx_stats_from_above: bool,
}

impl MacConfig {
    /// Standard defaults on `channel` for a node with `extended_address`.
    pub fn new(channel: Channel, pan_id: PanId, extended_address: [u8; 8]) -> Self {
        MacConfig {
            pan_id,
            short_address: 0xfffe,
            extended_address,
            pan_coordinator: false,
            promiscuous: false,
            channel,
            frame_version: FrameVersion::Ieee2006,
            min_be: 3,
            max_be: 5,
            max_csma_backoffs: 4,
            max_frame_retries: 3,
            max_channel_access_retries: 3,
            ack_wait: symbols(consts::ACK_WAIT_SYMBOLS),
            duplicate_lifetime: Duration::from_secs(5),
            seed: 0x1234_5678,
            rx_stats_from_above: false,
        }
    }

    /// Checks the ranges the standard gives.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(3..=8).contains(&self.max_be) || self.min_be > self.max_be {
            return Err(ConfigError::BackoffExponent);
        }
        if self.max_csma_backoffs > 5 {
            return Err(ConfigError::MaxCsmaBackoffs);
        }
        if self.max_frame_retries > 7 {
            return Err(ConfigError::MaxFrameRetries);
        }
        if self.max_channel_access_retries > 7 {
            return Err(ConfigError::MaxChannelAccessRetries);
        }
        if !matches!(
            self.frame_version,
            FrameVersion::Ieee2003 | FrameVersion::Ieee2006 | FrameVersion::Ieee2015
        ) {
            return Err(ConfigError::FrameVersion);
        }
        Ok(())
    }

    pub(super) fn filter(&self) -> AddressFilter {
        AddressFilter {
            pan_id: self.pan_id,
            short: self.short_address,
            extended: self.extended_address,
            pan_coordinator: self.pan_coordinator,
        }
    }
}

/// A [`MacConfig`] value out of the standard's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// macMinBE / macMaxBE out of range.
    BackoffExponent,
    /// macMaxCSMABackoffs above 5.
    MaxCsmaBackoffs,
    /// macMaxFrameRetries above 7.
    MaxFrameRetries,
    /// [`MacConfig::max_channel_access_retries`] above 7.
    MaxChannelAccessRetries,
    /// Unknown frame version.
    FrameVersion,
    /// The radio refused a setting.
    Radio(RadioError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::BackoffExponent => f.write_str("backoff exponents out of range"),
            ConfigError::MaxCsmaBackoffs => f.write_str("macMaxCSMABackoffs above 5"),
            ConfigError::MaxFrameRetries => f.write_str("macMaxFrameRetries above 7"),
            ConfigError::MaxChannelAccessRetries => f.write_str("channel-access retries above 7"),
            ConfigError::FrameVersion => f.write_str("unknown frame version"),
            ConfigError::Radio(e) => write!(f, "radio refused setting: {e}"),
        }
    }
}

impl core::error::Error for ConfigError {}
