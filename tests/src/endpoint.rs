//! One UDP payload of [`PAYLOAD_LEN`] bytes from one 6LoWPAN endpoint to another over an
//! in-memory IEEE 802.15.4 link ([`Air`]), ours and smoltcp's.
//!
//! Both pairs use the same addressing, so they put frames of the same shape on the air:
//! sender short address 0x0001 (fe80::ff:fe00:1, UDP port 0x1633), receiver EUI-64
//! 02:00:00:ff:fe:00:00:02 (fe80::ff:fe00:2, port 0x1634), PAN 0xabcd with PAN ID compression:
//! a 15-byte MAC header and 2 FCS bytes around each 6LoWPAN payload, 127-byte PSDUs at most.
//! smoltcp 0.14 fixes that shape: it derives no link-layer address from an IID, has no public
//! neighbor-cache API and on 802.15.4 only learns 8-byte link-layer addresses from NDISC
//! options, so its sender is primed once with a Neighbor Advertisement carrying the receiver's
//! EUI-64 and then sends to that extended address (time stays at 0, so the entry never
//! expires).
//!
//! What each side does per datagram, by [`Work`]:
//! - **ours** ([`OursSender`], [`OursReceiver`]): build the IPv6 and UDP headers in front of a
//!   copy of the payload (netif's IPv6 header writer; with `udp_checksum`, the UDP checksum with
//!   `netif::checksum`, the code netif and sixlo use for checksums); plan and
//!   cut the frames with `sixlo::Fragmenter` (IPHC + UDP NHC, RFC 4944 FRAG1/FRAGN); per frame
//!   the MAC header the soft-MAC writes on enqueue (`l2_15_4::mac::Framer`, ACK request set, as
//!   our MAC does for unicast) and, with `fcs`, `l2_15_4::frame::fcs::append` (slice-by-16 on
//!   hosted targets). Receive: per frame, with `fcs`, `fcs::verify`; `Repr::parse_frame` (MAC
//!   header and payload in one walk, as the soft-MAC's receive); the soft-MAC's
//!   receive filter (data frame, unsecured, our PAN, our address); `sixlo::Reassembler::receive`
//!   (reassembly keyed by source, tag and size, with overlap/duplicate checks, and the
//!   decompression); then the checks a UDP endpoint makes (IPv6 version, next header, lengths,
//!   destination address and port; with `udp_checksum`, `netif::checksum::verify`) and the
//!   copy of the payload into the application's buffer.
//! - **smoltcp** ([`SmolSender`], [`SmolReceiver`]): two `iface::Interface`s
//!   (`Medium::Ieee802154`), each with a UDP socket. The sender `send_slice`s the payload
//!   (copied into the socket buffer) and `poll`s until the datagram's frames are on the air
//!   (UDP/IPv6 repr building, IPHC + UDP NHC, its fragmenter, 802.15.4 MHR emission); the
//!   receiver `poll`s until the socket has the datagram (MHR parse, PAN filter, reassembly in
//!   its assembler, decompression, IPv6 and UDP processing, socket dispatch, copy into the
//!   socket buffer) and `recv_slice`s it into the application's buffer. `udp_checksum` is the
//!   device's checksum capability: smoltcp computes the UDP checksum on transmit, or does not
//!   (`ChecksumCapabilities::ignored()`, it then sends whatever is in its buffer). On receive
//!   smoltcp 0.14 never verifies it for a 6LoWPAN datagram, whatever the capability: its
//!   decompression (`decompress_udp`) rebuilds the UDP header with a zero checksum, which its
//!   UDP input takes for "no checksum" ([`check`] shows it with a corrupted payload). So with
//!   `udp_checksum` smoltcp makes one checksum pass over the datagram and ours two (about 850
//!   instructions, 0.1 µs, in smoltcp's favour). smoltcp has no FCS code:
//!   `Medium::Ieee802154` hands MPDUs to the device, so with `fcs` the in-memory device computes
//!   the FCS on transmit and checks and strips it on receive, as a driver for a radio without
//!   hardware FCS would, with the code [`DriverFcs`] names: the `crc` crate's default
//!   CRC-16/KERMIT in [`Work::FULL`], `l2_15_4::frame::fcs` (ours) in
//!   [`Work::FULL_SAME_FCS`].
//!
//! Neither side does CSMA/CA, ACKs or retries here (smoltcp has no MAC; ours is measured with
//! its MAC in [`crate::router`]).

