//! The ZEP bridge (`sim::zep_bridge`) against a peer played by this test over a real UDP
//! socket: a peer becomes a radio of the medium, its frame is ACKed by our soft-MAC and the
//! ACK crosses back as a ZEP datagram; frames to it wait out its deaf time; frames not
//! addressed to it stay home; malformed datagrams are counted; `--zep-links` rules decide who
//! hears whom.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration as WallDuration;

use l2_15_4::frame::fcs;
use l2_15_4::radio::Channel;
use l2_15_4::{Address, MacConfig, PanId};
use netif::time::Duration;
use sim::mac_node::{MacNode, MacNodeConfig, eui64};
use sim::zep::{self, ZepHeader};
use sim::zep_bridge::{Endpoint, LinkRule, ZepBridge, ZepBridgeConfig};
use sim::{NodeId, RadioConfig, SimConfig, Simulator, Topology};

const PAN: u16 = 0x0023;
const PEER: [u8; 8] = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, 0x01];

/// One simulated MAC node (short address 1, PAN 0x0023, channel 26) and a bridge on
/// `[::1]:0` whose "border router" is that node.
fn world(links: Option<Vec<LinkRule>>) -> (Simulator, SocketAddr) {
    let mut sim = Simulator::new(SimConfig::default(), Topology::new(0));
    let mut mac = MacConfig::new(Channel::new(26).unwrap(), PanId(PAN), eui64(1));
    mac.short_address = 1;
    let c = MacNodeConfig {
        mac,
        backlog: 8,
        keep_received: 64,
    };
    sim.spawn(RadioConfig::default(), |id, r| MacNode::new(id, c, r))
        .unwrap();
    let br = sim.node::<MacNode>(NodeId(0)).unwrap();
    let mut cfg = ZepBridgeConfig::new(sim::SimNode::radio_id(br), Vec::new());
    cfg.links = links;
    let bridge = ZepBridge::bind("[::1]:0".parse().unwrap(), cfg).unwrap();
    let addr = bridge.local_addr();
    sim.attach_zep(bridge);
    (sim, addr)
}

/// A ZEP datagram carrying a data frame from [`PEER`] to short address `dst` in our PAN.
fn data_to(dst: u16, seq: u8, ack_request: bool, payload: &[u8]) -> Vec<u8> {
    // Data, PAN ID compression, 2006, short destination, extended source.
    let fcf: u16 =
        0x0001 | 0x0040 | (u16::from(ack_request) << 5) | (2 << 10) | (1 << 12) | (3 << 14);
    let mut psdu = fcf.to_le_bytes().to_vec();
    psdu.push(seq);
    psdu.extend_from_slice(&PAN.to_le_bytes());
    psdu.extend_from_slice(&dst.to_le_bytes());
    psdu.extend(PEER.iter().rev());
    psdu.extend_from_slice(payload);
    psdu.extend_from_slice(&[0, 0]);
    assert!(fcs::append(&mut psdu));
    let h = ZepHeader {
        channel: 26,
        ..ZepHeader::default()
    };
    let mut d = Vec::new();
    zep::encode(&h, &psdu, &mut d).unwrap();
    d
}

fn peer_socket(bridge: SocketAddr) -> UdpSocket {
    let s = UdpSocket::bind("[::1]:0").unwrap();
    s.connect(bridge).unwrap();
    s.set_read_timeout(Some(WallDuration::from_millis(200)))
        .unwrap();
    s
}

/// Every datagram waiting on `s` (parsed: PSDUs).
fn received(s: &UdpSocket) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    s.set_read_timeout(Some(WallDuration::from_millis(20)))
        .unwrap();
    while let Ok(n) = s.recv(&mut buf) {
        let f = zep::parse(&buf[..n]).expect("the bridge sends ZEP v2 data with a valid FCS");
        assert_eq!(f.header.channel, 26);
        out.push(f.psdu.to_vec());
    }
    out
}

