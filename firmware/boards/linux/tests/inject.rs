//! Hostile 802.15.4 / 6LoWPAN frames through the whole border router, in simulation.
//!
//! Eight smoltcp nodes in a star send readings to the collector on the backbone while frames
//! built by hand (each field commented with the RFC or IEEE clause that defines it) are handed
//! to the border router's radio path as if received. Every hostile frame must be counted under
//! one specific reason, nothing may leak, and the nodes' readings must keep arriving.
#![allow(
    clippy::unusual_byte_groupings,
    reason = "IPHC and frame-control bits are grouped by field (RFC 6282 §3.1.1)"
)]

mod common;
use common::{fcs, l4_checksum};

use std::net::Ipv6Addr;

use firmware::app::App;
use l2_15_4::radio::{Channel, RadioEvent, RxFrame};
use netif::{DropReason, Duration, Instant};
use sixgate_sim::simnet::{BrNode, HOST_ADDR, World, WorldOpts};
use sixlo::SixloStats;

/// The attacker's extended address (locally administered).
const EVIL: [u8; 8] = [0x02, 0xee, 0xee, 0xee, 0x00, 0x00, 0x00, 0x01];
const OUTSIDE: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x99, 0, 0, 0, 0, 1);

// ----- 802.15.4 framing by hand -----------------------------------------------------------

/// A frame whose frame control (IEEE 802.15.4-2006 §7.2.1.1) has frame type `ty`, PAN ID
/// compression, extended destination and source, frame version 2006: FC (LE), sequence
/// number, destination PAN (LE), destination (8, LE), source (8, LE), payload, FCS.
fn frame_of_type(ty: u16, seq: u8, pan: u16, dst: [u8; 8], payload: &[u8]) -> Vec<u8> {
    frame_from(EVIL, ty, seq, pan, dst, payload)
}

/// [`frame_of_type`] from the extended source address `src` (a spoofed one).
fn frame_from(src: [u8; 8], ty: u16, seq: u8, pan: u16, dst: [u8; 8], payload: &[u8]) -> Vec<u8> {
    let fc: u16 = ty | 1 << 6 | 0b11 << 10 | 0b01 << 12 | 0b11 << 14;
    let mut f = fc.to_le_bytes().to_vec();
    f.push(seq);
    f.extend_from_slice(&pan.to_le_bytes());
    f.extend(dst.iter().rev());
    f.extend(src.iter().rev());
    f.extend_from_slice(payload);
    let c = fcs(&f);
    f.extend_from_slice(&c);
    f
}

/// A beacon (IEEE 802.15.4-2006 §7.2.2.1): FC type 000, no destination, short source,
/// version 2003; sequence number; source PAN; source short address; superframe
/// specification (beacon order 15, superframe order 15: non-beacon PAN), GTS specification 0,
/// pending address specification 0; FCS.
fn beacon(seq: u8, pan: u16) -> Vec<u8> {
    let fc: u16 = 0b10 << 14;
    let mut f = fc.to_le_bytes().to_vec();
    f.push(seq);
    f.extend_from_slice(&pan.to_le_bytes());
    f.extend_from_slice(&0x1234u16.to_le_bytes());
    f.extend_from_slice(&[0xff, 0x0f, 0x00, 0x00]);
    let c = fcs(&f);
    f.extend_from_slice(&c);
    f
}

