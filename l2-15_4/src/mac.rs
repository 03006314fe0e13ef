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
//! Per frame: NB = 0, BE = macMinBE; wait a random (0..2^BE − 1) × aUnitBackoffPeriod; CCA
//! (8 symbols); if idle, transmit (the radio adds the turnaround); if busy, NB += 1,
//! BE = min(BE + 1, macMaxBE), and after macMaxCSMABackoffs + 1 busy CCAs report
//! [`TxStatus::ChannelAccessFailure`]. A unicast frame requests an ACK and waits
//! macAckWaitDuration after its last symbol; without a matching ACK it is sent again (a fresh
//! CSMA/CA) up to macMaxFrameRetries times, then [`TxStatus::NoAck`]. Frames are spaced by
//! SIFS/LIFS. Radios with hardware CSMA/CA or auto-ACK do those parts themselves.
//!
//! Capacities are the const parameters of [`MacResources`]; when a table is full the MAC
//! evicts (duplicate and neighbour tables) or refuses (TX queue) and counts it.
//!
//! The TX queue holds [`TxEntry`] records addressed by [`TxHandle`]; indirect transmission for
//! sleepy children would add a second list of entries parked until a data request, reusing
//! the same entry type and report path.

use core::fmt;

use heapless::{Deque, Vec};
use netif::time::{Duration, Instant};

use crate::consts::{self, symbols};
use crate::frame::{
    Address, FCS_LEN, FrameType, FrameVersion, HeaderPlan, MAX_PSDU_LEN, PanId, Repr, fcs,
};
use crate::radio::{
    AddressFilter, Capabilities, Channel, Radio, RadioError, RadioEvent, RxFrame, TxMode, TxOutcome,
};

/// A PSDU buffer.
pub type Psdu = Vec<u8, MAX_PSDU_LEN>;

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
    /// Promiscuous mode: deliver every frame that parses, no filtering, no ACKs.
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
    /// macAckWaitDuration, as time.
    pub ack_wait: Duration,
    /// How long a (source, sequence number) pair marks later copies as duplicates.
    pub duplicate_lifetime: Duration,
    /// Seed of the backoff PRNG (and of the first sequence number).
    pub seed: u32,
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
            ack_wait: symbols(consts::ACK_WAIT_SYMBOLS),
            duplicate_lifetime: Duration::from_secs(5),
            seed: 0x1234_5678,
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
        if !matches!(
            self.frame_version,
            FrameVersion::Ieee2003 | FrameVersion::Ieee2006 | FrameVersion::Ieee2015
        ) {
            return Err(ConfigError::FrameVersion);
        }
        Ok(())
    }

    fn filter(&self) -> AddressFilter {
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
            ConfigError::FrameVersion => f.write_str("unknown frame version"),
            ConfigError::Radio(e) => write!(f, "radio refused setting: {e}"),
        }
    }
}

impl core::error::Error for ConfigError {}

/// Why [`Mac::enqueue`] refused a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EnqueueError {
    /// The TX queue is full (counted in [`MacCounters::tx_queue_full`]).
    QueueFull,
    /// The frame cannot be built (too long, or an address/PAN combination with no encoding).
    InvalidParameter,
}

impl fmt::Display for EnqueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnqueueError::QueueFull => "MAC TX queue full",
            EnqueueError::InvalidParameter => "invalid MAC TX request",
        })
    }
}

impl core::error::Error for EnqueueError {}

/// Identifies a queued frame in its [`TxReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TxHandle(pub u16);

/// Which source address a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SrcAddrMode {
    /// The short address (falls back to extended when the node has none).
    Short,
    /// The extended address.
    Extended,
}

/// A frame to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxRequest<'a> {
    /// Destination; [`Address::BROADCAST`] for broadcast (never acknowledged or retried).
    pub dst: Address,
    /// Destination PAN; `None` = our own PAN.
    pub dst_pan: Option<PanId>,
    /// Source address kind.
    pub src: SrcAddrMode,
    /// Data or MAC command.
    pub frame_type: FrameType,
    /// MAC payload.
    pub payload: &'a [u8],
}

