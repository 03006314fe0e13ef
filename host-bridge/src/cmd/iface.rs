//! `sixgate iface list|show|up|down|set`.

use mgmt::{IfaceKind, IfaceSetting, Request, Response};
use serde_json::{Value, json};

use super::{Out, hex_colon, text};
use crate::device::Device;
use crate::error::CliError;

fn list_json(dev: &mut Device) -> Result<Vec<Value>, CliError> {
    dev.request(&Request::IfaceList, |r| match r {
        Response::Ifaces(v) => Ok(v
            .iter()
            .map(|i| {
                let mut j = json!({
                    "name": i.name,
                    "kind": match i.kind {
                        IfaceKind::Wpan => "ieee802154",
                        IfaceKind::Ethernet => "ethernet",
                        IfaceKind::Other => "other",
                    },
                    "admin_up": i.admin_up,
                    "link_up": i.link_up,
                    "mtu": i.mtu,
                    "forwarding": i.forwarding,
                    "ll_addr": hex_colon(i.ll_addr),
                    "rx_packets": i.rx_packets,
                    "tx_packets": i.tx_packets,
                    "forwarded": i.forwarded,
                    "drops": i.drops,
                });
                if let Some(w) = i.wpan {
                    j["channel"] = json!(w.channel);
                    j["pan_id"] = json!(format!("0x{:04x}", w.pan_id));
                    j["short_addr"] = json!(format!("0x{:04x}", w.short_addr));
                    j["tx_power_dbm"] = json!(w.tx_power);
                }
                j
            })
            .collect()),
        other => super::unexpected(other),
    })?
}

fn state(i: &Value) -> &'static str {
    match (i["admin_up"].as_bool(), i["link_up"].as_bool()) {
        (Some(true), Some(true)) => "UP",
        (Some(true), _) => "NO-CARRIER",
        _ => "DOWN",
    }
}

/// `iface list`.
pub fn list(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let v = list_json(dev)?;
    let headers = [
        "NAME",
        "TYPE",
        "STATE",
        "MTU",
        "LINK-ADDR",
        "RX",
        "TX",
        "DROPS",
    ];
    out.list(&v, &headers, |i| {
        vec![
            text(&i["name"], ""),
            text(&i["kind"], ""),
            state(i).to_string(),
            text(&i["mtu"], ""),
            text(&i["ll_addr"], ""),
            text(&i["rx_packets"], ""),
            text(&i["tx_packets"], ""),
            text(&i["drops"], ""),
        ]
    });
    Ok(())
}

/// `iface show NAME`.
pub fn show(dev: &mut Device, out: Out, name: &str) -> Result<(), CliError> {
    let v = list_json(dev)?;
    let Some(i) = v.iter().find(|i| i["name"] == name) else {
        return Err(CliError::Device {
            code: mgmt::ErrorCode::NoSuchIface,
            message: format!("no interface {name}"),
        });
    };
    if out.json {
        out.json(i);
        return Ok(());
    }
    crate::outln!(
        "{}: {} {} mtu {}{}",
        name,
        i["kind"].as_str().unwrap_or(""),
        state(i),
        i["mtu"],
        if i["forwarding"] == true {
            " forwarding"
        } else {
            ""
        }
    );
    crate::outln!("    link-addr {}", i["ll_addr"].as_str().unwrap_or(""));
    if i.get("channel").is_some() {
        crate::outln!(
            "    channel {}  pan-id {}  short {}  tx-power {} dBm",
            i["channel"],
            i["pan_id"].as_str().unwrap_or(""),
            i["short_addr"].as_str().unwrap_or(""),
            i["tx_power_dbm"]
        );
    }
    crate::outln!(
        "    rx {} packets  tx {} packets  forwarded out {}  drops {}",
        i["rx_packets"],
        i["tx_packets"],
        i["forwarded"],
        i["drops"]
    );
    Ok(())
}

/// `iface up|down NAME`.
pub fn admin(dev: &mut Device, out: Out, name: &str, up: bool) -> Result<(), CliError> {
    super::simple(
        dev,
        out,
        &Request::IfaceAdmin { iface: name, up },
        &format!("{name} {}", if up { "up" } else { "down" }),
    )
}

/// What `iface set` changes.
#[derive(Debug, Clone, Copy)]
pub enum Setting {
    /// Channel.
    Channel(u8),
    /// PAN ID.
    PanId(u16),
    /// dBm.
    TxPower(i8),
}

/// `iface set NAME channel N|pan-id X|tx-power DBM`.
pub fn set(dev: &mut Device, out: Out, name: &str, s: Setting) -> Result<(), CliError> {
    let (setting, text) = match s {
        Setting::Channel(c) => (IfaceSetting::Channel(c), format!("{name}: channel {c}")),
        Setting::PanId(p) => (IfaceSetting::PanId(p), format!("{name}: pan-id 0x{p:04x}")),
        Setting::TxPower(d) => (
            IfaceSetting::TxPower(d),
            format!("{name}: tx-power {d} dBm"),
        ),
    };
    super::simple(
        dev,
        out,
        &Request::IfaceSet {
            iface: name,
            setting,
        },
        &text,
    )
}
