//! The device's counters as `sixgate stats` lists them: one fixed, numbered list built from
//! every layer's statistics struct.
//!
//! The device sends values only ([`mgmt::Response::Stats`]); the host names them with
//! [`for_each_name`] from this same crate, which it links. Both walks, [`FINGERPRINT`] and
//! [`COUNT`] are generated from the one list in `counter_list!`, so they cannot disagree
//! within a build, and a host built from other sources sees a different fingerprint in the
//! answer and falls back to numbered counters instead of wrong names. Keeping the roughly 230
//! names (about 3.5 KB) out of the board's flash is what this split is for.
//!
//! Every statistics struct is destructured without `..` (a field left out is named with
//! `skip`), so a counter added to any layer fails to compile here until it is listed, and so
//! reaches `sixgate stats`.

use mgmt::Layer;

use crate::app::App;
use crate::mgmt::MgmtStats;

const W: Option<&str> = Some("wpan0");
const E: Option<&str> = Some("eth0");

/// The list, in protocol order. `$group!(layer, iface, "prefix", value, Type { fields })`
/// lists a statistics struct field by field, its counters named `prefix` + field name;
/// `$drops!(layer, iface, value)` lists one counter per netif drop reason (the reason's
/// label). `$app`, `$mgmt` and `$frame` name the variables the values are read from (only the
/// value walk evaluates them).
macro_rules! counter_list {
    ($group:ident, $drops:ident, $app:ident, $mgmt:ident, $frame:ident) => {
        $group!(Layer::Ipv6, W, "", $app.iface_stats($app.wpan_index()).unwrap_or_default(),
            IfaceStats { rx_packets, rx_bytes, tx_packets, tx_bytes, forwarded, delivered,
                icmp_errors_sent, icmp_errors_rate_limited; skip drops });
        $drops!(Layer::Ipv6, W, $app.iface_stats($app.wpan_index()).unwrap_or_default());
        $group!(Layer::Ipv6, E, "", $app.iface_stats($app.eth_index()).unwrap_or_default(),
            IfaceStats { rx_packets, rx_bytes, tx_packets, tx_bytes, forwarded, delivered,
                icmp_errors_sent, icmp_errors_rate_limited; skip drops });
        $drops!(Layer::Ipv6, E, $app.iface_stats($app.eth_index()).unwrap_or_default());
        $group!(Layer::Ipv6, None, "core_", $app.stack().core_stats(),
            CoreStats { no_iface, events_overflowed, icmp_errors_no_source, local_unsent });
        $group!(Layer::Mac, W, "", *$app.wpan().mac().counters(),
            MacCounters { tx_frames, tx_retries, tx_success, tx_no_ack,
                tx_channel_access_failures, tx_errors, tx_queue_full, tx_reports_dropped,
                rx_frames, rx_delivered, rx_invalid, rx_filtered, rx_duplicates, rx_fcs_errors,
                rx_acks_late, acks_sent, acks_skipped, dup_table_evictions,
                neighbor_evictions });
        $group!(Layer::SixLowpan, W, "l2_", $app.wpan().stats(),
            WpanStats { rx_frames, rx_datagrams, rx_bad_frame, rx_secured, rx_not_data,
                rx_6lowpan_drop, rx_no_buffer, tx_datagrams, tx_datagrams_done, tx_frames,
                tx_frames_ok, tx_frames_failed, tx_aborted, tx_queue_full, tx_adapt_error,
                tx_down });
        $group!(Layer::SixLowpan, W, "", *$app.wpan().reassembler().stats(),
            SixloStats { rx_frames, rx_datagrams, rx_fragments, frame_too_short,
                unsupported_dispatch, iphc_truncated, unknown_context, reserved_encoding,
                missing_link_addr, unsupported_nhc, nhc_chain_too_long, bad_extension_length,
                headers_exceed_buffer, bad_length, datagram_size_too_small, datagram_too_large,
                header_exceeds_datagram_size, fragment_past_datagram_size,
                fragment_not_multiple_of_8, empty_fragment, fragn_without_frag1,
                duplicate_fragments, overlapping_fragments, datagram_size_mismatch,
                too_many_fragments, no_free_slot, per_source_limit, no_buffer,
                reassembly_timeouts, output_too_small });
        $group!(Layer::Nd, W, "lbr_", $app.lbr().stats(),
            LbrStats { rx_rs, rx_ns, rx_ns_aro, rx_dar, rx_invalid, rx_ns_not_ours,
                tx_ra_multicast, tx_ra_solicited, ra_rate_limited, tx_na, tx_dac, reg_success,
                reg_duplicate, reg_full, reg_topology, reg_removed, no_buffer, send_failed });
        $group!(Layer::Ethernet, E, "", $app.eth().stats(),
            EthStats { rx_frames, rx_short, rx_not_ipv6, rx_vlan_dropped, rx_vlan_skipped,
                rx_filtered, rx_bad_src, rx_truncated, tx_frames, tx_down, tx_no_buffer,
                tx_queue_full, tx_invalid });
        $group!(Layer::Nd, E, "", $app.eth().nd_stats(),
            NdStats { rx_rs, rx_ra, rx_ns, rx_na, rx_redirect, invalid_hop_limit, invalid_code,
                invalid_length, invalid_option, invalid_other, wrong_handler, ns_not_ours,
                na_for_own_addr, tx_ns, tx_na, tx_rs, tx_ra, tx_failed, resolution_failed,
                unreachable_returned, pending_overflow, cache_full, incomplete_limit, evicted,
                dad_ok, dad_conflicts, dad_defended, dad_table_full, slaac_addrs,
                routes_learned, core_refused, events_overflowed });
        $group!(Layer::Device, None, "pool_", $app.stack().pool_stats(),
            PoolStats { allocs, exhausted, high_water });
        $group!(Layer::Device, None, "", $app.status(),
            Status { pool_free; skip uptime, registered, gleaned, forwarded_up, forwarded_down,
                drops, pool_size });
        $group!(Layer::Device, None, "nodes_", $app.status(),
            Status { registered, gleaned; skip uptime, forwarded_up, forwarded_down, drops,
                pool_free, pool_size });
        $group!(Layer::Device, None, "app_", $app.stats(),
            AppStats { rx_no_buffer_wpan, eth_driver_errors, unhandled_local, events_lost,
                mac_reset_drops });
        $group!(Layer::Device, None, "capture_", $app.capture().stats(),
            CaptureStats { captured, dropped, bytes, pending_records, pending_bytes;
                skip dropped_by_iface });
        $group!(Layer::Device, None, "ping_", $app.ping_stats(),
            PingStats { sent, replies, errors, ignored, lost });
        $group!(Layer::Device, None, "mgmt_", *$mgmt,
            MgmtStats { requests, errors, bad_messages, responses_lost, events_lost, logs_lost,
                capture_sent, capture_link_drops });
        $group!(Layer::Device, None, "mgmt_frame_", *$frame,
            DecoderStats { frames, cobs_errors, too_short, crc_errors, too_long });
    };
}

