//! The mesh-router role (6LR, issue 23): the same application as the border router, on
//! `wpan0` only, an RPL router in non-storing mode (MOP 1) under our root or any RFC 6550
//! root.
//!
//! The control plane is [`rpl::router::Router`] (sans-IO); [`MeshRouter`] is its shell here:
//! - **In**: the RPL control messages the core delivers (the root's handler is reused, see
//!   [`crate::app`]) — DIO, DIS, DAO-ACK — go to the router core with their link-local
//!   source.
//! - **Out**: what the core asks for (DIS, DIO, DAO) becomes ICMPv6 from our link-local
//!   address (DIO, DIS) or our global one (DAO, to the DODAG ID through the preferred
//!   parent).
//! - **Routes**: joined, the default route `::/0` goes through the preferred parent's
//!   link-local address, and `wpan0`'s uplink ([`Wpan::set_uplink`]) is the parent, so a
//!   global next hop that is not one of our neighbours goes up; detached, both go.
//! - **Targets**: our own global address is advertised in DAOs, and so are the hosts that
//!   registered with us or were gleaned from their traffic (RPL-unaware leaves, RFC 9010):
//!   the root then reaches them through us. A host's DAO lifetime never outlasts its entry
//!   (registration lifetime, or the gleaning's); when the entry goes, a No-Path follows.
//!   Neighbours heard sending DIOs are RPL routers advertising themselves, not hosts.
//! - **Source routes** (RFC 6554 §4.2): a packet for us whose Source Routing Header has
//!   segments left is handed here by the core ([`netif::stack::Match::Routing`]); the next
//!   address becomes the destination, the hop limit drops by one, the RPL Option of the
//!   outer header is checked and rewritten (RFC 6550 §11.2), and the packet goes to that
//!   neighbour. A loop in the header (one of our addresses further on) or a malformed header
//!   is dropped and counted.
//! - **Tunnel exit** (RFC 9008): a packet tunnelled to us (IPv6-in-IPv6 from the root, after
//!   its source route) loses the outer header and enters the core as if received on `wpan0`.

use core::net::Ipv6Addr;

use heapless::{Deque, Vec};
use l2_15_4::Address;
use netif::stack::{HandlerId, LocalDelivery, Match, Outcome};
use netif::{Duration, IfIndex, Instant, LinkAddr, Prefix, Route, Stack};
use rpl::hbh::RplOption;
use rpl::message::{self, Message};
use rpl::of::{Etx, Objective};
use rpl::router::{Action, DioInfo, Direction, Event, Phase, Router, RouterConfig, Verdict};
use rpl::srh::{self, Srh, Step};

use crate::registry::Origin;
use crate::root::{addr16, ms, send_icmp};
use crate::wpan::{Wpan, WpanRegistry, derive_link};

/// Candidate parents kept.
pub const PARENTS: usize = 4;
/// Addresses advertised in DAOs: ours and up to 95 hosts'.
pub const TARGETS: usize = 96;
/// Neighbours remembered as RPL routers (they sent DIOs or DIS), so they are not advertised
/// as hosts; the least recently heard is forgotten first.
pub const RPL_NEIGHBOURS: usize = 32;
/// Gleaned hosts waiting out [`HOST_SETTLE`] before they are advertised.
pub const HOST_CANDIDATES: usize = 32;
/// How long a gleaned neighbour must have been known, without a DIO or DIS, before we
/// advertise it as a host: a router that joined through us sends its first DAO (DelayDAO,
/// 1 s) before its first DIO (Trickle, Imin/2 to Imin, 2–4 s), and a claim of ours on its
/// address would outlive its own DAOs (ours has the newer path sequence).
pub const HOST_SETTLE: Duration = Duration::from_secs(10);
/// A preferred parent not heard from for this long is probed with a unicast DIS (its MAC
/// ACK, or the DIO it answers, says it is there).
pub const PARENT_PROBE: Duration = Duration::from_secs(20);
/// The probe again after a frame to the preferred parent failed.
pub const PARENT_REPROBE: Duration = Duration::from_secs(2);
/// Frames to the preferred parent that fail in a row (each after the MAC's retries) before
/// it counts as gone: local repair follows.
pub const PARENT_LOST_FRAMES: u8 = 3;
/// Router events kept for the management side.
pub const EVENTS: usize = 8;

