//! A node that is just our soft-MAC over a simulated radio: it sends raw MAC payloads
//! handed to it and keeps what it receives. Traffic generators, sinks and the
//! building block of the smoltcp nodes ([`crate::smol`]).
//!
//! Link-layer security ([`MacPort::enable_security`]): given the mesh's [`NetworkKey`], the
//! port secures every data frame it sends (ENC-MIC-32 under the Thread-derived MAC key of the
//! current key sequence, as the border router does) and opens every frame it receives before
//! passing it up; what `l2_15_4::security::LinkSecurity` refuses (no key, MIC failure, replay,
//! unsecured) is counted there ([`MacPort::security_stats`]) and never passed up. The
//! outgoing frame counter is persisted ahead into the node's [`SecurityFlash`], which the
//! nodes carry across a reboot, so a rebooted node never sends a frame counter twice.

use std::any::Any;
use std::collections::VecDeque;

use aes::Aes128;
use l2_15_4::frame::{AuxSecurityHeader, KeyId, MAX_MPDU_LEN, Security};
use l2_15_4::mac::{
    ConfigError, MacCounters, MacResources, RxIndication, SrcAddrMode, TxReport, TxStatus,
};
use l2_15_4::security::{
    FrameCounter, Inbound, Key, KeyTable, LinkSecurity, ReplayTable, SecurityPolicy, SecurityStats,
};
use l2_15_4::{Address, FrameType, Mac, MacConfig, MacIndication, PanId, Repr, TxRequest};
use netif::time::Instant;

use crate::medium::{RadioId, SimEvent, SimRadio};
use crate::node::SimNode;

/// MAC TX queue capacity of simulated nodes.
pub const NODE_TXQ: usize = 16;
/// Duplicate-filter entries of simulated nodes.
pub const NODE_DUP: usize = 32;
/// Neighbour-table entries of simulated nodes.
pub const NODE_NBR: usize = 32;

/// The soft-MAC type simulated nodes run.
pub type NodeMac = Mac<NODE_TXQ, NODE_DUP, NODE_NBR>;
/// Replay-table entries of a simulated node's link security: two keys (during a rotation)
/// for each of [`NODE_NBR`] neighbours.
pub const NODE_REPLAY: usize = 2 * NODE_NBR;

/// The link-layer security simulated nodes run: software AES.
pub type NodeSecurity = LinkSecurity<Aes128, NODE_REPLAY>;

/// A mesh's 128-bit network key (the MAC keys are derived from it per key sequence). Its
/// `Debug` does not show the bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NetworkKey(pub [u8; 16]);

impl std::fmt::Debug for NetworkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetworkKey(..)")
    }
}

impl From<[u8; 16]> for NetworkKey {
    fn from(k: [u8; 16]) -> Self {
        NetworkKey(k)
    }
}

/// What a node's flash holds of its link security: the (key sequence, frame counter) last
/// persisted. It survives reboots ([`MacNode`] and the smoltcp nodes hand it to the port they
/// boot); writes are immediate and always succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SecurityFlash {
    /// The last write; `None` on a node that never ran with security.
    pub stored: Option<(u32, u32)>,
    /// Writes so far.
    pub writes: u64,
}

/// The EUI-64 of simulated node `index`: locally administered, `02:53:47:00:00:00:hi:lo`
/// (never an all-zero interface identifier, which would be the subnet-router anycast
/// address).
pub fn eui64(index: u16) -> [u8; 8] {
    let [hi, lo] = index.to_be_bytes();
    [0x02, 0x53, 0x47, 0, 0, 0, hi, lo]
}

/// A frame a [`MacNode`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Source address.
    pub src: Option<Address>,
    /// Destination address.
    pub dst: Option<Address>,
    /// MAC payload.
    pub payload: Vec<u8>,
    /// End of reception.
    pub timestamp: Instant,
    /// RSSI, dBm.
    pub rssi: i8,
    /// LQI.
    pub lqi: u8,
}

/// A frame waiting for room in the MAC queue.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outgoing {
    dst: Address,
    dst_pan: Option<PanId>,
    src: SrcAddrMode,
    payload: Vec<u8>,
}

