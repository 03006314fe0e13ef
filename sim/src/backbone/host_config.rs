//! The backbone host's knobs ([`BackboneHostConfig`], the RAs it may send: [`HostRa`]) and
//! why a configuration is refused ([`HostConfigError`]).

use std::fmt;
use std::net::Ipv6Addr;

/// Every knob of a [`BackboneHost`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackboneHostConfig {
    /// MAC address.
    pub mac: [u8; 6],
    /// The host's address (a link-local one from the MAC is added).
    pub addr: Ipv6Addr,
    /// Its on-link prefix length.
    pub prefix_len: u8,
    /// Default route gateway, e.g. the border router's backbone address.
    pub router: Option<Ipv6Addr>,
    /// Static routes (prefix, prefix length, via), e.g. the mesh prefix via the border router.
    /// smoltcp holds [`MAX_ROUTES`] routes, the default route included.
    pub routes: Vec<(Ipv6Addr, u8, Ipv6Addr)>,
    /// UDP port of the collector.
    pub collector_port: u16,
    /// UDP echo service port, if any.
    pub echo_port: Option<u16>,
    /// Answer each reading with `b"ack"` + its first 12 bytes.
    pub reply_to_readings: bool,
    /// Port of the general-purpose socket behind [`BackboneHost::send_udp`].
    pub app_port: u16,
    /// ICMPv6 echo identifier of [`BackboneHost::ping`].
    pub ping_ident: u16,
    /// UDP socket buffers: payload bytes per direction.
    pub udp_buffer: usize,
    /// UDP socket buffers: datagrams per direction.
    pub udp_packets: usize,
    /// Entries kept in each log (readings, UDP, ICMPv6); older ones are dropped and counted.
    pub log_cap: usize,
    /// Send router advertisements (as the backbone's router does for SLAAC hosts); `None`:
    /// never (smoltcp itself sends none).
    pub ra: Option<HostRa>,
}

/// A router advertisement the host sends: from its link-local address to all-nodes, with its
/// MAC as SLLAO and one Prefix Information Option, every [`HostRa::interval`] (the first one
/// when the host starts). [`BackboneHost::send_ra`] sends any other one at once, e.g. a rogue
/// one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRa {
    /// Router lifetime, seconds (0: not a default router).
    pub router_lifetime: u16,
    /// PIO prefix.
    pub prefix: Ipv6Addr,
    /// PIO prefix length.
    pub prefix_len: u8,
    /// PIO L flag (on-link).
    pub on_link: bool,
    /// PIO A flag (autonomous address configuration).
    pub autonomous: bool,
    /// PIO valid lifetime, seconds.
    pub valid: u32,
    /// PIO preferred lifetime, seconds.
    pub preferred: u32,
    /// Period of the unsolicited RAs.
    pub interval: netif::Duration,
}

impl HostRa {
    /// An RA announcing `prefix`/64 on-link and for SLAAC (L=1, A=1, one day valid, four
    /// hours preferred), not a default router, every 30 s.
    pub fn slaac(prefix: Ipv6Addr) -> Self {
        HostRa {
            router_lifetime: 0,
            prefix,
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid: 86_400,
            preferred: 14_400,
            interval: netif::Duration::from_secs(30),
        }
    }
}

/// Default collector port of [`BackboneHostConfig::new`].
pub const DEFAULT_COLLECTOR_PORT: u16 = 4000;

/// Routes a [`BackboneHost`] can hold, the default route included (smoltcp's
/// `IFACE_MAX_ROUTE_COUNT`).
pub const MAX_ROUTES: usize = smoltcp::config::IFACE_MAX_ROUTE_COUNT;

impl BackboneHostConfig {
    /// Defaults for a host with `mac` and `addr`/`prefix_len`: no routes, collector on
    /// [`DEFAULT_COLLECTOR_PORT`] without replies, echo on port 7, general socket on 49153.
    pub fn new(mac: [u8; 6], addr: Ipv6Addr, prefix_len: u8) -> Self {
        BackboneHostConfig {
            mac,
            addr,
            prefix_len,
            router: None,
            routes: Vec::new(),
            collector_port: DEFAULT_COLLECTOR_PORT,
            echo_port: Some(7),
            reply_to_readings: false,
            app_port: 49153,
            ping_ident: 0x6b62,
            udp_buffer: 16 * 1024,
            udp_packets: 16,
            log_cap: 4096,
            ra: None,
        }
    }

    /// The link-local address: `fe80::/64` with the modified EUI-64 of the MAC.
    pub fn link_local(&self) -> Ipv6Addr {
        let m = self.mac;
        Ipv6Addr::from([
            0xfe,
            0x80,
            0,
            0,
            0,
            0,
            0,
            0,
            m[0] ^ 0x02,
            m[1],
            m[2],
            0xff,
            0xfe,
            m[3],
            m[4],
            m[5],
        ])
    }
}

/// Why a [`BackboneHostConfig`] was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostConfigError {
    /// A prefix length above 128.
    PrefixLen(u8),
    /// More routes than smoltcp holds ([`MAX_ROUTES`], default route included).
    TooManyRoutes,
    /// A UDP port that is zero or used by two services.
    Port(u16),
}

impl fmt::Display for HostConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostConfigError::PrefixLen(l) => write!(f, "prefix length {l} is above 128"),
            HostConfigError::TooManyRoutes => write!(
                f,
                "more than {MAX_ROUTES} routes (default route included); drop some"
            ),
            HostConfigError::Port(p) => {
                write!(f, "UDP port {p} is zero or used by two services")
            }
        }
    }
}

impl core::error::Error for HostConfigError {}
