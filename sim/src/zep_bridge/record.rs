//! The bridge's own recording: ZEP datagrams as IP/UDP packets (pcapng LINKTYPE_RAW), for
//! tshark's `-d udp.port==PORT,zep`.

use std::net::SocketAddr;

/// pcapng LINKTYPE_RAW: an IPv4 or IPv6 packet, no link-layer header.
pub(super) const LINKTYPE_RAW: u16 = 101;

/// `payload` as an IP/UDP packet from `src` to `dst` (both IPv6 or both IPv4), checksummed;
/// `None` for mixed families or a payload too long for one datagram.
pub(super) fn ip_udp(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Option<Vec<u8>> {
    let udp_len = u16::try_from(8 + payload.len()).ok()?;
    let mut udp = Vec::with_capacity(usize::from(udp_len));
    udp.extend_from_slice(&src.port().to_be_bytes());
    udp.extend_from_slice(&dst.port().to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut pseudo = Vec::new();
    let mut pkt = Vec::new();
    match (src, dst) {
        (SocketAddr::V6(s), SocketAddr::V6(d)) => {
            pseudo.extend_from_slice(&s.ip().octets());
            pseudo.extend_from_slice(&d.ip().octets());
            pseudo.extend_from_slice(&u32::from(udp_len).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, 17]);
            pkt.extend_from_slice(&[0x60, 0, 0, 0]);
            pkt.extend_from_slice(&udp_len.to_be_bytes());
            pkt.extend_from_slice(&[17, 64]);
            pkt.extend_from_slice(&s.ip().octets());
            pkt.extend_from_slice(&d.ip().octets());
        }
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            pseudo.extend_from_slice(&s.ip().octets());
            pseudo.extend_from_slice(&d.ip().octets());
            pseudo.extend_from_slice(&[0, 17]);
            pseudo.extend_from_slice(&udp_len.to_be_bytes());
            let total = udp_len.checked_add(20)?;
            let mut h = vec![0x45, 0];
            h.extend_from_slice(&total.to_be_bytes());
            h.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
            h.extend_from_slice(&s.ip().octets());
            h.extend_from_slice(&d.ip().octets());
            let c = checksum(&[&h]);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            pkt.extend_from_slice(&h);
        }
        _ => return None,
    }
    let mut c = checksum(&[&pseudo, &udp]);
    if c == 0 {
        c = 0xffff;
    }
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    pkt.extend_from_slice(&udp);
    Some(pkt)
}

/// The Internet checksum (RFC 1071) over the concatenation of `parts`.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for b in parts.iter().flat_map(|p| p.iter()) {
        match odd.take() {
            Some(hi) => sum += u32::from(u16::from_be_bytes([hi, *b])),
            None => odd = Some(*b),
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_checksums_verify() {
        let s: SocketAddr = "[::1]:40000".parse().unwrap();
        let d: SocketAddr = "[::1]:17754".parse().unwrap();
        let p = ip_udp(s, d, b"hello").unwrap();
        assert_eq!(p.len(), 40 + 8 + 5);
        // Summing the pseudo-header and the UDP part with its checksum gives 0xffff (→ 0).
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&p[8..40]);
        pseudo.extend_from_slice(&[0, 0, 0, 13, 0, 0, 0, 17]);
        assert_eq!(checksum(&[&pseudo, &p[40..]]), 0);
        let s: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let d: SocketAddr = "127.0.0.1:17754".parse().unwrap();
        let p = ip_udp(s, d, b"hello").unwrap();
        assert_eq!(checksum(&[&p[..20]]), 0);
        assert!(ip_udp(s, "[::1]:1".parse().unwrap(), b"").is_none());
    }
}
