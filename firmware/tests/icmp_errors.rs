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

/// ICMPv6 echo reply.
const ECHO_REPLY: u8 = 129;

/// The same rule for echo replies, which the core also builds in the request's buffer: a
/// node that pings the border router gets the reply at its own link-layer address. Found with
/// RIOT OS nodes over ZEP (issue 21): they never saw a reply from the router.
#[test]
fn an_echo_reply_goes_to_the_node_that_pinged() {
    let mut h = Harness::new();
    let n = Node::new(2);
    h.register(n, n.eui, 60);
    for dst in [h.br_global(), h.br_link_local()] {
        let src = if dst.is_unicast_link_local() {
            n.link_local()
        } else {
            n.global()
        };
        let ip = Ip {
            hop_limit: 64,
            ..Ip::nd(src, dst)
        };
        let echo = vec![128, 0, 0, 0, 0x12, 0x34, 0, 1, b'h', b'i'];
        let t = h.now;
        let to_br = h.to_br();
        h.send(n.eui, to_br, &ip.build(echo));
        let replies = h.sent_icmp(ECHO_REPLY, t);
        assert_eq!(replies.len(), 1, "one echo reply from {dst}");
        assert_eq!(replies[0].dst(), src);
        assert_eq!(
            replies[0].ll_dst,
            Some(n.ll()),
            "the reply's frame goes to the node (not to {:?}, the router)",
            h.to_br()
        );
    }
    h.assert_pool();
}
