//! A rogue router advertisement on the backbone (issue 19, finding 1), with real bytes: a
//! border router (wpan0 on a dummy link holding the mesh prefix, eth0 an `EthernetL2` in the
//! product's host role: SLAAC, default route, RIOs accepted here too) receives RAs built with
//! smoltcp's wire module. A Prefix Information Option (or a Route Information Option) inside
//! the mesh prefix must not take the mesh off the network: no eth0 address or route in it,
//! traffic to mesh nodes still leaves by wpan0, nothing is solicited for them on the backbone;
//! the conflict is counted and raised as an event. And RFC 5942 §4: an address formed from a
//! PIO does not make its prefix on-link; only the L flag does.

use std::net::Ipv6Addr;

use ethernet::wire::{RouteInfo, RoutePreference};
use ethernet::{EthConfig, EthernetL2, HostConfig, NdEvent, RouterConfig};
use netif::dummy::{self, DummyL2};
use netif::{
    AddrState, Duration, IfIndex, IfaceConfig, Instant, L2Flags, Lifetimes, Outcome, Prefix,
    Resources, RouteAction, Stack, StackConfig,
};
use smoltcp::wire::{
    EthernetAddress, Icmpv6Packet, NdiscPrefixInfoFlags, NdiscPrefixInformation, NdiscRepr,
    NdiscRouterFlags, RawHardwareAddress,
};

type Res = Resources<32, 1600, 16, 8, 64>;

const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const ROGUE: [u8; 6] = [0x52, 0x54, 0, 0x66, 0x66, 0x66];
const T0: Instant = Instant::from_secs(100);

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}
fn mesh() -> Prefix {
    Prefix::new(ip("2001:db8:1::"), 64).unwrap()
}
/// A mesh node (gleaned or registered: the router reaches it over wpan0).
fn mesh_node() -> Ipv6Addr {
    ip("2001:db8:1::ff:fe00:5")
}
fn rogue_ll() -> Ipv6Addr {
    ip("fe80::5054:ff:fe66:6666")
}

fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, hop: u8, next: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, hop]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    if next == 58 {
        netif::icmp::fill_checksum(&mut p[40..], &src, &dst);
    }
    p
}

fn eth_frame(dst: [u8; 6], src: [u8; 6], payload: &[u8]) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x86, 0xdd]);
    f.extend_from_slice(payload);
    f
}

/// An RA from `src` to all-nodes: router lifetime 0, one PIO, then the RIOs (RFC 4191).
fn ra(src: Ipv6Addr, pio: Option<(Prefix, bool, bool)>, rios: &[RouteInfo]) -> Vec<u8> {
    let prefix_info = pio.map(|(p, l, a)| {
        let mut flags = NdiscPrefixInfoFlags::empty();
        flags.set(NdiscPrefixInfoFlags::ON_LINK, l);
        flags.set(NdiscPrefixInfoFlags::ADDRCONF, a);
        NdiscPrefixInformation {
            prefix_len: p.prefix_len(),
            flags,
            valid_lifetime: smoltcp::time::Duration::from_secs(86400),
            preferred_lifetime: smoltcp::time::Duration::from_secs(14400),
            prefix: p.addr(),
        }
    });
    let repr = NdiscRepr::RouterAdvert {
        hop_limit: 64,
        flags: NdiscRouterFlags::empty(),
        router_lifetime: smoltcp::time::Duration::ZERO,
        reachable_time: smoltcp::time::Duration::ZERO,
        retrans_time: smoltcp::time::Duration::ZERO,
        lladdr: Some(RawHardwareAddress::from(EthernetAddress(ROGUE))),
        mtu: None,
        prefix_info,
    };
    let mut icmp = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv6Packet::new_unchecked(&mut icmp[..]));
    for r in rios {
        let at = icmp.len();
        icmp.resize(at + r.buffer_len(), 0);
        r.emit(&mut icmp[at..]).unwrap();
    }
    let p = ipv6(src, ip("ff02::1"), 255, 58, &icmp);
    eth_frame([0x33, 0x33, 0, 0, 0, 1], ROGUE, &p)
}

/// A frame eth0 sent: destination MAC, and ICMPv6 type and target when ND.
type Sent = ([u8; 6], Option<(u8, Ipv6Addr)>);

