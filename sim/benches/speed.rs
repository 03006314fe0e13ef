//! Simulator speed.
//!
//! 1. A 20-node star of smoltcp sensor nodes (each sends a 24-byte UDP reading to the
//!    border-router position, node 0, every second with 0.5 s jitter; node 0 runs a sink):
//!    simulated seconds per wall second.
//! 2. Topology independence (issue 20: the simulator stalled as soon as a node was out of
//!    another's range): 100 nodes as a star, a 10 × 10 grid, a line and a full mesh, every
//!    node but node 0 sending a 24-byte reading every 10 s (2 s jitter) to node 0's
//!    link-local address, with SLAAC enabled and no router (so every node's router
//!    solicitations go unanswered, as for the nodes of `sixgate-sim` out of the border
//!    router's range). Printed in one run: each topology's simulated seconds per wall second
//!    and the wall time of the grid and the line against the star's (target: within 2×;
//!    the 100-node mesh at least 100× faster than real time).
//!
//! `cargo bench -p sim --bench speed` (the printed lines come first; criterion then times
//! 10 simulated seconds of the 20-node star and 30 of each 100-node case).

use std::net::Ipv6Addr;
use std::time::{Duration as WallDuration, Instant as WallInstant};

use criterion::{Criterion, criterion_group, criterion_main};
use l2_15_4::PanId;
use l2_15_4::radio::Channel;
use netif::time::Duration;
use sim::smol::{Addressing, SensorConfig, SmolNode, SmolNodeConfig};
use sim::{Link, NodeId, RadioConfig, SimConfig, Simulator, Topology};

const PREFIX: [u8; 8] = [0xfd, 0, 0, 0, 0, 0, 0, 1];
const SINK_PORT: u16 = 5683;
/// Simulated seconds of each printed topology run.
const TOPOLOGY_RUN_S: u64 = 120;

fn channel() -> Channel {
    Channel::new(15).unwrap_or_else(|| unreachable!())
}

fn build(n: u16) -> Simulator {
    let mut sim = Simulator::new(
        SimConfig::default(),
        Topology::star(n as usize, Link::good()),
    );
    let ch = channel();
    let collector = SmolNodeConfig::new(0, ch, PanId(0xbeef), PREFIX)
        .global()
        .unwrap_or_else(|| unreachable!());
    for i in 0..n {
        let mut c = SmolNodeConfig::new(i, ch, PanId(0xbeef), PREFIX);
        if i == 0 {
            c.sink_port = Some(SINK_PORT);
            c.sink_log = 0;
        } else {
            c.sensor = Some(SensorConfig {
                collector,
                collector_port: SINK_PORT,
                local_port: 6000,
                period: Duration::from_secs(1),
                jitter: Duration::from_millis(500),
                payload_len: 24,
            });
        }
        sim.spawn(RadioConfig::default(), |id, r| SmolNode::new(id, c, r))
            .unwrap_or_else(|e| panic!("node {i}: {e}"));
    }
    sim
}

/// The topologies of part 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Star,
    Grid,
    Line,
    FullMesh,
}

fn topology(shape: Shape, n: usize) -> Topology {
    let good = Link::good();
    match shape {
        Shape::Star => Topology::star(n, good),
        Shape::Line => Topology::line(n, good),
        Shape::FullMesh => Topology::full_mesh(n, good),
        Shape::Grid => {
            let w = (n as f64).sqrt().ceil().max(1.0) as usize;
            let mut t = Topology::grid(w, n.div_ceil(w), good);
            t.resize(n);
            t
        }
    }
}

