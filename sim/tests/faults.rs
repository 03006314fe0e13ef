//! The fault schedule (link down/up, reboot, loss change) and real-time pacing.

use l2_15_4::radio::Channel;
use l2_15_4::{Address, MacConfig, PanId};
use netif::time::{Duration, Instant};
use sim::mac_node::{MacNode, MacNodeConfig, eui64};
use sim::{Fault, Link, NodeId, RadioConfig, RadioId, SimConfig, Simulator, Topology};

fn sim_with(faults: Vec<(Instant, Fault)>, pace: Option<f64>) -> Simulator {
    let cfg = SimConfig {
        faults,
        pace,
        ..SimConfig::default()
    };
    let mut sim = Simulator::new(cfg, Topology::full_mesh(2, Link::good()));
    for i in 0..2u16 {
        let mut mac = MacConfig::new(Channel::new(15).unwrap(), PanId(1), eui64(i));
        mac.short_address = i + 1;
        mac.seed = u32::from(i) + 10;
        let c = MacNodeConfig {
            mac,
            backlog: 8,
            keep_received: 64,
        };
        sim.spawn(RadioConfig::default(), |id, r| MacNode::new(id, c, r))
            .unwrap();
    }
    sim
}

fn send(sim: &mut Simulator) {
    sim.with_node::<MacNode, _>(NodeId(0), |n, _, _| n.send(Address::Short(2), b"ping"));
}

#[test]
fn link_down_up_and_reboot_follow_the_schedule() {
    let faults = vec![
        (
            Instant::from_millis(100),
            Fault::LinkDown(RadioId(0), RadioId(1)),
        ),
        (
            Instant::from_millis(500),
            Fault::LinkUp(RadioId(0), RadioId(1)),
        ),
        (Instant::from_millis(900), Fault::Reboot(NodeId(1))),
    ];
    let mut sim = sim_with(faults, None);
    send(&mut sim);
    sim.run_until(Instant::from_millis(50));
    let got = |s: &Simulator| s.node::<MacNode>(NodeId(1)).unwrap().received_counts().0;
    assert_eq!(got(&sim), 1);
    sim.run_until(Instant::from_millis(200));
    send(&mut sim);
    sim.run_until(Instant::from_millis(400));
    assert_eq!(got(&sim), 1, "link down");
    let src = sim.node::<MacNode>(NodeId(0)).unwrap().port().counters();
    assert_eq!(src.tx_no_ack, 1, "4 unacknowledged attempts, then NoAck");
    sim.run_until(Instant::from_millis(600));
    send(&mut sim);
    sim.run_until(Instant::from_millis(800));
    assert_eq!(got(&sim), 2, "link back up");
    sim.run_until(Instant::from_millis(1000));
    let n1 = sim.node::<MacNode>(NodeId(1)).unwrap();
    assert_eq!(n1.reboots(), 1);
    assert_eq!(n1.received().count(), 0, "volatile state lost");
    send(&mut sim);
    sim.run_until(Instant::from_millis(1100));
    assert_eq!(
        sim.node::<MacNode>(NodeId(1)).unwrap().received().count(),
        1
    );
    assert_eq!(sim.stats().faults, 3);
}

#[test]
fn pacing_makes_simulated_time_track_the_wall_clock() {
    // 10× real time: 200 ms simulated take at least 20 ms of wall time.
    let mut sim = sim_with(Vec::new(), Some(10.0));
    let wall = std::time::Instant::now();
    for _ in 0..4 {
        send(&mut sim);
        sim.run_for(Duration::from_millis(50));
    }
    assert!(wall.elapsed() >= std::time::Duration::from_millis(18));
    assert_eq!(
        sim.node::<MacNode>(NodeId(1)).unwrap().received_counts().0,
        4
    );
}
