//! End to end in simulation (seeded): the border router between a mesh of smoltcp nodes (an
//! IPv6/6LoWPAN stack we did not write) over our soft-MAC, and a smoltcp host on the
//! simulated backbone. Readings, replies, pings both ways, 1280-byte datagrams both ways,
//! Packet Too Big and Time Exceeded, 10 % frame loss with every loss accounted, and a reboot.
//! The tests that cross the backbone run with both backbone configurations: a static address
//! and SLAAC from the backbone host's router advertisements (the product default; the
//! `_slaac` twins).

use std::net::Ipv6Addr;

use netif::{Duration, Instant};
use sim::Fault;
use sixgate_sim::simnet::{BrNode, ECHO_PORT, HOST_ADDR, World, WorldOpts, br_backbone_addr};
use smoltcp::wire::Icmpv6Message;

fn secs(s: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(s)
}

fn global(w: &World, k: usize) -> Ipv6Addr {
    w.node(k)
        .unwrap()
        .addresses()
        .into_iter()
        .find(|a| !a.is_unicast_link_local())
        .unwrap_or_else(|| panic!("node {k} has no global address"))
}

fn host_do<R>(w: &mut World, f: impl FnOnce(&mut sim::backbone::BackboneHost, Instant) -> R) -> R {
    let br = w.br;
    w.sim
        .with_node(br, |n: &mut BrNode, now, _r| f(n.host_mut().unwrap(), now))
        .unwrap()
}

fn delivered(w: &World, a: &Ipv6Addr) -> u64 {
    w.br()
        .unwrap()
        .host()
        .unwrap()
        .readings_by_source()
        .get(a)
        .copied()
        .unwrap_or(0)
}

#[test]
fn readings_replies_and_gleaning() {
    readings_replies_and_gleaning_with(WorldOpts::new());
}

#[test]
fn readings_replies_and_gleaning_slaac() {
    readings_replies_and_gleaning_with(WorldOpts::slaac());
}

fn readings_replies_and_gleaning_with(o: WorldOpts) {
    let mut w = World::build(&o).unwrap();
    w.sim.run_until(secs(120));
    let app = w.br().unwrap().app().unwrap();
    let known: Vec<Ipv6Addr> = app.nodes().map(|n| n.addr).collect();
    for k in 0..w.nodes.len() {
        let g = global(&w, k);
        assert!(
            known.contains(&g),
            "node {k} ({g}) neither registered nor gleaned"
        );
        let n = w.node(k).unwrap().counters();
        assert!(n.readings_sent >= 10, "node {k} sent {}", n.readings_sent);
        // The last reading may still be in flight.
        assert!(delivered(&w, &g) + 1 >= n.readings_sent, "node {k}: {n:?}");
        assert!(n.replies_received + 2 >= n.readings_sent, "node {k}: {n:?}");
    }
    let s = app.status();
    // Devices, not addresses (issue 20 #14): 8 nodes, each with a gleaned link-local and
    // global address.
    assert_eq!(s.gleaned, 8, "the 8 nodes");
    assert_eq!(
        app.nodes().count(),
        16,
        "link-local and global address of 8 nodes"
    );
    assert_eq!(s.drops, 0);
    assert!(app.pool_accounted());
}

#[test]
fn ping_both_ways_and_1280_byte_udp() {
    ping_both_ways_and_1280_byte_udp_with(WorldOpts::new());
}

#[test]
fn ping_both_ways_and_1280_byte_udp_slaac() {
    ping_both_ways_and_1280_byte_udp_with(WorldOpts::slaac());
}

