//! The mesh side: [`NODES`] scripted 802.15.4 nodes one hop from the router, on a
//! [`ScriptedRadio`] the application drives as its radio.
//!
//! Each node registers its global address (NS with ARO, renewed every
//! [`REGISTER_EVERY`]), then sends a UDP reading to the backbone collector every
//! [`READING_EVERY`] (every fourth reading [`BIG_READING`] bytes, so fragmented); each node's
//! third reading leaves with hop limit 1, which the router must answer with ICMPv6 Time
//! Exceeded. The radio acknowledges the router's frames that ask for it; the nodes reassemble
//! what the router sends them, note NAs and errors, and answer echo requests.
//!
//! [`Mesh::pump`] moves everything whose time has come between the radio and the application,
//! each event stamped with its own instant; [`Mesh::next_deadline`] says when to call it again.

use core::net::Ipv6Addr;

use firmware::app::App;
use heapless::Deque;
use l2_15_4::consts::airtime;
use l2_15_4::frame::{Address, FrameType, FrameVersion, PanId, Repr, fcs};
use l2_15_4::mac::Psdu;
use l2_15_4::radio::testing::{ScriptedRadio, received};
use l2_15_4::radio::{Channel, RadioEvent};
use netif::{Duration, Instant};
use sixlo::{CompressOptions, Context, ContextTable, Fragmenter, LinkAddr, Reassembler, Received};

use crate::backbone::HOST_GLOBAL;
use crate::far::Meter;
use crate::packet::{self, BENCH_PAYLOAD, BENCH_PORT, COLLECTOR_PORT, ICMPV6, Ipv6, UDP, icmp};

/// Scripted nodes.
pub const NODES: usize = 4;
/// Frames the radio queues each way (a 1280-byte datagram is 14 fragments; ACKs too).
pub const RADIO_QUEUE: usize = 24;
/// Frames of node datagrams waiting for the air.
pub const OUTBOX: usize = 32;
/// Between two readings of a node.
pub const READING_EVERY: Duration = Duration::from_secs(2);
/// Registration renewal (the lifetime asked is twice that).
pub const REGISTER_EVERY: Duration = Duration::from_secs(300);
/// Payload of a small reading (one frame).
pub const SMALL_READING: usize = 24;
/// Payload of every fourth reading (fragmented).
pub const BIG_READING: usize = 400;
/// The reading (per node, counted from 0) sent with hop limit 1.
pub const HOP_LIMIT_1_READING: u32 = 2;
/// The gap between the end of one node frame and the next (room for the router's ACK).
const FRAME_GAP: Duration = Duration::from_millis(2);
/// After the router's frame ends, the node's ACK ends (turnaround + ACK airtime).
const ACK_AFTER: Duration = Duration::from_micros(540);
/// MAC payload budget of a node frame (127 − FCS − a 2006 header with PAN ID compression and
/// two extended addresses).
const FRAME_BUDGET: usize = 127 - 2 - 21;
/// The node UDP port readings leave from.
const NODE_PORT: u16 = 42001;

/// The radio the application drives.
pub type MeshRadio = ScriptedRadio<RADIO_QUEUE>;

/// What the scripted nodes saw, all nodes together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MeshStats {
    /// Registrations sent.
    pub ns_sent: u32,
    /// NAs with ARO status 0 received.
    pub registered: u32,
    /// NAs with another ARO status.
    pub refused: u32,
    /// Readings sent (datagrams).
    pub readings: u32,
    /// Frames handed to the router.
    pub frames_sent: u32,
    /// Echo requests answered.
    pub echo_replies: u32,
    /// ICMPv6 Time Exceeded received.
    pub time_exceeded: u32,
    /// Other packets from the router for a node (RAs, errors, UDP).
    pub other_rx: u32,
    /// Router frames a node could not reassemble or read.
    pub rx_errors: u32,
    /// Datagrams not sent because the outbox had no room for their frames.
    pub outbox_full: u32,
    /// The router's unicast data frames heard by a node.
    pub frames_heard: u32,
    /// Measurement packets received intact ([`packet::is_bench`]).
    pub bench_rx: u32,
    /// Measurement packets sent to the backbone host.
    pub bench_sent: u32,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    eui64: [u8; 8],
    /// The prefix of the last registration (`None` before the first).
    registered_in: Option<[u8; 8]>,
    next_register: Instant,
    next_reading: Instant,
    readings: u32,
    seq: u8,
}

