//! Link-layer security of `wpan0` at the application level: started by the board with its
//! cipher and the counter record it stored ([`App::start_security`]), the network key and
//! settings changed at run time (write-only key), periodic rotation, and the counter record
//! the shell persists ahead ([`App::take_security_persist`], [`App::security_persisted`]).

use l2_15_4::frame::SecurityLevel;
use l2_15_4::security::{FrameCounter, Key, KeyTable, LinkSecurity, ReplayTable, SecurityPolicy};
use netif::{Duration, Instant};

use super::{App, AppError};
use crate::config::{ConfigError, SecurityConfig};
use crate::store::SecurityCounter;
use crate::wpan::CipherFactory;

/// The outgoing frame counter is written to storage every `SECURITY_PERSIST_STEP / 2` frames
/// and resumes `SECURITY_PERSIST_STEP` beyond the stored value after a reboot: a write every
/// 512 frames (on the board one 8-byte record in the counter log), at most 1024 counters
/// skipped per reboot.
pub const SECURITY_PERSIST_STEP: u32 = 1024;

/// A rotation on command or by the period is refused this long after the last key switch.
/// Every node follows a rotation when it first verifies a frame under the next key, and accepts
/// only the previous, current and next keys: a second rotation before a node has heard one
/// frame under the first would leave it two sequences behind, unable to read anything (Thread
/// has the same rule, its key switch guard time; it recovers lost nodes through MLE, which
/// this mesh does not run).
pub const KEY_SWITCH_GUARD: Duration = Duration::from_secs(3600);

fn policy(c: &SecurityConfig) -> SecurityPolicy {
    SecurityPolicy {
        level: SecurityLevel::new(c.level),
        unsecured_allowed: c.unsecured_allowed,
        persist_step: SECURITY_PERSIST_STEP,
    }
}

fn period(c: &SecurityConfig) -> Option<Duration> {
    (c.rotate_period_h > 0).then(|| Duration::from_secs(u64::from(c.rotate_period_h) * 3600))
}

