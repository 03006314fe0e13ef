//! The ZEP bridge: foreign 802.15.4 nodes (RIOT OS native, or any stack whose radio speaks ZEP
//! v2 over UDP, see [`crate::zep`]) as radios of the simulated [`Medium`].
//!
//! [`ZepBridge::bind`] opens a UDP socket; every distinct source (address, port) that sends a
//! ZEP datagram to it becomes a radio of the medium, attached at run time ([`ZepPeer`]),
//! identified by the MAC source (EUI-64) of its frames. By default a peer hears and is heard
//! by the border router and every simulated node ([`ZepBridgeConfig::br`],
//! [`ZepBridgeConfig::nodes`]); [`LinkRule`]s (`--zep-links FILE`, [`parse_links`]) replace
//! that: then only the listed links exist (peer ↔ peer links too, for chains of foreign
//! routers).
//!
//! ## Time
//! A peer runs on the wall clock, so the simulator runs in real time while a bridge is attached
//! ([`crate::Simulator::attach_zep`]) and sleeps on the socket, not on a timer: a datagram
//! wakes it at once ([`ZepBridge::wait`]).
//!
//! A datagram arrives when its sender has finished transmitting the frame: it enters the medium
//! as a transmission that ENDS at its arrival, its air time back-dated
//! ([`Medium::transmit_ended`]). Its receivers get it at once, so the border router's soft-MAC
//! sends its ACK a turnaround (192 µs) later, and the bridge forwards that ACK to the peer when
//! its transmission starts ([`Medium::set_early_acks`]), not 352 µs of air time later, but not
//! before 450 µs after the peer's frame arrived ([`ACK_DELIVERY`]): RIOT waits 864 µs of wall
//! time for it from when it has processed the end of its own frame, and drops what comes
//! before. The
//! simulator waits for datagrams on a reader thread's channel (exact to microseconds; a socket
//! read timeout rounds to the kernel tick, 4 ms) and, when it falls more than 200 µs behind
//! the wall clock, restarts its pacing from the present instead of catching up, so an answer
//! is stamped relative to what it answers. A frame that a peer hears is sent to it as a
//! datagram when its transmission ends.
//!
//! ## Waiting for a peer's ACK
//! A peer's ACK crosses a UDP socket and the peer's process scheduler before it reaches us:
//! RIOT sends it 0.5 ms after our frame on an idle machine, 0.9 ms or more under load, while
//! our MAC waits 864 µs (macAckWaitDuration). A retransmission after an ACK that was merely
//! late on the wall clock is not harmless: RIOT's MAC has no duplicate filter, and a repeated
//! last fragment opens a new 1280-byte reassembly entry that holds a fifth of its packet
//! buffer for 3 s, so its next replies stop part-way (seen: three 1232-byte echoes lost in a
//! row). So when we send a peer a unicast frame with the ACK request bit, simulated time
//! stops at the instant the ACK would end over the air (turnaround + ACK air time after our
//! frame) until the ACK datagram arrives or [`ACK_GRACE`] of wall time has passed
//! ([`ZepBridge::ack_hold`], used by the simulator's pacing); the ACK then enters the medium
//! at that instant. This models the peer's radio as fast and its transport as slow, the way
//! forwarding our own ACK when it starts does in the other direction. An ACK that misses the
//! grace is counted ([`ZepCounters::ack_grace_expired`]) and our MAC retransmits.
//!
//! ## RIOT's deafness
//! RIOT's ZEP radio drops every datagram that arrives while it is still busy with its own last
//! frame. After each frame from a peer the bridge marks the peer's radio deaf for
//! [`ZepBridgeConfig::deaf`] (15 ms, RIOT's README): a transmission addressed to it (unicast or
//! broadcast) waits that long before it starts, as if its sender's CCA had found the channel
//! busy ([`Medium::set_deaf_until`]); ACKs are never held back.
//!
//! ## Repeats
//! RIOT's ZEP MAC has no duplicate filter, and its process, not a radio chip, sends its ACKs
//! and datagrams: under load a RIOT router's ACK came 1.2 ms after the frame, its neighbour
//! sent the frame again, and the RIOT router took the repeat as a new frame while it sent
//! its reply; twice a RIOT process put one frame on its socket twice 16 µs apart. Each time
//! the receiving RIOT router sent nothing more, ever (its ACKs stopped too). The bridge plays
//! the part of the peers' radios and MACs there:
//! - a datagram that repeats its peer's previous one byte for byte within the frame's air
//!   time is dropped ([`ZepCounters::repeats_too_soon`]): a radio cannot send a frame twice in
//!   that time;
//! - a frame from a peer that repeats, byte for byte, a unicast frame another peer has ACKed
//!   (within [`REPEAT_WINDOW`] of that ACK) is not sent to it again: the bridge sends the
//!   sender that peer's ACK, [`ACK_DELIVERY`] after the repeat arrived
//!   ([`ZepCounters::repeats_acked`]) — the duplicate rejection an 802.15.4 MAC does (ACK the
//!   repeat, discard it; our soft-MAC's is `l2-15_4/src/mac/dup.rs`);
//! - a repeat of a unicast frame the bridge sent another peer (within [`REPEAT_WINDOW`]) that
//!   peer has not ACKed yet is not sent to it again either ([`ZepCounters::repeats_held`]),
//!   unless that peer was busy sending a frame of its own around then ([`BUSY_MARGIN`]: a
//!   RIOT node sending may miss what arrives, as two radios sending at once miss each other):
//!   its ACK, when it comes, answers the repeat. In the RIOT chain A's last fragment reached
//!   B twice that way, and B stopped.
//!
//! ## Address filter
//! Like a radio chip's frame filter, a peer is sent only the frames addressed to it (its
//! EUI-64, the short address RIOT derives from it, or broadcast), frames without a destination
//! address, and the ACK it waits for (the sequence number of its last frame with the ACK
//! request bit, within 1 ms of medium time). Anything else it hears is counted as filtered.
//!
//! Every received byte is hostile: a datagram that is not a ZEP v2 data frame with a valid FCS
//! on an 802.15.4 channel is counted in [`ZepCounters::malformed`] and dropped; at most
//! [`MAX_PEERS`] peers attach, further sources are counted and ignored.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread;
use std::time::{Duration as WallDuration, Instant as WallInstant, SystemTime, UNIX_EPOCH};

