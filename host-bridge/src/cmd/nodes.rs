//! `sixgate nodes list`: one row per mesh device (link-layer address), with its addresses.

use mgmt::{Request, Response};
use serde_json::{Value, json};

use super::{Out, dur_ms, hex_colon, ip, pages, table, text, unexpected};
use crate::device::Device;
use crate::error::CliError;

/// Every registered or gleaned mesh node, page by page, grouped by device: the device lists
/// one entry per (address, link-layer address), and a node usually has two addresses (its
/// link-local and its global one). A node that is also an RPL target (a router) shows its
/// depth in the DODAG and its parent.
pub fn list(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let entries: Vec<Value> = pages(
        dev,
        |start| Request::NodesList { start },
        |r| match r {
            Response::Nodes { total, nodes, .. } => Ok((
                total,
                nodes
                    .iter()
                    .map(|n| {
                        json!({
                            "addr": ip(&n.addr).to_string(),
                            "eui64": n.eui64.map(|e| hex_colon(&e)),
                            "short_addr": n.short_addr.map(|s| format!("0x{s:04x}")),
                            "registered": n.registered,
                            "lifetime_s": n.lifetime_s,
                            "last_heard_ms": n.last_heard_ms,
                            "rssi_dbm": n.rssi,
                            "lqi": n.lqi,
                            "etx": n.etx_x100.map(|e| f64::from(e) / 100.0),
                            "rx_frames": n.rx_frames,
                            "tx_frames": n.tx_frames,
                            "parent": n.parent.map(|p| ip(&p).to_string()),
                            "depth": n.depth,
                        })
                    })
                    .collect(),
            )),
            other => unexpected(other),
        },
    )?;
    let devices = group(&entries);
    if out.json {
        out.json(&Value::Array(devices));
        return Ok(());
    }
    let headers = [
        "LLADDR",
        "EUI-64",
        "HEARD",
        "RSSI",
        "LQI",
        "ETX",
        "DEPTH",
        "PARENT",
        "RX",
        "TX",
        "ADDRESSES",
    ];
    let mut rows = Vec::new();
    for d in &devices {
        let addrs: Vec<String> = d["entries"]
            .as_array()
            .map(|v| {
                v.iter()
                    .map(|e| {
                        format!(
                            "{} ({} {})",
                            text(&e["addr"], "-"),
                            if e["registered"] == true {
                                "registered"
                            } else {
                                "gleaned"
                            },
                            dur_ms(e["lifetime_s"].as_u64().unwrap_or(0) * 1000)
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut first = vec![
            text(&d["lladdr"], "-"),
            text(&d["eui64"], "-"),
            d["last_heard_ms"]
                .as_u64()
                .map_or("-".into(), |m| format!("{} ago", dur_ms(m))),
            text(&d["rssi_dbm"], "-"),
            text(&d["lqi"], "-"),
            d["etx"].as_f64().map_or("-".into(), |e| format!("{e:.2}")),
            text(&d["depth"], "-"),
            text(&d["parent"], "-"),
            text(&d["rx_frames"], "-"),
            text(&d["tx_frames"], "-"),
        ];
        let mut a = addrs.into_iter();
        first.push(a.next().unwrap_or_default());
        rows.push(first);
        for more in a {
            let mut r = vec![String::new(); headers.len() - 1];
            r.push(more);
            rows.push(r);
        }
    }
    crate::out!("{}", table(&headers, &rows));
    crate::outln!("{} devices, {} addresses", devices.len(), entries.len());
    Ok(())
}

/// The link-layer address of an entry: its short address, else its EUI-64.
fn lladdr(e: &Value) -> Value {
    match &e["short_addr"] {
        Value::Null => e["eui64"].clone(),
        s => s.clone(),
    }
}

/// Entries grouped by link-layer address, in the order the devices first appear: per device
/// its addresses, the per-address entries, the link statistics (the MAC's, shared), the most
/// recent frame and the datagram counts summed.
fn group(entries: &[Value]) -> Vec<Value> {
    let mut devices: Vec<(Value, Vec<&Value>)> = Vec::new();
    for e in entries {
        let ll = lladdr(e);
        match devices.iter_mut().find(|(k, _)| *k == ll && !k.is_null()) {
            Some((_, v)) => v.push(e),
            None => devices.push((ll, vec![e])),
        }
    }
    devices
        .into_iter()
        .map(|(ll, es)| {
            let first = es.first().copied().cloned().unwrap_or(Value::Null);
            let sum = |k: &str| es.iter().filter_map(|e| e[k].as_u64()).sum::<u64>();
            let link = |k: &str| {
                es.iter()
                    .map(|e| &e[k])
                    .find(|v| !v.is_null())
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            json!({
                "lladdr": ll,
                "eui64": first["eui64"],
                "short_addr": first["short_addr"],
                "registered": es.iter().any(|e| e["registered"] == true),
                "addresses": es.iter().map(|e| e["addr"].clone()).collect::<Vec<_>>(),
                "entries": es.iter().map(|e| json!({
                    "addr": e["addr"],
                    "registered": e["registered"],
                    "lifetime_s": e["lifetime_s"],
                    "last_heard_ms": e["last_heard_ms"],
                    "rx_frames": e["rx_frames"],
                    "tx_frames": e["tx_frames"],
                    "parent": e["parent"],
                    "depth": e["depth"],
                })).collect::<Vec<_>>(),
                "last_heard_ms": es.iter().filter_map(|e| e["last_heard_ms"].as_u64()).min(),
                "rssi_dbm": link("rssi_dbm"),
                "lqi": link("lqi"),
                "etx": link("etx"),
                // Its place in the DODAG (from its first address that is an RPL target).
                "depth": link("depth"),
                "parent": link("parent"),
                "rx_frames": sum("rx_frames"),
                "tx_frames": sum("tx_frames"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_grouped_by_link_layer_address() {
        let e = |addr: &str, eui: &str, short: Value, reg: bool, rx: u64| {
            json!({"addr": addr, "eui64": eui, "short_addr": short, "registered": reg,
                   "lifetime_s": 60, "last_heard_ms": rx * 10, "rssi_dbm": -50, "lqi": 200,
                   "etx": 1.0, "rx_frames": rx, "tx_frames": 1})
        };
        let v = [
            e("fe80::1", "02:00:00:00:00:00:00:01", Value::Null, false, 1),
            e(
                "fe80::2",
                "02:00:00:00:00:00:00:02",
                json!("0x0002"),
                false,
                2,
            ),
            e(
                "2001:db8::1",
                "02:00:00:00:00:00:00:01",
                Value::Null,
                true,
                5,
            ),
        ];
        let mut v = v.to_vec();
        // The global address is an RPL target one hop below the root.
        v[2]["parent"] = json!("2001:db8::ff");
        v[2]["depth"] = json!(1);
        let g = group(&v);
        assert_eq!(g.len(), 2);
        assert_eq!(
            (&g[0]["depth"], &g[0]["parent"]),
            (&json!(1), &json!("2001:db8::ff"))
        );
        assert!(g[1]["depth"].is_null() && g[1]["parent"].is_null());
        assert_eq!(g[0]["lladdr"], "02:00:00:00:00:00:00:01");
        assert_eq!(g[0]["addresses"], json!(["fe80::1", "2001:db8::1"]));
        assert_eq!(g[0]["registered"], true);
        assert_eq!(g[0]["rx_frames"], 6);
        assert_eq!(g[0]["last_heard_ms"], 10);
        assert_eq!(g[1]["lladdr"], "0x0002");
    }
}
