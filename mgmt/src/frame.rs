//! Framing: COBS-delimited frames with a CRC-32 trailer.
//!
//! On the wire one frame is `COBS(payload ‖ CRC-32/ISO-HDLC(payload) as 4 bytes little-endian)`
//! followed by one `0x00` delimiter. COBS guarantees the encoded bytes contain no `0x00`, so a
//! reader that lost bytes (or started in the middle of a frame) resynchronises at the next
//! delimiter. The payload is at most [`MAX_PAYLOAD`] bytes, so an encoded frame is at most
//! [`MAX_FRAME`] bytes including the delimiter.
//!
//! The COBS codec is the `cobs` crate; the accumulator below is ours because it must count
//! every kind of bad frame separately and keep going after an oversized one, which postcard's
//! `CobsAccumulator` does not report.

use crc::{CRC_32_ISO_HDLC, Crc, NoTable};

/// Largest payload (header + postcard body) of one frame.
pub const MAX_PAYLOAD: usize = 1600;
/// Bytes of the CRC-32 trailer.
pub const CRC_LEN: usize = 4;
/// Largest encoded frame on the wire, delimiter included.
pub const MAX_FRAME: usize = frame_len_bound(MAX_PAYLOAD);

/// Bytes on the wire of a frame whose payload is at most `payload` bytes (COBS worst case,
/// CRC trailer and delimiter included).
pub const fn frame_len_bound(payload: usize) -> usize {
    cobs::max_encoding_length(payload + CRC_LEN) + 1
}

/// Largest encoded request frame a device must accept: every [`Request`](crate::Request) is
/// far smaller (the largest, `RouteAdd`, is under 60 bytes).
pub const MAX_REQUEST_FRAME: usize = 256;

/// CRC-32 as in Ethernet, zlib and PNG (polynomial 0x04C11DB7, reflected, init and xorout
/// 0xFFFFFFFF; check value 0xCBF43926).
///
/// Bitwise (`NoTable`): a serial line at 1 Mbaud moves 100 kB/s, far below what the bitwise
/// loop computes even on the nRF52840, and the 1 KiB lookup table would cost flash the board
/// does not have to spare (see `firmware/boards/nrf52840/README.md`, "Size").
pub const CRC32: Crc<u32, NoTable> = Crc::<u32, NoTable>::new(&CRC_32_ISO_HDLC);

/// Why a frame was discarded (or could not be built).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FrameError {
    /// The bytes between two delimiters are not valid COBS.
    Cobs,
    /// Shorter than the CRC trailer (or than a message header).
    TooShort,
    /// The CRC-32 trailer does not match.
    Crc,
    /// More than [`MAX_FRAME`] bytes without a delimiter; skipped up to the next one.
    TooLong,
    /// The output buffer is too small (encoding only).
    BufferTooSmall,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FrameError::Cobs => "invalid COBS encoding",
            FrameError::TooShort => "frame too short",
            FrameError::Crc => "CRC-32 mismatch",
            FrameError::TooLong => "frame longer than the maximum",
            FrameError::BufferTooSmall => "buffer too small",
        })
    }
}

impl core::error::Error for FrameError {}

/// Encodes `payload` as one frame (COBS, CRC-32 trailer, delimiter) into `out`; returns the
/// number of bytes written. `payload` may be at most [`MAX_PAYLOAD`] bytes.
pub fn encode_frame(payload: &[u8], out: &mut [u8]) -> Result<usize, FrameError> {
    let mut w = FrameWriter::new(&mut *out);
    w.push(payload)?;
    let n = w.finish()?;
    *out.get_mut(n).ok_or(FrameError::BufferTooSmall)? = 0;
    Ok(n + 1)
}

/// Writes one frame straight into an output buffer while the payload is produced, with no
/// intermediate copy of the payload: bytes go through the CRC and the streaming COBS encoder
/// as they come. [`crate::encode`] feeds it the header and postcard's serializer output, so a
/// device needs no scratch buffer the size of the largest payload.
pub(crate) struct FrameWriter<'a> {
    enc: cobs::CobsEncoder<'a>,
    crc: crc::Digest<'static, u32, NoTable>,
    len: usize,
    /// Why the last push failed: the payload outgrew [`MAX_PAYLOAD`] (`true`) or the output
    /// buffer (`false`).
    too_large: bool,
}

impl<'a> FrameWriter<'a> {
    pub(crate) fn new(out: &'a mut [u8]) -> Self {
        FrameWriter {
            enc: cobs::CobsEncoder::new(out),
            crc: CRC32.digest(),
            len: 0,
            too_large: false,
        }
    }

    /// Appends payload bytes. Never inlined: postcard calls it for every field of every
    /// message, and one shared copy keeps a device's code small.
    #[inline(never)]
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<(), FrameError> {
        let len = self.len.saturating_add(bytes.len());
        if len > MAX_PAYLOAD {
            self.too_large = true;
            return Err(FrameError::BufferTooSmall);
        }
        self.enc
            .push(bytes)
            .map_err(|_| FrameError::BufferTooSmall)?;
        self.crc.update(bytes);
        self.len = len;
        Ok(())
    }

