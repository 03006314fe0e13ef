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
//! The crate is `no_std` and allocation-free unless the `std` feature is on (the `sim` feature,
//! on by default for host builds, adds the `sixgate-sim` binary).
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
#[cfg(feature = "sim")]
pub mod pcapread;
pub mod ping;
#[cfg(feature = "sim")]
pub mod pty;
pub mod registry;
#[cfg(feature = "sim")]
pub mod simnet;
pub mod store;
pub mod wpan;