use core::net::Ipv6Addr;

use l2_15_4::frame::{Address, FrameType, PanId, Repr, fcs};
use l2_15_4::mac::{Framer, MacConfig, SrcAddrMode, TxRequest};
use l2_15_4::radio::Channel;
use netif::{Instant, checksum};
use sixlo::{CompressOptions, ContextTable, Fragmenter, LinkAddr, Reassembler, Received};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::socket::udp;
use smoltcp::wire::{
    HardwareAddress, Icmpv6Packet, Icmpv6Repr, Ieee802154Address, Ieee802154Frame,
    Ieee802154FrameType, Ieee802154FrameVersion, Ieee802154Pan, Ieee802154Repr, IpAddress, IpCidr,
    IpEndpoint, IpProtocol, NdiscNeighborFlags, NdiscRepr, RawHardwareAddress, SixlowpanIphcPacket,
    SixlowpanIphcRepr, SixlowpanNextHeader,
};

use crate::{Air, Failure, PSDU_MAX, ensure};

/// UDP payload bytes per datagram: a 1280-byte IPv6 datagram (the IPv6 minimum MTU).
pub const PAYLOAD_LEN: usize = 1232;
/// IPv6 datagram bytes.
pub const DATAGRAM_LEN: usize = PAYLOAD_LEN + HEADERS_LEN;
/// IPv6 + UDP header bytes.
const HEADERS_LEN: usize = 48;
/// The PAN both endpoints are in.
pub const PAN: u16 = 0xabcd;
/// The sender's short address.
pub const SENDER_SHORT: u16 = 0x0001;
/// The sender's EUI-64 (canonical order; its frames carry the short address instead).
pub const SENDER_EUI64: [u8; 8] = [0x02, 0, 0, 0xff, 0xfe, 0, 0, 0x01];
/// The channel (unused on the in-memory air; part of the sender's MAC configuration).
const CHANNEL: Channel = match Channel::new(26) {
    Some(c) => c,
    None => panic!("channel 26 is valid"),
};
/// The receiver's EUI-64 (canonical order); its IID is 0000:00ff:fe00:0002.
pub const RECEIVER_EUI64: [u8; 8] = [0x02, 0, 0, 0xff, 0xfe, 0, 0, 0x02];
/// The sender's address (derived from its short address).
pub const SENDER_IP: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 1);
/// The receiver's address (derived from its EUI-64).
pub const RECEIVER_IP: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 2);
/// The sender's UDP port.
pub const SRC_PORT: u16 = 0x1633;
/// The receiver's UDP port.
pub const DST_PORT: u16 = 0x1634;
/// Hop limit of the datagram (smoltcp's UDP socket default).
const HOP_LIMIT: u8 = 64;
/// FCS bytes at the end of each PSDU.
const FCS_LEN: usize = l2_15_4::frame::FCS_LEN;
/// Frames a datagram may take (12 in practice).
pub const MAX_FRAMES: usize = 32;

/// The FCS code smoltcp's in-memory device runs when the work has `fcs` (smoltcp has none of
/// its own: `Medium::Ieee802154` hands MPDUs to the device). Ours always runs
/// `l2_15_4::frame::fcs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverFcs {
    /// The `crc` crate's default CRC-16/KERMIT (`Crc::<u16>::new(&CRC_16_KERMIT)`: one
    /// 256-entry table, a byte at a time), what a driver built on that crate gets unless it
    /// asks for more, and the kind of code `l2-15_4` itself ran until it moved to slice-by-16.
    /// The baseline of the figure.
    CrcDefault,
    /// `l2_15_4::frame::fcs`, the code ours runs, so that only the stacks differ.
    Ours,
}

impl DriverFcs {
    /// Writes the FCS of `psdu[..len-2]` into its last two bytes (nothing if `psdu` is
    /// shorter than the FCS).
    pub fn append(self, psdu: &mut [u8]) {
        match self {
            DriverFcs::Ours => {
                fcs::append(psdu);
            }
            DriverFcs::CrcDefault => {
                if let Some(n) = psdu.len().checked_sub(FCS_LEN) {
                    let c = CRC_DEFAULT.checksum(&psdu[..n]).to_le_bytes();
                    psdu[n..].copy_from_slice(&c);
                }
            }
        }
    }

