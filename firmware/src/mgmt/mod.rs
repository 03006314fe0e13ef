//! The management server: the device side of the `mgmt` protocol over a byte stream (UART on
//! the board, a pseudo-terminal in `sixgate-sim`).
//!
//! Sans-IO like everything else: the shell hands received bytes to
//! [`MgmtServer::receive`], calls [`MgmtServer::poll`] regularly (deferred answers, events,
//! capture records, timeouts), writes out [`MgmtServer::pending`] and reports what it wrote
//! with [`MgmtServer::consumed`]. Actions the application cannot do itself (persist or erase
//! the configuration, reboot) come out of [`MgmtServer::take_action`]; the storage ones are
//! answered only when the shell reports their outcome with [`MgmtServer::action_done`]
//! (meanwhile the server takes no further request and queues no records).
//!
//! Messages are encoded straight into the transmit buffer (postcard's output goes through the
//! CRC and COBS as it is produced), so the transmit buffer is the server's only large buffer;
//! it can be as small as one frame ([`mgmt::MAX_FRAME`], the board's choice).
//!
//! Flow control: answers are never dropped for lack of room, they wait for it. A request is
//! only taken from the line while [`RESPONSE_RESERVE`] bytes (one whole frame) are free;
//! until then [`MgmtServer::receive`] leaves the bytes with the shell, which offers them again
//! once it has written some out. Likewise a ping or scan result waits in the server. While an
//! answer waits, nothing else is queued; otherwise events, log lines and capture records fill
//! whatever room there is, and what does not fit is dropped and counted (capture drops are
//! reported to the host in every record, lost events by an `EventKind::Lost`). So a slow
//! serial line costs capture records rather than answers. Ping and energy scan answer later:
//! one of each may be in flight; a second gets [`ErrorCode::Busy`].
//!
//! This file holds the server, its framing and flow control, and the dispatch of requests;
//! the handlers live with their group: `session` (Hello, Info, subscriptions), `ifaces`
//! (interfaces and addresses), `routes` (routes, neighbours, nodes), `config`, `stats`,
//! `ping`, `scan`, `capture`, and `events` (the event and log streams).

use heapless::{String, Vec};
use l2_15_4::radio::Radio;
use mgmt::{
    ChannelEnergy, DecodeError, ErrorCode, FrameDecoder, Header, Kind, MAX_REQUEST_FRAME,
    PingOutcome, Request, Response,
};
use netif::{Duration, IfIndex, Instant};

use crate::app::App;
use crate::counters;

mod capture;
mod config;
mod events;
mod ifaces;
mod ping;
mod routes;
mod rpl;
mod scan;
mod security;
mod session;
mod stats;

pub use session::TAKEN_OVER;

#[cfg(test)]
mod tests;

/// Firmware name and version reported in `Hello` and `Info`.
pub const FIRMWARE: &str = concat!("sixgate ", env!("CARGO_PKG_VERSION"));
/// Free transmit-buffer bytes a request (or a deferred answer) waits for: one whole frame,
/// so even the largest response fits.
pub const RESPONSE_RESERVE: usize = mgmt::MAX_FRAME;
/// Counters the server can reset (baseline slots, 8 bytes each): all but the gauges at the end
/// of the list (`mgmt::counters::GAUGES_AT_END`), which are reported as they are.
pub const MAX_COUNTERS: usize = counters::COUNT - mgmt::counters::GAUGES_AT_END;
/// Longest log line sent (longer ones are cut).
pub const LOG_LINE: usize = 160;
/// Default transmit buffer of the simulator's server (the board uses a smaller one).
pub const DEFAULT_TX_BYTES: usize = 8192;

/// Something the shell must do for the server. `SaveConfig` and `ResetConfig` are answered
/// when the shell reports the outcome with [`MgmtServer::action_done`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Persist the running configuration now (and on success tell the application,
    /// `App::config_saved`).
    SaveConfig,
    /// Erase the stored configuration (defaults at the next boot).
    ResetConfig,
    /// Restart the device (the response has been queued; flush it first).
    Reboot,
}

