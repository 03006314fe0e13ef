//! [`Repr`]: the meaning of a MAC header, its parser entry points and its emitter (validation,
//! frame control, length, bytes).

use super::addressing::pan_presence;
use super::ie::{walk_header_ies, walk_payload_ies};
use super::parse::parse_header;
use super::{
    Address, AddressingMode, EmitError, Frame, FrameType, FrameVersion, KeyId, MAX_MPDU_LEN, PanId,
    ParseError, Security, fc,
};

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
    pub(super) fn fc(&self) -> Result<u16, EmitError> {
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
    pub(super) fn write(&self, w: u16, out: &mut [u8]) {
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
