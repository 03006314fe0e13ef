//! The management UART (UARTE0): a byte pipe each way between the UART and the app.
//!
//! No protocol yet: the `mgmt` crate (COBS + CRC frames, versioned messages) will sit on these
//! pipes. Until then received bytes are drained and counted by the main loop, and nothing is
//! written except what the app hands to [`UartWriter`].
//!
//! - [`rx_task`] moves bytes from the buffered UART into [`RX`] (back-pressure: when the app
//!   does not read, the UART's own ring fills and further bytes are lost there, counted by
//!   the HAL as overruns).
//! - [`tx_task`] moves bytes from [`TX`] to the UART.
//! - The main loop awaits [`read`]; the app writes through
//!   [`UartWriter`], which never blocks: what does not fit in the pipe is refused (the caller
//!   counts it).

use embassy_nrf::buffered_uarte::{BufferedUarteRx, BufferedUarteTx};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::pipe::Pipe;

/// Bytes buffered from the host toward the app.
pub const RX_PIPE: usize = 256;
/// Bytes buffered from the app toward the host.
pub const TX_PIPE: usize = 512;
/// Ring buffers inside the HAL's buffered UART driver (RX must be even).
pub const UART_RX_RING: usize = 128;
/// See [`UART_RX_RING`].
pub const UART_TX_RING: usize = 128;

/// Host → app bytes.
pub static RX: Pipe<CriticalSectionRawMutex, RX_PIPE> = Pipe::new();
/// App → host bytes.
pub static TX: Pipe<CriticalSectionRawMutex, TX_PIPE> = Pipe::new();

/// Moves received bytes into [`RX`].
#[embassy_executor::task]
pub async fn rx_task(mut rx: BufferedUarteRx<'static>) -> ! {
    let mut buf = [0u8; 32];
    loop {
        match rx.read(&mut buf).await {
            Ok(n) => {
                let mut rest = buf.get(..n).unwrap_or(&[]);
                while !rest.is_empty() {
                    let w = RX.write(rest).await;
                    rest = rest.get(w..).unwrap_or(&[]);
                }
            }
            Err(e) => defmt::warn!("uart: rx error {}", e),
        }
    }
}

/// Moves [`TX`] bytes out of the UART.
#[embassy_executor::task]
pub async fn tx_task(mut tx: BufferedUarteTx<'static>) -> ! {
    let mut buf = [0u8; 32];
    loop {
        let n = TX.read(&mut buf).await;
        let mut rest = buf.get(..n).unwrap_or(&[]);
        while !rest.is_empty() {
            match tx.write(rest).await {
                Ok(w) => rest = rest.get(w..).unwrap_or(&[]),
                Err(e) => {
                    defmt::warn!("uart: tx error {}", e);
                    break;
                }
            }
        }
    }
}

/// Waits for host bytes and copies them into `buf` (at least one). Cancel-safe: dropped
/// before it resolves, it takes nothing, so the main loop can `select` on it.
pub async fn read(buf: &mut [u8]) -> usize {
    RX.read(buf).await
}

/// The app's non-blocking writer to the host.
#[derive(Debug, Default, Clone, Copy)]
pub struct UartWriter;

#[expect(
    dead_code,
    reason = "the management server (mgmt crate) will write through it"
)]
impl UartWriter {
    /// Queues as much of `bytes` as fits; returns how many were taken.
    pub fn write(&mut self, bytes: &[u8]) -> usize {
        TX.try_write(bytes).unwrap_or(0)
    }

    /// Free space in the pipe, so a caller can write a whole frame or nothing.
    pub fn free(&self) -> usize {
        TX.free_capacity()
    }
}
