//! `sixgate capture --promiscuous` observes; it never changes what the border router does
//! (issue 20 defect 2): against a running `sixgate-sim --serial-pty`, the MAC keeps sending
//! ACKs and dropping duplicates while a promiscuous capture runs, so each reading is forwarded
//! once. Before, the MAC in promiscuous mode sent no ACK (acks_sent stood still), the nodes
//! sent every reading four times and the border router forwarded all four copies.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{Sim, json, ok};

/// (acks_sent, rx_duplicates, forwarded) of wpan0.
fn wpan0(port: &Path) -> (u64, u64, u64) {
    let j = json(port, &["stats", "wpan0"]);
    let w = &j["wpan0"];
    let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("no counter in {j}"));
    (
        n(&w["mac"]["acks_sent"]),
        n(&w["mac"]["rx_duplicates"]),
        n(&w["ipv6"]["forwarded"]),
    )
}

#[test]
fn promiscuous_capture_keeps_acks_and_duplicate_filtering() {
    let sim = Sim::start("promisc", &["--nodes", "2", "--reading-period", "1"]);
    let (pty, dir) = (sim.pty.clone(), sim.dir.clone());
    let t0 = Instant::now();
    // Readings flowing (each one acknowledged and forwarded).
    while wpan0(&pty).2 < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no reading forwarded"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let before = wpan0(&pty);
    let file = dir.join("promisc.pcapng");
    let f = file.display().to_string();
    ok(
        &pty,
        &["capture", "--promiscuous", "--duration", "6", "-w", &f],
    );
    let after = wpan0(&pty);
    let (acks, forwarded) = (after.0 - before.0, after.2 - before.2);
    assert!(
        acks >= 4,
        "ACKs sent during the promiscuous capture: {acks} ({before:?} -> {after:?})"
    );
    // Every forwarded reading was received once and acknowledged once (a little slack for
    // the edges of the window).
    assert!(
        forwarded <= acks + 2,
        "{forwarded} packets forwarded for {acks} ACKs sent ({before:?} -> {after:?}): \
         duplicates forwarded"
    );
    assert!(std::fs::metadata(&file).unwrap().len() > 0);
}
