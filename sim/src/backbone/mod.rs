//! The simulated backbone: an Ethernet cable ([`EthLink`]) and a host on it
//! ([`BackboneHost`]), all in memory and in virtual time.
//!
//! ## The cable
//!
//! [`EthLink`] is a lossless, point-to-point Ethernet cable with two ends, [`End::A`] and
//! [`End::B`] (by convention A is the border router's `eth0` and B the backbone host). Each
//! end is an [`EthPort`], which implements [`ethernet::Driver`], so the border router's
//! Ethernet L2 drives it exactly as it drives the Linux TAP device. Frames are whole Ethernet
//! frames without FCS. Each direction has a bounded queue ([`EthLinkConfig::queue_cap`],
//! [`DEFAULT_QUEUE_CAP`] by default): a full queue makes `transmit` answer `Ok(false)` (busy,
//! counted in [`EthDirCounters::busy`]) and the frame stays with the sender.
//!
//! Nothing runs on its own: there are no threads and no clock. The link keeps a virtual
//! "now" that the driver loop moves forward with [`EthLink::advance_to`] (a [`BackboneHost`]
//! does it in its [`BackboneHost::poll`]); [`ethernet::Driver::transmit`], which takes no
//! time argument, stamps frames with it. An optional one-way latency
//! ([`EthLinkConfig::latency`]) holds each frame back until `sent + latency`;
//! [`EthLink::next_delivery`] says when to wake for it.
//!
//! Every frame that enters the cable can be observed: per-direction counters
//! ([`EthLink::counters`]), an in-memory log ([`EthLink::set_capture`],
//! [`EthLink::take_captured`]) and a callback ([`EthLink::set_tap`]). `sixgate-sim` records
//! `eth0` in pcapng through either, with [`capture_file::PcapngWriter::write_packet`] on
//! interface LINKTYPE_ETHERNET.
//!
//! The ends share the cable through an `Rc<RefCell<…>>`: an [`EthPort`] is an owned value
//! (`'static`), so the border router can keep its end for as long as it likes while the host
//! and the driver loop hold clones of the [`EthLink`]. Single-threaded by design.
//!
//! ## The host
//!
//! [`BackboneHost`] is a smoltcp 0.14 `Interface` (`Medium::Ethernet`) on one end of the
//! cable — an IPv6 stack we did not write, standing for a server on the backbone. It has a
//! link-local address (modified EUI-64 of its MAC) and the configured address, an optional
//! default route and static routes (e.g. the mesh prefix via the border router), and runs:
//! - a UDP **collector** ([`BackboneHostConfig::collector_port`]) that logs every datagram
//!   as a [`Reading`], counts them per source ([`BackboneHost::readings_by_source`]) and,
//!   with [`BackboneHostConfig::reply_to_readings`], answers each with `b"ack"` followed by
//!   the datagram's first 12 bytes, to the sender's address and port;
//! - an optional UDP echo service;
//! - ping ([`BackboneHost::ping`]) and a general UDP socket ([`BackboneHost::send_udp`],
//!   [`BackboneHost::udp_received`]) whose hop limit can be set
//!   ([`BackboneHost::set_hop_limit`]);
//! - a log of every ICMPv6 message addressed to it ([`BackboneHost::icmp_log`]);
//! - optionally, router advertisements with a Prefix Information Option
//!   ([`BackboneHostConfig::ra`], [`HostRa`]), as the backbone's router does for SLAAC hosts
//!   (the border router's product default); [`BackboneHost::send_ra`] sends any RA at once,
//!   a rogue one included. smoltcp sends no RAs: these are written onto the cable directly.
//!
//! smoltcp quirk met here: its neighbor cache rate-limits solicitations globally, not per
//! address — after resolving one neighbor, the first packet to a second unknown neighbor
//! waits up to 1 s (virtual time; [`BackboneHost::next_wake`] reports it).
//!
//! ### What ICMPv6 errors can be observed (smoltcp 0.14)
//!
//! smoltcp never reports an ICMPv6 error to the UDP socket that caused it. An `icmp::Socket`
//! bound to `Endpoint::Ident(id)` receives only echo requests and replies carrying `id`; one
//! bound to `Endpoint::Udp(port)` receives Destination Unreachable and Time Exceeded whose
//! quoted packet is UDP from `port` — and only when the quote holds the whole datagram with
//! a valid UDP checksum, so an error about a datagram too large to quote whole (e.g. a
//! 1280-byte one) is never matched. Packet Too Big and Parameter Problem reach no
//! `icmp::Socket` at all. So the host listens with a
//! **raw socket** (`socket-raw`, IPv6, next header ICMPv6): smoltcp hands every ICMPv6 packet
//! addressed to one of the host's addresses to raw sockets before its own processing (which
//! still runs: echo replies, neighbor discovery), so Packet Too Big (with its MTU), Time
//! Exceeded, Destination Unreachable, Parameter Problem, echo and ND messages are all logged
//! as [`IcmpRecord`]s, with the quoted packet's addresses and ports ([`Invoking`]). Not
//! observable: ICMPv6 carried after IPv6 extension headers (the raw socket matches the first
//! next header only), and anything smoltcp drops before that point (a destination that is not
//! one of the host's addresses, a malformed IPv6 header). smoltcp does no path-MTU discovery:
//! a Packet Too Big is logged but later datagrams are not made smaller.
//!
//! The cable lives in `cable.rs`, the host in `host.rs` (its configuration in
//! `host_config.rs`); all are re-exported here.

mod cable;
mod host;
mod host_config;

pub use cable::{
    DEFAULT_MAX_FRAME, DEFAULT_QUEUE_CAP, End, EthDirCounters, EthFrame, EthLink, EthLinkConfig,
    EthPort, EthTap,
};
pub use host::{BackboneHost, Datagram, HostCounters, IcmpRecord, Invoking, Reading};
pub use host_config::{
    BackboneHostConfig, DEFAULT_COLLECTOR_PORT, HostConfigError, HostRa, MAX_ROUTES,
};
