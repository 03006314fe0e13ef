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
//! The view works on the MPDU *without* the FCS; [`crate::fcs`] adds and checks the FCS.
//!
//! Contract: after [`Frame::new_checked`] no accessor panics (each returns `None` rather than
//! indexing out of range); [`Repr::emit`] writes exactly [`Repr::buffer_len`] bytes and refuses
//! (with [`EmitError`]) every header that [`Repr::parse`] could not read back identically.

use core::fmt;

/// Largest PSDU (aMaxPHYPacketSize), FCS included.
pub const MAX_PSDU_LEN: usize = 127;
/// Length of the frame check sequence.
pub const FCS_LEN: usize = 2;
/// Largest MPDU without its FCS.
pub const MAX_MPDU_LEN: usize = MAX_PSDU_LEN - FCS_LEN;

/// Header IE element ID of Header Termination 1 (payload IEs follow).
pub const HEADER_IE_HT1: u8 = 0x7e;
/// Header IE element ID of Header Termination 2 (the payload follows directly).
pub const HEADER_IE_HT2: u8 = 0x7f;
/// Payload IE group ID of the payload termination IE.
pub const PAYLOAD_IE_TERMINATION: u8 = 0x0f;

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

enum_with_unknown! {
    /// An addressing mode (2 bits); mode 1 is reserved.
    pub enum AddressingMode(u8) {
        /// No PAN ID and no address.
        Absent = 0,
        /// 16-bit short address.
        Short = 2,
        /// 64-bit extended address.
        Extended = 3,
    }
}

impl AddressingMode {
    /// Bytes the address takes on air.
    pub fn size(self) -> usize {
        match self {
            AddressingMode::Short => 2,
            AddressingMode::Extended => 8,
            _ => 0,
        }
    }
}

/// A PAN identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PanId(pub u16);

impl PanId {
    /// The broadcast PAN identifier.
    pub const BROADCAST: PanId = PanId(0xffff);
}

impl fmt::Display for PanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}", self.0)
    }
}

/// A link-layer address.
///
/// A short address is the 16-bit value; an extended address is the EUI-64 in its canonical
/// (big-endian, "as printed") order. On air both are little-endian: the codec reverses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Address {
    /// 16-bit short address (`0xffff` is broadcast, `0xfffe` "no short address").
    Short(u16),
    /// EUI-64, canonical byte order.
    Extended([u8; 8]),
}

impl Address {
    /// The broadcast address.
    pub const BROADCAST: Address = Address::Short(0xffff);

    /// Whether this is the broadcast short address.
    pub fn is_broadcast(&self) -> bool {
        *self == Address::BROADCAST
    }

    /// Whether this names a single node.
    pub fn is_unicast(&self) -> bool {
        !self.is_broadcast()
    }

    /// The addressing mode that carries this address.
    pub fn mode(&self) -> AddressingMode {
        match self {
            Address::Short(_) => AddressingMode::Short,
            Address::Extended(_) => AddressingMode::Extended,
        }
    }

    /// The on-air (little-endian) bytes of the address, in the first [`AddressingMode::size`]
    /// bytes.
    fn air_bytes(&self) -> [u8; 8] {
        match *self {
            Address::Short(v) => {
                let [a, b] = v.to_le_bytes();
                [a, b, 0, 0, 0, 0, 0, 0]
            }
            Address::Extended(e) => Address::ext_to_air(e),
        }
    }

    /// The on-air (little-endian) bytes of an extended address.
    const fn ext_to_air(a: [u8; 8]) -> [u8; 8] {
        u64::from_be_bytes(a).to_le_bytes()
    }

