//! # sim — the deterministic 802.15.4 medium and simulated mesh nodes
//!
//! - [`medium`]: a virtual-time, seeded radio medium. Each attached radio implements
//!   [`l2_15_4::Radio`] through [`medium::SimRadio`]; the medium accounts air time, answers
//!   CCA, destroys overlapping frames at each receiver, applies per-link loss, RSSI and LQI
//!   from a [`topology::Topology`], separates channels, and can record every frame to pcapng
//!   (with the `capture-file` crate).
//! - [`topology`]: link matrices, a path-loss model and presets (star, line, grid, random).
//! - [`node`]: the [`node::SimNode`] abstraction, the [`node::Simulator`] event loop, the fault
//!   schedule and real-time pacing.
//! - [`smol`]: leaf nodes whose IPv6/6LoWPAN stack is smoltcp, over our soft-MAC; [`mac_node`]:
//!   raw soft-MAC nodes.
//! - [`rng`]: the seeded PRNG everything random draws from.
//! - [`backbone`]: the Ethernet side: an in-memory cable ([`EthLink`], whose ends implement
//!   `ethernet::Driver`) and a smoltcp host on it ([`BackboneHost`]: collector, echo, ping,
//!   ICMPv6 log).
//! - [`zep`]: the ZEP v2 codec (802.15.4 frames in UDP, as RIOT OS and Wireshark speak it);
//!   [`peers`]: RIOT OS nodes as Linux processes (found or built, started, stopped by
//!   process group); [`zep_bridge`]: ZEP peers (those RIOT nodes, or any stack speaking ZEP)
//!   as radios of the medium, in real time.
//!
//! Identical seeds and inputs give identical runs, captures included, byte for byte.
//!
//! ## Attaching another radio (e.g. the border router)
//!
//! A driver outside the simulator attaches a radio with [`Medium::attach`], builds its own
//! `l2_15_4::Mac` over `medium.radio(id)` (a [`SimRadio`], which implements `Radio`), and
//! drives time itself: `medium.next_event_time()` (with its MAC's `next_deadline()`),
//! `medium.advance_to(t)`, then `medium.take_events(id)` and `mac.handle_event(t,
//! ev.as_radio_event(), &mut medium.radio(id))`. Inside a [`Simulator`], implement
//! [`SimNode`] instead and add it with [`Simulator::add_node`] / [`Simulator::spawn`].
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod backbone;
pub mod mac_node;
pub mod medium;
pub mod node;
pub mod peers;
pub mod rng;
pub mod smol;
pub mod topology;
pub mod zep;
pub mod zep_bridge;

pub use backbone::{
    BackboneHost, BackboneHostConfig, End, EthFrame, EthLink, EthLinkConfig, EthPort, Reading,
};
pub use medium::{
    CaptureMode, Medium, MediumConfig, RadioConfig, RadioCounters, RadioId, SimEvent, SimRadio,
};
pub use node::{Fault, NodeId, SimConfig, SimNode, SimStats, Simulator};
pub use topology::{Link, PathLoss, Topology};
