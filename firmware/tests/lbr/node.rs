//! What the mesh nodes send, built by hand and independently of the code under test: the
//! scenario's constants and addresses, the ICMPv6 checksum (RFC 4443 §2.3), RS/NS/DAR with
//! their 6LoWPAN-ND options, and the IEEE 802.15.4 data frame with its FCS.

use std::net::Ipv6Addr;

use l2_15_4::frame::Address;
use netif::Instant;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv6Packet, Ipv6Repr, NdiscRepr};

// ----- constants of the scenario ---------------------------------------------------------

const RS: u8 = 133;
pub(crate) const RA: u8 = 134;
const NS: u8 = 135;
pub(crate) const NA: u8 = 136;
const DAR: u8 = 157;
pub(crate) const DAC: u8 = 158;
pub(crate) const OPT_SLLAO: u8 = 1;
pub(crate) const OPT_TLLAO: u8 = 2;
pub(crate) const OPT_PIO: u8 = 3;
pub(crate) const OPT_ARO: u8 = 33;
pub(crate) const OPT_6CO: u8 = 34;
pub(crate) const OPT_ABRO: u8 = 35;

pub(crate) const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
pub(crate) const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
pub(crate) const MESH: [u8; 8] = [0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00];

pub(crate) fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// The IID of an EUI-64 (RFC 4291 Appendix A: universal/local bit inverted).
pub(crate) fn iid(eui: [u8; 8]) -> [u8; 8] {
    let mut i = eui;
    i[0] ^= 0x02;
    i
}

pub(crate) fn addr(prefix: [u8; 8], iid: [u8; 8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a[..8].copy_from_slice(&prefix);
    a[8..].copy_from_slice(&iid);
    Ipv6Addr::from(a)
}

pub(crate) const LINK_LOCAL: [u8; 8] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0];

/// A mesh node, known by its EUI-64.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    pub(crate) eui: [u8; 8],
}

