//! `sixgate addr`, `route`, `neigh`, `prefix`.

use std::net::Ipv6Addr;

use mgmt::{AddrState, NeighState, Request, Response, RouteOrigin};
use serde_json::{Value, json};

use super::{Out, hex_colon, ip, text, unexpected};
use crate::device::Device;
use crate::error::CliError;

/// `addr list`.
pub fn addr_list(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let v: Vec<Value> = dev.request(&Request::AddrList, |r| match r {
        Response::Addrs(v) => Ok(v
            .iter()
            .map(|a| {
                json!({
                    "iface": a.iface,
                    "addr": ip(&a.addr).to_string(),
                    "prefix_len": a.prefix_len,
                    "state": match a.state {
                        AddrState::Tentative => "tentative",
                        AddrState::Preferred => "preferred",
                        AddrState::Deprecated => "deprecated",
                    },
                    "valid_s": a.valid_s,
                })
            })
            .collect()),
        r => unexpected(r),
    })??;
    out.list(&v, &["IFACE", "ADDRESS", "STATE", "VALID"], |a| {
        vec![
            text(&a["iface"], ""),
            format!("{}/{}", text(&a["addr"], ""), a["prefix_len"]),
            text(&a["state"], ""),
            a["valid_s"]
                .as_u64()
                .map_or("forever".into(), |s| format!("{s}s")),
        ]
    });
    Ok(())
}

/// `addr add IFACE ADDR/LEN`.
pub fn addr_add(
    dev: &mut Device,
    out: Out,
    iface: &str,
    a: Ipv6Addr,
    len: u8,
) -> Result<(), CliError> {
    super::simple(
        dev,
        out,
        &Request::AddrAdd {
            iface,
            addr: a.octets(),
            prefix_len: len,
        },
        &format!("added {a}/{len} to {iface}"),
    )
}

/// `addr del IFACE ADDR`.
pub fn addr_del(dev: &mut Device, out: Out, iface: &str, a: Ipv6Addr) -> Result<(), CliError> {
    super::simple(
        dev,
        out,
        &Request::AddrDel {
            iface,
            addr: a.octets(),
        },
        &format!("removed {a} from {iface}"),
    )
}

/// `route list`.
pub fn route_list(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let v: Vec<Value> = dev.request(&Request::RouteList, |r| match r {
        Response::Routes(v) => Ok(v
            .iter()
            .map(|r| {
                json!({
                    "prefix": format!("{}/{}", ip(&r.prefix), r.len),
                    "iface": r.iface,
                    "via": r.via.map(|v| ip(&v).to_string()),
                    "metric": r.metric,
                    "origin": match r.origin {
                        RouteOrigin::Connected => "connected",
                        RouteOrigin::Static => "static",
                        RouteOrigin::Learned => "learned",
                    },
                    "expires_s": r.expires_s,
                })
            })
            .collect()),
        r => unexpected(r),
    })??;
    let headers = ["PREFIX", "IFACE", "VIA", "METRIC", "ORIGIN", "EXPIRES"];
    out.list(&v, &headers, |r| {
        vec![
            text(&r["prefix"], ""),
            text(&r["iface"], "reject"),
            text(&r["via"], "on-link"),
            text(&r["metric"], ""),
            text(&r["origin"], ""),
            r["expires_s"]
                .as_u64()
                .map_or("never".into(), |s| format!("{s}s")),
        ]
    });
    Ok(())
}

