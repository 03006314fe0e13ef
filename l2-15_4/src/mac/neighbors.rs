//! Per-neighbour link statistics (RSSI, LQI, ACK ratio, ETX) and the bounded neighbour table.

use heapless::Vec;
use netif::time::Instant;

use crate::frame::Address;

use super::Mac;
use super::counters::bump;

/// The ETX fixed-point divisor: an ETX of 1 (every frame acknowledged at the first attempt)
/// is `ETX_DIVISOR`, as RFC 6551 §4.3.5 and RPL's objective functions count it.
pub const ETX_DIVISOR: u16 = 128;

/// Transmissions a unicast frame that ended without ACK counts for in the ETX: the most the
/// MAC can make for one frame (1 + the largest macMaxFrameRetries, 7), so a link that stops
/// acknowledging reaches ETX 8 whatever the configured retries, twice MRHOF's MAX_LINK_METRIC
/// (ETX 4).
pub const ETX_NOACK_PENALTY: u16 = 8;

/// The EWMA's weight of a new outcome is 1 / 2^`ETX_ALPHA_SHIFT` (1/8): after interference
/// that took every frame 8 transmissions, 20 frames acknowledged at the first attempt bring
/// the estimate back under 1.5 (unit test `the_etx_ages`).
pub const ETX_ALPHA_SHIFT: u32 = 3;

/// Unicast frames in a row that end without ACK before the neighbour counts as absent (gone,
/// or rebooting) rather than behind a bad link: each such frame already failed every
/// transmission the MAC made for it, and a link of ETX 4 (MRHOF's MAX_LINK_METRIC) loses three
/// in a row about once in a thousand. The next acknowledged frame then starts the estimate
/// afresh: the no-ACKs of its absence say nothing of the link it comes back on.
pub const ETX_ABSENT_RUN: u8 = 3;

/// Link statistics of one neighbour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LinkStats {
    rssi_x16: i16,
    lqi_x16: u16,
    /// Frames received from it.
    pub rx_frames: u32,
    /// Transmissions to it (retransmissions included).
    pub tx_attempts: u32,
    /// ETX estimate × [`ETX_DIVISOR`], an EWMA of the unicast outcomes ([`LinkStats::etx_x128`]);
    /// 0 before the first one.
    etx: u16,
    /// Unicast frames in a row that ended without ACK (saturating).
    no_ack_run: u8,
    /// Unicast frames to it that were acknowledged.
    pub tx_acked: u32,
    /// Unicast frames to it that ended without ACK.
    pub tx_no_ack: u32,
    /// When we last received a frame from it.
    pub last_heard: Option<Instant>,
}

