//! ICMPv6 pieces the core needs: the error rate limiter (RFC 4443 §2.4(f), per destination,
//! Packet Too Big on its own budget: `limit`), a token bucket, in-place
//! construction of error messages and echo replies, checksum helpers ([`crate::checksum`]),
//! the one builder of locally originated messages ([`build_message`], used by ND, the 6LBR
//! and ping), and the Neighbor Discovery code points ([`nd`]).
//!
//! Errors are built around the invoking packet in its own buffer: the packet is truncated so
//! the whole error fits the IPv6 minimum MTU (RFC 4443 §2.4(c)) and the IPv6 + ICMPv6 headers
//! are written into its headroom. No second buffer is needed, so an exhausted pool never
//! prevents an error from being sent.

use core::net::Ipv6Addr;

use smoltcp::wire::{IpProtocol, Ipv6Packet};

use crate::checksum;

use crate::config::{IPV6_MIN_MTU, RateLimit};
use crate::pool::{BufError, PacketHandle, PacketPool};
use crate::time::Instant;

pub(crate) mod limit;

pub use limit::take_every;
pub mod nd;

/// ICMPv6 message types the core itself uses.
pub mod types {
    /// Destination Unreachable.
    pub const DST_UNREACHABLE: u8 = 1;
    /// Packet Too Big.
    pub const PKT_TOO_BIG: u8 = 2;
    /// Time Exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter Problem.
    pub const PARAM_PROBLEM: u8 = 4;
    /// Echo Request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo Reply.
    pub const ECHO_REPLY: u8 = 129;
}

/// Parameter Problem codes (RFC 4443 §3.4).
pub mod param_problem {
    /// Erroneous header field encountered.
    pub const ERRONEOUS_FIELD: u8 = 0;
    /// Unrecognized Next Header type encountered.
    pub const UNRECOGNIZED_NEXT_HEADER: u8 = 1;
    /// Unrecognized IPv6 option encountered.
    pub const UNRECOGNIZED_OPTION: u8 = 2;
}

/// An ICMPv6 error the core may send (RFC 4443 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum IcmpError {
    /// Destination Unreachable with its code (0 no route, 1 prohibited, 2 beyond scope of
    /// source, 3 address unreachable, 4 port unreachable, 5 source failed ingress policy).
    DstUnreachable(u8),
    /// Packet Too Big with the MTU of the next link.
    PacketTooBig(u32),
    /// Time Exceeded, code 0 (hop limit) or 1 (reassembly).
    TimeExceeded(u8),
    /// Parameter Problem with code and pointer.
    ParamProblem(u8, u32),
}

impl IcmpError {
    /// (type, code, 32-bit field).
    pub fn wire(self) -> (u8, u8, u32) {
        match self {
            IcmpError::DstUnreachable(c) => (types::DST_UNREACHABLE, c, 0),
            IcmpError::PacketTooBig(mtu) => (types::PKT_TOO_BIG, 0, mtu),
            IcmpError::TimeExceeded(c) => (types::TIME_EXCEEDED, c, 0),
            IcmpError::ParamProblem(c, p) => (types::PARAM_PROBLEM, c, p),
        }
    }
    /// May be sent in answer to a multicast destination / link-layer multicast
    /// (RFC 4443 §2.4(e.3): Packet Too Big, and Parameter Problem code 2).
    pub fn allowed_for_multicast(self) -> bool {
        matches!(
            self,
            IcmpError::PacketTooBig(_)
                | IcmpError::ParamProblem(param_problem::UNRECOGNIZED_OPTION, _)
        )
    }
}

/// A token bucket (rate limits such as solicited Router Advertisements).
#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    rate: RateLimit,
    /// When it is full again ([`limit::take`]).
    tat: u64,
}

impl TokenBucket {
    /// `per_sec` tokens per second, at most `burst` stored; starts full.
    pub fn new(per_sec: u32, burst: u32) -> Self {
        TokenBucket {
            rate: RateLimit { per_sec, burst },
            tat: 0,
        }
    }
    /// Take a token if one is available.
    pub fn take(&mut self, now: Instant) -> bool {
        limit::take(self.tat, now, self.rate)
            .map(|t| self.tat = t)
            .is_some()
    }
}

/// Fill the ICMPv6 checksum of `icmp` (the whole message) for `src` → `dst`.
/// A message shorter than 4 bytes (no checksum field) is left as it is.
pub fn fill_checksum(icmp: &mut [u8], src: &Ipv6Addr, dst: &Ipv6Addr) {
    checksum::fill(icmp, src, dst, checksum::ICMPV6);
}

