//! The TX state machine: unslotted CSMA/CA (random backoff, CCA), transmission, the wait for
//! the ACK and retransmissions, and when the MAC must be polled next.

use netif::time::{Duration, Instant};

use crate::consts::{self, symbols};
use crate::frame::Repr;
use crate::radio::{Radio, RadioError, TxMode, TxOutcome};

use super::counters::bump;
use super::{AckState, Mac, TxStatus};

/// Small xorshift32 PRNG: deterministic backoffs for replayable simulations.
#[derive(Debug, Clone, Copy)]
pub(super) struct Prng(u32);

impl Prng {
    pub(super) fn new(seed: u32) -> Self {
        Prng(if seed == 0 { 0x9e37_79b9 } else { seed })
    }
    pub(super) fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Nothing in progress (the queue head, if any, starts CSMA/CA once IFS has passed).
    Idle,
    /// Backing off until `until`, then CCA.
    Backoff { until: Instant, nb: u8, be: u8 },
    /// CCA found the channel idle; transmit at `at` (end of the CCA window).
    TxPending { at: Instant },
    /// The queue head is on air.
    OnAir,
    /// Waiting for the ACK; any ACK ending after `deadline` is late.
    AckWait { deadline: Instant },
}

impl<const TXQ: usize, const DUP: usize, const NBR: usize> Mac<TXQ, DUP, NBR> {
    /// When [`Mac::poll`] must be called next; `None` = only on the next event or enqueue.
    /// May be in the past (call `poll` at once).
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut d: Option<Instant> = None;
        let mut take = |t: Instant| d = Some(d.map_or(t, |x| x.min(t)));
        if let AckState::Pending { at, .. } = self.ack {
            take(at);
        }
        match self.state {
            State::Idle if !self.res.queue.is_empty() && self.ack == AckState::None => {
                take(self.ifs_until)
            }
            State::Backoff { until, .. } if self.ack == AckState::None => take(until),
            State::TxPending { at } if self.ack == AckState::None => take(at),
            State::AckWait { deadline } => take(deadline + Duration::from_micros(1)),
            _ => {}
        }
        d
    }

    /// Advances timers: sends a due ACK, starts or continues CSMA/CA, gives up waiting for an
    /// ACK. Call at [`Mac::next_deadline`].
    pub fn poll(&mut self, now: Instant, radio: &mut impl Radio) {
        // Bounded: each pass either changes state or stops.
        for _ in 0..16 {
            if !self.step(now, radio) {
                break;
            }
        }
    }

    pub(super) fn step(&mut self, now: Instant, radio: &mut impl Radio) -> bool {
        if let AckState::Pending { at, latest, psdu } = self.ack {
            if now < at {
                // Nothing else may start before the ACK is out.
                return self.check_ack_timeout(now);
            }
            // While our own frame is on the air the radio refuses the ACK (counted below);
            // a frame the radio has not started yet (a simulated medium holding it back for a
            // deaf addressee, as a CCA would) lets the ACK go first.
            if now > latest {
                bump(&mut self.counters.acks_skipped);
                self.ack = AckState::None;
                return true;
            }
            self.ack = match radio.transmit(now, &psdu, TxMode::Direct) {
                Ok(()) => AckState::OnAir,
                Err(_) => {
                    bump(&mut self.counters.acks_skipped);
                    AckState::None
                }
            };
            return true;
        }
        if self.check_ack_timeout(now) {
            return true;
        }
        if self.ack != AckState::None {
            return false;
        }
        match self.state {
            State::Idle if !self.res.queue.is_empty() && now >= self.ifs_until => {
                self.start_attempt(now, radio);
                true
            }
            State::Backoff { until, nb, be } if now >= until => {
                let idle = radio.cca(now).unwrap_or(false);
                if idle {
                    self.state = State::TxPending {
                        at: now + symbols(consts::CCA_SYMBOLS),
                    };
                } else {
                    let nb = nb.saturating_add(1);
                    let be = be.saturating_add(1).min(self.cfg.max_be);
                    if nb > self.cfg.max_csma_backoffs {
                        self.on_channel_busy(now);
                    } else {
                        let start = now + symbols(consts::CCA_SYMBOLS);
                        self.state = State::Backoff {
                            until: start + self.backoff(be),
                            nb,
                            be,
                        };
                    }
                }
                true
            }
            State::TxPending { at } if now >= at => {
                self.send_head(now, radio, TxMode::Direct);
                true
            }
            _ => false,
        }
    }

    pub(super) fn check_ack_timeout(&mut self, now: Instant) -> bool {
        if let State::AckWait { deadline } = self.state
            && now > deadline
        {
            self.on_no_ack(now);
            return true;
        }
        false
    }

    pub(super) fn backoff(&mut self, be: u8) -> Duration {
        let mask = (1u32 << u32::from(be.min(8))) - 1;
        let periods = u64::from(self.rng.next() & mask);
        Duration::from_micros(periods * consts::UNIT_BACKOFF_SYMBOLS * consts::SYMBOL_US)
    }

    /// The random wait before retransmission `retries` (1, 2, …) of a `len`-byte frame: a
    /// uniform whole number of the frame's own air times in 0..2^BE − 1, where BE is
    /// macMinBE plus `retries`, at most macMaxBE. A missing ACK is most often a collision with a hidden terminal,
    /// which the CCA of the retry cannot hear; the CSMA/CA backoff alone (0..7 periods of
    /// 320 µs, shorter than a data frame) restarts both senders inside one frame time, so
    /// they collide again. Waiting whole frame times from a window that doubles per retry
    /// (as Contiki-NG's CSMA grows its backoff after each NO_ACK) lets them miss each other.
    pub(super) fn retry_delay(&mut self, len: usize, retries: u8) -> Duration {
        let be = self.cfg.min_be.saturating_add(retries).min(self.cfg.max_be);
        let slots = u64::from(self.rng.next() & ((1u32 << be) - 1));
        Duration::from_micros(consts::airtime(len).as_micros() * slots)
    }

    pub(super) fn start_attempt(&mut self, now: Instant, radio: &mut impl Radio) {
        if self.caps.hw_csma {
            self.send_head(now, radio, TxMode::Csma);
        } else {
            // A frame without an ACK (broadcast) is never retried: its first backoff is all
            // that separates it from a hidden sender whose timer fired with ours (two nodes
            // retrying neighbour solicitations every second collided for good with the
            // 0..7-period window, shorter than the frame), so it draws from the macMaxBE
            // window. macMinBE = 0 still turns the first backoff off, as the standard has it.
            let be = match self.res.queue.front() {
                Some(e) if !e.ack_request && self.cfg.min_be > 0 => self.cfg.max_be,
                _ => self.cfg.min_be,
            };
            let until = now + self.backoff(be);
            self.state = State::Backoff { until, nb: 0, be };
        }
    }

    pub(super) fn send_head(&mut self, now: Instant, radio: &mut impl Radio, mode: TxMode) {
        let Some(entry) = self.res.queue.front_mut() else {
            self.state = State::Idle;
            return;
        };
        match radio.transmit(now, &entry.psdu, mode) {
            Ok(()) => {
                entry.transmissions = entry.transmissions.saturating_add(1);
                bump(&mut self.counters.tx_frames);
                self.state = State::OnAir;
            }
            Err(e) => {
                bump(&mut self.counters.tx_errors);
                let st = if e == RadioError::InvalidParameter {
                    TxStatus::InvalidParameter
                } else {
                    TxStatus::RadioFailure
                };
                self.complete(now, st);
            }
        }
    }

    pub(super) fn on_no_ack(&mut self, now: Instant) {
        let max = self.cfg.max_frame_retries;
        match self.res.queue.front_mut() {
            Some(e) if e.retries < max => {
                e.retries += 1;
                let (len, retries) = (e.psdu.len(), e.retries);
                bump(&mut self.counters.tx_retries);
                self.state = State::Idle;
                self.ifs_until = self.ifs_until.max(now) + self.retry_delay(len, retries);
            }
            _ => {
                bump(&mut self.counters.tx_no_ack);
                self.complete(now, TxStatus::NoAck);
            }
        }
    }

    /// One CSMA/CA attempt for the queue head found the channel busy macMaxCSMABackoffs + 1
    /// times (or the radio's own CSMA/CA said so). A busy channel is most often a neighbour
    /// sending a datagram's fragments back to back (a relay forwarding while its upstream
    /// neighbour sends the next datagram), longer than one attempt's backoffs; failing the
    /// frame would lose its whole datagram. So, as after a missing ACK (and as Contiki-NG's
    /// CSMA retries a collision), the frame waits a random whole number of its air times
    /// and starts a fresh attempt, up to [`MacConfig::max_channel_access_retries`] times, then
    /// fails with [`TxStatus::ChannelAccessFailure`]. The frames behind it wait at most that
    /// bound.
    ///
    /// [`MacConfig::max_channel_access_retries`]: super::MacConfig::max_channel_access_retries
    fn on_channel_busy(&mut self, now: Instant) {
        let max = self.cfg.max_channel_access_retries;
        match self.res.queue.front_mut() {
            Some(e) if e.access_retries < max => {
                e.access_retries += 1;
                let (len, retries) = (e.psdu.len(), e.access_retries);
                bump(&mut self.counters.tx_channel_access_retries);
                self.state = State::Idle;
                self.ifs_until = self.ifs_until.max(now) + self.retry_delay(len, retries);
            }
            _ => {
                bump(&mut self.counters.tx_channel_access_failures);
                self.complete(now, TxStatus::ChannelAccessFailure);
            }
        }
    }

    pub(super) fn on_tx_done(&mut self, end: Instant, outcome: TxOutcome) {
        if self.ack == AckState::OnAir {
            self.ack = AckState::None;
            bump(&mut self.counters.acks_sent);
            self.ifs_until = self
                .ifs_until
                .max(end + consts::ifs(consts::IMM_ACK_PSDU_LEN));
            return;
        }
        if self.state != State::OnAir {
            return;
        }
        let (len, ack_request) = match self.res.queue.front() {
            Some(e) => (e.psdu.len(), e.ack_request),
            None => {
                self.state = State::Idle;
                return;
            }
        };
        match outcome {
            TxOutcome::Sent if ack_request && !self.caps.hw_auto_ack => {
                self.state = State::AckWait {
                    deadline: end + self.cfg.ack_wait,
                };
            }
            TxOutcome::Sent | TxOutcome::Acked { .. } => {
                self.ifs_until = end + consts::ifs(len);
                let retries = self.res.queue.front().map_or(0, |e| e.retries);
                self.complete(end, TxStatus::Success { retries });
            }
            TxOutcome::NoAck => {
                self.ifs_until = end + consts::ifs(len);
                self.on_no_ack(end);
            }
            TxOutcome::ChannelBusy => self.on_channel_busy(end),
            TxOutcome::Failed(e) => {
                bump(&mut self.counters.tx_errors);
                let st = if e == RadioError::InvalidParameter {
                    TxStatus::InvalidParameter
                } else {
                    TxStatus::RadioFailure
                };
                self.complete(end, st);
            }
        }
    }

    pub(super) fn on_ack(&mut self, repr: &Repr<'_>, ts: Instant) {
        let State::AckWait { deadline } = self.state else {
            return;
        };
        let Some(head) = self.res.queue.front() else {
            return;
        };
        if repr.sequence_number != Some(head.seq) {
            return;
        }
        if ts > deadline {
            bump(&mut self.counters.rx_acks_late);
            return;
        }
        let (len, retries) = (head.psdu.len(), head.retries);
        self.ifs_until = ts + consts::ifs(len);
        self.complete(ts, TxStatus::Success { retries });
    }
}
