//! Fuzz the whole border router: `firmware::app::App` with an in-memory radio and Ethernet
//! driver, fed arbitrary frames on both interfaces, with time advancing and the channel,
//! carrier and run-time configuration changing under it.
//!
//! # Input
//!
//! One configuration byte, then operations until the input runs out. Configuration: bit 0
//! static backbone address (else SLAAC), bit 1 capture running on both interfaces, bit 2 the
//! capture also takes promiscuous frames, bit 3 explicit context IDs in IPHC, bits 4-7 the
//! capture snap length in units of 16 bytes (0: whole frames).
//!
//! Each operation is a tag byte (low nibble: which, high nibble `arg`) and a body:
//! - radio PSDU (`len`, bytes): as received, with an FCS appended unless `arg` bit 0;
//! - radio data frame (`ll`, `len`, payload): an 802.15.4-2006 data frame from one of four
//!   nodes to the border router (or broadcast, or another node) built around the payload;
//! - radio datagram (`ll`, `src`, `dst`, next header, hop limit, `frag`, `len`, payload
//!   repeated `arg + 1` times): an IPv6 datagram between addresses the router knows,
//!   checksummed, compressed and fragmented with `sixlo`, its frames delivered in order or
//!   reversed, some dropped (`frag`);
//! - Ethernet frame (`len` u16, bytes), raw;
//! - Ethernet IPv6 (`mac`, `src`, `dst`, next header, hop limit, `fix`, `len` u16, payload):
//!   an Ethernet + IPv6 frame between backbone hosts, the router and mesh addresses;
//! - advance time (one byte, 1 ms to 10 min), running every timer as a shell does;
//! - the radio channel's behaviour (perfect, no ACKs, busy, failing, refusing to send);
//! - the Ethernet carrier, driver back-pressure, one driver error;
//! - a run-time change (channel, PAN ID, prefix, TX power, explicit context IDs,
//!   promiscuous mode, interface admin state, capture filter);
//! - a ping from the router; popping capture records.
//!
//! Addresses are chosen from tables (the router's own addresses and groups as its stack lists
//! them, four mesh nodes, two backbone hosts, foreign addresses) so that the fuzzer reaches
//! registration, forwarding in both directions, ND and ICMPv6 errors, not only the parsers.
//!
//! # Invariants
//!
//! Checked after every operation:
//! 1. Nothing panics, and the router never livelocks (its deadlines pass, its transmissions
//!    end).
//! 2. `App::pool_accounted`: every packet buffer is free or held by a queue that says so.
//! 3. The MAC counts every PSDU handed to it (`rx_frames` = PSDUs fed since the MAC was last
//!    rebuilt by a PAN ID change), and its per-outcome counters never exceed that.
//! 4. Every frame the MAC delivers reaches `wpan0` or is counted as `rx_no_buffer_wpan`
//!    (exact while `wpan0` stayed up and the MAC was never promiscuous; at most otherwise).
//! 5. `wpan0`'s drop counters and completed datagrams never exceed the frames it was handed,
//!    and the core counts exactly one received packet per completed datagram.
//! 6. Every frame the Ethernet driver hands over is counted once by `eth0`: passed up as
//!    IPv6 or dropped for one reason (exact while `eth0` stayed up), and the core counts
//!    exactly one received packet per frame passed up.
//! 7. Per interface, received packets never exceed the frames fed to that interface, and
//!    forwarded plus locally delivered packets never exceed received packets.
//! 8. `wpan0` transmission: reported frames never exceed frames handed to the MAC; finished,
//!    aborted and unadaptable datagrams never exceed datagrams accepted.
//! 9. The capture ring: records stored = records popped + records pending, never more bytes
//!    than its capacity, and a popped record is never longer than the largest snap length
//!    set nor than the frame it came from.
//!
//! At the end, with a perfect channel, carrier up, both interfaces up and 20 s of time run
//! (reassembly timeout 10 s, swept every second; neighbor resolution gives up after 3 s):
//! every packet buffer is back in the pool and no reassembly is in progress.
#![no_main]

use std::collections::VecDeque;
use std::net::Ipv6Addr;

use firmware::app::{App, AppResources};
use firmware::capture::CaptureFilter;
use firmware::config::{Backbone, Config};
use l2_15_4::frame::{Address, Frame, FrameType, fcs};
use l2_15_4::radio::testing::ScriptedRadio;
use l2_15_4::radio::{Channel, RadioError, RadioEvent, RxFrame, TxOutcome};
use libfuzzer_sys::fuzz_target;
use netif::{Duration, IfIndex, Instant};
use sixlo::{CompressOptions, Fragmenter, LinkAddr};

