//! Link-layer security: its state and counters (`SecurityShow`), the write-only network key
//! (`SecuritySetKey`, `SecurityOff`), the settings (`SecuritySet`) and rotation
//! (`SecurityRotate`). No response carries the key.

use mgmt::{Response, SecurityDrops, SecurityInfo, SecuritySettings};
use netif::Instant;

use super::{MgmtServer, sat16};
use crate::app::App;

impl<const TX: usize> MgmtServer<TX> {
    /// [`Request::SecurityShow`](mgmt::Request::SecurityShow).
    #[inline(always)]
    pub(super) fn security_show(&mut self, id: u16, app: &App<'_>) {
        let c = app.config().security;
        let s = app.wpan().security();
        let st = s.map(|s| *s.stats()).unwrap_or_default();
        let (tracked, capacity) = s.map_or((0, 0), |s| s.replay_occupancy());
        let info = SecurityInfo {
            enabled: s.is_some(),
            settings: SecuritySettings {
                level: c.level,
                unsecured_allowed: c.unsecured_allowed,
                rotate_period_h: c.rotate_period_h,
            },
            key_sequence: s.map_or(0, |s| s.key_sequence()),
            key_index: s.map_or(0, |s| s.key_index()),
            frame_counter: s.map_or(0, |s| s.frame_counter()),
            rotation_pending: s.is_some_and(|s| s.rotation_pending()),
            next_rotation_s: app
                .next_rotation()
                .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX)),
            neighbours: (sat16(tracked), sat16(capacity)),
            frames: (st.tx_secured, st.rx_secured),
            tx_no_counter: st.tx_no_counter,
            rotations: st.key_rotations,
            replay_evictions: st.replay_evictions,
            drops: SecurityDrops {
                no_key: st.rx_no_key,
                mic: st.rx_mic_failures,
                replay: st.rx_replays,
                duplicate: st.rx_duplicates,
                unsecured: st.rx_unsecured,
                unsupported: st.rx_unsupported,
            },
        };
        self.respond(id, &Response::Security(info));
    }

    /// [`Request::SecuritySetKey`](mgmt::Request::SecuritySetKey) (`Some`) and
    /// [`Request::SecurityOff`](mgmt::Request::SecurityOff) (`None`).
    #[inline(always)]
    pub(super) fn security_set_key(
        &mut self,
        id: u16,
        key: Option<[u8; 16]>,
        app: &mut App<'_>,
        now: Instant,
    ) {
        match app.set_network_key(now, key) {
            Ok(()) => self.ok(id),
            Err(e) => self.app_error(id, e),
        }
    }

    /// [`Request::SecuritySet`](mgmt::Request::SecuritySet).
    #[inline(always)]
    pub(super) fn security_set(
        &mut self,
        id: u16,
        s: SecuritySettings,
        app: &mut App<'_>,
        now: Instant,
    ) {
        match app.set_security_settings(now, s.level, s.unsecured_allowed, s.rotate_period_h) {
            Ok(()) => self.ok(id),
            Err(e) => self.app_error(id, e),
        }
    }

    /// [`Request::SecurityRotate`](mgmt::Request::SecurityRotate).
    #[inline(always)]
    pub(super) fn security_rotate(&mut self, id: u16, app: &mut App<'_>, now: Instant) {
        match app.rotate_key(now) {
            Ok(()) => self.ok(id),
            Err(e) => self.app_error(id, e),
        }
    }
}
