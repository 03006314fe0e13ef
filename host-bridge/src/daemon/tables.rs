//! The device's tables as the daemon last polled them (info, interfaces, routes, the named
//! counter list, the DODAG's root and size), owned copies of the `mgmt` answers for the HTTP
//! side ([`super::http`]).

use std::net::Ipv6Addr;
use std::time::SystemTime;

use mgmt::{IfaceInfo, IfaceKind, Info, Layer, RouteInfo, RouteOrigin};

/// `Info`, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoSnap {
    /// Firmware name and version.
    pub firmware: String,
    /// Board name.
    pub board: String,
    /// Protocol version.
    pub protocol: u8,
    /// Since boot, ms.
    pub uptime_ms: u64,
    /// Radio EUI-64.
    pub eui64: [u8; 8],
    /// Channel.
    pub channel: u8,
    /// PAN ID.
    pub pan_id: u16,
    /// Transmit power, dBm.
    pub tx_power: i8,
    /// Mesh prefix.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub prefix_len: u8,
    /// Registered nodes.
    pub registered: u16,
    /// Gleaned nodes.
    pub gleaned: u16,
    /// Free packet buffers.
    pub pool_free: u16,
    /// Packet buffers in all.
    pub pool_size: u16,
}

impl From<&Info<'_>> for InfoSnap {
    fn from(i: &Info<'_>) -> InfoSnap {
        InfoSnap {
            firmware: i.firmware.into(),
            board: i.board.into(),
            protocol: i.protocol,
            uptime_ms: i.uptime_ms,
            eui64: i.eui64,
            channel: i.channel,
            pan_id: i.pan_id,
            tx_power: i.tx_power,
            prefix: Ipv6Addr::from(i.prefix),
            prefix_len: i.prefix_len,
            registered: i.registered,
            gleaned: i.gleaned,
            pool_free: i.pool_free,
            pool_size: i.pool_size,
        }
    }
}

/// One interface, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceSnap {
    /// Name.
    pub name: String,
    /// `wpan`, `ethernet`, `other`.
    pub kind: &'static str,
    /// Administratively up.
    pub admin_up: bool,
    /// Carrier.
    pub link_up: bool,
    /// IPv6 MTU.
    pub mtu: u16,
    /// Link-layer address, `aa:bb:..`.
    pub ll_addr: String,
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Packets forwarded out of it.
    pub forwarded: u64,
    /// Drops of every reason.
    pub drops: u64,
}

impl From<&IfaceInfo<'_>> for IfaceSnap {
    fn from(i: &IfaceInfo<'_>) -> IfaceSnap {
        IfaceSnap {
            name: i.name.into(),
            kind: match i.kind {
                IfaceKind::Wpan => "wpan",
                IfaceKind::Ethernet => "ethernet",
                IfaceKind::Other => "other",
            },
            admin_up: i.admin_up,
            link_up: i.link_up,
            mtu: i.mtu,
            ll_addr: crate::cmd::hex_colon(i.ll_addr),
            rx_packets: i.rx_packets,
            tx_packets: i.tx_packets,
            forwarded: i.forwarded,
            drops: i.drops,
        }
    }
}

/// One route, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSnap {
    /// Destination prefix.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub len: u8,
    /// Egress interface (`None`: discard).
    pub iface: Option<String>,
    /// Next hop (`None`: on-link).
    pub via: Option<Ipv6Addr>,
    /// Metric.
    pub metric: u16,
    /// `connected`, `static`, `learned`.
    pub origin: &'static str,
    /// Lifetime left, s (`None`: permanent).
    pub expires_s: Option<u32>,
}

impl From<&RouteInfo<'_>> for RouteSnap {
    fn from(r: &RouteInfo<'_>) -> RouteSnap {
        RouteSnap {
            prefix: Ipv6Addr::from(r.prefix),
            len: r.len,
            iface: r.iface.map(str::to_string),
            via: r.via.map(Ipv6Addr::from),
            metric: r.metric,
            origin: match r.origin {
                RouteOrigin::Connected => "connected",
                RouteOrigin::Static => "static",
                RouteOrigin::Learned => "learned",
            },
            expires_s: r.expires_s,
        }
    }
}

