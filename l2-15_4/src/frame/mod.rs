//! IEEE 802.15.4 MAC frame codec: a zero-copy [`Frame`] view over MPDU bytes and a [`Repr`]
//! that carries the header's meaning (smoltcp style).
//!
//! Covered: beacon, data, acknowledgment and MAC command frames of frame versions 2003, 2006
//! and 2015; addressing modes none / short / extended; PAN ID compression per the 2003/2006
//! rule and per the 2015 table (IEEE 802.15.4-2015 Table 7-2); sequence-number suppression
//! (2015); header and payload Information Elements walked far enough to find where the payload
//! starts and how the header IE list was terminated; the auxiliary security header (level, key
//! identifier, frame counter, 2015 frame-counter suppression). Multipurpose, fragment, extended
//! and reserved frame types are rejected with [`ParseError::UnsupportedFrameType`].
//!
//! Secured frames are never decrypted here: [`Repr::security`] is `Some` and the payload is the
//! ciphertext followed by the MIC. Payload IEs of a secured frame are part of the ciphertext and
//! stay in the payload.
//!
//! The view works on the MPDU *without* the FCS; [`fcs`] adds and checks the FCS.
//!
//! Contract: after [`Frame::new_checked`] no accessor panics (each returns `None` rather than
//! indexing out of range); [`Repr::emit`] writes exactly [`Repr::buffer_len`] bytes and refuses
//! (with [`EmitError`]) every header that [`Repr::parse`] could not read back identically.
//!
//! Files, by job: `addressing.rs` (addressing modes, PAN IDs, addresses and the PAN ID
//! compression rules), `security.rs` (the auxiliary security header), `ie.rs` (Information
//! Element lists), `parse.rs` (the one walk of the header), `view.rs` (the [`Frame`] view),
//! `repr.rs` ([`Repr`] and its emitter), `plan.rs` ([`HeaderPlan`]) and `fcs.rs` ([`fcs`]).
//! This file holds the frame control code points, the error types and the field layout they
//! share.

use core::fmt;

/// Largest PSDU (aMaxPHYPacketSize), FCS included.
pub const MAX_PSDU_LEN: usize = 127;
/// Length of the frame check sequence.
pub const FCS_LEN: usize = 2;
/// Largest MPDU without its FCS.
pub const MAX_MPDU_LEN: usize = MAX_PSDU_LEN - FCS_LEN;