/// Server counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MgmtStats {
    /// Requests handled.
    pub requests: u64,
    /// Error responses sent.
    pub errors: u64,
    /// Frames that did not decode (unknown kind or version, malformed body).
    pub bad_messages: u64,
    /// Responses that found no room (should stay 0).
    pub responses_lost: u64,
    /// Events not sent for lack of room while subscribed (events while nobody is subscribed
    /// are discarded, not counted); the host learns of them from an `EventKind::Lost`.
    pub events_lost: u64,
    /// Log lines not sent for lack of room.
    pub logs_lost: u64,
    /// Capture records sent.
    pub capture_sent: u64,
    /// Capture records that no frame could carry (longer than the largest payload). Records
    /// waiting for a slow line stay in the capture ring, which counts what it has to drop.
    pub capture_link_drops: u64,
    /// `ConfigSave` / `ConfigReset` whose write the shell reported failed (answered
    /// `Internal` with the reason).
    pub store_failures: u64,
    /// `Hello`s that ended a session still streaming or waiting for a ping or scan: another
    /// client took the line over; the old one was told ([`TAKEN_OVER`]).
    pub sessions_taken_over: u64,
}

#[derive(Clone, Copy, Debug)]
struct PendingPing {
    id: u16,
    seq: u16,
    sent: Instant,
    deadline: Instant,
}

#[derive(Clone, Debug)]
struct Scan {
    id: u16,
    left: u32,
    current: Option<(u8, Instant)>,
    duration: Duration,
    results: Vec<ChannelEnergy, { mgmt::MAX_CHANNELS }>,
    /// Every channel measured and the radio back on its own.
    restored: bool,
}

#[derive(Clone, Copy, Debug)]
struct CaptureSession {
    promiscuous: bool,
    base_dropped: [u64; 2],
    link_drops: [u64; 2],
    recorded: u64,
    sent: u64,
}

/// The device side of the management protocol; see the module docs. `TX` is the transmit
/// buffer size, at least [`RESPONSE_RESERVE`] (checked at compile time); more lets records
/// queue up while the line is busy.
pub struct MgmtServer<const TX: usize> {
    rx: FrameDecoder<MAX_REQUEST_FRAME>,
    tx: [u8; TX],
    tx_len: usize,
    /// A request is waiting on the line for transmit room (see [`MgmtServer::receive`]).
    rx_waiting: bool,
    /// A ping or scan answer is ready and waiting for transmit room.
    answer_waiting: bool,
    board: &'static str,
    version: u8,
    schema: u32,
    events: bool,
    logs: bool,
    capture: Option<CaptureSession>,
    ping: Option<PendingPing>,
    scan: Option<Scan>,
    baseline: [u64; MAX_COUNTERS],
    action: Option<Action>,
    /// The id of a `ConfigSave` / `ConfigReset` waiting for [`MgmtServer::action_done`].
    storing: Option<u16>,
    capture_unavailable: Option<&'static str>,
    logs_unavailable: Option<&'static str>,
    /// The board saves operator routes and addresses with the configuration
    /// ([`MgmtServer::set_routes_saved`]).
    routes_saved: bool,
    /// Events lost since the last one sent (reported as `EventKind::Lost` first).
    lost_events: u32,
    stats: MgmtStats,
}

impl<const TX: usize> core::fmt::Debug for MgmtServer<TX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MgmtServer")
            .field("tx_len", &self.tx_len)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

