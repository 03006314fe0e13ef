//! `sixgate stats [IFACE] [--reset]`.

use mgmt::{Layer, Request, Response};
use serde_json::{Map, Value, json};

use super::{Out, pages, unexpected};
use crate::color::{Stream, Style, paint};
use crate::device::Device;
use crate::error::CliError;

/// The layer's name as `sixgate stats` prints it (and the daemon's `/metrics` names it).
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

/// The device's counter list as this CLI knows it (the protocol crate it is built with):
/// `(layer, interface, name)` per counter, in the order of the values.
fn known_counters() -> Vec<(Layer, Option<&'static str>, &'static str)> {
    let mut names = Vec::new();
    mgmt::counters::for_each_name(&mut |layer, iface, name| names.push((layer, iface, name)));
    names
}

/// Every counter grouped by layer (and interface), gauges marked; `--reset` zeroes the
/// counters afterwards (not the gauges, [`mgmt::counters::GAUGES`]).
///
/// The device sends values only; they are named here. When the device's counter list is not
/// this CLI's (another firmware version), the values are shown by index (`counter_N`, layer
/// `unknown`) with a warning, and an interface filter cannot be applied.
pub fn run(dev: &mut Device, out: Out, iface: Option<&str>, reset: bool) -> Result<(), CliError> {
    let list = std::cell::Cell::new(mgmt::counters::FINGERPRINT);
    let values = pages(
        dev,
        |start| Request::Stats { start },
        |r| match r {
            Response::Stats {
                total,
                list: l,
                values,
                ..
            } => {
                list.set(l);
                Ok((total, values.to_vec()))
            }
            other => unexpected(other),
        },
    )?;
    let all = match name_values(&known_counters(), list.get(), &values, iface) {
        Ok(Named::Known(rows)) => rows,
        Ok(Named::ByIndex(rows)) => {
            crate::color::warn(format_args!(
                "the device's counter list (fingerprint {:#010x}, {} counters) differs from \
                 this sixgate's ({:#010x}); counters are shown by index",
                list.get(),
                values.len(),
                mgmt::counters::FINGERPRINT,
            ));
            rows
        }
        Err(Unnamed::NoIface(want, have)) => {
            return Err(CliError::Usage(format!(
                "no interface {want} (the device's counters are on {have})"
            )));
        }
        Err(Unnamed::Foreign) => {
            return Err(CliError::Incompatible {
                port: dev.port().to_string(),
                why: "the device's counter list differs from this sixgate's, so counters \
                      cannot be told apart by interface; run `sixgate stats` without one, or \
                      use a sixgate built from the device's firmware version"
                    .into(),
            });
        }
    };
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
        let gauges: Vec<&str> = all
            .iter()
            .filter(|(_, ifc, name, _)| mgmt::counters::is_gauge(ifc.as_deref(), name))
            .map(|(_, _, name, _)| name.as_str())
            .collect();
        root.insert("gauges".into(), json!(gauges));
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
            let section = match ifc {
                Some(i) => format!("{i} {layer}:"),
                None => format!("{layer}:"),
            };
            crate::outln!("{}", paint(Stream::Stdout, Style::Header, &section));
            last = Some(key);
        }
        if mgmt::counters::is_gauge(ifc.as_deref(), name) {
            crate::outln!("    {name:<34} {v} (gauge)");
        } else if *v != 0 && is_drop(name) {
            let v = paint(Stream::Stdout, Style::Drop, &v.to_string());
            crate::outln!("    {name:<34} {v}");
        } else {
            crate::outln!("    {name:<34} {v}");
        }
    }
    if reset {
        crate::outln!("counters reset (gauges keep their level)");
    }
    Ok(())
}

/// A counter of packets or frames lost: netif's drop reasons and any `…drop…`/`…fail…`.
fn is_drop(name: &str) -> bool {
    mgmt::counters::DROP_REASONS.contains(&name) || name.contains("drop") || name.contains("fail")
}

/// One counter as shown: layer, interface (`None`: device-wide), name, value.
type Row = (String, Option<String>, String, u64);

/// Values with names, see [`name_values`].
#[derive(Debug, PartialEq)]
enum Named {
    /// Named from this CLI's list.
    Known(Vec<Row>),
    /// Another counter list: `counter_N` in layer `unknown`.
    ByIndex(Vec<Row>),
}

