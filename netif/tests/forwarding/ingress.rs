//! Ingress filtering (RFC 3704): a packet whose source lies in a prefix on-link on another of
//! the router's interfaces did not come from where it claims; it is dropped and counted, with
//! no ICMPv6 error (the error would go to the impersonated host, into its own link).

use netif::{DropReason, Outcome, StackConfig};

use crate::harness::{Res, echo_request, host_a, host_b, ip, router, udp};

/// The issue-19 #4 attack: a backbone host sends packets into the mesh with a mesh source.
#[test]
fn backbone_packets_with_a_mesh_source_are_dropped_and_counted() {
    let mut res = Res::new();
    let mut r = router(&mut res, StackConfig::default());
    // Forwarded into the mesh, impersonating the mesh node host_a toward another mesh node.
    let pkt = udp(host_a(), ip("2001:db8:1::ff:fe00:7"), 64, b"open the valve");
    let out = r.inject(r.ib, &pkt);
    assert!(
        r.sent(r.ia).is_empty(),
        "a backbone packet with a mesh source was sent into the mesh ({out:?})"
    );
    assert_eq!(out, Outcome::Dropped(DropReason::SpoofedSource));
    // To the router itself (its reply would go into the mesh, to the impersonated node).
    let ping = echo_request(ip("2001:db8:1::ff:fe00:7"), ip("2001:db8:2::1"), 64, b"x");
    let out = r.inject(r.ib, &ping);
    assert_eq!(out, Outcome::Dropped(DropReason::SpoofedSource));
    // Toward the backbone, bounced off the router.
    let pkt = udp(host_a(), ip("2001:db8:2::ff:fe00:8"), 64, b"x");
    let out = r.inject(r.ib, &pkt);
    assert_eq!(out, Outcome::Dropped(DropReason::SpoofedSource));
    assert!(
        r.sent(r.ia).is_empty() && r.sent(r.ib).is_empty(),
        "no error, no reply"
    );
    let s = r.st.stats(r.ib).unwrap();
    assert_eq!(s.dropped(DropReason::SpoofedSource), 3, "counted");
    assert_eq!(s.icmp_errors_sent, 0);

    // What the rule leaves alone: backbone sources, link-local sources, mesh sources in the
    // mesh, and sources of prefixes that are on-link nowhere here.
    assert_eq!(
        r.inject(r.ib, &udp(host_b(), host_a(), 64, b"x")),
        Outcome::Forwarded(r.ia)
    );
    assert_eq!(
        r.inject(r.ib, &udp(ip("2001:db8:99::5"), host_a(), 64, b"x")),
        Outcome::Forwarded(r.ia)
    );
    assert_eq!(
        r.inject(
            r.ib,
            &echo_request(ip("fe80::ff:fe00:9"), ip("fe80::ff:fe00:2"), 64, b"")
        ),
        Outcome::Delivered
    );
    assert_eq!(
        r.inject(r.ia, &udp(host_a(), host_b(), 64, b"x")),
        Outcome::Forwarded(r.ib)
    );
    let _ = (r.sent(r.ia), r.sent(r.ib));
    r.assert_pool_full();
}
