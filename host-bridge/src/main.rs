//! `sixgate`: manage a sixgate border router over its serial line. See `sixgate --help`,
//! `docs/user-guide.md` and `docs/protocol.md`.

use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{CommandFactory as _, Parser, Subcommand, ValueEnum};
use host_bridge::cmd::{self, Out};
use host_bridge::error::CliError;
use host_bridge::pcap_decode;
use host_bridge::{daemon, device};

#[path = "main/plan.rs"]
mod plan;
use plan::{Plan, plan, watch_of};

/// Manage a sixgate 6LoWPAN border router over its serial line.
///
/// Exit codes: 0 ok; 1 the command failed; 2 invalid input (usage, a value out of range, an
/// unknown interface), whether sixgate or the device finds it; 3 no device, no answer, or an
/// incompatible device (the port is named).
#[derive(Parser, Debug)]
#[command(name = "sixgate", version)]
struct Cli {
    /// Serial port of the border router (or the PTY symlink of `sixgate-sim --serial-pty`).
    #[arg(long, short = 'p', env = "SIXGATE_PORT", global = true)]
    port: Option<String>,
    /// Baud rate.
    #[arg(long, default_value_t = 115_200, global = true)]
    baud: u32,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 3.0, global = true, value_parser = parse_secs)]
    timeout: f64,
    /// One JSON document per command instead of human text.
    #[arg(long, global = true)]
    json: bool,
    /// The socket of a `sixgate daemon` to go through (default: the daemon of --port, found
    /// in $XDG_RUNTIME_DIR/sixgate or /tmp/sixgate-UID, used when one is running). For
    /// `daemon`: where it listens.
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "direct")]
    socket: Option<PathBuf>,
    /// Open the serial port directly even when a daemon serves it (it holds the port, so
    /// this fails while the daemon runs).
    #[arg(long, global = true)]
    direct: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always (even piped; wins over
    /// NO_COLOR), never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t)]
    color: host_bridge::color::ColorChoice,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Firmware and protocol version, board, uptime, EUI-64, configuration summary.
    Info,
    /// Interfaces: list, show NAME, up NAME, down NAME, set wpan0 channel|pan-id|tx-power V.
    #[command(subcommand)]
    Iface(IfaceCmd),
    /// Addresses: list, add IFACE ADDR/LEN, del IFACE ADDR.
    #[command(subcommand)]
    Addr(AddrCmd),
    /// Routes: list, add PREFIX/LEN|default dev IFACE [via ADDR] [metric N] [--replace],
    /// del PREFIX/LEN|default.
    #[command(subcommand)]
    Route(RouteCmd),
    /// Backbone neighbor cache.
    #[command(subcommand)]
    Neigh(ListOnly),
    /// Mesh nodes (registered and gleaned), with the depth and parent of those in the DODAG.
    #[command(subcommand)]
    Nodes(NodesCmd),
    /// The mesh prefix: show, set PREFIX/LEN (updates contexts and RAs).
    #[command(subcommand)]
    Prefix(PrefixCmd),
    /// Every counter, grouped by layer.
    Stats {
        /// Only this interface's counters.
        iface: Option<String>,
        /// Zero the counters after showing them (gauges, marked "(gauge)", keep their level).
        #[arg(long, conflicts_with = "watch")]
        reset: bool,
        #[command(flatten)]
        watch: Watch,
    },
    /// ICMPv6 echo sent by the border router (ADDR or ADDR%IFACE for link-local).
    Ping {
        /// Destination.
        addr: String,
        /// Echo requests to send.
        #[arg(short = 'c', default_value_t = 4)]
        count: u16,
        /// Data bytes per request, 0..=1232: the device sends one echo request of at most
        /// 1280 bytes (the IPv6 minimum MTU, which every link carries unfragmented).
        #[arg(short = 's', default_value_t = 56,
              value_parser = clap::value_parser!(u16).range(0..=i64::from(mgmt::MAX_PING_SIZE)))]
        size: u16,
        /// Seconds between requests.
        #[arg(short = 'i', default_value_t = 1.0, value_parser = parse_secs)]
        interval: f64,
        /// Seconds to wait for each reply.
        #[arg(short = 'W', default_value_t = 2.0, value_parser = parse_secs)]
        wait: f64,
    },
    /// Channel scans.
    #[command(subcommand)]
    Scan(ScanCmd),
    /// Live capture to pcapng (`-w -` streams to stdout: `sixgate capture -w - | wireshark -k -i -`).
    Capture {
        /// Interfaces, comma-separated.
        #[arg(short = 'i', default_value = "wpan0,eth0")]
        ifaces: String,
        /// Stop after this many frames.
        #[arg(short = 'c')]
        count: Option<u64>,
        /// Stop after this many seconds.
        #[arg(long, value_parser = parse_secs)]
        duration: Option<f64>,
        /// Also frames not addressed to the border router (radio promiscuous mode).
        #[arg(long)]
        promiscuous: bool,
        /// Output file, or `-` for stdout.
        #[arg(short = 'w', value_name = "FILE.pcapng|-")]
        write: String,
    },
    /// Follow device events until Ctrl-C.
    Events {
        /// Stop after this many events.
        #[arg(short = 'c')]
        count: Option<u64>,
        /// Stop after this many seconds.
        #[arg(long, value_parser = parse_secs)]
        duration: Option<f64>,
    },
    /// Follow device logs until Ctrl-C.
    Log {
        /// Stop after this many lines.
        #[arg(short = 'c')]
        count: Option<u64>,
        /// Stop after this many seconds.
        #[arg(long, value_parser = parse_secs)]
        duration: Option<f64>,
    },
    /// The RPL root: show (default), set, repair.
    Rpl {
        #[command(subcommand)]
        cmd: Option<RplCmd>,
    },
    /// The DODAG under the RPL root, as a tree with each node's depth, parent and the ETX of
    /// the link to it (`--json`: every node, the root first, with its address, parent,
    /// depth, etx and external flag; `--dot`: Graphviz).
    Topology {
        /// Graphviz instead of a tree.
        #[arg(long)]
        dot: bool,
    },
    /// Link-layer security of wpan0 (IEEE 802.15.4 AES-CCM*): show (default), set-key, set,
    /// rotate, off.
    Security {
        #[command(subcommand)]
        cmd: Option<SecurityCmd>,
    },
    /// Configuration: show, save, reset.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Restart the border router.
    Reboot,
    /// Own the serial port and share it: every `sixgate` command for the same port goes
    /// through the daemon (several at once, e.g. `capture` and `events` while another changes
    /// the configuration). Reconnects when the device goes away; keeps the event and log
    /// history. Runs until SIGINT/SIGTERM.
    Daemon {
        /// Also serve the dashboard (`/`), Prometheus metrics (`/metrics`) and the REST API
        /// (`/api/`) over HTTP on ADDR:PORT, e.g. 127.0.0.1:8080 (loopback only, unless
        /// --http-public).
        #[arg(long, value_name = "ADDR:PORT")]
        http: Option<std::net::SocketAddr>,
        /// Allow --http on a non-loopback address; every request must then carry the token
        /// of --token-file (`Authorization: Bearer TOKEN`).
        #[arg(long, requires = "http")]
        http_public: bool,
        /// The file holding the HTTP bearer token (at least 16 characters).
        #[arg(long, value_name = "FILE", requires = "http")]
        token_file: Option<PathBuf>,
    },
    /// Offline capture tools (no device).
    #[command(subcommand)]
    Pcap(PcapCmd),
    /// Shell completions on standard output (no device), e.g.
    /// `sixgate completions bash > ~/.local/share/bash-completion/completions/sixgate`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: cmd::generate::Shell,
    },
    /// The manual page (roff) on standard output (no device): `sixgate man | man -l -`.
    Man {
        /// Write one page per command and subcommand into DIR instead (sixgate.1,
        /// sixgate-iface.1, sixgate-iface-list.1, …).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// `--watch [SECS]`.
#[derive(clap::Args, Debug, Clone, Copy)]
struct Watch {
    /// Again every SECS seconds (default 2) until Ctrl-C: in place on a terminal, else each
    /// refresh after a line `--- HH:MM:SS` (`--json`: one document per refresh).
    #[arg(long, value_name = "SECS", num_args = 0..=1, require_equals = false,
          default_missing_value = cmd::watch::DEFAULT_SECS, value_parser = parse_secs)]
    watch: Option<f64>,
}