    /// Whether the last two bytes of `psdu` are the FCS of the bytes before them.
    pub fn verify(self, psdu: &[u8]) -> bool {
        match self {
            DriverFcs::Ours => fcs::verify(psdu),
            DriverFcs::CrcDefault => match psdu.len().checked_sub(FCS_LEN) {
                Some(n) => CRC_DEFAULT.checksum(&psdu[..n]).to_le_bytes() == [psdu[n], psdu[n + 1]],
                None => false,
            },
        }
    }
}

/// Which work outside 6LoWPAN and the MAC header both sides do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// Compute the UDP checksum on transmit and verify it on receive.
    pub udp_checksum: bool,
    /// `Some`: compute the FCS on transmit and check it on receive in software (a radio
    /// without hardware FCS), smoltcp's device with the given code (ours always runs
    /// `l2_15_4::frame::fcs`). `None`: the two FCS bytes are left as they are and never checked.
    pub fcs: Option<DriverFcs>,
}

impl Work {
    /// Everything an endpoint with a radio without hardware FCS does (the figure),
    /// smoltcp's device with the `crc` crate's default FCS.
    pub const FULL: Work = Work {
        udp_checksum: true,
        fcs: Some(DriverFcs::CrcDefault),
    };
    /// [`Work::FULL`] with smoltcp's device running our FCS code.
    pub const FULL_SAME_FCS: Work = Work {
        udp_checksum: true,
        fcs: Some(DriverFcs::Ours),
    };
    /// The radio computes and checks the FCS (as the nRF52840 does).
    pub const HW_FCS: Work = Work {
        udp_checksum: true,
        fcs: None,
    };
    /// Neither UDP checksum nor FCS: the stacks' own work only.
    pub const BARE: Work = Work {
        udp_checksum: false,
        fcs: None,
    };
    /// Every variant the benchmarks measure.
    pub const ALL: [Work; 4] = [Work::FULL, Work::FULL_SAME_FCS, Work::HW_FCS, Work::BARE];

    /// A short name for tables.
    pub const fn name(self) -> &'static str {
        match (self.udp_checksum, self.fcs) {
            (true, Some(DriverFcs::CrcDefault)) => "full",
            (true, Some(DriverFcs::Ours)) => "full-same-fcs",
            (true, None) => "hw-fcs",
            (false, None) => "bare",
            (false, Some(_)) => "fcs-only",
        }
    }
}

/// The baseline driver FCS ([`DriverFcs::CrcDefault`]).
const CRC_DEFAULT: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_KERMIT);

/// The UDP payload every benchmark sends: bytes 0, 1, 2, … (mod 256).
pub fn payload() -> Vec<u8> {
    (0..PAYLOAD_LEN).map(|i| i as u8).collect()
}

fn pan() -> PanId {
    PanId(PAN)
}

fn sender_ll() -> Address {
    Address::Short(SENDER_SHORT)
}

fn receiver_ll() -> Address {
    Address::Extended(RECEIVER_EUI64)
}

// ----- ours ----------------------------------------------------------------------------------

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

// ----- smoltcp -------------------------------------------------------------------------------

fn smol_caps(work: Work) -> DeviceCapabilities {
    let mut caps = DeviceCapabilities::default();
    caps.medium = Medium::Ieee802154;
    caps.max_transmission_unit = PSDU_MAX - FCS_LEN;
    caps.checksum = if work.udp_checksum {
        ChecksumCapabilities::default()
    } else {
        ChecksumCapabilities::ignored()
    };
    caps
}

/// The sender's radio: every MPDU smoltcp transmits goes on `air`, followed by its FCS when
/// the work says so; `rx` (the neighbor-priming frame) is handed out once.
struct TxPhy<'a> {
    air: &'a mut Air,
    work: Work,
    rx: Option<([u8; PSDU_MAX], usize)>,
}

struct TxOnAir<'a> {
    air: &'a mut Air,
    work: Work,
}

