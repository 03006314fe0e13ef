//! `sixgate rpl [show]`, `sixgate rpl set …`, `sixgate rpl repair`.

use mgmt::{Request, Response, RplSettings};
use serde_json::{Value, json};

use super::{Out, dur_ms, ip, unexpected};
use crate::device::Device;
use crate::error::CliError;

/// Changes asked for by `rpl set` (unset fields keep the device's value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RplChanges {
    /// Enable or disable the root.
    pub enabled: Option<bool>,
    /// Mode of operation, 1 or 2.
    pub mop: Option<u8>,
    /// RPLInstanceID.
    pub instance: Option<u8>,
    /// DIOIntervalMin.
    pub dio_min: Option<u8>,
    /// DIOIntervalDoublings.
    pub dio_doublings: Option<u8>,
    /// DIORedundancyConstant.
    pub dio_k: Option<u8>,
    /// Default lifetime in units.
    pub lifetime: Option<u8>,
    /// Lifetime unit, seconds.
    pub lifetime_unit: Option<u16>,
    /// Maximum depth.
    pub max_depth: Option<u8>,
    /// MinHopRankIncrease.
    pub min_hop_rank_increase: Option<u16>,
    /// RFC 8138 compression in the DODAG.
    pub rfc8138: Option<bool>,
    /// The objective function's code point: 0 OF0, 1 MRHOF.
    pub ocp: Option<u16>,
}

/// The name of an objective code point, as `--of` takes it and `rpl` shows it.
pub fn objective_name(ocp: u16) -> &'static str {
    match ocp {
        0 => "of0",
        1 => "mrhof",
        _ => "?",
    }
}

fn settings_json(s: &RplSettings) -> Value {
    json!({
        "enabled": s.enabled,
        "mop": s.mop,
        "instance_id": s.instance_id,
        "dio_interval_min": s.dio_interval_min,
        "dio_interval_doublings": s.dio_interval_doublings,
        "dio_redundancy": s.dio_redundancy,
        "default_lifetime": s.default_lifetime,
        "lifetime_unit_s": s.lifetime_unit_s,
        "max_depth": s.max_depth,
        "min_hop_rank_increase": s.min_hop_rank_increase,
        "rfc8138": s.rfc8138,
        "ocp": s.ocp,
    })
}

/// The root's state (`RplShow`).
pub(super) fn fetch(dev: &mut Device) -> Result<mgmt::RplInfo, CliError> {
    dev.request(&Request::RplShow, |r| match r {
        Response::Rpl(i) => Ok(i),
        other => unexpected(other),
    })?
}

