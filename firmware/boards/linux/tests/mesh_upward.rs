//! Upward through our mesh routers (issue 23, RFC 9008 §7, non-storing mode): a leaf's
//! packet to the backbone leaves its router in IPv6-in-IPv6 to the root with the RPL Option,
//! and the root takes it out and forwards the inner packet as the leaf sent it (one hop
//! limit less per IPv6 forwarder: the leaf's router and the root). A tunnel to the root that
//! does not come from a router of the DODAG, or holds no whole IPv6 packet, is dropped and
//! counted (`decap_dropped`).

use std::net::Ipv6Addr;

use firmware::app::App;
use l2_15_4::radio::{Channel, RadioEvent, RxFrame};
use netif::{Duration, Instant};
use sixgate_sim::simnet::router_node::RouterNode;
use sixgate_sim::simnet::{
    BrNode, COLLECTOR_PORT, HOST_ADDR, TopologyKind, World, WorldOpts, router_eui64,
};

fn secs(s: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(s)
}

fn line(routers: usize, nodes: usize, rfc8138: bool) -> World {
    let mut o = WorldOpts::new();
    o.routers = routers;
    o.nodes = nodes;
    o.topology = TopologyKind::Line;
    o.config.rpl.rfc8138 = rfc8138;
    World::build(&o).unwrap()
}

/// [`line`] with the backbone cable capturing (for [`backbone_packets`]).
fn capturing_line(routers: usize, nodes: usize, rfc8138: bool) -> World {
    let w = line(routers, nodes, rfc8138);
    w.br()
        .unwrap()
        .host()
        .unwrap()
        .port()
        .link()
        .set_capture(true);
    w
}

fn br(w: &World) -> &App<'static> {
    w.br().unwrap().app().unwrap()
}

fn router(w: &World, k: usize) -> &App<'static> {
    w.sim
        .node::<RouterNode>(w.routers[k])
        .unwrap()
        .app()
        .unwrap()
}

fn leaf_global(w: &World, k: usize) -> Option<Ipv6Addr> {
    w.node(k)?
        .addresses()
        .into_iter()
        .find(|a| !a.is_unicast_link_local())
}

fn addr(b: &[u8]) -> Ipv6Addr {
    Ipv6Addr::from(<[u8; 16]>::try_from(b).unwrap())
}

/// The IPv6 packets in the Ethernet frames the border router sent to the backbone host.
fn backbone_packets(w: &World) -> Vec<Vec<u8>> {
    let link = w.br().unwrap().host().unwrap().port().link().clone();
    link.take_captured()
        .into_iter()
        // EtherType 0x86dd (IPv6), from the border router (not the host's own MAC).
        .filter(|f| {
            f.data.get(12..14) == Some(&[0x86, 0xdd])
                && f.data.get(6..12) != Some(&[2, 0, 0x5e, 0, 0, 2])
        })
        .map(|f| f.data[14..].to_vec())
        .collect()
}

/// A leaf behind two routers (border router, r1, r2, the leaf in a line): its readings leave
/// r2 tunnelled to the root, cross r1 as the tunnel's outer packet, and reach the backbone
/// host as the leaf sent them: source the leaf, destination the host, UDP right after the
/// IPv6 header (no RPL Option, no tunnel on the backbone), hop limit 64 − 2 (r2 forwarded
/// the packet into the tunnel, the root out of it; r1 forwarded only the outer packet). The
/// border router counts one decapsulation per reading.
/// Readings the backbone host's collector has from `leaf`.
fn readings_from(w: &World, leaf: &Ipv6Addr) -> u64 {
    w.br()
        .unwrap()
        .host()
        .unwrap()
        .readings_by_source()
        .get(leaf)
        .copied()
        .unwrap_or(0)
}

