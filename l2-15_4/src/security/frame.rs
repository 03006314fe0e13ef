//! Securing and unsecuring one MPDU in place (IEEE 802.15.4-2015 §9.2, §9.3).
//!
//! The frame is split once, by the same header walk on both sides ([`Repr::parse_frame`]):
//!
//! ```text
//! | MAC header, aux security header, header IEs | open payload | private payload | MIC |
//! |<---------------- a-data (always) ------------------------->|
//!                                                 MIC-only levels 1-3: a-data too
//!                                                 ENC levels 5-7: m-data, encrypted
//! ```
//!
//! The open payload is the part of the MAC payload that stays readable: the command ID of a
//! MAC command frame, the superframe specification, GTS and pending address fields of a
//! beacon, nothing in a data frame (as in the standard's Annex C vectors, Wireshark and
//! OpenThread). The nonce is the source EUI-64 (big-endian, as printed), the frame counter
//! (big-endian) and the security level.
//!
//! Both calls take the whole MPDU (no FCS) with the MIC's room at its end, so a frame is laid
//! out the same way before [`secure`] and after it: the sender emits the header with its
//! auxiliary security header, the plaintext payload and `level.mic_len()` bytes of any value.

use core::ops::Range;

use super::BlockCipher;
use super::ccm::{self, CcmError, NONCE_LEN};
use crate::frame::{
    Address, AuxSecurityHeader, FrameType, ParseError, Repr, Security, SecurityLevel,
};

/// Why a frame could not be secured or unsecured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SecureFrameError {
    /// The MAC header does not parse (truncated, shorter than its MIC, …).
    Parse(ParseError),
    /// The security enabled bit is clear.
    NotSecured,
    /// A 2003 frame (its security fields are not supported).
    Legacy2003,
    /// Security level 0 (none) or 4 (encryption without MIC, refused: it lets anyone flip
    /// plaintext bits).
    UnsupportedLevel(u8),
    /// The frame counter is suppressed (2015 TSCH) or the ASN is in the nonce: not supported.
    UnsupportedNonce,
    /// The source address is short or absent and no extended address was given for the nonce.
    NoNonceSource,
    /// A MAC command frame without its command ID, or a beacon whose fields overrun the frame.
    MalformedPayload,
    /// The MIC does not verify (unsecure only). The frame is left as it was received.
    MicMismatch,
}

impl core::fmt::Display for SecureFrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SecureFrameError::Parse(e) => write!(f, "{e}"),
            SecureFrameError::NotSecured => f.write_str("frame not secured"),
            SecureFrameError::Legacy2003 => f.write_str("2003 security not supported"),
            SecureFrameError::UnsupportedLevel(l) => write!(f, "security level {l} refused"),
            SecureFrameError::UnsupportedNonce => {
                f.write_str("suppressed frame counter or ASN nonce not supported")
            }
            SecureFrameError::NoNonceSource => f.write_str("no extended source address for nonce"),
            SecureFrameError::MalformedPayload => f.write_str("open payload overruns frame"),
            SecureFrameError::MicMismatch => f.write_str("MIC does not verify"),
        }
    }
}

impl core::error::Error for SecureFrameError {}

impl From<ParseError> for SecureFrameError {
    fn from(e: ParseError) -> Self {
        SecureFrameError::Parse(e)
    }
}

/// The CCM* nonce: source EUI-64 (canonical order), frame counter (big-endian), level.
pub fn nonce(source: &[u8; 8], frame_counter: u32, level: SecurityLevel) -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    n[..8].copy_from_slice(source);
    n[8..12].copy_from_slice(&frame_counter.to_be_bytes());
    n[12] = level.raw();
    n
}

/// Where the parts of a secured MPDU are, and what its aux header says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SecuredLayout {
    /// The auxiliary security header.
    pub aux: AuxSecurityHeader,
    /// The frame counter (present: suppressed counters are refused).
    pub frame_counter: u32,
    /// The EUI-64 in the nonce.
    pub nonce_source: [u8; 8],
    /// The MAC payload (plaintext once unsecured): open and private payload, no MIC.
    pub payload: Range<usize>,
    /// Where the private payload starts (encrypted at levels 5-7).
    pub private_start: usize,
}

impl SecuredLayout {
    /// Reads the header of the secured MPDU `mpdu` (MIC included, no FCS) and splits it.
    /// `nonce_source` is the sender's EUI-64 when the frame's source address is short or
    /// absent (ignored when the frame carries its extended source address).
    pub fn parse(mpdu: &[u8], nonce_source: Option<[u8; 8]>) -> Result<Self, SecureFrameError> {
        let (repr, payload) = Repr::parse_frame(mpdu)?;
        Self::from_repr(&repr, mpdu, mpdu.len() - payload.len(), nonce_source)
    }

