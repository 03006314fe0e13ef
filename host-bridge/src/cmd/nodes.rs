//! `sixgate nodes list`.

use mgmt::{Request, Response};
use serde_json::{Value, json};

use super::{Out, dur_ms, hex_colon, ip, pages, text, unexpected};
use crate::device::Device;
use crate::error::CliError;

/// Every registered or gleaned mesh node, page by page.
pub fn list(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let all: Vec<Value> = pages(
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
                        })
                    })
                    .collect(),
            )),
            other => unexpected(other),
        },
    )?;
    let headers = [
        "ADDRESS", "EUI-64", "SHORT", "STATE", "LIFETIME", "HEARD", "RSSI", "LQI", "ETX", "RX",
        "TX",
    ];
    out.list(&all, &headers, |n| {
        vec![
            text(&n["addr"], "-"),
            text(&n["eui64"], "-"),
            text(&n["short_addr"], "-"),
            if n["registered"] == true {
                "registered"
            } else {
                "gleaned"
            }
            .into(),
            dur_ms(n["lifetime_s"].as_u64().unwrap_or(0) * 1000),
            n["last_heard_ms"]
                .as_u64()
                .map_or("-".into(), |m| format!("{} ago", dur_ms(m))),
            text(&n["rssi_dbm"], "-"),
            text(&n["lqi"], "-"),
            n["etx"].as_f64().map_or("-".into(), |e| format!("{e:.2}")),
            text(&n["rx_frames"], "-"),
            text(&n["tx_frames"], "-"),
        ]
    });
    if !out.json {
        crate::outln!("{} nodes", all.len());
    }
    Ok(())
}
