//! [`EthernetL2`]: the netif [`L2`] of the backbone, with its neighbor cache.
//!
//! Receive: parse the Ethernet header (802.1Q tag skipped or dropped), keep IPv6 only, filter
//! by destination MAC (ours, broadcast, `33:33` + a joined group, or everything when
//! promiscuous), strip the header and hand the IPv6 packet to the core.
//!
//! Send: map a multicast next hop to `33:33:xx:xx:xx:xx`, else resolve the next hop in the
//! neighbor cache (RFC 4861 §7.2.2, §7.3.3): a resolved entry gets the frame (STALE → DELAY);
//! an unknown one becomes INCOMPLETE, keeps the packet in its bounded queue and a multicast
//! NS goes out. Packets whose resolution fails are handed back to the core by
//! [`EthernetL2::poll`] with [`netif::Stack::address_unreachable`]. Framed packets wait in
//! the outbox for the driver ([`EthernetL2::take_tx`] / [`EthernetL2::flush_to`]).
//!
//! The ND protocol (messages, timers, DAD, router and host roles) is in [`crate::ndp`].

use core::net::Ipv6Addr;

use heapless::{Deque, Vec};
use netif::l2::EnableError;
use netif::{
    HandlerId, IfIndex, IfaceConfig, Instant, L2, L2Context, L2Flags, LinkAddr, PacketHandle,
    PacketPool, SendError, Verdict,
};
use smoltcp::wire::EthernetAddress;

use crate::config::{EVENT_DEPTH, EthConfig, MAX_DAD, OUTBOX_DEPTH, UNREACHABLE_DEPTH, VlanMode};
use crate::driver::Driver;
use crate::nd::{self, Outgoing};
use crate::neighbor::{Neighbor, NeighborCache, NeighborInfo, NeighborState, Slot};
use crate::stats::{EthStats, NdStats};
use crate::wire::{self, BROADCAST, ETHERTYPE_IPV6, EthHeader, Mac};

/// Something neighbor discovery wants the application to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NdEvent {
    /// Duplicate address detection finished: the address is now preferred.
    DadSucceeded(Ipv6Addr),
    /// Another node holds this address: it was removed from the interface.
    DadFailed(Ipv6Addr),
    /// The next hop did not answer; its packets were returned as address unreachable.
    ResolutionFailed(Ipv6Addr),
    /// A SLAAC address was formed (tentative until [`NdEvent::DadSucceeded`]).
    AddressFormed(Ipv6Addr),
    /// A default router was learned (or refreshed) from a router advertisement.
    RouterLearned(Ipv6Addr),
    /// A router advertisement offered this prefix (a PIO or RIO) inside a prefix of another
    /// interface or one we announce (the mesh prefix); it was refused. Raised at most once a
    /// minute (every refused option of that RA); the router is in the neighbor cache, marked
    /// as a router.
    PrefixConflict(netif::Prefix),
}

/// Duplicate address detection in progress.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dad {
    pub(crate) addr: Ipv6Addr,
    pub(crate) left: u8,
    pub(crate) next: Instant,
}

/// The Ethernet L2 with backbone neighbor discovery (see the module docs and [`crate`]).
#[derive(Debug)]
pub struct EthernetL2 {
    pub(crate) cfg: EthConfig,
    pub(crate) mac: Mac,
    pub(crate) iface: Option<IfIndex>,
    pub(crate) handler: Option<HandlerId>,
    pub(crate) up: bool,
    pub(crate) cache: NeighborCache,
    pub(crate) outbox: Deque<PacketHandle, OUTBOX_DEPTH>,
    pub(crate) unreachable: Deque<PacketHandle, UNREACHABLE_DEPTH>,
    pub(crate) dad: Vec<Dad, MAX_DAD>,
    pub(crate) events: Deque<NdEvent, EVENT_DEPTH>,
    pub(crate) reachable_time: netif::Duration,
    pub(crate) rng: u32,
    pub(crate) next_ra: Option<Instant>,
    pub(crate) ras_sent: u8,
    pub(crate) last_ra: Option<Instant>,
    pub(crate) next_rs: Option<Instant>,
    pub(crate) rs_left: u8,
    /// When the last [`NdEvent::PrefixConflict`] was raised.
    pub(crate) conflict_event_at: Option<Instant>,
    pub(crate) stats: EthStats,
    pub(crate) nd_stats: NdStats,
}

