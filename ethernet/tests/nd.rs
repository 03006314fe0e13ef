//! `EthernetL2` + neighbor discovery inside a netif stack, in virtual time, with real ND
//! packets (built and checked with smoltcp's wire module, checksums included): MAC filter,
//! VLAN and EtherType handling, NS/NA answers, resolution with queued packets, the NUD state
//! machine, address unreachable on failure, DAD (defend and conflict), router role (RA with
//! RIO, RS answers), host role (SLAAC, default route), validation counters and the RFC 6583
//! replacement policy.

use std::net::Ipv6Addr;

use ethernet::wire::{RouteInfo, RoutePreference};
use ethernet::{EthConfig, EthernetL2, HostConfig, NdEvent, NeighborState, RouterConfig, VlanMode};
use netif::dummy::{self, DummyL2};
use netif::{
    AddrState, Duration, IfIndex, IfaceConfig, Instant, L2Flags, Lifetimes, Outcome, Prefix,
    Resources, RouteAction, Stack, StackConfig,
};
use smoltcp::wire::{
    EthernetAddress, Icmpv6Packet, NdiscNeighborFlags, NdiscPrefixInfoFlags,
    NdiscPrefixInformation, NdiscRepr, NdiscRouterFlags, RawHardwareAddress,
};

type Res = Resources<32, 1600, 16, 8, 64>;

const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const PEER: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
const T0: Instant = Instant::from_secs(100);

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}
fn our_ll() -> Ipv6Addr {
    ip("fe80::ff:fe00:2")
}
fn peer_ll() -> Ipv6Addr {
    ip("fe80::5054:ff:fe12:3456")
}
fn ours() -> Ipv6Addr {
    ip("2001:db8:2::2")
}

/// IPv6 + ICMPv6 (checksum filled) from an ND repr.
fn nd_packet(src: Ipv6Addr, dst: Ipv6Addr, hop: u8, repr: &NdiscRepr<'_>) -> Vec<u8> {
    let mut icmp = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv6Packet::new_unchecked(&mut icmp[..]));
    ipv6(src, dst, hop, 58, &icmp)
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

fn echo(src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    ipv6(src, dst, 64, 58, &[128, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4])
}

fn frame(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn mcast_mac(g: Ipv6Addr) -> [u8; 6] {
    let o = g.octets();
    [0x33, 0x33, o[12], o[13], o[14], o[15]]
}

fn lla(m: [u8; 6]) -> Option<RawHardwareAddress> {
    Some(RawHardwareAddress::from(EthernetAddress(m)))
}

/// A sent frame, decoded.
#[derive(Debug)]
struct Sent {
    dst_mac: [u8; 6],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop: u8,
    icmp: Vec<u8>,
}

impl Sent {
    fn nd(&self) -> NdiscRepr<'_> {
        let p = Icmpv6Packet::new_checked(&self.icmp[..]).unwrap();
        assert!(
            p.verify_checksum(&self.src, &self.dst),
            "checksum of {self:?}"
        );
        NdiscRepr::parse(&p).unwrap()
    }
    fn ty(&self) -> u8 {
        self.icmp[0]
    }
}

struct Net<'r> {
    st: Stack<'r>,
    eth: EthernetL2,
    i: IfIndex,
    now: Instant,
    events: Vec<NdEvent>,
}

fn setup(res: &mut Res, cfg: EthConfig) -> Net<'_> {
    let mut st = Stack::new(StackConfig::default(), res);
    let mut eth = EthernetL2::new(cfg);
    let i = st.add_iface(T0, &eth.iface_config("eth0", true)).unwrap();
    eth.attach(&mut st, i).unwrap();
    st.set_admin(T0, i, &mut eth, true).unwrap();
    st.add_addr(T0, i, ours(), 64, Lifetimes::INFINITE, AddrState::Preferred)
        .unwrap();
    Net {
        st,
        eth,
        i,
        now: T0,
        events: vec![],
    }
}

