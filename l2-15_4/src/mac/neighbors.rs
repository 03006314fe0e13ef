//! Per-neighbour link statistics (RSSI, LQI, ACK ratio, ETX) and the bounded neighbour table.

use heapless::Vec;
use netif::time::Instant;

use crate::frame::Address;

use super::Mac;
use super::counters::bump;

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
    /// Retransmissions to it.
    pub tx_retries: u32,
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
    /// ETX estimate ×100: transmissions per acknowledged frame; `None` before the first ACK.
    pub fn etx_x100(&self) -> Option<u32> {
        if self.tx_acked == 0 {
            None
        } else {
            Some(
                (u64::from(self.tx_attempts) * 100 / u64::from(self.tx_acked))
                    .min(u64::from(u32::MAX)) as u32,
            )
        }
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
