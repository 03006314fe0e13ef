//! What the daemon keeps between commands: bounded rings of the device's events and log lines
//! with their receive time, and the mesh nodes' life cycle (joined, re-registered, moved
//! parent, expired) derived from the events and a periodic `NodesList` / `Topology` poll.
//! [`State`] is the daemon's state API (the HTTP part reads it).

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv6Addr;
use std::time::SystemTime;

use mgmt::{Event, EventKind, Log, NodeInfo, TopoNode};

use super::tables::Tables;
use crate::device::Hello;

/// Events kept (the oldest go first).
pub const EVENT_HISTORY: usize = 2048;
/// Device log lines kept.
pub const LOG_HISTORY: usize = 2048;
/// Node life-cycle changes kept.
pub const LIFECYCLE_HISTORY: usize = 2048;
/// Nodes tracked at once; a new node beyond this is not tracked (counted in
/// [`State::nodes_untracked`]).
pub const MAX_TRACKED_NODES: usize = 4096;
/// Link samples (RSSI, LQI, ETX) kept per node, one per poll.
pub const NODE_SAMPLES: usize = 60;

/// One device event as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Its number: 1 for the first event the daemon received, counting on.
    pub seq: u64,
    /// When the daemon received it.
    pub received: SystemTime,
    /// Device time, milliseconds.
    pub ts_ms: u64,
    /// Stable snake_case name (`channel_changed`), as `sixgate events --json` prints it.
    pub name: String,
    /// The line `sixgate events` prints.
    pub text: String,
}

/// One device log line as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// When the daemon received it.
    pub received: SystemTime,
    /// Device time, milliseconds.
    pub ts_ms: u64,
    /// `ERROR`, `WARN`, `INFO`, `DEBUG`, `TRACE`.
    pub level: &'static str,
    /// Module.
    pub target: String,
    /// The line.
    pub text: String,
}

/// What happened to a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeChange {
    /// First seen (a registration, an RPL target, or in a polled table).
    Joined,
    /// A known node registered again.
    Reregistered,
    /// Its RPL parent changed (from, to); `from: None` is the first parent learned.
    MovedParent {
        /// The parent before (`None`: it had none).
        from: Option<Ipv6Addr>,
        /// The parent now.
        to: Option<Ipv6Addr>,
    },
    /// Gone: deregistered, its RPL target removed or expired, or absent from both tables.
    Expired,
}

/// One life-cycle change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// When the daemon saw it.
    pub at: SystemTime,
    /// The node's address.
    pub addr: Ipv6Addr,
    /// What happened.
    pub change: NodeChange,
}

impl Lifecycle {
    /// One line: `2001:db8::1 joined (parent fe80::1)`; `parent` is the node's parent now.
    pub fn describe(&self, parent: Option<Ipv6Addr>) -> String {
        let p = |x: Option<Ipv6Addr>| x.map_or_else(|| "none".to_string(), |a| a.to_string());
        match &self.change {
            NodeChange::Joined => format!("{} joined (parent {})", self.addr, p(parent)),
            NodeChange::Reregistered => format!("{} re-registered", self.addr),
            NodeChange::MovedParent { from: None, to } => {
                format!("{} attached to parent {}", self.addr, p(*to))
            }
            NodeChange::MovedParent { from, to } => {
                format!("{} moved parent {} -> {}", self.addr, p(*from), p(*to))
            }
            NodeChange::Expired => format!("{} expired", self.addr),
        }
    }
}

/// A node the daemon knows about (one IPv6 address of the mesh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// Its address.
    pub addr: Ipv6Addr,
    /// Registered with 6LoWPAN-ND (at the last poll or event).
    pub registered: bool,
    /// RPL parent (the last poll).
    pub parent: Option<Ipv6Addr>,
    /// DODAG depth (the last poll).
    pub depth: Option<u8>,
    /// An RPL target a router advertises for a host behind it (RFC 9010; the topology's
    /// `external`): a leaf, not a router, though it is in the DODAG.
    pub external: bool,
    /// Average RSSI, dBm (the last `NodesList` poll that had it: see [`Sample`] for gaps).
    pub rssi: Option<i8>,
    /// Average LQI (the last `NodesList` poll that had it).
    pub lqi: Option<u8>,
    /// EUI-64 (the last `NodesList` poll).
    pub eui64: Option<[u8; 8]>,
    /// ETX × 100 of its link (the last poll that had it).
    pub etx_x100: Option<u16>,
    /// Registration lifetime left at the last poll, seconds.
    pub lifetime_s: Option<u32>,
    /// First seen.
    pub joined: SystemTime,
    /// Last seen in a table or an event.
    pub last_seen: SystemTime,
    /// Registrations seen (events).
    pub registrations: u32,
    /// One link sample per poll, oldest first, at most [`NODE_SAMPLES`].
    pub samples: VecDeque<Sample>,
}

