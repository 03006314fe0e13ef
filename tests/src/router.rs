//! The border router forwarding one 1280-byte IPv6/UDP packet from the backbone to a mesh node
//! ([`Router::forward_down`]) and one from the node to the backbone ([`Router::forward_up`]),
//! and a baseline doing the least a forwarder must do with the same packets using smoltcp's
//! wire codecs ([`WireBaseline`]).
//!
//! [`Router`] is `firmware::app::App` exactly as the board runs it (default configuration,
//! static backbone address 2001:db8::1/64, no capture running), with in-memory drivers and
//! virtual time:
//! - the radio declares no hardware help (no FCS, ACK or CSMA/CA offload, like the simulator's
//!   radio), so the soft-MAC computes and checks every FCS, runs CSMA/CA, sends and awaits
//!   ACKs. It records what the router transmits; the harness ends each transmission at the end
//!   of its airtime (`TxDone`) and answers a frame that requests it with an Imm-Ack 12 symbols
//!   later, as a perfect channel would. Virtual time advances to each deadline the router asks
//!   for (backoffs, ACK waits, its one-second housekeeping, ND and RA timers): every timer
//!   that falls due while the packets flow runs inside the measurement, as it would on a
//!   saturated link;
//! - the Ethernet driver hands the router a prepared frame and records what it sends; it
//!   answers the router's Neighbor Solicitations for the backbone host (address resolution,
//!   then NUD probes every ~35 s of virtual time) with Neighbor Advertisements, like the host.
//!
//! Down (Ethernet → 802.15.4): the host 2001:db8::2 sends a 1280-byte UDP packet to the mesh
//! node 2001:db8:1::212:4b00:0:1 (EUI-64 00:12:4b:00:00:00:00:01, resolved from its IID). Per
//! packet: Ethernet receive into the packet pool, IPv6 input and forwarding, the wpan0 queue,
//! 6LoWPAN compression and fragmentation (14 frames from the router's EUI-64 to the node's),
//! the MAC (header, FCS, CSMA/CA, transmission, ACK reception with FCS check) for each frame.
//!
//! Up (802.15.4 → Ethernet): the node sends the same size of packet to the host as 14
//! fragments (prepared once with `sixlo` and `l2-15_4`, ACK requested). Per packet: for each
//! frame the MAC's receive (FCS check, header parse, filter, duplicate check, the ACK after
//! the turnaround time), the frame into a pool buffer, wpan0's reassembly and decompression,
//! then IPv6 input, forwarding and the Ethernet header and transmission to the host.
//!
//! The harness's own work is counted in the figures: copying each transmitted PSDU, building
//! the 5-byte ACKs and a few comparisons per frame.

use std::collections::VecDeque;

use core::net::Ipv6Addr;

use firmware::app::{App, AppResources};
use firmware::config::{Backbone, Config};
use l2_15_4::consts;
use l2_15_4::frame::{Address, FrameType, FrameVersion, PanId, Repr, fcs};
use l2_15_4::radio::testing::ScriptedRadio;
use l2_15_4::radio::{Channel, RadioEvent, RxFrame, TxOutcome};
use netif::{Duration, Instant};
use sixlo::{CompressOptions, ContextTable, Fragmenter, LinkAddr, Reassembler, Received};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv6Message, Icmpv6Packet,
    Icmpv6Repr, Ieee802154Address, Ieee802154Frame, Ieee802154FrameType, Ieee802154FrameVersion,
    Ieee802154Pan, Ieee802154Repr, IpAddress, IpProtocol, Ipv6Packet, Ipv6Repr, NdiscNeighborFlags,
    NdiscRepr, RawHardwareAddress, SixlowpanAddressContext, SixlowpanFragPacket, SixlowpanFragRepr,
    SixlowpanIphcPacket, SixlowpanIphcRepr, SixlowpanNextHeader, SixlowpanUdpNhcPacket,
    SixlowpanUdpNhcRepr, UdpPacket, UdpRepr,
};

use crate::{Air, Failure, PSDU_MAX, ensure};