/// `route add PREFIX/LEN dev IFACE [via ADDR] [metric N] [--replace]`: refused when the
/// prefix is connected, or already has a static route and `replace` is not set.
pub fn route_add(
    dev: &mut Device,
    out: Out,
    prefix: (Ipv6Addr, u8),
    iface: &str,
    via: Option<Ipv6Addr>,
    metric: u16,
    replace: bool,
) -> Result<(), CliError> {
    let shown = format!("{}/{}", prefix.0, prefix.1);
    let all: Vec<RouteInfoOwned> = dev.request(&Request::RouteList, |r| match r {
        Response::Routes(v) => Ok(v
            .iter()
            .map(|r| RouteInfoOwned {
                prefix: (ip(&r.prefix), r.len),
                iface: r.iface.map(str::to_string),
                via: r.via.map(|v| ip(&v)),
                origin: r.origin,
            })
            .collect()),
        r => unexpected(r),
    })??;
    // A next hop is a neighbour: link-local, or inside a prefix connected on `iface`.
    if let Some(v) = via
        && !v.is_unicast_link_local()
        && !all.iter().any(|r| {
            r.origin == RouteOrigin::Connected
                && r.iface.as_deref() == Some(iface)
                && super::mask(v, r.prefix.1) == r.prefix.0
        })
    {
        return Err(CliError::Usage(format!(
            "next hop {v} is not on-link on {iface}: use a link-local address or one in a \
             prefix connected on {iface} (`sixgate route list`)"
        )));
    }
    let same: Vec<&RouteInfoOwned> = all.iter().filter(|r| r.prefix == prefix).collect();
    if let Some(c) = same.iter().find(|r| r.origin == RouteOrigin::Connected) {
        return Err(CliError::Other(format!(
            "{shown} is connected on {} (it goes with that interface's address); a route \
             cannot replace it",
            c.iface.as_deref().unwrap_or("?")
        )));
    }
    let statics: Vec<&RouteInfoOwned> = same
        .iter()
        .copied()
        .filter(|r| r.origin == RouteOrigin::Static)
        .collect();
    if let Some(old) = statics.first() {
        if !replace {
            return Err(CliError::Other(format!(
                "a static route to {shown} exists (dev {}{}); add --replace to replace it",
                old.iface.as_deref().unwrap_or("reject"),
                old.via.map(|v| format!(" via {v}")).unwrap_or_default()
            )));
        }
        // The device replaces a static route through the same interface in place; one through
        // another interface goes first.
        if statics.iter().any(|r| r.iface.as_deref() != Some(iface)) {
            dev.request_ok(&Request::RouteDel {
                prefix: prefix.0.octets(),
                len: prefix.1,
            })?;
        }
    }
    super::simple(
        dev,
        out,
        &Request::RouteAdd {
            prefix: prefix.0.octets(),
            len: prefix.1,
            iface,
            via: via.map(|v| v.octets()),
            metric,
        },
        &format!(
            "route {shown} {}",
            if statics.is_empty() {
                "added"
            } else {
                "replaced"
            }
        ),
    )
}

/// What `route add` needs of an existing route.
struct RouteInfoOwned {
    prefix: (Ipv6Addr, u8),
    iface: Option<String>,
    via: Option<Ipv6Addr>,
    origin: RouteOrigin,
}

/// `route del PREFIX/LEN`.
pub fn route_del(dev: &mut Device, out: Out, prefix: (Ipv6Addr, u8)) -> Result<(), CliError> {
    super::simple(
        dev,
        out,
        &Request::RouteDel {
            prefix: prefix.0.octets(),
            len: prefix.1,
        },
        &format!("route {}/{} removed", prefix.0, prefix.1),
    )
}

/// `neigh list`.
pub fn neigh_list(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let v: Vec<Value> = dev.request(&Request::NeighList, |r| match r {
        Response::Neighbors(v) => Ok(v
            .iter()
            .map(|n| {
                json!({
                    "addr": ip(&n.addr).to_string(),
                    "mac": n.mac.map(|m| hex_colon(&m)),
                    "state": match n.state {
                        NeighState::Incomplete => "INCOMPLETE",
                        NeighState::Reachable => "REACHABLE",
                        NeighState::Stale => "STALE",
                        NeighState::Delay => "DELAY",
                        NeighState::Probe => "PROBE",
                    },
                    "router": n.router,
                })
            })
            .collect()),
        r => unexpected(r),
    })??;
    out.list(&v, &["ADDRESS", "IFACE", "LLADDR", "STATE", ""], |n| {
        vec![
            text(&n["addr"], ""),
            "eth0".into(),
            text(&n["mac"], "-"),
            text(&n["state"], ""),
            if n["router"] == true {
                "router".into()
            } else {
                String::new()
            },
        ]
    });
    Ok(())
}

/// `prefix show`.
pub fn prefix_show(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let v = dev.request(&Request::PrefixShow, |r| match r {
        Response::Prefix {
            prefix,
            len,
            context_id,
            abro_version,
        } => Ok(json!({
            "prefix": format!("{}/{}", ip(&prefix), len),
            "context_id": context_id,
            "abro_version": abro_version,
        })),
        r => unexpected(r),
    })??;
    if out.json {
        out.json(&v);
    } else {
        crate::outln!(
            "{}  (6LoWPAN context {}, ABRO version {})",
            v["prefix"].as_str().unwrap_or(""),
            v["context_id"],
            v["abro_version"]
        );
    }
    Ok(())
}

/// `prefix set PREFIX/LEN`.
pub fn prefix_set(dev: &mut Device, out: Out, p: (Ipv6Addr, u8)) -> Result<(), CliError> {
    super::simple(
        dev,
        out,
        &Request::PrefixSet {
            prefix: p.0.octets(),
            len: p.1,
        },
        &format!("mesh prefix is now {}/{}", p.0, p.1),
    )
}