impl Net<'_> {
    fn rx(&mut self, f: &[u8]) -> Option<Outcome> {
        let h = EthernetL2::load_frame(self.st.pool_mut(), f).unwrap();
        match self.st.receive(self.now, self.i, &mut self.eth, h) {
            Outcome::Local(d) => match self.eth.handle_local(&mut self.st, self.now, d) {
                None => None,
                Some(d) => {
                    self.st.pool_mut().free(d.packet);
                    Some(Outcome::Delivered)
                }
            },
            o => Some(o),
        }
    }
    fn rx_ip(&mut self, dst_mac: [u8; 6], p: &[u8]) -> Option<Outcome> {
        self.rx(&frame(dst_mac, PEER, 0x86dd, p))
    }
    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.tick();
    }
    fn tick(&mut self) {
        self.eth.poll(self.now, &mut self.st);
        self.st.poll(self.now);
        while let Some(e) = self.eth.pop_event() {
            self.events.push(e);
        }
    }
    fn sent(&mut self) -> Vec<Sent> {
        self.tick();
        self.st.transmit(self.now, self.i, &mut self.eth);
        let mut out = vec![];
        while let Some(h) = self.eth.take_tx() {
            let d = self.st.pool().data(&h).to_vec();
            self.st.pool_mut().free(h);
            assert_eq!(&d[6..12], &MAC, "source MAC");
            assert_eq!(&d[12..14], &[0x86, 0xdd]);
            let p = &d[14..];
            out.push(Sent {
                dst_mac: d[..6].try_into().unwrap(),
                src: Ipv6Addr::from(<[u8; 16]>::try_from(&p[8..24]).unwrap()),
                dst: Ipv6Addr::from(<[u8; 16]>::try_from(&p[24..40]).unwrap()),
                hop: p[7],
                icmp: p[40..].to_vec(),
            });
        }
        out
    }
}

#[test]
fn mac_filter_vlan_and_ethertype() {
    let mut res = Res::new();
    let mut n = setup(&mut res, EthConfig::new(MAC));
    let e = echo(peer_ll(), ours());
    // Another host's unicast MAC: filtered.
    let o = n.rx(&frame([0x02, 0, 0, 0, 0, 0x99], PEER, 0x86dd, &e));
    assert!(matches!(o, Some(Outcome::Dropped(_))));
    assert_eq!(n.eth.stats().rx_filtered, 1);
    // A multicast group we did not join: filtered. All-nodes: accepted.
    n.rx(&frame(mcast_mac(ip("ff02::1:3")), PEER, 0x86dd, &e));
    assert_eq!(n.eth.stats().rx_filtered, 2);
    assert_eq!(n.rx_ip(MAC, &e), Some(Outcome::Delivered));
    // IPv4 and ARP: counted and dropped.
    n.rx(&frame(MAC, PEER, 0x0800, &[0x45; 20]));
    n.rx(&frame([0xff; 6], PEER, 0x0806, &[0; 28]));
    assert_eq!(n.eth.stats().rx_not_ipv6, 2);
    // A VLAN tag is dropped in this configuration; short frames are counted.
    let mut tagged = frame(MAC, PEER, 0x8100, &[0, 42, 0x86, 0xdd]);
    tagged.extend_from_slice(&e);
    n.rx(&tagged);
    assert_eq!(n.eth.stats().rx_vlan_dropped, 1);
    n.rx(&[0; 10]);
    assert_eq!(n.eth.stats().rx_short, 1);
    // Our own source MAC (a looped frame) and a multicast source are refused.
    n.rx(&frame(MAC, MAC, 0x86dd, &e));
    n.rx(&frame(MAC, [0x33, 0x33, 0, 0, 0, 1], 0x86dd, &e));
    assert_eq!(n.eth.stats().rx_bad_src, 2);
    // The echo reply waits for the peer's resolution: one multicast NS from our address.
    let s = n.sent();
    assert_eq!(s.len(), 1, "{s:?}");
    let g = netif::addr::solicited_node(&peer_ll());
    assert_eq!((s[0].ty(), s[0].dst, s[0].dst_mac), (135, g, mcast_mac(g)));
    assert_eq!(n.eth.neighbor(&peer_ll()).unwrap().pending, 1);

    // A jumbo frame larger than a pool buffer is kept truncated with its real length.
    let big = ipv6(peer_ll(), ours(), 64, 17, &[0u8; 1900]);
    let o = n.rx(&frame(MAC, PEER, 0x86dd, &big));
    assert_eq!(
        o,
        Some(Outcome::Dropped(netif::DropReason::TooBigForBuffer))
    );
    assert_eq!(n.eth.stats().rx_truncated, 1);

    let mut res2 = Res::new();
    let mut cfg = EthConfig::new(MAC);
    cfg.vlan = VlanMode::Skip;
    let mut n = setup(&mut res2, cfg);
    assert_eq!(n.rx(&tagged), Some(Outcome::Delivered));
    assert_eq!(n.eth.stats().rx_vlan_skipped, 1);
    // Promiscuous: someone else's frame gets through the L2 (then the core decides).
    n.eth.set_promiscuous(true);
    n.rx(&frame([0x02, 0, 0, 0, 0, 0x99], PEER, 0x86dd, &e));
    assert_eq!(n.eth.stats().rx_filtered, 0);
}

