//! The session: the `Hello` handshake (which ends the previous host's session, telling it so
//! when it still had something running), `Info`, and the event and log subscriptions.

use l2_15_4::radio::Radio;
use mgmt::{ErrorCode, Info, Response};

use super::{FIRMWARE, MgmtServer, sat16};
use crate::app::App;

/// What the old session is told when another client's `Hello` ends it (hosts print their own
/// words; short, for the board's flash).
pub const TAKEN_OVER: &str = "session taken over";

impl<const TX: usize> MgmtServer<TX> {
    /// [`Request::Hello`]: a new session. When the old one still streams or waits for a
    /// deferred answer, its host is told first, with `Error { Busy, TAKEN_OVER }` under id 0
    /// (no request has id 0, and `Error` is frozen: hosts of every version decode it).
    #[inline(always)]
    pub(super) fn hello<R: Radio>(
        &mut self,
        id: u16,
        client: &str,
        app: &mut App<'_>,
        radio: &mut R,
    ) {
        // `|`, not `||`: no branches (flash).
        if self.events
            | self.logs
            | self.capture.is_some()
            | self.ping.is_some()
            | self.scan.is_some()
        {
            self.taken_over();
        }
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

    /// Tells the old session's host that another client's `Hello` ends it, and counts it.
    #[inline(never)]
    fn taken_over(&mut self) {
        self.stats.sessions_taken_over += 1;
        self.error(0, ErrorCode::Busy, TAKEN_OVER);
    }

    /// A new host session (Hello) or a hang-up: stop streaming, cancel subscriptions and
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