/// The largest RPL message the router sends: a DAO with four targets, each with its own
/// Transit Information (164 bytes), or a DIO with its options.
const MAX_MESSAGE: usize = 192;

/// The ETX of the link to the neighbour with link-local address `ll` as parent selection
/// takes it: under MRHOF (OCP 1) the MAC's ageing estimate
/// ([`l2_15_4::mac::LinkStats::etx_x128`], the same ×128 fixed point), a neighbour we never
/// sent to counting as a perfect link (MRHOF's PARENT_SWITCH_THRESHOLD keeps an untried
/// neighbour from displacing a measured parent unless that parent's link costs ETX 1.5 more);
/// under OF0 and any other objective, one transmission (OF0's step Sp = 3 × ETX − 2 turns the
/// ETX wander of a busy neighbourhood into rank changes: 20 routers in one neighbourhood once
/// inflated their ranks until one detached, docs/rpl.md).
fn link_etx(core: &Router<PARENTS, TARGETS>, wpan: &Wpan<'_>, ll: &Ipv6Addr) -> Etx {
    if !core
        .dodag()
        .is_some_and(|d| matches!(d.of, Objective::Mrhof(_)))
    {
        return Etx::ONE;
    }
    wpan.mac()
        .neighbor(&derive_link(ll))
        .and_then(|s| s.etx_x128())
        .map_or(Etx::ONE, |e| Etx(e.max(Etx::DIVISOR)))
}

/// Counters of the router role. All wrap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MeshRouterStats {
    /// DIOs received.
    pub dio_rx: u32,
    /// DIOs sent.
    pub dio_tx: u32,
    /// DIS sent.
    pub dis_tx: u32,
    /// DAOs sent (No-Paths included).
    pub dao_tx: u32,
    /// DAO-ACKs received.
    pub dao_ack_rx: u32,
    /// RPL messages refused (bad checksum, malformed, not for a router).
    pub rx_invalid: u32,
    /// Messages that could not be sent (no buffer, no address yet).
    pub tx_failed: u32,
    /// Packets forwarded along a source route.
    pub srh_forwarded: u32,
    /// Source-routed packets dropped (malformed header, a loop, hop limit, RPL Option).
    pub srh_dropped: u32,
    /// Packets that left a tunnel here.
    pub decapsulated: u32,
    /// Tunnelled packets dropped (no IPv6 inside).
    pub decap_dropped: u32,
    /// Hosts not advertised for want of room in the target list.
    pub hosts_not_advertised: u32,
    /// Unicast DIS sent to a quiet preferred parent.
    pub parent_probes: u32,
    /// Preferred parents given up (frames to them failed): local repair.
    pub parents_lost: u32,
}

/// The router role: see the [module](self).
pub struct MeshRouter {
    core: Router<PARENTS, TARGETS>,
    iface: Option<IfIndex>,
    srh_handler: Option<HandlerId>,
    /// The parent the default route goes through (link-local).
    parent: Option<Ipv6Addr>,
    /// Our global address, advertised.
    own: Option<Ipv6Addr>,
    /// Link-layer addresses of neighbours that sent DIOs or DIS (RPL routers), oldest first.
    rpl_neighbours: Vec<Address, RPL_NEIGHBOURS>,
    /// Gleaned hosts not advertised yet, with when they were first seen.
    candidates: Vec<(Ipv6Addr, Instant), HOST_CANDIDATES>,
    /// When the preferred parent was last probed.
    probed: Option<Instant>,
    stats: MeshRouterStats,
    events: Deque<Event, EVENTS>,
    events_lost: u32,
}

impl core::fmt::Debug for MeshRouter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MeshRouter")
            .field("phase", &self.core.phase())
            .field("rank", &self.core.rank())
            .field("parent", &self.parent)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn bump(c: &mut u32) {
    *c = c.wrapping_add(1);
}

impl MeshRouter {
    /// An unjoined router; `seed` (e.g. from the EUI-64) seeds its jitter.
    pub fn new(seed: u32) -> Self {
        MeshRouter {
            core: Router::new(RouterConfig::DEFAULT, seed),
            iface: None,
            srh_handler: None,
            parent: None,
            own: None,
            rpl_neighbours: Vec::new(),
            candidates: Vec::new(),
            probed: None,
            stats: MeshRouterStats::default(),
            events: Deque::new(),
            events_lost: 0,
        }
    }

