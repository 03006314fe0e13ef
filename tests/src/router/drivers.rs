//! The router's in-memory drivers: the scripted radio and the backbone Ethernet driver that
//! answers for the host.

use std::collections::VecDeque;

use l2_15_4::radio::testing::ScriptedRadio;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv6Message, Icmpv6Packet,
    Icmpv6Repr, IpProtocol, Ipv6Packet, Ipv6Repr, NdiscNeighborFlags, NdiscRepr,
    RawHardwareAddress,
};

use super::{ETH_HEADER, HOST_IP, HOST_MAC};

/// The router's radio: no hardware help; records transmissions until the harness ends them.
pub(super) type BenchRadio = ScriptedRadio<8>;

/// The backbone: one prepared frame to hand over on request, the host's answers to Neighbor
/// Solicitations, and a record of what the router sends.
#[derive(Debug)]
pub(super) struct BenchEth {
    pub(super) mac: [u8; 6],
    /// The prepared frame (host → node) and whether it waits to be received.
    pub(super) down: Vec<u8>,
    pub(super) down_pending: bool,
    /// Frames from the host other than the prepared one (Neighbor Advertisements).
    pub(super) replies: VecDeque<Vec<u8>>,
    /// The last IPv6/UDP frame (or ICMPv6 error) the router sent to the host, and how many.
    pub(super) captured: Vec<u8>,
    pub(super) captured_count: u64,
    /// Neighbor Solicitations for the host answered.
    pub(super) ns_answered: u64,
    /// Other frames the router sent (RAs, DAD probes, solicitations for other addresses).
    pub(super) other: u64,
}

impl BenchEth {
    /// Classify a frame the router sent; answer a Neighbor Solicitation for the host.
    fn sent(&mut self, frame: &[u8]) {
        let Ok(f) = EthernetFrame::new_checked(frame) else {
            self.other += 1;
            return;
        };
        let Ok(ip) = Ipv6Packet::new_checked(f.payload()) else {
            self.other += 1;
            return;
        };
        if f.ethertype() != EthernetProtocol::Ipv6 {
            self.other += 1;
            return;
        }
        // ICMPv6 error messages (types 0..=127) are kept too: a refused packet's answer.
        let icmp_error = ip.next_header() == IpProtocol::Icmpv6
            && ip.payload().first().is_some_and(|t| *t < 128);
        if (ip.next_header() == IpProtocol::Udp || icmp_error)
            && f.dst_addr() == EthernetAddress(HOST_MAC)
        {
            self.captured.clear();
            self.captured.extend_from_slice(frame);
            self.captured_count += 1;
            return;
        }
        if ip.next_header() == IpProtocol::Icmpv6
            && let Some(na) = self.answer(&f, &ip)
        {
            self.replies.push_back(na);
            self.ns_answered += 1;
            return;
        }
        self.other += 1;
    }

    /// The host's Neighbor Advertisement answering a solicitation for its address.
    fn answer(&self, f: &EthernetFrame<&[u8]>, ip: &Ipv6Packet<&[u8]>) -> Option<Vec<u8>> {
        let icmp = Icmpv6Packet::new_checked(ip.payload()).ok()?;
        if icmp.msg_type() != Icmpv6Message::NeighborSolicit {
            return None;
        }
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        let repr = Icmpv6Repr::parse(&src, &dst, &icmp, &ChecksumCapabilities::default()).ok()?;
        let Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit { target_addr, .. }) = repr else {
            return None;
        };
        if target_addr != HOST_IP || src.is_unspecified() {
            return None;
        }
        let na = Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
            flags: NdiscNeighborFlags::SOLICITED | NdiscNeighborFlags::OVERRIDE,
            target_addr: HOST_IP,
            lladdr: Some(RawHardwareAddress::from_bytes(&HOST_MAC)),
        });
        let ipr = Ipv6Repr {
            src_addr: HOST_IP,
            dst_addr: src,
            next_header: IpProtocol::Icmpv6,
            payload_len: na.buffer_len(),
            hop_limit: 255,
        };
        let eth = EthernetRepr {
            src_addr: EthernetAddress(HOST_MAC),
            dst_addr: f.src_addr(),
            ethertype: EthernetProtocol::Ipv6,
        };
        let mut buf = vec![0u8; ETH_HEADER + 40 + na.buffer_len()];
        eth.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
        ipr.emit(&mut Ipv6Packet::new_unchecked(&mut buf[ETH_HEADER..]));
        na.emit(
            &HOST_IP,
            &src,
            &mut Icmpv6Packet::new_unchecked(&mut buf[ETH_HEADER + 40..]),
            &ChecksumCapabilities::default(),
        );
        Some(buf)
    }
}

impl ethernet::Driver for BenchEth {
    type Error = core::convert::Infallible;
    fn mac(&self) -> [u8; 6] {
        self.mac
    }
    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        let copy = |buf: &mut [u8], f: &[u8]| {
            let n = f.len().min(buf.len());
            buf[..n].copy_from_slice(&f[..n]);
            f.len()
        };
        if let Some(f) = self.replies.pop_front() {
            return Ok(Some(copy(buf, &f)));
        }
        if self.down_pending {
            self.down_pending = false;
            return Ok(Some(copy(buf, &self.down)));
        }
        Ok(None)
    }
    fn transmit(&mut self, frame: &[u8]) -> Result<bool, Self::Error> {
        self.sent(frame);
        Ok(true)
    }
}
