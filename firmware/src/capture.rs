//! The capture ring: frames seen at both L2 boundaries (`wpan0` PSDUs, `eth0` Ethernet frames),
//! kept with their metadata until the host drains them (for pcapng export).
//!
//! `no_std`, no heap: a ring is one byte array holding records back to back. Its size is a
//! resource choice ([`CaptureStorage<BYTES>`](CaptureStorage), e.g. [`DefaultCaptureRing`]);
//! everything else works on the size-erased [`CaptureRing`] (`&mut CaptureStorage<N>`
//! coerces to `&mut CaptureRing`), so the application does not depend on the size.
//!
//! # Record layout
//!
//! Each record is a [`RECORD_HEADER_LEN`]-byte header followed by the captured bytes (at most
//! the filter's snap length):
//!
//! ```text
//! offset  size  field
//!  0      8     timestamp_us (LE)
//!  8      1     iface (CaptureIface as u8)
//!  9      1     direction (Direction as u8)
//! 10      1     channel
//! 11      1     rssi (i8)
//! 12      1     lqi
//! 13      2     orig_len (LE)
//! 15      2     captured length (LE)
//! 17      ...   captured bytes
//! ```
//!
//! # Wrap-around
//!
//! The storage is a plain byte ring: a record starts right where the previous one ended and may
//! be split anywhere (inside its header or its data) across the end of the storage, continuing
//! at offset 0. There is no "skip to start" marker, so every byte of the storage is usable and a
//! record fits exactly when `RECORD_HEADER_LEN + captured length` bytes are free.
//!
//! # Overflow
//!
//! Oldest records are never overwritten. When a new record does not fit, it is dropped and
//! counted in [`CaptureStats::dropped`], like a kernel capture ring: a host draining the ring
//! sees how much it missed. Frames not recorded because the capture is stopped or filtered out
//! are not drops.
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

/// Size of the capture ring the application uses, in bytes.
pub const DEFAULT_CAPTURE_BYTES: usize = 4096;

/// A capture ring with `BYTES` bytes of storage.
pub type CaptureStorage<const BYTES: usize> = CaptureRing<[u8; BYTES]>;

/// The capture ring of the default resources.
pub type DefaultCaptureRing = CaptureStorage<DEFAULT_CAPTURE_BYTES>;

/// Bytes of ring storage taken by each record's header (see the module docs).
pub const RECORD_HEADER_LEN: usize = 17;

/// The interface a frame was seen on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum CaptureIface {
    /// The IEEE 802.15.4 mesh interface (frames are PSDUs).
    Wpan0 = 0,
    /// The Ethernet backbone interface (frames are Ethernet II frames without FCS).
    Eth0 = 1,
}

impl CaptureIface {
    /// The interface name, as shown to the user and in pcapng interface blocks.
    pub const fn name(self) -> &'static str {
        match self {
            CaptureIface::Wpan0 => "wpan0",
            CaptureIface::Eth0 => "eth0",
        }
    }
}

/// Which way a frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Direction {
    /// Received and addressed to us (or broadcast/multicast we accept).
    Rx = 0,
    /// Transmitted by us.
    Tx = 1,
    /// Received but not addressed to us: seen only because promiscuous capture is on.
    Promisc = 2,
}

/// Metadata recorded with each frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CaptureMeta {
    /// When the frame was seen, in microseconds of the application's clock.
    pub timestamp_us: u64,
    /// Where it was seen.
    pub iface: CaptureIface,
    /// Which way it went.
    pub direction: Direction,
    /// IEEE 802.15.4 channel (0 for `eth0`).
    pub channel: u8,
    /// Received signal strength in dBm; `i8::MIN` when not applicable (transmitted frames,
    /// `eth0`).
    pub rssi: i8,
    /// Link quality indicator (0 when not applicable).
    pub lqi: u8,
    /// The frame's real length in bytes. [`CaptureRing::record`] raises it to the length of the
    /// data it is given if smaller, so it is never below the captured length.
    pub orig_len: u16,
}