fn link_local(eui: [u8; 8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a[..2].copy_from_slice(&[0xfe, 0x80]);
    a[8..].copy_from_slice(&eui);
    a[8] ^= 0x02;
    Ipv6Addr::from(a)
}

// ----- the hostile (and one valid) 6LoWPAN payloads -----------------------------------------

/// A FRAG1 header (RFC 4944 §5.3): `11000`, datagram_size (11 bits), datagram_tag (16).
fn frag1(size: u16, tag: u16) -> Vec<u8> {
    let [s0, s1] = size.to_be_bytes();
    let [t0, t1] = tag.to_be_bytes();
    vec![0xc0 | (s0 & 7), s1, t0, t1]
}

/// A FRAGN header (RFC 4944 §5.3): `11100`, datagram_size, datagram_tag, datagram_offset
/// (units of 8 octets).
fn fragn(size: u16, tag: u16, offset: u8) -> Vec<u8> {
    let [s0, s1] = size.to_be_bytes();
    let [t0, t1] = tag.to_be_bytes();
    vec![0xe0 | (s0 & 7), s1, t0, t1, offset]
}

/// A minimal IPHC header (RFC 6282 §3.1.1) whose addresses come from the link layer:
/// `011` | TF=11 (traffic class and flow label elided) | NH=0 (next header inline) |
/// HLIM=10 (64); CID=0 | SAC=0 | SAM=11 (from the link-layer source) | M=0 | DAC=0 |
/// DAM=11 (from the link-layer destination); then the inline next header (17, UDP). It
/// decompresses to a 40-byte IPv6 header; what follows is the (uncompressed) UDP datagram.
const IPHC_LL_UDP: [u8; 3] = [0b011_11_0_10, 0b0_0_11_0_0_11, 17];

/// The first 48 bytes of a datagram: IPHC (40 bytes of IPv6 header) + 8 bytes (a UDP
/// header), so the FRAG1 payload is a multiple of 8 as RFC 4944 §5.3 requires.
fn frag1_body() -> Vec<u8> {
    let mut b = IPHC_LL_UDP.to_vec();
    b.extend_from_slice(&[0x16, 0x33, 0x16, 0x34, 0x04, 0xd8, 0x00, 0x00]);
    b
}

/// The kinds of frame injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A FRAG1 of 2 bytes (its header is 4).
    ShortFrag1,
    /// A FRAGN of 4 bytes (its header is 5).
    ShortFragn,
    /// FRAG1 with datagram_size 1280 (kept), then a FRAGN of the same tag saying 1000.
    SizeMismatchFrag1,
    SizeMismatchFragn,
    /// IPHC announcing inline fields (TF=00, HLIM=00, SAM=00, DAM=00) that are not there.
    IphcTruncated,
    /// A valid frame whose FCS is wrong.
    BadFcs,
    /// Frame types 5 (multipurpose), 6 (fragment), 7 (extended) of 802.15.4-2015.
    FrameType(u16),
    /// A MAC command frame (data request) to the border router.
    MacCommand,
    /// A beacon of our PAN.
    Beacon,
    /// A FRAGN whose datagram was never started.
    FragnFirst,
    /// A FRAG1 of 48 bytes, then a FRAGN at offset 40 of 16 bytes (overlapping [40, 48)).
    OverlapFrag1,
    OverlapFragn,
    /// An IPHC datagram whose source lies outside the mesh prefix (ingress policy).
    OutsideSource,
    /// A valid ICMPv6 echo request, link-local to link-local.
    ValidEcho,
}

struct Attacker {
    seq: u8,
    pan: u16,
    br: [u8; 8],
}