    /// The canonical form of an extended address read from the air.
    const fn ext_from_air(b: [u8; 8]) -> [u8; 8] {
        u64::from_le_bytes(b).to_be_bytes()
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Short(v) => write!(f, "{v:04x}"),
            Address::Extended(a) => {
                for (i, b) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(":")?;
                    }
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

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
    fn len(&self) -> usize {
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
    fn len(&self) -> usize {
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

/// Which PAN IDs a header carries, given its version, address modes and compression bit.
/// `None` when the combination is not allowed.
fn pan_presence(
    version: FrameVersion,
    dst: AddressingMode,
    src: AddressingMode,
    comp: bool,
) -> Option<(bool, bool)> {
    use AddressingMode::{Absent, Extended};
    let d = dst != Absent;
    let s = src != Absent;
    match version {
        FrameVersion::Ieee2003 | FrameVersion::Ieee2006 => match (d, s, comp) {
            (true, true, c) => Some((true, !c)),
            (d, s, false) => Some((d, s)),
            _ => None,
        },
        _ => Some(match (d, s, comp) {
            (false, false, c) => (c, false),
            (true, false, c) => (!c, false),
            (false, true, c) => (false, !c),
            (true, true, c) if dst == Extended && src == Extended => (!c, false),
            (true, true, c) => (true, !c),
        }),
    }
}

fn read_u16(buf: &[u8], at: usize) -> Result<u16, ParseError> {
    let b = buf
        .get(at..)
        .and_then(<[u8]>::first_chunk::<2>)
        .ok_or(ParseError::Truncated)?;
    Ok(u16::from_le_bytes(*b))
}

fn take<'b>(buf: &'b [u8], at: &mut usize, n: usize) -> Result<&'b [u8], ParseError> {
    let end = at.checked_add(n).ok_or(ParseError::Truncated)?;
    let s = buf.get(*at..end).ok_or(ParseError::Truncated)?;
    *at = end;
    Ok(s)
}

fn take_u16(buf: &[u8], at: &mut usize) -> Result<u16, ParseError> {
    let v = read_u16(buf, *at)?;
    *at += 2;
    Ok(v)
}

/// Reads an address of `mode` at `*at` and moves past it.
#[inline]
fn take_addr(
    buf: &[u8],
    at: &mut usize,
    mode: AddressingMode,
) -> Result<Option<Address>, ParseError> {
    match mode {
        AddressingMode::Short => Ok(Some(Address::Short(take_u16(buf, at)?))),
        AddressingMode::Extended => {
            let b = buf
                .get(*at..)
                .and_then(<[u8]>::first_chunk::<8>)
                .ok_or(ParseError::Truncated)?;
            *at += 8;
            Ok(Some(Address::Extended(Address::ext_from_air(*b))))
        }
        _ => Ok(None),
    }
}

/// Walks a header IE list in `buf[start..end]`; returns the end of the list and whether it was
/// closed by HT1 (`Some(true)`), HT2 (`Some(false)`) or by the end of the data (`None`).
fn walk_header_ies(
    buf: &[u8],
    start: usize,
    end: usize,
) -> Result<(usize, Option<bool>), ParseError> {
    let mut pos = start;
    while pos < end {
        let d = read_u16(buf, pos).map_err(|_| ParseError::MalformedIe)?;
        if d & 0x8000 != 0 {
            return Err(ParseError::MalformedIe);
        }
        let len = usize::from(d & 0x7f);
        let id = ((d >> 7) & 0xff) as u8;
        let next = pos + 2 + len;
        if next > end {
            return Err(ParseError::MalformedIe);
        }
        pos = next;
        if id == HEADER_IE_HT1 {
            return Ok((pos, Some(true)));
        }
        if id == HEADER_IE_HT2 {
            return Ok((pos, Some(false)));
        }
    }
    Ok((pos, None))
}

/// Walks a payload IE list in `buf[start..end]` up to and including a termination IE.
fn walk_payload_ies(buf: &[u8], start: usize, end: usize) -> Result<usize, ParseError> {
    let mut pos = start;
    while pos < end {
        let d = read_u16(buf, pos).map_err(|_| ParseError::MalformedIe)?;
        if d & 0x8000 == 0 {
            return Err(ParseError::MalformedIe);
        }
        let len = usize::from(d & 0x07ff);
        let group = ((d >> 11) & 0x0f) as u8;
        let next = pos + 2 + len;
        if next > end {
            return Err(ParseError::MalformedIe);
        }
        pos = next;
        if group == PAYLOAD_IE_TERMINATION {
            break;
        }
    }
    Ok(pos)
}

/// The four frame types the codec reads, by their 2-bit code (types 4..=7 are refused first).
const FRAME_TYPES: [FrameType; 4] = [
    FrameType::Beacon,
    FrameType::Data,
    FrameType::Ack,
    FrameType::MacCommand,
];
/// Frame versions by code (3 is refused first).
const FRAME_VERSIONS: [FrameVersion; 4] = [
    FrameVersion::Ieee2003,
    FrameVersion::Ieee2006,
    FrameVersion::Ieee2015,
    FrameVersion::Unknown(3),
];
/// Addressing modes by code (1 is refused first).
const ADDRESSING_MODES: [AddressingMode; 4] = [
    AddressingMode::Absent,
    AddressingMode::Unknown(1),
    AddressingMode::Short,
    AddressingMode::Extended,
];

/// Reads the whole header of the MPDU `buf` (no FCS): its [`Repr`] and where the payload
/// starts. The single walk of the header behind [`Repr::parse_frame`] (and through it every
/// [`Frame`] accessor); inlined there only, so the `Repr` is built in place.
#[inline(always)]
fn parse_header(buf: &[u8]) -> Result<(Repr<'_>, usize), ParseError> {
    if buf.len() > MAX_MPDU_LEN {
        return Err(ParseError::TooLong);
    }
    let fcw = read_u16(buf, field::FRAME_CONTROL.start)?;
    let type_code = fcw & fc::TYPE_MASK;
    if type_code > 3 {
        return Err(ParseError::UnsupportedFrameType(FrameType::from(
            type_code as u8,
        )));
    }
    let frame_type = FRAME_TYPES[usize::from(type_code & 3)];
    let version_code = (fcw >> fc::VERSION_SHIFT) & 0x3;
    let version = FRAME_VERSIONS[usize::from(version_code)];
    if version_code == 3 {
        return Err(ParseError::UnsupportedVersion(version));
    }
    let v2015 = version_code == 2;
    let dst_code = (fcw >> fc::DST_MODE_SHIFT) & 0x3;
    let src_code = (fcw >> fc::SRC_MODE_SHIFT) & 0x3;
    if dst_code == 1 || src_code == 1 {
        return Err(ParseError::ReservedAddressingMode);
    }
    let dst_mode = ADDRESSING_MODES[usize::from(dst_code)];
    let src_mode = ADDRESSING_MODES[usize::from(src_code)];
    let comp = fcw & fc::PAN_ID_COMPRESSION != 0;
    let (has_dst_pan, has_src_pan) = pan_presence(version, dst_mode, src_mode, comp)
        .ok_or(ParseError::InvalidPanIdCompression)?;

    let has_seq = !(v2015 && fcw & fc::SEQ_SUPPRESSION != 0);
    let mut pos = field::FRAME_CONTROL.end;
    let seq = if has_seq {
        pos = field::MIN_HEADER;
        Some(
            *buf.get(field::SEQUENCE_NUMBER)
                .ok_or(ParseError::Truncated)?,
        )
    } else {
        None
    };
    let dst_pan = if has_dst_pan {
        Some(PanId(take_u16(buf, &mut pos)?))
    } else {
        None
    };
    let dst_addr = take_addr(buf, &mut pos, dst_mode)?;
    let src_pan = if has_src_pan {
        Some(PanId(take_u16(buf, &mut pos)?))
    } else {
        None
    };
    let src_addr = take_addr(buf, &mut pos, src_mode)?;

    let mut end = buf.len();
    let security = if fcw & fc::SECURITY == 0 {
        None
    } else if version == FrameVersion::Ieee2003 {
        Some(Security::Legacy2003)
    } else {
        let sc = take(buf, &mut pos, 1)?[0];
        let level = SecurityLevel::new(sc);
        let key_mode = (sc >> 3) & 0x3;
        let suppressed = v2015 && sc & 0x20 != 0;
        let asn_in_nonce = v2015 && sc & 0x40 != 0;
        let frame_counter = if suppressed {
            None
        } else {
            let b = take(buf, &mut pos, 4)?;
            Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let key_id = match key_mode {
            0 => KeyId::Implicit,
            1 => KeyId::Index(take(buf, &mut pos, 1)?[0]),
            2 => {
                let b = take(buf, &mut pos, 5)?;
                KeyId::Source4([b[0], b[1], b[2], b[3]], b[4])
            }
            _ => {
                let b = take(buf, &mut pos, 9)?;
                KeyId::Source8([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]], b[8])
            }
        };
        end = end
            .checked_sub(level.mic_len())
            .ok_or(ParseError::Truncated)?;
        if end < pos {
            return Err(ParseError::Truncated);
        }
        Some(Security::Aux(AuxSecurityHeader {
            level,
            key_id,
            frame_counter,
            asn_in_nonce,
        }))
    };

    let mut header_ies: &[u8] = &[];
    let mut payload_ies: &[u8] = &[];
    if v2015 && fcw & fc::IE_PRESENT != 0 {
        let slice = |from: usize, to: usize| buf.get(from..to).ok_or(ParseError::Truncated);
        let (hend, term) = walk_header_ies(buf, pos, end)?;
        header_ies = slice(pos, hend)?;
        pos = hend;
        if term == Some(true) && security.is_none() {
            let pend = walk_payload_ies(buf, pos, end)?;
            payload_ies = slice(pos, pend)?;
            pos = pend;
        }
    }
    let repr = Repr {
        frame_type,
        frame_version: version,
        frame_pending: fcw & fc::FRAME_PENDING != 0,
        ack_request: fcw & fc::ACK_REQUEST != 0,
        sequence_number: seq,
        dst_pan_id: dst_pan,
        dst_addr,
        src_pan_id: src_pan,
        src_addr,
        security,
        header_ies,
        payload_ies,
    };
    Ok((repr, pos))
}

/// [`parse_header`] out of line, for the [`Frame`] accessors (one copy of the parser for all
/// of them; [`Repr::parse_frame`] is inlined into the receive paths).
#[inline(never)]
fn parse_outlined(buf: &[u8]) -> Result<(Repr<'_>, usize), ParseError> {
    parse_header(buf)
}

/// A zero-copy view of an MPDU (MAC header, payload; no FCS).
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking it; accessors then return `None` on malformed input.
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps a buffer and checks that its whole header can be read.
    pub fn new_checked(buffer: T) -> Result<Frame<T>, ParseError> {
        let f = Frame::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }

    /// Checks that every header field the frame control announces is present and well formed.
    pub fn check_len(&self) -> Result<(), ParseError> {
        parse_outlined(self.buffer.as_ref()).map(|_| ())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn header(&self) -> Option<(Repr<'_>, usize)> {
        parse_outlined(self.buffer.as_ref()).ok()
    }

    fn fc(&self) -> u16 {
        let b = self.buffer.as_ref();
        match (b.first(), b.get(1)) {
            (Some(l), Some(h)) => u16::from_le_bytes([*l, *h]),
            _ => 0,
        }
    }

    /// Frame type.
    pub fn frame_type(&self) -> FrameType {
        FrameType::from((self.fc() & fc::TYPE_MASK) as u8)
    }
    /// Frame version.
    pub fn frame_version(&self) -> FrameVersion {
        FrameVersion::from(((self.fc() >> fc::VERSION_SHIFT) & 0x3) as u8)
    }
    /// Security enabled bit.
    pub fn security_enabled(&self) -> bool {
        self.fc() & fc::SECURITY != 0
    }
    /// Frame pending bit.
    pub fn frame_pending(&self) -> bool {
        self.fc() & fc::FRAME_PENDING != 0
    }
    /// Acknowledgment request bit.
    pub fn ack_request(&self) -> bool {
        self.fc() & fc::ACK_REQUEST != 0
    }
    /// PAN ID compression bit.
    pub fn pan_id_compression(&self) -> bool {
        self.fc() & fc::PAN_ID_COMPRESSION != 0
    }
    /// Destination addressing mode.
    pub fn dst_addressing_mode(&self) -> AddressingMode {
        AddressingMode::from(((self.fc() >> fc::DST_MODE_SHIFT) & 0x3) as u8)
    }
    /// Source addressing mode.
    pub fn src_addressing_mode(&self) -> AddressingMode {
        AddressingMode::from(((self.fc() >> fc::SRC_MODE_SHIFT) & 0x3) as u8)
    }
    /// Sequence number; `None` if suppressed (or the frame is malformed).
    pub fn sequence_number(&self) -> Option<u8> {
        self.header()?.0.sequence_number
    }
    /// Destination PAN ID, if carried.
    pub fn dst_pan_id(&self) -> Option<PanId> {
        self.header()?.0.dst_pan_id
    }
    /// Destination address, if carried.
    pub fn dst_addr(&self) -> Option<Address> {
        self.header()?.0.dst_addr
    }
    /// Source PAN ID, if carried (not when compressed away).
    pub fn src_pan_id(&self) -> Option<PanId> {
        self.header()?.0.src_pan_id
    }
    /// Source address, if carried.
    pub fn src_addr(&self) -> Option<Address> {
        self.header()?.0.src_addr
    }
    /// Security of the frame, if the security bit is set.
    pub fn security(&self) -> Option<Security> {
        self.header()?.0.security
    }
    /// Raw header IE bytes (termination IE included).
    pub fn header_ies(&self) -> Option<&[u8]> {
        Some(self.header()?.0.header_ies)
    }
    /// Raw payload IE bytes of an unsecured frame (termination IE included).
    pub fn payload_ies(&self) -> Option<&[u8]> {
        Some(self.header()?.0.payload_ies)
    }
    /// Length of the MAC header, header IEs and (plaintext) payload IEs.
    pub fn header_len(&self) -> Option<usize> {
        Some(self.header()?.1)
    }
    /// The MAC payload after all headers and IEs. For a secured frame: ciphertext and MIC.
    pub fn payload(&self) -> Option<&[u8]> {
        let start = self.header()?.1;
        self.buffer.as_ref().get(start..)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    fn set_fc_bit(&mut self, bit: u16, on: bool) {
        let b = self.buffer.as_mut();
        if let Some(x) = b.get_mut(usize::from(bit >= 0x100)) {
            let mask = if bit >= 0x100 {
                (bit >> 8) as u8
            } else {
                bit as u8
            };
            if on {
                *x |= mask;
            } else {
                *x &= !mask;
            }
        }
    }
    /// Sets the frame pending bit.
    pub fn set_frame_pending(&mut self, on: bool) {
        self.set_fc_bit(fc::FRAME_PENDING, on);
    }
    /// Sets the acknowledgment request bit.
    pub fn set_ack_request(&mut self, on: bool) {
        self.set_fc_bit(fc::ACK_REQUEST, on);
    }
    /// Overwrites the sequence number, if the frame carries one.
    pub fn set_sequence_number(&mut self, seq: u8) {
        if self.sequence_number().is_some()
            && let Some(x) = self.buffer.as_mut().get_mut(field::SEQUENCE_NUMBER)
        {
            *x = seq;
        }
    }
    /// The payload, writable.
    pub fn payload_mut(&mut self) -> Option<&mut [u8]> {
        let start = self.header()?.1;
        self.buffer.as_mut().get_mut(start..)
    }
}

/// Iterator over header IEs: `(element_id, content)`; termination IEs included.
#[derive(Debug, Clone)]
pub struct HeaderIes<'a>(&'a [u8]);

impl<'a> HeaderIes<'a> {
    /// Iterates over the raw header IE bytes of a [`Repr`] or [`Frame::header_ies`].
    pub fn new(bytes: &'a [u8]) -> Self {
        HeaderIes(bytes)
    }
}

impl<'a> Iterator for HeaderIes<'a> {
    type Item = (u8, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        let d = u16::from_le_bytes([*self.0.first()?, *self.0.get(1)?]);
        let len = usize::from(d & 0x7f);
        let content = self.0.get(2..2 + len)?;
        self.0 = self.0.get(2 + len..)?;
        Some((((d >> 7) & 0xff) as u8, content))
    }
}

/// Iterator over payload IEs: `(group_id, content)`; the termination IE included.
#[derive(Debug, Clone)]
pub struct PayloadIes<'a>(&'a [u8]);

impl<'a> PayloadIes<'a> {
    /// Iterates over raw payload IE bytes.
    pub fn new(bytes: &'a [u8]) -> Self {
        PayloadIes(bytes)
    }
}

impl<'a> Iterator for PayloadIes<'a> {
    type Item = (u8, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        let d = u16::from_le_bytes([*self.0.first()?, *self.0.get(1)?]);
        let len = usize::from(d & 0x07ff);
        let content = self.0.get(2..2 + len)?;
        self.0 = self.0.get(2 + len..)?;
        Some((((d >> 11) & 0x0f) as u8, content))
    }
}

/// The meaning of a MAC header.
///
/// PAN IDs are as carried on air: `src_pan_id == None` with both addresses present means "same
/// PAN as the destination" (compressed). [`Repr::emit`] derives the PAN ID compression bit from
/// which PAN IDs are present; [`Repr::new`] picks the most compact legal form for a given
/// (destination, source, PAN) combination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Repr<'a> {
    /// Frame type (beacon, data, ACK or MAC command).
    pub frame_type: FrameType,
    /// Frame version.
    pub frame_version: FrameVersion,
    /// Frame pending bit.
    pub frame_pending: bool,
    /// Acknowledgment request bit.
    pub ack_request: bool,
    /// Sequence number; `None` = suppressed (2015 only).
    pub sequence_number: Option<u8>,
    /// Destination PAN ID as carried.
    pub dst_pan_id: Option<PanId>,
    /// Destination address.
    pub dst_addr: Option<Address>,
    /// Source PAN ID as carried.
    pub src_pan_id: Option<PanId>,
    /// Source address.
    pub src_addr: Option<Address>,
    /// Security, if the frame is secured (never decrypted here).
    pub security: Option<Security>,
    /// Raw header IEs, termination included (2015 only).
    pub header_ies: &'a [u8],
    /// Raw plaintext payload IEs, termination included (2015 only).
    pub payload_ies: &'a [u8],
}