/// Why values cannot be shown, see [`name_values`].
#[derive(Debug, PartialEq)]
enum Unnamed {
    /// No counter on this interface; the interfaces that have some.
    NoIface(String, String),
    /// An interface filter with another counter list.
    Foreign,
}

/// Names the values of the device's `Stats` pages (`list`: the fingerprint they came with)
/// with `known`, this CLI's list, keeping only `iface`'s counters if given.
fn name_values(
    known: &[(Layer, Option<&'static str>, &'static str)],
    list: u32,
    values: &[u64],
    iface: Option<&str>,
) -> Result<Named, Unnamed> {
    if list != mgmt::counters::FINGERPRINT || known.len() != values.len() {
        if iface.is_some() {
            return Err(Unnamed::Foreign);
        }
        let rows = values
            .iter()
            .enumerate()
            .map(|(k, &v)| ("unknown".into(), None, format!("counter_{k}"), v))
            .collect();
        return Ok(Named::ByIndex(rows));
    }
    if let Some(want) = iface
        && !known.iter().any(|(_, i, _)| *i == Some(want))
    {
        return Err(Unnamed::NoIface(want.into(), interfaces(known)));
    }
    let rows = known
        .iter()
        .zip(values)
        .filter(|((_, ifc, _), _)| iface.is_none_or(|want| *ifc == Some(want)))
        .map(|(&(layer, ifc, name), &v)| {
            (
                layer_name(layer).into(),
                ifc.map(str::to_string),
                name.into(),
                v,
            )
        })
        .collect();
    Ok(Named::Known(rows))
}

/// The interfaces that have counters, for an error message.
fn interfaces(known: &[(Layer, Option<&'static str>, &'static str)]) -> String {
    let mut v: Vec<&str> = Vec::new();
    for i in known.iter().filter_map(|(_, i, _)| *i) {
        if !v.contains(&i) {
            v.push(i);
        }
    }
    v.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_named_in_list_order_and_filtered_by_interface() {
        let known = known_counters();
        let values: Vec<u64> = (0..known.len() as u64).collect();
        let fp = mgmt::counters::FINGERPRINT;
        let Ok(Named::Known(all)) = name_values(&known, fp, &values, None) else {
            panic!("not named")
        };
        assert_eq!(all.len(), known.len());
        // The first counters are wpan0's IPv6 counters, in the struct's order.
        assert_eq!(
            all[0],
            ("ipv6".into(), Some("wpan0".into()), "rx_packets".into(), 0)
        );
        assert_eq!(all[1].2, "rx_bytes");
        let mac_tx = known
            .iter()
            .position(|&c| c == (Layer::Mac, Some("wpan0"), "tx_frames"))
            .unwrap();
        assert_eq!(all[mac_tx].3, mac_tx as u64);

        let Ok(Named::Known(eth)) = name_values(&known, fp, &values, Some("eth0")) else {
            panic!("not named")
        };
        assert!(!eth.is_empty());
        assert!(eth.iter().all(|r| r.1.as_deref() == Some("eth0")));
        assert_eq!(
            name_values(&known, fp, &values, Some("wlan9")),
            Err(Unnamed::NoIface("wlan9".into(), "wpan0, eth0".into()))
        );
    }

    #[test]
    fn another_counter_list_is_shown_by_index() {
        let known = known_counters();
        let values = [7u64, 8];
        let other = mgmt::counters::FINGERPRINT ^ 1;
        assert_eq!(
            name_values(&known, other, &values, None),
            Ok(Named::ByIndex(vec![
                ("unknown".into(), None, "counter_0".into(), 7),
                ("unknown".into(), None, "counter_1".into(), 8),
            ]))
        );
        // Same fingerprint but a different count (a truncated answer): not trusted either.
        let fp = mgmt::counters::FINGERPRINT;
        assert!(matches!(
            name_values(&known, fp, &values, None),
            Ok(Named::ByIndex(_))
        ));
        assert_eq!(
            name_values(&known, other, &values, Some("wpan0")),
            Err(Unnamed::Foreign)
        );
    }
}
