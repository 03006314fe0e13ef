//! The scripted far ends of the QEMU board: what sits at the other end of `wpan0` and `eth0`
//! when there is no radio and no Ethernet chip.
//!
//! - [`mesh::Mesh`]: a few 802.15.4 nodes on a [`ScriptedRadio`](l2_15_4::radio::testing::ScriptedRadio)
//!   that register (NS with ARO), send UDP readings to the backbone host (some fragmented, one
//!   with hop limit 1 so the router answers ICMPv6 Time Exceeded), acknowledge the router's
//!   frames and answer its echo requests;
//! - [`backbone::Backbone`]: an in-memory [`ethernet::Driver`] whose far end is a backbone host
//!   and router (RAs with a SLAAC prefix, NS → NA, echo, the collector on UDP port 42000: no common Wireshark dissector claims 42000 or 42001);
//! - [`bench`] and [`ccm`]: the measurement mode's packet legs and its CCM* per frame.
//!
//! `no_std` and allocation-free, so the same code runs inside the image and, in this crate's
//! tests, against the application on the host (`cargo test --lib --target
//! x86_64-unknown-linux-gnu`), where a scenario takes milliseconds instead of a QEMU boot.
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod backbone;
pub mod bench;
pub mod ccm;
pub mod far;
pub mod mesh;
pub mod packet;

#[cfg(test)]
mod tests;
