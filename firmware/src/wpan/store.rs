//! The packet pool as the 6LoWPAN reassembler's buffer store (`PoolStore`).

use netif::pool::{PacketHandle, PacketPool};
use sixlo::DatagramStore;

use super::REASSEMBLY_MAX;

/// The packet pool as the reassembler's [`DatagramStore`]: every datagram is decompressed or
/// assembled in a pool buffer after the pool's headroom (kept for the egress link header). The
/// buffer of the frame being received (its MPDU already copied out) is used first, so a frame
/// never needs a second buffer; a buffer given back is that frame's buffer again or returns
/// to the pool.
pub(super) struct PoolStore<'a, 'p> {
    pool: &'a mut PacketPool<'p>,
    pub(super) spare: Option<PacketHandle>,
    spare_index: Option<usize>,
}

impl<'a, 'p> PoolStore<'a, 'p> {
    /// A store whose first buffer is `frame`'s.
    pub(super) fn with_frame(pool: &'a mut PacketPool<'p>, frame: PacketHandle) -> Self {
        PoolStore {
            pool,
            spare_index: Some(frame.index()),
            spare: Some(frame),
        }
    }
    /// A store that only takes buffers back (timeout sweeps).
    pub(super) fn pool_only(pool: &'a mut PacketPool<'p>) -> Self {
        PoolStore {
            pool,
            spare: None,
            spare_index: None,
        }
    }
}

impl DatagramStore for PoolStore<'_, '_> {
    type Buf = PacketHandle;

    fn capacity(&self) -> usize {
        self.pool.max_packet().min(REASSEMBLY_MAX)
    }

    fn take(&mut self, _slot: Option<usize>) -> Option<PacketHandle> {
        let h = match self.spare.take() {
            Some(h) => h,
            None => self.pool.alloc().ok()?,
        };
        let headroom = self.pool.headroom();
        self.pool.reset(&h, headroom);
        let cap = self.pool.buf_size().saturating_sub(headroom);
        if self.pool.append(&h, cap).is_err() {
            self.give_back(h);
            return None;
        }
        Some(h)
    }

    fn bytes(&mut self, buf: &PacketHandle) -> &mut [u8] {
        self.pool.data_mut(buf)
    }

    fn give_back(&mut self, buf: PacketHandle) {
        if self.spare.is_none() && self.spare_index == Some(buf.index()) {
            self.spare = Some(buf);
        } else {
            self.pool.free(buf);
        }
    }
}
