//! `ethernet` — sixgate's backbone side.
//!
//! - [`wire`]: Ethernet II header (802.1Q tag skipped or dropped), IPv6 multicast →
//!   `33:33:xx:xx:xx:xx` mapping, the RFC 4191 Route Information Option.
//! - [`EthernetL2`]: the netif [`netif::L2`] for Ethernet: destination MAC filter (ours,
//!   broadcast, joined groups, or all when promiscuous), IPv6 only (everything else counted
//!   and dropped), next-hop resolution through the [`neighbor`] cache with the full NUD state
//!   machine and bounded per-neighbor queues.
//! - [`ndp`]: neighbor discovery on the backbone (RFC 4861/4862): NS/NA (answering,
//!   resolving, NUD probes, DAD and defending our addresses), router role (periodic RAs and
//!   RS answers carrying a Route Information Option for the mesh prefix), host role (SLAAC,
//!   default route) and static configuration. Every ND input is validated ([`nd`]).
//! - [`driver::Driver`]: the tiny driver trait; [`tap`] (feature `std`): the Linux TAP driver.
//!
//! `no_std`, no heap: every capacity is in [`config`]; every drop has a counter
//! ([`EthStats`], [`NdStats`]).
//!
//! # Wiring into a netif stack
//!
//! ```ignore
//! let mut eth = EthernetL2::new(EthConfig { router: Some(RouterConfig::announcing(mesh)), ..EthConfig::new(mac) });
//! let i = stack.add_iface(now, &eth.iface_config("eth0", true))?;
//! eth.attach(&mut stack, i)?;                 // registers the ND handler (ICMPv6 133..=137)
//! stack.set_admin(now, i, &mut eth, true)?;
//! loop {
//!     while let Some(h) = EthernetL2::receive_from(stack.pool_mut(), &mut drv)? {
//!         match stack.receive(now, i, &mut eth, h) {
//!             Outcome::Local(d) => if let Some(d) = eth.handle_local(&mut stack, now, d) { app(d) },
//!             _ => {}
//!         }
//!     }
//!     eth.poll(now, &mut stack);               // NUD, DAD, RA/RS timers, address unreachable
//!     stack.poll(now);
//!     stack.transmit(now, i, &mut eth);        // core TX queues → Ethernet frames
//!     eth.flush_to(stack.pool_mut(), &mut drv)?; // frames → driver
//!     // sleep until a frame arrives or eth.poll_at()
//! }
//! ```
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(any(test, feature = "std"))]
extern crate std;

#[macro_use]
mod fmt;

pub mod config;
pub mod driver;
pub mod eth;
pub mod nd;
pub mod ndp;
pub mod neighbor;
pub mod stats;
#[cfg(feature = "std")]
pub mod tap;
pub mod wire;

pub use config::{EthConfig, HostConfig, RouterConfig, StaticConfig, VlanMode};
pub use driver::Driver;
pub use eth::{EthernetL2, NdEvent};
pub use ndp::AddrError;
pub use neighbor::{NeighborInfo, NeighborState};
pub use stats::{EthStats, NdStats};