/// The scripted nodes and their radio; see the module docs.
pub struct Mesh {
    radio: MeshRadio,
    nodes: [Node; NODES],
    /// Nodes that register (the first ones); the others stay silent.
    active: usize,
    /// Whether the nodes send readings.
    readings_on: bool,
    outbox: Deque<Psdu, OUTBOX>,
    next_frame_at: Instant,
    reassembler: Reassembler<2>,
    /// Packets the nodes build.
    scratch: [u8; 1280],
    /// Packets the nodes reassemble.
    rx_buf: [u8; 1280],
    stats: MeshStats,
}

/// Node `k`'s EUI-64 (00:12:4b:00:00:00:00:kk, from 1).
pub fn node_eui64(k: usize) -> [u8; 8] {
    [
        0x00,
        0x12,
        0x4b,
        0x00,
        0x00,
        0x00,
        0x00,
        (k as u8).wrapping_add(1),
    ]
}

impl Mesh {
    /// Nodes that start registering at `now` (staggered by 100 ms).
    pub fn new(now: Instant) -> Self {
        let mut radio = MeshRadio::new();
        radio.ack_after = Some(ACK_AFTER);
        let nodes = core::array::from_fn(|k| {
            let start = now + Duration::from_millis(200 + 100 * k as u64);
            Node {
                eui64: node_eui64(k),
                registered_in: None,
                next_register: start,
                next_reading: start + Duration::from_millis(1000 + 250 * k as u64),
                readings: 0,
                seq: 0,
            }
        });
        Mesh {
            radio,
            nodes,
            active: NODES,
            readings_on: true,
            outbox: Deque::new(),
            next_frame_at: now,
            reassembler: Reassembler::default(),
            scratch: [0; 1280],
            rx_buf: [0; 1280],
            stats: MeshStats::default(),
        }
    }

    /// The measurement mode's mesh: node 0 registers and sends nothing else on its own (no
    /// readings); the other nodes stay silent.
    pub fn quiet(now: Instant) -> Self {
        Mesh {
            active: 1,
            readings_on: false,
            ..Mesh::new(now)
        }
    }

    /// Whether nothing is on the air or waiting for it: no transmission of the router's in
    /// progress or unread, no frame (an ACK included) queued for it, none in the outbox.
    pub fn idle(&self) -> bool {
        self.radio.on_air().is_none()
            && self.radio.sent().is_empty()
            && self.radio.next_rx_at().is_none()
            && self.outbox.is_empty()
    }

    /// Node 0 sends a measurement packet ([`BENCH_PAYLOAD`] bytes counting up from `seed`) to
    /// the backbone host; false if the outbox has no room.
    pub fn send_bench(&mut self, app: &App<'_>, seed: u8) -> bool {
        let me = Self::node_addr(app, 0);
        let Some(len) = packet::udp(
            &mut self.scratch,
            &me,
            &HOST_GLOBAL,
            BENCH_PORT,
            BENCH_PORT,
            64,
            BENCH_PAYLOAD,
            seed,
        ) else {
            return false;
        };
        let ok = self.send(app, 0, len);
        if ok {
            self.stats.bench_sent = self.stats.bench_sent.wrapping_add(1);
        }
        ok
    }

    /// The radio, for [`App::new`] and the application's calls.
    pub fn radio(&mut self) -> &mut MeshRadio {
        &mut self.radio
    }

    /// What the nodes saw.
    pub fn stats(&self) -> MeshStats {
        self.stats
    }

    /// Node `k`'s global address in the application's mesh prefix.
    pub fn node_addr(app: &App<'_>, k: usize) -> Ipv6Addr {
        packet::eui64_addr(app.config().mesh_prefix, node_eui64(k))
    }