#[derive(Subcommand, Debug)]
enum NodesCmd {
    /// The table.
    List {
        #[command(flatten)]
        watch: Watch,
    },
}

#[derive(Subcommand, Debug)]
enum IfaceCmd {
    /// Every interface.
    List {
        #[command(flatten)]
        watch: Watch,
    },
    /// One interface in detail.
    Show {
        name: String,
        #[command(flatten)]
        watch: Watch,
    },
    /// Bring an interface up.
    Up { name: String },
    /// Bring an interface down.
    Down { name: String },
    /// Change a radio setting: `set wpan0 channel 15`, `pan-id 0xabcd`, `tx-power -4`.
    Set {
        name: String,
        /// channel | pan-id | tx-power
        setting: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
}

#[derive(Subcommand, Debug)]
enum AddrCmd {
    /// Every address.
    List,
    /// Add ADDR/LEN to IFACE.
    Add { iface: String, addr: String },
    /// Remove ADDR from IFACE.
    Del { iface: String, addr: Ipv6Addr },
}

#[derive(Subcommand, Debug)]
enum RouteCmd {
    /// The routing table.
    List,
    /// Add a route: `add 2001:db8:9::/48 dev eth0 via fe80::1 metric 10`; `default` is
    /// `::/0`. The next hop must be on-link (link-local, or in a prefix of IFACE); host bits
    /// of PREFIX are cleared (with a note). A prefix that already has a static route is
    /// refused unless `--replace` is given; a connected prefix (an interface address's) is
    /// always refused.
    Add {
        /// Replace the static route to the same prefix.
        #[arg(long)]
        replace: bool,
        prefix: String,
        /// dev IFACE [via ADDR] [metric N] [--replace]
        #[arg(num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
        rest: Vec<String>,
    },
    /// Remove the static (or learned) route to PREFIX/LEN (or `default`). Connected routes
    /// go with their interface address (`addr del`) and are refused here.
    Del { prefix: String },
}

#[derive(Subcommand, Debug)]
enum ListOnly {
    /// The table.
    List,
}

#[derive(Subcommand, Debug)]
enum RplCmd {
    /// Instance, DODAG ID, version, mode, rank, Trickle state, counters, targets.
    Show,
    /// Change settings (the others keep their values); the DODAG gets a new version when
    /// nodes would see the change. `sixgate config save` keeps them.
    Set {
        /// Be the DODAG root.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Stop being the DODAG root (targets age out).
        #[arg(long)]
        disable: bool,
        /// Mode of operation: 1 non-storing, 2 storing.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
        mop: Option<u8>,
        /// RPLInstanceID, 0..=127.
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=127))]
        instance: Option<u8>,
        /// DIOIntervalMin: Trickle Imin = 2^N ms, 1..=24.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=24))]
        dio_min: Option<u8>,
        /// DIOIntervalDoublings.
        #[arg(long)]
        dio_doublings: Option<u8>,
        /// DIORedundancyConstant (Trickle k; 0: never suppress).
        #[arg(long)]
        dio_k: Option<u8>,
        /// Default route lifetime, in lifetime units (non-zero).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..))]
        lifetime: Option<u8>,
        /// Lifetime unit, seconds (non-zero).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        lifetime_unit: Option<u16>,
        /// Deepest source route accepted, 1..=16 hops.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=16))]
        max_depth: Option<u8>,
        /// MinHopRankIncrease (the root's rank; non-zero).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        min_hop_rank_increase: Option<u16>,
        /// RFC 8138 (6LoRH) compression of the RPL Option, source routes and tunnels in the
        /// DODAG: the DIOs' DODAG Configuration T flag (RFC 9035); the DODAG's routers must support
        /// it. A new DODAG version.
        #[arg(long, value_name = "on|off")]
        rfc8138: Option<OnOff>,
        /// The objective function the DIOs name: mrhof (RFC 6719, OCP 1: our routers choose
        /// parents by their MAC's measured ETX, with hysteresis) or of0 (RFC 6552, OCP 0: by
        /// hop count). A new DODAG version.
        #[arg(long = "of", value_name = "mrhof|of0")]
        objective: Option<Objective>,
    },
    /// Global repair: a new DODAG version.
    Repair,
}

