//! `netif` — sixgate's shared network-interface core.
//!
//! One core serves every interface of the border router (the 802.15.4 mesh side `wpan0` and
//! the Ethernet backbone `eth0`): an interface table, a packet pool with headroom, IPv6 input
//! with validation and local delivery, a longest-prefix-match routing table, forwarding with
//! RFC 4443 errors (rate limited), traffic classes with strict-priority TX queues, per-reason
//! drop counters and a bounded event queue.
//!
//! It is `no_std`, uses no heap (every capacity lives in [`Resources`] or
//! [`config`]), and is sans-IO: every entry point takes `now`, and link layers plug in through
//! the [`L2`] contract (after Zephyr's `net_l2`).
//!
//! Data flow of a received frame:
//! 1. the application allocates a buffer ([`PacketPool::alloc`]), fills it with the frame and
//!    calls [`Stack::receive`] with the interface's [`L2`];
//! 2. the L2 strips its framing and answers [`Verdict::Continue`] with the IPv6 packet;
//! 3. the core validates it, applies the ingress policy and hop-by-hop options, then delivers
//!    it (echo requests are answered in place; other protocols go to registered handlers as
//!    [`Outcome::Local`]) or forwards it to the TX queue of the egress interface;
//! 4. the application drains queues into the L2s with [`Stack::transmit`].
//!
//! See `examples/forward.rs` for the whole flow on two [`dummy::DummyL2`] links.
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(any(test, feature = "std"))]
extern crate std;

#[macro_use]
mod fmt;

pub mod addr;
pub mod checksum;
pub mod config;
pub mod dummy;
pub mod event;
pub mod ext_header;
pub mod icmp;
pub mod iface;
pub mod l2;
pub mod pool;
pub mod route;
pub mod stack;
pub mod stats;
pub mod tc;
pub mod time;

pub use addr::{LinkAddr, Prefix};
pub use config::{RateLimit, Resources, StackConfig};
pub use event::Event;
pub use iface::{AddrState, IfAddr, IfIndex, Iface, IfaceConfig, IngressPolicy, Lifetimes};
pub use l2::{L2, L2Context, L2Flags, Reach, SendError, Verdict};
pub use pool::{PacketHandle, PacketMeta, PacketPool};
pub use route::{Route, RouteAction, RouteOrigin};
pub use stack::{HandlerId, LocalDelivery, Match, Outcome, Stack};
pub use stats::{DropReason, IfaceStats};
pub use time::{Duration, Instant};
