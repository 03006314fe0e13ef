//! Address-Protected Neighbor Discovery (RFC 8928) codecs: the Crypto-ID Parameters Option
//! (CIPO), the NDP Signature Option (NDPSO), the Nonce option they use (RFC 3971 §5.3.2), the
//! Crypto-Types, and the byte string a registering node signs ([`signed_message`]).
//!
//! Codecs only, like the rest of [`nd`](super): no cryptography here (the firmware verifies
//! behind its `address-protection` feature). Each `…Repr` borrows its variable-length field
//! from the received bytes, `parse` checks every length, and `emit` writes exactly
//! `buffer_len()` bytes.
//!
//! ```text
//! CIPO (type 39):  | Type | Length | Rsvd1(5) Public Key Length(11) | Crypto-Type | Rsvd2 |
//!                  | Public Key ... | Padding to a multiple of 8 |
//! NDPSO (type 40): | Type | Length | Rsvd1(5) Signature Length(11) | Reserved2 (32) |
//!                  | Digital Signature ... | Padding to a multiple of 8 |
//! Nonce (type 14): | Type | Length | Nonce (Length * 8 - 2 bytes, at least 6) |
//! ```
//!
//! An option whose Length is larger than its content needs (more than 7 bytes of padding) is
//! refused as [`NdError::BadLength`], like one too short for what it announces: both are
//! malformed, and the 6LBR counts and drops the message.

use crate::buf::{Reader, Writer};

use super::NdError;

/// Nonce option (RFC 3971 §5.3.2).
pub const OPT_NONCE: u8 = 14;
/// Crypto-ID Parameters Option (RFC 8928 §4.3).
pub const OPT_CIPO: u8 = 39;
/// NDP Signature Option (RFC 8928 §4.4).
pub const OPT_NDPSO: u8 = 40;

/// The EARO's C flag (RFC 8928 §4.2): the ROVR is a Crypto-ID. In the flags octet
/// `Rsvd(3) C I(2) R T`.
pub const EARO_FLAG_C: u8 = 0x10;

/// The shortest nonce a Nonce option may carry (RFC 3971 §5.3.2: at least 6 bytes).
pub const NONCE_MIN: usize = 6;

/// The CGA Message Type tag of AP-ND, 0x8701 55C8 0CCA DD32 6AB7 E415 F148 84D0 (RFC 8928,
/// as IANA's "CGA Message Type" name space lists it): the first 16 bytes of every signed
/// message, so that a signature made for AP-ND cannot be taken for one of another protocol
/// that uses the same key.
pub const CGA_TAG_AP_ND: [u8; 16] = [
    0x87, 0x01, 0x55, 0xc8, 0x0c, 0xca, 0xdd, 0x32, 0x6a, 0xb7, 0xe4, 0x15, 0xf1, 0x48, 0x84, 0xd0,
];

/// The Crypto-Type of a CIPO (RFC 8928 §8.3, "Crypto-Type Subregistry").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CryptoType {
    /// 0: ECDSA over NIST P-256 with SHA-256.
    Ecdsa256,
    /// 1: Ed25519 (EdDSA, RFC 8032): 32-byte public key, 64-byte signature.
    Ed25519,
    /// 2: ECDSA over Wei25519 with SHA-256.
    Ecdsa25519,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for CryptoType {
    fn from(v: u8) -> Self {
        match v {
            0 => Self::Ecdsa256,
            1 => Self::Ed25519,
            2 => Self::Ecdsa25519,
            x => Self::Unknown(x),
        }
    }
}

impl From<CryptoType> for u8 {
    fn from(t: CryptoType) -> u8 {
        match t {
            CryptoType::Ecdsa256 => 0,
            CryptoType::Ed25519 => 1,
            CryptoType::Ecdsa25519 => 2,
            CryptoType::Unknown(x) => x,
        }
    }
}

/// `n` rounded up to a multiple of 8 (option lengths); `None` past what a Length octet can say.
fn padded(n: usize) -> Option<usize> {
    let p = n.checked_add(7)? & !7;
    (p <= 255 * 8).then_some(p)
}

/// Reads the Type and Length octets of an option of type `ty` and returns its whole bytes
/// (`Length * 8`), refusing a zero length and a buffer shorter than that.
fn option_bytes(data: &[u8], ty: u8) -> Result<&[u8], NdError> {
    let (&t, rest) = data.split_first().ok_or(NdError::Truncated)?;
    if t != ty {
        return Err(NdError::WrongType(t));
    }
    let &len = rest.first().ok_or(NdError::Truncated)?;
    if len == 0 {
        return Err(NdError::BadLength(0));
    }
    data.get(..usize::from(len) * 8).ok_or(NdError::Truncated)
}

