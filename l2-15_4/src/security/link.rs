//! [`LinkSecurity`]: the security state of one 802.15.4 interface — its keys, outgoing frame
//! counter, replay table and incoming-security policy — and the two calls an interface makes
//! per frame: [`LinkSecurity::tx`] for the [`TxSecurity`] of a frame to send, and
//! [`LinkSecurity::receive`] for a frame received.
//!
//! Key sequence life cycle, as Thread runs it: frames go out under the current key (key
//! identifier mode 1, index (sequence mod 128) + 1); frames under the previous and the next
//! key are accepted. A rotation (on command, on a period, when a neighbour's authenticated
//! frame shows it moved to the next key, or when the frame counter nears 2^32) moves to the
//! next sequence and restarts the frame counter at 0 — but only once the new sequence is in
//! storage: until [`LinkSecurity::persisted`] confirms it, frames keep going out under the old
//! key, so a reboot can never come back to a sequence whose counters were used.

use super::BlockCipher;
use super::frame::SecuredLayout;
use super::keys::{KeySlot, KeyTable, key_index};
use super::replay::{CounterError, FrameCounter, ReplayTable};
use super::rx::{Received, RxError, receive_layout};
use crate::frame::{FrameType, Repr, SecurityLevel};
use crate::mac::TxSecurity;

/// How close to exhaustion (2^32 − 1) the outgoing frame counter may come before a rotation
/// is forced: room for the frames sent while the new sequence is being persisted.
pub const ROTATE_MARGIN: u32 = 1 << 16;

/// What an interface secures and accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SecurityPolicy {
    /// Level of frames sent: 5 (ENC-MIC-32, Thread's) by default; 1-3 or 5-7.
    pub level: SecurityLevel,
    /// Frame types accepted unsecured, one bit per frame type code (`1 << code`): beacon 0,
    /// data 1, MAC command 3. ACKs are never secured (Imm-ACKs cannot be) and never reach
    /// this check. Default: none.
    pub unsecured_allowed: u8,
    /// The outgoing frame counter is persisted every `persist_step / 2` frames and resumes
    /// `persist_step` ahead of the stored value after a reboot.
    pub persist_step: u32,
}

impl SecurityPolicy {
    /// ENC-MIC-32, nothing unsecured, persist step 1024.
    pub const DEFAULT: SecurityPolicy = SecurityPolicy {
        level: SecurityLevel::new(5),
        unsecured_allowed: 0,
        persist_step: 1024,
    };

    /// Whether `frame_type` may arrive unsecured.
    pub fn allows_unsecured(&self, frame_type: FrameType) -> bool {
        let code = u8::from(frame_type) & 0x07;
        self.unsecured_allowed & (1 << code) != 0
    }
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Counters of one interface's link-layer security, one per outcome and drop reason. All wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SecurityStats {
    /// Frames secured for sending.
    pub tx_secured: u32,
    /// Frames not sent because no frame counter could be handed out (a persist of the
    /// counter is overdue, or the counter is exhausted).
    pub tx_no_counter: u32,
    /// Secured frames accepted (MIC verified, counter new).
    pub rx_secured: u32,
    /// Unsecured frames refused by the policy.
    pub rx_unsecured: u32,
    /// Secured frames under a key we do not have.
    pub rx_no_key: u32,
    /// Secured frames whose MIC did not verify.
    pub rx_mic_failures: u32,
    /// Secured frames with a counter below the last accepted from their sender and key.
    pub rx_replays: u32,
    /// Secured frames with the same counter as the last accepted: a retransmission whose ACK
    /// was lost (or a replay of the latest frame; harmless either way).
    pub rx_duplicates: u32,
    /// Secured frames in a mode we refuse (level 0 or 4, 2003 security, suppressed counter,
    /// short source with no known EUI-64) or whose header does not parse.
    pub rx_unsupported: u32,
    /// Replay-table entries evicted to make room.
    pub replay_evictions: u32,
    /// Key sequence switches.
    pub key_rotations: u32,
}

/// What [`LinkSecurity::receive`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Inbound {
    /// An unsecured frame the policy accepts; its bytes are unchanged.
    Clear,
    /// A secured frame, verified and now plaintext in place.
    Secured(Received),
}

