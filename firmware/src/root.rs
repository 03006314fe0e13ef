//! The RPL root role on `wpan0` (RFC 6550, issue 22): the border router is the root of a
//! grounded DODAG whose DODAG ID is its mesh address.
//!
//! This module keeps the root's own state — DODAG version, DTSN, counters and events — and
//! the management views of it ([`Root::info`], the topology built from the registry's
//! targets, [`topology_node`]). The targets themselves live in the registration table
//! ([`registry`](crate::registry), "RPL targets").

use core::net::Ipv6Addr;

use heapless::Deque;
use netif::stack::IfaceError;
use netif::{HandlerId, IfIndex, Instant, LocalDelivery, Match, Outcome, Stack};

use crate::config::Config;
use crate::registry::{Entry, MAX_RPL_DEPTH, Origin};
use crate::wpan::{Wpan, WpanRegistry};

/// Events kept until taken.
pub const ROOT_EVENTS: usize = 8;

/// The ICMPv6 type of RPL control messages (RFC 6550 §6).
pub const ICMPV6_RPL: u8 = 155;
/// IPv6-in-IPv6 (the tunnels of RFC 9008).
pub const IPV6_IN_IPV6: u8 = 41;
/// All-RPL-nodes (RFC 6550 §20.19), where DIOs and DIS go.
pub const ALL_RPL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x1a);

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
    /// Packets tunnelled to the root (IPv6-in-IPv6, RFC 9008) and decapsulated.
    pub decapsulated: u32,
    /// Tunnelled packets dropped: the root disabled, or a malformed inner header.
    pub decap_dropped: u32,
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
    iface: Option<IfIndex>,
    handlers: Option<(HandlerId, HandlerId)>,
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
            iface: None,
            handlers: None,
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
                decapsulated: 0,
                decap_dropped: 0,
            },
            events: Deque::new(),
            events_lost: 0,
        }
    }

    /// Register the RPL control-message handler and the tunnel endpoint on `wpan0` (`i`),
    /// and join all-RPL-nodes there.
    pub fn attach(&mut self, stack: &mut Stack<'_>, i: IfIndex) -> Result<(), IfaceError> {
        let rpl = stack.register_handler(
            Match::Icmpv6 {
                first: ICMPV6_RPL,
                last: ICMPV6_RPL,
            },
            Some(i),
        )?;
        let tunnel = stack.register_handler(Match::Protocol(IPV6_IN_IPV6), Some(i))?;
        stack.join_group(i, ALL_RPL_NODES)?;
        self.iface = Some(i);
        self.handlers = Some((rpl, tunnel));
        Ok(())
    }

    /// Whether `d` is an RPL control message for the root.
    pub fn owns(&self, d: &LocalDelivery) -> bool {
        self.handlers.is_some_and(|(h, _)| d.handler == h)
    }

    /// Whether `d` is a packet tunnelled to the root.
    pub fn owns_tunnel(&self, d: &LocalDelivery) -> bool {
        self.handlers.is_some_and(|(_, t)| d.handler == t)
    }

    /// A packet tunnelled to the root (IPv6-in-IPv6 from a node of the DODAG, RFC 9008
    /// §7): the outer header and its extension headers go, and the inner packet enters the
    /// core as if received on `wpan0`, so the mesh's ingress rules (source in the mesh
    /// prefix) apply to it. Refused while the root is disabled.
    pub fn decapsulate(
        &mut self,
        stack: &mut Stack<'_>,
        cfg: &Config,
        now: Instant,
        d: LocalDelivery,
    ) -> Option<Outcome> {
        let pool = stack.pool_mut();
        let inner_ok = cfg.rpl.enabled
            && pool
                .data(&d.packet)
                .get(d.upper_offset)
                .is_some_and(|b| b >> 4 == 6)
            && pool.pull_front(&d.packet, d.upper_offset).is_ok();
        if !inner_ok {
            self.stats.decap_dropped = self.stats.decap_dropped.wrapping_add(1);
            pool.free(d.packet);
            return None;
        }
        if let Some(m) = pool.meta_mut(&d.packet) {
            m.wire_len = 0;
        }
        self.stats.decapsulated = self.stats.decapsulated.wrapping_add(1);
        Some(stack.input(now, d.iface, d.packet))
    }

    /// An RPL control message delivered by the core (the packet is freed).
    pub fn handle(
        &mut self,
        stack: &mut Stack<'_>,
        _wpan: &mut Wpan<'_>,
        _cfg: &Config,
        _now: Instant,
        d: LocalDelivery,
    ) {
        self.stats.rx_invalid = self.stats.rx_invalid.wrapping_add(1);
        stack.pool_mut().free(d.packet);
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
