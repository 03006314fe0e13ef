//! The RPL messages' bodies: the root's settings ([`RplSettings`]), its state ([`RplInfo`])
//! and one node of the DODAG ([`TopoNode`]).

use serde::{Deserialize, Serialize};

use super::*;
use crate::schema::schema_types;

schema_types! {
    /// The RPL root's settings (the device's configuration; see its `RplConfig`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RplSettings {
        /// The border router is a DODAG root on `wpan0`.
        pub enabled: bool,
        /// Mode of Operation: 1 non-storing, 2 storing.
        pub mop: u8,
        /// RPLInstanceID (0..=127).
        pub instance_id: u8,
        /// DIOIntervalMin (Trickle Imin = 2^this ms).
        pub dio_interval_min: u8,
        /// DIOIntervalDoublings.
        pub dio_interval_doublings: u8,
        /// DIORedundancyConstant (Trickle k).
        pub dio_redundancy: u8,
        /// Default route lifetime, in lifetime units.
        pub default_lifetime: u8,
        /// Lifetime unit, seconds.
        pub lifetime_unit_s: u16,
        /// Deepest source route accepted (hops).
        pub max_depth: u8,
        /// MinHopRankIncrease (the root's rank).
        pub min_hop_rank_increase: u16,
        /// RFC 8138 (6LoRH) compression in the DODAG: the DODAG Configuration's T flag
        /// (RFC 9035).
        pub rfc8138: bool,
        /// The objective function's code point (OCP) in the DODAG Configuration: 0 OF0
        /// (RFC 6552), 1 MRHOF (RFC 6719); the device refuses others.
        pub ocp: u16,
    }
}

schema_types! {
    /// See [`Request::RplShow`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RplInfo {
        /// The settings.
        pub settings: RplSettings,
        /// DODAG ID (the root's mesh address).
        pub dodag_id: Ip6,
        /// DODAG Version Number.
        pub version: u8,
        /// The root's rank.
        pub rank: u16,
        /// Destination Advertisement Trigger Sequence Number.
        pub dtsn: u8,
        /// Current Trickle interval, milliseconds.
        pub trickle_interval_ms: u32,
        /// Consistent DIOs heard in this interval (Trickle c).
        pub trickle_heard: u8,
        /// Until the next DIO, milliseconds (`None`: suppressed in this interval).
        pub next_dio_ms: Option<u32>,
        /// DIOs sent / received.
        pub dio: (u32, u32),
        /// DIS received.
        pub dis_rx: u32,
        /// DAOs received.
        pub dao_rx: u32,
        /// DAO-ACKs sent.
        pub dao_ack_tx: u32,
        /// DAO targets rejected.
        pub dao_rejected: u32,
        /// RPL messages dropped as malformed or not for this DODAG.
        pub rx_invalid: u32,
        /// Targets in use / capacity (the registration table's).
        pub targets: (u16, u16),
    }
}

schema_types! {
    /// One node of the DODAG (see [`Request::Topology`]).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct TopoNode {
        /// IPv6 address.
        pub addr: Ip6,
        /// Its parent (`None`: the root).
        pub parent: Option<Ip6>,
        /// Hops from the root (`None`: the parent chain is broken or unknown).
        pub depth: Option<u8>,
        /// Path lifetime left, seconds.
        pub lifetime_s: u32,
        /// Learnt in storing mode (the parent is the child the DAO came through).
        pub storing: bool,
        /// Also registered with 6LoWPAN-ND at the root (a neighbour).
        pub registered: bool,
        /// ETX × 100 of the link to its parent, when the root measured it (the parent is the
        /// root: the root's MAC statistics for it); `None` deeper (our routers send no DAG
        /// Metric Container) or before the root sent it anything.
        pub etx_x100: Option<u16>,
        /// A host its parent (a 6LR) advertises for it (the Transit E flag, RFC 9010).
        pub external: bool,
    }
}
