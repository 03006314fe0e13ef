//! RPL targets at the DODAG root (RFC 6550 §9), kept with the registrations.
//!
//! A node that registered (or was gleaned) and is also advertised in a DAO is **one entry**:
//! the DAO adds its [`Target`] state (parent, Path Sequence, path lifetime) to the entry. A
//! target heard of only through DAOs gets an entry of its own with [`Origin::Dao`], whose
//! lifetime is the path lifetime. The parent is kept as its 8-byte interface identifier, not
//! a second 16-byte address: in non-storing mode (MOP 1) it must share the target's /64
//! ([`DaoOutcome::BadParent`] otherwise), in storing mode (MOP 2) it is the child the DAO
//! came from (link-local), derived from that child's link-layer address, which the entry
//! keeps in `ll` as the next hop.
//!
//! Rules of [`Registry::dao`]:
//! - a DAO whose Path Sequence is older than the stored one (the lollipop comparison of
//!   RFC 6550 §7.2, [`compare_tid`]) is [`DaoOutcome::Stale`] and changes nothing; an equal
//!   or newer one, or one not comparable, refreshes. A host that 6LRs advertise on its behalf
//!   (E flag, RFC 9010) gets each 6LR's own sequence: a claim from another parent than the
//!   stored one always wins (the host moved, or its router died), and that other parent's
//!   No-Path is stale;
//! - a path lifetime of zero is a No-Path: the target state goes, and an entry that existed
//!   only for it goes with it ([`DaoOutcome::Removed`]);
//! - in non-storing mode, a parent chain that leads back to the target is
//!   [`DaoOutcome::Cycle`], one longer than the caller's maximum depth (or than
//!   [`MAX_RPL_DEPTH`]) is [`DaoOutcome::TooDeep`]; both are refused, and the previous
//!   state stays. A chain whose upper part is not known yet (the parent's own DAO has not
//!   arrived) is accepted: the route completes when it does;
//! - a new target when every entry is registered (or a target) is [`DaoOutcome::Full`]:
//!   the root answers with a rejecting DAO-ACK, never silently; a gleaned entry is evicted
//!   for it, as for a registration;
//! - the link-layer address of a registered or gleaned entry never changes through a DAO
//!   (the registration rules of the module above hold), and a registration takes over an
//!   [`Origin::Dao`] entry only from the entry's own link-layer address.
//!
//! [`Registry::source_route`] turns the parent chain into the hops of a source route: from
//! the first hop that is a neighbour of the root (registered, gleaned, a storing-mode target,
//! or a target whose parent is the root) down to the destination. Its cost is linear in the
//! depth and independent of the number of targets: each step is one index lookup.

use core::cmp::Ordering;
use core::net::Ipv6Addr;

use heapless::Vec;
use l2_15_4::Address;
use netif::time::{Duration, Instant};

use super::stored::{Stored, to_secs_up};
use super::{Entry, Origin, Registry, Target, compare_tid};

/// A frame from `ll` carried the address of entry `e` as its source, formed from `ll`: when
/// `e` is a host a 6LR advertised for it (E flag), the host is our neighbour now (its router
/// may have died, and the host fell back to us), and the direct link beats a tunnel to a
/// router that may be gone: `e` becomes a gleaned entry for `lifetime` (`true`).
pub(super) fn host_heard_directly(
    e: &mut Entry,
    ll: Address,
    now: Instant,
    lifetime: Duration,
) -> bool {
    let host = e.origin == Origin::Dao && e.target.is_some_and(|t| t.external);
    if !host || lifetime == Duration::ZERO {
        return false;
    }
    e.origin = Origin::Gleaned;
    e.ll = ll;
    e.target = None;
    e.expires = now + lifetime;
    true
}

/// The most hops a source route from the root may have (the destination included): the
/// longest parent chain [`Registry::dao`] accepts whatever the configured maximum.
pub const MAX_RPL_DEPTH: usize = 16;