impl EthernetL2 {
    /// A new L2 (down until the core enables it through [`netif::Stack::set_admin`]).
    pub fn new(cfg: EthConfig) -> Self {
        let m = cfg.mac;
        let seed = cfg.seed ^ u32::from_be_bytes([m[2], m[3], m[4], m[5]]);
        let mut l2 = EthernetL2 {
            mac: EthernetAddress(cfg.mac),
            cfg,
            iface: None,
            handler: None,
            up: false,
            cache: NeighborCache::default(),
            outbox: Deque::new(),
            unreachable: Deque::new(),
            dad: Vec::new(),
            events: Deque::new(),
            reachable_time: netif::Duration::ZERO,
            rng: if seed == 0 { 0x9e37_79b9 } else { seed },
            next_ra: None,
            ras_sent: 0,
            last_ra: None,
            next_rs: None,
            rs_left: 0,
            conflict_event_at: None,
            stats: EthStats::default(),
            nd_stats: NdStats::default(),
        };
        l2.reachable_time = l2.draw_reachable_time();
        l2
    }

    /// Replace the router role (e.g. the announced mesh prefix changed): the new RAs start
    /// over with the initial burst, right away when the interface is up.
    pub fn set_router(&mut self, router: Option<crate::config::RouterConfig>, now: Instant) {
        self.cfg.router = router;
        self.ras_sent = 0;
        self.last_ra = None;
        self.next_ra = (self.up && self.cfg.router.is_some()).then_some(now);
    }

    /// Packet buffers this L2 holds (outbox, packets awaiting resolution, packets to return
    /// as unreachable); they all go back to the pool eventually.
    pub fn held_buffers(&self) -> usize {
        let pending: usize = self.cache.entries.iter().map(|n| n.pending.len()).sum();
        self.outbox.len() + self.unreachable.len() + pending
    }

