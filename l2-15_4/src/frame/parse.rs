//! Parsing: the byte readers and the single walk of a MAC header that yields its [`Repr`]
//! and where the payload starts.

use super::addressing::pan_presence;
use super::ie::{walk_header_ies, walk_payload_ies};
use super::{
    Address, AddressingMode, AuxSecurityHeader, FrameType, FrameVersion, KeyId, MAX_MPDU_LEN,
    PanId, ParseError, Repr, Security, SecurityLevel, fc, field,
};

pub(super) fn read_u16(buf: &[u8], at: usize) -> Result<u16, ParseError> {
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
pub(super) fn parse_header(buf: &[u8]) -> Result<(Repr<'_>, usize), ParseError> {
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
pub(super) fn parse_outlined(buf: &[u8]) -> Result<(Repr<'_>, usize), ParseError> {
    parse_header(buf)
}
