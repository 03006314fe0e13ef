//! `sixgate-sim` as an operator runs it (issue 20): the binary itself, its files (`--config`,
//! `--summary-json`, `--capture`), its output into a closed pipe, and — through a real PTY
//! and the `sixgate` CLI — what a saved configuration keeps across reboots.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The simulator binary of this package.
const SIM: &str = env!("CARGO_BIN_EXE_sixgate-sim");

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("sixgate-op-{}-{name}", std::process::id()));
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

/// Runs `sixgate-sim` with `args` to completion (it must end by itself within 120 s).
fn sim(args: &[&str]) -> Output {
    let mut c = Command::new(SIM)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while c.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(120) {
            let _ = c.kill();
            panic!("sixgate-sim {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    c.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn read_json(p: &Path) -> Value {
    let s = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{}: not JSON ({e}): {s}", p.display()))
}

/// Waits for `c` to end by itself within `secs`; kills it (and fails) otherwise.
fn wait_exit(c: &mut Child, secs: u64, what: &str) -> std::process::ExitStatus {
    let t0 = Instant::now();
    loop {
        if let Some(st) = c.try_wait().unwrap() {
            return st;
        }
        if t0.elapsed() > Duration::from_secs(secs) {
            let _ = c.kill();
            let _ = c.wait();
            panic!("{what}: still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Issue 20 #1: `--config` on a file that is not a sixgate configuration refuses to run
/// (exit 1, says why and how to start fresh) and leaves the file as it was; a new file is
/// created, written whole (no temporary file left beside it).
#[test]
fn config_refuses_to_overwrite_a_foreign_file() {
    let dir = TempDir::new("foreign");
    let notes = dir.path("notes.txt");
    let original = b"my notes, not a configuration\n".to_vec();
    std::fs::write(&notes, &original).unwrap();
    let o = sim(&["--config", notes.to_str().unwrap(), "--duration", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not a sixgate configuration") && err.contains("remove it"),
        "says why and how to start fresh: {}",
        text(&o)
    );
    assert_eq!(std::fs::read(&notes).unwrap(), original, "file untouched");

    // A new path: created and holding a configuration, nothing left beside it.
    let fresh = dir.path("config.bin");
    let o = sim(&["--config", fresh.to_str().unwrap(), "--duration", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    let stored = std::fs::read(&fresh).unwrap();
    assert!(stored.starts_with(b"SG"), "{stored:?}");
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["config.bin", "notes.txt"]);
    // And it is loaded again, without a warning.
    let o = sim(&["--config", fresh.to_str().unwrap(), "--duration", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("no valid stored"),
        "{}",
        text(&o)
    );
}

/// Issue 20 #4: output into a closed pipe (`sixgate-sim | head -1`) ends the run quietly
/// and the `--summary-json` file is still written, in both the timed and the live mode.
#[test]
fn closed_stdout_exits_quietly_and_writes_the_summary() {
    let dir = TempDir::new("pipe");
    // Timed run, reader gone before the summary is printed.
    let j = dir.path("timed.json");
    let mut c = Command::new(SIM)
        .args(["--duration", "5", "--summary-json", j.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(c.stdout.take());
    let st = wait_exit(&mut c, 60, "timed run");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut c.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(st.code(), Some(0), "quiet exit: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(read_json(&j)["simulated_seconds"], 5.0);

    // Live run (`| head -1`): one status line read, then the reader goes away.
    let j = dir.path("live.json");
    let mut c = Command::new(SIM)
        .args(["--summary-json", j.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(c.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("sixgate-sim"), "{line}");
    let st = wait_exit(&mut c, 20, "live run after its reader left");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut c.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(st.code(), Some(0), "quiet exit: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(read_json(&j)["simulated_seconds"].as_f64().unwrap() > 0.0);
}

/// Issue 20 #5: `--summary-json` holds numbers under named keys (no `Debug` strings),
/// counters in the same shape as `sixgate stats --json`, drops by reason; the human summary
/// names the drop reasons or says "none".
#[test]
fn summary_json_is_structured_and_drops_are_named() {
    let dir = TempDir::new("summary");
    let j = dir.path("s.json");
    let o = sim(&["--duration", "30", "--summary-json", j.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let s = read_json(&j);
    // No string anywhere below border_router looks like a Rust Debug dump.
    fn no_debug(v: &Value, at: &str) {
        match v {
            Value::String(t) => assert!(!t.contains('{'), "{at}: Debug text {t:?}"),
            Value::Array(a) => a.iter().for_each(|x| no_debug(x, at)),
            Value::Object(m) => m
                .iter()
                .for_each(|(k, x)| no_debug(x, &format!("{at}.{k}"))),
            _ => {}
        }
    }
    no_debug(&s, "");
    let br = &s["border_router"];
    let c = &br["counters"];
    assert!(c["wpan0"]["mac"]["tx_frames"].as_u64().unwrap() > 0, "{c}");
    assert!(c["wpan0"]["mac"]["acks_sent"].is_u64(), "{c}");
    assert!(c["wpan0"]["6lowpan"]["l2_rx_frames"].as_u64().unwrap() > 0);
    assert!(c["wpan0"]["nd"]["lbr_tx_ra_multicast"].is_u64());
    assert!(c["wpan0"]["ipv6"]["no_route"].is_u64(), "drops by reason");
    assert!(c["eth0"]["ethernet"]["tx_frames"].as_u64().unwrap() > 0);
    assert!(c["device"]["device"]["pool_allocs"].is_u64());
    assert_eq!(br["config"]["channel"], 26);
    assert_eq!(br["config"]["pan_id"], "0xabcd");
    assert_eq!(br["config"]["prefix"], "2001:db8:1::/64");
    for (name, i) in s["interfaces"].as_object().unwrap() {
        assert!(i["drops"].is_object(), "{name}");
    }
    // The user guide's table names every key of the document and of `border_router`.
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../docs/user-guide.md"
    ))
    .unwrap();
    let table = guide
        .split("### Summary")
        .nth(1)
        .and_then(|t| t.split("\n## ").next())
        .expect("a Summary section");
    for k in s.as_object().unwrap().keys() {
        assert!(table.contains(&format!("| `{k}")), "{k} undocumented");
    }
    for k in br.as_object().unwrap().keys() {
        assert!(
            table.contains(&format!("`{k}`")),
            "border_router.{k} undocumented"
        );
    }
    // Human summary: one line per interface whose drops are named, or "none".
    let out = String::from_utf8_lossy(&o.stdout);
    for name in ["wpan0", "eth0"] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} line: {out}"));
        let drops = line.split_once("drops ").map(|x| x.1).unwrap_or("");
        assert!(
            drops == "none"
                || drops.split(", ").all(|d| {
                    let (r, n) = d.rsplit_once(' ').unwrap_or(("", ""));
                    !r.is_empty()
                        && r.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                        && n.parse::<u64>().is_ok()
                }),
            "{line}"
        );
        let json_drops = s["interfaces"][name]["drops"].as_object().unwrap();
        assert_eq!(
            drops == "none",
            json_drops.is_empty(),
            "{line} vs {json_drops:?}"
        );
    }
}

/// Issue 20 #8: explicit flags win over the stored configuration and are saved; the nodes
/// are on the channel the border router uses, so readings arrive.
#[test]
fn explicit_flags_win_over_the_stored_configuration() {
    let dir = TempDir::new("flags");
    let cfg = dir.path("config.bin");
    let cfg = cfg.to_str().unwrap();
    let o = sim(&["--config", cfg, "--channel", "20", "--duration", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    // The flag differs from what is stored: it wins, is saved, and the change is printed.
    let j = dir.path("s15.json");
    let o = sim(&[
        "--config",
        cfg,
        "--channel",
        "15",
        "--pan-id",
        "0x1234",
        "--duration",
        "30",
        "--summary-json",
        j.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--channel 15") && err.contains("20"),
        "the override is printed: {}",
        text(&o)
    );
    let s = read_json(&j);
    assert_eq!(s["border_router"]["config"]["channel"], 15, "{}", text(&o));
    assert_eq!(s["border_router"]["config"]["pan_id"], "0x1234");
    for n in s["nodes"].as_array().unwrap() {
        assert!(
            n["readings_delivered"].as_u64().unwrap() >= 1,
            "node delivered nothing: {n}"
        );
    }
    // Saved: a run without flags uses channel 15, and so do its nodes.
    let j = dir.path("again.json");
    let o = sim(&[
        "--config",
        cfg,
        "--duration",
        "30",
        "--summary-json",
        j.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let s = read_json(&j);
    assert_eq!(s["border_router"]["config"]["channel"], 15);
    assert_eq!(s["border_router"]["config"]["pan_id"], "0x1234");
    for n in s["nodes"].as_array().unwrap() {
        assert!(n["readings_delivered"].as_u64().unwrap() >= 1, "{n}");
    }
}

/// Reads the pcapng section header's `shb_userappl` and the first Enhanced Packet Block's
/// timestamp (microseconds, `if_tsresol` 6).
fn pcapng_userappl_and_first_ts(b: &[u8]) -> (Option<String>, Option<u64>) {
    let u32le = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let u16le = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap());
    assert_eq!(u32le(0), 0x0A0D_0D0A, "pcapng");
    let shb_len = u32le(4) as usize;
    let mut appl = None;
    let mut o = 24;
    while o + 4 <= shb_len - 4 {
        let (code, len) = (u16le(o), u16le(o + 2) as usize);
        if code == 0 {
            break;
        }
        if code == 4 {
            appl = Some(String::from_utf8_lossy(&b[o + 4..o + 4 + len]).into_owned());
        }
        o += 4 + len.div_ceil(4) * 4;
    }
    let mut o = shb_len;
    while o + 12 <= b.len() {
        let (ty, len) = (u32le(o), u32le(o + 4) as usize);
        if ty == 6 {
            let ts = (u64::from(u32le(o + 12)) << 32) | u64::from(u32le(o + 16));
            return (appl, Some(ts));
        }
        o += len;
    }
    (appl, None)
}

/// Issue 20 #15: `--capture` timestamps are wall-clock (start of the run plus simulated
/// time), not 1970, and the section header names the program that wrote the file.
#[test]
fn capture_has_wall_clock_time_and_names_the_program() {
    let dir = TempDir::new("capture");
    let cap = dir.path("run.pcapng");
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let o = sim(&["--duration", "20", "--capture", cap.to_str().unwrap()]);
    let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let (appl, ts) = pcapng_userappl_and_first_ts(&std::fs::read(&cap).unwrap());
    let appl = appl.unwrap_or_default();
    assert!(
        appl.starts_with("sixgate-sim ") && appl.contains(env!("CARGO_PKG_VERSION")),
        "shb_userappl {appl:?}"
    );
    let ts = ts.expect("a packet");
    let (lo, hi) = (
        before.as_micros() as u64,
        after.as_micros() as u64 + 20_000_000,
    );
    assert!(
        (lo..=hi).contains(&ts),
        "first packet at {ts} µs since 1970, run between {lo} and {hi}"
    );
    // The frames read back carry the same clock.
    let c = capture_file::read_15_4(&std::fs::read(&cap).unwrap()).unwrap();
    assert!(c.frames.iter().all(|f| (lo..=hi).contains(&f.ts_us)));
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

/// `sixgate-sim --serial-pty` with a configuration file, its stderr in a file.
struct PtySim {
    child: Child,
    pty: PathBuf,
    stderr: PathBuf,
}

impl PtySim {
    fn start(dir: &TempDir, extra: &[&str]) -> PtySim {
        let pty = dir.path("pty");
        let stderr = dir.path("stderr.txt");
        let _ = std::fs::remove_file(&pty);
        let mut args: Vec<String> = vec![
            "--serial-pty".into(),
            pty.display().to_string(),
            "--reading-period".into(),
            "2".into(),
            "--config".into(),
            dir.path("config.bin").display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = Command::new(SIM)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while !pty.exists() {
            assert!(t0.elapsed() < Duration::from_secs(20), "no PTY symlink");
            std::thread::sleep(Duration::from_millis(50));
        }
        PtySim { child, pty, stderr }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut c = Command::new(sixgate_bin())
            .arg("--port")
            .arg(&self.pty)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_exit(&mut c, 60, "sixgate");
        c.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(o.status.success(), "sixgate {args:?}: {}", text(&o));
        String::from_utf8(o.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let s = self.ok(&a);
        serde_json::from_str(&s).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {s}"))
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Reboot the border router and wait until it answers again.
    fn reboot(&self) {
        assert!(self.ok(&["reboot"]).contains("rebooting"));
        std::thread::sleep(Duration::from_millis(300));
        let j = self.json(&["info"]);
        assert!(j["uptime_ms"].as_u64().unwrap() < 30_000, "{j}");
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PtySim {
    fn drop(&mut self) {
        self.stop();
    }
}

fn has_route(s: &PtySim, prefix: &str) -> bool {
    s.json(&["route", "list"])
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["prefix"] == prefix && r["origin"] == "static")
}

fn has_addr(s: &PtySim, addr: &str) -> bool {
    s.json(&["addr", "list"])
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["addr"] == addr && a["iface"] == "eth0")
}

/// Issue 20 #9: `config save` keeps the static routes and addresses the operator added
/// (across `reboot` and across a restart of the process); after `config reset` the running
/// configuration reads unsaved, and the next boot has neither.
#[test]
fn config_save_keeps_routes_and_addresses_and_reset_reads_unsaved() {
    let dir = TempDir::new("persist");
    let mut s = PtySim::start(&dir, &[]);
    s.ok(&["addr", "add", "eth0", "2001:db8:77::1/64"]);
    s.ok(&[
        "route",
        "add",
        "2001:db8:99::/48",
        "dev",
        "eth0",
        "via",
        "2001:db8::2",
        "metric",
        "5",
    ]);
    assert!(s.ok(&["config", "save"]).contains("configuration saved"));
    assert_eq!(s.json(&["config", "show"])["unsaved"], false);
    s.reboot();
    assert!(has_route(&s, "2001:db8:99::/48"), "route kept by reboot");
    assert!(has_addr(&s, "2001:db8:77::1"), "address kept by reboot");
    let r = s
        .json(&["route", "list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["prefix"] == "2001:db8:99::/48")
        .cloned()
        .unwrap();
    assert_eq!(r["via"], "2001:db8::2");
    assert_eq!(r["metric"], 5);

    // A new process on the same file.
    s.stop();
    let s = PtySim::start(&dir, &[]);
    assert!(has_route(&s, "2001:db8:99::/48"), "route kept by restart");
    assert!(has_addr(&s, "2001:db8:77::1"), "address kept by restart");

    // Reset: nothing is stored any more, so what runs is unsaved; the next boot is clean.
    s.ok(&["config", "reset"]);
    assert_eq!(
        s.json(&["config", "show"])["unsaved"],
        true,
        "after config reset"
    );
    s.reboot();
    assert!(!has_route(&s, "2001:db8:99::/48"));
    assert!(!has_addr(&s, "2001:db8:77::1"));
}

/// Issue 20 #8: moving the border router to another channel at run time leaves the
/// simulated nodes behind; the simulator says so on stderr.
#[test]
fn nodes_on_another_channel_are_warned_about() {
    let dir = TempDir::new("channel");
    let s = PtySim::start(&dir, &[]);
    s.ok(&["iface", "set", "wpan0", "channel", "20"]);
    let t0 = Instant::now();
    loop {
        let err = s.stderr();
        if err.contains("channel 26") && err.contains("channel 20") {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no warning on stderr: {err}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
