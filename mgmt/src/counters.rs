//! The device's counter list, the contract behind [`Response::Stats`](crate::Response::Stats):
//! one fixed, numbered list of every layer's counters, which both sides expand from
//! [`counter_list!`](crate::counter_list).
//!
//! The device sends values only; it expands the list into a walk over its statistics structs
//! (`firmware::counters`). The host names the values with [`for_each_name`], expanded here.
//! [`FINGERPRINT`] and [`COUNT`] come from the same list at compile time, and every `Stats`
//! answer carries the device's fingerprint, so a host built from other sources notices and
//! falls back to numbered counters instead of wrong names. The names (about 3.5 KB) are only
//! linked by whoever calls [`for_each_name`]: the host, never the board.

use crate::Layer;

/// The counter list, in protocol order, expanded with two macros of the caller's:
///
/// - `$group!(Layer, iface, "prefix", source, Type { fields; skip other_fields })` lists a
///   statistics struct field by field, each counter named `prefix` + field name. `Layer` is a
///   [`Layer`](crate::Layer) variant, `iface` an `Option<&str>`, `source` a name the device
///   maps to where it reads the struct, and `Type { .. }` the struct with every field, the
///   ones that are not counters after `skip` (so the device can destructure it without `..`,
///   and a counter added to a layer fails to compile until it is listed here);
/// - `$drops!(Layer, iface, source)` lists one counter per netif drop reason, named from
///   [`DROP_REASONS`].
#[macro_export]
macro_rules! counter_list {
    ($group:ident, $drops:ident) => {
        $group!(Ipv6, Some("wpan0"), "", wpan_iface,
            IfaceStats { rx_packets, rx_bytes, tx_packets, tx_bytes, forwarded, delivered,
                icmp_errors_sent, icmp_errors_rate_limited; skip drops });
        $drops!(Ipv6, Some("wpan0"), wpan_iface);
        $group!(Ipv6, Some("eth0"), "", eth_iface,
            IfaceStats { rx_packets, rx_bytes, tx_packets, tx_bytes, forwarded, delivered,
                icmp_errors_sent, icmp_errors_rate_limited; skip drops });
        $drops!(Ipv6, Some("eth0"), eth_iface);
        $group!(Ipv6, None, "core_", core,
            CoreStats { no_iface, events_overflowed, icmp_errors_no_source, local_unsent,
                icmp_errors_total_limited, icmp_limiter_evictions });
        $group!(Mac, Some("wpan0"), "", mac,
            MacCounters { tx_frames, tx_retries, tx_success, tx_no_ack,
                tx_channel_access_failures, tx_channel_access_retries, tx_errors, tx_queue_full,
                tx_reports_dropped, rx_frames, rx_delivered, rx_invalid, rx_filtered,
                rx_duplicates, rx_fcs_errors, rx_acks_late, acks_sent, acks_skipped,
                dup_table_evictions, neighbor_evictions });
        $group!(Mac, Some("wpan0"), "sec_", security,
            SecurityStats { tx_secured, tx_no_counter, rx_secured, rx_unsecured, rx_no_key,
                rx_mic_failures, rx_replays, rx_duplicates, rx_unsupported, replay_evictions,
                key_rotations });
        $group!(SixLowpan, Some("wpan0"), "l2_", wpan,
            WpanStats { rx_frames, rx_datagrams, rx_bad_frame, rx_secured, rx_not_data,
                rx_6lowpan_drop, rx_no_buffer, tx_datagrams, tx_datagrams_done, tx_frames,
                tx_frames_ok, tx_frames_failed, tx_aborted, tx_queue_full, tx_adapt_error,
                tx_down, tx_tunnelled, tx_tunnel_failed, rx_rpl_rank_error,
                rx_rpl_forwarding_error, nbr_unreachable, tx_unreachable,
                nbr_unreachable_evictions });
        $group!(SixLowpan, Some("wpan0"), "", sixlo,
            SixloStats { rx_frames, rx_datagrams, rx_fragments, frame_too_short,
                unsupported_dispatch, iphc_truncated, unknown_context, reserved_encoding,
                missing_link_addr, unsupported_nhc, nhc_chain_too_long, bad_extension_length,
                headers_exceed_buffer, bad_length, datagram_size_too_small, datagram_too_large,
                header_exceeds_datagram_size, fragment_past_datagram_size,
                fragment_not_multiple_of_8, empty_fragment, fragn_without_frag1,
                duplicate_fragments, overlapping_fragments, datagram_size_mismatch,
                too_many_fragments, no_free_slot, per_source_limit, no_buffer,
                reassembly_timeouts, reassembly_evictions, output_too_small, bad_6lorh });
        $group!(Nd, Some("wpan0"), "lbr_", lbr,
            LbrStats { rx_rs, rx_ns, rx_ns_aro, rx_dar, rx_invalid, rx_ns_not_ours,
                tx_ra_multicast, tx_ra_solicited, ra_rate_limited, tx_na, tx_dac, reg_success,
                reg_duplicate, reg_full, reg_topology, reg_removed, no_buffer, send_failed,
                reg_stale_tid, reg_over_quota, reg_rate_limited, reg_rate_evicted,
                reg_sllao_mismatch });
        $group!(Nd, Some("wpan0"), "ap_", ap,
            ApStats { challenges, proofs_accepted, proofs_failed, challenge_table_full });
        $group!(Nd, Some("wpan0"), "reg_", registry,
            RegistryStats { glean_conflicts;
                skip registrations, refreshes, duplicates, full, stale_tid, removed,
                expired, gleaned, glean_evicted, glean_refused_full });
        $group!(Ethernet, Some("eth0"), "", eth,
            EthStats { rx_frames, rx_short, rx_not_ipv6, rx_vlan_dropped, rx_vlan_skipped,
                rx_filtered, rx_bad_src, rx_truncated, tx_frames, tx_down, tx_no_buffer,
                tx_queue_full, tx_invalid });
        $group!(Nd, Some("eth0"), "", nd,
            NdStats { rx_rs, rx_ra, rx_ns, rx_na, rx_redirect, invalid_hop_limit, invalid_code,
                invalid_length, invalid_option, invalid_other, wrong_handler, ns_not_ours,
                na_for_own_addr, tx_ns, tx_na, tx_rs, tx_ra, tx_failed, resolution_failed,
                unreachable_returned, pending_overflow, cache_full, incomplete_limit, evicted,
                dad_ok, dad_conflicts, dad_defended, dad_table_full, slaac_addrs,
                routes_learned, core_refused, events_overflowed, ra_prefix_conflicts });
        $group!(Device, None, "pool_", pool,
            PoolStats { allocs, exhausted, high_water });
        $group!(Device, None, "", status,
            Status { pool_free; skip uptime, registered, gleaned, forwarded_up, forwarded_down,
                drops, pool_size, stack_high_water });
        $group!(Device, None, "nodes_", status,
            Status { registered, gleaned; skip uptime, forwarded_up, forwarded_down, drops,
                pool_free, pool_size, stack_high_water });
        $group!(Device, None, "app_", app,
            AppStats { rx_no_buffer_wpan, eth_driver_errors, unhandled_local, events_lost,
                mac_reset_drops });
        $group!(Device, None, "capture_", capture,
            CaptureStats { captured, dropped, bytes, pending_records, pending_bytes;
                skip dropped_by_iface });
        $group!(Device, None, "ping_", ping,
            PingStats { sent, replies, errors, ignored, lost });
        $group!(Device, None, "mgmt_", mgmt,
            MgmtStats { requests, errors, bad_messages, responses_lost, events_lost, logs_lost,
                capture_sent, capture_link_drops, store_failures, sessions_taken_over });
        $group!(Device, None, "mgmt_frame_", frame,
            DecoderStats { frames, cobs_errors, too_short, crc_errors, too_long });
        $group!(Rpl, Some("wpan0"), "rpl_", root,
            RootStats { dio_tx, dio_rx, dis_rx, dao_rx, dao_ack_tx, dao_rejected, rx_invalid,
                tx_failed, decapsulated, decap_dropped });
        $group!(Rpl, Some("wpan0"), "rpl_targets_", targets,
            TargetStats { added, refreshed, no_path, stale, full, cycles, too_deep, bad_parent,
                expired });
        // Gauges the device does not rebase (see GAUGES_AT_END): last.
        $group!(Device, None, "", status,
            Status { stack_high_water; skip uptime, registered, gleaned, forwarded_up,
                forwarded_down, drops, pool_free, pool_size });
    };
}