struct Br<'r> {
    st: Stack<'r>,
    mesh: DummyL2,
    eth: EthernetL2,
    im: IfIndex,
    ie: IfIndex,
    now: Instant,
    events: Vec<NdEvent>,
}

/// The border router: wpan0 with its mesh address (the connected /64), eth0 in the host
/// role (SLAAC backbone, the product default) and the router role announcing the mesh.
fn border(res: &mut Res) -> Br<'_> {
    let mut st = Stack::new(StackConfig::default(), res);
    let mut mesh_l2 = DummyL2::new([0, 1]);
    let cfg = EthConfig {
        host: Some(HostConfig {
            accept_rio: true,
            ..HostConfig::default()
        }),
        router: Some(RouterConfig::announcing(mesh())),
        ..EthConfig::new(MAC)
    };
    let mut eth = EthernetL2::new(cfg);
    let im = st
        .add_iface(
            T0,
            &IfaceConfig {
                name: "wpan0",
                ll_addr: mesh_l2.link_addr(),
                mtu: 1280,
                flags: L2Flags::MULTICAST,
                forwarding: true,
                auto_link_local: true,
            },
        )
        .unwrap();
    let ie = st.add_iface(T0, &eth.iface_config("eth0", true)).unwrap();
    eth.attach(&mut st, ie).unwrap();
    st.set_admin(T0, im, &mut mesh_l2, true).unwrap();
    st.set_admin(T0, ie, &mut eth, true).unwrap();
    st.add_addr(
        T0,
        im,
        ip("2001:db8:1::1"),
        64,
        Lifetimes::INFINITE,
        AddrState::Preferred,
    )
    .unwrap();
    let mut b = Br {
        st,
        mesh: mesh_l2,
        eth,
        im,
        ie,
        now: T0,
        events: vec![],
    };
    b.advance(Duration::from_secs(2)); // eth0's link-local passes DAD, RS and RAs go out.
    b.drain_eth();
    b
}

impl Br<'_> {
    fn rx_eth(&mut self, f: &[u8]) -> Outcome {
        let h = EthernetL2::load_frame(self.st.pool_mut(), f).unwrap();
        match self.st.receive(self.now, self.ie, &mut self.eth, h) {
            Outcome::Local(d) => {
                if let Some(d) = self.eth.handle_local(&mut self.st, self.now, d) {
                    self.st.pool_mut().free(d.packet);
                }
                Outcome::Delivered
            }
            o => o,
        }
    }
    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end {
            self.now += Duration::from_millis(500);
            self.eth.poll(self.now, &mut self.st);
            self.st.poll(self.now);
            while let Some(e) = self.eth.pop_event() {
                self.events.push(e);
            }
        }
    }
    /// Frames eth0 sent: (destination MAC, ICMPv6 type and NS target when ND).
    fn drain_eth(&mut self) -> Vec<Sent> {
        self.st.transmit(self.now, self.ie, &mut self.eth);
        let mut out = vec![];
        while let Some(h) = self.eth.take_tx() {
            let d = self.st.pool().data(&h).to_vec();
            self.st.pool_mut().free(h);
            let p = &d[14..];
            let nd = (p[6] == 58 && p.len() >= 64).then(|| {
                let t = <[u8; 16]>::try_from(&p[48..64]).unwrap();
                (p[40], Ipv6Addr::from(t))
            });
            out.push((d[..6].try_into().unwrap(), nd));
        }
        out
    }
    fn eth0_addrs(&self) -> Vec<Ipv6Addr> {
        self.st
            .iface(self.ie)
            .unwrap()
            .addrs()
            .iter()
            .map(|a| a.addr)
            .collect()
    }
}

fn udp_to_mesh_node() -> Vec<u8> {
    // From a backbone host (off-link for us: it reaches us through our RIO).
    ipv6(
        ip("2001:db8:9::2"),
        mesh_node(),
        64,
        17,
        &[0xc0, 0x01, 0x13, 0x88, 0, 12, 0, 0, 1, 2, 3, 4],
    )
}

