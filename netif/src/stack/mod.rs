//! The core: interface table, routing table, packet pool, TX queues, events and the IPv6
//! input / forward / output paths.
//!
//! The core is sans-IO: every entry point takes `now`, and the core never calls a driver on
//! its own. The application (an embassy task, the simulator, a Linux process) hands received
//! frames to [`Stack::receive`] together with the interface's [`L2`], and drains the TX queues
//! into the L2 with [`Stack::transmit`]. Packets for local protocols the core does not know
//! (ND, RPL, management…) come back as [`Outcome::Local`] for the handler registered with
//! [`Stack::register_handler`], which then has the whole stack at hand to answer.
//!
//! The work is cut by stage of a packet's trip, like smoltcp's `iface/interface/`:
//! - `mod.rs` (this file): the [`Stack`] type, interface and address administration,
//!   routes, handlers, timers and accessors;
//! - `input.rs`: receive path, local delivery and echo replies;
//! - `forward.rs`: forwarding of transit packets;
//! - `icmp_error.rs`: the ICMPv6 errors the core answers with (RFC 4443);
//! - `output.rs`: locally originated packets, TX queues, transmission.
//!
//! The IPv6 extension-header walk is [`crate::ext_header`].

use core::fmt;
use core::net::Ipv6Addr;

use heapless::Vec;

use crate::addr::{self, Prefix};
use crate::config::{MAX_CLASSES, MAX_HANDLERS, MAX_IFACES, RX_RESERVE, Resources, StackConfig};
use crate::event::{Event, EventQueue};
use crate::ext_header::IPV6_HEADER_LEN;
use crate::icmp::limit::ErrorLimiter;
use crate::iface::{AddrState, IfAddr, IfIndex, Iface, IfaceConfig, IngressPolicy, Lifetimes};
use crate::l2::{EnableError, L2, L2Context};
use crate::pool::{PacketHandle, PacketPool, PoolStats};
use crate::route::{Route, RouteAction, RouteError, RouteOrigin, RouteTable};
use crate::stats::{CoreStats, DropReason, IfaceStats};
use crate::tc::TxQueues;
use crate::time::Instant;

mod forward;
mod icmp_error;
mod input;
mod output;

/// Identifies a registered local handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HandlerId(pub u8);

/// Which locally addressed packets a handler takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Match {
    /// ICMPv6 messages with a type in `first..=last`.
    Icmpv6 {
        /// First type.
        first: u8,
        /// Last type.
        last: u8,
    },
    /// UDP to a port.
    Udp(u16),
    /// Any packet whose upper-layer protocol is this next-header value.
    Protocol(u8),
    /// A packet whose routing header of this Routing Type has segments left (delivered with
    /// `upper_offset` at the routing header and `protocol` 43): a source-routing node
    /// processes it and puts the packet back with [`Stack::input`]. Without such a handler
    /// the packet gets Parameter Problem (RFC 8200 §4.4).
    Routing(u8),
}

/// A packet for a registered handler.
#[derive(Debug, PartialEq, Eq)]
pub struct LocalDelivery {
    /// The handler that asked for it.
    pub handler: HandlerId,
    /// Interface it arrived on.
    pub iface: IfIndex,
    /// The whole IPv6 packet (the handler frees it or sends it on).
    pub packet: PacketHandle,
    /// Offset of the upper-layer header inside the packet.
    pub upper_offset: usize,
    /// Upper-layer protocol (next-header value).
    pub protocol: u8,
}

/// What became of a received packet.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The L2 kept or consumed the frame (e.g. a fragment awaiting the rest).
    Consumed,
    /// Dropped (and counted) for this reason; an ICMPv6 error may have been queued.
    Dropped(DropReason),
    /// Handled by the core itself (e.g. an echo reply is queued).
    Delivered,
    /// Queued for transmission on this interface.
    Forwarded(IfIndex),
    /// For a registered handler.
    Local(LocalDelivery),
}

/// Why an interface operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum IfaceError {
    /// The interface table is full.
    TableFull,
    /// No interface with that index.
    NoSuchIface,
    /// The name is longer than 8 bytes or already used.
    BadName,
    /// The per-interface address or group table is full.
    AddrTableFull,
    /// The address is not valid here (multicast, unspecified, loopback, prefix > 128).
    BadAddr,
    /// No such address.
    NoSuchAddr,
    /// The handler table is full.
    HandlerTableFull,
    /// The L2 refused.
    L2(EnableError),
    /// The routing table refused.
    Route(RouteError),
}

