//! The routing table: longest-prefix match over a fixed number of entries.
//!
//! Entries are connected prefixes (added with an interface address), static routes, routes
//! learned from router advertisements (with a lifetime), and the default route (`::/0`). Ties
//! on prefix length go to the lower metric. A `Reject` route answers with an ICMPv6
//! Destination Unreachable instead of forwarding.

use core::net::Ipv6Addr;

use crate::addr::Prefix;
use crate::iface::IfIndex;
use crate::time::Instant;

/// How a route came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RouteOrigin {
    /// The prefix of an address on the interface.
    Connected,
    /// Configured by the operator.
    Static,
    /// Learned from the network (RA, RPL…).
    Learned,
}

/// What to do with matching packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RouteAction {
    /// Forward out of an interface, to `via` or (when `None`) directly to the destination.
    Forward {
        /// Egress interface.
        iface: IfIndex,
        /// Gateway; `None` means on-link.
        via: Option<Ipv6Addr>,
    },
    /// Drop and answer Destination Unreachable, code 1 (administratively prohibited).
    Reject,
}

/// A routing-table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Route {
    /// Destination prefix.
    pub prefix: Prefix,
    /// What to do.
    pub action: RouteAction,
    /// Lower wins among equal prefix lengths.
    pub metric: u16,
    /// Origin.
    pub origin: RouteOrigin,
    /// Expiry (`None`: permanent).
    pub expires: Option<Instant>,
}

impl Route {
    /// A static on-link or via-gateway route.
    pub fn new(prefix: Prefix, iface: IfIndex, via: Option<Ipv6Addr>) -> Self {
        Route {
            prefix,
            action: RouteAction::Forward { iface, via },
            metric: 0,
            origin: RouteOrigin::Static,
            expires: None,
        }
    }
    /// The egress interface, for forwarding routes.
    pub fn iface(&self) -> Option<IfIndex> {
        match self.action {
            RouteAction::Forward { iface, .. } => Some(iface),
            RouteAction::Reject => None,
        }
    }
}

/// Why a route could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RouteError {
    /// Every entry is in use.
    TableFull,
    /// The egress interface does not exist.
    NoSuchIface,
    /// No such route (remove).
    NotFound,
    /// The prefix is connected on another interface: a route for the same prefix through
    /// this one would take its traffic.
    Conflict,
    /// A connected route cannot be removed by itself: it goes with an address of the
    /// interface (remove the address).
    Connected,
}

impl RouteError {
    /// The message [`core::fmt::Display`] prints, for callers that avoid `core::fmt`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            RouteError::TableFull => "routing table full",
            RouteError::NoSuchIface => "no such interface",
            RouteError::NotFound => "no such route",
            RouteError::Conflict => "the prefix is connected on another interface",
            RouteError::Connected => "connected route: remove its address instead",
        }
    }
}

impl core::fmt::Display for RouteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
impl core::error::Error for RouteError {}

/// The table, over storage from [`crate::Resources`].
#[derive(Debug)]
pub struct RouteTable<'r> {
    entries: &'r mut [Option<Route>],
}

