//! What the operator configured beyond [`Config`](crate::config::Config) — static routes and
//! interface addresses added at run time — as an [`OperatorState`] for the store, and back.
//! The shells save it with the configuration ([`App::save`]) and restore it after boot.

use core::net::Ipv6Addr;

use netif::{AddrState, IfIndex, Instant, Lifetimes, Prefix, Route, RouteAction, RouteOrigin};

use super::App;
use crate::config::Backbone;
use crate::lbr::our_iid;
use crate::store::{ConfigStore, OperatorState, SaveError, StoredAddr, StoredRoute, save_state};

impl App<'_> {
    /// The stored interface number of `i` (0 `wpan0`, 1 `eth0`).
    fn stored_iface(&self, i: IfIndex) -> u8 {
        u8::from(i == self.eth_i)
    }

    /// The static routes (other than the configured gateway's default route) and the
    /// permanent addresses (other than link-local ones, our mesh address and the static
    /// backbone address, which the configuration makes) now in use; `None` when there are
    /// more than the store keeps.
    pub fn operator_state(&self) -> Option<OperatorState> {
        let mut s = OperatorState::new();
        let gateway = match self.cfg.backbone {
            Backbone::Static { gateway, .. } => gateway.map(Ipv6Addr::from),
            Backbone::Slaac => None,
        };
        for r in self.stack.routes().iter() {
            let RouteAction::Forward { iface, via } = r.action else {
                continue;
            };
            let configured = r.prefix == Prefix::DEFAULT && iface == self.eth_i && via == gateway;
            if r.origin != RouteOrigin::Static || r.expires.is_some() || configured {
                continue;
            }
            s.routes
                .push(StoredRoute {
                    prefix: r.prefix.addr(),
                    len: r.prefix.prefix_len(),
                    iface: self.stored_iface(iface),
                    via,
                    metric: r.metric,
                })
                .ok()?;
        }
        let mesh = netif::addr::with_iid(self.cfg.mesh_prefix_addr(), our_iid(&self.cfg));
        let backbone = match self.cfg.backbone {
            Backbone::Static { addr, .. } => Some(Ipv6Addr::from(addr)),
            Backbone::Slaac => None,
        };
        for i in [self.wpan_i, self.eth_i] {
            let Some(x) = self.stack.iface(i) else {
                continue;
            };
            for a in x.addrs() {
                let made = a.addr.is_unicast_link_local()
                    || (i == self.wpan_i && a.addr == mesh)
                    || (i == self.eth_i && Some(a.addr) == backbone);
                if made || a.valid_until.is_some() {
                    continue;
                }
                s.addrs
                    .push(StoredAddr {
                        iface: self.stored_iface(i),
                        addr: a.addr,
                        len: a.prefix_len,
                    })
                    .ok()?;
            }
        }
        Some(s)
    }

    /// Adds the stored routes and addresses (after boot). What the core refuses is skipped.
    pub fn restore_operator_state(&mut self, now: Instant, s: &OperatorState) {
        let iface = |k: u8| if k == 0 { self.wpan_i } else { self.eth_i };
        for a in &s.addrs {
            let i = iface(a.iface);
            let r = self.stack.add_addr(
                now,
                i,
                a.addr,
                a.len,
                Lifetimes::INFINITE,
                AddrState::Preferred,
            );
            if r.is_err() {
                warn!("stored address not restored");
            }
        }
        for r in &s.routes {
            let Some(p) = Prefix::new(r.prefix, r.len) else {
                continue;
            };
            let mut route = Route::new(p, iface(r.iface), r.via);
            route.metric = r.metric;
            if self.stack.add_route(route).is_err() {
                warn!("stored route not restored");
            }
        }
    }

    /// Saves the configuration and the operator state to `store`; on success nothing is left
    /// unsaved. More routes or addresses than the store keeps give [`SaveError::TooMany`].
    pub fn save<S: ConfigStore>(&mut self, store: &mut S) -> Result<(), SaveError<S::Error>> {
        let op = self.operator_state().ok_or(SaveError::TooMany)?;
        save_state(store, &self.cfg, &op)?;
        self.config_saved();
        Ok(())
    }

    /// A route or address was added or removed by the operator: it is unsaved (and offered
    /// to the shell to persist, as a configuration change is).
    pub fn operator_changed(&mut self) {
        self.dirty = true;
        self.save_offered = false;
    }

    /// The shell erased the store: what runs is no longer stored, so it reads unsaved, but it
    /// is not offered for saving again (the next boot starts from the defaults) until the
    /// next change.
    pub fn config_erased(&mut self) {
        self.dirty = true;
        self.save_offered = true;
    }
}
