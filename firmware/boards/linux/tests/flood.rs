//! A modest flood toward the mesh (issue 19, finding 2), end to end in simulation: the
//! backbone host sends ~200 UDP packets/s to random addresses in the mesh prefix, spread over
//! 8 DSCPs. The mesh's uplink (the nodes' readings to the backbone collector) must deliver at
//! least 90 % of what it delivers without the flood, measured in the same run; the flood's
//! packets are refused with Destination Unreachable (address unreachable) instead of being
//! sent blind over the radio, and never hold the pool buffers receive needs.

use std::net::Ipv6Addr;

use netif::{DropReason, Duration, Instant};
use sixgate_sim::simnet::{BrNode, World, WorldOpts};

fn secs(s: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(s)
}

/// Readings the collector received and readings the nodes sent (the nodes' period has a
/// random jitter, so a minute's count varies: the uplink is judged by the share delivered).
fn readings(w: &World) -> (u64, u64) {
    let host = w.br().unwrap().host().unwrap();
    let sent = (0..w.nodes.len())
        .map(|k| w.node(k).unwrap().counters().readings_sent)
        .sum();
    (host.readings_by_source().values().sum(), sent)
}

/// DSCPs that fall in 7 distinct classes of the default map (and DF twice).
const DSCPS: [u8; 8] = [8, 0, 18, 26, 40, 46, 48, 56];

#[test]
fn flood_to_random_mesh_addresses_keeps_the_uplink() {
    let o = WorldOpts::new();
    let mut w = World::build(&o).unwrap();
    let br = w.br;
    let mesh = o.config.mesh_prefix;
    let via = o.config.eth_mac;
    // Warm up (registrations, first readings), then a quiet minute, then a flooded minute,
    // both run the same way (the host polled every 10 ms).
    w.sim.run_until(secs(30));
    // xorshift64, seeded: the same flood every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut sent, mut accepted) = (0u64, 0u64);
    let mut minute = |w: &mut World, until: Instant, flood: bool| {
        while w.sim.now() < until {
            w.sim.with_node(br, |b: &mut BrNode, now, _| {
                for _ in 0..if flood { 2 } else { 0 } {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let mut a = [0u8; 16];
                    a[..8].copy_from_slice(&mesh);
                    a[8..].copy_from_slice(&x.to_be_bytes());
                    let dscp = DSCPS[(x >> 61) as usize];
                    let dst = Ipv6Addr::from(a);
                    sent += 1;
                    if b.host_mut().unwrap().send_raw_udp(
                        now,
                        via,
                        dst,
                        dscp << 2,
                        9999,
                        &[0x5a; 32],
                    ) {
                        accepted += 1;
                    }
                }
            });
            w.sim.run_for(Duration::from_millis(10));
        }
    };
    let r0 = readings(&w);
    minute(&mut w, secs(90), false);
    let r1 = readings(&w);
    let radio_before = w.br().unwrap().app().unwrap().wpan().stats().tx_frames;
    minute(&mut w, secs(150), true);
    let r2 = readings(&w);
    // Delivered and sent in each minute (a reading sent just before a minute ends may
    // arrive in the next: the same in both).
    let (quiet, quiet_sent) = (r1.0 - r0.0, r1.1 - r0.1);
    let (flooded, flood_sent) = (r2.0 - r1.0, r2.1 - r1.1);
    let app = w.br().unwrap().app().unwrap();
    let radio = app.wpan().stats().tx_frames - radio_before;
    let wpan = *app.stack().iface(app.wpan_index()).unwrap().stats();
    eprintln!(
        "flood: {sent} packets sent, {accepted} taken by the cable; readings delivered/sent: \
         {quiet}/{quiet_sent} quiet, {flooded}/{flood_sent} flooded; \
         {radio} radio frames during the flood; wpan0 drops {:?}",
        wpan.drops_by_reason()
            .filter(|(_, n)| *n > 0)
            .collect::<Vec<_>>()
    );
    assert!(
        flooded * quiet_sent * 10 >= quiet * flood_sent * 9,
        "uplink under the flood: {flooded} of {flood_sent} readings delivered, \
         {quiet} of {quiet_sent} without it"
    );
    // The router kept taking frames from the cable.
    assert!(accepted * 10 >= sent * 9, "cable took {accepted} of {sent}");
    // Refused as address unreachable, not sent blind: the radio carried the mesh's own
    // traffic only (readings' replies, RAs, ND), not thousands of flood frames.
    assert!(
        u64::from(wpan.dropped(DropReason::AddressUnreachable)) * 10 >= accepted * 9,
        "{:?}",
        wpan.dropped(DropReason::AddressUnreachable)
    );
    assert!(radio < 1_000, "{radio} radio frames during the flood");
    assert!(app.pool_accounted());
}
