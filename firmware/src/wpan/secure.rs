//! `wpan0`'s link-layer security: the cipher type the board chooses ([`WpanCipher`]) and the
//! security state's type and capacity ([`WpanSecurity`], [`WPAN_REPLAY`]).
//!
//! The keys, counters, replay table and policy are `l2_15_4::security::LinkSecurity`'s; this
//! file only fixes its parameters for the firmware. The cipher is a choice of the board: the
//! Linux board (and tests) use RustCrypto's software AES (feature `soft-aes`); the nRF52840
//! hands in its AES-ECB peripheral as a [`HwBlock`] function, and leaves the software AES (about
//! 2.7 KiB of flash) out of the image.

use core::ops::Range;

use l2_15_4::security::{BlockCipher, Inbound, Key, LinkSecurity, RxError};

/// Replay-table entries of `wpan0`: (neighbour, key) pairs — 128 neighbours heard under one
/// key, or 64 during a rotation, when each is heard under two (2 KiB of RAM). A pair beyond
/// them evicts the least recently heard, counted as `replay_evictions`: that neighbour's
/// older frames would pass once more. The root of the 100-node mesh hears about 100 nodes
/// (64 entries evicted 694 times over a rotation there).
pub const WPAN_REPLAY: usize = 128;

/// The link-layer security of `wpan0`.
pub type WpanSecurity = LinkSecurity<WpanCipher, WPAN_REPLAY>;

/// One AES-128 block encryption by hardware: `block` encrypted in place under `key`.
pub type HwBlock = fn(key: &[u8; 16], block: &mut [u8; 16]);

/// A MAC key loaded for CCM*: software AES with its key schedule, or a key held for a hardware
/// block.
pub struct WpanCipher(Inner);

// No heap to box the key schedule in; the board (no `soft-aes`) has only the small variant.
#[allow(clippy::large_enum_variant)]
enum Inner {
    #[cfg(feature = "soft-aes")]
    Soft(aes::Aes128),
    Hw {
        key: Key,
        block: HwBlock,
    },
}

impl core::fmt::Debug for WpanCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("WpanCipher")
    }
}

impl WpanCipher {
    /// `key` in software AES: the cipher factory of boards without an AES block.
    #[cfg(feature = "soft-aes")]
    pub fn soft(key: &Key) -> WpanCipher {
        use aes::cipher::KeyInit;
        WpanCipher(Inner::Soft(aes::Aes128::new(key.bytes().into())))
    }

    /// `key` for the hardware `block` function (a board's cipher factory calls this).
    pub fn hardware(key: &Key, block: HwBlock) -> WpanCipher {
        WpanCipher(Inner::Hw {
            key: Key::new(*key.bytes()),
            block,
        })
    }
}

impl BlockCipher for WpanCipher {
    fn encrypt_block(&self, block: &mut [u8; 16]) {
        match &self.0 {
            #[cfg(feature = "soft-aes")]
            Inner::Soft(c) => {
                use aes::cipher::BlockEncrypt;
                BlockEncrypt::encrypt_block(c, block.into());
            }
            Inner::Hw { key, block: f } => f(key.bytes(), block),
        }
    }
}

/// The cipher factory a board passes when it enables security.
pub type CipherFactory = fn(&Key) -> WpanCipher;

/// Passes the received MPDU `mpdu` (no FCS) through `wpan0`'s security: `Ok(Some(payload))`
/// for a secured frame now plaintext in place, `Ok(None)` for an unsecured frame the policy
/// accepts, `Err` for a refused frame (counted by reason in `SecurityStats`). Frames from a
/// short source address cannot be opened (no EUI-64 for the nonce: our nodes and the
/// simulator's leaves send from their extended address) and count as unsupported.
pub(super) fn open(s: &mut WpanSecurity, mpdu: &mut [u8]) -> Result<Option<Range<usize>>, RxError> {
    match s.receive(mpdu, None)? {
        Inbound::Clear => Ok(None),
        Inbound::Secured(r) => Ok(Some(r.payload)),
    }
}
