//! The 6LBR role of the border router, driven with real bytes and no simulator.
//!
//! A test radio records every PSDU the border router transmits and answers as a perfect
//! channel would (TX done, then an Imm-Ack for frames that request one); time advances only
//! when the test says so. Frames *from* nodes are built independently of the code under test:
//! IPv6/ICMPv6 with smoltcp's wire types, the 6LoWPAN-ND options (ARO, DAR) and the ICMPv6
//! checksum by hand, the 802.15.4 header and FCS by hand; only the IPHC compression uses
//! `sixlo::compress`. What the border router sends is decoded the other way round (FCS, MAC
//! header, RFC 4944 fragments, `sixlo::decompress`, smoltcp's IPv6 view) and its ND options are
//! walked by hand.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use firmware::app::{App, AppResources};
use firmware::config::Config;
use firmware::lbr::MIN_DELAY_BETWEEN_RAS;
use firmware::registry::Origin;
use l2_15_4::frame::{Address, Frame, FrameType};
use l2_15_4::radio::testing::{self, ScriptedRadio};
use l2_15_4::radio::{Channel, RadioEvent, TxOutcome};
use netif::{DropReason, Duration, Instant};
use sixlo::{CompressOptions, ContextTable, LinkAddr};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv6Packet, Ipv6Repr, NdiscRepr};

// ----- constants of the scenario ---------------------------------------------------------

const RS: u8 = 133;
const RA: u8 = 134;
const NS: u8 = 135;
const NA: u8 = 136;
const DAR: u8 = 157;
const DAC: u8 = 158;
const OPT_SLLAO: u8 = 1;
const OPT_TLLAO: u8 = 2;
const OPT_PIO: u8 = 3;
const OPT_ARO: u8 = 33;
const OPT_6CO: u8 = 34;
const OPT_ABRO: u8 = 35;

const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
const MESH: [u8; 8] = [0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00];

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// The IID of an EUI-64 (RFC 4291 Appendix A: universal/local bit inverted).
fn iid(eui: [u8; 8]) -> [u8; 8] {
    let mut i = eui;
    i[0] ^= 0x02;
    i
}

fn addr(prefix: [u8; 8], iid: [u8; 8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a[..8].copy_from_slice(&prefix);
    a[8..].copy_from_slice(&iid);
    Ipv6Addr::from(a)
}

const LINK_LOCAL: [u8; 8] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0];

/// A mesh node, known by its EUI-64.
#[derive(Clone, Copy, Debug)]
struct Node {
    eui: [u8; 8],
}

impl Node {
    /// Node `k`: EUI-64 00:12:4b:00:00:00:kk:kk (a universal address, as on hardware).
    fn new(k: u16) -> Node {
        let [a, b] = k.to_be_bytes();
        Node {
            eui: [0x00, 0x12, 0x4b, 0x00, 0x00, 0x00, a, b],
        }
    }
    fn link_local(&self) -> Ipv6Addr {
        addr(LINK_LOCAL, iid(self.eui))
    }
    fn global(&self) -> Ipv6Addr {
        addr(MESH, iid(self.eui))
    }
    fn ll(&self) -> Address {
        Address::Extended(self.eui)
    }
}

// ----- independent ICMPv6 checksum (RFC 4443 §2.3 over the RFC 8200 §8.1 pseudo-header) --

fn ones_sum(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(u16::from_be_bytes([*last, 0]));
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Sum of the pseudo-header (source, destination, upper-layer length, next header 58) and
/// `msg` as it stands (checksum field included).
fn pseudo_sum(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &[u8]) -> u16 {
    let mut acc = ones_sum(0, &src.octets());
    acc = ones_sum(acc, &dst.octets());
    acc = ones_sum(acc, &(msg.len() as u32).to_be_bytes());
    acc = ones_sum(acc, &[0, 0, 0, 58]);
    fold(ones_sum(acc, msg))
}

fn fill_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &mut [u8]) {
    msg[2] = 0;
    msg[3] = 0;
    let c = !pseudo_sum(src, dst, msg);
    msg[2..4].copy_from_slice(&c.to_be_bytes());
}

fn checksum_verifies(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &[u8]) -> bool {
    pseudo_sum(src, dst, msg) == 0xffff
}

// ----- messages from nodes -------------------------------------------------------------

/// 802.15.4 link-layer address option (RFC 4944 §8): type, length 2, EUI-64, 6 bytes padding.
fn lla_option(ty: u8, eui: [u8; 8]) -> [u8; 16] {
    let mut o = [0u8; 16];
    o[0] = ty;
    o[1] = 2;
    o[2..10].copy_from_slice(&eui);
    o
}

/// Address Registration Option (RFC 6775 §4.1): type 33, length 2, status, 3 reserved bytes,
/// registration lifetime (units of 60 s), EUI-64.
fn aro_option(status: u8, lifetime_min: u16, eui: [u8; 8]) -> [u8; 16] {
    let mut o = [0u8; 16];
    o[0] = OPT_ARO;
    o[1] = 2;
    o[2] = status;
    o[6..8].copy_from_slice(&lifetime_min.to_be_bytes());
    o[8..16].copy_from_slice(&eui);
    o
}

