//! Simulator speed: simulated seconds per wall second for a 20-node star of smoltcp sensor
//! nodes (each sends a 24-byte UDP reading to the border-router position, node 0, every
//! second with 0.5 s jitter; node 0 runs a sink).

use std::time::Instant as WallInstant;

use criterion::{Criterion, criterion_group, criterion_main};
use l2_15_4::PanId;
use l2_15_4::radio::Channel;
use netif::time::Duration;
use sim::smol::{SensorConfig, SmolNode, SmolNodeConfig};
use sim::{Link, NodeId, RadioConfig, SimConfig, Simulator, Topology};

const PREFIX: [u8; 8] = [0xfd, 0, 0, 0, 0, 0, 0, 1];

fn build(n: u16) -> Simulator {
    let mut sim = Simulator::new(
        SimConfig::default(),
        Topology::star(n as usize, Link::good()),
    );
    let ch = Channel::new(15).unwrap_or_else(|| unreachable!());
    let collector = SmolNodeConfig::new(0, ch, PanId(0xbeef), PREFIX)
        .global()
        .unwrap_or_else(|| unreachable!());
    for i in 0..n {
        let mut c = SmolNodeConfig::new(i, ch, PanId(0xbeef), PREFIX);
        if i == 0 {
            c.sink_port = Some(5683);
            c.sink_log = 0;
        } else {
            c.sensor = Some(SensorConfig {
                collector,
                collector_port: 5683,
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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = speed
}
criterion_main!(benches);
