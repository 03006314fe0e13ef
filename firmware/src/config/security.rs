//! Link-layer security of `wpan0` ([`SecurityConfig`], in
//! [`Config::security`](super::Config::security)): the network key every node of the mesh
//! shares, the level frames are sent at, which frame types may arrive unsecured, and the
//! rotation period. Added in encoding version 7; older records load with security off.
//!
//! The key is write-only: it is stored with the configuration but no management response
//! carries it, and `Debug`/`defmt` print it as redacted.

use serde::{Deserialize, Serialize};

/// Link-layer security settings.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityConfig {
    /// The network key (Thread's master key: MAC keys are derived from it per key sequence);
    /// `None`: security off, frames sent and accepted unsecured.
    pub network_key: Option<[u8; 16]>,
    /// Security level of frames sent: 1-3 (MIC-32/64/128) or 5-7 (ENC-MIC-32/64/128);
    /// default 5 (ENC-MIC-32, as Thread).
    pub level: u8,
    /// Frame types accepted unsecured, bit N = frame type N (0 beacon, 1 data, 3 MAC command);
    /// default 0 (none). Imm-ACKs are never secured and always accepted.
    pub unsecured_allowed: u8,
    /// Rotate the key sequence every this many hours; 0 (default): only on command, on a
    /// neighbour's rotation, or when the frame counter nears 2^32.
    pub rotate_period_h: u32,
}

impl SecurityConfig {
    /// Security off, level 5, nothing unsecured, no period.
    pub const OFF: SecurityConfig = SecurityConfig {
        network_key: None,
        level: 5,
        unsecured_allowed: 0,
        rotate_period_h: 0,
    };

    /// Whether the settings are usable: a level of 1-3 or 5-7, unsecured frame types among
    /// beacon, data and MAC command.
    pub fn is_valid(&self) -> bool {
        matches!(self.level, 1..=3 | 5..=7) && self.unsecured_allowed & !0b1011 == 0
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self::OFF
    }
}

impl core::fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SecurityConfig")
            .field("network_key", &self.network_key.map(|_| "<redacted>"))
            .field("level", &self.level)
            .field("unsecured_allowed", &self.unsecured_allowed)
            .field("rotate_period_h", &self.rotate_period_h)
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SecurityConfig {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "SecurityConfig {{ key: {}, level: {}, unsecured: {=u8:#x}, rotate: {}h }}",
            if self.network_key.is_some() {
                "set"
            } else {
                "none"
            },
            self.level,
            self.unsecured_allowed,
            self.rotate_period_h
        )
    }
}
