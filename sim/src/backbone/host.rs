//! The simulated backbone host: [`BackboneHost`], a smoltcp stack on one end of an
//! [`EthLink`], its knobs ([`BackboneHostConfig`]) and what it logs (readings, datagrams,
//! ICMPv6 records). How it behaves is told in the [`backbone` module documentation](super).

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::Ipv6Addr;

use netif::time::Instant;
use smoltcp::iface::{Config, Interface, Route, SocketHandle, SocketSet};
use smoltcp::phy::{self, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::socket::{icmp, raw, udp};
use smoltcp::wire::{
    EthernetAddress, HardwareAddress, Icmpv6Message, Icmpv6Packet, Icmpv6Repr, IpAddress, IpCidr,
    IpEndpoint, IpProtocol, IpVersion, Ipv6Packet, Ipv6Repr, NdiscPrefixInfoFlags,
    NdiscPrefixInformation, NdiscRepr, NdiscRouterFlags, RawHardwareAddress,
};

use super::cable::{End, EthLink, EthPort};
use super::host_config::{BackboneHostConfig, HostConfigError, HostRa, MAX_ROUTES};
use crate::smol::RxTok;

/// One datagram the collector received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Sender address and port.
    pub from: IpEndpoint,
    /// Payload length.
    pub len: usize,
    /// First up to 12 bytes (sensor readings: node index, sequence number, timestamp).
    pub head: Vec<u8>,
    /// When it was read from the socket.
    pub at: Instant,
}

/// A datagram that arrived on the general-purpose socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// Sender address and port.
    pub from: IpEndpoint,
    /// Payload.
    pub data: Vec<u8>,
    /// When it was read from the socket.
    pub at: Instant,
}

/// The packet an ICMPv6 error quotes, as far as the quote goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invoking {
    /// Its source.
    pub src: Ipv6Addr,
    /// Its destination.
    pub dst: Ipv6Addr,
    /// Its next header (17: UDP).
    pub next_header: u8,
    /// Its hop limit as the reporting node saw it.
    pub hop_limit: u8,
    /// UDP/TCP source and destination ports, when quoted.
    pub ports: Option<(u16, u16)>,
}

/// One ICMPv6 message the host received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpRecord {
    /// Type (`Icmpv6Message::PktTooBig`, `TimeExceeded`, `DstUnreachable`, …).
    pub msg: Icmpv6Message,
    /// Code.
    pub code: u8,
    /// Sender.
    pub from: Ipv6Addr,
    /// Destination (one of the host's addresses or a multicast group).
    pub to: Ipv6Addr,
    /// ICMPv6 message length.
    pub len: usize,
    /// Bytes 4..8 of the message: the MTU of a Packet Too Big, the pointer of a Parameter
    /// Problem, identifier and sequence number of an echo.
    pub param: u32,
    /// For errors: the quoted packet, when at least its IPv6 header is quoted.
    pub invoking: Option<Invoking>,
    /// When it was read from the socket.
    pub at: Instant,
}

/// Counters of a [`BackboneHost`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostCounters {
    /// Frames read from the cable.
    pub frames_in: u64,
    /// Frames written to the cable.
    pub frames_out: u64,
    /// Frames smoltcp sent in answer to a received one while the cable was full (lost).
    pub frames_out_dropped: u64,
    /// Datagrams the collector received.
    pub readings: u64,
    /// Their payload bytes.
    pub reading_bytes: u64,
    /// Replies the collector queued.
    pub replies_sent: u64,
    /// Replies that did not fit the socket buffer.
    pub replies_dropped: u64,
    /// Datagrams echoed.
    pub echoed: u64,
    /// Datagrams received on the general-purpose socket.
    pub udp_received: u64,
    /// ICMPv6 messages logged.
    pub icmp_received: u64,
    /// Echo replies matched to [`BackboneHost::ping`]s.
    pub ping_replies: u64,
    /// Log entries dropped to make room (all logs).
    pub log_dropped: u64,
    /// Router advertisements sent ([`BackboneHostConfig::ra`], [`BackboneHost::send_ra`]).
    pub ras_sent: u64,
}

