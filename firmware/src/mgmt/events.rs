//! Unsolicited streams: events (from the application's queue, while subscribed; losses
//! reported with `EventKind::Lost`) and log lines.

use mgmt::{EventKind, Kind, Level};
use netif::{IfIndex, Instant};

use super::{LOG_LINE, MgmtServer, floor_char_boundary};
use crate::app::{App, AppEvent, ConfigItem};
use crate::lbr::LbrEvent;

impl<const TX: usize> MgmtServer<TX> {
    /// Whether a log line would be sent now (subscribed), so the shell can skip formatting.
    pub fn wants_logs(&self) -> bool {
        self.logs
    }

    /// Sends a log line if the host subscribed and there is room.
    pub fn log(&mut self, now: Instant, level: Level, target: &str, text: &str) {
        if !self.logs {
            return;
        }
        let cut = floor_char_boundary(text, LOG_LINE);
        let l = mgmt::Log {
            ts_ms: now.as_micros() / 1000,
            level,
            target,
            text: text.get(..cut).unwrap_or_default(),
        };
        if !self.send_unsolicited(Kind::Log, &l) {
            self.stats.logs_lost += 1;
        }
    }

    pub(super) fn poll_events(&mut self, app: &mut App<'_>, now: Instant) {
        let ts_ms = now.as_micros() / 1000;
        while let Some(e) = app.pop_event() {
            if let AppEvent::Energy { channel, dbm } = e
                && self.scan_result(channel, dbm)
            {
                continue;
            }
            if !self.events {
                continue;
            }
            let name = |i: IfIndex| app.stack().iface(i).map(|x| x.name()).unwrap_or("?");
            let kind = match e {
                AppEvent::Net(n) => {
                    use netif::Event as N;
                    match n {
                        N::None => continue,
                        N::IfaceUp(i) => EventKind::IfaceUp(name(i)),
                        N::IfaceDown(i) => EventKind::IfaceDown(name(i)),
                        N::AddrAdded(i, a) => EventKind::AddrAdded(name(i), a.octets()),
                        N::AddrRemoved(i, a) => EventKind::AddrRemoved(name(i), a.octets()),
                        N::AddrDeprecated(i, a) => EventKind::AddrDeprecated(name(i), a.octets()),
                        N::RouteAdded(p, i) => {
                            EventKind::RouteAdded(p.addr().octets(), p.prefix_len(), i.map(name))
                        }
                        N::RouteRemoved(p, i) => {
                            EventKind::RouteRemoved(p.addr().octets(), p.prefix_len(), i.map(name))
                        }
                    }
                }
                AppEvent::Lbr(l) => match l {
                    LbrEvent::Registered(a) => EventKind::NodeRegistered(a.octets()),
                    LbrEvent::Refused(a, s) => EventKind::NodeRefused(a.octets(), s),
                    LbrEvent::Deregistered(a) => EventKind::NodeDeregistered(a.octets()),
                },
                AppEvent::Backbone(b) => {
                    use ethernet::NdEvent as B;
                    match b {
                        B::DadSucceeded(a) => EventKind::DadSucceeded(a.octets()),
                        B::DadFailed(a) => EventKind::DadFailed(a.octets()),
                        B::ResolutionFailed(a) => EventKind::ResolutionFailed(a.octets()),
                        B::AddressFormed(a) => EventKind::AddressFormed(a.octets()),
                        B::RouterLearned(a) => EventKind::RouterLearned(a.octets()),
                        B::PrefixConflict(p) => {
                            EventKind::PrefixConflict(p.addr().octets(), p.prefix_len())
                        }
                    }
                }
                AppEvent::Config(c) => match c {
                    ConfigItem::Channel(ch) => EventKind::ChannelChanged(ch),
                    ConfigItem::PanId(p) => EventKind::PanIdChanged(p),
                    ConfigItem::Prefix(p) => {
                        let mut a = [0u8; 16];
                        if let Some(d) = a.get_mut(..8) {
                            d.copy_from_slice(&p);
                        }
                        EventKind::PrefixChanged(a)
                    }
                    ConfigItem::TxPower(d) => EventKind::TxPowerChanged(d),
                },
                AppEvent::Energy { channel, dbm } => EventKind::Energy(channel, dbm),
                AppEvent::Root(r) => {
                    use crate::root::RootEvent as R;
                    match r {
                        R::TargetAdded(a) => EventKind::TargetAdded(a.octets()),
                        R::TargetRemoved(a) => EventKind::TargetRemoved(a.octets()),
                        R::TargetExpired(a) => EventKind::TargetExpired(a.octets()),
                        R::DaoRejected(a, s) => EventKind::DaoRejected(a.octets(), s),
                        R::Version(v) => EventKind::DodagVersion(v),
                    }
                }
            };
            if self.lost_events > 0 {
                let lost = mgmt::Event {
                    ts_ms,
                    kind: EventKind::Lost(self.lost_events),
                };
                if self.send_unsolicited(Kind::Event, &lost) {
                    self.lost_events = 0;
                }
            }
            let ev = mgmt::Event { ts_ms, kind };
            if self.lost_events > 0 || !self.send_unsolicited(Kind::Event, &ev) {
                self.stats.events_lost += 1;
                self.lost_events = self.lost_events.saturating_add(1);
            }
        }
    }
}