impl phy::TxToken for TxOnAir<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let psdu_len = len + FCS_LEN;
        match self.air.slot() {
            Ok(buf) if psdu_len <= PSDU_MAX => {
                let r = f(&mut buf[..len]);
                if let Some(code) = self.work.fcs {
                    code.append(&mut buf[..psdu_len]);
                }
                self.air.commit(psdu_len);
                r
            }
            // Longer than a PSDU or no room: the radio refuses it (never in these benches).
            _ => f(&mut vec![0; len]),
        }
    }
}

/// A received MPDU (FCS stripped).
struct RxMpdu<'a>(&'a [u8]);

impl phy::RxToken for RxMpdu<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

struct OwnedRx([u8; PSDU_MAX], usize);

impl phy::RxToken for OwnedRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0[..self.1])
    }
}

impl phy::Device for TxPhy<'_> {
    type RxToken<'b>
        = OwnedRx
    where
        Self: 'b;
    type TxToken<'b>
        = TxOnAir<'b>
    where
        Self: 'b;

    fn receive(
        &mut self,
        _: smoltcp::time::Instant,
    ) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let (buf, len) = self.rx.take()?;
        let mpdu_len = len.checked_sub(FCS_LEN)?;
        if self.work.fcs.is_some_and(|code| !code.verify(&buf[..len])) {
            return None;
        }
        Some((
            OwnedRx(buf, mpdu_len),
            TxOnAir {
                air: self.air,
                work: self.work,
            },
        ))
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<Self::TxToken<'_>> {
        Some(TxOnAir {
            air: self.air,
            work: self.work,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        smol_caps(self.work)
    }
}

/// The receiver's radio: hands out the frames on `air` one per `receive`, checking and
/// stripping the FCS when the work says so (a frame with a bad FCS is dropped, as a radio
/// does). Anything smoltcp transmits is counted and discarded.
struct RxPhy<'a> {
    air: &'a Air,
    next: usize,
    work: Work,
    transmitted: &'a mut u64,
}

struct Discard<'a>(&'a mut u64);

impl phy::TxToken for Discard<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        *self.0 += 1;
        f(&mut vec![0; len])
    }
}

impl<'a> phy::Device for RxPhy<'a> {
    type RxToken<'b>
        = RxMpdu<'a>
    where
        Self: 'b;
    type TxToken<'b>
        = Discard<'b>
    where
        Self: 'b;

    fn receive(
        &mut self,
        _: smoltcp::time::Instant,
    ) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let air: &'a Air = self.air;
        loop {
            let psdu = air.frame(self.next)?;
            self.next += 1;
            let Some(mpdu_len) = psdu.len().checked_sub(FCS_LEN) else {
                continue;
            };
            if self.work.fcs.is_some_and(|code| !code.verify(psdu)) {
                continue;
            }
            return Some((RxMpdu(&psdu[..mpdu_len]), Discard(self.transmitted)));
        }
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<Self::TxToken<'_>> {
        Some(Discard(self.transmitted))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        smol_caps(self.work)
    }
}

fn sm_addr(a: Address) -> Ieee802154Address {
    match a {
        Address::Short(s) => Ieee802154Address::Short(s.to_be_bytes()),
        Address::Extended(e) => Ieee802154Address::Extended(e),
    }
}