impl<'a> TxRequest<'a> {
    /// A data frame to `dst` in our PAN from our short address (or extended if none).
    pub fn data(dst: Address, payload: &'a [u8]) -> Self {
        TxRequest {
            dst,
            dst_pan: None,
            src: SrcAddrMode::Short,
            frame_type: FrameType::Data,
            payload,
        }
    }
}

/// Final status of a queued frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TxStatus {
    /// Sent (and acknowledged if unicast) after `retries` retransmissions.
    Success {
        /// Retransmissions needed.
        retries: u8,
    },
    /// No ACK after macMaxFrameRetries retransmissions.
    NoAck,
    /// CSMA/CA found the channel busy macMaxCSMABackoffs + 1 times.
    ChannelAccessFailure,
    /// The radio refused the frame as invalid.
    InvalidParameter,
    /// The radio failed (busy, unsupported, hardware).
    RadioFailure,
}

/// A [`TxStatus`] with what it refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TxReport {
    /// The frame's handle.
    pub handle: TxHandle,
    /// Its destination.
    pub dst: Address,
    /// Its sequence number.
    pub sequence_number: u8,
    /// How it ended.
    pub status: TxStatus,
    /// Transmissions made (first attempt included).
    pub transmissions: u8,
}

/// MAC counters. All wrap at `u32::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MacCounters {
    /// Data/command transmissions put on air (retransmissions included; ACKs excluded).
    pub tx_frames: u32,
    /// Retransmissions after a missing ACK.
    pub tx_retries: u32,
    /// Frames completed with [`TxStatus::Success`].
    pub tx_success: u32,
    /// Frames completed with [`TxStatus::NoAck`].
    pub tx_no_ack: u32,
    /// Frames completed with [`TxStatus::ChannelAccessFailure`].
    pub tx_channel_access_failures: u32,
    /// Frames refused or failed as invalid / radio failure.
    pub tx_errors: u32,
    /// [`Mac::enqueue`] calls refused because the queue was full.
    pub tx_queue_full: u32,
    /// TX reports lost because nobody collected them.
    pub tx_reports_dropped: u32,
    /// PSDUs handed to the MAC.
    pub rx_frames: u32,
    /// Frames delivered up.
    pub rx_delivered: u32,
    /// Frames that did not parse.
    pub rx_invalid: u32,
    /// Frames dropped by address / PAN filtering.
    pub rx_filtered: u32,
    /// Duplicates dropped.
    pub rx_duplicates: u32,
    /// FCS errors.
    pub rx_fcs_errors: u32,
    /// ACKs that matched but arrived after macAckWaitDuration (ignored).
    pub rx_acks_late: u32,
    /// ACKs sent by the soft-MAC.
    pub acks_sent: u32,
    /// ACKs not sent: too late, radio busy, or one already pending.
    pub acks_skipped: u32,
    /// Duplicate-table entries evicted to make room.
    pub dup_table_evictions: u32,
    /// Neighbour-table entries evicted to make room.
    pub neighbor_evictions: u32,
}

fn bump(c: &mut u32) {
    *c = c.wrapping_add(1);
}

/// Link statistics of one neighbour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LinkStats {
    rssi_x16: i16,
    lqi_x16: u16,
    /// Frames received from it.
    pub rx_frames: u32,
    /// Transmissions to it (retransmissions included).
    pub tx_attempts: u32,
    /// Retransmissions to it.
    pub tx_retries: u32,
    /// Unicast frames to it that were acknowledged.
    pub tx_acked: u32,
    /// Unicast frames to it that ended without ACK.
    pub tx_no_ack: u32,
    /// When we last received a frame from it.
    pub last_heard: Option<Instant>,
}