/// An ICMPv6 message body from smoltcp's NDISC emitter (no options), for the options to be
/// appended by hand.
fn ndisc_body(repr: NdiscRepr<'_>, src: &Ipv6Addr, dst: &Ipv6Addr) -> Vec<u8> {
    let repr = Icmpv6Repr::Ndisc(repr);
    let mut body = vec![0u8; repr.buffer_len()];
    repr.emit(
        src,
        dst,
        &mut Icmpv6Packet::new_unchecked(&mut body[..]),
        &ChecksumCapabilities::ignored(),
    );
    body
}

/// How to finish an IPv6 packet.
#[derive(Clone, Copy)]
struct Ip {
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    good_checksum: bool,
}

impl Ip {
    fn nd(src: Ipv6Addr, dst: Ipv6Addr) -> Ip {
        Ip {
            src,
            dst,
            hop_limit: 255,
            good_checksum: true,
        }
    }
    /// The IPv6 datagram carrying `icmp` (checksum filled, or deliberately broken).
    fn build(&self, mut icmp: Vec<u8>) -> Vec<u8> {
        fill_checksum(&self.src, &self.dst, &mut icmp);
        if !self.good_checksum {
            icmp[3] ^= 0x5a;
        }
        let repr = Ipv6Repr {
            src_addr: self.src,
            dst_addr: self.dst,
            next_header: IpProtocol::Icmpv6,
            payload_len: icmp.len(),
            hop_limit: self.hop_limit,
        };
        let mut buf = vec![0u8; repr.buffer_len() + icmp.len()];
        repr.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
        buf[repr.buffer_len()..].copy_from_slice(&icmp);
        buf
    }
}

fn rs_body(ip: &Ip, sllao: Option<[u8; 8]>) -> Vec<u8> {
    let mut b = ndisc_body(NdiscRepr::RouterSolicit { lladdr: None }, &ip.src, &ip.dst);
    assert_eq!(b[0], RS);
    if let Some(e) = sllao {
        b.extend_from_slice(&lla_option(OPT_SLLAO, e));
    }
    b
}

/// NS for `target` with an optional SLLAO and ARO (lifetime, EUI-64).
fn ns_body(
    ip: &Ip,
    target: Ipv6Addr,
    sllao: Option<[u8; 8]>,
    aro: Option<(u16, [u8; 8])>,
) -> Vec<u8> {
    let mut b = ndisc_body(
        NdiscRepr::NeighborSolicit {
            target_addr: target,
            lladdr: None,
        },
        &ip.src,
        &ip.dst,
    );
    assert_eq!(b[0], NS);
    if let Some(e) = sllao {
        b.extend_from_slice(&lla_option(OPT_SLLAO, e));
    }
    if let Some((lifetime, eui)) = aro {
        b.extend_from_slice(&aro_option(0, lifetime, eui));
    }
    b
}

/// Duplicate Address Request (RFC 6775 §4.4): type 157, code 0, checksum, status 0, reserved,
/// registration lifetime, EUI-64, registered address.
fn dar_body(lifetime_min: u16, eui: [u8; 8], registered: Ipv6Addr) -> Vec<u8> {
    let mut b = vec![DAR, 0, 0, 0, 0, 0];
    b.extend_from_slice(&lifetime_min.to_be_bytes());
    b.extend_from_slice(&eui);
    b.extend_from_slice(&registered.octets());
    b
}

// ----- 802.15.4 framing by hand ------------------------------------------------------------

fn crc16_kermit(b: &[u8]) -> u16 {
    crc::Crc::<u16>::new(&crc::CRC_16_KERMIT).checksum(b)
}

/// An IEEE 802.15.4-2006 data frame (§7.2.2.2): frame control (type 001 data, no security,
/// no frame pending, no ACK request, PAN ID compression; destination mode short or extended,
/// frame version 01, source mode extended), sequence number, destination PAN ID, destination
/// address, source address (all little-endian on air), payload, FCS (CRC-16/KERMIT, LE).
fn data_frame(seq: u8, pan: u16, src: [u8; 8], dst: Address, payload: &[u8]) -> Vec<u8> {
    let dst_mode: u16 = match dst {
        Address::Short(_) => 0b10,
        Address::Extended(_) => 0b11,
    };
    let fc: u16 = 0b001 | 1 << 6 | dst_mode << 10 | 0b01 << 12 | 0b11 << 14;
    let mut f = fc.to_le_bytes().to_vec();
    f.push(seq);
    f.extend_from_slice(&pan.to_le_bytes());
    match dst {
        Address::Short(s) => f.extend_from_slice(&s.to_le_bytes()),
        Address::Extended(e) => f.extend(e.iter().rev()),
    }
    f.extend(src.iter().rev());
    f.extend_from_slice(payload);
    let fcs = crc16_kermit(&f);
    f.extend_from_slice(&fcs.to_le_bytes());
    assert!(f.len() <= 127, "frame of {} bytes", f.len());
    f
}

