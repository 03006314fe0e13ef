//! Keys: the network key, Thread's derivation of MAC (and MLE) keys per key sequence, and the
//! [`KeyTable`] that finds the key of a received frame during a rotation.
//!
//! Thread derivation (Thread 1.1 §7.1.4, as OpenThread's `KeyManager::ComputeKeys` and
//! Wireshark's "Thread hash" key option do it): HMAC-SHA256 keyed by the network key over the
//! key sequence (4 bytes, big-endian) followed by the ASCII string `Thread`; the MLE key is
//! the first 16 bytes of the digest, the MAC key the last 16. A frame names its MAC key with
//! key identifier mode 1 and key index `(sequence mod 128) + 1`, Thread's rule (OpenThread's
//! `KeyManager`: `(mKeySequence & 0x7f) + 1`; Wireshark recovers the sequence from those 7
//! bits). Issue 24 wrote "mod 127"; from sequence 127 on that names other indices than Thread,
//! and Wireshark then finds no key.

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::BlockCipher;
use crate::frame::KeyId;

/// Length of a key (AES-128).
pub const KEY_LEN: usize = 16;

/// A 128-bit key. Wiped on drop; its `Debug` does not show the bytes.
#[derive(Clone)]
pub struct Key([u8; KEY_LEN]);

impl Zeroize for Key {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for Key {}

impl Key {
    /// A key from its bytes.
    pub const fn new(bytes: [u8; KEY_LEN]) -> Key {
        Key(bytes)
    }
    /// The key bytes (to load a cipher).
    pub fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Key(..)")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Key {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Key(..)")
    }
}

/// The keys Thread derives from the network key for one key sequence.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ThreadKeys {
    /// MLE key: the first half of the digest.
    pub mle: Key,
    /// MAC key: the second half of the digest.
    pub mac: Key,
}

/// SHA-256's block: the length HMAC pads its key to (RFC 2104).
const HMAC_BLOCK: usize = 64;

/// SHA-256's initial hash value (FIPS 180-4 §5.3.3).
const SHA256_H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// SHA-256 of one full block `first` followed by `tail` (at most 55 bytes, so that the padding
/// fits one more block), from `sha2`'s compression function alone (FIPS 180-4 §5.1.1 padding).
fn sha256_block_and_tail(first: &[u8; HMAC_BLOCK], tail: &[u8]) -> [u8; 32] {
    let mut last = [0u8; HMAC_BLOCK];
    let n = tail.len().min(HMAC_BLOCK - 9);
    last[..n].copy_from_slice(&tail[..n]);
    last[n] = 0x80;
    let bits = ((HMAC_BLOCK + n) as u64) * 8;
    last[HMAC_BLOCK - 8..].copy_from_slice(&bits.to_be_bytes());
    let mut state = SHA256_H0;
    sha2::compress256(&mut state, &[(*first).into(), last.into()]);
    last.zeroize();
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    state.zeroize();
    out
}

/// HMAC-SHA256 (RFC 2104) under a 16-byte `key` of a message of at most 55 bytes: written out
/// over `sha2`'s compression function rather than taken from the `hmac` crate, whose generic
/// buffering layers cost the nRF52840 image about 0.5 KiB for this one fixed use. Checked
/// against `hmac` in the tests.
fn hmac_sha256(key: &[u8; KEY_LEN], message: &[u8]) -> [u8; 32] {
    let mut pad = [0x36u8; HMAC_BLOCK];
    for (p, k) in pad.iter_mut().zip(key) {
        *p ^= k;
    }
    let mut inner = sha256_block_and_tail(&pad, message);
    // opad = ipad ^ 0x36 ^ 0x5c.
    for p in pad.iter_mut() {
        *p ^= 0x36 ^ 0x5c;
    }
    let out = sha256_block_and_tail(&pad, &inner);
    pad.zeroize();
    inner.zeroize();
    out
}