use capture_file::{InterfaceDesc, PcapngWriter};
use l2_15_4::Radio as _;
use l2_15_4::frame::{Address, FCS_LEN, Frame, FrameType};
use l2_15_4::radio::Channel;
use netif::time::{Duration, Instant};

use crate::medium::{Medium, RadioConfig, RadioId, SimEvent};
use crate::topology::Link;
use crate::zep::{self, ZepHeader};

mod links;
mod record;

pub use links::{Endpoint, LinkRule, parse_links};
use record::{LINKTYPE_RAW, ip_udp};

/// The most peers one bridge attaches (each is a radio of the medium for the whole run).
pub const MAX_PEERS: usize = 64;
/// How long a peer is deaf after each frame it sends (RIOT's README: ~15 ms).
pub const DEFAULT_DEAF: Duration = Duration::from_millis(15);
/// How long after a peer's frame with the ACK request bit its ACK is forwarded (medium time;
/// the soft-MAC's ACK ends 544 µs after the frame).
const ACK_FORWARD_WINDOW: Duration = Duration::from_millis(1);
/// How long (wall clock) simulated time waits for a peer's ACK to our frame (see the module
/// docs).
pub const ACK_GRACE: WallDuration = WallDuration::from_millis(5);
/// When an ACK ends over the air after the frame it answers: turnaround (12 symbols) and the
/// ACK's own air time (5 bytes + synchronisation header).
const ACK_IDEAL: Duration = Duration::from_micros(192 + 352);
/// How long after a peer's frame (wall clock, from its arrival) the ACK to it is sent, at
/// the earliest: RIOT takes only an ACK that arrives after it has processed the end of its
/// own transmission and before its 864 µs ACK timeout, which starts then. Measured with
/// `zep_6ln.elf` (`cargo test -p sixgate-sim --test riot riot_6ln_and_the_linux`, the
/// `repeated` count of its retransmitted frames, on a loaded 2-core machine): sent at once
/// (0.3–0.5 ms after its frame) 23 % of its frames came again; from 300 µs 13 %, 450 µs
/// 2–3 %, 600 µs 19 %, 750 µs 65 %.
pub const ACK_DELIVERY: WallDuration = WallDuration::from_micros(450);
/// How long after a peer's ACK a repeat of the frame it ACKed is ACKed for it (see the
/// module docs): a MAC's retransmissions end within tens of milliseconds.
const REPEAT_WINDOW: WallDuration = WallDuration::from_millis(500);

