//! `/metrics`: the Prometheus text exposition format 0.0.4, from the daemon's state (the last
//! poll of the device's tables, every `POLL_PERIOD`).
//!
//! - the device's counter list, named as `sixgate stats` names it:
//!   `sixgate_<layer>_<name>_total{iface="wpan0"}` (counters) or `sixgate_<layer>_<name>`
//!   (gauges), the netif drops as `sixgate_ipv6_drops_total{iface,reason}`; a device whose
//!   list is not this build's gives `sixgate_device_counter{index="N"}`;
//! - interfaces (`sixgate_interface_up{iface,kind}`, link, MTU), the packet pool, the node
//!   tables (`sixgate_nodes{kind="registered"|"gleaned"}`), routes, RPL targets and the
//!   DODAG's depth;
//! - per node `sixgate_node_rssi_dbm`, `sixgate_node_lqi`, `sixgate_node_etx`,
//!   `sixgate_node_depth` labelled `addr`: at most [`MAX_NODE_SERIES`] nodes (in address
//!   order) so a large mesh cannot flood the monitoring system; the rest are counted in
//!   `sixgate_node_series_omitted` (this scrape) and `..._omitted_total` (all scrapes);
//! - the daemon itself (`sixgate_up`, connections, clients, events, polls, HTTP refusals).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::http::Shared;
use super::{State, lock};

/// Nodes given per-node series in one scrape.
pub const MAX_NODE_SERIES: usize = 256;

/// One metric family: its samples in order.
struct Family {
    help: String,
    kind: &'static str,
    samples: Vec<(String, String)>,
}

/// Families in the order first seen.
#[derive(Default)]
struct Exposition {
    order: Vec<String>,
    families: BTreeMap<String, Family>,
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A metric name made of `[a-zA-Z0-9_]` (anything else becomes `_`).
fn metric_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

impl Exposition {
    fn add(
        &mut self,
        name: &str,
        kind: &'static str,
        help: &str,
        labels: &[(&str, &str)],
        v: String,
    ) {
        let f = self.families.entry(name.to_string()).or_insert_with(|| {
            self.order.push(name.to_string());
            Family {
                help: help.to_string(),
                kind,
                samples: Vec::new(),
            }
        });
        let labels = if labels.is_empty() {
            String::new()
        } else {
            let l: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            format!("{{{}}}", l.join(","))
        };
        // A series once: the first value wins (a repeated name in a foreign list).
        if !f.samples.iter().any(|(l, _)| *l == labels) {
            f.samples.push((labels, v));
        }
    }

    fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], v: impl ToString) {
        self.add(name, "gauge", help, labels, v.to_string());
    }

    fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], v: u64) {
        self.add(name, "counter", help, labels, v.to_string());
    }

    fn text(&self) -> String {
        let mut out = String::new();
        for name in &self.order {
            if let Some(f) = self.families.get(name) {
                let _ = writeln!(out, "# HELP {name} {}", escape_help(&f.help));
                let _ = writeln!(out, "# TYPE {name} {}", f.kind);
                for (l, v) in &f.samples {
                    let _ = writeln!(out, "{name}{l} {v}");
                }
            }
        }
        out
    }
}

/// The exposition of `sh`'s state.
pub fn render(sh: &Shared) -> String {
    let s = lock(&sh.state);
    let (text, omitted) = render_state(&s, sh);
    drop(s);
    sh.node_series_omitted
        .fetch_add(omitted as u64, Ordering::Relaxed);
    text
}

