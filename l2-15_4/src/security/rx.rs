//! The receive path of a secured frame: aux header, key, replay check, MIC, replay update.

use core::ops::Range;

use super::BlockCipher;
use super::frame::{SecureFrameError, SecuredLayout};
use super::keys::{KeyError, KeyMatch, KeyTable};
use super::replay::{ReplayTable, Replayed};
use crate::frame::ParseError;

/// Why a received frame was not accepted. Each variant is one drop reason to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RxError {
    /// The header does not parse.
    Parse(ParseError),
    /// The frame is not secured (whether that is allowed is the caller's policy).
    NotSecured,
    /// A security mode this crate refuses (2003 security, level 0 or 4, suppressed counter,
    /// ASN nonce, no extended source for the nonce, malformed open payload).
    Unsupported(SecureFrameError),
    /// No key for the frame's key identifier.
    UnknownKey,
    /// The frame counter is not above the last one accepted from that neighbour and key.
    Replay(Replayed),
    /// The MIC does not verify.
    MicMismatch,
}

impl core::fmt::Display for RxError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RxError::Parse(e) => write!(f, "{e}"),
            RxError::NotSecured => f.write_str("frame not secured"),
            RxError::Unsupported(e) => write!(f, "{e}"),
            RxError::UnknownKey => f.write_str("unknown key"),
            RxError::Replay(r) => write!(f, "{r}"),
            RxError::MicMismatch => f.write_str("MIC does not verify"),
        }
    }
}

impl core::error::Error for RxError {}

impl From<SecureFrameError> for RxError {
    fn from(e: SecureFrameError) -> Self {
        match e {
            SecureFrameError::Parse(p) => RxError::Parse(p),
            SecureFrameError::NotSecured => RxError::NotSecured,
            SecureFrameError::MicMismatch => RxError::MicMismatch,
            other => RxError::Unsupported(other),
        }
    }
}

impl From<KeyError> for RxError {
    fn from(_: KeyError) -> Self {
        RxError::UnknownKey
    }
}

/// A received frame that passed every check, now plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Received {
    /// The plaintext MAC payload in the MPDU (MIC excluded).
    pub payload: Range<usize>,
    /// The key that verified it (a [`super::KeySlot::Next`] match means the sender rotated).
    pub key: KeyMatch,
    /// The sender's EUI-64 (from the frame or the caller).
    pub source: [u8; 8],
    /// Its frame counter.
    pub frame_counter: u32,
    /// Whether recording it evicted the least recently used replay entry.
    pub evicted: bool,
}

/// Receives the secured MPDU `mpdu` (no FCS) in place: reads its auxiliary security header,
/// finds its key in `keys`, checks its frame counter against `replay`, verifies the MIC and
/// decrypts, and only then records the counter in `replay`.
///
/// `nonce_source` is the sender's EUI-64 when the frame's source address is short or absent
/// (the caller's neighbour table knows it). On any error the bytes are as received and
/// `replay` is unchanged.
pub fn receive<C: BlockCipher, const N: usize>(
    keys: &KeyTable<C>,
    replay: &mut ReplayTable<N>,
    mpdu: &mut [u8],
    nonce_source: Option<[u8; 8]>,
) -> Result<Received, RxError> {
    let layout = SecuredLayout::parse(mpdu, nonce_source)?;
    receive_layout(keys, replay, &layout, mpdu)
}

/// [`receive`] of a frame whose header was read already: `layout` is `mpdu`'s.
pub(super) fn receive_layout<C: BlockCipher, const N: usize>(
    keys: &KeyTable<C>,
    replay: &mut ReplayTable<N>,
    layout: &SecuredLayout,
    mpdu: &mut [u8],
) -> Result<Received, RxError> {
    let (key, cipher) = keys.lookup(&layout.aux.key_id)?;
    let source = layout.nonce_source;
    let counter = layout.frame_counter;
    replay
        .check(&source, key.key_index, counter)
        .map_err(RxError::Replay)?;
    let payload = layout.unsecure(cipher, mpdu)?;
    let evicted = replay.accept(&source, key.key_index, counter);
    Ok(Received {
        payload,
        key,
        source,
        frame_counter: counter,
        evicted,
    })
}