    /// Our MAC.
    pub fn mac(&self) -> [u8; 6] {
        self.mac.0
    }
    /// Our link address as the core sees it.
    pub fn link_addr(&self) -> LinkAddr {
        LinkAddr::ethernet(self.mac.0)
    }
    /// The interface configuration to give [`netif::Stack::add_iface`]: MTU 1500, multicast,
    /// link-local address from the MAC.
    pub fn iface_config<'a>(&self, name: &'a str, forwarding: bool) -> IfaceConfig<'a> {
        IfaceConfig {
            name,
            ll_addr: self.link_addr(),
            mtu: 1500,
            flags: self.flags(),
            forwarding,
            auto_link_local: true,
        }
    }
    /// The configuration in use.
    pub fn config(&self) -> &EthConfig {
        &self.cfg
    }
    /// Accept every frame (or stop).
    pub fn set_promiscuous(&mut self, on: bool) {
        self.cfg.promiscuous = on;
    }
    /// Ethernet counters.
    pub fn stats(&self) -> EthStats {
        self.stats
    }
    /// Neighbor discovery counters.
    pub fn nd_stats(&self) -> NdStats {
        self.nd_stats
    }
    /// Every neighbor cache entry.
    pub fn neighbors(&self) -> impl Iterator<Item = NeighborInfo> + '_ {
        self.cache.iter()
    }
    /// The cache entry of `ip`.
    pub fn neighbor(&self, ip: &Ipv6Addr) -> Option<NeighborInfo> {
        self.cache.iter().find(|n| n.ip == *ip)
    }
    /// Next ND event.
    pub fn pop_event(&mut self) -> Option<NdEvent> {
        self.events.pop_front()
    }
    /// Frames waiting for the driver.
    pub fn pending_tx(&self) -> usize {
        self.outbox.len()
    }
    /// Take the oldest framed packet for the driver (the caller frees it after sending).
    pub fn take_tx(&mut self) -> Option<PacketHandle> {
        self.outbox.pop_front()
    }

    /// An upper layer confirmed that `ip` is reachable (RFC 4861 §7.3.1): REACHABLE again.
    pub fn confirm_reachable(&mut self, ip: &Ipv6Addr, now: Instant) {
        let rt = self.reachable_time;
        if let Some(e) = self.cache.entries.iter_mut().find(|n| n.ip == *ip)
            && e.mac.is_some()
        {
            e.state = NeighborState::Reachable;
            e.deadline = Some(now + rt);
            e.probes = 0;
        }
    }

    /// Copy a received frame into a fresh pool buffer (no headroom needed on receive). A frame
    /// larger than the buffer is truncated and its real length recorded, so the core can
    /// answer Packet Too Big. `None` when the pool is empty (counted by the pool).
    pub fn load_frame(pool: &mut PacketPool<'_>, frame: &[u8]) -> Option<PacketHandle> {
        let h = pool.alloc().ok()?;
        pool.reset(&h, 0);
        let n = frame.len().min(pool.buf_size());
        match pool.append(&h, n) {
            Ok(b) => b.copy_from_slice(frame.get(..n).unwrap_or(&[])),
            Err(_) => {
                pool.free(h);
                return None;
            }
        }
        if n < frame.len()
            && let Some(m) = pool.meta_mut(&h)
        {
            m.wire_len = u16::try_from(frame.len()).unwrap_or(u16::MAX);
        }
        Some(h)
    }

    /// Receive one frame from `drv` straight into a pool buffer. `Ok(None)`: nothing waiting
    /// (or the pool is empty, in which case the frame stays in the driver).
    pub fn receive_from<D: Driver>(
        pool: &mut PacketPool<'_>,
        drv: &mut D,
    ) -> Result<Option<PacketHandle>, D::Error> {
        let Ok(h) = pool.alloc() else {
            return Ok(None);
        };
        pool.reset(&h, 0);
        let size = pool.buf_size();
        let got = match pool.append(&h, size) {
            Ok(buf) => drv.receive(buf),
            Err(_) => Ok(None),
        };
        match got {
            Ok(Some(n)) => {
                pool.truncate(&h, n);
                if n > size
                    && let Some(m) = pool.meta_mut(&h)
                {
                    m.wire_len = u16::try_from(n).unwrap_or(u16::MAX);
                }
                Ok(Some(h))
            }
            Ok(None) => {
                pool.free(h);
                Ok(None)
            }
            Err(e) => {
                pool.free(h);
                Err(e)
            }
        }
    }

    /// Hand queued frames to `drv` until it is full or the outbox is empty; returns how many
    /// were sent. A frame the driver has no room for stays first in the outbox.
    pub fn flush_to<D: Driver>(
        &mut self,
        pool: &mut PacketPool<'_>,
        drv: &mut D,
    ) -> Result<usize, D::Error> {
        let mut n = 0;
        while let Some(h) = self.outbox.pop_front() {
            match drv.transmit(pool.data(&h)) {
                Ok(true) => {
                    pool.free(h);
                    n += 1;
                }
                Ok(false) => {
                    if let Err(h) = self.outbox.push_front(h) {
                        pool.free(h);
                    }
                    break;
                }
                Err(e) => {
                    pool.free(h);
                    return Err(e);
                }
            }
        }
        Ok(n)
    }

    // ----- internals shared with ndp ----------------------------------------------------

    /// xorshift32: jitter for RFC 4861's randomised timers.
    pub(crate) fn rand(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }
    /// A uniformly drawn duration in `lo..=hi`.
    pub(crate) fn jitter(&mut self, lo: netif::Duration, hi: netif::Duration) -> netif::Duration {
        let span = hi.as_micros().saturating_sub(lo.as_micros());
        let off = scale(span, self.rand());
        netif::Duration::from_micros(lo.as_micros().saturating_add(off))
    }
    /// ReachableTime: BaseReachableTime × uniform(0.5, 1.5) (RFC 4861 §6.3.2).
    pub(crate) fn draw_reachable_time(&mut self) -> netif::Duration {
        let b = self.cfg.base_reachable_time.as_micros();
        self.jitter(
            netif::Duration::from_micros(b / 2),
            netif::Duration::from_micros(b.saturating_add(b / 2)),
        )
    }

    pub(crate) fn push_event(&mut self, e: NdEvent) {
        if self.events.push_back(e).is_err() {
            self.nd_stats.events_overflowed = self.nd_stats.events_overflowed.wrapping_add(1);
        }
    }

    /// Prepend the Ethernet header for `dst` and queue the frame for the driver.
    pub(crate) fn queue_frame(
        &mut self,
        pool: &mut PacketPool<'_>,
        pkt: PacketHandle,
        dst: Mac,
    ) -> Result<usize, SendError> {
        let hdr = EthHeader {
            dst,
            src: self.mac,
            vlan_tci: None,
            ethertype: ETHERTYPE_IPV6,
        };
        // A packet built in place in a received buffer (an ICMPv6 error quoting a full-size
        // frame) may have no headroom left: make room by moving the data back, if it fits.
        if pool.headroom_of(&pkt) < wire::HEADER_LEN {
            let _ = pool.ensure_headroom(&pkt, wire::HEADER_LEN);
        }
        match pool.push_front(&pkt, wire::HEADER_LEN) {
            Ok(b) => {
                let _ = hdr.emit(b);
            }
            Err(_) => {
                self.stats.tx_no_buffer = self.stats.tx_no_buffer.wrapping_add(1);
                pool.free(pkt);
                return Err(SendError::NoBuffer);
            }
        }
        let len = pool.len(&pkt);
        match self.outbox.push_back(pkt) {
            Ok(()) => {
                self.stats.tx_frames = self.stats.tx_frames.wrapping_add(1);
                Ok(len)
            }
            Err(p) => {
                self.stats.tx_queue_full = self.stats.tx_queue_full.wrapping_add(1);
                pool.free(p);
                Err(SendError::QueueFull)
            }
        }
    }

    /// Build and queue an ND message; false (counted) when it could not be.
    pub(crate) fn send_nd(
        &mut self,
        pool: &mut PacketPool<'_>,
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
        dst_mac: Mac,
        msg: &Outgoing<'_>,
    ) -> bool {
        let sent = match nd::build(pool, src, dst, msg) {
            Some(p) => self.queue_frame(pool, p, dst_mac).is_ok(),
            None => false,
        };
        let s = &mut self.nd_stats;
        let c = match (sent, msg) {
            (false, _) => &mut s.tx_failed,
            (true, Outgoing::Ns { .. }) => &mut s.tx_ns,
            (true, Outgoing::Na { .. }) => &mut s.tx_na,
            (true, Outgoing::Rs { .. }) => &mut s.tx_rs,
            (true, Outgoing::Ra { .. }) => &mut s.tx_ra,
        };
        *c = c.wrapping_add(1);
        sent
    }

    /// Send a multicast NS to resolve `target` from `src` (our address).
    pub(crate) fn solicit(
        &mut self,
        pool: &mut PacketPool<'_>,
        src: Option<Ipv6Addr>,
        target: Ipv6Addr,
        unicast: Option<Mac>,
    ) {
        let Some(src) = src else {
            // No usable source address yet: the timer will try again.
            self.nd_stats.tx_failed = self.nd_stats.tx_failed.wrapping_add(1);
            return;
        };
        let (dst, mac) = match unicast {
            Some(m) => (target, m),
            None => {
                let g = netif::addr::solicited_node(&target);
                (g, wire::ipv6_multicast_mac(&g))
            }
        };
        let msg = Outgoing::Ns {
            target,
            sllao: Some(self.mac),
        };
        self.send_nd(pool, &src, &dst, mac, &msg);
    }

    /// Give a packet back to the core as address unreachable (at the next poll).
    pub(crate) fn hand_back_unreachable(&mut self, pool: &mut PacketPool<'_>, pkt: PacketHandle) {
        if let Err(p) = self.unreachable.push_back(pkt) {
            pool.free(p);
        }
    }

    /// Remove entry `idx`; its waiting packets become address unreachable.
    pub(crate) fn remove_entry(&mut self, pool: &mut PacketPool<'_>, idx: usize) {
        if idx >= self.cache.entries.len() {
            return;
        }
        let mut e = self.cache.entries.swap_remove(idx);
        while let Some(p) = e.pending.pop_front() {
            self.hand_back_unreachable(pool, p);
        }
    }

    /// Send every packet waiting on entry `idx` (now resolved).
    pub(crate) fn flush_pending(&mut self, pool: &mut PacketPool<'_>, idx: usize) {
        let Some(mac) = self.cache.entries.get(idx).and_then(|e| e.mac) else {
            return;
        };
        while let Some(p) = self
            .cache
            .entries
            .get_mut(idx)
            .and_then(|e| e.pending.pop_front())
        {
            let _ = self.queue_frame(pool, p, mac);
        }
    }

    /// Make room for and insert a new entry; `None` (counted) when the cache may not take it.
    pub(crate) fn insert_entry(
        &mut self,
        pool: &mut PacketPool<'_>,
        n: Neighbor,
        now: Instant,
    ) -> Option<usize> {
        match self.cache.slot_for_new(now, self.cfg.min_incomplete_age) {
            Slot::Full => {
                self.nd_stats.cache_full = self.nd_stats.cache_full.wrapping_add(1);
                return None;
            }
            Slot::Evict(i) => {
                self.nd_stats.evicted = self.nd_stats.evicted.wrapping_add(1);
                self.remove_entry(pool, i);
            }
            Slot::Free => {}
        }
        self.cache.entries.push(n).ok()?;
        Some(self.cache.entries.len() - 1)
    }

    /// RFC 4861 §7.2.3 / §6.2.6 / §6.3.4: a link-layer address learned from an NS, RS or RA.
    pub(crate) fn glean(
        &mut self,
        pool: &mut PacketPool<'_>,
        ip: Ipv6Addr,
        mac: Mac,
        now: Instant,
        router: bool,
    ) {
        match self.cache.find(&ip) {
            Some(idx) => {
                let mut flush = false;
                if let Some(e) = self.cache.entries.get_mut(idx) {
                    e.is_router |= router;
                    if e.state == NeighborState::Incomplete {
                        flush = true;
                    }
                    if e.state == NeighborState::Incomplete || e.mac != Some(mac) {
                        e.mac = Some(mac);
                        e.state = NeighborState::Stale;
                        e.deadline = None;
                        e.probes = 0;
                    }
                }
                if flush {
                    self.flush_pending(pool, idx);
                }
            }
            None => {
                let mut n = Neighbor::new(ip, NeighborState::Stale, Some(mac), now);
                n.is_router = router;
                let _ = self.insert_entry(pool, n, now);
            }
        }
    }

    /// RFC 4861 §7.2.5: a Neighbor Advertisement for `target` (not ours).
    pub(crate) fn on_advert(
        &mut self,
        pool: &mut PacketPool<'_>,
        now: Instant,
        target: Ipv6Addr,
        flags: (bool, bool, bool),
        tllao: Option<Mac>,
    ) {
        let (router, solicited, override_) = flags;
        let Some(idx) = self.cache.find(&target) else {
            return; // No entry: unsolicited NAs create none.
        };
        let rt = self.reachable_time;
        let mut flush = false;
        let Some(e) = self.cache.entries.get_mut(idx) else {
            return;
        };
        if e.state == NeighborState::Incomplete {
            let Some(m) = tllao else { return };
            e.mac = Some(m);
            e.is_router = router;
            e.probes = 0;
            if solicited {
                e.state = NeighborState::Reachable;
                e.deadline = Some(now + rt);
            } else {
                e.state = NeighborState::Stale;
                e.deadline = None;
            }
            flush = true;
        } else {
            let differs = tllao.is_some_and(|m| Some(m) != e.mac);
            if !override_ && differs {
                if e.state == NeighborState::Reachable {
                    e.state = NeighborState::Stale;
                    e.deadline = None;
                }
                return;
            }
            if let Some(m) = tllao {
                e.mac = Some(m);
            }
            if solicited {
                e.state = NeighborState::Reachable;
                e.deadline = Some(now + rt);
                e.probes = 0;
            } else if differs {
                e.state = NeighborState::Stale;
                e.deadline = None;
            }
            e.is_router = router;
        }
        if flush {
            self.flush_pending(pool, idx);
        }
    }

    /// The next hop of an outgoing packet: its metadata, else its IPv6 destination.
    fn next_hop(pool: &PacketPool<'_>, pkt: &PacketHandle) -> Option<(Ipv6Addr, Ipv6Addr)> {
        let d = pool.data(pkt);
        if d.first().is_none_or(|v| v >> 4 != 6) {
            return None;
        }
        let src: [u8; 16] = d.get(8..24)?.try_into().ok()?;
        let dst: [u8; 16] = d.get(24..40)?.try_into().ok()?;
        let nh = pool.meta(pkt).next_hop;
        let nh = if nh.is_unspecified() {
            Ipv6Addr::from(dst)
        } else {
            nh
        };
        Some((nh, Ipv6Addr::from(src)))
    }

    /// Send path for a unicast next hop (see the module docs).
    fn send_unicast(
        &mut self,
        cx: &mut L2Context<'_, '_>,
        pkt: PacketHandle,
        nh: Ipv6Addr,
        src: Ipv6Addr,
    ) -> Result<usize, SendError> {
        let now = cx.now;
        if let Some(idx) = self.cache.find(&nh) {
            let delay = self.cfg.delay_first_probe;
            let Some(e) = self.cache.entries.get_mut(idx) else {
                cx.pool.free(pkt);
                return Err(SendError::Invalid);
            };
            e.last_used = now;
            match (e.state, e.mac) {
                (NeighborState::Incomplete, _) | (_, None) => {
                    let len = cx.pool.len(&pkt);
                    if e.pending.is_full()
                        && let Some(old) = e.pending.pop_front()
                    {
                        cx.pool.free(old);
                        self.nd_stats.pending_overflow =
                            self.nd_stats.pending_overflow.wrapping_add(1);
                    }
                    if let Some(e) = self.cache.entries.get_mut(idx)
                        && let Err(p) = e.pending.push_back(pkt)
                    {
                        cx.pool.free(p);
                    }
                    Ok(len)
                }
                (state, Some(mac)) => {
                    if state == NeighborState::Stale {
                        e.state = NeighborState::Delay;
                        e.deadline = Some(now + delay);
                    }
                    self.queue_frame(cx.pool, pkt, mac)
                }
            }
        } else {
            if self.cache.incomplete() >= self.cfg.max_incomplete {
                self.nd_stats.incomplete_limit = self.nd_stats.incomplete_limit.wrapping_add(1);
                self.hand_back_unreachable(cx.pool, pkt);
                return Err(SendError::Unresolved);
            }
            let mut n = Neighbor::new(nh, NeighborState::Incomplete, None, now);
            n.probes = 1;
            n.deadline = Some(now + self.cfg.retrans_timer);
            let len = cx.pool.len(&pkt);
            let Some(idx) = self.insert_entry(cx.pool, n, now) else {
                self.hand_back_unreachable(cx.pool, pkt);
                return Err(SendError::Unresolved);
            };
            if let Some(e) = self.cache.entries.get_mut(idx)
                && let Err(p) = e.pending.push_back(pkt)
            {
                cx.pool.free(p);
            }
            // RFC 4861 §7.2.2: the packet's source if it is ours, else any of ours.
            let from = if cx.iface.has_addr(&src) {
                Some(src)
            } else {
                cx.iface.select_source(&nh)
            };
            self.solicit(cx.pool, from, nh, None);
            Ok(len)
        }
    }

    /// Whether a frame to `dst` is for us.
    fn accepts(&self, cx: &L2Context<'_, '_>, dst: &Mac) -> bool {
        self.cfg.promiscuous
            || *dst == self.mac
            || *dst == BROADCAST
            || (dst.is_multicast()
                && cx
                    .iface
                    .multicast_groups()
                    .iter()
                    .any(|g| wire::ipv6_multicast_mac(&g.addr) == *dst))
    }
}

