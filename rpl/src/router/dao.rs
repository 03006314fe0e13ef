//! The router's DAO machinery (RFC 6550 §9, non-storing): the targets the firmware gives it
//! (our own address, hosts registered with us), when each must be advertised, what lifetime
//! it may be given, the one DAO awaiting its DAO-ACK, and the retries.
//!
//! Rules:
//! - A target with a registration lifetime is never advertised for longer than it has left
//!   (its Path Lifetime is rounded down to whole lifetime units, at most the DODAG's default
//!   lifetime); with less than one unit left it is not advertised at all.
//! - Each advertisement of a target increments its own Path Sequence (retransmissions of
//!   the same DAO do not).
//! - A target is advertised again at a random point between 1/2 and 3/4 of the lifetime it
//!   was given, counted from when the DAO went out.
//! - A target removed after being advertised is withdrawn with a No-Path (lifetime 0).
//! - One DAO at a time awaits its DAO-ACK; with no DAO-ACK after the timeout it goes again,
//!   the same bytes, up to the configured retries; then its targets wait for the next try.

use core::net::Ipv6Addr;

use heapless::Vec;

use super::out::{DAO_TARGETS, DaoOut, DaoTarget};
use crate::lollipop::Lollipop;
use crate::message::Dao;

/// A target's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TargetState {
    /// To be advertised by the next DAO.
    Due,
    /// Advertised (or being advertised); again at its refresh time.
    Advertised,
    /// To be withdrawn with a No-Path, then forgotten.
    Withdrawing,
}

/// A target the router advertises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TargetView {
    /// The address.
    pub address: Ipv6Addr,
    /// When its registration ends (ms); `None`: ours, as long as we are in the DODAG.
    pub expires_ms: Option<u64>,
    /// Its state.
    pub state: TargetState,
    /// Until when the root may hold the route we gave it (ms; 0: never advertised).
    pub advertised_until_ms: u64,
    /// When it is advertised again (ms).
    pub refresh_ms: u64,
    /// Its Path Sequence.
    pub path_sequence: u8,
}

/// The targets table is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TargetsFull;

impl core::fmt::Display for TargetsFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the router's DAO target table is full")
    }
}

impl core::error::Error for TargetsFull {}

#[derive(Clone, Debug)]
pub(super) struct InFlight {
    pub(super) msg: DaoOut,
    pub(super) sent_ms: u64,
    pub(super) deadline_ms: u64,
    pub(super) attempts: u8,
}

/// How a DAO-ACK was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Acked {
    /// Not the DAO in flight.
    NotOurs,
    /// Accepted.
    Accepted,
    /// Rejected with this status.
    Rejected(u8),
}

/// What the DODAG tells the DAO machinery.
#[derive(Clone, Copy, Debug)]
pub(super) struct Context {
    pub(super) instance_id: u8,
    pub(super) root: Ipv6Addr,
    pub(super) parent: Ipv6Addr,
    pub(super) default_lifetime: u8,
    pub(super) lifetime_unit_s: u16,
    pub(super) ack: bool,
}

#[derive(Debug)]
pub(super) struct Daos<const TARGETS: usize> {
    pub(super) targets: Vec<TargetView, TARGETS>,
    pub(super) sequence: Lollipop,
    pub(super) in_flight: Option<InFlight>,
    /// No new DAO before this (DelayDAO after a change, a pause after failed retries).
    pub(super) hold_ms: u64,
}

impl<const TARGETS: usize> Daos<TARGETS> {
    pub(super) const fn new() -> Self {
        Daos {
            targets: Vec::new(),
            sequence: Lollipop(crate::lollipop::INITIAL),
            in_flight: None,
            hold_ms: 0,
        }
    }

    fn find(&mut self, a: &Ipv6Addr) -> Option<&mut TargetView> {
        self.targets.iter_mut().find(|t| t.address == *a)
    }

    /// Adds or updates a target; `hold` is when a DAO for a change may go at the earliest.
    pub(super) fn set(
        &mut self,
        now: u64,
        address: Ipv6Addr,
        expires_ms: Option<u64>,
        hold: u64,
    ) -> Result<(), TargetsFull> {
        if let Some(t) = self.find(&address) {
            let old = t.expires_ms;
            t.expires_ms = expires_ms;
            let due = match t.state {
                TargetState::Withdrawing => true,
                TargetState::Due => false,
                // A registration that now ends before the route we gave: advertised again,
                // shorter; one never advertised (it had less than a unit left) that changed:
                // tried again. A longer one waits for the refresh.
                TargetState::Advertised => match expires_ms {
                    Some(e) => {
                        e < t.advertised_until_ms
                            || (t.advertised_until_ms <= now && old != expires_ms)
                    }
                    None => old.is_some(),
                },
            };
            if !due {
                return Ok(());
            }
            t.state = TargetState::Due;
        } else {
            self.targets
                .push(TargetView {
                    address,
                    expires_ms,
                    state: TargetState::Due,
                    advertised_until_ms: 0,
                    refresh_ms: now,
                    path_sequence: crate::lollipop::INITIAL,
                })
                .map_err(|_| TargetsFull)?;
        }
        // DelayDAO: a change waits for `hold`, unless a wait already runs (the changes go
        // together).
        if self.hold_ms <= now {
            self.hold_ms = hold;
        }
        Ok(())
    }

