//! The TX side's requests and results: what to send ([`TxRequest`]), the bounded queue of
//! built frames ([`TxEntry`]) and the per-frame [`TxReport`] when a frame is done.

use core::fmt;

use netif::time::Instant;

use crate::frame::{Address, FCS_LEN, FrameType, KeyId, MAX_PSDU_LEN, PanId, SecurityLevel, fcs};
use crate::security::{self, BlockCipher};

use super::counters::bump;
use super::neighbors::neighbor_entry;
use super::{Mac, Psdu, State};

/// Why [`Mac::enqueue`] refused a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EnqueueError {
    /// The TX queue is full (counted in [`MacCounters::tx_queue_full`](super::MacCounters::tx_queue_full)).
    QueueFull,
    /// The frame cannot be built (too long, or an address/PAN combination with no encoding).
    InvalidParameter,
}

impl fmt::Display for EnqueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnqueueError::QueueFull => "MAC TX queue full",
            EnqueueError::InvalidParameter => "invalid MAC TX request",
        })
    }
}

impl core::error::Error for EnqueueError {}

/// Identifies a queued frame in its [`TxReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TxHandle(pub u16);

/// Which source address a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SrcAddrMode {
    /// The short address (falls back to extended when the node has none).
    Short,
    /// The extended address.
    Extended,
}

/// A frame to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxRequest<'a> {
    /// Destination; [`Address::BROADCAST`] for broadcast (never acknowledged or retried).
    pub dst: Address,
    /// Destination PAN; `None` = our own PAN.
    pub dst_pan: Option<PanId>,
    /// Source address kind.
    pub src: SrcAddrMode,
    /// Data or MAC command.
    pub frame_type: FrameType,
    /// MAC payload.
    pub payload: &'a [u8],
    /// Secure the frame (CCM*, IEEE 802.15.4-2015 §9.3), or send it in the clear.
    pub security: Option<TxSecurity<'a>>,
}

impl<'a> TxRequest<'a> {
    /// A data frame to `dst` in our PAN from our short address (or extended if none), not
    /// secured.
    pub fn data(dst: Address, payload: &'a [u8]) -> Self {
        TxRequest {
            dst,
            dst_pan: None,
            src: SrcAddrMode::Short,
            frame_type: FrameType::Data,
            payload,
            security: None,
        }
    }
}

/// How the MAC secures one frame: the auxiliary security header's fields and the cipher
/// loaded with the key they name. The MAC stays key-agnostic: whoever owns the keys and the
/// frame counter ([`crate::security::LinkSecurity`]) fills this in per frame. The nonce's
/// source is the MAC's own extended address, whatever source address the frame carries.
#[derive(Clone, Copy)]
pub struct TxSecurity<'a> {
    /// Security level: 1-3 (MIC only) or 5-7 (encrypted); 0 and 4 are refused.
    pub level: SecurityLevel,
    /// Key identifier: mode 1 (index) or 2 (4-byte source and index) on send.
    pub key_id: KeyId,
    /// The frame counter, taken from the interface's outgoing counter (never reused).
    pub frame_counter: u32,
    /// The cipher loaded with the key `key_id` names.
    pub cipher: &'a dyn BlockCipher,
}

impl fmt::Debug for TxSecurity<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxSecurity")
            .field("level", &self.level)
            .field("key_id", &self.key_id)
            .field("frame_counter", &self.frame_counter)
            .finish_non_exhaustive()
    }
}

impl PartialEq for TxSecurity<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.level == other.level
            && self.key_id == other.key_id
            && self.frame_counter == other.frame_counter
            && core::ptr::addr_eq(self.cipher, other.cipher)
    }
}

impl Eq for TxSecurity<'_> {}

/// Final status of a queued frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TxStatus {
    /// Sent (and acknowledged if unicast) after `retries` retransmissions.
    Success {
        /// Retransmissions needed.
        retries: u8,
    },
    /// No ACK after macMaxFrameRetries retransmissions.
    NoAck,
    /// Every CSMA/CA attempt (the first and
    /// [`MacConfig::max_channel_access_retries`](super::MacConfig::max_channel_access_retries)
    /// more) found the channel busy macMaxCSMABackoffs + 1 times.
    ChannelAccessFailure,
    /// The radio refused the frame as invalid.
    InvalidParameter,
    /// The radio failed (busy, unsupported, hardware).
    RadioFailure,
    /// Withdrawn before it was sent ([`Mac::cancel_queued`]).
    Cancelled,
}

/// A [`TxStatus`] with what it refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TxReport {
    /// The frame's handle.
    pub handle: TxHandle,
    /// Its destination.
    pub dst: Address,
    /// Its sequence number.
    pub sequence_number: u8,
    /// How it ended.
    pub status: TxStatus,
    /// Transmissions made (first attempt included).
    pub transmissions: u8,
}

/// A queued frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxEntry {
    pub(super) handle: TxHandle,
    pub(super) psdu: Psdu,
    pub(super) dst: Address,
    pub(super) seq: u8,
    pub(super) ack_request: bool,
    pub(super) retries: u8,
    /// CSMA/CA attempts begun again after one found the channel busy.
    pub(super) access_retries: u8,
    pub(super) transmissions: u8,
}

impl<const TXQ: usize, const DUP: usize, const NBR: usize> Mac<TXQ, DUP, NBR> {
    /// Frames queued (the one in progress included).
    pub fn queue_len(&self) -> usize {
        self.res.queue.len()
    }