impl Node {
    /// Node `k`: EUI-64 00:12:4b:00:00:00:kk:kk (a universal address, as on hardware).
    pub(crate) fn new(k: u16) -> Node {
        let [a, b] = k.to_be_bytes();
        Node {
            eui: [0x00, 0x12, 0x4b, 0x00, 0x00, 0x00, a, b],
        }
    }
    pub(crate) fn link_local(&self) -> Ipv6Addr {
        addr(LINK_LOCAL, iid(self.eui))
    }
    pub(crate) fn global(&self) -> Ipv6Addr {
        addr(MESH, iid(self.eui))
    }
    pub(crate) fn ll(&self) -> Address {
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

pub(crate) fn checksum_verifies(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &[u8]) -> bool {
    pseudo_sum(src, dst, msg) == 0xffff
}

// ----- messages from nodes -------------------------------------------------------------

/// 802.15.4 link-layer address option (RFC 4944 §8): type, length 2, EUI-64, 6 bytes padding.
pub(crate) fn lla_option(ty: u8, eui: [u8; 8]) -> [u8; 16] {
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
pub(crate) struct Ip {
    pub(crate) src: Ipv6Addr,
    pub(crate) dst: Ipv6Addr,
    pub(crate) hop_limit: u8,
    pub(crate) good_checksum: bool,
}

impl Ip {
    pub(crate) fn nd(src: Ipv6Addr, dst: Ipv6Addr) -> Ip {
        Ip {
            src,
            dst,
            hop_limit: 255,
            good_checksum: true,
        }
    }
    /// The IPv6 datagram carrying `icmp` (checksum filled, or deliberately broken).
    pub(crate) fn build(&self, mut icmp: Vec<u8>) -> Vec<u8> {
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

pub(crate) fn rs_body(ip: &Ip, sllao: Option<[u8; 8]>) -> Vec<u8> {
    let mut b = ndisc_body(NdiscRepr::RouterSolicit { lladdr: None }, &ip.src, &ip.dst);
    assert_eq!(b[0], RS);
    if let Some(e) = sllao {
        b.extend_from_slice(&lla_option(OPT_SLLAO, e));
    }
    b
}

/// NS for `target` with an optional SLLAO and ARO (lifetime, EUI-64).
pub(crate) fn ns_body(
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

/// Extended ARO (RFC 8505 §4.1) with a 64-bit ROVR: type 33, length 2, status, opaque, flags
/// (reserved 4 bits, I 2 bits, R, T), TID, registration lifetime (units of 60 s), ROVR. Without
/// a TID it is an RFC 6775 ARO (T clear, TID byte zero).
pub(crate) fn earo_option(tid: Option<u8>, lifetime_min: u16, rovr: [u8; 8]) -> [u8; 16] {
    let mut o = [0u8; 16];
    o[0] = OPT_ARO;
    o[1] = 2;
    if let Some(t) = tid {
        o[4] = 0x01; // T
        o[5] = t;
    }
    o[6..8].copy_from_slice(&lifetime_min.to_be_bytes());
    o[8..16].copy_from_slice(&rovr);
    o
}

/// NS for `target` with an SLLAO (`sllao`, any EUI-64, not necessarily the sender's) and an
/// EARO (`tid`, lifetime, ROVR).
pub(crate) fn ns_earo_body(
    ip: &Ip,
    target: Ipv6Addr,
    sllao: [u8; 8],
    tid: Option<u8>,
    lifetime_min: u16,
    rovr: [u8; 8],
) -> Vec<u8> {
    let mut b = ns_body(ip, target, Some(sllao), None);
    b.extend_from_slice(&earo_option(tid, lifetime_min, rovr));
    b
}

/// Duplicate Address Request (RFC 6775 §4.4): type 157, code 0, checksum, status 0, reserved,
/// registration lifetime, EUI-64, registered address.
pub(crate) fn dar_body(lifetime_min: u16, eui: [u8; 8], registered: Ipv6Addr) -> Vec<u8> {
    let mut b = vec![DAR, 0, 0, 0, 0, 0];
    b.extend_from_slice(&lifetime_min.to_be_bytes());
    b.extend_from_slice(&eui);
    b.extend_from_slice(&registered.octets());
    b
}

// ----- 802.15.4 framing by hand ------------------------------------------------------------

pub(crate) fn crc16_kermit(b: &[u8]) -> u16 {
    crc::Crc::<u16>::new(&crc::CRC_16_KERMIT).checksum(b)
}

/// An IEEE 802.15.4-2006 data frame (§7.2.2.2): frame control (type 001 data, no security,
/// no frame pending, no ACK request, PAN ID compression; destination mode short or extended,
/// frame version 01, source mode extended), sequence number, destination PAN ID, destination
/// address, source address (all little-endian on air), payload, FCS (CRC-16/KERMIT, LE).
pub(crate) fn data_frame(seq: u8, pan: u16, src: [u8; 8], dst: Address, payload: &[u8]) -> Vec<u8> {
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

// ----- Address-Protected ND (RFC 8928), built by hand --------------------------------------

pub(crate) const OPT_NONCE: u8 = 14;
pub(crate) const OPT_CIPO: u8 = 39;
pub(crate) const OPT_NDPSO: u8 = 40;
/// Crypto-Type 1, Ed25519 (RFC 8928 §8.3).
pub(crate) const ED25519: u8 = 1;
/// The CGA Message Type tag of AP-ND (RFC 8928 §8.1).
pub(crate) const CGA_TAG: [u8; 16] = [
    0x87, 0x01, 0x55, 0xc8, 0x0c, 0xca, 0xdd, 0x32, 0x6a, 0xb7, 0xe4, 0x15, 0xf1, 0x48, 0x84, 0xd0,
];

/// EARO with the C flag (RFC 8928 §4.2): flags octet `Rsvd(3) C I(2) R T` = 0x11 (C and T),
/// TID, lifetime, and a ROVR of 8, 16, 24 or 32 bytes (Length 2..=5).
pub(crate) fn earo_c_option(tid: u8, lifetime_min: u16, rovr: &[u8]) -> Vec<u8> {
    let mut o = vec![OPT_ARO, (1 + rovr.len() / 8) as u8, 0, 0, 0x11, tid];
    o.extend_from_slice(&lifetime_min.to_be_bytes());
    o.extend_from_slice(rovr);
    o
}

/// CIPO (RFC 8928 §4.3): type 39, Length, Reserved1 (5 bits) and Public Key Length (11 bits),
/// Crypto-Type, Reserved2, the key, zero padding to a multiple of 8.
pub(crate) fn cipo_option(crypto_type: u8, key: &[u8]) -> Vec<u8> {
    let total = (6 + key.len()).div_ceil(8) * 8;
    let mut o = vec![OPT_CIPO, (total / 8) as u8];
    o.extend_from_slice(&(key.len() as u16).to_be_bytes());
    o.extend_from_slice(&[crypto_type, 0]);
    o.extend_from_slice(key);
    o.resize(total, 0);
    o
}

/// Nonce option (RFC 3971 §5.3.2): type 14, Length, the nonce (6 mod 8 bytes, no padding).
pub(crate) fn nonce_option(nonce: &[u8]) -> Vec<u8> {
    assert_eq!((nonce.len() + 2) % 8, 0);
    let mut o = vec![OPT_NONCE, ((nonce.len() + 2) / 8) as u8];
    o.extend_from_slice(nonce);
    o
}

/// NDPSO (RFC 8928 §4.4): type 40, Length, Reserved1 (5 bits) and Signature Length (11 bits),
/// Reserved2 (32 bits), the signature, zero padding.
pub(crate) fn ndpso_option(sig: &[u8]) -> Vec<u8> {
    let total = (8 + sig.len()).div_ceil(8) * 8;
    let mut o = vec![OPT_NDPSO, (total / 8) as u8];
    o.extend_from_slice(&(sig.len() as u16).to_be_bytes());
    o.extend_from_slice(&[0; 4]);
    o.extend_from_slice(sig);
    o.resize(total, 0);
    o
}

/// What the node signs (RFC 8928 §6.2): the CGA tag, the CIPO (as sent), the Target Address,
/// NonceLR, NonceLN, the EARO's Length (8-byte units).
pub(crate) fn ap_signed(
    target: Ipv6Addr,
    cipo: &[u8],
    nonce_lr: &[u8],
    nonce_ln: &[u8],
    earo_len: u8,
) -> Vec<u8> {
    let mut m = CGA_TAG.to_vec();
    m.extend_from_slice(cipo);
    m.extend_from_slice(&target.octets());
    m.extend_from_slice(nonce_lr);
    m.extend_from_slice(nonce_ln);
    m.push(earo_len);
    m
}
