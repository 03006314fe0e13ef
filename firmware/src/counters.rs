//! The value walk of the device's counter list: [`for_each_value`] reads every counter that
//! `sixgate stats` lists, in protocol order.
//!
//! The list itself is the protocol's ([`mgmt::counter_list!`], with the names,
//! [`FINGERPRINT`] and [`COUNT`] in [`mgmt::counters`]); this file expands the same list
//! over the device's statistics structs. The device sends values only
//! ([`mgmt::Response::Stats`]) and the host names them, so the roughly 230 names (about
//! 3.5 KB) stay out of the board's flash.
//!
//! Every statistics struct is destructured without `..` (a field left out is named with
//! `skip` in the list), so a counter added to any layer fails to compile here until it is
//! listed in `mgmt`, and so reaches `sixgate stats`.

pub(crate) use mgmt::counters::{COUNT, FINGERPRINT};

use crate::app::App;
use crate::mgmt::MgmtStats;

// The types the list names, for the value walk's patterns.
use crate::app::{AppStats, Status};
use crate::capture::CaptureStats;
use crate::lbr::{ApStats, LbrStats};
use crate::ping::PingStats;
use crate::registry::{RegistryStats, TargetStats};
use crate::root::RootStats;
use crate::wpan::WpanStats;
use ethernet::stats::{EthStats, NdStats};
use l2_15_4::mac::MacCounters;
use l2_15_4::security::SecurityStats;
use mgmt::frame::DecoderStats;
use netif::pool::PoolStats;
use netif::stats::{CoreStats, DropReason, IfaceStats};
use sixlo::SixloStats;

/// netif's drop reasons are the protocol's: same labels, same order.
const DROP_REASONS_MATCH: () = {
    let ours = mgmt::counters::DROP_REASONS;
    assert!(
        DropReason::ALL.len() == ours.len(),
        "a netif drop reason is missing from mgmt::counters::DROP_REASONS"
    );
    let mut i = 0;
    while i < ours.len() {
        let (a, b) = (DropReason::ALL[i].label().as_bytes(), ours[i].as_bytes());
        assert!(
            a.len() == b.len(),
            "netif's drop reasons differ from mgmt::counters::DROP_REASONS"
        );
        let mut j = 0;
        while j < a.len() {
            assert!(
                a[j] == b[j],
                "netif's drop reasons differ from mgmt::counters::DROP_REASONS"
            );
            j += 1;
        }
        i += 1;
    }
};

/// A counter's value in the width `W` its group is walked in (see [`Group`]).
trait Value<W>: Copy {
    fn value(self) -> W;
}
macro_rules! value_from {
    ($W:ty: $($t:ty),*) => {$(
        impl Value<$W> for $t {
            fn value(self) -> $W {
                <$W>::from(self)
            }
        }
    )*};
}
value_from!(u32: u8, u16, u32);
value_from!(u64: u8, u16, u32, u64);
impl Value<u64> for usize {
    fn value(self) -> u64 {
        // usize is at most 64 bits on every target sixgate builds for.
        self as u64
    }
}

/// The width a statistics struct's counters are walked in: `u32` where every listed field is
/// 32 bits or less (a load and a store each; widening them to `u64` cost a third store and
/// about 1.3 KB of the board's flash), `u64` otherwise. A wider field in a `u32` group does
/// not compile (no `Value<u32>` for it).
trait Group {
    type W: Copy + Into<u64>;
}
macro_rules! groups {
    ($($T:ty: $W:ty),* $(,)?) => {$(
        impl Group for $T {
            type W = $W;
        }
    )*};
}
groups!(
    IfaceStats: u64,
    CoreStats: u32,
    MacCounters: u32,
    SecurityStats: u32,
    WpanStats: u64,
    SixloStats: u32,
    LbrStats: u64,
    ApStats: u64,
    RegistryStats: u32,
    EthStats: u32,
    NdStats: u32,
    PoolStats: u32,
    Status: u64,
    AppStats: u64,
    CaptureStats: u64,
    PingStats: u64,
    MgmtStats: u64,
    DecoderStats: u64,
    RootStats: u32,
    TargetStats: u32,
);

/// Calls `f(index, iface, value)` for every counter of the device, in list order.
///
/// Size matters here (the board's flash budget): a group's values are one array walked by
/// `emit_values`, so each counter costs a load and a store rather than a call.
pub fn for_each_value(
    app: &App<'_>,
    mgmt_stats: &MgmtStats,
    frame_stats: &DecoderStats,
    f: &mut dyn FnMut(usize, Option<&'static str>, u64),
) {
    let () = DROP_REASONS_MATCH;
    let mut k = 0usize;
    // Where each group of the list is read from.
    macro_rules! source {
        (wpan_iface) => {
            app.iface_stats(app.wpan_index()).unwrap_or_default()
        };
        (eth_iface) => {
            app.iface_stats(app.eth_index()).unwrap_or_default()
        };
        (core) => {
            app.stack().core_stats()
        };
        (mac) => {
            *app.wpan().mac().counters()
        };
        (wpan) => {
            app.wpan().stats()
        };
        (security) => {
            app.wpan()
                .security()
                .map(|s| *s.stats())
                .unwrap_or_default()
        };
        (sixlo) => {
            *app.wpan().reassembler().stats()
        };
        (lbr) => {
            app.lbr().stats()
        };
        (ap) => {
            app.lbr().ap_stats()
        };
        (registry) => {
            app.wpan().registry().stats()
        };
        (eth) => {
            app.eth().stats()
        };
        (nd) => {
            app.eth().nd_stats()
        };
        (pool) => {
            app.stack().pool_stats()
        };
        (status) => {
            app.status()
        };
        (app) => {
            app.stats()
        };
        (capture) => {
            app.capture().stats()
        };
        (ping) => {
            app.ping_stats()
        };
        (mgmt) => {
            *mgmt_stats
        };
        (frame) => {
            *frame_stats
        };
        (root) => {
            app.root().stats()
        };
        (targets) => {
            app.wpan().registry().target_stats()
        };
    }
    macro_rules! group {
        ($layer:ident, $iface:expr, $prefix:literal, $src:ident,
         $T:ident { $($field:ident),* $(; skip $($skip:ident),*)? }) => {{
            let $T { $($field,)* $($($skip: _,)*)? } = source!($src);
            emit_values::<<$T as Group>::W>(f, &mut k, $iface, &[$(Value::value($field)),*]);
        }};
    }
    macro_rules! drops {
        ($layer:ident, $iface:expr, $src:ident) => {{
            emit_values::<u32>(f, &mut k, $iface, &source!($src).drops);
        }};
    }
    mgmt::counter_list!(group, drops);
}

/// Calls `f(k, iface, value)` for each value, numbering counters from `*k` on. Not inlined:
/// one copy per width serves every group.
#[inline(never)]
fn emit_values<W: Copy + Into<u64>>(
    f: &mut dyn FnMut(usize, Option<&'static str>, u64),
    k: &mut usize,
    iface: Option<&'static str>,
    values: &[W],
) {
    for &v in values {
        f(*k, iface, v.into());
        *k += 1;
    }
}
