//! The Internet checksum (RFC 1071) of IPv6 upper-layer messages: UDP and ICMPv6 with the
//! IPv6 pseudo-header (RFC 8200 §8.1).
//!
//! Hand-written rather than smoltcp's `wire::ip::checksum` (which is private in smoltcp 0.14:
//! only its packet types' `fill_checksum`/`verify_checksum` are public) because that one adds
//! 16-bit words one at a time and every datagram the border router or an endpoint checksums is
//! up to 1280 bytes: this one adds the message as 32-bit native-endian words (two per 64-bit
//! load, in two accumulators) and swaps the folded sum into network order once at the end
//! (RFC 1071 §2(B): the ones'-complement sum does not depend on byte order). Tests compare it
//! with RFC 1071's loop on random data of every length and alignment, with smoltcp's UDP and
//! ICMPv6 `fill_checksum`/`verify_checksum`, and with a worked example.

use core::net::Ipv6Addr;

/// IPv6 next-header value of UDP.
pub const UDP: u8 = 17;
/// IPv6 next-header value of ICMPv6.
pub const ICMPV6: u8 = 58;

/// Bytes summed between two folds of the accumulator. Each 4-byte word adds less than 2^32,
/// so 2^16 bytes (2^14 words) stay far below 2^64: the sum is exact for a slice of any length.
const BLOCK: usize = 1 << 16;

/// The ones'-complement sum of `data` taken as big-endian 16-bit words (a last odd byte
/// padded with a zero), folded to 16 bits and not complemented: smoltcp's
/// `checksum::data`.
pub fn data(data: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    for block in data.chunks(BLOCK) {
        acc = fold64(acc.wrapping_add(block_sum(block)));
    }
    u16::from_be(fold64(acc) as u16)
}

/// Sum of `block` (at most [`BLOCK`] bytes) as native-endian 32-bit words, the tail padded
/// with zeros. The words are taken in pairs from 64-bit loads and summed in two independent
/// accumulators: over 1240 bytes about 28 ns, against 50 ns for one 32-bit word at a time and
/// 38 ns for smoltcp's `UdpPacket::verify_checksum` (the machine of `docs/performance.md`).
fn block_sum(block: &[u8]) -> u64 {
    let mut words = block.chunks_exact(8);
    let (mut lo, mut hi) = (0u64, 0u64);
    for w in &mut words {
        if let Ok(w) = <[u8; 8]>::try_from(w) {
            let x = u64::from_ne_bytes(w);
            lo = lo.wrapping_add(x & 0xffff_ffff);
            hi = hi.wrapping_add(x >> 32);
        }
    }
    let tail = words.remainder();
    let mut last = [0u8; 8];
    if let Some(dst) = last.get_mut(..tail.len()) {
        dst.copy_from_slice(tail);
    }
    let x = u64::from_ne_bytes(last);
    lo.wrapping_add(x & 0xffff_ffff)
        .wrapping_add(hi)
        .wrapping_add(x >> 32)
}

/// Folds a 64-bit ones'-complement accumulator to at most 16 significant bits.
fn fold64(mut acc: u64) -> u64 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

/// Ones'-complement sum of two folded sums.
pub fn combine(a: u16, b: u16) -> u16 {
    fold64(u64::from(a) + u64::from(b)) as u16
}

/// The ones'-complement sum of the IPv6 pseudo-header: source, destination, upper-layer
/// length (32 bits) and next header.
pub fn pseudo_header(src: &Ipv6Addr, dst: &Ipv6Addr, next_header: u8, length: u32) -> u16 {
    let acc = u64::from(data(&src.octets()))
        + u64::from(data(&dst.octets()))
        + u64::from(length >> 16)
        + u64::from(length & 0xffff)
        + u64::from(next_header);
    fold64(acc) as u16
}

/// The sum of the pseudo-header and `msg`. `None` if `msg` is longer than a 32-bit length
/// field can say (never for a packet).
fn message_sum(msg: &[u8], src: &Ipv6Addr, dst: &Ipv6Addr, next_header: u8) -> Option<u16> {
    let len = u32::try_from(msg.len()).ok()?;
    Some(combine(
        pseudo_header(src, dst, next_header, len),
        data(msg),
    ))
}

/// Writes the checksum of the upper-layer message `msg` (`next_header` [`UDP`] or
/// [`ICMPV6`], the checksum field at byte 6 or 2) for `src` → `dst`. A UDP checksum that
/// computes to zero is sent as `0xffff` (RFC 8200 §8.1). Returns `false`, writing nothing, if
/// `msg` is too short to hold its checksum field.
pub fn fill(msg: &mut [u8], src: &Ipv6Addr, dst: &Ipv6Addr, next_header: u8) -> bool {
    let at = field(next_header);
    let Some(f) = msg.get_mut(at..at + 2) else {
        return false;
    };
    f.fill(0);
    let Some(sum) = message_sum(msg, src, dst, next_header) else {
        return false;
    };
    let mut c = !sum;
    if c == 0 && next_header == UDP {
        c = 0xffff;
    }
    if let Some(f) = msg.get_mut(at..at + 2) {
        f.copy_from_slice(&c.to_be_bytes());
    }
    true
}

/// Whether the checksum carried in `msg` is right for `src` → `dst`. A message too short to
/// hold its checksum field is not. (A zero UDP checksum is not special here: the caller
/// decides whether to accept one, RFC 8200 §8.1 says an IPv6 receiver must not.)
pub fn verify(msg: &[u8], src: &Ipv6Addr, dst: &Ipv6Addr, next_header: u8) -> bool {
    msg.len() >= field(next_header) + 2
        && message_sum(msg, src, dst, next_header).is_some_and(|s| s == 0xffff)
}

