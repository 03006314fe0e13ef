//! Link-layer security on the simulator's leaves: smoltcp leaves and raw MAC nodes given the
//! mesh's network key secure every frame (ENC-MIC-32 under the Thread-derived MAC key) and
//! hear only frames that pass security. Secured leaves ping and exchange UDP (1232-byte
//! datagrams included: smoltcp's fragments are re-cut to fit the secured frame); a node
//! without the key, with another key or under an unknown key index is not heard (refusals
//! counted by reason); a rebooted leaf never sends a frame counter twice and its neighbour
//! keeps accepting it; the leaf's router watch counts only frames that passed security.

use std::collections::BTreeSet;
use std::net::Ipv6Addr;

use capture_file::SharedBuf;
use l2_15_4::frame::Security;
use l2_15_4::radio::Channel;
use l2_15_4::{Address, MacConfig, PanId, Repr};
use netif::time::{Duration, Instant};
use sim::mac_node::{MacNode, MacNodeConfig, NetworkKey, SecurityFlash, eui64};
use sim::smol::{Addressing, SensorConfig, SmolNode, SmolNodeConfig};
use sim::{
    CaptureMode, Fault, Link, MediumConfig, NodeId, RadioConfig, RadioId, SimConfig, Simulator,
    Topology,
};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    HardwareAddress, Icmpv6Packet, Icmpv6Repr, Ieee802154Address, IpProtocol, Ipv6Cidr,
    NdiscPrefixInfoFlags, NdiscPrefixInformation, NdiscRepr, NdiscRouterFlags, SixlowpanIphcPacket,
    SixlowpanIphcRepr, SixlowpanNextHeader,
};

const KEY: NetworkKey = NetworkKey([
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
]);
const OTHER_KEY: NetworkKey = NetworkKey([0x5a; 16]);
const PAN: PanId = PanId(0x5ec0);
const PREFIX: [u8; 8] = [0xfd, 0, 0, 0, 0, 0, 0, 7];

fn channel() -> Channel {
    Channel::new(15).unwrap()
}

fn link_local(eui: [u8; 8]) -> Ipv6Addr {
    let mut b = [0u8; 16];
    b[0] = 0xfe;
    b[1] = 0x80;
    b[8..].copy_from_slice(&eui);
    b[8] ^= 0x02;
    Ipv6Addr::from(b)
}

/// The 6LoWPAN payload of a router advertisement from the router with EUI-64 `eui`: default
/// router for 1800 s, the mesh prefix on-link and autonomous.
fn router_advertisement(eui: [u8; 8]) -> Vec<u8> {
    let src = link_local(eui);
    let dst = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let ll = Ieee802154Address::Extended(eui);
    let mut prefix = [0u8; 16];
    prefix[..8].copy_from_slice(&PREFIX);
    let ra = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
        hop_limit: 64,
        flags: NdiscRouterFlags::empty(),
        router_lifetime: smoltcp::time::Duration::from_secs(1800),
        reachable_time: smoltcp::time::Duration::ZERO,
        retrans_time: smoltcp::time::Duration::ZERO,
        lladdr: Some(HardwareAddress::Ieee802154(ll).into()),
        mtu: None,
        prefix_info: Some(NdiscPrefixInformation {
            prefix_len: 64,
            flags: NdiscPrefixInfoFlags::ON_LINK | NdiscPrefixInfoFlags::ADDRCONF,
            valid_lifetime: smoltcp::time::Duration::from_secs(3600),
            preferred_lifetime: smoltcp::time::Duration::from_secs(3600),
            prefix: Ipv6Cidr::new(Ipv6Addr::from(prefix), 64).address(),
        }),
    });
    let iphc = SixlowpanIphcRepr {
        src_addr: src,
        ll_src_addr: Some(ll),
        dst_addr: dst,
        ll_dst_addr: Some(Ieee802154Address::BROADCAST),
        next_header: SixlowpanNextHeader::Uncompressed(IpProtocol::Icmpv6),
        hop_limit: 255,
        ecn: None,
        dscp: None,
        flow_label: None,
    };
    let mut buf = vec![0u8; iphc.buffer_len() + ra.buffer_len()];
    let (h, i) = buf.split_at_mut(iphc.buffer_len());
    iphc.emit(&mut SixlowpanIphcPacket::new_unchecked(h));
    ra.emit(
        &src,
        &dst,
        &mut Icmpv6Packet::new_unchecked(i),
        &ChecksumCapabilities::default(),
    );
    buf
}

