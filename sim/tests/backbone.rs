//! The simulated backbone: two smoltcp hosts back to back on one in-memory Ethernet cable
//! (ping, UDP echo, collector readings and replies, static routes, hop limit, ICMPv6 error
//! log), and the cable's own contract as an `ethernet::Driver` (busy when full, truncation,
//! latency, link down, tap).

use std::cell::RefCell;
use std::net::Ipv6Addr;
use std::rc::Rc;

use ethernet::Driver;
use netif::time::{Duration, Instant};
use sim::backbone::{
    BackboneHost, BackboneHostConfig, End, EthLink, EthLinkConfig, HostConfigError, MAX_ROUTES,
};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv6Message, Icmpv6Packet,
    Icmpv6Repr, IpAddress, IpEndpoint, IpProtocol, Ipv6Packet, Ipv6Repr,
};

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn cfg_a() -> BackboneHostConfig {
    BackboneHostConfig::new(MAC_A, ip("2001:db8::1"), 64)
}

fn cfg_b() -> BackboneHostConfig {
    let mut c = BackboneHostConfig::new(MAC_B, ip("2001:db8::2"), 64);
    c.reply_to_readings = true;
    c
}

struct Net {
    link: EthLink,
    a: BackboneHost,
    b: BackboneHost,
    now: Instant,
}

impl Net {
    fn new(a: BackboneHostConfig, b: BackboneHostConfig) -> Net {
        let link = EthLink::new(EthLinkConfig::default());
        link.set_capture(true);
        let now = Instant::ZERO;
        let a = BackboneHost::new(a, &link, End::A, now).unwrap();
        let b = BackboneHost::new(b, &link, End::B, now).unwrap();
        Net { link, a, b, now }
    }

    /// Virtual-time loop: poll both hosts, then jump to the earliest wake-up (or 1 ms when
    /// nobody asks), until `done` or `limit`.
    fn run(&mut self, limit: Duration, mut done: impl FnMut(&mut Net) -> bool) -> bool {
        let end = self.now + limit;
        for _ in 0..100_000 {
            self.a.poll(self.now);
            self.b.poll(self.now);
            if done(self) {
                return true;
            }
            if self.now >= end {
                return false;
            }
            let next = [
                self.a.next_wake(),
                self.b.next_wake(),
                self.link.next_event(),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.now + Duration::from_millis(1));
            self.now = next.max(self.now).min(end);
        }
        panic!("virtual-time loop did not settle");
    }
}

#[test]
fn ping_between_two_hosts() {
    let mut n = Net::new(cfg_a(), cfg_b());
    let b = n.b.config().addr;
    assert_eq!(
        n.a.addresses(),
        vec![ip("fe80::ff:fe00:a"), ip("2001:db8::1")]
    );
    assert!(n.a.ping(n.now, b, 1, 56));
    assert!(n.run(Duration::from_secs(3), |n| n.a.pings()[0].2.is_some()));
    // A full-size ping too (1232 data bytes: a 1280-byte IPv6 packet).
    assert!(n.a.ping(n.now, b, 2, 1232));
    assert!(n.run(Duration::from_secs(3), |n| n.a.pings()[1].2.is_some()));
    assert_eq!(n.a.counters().ping_replies, 2);
    // The echo replies went through the raw ICMPv6 log as well, and no error came.
    assert_eq!(
        n.a.icmp_log()
            .filter(|r| r.msg == Icmpv6Message::EchoReply)
            .count(),
        2
    );
    assert_eq!(n.a.icmp_errors().count(), 0);
    // Ping to the link-local address.
    let ll = n.b.config().link_local();
    assert!(n.a.ping(n.now, ll, 3, 8));
    assert!(n.run(Duration::from_secs(3), |n| n.a.pings()[2].2.is_some()));
    let c = n.link.counters(End::A);
    assert_eq!(c.busy + c.oversize + c.lost_link_down, 0);
    assert_eq!(c.sent, c.delivered);
    assert!(n.link.frames_sent() >= 8, "{:?}", n.link);
}

