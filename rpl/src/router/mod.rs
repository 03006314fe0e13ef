//! The RPL router (6LR) control plane for one instance and DODAG in non-storing mode (MOP
//! 1), sans-IO: the firmware feeds it what it hears ([`Router::on_dio`],
//! [`Router::on_dis`], [`Router::on_dao_ack`]) and what its MAC learns
//! ([`Router::on_link_etx`], [`Router::on_parent_unreachable`]), tells it which targets to
//! advertise ([`Router::set_target`], [`Router::remove_target`]), and turns what
//! [`Router::poll`] returns into packets (each [`Action`] has the addresses and an `emit`)
//! until it returns `None`, then sleeps until [`Router::next_deadline`]. Time is
//! milliseconds passed in; nothing is allocated; the capacities are the const generics
//! `PARENTS` (candidate parents kept) and `TARGETS` (addresses advertised in DAOs).
//!
//! What it does (each rule is tested in `rpl/tests/router.rs`):
//! - **Joining.** Unjoined, it sends a multicast DIS after a random delay up to
//!   `dis_min_ms`, then with doubling intervals up to `dis_max_ms`. A DIO of a grounded
//!   DODAG in MOP 1 with a DODAG Configuration (a DIO without one gets a unicast DIS back
//!   asking for it) makes the sender a candidate; the objective function named by the OCP
//!   ([`of`](crate::of)) chooses the preferred parent and the rank.
//! - **Rank rules** (RFC 6550 §8.2.2): the rank is always greater than the preferred
//!   parent's by at least MinHopRankIncrease; once joined, only neighbours whose DAGRank is
//!   below the lowest DAGRank we advertised in this version may become parents (so never one
//!   of our descendants); the rank may grow to at most that lowest rank + MaxRankIncrease
//!   (in DAGRank; 0 allows no growth past the integral rank), beyond it we detach.
//! - **Trickle** (Imin, doublings and k from the DODAG Configuration): a DIO heard in our
//!   version counts toward k; a new parent, a new DAGRank, a multicast DIS, a DIO of an older
//!   version, a new DTSN and a confirmed data-path loop reset it to Imin; a unicast DIS gets
//!   a unicast DIO.
//! - **Local repair.** A parent the MAC gave up on, or that poisons (infinite rank), leaves
//!   the parent set; the best remaining parent takes over; with none we **detach**: the
//!   parent set is forgotten (it may hold our descendants), `poison_dios` DIOs of infinite
//!   rank go out Imin apart, and only then do we join again from DIOs heard since, or DIS.
//! - **Global repair.** A DIO of our DODAG with a newer version (lollipop) starts over in
//!   that version: the old parent set is forgotten, we join again and advertise our targets
//!   again.
//! - **DAOs** ([`dao`]): to the DODAG ID, each target with a Transit Information whose
//!   parent is our preferred parent's global address (the DODAG prefix with the parent's
//!   interface identifier), after DelayDAO (`dao_delay_ms`, jittered) on joining, a new
//!   parent, a new version, a new DTSN from the preferred parent, or a target change;
//!   refreshed before the lifetime ends; No-Path for removed targets and on
//!   [`Router::leave`].
//! - **Data path** ([`Router::forward`]): RFC 6550 §11.2 on the RPL Option of forwarded
//!   packets.

pub mod dao;
mod datapath;
mod out;
mod parents;
mod poll;

use core::cmp::Ordering;
use core::net::Ipv6Addr;

use heapless::{Deque, Vec};

pub use dao::{TargetState, TargetView, TargetsFull};
pub use datapath::{Direction, Verdict, rank_consistent};
pub use out::{ALL_RPL_NODES, DAO_TARGETS, DaoOut, DaoTarget, DioOut, DisOut};

use crate::lollipop::{self, Lollipop};
use crate::message::{DaoAck, Dio, Mop};
use crate::of::{Etx, INFINITE_RANK, Objective};
use crate::option::{DodagConfiguration, Opt, Options, PrefixInformation, Solicited};
use crate::trickle::Trickle;

/// Unicast DIOs waiting to answer unicast DIS.
pub const PENDING_DIOS: usize = 2;
/// Events kept until [`Router::poll`] hands them out (more are counted lost).
pub const EVENTS: usize = 4;

