//! `sixgate daemon`: owns the serial line and one management session, and lets many clients
//! share it over a UNIX socket that speaks the management protocol's own frames
//! (docs/protocol.md), so the CLI's [`crate::device::Device`] works over it unchanged.
//!
//! - [`session`]: the device thread (open, handshake, reconnect with backoff);
//! - [`server`]: the client server (the socket, a reader and a writer thread per client);
//! - [`mux`]: the hub that shares the session (ids, subscriptions, the one capture);
//! - [`history`]: what is kept between commands, the daemon's state API ([`State`]);
//!   [`tables`]: the device's other tables as last polled;
//! - [`http`]: the optional HTTP side (`--http`): [`metrics`], the REST [`api`] and its
//!   event stream, the dashboard.
//!
//! The socket is `$XDG_RUNTIME_DIR/sixgate/<name>.sock`, else `/tmp/sixgate-<uid>/<name>.sock`,
//! `<name>` the port path made file-safe ([`socket_name`]); the directory is 0700, the socket
//! 0600. A lock file beside it (`<name>.lock`, held while the daemon runs) keeps a second
//! daemon off the same socket.

pub mod api;
pub mod history;
pub mod http;
pub mod metrics;
pub mod mux;
pub mod server;
pub mod session;
pub mod tables;

use std::fs::File;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, channel};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

pub use history::State;
use server::ClientId;

use crate::device::Hello;
use crate::error::CliError;

/// What the hub hears from the device thread and the client threads.
#[derive(Debug)]
pub enum Input {
    /// A client connected; frames for it go into this queue.
    ClientOpen(ClientId, SyncSender<Vec<u8>>),
    /// A frame payload from a client.
    ClientFrame(ClientId, Vec<u8>),
    /// The client left.
    ClientClosed(ClientId),
    /// The device answered the handshake.
    DeviceUp(Hello),
    /// A frame payload from the device.
    DeviceFrame(Vec<u8>),
    /// The device session ended (why).
    DeviceDown(String),
}

static STARTED: OnceLock<Instant> = OnceLock::new();

/// A line of the daemon's log on standard error, with seconds since it started.
pub fn log(line: std::fmt::Arguments<'_>) {
    let t = STARTED.get_or_init(Instant::now).elapsed().as_secs_f64();
    eprintln!("[{t:9.3}] sixgate daemon: {line}");
}

/// The state lock; a thread that panicked holding it left nothing half-written that matters.
pub fn lock(s: &Mutex<State>) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// The port path made file-safe: `/dev/ttyACM0` → `dev-ttyACM0`; characters other than
/// ASCII letters, digits, `.`, `_` and `-` become `-`, runs of them one.
pub fn socket_name(port: &str) -> String {
    let mut s = String::new();
    for c in port.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        if !(c == '-' && (s.is_empty() || s.ends_with('-'))) {
            s.push(c);
        }
    }
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() { "port".into() } else { s }
}

/// The directory of the daemons' sockets: `$XDG_RUNTIME_DIR/sixgate`, else
/// `/tmp/sixgate-<uid>`.
pub fn socket_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d).join("sixgate"),
        _ => {
            use std::os::unix::fs::MetadataExt as _;
            let uid = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
            std::env::temp_dir().join(format!("sixgate-{uid}"))
        }
    }
}

/// The default socket of the daemon for `port`.
pub fn default_socket(port: &str) -> PathBuf {
    socket_dir().join(format!("{}.sock", socket_name(port)))
}

/// The lock file beside a socket.
pub fn lock_path(socket: &Path) -> PathBuf {
    socket.with_extension("lock")
}

/// A connection to a live daemon at `socket`, or `None` when there is none (no file, or a
/// stale one nobody listens on).
pub fn connect(socket: &Path) -> Option<UnixStream> {
    let s = UnixStream::connect(socket).ok()?;
    // The CLI's reads time out like a serial port's, so its deadlines work.
    s.set_read_timeout(Some(Duration::from_millis(20))).ok()?;
    Some(s)
}

/// What `sixgate daemon` is given.
#[derive(Debug, Clone)]
pub struct DaemonOpts {
    /// The serial port.
    pub port: String,
    /// Its baud rate.
    pub baud: u32,
    /// The socket (default: [`default_socket`]).
    pub socket: Option<PathBuf>,
    /// The HTTP side, when asked for.
    pub http: Option<http::HttpOpts>,
}

/// A running daemon.
#[derive(Debug)]
pub struct Daemon {
    socket: PathBuf,
    lock_file: PathBuf,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    http: Option<std::net::SocketAddr>,
    _lock: File,
}

impl Daemon {
    /// The socket clients connect to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Where the HTTP side listens (`--http`).
    pub fn http_addr(&self) -> Option<std::net::SocketAddr> {
        self.http
    }

