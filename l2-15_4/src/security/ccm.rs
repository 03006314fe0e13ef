//! CCM* (IEEE 802.15.4-2015 Annex B): CCM with L = 2 (a 13-byte nonce) and MIC lengths 0, 4,
//! 6, 8, 10, 12, 14 or 16, over any 128-bit [`BlockCipher`].
//!
//! With a MIC (M > 0) CCM* is CCM (RFC 3610, NIST SP 800-38C) bit for bit: the same B0 flags
//! (Adata, (M-2)/2, L-1), the same length encodings and counter blocks. M = 0 (encryption
//! only) is the CCM* extension; the frame layer refuses it (security level 4), the engine keeps
//! it so the standard's Annex C.2.2 vector can be checked.
//!
//! Runs in place, one block of state, no heap. The tag comparison does not stop at the first
//! differing byte.

use super::BlockCipher;

/// Length of a CCM* nonce for 802.15.4 (source EUI-64, frame counter, security level).
pub const NONCE_LEN: usize = 13;
/// Block length of the cipher.
pub const BLOCK_LEN: usize = 16;

/// Why CCM* refused to run or to accept a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CcmError {
    /// A MIC length CCM* does not define (only 0, 4, 6, …, 16).
    MicLength,
    /// Authenticated data of 65 280 bytes or more, or a message longer than 65 535 bytes
    /// (L = 2); an 802.15.4 frame never comes close.
    TooLong,
    /// The MIC does not verify.
    MicMismatch,
}

impl core::fmt::Display for CcmError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CcmError::MicLength => "CCM* MIC length not 0, 4, 6, 8, 10, 12, 14 or 16",
            CcmError::TooLong => "CCM* input too long",
            CcmError::MicMismatch => "CCM* MIC does not verify",
        })
    }
}

impl core::error::Error for CcmError {}

fn check(a: &[u8], m: &[u8], mic_len: usize) -> Result<(), CcmError> {
    if mic_len > BLOCK_LEN || mic_len == 2 || !mic_len.is_multiple_of(2) {
        return Err(CcmError::MicLength);
    }
    if a.len() >= 0xff00 || m.len() > 0xffff {
        return Err(CcmError::TooLong);
    }
    Ok(())
}

/// The counter block A_i (flags L-1 = 1, nonce, i).
fn counter_block(nonce: &[u8; NONCE_LEN], i: u16) -> [u8; BLOCK_LEN] {
    let mut b = [0u8; BLOCK_LEN];
    b[0] = 1;
    b[1..14].copy_from_slice(nonce);
    b[14..].copy_from_slice(&i.to_be_bytes());
    b
}

/// CBC-MAC state: absorbs bytes into the running block, encrypting each full block.
struct CbcMac<'c> {
    cipher: &'c dyn BlockCipher,
    x: [u8; BLOCK_LEN],
    pos: usize,
}

impl CbcMac<'_> {
    fn absorb(&mut self, bytes: &[u8]) {
        for b in bytes {
            if let Some(x) = self.x.get_mut(self.pos) {
                *x ^= b;
            }
            self.pos += 1;
            if self.pos == BLOCK_LEN {
                self.cipher.encrypt_block(&mut self.x);
                self.pos = 0;
            }
        }
    }
    /// Pads the current block with zeros (ends a field).
    fn pad(&mut self) {
        if self.pos != 0 {
            self.cipher.encrypt_block(&mut self.x);
            self.pos = 0;
        }
    }
}