    /// Removes a target: a No-Path when the root may still hold a route for it.
    pub(super) fn remove(&mut self, now: u64, address: &Ipv6Addr) {
        let in_flight = self
            .in_flight
            .as_ref()
            .is_some_and(|f| f.msg.targets.iter().any(|t| t.address == *address));
        if let Some(t) = self.find(address) {
            if t.advertised_until_ms > now || in_flight {
                t.state = TargetState::Withdrawing;
            } else {
                self.targets.retain(|t| t.address != *address);
            }
        }
    }

    /// Forgets `address` without a No-Path (it advertises itself: a host that turned out to
    /// be an RPL router; a No-Path from us would withdraw the route its own DAOs give).
    pub(super) fn forget(&mut self, address: &Ipv6Addr) {
        self.targets.retain(|t| t.address != *address);
    }

    /// Every target is advertised again (a new parent, a new DODAG version, the parent's
    /// DTSN): the DAO in flight is abandoned.
    pub(super) fn all_due(&mut self, hold: u64) {
        for t in self.targets.iter_mut() {
            if t.state == TargetState::Advertised {
                t.state = TargetState::Due;
            }
        }
        self.in_flight = None;
        self.hold_ms = hold;
    }

    /// Every target is to be withdrawn (leaving the DODAG).
    pub(super) fn withdraw_all(&mut self, now: u64) {
        self.in_flight = None;
        for t in self.targets.iter_mut() {
            t.state = TargetState::Withdrawing;
        }
        // Those the root holds no route for need no No-Path.
        self.targets.retain(|t| t.advertised_until_ms > now);
        self.hold_ms = now;
    }

    /// Targets whose registration ended are forgotten (the route we gave ends with it).
    fn expire(&mut self, now: u64) {
        self.targets.retain(|t| {
            t.expires_ms.is_none_or(|e| e > now) || t.state == TargetState::Withdrawing
        });
    }

    fn is_due(t: &TargetView, now: u64) -> bool {
        match t.state {
            TargetState::Due | TargetState::Withdrawing => true,
            TargetState::Advertised => now >= t.refresh_ms,
        }
    }

    /// The Path Lifetime `t` may be given now, in units: `None` when less than one unit of
    /// its registration is left.
    fn lifetime(t: &TargetView, now: u64, c: &Context) -> Option<u8> {
        if t.state == TargetState::Withdrawing {
            return Some(0);
        }
        let default = c.default_lifetime;
        let Some(e) = t.expires_ms else {
            return Some(default);
        };
        let unit_ms = u64::from(c.lifetime_unit_s.max(1)) * 1000;
        let units = e.saturating_sub(now) / unit_ms;
        // 0xff is infinite: a registration is never that.
        let cap = if default == 0xff { 0xfe } else { default };
        let l = u8::try_from(units).unwrap_or(u8::MAX).min(cap);
        (l > 0).then_some(l)
    }

