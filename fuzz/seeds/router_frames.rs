//! Writes the seed corpus of the `router_frames` target (`fuzz/corpus/router_frames`): the
//! frames mesh router 1 hears in a line of three of our nodes — the border router (RPL root),
//! router 1 and router 2, each the firmware application (`App::new`, `App::new_router`) on
//! a scripted radio, joined by a perfect channel — recorded with the instants it hears them
//! and written as `router_frames` inputs (a time step, then the PSDU as received). Then it
//! replays every seed through the target's harness and prints what the router did with it,
//! failing if a seed no longer reaches the path it is named for.
//!
//! ```text
//! cargo run --release --manifest-path fuzz/Cargo.toml --bin router_frames_seeds [DIR]
//! ```
//!
//! `DIR` defaults to `fuzz/corpus/router_frames`. The run is deterministic: the same code
//! writes the same seeds. With `--replay DIR` it writes nothing: it replays every input in
//! `DIR` (a corpus a fuzzing run grew) and counts the inputs that reached each of the
//! router's outcomes (how deep the fuzzer went).

#[path = "../fuzz_targets/router/common.rs"]
mod common;
#[path = "../fuzz_targets/router/drivers.rs"]
mod drivers;
// The border router's operations on eth0 are not used by a mesh router.
#[allow(dead_code)]
#[path = "../fuzz_targets/router/harness.rs"]
mod harness;
#[path = "../fuzz_targets/router/invariants.rs"]
mod invariants;
#[path = "../fuzz_targets/router/packets.rs"]
mod packets;
#[path = "../fuzz_targets/router_frames/run.rs"]
mod run;

use common::*;

use std::net::Ipv6Addr;
use std::path::PathBuf;

use firmware::app::{App, AppResources};
use firmware::config::Config;
use l2_15_4::frame::Frame;
use l2_15_4::radio::testing::{self, ScriptedRadio};
use l2_15_4::radio::{Channel, RadioEvent, TxOutcome};
use netif::{Duration, Instant};
use rpl::router::Phase;
use sixlo::{Context, ContextTable};

/// The line: the border router (0) hears node 1, node 1 hears both, node 2 hears node 1
/// only.
const LINKS: [(usize, usize); 2] = [(0, 1), (1, 2)];

/// Ethernet without a cable.
struct NoCable([u8; 6]);

impl ethernet::Driver for NoCable {
    type Error = ();
    fn mac(&self) -> [u8; 6] {
        self.0
    }
    fn receive(&mut self, _: &mut [u8]) -> Result<Option<usize>, ()> {
        Ok(None)
    }
    fn transmit(&mut self, _: &[u8]) -> Result<bool, ()> {
        Ok(true)
    }
    fn link_up(&mut self) -> bool {
        false
    }
}

struct Node {
    app: App<'static>,
    radio: ScriptedRadio<16>,
    eth: NoCable,
}

impl Node {
    fn new(cfg: Config, router: bool) -> Node {
        let res: &'static mut AppResources = Box::leak(Box::default());
        let mut radio = ScriptedRadio::new();
        let eth = NoCable(cfg.eth_mac);
        let app = if router {
            App::new_router(cfg, res, Instant::ZERO, &mut radio)
        } else {
            App::new(cfg, res, Instant::ZERO, &mut radio)
        }
        .expect("the node starts");
        Node { app, radio, eth }
    }
}

/// The three nodes, virtual time, and what router 1 (the target's router, node `recorded`)
/// heard (instant, PSDU).
struct Line {
    nodes: Vec<Node>,
    recorded: usize,
    now: Instant,
    heard: Vec<(Instant, Vec<u8>)>,
}

fn is_ack(psdu: &[u8]) -> bool {
    psdu.first().is_some_and(|b| b & 7 == 2)
}

impl Line {
    /// Router 1 in the middle (node 1, forwarding for router 2) or at the far end (node 2,
    /// behind router 2).
    fn new(router_1_in_the_middle: bool) -> Line {
        let (middle, far) = if router_1_in_the_middle {
            (1, 2)
        } else {
            (2, 1)
        };
        Line {
            nodes: vec![
                Node::new(Config::default(), false),
                Node::new(run::router_config(middle), true),
                Node::new(run::router_config(far), true),
            ],
            recorded: if router_1_in_the_middle { 1 } else { 2 },
            now: Instant::ZERO,
            heard: Vec::new(),
        }
    }