/// A peer whose own data frame arrived later than this before we sent it a frame (or any
/// time after) was busy sending (CSMA/CA, its frame, its ACK wait) and may have missed ours:
/// a repeat of that frame is sent to it again. RIOT's ACK wait is 864 µs.
const BUSY_MARGIN: WallDuration = WallDuration::from_millis(3);
/// A frame's air time (synchronisation header, PHR and the PSDU) on the wall clock.
fn airtime_wall(psdu_len: usize) -> WallDuration {
    WallDuration::from_micros(l2_15_4::consts::airtime(psdu_len).as_micros())
}

/// A datagram buffer: more than any ZEP datagram (32 + 127 bytes), so a longer one is seen
/// as longer and refused.
const DATAGRAM_BUF: usize = 2048;

/// How the bridge attaches its peers.
#[derive(Debug, Clone, PartialEq)]
pub struct ZepBridgeConfig {
    /// The border router's radio.
    pub br: RadioId,
    /// The simulated nodes' radios, in index order (node 1 first).
    pub nodes: Vec<RadioId>,
    /// `None`: every peer hears and is heard by the border router and every simulated node;
    /// `Some`: only these links exist.
    pub links: Option<Vec<LinkRule>>,
    /// The quality of a peer's links (the loss of a [`LinkRule`] replaces its loss).
    pub link: Link,
    /// How long a peer is deaf after each frame it sends (see the module docs).
    pub deaf: Duration,
}

impl ZepBridgeConfig {
    /// Default links ([`Link::good`]) to `br` and every one of `nodes`, [`DEFAULT_DEAF`].
    pub fn new(br: RadioId, nodes: Vec<RadioId>) -> Self {
        ZepBridgeConfig {
            br,
            nodes,
            links: None,
            link: Link::good(),
            deaf: DEFAULT_DEAF,
        }
    }
}

/// A foreign node: one UDP source of ZEP datagrams, one radio of the medium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZepPeer {
    /// Where its datagrams come from (and ours go).
    pub addr: SocketAddr,
    /// Its radio in the medium.
    pub radio: RadioId,
    /// The MAC source of its frames, once one carried an extended address.
    pub eui64: Option<[u8; 8]>,
    /// Frames received from it.
    pub frames_in: u64,
    /// Frames sent to it.
    pub frames_out: u64,
    /// Frames received from it that repeat its previous frame byte for byte (its MAC
    /// retransmitting after a missing ACK).
    pub repeats: u64,
    /// Frames with the ACK request bit received from it.
    pub ack_requests: u64,
    /// ACKs forwarded to it.
    pub acks_out: u64,
    /// Frames it heard that were not addressed to it (not sent).
    pub filtered: u64,
    last_psdu: Vec<u8>,
    /// When (wall clock) its previous datagram arrived.
    last_arrived: Option<WallInstant>,
    /// When (wall clock) its last data frame (not an ACK) arrived.
    last_data_arrived: Option<WallInstant>,
    /// The last unicast frame with the ACK request bit sent to it, with its sequence number
    /// and when (wall clock) it was sent.
    awaited: Option<(Vec<u8>, u8, WallInstant)>,
    /// The last frame it ACKed (a unicast frame with the ACK request bit we sent it), and
    /// when that ACK arrived: a repeat of it is ACKed for it, not sent again.
    acked: Option<(Vec<u8>, WallInstant)>,
    /// A repeat of [`ZepPeer::awaited`] held back: the peer that sent it, and the sequence
    /// number its ACK answers.
    held_repeat: Option<(usize, u8)>,
    /// The sequence number of the peer's last frame with the ACK request bit, until when
    /// (medium time) its ACK is forwarded, and when (wall clock) that frame arrived.
    ack_expected: Option<(u8, Instant, WallInstant)>,
    seq_out: u32,
}