/// The router's settings (the DODAG's own parameters come from its DIOs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RouterConfig {
    /// Join only this RPL instance (`None`: the first one heard).
    pub instance_id: Option<u8>,
    /// Join floating DODAGs too (RFC 6550 G = 0); off: grounded only.
    pub join_floating: bool,
    /// Ask for DAO-ACKs (the K flag).
    pub dao_ack: bool,
    /// How long to wait for a DAO-ACK before sending the DAO again.
    pub dao_ack_timeout_ms: u32,
    /// Retransmissions of a DAO without DAO-ACK before giving up on it (its targets wait
    /// four timeouts, then go in a new DAO).
    pub dao_retries: u8,
    /// DelayDAO (RFC 6550 §9.5, DEFAULT_DAO_DELAY 1 s): a DAO waits between half and all of
    /// this after a change, so changes travel together.
    pub dao_delay_ms: u32,
    /// The first DIS when unjoined goes within this; the interval then doubles.
    pub dis_min_ms: u32,
    /// The longest interval between DIS when unjoined.
    pub dis_max_ms: u32,
    /// Infinite-rank DIOs sent when detaching, Imin apart.
    pub poison_dios: u8,
}

impl RouterConfig {
    /// K set, 5 s per DAO attempt and 3 retries, DelayDAO 1 s, DIS from within 1 s up to
    /// every 64 s, 3 poison DIOs.
    pub const DEFAULT: RouterConfig = RouterConfig {
        instance_id: None,
        join_floating: false,
        dao_ack: true,
        dao_ack_timeout_ms: 5_000,
        dao_retries: 3,
        dao_delay_ms: 1_000,
        dis_min_ms: 1_000,
        dis_max_ms: 64_000,
        poison_dios: 3,
    };
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A received DIO as the router needs it: the fixed part and the options it uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DioInfo {
    /// The fixed part.
    pub dio: Dio,
    /// Its DODAG Configuration option, if any.
    pub config: Option<DodagConfiguration>,
    /// Its first Prefix Information option, if any.
    pub prefix: Option<PrefixInformation>,
}

impl DioInfo {
    /// Reads the options of a DIO ([`Message::Dio`](crate::message::Message::Dio)); a
    /// malformed option refuses the whole DIO.
    pub fn read(dio: Dio, opts: Options<'_>) -> crate::Result<DioInfo> {
        let mut info = DioInfo {
            dio,
            config: None,
            prefix: None,
        };
        for o in opts {
            match o? {
                Opt::DodagConfiguration(c) if info.config.is_none() => info.config = Some(c),
                Opt::PrefixInformation(p) if info.prefix.is_none() => info.prefix = Some(p),
                _ => {}
            }
        }
        Ok(info)
    }
}

/// What the router reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// Joined a DODAG through `parent` (link-local) at `rank`.
    Joined {
        /// The DODAG ID.
        dodag_id: Ipv6Addr,
        /// Its version.
        version: u8,
        /// Our rank.
        rank: u16,
        /// The preferred parent.
        parent: Ipv6Addr,
    },
    /// The preferred parent changed.
    ParentChanged {
        /// The old one.
        from: Ipv6Addr,
        /// The new one.
        to: Ipv6Addr,
        /// Our rank now.
        rank: u16,
    },
    /// No parent left: detached (poison DIOs follow).
    Detached,
    /// A new DODAG version (global repair).
    GlobalRepair {
        /// The new version.
        version: u8,
    },
    /// The root rejected the DAO with this sequence (DAO-ACK status ≥ 128).
    DaoRejected {
        /// The DAOSequence.
        sequence: u8,
        /// The status.
        status: u8,
    },
    /// No DAO-ACK for this DAO after every retry.
    DaoFailed {
        /// The DAOSequence.
        sequence: u8,
    },
    /// Left the DODAG ([`Router::leave`]): No-Paths and poison sent.
    Left,
}

/// What to do now.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Report this.
    Event(Event),
    /// Send this DIO.
    Dio(DioOut),
    /// Send this DIS.
    Dis(DisOut),
    /// Send this DAO.
    Dao(DaoOut),
}

/// Where the router is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Phase {
    /// Looking for a DODAG (DIS).
    Unjoined,
    /// In a DODAG with a preferred parent.
    Joined,
    /// Detached, sending infinite-rank DIOs before joining again.
    Poisoning,
    /// Withdrawing its targets before leaving ([`Router::leave`]).
    Leaving,
    /// Out until [`Router::start`].
    Left,
}

