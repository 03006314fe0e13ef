//! `sixgate-sim`: the sixgate border router as a Linux process, with a simulated 802.15.4
//! mesh of our routers and smoltcp nodes and a simulated (or TAP) backbone. See `--help` and
//! `docs/user-guide.md`.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{IsTerminal, Write};
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant as WallInstant;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use firmware::app::App;
use firmware::config::{Backbone, Config, RplMop, RplObjective};
use firmware::mgmt::{Action, DEFAULT_TX_BYTES, MgmtServer};
use l2_15_4::radio::{Channel, RadioEvent, RxFrame};
use netif::{Duration, Instant};
use sim::SimNode;
use sim::zep_bridge::Endpoint;
use sixgate_sim::faults::{self, NodeName};
use sixgate_sim::pty::Pty;
use sixgate_sim::simnet::{BrNode, EthMode, Overrides, TopologyKind, World, WorldOpts, ZepOpts};
use sixgate_sim::summary::{self, RouterHistory};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Topo {
    Star,
    FullMesh,
    Line,
    Grid,
    Random,
}

/// The sixgate border router with a simulated 802.15.4 mesh.
///
/// With no arguments: 8 smoltcp nodes in a star around the border router send UDP readings
/// to a collector on a simulated backbone host; a live status is shown until Ctrl-C.
///
/// A mesh of our routers: `sixgate-sim --routers 3 --nodes 0 --topology line` (the border
/// router, then routers r1 r2 r3, each hearing only its neighbours), with faults:
/// `--kill-node r2@40 --revive-node r2@70`. Nodes are named `br` (the border router), `rK`
/// (our router K, from 1), `nK` (smoltcp leaf K, from 1) or by radio index (0 the border
/// router, 1..=N the routers, then the leaves).
#[derive(Parser, Debug)]
#[command(name = "sixgate-sim", version)]
struct Args {
    /// Number of simulated smoltcp leaf nodes (0..=250). They do not route: a leaf is
    /// reachable through the border router or one of our routers in its radio range.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(0..=250))]
    nodes: u16,
    /// Number of our mesh routers (0..=64): the sixgate firmware in its router role (RPL,
    /// non-storing), radios 1..=N, each booted with the border router's channel, PAN ID and
    /// prefix. They join the border router's DODAG and forward for whoever is beyond.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=64))]
    routers: u16,
    /// Mesh shape. `line`: the border router at one end, then the routers, then the leaves,
    /// each radio hearing only its neighbours. `grid` and `random` (positions seeded by
    /// `--seed`, log-distance path loss): the routers are radios 1..=N. In a `star` every
    /// node hears only the border router (hidden terminals: their frames can collide there);
    /// in a `full-mesh` every radio hears every other, as in one room.
    #[arg(long, value_enum, default_value = "star")]
    topology: Topo,
    /// Power node K off at SECS simulated seconds (repeatable): its radio neither sends nor
    /// hears, the simulator stops running it. K: `br`, `rK` (router), `nK` (leaf) or a radio
    /// index. E.g. `--kill-node r2@40`.
    #[arg(long, value_name = "K@SECS", value_parser = faults::parse_at)]
    kill_node: Vec<(NodeName, f64)>,
    /// Power node K on again at SECS (repeatable; after a `--kill-node` of it): it boots
    /// afresh, as after a power cycle (a router rejoins, the border router reloads its stored
    /// configuration). E.g. `--revive-node r2@70`.
    #[arg(long, value_name = "K@SECS", value_parser = faults::parse_at)]
    revive_node: Vec<(NodeName, f64)>,
    /// Extra frame loss probability on every link, 0.0..=1.0.
    #[arg(long, default_value_t = 0.0, value_parser = parse_loss)]
    loss: f64,
    /// Seed of everything random (same seed, same run).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Mesh prefix (a /64), e.g. 2001:db8:1::/64.
    #[arg(long, value_parser = parse_prefix)]
    prefix: Option<(Ipv6Addr, u8)>,
    /// IEEE 802.15.4 channel, 11..=26.
    #[arg(long, value_parser = clap::value_parser!(u8).range(11..=26))]
    channel: Option<u8>,
    /// PAN ID, e.g. 0xabcd.
    #[arg(long, value_parser = parse_pan)]
    pan_id: Option<u16>,
    /// Backbone: `sim` (a simulated host, default) or `tap:NAME` (a Linux TAP device; needs
    /// root or CAP_NET_ADMIN; runs in real time).
    #[arg(long, default_value = "sim", value_parser = parse_eth)]
    eth: EthArg,
    /// How `eth0` gets its backbone address: `slaac` (the product default; the simulated host
    /// then advertises 2001:db8::/64 in router advertisements) or `static:ADDR/LEN`. Given
    /// explicitly, it wins over a stored configuration (`--config`) and is saved there.
    #[arg(long, default_value = "static:2001:db8::1/64", value_parser = parse_backbone)]
    backbone: Backbone,
    /// Record both interfaces for the whole run (pcapng: wpan0 as 802.15.4 TAP, eth0 as
    /// Ethernet; interface statistics carry capture drops).
    #[arg(long, value_name = "FILE.pcapng")]
    capture: Option<PathBuf>,
    /// Replay the 802.15.4 frames of a capture (pcap or pcapng; link types 195, 230, 283)
    /// into the border router's radio as if received, at their relative timestamps from the
    /// start of the run.
    #[arg(long, value_name = "FILE.pcap")]
    inject: Option<PathBuf>,
    /// Run this long (simulated seconds with `--eth sim`, as fast as possible; wall seconds
    /// with a TAP), then print a summary and exit 0.
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
    /// Write the summary as JSON (per-node delivery, per-interface counters, drops by reason).
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
    /// Where the configuration persists (loaded at start if valid; run-time changes are
    /// saved there). `--prefix`, `--channel`, `--pan-id` and an explicit `--backbone` win
    /// over what is stored and are saved. A file that is not a sixgate configuration is
    /// never overwritten.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Create a pseudo-terminal for the management protocol and symlink it at PATH; the
    /// `sixgate` CLI opens it like a serial port (`sixgate --port PATH info`). Runs in real
    /// time.
    #[arg(long, value_name = "PATH")]
    serial_pty: Option<PathBuf>,
    /// Testing: make the management server claim this protocol version, to see how the CLI
    /// handles a mismatched device.
    #[arg(long, value_name = "N")]
    mgmt_protocol_version: Option<u8>,
    /// Mean seconds between readings of each node (each interval random within ±1 s, or ± half
    /// the period when shorter).
    #[arg(long, default_value_t = 10.0)]
    reading_period: f64,
    /// The RPL root's Mode of Operation on wpan0: 1 (non-storing, the default) or 2 (storing,
    /// as RIOT's routers work). Wins over a stored configuration and is saved there.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2), conflicts_with = "no_rpl")]
    rpl_mop: Option<u8>,
    /// The objective function the RPL root names in its DIOs (the DODAG's routers follow it):
    /// `mrhof` (RFC 6719, the default: our routers choose parents by their MAC's measured
    /// ETX, with hysteresis) or `of0` (RFC 6552: by hop count). Wins over a stored
    /// configuration and is saved there.
    #[arg(long, value_name = "mrhof|of0", value_parser = parse_objective)]
    rpl_of: Option<RplObjective>,
    /// Run without the RPL root (no DIOs; RPL messages are dropped and counted). Wins over a
    /// stored configuration and is saved there.
    #[arg(long)]
    no_rpl: bool,
    /// Secure the whole simulated mesh (border router, routers, leaves) with IEEE 802.15.4
    /// link-layer security under the network key in FILE: 32 hex digits (16 bytes), as
    /// Wireshark's "Thread hash" key takes it. Wins over a stored configuration and is saved
    /// there; never printed.
    #[arg(long, value_name = "FILE", value_parser = read_network_key)]
    network_key: Option<NetworkKey>,
    /// Bring your own nodes: bind this UDP address (e.g. `[::1]:17754`) for 802.15.4 radios
    /// speaking ZEP v2 (RIOT OS native with `-z [::1]:17754`, or any ZEP stack). Each source
    /// (address, port) becomes a radio of the mesh, hearing and heard by the border router and
    /// every simulated node (router and leaf). Runs in real time.
    #[arg(long, value_name = "ADDR:PORT")]
    zep: Option<std::net::SocketAddr>,
    /// With `--zep`: only these links exist, one per line `A B [loss]` (A, B: `br`, a
    /// simulated node's radio index from 1 (the routers, then the leaves), or a ZEP peer's
    /// EUI-64 such as 02:aa:bb:cc:dd:ee:00:01; loss 0.0..=1.0); `#` starts a comment.
    #[arg(long, value_name = "FILE", requires = "zep")]
    zep_links: Option<PathBuf>,
    /// With `--zep`: record the ZEP datagrams themselves (received and sent, as IP/UDP) into a
    /// pcapng file; `tshark -d udp.port==PORT,zep` reads it.
    #[arg(long, value_name = "FILE.pcapng", requires = "zep")]
    zep_capture: Option<PathBuf>,
    /// The longest registration the border router grants, in minutes (1..=65535; the
    /// default configuration's 1440 when not given). Hosts that ask for more are told this
    /// lifetime in the NA and re-register earlier (RIOT OS: 30 s before a 1-minute expiry).
    #[arg(long, value_name = "MIN", value_parser = clap::value_parser!(u16).range(1..))]
    max_registration_min: Option<u16>,
}

