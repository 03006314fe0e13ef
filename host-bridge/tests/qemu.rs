//! The firmware on an ARM core: the QEMU Cortex-M4 image (firmware/boards/qemu-m4, built by
//! scripts/qemu-m4.sh) booted in `qemu-system-arm -machine mps2-an386` and driven by the
//! `sixgate` CLI over the emulated UART0 (a PTY): info, interfaces, the scripted nodes,
//! counters (forwarding, no drop for lack of a buffer, the stack high-water mark), ping of a
//! node, a saved configuration surviving a reboot, and a capture tshark reads without a
//! malformed frame.
//!
//! Skipped, with the reason, when qemu-system-arm is missing, unless CI=true.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{json, ok, sixgate};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// QEMU running the image; killed by PID when dropped, whatever happened.
struct Qemu {
    child: Child,
    pty: PathBuf,
    console: PathBuf,
}

impl Qemu {
    fn boot(elf: &Path, console: PathBuf) -> Qemu {
        // -icount: this QEMU moves no timer without it (see scripts/qemu-m4.sh).
        let mut child = Command::new("qemu-system-arm")
            .args(["-machine", "mps2-an386", "-nographic", "-monitor", "none"])
            .args(["-serial", "pty", "-serial"])
            .arg(format!("file:{}", console.display()))
            .args(["-icount", "shift=5,sleep=on", "-kernel"])
            .arg(elf)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("qemu-system-arm starts");
        let out = child.stdout.take().expect("stdout piped");
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let pty = line
            .split_whitespace()
            .find(|w| w.starts_with("/dev/"))
            .map(PathBuf::from);
        let mut q = Qemu {
            child,
            pty: PathBuf::new(),
            console,
        };
        q.pty = pty.unwrap_or_else(|| panic!("QEMU named no PTY: {line:?}"));
        q
    }

    fn console(&self) -> String {
        std::fs::read_to_string(&self.console).unwrap_or_default()
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the image with scripts/qemu-m4.sh and returns its path.
fn build_image() -> PathBuf {
    let out = Command::new("bash")
        .arg(root().join("scripts/qemu-m4.sh"))
        .arg("--build-only")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "building the QEMU image failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn the_firmware_serves_the_cli_from_a_cortex_m4() {
    if !have("qemu-system-arm") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "qemu-system-arm is missing (CI installs it)"
        );
        eprintln!("skipped: qemu-system-arm is not installed (apt-get install qemu-system-arm)");
        return;
    }
    let elf = build_image();
    let dir = std::env::temp_dir().join(format!("sixgate-qemu-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let qemu = Qemu::boot(&elf, dir.join("console.txt"));
    let p = qemu.pty.clone();

    // info: version, uptime, the board.
    let j = json(&p, &["info"]);
    assert!(
        j["firmware"].as_str().unwrap().starts_with("sixgate "),
        "{j}"
    );
    assert_eq!(j["board"], "qemu-mps2-an386");
    assert!(j["uptime_ms"].is_u64(), "{j}");

    // iface list
    let j = json(&p, &["iface", "list"]);
    let names: Vec<&str> = j
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(names, ["wpan0", "eth0"], "{j}");

    // nodes list: the four scripted nodes registered.
    let t0 = Instant::now();
    let nodes = loop {
        let j = json(&p, &["nodes", "list"]);
        let reg: Vec<String> = j
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["registered"] == true)
            .filter_map(|n| n["addresses"][0].as_str().map(str::to_string))
            .collect();
        if reg.len() >= 4 {
            break reg;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "nodes: {j}");
        std::thread::sleep(Duration::from_millis(500));
    };

    // stats: readings forwarded, more of them later, none dropped for lack of a buffer; the
    // hop-limit-1 readings earned Time Exceeded; the stack high-water mark is measured.
    let fwd = |j: &Value| j["eth0"]["ipv6"]["forwarded"].as_u64().unwrap();
    let s1 = json(&p, &["stats"]);
    std::thread::sleep(Duration::from_secs(3));
    let s2 = json(&p, &["stats"]);
    assert!(fwd(&s2) > fwd(&s1) && fwd(&s1) > 0, "{s1}\n{s2}");
    assert_eq!(s2["device"]["device"]["app_rx_no_buffer_wpan"], 0, "{s2}");
    assert_eq!(s2["wpan0"]["6lowpan"]["no_buffer"], 0, "{s2}");
    assert!(
        s2["wpan0"]["ipv6"]["icmp_errors_sent"].as_u64().unwrap() >= 4,
        "{s2}"
    );
    let hwm = s2["device"]["device"]["stack_high_water"].as_u64().unwrap();
    assert!(hwm > 1024 && hwm < 64 * 1024, "stack high-water mark {hwm}");

    // ping a scripted node.
    let j = json(&p, &["ping", &nodes[0], "-c", "3", "-i", "0.2"]);
    assert_eq!(j["received"], 3, "{j}");

    // config save + reboot + config show: the change survived.
    ok(&p, &["iface", "set", "wpan0", "tx-power", "-4"]);
    ok(&p, &["config", "save"]);
    assert!(ok(&p, &["reboot"]).contains("rebooting"));
    std::thread::sleep(Duration::from_millis(500));
    let j = json(&p, &["config", "show"]);
    assert_eq!(
        j["tx_power_dbm"], -4,
        "saved configuration survives reboot: {j}"
    );
    assert_eq!(j["unsaved"], false, "{j}");
    let j = json(&p, &["info"]);
    assert!(j["uptime_ms"].as_u64().unwrap() < 30_000, "rebooted: {j}");

    // capture -c 50: a pcapng tshark opens with no malformed frame.
    let file = dir.join("cap.pcapng");
    let f = file.display().to_string();
    let o = sixgate(&p, &["capture", "-c", "50", "-w", &f]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    if have("tshark") {
        // Stock tshark, no protocol disabled: the readings use ports no dissector claims.
        let out = Command::new("tshark")
            .args(["-r", &f])
            .args(["-T", "fields", "-e", "frame.protocols"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let protos = String::from_utf8_lossy(&out.stdout);
        assert_eq!(protos.lines().count(), 50, "{protos}");
        assert!(!protos.contains("_ws.malformed"), "{protos}");
        assert!(protos.contains("6lowpan:ipv6"), "{protos}");
    } else {
        eprintln!("tshark not installed: capture not decoded");
    }

    let console = qemu.console();
    assert!(!console.contains("FAULT"), "{console}");
    drop(qemu);
    let _ = std::fs::remove_dir_all(&dir);
}
