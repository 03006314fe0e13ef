//! The RPL root: its state and settings (`RplShow`, `RplSet`), global repair (`RplRepair`)
//! and the DODAG (`Topology`).

use heapless::Vec;
use mgmt::{Response, RplInfo, RplSettings, TopoNode};
use netif::Instant;

use super::{MgmtServer, sat16};
use crate::app::App;
use crate::config::{RplConfig, RplMop, RplObjective};
use crate::root::Root;

/// The settings as the protocol carries them.
fn settings(c: &RplConfig) -> RplSettings {
    RplSettings {
        enabled: c.enabled,
        mop: c.mop.value(),
        instance_id: c.instance_id,
        dio_interval_min: c.dio_interval_min,
        dio_interval_doublings: c.dio_interval_doublings,
        dio_redundancy: c.dio_redundancy,
        default_lifetime: c.default_lifetime,
        lifetime_unit_s: c.lifetime_unit_s,
        max_depth: c.max_depth,
        min_hop_rank_increase: c.min_hop_rank_increase,
        rfc8138: c.rfc8138,
        ocp: c.objective.ocp(),
    }
}

impl<const TX: usize> MgmtServer<TX> {
    /// [`Request::RplShow`].
    #[inline(always)]
    pub(super) fn rpl_show(&mut self, id: u16, app: &App<'_>, now: Instant) {
        let c = app.config();
        let root = app.root();
        let s = root.stats();
        let reg = app.wpan().registry();
        let trickle = root.trickle_view(now);
        let info = RplInfo {
            settings: settings(&c.rpl),
            dodag_id: app.mesh_address().octets(),
            version: root.version(),
            rank: Root::rank(c),
            dtsn: root.dtsn(),
            trickle_interval_ms: trickle.interval_ms,
            trickle_heard: trickle.heard,
            next_dio_ms: trickle.next_ms,
            dio: (s.dio_tx, s.dio_rx),
            dis_rx: s.dis_rx,
            dao_rx: s.dao_rx,
            dao_ack_tx: s.dao_ack_tx,
            dao_rejected: s.dao_rejected,
            rx_invalid: s.rx_invalid,
            targets: (sat16(reg.targets().count()), sat16(reg.capacity())),
        };
        self.respond(id, &Response::Rpl(info));
    }

    /// [`Request::RplSet`].
    #[inline(always)]
    pub(super) fn rpl_set(&mut self, id: u16, s: RplSettings, app: &mut App<'_>, now: Instant) {
        let mop = match s.mop {
            1 => RplMop::NonStoring,
            2 => RplMop::Storing,
            _ => {
                return self.error(
                    id,
                    mgmt::ErrorCode::InvalidArgument,
                    "mode of operation must be 1 (non-storing) or 2 (storing)",
                );
            }
        };
        let Some(objective) = RplObjective::from_ocp(s.ocp) else {
            return self.error(
                id,
                mgmt::ErrorCode::InvalidArgument,
                "objective function must be OCP 0 (OF0) or 1 (MRHOF)",
            );
        };
        let cfg = RplConfig {
            enabled: s.enabled,
            mop,
            instance_id: s.instance_id,
            dio_interval_min: s.dio_interval_min,
            dio_interval_doublings: s.dio_interval_doublings,
            dio_redundancy: s.dio_redundancy,
            default_lifetime: s.default_lifetime,
            lifetime_unit_s: s.lifetime_unit_s,
            max_depth: s.max_depth,
            min_hop_rank_increase: s.min_hop_rank_increase,
            rfc8138: s.rfc8138,
            objective,
        };
        match app.set_rpl(now, cfg) {
            Ok(()) => self.ok(id),
            Err(e) => self.app_error(id, e),
        }
    }

    /// [`Request::RplRepair`].
    #[inline(always)]
    pub(super) fn rpl_repair(&mut self, id: u16, app: &mut App<'_>, now: Instant) {
        app.rpl_repair(now);
        self.ok(id);
    }

    /// [`Request::Topology`]: one page.
    #[inline(always)]
    pub(super) fn topology(&mut self, id: u16, start: u16, app: &App<'_>) {
        let mut nodes: Vec<TopoNode, { mgmt::NODES_PER_PAGE }> = Vec::new();
        let mut total: usize = 0;
        let reg = app.wpan().registry();
        let mac = app.wpan().mac();
        for (k, n) in app.topology().enumerate() {
            total += 1;
            if k >= usize::from(start) && !nodes.is_full() {
                // The link to the parent is measured only when the parent is the root: the
                // root's MAC statistics for that neighbour. Deeper links would need a DAG
                // Metric Container in the DAOs, which our routers do not send.
                let etx = if n.parent.is_none() {
                    reg.lookup(&n.addr)
                        .and_then(|e| e.neighbour())
                        .and_then(|ll| mac.neighbor(&ll))
                        .and_then(|l| l.etx_x100())
                } else {
                    None
                };
                let _ = nodes.push(TopoNode {
                    addr: n.addr.octets(),
                    parent: n.parent.map(|p| p.octets()),
                    depth: n.depth,
                    lifetime_s: n.lifetime_s,
                    storing: n.storing,
                    registered: n.registered,
                    etx_x100: etx.map(|e| u16::try_from(e).unwrap_or(u16::MAX)),
                    external: n.external,
                });
            }
        }
        self.respond(
            id,
            &Response::Topology {
                total: sat16(total),
                start,
                nodes,
            },
        );
    }
}