#[test]
fn udp_echo_of_a_1280_byte_packet() {
    let mut n = Net::new(cfg_a(), cfg_b());
    let b = n.b.config().addr;
    let data: Vec<u8> = (0..1232u32).map(|i| i as u8).collect();
    assert!(n.a.send_udp(b, 7, &data));
    let mut got = Vec::new();
    assert!(n.run(Duration::from_secs(3), |n| {
        got.extend(n.a.udp_received());
        !got.is_empty()
    }));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, IpEndpoint::new(IpAddress::Ipv6(b), 7));
    assert_eq!(got[0].data, data);
    assert_eq!(n.b.counters().echoed, 1);
    // The frame on the cable: 14 + 40 + 8 + 1232 bytes.
    let frames = n.link.take_captured();
    assert!(
        frames
            .iter()
            .any(|f| f.from == End::A && f.data.len() == 1294)
    );
    assert!(
        frames
            .iter()
            .any(|f| f.from == End::B && f.data.len() == 1294)
    );
}

#[test]
fn collector_logs_readings_by_source_and_replies() {
    let mut n = Net::new(cfg_a(), cfg_b());
    let (a, b) = (n.a.config().addr, n.b.config().addr);
    let port = n.b.config().collector_port;
    for seq in 0..3u8 {
        let reading = [0, 1, 0, 0, 0, seq, 9, 9, 9, 9, 9, 9, 0xee, 0xee];
        assert!(n.a.send_udp(b, port, &reading));
    }
    let mut replies = Vec::new();
    assert!(n.run(Duration::from_secs(3), |n| {
        replies.extend(n.a.udp_received());
        replies.len() == 3
    }));
    assert_eq!(n.b.readings_by_source().get(&a), Some(&3));
    let r: Vec<_> = n.b.readings().collect();
    assert_eq!(r.len(), 3);
    assert_eq!(
        r[0].from,
        IpEndpoint::new(IpAddress::Ipv6(a), n.a.config().app_port)
    );
    assert_eq!(r[0].len, 14);
    assert_eq!(r[2].head, [0, 1, 0, 0, 0, 2, 9, 9, 9, 9, 9, 9]);
    assert_eq!(n.b.counters().replies_sent, 3);
    assert_eq!(replies[1].from, IpEndpoint::new(IpAddress::Ipv6(b), port));
    assert_eq!(&replies[1].data[..3], b"ack");
    assert_eq!(&replies[1].data[3..], &[0, 1, 0, 0, 0, 1, 9, 9, 9, 9, 9, 9]);
}

#[test]
fn port_unreachable_is_logged_with_the_quoted_udp_ports() {
    let mut n = Net::new(cfg_a(), cfg_b());
    let (a, b) = (n.a.config().addr, n.b.config().addr);
    assert!(n.a.send_udp(b, 9999, b"anyone?"));
    assert!(n.run(Duration::from_secs(3), |n| n.a.icmp_errors().count() == 1));
    let e = n.a.icmp_errors().next().unwrap().clone();
    assert_eq!((e.msg, e.code), (Icmpv6Message::DstUnreachable, 4));
    assert_eq!((e.from, e.to), (b, a));
    let q = e.invoking.unwrap();
    assert_eq!((q.src, q.dst, q.next_header), (a, b, 17));
    assert_eq!(q.ports, Some((n.a.config().app_port, 9999)));
}