fn mac_node(eui: [u8; 8], seed: u32) -> MacNodeConfig {
    let mut mac = MacConfig::new(channel(), PAN, eui);
    mac.seed = seed;
    MacNodeConfig {
        mac,
        backlog: 32,
        keep_received: 256,
    }
}

/// Router (secured MacNode 0, sends RAs), secured SLAAC leaf (SmolNode 1, readings to an
/// off-link collector through the router), impostor without the key (MacNode 2 with the
/// router's EUI-64, heard by the leaf but not hearing it, so it never ACKs the leaf's
/// frames). The router dies at 20 s; the impostor then sends a frame from the router's
/// address every second. Before link security (main at 10e8a8f, where this ran without keys)
/// each of them counted as "heard from the router" and the leaf kept the dead router for
/// good: routers_unreachable stayed 0.
#[test]
fn frames_from_the_routers_address_without_the_key_do_not_keep_a_dead_router() {
    let router_eui = eui64(100);
    let mut sim = Simulator::new(
        SimConfig {
            medium: MediumConfig {
                seed: 5,
                ..MediumConfig::default()
            },
            ..SimConfig::default()
        },
        Topology::full_mesh(3, Link::good()),
    );
    sim.spawn(RadioConfig::default(), |id, r| {
        MacNode::new(id, mac_node(router_eui, 11), r).map(|n| n.secured(Some(KEY)))
    })
    .unwrap();
    let mut leaf = SmolNodeConfig::new(1, channel(), PAN, PREFIX);
    leaf.network_key = Some(KEY);
    leaf.addressing = Addressing::Slaac;
    leaf.sensor = Some(SensorConfig {
        collector: "2001:db8::1".parse().unwrap(),
        collector_port: 4000,
        local_port: 6000,
        period: Duration::from_secs(2),
        jitter: Duration::from_millis(200),
        payload_len: 16,
    });
    sim.spawn(RadioConfig::default(), |id, r| SmolNode::new(id, leaf, r))
        .unwrap();
    sim.spawn(RadioConfig::default(), |id, r| {
        MacNode::new(id, mac_node(router_eui, 13), r)
    })
    .unwrap();
    sim.medium().set_link(RadioId(1), RadioId(2), None);
    sim.schedule_fault(Instant::from_secs(20), Fault::PowerOff(NodeId(0)));
    let ra = router_advertisement(router_eui);
    for s in 0..120u64 {
        sim.run_until(Instant::from_secs(s) + Duration::from_millis(500));
        if s < 20 && s % 5 == 0 {
            sim.with_node::<MacNode, _>(NodeId(0), |n, _, _| n.send(Address::BROADCAST, &ra));
        }
        if s >= 20 {
            // The impostor: any frame from the router's address.
            sim.with_node::<MacNode, _>(NodeId(2), |n, _, _| {
                n.send(Address::BROADCAST, &[0x41, 0, 0])
            });
        }
    }
    let leaf = sim.node::<SmolNode>(NodeId(1)).unwrap();
    eprintln!("leaf: {:?}", leaf.counters());
    let sec = leaf.port().security_stats().unwrap();
    eprintln!("leaf security: {sec:?}");
    assert!(leaf.counters().readings_sent >= 5);
    assert!(sec.rx_secured >= 4, "the router's RAs were heard");
    assert!(sec.rx_unsecured >= 50, "the impostor's frames were refused");
    assert!(
        leaf.counters().routers_unreachable >= 1,
        "the dead router was never withdrawn: {:?}",
        leaf.counters()
    );
}

