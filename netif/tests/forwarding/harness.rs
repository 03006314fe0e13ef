//! The router under test and the packets it is fed, independent of the code under test: a
//! two-interface `Stack` on dummy links (wpan0 = A, eth0 = B) with a host on each, IPv6, ICMPv6
//! and UDP packets built by smoltcp, and its replies parsed and checked by smoltcp.

use std::net::Ipv6Addr;

use netif::dummy::{self, DummyL2, TwoLinkRouter};
use netif::icmp::IcmpError;
use netif::{IfIndex, Instant, Outcome, Resources, Stack, StackConfig};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv6Packet, Ipv6Repr, UdpPacket, UdpRepr,
};

pub(crate) type Res = Resources<16, { netif::config::DEFAULT_BUF_SIZE }, 16, 8, 64>;

pub(crate) const A_LL: [u8; 2] = [0x00, 0x01];
pub(crate) const B_LL: [u8; 2] = [0x00, 0x02];
pub(crate) const T0: Instant = Instant::from_secs(100);

pub(crate) fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// A host on link A (wpan0 side): 2001:db8:1::ff:fe00:5, link address 00:05.
pub(crate) fn host_a() -> Ipv6Addr {
    ip("2001:db8:1::ff:fe00:5")
}
/// A host on link B (eth0 side): 2001:db8:2::ff:fe00:9, link address 00:09.
pub(crate) fn host_b() -> Ipv6Addr {
    ip("2001:db8:2::ff:fe00:9")
}

pub(crate) struct Router<'r> {
    pub(crate) st: Stack<'r>,
    pub(crate) a: DummyL2,
    pub(crate) b: DummyL2,
    pub(crate) ia: IfIndex,
    pub(crate) ib: IfIndex,
}

pub(crate) fn router<
    const P: usize,
    const B: usize,
    const R: usize,
    const Q: usize,
    const E: usize,
>(
    res: &mut Resources<P, B, R, Q, E>,
    cfg: StackConfig,
) -> Router<'_> {
    let TwoLinkRouter {
        stack,
        links: [a, b],
        mesh,
        backbone,
    } = TwoLinkRouter::new(cfg, res, 1280).unwrap();
    Router {
        st: stack,
        a,
        b,
        ia: mesh,
        ib: backbone,
    }
}

impl Router<'_> {
    /// Deliver `ipv6` as a frame from link address `src_ll` on interface `on`.
    pub(crate) fn inject_from(
        &mut self,
        on: IfIndex,
        src_ll: [u8; 2],
        dst_ll: [u8; 2],
        ipv6: &[u8],
        now: Instant,
    ) -> Outcome {
        let mut frame = vec![0u8; ipv6.len() + dummy::HEADER_LEN];
        DummyL2::frame(dst_ll, src_ll, ipv6, &mut frame);
        let h = self.st.pool_mut().alloc_from(&frame).unwrap();
        let l2 = if on == self.ia {
            &mut self.a
        } else {
            &mut self.b
        };
        self.st.receive(now, on, l2, h)
    }
    pub(crate) fn inject(&mut self, on: IfIndex, ipv6: &[u8]) -> Outcome {
        let (src, dst) = if on == self.ia {
            ([0, 5], A_LL)
        } else {
            ([0, 9], B_LL)
        };
        self.inject_from(on, src, dst, ipv6, T0)
    }
    /// Transmit everything queued and return the frames sent on `on` (link dst, IPv6 bytes).
    pub(crate) fn sent(&mut self, on: IfIndex) -> Vec<([u8; 2], Vec<u8>)> {
        let l2 = if on == self.ia {
            &mut self.a
        } else {
            &mut self.b
        };
        self.st.transmit(T0, on, l2);
        let mut out = vec![];
        while let Some(h) = l2.take_tx() {
            let d = self.st.pool().data(&h).to_vec();
            out.push(([d[0], d[1]], d[4..].to_vec()));
            self.st.pool_mut().free(h);
        }
        out
    }
    pub(crate) fn assert_pool_full(&self) {
        assert_eq!(
            self.st.pool().available(),
            self.st.pool().capacity(),
            "a buffer leaked"
        );
    }
}

