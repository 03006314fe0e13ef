//! The MAC's counters, one per outcome and drop reason.

/// MAC counters. All wrap at `u32::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MacCounters {
    /// Data/command transmissions put on air (retransmissions included; ACKs excluded).
    pub tx_frames: u32,
    /// Retransmissions after a missing ACK.
    pub tx_retries: u32,
    /// Frames completed with [`TxStatus::Success`](super::TxStatus::Success).
    pub tx_success: u32,
    /// Frames completed with [`TxStatus::NoAck`](super::TxStatus::NoAck).
    pub tx_no_ack: u32,
    /// Frames completed with [`TxStatus::ChannelAccessFailure`](super::TxStatus::ChannelAccessFailure).
    pub tx_channel_access_failures: u32,
    /// New CSMA/CA attempts after one found the channel busy
    /// ([`MacConfig::max_channel_access_retries`](super::MacConfig::max_channel_access_retries)).
    pub tx_channel_access_retries: u32,
    /// Frames refused or failed as invalid / radio failure.
    pub tx_errors: u32,
    /// [`Mac::enqueue`](super::Mac::enqueue) calls refused because the queue was full.
    pub tx_queue_full: u32,
    /// TX reports lost because nobody collected them.
    pub tx_reports_dropped: u32,
    /// PSDUs handed to the MAC.
    pub rx_frames: u32,
    /// Frames delivered up.
    pub rx_delivered: u32,
    /// Frames that did not parse.
    pub rx_invalid: u32,
    /// Frames dropped by address / PAN filtering.
    pub rx_filtered: u32,
    /// Duplicates dropped.
    pub rx_duplicates: u32,
    /// FCS errors.
    pub rx_fcs_errors: u32,
    /// ACKs that matched but arrived after macAckWaitDuration (ignored).
    pub rx_acks_late: u32,
    /// ACKs sent by the soft-MAC.
    pub acks_sent: u32,
    /// ACKs not sent: too late, radio busy, or one already pending.
    pub acks_skipped: u32,
    /// Duplicate-table entries evicted to make room.
    pub dup_table_evictions: u32,
    /// Neighbour-table entries evicted to make room.
    pub neighbor_evictions: u32,
}

pub(super) fn bump(c: &mut u32) {
    *c = c.wrapping_add(1);
}
