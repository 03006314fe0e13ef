//! IEEE 802.15.4 link-layer security, sans-IO: CCM* on frames in place, Thread key
//! derivation, key lookup during rotation, replay protection and the outgoing frame counter.
//!
//! Nothing here sends, receives, reads a clock or touches storage: the MAC passes frames and
//! persists what [`FrameCounter::needs_persist`] asks for.
//!
//! - [`ccm`]: CCM* (IEEE 802.15.4-2015 Annex B) over any [`BlockCipher`]: software AES
//!   ([`aes::Aes128`], RustCrypto's fixsliced constant-time implementation) today, a hardware
//!   AES-ECB block (the nRF52840's) later through the same one-method trait.
//! - [`frame`](mod@frame): [`secure`] and [`unsecure`] one MPDU in place; the nonce, the
//!   a-data/m-data split and every length come from one header walk, checked.
//! - [`keys`]: the network [`Key`] (wiped on drop), Thread's MAC/MLE key derivation
//!   ([`derive_thread_keys`], [`key_index`]) and the [`KeyTable`] of previous/current/next
//!   MAC keys.
//! - [`replay`]: the [`ReplayTable`] (highest accepted counter per neighbour and key, bounded,
//!   counted LRU eviction) and the outgoing [`FrameCounter`] (persist ahead, exhaustion).
//! - [`receive`]: the whole receive path in the order that keeps the replay table honest.
//! - [`LinkSecurity`]: one interface's keys, outgoing counter, replay table, policy and
//!   counters, with the two per-frame calls (`tx` for the MAC's [`crate::mac::TxSecurity`],
//!   `receive`) and the key sequence's life cycle (rotation persisted before use).
//!
//! Levels 1-3 (MIC-32/64/128) and 5-7 (ENC-MIC-32/64/128) are supported; level 4 (encryption
//! without integrity) and level 0 with the security bit set are refused, as are suppressed
//! frame counters and 2003 security. Key identifier modes 0 and 1 find keys; modes 2 and 3
//! parse but find none ([`KeyError::UnknownKey`]).
//!
//! Why our own CCM* and not RustCrypto's `ccm`: `ccm` computes the same bytes (M = 4/8/16 with
//! L = 2 is plain CCM, and the tests check ours against it), but it binds the block cipher to
//! the `cipher` crate's backend traits and brings `aead`/`ctr`, where the board needs a cipher
//! it can implement in three lines over its AES-ECB peripheral; CCM* here is ~150 lines.

pub mod ccm;
pub mod frame;
pub mod keys;
mod link;
pub mod replay;
mod rx;

pub use frame::{SecureFrameError, SecuredLayout, nonce, secure, unsecure};
pub use keys::{
    KEY_LEN, Key, KeyError, KeyMatch, KeySlot, KeyTable, KeyedCipher, ThreadKeys,
    derive_thread_keys, key_index,
};
pub use link::{Inbound, LinkSecurity, ROTATE_MARGIN, RotateError, SecurityPolicy, SecurityStats};
pub use replay::{CounterError, FrameCounter, ReplayTable, Replayed};
pub use rx::{Received, RxError, receive};

/// A 128-bit block cipher, encryption direction only (all CCM* needs).
pub trait BlockCipher {
    /// Encrypts one 16-byte block in place.
    fn encrypt_block(&self, block: &mut [u8; 16]);
}

impl BlockCipher for aes::Aes128 {
    fn encrypt_block(&self, block: &mut [u8; 16]) {
        use aes::cipher::BlockEncrypt;
        BlockEncrypt::encrypt_block(self, block.into());
    }
}

/// Replay table entries (neighbour, key index pairs) of [`DefaultSecurityResources`]: 32, two
/// keys each for the 16 neighbours of the MAC's default resources during a rotation.
pub const DEFAULT_REPLAY_ENTRIES: usize = 32;

/// The storage link-layer security needs, sized in one place.
#[derive(Debug, Clone, Default)]
pub struct SecurityResources<const REPLAY: usize> {
    /// Highest accepted frame counter per (neighbour, key index).
    pub replay: ReplayTable<REPLAY>,
}

impl<const REPLAY: usize> SecurityResources<REPLAY> {
    /// Empty storage.
    pub const fn new() -> Self {
        SecurityResources {
            replay: ReplayTable::new(),
        }
    }
}

/// [`SecurityResources`] with [`DEFAULT_REPLAY_ENTRIES`].
pub type DefaultSecurityResources = SecurityResources<DEFAULT_REPLAY_ENTRIES>;
