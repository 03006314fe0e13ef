//! A node that is just our soft-MAC over a simulated radio: it sends raw MAC payloads
//! handed to it and keeps what it receives. Traffic generators, sinks and the
//! building block of the smoltcp nodes ([`crate::smol`]).

use std::any::Any;
use std::collections::VecDeque;

use l2_15_4::mac::{ConfigError, MacCounters, MacResources, SrcAddrMode, TxReport, TxStatus};
use l2_15_4::{Address, FrameType, Mac, MacConfig, MacIndication, PanId, TxRequest};
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
        })
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
        while self.mac.queue_len() < NODE_TXQ {
            let Some(o) = self.backlog.pop_front() else {
                break;
            };
            let req = TxRequest {
                dst: o.dst,
                dst_pan: o.dst_pan,
                src: o.src,
                frame_type: FrameType::Data,
                payload: &o.payload,
                security: None,
            };
            if self.mac.enqueue(&req).is_err() {
                self.counters.refused += 1;
            }
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
            up(&ind);
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
        })
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
        // The configuration was accepted once; it is accepted again.
        if let Ok(p) = MacPort::new(cfg, self.cfg.backlog, radio) {
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
