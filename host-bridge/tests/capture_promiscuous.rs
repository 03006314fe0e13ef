//! `sixgate capture --promiscuous` observes; it never changes what the border router does
//! (issue 20 defect 2): against a running `sixgate-sim --serial-pty`, the MAC keeps sending
//! ACKs and dropping duplicates while a promiscuous capture runs, so each reading is forwarded
//! once. Before, the MAC in promiscuous mode sent no ACK (acks_sent stood still), the nodes
//! sent every reading four times and the border router forwarded all four copies.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The simulator binary next to this test's target directory (built on demand).
fn sim_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let bin = dir.join("sixgate-sim");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let st = Command::new(cargo)
            .args(["build", "-p", "sixgate-sim", "--bin", "sixgate-sim"])
            .status()
            .unwrap();
        assert!(st.success(), "building sixgate-sim failed");
    }
    bin
}

/// The simulator process, killed on drop.
struct Sim(Child, PathBuf);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn sixgate(port: &Path, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_sixgate"))
        .arg("--port")
        .arg(port)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "sixgate {args:?}: {:?}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// (acks_sent, rx_duplicates, forwarded) of wpan0.
fn wpan0(port: &Path) -> (u64, u64, u64) {
    let o = sixgate(port, &["--json", "stats", "wpan0"]);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
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
    let dir = std::env::temp_dir().join(format!("sixgate-promisc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pty = dir.join("pty");
    let child = Command::new(sim_bin())
        .arg("--serial-pty")
        .arg(&pty)
        .args(["--nodes", "2", "--reading-period", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _sim = Sim(child, dir.clone());
    let t0 = Instant::now();
    while !pty.exists() {
        assert!(t0.elapsed() < Duration::from_secs(20), "no PTY symlink");
        std::thread::sleep(Duration::from_millis(50));
    }
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
    sixgate(
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
