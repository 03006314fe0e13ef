//! RFC 8138 (page 1, 6LoRH) end to end: the datagrams the RPL root sends (IPv6-in-IPv6 with
//! the RPL Option and a source route, built with the `rpl` crate's codecs) compress to page 1
//! and decompress to the same bytes, alone and fragmented; smoltcp reads the rebuilt headers;
//! stock tshark decodes every 6LoRH form we emit; hostile 6LoRHs are counted drops; and the
//! per-frame saving against page-0 NHC compression is measured.
//!
//! Run `cargo test -p sixlo --test rfc8138 -- --nocapture saving` for the saving table.

use std::fmt::Write as _;
use std::net::Ipv6Addr;
use std::process::Command;

use netif::time::Instant;
use proptest::prelude::*;
use rpl::hbh::RplOption;
use sixlo::lorh::LorhError;
use sixlo::{
    CompressOptions, Context, ContextTable, DecompressError, Fragmenter, LinkAddr, Reassembler,
    ReassemblyConfig, Received, compress, compress_headers, decompress,
};

const SRC: LinkAddr = LinkAddr::Short([0, 1]);
const DST: LinkAddr = LinkAddr::Short([0, 2]);
const ROOT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// A host on the backbone, the source of the tunnelled packets.
const HOST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0x42);

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The mesh node `n` (2001:db8::200:0:0:n, an IID from a short address-like EUI).
fn node(n: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x0200, 0, 0, n)
}

fn rfc8138() -> CompressOptions {
    CompressOptions {
        rfc8138: true,
        ..CompressOptions::default()
    }
}

/// Context 0 = 2001:db8::/64 and the DODAG root.
fn contexts() -> ContextTable {
    let mut c = ContextTable::new();
    let mut p = [0u8; 16];
    p[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    c.set(0, Context::new(p, 64));
    c.set_rpl_root(Some(ROOT.octets()));
    c
}

fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, next: u8, hlim: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
    p.extend_from_slice(&[next, hlim]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

/// An IPv6/UDP datagram with a correct checksum.
fn udp(src: Ipv6Addr, dst: Ipv6Addr, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut u = vec![0xf0, 0xb2, 0xf0, 0xb1];
    u.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    let mut sum: u32 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&u32::try_from(len).unwrap().to_be_bytes());
    add(&[0, 0, 0, 17]);
    add(&u);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let c = !(sum as u16);
    u[6..8].copy_from_slice(&(if c == 0 { 0xffff } else { c }).to_be_bytes());
    ipv6(src, dst, 17, 64, &u)
}

fn rpi(down: bool, instance: u8, rank: u16) -> RplOption {
    RplOption {
        down,
        rank_error: false,
        forwarding_error: false,
        instance_id: instance,
        sender_rank: rank,
    }
}

/// What the root sends down a non-storing DODAG: IPv6(`encap` → first hop) + hop-by-hop with
/// the RPL Option (type 0x23) + a Source Routing Header for the rest of `path` + `inner`.
fn tunnel(encap: Ipv6Addr, path: &[Ipv6Addr], o: Option<RplOption>, inner: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    let after_hbh = if path.len() > 1 { 43 } else { 41 };
    if let Some(o) = o {
        body.extend_from_slice(&o.hbh_header(after_hbh));
    }
    if path.len() > 1 {
        let mut b = [0u8; 2048];
        let n = rpl::srh::build(&path[0], &path[1..], 41, &mut b).unwrap();
        body.extend_from_slice(&b[..n]);
    }
    body.extend_from_slice(inner);
    let nh = if o.is_some() { 0 } else { after_hbh };
    ipv6(encap, path[0], nh, 63, &body)
}

fn round_trip(p: &[u8], ctx: &ContextTable) -> Vec<u8> {
    let mut frame = [0u8; 4096];
    let n = compress(p, &SRC, &DST, ctx, rfc8138(), &mut frame).unwrap();
    let mut out = [0u8; 4096];
    let m = decompress(&frame[..n], &SRC, &DST, ctx, &mut out)
        .unwrap_or_else(|e| panic!("{e}: {:02x?}", &frame[..n]));
    assert_eq!(out[..m], *p, "frame {:02x?}", &frame[..n]);
    frame[..n].to_vec()
}

fn path(hops: u16) -> Vec<Ipv6Addr> {
    (1..=hops).map(|i| node(0x10 + i)).collect()
}

#[test]
fn root_to_target_round_trips_on_page_1() {
    let ctx = contexts();
    for hops in [1u16, 2, 3, 8, 40] {
        let p = path(hops);
        let inner = udp(HOST, *p.last().unwrap(), b"reading");
        for o in [None, Some(rpi(true, 0, 0)), Some(rpi(true, 30, 0x300))] {
            let frame = round_trip(&tunnel(ROOT, &p, o, &inner), &ctx);
            assert_eq!(frame[0], 0xf1, "{hops} hops: page 1");
        }
    }
}

#[test]
fn encapsulator_elided_compressed_and_inline() {
    let mut ctx = contexts();
    let p = path(3);
    let inner = udp(HOST, node(0x13), b"x");
    let o = Some(rpi(true, 0, 2));
    // The root: elided (IP-in-IP Length 1).
    let f = round_trip(&tunnel(ROOT, &p, o, &inner), &ctx);
    assert!(f.windows(3).any(|w| w == [0xa1, 0x06, 63]), "{f:02x?}");
    // Another router of the root's /64: its last byte against the root (Length 2).
    let near = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9);
    let f = round_trip(&tunnel(near, &p, o, &inner), &ctx);
    assert!(f.windows(4).any(|w| w == [0xa2, 0x06, 63, 9]), "{f:02x?}");
    // No root known: the whole address (Length 17).
    ctx.set_rpl_root(None);
    let f = round_trip(&tunnel(ROOT, &p, o, &inner), &ctx);
    assert!(f.windows(2).any(|w| w == [0xb1, 0x06]), "{f:02x?}");
}

