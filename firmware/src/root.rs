//! The RPL root role on `wpan0` (RFC 6550, issue 22): the border router is the root of a
//! grounded DODAG whose DODAG ID is its mesh address.
//!
//! - **DIOs** on a Trickle timer (RFC 6206; Imin, doublings and k from the configuration) to
//!   all-RPL-nodes: instance, version, rank (= MinHopRankIncrease), G=1, the configured MOP,
//!   DTSN, DODAG ID, a DODAG Configuration option and a Prefix Information option for the
//!   mesh prefix (A=1, L=0, R=1 with our address). A consistent DIO heard counts toward k.
//! - **DIS**: multicast resets the Trickle timer (RFC 6550 §8.3); unicast is answered with a
//!   unicast DIO to its source. A Solicited Information option whose predicates do not match
//!   this DODAG is ignored.
//! - **DAO** (instance and DODAG ID must be ours): each group of Target options followed by
//!   Transit Information options goes to the registry ([`Registry::dao`](crate::registry));
//!   a Transit with a parent address is non-storing (MOP 1), one without is a storing-mode
//!   DAO (MOP 2) whose child is the frame's link-layer source. Both are accepted whatever the
//!   configured MOP: RIOT's routers send storing-style DAOs in either. Targets must be /128
//!   addresses in the mesh prefix. With K set, a DAO-ACK goes back to the DAO's source with
//!   the worst status: 0, or a rejection (≥ 128, RFC 9010's E|A bits with the ND status:
//!   0xc2 table full, 0xc8 outside the prefix, 0x80 a cycle, too deep or a bad parent) —
//!   never a silent drop.
//!
//! It also keeps the root's own state — DODAG version, DTSN, counters and events — and the
//! management views of it (the topology built from the registry's targets,
//! [`topology_node`]). The targets themselves live in the registration table
//! ([`registry`](crate::registry), "RPL targets").

use core::net::Ipv6Addr;

use heapless::{Deque, Vec};
use l2_15_4::Address;
use netif::icmp;
use netif::stack::IfaceError;
use netif::{
    Duration, HandlerId, IfIndex, Instant, LinkAddr, LocalDelivery, Match, Outcome, Stack,
};
use rpl::message::{self, DaoAck, Dio, Message, Mop, Out};
use rpl::option::{DodagConfiguration, Opt, Options, PrefixInformation};
use rpl::trickle::{Fire, Trickle};

use crate::config::{Config, RplMop};
use crate::registry::{Dao, DaoOutcome, Entry, MAX_RPL_DEPTH, Origin};
use crate::wpan::{Wpan, WpanRegistry, derive_link};