impl IfaceError {
    /// The message [`fmt::Display`] prints, as a prefix and a message (the prefix names the
    /// layer that refused and is empty for the core's own errors), for callers that avoid
    /// `core::fmt`.
    pub const fn parts(&self) -> (&'static str, &'static str) {
        match self {
            IfaceError::TableFull => ("", "interface table full"),
            IfaceError::NoSuchIface => ("", "no such interface"),
            IfaceError::BadName => ("", "interface name too long or already in use"),
            IfaceError::AddrTableFull => ("", "address table of the interface full"),
            IfaceError::BadAddr => ("", "address not usable as an interface address"),
            IfaceError::NoSuchAddr => ("", "no such address"),
            IfaceError::HandlerTableFull => ("", "handler table full"),
            IfaceError::L2(e) => ("link layer: ", e.as_str()),
            IfaceError::Route(e) => ("routing: ", e.as_str()),
        }
    }
}

impl fmt::Display for IfaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, message) = self.parts();
        f.write_str(prefix)?;
        f.write_str(message)
    }
}
impl core::error::Error for IfaceError {}

/// The fixed part of an IPv6 header, read from the first 40 bytes.
#[derive(Clone, Copy, Debug)]
struct Hdr {
    tc: u8,
    payload_len: usize,
    next: u8,
    hop_limit: u8,
    src: Ipv6Addr,
    dst: Ipv6Addr,
}

impl Hdr {
    fn parse(d: &[u8]) -> Option<Hdr> {
        let h: &[u8; IPV6_HEADER_LEN] = d.get(..IPV6_HEADER_LEN)?.try_into().ok()?;
        if h[0] >> 4 != 6 {
            return None;
        }
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src.copy_from_slice(&h[8..24]);
        dst.copy_from_slice(&h[24..40]);
        Some(Hdr {
            tc: (h[0] << 4) | (h[1] >> 4),
            payload_len: usize::from(u16::from_be_bytes([h[4], h[5]])),
            next: h[6],
            hop_limit: h[7],
            src: Ipv6Addr::from(src),
            dst: Ipv6Addr::from(dst),
        })
    }
}

#[derive(Clone, Copy, Debug)]
struct HandlerEntry {
    id: HandlerId,
    m: Match,
    iface: Option<IfIndex>,
}

/// The shared interface core (see the module docs).
pub struct Stack<'r> {
    config: StackConfig,
    pool: PacketPool<'r>,
    ifaces: Vec<Iface, MAX_IFACES>,
    routes: RouteTable<'r>,
    queues: TxQueues<'r>,
    events: EventQueue<'r>,
    handlers: Vec<HandlerEntry, MAX_HANDLERS>,
    icmp_limiter: ErrorLimiter,
    core_stats: CoreStats,
}

impl fmt::Debug for Stack<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stack")
            .field("ifaces", &self.ifaces.len())
            .field("routes", &self.routes.len())
            .field("pool", &self.pool)
            .finish()
    }
}

impl<'r> Stack<'r> {
    /// A stack over `res`, with no interfaces yet.
    pub fn new<const P: usize, const B: usize, const R: usize, const Q: usize, const E: usize>(
        config: StackConfig,
        res: &'r mut Resources<P, B, R, Q, E>,
    ) -> Self {
        let pool = PacketPool::new(
            res.buffers.as_flattened_mut(),
            &mut res.slots,
            config.headroom,
        );
        Stack {
            pool,
            ifaces: Vec::new(),
            routes: RouteTable::new(&mut res.routes),
            queues: TxQueues::new(
                res.queues.as_flattened_mut(),
                P.saturating_sub(RX_RESERVE).max(P.div_ceil(2)),
            ),
            events: EventQueue::new(&mut res.events),
            handlers: Vec::new(),
            icmp_limiter: ErrorLimiter::new(),
            core_stats: CoreStats::default(),
            config,
        }
    }

    // ----- accessors -------------------------------------------------------------------

