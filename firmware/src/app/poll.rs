//! Driving the border router: radio events, [`App::poll`] (Ethernet input, timers,
//! transmission on both interfaces), local delivery, application events and
//! [`App::next_deadline`].

use ethernet::{Driver, EthernetL2};
use heapless::Vec;
use l2_15_4::MacIndication;
use l2_15_4::radio::{Radio, RadioEvent};
use netif::{IfIndex, Instant, Outcome};

#[cfg(feature = "router-role")]
use crate::router::MeshRouter;

use super::tap::{EthTap, Tap};
use super::{App, AppEvent, HOUSEKEEPING, PACKETS};
use crate::capture::{CaptureIface, CaptureMeta, Direction};

impl App<'_> {
    /// A radio event: run the MAC, capture, and feed a received frame to the stack.
    pub fn on_radio_event(&mut self, now: Instant, ev: RadioEvent<'_>, radio: &mut impl Radio) {
        self.now = now;
        let channel = self.cfg.channel;
        let raw = match ev {
            RadioEvent::Received(f) => Some(f),
            _ => None,
        };
        // The MAC may answer at once (an ACK): through the tap, so the capture sees it.
        let mut tap = Tap {
            radio: &mut *radio,
            capture: &mut *self.capture,
            channel,
        };
        let ind = self.wpan.mac_mut().handle_event(now, ev, &mut tap);
        match ind {
            Some(MacIndication::Frame(f)) => {
                if let Some(r) = raw {
                    self.record_wpan_rx(Direction::Rx, r.psdu, r.rssi, r.lqi, now);
                }
                self.deliver_frame(now, f.mpdu);
            }
            Some(MacIndication::EnergyDetect { channel, dbm }) => {
                self.push_event(AppEvent::Energy {
                    channel: channel.number(),
                    dbm,
                });
            }
            None => {
                if let Some(r) = raw
                    && self.capture.wants(CaptureIface::Wpan0, Direction::Promisc)
                {
                    self.record_wpan_rx(Direction::Promisc, r.psdu, r.rssi, r.lqi, now);
                }
            }
        }
        let mut tap = Tap {
            radio,
            capture: self.capture,
            channel,
        };
        self.wpan.pump(now, self.stack.pool_mut(), &mut tap);
    }

    fn record_wpan_rx(&mut self, d: Direction, psdu: &[u8], rssi: i8, lqi: u8, now: Instant) {
        if self.capture.wants(CaptureIface::Wpan0, d) {
            let meta = CaptureMeta {
                timestamp_us: now.as_micros(),
                iface: CaptureIface::Wpan0,
                direction: d,
                channel: self.cfg.channel,
                rssi,
                lqi,
                orig_len: psdu.len() as u16,
            };
            self.capture.record(meta, psdu);
        }
    }

    fn deliver_frame(&mut self, now: Instant, mpdu: &[u8]) {
        let Ok(h) = self.stack.pool_mut().alloc_from(mpdu) else {
            self.stats.rx_no_buffer_wpan += 1;
            return;
        };
        let out = self.stack.receive(now, self.wpan_i, &mut self.wpan, h);
        self.dispatch(now, out);
    }

    fn dispatch(&mut self, now: Instant, out: Outcome) {
        let mut out = out;
        // A packet tunnelled to the root (or to a mesh router) comes back as the inner
        // packet's outcome (a tunnel in a tunnel once more, each time shorter).
        while let Outcome::Local(d) = out {
            if !self.root.owns_tunnel(&d) {
                out = Outcome::Local(d);
                break;
            }
            #[cfg(feature = "router-role")]
            let inner = match self.router.as_mut() {
                Some(r) => r.decapsulate(&mut self.stack, now, d),
                None => {
                    self.root
                        .decapsulate(&mut self.stack, self.wpan.registry(), &self.cfg, now, d)
                }
            };
            #[cfg(not(feature = "router-role"))]
            let inner =
                self.root
                    .decapsulate(&mut self.stack, self.wpan.registry(), &self.cfg, now, d);
            match inner {
                Some(o) => out = o,
                None => return,
            }
        }
        if let Outcome::Local(d) = out {
            #[cfg(feature = "router-role")]
            let d = match self.router.as_mut() {
                Some(r) if self.root.owns(&d) => return r.handle(&mut self.stack, now, d),
                Some(r) if r.owns_source_route(&d) => {
                    return r.source_route(&mut self.stack, now, d);
                }
                _ => d,
            };
            if self.root.owns(&d) {
                self.root
                    .handle(&mut self.stack, &mut self.wpan, &self.cfg, now, d);
            } else if self.lbr.owns(&d) {
                self.lbr
                    .handle(&mut self.stack, &mut self.wpan, &self.cfg, now, d);
            } else if self.ping.owns(&d) {
                self.ping.handle(self.stack.pool_mut(), now, d);
            } else if let Some(d) = self.eth.handle_local(&mut self.stack, now, d) {
                self.stats.unhandled_local += 1;
                self.stack.pool_mut().free(d.packet);
            }
        }
    }

    /// Run everything that is due: Ethernet input, timers (ND, RAs, registrations),
    /// transmission on both interfaces.
    pub fn poll<R: Radio, D: Driver>(&mut self, now: Instant, radio: &mut R, eth: &mut D) {
        self.now = now;
        let up = eth.link_up();
        if up != self.link_up {
            self.link_up = up;
            let _ = self.stack.set_link_up(self.eth_i, up);
        }
        // Ethernet input, bounded per poll so the radio side is never starved.
        let mut got: Vec<netif::PacketHandle, PACKETS> = Vec::new();
        {
            let mut drv = EthTap {
                drv: &mut *eth,
                capture: &mut *self.capture,
                now,
            };
            while !got.is_full() {
                match EthernetL2::receive_from(self.stack.pool_mut(), &mut drv) {
                    Ok(Some(h)) => {
                        if let Err(h) = got.push(h) {
                            self.stack.pool_mut().free(h);
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        self.stats.eth_driver_errors += 1;
                        break;
                    }
                }
            }
        }
        for h in got {
            let out = self.stack.receive(now, self.eth_i, &mut self.eth, h);
            self.dispatch(now, out);
        }
        self.eth.poll(now, &mut self.stack);
        self.lbr.poll(&mut self.stack, &self.wpan, &self.cfg, now);
        self.root.poll(&mut self.stack, &self.cfg, now);
        #[cfg(feature = "router-role")]
        if let Some(r) = self.router.as_mut() {
            r.poll(&mut self.stack, &mut self.wpan, now);
            // Our RAs name the DODAG's root as the 6LBR.
            self.lbr
                .set_border_router(r.core().dodag().map(|d| d.dodag_id));
        }
        if now >= self.next_housekeeping {
            self.stack.poll(now);
            let root = &mut self.root;
            self.wpan
                .registry_mut()
                .expire_targets(now, |a| root.note_expired(a));
            self.wpan.expire(now, self.stack.pool_mut());
            #[cfg(feature = "router-role")]
            if let Some(r) = self.router.as_mut() {
                r.sync_hosts(now, self.wpan.registry());
                r.check_parent(&mut self.stack, &self.wpan, now);
            }
            // Once a housekeeping round, not on every poll: the DODAG's prefix changes
            // rarely.
            #[cfg(feature = "router-role")]
            self.follow_dodag_prefix(now);
            self.security_housekeeping(now);
            self.next_housekeeping = now + HOUSEKEEPING;
        }
        self.stack.transmit(now, self.eth_i, &mut self.eth);
        let mut drv = EthTap {
            drv: eth,
            capture: &mut *self.capture,
            now,
        };
        if self.eth.flush_to(self.stack.pool_mut(), &mut drv).is_err() {
            self.stats.eth_driver_errors += 1;
        }
        let room = self.wpan.room();
        self.stack
            .transmit_some(now, self.wpan_i, &mut self.wpan, room);
        let mut tap = Tap {
            radio,
            capture: self.capture,
            channel: self.cfg.channel,
        };
        self.wpan.pump(now, self.stack.pool_mut(), &mut tap);
        self.collect_events();
    }

    pub(super) fn push_event(&mut self, e: AppEvent) {
        if self.events.push_back(e).is_err() {
            self.events.pop_front();
            let _ = self.events.push_back(e);
            self.stats.events_lost += 1;
        }
    }

    fn collect_events(&mut self) {
        while let Some(e) = self.stack.pop_event() {
            self.push_event(AppEvent::Net(e));
        }
        while let Some(e) = self.lbr.pop_event() {
            self.push_event(AppEvent::Lbr(e));
        }
        while let Some(e) = self.root.pop_event() {
            self.push_event(AppEvent::Root(e));
        }
        while let Some(e) = self.eth.pop_event() {
            self.push_event(AppEvent::Backbone(e));
        }
    }

    /// When [`App::poll`] must run next (`None`: only on input).
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut t = Some(self.next_housekeeping);
        for d in [
            self.wpan.next_deadline(),
            self.eth.poll_at(),
            self.lbr.next_deadline(),
            self.root.next_deadline(),
            #[cfg(feature = "router-role")]
            self.router.as_ref().and_then(MeshRouter::next_deadline),
        ]
        .into_iter()
        .flatten()
        {
            t = Some(t.map_or(d, |x| x.min(d)));
        }
        if self.wpan.backlog() > 0 && self.wpan.mac().queue_len() == 0 {
            t = Some(self.now);
        }
        // Packets queued in the core from outside a poll (a management ping, an ND reply)
        // go out at once when their interface can take them.
        let queued = |i: IfIndex| self.stack.queue_lens(i).iter().any(|n| *n > 0);
        if (queued(self.eth_i) && self.link_up) || (queued(self.wpan_i) && self.wpan.room() > 0) {
            t = Some(self.now);
        }
        t
    }
}