#[test]
fn a_zep_peer_is_a_radio_acked_by_our_mac_and_hears_what_is_for_it() {
    let (mut sim, addr) = world(None);
    let peer = peer_socket(addr);
    peer.send(b"not ZEP at all").unwrap();
    peer.send(&data_to(1, 5, true, b"hello")).unwrap();
    sim.run_for(Duration::from_millis(100));

    let z = sim.zep().unwrap();
    assert_eq!(z.counters().datagrams_in, 2);
    assert_eq!(
        z.counters().malformed,
        1,
        "the garbage is counted and dropped"
    );
    assert_eq!(z.peers().len(), 1);
    assert_eq!(z.peers()[0].eui64, Some(PEER));
    assert_eq!(z.peers()[0].ack_requests, 1);
    let node = sim.node::<MacNode>(NodeId(0)).unwrap();
    let got: Vec<_> = node.received().collect();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].src, Some(Address::Extended(PEER)));
    assert_eq!(got[0].payload, b"hello");
    // Our soft-MAC's ACK crossed back: an Imm-Ack with the frame's sequence number.
    let back = received(&peer);
    let pr = sim.zep().unwrap().peers()[0].radio;
    assert_eq!(
        back.len(),
        1,
        "{back:02x?}\npeer {:?}\nits radio {:?}\nour MAC {:?}",
        sim.zep().unwrap().peers()[0],
        sim.medium_ref().counters(pr),
        sim.node::<MacNode>(NodeId(0))
            .unwrap()
            .port()
            .mac_counters()
    );
    assert_eq!(&back[0][..3], &[0x02, 0x00, 5]);
    assert_eq!(sim.zep().unwrap().peers()[0].acks_out, 1);

    // A frame for the peer right after its own waits out its deaf time (15 ms).
    peer.send(&data_to(1, 6, false, b"again")).unwrap();
    sim.run_for(Duration::from_millis(5));
    sim.with_node::<MacNode, _>(NodeId(0), |n, _, _| {
        assert!(n.send(Address::Extended(PEER), b"to the peer"));
        assert!(n.send(Address::Short(0x0042), b"to somebody else"));
    });
    let t0 = sim.now();
    sim.run_for(Duration::from_millis(200));
    let br = sim::SimNode::radio_id(sim.node::<MacNode>(NodeId(0)).unwrap());
    assert_eq!(sim.medium_ref().counters(br).tx_deferred, 1);
    let back = received(&peer);
    // The unicast frame (and its retransmissions, which the test does not ACK); the frame
    // for 0x0042 is filtered.
    assert!(!back.is_empty());
    assert!(back.iter().all(|p| p.ends_with(&{
        let mut x = b"to the peer".to_vec();
        x.extend_from_slice(&p[p.len() - 2..]);
        x
    })));
    let z = sim.zep().unwrap();
    assert!(z.peers()[0].filtered >= 1, "{:?}", z.peers()[0]);
    assert!(sim.now() >= t0 + Duration::from_millis(200));
}

#[test]
fn links_rules_decide_who_hears_a_peer() {
    // No rule names the peer: it hears nobody and nobody hears it.
    let (mut sim, addr) = world(Some(vec![]));
    let peer = peer_socket(addr);
    peer.send(&data_to(1, 1, false, b"x")).unwrap();
    sim.run_for(Duration::from_millis(50));
    assert_eq!(
        sim.node::<MacNode>(NodeId(0)).unwrap().received().count(),
        0
    );
    // A rule `br PEER 0.0`: it does.
    let rule = LinkRule {
        a: Endpoint::Br,
        b: Endpoint::Eui64(PEER),
        loss: 0.0,
    };
    let (mut sim, addr) = world(Some(vec![rule]));
    let peer = peer_socket(addr);
    peer.send(&data_to(1, 1, false, b"x")).unwrap();
    sim.run_for(Duration::from_millis(50));
    assert_eq!(
        sim.node::<MacNode>(NodeId(0)).unwrap().received().count(),
        1
    );
}

/// An Imm-Ack PSDU (2003/2006 form) for sequence number `seq`, FCS appended.
fn imm_ack(seq: u8) -> Vec<u8> {
    let mut psdu = vec![0x02, 0x00, seq, 0, 0];
    assert!(fcs::append(&mut psdu));
    psdu
}

