//! Capacities and configuration, in one place.
//!
//! Every fixed capacity of the core is either a const generic of [`Resources`] (the storage
//! the application allocates statically and lends to [`crate::Stack`]) or one of the constants
//! below. Nothing in the core allocates; exhaustion of any of them is counted, never a panic.

use crate::event::Event;
use crate::pool::{PacketHandle, Slot};
use crate::route::Route;
use crate::tc::DscpMap;

/// Interfaces in the table. Two: the border router has exactly `wpan0` and `eth0`, and each
/// slot costs RAM whether used or not (an interface's address and group tables, plus
/// [`MAX_CLASSES`] queues of `QUEUE_DEPTH` handles in [`Resources`]). Raise it for a product
/// with more links; adding one more is refused with [`crate::stack::IfaceError::TableFull`].
pub const MAX_IFACES: usize = 2;
/// Unicast addresses per interface.
pub const MAX_UNICAST_PER_IFACE: usize = 6;
/// Multicast groups per interface (all-nodes, all-routers, one solicited-node per address…).
pub const MAX_MULTICAST_PER_IFACE: usize = 12;
/// Prefixes in an [`crate::IngressPolicy::SourcePrefixes`] policy.
pub const MAX_INGRESS_PREFIXES: usize = 4;
/// Destinations the ICMPv6 error rate limiter keeps buckets for; a new destination takes the
/// place of the one with the fullest buckets, counted in
/// [`crate::stats::CoreStats::icmp_limiter_evictions`] (see `icmp::limit`). 32 bytes each.
pub const ICMP_PEERS: usize = 4;
/// Pool buffers the TX queues of one interface always leave to receive: an interface holds
/// at most `PACKETS - RX_RESERVE` queued packets (half the pool, rounded up, in a pool too
/// small for that), all classes together, so a flood toward one
/// link (in any mix of traffic classes) cannot take the buffers every received frame needs.
/// A packet beyond it is dropped and counted as [`crate::DropReason::QueueFull`].
pub const RX_RESERVE: usize = 4;
/// Traffic classes (TX queues) per interface at most.
pub const MAX_CLASSES: usize = 8;
/// Registered local handlers.
pub const MAX_HANDLERS: usize = 8;
/// Default headroom reserved in front of a new packet: enough for an ICMPv6 error's IPv6 and
/// ICMPv6 headers (48 bytes) and any link-layer header we prepend (Ethernet + 802.1Q: 18).
pub const DEFAULT_HEADROOM: usize = 64;
/// The IPv6 minimum MTU (RFC 8200): the mesh's MTU, and the cap on ICMPv6 error size.
pub const IPV6_MIN_MTU: usize = 1280;
/// Default packet buffer size: the IPv6 minimum MTU plus headroom.
pub const DEFAULT_BUF_SIZE: usize = IPV6_MIN_MTU + DEFAULT_HEADROOM;

/// Statically allocatable storage for one [`crate::Stack`].
///
/// - `PACKETS` buffers of `BUF` bytes each (default 16 × (1280 + 64)),
/// - `ROUTES` routing-table entries (default 16),
/// - `QUEUE_DEPTH` packets per traffic-class queue per interface (default 8),
/// - `EVENTS` pending events (default 16).
///
/// ```
/// let mut res = netif::Resources::<16, { netif::config::DEFAULT_BUF_SIZE }, 16, 8, 16>::new();
/// let stack = netif::Stack::new(netif::StackConfig::default(), &mut res);
/// assert_eq!(stack.pool().capacity(), 16);
/// ```
pub struct Resources<
    const PACKETS: usize = 16,
    const BUF: usize = DEFAULT_BUF_SIZE,
    const ROUTES: usize = 16,
    const QUEUE_DEPTH: usize = 8,
    const EVENTS: usize = 16,
> {
    pub(crate) buffers: [[u8; BUF]; PACKETS],
    pub(crate) slots: [Slot; PACKETS],
    pub(crate) routes: [Option<Route>; ROUTES],
    pub(crate) queues: [[Option<PacketHandle>; QUEUE_DEPTH]; MAX_IFACES * MAX_CLASSES],
    pub(crate) events: [Event; EVENTS],
}

impl<const P: usize, const B: usize, const R: usize, const Q: usize, const E: usize>
    Resources<P, B, R, Q, E>
{
    /// Empty storage (a `const fn`, so it can live in a `static`).
    pub const fn new() -> Self {
        Resources {
            buffers: [[0; B]; P],
            slots: [Slot::FREE; P],
            routes: [None; R],
            queues: [const { [const { None }; Q] }; MAX_IFACES * MAX_CLASSES],
            events: [Event::None; E],
        }
    }
}

impl<const P: usize, const B: usize, const R: usize, const Q: usize, const E: usize> Default
    for Resources<P, B, R, Q, E>
{
    fn default() -> Self {
        Self::new()
    }
}

/// A token-bucket rate: `per_sec` tokens added a second, at most `burst` kept. A zero rate
/// or burst lets nothing through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Tokens added per second.
    pub per_sec: u32,
    /// Bucket size.
    pub burst: u32,
}

/// Behaviour of the core.
#[derive(Clone, Debug)]
pub struct StackConfig {
    /// Headroom reserved in front of new packets.
    pub headroom: usize,
    /// Hop limit of packets the core originates (echo replies, ICMPv6 errors).
    pub hop_limit: u8,
    /// ICMPv6 errors other than Packet Too Big, to one destination (the invoking packet's
    /// source): tokens added per second (RFC 4443 §2.4(f)). Each destination has its own
    /// bucket, so one host's flood does not silence the errors owed to another.
    pub icmp_errors_per_sec: u32,
    /// ICMPv6 errors other than Packet Too Big, to one destination: bucket size (burst).
    pub icmp_error_burst: u32,
    /// ICMPv6 errors other than Packet Too Big, to all destinations together.
    pub icmp_errors_total: RateLimit,
    /// Packet Too Big to one destination: a budget of its own, which other errors never
    /// spend (path-MTU discovery must survive an error flood).
    pub ptb_per_dest: RateLimit,
    /// Packet Too Big to all destinations together.
    pub ptb_total: RateLimit,
    /// Number of traffic classes in use (1..=8).
    pub classes: u8,
    /// DSCP → traffic class map.
    pub dscp_map: DscpMap,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            headroom: DEFAULT_HEADROOM,
            hop_limit: 64,
            icmp_errors_per_sec: 10,
            icmp_error_burst: 10,
            icmp_errors_total: RateLimit {
                per_sec: 20,
                burst: 20,
            },
            ptb_per_dest: RateLimit {
                per_sec: 10,
                burst: 10,
            },
            ptb_total: RateLimit {
                per_sec: 50,
                burst: 50,
            },
            classes: MAX_CLASSES as u8,
            dscp_map: DscpMap::rfc8325(MAX_CLASSES as u8),
        }
    }
}