/// Counters of the part above the MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MacNodeCounters {
    /// Frames handed to [`MacPort::send`].
    pub submitted: u64,
    /// Frames the MAC refused (too long, bad addressing).
    pub refused: u64,
    /// Frames reported [`TxStatus::Success`].
    pub tx_success: u64,
    /// Frames reported [`TxStatus::NoAck`].
    pub tx_no_ack: u64,
    /// Frames reported [`TxStatus::ChannelAccessFailure`].
    pub tx_channel_access_failure: u64,
    /// Frames with any other final status.
    pub tx_other_failure: u64,
    /// Frames dropped because the backlog was full.
    pub backlog_full: u64,
    /// Frames dropped unsent because link security had no frame counter for them (also
    /// counted as `tx_no_counter` in [`MacPort::security_stats`]).
    pub unsecured_dropped: u64,
}

/// A port's link security and the flash its frame counter is persisted in.
#[derive(Debug)]
struct PortSecurity {
    link: NodeSecurity,
    flash: SecurityFlash,
}

impl PortSecurity {
    /// Boots from `flash`: the stored key sequence, the counter resumed a persist step past
    /// the stored one; a node whose flash is empty starts at sequence 0, counter 0, and
    /// writes that at once (a reboot before its first due write must not start at 0 again).
    fn boot(key: NetworkKey, flash: SecurityFlash) -> Self {
        let policy = SecurityPolicy::DEFAULT;
        let (sequence, counter) = match flash.stored {
            Some((seq, c)) => (seq, FrameCounter::resume(c, policy.persist_step)),
            None => (0, FrameCounter::restart(policy.persist_step)),
        };
        let mut s = PortSecurity {
            link: LinkSecurity::new(
                KeyTable::new(Key::new(key.0), sequence),
                counter,
                ReplayTable::new(),
                policy,
            ),
            flash,
        };
        if flash.stored.is_none() {
            s.write(0, 0);
        }
        s.persist();
        s
    }

    fn write(&mut self, sequence: u32, counter: u32) {
        self.flash.stored = Some((sequence, counter));
        self.flash.writes += 1;
    }

    /// Writes what link security asks to persist and confirms it. Two rounds at most: a
    /// rotation (the new sequence), then its restarted counter has nothing due.
    fn persist(&mut self) {
        for _ in 0..2 {
            let Some((sequence, counter)) = self.link.needs_persist() else {
                return;
            };
            self.write(sequence, counter);
            self.link.persisted(sequence, counter);
        }
    }

    /// MAC header, auxiliary security header and MIC of a secured data frame to `dst`.
    fn overhead(&self, cfg: &MacConfig, dst: Address, dst_pan: Option<PanId>) -> Option<usize> {
        let level = self.link.policy().level;
        let mut repr = Repr::new(
            FrameType::Data,
            cfg.frame_version,
            Some(0),
            Some((dst_pan.unwrap_or(cfg.pan_id), dst)),
            Some((cfg.pan_id, Address::Extended(cfg.extended_address))),
        )
        .ok()?;
        repr.security = Some(Security::Aux(AuxSecurityHeader {
            level,
            key_id: KeyId::Index(self.link.key_index()),
            frame_counter: Some(0),
            asn_in_nonce: false,
        }));
        Some(repr.buffer_len() + level.mic_len())
    }
}

/// A received frame opened by link security, rebuilt unsecured: the header without the
/// auxiliary security header, then the plaintext payload (the MIC gone).
struct Opened {
    mpdu: [u8; MAX_MPDU_LEN],
    len: usize,
}

impl Opened {
    /// Checks `ind`'s frame with `sec`; `None` when refused (counted by `sec`).
    fn open(sec: &mut NodeSecurity, ind: &RxIndication<'_>) -> Option<Opened> {
        let mut copy = [0u8; MAX_MPDU_LEN];
        let n = ind.mpdu.len();
        copy.get_mut(..n)?.copy_from_slice(ind.mpdu);
        let frame = copy.get_mut(..n)?;
        let mut out = Opened {
            mpdu: [0u8; MAX_MPDU_LEN],
            len: 0,
        };
        match sec.receive(frame, None).ok()? {
            Inbound::Clear => {
                out.mpdu.get_mut(..n)?.copy_from_slice(ind.mpdu);
                out.len = n;
            }
            Inbound::Secured(r) => {
                let mut repr = ind.repr;
                repr.security = None;
                let h = repr.emit_bytes(&mut out.mpdu).ok()?;
                let plain = frame.get(r.payload)?;
                let len = h.checked_add(plain.len())?;
                out.mpdu.get_mut(h..len)?.copy_from_slice(plain);
                out.len = len;
            }
        }
        Some(out)
    }

