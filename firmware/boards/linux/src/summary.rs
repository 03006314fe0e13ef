//! The end-of-run summary of `sixgate-sim`: [`summary`] builds it as JSON (what
//! `--summary-json` writes; every value a number, string or list under a named key, documented
//! in `docs/user-guide.md`), [`human`] prints it for people.
//!
//! The border router's counters are the device's counter list (`sixgate stats`), in the same
//! shape as `sixgate stats --json`: `{"wpan0": {"mac": {...}, "ipv6": {...}}, "eth0": {...},
//! "device": {"device": {...}}}`, names from [`mgmt::counters::for_each_name`], values from
//! [`firmware::counters::for_each_value`].
//!
//! Our mesh routers (`--routers`) are listed under `routers`: each one's state at the end,
//! its counters, its packet-pool accounting, and its history ([`RouterHistory`]: its power,
//! RPL phase, rank and preferred parent each time one of them changed).

use std::fmt::Write as _;
use std::net::Ipv6Addr;

use firmware::app::App;
use mgmt::Layer;
use netif::Instant;
use serde_json::{Map, Value, json};

use crate::simnet::World;
use crate::simnet::router_node::RouterNode;

/// Entries kept per router in a [`RouterHistory`]; later changes are counted
/// (`history_dropped`), not kept.
pub const HISTORY_ENTRIES: usize = 256;

/// What a router looks like from outside at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RouterState {
    powered: bool,
    boots: u32,
    /// `off` while powered off, else the RPL phase (`unjoined`, `joined`, `poisoning`…).
    phase: String,
    /// Joined only.
    rank: Option<u16>,
    /// The preferred parent (link-local), joined only.
    parent: Option<Ipv6Addr>,
}

/// Our router `k` (from 0) of `w`.
fn router(w: &World, k: usize) -> Option<&RouterNode> {
    w.sim.node::<RouterNode>(*w.routers.get(k)?)
}

fn router_state(w: &World, k: usize) -> Option<RouterState> {
    let id = *w.routers.get(k)?;
    let node = router(w, k)?;
    let powered = w.sim.is_powered(id);
    let core = node.app().and_then(App::mesh_router).map(|m| m.core());
    let phase = match (powered, core) {
        (false, _) => "off".to_string(),
        (true, None) => "down".to_string(),
        (true, Some(c)) => format!("{:?}", c.phase()).to_lowercase(),
    };
    let joined = powered && phase == "joined";
    Some(RouterState {
        powered,
        boots: node.boots(),
        rank: core.filter(|_| joined).map(|c| c.rank()),
        parent: core.filter(|_| joined).and_then(|c| c.preferred_parent()),
        phase,
    })
}

fn state_json(at: Instant, s: &RouterState) -> Value {
    json!({
        "t_s": at.as_micros() as f64 / 1e6,
        "powered": s.powered,
        "boots": s.boots,
        "phase": s.phase,
        "rank": s.rank,
        "parent": s.parent.map(|p| p.to_string()),
    })
}

/// One router's changes.
#[derive(Debug, Default)]
struct Log {
    entries: Vec<(Instant, RouterState)>,
    dropped: u64,
}

/// Each router's power, RPL phase, rank and preferred parent over the run: an entry each
/// time one of them changed, as seen by [`RouterHistory::observe`] (called as the run goes,
/// every 100 ms of simulated time by `sixgate-sim`). At most [`HISTORY_ENTRIES`] per router.
#[derive(Debug, Default)]
pub struct RouterHistory {
    logs: Vec<Log>,
}

impl RouterHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Look at every router of `w` now; note what changed.
    pub fn observe(&mut self, w: &World) {
        let now = w.sim.now();
        if self.logs.len() < w.routers.len() {
            self.logs.resize_with(w.routers.len(), Log::default);
        }
        for (k, log) in self.logs.iter_mut().enumerate() {
            let Some(s) = router_state(w, k) else {
                continue;
            };
            if log.entries.last().map(|(_, l)| l) == Some(&s) {
                continue;
            }
            if log.entries.len() >= HISTORY_ENTRIES {
                log.dropped += 1;
            } else {
                log.entries.push((now, s));
            }
        }
    }

    fn json(&self, k: usize) -> (Value, u64) {
        self.logs.get(k).map_or((json!([]), 0), |l| {
            let v = l.entries.iter().map(|(t, s)| state_json(*t, s)).collect();
            (v, l.dropped)
        })
    }
}

