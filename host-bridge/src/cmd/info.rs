//! `sixgate info`.

use mgmt::{Request, Response};
use serde_json::json;

use super::{Out, dur_ms, hex_colon, ip};
use crate::device::Device;
use crate::error::CliError;

/// Firmware and protocol versions, board, uptime, EUI-64, configuration summary.
pub fn run(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let v = dev.request(&Request::Info, |r| match r {
        Response::Info(i) => Ok(json!({
            "firmware": i.firmware,
            "board": i.board,
            "protocol": i.protocol,
            "uptime_ms": i.uptime_ms,
            "eui64": hex_colon(&i.eui64),
            "short_addr": format!("0x{:04x}", i.short_addr),
            "channel": i.channel,
            "pan_id": format!("0x{:04x}", i.pan_id),
            "tx_power_dbm": i.tx_power,
            "prefix": format!("{}/{}", ip(&i.prefix), i.prefix_len),
            "nodes_registered": i.registered,
            "nodes_gleaned": i.gleaned,
            "pool_free": i.pool_free,
            "pool_size": i.pool_size,
        })),
        other => super::unexpected(other),
    })??;
    if out.json {
        out.json(&v);
        return Ok(());
    }
    let s = |k: &str| {
        v[k].as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v[k].to_string())
    };
    crate::outln!(
        "firmware   {}  (board {}, protocol {})",
        s("firmware"),
        s("board"),
        s("protocol")
    );
    crate::outln!(
        "uptime     {}",
        dur_ms(v["uptime_ms"].as_u64().unwrap_or(0))
    );
    crate::outln!("eui64      {}  short {}", s("eui64"), s("short_addr"));
    crate::outln!(
        "radio      channel {}  PAN {}  tx power {} dBm",
        s("channel"),
        s("pan_id"),
        s("tx_power_dbm")
    );
    crate::outln!("prefix     {}", s("prefix"));
    crate::outln!(
        "nodes      {} registered, {} gleaned",
        s("nodes_registered"),
        s("nodes_gleaned")
    );
    crate::outln!("buffers    {}/{} free", s("pool_free"), s("pool_size"));
    Ok(())
}
