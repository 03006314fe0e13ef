//! The control plane seen from outside: events, joined groups, address and route lifetimes,
//! learned routes, an interface going down, a tentative address.

use std::net::Ipv6Addr;

use netif::{AddrState, DropReason, Event, Lifetimes, Outcome, Prefix, Route, StackConfig};

use crate::harness::{Res, T0, echo_request, host_a, host_b, ip, router, udp};

#[test]
fn events_addresses_routes_and_lifetimes() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    let mut evs = vec![];
    while let Some(e) = r.st.pop_event() {
        evs.push(e);
    }
    let p1 = Prefix::new(ip("2001:db8:1::"), 64).unwrap();
    assert!(evs.contains(&Event::IfaceUp(r.ia)));
    assert!(evs.contains(&Event::AddrAdded(r.ia, ip("fe80::ff:fe00:1"))));
    assert!(evs.contains(&Event::AddrAdded(r.ia, ip("2001:db8:1::1"))));
    assert!(evs.contains(&Event::RouteAdded(p1, Some(r.ia))));
    // Joined groups: all-nodes, all-routers, and one solicited-node group per address.
    let groups: Vec<Ipv6Addr> =
        r.st.iface(r.ia)
            .unwrap()
            .multicast_groups()
            .iter()
            .map(|g| g.addr)
            .collect();
    for g in ["ff02::1", "ff02::2", "ff02::1:ff00:1"] {
        assert!(groups.contains(&ip(g)), "{g} in {groups:?}");
    }
    // fe80::ff:fe00:1 and 2001:db8:1::1 share ff02::1:ff00:1: reference counted.
    assert_eq!(
        r.st.iface(r.ia)
            .unwrap()
            .multicast_groups()
            .iter()
            .find(|g| g.addr == ip("ff02::1:ff00:1"))
            .unwrap()
            .refs,
        2
    );
    // An address with lifetimes: deprecated, then removed with its connected route.
    let life = Lifetimes {
        valid: Some(netif::Duration::from_secs(20)),
        preferred: Some(netif::Duration::from_secs(10)),
    };
    r.st.add_addr(
        T0,
        r.ib,
        ip("2001:db8:3::1"),
        64,
        life,
        AddrState::Preferred,
    )
    .unwrap();
    let p3 = Prefix::new(ip("2001:db8:3::"), 64).unwrap();
    r.st.poll(T0 + netif::Duration::from_secs(10));
    r.st.poll(T0 + netif::Duration::from_secs(20));
    let evs: Vec<Event> = std::iter::from_fn(|| r.st.pop_event()).collect();
    assert_eq!(
        evs,
        vec![
            Event::AddrAdded(r.ib, ip("2001:db8:3::1")),
            Event::RouteAdded(p3, Some(r.ib)),
            Event::AddrDeprecated(r.ib, ip("2001:db8:3::1")),
            Event::AddrRemoved(r.ib, ip("2001:db8:3::1")),
            Event::RouteRemoved(p3, Some(r.ib)),
        ]
    );
    assert!(r.st.lookup_route(&ip("2001:db8:3::5"), T0).is_none());
    // Static and default routes; a learned route with a lifetime expires.
    let mut learned = Route::new(Prefix::DEFAULT, r.ib, Some(ip("fe80::ff:fe00:9")));
    learned.origin = netif::RouteOrigin::Learned;
    learned.expires = Some(T0 + netif::Duration::from_secs(30));
    r.st.add_route(learned).unwrap();
    assert_eq!(
        r.inject(r.ia, &udp(host_a(), ip("2001:4860::8888"), 64, b"x")),
        Outcome::Forwarded(r.ib)
    );
    assert_eq!(
        r.sent(r.ib)[0].0,
        [0, 9],
        "sent to the gateway's link address"
    );
    r.st.poll(T0 + netif::Duration::from_secs(30));
    assert_eq!(
        r.st.pop_event(),
        Some(Event::RouteAdded(Prefix::DEFAULT, Some(r.ib)))
    );
    assert_eq!(
        r.st.pop_event(),
        Some(Event::RouteRemoved(Prefix::DEFAULT, Some(r.ib)))
    );
    // Interface down: events, queued packets freed, traffic dropped and counted.
    assert_eq!(
        r.inject(r.ia, &udp(host_a(), host_b(), 64, b"x")),
        Outcome::Forwarded(r.ib)
    );
    r.st.set_admin(T0, r.ib, &mut r.b, false).unwrap();
    assert_eq!(r.st.pop_event(), Some(Event::IfaceDown(r.ib)));
    r.assert_pool_full();
    assert_eq!(
        r.inject(r.ia, &udp(host_a(), host_b(), 64, b"x")),
        Outcome::Dropped(DropReason::IfaceDown)
    );
    r.sent(r.ia);
    r.assert_pool_full();
    // A tentative address takes no traffic but ND.
    r.st.add_addr(
        T0,
        r.ia,
        ip("2001:db8:1::77"),
        64,
        Lifetimes::INFINITE,
        AddrState::Tentative,
    )
    .unwrap();
    assert_eq!(
        r.inject(r.ia, &echo_request(host_a(), ip("2001:db8:1::77"), 64, b"")),
        Outcome::Dropped(DropReason::BadDestination)
    );
    r.assert_pool_full();
}