#[derive(Clone, Debug)]
enum EthArg {
    Sim,
    Tap(String),
}

fn parse_loss(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err("loss must be between 0.0 and 1.0".into())
    }
}

fn parse_prefix(s: &str) -> Result<(Ipv6Addr, u8), String> {
    let (a, l) = s
        .split_once('/')
        .ok_or("expected ADDRESS/64, e.g. 2001:db8:1::/64")?;
    let a: Ipv6Addr = a
        .parse()
        .map_err(|_| format!("`{a}` is not an IPv6 address"))?;
    let l: u8 = l
        .parse()
        .map_err(|_| format!("`{l}` is not a prefix length"))?;
    let mut c = Config::default();
    c.set_mesh_prefix_from(a, l).map_err(|e| e.to_string())?;
    Ok((a, l))
}

fn parse_backbone(s: &str) -> Result<Backbone, String> {
    let b = if s == "slaac" {
        Backbone::Slaac
    } else {
        let (a, l) = s
            .strip_prefix("static:")
            .and_then(|r| r.split_once('/'))
            .ok_or("expected `slaac` or `static:ADDR/LEN`, e.g. static:2001:db8::1/64")?;
        let addr: Ipv6Addr = a
            .parse()
            .map_err(|_| format!("`{a}` is not an IPv6 address"))?;
        let prefix_len: u8 = l
            .parse()
            .map_err(|_| format!("`{l}` is not a prefix length"))?;
        Backbone::Static {
            addr: addr.octets(),
            prefix_len,
            gateway: None,
        }
    };
    let c = Config {
        backbone: b.clone(),
        ..Config::default()
    };
    c.validate().map_err(|e| e.to_string())?;
    Ok(b)
}