/// Offset of the checksum field in a `next_header` message: 6 for UDP, 2 otherwise (ICMPv6).
fn field(next_header: u8) -> usize {
    if next_header == UDP { 6 } else { 2 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use smoltcp::wire::{Icmpv6Packet, IpAddress, UdpPacket};
    use std::vec;

    /// RFC 1071 §4.1's loop: 16-bit big-endian words one at a time.
    fn reference(bytes: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for w in bytes.chunks(2) {
            let hi = u32::from(w[0]) << 8;
            let lo = w.get(1).copied().map_or(0, u32::from);
            sum += hi | lo;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        assert_eq!(
            data(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
        assert_eq!(data(&[]), 0);
        assert_eq!(data(&[0xab]), 0xab00);
    }

    #[test]
    fn all_ones_stays_all_ones() {
        // 0xffff is negative zero: a sum of them folds to 0xffff, never to 0.
        assert_eq!(data(&[0xff; 1280]), 0xffff);
        assert_eq!(data(&[0xff; 8]), 0xffff);
        assert_eq!(data(&[0xff; 7]), 0xff00);
    }

    #[test]
    fn udp_checksum_of_a_known_datagram() {
        // fe80::1 → fe80::2, ports 1234 → 5678, payload "hi". The pseudo-header and message
        // words: 0xfe80 * 2 + 1 + 2 + 10 + 17 + 0x04d2 + 0x162e + 10 + 0x6869 = 0x28091,
        // folded 0x8093, so the checksum is 0x7f6c.
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let dst: Ipv6Addr = "fe80::2".parse().unwrap();
        let mut m = [0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0a, 0x12, 0x34, b'h', b'i'];
        assert!(fill(&mut m, &src, &dst, UDP));
        let mut smol_m = m;
        UdpPacket::new_unchecked(&mut smol_m[..])
            .fill_checksum(&IpAddress::Ipv6(src), &IpAddress::Ipv6(dst));
        assert_eq!(m, smol_m);
        assert_eq!(&m[6..8], &[0x7f, 0x6c]);
        assert!(verify(&m, &src, &dst, UDP));
        m[9] ^= 1;
        assert!(!verify(&m, &src, &dst, UDP));
    }

    #[test]
    fn short_messages_are_refused() {
        let a = Ipv6Addr::LOCALHOST;
        let mut m = [0u8; 7];
        assert!(!fill(&mut m, &a, &a, UDP));
        assert_eq!(m, [0; 7]);
        assert!(!verify(&m, &a, &a, UDP));
        assert!(!fill(&mut m[..3], &a, &a, ICMPV6));
        assert!(!verify(&m[..3], &a, &a, ICMPV6));
    }

    #[test]
    fn a_udp_checksum_of_zero_is_sent_as_ffff() {
        // Find a 2-byte payload whose checksum computes to zero, then check it is sent as
        // 0xffff and still verifies.
        let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let mut found = false;
        for x in 0..=u16::MAX {
            let mut m = [0, 7, 0, 9, 0, 10, 0, 0, 0, 0];
            m[8..].copy_from_slice(&x.to_be_bytes());
            let s = combine(pseudo_header(&a, &b, UDP, 10), data(&m));
            if s == 0xffff {
                assert!(fill(&mut m, &a, &b, UDP));
                assert_eq!(&m[6..8], &[0xff, 0xff]);
                assert!(verify(&m, &a, &b, UDP));
                found = true;
                break;
            }
        }
        assert!(found);
    }

    proptest! {
        #[test]
        fn data_matches_smoltcp(bytes in proptest::collection::vec(any::<u8>(), 0..1600),
                                skip in 0usize..8) {
            // Every length and every start alignment.
            let s = bytes.get(skip.min(bytes.len())..).unwrap_or(&[]);
            prop_assert_eq!(data(s), reference(s));
        }

        #[test]
        fn fill_and_verify_match_smoltcp(payload in proptest::collection::vec(any::<u8>(), 0..1300),
                                         src in any::<[u8; 16]>(), dst in any::<[u8; 16]>(),
                                         icmp in any::<bool>()) {
            let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(dst));
            let nh = if icmp { ICMPV6 } else { UDP };
            let mut m = vec![0u8; 8];
            m.extend_from_slice(&payload);
            let len = m.len() as u16;
            m[4..6].copy_from_slice(&len.to_be_bytes());
            let mut theirs = m.clone();
            prop_assert!(fill(&mut m, &src, &dst, nh));
            prop_assert!(verify(&m, &src, &dst, nh));
            let (s, d) = (IpAddress::Ipv6(src), IpAddress::Ipv6(dst));
            if icmp {
                Icmpv6Packet::new_unchecked(&mut theirs[..]).fill_checksum(&src, &dst);
                prop_assert!(Icmpv6Packet::new_unchecked(&m[..]).verify_checksum(&src, &dst));
            } else {
                UdpPacket::new_unchecked(&mut theirs[..]).fill_checksum(&s, &d);
                prop_assert!(UdpPacket::new_unchecked(&m[..]).verify_checksum(&s, &d));
            }
            prop_assert_eq!(&m, &theirs);
            // One flipped bit anywhere is caught.
            let i = payload.len() % m.len();
            m[i] ^= 0x10;
            prop_assert!(!verify(&m, &src, &dst, nh));
        }
    }
}