/// What a capture records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CaptureFilter {
    /// Record frames of `wpan0`.
    pub wpan0: bool,
    /// Record frames of `eth0`.
    pub eth0: bool,
    /// Also record frames with [`Direction::Promisc`] (on the enabled interfaces).
    pub promiscuous: bool,
    /// Keep at most this many bytes of each frame (0 keeps only the metadata).
    pub snaplen: u16,
}

impl CaptureFilter {
    /// Both interfaces, not promiscuous, whole frames.
    pub const DEFAULT: CaptureFilter = CaptureFilter {
        wpan0: true,
        eth0: true,
        promiscuous: false,
        snaplen: u16::MAX,
    };
}

impl Default for CaptureFilter {
    /// [`CaptureFilter::DEFAULT`].
    fn default() -> Self {
        CaptureFilter::DEFAULT
    }
}

/// Capture counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CaptureStats {
    /// Records stored since the last [`CaptureRing::reset_stats`].
    pub captured: u64,
    /// Frames that passed the filter but found no room (or could never fit), since the last
    /// reset.
    pub dropped: u64,
    /// [`CaptureStats::dropped`] by interface, indexed by [`CaptureIface`] (`wpan0`, `eth0`).
    pub dropped_by_iface: [u64; 2],
    /// Frame bytes stored (after snapping, without headers) since the last reset.
    pub bytes: u64,
    /// Records waiting in the ring now.
    pub pending_records: u32,
    /// Ring bytes in use now, headers included (compare with [`CaptureRing::capacity`]).
    pub pending_bytes: u32,
}

/// A bounded, allocation-free ring of captured frames; see the module docs for layout and
/// overflow behaviour.
///
/// `B` is the storage: `[u8; N]` where the ring is owned ([`CaptureStorage`]), `[u8]` (the
/// default) where it is used.
#[derive(Clone, Debug)]
pub struct CaptureRing<B: ?Sized = [u8]> {
    /// Offset of the oldest record; `< capacity` (0 when the capacity is 0).
    head: usize,
    /// Bytes in use; `<= capacity`.
    used: usize,
    /// Records in use.
    records: usize,
    running: bool,
    filter: CaptureFilter,
    captured: u64,
    dropped: u64,
    dropped_by_iface: [u64; 2],
    bytes: u64,
    /// Last, so the ring can be unsized.
    buf: B,
}

impl<const BYTES: usize> Default for CaptureStorage<BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const BYTES: usize> core::ops::Deref for CaptureStorage<BYTES> {
    type Target = CaptureRing;

    fn deref(&self) -> &CaptureRing {
        self
    }
}

impl<const BYTES: usize> core::ops::DerefMut for CaptureStorage<BYTES> {
    fn deref_mut(&mut self) -> &mut CaptureRing {
        self
    }
}

impl<const BYTES: usize> CaptureStorage<BYTES> {
    /// An empty, stopped ring with [`CaptureFilter::DEFAULT`].
    pub const fn new() -> Self {
        CaptureRing {
            buf: [0; BYTES],
            head: 0,
            used: 0,
            records: 0,
            running: false,
            filter: CaptureFilter::DEFAULT,
            captured: 0,
            dropped: 0,
            dropped_by_iface: [0; 2],
            bytes: 0,
        }
    }
}

impl CaptureRing {
    /// Storage size in bytes.
    pub const fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Starts (or restarts with a new filter) recording. Pending records and counters are kept;
    /// call [`CaptureRing::clear`] and [`CaptureRing::reset_stats`] for a fresh session.
    pub fn start(&mut self, filter: CaptureFilter) {
        self.filter = filter;
        self.running = true;
    }

    /// Stops recording. Pending records stay until popped or cleared.
    pub fn stop(&mut self) {
        self.running = false;
    }

    /// Whether a capture is running.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// The current (or last) filter.
    pub fn filter(&self) -> CaptureFilter {
        self.filter
    }

