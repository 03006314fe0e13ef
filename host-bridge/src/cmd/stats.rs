//! `sixgate stats [IFACE] [--reset]`.

use mgmt::{Layer, Request, Response};
use serde_json::{Map, Value, json};

use super::{Out, pages, unexpected};
use crate::device::Device;
use crate::error::CliError;

fn layer_name(l: Layer) -> &'static str {
    match l {
        Layer::Mac => "mac",
        Layer::SixLowpan => "6lowpan",
        Layer::Ethernet => "ethernet",
        Layer::Ipv6 => "ipv6",
        Layer::Nd => "nd",
        Layer::Device => "device",
    }
}

/// Every counter grouped by layer (and interface); `--reset` zeroes them afterwards.
pub fn run(dev: &mut Device, out: Out, iface: Option<&str>, reset: bool) -> Result<(), CliError> {
    let all = pages(
        dev,
        |start| Request::Stats { iface, start },
        |r| match r {
            Response::Stats {
                total, counters, ..
            } => Ok((
                total,
                counters
                    .iter()
                    .map(|c| {
                        (
                            layer_name(c.layer).to_string(),
                            c.iface.map(str::to_string),
                            c.name.to_string(),
                            c.value,
                        )
                    })
                    .collect(),
            )),
            other => unexpected(other),
        },
    )?;
    if reset {
        dev.request_ok(&Request::StatsReset { iface })?;
    }
    if out.json {
        // {"wpan0": {"mac": {...}, ...}, "device": {"device": {...}}}
        let mut root = Map::new();
        for (layer, ifc, name, v) in &all {
            let scope = ifc.clone().unwrap_or_else(|| "device".into());
            let s = root
                .entry(scope)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(s) = s.as_object_mut() {
                let l = s
                    .entry(layer.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(l) = l.as_object_mut() {
                    l.insert(name.clone(), json!(v));
                }
            }
        }
        if reset {
            root.insert("reset".into(), json!(true));
        }
        out.json(&Value::Object(root));
        return Ok(());
    }
    let mut last: Option<(String, Option<String>)> = None;
    for (layer, ifc, name, v) in &all {
        let key = (layer.clone(), ifc.clone());
        if last.as_ref() != Some(&key) {
            match ifc {
                Some(i) => crate::outln!("{i} {layer}:"),
                None => crate::outln!("{layer}:"),
            }
            last = Some(key);
        }
        crate::outln!("    {name:<34} {v}");
    }
    if reset {
        crate::outln!("counters reset");
    }
    Ok(())
}