impl LinkStats {
    /// RSSI moving average (α = 1/8), dBm.
    pub fn rssi(&self) -> i8 {
        (self.rssi_x16 / 16) as i8
    }
    /// LQI moving average (α = 1/8).
    pub fn lqi(&self) -> u8 {
        (self.lqi_x16 / 16) as u8
    }
    /// Share of unicast frames acknowledged, in percent; `None` before the first one.
    pub fn ack_ratio_percent(&self) -> Option<u8> {
        let n = self.tx_acked.saturating_add(self.tx_no_ack);
        if n == 0 {
            None
        } else {
            Some((u64::from(self.tx_acked) * 100 / u64::from(n)) as u8)
        }
    }
    /// ETX estimate × [`ETX_DIVISOR`] (RFC 6551's fixed point): an exponentially weighted
    /// moving average of the transmissions each unicast frame to it took (weight 1/8 for the
    /// newest), a frame that ended without ACK counting [`ETX_NOACK_PENALTY`]; initialised
    /// from the first outcome, and again from the first acknowledged frame after
    /// [`ETX_ABSENT_RUN`] unacknowledged ones in a row (the neighbour was gone: rebooting).
    /// Ageing, so a link that recovers (the interference went) comes back down within a few
    /// tens of frames. `None` before the
    /// first acknowledged or unacknowledged unicast frame (a channel-access failure or a
    /// radio error says nothing of the link and is not counted, as in Contiki-NG).
    pub fn etx_x128(&self) -> Option<u16> {
        (self.etx != 0).then_some(self.etx)
    }
    /// The same ETX estimate × 100 (as the management protocol shows it).
    pub fn etx_x100(&self) -> Option<u32> {
        self.etx_x128()
            .map(|e| u32::from(e) * 100 / u32::from(ETX_DIVISOR))
    }
    /// One unicast frame to this neighbour ended after `transmissions`, acknowledged or not.
    pub(super) fn record_tx(&mut self, transmissions: u8, acked: bool) {
        self.tx_attempts = self.tx_attempts.wrapping_add(u32::from(transmissions));
        let returned = acked && self.no_ack_run >= ETX_ABSENT_RUN;
        let sample = if acked {
            self.tx_acked = self.tx_acked.wrapping_add(1);
            self.no_ack_run = 0;
            u16::from(transmissions.max(1))
        } else {
            self.tx_no_ack = self.tx_no_ack.wrapping_add(1);
            self.no_ack_run = self.no_ack_run.saturating_add(1);
            ETX_NOACK_PENALTY
        };
        let sample = u32::from(sample) * u32::from(ETX_DIVISOR);
        let etx = match self.etx_x128() {
            None => sample,
            Some(_) if returned => sample,
            Some(old) => {
                let old = u32::from(old);
                (old * ((1 << ETX_ALPHA_SHIFT) - 1) + sample) >> ETX_ALPHA_SHIFT
            }
        };
        // At most 8 × 128 (the largest sample) and at least 128: fits, never 0.
        self.etx = u16::try_from(etx).unwrap_or(u16::MAX).max(1);
    }
    pub(super) fn record_rx(&mut self, now: Instant, rssi: i8, lqi: u8) {
        let r = i16::from(rssi) * 16;
        let l = u16::from(lqi) * 16;
        if self.rx_frames == 0 {
            self.rssi_x16 = r;
            self.lqi_x16 = l;
        } else {
            self.rssi_x16 += (r - self.rssi_x16) / 8;
            self.lqi_x16 =
                (i32::from(self.lqi_x16) + (i32::from(l) - i32::from(self.lqi_x16)) / 8) as u16;
        }
        self.rx_frames = self.rx_frames.wrapping_add(1);
        self.last_heard = Some(now);
    }
}

impl<const TXQ: usize, const DUP: usize, const NBR: usize> Mac<TXQ, DUP, NBR> {
    /// Link statistics of `addr`, if known.
    pub fn neighbor(&self, addr: &Address) -> Option<&LinkStats> {
        self.res
            .neighbors
            .iter()
            .find(|(a, _)| a == addr)
            .map(|(_, s)| s)
    }

    /// All known neighbours.
    pub fn neighbors(&self) -> impl Iterator<Item = (&Address, &LinkStats)> {
        self.res.neighbors.iter().map(|(a, s)| (a, s))
    }
}

