//! The baseline: the least a forwarder must do with the same packets, using smoltcp's wire
//! codecs ([`WireBaseline`]).

use l2_15_4::frame::{Address, fcs};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Ieee802154Address,
    Ieee802154Frame, Ieee802154FrameType, Ieee802154FrameVersion, Ieee802154Pan, Ieee802154Repr,
    IpAddress, IpProtocol, Ipv6Packet, Ipv6Repr, SixlowpanAddressContext, SixlowpanFragPacket,
    SixlowpanFragRepr, SixlowpanIphcPacket, SixlowpanIphcRepr, SixlowpanNextHeader,
    SixlowpanUdpNhcPacket, SixlowpanUdpNhcRepr, UdpPacket, UdpRepr,
};

use crate::{Air, Failure, PSDU_MAX, ensure};

use super::{
    ETH_HEADER, FCS_LEN, HOST_MAC, MAX_FRAMES, NODE_EUI64, PACKET_LEN, Router, forwarded,
    reassemble,
};

fn sm(a: Address) -> Ieee802154Address {
    match a {
        Address::Short(s) => Ieee802154Address::Short(s.to_be_bytes()),
        Address::Extended(e) => Ieee802154Address::Extended(e),
    }
}

/// The least a forwarder does with the same packets, with smoltcp 0.14's wire codecs and no
/// state: no neighbor resolution, queues, MAC (CSMA/CA, ACKs, duplicate filter), reassembly
/// bookkeeping (keying, overlap checks, timeouts), counters or capture.
///
/// - Down: parse the Ethernet header, the IPv6 header (`Ipv6Repr`) and the UDP header
///   (`UdpRepr`, checksum not verified); decrement the hop limit; compress with
///   `SixlowpanIphcRepr` (smoltcp compresses without contexts: both global addresses go
///   inline) and `SixlowpanUdpNhcRepr` (the packet's checksum carried over); cut FRAG1/FRAGN as
///   smoltcp's interface does for the MAC payload budget; per frame an `Ieee802154Repr` header
///   and the FCS (`l2_15_4::frame::fcs`, the same code the router uses).
/// - Up: per frame check the FCS, parse the MAC header (`Ieee802154Repr`) and the FRAG header;
///   decompress FRAG1 (`SixlowpanIphcRepr` with the mesh prefix as context 0,
///   `SixlowpanUdpNhcRepr`) into the IPv6 and UDP headers with the hop limit decremented;
///   copy every fragment's payload to its offset (no bookkeeping beyond a byte count); then
///   the Ethernet header (`EthernetRepr`).
#[derive(Debug)]
pub struct WireBaseline {
    br_eui64: [u8; 8],
    br_mac: [u8; 6],
    pan: u16,
    contexts: [SixlowpanAddressContext; 1],
    scratch: Vec<u8>,
    seq: u8,
}

impl WireBaseline {
    /// For the router `r`'s configuration.
    pub fn new(r: &Router<'_>) -> Self {
        let cfg = r.app.config();
        WireBaseline {
            br_eui64: cfg.eui64,
            br_mac: cfg.eth_mac,
            pan: cfg.pan_id,
            contexts: [SixlowpanAddressContext(cfg.mesh_prefix)],
            scratch: vec![0; 2 * PACKET_LEN],
            seq: 0,
        }
    }

    fn mhr(pan: u16, seq: u8, dst: Address, src: Address) -> Ieee802154Repr {
        Ieee802154Repr {
            frame_type: Ieee802154FrameType::Data,
            security_enabled: false,
            frame_pending: false,
            ack_request: true,
            sequence_number: Some(seq),
            pan_id_compression: true,
            frame_version: Ieee802154FrameVersion::Ieee802154_2006,
            dst_pan_id: Some(Ieee802154Pan(pan)),
            dst_addr: Some(sm(dst)),
            src_pan_id: Some(Ieee802154Pan(pan)),
            src_addr: Some(sm(src)),
        }
    }