/// IPv6 packet bytes forwarded each way.
pub const PACKET_LEN: usize = 1280;
/// The border router's backbone address.
pub const BR_BACKBONE: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// The backbone host.
pub const HOST_IP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
/// The backbone host's MAC address.
pub const HOST_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x02];
/// The mesh node's EUI-64.
pub const NODE_EUI64: [u8; 8] = [0x00, 0x12, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x01];
/// UDP ports of the host and the node.
const HOST_PORT: u16 = 0xc001;
const NODE_PORT: u16 = 0x1634;
/// Hop limit as sent (the forwarded copy carries one less).
const HOP_LIMIT: u8 = 64;
/// FCS bytes.
const FCS_LEN: usize = l2_15_4::frame::FCS_LEN;
/// Bound on the loops that drive the router: beyond it, the path is broken.
const SPIN_LIMIT: usize = 10_000;
/// Frames a packet may take.
const MAX_FRAMES: usize = 32;
/// Ethernet header bytes.
const ETH_HEADER: usize = 14;

/// The node's global address in the mesh prefix `prefix`.
pub fn node_ip(prefix: [u8; 8]) -> Ipv6Addr {
    eui64_ip(prefix, NODE_EUI64)
}

/// The address with prefix `prefix` and the IID of `eui64` (RFC 4291 Appendix A).
pub fn eui64_ip(prefix: [u8; 8], eui64: [u8; 8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a[..8].copy_from_slice(&prefix);
    a[8..].copy_from_slice(&eui64);
    a[8] ^= 0x02;
    Ipv6Addr::from(a)
}

/// Mesh node `k`'s EUI-64, 00:12:4b:00:00:00:kk:kk: node 1 is [`NODE_EUI64`].
pub fn node_eui64(k: u16) -> [u8; 8] {
    let [a, b] = k.to_be_bytes();
    [0x00, 0x12, 0x4b, 0x00, 0x00, 0x00, a, b]
}

/// A Neighbor Solicitation with SLLAO and ARO (RFC 6775 §4.1, status 0) by which the node
/// `eui64` registers `addr` with the router whose link-local address is `br_ll` for
/// `lifetime_min` minutes (source and target `addr`, hop limit 255, checksum filled).
pub fn ns_aro(addr: Ipv6Addr, br_ll: Ipv6Addr, eui64: [u8; 8], lifetime_min: u16) -> Vec<u8> {
    // ICMPv6 NS: type, code, checksum, reserved (8 bytes), target (16), SLLAO (16), ARO (16).
    let icmp_len = 8 + 16 + 16 + 16;
    let mut p = vec![0u8; 40 + icmp_len];
    netif::icmp::write_ipv6_header(
        &mut p[..40],
        0,
        icmp_len as u16,
        IpProtocol::Icmpv6,
        255,
        &addr,
        &br_ll,
    );
    let m = &mut p[40..];
    m[0] = 135;
    m[8..24].copy_from_slice(&addr.octets());
    // SLLAO (RFC 4944 §8): type 1, length 2 (16 bytes), EUI-64, padding.
    m[24] = 1;
    m[25] = 2;
    m[26..34].copy_from_slice(&eui64);
    // ARO: type 33, length 2, status 0, reserved, lifetime (minutes), EUI-64.
    m[40] = 33;
    m[41] = 2;
    m[46..48].copy_from_slice(&lifetime_min.to_be_bytes());
    m[48..56].copy_from_slice(&eui64);
    Icmpv6Packet::new_unchecked(&mut p[40..]).fill_checksum(&addr, &br_ll);
    p
}

/// A 1280-byte IPv6/UDP packet from `src` to `dst` (hop limit 64, correct UDP checksum,
/// payload bytes `seed`, `seed + 1`, …).
pub fn udp_packet(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16, seed: u8) -> Vec<u8> {
    let mut p = vec![0u8; PACKET_LEN];
    let udp_len = (PACKET_LEN - 40) as u16;
    netif::icmp::write_ipv6_header(
        &mut p[..40],
        0,
        udp_len,
        IpProtocol::Udp,
        HOP_LIMIT,
        &src,
        &dst,
    );
    let [a, b] = sport.to_be_bytes();
    let [c, d] = dport.to_be_bytes();
    let [e, f] = udp_len.to_be_bytes();
    p[40..48].copy_from_slice(&[a, b, c, d, e, f, 0, 0]);
    for (i, x) in p[48..].iter_mut().enumerate() {
        *x = seed.wrapping_add(i as u8);
    }
    UdpPacket::new_unchecked(&mut p[40..])
        .fill_checksum(&IpAddress::Ipv6(src), &IpAddress::Ipv6(dst));
    p
}

/// `p` as forwarded: hop limit one less.
pub fn forwarded(p: &[u8]) -> Vec<u8> {
    let mut f = p.to_vec();
    if let Some(h) = f.get_mut(7) {
        *h = h.saturating_sub(1);
    }
    f
}

/// 802.15.4 data frames (2006, PAN ID compression, ACK requested) from `src` to `dst` carrying
/// the 6LoWPAN frames of `packet` (compressed with `contexts`, context IDs explicit), FCS
/// appended, on `air`.
pub fn mesh_frames(
    packet: &[u8],
    pan: PanId,
    src: Address,
    dst: Address,
    contexts: &ContextTable,
    air: &mut Air,
) -> Result<usize, Failure> {
    mesh_frames_from(packet, pan, src, dst, contexts, air, 0)
}

/// [`mesh_frames`] with sequence numbers from `first_seq` on.
fn mesh_frames_from(
    packet: &[u8],
    pan: PanId,
    src: Address,
    dst: Address,
    contexts: &ContextTable,
    air: &mut Air,
    first_seq: u8,
) -> Result<usize, Failure> {
    air.clear();
    let hdr = |seq: u8| {
        Repr::new(
            FrameType::Data,
            FrameVersion::Ieee2006,
            Some(seq),
            Some((pan, dst)),
            Some((pan, src)),
        )
        .map(|mut r| {
            r.ack_request = true;
            r
        })
        .map_err(|e| Failure(format!("MAC header: {e}")))
    };
    let budget = PSDU_MAX - FCS_LEN - hdr(0)?.buffer_len();
    let mut f = Fragmenter::new(
        packet,
        LinkAddr::from(src),
        LinkAddr::from(dst),
        contexts,
        // The Context Identifier Extension is carried (SCI 0) so that smoltcp's decompressor,
        // which refuses implicit context 0, can read the same frames in the baseline.
        CompressOptions {
            explicit_context_id: true,
            ..CompressOptions::default()
        },
        0x5a5a,
        budget,
    )
    .map_err(|e| Failure(format!("fragmenter: {e:?}")))?;
    for seq in first_seq.. {
        let buf = air.slot()?;
        let h = hdr(seq)?
            .emit_bytes(buf)
            .map_err(|e| Failure(format!("MAC header emit: {e}")))?;
        let Some(n) = f
            .next_frame(&mut buf[h..PSDU_MAX - FCS_LEN])
            .map_err(|e| Failure(format!("fragment: {e:?}")))?
        else {
            break;
        };
        fcs::append(&mut buf[..h + n + FCS_LEN]);
        air.commit(h + n + FCS_LEN);
    }
    Ok(air.len())
}

/// Reassemble the data frames on `air` addressed to `dst` (FCS and MAC header checked with
/// `l2-15_4`, 6LoWPAN with `sixlo`) into one IPv6 packet.
pub fn reassemble(air: &Air, dst: Address, contexts: &ContextTable) -> Result<Vec<u8>, Failure> {
    let mut r: Box<Reassembler> = Box::default();
    let mut out = vec![0u8; PACKET_LEN];
    let mut got = None;
    for psdu in air.frames() {
        ensure(fcs::verify(psdu), || "a frame with a bad FCS".into())?;
        let mpdu = &psdu[..psdu.len() - FCS_LEN];
        let repr = Repr::parse_bytes(mpdu).map_err(|e| Failure(format!("MAC header: {e}")))?;
        if repr.frame_type != FrameType::Data || repr.dst_addr != Some(dst) {
            continue;
        }
        let src = repr
            .src_addr
            .ok_or_else(|| Failure::new("no source address"))?;
        let payload = mpdu
            .get(repr.buffer_len()..)
            .ok_or_else(|| Failure::new("MAC header past the frame"))?;
        match r.receive(
            payload,
            &LinkAddr::from(src),
            &LinkAddr::from(dst),
            contexts,
            Instant::ZERO,
            &mut out,
        ) {
            Ok(Received::Complete(n)) => got = Some(n),
            Ok(Received::Pending) => {}
            Err(e) => return Err(Failure(format!("6LoWPAN: {e:?}"))),
        }
    }
    let n = got.ok_or_else(|| Failure::new("the frames complete no packet"))?;
    out.truncate(n);
    Ok(out)
}

// ----- drivers -------------------------------------------------------------------------------

/// The router's radio: no hardware help; records transmissions until the harness ends them.
type BenchRadio = ScriptedRadio<8>;

/// The backbone: one prepared frame to hand over on request, the host's answers to Neighbor
/// Solicitations, and a record of what the router sends.
#[derive(Debug)]
struct BenchEth {
    mac: [u8; 6],
    /// The prepared frame (host → node) and whether it waits to be received.
    down: Vec<u8>,
    down_pending: bool,
    /// Frames from the host other than the prepared one (Neighbor Advertisements).
    replies: VecDeque<Vec<u8>>,
    /// The last IPv6/UDP frame the router sent to the host, and how many it sent.
    captured: Vec<u8>,
    captured_count: u64,
    /// Neighbor Solicitations for the host answered.
    ns_answered: u64,
    /// Other frames the router sent (RAs, DAD probes, solicitations for other addresses).
    other: u64,
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
        if ip.next_header() == IpProtocol::Udp && f.dst_addr() == EthernetAddress(HOST_MAC) {
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

// ----- the harness ---------------------------------------------------------------------------

/// The border router with in-memory drivers and virtual time (see the module documentation).
pub struct Router<'r> {
    app: App<'r>,
    radio: BenchRadio,
    eth: BenchEth,
    now: Instant,
    /// The node's frames of the upward packet.
    up: Air,
    /// The router's data frames of the last downward packet.
    sent: Air,
    /// Unicast data frames one downward packet takes (learnt by [`Router::check`]).
    down_frames: usize,
    /// The packets as sent.
    down_packet: Vec<u8>,
    up_packet: Vec<u8>,
    /// The mesh node both packets go to and come from.
    node: [u8; 8],
}

impl core::fmt::Debug for Router<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Router")
            .field("now", &self.now)
            .field("down_frames", &self.down_frames)
            .finish_non_exhaustive()
    }
}

