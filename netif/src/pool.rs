//! The packet pool: a fixed count of fixed-size buffers borrowed from [`crate::Resources`].
//!
//! A buffer is owned through a [`PacketHandle`], which is neither `Copy` nor `Clone`: whoever
//! holds it must either pass it on or give it back with [`PacketPool::free`]. Each buffer keeps
//! a `head..tail` window over its bytes, with reserved headroom in front so lower layers prepend
//! their headers in place ([`PacketPool::push_front`]) instead of copying the packet.
//!
//! Exhaustion is an error ([`PoolEmpty`]) and is counted in [`PoolStats`]; it never panics.

use core::fmt;
use core::net::Ipv6Addr;

use crate::addr::LinkAddr;
use crate::iface::IfIndex;

/// Owner of one pool buffer. Not `Copy`/`Clone`; give it back with [`PacketPool::free`].
#[must_use = "a packet handle must be passed on or freed, or the pool leaks a buffer"]
#[derive(Debug, PartialEq, Eq)]
pub struct PacketHandle(u16);

impl PacketHandle {
    /// The buffer's slot number (for logs and tests).
    pub fn index(&self) -> usize {
        usize::from(self.0)
    }
}

/// Per-packet metadata the layers exchange besides the bytes.
#[derive(Clone, Copy, Debug)]
pub struct PacketMeta {
    /// Interface the packet arrived on, if it was received.
    pub rx_iface: Option<IfIndex>,
    /// Link-layer source of a received frame (gleaning, 6LoWPAN address derivation).
    pub ll_src: LinkAddr,
    /// Link-layer destination of a received frame.
    pub ll_dst: LinkAddr,
    /// The frame was link-layer broadcast/multicast (ICMPv6 errors are not sent for those).
    pub ll_multicast: bool,
    /// Length of the IPv6 packet (link-layer header excluded) as it was on the wire, when the
    /// L2 had to truncate it to fit the buffer (0 when the buffer holds all of it). Such a packet can still earn a Packet Too
    /// Big, but is never delivered or forwarded.
    pub wire_len: u16,
    /// IPv6 next hop chosen by the core for transmission (on-link destination or gateway).
    pub next_hop: Ipv6Addr,
    /// Traffic class (queue) the packet was put in.
    pub class: u8,
}

impl PacketMeta {
    const EMPTY: PacketMeta = PacketMeta {
        rx_iface: None,
        ll_src: LinkAddr::NONE,
        ll_dst: LinkAddr::NONE,
        ll_multicast: false,
        wire_len: 0,
        next_hop: Ipv6Addr::UNSPECIFIED,
        class: 0,
    };
}

/// Bookkeeping of one buffer; lives in [`crate::Resources`].
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    in_use: bool,
    head: u16,
    tail: u16,
    meta: PacketMeta,
}

impl Slot {
    /// A free slot (for initialising resources).
    pub const FREE: Slot = Slot {
        in_use: false,
        head: 0,
        tail: 0,
        meta: PacketMeta::EMPTY,
    };
}

/// The pool has no free buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PoolEmpty;

impl fmt::Display for PoolEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("packet pool exhausted")
    }
}
impl core::error::Error for PoolEmpty {}

/// A buffer operation would leave the buffer's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BufError {
    /// Not enough headroom in front of the data.
    NoHeadroom,
    /// Not enough room after the data.
    NoTailroom,
    /// Asked to remove more bytes than the packet holds.
    TooShort,
}

impl fmt::Display for BufError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BufError::NoHeadroom => "not enough headroom",
            BufError::NoTailroom => "not enough tailroom",
            BufError::TooShort => "packet shorter than requested",
        })
    }
}
impl core::error::Error for BufError {}

/// Pool counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PoolStats {
    /// Buffers handed out in total.
    pub allocs: u32,
    /// Allocation attempts that found the pool empty.
    pub exhausted: u32,
    /// Most buffers in use at once.
    pub high_water: u16,
}