/// Mesh nodes the fuzzer speaks for.
const NODES: usize = 4;
/// Longest Ethernet frame built or accepted from the input (beyond a pool buffer, to reach
/// the truncation path).
const ETH_MAX: usize = 2048;
/// Bound on the operations of one input (keeps each run short).
const MAX_OPS: usize = 256;
/// Bound on the time one input may advance (keeps each run short; registrations and RA
/// intervals are minutes).
const MAX_TIME: Duration = Duration::from_secs(3600);
/// Bound on the loops that run the router until it is idle: beyond it, a livelock.
const SPIN_LIMIT: usize = 100_000;

const FOREIGN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x99, 0, 0, 0, 0, 1);
const BACKBONE: [u16; 4] = [0x2001, 0xdb8, 2, 0];
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const MULTICAST: [Ipv6Addr; 4] = [
    ALL_NODES,
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2),
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x1a),
    Ipv6Addr::new(0xff05, 0, 0, 0, 0, 0, 0, 1),
];

/// EUI-64 of mesh node `k` (locally administered).
fn node_eui(k: usize) -> [u8; 8] {
    let mut e = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0];
    e[7] = (k % NODES) as u8 + 1;
    e
}

/// Short address of mesh node `k`.
fn node_short(k: usize) -> u16 {
    0x0100 + (k % NODES) as u16
}

/// MAC address of backbone host `h`.
fn host_mac(h: usize) -> [u8; 6] {
    [0x52, 0x54, 0x00, 0x12, 0x34, 0x50 + (h % 4) as u8]
}

/// `prefix` (first 8 bytes) + `iid`.
fn with_iid(prefix: [u8; 8], iid: [u8; 8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a[..8].copy_from_slice(&prefix);
    a[8..].copy_from_slice(&iid);
    Ipv6Addr::from(a)
}

const LINK_LOCAL: [u8; 8] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0];

/// The IID of an EUI-64 (RFC 4291 Appendix A).
fn eui_iid(eui: [u8; 8]) -> [u8; 8] {
    let mut i = eui;
    i[0] ^= 0x02;
    i
}

/// The IID of a short address (RFC 4944 §6).
fn short_iid(s: u16) -> [u8; 8] {
    let [a, b] = s.to_be_bytes();
    [0, 0, 0, 0xff, 0xfe, 0, a, b]
}

/// The IID of a MAC address (modified EUI-64).
fn mac_iid(m: [u8; 6]) -> [u8; 8] {
    [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
}

/// Reads the input front to back; every read past the end yields zeros / empty slices.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

// ----- the radio and the Ethernet driver -------------------------------------------------

/// How the simulated channel treats the router's transmissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Air {
    /// Every frame is sent; unicast frames are acknowledged.
    Perfect,
    /// Frames are sent, no ACK ever comes (retries, then no-ACK reports).
    NoAck,
    /// CCA always finds the channel busy.
    Busy,
    /// Every transmission ends in a radio failure.
    Failing,
    /// The radio refuses to start any transmission.
    Refusing,
}

/// The router's radio: records what the router sends; the harness ends each transmission as
/// the channel's behaviour ([`Air`], which also sets the radio's CCA answer and refusal) says.
type FuzzRadio = ScriptedRadio<16>;

/// An Ethernet driver with a receive queue the input fills, a carrier, back-pressure and an
/// injectable error.
struct FuzzEth {
    mac: [u8; 6],
    /// Frames waiting to be received.
    rx: VecDeque<Vec<u8>>,
    /// Frames handed to the router.
    delivered: u64,
    carrier: bool,
    /// Refuse to transmit (no room).
    busy: bool,
    /// Fail the next receive call.
    fail_next: bool,
}

impl ethernet::Driver for FuzzEth {
    type Error = ();
    fn mac(&self) -> [u8; 6] {
        self.mac
    }
    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, ()> {
        if std::mem::take(&mut self.fail_next) {
            return Err(());
        }
        // Nothing arrives without a carrier.
        if !self.carrier {
            return Ok(None);
        }
        let Some(f) = self.rx.pop_front() else {
            return Ok(None);
        };
        let n = f.len().min(buf.len());
        buf[..n].copy_from_slice(&f[..n]);
        self.delivered += 1;
        Ok(Some(f.len()))
    }
    fn transmit(&mut self, _: &[u8]) -> Result<bool, ()> {
        Ok(!self.busy)
    }
    fn link_up(&mut self) -> bool {
        self.carrier
    }
}

/// The sequence number of a PSDU the router sent that asks for an ACK.
fn wants_ack(psdu: &[u8]) -> Option<u8> {
    let mpdu = psdu.get(..psdu.len().checked_sub(2)?)?;
    let f = Frame::new_checked(mpdu).ok()?;
    let unicast = f.dst_addr().is_some_and(|a| a.is_unicast());
    (f.frame_type() != FrameType::Ack && f.ack_request() && unicast)
        .then(|| f.sequence_number())
        .flatten()
}