#[test]
fn rogue_pio_or_rio_inside_the_mesh_prefix_is_refused_counted_and_raised() {
    let inside = Prefix::new(ip("2001:db8:1:0:8000::"), 80).unwrap();
    let rio = |p: Prefix| RouteInfo {
        prefix_len: p.prefix_len(),
        preference: RoutePreference::High,
        lifetime: 3600,
        prefix: p.addr(),
    };
    // (L, A) of the PIO: the finding's case (L=0) first.
    for (l, a) in [(false, true), (true, true), (true, false)] {
        let mut res = Res::new();
        let mut b = border(&mut res);
        let refused_before = b.eth.nd_stats().ra_prefix_conflicts;
        let f = ra(
            rogue_ll(),
            Some((mesh(), l, a)),
            &[rio(mesh()), rio(inside)],
        );
        assert_eq!(b.rx_eth(&f), Outcome::Delivered);
        b.advance(Duration::from_secs(3)); // past DAD of anything formed
        let what = format!("PIO L={l} A={a}");
        // No eth0 address inside the mesh prefix, no route for it or inside it via eth0.
        assert!(
            !b.eth0_addrs().iter().any(|x| mesh().contains(x)),
            "{what}: eth0 configured an address in the mesh prefix: {:?}",
            b.eth0_addrs()
        );
        let via_eth: Vec<_> =
            b.st.routes()
                .iter()
                .filter(|r| r.iface() == Some(b.ie) && mesh().contains(&r.prefix.addr()))
                .copied()
                .collect();
        assert!(via_eth.is_empty(), "{what}: routes via eth0: {via_eth:?}");
        for dst in [mesh_node(), ip("2001:db8:1:0:8000::5")] {
            let r = b.st.lookup_route(&dst, b.now).copied();
            assert_eq!(
                r.map(|r| r.action),
                Some(RouteAction::Forward {
                    iface: b.im,
                    via: None
                }),
                "{what}: {dst} routed by {r:?}"
            );
        }
        // Traffic from the backbone to a mesh node goes to the mesh, and the router does not
        // solicit mesh nodes on the backbone.
        let f = eth_frame(MAC, ROGUE, &udp_to_mesh_node());
        assert_eq!(b.rx_eth(&f), Outcome::Forwarded(b.im), "{what}");
        b.st.transmit(b.now, b.im, &mut b.mesh);
        let h = b.mesh.take_tx().expect("forwarded to the mesh");
        assert_eq!(
            &b.st.pool().data(&h)[dummy::HEADER_LEN + 24..dummy::HEADER_LEN + 40],
            &mesh_node().octets()
        );
        b.st.pool_mut().free(h);
        b.advance(Duration::from_secs(1));
        let sent = b.drain_eth();
        assert!(
            !sent
                .iter()
                .any(|(_, nd)| matches!(nd, Some((135, t)) if mesh().contains(t))),
            "{what}: NS for a mesh address on the backbone: {sent:?}"
        );
        // Counted (the PIO and both RIOs) and raised once per refused prefix.
        assert_eq!(
            b.eth.nd_stats().ra_prefix_conflicts - refused_before,
            3,
            "{what}"
        );
        assert!(
            b.events.contains(&NdEvent::PrefixConflict(mesh())),
            "{what}: {:?}",
            b.events
        );
        assert!(
            b.events.contains(&NdEvent::PrefixConflict(inside)),
            "{what}: {:?}",
            b.events
        );
        assert_eq!(b.st.pool().available(), b.st.pool().capacity(), "no leak");
    }
}