#[test]
fn upward_tunnel_to_the_root_has_no_srh() {
    // RFC 9008: a router tunnels a leaf's packet up to the root; no SRH-6LoRH, the
    // destination is the root.
    let ctx = contexts();
    let inner = udp(node(0x99), HOST, b"up");
    let p = tunnel(node(0x12), &[ROOT], Some(rpi(false, 0, 3)), &inner);
    let f = round_trip(&p, &ctx);
    // Page 1, RPI-6LoRH (I=1 K=1, rank 3), IP-in-IP-6LoRH (Length 9) with the encapsulator's
    // IID (it shares the root's /64), then IPHC.
    assert_eq!(
        f[..15],
        [
            0xf1, 0x83, 0x05, 0x03, 0xa9, 0x06, 63, 0x02, 0, 0, 0, 0, 0, 0, 0x12
        ]
    );
}

#[test]
fn rpi_without_tunnel_round_trips() {
    let ctx = contexts();
    let inner = udp(node(0x21), HOST, b"from a RPL-aware leaf");
    // Insert a hop-by-hop header with the RPL Option after the IPv6 header.
    let mut p = inner[..40].to_vec();
    p[6] = 0;
    let plen = u16::from_be_bytes([p[4], p[5]]) + 8;
    p[4..6].copy_from_slice(&plen.to_be_bytes());
    p.extend_from_slice(&rpi(false, 0, 0x12).hbh_header(17));
    p.extend_from_slice(&inner[40..]);
    let f = round_trip(&p, &ctx);
    assert_eq!(f[..3], [0xf1, 0x83, 0x05]);
}

#[test]
fn deep_nesting_stays_within_the_decompressors_limit() {
    // Found by the sixlo_lorh fuzz target: the outer header rebuilt from the IP-in-IP-6LoRH
    // counts against MAX_IPV6_HEADERS (4), so under a tunnel only three more IPv6 headers
    // are NHC-compressed and the fifth stays inline. Before, the compressor started the inner
    // packet at depth 1 and its output decompressed to NhcChainTooLong.
    let ctx = contexts();
    let mut inner = udp(HOST, node(0x13), b"deep");
    for _ in 0..3 {
        inner = ipv6(HOST, node(0x13), 41, 64, &inner);
    }
    round_trip(&tunnel(ROOT, &path(2), Some(rpi(true, 0, 0)), &inner), &ctx);
}

#[test]
fn visited_addresses_are_not_carried() {
    // After a router processed the Routing Header (Segments Left 1 of 2), the SRH-6LoRH holds
    // the current destination and the address left: the visited one is gone (RFC 8138 SRH
    // operation), so the rebuilt header has one address, Segments Left 1.
    let ctx = contexts();
    let p = path(3);
    let mut t = tunnel(ROOT, &p, None, &udp(HOST, p[2], b""));
    t[43] = 1;
    let mut frame = [0u8; 512];
    let n = compress(&t, &SRC, &DST, &ctx, rfc8138(), &mut frame).unwrap();
    // Page 1; SRH-6LoRH type 3 (::200:0:0:11 against the root); type 0 (::13 against it).
    assert_eq!(frame[..3], [0xf1, 0x80, 0x03]);
    assert_eq!(frame[11..14], [0x80, 0x00, 0x13]);
    let mut out = [0u8; 512];
    let m = decompress(&frame[..n], &SRC, &DST, &ctx, &mut out).unwrap();
    let want = tunnel(ROOT, &[p[0], p[2]], None, &udp(HOST, p[2], b""));
    assert_eq!(out[..m], want);
}