/// An 802.15.4-2006 data frame (IEEE 802.15.4-2006 §7.2.2.2) with PAN ID compression: frame
/// control, sequence number, destination PAN, destination, source (addresses little-endian),
/// payload, FCS.
fn data_frame(seq: u8, pan: u16, dst: Address, src: Address, ack: bool, payload: &[u8]) -> Vec<u8> {
    let mode = |a: &Address| match a {
        Address::Short(_) => 0b10u16,
        Address::Extended(_) => 0b11,
    };
    let fc: u16 =
        0b001 | u16::from(ack) << 5 | 1 << 6 | mode(&dst) << 10 | 0b01 << 12 | mode(&src) << 14;
    let mut f = fc.to_le_bytes().to_vec();
    f.push(seq);
    f.extend_from_slice(&pan.to_le_bytes());
    for a in [dst, src] {
        match a {
            Address::Short(s) => f.extend_from_slice(&s.to_le_bytes()),
            Address::Extended(e) => f.extend(e.iter().rev()),
        }
    }
    f.extend_from_slice(payload);
    f.extend_from_slice(&fcs::compute(&f).to_le_bytes());
    f
}

/// The UDP / ICMPv6 checksum (RFC 8200 §8.1) of `msg` (its checksum field zero).
fn l4_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, next: u8, msg: &[u8]) -> [u8; 2] {
    let mut acc: u64 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            acc += u64::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]));
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&(msg.len() as u32).to_be_bytes());
    add(&[0, 0, 0, next]);
    add(msg);
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    (!(acc as u16)).to_be_bytes()
}

/// An IPv6 datagram of at most `max` bytes. With `fix`, the UDP length and the UDP or ICMPv6
/// checksum are made right so the packet passes the router's checks.
fn ipv6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next: u8,
    hops: u8,
    payload: &[u8],
    fix: bool,
    max: usize,
) -> Vec<u8> {
    let payload = &payload[..payload.len().min(max - 40)];
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, hops]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let body = p.len();
    p.extend_from_slice(payload);
    let msg = &mut p[body..];
    if fix {
        let at = match next {
            58 if msg.len() >= 4 => Some(2),
            17 if msg.len() >= 8 => {
                let n = (msg.len() as u16).to_be_bytes();
                msg[4..6].copy_from_slice(&n);
                Some(6)
            }
            _ => None,
        };
        if let Some(at) = at {
            msg[at..at + 2].fill(0);
            let c = l4_checksum(&src, &dst, next, msg);
            msg[at..at + 2].copy_from_slice(&c);
        }
    }
    p
}

// ----- the harness -------------------------------------------------------------------------

/// The router, its two drivers, virtual time, and what was fed (for the invariants).
struct Harness<'r> {
    app: App<'r>,
    radio: FuzzRadio,
    /// The channel's behaviour.
    air: Air,
    eth: FuzzEth,
    now: Instant,
    seq: u8,
    /// PSDUs handed to the MAC since it was last rebuilt.
    radio_fed: u64,
    /// PSDUs fed in all.
    radio_fed_total: u64,
    /// Ethernet frames queued in the driver in all.
    eth_fed: u64,
    /// `rx_no_buffer_wpan` + `wpan0` frames when the MAC was last rebuilt.
    wpan_rx_base: u64,
    /// `wpan0` / `eth0` were administratively down at some point.
    wpan_was_down: bool,
    eth_was_down: bool,
    wpan_up: bool,
    eth_up: bool,
    /// The MAC was promiscuous at some point (it then passes ACK frames up uncounted).
    was_promiscuous: bool,
    /// Capture records popped.
    popped: u64,
    /// The largest snap length any capture filter had.
    max_snaplen: u16,
}

impl<'r> Harness<'r> {
    fn wpan_i(&self) -> IfIndex {
        self.app.wpan_index()
    }
    fn eth_i(&self) -> IfIndex {
        self.app.eth_index()
    }
    fn mesh_prefix(&self) -> [u8; 8] {
        self.app.config().mesh_prefix
    }
    fn br_eui(&self) -> [u8; 8] {
        self.app.config().eui64
    }

    /// Address `k` of interface `i` as its stack lists it (`fallback` when it has none).
    fn own_addr(&self, i: IfIndex, k: usize, fallback: Ipv6Addr) -> Ipv6Addr {
        let a = self.app.stack().iface(i).map(|x| x.addrs()).unwrap_or(&[]);
        a.get(k % a.len().max(1)).map_or(fallback, |a| a.addr)
    }

