//! ICMPv6 errors the border router sends into the mesh reach the node that caused them: the
//! frame goes to that node's link-layer address. Before the fix (found by the QEMU board's
//! scripted nodes, issue 26) an error built in the invoking packet's buffer kept that frame's
//! link-layer destination — the router's own EUI-64 — and no node ever received one.

#[path = "lbr/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "lbr/node.rs"]
#[allow(dead_code)]
mod node;
#[path = "lbr/sent.rs"]
#[allow(dead_code)]
mod sent;

use std::net::Ipv6Addr;

use harness::Harness;
use node::{Ip, Node};

/// ICMPv6 Time Exceeded.
const TIME_EXCEEDED: u8 = 3;

#[test]
fn time_exceeded_goes_to_the_node_that_sent_the_packet() {
    let mut h = Harness::new();
    let n = Node::new(1);
    h.register(n, n.eui, 60);
    // An echo request to a backbone host with hop limit 1: the router cannot forward it.
    let backbone: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let ip = Ip {
        hop_limit: 1,
        ..Ip::nd(n.global(), backbone)
    };
    let echo = vec![128, 0, 0, 0, 0x12, 0x34, 0, 1, b'h', b'i'];
    let t = h.now;
    let to_br = h.to_br();
    h.send(n.eui, to_br, &ip.build(echo));
    let errors = h.sent_icmp(TIME_EXCEEDED, t);
    assert_eq!(errors.len(), 1, "one Time Exceeded");
    let e = &errors[0];
    assert_eq!(e.dst(), n.global());
    assert_eq!(
        e.ll_dst,
        Some(n.ll()),
        "the error's frame goes to the node (not to {:?}, the router)",
        h.to_br()
    );
    h.assert_pool();
}
