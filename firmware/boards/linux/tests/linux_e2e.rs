//! A Linux host ↔ the simulated mesh through the border router, for real.
//!
//! `sixgate-sim --eth tap:NAME --serial-pty …` runs inside a network namespace this test
//! creates; the Linux kernel on the other end of the TAP is the backbone host. The kernel gets
//! an address on the backbone (`2001:db8::2/64`, where the simulated nodes send their
//! readings) and host sysctls (`forwarding=0`, `accept_ra=1`, `accept_ra_rt_info_max_plen=64`
//! so that it takes /64 Route Information Options); no route is added by hand. Shown, in
//! order:
//! 1. the kernel installs the mesh route from the border router's RA Route Information Option
//!    (`proto ra`, via the border router's link-local address), and no default route;
//! 2. every node answers UDP echo (32-byte and 1232-byte payloads, the second a 1280-byte
//!    datagram fragmented on the mesh) through an ordinary `std::net::UdpSocket` bound inside
//!    the namespace;
//! 3. `ping -6` reaches every node with 0 % loss over 20 echoes of 56 bytes and 20 of 1232
//!    bytes;
//! 4. a 1400-byte ping gets ICMPv6 Packet Too Big (MTU 1280) from the border router and the
//!    kernel's path-MTU cache says `mtu 1280`;
//! 5. hop limit 1 toward the mesh gets Time Exceeded from the border router's backbone
//!    address; hop limit 2 reaches the node (the border router is the only hop);
//! 6. the nodes' periodic readings arrived at a UDP socket bound inside the namespace during
//!    the run (each answered there; the nodes count the answers, read back from
//!    `--summary-json`);
//! 7. the simulator stops cleanly on SIGINT, and its `--capture` opens in `tshark` without a
//!    malformed or error-severity frame and holds 802.15.4 (6LoWPAN, good FCS) and Ethernet
//!    frames (the RA with the RIO, the Packet Too Big and the Time Exceeded among them);
//! 8. the namespace and the TAP are gone afterwards: a `Drop` guard kills the simulator and
//!    the helpers and deletes them, also when the test fails (then it keeps the capture and
//!    the simulator's output and says where).
//!
//! The socket work runs in child processes inside the namespace: this very test binary, via
//! `ip netns exec NS <test binary> --exact netns_udp_helper --ignored`, told what to do by an
//! environment variable (without it the helper does nothing). The collector runs for the
//! whole test; the echo client runs once.
//!
//! Three things shape the run so that "0 % loss" is a property, not luck. Two are the
//! simulated nodes' (smoltcp behind our soft-MAC), one is a known limit of our MAC:
//! - the mesh is `--topology full-mesh` (every radio hears every other, as in one room). In a
//!   star the leaves are hidden terminals to each other: a reading that overlaps another
//!   node's fragment burst collides at the border router through every MAC retry and costs
//!   that datagram (`tests/e2e.rs` covers those losses);
//! - smoltcp keeps a neighbour entry 60 s, has no NUD, and drops the packet that finds the
//!   entry expired (it sends an NS instead). So the first echo of each node's first ping is
//!   lost (that is the reachability poll), and every node's echoes are done within the next
//!   minute; readings come every 15 s (UDP waits for the resolution, nothing is lost);
//! - one 1232-byte echo is in flight at a time (`-i 0.4`, the round trip is about 180 ms).
//!   When the border router's fragments to a node overlap that node's own 13-frame reply,
//!   its CSMA/CA meets a busy channel macMaxCSMABackoffs + 1 times in a row often enough, and
//!   a channel-access failure is not retried (`l2-15_4`'s MAC reports it, `wpan0` aborts the
//!   datagram); the same happens to a node's reading during a burst.
//!
//! Needs root, `/dev/net/tun`, `ip` (iproute2), `ping` (iputils-ping) and `tshark`. Without
//! them it prints `linux_e2e skipped: <reason>` and passes, unless `CI=true`, where it fails.
//!
//! Run: `cargo test -p sixgate-sim --test linux_e2e -- --nocapture` (about 50 s).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::net::{Ipv6Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sixgate_sim::simnet::{BR_BACKBONE_ADDR, COLLECTOR_PORT, ECHO_PORT, HOST_ADDR, READING_PORT};