/// The last `GAUGES_AT_END` counters of the list are high-water marks that `stats --reset`
/// leaves alone: the device keeps no baseline for them (8 bytes of RAM each on the board).
pub const GAUGES_AT_END: usize = 1;

/// The names of netif's drop reasons, in counter order (`netif::stats::DropReason::ALL`'s
/// labels; the device checks at compile time that the two lists agree).
pub const DROP_REASONS: [&str; 23] = [
    "l2",
    "bad_header",
    "truncated",
    "bad_source",
    "bad_destination",
    "bad_extension_header",
    "bad_icmp",
    "iface_down",
    "policy",
    "no_route",
    "hop_limit",
    "too_big",
    "too_big_for_buffer",
    "scope",
    "multicast",
    "not_forwarding",
    "address_unreachable",
    "no_handler",
    "rejected",
    "queue_full",
    "pool_empty",
    "tx_error",
    "spoofed_source",
];

/// Calls `f(layer, iface, name)` for every counter, in list order: what the host uses to
/// name the values of a `Stats` answer. Nothing on the device calls it, so the names stay
/// out of the board's flash.
pub fn for_each_name(f: &mut dyn FnMut(Layer, Option<&'static str>, &'static str)) {
    macro_rules! group {
        ($layer:ident, $iface:expr, $prefix:literal, $src:ident,
         $T:ident { $($field:ident),* $(; skip $($skip:ident),*)? }) => {{
            $(f(Layer::$layer, $iface, concat!($prefix, stringify!($field)));)*
        }};
    }
    macro_rules! drops {
        ($layer:ident, $iface:expr, $src:ident) => {{
            for r in DROP_REASONS {
                f(Layer::$layer, $iface, r);
            }
        }};
    }
    counter_list!(group, drops);
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
        ($layer:ident, $iface:expr, $prefix:literal, $src:ident,
         $T:ident { $($field:ident),* $(; skip $($skip:ident),*)? }) => {{
            $(
                h = fnv_counter(h, Layer::$layer, $iface, concat!($prefix, stringify!($field)));
                n += 1;
            )*
        }};
    }
    macro_rules! drops {
        ($layer:ident, $iface:expr, $src:ident) => {{
            let mut i = 0;
            while i < DROP_REASONS.len() {
                h = fnv_counter(h, Layer::$layer, $iface, DROP_REASONS[i]);
                n += 1;
                i += 1;
            }
        }};
    }
    counter_list!(group, drops);
    (h, n)
}

