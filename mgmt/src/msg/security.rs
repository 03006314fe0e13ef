//! The link-layer security messages' bodies: the settings an operator changes
//! ([`SecuritySettings`]) and what `security show` reports ([`SecurityInfo`]). The network key
//! travels only towards the device ([`Request::SecuritySetKey`]); no response carries it.

use serde::{Deserialize, Serialize};

use crate::schema::schema_types;

schema_types! {
    /// Link-layer security settings of `wpan0` (the device's configuration).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SecuritySettings {
        /// Security level of frames sent: 1-3 (MIC-32/64/128) or 5-7 (ENC-MIC-32/64/128).
        pub level: u8,
        /// Frame types accepted unsecured, bit N = frame type N (0 beacon, 1 data,
        /// 3 MAC command); 0 = none.
        pub unsecured_allowed: u8,
        /// Rotate the key sequence every this many hours (0: only on command).
        pub rotate_period_h: u32,
    }
}

schema_types! {
    /// Frames refused by link-layer security, by reason.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SecurityDrops {
        /// Under a key index this node does not hold.
        pub no_key: u32,
        /// MIC did not verify.
        pub mic: u32,
        /// Frame counter below the last accepted from the sender under that key.
        pub replay: u32,
        /// Frame counter equal to the last accepted (a retransmission).
        pub duplicate: u32,
        /// Unsecured, and the policy wants it secured.
        pub unsecured: u32,
        /// A security mode refused (level 0/4, 2003 security, suppressed counter, short
        /// source with no known EUI-64) or a header that does not parse.
        pub unsupported: u32,
    }
}

schema_types! {
    /// See [`Request::SecurityShow`]. Never the key.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SecurityInfo {
        /// A network key is configured and frames are secured.
        pub enabled: bool,
        /// The settings.
        pub settings: SecuritySettings,
        /// Key sequence in use.
        pub key_sequence: u32,
        /// Key index of frames sent ((sequence mod 128) + 1, as Thread).
        pub key_index: u8,
        /// The next outgoing frame counter.
        pub frame_counter: u32,
        /// A rotation waits for its key sequence to be persisted.
        pub rotation_pending: bool,
        /// Until the next periodic rotation, seconds (`None`: no period).
        pub next_rotation_s: Option<u32>,
        /// (Neighbour, key) pairs tracked for replay protection / capacity.
        pub neighbours: (u16, u16),
        /// Frames secured and sent, secured frames accepted.
        pub frames: (u32, u32),
        /// Frames not sent because no frame counter could be handed out.
        pub tx_no_counter: u32,
        /// Key sequence switches since boot.
        pub rotations: u32,
        /// Replay entries evicted to make room.
        pub replay_evictions: u32,
        /// Refusals by reason.
        pub drops: SecurityDrops,
    }
}
