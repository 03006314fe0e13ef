//! # l2-15_4 — IEEE 802.15.4 layer 2 for sixgate
//!
//! Three parts, all `no_std`, no heap, no `unsafe`:
//!
//! - [`frame`]: a zero-copy frame view ([`frame::Frame`]) and header representation
//!   ([`frame::Repr`]) for 2003/2006/2015 beacon, data, ACK and MAC command frames, with the
//!   FCS ([`frame::fcs`], CRC-16/KERMIT).
//! - [`radio`]: the driver boundary — the [`radio::Radio`] trait, its capabilities and the
//!   events a driver (hardware, or the deterministic simulator) feeds back, and a scripted
//!   test double ([`radio::testing::ScriptedRadio`]).
//! - [`mac`]: a sans-IO soft-MAC ([`mac::Mac`]): unslotted CSMA/CA, ACK wait and retries, ACK
//!   generation, receive filtering, duplicate rejection, per-neighbour link statistics, a
//!   bounded TX queue with per-frame status, and counters. It never reads a clock: the caller
//!   passes `now` and asks [`mac::Mac::next_deadline`] when to call again.
//!
//! - [`security`]: link-layer security, sans-IO: CCM* on frames in place, Thread key
//!   derivation and rotation, replay protection and the persisted outgoing frame counter (not
//!   wired into the soft-MAC yet).
//!
//! Timing constants ([`consts`]) are for the 2.4 GHz O-QPSK PHY: 16 µs per symbol.
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(test)]
extern crate std;

#[macro_use]
mod fmt;

pub mod consts;
pub mod frame;
pub mod mac;
pub mod radio;
pub mod security;

pub use frame::{Address, Frame, FrameType, FrameVersion, PanId, Repr};
pub use mac::{Mac, MacConfig, MacIndication, MacResources, TxReport, TxRequest, TxStatus};
pub use radio::{Capabilities, Channel, Radio, RadioEvent, RxFrame, TxMode, TxOutcome};
