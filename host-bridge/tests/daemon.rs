//! `sixgate daemon` against `sixgate-sim --serial-pty` running a multihop mesh (two of our
//! routers in a line, four leaves): several CLI clients at once through the daemon, the
//! daemon surviving a simulator restart, a second daemon refused, one client's timeout or
//! stalled reader not affecting another. Every process is stopped by its PID on drop, so a
//! failing assertion leaves nothing running.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{Sim, code, success_stdout};

const MESH: &[&str] = &["--routers", "2", "--nodes", "4", "--topology", "line"];

/// A runtime directory of the test's own (the daemon's default socket goes there).
struct RunDir(PathBuf);

impl RunDir {
    fn new(name: &str) -> RunDir {
        let d = std::env::temp_dir().join(format!("sixgate-daemon-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        RunDir(d)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cmd(run: &Path, port: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sixgate"));
    c.env("XDG_RUNTIME_DIR", run)
        .arg("--port")
        .arg(port)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// A process stopped (SIGCONT, then SIGKILL) by its PID on drop.
struct Proc(Option<Child>);

impl Proc {
    fn spawn(mut c: Command) -> Proc {
        Proc(Some(c.spawn().unwrap()))
    }

    fn pid(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status();
    }

    fn running(&mut self) -> bool {
        self.0
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Waits (at most 60 s) and returns its output.
    fn wait(mut self) -> Output {
        let t0 = Instant::now();
        while self.running() {
            assert!(t0.elapsed() < Duration::from_secs(60), "a client hung");
            std::thread::sleep(Duration::from_millis(20));
        }
        // Exited: `wait_with_output` reads what is left in the pipes.
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = Command::new("kill")
                .args(["-CONT", &c.id().to_string()])
                .status();
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `sixgate daemon` with its log in a file.
struct Daemon {
    proc: Proc,
    log: PathBuf,
}

impl Daemon {
    fn start(run: &Path, port: &Path, name: &str) -> Daemon {
        let log = run.join(format!("{name}.log"));
        let mut c = cmd(run, port, &["daemon"]);
        c.stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        let d = Daemon {
            proc: Proc::spawn(c),
            log,
        };
        d.wait_log("connected to", 1);
        d
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `what` appears `n` times in the log.
    fn wait_log(&self, what: &str, n: usize) {
        let t0 = Instant::now();
        while self.log().matches(what).count() < n {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "daemon log lacks {n}× `{what}`:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn run_ok(run: &Path, port: &Path, args: &[&str]) -> String {
    success_stdout(Proc::spawn(cmd(run, port, args)).wait(), args)
}

fn run_json(run: &Path, port: &Path, args: &[&str]) -> Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let s = run_ok(run, port, &a);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {s}"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Two clients and more at once: a capture and `events` running while a third changes the
/// channel; commands give the same answers and exit codes as directly; the socket is the
/// owner's only; the daemon derives each mesh node's life cycle.
#[test]
fn clients_share_the_device_through_the_daemon() {
    let run = RunDir::new("share");
    let sim = Sim::start("daemon-share", MESH);
    let p = sim.port();
    // Directly, before the daemon.
    let config_direct = run_json(&run.0, p, &["config", "show"]);
    let d = Daemon::start(&run.0, p, "daemon");
    let sock = run.0.join("sixgate").join(format!(
        "{}.sock",
        host_bridge::daemon::socket_name(&p.display().to_string())
    ));
    let mode = |x: &Path| std::fs::metadata(x).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sock), 0o600, "socket for the owner only");
    assert_eq!(mode(&run.0.join("sixgate")), 0o700);

    // The same answers and exit codes through the daemon.
    assert_eq!(run_json(&run.0, p, &["config", "show"]), config_direct);
    let o = Proc::spawn(cmd(&run.0, p, &["iface", "show", "wlan9"])).wait();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = Proc::spawn(cmd(&run.0, p, &["iface", "set", "eth0", "channel", "15"])).wait();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    // The port is the daemon's: going around it fails clearly (exit 3).
    let o = Proc::spawn(cmd(&run.0, p, &["--direct", "info"])).wait();
    assert_eq!(code(&o), 3, "{}", stderr(&o));

    // A capture and an event follower at once, while a third client changes the channel.
    let cap_file = run.0.join("cap.pcapng");
    let capture = Proc::spawn(cmd(
        &run.0,
        p,
        &[
            "--json",
            "capture",
            "-w",
            cap_file.to_str().unwrap(),
            "--duration",
            "6",
        ],
    ));
    let events = Proc::spawn(cmd(&run.0, p, &["--json", "events", "--duration", "6"]));
    std::thread::sleep(Duration::from_millis(1500));
    // A conflicting capture (promiscuous) is refused while the shared one runs.
    let o = Proc::spawn(cmd(
        &run.0,
        p,
        &["capture", "--promiscuous", "-w", "/dev/null", "-c", "1"],
    ))
    .wait();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("another client's capture of wpan0,eth0"),
        "{}",
        stderr(&o)
    );
    // A second capture of fewer interfaces joins it.
    let o = Proc::spawn(cmd(
        &run.0,
        p,
        &[
            "--json",
            "capture",
            "-i",
            "wpan0",
            "-w",
            "/dev/null",
            "--duration",
            "1",
        ],
    ))
    .wait();
    assert!(o.status.success(), "{}", stderr(&o));
    run_ok(&run.0, p, &["iface", "set", "wpan0", "channel", "15"]);
    assert_eq!(run_json(&run.0, p, &["info"])["channel"], 15);
    run_ok(&run.0, p, &["iface", "set", "wpan0", "channel", "26"]);

    let o = events.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|e| e["event"] == "channel_changed" && e["text"] == "wpan0: channel 15"),
        "{lines:?}"
    );
    let o = capture.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(summary["frames"].as_u64().unwrap() > 0, "{summary}");
    let bytes = std::fs::read(&cap_file).unwrap();
    assert_eq!(
        bytes.get(..4),
        Some(&[0x0a, 0x0d, 0x0d, 0x0a][..]),
        "pcapng"
    );

    // The node life cycle: every node in the DODAG (both routers, the leaf behind them)
    // joined under its parent, in one mesh run.
    let t0 = Instant::now();
    let topo = loop {
        let t = run_json(&run.0, p, &["topology"]);
        if t["nodes"].as_array().map_or(0, Vec::len) >= 4 {
            break t;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "topology: {t}");
        std::thread::sleep(Duration::from_millis(500));
    };
    for n in topo["nodes"].as_array().unwrap().iter().skip(1) {
        let addr = n["address"].as_str().unwrap();
        let parent = n["parent"].as_str().unwrap();
        d.wait_log(&format!("node {addr} joined"), 1);
        // Joined with its parent known (a poll), or joined from an event and attached at
        // the next poll.
        let t0 = Instant::now();
        loop {
            let log = d.log();
            if log.contains(&format!("node {addr} joined (parent {parent})"))
                || log.contains(&format!("node {addr} attached to parent {parent}"))
                || log.contains(&format!("node {addr} moved parent"))
            {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "{addr} under {parent}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The simulator restarts under a running daemon: the streaming client is told, the daemon
/// reconnects (logged, with backoff) and the next command through it works.
#[test]
fn the_daemon_survives_a_simulator_restart() {
    let run = RunDir::new("restart");
    let sim = Sim::start("daemon-restart", MESH);
    let port = sim.port().to_path_buf();
    let d = Daemon::start(&run.0, &port, "daemon");
    assert!(run_ok(&run.0, &port, &["info"]).contains("sixgate-sim"));
    let events = Proc::spawn(cmd(&run.0, &port, &["events", "--duration", "60"]));
    std::thread::sleep(Duration::from_millis(500));
    drop(sim);
    let o = events.wait();
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the device went away"),
        "{}",
        stderr(&o)
    );
    d.wait_log("device session ended", 1);
    // While it is away: a clear error, no device (exit 3).
    let o = Proc::spawn(cmd(&run.0, &port, &["info"])).wait();
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("not connected"), "{}", stderr(&o));

    let sim = Sim::start("daemon-restart", MESH);
    assert_eq!(sim.port(), port);
    d.wait_log("connected to", 2);
    assert!(run_ok(&run.0, &port, &["info"]).contains("sixgate-sim"));
    run_ok(&run.0, &port, &["iface", "set", "wpan0", "channel", "20"]);
    assert_eq!(run_json(&run.0, &port, &["info"])["channel"], 20);
}

/// A second daemon on the same port refuses (non-zero exit, says why); after the first dies
/// without cleaning up (SIGKILL), its stale socket is ignored by the CLI and replaced by the
/// next daemon; SIGTERM removes the socket.
#[test]
fn a_second_daemon_refuses_and_a_stale_socket_is_ignored() {
    let run = RunDir::new("second");
    let sim = Sim::start("daemon-second", &[]);
    let p = sim.port();
    let d = Daemon::start(&run.0, p, "first");
    let o = Proc::spawn(cmd(&run.0, p, &["daemon"])).wait();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a sixgate daemon already serves"),
        "{}",
        stderr(&o)
    );
    let sock = run.0.join("sixgate").join(format!(
        "{}.sock",
        host_bridge::daemon::socket_name(&p.display().to_string())
    ));
    assert!(sock.exists());
    d.proc.signal("-KILL");
    let _ = d.proc.wait();
    assert!(sock.exists(), "a killed daemon leaves its socket");
    // Stale: the CLI opens the port itself.
    assert!(run_ok(&run.0, p, &["info"]).contains("sixgate-sim"));
    // An explicit socket nobody listens on is an error (exit 3).
    let o = Proc::spawn(cmd(
        &run.0,
        p,
        &["--socket", sock.to_str().unwrap(), "info"],
    ))
    .wait();
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let d = Daemon::start(&run.0, p, "next");
    assert!(run_ok(&run.0, p, &["info"]).contains("sixgate-sim"));
    d.proc.signal("-TERM");
    let o = d.proc.wait();
    assert!(o.status.success(), "{:?}", o.status);
    assert!(!sock.exists(), "SIGTERM removes the socket");
}

/// One client's troubles stay its own: a client that gives up at once (its answer arrives
/// after it left), a slow ping in flight, and a follower that stops reading do not hold up
/// another client's commands.
#[test]
fn a_clients_timeout_does_not_affect_another() {
    let run = RunDir::new("timeout");
    let sim = Sim::start("daemon-timeout", MESH);
    let p = sim.port();
    let _d = Daemon::start(&run.0, p, "daemon");
    // Gives up before the answer comes.
    let o = Proc::spawn(cmd(&run.0, p, &["--timeout", "0.001", "stats"])).wait();
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    // A follower that stops reading (SIGSTOP) while events flow.
    let stalled = Proc::spawn(cmd(&run.0, p, &["events"]));
    std::thread::sleep(Duration::from_millis(500));
    stalled.signal("-STOP");
    // A ping that waits 8 s for a reply that never comes (nobody has that backbone address).
    let mut ping = Proc::spawn(cmd(
        &run.0,
        p,
        &["ping", "2001:db8::99", "-c", "1", "-W", "8"],
    ));
    std::thread::sleep(Duration::from_millis(300));
    for ch in ["12", "13", "26"] {
        run_ok(&run.0, p, &["iface", "set", "wpan0", "channel", ch]);
    }
    assert_eq!(run_json(&run.0, p, &["info"])["channel"], 26);
    assert!(ping.running(), "the other client's commands finished first");
    let o = ping.wait();
    assert_eq!(code(&o), 1, "no reply: exit 1; {}", stderr(&o));
    assert!(run_ok(&run.0, p, &["info"]).contains("sixgate-sim"));
    drop(stalled);
}