// ----- the test radio, the null Ethernet driver ---------------------------------------------

/// The border router's radio: no hardware help; records what it transmits.
type TestRadio = ScriptedRadio<16>;

struct NullEth([u8; 6]);

impl ethernet::Driver for NullEth {
    type Error = core::convert::Infallible;
    fn mac(&self) -> [u8; 6] {
        self.0
    }
    fn receive(&mut self, _: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        Ok(None)
    }
    fn transmit(&mut self, _: &[u8]) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

// ----- what the border router sent, decoded ------------------------------------------------

/// One IPv6 datagram the border router sent on the mesh.
#[derive(Clone, Debug)]
struct Sent {
    at: Instant,
    ll_dst: Option<Address>,
    ip: Vec<u8>,
}

impl Sent {
    fn ipv6(&self) -> Ipv6Packet<&[u8]> {
        Ipv6Packet::new_checked(&self.ip[..]).unwrap()
    }
    fn icmp(&self) -> Option<&[u8]> {
        let p = self.ipv6();
        (p.next_header() == IpProtocol::Icmpv6)
            .then(|| &self.ip[40..40 + usize::from(p.payload_len())])
    }
    fn icmp_type(&self) -> Option<u8> {
        self.icmp().and_then(|m| m.first().copied())
    }
    fn src(&self) -> Ipv6Addr {
        self.ipv6().src_addr()
    }
    fn dst(&self) -> Ipv6Addr {
        self.ipv6().dst_addr()
    }
    fn hop_limit(&self) -> u8 {
        self.ipv6().hop_limit()
    }
    /// The message's checksum verifies with our own code.
    fn checksum_ok(&self) -> bool {
        checksum_verifies(&self.src(), &self.dst(), self.icmp().unwrap())
    }
}

/// The ND options after the fixed part (`fixed` bytes) of `msg`, each whole (type, length
/// included). Panics on a malformed option list: the border router must never send one.
fn options(msg: &[u8], fixed: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut o = &msg[fixed..];
    while !o.is_empty() {
        let len = usize::from(o[1]) * 8;
        assert!(
            len > 0 && len <= o.len(),
            "malformed option list {msg:02x?}"
        );
        out.push(&o[..len]);
        o = &o[len..];
    }
    out
}

fn option(msg: &[u8], fixed: usize, ty: u8) -> Option<&[u8]> {
    options(msg, fixed).into_iter().find(|o| o[0] == ty)
}

/// A datagram being reassembled from the border router's fragments (RFC 4944 §5.3).
#[derive(Default)]
struct Partial {
    size: usize,
    first: Option<Vec<u8>>,
    rest: BTreeMap<u8, Vec<u8>>,
}

// ----- the harness ---------------------------------------------------------------------------

struct Harness {
    app: App<'static>,
    radio: TestRadio,
    eth: NullEth,
    now: Instant,
    seq: u8,
    contexts: ContextTable,
    partial: BTreeMap<(Address, u16), Partial>,
    sent: Vec<Sent>,
}

impl Harness {
    fn new() -> Harness {
        Self::with_config(Config::default())
    }

    fn with_config(cfg: Config) -> Harness {
        let res: &mut AppResources = Box::leak(Box::new(AppResources::new()));
        let mut radio = TestRadio::default();
        let eth = NullEth(cfg.eth_mac);
        let app = App::new(cfg, res, Instant::ZERO, &mut radio).unwrap();
        let contexts = app.wpan().contexts().clone();
        let mut h = Harness {
            app,
            radio,
            eth,
            now: Instant::ZERO,
            seq: 0,
            contexts,
            partial: BTreeMap::new(),
            sent: Vec::new(),
        };
        h.run_until(Instant::ZERO);
        h
    }

    fn cfg(&self) -> &Config {
        self.app.config()
    }

    fn br_eui(&self) -> [u8; 8] {
        self.cfg().eui64
    }
    fn br_link_local(&self) -> Ipv6Addr {
        addr(LINK_LOCAL, iid(self.br_eui()))
    }
    fn br_global(&self) -> Ipv6Addr {
        addr(MESH, iid(self.br_eui()))
    }

