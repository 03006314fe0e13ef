//! Bounds-checked byte reader and writer used by every codec.
//! Nothing here can panic: each access is checked and reported as `None` / `Err(())`.

/// A forward-only reader over received (hostile) bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    pub(crate) const fn pos(&self) -> usize {
        self.pos
    }
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
    pub(crate) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        let s = self.take(2)?;
        Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
    }
    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Some(a)
    }
}

/// A forward-only writer into a caller-provided buffer. In measuring mode it only counts.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    measure: bool,
}

impl<'a> Writer<'a> {
    #[inline]
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer {
            buf,
            pos: 0,
            measure: false,
        }
    }
    #[inline]
    pub(crate) fn measuring() -> Writer<'static> {
        Writer {
            buf: &mut [],
            pos: 0,
            measure: true,
        }
    }
    pub(crate) const fn pos(&self) -> usize {
        self.pos
    }
    /// Whether this writer only counts (see [`Writer::measuring`]).
    pub(crate) const fn is_measuring(&self) -> bool {
        self.measure
    }
    /// Count `n` bytes without producing them (a measuring writer told a length the caller
    /// computed instead of emitting); refused on a real buffer.
    #[inline]
    pub(crate) fn count(&mut self, n: usize) -> Result<(), ()> {
        if !self.measure {
            return Err(());
        }
        self.pos = self.pos.checked_add(n).ok_or(())?;
        Ok(())
    }
    #[inline]
    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), ()> {
        let end = self.pos.checked_add(bytes.len()).ok_or(())?;
        if !self.measure {
            self.buf
                .get_mut(self.pos..end)
                .ok_or(())?
                .copy_from_slice(bytes);
        }
        self.pos = end;
        Ok(())
    }
    #[inline]
    pub(crate) fn u8(&mut self, b: u8) -> Result<(), ()> {
        self.put(&[b])
    }
}