impl Attacker {
    fn frame(&mut self, kind: Kind) -> Vec<u8> {
        self.seq = self.seq.wrapping_add(1);
        let (seq, pan, br) = (self.seq, self.pan, self.br);
        let data = |payload: &[u8]| frame_of_type(0b001, seq, pan, br, payload);
        match kind {
            Kind::ShortFrag1 => data(&frag1(1280, 0x7000)[..2]),
            Kind::ShortFragn => data(&fragn(1280, 0x7000, 6)[..4]),
            Kind::SizeMismatchFrag1 => data(&[frag1(1280, 0x7001), frag1_body()].concat()),
            Kind::SizeMismatchFragn => data(&[fragn(1000, 0x7001, 6), vec![0; 8]].concat()),
            // IPHC: TF=00 (4 bytes inline), NH=0 (1), HLIM=00 (1), SAM=00 (16), DAM=00 (16):
            // 38 inline bytes announced, 3 present.
            Kind::IphcTruncated => data(&[0b011_00_0_00, 0x00, 0x00, 0x00, 0x11]),
            Kind::BadFcs => {
                let mut f = data(&frag1_body());
                let n = f.len();
                f[n - 1] ^= 0xff;
                f
            }
            Kind::FrameType(t) => frame_of_type(t, seq, pan, br, &[0x41, 0, 0, 0]),
            // MAC command (type 011), command identifier 0x04: data request (§7.3.4).
            Kind::MacCommand => frame_of_type(0b011, seq, pan, br, &[0x04]),
            Kind::Beacon => beacon(seq, pan),
            Kind::FragnFirst => data(&[fragn(1280, 0x7002, 6), vec![0; 8]].concat()),
            Kind::OverlapFrag1 => data(&[frag1(1280, 0x7003), frag1_body()].concat()),
            Kind::OverlapFragn => data(&[fragn(1280, 0x7003, 5), vec![0; 16]].concat()),
            Kind::OutsideSource => {
                // IPHC: TF=11, NH=0, HLIM=10 (64); SAM=00 and DAM=00: both addresses inline.
                let mut p = vec![0b011_11_0_10, 0x00, 17];
                p.extend_from_slice(&OUTSIDE.octets());
                p.extend_from_slice(&HOST_ADDR.octets());
                // UDP (RFC 768): ports 5000 → 4000, length 12, checksum, 4 bytes of data.
                let mut udp = vec![0x13, 0x88, 0x0f, 0xa0, 0x00, 0x0c, 0, 0, 1, 2, 3, 4];
                let c = l4_checksum(&OUTSIDE, &HOST_ADDR, 17, &udp);
                udp[6..8].copy_from_slice(&c);
                p.extend_from_slice(&udp);
                data(&p)
            }
            Kind::ValidEcho => {
                // IPHC: TF=11, NH=0, HLIM=10; SAM=11, DAM=11 (both from the link layer);
                // next header 58 inline; then an ICMPv6 echo request (RFC 4443 §4.1).
                let mut p = vec![0b011_11_0_10, 0b0_0_11_0_0_11, 58];
                let mut echo = vec![128, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 0xde, 0xad];
                let c = l4_checksum(&link_local(EVIL), &link_local(br), 58, &echo);
                echo[2..4].copy_from_slice(&c);
                p.extend_from_slice(&echo);
                data(&p)
            }
        }
    }
}

// ----- counters -------------------------------------------------------------------------------

/// Receive-side counters at every layer the frame crosses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Snap {
    mac_rx_frames: u32,
    mac_rx_delivered: u32,
    mac_rx_invalid: u32,
    mac_rx_fcs_errors: u32,
    mac_rx_filtered: u32,
    mac_rx_duplicates: u32,
    wpan_rx_frames: u64,
    wpan_rx_datagrams: u64,
    wpan_rx_bad_frame: u64,
    wpan_rx_not_data: u64,
    wpan_rx_6lowpan_drop: u64,
    wpan_rx_no_buffer: u64,
    sixlo: SixloStats,
    ip_rx_packets: u32,
    drop_l2: u32,
    drop_policy: u32,
    drops_total: u64,
    slots_in_use: usize,
}

fn snap(app: &App<'_>) -> Snap {
    let m = app.wpan().mac().counters();
    let w = app.wpan().stats();
    let i = app.iface_stats(app.wpan_index()).unwrap();
    Snap {
        mac_rx_frames: m.rx_frames,
        mac_rx_delivered: m.rx_delivered,
        mac_rx_invalid: m.rx_invalid,
        mac_rx_fcs_errors: m.rx_fcs_errors,
        mac_rx_filtered: m.rx_filtered,
        mac_rx_duplicates: m.rx_duplicates,
        wpan_rx_frames: w.rx_frames,
        wpan_rx_datagrams: w.rx_datagrams,
        wpan_rx_bad_frame: w.rx_bad_frame,
        wpan_rx_not_data: w.rx_not_data,
        wpan_rx_6lowpan_drop: w.rx_6lowpan_drop,
        wpan_rx_no_buffer: w.rx_no_buffer,
        sixlo: *app.wpan().reassembler().stats(),
        ip_rx_packets: i.rx_packets,
        drop_l2: i.dropped(DropReason::L2),
        drop_policy: i.dropped(DropReason::Policy),
        drops_total: i.dropped_total(),
        slots_in_use: app.wpan().reassembler().slots_in_use(),
    }
}