#[test]
fn hop_limit_and_static_route_reach_the_wire() {
    let mut ca = cfg_a();
    // The mesh prefix via B's link-local address (B stands in for the border router).
    ca.routes = vec![(ip("fd00::"), 64, cfg_b().link_local())];
    ca.router = Some(cfg_b().addr);
    let mut n = Net::new(ca, cfg_b());
    n.a.set_hop_limit(Some(1));
    assert!(n.a.send_udp(ip("fd00::5"), 7, b"to the mesh"));
    assert!(n.a.send_udp(ip("2001:db8:1::9"), 7, b"default route"));
    let mut seen = Vec::new();
    assert!(n.run(Duration::from_secs(3), |n| {
        seen.extend(n.link.take_captured().into_iter().filter_map(|f| {
            let eth = EthernetFrame::new_checked(&f.data[..]).ok()?;
            if eth.ethertype() != EthernetProtocol::Ipv6 {
                return None;
            }
            let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
            (ip.next_header() == IpProtocol::Udp)
                .then(|| (eth.dst_addr(), ip.dst_addr(), ip.hop_limit()))
        }));
        seen.len() == 2
    }));
    let mac_b = EthernetAddress(MAC_B);
    assert!(seen.contains(&(mac_b, ip("fd00::5"), 1)), "{seen:?}");
    assert!(seen.contains(&(mac_b, ip("2001:db8:1::9"), 1)), "{seen:?}");
}

#[test]
fn packet_too_big_from_a_router_is_logged_with_its_mtu() {
    // Host A on end A; end B is a bare port standing for a router that answers with PTB.
    let link = EthLink::new(EthLinkConfig::default());
    let mut a = BackboneHost::new(cfg_a(), &link, End::A, Instant::ZERO).unwrap();
    let mut r = link.port(End::B, MAC_B);
    let a_addr = a.config().addr;
    let router = ip("2001:db8::fe");
    let dst = ip("fd00::5");

    // The quoted packet: A's 1400-byte UDP datagram toward the mesh, truncated to fit 1280.
    let inner = Ipv6Repr {
        src_addr: a_addr,
        dst_addr: dst,
        next_header: IpProtocol::Udp,
        payload_len: 8 + 1352,
        hop_limit: 63,
    };
    let mut quoted = vec![0u8; 1280 - 40 - 8 - 40];
    // UDP header: 49153 → 7, length 1360, checksum left zero (the quote is cut anyway).
    quoted[..6].copy_from_slice(&[0xc0, 0x01, 0x00, 0x07, 0x05, 0x50]);
    let icmp = Icmpv6Repr::PktTooBig {
        mtu: 1280,
        header: inner,
        data: &quoted,
    };
    let outer = Ipv6Repr {
        src_addr: router,
        dst_addr: a_addr,
        next_header: IpProtocol::Icmpv6,
        payload_len: icmp.buffer_len(),
        hop_limit: 64,
    };
    let eth = EthernetRepr {
        src_addr: EthernetAddress(MAC_B),
        dst_addr: EthernetAddress(MAC_A),
        ethertype: EthernetProtocol::Ipv6,
    };
    let mut frame = vec![0u8; 14 + 40 + icmp.buffer_len()];
    let mut f = EthernetFrame::new_unchecked(&mut frame[..]);
    eth.emit(&mut f);
    let mut p = Ipv6Packet::new_unchecked(f.payload_mut());
    outer.emit(&mut p);
    icmp.emit(
        &router,
        &a_addr,
        &mut Icmpv6Packet::new_unchecked(p.payload_mut()),
        &ChecksumCapabilities::default(),
    );
    assert_eq!(frame.len(), 14 + 1280);
    assert!(r.transmit(&frame).unwrap());
    a.poll(Instant::from_millis(1));
    let e: Vec<_> = a.icmp_errors().collect();
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        (e[0].msg, e[0].code, e[0].param),
        (Icmpv6Message::PktTooBig, 0, 1280)
    );
    assert_eq!((e[0].from, e[0].len), (router, 1240));
    let q = e[0].invoking.unwrap();
    assert_eq!((q.src, q.dst, q.ports), (a_addr, dst, Some((49153, 7))));
}