    /// Whether a frame seen on `iface` going `direction` would be recorded (room permitting):
    /// a cheap check so callers skip building metadata or copying when nobody listens.
    pub fn wants(&self, iface: CaptureIface, direction: Direction) -> bool {
        let f = &self.filter;
        let iface_on = match iface {
            CaptureIface::Wpan0 => f.wpan0,
            CaptureIface::Eth0 => f.eth0,
        };
        self.running && iface_on && (direction != Direction::Promisc || f.promiscuous)
    }

    /// Records a frame: `data` is snapped to the filter's snap length, `meta.orig_len` is raised
    /// to `data.len()` if smaller (saturating at `u16::MAX`). Returns `true` when stored.
    /// Returns `false` when not running or filtered out (not counted), or when the record does
    /// not fit in the free space (counted in [`CaptureStats::dropped`]; older records are never
    /// overwritten).
    pub fn record(&mut self, meta: CaptureMeta, data: &[u8]) -> bool {
        if !self.wants(meta.iface, meta.direction) {
            return false;
        }
        let cap_len = data.len().min(usize::from(self.filter.snaplen));
        let need = RECORD_HEADER_LEN.saturating_add(cap_len);
        let (Some(snapped), true) = (data.get(..cap_len), need <= self.free()) else {
            self.dropped = self.dropped.saturating_add(1);
            if let Some(d) = self.dropped_by_iface.get_mut(meta.iface as usize) {
                *d = d.saturating_add(1);
            }
            return false;
        };
        let orig_len = meta
            .orig_len
            .max(u16::try_from(data.len()).unwrap_or(u16::MAX));
        let header = encode_header(&meta, orig_len, cap_len);
        let tail = self.wrap(self.head.wrapping_add(self.used));
        self.copy_in(tail, &header);
        self.copy_in(self.wrap(tail.wrapping_add(RECORD_HEADER_LEN)), snapped);
        self.used = self.used.saturating_add(need);
        self.records = self.records.saturating_add(1);
        self.captured = self.captured.saturating_add(1);
        self.bytes = self
            .bytes
            .saturating_add(u64::try_from(cap_len).unwrap_or(u64::MAX));
        true
    }

    /// Captured length of the oldest record, or `None` when the ring is empty.
    pub fn peek_len(&self) -> Option<usize> {
        self.peek_header().map(|(_, len)| len)
    }

    /// Removes the oldest record, copies its captured bytes into `out` and returns its metadata
    /// and the number of bytes copied. If `out` is shorter than the record (see
    /// [`CaptureRing::peek_len`]), the copy is truncated to `out.len()` and the record is still
    /// consumed. `None` when the ring is empty.
    pub fn pop(&mut self, out: &mut [u8]) -> Option<(CaptureMeta, usize)> {
        let (meta, cap_len) = self.peek_header()?;
        let n = cap_len.min(out.len());
        let data_pos = self.wrap(self.head.wrapping_add(RECORD_HEADER_LEN));
        if let Some(dst) = out.get_mut(..n) {
            self.copy_out(data_pos, dst);
        }
        let total = RECORD_HEADER_LEN.saturating_add(cap_len);
        self.head = self.wrap(self.head.wrapping_add(total));
        self.used = self.used.saturating_sub(total);
        self.records = self.records.saturating_sub(1);
        Some((meta, n))
    }

    /// Discards every pending record (not counted as drops).
    pub fn clear(&mut self) {
        self.head = 0;
        self.used = 0;
        self.records = 0;
    }

    /// The counters and the ring's fill level.
    pub fn stats(&self) -> CaptureStats {
        CaptureStats {
            captured: self.captured,
            dropped: self.dropped,
            dropped_by_iface: self.dropped_by_iface,
            bytes: self.bytes,
            pending_records: u32::try_from(self.records).unwrap_or(u32::MAX),
            pending_bytes: u32::try_from(self.used).unwrap_or(u32::MAX),
        }
    }

    /// Zeroes `captured`, `dropped` and `bytes` (pending records are untouched).
    pub fn reset_stats(&mut self) {
        self.captured = 0;
        self.dropped = 0;
        self.dropped_by_iface = [0; 2];
        self.bytes = 0;
    }

    /// Free bytes.
    fn free(&self) -> usize {
        self.capacity().saturating_sub(self.used)
    }