    fn neighbours(i: usize) -> impl Iterator<Item = usize> {
        LINKS
            .iter()
            .filter_map(move |&(a, b)| (a == i).then_some(b).or((b == i).then_some(a)))
    }

    /// Ends every transmission: its sender hears it done, its neighbours receive it (and
    /// may answer at once, an ACK), until the air is quiet.
    fn air(&mut self) {
        for _ in 0..SPIN_LIMIT {
            let mut any = false;
            for i in 0..self.nodes.len() {
                while let Some(rec) = self.nodes[i].radio.pop_sent() {
                    any = true;
                    let psdu = rec.psdu.to_vec();
                    let end = rec.at + Duration::from_micros((6 + psdu.len() as u64) * 32);
                    self.now = self.now.max(end);
                    let now = self.now;
                    let n = &mut self.nodes[i];
                    let ev = RadioEvent::TxDone {
                        end,
                        outcome: TxOutcome::Sent,
                    };
                    n.app.on_radio_event(now, ev, &mut n.radio);
                    for j in Self::neighbours(i) {
                        if j == self.recorded && !is_ack(&psdu) {
                            self.heard.push((now, psdu.clone()));
                        }
                        let n = &mut self.nodes[j];
                        let ch = Channel::new(n.app.config().channel).expect("a valid channel");
                        let rx = testing::received(&psdu, now, ch);
                        n.app
                            .on_radio_event(now, RadioEvent::Received(rx), &mut n.radio);
                    }
                }
            }
            if !any {
                return;
            }
        }
        panic!("the line never stops transmitting");
    }

    fn poll(&mut self) {
        let now = self.now;
        for n in &mut self.nodes {
            n.app.poll(now, &mut n.radio, &mut n.eth);
        }
    }

    fn run_until(&mut self, t: Instant) {
        for _ in 0..SPIN_LIMIT {
            self.air();
            let next = self
                .nodes
                .iter()
                .filter_map(|n| n.app.next_deadline())
                .min();
            match next {
                Some(d) if d <= t => {
                    self.now = self.now.max(d);
                    self.poll();
                }
                _ => {
                    self.now = self.now.max(t);
                    self.poll();
                    self.air();
                    return;
                }
            }
        }
        panic!("the line's deadlines never pass {t:?}");
    }

    fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    fn phase(&self, k: usize) -> Phase {
        let r = self.nodes[k].app.mesh_router().expect("a router");
        r.core().phase()
    }

    /// Router `k`'s global address.
    fn global(&self, k: usize) -> Ipv6Addr {
        firmware::root::mesh_address(self.nodes[k].app.config())
    }

    /// The border router pings `dst` with `size` bytes.
    fn ping(&mut self, dst: Ipv6Addr, seq: u16, size: u16) {
        let now = self.now;
        self.nodes[0]
            .app
            .ping_send(now, dst, None, seq, size)
            .expect("the border router pings");
    }
}

/// Time steps (the `advance` operation's byte: 1 ms to 63 ms, 20 ms, 0.5 s or 10 s steps)
/// adding up to `ms`, largest first.
fn advance(out: &mut Vec<u8>, mut ms: u64) {
    for (scale, unit) in [(3u8, 10_000u64), (2, 500), (1, 20), (0, 1)] {
        while ms >= unit {
            let k = (ms / unit).min(63);
            out.push(run::OP_ADVANCE);
            out.push(scale << 6 | k as u8);
            ms -= k * unit;
        }
    }
}

