//! The session: the `Hello` handshake (which ends the previous host's session), `Info`, and
//! the event and log subscriptions.

use l2_15_4::radio::Radio;
use mgmt::{ErrorCode, Info, Response};

use super::{FIRMWARE, MgmtServer, sat16};
use crate::app::App;

impl<const TX: usize> MgmtServer<TX> {
    /// [`Request::Hello`]: a new session.
    #[inline(always)]
    pub(super) fn hello<R: Radio>(
        &mut self,
        id: u16,
        client: &str,
        app: &mut App<'_>,
        radio: &mut R,
    ) {
        self.end_session(app, radio);
        debug!("management: session from {}", client);
        self.respond(
            id,
            &Response::Hello {
                version: self.version,
                schema: self.schema,
                firmware: FIRMWARE,
                board: self.board,
            },
        );
    }

    /// [`Request::Info`].
    #[inline(always)]
    pub(super) fn info(&mut self, id: u16, app: &App<'_>) {
        let c = app.config();
        let s = app.status();
        let info = Info {
            firmware: FIRMWARE,
            board: self.board,
            protocol: self.version,
            uptime_ms: app.uptime().as_micros() / 1000,
            eui64: c.eui64,
            short_addr: c.short_address,
            channel: c.channel,
            pan_id: c.pan_id,
            tx_power: c.tx_power_dbm,
            prefix: c.mesh_prefix_addr().octets(),
            prefix_len: crate::config::MESH_PREFIX_LEN,
            registered: sat16(s.registered),
            gleaned: sat16(s.gleaned),
            pool_free: sat16(s.pool_free),
            pool_size: sat16(s.pool_size),
        };
        self.respond(id, &Response::Info(info));
    }

    /// [`Request::Subscribe`].
    #[inline(always)]
    pub(super) fn subscribe(&mut self, id: u16, events: bool, logs: bool) {
        if logs && let Some(why) = self.logs_unavailable {
            return self.error(id, ErrorCode::Unsupported, why);
        }
        if logs && !self.logs {
            info!("management: log stream started");
        }
        self.events = events;
        self.logs = logs;
        self.ok(id);
    }

    /// A new host session (Hello) or a reboot: stop streaming, cancel subscriptions and
    /// deferred requests.
    pub(super) fn end_session<R: Radio>(&mut self, app: &mut App<'_>, radio: &mut R) {
        if self.capture.is_some() {
            let _ = self.stop_capture(app, radio);
        }
        self.events = false;
        self.logs = false;
        self.lost_events = 0;
        self.ping = None;
        self.storing = None;
        if self.scan.take().is_some() {
            let _ = app.restore_channel(radio);
        }
    }
}