/// A candidate parent: a neighbour heard in our DODAG's version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Parent {
    /// Its link-local address (the DIO's source).
    pub address: Ipv6Addr,
    /// The rank it advertises.
    pub rank: u16,
    /// Its DTSN.
    pub dtsn: u8,
    /// Our link's ETX to it.
    pub etx: Etx,
    /// When its last DIO was heard (ms).
    pub heard_ms: u64,
}

/// The DODAG we are in (or about to join).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dodag {
    /// RPLInstanceID.
    pub instance_id: u8,
    /// DODAG ID: the root's address, where DAOs go.
    pub dodag_id: Ipv6Addr,
    /// Version.
    pub version: u8,
    /// Grounded.
    pub grounded: bool,
    /// DODAG preference.
    pub preference: u8,
    /// The root's DODAG Configuration.
    pub config: DodagConfiguration,
    /// The root's Prefix Information.
    pub prefix: Option<PrefixInformation>,
    /// The objective function the OCP chose.
    pub of: Objective,
}

impl Dodag {
    fn min_hop(&self) -> u16 {
        self.config.min_hop_rank_increase
    }

    /// The /64 of the DODAG: the Prefix Information's, else the DODAG ID's.
    fn prefix64(&self) -> [u8; 8] {
        let a = self
            .prefix
            .filter(|p| p.prefix_len <= 64)
            .map_or(self.dodag_id, |p| p.prefix)
            .octets();
        let mut o = [0u8; 8];
        o.copy_from_slice(&a[..8]);
        o
    }

    /// A neighbour's global address: the DODAG's /64 with the interface identifier of its
    /// link-local address (how sixgate's root and RIOT form theirs).
    pub fn global_of(&self, link_local: &Ipv6Addr) -> Ipv6Addr {
        let mut o = link_local.octets();
        o[..8].copy_from_slice(&self.prefix64());
        Ipv6Addr::from(o)
    }
}

/// The router's counters. All wrap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RouterStats {
    /// DIOs not taken: another instance, DODAG or MOP, floating, an older version, a bad
    /// DODAG Configuration, or no room for the candidate.
    pub dio_ignored: u32,
    /// DAO-ACKs for another instance, DODAG or sequence.
    pub dao_ack_ignored: u32,
    /// DAOs sent again for want of a DAO-ACK.
    pub dao_retransmitted: u32,
    /// Packets with a rank error already flagged, dropped (a loop).
    pub rank_error_drops: u32,
    /// Events lost for want of room in the queue.
    pub events_lost: u32,
}

fn config_usable(c: &DodagConfiguration) -> bool {
    // MinHopRankIncrease 0 would let a rank equal its parent's.
    c.min_hop_rank_increase != 0 && c.dio_interval_min <= 31
}

fn trickle_of(c: &DodagConfiguration) -> Trickle {
    Trickle::new(
        1u32 << c.dio_interval_min.min(31),
        c.dio_interval_doublings,
        c.dio_redundancy,
    )
}

/// An RPL router for one DODAG; see the [module](self) for what it does.
#[derive(Debug)]
pub struct Router<const PARENTS: usize, const TARGETS: usize> {
    cfg: RouterConfig,
    rng: u32,
    phase: Phase,
    dodag: Option<Dodag>,
    parents: Vec<Parent, PARENTS>,
    preferred: Option<Ipv6Addr>,
    parent_dtsn: u8,
    rank: u16,
    /// L of RFC 6550 §8.2.2.4: the lowest rank advertised in this version.
    lowest_rank: u16,
    dtsn: Lollipop,
    trickle: Trickle,
    unicast_dios: Vec<Ipv6Addr, PENDING_DIOS>,
    poison_left: u8,
    poison_next: u64,
    /// The poisoning ends in [`Phase::Left`].
    leaving: bool,
    dis_next: Option<u64>,
    dis_interval: u32,
    dis_unicast: Option<(Ipv6Addr, Solicited)>,
    daos: dao::Daos<TARGETS>,
    events: Deque<Event, EVENTS>,
    stats: RouterStats,
}