impl<'a> Repr<'a> {
    /// The most compact legal unsecured header for `dst` on `dst_pan` from `src` on `src_pan`.
    ///
    /// The source PAN ID is elided when it equals the destination's; in 2015 frames the
    /// extended/extended case carries only one PAN ID, so two different PANs fail there with
    /// [`EmitError::InvalidPanIds`].
    pub fn new(
        frame_type: FrameType,
        frame_version: FrameVersion,
        sequence_number: Option<u8>,
        dst: Option<(PanId, Address)>,
        src: Option<(PanId, Address)>,
    ) -> Result<Repr<'static>, EmitError> {
        let (dst_pan_id, src_pan_id) = match (dst, src) {
            (None, None) => (None, None),
            (Some((dp, _)), None) => (Some(dp), None),
            (None, Some((sp, _))) => (None, Some(sp)),
            (Some((dp, _)), Some((sp, _))) if dp == sp => (Some(dp), None),
            (Some((dp, _)), Some((sp, _))) => (Some(dp), Some(sp)),
        };
        let repr = Repr {
            frame_type,
            frame_version,
            frame_pending: false,
            ack_request: false,
            sequence_number,
            dst_pan_id,
            dst_addr: dst.map(|d| d.1),
            src_pan_id,
            src_addr: src.map(|s| s.1),
            security: None,
            header_ies: &[],
            payload_ies: &[],
        };
        repr.fc()?;
        Ok(repr)
    }

    /// Reads the header of a checked frame.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &'a Frame<&'a T>) -> Result<Repr<'a>, ParseError> {
        let buf: &'a [u8] = frame.buffer.as_ref();
        Self::parse_bytes(buf)
    }

    /// Reads the header of an MPDU (no FCS) given as bytes.
    pub fn parse_bytes(buf: &'a [u8]) -> Result<Repr<'a>, ParseError> {
        Self::parse_frame(buf).map(|(repr, _)| repr)
    }

    /// Reads the header of an MPDU (no FCS) and returns it with the MAC payload after it (for
    /// a secured frame: ciphertext and MIC), the same bytes as [`Frame::payload`]: one walk of
    /// the header where [`Repr::parse_bytes`] and [`Frame::payload`] take two.
    ///
    /// Inlined on hosted targets (simulator, Linux, benchmarks), so that the `Repr` is built
    /// in the caller's frame on the receive paths (the soft-MAC, `wpan0`): about 45
    /// instructions per frame less. Not on bare-metal targets (`target_os = "none"`), where
    /// each inlined copy costs flash (≈ 290 bytes each on the nRF52840 at `opt-level = "z"`).
    #[cfg_attr(not(target_os = "none"), inline)]
    pub fn parse_frame(buf: &'a [u8]) -> Result<(Repr<'a>, &'a [u8]), ParseError> {
        let (repr, start) = parse_header(buf)?;
        let payload = buf.get(start..).ok_or(ParseError::Truncated)?;
        Ok((repr, payload))
    }

    /// The source PAN: as carried, else the destination PAN when both addresses are present
    /// and the source PAN was compressed away.
    pub fn effective_src_pan_id(&self) -> Option<PanId> {
        self.src_pan_id
            .or(if self.src_addr.is_some() && self.dst_addr.is_some() {
                self.dst_pan_id
            } else {
                None
            })
    }

    /// Whether the frame is secured (its payload must not be treated as plaintext).
    pub fn is_secured(&self) -> bool {
        self.security.is_some()
    }

    /// Length of the MIC that ends a secured frame.
    pub fn mic_len(&self) -> usize {
        match self.security {
            Some(Security::Aux(a)) => a.level.mic_len(),
            _ => 0,
        }
    }

    /// Validates the representation and computes its frame control field.
    fn fc(&self) -> Result<u16, EmitError> {
        if !matches!(
            self.frame_type,
            FrameType::Beacon | FrameType::Data | FrameType::Ack | FrameType::MacCommand
        ) {
            return Err(EmitError::Unsupported);
        }
        let v2015 = match self.frame_version {
            FrameVersion::Ieee2003 | FrameVersion::Ieee2006 => false,
            FrameVersion::Ieee2015 => true,
            FrameVersion::Unknown(_) => return Err(EmitError::Unsupported),
        };
        if !v2015 {
            if self.sequence_number.is_none() {
                return Err(EmitError::SequenceNumberRequired);
            }
            if !self.header_ies.is_empty() || !self.payload_ies.is_empty() {
                return Err(EmitError::Requires2015);
            }
        }
        match self.security {
            Some(Security::Legacy2003) if self.frame_version != FrameVersion::Ieee2003 => {
                return Err(EmitError::SecurityVersionMismatch);
            }
            Some(Security::Aux(a)) => {
                if self.frame_version == FrameVersion::Ieee2003 {
                    return Err(EmitError::SecurityVersionMismatch);
                }
                if !v2015 && (a.frame_counter.is_none() || a.asn_in_nonce) {
                    return Err(EmitError::Requires2015);
                }
            }
            _ => {}
        }
        // IEs must read back exactly as given.
        if !self.header_ies.is_empty() {
            let (end, term) = walk_header_ies(self.header_ies, 0, self.header_ies.len())
                .map_err(|_| EmitError::MalformedIe)?;
            if end != self.header_ies.len() {
                return Err(EmitError::MalformedIe);
            }
            if !self.payload_ies.is_empty() && (term != Some(true) || self.security.is_some()) {
                return Err(EmitError::MalformedIe);
            }
        } else if !self.payload_ies.is_empty() {
            return Err(EmitError::MalformedIe);
        }
        if !self.payload_ies.is_empty() {
            let end = walk_payload_ies(self.payload_ies, 0, self.payload_ies.len())
                .map_err(|_| EmitError::MalformedIe)?;
            if end != self.payload_ies.len() {
                return Err(EmitError::MalformedIe);
            }
        }
        let dm = self.dst_addr.map_or(AddressingMode::Absent, |a| a.mode());
        let sm = self.src_addr.map_or(AddressingMode::Absent, |a| a.mode());
        let want = (self.dst_pan_id.is_some(), self.src_pan_id.is_some());
        let comp = if pan_presence(self.frame_version, dm, sm, false) == Some(want) {
            false
        } else if pan_presence(self.frame_version, dm, sm, true) == Some(want) {
            true
        } else {
            return Err(EmitError::InvalidPanIds);
        };
        let mut w = u16::from(u8::from(self.frame_type)) & fc::TYPE_MASK;
        if self.security.is_some() {
            w |= fc::SECURITY;
        }
        if self.frame_pending {
            w |= fc::FRAME_PENDING;
        }
        if self.ack_request {
            w |= fc::ACK_REQUEST;
        }
        if comp {
            w |= fc::PAN_ID_COMPRESSION;
        }
        if v2015 && self.sequence_number.is_none() {
            w |= fc::SEQ_SUPPRESSION;
        }
        if !self.header_ies.is_empty() {
            w |= fc::IE_PRESENT;
        }
        w |= u16::from(u8::from(dm)) << fc::DST_MODE_SHIFT;
        w |= u16::from(u8::from(self.frame_version)) << fc::VERSION_SHIFT;
        w |= u16::from(u8::from(sm)) << fc::SRC_MODE_SHIFT;
        Ok(w)
    }

    /// Bytes [`Repr::emit`] writes: MAC header, auxiliary security header and IEs.
    pub fn buffer_len(&self) -> usize {
        let mut n = 2;
        if self.sequence_number.is_some() {
            n += 1;
        }
        n += 2 * (usize::from(self.dst_pan_id.is_some()) + usize::from(self.src_pan_id.is_some()));
        n += self.dst_addr.map_or(0, |a| a.mode().size())
            + self.src_addr.map_or(0, |a| a.mode().size());
        if let Some(Security::Aux(a)) = &self.security {
            n += a.len();
        }
        n + self.header_ies.len() + self.payload_ies.len()
    }

    /// Writes the header into the start of `frame`'s buffer; returns the bytes written
    /// (always [`Repr::buffer_len`]). The payload goes after it.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        frame: &mut Frame<T>,
    ) -> Result<usize, EmitError> {
        self.emit_bytes(frame.buffer.as_mut())
    }

    /// [`Repr::emit`] into a plain byte slice.
    pub fn emit_bytes(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let w = self.fc()?;
        let len = self.buffer_len();
        if len > MAX_MPDU_LEN {
            return Err(EmitError::BufferTooSmall);
        }
        let out = buf.get_mut(..len).ok_or(EmitError::BufferTooSmall)?;
        self.write(w, out);
        Ok(len)
    }

    /// Writes the header with frame control `w` (from [`Repr::fc`]) into `out`, which is
    /// [`Repr::buffer_len`] bytes long.
    fn write(&self, w: u16, out: &mut [u8]) {
        let mut pos = 0;
        let mut put = |bytes: &[u8]| {
            if let Some(dst) = out.get_mut(pos..pos + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
            pos += bytes.len();
        };
        put(&w.to_le_bytes());
        if let Some(s) = self.sequence_number {
            put(&[s]);
        }
        if let Some(p) = self.dst_pan_id {
            put(&p.0.to_le_bytes());
        }
        if let Some(a) = self.dst_addr {
            put(a.air_bytes().get(..a.mode().size()).unwrap_or(&[]));
        }
        if let Some(p) = self.src_pan_id {
            put(&p.0.to_le_bytes());
        }
        if let Some(a) = self.src_addr {
            put(a.air_bytes().get(..a.mode().size()).unwrap_or(&[]));
        }
        if let Some(Security::Aux(a)) = &self.security {
            let mut sc = a.level.raw() | (a.key_id.mode() << 3);
            if a.frame_counter.is_none() {
                sc |= 0x20;
            }
            if a.asn_in_nonce {
                sc |= 0x40;
            }
            put(&[sc]);
            if let Some(c) = a.frame_counter {
                put(&c.to_le_bytes());
            }
            match a.key_id {
                KeyId::Implicit => {}
                KeyId::Index(i) => put(&[i]),
                KeyId::Source4(s, i) => {
                    put(&s);
                    put(&[i]);
                }
                KeyId::Source8(s, i) => {
                    put(&s);
                    put(&[i]);
                }
            }
        }
        put(self.header_ies);
        put(self.payload_ies);
    }
}

