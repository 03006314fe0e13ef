//! Every pin and peripheral assignment of the board, in one place.
//!
//! Target: Nordic nRF52840-DK (PCA10056) with a WIZnet W5500 module on the Arduino header
//! (the usual "Ethernet shield" positions: SPI on D10..D13, INT on D9, RST on D8).
//!
//! | function            | peripheral | pin   | DK header |
//! | ------------------- | ---------- | ----- | --------- |
//! | management UART TX  | UARTE0     | P0.06 | VCOM (J-Link USB CDC) |
//! | management UART RX  | UARTE0     | P0.08 | VCOM |
//! | W5500 SCK           | SPIM3      | P1.15 | D13 |
//! | W5500 MOSI          | SPIM3      | P1.13 | D11 |
//! | W5500 MISO          | SPIM3      | P1.14 | D12 |
//! | W5500 CS (active low)| GPIO      | P1.12 | D10 |
//! | W5500 INT (active low)| GPIOTE   | P1.11 | D9  |
//! | W5500 RST (active low)| GPIO     | P1.10 | D8  |
//! | 802.15.4 radio      | RADIO      | —     | on chip (PCB antenna) |
//! | configuration flash | NVMC       | —     | pages 0xFE000, 0xFF000 |
//! | security counter log | NVMC      | —     | pages 0xFC000, 0xFD000 |
//! | link-layer AES-128  | ECB        | —     | on chip (`ecb.rs`; not a HAL singleton) |
//! | RNG (ECB failure fill) | RNG     | —     | on chip (`ecb.rs`) |
//! | UART RX byte counter | TIMER1, PPI CH0/CH1, PPI group 0 | — | (BufferedUarte) |
//!
//! Also taken by the HAL or this firmware: RTC1 (embassy-time driver), GPIOTE (W5500 INT).
//! UARTE0 runs without flow control (RTS P0.05 / CTS P0.07 stay free); the DK's interface MCU
//! bridges it to a USB serial port on the same cable as the debugger. SPIM3 is the only nRF52840
//! SPI master that reaches 32 MHz; the W5500 is specified to 33.3 MHz, we run it at 16 MHz for
//! margin on jumper wires.

use embassy_nrf::Peri;
use embassy_nrf::peripherals;

/// Baud rate of the management UART.
pub const UART_BAUD: embassy_nrf::uarte::Baudrate = embassy_nrf::uarte::Baudrate::Baud115200;

/// Capture ring of this board, in bytes: one full Ethernet frame (1514 + 17-byte record
/// header) or about ten 802.15.4 frames. Smaller than the simulator's
/// ([`firmware::capture::DEFAULT_CAPTURE_BYTES`]) to keep static RAM within 64 KiB: the ring
/// only has to cover the management line's latency, and what it cannot hold is counted.
pub const CAPTURE_BYTES: usize = 1600;

#[cfg(feature = "mgmt")]
/// Management transmit buffer: exactly one frame, the least the server takes (answers wait
/// for it to drain; records fill it meanwhile). Messages are encoded straight into it.
pub const MGMT_TX_BYTES: usize = firmware::mgmt::RESPONSE_RESERVE;

/// SPI clock of the W5500.
pub const W5500_SPI_FREQ: embassy_nrf::spim::Frequency = embassy_nrf::spim::Frequency::M16;

/// The board's peripherals, by role.
pub struct Board {
    /// The 802.15.4 radio.
    pub radio: Peri<'static, peripherals::RADIO>,
    /// Flash controller (configuration and counter pages).
    pub nvmc: Peri<'static, peripherals::NVMC>,
    /// Random number generator (fills a block the ECB failed to deliver).
    pub rng: Peri<'static, peripherals::RNG>,
    /// Management UART.
    pub uart: Uart,
    /// W5500 Ethernet controller.
    pub w5500: W5500,
}

/// Management UART pins.
pub struct Uart {
    /// UARTE instance.
    pub uarte: Peri<'static, peripherals::UARTE0>,
    /// TX pin (to the host).
    pub tx: Peri<'static, peripherals::P0_06>,
    /// RX pin (from the host).
    pub rx: Peri<'static, peripherals::P0_08>,
    /// Counts received bytes for the buffered driver.
    pub timer: Peri<'static, peripherals::TIMER1>,
    /// PPI channels and group of the buffered driver.
    pub ppi_ch1: Peri<'static, peripherals::PPI_CH0>,
    /// See `ppi_ch1`.
    pub ppi_ch2: Peri<'static, peripherals::PPI_CH1>,
    /// See `ppi_ch1`.
    pub ppi_group: Peri<'static, peripherals::PPI_GROUP0>,
}

/// W5500 SPI and control pins.
pub struct W5500 {
    /// SPI master instance.
    pub spim: Peri<'static, peripherals::SPI3>,
    /// SCK.
    pub sck: Peri<'static, peripherals::P1_15>,
    /// MOSI.
    pub mosi: Peri<'static, peripherals::P1_13>,
    /// MISO.
    pub miso: Peri<'static, peripherals::P1_14>,
    /// Chip select, active low.
    pub cs: Peri<'static, peripherals::P1_12>,
    /// Interrupt, active low (open drain on the W5500 side: pulled up here).
    pub int: Peri<'static, peripherals::P1_11>,
    /// Reset, active low.
    pub rst: Peri<'static, peripherals::P1_10>,
}

impl Board {
    /// Hands out the peripherals by role.
    pub fn new(p: embassy_nrf::Peripherals) -> Self {
        Board {
            radio: p.RADIO,
            nvmc: p.NVMC,
            rng: p.RNG,
            uart: Uart {
                uarte: p.UARTE0,
                tx: p.P0_06,
                rx: p.P0_08,
                timer: p.TIMER1,
                ppi_ch1: p.PPI_CH0,
                ppi_ch2: p.PPI_CH1,
                ppi_group: p.PPI_GROUP0,
            },
            w5500: W5500 {
                spim: p.SPI3,
                sck: p.P1_15,
                mosi: p.P1_13,
                miso: p.P1_14,
                cs: p.P1_12,
                int: p.P1_11,
                rst: p.P1_10,
            },
        }
    }
}
