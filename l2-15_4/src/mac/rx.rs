//! The receive path: FCS check, parse, address and PAN filtering, and the indication passed
//! up.

use netif::time::Instant;

use crate::frame::{Address, FCS_LEN, FrameType, MAX_PSDU_LEN, PanId, Repr, fcs};
use crate::radio::{Channel, RxFrame};

use super::Mac;
use super::counters::bump;
use super::neighbors::neighbor_entry;

/// What the MAC passes up from [`Mac::handle_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacIndication<'a> {
    /// A frame for us (promiscuous mode or not: frames for others are never passed up).
    Frame(RxIndication<'a>),
    /// An energy-detect result.
    EnergyDetect {
        /// Channel.
        channel: Channel,
        /// Peak energy, dBm.
        dbm: i8,
    },
}

/// A received frame, zero-copy over the driver's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxIndication<'a> {
    /// The parsed header.
    pub repr: Repr<'a>,
    /// The MAC payload (ciphertext and MIC when [`RxIndication::secured`]).
    pub payload: &'a [u8],
    /// The whole MPDU without FCS (for capture taps).
    pub mpdu: &'a [u8],
    /// Secured frame: the payload is not plaintext.
    pub secured: bool,
    /// RSSI, dBm.
    pub rssi: i8,
    /// LQI.
    pub lqi: u8,
    /// End of reception.
    pub timestamp: Instant,
    /// Channel.
    pub channel: Channel,
}

impl<const TXQ: usize, const DUP: usize, const NBR: usize> Mac<TXQ, DUP, NBR> {
    /// Records a frame received from `src` at `at` in its link statistics (making room in the
    /// neighbour table if needed, counted). The MAC calls it for every frame it passes up,
    /// unless [`MacConfig::rx_stats_from_above`](super::MacConfig::rx_stats_from_above): then
    /// the layer above calls it for the frames it accepted.
    pub fn record_rx(&mut self, src: Address, at: Instant, rssi: i8, lqi: u8) {
        let ev = &mut self.counters.neighbor_evictions;
        if let Some(s) = neighbor_entry(&mut self.res.neighbors, src, ev) {
            s.record_rx(at, rssi, lqi);
        }
    }

    pub(super) fn accept(&self, r: &Repr<'_>) -> bool {
        let f = self.cfg.filter();
        if let Some(p) = r.dst_pan_id
            && p != f.pan_id
            && p != PanId::BROADCAST
        {
            return false;
        }
        match &r.dst_addr {
            Some(a) => {
                if !(a.is_broadcast() || f.is_mine(a)) {
                    return false;
                }
            }
            None => {
                if r.frame_type != FrameType::Beacon {
                    // Only the PAN coordinator takes frames without a destination, and only
                    // from its own PAN.
                    if !f.pan_coordinator || r.effective_src_pan_id().is_some_and(|p| p != f.pan_id)
                    {
                        return false;
                    }
                }
            }
        }
        if r.frame_type == FrameType::Beacon
            && f.pan_id != PanId::BROADCAST
            && r.effective_src_pan_id().is_some_and(|p| p != f.pan_id)
        {
            return false;
        }
        true
    }

    pub(super) fn on_rx<'a>(&mut self, rx: RxFrame<'a>) -> Option<RxIndication<'a>> {
        bump(&mut self.counters.rx_frames);
        let len = rx.psdu.len();
        let Some(mpdu_len) = len
            .checked_sub(FCS_LEN)
            .filter(|n| *n >= 2 && len <= MAX_PSDU_LEN)
        else {
            bump(&mut self.counters.rx_invalid);
            return None;
        };
        let fcs_ok = if self.caps.hw_fcs {
            rx.fcs_ok.unwrap_or(true)
        } else {
            fcs::verify(rx.psdu)
        };
        if !fcs_ok {
            bump(&mut self.counters.rx_fcs_errors);
            return None;
        }
        let mpdu = rx.psdu.get(..mpdu_len)?;
        let Ok((repr, payload)) = Repr::parse_frame(mpdu) else {
            bump(&mut self.counters.rx_invalid);
            return None;
        };
        let ind = RxIndication {
            repr,
            payload,
            mpdu,
            secured: repr.is_secured(),
            rssi: rx.rssi,
            lqi: rx.lqi,
            timestamp: rx.timestamp,
            channel: rx.channel,
        };
        // Promiscuous mode changes nothing here: it only opens the radio's filter so that a
        // capture tap sees every frame. ACKs, filtering and duplicate rejection stay as they
        // are; what is not for us comes back as `None`, for the tap to record and drop.
        if repr.frame_type == FrameType::Ack {
            self.on_ack(&repr, rx.timestamp);
            return None;
        }
        if !self.accept(&repr) {
            bump(&mut self.counters.rx_filtered);
            return None;
        }
        // ACK first: a duplicate is acknowledged again (its sender missed our last ACK).
        if repr.ack_request
            && !self.caps.hw_auto_ack
            && repr.dst_addr.is_some_and(|a| a.is_unicast())
        {
            self.schedule_ack(&repr, rx.timestamp);
        }
        if let Some(src) = repr.src_addr {
            if !self.cfg.rx_stats_from_above {
                self.record_rx(src, rx.timestamp, rx.rssi, rx.lqi);
            }
            // A secured frame is not checked here: its sender's address and sequence number
            // are not authenticated yet, and a forged frame would make the genuine one look
            // like a duplicate. The replay window above (`security::LinkSecurity`) rejects a
            // retransmission after its MIC verified (same frame counter).
            if let (Some(seq), FrameType::Data | FrameType::MacCommand, false) =
                (repr.sequence_number, repr.frame_type, repr.is_secured())
                && self.is_duplicate(src, seq, rx.timestamp)
            {
                bump(&mut self.counters.rx_duplicates);
                return None;
            }
        }
        bump(&mut self.counters.rx_delivered);
        Some(ind)
    }
}
