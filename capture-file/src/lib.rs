//! # capture-file — sixgate's capture files
//!
//! The one place that reads and writes capture files, for every host-side user: the simulator's
//! medium and backbone recordings (`sim`), the Linux board's `--capture` and `--inject`
//! (`sixgate-sim`), and the CLI's `sixgate capture` and `sixgate pcap decode` (`host-bridge`).
//!
//! - [`pcapng`]: a pcapng writer — Section Header, one Interface Description per interface
//!   (`if_name`, `if_tsresol` = µs), Enhanced Packet and Interface Statistics (drop counts)
//!   blocks;
//! - [`tap`]: the IEEE 802.15.4 TAP pseudo-header (LINKTYPE_IEEE802_15_4_TAP): its TLVs
//!   written from [`tap::TapInfo`] and read back for the FCS type;
//! - [`read`]: IEEE 802.15.4 frames out of a classic pcap (either byte order, µs or ns) or a
//!   pcapng (either byte order, `if_tsresol`), and how much of a damaged file is intact;
//! - [`pcap`]: a classic pcap writer (e.g. LINKTYPE_IPV6 for `sixgate pcap decode`).
//!
//! Why not the `pcap-file` crate: its latest stable release (2.0.0) ignores `if_tsresol` on
//! Enhanced Packet Blocks (it reads and writes every timestamp in one fixed resolution; the fix
//! is only in the 3.0.0 release candidates), it has no 802.15.4 TAP support (the TLVs would be
//! built by hand anyway), and its readers stop at the first damaged block where `sixgate pcap
//! decode` must keep the intact part and say where the damage starts. The formats need only a
//! few hundred lines here, every length checked.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod pcap;
pub mod pcapng;
pub mod read;
pub mod tap;

/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u16 = 1;
/// LINKTYPE_IEEE802_15_4_WITHFCS: the PSDU with its FCS.
pub const LINKTYPE_IEEE802_15_4_WITHFCS: u16 = 195;
/// LINKTYPE_IPV6: raw IPv6 packets, no link-layer header.
pub const LINKTYPE_IPV6: u16 = 229;
/// LINKTYPE_IEEE802_15_4_NOFCS: the PSDU without its FCS.
pub const LINKTYPE_IEEE802_15_4_NOFCS: u16 = 230;
/// LINKTYPE_IEEE802_15_4_TAP: a TLV pseudo-header ([`tap`]), then the PSDU (with its FCS when
/// the FCS-type TLV says so).
pub const LINKTYPE_IEEE802_15_4_TAP: u16 = 283;

pub use pcapng::{DEFAULT_APPLICATION, InterfaceDesc, PcapngWriter, SharedBuf};
pub use read::{CaptureContents, CapturedFrame, PcapError, intact_len, read_15_4};
pub use tap::TapInfo;