/// The `radio datagram` operation (5) carrying the RPL message of `psdu` (unfragmented, a
/// DIO to all RPL nodes or a DAO-ACK to the router's global address), sent by mesh node 0
/// of the harness instead, its checksum fixed by the harness: mutations of the message body
/// then reach the router with a valid checksum, which raw PSDUs almost never do.
fn rpl_datagram(psdu: &[u8]) -> Option<Vec<u8>> {
    let mpdu = psdu.get(..psdu.len().checked_sub(2)?)?;
    let f = Frame::new_checked(mpdu).ok()?;
    let (src, dst) = (f.src_addr()?, f.dst_addr()?);
    let mut contexts = ContextTable::new();
    let prefix = Config::default().mesh_prefix_addr().octets();
    contexts.set(0, Context::new(prefix, 64));
    let mut d = [0u8; 1280];
    let n = sixlo::decompress(f.payload()?, &src.into(), &dst.into(), &contexts, &mut d).ok()?;
    let d = d.get(..n)?;
    let (mut next, mut at) = (*d.get(6)?, 40);
    if next == 0 {
        // Hop-by-hop options (the RPL Option) before the message.
        next = *d.get(at)?;
        at += (usize::from(*d.get(at + 1)?) + 1) * 8;
    }
    let icmp = d.get(at..)?;
    if next != 58 || icmp.first() != Some(&155) {
        return None;
    }
    // ll: node 0, extended source; DIO broadcast, DAO-ACK to the router's extended address
    // with an ACK request. src: the node's link-local (0) or global (1) address. dst:
    // ff02::1a (multicast table 2) or the router's address 1 (its global one).
    let (ll, src_sel, dst_sel) = match icmp.get(1)? {
        1 => (0x10, 0, 3 | 2 << 3),
        3 => (0x20, 1, 1 << 3),
        _ => return None,
    };
    let mut op = vec![5, ll, src_sel, dst_sel, 58, *d.get(7)?, 0];
    op.push(u8::try_from(icmp.len()).ok()?);
    // The checksum field zero: the harness writes it.
    let mut body = icmp.to_vec();
    body[2..4].fill(0);
    op.extend(body);
    Some(op)
}

/// An input: the setup byte, then each frame after the time step from the previous one.
fn input(frames: &[&(Instant, Vec<u8>)]) -> Vec<u8> {
    input_with(frames, false)
}

/// As [`input`]; with `datagrams`, each DIO and DAO-ACK as a radio datagram operation
/// ([`rpl_datagram`]) instead of its PSDU.
fn input_with(frames: &[&(Instant, Vec<u8>)], datagrams: bool) -> Vec<u8> {
    let mut out = vec![0u8];
    let mut t = 0;
    for (at, psdu) in frames {
        let ms = at.as_millis();
        advance(&mut out, ms.saturating_sub(t));
        t = t.max(ms);
        if let Some(op) = datagrams.then(|| rpl_datagram(psdu)).flatten() {
            out.extend(op);
            continue;
        }
        // `arg` bit 0: the FCS is in the PSDU.
        out.push(0x10 | run::OP_PSDU);
        out.push(u8::try_from(psdu.len()).expect("a PSDU is at most 127 bytes"));
        out.extend_from_slice(psdu);
    }
    out
}

/// A line run to the join and then through `scenarios` (name, node pinged, size), a few
/// seconds each; its seeds: the join alone, and the join with each scenario.
fn record(
    router_1_in_the_middle: bool,
    scenarios: &[(&str, usize, u16)],
) -> Vec<(String, Vec<u8>)> {
    let mut line = Line::new(router_1_in_the_middle);
    // The middle router joins under the root, the far one under it; DAOs acknowledged.
    for _ in 0..120 {
        line.run_for(Duration::from_secs(1));
        if line.phase(1) == Phase::Joined && line.phase(2) == Phase::Joined {
            break;
        }
    }
    line.run_for(Duration::from_secs(5));
    assert_eq!(
        line.phase(1),
        Phase::Joined,
        "the middle router never joined"
    );
    assert_eq!(line.phase(2), Phase::Joined, "the far router never joined");
    let joined = line.heard.len();
    println!("joined at {:?}: router 1 heard {joined} frames", line.now);

    let mut cuts = Vec::new();
    for (k, &(_, node, size)) in scenarios.iter().enumerate() {
        let from = line.heard.len();
        line.ping(line.global(node), k as u16, size);
        line.run_for(Duration::from_secs(3));
        cuts.push(from..line.heard.len());
    }
    let pings: Vec<_> = std::iter::from_fn(|| line.nodes[0].app.pop_ping()).collect();
    println!("the border router's pings: {pings:?}");
    assert_eq!(pings.len(), scenarios.len(), "a ping went unanswered");

    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    let join: Vec<_> = line.heard[..joined].iter().collect();
    let prefix = if router_1_in_the_middle { "" } else { "far_" };
    seeds.push((format!("{prefix}join"), input(&join)));
    seeds.push((format!("{prefix}join_datagrams"), input_with(&join, true)));
    for ((name, ..), cut) in scenarios.iter().zip(&cuts) {
        let mut frames = join.clone();
        frames.extend(&line.heard[cut.clone()]);
        seeds.push(((*name).into(), input(&frames)));
    }
    // Each frame alone too (short inputs for the parsers behind the router).
    for (k, f) in line.heard.iter().enumerate() {
        seeds.push((
            format!("{prefix}frame_{k:03}"),
            input(&[&(Instant::ZERO, f.1.clone())]),
        ));
    }
    seeds
}

