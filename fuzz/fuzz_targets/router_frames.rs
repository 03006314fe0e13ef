//! Fuzz a mesh router (6LR, issue 23): `firmware::app::App::new_router` with the border
//! router's harness (`router/`: the scripted radio, virtual time, the invariants), fed
//! arbitrary 802.15.4 frames as radio events with time advancing between them.
//!
//! # Input
//!
//! One configuration byte (as the `router` target's: bit 1 capture, bit 2 promiscuous
//! records, bit 3 explicit context IDs, bits 4-7 snap length), then operations until the
//! input runs out, each a tag byte (low nibble: which, high nibble `arg`) and a body:
//! - 0-3, radio PSDU (`len`, bytes): as received, with an FCS appended unless `arg` bit 0;
//! - 4, radio data frame (`ll`, `len`, payload) from one of four nodes;
//! - 5-6, radio datagram (`ll`, `src`, `dst`, next header, hop limit, `frag`, `len`,
//!   payload): an IPv6 datagram compressed and fragmented with `sixlo`;
//! - 7-9, advance time (one byte: 1 ms to 10 min), running every timer as a shell does;
//! - 10, the radio channel's behaviour; 11, a run-time change; 12, a ping from the router;
//!   13, popping capture records.
//!
//! The router is mesh router 1 of `sixgate-sim` (same EUI-64 and configuration), so frames
//! recorded in the simulator reach it: the seed corpus (`corpus/router_frames`, written by
//! `seeds/router_frames.rs`) holds what router 1 hears in a line of the border router, router
//! 1 and router 2 — the root's DIOs and DAO-ACKs, router 2's DIS, DIOs and DAOs, the root's
//! source-routed and tunnelled packets (IPv6-in-IPv6, RPL Option, SRH) through and to router
//! 1, whole and in fragments — so mutations start inside the router's paths (`handle`,
//! `source_route`, `next_hop`, `decapsulate`). `malformed_dio` there was found by fuzzing (a
//! DIO with a valid checksum that `DioInfo::read` refuses: counted in `dio_rx` and in
//! `rx_invalid`).
//!
//! # Invariants
//!
//! After every operation, the `router` target's (no panic, no livelock, every pool buffer
//! accounted, the MAC, `wpan0` and core counters consistent, the capture ring), and the
//! router's own: every RPL message, source-routed and tunnelled packet it took was delivered
//! by the core on `wpan0`; its rank is INFINITE or above its preferred parent's. At the
//! end, 20 s on a perfect channel: every buffer back in the pool, no reassembly left.
#![no_main]

#[path = "router/common.rs"]
mod common;
#[path = "router/drivers.rs"]
mod drivers;
// The border router's operations on eth0 are not used by a mesh router.
#[allow(dead_code)]
#[path = "router/harness.rs"]
mod harness;
#[path = "router/invariants.rs"]
mod invariants;
#[path = "router/packets.rs"]
mod packets;
#[path = "router_frames/run.rs"]
mod run;

use common::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| run::run(data, |_| {}));