    /// One Ethernet frame in, its 802.15.4 frames to the node on `air`; returns how many.
    pub fn down(&mut self, eth: &[u8], air: &mut Air) -> Result<usize, Failure> {
        air.clear();
        let bad = |what: &str| Failure(format!("baseline down: {what}"));
        let f = EthernetFrame::new_checked(eth).map_err(|_| bad("Ethernet"))?;
        ensure(
            f.ethertype() == EthernetProtocol::Ipv6 && f.dst_addr() == EthernetAddress(self.br_mac),
            || "baseline down: not IPv6 to us".into(),
        )?;
        let ip = Ipv6Packet::new_checked(f.payload()).map_err(|_| bad("IPv6"))?;
        let ipr = Ipv6Repr::parse(&ip).map_err(|_| bad("IPv6 header"))?;
        ensure(
            ipr.next_header == IpProtocol::Udp && ipr.hop_limit > 1,
            || "baseline down: not forwardable UDP".into(),
        )?;
        let udp = UdpPacket::new_checked(ip.payload()).map_err(|_| bad("UDP"))?;
        let (s, d) = (IpAddress::Ipv6(ipr.src_addr), IpAddress::Ipv6(ipr.dst_addr));
        let udpr = UdpRepr::parse(&udp, &s, &d, &ChecksumCapabilities::ignored())
            .map_err(|_| bad("UDP header"))?;
        let src = Address::Extended(self.br_eui64);
        let dst = Address::Extended(NODE_EUI64);
        let iphc = SixlowpanIphcRepr {
            src_addr: ipr.src_addr,
            ll_src_addr: Some(sm(src)),
            dst_addr: ipr.dst_addr,
            ll_dst_addr: Some(sm(dst)),
            next_header: SixlowpanNextHeader::Compressed,
            hop_limit: ipr.hop_limit - 1,
            ecn: None,
            dscp: None,
            flow_label: None,
        };
        let hl = iphc.buffer_len();
        let nhc = SixlowpanUdpNhcRepr(udpr);
        let nl = nhc.header_len();
        let payload = udp.payload();
        let clen = hl + nl + payload.len();
        let scratch = self.scratch.get_mut(..clen).ok_or_else(|| bad("scratch"))?;
        iphc.emit(&mut SixlowpanIphcPacket::new_unchecked(&mut scratch[..hl]));
        nhc.emit(
            &mut SixlowpanUdpNhcPacket::new_unchecked(&mut scratch[hl..]),
            &ipr.src_addr,
            &ipr.dst_addr,
            payload.len(),
            |b| b[..payload.len()].copy_from_slice(payload),
            &ChecksumCapabilities::ignored(),
        );
        // A forwarder keeps the checksum: the NHC header ends with it, inline.
        scratch[hl + nl - 2..hl + nl].copy_from_slice(&udp.checksum().to_be_bytes());

        let mhr_len = Self::mhr(self.pan, 0, dst, src).buffer_len();
        let budget = PSDU_MAX - FCS_LEN - mhr_len;
        let size = u16::try_from(ip.total_len()).map_err(|_| bad("size"))?;
        let unc_hdr = 48;
        // FRAG1: the compressed headers and an 8-aligned share of payload (as smoltcp's
        // interface cuts it), then FRAGNs.
        let first_payload = (budget.saturating_sub(4 + hl + nl) + unc_hdr) / 8 * 8;
        let first_payload = first_payload
            .checked_sub(unc_hdr)
            .ok_or_else(|| bad("headers do not fit the first frame"))?;
        let first_end = hl + nl + first_payload;
        let mut pos = 0;
        let mut sent = 0;
        let per = (budget - 5) / 8 * 8;
        let total = usize::from(size);
        while sent < total {
            let seq = self.seq;
            self.seq = self.seq.wrapping_add(1);
            let mhr = Self::mhr(self.pan, seq, dst, src);
            let buf = air.slot()?;
            mhr.emit(&mut Ieee802154Frame::new_unchecked(&mut buf[..mhr_len]));
            let rest = &mut buf[mhr_len..];
            let (hdr_len, chunk, unc) = if sent == 0 {
                let fr = SixlowpanFragRepr::FirstFragment { size, tag: 7 };
                fr.emit(&mut SixlowpanFragPacket::new_unchecked(&mut rest[..]));
                (4, first_end, unc_hdr + first_payload)
            } else {
                let fr = SixlowpanFragRepr::Fragment {
                    size,
                    tag: 7,
                    offset: (sent / 8) as u8,
                };
                fr.emit(&mut SixlowpanFragPacket::new_unchecked(&mut rest[..]));
                let c = per.min(total - sent);
                (5, c, c)
            };
            let data = scratch
                .get(pos..pos + chunk)
                .ok_or_else(|| bad("fragment past the datagram"))?;
            rest[hdr_len..hdr_len + chunk].copy_from_slice(data);
            let psdu_len = mhr_len + hdr_len + chunk + FCS_LEN;
            fcs::append(&mut buf[..psdu_len]);
            air.commit(psdu_len);
            pos += chunk;
            sent += unc;
        }
        Ok(air.len())
    }

