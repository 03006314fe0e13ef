//! The core: interface table, routing table, packet pool, TX queues, events and the IPv6
//! input / forward / output paths.
//!
//! The core is sans-IO: every entry point takes `now`, and the core never calls a driver on
//! its own. The application (an embassy task, the simulator, a Linux process) hands received
//! frames to [`Stack::receive`] together with the interface's [`L2`], and drains the TX queues
//! into the L2 with [`Stack::transmit`]. Packets for local protocols the core does not know
//! (ND, RPL, management…) come back as [`Outcome::Local`] for the handler registered with
//! [`Stack::register_handler`], which then has the whole stack at hand to answer.

use core::fmt;
use core::net::Ipv6Addr;

use heapless::Vec;
use smoltcp::wire::IpProtocol;

use crate::addr::{self, Prefix};
use crate::config::{MAX_CLASSES, MAX_HANDLERS, MAX_IFACES, Resources, StackConfig};
use crate::event::{Event, EventQueue};
use crate::icmp::{self, IcmpError, TokenBucket, types};
use crate::iface::{
    AddrState, IfAddr, IfIndex, Iface, IfaceConfig, IngressInfo, IngressPolicy, Lifetimes,
};
use crate::l2::{EnableError, L2, L2Context, Verdict};
use crate::pool::{PacketHandle, PacketPool, PoolStats};
use crate::route::{Route, RouteAction, RouteError, RouteOrigin, RouteTable};
use crate::stats::{CoreStats, DropReason, IfaceStats};
use crate::tc::TxQueues;
use crate::time::Instant;

/// IPv6 header length.
const IPV6_HDR: usize = 40;
/// Longest chain of extension headers walked before giving up.
const MAX_EXT_HEADERS: usize = 8;

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
        let h: &[u8; IPV6_HDR] = d.get(..IPV6_HDR)?.try_into().ok()?;
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

/// Result of walking the extension headers to the upper layer.
#[derive(Clone, Copy)]
enum Upper {
    /// Upper-layer protocol and its offset.
    At(u8, usize),
    /// Drop silently (counted).
    Drop(DropReason),
    /// Drop and answer Parameter Problem (code, pointer).
    Problem(u8, u32),
}

/// Process an options header (hop-by-hop or destination options) at `off`; returns its length.
fn options_header(d: &[u8], off: usize, dst_multicast: bool) -> Result<usize, Upper> {
    let bad = Upper::Drop(DropReason::BadExtensionHeader);
    let len = d
        .get(off + 1)
        .map(|&l| (usize::from(l) + 1) * 8)
        .ok_or(Upper::Drop(DropReason::Truncated))?;
    let end = off
        .checked_add(len)
        .filter(|&e| e <= d.len())
        .ok_or(Upper::Drop(DropReason::Truncated))?;
    let mut i = off + 2;
    while i < end {
        let ty = *d.get(i).ok_or(bad)?;
        if ty == 0 {
            i += 1; // Pad1
            continue;
        }
        let olen = usize::from(
            *d.get(i + 1)
                .ok_or(Upper::Drop(DropReason::BadExtensionHeader))?,
        );
        let next = i + 2 + olen;
        if next > end {
            return Err(Upper::Drop(DropReason::BadExtensionHeader));
        }
        match ty {
            1 => {}              // PadN
            5 if olen == 2 => {} // Router Alert: nothing to intercept without MLD
            _ => match ty >> 6 {
                0 => {}
                1 => return Err(Upper::Drop(DropReason::BadExtensionHeader)),
                3 if dst_multicast => return Err(Upper::Drop(DropReason::BadExtensionHeader)),
                _ => return Err(Upper::Problem(2, i as u32)),
            },
        }
        i = next;
    }
    Ok(len)
}