#[test]
fn full_queue_is_busy_and_counted() {
    let link = EthLink::new(EthLinkConfig {
        queue_cap: 2,
        ..EthLinkConfig::default()
    });
    let tapped = Rc::new(RefCell::new(Vec::new()));
    let t = tapped.clone();
    assert!(
        link.set_tap(Some(Box::new(move |f| t.borrow_mut().push(f.data.len()))))
            .is_none()
    );
    link.set_capture(true);
    let mut a = link.port(End::A, MAC_A);
    let mut b = link.port(End::B, MAC_B);
    assert_eq!(a.mac(), MAC_A);
    assert!(a.link_up());
    assert_eq!(a.transmit(&[1; 60]), Ok(true));
    assert_eq!(a.transmit(&[2; 61]), Ok(true));
    assert!(!a.has_room());
    assert_eq!(a.transmit(&[3; 62]), Ok(false));
    assert_eq!(a.transmit(&[3; 62]), Ok(false));
    // The other direction is independent.
    assert_eq!(b.transmit(&[4; 60]), Ok(true));
    let c = link.counters(End::A);
    assert_eq!((c.sent, c.busy, c.bytes), (2, 2, 121));
    assert_eq!(*tapped.borrow(), vec![60, 61, 60]);
    assert_eq!(link.take_captured().len(), 3);
    assert_eq!(link.queued(End::B), 2);
    let mut buf = [0u8; 1518];
    assert_eq!(b.receive(&mut buf), Ok(Some(60)));
    assert!(a.has_room());
    assert_eq!(a.transmit(&[3; 62]), Ok(true));
    assert_eq!(b.receive(&mut buf), Ok(Some(61)));
    assert_eq!(b.receive(&mut buf), Ok(Some(62)));
    assert_eq!(b.receive(&mut buf), Ok(None));
    assert_eq!(link.counters(End::A).delivered, 3);
}

#[test]
fn truncated_receive_reports_the_real_length() {
    let link = EthLink::new(EthLinkConfig::default());
    let mut a = link.port(End::A, MAC_A);
    let mut b = link.port(End::B, MAC_B);
    let frame: Vec<u8> = (0..100u8).collect();
    assert_eq!(a.transmit(&frame), Ok(true));
    let mut small = [0u8; 40];
    assert_eq!(b.receive(&mut small), Ok(Some(100)));
    assert_eq!(small[..], frame[..40]);
    assert_eq!(link.counters(End::A).truncated, 1);
    assert_eq!(b.receive(&mut small), Ok(None));
    // Oversized frames are taken and dropped.
    assert_eq!(a.transmit(&[0; 1519]), Ok(true));
    assert_eq!(link.counters(End::A).oversize, 1);
    assert_eq!(b.receive(&mut small), Ok(None));
}

#[test]
fn latency_and_link_down() {
    let link = EthLink::new(EthLinkConfig {
        latency: Duration::from_millis(2),
        ..EthLinkConfig::default()
    });
    let mut a = link.port(End::A, MAC_A);
    let mut b = link.port(End::B, MAC_B);
    assert!(a.send(Instant::from_millis(10), &[7; 64]));
    assert_eq!(link.now(), Instant::from_millis(10));
    assert_eq!(b.next_delivery(), Some(Instant::from_millis(12)));
    assert!(b.recv().is_none());
    link.advance_to(Instant::from_millis(12));
    let f = b.recv().unwrap();
    assert_eq!(
        (f.from, f.at, f.data.len()),
        (End::A, Instant::from_millis(10), 64)
    );
    // Unplugging loses what is in flight and what is sent while down.
    assert_eq!(a.transmit(&[1; 64]), Ok(true));
    link.set_link_up(false);
    assert!(!b.link_up());
    assert_eq!(a.transmit(&[1; 64]), Ok(true));
    assert_eq!(link.counters(End::A).lost_link_down, 2);
    link.set_link_up(true);
    link.advance_to(Instant::from_millis(20));
    assert!(b.recv().is_none());
}