#[derive(Subcommand, Debug)]
enum SecurityCmd {
    /// Level, key sequence and index, outgoing frame counter, rotation, neighbours tracked,
    /// frames secured and accepted, drops by reason. Never the key.
    Show,
    /// Set the network key (32 hex digits, whitespace allowed) and secure wpan0 with it at
    /// once. The key is read from --key-file FILE or from standard input redirected from a
    /// file or pipe, never from the command line or a terminal, and never shown.
    /// `sixgate config save` keeps it.
    SetKey {
        /// File holding the key (`-`: standard input, the default).
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
        /// Refused: a key on the command line stays in shell history and the process list.
        #[arg(hide = true, num_args = 0.., allow_hyphen_values = true, trailing_var_arg = true)]
        stray: Vec<String>,
    },
    /// Change settings (the others keep their values). `sixgate config save` keeps them.
    Set {
        /// Security level of frames sent: 1-3 (MIC-32/64/128) or 5-7 (ENC-MIC-32/64/128);
        /// the device refuses others.
        #[arg(long)]
        level: Option<u8>,
        /// Frame types accepted unsecured: `none`, or some of beacon,data,command.
        #[arg(long, value_name = "beacon,data,command|none",
              value_parser = host_bridge::cmd::security::parse_unsecured)]
        allow_unsecured: Option<u8>,
        /// Rotate the key sequence every this many hours (0: only on command).
        #[arg(long, value_name = "HOURS")]
        rotate_period: Option<u32>,
    },
    /// Rotate to the next key sequence. Neighbours follow when they hear a frame under the
    /// new key (they accept the previous, current and next sequence); the device refuses
    /// another rotation within an hour of a key switch, so none is left two sequences behind.
    Rotate,
    /// Forget the network key: wpan0 sends and accepts unsecured frames again.
    Off,
}