/// A Neighbor Advertisement (solicited, override) from the receiver to the sender, as a PSDU
/// with an IPHC header and inline ICMPv6, FCS appended: fills smoltcp's neighbor cache with
/// the receiver's EUI-64 (see the module documentation).
fn neighbor_advert() -> Result<([u8; PSDU_MAX], usize), Failure> {
    let mhr = Ieee802154Repr {
        frame_type: Ieee802154FrameType::Data,
        security_enabled: false,
        frame_pending: false,
        ack_request: false,
        sequence_number: Some(0),
        pan_id_compression: true,
        frame_version: Ieee802154FrameVersion::Ieee802154_2006,
        dst_pan_id: Some(Ieee802154Pan(PAN)),
        dst_addr: Some(sm_addr(sender_ll())),
        src_pan_id: Some(Ieee802154Pan(PAN)),
        src_addr: Some(sm_addr(receiver_ll())),
    };
    let iphc = SixlowpanIphcRepr {
        src_addr: RECEIVER_IP,
        ll_src_addr: Some(sm_addr(receiver_ll())),
        dst_addr: SENDER_IP,
        ll_dst_addr: Some(sm_addr(sender_ll())),
        next_header: SixlowpanNextHeader::Uncompressed(IpProtocol::Icmpv6),
        hop_limit: 255,
        ecn: None,
        dscp: None,
        flow_label: None,
    };
    let na = Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
        flags: NdiscNeighborFlags::OVERRIDE | NdiscNeighborFlags::SOLICITED,
        target_addr: RECEIVER_IP,
        lladdr: Some(RawHardwareAddress::from_bytes(&RECEIVER_EUI64)),
    });
    let mut buf = [0u8; PSDU_MAX];
    let ml = mhr.buffer_len();
    let hl = iphc.buffer_len();
    let il = na.buffer_len();
    let len = ml + hl + il + FCS_LEN;
    ensure(len <= PSDU_MAX, || "neighbor advertisement too long".into())?;
    mhr.emit(&mut Ieee802154Frame::new_unchecked(&mut buf[..ml]));
    iphc.emit(&mut SixlowpanIphcPacket::new_unchecked(
        &mut buf[ml..ml + hl],
    ));
    na.emit(
        &RECEIVER_IP,
        &SENDER_IP,
        &mut Icmpv6Packet::new_unchecked(&mut buf[ml + hl..ml + hl + il]),
        &ChecksumCapabilities::default(),
    );
    fcs::append(&mut buf[..len]);
    Ok((buf, len))
}

fn udp_socket(port: u16) -> Result<udp::Socket<'static>, Failure> {
    let mut s = udp::Socket::new(
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4], vec![0u8; 4096]),
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4], vec![0u8; 4096]),
    );
    s.bind(port)
        .map_err(|e| Failure(format!("UDP bind: {e}")))?;
    Ok(s)
}

fn interface(work: Work, ll: Address, ip: Ipv6Addr) -> Result<Interface, Failure> {
    let mut cfg = Config::new(HardwareAddress::Ieee802154(sm_addr(ll)));
    cfg.pan_id = Some(Ieee802154Pan(PAN));
    let mut scratch = Air::new(1);
    let mut dev = TxPhy {
        air: &mut scratch,
        work,
        rx: None,
    };
    let mut iface = Interface::new(cfg, &mut dev, smoltcp::time::Instant::ZERO);
    let mut pushed = Ok(());
    iface.update_ip_addrs(|a| {
        pushed = a.push(IpCidr::new(IpAddress::Ipv6(ip), 64));
    });
    pushed.map_err(|_| Failure::new("smoltcp address table full"))?;
    Ok(iface)
}

/// smoltcp's sending endpoint: an `Interface` and a UDP socket bound to [`SRC_PORT`].
pub struct SmolSender {
    work: Work,
    iface: Interface,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    /// Frames one datagram takes (learnt at setup).
    frames: usize,
}

impl SmolSender {
    /// A sender doing `work`, its neighbor cache primed and its frame count learnt by sending
    /// `payload` once.
    pub fn new(work: Work, payload: &[u8]) -> Result<Self, Failure> {
        let mut iface = interface(work, sender_ll(), SENDER_IP)?;
        let mut sockets = SocketSet::new(vec![]);
        let handle = sockets.add(udp_socket(SRC_PORT)?);
        let mut air = Air::new(MAX_FRAMES);
        let mut dev = TxPhy {
            air: &mut air,
            work,
            rx: Some(neighbor_advert()?),
        };
        iface.poll(smoltcp::time::Instant::ZERO, &mut dev, &mut sockets);
        ensure(dev.rx.is_none(), || "the advert was not taken".into())?;
        let mut s = SmolSender {
            work,
            iface,
            sockets,
            handle,
            frames: MAX_FRAMES,
        };
        // Learn the frame count: send once, poll until nothing more comes out.
        air.clear();
        s.sockets
            .get_mut::<udp::Socket<'_>>(handle)
            .send_slice(payload, receiver_endpoint())
            .map_err(|e| Failure(format!("UDP send: {e}")))?;
        for _ in 0..64 {
            let before = air.len();
            let mut dev = TxPhy {
                air: &mut air,
                work,
                rx: None,
            };
            s.iface
                .poll(smoltcp::time::Instant::ZERO, &mut dev, &mut s.sockets);
            if air.len() == before {
                break;
            }
        }
        ensure(!air.is_empty(), || {
            "smoltcp sent nothing (neighbor discovery?)".into()
        })?;
        s.frames = air.len();
        Ok(s)
    }

