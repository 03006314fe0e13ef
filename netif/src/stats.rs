//! Statistics: per-interface counters with one counter per drop reason, readable as a
//! `Copy` snapshot ([`IfaceStats`]) that the management protocol carries to the host.

use core::fmt;

macro_rules! drop_reasons {
    ($( $(#[$doc:meta])* $name:ident = $label:literal ),+ $(,)?) => {
        /// Why the core dropped a packet. Each reason has its own counter.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u8)]
        pub enum DropReason {
            $( $(#[$doc])* $name, )+
        }

        impl DropReason {
            /// Every reason, in counter order.
            pub const ALL: &'static [DropReason] = &[$(DropReason::$name),+];
            /// Number of reasons.
            pub const COUNT: usize = Self::ALL.len();
            /// Stable snake_case name (used by the CLI and JSON output).
            pub const fn label(self) -> &'static str {
                match self { $(DropReason::$name => $label,)+ }
            }
        }
    };
}

drop_reasons! {
    /// The L2 rejected the frame (its own counters say why).
    L2 = "l2",
    /// IPv6 header malformed: too short, wrong version.
    BadHeader = "bad_header",
    /// Payload length runs past the received bytes.
    Truncated = "truncated",
    /// Source address not allowed (multicast, loopback, unspecified outside ND).
    BadSource = "bad_source",
    /// Destination address not allowed (unspecified, loopback).
    BadDestination = "bad_destination",
    /// A hop-by-hop or other extension header was malformed or unsupported.
    BadExtensionHeader = "bad_extension_header",
    /// ICMPv6 checksum or message malformed.
    BadIcmp = "bad_icmp",
    /// The interface is administratively or operationally down.
    IfaceDown = "iface_down",
    /// The ingress policy rejected the source.
    Policy = "policy",
    /// No route to the destination.
    NoRoute = "no_route",
    /// Hop limit reached zero while forwarding.
    HopLimit = "hop_limit",
    /// Larger than the egress MTU (a Packet Too Big was sent).
    TooBig = "too_big",
    /// The link-layer frame was larger than a pool buffer; the packet could not be kept whole.
    TooBigForBuffer = "too_big_for_buffer",
    /// Link-local source or destination cannot leave its link.
    Scope = "scope",
    /// Multicast that is neither joined nor forwardable.
    Multicast = "multicast",
    /// Not addressed to us and forwarding is off on the interface.
    NotForwarding = "not_forwarding",
    /// Link-layer address resolution failed for the next hop.
    AddressUnreachable = "address_unreachable",
    /// Addressed to us but no handler takes its upper-layer protocol.
    NoHandler = "no_handler",
    /// The route rejects traffic (unreachable/prohibit route).
    Rejected = "rejected",
    /// The egress traffic-class queue was full (tail drop).
    QueueFull = "queue_full",
    /// No free packet buffer.
    PoolEmpty = "pool_empty",
    /// The L2 failed to send the packet.
    TxError = "tx_error",
    /// The source lies in a prefix on-link on another interface, not on this one: the packet
    /// did not come from where it claims (RFC 3704 ingress filtering). Never answered.
    SpoofedSource = "spoofed_source",
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Counters of one interface. A `Copy` snapshot; reset with `Stack::reset_stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IfaceStats {
    /// IPv6 packets handed up by the L2 (verdict `Continue`).
    pub rx_packets: u32,
    /// Bytes of those packets.
    pub rx_bytes: u64,
    /// Packets handed to the L2 for transmission.
    pub tx_packets: u32,
    /// Bytes of those packets.
    pub tx_bytes: u64,
    /// Packets forwarded out of this interface.
    pub forwarded: u32,
    /// Packets received here and delivered locally (to the core or a handler).
    pub delivered: u32,
    /// ICMPv6 errors this interface's traffic caused us to send.
    pub icmp_errors_sent: u32,
    /// ICMPv6 errors suppressed by the rate limiter.
    pub icmp_errors_rate_limited: u32,
    /// Drops, one counter per [`DropReason`] (index = reason as usize).
    pub drops: [u32; DropReason::COUNT],
}

impl IfaceStats {
    /// The counter of one drop reason.
    pub fn dropped(&self, r: DropReason) -> u32 {
        self.drops.get(r as usize).copied().unwrap_or(0)
    }
    /// All drops together.
    pub fn dropped_total(&self) -> u64 {
        self.drops.iter().map(|&d| u64::from(d)).sum()
    }
    /// `(reason, count)` for every reason, including zeros.
    pub fn drops_by_reason(&self) -> impl Iterator<Item = (DropReason, u32)> + '_ {
        DropReason::ALL.iter().map(|&r| (r, self.dropped(r)))
    }
    pub(crate) fn count_drop(&mut self, r: DropReason) {
        if let Some(c) = self.drops.get_mut(r as usize) {
            *c = c.wrapping_add(1);
        }
    }
    pub(crate) fn count_rx(&mut self, bytes: usize) {
        self.rx_packets = self.rx_packets.wrapping_add(1);
        self.rx_bytes = self.rx_bytes.wrapping_add(bytes as u64);
    }
    pub(crate) fn count_tx(&mut self, bytes: usize) {
        self.tx_packets = self.tx_packets.wrapping_add(1);
        self.tx_bytes = self.tx_bytes.wrapping_add(bytes as u64);
    }
}

/// Counters of the core that belong to no single interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CoreStats {
    /// Packets dropped before an interface was known (bad interface index).
    pub no_iface: u32,
    /// Events lost because the event queue was full.
    pub events_overflowed: u32,
    /// ICMPv6 errors not sent because no suitable source address existed.
    pub icmp_errors_no_source: u32,
    /// Locally originated packets (replies, errors, handler output) dropped before an egress
    /// interface was known: no route, or a link-local/multicast destination without one.
    pub local_unsent: u32,
    /// ICMPv6 errors not sent because all destinations together spent a total budget (also
    /// counted in the interface's `icmp_errors_rate_limited`): many sources at once.
    pub icmp_errors_total_limited: u32,
    /// Destinations the ICMPv6 error limiter forgot to make room for a newer one
    /// ([`crate::config::ICMP_PEERS`]): many sources at once, or one rotating its address.
    pub icmp_limiter_evictions: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_a_distinct_counter_and_label() {
        let mut s = IfaceStats::default();
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
            for _ in 0..=i {
                s.count_drop(*r);
            }
        }
        for (i, (r, n)) in s.drops_by_reason().enumerate() {
            assert_eq!(n as usize, i + 1, "{r}");
        }
        let mut labels: std::vec::Vec<_> = DropReason::ALL.iter().map(|r| r.label()).collect();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), DropReason::COUNT);
    }
}
