//! What the router sends when: [`Router::poll`] hands out events, unicast DIOs, Trickle
//! DIOs, DAOs, poison DIOs and DIS in turn, and [`Router::next_deadline`] says when to ask
//! again.

use core::net::Ipv6Addr;

use super::{Action, DioOut, DisOut, Event, Phase, Router, dao};
use crate::message::{Dio, Mop};
use crate::of::INFINITE_RANK;
use crate::trickle::Fire;

impl<const PARENTS: usize, const TARGETS: usize> Router<PARENTS, TARGETS> {
    pub(super) fn dio_out(&self, to: Option<Ipv6Addr>, rank: u16) -> Option<DioOut> {
        let dg = self.dodag.as_ref()?;
        Some(DioOut {
            to,
            dio: Dio {
                instance_id: dg.instance_id,
                version: dg.version,
                rank,
                grounded: dg.grounded,
                mop: Mop::NonStoring,
                preference: dg.preference,
                dtsn: self.dtsn.0,
                dodag_id: dg.dodag_id,
            },
            config: dg.config,
            prefix: dg.prefix,
        })
    }

    pub(super) fn dao_context(&self) -> Option<dao::Context> {
        let dg = self.dodag.as_ref()?;
        Some(dao::Context {
            instance_id: dg.instance_id,
            root: dg.dodag_id,
            parent: dg.global_of(&self.preferred?),
            default_lifetime: dg.config.default_lifetime,
            lifetime_unit_s: dg.config.lifetime_unit,
            ack: self.cfg.dao_ack && self.phase == Phase::Joined,
        })
    }

    pub(super) fn poll_daos(&mut self, now: u64) -> Option<Action> {
        let ctx = self.dao_context()?;
        let (retries, timeout) = (self.cfg.dao_retries, self.cfg.dao_ack_timeout_ms.max(1));
        let retransmission = self.daos.in_flight.as_ref().map(|f| f.attempts);
        let mut rng = self.rng;
        let mut rand = || {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            rng
        };
        let r = self.daos.poll(now, &ctx, retries, timeout, &mut rand);
        self.rng = rng;
        match r {
            Ok(Some(m)) => {
                if retransmission.is_some() {
                    self.stats.dao_retransmitted = self.stats.dao_retransmitted.wrapping_add(1);
                }
                Some(Action::Dao(m))
            }
            Ok(None) => None,
            Err(sequence) => Some(Action::Event(Event::DaoFailed { sequence })),
        }
    }

    /// The next thing to do at `now`; call until `None`.
    pub fn poll(&mut self, now: u64) -> Option<Action> {
        if let Some(e) = self.events.pop_front() {
            return Some(Action::Event(e));
        }
        match self.phase {
            Phase::Joined => {
                if let Some(to) = self.unicast_dios.pop() {
                    return self.dio_out(Some(to), self.rank).map(Action::Dio);
                }
                let r = self.rand();
                if self.trickle.poll(now, r) == Fire::Transmit {
                    return self.dio_out(None, self.rank).map(Action::Dio);
                }
                self.poll_daos(now)
            }
            Phase::Leaving => {
                if let Some(a) = self.poll_daos(now) {
                    return Some(a);
                }
                // Every No-Path sent (or nothing to withdraw): poison, then out.
                self.leaving = true;
                self.phase = Phase::Poisoning;
                self.begin_poison(now);
                self.poll(now)
            }
            Phase::Poisoning => {
                if now < self.poison_next {
                    return None;
                }
                let dio = self.dio_out(None, INFINITE_RANK);
                self.poison_left = self.poison_left.saturating_sub(1);
                let imin = self.trickle.imin_ms();
                self.poison_next = now.saturating_add(imin);
                if self.poison_left == 0 {
                    self.end_poison(now);
                }
                dio.map(Action::Dio)
            }
            Phase::Unjoined => {
                if let Some((to, s)) = self.dis_unicast.take() {
                    return Some(Action::Dis(DisOut {
                        to: Some(to),
                        solicited: Some(s),
                    }));
                }
                let Some(at) = self.dis_next else {
                    self.start_dis(now);
                    return self.poll(now);
                };
                if now < at {
                    return None;
                }
                let next = self.jittered(self.dis_interval);
                self.dis_next = Some(now.saturating_add(next));
                self.dis_interval = self
                    .dis_interval
                    .saturating_mul(2)
                    .min(self.cfg.dis_max_ms.max(1));
                Some(Action::Dis(DisOut {
                    to: None,
                    solicited: None,
                }))
            }
            Phase::Left => None,
        }
    }

    pub(super) fn end_poison(&mut self, now: u64) {
        if self.leaving {
            self.leaving = false;
            self.phase = Phase::Left;
            self.daos.targets.clear();
            self.dis_next = None;
            self.event(Event::Left);
            return;
        }
        self.phase = Phase::Unjoined;
        self.start_dis(now);
        self.reselect(now);
    }

    /// When [`poll`](Self::poll) has something to do next (`None`: only an input will
    /// change anything).
    pub fn next_deadline(&self) -> Option<u64> {
        if !self.events.is_empty() {
            return Some(0);
        }
        match self.phase {
            Phase::Joined => {
                if !self.unicast_dios.is_empty() {
                    return Some(0);
                }
                let t = self.trickle.next_deadline();
                let d = self.daos.next_deadline();
                match (t, d) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            Phase::Leaving => Some(0),
            Phase::Poisoning => Some(self.poison_next),
            Phase::Unjoined => {
                if self.dis_unicast.is_some() {
                    return Some(0);
                }
                Some(self.dis_next.unwrap_or(0))
            }
            Phase::Left => None,
        }
    }
}