/// Longest header a [`HeaderPlan`] holds: frame control, sequence number, two PAN IDs, two
/// extended addresses and the longest auxiliary security header (2 + 1 + 2 + 8 + 2 + 8 + 14).
pub const MAX_PLAN_LEN: usize = 37;

/// A MAC header validated and written once, then stamped into frame after frame with each
/// frame's own sequence number.
///
/// The frames of one datagram share everything in their header but the sequence number, so
/// the soft-MAC ([`crate::mac::Framer`]) plans the header once instead of validating and
/// writing it field by field per frame. [`HeaderPlan::emit`] writes exactly the bytes
/// [`Repr::emit`] writes for the planned `Repr` with that sequence number; a `Repr` that
/// `Repr::emit` refuses cannot be planned.
///
/// IEs are not planned (their length has no small bound): a `Repr` with header or payload IEs
/// fails with [`EmitError::Unsupported`]; emit it with [`Repr::emit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HeaderPlan {
    bytes: [u8; MAX_PLAN_LEN],
    len: u8,
    has_seq: bool,
}

impl HeaderPlan {
    /// Validates `repr` as [`Repr::emit`] does and writes its header once.
    pub fn new(repr: &Repr<'_>) -> Result<HeaderPlan, EmitError> {
        if !repr.header_ies.is_empty() || !repr.payload_ies.is_empty() {
            return Err(EmitError::Unsupported);
        }
        let w = repr.fc()?;
        let len = repr.buffer_len();
        let mut bytes = [0u8; MAX_PLAN_LEN];
        let out = bytes.get_mut(..len).ok_or(EmitError::BufferTooSmall)?;
        repr.write(w, out);
        Ok(HeaderPlan {
            bytes,
            // At most MAX_PLAN_LEN (checked just above).
            len: len as u8,
            has_seq: repr.sequence_number.is_some(),
        })
    }

