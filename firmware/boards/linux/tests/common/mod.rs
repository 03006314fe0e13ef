//! What several end-to-end tests build frames with: the 802.15.4 FCS and the IPv6
//! upper-layer checksum, written from their standards (not taken from the code under test).
#![allow(dead_code)] // each test file uses its part

use std::net::Ipv6Addr;

/// IEEE 802.15.4-2006 §7.2.1.9: the FCS, CRC-16/KERMIT, least significant byte first.
pub fn fcs(b: &[u8]) -> [u8; 2] {
    crc::Crc::<u16>::new(&crc::CRC_16_KERMIT)
        .checksum(b)
        .to_le_bytes()
}

/// RFC 8200 §8.1 (RFC 768): the upper-layer checksum over the pseudo-header and `msg` (its
/// checksum field 0).
pub fn l4_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, next: u8, msg: &[u8]) -> [u8; 2] {
    let mut acc: u64 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            acc += u64::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
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