/// A node's link at one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// The poll's end.
    pub at: SystemTime,
    /// Average RSSI, dBm.
    pub rssi: Option<i8>,
    /// Average LQI.
    pub lqi: Option<u8>,
    /// ETX × 100.
    pub etx_x100: Option<u16>,
}

/// The daemon's state: the device link, the histories and the nodes. Read it through
/// `Daemon::state()` (a lock; keep it short).
#[derive(Debug, Default)]
pub struct State {
    /// The port the daemon owns.
    pub port: String,
    /// The device's handshake while connected.
    pub device: Option<Hello>,
    /// Connections made to the device (1 after the first).
    pub connections: u64,
    /// Why the device went away last.
    pub last_disconnect: Option<String>,
    /// Clients connected now.
    pub clients: usize,
    /// Frames dropped for clients that did not read them in time.
    pub client_frames_dropped: u64,
    /// Events, oldest first, at most [`EVENT_HISTORY`].
    pub events: VecDeque<EventRecord>,
    /// Events ever received (the last one's [`EventRecord::seq`]).
    pub events_total: u64,
    /// Log lines, oldest first, at most [`LOG_HISTORY`].
    pub logs: VecDeque<LogRecord>,
    /// Life-cycle changes, oldest first, at most [`LIFECYCLE_HISTORY`].
    pub lifecycle: VecDeque<Lifecycle>,
    /// Life-cycle changes ever (the ring keeps the last ones).
    pub lifecycle_total: u64,
    /// The nodes live now, by address.
    pub nodes: BTreeMap<Ipv6Addr, NodeRecord>,
    /// Nodes not tracked for lack of room ([`MAX_TRACKED_NODES`]).
    pub nodes_untracked: u64,
    /// Completed table polls.
    pub polls: u64,
    /// The device's other tables at the last poll.
    pub tables: Tables,
}

fn push_bounded<T>(q: &mut VecDeque<T>, cap: usize, v: T) {
    while q.len() >= cap {
        q.pop_front();
    }
    q.push_back(v);
}

/// A polled table's view of one node.
#[derive(Debug, Clone, Default)]
pub struct Polled {
    registered: bool,
    parent: Option<Ipv6Addr>,
    depth: Option<u8>,
    rssi: Option<i8>,
    lqi: Option<u8>,
    eui64: Option<[u8; 8]>,
    etx_x100: Option<u16>,
    lifetime_s: Option<u32>,
    /// In the DODAG without a parent: a child of the root.
    root_child: bool,
    /// Advertised by a router for a host behind it (RFC 9010).
    external: bool,
}

/// One poll's nodes (both tables) and the device's other tables, committed when the poll
/// ends.
#[derive(Debug, Default)]
pub struct Poll {
    nodes: BTreeMap<Ipv6Addr, Polled>,
    /// The other tables read so far (`updated` is set at the end).
    pub tables: Tables,
    /// `Stats` values read so far, and the fingerprint of the device's list.
    pub stats: (u32, Vec<u64>),
}

impl Poll {
    /// A `NodesList` page.
    pub fn add_nodes(&mut self, page: &[NodeInfo]) {
        for n in page {
            let p = self.nodes.entry(Ipv6Addr::from(n.addr)).or_default();
            p.registered |= n.registered;
            p.parent = p.parent.or(n.parent.map(Ipv6Addr::from));
            p.depth = p.depth.or(n.depth);
            p.rssi = n.rssi;
            p.lqi = n.lqi;
            p.eui64 = n.eui64.or(p.eui64);
            p.etx_x100 = p.etx_x100.or(n.etx_x100);
            p.lifetime_s = Some(n.lifetime_s);
        }
    }

    /// A `Topology` page (a target without a parent is a child of the root).
    pub fn add_topology(&mut self, page: &[TopoNode]) {
        let targets = u16::try_from(page.len()).unwrap_or(u16::MAX);
        self.tables.rpl_targets =
            Some(self.tables.rpl_targets.unwrap_or(0).saturating_add(targets));
        for n in page {
            let p = self.nodes.entry(Ipv6Addr::from(n.addr)).or_default();
            // The DODAG's view of the parent wins over the registry's.
            match n.parent {
                Some(a) => p.parent = Some(Ipv6Addr::from(a)),
                None => p.root_child = true,
            }
            p.depth = n.depth.or(p.depth);
            p.etx_x100 = n.etx_x100.or(p.etx_x100);
            p.registered |= n.registered;
            p.external |= n.external;
        }
    }
}