impl LinkStats {
    /// RSSI moving average (α = 1/8), dBm.
    pub fn rssi(&self) -> i8 {
        (self.rssi_x16 / 16) as i8
    }
    /// LQI moving average (α = 1/8).
    pub fn lqi(&self) -> u8 {
        (self.lqi_x16 / 16) as u8
    }
    /// Share of unicast frames acknowledged, in percent; `None` before the first one.
    pub fn ack_ratio_percent(&self) -> Option<u8> {
        let n = self.tx_acked.saturating_add(self.tx_no_ack);
        if n == 0 {
            None
        } else {
            Some((u64::from(self.tx_acked) * 100 / u64::from(n)) as u8)
        }
    }
    /// ETX estimate ×100: transmissions per acknowledged frame; `None` before the first ACK.
    pub fn etx_x100(&self) -> Option<u32> {
        if self.tx_acked == 0 {
            None
        } else {
            Some(
                (u64::from(self.tx_attempts) * 100 / u64::from(self.tx_acked))
                    .min(u64::from(u32::MAX)) as u32,
            )
        }
    }
    fn record_rx(&mut self, now: Instant, rssi: i8, lqi: u8) {
        let r = i16::from(rssi) * 16;
        let l = u16::from(lqi) * 16;
        if self.rx_frames == 0 {
            self.rssi_x16 = r;
            self.lqi_x16 = l;
        } else {
            self.rssi_x16 += (r - self.rssi_x16) / 8;
            self.lqi_x16 =
                (i32::from(self.lqi_x16) + (i32::from(l) - i32::from(self.lqi_x16)) / 8) as u16;
        }
        self.rx_frames = self.rx_frames.wrapping_add(1);
        self.last_heard = Some(now);
    }
}

/// The MAC header the soft-MAC puts on a [`TxRequest`] ([`Mac::enqueue`]), kept as a
/// [`HeaderPlan`] for the last request shape so that consecutive frames to one destination
/// (the fragments of a datagram) are stamped from it instead of being built and validated
/// field by field.
///
/// The header: a data or MAC command frame of `cfg.frame_version`; destination `req.dst` in
/// `req.dst_pan` (our PAN when `None`); source our short address, or our extended address
/// when `req.src` asks for it or we have none (`0xfffe`/`0xffff`), in our PAN; the source PAN
/// ID compressed away when both PANs are the same; ACK requested for unicast. The plan is
/// reused only while all of these are the same, so a configuration change (PAN, addresses,
/// frame version) takes effect on the next frame.
///
/// Public so that code framing outside a [`Mac`] (benchmarks, tools) builds exactly the
/// MAC's headers.
#[derive(Debug, Clone, Default)]
pub struct Framer {
    last: Option<(PlanKey, HeaderPlan)>,
}

/// What a [`Framer`]'s plan was made for, packed so that the check on every frame is a few
/// integer comparisons: both addresses as 64-bit values, both PAN IDs, the frame version, and
/// the frame type and both addressing modes (which tell a short address from an extended one
/// of the same value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PlanKey {
    dst: u64,
    src: u64,
    pans: u32,
    /// Bit 0: MAC command (else data); bit 1: extended destination; bit 2: extended source.
    shape: u8,
    version: FrameVersion,
}

impl PlanKey {
    /// The key of a data (`command == false`) or MAC command frame.
    fn new(
        command: bool,
        version: FrameVersion,
        dst_pan: PanId,
        dst: Address,
        src_pan: PanId,
        src: Address,
    ) -> Self {
        let packed = |a: Address| match a {
            Address::Short(v) => (u64::from(v), 0),
            Address::Extended(e) => (u64::from_ne_bytes(e), 1),
        };
        let (d, dm) = packed(dst);
        let (s, sm) = packed(src);
        PlanKey {
            dst: d,
            src: s,
            pans: u32::from(dst_pan.0) << 16 | u32::from(src_pan.0),
            shape: u8::from(command) | dm << 1 | sm << 2,
            version,
        }
    }
}

impl Framer {
    /// A framer with no plan yet.
    pub const fn new() -> Self {
        Framer { last: None }
    }

    /// The header of `req` sent by a node configured as `cfg`; stamp it into a frame with
    /// [`HeaderPlan::emit`] and the frame's sequence number. Fails with
    /// [`EnqueueError::InvalidParameter`] for a frame type other than data or MAC command, or
    /// an address/PAN combination with no encoding in `cfg.frame_version`.
    pub fn plan(
        &mut self,
        cfg: &MacConfig,
        req: &TxRequest<'_>,
    ) -> Result<&HeaderPlan, EnqueueError> {
        if !matches!(req.frame_type, FrameType::Data | FrameType::MacCommand) {
            return Err(EnqueueError::InvalidParameter);
        }
        let src = match req.src {
            SrcAddrMode::Short if cfg.short_address < 0xfffe => Address::Short(cfg.short_address),
            _ => Address::Extended(cfg.extended_address),
        };
        let dst_pan = req.dst_pan.unwrap_or(cfg.pan_id);
        let key = PlanKey::new(
            req.frame_type == FrameType::MacCommand,
            cfg.frame_version,
            dst_pan,
            req.dst,
            cfg.pan_id,
            src,
        );
        if !matches!(&self.last, Some((k, _)) if *k == key) {
            self.replan(key, req, dst_pan, cfg, src)?;
        }
        self.last
            .as_ref()
            .map(|(_, p)| p)
            .ok_or(EnqueueError::InvalidParameter)
    }

