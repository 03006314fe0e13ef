//! Hostile backbone (issue 19, finding 1), end to end in simulation: the backbone host sends a
//! rogue router advertisement whose Prefix Information Option carries the mesh prefix (L=0,
//! then L=1), with the border router's backbone configured both ways (static, and SLAAC from
//! the host's RAs: the product default). The mesh stays on the network: readings keep
//! arriving, the host's pings to mesh nodes are answered, `eth0` takes no address or route in
//! the mesh prefix, the border router never solicits a mesh address on the backbone, and the
//! attack is counted and raised as an event.

use std::net::Ipv6Addr;

use ethernet::NdEvent;
use firmware::app::AppEvent;
use netif::{Duration, Instant, Prefix};
use sim::backbone::{End, HostRa};
use sixgate_sim::simnet::{BrNode, EthSide, World, WorldOpts};

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

fn delivered(w: &World, a: &Ipv6Addr) -> u64 {
    let host = w.br().unwrap().host().unwrap();
    host.readings_by_source().get(a).copied().unwrap_or(0)
}

/// Neighbor solicitations the border router sent on the cable, by target.
fn ns_targets(frames: &[sim::backbone::EthFrame]) -> Vec<Ipv6Addr> {
    frames
        .iter()
        .filter(|f| f.from == End::A && f.data.get(12..14) == Some(&[0x86, 0xdd]))
        .filter(|f| f.data.get(20) == Some(&58) && f.data.get(54) == Some(&135))
        .filter_map(|f| {
            let t: [u8; 16] = f.data.get(62..78)?.try_into().ok()?;
            Some(Ipv6Addr::from(t))
        })
        .collect()
}

fn rogue_ra_keeps_the_mesh(o: WorldOpts) {
    let slaac = o.config.backbone == firmware::config::Backbone::Slaac;
    let mut w = World::build(&o).unwrap();
    let mesh = Prefix::new(o.config.mesh_prefix_addr(), 64).unwrap();
    let br = w.br;
    w.sim.run_until(secs(30));
    let link = match w.br().unwrap().eth() {
        EthSide::Sim { link, .. } => link.clone(),
        EthSide::Tap(_) => unreachable!("simulated backbone"),
    };
    link.set_capture(true);
    let before: Vec<u64> = (0..w.nodes.len())
        .map(|k| delivered(&w, &global(&w, k)))
        .collect();
    // The rogue RA, as the finding sent it (L=0, A=1), then with L=1; repeated, as a
    // rogue router would.
    for (t, on_link) in [(31, false), (45, true), (60, false), (75, true)] {
        w.sim.run_until(secs(t));
        let ra = HostRa {
            on_link,
            ..HostRa::slaac(mesh.addr())
        };
        w.sim.with_node(br, |n: &mut BrNode, now, _| {
            assert!(n.host_mut().unwrap().send_ra(now, &ra));
        });
    }
    w.sim.run_until(secs(80));
    // The backbone host pings every node.
    let n = w.nodes.len();
    for k in 0..n {
        let g = global(&w, k);
        for seq in 0..4u16 {
            w.sim.with_node(br, |b: &mut BrNode, now, _| {
                assert!(b.host_mut().unwrap().ping(now, g, k as u16 * 100 + seq, 56));
            });
            w.sim.run_for(Duration::from_millis(300));
        }
    }
    w.sim.run_until(secs(120));
    let mode = if slaac { "slaac" } else { "static" };
    let globals: Vec<Ipv6Addr> = (0..n).map(|k| global(&w, k)).collect();
    // Readings kept arriving from every node.
    for (k, g) in globals.iter().enumerate() {
        let after = delivered(&w, g);
        assert!(
            after >= before[k] + 6,
            "{mode}: node {k}: {} readings before the rogue RAs, {after} after",
            before[k]
        );
    }
    // The host's pings to the mesh were answered.
    let host = w.br().unwrap().host().unwrap();
    for k in 0..n {
        let ok = host
            .pings()
            .iter()
            .filter(|(s, _, r)| *s / 100 == k as u16 && r.is_some())
            .count();
        // Hidden terminals in the star may cost an echo (as in e2e.rs).
        assert!(ok >= 3, "{mode}: host → node {k}: {ok} of 4 pings answered");
    }
    // The border router never solicited a mesh address on the backbone.
    let ns = ns_targets(&link.take_captured());
    assert!(
        !ns.iter().any(|t| mesh.contains(t)),
        "{mode}: NS for mesh addresses on the backbone: {ns:?}"
    );
    let app = w.br_mut().unwrap().app_mut().unwrap();
    let eth_i = app.eth_index();
    let eth0: Vec<Ipv6Addr> = app
        .stack()
        .iface(eth_i)
        .unwrap()
        .addrs()
        .iter()
        .map(|a| a.addr)
        .collect();
    assert!(
        !eth0.iter().any(|a| mesh.contains(a)),
        "{mode}: eth0 took an address in the mesh prefix: {eth0:?}"
    );
    let via_eth: Vec<_> = app
        .stack()
        .routes()
        .iter()
        .filter(|r| r.iface() == Some(eth_i) && mesh.contains(&r.prefix.addr()))
        .copied()
        .collect();
    assert!(
        via_eth.is_empty(),
        "{mode}: mesh routes via eth0: {via_eth:?}"
    );
    for g in &globals {
        let r = app
            .stack()
            .lookup_route(g, secs(120))
            .and_then(|r| r.iface());
        assert_eq!(r, Some(app.wpan_index()), "{mode}: {g}");
    }
    if slaac {
        // The product default still configured itself from the legitimate RAs.
        let b = sixgate_sim::simnet::br_backbone_addr(app.config());
        assert!(eth0.contains(&b), "{mode}: {eth0:?}");
    }
    // Visible: counted (each of the four RAs) and raised as an event.
    assert_eq!(app.eth().nd_stats().ra_prefix_conflicts, 4, "{mode}");
    let mut events = Vec::new();
    while let Some(e) = app.pop_event() {
        events.push(e);
    }
    assert!(
        events.contains(&AppEvent::Backbone(NdEvent::PrefixConflict(mesh))),
        "{mode}: {events:?}"
    );
    assert_eq!(app.status().drops, 0, "{mode}");
    assert!(app.pool_accounted());
}

#[test]
fn rogue_ra_with_the_mesh_prefix_keeps_the_mesh_static_backbone() {
    rogue_ra_keeps_the_mesh(WorldOpts::new());
}

#[test]
fn rogue_ra_with_the_mesh_prefix_keeps_the_mesh_slaac_backbone() {
    rogue_ra_keeps_the_mesh(WorldOpts::slaac());
}