/// Derives the MLE and MAC keys of key sequence `sequence` from `network_key`.
pub fn derive_thread_keys(network_key: &Key, sequence: u32) -> ThreadKeys {
    let [s0, s1, s2, s3] = sequence.to_be_bytes();
    let mut digest = hmac_sha256(
        network_key.bytes(),
        &[s0, s1, s2, s3, b'T', b'h', b'r', b'e', b'a', b'd'],
    );
    let mut mle = [0u8; KEY_LEN];
    let mut mac = [0u8; KEY_LEN];
    mle.copy_from_slice(&digest[..KEY_LEN]);
    mac.copy_from_slice(&digest[KEY_LEN..]);
    digest.zeroize();
    ThreadKeys {
        mle: Key(mle),
        mac: Key(mac),
    }
}

/// The key index (1..=128) that names key sequence `sequence` in key identifier mode 1:
/// its low 7 bits plus one, as Thread numbers it.
pub const fn key_index(sequence: u32) -> u8 {
    // (sequence mod 128) + 1 is at most 128.
    (sequence & 0x7f) as u8 + 1
}

/// A block cipher that can be keyed: software AES ([`aes::Aes128`]) or a hardware block (the
/// nRF52840's AES-ECB) behind the same two calls.
pub trait KeyedCipher: BlockCipher + Sized {
    /// The cipher loaded with `key`.
    fn with_key(key: &Key) -> Self;
}

impl KeyedCipher for aes::Aes128 {
    fn with_key(key: &Key) -> Self {
        use aes::cipher::KeyInit;
        aes::Aes128::new(key.bytes().into())
    }
}

/// Which of the three keys of a [`KeyTable`] a frame used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KeySlot {
    /// The key of the sequence before the current one (frames sent before a neighbour
    /// switched).
    Previous,
    /// The current key (also the key of key identifier mode 0).
    Current,
    /// The key of the next sequence: the sender has rotated already; Thread switches to it.
    Next,
}

/// A key found for a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KeyMatch {
    /// Which key.
    pub slot: KeySlot,
    /// Its key sequence.
    pub sequence: u32,
    /// The key index the replay table keys on: the frame's index in mode 1, 0 in mode 0.
    pub key_index: u8,
}

/// Why no key was found for a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum KeyError {
    /// Key identifier mode 1 with an index that is not the previous, current or next key's,
    /// or mode 2/3 (key sources are not used here).
    UnknownKey,
}

impl core::fmt::Display for KeyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("no key for this key identifier")
    }
}

impl core::error::Error for KeyError {}

/// The MAC keys of the previous, current and next key sequence, derived from the network key,
/// loaded into ciphers once (not per frame).
///
/// Send with [`KeyTable::current`] under [`KeyTable::tx_key_id`]; on receive,
/// [`KeyTable::lookup`] maps the frame's key identifier to a key. [`KeyTable::rotate`]
/// advances the sequence: the old current key stays acceptable as the previous one, and the
/// key after the new current one is derived.
pub struct KeyTable<C: BlockCipher> {
    network_key: Key,
    /// Loads a derived key into a cipher (software AES, or a hardware block's key holder).
    make: fn(&Key) -> C,
    sequence: u32,
    previous: Option<C>,
    current: C,
    next: Option<C>,
}

impl<C: BlockCipher> core::fmt::Debug for KeyTable<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyTable")
            .field("sequence", &self.sequence)
            .finish_non_exhaustive()
    }
}

fn mac_cipher<C>(make: fn(&Key) -> C, network_key: &Key, sequence: u32) -> C {
    make(&derive_thread_keys(network_key, sequence).mac)
}

impl<C: KeyedCipher> KeyTable<C> {
    /// The keys around key sequence `sequence` of `network_key`, in ciphers made by
    /// [`KeyedCipher::with_key`].
    pub fn new(network_key: Key, sequence: u32) -> Self {
        Self::with_cipher(network_key, sequence, C::with_key)
    }
}