    /// Complete every transmission the radio started: TX done at the end of its airtime, and
    /// an Imm-Ack (IEEE 802.15.4-2006 §7.2.2.3) 12 symbols later for a frame that asked.
    fn drain_tx(&mut self) {
        for _ in 0..100_000 {
            let Some(rec) = self.radio.pop_sent() else {
                return;
            };
            let (start, psdu) = (rec.at, rec.psdu.to_vec());
            // Preamble, SFD and PHR (6 bytes) plus the PSDU, 32 µs per byte.
            let end = start + Duration::from_micros((6 + psdu.len() as u64) * 32);
            self.now = self.now.max(end);
            let ev = RadioEvent::TxDone {
                end,
                outcome: TxOutcome::Sent,
            };
            self.app.on_radio_event(self.now, ev, &mut self.radio);
            let n = psdu.len();
            assert_eq!(
                crc16_kermit(&psdu[..n - 2]).to_le_bytes(),
                [psdu[n - 2], psdu[n - 1]],
                "the border router sent a bad FCS"
            );
            let frame = Frame::new_checked(&psdu[..n - 2]).unwrap();
            if frame.frame_type() == FrameType::Ack {
                continue;
            }
            if frame.ack_request() {
                let seq = frame.sequence_number().unwrap();
                let mut ack = vec![0x02, 0x00, seq];
                ack.extend_from_slice(&crc16_kermit(&ack).to_le_bytes());
                self.now = end + Duration::from_micros(12 * 16 + 11 * 32);
                self.receive(&ack);
            }
            self.decode(start, &frame);
        }
        panic!("the border router never stops transmitting");
    }

    /// Decode one data frame of the border router into the datagram log.
    fn decode(&mut self, t: Instant, frame: &Frame<&[u8]>) {
        assert_eq!(frame.frame_type(), FrameType::Data, "unexpected frame type");
        let src = frame.src_addr().unwrap();
        assert_eq!(src, Address::Extended(self.br_eui()));
        let dst = frame.dst_addr();
        let payload = frame.payload().unwrap();
        let (ls, ld) = (
            LinkAddr::from(src),
            dst.map_or(LinkAddr::Absent, LinkAddr::from),
        );
        let b0 = payload[0];
        let mut out = vec![0u8; 1280];
        let complete = match b0 & 0xf8 {
            // FRAG1: 11000, datagram_size (11 bits), datagram_tag (16 bits).
            0xc0 | 0xe0 => {
                let size = usize::from(u16::from_be_bytes([b0 & 7, payload[1]]));
                let tag = u16::from_be_bytes([payload[2], payload[3]]);
                let p = self.partial.entry((dst.unwrap(), tag)).or_default();
                p.size = size;
                if b0 & 0xf8 == 0xc0 {
                    p.first = Some(payload[4..].to_vec());
                } else {
                    // FRAGN: ... plus datagram_offset (8 bits, units of 8 octets).
                    p.rest.insert(payload[4], payload[5..].to_vec());
                }
                let Some(first) = p.first.clone() else { return };
                let mut len =
                    sixlo::decompress(&first, &ls, &ld, &self.contexts, &mut out).unwrap();
                let mut compressed = first;
                for (off, data) in &p.rest {
                    if usize::from(*off) * 8 != len {
                        return; // a hole: more to come
                    }
                    len += data.len();
                    compressed.extend_from_slice(data);
                }
                if len != size {
                    return;
                }
                self.partial.remove(&(dst.unwrap(), tag));
                let n = sixlo::decompress(&compressed, &ls, &ld, &self.contexts, &mut out).unwrap();
                assert_eq!(n, size, "datagram_size disagrees with the datagram");
                n
            }
            _ => sixlo::decompress(payload, &ls, &ld, &self.contexts, &mut out).unwrap(),
        };
        out.truncate(complete);
        let ip = Ipv6Packet::new_checked(&out[..]).unwrap();
        assert_eq!(usize::from(ip.payload_len()) + 40, out.len());
        self.sent.push(Sent {
            at: t,
            ll_dst: dst,
            ip: out,
        });
    }

    /// Hand a PSDU to the border router as received now.
    fn receive(&mut self, psdu: &[u8]) {
        let rx = testing::received(psdu, self.now, Channel::new(26).unwrap());
        self.app
            .on_radio_event(self.now, RadioEvent::Received(rx), &mut self.radio);
    }

    /// Run every timer of the border router up to `t`.
    fn run_until(&mut self, t: Instant) {
        for _ in 0..1_000_000 {
            self.drain_tx();
            match self.app.next_deadline() {
                Some(d) if d <= t => {
                    self.now = self.now.max(d);
                    self.app.poll(self.now, &mut self.radio, &mut self.eth);
                }
                _ => {
                    self.now = self.now.max(t);
                    self.app.poll(self.now, &mut self.radio, &mut self.eth);
                    self.drain_tx();
                    return;
                }
            }
        }
        panic!("the border router's deadlines never pass {t:?}");
    }

    fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// `from` sends the IPv6 datagram `ip` in one frame to `ll_dst`; the border router then
    /// runs for 100 ms.
    fn send(&mut self, from: [u8; 8], ll_dst: Address, ip: &[u8]) {
        let mut payload = [0u8; 127];
        let n = sixlo::compress(
            ip,
            &LinkAddr::Extended(from),
            &LinkAddr::from(ll_dst),
            &self.contexts,
            CompressOptions::default(),
            &mut payload,
        )
        .unwrap();
        self.seq = self.seq.wrapping_add(1);
        let pan = self.cfg().pan_id;
        let psdu = data_frame(self.seq, pan, from, ll_dst, &payload[..n]);
        self.receive(&psdu);
        // The shell polls after a batch of radio events (see `App`).
        self.app.poll(self.now, &mut self.radio, &mut self.eth);
        self.run_for(Duration::from_millis(100));
    }

