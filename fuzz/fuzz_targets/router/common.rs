//! What the whole-node targets share (`router`, the border router, and `router_frames`, a
//! mesh router): the address tables, the limits of one input, the input reader, and the
//! capture filter a byte chooses.

use std::net::Ipv6Addr;

use firmware::app::App;
use firmware::capture::CaptureFilter;
use netif::Duration;

/// Mesh nodes the fuzzer speaks for.
pub(crate) const NODES: usize = 4;
/// Longest Ethernet frame built or accepted from the input (beyond a pool buffer, to reach
/// the truncation path).
pub(crate) const ETH_MAX: usize = 2048;
/// Bound on the operations of one input (keeps each run short).
pub(crate) const MAX_OPS: usize = 256;
/// Bound on the time one input may advance (keeps each run short; registrations and RA
/// intervals are minutes).
pub(crate) const MAX_TIME: Duration = Duration::from_secs(3600);
/// Bound on the loops that run the router until it is idle: beyond it, a livelock.
pub(crate) const SPIN_LIMIT: usize = 100_000;

pub(crate) const FOREIGN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x99, 0, 0, 0, 0, 1);
pub(crate) const BACKBONE: [u16; 4] = [0x2001, 0xdb8, 2, 0];
pub(crate) const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
pub(crate) const MULTICAST: [Ipv6Addr; 4] = [
    ALL_NODES,
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2),
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x1a),
    Ipv6Addr::new(0xff05, 0, 0, 0, 0, 0, 0, 1),
];

/// EUI-64 of mesh node `k` (locally administered).
pub(crate) fn node_eui(k: usize) -> [u8; 8] {
    let mut e = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0];
    e[7] = (k % NODES) as u8 + 1;
    e
}

/// Short address of mesh node `k`.
pub(crate) fn node_short(k: usize) -> u16 {
    0x0100 + (k % NODES) as u16
}

/// MAC address of backbone host `h`.
pub(crate) fn host_mac(h: usize) -> [u8; 6] {
    [0x52, 0x54, 0x00, 0x12, 0x34, 0x50 + (h % 4) as u8]
}

/// `prefix` (first 8 bytes) + `iid`.
pub(crate) fn with_iid(prefix: [u8; 8], iid: [u8; 8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a[..8].copy_from_slice(&prefix);
    a[8..].copy_from_slice(&iid);
    Ipv6Addr::from(a)
}

pub(crate) const LINK_LOCAL: [u8; 8] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0];

/// The IID of an EUI-64 (RFC 4291 Appendix A).
pub(crate) fn eui_iid(eui: [u8; 8]) -> [u8; 8] {
    let mut i = eui;
    i[0] ^= 0x02;
    i
}

/// The IID of a short address (RFC 4944 §6).
pub(crate) fn short_iid(s: u16) -> [u8; 8] {
    let [a, b] = s.to_be_bytes();
    [0, 0, 0, 0xff, 0xfe, 0, a, b]
}

/// The IID of a MAC address (modified EUI-64).
pub(crate) fn mac_iid(m: [u8; 6]) -> [u8; 8] {
    [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
}

/// Reads the input front to back; every read past the end yields zeros / empty slices.
pub(crate) struct Input<'a>(pub(crate) &'a [u8]);

impl<'a> Input<'a> {
    pub(crate) fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }
    pub(crate) fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Start (or, for 0, stop) a capture as `b` says; returns the snap length set.
pub(crate) fn capture_filter(app: &mut App<'_>, b: u8) -> u16 {
    if b == 0 {
        app.capture_mut().stop();
        return 0;
    }
    let snaplen = match u16::from(b >> 4) * 16 {
        0 => u16::MAX,
        n => n,
    };
    app.capture_mut().start(CaptureFilter {
        wpan0: b & 1 != 0,
        eth0: b & 2 != 0,
        promiscuous: b & 4 != 0,
        snaplen,
    });
    snaplen
}
