//! The fault schedule (link down/up, reboot, power off/on, loss change) and real-time pacing.

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

/// Node 1 loses power at 100 ms and gets it back at 500 ms: meanwhile it neither receives
/// (node 0's frame goes unacknowledged) nor sends (what it queued never reaches the air);
/// back on, it has rebooted (fresh state) and works both ways again.
#[test]
fn a_powered_off_node_neither_sends_nor_hears_and_reboots_when_power_returns() {
    let faults = vec![
        (Instant::from_millis(100), Fault::PowerOff(NodeId(1))),
        (Instant::from_millis(500), Fault::PowerOn(NodeId(1))),
    ];
    let mut sim = sim_with(faults, None);
    let got0 = |s: &Simulator| s.node::<MacNode>(NodeId(0)).unwrap().received_counts().0;
    let got1 = |s: &Simulator| s.node::<MacNode>(NodeId(1)).unwrap().received_counts().0;
    send(&mut sim);
    sim.run_until(Instant::from_millis(50));
    assert_eq!(got1(&sim), 1, "powered: delivered");
    sim.run_until(Instant::from_millis(150));
    assert!(!sim.is_powered(NodeId(1)));
    assert!(!sim.medium_ref().is_powered(RadioId(1)));
    let tx_before = sim.medium_ref().counters(RadioId(1)).tx_frames;
    send(&mut sim);
    sim.with_node::<MacNode, _>(NodeId(1), |n, _, _| n.send(Address::Short(1), b"pong"));
    sim.run_until(Instant::from_millis(450));
    assert_eq!(got1(&sim), 1, "off: hears nothing");
    assert_eq!(got0(&sim), 0, "off: sends nothing");
    let off = sim.medium_ref().counters(RadioId(1));
    assert_eq!(
        off.tx_frames, tx_before,
        "not a single frame (nor ACK) on the air"
    );
    assert_eq!(off.powered_off, 1);
    let src = sim.node::<MacNode>(NodeId(0)).unwrap().port().counters();
    assert_eq!(src.tx_no_ack, 1, "node 0's frame went unacknowledged");
    assert_eq!(sim.node::<MacNode>(NodeId(1)).unwrap().reboots(), 0);

    sim.run_until(Instant::from_millis(550));
    assert!(sim.is_powered(NodeId(1)));
    let n1 = sim.node::<MacNode>(NodeId(1)).unwrap();
    assert_eq!(n1.reboots(), 1, "power on is a boot");
    assert_eq!(n1.received().count(), 0, "volatile state lost");
    assert_eq!(
        n1.port().counters().submitted,
        0,
        "the queued frame died with the power"
    );
    send(&mut sim);
    sim.with_node::<MacNode, _>(NodeId(1), |n, _, _| n.send(Address::Short(1), b"pong"));
    sim.run_until(Instant::from_millis(700));
    let n1 = sim.node::<MacNode>(NodeId(1)).unwrap();
    assert_eq!(n1.received().count(), 1, "node 1 hears again");
    assert_eq!(got1(&sim), 2, "two frames over both boots");
    assert_eq!(got0(&sim), 1, "node 1 sends again");
    assert_eq!(sim.stats().faults, 2);
}

/// Power lost in the middle of a frame: the frame on the air is cut off (its receiver never
/// gets it), and a frame the node was receiving is lost to it.
#[test]
fn power_loss_cuts_the_frame_on_the_air() {
    // A 127-byte frame takes 4.2 ms; power goes 1 ms into it.
    let mut sim = sim_with(Vec::new(), None);
    sim.run_until(Instant::from_millis(10));
    let long = [0x55u8; 100];
    sim.with_node::<MacNode, _>(NodeId(0), |n, _, _| n.send(Address::Short(2), &long));
    let started = sim.run_until_cond(Instant::from_millis(20), |s| {
        s.medium_ref().is_transmitting(RadioId(0))
    });
    assert!(started);
    let at = sim.now() + Duration::from_millis(1);
    sim.schedule_fault(at, Fault::PowerOff(NodeId(0)));
    sim.run_until(Instant::from_millis(100));
    assert_eq!(
        sim.node::<MacNode>(NodeId(1)).unwrap().received_counts().0,
        0
    );
    assert_eq!(sim.medium_ref().counters(RadioId(1)).rx_frames, 0);
    assert!(!sim.medium_ref().is_transmitting(RadioId(0)));

    // The other way: the receiver goes off during the frame.
    let mut sim = sim_with(Vec::new(), None);
    sim.run_until(Instant::from_millis(10));
    sim.with_node::<MacNode, _>(NodeId(0), |n, _, _| n.send(Address::Short(2), &long));
    sim.run_until_cond(Instant::from_millis(20), |s| {
        s.medium_ref().is_transmitting(RadioId(0))
    });
    let at = sim.now() + Duration::from_millis(1);
    sim.schedule_fault(at, Fault::PowerOff(NodeId(1)));
    sim.run_until(Instant::from_millis(100));
    assert_eq!(sim.medium_ref().counters(RadioId(1)).rx_frames, 0);
    assert_eq!(sim.medium_ref().counters(RadioId(0)).rx_frames, 0, "no ACK");
}
