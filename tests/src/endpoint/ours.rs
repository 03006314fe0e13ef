//! Our endpoints: IPv6/UDP headers, `sixlo` compression and fragmentation, the `l2-15_4` MAC
//! header and FCS, and back.

use core::net::Ipv6Addr;

use l2_15_4::frame::{FrameType, Repr, fcs};
use l2_15_4::mac::{Framer, MacConfig, SrcAddrMode, TxRequest};
use netif::{Instant, checksum};
use sixlo::{CompressOptions, ContextTable, Fragmenter, LinkAddr, Reassembler, Received};
use smoltcp::wire::IpProtocol;

use super::{
    CHANNEL, DATAGRAM_LEN, DST_PORT, FCS_LEN, HEADERS_LEN, HOP_LIMIT, RECEIVER_IP, SENDER_EUI64,
    SENDER_IP, SENDER_SHORT, SRC_PORT, Work, pan, receiver_ll, sender_ll,
};
use crate::{Air, Failure, PSDU_MAX, ensure};

/// Our sending endpoint: IPv6/UDP headers, `sixlo` compression and fragmentation, `l2-15_4`
/// MAC header and FCS.
#[derive(Debug)]
pub struct OursSender {
    work: Work,
    /// The sender's MAC configuration (PAN, short and extended address, frame version).
    mac: MacConfig,
    /// The soft-MAC's header builder.
    framer: Framer,
    datagram: Vec<u8>,
    contexts: ContextTable,
    seq: u8,
    tag: u16,
}

impl OursSender {
    /// A sender doing `work`.
    pub fn new(work: Work) -> Self {
        let mut mac = MacConfig::new(CHANNEL, pan(), SENDER_EUI64);
        mac.short_address = SENDER_SHORT;
        OursSender {
            work,
            mac,
            framer: Framer::new(),
            datagram: vec![0; DATAGRAM_LEN],
            contexts: ContextTable::new(),
            seq: 0,
            tag: 0,
        }
    }

    /// Put the frames of one datagram carrying `payload` on `air` (cleared first); returns
    /// how many.
    pub fn send(&mut self, payload: &[u8], air: &mut Air) -> Result<usize, Failure> {
        air.clear();
        let len = HEADERS_LEN + payload.len();
        let udp_len = u16::try_from(8 + payload.len())
            .map_err(|_| Failure::new("payload too long for UDP"))?;
        let d = self
            .datagram
            .get_mut(..len)
            .ok_or_else(|| Failure::new("payload longer than the datagram buffer"))?;
        let (hdr, body) = d.split_at_mut(40);
        netif::icmp::write_ipv6_header(
            hdr,
            0,
            udp_len,
            IpProtocol::Udp,
            HOP_LIMIT,
            &SENDER_IP,
            &RECEIVER_IP,
        );
        let (uh, data) = body.split_at_mut(8);
        let [p0, p1] = SRC_PORT.to_be_bytes();
        let [q0, q1] = DST_PORT.to_be_bytes();
        let [l0, l1] = udp_len.to_be_bytes();
        uh.copy_from_slice(&[p0, p1, q0, q1, l0, l1, 0, 0]);
        data.copy_from_slice(payload);
        if self.work.udp_checksum {
            ensure(
                checksum::fill(body, &SENDER_IP, &RECEIVER_IP, checksum::UDP),
                || "UDP checksum".into(),
            )?;
        }

        let src = sender_ll();
        let dst = receiver_ll();
        // The request the soft-MAC gets for each frame (`firmware::wpan` asks for its
        // extended source; this sender has a short address and uses it).
        let req = TxRequest {
            dst,
            dst_pan: None,
            src: SrcAddrMode::Short,
            frame_type: FrameType::Data,
            payload: &[],
            security: None,
        };
        // The MAC header's length fixes the 6LoWPAN budget (as `firmware::wpan` does).
        let hdr_len = self
            .framer
            .plan(&self.mac, &req)
            .map_err(|e| Failure(format!("MAC header: {e}")))?
            .buffer_len();
        let budget = PSDU_MAX - FCS_LEN - hdr_len;
        self.tag = self.tag.wrapping_add(1);
        let mut frag = Fragmenter::new(
            &self.datagram[..len],
            LinkAddr::from(src),
            LinkAddr::from(dst),
            &self.contexts,
            CompressOptions::default(),
            self.tag,
            budget,
        )
        .map_err(|e| Failure(format!("fragmenter: {e:?}")))?;
        while !frag.is_done() {
            // Per frame, what the soft-MAC does on enqueue (`Mac::enqueue`): the header
            // planned for this request (reused while the request and configuration stay the
            // same) stamped with the frame's sequence number, then the payload and the FCS.
            let plan = self
                .framer
                .plan(&self.mac, &req)
                .map_err(|e| Failure(format!("MAC header: {e}")))?;
            let buf = air.slot()?;
            let h = plan
                .emit(self.seq, buf)
                .map_err(|e| Failure(format!("MAC header emit: {e}")))?;
            let room = buf
                .get_mut(h..PSDU_MAX - FCS_LEN)
                .ok_or_else(|| Failure::new("no room after the MAC header"))?;
            let Some(n) = frag
                .next_frame(room)
                .map_err(|e| Failure(format!("fragment: {e:?}")))?
            else {
                break;
            };
            let psdu_len = h + n + FCS_LEN;
            if self.work.fcs.is_some() {
                let psdu = buf
                    .get_mut(..psdu_len)
                    .ok_or_else(|| Failure::new("PSDU too long"))?;
                fcs::append(psdu);
            }
            air.commit(psdu_len);
            self.seq = self.seq.wrapping_add(1);
        }
        Ok(air.len())
    }
}