/// One DAO target as [`Registry::dao`] takes it (the Target option with the Transit
/// Information that applies to it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dao {
    /// The target address (a /128; the caller refuses shorter prefixes).
    pub target: Ipv6Addr,
    /// Non-storing mode: the Transit Information's parent address. `None` in storing mode.
    pub parent: Option<Ipv6Addr>,
    /// Storing mode: the link-layer address of the child that sent the DAO (the next hop).
    pub child: Option<Address>,
    /// The Transit Information's Path Sequence.
    pub path_seq: u8,
    /// The path lifetime (already multiplied by the lifetime unit); zero is a No-Path.
    pub lifetime: Duration,
    /// The root's own address (the DODAG ID): a parent equal to it means "the root".
    pub root: Ipv6Addr,
    /// The deepest parent chain accepted (capped at [`MAX_RPL_DEPTH`]).
    pub max_depth: usize,
    /// The Transit Information's E flag: the target is a host its parent advertises for it
    /// (RFC 9010); the root's tunnel then ends at the parent.
    pub external: bool,
}

/// What [`Registry::dao`] did with one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DaoOutcome {
    /// A new target (a new entry, or target state added to a registered or gleaned one).
    Added,
    /// The target's state was refreshed (lifetime, parent, Path Sequence).
    Refreshed,
    /// A No-Path removed the target (also when there was nothing to remove).
    Removed,
    /// The Path Sequence is older than the stored one: ignored.
    Stale,
    /// No room for a new target.
    Full,
    /// The parent chain leads back to the target.
    Cycle,
    /// The parent chain is longer than the maximum depth.
    TooDeep,
    /// The parent is outside the target's /64 (unsupported) or is the target itself.
    BadParent,
}

impl DaoOutcome {
    /// Whether the DAO was refused (the root answers a DAO-ACK with a rejection status).
    pub fn is_rejection(self) -> bool {
        matches!(
            self,
            DaoOutcome::Full | DaoOutcome::Cycle | DaoOutcome::TooDeep | DaoOutcome::BadParent
        )
    }
}

/// Counters of the target table. All wrap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TargetStats {
    /// [`DaoOutcome::Added`].
    pub added: u32,
    /// [`DaoOutcome::Refreshed`].
    pub refreshed: u32,
    /// Targets removed by a No-Path.
    pub no_path: u32,
    /// [`DaoOutcome::Stale`].
    pub stale: u32,
    /// [`DaoOutcome::Full`].
    pub full: u32,
    /// [`DaoOutcome::Cycle`].
    pub cycles: u32,
    /// [`DaoOutcome::TooDeep`].
    pub too_deep: u32,
    /// [`DaoOutcome::BadParent`].
    pub bad_parent: u32,
    /// Targets whose path lifetime ran out.
    pub expired: u32,
}

impl TargetStats {
    pub(super) const ZERO: TargetStats = TargetStats {
        added: 0,
        refreshed: 0,
        no_path: 0,
        stale: 0,
        full: 0,
        cycles: 0,
        too_deep: 0,
        bad_parent: 0,
        expired: 0,
    };
}

/// A downward route from the root: the hops from the first (a neighbour of the root) to the
/// destination, both included. One hop means the destination is a neighbour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRoute {
    /// The link-layer address of the first hop.
    pub first_hop: Address,
    /// The IPv6 addresses of the hops, first hop first, the destination last.
    pub hops: Vec<Ipv6Addr, MAX_RPL_DEPTH>,
}

/// The interface identifier of `a`.
fn iid(a: &Ipv6Addr) -> [u8; 8] {
    let o = a.octets();
    [o[8], o[9], o[10], o[11], o[12], o[13], o[14], o[15]]
}

/// `a`'s /64 with interface identifier `iid`.
fn with_iid(a: &Ipv6Addr, iid: [u8; 8]) -> Ipv6Addr {
    netif::addr::with_iid(*a, iid)
}

