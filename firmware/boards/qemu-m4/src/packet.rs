//! IPv6 packets the far ends send and read: fixed offsets of the 40-byte header, the ICMPv6
//! and UDP messages they build. Every reader checks lengths first (`get`), every builder
//! returns `None` when the buffer is too small.

use core::net::Ipv6Addr;

use netif::checksum;

/// IPv6 header length.
pub const IPV6_HDR: usize = 40;
/// Next header: ICMPv6.
pub const ICMPV6: u8 = 58;
/// Next header: UDP.
pub const UDP: u8 = 17;
/// The collector's UDP port on the backbone host.
pub const COLLECTOR_PORT: u16 = 42000;
/// The measurement mode's UDP port, on the backbone host and on the mesh node alike.
pub const BENCH_PORT: u16 = 42002;
/// UDP payload of a measurement packet: a 1280-byte IPv6 packet, as `cargo bench -p tests`.
pub const BENCH_PAYLOAD: usize = 1232;

/// ICMPv6 types used here.
pub mod icmp {
    /// Time Exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Echo Request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo Reply.
    pub const ECHO_REPLY: u8 = 129;
    /// Router Solicitation.
    pub const RS: u8 = 133;
    /// Router Advertisement.
    pub const RA: u8 = 134;
    /// Neighbor Solicitation.
    pub const NS: u8 = 135;
    /// Neighbor Advertisement.
    pub const NA: u8 = 136;
}

/// The fields of an IPv6 header the far ends look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6 {
    /// Next header (no extension headers are followed).
    pub next: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Source.
    pub src: Ipv6Addr,
    /// Destination.
    pub dst: Ipv6Addr,
}

fn addr(b: &[u8]) -> Option<Ipv6Addr> {
    let a: [u8; 16] = b.get(..16)?.try_into().ok()?;
    Some(Ipv6Addr::from(a))
}

impl Ipv6 {
    /// The header of `p` and its payload (cut to the payload length), or `None` when `p` is
    /// not an IPv6 packet of at least its stated length.
    pub fn parse(p: &[u8]) -> Option<(Ipv6, &[u8])> {
        let h = p.get(..IPV6_HDR)?;
        if h.first()? >> 4 != 6 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([*h.get(4)?, *h.get(5)?]));
        let payload = p.get(IPV6_HDR..)?.get(..len)?;
        let ip = Ipv6 {
            next: *h.get(6)?,
            hop_limit: *h.get(7)?,
            src: addr(h.get(8..)?)?,
            dst: addr(h.get(24..)?)?,
        };
        Some((ip, payload))
    }
}

/// Writes a 40-byte IPv6 header into `out`.
pub fn write_ipv6(
    out: &mut [u8],
    payload_len: usize,
    next: u8,
    hop_limit: u8,
    src: &Ipv6Addr,
    dst: &Ipv6Addr,
) -> Option<()> {
    let h = out.get_mut(..IPV6_HDR)?;
    let len = u16::try_from(payload_len).ok()?;
    h.fill(0);
    h[0] = 0x60;
    h[4..6].copy_from_slice(&len.to_be_bytes());
    h[6] = next;
    h[7] = hop_limit;
    h[8..24].copy_from_slice(&src.octets());
    h[24..40].copy_from_slice(&dst.octets());
    Some(())
}