#[test]
fn pio_address_makes_no_prefix_on_link_only_the_l_flag_does() {
    let p = Prefix::new(ip("2001:db8:7::"), 64).unwrap();
    let slaac = ip("2001:db8:7::ff:fe00:2");
    for l in [false, true] {
        let mut res = Res::new();
        let mut b = border(&mut res);
        let router = ip("fe80::1");
        assert_eq!(
            b.rx_eth(&ra(router, Some((p, l, true)), &[])),
            Outcome::Delivered
        );
        b.advance(Duration::from_secs(3));
        assert!(b.events.contains(&NdEvent::AddressFormed(slaac)), "L={l}");
        let a = *b.st.iface(b.ie).unwrap().addr(&slaac).unwrap();
        assert_eq!(a.state, AddrState::Preferred, "L={l}");
        let on_link =
            b.st.routes()
                .iter()
                .find(|r| r.prefix == p)
                .map(|r| (r.action, r.expires));
        if l {
            assert_eq!(
                on_link,
                Some((
                    RouteAction::Forward {
                        iface: b.ie,
                        via: None
                    },
                    Some(T0 + Duration::from_secs(2) + Duration::from_secs(86400))
                )),
                "L=1: on-link for the valid lifetime"
            );
        } else {
            assert_eq!(
                on_link, None,
                "L=0: the address does not make the prefix on-link"
            );
        }
        assert_eq!(b.eth.nd_stats().ra_prefix_conflicts, 0);
        // The prefix becomes the mesh's (a prefix change): eth0 forgets what it had in it,
        // and the next RA offering it is refused.
        b.eth.forget_prefix(&mut b.st, p);
        assert!(b.st.iface(b.ie).unwrap().addr(&slaac).is_none(), "L={l}");
        assert!(b.st.routes().iter().all(|r| r.prefix != p), "L={l}");
        b.st.add_addr(
            b.now,
            b.im,
            ip("2001:db8:7::1"),
            64,
            Lifetimes::INFINITE,
            AddrState::Preferred,
        )
        .unwrap();
        assert_eq!(
            b.rx_eth(&ra(router, Some((p, l, true)), &[])),
            Outcome::Delivered
        );
        b.advance(Duration::from_secs(3));
        assert!(b.st.iface(b.ie).unwrap().addr(&slaac).is_none(), "L={l}");
        assert_eq!(b.eth.nd_stats().ra_prefix_conflicts, 1);
    }
}

mod rules {
    //! Property tests of the RA rules: whatever sequence of RAs (any PIO/RIO prefixes, flags
    //! and lifetimes, from any router) arrives on eth0, the mesh stays on wpan0.
    use proptest::prelude::*;

    use super::*;

    /// One option of an RA: a PIO (with its L and A flags) or a RIO.
    #[derive(Clone, Debug)]
    enum Opt {
        Pio {
            p: Prefix,
            l: bool,
            a: bool,
            valid: u32,
        },
        Rio {
            p: Prefix,
            lifetime: u32,
        },
    }

    impl Opt {
        fn prefix(&self) -> Prefix {
            match self {
                Opt::Pio { p, .. } | Opt::Rio { p, .. } => *p,
            }
        }
        /// The option's bytes (RFC 4861 §4.6.2, RFC 4191 §2.3).
        fn emit(&self, out: &mut Vec<u8>) {
            match *self {
                Opt::Pio { p, l, a, valid } => {
                    let flags = if l { 0x80 } else { 0 } | if a { 0x40 } else { 0 };
                    out.extend_from_slice(&[3, 4, p.prefix_len(), flags]);
                    out.extend_from_slice(&valid.to_be_bytes());
                    out.extend_from_slice(&(valid / 2).to_be_bytes());
                    out.extend_from_slice(&[0; 4]);
                    out.extend_from_slice(&p.addr().octets());
                }
                Opt::Rio { p, lifetime } => {
                    let r = RouteInfo {
                        prefix_len: p.prefix_len(),
                        preference: RoutePreference::Medium,
                        lifetime,
                        prefix: p.addr(),
                    };
                    let at = out.len();
                    out.resize(at + r.buffer_len(), 0);
                    r.emit(&mut out[at..]).unwrap();
                }
            }
        }
    }

    /// Prefixes around the mesh prefix: inside it (any length from 64), equal, covering it,
    /// beside it, anywhere.
    fn prefix() -> impl Strategy<Value = Prefix> {
        let mesh = mesh().addr().octets();
        prop_oneof![
            (64u8..=128, any::<u64>()).prop_map(move |(len, low)| {
                let mut a = mesh;
                a[8..].copy_from_slice(&low.to_be_bytes());
                Prefix::new(Ipv6Addr::from(a), len).unwrap()
            }),
            (0u8..64).prop_map(move |len| Prefix::new(Ipv6Addr::from(mesh), len).unwrap()),
            (any::<u16>(), 48u8..=64).prop_map(|(n, len)| {
                Prefix::new(
                    Ipv6Addr::new(0x2001, 0xdb8, 0x100 + n % 64, 0, 0, 0, 0, 0),
                    len,
                )
                .unwrap()
            }),
            (any::<u128>(), 0u8..=128).prop_map(|(a, len)| Prefix::new(a.into(), len).unwrap()),
        ]
    }