/// A field of 11 bits after 5 reserved bits (CIPO's Public Key Length, NDPSO's Signature
/// Length), the field that follows, and the option's bytes; checks that the option is exactly
/// `fixed + field` rounded up to 8.
fn sized_field(opt: &[u8], fixed: usize, len: u16) -> Result<&[u8], NdError> {
    let n = usize::from(len & 0x07ff);
    let want = padded(fixed + n).ok_or(NdError::BadLength(0))?;
    let l = u8::try_from(opt.len() / 8).unwrap_or(u8::MAX);
    if opt.len() != want {
        return Err(if opt.len() < want {
            NdError::Truncated
        } else {
            NdError::BadLength(l)
        });
    }
    opt.get(fixed..fixed + n).ok_or(NdError::Truncated)
}

/// Crypto-ID Parameters Option, RFC 8928 §4.3: the public key a Crypto-ID is computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CipoRepr<'a> {
    /// The algorithm of the key and of the signature.
    pub crypto_type: CryptoType,
    /// The public key, in the representation of `crypto_type` (RFC 8032's 32 bytes for
    /// Ed25519).
    pub public_key: &'a [u8],
}

impl<'a> CipoRepr<'a> {
    /// Parse a CIPO (starting at its Type octet; `data` may extend past the option).
    pub fn parse(data: &'a [u8]) -> Result<Self, NdError> {
        let opt = option_bytes(data, OPT_CIPO)?;
        let mut r = Reader::new(opt);
        let t = NdError::Truncated;
        r.take(2).ok_or(t)?;
        let pk_len = r.u16().ok_or(t)?;
        let crypto_type = CryptoType::from(r.u8().ok_or(t)?);
        let public_key = sized_field(opt, 6, pk_len)?;
        Ok(CipoRepr {
            crypto_type,
            public_key,
        })
    }
    /// Bytes [`emit`](Self::emit) writes (0 if the key is too long for the option).
    pub fn buffer_len(&self) -> usize {
        padded(6 + self.public_key.len()).unwrap_or(0)
    }
    /// Write the option (reserved fields and padding zero).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, NdError> {
        let n = self.buffer_len();
        let k = u16::try_from(self.public_key.len())
            .ok()
            .filter(|&k| k <= 0x07ff && n != 0)
            .ok_or(NdError::BadLength(0))?;
        let [k0, k1] = k.to_be_bytes();
        let out = buf.get_mut(..n).ok_or(NdError::BufferTooSmall)?;
        out.fill(0);
        let mut w = Writer::new(out);
        let e = |_| NdError::BufferTooSmall;
        w.put(&[OPT_CIPO, (n / 8) as u8, k0, k1, self.crypto_type.into(), 0])
            .map_err(e)?;
        w.put(self.public_key).map_err(e)?;
        Ok(n)
    }
}

/// NDP Signature Option, RFC 8928 §4.4: the registering node's signature over
/// [`signed_message`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NdpsoRepr<'a> {
    /// The signature (64 bytes for Ed25519).
    pub signature: &'a [u8],
}

impl<'a> NdpsoRepr<'a> {
    /// Parse an NDPSO (starting at its Type octet; `data` may extend past the option).
    pub fn parse(data: &'a [u8]) -> Result<Self, NdError> {
        let opt = option_bytes(data, OPT_NDPSO)?;
        let mut r = Reader::new(opt);
        let t = NdError::Truncated;
        r.take(2).ok_or(t)?;
        let sig_len = r.u16().ok_or(t)?;
        let signature = sized_field(opt, 8, sig_len)?;
        Ok(NdpsoRepr { signature })
    }
    /// Bytes [`emit`](Self::emit) writes (0 if the signature is too long for the option).
    pub fn buffer_len(&self) -> usize {
        padded(8 + self.signature.len()).unwrap_or(0)
    }
    /// Write the option (reserved fields and padding zero).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, NdError> {
        let n = self.buffer_len();
        let k = u16::try_from(self.signature.len())
            .ok()
            .filter(|&k| k <= 0x07ff && n != 0)
            .ok_or(NdError::BadLength(0))?;
        let [k0, k1] = k.to_be_bytes();
        let out = buf.get_mut(..n).ok_or(NdError::BufferTooSmall)?;
        out.fill(0);
        let mut w = Writer::new(out);
        let e = |_| NdError::BufferTooSmall;
        w.put(&[OPT_NDPSO, (n / 8) as u8, k0, k1, 0, 0, 0, 0])
            .map_err(e)?;
        w.put(self.signature).map_err(e)?;
        Ok(n)
    }
}