    /// The indication of the opened frame (reception details from `ind`).
    fn indication(&self, ind: &RxIndication<'_>) -> Option<RxIndication<'_>> {
        let mpdu = self.mpdu.get(..self.len)?;
        let (repr, payload) = Repr::parse_frame(mpdu).ok()?;
        Some(RxIndication {
            repr,
            payload,
            mpdu,
            secured: false,
            ..*ind
        })
    }
}

/// Our soft-MAC plus an unbounded-by-type (but capped) backlog in front of its queue.
#[derive(Debug)]
pub struct MacPort {
    mac: NodeMac,
    backlog: VecDeque<Outgoing>,
    backlog_cap: usize,
    counters: MacNodeCounters,
    reports: Vec<TxReport>,
    keep_reports: bool,
    security: Option<PortSecurity>,
}

impl MacPort {
    /// Creates the MAC (programming the radio) with a backlog of `backlog_cap` frames.
    pub fn new(
        cfg: MacConfig,
        backlog_cap: usize,
        radio: &mut SimRadio<'_>,
    ) -> Result<Self, ConfigError> {
        Ok(MacPort {
            mac: Mac::new(cfg, MacResources::new(), radio)?,
            backlog: VecDeque::new(),
            backlog_cap,
            counters: MacNodeCounters::default(),
            reports: Vec::new(),
            keep_reports: false,
            security: None,
        })
    }

    /// Turns link-layer security on under `key`, resuming from what `flash` holds (see
    /// [`SecurityFlash`]): from now on every data frame is sent secured (from the node's
    /// extended address, which the receiver needs for the nonce) and only frames that pass
    /// security are passed up.
    pub fn enable_security(&mut self, key: NetworkKey, flash: SecurityFlash) {
        self.security = Some(PortSecurity::boot(key, flash));
    }

    /// Link security, if on (key sequence, next frame counter, replay table occupancy).
    pub fn security(&self) -> Option<&NodeSecurity> {
        self.security.as_ref().map(|s| &s.link)
    }

    /// Link security's counters (frames secured, refusals by reason), if on.
    pub fn security_stats(&self) -> Option<SecurityStats> {
        self.security.as_ref().map(|s| *s.link.stats())
    }

    /// The flash link security persists into, if on: what a reboot resumes from.
    pub fn security_flash(&self) -> Option<SecurityFlash> {
        self.security.as_ref().map(|s| s.flash)
    }

    /// Link security, mutably (e.g. to start a rotation: it is persisted, and takes effect,
    /// before the next frame goes out).
    pub fn security_mut(&mut self) -> Option<&mut NodeSecurity> {
        self.security.as_mut().map(|s| &mut s.link)
    }

    /// The largest MAC payload of a data frame to `dst`: [`MAX_MPDU_LEN`] less the header,
    /// and with security on the auxiliary security header and the MIC. `None` for an
    /// address/PAN combination the MAC cannot frame.
    pub fn max_payload(&self, dst: Address, dst_pan: Option<PanId>) -> Option<usize> {
        let cfg = self.mac.config();
        let over = match &self.security {
            Some(s) => s.overhead(cfg, dst, dst_pan)?,
            None => Repr::new(
                FrameType::Data,
                cfg.frame_version,
                Some(0),
                Some((dst_pan.unwrap_or(cfg.pan_id), dst)),
                Some((cfg.pan_id, Address::Extended(cfg.extended_address))),
            )
            .ok()?
            .buffer_len(),
        };
        MAX_MPDU_LEN.checked_sub(over)
    }

    /// Keeps every [`TxReport`] for inspection ([`MacPort::reports`]).
    pub fn keep_reports(&mut self, on: bool) {
        self.keep_reports = on;
    }

    /// The MAC.
    pub fn mac(&self) -> &NodeMac {
        &self.mac
    }

    /// Counters above the MAC.
    pub fn counters(&self) -> &MacNodeCounters {
        &self.counters
    }

    /// The MAC's counters.
    pub fn mac_counters(&self) -> &MacCounters {
        self.mac.counters()
    }