    /// Builds and validates the header for a new request shape or configuration (out of
    /// line: the frames of a datagram only take the check above).
    #[cold]
    #[inline(never)]
    fn replan(
        &mut self,
        key: PlanKey,
        req: &TxRequest<'_>,
        dst_pan: PanId,
        cfg: &MacConfig,
        src: Address,
    ) -> Result<(), EnqueueError> {
        let mut repr = Repr::new(
            req.frame_type,
            cfg.frame_version,
            Some(0),
            Some((dst_pan, req.dst)),
            Some((cfg.pan_id, src)),
        )
        .map_err(|_| EnqueueError::InvalidParameter)?;
        repr.ack_request = req.dst.is_unicast();
        let plan = HeaderPlan::new(&repr).map_err(|_| EnqueueError::InvalidParameter)?;
        self.last = Some((key, plan));
        Ok(())
    }
}

/// A queued frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxEntry {
    handle: TxHandle,
    psdu: Psdu,
    dst: Address,
    seq: u8,
    ack_request: bool,
    retries: u8,
    transmissions: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DupEntry {
    addr: Address,
    seq: u8,
    seen: Instant,
}

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

/// Small xorshift32 PRNG: deterministic backoffs for replayable simulations.
#[derive(Debug, Clone, Copy)]
struct Prng(u32);