macro_rules! enum_with_unknown {
    (
        $(#[$meta:meta])*
        pub enum $name:ident($ty:ty) {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+,
            /// A code point this crate does not know (or that the standard reserves).
            Unknown($ty),
        }

        impl From<$ty> for $name {
            fn from(value: $ty) -> Self {
                match value {
                    $( $value => $name::$variant ),+,
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $ty {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value ),+,
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

enum_with_unknown! {
    /// The frame type field (3 bits).
    pub enum FrameType(u8) {
        /// Beacon.
        Beacon = 0,
        /// Data.
        Data = 1,
        /// Acknowledgment (Imm-Ack, or Enh-Ack in frame version 2015).
        Ack = 2,
        /// MAC command.
        MacCommand = 3,
        /// Multipurpose (2015): different frame control layout, not supported.
        Multipurpose = 5,
        /// Fragment / Frak (2015): not supported.
        Fragment = 6,
        /// Extended frame type (2015): not supported.
        Extended = 7,
    }
}

enum_with_unknown! {
    /// The frame version field (2 bits).
    pub enum FrameVersion(u8) {
        /// IEEE 802.15.4-2003.
        Ieee2003 = 0,
        /// IEEE 802.15.4-2006.
        Ieee2006 = 1,
        /// IEEE 802.15.4-2015 (also 2011e / 2020).
        Ieee2015 = 2,
    }
}

mod addressing;
pub mod fcs;
mod ie;
mod parse;
mod plan;
mod repr;
mod security;
mod view;

pub use addressing::{Address, AddressingMode, NotIeee802154, PanId};
pub use ie::{HEADER_IE_HT1, HEADER_IE_HT2, HeaderIes, PAYLOAD_IE_TERMINATION, PayloadIes};
pub use plan::{HeaderPlan, MAX_PLAN_LEN};
pub use repr::Repr;
pub use security::{AuxSecurityHeader, KeyId, Security, SecurityLevel};
pub use view::Frame;

/// The acknowledgment of the frame with sequence number `seq` and frame version `version`,
/// FCS included: an Imm-Ack for 2003/2006 frames, a minimal Enh-Ack (no IEs, no addresses)
/// for 2015 ones.
pub fn ack_psdu(seq: u8, version: FrameVersion) -> [u8; crate::consts::IMM_ACK_PSDU_LEN] {
    let v = if version == FrameVersion::Ieee2015 {
        2u16
    } else {
        0
    };
    let [a, b] = (0x0002 | (v << 12)).to_le_bytes();
    let mut psdu = [a, b, seq, 0, 0];
    fcs::append(&mut psdu);
    psdu
}

/// Why a received frame could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ParseError {
    /// The buffer ends before a field the header announces.
    Truncated,
    /// Larger than aMaxPHYPacketSize allows.
    TooLong,
    /// Multipurpose, fragment, extended or reserved frame type.
    UnsupportedFrameType(FrameType),
    /// Reserved frame version (3).
    UnsupportedVersion(FrameVersion),
    /// Addressing mode 1 (reserved).
    ReservedAddressingMode,
    /// A PAN ID compression / addressing combination the standard does not allow.
    InvalidPanIdCompression,
    /// An Information Element list that does not fit the frame, or of the wrong kind.
    MalformedIe,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Truncated => f.write_str("802.15.4 frame truncated"),
            ParseError::TooLong => f.write_str("802.15.4 frame longer than aMaxPHYPacketSize"),
            ParseError::UnsupportedFrameType(t) => {
                write!(f, "unsupported 802.15.4 frame type {}", u8::from(*t))
            }
            ParseError::UnsupportedVersion(v) => {
                write!(f, "unsupported 802.15.4 frame version {}", u8::from(*v))
            }
            ParseError::ReservedAddressingMode => f.write_str("reserved 802.15.4 addressing mode"),
            ParseError::InvalidPanIdCompression => {
                f.write_str("invalid 802.15.4 PAN ID compression")
            }
            ParseError::MalformedIe => f.write_str("malformed 802.15.4 information element"),
        }
    }
}

impl core::error::Error for ParseError {}

/// Why a [`Repr`] cannot be emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EmitError {
    /// Frame type or version this codec does not emit.
    Unsupported,
    /// The PAN ID / address combination has no encoding in this frame version.
    InvalidPanIds,
    /// 2003/2006 frames always carry a sequence number.
    SequenceNumberRequired,
    /// IEs or frame-counter suppression or ASN-in-nonce outside a 2015 frame.
    Requires2015,
    /// The IE bytes do not parse as an IE list.
    MalformedIe,
    /// [`Security::Legacy2003`] outside a 2003 frame, or an aux header in a 2003 frame.
    SecurityVersionMismatch,
    /// The buffer is shorter than [`Repr::buffer_len`] (or the frame longer than 125 bytes).
    BufferTooSmall,
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EmitError::Unsupported => "frame type or version not emitted",
            EmitError::InvalidPanIds => "PAN ID / address combination not encodable",
            EmitError::SequenceNumberRequired => "sequence number required before 2015",
            EmitError::Requires2015 => "IEs / counter suppression need frame version 2015",
            EmitError::MalformedIe => "IE bytes do not form a valid IE list",
            EmitError::SecurityVersionMismatch => "security kind does not match frame version",
            EmitError::BufferTooSmall => "buffer too small for frame",
        })
    }
}

impl core::error::Error for EmitError {}

mod field {
    use core::ops::Range;
    pub const FRAME_CONTROL: Range<usize> = 0..2;
    pub const SEQUENCE_NUMBER: usize = 2;
    /// Frame control plus (unsuppressed) sequence number.
    pub const MIN_HEADER: usize = 3;
}

mod fc {
    pub const TYPE_MASK: u16 = 0x0007;
    pub const SECURITY: u16 = 1 << 3;
    pub const FRAME_PENDING: u16 = 1 << 4;
    pub const ACK_REQUEST: u16 = 1 << 5;
    pub const PAN_ID_COMPRESSION: u16 = 1 << 6;
    pub const SEQ_SUPPRESSION: u16 = 1 << 8;
    pub const IE_PRESENT: u16 = 1 << 9;
    pub const DST_MODE_SHIFT: u16 = 10;
    pub const VERSION_SHIFT: u16 = 12;
    pub const SRC_MODE_SHIFT: u16 = 14;
}