    /// Bytes [`HeaderPlan::emit`] writes: the planned `Repr`'s [`Repr::buffer_len`].
    pub const fn buffer_len(&self) -> usize {
        self.len as usize
    }

    /// Whether the header carries a sequence number (a 2015 frame may suppress it).
    pub const fn has_sequence_number(&self) -> bool {
        self.has_seq
    }

    /// Writes the header with sequence number `seq` (ignored when the header has none) into
    /// the start of `buf`; returns the bytes written, always [`HeaderPlan::buffer_len`].
    #[inline]
    pub fn emit(&self, seq: u8, buf: &mut [u8]) -> Result<usize, EmitError> {
        let n = self.buffer_len();
        let (Some(out), Some(hdr)) = (buf.get_mut(..n), self.bytes.get(..n)) else {
            return Err(EmitError::BufferTooSmall);
        };
        // Headers of 8 to 16 bytes (every short/extended data header without security) as
        // two overlapping 8-byte copies instead of a `memcpy` call, the rest byte-exact
        // through `copy_from_slice`. Hosted targets only: on bare metal the branch costs
        // flash and the call is cheap.
        if cfg!(not(target_os = "none")) && (8..=16).contains(&n) {
            if let (Some(d), Some(s)) = (out.first_chunk_mut::<8>(), hdr.first_chunk::<8>()) {
                *d = *s;
            }
            if let (Some(d), Some(s)) = (out.last_chunk_mut::<8>(), hdr.last_chunk::<8>()) {
                *d = *s;
            }
        } else {
            out.copy_from_slice(hdr);
        }
        if self.has_seq
            && let Some(b) = out.get_mut(field::SEQUENCE_NUMBER)
        {
            *b = seq;
        }
        Ok(n)
    }
}

