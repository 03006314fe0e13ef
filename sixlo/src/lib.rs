//! # sixlo — the 6LoWPAN adaptation layer of sixgate
//!
//! Everything between an IEEE 802.15.4 MAC payload and an IPv6 datagram:
//!
//! - [`iphc`]: RFC 6282 IPHC header view ([`iphc::Packet`]) and semantic header
//!   ([`iphc::Repr`]) with every TF / HLIM / SAC+SAM / M+DAC+DAM mode and 16 contexts;
//! - [`nhc`]: RFC 6282 next-header compression (UDP with every port mode and optional checksum
//!   elision; IPv6 extension headers; IPv6-in-IPv6 through a nested IPHC header);
//! - [`compress()`] / [`decompress()`]: whole-datagram entry points that pick the smallest encoding
//!   automatically and decompress as a pure function of
//!   `(frame bytes, link-layer addresses, context table)` into a caller-provided buffer;
//! - [`lorh`]: RFC 8138 6LoWPAN Routing Headers on page 1 (SRH-6LoRH, RPI-6LoRH,
//!   IP-in-IP-6LoRH): always decompressed, emitted when [`CompressOptions::rfc8138`] is set;
//! - [`context`]: the 16-entry compression context table (fed by 6CO) and the DODAG root
//!   address RFC 8138 elides;
//! - [`frag`]: RFC 4944 FRAG1/FRAGN headers and a [`frag::Fragmenter`] producing the minimum
//!   number of frames for a given MAC payload budget;
//! - [`reassembly`]: a fixed-storage, bounded, timeout-driven [`reassembly::Reassembler`] that
//!   also accepts unfragmented frames, so it is the single receive entry point;
//! - [`nd`]: RFC 6775 / RFC 8505 6LoWPAN-ND option and message codecs (ARO/EARO, 6CO, ABRO,
//!   DAR/DAC);
//! - [`stats`]: one counter per drop reason ([`SixloStats`]).
//!
//! The crate is `no_std`, allocation-free and panic-free on input paths: every received byte is
//! treated as hostile, every length is checked before use, and every drop reason is counted.
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[macro_use]
mod fmt;

mod buf;
pub mod compress;
pub mod context;
pub mod decompress;
pub mod frag;
pub mod iphc;
pub mod link;
pub mod lorh;
pub mod nd;
pub mod nhc;
pub mod reassembly;
pub mod stats;

pub use compress::{CompressError, CompressOptions, Compressed, compress, compress_headers};
pub use context::{Context, ContextTable};
pub use decompress::{DecompressError, HeaderFixups, Headers, decompress, decompress_headers};
pub use frag::{Continuation, FragError, Fragmenter};
pub use link::LinkAddr;
pub use lorh::{DISPATCH_PAGE1, LorhError};
pub use reassembly::{
    Assembled, DatagramStore, PooledReassembler, Reassembler, ReassemblyConfig, ReceiveError,
    Received,
};
pub use stats::SixloStats;

/// The IPv6 minimum MTU, the default reassembly buffer size.
pub const IPV6_MIN_MTU: usize = 1280;
/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;
/// Dispatch byte of an uncompressed IPv6 datagram (RFC 4944 §5.1).
pub const DISPATCH_IPV6: u8 = 0x41;