    /// The next instant [`poll`](Self::poll) has something to do.
    pub(super) fn next_deadline(&self) -> Option<u64> {
        if let Some(f) = &self.in_flight {
            return Some(f.deadline_ms);
        }
        let mut next: Option<u64> = None;
        for t in &self.targets {
            let at = match t.state {
                TargetState::Due | TargetState::Withdrawing => self.hold_ms,
                TargetState::Advertised => t.refresh_ms.max(self.hold_ms),
            };
            let at = match t.expires_ms {
                Some(e) if t.state != TargetState::Withdrawing => at.min(e),
                _ => at,
            };
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        next
    }

    /// A DAO to send now, if one is due: a retransmission, or a new one with the due
    /// targets. `rand` draws the refresh points; `retries` and `timeout_ms` pace the
    /// retransmissions. `Err(sequence)` when the DAO in flight ran out of retries.
    pub(super) fn poll(
        &mut self,
        now: u64,
        c: &Context,
        retries: u8,
        timeout_ms: u32,
        rand: &mut impl FnMut() -> u32,
    ) -> Result<Option<DaoOut>, u8> {
        self.expire(now);
        if let Some(f) = self.in_flight.as_mut() {
            if now < f.deadline_ms {
                return Ok(None);
            }
            if f.attempts <= retries {
                f.attempts = f.attempts.saturating_add(1);
                f.deadline_ms = now.saturating_add(u64::from(timeout_ms));
                return Ok(Some(f.msg.clone()));
            }
            // Out of retries: its targets go again after a pause.
            let seq = f.msg.dao.sequence;
            let sent: Vec<Ipv6Addr, DAO_TARGETS> =
                f.msg.targets.iter().map(|t| t.address).collect();
            self.in_flight = None;
            for a in &sent {
                if let Some(t) = self.find(a)
                    && t.state == TargetState::Advertised
                {
                    t.state = TargetState::Due;
                }
            }
            self.hold_ms = now.saturating_add(u64::from(timeout_ms).saturating_mul(4));
            return Err(seq);
        }
        if now < self.hold_ms {
            return Ok(None);
        }
        let mut targets: Vec<DaoTarget, DAO_TARGETS> = Vec::new();
        // Hosts (targets with an end) hang off our own address (the target without one).
        let own = self
            .targets
            .iter()
            .find(|t| t.expires_ms.is_none())
            .map(|t| t.address);
        for t in self.targets.iter_mut() {
            if targets.is_full() {
                break;
            }
            if !Self::is_due(t, now) {
                continue;
            }
            let Some(l) = Self::lifetime(t, now, c) else {
                // Less than a unit left: not advertised; forgotten when it expires.
                t.state = TargetState::Advertised;
                t.refresh_ms = t.expires_ms.unwrap_or(u64::MAX);
                continue;
            };
            t.path_sequence = Lollipop(t.path_sequence).next().0;
            if t.state == TargetState::Due {
                t.state = TargetState::Advertised;
            }
            let (parent, external) = match (t.expires_ms, own) {
                (Some(_), Some(own)) => (own, true),
                _ => (c.parent, false),
            };
            let _ = targets.push(DaoTarget {
                address: t.address,
                path_sequence: t.path_sequence,
                path_lifetime: l,
                parent,
                external,
            });
        }
        if targets.is_empty() {
            return Ok(None);
        }
        let sequence = self.sequence.increment().0;
        let msg = DaoOut {
            to: c.root,
            dao: Dao {
                instance_id: c.instance_id,
                ack_requested: c.ack,
                sequence,
                dodag_id: (c.instance_id >= 128).then_some(c.root),
            },
            parent: c.parent,
            targets,
        };
        if c.ack {
            self.in_flight = Some(InFlight {
                msg: msg.clone(),
                sent_ms: now,
                deadline_ms: now.saturating_add(u64::from(timeout_ms)),
                attempts: 1,
            });
        } else {
            self.settle(&msg, now, c, rand);
        }
        Ok(Some(msg))
    }

    /// The DAO `msg` sent at `sent` is done (acknowledged, or sent without K): each target
    /// gets its refresh time; the No-Paths are forgotten.
    fn settle(&mut self, msg: &DaoOut, sent: u64, c: &Context, rand: &mut impl FnMut() -> u32) {
        for d in &msg.targets {
            if d.path_lifetime == 0 {
                if self
                    .find(&d.address)
                    .is_some_and(|t| t.state == TargetState::Withdrawing)
                {
                    self.targets.retain(|t| t.address != d.address);
                }
                continue;
            }
            let r = rand();
            let Some(t) = self.find(&d.address) else {
                continue;
            };
            if d.path_lifetime == 0xff {
                t.advertised_until_ms = u64::MAX;
                t.refresh_ms = u64::MAX;
                continue;
            }
            let life_ms = u64::from(d.path_lifetime) * u64::from(c.lifetime_unit_s.max(1)) * 1000;
            t.advertised_until_ms = t.advertised_until_ms.max(sent.saturating_add(life_ms));
            // A point in [1/2, 3/4) of the lifetime.
            let quarter = life_ms / 4;
            let jitter = ((u128::from(r) * u128::from(quarter)) >> 32) as u64;
            if t.state == TargetState::Advertised {
                t.refresh_ms = sent.saturating_add(life_ms / 2 + jitter);
            }
        }
    }

    /// A DAO-ACK for `sequence` with `status`.
    pub(super) fn ack(
        &mut self,
        sequence: u8,
        status: u8,
        c: &Context,
        rand: &mut impl FnMut() -> u32,
    ) -> Acked {
        let Some(f) = self.in_flight.take_if(|f| f.msg.dao.sequence == sequence) else {
            return Acked::NotOurs;
        };
        if status >= crate::message::STATUS_REJECTED {
            // Not advertised: tried again at the next change or after a lifetime's pause.
            for d in &f.msg.targets {
                if let Some(t) = self.find(&d.address)
                    && t.state == TargetState::Advertised
                {
                    let life_ms =
                        u64::from(c.default_lifetime) * u64::from(c.lifetime_unit_s.max(1)) * 1000;
                    t.refresh_ms = f.sent_ms.saturating_add(life_ms / 2);
                }
            }
            self.targets.retain(|t| {
                t.state != TargetState::Withdrawing
                    || !f.msg.targets.iter().any(|d| d.address == t.address)
            });
            return Acked::Rejected(status);
        }
        let sent = f.sent_ms;
        self.settle(&f.msg, sent, c, rand);
        Acked::Accepted
    }
}
