//! `netif` — sixgate's shared network-interface core (work in progress; see issue 2).
#![no_std]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

#[cfg(any(test, feature = "std"))]
extern crate std;

#[macro_use]
mod fmt;
pub mod time;

pub use time::{Duration, Instant};