/// Nonce option, RFC 3971 §5.3.2: NonceLR from the 6LR in its challenge, NonceLN from the node
/// in its proof (RFC 8928 §6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NonceRepr<'a> {
    /// The random bytes: the option's whole content, at least [`NONCE_MIN`].
    pub nonce: &'a [u8],
}

impl<'a> NonceRepr<'a> {
    /// Parse a Nonce option (starting at its Type octet; `data` may extend past the option).
    pub fn parse(data: &'a [u8]) -> Result<Self, NdError> {
        let opt = option_bytes(data, OPT_NONCE)?;
        let nonce = opt.get(2..).ok_or(NdError::Truncated)?;
        if nonce.len() < NONCE_MIN {
            return Err(NdError::BadLength(1));
        }
        Ok(NonceRepr { nonce })
    }
    /// Bytes [`emit`](Self::emit) writes (0 if `nonce` cannot fill an option exactly).
    pub fn buffer_len(&self) -> usize {
        let n = 2 + self.nonce.len();
        if n.is_multiple_of(8) && n <= 255 * 8 && self.nonce.len() >= NONCE_MIN {
            n
        } else {
            0
        }
    }
    /// Write the option. Refuses a nonce shorter than [`NONCE_MIN`] or whose length is not 6
    /// modulo 8 (the option has no padding).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, NdError> {
        let n = self.buffer_len();
        if n == 0 {
            return Err(NdError::BadLength(0));
        }
        let mut w = Writer::new(buf);
        let e = |_| NdError::BufferTooSmall;
        w.put(&[OPT_NONCE, (n / 8) as u8]).map_err(e)?;
        w.put(self.nonce).map_err(e)?;
        Ok(n)
    }
}