impl Prng {
    fn new(seed: u32) -> Self {
        Prng(if seed == 0 { 0x9e37_79b9 } else { seed })
    }
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing in progress (the queue head, if any, starts CSMA/CA once IFS has passed).
    Idle,
    /// Backing off until `until`, then CCA.
    Backoff { until: Instant, nb: u8, be: u8 },
    /// CCA found the channel idle; transmit at `at` (end of the CCA window).
    TxPending { at: Instant },
    /// The queue head is on air.
    OnAir,
    /// Waiting for the ACK; any ACK ending after `deadline` is late.
    AckWait { deadline: Instant },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AckState {
    None,
    Pending {
        at: Instant,
        latest: Instant,
        psdu: [u8; consts::IMM_ACK_PSDU_LEN],
    },
    OnAir,
}

/// What the MAC passes up from [`Mac::handle_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacIndication<'a> {
    /// A frame for us (or any frame, in promiscuous mode).
    Frame(RxIndication<'a>),
    /// An energy-detect result.
    EnergyDetect {
        /// Channel.
        channel: Channel,
        /// Peak energy, dBm.
        dbm: i8,
    },
}

/// A received frame, zero-copy over the driver's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxIndication<'a> {
    /// The parsed header.
    pub repr: Repr<'a>,
    /// The MAC payload (ciphertext and MIC when [`RxIndication::secured`]).
    pub payload: &'a [u8],
    /// The whole MPDU without FCS (for capture taps).
    pub mpdu: &'a [u8],
    /// Secured frame: the payload is not plaintext.
    pub secured: bool,
    /// RSSI, dBm.
    pub rssi: i8,
    /// LQI.
    pub lqi: u8,
    /// End of reception.
    pub timestamp: Instant,
    /// Channel.
    pub channel: Channel,
}

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

    /// Link statistics of `addr`, if known.
    pub fn neighbor(&self, addr: &Address) -> Option<&LinkStats> {
        self.res
            .neighbors
            .iter()
            .find(|(a, _)| a == addr)
            .map(|(_, s)| s)
    }

    /// All known neighbours.
    pub fn neighbors(&self) -> impl Iterator<Item = (&Address, &LinkStats)> {
        self.res.neighbors.iter().map(|(a, s)| (a, s))
    }

    /// Frames queued (the one in progress included).
    pub fn queue_len(&self) -> usize {
        self.res.queue.len()
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

    /// Sets the short address (`0xfffe`: none).
    pub fn set_short_address(&mut self, radio: &mut impl Radio, addr: u16) {
        radio.set_short_address(addr);
        self.cfg.short_address = addr;
    }

    /// Builds the frame (header, payload, FCS unless the radio adds it) and queues it.
    /// Unicast frames request an ACK; broadcast frames do not.
    pub fn enqueue(&mut self, req: &TxRequest<'_>) -> Result<TxHandle, EnqueueError> {
        if self.res.queue.is_full() {
            bump(&mut self.counters.tx_queue_full);
            return Err(EnqueueError::QueueFull);
        }
        let plan = self.framer.plan(&self.cfg, req)?;
        let seq = self.dsn;
        let hdr = plan.buffer_len();
        let total = hdr
            .checked_add(req.payload.len())
            .and_then(|n| n.checked_add(FCS_LEN))
            .filter(|n| *n <= MAX_PSDU_LEN)
            .ok_or(EnqueueError::InvalidParameter)?;
        let mut psdu = Psdu::new();
        psdu.resize(total, 0)
            .map_err(|_| EnqueueError::InvalidParameter)?;
        plan.emit(seq, &mut psdu)
            .map_err(|_| EnqueueError::InvalidParameter)?;
        if let Some(p) = psdu.get_mut(hdr..hdr + req.payload.len()) {
            p.copy_from_slice(req.payload);
        }
        if !self.caps.hw_fcs {
            fcs::append(&mut psdu);
        }
        let handle = TxHandle(self.next_handle);
        let entry = TxEntry {
            handle,
            psdu,
            dst: req.dst,
            seq,
            ack_request: req.dst.is_unicast(),
            retries: 0,
            transmissions: 0,
        };
        if self.res.queue.push_back(entry).is_err() {
            bump(&mut self.counters.tx_queue_full);
            return Err(EnqueueError::QueueFull);
        }
        self.dsn = self.dsn.wrapping_add(1);
        self.next_handle = self.next_handle.wrapping_add(1);
        Ok(handle)
    }

    /// The next final TX status, oldest first.
    pub fn pop_tx_report(&mut self) -> Option<TxReport> {
        self.res.reports.pop_front()
    }

    /// When [`Mac::poll`] must be called next; `None` = only on the next event or enqueue.
    /// May be in the past (call `poll` at once).
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut d: Option<Instant> = None;
        let mut take = |t: Instant| d = Some(d.map_or(t, |x| x.min(t)));
        if let AckState::Pending { at, .. } = self.ack {
            take(at);
        }
        match self.state {
            State::Idle if !self.res.queue.is_empty() && self.ack == AckState::None => {
                take(self.ifs_until)
            }
            State::Backoff { until, .. } if self.ack == AckState::None => take(until),
            State::TxPending { at } if self.ack == AckState::None => take(at),
            State::AckWait { deadline } => take(deadline + Duration::from_micros(1)),
            _ => {}
        }
        d
    }

    /// Advances timers: sends a due ACK, starts or continues CSMA/CA, gives up waiting for an
    /// ACK. Call at [`Mac::next_deadline`].
    pub fn poll(&mut self, now: Instant, radio: &mut impl Radio) {
        // Bounded: each pass either changes state or stops.
        for _ in 0..16 {
            if !self.step(now, radio) {
                break;
            }
        }
    }

    fn step(&mut self, now: Instant, radio: &mut impl Radio) -> bool {
        if let AckState::Pending { at, latest, psdu } = self.ack {
            if now < at {
                // Nothing else may start before the ACK is out.
                return self.check_ack_timeout(now);
            }
            if now > latest || self.state == State::OnAir {
                bump(&mut self.counters.acks_skipped);
                self.ack = AckState::None;
                return true;
            }
            self.ack = match radio.transmit(now, &psdu, TxMode::Direct) {
                Ok(()) => AckState::OnAir,
                Err(_) => {
                    bump(&mut self.counters.acks_skipped);
                    AckState::None
                }
            };
            return true;
        }
        if self.check_ack_timeout(now) {
            return true;
        }
        if self.ack != AckState::None {
            return false;
        }
        match self.state {
            State::Idle if !self.res.queue.is_empty() && now >= self.ifs_until => {
                self.start_attempt(now, radio);
                true
            }
            State::Backoff { until, nb, be } if now >= until => {
                let idle = radio.cca(now).unwrap_or(false);
                if idle {
                    self.state = State::TxPending {
                        at: now + symbols(consts::CCA_SYMBOLS),
                    };
                } else {
                    let nb = nb.saturating_add(1);
                    let be = be.saturating_add(1).min(self.cfg.max_be);
                    if nb > self.cfg.max_csma_backoffs {
                        bump(&mut self.counters.tx_channel_access_failures);
                        self.complete(now, TxStatus::ChannelAccessFailure);
                    } else {
                        let start = now + symbols(consts::CCA_SYMBOLS);
                        self.state = State::Backoff {
                            until: start + self.backoff(be),
                            nb,
                            be,
                        };
                    }
                }
                true
            }
            State::TxPending { at } if now >= at => {
                self.send_head(now, radio, TxMode::Direct);
                true
            }
            _ => false,
        }
    }

    fn check_ack_timeout(&mut self, now: Instant) -> bool {
        if let State::AckWait { deadline } = self.state
            && now > deadline
        {
            self.on_no_ack(now);
            return true;
        }
        false
    }

    fn backoff(&mut self, be: u8) -> Duration {
        let mask = (1u32 << u32::from(be.min(8))) - 1;
        let periods = u64::from(self.rng.next() & mask);
        Duration::from_micros(periods * consts::UNIT_BACKOFF_SYMBOLS * consts::SYMBOL_US)
    }

    fn start_attempt(&mut self, now: Instant, radio: &mut impl Radio) {
        if self.caps.hw_csma {
            self.send_head(now, radio, TxMode::Csma);
        } else {
            let be = self.cfg.min_be;
            let until = now + self.backoff(be);
            self.state = State::Backoff { until, nb: 0, be };
        }
    }

    fn send_head(&mut self, now: Instant, radio: &mut impl Radio, mode: TxMode) {
        let Some(entry) = self.res.queue.front_mut() else {
            self.state = State::Idle;
            return;
        };
        match radio.transmit(now, &entry.psdu, mode) {
            Ok(()) => {
                entry.transmissions = entry.transmissions.saturating_add(1);
                bump(&mut self.counters.tx_frames);
                self.state = State::OnAir;
            }
            Err(e) => {
                bump(&mut self.counters.tx_errors);
                let st = if e == RadioError::InvalidParameter {
                    TxStatus::InvalidParameter
                } else {
                    TxStatus::RadioFailure
                };
                self.complete(now, st);
            }
        }
    }

    fn on_no_ack(&mut self, now: Instant) {
        let max = self.cfg.max_frame_retries;
        match self.res.queue.front_mut() {
            Some(e) if e.retries < max => {
                e.retries += 1;
                bump(&mut self.counters.tx_retries);
                self.state = State::Idle;
                self.ifs_until = self.ifs_until.max(now);
            }
            _ => {
                bump(&mut self.counters.tx_no_ack);
                self.complete(now, TxStatus::NoAck);
            }
        }
    }

    fn complete(&mut self, _now: Instant, status: TxStatus) {
        self.state = State::Idle;
        let Some(e) = self.res.queue.pop_front() else {
            return;
        };
        if let TxStatus::Success { .. } = status {
            bump(&mut self.counters.tx_success);
        }
        if e.dst.is_unicast() && e.transmissions > 0 {
            let evictions = &mut self.counters.neighbor_evictions;
            if let Some(s) = neighbor_entry(&mut self.res.neighbors, e.dst, evictions) {
                s.tx_attempts = s.tx_attempts.wrapping_add(u32::from(e.transmissions));
                s.tx_retries = s.tx_retries.wrapping_add(u32::from(e.retries));
                match status {
                    TxStatus::Success { .. } => s.tx_acked = s.tx_acked.wrapping_add(1),
                    TxStatus::NoAck => s.tx_no_ack = s.tx_no_ack.wrapping_add(1),
                    _ => {}
                }
            }
        }
        let report = TxReport {
            handle: e.handle,
            dst: e.dst,
            sequence_number: e.seq,
            status,
            transmissions: e.transmissions,
        };
        if self.res.reports.push_back(report).is_err() {
            bump(&mut self.counters.tx_reports_dropped);
        }
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

    fn on_tx_done(&mut self, end: Instant, outcome: TxOutcome) {
        if self.ack == AckState::OnAir {
            self.ack = AckState::None;
            bump(&mut self.counters.acks_sent);
            self.ifs_until = self
                .ifs_until
                .max(end + consts::ifs(consts::IMM_ACK_PSDU_LEN));
            return;
        }
        if self.state != State::OnAir {
            return;
        }
        let (len, ack_request) = match self.res.queue.front() {
            Some(e) => (e.psdu.len(), e.ack_request),
            None => {
                self.state = State::Idle;
                return;
            }
        };
        match outcome {
            TxOutcome::Sent if ack_request && !self.caps.hw_auto_ack => {
                self.state = State::AckWait {
                    deadline: end + self.cfg.ack_wait,
                };
            }
            TxOutcome::Sent | TxOutcome::Acked { .. } => {
                self.ifs_until = end + consts::ifs(len);
                let retries = self.res.queue.front().map_or(0, |e| e.retries);
                self.complete(end, TxStatus::Success { retries });
            }
            TxOutcome::NoAck => {
                self.ifs_until = end + consts::ifs(len);
                self.on_no_ack(end);
            }
            TxOutcome::ChannelBusy => {
                bump(&mut self.counters.tx_channel_access_failures);
                self.complete(end, TxStatus::ChannelAccessFailure);
            }
            TxOutcome::Failed(e) => {
                bump(&mut self.counters.tx_errors);
                let st = if e == RadioError::InvalidParameter {
                    TxStatus::InvalidParameter
                } else {
                    TxStatus::RadioFailure
                };
                self.complete(end, st);
            }
        }
    }

    fn accept(&self, r: &Repr<'_>) -> bool {
        let f = self.cfg.filter();
        if let Some(p) = r.dst_pan_id
            && p != f.pan_id
            && p != PanId::BROADCAST
        {
            return false;
        }
        match &r.dst_addr {
            Some(a) => {
                if !(a.is_broadcast() || f.is_mine(a)) {
                    return false;
                }
            }
            None => {
                if r.frame_type != FrameType::Beacon {
                    // Only the PAN coordinator takes frames without a destination, and only
                    // from its own PAN.
                    if !f.pan_coordinator || r.effective_src_pan_id().is_some_and(|p| p != f.pan_id)
                    {
                        return false;
                    }
                }
            }
        }
        if r.frame_type == FrameType::Beacon
            && f.pan_id != PanId::BROADCAST
            && r.effective_src_pan_id().is_some_and(|p| p != f.pan_id)
        {
            return false;
        }
        true
    }

    fn on_rx<'a>(&mut self, rx: RxFrame<'a>) -> Option<RxIndication<'a>> {
        bump(&mut self.counters.rx_frames);
        let len = rx.psdu.len();
        let Some(mpdu_len) = len
            .checked_sub(FCS_LEN)
            .filter(|n| *n >= 2 && len <= MAX_PSDU_LEN)
        else {
            bump(&mut self.counters.rx_invalid);
            return None;
        };
        let fcs_ok = if self.caps.hw_fcs {
            rx.fcs_ok.unwrap_or(true)
        } else {
            fcs::verify(rx.psdu)
        };
        if !fcs_ok {
            bump(&mut self.counters.rx_fcs_errors);
            return None;
        }
        let mpdu = rx.psdu.get(..mpdu_len)?;
        let Ok((repr, payload)) = Repr::parse_frame(mpdu) else {
            bump(&mut self.counters.rx_invalid);
            return None;
        };
        let ind = RxIndication {
            repr,
            payload,
            mpdu,
            secured: repr.is_secured(),
            rssi: rx.rssi,
            lqi: rx.lqi,
            timestamp: rx.timestamp,
            channel: rx.channel,
        };
        if repr.frame_type == FrameType::Ack {
            self.on_ack(&repr, rx.timestamp);
            return if self.cfg.promiscuous {
                Some(ind)
            } else {
                None
            };
        }
        if self.cfg.promiscuous {
            bump(&mut self.counters.rx_delivered);
            return Some(ind);
        }
        if !self.accept(&repr) {
            bump(&mut self.counters.rx_filtered);
            return None;
        }
        // ACK first: a duplicate is acknowledged again (its sender missed our last ACK).
        if repr.ack_request
            && !self.caps.hw_auto_ack
            && repr.dst_addr.is_some_and(|a| a.is_unicast())
        {
            self.schedule_ack(&repr, rx.timestamp);
        }
        if let Some(src) = repr.src_addr {
            let ev = &mut self.counters.neighbor_evictions;
            if let Some(s) = neighbor_entry(&mut self.res.neighbors, src, ev) {
                s.record_rx(rx.timestamp, rx.rssi, rx.lqi);
            }
            if let (Some(seq), FrameType::Data | FrameType::MacCommand) =
                (repr.sequence_number, repr.frame_type)
                && self.is_duplicate(src, seq, rx.timestamp)
            {
                bump(&mut self.counters.rx_duplicates);
                return None;
            }
        }
        bump(&mut self.counters.rx_delivered);
        Some(ind)
    }

    fn on_ack(&mut self, repr: &Repr<'_>, ts: Instant) {
        let State::AckWait { deadline } = self.state else {
            return;
        };
        let Some(head) = self.res.queue.front() else {
            return;
        };
        if repr.sequence_number != Some(head.seq) {
            return;
        }
        if ts > deadline {
            bump(&mut self.counters.rx_acks_late);
            return;
        }
        let (len, retries) = (head.psdu.len(), head.retries);
        self.ifs_until = ts + consts::ifs(len);
        self.complete(ts, TxStatus::Success { retries });
    }

    fn schedule_ack(&mut self, repr: &Repr<'_>, ts: Instant) {
        let Some(seq) = repr.sequence_number else {
            return;
        };
        if self.ack != AckState::None {
            bump(&mut self.counters.acks_skipped);
            return;
        }
        // Imm-Ack for 2003/2006 frames; a minimal Enh-Ack (no IEs, no addresses) for 2015.
        let version = if repr.frame_version == FrameVersion::Ieee2015 {
            2u16
        } else {
            0
        };
        let fcw: u16 = 0x0002 | (version << 12);
        let [a, b] = fcw.to_le_bytes();
        let mut psdu = [a, b, seq, 0, 0];
        fcs::append(&mut psdu);
        let at = ts + symbols(consts::TURNAROUND_SYMBOLS);
        // The sender stops listening macAckWaitDuration after its frame: an ACK that could
        // not finish by then is pointless.
        let ack_air = consts::airtime(consts::IMM_ACK_PSDU_LEN).as_micros();
        let latest_us = self.cfg.ack_wait.as_micros().saturating_sub(ack_air);
        let latest = ts + Duration::from_micros(latest_us.max(at.saturating_since(ts).as_micros()));
        self.ack = AckState::Pending { at, latest, psdu };
    }

    fn is_duplicate(&mut self, addr: Address, seq: u8, now: Instant) -> bool {
        let lifetime = self.cfg.duplicate_lifetime;
        if let Some(e) = self.res.dups.iter_mut().find(|e| e.addr == addr) {
            let dup = e.seq == seq && now.saturating_since(e.seen) < lifetime;
            e.seq = seq;
            e.seen = now;
            return dup;
        }
        let entry = DupEntry {
            addr,
            seq,
            seen: now,
        };
        if let Err(entry) = self.res.dups.push(entry) {
            bump(&mut self.counters.dup_table_evictions);
            if let Some(oldest) = self.res.dups.iter_mut().min_by_key(|e| e.seen) {
                *oldest = entry;
            }
        }
        false
    }
}

/// Finds or makes the neighbour entry of `addr`, evicting the least recently heard when full.
fn neighbor_entry<'t, const N: usize>(
    table: &'t mut Vec<(Address, LinkStats), N>,
    addr: Address,
    evictions: &mut u32,
) -> Option<&'t mut LinkStats> {
    let idx = match table.iter().position(|(a, _)| *a == addr) {
        Some(i) => i,
        None => {
            if table.is_full() {
                let victim = table
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, (_, s))| s.last_heard)
                    .map(|(i, _)| i)?;
                bump(evictions);
                table.swap_remove(victim);
            }
            table.push((addr, LinkStats::default())).ok()?;
            table.len().checked_sub(1)?
        }
    };
    table.get_mut(idx).map(|(_, s)| s)
}