impl L2 for EthernetL2 {
    fn recv(&mut self, cx: &mut L2Context<'_, '_>, pkt: PacketHandle) -> Verdict {
        let h = match EthHeader::parse(cx.pool.data(&pkt)) {
            Ok(h) => h,
            Err(_) => {
                self.stats.rx_short = self.stats.rx_short.wrapping_add(1);
                return Verdict::Drop(pkt);
            }
        };
        if h.vlan_tci.is_some() {
            if self.cfg.vlan == VlanMode::Drop {
                self.stats.rx_vlan_dropped = self.stats.rx_vlan_dropped.wrapping_add(1);
                return Verdict::Drop(pkt);
            }
            self.stats.rx_vlan_skipped = self.stats.rx_vlan_skipped.wrapping_add(1);
        }
        if h.ethertype != ETHERTYPE_IPV6 {
            self.stats.rx_not_ipv6 = self.stats.rx_not_ipv6.wrapping_add(1);
            return Verdict::Drop(pkt);
        }
        if h.src.is_multicast() || h.src == self.mac {
            self.stats.rx_bad_src = self.stats.rx_bad_src.wrapping_add(1);
            return Verdict::Drop(pkt);
        }
        if !self.accepts(cx, &h.dst) {
            self.stats.rx_filtered = self.stats.rx_filtered.wrapping_add(1);
            return Verdict::Drop(pkt);
        }
        let hlen = h.buffer_len();
        if cx.pool.pull_front(&pkt, hlen).is_err() {
            self.stats.rx_short = self.stats.rx_short.wrapping_add(1);
            return Verdict::Drop(pkt);
        }
        let multicast = h.dst.is_multicast();
        if let Some(m) = cx.pool.meta_mut(&pkt) {
            m.ll_src = LinkAddr::ethernet(h.src.0);
            m.ll_dst = LinkAddr::ethernet(h.dst.0);
            m.ll_multicast = multicast;
            if m.wire_len > 0 {
                self.stats.rx_truncated = self.stats.rx_truncated.wrapping_add(1);
                m.wire_len = m.wire_len.saturating_sub(hlen as u16).max(1);
            }
        }
        self.stats.rx_frames = self.stats.rx_frames.wrapping_add(1);
        Verdict::Continue(pkt)
    }

