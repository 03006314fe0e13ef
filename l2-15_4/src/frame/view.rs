//! The zero-copy [`Frame`] view over MPDU bytes: frame control getters and setters, and the
//! header fields through one parse of the header.

use super::parse::parse_outlined;
use super::{Address, AddressingMode, FrameType, FrameVersion, PanId, ParseError, Repr, Security};
use super::{fc, field};

/// A zero-copy view of an MPDU (MAC header, payload; no FCS).
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    pub(super) buffer: T,
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