#[test]
fn a_leafs_readings_leave_the_tunnel_at_the_root_as_the_leaf_sent_them() {
    let mut w = capturing_line(2, 1, false);
    w.sim.run_until(secs(90));
    let leaf = leaf_global(&w, 0).expect("the leaf has a global address from r2's RA");
    let readings = readings_from(&w, &leaf);
    assert!(readings >= 3, "{readings} readings from {leaf}");
    let up: Vec<Vec<u8>> = backbone_packets(&w)
        .into_iter()
        .filter(|p| p.get(8..24).map(addr) == Some(leaf))
        .collect();
    assert!(
        up.len() as u64 >= readings,
        "{} packets from the leaf",
        up.len()
    );
    for p in &up {
        assert_eq!(addr(&p[24..40]), HOST_ADDR, "inner destination");
        assert_eq!(p[6], 17, "UDP right after the IPv6 header: {p:02x?}");
        assert_eq!(p[7], 62, "hop limit: 64, less r2 and the root: {p:02x?}");
        assert_eq!(u16::from_be_bytes([p[42], p[43]]), COLLECTOR_PORT);
    }
    let root = br(&w).root().stats();
    assert!(u64::from(root.decapsulated) >= readings, "{root:?}");
    assert_eq!(root.decap_dropped, 0, "{root:?}");
    let r2 = router(&w, 1).wpan().stats();
    assert!(r2.tx_tunnelled >= readings, "r2 {r2:?}");
    assert_eq!(r2.tx_tunnel_failed, 0, "r2 {r2:?}");
    let r1 = router(&w, 0).wpan().stats();
    assert_eq!(r1.tx_tunnelled, 0, "r1 tunnels nothing of its own: {r1:?}");
    assert_eq!(r1.rx_rpl_rank_error, 0, "r1 {r1:?}");
    // A 1280-byte echo reply from the leaf is 1328 bytes in r2's tunnel: r1 passes it on
    // (the mesh carries it, as it carries the root's tunnels down), and the root takes the
    // whole 1280-byte packet out.
    let br_node = w.br;
    for i in 0..2u16 {
        w.sim
            .with_node(br_node, |n: &mut BrNode, now, _| {
                assert!(n.host_mut().unwrap().ping(now, leaf, 500 + i, 1232))
            })
            .unwrap();
        w.sim.run_for(Duration::from_secs(4));
    }
    let pings = w.br().unwrap().host().unwrap().pings().to_vec();
    assert_eq!(
        pings.iter().filter(|p| p.2.is_some()).count(),
        2,
        "{pings:?}"
    );
}

/// The routers' own packets up (echo replies to the backbone host) carry the RPL Option in a
/// hop-by-hop header of their own (RFC 9008: no tunnel from an RPL-aware node, the root is
/// on their way out), which the backbone host skips (option type 0x23). r2's leaves it with
/// r2's rank (768) and r1, forwarding it up, rewrites it with its own (512, RFC 6550 §11.2):
/// on the backbone both say 512.
#[test]
fn a_routers_own_packets_up_carry_its_rpl_option_and_no_tunnel() {
    let mut w = capturing_line(2, 0, false);
    w.sim.run_until(secs(60));
    let br_node = w.br;
    for k in 0..2 {
        let r = firmware::root::mesh_address(router(&w, k).config());
        for i in 0..3u16 {
            w.sim
                .with_node(br_node, |n: &mut BrNode, now, _| {
                    assert!(n.host_mut().unwrap().ping(now, r, 10 * k as u16 + i, 56))
                })
                .unwrap();
            w.sim.run_for(Duration::from_secs(2));
        }
        let replies: Vec<Vec<u8>> = backbone_packets(&w)
            .into_iter()
            .filter(|p| p.get(8..24).map(addr) == Some(r))
            .collect();
        assert!(replies.len() >= 3, "r{}: {replies:?}", k + 1);
        for p in &replies {
            // Next header: hop-by-hop; its first option the RPL Option (0x23, length 4),
            // O = 0, instance 30, rank 512 (r1's); then ICMPv6 (58).
            assert_eq!(p[6], 0, "{p:02x?}");
            assert_eq!(&p[40..48], &[58, 0, 0x23, 4, 0, 30, 2, 0], "{p:02x?}");
        }
        let s = router(&w, k).wpan().stats();
        assert_eq!(
            (s.tx_tunnelled, s.rx_rpl_rank_error),
            (0, 0),
            "r{}: {s:?}",
            k + 1
        );
    }
    let pings = w.br().unwrap().host().unwrap().pings().to_vec();
    assert_eq!(
        pings.iter().filter(|p| p.2.is_some()).count(),
        6,
        "{pings:?}"
    );
}

/// Is `tshark` here? Without it a test says so and passes (unless `CI=true`).
fn have_tshark() -> bool {
    let ok = std::process::Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "tshark is required when CI=true"
        );
        eprintln!("skipping: `tshark` not found (install tshark)");
    }
    ok
}

