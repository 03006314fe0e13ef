//! The management server: the device side of the `mgmt` protocol over a byte stream (UART on
//! the board, a pseudo-terminal in `sixgate-sim`).
//!
//! Sans-IO like everything else: the shell hands received bytes to
//! [`MgmtServer::receive`], calls [`MgmtServer::poll`] regularly (deferred answers, events,
//! capture records, timeouts), writes out [`MgmtServer::pending`] and reports what it wrote
//! with [`MgmtServer::consumed`]. Actions the application cannot do itself (persist or erase
//! the configuration, reboot) come out of [`MgmtServer::take_action`].
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

use core::net::Ipv6Addr;

use heapless::{String, Vec};
use l2_15_4::radio::Radio;
use mgmt::{
    AddrInfo, AddrState as MAddrState, CaptureIface as MCaptureIface, ChannelEnergy, ConfigInfo,
    DecodeError, ErrorCode, EventKind, FrameDecoder, Header, IfaceInfo, IfaceKind, IfaceSetting,
    Info, Kind, Level, MAX_REQUEST_FRAME, NeighState, NeighborInfo, NodeInfo as MNode, PingOutcome,
    Request, Response, RouteInfo, RouteOrigin as MOrigin, WpanInfo,
};
use netif::{
    AddrState, Duration, IfIndex, Instant, Lifetimes, Prefix, Route, RouteAction, RouteOrigin,
};

use crate::app::{App, AppEvent, ConfigItem};
use crate::capture::{CaptureFilter, CaptureIface, Direction};
use crate::config::Backbone;
use crate::counters;
use crate::lbr::LbrEvent;
use crate::ping::PingReply;

/// Firmware name and version reported in `Hello` and `Info`.
pub const FIRMWARE: &str = concat!("sixgate ", env!("CARGO_PKG_VERSION"));
/// Free transmit-buffer bytes a request (or a deferred answer) waits for: one whole frame,
/// so even the largest response fits.
pub const RESPONSE_RESERVE: usize = mgmt::MAX_FRAME;
/// Counters the server can reset (baseline slots, 8 bytes each): all of them.
pub const MAX_COUNTERS: usize = counters::COUNT;
/// Longest log line sent (longer ones are cut).
pub const LOG_LINE: usize = 160;
/// Most bytes a capture record's payload adds to its frame data: the message header and every
/// other field of [`mgmt::Capture`] at its longest varint.
const CAPTURE_PAYLOAD_OVERHEAD: usize = mgmt::HEADER_LEN + 10 + 1 + 1 + 1 + 1 + 1 + 3 + 2 * 5 + 3;
/// Default transmit buffer of the simulator's server (the board uses a smaller one).
pub const DEFAULT_TX_BYTES: usize = 8192;

