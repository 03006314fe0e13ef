//! `sixgate nodes list`.

use mgmt::{Request, Response};
use serde_json::{Value, json};

use super::{Out, dur_ms, hex_colon, ip, table};
use crate::device::Device;
use crate::error::CliError;

/// Every registered or gleaned mesh node, page by page.
pub fn list(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let mut all: Vec<Value> = Vec::new();
    let mut start: u16 = 0;
    loop {
        let (total, got) = dev.request(&Request::NodesList { start }, |r| match r {
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
                    .collect::<Vec<_>>(),
            )),
            other => Err(CliError::Other(format!("unexpected answer: {other:?}"))),
        })??;
        let n = got.len();
        all.extend(got);
        start = start.saturating_add(n as u16);
        if n == 0 || usize::from(start) >= usize::from(total) {
            break;
        }
    }
    if out.json {
        out.json(&json!(all));
        return Ok(());
    }
    let opt = |v: &Value| {
        if v.is_null() {
            "-".to_string()
        } else {
            v.as_str().map_or_else(|| v.to_string(), str::to_string)
        }
    };
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|n| {
            vec![
                opt(&n["addr"]),
                opt(&n["eui64"]),
                opt(&n["short_addr"]),
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
                opt(&n["rssi_dbm"]),
                opt(&n["lqi"]),
                n["etx"].as_f64().map_or("-".into(), |e| format!("{e:.2}")),
                opt(&n["rx_frames"]),
                opt(&n["tx_frames"]),
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &[
                "ADDRESS", "EUI-64", "SHORT", "STATE", "LIFETIME", "HEARD", "RSSI", "LQI", "ETX",
                "RX", "TX"
            ],
            &rows
        )
    );
    println!("{} nodes", all.len());
    Ok(())
}
