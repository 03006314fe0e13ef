//! Leaf nodes whose IPv6/6LoWPAN stack is smoltcp (`Medium::Ieee802154`) — an implementation
//! we did not write — running over *our* soft-MAC, so they do CSMA/CA, ACK and retry like real
//! nodes.
//!
//! The adapter: smoltcp's `phy::Device` hands out complete 802.15.4 MAC frames without FCS.
//! Each is parsed with `l2_15_4`'s codec and its payload re-sent through [`MacPort`] (which
//! requests an ACK for unicast; smoltcp never sets that bit). Frames our MAC delivers go back
//! to smoltcp as MPDUs without FCS. A TX token is only handed out when the backlog has room.
//!
//! Each node has the EUI-64 of its index ([`eui64`]), a link-local address from it and
//! either a global address from the configured mesh prefix or SLAAC from router
//! advertisements (smoltcp's `proto-ipv6-slaac`). It answers ping (smoltcp's built-in echo
//! reply) and runs a small application: periodic UDP sensor readings to a collector, a UDP
//! echo service, and a UDP sink that logs what arrives. Datagrams that come back to the
//! sensor's source port (the collector's replies) are counted and logged
//! ([`SmolNode::reply_log`]).
//!
//! Link-layer security ([`SmolNodeConfig::network_key`]): the node's [`MacPort`] secures
//! every frame and passes smoltcp only frames that passed security, as plaintext unsecured
//! MPDUs; smoltcp's frames, sized for an unsecured header, are re-cut to the room a secured
//! frame leaves ([`refrag`]). The frame counter's flash survives [`SimNode::reboot`].
//!
//! smoltcp 0.14 has no neighbour unreachability detection and solicits routers only at start:
//! with SLAAC addressing the adapter watches the default router and solicits others when it
//! stops answering ([`nud`]).
//!
//! Files: `config.rs` (what a node is made of: [`SmolNodeConfig`]), `nud.rs`, `refrag.rs`.
//!
//! smoltcp quirks met here: its 6LoWPAN fragmenter always fits fragments into a 125-byte
//! MPDU, ignoring `max_transmission_unit`; it holds one fragmented datagram at a time and a
//! second one overwrites the first mid-way unless the device withholds TX tokens (worked
//! around in `SmolNode::smoltcp_poll`); it sends every unicast frame without the
//! ACK-request bit (our MAC sets it).

use std::any::Any;
use std::collections::VecDeque;
use std::net::Ipv6Addr;

use l2_15_4::frame::Frame;
use l2_15_4::mac::{ConfigError, SrcAddrMode, TxStatus};
use l2_15_4::radio::Channel;
use l2_15_4::{Address, MacConfig, PanId, Repr};
use netif::time::{Duration, Instant};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::socket::{icmp, udp};
use smoltcp::wire::{
    HardwareAddress, Icmpv6Packet, Icmpv6Repr, Ieee802154Address, Ieee802154Pan, IpAddress, IpCidr,
    IpEndpoint,
};

use crate::mac_node::{MacPort, NetworkKey, SecurityFlash, eui64};
use crate::medium::{RadioId, SimEvent, SimRadio};
use crate::node::SimNode;
use crate::rng::SimRng;

mod config;
pub mod nud;
pub mod refrag;
pub use config::{Addressing, SensorConfig, SmolNodeConfig};
use nud::RouterWatch;
use refrag::Recutter;

/// One datagram the sink received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkRecord {
    /// Sender.
    pub from: IpEndpoint,
    /// Length.
    pub len: usize,
    /// First up to 12 bytes (sensor readings: index, sequence, timestamp).
    pub head: Vec<u8>,
    /// When it was read from the socket.
    pub at: Instant,
}