impl<'r> RouteTable<'r> {
    pub(crate) fn new(entries: &'r mut [Option<Route>]) -> Self {
        for e in entries.iter_mut() {
            *e = None;
        }
        RouteTable { entries }
    }
    /// Capacity.
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }
    /// Routes in use.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.entries.iter().flatten()
    }
    /// Number of routes.
    pub fn len(&self) -> usize {
        self.iter().count()
    }
    /// True when no route is installed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Add, or replace the entry with the same prefix, origin and egress. Returns `true` when
    /// a new entry was created (not a replacement).
    ///
    /// A route for a prefix that is connected on another interface is refused
    /// ([`RouteError::Conflict`]): an equal-length route never takes a connected prefix's
    /// traffic (a rogue router advertisement on one link must not capture another link).
    pub(crate) fn insert(&mut self, r: Route) -> Result<bool, RouteError> {
        if self.iter().any(|e| {
            e.prefix == r.prefix && e.origin == RouteOrigin::Connected && e.iface() != r.iface()
        }) {
            return Err(RouteError::Conflict);
        }
        if let Some(e) = self
            .entries
            .iter_mut()
            .flatten()
            .find(|e| Self::same(e, &r))
        {
            *e = r;
            return Ok(false);
        }
        let slot = self
            .entries
            .iter_mut()
            .find(|e| e.is_none())
            .ok_or(RouteError::TableFull)?;
        *slot = Some(r);
        Ok(true)
    }
    fn same(a: &Route, b: &Route) -> bool {
        a.prefix == b.prefix && a.origin == b.origin && a.iface() == b.iface()
    }
    /// Remove every route for `prefix` (optionally only on `iface`); returns how many.
    pub(crate) fn remove(
        &mut self,
        prefix: &Prefix,
        iface: Option<IfIndex>,
        origin: Option<RouteOrigin>,
    ) -> usize {
        let mut n = 0;
        for e in self.entries.iter_mut() {
            if let Some(r) = e {
                let hit = r.prefix == *prefix
                    && iface.is_none_or(|i| r.iface() == Some(i))
                    && origin.is_none_or(|o| r.origin == o);
                if hit {
                    *e = None;
                    n += 1;
                }
            }
        }
        n
    }
    /// Longest-prefix match, skipping expired entries; among equal lengths the lowest
    /// metric, then a connected route, then the entry that was there first (a newer route
    /// never silently takes an older one's traffic).
    pub fn lookup(&self, dst: &Ipv6Addr, now: Instant) -> Option<&Route> {
        let rank = |r: &Route| {
            (
                r.prefix.prefix_len(),
                core::cmp::Reverse(r.metric),
                r.origin == RouteOrigin::Connected,
            )
        };
        self.iter()
            .filter(|r| r.expires.is_none_or(|t| t > now) && r.prefix.contains(dst))
            .fold(None, |best: Option<&Route>, r| match best {
                Some(b) if rank(b) >= rank(r) => Some(b),
                _ => Some(r),
            })
    }
    /// Take out the next expired route, if any.
    pub(crate) fn take_expired(&mut self, now: Instant) -> Option<Route> {
        let e = self
            .entries
            .iter_mut()
            .find(|e| e.is_some_and(|r| r.expires.is_some_and(|t| t <= now)))?;
        e.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, l: u8) -> Prefix {
        Prefix::new(s.parse().unwrap(), l).unwrap()
    }

    #[test]
    fn longest_prefix_then_metric_wins() {
        let mut st = [None; 8];
        let mut t = RouteTable::new(&mut st);
        let (a, b) = (IfIndex(0), IfIndex(1));
        t.insert(Route::new(
            Prefix::DEFAULT,
            a,
            Some("fe80::1".parse().unwrap()),
        ))
        .unwrap();
        t.insert(Route::new(p("2001:db8::", 32), a, None)).unwrap();
        t.insert(Route::new(p("2001:db8:1::", 48), b, None))
            .unwrap();
        let mut worse = Route::new(p("2001:db8:1::", 48), a, None);
        worse.metric = 10;
        worse.origin = RouteOrigin::Learned;
        t.insert(worse).unwrap();
        let now = Instant::ZERO;
        let look = |t: &RouteTable<'_>, d: &str| {
            t.lookup(&d.parse().unwrap(), now).and_then(|r| r.iface())
        };
        assert_eq!(look(&t, "2001:db8:1::5"), Some(b));
        assert_eq!(look(&t, "2001:db8:2::5"), Some(a));
        assert_eq!(
            t.lookup(&"2001:db9::1".parse().unwrap(), now)
                .unwrap()
                .prefix,
            Prefix::DEFAULT
        );
        assert_eq!(t.remove(&Prefix::DEFAULT, None, None), 1);
        assert!(t.lookup(&"2001:db9::1".parse().unwrap(), now).is_none());
        // Replacement, not a new entry.
        assert_eq!(
            t.insert(Route::new(
                p("2001:db8::", 32),
                a,
                Some("fe80::2".parse().unwrap())
            )),
            Ok(false)
        );
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn expiry_and_full_table() {
        let mut st = [None; 2];
        let mut t = RouteTable::new(&mut st);
        let mut r = Route::new(p("2001:db8::", 32), IfIndex(0), None);
        r.expires = Some(Instant::from_secs(5));
        t.insert(r).unwrap();
        t.insert(Route::new(p("2001:db9::", 32), IfIndex(0), None))
            .unwrap();
        assert_eq!(
            t.insert(Route::new(p("2001:dba::", 32), IfIndex(0), None)),
            Err(RouteError::TableFull)
        );
        assert!(
            t.lookup(&"2001:db8::1".parse().unwrap(), Instant::from_secs(4))
                .is_some()
        );
        assert!(
            t.lookup(&"2001:db8::1".parse().unwrap(), Instant::from_secs(5))
                .is_none()
        );
        assert_eq!(t.take_expired(Instant::from_secs(5)), Some(r));
        assert_eq!(t.take_expired(Instant::from_secs(5)), None);
    }

    fn connected(prefix: Prefix, i: IfIndex) -> Route {
        Route {
            origin: RouteOrigin::Connected,
            ..Route::new(prefix, i, None)
        }
    }

    /// Issue 19 #1: a second route for a connected prefix through another interface (a
    /// rogue RA's on-link prefix or RIO, an address formed in the mesh prefix on eth0) is
    /// refused, never chosen because it is newer.
    #[test]
    fn equal_routes_never_override_a_connected_route_of_another_interface() {
        let (mesh, eth) = (IfIndex(0), IfIndex(1));
        let m = p("2001:db8:1::", 64);
        let node: Ipv6Addr = "2001:db8:1::5".parse().unwrap();
        let gw = Some("fe80::66".parse().unwrap());
        for rival in [
            connected(m, eth),
            Route::new(m, eth, None),
            Route {
                origin: RouteOrigin::Learned,
                expires: Some(Instant::from_secs(60)),
                ..Route::new(m, eth, gw)
            },
        ] {
            let mut st = [None; 4];
            let mut t = RouteTable::new(&mut st);
            t.insert(connected(m, mesh)).unwrap();
            assert_eq!(t.insert(rival), Err(RouteError::Conflict), "{rival:?}");
            assert_eq!(
                t.lookup(&node, Instant::ZERO).and_then(Route::iface),
                Some(mesh)
            );
            // The same interface may refresh its own entry, and a longer prefix is not a
            // rival of the connected one (the layer that learns it decides).
            assert_eq!(t.insert(connected(m, mesh)), Ok(false));
            assert_eq!(
                t.insert(Route::new(p("2001:db8:1::", 80), eth, gw)),
                Ok(true)
            );
        }
        // A route installed before the connected prefix appeared loses to it in lookup,
        // whatever the table order.
        let mut st = [None; 4];
        let mut t = RouteTable::new(&mut st);
        let mut learned = Route::new(m, eth, gw);
        learned.origin = RouteOrigin::Learned;
        t.insert(learned).unwrap();
        t.insert(connected(m, mesh)).unwrap();
        assert_eq!(
            t.lookup(&node, Instant::ZERO).and_then(Route::iface),
            Some(mesh)
        );
        // Among equals, the older entry keeps the traffic (no silent takeover by the newest).
        let mut st = [None; 4];
        let mut t = RouteTable::new(&mut st);
        let d = p("2001:db8:9::", 48);
        t.insert(Route::new(d, mesh, None)).unwrap();
        t.insert(Route::new(d, eth, None)).unwrap();
        assert_eq!(
            t.lookup(&"2001:db8:9::1".parse().unwrap(), Instant::ZERO)
                .and_then(Route::iface),
            Some(mesh)
        );
    }
}