/// The interface identifier a link-layer address forms (RFC 4944 §6): the EUI-64 with the
/// U/L bit inverted, or `0000:00ff:fe00:XXXX` for a short address.
fn iid_of_link(ll: &Address) -> [u8; 8] {
    match *ll {
        Address::Extended(mut e) => {
            e[0] ^= 0x02;
            e
        }
        Address::Short(s) => {
            let [h, l] = s.to_be_bytes();
            [0, 0, 0, 0xff, 0xfe, 0, h, l]
        }
    }
}

/// The link-layer address an interface identifier was formed from (the inverse of
/// [`iid_of_link`]).
fn link_of_iid(iid: [u8; 8]) -> Address {
    match iid {
        [0, 0, 0, 0xff, 0xfe, 0, h, l] => Address::Short(u16::from_be_bytes([h, l])),
        mut e => {
            e[0] ^= 0x02;
            Address::Extended(e)
        }
    }
}

impl Entry {
    /// The link-layer address to send to when this entry's node is a neighbour of the root;
    /// `None` for a non-storing target whose parent is another node (reach it with
    /// [`Registry::source_route`]).
    pub fn neighbour(&self) -> Option<Address> {
        match self.target {
            Some(t) if follows_parent(self.origin, &t) && t.parent.is_some() => None,
            _ => Some(self.ll),
        }
    }
}

impl<const N: usize, const I: usize> Registry<N, I> {
    /// Handles one DAO target, by the rules of `registry/targets.rs`: stale Path Sequences
    /// ignored, No-Path removes, cycles, over-deep chains, bad parents and a full table refused.
    pub fn dao(&mut self, now: Instant, d: &Dao) -> DaoOutcome {
        let now = self.advance(now);
        let outcome = self.dao_inner(now, d);
        let s = &mut self.target_stats;
        let counter = match outcome {
            DaoOutcome::Added => &mut s.added,
            DaoOutcome::Refreshed => &mut s.refreshed,
            DaoOutcome::Removed => return outcome,
            DaoOutcome::Stale => &mut s.stale,
            DaoOutcome::Full => &mut s.full,
            DaoOutcome::Cycle => &mut s.cycles,
            DaoOutcome::TooDeep => &mut s.too_deep,
            DaoOutcome::BadParent => &mut s.bad_parent,
        };
        *counter = counter.wrapping_add(1);
        outcome
    }

