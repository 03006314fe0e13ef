//! A RIOT OS host under one of OUR mesh routers (issue 23, "Evidence", second bullet): a RIOT
//! `zep_6ln` 6LoWPAN-ND host (gnrc, RPL-unaware) whose radio hears only router r2 of
//! `sixgate-sim --routers 2 --nodes 0 --topology line` (`--zep-links`: the border router, r1,
//! r2 in a line, RIOT beside r2), so the border router is three radio hops from it:
//!
//! ```text
//!   Linux (netns, TAP) ── br ── r1 ── r2 ── RIOT
//! ```
//!
//! - RIOT registers with r2 (r2's 6LR answers RS with an RA, NS+ARO with NA+ARO status 0);
//!   r2 advertises it in its DAO as a target (RFC 9010), so the root's `sixgate topology
//!   --json` shows RIOT's global address with parent r2's address and depth 3;
//! - the Linux kernel in the simulator's namespace (its only route to the mesh from the border
//!   router's RA Route Information Option) pings RIOT's global address 20 times with 56 bytes
//!   and 20 times with 1232 bytes: 20/20 each;
//! - the root reaches RIOT through its tunnel to r2: r1 forwards along the source route
//!   (`srh_forwarded`), r2 leaves the tunnel (`decapsulated`) and hands the inner packet to
//!   RIOT; RIOT's replies go up to r2, its default router;
//! - the simulator stops cleanly (every pool buffer accounted for and free, no reassembly slot
//!   held, no malformed ZEP datagram); tshark finds no malformed frame in either capture and
//!   the test prints what each side sent over ZEP (docs/interop.md, "RIOT host under a
//!   sixgate router").
//!
//! Once with ACK requests (`zep_6ln.elf`), once without (`zep_6ln_noack.elf`).
//!
//! Needs root (namespace, TAP), `/dev/net/tun`, `ip`, `ping`, `tshark` and the RIOT peers
//! (`sim::peers::riot_bin`): without them each test says why and passes, unless `CI=true`.
//! Every process is killed on drop, failure included: the simulator by its PID, RIOT by its
//! process group; then the namespace is deleted.
//!
//! Run: `cargo test -p sixgate-sim --test riot_mesh -- --nocapture --test-threads 1`
//! (about a minute per test; the tests also take a lock so that they never overlap).

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
/// RIOT's default PAN ID (`DEFAULT_PAN_ID` at build time): the mesh runs on it.
const RIOT_PAN: &str = "0x23";
/// The border router's DODAG ID (its mesh address with the default configuration).
const DODAG_ID: &str = "2001:db8:1::5eff:fe00:1";
/// The mesh prefix.
const MESH: &str = "2001:db8:1::/64";
/// The Linux host's address on the backbone.
const LINUX_HOST: &str = "2001:db8::2";
/// The router RIOT hears: r2, radio 2 (the border router is radio 0, the routers 1..=N).
const R2_RADIO: &str = "2";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// One RIOT test at a time (in this binary): each runs the simulator and RIOT in real time,
/// and RIOT wants an ACK within 864 µs of wall clock.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
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

/// The global address RIOT forms from `eui(k)` on the mesh prefix (SLAAC, the EUI-64's U/L
/// bit flipped).
fn riot_addr(k: u8) -> String {
    format!("2001:db8:1:0:aa:bbcc:ddee:{k:x}")
}