/// Bridge counters. All saturate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZepCounters {
    /// Datagrams received.
    pub datagrams_in: u64,
    /// Datagrams sent.
    pub datagrams_out: u64,
    /// Datagrams dropped as not ZEP v2 data with a valid FCS on a valid channel.
    pub malformed: u64,
    /// Datagrams from sources beyond [`MAX_PEERS`], dropped.
    pub peers_refused: u64,
    /// Sends that failed (the peer's socket closed: ICMP port unreachable).
    pub send_errors: u64,
    /// Socket receive errors.
    pub recv_errors: u64,
    /// Datagrams dropped because more than 1024 waited to be taken.
    pub overflow: u64,
    /// Peers' ACKs to our frames that arrived while simulated time waited for them (later on
    /// the wall clock than they would end over the air; see the module docs).
    pub acks_held: u64,
    /// Our frames with the ACK request bit whose ACK did not arrive within [`ACK_GRACE`].
    pub ack_grace_expired: u64,
    /// Peers' frames that repeated, byte for byte, a frame their receiver (a peer) had
    /// already ACKed: ACKed on its behalf and not sent to it again (see the module docs).
    pub repeats_acked: u64,
    /// Peers' frames that repeated their previous frame within its own air time (a radio
    /// cannot send that): dropped.
    pub repeats_too_soon: u64,
    /// Peers' frames that repeated a unicast frame the bridge had sent its destination, which
    /// had not ACKed it yet: not sent again (its ACK answers the repeat).
    pub repeats_held: u64,
}

/// Our unicast frame with the ACK request bit, sent to a peer, waiting for its ACK.
#[derive(Debug, Clone, Copy)]
struct AckWait {
    peer: usize,
    seq: u8,
    /// When the frame ended (simulated time).
    ended: Instant,
    /// When the datagram was sent (wall clock).
    sent: WallInstant,
    /// Whether simulated time has stopped for it ([`ZepBridge::ack_hold`]).
    held: bool,
}

/// The bridge: its socket, its peers and counters, and an optional recording of the ZEP
/// traffic itself (as IP/UDP, for tshark's `-d udp.port==PORT,zep`).
pub struct ZepBridge {
    socket: UdpSocket,
    local: SocketAddr,
    cfg: ZepBridgeConfig,
    peers: Vec<ZepPeer>,
    /// Datagrams from the reader thread: source, bytes, wall-clock arrival.
    rx: Receiver<Arrival>,
    stop: Arc<AtomicBool>,
    shared: Arc<ReaderCounters>,
    pending: VecDeque<Arrival>,
    counters: ZepCounters,
    /// Our frames waiting for a peer's ACK (at most one per peer).
    awaiting: Vec<AckWait>,
    capture: Option<PcapngWriter<BufWriter<File>>>,
    capture_error: Option<String>,
}

impl std::fmt::Debug for ZepBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZepBridge")
            .field("local", &self.local)
            .field("peers", &self.peers.len())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

type Arrival = (SocketAddr, Vec<u8>, WallInstant);

/// Datagrams the reader thread may queue before it drops (and counts) more.
const READER_QUEUE: usize = 1024;

/// What the reader thread counts.
#[derive(Debug, Default)]
struct ReaderCounters {
    recv_errors: AtomicU64,
    overflow: AtomicU64,
}