// The types the list names, for the value walk's patterns.
use crate::app::{AppStats, Status};
use crate::capture::CaptureStats;
use crate::lbr::LbrStats;
use crate::ping::PingStats;
use crate::wpan::WpanStats;
use ethernet::stats::{EthStats, NdStats};
use l2_15_4::mac::MacCounters;
use mgmt::frame::DecoderStats;
use netif::pool::PoolStats;
use netif::stats::{CoreStats, DropReason, IfaceStats};
use sixlo::SixloStats;

/// A counter's value as the protocol carries it.
trait Value: Copy {
    fn value(self) -> u64;
}
macro_rules! value_from {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn value(self) -> u64 {
                u64::from(self)
            }
        }
    )*};
}
value_from!(u8, u16, u32, u64);
impl Value for usize {
    fn value(self) -> u64 {
        // usize is at most 64 bits on every target sixgate builds for.
        self as u64
    }
}

/// Calls `f(index, iface, value)` for every counter of the device, in list order.
///
/// Size matters here (the board's flash budget): a group's values are one array walked by
/// [`emit_values`], so each counter costs a load and a store rather than a call.
pub fn for_each_value(
    app: &App<'_>,
    mgmt_stats: &MgmtStats,
    frame_stats: &DecoderStats,
    f: &mut dyn FnMut(usize, Option<&'static str>, u64),
) {
    let mut k = 0usize;
    macro_rules! group {
        ($layer:expr, $iface:expr, $prefix:literal, $v:expr,
         $T:ident { $($field:ident),* $(; skip $($skip:ident),*)? }) => {{
            let $T { $($field,)* $($($skip: _,)*)? } = $v;
            emit_values(f, &mut k, $iface, &[$(Value::value($field)),*]);
        }};
    }
    macro_rules! drops {
        ($layer:expr, $iface:expr, $v:expr) => {{
            emit_values(f, &mut k, $iface, &$v.drops.map(u64::from));
        }};
    }
    counter_list!(group, drops, app, mgmt_stats, frame_stats);
}

/// Calls `f(k, iface, value)` for each value, numbering counters from `*k` on. Not inlined:
/// one copy serves every group.
#[inline(never)]
fn emit_values(
    f: &mut dyn FnMut(usize, Option<&'static str>, u64),
    k: &mut usize,
    iface: Option<&'static str>,
    values: &[u64],
) {
    for &v in values {
        f(*k, iface, v);
        *k += 1;
    }
}

/// Calls `f(layer, iface, name)` for every counter, in the order of [`for_each_value`]: what
/// the host uses to name the values of a `Stats` answer. Nothing on the device calls it, so
/// the names stay out of the board's flash.
pub fn for_each_name(f: &mut dyn FnMut(Layer, Option<&'static str>, &'static str)) {
    macro_rules! group {
        ($layer:expr, $iface:expr, $prefix:literal, $v:expr,
         $T:ident { $($field:ident),* $(; skip $($skip:ident),*)? }) => {{
            $(f($layer, $iface, concat!($prefix, stringify!($field)));)*
        }};
    }
    macro_rules! drops {
        ($layer:expr, $iface:expr, $v:expr) => {{
            for r in DropReason::ALL {
                f($layer, $iface, r.label());
            }
        }};
    }
    counter_list!(group, drops, unused, unused, unused);
}

/// FNV-1a over `bytes`, continuing from `h`.
const fn fnv(mut h: u32, bytes: &[u8]) -> u32 {
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u32;
        h = h.wrapping_mul(0x0100_0193);
        i += 1;
    }
    h
}

/// One counter into the fingerprint: its layer, interface and name, each terminated.
const fn fnv_counter(h: u32, layer: Layer, iface: Option<&str>, name: &str) -> u32 {
    let h = fnv(h, &[layer as u8, 0]);
    let h = match iface {
        Some(i) => fnv(h, i.as_bytes()),
        None => h,
    };
    let h = fnv(h, &[0]);
    fnv(h, name.as_bytes())
}

/// (fingerprint, count) of the list, at compile time.
const fn summary() -> (u32, usize) {
    let mut h: u32 = 0x811c_9dc5;
    let mut n = 0usize;
    macro_rules! group {
        ($layer:expr, $iface:expr, $prefix:literal, $v:expr,
         $T:ident { $($field:ident),* $(; skip $($skip:ident),*)? }) => {{
            $(
                h = fnv_counter(h, $layer, $iface, concat!($prefix, stringify!($field)));
                n += 1;
            )*
        }};
    }
    macro_rules! drops {
        ($layer:expr, $iface:expr, $v:expr) => {{
            let mut i = 0;
            while i < DropReason::ALL.len() {
                h = fnv_counter(h, $layer, $iface, DropReason::ALL[i].label());
                n += 1;
                i += 1;
            }
        }};
    }
    counter_list!(group, drops, unused, unused, unused);
    (h, n)
}

/// Fingerprint of the counter list (every counter's layer, interface and name, in order),
/// sent in every `Stats` answer so the host knows whether its names fit the values.
pub const FINGERPRINT: u32 = summary().0;
/// Counters in the list.
pub const COUNT: usize = summary().1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_per_layer_and_interface_and_match_the_count() {
        let mut all = std::vec::Vec::new();
        for_each_name(&mut |layer, iface, name| all.push((layer, iface, name)));
        assert_eq!(all.len(), COUNT);
        let mut seen = std::collections::HashSet::new();
        for (layer, iface, name) in &all {
            assert!(
                seen.insert((*layer, *iface, *name)),
                "{layer:?} {iface:?} {name} listed twice"
            );
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name} is not snake_case"
            );
        }
        assert!(all.contains(&(Layer::Mac, W, "tx_no_ack")));
        assert!(all.contains(&(Layer::Device, None, "nodes_registered")));
        assert!(all.contains(&(Layer::Ipv6, E, "no_route")));
    }
}
