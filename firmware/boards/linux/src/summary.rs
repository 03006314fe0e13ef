//! The end-of-run summary of `sixgate-sim`: [`summary`] builds it as JSON (what
//! `--summary-json` writes; every value a number, string or list under a named key, documented
//! in `docs/user-guide.md`), [`human`] prints it for people.
//!
//! The border router's counters are the device's counter list (`sixgate stats`), in the same
//! shape as `sixgate stats --json`: `{"wpan0": {"mac": {...}, "ipv6": {...}}, "eth0": {...},
//! "device": {"device": {...}}}`, names from [`mgmt::counters::for_each_name`], values from
//! [`firmware::counters::for_each_value`].

use std::fmt::Write as _;

use firmware::app::App;
use mgmt::Layer;
use serde_json::{Map, Value, json};

use crate::simnet::World;

/// The name of a counter layer, as `sixgate stats` prints it.
pub fn layer_name(l: Layer) -> &'static str {
    match l {
        Layer::Mac => "mac",
        Layer::SixLowpan => "6lowpan",
        Layer::Ethernet => "ethernet",
        Layer::Ipv6 => "ipv6",
        Layer::Nd => "nd",
        Layer::Device => "device",
        Layer::Rpl => "rpl",
    }
}

/// Every counter of the device, `{scope: {layer: {name: value}}}` (scope: the interface, or
/// `device`). `mgmt_stats` and `frame_stats` are the management server's, when one runs.
pub fn counters(
    app: &App<'_>,
    mgmt_stats: &firmware::mgmt::MgmtStats,
    frame_stats: &mgmt::frame::DecoderStats,
) -> Value {
    let mut names = Vec::new();
    mgmt::counters::for_each_name(&mut |layer, iface, name| names.push((layer, iface, name)));
    let mut root = Map::new();
    firmware::counters::for_each_value(app, mgmt_stats, frame_stats, &mut |k, _, v| {
        let Some(&(layer, iface, name)) = names.get(k) else {
            return;
        };
        let scope = root
            .entry(iface.unwrap_or("device"))
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(l) = scope
            .as_object_mut()
            .map(|s| s.entry(layer_name(layer)).or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        {
            l.insert(name.into(), json!(v));
        }
    });
    Value::Object(root)
}

/// The summary of a run (see the module docs). `injected` describes the `--inject` capture,
/// `warnings` what the run printed as warnings.
pub fn summary(
    w: &World,
    injected: Option<&capture_file::CaptureContents>,
    warnings: &[String],
) -> Value {
    let host = w.br().and_then(|b| b.host());
    let mut nodes = Vec::new();
    for k in 0..w.nodes.len() {
        let Some(n) = w.node(k) else { continue };
        let addrs: Vec<String> = n.addresses().iter().map(|a| a.to_string()).collect();
        let global = n
            .addresses()
            .into_iter()
            .find(|a| !a.is_unicast_link_local());
        let delivered = match (host, global) {
            (Some(h), Some(g)) => h.readings_by_source().get(&g).copied().unwrap_or(0),
            _ => 0,
        };
        let c = n.counters();
        nodes.push(json!({
            "index": n.config().index,
            "addresses": addrs,
            "readings_sent": c.readings_sent,
            "readings_delivered": delivered,
            "replies_received": c.replies_received,
        }));
    }
    let mut ifaces = Map::new();
    let mut br = json!(null);
    if let Some(a) = w.br().and_then(|b| b.app()) {
        for (name, i) in [("wpan0", a.wpan_index()), ("eth0", a.eth_index())] {
            let st = a.iface_stats(i).unwrap_or_default();
            let drops: Map<String, Value> = st
                .drops_by_reason()
                .filter(|(_, n)| *n > 0)
                .map(|(r, n)| (r.label().to_string(), json!(n)))
                .collect();
            ifaces.insert(
                name.into(),
                json!({
                    "rx_packets": st.rx_packets,
                    "tx_packets": st.tx_packets,
                    "forwarded": st.forwarded,
                    "delivered": st.delivered,
                    "icmp_errors_sent": st.icmp_errors_sent,
                    "drops": drops,
                }),
            );
        }
        let s = a.status();
        let c = a.config();
        br = json!({
            "uptime_s": s.uptime.as_micros() as f64 / 1e6,
            "registered": s.registered,
            "gleaned": s.gleaned,
            "pool_free": s.pool_free,
            "pool_size": s.pool_size,
            "pool_accounted": a.pool_accounted(),
            "reassembly_slots_in_use": a.wpan().reassembler().slots_in_use(),
            "boots": w.br().map_or(0, |b| b.boots()),
            "config": {
                "channel": c.channel,
                "pan_id": format!("0x{:04x}", c.pan_id),
                "prefix": format!("{}/64", c.mesh_prefix_addr()),
            },
            "counters": counters(a, &Default::default(), &Default::default()),
        });
    }
    let hostj = host.map(|h| {
        json!({
            "readings": h.counters().readings,
            "replies_sent": h.counters().replies_sent,
            "icmp_errors": h.icmp_errors().count(),
        })
    });
    let zep = w.sim.zep().map(|z| {
        let c = z.counters();
        let m = w.sim.medium_ref();
        let br_radio = w.br().map(sim::SimNode::radio_id);
        let peers: Vec<Value> = z
            .peers()
            .iter()
            .map(|p| {
                json!({
                    "addr": p.addr.to_string(),
                    "eui64": p.eui64.map(|e| {
                        e.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
                    }),
                    "frames_in": p.frames_in,
                    "frames_out": p.frames_out,
                    "ack_requests": p.ack_requests,
                    "repeats": p.repeats,
                    "acks_out": p.acks_out,
                    "filtered": p.filtered,
                })
            })
            .collect();
        json!({
            "addr": z.local_addr().to_string(),
            "datagrams_in": c.datagrams_in,
            "datagrams_out": c.datagrams_out,
            "malformed": c.malformed,
            "peers_refused": c.peers_refused,
            "send_errors": c.send_errors,
            "acks_held": c.acks_held,
            "ack_grace_expired": c.ack_grace_expired,
            "ack_holds": w.sim.stats().zep_ack_holds,
            "reanchors": w.sim.stats().zep_reanchors,
            "br_tx_deferred": br_radio.map_or(0, |r| m.counters(r).tx_deferred),
            "peers": peers,
        })
    });
    json!({
        "simulated_seconds": w.sim.now().as_micros() as f64 / 1e6,
        "zep": zep,
        "nodes": nodes,
        "interfaces": ifaces,
        "border_router": br,
        "backbone_host": hostj,
        "injected": injected.map(|c| json!({
            "frames": c.frames.len(),
            "skipped_other_linktype": c.other_linktype,
            "malformed_records": c.malformed,
        })),
        "warnings": warnings,
    })
}

/// A JSON string without its quotes (`-` for anything else).
fn text_of(v: &Value) -> &str {
    v.as_str().unwrap_or("-")
}

/// Drops by reason as people read them: `no_route 3, queue_full 1`, or `none`.
fn drops_text(d: &Value) -> String {
    let mut out = String::new();
    for (reason, n) in d.as_object().into_iter().flatten() {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(out, "{reason} {n}");
    }
    if out.is_empty() {
        out.push_str("none");
    }
    out
}

/// The summary for people: per node, per interface (drops by reason), then the warnings.
pub fn human(s: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "summary after {:.1} simulated seconds",
        s["simulated_seconds"].as_f64().unwrap_or(0.0)
    );
    for n in s["nodes"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  node {:>3}: readings sent {:>5}, delivered {:>5}, replies {:>5}",
            n["index"], n["readings_sent"], n["readings_delivered"], n["replies_received"]
        );
    }
    for (name, v) in s["interfaces"].as_object().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  {name}: rx {} tx {} forwarded {} drops {}",
            v["rx_packets"],
            v["tx_packets"],
            v["forwarded"],
            drops_text(&v["drops"])
        );
    }
    let z = &s["zep"];
    if !z.is_null() {
        let _ = writeln!(
            out,
            "  zep {}: datagrams in {} out {} malformed {}",
            text_of(&z["addr"]),
            z["datagrams_in"],
            z["datagrams_out"],
            z["malformed"]
        );
        for p in z["peers"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "    peer {} ({}): frames in {} (ACK requests {}, repeated {}) out {} (ACKs {})",
                text_of(&p["eui64"]),
                text_of(&p["addr"]),
                p["frames_in"],
                p["ack_requests"],
                p["repeats"],
                p["frames_out"],
                p["acks_out"]
            );
        }
    }
    for w in s["warnings"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "  warning: {}", w.as_str().unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_named_or_none() {
        assert_eq!(drops_text(&json!({})), "none");
        assert_eq!(drops_text(&Value::Null), "none");
        assert_eq!(
            drops_text(&json!({"no_route": 3, "queue_full": 1})),
            "no_route 3, queue_full 1"
        );
    }
}