/// The simulator binary of this package.
const SIM: &str = env!("CARGO_BIN_EXE_sixgate-sim");
/// Simulated mesh nodes.
const NODES: u16 = 4;
/// Seconds between a node's readings (plus up to 2 s of jitter).
const READING_PERIOD: &str = "15";
/// The mesh prefix given to the simulator.
const MESH: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0);
/// The helper's job: `collector:ADDR,ADDR…` or `echo:ADDR,ADDR…` (the nodes).
const HELPER_ENV: &str = "SIXGATE_LINUX_E2E_UDP";
/// Prefix of the helper's result lines on its stdout.
const HELPER_TAG: &str = "linux-e2e-udp";
/// Readings each node must deliver to the collector socket.
const READINGS_PER_NODE: u32 = 1;
/// How long the collector waits for them after it is told to finish.
const COLLECTOR_SECS: u64 = 60;
/// Payload of a reading (`sim::smol::SensorConfig::payload_len` as `World` sets it).
const READING_LEN: usize = 24;
/// smoltcp's neighbour-entry lifetime (see the module docs).
const SMOLTCP_NEIGHBOR_LIFETIME: Duration = Duration::from_secs(60);

/// Node `index`'s global address: the mesh prefix and the IID of its EUI-64 (U/L bit
/// flipped), as the nodes form it by SLAAC from the border router's RA.
fn node_addr(index: u16) -> Ipv6Addr {
    let mut iid = sim::mac_node::eui64(index);
    iid[0] ^= 0x02;
    let mut a = MESH.octets();
    a[8..].copy_from_slice(&iid);
    Ipv6Addr::from(a)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Whether `tool` is an executable file in `PATH` (where `Command` looks for it).
fn have(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| {
            std::fs::metadata(d.join(tool))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// What this test needs from the machine, or why it cannot run.
fn prerequisites() -> Result<(), String> {
    if !is_root() {
        return Err(
            "not root (network namespaces and TAP devices need CAP_NET_ADMIN); \
                    run as root: sudo -E cargo test -p sixgate-sim --test linux_e2e"
                .into(),
        );
    }
    for (tool, package) in [
        ("ip", "iproute2"),
        ("ping", "iputils-ping"),
        ("tshark", "tshark"),
    ] {
        if !have(tool) {
            return Err(format!(
                "`{tool}` not found in PATH (install the {package} package)"
            ));
        }
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err(
            "/dev/net/tun is missing (modprobe tun, or pass the device into the \
                    container)"
                .into(),
        );
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "`ip netns list` fails ({}): network namespaces unavailable",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run `ip netns list`: {e}")),
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The namespace, the processes running in it and the run's files. Dropping it kills the
/// processes, deletes the TAP device and the namespace, and removes the files unless the
/// test is failing.
struct Lab {
    ns: String,
    tap: String,
    dir: PathBuf,
    sim: Option<Child>,
    helpers: Vec<Child>,
}

impl Lab {
    fn new() -> Lab {
        let pid = std::process::id();
        let lab = Lab {
            ns: format!("sgle2e{pid}"),
            tap: format!("sgt{pid}"),
            dir: std::env::temp_dir().join(format!("sixgate-linux-e2e-{pid}")),
            sim: None,
            helpers: Vec::new(),
        };
        // Leftovers of an earlier run that had our pid (killed before its guard ran).
        let _ = Command::new("ip").args(["netns", "del", &lab.ns]).output();
        let _ = std::fs::remove_dir_all(&lab.dir);
        std::fs::create_dir_all(&lab.dir).expect("create the run directory");
        let out = Command::new("ip")
            .args(["netns", "add", &lab.ns])
            .output()
            .expect("run ip");
        assert!(out.status.success(), "ip netns add: {}", text(&out));
        lab
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A command inside the namespace.
    fn exec(&self, cmd: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns]).args(cmd);
        c
    }

    /// `ip -n NS ARGS`, which must succeed; its stdout.
    fn ip(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.ns])
            .args(args)
            .output()
            .expect("run ip");
        assert!(
            out.status.success(),
            "ip -n {} {args:?}: {}",
            self.ns,
            text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn sysctl(&self, key: &str, value: &str) {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let out = self
            .exec(&["sh", "-c", &format!("echo {value} > {path}")])
            .output()
            .expect("run sh");
        assert!(out.status.success(), "sysctl {key}={value}: {}", text(&out));
    }

    fn read_sysctl(&self, key: &str) -> String {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let out = self.exec(&["cat", &path]).output().expect("run cat");
        text(&out).trim().to_string()
    }

    /// `ping -6 -n ARGS` inside the namespace (ARGS carry their own `-w` deadline); its
    /// output.
    fn ping(&self, args: &[&str]) -> String {
        let mut cmd = vec!["ping", "-6", "-n"];
        cmd.extend_from_slice(args);
        let out = self.exec(&cmd).output().expect("run ping");
        text(&out)
    }

    /// This test binary's [`netns_udp_helper`] inside the namespace, doing `job`.
    fn helper(&self, job: &str) -> Command {
        let me = std::env::current_exe().expect("test binary path");
        let me = me.to_str().expect("test binary path is UTF-8");
        let mut c = self.exec(&[
            me,
            "--exact",
            "netns_udp_helper",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ]);
        c.env(HELPER_ENV, job);
        c
    }

    fn start_sim(&mut self) {
        let log = File::create(self.path("sim.log")).expect("create sim.log");
        let tap = format!("tap:{}", self.tap);
        let nodes = NODES.to_string();
        let prefix = format!("{MESH}/64");
        let pty = self.path("pty").display().to_string();
        let capture = self.path("run.pcapng").display().to_string();
        let summary = self.path("summary.json").display().to_string();
        let child = self
            .exec(&[
                SIM,
                "--eth",
                &tap,
                "--nodes",
                &nodes,
                "--topology",
                "full-mesh",
                "--prefix",
                &prefix,
                "--serial-pty",
                &pty,
                "--capture",
                &capture,
                "--summary-json",
                &summary,
                "--reading-period",
                READING_PERIOD,
                // A cap in case this process dies before it can stop the simulator; the test
                // stops it with SIGINT long before.
                "--duration",
                "300",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup sim.log"))
            .stderr(log)
            .spawn()
            .expect("spawn sixgate-sim");
        self.sim = Some(child);
    }

    fn sim_log(&self) -> String {
        std::fs::read_to_string(self.path("sim.log")).unwrap_or_default()
    }

    /// Panics (with the simulator's output) if the simulator has exited.
    fn check_sim_running(&mut self) {
        let exited = self.sim.as_mut().map(|c| c.try_wait());
        if let Some(Ok(Some(status))) = exited {
            panic!("sixgate-sim exited early ({status}):\n{}", self.sim_log());
        }
    }

    /// Poll `f` every 100 ms until it gives a value or `secs` pass (a generous deadline,
    /// not a timing assertion).
    fn poll<T>(&mut self, secs: u64, what: &str, mut f: impl FnMut(&Lab) -> Option<T>) -> T {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            self.check_sim_running();
            if let Some(v) = f(self) {
                return v;
            }
            assert!(
                Instant::now() < end,
                "{what}: not within {secs} s\nroutes:\n{}\nsixgate-sim:\n{}",
                self.ip(&["-6", "route", "show"]),
                self.sim_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stop the simulator as Ctrl-C does (it then finishes the capture and the summary).
    fn stop_sim(&mut self) {
        let mut child = self.sim.take().expect("simulator running");
        // `ip netns exec` execs the command, so the child is the simulator itself.
        let out = Command::new("sh")
            .args(["-c", &format!("kill -INT {}", child.id())])
            .output()
            .expect("run kill");
        assert!(out.status.success(), "kill -INT: {}", text(&out));
        let end = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait for sixgate-sim") {
                break s;
            }
            if Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                panic!("sixgate-sim did not stop on SIGINT:\n{}", self.sim_log());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            status.success(),
            "sixgate-sim failed ({status}):\n{}",
            self.sim_log()
        );
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for mut c in self.helpers.drain(..).chain(self.sim.take()) {
            let _ = c.kill();
            let _ = c.wait();
        }
        // The TAP is not persistent: it goes with the simulator's descriptor. Delete it anyway
        // in case something else still holds it, then the namespace.
        let _ = Command::new("ip")
            .args(["-n", &self.ns, "link", "del", &self.tap])
            .output();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
        if std::thread::panicking() {
            let _ = writeln!(
                std::io::stderr(),
                "linux_e2e: failed; kept the capture, summary and simulator output in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `N packets transmitted, M received` of a ping run.
fn ping_counts(out: &str) -> Option<(u32, u32)> {
    let line = out.lines().find(|l| l.contains("packets transmitted"))?;
    let mut w = line.split(',').map(str::trim);
    let tx = w.next()?.split_whitespace().next()?.parse().ok()?;
    let rx = w.next()?.split_whitespace().next()?.parse().ok()?;
    Some((tx, rx))
}

/// The result lines of a helper's output.
fn helper_results(out: &str) -> Vec<String> {
    out.lines()
        // The first result shares its line with libtest's `test netns_udp_helper ... `.
        .filter_map(|l| l.split_once(HELPER_TAG).map(|(_, r)| r.trim().to_string()))
        .collect()
}

#[test]
fn linux_host_reaches_the_mesh() {
    if let Err(why) = prerequisites() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true, so linux_e2e must run, but it cannot: {why}"
        );
        // Straight to stderr: the test harness captures only the print macros.
        let _ = writeln!(std::io::stderr(), "linux_e2e skipped: {why}");
        return;
    }
    let t0 = Instant::now();
    let at = || format!("[{:>5.1}s]", t0.elapsed().as_secs_f64());
    let nodes: Vec<String> = (1..=NODES).map(|k| node_addr(k).to_string()).collect();
    let mut lab = Lab::new();
    let tap = lab.tap.clone();
    println!(
        "namespace {}, TAP {tap}, files in {}",
        lab.ns,
        lab.dir.display()
    );

    // An ordinary host: not a router, takes RAs and their /64 Route Information Options. Set
    // before the TAP exists so that it inherits them.
    lab.ip(&["link", "set", "lo", "up"]);
    lab.sysctl("net.ipv6.conf.all.forwarding", "0");
    lab.sysctl("net.ipv6.conf.default.accept_ra", "1");
    lab.sysctl("net.ipv6.conf.default.accept_ra_rt_info_max_plen", "64");

    lab.start_sim();
    lab.poll(20, "the TAP device appears in the namespace", |l| {
        let out = Command::new("ip")
            .args(["-n", &l.ns, "link", "show", &l.tap])
            .output()
            .ok()?;
        out.status.success().then_some(())
    });
    assert_eq!(
        lab.read_sysctl(&format!("net.ipv6.conf.{tap}.accept_ra_rt_info_max_plen")),
        "64"
    );
    assert!(
        std::fs::symlink_metadata(lab.path("pty")).is_ok(),
        "--serial-pty made no symlink:\n{}",
        lab.sim_log()
    );
    // The host's backbone address, where the nodes send their readings. Its /64 (the
    // backbone) is on-link; the mesh is not.
    let host = format!("{HOST_ADDR}/64");
    lab.ip(&["-6", "addr", "add", &host, "dev", &tap, "nodad"]);
    lab.ip(&["link", "set", &tap, "up"]);
    // The collector, for the whole run (until its stdin closes).
    let collector = lab
        .helper(&format!("collector:{}", nodes.join(",")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the collector");
    lab.helpers.push(collector);

    // 1. The mesh route comes from the RA's Route Information Option, nothing else.
    let mesh = format!("{MESH}/64");
    let route = lab.poll(30, "the kernel learns the mesh route from the RA", |l| {
        let r = l.ip(&["-6", "route", "show", &mesh]);
        (r.contains("proto ra") && r.contains("via fe80::")).then_some(r)
    });
    println!("{} mesh route: {}", at(), route.trim());
    assert_eq!(route.lines().count(), 1, "one route to the mesh: {route}");
    assert!(route.contains(&format!("dev {tap}")), "{route}");
    let default = lab.ip(&["-6", "route", "show", "default"]);
    assert!(
        default.trim().is_empty(),
        "the RA says not a default router: {default}"
    );

    // Every node has formed its address and answers. The first echo of each is normally lost
    // (the node resolves the border router first, see the module docs): poll.
    let mut primed = Vec::new();
    for a in &nodes {
        primed.push(Instant::now());
        lab.poll(40, &format!("node {a} answers a ping"), |l| {
            let out = l.ping(&["-c", "1", "-W", "1", "-w", "2", a]);
            (ping_counts(&out) == Some((1, 1))).then_some(())
        });
    }
    println!("{} all {NODES} nodes answer", at());

    // 2. UDP echo through an ordinary socket inside the namespace.
    let out = lab
        .helper(&format!("echo:{}", nodes.join(",")))
        .output()
        .expect("run the echo client");
    let echo = text(&out);
    assert!(out.status.success(), "UDP echo client failed:\n{echo}");
    let results = helper_results(&echo);
    for r in &results {
        println!("  udp: {r}");
    }
    for a in &nodes {
        for len in [32, 1232] {
            let want = format!("echo {a} {len} bytes ok");
            assert!(
                results.iter().any(|r| r.starts_with(&want)),
                "no UDP echo of {len} bytes from {a}:\n{echo}"
            );
        }
    }
    println!("{} UDP echo done", at());

    // 3. 20 echoes per node and size, 0 % loss. One 1232-byte echo in flight at a time (the
    // round trip is about 180 ms): ping does not wait for a reply before the next.
    for (a, since) in nodes.iter().zip(&primed) {
        for (size, interval) in [("56", "0.05"), ("1232", "0.4")] {
            let out = lab.ping(&[
                "-c", "20", "-i", interval, "-s", size, "-W", "5", "-w", "30", a,
            ]);
            assert_eq!(
                ping_counts(&out),
                Some((20, 20)),
                "ping -s {size} {a}: loss ({:.0} s after this node's first echo; smoltcp \
                 drops a packet that finds its neighbour entry expired after {} s)\n{out}\n\
                 sixgate-sim:\n{}",
                since.elapsed().as_secs_f64(),
                SMOLTCP_NEIGHBOR_LIFETIME.as_secs(),
                lab.sim_log()
            );
            assert!(out.contains(" 0% packet loss"), "{out}");
            let rtt = out.lines().find(|l| l.starts_with("rtt")).unwrap_or("");
            println!("  ping -s {size:>4} {a}: 20/20, {rtt}");
        }
    }
    println!("{} pings done", at());

    // 4. Larger than the mesh MTU: Packet Too Big from the border router, and the kernel's
    // path-MTU cache takes it.
    let target = &nodes[0];
    let out = lab.ping(&["-c", "1", "-s", "1400", "-W", "3", "-w", "5", target]);
    println!("  ping -s 1400 {target}:\n{}", out.trim_end());
    assert!(
        out.contains(&format!("From {BR_BACKBONE_ADDR}")) && out.contains("Packet too big"),
        "no Packet Too Big from the border router:\n{out}"
    );
    assert!(out.contains("mtu=1280"), "{out}");
    let pmtu = lab.ip(&["-6", "route", "get", target]);
    println!("  ip -6 route get {target}: {}", pmtu.trim());
    assert!(pmtu.contains("mtu 1280"), "path MTU not cached: {pmtu}");
    assert!(pmtu.contains(&format!("dev {tap}")), "{pmtu}");

    // 5. Hop limit 1 cannot be forwarded: Time Exceeded from the border router's backbone
    // address. Hop limit 2 reaches the node.
    let out = lab.ping(&["-c", "1", "-t", "1", "-W", "3", "-w", "5", target]);
    println!("  ping -t 1 {target}:\n{}", out.trim_end());
    assert!(
        out.contains(&format!("From {BR_BACKBONE_ADDR}")) && out.contains("Time exceeded"),
        "no Time Exceeded from the border router:\n{out}"
    );
    lab.poll(20, "hop limit 2 reaches the node", |l| {
        let out = l.ping(&["-c", "1", "-t", "2", "-W", "2", "-w", "3", target]);
        (ping_counts(&out) == Some((1, 1))).then_some(())
    });
    println!("{} Packet Too Big, Time Exceeded done", at());

    // 6. The readings that arrived meanwhile: tell the collector to finish.
    let mut collector = lab.helpers.pop().expect("collector running");
    drop(collector.stdin.take());
    let out = collector
        .wait_with_output()
        .expect("wait for the collector");
    let readings = text(&out);
    assert!(out.status.success(), "collector failed:\n{readings}");
    let results = helper_results(&readings);
    for r in &results {
        println!("  udp: {r}");
    }
    for a in &nodes {
        assert!(
            results
                .iter()
                .any(|r| r.starts_with(&format!("readings {a} "))),
            "no readings from {a}:\n{readings}"
        );
    }
    println!("{} readings done", at());

    // 7. A clean stop writes the capture and the summary.
    lab.stop_sim();
    println!("{} simulator stopped", at());
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(lab.path("summary.json")).expect("summary.json"),
    )
    .expect("summary.json is JSON");
    let per_node = summary["nodes"].as_array().expect("nodes in the summary");
    assert_eq!(per_node.len(), usize::from(NODES));
    for n in per_node {
        // The collector answered every reading; each node counted the answers (the answer
        // to the last reading may still be on its way when the simulator stops).
        assert!(
            n["replies_received"].as_u64().unwrap_or(0) >= 1,
            "node got no answer to its readings: {n}"
        );
    }
    assert_eq!(
        summary["border_router"]["pool_accounted"],
        serde_json::json!(true),
        "{summary}"
    );
    check_capture(&lab.path("run.pcapng"));

    // 8. Nothing left behind.
    let (ns, tap) = (lab.ns.clone(), lab.tap.clone());
    drop(lab);
    let left = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    let left = String::from_utf8_lossy(&left.stdout);
    assert!(
        !left.split_whitespace().any(|w| w == ns),
        "namespace {ns} left behind: {left}"
    );
    let links = Command::new("ip")
        .args(["link", "show"])
        .output()
        .expect("ip link show");
    assert!(
        !String::from_utf8_lossy(&links.stdout).contains(&format!(" {tap}:")),
        "TAP {tap} left behind"
    );
    println!("done in {:.1} s", t0.elapsed().as_secs_f64());
}

/// Stock tshark, no protocol disabled: the nodes' ports are ones no dissector claims (issue
/// 20; before, TAPA took port 5000 and had to be switched off).
fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The capture opens in tshark without malformed or error-severity frames and holds both
/// interfaces' traffic: 6LoWPAN with good FCS on 802.15.4, and on Ethernet the RA carrying the
/// Route Information Option (type 24), Packet Too Big (ICMPv6 type 2) and Time Exceeded
/// (type 3).
fn check_capture(file: &Path) {
    let bad = tshark(
        file,
        &["-Y", "_ws.malformed || _ws.expert.severity == error"],
    );
    assert!(bad.trim().is_empty(), "malformed or error frames:\n{bad}");
    let rows = tshark(
        file,
        &[
            "-T",
            "fields",
            "-e",
            "frame.protocols",
            "-e",
            "icmpv6.type",
            "-e",
            "icmpv6.opt.type",
            "-e",
            "wpan.fcs_ok",
        ],
    );
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for row in rows.lines() {
        let f: Vec<&str> = row.split('\t').collect();
        let protos = f.first().copied().unwrap_or("");
        // ICMPv6 errors quote a packet: the first type is the outer message's.
        let icmp = f.get(1).and_then(|t| t.split(',').next()).unwrap_or("");
        let opts: Vec<&str> = f.get(2).copied().unwrap_or("").split(',').collect();
        let fcs_ok = f.get(3).copied().unwrap_or("");
        if protos.starts_with("wpan-tap") {
            *count.entry("802.15.4").or_default() += 1;
            assert_eq!(fcs_ok, "1", "802.15.4 frame with a bad FCS: {row}");
            if protos.contains(":6lowpan") {
                *count.entry("802.15.4 6LoWPAN").or_default() += 1;
            }
        } else if protos.starts_with("eth:") {
            *count.entry("Ethernet").or_default() += 1;
            match icmp {
                "134" if opts.contains(&"24") => {
                    *count.entry("Ethernet RA with RIO").or_default() += 1;
                }
                "2" => *count.entry("Ethernet Packet Too Big").or_default() += 1,
                "3" => *count.entry("Ethernet Time Exceeded").or_default() += 1,
                _ => {}
            }
        } else {
            panic!("a frame of neither interface: {row}");
        }
    }
    println!("capture: {count:?}");
    for what in [
        "802.15.4",
        "802.15.4 6LoWPAN",
        "Ethernet",
        "Ethernet RA with RIO",
        "Ethernet Packet Too Big",
        "Ethernet Time Exceeded",
    ] {
        assert!(
            count.get(what).copied().unwrap_or(0) > 0,
            "no {what} frame in the capture: {count:?}"
        );
    }
}

/// The socket side of [`linux_host_reaches_the_mesh`], run by it inside the namespace
/// (through `ip netns exec`), told what to do by [`HELPER_ENV`]:
/// - `collector:NODES`: bind the readings' UDP port and take readings, answering each, until
///   stdin closes and every node has delivered [`READINGS_PER_NODE`] (waiting at most
///   [`COLLECTOR_SECS`] more for them);
/// - `echo:NODES`: send 32 and 1232 bytes to every node's UDP echo service and wait for them
///   to come back (up to 3 sends each, as a UDP application would).
///
/// Prints one result line per check and panics on failure. Without its environment variable
/// (a plain `cargo test -- --ignored`) it does nothing.
#[test]
#[ignore = "helper of linux_host_reaches_the_mesh, run by it inside its network namespace"]
fn netns_udp_helper() {
    let Ok(job) = std::env::var(HELPER_ENV) else {
        return;
    };
    let (mode, list) = job.split_once(':').expect("MODE:NODES");
    let nodes: Vec<Ipv6Addr> = list
        .split(',')
        .map(|s| s.parse().expect("node address"))
        .collect();
    match mode {
        "collector" => collect_readings(&nodes),
        "echo" => udp_echo(&nodes),
        _ => panic!("unknown helper job `{job}`"),
    }
}

fn collect_readings(nodes: &[Ipv6Addr]) {
    let sock = UdpSocket::bind((Ipv6Addr::UNSPECIFIED, COLLECTOR_PORT))
        .expect("bind the collector socket");
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("read timeout");
    let mut buf = [0u8; 2048];
    let mut got: BTreeMap<Ipv6Addr, u32> = BTreeMap::new();
    let enough = |got: &BTreeMap<Ipv6Addr, u32>| {
        nodes
            .iter()
            .all(|a| got.get(a).copied().unwrap_or(0) >= READINGS_PER_NODE)
    };
    let finish = Arc::new(AtomicBool::new(false));
    {
        let finish = finish.clone();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            finish.store(true, Ordering::SeqCst);
        });
    }
    let mut end = None;
    loop {
        if finish.load(Ordering::SeqCst) {
            let end =
                *end.get_or_insert_with(|| Instant::now() + Duration::from_secs(COLLECTOR_SECS));
            if enough(&got) || Instant::now() >= end {
                break;
            }
        }
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let SocketAddr::V6(from) = from else { continue };
        let k = nodes
            .iter()
            .position(|a| a == from.ip())
            .unwrap_or_else(|| panic!("a reading from an unknown source {from}"));
        assert_eq!(from.port(), READING_PORT, "reading source port");
        assert_eq!(n, READING_LEN, "reading length from {from}");
        // The payload starts with the node's index (big-endian).
        let index = u16::from_be_bytes([buf[0], buf[1]]);
        assert_eq!(
            usize::from(index),
            k + 1,
            "node {index}'s reading from {from}"
        );
        *got.entry(*from.ip()).or_default() += 1;
        sock.send_to(b"reading received", SocketAddr::V6(from))
            .expect("answer the reading");
    }
    for a in nodes {
        let n = got.get(a).copied().unwrap_or(0);
        assert!(
            n >= READINGS_PER_NODE,
            "node {a}: {n} readings at the collector"
        );
        println!("{HELPER_TAG} readings {a} {n} received and answered");
    }
}

fn udp_echo(nodes: &[Ipv6Addr]) {
    let sock = UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0)).expect("bind the echo client");
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("read timeout");
    let mut buf = [0u8; 2048];
    for (k, a) in nodes.iter().enumerate() {
        let peer = SocketAddr::from((*a, ECHO_PORT));
        for len in [32usize, 1232] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7 + k * 13 + len) as u8).collect();
            let mut sends = 0;
            let ok = 'sends: loop {
                if sends == 3 {
                    break false;
                }
                sends += 1;
                sock.send_to(&payload, peer)
                    .expect("send to the echo service");
                let end = Instant::now() + Duration::from_secs(3);
                while Instant::now() < end {
                    match sock.recv_from(&mut buf) {
                        Ok((n, from)) if from == peer && buf.get(..n) == Some(&payload[..]) => {
                            break 'sends true;
                        }
                        // Timeouts, or a late answer to an earlier datagram.
                        _ => {}
                    }
                }
            };
            assert!(ok, "no UDP echo of {len} bytes from {peer} after 3 sends");
            println!("{HELPER_TAG} echo {a} {len} bytes ok (sends: {sends})");
        }
    }
}