impl State {
    fn change(&mut self, addr: Ipv6Addr, change: NodeChange, at: SystemTime) {
        self.lifecycle_total += 1;
        push_bounded(
            &mut self.lifecycle,
            LIFECYCLE_HISTORY,
            Lifecycle { at, addr, change },
        );
    }

    /// A node seen (registered or not); returns whether it is tracked.
    fn seen(&mut self, addr: Ipv6Addr, at: SystemTime) -> bool {
        if let Some(n) = self.nodes.get_mut(&addr) {
            n.last_seen = at;
            return true;
        }
        if self.nodes.len() >= MAX_TRACKED_NODES {
            self.nodes_untracked += 1;
            return false;
        }
        self.nodes.insert(
            addr,
            NodeRecord {
                addr,
                registered: false,
                parent: None,
                depth: None,
                external: false,
                rssi: None,
                lqi: None,
                eui64: None,
                etx_x100: None,
                lifetime_s: None,
                joined: at,
                last_seen: at,
                registrations: 0,
                samples: VecDeque::new(),
            },
        );
        self.change(addr, NodeChange::Joined, at);
        true
    }

    fn expire(&mut self, addr: Ipv6Addr, at: SystemTime) {
        if self.nodes.remove(&addr).is_some() {
            self.change(addr, NodeChange::Expired, at);
        }
    }

    /// Records an event and what it says about the nodes.
    pub fn event(&mut self, e: &Event<'_>, at: SystemTime) {
        let (name, text) = crate::cmd::follow::event_text(&e.kind);
        self.events_total += 1;
        push_bounded(
            &mut self.events,
            EVENT_HISTORY,
            EventRecord {
                seq: self.events_total,
                received: at,
                ts_ms: e.ts_ms,
                name,
                text,
            },
        );
        match e.kind {
            EventKind::NodeRegistered(a) => {
                let a = Ipv6Addr::from(a);
                let known = self.nodes.contains_key(&a);
                if self.seen(a, at) {
                    if known {
                        self.change(a, NodeChange::Reregistered, at);
                    }
                    if let Some(n) = self.nodes.get_mut(&a) {
                        n.registered = true;
                        n.registrations = n.registrations.saturating_add(1);
                    }
                }
            }
            EventKind::TargetAdded(a) => {
                self.seen(Ipv6Addr::from(a), at);
            }
            EventKind::NodeDeregistered(a)
            | EventKind::TargetRemoved(a)
            | EventKind::TargetExpired(a) => self.expire(Ipv6Addr::from(a), at),
            _ => {}
        }
    }

    /// Records a log line.
    pub fn log(&mut self, l: &Log<'_>, at: SystemTime) {
        push_bounded(
            &mut self.logs,
            LOG_HISTORY,
            LogRecord {
                received: at,
                ts_ms: l.ts_ms,
                level: crate::cmd::follow::level_text(l.level),
                target: l.target.to_string(),
                text: l.text.to_string(),
            },
        );
    }

