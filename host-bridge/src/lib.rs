//! # host-bridge — the `sixgate` command-line tool
//!
//! - [`device`]: the serial transport (handshake, requests with timeouts, unsolicited
//!   messages) over the `mgmt` protocol;
//! - [`cmd`]: one module per command, human tables or `--json`;
//! - [`error`]: errors and exit codes;
//! - [`pcap_decode`]: offline 802.15.4 capture → raw IPv6 capture (no device needed).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod cmd;
pub mod device;
pub mod error;
pub mod pcap_decode;