/// A peer's ACK crosses a UDP socket and the peer's scheduler: RIOT's came 0.87 ms after our
/// frame under load, past our 864 µs ACK wait, and our retransmission opened a second
/// reassembly in RIOT (which has no duplicate filter) that cost it three echo replies.
/// Simulated time now waits for the ACK (up to `ACK_GRACE` of wall time): an ACK sent 2 ms
/// after our frame is taken, without a retransmission.
#[test]
fn an_ack_the_peer_sends_late_on_the_wall_clock_is_waited_for() {
    let (mut sim, addr) = world(None);
    let peer = peer_socket(addr);
    // The peer introduces itself (no ACK request), then stays quiet past its deaf time.
    peer.send(&data_to(1, 1, false, b"hi")).unwrap();
    sim.run_for(Duration::from_millis(40));
    let _ = received(&peer);
    peer.set_read_timeout(Some(WallDuration::from_secs(2)))
        .unwrap();
    let answer = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let mut acked = 0;
        // ACK every data frame 2 ms after it arrives, for half a second.
        let until = std::time::Instant::now() + WallDuration::from_millis(500);
        while std::time::Instant::now() < until {
            let Ok(n) = peer.recv(&mut buf) else { break };
            let f = zep::parse(&buf[..n]).unwrap();
            if f.psdu[0] & 0x07 != 0x01 {
                continue;
            }
            std::thread::sleep(WallDuration::from_millis(2));
            let h = ZepHeader {
                channel: 26,
                ..ZepHeader::default()
            };
            let mut d = Vec::new();
            zep::encode(&h, &imm_ack(f.psdu[2]), &mut d).unwrap();
            peer.send(&d).unwrap();
            acked += 1;
        }
        acked
    });
    sim.with_node::<MacNode, _>(NodeId(0), |n, _, _| {
        assert!(n.send(Address::Extended(PEER), b"for the slow peer"));
    });
    sim.run_for(Duration::from_millis(300));
    let acked = answer.join().unwrap();
    let mac = sim
        .node::<MacNode>(NodeId(0))
        .unwrap()
        .port()
        .mac_counters();
    let z = sim.zep().unwrap().counters();
    assert_eq!(acked, 1, "one frame, no retransmission: {mac:?}");
    assert_eq!((mac.tx_success, mac.tx_retries), (1, 0), "{mac:?}");
    assert_eq!((z.acks_held, z.ack_grace_expired), (1, 0), "{z:?}");
}

/// A frame of ours held back for a deaf peer (the medium's stand-in for a busy CCA) does not
/// keep our MAC from ACKing that peer's next frame: before, the MAC counted itself on the air
/// and skipped the ACK, so RIOT retransmitted every frame of a burst that met a held frame.
#[test]
fn a_frame_held_for_a_deaf_peer_does_not_stop_our_ack_to_it() {
    let (mut sim, addr) = world(None);
    let peer = peer_socket(addr);
    peer.send(&data_to(1, 1, false, b"first of a burst"))
        .unwrap();
    sim.run_for(Duration::from_millis(2));
    sim.with_node::<MacNode, _>(NodeId(0), |n, _, _| {
        assert!(n.send(Address::Extended(PEER), b"held back"));
    });
    sim.run_for(Duration::from_millis(3));
    let br = sim::SimNode::radio_id(sim.node::<MacNode>(NodeId(0)).unwrap());
    assert_eq!(sim.medium_ref().counters(br).tx_deferred, 1);
    peer.send(&data_to(1, 2, true, b"second, ACK please"))
        .unwrap();
    sim.run_for(Duration::from_millis(60));
    let mac = sim
        .node::<MacNode>(NodeId(0))
        .unwrap()
        .port()
        .mac_counters();
    assert_eq!((mac.acks_sent, mac.acks_skipped), (1, 0), "{mac:?}");
    let back = received(&peer);
    assert!(
        back.iter().any(|p| p[..3] == [0x02, 0x00, 2]),
        "our ACK for sequence number 2 reached the peer: {back:02x?}"
    );
}

const PEER_A: [u8; 8] = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, 0x0a];
const PEER_B: [u8; 8] = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, 0x0b];

