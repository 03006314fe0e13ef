//! What the binary tests share: the `sixgate-sim` binary (built on demand) run with a PTY and
//! killed on drop, and `sixgate` runs against a port with a time limit.
#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The simulator binary next to this test's target directory (built on demand).
pub fn sim_bin() -> PathBuf {
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
    assert!(bin.exists(), "no {}", bin.display());
    bin
}

/// `sixgate-sim --serial-pty DIR/pty --config DIR/config.bin` in a fresh directory, readings
/// every 3 s unless `extra` sets `--reading-period`; stopped (and the directory removed) on
/// drop.
pub struct Sim {
    child: Child,
    pub pty: PathBuf,
    pub dir: PathBuf,
}

impl Sim {
    pub fn start(name: &str, extra: &[&str]) -> Sim {
        let dir = std::env::temp_dir().join(format!("sixgate-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pty = dir.join("pty");
        let mut args: Vec<String> = vec![
            "--serial-pty".into(),
            pty.display().to_string(),
            "--config".into(),
            dir.join("config.bin").display().to_string(),
        ];
        if !extra.contains(&"--reading-period") {
            args.extend(["--reading-period".into(), "3".into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = Command::new(sim_bin())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while !pty.exists() {
            assert!(t0.elapsed() < Duration::from_secs(20), "no PTY symlink");
            std::thread::sleep(Duration::from_millis(50));
        }
        Sim { child, pty, dir }
    }

    pub fn port(&self) -> &Path {
        &self.pty
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // A test may have stopped it (SIGSTOP): let it see the kill.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `sixgate` with `args` against `port`, killing it after 60 s.
pub fn sixgate(port: &Path, args: &[&str]) -> Output {
    let c = Command::new(env!("CARGO_BIN_EXE_sixgate"))
        .arg("--port")
        .arg(port)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_output(c, args)
}

/// The output of the `sixgate` run `c` (started with `args`), killed after 60 s.
pub fn wait_output(mut c: std::process::Child, args: &[&str]) -> Output {
    let t0 = Instant::now();
    loop {
        if c.try_wait().unwrap().is_some() {
            return c.wait_with_output().unwrap();
        }
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = c.kill();
            panic!("sixgate {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The standard output of `o`, a `sixgate` run with `args` that must have succeeded.
pub fn success_stdout(o: Output, args: &[&str]) -> String {
    assert!(
        o.status.success(),
        "sixgate {args:?} failed: {:?}\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `sixgate` that must succeed: its standard output.
pub fn ok(port: &Path, args: &[&str]) -> String {
    success_stdout(sixgate(port, args), args)
}

/// `sixgate --json` that must succeed: its output parsed.
pub fn json(port: &Path, args: &[&str]) -> Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let s = ok(port, &a);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {s}"))
}

/// The exit code (-1 if killed by a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}