/// smoltcp's view of the cable.
#[derive(Debug)]
struct HostDev {
    port: EthPort,
    now: Instant,
    frames_in: u64,
    frames_out: u64,
    frames_out_dropped: u64,
}

struct HostTx<'a>(&'a mut HostDev);

impl phy::TxToken for HostTx<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        let d = self.0;
        if d.port.send(d.now, &buf) {
            d.frames_out += 1;
        } else {
            d.frames_out_dropped += 1;
        }
        r
    }
}

impl phy::Device for HostDev {
    type RxToken<'a> = RxTok;
    type TxToken<'a> = HostTx<'a>;

    fn receive(
        &mut self,
        _t: smoltcp::time::Instant,
    ) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let f = self.port.recv()?;
        self.frames_in += 1;
        // A reply token even when the cable is full: the loss is counted.
        Some((RxTok(f.data), HostTx(self)))
    }

    fn transmit(&mut self, _t: smoltcp::time::Instant) -> Option<Self::TxToken<'_>> {
        self.port.has_room().then_some(HostTx(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        // smoltcp counts the Ethernet header in the MTU of an Ethernet device.
        c.max_transmission_unit = 1514;
        c
    }
}

fn smol_now(t: Instant) -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_micros(i64::try_from(t.as_micros()).unwrap_or(i64::MAX))
}

fn from_smol(t: smoltcp::time::Instant) -> Instant {
    Instant::from_micros(u64::try_from(t.total_micros()).unwrap_or(0))
}

fn push_bounded<T>(log: &mut VecDeque<T>, cap: usize, item: T, dropped: &mut u64) {
    if cap == 0 {
        *dropped += 1;
        return;
    }
    if log.len() >= cap {
        log.pop_front();
        *dropped += 1;
    }
    log.push_back(item);
}

/// Rounds of "let the application run, then poll smoltcp" per [`BackboneHost::poll`].
const POLL_ROUNDS: usize = 8;

/// A simulated host on the backbone: smoltcp over one end of an [`EthLink`] (see the
/// [module docs](super)).
pub struct BackboneHost {
    cfg: BackboneHostConfig,
    dev: HostDev,
    iface: Interface,
    sockets: SocketSet<'static>,
    collector: SocketHandle,
    echo: Option<SocketHandle>,
    app: SocketHandle,
    ping: SocketHandle,
    icmp_raw: SocketHandle,
    readings: VecDeque<Reading>,
    by_source: BTreeMap<Ipv6Addr, u64>,
    udp_log: VecDeque<Datagram>,
    icmp_log: VecDeque<IcmpRecord>,
    pings: Vec<(u16, Instant, Option<Instant>)>,
    next_ra: Option<Instant>,
    counters: HostCounters,
    wake: Option<Instant>,
    now: Instant,
}

impl fmt::Debug for BackboneHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackboneHost")
            .field("addr", &self.cfg.addr)
            .field("end", &self.dev.port.end())
            .field("counters", &self.counters())
            .finish()
    }
}

fn udp_socket(
    cfg: &BackboneHostConfig,
    port: u16,
) -> Result<udp::Socket<'static>, HostConfigError> {
    let buf = || {
        udp::PacketBuffer::new(
            vec![udp::PacketMetadata::EMPTY; cfg.udp_packets],
            vec![0u8; cfg.udp_buffer],
        )
    };
    let mut s = udp::Socket::new(buf(), buf());
    s.bind(port).map_err(|_| HostConfigError::Port(port))?;
    Ok(s)
}

