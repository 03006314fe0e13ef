//! ACK generation for radios without hardware auto-ACK: an Imm-Ack (or minimal Enh-Ack) sent
//! a turnaround time after the frame, or skipped when it could not arrive in time.

use netif::time::{Duration, Instant};

use crate::consts::{self, symbols};
use crate::frame::{Repr, ack_psdu};

use super::Mac;
use super::counters::bump;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AckState {
    None,
    Pending {
        at: Instant,
        latest: Instant,
        psdu: [u8; consts::IMM_ACK_PSDU_LEN],
    },
    OnAir,
}

impl<const TXQ: usize, const DUP: usize, const NBR: usize> Mac<TXQ, DUP, NBR> {
    pub(super) fn schedule_ack(&mut self, repr: &Repr<'_>, ts: Instant) {
        let Some(seq) = repr.sequence_number else {
            return;
        };
        if self.ack != AckState::None {
            bump(&mut self.counters.acks_skipped);
            return;
        }
        let psdu = ack_psdu(seq, repr.frame_version);
        let at = ts + symbols(consts::TURNAROUND_SYMBOLS);
        // The sender stops listening macAckWaitDuration after its frame: an ACK that could
        // not finish by then is pointless.
        let ack_air = consts::airtime(consts::IMM_ACK_PSDU_LEN).as_micros();
        let latest_us = self.cfg.ack_wait.as_micros().saturating_sub(ack_air);
        let latest = ts + Duration::from_micros(latest_us.max(at.saturating_since(ts).as_micros()));
        self.ack = AckState::Pending { at, latest, psdu };
    }
}