    /// TX reports kept so far.
    pub fn reports(&self) -> &[TxReport] {
        &self.reports
    }

    /// Takes the [`TxReport`]s kept so far (see [`MacPort::keep_reports`]).
    pub fn take_reports(&mut self) -> Vec<TxReport> {
        std::mem::take(&mut self.reports)
    }

    /// Whether another frame fits the backlog.
    pub fn has_room(&self) -> bool {
        self.backlog.len() < self.backlog_cap
    }

    /// Frames waiting (backlog plus MAC queue).
    pub fn queued(&self) -> usize {
        self.backlog.len() + self.mac.queue_len()
    }

    /// Queues a data frame; `false` (and counted) when the backlog is full.
    pub fn send(
        &mut self,
        dst: Address,
        dst_pan: Option<PanId>,
        src: SrcAddrMode,
        payload: &[u8],
    ) -> bool {
        self.counters.submitted += 1;
        if !self.has_room() {
            self.counters.backlog_full += 1;
            return false;
        }
        self.backlog.push_back(Outgoing {
            dst,
            dst_pan,
            src,
            payload: payload.to_vec(),
        });
        true
    }

    fn feed(&mut self) {
        let MacPort {
            mac,
            backlog,
            counters,
            security,
            ..
        } = self;
        while mac.queue_len() < NODE_TXQ {
            let Some(o) = backlog.pop_front() else {
                break;
            };
            let (security, src) = match security.as_mut() {
                None => (None, o.src),
                Some(s) => {
                    s.persist();
                    let Some(tx) = s.link.tx() else {
                        // Never in the clear.
                        counters.unsecured_dropped += 1;
                        continue;
                    };
                    // The receiver takes the nonce's EUI-64 from the frame: no table here
                    // maps short addresses to EUI-64s.
                    (Some(tx), SrcAddrMode::Extended)
                }
            };
            let req = TxRequest {
                dst: o.dst,
                dst_pan: o.dst_pan,
                src,
                frame_type: FrameType::Data,
                payload: &o.payload,
                security,
            };
            if mac.enqueue(&req).is_err() {
                counters.refused += 1;
            }
        }
        if let Some(s) = security {
            s.persist();
        }
    }

    fn drain_reports(&mut self) {
        while let Some(r) = self.mac.pop_tx_report() {
            match r.status {
                TxStatus::Success { .. } => self.counters.tx_success += 1,
                TxStatus::NoAck => self.counters.tx_no_ack += 1,
                TxStatus::ChannelAccessFailure => self.counters.tx_channel_access_failure += 1,
                _ => self.counters.tx_other_failure += 1,
            }
            if self.keep_reports {
                self.reports.push(r);
            }
        }
    }

    /// Moves backlog into the MAC and runs its timers.
    pub fn poll(&mut self, now: Instant, radio: &mut SimRadio<'_>) {
        self.feed();
        self.mac.poll(now, radio);
        self.drain_reports();
        self.feed();
        self.mac.poll(now, radio);
    }

