//! The binary's second job beside running commands: turning a parsed command line into a
//! [`Plan`] — every argument checked and converted before a device is opened — and the
//! `--watch` interval of the commands that repeat.

use std::net::Ipv6Addr;
use std::time::Duration;

use super::*;

/// `--watch`'s interval and the command's title, if given.
pub(super) fn watch_of(c: &Cmd) -> Option<(Duration, String)> {
    let (w, title) = match c {
        Cmd::Nodes(NodesCmd::List { watch }) => (watch, "nodes list".to_string()),
        Cmd::Iface(IfaceCmd::List { watch }) => (watch, "iface list".to_string()),
        Cmd::Iface(IfaceCmd::Show { name, watch }) => (watch, format!("iface show {name}")),
        Cmd::Stats { iface, watch, .. } => (
            watch,
            iface
                .as_ref()
                .map_or("stats".to_string(), |i| format!("stats {i}")),
        ),
        _ => return None,
    };
    Some((Duration::from_secs_f64(w.watch?), title))
}

/// A command with its arguments checked.
pub(super) enum Plan {
    Info,
    IfaceList,
    IfaceShow(String),
    IfaceAdmin(String, bool),
    IfaceSet(String, cmd::iface::Setting),
    AddrList,
    AddrAdd(String, Ipv6Addr, u8),
    AddrDel(String, Ipv6Addr),
    RouteList,
    RouteAdd((Ipv6Addr, u8), String, Option<Ipv6Addr>, u16, bool),
    RouteDel((Ipv6Addr, u8)),
    Neigh,
    Nodes,
    PrefixShow,
    PrefixSet((Ipv6Addr, u8)),
    Stats(Option<String>, bool),
    Ping(cmd::ping::PingOpts),
    Scan(u32, u16),
    Capture(cmd::capture::CaptureOpts, String),
    Follow(cmd::follow::Stream, Option<u64>, Option<Duration>),
    RplShow,
    RplSet(cmd::rpl::RplChanges),
    RplRepair,
    Topology(cmd::topology::TopoFormat),
    SecurityShow,
    SecuritySetKey(cmd::security::NetworkKey),
    SecuritySet(cmd::security::SecurityChanges),
    SecurityRotate,
    SecurityOff,
    ConfigShow,
    ConfigSave,
    ConfigReset,
    Reboot,
}