#[test]
fn option_6553_comes_back_as_9008() {
    let ctx = contexts();
    let p = path(2);
    let mut pkt = tunnel(ROOT, &p, Some(rpi(true, 0, 1)), &udp(HOST, p[1], b""));
    pkt[42] = 0x63;
    let mut frame = [0u8; 512];
    let n = compress(&pkt, &SRC, &DST, &ctx, rfc8138(), &mut frame).unwrap();
    let mut out = [0u8; 512];
    let m = decompress(&frame[..n], &SRC, &DST, &ctx, &mut out).unwrap();
    pkt[42] = 0x23;
    assert_eq!(out[..m], pkt);
}

#[test]
fn other_datagrams_are_unchanged_by_the_option() {
    let ctx = contexts();
    let plain = udp(node(1), node(2), b"plain");
    let p = path(3);
    // A hop-by-hop header with something else than the RPL Option: no 6LoRH form, page 0 as
    // before.
    let mut other_hbh = tunnel(ROOT, &p, Some(rpi(true, 0, 0)), &udp(HOST, p[2], b""));
    other_hbh[42] = 0x3e;
    for d in [plain, other_hbh] {
        let mut a = [0u8; 512];
        let mut b = [0u8; 512];
        let n = compress(&d, &SRC, &DST, &ctx, CompressOptions::default(), &mut a).unwrap();
        let m = compress(&d, &SRC, &DST, &ctx, rfc8138(), &mut b).unwrap();
        assert_eq!(a[..n], b[..m]);
        assert_ne!(a[0], 0xf1);
    }
    // And a tunnel without the option is page 0.
    let t = tunnel(ROOT, &p, Some(rpi(true, 0, 0)), &udp(HOST, p[2], b""));
    let mut a = [0u8; 512];
    compress(&t, &SRC, &DST, &ctx, CompressOptions::default(), &mut a).unwrap();
    assert_ne!(a[0], 0xf1);
}

/// Fragments of `p` at `budget` through our reassembler.
fn fragmented_round_trip(p: &[u8], ctx: &ContextTable, budget: usize) -> usize {
    let mut f = Fragmenter::new(p, SRC, DST, ctx, rfc8138(), 7, budget).unwrap();
    let mut r: Reassembler = Reassembler::new(ReassemblyConfig::default());
    let mut frame = [0u8; 256];
    let mut out = [0u8; 1280];
    let mut frames = 0;
    let mut done = None;
    while let Some(n) = f.next_frame(&mut frame).unwrap() {
        frames += 1;
        match r.receive(&frame[..n], &SRC, &DST, ctx, Instant::ZERO, &mut out) {
            Ok(Received::Complete(len)) => done = Some(len),
            Ok(Received::Pending) => {}
            Err(e) => panic!("frame {frames}: {e:?} {:02x?}", &frame[..n]),
        }
    }
    let len = done.expect("datagram completed");
    assert_eq!(out[..len], *p);
    frames
}

#[test]
fn fragmented_page_1_reassembles() {
    let ctx = contexts();
    let p = path(8);
    let payload: Vec<u8> = (0..1000u16).map(|i| i as u8).collect();
    let t = tunnel(ROOT, &p, Some(rpi(true, 0, 0)), &udp(HOST, p[7], &payload));
    assert!(fragmented_round_trip(&t, &ctx, 116) > 1);
}

/// The compressed header bytes with and without RFC 8138 for the root's tunnel to a target
/// `hops` deep (the frame's payload bytes are the same in both).
fn header_bytes(hops: u16) -> (usize, usize) {
    let ctx = contexts();
    let p = path(hops);
    let t = tunnel(
        ROOT,
        &p,
        Some(rpi(true, 0, 0)),
        &udp(HOST, p[p.len() - 1], b"12345678"),
    );
    let mut b = [0u8; 1024];
    let old = compress_headers(&t, &SRC, &DST, &ctx, CompressOptions::default(), &mut b)
        .unwrap()
        .written;
    let new = compress_headers(&t, &SRC, &DST, &ctx, rfc8138(), &mut b)
        .unwrap()
        .written;
    (old, new)
}

