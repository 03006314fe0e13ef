//! # firmware — the sixgate border-router application
//!
//! The product: one netif core with two interfaces, `wpan0` (IEEE 802.15.4 soft-MAC from
//! `l2-15_4` + 6LoWPAN from `sixlo`) and `eth0` (the `ethernet` crate), forwarding IPv6 between
//! the mesh and the backbone, with the 6LoWPAN border router (6LBR) role of RFC 6775 / RFC 8505
//! on the mesh.
//!
//! - [`config`]: the one [`config::Config`] (mesh prefix, PAN ID, channel, EUI-64, backbone
//!   addressing, RA timers), its validation and its persistent encoding;
//! - [`store`]: where the encoded configuration lives (a file on the simulator, flash on the
//!   board);
//! - [`capture`]: the bounded capture ring fed at both L2 boundaries.
//!
//! The crate is `no_std` and allocation-free, with no default features: the nRF52840 image
//! (`firmware/boards/nrf52840`) and the Linux board (`firmware/boards/linux`, the `sixgate-sim`
//! process with its simulated radio, TAP or simulated backbone, PTY serial and file store) link
//! the same library. The `std` feature only adds std conveniences at the edges for host builds.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[macro_use]
mod fmt;

pub mod app;
pub mod capture;
pub mod config;
pub mod counters;
pub mod lbr;
pub mod mgmt;
pub mod ping;
pub mod registry;
pub mod root;
#[cfg(feature = "router-role")]
pub mod router;
pub mod store;
pub mod wpan;