fn ping_both_ways_and_1280_byte_udp_with(o: WorldOpts) {
    let mut w = World::build(&o).unwrap();
    w.sim.run_until(secs(30));
    let n = w.nodes.len();
    for k in 0..n {
        let g = global(&w, k);
        for seq in 0..4u16 {
            host_do(&mut w, |h, now| {
                assert!(h.ping(now, g, k as u16 * 100 + seq, 56))
            });
            w.sim.run_for(Duration::from_millis(300));
        }
        let len = 1232;
        w.sim
            .with_node(w.nodes[k], |node: &mut sim::smol::SmolNode, now, _| {
                assert!(node.ping(now, HOST_ADDR, 7, 56));
            });
        w.sim.run_for(Duration::from_millis(500));
        // 1232-byte UDP payload (1280-byte datagram, fragmented on the mesh) to the node's
        // echo service and back.
        // Hidden terminals (see below) can cost a datagram; retried like the other direction.
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + k) as u8).collect();
        let mut ok = false;
        for _ in 0..3 {
            host_do(&mut w, |h, _| assert!(h.send_udp(g, ECHO_PORT, &data)));
            w.sim.run_for(Duration::from_secs(3));
            let got = host_do(&mut w, |h, _| h.udp_received());
            if got.iter().any(|d| d.data == data) {
                ok = true;
                break;
            }
            let a = w.br().unwrap().app().unwrap();
            eprintln!(
                "node {k}: attempt lost; border router {:?}; node MAC {:?}",
                a.wpan().stats(),
                w.node(k).unwrap().port().mac_counters()
            );
        }
        assert!(ok, "node {k}: no 1232-byte echo back in 3 attempts");
        // And from the node to the backbone host's echo service. Leaves of a star are hidden
        // terminals to each other: a fragment can exhaust its MAC retries in a collision with
        // another node's reading (counted as no-ACK at that node), and then the datagram is
        // lost, as on a real mesh. An application retries; so does this test, at most 3 times.
        let up: Vec<u8> = (0..len).map(|i| (i * 3 + k) as u8).collect();
        let mut ok = false;
        for _ in 0..3 {
            w.sim
                .with_node(w.nodes[k], |node: &mut sim::smol::SmolNode, _, _| {
                    assert!(node.send_udp(HOST_ADDR, ECHO_PORT, &up));
                });
            w.sim.run_for(Duration::from_secs(3));
            let back = w.node_mut(k).unwrap().udp_app_received();
            if back.iter().any(|(_, d)| *d == up) {
                ok = true;
                break;
            }
        }
        assert!(
            ok,
            "node {k}: no 1232-byte echo from the backbone in 3 attempts"
        );
    }
    let host = w.br().unwrap().host().unwrap();
    for k in 0..n {
        let ok = host
            .pings()
            .iter()
            .filter(|(s, _, r)| *s / 100 == k as u16 && r.is_some())
            .count();
        // Hidden terminals (see above) may cost an echo; never more than one in four here.
        assert!(ok >= 3, "host → node {k}: {ok} of 4 pings answered");
        let node = w.node(k).unwrap();
        assert!(
            node.pings().iter().any(|(_, _, r)| r.is_some()),
            "node {k} → host ping answered"
        );
    }
    assert!(w.br().unwrap().app().unwrap().pool_accounted());
}

#[test]
fn packet_too_big_and_time_exceeded_from_the_border_router() {
    packet_too_big_and_time_exceeded_from_the_border_router_with(WorldOpts::new());
}

#[test]
fn packet_too_big_and_time_exceeded_from_the_border_router_slaac() {
    packet_too_big_and_time_exceeded_from_the_border_router_with(WorldOpts::slaac());
}