/// `rpl show`.
pub fn show(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let i = fetch(dev)?;
    let s = &i.settings;
    let imin_ms = 1u64 << s.dio_interval_min.min(40);
    let v = json!({
        "enabled": s.enabled,
        "instance_id": s.instance_id,
        "dodag_id": ip(&i.dodag_id).to_string(),
        "version": i.version,
        "mop": s.mop,
        "rank": i.rank,
        "dtsn": i.dtsn,
        "rfc8138": s.rfc8138,
        "objective": objective_name(s.ocp),
        "ocp": s.ocp,
        "trickle": {
            "imin_ms": imin_ms,
            "imax_ms": imin_ms << s.dio_interval_doublings.min(23),
            "k": s.dio_redundancy,
            "interval_ms": i.trickle_interval_ms,
            "heard": i.trickle_heard,
            "next_dio_ms": i.next_dio_ms,
        },
        "counters": {
            "dio_tx": i.dio.0,
            "dio_rx": i.dio.1,
            "dis_rx": i.dis_rx,
            "dao_rx": i.dao_rx,
            "dao_ack_tx": i.dao_ack_tx,
            "dao_rejected": i.dao_rejected,
            "rx_invalid": i.rx_invalid,
        },
        "targets": {"used": i.targets.0, "capacity": i.targets.1},
        "settings": settings_json(s),
    });
    if out.json {
        out.json(&v);
        return Ok(());
    }
    let mop = match s.mop {
        1 => "1 (non-storing)",
        2 => "2 (storing)",
        _ => "?",
    };
    crate::outln!(
        "RPL root         {}",
        if s.enabled { "enabled" } else { "disabled" }
    );
    crate::outln!("instance         {}", s.instance_id);
    crate::outln!("DODAG ID         {}", ip(&i.dodag_id));
    crate::outln!("version          {}", i.version);
    crate::outln!("mode             {mop}");
    crate::outln!("rank             {}", i.rank);
    crate::outln!("DTSN             {}", i.dtsn);
    crate::outln!(
        "RFC 8138         {}",
        if s.rfc8138 {
            "on (6LoRH compression; DODAG Configuration T flag set)"
        } else {
            "off"
        }
    );
    crate::outln!(
        "objective        {}",
        match s.ocp {
            0 => "OF0 (RFC 6552, OCP 0): rank by hop count".to_string(),
            1 => "MRHOF (RFC 6719, OCP 1): ETX, parent switch for a path cheaper by 1.5".into(),
            n => format!("OCP {n}"),
        }
    );
    crate::outln!(
        "trickle          Imin {} Imax {} k {}; interval {}, heard {}, next DIO {}",
        dur_ms(imin_ms),
        dur_ms(imin_ms << s.dio_interval_doublings.min(23)),
        s.dio_redundancy,
        dur_ms(u64::from(i.trickle_interval_ms)),
        i.trickle_heard,
        i.next_dio_ms.map_or("suppressed".into(), |m| format!(
            "in {}",
            dur_ms(u64::from(m))
        ))
    );
    crate::outln!(
        "lifetimes        default {} x {} s, max depth {}",
        s.default_lifetime,
        s.lifetime_unit_s,
        s.max_depth
    );
    crate::outln!(
        "messages         DIO {} sent / {} received, DIS {}, DAO {}, DAO-ACK {}, rejected {}, invalid {}",
        i.dio.0,
        i.dio.1,
        i.dis_rx,
        i.dao_rx,
        i.dao_ack_tx,
        i.dao_rejected,
        i.rx_invalid
    );
    crate::outln!("targets          {} of {}", i.targets.0, i.targets.1);
    Ok(())
}

/// `rpl set`: read the settings, change what was asked, write them back.
pub fn set(dev: &mut Device, out: Out, c: &RplChanges) -> Result<(), CliError> {
    let mut s = fetch(dev)?.settings;
    s.enabled = c.enabled.unwrap_or(s.enabled);
    s.mop = c.mop.unwrap_or(s.mop);
    s.instance_id = c.instance.unwrap_or(s.instance_id);
    s.dio_interval_min = c.dio_min.unwrap_or(s.dio_interval_min);
    s.dio_interval_doublings = c.dio_doublings.unwrap_or(s.dio_interval_doublings);
    s.dio_redundancy = c.dio_k.unwrap_or(s.dio_redundancy);
    s.default_lifetime = c.lifetime.unwrap_or(s.default_lifetime);
    s.lifetime_unit_s = c.lifetime_unit.unwrap_or(s.lifetime_unit_s);
    s.max_depth = c.max_depth.unwrap_or(s.max_depth);
    s.min_hop_rank_increase = c.min_hop_rank_increase.unwrap_or(s.min_hop_rank_increase);
    s.rfc8138 = c.rfc8138.unwrap_or(s.rfc8138);
    s.ocp = c.ocp.unwrap_or(s.ocp);
    dev.request_ok(&Request::RplSet(s))?;
    if out.json {
        out.json(&settings_json(&s));
    } else {
        crate::outln!("RPL settings changed (`sixgate config save` keeps them)");
    }
    Ok(())
}

/// `rpl repair`.
pub fn repair(dev: &mut Device, out: Out) -> Result<(), CliError> {
    super::simple(
        dev,
        out,
        &Request::RplRepair,
        "new DODAG version: every node re-joins",
    )
}
