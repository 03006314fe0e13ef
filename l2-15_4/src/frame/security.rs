//! The auxiliary security header: security level, key identifier, frame counter (2015
//! suppression), and how a frame is secured. Frames are never decrypted here.

/// The security level of an auxiliary security header (3 bits; all eight values are defined).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SecurityLevel(u8);

impl SecurityLevel {
    /// A level from its 3-bit code (higher bits are ignored).
    pub const fn new(raw: u8) -> Self {
        SecurityLevel(raw & 0x07)
    }
    /// The 3-bit code.
    pub const fn raw(self) -> u8 {
        self.0
    }
    /// Whether the payload is encrypted (ENC-MIC-*).
    pub const fn encrypted(self) -> bool {
        self.0 & 0x04 != 0
    }
    /// Length of the message integrity code at the end of the frame: 0, 4, 8 or 16.
    pub const fn mic_len(self) -> usize {
        match self.0 & 0x03 {
            0 => 0,
            1 => 4,
            2 => 8,
            _ => 16,
        }
    }
}

/// The key identifier of an auxiliary security header (its mode and fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KeyId {
    /// Mode 0: the key is implicit from originator and recipient.
    Implicit,
    /// Mode 1: key index only (macDefaultKeySource).
    Index(u8),
    /// Mode 2: 4-byte key source (as on air) and key index.
    Source4([u8; 4], u8),
    /// Mode 3: 8-byte key source (as on air) and key index.
    Source8([u8; 8], u8),
}

impl KeyId {
    /// The key identifier mode (0..=3).
    pub fn mode(&self) -> u8 {
        match self {
            KeyId::Implicit => 0,
            KeyId::Index(_) => 1,
            KeyId::Source4(..) => 2,
            KeyId::Source8(..) => 3,
        }
    }
    pub(super) fn len(&self) -> usize {
        match self {
            KeyId::Implicit => 0,
            KeyId::Index(_) => 1,
            KeyId::Source4(..) => 5,
            KeyId::Source8(..) => 9,
        }
    }
}

/// The auxiliary security header (2006 and 2015 layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AuxSecurityHeader {
    /// Security level.
    pub level: SecurityLevel,
    /// Key identifier.
    pub key_id: KeyId,
    /// Frame counter; `None` when suppressed (2015 only).
    pub frame_counter: Option<u32>,
    /// ASN in nonce (2015 TSCH only).
    pub asn_in_nonce: bool,
}

impl AuxSecurityHeader {
    pub(super) fn len(&self) -> usize {
        1 + if self.frame_counter.is_some() { 4 } else { 0 } + self.key_id.len()
    }
}

/// How a frame is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Security {
    /// 2006/2015 security with an auxiliary security header.
    Aux(AuxSecurityHeader),
    /// A 2003 frame with the security bit set: the 2003 security fields are inside the
    /// payload, which is opaque to this codec.
    Legacy2003,
}
