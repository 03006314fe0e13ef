//! The backbone side: an in-memory [`ethernet::Driver`] for `eth0` whose far end is one host
//! that is also the backbone's router. It advertises [`BACKBONE_PREFIX`] for SLAAC (so `eth0`
//! configures an address and a default route through it, as on a real LAN), answers the
//! router's RS and NS, answers echo requests to [`HOST_GLOBAL`] and counts the readings that
//! reach its collector on UDP port [`COLLECTOR_PORT`].

use core::convert::Infallible;
use core::net::Ipv6Addr;

use heapless::{Deque, Vec};
use netif::{Duration, Instant};

use crate::far::Meter;
use crate::packet::{
    self, BENCH_PAYLOAD, BENCH_PORT, COLLECTOR_PORT, ICMPV6, IPV6_HDR, Ipv6, UDP, icmp,
};

/// The host's MAC address.
pub const HOST_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
/// The host's link-local address (from its MAC).
pub const HOST_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0x00ff, 0xfe00, 0x0002);
/// The host's global address, the readings' destination.
pub const HOST_GLOBAL: Ipv6Addr = Ipv6Addr::new(0x2001, 0x0db8, 0, 0, 0, 0, 0, 2);
/// The prefix the host advertises (on-link, SLAAC).
pub const BACKBONE_PREFIX: [u8; 8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0];
/// Between two unsolicited RAs.
pub const RA_EVERY: Duration = Duration::from_secs(60);
/// Frames waiting for the router.
pub const TO_ROUTER: usize = 4;
/// Largest frame.
const FRAME: usize = 1514;
const ETH_HDR: usize = 14;
const ETHERTYPE_IPV6: [u8; 2] = [0x86, 0xdd];
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// What the host saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackboneStats {
    /// Frames from the router.
    pub rx_frames: u32,
    /// Readings that reached the collector.
    pub readings: u32,
    /// Bytes of reading payload.
    pub reading_bytes: u64,
    /// RAs sent.
    pub ra_sent: u32,
    /// NAs sent (answers to the router's NS for our addresses).
    pub na_sent: u32,
    /// Echo replies sent.
    pub echo_replies: u32,
    /// Frames for the router lost because its queue was full.
    pub to_router_dropped: u32,
    /// Measurement packets received intact ([`packet::is_bench`]).
    pub bench_rx: u32,
    /// Measurement packets sent to the mesh.
    pub bench_sent: u32,
}

/// The host and the cable; see the module docs.
pub struct Backbone {
    router_mac: [u8; 6],
    to_router: Deque<Vec<u8, FRAME>, TO_ROUTER>,
    /// The next unsolicited RA (`None`: quiet, no RA at all).
    next_ra: Option<Instant>,
    frame: [u8; FRAME],
    stats: BackboneStats,
    /// Times the host's reading of the router's frames, which happens inside `App::poll`
    /// (`Driver::transmit`), so that the measurement mode can take it out.
    meter: Meter,
}

impl Backbone {
    /// A host that sends its first RA at `now`, cabled to a router with MAC `router_mac`.
    pub fn new(router_mac: [u8; 6], now: Instant) -> Self {
        Backbone {
            router_mac,
            to_router: Deque::new(),
            next_ra: Some(now),
            frame: [0; FRAME],
            stats: BackboneStats::default(),
            meter: Meter::off(),
        }
    }

    /// The measurement mode's host: no RA, not even in answer to an RS (the router has a
    /// static address); what it does inside the router's calls timed on `clock`.
    pub fn quiet(router_mac: [u8; 6], clock: fn() -> u32) -> Self {
        Backbone {
            router_mac,
            to_router: Deque::new(),
            next_ra: None,
            frame: [0; FRAME],
            stats: BackboneStats::default(),
            meter: Meter::new(clock),
        }
    }

    /// The time spent reading the router's frames inside its calls.
    pub fn meter(&self) -> Meter {
        self.meter
    }

    /// Sends a measurement packet (from [`HOST_GLOBAL`], [`BENCH_PAYLOAD`] bytes counting up
    /// from `seed`) to `dst` through the router; false if its queue is full.
    pub fn send_bench(&mut self, dst: Ipv6Addr, seed: u8) -> bool {
        let ok = self.emit(self.router_mac, |ip| {
            packet::udp(
                ip,
                &HOST_GLOBAL,
                &dst,
                BENCH_PORT,
                BENCH_PORT,
                64,
                BENCH_PAYLOAD,
                seed,
            )
        });
        if ok {
            self.stats.bench_sent = self.stats.bench_sent.wrapping_add(1);
        }
        ok
    }

    /// What the host saw.
    pub fn stats(&self) -> BackboneStats {
        self.stats
    }