/// Our receiving endpoint: FCS, MAC header and filter, `sixlo` reassembly and decompression,
/// UDP delivery checks.
#[derive(Debug)]
pub struct OursReceiver {
    work: Work,
    reassembler: Box<Reassembler>,
    contexts: ContextTable,
    datagram: Vec<u8>,
    /// Frames dropped for a bad FCS, a MAC header that did not parse or the filter.
    pub dropped: u64,
}

impl OursReceiver {
    /// A receiver doing `work`.
    pub fn new(work: Work) -> Self {
        OursReceiver {
            work,
            reassembler: Box::default(),
            contexts: ContextTable::new(),
            datagram: vec![0; sixlo::IPV6_MIN_MTU],
            dropped: 0,
        }
    }

    /// Receive every frame on `air`; the UDP payload of the datagram they complete goes to
    /// `out`. Returns its length.
    pub fn receive(&mut self, air: &Air, out: &mut [u8]) -> Result<usize, Failure> {
        let me = receiver_ll();
        let mut complete = None;
        for psdu in air.frames() {
            let Some(mpdu_len) = psdu.len().checked_sub(FCS_LEN) else {
                self.dropped += 1;
                continue;
            };
            if self.work.fcs.is_some() && !fcs::verify(psdu) {
                self.dropped += 1;
                continue;
            }
            let mpdu = &psdu[..mpdu_len];
            // One walk of the header gives it and the payload (as the soft-MAC's receive).
            let Ok((repr, payload)) = Repr::parse_frame(mpdu) else {
                self.dropped += 1;
                continue;
            };
            // The soft-MAC's filter for a data frame to us (secured frames are refused, so
            // the payload follows the header directly).
            let (Some(src), Some(dst)) = (repr.src_addr, repr.dst_addr) else {
                self.dropped += 1;
                continue;
            };
            if repr.frame_type != FrameType::Data
                || repr.is_secured()
                || repr.dst_pan_id != Some(pan())
                || !(dst == me || dst.is_broadcast())
            {
                self.dropped += 1;
                continue;
            }
            match self.reassembler.receive(
                payload,
                &LinkAddr::from(src),
                &LinkAddr::from(dst),
                &self.contexts,
                Instant::ZERO,
                &mut self.datagram,
            ) {
                Ok(Received::Complete(n)) => complete = Some(n),
                Ok(Received::Pending) => {}
                Err(e) => return Err(Failure(format!("6LoWPAN receive: {e:?}"))),
            }
        }
        let n = complete.ok_or_else(|| Failure::new("no datagram completed"))?;
        self.deliver(n, out)
    }

    /// The checks a UDP endpoint makes on the datagram in `datagram[..n]`, then the copy of
    /// its payload into `out`.
    fn deliver(&self, n: usize, out: &mut [u8]) -> Result<usize, Failure> {
        let d = self
            .datagram
            .get(..n)
            .ok_or_else(|| Failure::new("datagram length"))?;
        let (Some(ip), Some(udp)) = (d.get(..40), d.get(40..)) else {
            return Err(Failure::new("datagram shorter than its headers"));
        };
        let plen = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        ensure(ip[0] >> 4 == 6, || "not IPv6".into())?;
        ensure(ip[6] == 17, || "not UDP".into())?;
        ensure(plen == udp.len(), || "IPv6 payload length".into())?;
        ensure(ip[24..40] == RECEIVER_IP.octets(), || {
            "not our address".into()
        })?;
        ensure(udp.len() >= 8, || "UDP header".into())?;
        let ulen = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
        ensure(ulen == udp.len(), || "UDP length".into())?;
        ensure(u16::from_be_bytes([udp[2], udp[3]]) == DST_PORT, || {
            "not our port".into()
        })?;
        if self.work.udp_checksum {
            // RFC 8200 §8.1: a zero UDP checksum is discarded on IPv6.
            ensure(udp[6..8] != [0, 0], || "zero UDP checksum".into())?;
            let src = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[8..24]).unwrap_or([0; 16]));
            let ok = checksum::verify(udp, &src, &RECEIVER_IP, checksum::UDP);
            ensure(ok, || "UDP checksum".into())?;
        }
        let data = &udp[8..];
        out.get_mut(..data.len())
            .ok_or_else(|| Failure::new("application buffer too small"))?
            .copy_from_slice(data);
        Ok(data.len())
    }
}