    /// Multicast group `k` interface `i` has joined.
    fn own_group(&self, i: IfIndex, k: usize) -> Ipv6Addr {
        let g = self
            .app
            .stack()
            .iface(i)
            .map(|x| x.multicast_groups())
            .unwrap_or(&[]);
        g.get(k % g.len().max(1)).map_or(ALL_NODES, |g| g.addr)
    }

    /// A destination address: category in the low 3 bits of `sel`, index in the rest.
    fn dst_addr(&self, sel: u8) -> Ipv6Addr {
        let k = usize::from(sel >> 3);
        match sel & 7 {
            0 => self.own_addr(self.wpan_i(), k, FOREIGN),
            1 => self.own_addr(self.eth_i(), k, FOREIGN),
            2 => self.own_group(self.wpan_i(), k),
            3 => MULTICAST[k % MULTICAST.len()],
            4 => with_iid(self.mesh_prefix(), eui_iid(node_eui(k))),
            5 => {
                let [a, b, c, d] = BACKBONE;
                Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0x10 + k as u16)
            }
            6 => self.own_group(self.eth_i(), k),
            _ => with_iid(LINK_LOCAL, eui_iid(node_eui(k))),
        }
    }

    /// A source address for mesh node `node`: category in the low 3 bits of `sel`.
    fn mesh_src(&self, sel: u8, node: usize) -> Ipv6Addr {
        let k = usize::from(sel >> 3);
        match sel & 7 {
            0 => with_iid(LINK_LOCAL, eui_iid(node_eui(node))),
            1 => with_iid(self.mesh_prefix(), eui_iid(node_eui(node))),
            2 => with_iid(self.mesh_prefix(), short_iid(node_short(node))),
            3 => with_iid(LINK_LOCAL, short_iid(node_short(node))),
            4 => Ipv6Addr::UNSPECIFIED,
            5 => FOREIGN,
            6 => self.dst_addr(5 | (sel & 0xf8)),
            _ => self.own_addr(self.wpan_i(), k, FOREIGN),
        }
    }

    /// A source address for backbone host `host`.
    fn eth_src(&self, sel: u8, host: usize) -> Ipv6Addr {
        let k = usize::from(sel >> 3);
        match sel & 7 {
            0 => with_iid(LINK_LOCAL, mac_iid(host_mac(host))),
            1 => self.dst_addr(5 | ((host as u8) << 3)),
            2 => Ipv6Addr::UNSPECIFIED,
            3 => with_iid(self.mesh_prefix(), eui_iid(node_eui(k))),
            4 => self.own_addr(self.eth_i(), k, FOREIGN),
            5 => FOREIGN,
            6 => Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
            _ => with_iid(LINK_LOCAL, eui_iid(self.br_eui())),
        }
    }

    /// Hand a PSDU to the router as received now.
    fn receive_psdu(&mut self, psdu: &[u8]) {
        let Some(channel) = Channel::new(self.app.config().channel) else {
            return;
        };
        let rx = RxFrame {
            psdu,
            rssi: -60,
            lqi: 200,
            timestamp: self.now,
            channel,
            fcs_ok: None,
        };
        self.radio_fed += 1;
        self.radio_fed_total += 1;
        self.app
            .on_radio_event(self.now, RadioEvent::Received(rx), &mut self.radio);
    }

    /// End every transmission the radio started, as the channel's behaviour says; a perfect
    /// channel acknowledges unicast frames that ask.
    fn complete_tx(&mut self) {
        for _ in 0..SPIN_LIMIT {
            let Some(rec) = self.radio.pop_sent() else {
                return;
            };
            let (start, psdu) = (rec.at, rec.psdu);
            // Preamble, SFD and PHR (6 bytes) plus the PSDU, 32 µs per byte.
            let end = start + Duration::from_micros((6 + psdu.len() as u64) * 32);
            self.now = self.now.max(end);
            let outcome = match self.air {
                Air::Perfect | Air::NoAck | Air::Refusing => TxOutcome::Sent,
                Air::Busy => TxOutcome::ChannelBusy,
                Air::Failing => TxOutcome::Failed(RadioError::Hardware),
            };
            let ev = RadioEvent::TxDone { end, outcome };
            self.app.on_radio_event(self.now, ev, &mut self.radio);
            if self.air == Air::Perfect
                && let Some(seq) = wants_ack(&psdu)
            {
                // Imm-Ack 12 symbols after the frame (IEEE 802.15.4-2006 §7.5.6.4.2).
                self.now = self.now.max(end + Duration::from_micros(12 * 16 + 11 * 32));
                let mut ack = vec![0x02, 0x00, seq];
                ack.extend_from_slice(&fcs::compute(&ack).to_le_bytes());
                self.receive_psdu(&ack);
            }
        }
        panic!("the border router never stops transmitting");
    }

    fn poll(&mut self) {
        self.app.poll(self.now, &mut self.radio, &mut self.eth);
    }

    /// Run every timer up to `t`, as a shell does.
    fn run_until(&mut self, t: Instant) {
        for _ in 0..SPIN_LIMIT {
            self.complete_tx();
            match self.app.next_deadline() {
                Some(d) if d <= t => {
                    self.now = self.now.max(d);
                    self.poll();
                }
                _ => {
                    self.now = self.now.max(t);
                    self.poll();
                    self.complete_tx();
                    return;
                }
            }
        }
        panic!("the border router's deadlines never pass {t:?}");
    }

    /// After input: the shell polls, transmissions end.
    fn settle(&mut self) {
        self.poll();
        self.complete_tx();
        while self.app.pop_event().is_some() {}
        while self.app.pop_ping().is_some() {}
    }

    fn mac_rebuilt(&mut self) {
        self.radio_fed = 0;
        self.wpan_rx_base = self.app.stats().rx_no_buffer_wpan + self.app.wpan().stats().rx_frames;
    }

    // ----- operations ------------------------------------------------------------------

    fn radio_psdu(&mut self, arg: u8, inp: &mut Input<'_>) {
        let len = usize::from(inp.byte());
        let mut psdu = inp.bytes(len).to_vec();
        if arg & 1 == 0 {
            psdu.extend_from_slice(&fcs::compute(&psdu).to_le_bytes());
        }
        self.receive_psdu(&psdu);
    }

    /// `ll`: bits 0-1 node, bit 2 short source, bits 3-4 destination (router extended,
    /// router short, broadcast, another node), bit 5 ACK request, bit 6 a foreign PAN,
    /// bit 7 repeat the last sequence number (a duplicate).
    fn link_addrs(&mut self, ll: u8) -> (Address, Address, u16, bool, u8) {
        let node = usize::from(ll & 3);
        let src = if ll & 4 != 0 {
            Address::Short(node_short(node))
        } else {
            Address::Extended(node_eui(node))
        };
        let cfg = self.app.config();
        let dst = match (ll >> 3) & 3 {
            0 => Address::Extended(cfg.eui64),
            1 => Address::Short(cfg.short_address),
            2 => Address::BROADCAST,
            _ => Address::Extended(node_eui(node + 1)),
        };
        let pan = if ll & 0x40 != 0 {
            cfg.pan_id ^ 0x5555
        } else {
            cfg.pan_id
        };
        if ll & 0x80 == 0 {
            self.seq = self.seq.wrapping_add(1);
        }
        (src, dst, pan, ll & 0x20 != 0, self.seq)
    }

    fn radio_data(&mut self, inp: &mut Input<'_>) {
        let ll = inp.byte();
        let len = usize::from(inp.byte());
        let payload = inp.bytes(len);
        let (src, dst, pan, ack, seq) = self.link_addrs(ll);
        let f = data_frame(seq, pan, dst, src, ack, payload);
        self.receive_psdu(&f);
    }

    /// `frag`: bit 0 reversed order, bit 1 no checksum fix-up, bits 2-7 drop frame 0-5.
    fn radio_datagram(&mut self, arg: u8, inp: &mut Input<'_>) {
        let ll = inp.byte();
        let (src_sel, dst_sel, next, hops, frag) =
            (inp.byte(), inp.byte(), inp.byte(), inp.byte(), inp.byte());
        let len = usize::from(inp.byte());
        let payload = inp.bytes(len).repeat(usize::from(arg) + 1);
        let node = usize::from(ll & 3);
        let src_ip = self.mesh_src(src_sel, node);
        let dst_ip = self.dst_addr(dst_sel);
        let dgram = ipv6(src_ip, dst_ip, next, hops, &payload, frag & 2 == 0, 1280);
        let (src, dst, pan, ack, _) = self.link_addrs(ll & 0x7f);
        let contexts = self.app.wpan().contexts().clone();
        let tag = u16::from(self.seq) << 8 | u16::from(hops);
        let budget = firmware::wpan::payload_budget(&dst);
        let Ok(mut f) = Fragmenter::new(
            &dgram,
            LinkAddr::from(src),
            LinkAddr::from(dst),
            &contexts,
            CompressOptions::default(),
            tag,
            budget,
        ) else {
            return;
        };
        let mut frames = Vec::new();
        let mut buf = [0u8; 127];
        while let Ok(Some(n)) = f.next_frame(&mut buf) {
            if frames.len() >= 64 {
                break;
            }
            frames.push(buf[..n].to_vec());
        }
        if frag & 1 != 0 {
            frames.reverse();
        }
        for (k, p) in frames.iter().enumerate() {
            if k < 6 && frag & (4 << k) != 0 {
                continue;
            }
            self.seq = self.seq.wrapping_add(1);
            let psdu = data_frame(self.seq, pan, dst, src, ack, p);
            self.receive_psdu(&psdu);
        }
    }

    fn eth_raw(&mut self, inp: &mut Input<'_>) {
        let len = usize::from(inp.u16()).min(ETH_MAX);
        let f = inp.bytes(len).to_vec();
        self.eth.rx.push_back(f);
        self.eth_fed += 1;
    }

    /// `mac`: bits 0-1 host, bits 2-4 destination MAC (router, the IPv6 destination's
    /// multicast MAC, broadcast, another host, all-nodes), bit 5 multicast source, bit 6
    /// the router's own source (a loop), bit 7 an 802.1Q tag.
    fn eth_ipv6(&mut self, inp: &mut Input<'_>) {
        let mac = inp.byte();
        let (src_sel, dst_sel, next, hops, fix) =
            (inp.byte(), inp.byte(), inp.byte(), inp.byte(), inp.byte());
        let len = usize::from(inp.u16());
        let payload = inp.bytes(len);
        let host = usize::from(mac & 3);
        let src_ip = self.eth_src(src_sel, host);
        let dst_ip = self.dst_addr(dst_sel);
        let ours = self.app.config().eth_mac;
        let d = dst_ip.octets();
        let dst_mac = match (mac >> 2) & 7 {
            0 | 5 => ours,
            1 | 6 => [0x33, 0x33, d[12], d[13], d[14], d[15]],
            2 => [0xff; 6],
            3 => host_mac(host + 1),
            _ => [0x33, 0x33, 0, 0, 0, 1],
        };
        let src_mac = if mac & 0x20 != 0 {
            [0x33, 0x33, 0, 0, 0, 1]
        } else if mac & 0x40 != 0 {
            ours
        } else {
            host_mac(host)
        };
        let mut f = dst_mac.to_vec();
        f.extend_from_slice(&src_mac);
        if mac & 0x80 != 0 {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        }
        f.extend_from_slice(&[0x86, 0xdd]);
        f.extend(ipv6(
            src_ip,
            dst_ip,
            next,
            hops,
            payload,
            fix & 1 == 0,
            ETH_MAX - f.len(),
        ));
        self.eth.rx.push_back(f);
        self.eth_fed += 1;
    }

    /// 1 ms to 63 ms, 20 ms steps to 1.26 s, 0.5 s steps to 31.5 s, 10 s steps to 630 s.
    fn advance(&mut self, inp: &mut Input<'_>) {
        let b = inp.byte();
        let unit = [1, 20, 500, 10_000][usize::from(b >> 6)];
        let d = Duration::from_millis(u64::from(b & 0x3f).max(1) * unit);
        if self.now + d <= Instant::ZERO + MAX_TIME {
            self.run_until(self.now + d);
        }
    }

    fn air(&mut self, arg: u8) {
        self.set_air(match arg % 5 {
            0 => Air::Perfect,
            1 => Air::NoAck,
            2 => Air::Busy,
            3 => Air::Failing,
            _ => Air::Refusing,
        });
    }

    /// The channel's behaviour, and the radio's CCA answer and refusal that go with it.
    fn set_air(&mut self, air: Air) {
        self.air = air;
        self.radio.cca_idle = air != Air::Busy;
        self.radio.refuse_tx = (air == Air::Refusing).then_some(RadioError::Busy);
    }

    /// `arg`: bit 0 toggle the carrier, bit 1 toggle back-pressure, bit 2 fail the next
    /// receive.
    fn link(&mut self, arg: u8) {
        self.eth.carrier ^= arg & 1 != 0;
        self.eth.busy ^= arg & 2 != 0;
        self.eth.fail_next |= arg & 4 != 0;
    }

    fn config_change(&mut self, arg: u8, inp: &mut Input<'_>) {
        let b = inp.byte();
        let now = self.now;
        // Refusals (invalid values) are outcomes, not failures.
        match arg % 9 {
            0 => {
                let _ = self.app.set_channel(now, 11 + b % 17, &mut self.radio);
            }
            1 => {
                let pan = u16::from_be_bytes([b, inp.byte()]);
                if self.app.set_pan_id(now, pan, &mut self.radio).is_ok() {
                    self.mac_rebuilt();
                }
            }
            2 => {
                let a = if b == 0xff {
                    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0)
                } else {
                    Ipv6Addr::new(0x2001, 0xdb8, u16::from(b), 0, 0, 0, 0, 0)
                };
                let len = if b & 0x80 != 0 { b & 0x7f } else { 64 };
                let _ = self.app.set_prefix(now, a, len);
            }
            3 => {
                let _ = self.app.set_tx_power(b as i8);
            }
            4 => self.app.set_explicit_context_id(b & 1 != 0),
            5 => {
                let on = b & 1 != 0;
                if self.app.set_promiscuous(&mut self.radio, on).is_ok() && on {
                    self.was_promiscuous = true;
                }
            }
            6 => {
                let up = b & 1 != 0;
                if self.app.set_iface_admin(now, self.wpan_i(), up).is_ok() {
                    self.wpan_up = up;
                    self.wpan_was_down |= !up;
                }
            }
            7 => {
                let up = b & 1 != 0;
                if self.app.set_iface_admin(now, self.eth_i(), up).is_ok() {
                    self.eth_up = up;
                    self.eth_was_down |= !up;
                }
            }
            _ => {
                let snaplen = capture_filter(&mut self.app, b);
                self.max_snaplen = self.max_snaplen.max(snaplen);
            }
        }
    }

    fn ping(&mut self, inp: &mut Input<'_>) {
        let (sel, size, seq) = (inp.byte(), inp.byte(), inp.byte());
        let dst = self.dst_addr(sel);
        let _ = self
            .app
            .ping_send(self.now, dst, None, u16::from(seq), u16::from(size) * 8);
    }

    fn capture_pop(&mut self, arg: u8) {
        let snaplen = usize::from(self.max_snaplen);
        let mut buf = [0u8; ETH_MAX];
        for _ in 0..=arg {
            let Some((meta, n)) = self.app.capture_mut().pop(&mut buf) else {
                break;
            };
            self.popped += 1;
            assert!(n <= snaplen, "a capture record longer than the snap length");
            assert!(
                usize::from(meta.orig_len) >= n,
                "orig_len below the captured length"
            );
        }
    }

    // ----- invariants --------------------------------------------------------------------

    fn check(&self) {
        let app = &self.app;
        assert!(app.pool_accounted(), "a packet buffer leaked");

        // 3. The MAC.
        let m = app.wpan().mac().counters();
        assert_eq!(
            u64::from(m.rx_frames),
            self.radio_fed & 0xffff_ffff,
            "MAC rx_frames differs from the PSDUs fed"
        );
        let outcomes = [
            m.rx_delivered,
            m.rx_invalid,
            m.rx_fcs_errors,
            m.rx_filtered,
            m.rx_duplicates,
        ];
        let sum: u64 = outcomes.iter().map(|c| u64::from(*c)).sum();
        assert!(
            sum <= u64::from(m.rx_frames),
            "MAC outcomes exceed its frames: {m:?}"
        );

        // 4. MAC → wpan0.
        let w = app.wpan().stats();
        let up = app.stats().rx_no_buffer_wpan + w.rx_frames - self.wpan_rx_base;
        if !self.was_promiscuous {
            let delivered = u64::from(m.rx_delivered);
            if self.wpan_was_down {
                assert!(
                    up <= delivered,
                    "wpan0 saw more frames than the MAC delivered"
                );
            } else {
                assert_eq!(up, delivered, "a frame the MAC delivered went missing");
            }
        }

        // 5. wpan0 receive.
        let drops = w.rx_bad_frame
            + w.rx_secured
            + w.rx_not_data
            + w.rx_6lowpan_drop
            + w.rx_no_buffer
            + w.rx_datagrams;
        assert!(
            drops <= w.rx_frames,
            "wpan0 outcomes exceed its frames: {w:?}"
        );
        let wi = app.iface_stats(app.wpan_index()).unwrap_or_default();
        assert_eq!(
            u64::from(wi.rx_packets),
            w.rx_datagrams,
            "the core's wpan0 packets differ from the datagrams completed"
        );

        // 6. eth0 receive.
        let e = app.eth().stats();
        let ei = app.iface_stats(app.eth_index()).unwrap_or_default();
        let counted: u64 = [
            e.rx_frames,
            e.rx_short,
            e.rx_vlan_dropped,
            e.rx_not_ipv6,
            e.rx_bad_src,
            e.rx_filtered,
        ]
        .iter()
        .map(|c| u64::from(*c))
        .sum();
        if self.eth_was_down {
            assert!(
                counted <= self.eth.delivered,
                "eth0 counted frames it never got"
            );
        } else {
            assert_eq!(
                counted, self.eth.delivered,
                "an Ethernet frame went uncounted"
            );
        }
        assert_eq!(
            ei.rx_packets, e.rx_frames,
            "the core's eth0 packets differ from eth0's"
        );

        // 7. Per interface and together.
        assert!(u64::from(wi.rx_packets) <= self.radio_fed_total);
        assert!(u64::from(ei.rx_packets) <= self.eth_fed);
        let rx = u64::from(wi.rx_packets) + u64::from(ei.rx_packets);
        let out: u64 = [wi.forwarded, wi.delivered, ei.forwarded, ei.delivered]
            .iter()
            .map(|c| u64::from(*c))
            .sum();
        assert!(
            out <= rx,
            "forwarded + delivered ({out}) exceed received ({rx})"
        );

        // 8. wpan0 transmit.
        assert!(w.tx_frames_ok + w.tx_frames_failed <= w.tx_frames, "{w:?}");
        assert!(
            w.tx_datagrams_done + w.tx_aborted + w.tx_adapt_error <= w.tx_datagrams,
            "{w:?}"
        );

        // 9. Capture.
        let c = app.capture().stats();
        assert_eq!(
            c.captured,
            self.popped + u64::from(c.pending_records),
            "{c:?}"
        );
        assert!(
            c.pending_bytes as usize <= app.capture().capacity(),
            "{c:?}"
        );
    }

    /// A perfect channel, carrier up, both interfaces up, 20 s: everything must drain.
    fn drain(&mut self) {
        self.set_air(Air::Perfect);
        self.eth.carrier = true;
        self.eth.busy = false;
        let now = self.now;
        if !self.wpan_up {
            let _ = self.app.set_iface_admin(now, self.wpan_i(), true);
        }
        if !self.eth_up {
            let _ = self.app.set_iface_admin(now, self.eth_i(), true);
        }
        self.run_until(self.now + Duration::from_secs(20));
        self.check();
        let app = &self.app;
        let pool = app.stack().pool();
        assert_eq!(
            pool.available(),
            pool.capacity(),
            "the pool did not return to full: wpan0 holds {}, eth0 {}, queues {:?} {:?}",
            app.wpan().held_buffers(),
            app.eth().held_buffers(),
            app.stack().queue_lens(app.wpan_index()),
            app.stack().queue_lens(app.eth_index()),
        );
        assert_eq!(app.wpan().reassembler().slots_in_use(), 0);
    }
}