    fn dao_inner(&mut self, now: Instant, d: &Dao) -> DaoOutcome {
        let storing = d.parent.is_none();
        let parent = match (d.parent, d.child) {
            (Some(p), _) if p == d.root => None,
            (Some(p), _) if p == d.target => return DaoOutcome::BadParent,
            (Some(p), _) if p.octets().get(..8) != d.target.octets().get(..8) => {
                return DaoOutcome::BadParent;
            }
            (Some(p), _) => Some(iid(&p)),
            (None, Some(child)) => Some(iid_of_link(&child)),
            (None, None) => return DaoOutcome::BadParent,
        };
        let existing = self.live_position(&d.target);
        if let Some(pos) = existing {
            let Some(e) = self.entries.get(pos).map(Stored::view) else {
                return DaoOutcome::Full;
            };
            if let Some(t) = live(&e, now) {
                // A host advertised on its behalf (E flag) by another 6LR than the one we
                // have: that 6LR's Path Sequence counts in its own space, not comparable with
                // the other's. Its claim is the newest news of the host (it moved, or the
                // first router died); its No-Path only withdraws what it had claimed.
                let other_claim = d.external && t.external && t.parent != parent;
                if other_claim && d.lifetime == Duration::ZERO {
                    return DaoOutcome::Stale;
                }
                if !other_claim && compare_tid(d.path_seq, t.path_seq) == Some(Ordering::Less) {
                    return DaoOutcome::Stale;
                }
            }
        }
        if d.lifetime == Duration::ZERO {
            if let Some(pos) = existing {
                self.no_path(pos);
            }
            return DaoOutcome::Removed;
        }
        if !storing
            && let Some(p) = parent
            && let Some(refusal) = self.check_chain(&d.target, p, d.max_depth.min(MAX_RPL_DEPTH))
        {
            return refusal;
        }
        let target = Target {
            parent,
            path_seq: d.path_seq,
            expires: Instant::from_secs(u64::from(to_secs_up(now + d.lifetime))),
            storing,
            external: d.external && !storing,
        };
        if let Some(pos) = existing {
            let Some(slot) = self.entries.get_mut(pos) else {
                return DaoOutcome::Full;
            };
            let mut e = slot.view();
            let fresh = live(&e, now).is_none();
            e.target = Some(target);
            if e.origin == Origin::Dao {
                e.expires = target.expires;
                match (d.child, parent) {
                    (Some(child), _) => e.ll = child,
                    // Now a child of the root (it was behind another node, where `ll` was
                    // never used): a neighbour, reached at the address its identifier was
                    // formed from, as a new entry would be.
                    (None, None) => e.ll = link_of_iid(iid(&d.target)),
                    (None, Some(_)) => {}
                }
            }
            *slot = Stored::pack(&e);
            return if fresh {
                DaoOutcome::Added
            } else {
                DaoOutcome::Refreshed
            };
        }
        let ll = match (d.child, parent) {
            (Some(child), _) if storing => child,
            // A child of the root: a neighbour, reached at the address its identifier was
            // formed from.
            (_, None) => link_of_iid(iid(&d.target)),
            // Reached through its parent: `ll` is never used.
            _ => Address::Extended([0; 8]),
        };
        let entry = Entry {
            addr: d.target,
            ll,
            rovr: 0,
            rovr_is_eui64: false,
            origin: Origin::Dao,
            tid: None,
            crypto: false,
            expires: target.expires,
            last_heard: now,
            rx_frames: 0,
            tx_frames: 0,
            target: Some(target),
        };
        if self.insert(now, entry) {
            DaoOutcome::Added
        } else {
            DaoOutcome::Full
        }
    }

    /// Removes the target state at `pos` (the entry too if it existed only for it).
    fn no_path(&mut self, pos: usize) {
        let Some(slot) = self.entries.get_mut(pos) else {
            return;
        };
        let mut e = slot.view();
        if e.target.take().is_none() {
            return;
        }
        self.target_stats.no_path = self.target_stats.no_path.wrapping_add(1);
        if e.origin == Origin::Dao {
            self.remove_at(pos);
        } else {
            *slot = Stored::pack(&e);
        }
    }

    /// Walks the known parent chain above `target` starting at `parent`: a cycle back to
    /// the target, or more than `max_depth` hops from the root to the target, refuses.
    fn check_chain(
        &self,
        target: &Ipv6Addr,
        parent: [u8; 8],
        max_depth: usize,
    ) -> Option<DaoOutcome> {
        let mut depth = 1; // the target itself
        let mut next = Some(parent);
        while let Some(p) = next {
            let a = with_iid(target, p);
            if a == *target {
                return Some(DaoOutcome::Cycle);
            }
            depth += 1;
            if depth > max_depth {
                return Some(DaoOutcome::TooDeep);
            }
            next = match self.lookup(&a) {
                Some(e) => match live(&e, self.clock) {
                    Some(t) if !t.storing && e.origin == Origin::Dao => t.parent,
                    // A neighbour of the root, or a node whose path is not known (yet).
                    _ => None,
                },
                None => None,
            };
        }
        None
    }

