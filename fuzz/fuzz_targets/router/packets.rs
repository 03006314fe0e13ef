//! Frames and packets the harness builds and reads: ACK requests, 802.15.4 data frames, IPv6
//! datagrams with their upper-layer checksum.

use std::net::Ipv6Addr;

use l2_15_4::frame::{Address, Frame, FrameType, fcs};

/// The sequence number of a PSDU the router sent that asks for an ACK.
pub(crate) fn wants_ack(psdu: &[u8]) -> Option<u8> {
    let mpdu = psdu.get(..psdu.len().checked_sub(2)?)?;
    let f = Frame::new_checked(mpdu).ok()?;
    let unicast = f.dst_addr().is_some_and(|a| a.is_unicast());
    (f.frame_type() != FrameType::Ack && f.ack_request() && unicast)
        .then(|| f.sequence_number())
        .flatten()
}

/// An 802.15.4-2006 data frame (IEEE 802.15.4-2006 §7.2.2.2) with PAN ID compression: frame
/// control, sequence number, destination PAN, destination, source (addresses little-endian),
/// payload, FCS.
pub(crate) fn data_frame(
    seq: u8,
    pan: u16,
    dst: Address,
    src: Address,
    ack: bool,
    payload: &[u8],
) -> Vec<u8> {
    let mode = |a: &Address| match a {
        Address::Short(_) => 0b10u16,
        Address::Extended(_) => 0b11,
    };
    let fc: u16 =
        0b001 | u16::from(ack) << 5 | 1 << 6 | mode(&dst) << 10 | 0b01 << 12 | mode(&src) << 14;
    let mut f = fc.to_le_bytes().to_vec();
    f.push(seq);
    f.extend_from_slice(&pan.to_le_bytes());
    for a in [dst, src] {
        match a {
            Address::Short(s) => f.extend_from_slice(&s.to_le_bytes()),
            Address::Extended(e) => f.extend(e.iter().rev()),
        }
    }
    f.extend_from_slice(payload);
    f.extend_from_slice(&fcs::compute(&f).to_le_bytes());
    f
}

/// The UDP / ICMPv6 checksum (RFC 8200 §8.1) of `msg` (its checksum field zero).
pub(crate) fn l4_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, next: u8, msg: &[u8]) -> [u8; 2] {
    let mut acc: u64 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            acc += u64::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]));
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&(msg.len() as u32).to_be_bytes());
    add(&[0, 0, 0, next]);
    add(msg);
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    (!(acc as u16)).to_be_bytes()
}

/// An IPv6 datagram of at most `max` bytes. With `fix`, the UDP length and the UDP or ICMPv6
/// checksum are made right so the packet passes the router's checks.
pub(crate) fn ipv6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next: u8,
    hops: u8,
    payload: &[u8],
    fix: bool,
    max: usize,
) -> Vec<u8> {
    let payload = &payload[..payload.len().min(max - 40)];
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, hops]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let body = p.len();
    p.extend_from_slice(payload);
    let msg = &mut p[body..];
    if fix {
        let at = match next {
            58 if msg.len() >= 4 => Some(2),
            17 if msg.len() >= 8 => {
                let n = (msg.len() as u16).to_be_bytes();
                msg[4..6].copy_from_slice(&n);
                Some(6)
            }
            _ => None,
        };
        if let Some(at) = at {
            msg[at..at + 2].fill(0);
            let c = l4_checksum(&src, &dst, next, msg);
            msg[at..at + 2].copy_from_slice(&c);
        }
    }
    p
}
