//! The node abstraction and the simulator loop.
//!
//! A [`SimNode`] owns whatever runs above one attached radio (a MAC and a network stack) and
//! is driven by [`Simulator`]: radio events are delivered in time order, then the node is
//! polled when its [`SimNode::next_wake`] is due. smoltcp leaf nodes ([`crate::smol`]) are one
//! implementation; nodes on our own stack, or the border-router firmware, can be others —
//! or they can skip the trait and drive a [`Medium`] directly.
//!
//! The simulator also runs the fault schedule (links down/up, reboots, power off and on, loss
//! changes) and,
//! when [`SimConfig::pace`] is set, sleeps so simulated time tracks the wall clock.

use std::any::Any;
use std::time::{Duration as WallDuration, Instant as WallInstant};

use netif::time::{Duration, Instant};

use crate::medium::{Medium, MediumConfig, RadioConfig, RadioId, SimEvent, SimRadio};
use crate::topology::Topology;
use crate::zep_bridge::ZepBridge;

/// Index of a node in its [`Simulator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// Something that runs over one radio of the medium.
pub trait SimNode {
    /// The radio this node drives.
    fn radio_id(&self) -> RadioId;
    /// A radio event for this node (its time is ≤ `now`).
    fn on_radio_event(&mut self, now: Instant, ev: &SimEvent, radio: &mut SimRadio<'_>);
    /// Runs timers and queued work at `now`.
    fn poll(&mut self, now: Instant, radio: &mut SimRadio<'_>);
    /// When [`SimNode::poll`] should run next (`None`: only after an event).
    fn next_wake(&self) -> Option<Instant>;
    /// Power-cycles the node: all volatile state (queues, caches, sockets) is lost.
    fn reboot(&mut self, now: Instant, radio: &mut SimRadio<'_>);
    /// For downcasting to the concrete node type.
    fn as_any(&self) -> &dyn Any;
    /// For downcasting to the concrete node type.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// A scheduled fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Link between two radios goes down (both directions).
    LinkDown(RadioId, RadioId),
    /// Link comes back.
    LinkUp(RadioId, RadioId),
    /// The node reboots (nothing happens while it is powered off).
    Reboot(NodeId),
    /// The node loses power: its radio goes off ([`Medium::set_powered`]: it neither sends
    /// nor hears, its frame on the air is cut off), its waiting radio events are lost and
    /// the simulator stops delivering events to it and polling it. Its state stays as it was
    /// (inspectable) until [`Fault::PowerOn`].
    PowerOff(NodeId),
    /// Power comes back: the radio is on again and the node boots afresh
    /// ([`SimNode::reboot`]: fresh state, as after a power cycle). Nothing happens to a node
    /// that is powered.
    PowerOn(NodeId),
    /// The medium's extra loss probability changes.
    SetExtraLoss(f64),
}

/// Every knob of the simulator.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimConfig {
    /// The medium.
    pub medium: MediumConfig,
    /// Real-time pacing: `Some(f)` makes `f` simulated seconds take one wall second (`1.0`:
    /// real time, for when a TAP or serial device is attached); `None`: as fast as possible.
    pub pace: Option<f64>,
    /// Fault schedule: `(when, what)`, any order.
    pub faults: Vec<(Instant, Fault)>,
}

/// Simulator statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimStats {
    /// Loop iterations (distinct event instants processed).
    pub steps: u64,
    /// Node polls.
    pub polls: u64,
    /// Radio events delivered.
    pub events: u64,
    /// Faults applied.
    pub faults: u64,
    /// Wall time spent sleeping for pacing, µs.
    pub paced_sleep_us: u64,
    /// Times the simulation, behind the wall clock by more than 200 µs with a ZEP bridge,
    /// restarted its real-time pacing from the present instead of catching up.
    pub zep_reanchors: u64,
    /// Times simulated time stood still waiting for a ZEP peer's ACK until a datagram came.
    pub zep_ack_holds: u64,
}

/// How far simulated time may fall behind the wall clock, with a ZEP bridge, before pacing
/// restarts from the present (see [`Simulator::attach_zep`]).
const ZEP_MAX_LAG: WallDuration = WallDuration::from_micros(200);

struct Slot {
    node: Box<dyn SimNode>,
    last_poll: Option<Instant>,
    /// Off ([`Fault::PowerOff`]): neither polled nor given events.
    off: bool,
}

impl Slot {
    fn wake(&self) -> Option<Instant> {
        if self.off {
            return None;
        }
        let w = self.node.next_wake()?;
        match self.last_poll {
            // Polled at (or after) that instant already: not again before the next µs.
            Some(lp) if w <= lp => Some(lp + Duration::from_micros(1)),
            _ => Some(w),
        }
    }
}

/// The medium, its nodes and virtual time.
pub struct Simulator {
    medium: Medium,
    nodes: Vec<Slot>,
    faults: Vec<(Instant, Fault)>,
    next_fault: usize,
    pace: Option<f64>,
    wall_origin: Option<(WallInstant, Instant)>,
    now: Instant,
    stats: SimStats,
    zep: Option<ZepBridge>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("now", &self.now)
            .field("nodes", &self.nodes.len())
            .field("medium", &self.medium)
            .field("stats", &self.stats)
            .finish()
    }
}