/// Unicast DIOs waiting to answer a DIS.
pub const PENDING_DIOS: usize = 4;
/// Targets one Transit Information option may apply to (RFC 6550 §6.7.8: the Targets that
/// precede it); more in one group are refused as malformed.
pub const TARGETS_PER_TRANSIT: usize = 8;

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
    /// The DIO timer, built from the configuration when the root starts.
    trickle: Option<Trickle>,
    pending: Deque<Ipv6Addr, PENDING_DIOS>,
    rng: u32,
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
            trickle: None,
            pending: Deque::new(),
            rng: 0x2545_f491,
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
    /// prefix) apply to it. Refused (freed, `decap_dropped`) while the root is disabled, when
    /// the encapsulator (the outer source) is no live target of the DODAG in `reg` (only its
    /// routers tunnel to the root, and each advertises itself), or when the inner packet is
    /// no whole IPv6 packet ([`leave_tunnel`]).
    pub fn decapsulate(
        &mut self,
        stack: &mut Stack<'_>,
        reg: &WpanRegistry,
        cfg: &Config,
        now: Instant,
        d: LocalDelivery,
    ) -> Option<Outcome> {
        let encapsulator = stack.pool().data(&d.packet).get(8..24).and_then(addr16);
        let member = encapsulator
            .and_then(|a| reg.lookup(&a))
            .is_some_and(|e| e.target.is_some());
        if !cfg.rpl.enabled || !member {
            self.stats.decap_dropped = self.stats.decap_dropped.wrapping_add(1);
            stack.pool_mut().free(d.packet);
            return None;
        }
        let out = leave_tunnel(stack, now, d);
        let c = match out {
            Some(_) => &mut self.stats.decapsulated,
            None => &mut self.stats.decap_dropped,
        };
        *c = c.wrapping_add(1);
        out
    }

    /// Seeds the random numbers of the Trickle timer (e.g. from the EUI-64).
    pub fn seed(&mut self, seed: u32) {
        self.rng = seed | 1;
    }

    fn rand(&mut self) -> u32 {
        crate::lbr::xorshift32(&mut self.rng)
    }

    /// Forget the DIO timer: the next [`poll`](Self::poll) starts it again from the
    /// configuration (after a settings change).
    pub fn reconfigure(&mut self) {
        self.trickle = None;
    }

    /// An RPL control message delivered by the core (the packet is freed).
    pub fn handle(
        &mut self,
        stack: &mut Stack<'_>,
        wpan: &mut Wpan<'_>,
        cfg: &Config,
        now: Instant,
        d: LocalDelivery,
    ) {
        let mut ack: Option<(Ipv6Addr, DaoAck)> = None;
        {
            let data = stack.pool().data(&d.packet);
            let meta = stack.pool().meta(&d.packet);
            let (Some(src), Some(dst), Some(icmp)) = (
                data.get(8..24).and_then(addr16),
                data.get(24..40).and_then(addr16),
                data.get(d.upper_offset..),
            ) else {
                self.invalid();
                stack.pool_mut().free(d.packet);
                return;
            };
            if !cfg.rpl.enabled || !message::verify_checksum(&src, &dst, icmp) {
                self.invalid();
                stack.pool_mut().free(d.packet);
                return;
            }
            let ours = mesh_address(cfg);
            match Message::parse(icmp) {
                Ok(Message::Dis(opts)) => {
                    self.stats.dis_rx = self.stats.dis_rx.wrapping_add(1);
                    if self.solicits_us(cfg, opts) {
                        if dst.is_multicast() {
                            let r = self.rand();
                            if let Some(t) = self.trickle.as_mut() {
                                t.hear_inconsistent(ms(now), r);
                            }
                        } else if self.pending.push_back(src).is_err() {
                            self.stats.tx_failed = self.stats.tx_failed.wrapping_add(1);
                        }
                    }
                }
                Ok(Message::Dio(dio, _)) => {
                    self.stats.dio_rx = self.stats.dio_rx.wrapping_add(1);
                    if dio.instance_id == cfg.rpl.instance_id && dio.dodag_id == ours {
                        if dio.version == self.version {
                            if let Some(t) = self.trickle.as_mut() {
                                t.hear_consistent();
                            }
                        } else if rpl::lollipop::compare(dio.version, self.version)
                            == Some(core::cmp::Ordering::Greater)
                        {
                            // A node advertises our DODAG with a version newer than ours: we
                            // rebooted after global repairs (the lollipop's start, 240, is
                            // older than 241..=255). Continue above it so the DODAG follows
                            // us again, as RFC 6550 §7.2 expects of the counter's owner.
                            self.version = dio.version;
                            self.repair(now);
                        }
                    }
                }
                Ok(Message::Dao(dao, opts)) => {
                    self.stats.dao_rx = self.stats.dao_rx.wrapping_add(1);
                    if dao.instance_id != cfg.rpl.instance_id
                        || dao.dodag_id.is_some_and(|id| id != ours)
                    {
                        self.invalid();
                    } else {
                        let child = Address::try_from(meta.ll_src)
                            .ok()
                            .unwrap_or_else(|| derive_link(&src));
                        match self.dao(wpan, cfg, now, ours, child, opts) {
                            Some(status) if dao.ack_requested => {
                                ack = Some((
                                    src,
                                    DaoAck {
                                        instance_id: dao.instance_id,
                                        sequence: dao.sequence,
                                        status,
                                        dodag_id: dao.dodag_id,
                                    },
                                ));
                            }
                            Some(_) => {}
                            None => self.invalid(),
                        }
                    }
                }
                // The root sends DAO-ACKs, it does not expect them; anything else is not ours.
                Ok(Message::DaoAck(..) | Message::Other(..)) | Err(_) => self.invalid(),
            }
        }
        stack.pool_mut().free(d.packet);
        if let Some((to, a)) = ack {
            if a.status >= message::STATUS_REJECTED {
                self.stats.dao_rejected = self.stats.dao_rejected.wrapping_add(1);
            }
            if self.send(stack, now, to, &Out::DaoAck(a), &[]) {
                self.stats.dao_ack_tx = self.stats.dao_ack_tx.wrapping_add(1);
            }
        }
    }

    fn invalid(&mut self) {
        self.stats.rx_invalid = self.stats.rx_invalid.wrapping_add(1);
    }

    /// Whether a DIS's Solicited Information (if any) asks for this DODAG.
    fn solicits_us(&self, cfg: &Config, opts: Options<'_>) -> bool {
        for o in opts {
            match o {
                Ok(Opt::Solicited(s)) => {
                    return (!s.instance_predicate || s.instance_id == cfg.rpl.instance_id)
                        && (!s.dodag_id_predicate || s.dodag_id == mesh_address(cfg))
                        && (!s.version_predicate || s.version == self.version);
                }
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// The targets of one DAO: the DAO-ACK status, `None` when the DAO is malformed.
    fn dao(
        &mut self,
        wpan: &mut Wpan<'_>,
        cfg: &Config,
        now: Instant,
        ours: Ipv6Addr,
        child: Address,
        opts: Options<'_>,
    ) -> Option<u8> {
        let mut status = message::STATUS_ACCEPTED;
        let mut group: Vec<Ipv6Addr, TARGETS_PER_TRANSIT> = Vec::new();
        let mut transit_seen = false;
        let prefix = cfg.mesh_prefix;
        for o in opts {
            match o.ok()? {
                Opt::Target(t) => {
                    if transit_seen {
                        // A Target after Transit options starts the next group.
                        group.clear();
                        transit_seen = false;
                    }
                    let in_prefix =
                        t.prefix_len == 128 && t.prefix.octets().get(..8) == Some(&prefix[..]);
                    // Our own address is no target: only a router that took us for one of
                    // its hosts would claim it.
                    if !in_prefix || t.prefix == ours {
                        status = status.max(message::STATUS_TOPOLOGICALLY_INCORRECT);
                        self.event(RootEvent::DaoRejected(
                            t.prefix,
                            message::STATUS_TOPOLOGICALLY_INCORRECT,
                        ));
                        continue;
                    }
                    group.push(t.prefix).ok()?;
                }
                Opt::Transit(tr) => {
                    transit_seen = true;
                    let lifetime = match tr.path_lifetime {
                        // Infinite: as long as a path can last here.
                        0xff => Duration::from_secs(u64::from(u32::MAX)),
                        l => Duration::from_secs(u64::from(message::lifetime_secs(
                            l,
                            cfg.rpl.lifetime_unit_s,
                        ))),
                    };
                    for &target in &group {
                        let had = wpan
                            .registry()
                            .lookup(&target)
                            .is_some_and(|e| e.target.is_some());
                        let outcome = wpan.registry_mut().dao(
                            now,
                            &Dao {
                                target,
                                parent: tr.parent,
                                child: tr.parent.is_none().then_some(child),
                                path_seq: tr.path_sequence,
                                lifetime,
                                root: ours,
                                max_depth: usize::from(cfg.rpl.max_depth),
                                external: tr.external,
                            },
                        );
                        let s = match outcome {
                            DaoOutcome::Added => {
                                self.event(RootEvent::TargetAdded(target));
                                message::STATUS_ACCEPTED
                            }
                            DaoOutcome::Removed => {
                                if had {
                                    self.event(RootEvent::TargetRemoved(target));
                                }
                                message::STATUS_ACCEPTED
                            }
                            DaoOutcome::Refreshed | DaoOutcome::Stale => message::STATUS_ACCEPTED,
                            DaoOutcome::Full => message::STATUS_TABLE_FULL,
                            DaoOutcome::Cycle | DaoOutcome::TooDeep | DaoOutcome::BadParent => {
                                message::STATUS_REJECTED
                            }
                        };
                        if s >= message::STATUS_REJECTED {
                            self.event(RootEvent::DaoRejected(target, s));
                        }
                        status = status.max(s);
                    }
                }
                _ => {}
            }
        }
        // Targets with no Transit Information after them: malformed (RFC 6550 §9.4).
        if !transit_seen && !group.is_empty() {
            return None;
        }
        Some(status)
    }

    /// Start the DIO timer once the root runs; send the DIOs that are due. Call whenever
    /// [`next_deadline`](Self::next_deadline) passes.
    pub fn poll(&mut self, stack: &mut Stack<'_>, cfg: &Config, now: Instant) {
        if !cfg.rpl.enabled {
            self.trickle = None;
            self.pending.clear();
            return;
        }
        if self.trickle.is_none() {
            let imin = 1u32 << cfg.rpl.dio_interval_min.min(31);
            let mut t = Trickle::new(imin, cfg.rpl.dio_interval_doublings, cfg.rpl.dio_redundancy);
            let r = self.rand();
            t.start(ms(now), r);
            self.trickle = Some(t);
        }
        while let Some(to) = self.pending.pop_front() {
            self.send_dio(stack, cfg, now, to);
        }
        let r = self.rand();
        if let Some(t) = self.trickle.as_mut()
            && t.poll(ms(now), r) == Fire::Transmit
        {
            self.send_dio(stack, cfg, now, ALL_RPL_NODES);
        }
    }

    /// When [`poll`](Self::poll) has work next.
    pub fn next_deadline(&self) -> Option<Instant> {
        if !self.pending.is_empty() {
            return Some(Instant::ZERO);
        }
        self.trickle
            .and_then(|t| t.next_deadline())
            .map(Instant::from_millis)
    }

    fn send_dio(&mut self, stack: &mut Stack<'_>, cfg: &Config, now: Instant, to: Ipv6Addr) {
        let r = &cfg.rpl;
        let dio = Dio {
            instance_id: r.instance_id,
            version: self.version,
            rank: r.min_hop_rank_increase,
            grounded: true,
            mop: match r.mop {
                RplMop::NonStoring => Mop::NonStoring,
                RplMop::Storing => Mop::Storing,
            },
            preference: 0,
            dtsn: self.dtsn,
            dodag_id: mesh_address(cfg),
        };
        let conf = DodagConfiguration {
            rfc8138: r.rfc8138,
            authentication: false,
            path_control_size: 0,
            dio_interval_doublings: r.dio_interval_doublings,
            dio_interval_min: r.dio_interval_min,
            dio_redundancy: r.dio_redundancy,
            // RFC 6550 §17: DEFAULT_MAX_RANK_INCREASE is 3 × MinHopRankIncrease.
            max_rank_increase: r.min_hop_rank_increase.saturating_mul(3),
            min_hop_rank_increase: r.min_hop_rank_increase,
            ocp: r.objective.ocp(),
            default_lifetime: r.default_lifetime,
            lifetime_unit: r.lifetime_unit_s,
        };
        let pio = PrefixInformation {
            prefix_len: crate::config::MESH_PREFIX_LEN,
            on_link: false,
            autonomous: true,
            router_address: true,
            valid_lifetime: cfg.ra.prefix_valid_s,
            preferred_lifetime: cfg.ra.prefix_preferred_s,
            prefix: mesh_address(cfg),
        };
        let opts = [Opt::DodagConfiguration(conf), Opt::PrefixInformation(pio)];
        if self.send(stack, now, to, &Out::Dio(dio), &opts) {
            self.stats.dio_tx = self.stats.dio_tx.wrapping_add(1);
        }
    }

    /// Sends an RPL message from our link-local address (to a link-local or multicast
    /// destination) or our mesh address (to a global one).
    fn send(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        to: Ipv6Addr,
        m: &Out,
        opts: &[Opt<'_>],
    ) -> bool {
        let Some(i) = self.iface else { return false };
        let src = if to.is_multicast() || to.is_unicast_link_local() {
            stack.iface(i).and_then(|x| x.link_local())
        } else {
            stack.iface(i).and_then(|x| {
                x.addrs()
                    .iter()
                    .map(|a| a.addr)
                    .find(|a| !a.is_unicast_link_local())
            })
        };
        let Some(src) = src else {
            self.stats.tx_failed = self.stats.tx_failed.wrapping_add(1);
            return false;
        };
        let max = m.fixed_len() + opts.iter().map(Opt::buffer_len).sum::<usize>();
        let mut write = |b: &mut [u8]| message::emit(m, opts, b).ok();
        let sent = send_icmp(stack, now, i, &src, &to, to, 255, max, &mut write);
        if !sent {
            self.stats.tx_failed = self.stats.tx_failed.wrapping_add(1);
        }
        sent
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
    /// targets), announced at once (the DIO timer goes back to Imin). Raised as
    /// [`RootEvent::Version`].
    pub fn repair(&mut self, now: Instant) {
        self.version = lollipop_next(self.version);
        self.dtsn = lollipop_next(self.dtsn);
        let r = self.rand();
        if let Some(t) = self.trickle.as_mut() {
            t.start(ms(now), r);
        }
        self.event(RootEvent::Version(self.version));
    }

    /// The DIO timer at `now`.
    pub fn trickle_view(&self, now: Instant) -> TrickleView {
        self.trickle
            .map_or(TrickleView::default(), |t| TrickleView {
                interval_ms: u32::try_from(t.interval_ms()).unwrap_or(u32::MAX),
                heard: t.counter(),
                next_ms: t
                    .until_transmit(ms(now))
                    .map(|m| u32::try_from(m).unwrap_or(u32::MAX)),
            })
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

/// `now` in milliseconds, the Trickle timer's clock.
/// The end of an IPv6-in-IPv6 tunnel (RFC 9008 §7) at the root or a mesh router: the outer
/// header and its extension headers go, and the inner packet enters the core as if received
/// on the same interface. `None` (the packet freed) unless a whole IPv6 packet is inside:
/// version 6, and its payload length is what the outer packet carries after its header.
pub(crate) fn leave_tunnel(
    stack: &mut Stack<'_>,
    now: Instant,
    d: LocalDelivery,
) -> Option<Outcome> {
    let pool = stack.pool_mut();
    let whole = |inner: &[u8]| match inner.first_chunk::<6>() {
        Some(&[v, _, _, _, p0, p1]) => {
            v >> 4 == 6
                && inner.len().checked_sub(40) == Some(usize::from(u16::from_be_bytes([p0, p1])))
        }
        None => false,
    };
    let inner_ok = pool
        .data(&d.packet)
        .get(d.upper_offset..)
        .is_some_and(whole)
        && pool.pull_front(&d.packet, d.upper_offset).is_ok();
    if !inner_ok {
        pool.free(d.packet);
        return None;
    }
    if let Some(m) = pool.meta_mut(&d.packet) {
        m.wire_len = 0;
    }
    Some(stack.input(now, d.iface, d.packet))
}

/// Builds an ICMPv6 message of at most `max` bytes with `write` (from `src` to `to`, hop limit
/// `hop_limit`) and sends it out of `i` to the neighbour `next_hop`, the link-layer address
/// left to `wpan0`; whether it went into a queue. The RPL messages of the root and of a mesh
/// router go this way.
#[allow(clippy::too_many_arguments)]
pub(crate) fn send_icmp(
    stack: &mut Stack<'_>,
    now: Instant,
    i: IfIndex,
    src: &Ipv6Addr,
    to: &Ipv6Addr,
    next_hop: Ipv6Addr,
    hop_limit: u8,
    max: usize,
    write: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
) -> bool {
    icmp::build_message(stack.pool_mut(), src, to, hop_limit, max, write)
        .map(|h| {
            if let Some(meta) = stack.pool_mut().meta_mut(&h) {
                meta.ll_dst = LinkAddr::NONE;
            }
            stack.send_on(now, i, next_hop, h).is_ok()
        })
        .unwrap_or(false)
}

pub(crate) fn ms(now: Instant) -> u64 {
    now.as_millis()
}

pub(crate) fn addr16(b: &[u8]) -> Option<Ipv6Addr> {
    <[u8; 16]>::try_from(b).ok().map(Ipv6Addr::from)
}

/// The root's mesh address: the DODAG ID.
pub fn mesh_address(cfg: &Config) -> Ipv6Addr {
    netif::addr::with_iid(cfg.mesh_prefix_addr(), crate::lbr::our_iid(cfg))
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
    /// A host its parent (a 6LR) advertises for it (the Transit E flag, RFC 9010).
    pub external: bool,
    /// Registered with 6LoWPAN-ND at the root.
    pub registered: bool,
}

/// `e` (a live target of `reg`) as a topology node at `now`; `None` if it is no target.
pub fn topology_node(reg: &WpanRegistry, e: &Entry, now: Instant) -> Option<TopologyNode> {
    let t = e.target?;
    // Storing mode: the parent is the child the DAO came through (the next hop), by its
    // address in the target's /64; a target whose DAO came from itself is the root's child.
    let own = t
        .parent
        .is_some_and(|p| e.addr.octets().get(8..) == Some(&p[..]));
    let parent = t
        .parent
        .filter(|_| !(t.storing && own))
        .map(|iid| netif::addr::with_iid(e.addr, iid));
    let depth = if t.storing {
        // Storing mode: the root knows the next hop only.
        own.then_some(1)
    } else {
        // An external target (a host behind its 6LR) is one hop below the tunnel's end.
        let beyond = usize::from(t.external);
        reg.source_route(&e.addr)
            .map(|r| u8::try_from((r.hops.len() + beyond).min(MAX_RPL_DEPTH)).unwrap_or(u8::MAX))
    };
    let left = t.expires.saturating_since(now);
    Some(TopologyNode {
        addr: e.addr,
        parent,
        depth,
        lifetime_s: u32::try_from(left.as_secs()).unwrap_or(u32::MAX),
        storing: t.storing,
        external: t.external,
        registered: e.origin == Origin::Registered,
    })
}