    /// Configuration in use.
    pub fn config(&self) -> &StackConfig {
        &self.config
    }
    /// The packet pool.
    pub fn pool(&self) -> &PacketPool<'r> {
        &self.pool
    }
    /// The packet pool, writable (to allocate packets to send, or free handled ones).
    pub fn pool_mut(&mut self) -> &mut PacketPool<'r> {
        &mut self.pool
    }
    /// Pool counters.
    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }
    /// An interface.
    pub fn iface(&self, i: IfIndex) -> Option<&Iface> {
        self.ifaces.get(i.get())
    }
    /// Every interface.
    pub fn ifaces(&self) -> impl Iterator<Item = &Iface> {
        self.ifaces.iter()
    }
    /// The interface with this name.
    pub fn iface_by_name(&self, name: &str) -> Option<IfIndex> {
        self.ifaces
            .iter()
            .find(|i| i.name() == name)
            .map(|i| i.index())
    }
    /// The routing table.
    pub fn routes(&self) -> &RouteTable<'r> {
        &self.routes
    }
    /// Counters of an interface.
    pub fn stats(&self, i: IfIndex) -> Option<IfaceStats> {
        self.iface(i).map(|x| *x.stats())
    }
    /// Reset the counters of an interface.
    pub fn reset_stats(&mut self, i: IfIndex) {
        if let Some(x) = self.ifaces.get_mut(i.get()) {
            x.stats = IfaceStats::default();
        }
    }
    /// Counters of the core.
    pub fn core_stats(&self) -> CoreStats {
        CoreStats {
            events_overflowed: self.events.overflowed,
            icmp_errors_total_limited: self.icmp_limiter.total_limited,
            icmp_limiter_evictions: self.icmp_limiter.evictions,
            ..self.core_stats
        }
    }
    /// Next pending event.
    pub fn pop_event(&mut self) -> Option<Event> {
        self.events.pop()
    }
    /// Events waiting.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }
    /// Packets waiting in an interface's TX queues, per class (0 = lowest).
    pub fn queue_lens(&self, i: IfIndex) -> [u16; MAX_CLASSES] {
        self.queues.lens(i)
    }
    /// Depth of each class queue.
    pub fn queue_depth(&self) -> usize {
        self.queues.depth()
    }

    fn count_drop(&mut self, i: IfIndex, r: DropReason) {
        match self.ifaces.get_mut(i.get()) {
            Some(x) => x.stats.count_drop(r),
            None => self.core_stats.no_iface = self.core_stats.no_iface.wrapping_add(1),
        }
    }
    fn drop_pkt(&mut self, i: IfIndex, pkt: PacketHandle, r: DropReason) -> Outcome {
        trace!("drop on {}: {}", i.0, r.label());
        self.count_drop(i, r);
        self.pool.free(pkt);
        Outcome::Dropped(r)
    }

    // ----- interfaces ------------------------------------------------------------------

    /// Add an interface (administratively down until [`Stack::set_admin`]). Joins all-nodes
    /// (and all-routers when forwarding) and configures the link-local address if asked.
    pub fn add_iface(
        &mut self,
        now: Instant,
        cfg: &IfaceConfig<'_>,
    ) -> Result<IfIndex, IfaceError> {
        if self.ifaces.iter().any(|i| i.name() == cfg.name) {
            return Err(IfaceError::BadName);
        }
        let idx = IfIndex(self.ifaces.len() as u8);
        let mut iface = Iface::new(idx, cfg).ok_or(IfaceError::BadName)?;
        iface.join(addr::ALL_NODES);
        if cfg.forwarding {
            iface.join(addr::ALL_ROUTERS);
        }
        self.ifaces.push(iface).map_err(|_| IfaceError::TableFull)?;
        if cfg.auto_link_local
            && let Some(iid) = cfg.ll_addr.to_iid()
        {
            let ll = addr::link_local(iid);
            self.add_addr(now, idx, ll, 64, Lifetimes::INFINITE, AddrState::Preferred)?;
        }
        Ok(idx)
    }

    fn iface_mut(&mut self, i: IfIndex) -> Result<&mut Iface, IfaceError> {
        self.ifaces.get_mut(i.get()).ok_or(IfaceError::NoSuchIface)
    }

    fn set_state(
        &mut self,
        i: IfIndex,
        admin: Option<bool>,
        oper: Option<bool>,
    ) -> Result<(), IfaceError> {
        let x = self.iface_mut(i)?;
        let was = x.is_up();
        if let Some(a) = admin {
            x.admin_up = a;
        }
        if let Some(o) = oper {
            x.oper_up = o;
        }
        let is = x.is_up();
        if was != is {
            self.events.push(if is {
                Event::IfaceUp(i)
            } else {
                Event::IfaceDown(i)
            });
            if !is {
                // Nothing queued on a down interface will ever leave: free it now.
                while let Some(p) = self.queues.pop(i) {
                    self.count_drop(i, DropReason::IfaceDown);
                    self.pool.free(p);
                }
            }
        }
        Ok(())
    }

    /// Bring an interface administratively up or down, asking its L2 first.
    pub fn set_admin(
        &mut self,
        now: Instant,
        i: IfIndex,
        l2: &mut dyn L2,
        up: bool,
    ) -> Result<(), IfaceError> {
        let iface = self.ifaces.get(i.get()).ok_or(IfaceError::NoSuchIface)?;
        let mut cx = L2Context {
            now,
            iface,
            pool: &mut self.pool,
        };
        l2.enable(&mut cx, up).map_err(IfaceError::L2)?;
        self.set_state(i, Some(up), None)
    }

    /// Report the link (carrier) state from the driver.
    pub fn set_link_up(&mut self, i: IfIndex, up: bool) -> Result<(), IfaceError> {
        self.set_state(i, None, Some(up))
    }

    /// Change the MTU (e.g. the Ethernet driver learns it).
    pub fn set_mtu(&mut self, i: IfIndex, mtu: u16) -> Result<(), IfaceError> {
        self.iface_mut(i)?.mtu = mtu;
        Ok(())
    }

    /// Turn forwarding of transit packets received on `i` on or off.
    pub fn set_forwarding(&mut self, i: IfIndex, on: bool) -> Result<(), IfaceError> {
        let x = self.iface_mut(i)?;
        if x.forwarding != on {
            x.forwarding = on;
            if on {
                if !x.join(addr::ALL_ROUTERS) {
                    return Err(IfaceError::AddrTableFull);
                }
            } else {
                x.leave(addr::ALL_ROUTERS);
            }
        }
        Ok(())
    }

    /// Trust (the default) or ignore the DSCP of packets received on `i` when they are
    /// forwarded: an untrusted link's packets go in the class of DSCP 0 (default forwarding),
    /// so its hosts cannot buy priority on another link.
    pub fn set_trust_dscp(&mut self, i: IfIndex, on: bool) -> Result<(), IfaceError> {
        self.iface_mut(i)?.trust_dscp = on;
        Ok(())
    }

    /// Replace the ingress policy of an interface.
    pub fn set_ingress_policy(&mut self, i: IfIndex, p: IngressPolicy) -> Result<(), IfaceError> {
        self.iface_mut(i)?.ingress = p;
        Ok(())
    }

    /// Join a multicast group on an interface.
    pub fn join_group(&mut self, i: IfIndex, group: Ipv6Addr) -> Result<(), IfaceError> {
        if !group.is_multicast() {
            return Err(IfaceError::BadAddr);
        }
        if self.iface_mut(i)?.join(group) {
            Ok(())
        } else {
            Err(IfaceError::AddrTableFull)
        }
    }

    /// Leave a multicast group.
    pub fn leave_group(&mut self, i: IfIndex, group: Ipv6Addr) -> Result<(), IfaceError> {
        if self.iface_mut(i)?.leave(group) {
            Ok(())
        } else {
            Err(IfaceError::NoSuchAddr)
        }
    }

    /// Assign a unicast address. A prefix length below 128 installs the connected route for
    /// the prefix (not for link-local). Joins the solicited-node group unless the L2 says
    /// `NO_AUTO_JOIN_SOLICITED`. Re-adding an existing address updates its lifetimes.
    pub fn add_addr(
        &mut self,
        now: Instant,
        i: IfIndex,
        a: Ipv6Addr,
        prefix_len: u8,
        life: Lifetimes,
        state: AddrState,
    ) -> Result<(), IfaceError> {
        if a.is_multicast() || a.is_unspecified() || a.is_loopback() || prefix_len > 128 {
            return Err(IfaceError::BadAddr);
        }
        let entry = IfAddr {
            addr: a,
            prefix_len,
            state,
            valid_until: life.valid.map(|d| now + d),
            preferred_until: life.preferred.map(|d| now + d),
        };
        let x = self.iface_mut(i)?;
        if let Some(e) = x.addrs.iter_mut().find(|e| e.addr == a) {
            *e = entry;
            return Ok(());
        }
        x.addrs.push(entry).map_err(|_| IfaceError::AddrTableFull)?;
        if x.auto_solicited() && !x.join(addr::solicited_node(&a)) {
            x.addrs.pop();
            return Err(IfaceError::AddrTableFull);
        }
        self.events.push(Event::AddrAdded(i, a));
        if prefix_len < 128 && !a.is_unicast_link_local() {
            let prefix = entry.prefix();
            let r = Route {
                prefix,
                action: RouteAction::Forward {
                    iface: i,
                    via: None,
                },
                metric: 0,
                origin: RouteOrigin::Connected,
                expires: None,
            };
            match self.routes.insert(r) {
                Ok(true) => self.events.push(Event::RouteAdded(prefix, Some(i))),
                Ok(false) => {}
                Err(e) => {
                    // Keep the interface consistent: no address without its on-link route.
                    let _ = self.remove_addr(i, a);
                    return Err(IfaceError::Route(e));
                }
            }
        }
        Ok(())
    }

    /// Remove a unicast address (and the connected route when no other address on the
    /// interface shares its prefix).
    pub fn remove_addr(&mut self, i: IfIndex, a: Ipv6Addr) -> Result<(), IfaceError> {
        let x = self.iface_mut(i)?;
        let pos = x
            .addrs
            .iter()
            .position(|e| e.addr == a)
            .ok_or(IfaceError::NoSuchAddr)?;
        let gone = x.addrs.swap_remove(pos);
        if x.auto_solicited() {
            x.leave(addr::solicited_node(&a));
        }
        let prefix = gone.prefix();
        let shared = x
            .addrs
            .iter()
            .any(|e| e.prefix_len == gone.prefix_len && e.prefix() == prefix);
        self.events.push(Event::AddrRemoved(i, a));
        if gone.prefix_len < 128
            && !shared
            && self
                .routes
                .remove(&prefix, Some(i), Some(RouteOrigin::Connected))
                > 0
        {
            self.events.push(Event::RouteRemoved(prefix, Some(i)));
        }
        Ok(())
    }

    /// Change an address's state (e.g. duplicate address detection finished).
    pub fn set_addr_state(
        &mut self,
        i: IfIndex,
        a: Ipv6Addr,
        state: AddrState,
    ) -> Result<(), IfaceError> {
        let x = self.iface_mut(i)?;
        let e = x
            .addrs
            .iter_mut()
            .find(|e| e.addr == a)
            .ok_or(IfaceError::NoSuchAddr)?;
        e.state = state;
        Ok(())
    }

    /// The interface holding unicast address `a` (usable, not tentative), if any.
    pub fn iface_of_addr(&self, a: &Ipv6Addr) -> Option<IfIndex> {
        self.ifaces
            .iter()
            .find(|x| x.has_addr(a))
            .map(|x| x.index())
    }

    // ----- routes ----------------------------------------------------------------------

    /// Install (or replace) a route.
    pub fn add_route(&mut self, r: Route) -> Result<(), RouteError> {
        if let Some(i) = r.iface()
            && self.ifaces.get(i.get()).is_none()
        {
            return Err(RouteError::NoSuchIface);
        }
        if self.routes.insert(r)? {
            self.events.push(Event::RouteAdded(r.prefix, r.iface()));
        }
        Ok(())
    }

    /// Remove the routes for `prefix` (only those through `iface`, if given).
    pub fn remove_route(
        &mut self,
        prefix: &Prefix,
        iface: Option<IfIndex>,
    ) -> Result<(), RouteError> {
        if self.routes.remove(prefix, iface, None) == 0 {
            return Err(RouteError::NotFound);
        }
        self.events.push(Event::RouteRemoved(*prefix, iface));
        Ok(())
    }

    /// Longest-prefix match for `dst`.
    pub fn lookup_route(&self, dst: &Ipv6Addr, now: Instant) -> Option<&Route> {
        self.routes.lookup(dst, now)
    }

    /// Register a local handler; matching packets come back as [`Outcome::Local`].
    pub fn register_handler(
        &mut self,
        m: Match,
        iface: Option<IfIndex>,
    ) -> Result<HandlerId, IfaceError> {
        let id = HandlerId(self.handlers.len() as u8);
        self.handlers
            .push(HandlerEntry { id, m, iface })
            .map_err(|_| IfaceError::HandlerTableFull)?;
        Ok(id)
    }

    /// Timers: deprecate and remove addresses, expire routes. Call at least once a second.
    pub fn poll(&mut self, now: Instant) {
        for idx in 0..self.ifaces.len() {
            let i = IfIndex(idx as u8);
            while let Some(x) = self.ifaces.get_mut(idx) {
                let mut expired = None;
                for e in x.addrs.iter_mut() {
                    if e.valid_until.is_some_and(|t| t <= now) {
                        expired = Some(e.addr);
                        break;
                    }
                    if e.state == AddrState::Preferred
                        && e.preferred_until.is_some_and(|t| t <= now)
                    {
                        e.state = AddrState::Deprecated;
                        self.events.push(Event::AddrDeprecated(i, e.addr));
                    }
                }
                match expired {
                    Some(a) => {
                        let _ = self.remove_addr(i, a);
                    }
                    None => break,
                }
            }
        }
        while let Some(r) = self.routes.take_expired(now) {
            self.events.push(Event::RouteRemoved(r.prefix, r.iface()));
        }
    }
}