pub(super) fn plan(c: &Cmd) -> Result<Plan, CliError> {
    Ok(match c {
        Cmd::Info => Plan::Info,
        Cmd::Iface(IfaceCmd::List { .. }) => Plan::IfaceList,
        Cmd::Iface(IfaceCmd::Show { name, .. }) => Plan::IfaceShow(name.clone()),
        Cmd::Iface(IfaceCmd::Up { name }) => Plan::IfaceAdmin(name.clone(), true),
        Cmd::Iface(IfaceCmd::Down { name }) => Plan::IfaceAdmin(name.clone(), false),
        Cmd::Iface(IfaceCmd::Set {
            name,
            setting,
            value,
        }) => {
            use cmd::iface::Setting;
            let s = match setting.as_str() {
                "channel" => Setting::Channel(
                    value
                        .parse()
                        .ok()
                        .filter(|c| (11..=26).contains(c))
                        .ok_or_else(|| usage(format!("channel `{value}`: expected 11..=26")))?,
                ),
                "pan-id" => Setting::PanId(
                    cmd::parse_u16(value)
                        .ok()
                        .filter(|p| *p != 0xffff)
                        .ok_or_else(|| {
                            usage(format!(
                                "pan-id `{value}`: expected 0..=0xfffe (decimal or 0x hex; \
                                     0xffff is the broadcast PAN ID)"
                            ))
                        })?,
                ),
                "tx-power" => Setting::TxPower(value.parse().map_err(|_| {
                    usage(format!(
                        "tx-power `{value}`: expected whole dBm, e.g. -4 (the device's \
                             range, at most -40..=8)"
                    ))
                })?),
                other => {
                    return Err(usage(format!(
                        "unknown setting `{other}`: expected channel, pan-id or tx-power"
                    )));
                }
            };
            Plan::IfaceSet(name.clone(), s)
        }
        Cmd::Addr(AddrCmd::List) => Plan::AddrList,
        Cmd::Addr(AddrCmd::Add { iface, addr }) => {
            let (a, l) = cmd::parse_prefix(addr).map_err(usage)?;
            Plan::AddrAdd(iface.clone(), a, l)
        }
        Cmd::Addr(AddrCmd::Del { iface, addr }) => Plan::AddrDel(iface.clone(), *addr),
        Cmd::Route(RouteCmd::List) => Plan::RouteList,
        Cmd::Route(RouteCmd::Add {
            replace,
            prefix,
            rest,
        }) => {
            let p = route_prefix(prefix)?;
            let mut replace = *replace;
            let mut dev = None;
            let mut via = None;
            let mut metric = 0u16;
            let mut it = rest.iter();
            while let Some(k) = it.next() {
                if k == "--replace" {
                    replace = true;
                    continue;
                }
                let v = it
                    .next()
                    .ok_or_else(|| usage(format!("`{k}` needs a value")))?;
                match k.as_str() {
                    "dev" => dev = Some(v.clone()),
                    "via" => {
                        via = Some(
                            v.parse::<Ipv6Addr>()
                                .map_err(|_| usage(format!("`{v}` is not an IPv6 address")))?,
                        )
                    }
                    "metric" => {
                        metric = v
                            .parse()
                            .map_err(|_| usage(format!("metric `{v}`: expected 0..=65535")))?
                    }
                    other => {
                        return Err(usage(format!(
                            "unexpected `{other}`: expected dev IFACE, via ADDR, metric N"
                        )));
                    }
                }
            }
            let dev = dev.ok_or_else(|| usage("route add needs `dev IFACE`"))?;
            Plan::RouteAdd(p, dev, via, metric, replace)
        }
        Cmd::Route(RouteCmd::Del { prefix }) => Plan::RouteDel(route_prefix(prefix)?),
        Cmd::Neigh(ListOnly::List) => Plan::Neigh,
        Cmd::Rpl { cmd: None }
        | Cmd::Rpl {
            cmd: Some(RplCmd::Show),
        } => Plan::RplShow,
        Cmd::Rpl {
            cmd: Some(RplCmd::Repair),
        } => Plan::RplRepair,
        Cmd::Rpl {
            cmd:
                Some(RplCmd::Set {
                    enable,
                    disable,
                    mop,
                    instance,
                    dio_min,
                    dio_doublings,
                    dio_k,
                    lifetime,
                    lifetime_unit,
                    max_depth,
                    min_hop_rank_increase,
                    rfc8138,
                    objective,
                }),
        } => {
            let c = cmd::rpl::RplChanges {
                enabled: if *enable {
                    Some(true)
                } else if *disable {
                    Some(false)
                } else {
                    None
                },
                mop: *mop,
                instance: *instance,
                dio_min: *dio_min,
                dio_doublings: *dio_doublings,
                dio_k: *dio_k,
                lifetime: *lifetime,
                lifetime_unit: *lifetime_unit,
                max_depth: *max_depth,
                min_hop_rank_increase: *min_hop_rank_increase,
                rfc8138: rfc8138.map(|s| s == OnOff::On),
                ocp: objective.map(|o| match o {
                    Objective::Of0 => 0,
                    Objective::Mrhof => 1,
                }),
            };
            if c == cmd::rpl::RplChanges::default() {
                return Err(usage(
                    "rpl set needs at least one setting (see `sixgate rpl set --help`)",
                ));
            }
            Plan::RplSet(c)
        }
        Cmd::Topology { dot } => Plan::Topology(if *dot {
            cmd::topology::TopoFormat::Dot
        } else {
            cmd::topology::TopoFormat::Tree
        }),
        Cmd::Security { cmd: None }
        | Cmd::Security {
            cmd: Some(SecurityCmd::Show),
        } => Plan::SecurityShow,
        Cmd::Security {
            cmd: Some(SecurityCmd::SetKey { key_file, stray }),
        } => {
            if !stray.is_empty() {
                // Never repeat what was given: it may be the key.
                return Err(usage(
                    "security set-key takes no key on the command line (it would stay in shell \
                     history and the process list; if you typed one, treat it as exposed): put \
                     the 32 hex digits in a file and use --key-file FILE, or `< FILE`",
                ));
            }
            use cmd::security::KeySource;
            let src = match key_file {
                Some(p) if p.as_os_str() != "-" => KeySource::File(p),
                _ => KeySource::Stdin,
            };
            Plan::SecuritySetKey(cmd::security::read_key(src)?)
        }
        Cmd::Security {
            cmd:
                Some(SecurityCmd::Set {
                    level,
                    allow_unsecured,
                    rotate_period,
                }),
        } => {
            let c = cmd::security::SecurityChanges {
                level: *level,
                unsecured_allowed: *allow_unsecured,
                rotate_period_h: *rotate_period,
            };
            if c == cmd::security::SecurityChanges::default() {
                return Err(usage(
                    "security set needs at least one of --level, --allow-unsecured, \
                     --rotate-period",
                ));
            }
            Plan::SecuritySet(c)
        }
        Cmd::Security {
            cmd: Some(SecurityCmd::Rotate),
        } => Plan::SecurityRotate,
        Cmd::Security {
            cmd: Some(SecurityCmd::Off),
        } => Plan::SecurityOff,
        Cmd::Nodes(NodesCmd::List { .. }) => Plan::Nodes,
        Cmd::Prefix(PrefixCmd::Show) => Plan::PrefixShow,
        Cmd::Prefix(PrefixCmd::Set { prefix }) => {
            Plan::PrefixSet(cmd::parse_prefix(prefix).map_err(usage)?)
        }
        Cmd::Stats { iface, reset, .. } => Plan::Stats(iface.clone(), *reset),
        Cmd::Ping {
            addr,
            count,
            size,
            interval,
            wait,
        } => {
            let (a, iface) = match addr.split_once('%') {
                Some((a, i)) => (a, Some(i.to_string())),
                None => (addr.as_str(), None),
            };
            let dst: Ipv6Addr = a
                .parse()
                .map_err(|_| usage(format!("`{a}` is not an IPv6 address")))?;
            if *count == 0 {
                return Err(usage("-c must be at least 1"));
            }
            Plan::Ping(cmd::ping::PingOpts {
                dst,
                iface,
                count: *count,
                size: *size,
                interval: Duration::from_secs_f64(*interval),
                wait: Duration::from_secs_f64(*wait),
            })
        }
        Cmd::Scan(ScanCmd::Energy {
            channels,
            duration_ms,
        }) => {
            let m = cmd::scan::parse_channels(channels).map_err(usage)?;
            if *duration_ms == 0 || *duration_ms > 1000 {
                return Err(usage("--duration-ms must be 1..=1000"));
            }
            Plan::Scan(m, *duration_ms)
        }
        Cmd::Capture {
            ifaces,
            count,
            duration,
            promiscuous,
            write,
        } => {
            let mut o = cmd::capture::CaptureOpts {
                wpan0: false,
                eth0: false,
                promiscuous: *promiscuous,
                count: *count,
                duration: duration.map(Duration::from_secs_f64),
            };
            for i in ifaces.split(',') {
                match i.trim() {
                    "wpan0" => o.wpan0 = true,
                    "eth0" => o.eth0 = true,
                    other => {
                        return Err(usage(format!(
                            "-i: unknown interface `{other}` (wpan0, eth0)"
                        )));
                    }
                }
            }
            if count == &Some(0) {
                return Err(usage("-c must be at least 1"));
            }
            if write == "-" {
                refuse_binary_to_terminal("capture")?;
            }
            Plan::Capture(o, write.clone())
        }
        Cmd::Events { count, duration } => Plan::Follow(
            cmd::follow::Stream::Events,
            *count,
            duration.map(Duration::from_secs_f64),
        ),
        Cmd::Log { count, duration } => Plan::Follow(
            cmd::follow::Stream::Logs,
            *count,
            duration.map(Duration::from_secs_f64),
        ),
        Cmd::Config(ConfigCmd::Show) => Plan::ConfigShow,
        Cmd::Config(ConfigCmd::Save) => Plan::ConfigSave,
        Cmd::Config(ConfigCmd::Reset) => Plan::ConfigReset,
        Cmd::Reboot => Plan::Reboot,
        Cmd::Pcap(_) | Cmd::Completions { .. } | Cmd::Man { .. } => {
            return Err(usage("this command needs no device"));
        }
        Cmd::Daemon { .. } => return Err(usage("`daemon` runs no command")),
    })
}

/// A route's destination: `PREFIX/LEN` or `default` (`::/0`), host bits cleared with a note.
fn route_prefix(s: &str) -> Result<(Ipv6Addr, u8), CliError> {
    if s == "default" {
        return Ok((Ipv6Addr::UNSPECIFIED, 0));
    }
    let (a, l) = cmd::parse_prefix(s).map_err(usage)?;
    let masked = cmd::mask(a, l);
    if masked != a {
        eprintln!("note: {a}/{l} has host bits set; the route is to {masked}/{l}");
    }
    Ok((masked, l))
}