fn smol(i: u16, key: Option<NetworkKey>) -> SmolNodeConfig {
    let mut c = SmolNodeConfig::new(i, channel(), PAN, PREFIX);
    c.seed = 3;
    c.network_key = key;
    c
}

fn sim_of(n: usize, seed: u64) -> Simulator {
    Simulator::new(
        SimConfig {
            medium: MediumConfig {
                seed,
                ..MediumConfig::default()
            },
            ..SimConfig::default()
        },
        Topology::full_mesh(n, Link::good()),
    )
}

fn capture(sim: &mut Simulator) -> SharedBuf {
    let buf = SharedBuf::default();
    sim.medium()
        .start_capture(Box::new(buf.clone()), CaptureMode::Air)
        .unwrap();
    buf
}

/// (source EUI-64, frame counter) of every data frame in a capture; `None` counter: sent in
/// the clear.
fn air_frames(buf: &SharedBuf) -> Vec<([u8; 8], Option<u32>)> {
    let c = capture_file::read_15_4(&buf.bytes()).unwrap();
    let mut out = Vec::new();
    for f in &c.frames {
        let mpdu = &f.psdu[..f.psdu.len() - 2];
        let Ok((repr, _)) = Repr::parse_frame(mpdu) else {
            continue;
        };
        let Some(Address::Extended(src)) = repr.src_addr else {
            continue;
        };
        let counter = match repr.security {
            Some(Security::Aux(a)) => a.frame_counter,
            _ => None,
        };
        out.push((src, counter));
    }
    out
}

fn global(i: u16) -> Ipv6Addr {
    smol(i, None).global().unwrap()
}

