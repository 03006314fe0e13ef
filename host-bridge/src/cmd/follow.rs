//! `sixgate events`, `sixgate log`: follow what the device reports until Ctrl-C (or
//! `--count`/`--duration`).

use std::time::{Duration, Instant};

use mgmt::{EventKind, Level, Message, Request};
use serde_json::json;

use super::{Out, ip};
use crate::device::Device;
use crate::error::CliError;

/// Which stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Events.
    Events,
    /// Log lines.
    Logs,
}

/// An event's stable name and its line of text.
pub fn event_text(k: &EventKind<'_>) -> (String, String) {
    use EventKind as E;
    let (name, text) = match k {
        E::IfaceUp(i) => ("iface_up", format!("{i} up")),
        E::IfaceDown(i) => ("iface_down", format!("{i} down")),
        E::AddrAdded(i, a) => ("addr_added", format!("{i}: address {} added", ip(a))),
        E::AddrRemoved(i, a) => ("addr_removed", format!("{i}: address {} removed", ip(a))),
        E::AddrDeprecated(i, a) => (
            "addr_deprecated",
            format!("{i}: address {} deprecated", ip(a)),
        ),
        E::RouteAdded(p, l, i) => (
            "route_added",
            format!("route {}/{l} via {} added", ip(p), i.unwrap_or("reject")),
        ),
        E::RouteRemoved(p, l, i) => (
            "route_removed",
            format!("route {}/{l} via {} removed", ip(p), i.unwrap_or("reject")),
        ),
        E::NodeRegistered(a) => ("node_registered", format!("node {} registered", ip(a))),
        E::NodeRefused(a, s) => (
            "node_refused",
            format!("node {} refused (ARO status {s})", ip(a)),
        ),
        E::NodeDeregistered(a) => ("node_deregistered", format!("node {} deregistered", ip(a))),
        E::DadSucceeded(a) => ("dad_succeeded", format!("eth0: {} is unique", ip(a))),
        E::DadFailed(a) => (
            "dad_failed",
            format!("eth0: {} is a duplicate, removed", ip(a)),
        ),
        E::ResolutionFailed(a) => (
            "resolution_failed",
            format!("eth0: {} does not answer", ip(a)),
        ),
        E::AddressFormed(a) => (
            "address_formed",
            format!("eth0: address {} formed (SLAAC)", ip(a)),
        ),
        E::RouterLearned(a) => ("router_learned", format!("eth0: default router {}", ip(a))),
        E::PrefixConflict(p, l) => (
            "prefix_conflict",
            format!(
                "eth0: a router advertised {}/{l} inside our prefix: refused (`sixgate neigh list` shows routers)",
                ip(p)
            ),
        ),
        E::ChannelChanged(c) => ("channel_changed", format!("wpan0: channel {c}")),
        E::PanIdChanged(p) => ("pan_id_changed", format!("wpan0: PAN ID 0x{p:04x}")),
        E::PrefixChanged(p) => ("prefix_changed", format!("mesh prefix {}/64", ip(p))),
        E::TxPowerChanged(d) => ("tx_power_changed", format!("wpan0: tx power {d} dBm")),
        E::Energy(c, d) => ("energy", format!("channel {c}: {d} dBm")),
        E::Lost(n) => ("lost", format!("{n} events lost")),
        E::TargetAdded(a) => ("target_added", format!("rpl: target {} added", ip(a))),
        E::TargetRemoved(a) => (
            "target_removed",
            format!("rpl: target {} removed (No-Path)", ip(a)),
        ),
        E::TargetExpired(a) => (
            "target_expired",
            format!("rpl: target {} expired (path lifetime over)", ip(a)),
        ),
        E::DaoRejected(a, s) => (
            "dao_rejected",
            format!("rpl: DAO for {} rejected (DAO-ACK status {s})", ip(a)),
        ),
        E::DodagVersion(v) => ("dodag_version", format!("rpl: new DODAG version {v}")),
    };
    (name.to_string(), text)
}

/// A log level as printed.
pub fn level_text(l: Level) -> &'static str {
    match l {
        Level::Error => "ERROR",
        Level::Warn => "WARN",
        Level::Info => "INFO",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    }
}

/// Subscribes and prints until `stop()`, `count` messages or `duration`.
pub fn run(
    dev: &mut Device,
    out: Out,
    which: Stream,
    count: Option<u64>,
    duration: Option<Duration>,
    stop: &dyn Fn() -> bool,
) -> Result<(), CliError> {
    dev.request_ok(&Request::Subscribe {
        events: which == Stream::Events,
        logs: which == Stream::Logs,
    })?;
    let end = duration.map(|d| Instant::now() + d);
    let mut seen = 0u64;
    while !stop() && count.is_none_or(|c| seen < c) && end.is_none_or(|e| Instant::now() < e) {
        let deadline = Instant::now() + Duration::from_millis(200);
        dev.next_frame(deadline, &mut |_, m| match (which, m) {
            (Stream::Events, Ok(Message::Event(e))) => {
                seen += 1;
                let (name, text) = event_text(&e.kind);
                if out.json {
                    crate::outln!("{}", json!({"ts_ms": e.ts_ms, "event": name, "text": text}));
                } else {
                    crate::outln!("{:>10.3}  {text}", e.ts_ms as f64 / 1000.0);
                }
            }
            (Stream::Logs, Ok(Message::Log(l))) => {
                seen += 1;
                if out.json {
                    crate::outln!(
                        "{}",
                        json!({"ts_ms": l.ts_ms, "level": level_text(l.level), "target": l.target, "text": l.text})
                    );
                } else {
                    crate::outln!(
                        "{:>10.3}  {:<5} {}: {}",
                        l.ts_ms as f64 / 1000.0,
                        level_text(l.level),
                        l.target,
                        l.text
                    );
                }
            }
            _ => {}
        })?;
    }
    // Leave the device quiet for the next command.
    let _ = dev.request_ok(&Request::Subscribe {
        events: false,
        logs: false,
    });
    Ok(())
}