/// What one frame of `kind` must change, from `b`.
fn expect(kind: Kind, b: &Snap) -> Snap {
    let mut e = *b;
    e.mac_rx_frames += 1;
    match kind {
        Kind::BadFcs => {
            e.mac_rx_fcs_errors += 1;
            return e;
        }
        Kind::FrameType(_) => {
            e.mac_rx_invalid += 1;
            return e;
        }
        Kind::MacCommand | Kind::Beacon => {
            e.mac_rx_delivered += 1;
            e.wpan_rx_frames += 1;
            e.wpan_rx_not_data += 1;
            e.drop_l2 += 1;
            e.drops_total += 1;
            return e;
        }
        _ => {}
    }
    // Accepted by the MAC, handed to wpan0 and its reassembler.
    e.mac_rx_delivered += 1;
    e.wpan_rx_frames += 1;
    let s = &mut e.sixlo;
    s.rx_frames += 1;
    let dropped = match kind {
        Kind::ShortFrag1 | Kind::ShortFragn => {
            s.frame_too_short += 1;
            true
        }
        Kind::SizeMismatchFrag1 | Kind::OverlapFrag1 => {
            s.rx_fragments += 1;
            e.slots_in_use += 1;
            false
        }
        Kind::SizeMismatchFragn => {
            s.datagram_size_mismatch += 1;
            e.slots_in_use -= 1;
            true
        }
        Kind::OverlapFragn => {
            s.overlapping_fragments += 1;
            e.slots_in_use -= 1;
            true
        }
        Kind::IphcTruncated => {
            s.iphc_truncated += 1;
            true
        }
        Kind::FragnFirst => {
            s.fragn_without_frag1 += 1;
            true
        }
        Kind::OutsideSource => {
            s.rx_datagrams += 1;
            e.wpan_rx_datagrams += 1;
            e.ip_rx_packets += 1;
            e.drop_policy += 1;
            e.drops_total += 1;
            false
        }
        Kind::ValidEcho => {
            s.rx_datagrams += 1;
            e.wpan_rx_datagrams += 1;
            e.ip_rx_packets += 1;
            false
        }
        Kind::BadFcs | Kind::FrameType(_) | Kind::MacCommand | Kind::Beacon => unreachable!(),
    };
    if dropped {
        e.wpan_rx_6lowpan_drop += 1;
        e.drop_l2 += 1;
        e.drops_total += 1;
    }
    e
}

/// Every kind, in an order where each pair's first frame precedes its second.
const KINDS: [Kind; 16] = [
    Kind::ShortFrag1,
    Kind::ShortFragn,
    Kind::SizeMismatchFrag1,
    Kind::SizeMismatchFragn,
    Kind::IphcTruncated,
    Kind::BadFcs,
    Kind::FrameType(5),
    Kind::FrameType(6),
    Kind::FrameType(7),
    Kind::MacCommand,
    Kind::Beacon,
    Kind::FragnFirst,
    Kind::OverlapFrag1,
    Kind::OverlapFragn,
    Kind::OutsideSource,
    Kind::ValidEcho,
];

// ----- the scenario -----------------------------------------------------------------------------

fn world() -> (World, Attacker) {
    let opts = WorldOpts::new();
    let a = Attacker {
        seq: 0,
        pan: opts.config.pan_id,
        br: opts.config.eui64,
    };
    (World::build(&opts).unwrap(), a)
}

/// Hand `psdu` to the border router as received now; returns the counters before and after.
fn inject(w: &mut World, psdu: &[u8]) -> (Snap, Snap) {
    let br = w.br;
    w.sim
        .with_node(br, |n: &mut BrNode, now, radio| {
            let app = n.app_mut().unwrap();
            let before = snap(app);
            let rx = RxFrame {
                psdu,
                rssi: -40,
                lqi: 255,
                timestamp: now,
                channel: Channel::new(26).unwrap(),
                fcs_ok: None,
            };
            app.on_radio_event(now, RadioEvent::Received(rx), radio);
            (before, snap(app))
        })
        .unwrap()
}

fn app(w: &World) -> &App<'static> {
    w.br().unwrap().app().unwrap()
}

/// Each node's readings reached the collector (all but possibly the last, in flight).
fn assert_readings_delivered(w: &World) {
    let host = w.br().unwrap().host().unwrap();
    let by_source = host.readings_by_source();
    for k in 0..w.nodes.len() {
        let n = w.node(k).unwrap();
        let sent = n.counters().readings_sent;
        let global = n
            .addresses()
            .into_iter()
            .find(|a| a.octets()[..8] == [0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0])
            .expect("node without a mesh address");
        let got = by_source.get(&global).copied().unwrap_or(0);
        assert!(sent >= 10, "node {k} sent only {sent} readings");
        assert!(
            got + 1 >= sent,
            "node {k} ({global}): {got} of {sent} readings delivered"
        );
    }
}

