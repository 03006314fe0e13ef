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
//!    and the core counts exactly one received packet per completed datagram and one more
//!    per packet decapsulated (a tunnel's inner packet enters the core again).
//! 6. Every frame the Ethernet driver hands over is counted once by `eth0`: passed up as
//!    IPv6 or dropped for one reason (exact while `eth0` stayed up), and the core counts
//!    exactly one received packet per frame passed up.
//! 7. Per interface, received packets never exceed the frames fed to that interface (plus
//!    the packets decapsulated), and forwarded plus locally delivered packets never exceed
//!    received packets.
//! 8. `wpan0` transmission: reported frames never exceed frames handed to the MAC; finished,
//!    aborted and unadaptable datagrams never exceed datagrams accepted.
//! 9. The capture ring: records stored = records popped + records pending, never more bytes
//!    than its capacity, and a popped record is never longer than the largest snap length
//!    set nor than the frame it came from.
//! 10. In the mesh-router role (`router_frames`): every RPL message, source-routed and
//!     tunnelled packet the router took was delivered to it on `wpan0`, and its rank is
//!     INFINITE or above its preferred parent's.
//!
//! At the end, with a perfect channel, carrier up, both interfaces up and 20 s of time run
//! (reassembly timeout 10 s, swept every second; neighbor resolution gives up after 3 s):
//! every packet buffer is back in the pool and no reassembly is in progress.
//!
//! Files, by job (in `router/`): `drivers.rs` (the channel's behaviour, the radio and the
//! Ethernet driver), `packets.rs` (frames and datagrams the harness builds), `harness.rs` (the
//! harness and its operations), `invariants.rs` (the checks after every operation). This file
//! holds the target; `common.rs` the address tables and the input reader (shared with
//! `router_frames`, the mesh router's target).
#![no_main]

#[path = "router/drivers.rs"]
mod drivers;
#[path = "router/harness.rs"]
mod harness;
#[path = "router/invariants.rs"]
mod invariants;
#[path = "router/packets.rs"]
mod packets;

#[path = "router/common.rs"]
mod common;

use common::*;
use drivers::FuzzRadio;
use harness::Harness;

use std::net::Ipv6Addr;

use firmware::app::{App, AppResources};
use firmware::config::{Backbone, Config};
use libfuzzer_sys::fuzz_target;
use netif::Instant;

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
    let app =
        App::new(cfg, &mut res, Instant::ZERO, &mut radio).expect("the default config starts");
    let mut h = Harness::start(app, radio, true, setup);

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