    /// The node's frames on `air` in, the Ethernet frame to the host in `out`; returns its
    /// length.
    pub fn up(&mut self, air: &Air, out: &mut [u8]) -> Result<usize, Failure> {
        let bad = |what: &str| Failure(format!("baseline up: {what}"));
        let caps = ChecksumCapabilities::ignored();
        let mut received = 0;
        let mut total = 0;
        for psdu in air.frames() {
            ensure(fcs::verify(psdu), || "baseline up: FCS".into())?;
            let mpdu = &psdu[..psdu.len() - FCS_LEN];
            let mf = Ieee802154Frame::new_checked(mpdu).map_err(|_| bad("MAC frame"))?;
            let mr = Ieee802154Repr::parse(&mf).map_err(|_| bad("MAC header"))?;
            ensure(mr.frame_type == Ieee802154FrameType::Data, || {
                "baseline up: not data".into()
            })?;
            let data = mf.payload().ok_or_else(|| bad("MAC payload"))?;
            let fp = SixlowpanFragPacket::new_checked(data).map_err(|_| bad("FRAG"))?;
            let o = out.get_mut(ETH_HEADER..).ok_or_else(|| bad("out"))?;
            match SixlowpanFragRepr::parse(&fp).map_err(|_| bad("FRAG header"))? {
                SixlowpanFragRepr::FirstFragment { size, .. } => {
                    total = usize::from(size);
                    let data = fp.payload();
                    let ip = SixlowpanIphcPacket::new_checked(data).map_err(|_| bad("IPHC"))?;
                    let r = SixlowpanIphcRepr::parse(&ip, mr.src_addr, mr.dst_addr, &self.contexts)
                        .map_err(|_| bad("IPHC header"))?;
                    // The header as received (smoltcp's repr would measure its own,
                    // context-free encoding).
                    let hl = ip.header_len();
                    let nhc = data.get(hl..).ok_or_else(|| bad("IPHC past the frame"))?;
                    let nhcp = SixlowpanUdpNhcPacket::new_checked(nhc).map_err(|_| bad("NHC"))?;
                    let u = SixlowpanUdpNhcRepr::parse(&nhcp, &r.src_addr, &r.dst_addr, &caps)
                        .map_err(|_| bad("NHC header"))?;
                    let ipr = Ipv6Repr {
                        src_addr: r.src_addr,
                        dst_addr: r.dst_addr,
                        next_header: IpProtocol::Udp,
                        payload_len: total - 40,
                        hop_limit: r.hop_limit.saturating_sub(1),
                    };
                    ipr.emit(&mut Ipv6Packet::new_unchecked(&mut o[..40]));
                    let mut up = UdpPacket::new_unchecked(&mut o[40..48]);
                    up.set_src_port(u.src_port);
                    up.set_dst_port(u.dst_port);
                    up.set_len((total - 40) as u16);
                    up.set_checksum(nhcp.checksum().unwrap_or(0));
                    let pl = nhcp.payload();
                    o.get_mut(48..48 + pl.len())
                        .ok_or_else(|| bad("FRAG1 past the packet"))?
                        .copy_from_slice(pl);
                    received += 48 + pl.len();
                }
                SixlowpanFragRepr::Fragment { offset, .. } => {
                    let data = fp.payload();
                    let at = usize::from(offset) * 8;
                    o.get_mut(at..at + data.len())
                        .ok_or_else(|| bad("FRAGN past the packet"))?
                        .copy_from_slice(data);
                    received += data.len();
                }
            }
        }
        ensure(received == total && total > 0, || {
            format!("baseline up: {received} of {total} bytes")
        })?;
        let eth = EthernetRepr {
            src_addr: EthernetAddress(self.br_mac),
            dst_addr: EthernetAddress(HOST_MAC),
            ethertype: EthernetProtocol::Ipv6,
        };
        eth.emit(&mut EthernetFrame::new_unchecked(&mut out[..ETH_HEADER]));
        Ok(ETH_HEADER + total)
    }

    /// Run both directions once and check the bytes as [`Router::check`] does: the frames
    /// reassemble (with `sixlo`) to the host's packet with the hop limit decremented, and the
    /// Ethernet frame equals the one the router sent. Returns the frame count down.
    pub fn check(&mut self, r: &Router<'_>) -> Result<usize, Failure> {
        let mut air = Air::new(MAX_FRAMES);
        let n = self.down(r.down_frame(), &mut air)?;
        let got = reassemble(&air, Address::Extended(NODE_EUI64), r.app.wpan().contexts())?;
        ensure(got == forwarded(&r.down_packet), || {
            "baseline down: frames do not carry the packet".into()
        })?;
        let mut out = vec![0u8; ETH_HEADER + PACKET_LEN];
        let len = self.up(r.up_frames(), &mut out)?;
        ensure(out[..len] == *r.captured(), || {
            "baseline up: the Ethernet frame differs from the router's".into()
        })?;
        Ok(n)
    }
}
