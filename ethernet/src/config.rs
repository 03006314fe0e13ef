//! Capacities and configuration of the Ethernet L2 and its neighbor discovery, in one place.
//!
//! Fixed capacities are the constants below (they size `heapless` tables inside
//! [`crate::EthernetL2`]); everything that may change at run time is a field of
//! [`EthConfig`]. Exhaustion of any capacity drops and counts, never panics.

use core::net::Ipv6Addr;

use netif::Prefix;
use netif::time::Duration;

/// Neighbor cache entries.
pub const NEIGHBOR_CACHE_SIZE: usize = 16;
/// Packets queued per INCOMPLETE neighbor entry while its address is resolved (RFC 4861
/// §7.2.2 asks for at least one).
pub const PENDING_PER_NEIGHBOR: usize = 3;
/// Frames waiting for the driver.
pub const OUTBOX_DEPTH: usize = 16;
/// Packets whose next hop failed to resolve, waiting for [`crate::EthernetL2::poll`] to hand
/// them to the core (which answers ICMPv6 address unreachable).
pub const UNREACHABLE_DEPTH: usize = 8;
/// Addresses under duplicate address detection at once.
pub const MAX_DAD: usize = 4;
/// Route Information Options in our router advertisements.
pub const MAX_RIO: usize = 2;
/// Pending ND events for the application.
pub const EVENT_DEPTH: usize = 8;

/// What to do with 802.1Q-tagged frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum VlanMode {
    /// Drop them (counted).
    Drop,
    /// Skip the tag and accept the frame as if untagged.
    Skip,
}

/// Router role on the backbone (RFC 4861 §6.2 variables, RFC 4191 routes).
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// Routes announced as Route Information Options (the mesh prefix).
    pub routes: heapless::Vec<Prefix, MAX_RIO>,
    /// Route lifetime put in each RIO.
    pub route_lifetime: Duration,
    /// Act as a default router: the RA's router lifetime is [`RouterConfig::router_lifetime`]
    /// instead of 0.
    pub default_router: bool,
    /// Router lifetime when [`RouterConfig::default_router`] (RFC 4861 default 3 ×
    /// MaxRtrAdvInterval).
    pub router_lifetime: Duration,
    /// MaxRtrAdvInterval (4 s..=1800 s per RFC 4861; not enforced so tests can go faster).
    pub max_interval: Duration,
    /// MinRtrAdvInterval (3 s..=0.75 × max).
    pub min_interval: Duration,
    /// MAX_INITIAL_RTR_ADVERT_INTERVAL (16 s).
    pub max_initial_interval: Duration,
    /// MAX_INITIAL_RTR_ADVERTISEMENTS (3).
    pub initial_advertisements: u8,
    /// MIN_DELAY_BETWEEN_RAS (3 s).
    pub min_delay_between_ras: Duration,
    /// MAX_RA_DELAY_TIME (0.5 s): random delay before answering an RS.
    pub max_ra_delay: Duration,
    /// Advertise the link MTU option.
    pub advertise_mtu: Option<u32>,
}

impl RouterConfig {
    /// RFC 4861 defaults announcing `mesh` with a 30-minute route lifetime, not a default
    /// router.
    pub fn announcing(mesh: Prefix) -> Self {
        let mut routes = heapless::Vec::new();
        let _ = routes.push(mesh);
        RouterConfig {
            routes,
            route_lifetime: Duration::from_secs(1800),
            default_router: false,
            router_lifetime: Duration::from_secs(1800),
            max_interval: Duration::from_secs(600),
            min_interval: Duration::from_secs(198),
            max_initial_interval: Duration::from_secs(16),
            initial_advertisements: 3,
            min_delay_between_ras: Duration::from_secs(3),
            max_ra_delay: Duration::from_millis(500),
            advertise_mtu: None,
        }
    }
}

/// Host role on the backbone (RFC 4861 §6.3, RFC 4862).
#[derive(Clone, Copy, Debug)]
pub struct HostConfig {
    /// Form addresses from prefixes of upstream RAs (SLAAC).
    pub slaac: bool,
    /// Install a default route through routers with a non-zero router lifetime.
    pub default_route: bool,
    /// Install routes from upstream Route Information Options.
    pub accept_rio: bool,
    /// MAX_RTR_SOLICITATIONS (3).
    pub solicitations: u8,
    /// RTR_SOLICITATION_INTERVAL (4 s).
    pub solicitation_interval: Duration,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            slaac: true,
            default_route: true,
            accept_rio: false,
            solicitations: 3,
            solicitation_interval: Duration::from_secs(4),
        }
    }
}

/// Configuration of one Ethernet interface and its neighbor discovery.
#[derive(Clone, Debug)]
pub struct EthConfig {
    /// Our MAC address.
    pub mac: [u8; 6],
    /// 802.1Q handling.
    pub vlan: VlanMode,
    /// Accept every frame whatever its destination.
    pub promiscuous: bool,
    /// BaseReachableTime (30 s); ReachableTime is drawn from 0.5..1.5 × this.
    pub base_reachable_time: Duration,
    /// RetransTimer (1 s).
    pub retrans_timer: Duration,
    /// DELAY_FIRST_PROBE_TIME (5 s).
    pub delay_first_probe: Duration,
    /// MAX_MULTICAST_SOLICIT (3).
    pub max_multicast_solicit: u8,
    /// MAX_UNICAST_SOLICIT (3).
    pub max_unicast_solicit: u8,
    /// DupAddrDetectTransmits (1; 0 disables DAD).
    pub dad_transmits: u8,
    /// At most this many INCOMPLETE entries at once (RFC 6583 §7.1: a flood of resolutions
    /// must not push out working entries).
    pub max_incomplete: usize,
    /// An INCOMPLETE entry younger than this is never evicted to make room (RFC 6583 §7.1:
    /// give resolution its full MAX_MULTICAST_SOLICIT × RetransTimer).
    pub min_incomplete_age: Duration,
    /// Router role (RAs with RIOs, RS answers); `None`: not a router on the backbone.
    pub router: Option<RouterConfig>,
    /// Host role (SLAAC, default route from upstream RAs); `None`: static configuration only.
    pub host: Option<HostConfig>,
    /// Seed of the jitter generator (RFC 4861 randomised timers); mixed with the MAC.
    pub seed: u32,
}

impl EthConfig {
    /// RFC 4861 defaults for an interface with MAC `mac`, neither router nor host role.
    pub fn new(mac: [u8; 6]) -> Self {
        EthConfig {
            mac,
            vlan: VlanMode::Drop,
            promiscuous: false,
            base_reachable_time: Duration::from_secs(30),
            retrans_timer: Duration::from_secs(1),
            delay_first_probe: Duration::from_secs(5),
            max_multicast_solicit: 3,
            max_unicast_solicit: 3,
            dad_transmits: 1,
            max_incomplete: NEIGHBOR_CACHE_SIZE / 2,
            min_incomplete_age: Duration::from_secs(3),
            router: None,
            host: None,
            seed: 0x5eed_1e55,
        }
    }
}

/// Static backbone configuration (the alternative to the host role's SLAAC).
#[derive(Clone, Copy, Debug)]
pub struct StaticConfig {
    /// Address.
    pub addr: Ipv6Addr,
    /// On-link prefix length.
    pub prefix_len: u8,
    /// Default gateway, if any.
    pub gateway: Option<Ipv6Addr>,
    /// Run duplicate address detection first.
    pub dad: bool,
}
