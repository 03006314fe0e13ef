//! # host-bridge — the `sixgate` command-line tool
//!
//! - [`pcap_decode`]: offline 802.15.4 capture → raw IPv6 capture (no device needed).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod pcap_decode;