    fn opt() -> impl Strategy<Value = Opt> {
        let life = prop_oneof![Just(0u32), 1u32..100_000, Just(u32::MAX)];
        prop_oneof![
            (prefix(), any::<bool>(), any::<bool>(), life.clone())
                .prop_map(|(p, l, a, valid)| Opt::Pio { p, l, a, valid }),
            (prefix(), life).prop_map(|(p, lifetime)| Opt::Rio { p, lifetime }),
        ]
    }

    fn ra_bytes(src: Ipv6Addr, lifetime: u16, opts: &[Opt]) -> Vec<u8> {
        let mut icmp = vec![134, 0, 0, 0, 64, 0];
        icmp.extend_from_slice(&lifetime.to_be_bytes());
        icmp.extend_from_slice(&[0; 8]);
        icmp.extend_from_slice(&[1, 1]);
        icmp.extend_from_slice(&ROGUE);
        for o in opts {
            o.emit(&mut icmp);
        }
        let p = ipv6(src, ip("ff02::1"), 255, 58, &icmp);
        eth_frame([0x33, 0x33, 0, 0, 0, 1], ROGUE, &p)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn no_ra_takes_the_mesh(
            ras in prop::collection::vec(
                (1u16..=4, any::<u16>(), prop::collection::vec(opt(), 0..6)),
                1..5,
            ),
            node_low in any::<u64>(),
        ) {
            let mut res = Res::new();
            let mut b = border(&mut res);
            let mut inside_seen = 0u32;
            let mut on_link = Vec::new();
            for (router, lifetime, opts) in &ras {
                let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, *router);
                // Only the first four PIOs and RIOs of an RA are kept (MAX_PREFIXES,
                // MAX_ROUTES); count what the router can see.
                let pios = opts.iter().filter(|o| matches!(o, Opt::Pio { .. })).take(4);
                let rios = opts.iter().filter(|o| matches!(o, Opt::Rio { .. })).take(4);
                for o in pios.chain(rios) {
                    let p = o.prefix();
                    let inside = mesh().prefix_len() <= p.prefix_len() && mesh().contains(&p.addr());
                    let link_local = matches!(o, Opt::Pio { .. }) && p.addr().is_unicast_link_local();
                    if inside && !link_local {
                        inside_seen += 1;
                    }
                    if let Opt::Pio { p, l: true, valid, .. } = o
                        && !inside && !link_local && *valid > 0
                    {
                        on_link.push(*p);
                    }
                }
                prop_assert_eq!(b.rx_eth(&ra_bytes(src, *lifetime, opts)), Outcome::Delivered);
                b.advance(Duration::from_secs(2));
                b.drain_eth();
            }
            // No address of eth0 inside the mesh, and SLAAC addresses are /128.
            for a in b.st.iface(b.ie).unwrap().addrs() {
                prop_assert!(!mesh().contains(&a.addr), "{:?}", a);
                prop_assert!(a.addr.is_unicast_link_local() || a.prefix_len == 128, "{:?}", a);
            }
            // No route through eth0 inside the mesh; on-link routes only from L=1.
            for r in b.st.routes().iter().filter(|r| r.iface() == Some(b.ie)) {
                let inside = mesh().prefix_len() <= r.prefix.prefix_len()
                    && mesh().contains(&r.prefix.addr());
                prop_assert!(!inside, "{:?}", r);
                if r.action == (RouteAction::Forward { iface: b.ie, via: None }) {
                    prop_assert!(on_link.contains(&r.prefix), "{:?} not from L=1", r);
                }
            }
            // Every mesh address still leaves by wpan0.
            let mut a = mesh().addr().octets();
            a[8..].copy_from_slice(&node_low.to_be_bytes());
            let r = b.st.lookup_route(&Ipv6Addr::from(a), b.now).copied();
            prop_assert_eq!(r.and_then(|r| r.iface()), Some(b.im));
            prop_assert_eq!(b.eth.nd_stats().ra_prefix_conflicts, inside_seen);
            prop_assert_eq!(b.st.pool().available(), b.st.pool().capacity());
        }
    }
}