/// Writes into `out` what a node registering `target` signs in its NDPSO (RFC 8928 §6.2), in
/// this order: the 16-byte [`CGA_TAG_AP_ND`], the CIPO as sent with reserved and padding bits
/// zero (`cipo`, e.g. from [`CipoRepr::emit`]), the 16-byte Target Address of the NS, NonceLR
/// (from the 6LR's challenge), NonceLN (from the node's Nonce option), and the 1-byte Length
/// of the EARO that carries the Crypto-ID (in units of 8 bytes: it fixes the ROVR's size).
/// Returns the length; [`NdError::BufferTooSmall`] if `out` is short.
pub fn signed_message(
    target: &[u8; 16],
    cipo: &[u8],
    nonce_lr: &[u8],
    nonce_ln: &[u8],
    earo_len: u8,
    out: &mut [u8],
) -> Result<usize, NdError> {
    let mut w = Writer::new(out);
    let e = |_| NdError::BufferTooSmall;
    w.put(&CGA_TAG_AP_ND).map_err(e)?;
    w.put(cipo).map_err(e)?;
    w.put(target).map_err(e)?;
    w.put(nonce_lr).map_err(e)?;
    w.put(nonce_ln).map_err(e)?;
    w.put(&[earo_len]).map_err(e)?;
    Ok(w.pos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipo_ed25519_bytes() {
        let key = [0xd7u8; 32];
        // Type 39, Length 5 (40 bytes: 6 fixed + 32 key + 2 padding), Reserved1 and Public Key
        // Length 32 in 16 bits, Crypto-Type 1 (Ed25519), Reserved2, key, padding.
        let mut want = [0u8; 40];
        want[..6].copy_from_slice(&[39, 5, 0x00, 0x20, 1, 0]);
        want[6..38].copy_from_slice(&key);
        let c = CipoRepr {
            crypto_type: CryptoType::Ed25519,
            public_key: &key,
        };
        assert_eq!(c.buffer_len(), 40);
        let mut o = [0xffu8; 48];
        assert_eq!(c.emit(&mut o), Ok(40));
        assert_eq!(o[..40], want);
        assert_eq!(CipoRepr::parse(&o), Ok(c));
        // Truncated, oversized (Length 6 for the same key), wrong type, zero length.
        assert_eq!(CipoRepr::parse(&want[..39]), Err(NdError::Truncated));
        let mut big = [0u8; 48];
        big[..40].copy_from_slice(&want);
        big[1] = 6;
        assert_eq!(CipoRepr::parse(&big), Err(NdError::BadLength(6)));
        // A key length beyond the option.
        let mut long = want;
        long[3] = 40;
        assert_eq!(CipoRepr::parse(&long), Err(NdError::Truncated));
        assert_eq!(CipoRepr::parse(&[40, 5]), Err(NdError::WrongType(40)));
        assert_eq!(CipoRepr::parse(&[39, 0, 0, 0]), Err(NdError::BadLength(0)));
        assert_eq!(CipoRepr::parse(&[39]), Err(NdError::Truncated));
        assert_eq!(CryptoType::from(7), CryptoType::Unknown(7));
        assert_eq!(u8::from(CryptoType::Ecdsa25519), 2);
    }

    #[test]
    fn ndpso_bytes() {
        let sig = [0x5au8; 64];
        // Type 40, Length 9 (72 bytes: 8 fixed + 64), Reserved1 and Signature Length 64,
        // Reserved2 (4 bytes), signature; no padding.
        let s = NdpsoRepr { signature: &sig };
        let mut o = [0u8; 72];
        assert_eq!(s.emit(&mut o), Ok(72));
        assert_eq!(o[..8], [40, 9, 0x00, 0x40, 0, 0, 0, 0]);
        assert_eq!(o[8..], sig);
        assert_eq!(NdpsoRepr::parse(&o), Ok(s));
        assert_eq!(NdpsoRepr::parse(&o[..71]), Err(NdError::Truncated));
        let mut short = o;
        short[1] = 8;
        assert_eq!(NdpsoRepr::parse(&short), Err(NdError::Truncated));
        let mut big = [0u8; 80];
        big[..72].copy_from_slice(&o);
        big[1] = 10;
        assert_eq!(NdpsoRepr::parse(&big), Err(NdError::BadLength(10)));
        // The reserved bits above the 11-bit length are ignored.
        let mut rsvd = o;
        rsvd[2] = 0xf8;
        assert_eq!(NdpsoRepr::parse(&rsvd), Ok(s));
        assert_eq!(s.emit(&mut [0u8; 71]), Err(NdError::BufferTooSmall));
    }

    #[test]
    fn nonce_bytes() {
        let n = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
        // Type 14, Length 2, 14 nonce bytes.
        let r = NonceRepr { nonce: &n };
        let mut o = [0u8; 16];
        assert_eq!(r.emit(&mut o), Ok(16));
        assert_eq!(o[..2], [14, 2]);
        assert_eq!(NonceRepr::parse(&o), Ok(r));
        assert_eq!(NonceRepr::parse(&o[..15]), Err(NdError::Truncated));
        assert_eq!(
            NonceRepr::parse(&[14, 1, 1, 2, 3, 4, 5, 6])
                .unwrap()
                .nonce
                .len(),
            6
        );
        assert!(NonceRepr { nonce: &n[..5] }.emit(&mut o).is_err());
        assert!(NonceRepr { nonce: &n[..8] }.emit(&mut o).is_err());
    }

    #[test]
    fn signed_message_layout() {
        let target = [0x20u8; 16];
        let cipo = [0x27u8; 40];
        let mut out = [0u8; 120];
        let n = signed_message(&target, &cipo, &[0xaa; 14], &[0xbb; 6], 3, &mut out).unwrap();
        assert_eq!(n, 16 + 40 + 16 + 14 + 6 + 1);
        assert_eq!(
            out[..16],
            [
                0x87, 0x01, 0x55, 0xc8, 0x0c, 0xca, 0xdd, 0x32, 0x6a, 0xb7, 0xe4, 0x15, 0xf1, 0x48,
                0x84, 0xd0
            ]
        );
        assert_eq!(out[16..56], cipo);
        assert_eq!(out[56..72], target);
        assert_eq!(out[72..86], [0xaa; 14]);
        assert_eq!(out[86..92], [0xbb; 6]);
        assert_eq!(out[92], 3);
        assert_eq!(
            signed_message(&target, &cipo, &[0; 14], &[0; 6], 3, &mut out[..92]),
            Err(NdError::BufferTooSmall)
        );
    }
}