fn hex_colon(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Our mesh routers now (see the module docs and `docs/user-guide.md`), `r1` first.
pub fn routers(w: &World, history: &RouterHistory) -> Value {
    let mut out = Vec::new();
    for k in 0..w.routers.len() {
        let (Some(node), Some(state)) = (router(w, k), router_state(w, k)) else {
            continue;
        };
        let app = node.app();
        let mesh = app.and_then(App::mesh_router);
        let core = mesh.map(|m| m.core());
        let st = mesh.map(|m| m.stats()).unwrap_or_default();
        let status = app.map(App::status);
        let (history, dropped) = history.json(k);
        out.push(json!({
            "name": format!("r{}", k + 1),
            "radio": sim::SimNode::radio_id(node).0,
            "eui64": app.map(|a| hex_colon(&a.config().eui64)),
            "address": app.map(|a| firmware::root::mesh_address(a.config()).to_string()),
            "powered": state.powered,
            "boots": state.boots,
            "phase": state.phase,
            "rank": state.rank,
            "parent": state.parent.map(|p| p.to_string()),
            "parent_global": core
                .filter(|_| state.rank.is_some())
                .and_then(|c| c.preferred_parent_global())
                .map(|p| p.to_string()),
            "dodag_id": core.and_then(|c| c.dodag()).map(|d| d.dodag_id.to_string()),
            "dodag_version": core.and_then(|c| c.dodag()).map(|d| d.version),
            "rfc8138": app.map(|a| a.wpan().compress_options().rfc8138),
            "counters": {
                "dio_rx": st.dio_rx,
                "dio_tx": st.dio_tx,
                "dis_tx": st.dis_tx,
                "dao_tx": st.dao_tx,
                "dao_ack_rx": st.dao_ack_rx,
                "rx_invalid": st.rx_invalid,
                "tx_failed": st.tx_failed,
                "srh_forwarded": st.srh_forwarded,
                "parent_probes": st.parent_probes,
                "parents_lost": st.parents_lost,
                "hosts_not_advertised": st.hosts_not_advertised,
                "srh_dropped": st.srh_dropped,
                "decapsulated": st.decapsulated,
                "decap_dropped": st.decap_dropped,
            },
            "pool_free": status.map(|s| s.pool_free),
            "pool_size": status.map(|s| s.pool_size),
            "pool_accounted": app.map(App::pool_accounted),
            "reassembly_slots_in_use": app.map(|a| a.wpan().reassembler().slots_in_use()),
            "history": history,
            "history_dropped": dropped,
        }));
    }
    Value::Array(out)
}

/// One router as a line of the summary and of the live status.
pub fn router_line(r: &Value) -> String {
    let c = &r["counters"];
    let state = match (r["phase"].as_str(), r["rank"].as_u64()) {
        (Some("joined"), Some(rank)) => {
            format!("joined rank {rank} via {}", text_of(&r["parent"]))
        }
        (p, _) => p.unwrap_or("-").to_string(),
    };
    let pool = match r["pool_accounted"].as_bool() {
        Some(true) => "accounted",
        Some(false) => "LEAK",
        None => "-",
    };
    format!(
        "router {:<3} {state}  DIO rx {} tx {}  DAO tx {} acked {}  boots {}  pool {}/{} {pool}",
        text_of(&r["name"]),
        c["dio_rx"],
        c["dio_tx"],
        c["dao_tx"],
        c["dao_ack_rx"],
        r["boots"],
        r["pool_free"],
        r["pool_size"],
    )
}

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
/// `warnings` what the run printed as warnings, `history` the routers' (see [`routers`]),
/// `faults` the fault schedule (listed as given).
pub fn summary(
    w: &World,
    injected: Option<&capture_file::CaptureContents>,
    warnings: &[String],
    history: &RouterHistory,
    faults: Value,
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
            "powered": w.nodes.get(k).is_some_and(|id| w.sim.is_powered(*id)),
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
            "powered": w.sim.is_powered(w.br),
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
        "air": air(w),
        "zep": zep,
        "nodes": nodes,
        "routers": routers(w, history),
        "faults": faults,
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

/// Everything every radio put on the air (ACKs included), and the medium's transmissions
/// that overlapped another at some receiver.
fn air(w: &World) -> Value {
    let m = w.sim.medium_ref();
    let (mut frames, mut bytes, mut airtime) = (0u64, 0u64, 0u64);
    for r in 0..m.radio_count() {
        let c = m.counters(sim::RadioId(r));
        frames = frames.saturating_add(c.tx_frames);
        bytes = bytes.saturating_add(c.tx_bytes);
        airtime = airtime.saturating_add(c.tx_airtime_us);
    }
    json!({
        "tx_frames": frames,
        "tx_bytes": bytes,
        "tx_airtime_us": airtime,
        "collided_transmissions": m.medium_counters().collided_transmissions,
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
    for r in s["routers"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "  {}", router_line(r));
        let changes: Vec<String> = r["history"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                let rank = h["rank"]
                    .as_u64()
                    .map(|x| format!(" {x}"))
                    .unwrap_or_default();
                format!(
                    "{:.1}s {}{rank}",
                    h["t_s"].as_f64().unwrap_or(0.0),
                    text_of(&h["phase"])
                )
            })
            .collect();
        if !changes.is_empty() {
            let _ = writeln!(out, "             history: {}", changes.join(", "));
        }
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