/// Why a rotation did not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RotateError {
    /// One is already waiting for its sequence to be persisted.
    Pending,
    /// The key sequence is at its last value.
    LastSequence,
}

/// The link-layer security of one interface (see the module documentation).
#[derive(Debug)]
pub struct LinkSecurity<C: BlockCipher, const REPLAY: usize> {
    keys: KeyTable<C>,
    counter: FrameCounter,
    replay: ReplayTable<REPLAY>,
    policy: SecurityPolicy,
    /// A rotation waiting for its sequence to be persisted.
    pending: bool,
    stats: SecurityStats,
}

impl<C: BlockCipher, const REPLAY: usize> LinkSecurity<C, REPLAY> {
    /// Security under `keys` with the outgoing frame `counter` (from [`FrameCounter::resume`]
    /// with what storage holds for `keys`' sequence, or [`FrameCounter::restart`] for a
    /// sequence never used), replay entries in `replay` (capacity named by the caller's
    /// resources).
    pub fn new(
        keys: KeyTable<C>,
        counter: FrameCounter,
        replay: ReplayTable<REPLAY>,
        policy: SecurityPolicy,
    ) -> Self {
        LinkSecurity {
            keys,
            counter,
            replay,
            policy,
            pending: false,
            stats: SecurityStats::default(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &SecurityPolicy {
        &self.policy
    }

    /// Changes the policy (level, unsecured frame types, persist step of the next resume).
    pub fn set_policy(&mut self, policy: SecurityPolicy) {
        self.policy = policy;
    }

    /// The current key sequence.
    pub fn key_sequence(&self) -> u32 {
        self.keys.sequence()
    }

    /// The key index frames go out under.
    pub fn key_index(&self) -> u8 {
        key_index(self.keys.sequence())
    }

    /// The frame counter the next frame gets.
    pub fn frame_counter(&self) -> u32 {
        self.counter.peek()
    }

    /// (Neighbour, key) pairs in the replay table, and its capacity.
    pub fn replay_occupancy(&self) -> (usize, usize) {
        (self.replay.len(), self.replay.capacity())
    }

    /// Whether a rotation waits for its sequence to be persisted.
    pub fn rotation_pending(&self) -> bool {
        self.pending
    }

    /// The counters.
    pub fn stats(&self) -> &SecurityStats {
        &self.stats
    }

    /// Replaces the counters (a new key keeps counting where the old one stopped).
    pub fn set_stats(&mut self, stats: SecurityStats) {
        self.stats = stats;
    }

    /// Zeroes the counters.
    pub fn reset_stats(&mut self) {
        self.stats = SecurityStats::default();
    }

    /// Bytes security adds to a frame: the auxiliary security header (security control,
    /// frame counter, key index) and the MIC.
    pub fn tx_overhead(&self) -> usize {
        1 + 4 + 1 + self.policy.level.mic_len()
    }

    /// The security of the next frame to send, its frame counter consumed; `None` (counted)
    /// when no counter can be handed out — the frame must not go out unsecured. A counter
    /// within [`ROTATE_MARGIN`] of exhaustion starts a rotation.
    pub fn tx(&mut self) -> Option<TxSecurity<'_>> {
        if self.counter.near_exhaustion(ROTATE_MARGIN) {
            let _ = self.rotate();
        }
        match self.counter.take() {
            Ok(frame_counter) => {
                self.stats.tx_secured = self.stats.tx_secured.wrapping_add(1);
                Some(TxSecurity {
                    level: self.policy.level,
                    key_id: self.keys.tx_key_id(),
                    frame_counter,
                    cipher: self.keys.current(),
                })
            }
            Err(CounterError::Exhausted | CounterError::PersistPending) => {
                self.stats.tx_no_counter = self.stats.tx_no_counter.wrapping_add(1);
                None
            }
        }
    }

    /// Checks and opens the received MPDU `mpdu` (no FCS) in place. An unsecured frame passes
    /// only if the policy allows its type; a secured one only with a known key, a new frame
    /// counter and a verified MIC (then it is plaintext, MIC excluded, at the returned
    /// payload range). `nonce_source` is the sender's EUI-64 when the frame's source address
    /// is short. Every refusal is counted by reason; on any error the bytes are as received.
    ///
    /// A frame verified under the next key means its sender rotated: this interface starts
    /// the same rotation.
    pub fn receive(
        &mut self,
        mpdu: &mut [u8],
        nonce_source: Option<[u8; 8]>,
    ) -> Result<Inbound, RxError> {
        // One walk of the header: a secured frame's layout comes from the same parse.
        let layout = match Repr::parse_frame(mpdu) {
            Ok((repr, payload)) if repr.is_secured() => {
                SecuredLayout::from_repr(&repr, mpdu, mpdu.len() - payload.len(), nonce_source)
            }
            Ok((repr, _)) => {
                if self.policy.allows_unsecured(repr.frame_type) {
                    return Ok(Inbound::Clear);
                }
                bump(&mut self.stats.rx_unsecured);
                return Err(RxError::NotSecured);
            }
            Err(e) => {
                bump(&mut self.stats.rx_unsupported);
                return Err(RxError::Parse(e));
            }
        };
        let received = match layout {
            Ok(layout) => receive_layout(&self.keys, &mut self.replay, &layout, mpdu)
                .map_err(|e| (e, Some(layout.frame_counter))),
            Err(e) => Err((RxError::from(e), None)),
        };
        match received {
            Ok(r) => {
                bump(&mut self.stats.rx_secured);
                if r.evicted {
                    bump(&mut self.stats.replay_evictions);
                }
                if r.key.slot == KeySlot::Next {
                    let _ = self.rotate();
                }
                Ok(Inbound::Secured(r))
            }
            Err((e, counter)) => {
                bump(match e {
                    RxError::UnknownKey => &mut self.stats.rx_no_key,
                    RxError::MicMismatch => &mut self.stats.rx_mic_failures,
                    // The very counter last accepted: a retransmission whose ACK was lost.
                    RxError::Replay(r) if Some(r.last) == counter => &mut self.stats.rx_duplicates,
                    RxError::Replay(_) => &mut self.stats.rx_replays,
                    RxError::NotSecured => &mut self.stats.rx_unsecured,
                    _ => &mut self.stats.rx_unsupported,
                });
                Err(e)
            }
        }
    }

    /// Starts a rotation to the next key sequence: it takes effect once
    /// [`LinkSecurity::persisted`] confirms the new sequence is stored
    /// ([`LinkSecurity::needs_persist`] asks for it).
    pub fn rotate(&mut self) -> Result<(), RotateError> {
        if self.pending {
            return Err(RotateError::Pending);
        }
        if self.keys.sequence() == u32::MAX {
            return Err(RotateError::LastSequence);
        }
        self.pending = true;
        Ok(())
    }

    /// What to write to storage now, if anything: (key sequence, frame counter). Store both;
    /// after a reboot, build the keys for the stored sequence and resume the counter from the
    /// stored value ([`FrameCounter::resume`] with [`SecurityPolicy::persist_step`]).
    pub fn needs_persist(&self) -> Option<(u32, u32)> {
        if self.pending {
            return self.keys.sequence().checked_add(1).map(|s| (s, 0));
        }
        self.counter
            .needs_persist()
            .map(|c| (self.keys.sequence(), c))
    }

    /// Confirms that (`sequence`, `counter`) from [`LinkSecurity::needs_persist`] is in
    /// storage: a pending rotation takes effect (counter restarted at 0), or the counter may
    /// go on.
    pub fn persisted(&mut self, sequence: u32, counter: u32) {
        let current = self.keys.sequence();
        if self.pending && Some(sequence) == current.checked_add(1) {
            if !self.keys.rotate() {
                return;
            }
            self.pending = false;
            // The key two sequences back is no longer accepted: its replay entries go.
            if let Some(old) = current.checked_sub(1) {
                self.replay.forget_key(key_index(old));
            }
            self.counter = FrameCounter::restart(self.policy.persist_step);
            bump(&mut self.stats.key_rotations);
        } else if sequence == current {
            self.counter.persisted(counter);
        }
    }
}

fn bump(c: &mut u32) {
    *c = c.wrapping_add(1);
}
