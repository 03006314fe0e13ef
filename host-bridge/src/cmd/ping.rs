//! `sixgate ping ADDR [-c N] [-s SIZE] [-i INTERVAL]`: ICMPv6 echo sent by the device.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use mgmt::{PingOutcome, Request, Response};
use serde_json::json;

use super::{Out, ip};
use crate::device::Device;
use crate::error::CliError;

/// Options.
#[derive(Debug, Clone)]
pub struct PingOpts {
    /// Destination.
    pub dst: Ipv6Addr,
    /// Egress interface (`ADDR%IFACE`).
    pub iface: Option<String>,
    /// Echo requests.
    pub count: u16,
    /// Data bytes.
    pub size: u16,
    /// Between requests.
    pub interval: Duration,
    /// Wait per reply.
    pub wait: Duration,
}

/// Sends the echoes one by one and prints the replies and an RTT summary. Exit status 1 when
/// no reply came back.
pub fn run(
    dev: &mut Device,
    out: Out,
    o: &PingOpts,
    stop: &dyn Fn() -> bool,
) -> Result<(), CliError> {
    let mut rtts: Vec<f64> = Vec::new();
    let mut results = Vec::new();
    let mut sent = 0u32;
    let mut errors = 0u32;
    if !out.json {
        crate::outln!(
            "PING {} from the border router: {} data bytes",
            o.dst,
            o.size
        );
    }
    let wait_ms = u32::try_from(o.wait.as_millis()).unwrap_or(u32::MAX);
    for seq in 1..=o.count {
        if stop() {
            break;
        }
        let t0 = Instant::now();
        sent += 1;
        let r = dev.request_with(
            &Request::Ping {
                dst: o.dst.octets(),
                size: o.size,
                seq,
                timeout_ms: wait_ms,
                iface: o.iface.as_deref(),
            },
            Some(o.wait + Duration::from_secs(2)),
            &mut |_| {},
            |r| match r {
                Response::Ping(p) => Ok(p),
                other => super::unexpected(other),
            },
        )??;
        match r {
            PingOutcome::Reply {
                rtt_us,
                hop_limit,
                size,
            } => {
                let ms = f64::from(rtt_us) / 1000.0;
                rtts.push(ms);
                results.push(json!({"seq": seq, "reply": true, "rtt_ms": ms, "hop_limit": hop_limit, "size": size}));
                if !out.json {
                    crate::outln!(
                        "{} bytes from {}: icmp_seq={} hlim={} time={:.2} ms",
                        u32::from(size) + 8,
                        o.dst,
                        seq,
                        hop_limit,
                        ms
                    );
                }
            }
            PingOutcome::Timeout => {
                results.push(json!({"seq": seq, "reply": false, "outcome": "timeout"}));
                if !out.json {
                    crate::outln!(
                        "no reply for icmp_seq={seq} within {:.1} s",
                        o.wait.as_secs_f64()
                    );
                }
            }
            PingOutcome::Error {
                icmp_type,
                code,
                from,
            } => {
                errors += 1;
                let what = icmp_text(icmp_type, code);
                results.push(json!({"seq": seq, "reply": false, "outcome": what, "from": ip(&from).to_string()}));
                if !out.json {
                    crate::outln!("from {}: icmp_seq={} {}", ip(&from), seq, what);
                }
            }
            PingOutcome::NotSent => {
                results.push(json!({"seq": seq, "reply": false, "outcome": "not sent"}));
                if !out.json {
                    crate::outln!(
                        "icmp_seq={seq}: the device could not send it (no route or no buffer)"
                    );
                }
            }
        }
        if seq < o.count {
            let spent = t0.elapsed();
            if spent < o.interval {
                std::thread::sleep(o.interval - spent);
            }
        }
    }
    let received = rtts.len() as u32;
    let loss = if sent == 0 {
        0.0
    } else {
        100.0 * f64::from(sent - received) / f64::from(sent)
    };
    let (min, max) = rtts
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    let avg = if rtts.is_empty() {
        0.0
    } else {
        rtts.iter().sum::<f64>() / rtts.len() as f64
    };
    let mdev = if rtts.is_empty() {
        0.0
    } else {
        (rtts.iter().map(|x| (x - avg).powi(2)).sum::<f64>() / rtts.len() as f64).sqrt()
    };
    if out.json {
        out.json(&json!({
            "destination": o.dst.to_string(),
            "transmitted": sent,
            "received": received,
            "errors": errors,
            "loss_percent": loss,
            "rtt_ms": if rtts.is_empty() { json!(null) } else { json!({"min": min, "avg": avg, "max": max, "mdev": mdev}) },
            "replies": results,
        }));
    } else {
        crate::outln!("--- {} ping statistics ---", o.dst);
        crate::outln!(
            "{sent} packets transmitted, {received} received, {}{loss:.0}% packet loss",
            if errors > 0 {
                format!("+{errors} errors, ")
            } else {
                String::new()
            }
        );
        if !rtts.is_empty() {
            crate::outln!("rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms");
        }
    }
    if received == 0 && sent > 0 {
        return Err(CliError::Other(format!("no reply from {}", o.dst)));
    }
    Ok(())
}

fn icmp_text(t: u8, c: u8) -> String {
    match (t, c) {
        (1, 0) => "Destination unreachable: no route".into(),
        (1, 1) => "Destination unreachable: administratively prohibited".into(),
        (1, 3) => "Destination unreachable: address unreachable".into(),
        (1, 4) => "Destination unreachable: port unreachable".into(),
        (1, 5) => "Destination unreachable: source address failed ingress policy".into(),
        (2, _) => "Packet too big".into(),
        (3, 0) => "Time exceeded: hop limit".into(),
        (3, 1) => "Time exceeded: fragment reassembly".into(),
        (4, _) => "Parameter problem".into(),
        _ => format!("ICMPv6 type {t} code {c}"),
    }
}