    /// Take source-routed packets on `wpan0` (`i`). (The RPL control messages and the
    /// tunnel come through the root's handlers, which the application hands here.)
    pub fn attach(
        &mut self,
        stack: &mut Stack<'_>,
        i: IfIndex,
    ) -> Result<(), netif::stack::IfaceError> {
        let h = stack.register_handler(Match::Routing(srh::ROUTING_TYPE), Some(i))?;
        self.iface = Some(i);
        self.srh_handler = Some(h);
        Ok(())
    }

    /// Whether `d` is a source-routed packet for the router.
    pub fn owns_source_route(&self, d: &LocalDelivery) -> bool {
        self.srh_handler == Some(d.handler)
    }

    /// Advertise our global address `addr` in DAOs (again after an address change).
    pub fn set_own_address(&mut self, now: Instant, addr: Ipv6Addr) {
        if self.own == Some(addr) {
            return;
        }
        if let Some(old) = self.own.take() {
            self.core.remove_target(ms(now), &old);
        }
        if self.core.set_target(ms(now), addr, None).is_ok() {
            self.own = Some(addr);
        }
    }

    /// Advertise the hosts of `reg` (registered or gleaned global addresses of neighbours
    /// that are not RPL routers) until their entries end, and withdraw those that left.
    pub fn sync_hosts(&mut self, now: Instant, reg: &WpanRegistry) {
        let t = ms(now);
        // Withdraw first: room for newcomers. A neighbour that turned out to be an RPL
        // router (it sent a DIO after its first DAO came through us) is forgotten quietly:
        // a No-Path from us would take away the route its own DAOs give.
        let mut gone: Vec<(Ipv6Addr, bool), TARGETS> = Vec::new();
        for target in self.core.targets() {
            if Some(target.address) == self.own {
                continue;
            }
            let entry = reg.lookup(&target.address);
            let router = entry
                .as_ref()
                .is_some_and(|e| self.rpl_neighbours.contains(&e.ll));
            let alive = entry.is_some_and(|e| self.is_host(&e));
            if !alive && target.state != rpl::router::TargetState::Withdrawing {
                let _ = gone.push((target.address, router));
            }
        }
        for (a, router) in &gone {
            if *router {
                self.core.forget_target(a);
            } else {
                self.core.remove_target(t, a);
            }
        }
        // Candidates that are no longer hosts (gone, or an RPL router after all) are dropped.
        self.candidates
            .retain(|(a, _)| reg.lookup(a).is_some_and(|e| e.origin == Origin::Gleaned));
        for e in reg.iter() {
            if !self.is_host(&e) {
                continue;
            }
            let known = self.core.targets().iter().any(|x| x.address == e.addr);
            if e.origin == Origin::Gleaned && !known {
                // A gleaned neighbour waits out HOST_SETTLE: it may be a router about to
                // send its first DIO.
                match self.candidates.iter().find(|(a, _)| *a == e.addr) {
                    Some((_, since)) if now.saturating_since(*since) >= HOST_SETTLE => {}
                    Some(_) => continue,
                    None => {
                        if self.candidates.push((e.addr, now)).is_err() {
                            bump(&mut self.stats.hosts_not_advertised);
                        }
                        continue;
                    }
                }
            }
            self.candidates.retain(|(a, _)| *a != e.addr);
            let until = e.expires.as_millis();
            if self.core.set_target(t, e.addr, Some(until)).is_err() {
                bump(&mut self.stats.hosts_not_advertised);
            }
        }
    }

