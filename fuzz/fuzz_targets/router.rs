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
//!
//! Files, by job (in `router/`): `drivers.rs` (the channel's behaviour, the radio and the
//! Ethernet driver), `packets.rs` (frames and datagrams the harness builds), `harness.rs` (the
//! harness and its operations), `invariants.rs` (the checks after every operation). This file
//! holds the address tables, the input reader and the target.
#![no_main]

#[path = "router/drivers.rs"]
mod drivers;
#[path = "router/harness.rs"]
mod harness;
#[path = "router/invariants.rs"]
mod invariants;
#[path = "router/packets.rs"]
mod packets;

use drivers::{Air, FuzzEth, FuzzRadio};
use harness::Harness;

use std::collections::VecDeque;
use std::net::Ipv6Addr;

use firmware::app::{App, AppResources};
use firmware::capture::CaptureFilter;
use firmware::config::{Backbone, Config};
use libfuzzer_sys::fuzz_target;
use netif::{Duration, Instant};

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
