//! Neighbor discovery on the backbone (RFC 4861, RFC 4862, RFC 4191): the parts of
//! [`EthernetL2`] that need the whole [`Stack`].
//!
//! - [`EthernetL2::attach`] registers the ND handler (ICMPv6 133..=137) on the interface.
//! - [`EthernetL2::handle_local`] takes the core's [`LocalDelivery`] of an ND message,
//!   validates it ([`crate::nd::NdMessage::parse`]), frees the packet and acts: answers NS for
//!   our addresses (defending them against DAD probes), updates the neighbor cache from NA,
//!   detects duplicates of our tentative addresses, answers RS (router role), learns SLAAC
//!   addresses, the default route and RIO routes from RAs (host role).
//! - [`EthernetL2::poll`] runs the timers: NUD (retransmissions, DELAY → PROBE, REACHABLE →
//!   STALE, failures returned to the core as address unreachable), DAD, periodic RAs, RSs.

use core::net::Ipv6Addr;

use heapless::Vec;
use netif::addr::{self, ALL_NODES, ALL_ROUTERS};
use netif::route::RouteAction;
use netif::stack::IfaceError;
use netif::{
    AddrState, Duration, HandlerId, IfIndex, Instant, Lifetimes, LocalDelivery, Match, Prefix,
    Route, RouteOrigin, Stack,
};

use crate::config::{MAX_RIO, StaticConfig};
use crate::eth::{Dad, EthernetL2, NdEvent};
use crate::nd::{NdError, NdMessage, Outgoing, PrefixInfo};
use crate::neighbor::NeighborState;
use crate::wire::{self, Mac, RouteInfo, RoutePreference};

/// Why an address could not be configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AddrError {
    /// [`EthernetL2::attach`] was not called.
    NotAttached,
    /// Too many addresses under DAD at once.
    DadTableFull,
    /// The core refused.
    Core(IfaceError),
}

impl core::fmt::Display for AddrError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AddrError::NotAttached => f.write_str("the Ethernet L2 is not attached to a stack"),
            AddrError::DadTableFull => f.write_str("too many addresses under DAD"),
            AddrError::Core(e) => write!(f, "interface core: {e}"),
        }
    }
}
impl core::error::Error for AddrError {}

/// Two hours (RFC 4862 §5.5.3 e).
const TWO_HOURS: Duration = Duration::from_secs(7200);
/// At most one [`NdEvent::PrefixConflict`] burst (one RA's refused options) this often;
/// every refused option is counted.
const CONFLICT_EVENT_INTERVAL: Duration = Duration::from_secs(60);

fn secs(s: u32) -> Option<Duration> {
    (s != u32::MAX).then(|| Duration::from_secs(u64::from(s)))
}

fn ipv6_header(d: &[u8]) -> Option<(Ipv6Addr, Ipv6Addr, u8)> {
    let hl = *d.get(7)?;
    let s: [u8; 16] = d.get(8..24)?.try_into().ok()?;
    let t: [u8; 16] = d.get(24..40)?.try_into().ok()?;
    Some((Ipv6Addr::from(s), Ipv6Addr::from(t), hl))
}

impl EthernetL2 {
    /// Bind to interface `i` of `stack` and register the ND handler there.
    pub fn attach(&mut self, stack: &mut Stack<'_>, i: IfIndex) -> Result<HandlerId, IfaceError> {
        let id = stack.register_handler(
            Match::Icmpv6 {
                first: crate::nd::ROUTER_SOLICIT,
                last: crate::nd::REDIRECT,
            },
            Some(i),
        )?;
        self.iface = Some(i);
        self.handler = Some(id);
        Ok(id)
    }

