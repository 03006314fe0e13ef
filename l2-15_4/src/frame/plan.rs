//! [`HeaderPlan`]: a MAC header validated and written once, stamped per frame with its
//! sequence number.

use super::{EmitError, Repr, field};

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