impl<C: BlockCipher> KeyTable<C> {
    /// The keys around key sequence `sequence` of `network_key`, each loaded into a cipher by
    /// `make` (a board passes the constructor of its hardware block's key holder).
    pub fn with_cipher(network_key: Key, sequence: u32, make: fn(&Key) -> C) -> Self {
        let previous = sequence
            .checked_sub(1)
            .map(|s| mac_cipher(make, &network_key, s));
        let current = mac_cipher(make, &network_key, sequence);
        let next = sequence
            .checked_add(1)
            .map(|s| mac_cipher(make, &network_key, s));
        KeyTable {
            network_key,
            make,
            sequence,
            previous,
            current,
            next,
        }
    }

    /// The current key sequence.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The cipher of the current MAC key (for sending).
    pub fn current(&self) -> &C {
        &self.current
    }

    /// The key identifier of frames sent under the current key: mode 1, index
    /// [`key_index`]`(sequence)`.
    pub fn tx_key_id(&self) -> KeyId {
        KeyId::Index(key_index(self.sequence))
    }

    /// Moves to the next key sequence. Returns `false` (and changes nothing) at the last
    /// sequence (`u32::MAX`).
    pub fn rotate(&mut self) -> bool {
        let Some(seq) = self.sequence.checked_add(1) else {
            return false;
        };
        let next = seq
            .checked_add(1)
            .map(|s| mac_cipher(self.make, &self.network_key, s));
        let Some(current) = core::mem::replace(&mut self.next, next) else {
            return false;
        };
        self.previous = Some(core::mem::replace(&mut self.current, current));
        self.sequence = seq;
        true
    }

    /// The key of a received frame with key identifier `key_id`, and the cipher loaded with
    /// it.
    ///
    /// Mode 0 (implicit) is the current key; mode 1 is matched against the previous, current
    /// and next key index (the current first); modes 2 and 3 are refused
    /// ([`KeyError::UnknownKey`]).
    pub fn lookup(&self, key_id: &KeyId) -> Result<(KeyMatch, &C), KeyError> {
        let index = match key_id {
            KeyId::Implicit => {
                return Ok((
                    KeyMatch {
                        slot: KeySlot::Current,
                        sequence: self.sequence,
                        key_index: 0,
                    },
                    &self.current,
                ));
            }
            KeyId::Index(i) => *i,
            KeyId::Source4(..) | KeyId::Source8(..) => return Err(KeyError::UnknownKey),
        };
        let found = |slot, sequence| KeyMatch {
            slot,
            sequence,
            key_index: index,
        };
        if index == key_index(self.sequence) {
            return Ok((found(KeySlot::Current, self.sequence), &self.current));
        }
        if let (Some(seq), Some(c)) = (self.sequence.checked_sub(1), &self.previous)
            && index == key_index(seq)
        {
            return Ok((found(KeySlot::Previous, seq), c));
        }
        if let (Some(seq), Some(c)) = (self.sequence.checked_add(1), &self.next)
            && index == key_index(seq)
        {
            return Ok((found(KeySlot::Next, seq), c));
        }
        Err(KeyError::UnknownKey)
    }
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, Mac};
    use proptest::prelude::*;
    use sha2::Sha256;

    use super::*;

    proptest! {
        /// The hand-written HMAC-SHA256 equals RustCrypto's `hmac` for any key and message
        /// up to its 55-byte limit (the Thread vectors in tests/security_vectors.rs pin the
        /// derivation itself).
        #[test]
        fn hmac_matches_the_hmac_crate(
            key in any::<[u8; KEY_LEN]>(),
            m in proptest::collection::vec(any::<u8>(), 0..=55),
        ) {
            let mut r = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
            r.update(&m);
            let want: [u8; 32] = r.finalize().into_bytes().into();
            prop_assert_eq!(hmac_sha256(&key, &m), want);
        }
    }
}