/// An IPv6 packet built by smoltcp: `next` with `payload` (already including its header).
pub(crate) fn ipv6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next: IpProtocol,
    hop_limit: u8,
    payload: &[u8],
) -> Vec<u8> {
    let repr = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: next,
        payload_len: payload.len(),
        hop_limit,
    };
    let mut buf = vec![0u8; repr.buffer_len() + payload.len()];
    let mut p = Ipv6Packet::new_unchecked(&mut buf);
    repr.emit(&mut p);
    p.payload_mut().copy_from_slice(payload);
    buf
}

pub(crate) fn echo_request(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, data: &[u8]) -> Vec<u8> {
    let r = Icmpv6Repr::EchoRequest {
        ident: 0x1234,
        seq_no: 7,
        data,
    };
    let mut icmp = vec![0u8; r.buffer_len()];
    r.emit(
        &src,
        &dst,
        &mut Icmpv6Packet::new_unchecked(&mut icmp[..]),
        &ChecksumCapabilities::default(),
    );
    ipv6(src, dst, IpProtocol::Icmpv6, hop_limit, &icmp)
}

pub(crate) fn udp(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, payload: &[u8]) -> Vec<u8> {
    let r = UdpRepr {
        src_port: 5683,
        dst_port: 61616,
    };
    let mut b = vec![0u8; 8 + payload.len()];
    let mut p = UdpPacket::new_unchecked(&mut b[..]);
    r.emit(
        &mut p,
        &src.into(),
        &dst.into(),
        payload.len(),
        |b| b.copy_from_slice(payload),
        &ChecksumCapabilities::default(),
    );
    ipv6(src, dst, IpProtocol::Udp, hop_limit, &b)
}

/// Parse an ICMPv6 message with smoltcp (checksum verified), returning the header too.
pub(crate) fn parse_icmp(bytes: &[u8]) -> (Ipv6Repr, Icmpv6Repr<'_>) {
    let p = Ipv6Packet::new_checked(bytes).expect("valid IPv6");
    let ip = Ipv6Repr::parse(&p).unwrap();
    assert_eq!(ip.next_header, IpProtocol::Icmpv6);
    let payload = &bytes[40..40 + ip.payload_len];
    let icmp = Icmpv6Packet::new_checked(payload).unwrap();
    let repr = Icmpv6Repr::parse(
        &ip.src_addr,
        &ip.dst_addr,
        &icmp,
        &ChecksumCapabilities::default(),
    )
    .expect("ICMPv6 with a valid checksum");
    (ip, repr)
}

/// Assert `frame` is an ICMPv6 error of `kind` to `to`, quoting the start of `invoking`.
pub(crate) fn assert_error(
    frame: &[u8],
    kind: IcmpError,
    to: Ipv6Addr,
    from: Ipv6Addr,
    invoking: &[u8],
) {
    assert!(frame.len() <= 1280, "ICMPv6 errors fit the minimum MTU");
    let (ip, repr) = parse_icmp(frame);
    assert_eq!((ip.src_addr, ip.dst_addr), (from, to));
    let (ty, code, field) = kind.wire();
    assert_eq!((frame[40], frame[41]), (ty, code), "type/code");
    assert_eq!(u32::from_be_bytes(frame[44..48].try_into().unwrap()), field);
    let quoted = &frame[48..];
    let n = quoted.len().min(invoking.len());
    assert_eq!(
        &quoted[..n],
        &invoking[..n],
        "the invoking packet is quoted verbatim"
    );
    assert!(matches!(
        repr,
        Icmpv6Repr::DstUnreachable { .. }
            | Icmpv6Repr::PktTooBig { .. }
            | Icmpv6Repr::TimeExceeded { .. }
            | Icmpv6Repr::ParamProblem { .. }
    ));
}
