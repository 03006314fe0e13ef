//! `sixgate daemon --http` against `sixgate-sim --serial-pty --routers 3 --nodes 1 --topology
//! line` (four hops: every node under the one before it on the line): the
//! access rules (loopback only without `--http-public`, the bearer token, bad requests),
//! `/metrics` parsed by Python `prometheus_client`, every `/api/` answer validated against
//! `/api/openapi.json` (Python `jsonschema`), and the dashboard in headless Chromium (every
//! simulated node drawn under the right parent; a screenshot). A synthetic 1000-node state
//! (no device) measures the dashboard's first render and update time.
//!
//! Python modules or Chromium missing: the test says so and skips, unless CI=true (CI
//! installs them: .ci/run).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

mod common;
use common::Sim;

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Whether `what` is usable; otherwise says why (and fails under CI).
fn have(ok: bool, what: &str) -> bool {
    if !ok {
        assert!(!ci(), "{what} is missing (CI installs it: .ci/run)");
        eprintln!("skipping: {what} is missing (CI installs it: .ci/run)");
    }
    ok
}

fn python_has(modules: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/dashboard")
        .join(name)
}

/// One HTTP/1.1 request: (status, body).
fn http(addr: SocketAddr, head: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map_or("", |x| x.1).to_string();
    (status, body)
}

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    )
}

fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (st, body) = get(addr, path);
    assert_eq!(st, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// A child killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `sixgate daemon --http 127.0.0.1:0` (plus `extra`); the address it listens on.
fn daemon(run: &Path, port: &Path, extra: &[&str]) -> (Proc, SocketAddr, PathBuf) {
    let log = run.join("daemon.log");
    let child = Command::new(env!("CARGO_BIN_EXE_sixgate"))
        .env("XDG_RUNTIME_DIR", run)
        .arg("--port")
        .arg(port)
        .args(["daemon", "--http", "127.0.0.1:0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let p = Proc(child);
    let t0 = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(a) = text
            .split("dashboard at http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|a| a.parse().ok())
        {
            return (p, a, log);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no HTTP address:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sixgate-http-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The nodes the simulated mesh shows through the API once every router is in the DODAG and
/// every leaf is heard: `(address, attached to)` of each global address.
fn wait_for_mesh(addr: SocketAddr) -> Vec<(String, String)> {
    let t0 = Instant::now();
    loop {
        let topo = get_json(addr, "/api/topology");
        let nodes = get_json(addr, "/api/nodes");
        let global: Vec<(String, String)> = nodes["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| !n["addr"].as_str().unwrap().starts_with("fe80:"))
            .map(|n| {
                (
                    n["addr"].as_str().unwrap().to_string(),
                    n["attached"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let targets = topo["targets"].as_u64().unwrap_or(0);
        if targets >= 4 && global.len() >= 4 && global.iter().all(|g| !g.1.is_empty()) {
            return global;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "the mesh did not form: {topo}\n{nodes}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn http_side_against_a_simulated_mesh() {
    let run = run_dir("mesh");
    // A line, four hops deep: the border router, r1, r2, r3, then the leaf n1 (each radio
    // hears only its neighbours on the line).
    let sim = Sim::start(
        "http-mesh",
        &["--routers", "3", "--nodes", "1", "--topology", "line"],
    );
    let p = sim.port();

    // Not on a non-loopback address without --http-public, nor public without a token.
    for (args, want) in [
        (
            &["daemon", "--http", "0.0.0.0:0"][..],
            "not a loopback address",
        ),
        (
            &["daemon", "--http", "0.0.0.0:0", "--http-public"][..],
            "--token-file",
        ),
    ] {
        let o = common::sixgate(p, args);
        assert_eq!(common::code(&o), 2, "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }

    let (_d, addr, _log) = daemon(&run, p, &[]);
    // Requests that are refused.
    assert_eq!(get(addr, "/nope").0, 404);
    assert_eq!(get(addr, "/api/nope").0, 404);
    assert_eq!(get(addr, "/api/events?since=x").0, 400);
    assert_eq!(get(addr, "/api/nodes/zz").0, 400);
    assert_eq!(http(addr, "garbage\r\n\r\n").0, 400);
    assert_eq!(
        http(addr, "POST /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").0,
        405
    );
    let (st, _) = http(
        addr,
        "GET /api/info HTTP/1.1\r\nHost: evil.example:80\r\n\r\n",
    );
    assert_eq!(st, 403, "a foreign Host (DNS rebinding) is refused");
    let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(10_000));
    assert_eq!(http(addr, &long).0, 431);

    let mesh = wait_for_mesh(addr);
    let info = get_json(addr, "/api/info");
    let root = get_json(addr, "/api/topology")["root"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(info["connected"], true);
    // The chain the line makes: r1 under the border router, r2 under r1, r3 under r2, the
    // leaf (registered with r3, advertised in r3's DAOs) under r3.
    let router = |k: u8| format!("2001:db8:1::5eff:fe00:100{k}");
    let leaf = "2001:db8:1:0:53:4700:0:1".to_string();
    let attached = |a: &str| {
        mesh.iter()
            .find(|(m, _)| m == a)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("{a} not in {mesh:?}"))
    };
    assert_eq!(attached(&router(1)), root, "{mesh:?}");
    assert_eq!(attached(&router(2)), router(1), "{mesh:?}");
    assert_eq!(attached(&router(3)), router(2), "{mesh:?}");
    assert_eq!(attached(&leaf), router(3), "{mesh:?}");

    // /metrics and the API, checked by independent parsers.
    let (st, metrics) = get(addr, "/metrics");
    assert_eq!(st, 200);
    for want in [
        "sixgate_up 1",
        "sixgate_ipv6_drops_total{iface=\"wpan0\",reason=\"l2\"}",
        "sixgate_mac_tx_frames_total{iface=\"wpan0\"}",
        "sixgate_pool_free_buffers",
        "sixgate_nodes{kind=\"gleaned\"}",
        "sixgate_rpl_targets 4",
        "sixgate_dodag_depth 4",
        "sixgate_node_rssi_dbm{addr=",
        "sixgate_node_series_omitted 0",
    ] {
        assert!(metrics.contains(want), "/metrics lacks {want}:\n{metrics}");
    }
    if have(
        python_has("prometheus_client, jsonschema"),
        "Python prometheus_client and jsonschema (pip install prometheus_client jsonschema)",
    ) {
        let o = Command::new("python3")
            .arg(script("check_api.py"))
            .arg(format!("http://{addr}"))
            .arg(&mesh[0].0)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "check_api.py: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        eprintln!(
            "/metrics: {} families, {} samples parsed; API validated: {}",
            v["families"], v["samples"], v["checked"]
        );
        assert!(v["checked"].as_array().unwrap().len() >= 9);
    }

    // The dashboard in a real browser.
    let Some(chrome) = chromium() else {
        have(false, "Chromium (Debian package chromium)");
        return;
    };
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-mesh.png");
    let o = Command::new("python3")
        .arg(script("cdp.py"))
        .arg(chrome)
        .arg(format!("http://{addr}/"))
        .arg(format!(
            "document.querySelectorAll('#graphlist li').length >= {} && \
             document.getElementById('ifaces').querySelector('table')",
            mesh.len()
        ))
        .arg(
            "[...document.querySelectorAll('#graphlist li')].map(l => [l.dataset.addr, \
             l.dataset.parent, l.dataset.role]).concat([[document.querySelectorAll('#nodes \
             tbody tr').length]])",
        )
        .arg(&shot)
        .arg("60")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "cdp.py: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let drawn: Vec<Vec<Value>> = serde_json::from_slice(&o.stdout).unwrap();
    for (a, parent) in &mesh {
        let d = drawn
            .iter()
            .find(|d| d.first().and_then(Value::as_str) == Some(a))
            .unwrap_or_else(|| panic!("{a} not drawn: {drawn:?}"));
        assert_eq!(d[1].as_str(), Some(parent.as_str()), "{a}'s parent");
    }
    let routers = drawn
        .iter()
        .filter(|d| d.get(2).and_then(Value::as_str) == Some("rt"));
    assert_eq!(routers.count(), 3, "three routers: {drawn:?}");
    println!("dashboard screenshot: {}", shot.display());
    eprintln!("dashboard screenshot: {}", shot.display());
}

/// The dashboard with a synthetic mesh of `n` nodes served in-process (no device): the time
/// to the first full render, and to apply an update moving a tenth of the nodes.
fn synthetic(n: usize, chrome: &str) -> (f64, f64) {
    use host_bridge::daemon::{api, http, lock};
    let state = Arc::new(Mutex::new(api::synthetic_state(n, (n / 20).max(3))));
    let stop = Arc::new(AtomicBool::new(false));
    let (listener, shared) = http::bind(
        &http::HttpOpts {
            addr: "127.0.0.1:0".parse().unwrap(),
            public: false,
            token_file: None,
        },
        state.clone(),
        stop.clone(),
    )
    .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || http::run(listener, shared));
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("dashboard-{n}.png"));
    // After the first render the test moves n/10 nodes to another parent.
    let mover = {
        let state = state.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(4));
            let mut s = lock(&state);
            let addrs: Vec<_> = s.nodes.keys().copied().collect();
            for (i, a) in addrs.iter().enumerate().skip(n / 2).take(n / 10) {
                let p = addrs[i % 3];
                if let Some(node) = s.nodes.get_mut(a) {
                    node.parent = Some(p);
                    node.rssi = Some(-77);
                    node.last_seen = SystemTime::now();
                }
            }
        })
    };
    let o = Command::new("python3")
        .arg(script("cdp.py"))
        .arg(chrome)
        .arg(format!("http://{addr}/"))
        .arg("document.getElementById('perf').dataset.updates >= 1")
        .arg(
            "[Number(document.getElementById('perf').dataset.firstRenderMs), \
             Number(document.getElementById('perf').dataset.lastUpdateMs), \
             document.querySelectorAll('#graphlist li').length]",
        )
        .arg(&shot)
        .arg("60")
        .output()
        .unwrap();
    mover.join().unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    server.join().unwrap();
    assert!(
        o.status.success(),
        "cdp.py: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Vec<f64> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[2] as usize, n, "every node drawn");
    println!(
        "{n} nodes: first render {:.0} ms, update of {} nodes {:.1} ms (screenshot {})",
        v[0],
        n / 10,
        v[1],
        shot.display()
    );
    (v[0], v[1])
}

#[test]
fn dashboard_with_synthetic_meshes() {
    let Some(chrome) = chromium() else {
        have(false, "Chromium (Debian package chromium)");
        return;
    };
    for n in [100, 1000] {
        let (first, update) = synthetic(n, chrome);
        assert!(first > 0.0 && update >= 0.0);
    }
}

/// `--http-public`: every request needs the token (header, or the cookie `?token=` sets).
#[test]
fn token_is_required_on_every_request() {
    use host_bridge::daemon::{api, http};
    let run = run_dir("token");
    let file = run.join("token");
    std::fs::write(&file, "short\n").unwrap();
    let opts = |token_file: Option<PathBuf>| http::HttpOpts {
        addr: "127.0.0.1:0".parse().unwrap(),
        public: true,
        token_file,
    };
    let state = Arc::new(Mutex::new(api::synthetic_state(5, 2)));
    let stop = Arc::new(AtomicBool::new(false));
    let err = http::bind(&opts(Some(file.clone())), state.clone(), stop.clone()).unwrap_err();
    assert!(err.to_string().contains("at least 16"), "{err}");
    std::fs::write(&file, "0123456789abcdef-token\n").unwrap();
    let (listener, shared) = http::bind(&opts(Some(file)), state, stop.clone()).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || http::run(listener, shared));
    let req = |path: &str, extra: &str| {
        http(
            addr,
            &format!("GET {path} HTTP/1.1\r\nHost: gw.example\r\n{extra}\r\n"),
        )
    };
    for p in [
        "/",
        "/metrics",
        "/api/nodes",
        "/api/stream",
        "/api/openapi.json",
    ] {
        assert_eq!(req(p, "").0, 401, "{p}");
        assert_eq!(
            req(p, "Authorization: Bearer wrong-token-000000\r\n").0,
            401,
            "{p}"
        );
    }
    let good = "Authorization: Bearer 0123456789abcdef-token\r\n";
    assert_eq!(req("/api/nodes", good).0, 200);
    assert_eq!(req("/metrics", good).0, 200);
    assert_eq!(req("/?token=0123456789abcdef-token", "").0, 200);
    assert_eq!(
        req(
            "/api/info",
            "Cookie: a=b; sixgate_token=0123456789abcdef-token\r\n"
        )
        .0,
        200
    );
    let (_, m) = req("/metrics", good);
    assert!(m.contains("sixgate_http_unauthorized_total 10"), "{m}");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    server.join().unwrap();
    let _ = std::fs::remove_dir_all(&run);
}
