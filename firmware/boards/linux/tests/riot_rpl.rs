//! RIOT routers under our RPL root (issue 22, "Evidence"): RIOT OS `zep_rpl.elf` (gnrc_rpl,
//! a storing-mode 6LR) joins the DODAG of `sixgate-sim --rpl-mop 2`, advertises itself in
//! DAOs, and a Linux host on the backbone reaches it through the border router.
//!
//! Each test runs the simulator inside a network namespace with a TAP backbone (as
//! `linux_e2e.rs`); the kernel there is an ordinary host whose only route to the mesh comes
//! from the border router's RA Route Information Option. The RIOT nodes run in the same
//! namespace (their ZEP radios talk to the simulator over that namespace's `[::1]`), each in
//! its own process group. The `sixgate` CLI talks to the simulator's PTY.
//!
//! - [`one_riot_router_joins_and_the_linux_host_pings_it`]: one router one hop away joins
//!   (its `rpl` shell command shows our DODAG ID with rank 512, under our 256), its DAO makes
//!   it a target (`sixgate topology --json`: parent the root, depth 1; `sixgate rpl --json`:
//!   dao_rx > 0, targets used ≥ 1), and `ping -6` from the host answers 20/20.
//! - [`a_riot_chain_is_reached_two_hops_away_and_expires_when_the_middle_dies`]: border router
//!   — router A — router B (`--zep-links`; B hears only A), a RIOT `zep_6ln` host C hearing
//!   only B: 20/20 pings of 56 and of 1232 bytes to B two radio hops away; topology shows B
//!   under A (storing mode: the root knows B only as "via A", the next hop its DAO came
//!   through, so B's parent is A's address and B's depth is unknown, `null`); C registers
//!   with B but is NOT in the DAOs (RIOT advertises its forwarding table, not its registered
//!   hosts), so the root has no route to it; killing A's process group makes A's and B's
//!   targets expire within the configured path lifetime (70 s), `sixgate events` reports
//!   `target_expired` for both and `topology` lists neither. RIOT refreshes its DAO on a
//!   fixed 60–61 s timer whatever the DODAG Configuration's lifetime
//!   (`CONFIG_GNRC_RPL_DAO_DELAY_LONG`), so a path lifetime under about a minute makes RIOT's
//!   targets flap: the test uses 7 units of 10 s.
//!
//! Traffic is kept moderate, as RIOT needs (its README): both routers start RPL together,
//! and one 1232-byte echo is in flight at a time. RIOT does not drop duplicates, so a
//! needless retransmission of ours costs it a reassembly entry; the bridge waits (up to 5 ms
//! of wall time) for a RIOT ACK that is late only on the wall clock (docs/interop.md).
//!
//! Needs root, `/dev/net/tun`, `ip`, `ping`, `tshark` and the RIOT peers
//! (`sim::peers::riot_bin`). Without them each test says why and passes, unless `CI=true`.
//! Every process is killed on drop, failure included: the simulator by its PID, RIOT nodes
//! by their process group; the namespace and the TAP are deleted.
//!
//! Run: `cargo test -p sixgate-sim --test riot_rpl -- --nocapture --test-threads 1`
//! (about 3 minutes; the tests also take a lock so that they never overlap).

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use sim::peers::{RiotNode, riot_bin};

/// The simulator binary of this package.
const SIM: &str = env!("CARGO_BIN_EXE_sixgate-sim");
/// The border router's DODAG ID (its mesh address with the default configuration).
const DODAG_ID: &str = "2001:db8:1::5eff:fe00:1";
/// The mesh prefix.
const MESH: &str = "2001:db8:1::/64";
/// The host's backbone address.
const HOST: &str = "2001:db8::2/64";
/// The path lifetime of the chain test: 7 units of 10 s.
const LIFETIME: (u8, u16) = (7, 10);
/// One test at a time: they share the machine's two cores with RIOT nodes in real time.
static SERIAL: Mutex<()> = Mutex::new(());

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `02:aa:bb:cc:dd:ee:00:k`.
fn eui(k: u8) -> [u8; 8] {
    [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, k]
}