/// The packet pool (see the module docs).
pub struct PacketPool<'r> {
    bytes: &'r mut [u8],
    slots: &'r mut [Slot],
    buf_size: usize,
    headroom: u16,
    in_use: u16,
    stats: PoolStats,
}

impl fmt::Debug for PacketPool<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketPool")
            .field("capacity", &self.capacity())
            .field("available", &self.available())
            .field("buf_size", &self.buf_size)
            .finish()
    }
}

impl<'r> PacketPool<'r> {
    /// A pool over `slots.len()` buffers of `bytes.len() / slots.len()` bytes each, with
    /// `headroom` bytes reserved in front of new packets.
    pub fn new(bytes: &'r mut [u8], slots: &'r mut [Slot], headroom: usize) -> Self {
        let count = slots.len().min(usize::from(u16::MAX));
        let buf_size = bytes
            .len()
            .checked_div(count)
            .unwrap_or(0)
            .min(usize::from(u16::MAX));
        for s in slots.iter_mut() {
            *s = Slot::FREE;
        }
        PacketPool {
            bytes,
            slots,
            buf_size,
            headroom: headroom.min(buf_size) as u16,
            in_use: 0,
            stats: PoolStats::default(),
        }
    }

    /// Number of buffers.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
    /// Number of free buffers.
    pub fn available(&self) -> usize {
        self.slots.len().saturating_sub(usize::from(self.in_use))
    }
    /// Size of each buffer (headroom included).
    pub fn buf_size(&self) -> usize {
        self.buf_size
    }
    /// Headroom reserved in front of a freshly allocated packet.
    pub fn headroom(&self) -> usize {
        usize::from(self.headroom)
    }
    /// Largest packet a fresh buffer holds after the default headroom.
    pub fn max_packet(&self) -> usize {
        self.buf_size - usize::from(self.headroom)
    }
    /// Counters.
    pub fn stats(&self) -> PoolStats {
        self.stats
    }

    /// Take a free buffer: an empty packet with the default headroom.
    pub fn alloc(&mut self) -> Result<PacketHandle, PoolEmpty> {
        let Some(i) = self.slots.iter().position(|s| !s.in_use) else {
            self.stats.exhausted = self.stats.exhausted.wrapping_add(1);
            return Err(PoolEmpty);
        };
        let headroom = self.headroom;
        if let Some(s) = self.slots.get_mut(i) {
            *s = Slot {
                in_use: true,
                head: headroom,
                tail: headroom,
                meta: PacketMeta::EMPTY,
            };
        }
        self.in_use = self.in_use.saturating_add(1);
        self.stats.allocs = self.stats.allocs.wrapping_add(1);
        self.stats.high_water = self.stats.high_water.max(self.in_use);
        Ok(PacketHandle(i as u16))
    }

    /// Allocate and fill with `data` (copied after the headroom). `Err` when the pool is empty
    /// or `data` is longer than [`PacketPool::max_packet`] (then nothing stays allocated).
    pub fn alloc_from(&mut self, data: &[u8]) -> Result<PacketHandle, PoolEmpty> {
        let h = self.alloc()?;
        if self
            .append(&h, data.len())
            .map(|b| b.copy_from_slice(data))
            .is_err()
        {
            self.free(h);
            return Err(PoolEmpty);
        }
        Ok(h)
    }

    /// Give a buffer back.
    pub fn free(&mut self, h: PacketHandle) {
        if let Some(s) = self.slots.get_mut(h.index())
            && s.in_use
        {
            s.in_use = false;
            self.in_use = self.in_use.saturating_sub(1);
        }
    }

    fn slot(&self, h: &PacketHandle) -> Option<&Slot> {
        self.slots.get(h.index()).filter(|s| s.in_use)
    }
    fn slot_mut(&mut self, h: &PacketHandle) -> Option<&mut Slot> {
        self.slots.get_mut(h.index()).filter(|s| s.in_use)
    }
    fn buf_range(&self, h: &PacketHandle) -> core::ops::Range<usize> {
        let start = h.index().saturating_mul(self.buf_size);
        start..start.saturating_add(self.buf_size)
    }