fn packet_too_big_and_time_exceeded_from_the_border_router_with(o: WorldOpts) {
    let mut w = World::build(&o).unwrap();
    w.sim.run_until(secs(30));
    let g = global(&w, 0);
    // 1400-byte datagram toward the mesh: the 1280-byte link cannot take it.
    let big = vec![0x5a; 1400 - 48];
    host_do(&mut w, |h, _| assert!(h.send_udp(g, ECHO_PORT, &big)));
    w.sim.run_for(Duration::from_secs(1));
    // Hop limit 1: expires at the border router.
    host_do(&mut w, |h, _| {
        h.set_hop_limit(Some(1));
        assert!(h.send_udp(g, ECHO_PORT, b"traceroute"));
    });
    w.sim.run_for(Duration::from_secs(1));
    let host = w.br().unwrap().host().unwrap();
    let errs: Vec<_> = host.icmp_errors().collect();
    let ptb = errs
        .iter()
        .find(|e| e.msg == Icmpv6Message::PktTooBig)
        .expect("Packet Too Big");
    assert_eq!(ptb.param, 1280);
    let te = errs
        .iter()
        .find(|e| e.msg == Icmpv6Message::TimeExceeded)
        .expect("Time Exceeded");
    assert_eq!(te.code, 0);
    // Both come from the border router's backbone address.
    assert_eq!(ptb.from, br_backbone_addr(&o.config));
    assert_eq!(te.from, br_backbone_addr(&o.config));
    let app = w.br().unwrap().app().unwrap();
    let eth = app.iface_stats(app.eth_index()).unwrap();
    assert_eq!(eth.dropped(netif::DropReason::TooBig), 1);
    assert_eq!(eth.dropped(netif::DropReason::HopLimit), 1);
}

#[test]
fn ten_percent_loss_every_lost_reading_is_accounted() {
    let mut o = WorldOpts::new();
    o.loss = 0.10;
    o.seed = 7;
    let mut w = World::build(&o).unwrap();
    w.sim.run_until(secs(300));
    let mut sent = 0;
    let mut got = 0;
    let mut node_mac_failures = 0u64;
    for k in 0..w.nodes.len() {
        let g = global(&w, k);
        let n = w.node(k).unwrap();
        sent += n.counters().readings_sent;
        got += delivered(&w, &g);
        let m = n.port().mac_counters();
        node_mac_failures += u64::from(m.tx_no_ack + m.tx_channel_access_failures);
    }
    let app = w.br().unwrap().app().unwrap();
    let ws = app.wpan().stats();
    let sx = app.wpan().reassembler().stats();
    let wd = app.iface_stats(app.wpan_index()).unwrap().dropped_total();
    let ed = app.iface_stats(app.eth_index()).unwrap().dropped_total();
    let br_counted =
        ws.rx_bad_frame + ws.rx_6lowpan_drop + ws.rx_no_buffer + sx.total_drops() + wd + ed;
    let in_flight = w.nodes.len() as u64;
    assert!(sent > 200, "{sent}");
    assert!(got * 100 >= sent * 90, "delivered {got} of {sent}");
    assert!(
        sent - got <= node_mac_failures + br_counted + in_flight,
        "lost {} readings, accounted {} node MAC failures + {} border-router drops",
        sent - got,
        node_mac_failures,
        br_counted
    );
    // Every frame the border router's MAC acknowledged reached 6LoWPAN or was a counted
    // duplicate.
    let mc = app.wpan().mac().counters();
    assert!(mc.rx_delivered as u64 >= ws.rx_frames);
    assert!(app.pool_accounted());
}

#[test]
fn reboot_keeps_configuration_and_traffic_resumes() {
    reboot_keeps_configuration_and_traffic_resumes_with(WorldOpts::new());
}

#[test]
fn reboot_keeps_configuration_and_traffic_resumes_slaac() {
    reboot_keeps_configuration_and_traffic_resumes_with(WorldOpts::slaac());
}

fn reboot_keeps_configuration_and_traffic_resumes_with(o: WorldOpts) {
    let mut w = World::build(&o).unwrap();
    w.sim.run_until(secs(40));
    let br = w.br;
    w.sim.with_node(br, |n: &mut BrNode, _, _| {
        n.app_mut().unwrap().set_tx_power(-8).unwrap();
    });
    w.sim.run_for(Duration::from_secs(1));
    w.sim.schedule_fault(secs(60), Fault::Reboot(br));
    w.sim.run_until(secs(61));
    let b = w.br().unwrap();
    assert_eq!(b.boots(), 2);
    assert_eq!(b.load_outcome(), "loaded");
    assert_eq!(b.app().unwrap().config().tx_power_dbm, -8);
    let before: Vec<u64> = (0..w.nodes.len())
        .map(|k| delivered(&w, &global(&w, k)))
        .collect();
    w.sim.run_until(secs(120));
    let app = w.br().unwrap().app().unwrap();
    assert_eq!(
        app.status().gleaned,
        8,
        "every node known again after the reboot (devices, issue 20 #14)"
    );
    for (k, b) in before.iter().enumerate() {
        let a = delivered(&w, &global(&w, k));
        assert!(
            a >= b + 4,
            "node {k}: {b} readings before, {a} after the reboot"
        );
    }
}