/// True when the checksum of the ICMPv6 message `icmp` is right for `src` → `dst`.
pub fn checksum_ok(icmp: &[u8], src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
    checksum::verify(icmp, src, dst, checksum::ICMPV6)
}

/// Write a 40-byte IPv6 header (traffic class `tc`, flow label 0).
pub fn write_ipv6_header(
    hdr: &mut [u8],
    tc: u8,
    payload_len: u16,
    next: IpProtocol,
    hop_limit: u8,
    src: &Ipv6Addr,
    dst: &Ipv6Addr,
) {
    if hdr.len() < 40 {
        return;
    }
    let mut p = Ipv6Packet::new_unchecked(hdr);
    p.set_version(6);
    p.set_traffic_class(tc);
    p.set_flow_label(0);
    p.set_payload_len(payload_len);
    p.set_next_header(next);
    p.set_hop_limit(hop_limit);
    p.set_src_addr(*src);
    p.set_dst_addr(*dst);
}

/// Turn the packet `h` (an invoking IPv6 packet) into the ICMPv6 error `err` from `src` to
/// `dst`, in place.
pub fn build_error(
    pool: &mut PacketPool<'_>,
    h: &PacketHandle,
    err: IcmpError,
    src: &Ipv6Addr,
    dst: &Ipv6Addr,
    hop_limit: u8,
) -> Result<(), BufError> {
    const HDRS: usize = 40 + 8;
    pool.truncate(h, IPV6_MIN_MTU - HDRS);
    pool.ensure_headroom(h, HDRS)?;
    let quoted = pool.len(h);
    let (ty, code, field) = err.wire();
    let icmp_len = (quoted + 8) as u16;
    {
        let hdr = pool.push_front(h, HDRS)?;
        let (ip, icmp) = hdr.split_at_mut(40);
        write_ipv6_header(ip, 0, icmp_len, IpProtocol::Icmpv6, hop_limit, src, dst);
        if let Some(b) = icmp.get_mut(..8) {
            b[0] = ty;
            b[1] = code;
            b[2] = 0;
            b[3] = 0;
            b[4..8].copy_from_slice(&field.to_be_bytes());
        }
    }
    if let Some(icmp) = pool.data_mut(h).get_mut(40..) {
        fill_checksum(icmp, src, dst);
    }
    Ok(())
}

/// Build a locally originated ICMPv6 message `src → dst` in a fresh pool buffer: the IPv6
/// header (traffic class and flow label 0, `hop_limit`), then the message, which `write` fills
/// into a zeroed area of `max_len` bytes and whose length it returns; the checksum is filled
/// in and the packet cut to that length. `None` (the buffer freed) when the pool is empty,
/// `max_len` does not fit a buffer, or `write` fails.
///
/// `write` is a `dyn` closure so that every caller shares one copy of this code.
pub fn build_message(
    pool: &mut PacketPool<'_>,
    src: &Ipv6Addr,
    dst: &Ipv6Addr,
    hop_limit: u8,
    max_len: usize,
    write: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
) -> Option<PacketHandle> {
    let h = pool.alloc().ok()?;
    let ok = (|| {
        let buf = pool.append(&h, 40 + max_len).ok()?;
        buf.fill(0);
        let (_, icmp) = buf.split_at_mut_checked(40)?;
        let n = write(icmp)?;
        let icmp = icmp.get_mut(..n)?;
        fill_checksum(icmp, src, dst);
        let ip = pool.data_mut(&h).get_mut(..40)?;
        write_ipv6_header(ip, 0, n as u16, IpProtocol::Icmpv6, hop_limit, src, dst);
        pool.truncate(&h, 40 + n);
        Some(())
    })();
    if ok.is_some() {
        Some(h)
    } else {
        pool.free(h);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_rate_and_caps_at_burst() {
        let mut b = TokenBucket::new(2, 3);
        let t0 = Instant::from_secs(10);
        assert!(b.take(t0) && b.take(t0) && b.take(t0));
        assert!(!b.take(t0));
        assert!(!b.take(t0 + crate::Duration::from_millis(499)));
        assert!(b.take(t0 + crate::Duration::from_millis(500)));
        // A long pause refills only up to the burst.
        let t1 = t0 + crate::Duration::from_secs(100);
        assert!(b.take(t1) && b.take(t1) && b.take(t1));
        assert!(!b.take(t1));
    }
}