/// Finds or makes the neighbour entry of `addr`, evicting the least recently heard when full.
pub(super) fn neighbor_entry<'t, const N: usize>(
    table: &'t mut Vec<(Address, LinkStats), N>,
    addr: Address,
    evictions: &mut u32,
) -> Option<&'t mut LinkStats> {
    let idx = match table.iter().position(|(a, _)| *a == addr) {
        Some(i) => i,
        None => {
            if table.is_full() {
                let victim = table
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, (_, s))| s.last_heard)
                    .map(|(i, _)| i)?;
                bump(evictions);
                table.swap_remove(victim);
            }
            table.push((addr, LinkStats::default())).ok()?;
            table.len().checked_sub(1)?
        }
    };
    table.get_mut(idx).map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(s: &mut LinkStats, n: usize, transmissions: u8, acked: bool) {
        for _ in 0..n {
            s.record_tx(transmissions, acked);
        }
    }

    /// The EWMA's worked numbers: new = (7 × old + sample) / 8, × 128, rounded down.
    #[test]
    fn the_etx_is_an_ewma_initialised_from_the_first_outcome() {
        let mut s = LinkStats::default();
        assert_eq!((s.etx_x128(), s.etx_x100()), (None, None));
        // First outcome: acknowledged at the first attempt, ETX 1.
        s.record_tx(1, true);
        assert_eq!((s.etx_x128(), s.etx_x100()), (Some(128), Some(100)));
        // Acknowledged at the second attempt: (7 × 128 + 256) / 8 = 144 (ETX 1.125).
        s.record_tx(2, true);
        assert_eq!((s.etx_x128(), s.etx_x100()), (Some(144), Some(112)));
        // No ACK after 4 transmissions counts 8: (7 × 144 + 1024) / 8 = 254.
        s.record_tx(4, false);
        assert_eq!(s.etx_x128(), Some(254));
        assert_eq!((s.tx_attempts, s.tx_acked, s.tx_no_ack), (7, 2, 1));
        assert_eq!(s.ack_ratio_percent(), Some(66));
        // A first outcome without ACK starts at the penalty, ETX 8.
        let mut s = LinkStats::default();
        s.record_tx(8, false);
        assert_eq!(s.etx_x128(), Some(ETX_NOACK_PENALTY * ETX_DIVISOR));
        // A first outcome at the third attempt: ETX 3.
        let mut s = LinkStats::default();
        s.record_tx(3, true);
        assert_eq!(s.etx_x128(), Some(384));
    }

    /// Interference: every frame is acknowledged only at the MAC's eighth transmission; the
    /// estimate climbs towards 8 and comes back once the frames get through at the first
    /// attempt again: under 1.5 after 20 clean frames, exactly 1 after 40. A cumulative count
    /// (transmissions / acknowledged frames since boot) would stay above 4 for good.
    #[test]
    fn the_etx_ages() {
        let mut s = LinkStats::default();
        outcomes(&mut s, 100, 1, true);
        assert_eq!(s.etx_x128(), Some(128));
        // Ten frames at 8 transmissions: 240, 338, … 786.
        s.record_tx(8, true);
        assert_eq!(s.etx_x128(), Some(240));
        outcomes(&mut s, 9, 8, true);
        assert_eq!(s.etx_x128(), Some(786));
        // Many more: the estimate settles just under 8 × 128 (rounding down).
        outcomes(&mut s, 100, 8, true);
        assert_eq!(s.etx_x128(), Some(1017));
        // Recovery, one transmission per frame: 905, 807, …; 7 frames to under MRHOF's
        // MAX_LINK_METRIC (ETX 4), 20 to under 1.5, 40 to exactly 1.
        outcomes(&mut s, 7, 1, true);
        assert_eq!(s.etx_x128(), Some(475));
        outcomes(&mut s, 12, 1, true);
        assert_eq!(s.etx_x128(), Some(195));
        s.record_tx(1, true);
        assert_eq!(s.etx_x128(), Some(186));
        outcomes(&mut s, 20, 1, true);
        assert_eq!(s.etx_x128(), Some(128));
        // Since boot: 1,020 transmissions for 250 acknowledged frames.
        let cumulative = u64::from(s.tx_attempts) * 128 / u64::from(s.tx_acked);
        assert_eq!(cumulative, 522, "the cumulative ETX would say 4.1");
    }

    /// A neighbour that stops acknowledging (it rebooted) climbs towards ETX 8 and its
    /// parent role is lost; when it answers again, after [`ETX_ABSENT_RUN`] no-ACKs in a row,
    /// its first acknowledged frame starts the estimate afresh. Fewer in a row are the link's
    /// and age out.
    #[test]
    fn a_neighbour_back_from_absence_is_measured_afresh() {
        let mut s = LinkStats::default();
        outcomes(&mut s, 10, 1, true);
        outcomes(&mut s, 3, 8, false);
        assert_eq!(s.etx_x128(), Some(423), "240, 338, 423");
        s.record_tx(2, true);
        assert_eq!(
            s.etx_x128(),
            Some(256),
            "afresh: the frame's 2 transmissions"
        );
        s.record_tx(1, true);
        assert_eq!(s.etx_x128(), Some(240));
        // Two no-ACKs in a row: the link, averaged.
        outcomes(&mut s, 2, 8, false);
        assert_eq!(s.etx_x128(), Some(423), "338, 423");
        s.record_tx(1, true);
        assert_eq!(s.etx_x128(), Some(386));
    }

    #[test]
    fn the_etx_never_overflows_or_reaches_zero() {
        let mut s = LinkStats::default();
        for t in [0u8, 1, 255, 0, 8, 255] {
            s.record_tx(t, true);
            let e = s.etx_x128().unwrap();
            assert!((ETX_DIVISOR..=255 * ETX_DIVISOR).contains(&e), "{t}: {e}");
        }
        s.tx_attempts = u32::MAX;
        s.record_tx(255, false);
        assert_eq!(s.tx_attempts, 254);
    }
}