fn parse_pan(s: &str) -> Result<u16, String> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u16::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|_| format!("`{s}` is not a PAN ID (e.g. 0xabcd)"))?;
    if v == 0xffff {
        return Err("0xffff is the broadcast PAN ID".into());
    }
    Ok(v)
}

fn parse_eth(s: &str) -> Result<EthArg, String> {
    match s {
        "sim" => Ok(EthArg::Sim),
        _ => match s.strip_prefix("tap:") {
            Some(n) if !n.is_empty() && n.len() < 16 => Ok(EthArg::Tap(n.to_string())),
            _ => Err("expected `sim` or `tap:NAME` (NAME at most 15 characters)".into()),
        },
    }
}

/// This program, as captures name their writer (`shb_userappl`).
const APPLICATION: &str = concat!("sixgate-sim ", env!("CARGO_PKG_VERSION"));

/// A line on stderr, `sixgate-sim: ` first; a closed stderr is ignored (never a panic).
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), "sixgate-sim: {}", format_args!($($arg)*));
    }};
}

fn usage_error(msg: &str) -> ExitCode {
    say!("{msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let parsed = Args::command()
        .try_get_matches()
        .and_then(|m| Args::from_arg_matches(&m).map(|a| (a, m)));
    let (args, matches) = match parsed {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let explicit = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    if args.duration.is_some_and(|d| !(d.is_finite() && d > 0.0)) {
        return usage_error("--duration must be a positive number of seconds");
    }
    if !(args.reading_period.is_finite() && args.reading_period >= 0.1) {
        return usage_error("--reading-period must be at least 0.1 s");
    }
    let injected = match &args.inject {
        Some(p) => match std::fs::read(p) {
            Ok(b) => match capture_file::read_15_4(&b) {
                Ok(c) => Some(c),
                Err(e) => return usage_error(&format!("--inject {}: {e}", p.display())),
            },
            Err(e) => return usage_error(&format!("--inject {}: {e}", p.display())),
        },
        None => None,
    };
    let fault_plan = faults::schedule(&args.kill_node, &args.revive_node);
    let mut o = WorldOpts::new();
    o.nodes = usize::from(args.nodes);
    o.routers = usize::from(args.routers);
    if let Some(addr) = args.zep {
        let links = match &args.zep_links {
            Some(p) => match std::fs::read_to_string(p)
                .map_err(|e| e.to_string())
                .and_then(|t| sim::zep_bridge::parse_links(&t))
            {
                Ok(l) => {
                    let radios = o.routers + o.nodes;
                    let named = l.iter().flat_map(|r| [r.a, r.b]).find_map(|e| match e {
                        Endpoint::Node(k) if k > radios => Some(k),
                        _ => None,
                    });
                    if let Some(k) = named {
                        return usage_error(&format!(
                            "--zep-links {}: radio {k} is no simulated node (radios 1..={radios}: \
                             the routers, then the leaves)",
                            p.display()
                        ));
                    }
                    Some(l)
                }
                Err(e) => return usage_error(&format!("--zep-links {}: {e}", p.display())),
            },
            None => None,
        };
        o.zep = Some(ZepOpts { addr, links });
    }
    o.topology = match args.topology {
        Topo::Star => TopologyKind::Star,
        Topo::FullMesh => TopologyKind::FullMesh,
        Topo::Line => TopologyKind::Line,
        Topo::Grid => TopologyKind::Grid,
        Topo::Random => TopologyKind::Random,
    };
    o.loss = args.loss;
    o.seed = args.seed;
    o.config.backbone = args.backbone.clone();
    if let Some((a, l)) = args.prefix
        && o.config.set_mesh_prefix_from(a, l).is_err()
    {
        return usage_error("bad --prefix");
    }
    if let Some(c) = args.channel {
        o.config.channel = c;
    }
    if let Some(p) = args.pan_id {
        o.config.pan_id = p;
    }
    if let Some(m) = args.max_registration_min {
        o.config.max_registration_lifetime_min = m;
    }
    o.eth = match &args.eth {
        EthArg::Sim => EthMode::Sim,
        EthArg::Tap(n) => EthMode::Tap(n.clone()),
    };
    // Explicit settings win over a stored configuration (and are saved there).
    o.overrides = Overrides {
        channel: args.channel,
        pan_id: args.pan_id,
        prefix: args.prefix,
        backbone: explicit("backbone").then(|| args.backbone.clone()),
        rpl_mop: args.rpl_mop.map(|m| {
            if m == 2 {
                RplMop::Storing
            } else {
                RplMop::NonStoring
            }
        }),
        rpl_enabled: if args.no_rpl {
            Some(false)
        } else {
            args.rpl_mop.map(|_| true)
        },
        rpl_objective: args.rpl_of,
        network_key: args.network_key.as_ref().map(|k| k.0),
    };
    o.config_file = args.config.clone();
    o.reading_period = Duration::from_micros((args.reading_period * 1e6) as u64);
    // Facing the outside (a management line, a TAP device), the AP-ND challenge nonces come
    // from the operating system's randomness; a closed simulation stays reproducible.
    if args.serial_pty.is_some() || matches!(args.eth, EthArg::Tap(_)) {
        let mut e = [0u8; 32];
        match std::fs::File::open("/dev/urandom").and_then(|mut f| {
            use std::io::Read as _;
            f.read_exact(&mut e)
        }) {
            Ok(()) => o.entropy = Some(e),
            Err(err) => say!("/dev/urandom: {err}; AP-ND nonces derive from --seed"),
        }
    }
    // Simulated time 0 is now: captures are stamped from here.
    let start_unix_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    let mut w = match World::build(&o) {
        Ok(w) => w,
        Err(e) => {
            say!("{e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = faults::apply(&mut w, &fault_plan) {
        return usage_error(&e);
    }
    let mut history = RouterHistory::new();
    history.observe(&w);
    if let Some(p) = &args.config {
        for n in w.overridden() {
            say!("{n} (saved to {})", p.display());
        }
    }
    if let Some(br) = w.br()
        && br.load_outcome() != "loaded"
        && args.config.is_some()
    {
        say!(
            "no valid stored configuration ({}); using the command line and defaults",
            br.load_outcome()
        );
    }
    if let Some(p) = &args.capture
        && let Some(br) = w.br_mut()
        && let Err(e) = br.record_to(p.clone(), APPLICATION, start_unix_us)
    {
        say!("--capture {}: {e}", p.display());
        return ExitCode::from(1);
    }
    if let Some(p) = &args.zep_capture
        && let Some(z) = w.sim.zep_mut()
        && let Err(e) = z.record_to(p, APPLICATION)
    {
        say!("--zep-capture {}: {e}", p.display());
        return ExitCode::from(1);
    }
    if let Some(z) = w.sim.zep() {
        say!("ZEP radios on udp {}", z.local_addr());
    }
    let mut mgmt = match &args.serial_pty {
        Some(p) => match Pty::open(p) {
            Ok(pty) => {
                let mut server: Box<MgmtServer<DEFAULT_TX_BYTES>> =
                    Box::new(MgmtServer::new("sixgate-sim"));
                // Routes and addresses go into the --config file with the configuration.
                server.set_routes_saved(true);
                if let Some(v) = args.mgmt_protocol_version {
                    server.override_version(v);
                }
                if args.capture.is_some() {
                    server.set_capture_unavailable(Some(
                        "the simulator records the capture ring to its --capture file",
                    ));
                }
                say!(
                    "management on {} -> {}",
                    p.display(),
                    pty.device().display()
                );
                let _ = log::set_logger(&LOGGER);
                log::set_max_level(log::LevelFilter::Debug);
                Some(Mgmt {
                    pty,
                    server,
                    boots: w.br().map_or(0, |b| b.boots()),
                    was_connected: false,
                    input: Vec::new(),
                })
            }
            Err(e) => {
                say!("--serial-pty {}: {e}", p.display());
                return ExitCode::from(1);
            }
        },
        None => None,
    };
    let realtime = matches!(args.eth, EthArg::Tap(_))
        || args.duration.is_none()
        || mgmt.is_some()
        || args.zep.is_some();
    if realtime {
        w.sim.set_pace(Some(1.0));
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let s = stop.clone();
        let _ = ctrlc::set_handler(move || s.store(true, Ordering::SeqCst));
    }
    let end = args
        .duration
        .map(|d| Instant::ZERO + Duration::from_micros((d * 1e6) as u64));
    let tty = std::io::stdout().is_terminal();
    let live = args.duration.is_none();
    let frames = injected
        .as_ref()
        .map(|c| c.frames.clone())
        .unwrap_or_default();
    let t0 = frames.first().map_or(0, |f| f.ts_us);
    let mut next_frame = 0usize;
    let mut last_print = WallInstant::now();
    let step = Duration::from_millis(if mgmt.is_some() { 5 } else { 100 });
    let wall0 = WallInstant::now();
    let mut stdout_closed = false;
    let mut warnings: Vec<String> = Vec::new();
    let mut mismatch: Option<String> = None;
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        // Nodes left on another channel (PAN ID, prefix) by a run-time change: say so once.
        let m = w.nodes_mismatch();
        if m != mismatch {
            if let Some(t) = &m {
                say!("warning: {t}");
                warnings.push(t.clone());
            }
            mismatch = m;
        }
        let now = w.sim.now();
        if let Some(e) = end {
            let done = if realtime {
                wall0.elapsed().as_micros() as u64 >= e.as_micros()
            } else {
                now >= e
            };
            if done {
                break;
            }
        }
        let mut target = now + step;
        if let Some(f) = frames.get(next_frame) {
            let at = Instant::from_micros(f.ts_us.saturating_sub(t0));
            target = target.min(at.max(now));
        }
        if let Some(e) = end
            && !realtime
        {
            target = target.min(e);
        }
        w.sim.run_until(target);
        history.observe(&w);
        let now = w.sim.now();
        while let Some(f) = frames.get(next_frame) {
            if Instant::from_micros(f.ts_us.saturating_sub(t0)) > now {
                break;
            }
            next_frame += 1;
            let br = w.br;
            if !w.sim.is_powered(br) {
                // A radio that is off receives nothing (`--kill-node br`).
                continue;
            }
            let channel = w
                .br()
                .and_then(|b| b.app())
                .and_then(|a| Channel::new(a.config().channel));
            if let Some(channel) = channel {
                w.sim.with_node(br, |n: &mut BrNode, now, radio| {
                    if let Some(app) = n.app_mut() {
                        let ev = RadioEvent::Received(RxFrame {
                            psdu: &f.psdu,
                            rssi: -40,
                            lqi: 255,
                            timestamp: now,
                            channel,
                            fcs_ok: None,
                        });
                        app.on_radio_event(now, ev, radio);
                    }
                });
            }
        }
        if let Some(m) = mgmt.as_mut()
            && let Err(e) = m.service(&mut w)
        {
            say!("management line: {e}");
            return ExitCode::from(1);
        }
        if live && last_print.elapsed().as_millis() >= 1000 {
            last_print = WallInstant::now();
            if out(&status(&w, &history, tty)).is_err() {
                // The reader went away (`sixgate-sim | head -1`): end the run as Ctrl-C does.
                stdout_closed = true;
                break;
            }
        }
    }
    let mut code = ExitCode::SUCCESS;
    if let Some(br) = w.br_mut()
        && let Err(e) = br.finish_recording()
    {
        say!("capture: {e}");
        code = ExitCode::from(1);
    }
    if let Some(z) = w.sim.zep_mut()
        && let Err(e) = z.finish_recording()
    {
        say!("--zep-capture: {e}");
        code = ExitCode::from(1);
    }
    let summary = summary::summary(
        &w,
        injected.as_ref(),
        &warnings,
        &history,
        faults::to_json(&fault_plan),
    );
    // The file first: it is written even when nobody reads stdout any more.
    if let Some(p) = &args.summary_json {
        let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
        if let Err(e) = std::fs::write(p, text + "\n") {
            say!("--summary-json {}: {e}", p.display());
            code = ExitCode::from(1);
        }
    }
    if !stdout_closed {
        let _ = out(&summary::human(&summary));
    }
    code
}

/// The management line: the PTY and the server behind it.
struct Mgmt {
    pty: Pty,
    server: Box<MgmtServer<DEFAULT_TX_BYTES>>,
    boots: u32,
    was_connected: bool,
    /// Bytes read from the line that the server has not taken yet (it takes a request only
    /// when its answer has room).
    input: Vec<u8>,
}

impl Mgmt {
    /// Move bytes both ways and run the server inside the border router's node.
    fn service(&mut self, w: &mut World) -> std::io::Result<()> {
        let mut buf = [0u8; 4096];
        let input = &mut self.input;
        // Like a UART's receive buffer: what the server has not taken stays; reading stops
        // while 64 KiB wait (the PTY then holds the rest).
        while input.len() < 64 * 1024 {
            let n = self.pty.read_some(&mut buf)?;
            if n == 0 {
                break;
            }
            input.extend_from_slice(buf.get(..n).unwrap_or_default());
        }
        let hung_up = self.was_connected && !self.pty.connected();
        self.was_connected = self.pty.connected();
        let logs: Vec<LogLine> = LOG_QUEUE
            .lock()
            .map(|mut q| q.drain(..).collect())
            .unwrap_or_default();
        let server = &mut self.server;
        let boots = &mut self.boots;
        let br = w.br;
        w.sim.with_node(br, |n: &mut BrNode, now, radio| {
            if n.boots() != *boots {
                *boots = n.boots();
                server.rebooted();
            }
            let Some(app) = n.app_mut() else { return };
            if hung_up {
                server.hangup(app, radio);
            }
            for l in &logs {
                server.log(now, l.level, &l.target, &l.text);
            }
            let taken = server.receive(input, app, now, radio);
            input.drain(..taken.min(input.len()));
            server.poll(app, now, radio);
            match server.take_action() {
                // Answered with the store's outcome.
                Some(Action::SaveConfig) => server.action_done(n.save_config().err().as_deref()),
                Some(Action::ResetConfig) => server.action_done(n.erase_config().err().as_deref()),
                Some(Action::Reboot) => {
                    SimNode::reboot(n, now, radio);
                    *boots = n.boots();
                    server.rebooted();
                }
                None => {}
            }
        });
        let mut guard = 0;
        while !self.server.pending().is_empty() && guard < 64 {
            guard += 1;
            let n = self.pty.write_some(self.server.pending())?;
            if n == 0 {
                break;
            }
            self.server.consumed(n);
        }
        Ok(())
    }
}

/// A log record waiting for the management server.
struct LogLine {
    level: mgmt::Level,
    target: String,
    text: String,
}

/// Log records from every crate of the firmware (feature `log`), queued for the management
/// server (`sixgate log`); at most 256 wait, older ones are dropped.
static LOG_QUEUE: std::sync::Mutex<std::collections::VecDeque<LogLine>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());

struct QueueLogger;
static LOGGER: QueueLogger = QueueLogger;

impl log::Log for QueueLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        let level = match r.level() {
            log::Level::Error => mgmt::Level::Error,
            log::Level::Warn => mgmt::Level::Warn,
            log::Level::Info => mgmt::Level::Info,
            log::Level::Debug => mgmt::Level::Debug,
            log::Level::Trace => mgmt::Level::Trace,
        };
        if let Ok(mut q) = LOG_QUEUE.lock() {
            if q.len() >= 256 {
                q.pop_front();
            }
            q.push_back(LogLine {
                level,
                target: r.target().to_string(),
                text: r.args().to_string(),
            });
        }
    }
    fn flush(&self) {}
}