fn eui_text(k: u8) -> String {
    eui(k)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The global address RIOT node `k` forms from the PIO (its EUI-64, U/L bit flipped).
fn global(k: u8) -> String {
    format!("2001:db8:1:0:aa:bbcc:ddee:{k:x}")
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

/// The RIOT binaries' directory, or why this test cannot run.
fn prerequisites() -> Result<PathBuf, String> {
    if !is_root() {
        return Err("not root (network namespaces and TAP devices need CAP_NET_ADMIN)".into());
    }
    for t in ["ip", "ping", "tshark"] {
        if !have(t) {
            return Err(format!("`{t}` not found"));
        }
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err("/dev/net/tun is missing".into());
    }
    let bin = riot_bin()?;
    if !bin.join("zep_rpl.elf").is_file() {
        return Err(format!("no zep_rpl.elf in {}", bin.display()));
    }
    Ok(bin)
}

/// The RIOT binaries, or `None` after saying why (a failure under `CI=true`).
fn ready(test: &str) -> Option<PathBuf> {
    match prerequisites() {
        Ok(b) => Some(b),
        Err(why) => {
            assert!(!ci(), "CI=true, so {test} must run, but it cannot: {why}");
            let _ = writeln!(std::io::stderr(), "{test} skipped: {why}");
            None
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
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
    bin
}

/// The namespace, the simulator in it and the run's files; dropping it kills the simulator
/// (by PID) and deletes the TAP and the namespace. RIOT nodes are [`RiotNode`]s, killed by
/// their process group when dropped (declare them after the lab so that they go first).
struct Lab {
    ns: String,
    tap: String,
    dir: PathBuf,
    sim: Option<Child>,
    zep: Option<SocketAddr>,
}

impl Lab {
    fn new(name: &str) -> Lab {
        let pid = std::process::id();
        let lab = Lab {
            ns: format!("sgrpl{name}{pid}"),
            tap: format!("sgr{name}{pid}"),
            dir: std::env::temp_dir().join(format!("sixgate-riot-rpl-{name}-{pid}")),
            sim: None,
            zep: None,
        };
        let _ = Command::new("ip").args(["netns", "del", &lab.ns]).output();
        let _ = std::fs::remove_dir_all(&lab.dir);
        std::fs::create_dir_all(&lab.dir).unwrap();
        let o = Command::new("ip")
            .args(["netns", "add", &lab.ns])
            .output()
            .unwrap();
        assert!(o.status.success(), "ip netns add: {}", text(&o));
        lab.ip(&["link", "set", "lo", "up"]);
        // An ordinary host taking RAs and their /64 Route Information Options.
        for (k, v) in [
            ("all/forwarding", "0"),
            ("default/accept_ra", "1"),
            ("default/accept_ra_rt_info_max_plen", "64"),
        ] {
            let o = lab
                .exec(&[
                    "sh",
                    "-c",
                    &format!("echo {v} > /proc/sys/net/ipv6/conf/{k}"),
                ])
                .output()
                .unwrap();
            assert!(o.status.success(), "sysctl {k}: {}", text(&o));
        }
        lab
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn exec(&self, cmd: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns]).args(cmd);
        c
    }

    fn ip(&self, args: &[&str]) -> String {
        let o = Command::new("ip")
            .args(["-n", &self.ns])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "ip {args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn sim_log(&self) -> String {
        std::fs::read_to_string(self.path("sim.log")).unwrap_or_default()
    }

    /// The simulator in the namespace: storing-mode root, no simulated nodes, RIOT's PAN,
    /// ZEP on an ephemeral port of the namespace's `[::1]`, a TAP backbone; then the host's
    /// address, and the mesh route from the RA.
    fn start(&mut self, extra: &[&str]) {
        let log = File::create(self.path("sim.log")).unwrap();
        let tap = format!("tap:{}", self.tap);
        let p = |n: &str| self.path(n).display().to_string();
        let mut args = vec![
            SIM.to_string(),
            "--eth".into(),
            tap,
            "--zep".into(),
            "[::1]:0".into(),
            "--pan-id".into(),
            "0x23".into(),
            "--nodes".into(),
            "0".into(),
            "--rpl-mop".into(),
            "2".into(),
            "--serial-pty".into(),
            p("pty"),
            "--capture".into(),
            p("run.pcapng"),
            "--zep-capture".into(),
            p("zep.pcapng"),
            "--summary-json".into(),
            p("summary.json"),
            "--duration".into(),
            "600".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let child = self
            .exec(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.sim = Some(child);
        let zep = self.poll(20, "sixgate-sim says where its ZEP socket is", |l| {
            let log = l.sim_log();
            let pty = l.path("pty").exists();
            log.lines()
                .find_map(|x| x.split_once("ZEP radios on udp "))
                .and_then(|(_, a)| a.trim().parse::<SocketAddr>().ok())
                .filter(|_| pty)
        });
        self.zep = Some(zep);
        self.poll(20, "the TAP appears", |l| {
            let o = Command::new("ip")
                .args(["-n", &l.ns, "link", "show", &l.tap])
                .output()
                .ok()?;
            o.status.success().then_some(())
        });
        self.ip(&["-6", "addr", "add", HOST, "dev", &self.tap, "nodad"]);
        self.ip(&["link", "set", &self.tap, "up"]);
        let route = self.poll(30, "the mesh route from the RA", |l| {
            let r = l.ip(&["-6", "route", "show", MESH]);
            (r.contains("proto ra") && r.contains("via fe80::")).then_some(r)
        });
        println!("mesh route (RA RIO only): {}", route.trim());
    }

    fn check_sim(&mut self) {
        if let Some(Ok(Some(st))) = self.sim.as_mut().map(|c| c.try_wait()) {
            panic!("sixgate-sim exited ({st}):\n{}", self.sim_log());
        }
    }

    /// Polls `f` every 250 ms for at most `secs`.
    fn poll<T>(&mut self, secs: u64, what: &str, mut f: impl FnMut(&Lab) -> Option<T>) -> T {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            self.check_sim();
            if let Some(v) = f(self) {
                return v;
            }
            assert!(
                Instant::now() < end,
                "{what}: not within {secs} s\nsixgate-sim:\n{}",
                self.sim_log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// A RIOT node in the namespace, its radio pointed at the simulator.
    fn riot(&self, elf: &Path, k: u8) -> RiotNode {
        let wrapper = ["ip", "netns", "exec", self.ns.as_str()];
        RiotNode::start_in(&wrapper, elf, self.zep.unwrap(), eui(k)).unwrap()
    }

    /// `sixgate --port PTY ARGS` (at most 30 s, or `secs` for a command that follows).
    fn sixgate_for(&self, secs: u64, args: &[&str]) -> Output {
        let mut c = Command::new(sixgate_bin())
            .arg("--port")
            .arg(self.path("pty"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while c.try_wait().unwrap().is_none() {
            if t0.elapsed() > Duration::from_secs(secs) {
                let _ = c.kill();
                let _ = c.wait();
                panic!("sixgate {args:?} hung");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        c.wait_with_output().unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let o = self.sixgate_for(30, &a);
        assert!(o.status.success(), "sixgate {args:?}: {}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    }

    /// `sixgate topology --json`'s nodes.
    fn topology(&self) -> Vec<Value> {
        let t = self.json(&["topology"]);
        assert_eq!(t["root"], DODAG_ID, "{t}");
        t["nodes"].as_array().cloned().unwrap_or_default()
    }

    /// `ping -6 -n ARGS` in the namespace: (sent, received) and the rtt line.
    fn ping(&self, args: &[&str]) -> (Option<(u32, u32)>, String, String) {
        let mut cmd = vec!["ping", "-6", "-n"];
        cmd.extend_from_slice(args);
        let o = self.exec(&cmd).output().unwrap();
        let out = text(&o);
        let rtt = out
            .lines()
            .find(|l| l.starts_with("rtt"))
            .unwrap_or("")
            .to_string();
        (ping_counts(&out), rtt, out)
    }

    /// Stops the simulator as Ctrl-C does (it then finishes the captures).
    fn stop(&mut self) {
        let mut c = self.sim.take().unwrap();
        let _ = Command::new("kill")
            .args(["-INT", &c.id().to_string()])
            .status();
        let end = Instant::now() + Duration::from_secs(30);
        while c.try_wait().unwrap().is_none() {
            if Instant::now() > end {
                let _ = c.kill();
                let _ = c.wait();
                panic!("sixgate-sim did not stop on SIGINT:\n{}", self.sim_log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.sim.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["-n", &self.ns, "link", "del", &self.tap])
            .output();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
        if std::thread::panicking() || std::env::var_os("SIXGATE_KEEP").is_some() {
            let _ = writeln!(
                std::io::stderr(),
                "riot_rpl: kept the captures and the simulator output in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn ping_counts(out: &str) -> Option<(u32, u32)> {
    let line = out.lines().find(|l| l.contains("packets transmitted"))?;
    let mut w = line.split(',').map(str::trim);
    let tx = w.next()?.split_whitespace().next()?.parse().ok()?;
    let rx = w.next()?.split_whitespace().next()?.parse().ok()?;
    Some((tx, rx))
}

/// `rpl init IF` on a RIOT router (IF from its `ifconfig`); returns when it did it.
fn rpl_init(node: &mut RiotNode) -> Instant {
    node.shell("ifconfig").unwrap();
    let line = node
        .wait_for("Iface ", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no interface in `ifconfig`: {:?}", node.output()));
    let iface = line.split_whitespace().nth(1).unwrap().to_string();
    node.shell(&format!("rpl init {iface}")).unwrap();
    let t0 = Instant::now();
    assert!(
        node.wait_for("successfully initialized RPL", Duration::from_secs(5))
            .is_some(),
        "rpl init {iface}: {:?}",
        node.output()
    );
    t0
}

/// Polls a RIOT router's `rpl` command until it shows our DODAG; returns its rank and how
/// long joining took since `t0` (its `rpl init`).
fn joined(node: &mut RiotNode, t0: Instant, secs: u64) -> (u32, Duration) {
    let want = format!("dodag [{DODAG_ID} | R: ");
    let line = loop {
        node.shell("rpl").unwrap();
        if let Some(l) = node.wait_for(&want, Duration::from_millis(500)) {
            break l;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "RIOT did not join our DODAG within {secs} s: {:?}",
            node.output()
        );
    };
    let took = t0.elapsed();
    let rank: u32 = line
        .split_once(" | R: ")
        .and_then(|(_, r)| r.split_whitespace().next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no rank in `{line}`"));
    (rank, took)
}

/// The topology node with this address.
fn node<'a>(topo: &'a [Value], addr: &str) -> Option<&'a Value> {
    topo.iter().find(|n| n["address"] == addr)
}

/// 20 pings of `size` bytes to `addr`, all answered; returns the rtt line.
fn ping20(lab: &Lab, addr: &str, size: &str, interval: &str) -> String {
    let (counts, rtt, out) = lab.ping(&[
        "-c", "20", "-i", interval, "-s", size, "-W", "5", "-w", "60", addr,
    ]);
    assert_eq!(
        counts,
        Some((20, 20)),
        "ping -s {size} {addr}:\n{out}\nsixgate-sim:\n{}",
        lab.sim_log()
    );
    println!("ping -s {size:>4} {addr}: 20/20, {rtt}");
    rtt
}

#[test]
fn one_riot_router_joins_and_the_linux_host_pings_it() {
    let test = "one_riot_router_joins_and_the_linux_host_pings_it";
    let Some(bin) = ready(test) else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut lab = Lab::new("one");
    lab.start(&[]);
    let mut a = lab.riot(&bin.join("zep_rpl.elf"), 1);
    let t0 = rpl_init(&mut a);
    let (rank, took) = joined(&mut a, t0, 30);
    println!("RIOT router joined in {took:?} after `rpl init`, rank {rank}");
    assert!(rank > 256, "rank {rank} is not below the root's 256");
    let me = global(1);
    let topo = lab.poll(20, "the router's DAO makes it a target", |l| {
        let t = l.topology();
        node(&t, &me).is_some().then_some(t)
    });
    let n = node(&topo, &me).unwrap();
    assert_eq!(n["parent"], DODAG_ID, "parent: the root: {n}");
    assert_eq!(n["depth"], 1, "{n}");
    assert_eq!(n["storing"], true, "{n}");
    let rpl = lab.json(&["rpl"]);
    println!(
        "sixgate rpl: counters {}, targets {}",
        rpl["counters"], rpl["targets"]
    );
    assert_eq!(rpl["mop"], 2, "{rpl}");
    assert!(rpl["counters"]["dao_rx"].as_u64().unwrap() > 0, "{rpl}");
    assert!(rpl["targets"]["used"].as_u64().unwrap() >= 1, "{rpl}");
    // The kernel's route to the mesh is still the RA's, and the router answers.
    let r = lab.ip(&["-6", "route", "show", MESH]);
    assert!(r.contains("proto ra"), "{r}");
    lab.poll(20, "the router answers a first ping", |l| {
        (l.ping(&["-c", "1", "-W", "2", "-w", "3", &me]).0 == Some((1, 1))).then_some(())
    });
    ping20(&lab, &me, "56", "0.2");
    drop(a);
}

#[test]
fn a_riot_chain_is_reached_two_hops_away_and_expires_when_the_middle_dies() {
    let test = "a_riot_chain_is_reached_two_hops_away_and_expires_when_the_middle_dies";
    let Some(bin) = ready(test) else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut lab = Lab::new("chain");
    // br — A — B — C: B hears only A, C (a 6LN host) only B.
    let links = lab.path("links.txt");
    std::fs::write(
        &links,
        format!(
            "br {a}\n{a} {b}\n{b} {c}\n",
            a = eui_text(1),
            b = eui_text(2),
            c = eui_text(3)
        ),
    )
    .unwrap();
    lab.start(&["--zep-links", links.to_str().unwrap()]);
    // Short paths for the expiry below, set before any router joins.
    let (lt, unit) = (LIFETIME.0.to_string(), LIFETIME.1.to_string());
    let o = lab.sixgate_for(
        30,
        &["rpl", "set", "--lifetime", &lt, "--lifetime-unit", &unit],
    );
    assert!(o.status.success(), "rpl set: {}", text(&o));
    let lifetime = Duration::from_secs(u64::from(LIFETIME.0) * u64::from(LIFETIME.1));

    let mut a = lab.riot(&bin.join("zep_rpl.elf"), 1);
    let mut b = lab.riot(&bin.join("zep_rpl.elf"), 2);
    // Both routers start RPL together, as after a power cut.
    let (ta, tb) = (rpl_init(&mut a), rpl_init(&mut b));
    let (rank_a, took_a) = joined(&mut a, ta, 30);
    let (rank_b, took_b) = joined(&mut b, tb, 60);
    println!("A joined in {took_a:?} (rank {rank_a}), B in {took_b:?} (rank {rank_b})");
    assert!(rank_a > 256 && rank_b > rank_a, "ranks {rank_a}, {rank_b}");
    let (ga, gb) = (global(1), global(2));
    let topo = lab.poll(30, "A and B are targets", |l| {
        let t = l.topology();
        (node(&t, &ga).is_some() && node(&t, &gb).is_some()).then_some(t)
    });
    println!(
        "topology: {}",
        serde_json::to_string_pretty(&Value::Array(topo.clone())).unwrap()
    );
    let (na, nb) = (node(&topo, &ga).unwrap(), node(&topo, &gb).unwrap());
    assert_eq!(na["parent"], DODAG_ID, "{na}");
    assert_eq!(na["depth"], 1, "{na}");
    // Storing mode: B's DAO reached the root through A, which is all the root knows.
    assert_eq!(nb["parent"], ga.as_str(), "B via A: {nb}");
    assert_eq!(nb["depth"], Value::Null, "{nb}");
    let life = nb["lifetime_s"].as_u64().unwrap();
    assert!(life <= lifetime.as_secs(), "RIOT took our lifetime: {nb}");

    // Two radio hops: the host reaches B.
    lab.poll(30, "B answers a first ping", |l| {
        (l.ping(&["-c", "1", "-W", "2", "-w", "3", &gb]).0 == Some((1, 1))).then_some(())
    });
    ping20(&lab, &gb, "56", "0.2");
    // One 1232-byte echo in flight at a time (the round trip is 460–800 ms): two at once
    // overlap 26 fragments on each hop, and RIOT ACKs late under load (see the module docs).
    ping20(&lab, &gb, "1232", "1.5");
    ping20(&lab, &ga, "56", "0.2");

    // A RIOT 6LN host under B: it registers with B; is it in the DAOs? A global repair makes
    // every router send its DAO again at once (new DTSN).
    let mut c = lab.riot(&bin.join("zep_6ln_noack.elf"), 3);
    let gc = global(3);
    let t0 = Instant::now();
    loop {
        c.shell("ifconfig").unwrap();
        if c.wait_for("scope: global  VAL", Duration::from_millis(500))
            .is_some()
        {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "C did not register with B: {:?}",
            c.output()
        );
    }
    println!("C: {gc} valid (registered with B) after {:?}", t0.elapsed());
    let o = lab.sixgate_for(30, &["rpl", "repair"]);
    assert!(o.status.success(), "rpl repair: {}", text(&o));
    std::thread::sleep(Duration::from_secs(15));
    let topo = lab.topology();
    let dao_has_c = node(&topo, &gc).is_some();
    println!("C in the root's targets 15 s after a global repair: {dao_has_c}");
    assert!(
        !dao_has_c,
        "RIOT now advertises its registered hosts in DAOs: update docs/interop.md: {topo:?}"
    );
    assert!(node(&topo, &ga).is_some() && node(&topo, &gb).is_some());
    drop(c);

    // Kill A (its process group): A's and B's targets expire within the path lifetime.
    let t_kill = Instant::now();
    drop(a);
    let o = lab.sixgate_for(
        lifetime.as_secs() + 40,
        &[
            "--json",
            "events",
            "-c",
            "2",
            "--duration",
            &(lifetime.as_secs() + 20).to_string(),
        ],
    );
    let events = String::from_utf8_lossy(&o.stdout).into_owned();
    let seen_after = t_kill.elapsed();
    println!("events after killing A ({seen_after:?}):\n{events}");
    for g in [&ga, &gb] {
        assert!(
            events
                .lines()
                .any(|l| l.contains("\"target_expired\"") && l.contains(g.as_str())),
            "no target_expired for {g}: {events}"
        );
    }
    assert!(
        seen_after <= lifetime + Duration::from_secs(5),
        "expired {seen_after:?} after the kill, lifetime {lifetime:?}"
    );
    let topo = lab.topology();
    assert!(
        node(&topo, &ga).is_none() && node(&topo, &gb).is_none(),
        "{topo:?}"
    );
    let stats = lab.json(&["stats"]);
    println!("rpl counters: {}", stats_rpl(&stats));
    drop(b);

    // The captures: RPL messages as stock tshark sees them, nothing malformed.
    lab.stop();
    let bad = tshark(
        &lab.path("run.pcapng"),
        &["-Y", "_ws.malformed || _ws.expert.severity == error"],
    );
    assert!(bad.trim().is_empty(), "malformed frames:\n{bad}");
    let rpl = tshark(&lab.path("run.pcapng"), &["-Y", "icmpv6.type == 155"]);
    for code in [
        "DODAG Information Object",
        "(Destination Advertisement Object)",
        "Destination Advertisement Object Acknowledgment",
    ] {
        let l = rpl.lines().find(|l| l.contains(code));
        println!("tshark: {}", l.unwrap_or("-"));
        assert!(l.is_some(), "no {code} in the capture:\n{rpl}");
    }
}

fn stats_rpl(stats: &Value) -> String {
    let mut out = Vec::new();
    fn walk(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    walk(x, &format!("{path}.{k}"), out);
                }
            }
            x if path.contains("rpl") => out.push(format!("{path}={x}")),
            _ => {}
        }
    }
    walk(stats, "", &mut out);
    out.join(" ")
}

fn tshark(file: &Path, args: &[&str]) -> String {
    let o = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "tshark {args:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}