/// Whether `tool` is an executable file in `PATH`.
fn have(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| {
            std::fs::metadata(d.join(tool))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// What the test needs beyond the RIOT peers, or why it cannot run.
fn prerequisites() -> Result<(), String> {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false);
    if !root {
        return Err("not root (network namespaces and TAP devices need CAP_NET_ADMIN)".into());
    }
    for (tool, package) in [
        ("ip", "iproute2"),
        ("ping", "iputils-ping"),
        ("tshark", "tshark"),
    ] {
        if !have(tool) {
            return Err(format!("`{tool}` not found (install {package})"));
        }
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err("/dev/net/tun is missing".into());
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err("`ip netns list` fails: network namespaces unavailable".into()),
    }
}

/// A fresh directory under the system temp dir: kept when the test fails (its captures and
/// summary say why) or with `SIXGATE_KEEP` set, removed otherwise.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p =
            std::env::temp_dir().join(format!("sixgate-riot-mesh-{}-{name}", std::process::id()));
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
        if std::thread::panicking() || std::env::var_os("SIXGATE_KEEP").is_some() {
            eprintln!("riot_mesh: kept {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
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

/// A network namespace with loopback up and host sysctls (no forwarding, RAs and their /64
/// Route Information Options taken), deleted on drop — after the processes in it, which are
/// declared after it and so dropped first.
struct Netns(String);

impl Netns {
    fn new(name: String) -> Netns {
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let st = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap();
        assert!(st.success(), "ip netns add {name}");
        let ns = Netns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        for (key, value) in [
            ("all/forwarding", "0"),
            ("default/accept_ra", "1"),
            ("default/accept_ra_rt_info_max_plen", "64"),
        ] {
            let o = ns
                .exec(&[
                    "sh",
                    "-c",
                    &format!("echo {value} > /proc/sys/net/ipv6/conf/{key}"),
                ])
                .output()
                .unwrap();
            assert!(o.status.success(), "sysctl {key}: {o:?}");
        }
        ns
    }

    fn exec(&self, cmd: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).args(cmd);
        c
    }

    /// `ip -n NS ARGS`, which must succeed; its stdout.
    fn ip(&self, args: &[&str]) -> String {
        let o = Command::new("ip")
            .args(["-n", &self.0])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "ip -n {} {args:?}: {o:?}", self.0);
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `ping -6 -n ARGS` in the namespace: its output.
    fn ping(&self, args: &[&str]) -> String {
        let mut cmd = vec!["ping", "-6", "-n"];
        cmd.extend_from_slice(args);
        let o = self.exec(&cmd).output().unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// `sixgate-sim` inside the namespace (`ip netns exec` execs it: the child's PID is the
/// simulator's), with a ZEP socket on the namespace's `[::1]`, a PTY and a summary; SIGINT
/// then SIGKILL on drop.
struct Sim {
    child: Child,
    pty: PathBuf,
    zep: SocketAddr,
    stderr: Receiver<String>,
}

impl Sim {
    fn start(ns: &Netns, dir: &TempDir, secs: u32, extra: &[&str]) -> Sim {
        let pty = dir.path("pty");
        let summary = dir.path("summary.json");
        let secs = secs.to_string();
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &ns.0, SIM]);
        c.args(["--zep", "[::1]:0", "--pan-id", RIOT_PAN, "--serial-pty"])
            .arg(&pty)
            .args(["--duration", &secs, "--summary-json"])
            .arg(&summary)
            .args(extra);
        let mut child = c
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
                let _ = c.wait();
                panic!("sixgate {args:?} hung");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        c.wait_with_output().unwrap()
    }

    /// `sixgate --json ARGS`, which must succeed.
    fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let o = self.sixgate(&a);
        assert!(
            o.status.success(),
            "sixgate {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap()
    }

    /// `sixgate topology --json`'s nodes.
    fn topology(&self) -> Vec<Value> {
        let t = self.json(&["topology"]);
        assert_eq!(t["root"], DODAG_ID, "{t}");
        t["nodes"].as_array().cloned().unwrap_or_default()
    }

    /// Stops the simulator as Ctrl-C does (it then writes its captures and summary) and reads
    /// the summary.
    fn stop(&mut self, dir: &TempDir) -> Value {
        let st = Command::new("kill")
            .args(["-s", "INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success(), "kill -INT sixgate-sim");
        let t0 = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "sixgate-sim did not stop on SIGINT"
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
    /// SIGINT first (the simulator then completes its captures), SIGKILL after 5 s.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-s", "INT", &self.child.id().to_string()])
                .status();
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(5) && matches!(self.child.try_wait(), Ok(None))
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `N packets transmitted, M received`.
fn ping_counts(out: &str) -> Option<(u32, u32)> {
    let line = out.lines().find(|l| l.contains("packets transmitted"))?;
    let mut w = line.split(',').map(str::trim);
    let tx = w.next()?.split_whitespace().next()?.parse().ok()?;
    let rx = w.next()?.split_whitespace().next()?.parse().ok()?;
    Some((tx, rx))
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

/// `tshark -r FILE [extra]`: the one-line summaries.
fn tshark_lines(file: &Path, extra: &[&str]) -> Vec<String> {
    let o = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "tshark -r {}: {o:?}", file.display());
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The topology node with this address.
fn node<'a>(topo: &'a [Value], addr: &str) -> Option<&'a Value> {
    topo.iter().find(|n| n["address"] == addr)
}

/// The summary's router `name` (`r1`, `r2`).
fn router<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["routers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no router {name}: {}", summary["routers"]))
}

/// RIOT `elf` (EUI-64 `eui(k)`; `acks`: it requests MAC ACKs) beside r2 of a three-node
/// line; see the module docs.
fn riot_host_under_r2(elf: &str, k: u8, acks: bool) {
    if let Err(why) = prerequisites() {
        assert!(!ci(), "CI=true, but the RIOT mesh test cannot run: {why}");
        eprintln!("skipping: {why}");
        return;
    }
    let _one_at_a_time = serial();
    let Some(bin) = riot() else { return };
    let t0 = Instant::now();
    let at = || format!("[{:>5.1}s]", t0.elapsed().as_secs_f64());
    let pid = std::process::id();
    let dir = TempDir::new(&k.to_string());
    let e = eui(k);
    let addr = riot_addr(k);
    let links = dir.path("links");
    std::fs::write(
        &links,
        format!(
            "# RIOT hears r2 (radio {R2_RADIO}) only\n{} {R2_RADIO}\n",
            eui_text(e)
        ),
    )
    .unwrap();
    // Dropped in reverse: RIOT, the simulator, then the namespace.
    let ns = Netns::new(format!("sgrm{pid}{k}"));
    let tap = format!("sgrm{pid}{k}");
    let cap = dir.path("run.pcapng");
    let zcap = dir.path("zep.pcapng");
    let mut s = Sim::start(
        &ns,
        &dir,
        300,
        &[
            "--routers",
            "2",
            "--nodes",
            "0",
            "--topology",
            "line",
            "--zep-links",
            links.to_str().unwrap(),
            "--eth",
            &format!("tap:{tap}"),
            "--capture",
            cap.to_str().unwrap(),
            "--zep-capture",
            zcap.to_str().unwrap(),
        ],
    );
    ns.ip(&[
        "-6",
        "addr",
        "add",
        &format!("{LINUX_HOST}/64"),
        "dev",
        &tap,
        "nodad",
    ]);
    ns.ip(&["link", "set", &tap, "up"]);
    let route = loop {
        let r = ns.ip(&["-6", "route", "show", MESH]);
        if r.contains("proto ra") && r.contains("via fe80::") {
            break r;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no RA route to {MESH}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    println!("{} kernel route: {}", at(), route.trim());

    let wrapper = ["ip", "netns", "exec", ns.0.as_str()];
    let mut riot = RiotNode::start_in(&wrapper, &bin.join(elf), s.zep, e).unwrap();

    // RIOT registers with r2; r2's DAO makes it a target of the root, under r2.
    let (topo, took) = loop {
        let topo = s.topology();
        if node(&topo, &addr).is_some() {
            break (topo, t0.elapsed());
        }
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "{addr} ({elf}) not in the root's topology after {:?}:\n{}\nRIOT: {:?}",
            t0.elapsed(),
            serde_json::to_string_pretty(&topo).unwrap(),
            riot.output()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    println!(
        "{} {elf}: {addr} in the root's topology at {took:?}:\n{}",
        at(),
        serde_json::to_string_pretty(&topo).unwrap()
    );
    let r1 = topo
        .iter()
        .find(|n| n["depth"] == 1)
        .unwrap_or_else(|| panic!("no depth-1 router: {topo:?}"));
    let r2 = topo
        .iter()
        .find(|n| n["depth"] == 2)
        .unwrap_or_else(|| panic!("no depth-2 router: {topo:?}"));
    let r2_addr = r2["address"].as_str().unwrap().to_string();
    assert_eq!(r1["parent"], DODAG_ID, "{r1}");
    assert_eq!(r2["parent"], r1["address"], "{r2}");
    let h = node(&topo, &addr).unwrap();
    assert_eq!(h["parent"], r2_addr.as_str(), "RIOT under r2: {h}");
    assert_eq!(h["depth"], 3, "{h}");

    // RIOT's side: its global address is valid, its default router is r2.
    riot.shell("ifconfig").unwrap();
    assert!(
        riot.wait_for("scope: global  VAL", Duration::from_secs(5))
            .is_some(),
        "RIOT: {:?}",
        riot.output()
    );
    riot.shell("nib route").unwrap();
    let default = riot
        .wait_for("default via fe80::", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("RIOT has no default route: {:?}", riot.output()));
    println!("{} RIOT: {}", at(), default.trim());

    // The Linux kernel pings RIOT, three radio hops away: 20/20 at 56 and at 1232 bytes. One
    // 1232-byte echo in flight at a time: its round trip is 0.7-0.8 s, and at `-i 1` on a
    // loaded machine the next request went down while a reply came up (the border router
    // sending its fragments as r1 sent its own: one of r1's fragments lost after its retries).
    let mut results = Vec::new();
    for (size, interval) in [("56", "0.3"), ("1232", "1.5")] {
        let out = ns.ping(&[
            "-c", "20", "-i", interval, "-s", size, "-W", "5", "-w", "60", &addr,
        ]);
        let counts = ping_counts(&out);
        let rtt = out.lines().find(|l| l.starts_with("rtt")).unwrap_or("");
        println!(
            "{} Linux ping -s {size:>4} {addr} ({elf}): {counts:?} (sent, received), {rtt}",
            at()
        );
        results.push((size, counts, out));
    }
    drop(riot);
    let summary = s.stop(&dir);
    let (r1s, r2s) = (router(&summary, "r1"), router(&summary, "r2"));
    assert_eq!(r2s["address"], r2_addr.as_str(), "{r2s}");
    println!(
        "r1 counters: {}\nr2 counters: {}",
        r1s["counters"], r2s["counters"]
    );
    println!(
        "ZEP peer: {}\nZEP bridge: malformed {}, acks held {}, ACK graces expired {}",
        summary["zep"]["peers"],
        summary["zep"]["malformed"],
        summary["zep"]["acks_held"],
        summary["zep"]["ack_grace_expired"]
    );
    // `-c 20 -w 60`: ping sends until 20 replies came. With ACK requests every echo is
    // answered; without them a frame of RIOT's lost to a collision is lost for good, and
    // r1, which cannot hear RIOT, is a hidden terminal: its DIO once overlapped the last
    // fragment of a 1232-byte reply at r2. At most 2 such losses in 20.
    let lost_at_most = if acks { 0 } else { 2 };
    for (size, counts, out) in &results {
        let (sent, got) = counts.unwrap_or_else(|| panic!("ping -s {size}: {out}"));
        assert!(
            got == 20 && sent <= 20 + lost_at_most,
            "Linux ping -s {size} {addr} ({elf}): {sent} sent, {got} received:\n{out}"
        );
    }
    // Down the root's tunnel: r1 forwards by the source route, r2 leaves the tunnel.
    let echoes = 2 * 20;
    assert!(
        r1s["counters"]["srh_forwarded"].as_u64().unwrap() >= echoes,
        "r1 forwarded along the source route: {}",
        r1s["counters"]
    );
    assert!(
        r2s["counters"]["decapsulated"].as_u64().unwrap() >= echoes,
        "r2 left the root's tunnel: {}",
        r2s["counters"]
    );
    let br = &summary["border_router"];
    for n in [br, r1s, r2s] {
        assert_eq!(n["pool_accounted"], true, "{n}");
        assert_eq!(n["pool_free"], n["pool_size"], "pool buffers left: {n}");
        assert_eq!(n["reassembly_slots_in_use"], 0, "{n}");
    }
    assert_eq!(summary["zep"]["malformed"], 0);

    // The captures: nothing malformed; what RIOT and r2 said to each other over ZEP.
    for c in [&cap, &zcap] {
        let bad = tshark(
            c,
            &[
                "-d",
                &format!("udp.port=={},zep", s.zep.port()),
                "-Y",
                "_ws.malformed",
            ],
            &["frame.number"],
        );
        assert!(
            bad.is_empty(),
            "malformed frames in {}: {bad:?}",
            c.display()
        );
    }
    zep_excerpt(&zcap, s.zep.port(), e, &addr, &r2_addr);
    // The border router's radio: the echo requests to RIOT leave inside the tunnel to r2.
    let tunnelled = tshark(
        &cap,
        &[
            "-Y",
            &format!("wpan && ipv6.dst == {addr} && icmpv6.type == 128"),
        ],
        &["ipv6.dst"],
    );
    assert!(!tunnelled.is_empty(), "no echo request to {addr} on wpan0");
    println!("border router wpan0, echo requests to RIOT (outer, inner ipv6.dst):");
    for l in tunnelled.iter().take(2) {
        println!("  {l}");
    }
    println!("{} done", at());
}

/// Asserts that RIOT's NS with ARO was answered by r2 (MAC source r2's radio, NA with ARO
/// status 0) and prints the ND exchange and the first echoes as tshark shows them.
fn zep_excerpt(zcap: &Path, port: u16, e: [u8; 8], addr: &str, r2_addr: &str) {
    let dissect = format!("udp.port=={port},zep");
    let na = tshark(
        zcap,
        &[
            "-d",
            &dissect,
            "-Y",
            "icmpv6.type == 136 && icmpv6.opt.aro.status == 0",
        ],
        &["wpan.src64", "wpan.dst64", "ipv6.src", "ipv6.dst"],
    );
    let want = eui_text(e);
    assert!(
        na.iter()
            .any(|l| l.split('\t').nth(1) == Some(want.as_str())),
        "no NA with ARO status 0 to {want} in the ZEP capture: {na:?}"
    );
    let nd = tshark_lines(
        zcap,
        &[
            "-d",
            &dissect,
            "-Y",
            "icmpv6.type >= 133 && icmpv6.type <= 136",
        ],
    );
    println!("ZEP capture, neighbour discovery ({} datagrams):", nd.len());
    for l in nd.iter().take(12) {
        println!("  {l}");
    }
    let opts = tshark(
        zcap,
        &[
            "-d",
            &dissect,
            "-Y",
            "icmpv6.type >= 133 && icmpv6.type <= 136",
        ],
        &[
            "frame.number",
            "wpan.src64",
            "wpan.ack_request",
            "icmpv6.type",
            "icmpv6.opt.type",
            "icmpv6.opt.aro.status",
            "icmpv6.opt.aro.registration_lifetime",
            "icmpv6.opt.aro.eui64",
            "icmpv6.opt.prefix",
            "icmpv6.opt.6co.context_prefix",
            "icmpv6.opt.abro.6lbr_address",
        ],
    );
    println!(
        "  (frame, MAC source, ACK request, ICMPv6 type, options, ARO status, ARO lifetime \
         (min), ARO EUI-64, PIO prefix, 6CO prefix, ABRO 6LBR address)"
    );
    for l in opts.iter().take(6) {
        println!("  {l}");
    }
    let echo = tshark_lines(
        zcap,
        &[
            "-d",
            &dissect,
            "-Y",
            &format!(
                "ipv6.dst == {addr} && icmpv6.type == 128 || ipv6.src == {addr} && icmpv6.type == 129"
            ),
        ],
    );
    println!(
        "ZEP capture, echoes to and from {addr} (r2 {r2_addr}), the first four of {}:",
        echo.len()
    );
    for l in echo.iter().take(4) {
        println!("  {l}");
    }
}

#[test]
fn zep_6ln_under_a_router_two_hops_away_is_pinged_by_the_linux_kernel() {
    riot_host_under_r2("zep_6ln.elf", 0x41, true);
}

#[test]
fn zep_6ln_noack_under_a_router_two_hops_away_is_pinged_by_the_linux_kernel() {
    riot_host_under_r2("zep_6ln_noack.elf", 0x42, false);
}

/// `--zep-links` names simulated nodes by radio index (the routers, then the leaves); an
/// index beyond the run's nodes is a usage error (exit 2), not a link to nobody. (Before,
/// router radios were not in the bridge's list: `PEER 2` with `--routers 2 --nodes 0` was
/// accepted and linked the peer to nothing.)
#[test]
fn zep_links_name_routers_by_radio_index_and_refuse_unknown_ones() {
    let dir = TempDir::new("links");
    let links = dir.path("links");
    for (radio, nodes, ok) in [("2", "0", true), ("3", "0", false), ("3", "1", true)] {
        std::fs::write(&links, format!("02:aa:bb:cc:dd:ee:00:01 {radio}\n")).unwrap();
        let o = Command::new(SIM)
            .args(["--routers", "2", "--nodes", nodes, "--zep", "[::1]:0"])
            .args(["--duration", "0.1", "--zep-links"])
            .arg(&links)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        if ok {
            assert!(o.status.success(), "radio {radio}, --nodes {nodes}: {err}");
        } else {
            assert_eq!(o.status.code(), Some(2), "{err}");
            assert!(
                err.contains("radio 3 is no simulated node (radios 1..=2"),
                "{err}"
            );
        }
    }
}

/// A router's RA carries the root's ABRO: RFC 6775 §4.3 (and RFC 8505 §7) make the 6LBR
/// Address "the IPv6 address of the 6LBR that is the origin of the included version
/// number", and a 6LR passes on what its 6LBR sent. Seen in the RIOT run above: r2's RAs to
/// RIOT (ZEP capture frames 4 and 281) carry ABRO 6LBR address `2001:db8:1::5eff:fe00:1002`,
/// r2's own, and the version from r2's own copy of the configuration, so a host under a
/// router would not follow a new ABRO version of the root (prefix change). Checked here
/// on r1's RAs as the border router hears them (no RIOT, no root privileges: tshark only).
#[test]
fn a_routers_ra_names_the_root_as_6lbr_in_its_abro() {
    if !have("tshark") {
        assert!(!ci(), "tshark is required when CI=true");
        eprintln!("skipping: `tshark` not found (install tshark)");
        return;
    }
    let dir = TempDir::new("abro");
    let cap = dir.path("run.pcapng");
    let o = Command::new(SIM)
        .args(["--routers", "1", "--nodes", "0", "--duration", "20"])
        .arg("--capture")
        .arg(&cap)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ras = tshark(
        &cap,
        &["-Y", "wpan && icmpv6.type == 134"],
        &["wpan.src64", "icmpv6.opt.abro.6lbr_address"],
    );
    let r1: Vec<&String> = ras
        .iter()
        .filter(|l| l.starts_with("02:00:5e:ff:fe:00:10:01"))
        .collect();
    assert!(!r1.is_empty(), "no RA from r1: {ras:?}");
    for l in r1 {
        assert_eq!(
            l.split('\t').nth(1),
            Some(DODAG_ID),
            "r1's RA: ABRO 6LBR address not the root's: {l}"
        );
    }
}

/// A router tunnels a host's packet up to the root (RFC 9008 §7, non-storing mode: a packet
/// from an RPL-unaware leaf gets an IPv6-in-IPv6 header from the 6LR to the root, with the
/// RPL Option; issue 23, "upward tunnelling to the root per RFC 9008"). Seen in the RIOT run
/// above: RIOT's echo replies reach the border router from r1 bare (one IPv6 header, source
/// RIOT, destination the Linux host, no hop-by-hop header), as do a smoltcp leaf's readings
/// here (`--routers 1 --nodes 1 --topology line`; no RIOT, no root privileges: tshark only).
#[test]
fn a_router_tunnels_a_hosts_packets_up_to_the_root() {
    if !have("tshark") {
        assert!(!ci(), "tshark is required when CI=true");
        eprintln!("skipping: `tshark` not found (install tshark)");
        return;
    }
    let dir = TempDir::new("upward");
    let cap = dir.path("run.pcapng");
    let o = Command::new(SIM)
        .args(["--routers", "1", "--nodes", "1", "--topology", "line"])
        .args(["--duration", "40", "--capture"])
        .arg(&cap)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The leaf's readings (UDP to the backbone host) as r1 sends them to the border router.
    let up = tshark(
        &cap,
        &["-Y", "wpan.src64 == 02:00:5e:ff:fe:00:10:01 && udp"],
        &["ipv6.src", "ipv6.dst"],
    );
    assert!(!up.is_empty(), "no reading forwarded by r1");
    for l in &up {
        let f: Vec<&str> = l.split('\t').collect();
        assert!(
            f.first()
                .is_some_and(|s| s.starts_with("2001:db8:1::5eff:fe00:1001,"))
                && f.get(1)
                    .is_some_and(|d| d.starts_with(&format!("{DODAG_ID},"))),
            "r1 -> br, not tunnelled from r1 to the root (outer, inner): {l}"
        );
    }
}
