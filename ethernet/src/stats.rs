//! Counters: one per drop reason of the Ethernet L2 ([`EthStats`]) and of neighbor discovery
//! ([`NdStats`]). `Copy` snapshots the management protocol can carry.

/// Ethernet L2 counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EthStats {
    /// Frames passed up as IPv6.
    pub rx_frames: u32,
    /// Dropped: shorter than the Ethernet header.
    pub rx_short: u32,
    /// Dropped: not IPv6 (ARP, IPv4, LLDP…).
    pub rx_not_ipv6: u32,
    /// Dropped: 802.1Q-tagged while tags are dropped.
    pub rx_vlan_dropped: u32,
    /// 802.1Q tags skipped.
    pub rx_vlan_skipped: u32,
    /// Dropped: destination is not us, broadcast or a joined group.
    pub rx_filtered: u32,
    /// Dropped: multicast source address, or our own source (a looped frame).
    pub rx_bad_src: u32,
    /// Frames larger than a pool buffer (kept truncated; the core sends Packet Too Big).
    pub rx_truncated: u32,
    /// Frames queued for the driver.
    pub tx_frames: u32,
    /// Dropped: interface down.
    pub tx_down: u32,
    /// Dropped: no headroom for the header.
    pub tx_no_buffer: u32,
    /// Dropped: outbox full.
    pub tx_queue_full: u32,
    /// Dropped: malformed packet from the core (no IPv6 header).
    pub tx_invalid: u32,
}

/// Neighbor discovery counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NdStats {
    /// Router solicitations received (valid).
    pub rx_rs: u32,
    /// Router advertisements received (valid).
    pub rx_ra: u32,
    /// Neighbor solicitations received (valid).
    pub rx_ns: u32,
    /// Neighbor advertisements received (valid).
    pub rx_na: u32,
    /// Redirects received (valid, ignored).
    pub rx_redirect: u32,
    /// Invalid: hop limit not 255.
    pub invalid_hop_limit: u32,
    /// Invalid: code not 0.
    pub invalid_code: u32,
    /// Invalid: message shorter than its type requires.
    pub invalid_length: u32,
    /// Invalid: an option of length 0 or running past the message.
    pub invalid_option: u32,
    /// Invalid: other RFC 4861 checks (multicast target, RA from a non-link-local source,
    /// SLLAO with unspecified source, solicited flag to multicast…).
    pub invalid_other: u32,
    /// Delivered on the wrong interface or to the wrong handler.
    pub wrong_handler: u32,
    /// NS whose target is not ours (ignored).
    pub ns_not_ours: u32,
    /// NA for one of our non-tentative addresses from another node (a duplicate; logged).
    pub na_for_own_addr: u32,
    /// Neighbor solicitations sent.
    pub tx_ns: u32,
    /// Neighbor advertisements sent.
    pub tx_na: u32,
    /// Router solicitations sent.
    pub tx_rs: u32,
    /// Router advertisements sent.
    pub tx_ra: u32,
    /// ND messages that could not be sent (pool empty or outbox full).
    pub tx_failed: u32,
    /// Address resolutions that failed (packets returned as address unreachable).
    pub resolution_failed: u32,
    /// Packets sent back to the core as address unreachable.
    pub unreachable_returned: u32,
    /// Pending packets dropped because their queue was full (oldest replaced).
    pub pending_overflow: u32,
    /// New neighbor entries refused: cache full of entries that may not be evicted.
    pub cache_full: u32,
    /// New resolutions refused: too many INCOMPLETE entries (RFC 6583).
    pub incomplete_limit: u32,
    /// Entries evicted (least recently used) to make room.
    pub evicted: u32,
    /// Duplicate address detection runs that succeeded.
    pub dad_ok: u32,
    /// Duplicate addresses detected (ours removed).
    pub dad_conflicts: u32,
    /// Our address defended against another node's DAD probe.
    pub dad_defended: u32,
    /// DAD runs refused: DAD table full.
    pub dad_table_full: u32,
    /// SLAAC addresses formed.
    pub slaac_addrs: u32,
    /// Routes (default or RIO) installed or refreshed from RAs.
    pub routes_learned: u32,
    /// Operations refused by the core (address or route table full).
    pub core_refused: u32,
    /// ND events dropped: event queue full.
    pub events_overflowed: u32,
    /// Prefix or Route Information Options refused because they fall inside a prefix of
    /// another interface or one this router announces (the mesh prefix): a rogue or
    /// misconfigured router on the backbone ([`crate::NdEvent::PrefixConflict`]).
    pub ra_prefix_conflicts: u32,
}