    /// Feeds the router core each candidate parent's link ETX as the MAC measures it now
    /// ([`link_etx`]: under MRHOF), so the objective function reselects (with its hysteresis)
    /// when a link got worse or better; and watches the preferred parent: frames to it that
    /// keep failing make it unreachable
    /// (the router core repairs locally: another parent, or detach and poison); one not heard
    /// for [`PARENT_PROBE`] gets a unicast DIS, whose fate tells.
    pub fn check_parent(&mut self, stack: &mut Stack<'_>, wpan: &Wpan<'_>, now: Instant) {
        let mut links: Vec<(Ipv6Addr, Etx), PARENTS> = Vec::new();
        for p in self.core.parents() {
            let etx = link_etx(&self.core, wpan, &p.address);
            if etx != p.etx {
                let _ = links.push((p.address, etx));
            }
        }
        for (a, etx) in links {
            self.core.on_link_etx(ms(now), a, etx);
        }
        let (Some(i), Some(parent)) = (self.iface, self.parent) else {
            return;
        };
        if wpan.uplink_failures() >= PARENT_LOST_FRAMES {
            bump(&mut self.stats.parents_lost);
            self.core.on_parent_unreachable(ms(now), parent);
            self.probed = None;
            return;
        }
        // Any frame from the parent counts (its DIOs come from its link-local address, the
        // root's tunnels through it from another).
        let ll = derive_link(&parent);
        let heard = wpan
            .registry()
            .iter()
            .filter(|e| e.ll == ll)
            .map(|e| e.last_heard)
            .max()
            .unwrap_or(Instant::ZERO);
        // After a failed frame, probe again soon: one more failure and it is gone.
        let failing = wpan.uplink_failures() > 0;
        let every = if failing {
            PARENT_REPROBE
        } else {
            PARENT_PROBE
        };
        let quiet = failing || now.saturating_since(heard) >= PARENT_PROBE;
        let due = self.probed.is_none_or(|p| now.saturating_since(p) >= every);
        if quiet && due {
            self.probed = Some(now);
            let dis = rpl::router::DisOut {
                to: Some(parent),
                solicited: None,
            };
            let mut w = |b: &mut [u8]| dis.emit(b).ok();
            if self.send(stack, now, i, parent, None, &mut w) {
                bump(&mut self.stats.parent_probes);
            }
        }
    }

    /// `src` (a link-local source of a DIO or DIS) is an RPL router.
    fn note_rpl_neighbour(&mut self, src: &Ipv6Addr) {
        if !src.is_unicast_link_local() {
            return;
        }
        let ll = derive_link(src);
        // Most recently heard last: the one forgotten when the list is full is the one
        // heard least recently.
        if let Some(k) = self.rpl_neighbours.iter().position(|a| *a == ll) {
            self.rpl_neighbours.remove(k);
        } else if self.rpl_neighbours.is_full() {
            self.rpl_neighbours.remove(0);
        }
        let _ = self.rpl_neighbours.push(ll);
    }

    /// Whether a registry entry is a host we advertise.
    /// Never the DODAG root nor a parent candidate, whatever [`RPL_NEIGHBOURS`] forgot: the
    /// root's DAO-ACKs to our global address would make it a gleaned neighbour like any.
    fn is_host(&self, e: &crate::registry::Entry) -> bool {
        matches!(e.origin, Origin::Registered | Origin::Gleaned)
            && !e.addr.is_unicast_link_local()
            && Some(e.addr) != self.own
            && !self.rpl_neighbours.contains(&e.ll)
            && self.core.dodag().is_none_or(|d| d.dodag_id != e.addr)
            && !self
                .core
                .parents()
                .iter()
                .any(|p| derive_link(&p.address) == e.ll)
    }

    /// The router core (phase, rank, parents, DODAG, targets, counters).
    pub fn core(&self) -> &Router<PARENTS, TARGETS> {
        &self.core
    }

    /// The counters.
    pub fn stats(&self) -> MeshRouterStats {
        self.stats
    }

    /// The next router event (joined, parent changed, detached…), oldest first.
    pub fn pop_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// An RPL control message delivered by the core (the packet is freed).
    pub fn handle(&mut self, stack: &mut Stack<'_>, now: Instant, d: LocalDelivery) {
        {
            let data = stack.pool().data(&d.packet);
            let (Some(src), Some(dst), Some(icmp)) = (
                data.get(8..24).and_then(addr16),
                data.get(24..40).and_then(addr16),
                data.get(d.upper_offset..),
            ) else {
                bump(&mut self.stats.rx_invalid);
                stack.pool_mut().free(d.packet);
                return;
            };
            if !message::verify_checksum(&src, &dst, icmp) {
                bump(&mut self.stats.rx_invalid);
                stack.pool_mut().free(d.packet);
                return;
            }
            let t = ms(now);
            match Message::parse(icmp) {
                Ok(Message::Dio(dio, opts)) if src.is_unicast_link_local() => {
                    bump(&mut self.stats.dio_rx);
                    self.note_rpl_neighbour(&src);
                    match DioInfo::read(dio, opts) {
                        Ok(info) => {
                            // The link's ETX as the last housekeeping round took it from the
                            // MAC ([`MeshRouter::check_parent`]); a new candidate's is one.
                            let etx = self.core.parents().iter().find(|p| p.address == src);
                            let etx = etx.map_or(Etx::ONE, |p| p.etx);
                            self.core.on_dio(t, src, &info, etx);
                        }
                        Err(_) => bump(&mut self.stats.rx_invalid),
                    }
                }
                Ok(Message::Dis(opts)) => {
                    self.note_rpl_neighbour(&src);
                    self.core.on_dis(t, src, dst.is_multicast(), opts);
                }
                Ok(Message::DaoAck(ack, _)) => {
                    bump(&mut self.stats.dao_ack_rx);
                    self.core.on_dao_ack(t, &ack);
                }
                _ => bump(&mut self.stats.rx_invalid),
            }
        }
        stack.pool_mut().free(d.packet);
    }

