//! The Ethernet driver boundary: a tiny, non-blocking trait in the spirit of
//! `embassy-net-driver` and smoltcp's `phy::Device`, sized for a sans-IO loop.
//!
//! A driver moves whole Ethernet frames (no FCS) between the wire and byte buffers:
//! [`Driver::receive`] copies the next frame in (or says there is none), and
//! [`Driver::transmit`] takes a frame only when it has room for it (otherwise the frame stays
//! queued in [`crate::EthernetL2`] and is retried). The Linux TAP driver
//! ([`crate::tap::Tap`], `std` feature) implements it; on the MCU the W5500 in MACRAW mode
//! does (wired in the firmware).

/// A non-blocking Ethernet driver.
pub trait Driver {
    /// Driver error (I/O failure, device gone).
    type Error: core::fmt::Debug;

    /// The interface's MAC address.
    fn mac(&self) -> [u8; 6];

    /// Copy the next received frame into `buf`. `Ok(None)`: nothing waiting. `Ok(Some(n))`:
    /// the frame's real length `n`; if `n > buf.len()` only `buf.len()` bytes were copied
    /// (the frame is truncated and the caller knows it).
    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Self::Error>;

    /// Send `frame` if there is room now: `Ok(true)` sent, `Ok(false)` busy (try later).
    fn transmit(&mut self, frame: &[u8]) -> Result<bool, Self::Error>;

    /// Carrier state (report changes with [`netif::Stack::set_link_up`]).
    fn link_up(&mut self) -> bool {
        true
    }
}

/// A driver with nothing behind it: no frames in, every frame out taken and dropped, the link
/// up or down as built. For an application whose Ethernet is unused (a mesh router) and for
/// tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NullDriver {
    /// The MAC address reported.
    pub mac: [u8; 6],
    /// The carrier reported.
    pub link: bool,
}

impl Driver for NullDriver {
    type Error = core::convert::Infallible;
    fn mac(&self) -> [u8; 6] {
        self.mac
    }
    fn receive(&mut self, _: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        Ok(None)
    }
    fn transmit(&mut self, _: &[u8]) -> Result<bool, Self::Error> {
        Ok(true)
    }
    fn link_up(&mut self) -> bool {
        self.link
    }
}