/// Nodes 0 and 1 hold the key; 2 has none, 3 another key, 4 (a raw MAC node) the right key
/// but at key sequence 8 (key index 9, unknown to the others).
#[test]
fn secured_leaves_exchange_pings_and_udp_and_nodes_without_the_key_are_not_heard() {
    let mut sim = sim_of(5, 21);
    for (i, key) in [
        (0, Some(KEY)),
        (1, Some(KEY)),
        (2, None),
        (3, Some(OTHER_KEY)),
    ] {
        let c = smol(i, key);
        sim.spawn(RadioConfig::default(), |id, r| SmolNode::new(id, c, r))
            .unwrap();
    }
    sim.spawn(RadioConfig::default(), |id, r| {
        MacNode::new(id, mac_node(eui64(4), 17), r).map(|mut n| {
            let flash = SecurityFlash {
                stored: Some((8, 0)),
                writes: 1,
            };
            n.port_mut().enable_security(KEY, flash);
            n
        })
    })
    .unwrap();
    let air = capture(&mut sim);
    let a0 = global(0);
    sim.run_until(Instant::from_millis(100));
    sim.with_node::<SmolNode, _>(NodeId(1), |n, now, _| assert!(n.ping(now, a0, 1, 16)));
    sim.run_until(Instant::from_millis(600));
    sim.with_node::<SmolNode, _>(NodeId(1), |n, _, _| {
        assert!(n.send_udp(a0, 7, b"hello, secured mesh"))
    });
    sim.run_until(Instant::from_secs(2));
    let big: Vec<u8> = (0..1232u32).map(|i| (i * 7) as u8).collect();
    sim.with_node::<SmolNode, _>(NodeId(1), |n, _, _| assert!(n.send_udp(a0, 7, &big)));
    sim.run_until(Instant::from_secs(4));
    // The outsiders try the same.
    for i in [2, 3] {
        sim.with_node::<SmolNode, _>(NodeId(i), |n, now, _| assert!(n.ping(now, a0, 9, 16)));
        sim.run_for(Duration::from_millis(300));
    }
    for _ in 0..5 {
        sim.with_node::<MacNode, _>(NodeId(4), |n, _, _| {
            n.send(Address::Extended(eui64(0)), &[0x41, 0x60, 0, 0])
        });
        sim.run_for(Duration::from_millis(100));
    }
    sim.run_until(Instant::from_secs(8));
    sim.medium().finish_capture().unwrap();

    let n1 = sim.node::<SmolNode>(NodeId(1)).unwrap();
    assert!(n1.pings()[0].2.is_some(), "ping reply: {:?}", n1.pings());
    let echoed = sim
        .with_node::<SmolNode, _>(NodeId(1), |n, _, _| n.udp_app_received())
        .unwrap();
    let lens: Vec<usize> = echoed.iter().map(|(_, d)| d.len()).collect();
    assert_eq!(lens, [19, 1232], "both datagrams echoed");
    assert_eq!(echoed[0].1, b"hello, secured mesh");
    assert_eq!(echoed[1].1, big);
    let n0 = sim.node::<SmolNode>(NodeId(0)).unwrap();
    let n1 = sim.node::<SmolNode>(NodeId(1)).unwrap();
    for n in [n0, n1] {
        let c = n.counters();
        assert!(c.frames_out_recut > 0, "fragments re-cut: {c:?}");
        assert_eq!((c.frames_out_unfit, c.frames_out_invalid), (0, 0), "{c:?}");
        assert_eq!(n.port().counters().refused, 0, "every frame fitted");
        assert_eq!(n.port().counters().unsecured_dropped, 0);
    }
    for i in [2, 3] {
        let n = sim.node::<SmolNode>(NodeId(i)).unwrap();
        assert_eq!(n.pings()[0].2, None, "node {i} got an answer");
    }
    let s0 = n0.port().security_stats().unwrap();
    eprintln!("node 0 security: {s0:?}");
    assert!(
        s0.rx_secured >= 17,
        "NS, ping, two datagrams (16 fragments): {s0:?}"
    );
    assert!(s0.rx_unsecured >= 1, "the keyless node's frames: {s0:?}");
    assert!(s0.rx_mic_failures >= 1, "the other key's frames: {s0:?}");
    assert!(s0.rx_no_key >= 5, "the unknown key index: {s0:?}");
    assert_eq!(s0.rx_replays, 0, "{s0:?}");
    // On the air, nothing from the key holders went out in the clear.
    let frames = air_frames(&air);
    let mut from_holders = 0;
    for (src, counter) in &frames {
        if *src == eui64(0) || *src == eui64(1) {
            from_holders += 1;
            assert!(counter.is_some(), "a frame of {src:02x?} in the clear");
        }
    }
    assert!(from_holders > 30, "{from_holders}");
}