impl<const PARENTS: usize, const TARGETS: usize> Router<PARENTS, TARGETS> {
    /// An unjoined router; `seed` (e.g. from the EUI-64) seeds its jitter.
    pub fn new(cfg: RouterConfig, seed: u32) -> Self {
        Router {
            cfg,
            rng: seed | 1,
            phase: Phase::Unjoined,
            dodag: None,
            parents: Vec::new(),
            preferred: None,
            parent_dtsn: 0,
            rank: INFINITE_RANK,
            lowest_rank: INFINITE_RANK,
            dtsn: Lollipop::default(),
            trickle: Trickle::new(0, 0, 0),
            unicast_dios: Vec::new(),
            poison_left: 0,
            poison_next: 0,
            leaving: false,
            dis_next: None,
            dis_interval: 0,
            dis_unicast: None,
            daos: dao::Daos::new(),
            events: Deque::new(),
            stats: RouterStats::default(),
        }
    }

    fn rand(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// `base` less a random part of up to half of it: [base/2, base].
    fn jittered(&mut self, base: u32) -> u64 {
        let half = u64::from(base / 2);
        let r = (u64::from(self.rand()) * half) >> 32;
        u64::from(base) - r
    }

    fn event(&mut self, e: Event) {
        if self.events.push_back(e).is_err() {
            self.stats.events_lost = self.stats.events_lost.wrapping_add(1);
        }
    }

    // ----- views -----

    /// Where the router is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Our rank ([`INFINITE_RANK`] unless joined).
    pub fn rank(&self) -> u16 {
        if self.phase == Phase::Joined {
            self.rank
        } else {
            INFINITE_RANK
        }
    }

    /// The DODAG we are in or about to join.
    pub fn dodag(&self) -> Option<&Dodag> {
        self.dodag.as_ref()
    }

    /// The preferred parent's link-local address.
    pub fn preferred_parent(&self) -> Option<Ipv6Addr> {
        self.preferred.filter(|_| self.phase == Phase::Joined)
    }

    /// The preferred parent's global address (the Transit parent of our DAOs).
    pub fn preferred_parent_global(&self) -> Option<Ipv6Addr> {
        Some(self.dodag?.global_of(&self.preferred_parent()?))
    }

    /// The candidate parents.
    pub fn parents(&self) -> &[Parent] {
        &self.parents
    }

    /// The targets advertised.
    pub fn targets(&self) -> &[TargetView] {
        &self.daos.targets
    }

    /// Our DTSN.
    pub fn dtsn(&self) -> u8 {
        self.dtsn.0
    }

    /// The DIO timer.
    pub fn trickle(&self) -> &Trickle {
        &self.trickle
    }

    /// The counters.
    pub fn stats(&self) -> RouterStats {
        self.stats
    }

    /// The settings.
    pub fn config(&self) -> &RouterConfig {
        &self.cfg
    }

    // ----- inputs -----

    /// A DIO from `from` (its link-local source) over a link of `etx`.
    pub fn on_dio(&mut self, now: u64, from: Ipv6Addr, info: &DioInfo, etx: Etx) {
        let d = info.dio;
        let instance_ok = self.cfg.instance_id.is_none_or(|i| i == d.instance_id);
        let shape_ok = d.mop == Mop::NonStoring && (d.grounded || self.cfg.join_floating);
        if self.phase == Phase::Left || !instance_ok || !shape_ok {
            self.stats.dio_ignored = self.stats.dio_ignored.wrapping_add(1);
            return;
        }
        if let Some(dg) = self.dodag {
            // Unjoined with no candidate: any DODAG and version may be taken.
            let free = self.phase == Phase::Unjoined && self.parents.is_empty();
            if dg.instance_id == d.instance_id && dg.dodag_id == d.dodag_id {
                match lollipop::compare(d.version, dg.version) {
                    Some(Ordering::Equal) => {}
                    Some(Ordering::Greater) if d.rank != INFINITE_RANK => {
                        self.global_repair(now, d.version);
                    }
                    _ if free => self.dodag = None,
                    _ => {
                        // An older (or unrelated) version: the neighbour needs our DIOs.
                        self.stats.dio_ignored = self.stats.dio_ignored.wrapping_add(1);
                        if self.phase == Phase::Joined {
                            let r = self.rand();
                            self.trickle.hear_inconsistent(now, r);
                        }
                        return;
                    }
                }
            } else if free {
                self.dodag = None;
            } else {
                // One DODAG at a time.
                self.stats.dio_ignored = self.stats.dio_ignored.wrapping_add(1);
                return;
            }
        }
        if self.dodag.is_none() && !self.adopt(from, info) {
            return;
        }
        let Some(dg) = self.dodag.as_mut() else {
            return;
        };
        if let Some(c) = info.config
            && c != dg.config
            && config_usable(&c)
        {
            let timer = (
                c.dio_interval_min,
                c.dio_interval_doublings,
                c.dio_redundancy,
            ) != (
                dg.config.dio_interval_min,
                dg.config.dio_interval_doublings,
                dg.config.dio_redundancy,
            );
            dg.config = c;
            dg.of = Objective::from_ocp(c.ocp);
            if timer {
                self.trickle = trickle_of(&c);
                if self.phase == Phase::Joined {
                    let r = self.rand();
                    self.trickle.start(now, r);
                }
            }
        }
        if let Some(dg) = self.dodag.as_mut()
            && info.prefix.is_some()
        {
            dg.prefix = info.prefix;
        }
        if d.rank == INFINITE_RANK {
            // Poison: no longer a parent.
            self.forget(&from);
            self.reselect(now);
            return;
        }
        if self.phase == Phase::Joined {
            self.trickle.hear_consistent();
        }
        self.remember(now, from, d.rank, d.dtsn, etx);
        if self.phase == Phase::Joined
            && self.preferred == Some(from)
            && lollipop::compare(d.dtsn, self.parent_dtsn) == Some(Ordering::Greater)
        {
            // RFC 6550 §9.6: the parent asks for new DAOs; in non-storing mode we pass the
            // request on to our children with our own DTSN.
            self.parent_dtsn = d.dtsn;
            self.dtsn.increment();
            let hold = now.saturating_add(self.jittered(self.cfg.dao_delay_ms));
            self.daos.all_due(hold);
            let r = self.rand();
            self.trickle.hear_inconsistent(now, r);
        }
        self.reselect(now);
    }

    /// Takes the DODAG of `info` as ours (unjoined, nothing else known).
    fn adopt(&mut self, from: Ipv6Addr, info: &DioInfo) -> bool {
        let d = info.dio;
        if d.rank == INFINITE_RANK {
            return false;
        }
        let Some(config) = info.config else {
            // Ask that neighbour for the whole DIO.
            self.dis_unicast = Some((
                from,
                Solicited {
                    instance_id: d.instance_id,
                    version_predicate: false,
                    instance_predicate: true,
                    dodag_id_predicate: true,
                    dodag_id: d.dodag_id,
                    version: d.version,
                },
            ));
            return false;
        };
        if !config_usable(&config) {
            self.stats.dio_ignored = self.stats.dio_ignored.wrapping_add(1);
            return false;
        }
        self.dodag = Some(Dodag {
            instance_id: d.instance_id,
            dodag_id: d.dodag_id,
            version: d.version,
            grounded: d.grounded,
            preference: d.preference,
            config,
            prefix: info.prefix,
            of: Objective::from_ocp(config.ocp),
        });
        self.trickle = trickle_of(&config);
        true
    }

    fn global_repair(&mut self, now: u64, version: u8) {
        if let Some(dg) = self.dodag.as_mut() {
            dg.version = version;
        }
        self.parents.clear();
        self.preferred = None;
        self.rank = INFINITE_RANK;
        self.lowest_rank = INFINITE_RANK;
        self.unicast_dios.clear();
        self.event(Event::GlobalRepair { version });
        if self.phase == Phase::Joined {
            // Join again in the new version (reselect does, from the DIO being read).
            self.phase = Phase::Unjoined;
            self.dis_next = None;
            self.trickle.stop();
        }
        let _ = now;
    }

    fn start_dis(&mut self, now: u64) {
        self.dis_interval = self.cfg.dis_min_ms.max(1);
        let r = (u64::from(self.rand()) * u64::from(self.dis_interval)) >> 32;
        self.dis_next = Some(now.saturating_add(r));
    }

    /// A DIS from `from`; `multicast` when it went to all-RPL-nodes; `opts` its options (a
    /// Solicited Information whose predicates do not match us makes it not ours).
    pub fn on_dis(&mut self, now: u64, from: Ipv6Addr, multicast: bool, opts: Options<'_>) {
        let Some(dg) = self.dodag.filter(|_| self.phase == Phase::Joined) else {
            return;
        };
        for o in opts {
            match o {
                Ok(Opt::Solicited(s)) => {
                    let ours = (!s.instance_predicate || s.instance_id == dg.instance_id)
                        && (!s.dodag_id_predicate || s.dodag_id == dg.dodag_id)
                        && (!s.version_predicate || s.version == dg.version);
                    if !ours {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
        if multicast {
            let r = self.rand();
            self.trickle.hear_inconsistent(now, r);
        } else if !self.unicast_dios.contains(&from) {
            let _ = self.unicast_dios.push(from);
        }
    }

    /// A DAO-ACK addressed to us.
    pub fn on_dao_ack(&mut self, now: u64, ack: &DaoAck) {
        let _ = now;
        let ours = self.dodag.as_ref().is_some_and(|dg| {
            ack.instance_id == dg.instance_id && ack.dodag_id.is_none_or(|id| id == dg.dodag_id)
        });
        let Some(ctx) = self.dao_context().filter(|_| ours) else {
            self.stats.dao_ack_ignored = self.stats.dao_ack_ignored.wrapping_add(1);
            return;
        };
        let mut rng = self.rng;
        let mut rand = || {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            rng
        };
        let r = self.daos.ack(ack.sequence, ack.status, &ctx, &mut rand);
        self.rng = rng;
        match r {
            dao::Acked::NotOurs => {
                self.stats.dao_ack_ignored = self.stats.dao_ack_ignored.wrapping_add(1);
            }
            dao::Acked::Accepted => {}
            dao::Acked::Rejected(status) => self.event(Event::DaoRejected {
                sequence: ack.sequence,
                status,
            }),
        }
    }

    /// The MAC's ETX estimate for a neighbour changed.
    pub fn on_link_etx(&mut self, now: u64, neighbour: Ipv6Addr, etx: Etx) {
        if let Some(p) = self.parents.iter_mut().find(|p| p.address == neighbour) {
            p.etx = etx;
            self.reselect(now);
        }
    }

    /// The MAC gave up on a neighbour (no acknowledgement after its retries): it leaves the
    /// parent set; local repair if it was the preferred parent.
    pub fn on_parent_unreachable(&mut self, now: u64, neighbour: Ipv6Addr) {
        if self.parents.iter().any(|p| p.address == neighbour) {
            self.forget(&neighbour);
            self.reselect(now);
        }
    }

    /// Advertise `address` (ours, or a host's registered with us) until `expires_ms` (the
    /// registration's end; `None` for our own address). Called again for a re-registration.
    pub fn set_target(
        &mut self,
        now: u64,
        address: Ipv6Addr,
        expires_ms: Option<u64>,
    ) -> Result<(), TargetsFull> {
        let hold = now.saturating_add(self.jittered(self.cfg.dao_delay_ms));
        self.daos.set(now, address, expires_ms, hold)
    }

    /// Stop advertising `address` (a host that deregistered or left): a No-Path follows if
    /// the root may hold a route for it.
    pub fn remove_target(&mut self, now: u64, address: &Ipv6Addr) {
        self.daos.remove(now, address);
    }

    /// Stop advertising `address` without a No-Path: it advertises itself (a neighbour we
    /// took for a host sent DIOs, so it is an RPL router whose own DAOs give its route).
    pub fn forget_target(&mut self, address: &Ipv6Addr) {
        self.daos.forget(address);
    }

    /// Leave the DODAG: No-Paths for every target, then poison DIOs, then
    /// [`Phase::Left`] (the targets are forgotten) until [`start`](Self::start).
    pub fn leave(&mut self, now: u64) {
        match self.phase {
            Phase::Joined => {
                self.phase = Phase::Leaving;
                self.daos.withdraw_all(now);
            }
            Phase::Leaving | Phase::Left => {}
            Phase::Unjoined | Phase::Poisoning => {
                self.daos.targets.clear();
                self.phase = Phase::Left;
                self.dis_next = None;
                self.event(Event::Left);
            }
        }
    }

    /// Look for a DODAG again after [`leave`](Self::leave).
    pub fn start(&mut self, now: u64) {
        if self.phase == Phase::Left {
            self.phase = Phase::Unjoined;
            self.dodag = None;
            self.parents.clear();
            self.start_dis(now);
        }
    }
}