/// An ICMPv6 message of `body_len` bytes (type, code, checksum included) from `src` to `dst`:
/// `fill` writes the message (the checksum field is filled in after it); returns the packet
/// length.
pub fn icmpv6(
    out: &mut [u8],
    src: &Ipv6Addr,
    dst: &Ipv6Addr,
    hop_limit: u8,
    body_len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Option<usize> {
    let total = IPV6_HDR.checked_add(body_len)?;
    write_ipv6(out, body_len, ICMPV6, hop_limit, src, dst)?;
    let m = out.get_mut(IPV6_HDR..total)?;
    m.fill(0);
    fill(m);
    checksum::fill(m, src, dst, ICMPV6).then_some(total)
}

/// A UDP datagram of `payload_len` bytes (`seed`, `seed + 1`, …) from `src:sport` to
/// `dst:dport` with `hop_limit`, checksum filled; returns the packet length.
#[allow(clippy::too_many_arguments)]
pub fn udp(
    out: &mut [u8],
    src: &Ipv6Addr,
    dst: &Ipv6Addr,
    sport: u16,
    dport: u16,
    hop_limit: u8,
    payload_len: usize,
    seed: u8,
) -> Option<usize> {
    let udp_len = payload_len.checked_add(8)?;
    let total = IPV6_HDR.checked_add(udp_len)?;
    write_ipv6(out, udp_len, UDP, hop_limit, src, dst)?;
    let m = out.get_mut(IPV6_HDR..total)?;
    m[0..2].copy_from_slice(&sport.to_be_bytes());
    m[2..4].copy_from_slice(&dport.to_be_bytes());
    m[4..6].copy_from_slice(&u16::try_from(udp_len).ok()?.to_be_bytes());
    m[6..8].fill(0);
    for (i, b) in m[8..].iter_mut().enumerate() {
        *b = seed.wrapping_add(i as u8);
    }
    checksum::fill(m, src, dst, UDP).then_some(total)
}

/// Neighbor Solicitation with SLLAO and ARO (RFC 6775 §4.1, status 0) by which the node
/// `eui64` registers `me` with the router at `router_ll` for `lifetime_min` minutes.
pub fn ns_aro(
    out: &mut [u8],
    me: &Ipv6Addr,
    router_ll: &Ipv6Addr,
    eui64: [u8; 8],
    lifetime_min: u16,
) -> Option<usize> {
    // type, code, checksum, reserved (8) | target (16) | SLLAO (16) | ARO (16)
    icmpv6(out, me, router_ll, 255, 56, |m| {
        m[0] = icmp::NS;
        m[8..24].copy_from_slice(&me.octets());
        m[24] = 1;
        m[25] = 2;
        m[26..34].copy_from_slice(&eui64);
        m[40] = 33;
        m[41] = 2;
        m[46..48].copy_from_slice(&lifetime_min.to_be_bytes());
        m[48..56].copy_from_slice(&eui64);
    })
}

/// The status of the ARO in the NA `icmp` (the ICMPv6 message), if it carries one.
pub fn aro_status(icmp: &[u8]) -> Option<u8> {
    let mut opts = icmp.get(24..)?;
    while let [ty, len, ..] = *opts {
        let n = usize::from(len).checked_mul(8)?;
        if n == 0 {
            return None;
        }
        let opt = opts.get(..n)?;
        if ty == 33 {
            return opt.get(2).copied();
        }
        opts = opts.get(n..)?;
    }
    None
}

/// Turns the echo request `p` (a whole IPv6 packet, checked by the caller) into its echo
/// reply in place: addresses swapped, type 129, hop limit 64, checksum recomputed.
pub fn echo_reply_in_place(p: &mut [u8]) -> Option<()> {
    let (ip, payload) = Ipv6::parse(p)?;
    let n = IPV6_HDR.checked_add(payload.len())?;
    write_ipv6(p, payload.len(), ICMPV6, 64, &ip.dst, &ip.src)?;
    let m = p.get_mut(IPV6_HDR..n)?;
    *m.first_mut()? = icmp::ECHO_REPLY;
    m.get_mut(2..4)?.fill(0);
    checksum::fill(m, &ip.dst, &ip.src, ICMPV6).then_some(())
}

/// Whether the UDP datagram `udp` (header and payload) from `src` to `dst` is a measurement
/// packet as [`udp`] builds it: to [`BENCH_PORT`], [`BENCH_PAYLOAD`] bytes counting up from
/// their first, a good checksum.
pub fn is_bench(udp: &[u8], src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
    let (Some(port), Some(payload)) = (udp.get(2..4), udp.get(8..)) else {
        return false;
    };
    let first = payload.first().copied().unwrap_or(0);
    port == BENCH_PORT.to_be_bytes()
        && payload.len() == BENCH_PAYLOAD
        && payload
            .iter()
            .enumerate()
            .all(|(i, b)| *b == first.wrapping_add(i as u8))
        && checksum::verify(udp, src, dst, UDP)
}

/// The global address with `prefix` and the IID of `eui64` (U/L bit flipped).
pub fn eui64_addr(prefix: [u8; 8], eui64: [u8; 8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a[..8].copy_from_slice(&prefix);
    a[8..].copy_from_slice(&eui64);
    a[8] ^= 0x02;
    Ipv6Addr::from(a)
}
