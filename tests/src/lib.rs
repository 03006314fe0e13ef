//! # tests — cross-crate end to end, interop and benchmarks
//!
//! The crates of sixgate put together the way the product uses them, next to smoltcp 0.14 doing
//! the same job, so that their cost can be measured side by side in one run:
//!
//! - [`endpoint`]: one UDP payload of [`endpoint::PAYLOAD_LEN`] bytes from one 6LoWPAN endpoint
//!   to another over an in-memory IEEE 802.15.4 link. Ours is `sixlo` (compression,
//!   fragmentation, reassembly, decompression) with `l2-15_4`'s frame code (MAC header and FCS);
//!   smoltcp's is two `iface::Interface`s with `Medium::Ieee802154` and UDP sockets.
//! - [`router`]: the border-router application (`firmware::app::App`) with an in-memory radio
//!   and Ethernet driver, forwarding one 1280-byte packet from the backbone to a mesh node and
//!   one back; and smoltcp's wire codecs doing the least a forwarder has to do with the same
//!   packets, as a baseline.
//!
//! Every path has a `check` that runs it once and compares the bytes that came out with the
//! bytes that went in, so a broken path cannot produce a fast figure. `benches/perf.rs`
//! (criterion, `cargo bench -p tests`) times them; `examples/instructions.rs` runs one path a
//! given number of times for `scripts/instructions.sh`, which counts instructions under
//! callgrind. The figures are in `docs/performance.md`.
//!
//! Speed is never asserted in a test: `tests/paths.rs` only checks that each path delivers the
//! right bytes.

pub mod endpoint;
#[cfg(feature = "router-role")]
pub mod mesh;
pub mod router;

use core::fmt;

/// Largest IEEE 802.15.4 PSDU (MAC header, payload and FCS).
pub const PSDU_MAX: usize = l2_15_4::frame::MAX_PSDU_LEN;

/// Why a benchmarked path did not do its job (a harness or stack failure, never a timing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl Failure {
    /// A failure with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        Failure(msg.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

/// `Err(Failure(msg))` unless `cond`.
pub fn ensure(cond: bool, msg: impl FnOnce() -> String) -> Result<(), Failure> {
    if cond { Ok(()) } else { Err(Failure(msg())) }
}

/// An in-memory radio channel: the PSDUs (FCS bytes included) one side put on the air, in
/// order. Storage is allocated once; [`Air::clear`] empties it for the next datagram.
#[derive(Debug, Clone)]
pub struct Air {
    frames: Vec<([u8; PSDU_MAX], usize)>,
    n: usize,
}

impl Air {
    /// Room for `capacity` frames.
    pub fn new(capacity: usize) -> Self {
        Air {
            frames: vec![([0u8; PSDU_MAX], 0); capacity],
            n: 0,
        }
    }

    /// Forget every frame.
    pub fn clear(&mut self) {
        self.n = 0;
    }

    /// Frames on the air.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether nothing is on the air.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The next free frame buffer (its length is set by [`Air::commit`]).
    pub fn slot(&mut self) -> Result<&mut [u8; PSDU_MAX], Failure> {
        match self.frames.get_mut(self.n) {
            Some((buf, _)) => Ok(buf),
            None => Err(Failure::new("the air is full")),
        }
    }

    /// The frame in [`Air::slot`] is `len` bytes long and on the air.
    pub fn commit(&mut self, len: usize) {
        if let Some((_, l)) = self.frames.get_mut(self.n) {
            *l = len.min(PSDU_MAX);
            self.n += 1;
        }
    }

    /// Frame `i` (PSDU, FCS included).
    pub fn frame(&self, i: usize) -> Option<&[u8]> {
        if i >= self.n {
            return None;
        }
        self.frames.get(i).and_then(|(b, l)| b.get(..*l))
    }

    /// Every frame on the air, in order.
    pub fn frames(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.frames
            .iter()
            .take(self.n)
            .filter_map(|(b, l)| b.get(..*l))
    }
}