    /// The earliest instant something is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut t = self.radio.on_air().map(|(end, _)| end);
        let mut at = |x: Instant| t = Some(t.map_or(x, |y| y.min(x)));
        if let Some(x) = self.radio.next_rx_at() {
            at(x);
        }
        if !self.outbox.is_empty() {
            at(self.next_frame_at);
        }
        for n in self.nodes.iter().take(self.active) {
            at(n.next_register);
            if self.readings_on {
                at(n.next_reading);
            }
        }
        t
    }

    /// Moves everything due at `now`: the end of the router's transmission, its frames to the
    /// nodes (and their answers), frames from the nodes, new datagrams. The application's
    /// calls are timed on `meter`.
    pub fn pump(&mut self, now: Instant, app: &mut App<'_>, meter: &mut Meter) {
        let channel = app_channel(app);
        // Bounded: every turn consumes something queued, and queues are bounded.
        for _ in 0..4 * (RADIO_QUEUE + OUTBOX) {
            let mut busy = false;
            if let Some((end, _)) = self.radio.on_air()
                && end <= now
                && let Some((end, outcome)) = self.radio.end_tx()
            {
                let ev = RadioEvent::TxDone { end, outcome };
                let radio = &mut self.radio;
                meter.time(|| app.on_radio_event(end, ev, radio));
                busy = true;
            }
            while let Some(rec) = self.radio.pop_sent() {
                self.hear(app, rec.end, &rec.psdu);
                busy = true;
            }
            if let Some(at) = self.radio.next_rx_at()
                && at <= now
                && let Some((at, psdu)) = self.radio.pop_rx()
            {
                let ev = RadioEvent::Received(received(&psdu, at, channel));
                let radio = &mut self.radio;
                meter.time(|| app.on_radio_event(at, ev, radio));
                busy = true;
            }
            if self.next_frame_at <= now
                && self.radio.on_air().is_none()
                && let Some(psdu) = self.outbox.pop_front()
            {
                // The frame ends now; the next one after its ACK.
                if self.radio.inject_rx(now, &psdu).is_ok() {
                    self.stats.frames_sent = self.stats.frames_sent.wrapping_add(1);
                }
                self.next_frame_at = now + airtime(psdu.len()) + FRAME_GAP;
                busy = true;
            }
            if !busy {
                break;
            }
        }
        self.schedule(now, app);
    }

    /// New registrations and readings that are due.
    fn schedule(&mut self, now: Instant, app: &App<'_>) {
        let prefix = app.config().mesh_prefix;
        for k in 0..self.active.min(NODES) {
            let n = self.nodes[k];
            let me = packet::eui64_addr(prefix, n.eui64);
            if n.next_register <= now || n.registered_in.is_some_and(|p| p != prefix) {
                let router_ll = router_ll(app);
                let lifetime = (REGISTER_EVERY.as_secs() * 2 / 60) as u16;
                if let Some(len) =
                    packet::ns_aro(&mut self.scratch, &me, &router_ll, n.eui64, lifetime)
                    && self.send(app, k, len)
                {
                    self.stats.ns_sent = self.stats.ns_sent.wrapping_add(1);
                }
                self.nodes[k].registered_in = Some(prefix);
                self.nodes[k].next_register = now + REGISTER_EVERY;
            }
            let n = self.nodes[k];
            if self.readings_on && n.next_reading <= now {
                let big = n.readings % 4 == 3;
                let size = if big { BIG_READING } else { SMALL_READING };
                let hop = if n.readings == HOP_LIMIT_1_READING {
                    1
                } else {
                    64
                };
                let seed = n.readings as u8;
                if let Some(len) = packet::udp(
                    &mut self.scratch,
                    &me,
                    &HOST_GLOBAL,
                    NODE_PORT,
                    COLLECTOR_PORT,
                    hop,
                    size,
                    seed,
                ) && self.send(app, k, len)
                {
                    self.stats.readings = self.stats.readings.wrapping_add(1);
                }
                self.nodes[k].readings = n.readings.wrapping_add(1);
                self.nodes[k].next_reading = now + READING_EVERY;
            }
        }
    }

    /// Cuts the packet in `scratch[..len]` into node `k`'s frames to the router and queues
    /// them; false (counted) when the outbox has no room for all of them.
    fn send(&mut self, app: &App<'_>, k: usize, len: usize) -> bool {
        let cfg = app.config();
        let pan = PanId(cfg.pan_id);
        let src = Address::Extended(self.nodes[k].eui64);
        let dst = Address::Extended(cfg.eui64);
        let contexts = contexts(cfg.mesh_prefix);
        let Some(packet) = self.scratch.get(..len) else {
            return false;
        };
        let tag = u16::from(self.nodes[k].seq) | ((k as u16) << 8);
        let Ok(mut f) = Fragmenter::new(
            packet,
            LinkAddr::from(src),
            LinkAddr::from(dst),
            &contexts,
            CompressOptions::default(),
            tag,
            FRAME_BUDGET,
        ) else {
            return false;
        };
        if self.outbox.capacity() - self.outbox.len() < f.frame_count() {
            self.stats.outbox_full = self.stats.outbox_full.wrapping_add(1);
            return false;
        }
        loop {
            let seq = self.nodes[k].seq;
            self.nodes[k].seq = seq.wrapping_add(1);
            let Ok(mut hdr) = Repr::new(
                FrameType::Data,
                FrameVersion::Ieee2006,
                Some(seq),
                Some((pan, dst)),
                Some((pan, src)),
            ) else {
                return false;
            };
            hdr.ack_request = true;
            let mut buf = [0u8; 127];
            let Ok(h) = hdr.emit_bytes(&mut buf) else {
                return false;
            };
            let Some(room) = buf.get_mut(h..127 - 2) else {
                return false;
            };
            let n = match f.next_frame(room) {
                Ok(Some(n)) => n,
                Ok(None) => return true,
                Err(_) => return false,
            };
            let Some(psdu) = buf.get_mut(..h + n + 2) else {
                return false;
            };
            fcs::append(psdu);
            let Ok(p) = Psdu::from_slice(psdu) else {
                return false;
            };
            if self.outbox.push_back(p).is_err() {
                return false;
            }
        }
    }

    /// A frame the router sent, heard by the nodes at `at`.
    fn hear(&mut self, app: &App<'_>, at: Instant, psdu: &[u8]) {
        let Some(mpdu) = psdu.get(..psdu.len().saturating_sub(2)) else {
            return;
        };
        let Ok(repr) = Repr::parse_bytes(mpdu) else {
            return;
        };
        let (FrameType::Data, Some(dst @ Address::Extended(eui)), Some(src)) =
            (repr.frame_type, repr.dst_addr, repr.src_addr)
        else {
            // ACKs, broadcasts (RAs), frames to short addresses: nothing to answer.
            return;
        };
        let Some(k) = self.nodes.iter().position(|n| n.eui64 == eui) else {
            return;
        };
        self.stats.frames_heard = self.stats.frames_heard.wrapping_add(1);
        let Some(payload) = mpdu.get(repr.buffer_len()..) else {
            return;
        };
        let contexts = contexts(app.config().mesh_prefix);
        let got = self.reassembler.receive(
            payload,
            &LinkAddr::from(src),
            &LinkAddr::from(dst),
            &contexts,
            at,
            &mut self.rx_buf,
        );
        let len = match got {
            Ok(Received::Complete(n)) => n,
            Ok(Received::Pending) => return,
            Err(_) => {
                self.stats.rx_errors = self.stats.rx_errors.wrapping_add(1);
                return;
            }
        };
        let Some(p) = self.rx_buf.get(..len) else {
            return;
        };
        let Some((ip, body)) = Ipv6::parse(p) else {
            self.stats.rx_errors = self.stats.rx_errors.wrapping_add(1);
            return;
        };
        if ip.next == UDP && packet::is_bench(body, &ip.src, &ip.dst) {
            self.stats.bench_rx = self.stats.bench_rx.wrapping_add(1);
            return;
        }
        let ty = if ip.next == ICMPV6 {
            body.first().copied()
        } else {
            None
        };
        match ty {
            Some(icmp::NA) => match packet::aro_status(body) {
                Some(0) => self.stats.registered = self.stats.registered.wrapping_add(1),
                _ => self.stats.refused = self.stats.refused.wrapping_add(1),
            },
            Some(icmp::TIME_EXCEEDED) => {
                self.stats.time_exceeded = self.stats.time_exceeded.wrapping_add(1);
            }
            Some(icmp::ECHO_REQUEST) => {
                let (Some(s), Some(p)) = (self.scratch.get_mut(..len), self.rx_buf.get(..len))
                else {
                    return;
                };
                s.copy_from_slice(p);
                if packet::echo_reply_in_place(s).is_some() && self.send(app, k, len) {
                    self.stats.echo_replies = self.stats.echo_replies.wrapping_add(1);
                }
            }
            _ => self.stats.other_rx = self.stats.other_rx.wrapping_add(1),
        }
    }
}

/// The router's link-local address on the mesh.
pub fn router_ll(app: &App<'_>) -> Ipv6Addr {
    let iid = firmware::lbr::our_iid(app.config());
    let mut a = [0u8; 16];
    a[0] = 0xfe;
    a[1] = 0x80;
    a[8..].copy_from_slice(&iid);
    Ipv6Addr::from(a)
}

fn contexts(prefix: [u8; 8]) -> ContextTable {
    let mut t = ContextTable::new();
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&prefix);
    let _ = t.set(0, Context::new(p, 64));
    t
}

const CHANNEL_26: Channel = match Channel::new(26) {
    Some(c) => c,
    None => panic!("26 is a channel"),
};

fn app_channel(app: &App<'_>) -> Channel {
    Channel::new(app.config().channel).unwrap_or(CHANNEL_26)
}
