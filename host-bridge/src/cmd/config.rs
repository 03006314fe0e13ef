//! `sixgate config show|save|reset`, `sixgate reboot`.

use mgmt::{Request, Response};
use serde_json::json;

use super::{Out, hex_colon, ip};
use crate::device::Device;
use crate::error::CliError;

/// `config show`.
pub fn show(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let v = dev.request(&Request::ConfigShow, |r| match r {
        Response::Config(c) => Ok(json!({
            "prefix": format!("{}/{}", ip(&c.prefix), c.prefix_len),
            "pan_id": format!("0x{:04x}", c.pan_id),
            "channel": c.channel,
            "eui64": hex_colon(&c.eui64),
            "short_addr": format!("0x{:04x}", c.short_addr),
            "tx_power_dbm": c.tx_power,
            "eth_mac": hex_colon(&c.eth_mac),
            "backbone": match c.backbone_static {
                Some((a, l)) => json!({"mode": "static", "addr": format!("{}/{}", ip(&a), l),
                    "gateway": c.backbone_gateway.map(|g| ip(&g).to_string())}),
                None => json!({"mode": "slaac"}),
            },
            "ra_interval_s": [c.ra_interval_s.0, c.ra_interval_s.1],
            "router_lifetime_s": c.router_lifetime_s,
            "prefix_valid_s": c.prefix_lifetimes_s.0,
            "prefix_preferred_s": c.prefix_lifetimes_s.1,
            "abro_version": c.abro_version,
            "max_registration_min": c.max_registration_min,
            "unsaved": c.unsaved,
            "routes_saved": c.routes_saved,
        })),
        other => super::unexpected(other),
    })??;
    if out.json {
        out.json(&v);
        return Ok(());
    }
    if let Some(m) = v.as_object() {
        for (k, x) in m {
            let s = match (k.as_str(), x.as_bool()) {
                ("routes_saved", Some(true)) => "yes (routes and addresses are saved too)".into(),
                ("routes_saved", Some(false)) => {
                    "no (routes and addresses added here last until the next reboot)".into()
                }
                _ => x.as_str().map_or_else(|| x.to_string(), str::to_string),
            };
            crate::outln!("{k:<22} {s}");
        }
    }
    Ok(())
}

/// `config save`: the device answers once the write ended; a failure exits 1 naming it.
pub fn save(dev: &mut Device, out: Out) -> Result<(), CliError> {
    super::simple(dev, out, &Request::ConfigSave, "configuration saved")
        .map_err(|e| store_failed(e, "configuration not saved"))
}

/// `config reset`: likewise for the erase.
pub fn reset(dev: &mut Device, out: Out) -> Result<(), CliError> {
    super::simple(
        dev,
        out,
        &Request::ConfigReset,
        "stored configuration erased: defaults apply at the next reboot",
    )
    .map_err(|e| store_failed(e, "stored configuration not erased"))
}

/// The device's store failed (`Internal`, its message the store's reason): say what did not
/// happen.
fn store_failed(e: CliError, what: &str) -> CliError {
    match e {
        CliError::Device {
            code: mgmt::ErrorCode::Internal,
            message,
        } => CliError::Device {
            code: mgmt::ErrorCode::Internal,
            message: format!("{what}: {message}"),
        },
        other => other,
    }
}

/// `reboot`.
pub fn reboot(dev: &mut Device, out: Out) -> Result<(), CliError> {
    super::simple(dev, out, &Request::Reboot, "rebooting")
}