    fn send(&mut self, cx: &mut L2Context<'_, '_>, pkt: PacketHandle) -> Result<usize, SendError> {
        if !self.up {
            self.stats.tx_down = self.stats.tx_down.wrapping_add(1);
            cx.pool.free(pkt);
            return Err(SendError::Down);
        }
        let Some((nh, src)) = Self::next_hop(cx.pool, &pkt) else {
            self.stats.tx_invalid = self.stats.tx_invalid.wrapping_add(1);
            cx.pool.free(pkt);
            return Err(SendError::Invalid);
        };
        if nh.is_multicast() {
            return self.queue_frame(cx.pool, pkt, wire::ipv6_multicast_mac(&nh));
        }
        self.send_unicast(cx, pkt, nh, src)
    }

    fn enable(&mut self, cx: &mut L2Context<'_, '_>, up: bool) -> Result<(), EnableError> {
        self.up = up;
        let now = cx.now;
        if up {
            if self.cfg.router.is_some() {
                self.next_ra = Some(now);
                self.ras_sent = 0;
            }
            if let Some(h) = self.cfg.host {
                self.rs_left = h.solicitations;
                // RFC 4861 §6.3.7: a random delay of up to MAX_RTR_SOLICITATION_DELAY (1 s).
                let d = self.jitter(netif::Duration::ZERO, netif::Duration::from_secs(1));
                self.next_rs = (h.solicitations > 0).then_some(now + d);
            }
        } else {
            while let Some(p) = self.outbox.pop_front() {
                cx.pool.free(p);
            }
            while let Some(mut e) = self.cache.entries.pop() {
                while let Some(p) = e.pending.pop_front() {
                    cx.pool.free(p);
                }
            }
            self.next_ra = None;
            self.next_rs = None;
        }
        Ok(())
    }