/// A ZEP datagram carrying a data frame from `src` to the extended address `dst` (RIOT's
/// unicast form: FCF 0xdc61 with the ACK request bit).
fn data_between(src: [u8; 8], dst: [u8; 8], seq: u8, ack_request: bool, payload: &[u8]) -> Vec<u8> {
    let fcf: u16 =
        0x0001 | 0x0040 | (u16::from(ack_request) << 5) | (3 << 10) | (1 << 12) | (3 << 14);
    let mut psdu = fcf.to_le_bytes().to_vec();
    psdu.push(seq);
    psdu.extend_from_slice(&PAN.to_le_bytes());
    psdu.extend(dst.iter().rev());
    psdu.extend(src.iter().rev());
    psdu.extend_from_slice(payload);
    psdu.extend_from_slice(&[0, 0]);
    assert!(fcs::append(&mut psdu));
    zep_datagram(&psdu)
}

fn zep_datagram(psdu: &[u8]) -> Vec<u8> {
    let h = ZepHeader {
        channel: 26,
        ..ZepHeader::default()
    };
    let mut d = Vec::new();
    zep::encode(&h, psdu, &mut d).unwrap();
    d
}

/// Two peers A and B that hear only each other (`--zep-links` `A B`), introduced to the
/// bridge by a frame each (no ACK request) and past their deaf time.
fn two_peers() -> (Simulator, UdpSocket, UdpSocket) {
    let rule = LinkRule {
        a: Endpoint::Eui64(PEER_A),
        b: Endpoint::Eui64(PEER_B),
        loss: 0.0,
    };
    let (mut sim, addr) = world(Some(vec![rule]));
    let (a, b) = (peer_socket(addr), peer_socket(addr));
    a.send(&data_between(PEER_A, [0xff; 8], 1, false, b"I am A"))
        .unwrap();
    sim.run_for(Duration::from_millis(5));
    b.send(&data_between(PEER_B, [0xff; 8], 1, false, b"I am B"))
        .unwrap();
    sim.run_for(Duration::from_millis(40));
    let _ = (received(&a), received(&b));
    (sim, a, b)
}

/// Sends `datagram` from `s` and runs the simulator for `ms` of (paced) time. Pacing first
/// restarts from the present: after the test's own waits simulated time is behind the wall
/// clock, and a run would catch up at once instead of waiting for the datagram.
fn send_and_run(sim: &mut Simulator, s: &UdpSocket, datagram: &[u8], ms: u64) {
    sim.run_for(Duration::from_micros(1));
    s.send(datagram).unwrap();
    sim.run_for(Duration::from_millis(ms));
}

/// RIOT's ZEP MAC has no duplicate filter, and its ACK crosses its scheduler: under load
/// RIOT B's ACK to RIOT A's frame came 1.2 ms late, A sent the frame again, and B took the
/// repeat as a new frame while it was sending its reply (its ACKs and replies stopped for
/// good a moment later; docs/interop.md). An 802.15.4 MAC acknowledges and discards a frame
/// that repeats the one it has just acknowledged (duplicate rejection, as our soft-MAC's
/// `l2-15_4/src/mac/dup.rs`); the bridge now does that for a peer: the repeat of a frame B has ACKed is not
/// sent to B, and A gets B's ACK for it.
#[test]
fn a_repeat_of_a_frame_the_peer_has_acked_is_acked_for_it_and_not_sent_again() {
    let (mut sim, a, b) = two_peers();
    let frame = data_between(PEER_A, PEER_B, 7, true, b"last fragment");
    send_and_run(&mut sim, &a, &frame, 2);
    let got = received(&b);
    assert_eq!(got.len(), 1, "B hears A's frame: {got:02x?}");
    // B's ACK, late on the wall clock: A has given up waiting and sends the frame again.
    send_and_run(&mut sim, &b, &zep_datagram(&imm_ack(7)), 2);
    let _ = received(&a);
    send_and_run(&mut sim, &a, &frame, 20);
    let to_b = received(&b);
    assert!(to_b.is_empty(), "B got the repeat: {to_b:02x?}");
    let to_a = received(&a);
    assert_eq!(to_a, vec![imm_ack(7)], "A is ACKed for B");
    let z = sim.zep().unwrap();
    assert_eq!(z.counters().repeats_acked, 1, "{:?}", z.counters());
    // A new frame from A reaches B as before.
    let next = data_between(PEER_A, PEER_B, 8, true, b"next datagram");
    send_and_run(&mut sim, &a, &next, 20);
    assert_eq!(received(&b).len(), 1);
}