/// Frame check sequence: CRC-16/KERMIT (ITU-T polynomial, reflected, init 0), sent
/// little-endian after the MPDU.
///
/// The software FCS runs over every byte sent and received on a radio without hardware FCS
/// (the simulator's): on hosted targets it is the `crc` crate's slice-by-16 implementation
/// (16 tables, 8 KiB; about five times faster than one table, see `docs/performance.md`). On
/// bare-metal targets (`target_os = "none"`) it is the one-table, byte-at-a-time version
/// (512 bytes): the nRF52840 computes and checks the FCS in hardware. There the software FCS
/// only restores the FCS bytes of a good received frame (the hardware overwrites one with the
/// LQI) and covers the soft-MAC's ACKs, which does not justify 7.5 KiB more flash.
pub mod fcs {
    use super::FCS_LEN;

    #[cfg(not(target_os = "none"))]
    const CRC: crc::Crc<u16, crc::Table<16>> =
        crc::Crc::<u16, crc::Table<16>>::new(&crc::CRC_16_KERMIT);
    #[cfg(target_os = "none")]
    const CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_KERMIT);

    /// The FCS of `mpdu`.
    pub fn compute(mpdu: &[u8]) -> u16 {
        CRC.checksum(mpdu)
    }

    /// Whether the last two bytes of `psdu` are the FCS of the bytes before them.
    pub fn verify(psdu: &[u8]) -> bool {
        match psdu.len().checked_sub(FCS_LEN) {
            Some(n) => match (psdu.get(..n), psdu.get(n..)) {
                (Some(mpdu), Some(f)) if f.len() == 2 => {
                    compute(mpdu) == u16::from_le_bytes([f[0], f[1]])
                }
                _ => false,
            },
            None => false,
        }
    }

    /// Writes the FCS of `psdu[..len-2]` into its last two bytes. Returns `false` (and writes
    /// nothing) if `psdu` is shorter than the FCS.
    pub fn append(psdu: &mut [u8]) -> bool {
        let Some(n) = psdu.len().checked_sub(FCS_LEN) else {
            return false;
        };
        let c = compute(psdu.get(..n).unwrap_or(&[]));
        match psdu.get_mut(n..) {
            Some(f) => {
                f.copy_from_slice(&c.to_le_bytes());
                true
            }
            None => false,
        }
    }
}