/// Counters of a smoltcp node above the MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SmolCounters {
    /// Frames smoltcp emitted.
    pub frames_out: u64,
    /// Frames smoltcp emitted that our codec could not parse (counted, dropped).
    pub frames_out_invalid: u64,
    /// Frames handed to smoltcp.
    pub frames_in: u64,
    /// Frames dropped because smoltcp's receive queue was full.
    pub frames_in_dropped: u64,
    /// Sensor readings queued.
    pub readings_sent: u64,
    /// Sensor readings that did not fit the socket buffer.
    pub readings_dropped: u64,
    /// Datagrams echoed.
    pub echoed: u64,
    /// Datagrams received by the sink.
    pub sink_received: u64,
    /// Sink payload bytes received.
    pub sink_bytes: u64,
    /// Sink log entries dropped to make room.
    pub sink_log_dropped: u64,
    /// Echo replies received for [`SmolNode::ping`].
    pub ping_replies: u64,
    /// Datagrams received on the sensor socket ([`SensorConfig::local_port`]), e.g. a
    /// collector's replies to readings.
    pub replies_received: u64,
    /// Default routers found unreachable and withdrawn ([`nud`]).
    pub routers_unreachable: u64,
    /// Router solicitations the adapter sent ([`nud`]; smoltcp's own at start not counted).
    pub router_solicitations: u64,
    /// smoltcp frames re-cut to fit a secured frame ([`refrag`]; a fragmented datagram's
    /// fragments each count).
    pub frames_out_recut: u64,
    /// smoltcp frames dropped because they could not be re-cut (headers that do not
    /// decompress, fragments out of order, datagrams abandoned unfinished).
    pub frames_out_unfit: u64,
}

/// smoltcp's view of the radio: two frame queues.
#[derive(Debug, Default)]
struct Device {
    rx: VecDeque<Vec<u8>>,
    tx: VecDeque<Vec<u8>>,
    tx_cap: usize,
    /// TX tokens [`phy::Device::transmit`] may still hand out in this egress pass.
    budget: usize,
}

/// A received frame handed to smoltcp (by the mesh nodes here and the backbone host).
pub(crate) struct RxTok(pub(crate) Vec<u8>);
struct TxTok<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for RxTok {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(&self.0)
    }
}

impl phy::TxToken for TxTok<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        self.0.push_back(buf);
        r
    }
}

impl phy::Device for Device {
    type RxToken<'a> = RxTok;
    type TxToken<'a> = TxTok<'a>;

    fn receive(
        &mut self,
        _t: smoltcp::time::Instant,
    ) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let f = self.rx.pop_front()?;
        // A reply token even when full: the MAC backlog bounds it and counts overflow.
        Some((RxTok(f), TxTok(&mut self.tx)))
    }

    fn transmit(&mut self, _t: smoltcp::time::Instant) -> Option<Self::TxToken<'_>> {
        if self.tx.len() >= self.tx_cap || self.budget == 0 {
            return None;
        }
        self.budget -= 1;
        Some(TxTok(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ieee802154;
        c.max_transmission_unit = 125;
        c
    }
}

fn smol_now(t: Instant) -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_micros(t.as_micros() as i64)
}

const RX_QUEUE_CAP: usize = 64;

fn ping_ident(index: u16) -> u16 {
    0x8000 ^ index
}

/// A simulated leaf node: smoltcp over our soft-MAC.
pub struct SmolNode {
    radio: RadioId,
    cfg: SmolNodeConfig,
    port: MacPort,
    dev: Device,
    iface: Interface,
    sockets: SocketSet<'static>,
    app: SocketHandle,
    echo: Option<SocketHandle>,
    sink: Option<SocketHandle>,
    sensor: Option<SocketHandle>,
    icmp: SocketHandle,
    next_reading: Option<Instant>,
    reading_seq: u32,
    rng: SimRng,
    sink_log: VecDeque<SinkRecord>,
    reply_log: VecDeque<SinkRecord>,
    pings: Vec<(u16, Instant, Option<Instant>)>,
    counters: SmolCounters,
    wake: Option<Instant>,
    now: Instant,
    reboots: u32,
    /// The default router's reachability (SLAAC addressing only).
    watch: Option<RouterWatch>,
    /// With security on: smoltcp's frames re-cut to fit ([`refrag`]) ...
    recut: Recutter,
    /// ... waiting for room in the MAC port.
    recut_out: VecDeque<Recut>,
    /// Context 0 (for measuring compressed headers when re-cutting).
    contexts: sixlo::ContextTable,
}

/// A re-cut frame payload and its addressing.
#[derive(Debug)]
struct Recut {
    dst: Address,
    dst_pan: Option<PanId>,
    src: SrcAddrMode,
    payload: Vec<u8>,
}

impl std::fmt::Debug for SmolNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmolNode")
            .field("radio", &self.radio)
            .field("index", &self.cfg.index)
            .field("counters", &self.counters)
            .finish()
    }
}

