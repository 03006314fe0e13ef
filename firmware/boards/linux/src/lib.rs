//! # sixgate-sim — the Linux board
//!
//! The border-router application (`firmware`, the same `no_std` library the nRF52840 image
//! links) wired to a Linux process instead of an MCU, as Zephyr's `native_sim` board does:
//!
//! - [`simnet`]: the border router as a node of the simulated 802.15.4 medium (`sim`), with
//!   `eth0` on a simulated backbone cable to a simulated host or on a Linux TAP device, and a
//!   whole scenario ([`simnet::World`]) of smoltcp mesh nodes sending readings;
//! - [`pty`]: the serial line, a pseudo-terminal that `sixgate` opens like any serial device;
//! - [`faults`]: the fault schedule (`--kill-node`, `--revive-node`) and how nodes are named;
//! - [`file_store`]: the configuration store, one file written atomically (the board's flash
//!   pages on the MCU).
//!
//! The `sixgate-sim` binary (`src/bin/sixgate-sim.rs`) is the command line over these; the
//! simulator-driven end-to-end tests (`tests/`) drive them directly. Captures are written and
//! read with the `capture-file` crate.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod faults;
pub mod file_store;
pub mod pty;
pub mod simnet;
pub mod summary;