    /// Frames one datagram takes.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Put the frames of one datagram carrying `payload` on `air` (cleared first); returns
    /// how many.
    pub fn send(&mut self, payload: &[u8], air: &mut Air) -> Result<usize, Failure> {
        air.clear();
        self.sockets
            .get_mut::<udp::Socket<'_>>(self.handle)
            .send_slice(payload, receiver_endpoint())
            .map_err(|e| Failure(format!("UDP send: {e}")))?;
        let mut dev = TxPhy {
            air,
            work: self.work,
            rx: None,
        };
        for _ in 0..64 {
            self.iface
                .poll(smoltcp::time::Instant::ZERO, &mut dev, &mut self.sockets);
            if dev.air.len() >= self.frames {
                return Ok(dev.air.len());
            }
        }
        Err(Failure(format!(
            "smoltcp stalled at {} frames",
            dev.air.len()
        )))
    }
}

fn receiver_endpoint() -> IpEndpoint {
    IpEndpoint::new(IpAddress::Ipv6(RECEIVER_IP), DST_PORT)
}

/// smoltcp's receiving endpoint: an `Interface` and a UDP socket bound to [`DST_PORT`].
pub struct SmolReceiver {
    work: Work,
    iface: Interface,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    /// Frames smoltcp tried to transmit (a receiver should send nothing).
    pub transmitted: u64,
}

impl SmolReceiver {
    /// A receiver doing `work`.
    pub fn new(work: Work) -> Result<Self, Failure> {
        let iface = interface(work, receiver_ll(), RECEIVER_IP)?;
        let mut sockets = SocketSet::new(vec![]);
        let handle = sockets.add(udp_socket(DST_PORT)?);
        Ok(SmolReceiver {
            work,
            iface,
            sockets,
            handle,
            transmitted: 0,
        })
    }

    /// Receive every frame on `air`; the UDP payload of the datagram they complete goes to
    /// `out`. Returns its length.
    pub fn receive(&mut self, air: &Air, out: &mut [u8]) -> Result<usize, Failure> {
        let mut dev = RxPhy {
            air,
            next: 0,
            work: self.work,
            transmitted: &mut self.transmitted,
        };
        for _ in 0..=MAX_FRAMES {
            self.iface
                .poll(smoltcp::time::Instant::ZERO, &mut dev, &mut self.sockets);
            let sock = self.sockets.get_mut::<udp::Socket<'_>>(self.handle);
            if sock.can_recv() {
                let (n, meta) = sock
                    .recv_slice(out)
                    .map_err(|e| Failure(format!("UDP recv: {e}")))?;
                ensure(meta.endpoint.port == SRC_PORT, || "source port".into())?;
                return Ok(n);
            }
            if dev.next >= air.len() {
                break;
            }
        }
        Err(Failure::new("smoltcp delivered nothing"))
    }
}

// ----- checks --------------------------------------------------------------------------------

/// What [`check`] found besides "every path delivers".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// Frames one datagram takes with our sender.
    pub ours_frames: usize,
    /// Frames one datagram takes with smoltcp's sender.
    pub smoltcp_frames: usize,
    /// Whether smoltcp's receiver refused a datagram whose payload was changed after its UDP
    /// checksum was computed (only tested with `udp_checksum`; ours always refuses it).
    pub smoltcp_verifies_udp_checksum: bool,
}