    /// Commits a finished poll: nodes in neither table are gone, new ones joined, a changed
    /// parent is a move.
    pub fn poll_done(&mut self, mut poll: Poll, at: SystemTime) {
        self.polls += 1;
        let root = poll.tables.root;
        for p in poll.nodes.values_mut().filter(|p| p.root_child) {
            p.parent = root.or(p.parent);
        }
        let (list, values) = std::mem::take(&mut poll.stats);
        poll.tables.counters = super::tables::name_counters(list, &values);
        poll.tables.updated = Some(at);
        self.tables = std::mem::take(&mut poll.tables);
        let gone: Vec<Ipv6Addr> = self
            .nodes
            .keys()
            .filter(|a| !poll.nodes.contains_key(a))
            .copied()
            .collect();
        for a in gone {
            self.expire(a, at);
        }
        for (a, p) in poll.nodes {
            let known = self.nodes.contains_key(&a);
            if !self.seen(a, at) {
                continue;
            }
            let before = self.nodes.get(&a).and_then(|n| n.parent);
            if known && p.parent.is_some() && before != p.parent {
                self.change(
                    a,
                    NodeChange::MovedParent {
                        from: before,
                        to: p.parent,
                    },
                    at,
                );
            }
            if let Some(n) = self.nodes.get_mut(&a) {
                n.registered = p.registered;
                n.parent = p.parent.or(n.parent);
                n.depth = p.depth;
                n.external = p.external;
                // The last measured link: the device's MAC keeps statistics for a bounded
                // number of neighbours (`wpan::MAC_NBR`, 32), so in a larger mesh a node's
                // figures come and go between polls; a poll without them is a gap in the
                // samples, not a change of the node (which would flood the event stream).
                n.rssi = p.rssi.or(n.rssi);
                n.lqi = p.lqi.or(n.lqi);
                n.eui64 = p.eui64.or(n.eui64);
                n.etx_x100 = p.etx_x100.or(n.etx_x100);
                n.lifetime_s = p.lifetime_s;
                push_bounded(
                    &mut n.samples,
                    NODE_SAMPLES,
                    Sample {
                        at,
                        rssi: p.rssi,
                        lqi: p.lqi,
                        etx_x100: p.etx_x100,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(last: u8) -> [u8; 16] {
        let mut x = [0u8; 16];
        x[0] = 0x20;
        x[15] = last;
        x
    }

    fn topo(addr: u8, parent: u8) -> TopoNode {
        TopoNode {
            addr: a(addr),
            parent: Some(a(parent)),
            depth: Some(1),
            lifetime_s: 100,
            storing: false,
            registered: true,
            etx_x100: None,
            external: false,
        }
    }

    #[test]
    fn life_cycle_from_events_and_polls() {
        let t = SystemTime::UNIX_EPOCH;
        let mut s = State::default();
        let reg = |x| Event {
            ts_ms: 1,
            kind: EventKind::NodeRegistered(a(x)),
        };
        s.event(&reg(2), t);
        s.event(&reg(2), t);
        let mut p = Poll::default();
        p.add_topology(&[topo(2, 1), topo(3, 2)]);
        s.poll_done(p, t);
        let mut p = Poll::default();
        p.add_topology(&[topo(3, 1)]);
        s.poll_done(p, t);
        let changes: Vec<(u8, NodeChange)> = s
            .lifecycle
            .iter()
            .map(|l| (l.addr.octets()[15], l.change.clone()))
            .collect();
        let ip = |x| Some(Ipv6Addr::from(a(x)));
        assert_eq!(
            changes,
            vec![
                (2, NodeChange::Joined),
                (2, NodeChange::Reregistered),
                // Joined from an event, its parent learned at the poll.
                (
                    2,
                    NodeChange::MovedParent {
                        from: None,
                        to: ip(1)
                    }
                ),
                (3, NodeChange::Joined),
                (2, NodeChange::Expired),
                (
                    3,
                    NodeChange::MovedParent {
                        from: ip(2),
                        to: ip(1)
                    }
                ),
            ]
        );
        assert_eq!(s.nodes.len(), 1);
    }

    /// The device's MAC keeps link statistics for 32 neighbours: in a larger mesh a node's
    /// RSSI/LQI/ETX are in one poll and not the next. That is a gap in its samples, not a
    /// change: the node keeps its last measured figures (before, every other poll changed half
    /// the nodes of a 100-node mesh and the dashboard's stream carried them all).
    #[test]
    fn a_poll_without_link_figures_keeps_the_last_measured_ones() {
        let t = SystemTime::UNIX_EPOCH;
        let node = |rssi: Option<i8>| mgmt::NodeInfo {
            addr: a(7),
            eui64: None,
            short_addr: None,
            registered: true,
            lifetime_s: 100,
            last_heard_ms: None,
            rssi,
            lqi: rssi.map(|_| 200),
            etx_x100: rssi.map(|_| 150),
            rx_frames: 0,
            tx_frames: 0,
            parent: None,
            depth: None,
        };
        let mut s = State::default();
        for r in [Some(-40), None] {
            let mut p = Poll::default();
            p.add_nodes(&[node(r)]);
            s.poll_done(p, t);
        }
        let n = &s.nodes[&Ipv6Addr::from(a(7))];
        assert_eq!(
            (n.rssi, n.lqi, n.etx_x100),
            (Some(-40), Some(200), Some(150))
        );
        let gaps: Vec<Option<i8>> = n.samples.iter().map(|x| x.rssi).collect();
        assert_eq!(gaps, [Some(-40), None], "the samples show the gap");
    }

    #[test]
    fn rings_are_bounded() {
        let mut s = State::default();
        for i in 0..(EVENT_HISTORY + 5) as u64 {
            s.event(
                &Event {
                    ts_ms: i,
                    kind: EventKind::ChannelChanged(11),
                },
                SystemTime::UNIX_EPOCH,
            );
        }
        assert_eq!(s.events.len(), EVENT_HISTORY);
        assert_eq!(s.events.front().map(|e| e.ts_ms), Some(5));
    }
}
