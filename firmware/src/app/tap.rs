//! Capture taps: a [`Radio`] and an Ethernet [`Driver`] wrapped so that every frame that
//! passes through them is recorded in the capture ring.

use ethernet::Driver;
use l2_15_4::PanId;
use l2_15_4::radio::{Capabilities, Channel, Radio, RadioError, TxMode};
use netif::{Duration, Instant};

use crate::capture::{CaptureIface, CaptureMeta, CaptureRing, Direction};

/// Radio wrapper that records every PSDU we transmit (ACKs included) into the capture ring.
pub(super) struct Tap<'a, R: Radio> {
    pub(super) radio: &'a mut R,
    pub(super) capture: &'a mut CaptureRing,
    pub(super) channel: u8,
}

impl<R: Radio> Radio for Tap<'_, R> {
    fn capabilities(&self) -> Capabilities {
        self.radio.capabilities()
    }
    fn set_channel(&mut self, channel: Channel) -> Result<(), RadioError> {
        self.radio.set_channel(channel)
    }
    fn set_pan_id(&mut self, pan: PanId) {
        self.radio.set_pan_id(pan)
    }
    fn set_short_address(&mut self, addr: u16) {
        self.radio.set_short_address(addr)
    }
    fn set_extended_address(&mut self, addr: [u8; 8]) {
        self.radio.set_extended_address(addr)
    }
    fn set_pan_coordinator(&mut self, on: bool) {
        self.radio.set_pan_coordinator(on)
    }
    fn set_promiscuous(&mut self, on: bool) -> Result<(), RadioError> {
        self.radio.set_promiscuous(on)
    }
    fn energy_detect(&mut self, now: Instant, duration: Duration) -> Result<(), RadioError> {
        self.radio.energy_detect(now, duration)
    }
    fn cca(&mut self, now: Instant) -> Result<bool, RadioError> {
        self.radio.cca(now)
    }
    fn transmit(&mut self, now: Instant, psdu: &[u8], mode: TxMode) -> Result<(), RadioError> {
        if self.capture.wants(CaptureIface::Wpan0, Direction::Tx) {
            let meta = CaptureMeta {
                timestamp_us: now.as_micros(),
                iface: CaptureIface::Wpan0,
                direction: Direction::Tx,
                channel: self.channel,
                rssi: i8::MIN,
                lqi: 0,
                orig_len: psdu.len() as u16,
            };
            self.capture.record(meta, psdu);
        }
        self.radio.transmit(now, psdu, mode)
    }
}

/// Ethernet driver wrapper that records frames in both directions.
pub(super) struct EthTap<'a, D: Driver> {
    pub(super) drv: &'a mut D,
    pub(super) capture: &'a mut CaptureRing,
    pub(super) now: Instant,
}

impl<D: Driver> EthTap<'_, D> {
    fn record(&mut self, direction: Direction, frame: &[u8], orig_len: usize) {
        if self.capture.wants(CaptureIface::Eth0, direction) {
            let meta = CaptureMeta {
                timestamp_us: self.now.as_micros(),
                iface: CaptureIface::Eth0,
                direction,
                channel: 0,
                rssi: i8::MIN,
                lqi: 0,
                orig_len: u16::try_from(orig_len).unwrap_or(u16::MAX),
            };
            self.capture.record(meta, frame);
        }
    }
}

impl<D: Driver> Driver for EthTap<'_, D> {
    type Error = D::Error;
    fn mac(&self) -> [u8; 6] {
        self.drv.mac()
    }
    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, D::Error> {
        let r = self.drv.receive(buf)?;
        if let Some(n) = r {
            let have = n.min(buf.len());
            self.record(Direction::Rx, buf.get(..have).unwrap_or(&[]), n);
        }
        Ok(r)
    }
    fn transmit(&mut self, frame: &[u8]) -> Result<bool, D::Error> {
        let sent = self.drv.transmit(frame)?;
        if sent {
            self.record(Direction::Tx, frame, frame.len());
        }
        Ok(sent)
    }
    fn link_up(&mut self) -> bool {
        self.drv.link_up()
    }
}
