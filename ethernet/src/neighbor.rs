//! The neighbor cache (RFC 4861 §7.3): one entry per on-link IPv6 neighbor with its MAC and
//! NUD state (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE), the packets waiting for its
//! resolution, and the timer of its state.
//!
//! The table is a fixed `heapless` vector of [`NEIGHBOR_CACHE_SIZE`] entries. Replacement
//! follows RFC 6583 §7.1: a new entry takes a free slot, else the least recently used STALE
//! entry, else the least recently used other resolved entry; INCOMPLETE entries are never
//! evicted before `min_incomplete_age` (they still have resolution time to use), and no more
//! than `max_incomplete` entries may be INCOMPLETE at once, so a scan of the prefix cannot
//! push working neighbors out. The transitions themselves live in [`crate::EthernetL2`],
//! which owns the packets and sends the solicitations.

use core::net::Ipv6Addr;

use heapless::{Deque, Vec};
use netif::{Instant, PacketHandle};

use crate::config::{NEIGHBOR_CACHE_SIZE, PENDING_PER_NEIGHBOR};
use crate::wire::Mac;

/// NUD state (RFC 4861 §7.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NeighborState {
    /// Resolution in progress: multicast NS sent, no MAC yet.
    Incomplete,
    /// Reachability confirmed within ReachableTime.
    Reachable,
    /// MAC known, reachability unknown; nothing is done until traffic is sent.
    Stale,
    /// Traffic sent to a STALE neighbor; waiting DELAY_FIRST_PROBE_TIME for a confirmation.
    Delay,
    /// Unicast NS probes being sent.
    Probe,
}

/// One neighbor cache entry.
#[derive(Debug)]
pub struct Neighbor {
    /// The neighbor's IPv6 address.
    pub ip: Ipv6Addr,
    /// Its MAC (None while INCOMPLETE).
    pub mac: Option<Mac>,
    /// NUD state.
    pub state: NeighborState,
    /// The neighbor said it is a router (NA R flag, or it sent an RA).
    pub is_router: bool,
    /// When the state's timer fires (`None`: no timer, STALE).
    pub(crate) deadline: Option<Instant>,
    /// Solicitations sent in this state.
    pub(crate) probes: u8,
    /// When the entry was created or entered INCOMPLETE.
    pub(crate) since: Instant,
    /// Last time a packet was sent to it (LRU).
    pub(crate) last_used: Instant,
    /// Packets waiting for resolution (FIFO; the oldest is replaced on overflow).
    pub(crate) pending: Deque<PacketHandle, PENDING_PER_NEIGHBOR>,
}

impl Neighbor {
    pub(crate) fn new(ip: Ipv6Addr, state: NeighborState, mac: Option<Mac>, now: Instant) -> Self {
        Neighbor {
            ip,
            mac,
            state,
            is_router: false,
            deadline: None,
            probes: 0,
            since: now,
            last_used: now,
            pending: Deque::new(),
        }
    }
}

/// A read-only view of an entry, for the application and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighborInfo {
    /// Address.
    pub ip: Ipv6Addr,
    /// MAC, once known.
    pub mac: Option<[u8; 6]>,
    /// NUD state.
    pub state: NeighborState,
    /// Router flag.
    pub is_router: bool,
    /// Packets waiting.
    pub pending: usize,
}

/// Where a new entry may go.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Append.
    Free,
    /// Evict the entry at this index first.
    Evict(usize),
    /// No room (every entry is protected).
    Full,
}

/// The table (see the module docs).
#[derive(Debug, Default)]
pub struct NeighborCache {
    pub(crate) entries: Vec<Neighbor, NEIGHBOR_CACHE_SIZE>,
}

impl NeighborCache {
    /// Index of the entry for `ip`.
    pub(crate) fn find(&self, ip: &Ipv6Addr) -> Option<usize> {
        self.entries.iter().position(|n| n.ip == *ip)
    }

    /// Number of INCOMPLETE entries.
    pub(crate) fn incomplete(&self) -> usize {
        self.entries
            .iter()
            .filter(|n| n.state == NeighborState::Incomplete)
            .count()
    }

    /// Choose where a new entry goes (RFC 6583 §7.1 replacement, see the module docs).
    pub(crate) fn slot_for_new(&self, now: Instant, min_incomplete_age: netif::Duration) -> Slot {
        if !self.entries.is_full() {
            return Slot::Free;
        }
        let lru = |pred: &dyn Fn(&Neighbor) -> bool| {
            self.entries
                .iter()
                .enumerate()
                .filter(|(_, n)| pred(n))
                .min_by_key(|(_, n)| n.last_used)
                .map(|(i, _)| i)
        };
        if let Some(i) = lru(&|n| n.state == NeighborState::Stale) {
            return Slot::Evict(i);
        }
        if let Some(i) = lru(&|n| n.state != NeighborState::Incomplete) {
            return Slot::Evict(i);
        }
        match lru(&|n| n.state == NeighborState::Incomplete && now - n.since >= min_incomplete_age)
        {
            Some(i) => Slot::Evict(i),
            None => Slot::Full,
        }
    }

    /// Every entry, read-only.
    pub fn iter(&self) -> impl Iterator<Item = NeighborInfo> + '_ {
        self.entries.iter().map(|n| NeighborInfo {
            ip: n.ip,
            mac: n.mac.map(|m| m.0),
            state: n.state,
            is_router: n.is_router,
            pending: n.pending.len(),
        })
    }

    /// The earliest timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.entries.iter().filter_map(|n| n.deadline).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netif::Duration;

    fn ip(i: u16) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i)
    }

    #[test]
    fn replacement_prefers_stale_then_lru_and_protects_young_incomplete() {
        let mut c = NeighborCache::default();
        let t0 = Instant::from_secs(10);
        let age = Duration::from_secs(3);
        for i in 0..NEIGHBOR_CACHE_SIZE as u16 {
            let mut n = Neighbor::new(ip(i), NeighborState::Reachable, None, t0);
            n.last_used = t0 + Duration::from_secs(u64::from(i));
            c.entries.push(n).unwrap();
        }
        // All REACHABLE: the least recently used goes.
        assert_eq!(c.slot_for_new(t0, age), Slot::Evict(0));
        // A STALE entry goes first even if more recently used.
        c.entries[5].state = NeighborState::Stale;
        assert_eq!(c.slot_for_new(t0, age), Slot::Evict(5));
        // Only young INCOMPLETE entries: nothing may go.
        for n in c.entries.iter_mut() {
            n.state = NeighborState::Incomplete;
            n.since = t0;
        }
        assert_eq!(c.slot_for_new(t0 + Duration::from_secs(1), age), Slot::Full);
        assert_eq!(c.incomplete(), NEIGHBOR_CACHE_SIZE);
        // Once old enough, the oldest-used INCOMPLETE one may.
        assert_eq!(c.slot_for_new(t0 + age, age), Slot::Evict(0));
    }
}