/// How many inputs of `dir` reached each of the router's outcomes.
fn replay(dir: &std::path::Path) {
    let mut n = 0;
    let mut phases = std::collections::BTreeMap::new();
    let mut reached = [0u32; 11];
    for e in std::fs::read_dir(dir).expect("a corpus directory") {
        let data = std::fs::read(e.expect("an entry").path()).expect("an input");
        run::run(&data, |h| {
            let r = h.app.mesh_router().expect("a router");
            *phases.entry(format!("{:?}", r.core().phase())).or_insert(0) += 1;
            let s = r.stats();
            let all = [
                s.dio_rx,
                s.dio_tx,
                s.dis_tx,
                s.dao_tx,
                s.dao_ack_rx,
                s.rx_invalid,
                s.tx_failed,
                s.srh_forwarded,
                s.srh_dropped,
                s.decapsulated,
                s.decap_dropped,
            ];
            for (c, v) in reached.iter_mut().zip(all) {
                *c += u32::from(v > 0);
            }
        });
        n += 1;
    }
    let names = [
        "dio_rx",
        "dio_tx",
        "dis_tx",
        "dao_tx",
        "dao_ack_rx",
        "rx_invalid",
        "tx_failed",
        "srh_forwarded",
        "srh_dropped",
        "decapsulated",
        "decap_dropped",
    ];
    println!("{n} inputs; phase at the end: {phases:?}");
    for (name, c) in names.iter().zip(reached) {
        println!("  {name} > 0 in {c} inputs");
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--replay") {
        let dir = std::env::args().nth(2).expect("--replay DIR");
        return replay(std::path::Path::new(&dir));
    }
    let dir = std::env::args().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/router_frames"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("the corpus directory");

    // Router 1 in the middle: pinged itself, and forwarding along the root's source routes
    // to router 2 (whole and fragmented).
    let mut seeds = record(
        true,
        &[
            ("ping_router", 1, 56),
            ("source_route", 2, 56),
            ("source_route_fragments", 2, 600),
            ("ping_router_fragments", 1, 600),
        ],
    );
    // Router 1 at the far end: the root's tunnel (IPv6-in-IPv6 + RPL Option + SRH) ends
    // there, after router 2's forwarding.
    seeds.extend(record(
        false,
        &[("tunnel_exit", 2, 56), ("tunnel_exit_fragments", 2, 600)],
    ));

    for (name, data) in &seeds {
        std::fs::write(dir.join(name), data).expect("a seed written");
        let mut seen = None;
        run::run(data, |h| {
            let r = h.app.mesh_router().expect("a router");
            seen = Some((r.core().phase(), r.core().rank(), r.stats()));
        });
        let Some((phase, rank, s)) = seen else {
            unreachable!("run calls inspect")
        };
        if name.contains("frame_") {
            continue;
        }
        println!("{name}: {} bytes: {phase:?} rank {rank} {s:?}", data.len());
        assert_eq!(phase, Phase::Joined, "{name}: the router did not join");
        assert!(s.dao_ack_rx > 0, "{name}: no DAO-ACK");
        if name.starts_with("source_route") {
            assert!(s.srh_forwarded > 1, "{name}: nothing forwarded");
        }
        if name.starts_with("tunnel_exit") {
            assert!(s.decapsulated > 0, "{name}: nothing decapsulated");
        }
    }
    println!("{} seeds in {}", seeds.len(), dir.display());
}