/// The table in docs/sixlo.md ("Saving"): (hops, page-0 NHC bytes, RFC 8138 bytes).
const SAVING: [(u16, usize, usize); 3] = [(1, 58, 47), (3, 74, 51), (8, 74, 56)];

#[test]
fn saving_per_frame() {
    println!("hops | page-0 NHC headers | RFC 8138 headers | saved");
    for (hops, old_doc, new_doc) in SAVING {
        let (old, new) = header_bytes(hops);
        println!("{hops:>4} | {old:>18} | {new:>16} | {:>5}", old - new);
        assert_eq!(
            (old, new),
            (old_doc, new_doc),
            "{hops} hops: update docs/sixlo.md"
        );
    }
}

// ---- hostile input ----

fn rx(
    frame: &[u8],
    ctx: &ContextTable,
) -> (
    Result<Received, sixlo::reassembly::ReceiveError>,
    sixlo::SixloStats,
) {
    let mut r: Reassembler = Reassembler::new(ReassemblyConfig::default());
    let mut out = [0u8; 1280];
    let res = r.receive(frame, &SRC, &DST, ctx, Instant::ZERO, &mut out);
    (res, *r.stats())
}

#[test]
fn hostile_6lorh_chains_are_counted_drops() {
    let ctx = contexts();
    let iphc = [0x7a, 0x33, 0x3a]; // IPHC, link-derived addresses, NH inline (ICMPv6).
    let mut cases: Vec<(Vec<u8>, DecompressError)> = vec![
        // An unknown critical 6LoRH (type 9): the packet MUST be dropped.
        (
            [&[0xf1, 0x80, 0x09][..], &iphc].concat(),
            DecompressError::Lorh(LorhError::UnknownCritical(9)),
        ),
        // A Size past the end of the frame.
        (vec![0xf1, 0x9f, 0x04, 1, 2, 3], DecompressError::Truncated),
        // An SRH-6LoRH without IP-in-IP-6LoRH.
        (
            [&[0xf1, 0x80, 0x00, 0x05][..], &iphc].concat(),
            DecompressError::Lorh(LorhError::Unsupported),
        ),
        // Two RPI-6LoRHs.
        (
            [&[0xf1, 0x83, 0x05, 0x01, 0x83, 0x05, 0x01][..], &iphc].concat(),
            DecompressError::Lorh(LorhError::Duplicate),
        ),
        // An IP-in-IP-6LoRH of Length 0.
        (
            [&[0xf1, 0xa0, 0x06][..], &iphc].concat(),
            DecompressError::Lorh(LorhError::BadLength),
        ),
        // A page-1 packet that ends after its 6LoRHs.
        (vec![0xf1, 0xa1, 0x06, 0x40], DecompressError::Truncated),
    ];
    // A chain of unknown elective 6LoRHs that never ends within the limit.
    let mut long = vec![0xf1];
    for _ in 0..100 {
        long.extend_from_slice(&[0xa0, 0x07]);
    }
    long.extend_from_slice(&iphc);
    cases.push((long, DecompressError::Lorh(LorhError::TooMany)));
    // The encapsulator elided with no root known.
    let mut no_root = ctx.clone();
    no_root.set_rpl_root(None);
    for (frame, want) in &cases {
        let mut out = [0u8; 1280];
        assert_eq!(
            decompress(frame, &SRC, &DST, &ctx, &mut out),
            Err(*want),
            "{frame:02x?}"
        );
        let (res, stats) = rx(frame, &ctx);
        assert!(res.is_err());
        assert_eq!(stats.total_drops(), 1, "{frame:02x?}");
        let counted = if *want == DecompressError::Truncated {
            stats.iphc_truncated
        } else {
            stats.bad_6lorh
        };
        assert_eq!(counted, 1, "{frame:02x?}: {stats:?}");
    }
    let elided = [&[0xf1, 0xa1, 0x06, 0x40][..], &iphc].concat();
    let mut out = [0u8; 1280];
    assert_eq!(
        decompress(&elided, &SRC, &DST, &no_root, &mut out),
        Err(DecompressError::Lorh(LorhError::MissingRoot))
    );
    // Unknown elective 6LoRHs are skipped.
    let skipped = [&[0xf1, 0xa2, 0x07, 0xde, 0xad][..], &iphc].concat();
    let plain = [&iphc[..]].concat();
    let mut a = [0u8; 100];
    let mut b = [0u8; 100];
    let n = decompress(&skipped, &SRC, &DST, &ctx, &mut a).unwrap();
    let m = decompress(&plain, &SRC, &DST, &ctx, &mut b).unwrap();
    assert_eq!(a[..n], b[..m]);
}

