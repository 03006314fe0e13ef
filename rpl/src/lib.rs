//! # rpl — RPL wire formats and timers for sixgate
//!
//! The routing protocol of the mesh (RFC 6550), as a `no_std`, allocation-free, sans-IO crate:
//!
//! - [`message`]: the ICMPv6 RPL control messages (code 155) — DIS, DIO, DAO, DAO-ACK — as
//!   smoltcp-style views over bytes and semantic `Repr`s;
//! - [`option`]: the RPL control-message options (Pad1/PadN, DODAG Configuration, Prefix
//!   Information, Target, Transit Information, Solicited Information), with an iterator that
//!   rejects truncated or overlong options;
//! - [`hbh`]: the RPL Option carried in a Hop-by-Hop header (RFC 6553; option type 0x23 per
//!   RFC 9008);
//! - [`srh`]: the RPL Source Routing Header (RFC 6554) with CmprI / CmprE / Pad;
//! - [`trickle`]: the Trickle algorithm (RFC 6206) with `now` passed in;
//! - [`lollipop`]: lollipop sequence counters (RFC 6550 §7.2);
//! - [`of`]: the objective functions OF0 (RFC 6552) and MRHOF with ETX (RFC 6719);
//! - [`router`]: the control plane of an RPL router (6LR) in non-storing mode: joining,
//!   parent selection, rank rules, Trickle, local and global repair, DAOs, and the
//!   data-path checks of RFC 6550 §11.2.
//!
//! Every code point is an enum with an `Unknown` variant; every received byte is hostile: each
//! length is checked before use and parsers return errors, never panic.
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod hbh;
pub mod lollipop;
pub mod message;
pub mod of;
pub mod option;
pub mod router;
pub mod srh;
pub mod trickle;

/// Why bytes were refused by a parser of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// Fewer bytes than the fixed part or a declared length needs.
    Truncated,
    /// A field holds a value the format forbids (a length that does not fit, a reserved
    /// combination, a mandatory field out of range).
    Malformed,
}

/// The result type of this crate's parsers.
pub type Result<T> = core::result::Result<T, Error>;