/// An RPL objective function, by name.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Objective {
    /// MRHOF (RFC 6719), OCP 1.
    Mrhof,
    /// OF0 (RFC 6552), OCP 0.
    Of0,
}

/// A switch given as `on` or `off`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum OnOff {
    On,
    Off,
}

#[derive(Subcommand, Debug)]
enum PrefixCmd {
    /// The mesh prefix.
    Show,
    /// Change the mesh prefix (a /64).
    Set { prefix: String },
}

#[derive(Subcommand, Debug)]
enum ScanCmd {
    /// Energy detection per channel, as a bar chart.
    Energy {
        /// Channels, e.g. 11-26 or 11,15,20-22.
        #[arg(long, default_value = "11-26")]
        channels: String,
        /// Milliseconds per channel.
        #[arg(long, default_value_t = 20)]
        duration_ms: u16,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCmd {
    /// The running configuration.
    Show,
    /// Persist the running configuration.
    Save,
    /// Erase the stored configuration (defaults at the next reboot).
    Reset,
}

#[derive(Subcommand, Debug)]
enum PcapCmd {
    /// Reassemble and decompress the 6LoWPAN in an 802.15.4 capture (pcap or pcapng, link
    /// types 195, 230, 283) into raw IPv6 packets (pcap, LINKTYPE_IPV6 229). Contexts are
    /// learned from the router advertisements (6CO) in the capture; `--context` wins.
    Decode {
        /// Input capture, or `-` for standard input.
        input: PathBuf,
        /// Output pcap, or `-` for standard output (the report then goes to standard error).
        output: PathBuf,
        /// 6LoWPAN context, e.g. `--context 0=2001:db8:1::/64` (repeatable; wins over the
        /// contexts the capture's router advertisements announce).
        #[arg(long = "context", value_parser = pcap_decode::parse_context_arg)]
        contexts: Vec<(u8, Ipv6Addr, u8)>,
    },
}

fn parse_secs(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if v.is_finite() && v > 0.0 && v <= 86_400.0 {
        Ok(v)
    } else {
        Err("must be more than 0 and at most 86400 seconds".into())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    host_bridge::color::init(cli.color);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            host_bridge::progress_end();
            use host_bridge::color::{Stream, Style, paint};
            eprintln!("{}: {e}", paint(Stream::Stderr, Style::Error, "sixgate"));
            ExitCode::from(e.exit_code())
        }
    }
}

fn usage(m: impl Into<String>) -> CliError {
    CliError::Usage(m.into())
}

fn run(cli: Cli) -> Result<(), CliError> {
    let out = Out { json: cli.json };
    // Offline commands first: no device.
    if let Cmd::Pcap(PcapCmd::Decode {
        input,
        output,
        contexts,
    }) = &cli.cmd
    {
        return pcap_decode_cmd(out, input, output, contexts);
    }
    match &cli.cmd {
        Cmd::Completions { shell } => return cmd::generate::completions(Cli::command(), *shell),
        Cmd::Man { out } => return cmd::generate::man(Cli::command(), out.as_deref()),
        _ => {}
    }
    let port = cli.port.clone().ok_or_else(|| {
        usage("no device port: pass --port PATH or set SIXGATE_PORT (e.g. the --serial-pty path of sixgate-sim)")
    })?;
    if let Cmd::Daemon {
        http,
        http_public,
        token_file,
    } = &cli.cmd
    {
        if cli.direct {
            return Err(usage("--direct is for commands, not `daemon`"));
        }
        return daemon::run(daemon::DaemonOpts {
            port,
            baud: cli.baud,
            socket: cli.socket.clone(),
            http: http.map(|addr| daemon::http::HttpOpts {
                addr,
                public: *http_public,
                token_file: token_file.clone(),
            }),
        });
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let s = stop.clone();
        let _ = ctrlc::set_handler(move || s.store(true, Ordering::SeqCst));
    }
    let stopped = move || stop.load(Ordering::SeqCst);
    // Arguments are checked before the device is opened, so usage errors never wait.
    let plan = plan(&cli.cmd)?;
    let watch = watch_of(&cli.cmd);
    let mut dev = open_device(&cli, &port)?;
    let d = &mut dev;
    if let Some((every, title)) = watch {
        return cmd::watch::run(out, every, &title, &stopped, || match &plan {
            Plan::Nodes => cmd::nodes::list(d, out),
            Plan::IfaceList => cmd::iface::list(d, out),
            Plan::IfaceShow(n) => cmd::iface::show(d, out, n),
            Plan::Stats(i, _) => cmd::stats::run(d, out, i.as_deref(), false),
            _ => Err(usage(
                "--watch is for nodes list, stats, iface list and iface show",
            )),
        });
    }
    match plan {
        Plan::Info => cmd::info::run(d, out),
        Plan::IfaceList => cmd::iface::list(d, out),
        Plan::IfaceShow(n) => cmd::iface::show(d, out, &n),
        Plan::IfaceAdmin(n, up) => cmd::iface::admin(d, out, &n, up),
        Plan::IfaceSet(n, s) => cmd::iface::set(d, out, &n, s),
        Plan::AddrList => cmd::tables::addr_list(d, out),
        Plan::AddrAdd(i, a, l) => cmd::tables::addr_add(d, out, &i, a, l),
        Plan::AddrDel(i, a) => cmd::tables::addr_del(d, out, &i, a),
        Plan::RouteList => cmd::tables::route_list(d, out),
        Plan::RouteAdd(p, i, via, m, replace) => {
            cmd::tables::route_add(d, out, p, &i, via, m, replace)
        }
        Plan::RouteDel(p) => cmd::tables::route_del(d, out, p),
        Plan::Neigh => cmd::tables::neigh_list(d, out),
        Plan::Nodes => cmd::nodes::list(d, out),
        Plan::PrefixShow => cmd::tables::prefix_show(d, out),
        Plan::PrefixSet(p) => cmd::tables::prefix_set(d, out, p),
        Plan::Stats(i, r) => cmd::stats::run(d, out, i.as_deref(), r),
        Plan::Ping(o) => cmd::ping::run(d, out, &o, &stopped),
        Plan::Scan(m, ms) => cmd::scan::run(d, out, m, ms),
        Plan::Capture(o, w) => {
            let sink: Box<dyn std::io::Write> = if w == "-" {
                Box::new(std::io::stdout())
            } else {
                Box::new(
                    std::fs::File::create(&w)
                        .map_err(|e| CliError::Other(format!("cannot create {w}: {e}")))?,
                )
            };
            cmd::capture::run(d, out, &o, sink, w == "-", &stopped)
        }
        Plan::Follow(which, c, dur) => cmd::follow::run(d, out, which, c, dur, &stopped),
        Plan::RplShow => cmd::rpl::show(d, out),
        Plan::RplSet(c) => cmd::rpl::set(d, out, &c),
        Plan::RplRepair => cmd::rpl::repair(d, out),
        Plan::Topology(f) => cmd::topology::topology(d, out, f),
        Plan::SecurityShow => cmd::security::show(d, out),
        Plan::SecuritySetKey(k) => cmd::security::set_key(d, out, k),
        Plan::SecuritySet(c) => cmd::security::set(d, out, &c),
        Plan::SecurityRotate => cmd::security::rotate(d, out, Duration::from_secs_f64(cli.timeout)),
        Plan::SecurityOff => cmd::security::off(d, out),
        Plan::ConfigShow => cmd::config::show(d, out),
        Plan::ConfigSave => cmd::config::save(d, out),
        Plan::ConfigReset => cmd::config::reset(d, out),
        Plan::Reboot => cmd::config::reboot(d, out),
    }
}

/// The device session: through the port's daemon when one is running (or the one `--socket`
/// names, which must be), else the serial port itself (always with `--direct`).
fn open_device(cli: &Cli, port: &str) -> Result<device::Device, CliError> {
    let timeout = Duration::from_secs_f64(cli.timeout);
    if !cli.direct {
        let socket = cli
            .socket
            .clone()
            .unwrap_or_else(|| daemon::default_socket(port));
        match daemon::connect(&socket) {
            Some(s) => {
                let mut d = device::Device::new(Box::new(s), port, timeout);
                d.handshake()?;
                return Ok(d);
            }
            None if cli.socket.is_some() => {
                return Err(CliError::NoDevice {
                    port: port.to_string(),
                    why: format!(
                        "no sixgate daemon listens on {} (start one with `sixgate daemon`, or \
                         leave out --socket)",
                        socket.display()
                    ),
                });
            }
            // No daemon, or a stale socket file: the port itself.
            None => {}
        }
    }
    device::open(port, cli.baud, timeout)
}

/// Binary output to a terminal is refused, as tcpdump does: the bytes would garble it.
fn refuse_binary_to_terminal(what: &str) -> Result<(), CliError> {
    use std::io::IsTerminal as _;
    if std::io::stdout().is_terminal() {
        return Err(usage(format!(
            "{what}: standard output is a terminal; write to a file, or pipe `-` into a \
             program (e.g. `| wireshark -k -i -`)"
        )));
    }
    Ok(())
}

fn pcap_decode_cmd(
    out: Out,
    input: &std::path::Path,
    output: &std::path::Path,
    contexts: &[(u8, Ipv6Addr, u8)],
) -> Result<(), CliError> {
    let to_stdout = output.as_os_str() == "-";
    if to_stdout {
        refuse_binary_to_terminal("pcap decode")?;
    }
    // With `-` as output, standard output carries the packets: the report goes to stderr.
    let show = |r: &pcap_decode::DecodeReport| match (to_stdout, out.json) {
        (false, true) => out.json(&r.to_json()),
        (false, false) => host_bridge::outln!("{r}"),
        (true, true) => eprintln!("{}", r.to_json()),
        (true, false) => eprintln!("{r}"),
    };
    match pcap_decode::decode_file(input, output, contexts) {
        Ok(report) => {
            show(&report);
            Ok(())
        }
        Err(pcap_decode::DecodeError::Damaged {
            offset,
            problem,
            partial,
            written_to,
        }) => {
            show(&partial.report);
            let kept = match written_to {
                Some(p) => format!("; the intact part was decoded to {}", p.display()),
                None => String::new(),
            };
            Err(CliError::Other(format!(
                "{}: damaged at byte {offset}: {problem}{kept}",
                input.display()
            )))
        }
        Err(pcap_decode::DecodeError::BadContext(m)) => Err(CliError::Usage(m)),
        Err(e) => Err(CliError::Other(e.to_string())),
    }
}
