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
//! node 2001:db8:1::212:4b00:0:1 (EUI-64 00:12:4b:00:00:00:00:01, registered by NS+ARO). Per
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
//!
//! Files, by job: `packets.rs` (the packets and frames both sides send, and their
//! reassembly), `drivers.rs` (the in-memory radio and Ethernet drivers), `baseline.rs` (the
//! smoltcp baseline); this file holds the scenario's constants and the [`Router`] harness.

use std::collections::VecDeque;

use core::net::Ipv6Addr;

use firmware::app::{App, AppResources};
use firmware::config::{Backbone, Config};
use l2_15_4::consts;
use l2_15_4::frame::{Address, PanId, Repr, fcs};
use l2_15_4::radio::{Channel, RadioEvent, TxOutcome, testing};
use netif::{Duration, Instant};

use crate::{Air, Failure, ensure};

mod baseline;
mod drivers;
mod packets;

pub use baseline::WireBaseline;
pub use packets::{
    eui64_ip, forwarded, mesh_frames, node_eui64, node_ip, ns_aro, reassemble, udp_packet,
};

use drivers::{BenchEth, BenchRadio};
use packets::mesh_frames_from;

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
    /// advertisements: 5 s of virtual time), register the node ([`Router::with_registrations`]
    /// with one node, [`NODE_EUI64`]) and prepare both packets. The node registers because the
    /// product configuration sends nothing to a global address of the mesh that is neither
    /// registered nor gleaned (no blind EUI-64 derivation, issue 19).
    pub fn new(res: &'r mut AppResources) -> Result<Self, Failure> {
        Self::with_registrations(res, 1)
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

    /// The border router started with the default configuration (static backbone) changed by
    /// `change`, with nothing registered: the node is neither registered nor gleaned, so
    /// whether the downward packet reaches it depends on `Config::blind_global_derivation`.
    pub fn with_config(
        res: &'r mut AppResources,
        change: impl FnOnce(&mut Config),
    ) -> Result<Self, Failure> {
        let mut cfg = Self::config();
        change(&mut cfg);
        Self::start(res, cfg, NODE_EUI64)
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
        let rx = testing::received(psdu, self.now, channel);
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
            let rx = testing::received(psdu, self.now, channel);
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
