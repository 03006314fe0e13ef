//! Counters: `Stats` pages of the device's counter list ([`crate::counters`]) and
//! `StatsReset`, which keeps baselines rather than zeroing the layers' own counters (and
//! leaves the gauges, [`mgmt::counters::GAUGES`]).

use heapless::Vec;
use mgmt::Response;

use super::{MgmtServer, iface_index, sat16};
use crate::app::App;
use crate::counters;

impl<const TX: usize> MgmtServer<TX> {
    /// [`Request::Stats`]: one page of values, less the baselines of the last reset.
    #[inline(always)]
    pub(super) fn stats_page(&mut self, id: u16, start: u16, app: &App<'_>) {
        let mut values: Vec<u64, { mgmt::VALUES_PER_PAGE }> = Vec::new();
        let base = &self.baseline;
        let mgmt_stats = self.stats;
        let frame_stats = self.rx.stats();
        counters::for_each_value(app, &mgmt_stats, &frame_stats, &mut |k, _, v| {
            if k >= usize::from(start) {
                let _ = values.push(rebase(v, base.get(k).copied()));
            }
        });
        self.respond(
            id,
            &Response::Stats {
                total: sat16(counters::COUNT),
                start,
                list: counters::FINGERPRINT,
                values,
            },
        );
    }

    /// [`Request::StatsReset`]: the current values become the baselines.
    #[inline(always)]
    pub(super) fn stats_reset(&mut self, id: u16, iface: Option<&str>, app: &App<'_>) {
        if let Some(n) = iface
            && iface_index(app, n).is_none()
        {
            return self.no_iface(id, n);
        }
        let mgmt_stats = self.stats;
        let frame_stats = self.rx.stats();
        let base = &mut self.baseline;
        counters::for_each_value(app, &mgmt_stats, &frame_stats, &mut |k, ifname, v| {
            // Gauges are levels, not counts: a reset leaves them.
            if iface.is_some_and(|want| ifname != Some(want)) || mgmt::counters::is_gauge_index(k) {
                return;
            }
            if let Some(b) = base.get_mut(k) {
                *b = v;
            }
        });
        self.ok(id);
    }
}

fn rebase(v: u64, base: Option<u64>) -> u64 {
    match base {
        // A counter that restarted (its layer was rebuilt) is reported as is.
        Some(b) if v >= b => v - b,
        _ => v,
    }
}