impl<'r> Router<'r> {
    /// Start the border router over `res`, let it settle (duplicate address detection, first
    /// advertisements: 5 s of virtual time) and prepare both packets.
    pub fn new(res: &'r mut AppResources) -> Result<Self, Failure> {
        Self::start(res, Self::config(), NODE_EUI64)
    }

    /// The configuration: default, with the static backbone address.
    fn config() -> Config {
        Config {
            backbone: Backbone::Static {
                addr: BR_BACKBONE.octets(),
                prefix_len: 64,
                gateway: None,
            },
            ..Config::default()
        }
    }

    /// [`Router::new`], then `n` mesh nodes (`node_eui64(1..=n)`) register their global
    /// addresses through the real path: each sends a Neighbor Solicitation with SLLAO and ARO
    /// ([`ns_aro`], lifetime 65535 minutes, the configured maximum raised to match so that no
    /// entry expires during a benchmark) to the router's link-local address in one 802.15.4
    /// frame, and the router answers with an NA. Both packets then go to and come from the
    /// **last** node registered, `node_eui64(n)`. Fails unless the registration table then
    /// holds exactly `n` registered entries (and nothing else) and the router reported `n`
    /// successful registrations.
    pub fn with_registrations(res: &'r mut AppResources, n: u16) -> Result<Self, Failure> {
        ensure(n >= 1, || "at least one node".into())?;
        let cfg = Config {
            max_registration_lifetime_min: u16::MAX,
            ..Self::config()
        };
        let mut r = Self::start(res, cfg, node_eui64(n))?;
        let cfg = r.app.config().clone();
        let br_ll = eui64_ip([0xfe, 0x80, 0, 0, 0, 0, 0, 0], cfg.eui64);
        let mut air = Air::new(MAX_FRAMES);
        for k in 1..=n {
            let eui = node_eui64(k);
            let ns = ns_aro(eui64_ip(cfg.mesh_prefix, eui), br_ll, eui, u16::MAX);
            // A sequence number the node's data frames (0..) never use first, so that the
            // duplicate filter keeps the upward packet's first frame.
            mesh_frames_from(
                &ns,
                PanId(cfg.pan_id),
                Address::Extended(eui),
                Address::Extended(cfg.eui64),
                r.app.wpan().contexts(),
                &mut air,
                200,
            )?;
            r.inject(&air)?;
            let t = r.now + Duration::from_millis(100);
            r.run_until(t)?;
        }
        let status = r.app.status();
        ensure(
            status.registered == usize::from(n) && status.gleaned == 0,
            || {
                format!(
                    "{} registered + {} gleaned entries after {n} registrations",
                    status.registered, status.gleaned
                )
            },
        )?;
        let ok = r.app.lbr().stats().reg_success;
        ensure(ok == u64::from(n), || {
            format!("{ok} successful registrations of {n}")
        })?;
        Ok(r)
    }