/// Run each pair once with `work` and check that the receiver got `payload` unchanged; also
/// cross over (our frames to smoltcp's receiver and smoltcp's frames to ours), which shows the
/// two senders put comparable, interoperable frames on the air. With `fcs`, a frame with a
/// bad FCS must be refused by both; with `udp_checksum`, a changed payload must be refused by
/// ours (whether smoltcp refuses it is reported).
pub fn check(work: Work, payload: &[u8]) -> Result<Checked, Failure> {
    let mut air = Air::new(MAX_FRAMES);
    let mut out = vec![0u8; 2048];
    let mut os = OursSender::new(work);
    let mut or = OursReceiver::new(work);
    let mut ss = SmolSender::new(work, payload)?;
    let mut sr = SmolReceiver::new(work)?;
    let mut report = Checked {
        ours_frames: 0,
        smoltcp_frames: 0,
        smoltcp_verifies_udp_checksum: false,
    };
    let same = |n: usize, out: &[u8], who: &str| {
        ensure(n == payload.len() && out[..n] == *payload, || {
            format!("{who}: got {n} bytes, not the payload")
        })
    };
    // Twice each: the second run goes through state the first one left.
    for _ in 0..2 {
        let ours = os.send(payload, &mut air)?;
        out.fill(0);
        same(or.receive(&air, &mut out)?, &out, "ours → ours")?;
        out.fill(0);
        same(sr.receive(&air, &mut out)?, &out, "ours → smoltcp")?;
        if let Some(code) = work.fcs {
            for f in air.frames() {
                ensure(fcs::verify(f), || "our frame has a bad FCS".into())?;
                // The two FCS codes compute the same CRC.
                ensure(code.verify(f), || "smoltcp's device refuses our FCS".into())?;
            }
        }
        let smol = ss.send(payload, &mut air)?;
        out.fill(0);
        same(sr.receive(&air, &mut out)?, &out, "smoltcp → smoltcp")?;
        out.fill(0);
        same(or.receive(&air, &mut out)?, &out, "smoltcp → ours")?;
        if work.fcs.is_some() {
            for f in air.frames() {
                ensure(fcs::verify(f), || "smoltcp's frame has a bad FCS".into())?;
            }
        }
        ensure(sr.transmitted == 0, || {
            "smoltcp's receiver transmitted".into()
        })?;
        ensure(or.dropped == 0, || {
            format!("ours dropped {} frames", or.dropped)
        })?;
        if ours != smol || ours == 0 {
            // Not an error, but the figures are per datagram: say so.
            eprintln!("note: ours sends {ours} frames, smoltcp {smol}");
        }
        if work.udp_checksum {
            // A payload byte changed after the checksum was computed (FCS recomputed, so only
            // the UDP checksum can catch it): both receivers refuse the datagram.
            let mut bad = air.clone();
            if let Some(buf) = bad.frames.get_mut(5) {
                let len = buf.1;
                buf.0[len - FCS_LEN - 10] ^= 0x40;
                if work.fcs.is_some() {
                    fcs::append(&mut buf.0[..len]);
                }
            }
            let mut r = OursReceiver::new(work);
            ensure(r.receive(&bad, &mut out).is_err(), || {
                "ours accepted a bad UDP checksum".into()
            })?;
            // smoltcp 0.14 does not: its 6LoWPAN decompression writes a zero UDP checksum
            // into the rebuilt header (`decompress_udp`), and its UDP input takes zero for
            // "no checksum", so the carried checksum is never verified. Recorded, not failed.
            let mut r = SmolReceiver::new(work)?;
            report.smoltcp_verifies_udp_checksum = r.receive(&bad, &mut out).is_err();
        }
        if work.fcs.is_none() {
            continue;
        }
        // A corrupted frame is refused by both (the FCS is really checked).
        let mut bad = air.clone();
        if let Some(buf) = bad.frames.get_mut(1) {
            buf.0[20] ^= 0x01;
        }
        let mut r = OursReceiver::new(work);
        ensure(r.receive(&bad, &mut out).is_err() && r.dropped == 1, || {
            "ours accepted a bad FCS".into()
        })?;
        let mut r = SmolReceiver::new(work)?;
        ensure(r.receive(&bad, &mut out).is_err(), || {
            "smoltcp's device accepted a bad FCS".into()
        })?;
    }
    report.ours_frames = os.send(payload, &mut air)?;
    report.smoltcp_frames = ss.frames();
    Ok(report)
}

/// Frame lengths (PSDU bytes) on the air for one datagram of each sender, for the record.
pub fn frame_lengths(work: Work, payload: &[u8]) -> Result<(Vec<usize>, Vec<usize>), Failure> {
    let mut air = Air::new(MAX_FRAMES);
    OursSender::new(work).send(payload, &mut air)?;
    let ours = air.frames().map(<[u8]>::len).collect();
    SmolSender::new(work, payload)?.send(payload, &mut air)?;
    let smol = air.frames().map(<[u8]>::len).collect();
    Ok((ours, smol))
}
