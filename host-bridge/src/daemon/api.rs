//! The REST API under `/api/` (JSON, described by `openapi.json` beside this file) and the
//! dashboard's event stream `/api/stream` (server-sent events, incremental).

use std::collections::HashMap;
use std::io::Write as _;
use std::net::{Ipv6Addr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use super::history::{EventRecord, NodeRecord, State};
use super::http::{Request, Response, Shared};
use super::lock;

/// Events one `/api/events` answer carries at most (the oldest first from `since`).
pub const EVENTS_PAGE: usize = 1000;
/// How often a stream looks for changes.
pub const STREAM_PERIOD: Duration = Duration::from_millis(500);
/// A comment line keeps an idle stream open this often.
pub const STREAM_KEEPALIVE: Duration = Duration::from_secs(15);

fn unix(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn opt_ip(a: Option<Ipv6Addr>) -> Value {
    a.map_or(Value::Null, |a| json!(a.to_string()))
}

/// A node as the API and the stream give it (without its samples).
pub fn node_json(n: &NodeRecord, root: Option<Ipv6Addr>) -> Value {
    json!({
        "addr": n.addr.to_string(),
        "eui64": n.eui64.map(|e| crate::cmd::hex_colon(&e)),
        "registered": n.registered,
        "parent": opt_ip(n.parent),
        "parent_is_root": n.parent.is_some() && n.parent == root,
        // Where the graph hangs it: its RPL parent, else the border router when it hears
        // the node directly (an RSSI), else nowhere known.
        "attached": opt_ip(n.parent.or(if n.rssi.is_some() { root } else { None })),
        "depth": n.depth,
        "external": n.external,
        "rssi": n.rssi,
        "lqi": n.lqi,
        "etx": n.etx_x100.map(|x| f64::from(x) / 100.0),
        "lifetime_s": n.lifetime_s,
        "registrations": n.registrations,
        "joined": unix(n.joined),
        "last_seen": unix(n.last_seen),
    })
}

fn node_detail(n: &NodeRecord, root: Option<Ipv6Addr>) -> Value {
    let mut v = node_json(n, root);
    let samples: Vec<Value> = n
        .samples
        .iter()
        .map(|s| {
            json!({
                "at": unix(s.at),
                "rssi": s.rssi,
                "lqi": s.lqi,
                "etx": s.etx_x100.map(|x| f64::from(x) / 100.0),
            })
        })
        .collect();
    if let Some(o) = v.as_object_mut() {
        o.insert("samples".into(), Value::Array(samples));
    }
    v
}

fn event_json(e: &EventRecord) -> Value {
    json!({
        "seq": e.seq,
        "received": unix(e.received),
        "ts_ms": e.ts_ms,
        "name": e.name,
        "text": e.text,
    })
}

fn info(s: &State) -> Value {
    let t = &s.tables;
    json!({
        "port": s.port,
        "connected": s.device.is_some(),
        "device": s.device.as_ref().map(|h| json!({
            "protocol": h.version,
            "schema": h.schema,
            "firmware": h.firmware,
            "board": h.board,
        })),
        "connections": s.connections,
        "last_disconnect": s.last_disconnect,
        "clients": s.clients,
        "polls": s.polls,
        "updated": t.updated.map(unix),
        "info": t.info.as_ref().map(|i| json!({
            "firmware": i.firmware,
            "board": i.board,
            "protocol": i.protocol,
            "uptime_ms": i.uptime_ms,
            "eui64": crate::cmd::hex_colon(&i.eui64),
            "channel": i.channel,
            "pan_id": format!("0x{:04x}", i.pan_id),
            "tx_power": i.tx_power,
            "prefix": format!("{}/{}", i.prefix, i.prefix_len),
            "registered": i.registered,
            "gleaned": i.gleaned,
            "pool_free": i.pool_free,
            "pool_size": i.pool_size,
        })),
    })
}

fn interfaces(s: &State) -> Value {
    // Drops by reason beside each interface, from the counter list.
    let v: Vec<Value> = s
        .tables
        .ifaces
        .iter()
        .map(|i| {
            let drops: serde_json::Map<String, Value> = s
                .tables
                .counters
                .iter()
                .filter(|c| c.drop_reason && c.iface == Some(i.name.as_str()))
                .map(|c| (c.name.clone(), json!(c.value)))
                .collect();
            json!({
                "name": i.name,
                "kind": i.kind,
                "admin_up": i.admin_up,
                "link_up": i.link_up,
                "mtu": i.mtu,
                "ll_addr": i.ll_addr,
                "rx_packets": i.rx_packets,
                "tx_packets": i.tx_packets,
                "forwarded": i.forwarded,
                "drops": i.drops,
                "drops_by_reason": drops,
            })
        })
        .collect();
    json!({ "interfaces": v })
}

fn nodes(s: &State) -> Value {
    let root = s.tables.root;
    let v: Vec<Value> = s.nodes.values().map(|n| node_json(n, root)).collect();
    json!({ "nodes": v, "untracked": s.nodes_untracked })
}

fn topology(s: &State) -> Value {
    let root = s.tables.root;
    let v: Vec<Value> = s
        .nodes
        .values()
        .filter(|n| n.parent.is_some())
        .map(|n| {
            json!({
                "addr": n.addr.to_string(),
                "parent": opt_ip(n.parent),
                "depth": n.depth,
                "etx": n.etx_x100.map(|x| f64::from(x) / 100.0),
            })
        })
        .collect();
    json!({
        "root": opt_ip(root),
        "targets": s.tables.rpl_targets,
        "depth": s.nodes.values().filter_map(|n| n.depth).max(),
        "nodes": v,
    })
}

fn routes(s: &State) -> Value {
    let v: Vec<Value> = s
        .tables
        .routes
        .iter()
        .map(|r| {
            json!({
                "prefix": format!("{}/{}", r.prefix, r.len),
                "iface": r.iface,
                "via": opt_ip(r.via),
                "metric": r.metric,
                "origin": r.origin,
                "expires_s": r.expires_s,
            })
        })
        .collect();
    json!({ "routes": v })
}

fn stats(s: &State) -> Value {
    let v: Vec<Value> = s
        .tables
        .counters
        .iter()
        .map(|c| {
            json!({
                "layer": c.layer,
                "iface": c.iface,
                "name": c.name,
                "value": c.value,
                "gauge": c.gauge,
                "drop_reason": c.drop_reason,
            })
        })
        .collect();
    json!({
        "named": s.tables.counters.iter().all(|c| c.layer != "unknown"),
        "updated": s.tables.updated.map(unix),
        "counters": v,
    })
}

fn events(s: &State, since: u64) -> Value {
    let v: Vec<Value> = s
        .events
        .iter()
        .filter(|e| e.seq > since)
        .take(EVENTS_PAGE)
        .map(event_json)
        .collect();
    json!({
        "last_seq": s.events_total,
        "oldest_seq": s.events.front().map(|e| e.seq),
        "events": v,
    })
}

fn logs(s: &State) -> Value {
    let v: Vec<Value> = s
        .logs
        .iter()
        .map(|l| {
            json!({
                "received": unix(l.received),
                "ts_ms": l.ts_ms,
                "level": l.level,
                "target": l.target,
                "text": l.text,
            })
        })
        .collect();
    json!({ "logs": v })
}

/// `GET /api/...`.
pub fn get(sh: &Shared, r: &Request) -> Response {
    let s = lock(&sh.state);
    let v = match r.path.as_str() {
        "/api/info" => info(&s),
        "/api/interfaces" => interfaces(&s),
        "/api/nodes" => nodes(&s),
        "/api/topology" => topology(&s),
        "/api/routes" => routes(&s),
        "/api/stats" => stats(&s),
        "/api/logs" => logs(&s),
        "/api/events" => {
            let since = match r.param("since").map(str::parse::<u64>) {
                None => 0,
                Some(Ok(n)) => n,
                Some(Err(_)) => {
                    return Response::error(400, "since: an event number (0 for the oldest kept)");
                }
            };
            events(&s, since)
        }
        p => match p.strip_prefix("/api/nodes/") {
            Some(a) => match a.parse::<Ipv6Addr>() {
                Ok(a) => match s.nodes.get(&a) {
                    Some(n) => node_detail(n, s.tables.root),
                    None => return Response::error(404, "no such node"),
                },
                Err(_) => return Response::error(400, "not an IPv6 address"),
            },
            None => return Response::error(404, "no such resource: see /api/openapi.json"),
        },
    };
    Response::json(&v)
}

/// What a stream last sent.
#[derive(Default)]
struct Sent {
    nodes: HashMap<Ipv6Addr, String>,
    root: Option<Option<Ipv6Addr>>,
    events: u64,
    tables: Option<SystemTime>,
    connected: Option<bool>,
}

/// The key a node is compared by: what the graph and the table show, not its lifetime or
/// when it was last seen (those change at every poll).
fn node_key(n: &NodeRecord) -> String {
    format!(
        "{:?}|{:?}|{}|{}|{:?}|{:?}|{:?}|{:?}",
        n.parent, n.depth, n.external, n.registered, n.rssi, n.lqi, n.etx_x100, n.eui64
    )
}

fn sse(out: &mut String, event: &str, data: &Value) {
    out.push_str("event: ");
    out.push_str(event);
    out.push_str("\ndata: ");
    out.push_str(&data.to_string());
    out.push_str("\n\n");
}

/// The changes since `sent`, as server-sent events (empty: nothing changed).
fn changes(s: &State, sent: &mut Sent, first: bool) -> String {
    let mut out = String::new();
    let connected = s.device.is_some();
    if sent.root != Some(s.tables.root) || sent.connected != Some(connected) {
        sent.root = Some(s.tables.root);
        sent.connected = Some(connected);
        sse(&mut out, "info", &info(s));
    }
    if sent.tables != s.tables.updated {
        sent.tables = s.tables.updated;
        let mut v = interfaces(s);
        if let Some(o) = v.as_object_mut() {
            o.insert("info".into(), info(s)["info"].clone());
            o.insert(
                "topology".into(),
                json!({"root": opt_ip(s.tables.root), "targets": s.tables.rpl_targets}),
            );
        }
        sse(&mut out, "tables", &v);
    }
    // Nodes: the changed and the new, in batches, then the gone.
    let root = s.tables.root;
    let mut batch = Vec::new();
    for n in s.nodes.values() {
        let key = node_key(n);
        if sent.nodes.get(&n.addr) != Some(&key) {
            batch.push(node_json(n, root));
            sent.nodes.insert(n.addr, key);
            if batch.len() == 200 {
                sse(&mut out, "nodes", &Value::Array(std::mem::take(&mut batch)));
            }
        }
    }
    if !batch.is_empty() {
        sse(&mut out, "nodes", &Value::Array(batch));
    }
    let gone: Vec<Ipv6Addr> = sent
        .nodes
        .keys()
        .filter(|a| !s.nodes.contains_key(a))
        .copied()
        .collect();
    if !gone.is_empty() {
        for a in &gone {
            sent.nodes.remove(a);
        }
        let v: Vec<Value> = gone.iter().map(|a| json!(a.to_string())).collect();
        sse(&mut out, "gone", &Value::Array(v));
    }
    // Events: the last ones kept on the first message, then the new.
    let skip = if first {
        s.events.len().saturating_sub(100)
    } else {
        0
    };
    let new: Vec<Value> = s
        .events
        .iter()
        .skip(skip)
        .filter(|e| e.seq > sent.events)
        .map(event_json)
        .collect();
    sent.events = s.events_total;
    if !new.is_empty() {
        sse(&mut out, "events", &Value::Array(new));
    }
    if first {
        sse(&mut out, "ready", &json!({"nodes": s.nodes.len()}));
    }
    out
}

/// `/api/stream`: the whole picture first (the `info`, `tables`, `nodes` and `events`
/// messages, then `ready`), then only what changed, every [`STREAM_PERIOD`].
pub fn stream(s: &mut TcpStream, sh: &Shared) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\
                Connection: close\r\nX-Accel-Buffering: no\r\n\r\nretry: 2000\n\n";
    if s.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut sent = Sent::default();
    let mut first = true;
    let mut quiet_since = Instant::now();
    while !sh.stop.load(Ordering::SeqCst) {
        let out = {
            let st = lock(&sh.state);
            changes(&st, &mut sent, first)
        };
        first = false;
        let out = if out.is_empty() && quiet_since.elapsed() >= STREAM_KEEPALIVE {
            ": keep-alive\n\n".to_string()
        } else {
            out
        };
        if !out.is_empty() {
            quiet_since = Instant::now();
            if s.write_all(out.as_bytes())
                .and_then(|()| s.flush())
                .is_err()
            {
                return;
            }
        }
        std::thread::sleep(STREAM_PERIOD);
    }
}

/// A state with a synthetic mesh of `n` nodes (`routers` of them at depth 1, the rest below
/// them, up to depth 4), for tests and measurements of the HTTP side without a device.
#[doc(hidden)]
pub fn synthetic_state(n: usize, routers: usize) -> State {
    use super::history::Sample;
    let mut s = State {
        port: "synthetic".into(),
        ..State::default()
    };
    let root = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    let addr = |i: usize| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, (i >> 16) as u16, i as u16 + 2);
    s.tables.root = Some(root);
    s.tables.rpl_targets = u16::try_from(n).ok();
    s.tables.updated = Some(SystemTime::now());
    let routers = routers.max(1);
    let now = SystemTime::now();
    let mut depths: Vec<u8> = Vec::with_capacity(n);
    for i in 0..n {
        let (parent, depth) = if i < routers {
            (root, 1)
        } else {
            // Four children under each earlier node.
            let p = (i - routers) / 4;
            (
                addr(p),
                depths.get(p).copied().unwrap_or(1).saturating_add(1),
            )
        };
        depths.push(depth);
        let a = addr(i);
        let rssi = -40 - (i % 50) as i8;
        let etx = 100 + (i % 300) as u16;
        let mut samples = std::collections::VecDeque::new();
        samples.push_back(Sample {
            at: now,
            rssi: Some(rssi),
            lqi: Some(200),
            etx_x100: Some(etx),
        });
        s.nodes.insert(
            a,
            NodeRecord {
                addr: a,
                registered: true,
                parent: Some(parent),
                depth: Some(depth),
                external: false,
                rssi: Some(rssi),
                lqi: Some(200),
                eui64: Some([0x02, 0, 0, 0, 0, 0, (i >> 8) as u8, i as u8]),
                etx_x100: Some(etx),
                lifetime_s: Some(3600),
                joined: now,
                last_seen: now,
                registrations: 1,
                samples,
            },
        );
    }
    s
}
