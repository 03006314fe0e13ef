//! The RPL root role on `wpan0` (RFC 6550, issue 22): the border router is the root of a
//! grounded DODAG whose DODAG ID is its mesh address.
//!
//! This module keeps the root's own state — DODAG version, DTSN, counters and events — and
//! the management views of it ([`Root::info`], the topology built from the registry's
//! targets, [`topology_node`]). The targets themselves live in the registration table
//! ([`registry`](crate::registry), "RPL targets").

use core::net::Ipv6Addr;

use heapless::Deque;
use netif::Instant;

use crate::config::Config;
use crate::registry::{Entry, MAX_RPL_DEPTH, Origin};
use crate::wpan::WpanRegistry;

/// Events kept until taken.
pub const ROOT_EVENTS: usize = 8;

/// The DODAG Version Number a root starts with: the start of the lollipop's linear region
/// less 16 (RFC 6550 §7.2 recommends 256 - SEQUENCE_WINDOW = 240).
pub const INITIAL_VERSION: u8 = 240;

/// What the root reports to the operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RootEvent {
    /// A DAO made this address a target.
    TargetAdded(Ipv6Addr),
    /// A No-Path removed this target.
    TargetRemoved(Ipv6Addr),
    /// This target's path lifetime ran out.
    TargetExpired(Ipv6Addr),
    /// A DAO for this target was rejected with this DAO-ACK status.
    DaoRejected(Ipv6Addr, u8),
    /// A new DODAG version (global repair).
    Version(u8),
}

/// The root's counters. All wrap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RootStats {
    /// DIOs sent.
    pub dio_tx: u32,
    /// DIOs received (from other nodes of the DODAG or others).
    pub dio_rx: u32,
    /// DIS received.
    pub dis_rx: u32,
    /// DAOs received.
    pub dao_rx: u32,
    /// DAO-ACKs sent.
    pub dao_ack_tx: u32,
    /// DAO targets rejected (DAO-ACK status ≥ 128).
    pub dao_rejected: u32,
    /// RPL messages dropped: malformed, another instance or DODAG, or the root disabled.
    pub rx_invalid: u32,
    /// Messages not sent for lack of a buffer or a route.
    pub tx_failed: u32,
}

/// The Trickle timer of the DIOs as the operator sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrickleView {
    /// The current interval, milliseconds.
    pub interval_ms: u32,
    /// Consistent DIOs heard in it.
    pub heard: u8,
    /// Until the next DIO, milliseconds (`None`: suppressed in this interval).
    pub next_ms: Option<u32>,
}

/// The root's state.
#[derive(Debug)]
pub struct Root {
    version: u8,
    dtsn: u8,
    stats: RootStats,
    events: Deque<RootEvent, ROOT_EVENTS>,
    events_lost: u64,
}

impl Default for Root {
    fn default() -> Self {
        Self::new()
    }
}

/// A lollipop counter's successor (RFC 6550 §7.2): 255 wraps to 0, the circular region
/// 0..=127 wraps at 127.
pub fn lollipop_next(v: u8) -> u8 {
    match v {
        127 => 0,
        255 => 0,
        v => v.wrapping_add(1),
    }
}

impl Root {
    /// A root that has not started: version [`INITIAL_VERSION`], DTSN 240.
    pub const fn new() -> Self {
        Root {
            version: INITIAL_VERSION,
            dtsn: INITIAL_VERSION,
            stats: RootStats {
                dio_tx: 0,
                dio_rx: 0,
                dis_rx: 0,
                dao_rx: 0,
                dao_ack_tx: 0,
                dao_rejected: 0,
                rx_invalid: 0,
                tx_failed: 0,
            },
            events: Deque::new(),
            events_lost: 0,
        }
    }

    /// The DODAG Version Number.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The DTSN.
    pub fn dtsn(&self) -> u8 {
        self.dtsn
    }

    /// Global repair: a new DODAG version (and DTSN, so every node re-advertises its
    /// targets). Raised as [`RootEvent::Version`].
    pub fn repair(&mut self, _now: Instant) {
        self.version = lollipop_next(self.version);
        self.dtsn = lollipop_next(self.dtsn);
        self.event(RootEvent::Version(self.version));
    }

    /// The DIO timer at `now`.
    pub fn trickle_view(&self, _now: Instant) -> TrickleView {
        TrickleView::default()
    }

    /// Counters.
    pub fn stats(&self) -> RootStats {
        self.stats
    }

    /// Zero the counters.
    pub fn reset_stats(&mut self) {
        self.stats = RootStats::default();
    }

    /// The oldest event not taken yet.
    pub fn pop_event(&mut self) -> Option<RootEvent> {
        self.events.pop_front()
    }

    /// Events dropped because the queue was full.
    pub fn events_lost(&self) -> u64 {
        self.events_lost
    }

    /// A target expired (reported by the registry's sweep).
    pub fn note_expired(&mut self, addr: Ipv6Addr) {
        self.event(RootEvent::TargetExpired(addr));
    }

    fn event(&mut self, e: RootEvent) {
        if self.events.push_back(e).is_err() {
            self.events.pop_front();
            let _ = self.events.push_back(e);
            self.events_lost = self.events_lost.wrapping_add(1);
        }
    }

    /// The root's rank (RFC 6550 §8.2.2.2: ROOT_RANK = MinHopRankIncrease).
    pub fn rank(cfg: &Config) -> u16 {
        cfg.rpl.min_hop_rank_increase
    }
}

/// One node of the DODAG as the operator sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopologyNode {
    /// The node's address.
    pub addr: Ipv6Addr,
    /// Its parent's address (`None`: the root).
    pub parent: Option<Ipv6Addr>,
    /// Hops from the root (`None`: the chain is broken).
    pub depth: Option<u8>,
    /// Path lifetime left, seconds.
    pub lifetime_s: u32,
    /// Learnt in storing mode.
    pub storing: bool,
    /// Registered with 6LoWPAN-ND at the root.
    pub registered: bool,
}

/// `e` (a live target of `reg`) as a topology node at `now`; `None` if it is no target.
pub fn topology_node(reg: &WpanRegistry, e: &Entry, now: Instant) -> Option<TopologyNode> {
    let t = e.target?;
    let parent = t.parent.map(|iid| {
        let mut o = e.addr.octets();
        if let Some(tail) = o.get_mut(8..) {
            tail.copy_from_slice(&iid);
        }
        if t.storing
            && let Some(head) = o.get_mut(..8)
        {
            // The child the DAO came through, by its link-local address.
            head.copy_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0]);
        }
        Ipv6Addr::from(o)
    });
    let depth = if t.storing {
        // Storing mode: the root knows the next hop only.
        None
    } else {
        reg.source_route(&e.addr)
            .map(|r| u8::try_from(r.hops.len().min(MAX_RPL_DEPTH)).unwrap_or(u8::MAX))
    };
    let left = t.expires.saturating_since(now);
    Some(TopologyNode {
        addr: e.addr,
        parent,
        depth,
        lifetime_s: u32::try_from(left.as_secs()).unwrap_or(u32::MAX),
        storing: t.storing,
        registered: e.origin == Origin::Registered,
    })
}