    /// The downward route to `dst`: `None` when `dst` has no live entry or its parent chain
    /// is broken (an unknown parent) or deeper than [`MAX_RPL_DEPTH`]. O(depth).
    pub fn source_route(&self, dst: &Ipv6Addr) -> Option<SourceRoute> {
        let mut hops: Vec<Ipv6Addr, MAX_RPL_DEPTH> = Vec::new();
        let mut at = self.lookup(dst)?;
        // An external target (a host a 6LR advertised for it, RFC 9010) is not in the route:
        // the tunnel ends at its parent, which delivers the inner packet (RFC 9008 §7.1.4).
        if let Some(t) = live(&at, self.clock)
            && t.external
            && at.origin == Origin::Dao
        {
            at = self.lookup(&with_iid(dst, t.parent?))?;
        }
        loop {
            hops.push(at.addr).ok()?;
            let via = match live(&at, self.clock) {
                Some(t) if follows_parent(at.origin, &t) => t.parent,
                _ => None,
            };
            let Some(p) = via else {
                hops.reverse();
                return Some(SourceRoute {
                    first_hop: at.ll,
                    hops,
                });
            };
            at = self.lookup(&with_iid(dst, p))?;
        }
    }

    /// The live targets (entries with live RPL state), in storage order.
    pub fn targets(&self) -> impl Iterator<Item = Entry> + '_ {
        let clock = self.clock;
        self.iter().filter(move |e| live(e, clock).is_some())
    }

    /// Drops the RPL state whose path lifetime ran out: an [`Origin::Dao`] entry goes as a
    /// whole, a registered or gleaned one keeps its registration. `gone` hears each target's
    /// address; returns how many (counted in [`TargetStats::expired`]). Call it before
    /// [`Registry::expire`], which would reclaim the [`Origin::Dao`] entries unreported. O(N).
    pub fn expire_targets(&mut self, now: Instant, mut gone: impl FnMut(Ipv6Addr)) -> usize {
        let now = self.advance(now);
        let mut n = 0usize;
        let mut pos = 0;
        while let Some(slot) = self.entries.get_mut(pos).filter(|_| pos < self.len) {
            let mut e = slot.view();
            if e.target.is_none_or(|t| t.expires > now) {
                pos += 1;
                continue;
            }
            n = n.wrapping_add(1);
            gone(e.addr);
            if e.origin == Origin::Dao {
                // The last entry moves into `pos`: look at it next.
                if self.remove_at(pos).is_none() {
                    break;
                }
            } else {
                e.target = None;
                *slot = Stored::pack(&e);
                pos += 1;
            }
        }
        self.target_stats.expired = self.target_stats.expired.wrapping_add(n as u32);
        n
    }

    /// Drops the RPL state of `addr` (a forwarding error reported the route broken); an
    /// entry that existed only for it goes. Counted as a No-Path. True when there was one.
    pub fn forget_target(&mut self, addr: &Ipv6Addr) -> bool {
        match self.live_position(addr) {
            Some(pos)
                if self
                    .entries
                    .get(pos)
                    .is_some_and(|e| e.view().target.is_some()) =>
            {
                self.no_path(pos);
                true
            }
            _ => false,
        }
    }

    /// The target counters.
    pub fn target_stats(&self) -> TargetStats {
        self.target_stats
    }
}

/// Whether the root reaches a target through the parent its DAO names (non-storing): always
/// for an entry the DAOs made; for a node we also registered or gleaned, when it is an RPL
/// router's own target, whose DAO says the path it chose (the root may have heard it
/// directly, say over a link its objective function rejected: seen with MRHOF in the
/// 100-node mesh, a router that moved under another parent answered no ping). A host a 6LR
/// advertised for it (E flag) that we registered or gleaned is our neighbour, as
/// [`host_heard_directly`] makes it.
fn follows_parent(origin: Origin, t: &Target) -> bool {
    !t.storing && (origin == Origin::Dao || !t.external)
}

/// The target state of `e` if its path lifetime has not run out at `now`.
fn live(e: &Entry, now: Instant) -> Option<Target> {
    e.target.filter(|t| t.expires > now)
}
