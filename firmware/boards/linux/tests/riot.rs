//! Foreign nodes (issue 21): RIOT OS 6LoWPAN-ND hosts, Linux processes whose radio speaks
//! ZEP, in the simulated mesh of the `sixgate-sim` binary (`--zep`), seen through the
//! `sixgate` CLI on its PTY. They register with our 6LBR (RS → RA → NS+ARO → NA status 0),
//! refresh, and share the mesh with smoltcp nodes; the captures open in stock tshark.
//!
//! The RIOT peers come from `../shared/peers/riot` (`sim::peers::riot_bin`, built into
//! `target/riot-peers` once); without them (or without gcc/make) each test says why and
//! skips, and fails under `CI=true`. Every process is killed on drop, failure included: the
//! simulator by its PID, RIOT nodes by their process group.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;
use sim::peers::{RiotNode, riot_bin};

/// The simulator binary of this package.
const SIM: &str = env!("CARGO_BIN_EXE_sixgate-sim");

/// RIOT's default PAN ID (`DEFAULT_PAN_ID` at build time): the border router runs on it.
const RIOT_PAN: &str = "0x23";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The RIOT binaries, or `None` after saying why (a failure under `CI=true`).
fn riot() -> Option<PathBuf> {
    match riot_bin() {
        Ok(b) => Some(b),
        Err(why) => {
            assert!(!ci(), "the RIOT peers are required when CI=true: {why}");
            eprintln!("skipping: {why}");
            None
        }
    }
}

/// `02:aa:bb:cc:dd:ee:00:k`.
fn eui(k: u8) -> [u8; 8] {
    [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, k]
}

fn eui_text(e: [u8; 8]) -> String {
    e.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("sixgate-riot-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `sixgate` CLI (package `host-bridge`), built on demand beside this test's binaries.
fn sixgate_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let bin = dir.join("sixgate");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let st = Command::new(cargo)
            .args(["build", "-p", "host-bridge", "--bin", "sixgate"])
            .status()
            .unwrap();
        assert!(st.success(), "building sixgate failed");
    }
    assert!(bin.exists(), "no {}", bin.display());
    bin
}

/// `sixgate-sim --zep [::1]:0 --serial-pty …` for `secs` seconds; killed (by PID) on drop.
struct Sim {
    child: Child,
    pty: PathBuf,
    zep: SocketAddr,
    stderr: Receiver<String>,
}

impl Sim {
    fn start(dir: &TempDir, secs: u32, extra: &[&str]) -> Sim {
        let pty = dir.path("pty");
        let mut args: Vec<String> = [
            "--zep",
            "[::1]:0",
            "--pan-id",
            RIOT_PAN,
            "--serial-pty",
            pty.to_str().unwrap(),
            "--duration",
            &secs.to_string(),
            "--summary-json",
            dir.path("summary.json").to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut child = Command::new(SIM)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, stderr) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let mut zep = None;
        while zep.is_none() {
            let l = stderr
                .recv_timeout(Duration::from_secs(20))
                .expect("sixgate-sim says where its ZEP socket is");
            zep = l
                .split_once("ZEP radios on udp ")
                .and_then(|(_, a)| a.trim().parse().ok());
        }
        let t0 = Instant::now();
        while !pty.exists() {
            assert!(t0.elapsed() < Duration::from_secs(20), "no PTY symlink");
            std::thread::sleep(Duration::from_millis(50));
        }
        Sim {
            child,
            pty,
            zep: zep.unwrap(),
            stderr,
        }
    }