type Ctx<'a, 'r, R> = (&'a mut App<'r>, Instant, &'a mut R);

impl<const TX: usize> MgmtServer<TX> {
    const TX_HOLDS_A_FRAME: () = assert!(TX >= RESPONSE_RESERVE, "TX must hold one frame");

    /// A server for a board called `board`.
    pub fn new(board: &'static str) -> Self {
        let () = Self::TX_HOLDS_A_FRAME;
        MgmtServer {
            rx: FrameDecoder::new(),
            tx: [0; TX],
            tx_len: 0,
            rx_waiting: false,
            answer_waiting: false,
            board,
            version: mgmt::PROTOCOL_VERSION,
            schema: mgmt::SCHEMA_FINGERPRINT,
            events: false,
            logs: false,
            capture: None,
            ping: None,
            scan: None,
            baseline: [0; MAX_COUNTERS],
            action: None,
            storing: None,
            capture_unavailable: None,
            logs_unavailable: None,
            routes_saved: false,
            lost_events: 0,
            stats: MgmtStats::default(),
        }
    }

    /// Testing only: claim another protocol version (to exercise the host's mismatch path).
    pub fn override_version(&mut self, version: u8) {
        self.version = version;
    }

    /// Refuse live captures with this reason (e.g. the simulator is recording the capture
    /// ring to a file), or accept them again with `None`.
    pub fn set_capture_unavailable(&mut self, why: Option<&'static str>) {
        self.capture_unavailable = why;
    }

    /// Refuses log subscriptions with `why` (`Unsupported`), for a shell whose logs go
    /// elsewhere (the board's defmt over RTT); `None` accepts them again.
    pub fn set_logs_unavailable(&mut self, why: Option<&'static str>) {
        self.logs_unavailable = why;
    }

    /// Whether the board saves the routes and addresses the operator adds with the
    /// configuration (`App::save`; off by default: the nRF52840 image saves the configuration
    /// only). `config show` says so (`ConfigInfo::routes_saved`), and only then does a route
    /// or address change mark the configuration unsaved.
    pub fn set_routes_saved(&mut self, on: bool) {
        self.routes_saved = on;
    }

    /// The host went away (the line hung up): end its session as a new `Hello` would, and
    /// drop what was queued for it.
    pub fn hangup<R: Radio>(&mut self, app: &mut App<'_>, radio: &mut R) {
        self.end_session(app, radio);
        self.rx.reset();
        self.tx_len = 0;
        self.rx_waiting = false;
        self.answer_waiting = false;
    }

    /// The application was rebuilt (reboot): forget everything tied to the old one.
    pub fn rebooted(&mut self) {
        self.storing = None;
        self.capture = None;
        self.ping = None;
        self.scan = None;
        self.baseline = [0; MAX_COUNTERS];
    }

    /// Counters.
    pub fn stats(&self) -> MgmtStats {
        self.stats
    }

    /// Frame-level counters (bad CRC, bad COBS, oversize).
    pub fn frame_stats(&self) -> mgmt::frame::DecoderStats {
        self.rx.stats()
    }

    /// Bytes waiting to be written to the line.
    pub fn pending(&self) -> &[u8] {
        self.tx.get(..self.tx_len).unwrap_or_default()
    }

    /// The shell wrote the first `n` bytes of [`MgmtServer::pending`].
    pub fn consumed(&mut self, n: usize) {
        let n = n.min(self.tx_len);
        self.tx.copy_within(n..self.tx_len, 0);
        self.tx_len -= n;
    }

    /// What the shell must do, once.
    pub fn take_action(&mut self) -> Option<Action> {
        self.action.take()
    }

    /// The shell carried out [`Action::SaveConfig`] or [`Action::ResetConfig`]: `failure` is
    /// `None`, or why the store failed. Answers the request (`Ok`, or `Internal` with the
    /// store's reason as the message, counted in [`MgmtStats::store_failures`]) and lets the
    /// next request in. Nothing is answered when no such request waits (its session ended
    /// meanwhile).
    pub fn action_done(&mut self, failure: Option<&str>) {
        let Some(id) = self.storing.take() else {
            return;
        };
        match failure {
            None => self.ok(id),
            Some(why) => {
                self.stats.store_failures += 1;
                self.error(id, ErrorCode::Internal, why);
            }
        }
    }

    /// Bytes from the line; returns how many were taken. Complete requests are answered into
    /// the transmit buffer. Bytes are only taken while [`RESPONSE_RESERVE`] bytes are free
    /// for the answer: the shell keeps the rest and offers it again (before the next
    /// [`MgmtServer::poll`]) after writing some of [`MgmtServer::pending`] out; while bytes
    /// wait, no events or records are queued, so the answer gets the room.
    pub fn receive<R: Radio>(
        &mut self,
        bytes: &[u8],
        app: &mut App<'_>,
        now: Instant,
        radio: &mut R,
    ) -> usize {
        let mut taken = 0usize;
        self.rx_waiting = false;
        while let Some(rest) = bytes.get(taken..)
            && !rest.is_empty()
        {
            // A storage request's answer comes first (the room it was taken with is its).
            if !self.response_room() || self.storing.is_some() {
                self.rx_waiting = true;
                break;
            }
            let mut req = [0u8; MAX_REQUEST_FRAME];
            let (n, frame) = self.rx.feed(rest);
            taken += n;
            let len = match frame {
                Some(Ok(p)) => match req.get_mut(..p.len()) {
                    Some(dst) => {
                        dst.copy_from_slice(p);
                        p.len()
                    }
                    None => continue,
                },
                _ => continue,
            };
            if let Some(p) = req.get(..len) {
                self.handle_payload(p, &mut (app, now, radio));
            }
        }
        taken
    }

    /// Whether the shell should offer bytes now: false while bytes it offered wait for
    /// transmit room (offering them again before that would just spin), or while a storage
    /// action waits for [`MgmtServer::action_done`]. A shell that reads
    /// its line only when this holds leaves the waiting request in its UART buffer; the
    /// server, knowing one waits, queues no records until the answer fits.
    pub fn wants_input(&self) -> bool {
        (!self.rx_waiting || self.response_room()) && self.storing.is_none()
    }

    fn handle_payload<R: Radio>(&mut self, p: &[u8], cx: &mut Ctx<'_, '_, R>) {
        match mgmt::decode_request(p) {
            Err(_) => {
                self.stats.bad_messages += 1;
                // Still answer when the id is readable.
                if let Some(&[_, _, lo, hi]) = p.first_chunk::<4>() {
                    self.error(
                        u16::from_le_bytes([lo, hi]),
                        ErrorCode::UnknownRequest,
                        "unknown message kind",
                    );
                }
            }
            Ok((h, Err(DecodeError::Version(v)))) => {
                self.stats.bad_messages += 1;
                let m = Msg::default()
                    .s("protocol version ")
                    .n(v.into())
                    .s(" not supported (device speaks ")
                    .n(self.version.into())
                    .s("); send Hello");
                self.error(h.id, ErrorCode::VersionMismatch, &m.0);
            }
            Ok((h, Err(_))) if h.kind != Kind::Request => {
                self.stats.bad_messages += 1;
                self.error(
                    h.id,
                    ErrorCode::UnknownRequest,
                    "only requests go to the device",
                );
            }
            Ok((h, Err(_))) => {
                self.stats.bad_messages += 1;
                // The first body byte is the variant index: past the last request, the
                // request is unknown (a newer host); otherwise its fields did not decode.
                let known = p
                    .get(mgmt::HEADER_LEN)
                    .is_some_and(|&v| usize::from(v) < mgmt::REQUEST_VARIANTS);
                if known {
                    self.error(h.id, ErrorCode::Malformed, "malformed request");
                } else {
                    self.error(h.id, ErrorCode::UnknownRequest, "unknown request");
                }
            }
            Ok((h, Ok(r))) => {
                if h.version != self.version && !matches!(r, Request::Hello { .. }) {
                    self.stats.bad_messages += 1;
                    self.error(
                        h.id,
                        ErrorCode::VersionMismatch,
                        "protocol version mismatch; send Hello",
                    );
                    return;
                }
                self.stats.requests += 1;
                self.request(h.id, r, cx);
            }
        }
    }

    // ----- output helpers ----------------------------------------------------------------

    fn free(&self) -> usize {
        TX.saturating_sub(self.tx_len)
    }

    /// Room for the largest answer.
    fn response_room(&self) -> bool {
        self.free() >= RESPONSE_RESERVE
    }

    /// Whether unsolicited messages may be queued: not while an answer waits for room or for
    /// the shell.
    fn stream_open(&self) -> bool {
        !self.rx_waiting && !self.answer_waiting && self.storing.is_none()
    }

    fn push<T: serde::Serialize + ?Sized>(&mut self, h: Header, body: &T) -> bool {
        let Some(out) = self.tx.get_mut(self.tx_len..) else {
            return false;
        };
        match mgmt::encode(h, body, out) {
            Ok(n) => {
                self.tx_len += n;
                true
            }
            Err(_) => false,
        }
    }

    fn header(&self, kind: Kind, id: u16) -> Header {
        Header {
            version: self.version,
            kind,
            id,
        }
    }

    fn respond(&mut self, id: u16, r: &Response<'_>) {
        if matches!(r, Response::Error { .. }) {
            self.stats.errors += 1;
        }
        if !self.push(self.header(Kind::Response, id), r) {
            self.stats.responses_lost += 1;
        }
    }

    // `&Response::Ok` written inline would be promoted to a static of the whole enum's size
    // (about 1.3 KB of flash, its largest variant being a page of nodes); built here at run
    // time, and not inlined, it is one small function.
    #[inline(never)]
    fn ok(&mut self, id: u16) {
        let r = Response::Ok;
        self.respond(id, &r);
    }

    // Not inlined for the same reason (`Timeout` and `NotSent` are constants).
    #[inline(never)]
    fn ping_outcome(&mut self, id: u16, outcome: PingOutcome) {
        self.respond(id, &Response::Ping(outcome));
    }

    // Not inlined for the same reason: with constant arguments inlined, the whole enum would be
    // laid out in flash per call site.
    #[inline(never)]
    fn error(&mut self, id: u16, code: ErrorCode, message: &str) {
        self.respond(id, &Response::Error { code, message });
    }

    fn send_unsolicited<T: serde::Serialize + ?Sized>(&mut self, kind: Kind, body: &T) -> bool {
        self.stream_open() && self.push(self.header(kind, 0), body)
    }

    // ----- requests ----------------------------------------------------------------------

    // Not inlined into the shell's loop: one copy, and a visible entry in size reports. The
    // handlers it calls are `#[inline(always)]` (each has this one caller): inlined early, the
    // dispatch compiles much as one match would (without, the board image grows ~190 bytes).
    #[inline(never)]
    fn request<R: Radio>(&mut self, id: u16, r: Request<'_>, cx: &mut Ctx<'_, '_, R>) {
        let (app, now, radio) = (&mut *cx.0, cx.1, &mut *cx.2);
        match r {
            Request::Hello { client, .. } => self.hello(id, client, app, radio),
            Request::Info => self.info(id, app),
            Request::IfaceList => self.iface_list(id, app),
            Request::IfaceAdmin { iface, up } => self.iface_admin(id, iface, up, app, now),
            Request::IfaceSet { iface, setting } => {
                self.iface_set(id, iface, setting, app, now, radio)
            }
            Request::AddrList => self.addr_list(id, app, now),
            Request::AddrAdd {
                iface,
                addr,
                prefix_len,
            } => self.addr_add(id, iface, addr, prefix_len, app, now),
            Request::AddrDel { iface, addr } => self.addr_del(id, iface, addr, app),
            Request::RouteList => self.route_list(id, app, now),
            Request::RouteAdd {
                prefix,
                len,
                iface,
                via,
                metric,
            } => self.route_add(id, prefix, len, iface, via, metric, app),
            Request::RouteDel { prefix, len } => self.route_del(id, prefix, len, app),
            Request::NeighList => self.neigh_list(id, app),
            Request::NodesList { start } => self.nodes_list(id, start, app),
            Request::PrefixShow => self.prefix_show(id, app),
            Request::PrefixSet { prefix, len } => self.prefix_set(id, prefix, len, app, now),
            Request::Stats { start } => self.stats_page(id, start, app),
            Request::StatsReset { iface } => self.stats_reset(id, iface, app),
            Request::Ping {
                dst,
                size,
                seq,
                timeout_ms,
                iface,
            } => self.start_ping(id, dst, size, seq, timeout_ms, iface, app, now),
            Request::ScanEnergy {
                channels,
                duration_ms,
            } => self.start_scan(id, channels, duration_ms),
            Request::CaptureStart {
                ifaces,
                promiscuous,
            } => self.start_capture(id, ifaces, promiscuous, app, radio),
            Request::CaptureStop => self.capture_stop(id, app, radio),
            Request::Subscribe { events, logs } => self.subscribe(id, events, logs),
            Request::ConfigShow => self.config_show(id, app),
            // Answered by `action_done`, after the write.
            Request::ConfigSave => self.store(id, Action::SaveConfig),
            Request::ConfigReset => self.store(id, Action::ResetConfig),
            Request::Reboot => {
                self.action = Some(Action::Reboot);
                self.ok(id);
            }
            Request::RplShow => self.rpl_show(id, app, now),
            Request::RplSet(s) => self.rpl_set(id, s, app, now),
            Request::RplRepair => self.rpl_repair(id, app, now),
            Request::Topology { start } => self.topology(id, start, app),
            Request::SecurityShow => self.security_show(id, app),
            Request::SecuritySetKey { key } => self.security_set_key(id, Some(key), app, now),
            Request::SecuritySet(s) => self.security_set(id, s, app, now),
            Request::SecurityRotate => self.security_rotate(id, app, now),
            Request::SecurityOff => self.security_set_key(id, None, app, now),
        }
    }

    fn store(&mut self, id: u16, action: Action) {
        self.action = Some(action);
        self.storing = Some(id);
    }

    fn no_iface(&mut self, id: u16, name: &str) {
        let shown = name.get(..floor_char_boundary(name, 16)).unwrap_or("");
        let m = Msg::default().s("no interface ").s(shown);
        self.error(id, ErrorCode::NoSuchIface, &m.0);
    }

    fn app_error(&mut self, id: u16, e: crate::app::AppError) {
        let (prefix, message) = e.parts();
        let m = Msg::default().s(prefix).s(message);
        let code = match e {
            crate::app::AppError::Config(_) => ErrorCode::InvalidArgument,
            crate::app::AppError::NoSuchIface => ErrorCode::NoSuchIface,
            crate::app::AppError::Radio => ErrorCode::Unsupported,
            crate::app::AppError::Core => ErrorCode::Internal,
            crate::app::AppError::SecurityUnavailable => ErrorCode::Unsupported,
            crate::app::AppError::SecurityBusy => ErrorCode::Busy,
        };
        self.error(id, code, &m.0);
    }

    fn core_error(&mut self, id: u16, e: netif::stack::IfaceError) {
        use netif::stack::IfaceError as E;
        let (prefix, message) = e.parts();
        let m = Msg::default().s(prefix).s(message);
        let code = match e {
            E::NoSuchIface => ErrorCode::NoSuchIface,
            E::NoSuchAddr => ErrorCode::NotFound,
            E::TableFull | E::AddrTableFull | E::HandlerTableFull => ErrorCode::Full,
            _ => ErrorCode::InvalidArgument,
        };
        self.error(id, code, &m.0);
    }

    // ----- background work ---------------------------------------------------------------

    /// Deferred answers (ping, energy scan), events, capture records. Call after every
    /// [`App::poll`] and radio event batch.
    #[inline(never)] // see `request`
    pub fn poll<R: Radio>(&mut self, app: &mut App<'_>, now: Instant, radio: &mut R) {
        self.answer_waiting = false;
        self.poll_ping(app, now);
        self.poll_scan(app, now, radio);
        self.poll_events(app, now);
        self.poll_capture(app);
    }

    /// When [`MgmtServer::poll`] must run next for a deadline of its own.
    pub fn next_deadline(&self) -> Option<Instant> {
        let p = self.ping.map(|p| p.deadline);
        let s = self.scan.as_ref().and_then(|s| s.current.map(|(_, t)| t));
        match (p, s) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn iface_index(app: &App<'_>, name: &str) -> Option<IfIndex> {
    app.stack().iface_by_name(name)
}

fn sat16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_micros() / 1_000_000).unwrap_or(u32::MAX)
}

/// An error message built without `core::fmt`, whose formatting machinery would cost the
/// board about 2 KB of flash: pieces are appended (cut at a character boundary when the
/// message is full), numbers in decimal.
#[derive(Default)]
struct Msg(String<128>);

impl Msg {
    fn s(mut self, piece: &str) -> Self {
        let room = self.0.capacity().saturating_sub(self.0.len());
        let piece = piece.get(..floor_char_boundary(piece, room)).unwrap_or("");
        let _ = self.0.push_str(piece);
        self
    }

    fn n(self, mut v: u32) -> Self {
        let mut digits = [0u8; 10];
        let mut start = digits.len();
        for slot in digits.iter_mut().rev() {
            // `v % 10` is below 10, so the cast keeps it.
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
            start -= 1;
            if v == 0 {
                break;
            }
        }
        let text = digits
            .get(start..)
            .and_then(|d| core::str::from_utf8(d).ok())
            .unwrap_or("");
        self.s(text)
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}