/// Start (or, for 0, stop) a capture as `b` says; returns the snap length set.
fn capture_filter(app: &mut App<'_>, b: u8) -> u16 {
    if b == 0 {
        app.capture_mut().stop();
        return 0;
    }
    let snaplen = match u16::from(b >> 4) * 16 {
        0 => u16::MAX,
        n => n,
    };
    app.capture_mut().start(CaptureFilter {
        wpan0: b & 1 != 0,
        eth0: b & 2 != 0,
        promiscuous: b & 4 != 0,
        snaplen,
    });
    snaplen
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let setup = inp.byte();
    let mut cfg = Config::default();
    if setup & 1 != 0 {
        cfg.backbone = Backbone::Static {
            addr: Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1).octets(),
            prefix_len: 64,
            gateway: Some(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).octets()),
        };
    }
    let mut res: Box<AppResources> = Box::default();
    let mut radio = FuzzRadio::new();
    let eth = FuzzEth {
        mac: cfg.eth_mac,
        rx: VecDeque::new(),
        delivered: 0,
        carrier: true,
        busy: false,
        fail_next: false,
    };
    let app =
        App::new(cfg, &mut res, Instant::ZERO, &mut radio).expect("the default config starts");
    let mut h = Harness {
        app,
        radio,
        air: Air::Perfect,
        eth,
        now: Instant::ZERO,
        seq: 0,
        radio_fed: 0,
        radio_fed_total: 0,
        eth_fed: 0,
        wpan_rx_base: 0,
        wpan_was_down: false,
        eth_was_down: false,
        wpan_up: true,
        eth_up: true,
        was_promiscuous: false,
        popped: 0,
        max_snaplen: 0,
    };
    if setup & 2 != 0 {
        // wpan0 and eth0, promiscuous records if bit 2, snap length from bits 4-7.
        h.max_snaplen = capture_filter(&mut h.app, 3 | (setup & 4) | (setup & 0xf0));
    }
    h.app.set_explicit_context_id(setup & 8 != 0);
    h.run_until(Instant::ZERO);
    h.check();

    let mut ops = 0;
    while !inp.is_empty() && ops < MAX_OPS {
        ops += 1;
        let tag = inp.byte();
        let arg = tag >> 4;
        match tag & 0x0f {
            0 => h.radio_psdu(arg, &mut inp),
            1 | 2 => h.radio_data(&mut inp),
            3 | 4 => h.radio_datagram(arg, &mut inp),
            5 => h.eth_raw(&mut inp),
            6 | 7 => h.eth_ipv6(&mut inp),
            8 | 9 => h.advance(&mut inp),
            10 => h.air(arg),
            11 => h.link(arg),
            12 => h.config_change(arg, &mut inp),
            13 => h.ping(&mut inp),
            14 => h.capture_pop(arg),
            _ => {}
        }
        h.settle();
        h.check();
    }
    h.drain();
});