    /// The packet bytes (`head..tail`).
    pub fn data(&self, h: &PacketHandle) -> &[u8] {
        let (Some(s), r) = (self.slot(h), self.buf_range(h)) else {
            return &[];
        };
        let (head, tail) = (usize::from(s.head), usize::from(s.tail));
        self.bytes
            .get(r)
            .and_then(|b| b.get(head..tail))
            .unwrap_or(&[])
    }
    /// The packet bytes, writable.
    pub fn data_mut(&mut self, h: &PacketHandle) -> &mut [u8] {
        let r = self.buf_range(h);
        let Some(s) = self.slot(h) else {
            return &mut [];
        };
        let (head, tail) = (usize::from(s.head), usize::from(s.tail));
        self.bytes
            .get_mut(r)
            .and_then(|b| b.get_mut(head..tail))
            .unwrap_or(&mut [])
    }
    /// Packet length in bytes.
    pub fn len(&self, h: &PacketHandle) -> usize {
        self.slot(h)
            .map_or(0, |s| usize::from(s.tail.saturating_sub(s.head)))
    }
    /// True when the packet holds no bytes.
    pub fn is_empty(&self, h: &PacketHandle) -> bool {
        self.len(h) == 0
    }
    /// Free bytes in front of the packet.
    pub fn headroom_of(&self, h: &PacketHandle) -> usize {
        self.slot(h).map_or(0, |s| usize::from(s.head))
    }
    /// Free bytes after the packet.
    pub fn tailroom_of(&self, h: &PacketHandle) -> usize {
        self.slot(h)
            .map_or(0, |s| self.buf_size.saturating_sub(usize::from(s.tail)))
    }
    /// The packet's metadata.
    pub fn meta(&self, h: &PacketHandle) -> PacketMeta {
        self.slot(h).map_or(PacketMeta::EMPTY, |s| s.meta)
    }
    /// The packet's metadata, writable.
    pub fn meta_mut(&mut self, h: &PacketHandle) -> Option<&mut PacketMeta> {
        self.slot_mut(h).map(|s| &mut s.meta)
    }