    fn to_br(&self) -> Address {
        Address::Extended(self.br_eui())
    }

    /// `node` registers its global address (RFC 6775 §5.5: source and target are the address,
    /// destination the router's link-local address) for `lifetime` minutes with `rovr`.
    fn register(&mut self, node: Node, rovr: [u8; 8], lifetime: u16) {
        self.register_addr(node, node.global(), rovr, lifetime);
    }

    fn register_addr(&mut self, node: Node, a: Ipv6Addr, rovr: [u8; 8], lifetime: u16) {
        let ip = Ip::nd(a, self.br_link_local());
        let body = ns_body(&ip, a, Some(node.eui), Some((lifetime, rovr)));
        let dst = self.to_br();
        self.send(node.eui, dst, &ip.build(body));
    }

    /// Datagrams of ICMPv6 type `ty` sent since `since`.
    fn sent_icmp(&self, ty: u8, since: Instant) -> Vec<Sent> {
        self.sent
            .iter()
            .filter(|s| s.at >= since && s.icmp_type() == Some(ty))
            .cloned()
            .collect()
    }

    /// The one NA sent since `since`.
    fn one_na(&self, since: Instant) -> Sent {
        let v = self.sent_icmp(NA, since);
        assert_eq!(v.len(), 1, "expected one NA, got {v:#?}");
        v.into_iter().next().unwrap()
    }

    fn assert_pool(&self) {
        assert!(self.app.pool_accounted(), "packet buffers leaked");
    }
}

/// The ARO of an NA: (status, lifetime, EUI-64).
fn na_aro(na: &Sent) -> (u8, u16, [u8; 8]) {
    let m = na.icmp().unwrap();
    let aro = option(m, 24, OPT_ARO).expect("NA without ARO");
    assert_eq!(aro[1], 2, "ARO length");
    (
        aro[2],
        u16::from_be_bytes([aro[6], aro[7]]),
        aro[8..16].try_into().unwrap(),
    )
}

fn na_target(na: &Sent) -> Ipv6Addr {
    let m = na.icmp().unwrap();
    Ipv6Addr::from(<[u8; 16]>::try_from(&m[8..24]).unwrap())
}

// ----- tests ---------------------------------------------------------------------------------

#[test]
fn rs_gets_a_unicast_ra_with_pio_6co_abro() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(1);
    let t0 = h.now;
    let ip = Ip::nd(node.link_local(), ALL_ROUTERS);
    let body = rs_body(&ip, Some(node.eui));
    h.send(node.eui, Address::BROADCAST, &ip.build(body));

    let ras: Vec<_> = h
        .sent_icmp(RA, t0)
        .into_iter()
        .filter(|s| s.dst() == node.link_local())
        .collect();
    assert_eq!(ras.len(), 1, "one solicited RA: {ras:#?}");
    let ra = &ras[0];
    assert_eq!(
        ra.ll_dst,
        Some(node.ll()),
        "sent to the node's extended address"
    );
    assert_eq!(ra.src(), h.br_link_local());
    assert_eq!(ra.hop_limit(), 255);
    assert!(ra.checksum_ok(), "RA checksum");
    let m = ra.icmp().unwrap();
    let cfg = h.cfg().clone();
    assert_eq!(m[1], 0, "code");
    let router_lifetime = u16::from_be_bytes([m[6], m[7]]);
    assert_ne!(router_lifetime, 0);
    assert_eq!(router_lifetime, cfg.ra.router_lifetime_s);

    // SLLAO: the border router's EUI-64.
    let sllao = option(m, 16, OPT_SLLAO).expect("SLLAO");
    assert_eq!(sllao, lla_option(OPT_SLLAO, h.br_eui()));

    // PIO (RFC 4861 §4.6.2): length 4, prefix length, L|A|reserved, valid, preferred,
    // reserved2, prefix.
    let pio = option(m, 16, OPT_PIO).expect("PIO");
    assert_eq!(pio[1], 4);
    assert_eq!(pio[2], 64);
    assert_eq!(pio[3] & 0x80, 0, "L=0");
    assert_eq!(pio[3] & 0x40, 0x40, "A=1");
    assert_eq!(
        u32::from_be_bytes(pio[4..8].try_into().unwrap()),
        cfg.ra.prefix_valid_s
    );
    assert_eq!(
        u32::from_be_bytes(pio[8..12].try_into().unwrap()),
        cfg.ra.prefix_preferred_s
    );
    assert_eq!(&pio[16..24], &MESH);
    assert_eq!(&pio[24..32], &[0; 8]);

    // 6CO (RFC 6775 §4.2): length 2 for a /64, context length, res|C|CID, reserved, valid
    // lifetime (minutes), prefix.
    let co = option(m, 16, OPT_6CO).expect("6CO");
    assert_eq!(co[1], 2);
    assert_eq!(co[2], 64);
    assert_eq!(co[3] & 0x10, 0x10, "C=1");
    assert_eq!(co[3] & 0x0f, 0, "CID 0");
    assert_eq!(
        u16::from_be_bytes([co[6], co[7]]),
        cfg.ra.context_lifetime_min
    );
    assert_eq!(&co[8..16], &MESH);

