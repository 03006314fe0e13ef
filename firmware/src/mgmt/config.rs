//! The configuration: the mesh prefix (`PrefixShow`, `PrefixSet`) and the running
//! configuration (`ConfigShow`; saving, resetting and rebooting are [`Action`](super::Action)s
//! for the shell).

use core::net::Ipv6Addr;

use mgmt::{ConfigInfo, Ip6, Response};
use netif::Instant;

use super::MgmtServer;
use crate::app::App;
use crate::config::Backbone;

impl<const TX: usize> MgmtServer<TX> {
    /// [`Request::PrefixShow`].
    #[inline(always)]
    pub(super) fn prefix_show(&mut self, id: u16, app: &App<'_>) {
        let c = app.config();
        self.respond(
            id,
            &Response::Prefix {
                prefix: c.mesh_prefix_addr().octets(),
                len: crate::config::MESH_PREFIX_LEN,
                context_id: 0,
                abro_version: c.abro_version,
            },
        );
    }

    /// [`Request::PrefixSet`].
    #[inline(always)]
    pub(super) fn prefix_set(
        &mut self,
        id: u16,
        prefix: Ip6,
        len: u8,
        app: &mut App<'_>,
        now: Instant,
    ) {
        match app.set_prefix(now, Ipv6Addr::from(prefix), len) {
            Ok(()) => self.ok(id),
            Err(e) => self.app_error(id, e),
        }
    }

    /// [`Request::ConfigShow`].
    #[inline(always)]
    pub(super) fn config_show(&mut self, id: u16, app: &App<'_>) {
        let c = app.config();
        let (backbone_static, backbone_gateway) = match c.backbone {
            Backbone::Slaac => (None, None),
            Backbone::Static {
                addr,
                prefix_len,
                gateway,
            } => (Some((addr, prefix_len)), gateway),
        };
        let info = ConfigInfo {
            prefix: c.mesh_prefix_addr().octets(),
            prefix_len: crate::config::MESH_PREFIX_LEN,
            pan_id: c.pan_id,
            channel: c.channel,
            eui64: c.eui64,
            short_addr: c.short_address,
            tx_power: c.tx_power_dbm,
            eth_mac: c.eth_mac,
            backbone_static,
            backbone_gateway,
            ra_interval_s: (c.ra.min_interval_s, c.ra.max_interval_s),
            router_lifetime_s: c.ra.router_lifetime_s,
            prefix_lifetimes_s: (c.ra.prefix_valid_s, c.ra.prefix_preferred_s),
            abro_version: c.abro_version,
            max_registration_min: c.max_registration_lifetime_min,
            unsaved: app.config_dirty(),
            routes_saved: self.routes_saved,
        };
        self.respond(id, &Response::Config(info));
    }
}
