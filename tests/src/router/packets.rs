//! The packets both sides of the benchmark send: the node's and host's IPv6/UDP packets, the
//! node's registration (NS with ARO), the mesh frames of a datagram, and their reassembly.

use core::net::Ipv6Addr;

use l2_15_4::frame::{Address, FrameType, FrameVersion, PanId, Repr, fcs};
use netif::Instant;
use sixlo::{CompressOptions, ContextTable, Fragmenter, LinkAddr, Reassembler, Received};
use smoltcp::wire::{Icmpv6Packet, IpAddress, IpProtocol, UdpPacket};

use crate::{Air, Failure, PSDU_MAX, ensure};

use super::{FCS_LEN, HOP_LIMIT, NODE_EUI64, PACKET_LEN};

/// The node's global address in the mesh prefix `prefix`.
pub fn node_ip(prefix: [u8; 8]) -> Ipv6Addr {
    eui64_ip(prefix, NODE_EUI64)
}

/// The address with prefix `prefix` and the IID of `eui64` (RFC 4291 Appendix A).
pub fn eui64_ip(prefix: [u8; 8], eui64: [u8; 8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a[..8].copy_from_slice(&prefix);
    a[8..].copy_from_slice(&eui64);
    a[8] ^= 0x02;
    Ipv6Addr::from(a)
}

/// Mesh node `k`'s EUI-64, 00:12:4b:00:00:00:kk:kk: node 1 is [`NODE_EUI64`].
pub fn node_eui64(k: u16) -> [u8; 8] {
    let [a, b] = k.to_be_bytes();
    [0x00, 0x12, 0x4b, 0x00, 0x00, 0x00, a, b]
}

/// A Neighbor Solicitation with SLLAO and ARO (RFC 6775 §4.1, status 0) by which the node
/// `eui64` registers `addr` with the router whose link-local address is `br_ll` for
/// `lifetime_min` minutes (source and target `addr`, hop limit 255, checksum filled).
pub fn ns_aro(addr: Ipv6Addr, br_ll: Ipv6Addr, eui64: [u8; 8], lifetime_min: u16) -> Vec<u8> {
    // ICMPv6 NS: type, code, checksum, reserved (8 bytes), target (16), SLLAO (16), ARO (16).
    let icmp_len = 8 + 16 + 16 + 16;
    let mut p = vec![0u8; 40 + icmp_len];
    netif::icmp::write_ipv6_header(
        &mut p[..40],
        0,
        icmp_len as u16,
        IpProtocol::Icmpv6,
        255,
        &addr,
        &br_ll,
    );
    let m = &mut p[40..];
    m[0] = 135;
    m[8..24].copy_from_slice(&addr.octets());
    // SLLAO (RFC 4944 §8): type 1, length 2 (16 bytes), EUI-64, padding.
    m[24] = 1;
    m[25] = 2;
    m[26..34].copy_from_slice(&eui64);
    // ARO: type 33, length 2, status 0, reserved, lifetime (minutes), EUI-64.
    m[40] = 33;
    m[41] = 2;
    m[46..48].copy_from_slice(&lifetime_min.to_be_bytes());
    m[48..56].copy_from_slice(&eui64);
    Icmpv6Packet::new_unchecked(&mut p[40..]).fill_checksum(&addr, &br_ll);
    p
}

/// A 1280-byte IPv6/UDP packet from `src` to `dst` (hop limit 64, correct UDP checksum,
/// payload bytes `seed`, `seed + 1`, …).
pub fn udp_packet(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16, seed: u8) -> Vec<u8> {
    let mut p = vec![0u8; PACKET_LEN];
    let udp_len = (PACKET_LEN - 40) as u16;
    netif::icmp::write_ipv6_header(
        &mut p[..40],
        0,
        udp_len,
        IpProtocol::Udp,
        HOP_LIMIT,
        &src,
        &dst,
    );
    let [a, b] = sport.to_be_bytes();
    let [c, d] = dport.to_be_bytes();
    let [e, f] = udp_len.to_be_bytes();
    p[40..48].copy_from_slice(&[a, b, c, d, e, f, 0, 0]);
    for (i, x) in p[48..].iter_mut().enumerate() {
        *x = seed.wrapping_add(i as u8);
    }
    UdpPacket::new_unchecked(&mut p[40..])
        .fill_checksum(&IpAddress::Ipv6(src), &IpAddress::Ipv6(dst));
    p
}

/// `p` as forwarded: hop limit one less.
pub fn forwarded(p: &[u8]) -> Vec<u8> {
    let mut f = p.to_vec();
    if let Some(h) = f.get_mut(7) {
        *h = h.saturating_sub(1);
    }
    f
}

/// 802.15.4 data frames (2006, PAN ID compression, ACK requested) from `src` to `dst` carrying
/// the 6LoWPAN frames of `packet` (compressed with `contexts`, context IDs explicit), FCS
/// appended, on `air`.
pub fn mesh_frames(
    packet: &[u8],
    pan: PanId,
    src: Address,
    dst: Address,
    contexts: &ContextTable,
    air: &mut Air,
) -> Result<usize, Failure> {
    mesh_frames_from(packet, pan, src, dst, contexts, air, 0)
}

/// [`mesh_frames`] with sequence numbers from `first_seq` on.
pub(super) fn mesh_frames_from(
    packet: &[u8],
    pan: PanId,
    src: Address,
    dst: Address,
    contexts: &ContextTable,
    air: &mut Air,
    first_seq: u8,
) -> Result<usize, Failure> {
    air.clear();
    let hdr = |seq: u8| {
        Repr::new(
            FrameType::Data,
            FrameVersion::Ieee2006,
            Some(seq),
            Some((pan, dst)),
            Some((pan, src)),
        )
        .map(|mut r| {
            r.ack_request = true;
            r
        })
        .map_err(|e| Failure(format!("MAC header: {e}")))
    };
    let budget = PSDU_MAX - FCS_LEN - hdr(0)?.buffer_len();
    let mut f = Fragmenter::new(
        packet,
        LinkAddr::from(src),
        LinkAddr::from(dst),
        contexts,
        // The Context Identifier Extension is carried (SCI 0) so that smoltcp's decompressor,
        // which refuses implicit context 0, can read the same frames in the baseline.
        CompressOptions {
            explicit_context_id: true,
            ..CompressOptions::default()
        },
        0x5a5a,
        budget,
    )
    .map_err(|e| Failure(format!("fragmenter: {e:?}")))?;
    for seq in first_seq.. {
        let buf = air.slot()?;
        let h = hdr(seq)?
            .emit_bytes(buf)
            .map_err(|e| Failure(format!("MAC header emit: {e}")))?;
        let Some(n) = f
            .next_frame(&mut buf[h..PSDU_MAX - FCS_LEN])
            .map_err(|e| Failure(format!("fragment: {e:?}")))?
        else {
            break;
        };
        fcs::append(&mut buf[..h + n + FCS_LEN]);
        air.commit(h + n + FCS_LEN);
    }
    Ok(air.len())
}

/// Reassemble the data frames on `air` addressed to `dst` (FCS and MAC header checked with
/// `l2-15_4`, 6LoWPAN with `sixlo`) into one IPv6 packet.
pub fn reassemble(air: &Air, dst: Address, contexts: &ContextTable) -> Result<Vec<u8>, Failure> {
    let mut r: Box<Reassembler> = Box::default();
    let mut out = vec![0u8; PACKET_LEN];
    let mut got = None;
    for psdu in air.frames() {
        ensure(fcs::verify(psdu), || "a frame with a bad FCS".into())?;
        let mpdu = &psdu[..psdu.len() - FCS_LEN];
        let repr = Repr::parse_bytes(mpdu).map_err(|e| Failure(format!("MAC header: {e}")))?;
        if repr.frame_type != FrameType::Data || repr.dst_addr != Some(dst) {
            continue;
        }
        let src = repr
            .src_addr
            .ok_or_else(|| Failure::new("no source address"))?;
        let payload = mpdu
            .get(repr.buffer_len()..)
            .ok_or_else(|| Failure::new("MAC header past the frame"))?;
        match r.receive(
            payload,
            &LinkAddr::from(src),
            &LinkAddr::from(dst),
            contexts,
            Instant::ZERO,
            &mut out,
        ) {
            Ok(Received::Complete(n)) => got = Some(n),
            Ok(Received::Pending) => {}
            Err(e) => return Err(Failure(format!("6LoWPAN: {e:?}"))),
        }
    }
    let n = got.ok_or_else(|| Failure::new("the frames complete no packet"))?;
    out.truncate(n);
    Ok(out)
}