    /// The state (device, histories, nodes). A lock: keep it short.
    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The state, shared (for another thread, e.g. an HTTP server).
    pub fn shared_state(&self) -> Arc<Mutex<State>> {
        self.state.clone()
    }

    /// Stops the threads (the device is left quiet, clients are told) and removes the socket
    /// and the lock file.
    pub fn shutdown(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_file(&self.lock_file);
        log(format_args!("stopped"));
    }
}

fn other(m: String) -> CliError {
    CliError::Other(m)
}

/// Takes the socket (refusing when another daemon holds it) and starts the threads.
pub fn start(opts: DaemonOpts) -> Result<Daemon, CliError> {
    let _ = STARTED.get_or_init(Instant::now);
    let socket = opts
        .socket
        .clone()
        .unwrap_or_else(|| default_socket(&opts.port));
    let dir = socket
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if opts.socket.is_none() && !dir.exists() {
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
            .map_err(|e| other(format!("cannot create {}: {e}", dir.display())))?;
    }
    let lock_file = lock_path(&socket);
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_file)
        .map_err(|e| other(format!("cannot open {}: {e}", lock_file.display())))?;
    let _ = std::fs::set_permissions(&lock_file, std::fs::Permissions::from_mode(0o600));
    if lock.try_lock().is_err() || UnixStream::connect(&socket).is_ok() {
        return Err(other(format!(
            "a sixgate daemon already serves {} (socket {}, lock {} held); its clients use it \
             as they are: stop it first to start another",
            opts.port,
            socket.display(),
            lock_file.display()
        )));
    }
    // A socket file nobody listens on is a dead daemon's.
    if std::fs::symlink_metadata(&socket).is_ok() {
        std::fs::remove_file(&socket)
            .map_err(|e| other(format!("cannot remove the stale {}: {e}", socket.display())))?;
    }
    let listener = UnixListener::bind(&socket)
        .map_err(|e| other(format!("cannot listen on {}: {e}", socket.display())))?;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| other(format!("cannot restrict {}: {e}", socket.display())))?;
    log(format_args!(
        "serving {} on {} (pid {})",
        opts.port,
        socket.display(),
        std::process::id()
    ));

    let state = Arc::new(Mutex::new(State {
        port: opts.port.clone(),
        ..State::default()
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let http = match &opts.http {
        Some(o) => Some(http::bind(o, state.clone(), stop.clone())?),
        None => None,
    };
    let (hub_tx, hub_rx) = channel();
    let (dev_tx, dev_rx) = channel();
    let hub = mux::Hub::new(&opts.port, state.clone(), dev_tx);
    let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new()
            .name(name.into())
            .spawn(f)
            .map_err(|e| other(format!("cannot start a thread: {e}")))
    };
    let mut threads = Vec::new();
    {
        let stop = stop.clone();
        threads.push(spawn("hub", Box::new(move || hub.run(hub_rx, &stop)))?);
    }
    {
        let (stop, tx, port) = (stop.clone(), hub_tx.clone(), opts.port.clone());
        threads.push(spawn(
            "device",
            Box::new(move || session::run(port, opts.baud, tx, dev_rx, stop)),
        )?);
    }
    {
        let stop = stop.clone();
        let clients = Arc::new(AtomicUsize::new(0));
        threads.push(spawn(
            "server",
            Box::new(move || server::run(listener, hub_tx, stop, clients)),
        )?);
    }
    let mut http_addr = None;
    if let Some((listener, shared)) = http {
        http_addr = listener.local_addr().ok();
        if let Some(a) = http_addr {
            let auth = if shared.token.is_some() {
                ", token required"
            } else {
                ""
            };
            log(format_args!(
                "dashboard at http://{a}/, metrics at /metrics, API at /api/{auth}"
            ));
        }
        threads.push(spawn(
            "http",
            Box::new(move || http::run(listener, shared)),
        )?);
    }
    Ok(Daemon {
        socket,
        lock_file,
        state,
        stop,
        threads,
        http: http_addr,
        _lock: lock,
    })
}

/// `sixgate daemon`: runs until SIGINT or SIGTERM.
pub fn run(opts: DaemonOpts) -> Result<(), CliError> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let s = stop.clone();
        ctrlc::set_handler(move || s.store(true, Ordering::SeqCst))
            .map_err(|e| other(format!("cannot handle signals: {e}")))?;
    }
    let d = start(opts)?;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
    log(format_args!("stopping (signal)"));
    d.shutdown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_names_are_file_safe() {
        assert_eq!(socket_name("/dev/ttyACM0"), "dev-ttyACM0");
        assert_eq!(socket_name("/tmp/x y//pty"), "tmp-x-y-pty");
        assert_eq!(socket_name("COM3"), "COM3");
        // docs/user-guide.md, "Daemon".
        assert_eq!(socket_name("/tmp/sixgate.pty"), "tmp-sixgate.pty");
        assert_eq!(socket_name("/"), "port");
    }
}
