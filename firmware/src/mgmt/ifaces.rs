//! Interfaces and their addresses: `IfaceList`, `IfaceAdmin`, `IfaceSet` (radio settings),
//! `AddrList`, `AddrAdd`, `AddrDel`.

use core::net::Ipv6Addr;

use heapless::Vec;
use l2_15_4::radio::Radio;
use mgmt::{
    AddrInfo, AddrState as MAddrState, ErrorCode, IfaceInfo, IfaceKind, IfaceSetting, Ip6, Kind,
    Response, WpanInfo,
};
use netif::{AddrState, Instant, Lifetimes};

use super::{MgmtServer, iface_index, secs};
use crate::app::App;

impl<const TX: usize> MgmtServer<TX> {
    /// [`Request::IfaceList`].
    #[inline(always)]
    pub(super) fn iface_list(&mut self, id: u16, app: &App<'_>) {
        let mut v: Vec<IfaceInfo<'_>, { mgmt::MAX_IFACES }> = Vec::new();
        let c = app.config().clone();
        let wpan_i = app.wpan_index();
        let eth_mac = app.eth().mac();
        for x in app.stack().ifaces() {
            let st = x.stats();
            let wpan = x.index() == wpan_i;
            let _ = v.push(IfaceInfo {
                name: x.name(),
                kind: if wpan {
                    IfaceKind::Wpan
                } else if x.index() == app.eth_index() {
                    IfaceKind::Ethernet
                } else {
                    IfaceKind::Other
                },
                admin_up: x.is_admin_up(),
                link_up: x.is_oper_up(),
                mtu: x.mtu(),
                forwarding: x.is_forwarding(),
                ll_addr: if wpan { &c.eui64[..] } else { &eth_mac[..] },
                wpan: wpan.then_some(WpanInfo {
                    channel: c.channel,
                    pan_id: c.pan_id,
                    short_addr: c.short_address,
                    tx_power: c.tx_power_dbm,
                }),
                rx_packets: u64::from(st.rx_packets),
                tx_packets: u64::from(st.tx_packets),
                forwarded: u64::from(st.forwarded),
                drops: st.dropped_total(),
            });
        }
        self.respond(id, &Response::Ifaces(v));
    }

    /// [`Request::IfaceAdmin`].
    #[inline(always)]
    pub(super) fn iface_admin(
        &mut self,
        id: u16,
        iface: &str,
        up: bool,
        app: &mut App<'_>,
        now: Instant,
    ) {
        match iface_index(app, iface) {
            Some(i) => match app.set_iface_admin(now, i, up) {
                Ok(()) => self.ok(id),
                Err(e) => self.app_error(id, e),
            },
            None => self.no_iface(id, iface),
        }
    }

    /// [`Request::IfaceSet`].
    #[inline(always)]
    pub(super) fn iface_set<R: Radio>(
        &mut self,
        id: u16,
        iface: &str,
        setting: IfaceSetting,
        app: &mut App<'_>,
        now: Instant,
        radio: &mut R,
    ) {
        if iface_index(app, iface) != Some(app.wpan_index()) {
            if iface_index(app, iface).is_none() {
                self.no_iface(id, iface);
            } else {
                self.error(id, ErrorCode::Unsupported, "only wpan0 has radio settings");
            }
            return;
        }
        let r = match setting {
            IfaceSetting::Channel(ch) => app.set_channel(now, ch, radio),
            IfaceSetting::PanId(p) => app.set_pan_id(now, p, radio),
            IfaceSetting::TxPower(d) => app.set_tx_power(d),
        };
        match r {
            Ok(()) => self.ok(id),
            Err(e) => self.app_error(id, e),
        }
    }

    /// [`Request::AddrList`].
    #[inline(always)]
    pub(super) fn addr_list(&mut self, id: u16, app: &App<'_>, now: Instant) {
        let mut v: Vec<AddrInfo<'_>, { mgmt::MAX_ADDRS }> = Vec::new();
        for x in app.stack().ifaces() {
            for a in x.addrs() {
                let _ = v.push(AddrInfo {
                    iface: x.name(),
                    addr: a.addr.octets(),
                    prefix_len: a.prefix_len,
                    state: match a.state {
                        AddrState::Tentative => MAddrState::Tentative,
                        AddrState::Preferred => MAddrState::Preferred,
                        AddrState::Deprecated => MAddrState::Deprecated,
                    },
                    valid_s: a.valid_until.map(|t| secs(t.saturating_since(now))),
                });
            }
        }
        if !self.push(self.header(Kind::Response, id), &Response::Addrs(v)) {
            self.stats.responses_lost += 1;
        }
    }

    /// [`Request::AddrAdd`].
    #[inline(always)]
    pub(super) fn addr_add(
        &mut self,
        id: u16,
        iface: &str,
        addr: Ip6,
        prefix_len: u8,
        app: &mut App<'_>,
        now: Instant,
    ) {
        let Some(i) = iface_index(app, iface) else {
            return self.no_iface(id, iface);
        };
        let a = Ipv6Addr::from(addr);
        if prefix_len == 0 || prefix_len > 128 || a.is_multicast() || a.is_unspecified() {
            return self.error(
                id,
                ErrorCode::InvalidArgument,
                "need a unicast address and a prefix length 1..=128",
            );
        }
        match app.stack_mut().add_addr(
            now,
            i,
            a,
            prefix_len,
            Lifetimes::INFINITE,
            AddrState::Preferred,
        ) {
            Ok(_) => {
                if self.routes_saved {
                    app.operator_changed();
                }
                self.ok(id)
            }
            Err(e) => self.core_error(id, e),
        }
    }

    /// [`Request::AddrDel`].
    #[inline(always)]
    pub(super) fn addr_del(&mut self, id: u16, iface: &str, addr: Ip6, app: &mut App<'_>) {
        let Some(i) = iface_index(app, iface) else {
            return self.no_iface(id, iface);
        };
        match app.stack_mut().remove_addr(i, Ipv6Addr::from(addr)) {
            Ok(()) => {
                if self.routes_saved {
                    app.operator_changed();
                }
                self.ok(id)
            }
            Err(e) => self.core_error(id, e),
        }
    }
}