#[test]
fn answers_ns_and_defends_against_dad() {
    let mut res = Res::new();
    let mut n = setup(&mut res, EthConfig::new(MAC));
    // Resolution of our global address, with SLLAO, to our solicited-node group.
    let sn = netif::addr::solicited_node(&ours());
    let ns = NdiscRepr::NeighborSolicit {
        target_addr: ours(),
        lladdr: lla(PEER),
    };
    assert_eq!(
        n.rx_ip(mcast_mac(sn), &nd_packet(peer_ll(), sn, 255, &ns)),
        None
    );
    let s = n.sent();
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].dst_mac, s[0].dst, s[0].src, s[0].hop),
        (PEER, peer_ll(), ours(), 255)
    );
    match s[0].nd() {
        NdiscRepr::NeighborAdvert {
            flags,
            target_addr,
            lladdr,
        } => {
            assert_eq!(target_addr, ours());
            assert_eq!(lladdr, lla(MAC));
            assert!(flags.contains(NdiscNeighborFlags::SOLICITED | NdiscNeighborFlags::OVERRIDE));
            assert!(
                flags.contains(NdiscNeighborFlags::ROUTER),
                "forwarding interface"
            );
        }
        r => panic!("{r:?}"),
    }
    // The sender was gleaned as STALE.
    let e = n.eth.neighbor(&peer_ll()).unwrap();
    assert_eq!((e.state, e.mac), (NeighborState::Stale, Some(PEER)));

    // A DAD probe for our address: defended with an NA to all-nodes, S clear.
    let dad = NdiscRepr::NeighborSolicit {
        target_addr: ours(),
        lladdr: None,
    };
    n.rx_ip(
        mcast_mac(sn),
        &nd_packet(Ipv6Addr::UNSPECIFIED, sn, 255, &dad),
    );
    let s = n.sent();
    assert_eq!(
        (s[0].dst, s[0].dst_mac),
        (ip("ff02::1"), [0x33, 0x33, 0, 0, 0, 1])
    );
    match s[0].nd() {
        NdiscRepr::NeighborAdvert { flags, .. } => {
            assert!(!flags.contains(NdiscNeighborFlags::SOLICITED))
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(n.eth.nd_stats().dad_defended, 1);

    // An NS for someone else's address is ignored.
    let other = NdiscRepr::NeighborSolicit {
        target_addr: ip("2001:db8:2::77"),
        lladdr: lla(PEER),
    };
    let g = netif::addr::solicited_node(&ip("2001:db8:2::77"));
    n.rx_ip(mcast_mac(g), &nd_packet(peer_ll(), g, 255, &other));
    assert!(n.sent().is_empty());
}

#[test]
fn invalid_nd_is_counted_and_dropped() {
    let mut res = Res::new();
    let mut n = setup(&mut res, EthConfig::new(MAC));
    let sn = netif::addr::solicited_node(&ours());
    let ns = NdiscRepr::NeighborSolicit {
        target_addr: ours(),
        lladdr: lla(PEER),
    };
    // Hop limit 64: maybe forwarded from off-link.
    n.rx_ip(mcast_mac(sn), &nd_packet(peer_ll(), sn, 64, &ns));
    // Code 1.
    let mut p = nd_packet(peer_ll(), sn, 255, &ns);
    p[41] = 1;
    netif::icmp::fill_checksum(&mut p[40..], &peer_ll(), &sn);
    n.rx_ip(mcast_mac(sn), &p);
    // Option of length 0.
    let mut p = nd_packet(peer_ll(), sn, 255, &ns);
    p[40 + 25] = 0;
    netif::icmp::fill_checksum(&mut p[40..], &peer_ll(), &sn);
    n.rx_ip(mcast_mac(sn), &p);
    // Truncated NS (no target).
    let short = ipv6(peer_ll(), sn, 255, 58, &[135, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
    n.rx_ip(mcast_mac(sn), &short);
    // RA from a global source.
    let ra = NdiscRepr::RouterAdvert {
        hop_limit: 64,
        flags: NdiscRouterFlags::empty(),
        router_lifetime: smoltcp::time::Duration::from_secs(1800),
        reachable_time: smoltcp::time::Duration::ZERO,
        retrans_time: smoltcp::time::Duration::ZERO,
        lladdr: lla(PEER),
        mtu: None,
        prefix_info: None,
    };
    n.rx_ip(
        [0x33, 0x33, 0, 0, 0, 1],
        &nd_packet(ip("2001:db8:2::1"), ip("ff02::1"), 255, &ra),
    );
    let s = n.eth.nd_stats();
    assert_eq!(
        (
            s.invalid_hop_limit,
            s.invalid_code,
            s.invalid_option,
            s.invalid_length,
            s.invalid_other
        ),
        (1, 1, 1, 1, 1)
    );
    assert_eq!((s.rx_ns, s.rx_ra), (0, 0));
    assert!(n.sent().is_empty());
    // A bad checksum never reaches ND: the core drops it.
    let mut p = nd_packet(peer_ll(), sn, 255, &ns);
    p[42] ^= 0xff;
    assert!(matches!(
        n.rx_ip(mcast_mac(sn), &p),
        Some(Outcome::Dropped(_))
    ));
}

#[test]
fn resolution_queue_nud_states_and_probe() {
    let mut res = Res::new();
    let mut n = setup(&mut res, EthConfig::new(MAC));
    let host = ip("2001:db8:2::9");
    for _ in 0..5 {
        let h = n.st.pool_mut().alloc_from(&echo(ours(), host)).unwrap();
        n.st.send(n.now, h).unwrap();
    }
    let s = n.sent();
    assert_eq!(s.len(), 1, "one multicast NS, packets queued: {s:?}");
    let g = netif::addr::solicited_node(&host);
    assert_eq!(
        (s[0].dst, s[0].dst_mac, s[0].src),
        (g, mcast_mac(g), ours())
    );
    assert!(
        matches!(s[0].nd(), NdiscRepr::NeighborSolicit { target_addr, lladdr } if target_addr == host && lladdr == lla(MAC))
    );
    let e = n.eth.neighbor(&host).unwrap();
    assert_eq!((e.state, e.pending), (NeighborState::Incomplete, 3));
    assert_eq!(n.eth.nd_stats().pending_overflow, 2, "oldest replaced");

    // Solicited NA with TLLAO: REACHABLE, the queue flushes to the MAC.
    let na = NdiscRepr::NeighborAdvert {
        flags: NdiscNeighborFlags::SOLICITED | NdiscNeighborFlags::OVERRIDE,
        target_addr: host,
        lladdr: lla(PEER),
    };
    n.rx_ip(MAC, &nd_packet(host, ours(), 255, &na));
    let s = n.sent();
    assert_eq!(s.len(), 3);
    assert!(
        s.iter()
            .all(|f| f.dst_mac == PEER && f.ty() == 128 && f.dst == host)
    );
    assert_eq!(
        n.eth.neighbor(&host).unwrap().state,
        NeighborState::Reachable
    );

    // ReachableTime (≤ 45 s) passes: STALE; traffic: DELAY; 5 s later: PROBE (unicast NS).
    n.advance(Duration::from_secs(46));
    assert_eq!(n.eth.neighbor(&host).unwrap().state, NeighborState::Stale);
    let h = n.st.pool_mut().alloc_from(&echo(ours(), host)).unwrap();
    n.st.send(n.now, h).unwrap();
    assert_eq!(n.sent().len(), 1, "sent at once to the STALE MAC");
    assert_eq!(n.eth.neighbor(&host).unwrap().state, NeighborState::Delay);
    n.advance(Duration::from_secs(5));
    assert_eq!(n.eth.neighbor(&host).unwrap().state, NeighborState::Probe);
    let s = n.sent();
    assert_eq!(
        (s.len(), s[0].dst, s[0].dst_mac),
        (1, host, PEER),
        "unicast probe"
    );
    // Confirmed by a solicited NA without TLLAO: REACHABLE again.
    let na = NdiscRepr::NeighborAdvert {
        flags: NdiscNeighborFlags::SOLICITED,
        target_addr: host,
        lladdr: None,
    };
    n.rx_ip(MAC, &nd_packet(host, ours(), 255, &na));
    assert_eq!(
        n.eth.neighbor(&host).unwrap().state,
        NeighborState::Reachable
    );
    // An unsolicited NA without O and a different MAC only makes it STALE (RFC 4861 §7.2.5).
    let na = NdiscRepr::NeighborAdvert {
        flags: NdiscNeighborFlags::empty(),
        target_addr: host,
        lladdr: lla([0x02, 0, 0, 0, 0, 0x77]),
    };
    n.rx_ip(MAC, &nd_packet(host, ours(), 255, &na));
    let e = n.eth.neighbor(&host).unwrap();
    assert_eq!((e.state, e.mac), (NeighborState::Stale, Some(PEER)));
    // PROBE with no answer: the entry goes after MAX_UNICAST_SOLICIT probes.
    let h = n.st.pool_mut().alloc_from(&echo(ours(), host)).unwrap();
    n.st.send(n.now, h).unwrap();
    n.sent();
    assert_eq!(n.eth.neighbor(&host).unwrap().state, NeighborState::Delay);
    n.advance(Duration::from_secs(5));
    for _ in 0..3 {
        n.advance(Duration::from_secs(1));
    }
    assert!(n.eth.neighbor(&host).is_none());
}

#[test]
fn failed_resolution_returns_address_unreachable() {
    let mut res = Res::new();
    let mut st = Stack::new(StackConfig::default(), &mut res);
    let mut mesh = DummyL2::new([0, 1]);
    let mut eth = EthernetL2::new(EthConfig::new(MAC));
    let im = st
        .add_iface(
            T0,
            &IfaceConfig {
                name: "wpan0",
                ll_addr: mesh.link_addr(),
                mtu: 1280,
                flags: L2Flags::MULTICAST,
                forwarding: true,
                auto_link_local: true,
            },
        )
        .unwrap();
    let ie = st.add_iface(T0, &eth.iface_config("eth0", true)).unwrap();
    eth.attach(&mut st, ie).unwrap();
    st.set_admin(T0, im, &mut mesh, true).unwrap();
    st.set_admin(T0, ie, &mut eth, true).unwrap();
    let mesh_addr = ip("2001:db8:1::1");
    st.add_addr(
        T0,
        im,
        mesh_addr,
        64,
        Lifetimes::INFINITE,
        AddrState::Preferred,
    )
    .unwrap();
    st.add_addr(
        T0,
        ie,
        ours(),
        64,
        Lifetimes::INFINITE,
        AddrState::Preferred,
    )
    .unwrap();
    // A mesh host sends to a backbone host that does not exist.
    let from = ip("2001:db8:1::ff:fe00:5");
    let gone = ip("2001:db8:2::dead");
    let pkt = ipv6(
        from,
        gone,
        64,
        17,
        &[0x12, 0x34, 0x12, 0x34, 0, 12, 0, 0, 1, 2, 3, 4],
    );
    let mut f = vec![0u8; pkt.len() + dummy::HEADER_LEN];
    DummyL2::frame([0, 1], [0, 5], &pkt, &mut f);
    let h = st.pool_mut().alloc_from(&f).unwrap();
    assert_eq!(st.receive(T0, im, &mut mesh, h), Outcome::Forwarded(ie));
    st.transmit(T0, ie, &mut eth);
    let mut now = T0;
    let mut ns = 0;
    for _ in 0..5 {
        eth.poll(now, &mut st);
        while let Some(h) = eth.take_tx() {
            ns += 1;
            st.pool_mut().free(h);
        }
        now += Duration::from_secs(1);
    }
    assert_eq!(ns, 3, "MAX_MULTICAST_SOLICIT solicitations");
    assert_eq!(eth.pop_event(), Some(NdEvent::ResolutionFailed(gone)));
    assert_eq!(eth.nd_stats().resolution_failed, 1);
    // The core answered the mesh host: Destination Unreachable, code 3.
    st.transmit(now, im, &mut mesh);
    let h = mesh.take_tx().expect("ICMPv6 error toward the mesh");
    let d = st.pool().data(&h)[dummy::HEADER_LEN..].to_vec();
    st.pool_mut().free(h);
    assert_eq!((d[6], d[40], d[41]), (58, 1, 3));
    assert_eq!(
        Ipv6Addr::from(<[u8; 16]>::try_from(&d[24..40]).unwrap()),
        from
    );
    assert_eq!(st.pool().available(), st.pool().capacity(), "no leak");
}

#[test]
fn dad_waits_while_down() {
    // A DAD probe due while the interface is down is not reported as due (found by the
    // `router` fuzz target: the border router's shell polled in a loop); DAD completes once
    // the interface is up again.
    let mut res = Res::new();
    let mut n = setup(&mut res, EthConfig::new(MAC));
    let a = ip("2001:db8:2::a");
    n.eth
        .add_addr(&mut n.st, n.now, a, 64, Lifetimes::INFINITE)
        .unwrap();
    n.st.set_admin(n.now, n.i, &mut n.eth, false).unwrap();
    n.advance(Duration::from_secs(5));
    assert!(
        n.eth.poll_at().is_none_or(|t| t > n.now),
        "a timer due while down: {:?} at {:?}",
        n.eth.poll_at(),
        n.now
    );
    n.st.set_admin(n.now, n.i, &mut n.eth, true).unwrap();
    assert!(n.eth.poll_at().is_some_and(|t| t <= n.now));
    n.advance(Duration::from_secs(1));
    n.advance(Duration::from_secs(1));
    assert_eq!(n.events, vec![NdEvent::DadSucceeded(a)]);
}

#[test]
fn dad_success_and_conflict() {
    let mut res = Res::new();
    let mut n = setup(&mut res, EthConfig::new(MAC));
    let a = ip("2001:db8:2::a");
    let b = ip("2001:db8:2::b");
    n.eth
        .add_addr(&mut n.st, n.now, a, 64, Lifetimes::INFINITE)
        .unwrap();
    n.eth
        .add_addr(&mut n.st, n.now, b, 64, Lifetimes::INFINITE)
        .unwrap();
    let s = n.sent();
    assert_eq!(s.len(), 2);
    for f in &s {
        assert_eq!(f.src, Ipv6Addr::UNSPECIFIED);
        assert!(matches!(
            f.nd(),
            NdiscRepr::NeighborSolicit { lladdr: None, .. }
        ));
    }
    assert_eq!(
        n.st.iface(n.i).unwrap().addr(&a).unwrap().state,
        AddrState::Tentative
    );
    // Someone answers for `b`.
    let na = NdiscRepr::NeighborAdvert {
        flags: NdiscNeighborFlags::OVERRIDE,
        target_addr: b,
        lladdr: lla(PEER),
    };
    n.rx_ip(
        [0x33, 0x33, 0, 0, 0, 1],
        &nd_packet(peer_ll(), ip("ff02::1"), 255, &na),
    );
    n.advance(Duration::from_secs(1));
    assert_eq!(
        n.events,
        vec![NdEvent::DadFailed(b), NdEvent::DadSucceeded(a)]
    );
    let x = n.st.iface(n.i).unwrap();
    assert_eq!(x.addr(&a).unwrap().state, AddrState::Preferred);
    assert!(x.addr(&b).is_none());
    // Another node probing our tentative address also means a conflict.
    let c = ip("2001:db8:2::c");
    n.eth
        .add_addr(&mut n.st, n.now, c, 64, Lifetimes::INFINITE)
        .unwrap();
    let sn = netif::addr::solicited_node(&c);
    let probe = NdiscRepr::NeighborSolicit {
        target_addr: c,
        lladdr: None,
    };
    n.rx_ip(
        mcast_mac(sn),
        &nd_packet(Ipv6Addr::UNSPECIFIED, sn, 255, &probe),
    );
    n.tick();
    assert_eq!(n.events.last(), Some(&NdEvent::DadFailed(c)));
    assert_eq!(n.eth.nd_stats().dad_conflicts, 2);
}

#[test]
fn router_role_ra_with_rio_and_rs_answer() {
    let mut res = Res::new();
    let mesh = Prefix::new(ip("2001:db8:100::"), 64).unwrap();
    let cfg = EthConfig {
        router: Some(RouterConfig::announcing(mesh)),
        ..EthConfig::new(MAC)
    };
    let mut n = setup(&mut res, cfg);
    let s = n.sent();
    assert_eq!(s.len(), 1, "first RA at once");
    let ra = &s[0];
    assert_eq!((ra.src, ra.dst, ra.hop), (our_ll(), ip("ff02::1"), 255));
    match ra.nd() {
        NdiscRepr::RouterAdvert {
            router_lifetime,
            lladdr,
            ..
        } => {
            assert_eq!(
                router_lifetime,
                smoltcp::time::Duration::ZERO,
                "not a default router"
            );
            assert_eq!(lladdr, lla(MAC));
        }
        r => panic!("{r:?}"),
    }
    // The RIO follows the SLLAO (8 bytes) after the 16-byte RA header.
    let rio = RouteInfo::parse(&ra.icmp[24..40]).unwrap();
    assert_eq!(
        rio,
        RouteInfo {
            prefix_len: 64,
            preference: RoutePreference::Medium,
            lifetime: 1800,
            prefix: ip("2001:db8:100::"),
        }
    );
    // An RS gets an RA, but not sooner than MIN_DELAY_BETWEEN_RAS after the last one.
    let rs = NdiscRepr::RouterSolicit { lladdr: lla(PEER) };
    n.rx_ip(
        [0x33, 0x33, 0, 0, 0, 2],
        &nd_packet(peer_ll(), ip("ff02::2"), 255, &rs),
    );
    n.advance(Duration::from_secs(2));
    assert!(n.sent().is_empty());
    n.advance(Duration::from_secs(1));
    let s = n.sent();
    assert_eq!((s.len(), s[0].ty()), (1, 134));
    assert_eq!(
        n.eth.neighbor(&peer_ll()).unwrap().mac,
        Some(PEER),
        "RS gleaned"
    );
    // Unsolicited RAs keep coming within MAX_INITIAL_RTR_ADVERT_INTERVAL at first.
    n.advance(Duration::from_secs(16));
    assert_eq!(n.sent().len(), 1);
    assert_eq!(n.eth.nd_stats().tx_ra, 3);
}

#[test]
fn host_role_slaac_and_default_route() {
    let mut res = Res::new();
    let cfg = EthConfig {
        host: Some(HostConfig::default()),
        ..EthConfig::new(MAC)
    };
    let mut n = setup(&mut res, cfg);
    n.advance(Duration::from_secs(1));
    let s = n.sent();
    assert_eq!(
        (s.len(), s[0].ty(), s[0].dst),
        (1, 133, ip("ff02::2")),
        "RS"
    );
    let router = ip("fe80::1");
    let ra = NdiscRepr::RouterAdvert {
        hop_limit: 64,
        flags: NdiscRouterFlags::empty(),
        router_lifetime: smoltcp::time::Duration::from_secs(1800),
        reachable_time: smoltcp::time::Duration::ZERO,
        retrans_time: smoltcp::time::Duration::ZERO,
        lladdr: lla(PEER),
        mtu: None,
        prefix_info: Some(NdiscPrefixInformation {
            prefix_len: 64,
            flags: NdiscPrefixInfoFlags::ON_LINK | NdiscPrefixInfoFlags::ADDRCONF,
            valid_lifetime: smoltcp::time::Duration::from_secs(86400),
            preferred_lifetime: smoltcp::time::Duration::from_secs(14400),
            prefix: ip("2001:db8:7::"),
        }),
    };
    n.rx_ip(
        [0x33, 0x33, 0, 0, 0, 1],
        &nd_packet(router, ip("ff02::1"), 255, &ra),
    );
    let slaac = ip("2001:db8:7::ff:fe00:2");
    n.tick();
    assert!(n.events.contains(&NdEvent::AddressFormed(slaac)));
    assert!(n.events.contains(&NdEvent::RouterLearned(router)));
    let r =
        n.st.routes()
            .iter()
            .find(|r| r.prefix == Prefix::DEFAULT)
            .copied()
            .expect("default route");
    assert_eq!(
        r.action,
        RouteAction::Forward {
            iface: n.i,
            via: Some(router)
        }
    );
    assert_eq!(r.expires, Some(n.now + Duration::from_secs(1800)));
    assert!(n.eth.neighbor(&router).unwrap().is_router);
    n.advance(Duration::from_secs(1));
    let a = *n.st.iface(n.i).unwrap().addr(&slaac).unwrap();
    assert_eq!(a.state, AddrState::Preferred);
    assert!(a.valid_until.is_some());
    // Router lifetime 0 withdraws the default route.
    let ra0 = NdiscRepr::RouterAdvert {
        hop_limit: 64,
        flags: NdiscRouterFlags::empty(),
        router_lifetime: smoltcp::time::Duration::ZERO,
        reachable_time: smoltcp::time::Duration::ZERO,
        retrans_time: smoltcp::time::Duration::ZERO,
        lladdr: lla(PEER),
        mtu: None,
        prefix_info: None,
    };
    n.rx_ip(
        [0x33, 0x33, 0, 0, 0, 1],
        &nd_packet(router, ip("ff02::1"), 255, &ra0),
    );
    assert!(n.st.routes().iter().all(|r| r.prefix != Prefix::DEFAULT));
}

#[test]
fn resolution_flood_keeps_working_neighbors() {
    let mut res = Res::new();
    let mut n = setup(&mut res, EthConfig::new(MAC));
    // Eight working neighbors, learned from their NS.
    let sn = netif::addr::solicited_node(&ours());
    for k in 1..=8u16 {
        let src = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 1, k);
        let ns = NdiscRepr::NeighborSolicit {
            target_addr: ours(),
            lladdr: lla([0x02, 1, 0, 0, 0, k as u8]),
        };
        n.rx_ip(mcast_mac(sn), &nd_packet(src, sn, 255, &ns));
    }
    n.sent();
    // A scan of the prefix: resolutions beyond the INCOMPLETE limit are refused at once.
    for k in 1..=40u16 {
        let dst = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 9, k);
        let h = n.st.pool_mut().alloc_from(&echo(ours(), dst)).unwrap();
        n.st.send(n.now, h).unwrap();
        n.sent();
    }
    let s = n.eth.nd_stats();
    assert_eq!(s.incomplete_limit, 32, "{s:?}");
    let working = n
        .eth
        .neighbors()
        .filter(|e| e.state != NeighborState::Incomplete)
        .count();
    assert_eq!(working, 8, "no working neighbor pushed out");
    for _ in 0..4 {
        n.advance(Duration::from_secs(1));
        n.sent();
    }
    assert_eq!(n.eth.nd_stats().resolution_failed, 8);
    assert_eq!(n.st.pool().available(), n.st.pool().capacity(), "no leak");
}