impl Simulator {
    /// A simulator over `topology`.
    pub fn new(cfg: SimConfig, topology: Topology) -> Self {
        let mut faults = cfg.faults;
        // Stable: faults at the same instant apply in the order given.
        faults.sort_by_key(|(t, _)| *t);
        Simulator {
            medium: Medium::new(cfg.medium, topology),
            nodes: Vec::new(),
            faults,
            next_fault: 0,
            pace: cfg.pace,
            wall_origin: None,
            now: Instant::ZERO,
            stats: SimStats::default(),
            zep: None,
        }
    }

    /// The medium (to attach radios driven outside the simulator, read counters, capture).
    pub fn medium(&mut self) -> &mut Medium {
        &mut self.medium
    }

    /// The medium, read-only.
    pub fn medium_ref(&self) -> &Medium {
        &self.medium
    }

    /// Attaches a radio for a node about to be built.
    pub fn attach(&mut self, cfg: RadioConfig) -> RadioId {
        self.medium.attach(cfg)
    }

    /// Adds a node built over a radio from [`Simulator::attach`].
    pub fn add_node(&mut self, node: Box<dyn SimNode>) -> NodeId {
        self.nodes.push(Slot {
            node,
            last_poll: None,
            off: false,
        });
        NodeId(self.nodes.len() - 1)
    }

    /// Builds a node with `build(radio_id, radio)` on a freshly attached radio and adds it.
    pub fn spawn<N, E>(
        &mut self,
        cfg: RadioConfig,
        build: impl FnOnce(RadioId, &mut SimRadio<'_>) -> Result<N, E>,
    ) -> Result<NodeId, E>
    where
        N: SimNode + 'static,
    {
        let id = self.medium.attach(cfg);
        let node = build(id, &mut self.medium.radio(id))?;
        Ok(self.add_node(Box::new(node)))
    }

    /// The node `id` as its concrete type.
    pub fn node<N: 'static>(&self, id: NodeId) -> Option<&N> {
        self.nodes.get(id.0)?.node.as_any().downcast_ref()
    }