/// Node 1 sends a reading to node 0 every 500 ms; it reboots at 10 s and 20 s. Every frame
/// counter it put on the air is new, and node 0 accepts its readings after each reboot.
#[test]
fn a_rebooted_secured_leaf_never_reuses_a_frame_counter_and_stays_heard() {
    let mut sim = sim_of(2, 8);
    for i in 0..2u16 {
        let mut c = smol(i, Some(KEY));
        if i == 0 {
            c.sink_port = Some(4000);
        } else {
            c.sensor = Some(SensorConfig {
                collector: global(0),
                collector_port: 4000,
                local_port: 6000,
                period: Duration::from_millis(500),
                jitter: Duration::from_millis(50),
                payload_len: 60,
            });
        }
        sim.spawn(RadioConfig::default(), |id, r| SmolNode::new(id, c, r))
            .unwrap();
    }
    let air = capture(&mut sim);
    sim.schedule_fault(Instant::from_secs(10), Fault::Reboot(NodeId(1)));
    sim.schedule_fault(Instant::from_secs(20), Fault::Reboot(NodeId(1)));
    sim.run_until(Instant::from_secs(30));
    sim.medium().finish_capture().unwrap();

    let counters: Vec<u32> = air_frames(&air)
        .into_iter()
        .filter(|(src, _)| *src == eui64(1))
        .map(|(_, c)| c.expect("secured"))
        .collect();
    let distinct: BTreeSet<u32> = counters.iter().copied().collect();
    // A retransmission (no ACK) carries the same counter: the same frame again.
    let mut sent = Vec::new();
    for c in &counters {
        if sent.last() != Some(c) {
            sent.push(*c);
        }
    }
    assert_eq!(sent.len(), distinct.len(), "a counter sent twice: {sent:?}");
    let steps: Vec<(u32, u32)> = sent
        .windows(2)
        .filter(|w| w[1] != w[0] + 1)
        .map(|w| (w[0], w[1]))
        .collect();
    eprintln!(
        "{} frames from node 1, counters {}..={}, jumps {steps:?}",
        counters.len(),
        sent[0],
        sent[sent.len() - 1]
    );
    assert!(sent.windows(2).all(|w| w[1] > w[0]), "counters only rise");
    assert_eq!(steps.len(), 2, "one jump per reboot: {steps:?}");
    let n1 = sim.node::<SmolNode>(NodeId(1)).unwrap();
    assert_eq!(n1.reboots(), 2);
    let flash = n1.port().security_flash().unwrap();
    assert!(flash.writes >= 3, "{flash:?}");
    let n0 = sim.node::<SmolNode>(NodeId(0)).unwrap();
    let s0 = n0.port().security_stats().unwrap();
    eprintln!("node 0 security: {s0:?}");
    assert_eq!(s0.rx_replays, 0, "{s0:?}");
    // Readings after each reboot arrived (the leaf's sequence numbers restart at 0).
    let after = |t: u64| {
        n0.sink_log()
            .filter(|r| r.head[..2] == 1u16.to_be_bytes() && r.at > Instant::from_secs(t))
            .count()
    };
    assert!(after(21) >= 10, "after the second reboot: {}", after(21));
    assert!(after(11) - after(21) >= 10, "after the first reboot");
}

/// The raw MAC node: a reboot resumes its counter a persist step ahead of its flash.
#[test]
fn a_rebooted_mac_node_resumes_its_frame_counter_ahead_of_its_flash() {
    let mut sim = sim_of(2, 4);
    for i in 0..2u16 {
        sim.spawn(RadioConfig::default(), |id, r| {
            MacNode::new(id, mac_node(eui64(i), 5 + u32::from(i)), r).map(|n| n.secured(Some(KEY)))
        })
        .unwrap();
    }
    let mut before = Vec::new();
    for round in 0..3u64 {
        for _ in 0..5 {
            sim.with_node::<MacNode, _>(NodeId(0), |n, _, _| {
                n.send(Address::Extended(eui64(1)), b"reading")
            });
            sim.run_for(Duration::from_millis(50));
        }
        let s = sim
            .node::<MacNode>(NodeId(0))
            .unwrap()
            .port()
            .security()
            .unwrap();
        before.push(s.frame_counter());
        sim.schedule_fault(
            sim.now() + Duration::from_millis(1),
            Fault::Reboot(NodeId(0)),
        );
        sim.run_for(Duration::from_millis(10));
        let n = sim.node::<MacNode>(NodeId(0)).unwrap();
        assert_eq!(n.reboots() as u64, round + 1);
        let s = n.port().security().unwrap();
        assert!(
            s.frame_counter() >= before[round as usize] + 1024 / 2,
            "round {round}: resumed at {} after {}",
            s.frame_counter(),
            before[round as usize]
        );
    }
    sim.with_node::<MacNode, _>(NodeId(0), |n, _, _| {
        n.send(Address::Extended(eui64(1)), b"last")
    });
    sim.run_for(Duration::from_millis(100));
    let rx = sim.node::<MacNode>(NodeId(1)).unwrap();
    let payloads: Vec<&[u8]> = rx.received().map(|d| d.payload.as_slice()).collect();
    assert_eq!(payloads.len(), 16, "every frame heard, plaintext");
    assert_eq!(payloads[15], b"last");
    let s = rx.port().security_stats().unwrap();
    assert_eq!((s.rx_secured, s.rx_replays), (16, 0), "{s:?}");
}