/// The reader thread: blocks on the socket and hands each datagram over with the instant it
/// arrived. (A socket read timeout has the kernel's tick resolution, 4 ms at HZ=250, far too
/// coarse for an ACK window of 864 µs; a channel wait is exact to a few µs.)
fn reader(
    socket: UdpSocket,
    tx: SyncSender<Arrival>,
    stop: Arc<AtomicBool>,
    c: Arc<ReaderCounters>,
) {
    let mut buf = [0u8; DATAGRAM_BUF];
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let d = buf.get(..n).unwrap_or_default().to_vec();
                match tx.try_send((from, d, WallInstant::now())) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => {
                        c.overflow.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(TrySendError::Disconnected(_)) => break,
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            // ICMP port unreachable from a peer that went away is reported here on Linux.
            Err(_) => {
                c.recv_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn bump(c: &mut u64) {
    *c = c.saturating_add(1);
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The short address RIOT derives from its EUI-64 (`eui[6] & 0x7f, eui[7]`).
fn riot_short(eui: [u8; 8]) -> u16 {
    u16::from_be_bytes([eui[6] & 0x7f, eui[7]])
}

impl ZepBridge {
    /// Binds `addr` (e.g. `[::1]:17754`).
    pub fn bind(addr: SocketAddr, cfg: ZepBridgeConfig) -> io::Result<ZepBridge> {
        let socket = UdpSocket::bind(addr)?;
        let local = socket.local_addr()?;
        let reader_socket = socket.try_clone()?;
        // Wakes the reader now and then to see whether the bridge is gone.
        reader_socket.set_read_timeout(Some(WallDuration::from_millis(100)))?;
        let (tx, rx) = sync_channel(READER_QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(ReaderCounters::default());
        {
            let (stop, shared) = (stop.clone(), shared.clone());
            thread::Builder::new()
                .name("zep-reader".into())
                .spawn(move || reader(reader_socket, tx, stop, shared))?;
        }
        Ok(ZepBridge {
            socket,
            local,
            cfg,
            peers: Vec::new(),
            rx,
            stop,
            shared,
            pending: VecDeque::new(),
            counters: ZepCounters::default(),
            awaiting: Vec::new(),
            capture: None,
            capture_error: None,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The peers attached so far, in order of arrival.
    pub fn peers(&self) -> &[ZepPeer] {
        &self.peers
    }

    /// The counters.
    pub fn counters(&self) -> ZepCounters {
        let mut c = self.counters;
        c.recv_errors = self.shared.recv_errors.load(Ordering::Relaxed);
        c.overflow = self.shared.overflow.load(Ordering::Relaxed);
        c
    }

    /// Records every datagram received and sent from now on into `path` (pcapng, raw IP:
    /// IPv6 or IPv4 and UDP, checksummed, stamped with the wall clock).
    pub fn record_to(&mut self, path: &Path, application: &str) -> io::Result<()> {
        let f = BufWriter::new(File::create(path)?);
        let w = PcapngWriter::with_application(
            f,
            application,
            &[InterfaceDesc {
                linktype: LINKTYPE_RAW,
                name: "lo".into(),
                snaplen: 0,
            }],
        )?;
        self.capture = Some(w);
        Ok(())
    }

    /// Closes the recording; `Err` says why a write failed.
    pub fn finish_recording(&mut self) -> io::Result<()> {
        if let Some(w) = self.capture.take() {
            w.finish()?;
        }
        match self.capture_error.take() {
            Some(e) => Err(io::Error::other(e)),
            None => Ok(()),
        }
    }

    fn record(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) {
        let Some(w) = self.capture.as_mut() else {
            return;
        };
        let Some(pkt) = ip_udp(src, dst, payload) else {
            return;
        };
        if let Err(e) = w.write_packet(0, unix_micros(), &pkt) {
            self.capture_error.get_or_insert(e.to_string());
            self.capture = None;
        }
    }

    /// Waits until `until` (wall clock) or until a datagram arrives, whichever is first;
    /// returns the wall-clock arrival of the first datagram waiting for
    /// [`ZepBridge::ingest`], if any.
    pub fn wait(&mut self, until: WallInstant) -> Option<WallInstant> {
        if self.pending.is_empty() {
            let left = until.saturating_duration_since(WallInstant::now());
            if let Ok(a) = self.rx.recv_timeout(left) {
                self.pending.push_back(a);
            }
        }
        while self.pending.len() < READER_QUEUE
            && let Ok(a) = self.rx.try_recv()
        {
            self.pending.push_back(a);
        }
        self.pending.front().map(|(_, _, at)| *at)
    }

    /// Whether simulated time must stop before `t` for a peer's ACK (see the module docs):
    /// `Some((the simulated instant the ACK would end over the air, the wall-clock instant
    /// the wait ends))` for the earliest such ACK. Waits whose grace has run out are dropped
    /// and counted.
    pub fn ack_hold(&mut self, t: Instant) -> Option<(Instant, WallInstant)> {
        let wall = WallInstant::now();
        let before = self.awaiting.len();
        self.awaiting.retain(|w| wall < w.sent + ACK_GRACE);
        let expired = before - self.awaiting.len();
        self.counters.ack_grace_expired = self
            .counters
            .ack_grace_expired
            .saturating_add(expired as u64);
        let w = self
            .awaiting
            .iter_mut()
            .filter(|w| w.ended + ACK_IDEAL < t)
            .min_by_key(|w| w.ended)?;
        w.held = true;
        Some((w.ended + ACK_IDEAL, w.sent + ACK_GRACE))
    }

    /// Puts the waiting datagrams on the medium as transmissions ending at `now` (attaching
    /// new peers); malformed ones are counted and dropped.
    pub fn ingest(&mut self, medium: &mut Medium, now: Instant) {
        while let Some((from, data, arrived)) = self.pending.pop_front() {
            bump(&mut self.counters.datagrams_in);
            let local = self.local;
            self.record(from, local, &data);
            let Ok(f) = zep::parse(&data) else {
                bump(&mut self.counters.malformed);
                continue;
            };
            let Some(channel) = Channel::new(f.header.channel) else {
                bump(&mut self.counters.malformed);
                continue;
            };
            let Some(i) = self.peer_for(from, medium, channel) else {
                bump(&mut self.counters.peers_refused);
                continue;
            };
            let mpdu = f
                .psdu
                .get(..f.psdu.len().saturating_sub(FCS_LEN))
                .unwrap_or(&[]);
            let frame = Frame::new_unchecked(mpdu);
            if let Some(Address::Extended(e)) = frame.src_addr() {
                self.learn_eui(i, e, medium);
            }
            let Some(p) = self.peers.get_mut(i) else {
                continue;
            };
            bump(&mut p.frames_in);
            let repeat = p.last_psdu == f.psdu;
            let previous = p.last_arrived.replace(arrived);
            if repeat {
                bump(&mut p.repeats);
                if previous.is_some_and(|t| arrived < t + airtime_wall(f.psdu.len())) {
                    bump(&mut self.counters.repeats_too_soon);
                    continue;
                }
            }
            p.last_psdu.clear();
            p.last_psdu.extend_from_slice(f.psdu);
            if frame.frame_type() != FrameType::Ack {
                p.last_data_arrived = Some(arrived);
            }
            p.ack_expected = None;
            if frame.frame_type() == FrameType::Ack
                && let Some(k) = self
                    .awaiting
                    .iter()
                    .position(|w| w.peer == i && Some(w.seq) == frame.sequence_number())
                && self.awaiting.swap_remove(k).held
            {
                bump(&mut self.counters.acks_held);
            }
            if frame.frame_type() == FrameType::Ack
                && let Some(p) = self.peers.get_mut(i)
                && let Some((psdu, seq, sent)) = p.awaited.take()
            {
                if frame.sequence_number() == Some(seq) {
                    p.acked = Some((psdu, arrived));
                    // A held repeat of that frame: its sender gets this ACK now.
                    if let Some((a, s)) = p.held_repeat.take()
                        && s == seq
                    {
                        if let Some(q) = self.peers.get_mut(a) {
                            q.ack_expected = None;
                        }
                        self.send_frame(a, channel, 255, f.psdu, true);
                    }
                } else {
                    p.awaited = Some((psdu, seq, sent));
                }
            }
            if self.ack_repeat_for_peer(i, f.psdu, channel, arrived) {
                bump(&mut self.counters.repeats_acked);
                continue;
            }
            let held = self.awaited_by_another(i, f.psdu, arrived);
            if let (Some(j), Some(seq)) = (held, frame.sequence_number())
                && let Some(q) = self.peers.get_mut(j)
            {
                q.held_repeat = Some((i, seq));
            }
            let Some(p) = self.peers.get_mut(i) else {
                continue;
            };
            if frame.ack_request()
                && let Some(seq) = frame.sequence_number()
            {
                bump(&mut p.ack_requests);
                p.ack_expected = Some((seq, now + ACK_FORWARD_WINDOW, arrived));
            }
            if held.is_some() {
                // The destination has it; its ACK, still to come, answers this repeat.
                bump(&mut self.counters.repeats_held);
                continue;
            }
            let radio = p.radio;
            let _ = medium.radio(radio).set_channel(channel);
            if medium.transmit_ended(radio, now, f.psdu).is_ok() {
                medium.set_deaf_until(radio, now + self.cfg.deaf);
            }
        }
    }

    /// Duplicate rejection for a peer (see the module docs): when `psdu`, just received from
    /// peer `from`, repeats byte for byte the frame another peer ACKed within
    /// [`REPEAT_WINDOW`], the bridge sends `from` that peer's ACK ([`ACK_DELIVERY`] after the
    /// frame arrived) and the frame goes no further (`true`).
    fn ack_repeat_for_peer(
        &mut self,
        from: usize,
        psdu: &[u8],
        channel: Channel,
        arrived: WallInstant,
    ) -> bool {
        let Some(seq) = self.peers.iter().enumerate().find_map(|(j, p)| {
            let (acked, at) = p.acked.as_ref()?;
            (j != from && acked.as_slice() == psdu && arrived < *at + REPEAT_WINDOW)
                .then(|| unicast_ack_request(psdu, p.eui64))
                .flatten()
        }) else {
            return false;
        };
        let mpdu = psdu
            .get(..psdu.len().saturating_sub(FCS_LEN))
            .unwrap_or(&[]);
        let ack = l2_15_4::frame::ack_psdu(seq, Frame::new_unchecked(mpdu).frame_version());
        wait_until_listening(arrived);
        self.send_frame(from, channel, 255, &ack, true);
        true
    }

    /// The peer, if any, other than `from` that the bridge sent `psdu` within
    /// [`REPEAT_WINDOW`] and that has not ACKed it yet, and was not busy sending a frame of
    /// its own around then ([`BUSY_MARGIN`]): it has the frame, its ACK is late.
    fn awaited_by_another(&self, from: usize, psdu: &[u8], arrived: WallInstant) -> Option<usize> {
        self.peers.iter().enumerate().position(|(j, p)| {
            j != from
                && p.awaited.as_ref().is_some_and(|(f, _, sent)| {
                    f.as_slice() == psdu
                        && arrived < *sent + REPEAT_WINDOW
                        && p.last_data_arrived.is_none_or(|t| t + BUSY_MARGIN < *sent)
                })
        })
    }

    /// Sends peer `i` `psdu` as a ZEP datagram on `channel` with `lqi`, counting it (an ACK
    /// too when `is_ack`) and recording it; whether the socket took it.
    fn send_frame(
        &mut self,
        i: usize,
        channel: Channel,
        lqi: u8,
        psdu: &[u8],
        is_ack: bool,
    ) -> bool {
        let Some(p) = self.peers.get_mut(i) else {
            return false;
        };
        let header = ZepHeader {
            channel: channel.number(),
            device_id: 0,
            lqi,
            ntp_timestamp: zep::ntp_from_unix_micros(unix_micros()),
            sequence: p.seq_out,
        };
        p.seq_out = p.seq_out.wrapping_add(1);
        let mut d = Vec::with_capacity(zep::HEADER_LEN + psdu.len());
        if zep::encode(&header, psdu, &mut d).is_err() {
            return false;
        }
        let to = p.addr;
        let sent = self.socket.send_to(&d, to).is_ok();
        if sent {
            bump(&mut self.counters.datagrams_out);
            if let Some(p) = self.peers.get_mut(i) {
                bump(&mut p.frames_out);
                if is_ack {
                    bump(&mut p.acks_out);
                }
            }
        } else {
            bump(&mut self.counters.send_errors);
        }
        let local = self.local;
        self.record(local, to, &d);
        sent
    }

    /// The index of the peer at `from`, attached now if new (`None`: too many peers).
    fn peer_for(
        &mut self,
        from: SocketAddr,
        medium: &mut Medium,
        channel: Channel,
    ) -> Option<usize> {
        if let Some(i) = self.peers.iter().position(|p| p.addr == from) {
            return Some(i);
        }
        if self.peers.len() >= MAX_PEERS {
            return None;
        }
        let radio = medium.attach(RadioConfig { channel });
        medium.set_early_acks(radio, true);
        if self.cfg.links.is_none() {
            let targets = std::iter::once(self.cfg.br).chain(self.cfg.nodes.iter().copied());
            for t in targets {
                medium.set_link(radio, t, Some(self.cfg.link));
                medium.set_link(t, radio, Some(self.cfg.link));
            }
        }
        self.peers.push(ZepPeer {
            addr: from,
            radio,
            eui64: None,
            frames_in: 0,
            frames_out: 0,
            repeats: 0,
            ack_requests: 0,
            acks_out: 0,
            filtered: 0,
            last_psdu: Vec::new(),
            last_arrived: None,
            last_data_arrived: None,
            awaited: None,
            acked: None,
            held_repeat: None,
            ack_expected: None,
            seq_out: 0,
        });
        Some(self.peers.len() - 1)
    }

    /// Peer `i` sends from `eui`: its radio's addresses, and the `--zep-links` naming it.
    fn learn_eui(&mut self, i: usize, eui: [u8; 8], medium: &mut Medium) {
        let Some(p) = self.peers.get_mut(i) else {
            return;
        };
        if p.eui64 == Some(eui) {
            return;
        }
        p.eui64 = Some(eui);
        let radio = p.radio;
        medium.set_addresses(radio, eui, riot_short(eui));
        let Some(rules) = self.cfg.links.as_ref() else {
            return;
        };
        for r in rules {
            let other = if r.a == Endpoint::Eui64(eui) {
                r.b
            } else if r.b == Endpoint::Eui64(eui) {
                r.a
            } else {
                continue;
            };
            let other = match other {
                Endpoint::Br => Some(self.cfg.br),
                Endpoint::Node(k) => self.cfg.nodes.get(k.wrapping_sub(1)).copied(),
                Endpoint::Eui64(e) => self
                    .peers
                    .iter()
                    .find(|p| p.eui64 == Some(e))
                    .map(|p| p.radio),
            };
            if let Some(o) = other {
                let link = Link {
                    loss: r.loss,
                    ..self.cfg.link
                };
                medium.set_link(radio, o, Some(link));
                medium.set_link(o, radio, Some(link));
            }
        }
    }

    /// Sends each peer the frames its radio received (through its address filter, see the
    /// module docs) as ZEP datagrams.
    pub fn deliver(&mut self, medium: &mut Medium, now: Instant) {
        for i in 0..self.peers.len() {
            let Some(radio) = self.peers.get(i).map(|p| p.radio) else {
                continue;
            };
            for ev in medium.take_events(radio) {
                let SimEvent::Received {
                    psdu, lqi, channel, ..
                } = ev
                else {
                    continue;
                };
                let Some(p) = self.peers.get_mut(i) else {
                    continue;
                };
                let Some(is_ack) = p.wants(&psdu, now) else {
                    bump(&mut p.filtered);
                    continue;
                };
                if is_ack && let Some((_, _, arrived)) = p.ack_expected.take() {
                    wait_until_listening(arrived);
                }
                let await_ack = (!is_ack)
                    .then(|| unicast_ack_request(&psdu, p.eui64))
                    .flatten();
                if !self.send_frame(i, channel, lqi, &psdu, is_ack) {
                    continue;
                }
                if let Some(seq) = await_ack {
                    self.awaiting.retain(|w| w.peer != i);
                    self.awaiting.push(AckWait {
                        peer: i,
                        seq,
                        ended: now,
                        sent: WallInstant::now(),
                        held: false,
                    });
                    if let Some(p) = self.peers.get_mut(i) {
                        p.awaited = Some((psdu, seq, WallInstant::now()));
                    }
                }
            }
        }
    }
}

impl Drop for ZepBridge {
    fn drop(&mut self) {
        // The reader sees it within its 100 ms read timeout and ends.
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl ZepPeer {
    /// Whether the peer's frame filter passes `psdu` (`Some(is_ack)`), see the module docs.
    fn wants(&mut self, psdu: &[u8], now: Instant) -> Option<bool> {
        let mpdu = psdu.get(..psdu.len().saturating_sub(FCS_LEN))?;
        let f = Frame::new_unchecked(mpdu);
        if f.frame_type() == FrameType::Ack {
            let (seq, until, _) = self.ack_expected?;
            if f.sequence_number() == Some(seq) && now <= until {
                return Some(true);
            }
            return None;
        }
        let Some(eui) = self.eui64 else {
            return Some(false);
        };
        match f.dst_addr() {
            None => Some(false),
            Some(Address::Short(a)) if a == 0xffff || a == riot_short(eui) => Some(false),
            Some(Address::Extended(e)) if e == eui => Some(false),
            Some(_) => None,
        }
    }
}

/// Sleeps until a peer whose frame arrived at `arrived` listens for our ACK to it (see the
/// module docs, [`ACK_DELIVERY`]).
fn wait_until_listening(arrived: WallInstant) {
    let due = arrived + ACK_DELIVERY;
    let wall = WallInstant::now();
    if due > wall {
        std::thread::sleep(due - wall);
    }
}

/// The sequence number of `psdu` when it is a frame with the ACK request bit addressed to the
/// peer with `eui` (its EUI-64 or the short address RIOT derives from it).
fn unicast_ack_request(psdu: &[u8], eui: Option<[u8; 8]>) -> Option<u8> {
    let eui = eui?;
    let mpdu = psdu.get(..psdu.len().saturating_sub(FCS_LEN))?;
    let f = Frame::new_unchecked(mpdu);
    if !f.ack_request() {
        return None;
    }
    match f.dst_addr()? {
        Address::Extended(e) if e == eui => f.sequence_number(),
        Address::Short(a) if a != 0xffff && a == riot_short(eui) => f.sequence_number(),
        _ => None,
    }
}