    /// Start the border router with `cfg`, the packets to and from the node `node`.
    fn start(res: &'r mut AppResources, cfg: Config, node_eui: [u8; 8]) -> Result<Self, Failure> {
        let mut radio = BenchRadio::default();
        let app = App::new(cfg, res, Instant::ZERO, &mut radio)
            .map_err(|e| Failure(format!("the border router did not start: {e:?}")))?;
        let cfg = app.config().clone();
        let node = eui64_ip(cfg.mesh_prefix, node_eui);
        let down_packet = udp_packet(HOST_IP, node, HOST_PORT, NODE_PORT, 1);
        let up_packet = udp_packet(node, HOST_IP, NODE_PORT, HOST_PORT, 7);
        let mut down = Vec::with_capacity(ETH_HEADER + PACKET_LEN);
        down.extend_from_slice(&cfg.eth_mac);
        down.extend_from_slice(&HOST_MAC);
        down.extend_from_slice(&[0x86, 0xdd]);
        down.extend_from_slice(&down_packet);
        let mut up = Air::new(MAX_FRAMES);
        mesh_frames(
            &up_packet,
            PanId(cfg.pan_id),
            Address::Extended(node_eui),
            Address::Extended(cfg.eui64),
            app.wpan().contexts(),
            &mut up,
        )?;
        let eth = BenchEth {
            mac: cfg.eth_mac,
            down,
            down_pending: false,
            replies: VecDeque::new(),
            captured: Vec::with_capacity(ETH_HEADER + PACKET_LEN),
            captured_count: 0,
            ns_answered: 0,
            other: 0,
        };
        let mut r = Router {
            app,
            radio,
            eth,
            now: Instant::ZERO,
            up,
            sent: Air::new(MAX_FRAMES),
            down_frames: usize::MAX,
            down_packet,
            up_packet,
            node: node_eui,
        };
        r.run_until(Instant::ZERO + Duration::from_secs(5))?;
        Ok(r)
    }