// ---- smoltcp reads what we rebuild ----

#[test]
fn smoltcp_parses_the_rebuilt_headers() {
    use smoltcp::wire::{
        IpProtocol, Ipv6ExtHeader, Ipv6HopByHopHeader, Ipv6HopByHopRepr, Ipv6OptionRepr,
        Ipv6Packet, Ipv6RoutingHeader, Ipv6RoutingRepr, UdpPacket,
    };
    let ctx = contexts();
    // Hand-made page 1: SRH-6LoRH type 0 with three 1-byte addresses (2001:db8::1 → ::11,
    // ::12, ::13 coalesced in turn), RPI-6LoRH (O=1, I=1, K=1, rank 0), IP-in-IP-6LoRH
    // (encapsulator elided: the root, hop limit 63), then IPHC of HOST → ::13 with UDP NHC.
    let mut frame = vec![
        0xf1, 0x82, 0x00, 0x11, 0x12, 0x13, 0x93, 0x05, 0x00, 0xa1, 0x06, 63,
    ];
    let inner = udp(
        HOST,
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x13),
        b"hello",
    );
    let mut b = [0u8; 200];
    let n = compress(&inner, &SRC, &DST, &ctx, CompressOptions::default(), &mut b).unwrap();
    frame.extend_from_slice(&b[..n]);
    let mut out = [0u8; 400];
    let m = decompress(&frame, &SRC, &DST, &ctx, &mut out).unwrap();
    let outer = Ipv6Packet::new_checked(&out[..m]).unwrap();
    assert_eq!(outer.src_addr(), ROOT);
    assert_eq!(
        outer.dst_addr(),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x11)
    );
    assert_eq!(outer.hop_limit(), 63);
    assert_eq!(outer.next_header(), IpProtocol::HopByHop);
    let ext = Ipv6ExtHeader::new_checked(outer.payload()).unwrap();
    assert_eq!(ext.next_header(), IpProtocol::Ipv6Route);
    let hbh_view = Ipv6HopByHopHeader::new_checked(ext.payload()).unwrap();
    let hbh = Ipv6HopByHopRepr::parse(&hbh_view).unwrap();
    let opts: Vec<_> = hbh.options.iter().collect();
    // smoltcp knows the RPL Option under 0x63 only; RFC 9008's 0x23 is an option of 4 bytes.
    assert!(
        matches!(opts[..], [Ipv6OptionRepr::Unknown { type_, length: 4, data }]
            if u8::from(*type_) == 0x23 && **data == [0x80, 0, 0, 0]),
        "{opts:?}"
    );
    let rh_at = 8;
    let ext = Ipv6ExtHeader::new_checked(&outer.payload()[rh_at..]).unwrap();
    assert_eq!(u8::from(ext.next_header()), 41);
    let rh_view = Ipv6RoutingHeader::new_checked(ext.payload()).unwrap();
    let rh = Ipv6RoutingRepr::parse(&rh_view).unwrap();
    let Ipv6RoutingRepr::Rpl {
        segments_left,
        cmpr_i,
        cmpr_e,
        addresses,
        ..
    } = rh
    else {
        panic!("not a type-3 routing header: {rh:?}");
    };
    assert_eq!((segments_left, cmpr_i, cmpr_e), (2, 15, 15));
    assert_eq!(addresses[..2], [0x12, 0x13]);
    let rh_len = (usize::from(ext.header_len()) + 1) * 8;
    let inner_pkt = Ipv6Packet::new_checked(&outer.payload()[rh_at + rh_len..]).unwrap();
    assert_eq!(inner_pkt.src_addr(), HOST);
    assert_eq!(inner_pkt.next_header(), IpProtocol::Udp);
    let u = UdpPacket::new_checked(inner_pkt.payload()).unwrap();
    assert_eq!(u.payload(), b"hello");
    assert_eq!(out[m - inner.len()..m], inner);
}

// ---- properties ----