    /// The node `id` as its concrete type, mutably.
    pub fn node_mut<N: 'static>(&mut self, id: NodeId) -> Option<&mut N> {
        self.nodes.get_mut(id.0)?.node.as_any_mut().downcast_mut()
    }

    /// Runs `f` on node `id` with its radio (e.g. to enqueue application traffic), then lets
    /// the simulator poll it at the current time (unless it is powered off: then its radio
    /// refuses to transmit and nothing polls it).
    pub fn with_node<N: 'static, R>(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&mut N, Instant, &mut SimRadio<'_>) -> R,
    ) -> Option<R> {
        let now = self.now;
        let slot = self.nodes.get_mut(id.0)?;
        let rid = slot.node.radio_id();
        let n = slot.node.as_any_mut().downcast_mut::<N>()?;
        let r = f(n, now, &mut self.medium.radio(rid));
        slot.last_poll = None;
        Some(r)
    }

    /// The radio node `id` drives.
    pub fn radio_of(&self, id: NodeId) -> Option<RadioId> {
        Some(self.nodes.get(id.0)?.node.radio_id())
    }

    /// The node driving radio `radio`, if a node of this simulator does.
    pub fn node_of(&self, radio: RadioId) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|s| s.node.radio_id() == radio)
            .map(NodeId)
    }

    /// Whether node `id` has power ([`Fault::PowerOff`], [`Fault::PowerOn`]); `false` for an
    /// unknown id.
    pub fn is_powered(&self, id: NodeId) -> bool {
        self.nodes.get(id.0).is_some_and(|s| !s.off)
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Current simulated time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Statistics.
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// Adds a fault at `at` (must not be in the past; past faults apply at once).
    pub fn schedule_fault(&mut self, at: Instant, fault: Fault) {
        let pos =
            self.next_fault + self.faults[self.next_fault..].partition_point(|(t, _)| *t <= at);
        self.faults.insert(pos, (at, fault));
    }

    /// Attaches a ZEP bridge (foreign nodes on the wall clock): the simulator then runs in
    /// real time (pace 1.0 unless a pace is set) and, instead of sleeping, waits on the
    /// bridge's socket; a datagram that arrives is put on the medium at the simulated instant
    /// of its arrival (see [`crate::zep_bridge`]).
    pub fn attach_zep(&mut self, bridge: ZepBridge) {
        if self.pace.is_none() {
            self.set_pace(Some(1.0));
        }
        self.zep = Some(bridge);
    }

    /// The ZEP bridge, if attached.
    pub fn zep(&self) -> Option<&ZepBridge> {
        self.zep.as_ref()
    }

    /// The ZEP bridge, mutably.
    pub fn zep_mut(&mut self) -> Option<&mut ZepBridge> {
        self.zep.as_mut()
    }

    /// Changes real-time pacing (see [`SimConfig::pace`]).
    pub fn set_pace(&mut self, pace: Option<f64>) {
        self.pace = pace;
        self.wall_origin = None;
    }

    /// When something happens next (medium, node timer, fault).
    pub fn next_event_time(&self) -> Option<Instant> {
        let mut t = self.medium.next_event_time();
        let mut take = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |y: Instant| y.min(x)));
            }
        };
        if self.medium.has_pending_events() {
            take(Some(self.now));
        }
        for s in &self.nodes {
            take(s.wake());
        }
        take(self.faults.get(self.next_fault).map(|(t, _)| *t));
        t
    }

    /// Runs until simulated time `end` (inclusive of events at `end`).
    pub fn run_until(&mut self, end: Instant) {
        loop {
            match self.next_event_time() {
                Some(t) if t <= end => self.step_to(t.max(self.now)),
                _ => {
                    // Nothing due before `end`: wait for it, or for a ZEP datagram.
                    match self.pace_to(end) {
                        Some(at) => self.arrive(at),
                        None => break,
                    }
                }
            }
        }
        self.medium.advance_to(end);
        self.now = self.now.max(end);
    }

    /// Runs for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        self.run_until(end);
    }

    /// Runs until `done(self)` holds (checked after each step) or `end`; returns whether it
    /// held.
    pub fn run_until_cond(
        &mut self,
        end: Instant,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> bool {
        loop {
            if done(self) {
                return true;
            }
            match self.next_event_time() {
                Some(t) if t <= end => self.step_to(t.max(self.now)),
                _ => {
                    self.medium.advance_to(end);
                    self.now = self.now.max(end);
                    return done(self);
                }
            }
        }
    }

    /// Waits (pacing) until the wall-clock instant of simulated time `t`. With a ZEP bridge
    /// the wait ends early when a datagram arrives: `Some(the simulated instant of its
    /// arrival)` (between now and `t`), for [`Simulator::arrive`].
    fn pace_to(&mut self, t: Instant) -> Option<Instant> {
        let f = self.pace.filter(|f| *f > 0.0 && f.is_finite())?;
        let (wall0, sim0) = *self
            .wall_origin
            .get_or_insert((WallInstant::now(), self.now));
        let sim_elapsed = t.saturating_since(sim0).as_micros() as f64 / f;
        let target = wall0 + WallDuration::from_micros(sim_elapsed as u64);
        if let Some(z) = self.zep.as_mut() {
            // The simulated instant of a wall-clock arrival (on the current anchor).
            let sim_at = |arrived: WallInstant| {
                let since = arrived.saturating_duration_since(wall0).as_micros() as f64 * f;
                sim0 + Duration::from_micros(since as u64)
            };
            // A peer's ACK to our frame is due before `t`: simulated time stops where the
            // ACK would end over the air until its datagram arrives or its grace runs out
            // (see the zep_bridge module docs).
            if let Some((hold, deadline)) = z.ack_hold(t) {
                let hold = hold.max(self.now);
                if let Some(arrived) = z.wait(deadline) {
                    let at = sim_at(arrived).clamp(self.now, hold);
                    if at == hold {
                        self.wall_origin = Some((arrived, hold));
                        self.stats.zep_ack_holds += 1;
                    }
                    return Some(at);
                }
                // No ACK: the pacing below restarts from the present and our MAC's ACK wait
                // ends.
            }
            let mut w = WallInstant::now();
            if w > target + ZEP_MAX_LAG {
                // Behind the wall clock: simulated time restarts from here rather than race
                // to catch up, so that what a peer sends is stamped relative to what we last
                // sent it (its ACK 0.4 ms after our frame must land inside our ACK window).
                // Datagrams already waiting keep the instant they arrived (never later than
                // `t`): one that came before the event at `t` (an ACK before our MAC's
                // ACK-wait deadline) goes on the medium before that event happens.
                let arrived = z.wait(w);
                self.wall_origin = Some((w, t));
                self.stats.zep_reanchors += 1;
                return arrived.map(|a| sim_at(a).clamp(self.now, t.max(self.now)));
            }
            let Some(arrived) = z.wait(target) else {
                if target > w {
                    self.stats.paced_sleep_us += (target - w).as_micros() as u64;
                }
                return None;
            };
            w = w.min(arrived);
            self.stats.paced_sleep_us += arrived.saturating_duration_since(w).as_micros() as u64;
            let at = sim_at(arrived).clamp(self.now, t.max(self.now));
            return Some(at);
        }
        let wall_now = WallInstant::now();
        if target > wall_now {
            let d = target - wall_now;
            self.stats.paced_sleep_us += d.as_micros() as u64;
            std::thread::sleep(d);
        }
        None
    }

    /// ZEP datagrams arrived at `at`: everything due until then happens, then they go on the
    /// medium.
    fn arrive(&mut self, at: Instant) {
        self.step_core(at);
        if let Some(z) = self.zep.as_mut() {
            z.ingest(&mut self.medium, at);
            z.deliver(&mut self.medium, at);
        }
    }

    fn step_to(&mut self, t: Instant) {
        match self.pace_to(t) {
            Some(at) => self.arrive(at),
            None => self.step_core(t),
        }
    }

    fn step_core(&mut self, t: Instant) {
        self.stats.steps += 1;
        self.medium.advance_to(t);
        self.now = t;
        if let Some(z) = self.zep.as_mut() {
            z.deliver(&mut self.medium, t);
        }
        while let Some((at, fault)) = self.faults.get(self.next_fault).copied() {
            if at > t {
                break;
            }
            self.next_fault += 1;
            self.apply(fault);
        }
        for i in 0..self.nodes.len() {
            let Some(slot) = self.nodes.get_mut(i).filter(|s| !s.off) else {
                continue;
            };
            let rid = slot.node.radio_id();
            let mut got = false;
            while let Some(ev) = self.medium.pop_event(rid) {
                got = true;
                self.stats.events += 1;
                slot.node
                    .on_radio_event(t, &ev, &mut self.medium.radio(rid));
            }
            if got || slot.wake().is_some_and(|w| w <= t) {
                self.stats.polls += 1;
                slot.node.poll(t, &mut self.medium.radio(rid));
                slot.last_poll = Some(t);
            }
        }
        // An ACK a node just started goes to the ZEP peers at once (early ACKs).
        if let Some(z) = self.zep.as_mut() {
            z.deliver(&mut self.medium, t);
        }
    }

    fn apply(&mut self, fault: Fault) {
        self.stats.faults += 1;
        match fault {
            Fault::LinkDown(a, b) => self.medium.set_link_up(a, b, false),
            Fault::LinkUp(a, b) => self.medium.set_link_up(a, b, true),
            Fault::SetExtraLoss(p) => self.medium.set_extra_loss(p),
            Fault::Reboot(n) => {
                let now = self.now;
                if let Some(slot) = self.nodes.get_mut(n.0).filter(|s| !s.off) {
                    let rid = slot.node.radio_id();
                    // Events addressed to the old incarnation are lost with it.
                    let _ = self.medium.take_events(rid);
                    slot.node.reboot(now, &mut self.medium.radio(rid));
                    slot.last_poll = None;
                }
            }
            Fault::PowerOff(n) => {
                if let Some(slot) = self.nodes.get_mut(n.0) {
                    slot.off = true;
                    self.medium.set_powered(slot.node.radio_id(), false);
                }
            }
            Fault::PowerOn(n) => {
                let now = self.now;
                if let Some(slot) = self.nodes.get_mut(n.0).filter(|s| s.off) {
                    let rid = slot.node.radio_id();
                    slot.off = false;
                    self.medium.set_powered(rid, true);
                    slot.node.reboot(now, &mut self.medium.radio(rid));
                    slot.last_poll = None;
                }
            }
        }
    }
}
