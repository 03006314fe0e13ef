//! The RPL root's configuration ([`RplConfig`], in [`Config::rpl`](super::Config::rpl)):
//! whether the border router is a DODAG root on `wpan0`, in which mode of operation, and the
//! values it advertises in the DODAG Configuration option (RFC 6550 §6.7.6). Added in
//! encoding version 4; older records load with [`RplConfig::default`].

use serde::{Deserialize, Serialize};

use crate::registry::MAX_RPL_DEPTH;

/// The DODAG's Mode of Operation (RFC 6550 §6.3.1) the root announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RplMop {
    /// MOP 1, non-storing: DAOs go to the root with the parent's address; the root source-
    /// routes downward traffic (RFC 6554).
    NonStoring,
    /// MOP 2, storing without multicast: each router keeps routes to its subtree; the root
    /// forwards to the child that advertised the target. RIOT's routers work this way.
    Storing,
}

impl RplMop {
    /// The MOP field value (RFC 6550 §6.3.1).
    pub const fn value(self) -> u8 {
        match self {
            RplMop::NonStoring => 1,
            RplMop::Storing => 2,
        }
    }
}

/// The objective function the root names in its DODAG Configuration (the OCP, RFC 6550
/// §6.7.6): the routers of the DODAG choose their parents and ranks by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RplObjective {
    /// OF0 (RFC 6552, OCP 0): rank by hop count; every implementation has it. Our routers
    /// count every link as one transmission under it.
    Of0,
    /// MRHOF (RFC 6719, OCP 1) with ETX: our routers take each link's ETX from their MAC's
    /// ageing estimate and change parent only for a path cheaper by ETX 1.5.
    Mrhof,
}

impl RplObjective {
    /// The Objective Code Point (RFC 6550 §6.7.6; IANA: 0 OF0, 1 MRHOF).
    pub const fn ocp(self) -> u16 {
        match self {
            RplObjective::Of0 => 0,
            RplObjective::Mrhof => 1,
        }
    }

    /// The objective function of an OCP this firmware implements.
    pub const fn from_ocp(ocp: u16) -> Option<RplObjective> {
        match ocp {
            0 => Some(RplObjective::Of0),
            1 => Some(RplObjective::Mrhof),
            _ => None,
        }
    }
}

/// The RPL root's settings.
///
/// Defaults (`RplConfig::default`): enabled; MOP 1 (non-storing); RPLInstanceID 30 (a global
/// instance; Contiki-NG's default); DIOIntervalMin 12 (2^12 ms = 4.1 s) with 8 doublings (the
/// longest interval 17.5 min) and redundancy constant 10, Contiki-NG's values (RFC 6550's 3 and
/// 20 make 8 ms DIO bursts); default lifetime 30 units of 60 s (half an hour); at most 8 hops
/// to a target; MinHopRankIncrease 256 (RFC 6550 §17 DEFAULT_MIN_HOP_RANK_INCREASE); RFC 8138
/// off; MRHOF (RFC 6719) over the ETX our routers measure, OF0 (RFC 6552) the alternative
/// (`objective`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RplConfig {
    /// The border router is the root of a DODAG on `wpan0` (DIOs, DAOs, source routes).
    /// Off: RPL messages are dropped and counted, as before the root existed.
    pub enabled: bool,
    /// The mode of operation.
    pub mop: RplMop,
    /// The RPLInstanceID, 0..=127 (a global instance).
    pub instance_id: u8,
    /// DIOIntervalMin: Trickle's Imin is 2^this milliseconds, 1..=24.
    pub dio_interval_min: u8,
    /// DIOIntervalDoublings: Imax = Imin × 2^this; `dio_interval_min + this` at most 31.
    pub dio_interval_doublings: u8,
    /// DIORedundancyConstant (Trickle's k); 0 means "never suppress".
    pub dio_redundancy: u8,
    /// Default Lifetime, in lifetime units, of the routes the DODAG installs; non-zero.
    pub default_lifetime: u8,
    /// Lifetime Unit in seconds; non-zero.
    pub lifetime_unit_s: u16,
    /// The deepest source route (hops from the root, the target included) the root accepts:
    /// 1..=[`MAX_RPL_DEPTH`]; a DAO that would make a longer chain is rejected.
    pub max_depth: u8,
    /// MinHopRankIncrease; non-zero. The root's rank is this value (RFC 6550 §8.2.2.2).
    pub min_hop_rank_increase: u16,
    /// RFC 8138 compression in the DODAG: the DODAG Configuration's T flag (RFC 9035) is set
    /// and every node of the DODAG (the root included) sends the RPL Option, the source
    /// routes and the tunnels as 6LoRH (page 1). Off: RFC 6282 / RFC 8025 page 0 only.
    /// Decompression is always on. Encoding version 5.
    pub rfc8138: bool,
    /// The objective function the DIOs name (OCP). Encoding version 6; a version-4 or -5
    /// record (whose firmware always advertised OF0) loads with OF0.
    pub objective: RplObjective,
}

impl Default for RplConfig {
    fn default() -> Self {
        RplConfig {
            enabled: true,
            mop: RplMop::NonStoring,
            instance_id: 30,
            dio_interval_min: 12,
            dio_interval_doublings: 8,
            dio_redundancy: 10,
            default_lifetime: 30,
            lifetime_unit_s: 60,
            max_depth: 8,
            min_hop_rank_increase: 256,
            rfc8138: false,
            objective: RplObjective::Mrhof,
        }
    }
}

impl RplConfig {
    /// Whether the settings are consistent (see each field).
    pub fn is_valid(&self) -> bool {
        self.instance_id < 128
            && (1..=24).contains(&self.dio_interval_min)
            && self
                .dio_interval_min
                .saturating_add(self.dio_interval_doublings)
                <= 31
            && self.default_lifetime != 0
            && self.lifetime_unit_s != 0
            && (1..=MAX_RPL_DEPTH).contains(&usize::from(self.max_depth))
            && self.min_hop_rank_increase != 0
    }

    /// The default route lifetime in seconds.
    pub fn default_lifetime_s(&self) -> u32 {
        u32::from(self.default_lifetime).saturating_mul(u32::from(self.lifetime_unit_s))
    }
}