    /// `pos` modulo the capacity (0 when the capacity is 0).
    fn wrap(&self, pos: usize) -> usize {
        pos.checked_rem(self.capacity()).unwrap_or(0)
    }

    /// Header and captured length of the oldest record.
    fn peek_header(&self) -> Option<(CaptureMeta, usize)> {
        if self.records == 0 {
            return None;
        }
        let mut h = [0u8; RECORD_HEADER_LEN];
        self.copy_out(self.head, &mut h);
        Some(decode_header(&h))
    }

    /// Copies `data` into the ring at `pos` (`< capacity`), wrapping at the end. The caller
    /// has checked that `data.len() <= capacity`; anything that would not fit is silently cut.
    fn copy_in(&mut self, pos: usize, data: &[u8]) {
        let first = self.capacity().saturating_sub(pos).min(data.len());
        let Some((a, b)) = data.split_at_checked(first) else {
            return;
        };
        if let Some(dst) = self.buf.get_mut(pos..).and_then(|s| s.get_mut(..a.len())) {
            dst.copy_from_slice(a);
        }
        if let Some(dst) = self.buf.get_mut(..b.len()) {
            dst.copy_from_slice(b);
        }
    }

    /// Copies `out.len()` bytes from the ring at `pos` (`< capacity`) into `out`, wrapping at
    /// the end.
    fn copy_out(&self, pos: usize, out: &mut [u8]) {
        let first = self.capacity().saturating_sub(pos).min(out.len());
        let Some((a, b)) = out.split_at_mut_checked(first) else {
            return;
        };
        if let Some(src) = self.buf.get(pos..).and_then(|s| s.get(..a.len())) {
            a.copy_from_slice(src);
        }
        if let Some(src) = self.buf.get(..b.len()) {
            b.copy_from_slice(src);
        }
    }
}

fn encode_header(meta: &CaptureMeta, orig_len: u16, cap_len: usize) -> [u8; RECORD_HEADER_LEN] {
    let [t0, t1, t2, t3, t4, t5, t6, t7] = meta.timestamp_us.to_le_bytes();
    let [o0, o1] = orig_len.to_le_bytes();
    // cap_len <= snaplen <= u16::MAX.
    let [c0, c1] = u16::try_from(cap_len).unwrap_or(u16::MAX).to_le_bytes();
    let [r] = meta.rssi.to_le_bytes();
    [
        t0,
        t1,
        t2,
        t3,
        t4,
        t5,
        t6,
        t7,
        meta.iface as u8,
        meta.direction as u8,
        meta.channel,
        r,
        meta.lqi,
        o0,
        o1,
        c0,
        c1,
    ]
}

