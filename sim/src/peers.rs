//! Foreign nodes as Linux processes: the RIOT OS peers of `../shared/peers/riot` (see its
//! README), found or built, started in their own process group and stopped with it.
//!
//! [`riot_bin`] finds the binaries: `$SIXGATE_RIOT_BIN` if set, else
//! `<workspace>/target/riot-peers/bin`, building them there with the snapshot's `build.sh` (gcc
//! and make, about 80 s on 2 cores, once: a lock file keeps parallel tests from building
//! twice). [`RiotNode::start`] runs one with its ZEP radio pointed at a UDP address; dropping
//! the handle kills the node's whole process group (RIOT native forks a stdin helper that
//! outlives the main process).

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// The workspace root (this crate's parent directory).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Where the RIOT snapshot and its build script live (`../shared/peers/riot` beside the
/// workspace).
pub fn riot_source() -> PathBuf {
    workspace().join("../shared/peers/riot")
}

/// Whether `prog` runs (`prog --version`).
fn have(prog: &str) -> bool {
    Command::new(prog)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The directory holding `zep_6ln.elf`, `zep_6ln_noack.elf`, `zep_rpl.elf` and
/// `zep_dispatch`, built if needed (see the module docs). `Err` says why there is none (no
/// snapshot, no compiler, a failed build): the caller skips with that reason, or fails when
/// `CI=true`.
pub fn riot_bin() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("SIXGATE_RIOT_BIN") {
        let dir = PathBuf::from(dir);
        return if dir.join("zep_6ln_noack.elf").is_file() {
            Ok(dir)
        } else {
            Err(format!(
                "SIXGATE_RIOT_BIN={} holds no zep_6ln_noack.elf",
                dir.display()
            ))
        };
    }
    let out = workspace().join("target/riot-peers");
    let bin = out.join("bin");
    let ready = || {
        ["zep_6ln.elf", "zep_6ln_noack.elf", "zep_rpl.elf"]
            .iter()
            .all(|b| bin.join(b).is_file())
    };
    if ready() {
        return Ok(bin);
    }
    let script = riot_source().join("build.sh");
    if !script.is_file() {
        return Err(format!(
            "the RIOT peers are not built and {} is missing (../shared beside the workspace)",
            script.display()
        ));
    }
    if !have("gcc") || !have("make") {
        return Err("the RIOT peers need gcc and make to build".into());
    }
    fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let lock = File::create(out.with_extension("lock")).map_err(|e| format!("lock: {e}"))?;
    lock.lock().map_err(|e| format!("lock: {e}"))?;
    if ready() {
        return Ok(bin);
    }
    eprintln!(
        "building the RIOT peers into {} (about 80 s)",
        out.display()
    );
    let st = Command::new("bash")
        .arg(&script)
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if st.success() && ready() {
        Ok(bin)
    } else {
        Err(format!(
            "{} {} failed ({st})",
            script.display(),
            out.display()
        ))
    }
}

/// A running RIOT node: its process group, its shell's stdin, and its output lines.
#[derive(Debug)]
pub struct RiotNode {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl RiotNode {
    /// Starts `elf` (e.g. `riot_bin()?.join("zep_6ln_noack.elf")`) with its ZEP radio sending
    /// to `zep` and the given EUI-64, in a new process group.
    pub fn start(elf: &Path, zep: SocketAddr, eui64: [u8; 8]) -> io::Result<RiotNode> {
        RiotNode::start_in(&[], elf, zep, eui64)
    }

    /// [`start`](Self::start) through a wrapper that execs its last argument, e.g.
    /// `["ip", "netns", "exec", "NS"]` to run the node in a network namespace (the process
    /// group is still the node's).
    pub fn start_in(
        wrapper: &[&str],
        elf: &Path,
        zep: SocketAddr,
        eui64: [u8; 8],
    ) -> io::Result<RiotNode> {
        let eui = eui64
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        let mut cmd = match wrapper.split_first() {
            Some((prog, args)) => {
                let mut c = Command::new(prog);
                c.args(args).arg(elf);
                c
            }
            None => Command::new(elf),
        };
        let mut child = cmd
            .arg("-z")
            .arg(zep.to_string())
            .arg("--eui64")
            .arg(eui)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(RiotNode {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        })
    }

    /// The node's process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a shell command line (e.g. `ping 2001:db8::1`).
    pub fn shell(&mut self, line: &str) -> io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::other("stdin closed"))?;
        writeln!(stdin, "{line}")?;
        stdin.flush()
    }

    /// Waits up to `timeout` for an output line containing `needle`; returns it.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return Some(l.clone());
        }
        let end = Instant::now() + timeout;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(needle) {
                        return Some(l);
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }

    /// Every output line read so far.
    pub fn output(&mut self) -> &[String] {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
        &self.seen
    }
}

impl Drop for RiotNode {
    fn drop(&mut self) {
        // The whole group: RIOT native's stdin helper outlives the main process.
        if let Ok(pgid) = i32::try_from(self.child.id()) {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--"])
                .arg(format!("-{pgid}"))
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