#[test]
fn hostile_frames_are_counted_and_traffic_flows() {
    let (mut w, mut evil) = world();
    // Let the nodes configure themselves and start reporting.
    w.sim.run_until(Instant::from_secs(5));
    let mut t = Instant::from_secs(5);
    let mut injected = 0;
    while t < Instant::from_secs(120) {
        for kind in KINDS {
            t += Duration::from_millis(450);
            w.sim.run_until(t);
            let f = evil.frame(kind);
            let (before, after) = inject(&mut w, &f);
            assert_eq!(after, expect(kind, &before), "{kind:?}");
            injected += 1;
            assert!(app(&w).pool_accounted(), "buffers leaked after {kind:?}");
        }
    }
    assert!(injected > 200);
    w.sim.run_until(Instant::from_secs(125));
    assert_readings_delivered(&w);
    assert!(app(&w).pool_accounted());
    assert_eq!(app(&w).wpan().reassembler().slots_in_use(), 0);
}

#[test]
fn policy_dropped_source_is_not_gleaned() {
    let (mut w, mut evil) = world();
    w.sim.run_until(Instant::from_secs(5));
    let f = evil.frame(Kind::OutsideSource);
    let (before, after) = inject(&mut w, &f);
    assert_eq!(after.drop_policy, before.drop_policy + 1);
    let a = app(&w);
    assert!(
        a.wpan().registry().lookup(&OUTSIDE).is_none(),
        "a source the ingress policy refused was gleaned: {:?}",
        a.wpan().registry().lookup(&OUTSIDE)
    );
    assert!(a.nodes().all(|n| n.addr != OUTSIDE));
}

/// A classic pcap file (magic a1b2c3d4, version 2.4, snaplen 65535, LINKTYPE 195
/// IEEE802_15_4_WITHFCS) holding `frames`, one per 10 ms.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    b.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    b.extend_from_slice(&65535u32.to_le_bytes()); // snaplen
    b.extend_from_slice(&195u32.to_le_bytes()); // network
    for (i, f) in frames.iter().enumerate() {
        let us = 10_000 * i as u32;
        b.extend_from_slice(&(us / 1_000_000).to_le_bytes());
        b.extend_from_slice(&(us % 1_000_000).to_le_bytes());
        b.extend_from_slice(&(f.len() as u32).to_le_bytes()); // incl_len
        b.extend_from_slice(&(f.len() as u32).to_le_bytes()); // orig_len
        b.extend_from_slice(f);
    }
    b
}