    /// Whether the last failed push was over [`MAX_PAYLOAD`] rather than out of output room.
    pub(crate) fn too_large(&self) -> bool {
        self.too_large
    }

    /// Appends the CRC trailer and ends the COBS encoding; returns the encoded length. The
    /// caller writes the `0x00` delimiter after it.
    pub(crate) fn finish(self) -> Result<usize, FrameError> {
        let FrameWriter { mut enc, crc, .. } = self;
        enc.push(&crc.finalize().to_le_bytes())
            .map_err(|_| FrameError::BufferTooSmall)?;
        Ok(enc.finalize())
    }
}

/// Counters of a [`FrameDecoder`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DecoderStats {
    /// Frames delivered with a good CRC.
    pub frames: u64,
    /// Frames discarded: invalid COBS.
    pub cobs_errors: u64,
    /// Frames discarded: shorter than the trailer.
    pub too_short: u64,
    /// Frames discarded: bad CRC.
    pub crc_errors: u64,
    /// Frames discarded: longer than [`MAX_FRAME`].
    pub too_long: u64,
}

impl DecoderStats {
    /// Every discarded frame.
    pub fn discarded(&self) -> u64 {
        self.cobs_errors
            .saturating_add(self.too_short)
            .saturating_add(self.crc_errors)
            .saturating_add(self.too_long)
    }
}

/// Reassembles frames from a byte stream, any chunking; see the module docs. `N` is the
/// largest encoded frame accepted (delimiter excluded): [`MAX_FRAME`] on the host; a device,
/// which only receives small requests, may use [`MAX_REQUEST_FRAME`].
#[derive(Debug)]
pub struct FrameDecoder<const N: usize = MAX_FRAME> {
    buf: [u8; N],
    len: usize,
    /// Skipping an oversized frame until the next delimiter.
    skipping: bool,
    stats: DecoderStats,
}