/// The device-wide counters that are gauges, a level rather than a count of events (free
/// buffers, known nodes, a high-water mark, what waits in the capture ring): `StatsReset`
/// leaves them as they are, and hosts mark them as gauges.
pub const GAUGES: [&str; 6] = [
    "pool_high_water",
    "pool_free",
    "nodes_registered",
    "nodes_gleaned",
    "capture_pending_records",
    "capture_pending_bytes",
];

/// Whether the device-wide counter `name` is a gauge ([`GAUGES`]).
pub fn is_gauge(iface: Option<&str>, name: &str) -> bool {
    iface.is_none() && GAUGES.contains(&name)
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn gauge_named(iface: Option<&str>, name: &str) -> bool {
    if iface.is_some() {
        return false;
    }
    let mut i = 0;
    while i < GAUGES.len() {
        if str_eq(GAUGES[i], name) {
            return true;
        }
        i += 1;
    }
    false
}

/// One bit per counter, set for the gauges, at compile time (the device needs no names).
const GAUGE_BITS: [u32; COUNT.div_ceil(32)] = {
    let mut bits = [0u32; COUNT.div_ceil(32)];
    let mut n = 0usize;
    macro_rules! group {
        ($layer:ident, $iface:expr, $prefix:literal, $src:ident,
         $T:ident { $($field:ident),* $(; skip $($skip:ident),*)? }) => {{
            $(
                if gauge_named($iface, concat!($prefix, stringify!($field))) {
                    bits[n / 32] |= 1 << (n % 32);
                }
                n += 1;
            )*
        }};
    }
    macro_rules! drops {
        ($layer:ident, $iface:expr, $src:ident) => {{
            n += DROP_REASONS.len();
        }};
    }
    counter_list!(group, drops);
    let _ = n;
    bits
};

/// Whether counter number `k` of the list is a gauge ([`GAUGES`]).
pub const fn is_gauge_index(k: usize) -> bool {
    k < COUNT && GAUGE_BITS[k / 32] & (1 << (k % 32)) != 0
}

/// Fingerprint of the counter list (every counter's layer, interface and name, in order),
/// sent in every `Stats` answer so the host knows whether its names fit the values.
pub const FINGERPRINT: u32 = summary().0;
/// Counters in the list.
pub const COUNT: usize = summary().1;

#[cfg(test)]
mod tests {
    extern crate std;

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
        assert!(all.contains(&(Layer::Mac, Some("wpan0"), "tx_no_ack")));
        assert!(all.contains(&(Layer::Device, None, "nodes_registered")));
        assert!(all.contains(&(Layer::Ipv6, Some("eth0"), "no_route")));
    }

    #[test]
    fn every_gauge_is_a_device_counter_and_marked_by_index() {
        let mut all = std::vec::Vec::new();
        for_each_name(&mut |_, iface, name| all.push((iface, name)));
        for g in GAUGES {
            assert!(all.contains(&(None, g)), "{g} is not a device-wide counter");
        }
        let marked: std::vec::Vec<&str> = all
            .iter()
            .enumerate()
            .filter(|(k, _)| is_gauge_index(*k))
            .map(|(_, (_, n))| *n)
            .collect();
        assert_eq!(marked.len(), GAUGES.len(), "{marked:?}");
        for (k, (iface, name)) in all.iter().enumerate() {
            assert_eq!(is_gauge_index(k), is_gauge(*iface, name), "{name}");
        }
        assert!(!is_gauge_index(COUNT));
    }
}
