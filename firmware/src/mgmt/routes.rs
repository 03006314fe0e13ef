//! Where packets go: the routing table (`RouteList`, `RouteAdd`, `RouteDel`), the backbone
//! neighbour cache (`NeighList`) and the mesh nodes (`NodesList`).

use core::net::Ipv6Addr;

use heapless::Vec;
use mgmt::{
    ErrorCode, Ip6, Kind, NeighState, NeighborInfo, NodeInfo as MNode, Response, RouteInfo,
    RouteOrigin as MOrigin,
};
use netif::route::RouteError;
use netif::{Instant, Prefix, Route, RouteAction, RouteOrigin};

use super::{MgmtServer, iface_index, sat16, secs};
use crate::app::App;

impl<const TX: usize> MgmtServer<TX> {
    /// [`Request::RouteList`].
    #[inline(always)]
    pub(super) fn route_list(&mut self, id: u16, app: &App<'_>, now: Instant) {
        let mut v: Vec<RouteInfo<'_>, { mgmt::MAX_ROUTES }> = Vec::new();
        let stack = app.stack();
        for r in stack.routes().iter() {
            let (iface, via) = match r.action {
                RouteAction::Forward { iface, via } => (
                    stack.iface(iface).map(|x| x.name()),
                    via.map(|v| v.octets()),
                ),
                RouteAction::Reject => (None, None),
            };
            let _ = v.push(RouteInfo {
                prefix: r.prefix.addr().octets(),
                len: r.prefix.prefix_len(),
                iface,
                via,
                metric: r.metric,
                origin: match r.origin {
                    RouteOrigin::Connected => MOrigin::Connected,
                    RouteOrigin::Static => MOrigin::Static,
                    RouteOrigin::Learned => MOrigin::Learned,
                },
                expires_s: r.expires.map(|t| secs(t.saturating_since(now))),
            });
        }
        if !self.push(self.header(Kind::Response, id), &Response::Routes(v)) {
            self.stats.responses_lost += 1;
        }
    }

    /// [`Request::RouteAdd`].
    #[inline(always)]
    #[allow(clippy::too_many_arguments)] // the request's fields
    pub(super) fn route_add(
        &mut self,
        id: u16,
        prefix: Ip6,
        len: u8,
        iface: &str,
        via: Option<Ip6>,
        metric: u16,
        app: &mut App<'_>,
    ) {
        let Some(i) = iface_index(app, iface) else {
            return self.no_iface(id, iface);
        };
        let Some(p) = Prefix::new(Ipv6Addr::from(prefix), len) else {
            return self.error(id, ErrorCode::InvalidArgument, "bad prefix length");
        };
        // The CLI checks that `via` is on-link (link-local or in a connected prefix of
        // `iface`): it has the routing table at hand, and the board keeps the flash.
        let via = via.map(Ipv6Addr::from);
        let mut r = Route::new(p, i, via);
        r.metric = metric;
        match app.stack_mut().add_route(r) {
            Ok(()) => {
                if self.routes_saved {
                    app.operator_changed();
                }
                self.ok(id)
            }
            Err(e) => {
                let code = match e {
                    RouteError::TableFull => ErrorCode::Full,
                    RouteError::NoSuchIface => ErrorCode::NoSuchIface,
                    _ => ErrorCode::InvalidArgument,
                };
                self.error(id, code, e.as_str())
            }
        }
    }

    /// [`Request::RouteDel`].
    #[inline(always)]
    pub(super) fn route_del(&mut self, id: u16, prefix: Ip6, len: u8, app: &mut App<'_>) {
        let Some(p) = Prefix::new(Ipv6Addr::from(prefix), len) else {
            return self.error(id, ErrorCode::InvalidArgument, "bad prefix length");
        };
        // A connected route goes with its address: deleting it would cut the link off until
        // the address is set again.
        let stack = app.stack_mut();
        if stack
            .routes()
            .iter()
            .any(|r| r.prefix == p && r.origin == RouteOrigin::Connected)
        {
            let e = RouteError::Connected;
            return self.error(id, ErrorCode::InvalidArgument, e.as_str());
        }
        match stack.remove_route(&p, None) {
            Ok(()) => {
                if self.routes_saved {
                    app.operator_changed();
                }
                self.ok(id)
            }
            Err(_) => self.error(id, ErrorCode::NotFound, "no such route"),
        }
    }

    /// [`Request::NeighList`].
    #[inline(always)]
    pub(super) fn neigh_list(&mut self, id: u16, app: &App<'_>) {
        let mut v: Vec<NeighborInfo, { mgmt::MAX_NEIGHBORS }> = Vec::new();
        for n in app.eth().neighbors() {
            use ethernet::neighbor::NeighborState as S;
            let _ = v.push(NeighborInfo {
                addr: n.ip.octets(),
                mac: n.mac,
                state: match n.state {
                    S::Incomplete => NeighState::Incomplete,
                    S::Reachable => NeighState::Reachable,
                    S::Stale => NeighState::Stale,
                    S::Delay => NeighState::Delay,
                    S::Probe => NeighState::Probe,
                },
                router: n.is_router,
            });
        }
        self.respond(id, &Response::Neighbors(v));
    }

    /// [`Request::NodesList`]: one page.
    #[inline(always)]
    pub(super) fn nodes_list(&mut self, id: u16, start: u16, app: &App<'_>) {
        let mut nodes: Vec<MNode, { mgmt::NODES_PER_PAGE }> = Vec::new();
        let mut total: usize = 0;
        let reg = app.wpan().registry();
        let now = app.now();
        for (k, n) in app.nodes().enumerate() {
            total += 1;
            if k >= usize::from(start) && !nodes.is_full() {
                // Its place in the DODAG when it is also a live RPL target (a router of ours).
                let topo = reg
                    .lookup(&n.addr)
                    .filter(|e| e.target.is_some_and(|t| t.expires > now))
                    .and_then(|e| crate::root::topology_node(reg, &e, now));
                let _ = nodes.push(MNode {
                    addr: n.addr.octets(),
                    eui64: n.eui64,
                    short_addr: match n.ll {
                        l2_15_4::Address::Short(s) => Some(s),
                        l2_15_4::Address::Extended(_) => None,
                    },
                    registered: n.registered,
                    lifetime_s: secs(n.lifetime_left),
                    last_heard_ms: Some(
                        u32::try_from(n.last_heard_ago.as_micros() / 1000).unwrap_or(u32::MAX),
                    ),
                    rssi: n.rssi,
                    lqi: n.lqi,
                    etx_x100: n.etx_x100.map(|e| u16::try_from(e).unwrap_or(u16::MAX)),
                    rx_frames: n.rx,
                    tx_frames: n.tx,
                    parent: topo.map(|t| t.parent.unwrap_or(app.mesh_address()).octets()),
                    depth: topo.and_then(|t| t.depth),
                });
            }
        }
        self.respond(
            id,
            &Response::Nodes {
                total: sat16(total),
                start,
                nodes,
            },
        );
    }
}