fn decode_header(h: &[u8; RECORD_HEADER_LEN]) -> (CaptureMeta, usize) {
    let [
        t0,
        t1,
        t2,
        t3,
        t4,
        t5,
        t6,
        t7,
        iface,
        dir,
        channel,
        rssi,
        lqi,
        o0,
        o1,
        c0,
        c1,
    ] = *h;
    // Only `encode_header` writes headers, so the enum bytes are always known values.
    let iface = if iface == CaptureIface::Eth0 as u8 {
        CaptureIface::Eth0
    } else {
        CaptureIface::Wpan0
    };
    let direction = match dir {
        1 => Direction::Tx,
        2 => Direction::Promisc,
        _ => Direction::Rx,
    };
    let meta = CaptureMeta {
        timestamp_us: u64::from_le_bytes([t0, t1, t2, t3, t4, t5, t6, t7]),
        iface,
        direction,
        channel,
        rssi: i8::from_le_bytes([rssi]),
        lqi,
        orig_len: u16::from_le_bytes([o0, o1]),
    };
    (meta, usize::from(u16::from_le_bytes([c0, c1])))
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "std"))]
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, VecDeque};
    use std::{vec, vec::Vec};

    const H: usize = RECORD_HEADER_LEN;

    fn meta(i: u64, iface: CaptureIface, direction: Direction, len: usize) -> CaptureMeta {
        CaptureMeta {
            timestamp_us: i.wrapping_mul(0x0123_4567_89ab_cdef),
            iface,
            direction,
            channel: (i % 16) as u8 + 11,
            rssi: (i % 256) as u8 as i8,
            lqi: (i * 7) as u8,
            orig_len: len as u16,
        }
    }

    fn payload(i: u64, len: usize) -> Vec<u8> {
        (0..len).map(|k| (i as usize * 31 + k * 7) as u8).collect()
    }

    fn running<const B: usize>() -> CaptureStorage<B> {
        let mut r = CaptureStorage::<B>::new();
        r.start(CaptureFilter {
            promiscuous: true,
            ..CaptureFilter::DEFAULT
        });
        r
    }

    #[test]
    fn record_and_pop() {
        let mut r = running::<256>();
        let m = meta(5, CaptureIface::Wpan0, Direction::Rx, 20);
        let d = payload(5, 20);
        assert!(r.record(m, &d));
        let m2 = CaptureMeta {
            rssi: i8::MIN,
            ..meta(6, CaptureIface::Eth0, Direction::Tx, 3)
        };
        assert!(r.record(m2, &[1, 2, 3]));
        assert_eq!(r.peek_len(), Some(20));
        let s = r.stats();
        assert_eq!((s.captured, s.dropped, s.bytes), (2, 0, 23));
        assert_eq!(
            (s.pending_records, s.pending_bytes),
            (2, (2 * H + 23) as u32)
        );
        let mut out = [0u8; 64];
        assert_eq!(r.pop(&mut out), Some((m, 20)));
        assert_eq!(&out[..20], &d[..]);
        assert_eq!(r.pop(&mut out), Some((m2, 3)));
        assert_eq!(&out[..3], &[1, 2, 3]);
        assert_eq!(r.pop(&mut out), None);
        assert_eq!(r.peek_len(), None);
        assert_eq!(r.stats().pending_records, 0);
        assert_eq!(r.stats().pending_bytes, 0);
        assert_eq!(r.capacity(), 256);
    }

    #[test]
    fn default_ring() {
        let r = DefaultCaptureRing::new();
        assert_eq!(r.capacity(), DEFAULT_CAPTURE_BYTES);
        assert!(!r.is_running());
        assert_eq!(r.filter(), CaptureFilter::default());
        assert!(!r.wants(CaptureIface::Wpan0, Direction::Rx));
        assert_eq!(CaptureIface::Wpan0.name(), "wpan0");
        assert_eq!(CaptureIface::Eth0.name(), "eth0");
        assert_eq!(CaptureIface::Eth0 as u8, 1);
    }

    /// Fills and drains a ring of `B` bytes with pseudo-random sizes and checks FIFO contents,
    /// that drops happen exactly when the free space is short, and that records and their
    /// data started at every offset of the storage.
    fn churn<const B: usize>(max_len: usize, rounds: usize) {
        let mut r = running::<B>();
        let mut model: VecDeque<(CaptureMeta, Vec<u8>)> = VecDeque::new();
        let mut used = 0usize;
        let mut starts = BTreeSet::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut i = 0u64;
        let mut out = vec![0u8; max_len + 1];
        for round in 0..rounds {
            // Push until something is dropped.
            loop {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let len = (seed % (max_len as u64 + 1)) as usize;
                let m = meta(i, CaptureIface::Wpan0, Direction::Rx, len);
                let d = payload(i, len);
                i += 1;
                let tail = (r.head + r.used) % B;
                let dropped = r.stats().dropped;
                if r.record(m, &d) {
                    assert!(used + H + len <= B);
                    starts.insert(tail);
                    used += H + len;
                    model.push_back((m, d));
                } else {
                    assert!(used + H + len > B);
                    assert_eq!(r.stats().dropped, dropped + 1);
                    break;
                }
            }
            // Drain a varying share (sometimes everything).
            let n = if round % 5 == 0 {
                model.len()
            } else {
                (seed as usize % (model.len() + 1)).max(1)
            };
            for _ in 0..n {
                let Some((m, d)) = model.pop_front() else {
                    break;
                };
                assert_eq!(r.peek_len(), Some(d.len()));
                let (gm, got) = r.pop(&mut out).unwrap();
                assert_eq!(gm, m);
                assert_eq!(&out[..got], &d[..]);
                used -= H + d.len();
            }
            assert_eq!(r.stats().pending_bytes as usize, used);
            assert_eq!(r.stats().pending_records as usize, model.len());
        }
        assert_eq!(starts.len(), B, "record starts did not cover every offset");
    }

    #[test]
    fn wrap_around_at_every_offset() {
        churn::<97>(40, 2000);
        churn::<64>(30, 2000);
        churn::<18>(1, 500);
        churn::<200>(183, 3000);
    }

    #[test]
    fn snaplen_truncates() {
        let mut r = CaptureStorage::<256>::new();
        r.start(CaptureFilter {
            snaplen: 10,
            ..CaptureFilter::DEFAULT
        });
        let d = payload(1, 50);
        // orig_len given smaller than the data is raised to the data length.
        let m = meta(1, CaptureIface::Eth0, Direction::Rx, 0);
        assert!(r.record(m, &d));
        // orig_len larger than the data (already truncated by the driver) is kept.
        let m2 = CaptureMeta {
            orig_len: 1500,
            ..meta(2, CaptureIface::Eth0, Direction::Tx, 0)
        };
        assert!(r.record(m2, &d[..5]));
        assert_eq!(r.stats().bytes, 15);
        let mut out = [0u8; 64];
        let (gm, n) = r.pop(&mut out).unwrap();
        assert_eq!((n, gm.orig_len), (10, 50));
        assert_eq!(&out[..10], &d[..10]);
        let (gm, n) = r.pop(&mut out).unwrap();
        assert_eq!((n, gm.orig_len), (5, 1500));
        // snaplen 0: metadata only.
        r.start(CaptureFilter {
            snaplen: 0,
            ..CaptureFilter::DEFAULT
        });
        assert!(r.record(meta(3, CaptureIface::Wpan0, Direction::Rx, 0), &d));
        assert_eq!(r.pop(&mut out).unwrap().0.orig_len, 50);
        // A huge frame saturates orig_len.
        let big = vec![0u8; 70_000];
        r.start(CaptureFilter {
            snaplen: 4,
            ..CaptureFilter::DEFAULT
        });
        assert!(r.record(meta(4, CaptureIface::Eth0, Direction::Rx, 0), &big));
        assert_eq!(r.pop(&mut out).unwrap(), {
            let mut m = meta(4, CaptureIface::Eth0, Direction::Rx, 0);
            m.orig_len = u16::MAX;
            (m, 4)
        });
    }

    #[test]
    fn short_out_truncates_and_consumes() {
        let mut r = running::<128>();
        let d = payload(9, 30);
        assert!(r.record(meta(9, CaptureIface::Wpan0, Direction::Rx, 30), &d));
        assert!(r.record(meta(10, CaptureIface::Wpan0, Direction::Rx, 2), &[7, 8]));
        let mut out = [0u8; 8];
        let (m, n) = r.pop(&mut out).unwrap();
        assert_eq!((m.orig_len, n), (30, 8));
        assert_eq!(out, d[..8]);
        let (_, n) = r.pop(&mut []).unwrap();
        assert_eq!(n, 0);
        assert_eq!(r.pop(&mut out), None);
    }

    #[test]
    fn stop_start_and_filter() {
        let mut r = CaptureStorage::<256>::new();
        let m = meta(1, CaptureIface::Wpan0, Direction::Rx, 4);
        assert!(!r.record(m, &[1, 2, 3, 4]));
        assert_eq!(r.stats(), CaptureStats::default());
        r.start(CaptureFilter {
            wpan0: false,
            ..CaptureFilter::DEFAULT
        });
        assert!(r.is_running());
        assert!(!r.wants(CaptureIface::Wpan0, Direction::Rx));
        assert!(r.wants(CaptureIface::Eth0, Direction::Tx));
        assert!(!r.wants(CaptureIface::Eth0, Direction::Promisc));
        assert!(!r.record(m, &[1, 2, 3, 4]));
        let e = meta(2, CaptureIface::Eth0, Direction::Rx, 1);
        assert!(r.record(e, &[9]));
        assert!(!r.record(meta(3, CaptureIface::Eth0, Direction::Promisc, 0), &[]));
        r.stop();
        assert!(!r.is_running());
        assert!(!r.wants(CaptureIface::Eth0, Direction::Rx));
        assert!(!r.record(e, &[9]));
        assert_eq!(r.stats().captured, 1);
        assert_eq!(r.stats().dropped, 0);
        // Stopping keeps what is pending.
        let mut out = [0u8; 4];
        assert_eq!(r.pop(&mut out), Some((e, 1)));
        r.start(CaptureFilter {
            eth0: false,
            promiscuous: true,
            ..CaptureFilter::DEFAULT
        });
        assert!(r.record(meta(4, CaptureIface::Wpan0, Direction::Promisc, 0), &[]));
        assert!(!r.record(e, &[9]));
        assert_eq!(r.stats().pending_records, 1);
        r.clear();
        assert_eq!(r.stats().pending_records, 0);
        assert_eq!(r.pop(&mut out), None);
        r.reset_stats();
        assert_eq!(r.stats(), CaptureStats::default());
    }

    #[test]
    fn zero_length_records() {
        let mut r = running::<{ 10 * RECORD_HEADER_LEN + 5 }>();
        for i in 0..10 {
            assert!(r.record(meta(i, CaptureIface::Eth0, Direction::Rx, 0), &[]));
        }
        assert!(!r.record(meta(10, CaptureIface::Eth0, Direction::Rx, 0), &[]));
        assert_eq!(r.stats().dropped, 1);
        assert_eq!(r.stats().bytes, 0);
        for i in 0..10 {
            assert_eq!(r.peek_len(), Some(0));
            assert_eq!(
                r.pop(&mut [0u8; 4]),
                Some((meta(i, CaptureIface::Eth0, Direction::Rx, 0), 0))
            );
        }
        assert_eq!(r.pop(&mut [0u8; 4]), None);
    }

    #[test]
    fn oversized_dropped_and_counted() {
        let mut r = running::<64>();
        let d = vec![1u8; 64 - H + 1];
        assert!(!r.record(meta(1, CaptureIface::Eth0, Direction::Rx, 0), &d));
        assert_eq!(r.stats().dropped, 1);
        assert_eq!(r.stats().pending_records, 0);
        // Exactly the capacity fits.
        assert!(r.record(meta(2, CaptureIface::Eth0, Direction::Rx, 0), &d[1..]));
        assert_eq!(r.stats().pending_bytes, 64);
        // Full: even an empty record is dropped, the old one is kept.
        assert!(!r.record(meta(3, CaptureIface::Eth0, Direction::Rx, 0), &[]));
        assert_eq!(r.stats().dropped, 2);
        let mut out = [0u8; 64];
        assert_eq!(r.pop(&mut out).unwrap().1, 64 - H);
    }

    #[test]
    fn tiny_rings_never_panic() {
        let mut r0 = running::<0>();
        assert!(!r0.record(meta(0, CaptureIface::Eth0, Direction::Rx, 0), &[]));
        assert_eq!(r0.pop(&mut [0u8; 4]), None);
        assert_eq!(r0.stats().dropped, 1);
        let mut r = running::<{ RECORD_HEADER_LEN - 1 }>();
        assert!(!r.record(meta(0, CaptureIface::Eth0, Direction::Rx, 0), &[]));
        assert_eq!(r.stats().dropped, 1);
        let mut r = running::<RECORD_HEADER_LEN>();
        for i in 0..50 {
            assert!(r.record(meta(i, CaptureIface::Eth0, Direction::Tx, 0), &[]));
            assert!(!r.record(meta(i, CaptureIface::Eth0, Direction::Tx, 0), &[1]));
            assert_eq!(
                r.pop(&mut []),
                Some((meta(i, CaptureIface::Eth0, Direction::Tx, 0), 0))
            );
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Record {
            wpan: bool,
            dir: u8,
            len: usize,
            orig: u16,
        },
        Pop(usize),
        Start(CaptureFilter),
        Stop,
        Clear,
        ResetStats,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<bool>(), 0u8..3, 0usize..160, any::<u16>())
                .prop_map(|(wpan, dir, len, orig)| Op::Record { wpan, dir, len, orig }),
            4 => (0usize..160).prop_map(Op::Pop),
            1 => (any::<bool>(), any::<bool>(), any::<bool>(), prop_oneof![Just(u16::MAX), 0u16..64])
                .prop_map(|(wpan0, eth0, promiscuous, snaplen)| Op::Start(CaptureFilter {
                    wpan0, eth0, promiscuous, snaplen,
                })),
            1 => Just(Op::Stop),
            1 => Just(Op::Clear),
            1 => Just(Op::ResetStats),
        ]
    }

    proptest! {
        #[test]
        fn matches_model(ops in prop::collection::vec(op(), 0..300)) {
            const B: usize = 150;
            let mut r = running::<B>();
            let mut model: VecDeque<(CaptureMeta, Vec<u8>)> = VecDeque::new();
            let (mut running, mut filter) = (true, r.filter());
            let (mut captured, mut dropped, mut bytes) = (0u64, 0u64, 0u64);
            let mut out = [0u8; 200];
            for (i, op) in ops.into_iter().enumerate() {
                let i = i as u64;
                match op {
                    Op::Record { wpan, dir, len, orig } => {
                        let iface = if wpan { CaptureIface::Wpan0 } else { CaptureIface::Eth0 };
                        let direction = [Direction::Rx, Direction::Tx, Direction::Promisc][dir as usize];
                        let m = CaptureMeta { orig_len: orig, ..meta(i, iface, direction, 0) };
                        let d = payload(i, len);
                        let want = running
                            && (if wpan { filter.wpan0 } else { filter.eth0 })
                            && (direction != Direction::Promisc || filter.promiscuous);
                        prop_assert_eq!(r.wants(iface, direction), want);
                        let cap = len.min(filter.snaplen as usize);
                        let used: usize = model.iter().map(|(_, d)| H + d.len()).sum();
                        let fits = used + H + cap <= B;
                        let ok = r.record(m, &d);
                        prop_assert_eq!(ok, want && fits);
                        if want && !fits {
                            dropped += 1;
                        }
                        if ok {
                            captured += 1;
                            bytes += cap as u64;
                            let stored = CaptureMeta { orig_len: orig.max(len as u16), ..m };
                            model.push_back((stored, d[..cap].to_vec()));
                        }
                    }
                    Op::Pop(n) => {
                        let want = model.pop_front();
                        prop_assert_eq!(r.peek_len(), want.as_ref().map(|(_, d)| d.len()));
                        let got = r.pop(&mut out[..n]);
                        match want {
                            None => prop_assert_eq!(got, None),
                            Some((m, d)) => {
                                let k = d.len().min(n);
                                prop_assert_eq!(got, Some((m, k)));
                                prop_assert_eq!(&out[..k], &d[..k]);
                            }
                        }
                    }
                    Op::Start(f) => {
                        r.start(f);
                        running = true;
                        filter = f;
                    }
                    Op::Stop => {
                        r.stop();
                        running = false;
                    }
                    Op::Clear => {
                        r.clear();
                        model.clear();
                    }
                    Op::ResetStats => {
                        r.reset_stats();
                        (captured, dropped, bytes) = (0, 0, 0);
                    }
                }
                let s = r.stats();
                let used: usize = model.iter().map(|(_, d)| H + d.len()).sum();
                prop_assert_eq!(s.dropped_by_iface.iter().sum::<u64>(), s.dropped);
                prop_assert_eq!(s, CaptureStats {
                    captured,
                    dropped,
                    dropped_by_iface: s.dropped_by_iface,
                    bytes,
                    pending_records: model.len() as u32,
                    pending_bytes: used as u32,
                });
                prop_assert_eq!(r.is_running(), running);
                prop_assert_eq!(r.filter(), filter);
            }
        }
    }
}
