//! A reader for the part of postcard's encoding that sixgate's device-side decoders use (the
//! management requests, the stored configuration), written by hand because serde's derived
//! decoders cost the nRF52840 image kilobytes of flash. Each decoder built on it is tested
//! against postcard's own decoding, accepting and refusing the same bytes.
//!
//! The encoding: unsigned integers wider than a byte are LEB128 varints of at most
//! `ceil(bits / 7)` bytes whose last byte may not carry bits past the type; `u8` and `i8` are
//! one byte; `bool` is 0 or 1; an `Option` is a 0 or 1 tag and the value; a `&str` is a varint
//! `usize` length and UTF-8 bytes; `[u8; N]` is N bytes; an enum is a varint `u32` variant
//! index and the variant's fields in order; a struct is its fields in order.

/// Reads values from the front of a byte slice; every method returns `None` where postcard
/// would fail (too few bytes, a malformed varint, bool, option tag or string).
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// A reader over `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Reader(b)
    }

    /// Whether every byte was read (a whole message must use them all).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A `u8`.
    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// An `i8` (its two's-complement byte).
    pub fn i8(&mut self) -> Option<i8> {
        self.byte().map(u8::cast_signed)
    }

    /// A varint of an unsigned type `bits` wide.
    #[inline(never)]
    pub fn varint(&mut self, bits: u32) -> Option<u64> {
        let max = bits.div_ceil(7);
        let mut out = 0u64;
        for i in 0..max {
            let b = self.byte()?;
            out |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                // The last possible byte may only carry the type's remaining bits.
                let last_bits = bits - 7 * (max - 1);
                return (i + 1 < max || u32::from(b) < (1 << last_bits)).then_some(out);
            }
        }
        None
    }

    /// A `u16`.
    pub fn u16(&mut self) -> Option<u16> {
        self.varint(16).and_then(|v| u16::try_from(v).ok())
    }

    /// A `u32` (also an enum's variant index).
    pub fn u32(&mut self) -> Option<u32> {
        self.varint(32).and_then(|v| u32::try_from(v).ok())
    }

    /// A `bool`.
    #[inline(never)]
    pub fn bool(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    /// An `Option`'s tag: whether a value follows.
    pub fn some(&mut self) -> Option<bool> {
        self.bool()
    }

    /// A borrowed `&str`.
    #[inline(never)]
    pub fn str(&mut self) -> Option<&'a str> {
        let len = self
            .varint(usize::BITS)
            .and_then(|v| usize::try_from(v).ok())?;
        let bytes = self.0.get(..len)?;
        self.0 = self.0.get(len..)?;
        core::str::from_utf8(bytes).ok()
    }

    /// An `Option<&str>`.
    pub fn opt_str(&mut self) -> Option<Option<&'a str>> {
        Some(if self.some()? {
            Some(self.str()?)
        } else {
            None
        })
    }

    /// A `[u8; N]`.
    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (a, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*a)
    }
}