    /// A packet tunnelled to us (IPv6-in-IPv6, RFC 9008): the outer header and its extension
    /// headers go, and the inner packet enters the core as if received on `wpan0`.
    pub fn decapsulate(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        d: LocalDelivery,
    ) -> Option<Outcome> {
        let out = crate::root::leave_tunnel(stack, now, d);
        match out {
            Some(_) => bump(&mut self.stats.decapsulated),
            None => bump(&mut self.stats.decap_dropped),
        }
        out
    }

    /// A packet for us whose Source Routing Header has segments left (RFC 6554 §4.2): on to
    /// the next address, or dropped and counted.
    pub fn source_route(&mut self, stack: &mut Stack<'_>, now: Instant, d: LocalDelivery) {
        match self.next_hop(stack, now, &d) {
            Some(next) => {
                if let Some(m) = stack.pool_mut().meta_mut(&d.packet) {
                    m.wire_len = 0;
                    m.ll_src = LinkAddr::NONE;
                    m.ll_dst = LinkAddr::NONE;
                }
                match stack.relay_on(now, d.iface, next, d.packet) {
                    Ok(_) => bump(&mut self.stats.srh_forwarded),
                    Err(_) => bump(&mut self.stats.srh_dropped),
                }
            }
            None => {
                bump(&mut self.stats.srh_dropped);
                stack.pool_mut().free(d.packet);
            }
        }
    }

    /// Rewrites `d` for its next hop (destination, Source Routing Header, hop limit, RPL
    /// Option); the next hop, or `None` to drop it.
    fn next_hop(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        d: &LocalDelivery,
    ) -> Option<Ipv6Addr> {
        let mut mine: [Option<Ipv6Addr>; 4] = [None; 4];
        if let Some(x) = stack.iface(d.iface) {
            for (slot, a) in mine.iter_mut().zip(x.addrs()) {
                *slot = Some(a.addr);
            }
        }
        let off = d.upper_offset;
        let data = stack.pool_mut().data_mut(&d.packet);
        let dst = data.get(24..40).and_then(addr16)?;
        let step = {
            let h = Srh::parse(data.get(off..)?).ok()?;
            srh::process(&h, &dst, |a| mine.contains(&Some(*a)))
        };
        let Step::Forward { next, i } = step else {
            return None;
        };
        // The hop limit: a packet that would leave with 0 dies here.
        let hl = data.get_mut(7)?;
        if *hl <= 1 {
            return None;
        }
        *hl -= 1;
        // RFC 6550 §11.2: the RPL Option of the hop-by-hop header, checked and rewritten.
        if data.get(6) == Some(&0) {
            let hbh = data.get(40..off)?;
            if let Some(Ok(at)) = rpl::hbh::position(hbh) {
                let opt = hbh.get(at..)?;
                let rpi = RplOption::parse(opt.get(2..)?).ok()?;
                match self.core.forward(ms(now), &rpi, Direction::Down) {
                    Verdict::Forward(out) => {
                        let ty = *opt.first()?;
                        let bytes = out.to_bytes(ty);
                        data.get_mut(40 + at..40 + at + bytes.len())?
                            .copy_from_slice(&bytes);
                    }
                    Verdict::Drop => return None,
                }
            }
        }
        srh::swap(data.get_mut(off..)?, i, &dst, &next).ok()?;
        data.get_mut(24..40)?.copy_from_slice(&next.octets());
        Some(next)
    }