    // ABRO (RFC 6775 §4.3): length 3, version low, version high, valid lifetime, 6LBR address.
    let abro = option(m, 16, OPT_ABRO).expect("ABRO");
    assert_eq!(abro[1], 3);
    let low = u16::from_be_bytes([abro[2], abro[3]]);
    let high = u16::from_be_bytes([abro[4], abro[5]]);
    assert_eq!(u32::from(high) << 16 | u32::from(low), cfg.abro_version);
    assert_eq!(
        u16::from_be_bytes([abro[6], abro[7]]),
        cfg.ra.abro_valid_lifetime_min
    );
    assert_eq!(&abro[8..24], &h.br_global().octets());

    assert_eq!(h.app.lbr().stats().rx_rs, 1);
    assert_eq!(h.app.lbr().stats().tx_ra_solicited, 1);
    h.assert_pool();
}

#[test]
fn periodic_multicast_ras_follow_rfc4861_and_rfc6775() {
    let mut h = Harness::new();
    h.run_until(at(60_000));
    let ras: Vec<_> = h
        .sent_icmp(RA, Instant::ZERO)
        .into_iter()
        .filter(|s| s.dst() == ALL_NODES)
        .collect();
    let times: Vec<u64> = ras.iter().map(|r| r.at.as_millis()).collect();
    for r in &ras {
        assert_eq!(
            r.ll_dst,
            Some(Address::BROADCAST),
            "multicast RAs go to 0xffff"
        );
        assert_eq!(r.hop_limit(), 255);
        assert!(r.checksum_ok());
    }
    assert!(!ras.is_empty(), "no RA at all in 60 s");
    assert!(times[0] < 100, "the first RA waits: {times:?} ms");
    for w in ras.windows(2) {
        let gap = w[1].at.saturating_since(w[0].at);
        // RFC 6775 §9 MIN_DELAY_BETWEEN_RAS; RFC 4861 §6.2.4 MAX_INITIAL_RTR_ADVERT_INTERVAL
        // (plus the MAC's channel access).
        assert!(
            gap >= MIN_DELAY_BETWEEN_RAS,
            "RAs {times:?} ms closer than 10 s"
        );
        assert!(
            gap <= Duration::from_secs(16) + Duration::from_millis(50),
            "{times:?}"
        );
    }
    // RFC 4861 §6.2.4: only the first MAX_INITIAL_RTR_ADVERTISEMENTS (3) use the short
    // interval; the regular one is at least 200 s with the default configuration, so nothing
    // else falls in the first minute.
    assert!(
        ras.len() <= 3,
        "more than MAX_INITIAL_RTR_ADVERTISEMENTS RAs in the first 60 s: at {times:?} ms"
    );
    assert_eq!(h.app.lbr().stats().tx_ra_multicast, ras.len() as u64);
    h.assert_pool();
}

#[test]
fn ns_with_aro_registers_and_is_answered() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(7);
    let t0 = h.now;
    h.register(node, node.eui, 10);

    let na = h.one_na(t0);
    assert_eq!(na.ll_dst, Some(node.ll()));
    assert_eq!(na.dst(), node.global());
    assert_eq!(na.src(), h.br_link_local());
    assert_eq!(na.hop_limit(), 255);
    assert!(na.checksum_ok());
    assert_eq!(na_target(&na), node.global());
    assert_eq!(na_aro(&na), (0, 10, node.eui));

    let info = h
        .app
        .nodes()
        .find(|n| n.addr == node.global())
        .expect("listed by nodes()");
    assert!(info.registered);
    assert_eq!(info.eui64, Some(node.eui));
    assert_eq!(info.ll, node.ll());
    let e = h.app.wpan().registry().lookup(&node.global()).unwrap();
    assert_eq!(e.origin, Origin::Registered);
    assert_eq!(e.eui64(), Some(node.eui));
    assert_eq!(e.ll, node.ll());
    assert_eq!(e.expires, t0 + Duration::from_secs(600));
    assert_eq!(h.app.status().registered, 1);
    assert_eq!(h.app.lbr().stats().reg_success, 1);
    h.assert_pool();
}

#[test]
fn second_owner_of_an_address_is_a_duplicate() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let first = Node::new(1);
    let second = Node::new(2);
    h.register(first, first.eui, 10);
    let t1 = h.now;
    // The second node claims the first one's address.
    h.register_addr(second, first.global(), second.eui, 10);

    let na = h.one_na(t1);
    assert_eq!(na.ll_dst, Some(second.ll()), "told at its own link address");
    assert_eq!(na_aro(&na).0, 1, "status 1: duplicate address");
    assert_eq!(na_aro(&na).2, second.eui);
    let e = h.app.wpan().registry().lookup(&first.global()).unwrap();
    assert_eq!(e.eui64(), Some(first.eui), "first registration intact");
    assert_eq!(e.ll, first.ll());
    assert_eq!(e.origin, Origin::Registered);
    assert_eq!(h.app.lbr().stats().reg_duplicate, 1);
    h.assert_pool();
}

