//! Receivers that are deaf for a while (a foreign node busy with its own last frame, see
//! [`crate::zep_bridge`]): a transmission addressed to one is held back, as if its sender's
//! CCA had found the channel busy, until the receiver listens again.

use l2_15_4::frame::{Address, FCS_LEN, Frame};
use netif::time::Instant;

use super::{Kind, Medium, RadioId, airtime};

impl Medium {
    /// Radio `id` cannot take a frame before `until` (a foreign node still busy with the
    /// frame it sent: RIOT's ZEP radio drops what arrives within milliseconds after its own
    /// frame). A later transmission that `id` would hear and that is addressed to it (its
    /// extended or short address, or broadcast) is held back until then, as if its sender's
    /// CCA had found the channel busy that long, and longer if `id` is made deaf again
    /// meanwhile (its burst goes on); ACKs are never held back (they carry no
    /// address and must meet the sender's ACK window). Counted in
    /// [`RadioCounters::tx_deferred`] of the sender.
    pub fn set_deaf_until(&mut self, id: RadioId, until: Instant) {
        if let Some(s) = self.radios.get_mut(id.0) {
            s.deaf_until = until;
        }
    }

    /// The latest instant until which a radio that would hear `psdu` from `id`, and that it
    /// is addressed to, is deaf (`None`: none is).
    pub(super) fn deaf_addressee(&self, id: usize, psdu: &[u8]) -> Option<Instant> {
        let now = self.now;
        if self.radios.iter().all(|r| r.deaf_until <= now) {
            return None;
        }
        let mpdu = psdu.get(..psdu.len().saturating_sub(FCS_LEN))?;
        let dst = Frame::new_unchecked(mpdu).dst_addr()?;
        let channel = self.radios.get(id)?.channel;
        self.radios
            .iter()
            .enumerate()
            .filter(|(r, s)| {
                *r != id
                    && s.deaf_until > now
                    && match dst {
                        Address::Short(a) => a == 0xffff || a == s.short,
                        Address::Extended(e) => e == s.extended,
                    }
                    && self.audible(id, *r, channel).is_some()
            })
            .map(|(_, s)| s.deaf_until)
            .max()
    }

    /// A held-back transmission of `id` starts at `at` (after its own ACK, if one is on air).
    pub(super) fn start_deferred(&mut self, id: usize, at: Instant) {
        let Some(slot) = self.radios.get_mut(id) else {
            return;
        };
        if let Some(txid) = slot.transmitting {
            let end = self.air.iter().find(|t| t.id == txid).map_or(at, |t| t.end);
            self.schedule(end, Kind::Deferred(id));
            return;
        }
        // Still deaf: the addressee sent again meanwhile (a burst of fragments), and its next
        // frame may already be on the air, unknown until it ends. Wait again.
        let deferred = slot.deferred.clone();
        if let Some(until) = deferred
            .as_deref()
            .and_then(|psdu| self.deaf_addressee(id, psdu))
            .filter(|until| *until > at)
        {
            self.schedule(until, Kind::Deferred(id));
            return;
        }
        if let Some(psdu) = self.radios.get_mut(id).and_then(|s| s.deferred.take()) {
            self.begin_tx(id, at, at + airtime(psdu.len()), &psdu);
        }
    }
}