impl BackboneHost {
    /// Builds the host on `end` of `link` (its port gets `cfg.mac`) at time `now`.
    pub fn new(
        cfg: BackboneHostConfig,
        link: &EthLink,
        end: End,
        now: Instant,
    ) -> Result<Self, HostConfigError> {
        if cfg.prefix_len > 128 {
            return Err(HostConfigError::PrefixLen(cfg.prefix_len));
        }
        if let Some(&(_, l, _)) = cfg.routes.iter().find(|r| r.1 > 128) {
            return Err(HostConfigError::PrefixLen(l));
        }
        if cfg.routes.len() + usize::from(cfg.router.is_some()) > MAX_ROUTES {
            return Err(HostConfigError::TooManyRoutes);
        }
        let mut ports = vec![cfg.collector_port, cfg.app_port];
        ports.extend(cfg.echo_port);
        for (i, p) in ports.iter().enumerate() {
            if *p == 0 || ports.get(..i).is_some_and(|s| s.contains(p)) {
                return Err(HostConfigError::Port(*p));
            }
        }

        link.advance_to(now);
        let mut dev = HostDev {
            port: link.port(end, cfg.mac),
            now,
            frames_in: 0,
            frames_out: 0,
            frames_out_dropped: 0,
        };
        let icfg = Config::new(HardwareAddress::Ethernet(EthernetAddress(cfg.mac)));
        let mut iface = Interface::new(icfg, &mut dev, smol_now(now));
        let ll = cfg.link_local();
        let (addr, plen) = (cfg.addr, cfg.prefix_len);
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(IpAddress::Ipv6(ll), 64));
            if addr != ll {
                let _ = a.push(IpCidr::new(IpAddress::Ipv6(addr), plen));
            }
        });
        if let Some(gw) = cfg.router {
            iface
                .routes_mut()
                .add_default_ipv6_route(gw)
                .map_err(|_| HostConfigError::TooManyRoutes)?;
        }
        let mut full = false;
        iface.routes_mut().update(|r| {
            for &(p, l, via) in &cfg.routes {
                full |= r
                    .push(Route {
                        cidr: IpCidr::new(IpAddress::Ipv6(p), l),
                        via_router: IpAddress::Ipv6(via),
                        preferred_until: None,
                        expires_at: None,
                    })
                    .is_err();
            }
        });
        if full {
            return Err(HostConfigError::TooManyRoutes);
        }

        let mut sockets = SocketSet::new(Vec::new());
        let collector = sockets.add(udp_socket(&cfg, cfg.collector_port)?);
        let echo = match cfg.echo_port {
            Some(p) => Some(sockets.add(udp_socket(&cfg, p)?)),
            None => None,
        };
        let app = sockets.add(udp_socket(&cfg, cfg.app_port)?);
        let icmp_buf =
            || icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 8], vec![0u8; 12 * 1024]);
        let mut ping = icmp::Socket::new(icmp_buf(), icmp_buf());
        // Binding an identifier cannot fail (only `Unspecified` or port 0 is refused).
        let _ = ping.bind(icmp::Endpoint::Ident(cfg.ping_ident));
        let ping = sockets.add(ping);
        let raw_buf =
            || raw::PacketBuffer::new(vec![raw::PacketMetadata::EMPTY; 16], vec![0u8; 24 * 1024]);
        let icmp_raw = sockets.add(raw::Socket::new(
            Some(IpVersion::Ipv6),
            Some(IpProtocol::Icmpv6),
            raw_buf(),
            raw_buf(),
        ));
        let next_ra = cfg.ra.map(|_| now);
        Ok(BackboneHost {
            cfg,
            dev,
            iface,
            sockets,
            collector,
            echo,
            app,
            ping,
            icmp_raw,
            readings: VecDeque::new(),
            by_source: BTreeMap::new(),
            udp_log: VecDeque::new(),
            icmp_log: VecDeque::new(),
            pings: Vec::new(),
            next_ra,
            counters: HostCounters::default(),
            wake: Some(now),
            now,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BackboneHostConfig {
        &self.cfg
    }

    /// This host's end of the cable.
    pub fn port(&self) -> &EthPort {
        &self.dev.port
    }

    /// The addresses smoltcp has (link-local first).
    pub fn addresses(&self) -> Vec<Ipv6Addr> {
        self.iface
            .ip_addrs()
            .iter()
            .map(|c| match c.address() {
                IpAddress::Ipv6(a) => a,
            })
            .collect()
    }

    /// Counters.
    pub fn counters(&self) -> HostCounters {
        HostCounters {
            frames_in: self.dev.frames_in,
            frames_out: self.dev.frames_out,
            frames_out_dropped: self.dev.frames_out_dropped,
            ..self.counters
        }
    }

    /// The collector's log, oldest first.
    pub fn readings(&self) -> impl Iterator<Item = &Reading> {
        self.readings.iter()
    }

    /// Datagrams the collector received, per source address (not bounded by the log).
    pub fn readings_by_source(&self) -> &BTreeMap<Ipv6Addr, u64> {
        &self.by_source
    }

    /// Every ICMPv6 message received, oldest first (neighbor discovery included; see
    /// [`BackboneHost::icmp_errors`]).
    pub fn icmp_log(&self) -> impl Iterator<Item = &IcmpRecord> {
        self.icmp_log.iter()
    }

    /// The ICMPv6 error messages (types below 128) received, oldest first.
    pub fn icmp_errors(&self) -> impl Iterator<Item = &IcmpRecord> {
        self.icmp_log.iter().filter(|r| r.msg.is_error())
    }

    /// Pings sent: (sequence, sent at, reply at).
    pub fn pings(&self) -> &[(u16, Instant, Option<Instant>)] {
        &self.pings
    }

    /// Hop limit of what the general-purpose socket and ping send (`None`: smoltcp's 64).
    pub fn set_hop_limit(&mut self, hop_limit: Option<u8>) {
        // smoltcp refuses 0 (it would panic); 0 is sent as 1, the smallest that leaves.
        let h = hop_limit.map(|h| h.max(1));
        self.sockets
            .get_mut::<udp::Socket<'_>>(self.app)
            .set_hop_limit(h);
        self.sockets
            .get_mut::<icmp::Socket<'_>>(self.ping)
            .set_hop_limit(h);
    }

    /// Queues a UDP datagram from the general-purpose socket; `false` when its buffer is full
    /// (or the datagram is larger than the buffer).
    pub fn send_udp(&mut self, dst: Ipv6Addr, port: u16, data: &[u8]) -> bool {
        let ok = self
            .sockets
            .get_mut::<udp::Socket<'_>>(self.app)
            .send_slice(data, IpEndpoint::new(IpAddress::Ipv6(dst), port))
            .is_ok();
        self.wake = Some(self.now);
        ok
    }

    /// Takes the datagrams that arrived on the general-purpose socket.
    pub fn udp_received(&mut self) -> Vec<Datagram> {
        self.udp_log.drain(..).collect()
    }

    /// Sends (at `now`) an ICMPv6 echo request with sequence `seq` and `len` bytes of data to
    /// `dst`; `false` when the socket buffer is full.
    pub fn ping(&mut self, now: Instant, dst: Ipv6Addr, seq: u16, len: usize) -> bool {
        self.now = self.now.max(now);
        let data = vec![0x5au8; len];
        let repr = Icmpv6Repr::EchoRequest {
            ident: self.cfg.ping_ident,
            seq_no: seq,
            data: &data,
        };
        let s = self.sockets.get_mut::<icmp::Socket<'_>>(self.ping);
        let Ok(buf) = s.send(repr.buffer_len(), IpAddress::Ipv6(dst)) else {
            return false;
        };
        // smoltcp picks the source address and recomputes the checksum when it sends.
        let unspec = Ipv6Addr::UNSPECIFIED;
        repr.emit(
            &unspec,
            &dst,
            &mut Icmpv6Packet::new_unchecked(buf),
            &ChecksumCapabilities::ignored(),
        );
        self.pings.push((seq, self.now, None));
        self.wake = Some(self.now);
        true
    }

    /// Sends (at `now`) a UDP datagram from this host's address to `dst` with IPv6 traffic
    /// class `tc` (DSCP in its upper six bits) straight onto the cable, framed to the MAC
    /// `via` (a router), bypassing smoltcp (which neither sets a traffic class nor sends
    /// fast enough for a flood); `false` when the cable is full.
    pub fn send_raw_udp(
        &mut self,
        now: Instant,
        via: [u8; 6],
        dst: Ipv6Addr,
        tc: u8,
        port: u16,
        data: &[u8],
    ) -> bool {
        let src = self.cfg.addr;
        let udp_len = 8 + data.len();
        let mut frame = vec![0u8; 14 + 40 + udp_len];
        frame[..6].copy_from_slice(&via);
        frame[6..12].copy_from_slice(&self.cfg.mac);
        frame[12..14].copy_from_slice(&[0x86, 0xdd]);
        let ip = Ipv6Repr {
            src_addr: src,
            dst_addr: dst,
            next_header: IpProtocol::Udp,
            payload_len: udp_len,
            hop_limit: 64,
        };
        let mut pkt = Ipv6Packet::new_unchecked(&mut frame[14..]);
        ip.emit(&mut pkt);
        pkt.set_traffic_class(tc);
        let u = pkt.payload_mut();
        u[0..2].copy_from_slice(&port.to_be_bytes());
        u[2..4].copy_from_slice(&port.to_be_bytes());
        u[4..6].copy_from_slice(&(udp_len as u16).to_be_bytes());
        u[8..].copy_from_slice(data);
        // Checksum over the pseudo-header (RFC 8200 §8.1).
        let mut sum: u32 = 0;
        let mut add = |b: &[u8]| {
            for c in b.chunks(2) {
                let hi = u32::from(c[0]) << 8;
                sum += hi | c.get(1).map_or(0, |&l| u32::from(l));
            }
        };
        add(&src.octets());
        add(&dst.octets());
        add(&(udp_len as u32).to_be_bytes());
        add(&[0, 0, 0, 17]);
        add(u);
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        let c = !(sum as u16);
        u[6..8].copy_from_slice(&(if c == 0 { 0xffff } else { c }).to_be_bytes());
        self.now = self.now.max(now);
        self.dev.port.link().advance_to(self.now);
        self.dev.port.send(self.now, &frame)
    }

    /// Sends (at `now`) the router advertisement `ra` straight onto the cable (smoltcp is not
    /// involved: it sends no RAs); `false` when the cable is full.
    pub fn send_ra(&mut self, now: Instant, ra: &HostRa) -> bool {
        let src = self.cfg.link_local();
        let dst = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        let secs = |s: u32| smoltcp::time::Duration::from_secs(u64::from(s));
        let mut flags = NdiscPrefixInfoFlags::empty();
        flags.set(NdiscPrefixInfoFlags::ON_LINK, ra.on_link);
        flags.set(NdiscPrefixInfoFlags::ADDRCONF, ra.autonomous);
        let repr = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
            hop_limit: 64,
            flags: NdiscRouterFlags::empty(),
            router_lifetime: secs(u32::from(ra.router_lifetime)),
            reachable_time: smoltcp::time::Duration::ZERO,
            retrans_time: smoltcp::time::Duration::ZERO,
            lladdr: Some(RawHardwareAddress::from(EthernetAddress(self.cfg.mac))),
            mtu: None,
            prefix_info: Some(NdiscPrefixInformation {
                prefix_len: ra.prefix_len,
                flags,
                valid_lifetime: secs(ra.valid),
                preferred_lifetime: secs(ra.preferred),
                prefix: ra.prefix,
            }),
        });
        let ip = Ipv6Repr {
            src_addr: src,
            dst_addr: dst,
            next_header: IpProtocol::Icmpv6,
            payload_len: repr.buffer_len(),
            hop_limit: 255,
        };
        let mut frame = vec![0u8; 14 + ip.buffer_len() + repr.buffer_len()];
        frame[..6].copy_from_slice(&[0x33, 0x33, 0, 0, 0, 1]);
        frame[6..12].copy_from_slice(&self.cfg.mac);
        frame[12..14].copy_from_slice(&[0x86, 0xdd]);
        let mut pkt = Ipv6Packet::new_unchecked(&mut frame[14..]);
        ip.emit(&mut pkt);
        repr.emit(
            &src,
            &dst,
            &mut Icmpv6Packet::new_unchecked(pkt.payload_mut()),
            &ChecksumCapabilities::default(),
        );
        self.now = self.now.max(now);
        self.dev.port.link().advance_to(self.now);
        let ok = self.dev.port.send(self.now, &frame);
        if ok {
            self.counters.ras_sent += 1;
        }
        ok
    }

    /// Runs the host at `now`: moves the link's time forward, reads what the cable delivered,
    /// runs the services and sends what is queued.
    pub fn poll(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let now = self.now;
        self.dev.port.link().advance_to(now);
        self.dev.now = now;
        if let (Some(ra), Some(at)) = (self.cfg.ra, self.next_ra)
            && at <= now
        {
            self.send_ra(now, &ra);
            self.next_ra = Some(now + ra.interval);
        }
        let t = smol_now(now);
        for _ in 0..POLL_ROUNDS {
            self.iface.poll(t, &mut self.dev, &mut self.sockets);
            if !self.services(now) {
                break;
            }
        }
        let mut w = self.iface.poll_at(t, &self.sockets).map(from_smol);
        for d in [self.dev.port.next_delivery(), self.next_ra]
            .into_iter()
            .flatten()
        {
            w = Some(w.map_or(d, |x| x.min(d)));
        }
        self.wake = w.map(|x| x.max(now));
    }

    /// When [`BackboneHost::poll`] wants to run next (`None`: only when something arrives,
    /// which [`EthLink::next_delivery`] of this end reports).
    pub fn next_wake(&self) -> Option<Instant> {
        let d = self.dev.port.next_delivery();
        match (self.wake, d) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Drains the sockets; `true` when something was queued for sending.
    fn services(&mut self, now: Instant) -> bool {
        let mut queued = false;
        let mut buf = vec![0u8; 2048];
        let cap = self.cfg.log_cap;
        let c = &mut self.counters;

        let s = self.sockets.get_mut::<udp::Socket<'_>>(self.collector);
        while let Ok((n, meta)) = s.recv_slice(&mut buf) {
            let data = buf.get(..n).unwrap_or(&[]);
            c.readings += 1;
            c.reading_bytes += n as u64;
            let IpAddress::Ipv6(src) = meta.endpoint.addr;
            *self.by_source.entry(src).or_insert(0) += 1;
            let head = data.get(..n.min(12)).unwrap_or(&[]).to_vec();
            if self.cfg.reply_to_readings {
                let mut reply = b"ack".to_vec();
                reply.extend_from_slice(&head);
                let mut to: udp::UdpMetadata = meta.endpoint.into();
                to.local_address = meta.local_address;
                if s.send_slice(&reply, to).is_ok() {
                    c.replies_sent += 1;
                    queued = true;
                } else {
                    c.replies_dropped += 1;
                }
            }
            let r = Reading {
                from: meta.endpoint,
                len: n,
                head,
                at: now,
            };
            push_bounded(&mut self.readings, cap, r, &mut c.log_dropped);
        }

        if let Some(h) = self.echo {
            let s = self.sockets.get_mut::<udp::Socket<'_>>(h);
            while s.can_send() {
                let Ok((n, meta)) = s.recv_slice(&mut buf) else {
                    break;
                };
                let mut to: udp::UdpMetadata = meta.endpoint.into();
                to.local_address = meta.local_address;
                if s.send_slice(buf.get(..n).unwrap_or(&[]), to).is_ok() {
                    c.echoed += 1;
                    queued = true;
                }
            }
        }

        let s = self.sockets.get_mut::<udp::Socket<'_>>(self.app);
        while let Ok((n, meta)) = s.recv_slice(&mut buf) {
            c.udp_received += 1;
            let d = Datagram {
                from: meta.endpoint,
                data: buf.get(..n).unwrap_or(&[]).to_vec(),
                at: now,
            };
            push_bounded(&mut self.udp_log, cap, d, &mut c.log_dropped);
        }

        let s = self.sockets.get_mut::<icmp::Socket<'_>>(self.ping);
        while let Ok((n, _from)) = s.recv_slice(&mut buf) {
            let Ok(pkt) = Icmpv6Packet::new_checked(buf.get(..n).unwrap_or(&[])) else {
                continue;
            };
            if pkt.msg_type() == Icmpv6Message::EchoReply {
                let seq = pkt.echo_seq_no();
                if let Some(p) = self.pings.iter_mut().find(|p| p.0 == seq && p.2.is_none()) {
                    p.2 = Some(now);
                    c.ping_replies += 1;
                }
            }
        }

        let s = self.sockets.get_mut::<raw::Socket<'_>>(self.icmp_raw);
        let mut raw = vec![0u8; 2048];
        while let Ok(n) = s.recv_slice(&mut raw) {
            if let Some(r) = parse_icmp(raw.get(..n).unwrap_or(&[]), now) {
                c.icmp_received += 1;
                push_bounded(&mut self.icmp_log, cap, r, &mut c.log_dropped);
            }
        }
        queued
    }
}