#[test]
fn lifetime_zero_from_the_owner_deregisters() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(3);
    h.register(node, node.eui, 10);
    assert!(h.app.wpan().registry().lookup(&node.global()).is_some());
    let t1 = h.now;
    h.register(node, node.eui, 0);

    let na = h.one_na(t1);
    assert_eq!(na.ll_dst, Some(node.ll()));
    assert_eq!(na_aro(&na), (0, 0, node.eui));
    assert!(h.app.wpan().registry().lookup(&node.global()).is_none());
    assert!(h.app.nodes().all(|n| n.addr != node.global()));
    assert_eq!(h.app.lbr().stats().reg_removed, 1);
    h.assert_pool();
}

#[test]
fn address_outside_the_mesh_prefix_is_topologically_incorrect() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(4);
    let outside: Ipv6Addr = "2001:db8:99::1".parse().unwrap();
    let t0 = h.now;
    // From its link-local address (an outside source would be dropped by the ingress policy
    // before the 6LBR sees it), registering the outside address as the target (RFC 8505).
    let ip = Ip::nd(node.link_local(), h.br_link_local());
    let body = ns_body(&ip, outside, Some(node.eui), Some((10, node.eui)));
    let dst = h.to_br();
    h.send(node.eui, dst, &ip.build(body));

    let na = h.one_na(t0);
    assert_eq!(na.ll_dst, Some(node.ll()));
    assert_eq!(na_target(&na), outside);
    assert_eq!(na_aro(&na).0, 8, "status 8: topologically incorrect");
    assert!(h.app.wpan().registry().lookup(&outside).is_none());
    assert_eq!(h.app.lbr().stats().reg_topology, 1);
    h.assert_pool();
}

#[test]
fn full_table_answers_status_2() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let cap = h.app.wpan().registry().capacity();
    assert_eq!(cap, 256);
    for k in 0..cap {
        let n = Node::new(1000 + k as u16);
        h.register(n, n.eui, 60);
    }
    assert_eq!(h.app.lbr().stats().reg_success, cap as u64);
    assert_eq!(h.app.status().registered, cap);
    let last = Node::new(5000);
    let t1 = h.now;
    h.register(last, last.eui, 60);
    let na = h.one_na(t1);
    assert_eq!(na.ll_dst, Some(last.ll()));
    assert_eq!(na_aro(&na).0, 2, "status 2: neighbor cache full");
    assert!(h.app.wpan().registry().lookup(&last.global()).is_none());
    assert_eq!(h.app.lbr().stats().reg_full, 1);
    // Every earlier registration is still there.
    for k in 0..cap {
        let n = Node::new(1000 + k as u16);
        assert!(h.app.wpan().registry().lookup(&n.global()).is_some());
    }
    h.assert_pool();
}

#[test]
fn registration_expires_after_its_lifetime() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(9);
    let t0 = h.now;
    h.register(node, node.eui, 1);
    h.run_until(t0 + Duration::from_secs(59));
    assert!(h.app.wpan().registry().lookup(&node.global()).is_some());
    h.run_until(t0 + Duration::from_secs(62));
    assert!(h.app.wpan().registry().lookup(&node.global()).is_none());
    assert!(
        h.app
            .wpan()
            .registry()
            .iter()
            .all(|e| e.addr != node.global()),
        "expired entry still in the table"
    );
    assert_eq!(h.app.status().registered, 0);
    assert!(h.app.nodes().all(|n| n.addr != node.global()));
    h.assert_pool();
}

#[test]
fn plain_ns_for_our_link_local_gets_a_solicited_na() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(11);
    let br_ll = h.br_link_local();
    // An RFC 4861 host resolving the router: to its solicited-node group ff02::1:ffXX:XXXX.
    let o = br_ll.octets();
    let sn = Ipv6Addr::from([
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, o[13], o[14], o[15],
    ]);
    let t0 = h.now;
    let ip = Ip::nd(node.link_local(), sn);
    let body = ns_body(&ip, br_ll, Some(node.eui), None);
    h.send(node.eui, Address::BROADCAST, &ip.build(body));

    let na = h.one_na(t0);
    assert_eq!(na.ll_dst, Some(node.ll()));
    assert_eq!(na.dst(), node.link_local());
    assert_eq!(na.src(), br_ll);
    assert_eq!(na.hop_limit(), 255);
    assert!(na.checksum_ok());
    assert_eq!(na_target(&na), br_ll);
    let m = na.icmp().unwrap();
    assert_eq!(m[4] & 0xe0, 0xe0, "R, S and O set");
    let tllao = option(m, 24, OPT_TLLAO).expect("TLLAO");
    assert_eq!(tllao, lla_option(OPT_TLLAO, h.br_eui()));
    assert!(option(m, 24, OPT_ARO).is_none());
    h.assert_pool();
}