/// The unencrypted tag T (first `mic_len` bytes) over `a` and the plaintext `m`.
fn tag(
    cipher: &dyn BlockCipher,
    nonce: &[u8; NONCE_LEN],
    a: &[u8],
    m: &[u8],
    mic_len: usize,
) -> [u8; BLOCK_LEN] {
    let m_prime = if mic_len == 0 { 0 } else { (mic_len - 2) / 2 };
    let adata = u8::from(!a.is_empty()) << 6;
    let mut b0 = [0u8; BLOCK_LEN];
    b0[0] = adata | ((m_prime as u8) << 3) | 1;
    b0[1..14].copy_from_slice(nonce);
    // At most 0xffff (checked by `check`).
    b0[14..].copy_from_slice(&(m.len() as u16).to_be_bytes());
    cipher.encrypt_block(&mut b0);
    let mut mac = CbcMac {
        cipher,
        x: b0,
        pos: 0,
    };
    if !a.is_empty() {
        // 0 < l(a) < 2^16 - 2^8 (checked by `check`): two length bytes.
        mac.absorb(&(a.len() as u16).to_be_bytes());
        mac.absorb(a);
        mac.pad();
    }
    mac.absorb(m);
    mac.pad();
    mac.x
}

/// XORs `m` with the key stream S_1, S_2, … (counter mode).
fn ctr(cipher: &dyn BlockCipher, nonce: &[u8; NONCE_LEN], m: &mut [u8]) {
    for (i, chunk) in m.chunks_mut(BLOCK_LEN).enumerate() {
        // At most 4096 chunks (m.len() <= 0xffff).
        let mut s = counter_block(nonce, (i + 1) as u16);
        cipher.encrypt_block(&mut s);
        for (b, k) in chunk.iter_mut().zip(s.iter()) {
            *b ^= k;
        }
    }
}

/// The encrypted tag U = T xor S_0 (first `mic_len` bytes) over `a` and `m`, with `m`
/// encrypted (`decrypt == false`: `m` is plaintext on entry) or decrypted (`m` is ciphertext on
/// entry) in place. One body for both directions: only the order of the tag and the key stream
/// differs (the tag is always over the plaintext).
fn run(
    cipher: &dyn BlockCipher,
    nonce: &[u8; NONCE_LEN],
    a: &[u8],
    m: &mut [u8],
    mic_len: usize,
    decrypt: bool,
) -> Result<[u8; BLOCK_LEN], CcmError> {
    check(a, m, mic_len)?;
    if decrypt {
        ctr(cipher, nonce, m);
    }
    let mut t = tag(cipher, nonce, a, m, mic_len);
    if !decrypt {
        ctr(cipher, nonce, m);
    }
    let mut s0 = counter_block(nonce, 0);
    cipher.encrypt_block(&mut s0);
    for (b, k) in t.iter_mut().zip(s0.iter()) {
        *b ^= k;
    }
    Ok(t)
}

/// CCM* encryption in place: authenticates `a` and `m`, encrypts `m` (when `encrypt`) and
/// writes the MIC (`mic.len()` bytes: 0, 4, 6, …, 16) into `mic`.
///
/// With `encrypt == false` `m` stays plaintext and is authenticated as part of the
/// authenticated data: call it with `a` = everything and `m` empty for the 802.15.4 MIC-only
/// levels (the standard's a-data then covers the payload).
///
/// The cipher is a trait object: one copy of the engine serves every cipher (software AES,
/// a board's AES block) and both directions.
pub fn encrypt(
    cipher: &dyn BlockCipher,
    nonce: &[u8; NONCE_LEN],
    a: &[u8],
    m: &mut [u8],
    mic: &mut [u8],
) -> Result<(), CcmError> {
    let u = run(cipher, nonce, a, m, mic.len(), false)?;
    mic.copy_from_slice(u.get(..mic.len()).ok_or(CcmError::MicLength)?);
    Ok(())
}

/// CCM* decryption in place: decrypts `m` and verifies `mic` over `a` and the plaintext.
///
/// On [`CcmError::MicMismatch`] `m` is restored to the ciphertext it held: no unverified
/// plaintext is left behind.
pub fn decrypt(
    cipher: &dyn BlockCipher,
    nonce: &[u8; NONCE_LEN],
    a: &[u8],
    m: &mut [u8],
    mic: &[u8],
) -> Result<(), CcmError> {
    let u = run(cipher, nonce, a, m, mic.len(), true)?;
    let diff = u
        .iter()
        .zip(mic.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    if diff != 0 {
        ctr(cipher, nonce, m);
        return Err(CcmError::MicMismatch);
    }
    Ok(())
}