fn udp_socket(cfg: &SmolNodeConfig, port: u16) -> udp::Socket<'static> {
    let buf = || {
        udp::PacketBuffer::new(
            vec![udp::PacketMetadata::EMPTY; cfg.udp_packets],
            vec![0u8; cfg.udp_buffer],
        )
    };
    let mut s = udp::Socket::new(buf(), buf());
    // Port 0 is refused by smoltcp; the config type keeps ports non-zero in practice.
    let _ = s.bind(port);
    s
}

impl SmolNode {
    /// Builds the node over `radio` (programming it through our MAC), with a blank flash.
    pub fn new(
        radio: RadioId,
        cfg: SmolNodeConfig,
        r: &mut SimRadio<'_>,
    ) -> Result<Self, ConfigError> {
        Self::boot(radio, cfg, r, SecurityFlash::default())
    }

    /// Builds the node, its link security resuming from `flash`.
    fn boot(
        radio: RadioId,
        cfg: SmolNodeConfig,
        r: &mut SimRadio<'_>,
        flash: SecurityFlash,
    ) -> Result<Self, ConfigError> {
        let now = r.medium().now();
        let mut mac = MacConfig::new(cfg.channel, cfg.pan_id, eui64(cfg.index));
        let mut rng = SimRng::derive(cfg.seed, u64::from(cfg.index));
        mac.seed = rng.next_u32() | 1;
        mac.max_frame_retries = cfg.mac_frame_retries;
        let mut port = MacPort::new(mac, cfg.mac_backlog, r)?;
        if let Some(k) = cfg.network_key {
            port.enable_security(k, flash);
        }
        let mut contexts = sixlo::ContextTable::new();
        if let Some(c) = cfg.context0 {
            let mut prefix = [0u8; 16];
            prefix[..8].copy_from_slice(&c);
            contexts.set(0, sixlo::Context::new(prefix, 64));
        }
        let watch = (cfg.addressing == Addressing::Slaac).then(RouterWatch::default);
        port.keep_reports(watch.is_some());
        let mut dev = Device {
            tx_cap: 4,
            ..Device::default()
        };
        let mut icfg = Config::new(HardwareAddress::Ieee802154(Ieee802154Address::Extended(
            eui64(cfg.index),
        )));
        icfg.pan_id = Some(Ieee802154Pan(cfg.pan_id.0));
        icfg.slaac = cfg.addressing == Addressing::Slaac;
        let mut iface = Interface::new(icfg, &mut dev, smol_now(now));
        if let Some(c) = cfg.context0 {
            let _ = iface
                .sixlowpan_address_context_mut()
                .push(smoltcp::wire::SixlowpanAddressContext(c));
        }
        let ll = cfg.link_local();
        let global = cfg.global();
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(IpAddress::Ipv6(ll), 64));
            if let Some(g) = global {
                let _ = a.push(IpCidr::new(IpAddress::Ipv6(g), 64));
            }
        });
        let mut sockets = SocketSet::new(Vec::new());
        let app = sockets.add(udp_socket(&cfg, cfg.app_port));
        let echo = cfg.echo_port.map(|p| sockets.add(udp_socket(&cfg, p)));
        let sink = cfg.sink_port.map(|p| sockets.add(udp_socket(&cfg, p)));
        let sensor = cfg
            .sensor
            .map(|s| sockets.add(udp_socket(&cfg, s.local_port)));
        let mut ic = icmp::Socket::new(
            icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0; 1024]),
            icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0; 1024]),
        );
        // A per-node identifier: smoltcp does not auto-answer echo requests that a local ICMP
        // socket bound to their identifier accepts.
        let _ = ic.bind(icmp::Endpoint::Ident(ping_ident(cfg.index)));
        let icmp = sockets.add(ic);
        let next_reading = cfg.sensor.map(|s| {
            now + s.period + Duration::from_micros(rng.below(s.jitter.as_micros().max(1)))
        });
        Ok(SmolNode {
            radio,
            cfg,
            port,
            dev,
            iface,
            sockets,
            app,
            echo,
            sink,
            sensor,
            icmp,
            next_reading,
            reading_seq: 0,
            rng,
            sink_log: VecDeque::new(),
            reply_log: VecDeque::new(),
            pings: Vec::new(),
            counters: SmolCounters::default(),
            wake: Some(now),
            now,
            reboots: 0,
            watch,
            recut: Recutter::new(cfg.index.wrapping_mul(0x9e37)),
            recut_out: VecDeque::new(),
            contexts,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SmolNodeConfig {
        &self.cfg
    }

    /// Counters above the MAC.
    pub fn counters(&self) -> &SmolCounters {
        &self.counters
    }

    /// The MAC port (MAC counters, TX reports, neighbours).
    pub fn port(&self) -> &MacPort {
        &self.port
    }

    /// The MAC port, mutably.
    pub fn port_mut(&mut self) -> &mut MacPort {
        &mut self.port
    }

    /// The addresses smoltcp has now.
    pub fn addresses(&self) -> Vec<Ipv6Addr> {
        self.iface
            .ip_addrs()
            .iter()
            .map(|c| match c.address() {
                IpAddress::Ipv6(a) => a,
            })
            .collect()
    }

    /// smoltcp's routes now: (destination, next hop), in its table's order (the default
    /// routes it learnt from RAs; it uses the last of equally long ones).
    pub fn routes(&mut self) -> Vec<(String, Ipv6Addr)> {
        let mut out = Vec::new();
        self.iface.routes_mut().update(|r| {
            out = r
                .iter()
                .map(|r| match r.via_router {
                    IpAddress::Ipv6(a) => (r.cidr.to_string(), a),
                })
                .collect();
        });
        out
    }

    /// The sink's log.
    pub fn sink_log(&self) -> impl Iterator<Item = &SinkRecord> {
        self.sink_log.iter()
    }

    /// Datagrams received on the sensor socket (replies to readings), oldest first; as long
    /// as the sink log ([`SmolNodeConfig::sink_log`] entries, older ones dropped and counted
    /// in [`SmolCounters::sink_log_dropped`]).
    pub fn reply_log(&self) -> impl Iterator<Item = &SinkRecord> {
        self.reply_log.iter()
    }

    /// Pings sent: (sequence, sent at, reply at).
    pub fn pings(&self) -> &[(u16, Instant, Option<Instant>)] {
        &self.pings
    }

    /// Reboots so far.
    pub fn reboots(&self) -> u32 {
        self.reboots
    }

    /// Queues a UDP datagram from the application socket; `false` when its buffer is full.
    pub fn send_udp(&mut self, dst: Ipv6Addr, port: u16, data: &[u8]) -> bool {
        let ok = self
            .sockets
            .get_mut::<udp::Socket<'_>>(self.app)
            .send_slice(data, IpEndpoint::new(IpAddress::Ipv6(dst), port))
            .is_ok();
        self.wake = Some(self.now);
        ok
    }

    /// Free space in the application socket's send buffer, bytes.
    pub fn udp_send_room(&self) -> usize {
        let s = self.sockets.get::<udp::Socket<'_>>(self.app);
        s.payload_send_capacity().saturating_sub(s.send_queue())
    }

    /// Datagrams waiting in the application socket.
    pub fn udp_app_received(&mut self) -> Vec<(IpEndpoint, Vec<u8>)> {
        let s = self.sockets.get_mut::<udp::Socket<'_>>(self.app);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 2048];
        while let Ok((n, meta)) = s.recv_slice(&mut buf) {
            out.push((meta.endpoint, buf.get(..n).unwrap_or(&[]).to_vec()));
        }
        out
    }

    /// Sends (at `now`) an ICMPv6 echo request with sequence `seq` and `len` bytes of data to
    /// `dst`.
    pub fn ping(&mut self, now: Instant, dst: Ipv6Addr, seq: u16, len: usize) -> bool {
        self.now = self.now.max(now);
        let src = match self.cfg.global() {
            Some(g) if !dst.is_unicast_link_local() => g,
            _ => self.cfg.link_local(),
        };
        let data = vec![0xa5u8; len];
        let repr = Icmpv6Repr::EchoRequest {
            ident: ping_ident(self.cfg.index),
            seq_no: seq,
            data: &data,
        };
        let s = self.sockets.get_mut::<icmp::Socket<'_>>(self.icmp);
        let Ok(buf) = s.send(repr.buffer_len(), IpAddress::Ipv6(dst)) else {
            return false;
        };
        let mut pkt = Icmpv6Packet::new_unchecked(buf);
        repr.emit(
            &src,
            &dst,
            &mut pkt,
            &smoltcp::phy::ChecksumCapabilities::default(),
        );
        self.pings.push((seq, self.now, None));
        self.wake = Some(self.now);
        true
    }

    fn app(&mut self, now: Instant) {
        let mut buf = vec![0u8; 2048];
        if let Some(h) = self.echo {
            let s = self.sockets.get_mut::<udp::Socket<'_>>(h);
            while s.can_send() {
                let Ok((n, meta)) = s.recv_slice(&mut buf) else {
                    break;
                };
                if s.send_slice(buf.get(..n).unwrap_or(&[]), meta.endpoint)
                    .is_ok()
                {
                    self.counters.echoed += 1;
                }
            }
        }
        if let Some(h) = self.sink {
            let s = self.sockets.get_mut::<udp::Socket<'_>>(h);
            while let Ok((n, meta)) = s.recv_slice(&mut buf) {
                self.counters.sink_received += 1;
                self.counters.sink_bytes += n as u64;
                if self.sink_log.len() >= self.cfg.sink_log {
                    self.sink_log.pop_front();
                    self.counters.sink_log_dropped += 1;
                }
                if self.cfg.sink_log > 0 {
                    self.sink_log.push_back(SinkRecord {
                        from: meta.endpoint,
                        len: n,
                        head: buf.get(..n.min(12)).unwrap_or(&[]).to_vec(),
                        at: now,
                    });
                }
            }
        }
        {
            let s = self.sockets.get_mut::<icmp::Socket<'_>>(self.icmp);
            while let Ok((n, _from)) = s.recv_slice(&mut buf) {
                let Ok(pkt) = Icmpv6Packet::new_checked(buf.get(..n).unwrap_or(&[])) else {
                    continue;
                };
                if pkt.msg_type() == smoltcp::wire::Icmpv6Message::EchoReply {
                    let seq = pkt.echo_seq_no();
                    if let Some(p) = self.pings.iter_mut().find(|p| p.0 == seq && p.2.is_none()) {
                        p.2 = Some(now);
                        self.counters.ping_replies += 1;
                    }
                }
            }
        }
        if let Some(h) = self.sensor {
            let s = self.sockets.get_mut::<udp::Socket<'_>>(h);
            while let Ok((n, meta)) = s.recv_slice(&mut buf) {
                self.counters.replies_received += 1;
                if self.reply_log.len() >= self.cfg.sink_log {
                    self.reply_log.pop_front();
                    self.counters.sink_log_dropped += 1;
                }
                if self.cfg.sink_log > 0 {
                    self.reply_log.push_back(SinkRecord {
                        from: meta.endpoint,
                        len: n,
                        head: buf.get(..n.min(12)).unwrap_or(&[]).to_vec(),
                        at: now,
                    });
                }
            }
        }
        if let (Some(sc), Some(h), Some(due)) = (self.cfg.sensor, self.sensor, self.next_reading)
            && now >= due
        {
            let mut payload = vec![0u8; sc.payload_len.max(12)];
            payload[..2].copy_from_slice(&self.cfg.index.to_be_bytes());
            payload[2..6].copy_from_slice(&self.reading_seq.to_be_bytes());
            payload[6..12].copy_from_slice(&now.as_micros().to_be_bytes()[2..]);
            self.reading_seq = self.reading_seq.wrapping_add(1);
            let ep = IpEndpoint::new(IpAddress::Ipv6(sc.collector), sc.collector_port);
            let s = self.sockets.get_mut::<udp::Socket<'_>>(h);
            if s.send_slice(&payload, ep).is_ok() {
                self.counters.readings_sent += 1;
            } else {
                self.counters.readings_dropped += 1;
            }
            let j = self.rng.below(sc.jitter.as_micros().max(1));
            self.next_reading = Some(due + sc.period + Duration::from_micros(j));
        }
    }

    /// smoltcp frames → our MAC (re-cut first when security is on).
    fn frames_to_mac(&mut self) {
        loop {
            while self.port.has_room() {
                let Some(o) = self.recut_out.pop_front() else {
                    break;
                };
                self.port.send(o.dst, o.dst_pan, o.src, &o.payload);
            }
            if !self.port.has_room() || !self.recut_out.is_empty() {
                break;
            }
            let Some(f) = self.dev.tx.pop_front() else {
                break;
            };
            self.counters.frames_out += 1;
            let Ok(repr) = Repr::parse_bytes(&f) else {
                self.counters.frames_out_invalid += 1;
                continue;
            };
            let hdr = Frame::new_unchecked(&f[..]).header_len();
            let (Some(dst), Some(hdr)) = (repr.dst_addr, hdr) else {
                self.counters.frames_out_invalid += 1;
                continue;
            };
            let src = match repr.src_addr {
                Some(Address::Short(_)) => SrcAddrMode::Short,
                _ => SrcAddrMode::Extended,
            };
            let payload = f.get(hdr..).unwrap_or(&[]);
            if let Some(w) = &mut self.watch {
                w.frame_out(dst);
            }
            if self.port.security().is_none() {
                self.port.send(dst, repr.dst_pan_id, src, payload);
                continue;
            }
            self.recut(&repr, dst, src, payload);
        }
    }

    /// One smoltcp frame through the [`Recutter`] into `recut_out`.
    fn recut(&mut self, repr: &Repr<'_>, dst: Address, src: SrcAddrMode, payload: &[u8]) {
        let budget = self.port.max_payload(dst, repr.dst_pan_id).unwrap_or(0);
        let ll_src = repr
            .src_addr
            .map_or(sixlo::LinkAddr::Absent, sixlo::LinkAddr::from);
        let abandoned = self.recut.abandoned();
        let out = self.recut.push(
            payload,
            budget,
            &ll_src,
            &sixlo::LinkAddr::from(dst),
            &self.contexts,
        );
        self.counters.frames_out_unfit += self.recut.abandoned() - abandoned;
        match out {
            Ok(frames) => {
                if frames.len() != 1 || frames.first().is_some_and(|f| f != payload) {
                    self.counters.frames_out_recut += 1;
                }
                self.recut_out
                    .extend(frames.into_iter().map(|payload| Recut {
                        dst,
                        dst_pan: repr.dst_pan_id,
                        src,
                        payload,
                    }));
            }
            Err(_) => self.counters.frames_out_unfit += 1,
        }
    }

    /// `Interface::poll`, split up to work around a smoltcp 0.14 bug: `poll_egress` first
    /// sends the next fragment of the datagram in its fragmenter, then lets sockets dispatch a
    /// new packet — and a new packet that needs fragmentation overwrites the fragmenter
    /// mid-datagram, so back-to-back large datagrams are all lost. Handing out one TX token
    /// per `poll_egress` pass means a socket only gets one when the fragmenter is idle.
    fn smoltcp_poll(&mut self, t: smoltcp::time::Instant) {
        use smoltcp::iface::PollIngressSingleResult;
        self.iface.poll_maintenance(t);
        for _ in 0..RX_QUEUE_CAP {
            let r = self
                .iface
                .poll_ingress_single(t, &mut self.dev, &mut self.sockets);
            if matches!(r, PollIngressSingleResult::None) {
                break;
            }
        }
        for _ in 0..32 {
            self.dev.budget = 1;
            let before = self.dev.tx.len();
            self.iface.poll_egress(t, &mut self.dev, &mut self.sockets);
            if self.dev.tx.len() == before {
                break;
            }
        }
        self.dev.budget = 0;
    }

    /// The default router smoltcp routes through: the last of its default routes.
    fn default_router(&mut self) -> Option<Ipv6Addr> {
        let mut out = None;
        self.iface.routes_mut().update(|r| {
            out = r
                .iter()
                .rev()
                .find(|r| r.cidr.prefix_len() == 0)
                .map(|r| match r.via_router {
                    IpAddress::Ipv6(a) => a,
                });
        });
        out
    }

    /// [`nud`]: feeds the watch what the MAC reported, withdraws an unreachable router from
    /// smoltcp and queues the router solicitations that are due.
    fn watch_router(&mut self, now: Instant) {
        if self.watch.is_none() {
            return;
        }
        let router = self.default_router();
        let reports = self.port.take_reports();
        let Some(w) = &mut self.watch else {
            return;
        };
        for r in reports {
            match r.status {
                TxStatus::Success { .. } => w.tx_outcome(now, r.dst, true),
                TxStatus::NoAck => w.tx_outcome(now, r.dst, false),
                _ => {}
            }
        }
        w.track(now, router);
        let (pan, eui, ll) = (
            self.cfg.pan_id,
            eui64(self.cfg.index),
            self.cfg.link_local(),
        );
        if let Some(dead) = w.unreachable(now) {
            self.counters.routers_unreachable += 1;
            if let Some(f) = nud::withdrawal(pan, dead, eui, ll)
                && self.dev.rx.len() < RX_QUEUE_CAP
            {
                self.dev.rx.push_back(f);
            }
        }
        if w.solicit(now) {
            self.counters.router_solicitations += 1;
            self.dev.tx.push_back(nud::solicitation(pan, eui, ll));
        }
    }

    fn run(&mut self, now: Instant, radio: &mut SimRadio<'_>) {
        self.now = now;
        let t = smol_now(now);
        self.watch_router(now);
        let moved_before = self.counters.frames_out;
        let had_input = !self.dev.rx.is_empty();
        for _ in 0..4 {
            self.app(now);
            self.smoltcp_poll(t);
            self.app(now);
            self.frames_to_mac();
            self.port.poll(now, radio);
            let pending = !self.dev.tx.is_empty() || !self.recut_out.is_empty();
            if self.dev.rx.is_empty() && (!pending || !self.port.has_room()) {
                break;
            }
        }
        let mut w = self.port.next_wake(now);
        let mut take = |x: Option<Instant>| {
            if let Some(x) = x {
                w = Some(w.map_or(x, |y: Instant| y.min(x)));
            }
        };
        // smoltcp's `poll_at` is advisory. A time at or before `now`, right after a poll at
        // `now`, asks to poll again at once; that helps only while polling moves frames (its
        // fragmenter reports "now" until the last fragment is out). Otherwise nothing that
        // time alone brings will change smoltcp's answer: 0.14's SLAAC, once its three
        // router solicitations are spent unanswered, keeps returning the retry time of a
        // fourth it never sends, whenever a socket has something queued. Taking that as a
        // deadline made the simulator poll the node every microsecond (a node out of every
        // router's range, e.g. the far end of a line). Work that is waiting for the MAC or
        // for input resumes with the next radio event, which polls the node.
        let progressed = had_input || self.counters.frames_out != moved_before;
        take(
            self.iface
                .poll_at(t, &self.sockets)
                .map(|i| Instant::from_micros(i.total_micros().max(0) as u64))
                .filter(|at| *at > now || progressed),
        );
        take(self.next_reading);
        take(self.watch.as_ref().and_then(RouterWatch::next_wake));
        let pending = !self.dev.tx.is_empty() || !self.recut_out.is_empty();
        if !self.dev.rx.is_empty() || (pending && self.port.has_room()) {
            take(Some(now));
        }
        self.wake = w;
    }
}

impl SimNode for SmolNode {
    fn radio_id(&self) -> RadioId {
        self.radio
    }

    fn on_radio_event(&mut self, now: Instant, ev: &SimEvent, radio: &mut SimRadio<'_>) {
        self.now = now;
        let rx = &mut self.dev.rx;
        let c = &mut self.counters;
        let watch = &mut self.watch;
        self.port.on_event(now, ev, radio, |ind| {
            if let (Some(w), Some(src)) = (watch.as_mut(), ind.repr.src_addr) {
                w.heard(now, src);
            }
            if rx.len() >= RX_QUEUE_CAP {
                c.frames_in_dropped += 1;
            } else {
                c.frames_in += 1;
                rx.push_back(ind.mpdu.to_vec());
            }
        });
    }

    fn poll(&mut self, now: Instant, radio: &mut SimRadio<'_>) {
        self.run(now, radio);
    }

    fn next_wake(&self) -> Option<Instant> {
        self.wake
    }

    fn reboot(&mut self, now: Instant, radio: &mut SimRadio<'_>) {
        let mut cfg = self.cfg;
        cfg.seed = cfg.seed.wrapping_add(u64::from(self.reboots) + 1);
        let (reboots, counters) = (self.reboots + 1, self.counters);
        let flash = self.port.security_flash().unwrap_or_default();
        if let Ok(mut n) = SmolNode::boot(self.radio, cfg, radio, flash) {
            n.cfg.seed = self.cfg.seed;
            n.reboots = reboots;
            n.counters = counters;
            n.wake = Some(now);
            *self = n;
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