#[test]
fn invalid_nd_messages_are_counted_and_never_answered() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let node = Node::new(12);
    let br_ll = h.br_link_local();
    let to = h.to_br();
    let before = h.app.lbr().stats();
    let w = h.app.wpan_index();
    let bad_icmp = h.app.iface_stats(w).unwrap().dropped(DropReason::BadIcmp);
    let t0 = h.now;
    let aro = Some((10, node.eui));

    // Hop limit 64: not from a neighbour (RFC 4861 §7.1.1).
    let mut ip = Ip::nd(node.global(), br_ll);
    ip.hop_limit = 64;
    let body = ns_body(&ip, node.global(), Some(node.eui), aro);
    h.send(node.eui, to, &ip.build(body));

    // Code 1.
    let ip = Ip::nd(node.global(), br_ll);
    let mut body = ns_body(&ip, node.global(), Some(node.eui), aro);
    body[1] = 1;
    h.send(node.eui, to, &ip.build(body));

    // A zero-length option (RFC 4861 §4.6: must be silently discarded).
    let mut body = ns_body(&ip, node.global(), Some(node.eui), aro);
    body.extend_from_slice(&[OPT_SLLAO, 0, 0, 0, 0, 0, 0, 0]);
    h.send(node.eui, to, &ip.build(body));

    // An ARO without SLLAO (RFC 6775 §6.5).
    let body = ns_body(&ip, node.global(), None, aro);
    h.send(node.eui, to, &ip.build(body));

    let after = h.app.lbr().stats();
    assert_eq!(after.rx_invalid, before.rx_invalid + 4, "{after:#?}");

    // A bad checksum never reaches the 6LBR: the core drops it (counted as bad_icmp).
    let mut ip = Ip::nd(node.global(), br_ll);
    ip.good_checksum = false;
    let body = ns_body(&ip, node.global(), Some(node.eui), aro);
    h.send(node.eui, to, &ip.build(body));
    assert_eq!(
        h.app.iface_stats(w).unwrap().dropped(DropReason::BadIcmp),
        bad_icmp + 1
    );
    assert_eq!(h.app.lbr().stats().rx_invalid, before.rx_invalid + 4);

    h.run_for(Duration::from_secs(1));
    assert!(h.sent_icmp(NA, t0).is_empty(), "an invalid NS was answered");
    let s = h.app.lbr().stats();
    assert_eq!(s.tx_na, before.tx_na);
    assert_eq!(s.reg_success, before.reg_success);
    assert!(
        h.app
            .wpan()
            .registry()
            .lookup(&node.global())
            .is_none_or(|e| e.origin == Origin::Gleaned)
    );
    h.assert_pool();
}

#[test]
fn dar_from_a_6lr_gets_a_dac() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let router = Node::new(20);
    let host = Node::new(21);
    let other = Node::new(22);
    let br = h.br_global();
    let to = h.to_br();

    let t0 = h.now;
    let mut ip = Ip::nd(router.global(), br);
    ip.hop_limit = 64; // multihop (RFC 6775 §8.2.1)
    h.send(
        router.eui,
        to,
        &ip.build(dar_body(10, host.eui, host.global())),
    );
    let dacs = h.sent_icmp(DAC, t0);
    assert_eq!(dacs.len(), 1, "{dacs:#?}");
    let dac = &dacs[0];
    assert_eq!(dac.ll_dst, Some(router.ll()));
    assert_eq!(dac.dst(), router.global());
    assert_eq!(dac.src(), br);
    assert!(dac.checksum_ok());
    let m = dac.icmp().unwrap();
    assert_eq!(m.len(), 32);
    assert_eq!(m[1], 0, "code 0: 64-bit EUI-64");
    assert_eq!(m[4], 0, "status 0");
    assert_eq!(u16::from_be_bytes([m[6], m[7]]), 10);
    assert_eq!(&m[8..16], &host.eui);
    assert_eq!(&m[16..32], &host.global().octets());
    let e = h.app.wpan().registry().lookup(&host.global()).unwrap();
    assert_eq!(e.origin, Origin::Registered);
    assert_eq!(e.eui64(), Some(host.eui));
    assert_eq!(e.ll, router.ll(), "reached through the 6LR");

    let t1 = h.now;
    h.send(
        router.eui,
        to,
        &ip.build(dar_body(10, other.eui, host.global())),
    );
    let dacs = h.sent_icmp(DAC, t1);
    assert_eq!(dacs.len(), 1);
    let m = dacs[0].icmp().unwrap();
    assert_eq!(m[4], 1, "status 1: duplicate");
    assert_eq!(&m[8..16], &other.eui);
    let e = h.app.wpan().registry().lookup(&host.global()).unwrap();
    assert_eq!(e.eui64(), Some(host.eui), "first owner intact");
    let s = h.app.lbr().stats();
    assert_eq!((s.rx_dar, s.tx_dac), (2, 2));
    h.assert_pool();
}