/// Walk from the IPv6 header to the upper layer, processing what a destination must.
fn walk_to_upper(d: &[u8], first: u8, dst_multicast: bool) -> Upper {
    let mut next = first;
    let mut off = IPV6_HDR;
    let mut next_ptr = 6usize; // offset of the byte that named `next`
    for n in 0..MAX_EXT_HEADERS {
        match next {
            0 if n > 0 => return Upper::Problem(1, next_ptr as u32),
            0 | 60 => match options_header(d, off, dst_multicast) {
                Ok(len) => {
                    next_ptr = off;
                    next = match d.get(off) {
                        Some(&v) => v,
                        None => return Upper::Drop(DropReason::Truncated),
                    };
                    off += len;
                }
                Err(u) => return u,
            },
            43 => {
                let (Some(&nh), Some(&l), Some(&segs_left)) =
                    (d.get(off), d.get(off + 1), d.get(off + 3))
                else {
                    return Upper::Drop(DropReason::Truncated);
                };
                if segs_left != 0 {
                    // No routing type is implemented: RFC 8200 §4.4.
                    return Upper::Problem(0, (off + 2) as u32);
                }
                next_ptr = off;
                next = nh;
                off += (usize::from(l) + 1) * 8;
            }
            _ => return Upper::At(next, off),
        }
    }
    Upper::Drop(DropReason::BadExtensionHeader)
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
    icmp_bucket: TokenBucket,
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
        let bucket = TokenBucket::new(config.icmp_errors_per_sec, config.icmp_error_burst);
        Stack {
            pool,
            ifaces: Vec::new(),
            routes: RouteTable::new(&mut res.routes),
            queues: TxQueues::new(res.queues.as_flattened_mut()),
            events: EventQueue::new(&mut res.events),
            handlers: Vec::new(),
            icmp_bucket: bucket,
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

    // ----- receive path ----------------------------------------------------------------

    /// A frame arrived on interface `i`: run its L2, then IPv6 input.
    pub fn receive(
        &mut self,
        now: Instant,
        i: IfIndex,
        l2: &mut dyn L2,
        pkt: PacketHandle,
    ) -> Outcome {
        let Some(iface) = self.ifaces.get(i.get()) else {
            self.core_stats.no_iface = self.core_stats.no_iface.wrapping_add(1);
            self.pool.free(pkt);
            return Outcome::Dropped(DropReason::BadHeader);
        };
        if !iface.is_up() {
            return self.drop_pkt(i, pkt, DropReason::IfaceDown);
        }
        let mut cx = L2Context {
            now,
            iface,
            pool: &mut self.pool,
        };
        match l2.recv(&mut cx, pkt) {
            Verdict::Drop(p) => self.drop_pkt(i, p, DropReason::L2),
            Verdict::Ok => Outcome::Consumed,
            Verdict::Continue(p) => self.input(now, i, p),
        }
    }

    /// An IPv6 packet (at the packet's head) arrived on interface `i`.
    pub fn input(&mut self, now: Instant, i: IfIndex, pkt: PacketHandle) -> Outcome {
        let Some(iface) = self.ifaces.get_mut(i.get()) else {
            self.core_stats.no_iface = self.core_stats.no_iface.wrapping_add(1);
            self.pool.free(pkt);
            return Outcome::Dropped(DropReason::BadHeader);
        };
        let meta = self.pool.meta(&pkt);
        let have = self.pool.len(&pkt);
        let wire_len = if meta.wire_len > 0 {
            usize::from(meta.wire_len)
        } else {
            have
        };
        iface.stats.count_rx(wire_len);
        if !iface.is_up() {
            return self.drop_pkt(i, pkt, DropReason::IfaceDown);
        }
        if let Some(m) = self.pool.meta_mut(&pkt) {
            m.rx_iface = Some(i);
        }

        // Fixed header.
        let Some(h) = Hdr::parse(self.pool.data(&pkt)) else {
            return self.drop_pkt(i, pkt, DropReason::BadHeader);
        };
        let total = IPV6_HDR + h.payload_len;
        if h.payload_len == 0 && h.next == 0 {
            // A jumbogram (RFC 2675): not supported on these links.
            return self.drop_pkt(i, pkt, DropReason::BadExtensionHeader);
        }
        if total > wire_len {
            return self.drop_pkt(i, pkt, DropReason::Truncated);
        }
        let truncated = total > have;
        if !truncated {
            self.pool.truncate(&pkt, total); // strip link-layer padding
        }

        // Address sanity (RFC 4291 §2.5.2/§2.5.3, RFC 8200).
        if h.src.is_multicast() || h.src.is_loopback() {
            return self.drop_pkt(i, pkt, DropReason::BadSource);
        }
        if h.dst.is_unspecified() || h.dst.is_loopback() {
            return self.drop_pkt(i, pkt, DropReason::BadDestination);
        }
        if h.src.is_unspecified()
            && !(h.dst.is_multicast() && h.next == u8::from(IpProtocol::Icmpv6))
        {
            // Only ND (DAD probes, router solicitations) may come from `::`.
            return self.drop_pkt(i, pkt, DropReason::BadSource);
        }

        // Ingress policy.
        let info = IngressInfo {
            iface: i,
            src: h.src,
            dst: h.dst,
            ll_src: meta.ll_src,
        };
        let allowed = self
            .ifaces
            .get(i.get())
            .is_some_and(|x| x.ingress_policy().allows(&info));
        if !allowed {
            return self.error_and_drop(
                now,
                i,
                pkt,
                &h,
                IcmpError::DstUnreachable(5),
                DropReason::Policy,
            );
        }

        // Hop-by-hop options are examined by every node on the path (RFC 8200 §4.3).
        if h.next == 0 {
            if truncated {
                return self.drop_pkt(i, pkt, DropReason::TooBigForBuffer);
            }
            if let Err(u) = options_header(self.pool.data(&pkt), IPV6_HDR, h.dst.is_multicast()) {
                return self.upper_error(now, i, pkt, &h, u);
            }
        }

        match self.classify_dst(i, &h) {
            Some(tentative) => {
                if truncated {
                    return self.drop_pkt(i, pkt, DropReason::TooBigForBuffer);
                }
                self.local(now, i, pkt, &h, tentative)
            }
            None => self.forward(now, i, pkt, &h, wire_len, truncated),
        }
    }

    /// `Some(tentative)` when the destination is ours: a joined group on `i`, a link-local
    /// address of `i`, or a global address of any interface (weak host model).
    fn classify_dst(&self, i: IfIndex, h: &Hdr) -> Option<bool> {
        let x = self.ifaces.get(i.get())?;
        if h.dst.is_multicast() {
            return x.has_group(&h.dst).then_some(false);
        }
        if h.dst.is_unicast_link_local() {
            return x.addr(&h.dst).map(|a| a.state == AddrState::Tentative);
        }
        self.ifaces
            .iter()
            .find_map(|x| x.addr(&h.dst))
            .map(|a| a.state == AddrState::Tentative)
    }

    fn local(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        h: &Hdr,
        tentative: bool,
    ) -> Outcome {
        let (proto, off) = match walk_to_upper(self.pool.data(&pkt), h.next, h.dst.is_multicast()) {
            Upper::At(p, o) => (p, o),
            u => return self.upper_error(now, i, pkt, h, u),
        };
        let icmp = proto == u8::from(IpProtocol::Icmpv6);
        let icmp_type = if icmp {
            self.pool.data(&pkt).get(off).copied()
        } else {
            None
        };
        if icmp {
            let d = self.pool.data(&pkt);
            let ok = d
                .get(off..)
                .is_some_and(|m| m.len() >= 4 && icmp::checksum_ok(m, &h.src, &h.dst));
            if !ok {
                return self.drop_pkt(i, pkt, DropReason::BadIcmp);
            }
        }
        if tentative && !matches!(icmp_type, Some(135 | 136)) {
            // A tentative address only takes part in duplicate address detection.
            return self.drop_pkt(i, pkt, DropReason::BadDestination);
        }
        let udp_port = if proto == u8::from(IpProtocol::Udp) {
            let d = self.pool.data(&pkt);
            d.get(off + 2..off + 4)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
        } else {
            None
        };
        let handler = self.handlers.iter().find(|e| {
            e.iface.is_none_or(|x| x == i)
                && match e.m {
                    Match::Icmpv6 { first, last } => {
                        icmp_type.is_some_and(|t| (first..=last).contains(&t))
                    }
                    Match::Udp(port) => udp_port == Some(port),
                    Match::Protocol(p) => p == proto,
                }
        });
        if let Some(e) = handler.copied() {
            self.count_delivered(i);
            return Outcome::Local(LocalDelivery {
                handler: e.id,
                iface: i,
                packet: pkt,
                upper_offset: off,
                protocol: proto,
            });
        }
        match (proto, icmp_type) {
            (_, Some(types::ECHO_REQUEST)) => self.echo_reply(now, i, pkt, h, off),
            (59, _) => {
                // No Next Header: nothing to deliver.
                self.count_delivered(i);
                self.pool.free(pkt);
                Outcome::Delivered
            }
            (_, Some(_)) => self.drop_pkt(i, pkt, DropReason::NoHandler),
            (6 | 17, _) => self.error_and_drop(
                now,
                i,
                pkt,
                h,
                IcmpError::DstUnreachable(4),
                DropReason::NoHandler,
            ),
            _ => {
                // Unrecognised next header: point at the field that named it.
                let ptr = Self::next_header_ptr(self.pool.data(&pkt), h.next, off);
                self.error_and_drop(
                    now,
                    i,
                    pkt,
                    h,
                    IcmpError::ParamProblem(1, ptr),
                    DropReason::NoHandler,
                )
            }
        }
    }

    /// Offset of the next-header field that named the header at `target`.
    fn next_header_ptr(d: &[u8], first: u8, target: usize) -> u32 {
        let (mut off, mut ptr, mut next) = (IPV6_HDR, 6usize, first);
        for _ in 0..MAX_EXT_HEADERS {
            if off >= target || !matches!(next, 0 | 43 | 60) {
                break;
            }
            let (Some(&nh), Some(&l)) = (d.get(off), d.get(off + 1)) else {
                break;
            };
            ptr = off;
            next = nh;
            off += (usize::from(l) + 1) * 8;
        }
        ptr as u32
    }

    fn count_delivered(&mut self, i: IfIndex) {
        if let Some(x) = self.ifaces.get_mut(i.get()) {
            x.stats.delivered = x.stats.delivered.wrapping_add(1);
        }
    }

    fn upper_error(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        h: &Hdr,
        u: Upper,
    ) -> Outcome {
        match u {
            Upper::Problem(code, ptr) => self.error_and_drop(
                now,
                i,
                pkt,
                h,
                IcmpError::ParamProblem(code, ptr),
                DropReason::BadExtensionHeader,
            ),
            Upper::Drop(r) => self.drop_pkt(i, pkt, r),
            Upper::At(..) => self.drop_pkt(i, pkt, DropReason::BadExtensionHeader),
        }
    }

    /// Answer an echo request in place: swap addresses, strip extension headers, type 129.
    fn echo_reply(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        h: &Hdr,
        off: usize,
    ) -> Outcome {
        if h.src.is_unspecified() {
            return self.drop_pkt(i, pkt, DropReason::BadSource);
        }
        let src = if h.dst.is_multicast() {
            match self
                .ifaces
                .get(i.get())
                .and_then(|x| x.select_source(&h.src))
            {
                Some(s) => s,
                None => return self.drop_pkt(i, pkt, DropReason::NoHandler),
            }
        } else {
            h.dst
        };
        self.count_delivered(i);
        // Drop the extension headers: move the fixed header up to the ICMPv6 message.
        let ext = off - IPV6_HDR;
        if ext > 0 {
            self.pool.data_mut(&pkt).copy_within(0..IPV6_HDR, ext);
            if self.pool.pull_front(&pkt, ext).is_err() {
                return self.drop_pkt(i, pkt, DropReason::BadHeader);
            }
        }
        let hop_limit = self.config.hop_limit;
        let d = self.pool.data_mut(&pkt);
        let icmp_len = d.len().saturating_sub(IPV6_HDR);
        if let Some(hdr) = d.get_mut(..IPV6_HDR) {
            icmp::write_ipv6_header(
                hdr,
                h.tc,
                icmp_len as u16,
                IpProtocol::Icmpv6,
                hop_limit,
                &src,
                &h.src,
            );
        }
        if let Some(m) = d.get_mut(IPV6_HDR..) {
            if let Some(t) = m.first_mut() {
                *t = types::ECHO_REPLY;
            }
            icmp::fill_checksum(m, &src, &h.src);
        }
        let scoped = h.src.is_unicast_link_local().then_some((i, h.src));
        match self.output(now, pkt, scoped) {
            Ok(_) => Outcome::Delivered,
            Err(r) => Outcome::Dropped(r),
        }
    }

    fn forward(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        h: &Hdr,
        wire_len: usize,
        truncated: bool,
    ) -> Outcome {
        if !self.ifaces.get(i.get()).is_some_and(|x| x.is_forwarding()) {
            return self.drop_pkt(i, pkt, DropReason::NotForwarding);
        }
        if h.dst.is_multicast() {
            // Never forward ff02::/16 (nor any multicast: no multicast routing here).
            return self.drop_pkt(i, pkt, DropReason::Multicast);
        }
        if h.dst.is_unicast_link_local() {
            return self.drop_pkt(i, pkt, DropReason::Scope);
        }
        if h.src.is_unicast_link_local() {
            return self.error_and_drop(
                now,
                i,
                pkt,
                h,
                IcmpError::DstUnreachable(2),
                DropReason::Scope,
            );
        }
        if h.hop_limit <= 1 {
            return self.error_and_drop(
                now,
                i,
                pkt,
                h,
                IcmpError::TimeExceeded(0),
                DropReason::HopLimit,
            );
        }
        let (egress, via) = match self.routes.lookup(&h.dst, now).map(|r| r.action) {
            Some(RouteAction::Forward { iface, via }) => (iface, via),
            Some(RouteAction::Reject) => {
                return self.error_and_drop(
                    now,
                    i,
                    pkt,
                    h,
                    IcmpError::DstUnreachable(1),
                    DropReason::Rejected,
                );
            }
            None => {
                return self.error_and_drop(
                    now,
                    i,
                    pkt,
                    h,
                    IcmpError::DstUnreachable(0),
                    DropReason::NoRoute,
                );
            }
        };
        let Some(out) = self.ifaces.get(egress.get()) else {
            return self.error_and_drop(
                now,
                i,
                pkt,
                h,
                IcmpError::DstUnreachable(0),
                DropReason::NoRoute,
            );
        };
        if !out.is_up() {
            return self.error_and_drop(
                now,
                i,
                pkt,
                h,
                IcmpError::DstUnreachable(0),
                DropReason::IfaceDown,
            );
        }
        let mtu = usize::from(out.mtu());
        if wire_len > mtu {
            let e = IcmpError::PacketTooBig(mtu as u32);
            return self.error_and_drop(now, i, pkt, h, e, DropReason::TooBig);
        }
        if truncated {
            // It fits the link but not our buffers: our buffer size is the path MTU through us.
            let e = IcmpError::PacketTooBig(self.pool.max_packet() as u32);
            return self.error_and_drop(now, i, pkt, h, e, DropReason::TooBigForBuffer);
        }
        if let Some(hl) = self.pool.data_mut(&pkt).get_mut(7) {
            *hl = h.hop_limit - 1;
        }
        let next_hop = via.unwrap_or(h.dst);
        match self.enqueue(egress, pkt, h.tc, next_hop) {
            Ok(()) => {
                if let Some(x) = self.ifaces.get_mut(egress.get()) {
                    x.stats.forwarded = x.stats.forwarded.wrapping_add(1);
                }
                Outcome::Forwarded(egress)
            }
            Err(r) => Outcome::Dropped(r),
        }
    }

    /// Queue on `egress` in the class of `tc`'s DSCP; counts and frees on a full queue.
    fn enqueue(
        &mut self,
        egress: IfIndex,
        pkt: PacketHandle,
        tc: u8,
        next_hop: Ipv6Addr,
    ) -> Result<(), DropReason> {
        let class = self.config.dscp_map.class_of(tc >> 2);
        if let Some(m) = self.pool.meta_mut(&pkt) {
            m.next_hop = next_hop;
            m.class = class;
        }
        match self.queues.push(egress, class, pkt) {
            Ok(()) => Ok(()),
            Err(p) => {
                self.count_drop(egress, DropReason::QueueFull);
                self.pool.free(p);
                Err(DropReason::QueueFull)
            }
        }
    }

    // ----- ICMPv6 errors ---------------------------------------------------------------

    /// Count the drop, then (rules and rate limit permitting) turn the packet into an ICMPv6
    /// error to its source.
    fn error_and_drop(
        &mut self,
        now: Instant,
        i: IfIndex,
        pkt: PacketHandle,
        h: &Hdr,
        err: IcmpError,
        reason: DropReason,
    ) -> Outcome {
        self.count_drop(i, reason);
        if !self.may_send_error(&pkt, h, err) {
            self.pool.free(pkt);
            return Outcome::Dropped(reason);
        }
        if !self.icmp_bucket.take(now) {
            if let Some(x) = self.ifaces.get_mut(i.get()) {
                x.stats.icmp_errors_rate_limited = x.stats.icmp_errors_rate_limited.wrapping_add(1);
            }
            self.pool.free(pkt);
            return Outcome::Dropped(reason);
        }
        // A source that failed the ingress policy has no route back: answer on its link.
        let back_on_link = err == IcmpError::DstUnreachable(5);
        // Source (RFC 4443 §2.2): the address the packet was sent to if it is one of ours;
        // else an address of the interface the error leaves by (the arrival interface for a
        // link-local destination), of the destination's scope.
        let src = if self.iface_of_addr(&h.dst).is_some() {
            Some(h.dst)
        } else {
            let out = if h.src.is_unicast_link_local() || back_on_link {
                Some(i)
            } else {
                self.routes.lookup(&h.src, now).and_then(|r| r.iface())
            };
            let want_global = !h.src.is_unicast_link_local();
            let pick = |x: &Iface| {
                x.select_source(&h.src)
                    .filter(|s| !want_global || !s.is_unicast_link_local())
            };
            out.and_then(|o| self.ifaces.get(o.get()))
                .and_then(pick)
                .or_else(|| self.ifaces.iter().find_map(pick))
        };
        let Some(src) = src else {
            self.core_stats.icmp_errors_no_source =
                self.core_stats.icmp_errors_no_source.wrapping_add(1);
            self.pool.free(pkt);
            return Outcome::Dropped(reason);
        };
        if icmp::build_error(
            &mut self.pool,
            &pkt,
            err,
            &src,
            &h.src,
            self.config.hop_limit,
        )
        .is_err()
        {
            self.count_drop(i, DropReason::PoolEmpty);
            self.pool.free(pkt);
            return Outcome::Dropped(reason);
        }
        if let Some(m) = self.pool.meta_mut(&pkt) {
            m.wire_len = 0;
        }
        if let Some(x) = self.ifaces.get_mut(i.get()) {
            x.stats.icmp_errors_sent = x.stats.icmp_errors_sent.wrapping_add(1);
        }
        let scoped = (h.src.is_unicast_link_local() || back_on_link).then_some((i, h.src));
        let _ = self.output(now, pkt, scoped);
        Outcome::Dropped(reason)
    }

    /// RFC 4443 §2.4(e): never in answer to an error, nor to a multicast destination or
    /// link-layer multicast (except Packet Too Big and Parameter Problem code 2), nor to a
    /// source that does not identify a single node.
    fn may_send_error(&self, pkt: &PacketHandle, h: &Hdr, err: IcmpError) -> bool {
        if h.src.is_unspecified() || h.src.is_multicast() {
            return false;
        }
        let multicast = h.dst.is_multicast() || self.pool.meta(pkt).ll_multicast;
        if multicast && !err.allowed_for_multicast() {
            return false;
        }
        let d = self.pool.data(pkt);
        // An ICMPv6 error (type < 128), or one we cannot see the type of, gets no answer.
        !matches!(walk_to_upper(d, h.next, false), Upper::At(58, off) if d.get(off).is_none_or(|&t| t < 128))
    }

    /// The L2 could not resolve the next hop of `pkt`: count it and send Destination
    /// Unreachable, code 3 (address unreachable), to the packet's source.
    pub fn address_unreachable(&mut self, now: Instant, i: IfIndex, pkt: PacketHandle) -> Outcome {
        let Some(h) = Hdr::parse(self.pool.data(&pkt)) else {
            return self.drop_pkt(i, pkt, DropReason::AddressUnreachable);
        };
        if self.iface_of_addr(&h.src).is_some() {
            // Our own packet: nobody to tell.
            return self.drop_pkt(i, pkt, DropReason::AddressUnreachable);
        }
        // The hop limit was already decremented; the quoted packet shows it as forwarded.
        self.error_and_drop(
            now,
            i,
            pkt,
            &h,
            IcmpError::DstUnreachable(3),
            DropReason::AddressUnreachable,
        )
    }

    // ----- output ----------------------------------------------------------------------

    /// Send a locally originated IPv6 packet (complete header at the packet's head): routed
    /// by destination; link-local and multicast destinations need [`Stack::send_on`].
    pub fn send(&mut self, now: Instant, pkt: PacketHandle) -> Result<IfIndex, DropReason> {
        self.output(now, pkt, None)
    }

    /// Send a locally originated packet out of interface `i` to `next_hop` (link-local and
    /// multicast traffic such as ND).
    pub fn send_on(
        &mut self,
        now: Instant,
        i: IfIndex,
        next_hop: Ipv6Addr,
        pkt: PacketHandle,
    ) -> Result<IfIndex, DropReason> {
        self.output(now, pkt, Some((i, next_hop)))
    }

    fn output(
        &mut self,
        now: Instant,
        pkt: PacketHandle,
        scoped: Option<(IfIndex, Ipv6Addr)>,
    ) -> Result<IfIndex, DropReason> {
        let fail = |s: &mut Self, i: IfIndex, pkt: PacketHandle, r: DropReason| {
            s.count_drop(i, r);
            s.pool.free(pkt);
            Err(r)
        };
        // Failures before an egress interface is known belong to no interface.
        let unsent = |s: &mut Self, pkt: PacketHandle, r: DropReason| {
            s.core_stats.local_unsent = s.core_stats.local_unsent.wrapping_add(1);
            s.pool.free(pkt);
            Err(r)
        };
        let Some(h) = Hdr::parse(self.pool.data(&pkt)) else {
            return match scoped {
                Some((i, _)) => fail(self, i, pkt, DropReason::BadHeader),
                None => unsent(self, pkt, DropReason::BadHeader),
            };
        };
        let (egress, next_hop) = match scoped {
            Some(s) => s,
            None if h.dst.is_multicast() || h.dst.is_unicast_link_local() => {
                return unsent(self, pkt, DropReason::Scope);
            }
            None => match self.routes.lookup(&h.dst, now).map(|r| r.action) {
                Some(RouteAction::Forward { iface, via }) => (iface, via.unwrap_or(h.dst)),
                Some(RouteAction::Reject) | None => return unsent(self, pkt, DropReason::NoRoute),
            },
        };
        let Some(out) = self.ifaces.get(egress.get()) else {
            self.core_stats.no_iface = self.core_stats.no_iface.wrapping_add(1);
            self.pool.free(pkt);
            return Err(DropReason::NoRoute);
        };
        if !out.is_up() {
            return fail(self, egress, pkt, DropReason::IfaceDown);
        }
        if self.pool.len(&pkt) > usize::from(out.mtu()) {
            return fail(self, egress, pkt, DropReason::TooBig);
        }
        if let Some(m) = self.pool.meta_mut(&pkt) {
            m.rx_iface = None;
        }
        self.enqueue(egress, pkt, h.tc, next_hop)?;
        Ok(egress)
    }

    /// Take the next packet to transmit on `i` (highest class first) without an L2, e.g. to
    /// hand it to a driver task. The caller owns it.
    pub fn dequeue(&mut self, i: IfIndex) -> Option<PacketHandle> {
        self.queues.pop(i)
    }

    /// Hand every queued packet of interface `i` to its L2; returns how many were sent.
    pub fn transmit(&mut self, now: Instant, i: IfIndex, l2: &mut dyn L2) -> usize {
        self.transmit_some(now, i, l2, usize::MAX)
    }

    /// Hand at most `max` queued packets of interface `i` (highest class first) to its L2;
    /// returns how many were sent. An L2 with a shallow queue of its own (e.g. one that
    /// fragments a datagram over many frames) takes only what it has room for, so the rest
    /// keeps its traffic-class order in the core's queues.
    pub fn transmit_some(
        &mut self,
        now: Instant,
        i: IfIndex,
        l2: &mut dyn L2,
        max: usize,
    ) -> usize {
        let mut sent = 0;
        let mut taken = 0;
        while taken < max {
            let Some(pkt) = self.queues.pop(i) else { break };
            taken += 1;
            let len = self.pool.len(&pkt);
            let Some(iface) = self.ifaces.get(i.get()) else {
                self.pool.free(pkt);
                continue;
            };
            let mut cx = L2Context {
                now,
                iface,
                pool: &mut self.pool,
            };
            match l2.send(&mut cx, pkt) {
                Ok(_) => {
                    sent += 1;
                    if let Some(x) = self.ifaces.get_mut(i.get()) {
                        x.stats.count_tx(len);
                    }
                }
                Err(e) => {
                    debug!("tx error on {}: {}", i.0, e);
                    self.count_drop(i, DropReason::TxError);
                }
            }
        }
        sent
    }
}