#[test]
fn same_seed_same_run() {
    let run = || {
        let mut w = World::build(&WorldOpts::new()).unwrap();
        w.sim.run_until(secs(40));
        let app = w.br().unwrap().app().unwrap();
        (
            format!("{:?}", app.wpan().mac().counters()),
            format!("{:?}", app.iface_stats(app.wpan_index())),
        )
    };
    assert_eq!(run(), run());
}

#[test]
fn prefix_channel_and_pan_changes_apply_everywhere_and_persist() {
    use firmware::app::{AppEvent, ConfigItem};
    let mut w = World::build(&WorldOpts::new()).unwrap();
    w.sim.run_until(secs(30));
    let br = w.br;
    let new: Ipv6Addr = "2001:db8:2::".parse().unwrap();
    let old_version = w.br().unwrap().app().unwrap().config().abro_version;
    let ras_before = w.br().unwrap().app().unwrap().lbr().stats().tx_ra_multicast;
    w.sim.with_node(br, |n: &mut BrNode, now, _| {
        n.app_mut().unwrap().set_prefix(now, new, 64).unwrap();
    });
    w.sim.run_for(Duration::from_secs(1));
    {
        let app = w.br_mut().unwrap().app_mut().unwrap();
        assert_eq!(app.config().mesh_prefix_addr(), new);
        assert_eq!(app.config().abro_version, old_version.wrapping_add(1));
        let ctx = app.wpan().contexts().get(0).unwrap();
        assert_eq!(ctx.prefix[..8], new.octets()[..8]);
        let wpan = app.stack().iface(app.wpan_index()).unwrap();
        assert!(
            wpan.addrs()
                .iter()
                .any(|a| a.addr.octets()[..8] == new.octets()[..8])
        );
        assert!(
            !wpan.addrs().iter().any(|a| a.addr.segments()[2] == 1),
            "the old mesh address is gone"
        );
        let mut events = Vec::new();
        while let Some(e) = app.pop_event() {
            events.push(e);
        }
        assert!(events.contains(&AppEvent::Config(ConfigItem::Prefix(
            new.octets()[..8].try_into().unwrap()
        ))));
    }
    // RAs restart at once with the new prefix (smoltcp's SLAAC keeps one prefix, so the
    // simulated nodes keep their old addresses until it expires: not checked here).
    w.sim.run_until(secs(60));
    let ras_after = w.br().unwrap().app().unwrap().lbr().stats().tx_ra_multicast;
    assert!(
        ras_after >= ras_before + 2,
        "initial RA burst after the change"
    );
    // Channel and PAN ID: applied to the MAC and the configuration, with events.
    w.sim.with_node(br, |n: &mut BrNode, now, radio| {
        let app = n.app_mut().unwrap();
        app.set_channel(now, 15, radio).unwrap();
        app.set_pan_id(now, 0x1234, radio).unwrap();
        assert!(app.set_channel(now, 27, radio).is_err());
    });
    let app = w.br().unwrap().app().unwrap();
    assert_eq!(app.wpan().mac().config().channel.number(), 15);
    assert_eq!(app.wpan().mac().config().pan_id.0, 0x1234);
    assert_eq!(app.config().channel, 15);
    // The stored configuration follows: a reboot comes back with all three.
    w.sim.schedule_fault(secs(61), Fault::Reboot(br));
    w.sim.run_until(secs(62));
    let c = w.br().unwrap().app().unwrap().config().clone();
    assert_eq!(
        (c.mesh_prefix_addr(), c.channel, c.pan_id),
        (new, 15, 0x1234)
    );
}