#[test]
fn hostile_frames_from_a_pcap_move_the_same_counters() {
    let (mut w, mut evil) = world();
    w.sim.run_until(Instant::from_secs(5));
    let kinds = [
        Kind::ShortFrag1,
        Kind::BadFcs,
        Kind::FrameType(7),
        Kind::Beacon,
        Kind::FragnFirst,
        Kind::IphcTruncated,
        Kind::OverlapFrag1,
        Kind::OverlapFragn,
        Kind::ValidEcho,
    ];
    let frames: Vec<Vec<u8>> = kinds.iter().map(|k| evil.frame(*k)).collect();
    let file = pcap(&frames);
    let dir = std::env::temp_dir().join(format!("sixgate-inject-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hostile.pcap");
    std::fs::write(&path, &file).unwrap();
    let contents = capture_file::read_15_4(&std::fs::read(&path).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(contents.malformed, 0);
    assert_eq!(contents.frames.len(), kinds.len());
    let start = snap(app(&w));
    for ((kind, cf), original) in kinds.iter().zip(&contents.frames).zip(&frames) {
        assert!(!cf.fcs_added);
        assert_eq!(&cf.psdu, original, "the pcap round trip changed a frame");
        let (before, after) = inject(&mut w, &cf.psdu);
        assert_eq!(after, expect(*kind, &before), "{kind:?}");
    }
    // Totals over the file: one counter per hostile frame, the echo delivered.
    let end = snap(app(&w));
    assert_eq!(end.mac_rx_frames - start.mac_rx_frames, 9);
    assert_eq!(end.mac_rx_fcs_errors - start.mac_rx_fcs_errors, 1);
    assert_eq!(end.mac_rx_invalid - start.mac_rx_invalid, 1);
    assert_eq!(end.wpan_rx_not_data - start.wpan_rx_not_data, 1);
    assert_eq!(end.sixlo.frame_too_short - start.sixlo.frame_too_short, 1);
    assert_eq!(
        end.sixlo.fragn_without_frag1 - start.sixlo.fragn_without_frag1,
        1
    );
    assert_eq!(end.sixlo.iphc_truncated - start.sixlo.iphc_truncated, 1);
    assert_eq!(
        end.sixlo.overlapping_fragments - start.sixlo.overlapping_fragments,
        1
    );
    assert_eq!(end.wpan_rx_datagrams - start.wpan_rx_datagrams, 1);
    w.sim.run_until(Instant::from_secs(6));
    assert!(app(&w).pool_accounted());
}

/// Issue 19, finding 8: FRAG1s that are never completed, 8 a second, from `sources` spoofed
/// link-layer sources in turn (each a new datagram_tag, datagram_size 1280), while node 0
/// pings the backbone host once a second with 300 bytes (fragmented both ways). Returns the
/// pings answered of 24 and the border router's 6LoWPAN counters.
fn ping_under_frag1_flood(sources: u8) -> (usize, SixloStats) {
    const PINGS: u16 = 24;
    let (mut w, mut evil) = world();
    w.sim.run_until(Instant::from_secs(5));
    let honest = w.nodes[0];
    let mut t = Instant::from_secs(5);
    let mut tag: u16 = 0x8000;
    let mut seq: u16 = 0;
    for tick in 0..u32::from(PINGS + 2) * 8 {
        t += Duration::from_millis(125);
        w.sim.run_until(t);
        tag = tag.wrapping_add(1);
        evil.seq = evil.seq.wrapping_add(1);
        let mut src = EVIL;
        src[7] = 0x10 + (tick % u32::from(sources)) as u8;
        let payload = [frag1(1280, tag), frag1_body()].concat();
        let f = frame_from(src, 0b001, evil.seq, evil.pan, evil.br, &payload);
        let (_, after) = inject(&mut w, &f);
        assert!(after.slots_in_use <= firmware::wpan::REASSEMBLY_POOL_SHARE);
        // The pings fall between two FRAG1s.
        if tick % 8 == 4 && seq < PINGS {
            w.sim
                .with_node(honest, |n: &mut sim::smol::SmolNode, now, _| {
                    assert!(n.ping(now, HOST_ADDR, seq, 300));
                });
            seq += 1;
        }
    }
    w.sim.run_until(t + Duration::from_secs(3));
    assert!(app(&w).pool_accounted());
    let answered = w.node(0).unwrap().pings();
    assert_eq!(answered.len(), usize::from(PINGS));
    (
        answered.iter().filter(|(_, _, r)| r.is_some()).count(),
        *app(&w).wpan().reassembler().stats(),
    )
}

/// Two spoofed sources (the attack as reported: 0 of 24 pings answered): with 4 slots each
/// they held all 8 slots and 8 pool buffers until their timeout and took them again at once.
/// Now a new FRAG1 evicts the oldest datagram of the source holding the most slots, so the
/// attackers evict each other and the honest datagram completes.
#[test]
fn frag1_flood_from_spoofed_sources_does_not_starve_reassembly() {
    let (answered, s) = ping_under_frag1_flood(2);
    assert!(
        answered * 10 >= 24 * 9,
        "{answered} of 24 fragmented pings answered under the FRAG1 flood; 6LoWPAN {s:?}"
    );
    assert!(s.reassembly_evictions > 0, "{s:?}");
}

/// Sixteen spoofed sources, one slot each: every holder ties, so the oldest datagram goes
/// first (by its FRAG1, not its last fragment); at 8 FRAG1s a second an honest datagram has
/// about a second to complete.
#[test]
fn frag1_flood_from_many_spoofed_sources_evicts_oldest_first() {
    let (answered, s) = ping_under_frag1_flood(16);
    assert!(
        answered * 10 >= 24 * 9,
        "{answered} of 24 fragmented pings answered under the FRAG1 flood; 6LoWPAN {s:?}"
    );
    assert!(s.reassembly_evictions > 100, "{s:?}");
}