    /// Feeds a radio event; calls `up` with any frame the MAC delivers (zero-copy).
    pub fn on_event(
        &mut self,
        now: Instant,
        ev: &SimEvent,
        radio: &mut SimRadio<'_>,
        up: impl FnOnce(&l2_15_4::mac::RxIndication<'_>),
    ) {
        if let Some(MacIndication::Frame(ind)) =
            self.mac.handle_event(now, ev.as_radio_event(), radio)
        {
            match &mut self.security {
                None => up(&ind),
                Some(s) => {
                    let opened = Opened::open(&mut s.link, &ind);
                    if let Some(clear) = opened.as_ref().and_then(|o| o.indication(&ind)) {
                        up(&clear);
                    }
                    // A frame under the next key starts a rotation, persisted here.
                    s.persist();
                }
            }
        }
        self.drain_reports();
        self.feed();
    }

    /// When [`MacPort::poll`] is due.
    pub fn next_wake(&self, now: Instant) -> Option<Instant> {
        let mut d = self.mac.next_deadline();
        if !self.backlog.is_empty() && self.mac.queue_len() < NODE_TXQ {
            d = Some(d.map_or(now, |x| x.min(now)));
        }
        d
    }
}

/// Configuration of a [`MacNode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacNodeConfig {
    /// MAC parameters.
    pub mac: MacConfig,
    /// Frames the backlog in front of the MAC queue holds.
    pub backlog: usize,
    /// Received frames kept ([`MacNode::received`]); older ones are dropped (and counted).
    pub keep_received: usize,
}

/// A raw MAC node: [`MacNode::send`] payloads, read [`MacNode::received`].
#[derive(Debug)]
pub struct MacNode {
    radio: RadioId,
    cfg: MacNodeConfig,
    port: MacPort,
    received: VecDeque<Delivery>,
    received_total: u64,
    received_dropped: u64,
    now: Instant,
    reboots: u32,
    /// The network key, kept across reboots (see [`MacNode::secured`]).
    network_key: Option<NetworkKey>,
}

impl MacNode {
    /// Creates the node on `radio`.
    pub fn new(
        radio: RadioId,
        cfg: MacNodeConfig,
        r: &mut SimRadio<'_>,
    ) -> Result<Self, ConfigError> {
        Ok(MacNode {
            radio,
            cfg,
            port: MacPort::new(cfg.mac, cfg.backlog, r)?,
            received: VecDeque::new(),
            received_total: 0,
            received_dropped: 0,
            now: Instant::ZERO,
            reboots: 0,
            network_key: None,
        })
    }

    /// The node with link-layer security under `key` (`None`: unchanged), from a blank
    /// flash; it keeps the key and its flash across reboots.
    pub fn secured(mut self, key: Option<NetworkKey>) -> Self {
        if let Some(k) = key {
            self.port.enable_security(k, SecurityFlash::default());
            self.network_key = Some(k);
        }
        self
    }

    /// Queues `payload` for `dst` in our PAN, from the node's preferred source address.
    pub fn send(&mut self, dst: Address, payload: &[u8]) -> bool {
        self.port.send(dst, None, SrcAddrMode::Short, payload)
    }

    /// The MAC port.
    pub fn port(&self) -> &MacPort {
        &self.port
    }

    /// The MAC port, mutably.
    pub fn port_mut(&mut self) -> &mut MacPort {
        &mut self.port
    }

    /// Frames received and kept.
    pub fn received(&self) -> impl Iterator<Item = &Delivery> {
        self.received.iter()
    }

    /// Frames received in total, and those dropped from the kept list.
    pub fn received_counts(&self) -> (u64, u64) {
        (self.received_total, self.received_dropped)
    }

    /// Reboots so far.
    pub fn reboots(&self) -> u32 {
        self.reboots
    }
}

impl SimNode for MacNode {
    fn radio_id(&self) -> RadioId {
        self.radio
    }

    fn on_radio_event(&mut self, now: Instant, ev: &SimEvent, radio: &mut SimRadio<'_>) {
        self.now = now;
        let keep = self.cfg.keep_received;
        let received = &mut self.received;
        let (total, dropped) = (&mut self.received_total, &mut self.received_dropped);
        self.port.on_event(now, ev, radio, |ind| {
            *total += 1;
            if received.len() >= keep {
                received.pop_front();
                *dropped += 1;
            }
            if keep > 0 {
                received.push_back(Delivery {
                    src: ind.repr.src_addr,
                    dst: ind.repr.dst_addr,
                    payload: ind.payload.to_vec(),
                    timestamp: ind.timestamp,
                    rssi: ind.rssi,
                    lqi: ind.lqi,
                });
            }
        });
    }

    fn poll(&mut self, now: Instant, radio: &mut SimRadio<'_>) {
        self.now = now;
        self.port.poll(now, radio);
    }

    fn next_wake(&self) -> Option<Instant> {
        self.port.next_wake(self.now)
    }

    fn reboot(&mut self, now: Instant, radio: &mut SimRadio<'_>) {
        self.now = now;
        let mut cfg = self.cfg.mac;
        self.reboots += 1;
        cfg.seed = cfg.seed.wrapping_add(self.reboots);
        let flash = self.port.security_flash().unwrap_or_default();
        // The configuration was accepted once; it is accepted again.
        if let Ok(mut p) = MacPort::new(cfg, self.cfg.backlog, radio) {
            if let Some(k) = self.network_key {
                p.enable_security(k, flash);
            }
            self.port = p;
        }
        self.received.clear();
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