/// `n` SLAAC nodes in `shape` without a router; all but node 0 read every 10 s.
fn build_shape(shape: Shape, n: u16) -> Simulator {
    let mut sim = Simulator::new(SimConfig::default(), topology(shape, usize::from(n)));
    let ch = channel();
    let collector: Ipv6Addr = SmolNodeConfig::new(0, ch, PanId(0xbeef), PREFIX).link_local();
    for i in 0..n {
        let mut c = SmolNodeConfig::new(i, ch, PanId(0xbeef), PREFIX);
        c.addressing = Addressing::Slaac;
        if i == 0 {
            c.sink_port = Some(SINK_PORT);
            c.sink_log = 0;
        } else {
            c.sensor = Some(SensorConfig {
                collector,
                collector_port: SINK_PORT,
                local_port: 6000,
                period: Duration::from_secs(10),
                jitter: Duration::from_secs(2),
                payload_len: 24,
            });
        }
        sim.spawn(RadioConfig::default(), |id, r| SmolNode::new(id, c, r))
            .unwrap_or_else(|e| panic!("node {i}: {e}"));
    }
    sim
}

/// Runs `shape` for [`TOPOLOGY_RUN_S`] and prints what it cost; returns the wall time.
fn measure(shape: Shape, n: u16) -> WallDuration {
    let mut sim = build_shape(shape, n);
    let wall = WallInstant::now();
    sim.run_for(Duration::from_secs(TOPOLOGY_RUN_S));
    let took = wall.elapsed();
    let got = sim
        .node::<SmolNode>(NodeId(0))
        .map_or(0, |n| n.counters().sink_received);
    let st = sim.stats();
    eprintln!(
        "{n}-node {shape:?}: {TOPOLOGY_RUN_S} simulated s in {:.3} wall s = {:.0}x real time; \
         {got} readings delivered; {} loop iterations, {} polls",
        took.as_secs_f64(),
        TOPOLOGY_RUN_S as f64 / took.as_secs_f64().max(1e-9),
        st.steps,
        st.polls,
    );
    took
}

fn speed(c: &mut Criterion) {
    // One long run printed as a ratio, then criterion's timing of 10 simulated seconds.
    let mut sim = build(20);
    let wall = WallInstant::now();
    sim.run_for(Duration::from_secs(60));
    let secs = wall.elapsed().as_secs_f64();
    let got = sim
        .node::<SmolNode>(NodeId(0))
        .map_or(0, |n| n.counters().sink_received);
    eprintln!(
        "20-node star, 19 sensors at 1 reading/s: 60 simulated s in {secs:.3} wall s = \
         {:.0} simulated s per wall s; {got} readings delivered; {:?}",
        60.0 / secs,
        sim.stats()
    );
    c.bench_function("20-node star, 10 simulated seconds", |b| {
        b.iter_with_setup(
            || build(20),
            |mut sim| {
                sim.run_for(Duration::from_secs(10));
                sim
            },
        )
    });
}

fn topologies(c: &mut Criterion) {
    let star = measure(Shape::Star, 100).as_secs_f64().max(1e-9);
    for shape in [Shape::Grid, Shape::Line] {
        let t = measure(shape, 100).as_secs_f64();
        let ratio = t / star;
        eprintln!(
            "100-node {shape:?} / 100-node Star wall time: {ratio:.2} (target <= 2: {})",
            if ratio <= 2.0 { "met" } else { "MISSED" }
        );
    }
    let mesh = measure(Shape::FullMesh, 100).as_secs_f64().max(1e-9);
    let x = TOPOLOGY_RUN_S as f64 / mesh;
    eprintln!(
        "100-node FullMesh: {x:.0}x real time (target >= 100: {})",
        if x >= 100.0 { "met" } else { "MISSED" }
    );
    let mut g = c.benchmark_group("100 nodes, 30 simulated seconds");
    for shape in [Shape::Star, Shape::Grid, Shape::Line, Shape::FullMesh] {
        g.bench_function(format!("{shape:?}"), |b| {
            b.iter_with_setup(
                || build_shape(shape, 100),
                |mut sim| {
                    sim.run_for(Duration::from_secs(30));
                    sim
                },
            )
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(WallDuration::from_millis(500))
        .measurement_time(WallDuration::from_secs(2));
    targets = speed, topologies
}
criterion_main!(benches);
