//! Whole-mesh runs of raw MAC nodes: identical seeds give identical pcapng captures byte for
//! byte (and a different seed does not), the capture is well formed (tshark reads it when
//! installed; required when `CI=true`), and hidden terminals cost retries at the middle node.

use capture_file::SharedBuf;
use l2_15_4::radio::Channel;
use l2_15_4::{Address, MacConfig, PanId};
use netif::time::{Duration, Instant};
use sim::mac_node::{MacNode, MacNodeConfig, eui64};
use sim::{CaptureMode, MediumConfig, PathLoss, RadioConfig, SimConfig, Simulator, Topology};

const PAN: PanId = PanId(0xface);

fn node_cfg(i: u16, seed: u64) -> MacNodeConfig {
    let ch = Channel::new(15).unwrap();
    let mut mac = MacConfig::new(ch, PAN, eui64(i));
    mac.short_address = i + 1;
    mac.seed = (seed as u32) ^ u32::from(i).wrapping_mul(0x9e37_79b9) ^ 1;
    MacNodeConfig {
        mac,
        backlog: 64,
        keep_received: 1024,
    }
}

fn build(topo: Topology, seed: u64, loss: f64) -> Simulator {
    let cfg = SimConfig {
        medium: MediumConfig {
            seed,
            extra_loss: loss,
            rssi_jitter_db: 2,
            ..MediumConfig::default()
        },
        ..SimConfig::default()
    };
    let n = topo.len();
    let mut sim = Simulator::new(cfg, topo);
    for i in 0..n as u16 {
        sim.spawn(RadioConfig::default(), |id, r| {
            MacNode::new(id, node_cfg(i, seed), r)
        })
        .unwrap();
    }
    sim
}

/// Every node sends `frames` frames to node 0 (short address 1) at staggered times.
fn mesh_capture(seed: u64) -> (Vec<u8>, u64) {
    let topo = Topology::random(8, 30.0, 99, &PathLoss::default());
    let mut sim = build(topo, seed, 0.05);
    let buf = SharedBuf::default();
    sim.medium()
        .start_capture(Box::new(buf.clone()), CaptureMode::Air)
        .unwrap();
    for round in 0..10u64 {
        for i in 1..8usize {
            sim.with_node::<MacNode, _>(sim::NodeId(i), |n, _, _| {
                n.send(Address::Short(1), &[i as u8; 40]);
            });
        }
        sim.run_for(Duration::from_millis(20 + round));
    }
    sim.run_for(Duration::from_secs(1));
    sim.medium().finish_capture().unwrap();
    let delivered = sim
        .node::<MacNode>(sim::NodeId(0))
        .unwrap()
        .received_counts()
        .0;
    (buf.bytes(), delivered)
}

#[test]
fn identical_seeds_give_identical_pcaps() {
    let (a, da) = mesh_capture(11);
    let (b, db) = mesh_capture(11);
    let (c, _) = mesh_capture(12);
    assert!(a.len() > 1000);
    assert!(da > 0, "node 0 received something");
    assert_eq!(da, db);
    assert!(a == b, "same seed, different capture");
    assert!(a != c, "different seed, same capture");
    check_with_tshark(&a);
}

fn check_with_tshark(pcap: &[u8]) {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let path = std::env::temp_dir().join(format!("sim-replay-{}.pcapng", std::process::id()));
    std::fs::write(&path, pcap).unwrap();
    let out = std::process::Command::new("tshark")
        .args(["-r"])
        .arg(&path)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.len",
            "-e",
            "wpan.fcs_ok",
            "-e",
            "wpan-tap.ch_num",
            "-e",
            "wpan-tap.rss",
        ])
        .output();
    let _ = std::fs::remove_file(&path);
    match out {
        Ok(o) => {
            let stdout = String::from_utf8_lossy(&o.stdout);
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert!(o.status.success(), "tshark failed: {stderr}");
            assert!(!stderr.contains("appears to be damaged"), "{stderr}");
            let lines: Vec<&str> = stdout.lines().collect();
            assert!(!lines.is_empty());
            for l in &lines {
                let f: Vec<&str> = l.split('\t').collect();
                assert_eq!(f.get(2), Some(&"15"), "channel TLV: {l}");
            }
            eprintln!("tshark read {} frames; first: {}", lines.len(), lines[0]);
        }
        Err(e) => {
            assert!(!ci, "tshark is required when CI=true: {e}");
            eprintln!("tshark not installed, skipping the dissector check ({e})");
        }
    }
}

#[test]
fn hidden_terminals_cost_retries_at_the_middle_node() {
    // 0 — 1 — 2, both ends send to the middle at the same instants.
    let mut sim = build(Topology::line(3, sim::Link::good()), 3, 0.0);
    for _ in 0..20 {
        for i in [0usize, 2] {
            sim.with_node::<MacNode, _>(sim::NodeId(i), |n, _, _| {
                n.send(Address::Short(2), &[0x55; 100]);
            });
        }
        sim.run_for(Duration::from_millis(40));
    }
    sim.run_until(Instant::from_secs(5));
    let mid = sim.medium_ref().counters(sim::RadioId(1));
    let got = sim
        .node::<MacNode>(sim::NodeId(1))
        .unwrap()
        .received_counts()
        .0;
    let retries: u32 = [0usize, 2]
        .iter()
        .map(|i| {
            sim.node::<MacNode>(sim::NodeId(*i))
                .unwrap()
                .port()
                .mac_counters()
                .tx_retries
        })
        .sum();
    eprintln!("middle: {mid:?}, delivered {got}/40, retries {retries}");
    assert!(
        mid.rx_collisions > 0,
        "hidden terminals collide at the middle"
    );
    assert!(retries > 0);
    // CSMA/CA cannot help the first attempt: 100-byte frames (4.2 ms) outlast the whole
    // first backoff window (7 × 320 µs). The retry after a missing ACK waits a random number
    // of frame times from a window that doubles per retry, so the pair separates and every
    // frame arrives (issue 20; before, the retry restarted the same short window, nearly
    // every attempt collided again and this test asserted `got < 40`).
    assert_eq!(got, 40);

    // The same load, staggered so the two never overlap: everything arrives first time.
    let mut sim = build(Topology::line(3, sim::Link::good()), 3, 0.0);
    for _ in 0..20 {
        for i in [0usize, 2] {
            sim.with_node::<MacNode, _>(sim::NodeId(i), |n, _, _| {
                n.send(Address::Short(2), &[0x55; 100]);
            });
            sim.run_for(Duration::from_millis(20));
        }
    }
    sim.run_until(Instant::from_secs(5));
    let got = sim
        .node::<MacNode>(sim::NodeId(1))
        .unwrap()
        .received_counts()
        .0;
    assert_eq!(got, 40);
    assert_eq!(sim.medium_ref().counters(sim::RadioId(1)).rx_collisions, 0);
}
