//! Every benchmarked path delivers the right bytes (no timing is asserted here: speed is
//! measured by `benches/perf.rs` and `scripts/instructions.sh`).

use firmware::app::AppResources;
use tests::endpoint::{self, Work};
use tests::router::{Router, WireBaseline};

#[test]
fn endpoint_pairs_deliver_the_payload_and_interoperate() {
    let payload = endpoint::payload();
    for work in Work::ALL {
        let c = endpoint::check(work, &payload).unwrap_or_else(|e| panic!("{}: {e}", work.name()));
        assert_eq!(c.ours_frames, 12, "{}: our frame count", work.name());
        assert_eq!(
            c.smoltcp_frames,
            12,
            "{}: smoltcp's frame count",
            work.name()
        );
        // smoltcp 0.14 never verifies the UDP checksum of a 6LoWPAN datagram (see
        // `endpoint::check`); if this changes, docs/performance.md must say so.
        if work.udp_checksum {
            assert!(
                !c.smoltcp_verifies_udp_checksum,
                "{}: smoltcp now verifies",
                work.name()
            );
        }
    }
}

#[test]
fn border_router_forwards_both_ways_and_the_baseline_matches() {
    let mut res = Box::new(AppResources::new());
    let mut r = Router::new(&mut res).expect("the border router starts");
    let (down, up) = r.check().expect("forwarding works");
    assert!((10..=16).contains(&down), "{down} frames down");
    assert_eq!(up, 14 + 1280);
    let mut b = WireBaseline::new(&r);
    b.check(&r).expect("the baseline forwards the same packets");
    // Long runs in virtual time stay correct (NUD probes answered, timers run).
    for _ in 0..200 {
        assert_eq!(r.forward_down().expect("down"), down);
        assert_eq!(r.forward_up().expect("up"), up);
    }
    r.check()
        .expect("still forwarding after 200 packets each way");
    assert!(r.app().pool_accounted());
}

/// Issue 19 #2, as a configuration choice: by default a global address of the mesh that is
/// neither registered nor gleaned gets no frame (the host is told: ICMPv6 Destination
/// Unreachable, code 3 "address unreachable", decoded here by smoltcp); with
/// `blind_global_derivation` the router sends to the EUI-64 the address derives from.
#[test]
fn unregistered_mesh_address_is_refused_unless_blind_derivation_is_configured() {
    use smoltcp::wire::{EthernetFrame, Icmpv6Message, Icmpv6Packet, IpProtocol, Ipv6Packet};

    let mut res = Box::new(AppResources::new());
    let mut r = Router::with_config(&mut res, |_| {}).expect("the border router starts");
    assert!(
        r.forward_down().is_err(),
        "no frame for an unregistered node"
    );
    assert_eq!(r.sent().len(), 0, "nothing on the air");
    let eth = EthernetFrame::new_checked(r.captured()).expect("an Ethernet frame to the host");
    let ip = Ipv6Packet::new_checked(eth.payload()).expect("IPv6");
    assert_eq!(ip.next_header(), IpProtocol::Icmpv6);
    let icmp = Icmpv6Packet::new_checked(ip.payload()).expect("ICMPv6");
    assert_eq!(icmp.msg_type(), Icmpv6Message::DstUnreachable);
    assert_eq!(icmp.msg_code(), 3, "address unreachable");
    assert!(r.app().pool_accounted());

    let mut res = Box::new(AppResources::new());
    let mut r = Router::with_config(&mut res, |c| c.blind_global_derivation = true)
        .expect("the border router starts");
    let (down, _) = r
        .check()
        .expect("blind derivation forwards to the derived EUI-64");
    assert!((10..=16).contains(&down), "{down} frames down");
    assert_eq!(r.app().status().registered, 0, "and nothing was registered");
}