fn arb_addr() -> impl Strategy<Value = Ipv6Addr> {
    prop_oneof![
        (1u16..=0xff).prop_map(node),
        any::<u16>().prop_map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x0212, 0x4b00, 0, i)),
        any::<u128>().prop_map(Ipv6Addr::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// Any root tunnel (path of 1..=40 addresses of three kinds, with or without the RPL
    /// Option, any encapsulator, root known or not) compresses to page 1 and back exactly.
    #[test]
    fn tunnels_round_trip(
        path in proptest::collection::vec(arb_addr(), 1..=40),
        o in proptest::option::of((any::<bool>(), any::<u8>(), any::<u16>())),
        encap in prop_oneof![Just(ROOT), arb_addr()],
        root_known in any::<bool>(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut ctx = contexts();
        if !root_known {
            ctx.set_rpl_root(None);
        }
        let inner = udp(HOST, *path.last().unwrap(), &payload);
        let o = o.map(|(d, i, r)| rpi(d, i, r));
        let t = tunnel(encap, &path, o, &inner);
        let mut frame = [0u8; 2048];
        let n = compress(&t, &SRC, &DST, &ctx, rfc8138(), &mut frame).unwrap();
        let mut out = [0u8; 2048];
        let m = decompress(&frame[..n], &SRC, &DST, &ctx, &mut out);
        prop_assert_eq!(m.map(|m| out[..m].to_vec()), Ok(t));
    }

    /// Decompression of arbitrary page-1 bytes never panics, and what it accepts compresses
    /// back to something that decompresses to the same datagram.
    #[test]
    fn arbitrary_page_1_never_panics(body in proptest::collection::vec(any::<u8>(), 0..120)) {
        let ctx = contexts();
        let frame = [&[0xf1][..], &body].concat();
        let mut out = [0u8; 1280];
        if let Ok(m) = decompress(&frame, &SRC, &DST, &ctx, &mut out) {
            let d = out[..m].to_vec();
            let mut f2 = [0u8; 2048];
            if let Ok(n) = compress(&d, &SRC, &DST, &ctx, rfc8138(), &mut f2) {
                let mut out2 = [0u8; 2048];
                let m2 = decompress(&f2[..n], &SRC, &DST, &ctx, &mut out2);
                prop_assert_eq!(m2.map(|m| out2[..m].to_vec()), Ok(d));
            }
        }
    }
}

// ---- tshark ----

/// An Ethernet frame (02:00:00:00:00:01 → …:02) of RFC 7973's LoWPAN ethertype 0xA0ED
/// carrying the 6LoWPAN `payload`. Stock tshark 4.0.17 does not take a frame that starts with
/// a Paging Dispatch for 6LoWPAN on an 802.15.4 link (its `dissect_6lowpan_heur` knows no
/// paging pattern: such a frame shows as "Data"); the ethertype calls the same 6LoWPAN
/// dissector, 6LoRH code included, without the heuristic. No address in these packets is
/// derived from the link layer, so the different link-layer addresses change nothing.
fn eth_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0xa0, 0xed];
    f.extend_from_slice(payload);
    f
}

/// A classic pcap (LINKTYPE_ETHERNET) of `frames`.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    for (i, p) in frames.iter().enumerate() {
        let len = u32::try_from(p.len()).unwrap();
        f.extend_from_slice(&(1_765_000_000 + u32::try_from(i).unwrap()).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(p);
    }
    f
}

/// The "Decompressed 6LoWPAN IPHC" data source of each frame in `tshark -x` output.
fn tshark_ipv6(x: &str) -> Vec<Vec<u8>> {
    let mut all = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    for line in x.lines() {
        if line.starts_with("Decompressed 6LoWPAN IPHC") {
            cur = Some(Vec::new());
        } else if line.starts_with("Frame (") || line.trim().is_empty() {
            if let Some(c) = cur.take() {
                all.push(c);
            }
        } else if let Some(c) = cur.as_mut() {
            // "0000  60 00 …  text": the hex columns between the offset and the text.
            for h in line.split("  ").nth(1).unwrap_or("").split(' ') {
                if let Ok(b) = u8::from_str_radix(h, 16) {
                    c.push(b);
                }
            }
        }
    }
    if let Some(c) = cur {
        all.push(c);
    }
    all
}