/// Parses an IPv6 packet carrying ICMPv6 (as a raw socket hands it over) into a record.
/// Never panics; `None` when it is not IPv6 + ICMPv6 with a whole ICMPv6 header.
fn parse_icmp(ip: &[u8], at: Instant) -> Option<IcmpRecord> {
    let pkt = Ipv6Packet::new_checked(ip).ok()?;
    if pkt.next_header() != IpProtocol::Icmpv6 {
        return None;
    }
    let payload = pkt.payload();
    let icmp = Icmpv6Packet::new_checked(payload).ok()?;
    let msg = icmp.msg_type();
    let param = payload
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes);
    let invoking = if msg.is_error() {
        payload.get(8..).and_then(parse_invoking)
    } else {
        None
    };
    Some(IcmpRecord {
        msg,
        code: icmp.msg_code(),
        from: pkt.src_addr(),
        to: pkt.dst_addr(),
        len: payload.len(),
        param,
        invoking,
        at,
    })
}

/// The quoted packet of an ICMPv6 error: at least its 40-byte IPv6 header (the quote is
/// usually truncated, so no length check against its payload length).
fn parse_invoking(q: &[u8]) -> Option<Invoking> {
    let addr = |r: std::ops::Range<usize>| {
        q.get(r)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(Ipv6Addr::from)
    };
    let next_header = *q.get(6)?;
    let hop_limit = *q.get(7)?;
    let src = addr(8..24)?;
    let dst = addr(24..40)?;
    let ports = match next_header {
        6 | 17 => q.get(40..44).map(|p| {
            (
                u16::from_be_bytes([p[0], p[1]]),
                u16::from_be_bytes([p[2], p[3]]),
            )
        }),
        _ => None,
    };
    Some(Invoking {
        src,
        dst,
        next_header,
        hop_limit,
        ports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoking_quotes_are_parsed_without_panics() {
        // An IPv6 header quoting UDP 49153 → 7, hop limit 1.
        let mut q = vec![0x60, 0, 0, 0, 0, 16, 17, 1];
        q.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        q.extend_from_slice(&Ipv6Addr::UNSPECIFIED.octets());
        q.extend_from_slice(&[0xc0, 0x01, 0x00, 0x07]);
        let i = parse_invoking(&q).unwrap();
        assert_eq!((i.next_header, i.hop_limit), (17, 1));
        assert_eq!(i.ports, Some((49153, 7)));
        for n in 0..q.len() {
            let r = parse_invoking(&q[..n]);
            assert_eq!(r.is_some(), n >= 40, "{n}");
        }
        for n in 0..80 {
            assert!(parse_icmp(&vec![0x60; n], Instant::ZERO).is_none());
        }
    }

    #[test]
    fn link_local_is_modified_eui64() {
        let c = BackboneHostConfig::new([0x02, 0, 0, 0, 0, 0x0b], Ipv6Addr::LOCALHOST, 64);
        assert_eq!(
            c.link_local(),
            "fe80::ff:fe00:b".parse::<Ipv6Addr>().unwrap()
        );
    }
}