    /// The application (for its counters).
    pub fn app(&self) -> &App<'r> {
        &self.app
    }

    /// Virtual time now.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The Ethernet frame the host sends (host → node).
    pub fn down_frame(&self) -> &[u8] {
        &self.eth.down
    }

    /// The node's PSDUs (node → host).
    pub fn up_frames(&self) -> &Air {
        &self.up
    }

    /// The 1280-byte packets as sent: (host → node, node → host).
    pub fn packets(&self) -> (&[u8], &[u8]) {
        (&self.down_packet, &self.up_packet)
    }

    /// The EUI-64 of the mesh node the packets go to and come from.
    pub fn node(&self) -> [u8; 8] {
        self.node
    }

    /// The number of live entries in the registration table (registered + gleaned).
    pub fn table_len(&self) -> usize {
        let s = self.app.status();
        s.registered + s.gleaned
    }

    /// Neighbor Solicitations for the host answered so far.
    pub fn ns_answered(&self) -> u64 {
        self.eth.ns_answered
    }

    fn poll(&mut self) {
        self.app.poll(self.now, &mut self.radio, &mut self.eth);
    }

    /// End every transmission the radio started; a data frame that asks for it is
    /// acknowledged. Returns the unicast data frames sent (recorded in `sent`).
    fn complete_tx(&mut self) -> Result<usize, Failure> {
        let mut unicast = 0;
        for _ in 0..SPIN_LIMIT {
            let Some(rec) = self.radio.pop_sent() else {
                return Ok(unicast);
            };
            let (start, len) = (rec.at, rec.psdu.len());
            let buf = rec.psdu;
            let end = start + consts::airtime(len);
            self.now = self.now.max(end);
            let ev = RadioEvent::TxDone {
                end,
                outcome: TxOutcome::Sent,
            };
            self.app.on_radio_event(self.now, ev, &mut self.radio);
            // Frame control: type in bits 0-2 (1 = data), ACK request bit 5.
            let fc = u16::from_le_bytes([buf[0], buf[1]]);
            if fc & 0x7 != 1 {
                continue;
            }
            if fc & (1 << 5) != 0 {
                unicast += 1;
                if let Ok(slot) = self.sent.slot() {
                    slot[..len].copy_from_slice(&buf[..len]);
                    self.sent.commit(len);
                }
                // Imm-Ack: frame control 0x0002, the sequence number, FCS.
                let mut ack = [0x02, 0x00, buf[2], 0, 0];
                fcs::append(&mut ack);
                self.now =
                    end + consts::symbols(consts::TURNAROUND_SYMBOLS) + consts::airtime(ack.len());
                self.receive(&ack)?;
            }
        }
        Err(Failure::new("the border router never stops transmitting"))
    }

    /// Hand a PSDU to the router as received now.
    fn receive(&mut self, psdu: &[u8]) -> Result<(), Failure> {
        let channel =
            Channel::new(self.app.config().channel).ok_or_else(|| Failure::new("bad channel"))?;
        let rx = RxFrame {
            psdu,
            rssi: -60,
            lqi: 200,
            timestamp: self.now,
            channel,
            fcs_ok: None,
        };
        self.app
            .on_radio_event(self.now, RadioEvent::Received(rx), &mut self.radio);
        Ok(())
    }

    /// Hand the router the node frames on `air` one after the other (each ending one airtime
    /// later, then 1 ms for the ACK and whatever timers fall due).
    fn inject(&mut self, air: &Air) -> Result<(), Failure> {
        for psdu in air.frames() {
            self.now += consts::airtime(psdu.len());
            self.receive(psdu)?;
            self.poll();
            let t = self.now + Duration::from_millis(1);
            self.run_until(t)?;
        }
        Ok(())
    }

    /// Run every timer of the router up to `t`.
    pub fn run_until(&mut self, t: Instant) -> Result<(), Failure> {
        for _ in 0..SPIN_LIMIT {
            self.complete_tx()?;
            match self.app.next_deadline() {
                Some(d) if d <= t => {
                    self.now = self.now.max(d);
                    self.poll();
                }
                _ => {
                    self.now = self.now.max(t);
                    self.poll();
                    self.complete_tx()?;
                    return Ok(());
                }
            }
        }
        Err(Failure(format!("the router's deadlines never pass {t:?}")))
    }

    /// Forward the host's packet to the node: returns the unicast frames the router sent.
    pub fn forward_down(&mut self) -> Result<usize, Failure> {
        self.sent.clear();
        self.eth.down_pending = true;
        self.poll();
        let mut frames = 0;
        for _ in 0..SPIN_LIMIT {
            frames += self.complete_tx()?;
            // Done when the known frame count went out; the first time (count unknown), when
            // the router has nothing left for the mesh.
            let done = if self.down_frames == usize::MAX {
                let app = &self.app;
                frames > 0
                    && app.wpan().mac().queue_len() == 0
                    && app.wpan().backlog() == 0
                    && app
                        .stack()
                        .queue_lens(app.wpan_index())
                        .iter()
                        .all(|n| *n == 0)
            } else {
                frames >= self.down_frames
            };
            if done && !self.eth.down_pending {
                return Ok(frames);
            }
            let d = self
                .app
                .next_deadline()
                .ok_or_else(|| Failure(format!("stalled after {frames} frames")))?;
            self.now = self.now.max(d);
            self.poll();
        }
        Err(Failure(format!("no end after {frames} frames")))
    }

    /// Forward the node's packet to the host: returns the length of the Ethernet frame the
    /// router sent.
    pub fn forward_up(&mut self) -> Result<usize, Failure> {
        let before = self.eth.captured_count;
        for k in 0..self.up.len() {
            let len = self.up.frame(k).map_or(0, <[u8]>::len);
            // The node's frame ends one airtime (and a short gap) after the previous step.
            self.now = self.now + consts::airtime(len) + Duration::from_micros(640);
            let channel = Channel::new(self.app.config().channel)
                .ok_or_else(|| Failure::new("bad channel"))?;
            let Some(psdu) = self.up.frame(k) else {
                break;
            };
            let rx = RxFrame {
                psdu,
                rssi: -60,
                lqi: 200,
                timestamp: self.now,
                channel,
                fcs_ok: None,
            };
            self.app
                .on_radio_event(self.now, RadioEvent::Received(rx), &mut self.radio);
            // The ACK (due 12 symbols later) and whatever else falls due before the next
            // frame.
            let next = self.now + Duration::from_millis(1);
            for _ in 0..SPIN_LIMIT {
                self.complete_tx()?;
                match self.app.next_deadline() {
                    Some(d) if d <= next => {
                        self.now = self.now.max(d);
                        self.poll();
                    }
                    _ => break,
                }
            }
        }
        self.poll();
        for _ in 0..SPIN_LIMIT {
            self.complete_tx()?;
            if self.eth.captured_count > before {
                return Ok(self.eth.captured.len());
            }
            let d = self
                .app
                .next_deadline()
                .ok_or_else(|| Failure::new("the packet never reached the backbone"))?;
            self.now = self.now.max(d);
            self.poll();
        }
        Err(Failure::new("the packet never reached the backbone"))
    }

    /// Forward once each way and check the bytes: the router's frames to the node reassemble
    /// to the host's packet (hop limit one less), and the Ethernet frame to the host carries
    /// the node's packet (hop limit one less) from the router's MAC to the host's. Also
    /// learns how many frames a downward packet takes. Returns (frames down, Ethernet bytes
    /// up).
    pub fn check(&mut self) -> Result<(usize, usize), Failure> {
        let cfg = self.app.config().clone();
        let node = Address::Extended(self.node);
        let mut down_frames = 0;
        for round in 0..3 {
            let n = self.forward_down()?;
            let got = reassemble(&self.sent, node, self.app.wpan().contexts())?;
            ensure(got == forwarded(&self.down_packet), || {
                format!("round {round}: the frames to the node do not carry the host's packet")
            })?;
            for f in self.sent.frames() {
                let r = Repr::parse_bytes(&f[..f.len() - FCS_LEN])
                    .map_err(|e| Failure(format!("MAC header: {e}")))?;
                ensure(r.src_addr == Some(Address::Extended(cfg.eui64)), || {
                    "frame not from the router".into()
                })?;
            }
            if round > 0 {
                ensure(n == down_frames, || {
                    format!("{n} frames, {down_frames} before")
                })?;
            }
            down_frames = n;
            self.down_frames = n;

            let len = self.forward_up()?;
            let f = &self.eth.captured;
            ensure(len == ETH_HEADER + PACKET_LEN, || {
                format!("Ethernet frame of {len} bytes")
            })?;
            ensure(f[..6] == HOST_MAC && f[6..12] == cfg.eth_mac, || {
                "Ethernet addresses".into()
            })?;
            ensure(f[12..14] == [0x86, 0xdd], || "EtherType".into())?;
            ensure(f[ETH_HEADER..] == forwarded(&self.up_packet)[..], || {
                format!("round {round}: the frame to the host does not carry the node's packet")
            })?;
        }
        ensure(self.app.pool_accounted(), || {
            "a packet buffer leaked".into()
        })?;
        Ok((down_frames, ETH_HEADER + PACKET_LEN))
    }

    /// The Ethernet frame the router last sent to the host.
    pub fn captured(&self) -> &[u8] {
        &self.eth.captured
    }

    /// The router's frames of the last downward packet.
    pub fn sent(&self) -> &Air {
        &self.sent
    }
}

// ----- baseline: smoltcp's wire codecs ------------------------------------------------------

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