/// With RFC 8138 on, the tunnel up is 6LoRH (page 1: an RPI-6LoRH, an IP-in-IP-6LoRH with
/// r1's address against the root's, the inner packet's IPHC) and the leaf's readings still
/// arrive. Stock tshark (4.0) reads r1's frames once told the PAN carries 6LoWPAN (its
/// heuristic takes no paging dispatch first): page 1, the RPL Option up (O = 0) with instance
/// 30 and r1's rank 512, the tunnel's hop limit 64, inside the leaf's packet to the host with
/// one hop limit spent (r1's), nothing malformed. (tshark 4.0 does not rebuild the outer
/// header, and prints a compressed encapsulator as if it were 16 bytes.)
#[test]
fn with_rfc8138_the_tunnel_up_is_6lorh_and_tshark_reads_it() {
    let mut w = line(1, 1, true);
    let dir = std::env::temp_dir().join(format!("sixgate-mesh-upward-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("up.pcapng");
    w.br_mut()
        .unwrap()
        .record_to(cap.clone(), "mesh_upward", 0)
        .unwrap();
    w.sim.run_until(secs(60));
    w.br_mut().unwrap().finish_recording().unwrap();
    let leaf = leaf_global(&w, 0).expect("the leaf has a global address");
    let readings = readings_from(&w, &leaf);
    assert!(readings >= 2, "{readings} readings from {leaf}");
    assert!(br(&w).root().stats().decapsulated >= 2);
    assert!(router(&w, 0).wpan().compress_options().rfc8138);
    let r1 = router(&w, 0).wpan().stats();
    assert!(r1.tx_tunnelled >= readings, "{r1:?}");
    if !have_tshark() {
        return;
    }
    let pan = format!("wpan.panid==0x{:04x},6lowpan", br(&w).config().pan_id);
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&cap)
        .args(["-d", &pan])
        .args(["-Y", "wpan.src64 == 02:00:5e:ff:fe:00:10:01 && udp"])
        .args(["-T", "fields"])
        .args(["-e", "6lowpan.pagenb", "-e", "6lowpan.6loRH.bitO"])
        .args(["-e", "6lowpan.rpl.instance", "-e", "6lowpan.sender.rank"])
        .args([
            "-e",
            "6lowpan.rhhop.limit",
            "-e",
            "ipv6.src",
            "-e",
            "ipv6.dst",
        ])
        .args(["-e", "ipv6.hlim", "-e", "_ws.malformed"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty(), "no reading from r1 in {}", cap.display());
    let want = format!("0x0001\t0\t0x1e\t0x0200\t0x40\t{leaf}\t{HOST_ADDR}\t63\t");
    for l in &lines {
        assert_eq!(*l, want, "r1's reading as tshark reads it");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- hostile tunnels at the root ---------------------------------------------------------

/// An attacker's extended address (locally administered).
const EVIL: [u8; 8] = [0x02, 0xee, 0xee, 0xee, 0x00, 0x00, 0x00, 0x01];

/// A data frame (IEEE 802.15.4-2006 §7.2.1.1: type 001, PAN ID compression, extended
/// destination and source, version 2006) from `src` to `dst` in `pan`: FC, sequence number,
/// PAN, destination and source (little-endian), `payload`, FCS (CRC-16/KERMIT).
fn frame(src: [u8; 8], dst: [u8; 8], pan: u16, seq: u8, payload: &[u8]) -> Vec<u8> {
    let fc: u16 = 0b001 | 1 << 6 | 0b11 << 10 | 0b01 << 12 | 0b11 << 14;
    let mut f = fc.to_le_bytes().to_vec();
    f.push(seq);
    f.extend_from_slice(&pan.to_le_bytes());
    f.extend(dst.iter().rev());
    f.extend(src.iter().rev());
    f.extend_from_slice(payload);
    let c = crc::Crc::<u16>::new(&crc::CRC_16_KERMIT).checksum(&f);
    f.extend_from_slice(&c.to_le_bytes());
    f
}

/// An IPv6 header (RFC 8200 §3): version 6, no class or label, `plen`, `next`, hop limit 64.
fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, next: u8, plen: u16) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&plen.to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    h
}

/// A UDP reading from `src` to the collector, with its checksum (RFC 8200 §8.1).
fn reading(src: Ipv6Addr) -> Vec<u8> {
    let body = b"evil";
    let len = 8 + body.len() as u16;
    let mut u = Vec::new();
    u.extend_from_slice(&42001u16.to_be_bytes());
    u.extend_from_slice(&COLLECTOR_PORT.to_be_bytes());
    u.extend_from_slice(&len.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(body);
    let mut acc: u64 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            acc += u64::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
    };
    add(&src.octets());
    add(&HOST_ADDR.octets());
    add(&u32::from(len).to_be_bytes());
    add(&[0, 0, 0, 17]);
    add(&u);
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    u[6..8].copy_from_slice(&(!(acc as u16)).to_be_bytes());
    let mut p = ipv6(src, HOST_ADDR, 17, len);
    p.extend_from_slice(&u);
    p
}

/// `inner` in IPv6-in-IPv6 (next header 41) from `outer_src` to the root, uncompressed
/// (RFC 4944 §5.1: the IPv6 dispatch 0x41, then the datagram as is).
fn tunnelled(outer_src: Ipv6Addr, root: Ipv6Addr, inner: &[u8]) -> Vec<u8> {
    let mut p = vec![0x41];
    p.extend(ipv6(outer_src, root, 41, inner.len() as u16));
    p.extend_from_slice(inner);
    p
}

/// Hands `psdu` to the border router's radio path as received now.
fn inject(w: &mut World, psdu: &[u8]) {
    let br = w.br;
    w.sim
        .with_node(br, |n: &mut BrNode, now, radio| {
            let rx = RxFrame {
                psdu,
                rssi: -40,
                lqi: 255,
                timestamp: now,
                channel: Channel::new(26).unwrap(),
                fcs_ok: None,
            };
            n.app_mut()
                .unwrap()
                .on_radio_event(now, RadioEvent::Received(rx), radio);
        })
        .unwrap();
    w.sim.run_for(Duration::from_millis(200));
}

fn with_iid(prefix: Ipv6Addr, eui: [u8; 8]) -> Ipv6Addr {
    let mut o = prefix.octets();
    o[8..].copy_from_slice(&eui);
    o[8] ^= 0x02;
    Ipv6Addr::from(o)
}

/// Tunnels to the root that are not a DODAG router's, or hold no whole IPv6 packet, are
/// dropped and counted; a whole one from a router of the DODAG goes through (the control).
#[test]
fn a_tunnel_to_the_root_from_outside_the_dodag_or_with_a_broken_inner_packet_is_dropped() {
    let mut w = capturing_line(1, 0, false);
    w.sim.run_until(secs(40));
    let cfg = br(&w).config().clone();
    let root = firmware::root::mesh_address(&cfg);
    let prefix = cfg.mesh_prefix_addr();
    let r1_eui = router_eui64(1);
    let r1 = firmware::root::mesh_address(router(&w, 0).config());
    assert!(
        br(&w).topology().any(|n| n.addr == r1),
        "r1 is a target of the DODAG"
    );
    let evil = with_iid(prefix, EVIL);
    let mut seq = 0u8;
    let mut send = |w: &mut World, src_ll: [u8; 8], payload: Vec<u8>| {
        seq = seq.wrapping_add(1);
        inject(w, &frame(src_ll, cfg.eui64, cfg.pan_id, seq, &payload));
    };
    let stats = |w: &World| br(w).root().stats();
    let evil_readings = |w: &World| {
        backbone_packets(w)
            .into_iter()
            .filter(|p| p.get(8..24).map(addr) == Some(evil))
            .count()
    };

    // From a neighbour of the mesh prefix that is no router of the DODAG (no DAO target):
    // a whole reading inside, from its own address.
    let before = stats(&w);
    send(&mut w, EVIL, tunnelled(evil, root, &reading(evil)));
    let after = stats(&w);
    assert_eq!(after.decap_dropped, before.decap_dropped + 1, "{after:?}");
    assert_eq!(after.decapsulated, before.decapsulated, "{after:?}");
    assert_eq!(
        evil_readings(&w),
        0,
        "the inner packet reached the backbone"
    );

    // From r1 (spoofed): inner packets that are not whole.
    let whole = reading(r1);
    let mut long = whole.clone();
    long[5] += 20; // payload length past the end
    let mut short = whole.clone();
    short[5] -= 4; // payload length short of the end
    let mut v4 = whole.clone();
    v4[0] = 0x45;
    let cut = whole[..30].to_vec(); // not even an IPv6 header
    for (what, inner) in [
        ("long", long),
        ("short", short),
        ("version 4", v4),
        ("cut", cut),
    ] {
        let before = stats(&w);
        send(&mut w, r1_eui, tunnelled(r1, root, &inner));
        let after = stats(&w);
        assert_eq!(
            (after.decap_dropped, after.decapsulated),
            (before.decap_dropped + 1, before.decapsulated),
            "{what}: {after:?}"
        );
    }

    // The control: the same tunnel from r1 with the whole reading inside is taken out and
    // its packet forwarded to the backbone.
    let before = stats(&w);
    let _ = backbone_packets(&w);
    send(&mut w, r1_eui, tunnelled(r1, root, &whole));
    let after = stats(&w);
    assert_eq!(after.decapsulated, before.decapsulated + 1, "{after:?}");
    assert_eq!(after.decap_dropped, before.decap_dropped, "{after:?}");
    let out: Vec<Vec<u8>> = backbone_packets(&w)
        .into_iter()
        .filter(|p| p.get(8..24).map(addr) == Some(r1) && p.get(6) == Some(&17))
        .collect();
    assert_eq!(out.len(), 1, "the control reading on the backbone");
    assert_eq!(out[0][7], 63, "hop limit: 64, less the root");
}
