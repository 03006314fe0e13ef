//! The router's in-memory drivers: the channel's behaviour ([`Air`]), the scripted radio and
//! an Ethernet driver with a receive queue, a carrier, back-pressure and an injectable error.

use std::collections::VecDeque;

use l2_15_4::radio::testing::ScriptedRadio;

/// How the simulated channel treats the router's transmissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Air {
    /// Every frame is sent; unicast frames are acknowledged.
    Perfect,
    /// Frames are sent, no ACK ever comes (retries, then no-ACK reports).
    NoAck,
    /// CCA always finds the channel busy.
    Busy,
    /// Every transmission ends in a radio failure.
    Failing,
    /// The radio refuses to start any transmission.
    Refusing,
}

/// The router's radio: records what the router sends; the harness ends each transmission as
/// the channel's behaviour ([`Air`], which also sets the radio's CCA answer and refusal) says.
pub(crate) type FuzzRadio = ScriptedRadio<16>;

/// An Ethernet driver with a receive queue the input fills, a carrier, back-pressure and an
/// injectable error.
pub(crate) struct FuzzEth {
    pub(crate) mac: [u8; 6],
    /// Frames waiting to be received.
    pub(crate) rx: VecDeque<Vec<u8>>,
    /// Frames handed to the router.
    pub(crate) delivered: u64,
    pub(crate) carrier: bool,
    /// Refuse to transmit (no room).
    pub(crate) busy: bool,
    /// Fail the next receive call.
    pub(crate) fail_next: bool,
}

impl ethernet::Driver for FuzzEth {
    type Error = ();
    fn mac(&self) -> [u8; 6] {
        self.mac
    }
    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, ()> {
        if std::mem::take(&mut self.fail_next) {
            return Err(());
        }
        // Nothing arrives without a carrier.
        if !self.carrier {
            return Ok(None);
        }
        let Some(f) = self.rx.pop_front() else {
            return Ok(None);
        };
        let n = f.len().min(buf.len());
        buf[..n].copy_from_slice(&f[..n]);
        self.delivered += 1;
        Ok(Some(f.len()))
    }
    fn transmit(&mut self, _: &[u8]) -> Result<bool, ()> {
        Ok(!self.busy)
    }
    fn link_up(&mut self) -> bool {
        self.carrier
    }
}