fn render_state(s: &State, sh: &Shared) -> (String, usize) {
    let mut e = Exposition::default();
    e.gauge(
        "sixgate_up",
        "1 while the daemon holds a session with the device",
        &[],
        u8::from(s.device.is_some()),
    );
    e.counter(
        "sixgate_daemon_device_connections_total",
        "Sessions the daemon opened with the device",
        &[],
        s.connections,
    );
    e.gauge(
        "sixgate_daemon_clients",
        "Socket clients connected",
        &[],
        s.clients,
    );
    e.counter(
        "sixgate_daemon_client_frames_dropped_total",
        "Frames dropped for socket clients that did not read them in time",
        &[],
        s.client_frames_dropped,
    );
    e.counter(
        "sixgate_daemon_events_total",
        "Device events received",
        &[],
        s.events_total,
    );
    e.counter(
        "sixgate_daemon_polls_total",
        "Completed polls of the device's tables",
        &[],
        s.polls,
    );
    e.counter(
        "sixgate_daemon_node_changes_total",
        "Node life-cycle changes (joined, re-registered, moved parent, expired)",
        &[],
        s.lifecycle_total,
    );
    e.counter(
        "sixgate_daemon_nodes_untracked_total",
        "Nodes not tracked for lack of room (MAX_TRACKED_NODES)",
        &[],
        s.nodes_untracked,
    );
    e.gauge(
        "sixgate_daemon_nodes_tracked",
        "Nodes the daemon tracks",
        &[],
        s.nodes.len(),
    );
    e.counter(
        "sixgate_http_connections_refused_total",
        "HTTP connections refused for lack of room (MAX_CONNECTIONS)",
        &[],
        sh.refused.load(Ordering::Relaxed),
    );
    e.counter(
        "sixgate_http_unauthorized_total",
        "HTTP requests refused for a missing or wrong token",
        &[],
        sh.unauthorized.load(Ordering::Relaxed),
    );

    let t = &s.tables;
    for c in &t.counters {
        let iface = c.iface.unwrap_or("");
        let labels: Vec<(&str, &str)> = c.iface.map(|i| ("iface", i)).into_iter().collect();
        if c.layer == "unknown" {
            let idx = c.name.trim_start_matches("counter_");
            e.gauge(
                "sixgate_device_counter",
                "A device counter by index (the device's counter list is not this sixgate's)",
                &[("index", idx)],
                c.value,
            );
        } else if c.drop_reason {
            e.counter(
                &format!("sixgate_{}_drops_total", metric_name(c.layer)),
                "Packets dropped, by interface and reason (netif drop reasons)",
                &[("iface", iface), ("reason", &c.name)],
                c.value,
            );
        } else {
            let layer = if c.layer == "6lowpan" {
                "sixlowpan"
            } else {
                c.layer
            };
            let base = format!("sixgate_{layer}_{}", metric_name(&c.name));
            let help = format!("Device counter {} {} (sixgate stats)", c.layer, c.name);
            if c.gauge {
                e.gauge(&base, &help, &labels, c.value);
            } else {
                e.counter(&format!("{base}_total"), &help, &labels, c.value);
            }
        }
    }
    for i in &t.ifaces {
        let l = [("iface", i.name.as_str()), ("kind", i.kind)];
        e.gauge(
            "sixgate_interface_up",
            "Interface administratively up",
            &l,
            u8::from(i.admin_up),
        );
        e.gauge(
            "sixgate_interface_link_up",
            "Interface carrier",
            &l,
            u8::from(i.link_up),
        );
        e.gauge(
            "sixgate_interface_mtu_bytes",
            "Interface IPv6 MTU",
            &l,
            i.mtu,
        );
    }
    if let Some(i) = &t.info {
        e.gauge(
            "sixgate_pool_buffers",
            "Packet buffers in all",
            &[],
            i.pool_size,
        );
        e.gauge(
            "sixgate_pool_free_buffers",
            "Packet buffers free",
            &[],
            i.pool_free,
        );
        e.gauge(
            "sixgate_nodes",
            "Mesh nodes in the device's registry, by kind",
            &[("kind", "registered")],
            i.registered,
        );
        e.gauge("sixgate_nodes", "", &[("kind", "gleaned")], i.gleaned);
        e.gauge(
            "sixgate_radio_channel",
            "IEEE 802.15.4 channel",
            &[],
            i.channel,
        );
        e.gauge(
            "sixgate_device_uptime_seconds",
            "Device uptime",
            &[],
            i.uptime_ms as f64 / 1000.0,
        );
    }
    if t.updated.is_some() {
        e.gauge(
            "sixgate_routes",
            "Routes in the device's table",
            &[],
            t.routes.len(),
        );
    }
    if let Some(n) = t.rpl_targets {
        e.gauge("sixgate_rpl_targets", "RPL targets in the DODAG", &[], n);
        let depth = s.nodes.values().filter_map(|n| n.depth).max().unwrap_or(0);
        e.gauge(
            "sixgate_dodag_depth",
            "Deepest node of the DODAG, hops from the root",
            &[],
            depth,
        );
    }
    let omitted = s.nodes.len().saturating_sub(MAX_NODE_SERIES);
    for n in s.nodes.values().take(MAX_NODE_SERIES) {
        let a = n.addr.to_string();
        let l = [("addr", a.as_str())];
        if let Some(r) = n.rssi {
            e.gauge(
                "sixgate_node_rssi_dbm",
                "Average RSSI of a node's frames at the border router",
                &l,
                r,
            );
        }
        if let Some(q) = n.lqi {
            e.gauge(
                "sixgate_node_lqi",
                "Average LQI of a node's frames at the border router",
                &l,
                q,
            );
        }
        if let Some(x) = n.etx_x100 {
            e.gauge(
                "sixgate_node_etx",
                "Expected transmission count of a node's link",
                &l,
                f64::from(x) / 100.0,
            );
        }
        if let Some(d) = n.depth {
            e.gauge("sixgate_node_depth", "A node's depth in the DODAG", &l, d);
        }
    }
    e.gauge(
        "sixgate_node_series_omitted",
        "Nodes left without per-node series in this scrape (at most MAX_NODE_SERIES = 256 get them)",
        &[],
        omitted,
    );
    e.counter(
        "sixgate_node_series_omitted_total",
        "Node series left out over all scrapes",
        &[],
        sh.node_series_omitted.load(Ordering::Relaxed) + omitted as u64,
    );
    (e.text(), omitted)
}