/// Something the shell must do for the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Persist the running configuration now.
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
    capture_unavailable: Option<&'static str>,
    logs_unavailable: Option<&'static str>,
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
            capture_unavailable: None,
            logs_unavailable: None,
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

    /// Whether a log line would be sent now (subscribed), so the shell can skip formatting.
    pub fn wants_logs(&self) -> bool {
        self.logs
    }

    /// Sends a log line if the host subscribed and there is room.
    pub fn log(&mut self, now: Instant, level: Level, target: &str, text: &str) {
        if !self.logs {
            return;
        }
        let cut = floor_char_boundary(text, LOG_LINE);
        let l = mgmt::Log {
            ts_ms: now.as_micros() / 1000,
            level,
            target,
            text: text.get(..cut).unwrap_or_default(),
        };
        if !self.send_unsolicited(Kind::Log, &l) {
            self.stats.logs_lost += 1;
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
            if !self.response_room() {
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

    /// Whether the shell should offer bytes now: false only while bytes it offered wait for
    /// transmit room (offering them again before that would just spin). A shell that reads
    /// its line only when this holds leaves the waiting request in its UART buffer; the
    /// server, knowing one waits, queues no records until the answer fits.
    pub fn wants_input(&self) -> bool {
        !self.rx_waiting || self.response_room()
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

    /// Whether unsolicited messages may be queued: not while an answer waits for room.
    fn stream_open(&self) -> bool {
        !self.rx_waiting && !self.answer_waiting
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

    // Not inlined into the shell's loop: one copy, and a visible entry in size reports.
    #[inline(never)]
    fn request<R: Radio>(&mut self, id: u16, r: Request<'_>, cx: &mut Ctx<'_, '_, R>) {
        let (app, now, radio) = (&mut *cx.0, cx.1, &mut *cx.2);
        match r {
            Request::Hello { client, .. } => {
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
            Request::Info => {
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
            Request::IfaceList => {
                let mut v: Vec<IfaceInfo<'_>, { mgmt::MAX_IFACES }> = Vec::new();
                let c = app.config().clone();
                let wpan_i = app.wpan_index();
                let eth_mac = app.eth().mac();
                for x in app.stack().ifaces() {
                    let st = x.stats();
                    let wpan = x.index() == wpan_i;
                    let _ = v.push(IfaceInfo {
                        name: x.name(),
                        kind: if wpan {
                            IfaceKind::Wpan
                        } else if x.index() == app.eth_index() {
                            IfaceKind::Ethernet
                        } else {
                            IfaceKind::Other
                        },
                        admin_up: x.is_admin_up(),
                        link_up: x.is_oper_up(),
                        mtu: x.mtu(),
                        forwarding: x.is_forwarding(),
                        ll_addr: if wpan { &c.eui64[..] } else { &eth_mac[..] },
                        wpan: wpan.then_some(WpanInfo {
                            channel: c.channel,
                            pan_id: c.pan_id,
                            short_addr: c.short_address,
                            tx_power: c.tx_power_dbm,
                        }),
                        rx_packets: u64::from(st.rx_packets),
                        tx_packets: u64::from(st.tx_packets),
                        forwarded: u64::from(st.forwarded),
                        drops: st.dropped_total(),
                    });
                }
                self.respond(id, &Response::Ifaces(v));
            }
            Request::IfaceAdmin { iface, up } => match iface_index(app, iface) {
                Some(i) => match app.set_iface_admin(now, i, up) {
                    Ok(()) => self.ok(id),
                    Err(e) => self.app_error(id, e),
                },
                None => self.no_iface(id, iface),
            },
            Request::IfaceSet { iface, setting } => {
                if iface_index(app, iface) != Some(app.wpan_index()) {
                    if iface_index(app, iface).is_none() {
                        self.no_iface(id, iface);
                    } else {
                        self.error(id, ErrorCode::Unsupported, "only wpan0 has radio settings");
                    }
                    return;
                }
                let r = match setting {
                    IfaceSetting::Channel(ch) => app.set_channel(now, ch, radio),
                    IfaceSetting::PanId(p) => app.set_pan_id(now, p, radio),
                    IfaceSetting::TxPower(d) => app.set_tx_power(d),
                };
                match r {
                    Ok(()) => self.ok(id),
                    Err(e) => self.app_error(id, e),
                }
            }
            Request::AddrList => {
                let mut v: Vec<AddrInfo<'_>, { mgmt::MAX_ADDRS }> = Vec::new();
                for x in app.stack().ifaces() {
                    for a in x.addrs() {
                        let _ = v.push(AddrInfo {
                            iface: x.name(),
                            addr: a.addr.octets(),
                            prefix_len: a.prefix_len,
                            state: match a.state {
                                AddrState::Tentative => MAddrState::Tentative,
                                AddrState::Preferred => MAddrState::Preferred,
                                AddrState::Deprecated => MAddrState::Deprecated,
                            },
                            valid_s: a.valid_until.map(|t| secs(t.saturating_since(now))),
                        });
                    }
                }
                if !self.push(self.header(Kind::Response, id), &Response::Addrs(v)) {
                    self.stats.responses_lost += 1;
                }
            }
            Request::AddrAdd {
                iface,
                addr,
                prefix_len,
            } => {
                let Some(i) = iface_index(app, iface) else {
                    return self.no_iface(id, iface);
                };
                let a = Ipv6Addr::from(addr);
                if prefix_len == 0 || prefix_len > 128 || a.is_multicast() || a.is_unspecified() {
                    return self.error(
                        id,
                        ErrorCode::InvalidArgument,
                        "need a unicast address and a prefix length 1..=128",
                    );
                }
                match app.stack_mut().add_addr(
                    now,
                    i,
                    a,
                    prefix_len,
                    Lifetimes::INFINITE,
                    AddrState::Preferred,
                ) {
                    Ok(_) => self.ok(id),
                    Err(e) => self.core_error(id, e),
                }
            }
            Request::AddrDel { iface, addr } => {
                let Some(i) = iface_index(app, iface) else {
                    return self.no_iface(id, iface);
                };
                match app.stack_mut().remove_addr(i, Ipv6Addr::from(addr)) {
                    Ok(()) => self.ok(id),
                    Err(e) => self.core_error(id, e),
                }
            }
            Request::RouteList => {
                let mut v: Vec<RouteInfo<'_>, { mgmt::MAX_ROUTES }> = Vec::new();
                let stack = app.stack();
                for r in stack.routes().iter() {
                    let (iface, via) = match r.action {
                        RouteAction::Forward { iface, via } => (
                            stack.iface(iface).map(|x| x.name()),
                            via.map(|v| v.octets()),
                        ),
                        RouteAction::Reject => (None, None),
                    };
                    let _ = v.push(RouteInfo {
                        prefix: r.prefix.addr().octets(),
                        len: r.prefix.prefix_len(),
                        iface,
                        via,
                        metric: r.metric,
                        origin: match r.origin {
                            RouteOrigin::Connected => MOrigin::Connected,
                            RouteOrigin::Static => MOrigin::Static,
                            RouteOrigin::Learned => MOrigin::Learned,
                        },
                        expires_s: r.expires.map(|t| secs(t.saturating_since(now))),
                    });
                }
                if !self.push(self.header(Kind::Response, id), &Response::Routes(v)) {
                    self.stats.responses_lost += 1;
                }
            }
            Request::RouteAdd {
                prefix,
                len,
                iface,
                via,
                metric,
            } => {
                let Some(i) = iface_index(app, iface) else {
                    return self.no_iface(id, iface);
                };
                let Some(p) = Prefix::new(Ipv6Addr::from(prefix), len) else {
                    return self.error(id, ErrorCode::InvalidArgument, "bad prefix length");
                };
                let mut r = Route::new(p, i, via.map(Ipv6Addr::from));
                r.metric = metric;
                match app.stack_mut().add_route(r) {
                    Ok(()) => self.ok(id),
                    Err(e) => self.error(id, ErrorCode::Full, e.as_str()),
                }
            }
            Request::RouteDel { prefix, len } => {
                let Some(p) = Prefix::new(Ipv6Addr::from(prefix), len) else {
                    return self.error(id, ErrorCode::InvalidArgument, "bad prefix length");
                };
                match app.stack_mut().remove_route(&p, None) {
                    Ok(()) => self.ok(id),
                    Err(_) => self.error(id, ErrorCode::NotFound, "no such route"),
                }
            }
            Request::NeighList => {
                let mut v: Vec<NeighborInfo, { mgmt::MAX_NEIGHBORS }> = Vec::new();
                for n in app.eth().neighbors() {
                    use ethernet::neighbor::NeighborState as S;
                    let _ = v.push(NeighborInfo {
                        addr: n.ip.octets(),
                        mac: n.mac,
                        state: match n.state {
                            S::Incomplete => NeighState::Incomplete,
                            S::Reachable => NeighState::Reachable,
                            S::Stale => NeighState::Stale,
                            S::Delay => NeighState::Delay,
                            S::Probe => NeighState::Probe,
                        },
                        router: n.is_router,
                    });
                }
                self.respond(id, &Response::Neighbors(v));
            }
            Request::NodesList { start } => {
                let mut nodes: Vec<MNode, { mgmt::NODES_PER_PAGE }> = Vec::new();
                let mut total: usize = 0;
                for (k, n) in app.nodes().enumerate() {
                    total += 1;
                    if k >= usize::from(start) && !nodes.is_full() {
                        let _ = nodes.push(MNode {
                            addr: n.addr.octets(),
                            eui64: n.eui64,
                            short_addr: match n.ll {
                                l2_15_4::Address::Short(s) => Some(s),
                                l2_15_4::Address::Extended(_) => None,
                            },
                            registered: n.registered,
                            lifetime_s: secs(n.lifetime_left),
                            last_heard_ms: Some(
                                u32::try_from(n.last_heard_ago.as_micros() / 1000)
                                    .unwrap_or(u32::MAX),
                            ),
                            rssi: n.rssi,
                            lqi: n.lqi,
                            etx_x100: n.etx_x100.map(|e| u16::try_from(e).unwrap_or(u16::MAX)),
                            rx_frames: n.rx,
                            tx_frames: n.tx,
                        });
                    }
                }
                self.respond(
                    id,
                    &Response::Nodes {
                        total: sat16(total),
                        start,
                        nodes,
                    },
                );
            }
            Request::PrefixShow => {
                let c = app.config();
                self.respond(
                    id,
                    &Response::Prefix {
                        prefix: c.mesh_prefix_addr().octets(),
                        len: crate::config::MESH_PREFIX_LEN,
                        context_id: 0,
                        abro_version: c.abro_version,
                    },
                );
            }
            Request::PrefixSet { prefix, len } => {
                match app.set_prefix(now, Ipv6Addr::from(prefix), len) {
                    Ok(()) => self.ok(id),
                    Err(e) => self.app_error(id, e),
                }
            }
            Request::Stats { start } => {
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
            Request::StatsReset { iface } => {
                if let Some(n) = iface
                    && iface_index(app, n).is_none()
                {
                    return self.no_iface(id, n);
                }
                let mgmt_stats = self.stats;
                let frame_stats = self.rx.stats();
                let base = &mut self.baseline;
                counters::for_each_value(app, &mgmt_stats, &frame_stats, &mut |k, ifname, v| {
                    if iface.is_some_and(|want| ifname != Some(want)) {
                        return;
                    }
                    if let Some(b) = base.get_mut(k) {
                        *b = v;
                    }
                });
                self.ok(id);
            }
            Request::Ping {
                dst,
                size,
                seq,
                timeout_ms,
                iface,
            } => {
                if self.ping.is_some() {
                    return self.error(id, ErrorCode::Busy, "a ping is already in flight");
                }
                let egress = match iface {
                    Some(n) => match iface_index(app, n) {
                        Some(i) => Some(i),
                        None => return self.no_iface(id, n),
                    },
                    None => None,
                };
                let dst = Ipv6Addr::from(dst);
                if egress.is_none() && (dst.is_unicast_link_local() || dst.is_multicast()) {
                    return self.error(
                        id,
                        ErrorCode::InvalidArgument,
                        "link-local and multicast destinations need an interface (ADDR%wpan0)",
                    );
                }
                if usize::from(size) > crate::app::PACKET_BUF.saturating_sub(48) {
                    return self.error(
                        id,
                        ErrorCode::InvalidArgument,
                        "size larger than a packet buffer",
                    );
                }
                app.clear_pings();
                match app.ping_send(now, dst, egress, seq, size) {
                    Ok(_) => {
                        self.ping = Some(PendingPing {
                            id,
                            seq,
                            sent: now,
                            deadline: now + Duration::from_millis(u64::from(timeout_ms.max(1))),
                        });
                    }
                    Err(_) => self.ping_outcome(id, PingOutcome::NotSent),
                }
            }
            Request::ScanEnergy {
                channels,
                duration_ms,
            } => {
                if self.scan.is_some() {
                    return self.error(id, ErrorCode::Busy, "a scan is already running");
                }
                let left = channels & 0x07ff_f800;
                if left == 0 || channels & !0x07ff_f800 != 0 {
                    return self.error(
                        id,
                        ErrorCode::InvalidArgument,
                        "channels must be within 11..=26",
                    );
                }
                self.scan = Some(Scan {
                    id,
                    left,
                    current: None,
                    duration: Duration::from_millis(u64::from(duration_ms.clamp(1, 1000))),
                    results: Vec::new(),
                    restored: false,
                });
            }
            Request::CaptureStart {
                ifaces,
                promiscuous,
            } => {
                if let Some(why) = self.capture_unavailable {
                    return self.error(id, ErrorCode::Busy, why);
                }
                if ifaces & 3 == 0 || ifaces & !3 != 0 {
                    return self.error(
                        id,
                        ErrorCode::InvalidArgument,
                        "ifaces: bit 0 wpan0, bit 1 eth0",
                    );
                }
                let was = self.capture.is_some_and(|c| c.promiscuous);
                if promiscuous != was && app.set_promiscuous(radio, promiscuous).is_err() {
                    return self.error(
                        id,
                        ErrorCode::Unsupported,
                        "the radio cannot go promiscuous",
                    );
                }
                let ring = app.capture_mut();
                ring.stop();
                ring.clear();
                ring.start(CaptureFilter {
                    wpan0: ifaces & 1 != 0,
                    eth0: ifaces & 2 != 0,
                    promiscuous,
                    snaplen: u16::MAX,
                });
                self.capture = Some(CaptureSession {
                    promiscuous,
                    base_dropped: ring.stats().dropped_by_iface,
                    link_drops: [0; 2],
                    recorded: 0,
                    sent: 0,
                });
                self.ok(id);
            }
            Request::CaptureStop => {
                let s = self.stop_capture(app, radio);
                self.respond(id, &Response::CaptureStats(s));
            }
            Request::Subscribe { events, logs } => {
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
            Request::ConfigShow => {
                let c = app.config();
                let (backbone_static, backbone_gateway) = match c.backbone {
                    Backbone::Slaac => (None, None),
                    Backbone::Static {
                        addr,
                        prefix_len,
                        gateway,
                    } => (Some((addr, prefix_len)), gateway),
                };
                let info = ConfigInfo {
                    prefix: c.mesh_prefix_addr().octets(),
                    prefix_len: crate::config::MESH_PREFIX_LEN,
                    pan_id: c.pan_id,
                    channel: c.channel,
                    eui64: c.eui64,
                    short_addr: c.short_address,
                    tx_power: c.tx_power_dbm,
                    eth_mac: c.eth_mac,
                    backbone_static,
                    backbone_gateway,
                    ra_interval_s: (c.ra.min_interval_s, c.ra.max_interval_s),
                    router_lifetime_s: c.ra.router_lifetime_s,
                    prefix_lifetimes_s: (c.ra.prefix_valid_s, c.ra.prefix_preferred_s),
                    abro_version: c.abro_version,
                    max_registration_min: c.max_registration_lifetime_min,
                    unsaved: app.config_dirty(),
                };
                self.respond(id, &Response::Config(info));
            }
            Request::ConfigSave => {
                self.action = Some(Action::SaveConfig);
                self.ok(id);
            }
            Request::ConfigReset => {
                self.action = Some(Action::ResetConfig);
                self.ok(id);
            }
            Request::Reboot => {
                self.action = Some(Action::Reboot);
                self.ok(id);
            }
        }
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

    /// A new host session (Hello) or a reboot: stop streaming, cancel subscriptions and
    /// deferred requests.
    fn end_session<R: Radio>(&mut self, app: &mut App<'_>, radio: &mut R) {
        if self.capture.is_some() {
            let _ = self.stop_capture(app, radio);
        }
        self.events = false;
        self.logs = false;
        self.lost_events = 0;
        self.ping = None;
        if self.scan.take().is_some() {
            let _ = app.restore_channel(radio);
        }
    }

    fn stop_capture<R: Radio>(&mut self, app: &mut App<'_>, radio: &mut R) -> mgmt::CaptureStats {
        let Some(c) = self.capture.take() else {
            return mgmt::CaptureStats::default();
        };
        if c.promiscuous {
            let _ = app.set_promiscuous(radio, false);
        }
        let ring = app.capture_mut();
        ring.stop();
        let pending = u64::from(ring.stats().pending_records);
        let d = ring.stats().dropped_by_iface;
        ring.clear();
        mgmt::CaptureStats {
            recorded: c.recorded + pending,
            sent: c.sent,
            dropped: [
                d[0].saturating_sub(c.base_dropped[0]) + c.link_drops[0],
                d[1].saturating_sub(c.base_dropped[1]) + c.link_drops[1],
            ],
        }
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

    fn poll_ping(&mut self, app: &mut App<'_>, now: Instant) {
        let Some(p) = self.ping else {
            while app.pop_ping().is_some() {}
            return;
        };
        if !self.response_room() {
            // Leave the replies queued until the answer fits.
            self.answer_waiting |= app.has_ping_reply() || now >= p.deadline;
            return;
        }
        while let Some(r) = app.pop_ping() {
            let outcome = match r {
                PingReply::Reply {
                    seq,
                    at,
                    hop_limit,
                    size,
                } if seq == p.seq => PingOutcome::Reply {
                    rtt_us: u32::try_from(at.saturating_since(p.sent).as_micros())
                        .unwrap_or(u32::MAX),
                    hop_limit,
                    size,
                },
                PingReply::Error {
                    seq,
                    icmp_type,
                    code,
                    from,
                } if seq == p.seq => PingOutcome::Error {
                    icmp_type,
                    code,
                    from: from.octets(),
                },
                _ => continue,
            };
            self.ping = None;
            self.ping_outcome(p.id, outcome);
            return;
        }
        if now >= p.deadline {
            self.ping = None;
            self.ping_outcome(p.id, PingOutcome::Timeout);
        }
    }

    fn poll_scan<R: Radio>(&mut self, app: &mut App<'_>, now: Instant, radio: &mut R) {
        let Some(mut s) = self.scan.take() else {
            return;
        };
        // A measurement running: its result comes as an event (taken in poll_events, which
        // stores it through `scan_result`), or it timed out.
        if let Some((ch, deadline)) = s.current {
            if now < deadline {
                self.scan = Some(s);
                return;
            }
            // No result in time (radio busy): report the channel as unmeasured (-128 dBm).
            let _ = s.results.push(ChannelEnergy {
                channel: ch,
                dbm: i8::MIN,
            });
            s.current = None;
        }
        if s.left == 0 {
            if !s.restored {
                // Back to the configured channel at once, even if the answer must wait.
                let _ = app.restore_channel(radio);
                s.restored = true;
            }
            if !self.response_room() {
                self.answer_waiting = true;
                self.scan = Some(s);
                return;
            }
            let id = s.id;
            self.respond(id, &Response::Energy(s.results));
            return;
        }
        let ch = s.left.trailing_zeros() as u8;
        s.left &= !(1u32 << ch);
        match app.energy_detect_on(now, radio, ch, s.duration) {
            Ok(()) => s.current = Some((ch, now + s.duration + Duration::from_millis(200))),
            Err(_) => {
                let _ = s.results.push(ChannelEnergy {
                    channel: ch,
                    dbm: i8::MIN,
                });
            }
        }
        self.scan = Some(s);
    }

    fn scan_result(&mut self, channel: u8, dbm: i8) -> bool {
        let Some(s) = self.scan.as_mut() else {
            return false;
        };
        if s.current.is_some_and(|(c, _)| c == channel) {
            let _ = s.results.push(ChannelEnergy { channel, dbm });
            s.current = None;
            return true;
        }
        false
    }

    fn poll_events(&mut self, app: &mut App<'_>, now: Instant) {
        let ts_ms = now.as_micros() / 1000;
        while let Some(e) = app.pop_event() {
            if let AppEvent::Energy { channel, dbm } = e
                && self.scan_result(channel, dbm)
            {
                continue;
            }
            if !self.events {
                continue;
            }
            let name = |i: IfIndex| app.stack().iface(i).map(|x| x.name()).unwrap_or("?");
            let kind = match e {
                AppEvent::Net(n) => {
                    use netif::Event as N;
                    match n {
                        N::None => continue,
                        N::IfaceUp(i) => EventKind::IfaceUp(name(i)),
                        N::IfaceDown(i) => EventKind::IfaceDown(name(i)),
                        N::AddrAdded(i, a) => EventKind::AddrAdded(name(i), a.octets()),
                        N::AddrRemoved(i, a) => EventKind::AddrRemoved(name(i), a.octets()),
                        N::AddrDeprecated(i, a) => EventKind::AddrDeprecated(name(i), a.octets()),
                        N::RouteAdded(p, i) => {
                            EventKind::RouteAdded(p.addr().octets(), p.prefix_len(), i.map(name))
                        }
                        N::RouteRemoved(p, i) => {
                            EventKind::RouteRemoved(p.addr().octets(), p.prefix_len(), i.map(name))
                        }
                    }
                }
                AppEvent::Lbr(l) => match l {
                    LbrEvent::Registered(a) => EventKind::NodeRegistered(a.octets()),
                    LbrEvent::Refused(a, s) => EventKind::NodeRefused(a.octets(), s),
                    LbrEvent::Deregistered(a) => EventKind::NodeDeregistered(a.octets()),
                },
                AppEvent::Backbone(b) => {
                    use ethernet::NdEvent as B;
                    match b {
                        B::DadSucceeded(a) => EventKind::DadSucceeded(a.octets()),
                        B::DadFailed(a) => EventKind::DadFailed(a.octets()),
                        B::ResolutionFailed(a) => EventKind::ResolutionFailed(a.octets()),
                        B::AddressFormed(a) => EventKind::AddressFormed(a.octets()),
                        B::RouterLearned(a) => EventKind::RouterLearned(a.octets()),
                    }
                }
                AppEvent::Config(c) => match c {
                    ConfigItem::Channel(ch) => EventKind::ChannelChanged(ch),
                    ConfigItem::PanId(p) => EventKind::PanIdChanged(p),
                    ConfigItem::Prefix(p) => {
                        let mut a = [0u8; 16];
                        if let Some(d) = a.get_mut(..8) {
                            d.copy_from_slice(&p);
                        }
                        EventKind::PrefixChanged(a)
                    }
                    ConfigItem::TxPower(d) => EventKind::TxPowerChanged(d),
                },
                AppEvent::Energy { channel, dbm } => EventKind::Energy(channel, dbm),
            };
            if self.lost_events > 0 {
                let lost = mgmt::Event {
                    ts_ms,
                    kind: EventKind::Lost(self.lost_events),
                };
                if self.send_unsolicited(Kind::Event, &lost) {
                    self.lost_events = 0;
                }
            }
            let ev = mgmt::Event { ts_ms, kind };
            if self.lost_events > 0 || !self.send_unsolicited(Kind::Event, &ev) {
                self.stats.events_lost += 1;
                self.lost_events = self.lost_events.saturating_add(1);
            }
        }
    }

    fn poll_capture(&mut self, app: &mut App<'_>) {
        let Some(mut c) = self.capture else {
            return;
        };
        let mut data = [0u8; 1536];
        while self.stream_open() {
            let ring = app.capture_mut();
            // A record stays in the ring until its frame surely fits: a line slower than the
            // traffic fills the ring, which then drops (and counts) what it cannot keep.
            let Some(len) = ring.peek_len() else {
                break;
            };
            if self.free() < mgmt::frame::frame_len_bound(CAPTURE_PAYLOAD_OVERHEAD + len) {
                break;
            }
            let Some((meta, n)) = ring.pop(&mut data) else {
                break;
            };
            c.recorded += 1;
            let slot = meta.iface as usize;
            let rd = ring.stats().dropped_by_iface;
            let dropped = [0usize, 1].map(|k| {
                let ring_d = rd
                    .get(k)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(c.base_dropped.get(k).copied().unwrap_or(0));
                u32::try_from(ring_d + c.link_drops.get(k).copied().unwrap_or(0))
                    .unwrap_or(u32::MAX)
            });
            let rec = mgmt::Capture {
                ts_us: meta.timestamp_us,
                iface: match meta.iface {
                    CaptureIface::Wpan0 => MCaptureIface::Wpan0,
                    CaptureIface::Eth0 => MCaptureIface::Eth0,
                },
                tx: meta.direction == Direction::Tx,
                channel: meta.channel,
                rssi: meta.rssi,
                lqi: meta.lqi,
                orig_len: meta.orig_len,
                dropped,
                data: data.get(..n).unwrap_or_default(),
            };
            if self.push(self.header(Kind::Capture, 0), &rec) {
                c.sent += 1;
                self.stats.capture_sent += 1;
            } else {
                // Only a frame longer than the largest payload gets here.
                if let Some(d) = c.link_drops.get_mut(slot) {
                    *d += 1;
                }
                self.stats.capture_link_drops += 1;
            }
        }
        self.capture = Some(c);
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

fn rebase(v: u64, base: Option<u64>) -> u64 {
    match base {
        // A counter that restarted (its layer was rebuilt) is reported as is.
        Some(b) if v >= b => v - b,
        _ => v,
    }
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