    fn sixgate(&self, args: &[&str]) -> Output {
        let mut c = Command::new(sixgate_bin())
            .arg("--port")
            .arg(&self.pty)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while c.try_wait().unwrap().is_none() {
            if t0.elapsed() > Duration::from_secs(30) {
                let _ = c.kill();
                panic!("sixgate {args:?} hung");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        c.wait_with_output().unwrap()
    }

    /// `sixgate --json nodes list`: one object per device.
    fn nodes(&self) -> Vec<Value> {
        let o = self.sixgate(&["--json", "nodes", "list"]);
        assert!(
            o.status.success(),
            "sixgate nodes list: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice::<Value>(&o.stdout)
            .unwrap()
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The registered global entry of the device with EUI-64 `e`, if any.
    fn registration(&self, e: [u8; 8]) -> Option<Value> {
        registration(&self.nodes(), e)
    }

    /// Waits for the process to end by itself (its `--duration`), then reads the summary.
    fn finish(&mut self, dir: &TempDir, secs: u64) -> Value {
        let t0 = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                t0.elapsed() < Duration::from_secs(secs),
                "sixgate-sim did not end"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let st = self.child.wait().unwrap();
        let err: Vec<String> = self.stderr.try_iter().collect();
        assert!(st.success(), "sixgate-sim: {st}: {err:?}");
        let s = std::fs::read(dir.path("summary.json")).unwrap();
        serde_json::from_slice(&s).unwrap()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn registration(devices: &[Value], e: [u8; 8]) -> Option<Value> {
    let want = eui_text(e);
    devices
        .iter()
        .filter(|d| d["eui64"] == want.as_str())
        .flat_map(|d| d["entries"].as_array().cloned().unwrap_or_default())
        .find(|x| {
            x["registered"] == true
                && x["addr"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("2001:db8:1:"))
        })
}

/// Polls until node `e` is registered (at most `within`); returns the entry and when.
fn wait_registered(s: &Sim, e: [u8; 8], within: Duration) -> (Value, Duration) {
    let t0 = Instant::now();
    loop {
        if let Some(r) = s.registration(e) {
            return (r, t0.elapsed());
        }
        assert!(
            t0.elapsed() < within,
            "{} not registered within {within:?}: {:?}",
            eui_text(e),
            s.nodes()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The per-peer ZEP figures of the summary, by EUI-64.
fn zep_peer(summary: &Value, e: [u8; 8]) -> Value {
    let want = eui_text(e);
    summary["zep"]["peers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["eui64"] == want.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("no ZEP peer {want}: {}", summary["zep"]))
}

/// One RIOT 6LN alone with the border router: it registers within 10 s with the lifetime it
/// asked for (15 min) and its EUI-64, its address becomes valid, its default route is us.
fn registers(elf: &str) {
    let Some(bin) = riot() else { return };
    let dir = TempDir::new(elf);
    let mut s = Sim::start(&dir, 20, &["--nodes", "0"]);
    let mut node = RiotNode::start(&bin.join(elf), s.zep, eui(1)).unwrap();
    let (r, took) = wait_registered(&s, eui(1), Duration::from_secs(10));
    let lifetime = r["lifetime_s"].as_u64().unwrap();
    assert!(
        (880..=900).contains(&lifetime),
        "lifetime {lifetime} s, asked for 15 min: {r}"
    );
    assert_eq!(r["addr"], "2001:db8:1:0:aa:bbcc:ddee:1");
    // RIOT's side: the address is valid, the default route is the border router.
    node.shell("ifconfig").unwrap();
    let valid = node.wait_for("scope: global  VAL", Duration::from_secs(5));
    assert!(valid.is_some(), "RIOT: {:?}", node.output());
    node.shell("nib route").unwrap();
    assert!(
        node.wait_for("default via fe80::", Duration::from_secs(5))
            .is_some(),
        "RIOT: {:?}",
        node.output()
    );
    eprintln!("{elf}: registered within {took:?} of its start");
    let summary = s.finish(&dir, 60);
    let p = zep_peer(&summary, eui(1));
    eprintln!(
        "{elf}: frames in {} (ACK requests {}, repeated {}), ACKs out {}, BR transmissions \
         deferred for RIOT's deaf time {}",
        p["frames_in"],
        p["ack_requests"],
        p["repeats"],
        p["acks_out"],
        summary["zep"]["br_tx_deferred"]
    );
    assert_eq!(summary["zep"]["malformed"], 0);
    let mac = &summary["border_router"]["counters"]["wpan0"]["mac"];
    assert_eq!(mac["acks_skipped"], 0, "{mac}");
}

#[test]
fn zep_6ln_noack_registers_within_10_s() {
    registers("zep_6ln_noack.elf");
}

#[test]
fn zep_6ln_with_ack_requests_registers_within_10_s() {
    registers("zep_6ln.elf");
}

/// RIOT re-registers a minute before expiry, 14 minutes after a 15-minute registration:
/// too slow for a test. Granted 1 minute (`--max-registration-min 1`; the NA says so),
/// RIOT re-registers after about 30 s. The test watches the entry until 58 s after the first
/// registration (it would expire at 60 s): the refresh must show as a lifetime longer than
/// what was left of the first one. (A fixed 40 s look failed once on a loaded 2-core CI
/// machine; RIOT's timers run on the wall clock.)
#[test]
fn zep_6ln_refreshes_its_registration() {
    let Some(bin) = riot() else { return };
    let dir = TempDir::new("refresh");
    let s = Sim::start(&dir, 90, &["--nodes", "0", "--max-registration-min", "1"]);
    let _node = RiotNode::start(&bin.join("zep_6ln_noack.elf"), s.zep, eui(2)).unwrap();
    let (r, _) = wait_registered(&s, eui(2), Duration::from_secs(10));
    let t0 = Instant::now();
    let first = r["lifetime_s"].as_u64().unwrap();
    assert!((50..=60).contains(&first), "granted 1 minute: {r}");
    let mut last = r;
    while t0.elapsed() < Duration::from_secs(58) {
        std::thread::sleep(Duration::from_secs(1));
        let r = s
            .registration(eui(2))
            .expect("still registered within the 1-minute registration");
        let left = r["lifetime_s"].as_u64().unwrap();
        let expected_without_refresh = first.saturating_sub(t0.elapsed().as_secs());
        if left > expected_without_refresh + 5 {
            eprintln!(
                "refreshed after {:.0} s: {left} s left",
                t0.elapsed().as_secs_f64()
            );
            return;
        }
        last = r;
    }
    panic!("no refresh within 58 s of a 1-minute registration: {last}");
}

/// Whether tshark is there (required under `CI=true`).
fn have_tshark() -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok || !ci(), "tshark is required when CI=true");
    ok
}

/// `tshark -r FILE [extra] -T fields -e …` lines.
fn tshark(file: &Path, extra: &[&str], fields: &[&str]) -> Vec<String> {
    let mut c = Command::new("tshark");
    c.arg("-r").arg(file).args(extra).args(["-T", "fields"]);
    for f in fields {
        c.args(["-e", f]);
    }
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "tshark -r {}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Three RIOT nodes (one with ACK requests) and four smoltcp nodes for 2 minutes: every RIOT
/// node registers and stays registered, every smoltcp node delivers its readings, no pool
/// buffer or reassembly slot is left over; the border router's capture opens in tshark with
/// no malformed frame, and so does the recording of the ZEP datagrams themselves.
#[test]
fn three_riot_and_four_smoltcp_nodes_for_two_minutes() {
    let Some(bin) = riot() else { return };
    let dir = TempDir::new("mixed");
    let cap = dir.path("run.pcapng");
    let zcap = dir.path("zep.pcapng");
    let mut s = Sim::start(
        &dir,
        120,
        &[
            "--nodes",
            "4",
            "--capture",
            cap.to_str().unwrap(),
            "--zep-capture",
            zcap.to_str().unwrap(),
        ],
    );
    let elfs = ["zep_6ln_noack.elf", "zep_6ln_noack.elf", "zep_6ln.elf"];
    let _nodes: Vec<RiotNode> = elfs
        .iter()
        .zip(1u8..)
        .map(|(elf, k)| RiotNode::start(&bin.join(elf), s.zep, eui(10 + k)).unwrap())
        .collect();
    let t0 = Instant::now();
    for k in 1..=3u8 {
        wait_registered(&s, eui(10 + k), Duration::from_secs(15));
    }
    // Stays registered: look every 20 s until the end.
    let mut looks = 0;
    while t0.elapsed() < Duration::from_secs(100) {
        std::thread::sleep(Duration::from_secs(20));
        let devices = s.nodes();
        for k in 1..=3u8 {
            assert!(
                registration(&devices, eui(10 + k)).is_some(),
                "{} lost its registration after {:?}: {devices:?}",
                eui_text(eui(10 + k)),
                t0.elapsed()
            );
        }
        looks += 1;
    }
    assert!(looks >= 4);
    let summary = s.finish(&dir, 90);
    for n in summary["nodes"].as_array().unwrap() {
        let sent = n["readings_sent"].as_u64().unwrap();
        let got = n["readings_delivered"].as_u64().unwrap();
        assert!(sent >= 8, "{n}");
        assert!(got + 1 >= sent, "smoltcp node lost readings: {n}");
    }
    let br = &summary["border_router"];
    assert_eq!(br["pool_accounted"], true, "{br}");
    assert_eq!(
        br["pool_free"], br["pool_size"],
        "pool buffers left over: {br}"
    );
    assert_eq!(br["reassembly_slots_in_use"], 0, "{br}");
    assert_eq!(summary["zep"]["malformed"], 0);
    for k in 1..=3u8 {
        let p = zep_peer(&summary, eui(10 + k));
        eprintln!(
            "RIOT {}: frames in {} (ACK requests {}, repeated {}), out {} (ACKs {}), filtered {}",
            eui_text(eui(10 + k)),
            p["frames_in"],
            p["ack_requests"],
            p["repeats"],
            p["frames_out"],
            p["acks_out"],
            p["filtered"]
        );
    }
    if !have_tshark() {
        eprintln!("tshark not installed: captures not checked");
        return;
    }
    // The border router's capture: RIOT's frames are in it, nothing is malformed.
    let lines = tshark(
        &cap,
        &[],
        &["wpan.src64", "_ws.malformed", "_ws.expert.message"],
    );
    assert!(lines.len() > 100, "{} frames", lines.len());
    for k in 1..=3u8 {
        let e = eui_text(eui(10 + k));
        assert!(lines.iter().any(|l| l.starts_with(&e)), "no frame from {e}");
    }
    let bad: Vec<&String> = lines
        .iter()
        .filter(|l| l.split('\t').nth(1).is_some_and(|m| !m.is_empty()))
        .collect();
    assert!(bad.is_empty(), "malformed frames in the capture: {bad:?}");
    // The ZEP traffic itself, decoded as ZEP by port.
    let port = s.zep.port();
    let dissect = format!("udp.port=={port},zep");
    let z = tshark(
        &zcap,
        &["-d", &dissect],
        &[
            "zep.version",
            "zep.channel_id",
            "wpan.fcs_ok",
            "_ws.malformed",
        ],
    );
    // Three quiet RIOT hosts: their RS, RA, NS/NA and ACKs (57 in a 2-minute run).
    assert!(z.len() >= 30, "{} datagrams", z.len());
    for l in &z {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f.first(), Some(&"2"), "{l}");
        assert_eq!(f.get(1), Some(&"26"), "{l}");
        assert_eq!(f.get(2), Some(&"1"), "FCS: {l}");
        assert_eq!(f.get(3), Some(&""), "malformed: {l}");
    }
}