/// One counter of the device's list, named as `sixgate stats` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// `mac`, `6lowpan`, `ethernet`, `ipv6`, `nd`, `device`, `rpl`; `unknown` when the
    /// device's list is not this build's.
    pub layer: &'static str,
    /// Interface (`None`: device-wide).
    pub iface: Option<&'static str>,
    /// Name (`counter_N` when the list is not this build's).
    pub name: String,
    /// A netif drop reason ([`mgmt::counters::DROP_REASONS`]) of `iface`'s IPv6 layer.
    pub drop_reason: bool,
    /// A level, not a count ([`mgmt::counters::is_gauge`], the high-water marks).
    pub gauge: bool,
    /// Value.
    pub value: u64,
}

pub use crate::cmd::stats::layer_name;

/// Names `values` (the `Stats` pages, `list` their fingerprint) with this build's counter
/// list; by index (`counter_N`, layer `unknown`) when the device's list differs.
pub fn name_counters(list: u32, values: &[u64]) -> Vec<Counter> {
    let mut known = Vec::new();
    mgmt::counters::for_each_name(&mut |l, i, n| known.push((l, i, n)));
    if list != mgmt::counters::FINGERPRINT || known.len() != values.len() {
        return values
            .iter()
            .enumerate()
            .map(|(k, &value)| Counter {
                layer: "unknown",
                iface: None,
                name: format!("counter_{k}"),
                drop_reason: false,
                gauge: false,
                value,
            })
            .collect();
    }
    // The list ends with GAUGES_AT_END high-water marks.
    let marks_from = known.len().saturating_sub(mgmt::counters::GAUGES_AT_END);
    // A drop reason is one of the names `$drops!` lists after an interface's IPv6 group.
    let mut in_drops = false;
    let mut prev: Option<(Layer, Option<&str>)> = None;
    known
        .iter()
        .zip(values)
        .enumerate()
        .map(|(k, (&(layer, iface, name), &value))| {
            let first_reason = mgmt::counters::DROP_REASONS.first() == Some(&name);
            if prev != Some((layer, iface)) {
                in_drops = false;
            }
            if layer == Layer::Ipv6 && iface.is_some() && first_reason {
                in_drops = true;
            }
            prev = Some((layer, iface));
            Counter {
                layer: layer_name(layer),
                iface,
                name: name.to_string(),
                drop_reason: in_drops && mgmt::counters::DROP_REASONS.contains(&name),
                gauge: mgmt::counters::is_gauge(iface, name) || k >= marks_from,
                value,
            }
        })
        .collect()
}

/// What the last complete poll read besides the nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tables {
    /// `Info`.
    pub info: Option<InfoSnap>,
    /// `IfaceList`.
    pub ifaces: Vec<IfaceSnap>,
    /// `RouteList`.
    pub routes: Vec<RouteSnap>,
    /// `Stats`, named.
    pub counters: Vec<Counter>,
    /// The DODAG root (`None`: no RPL root, or not polled yet).
    pub root: Option<Ipv6Addr>,
    /// RPL targets in the DODAG (the `Topology` total less the root).
    pub rpl_targets: Option<u16>,
    /// When the poll ended.
    pub updated: Option<SystemTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_reasons_and_gauges_are_marked() {
        let n = mgmt::counters::COUNT;
        let c = name_counters(mgmt::counters::FINGERPRINT, &vec![0; n]);
        assert_eq!(c.len(), n);
        let drops: Vec<_> = c.iter().filter(|c| c.drop_reason).collect();
        // One set of reasons per interface (wpan0, eth0).
        assert_eq!(drops.len(), 2 * mgmt::counters::DROP_REASONS.len());
        assert!(drops.iter().all(|c| c.layer == "ipv6" && c.iface.is_some()));
        assert!(c.iter().any(|c| c.gauge && c.name == "pool_free"));
        assert!(c.last().is_some_and(|c| c.gauge));
        assert!(!c.iter().any(|c| c.name == "rx_packets" && c.gauge));
        let other = name_counters(0, &[5]);
        assert_eq!(other[0].name, "counter_0");
    }
}
