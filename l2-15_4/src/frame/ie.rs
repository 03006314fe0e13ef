//! Information Elements (2015): the termination IDs, the walks that find where the header
//! and payload IE lists end, and iterators over raw IE bytes.

use super::ParseError;
use super::parse::read_u16;

/// Header IE element ID of Header Termination 1 (payload IEs follow).
pub const HEADER_IE_HT1: u8 = 0x7e;
/// Header IE element ID of Header Termination 2 (the payload follows directly).
pub const HEADER_IE_HT2: u8 = 0x7f;
/// Payload IE group ID of the payload termination IE.
pub const PAYLOAD_IE_TERMINATION: u8 = 0x0f;

/// Walks a header IE list in `buf[start..end]`; returns the end of the list and whether it was
/// closed by HT1 (`Some(true)`), HT2 (`Some(false)`) or by the end of the data (`None`).
pub(super) fn walk_header_ies(
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
pub(super) fn walk_payload_ies(buf: &[u8], start: usize, end: usize) -> Result<usize, ParseError> {
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

/// Iterator over header IEs: `(element_id, content)`; termination IEs included.
#[derive(Debug, Clone)]
pub struct HeaderIes<'a>(&'a [u8]);

impl<'a> HeaderIes<'a> {
    /// Iterates over the raw header IE bytes of a [`Repr`](super::Repr) or [`Frame::header_ies`](super::Frame::header_ies).
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