    /// Runs the router core: what it asks is sent, its events change the routes.
    pub fn poll(&mut self, stack: &mut Stack<'_>, wpan: &mut Wpan<'_>, now: Instant) {
        let Some(i) = self.iface else { return };
        // Bounded: a poll hands out a few messages at most.
        for _ in 0..16 {
            let Some(a) = self.core.poll(ms(now)) else {
                break;
            };
            match a {
                Action::Event(e) => self.on_event(stack, wpan, i, e),
                Action::Dio(m) => {
                    let mut w = |b: &mut [u8]| m.emit(b).ok();
                    if self.send(stack, now, i, m.destination(), None, &mut w) {
                        bump(&mut self.stats.dio_tx);
                    }
                }
                Action::Dis(m) => {
                    let mut w = |b: &mut [u8]| m.emit(b).ok();
                    if self.send(stack, now, i, m.destination(), None, &mut w) {
                        bump(&mut self.stats.dis_tx);
                    }
                }
                Action::Dao(m) => {
                    let via = self.parent;
                    let mut w = |b: &mut [u8]| m.emit(b).ok();
                    if via.is_some() && self.send(stack, now, i, m.to, via, &mut w) {
                        bump(&mut self.stats.dao_tx);
                    } else {
                        bump(&mut self.stats.tx_failed);
                    }
                }
            }
        }
        // RFC 9008 §7: what goes up carries our RPL Option; a host's packet, a tunnel to the root.
        let up = (self.core.rpi(), self.core.dodag(), self.own);
        wpan.set_upward(match up {
            (Some(rpi), Some(d), Some(own)) => Some(crate::wpan::Upward {
                own,
                root: d.dodag_id,
                rpi,
                min_hop_rank_increase: d.config.min_hop_rank_increase,
            }),
            _ => None,
        });
    }

    /// When [`poll`](Self::poll) has work next.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.core.next_deadline().map(Instant::from_millis)
    }

    fn on_event(&mut self, stack: &mut Stack<'_>, wpan: &mut Wpan<'_>, i: IfIndex, e: Event) {
        // The DODAG decides RFC 8138 (its configuration's T flag) and the root against which
        // 6LoRH addresses are elided.
        if let Some(d) = self.core.dodag() {
            let mut o = wpan.compress_options();
            o.rfc8138 = d.config.rfc8138;
            wpan.set_compress_options(o);
            wpan.contexts_mut().set_rpl_root(Some(d.dodag_id.octets()));
        }
        match e {
            Event::Joined { parent, .. } | Event::ParentChanged { to: parent, .. } => {
                self.set_parent(stack, wpan, i, Some(parent));
            }
            Event::Detached | Event::Left => self.set_parent(stack, wpan, i, None),
            _ => {}
        }
        if self.core.phase() != Phase::Joined && self.parent.is_some() {
            self.set_parent(stack, wpan, i, None);
        }
        if self.events.push_back(e).is_err() {
            self.events_lost = self.events_lost.wrapping_add(1);
        }
    }

    /// The default route and the uplink follow the preferred parent.
    fn set_parent(
        &mut self,
        stack: &mut Stack<'_>,
        wpan: &mut Wpan<'_>,
        i: IfIndex,
        parent: Option<Ipv6Addr>,
    ) {
        let Some(default) = Prefix::new(Ipv6Addr::UNSPECIFIED, 0) else {
            return;
        };
        if self.parent.is_some() {
            let _ = stack.remove_route(&default, Some(i));
        }
        self.parent = parent;
        wpan.set_uplink(parent.map(|p| derive_link(&p)));
        if let Some(p) = parent {
            let mut r = Route::new(default, i, Some(p));
            r.origin = netif::RouteOrigin::Learned;
            if stack.add_route(r).is_err() {
                bump(&mut self.stats.tx_failed);
            }
        }
    }

    /// Sends an RPL message to `to` (through `via`, else `to` itself as the next hop) from
    /// our link-local address (to a link-local or multicast destination) or our global one.
    fn send(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        i: IfIndex,
        to: Ipv6Addr,
        via: Option<Ipv6Addr>,
        write: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
    ) -> bool {
        let src = if to.is_multicast() || to.is_unicast_link_local() {
            stack.iface(i).and_then(|x| x.link_local())
        } else {
            self.own
        };
        let Some(src) = src else {
            bump(&mut self.stats.tx_failed);
            return false;
        };
        let hop_limit = if via.is_some() { 64 } else { 255 };
        let next_hop = via.unwrap_or(to);
        let sent = send_icmp(
            stack,
            now,
            i,
            &src,
            &to,
            next_hop,
            hop_limit,
            MAX_MESSAGE,
            write,
        );
        if !sent {
            bump(&mut self.stats.tx_failed);
        }
        sent
    }
}
