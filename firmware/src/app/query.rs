//! What the shells and the management server read: the configuration, the parts, counters,
//! the status screen, the node list, events, the capture ring and the configuration to
//! persist.

use ethernet::EthernetL2;
use l2_15_4::Address;
use netif::stats::IfaceStats;
use netif::{Duration, IfIndex, Instant, Stack};

use super::{App, AppEvent, AppStats, NodeInfo, Status};
use crate::capture::CaptureRing;
use crate::config::Config;
use crate::lbr::Lbr;
use crate::wpan::Wpan;

impl<'r> App<'r> {
    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// The interface core (interfaces, addresses, routes, counters).
    pub fn stack(&self) -> &Stack<'r> {
        &self.stack
    }
    /// `wpan0` (MAC counters and neighbours, 6LoWPAN counters, registrations).
    pub fn wpan(&self) -> &Wpan<'r> {
        &self.wpan
    }
    /// `eth0` (Ethernet and ND counters, neighbor cache).
    pub fn eth(&self) -> &EthernetL2 {
        &self.eth
    }
    /// The 6LBR role (its counters).
    pub fn lbr(&self) -> &Lbr {
        &self.lbr
    }
    /// Application counters.
    pub fn stats(&self) -> AppStats {
        self.stats
    }
    /// Interface index of `wpan0`.
    pub fn wpan_index(&self) -> IfIndex {
        self.wpan_i
    }
    /// Interface index of `eth0`.
    pub fn eth_index(&self) -> IfIndex {
        self.eth_i
    }
    /// Counters of interface `i`.
    pub fn iface_stats(&self, i: IfIndex) -> Option<IfaceStats> {
        self.stack.stats(i)
    }

    /// The board's measurement of its deepest stack use, in bytes (it paints the stack at
    /// boot and looks for the lowest overwritten word); reported as `stack_high_water` in
    /// [`Status`] and the counter list. Boards that cannot measure leave it at 0.
    /// Kept in 32-bit words, saturating at 256 KiB.
    pub fn set_stack_high_water(&mut self, bytes: u32) {
        self.stack_high_water_words = u16::try_from(bytes.div_ceil(4)).unwrap_or(u16::MAX);
    }
    /// The last [`App::set_stack_high_water`], in bytes.
    pub fn stack_high_water(&self) -> u32 {
        u32::from(self.stack_high_water_words) * 4
    }

    /// The one-screen status.
    pub fn status(&self) -> Status {
        // Devices, not entries: a node is one link-layer address with (usually) a link-local
        // and a global address. A device with any registration counts as registered.
        let reg = self.wpan.registry();
        let (mut registered, mut gleaned) = (0, 0);
        for e in reg.iter() {
            // Counted at its first entry; registered if any of its entries is.
            let (mut before, mut seen_self, mut reg_any) = (false, false, false);
            for f in reg.iter() {
                seen_self |= f.addr == e.addr;
                if f.ll == e.ll {
                    before |= !seen_self;
                    reg_any |= f.origin == crate::registry::Origin::Registered;
                }
            }
            if !before {
                if reg_any {
                    registered += 1;
                } else {
                    gleaned += 1;
                }
            }
        }
        let w = self.stack.stats(self.wpan_i).unwrap_or_default();
        let e = self.stack.stats(self.eth_i).unwrap_or_default();
        let pool = self.stack.pool();
        Status {
            uptime: self.now.saturating_since(self.boot),
            registered,
            gleaned,
            forwarded_up: u64::from(e.forwarded),
            forwarded_down: u64::from(w.forwarded),
            drops: w.dropped_total() + e.dropped_total(),
            pool_free: pool.available(),
            pool_size: pool.capacity(),
            stack_high_water: self.stack_high_water(),
        }
    }

    /// Mesh nodes: registered and gleaned entries with link statistics.
    pub fn nodes(&self) -> impl Iterator<Item = NodeInfo> + '_ {
        let now = self.now;
        self.wpan
            .registry()
            .iter()
            // Nodes known only from DAOs are in the topology, not among the neighbours.
            .filter(move |e| e.expires > now && e.origin != crate::registry::Origin::Dao)
            .map(move |e| {
                let link = self.wpan.mac().neighbor(&e.ll);
                let eui64 = e.eui64().or(match e.ll {
                    Address::Extended(x) => Some(x),
                    Address::Short(_) => None,
                });
                NodeInfo {
                    addr: e.addr,
                    ll: e.ll,
                    eui64,
                    registered: e.origin == crate::registry::Origin::Registered,
                    lifetime_left: e.expires.saturating_since(now),
                    last_heard_ago: now.saturating_since(e.last_heard),
                    rssi: link.map(|l| l.rssi()),
                    lqi: link.map(|l| l.lqi()),
                    etx_x100: link.and_then(|l| l.etx_x100()),
                    rx: e.rx_frames,
                    tx: e.tx_frames,
                }
            })
    }

    /// The border router's global address on the mesh (the DODAG ID).
    pub fn mesh_address(&self) -> core::net::Ipv6Addr {
        crate::root::mesh_address(&self.cfg)
    }

    /// The RPL root's state.
    pub fn root(&self) -> &crate::root::Root {
        &self.root
    }

    /// The DODAG: every live RPL target with its parent and depth.
    pub fn topology(&self) -> impl Iterator<Item = crate::root::TopologyNode> + '_ {
        let now = self.now;
        let reg = self.wpan.registry();
        reg.targets()
            .filter_map(move |e| crate::root::topology_node(reg, &e, now))
    }

    /// The next event for the management side.
    pub fn pop_event(&mut self) -> Option<AppEvent> {
        self.events.pop_front()
    }

    /// The capture ring (start/stop, drain records).
    pub fn capture_mut(&mut self) -> &mut CaptureRing {
        self.capture
    }
    /// The capture ring.
    pub fn capture(&self) -> &CaptureRing {
        self.capture
    }

    /// The configuration, once per run-time change, for the shell to persist. It stays dirty
    /// ([`App::config_dirty`]) until the shell reports a successful write with
    /// [`App::config_saved`]; a failed write is not offered again until the next change (or
    /// an explicit save), so a broken store is not hammered.
    pub fn take_dirty_config(&mut self) -> Option<&Config> {
        if self.dirty && !self.save_offered {
            self.save_offered = true;
            Some(&self.cfg)
        } else {
            None
        }
    }

    /// The shell wrote the configuration in use to storage: nothing is left unsaved. Call it
    /// only after the write succeeded, and with no change in between (the shells write
    /// [`App::config`] or what [`App::take_dirty_config`] just gave them).
    pub fn config_saved(&mut self) {
        self.dirty = false;
    }

    /// Whether every packet buffer is back in the pool, counting those `wpan0` holds by
    /// design (its queue, the datagram in flight, reassemblies in progress) and the ones
    /// Ethernet ND keeps.
    pub fn pool_accounted(&self) -> bool {
        let pool = self.stack.pool();
        let queued: usize = [self.wpan_i, self.eth_i]
            .iter()
            .map(|i| {
                self.stack
                    .queue_lens(*i)
                    .iter()
                    .map(|n| usize::from(*n))
                    .sum::<usize>()
            })
            .sum();
        pool.available() + queued + self.wpan.held_buffers() + self.eth.held_buffers()
            == pool.capacity()
    }

    /// The time of the last call into the application.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Time since boot.
    pub fn uptime(&self) -> Duration {
        self.now.saturating_since(self.boot)
    }

    /// Whether a run-time change is not in storage yet (no write of it has succeeded).
    pub fn config_dirty(&self) -> bool {
        self.dirty
    }
}
