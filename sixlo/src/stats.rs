//! Receive-side counters: one field per drop reason, so the router can export them.

use crate::decompress::DecompressError;

/// 6LoWPAN receive statistics. Every dropped frame or discarded datagram increments exactly
/// one drop counter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SixloStats {
    /// Frames handed to the receiver.
    pub rx_frames: u32,
    /// Datagrams delivered (unfragmented or reassembled).
    pub rx_datagrams: u32,
    /// Fragments stored for later reassembly.
    pub rx_fragments: u32,
    /// Empty frame, or frame shorter than its fragment header.
    pub frame_too_short: u32,
    /// Dispatch this receiver does not handle (NALP, mesh, broadcast, ESC, unknown).
    pub unsupported_dispatch: u32,
    /// IPHC inline fields or an NHC header ran past the end of the frame.
    pub iphc_truncated: u32,
    /// SCI/DCI named an absent context.
    pub unknown_context: u32,
    /// Reserved IPHC address mode.
    pub reserved_encoding: u32,
    /// Address derived from an absent link-layer address.
    pub missing_link_addr: u32,
    /// Unknown NHC byte.
    pub unsupported_nhc: u32,
    /// NHC chain or IPv6 nesting deeper than accepted.
    pub nhc_chain_too_long: u32,
    /// Compressed extension header of an impossible length.
    pub bad_extension_length: u32,
    /// Decompressed headers larger than the output buffer (NHC chain longer than the buffer).
    pub headers_exceed_buffer: u32,
    /// Length fields could not be set consistently.
    pub bad_length: u32,
    /// datagram_size below 40 (an IPv6 header).
    pub datagram_size_too_small: u32,
    /// datagram_size above the reassembly buffer.
    pub datagram_too_large: u32,
    /// FRAG1 whose decompressed headers (plus payload) exceed datagram_size.
    pub header_exceeds_datagram_size: u32,
    /// offset×8 + length past datagram_size.
    pub fragment_past_datagram_size: u32,
    /// Non-final fragment whose length is not a multiple of 8.
    pub fragment_not_multiple_of_8: u32,
    /// Fragment without payload.
    pub empty_fragment: u32,
    /// FRAGN with no datagram started by a FRAG1.
    pub fragn_without_frag1: u32,
    /// Exact duplicate fragment (dropped, datagram kept).
    pub duplicate_fragments: u32,
    /// Overlapping fragment (whole datagram discarded).
    pub overlapping_fragments: u32,
    /// datagram_size changed between fragments of one tag (whole datagram discarded).
    pub datagram_size_mismatch: u32,
    /// More fragments than the slot can track (whole datagram discarded).
    pub too_many_fragments: u32,
    /// No free reassembly slot.
    pub no_free_slot: u32,
    /// Sender already holds its share of reassembly slots.
    pub per_source_limit: u32,
    /// No buffer for a datagram (the packet pool lending them was exhausted).
    pub no_buffer: u32,
    /// Datagrams discarded by the reassembly timeout.
    pub reassembly_timeouts: u32,
    /// Partial datagrams evicted to make room for a new one (every slot, or the buffer share,
    /// was taken).
    pub reassembly_evictions: u32,
    /// Caller's output buffer too small for the datagram.
    pub output_too_small: u32,
    /// RFC 8138 page-1 packet dropped for its 6LoRHs: an unknown critical 6LoRH, an impossible
    /// length, a repeated 6LoRH, an unknown DODAG root (a truncated one counts as
    /// `iphc_truncated`).
    pub bad_6lorh: u32,
}

impl SixloStats {
    /// Count a decompression failure under its reason.
    pub fn record_decompress(&mut self, e: &DecompressError) {
        let c = match e {
            DecompressError::Truncated => &mut self.iphc_truncated,
            DecompressError::UnknownDispatch(_) => &mut self.unsupported_dispatch,
            DecompressError::UnknownContext(_) => &mut self.unknown_context,
            DecompressError::ReservedEncoding => &mut self.reserved_encoding,
            DecompressError::MissingLinkAddr => &mut self.missing_link_addr,
            DecompressError::UnsupportedNhc(_) => &mut self.unsupported_nhc,
            DecompressError::NhcChainTooLong => &mut self.nhc_chain_too_long,
            DecompressError::BadExtensionLength => &mut self.bad_extension_length,
            DecompressError::BufferTooSmall => &mut self.headers_exceed_buffer,
            DecompressError::BadLength => &mut self.bad_length,
            DecompressError::Lorh(_) => &mut self.bad_6lorh,
        };
        *c = c.saturating_add(1);
    }

    /// Sum of every drop counter.
    pub fn total_drops(&self) -> u64 {
        [
            self.frame_too_short,
            self.unsupported_dispatch,
            self.iphc_truncated,
            self.unknown_context,
            self.reserved_encoding,
            self.missing_link_addr,
            self.unsupported_nhc,
            self.nhc_chain_too_long,
            self.bad_extension_length,
            self.headers_exceed_buffer,
            self.bad_length,
            self.datagram_size_too_small,
            self.datagram_too_large,
            self.header_exceeds_datagram_size,
            self.fragment_past_datagram_size,
            self.fragment_not_multiple_of_8,
            self.empty_fragment,
            self.fragn_without_frag1,
            self.duplicate_fragments,
            self.overlapping_fragments,
            self.datagram_size_mismatch,
            self.too_many_fragments,
            self.no_free_slot,
            self.per_source_limit,
            self.no_buffer,
            self.reassembly_timeouts,
            self.reassembly_evictions,
            self.output_too_small,
            self.bad_6lorh,
        ]
        .iter()
        .map(|v| u64::from(*v))
        .sum()
    }
}