#[test]
fn bad_host_configs_are_refused() {
    let link = EthLink::new(EthLinkConfig::default());
    let mut c = cfg_a();
    c.echo_port = Some(c.collector_port);
    let e = BackboneHost::new(c, &link, End::A, Instant::ZERO).unwrap_err();
    assert_eq!(e, HostConfigError::Port(4000));
    let mut c = cfg_a();
    c.router = Some(ip("2001:db8::fe"));
    c.routes = vec![(ip("fd00::"), 64, ip("2001:db8::fe")); MAX_ROUTES];
    assert_eq!(
        BackboneHost::new(c, &link, End::A, Instant::ZERO).unwrap_err(),
        HostConfigError::TooManyRoutes
    );
    let mut c = cfg_a();
    c.prefix_len = 129;
    assert!(BackboneHost::new(c, &link, End::A, Instant::ZERO).is_err());
}

#[test]
fn a_mesh_node_logs_datagrams_arriving_on_its_sensor_port() {
    use l2_15_4::PanId;
    use l2_15_4::radio::Channel;
    use sim::smol::{SensorConfig, SmolNode, SmolNodeConfig};
    use sim::{Link, NodeId, RadioConfig, SimConfig, Simulator, Topology};

    const PREFIX: [u8; 8] = [0xfd, 0, 0, 0, 0, 0, 0, 1];
    let mut sim = Simulator::new(SimConfig::default(), Topology::star(2, Link::good()));
    let ch = Channel::new(15).unwrap();
    let collector = SmolNodeConfig::new(0, ch, PanId(0xbeef), PREFIX);
    for i in 0..2u16 {
        let mut c = SmolNodeConfig::new(i, ch, PanId(0xbeef), PREFIX);
        if i == 1 {
            c.sensor = Some(SensorConfig {
                collector: collector.global().unwrap(),
                collector_port: 4000,
                local_port: 6000,
                period: Duration::from_secs(60),
                jitter: Duration::ZERO,
                payload_len: 12,
            });
        }
        sim.spawn(RadioConfig::default(), |id, r| SmolNode::new(id, c, r))
            .unwrap();
    }
    let sensor = SmolNodeConfig::new(1, ch, PanId(0xbeef), PREFIX)
        .global()
        .unwrap();
    sim.run_until(Instant::from_millis(50));
    let n0 = sim.node_mut::<SmolNode>(NodeId(0)).unwrap();
    let app_port = n0.config().app_port;
    assert!(n0.send_udp(sensor, 6000, b"ack0123456789ab"));
    sim.run_until(Instant::from_millis(500));
    let n1 = sim.node::<SmolNode>(NodeId(1)).unwrap();
    assert_eq!(n1.counters().replies_received, 1);
    let r: Vec<_> = n1.reply_log().collect();
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].len, &r[0].head[..]), (15, &b"ack012345678"[..]));
    assert_eq!(r[0].from.port, app_port);
}

#[test]
fn the_tap_records_every_frame_to_pcapng() {
    use capture_file::{InterfaceDesc, LINKTYPE_ETHERNET, PcapngWriter, SharedBuf};
    let mut n = Net::new(cfg_a(), cfg_b());
    let buf = SharedBuf::default();
    let eth0 = InterfaceDesc {
        linktype: LINKTYPE_ETHERNET,
        name: "eth0".into(),
        snaplen: 0,
    };
    let w = Rc::new(RefCell::new(
        PcapngWriter::new(buf.clone(), &[eth0]).unwrap(),
    ));
    let tap = w.clone();
    n.link.set_tap(Some(Box::new(move |f| {
        tap.borrow_mut()
            .write_packet(0, f.at.as_micros(), &f.data)
            .unwrap()
    })));
    let b = n.b.config().addr;
    assert!(n.a.ping(n.now, b, 1, 100));
    assert!(n.run(Duration::from_secs(3), |n| n.a.pings()[0].2.is_some()));
    // Walk the blocks: (type, total length) little-endian; count Enhanced Packet Blocks.
    let bytes = buf.bytes();
    let (mut at, mut epbs) = (0, 0);
    while at + 8 <= bytes.len() {
        let ty = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        epbs += usize::from(ty == 6);
        at += len;
    }
    assert_eq!(at, bytes.len());
    // NS, NA, echo request, echo reply.
    assert_eq!(epbs as u64, n.link.frames_sent());
    assert_eq!(epbs, 4);
}