struct Case {
    name: &'static str,
    datagram: Vec<u8>,
    /// (field, value as `-T fields -E occurrence=a -E aggregator=,` prints it).
    fields: Vec<(&'static str, String)>,
}

fn hex_bool(b: bool) -> String {
    if b { "1" } else { "0" }.into()
}

fn tshark_cases() -> Vec<Case> {
    let mut v = Vec::new();
    let inner = |dst| udp(HOST, dst, b"tshark");
    // RPI-6LoRH in its four I/K forms (IP-in-IP with the root elided, one SRH address).
    for (name, inst, rank) in [
        ("RPI I=1 K=1", 0u8, 0x12u16),
        ("RPI I=0 K=0", 0x1e, 0x0300),
        ("RPI I=1 K=0", 0, 0x0400),
        ("RPI I=0 K=1", 7, 3),
    ] {
        let p = [node(0x21)];
        v.push(Case {
            name,
            datagram: tunnel(ROOT, &p, Some(rpi(true, inst, rank)), &inner(p[0])),
            fields: vec![
                ("6lowpan.pagenb", "0x0001".into()),
                ("6lowpan.6loRH.bitO", "1".into()),
                ("6lowpan.6loRH.bitI", hex_bool(inst == 0)),
                ("6lowpan.6loRH.bitK", hex_bool(rank <= 0xff)),
                ("6lowpan.rpl.instance", format!("0x{inst:02x}")),
                ("6lowpan.rhhop.limit", "0x3f".into()),
                ("6lowpan.rhElength", "1".into()),
                // One SRH-6LoRH of type 3: the hop's IID against the root's.
                ("6lowpan.rhtype", "0x0003,0x0005,0x0006".into()),
                ("ipv6.src", HOST.to_string()),
                ("ipv6.dst", p[0].to_string()),
                ("udp.length", "14".into()),
            ],
        });
    }
    // SRH-6LoRH of each size: the 2nd address differs from the 1st in 1, 2, 4, 8, 16 bytes.
    let sizes: [(&str, Ipv6Addr, &str); 5] = [
        (
            "SRH type 0",
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x12),
            "0x0000",
        ),
        (
            "SRH type 1",
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x0112),
            "0x0001",
        ),
        (
            "SRH type 2",
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, 0x12),
            "0x0002",
        ),
        (
            "SRH type 3",
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x0200, 1, 0x100, 0x12),
            "0x0003",
        ),
        (
            "SRH type 4",
            Ipv6Addr::new(0xfd00, 0, 0, 0, 0x0200, 1, 0x100, 0x12),
            "0x0004",
        ),
    ];
    for (name, second, ty) in sizes {
        // The first hop shares all but its last byte with the root (type 0), the second
        // shares with the first as `sizes` says: two SRH-6LoRHs unless it is type 0 too.
        let p = [Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x11), second];
        let types = if ty == "0x0000" {
            "0x0000,0x0005,0x0006".to_string()
        } else {
            format!("0x0000,{ty},0x0005,0x0006")
        };
        v.push(Case {
            name,
            datagram: tunnel(ROOT, &p, Some(rpi(true, 0, 0)), &inner(second)),
            fields: vec![("6lowpan.rhtype", types), ("ipv6.dst", second.to_string())],
        });
    }
    // Several SRH-6LoRHs in a row: 8 hops, six SRH-6LoRHs of types 3, 0, 2, 0, 3, 0.
    let mixed = [
        node(0x11),
        node(0x12),
        node(0x13),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x0200, 0, 0x1, 0x14),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x0200, 0, 0x1, 0x15),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x0300, 0, 0, 0x16),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x0300, 0, 0, 0x17),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x0300, 0, 0, 0x18),
    ];
    v.push(Case {
        name: "8 hops, six SRH-6LoRHs",
        datagram: tunnel(ROOT, &mixed, Some(rpi(true, 0, 0)), &inner(mixed[7])),
        fields: vec![
            (
                "6lowpan.rhtype",
                "0x0003,0x0000,0x0002,0x0000,0x0003,0x0000,0x0005,0x0006".into(),
            ),
            (
                "6lowpan.HopNuevo",
                "0x0000,0x0001,0x0000,0x0000,0x0000,0x0001".into(),
            ),
            ("ipv6.dst", mixed[7].to_string()),
        ],
    });
    // IP-in-IP: encapsulator elided (above) and inline (a router outside the root's /64).
    let far = Ipv6Addr::new(0x2001, 0xdb8, 0x77, 0, 0, 0, 0, 9);
    v.push(Case {
        name: "IP-in-IP, inline encapsulator, up to the root",
        datagram: tunnel(
            far,
            &[ROOT],
            Some(rpi(false, 0, 5)),
            &udp(node(0x31), HOST, b"up"),
        ),
        fields: vec![
            ("6lowpan.rhtype", "0x0005,0x0006".into()),
            ("6lowpan.rhElength", "17".into()),
            ("6lowpan.rhhop.limit", "0x3f".into()),
            ("6lowpan.6loRH.bitO", "0".into()),
            ("ipv6.src", node(0x31).to_string()),
            ("ipv6.dst", HOST.to_string()),
        ],
    });
    v
}