    /// Grow the packet by `n` bytes at the front (into the headroom) and return the new bytes
    /// for the caller to fill with a header.
    pub fn push_front(&mut self, h: &PacketHandle, n: usize) -> Result<&mut [u8], BufError> {
        let s = self.slot_mut(h).ok_or(BufError::NoHeadroom)?;
        let n16 = u16::try_from(n).map_err(|_| BufError::NoHeadroom)?;
        s.head = s.head.checked_sub(n16).ok_or(BufError::NoHeadroom)?;
        let head = usize::from(s.head);
        let r = self.buf_range(h);
        self.bytes
            .get_mut(r)
            .and_then(|b| b.get_mut(head..head + n))
            .ok_or(BufError::NoHeadroom)
    }
    /// Remove `n` bytes from the front (a parsed header).
    pub fn pull_front(&mut self, h: &PacketHandle, n: usize) -> Result<(), BufError> {
        let s = self.slot_mut(h).ok_or(BufError::TooShort)?;
        let n16 = u16::try_from(n).map_err(|_| BufError::TooShort)?;
        let new_head = s
            .head
            .checked_add(n16)
            .filter(|&nh| nh <= s.tail)
            .ok_or(BufError::TooShort)?;
        s.head = new_head;
        Ok(())
    }
    /// Grow the packet by `n` bytes at the end and return them for the caller to fill.
    pub fn append(&mut self, h: &PacketHandle, n: usize) -> Result<&mut [u8], BufError> {
        let buf_size = self.buf_size;
        let s = self.slot_mut(h).ok_or(BufError::NoTailroom)?;
        let old = usize::from(s.tail);
        let new = old
            .checked_add(n)
            .filter(|&t| t <= buf_size)
            .ok_or(BufError::NoTailroom)?;
        s.tail = new as u16;
        let r = self.buf_range(h);
        self.bytes
            .get_mut(r)
            .and_then(|b| b.get_mut(old..new))
            .ok_or(BufError::NoTailroom)
    }
    /// Shorten the packet to `len` bytes (no effect if it is already shorter).
    pub fn truncate(&mut self, h: &PacketHandle, len: usize) {
        if let Some(s) = self.slot_mut(h) {
            let len = u16::try_from(len).unwrap_or(u16::MAX);
            if s.tail.saturating_sub(s.head) > len {
                s.tail = s.head.saturating_add(len);
            }
        }
    }
    /// Empty the packet and reset its headroom to `headroom` bytes (clamped to the buffer).
    pub fn reset(&mut self, h: &PacketHandle, headroom: usize) {
        let hr = headroom.min(self.buf_size) as u16;
        if let Some(s) = self.slot_mut(h) {
            s.head = hr;
            s.tail = hr;
        }
    }
    /// Ensure at least `n` bytes of headroom, moving the data towards the end of the buffer if
    /// needed (and possible). Used to build an ICMPv6 error around a packet in place.
    pub fn ensure_headroom(&mut self, h: &PacketHandle, n: usize) -> Result<(), BufError> {
        let buf_size = self.buf_size;
        let r = self.buf_range(h);
        let s = self.slot_mut(h).ok_or(BufError::NoHeadroom)?;
        let (head, tail) = (usize::from(s.head), usize::from(s.tail));
        if head >= n {
            return Ok(());
        }
        let len = tail - head;
        if n.checked_add(len).is_none_or(|end| end > buf_size) {
            return Err(BufError::NoHeadroom);
        }
        s.head = n as u16;
        s.tail = (n + len) as u16;
        let buf = self.bytes.get_mut(r).ok_or(BufError::NoHeadroom)?;
        buf.copy_within(head..tail, n);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool_storage() -> ([u8; 4 * 64], [Slot; 4]) {
        ([0; 4 * 64], [Slot::FREE; 4])
    }

    #[test]
    fn alloc_until_empty_then_free() {
        let (mut b, mut s) = pool_storage();
        let mut p = PacketPool::new(&mut b, &mut s, 16);
        assert_eq!((p.capacity(), p.buf_size(), p.max_packet()), (4, 64, 48));
        let hs: [PacketHandle; 4] = core::array::from_fn(|_| p.alloc().unwrap());
        assert_eq!(p.alloc(), Err(PoolEmpty));
        assert_eq!(p.stats().exhausted, 1);
        assert_eq!(p.stats().high_water, 4);
        for h in hs {
            p.free(h);
        }
        assert_eq!(p.available(), 4);
    }

    #[test]
    fn headroom_prepend_pull_and_bounds() {
        let (mut b, mut s) = pool_storage();
        let mut p = PacketPool::new(&mut b, &mut s, 16);
        let h = p.alloc_from(b"payload").unwrap();
        p.push_front(&h, 2).unwrap().copy_from_slice(b"HD");
        assert_eq!(p.data(&h), b"HDpayload");
        assert_eq!(p.headroom_of(&h), 14);
        assert_eq!(p.push_front(&h, 15), Err(BufError::NoHeadroom));
        p.pull_front(&h, 2).unwrap();
        assert_eq!(p.data(&h), b"payload");
        assert_eq!(p.pull_front(&h, 8), Err(BufError::TooShort));
        assert!(p.append(&h, 64).is_err());
        p.truncate(&h, 3);
        assert_eq!(p.data(&h), b"pay");
        p.ensure_headroom(&h, 40).unwrap();
        assert_eq!((p.data(&h), p.headroom_of(&h)), (&b"pay"[..], 40));
        assert_eq!(p.ensure_headroom(&h, 62), Err(BufError::NoHeadroom));
        p.free(h);
        assert_eq!(p.available(), 4);
    }
}
