//! [`SimRadio`]: the [`Radio`] driver of one radio attached to the [`Medium`], a short-lived
//! handle borrowed for each call into the MAC.

use std::fmt;

use l2_15_4::consts;
use l2_15_4::radio::{Capabilities, Channel, Radio, RadioError, TxMode};

use l2_15_4::frame::PanId;
use netif::time::{Duration, Instant};

use super::{Kind, Medium, NotifyKind, RadioId, RadioSlot};

/// A [`Radio`] handle for one attached radio; borrow it from [`Medium::radio`] for each call
/// into the MAC. It has no hardware FCS, ACK or CSMA/CA (the soft-MAC does them), supports
/// energy detection and promiscuous mode, and never filters (the MAC does).
pub struct SimRadio<'m> {
    pub(super) medium: &'m mut Medium,
    pub(super) id: RadioId,
}

impl fmt::Debug for SimRadio<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimRadio").field("id", &self.id).finish()
    }
}

impl SimRadio<'_> {
    /// This radio's id.
    pub fn id(&self) -> RadioId {
        self.id
    }

    /// The medium behind the handle.
    pub fn medium(&mut self) -> &mut Medium {
        self.medium
    }

    fn slot(&mut self) -> Option<&mut RadioSlot> {
        self.medium.radios.get_mut(self.id.0)
    }
}

impl Radio for SimRadio<'_> {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            hw_fcs: false,
            hw_auto_ack: false,
            hw_csma: false,
            energy_scan: true,
            promiscuous: true,
        }
    }

    fn set_channel(&mut self, channel: Channel) -> Result<(), RadioError> {
        let id = self.id.0;
        self.medium.retune(id, channel);
        Ok(())
    }

    fn set_pan_id(&mut self, pan: PanId) {
        if let Some(s) = self.slot() {
            s.pan_id = pan;
        }
    }

    fn set_short_address(&mut self, addr: u16) {
        if let Some(s) = self.slot() {
            s.short = addr;
        }
    }

    fn set_extended_address(&mut self, addr: [u8; 8]) {
        if let Some(s) = self.slot() {
            s.extended = addr;
        }
    }

    fn set_pan_coordinator(&mut self, on: bool) {
        if let Some(s) = self.slot() {
            s.coordinator = on;
        }
    }

    fn set_promiscuous(&mut self, on: bool) -> Result<(), RadioError> {
        if let Some(s) = self.slot() {
            s.promiscuous = on;
        }
        Ok(())
    }

    fn energy_detect(&mut self, now: Instant, duration: Duration) -> Result<(), RadioError> {
        let id = self.id.0;
        self.medium.advance_to(now);
        let t = self.medium.now;
        let ch = self
            .medium
            .radios
            .get(id)
            .map(|r| r.channel)
            .ok_or(RadioError::InvalidParameter)?;
        let dbm = self.medium.energy_at(id, ch, t);
        self.medium.schedule(
            t + duration,
            Kind::Notify(id, NotifyKind::EnergyDetect(ch.number(), dbm)),
        );
        Ok(())
    }

    fn cca(&mut self, now: Instant) -> Result<bool, RadioError> {
        let id = self.id.0;
        self.medium.advance_to(now);
        let t = self.medium.now;
        Ok(self.medium.cca_at(id, t))
    }

    fn transmit(&mut self, now: Instant, psdu: &[u8], mode: TxMode) -> Result<(), RadioError> {
        let id = self.id.0;
        match mode {
            TxMode::Direct => self.medium.start_tx(id, now, psdu),
            TxMode::Cca => {
                self.medium.advance_to(now);
                let t = self.medium.now;
                if self.medium.cca_at(id, t) {
                    self.medium
                        .start_tx(id, t + consts::symbols(consts::CCA_SYMBOLS), psdu)
                } else {
                    let at = t + consts::symbols(consts::CCA_SYMBOLS);
                    self.medium
                        .schedule(at, Kind::Notify(id, NotifyKind::ChannelBusy));
                    Ok(())
                }
            }
            TxMode::Csma => {
                self.medium.refuse(id);
                Err(RadioError::Unsupported)
            }
        }
    }
}