impl App<'_> {
    /// Enables link-layer security on this board: `make` loads a MAC key into the board's
    /// cipher (software AES, or its AES block), `stored` is what the counter store holds. With
    /// a network key in the configuration, `wpan0` secures every frame from now on and accepts
    /// only secured ones (as the policy says). No secured frame goes out before a counter
    /// record is persisted: the shell writes what [`App::take_security_persist`] asks at once
    /// (before the first poll), as it does every few hundred frames later; frames sent
    /// before that are dropped and counted (`sec_tx_no_counter`). Without a key nothing
    /// changes until one is set ([`App::set_network_key`]).
    pub fn start_security(&mut self, stored: Option<SecurityCounter>, make: CipherFactory) {
        self.security.cipher = Some(make);
        self.security.stored = stored;
        self.apply_security(self.now);
    }

    /// (Re)builds `wpan0`'s security from the configuration: the key sequence and counter go
    /// on from the running state or the stored record (resumed one persist step ahead, never
    /// back), so a new key or policy never reuses a counter.
    fn apply_security(&mut self, now: Instant) {
        let cfg = self.cfg.security;
        let (Some(key), Some(make)) = (cfg.network_key, self.security.cipher) else {
            self.wpan.set_security(None);
            self.security.next_rotation = None;
            return;
        };
        let running = self
            .wpan
            .security()
            .map(|s| SecurityCounter {
                key_sequence: s.key_sequence(),
                frame_counter: s.frame_counter(),
            })
            .or(self.security.stored);
        let (sequence, counter) = match running {
            Some(c) => (
                c.key_sequence,
                FrameCounter::resume(c.frame_counter, SECURITY_PERSIST_STEP),
            ),
            // Nothing stored yet: as if 0 were stored, so the first frame waits for a record
            // to be written (`restart` would send counters a reboot before the first write
            // sends again).
            None => (0, FrameCounter::resume(0, SECURITY_PERSIST_STEP)),
        };
        let keys = KeyTable::with_cipher(Key::new(key), sequence, make);
        self.wpan.set_security(Some(LinkSecurity::new(
            keys,
            counter,
            ReplayTable::new(),
            policy(&cfg),
        )));
        self.security.next_rotation = period(&cfg).map(|p| now + p);
    }

    /// Sets (`Some`) or forgets (`None`) the network key, applied at once and marked for
    /// saving. Refused when the board started no security ([`App::start_security`]).
    pub fn set_network_key(&mut self, now: Instant, key: Option<[u8; 16]>) -> Result<(), AppError> {
        if key.is_some() && self.security.cipher.is_none() {
            return Err(AppError::SecurityUnavailable);
        }
        self.cfg.security.network_key = key;
        self.dirty = true;
        self.save_offered = false;
        info!(
            "link-layer security {}",
            if key.is_some() { "on" } else { "off" }
        );
        self.apply_security(now);
        Ok(())
    }

    /// Changes the level, the frame types accepted unsecured and the rotation period (the key
    /// stays as it is).
    pub fn set_security_settings(
        &mut self,
        now: Instant,
        level: u8,
        unsecured_allowed: u8,
        rotate_period_h: u32,
    ) -> Result<(), AppError> {
        let next = SecurityConfig {
            level,
            unsecured_allowed,
            rotate_period_h,
            ..self.cfg.security
        };
        if !next.is_valid() {
            return Err(AppError::Config(ConfigError::BadSecurity));
        }
        self.cfg.security = next;
        self.dirty = true;
        self.save_offered = false;
        if let Some(s) = self.wpan.security_mut() {
            s.set_policy(policy(&next));
        }
        self.security.next_rotation = period(&next).map(|p| now + p);
        Ok(())
    }

    /// Starts a rotation to the next key sequence (it takes effect once persisted). Refused
    /// when security is off, a rotation is already waiting, or the last key switch was less
    /// than [`KEY_SWITCH_GUARD`] ago.
    pub fn rotate_key(&mut self, now: Instant) -> Result<(), AppError> {
        if self
            .security
            .last_switch
            .is_some_and(|t| now.saturating_since(t) < KEY_SWITCH_GUARD)
        {
            return Err(AppError::SecurityBusy);
        }
        let s = self
            .wpan
            .security_mut()
            .ok_or(AppError::SecurityUnavailable)?;
        s.rotate().map_err(|_| AppError::SecurityBusy)?;
        self.security.next_rotation = period(&self.cfg.security).map(|p| now + p);
        Ok(())
    }

    /// Housekeeping: a periodic rotation when due (refused — within the guard time of a
    /// switch a neighbour started, or one still being persisted — it is tried again a minute
    /// later).
    pub(super) fn security_housekeeping(&mut self, now: Instant) {
        if self.security.next_rotation.is_some_and(|t| now >= t) && self.rotate_key(now).is_err() {
            self.security.next_rotation = Some(now + Duration::from_secs(60));
        }
    }

    /// What the shell must write to its counter store now, if anything; then call
    /// [`App::security_persisted`] with it. Until then, no frame beyond the persisted counter
    /// plus the step goes out, and a rotation does not take effect.
    pub fn take_security_persist(&self) -> Option<SecurityCounter> {
        let (key_sequence, frame_counter) = self.wpan.security()?.needs_persist()?;
        Some(SecurityCounter {
            key_sequence,
            frame_counter,
        })
    }

    /// The shell wrote `c` to its counter store.
    pub fn security_persisted(&mut self, c: SecurityCounter) {
        self.security.stored = Some(c);
        let Some(s) = self.wpan.security_mut() else {
            return;
        };
        let before = s.key_sequence();
        s.persisted(c.key_sequence, c.frame_counter);
        let after = s.key_sequence();
        if after != before {
            info!("link-layer key sequence {} -> {}", before, after);
            self.security.last_switch = Some(self.now);
        }
    }

    /// Until the next periodic rotation.
    pub fn next_rotation(&self) -> Option<Duration> {
        self.security
            .next_rotation
            .map(|t| t.saturating_since(self.now))
    }
}

/// The application's link-layer security state beside `wpan0`'s.
#[derive(Debug, Default)]
pub(super) struct AppSecurity {
    /// The board's cipher factory (`None`: this board runs no link-layer security).
    pub(super) cipher: Option<CipherFactory>,
    /// The counter record last persisted (what a rebuild resumes from).
    pub(super) stored: Option<SecurityCounter>,
    /// When the next periodic rotation is due.
    pub(super) next_rotation: Option<Instant>,
    /// The last key switch (for [`KEY_SWITCH_GUARD`]).
    pub(super) last_switch: Option<Instant>,
}