/// The encapsulated datagram of a tunnel built by [`tunnel`] (after outer header, hop-by-hop
/// header and Routing Header).
fn inner_of(t: &[u8]) -> Vec<u8> {
    let mut nh = t[6];
    let mut at = 40;
    while nh != 41 {
        nh = t[at];
        at += (usize::from(t[at + 1]) + 1) * 8;
    }
    t[at..].to_vec()
}

#[test]
fn tshark_decodes_our_6lorhs() {
    let ctx = contexts();
    let cases = tshark_cases();
    let mut frames = Vec::new();
    let mut inners = Vec::new();
    for c in &cases {
        let mut b = [0u8; 200];
        let n = compress(&c.datagram, &SRC, &DST, &ctx, rfc8138(), &mut b).unwrap();
        assert_eq!(b[0], 0xf1, "{}", c.name);
        assert!(n <= 116, "{}: {n} bytes", c.name);
        // Our decompression gives the datagram back; its inner packet is what tshark shows.
        let mut out = [0u8; 400];
        let m = decompress(&b[..n], &SRC, &DST, &ctx, &mut out).unwrap();
        assert_eq!(out[..m], c.datagram, "{}", c.name);
        inners.push(inner_of(&c.datagram));
        frames.push(eth_frame(&b[..n]));
    }
    let path = std::env::temp_dir().join(format!("sixlo-rfc8138-{}.pcap", std::process::id()));
    std::fs::write(&path, pcap(&frames)).unwrap();
    let mut cols: Vec<&str> = Vec::new();
    for c in &cases {
        for (f, _) in &c.fields {
            if !cols.contains(f) {
                cols.push(f);
            }
        }
    }
    let extra = [
        "_ws.malformed",
        "_ws.expert.severity",
        "_ws.expert.message",
        "ipv6.plen",
    ];
    let mut args = vec![
        "-o".to_string(),
        "6lowpan.context0:2001:db8::/64".to_string(),
        "-T".into(),
        "fields".into(),
        "-E".into(),
        "separator=|".into(),
        "-E".into(),
        "occurrence=a".into(),
    ];
    for c in cols.iter().chain(&extra) {
        args.push("-e".into());
        args.push((*c).into());
    }
    let out = match Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(&args)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            assert!(!ci(), "tshark is required when CI=true: {e}");
            eprintln!("tshark not installed, skipping ({e})");
            return;
        }
    };
    let verbose = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-o", "6lowpan.context0:2001:db8::/64", "-V"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&verbose.stdout);
    assert!(
        !text.contains("Malformed"),
        "tshark -V finds a malformed frame:\n{text}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows.len(), cases.len(), "{stdout}");
    let mut errors = String::new();
    for (c, row) in cases.iter().zip(&rows) {
        let vals: Vec<&str> = row.split('|').collect();
        for (f, want) in &c.fields {
            let i = cols.iter().position(|x| x == f).unwrap();
            if vals[i] != want {
                let _ = writeln!(errors, "{}: {f} = {:?}, want {want:?}", c.name, vals[i]);
            }
        }
        let (malformed, sev, msg) = (vals[cols.len()], vals[cols.len() + 1], vals[cols.len() + 2]);
        if !malformed.is_empty() {
            let _ = writeln!(errors, "{}: malformed ({malformed})", c.name);
        }
        for s in sev.split(',').filter(|s| !s.is_empty()) {
            let s = match s.strip_prefix("0x") {
                Some(h) => u32::from_str_radix(h, 16),
                None => s.parse(),
            }
            .unwrap_or(u32::MAX);
            if s >= 0x0060_0000 {
                let _ = writeln!(errors, "{}: expert {s:#x}: {msg}", c.name);
            }
        }
    }
    // tshark's decompressed IPv6 packet is the encapsulated one (it shows the 6LoRHs but does
    // not rebuild the outer headers from them): it equals the inner packet of ours.
    let hex = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-o", "6lowpan.context0:2001:db8::/64", "-x"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let theirs = tshark_ipv6(&String::from_utf8_lossy(&hex.stdout));
    assert_eq!(theirs.len(), cases.len());
    for ((c, t), ours) in cases.iter().zip(&theirs).zip(&inners) {
        if t != ours {
            let _ = writeln!(
                errors,
                "{}: tshark IPv6 {t:02x?}\n ours {ours:02x?}",
                c.name
            );
        }
    }
    assert!(errors.is_empty(), "{errors}\n{stdout}\n{text}");
}
