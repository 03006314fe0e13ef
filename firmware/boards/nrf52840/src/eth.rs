//! The W5500 (SPI, MACRAW mode) behind [`ethernet::Driver`].
//!
//! # Choice
//!
//! `embassy-net-wiznet` already drives the W5500 in MACRAW mode: reset, chip check, socket 0
//! opened raw with the whole 16 KiB RX and TX buffers, the INT pin, frame read/write with the
//! W5500's 2-byte length prefix, and a link poll every 500 ms. It exposes the frames through
//! an `embassy-net-driver` device backed by a small channel (`State<N_RX, N_TX>` of 1514-byte
//! buffers) that its `Runner` task fills and drains over async SPI. Our trait is synchronous
//! and non-blocking, and so are that device's token operations once the runner has moved the
//! bytes: [`W5500Eth`] polls them with a no-op waker (`Waker::noop`), and the main loop awaits
//! [`W5500Eth::wait_rx`] (with the real waker) to sleep until a frame is in. No second W5500
//! driver to maintain, and all SPI traffic stays in one task.
//!
//! Cost: each frame is copied once more than strictly needed (W5500 → channel buffer → the
//! caller's buffer), about 1.5 KiB of RAM per channel slot.
//!
//! # Receive filtering
//!
//! The crate opens the socket with MFEN (MAC filter) set and MMB/MIP6B (multicast and IPv6
//! blocking) clear: the W5500 passes frames to our MAC, broadcast and multicast, which IPv6
//! neighbour discovery needs (solicited-node 33:33:ff:xx:xx:xx). Untested on hardware; if a
//! W5500 revision drops multicast with MFEN set, the fix is a socket mode without MFEN.

use core::convert::Infallible;
use core::future::poll_fn;
use core::task::{Context, Poll, Waker};

use embassy_net_driver::{Driver as _, LinkState, RxToken as _, TxToken as _};
use embassy_net_wiznet::chip::W5500;
use embassy_net_wiznet::{Device, Runner, State};
use embassy_nrf::gpio::{Input, Output};
use embassy_nrf::spim::{self, Spim};
use embassy_time::Timer;
use embedded_hal_async::spi::{ErrorType, Operation, SpiBus as _, SpiDevice};

/// Frames buffered between the W5500 runner and the app, each way (1514 bytes each). One is
/// enough: the W5500 itself buffers 16 KiB of received frames and the runner fetches the next
/// one as soon as the app has taken the last; on transmit, `Ok(false)` leaves the frame queued
/// in `ethernet::EthernetL2` until the slot is free.
pub const RX_SLOTS: usize = 1;
/// See [`RX_SLOTS`].
pub const TX_SLOTS: usize = 1;

/// The SPI device the W5500 sits on: SPIM3 and the CS pin, the only device on the bus (no
/// bus mutex: embassy-embedded-hal's shared-bus device cost 968 bytes of flash, this one about
/// half). A transaction asserts CS, runs the operations until one fails, flushes, and
/// deasserts CS, also when the transaction is dropped half-way.
pub struct W5500Spi {
    /// In a static: dropping a `Spim` (after a failed W5500 start) would link its teardown.
    bus: &'static mut Spim<'static>,
    cs: Output<'static>,
}

impl W5500Spi {
    /// The W5500 on `bus`, selected by `cs` (low active; the caller leaves it high).
    pub fn new(bus: &'static mut Spim<'static>, cs: Output<'static>) -> Self {
        W5500Spi { bus, cs }
    }
}

/// Deasserts CS when dropped: at the end of a transaction, or if it is cancelled.
struct Selected<'a>(&'a mut Output<'static>);

impl Drop for Selected<'_> {
    fn drop(&mut self) {
        self.0.set_high();
    }
}

impl ErrorType for W5500Spi {
    type Error = spim::Error;
}

impl SpiDevice for W5500Spi {
    async fn transaction(&mut self, ops: &mut [Operation<'_, u8>]) -> Result<(), spim::Error> {
        self.cs.set_low();
        let _cs = Selected(&mut self.cs);
        let bus = &mut *self.bus;
        let mut res = Ok(());
        for op in ops {
            // Spim's read and write are its transfer with one side empty: one call for the
            // three (212 bytes less than calling read, write and transfer).
            let (read, write): (&mut [u8], &[u8]) = match op {
                Operation::Read(buf) => (buf, &[]),
                Operation::Write(buf) => (&mut [], buf),
                Operation::Transfer(read, write) => (read, write),
                Operation::TransferInPlace(buf) => {
                    res = bus.transfer_in_place(buf).await;
                    (&mut [], &[])
                }
                Operation::DelayNs(ns) => {
                    res = bus.flush().await;
                    if res.is_ok() {
                        Timer::after_nanos(u64::from(*ns)).await;
                    }
                    (&mut [], &[])
                }
            };
            if res.is_ok() && !(read.is_empty() && write.is_empty()) {
                res = bus.transfer(read, write).await;
            }
            if res.is_err() {
                break;
            }
        }
        // Flushed before CS goes high, also after a failed operation.
        let flushed = bus.flush().await;
        res.and(flushed)
    }
}

/// The runner task's driver: owns the SPI bus, INT and RST.
pub type W5500Runner = Runner<'static, W5500, W5500Spi, Input<'static>, Output<'static>>;

/// Channel state shared by [`W5500Eth`] and its runner.
pub type W5500State = State<RX_SLOTS, TX_SLOTS>;

/// Largest frame the channel carries (Ethernet header + 1500, no FCS).
pub const MTU: usize = 1514;

/// The app side of the W5500: an [`ethernet::Driver`].
pub struct W5500Eth {
    dev: Device<'static>,
    mac: [u8; 6],
}

impl W5500Eth {
    /// Wraps the device half returned by `embassy_net_wiznet::new`.
    pub fn new(dev: Device<'static>, mac: [u8; 6]) -> Self {
        W5500Eth { dev, mac }
    }

    /// Resolves when a received frame is waiting (does not take it).
    pub async fn wait_rx(&mut self) {
        poll_fn(|cx| match self.dev.receive(cx) {
            // Dropping the tokens unconsumed leaves the frame in the channel.
            Some(_) => Poll::Ready(()),
            None => Poll::Pending,
        })
        .await
    }
}

/// Error of [`W5500Eth`]'s [`ethernet::Driver`] impl. SPI failures stay inside the runner
/// (which logs and drops the frame), so the app side cannot fail.
pub type EthError = Infallible;

impl ethernet::Driver for W5500Eth {
    type Error = EthError;

    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, EthError> {
        let mut cx = Context::from_waker(Waker::noop());
        let Some((rx, _tx)) = self.dev.receive(&mut cx) else {
            return Ok(None);
        };
        let n = rx.consume(|frame: &mut [u8]| {
            let n = frame.len();
            let m = n.min(buf.len());
            if let (Some(d), Some(s)) = (buf.get_mut(..m), frame.get(..m)) {
                d.copy_from_slice(s);
            }
            n
        });
        Ok(Some(n))
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<bool, EthError> {
        if frame.len() > MTU {
            // Cannot be sent on this link; drop it rather than retry forever.
            defmt::warn!("eth: dropping {}-byte frame (MTU {})", frame.len(), MTU);
            return Ok(true);
        }
        let mut cx = Context::from_waker(Waker::noop());
        let Some(tx) = self.dev.transmit(&mut cx) else {
            return Ok(false);
        };
        tx.consume(frame.len(), |b: &mut [u8]| b.copy_from_slice(frame));
        Ok(true)
    }

    fn link_up(&mut self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        self.dev.link_state(&mut cx) == LinkState::Up
    }
}