    /// Builds the frame (header, payload, FCS unless the radio adds it) and queues it.
    /// Unicast frames request an ACK; broadcast frames do not.
    pub fn enqueue(&mut self, req: &TxRequest<'_>) -> Result<TxHandle, EnqueueError> {
        if self.res.queue.is_full() {
            bump(&mut self.counters.tx_queue_full);
            return Err(EnqueueError::QueueFull);
        }
        let plan = self.framer.plan(&self.cfg, req)?;
        let seq = self.dsn;
        let hdr = plan.buffer_len();
        let mic = req.security.map_or(0, |s| s.level.mic_len());
        let mpdu_len = hdr
            .checked_add(req.payload.len())
            .and_then(|n| n.checked_add(mic))
            .ok_or(EnqueueError::InvalidParameter)?;
        let total = mpdu_len
            .checked_add(FCS_LEN)
            .filter(|n| *n <= MAX_PSDU_LEN)
            .ok_or(EnqueueError::InvalidParameter)?;
        let mut psdu = Psdu::new();
        psdu.resize(total, 0)
            .map_err(|_| EnqueueError::InvalidParameter)?;
        plan.emit(seq, &mut psdu)
            .map_err(|_| EnqueueError::InvalidParameter)?;
        if let Some(p) = psdu.get_mut(hdr..hdr + req.payload.len()) {
            p.copy_from_slice(req.payload);
        }
        if let Some(sec) = &req.security {
            seal(&mut psdu, hdr, mpdu_len, sec, self.cfg.extended_address)?;
        }
        if !self.caps.hw_fcs {
            fcs::append(&mut psdu);
        }
        let handle = TxHandle(self.next_handle);
        let entry = TxEntry {
            handle,
            psdu,
            dst: req.dst,
            seq,
            ack_request: req.dst.is_unicast(),
            retries: 0,
            access_retries: 0,
            transmissions: 0,
        };
        if self.res.queue.push_back(entry).is_err() {
            bump(&mut self.counters.tx_queue_full);
            return Err(EnqueueError::QueueFull);
        }
        self.dsn = self.dsn.wrapping_add(1);
        self.next_handle = self.next_handle.wrapping_add(1);
        Ok(handle)
    }

    /// Withdraws the frames queued for `dst` that have not started (the head of the queue,
    /// which may be under way, stays): an upper layer that found `dst` unreachable spares
    /// the channel their retries. Each is reported [`TxStatus::Cancelled`]. Returns how
    /// many.
    pub fn cancel_queued(&mut self, dst: Address) -> usize {
        let mut n = 0;
        for k in 0..self.res.queue.len() {
            let Some(e) = self.res.queue.pop_front() else {
                break;
            };
            if k == 0 || e.dst != dst {
                // Back in order: every entry goes round once.
                let _ = self.res.queue.push_back(e);
                continue;
            }
            n += 1;
            let report = TxReport {
                handle: e.handle,
                dst: e.dst,
                sequence_number: e.seq,
                status: TxStatus::Cancelled,
                transmissions: 0,
            };
            if self.res.reports.push_back(report).is_err() {
                bump(&mut self.counters.tx_reports_dropped);
            }
        }
        n
    }

    /// The next final TX status, oldest first.
    pub fn pop_tx_report(&mut self) -> Option<TxReport> {
        self.res.reports.pop_front()
    }

    pub(super) fn complete(&mut self, _now: Instant, status: TxStatus) {
        self.state = State::Idle;
        let Some(e) = self.res.queue.pop_front() else {
            return;
        };
        if let TxStatus::Success { .. } = status {
            bump(&mut self.counters.tx_success);
        }
        if e.dst.is_unicast() && e.transmissions > 0 {
            let evictions = &mut self.counters.neighbor_evictions;
            if let Some(s) = neighbor_entry(&mut self.res.neighbors, e.dst, evictions) {
                match status {
                    TxStatus::Success { .. } => s.record_tx(e.transmissions, true),
                    TxStatus::NoAck => s.record_tx(e.transmissions, false),
                    _ => s.tx_attempts = s.tx_attempts.wrapping_add(u32::from(e.transmissions)),
                }
            }
        }
        let report = TxReport {
            handle: e.handle,
            dst: e.dst,
            sequence_number: e.seq,
            status,
            transmissions: e.transmissions,
        };
        if self.res.reports.push_back(report).is_err() {
            bump(&mut self.counters.tx_reports_dropped);
        }
    }
}

/// Stamps `sec`'s frame counter into the planned header (the auxiliary security header ends
/// it: security control, frame counter, key identifier) and secures the MPDU
/// `psdu[..mpdu_len]` in place, its MIC in the last bytes.
fn seal(
    psdu: &mut Psdu,
    hdr: usize,
    mpdu_len: usize,
    sec: &TxSecurity<'_>,
    own: [u8; 8],
) -> Result<(), EnqueueError> {
    let key_id_len = match sec.key_id {
        KeyId::Implicit => 0,
        KeyId::Index(_) => 1,
        KeyId::Source4(..) => 5,
        KeyId::Source8(..) => 9,
    };
    let at = hdr
        .checked_sub(key_id_len + 4)
        .ok_or(EnqueueError::InvalidParameter)?;
    psdu.get_mut(at..at + 4)
        .ok_or(EnqueueError::InvalidParameter)?
        .copy_from_slice(&sec.frame_counter.to_le_bytes());
    let mpdu = psdu
        .get_mut(..mpdu_len)
        .ok_or(EnqueueError::InvalidParameter)?;
    security::secure(sec.cipher, mpdu, Some(own)).map_err(|_| EnqueueError::InvalidParameter)?;
    Ok(())
}
