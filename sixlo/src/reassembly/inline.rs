//! [`Reassembler`]: the 6LoWPAN receiver over its own inline buffers, a [`PooledReassembler`]
//! whose [`DatagramStore`] is one buffer per slot plus the caller's `out`.

use netif::time::Instant;

use super::{
    Assembled, DatagramStore, PooledReassembler, ReassemblyConfig, ReceiveError, Received,
};
use crate::IPV6_MIN_MTU;
use crate::context::ContextTable;
use crate::link::LinkAddr;
use crate::stats::SixloStats;

/// A buffer of [`Reassembler`]'s inline store: the caller's `out`, or a slot's own buffer.
#[derive(Debug, Clone, Copy)]
enum InlineBuf {
    Out,
    Slot(usize),
}

/// [`Reassembler`]'s buffers for one call: one per slot, plus the caller's `out`, where every
/// datagram is delivered.
struct InlineStore<'a, const BUF: usize> {
    bufs: &'a mut [[u8; BUF]],
    out: &'a mut [u8],
}

impl<const BUF: usize> DatagramStore for InlineStore<'_, BUF> {
    type Buf = InlineBuf;

    fn capacity(&self) -> usize {
        BUF
    }

    fn take(&mut self, slot: Option<usize>) -> Option<InlineBuf> {
        match slot {
            None => Some(InlineBuf::Out),
            Some(i) if i < self.bufs.len() => Some(InlineBuf::Slot(i)),
            Some(_) => None,
        }
    }

    fn bytes(&mut self, buf: &InlineBuf) -> &mut [u8] {
        match *buf {
            InlineBuf::Out => self.out,
            InlineBuf::Slot(i) => self.bufs.get_mut(i).map_or(&mut [], |b| b.as_mut_slice()),
        }
    }

    fn give_back(&mut self, _: InlineBuf) {}

    fn finish(&mut self, buf: InlineBuf, len: usize) -> Result<InlineBuf, InlineBuf> {
        let InlineBuf::Slot(i) = buf else {
            return Ok(buf);
        };
        let (Some(src), Some(dst)) = (
            self.bufs.get(i).and_then(|b| b.get(..len)),
            self.out.get_mut(..len),
        ) else {
            return Err(buf);
        };
        dst.copy_from_slice(src);
        Ok(InlineBuf::Out)
    }
}

/// The 6LoWPAN receiver with its own buffers: `SLOTS` concurrent datagrams of at most `BUF`
/// bytes each, every datagram delivered into the caller's `out`. A [`PooledReassembler`] over
/// inline storage; use that one directly to assemble in packet-pool buffers instead.
#[derive(Debug)]
pub struct Reassembler<const SLOTS: usize = 8, const BUF: usize = IPV6_MIN_MTU> {
    core: PooledReassembler<InlineBuf, SLOTS>,
    bufs: [[u8; BUF]; SLOTS],
}

impl<const SLOTS: usize, const BUF: usize> Default for Reassembler<SLOTS, BUF> {
    fn default() -> Self {
        Self::new(ReassemblyConfig::default())
    }
}

impl<const SLOTS: usize, const BUF: usize> Reassembler<SLOTS, BUF> {
    /// An idle receiver.
    pub fn new(config: ReassemblyConfig) -> Self {
        Reassembler {
            core: PooledReassembler::new(config),
            bufs: [[0; BUF]; SLOTS],
        }
    }

    /// The configuration.
    pub const fn config(&self) -> &ReassemblyConfig {
        self.core.config()
    }

    /// The counters.
    pub const fn stats(&self) -> &SixloStats {
        self.core.stats()
    }

    /// Reset the counters.
    pub fn reset_stats(&mut self) {
        self.core.reset_stats();
    }

    /// Slots holding a partial datagram.
    pub fn slots_in_use(&self) -> usize {
        self.core.slots_in_use()
    }

    /// Discard every datagram whose timeout passed at `now`; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut store = InlineStore {
            bufs: &mut self.bufs,
            out: &mut [],
        };
        self.core.expire(now, &mut store)
    }

    /// Process one 6LoWPAN frame (the MAC payload); a complete datagram is written to
    /// `out`. See the module documentation.
    pub fn receive(
        &mut self,
        frame: &[u8],
        ll_src: &LinkAddr,
        ll_dst: &LinkAddr,
        contexts: &ContextTable,
        now: Instant,
        out: &mut [u8],
    ) -> Result<Received, ReceiveError> {
        let mut store = InlineStore {
            bufs: &mut self.bufs,
            out,
        };
        match self
            .core
            .receive(&mut store, frame, ll_src, ll_dst, contexts, now)?
        {
            Assembled::Datagram { len, .. } => Ok(Received::Complete(len)),
            Assembled::Pending => Ok(Received::Pending),
        }
    }
}