fn app(w: &World) -> Option<&App<'static>> {
    w.br().and_then(|b| b.app())
}

/// Writes `text` to stdout. An error (a closed pipe) is returned, never a panic: the
/// caller ends the run quietly.
fn out(text: &str) -> std::io::Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())?;
    o.flush()
}

/// Routers listed one per line in the live status; more are counted.
const STATUS_ROUTERS: usize = 16;

/// The live status screen.
fn status(w: &World, history: &RouterHistory, tty: bool) -> String {
    let mut out = String::new();
    if tty {
        out.push_str("\x1b[H\x1b[2J");
    }
    let Some(a) = app(w) else {
        out.push_str("border router rebooting\n");
        return out;
    };
    let s = a.status();
    let c = a.config();
    out.push_str(&format!(
        "sixgate-sim  t={:.1}s  channel {}  PAN 0x{:04x}  prefix {}/64\n",
        w.sim.now().as_micros() as f64 / 1e6,
        c.channel,
        c.pan_id,
        c.mesh_prefix_addr()
    ));
    for (name, i) in [("wpan0", a.wpan_index()), ("eth0", a.eth_index())] {
        let up = a.stack().iface(i).is_some_and(|x| x.is_up());
        let st = a.iface_stats(i).unwrap_or_default();
        out.push_str(&format!(
            "  {name:<6} {:<4} rx {:>7}  tx {:>7}  forwarded out {:>7}  drops {:>5}\n",
            if up { "UP" } else { "DOWN" },
            st.rx_packets,
            st.tx_packets,
            st.forwarded,
            st.dropped_total()
        ));
    }
    let readings: u64 = w
        .br()
        .and_then(|b| b.host())
        .map_or(0, |h| h.counters().readings);
    out.push_str(&format!(
        "  nodes: {} registered, {} gleaned (of {} simulated)   readings at collector: {}\n",
        s.registered,
        s.gleaned,
        w.nodes.len(),
        readings
    ));
    out.push_str(&format!(
        "  forwarded mesh→backbone {}  backbone→mesh {}  drops {}  pool {}/{} free\n",
        s.forwarded_up, s.forwarded_down, s.drops, s.pool_free, s.pool_size
    ));
    let routers = summary::routers(w, history);
    let routers = routers.as_array().map(Vec::as_slice).unwrap_or_default();
    for r in routers.iter().take(STATUS_ROUTERS) {
        out.push_str(&format!("  {}\n", summary::router_line(r)));
    }
    if routers.len() > STATUS_ROUTERS {
        let joined = routers.iter().filter(|r| r["phase"] == "joined").count();
        out.push_str(&format!(
            "  … and {} more routers ({joined} of {} joined)\n",
            routers.len() - STATUS_ROUTERS,
            routers.len()
        ));
    }
    if let Some(z) = w.sim.zep() {
        let c = z.counters();
        out.push_str(&format!(
            "  zep {}: {} peers  datagrams in {}  out {}  malformed {}\n",
            z.local_addr(),
            z.peers().len(),
            c.datagrams_in,
            c.datagrams_out,
            c.malformed
        ));
    }
    if let Some(m) = w.nodes_mismatch() {
        out.push_str(&format!("  warning: {m}\n"));
    }
    out.push_str("  Ctrl-C to stop\n");
    out
}

/// A network key read from `--network-key FILE` (its `Debug` never shows it).
#[derive(Clone)]
struct NetworkKey([u8; 16]);

impl std::fmt::Debug for NetworkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetworkKey(<redacted>)")
    }
}

/// `--network-key FILE`: the file holds 32 hex digits (surrounding whitespace allowed).
fn read_network_key(path: &str) -> Result<NetworkKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    parse_network_key(&text)
        .map(NetworkKey)
        .ok_or_else(|| format!("{path}: the network key must be 32 hex digits (16 bytes)"))
}

/// 32 hex digits, surrounding whitespace allowed.
fn parse_network_key(text: &str) -> Option<[u8; 16]> {
    let t = text.trim();
    if t.len() != 32 || !t.is_ascii() {
        return None;
    }
    let mut k = [0u8; 16];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(t.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(k)
}

/// `--rpl-of`: `mrhof` or `of0`.
fn parse_objective(s: &str) -> Result<RplObjective, String> {
    match s {
        "mrhof" => Ok(RplObjective::Mrhof),
        "of0" => Ok(RplObjective::Of0),
        _ => Err(format!("{s:?}: the objective function is mrhof or of0")),
    }
}