    /// [`SecuredLayout::parse`] for a header already read: `repr` is `mpdu`'s header and its
    /// MAC payload (MIC included) starts at `start` (as [`Repr::parse_frame`] found them), so a
    /// receiver walks the header once.
    pub fn from_repr(
        repr: &Repr<'_>,
        mpdu: &[u8],
        start: usize,
        nonce_source: Option<[u8; 8]>,
    ) -> Result<Self, SecureFrameError> {
        let aux = match repr.security {
            None => return Err(SecureFrameError::NotSecured),
            Some(Security::Legacy2003) => return Err(SecureFrameError::Legacy2003),
            Some(Security::Aux(aux)) => aux,
        };
        let level = aux.level.raw();
        if level == 0 || level == 4 {
            return Err(SecureFrameError::UnsupportedLevel(level));
        }
        let frame_counter = match aux.frame_counter {
            Some(c) if !aux.asn_in_nonce => c,
            _ => return Err(SecureFrameError::UnsupportedNonce),
        };
        let nonce_source = match repr.src_addr {
            Some(Address::Extended(e)) => e,
            _ => nonce_source.ok_or(SecureFrameError::NoNonceSource)?,
        };
        let end = mpdu
            .len()
            .checked_sub(aux.level.mic_len())
            .filter(|e| *e >= start)
            .ok_or(SecureFrameError::Parse(ParseError::Truncated))?;
        let body = mpdu
            .get(start..end)
            .ok_or(SecureFrameError::MalformedPayload)?;
        let open = open_payload_len(repr.frame_type, body)?;
        Ok(SecuredLayout {
            aux,
            frame_counter,
            nonce_source,
            payload: start..end,
            private_start: start + open,
        })
    }

    fn nonce(&self) -> [u8; NONCE_LEN] {
        nonce(&self.nonce_source, self.frame_counter, self.aux.level)
    }

    /// Splits `mpdu` into a-data, m-data and MIC for this layout.
    fn split<'b>(&self, mpdu: &'b mut [u8]) -> Result<Parts<'b>, SecureFrameError> {
        let m_start = if self.aux.level.encrypted() {
            self.private_start
        } else {
            self.payload.end
        };
        let bad = SecureFrameError::Parse(ParseError::Truncated);
        let (a, rest) = mpdu.split_at_mut_checked(m_start).ok_or(bad)?;
        let (m, mic) = rest
            .split_at_mut_checked(self.payload.end - m_start)
            .ok_or(bad)?;
        if mic.len() != self.aux.level.mic_len() {
            return Err(bad);
        }
        Ok((a, m, mic))
    }

    /// Unsecures `mpdu` (the bytes this layout was parsed from) in place with `cipher`.
    pub fn unsecure(
        &self,
        cipher: &dyn BlockCipher,
        mpdu: &mut [u8],
    ) -> Result<Range<usize>, SecureFrameError> {
        let nonce = self.nonce();
        let (a, m, mic) = self.split(mpdu)?;
        ccm::decrypt(cipher, &nonce, a, m, mic).map_err(ccm_error)?;
        Ok(self.payload.clone())
    }
}

/// a-data, m-data and MIC of one frame.
type Parts<'b> = (&'b [u8], &'b mut [u8], &'b mut [u8]);

fn ccm_error(e: CcmError) -> SecureFrameError {
    match e {
        CcmError::MicMismatch => SecureFrameError::MicMismatch,
        // Unreachable for 802.15.4 frames (MIC 4/8/16, under 128 bytes): refuse anyway.
        _ => SecureFrameError::MalformedPayload,
    }
}

/// Bytes of the MAC payload `body` that stay readable: a command frame's command ID, a
/// beacon's superframe specification, GTS and pending address fields.
fn open_payload_len(frame_type: FrameType, body: &[u8]) -> Result<usize, SecureFrameError> {
    let bad = SecureFrameError::MalformedPayload;
    let len = match frame_type {
        FrameType::MacCommand => 1,
        FrameType::Beacon => {
            // Superframe specification (2), GTS specification (1).
            let gts_spec = *body.get(2).ok_or(bad)?;
            let gts_count = usize::from(gts_spec & 0x07);
            let mut at = 3;
            if gts_count > 0 {
                // GTS directions (1) and three bytes per descriptor.
                at += 1 + 3 * gts_count;
            }
            let pending = *body.get(at).ok_or(bad)?;
            let shorts = usize::from(pending & 0x07);
            let exts = usize::from((pending >> 4) & 0x07);
            at + 1 + 2 * shorts + 8 * exts
        }
        _ => 0,
    };
    if len > body.len() { Err(bad) } else { Ok(len) }
}

/// Secures the MPDU `mpdu` (no FCS) in place with `cipher`: its header carries the auxiliary
/// security header, its payload the plaintext, and its last `level.mic_len()` bytes are the
/// room for the MIC. Writes the MIC there and encrypts the private payload (levels 5-7).
///
/// `nonce_source` is this node's EUI-64, needed when the frame's source address is short.
/// Returns the layout (where the payload is).
pub fn secure(
    cipher: &dyn BlockCipher,
    mpdu: &mut [u8],
    nonce_source: Option<[u8; 8]>,
) -> Result<SecuredLayout, SecureFrameError> {
    let layout = SecuredLayout::parse(mpdu, nonce_source)?;
    let nonce = layout.nonce();
    let (a, m, mic) = layout.split(mpdu)?;
    ccm::encrypt(cipher, &nonce, a, m, mic).map_err(ccm_error)?;
    Ok(layout)
}

/// Unsecures the received MPDU `mpdu` (no FCS) in place with `cipher`: verifies the MIC and
/// decrypts the private payload. Returns where the plaintext MAC payload is (the MIC
/// excluded). On any error the bytes are as received.
///
/// This checks no frame counter and chooses no key: see [`super::receive`] for the whole
/// receive path.
pub fn unsecure(
    cipher: &dyn BlockCipher,
    mpdu: &mut [u8],
    nonce_source: Option<[u8; 8]>,
) -> Result<Range<usize>, SecureFrameError> {
    SecuredLayout::parse(mpdu, nonce_source)?.unsecure(cipher, mpdu)
}