/// A peer's radio cannot send one frame twice within the frame's own air time: under load
/// RIOT A's process put the same frame on its socket twice 16 µs apart, and both went to B
/// (whose ACKs and frames stopped right after). The second copy is dropped and counted.
#[test]
fn a_frame_repeated_within_its_own_air_time_is_sent_once() {
    let (mut sim, a, b) = two_peers();
    let frame = data_between(PEER_A, PEER_B, 9, true, &[0x5a; 60]);
    sim.run_for(Duration::from_micros(1));
    a.send(&frame).unwrap();
    a.send(&frame).unwrap();
    sim.run_for(Duration::from_millis(20));
    let to_b = received(&b);
    assert_eq!(to_b.len(), 1, "{to_b:02x?}");
    let z = sim.zep().unwrap();
    assert_eq!(z.counters().repeats_too_soon, 1, "{:?}", z.counters());
}

/// B has A's frame and has not ACKed it yet (its process not scheduled): A's MAC gives up
/// waiting and sends the frame again. RIOT's MAC keeps no duplicate filter, and a repeat that
/// reaches a RIOT router while it answers the first copy stops it (seen in the RIOT chain: A's
/// last fragment reached B twice). The repeat is held back; B's ACK, when it comes, reaches A.
#[test]
fn a_repeat_of_a_frame_the_peer_has_not_acked_yet_is_not_sent_again() {
    let (mut sim, a, b) = two_peers();
    let frame = data_between(PEER_A, PEER_B, 11, true, b"last fragment");
    send_and_run(&mut sim, &a, &frame, 2);
    assert_eq!(received(&b).len(), 1, "B hears A's frame");
    // No ACK from B yet; A repeats after its ACK wait (later than the frame's air time on the
    // wall clock too).
    std::thread::sleep(std::time::Duration::from_millis(5));
    send_and_run(&mut sim, &a, &frame, 2);
    let to_b = received(&b);
    assert!(to_b.is_empty(), "B got the repeat: {to_b:02x?}");
    // B's ACK comes now: it answers A's repeat.
    send_and_run(&mut sim, &b, &zep_datagram(&imm_ack(11)), 20);
    assert_eq!(received(&a), vec![imm_ack(11)], "A gets B's ACK");
    let z = sim.zep().unwrap();
    assert_eq!(z.counters().repeats_held, 1, "{:?}", z.counters());
    // A new frame from A reaches B as before.
    let next = data_between(PEER_A, PEER_B, 12, true, b"next datagram");
    send_and_run(&mut sim, &a, &next, 20);
    assert_eq!(received(&b).len(), 1);
}

/// A peer that was sending a frame of its own when ours reached it may have missed ours (a
/// RIOT node sending drops what arrives, like a radio that cannot listen while it sends):
/// the repeat is sent to it. Seen in the RIOT chain: B's neighbour solicitation and A's echo
/// request crossed, both repeats were held, and the ping was lost.
#[test]
fn a_repeat_to_a_peer_that_was_busy_sending_is_sent_again() {
    let (mut sim, a, b) = two_peers();
    let frame = data_between(PEER_A, PEER_B, 13, true, b"echo request");
    send_and_run(&mut sim, &a, &frame, 2);
    assert_eq!(received(&b).len(), 1);
    // B sends a frame of its own (to A) right then, so it did not ACK A's.
    let own = data_between(PEER_B, PEER_A, 50, true, b"solicitation");
    send_and_run(&mut sim, &b, &own, 2);
    let _ = received(&a);
    std::thread::sleep(std::time::Duration::from_millis(5));
    send_and_run(&mut sim, &a, &frame, 2);
    assert_eq!(received(&b).len(), 1, "B gets A's repeat");
    let z = sim.zep().unwrap();
    assert_eq!(z.counters().repeats_held, 0, "{:?}", z.counters());
}