impl<const N: usize> Default for FrameDecoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> FrameDecoder<N> {
    /// An empty decoder.
    pub const fn new() -> Self {
        FrameDecoder {
            buf: [0; N],
            len: 0,
            skipping: false,
            stats: DecoderStats {
                frames: 0,
                cobs_errors: 0,
                too_short: 0,
                crc_errors: 0,
                too_long: 0,
            },
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Forgets a partly received frame (e.g. after the port was reopened).
    pub fn reset(&mut self) {
        self.len = 0;
        self.skipping = false;
    }

    /// Consumes bytes from `input` up to and including the next delimiter. Returns how many
    /// bytes were consumed and, when a delimiter ended a frame, the frame's payload (CRC
    /// checked and removed) or why it was discarded. Call again with the rest of `input`
    /// until it is empty. Empty frames (two delimiters in a row) are ignored silently: a
    /// sender may send a lone delimiter to flush a partial frame at the receiver.
    pub fn feed<'s>(&'s mut self, input: &[u8]) -> (usize, Option<Result<&'s [u8], FrameError>>) {
        let Some(pos) = input.iter().position(|&b| b == 0) else {
            self.append(input);
            return (input.len(), None);
        };
        let (chunk, _) = input.split_at(pos);
        self.append(chunk);
        let consumed = pos + 1;
        let len = core::mem::take(&mut self.len);
        if core::mem::take(&mut self.skipping) {
            self.stats.too_long = self.stats.too_long.saturating_add(1);
            return (consumed, Some(Err(FrameError::TooLong)));
        }
        if len == 0 {
            return (consumed, None);
        }
        let Some(raw) = self.buf.get_mut(..len) else {
            return (consumed, Some(Err(FrameError::TooLong)));
        };
        let n = match cobs::decode_in_place(raw) {
            Ok(n) => n,
            Err(_) => {
                self.stats.cobs_errors = self.stats.cobs_errors.saturating_add(1);
                return (consumed, Some(Err(FrameError::Cobs)));
            }
        };
        let Some(body_len) = n.checked_sub(CRC_LEN) else {
            self.stats.too_short = self.stats.too_short.saturating_add(1);
            return (consumed, Some(Err(FrameError::TooShort)));
        };
        let Some((payload, rest)) = raw.get(..n).map(|d| d.split_at(body_len)) else {
            return (consumed, Some(Err(FrameError::TooShort)));
        };
        let mut crc = [0u8; CRC_LEN];
        crc.copy_from_slice(rest);
        if CRC32.checksum(payload) != u32::from_le_bytes(crc) {
            self.stats.crc_errors = self.stats.crc_errors.saturating_add(1);
            return (consumed, Some(Err(FrameError::Crc)));
        }
        self.stats.frames = self.stats.frames.saturating_add(1);
        (consumed, Some(Ok(payload)))
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.skipping {
            return;
        }
        let end = self.len.saturating_add(bytes.len());
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len = end;
            }
            None => {
                self.skipping = true;
                self.len = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(
        stream: &[u8],
    ) -> (
        std::vec::Vec<Result<std::vec::Vec<u8>, FrameError>>,
        DecoderStats,
    ) {
        let mut d = FrameDecoder::<MAX_FRAME>::new();
        let mut out = std::vec::Vec::new();
        let mut rest = stream;
        while !rest.is_empty() {
            let (n, f) = d.feed(rest);
            if let Some(f) = f {
                out.push(f.map(|p| p.to_vec()));
            }
            rest = rest.get(n..).unwrap_or_default();
        }
        (out, d.stats())
    }

    extern crate std;

    #[test]
    fn crc32_check_value() {
        assert_eq!(CRC32.checksum(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn known_frame_bytes() {
        // Payload 11 00 22; its CRC-32 computed here with the reference bitwise algorithm
        // (not the `crc` crate), then COBS by hand: code bytes replace the zeros.
        let payload = [0x11, 0x00, 0x22];
        let mut crc: u32 = 0xFFFF_FFFF;
        for &b in &payload {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        let crc = (!crc).to_le_bytes();
        let mut out = [0u8; 32];
        let n = encode_frame(&payload, &mut out).unwrap();
        // COBS of 11 00 22 c0 c1 c2 c3 (assuming no zero in the CRC): 02 11 | 06 22 c0..c3 | 00.
        assert!(!crc.contains(&0));
        let mut want = std::vec![0x02, 0x11, 0x06, 0x22];
        want.extend_from_slice(&crc);
        want.push(0);
        assert_eq!(&out[..n], &want[..]);
    }

    #[test]
    fn round_trip_and_chunking() {
        let mut stream = std::vec::Vec::new();
        for len in [1usize, 2, 253, 254, 255, 600, MAX_PAYLOAD] {
            let p: std::vec::Vec<u8> = (0..len).map(|i| (i % 7) as u8).collect();
            let mut out = [0u8; MAX_FRAME];
            let n = encode_frame(&p, &mut out).unwrap();
            assert!(n <= MAX_FRAME);
            assert!(!out[..n - 1].contains(&0));
            stream.extend_from_slice(&out[..n]);
        }
        let (f, s) = frames(&stream);
        assert_eq!(f.len(), 7);
        assert!(f.iter().all(|r| r.is_ok()));
        assert_eq!(s.frames, 7);
        // One byte at a time gives the same frames.
        let mut d = FrameDecoder::<MAX_FRAME>::new();
        let mut got = 0;
        for b in &stream {
            let (n, r) = d.feed(core::slice::from_ref(b));
            assert_eq!(n, 1);
            if let Some(r) = r {
                assert!(r.is_ok());
                got += 1;
            }
        }
        assert_eq!(got, 7);
    }

    #[test]
    fn too_long_payload_refused() {
        let p = [1u8; MAX_PAYLOAD + 1];
        let mut out = [0u8; MAX_FRAME + 16];
        assert_eq!(encode_frame(&p, &mut out), Err(FrameError::BufferTooSmall));
        let mut small = [0u8; 4];
        assert_eq!(
            encode_frame(&[1, 2, 3], &mut small),
            Err(FrameError::BufferTooSmall)
        );
    }

    #[test]
    fn corrupt_truncated_and_oversized_frames_resync() {
        let mut good = [0u8; 64];
        let n = encode_frame(b"hello", &mut good).unwrap();
        let good = &good[..n];
        let mut stream = std::vec::Vec::new();
        // Garbage before the first delimiter (started mid-frame).
        stream.extend_from_slice(&[5, 6, 7]);
        stream.push(0);
        // A flipped bit.
        let mut bad = good.to_vec();
        bad[3] ^= 0x10;
        stream.extend_from_slice(&bad);
        // A truncated frame (its tail lost), then a good one.
        stream.extend_from_slice(&good[..4]);
        stream.push(0);
        // Too short for a CRC.
        stream.extend_from_slice(&[0x02, 0x01, 0x00]);
        // Invalid COBS (code byte runs past the end).
        stream.extend_from_slice(&[0x09, 0x01, 0x00]);
        // Oversized.
        stream.extend(std::iter::repeat_n(0x55u8, MAX_FRAME + 10));
        stream.push(0);
        stream.extend_from_slice(good);
        let (f, s) = frames(&stream);
        assert_eq!(f.last().unwrap().as_deref(), Ok(&b"hello"[..]));
        assert_eq!(s.frames, 1);
        assert_eq!(s.too_long, 1);
        assert!(s.crc_errors + s.cobs_errors + s.too_short >= 4, "{s:?}");
        assert_eq!(s.discarded(), f.len() as u64 - 1);
    }
}