    /// When the next unsolicited RA is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.next_ra
    }

    /// Whether frames wait for the router (call `App::poll`).
    pub fn has_rx(&self) -> bool {
        !self.to_router.is_empty()
    }

    /// Sends the periodic RA when due.
    pub fn pump(&mut self, now: Instant) {
        if self.next_ra.is_some_and(|t| t <= now) {
            self.send_ra(ALL_NODES, [0x33, 0x33, 0, 0, 0, 1]);
            self.next_ra = Some(now + RA_EVERY);
        }
    }

    fn send_ra(&mut self, dst: Ipv6Addr, dst_mac: [u8; 6]) {
        // cur hop limit, flags, router lifetime, reachable, retrans | SLLAO | PIO
        let ok = self.emit(dst_mac, |ip| {
            packet::icmpv6(ip, &HOST_LL, &dst, 255, 16 + 8 + 32, |m| {
                m[0] = icmp::RA;
                m[4] = 64;
                m[6..8].copy_from_slice(&1800u16.to_be_bytes());
                m[16] = 1;
                m[17] = 1;
                m[18..24].copy_from_slice(&HOST_MAC);
                let pio = &mut m[24..56];
                pio[0] = 3;
                pio[1] = 4;
                pio[2] = 64;
                pio[3] = 0xc0; // on-link, autonomous
                pio[4..8].copy_from_slice(&86_400u32.to_be_bytes());
                pio[8..12].copy_from_slice(&14_400u32.to_be_bytes());
                pio[16..24].copy_from_slice(&BACKBONE_PREFIX);
            })
        });
        if ok {
            self.stats.ra_sent = self.stats.ra_sent.wrapping_add(1);
        }
    }

    /// Builds an Ethernet frame to `dst_mac` whose IPv6 packet `ip` writes (returning its
    /// length) and queues it for the router.
    fn emit(&mut self, dst_mac: [u8; 6], ip: impl FnOnce(&mut [u8]) -> Option<usize>) -> bool {
        self.frame[..6].copy_from_slice(&dst_mac);
        self.frame[6..12].copy_from_slice(&HOST_MAC);
        self.frame[12..14].copy_from_slice(&ETHERTYPE_IPV6);
        let Some(n) = ip(&mut self.frame[ETH_HDR..]) else {
            return false;
        };
        let Some(f) = self.frame.get(..ETH_HDR + n) else {
            return false;
        };
        let Ok(v) = Vec::from_slice(f) else {
            return false;
        };
        if self.to_router.push_back(v).is_err() {
            self.stats.to_router_dropped = self.stats.to_router_dropped.wrapping_add(1);
            return false;
        }
        true
    }

    /// A frame the router sent.
    fn hear(&mut self, frame: &[u8]) {
        self.stats.rx_frames = self.stats.rx_frames.wrapping_add(1);
        let (Some(src_mac), Some(ty), Some(p)) =
            (frame.get(6..12), frame.get(12..14), frame.get(ETH_HDR..))
        else {
            return;
        };
        let Ok(src_mac) = <[u8; 6]>::try_from(src_mac) else {
            return;
        };
        if ty != ETHERTYPE_IPV6 {
            return;
        }
        let Some((ip, body)) = Ipv6::parse(p) else {
            return;
        };
        let ours = ip.dst == HOST_GLOBAL || ip.dst == HOST_LL;
        if ip.next == UDP && ours && packet::is_bench(body, &ip.src, &ip.dst) {
            self.stats.bench_rx = self.stats.bench_rx.wrapping_add(1);
            return;
        }
        if ip.next == UDP && ours {
            let dport = body.get(2..4).map(|b| u16::from_be_bytes([b[0], b[1]]));
            if dport == Some(COLLECTOR_PORT) {
                self.stats.readings = self.stats.readings.wrapping_add(1);
                self.stats.reading_bytes = self
                    .stats
                    .reading_bytes
                    .wrapping_add(body.len().saturating_sub(8) as u64);
            }
            return;
        }
        if ip.next != ICMPV6 {
            return;
        }
        match body.first().copied() {
            Some(icmp::RS) if self.next_ra.is_some() => self.send_ra(ip.src, src_mac),
            Some(icmp::NS) => {
                let target = body.get(8..24).and_then(|t| <[u8; 16]>::try_from(t).ok());
                let target = target.map(Ipv6Addr::from);
                // DAD probes (unspecified source) are not answered: the addresses differ.
                if (target == Some(HOST_GLOBAL) || target == Some(HOST_LL))
                    && !ip.src.is_unspecified()
                    && let Some(t) = target
                {
                    let ok = self.emit(src_mac, |out| {
                        packet::icmpv6(out, &t, &ip.src, 255, 32, |m| {
                            m[0] = icmp::NA;
                            m[4] = 0xe0; // router, solicited, override
                            m[8..24].copy_from_slice(&t.octets());
                            m[24] = 2;
                            m[25] = 1;
                            m[26..32].copy_from_slice(&HOST_MAC);
                        })
                    });
                    if ok {
                        self.stats.na_sent = self.stats.na_sent.wrapping_add(1);
                    }
                }
            }
            Some(icmp::ECHO_REQUEST) if ours => {
                let len = IPV6_HDR + body.len();
                let ok = self.emit(src_mac, |out| {
                    let o = out.get_mut(..len)?;
                    o.copy_from_slice(p.get(..len)?);
                    packet::echo_reply_in_place(o).map(|()| len)
                });
                if ok {
                    self.stats.echo_replies = self.stats.echo_replies.wrapping_add(1);
                }
            }
            _ => {}
        }
    }
}

impl ethernet::Driver for Backbone {
    type Error = Infallible;

    fn mac(&self) -> [u8; 6] {
        self.router_mac
    }

    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Infallible> {
        let Some(f) = self.to_router.front() else {
            return Ok(None);
        };
        let n = f.len();
        // A frame too long for the caller is dropped, as a NIC would.
        if let Some(b) = buf.get_mut(..n) {
            b.copy_from_slice(f);
        }
        let _ = self.to_router.pop_front();
        Ok(if n <= buf.len() { Some(n) } else { None })
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<bool, Infallible> {
        let t0 = self.meter.start();
        self.hear(frame);
        self.meter.stop(t0);
        Ok(true)
    }

    fn link_up(&mut self) -> bool {
        true
    }
}
