//! The L2 contract (after Zephyr's `net_l2`): how a link layer plugs into the core.
//!
//! - [`L2::recv`] takes a received frame and answers with a [`Verdict`]: `Drop` (erroneous: the
//!   core frees and counts it), `Ok` (fully consumed by the L2, e.g. a fragment it keeps for
//!   reassembly) or `Continue` (an IPv6 packet is ready at the packet's head).
//! - [`L2::send`] adds link-layer framing and queues the packet for the driver; it takes the
//!   packet over in every case (on error it has already freed it).
//! - [`L2::enable`] brings traffic on the interface up or down.
//! - [`L2::flags`] declares what the link can do ([`L2Flags`]).
//!
//! Ownership of packets is explicit: `recv` gets the handle by value and gives it back inside
//! `Drop`/`Continue`, so a buffer can never be silently lost between the layers.
//! [`crate::dummy::DummyL2`] is the reference implementation.

use core::fmt;
use core::ops::BitOr;

use crate::iface::Iface;
use crate::pool::{PacketHandle, PacketPool};
use crate::time::Instant;

/// What an L2 says about a received frame.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Erroneous frame: the core frees the buffer and counts a drop.
    Drop(PacketHandle),
    /// Consumed by the L2 (kept for later, or already freed by it).
    Ok,
    /// An IPv6 packet starts at the packet's head: hand it to the core.
    Continue(PacketHandle),
}

/// Link capabilities and behaviour the core must respect.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct L2Flags(u8);

impl L2Flags {
    /// No flags.
    pub const EMPTY: L2Flags = L2Flags(0);
    /// The link supports multicast (IPv6 multicast is mapped to link multicast).
    pub const MULTICAST: L2Flags = L2Flags(1 << 0);
    /// Do not join solicited-node groups automatically (6LoWPAN-ND does without them).
    pub const NO_AUTO_JOIN_SOLICITED: L2Flags = L2Flags(1 << 1);
    /// The link is in promiscuous mode.
    pub const PROMISC_MODE: L2Flags = L2Flags(1 << 2);
    /// Point-to-point link: no link-layer addresses, no address resolution.
    pub const POINT_TO_POINT: L2Flags = L2Flags(1 << 3);

    /// True when every flag of `other` is set.
    pub const fn contains(self, other: L2Flags) -> bool {
        self.0 & other.0 == other.0
    }
    /// Raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }
}

impl BitOr for L2Flags {
    type Output = L2Flags;
    fn bitor(self, o: L2Flags) -> L2Flags {
        L2Flags(self.0 | o.0)
    }
}

impl fmt::Debug for L2Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (L2Flags::MULTICAST, "MULTICAST"),
            (L2Flags::NO_AUTO_JOIN_SOLICITED, "NO_AUTO_JOIN_SOLICITED"),
            (L2Flags::PROMISC_MODE, "PROMISC_MODE"),
            (L2Flags::POINT_TO_POINT, "POINT_TO_POINT"),
        ];
        let mut first = true;
        for (flag, name) in names {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("EMPTY")?;
        }
        Ok(())
    }
}

/// Why [`L2::send`] failed. The packet is gone (freed by the L2) in every case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SendError {
    /// The interface is down.
    Down,
    /// The driver's queue is full.
    QueueFull,
    /// Not enough headroom (or a buffer) to add the link-layer header.
    NoBuffer,
    /// The packet does not fit the link even after adaptation.
    TooBig,
    /// The next hop's link-layer address could not be found (the L2 may report it to the core
    /// with [`crate::Stack::address_unreachable`] instead, to get an ICMPv6 error sent).
    Unresolved,
    /// The packet was malformed.
    Invalid,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::Down => "interface down",
            SendError::QueueFull => "driver queue full",
            SendError::NoBuffer => "no buffer for link-layer framing",
            SendError::TooBig => "packet too big for the link",
            SendError::Unresolved => "next hop unresolved",
            SendError::Invalid => "malformed packet",
        })
    }
}
impl core::error::Error for SendError {}

/// Why [`L2::enable`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EnableError {
    /// The driver refused (hardware fault, not initialised).
    Driver,
}

impl EnableError {
    /// The message [`fmt::Display`] prints, for callers that avoid `core::fmt`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            EnableError::Driver => "the driver refused to change state",
        }
    }
}

impl fmt::Display for EnableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl core::error::Error for EnableError {}

/// What an L2 gets on each call: the time, its interface (read-only) and the packet pool.
pub struct L2Context<'a, 'r> {
    /// Current time.
    pub now: Instant,
    /// The interface the call is for.
    pub iface: &'a Iface,
    /// The packet pool, to read/prepend headers or take buffers (e.g. for reassembly).
    pub pool: &'a mut PacketPool<'r>,
}

/// A link layer (see the module docs for the contract).
pub trait L2 {
    /// Parse the link framing of a received frame.
    fn recv(&mut self, cx: &mut L2Context<'_, '_>, pkt: PacketHandle) -> Verdict;
    /// Frame an IPv6 packet (next hop in its metadata) and queue it for the driver. Returns
    /// the number of bytes queued. Takes the packet over in every case.
    fn send(&mut self, cx: &mut L2Context<'_, '_>, pkt: PacketHandle) -> Result<usize, SendError>;
    /// Bring traffic up or down.
    fn enable(&mut self, cx: &mut L2Context<'_, '_>, up: bool) -> Result<(), EnableError>;
    /// Capabilities of this link.
    fn flags(&self) -> L2Flags;
    /// Whether the link can reach the next hop of `pkt` (in its metadata) without asking
    /// the link, and how large a packet it carries there; asked once per packet before
    /// [`L2::send`]. [`Reach::Unresolved`] makes the core drop it with Destination
    /// Unreachable, code 3 ([`crate::Stack::address_unreachable`]); a [`Reach::Resolved`]
    /// MTU below the packet's length (a link that adds headers of its own toward some
    /// destinations, like an RPL root's source-routing tunnel, RFC 9008) makes the core
    /// answer Packet Too Big with it. By default every next hop is reachable at the interface
    /// MTU (links that resolve by asking, like Ethernet's ND, report failures later).
    fn reach(&self, _pool: &PacketPool<'_>, _pkt: &PacketHandle) -> Reach {
        Reach::Resolved { mtu: None }
    }
}

/// What [`L2::reach`] says of a packet's next hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The link cannot resolve it.
    Unresolved,
    /// Resolved; `mtu` is the largest packet the link carries there when below the
    /// interface's MTU (`None`: the interface MTU).
    Resolved {
        /// The path MTU, when smaller than the interface's.
        mtu: Option<u16>,
    },
}
