//! What the border router sent, read back without its code: one IPv6 datagram as the
//! harness decoded it from the air, the ND options walked by hand, and an NA's target and ARO.

use std::net::Ipv6Addr;

use l2_15_4::frame::Address;
use netif::Instant;
use smoltcp::wire::{IpProtocol, Ipv6Packet};

use crate::node::{OPT_ARO, checksum_verifies};

// ----- what the border router sent, decoded ------------------------------------------------

/// One IPv6 datagram the border router sent on the mesh.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub(crate) at: Instant,
    pub(crate) ll_dst: Option<Address>,
    pub(crate) ip: Vec<u8>,
}

impl Sent {
    fn ipv6(&self) -> Ipv6Packet<&[u8]> {
        Ipv6Packet::new_checked(&self.ip[..]).unwrap()
    }
    pub(crate) fn icmp(&self) -> Option<&[u8]> {
        let p = self.ipv6();
        (p.next_header() == IpProtocol::Icmpv6)
            .then(|| &self.ip[40..40 + usize::from(p.payload_len())])
    }
    pub(crate) fn icmp_type(&self) -> Option<u8> {
        self.icmp().and_then(|m| m.first().copied())
    }
    pub(crate) fn src(&self) -> Ipv6Addr {
        self.ipv6().src_addr()
    }
    pub(crate) fn dst(&self) -> Ipv6Addr {
        self.ipv6().dst_addr()
    }
    pub(crate) fn hop_limit(&self) -> u8 {
        self.ipv6().hop_limit()
    }
    /// The message's checksum verifies with our own code.
    pub(crate) fn checksum_ok(&self) -> bool {
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

pub(crate) fn option(msg: &[u8], fixed: usize, ty: u8) -> Option<&[u8]> {
    options(msg, fixed).into_iter().find(|o| o[0] == ty)
}

/// The ARO of an NA: (status, lifetime, EUI-64).
pub(crate) fn na_aro(na: &Sent) -> (u8, u16, [u8; 8]) {
    let m = na.icmp().unwrap();
    let aro = option(m, 24, OPT_ARO).expect("NA without ARO");
    assert_eq!(aro[1], 2, "ARO length");
    (
        aro[2],
        u16::from_be_bytes([aro[6], aro[7]]),
        aro[8..16].try_into().unwrap(),
    )
}

pub(crate) fn na_target(na: &Sent) -> Ipv6Addr {
    let m = na.icmp().unwrap();
    Ipv6Addr::from(<[u8; 16]>::try_from(&m[8..24]).unwrap())
}

/// The (E)ARO of an NA with any ROVR length: (status, flags octet, ROVR).
#[allow(dead_code)] // used by lbr_ap.rs, not by every test file that includes this module
pub(crate) fn na_earo(na: &Sent) -> (u8, u8, Vec<u8>) {
    let m = na.icmp().unwrap();
    let aro = option(m, 24, OPT_ARO).expect("NA without ARO");
    (aro[2], aro[4], aro[8..].to_vec())
}

/// The nonce of an NA's Nonce option (type 14), if any.
#[allow(dead_code)] // used by lbr_ap.rs
pub(crate) fn na_nonce(na: &Sent) -> Option<Vec<u8>> {
    let m = na.icmp().unwrap();
    option(m, 24, 14).map(|o| o[2..].to_vec())
}