    /// Take a local delivery: ND messages for our handler are handled (and their packet
    /// freed); anything else is given back.
    pub fn handle_local(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        d: LocalDelivery,
    ) -> Option<LocalDelivery> {
        if self.handler != Some(d.handler) {
            return Some(d);
        }
        let parsed = {
            let data = stack.pool().data(&d.packet);
            let meta = stack.pool().meta(&d.packet);
            let ll_src = (meta.ll_src.len() == 6).then(|| Mac::from_bytes(meta.ll_src.as_bytes()));
            ipv6_header(data).map(|(src, dst, hl)| {
                let icmp = data.get(d.upper_offset..).unwrap_or(&[]);
                (src, dst, ll_src, NdMessage::parse(&src, &dst, hl, icmp))
            })
        };
        stack.pool_mut().free(d.packet);
        if self.iface != Some(d.iface) {
            self.nd_stats.wrong_handler = self.nd_stats.wrong_handler.wrapping_add(1);
            return None;
        }
        let Some((src, dst, ll_src, msg)) = parsed else {
            self.nd_stats.invalid_length = self.nd_stats.invalid_length.wrapping_add(1);
            return None;
        };
        let s = &mut self.nd_stats;
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                let c = match e {
                    NdError::HopLimit => &mut s.invalid_hop_limit,
                    NdError::Code => &mut s.invalid_code,
                    NdError::Length => &mut s.invalid_length,
                    NdError::Option => &mut s.invalid_option,
                    _ => &mut s.invalid_other,
                };
                *c = c.wrapping_add(1);
                return None;
            }
        };
        let _ = dst;
        match msg {
            NdMessage::NeighborSolicit { target, sllao } => {
                s.rx_ns = s.rx_ns.wrapping_add(1);
                self.on_ns(stack, now, d.iface, src, ll_src, target, sllao);
            }
            NdMessage::NeighborAdvert {
                router,
                solicited,
                override_,
                target,
                tllao,
            } => {
                s.rx_na = s.rx_na.wrapping_add(1);
                let own = stack.iface(d.iface).and_then(|x| x.addr(&target)).copied();
                match own {
                    Some(a) if a.state == AddrState::Tentative => {
                        self.dad_failed(stack, d.iface, target)
                    }
                    Some(_) => {
                        self.nd_stats.na_for_own_addr =
                            self.nd_stats.na_for_own_addr.wrapping_add(1);
                        warn!("another node advertises one of our addresses");
                    }
                    None => self.on_advert(
                        stack.pool_mut(),
                        now,
                        target,
                        (router, solicited, override_),
                        tllao,
                    ),
                }
            }
            NdMessage::RouterSolicit { sllao } => {
                s.rx_rs = s.rx_rs.wrapping_add(1);
                if let Some(m) = sllao {
                    self.glean(stack.pool_mut(), src, m, now, false);
                }
                self.on_rs(now);
            }
            NdMessage::RouterAdvert { .. } => {
                s.rx_ra = s.rx_ra.wrapping_add(1);
                self.on_ra(stack, now, d.iface, src, msg);
            }
            NdMessage::Redirect => {
                s.rx_redirect = s.rx_redirect.wrapping_add(1);
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn on_ns(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        i: IfIndex,
        src: Ipv6Addr,
        ll_src: Option<Mac>,
        target: Ipv6Addr,
        sllao: Option<Mac>,
    ) {
        let Some(x) = stack.iface(i) else { return };
        let forwarding = x.is_forwarding();
        let Some(a) = x.addr(&target).copied() else {
            self.nd_stats.ns_not_ours = self.nd_stats.ns_not_ours.wrapping_add(1);
            return;
        };
        if a.state == AddrState::Tentative {
            // RFC 4862 §5.4.3: another node's DAD probe for our tentative address.
            if src.is_unspecified() {
                self.dad_failed(stack, i, target);
            }
            return;
        }
        let me = self.mac;
        if src.is_unspecified() {
            // Someone probes for an address we hold: defend it (RFC 4861 §7.2.4).
            self.nd_stats.dad_defended = self.nd_stats.dad_defended.wrapping_add(1);
            let na = Outgoing::Na {
                target,
                router: forwarding,
                solicited: false,
                override_: true,
                tllao: me,
            };
            let mac = wire::ipv6_multicast_mac(&ALL_NODES);
            self.send_nd(stack.pool_mut(), &target, &ALL_NODES, mac, &na);
            return;
        }
        if let Some(m) = sllao {
            self.glean(stack.pool_mut(), src, m, now, false);
        }
        let cached = self
            .neighbor(&src)
            .and_then(|n| n.mac)
            .map(smoltcp::wire::EthernetAddress);
        let Some(mac) = sllao.or(cached).or(ll_src) else {
            return;
        };
        let na = Outgoing::Na {
            target,
            router: forwarding,
            solicited: true,
            override_: true,
            tllao: me,
        };
        self.send_nd(stack.pool_mut(), &target, &src, mac, &na);
    }

    /// RFC 4861 §6.2.6: answer an RS with a multicast RA after a random delay, no sooner than
    /// MIN_DELAY_BETWEEN_RAS after the last one.
    fn on_rs(&mut self, now: Instant) {
        let Some(r) = self.cfg.router.as_ref() else {
            return;
        };
        let (max_delay, min_between) = (r.max_ra_delay, r.min_delay_between_ras);
        let mut t = now + self.jitter(Duration::ZERO, max_delay);
        if let Some(last) = self.last_ra {
            t = t.max(last + min_between);
        }
        self.next_ra = Some(self.next_ra.map_or(t, |n| n.min(t)));
    }

    fn on_ra(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        i: IfIndex,
        src: Ipv6Addr,
        msg: NdMessage,
    ) {
        let NdMessage::RouterAdvert {
            router_lifetime,
            reachable_time,
            sllao,
            mtu,
            prefixes,
            routes,
            ..
        } = msg
        else {
            return;
        };
        if let Some(m) = sllao {
            self.glean(stack.pool_mut(), src, m, now, true);
        } else if let Some(e) = self.cache.entries.iter_mut().find(|n| n.ip == src) {
            e.is_router = true;
        }
        // Prefixes inside ours are refused and reported in every role: a static backbone
        // takes nothing from RAs, but other hosts on the backbone do.
        let host = self.cfg.host;
        for r in routes
            .iter()
            .filter(|r| r.preference != RoutePreference::Reserved)
        {
            if let Some(p) = Prefix::new(r.prefix, r.prefix_len)
                && !self.refuse_ours(stack, now, i, p)
                && host.is_some_and(|h| h.accept_rio)
            {
                self.learn_route(stack, now, i, p, Some(src), r.lifetime);
            }
        }
        for pi in prefixes.iter() {
            let Some(p) = Prefix::new(pi.prefix, pi.prefix_len) else {
                continue;
            };
            if pi.prefix.is_unicast_link_local() || self.refuse_ours(stack, now, i, p) {
                continue;
            }
            let Some(h) = host else { continue };
            // RFC 4861 §6.3.4, RFC 5942 §4: only the L flag makes a prefix on-link.
            if pi.on_link {
                self.learn_route(stack, now, i, p, None, pi.valid);
            }
            if h.slaac {
                self.slaac(stack, now, i, pi);
            }
        }
        let Some(host) = host else {
            return; // A router does not configure itself from other routers' RAs.
        };
        self.rs_left = 0;
        self.next_rs = None;
        if reachable_time != 0 {
            let base = Duration::from_millis(u64::from(reachable_time));
            if base != self.cfg.base_reachable_time {
                self.cfg.base_reachable_time = base;
                self.reachable_time = self.draw_reachable_time();
            }
        }
        if let Some(m) = mtu
            && (1280..=1500).contains(&m)
        {
            let _ = stack.set_mtu(i, m as u16);
        }
        if host.default_route {
            self.learn_route(
                stack,
                now,
                i,
                Prefix::DEFAULT,
                Some(src),
                u32::from(router_lifetime),
            );
            if router_lifetime != 0 {
                self.push_event(NdEvent::RouterLearned(src));
            }
        }
    }

    /// Whether `p`, offered on interface `i` by a router, lies inside a prefix connected on
    /// another interface (the mesh prefix, which the 6LBR advertises toward the mesh): then
    /// it is refused (counted; [`NdEvent::PrefixConflict`] at most once a minute, for every
    /// option of the RA that raised it), so a router on the backbone can neither give us an
    /// address nor a route that would take the mesh's traffic.
    fn refuse_ours(&mut self, stack: &Stack<'_>, now: Instant, i: IfIndex, p: Prefix) -> bool {
        let ours = stack.routes().iter().any(|r| {
            r.origin == RouteOrigin::Connected
                && r.iface() != Some(i)
                && r.prefix.prefix_len() <= p.prefix_len()
                && r.prefix.contains(&p.addr())
        });
        if !ours {
            return false;
        }
        self.nd_stats.ra_prefix_conflicts = self.nd_stats.ra_prefix_conflicts.wrapping_add(1);
        warn!("a backbone router advertises a prefix inside ours: refused");
        if self
            .conflict_event_at
            .is_none_or(|t| t == now || now >= t + CONFLICT_EVENT_INTERVAL)
        {
            self.conflict_event_at = Some(now);
            self.push_event(NdEvent::PrefixConflict(p));
        }
        true
    }

    /// Install, refresh or (lifetime 0) remove a route learned from an RA: through `via`,
    /// or on-link (`None`, a PIO with the L flag).
    fn learn_route(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        i: IfIndex,
        prefix: Prefix,
        via: Option<Ipv6Addr>,
        lifetime: u32,
    ) {
        let action = RouteAction::Forward { iface: i, via };
        if lifetime == 0 {
            let ours = stack.routes().iter().any(|r| {
                r.prefix == prefix && r.origin == RouteOrigin::Learned && r.action == action
            });
            if ours {
                let _ = stack.remove_route(&prefix, Some(i));
            }
            return;
        }
        let r = Route {
            prefix,
            action,
            metric: 0,
            origin: RouteOrigin::Learned,
            expires: secs(lifetime).map(|d| now + d),
        };
        match stack.add_route(r) {
            Ok(()) => self.nd_stats.routes_learned = self.nd_stats.routes_learned.wrapping_add(1),
            Err(_) => self.nd_stats.core_refused = self.nd_stats.core_refused.wrapping_add(1),
        }
    }

    /// RFC 4862 §5.5.3: form or refresh an address from a Prefix Information Option. The
    /// address is a /128: it makes no prefix on-link (RFC 5942 §4; the L flag does that).
    fn slaac(&mut self, stack: &mut Stack<'_>, now: Instant, i: IfIndex, p: &PrefixInfo) {
        if !p.autonomous || p.preferred > p.valid || p.prefix_len != 64 {
            return;
        }
        let Some(iid) = self.link_addr().to_iid() else {
            return;
        };
        let a = addr::with_iid(p.prefix, iid);
        let existing = stack.iface(i).and_then(|x| x.addr(&a)).copied();
        match existing {
            Some(e) => {
                // The "two hours" rule protects against a forged short lifetime.
                let remaining = e.valid_until.map(|t| t - now);
                let rx = secs(p.valid);
                let valid = match (rx, remaining) {
                    (None, _) => None,
                    (Some(v), None) if v > TWO_HOURS => None,
                    (Some(v), Some(r)) if v > TWO_HOURS || v > r => Some(v),
                    (Some(_), Some(r)) if r <= TWO_HOURS => Some(r),
                    _ => Some(TWO_HOURS),
                };
                let life = Lifetimes {
                    valid,
                    preferred: secs(p.preferred),
                };
                let _ = stack.add_addr(now, i, a, e.prefix_len, life, e.state);
            }
            None if p.valid > 0 => {
                let life = Lifetimes {
                    valid: secs(p.valid),
                    preferred: secs(p.preferred),
                };
                if self.add_addr(stack, now, a, 128, life).is_ok() {
                    self.nd_stats.slaac_addrs = self.nd_stats.slaac_addrs.wrapping_add(1);
                    self.push_event(NdEvent::AddressFormed(a));
                }
            }
            None => {}
        }
    }

    /// Assign `a` to the interface, tentative, and run duplicate address detection
    /// (DupAddrDetectTransmits NS from `::`); the address becomes preferred when nobody
    /// answers, or is removed on a conflict ([`NdEvent`]).
    pub fn add_addr(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        a: Ipv6Addr,
        prefix_len: u8,
        life: Lifetimes,
    ) -> Result<(), AddrError> {
        let i = self.iface.ok_or(AddrError::NotAttached)?;
        if self.cfg.dad_transmits == 0 {
            return stack
                .add_addr(now, i, a, prefix_len, life, AddrState::Preferred)
                .map_err(AddrError::Core);
        }
        if self.dad.is_full() {
            self.nd_stats.dad_table_full = self.nd_stats.dad_table_full.wrapping_add(1);
            return Err(AddrError::DadTableFull);
        }
        stack
            .add_addr(now, i, a, prefix_len, life, AddrState::Tentative)
            .map_err(AddrError::Core)?;
        let _ = self.dad.push(Dad {
            addr: a,
            left: self.cfg.dad_transmits,
            next: now,
        });
        Ok(())
    }

    /// Static backbone configuration: an address (with DAD if asked) and a default gateway.
    pub fn configure_static(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        c: &StaticConfig,
    ) -> Result<(), AddrError> {
        let i = self.iface.ok_or(AddrError::NotAttached)?;
        if c.dad {
            self.add_addr(stack, now, c.addr, c.prefix_len, Lifetimes::INFINITE)?;
        } else {
            stack
                .add_addr(
                    now,
                    i,
                    c.addr,
                    c.prefix_len,
                    Lifetimes::INFINITE,
                    AddrState::Preferred,
                )
                .map_err(AddrError::Core)?;
        }
        if let Some(gw) = c.gateway {
            stack
                .add_route(Route::new(Prefix::DEFAULT, i, Some(gw)))
                .map_err(|e| AddrError::Core(IfaceError::Route(e)))?;
        }
        Ok(())
    }

    /// `p` became ours (the mesh prefix changed to it): remove what an RA may have given
    /// this interface in it (our SLAAC address, the on-link route; RIOs inside it are only
    /// taken with [`crate::HostConfig::accept_rio`]). From now on the RA rules refuse them.
    pub fn forget_prefix(&mut self, stack: &mut Stack<'_>, p: Prefix) {
        let Some(i) = self.iface else { return };
        let m = self.mac.0;
        let iid = [m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]];
        let _ = stack.remove_addr(i, addr::with_iid(p.addr(), iid));
        let _ = stack.remove_route(&p, Some(i));
    }

    fn dad_failed(&mut self, stack: &mut Stack<'_>, i: IfIndex, a: Ipv6Addr) {
        warn!("duplicate address detected on the backbone");
        self.nd_stats.dad_conflicts = self.nd_stats.dad_conflicts.wrapping_add(1);
        self.dad.retain(|d| d.addr != a);
        let _ = stack.remove_addr(i, a);
        self.push_event(NdEvent::DadFailed(a));
    }

    /// When [`EthernetL2::poll`] next has work (a timer), if ever.
    pub fn poll_at(&self) -> Option<Instant> {
        let mut t = self.cache.next_deadline();
        // DAD waits while the interface is down (`poll` runs no timers then): a probe due
        // before it went down must not be reported as due, or the shell polls in a loop.
        for d in self.dad.iter().filter(|_| self.up) {
            t = Some(t.map_or(d.next, |x| x.min(d.next)));
        }
        for x in [self.next_ra, self.next_rs].into_iter().flatten() {
            t = Some(t.map_or(x, |y| y.min(x)));
        }
        if !self.unreachable.is_empty() {
            t = Some(Instant::ZERO);
        }
        t
    }

    /// Run the ND timers and hand failed packets back to the core. Call at every
    /// [`EthernetL2::poll_at`] and after each batch of received frames.
    pub fn poll(&mut self, now: Instant, stack: &mut Stack<'_>) {
        let Some(i) = self.iface else { return };
        if self.up {
            self.poll_neighbors(now, stack, i);
            self.poll_dad(now, stack, i);
            self.poll_router(now, stack, i);
            self.poll_host(now, stack, i);
        }
        while let Some(p) = self.unreachable.pop_front() {
            self.nd_stats.unreachable_returned = self.nd_stats.unreachable_returned.wrapping_add(1);
            let _ = stack.address_unreachable(now, i, p);
        }
    }

    fn poll_neighbors(&mut self, now: Instant, stack: &mut Stack<'_>, i: IfIndex) {
        /// What a fired timer asks for, decided while the entry is borrowed.
        enum Act {
            None,
            Solicit(Option<Mac>),
            Fail,
        }
        let (rt, max_m, max_u, retrans) = (
            self.reachable_time,
            self.cfg.max_multicast_solicit,
            self.cfg.max_unicast_solicit,
            self.cfg.retrans_timer,
        );
        let mut idx = 0;
        while let Some(e) = self.cache.entries.get_mut(idx) {
            if e.deadline.is_none_or(|d| d > now) {
                idx += 1;
                continue;
            }
            let _ = rt;
            let act = match e.state {
                NeighborState::Incomplete if e.probes < max_m => {
                    e.probes += 1;
                    e.deadline = Some(now + retrans);
                    Act::Solicit(None)
                }
                NeighborState::Incomplete => Act::Fail,
                NeighborState::Reachable | NeighborState::Stale => {
                    e.state = NeighborState::Stale;
                    e.deadline = None;
                    Act::None
                }
                NeighborState::Delay => {
                    e.state = NeighborState::Probe;
                    e.probes = 1;
                    e.deadline = Some(now + retrans);
                    Act::Solicit(e.mac)
                }
                NeighborState::Probe if e.probes < max_u => {
                    e.probes += 1;
                    e.deadline = Some(now + retrans);
                    Act::Solicit(e.mac)
                }
                NeighborState::Probe => Act::Fail,
            };
            let target = e.ip;
            let was_incomplete = e.state == NeighborState::Incomplete;
            match act {
                Act::None => idx += 1,
                Act::Solicit(unicast) => {
                    let src = stack.iface(i).and_then(|x| x.select_source(&target));
                    self.solicit(stack.pool_mut(), src, target, unicast);
                    idx += 1;
                }
                Act::Fail => {
                    if was_incomplete {
                        self.nd_stats.resolution_failed =
                            self.nd_stats.resolution_failed.wrapping_add(1);
                        self.push_event(NdEvent::ResolutionFailed(target));
                    }
                    // swap_remove: the entry now at `idx` has not been looked at yet.
                    self.remove_entry(stack.pool_mut(), idx);
                }
            }
        }
    }

    fn poll_dad(&mut self, now: Instant, stack: &mut Stack<'_>, i: IfIndex) {
        let retrans = self.cfg.retrans_timer;
        let mut k = 0;
        while let Some(d) = self.dad.get_mut(k) {
            if d.next > now {
                k += 1;
                continue;
            }
            let a = d.addr;
            if d.left > 0 {
                d.left -= 1;
                d.next = now + retrans;
                let g = addr::solicited_node(&a);
                let ns = Outgoing::Ns {
                    target: a,
                    sllao: None,
                };
                self.send_nd(
                    stack.pool_mut(),
                    &Ipv6Addr::UNSPECIFIED,
                    &g,
                    wire::ipv6_multicast_mac(&g),
                    &ns,
                );
                k += 1;
            } else {
                self.dad.swap_remove(k);
                if stack.set_addr_state(i, a, AddrState::Preferred).is_ok() {
                    self.nd_stats.dad_ok = self.nd_stats.dad_ok.wrapping_add(1);
                    self.push_event(NdEvent::DadSucceeded(a));
                }
            }
        }
    }

    fn poll_router(&mut self, now: Instant, stack: &mut Stack<'_>, i: IfIndex) {
        let Some(r) = self.cfg.router.as_ref() else {
            return;
        };
        if self.next_ra.is_none_or(|t| t > now) {
            return;
        }
        let life_s = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        let mut rios: Vec<RouteInfo, MAX_RIO> = Vec::new();
        for p in r.routes.iter() {
            let _ = rios.push(RouteInfo {
                prefix_len: p.prefix_len(),
                preference: RoutePreference::Medium,
                lifetime: life_s(r.route_lifetime),
                prefix: p.addr(),
            });
        }
        let router_lifetime = if r.default_router {
            u16::try_from(r.router_lifetime.as_secs()).unwrap_or(9000)
        } else {
            0
        };
        let (min_i, max_i, max_init, n_init, mtu) = (
            r.min_interval,
            r.max_interval,
            r.max_initial_interval,
            r.initial_advertisements,
            r.advertise_mtu,
        );
        // The source must be our (non-tentative) link-local address (RFC 4861 §6.1.2).
        let src = stack
            .iface(i)
            .and_then(|x| x.link_local().filter(|a| x.has_addr(a)));
        if let Some(src) = src {
            let ra = Outgoing::Ra {
                router_lifetime,
                sllao: self.mac,
                mtu,
                routes: &rios,
            };
            self.send_nd(
                stack.pool_mut(),
                &src,
                &ALL_NODES,
                wire::ipv6_multicast_mac(&ALL_NODES),
                &ra,
            );
            self.last_ra = Some(now);
            self.ras_sent = self.ras_sent.saturating_add(1);
        }
        let mut next = self.jitter(min_i, max_i);
        if self.ras_sent <= n_init {
            next = next.min(max_init);
        }
        self.next_ra = Some(now + next);
    }

    fn poll_host(&mut self, now: Instant, stack: &mut Stack<'_>, i: IfIndex) {
        let Some(h) = self.cfg.host else { return };
        if self.rs_left == 0 || self.next_rs.is_none_or(|t| t > now) {
            return;
        }
        self.rs_left -= 1;
        self.next_rs = (self.rs_left > 0).then(|| now + h.solicitation_interval);
        let src = stack
            .iface(i)
            .and_then(|x| x.link_local().filter(|a| x.has_addr(a)));
        let (src, sllao) = match src {
            Some(s) => (s, Some(self.mac)),
            None => (Ipv6Addr::UNSPECIFIED, None),
        };
        let rs = Outgoing::Rs { sllao };
        self.send_nd(
            stack.pool_mut(),
            &src,
            &ALL_ROUTERS,
            wire::ipv6_multicast_mac(&ALL_ROUTERS),
            &rs,
        );
    }
}
