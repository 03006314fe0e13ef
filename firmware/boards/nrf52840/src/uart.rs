//! The management UART (UARTE0) as the main loop sees it: the HAL's buffered driver, read and
//! written in place.
//!
//! There are no byte pipes or extra tasks in between. The main loop awaits [`io`] together
//! with the radio, Ethernet and timer. It resolves when the host has sent bytes, which the
//! loop offers to the management server: the server takes whole requests only while their
//! answer has room, and the rest stays in the driver's receive ring. It also resolves when
//! part of the server's pending output moved into the driver's transmit ring. Both halves
//! are cancel-safe: nothing is taken from the receive ring until `consume`, and a write that
//! has not resolved has copied nothing.
//!
//! When the host sends faster than the server takes (it shouldn't: the CLI waits for each
//! answer), the receive ring fills and the HAL counts overruns, which [`io`] reports as an
//! error; the frame decoder then resynchronises at the next delimiter.

use embassy_futures::select::{Either, select};
use embassy_nrf::buffered_uarte::{BufferedUarteRx, BufferedUarteTx, Error};

/// Receive ring inside the HAL's buffered UART driver (must be even). The CLI sends one
/// request (tens of bytes) and waits for its answer, so this only has to hold one request
/// while the server waits for transmit room.
pub const UART_RX_RING: usize = 128;
/// Transmit ring inside the HAL's driver (DMA source); the server's own buffer is the queue.
pub const UART_TX_RING: usize = 128;

/// What [`io`] saw.
#[cfg_attr(not(feature = "mgmt"), allow(dead_code))] // nothing to send without the server
pub enum Io<'a> {
    /// Bytes from the host, still in the driver's ring: `consume` what was taken.
    Rx(Result<&'a [u8], Error>),
    /// This many bytes of the pending output went to the driver.
    Tx(usize),
}

/// Waits until the host sent bytes (only when `want_rx`) or some of `pending` could be queued
/// for transmission. Cancel-safe.
pub async fn io<'a>(
    rx: &'a mut BufferedUarteRx<'static>,
    tx: &mut BufferedUarteTx<'static>,
    pending: &[u8],
    want_rx: bool,
) -> Io<'a> {
    let read = async {
        if want_rx {
            rx.fill_buf().await
        } else {
            core::future::pending().await
        }
    };
    let write = async {
        if pending.is_empty() {
            core::future::pending().await
        } else {
            // The driver's write never fails; a 0 would only mean "nothing to write".
            tx.write(pending).await.unwrap_or(0)
        }
    };
    match select(read, write).await {
        Either::First(r) => Io::Rx(r),
        Either::Second(n) => Io::Tx(n),
    }
}

#[cfg(feature = "mgmt")]
/// Moves as much of `pending` into the driver's transmit ring as fits now; returns how much.
pub fn write_now(tx: &mut BufferedUarteTx<'static>, pending: &[u8]) -> usize {
    if pending.is_empty() {
        return 0;
    }
    tx.try_write(pending).unwrap_or(0)
}
