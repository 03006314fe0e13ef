//! Parent selection and rank (RFC 6550 §8.2.2): the candidates kept, which of them may be
//! parents, the preferred one by the objective function with its hysteresis, the rank and
//! its limits, and detaching when no parent is left.

use core::net::Ipv6Addr;

use super::{Event, Parent, Phase, Router};
use crate::of::{Etx, INFINITE_RANK, Link, dag_rank};

impl<const PARENTS: usize, const TARGETS: usize> Router<PARENTS, TARGETS> {
    pub(super) fn remember(&mut self, now: u64, from: Ipv6Addr, rank: u16, dtsn: u8, etx: Etx) {
        if let Some(p) = self.parents.iter_mut().find(|p| p.address == from) {
            p.rank = rank;
            p.dtsn = dtsn;
            p.etx = etx;
            p.heard_ms = now;
            return;
        }
        let new = Parent {
            address: from,
            rank,
            dtsn,
            etx,
            heard_ms: now,
        };
        if self.parents.push(new).is_ok() {
            return;
        }
        // Full: the new one replaces the costliest candidate that is not the preferred
        // parent, if it is cheaper.
        let cost = |r: &Self, p: &Parent| r.cost(p).unwrap_or(u32::MAX);
        let new_cost = cost(self, &new);
        let worst = self
            .parents
            .iter()
            .enumerate()
            .filter(|(_, p)| Some(p.address) != self.preferred)
            .max_by_key(|(_, p)| cost(self, p))
            .map(|(k, p)| (k, cost(self, p)));
        match worst {
            Some((k, c)) if c > new_cost => {
                if let Some(slot) = self.parents.get_mut(k) {
                    *slot = new;
                }
            }
            _ => self.stats.dio_ignored = self.stats.dio_ignored.wrapping_add(1),
        }
    }

    pub(super) fn forget(&mut self, n: &Ipv6Addr) {
        self.parents.retain(|p| p.address != *n);
        if self.preferred == Some(*n) {
            self.preferred = None;
        }
    }

    pub(super) fn cost(&self, p: &Parent) -> Option<u32> {
        let dg = self.dodag.as_ref()?;
        dg.of.path_cost(
            Link {
                rank: p.rank,
                etx: p.etx,
            },
            dg.min_hop(),
        )
    }

    /// The cost and rank through `p` if it may be a parent now.
    pub(super) fn acceptable(&self, p: &Parent) -> Option<(u32, u16)> {
        let dg = self.dodag.as_ref()?;
        let mhri = dg.min_hop();
        let link = Link {
            rank: p.rank,
            etx: p.etx,
        };
        let cost = dg.of.path_cost(link, mhri)?;
        let via = dg.of.rank_via(link, mhri)?;
        if self.phase == Phase::Joined {
            // No descendants: below the lowest DAGRank we advertised (the preferred parent
            // is ours already).
            if Some(p.address) != self.preferred
                && dag_rank(p.rank, mhri) >= dag_rank(self.lowest_rank, mhri)
            {
                return None;
            }
            if !self.within_max_increase(via) {
                return None;
            }
        }
        Some((cost, via))
    }

    /// RFC 6550 §8.2.2.4: no rank above L + MaxRankIncrease (compared as DAGRank).
    pub(super) fn within_max_increase(&self, rank: u16) -> bool {
        let Some(dg) = self.dodag.as_ref() else {
            return false;
        };
        let mhri = dg.min_hop();
        let limit = self.lowest_rank.saturating_add(dg.config.max_rank_increase);
        self.lowest_rank == INFINITE_RANK || dag_rank(rank, mhri) <= dag_rank(limit, mhri)
    }

    /// Chooses the preferred parent and the rank again; joins, switches or detaches.
    pub(super) fn reselect(&mut self, now: u64) {
        if !matches!(self.phase, Phase::Unjoined | Phase::Joined) {
            return;
        }
        let Some(dg) = self.dodag else {
            return;
        };
        let mhri = dg.min_hop();
        let current = self
            .preferred
            .and_then(|a| self.parents.iter().find(|p| p.address == a))
            .and_then(|p| self.acceptable(p).map(|c| (*p, c)));
        let mut best: Option<(Parent, (u32, u16))> = None;
        for p in &self.parents {
            if let Some(c) = self.acceptable(p)
                && best.is_none_or(|(_, b)| c.0 < b.0)
            {
                best = Some((*p, c));
            }
        }
        let choice = match (current, best) {
            (Some(c), Some(b)) if dg.of.should_switch(c.1.0, b.1.0) => Some(b),
            (Some(c), _) => Some(c),
            (None, b) => b,
        };
        let Some((parent, (_, via))) = choice else {
            if self.phase == Phase::Joined {
                self.detach(now);
            } else {
                self.preferred = None;
            }
            return;
        };
        // The parent set: the other acceptable candidates of a lower DAGRank than ours.
        let others = self.parents.iter().filter(|p| {
            p.address != parent.address
                && self.acceptable(p).is_some()
                && dag_rank(p.rank, mhri) < dag_rank(via, mhri)
        });
        let rank = dg.of.rank(
            Link {
                rank: parent.rank,
                etx: parent.etx,
            },
            others.map(|p| Link {
                rank: p.rank,
                etx: p.etx,
            }),
            mhri,
            dg.config.max_rank_increase,
        );
        let Some(rank) = rank.filter(|&r| r > parent.rank && self.within_max_increase(r)) else {
            if self.phase == Phase::Joined {
                self.detach(now);
            }
            return;
        };
        let hold = now.saturating_add(self.jittered(self.cfg.dao_delay_ms));
        if self.phase == Phase::Unjoined {
            self.phase = Phase::Joined;
            self.preferred = Some(parent.address);
            self.parent_dtsn = parent.dtsn;
            self.rank = rank;
            self.lowest_rank = rank;
            self.dis_next = None;
            self.dis_unicast = None;
            let r = self.rand();
            self.trickle.start(now, r);
            self.daos.all_due(hold);
            self.event(Event::Joined {
                dodag_id: dg.dodag_id,
                version: dg.version,
                rank,
                parent: parent.address,
            });
            return;
        }
        let old_parent = self.preferred;
        let old_rank = self.rank;
        self.preferred = Some(parent.address);
        self.rank = rank;
        self.lowest_rank = self.lowest_rank.min(rank);
        let mut reset = dag_rank(rank, mhri) != dag_rank(old_rank, mhri);
        if old_parent != Some(parent.address) {
            reset = true;
            self.parent_dtsn = parent.dtsn;
            self.daos.all_due(hold);
            self.event(Event::ParentChanged {
                from: old_parent.unwrap_or(Ipv6Addr::UNSPECIFIED),
                to: parent.address,
                rank,
            });
        }
        if reset {
            let r = self.rand();
            self.trickle.hear_inconsistent(now, r);
        }
    }

    /// No parent: forget the parent set, poison, then look again.
    pub(super) fn detach(&mut self, now: u64) {
        self.phase = Phase::Poisoning;
        self.begin_poison(now);
        self.event(Event::Detached);
    }

    pub(super) fn begin_poison(&mut self, now: u64) {
        self.parents.clear();
        self.preferred = None;
        self.rank = INFINITE_RANK;
        self.lowest_rank = INFINITE_RANK;
        self.unicast_dios.clear();
        self.daos.in_flight = None;
        self.trickle.stop();
        self.poison_left = self.cfg.poison_dios.max(1);
        self.poison_next = now;
    }
}