    fn flags(&self) -> L2Flags {
        if self.cfg.promiscuous {
            L2Flags::MULTICAST | L2Flags::PROMISC_MODE
        } else {
            L2Flags::MULTICAST
        }
    }
}

/// `r` (uniform over `u32`) scaled to `0..=span`: span × (r + 1) / 2³² — a shift, where the
/// 128-bit division by `u32::MAX` it replaced cost about 700 bytes of the board's flash.
fn scale(span: u64, r: u32) -> u64 {
    // < 2⁶⁴ × 2³² fits u128; the result is at most `span`.
    ((u128::from(span) * (u128::from(r) + 1)) >> 32) as u64
}

#[cfg(test)]
mod jitter_tests {
    use super::scale;

    #[test]
    fn scale_covers_zero_to_span_without_overflow() {
        for span in [0, 1, 7, 1_000_000, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(scale(span, u32::MAX), span, "span {span}");
            assert!(scale(span, 0) <= span / (1 << 32) + 1, "span {span}");
            let mut prev = 0;
            for r in (0..=u32::MAX).step_by(0x0100_0001) {
                let v = scale(span, r);
                assert!(v >= prev && v <= span, "span {span} r {r}: {v}");
                prev = v;
            }
        }
        // Half the range maps to half the span.
        assert_eq!(scale(1_000_000, u32::MAX / 2), 500_000);
    }
}
