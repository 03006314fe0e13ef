//! The hub: one thread that owns the multiplexer state. It shares the one device session
//! among the clients:
//!
//! - a client's `Hello` is answered here with the device's handshake (never forwarded: it
//!   would end the daemon's session); `Subscribe` sets the client's own flags (the daemon is
//!   always subscribed to events and logs, to keep the history);
//! - every other request is forwarded under an id of the daemon's, and the answer goes back
//!   under the client's id (answers for a client that left are dropped). Requests go to the
//!   device one at a time, as the protocol's flow control asks (§7.5); `Ping` and
//!   `ScanEnergy`, answered late by design, do not hold the line;
//! - one device capture is shared: the first `CaptureStart` starts it, a later one for the
//!   same or fewer interfaces in the same mode joins it (another is refused, `Busy`), records
//!   go to each capturing client that asked for their interface, and the last `CaptureStop`
//!   stops it on the device (the others are answered with what they received);
//! - when the device goes away every pending request is answered with an error and every
//!   streaming client gets the session-ended notice (id 0), both starting with
//!   [`crate::device::DAEMON_PREFIX`].

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use mgmt::{
    CaptureIface, CaptureStats, ErrorCode, Header, Kind, MAX_FRAME, Message, Request, Response,
};

use super::history::{Poll, State};
use super::server::ClientId;
use super::session::ToDevice;
use super::{Input, lock};
use crate::cmd::next_page;
use crate::device::{DAEMON_PREFIX, Hello};

/// How long the device may take to answer a request before the daemon gives up on it (a
/// daemon request unanswered that long means the device stopped answering: reconnect).
pub const DEVICE_TIMEOUT: Duration = Duration::from_secs(10);
/// Answers to deferred requests (a ping with a long timeout) are awaited at most this long.
pub const ROUTE_MAX_AGE: Duration = Duration::from_secs(600);
/// Period of the poll behind the node life cycle and the HTTP side: `NodesList`, `Topology`,
/// then `RplShow`, `Info`, `IfaceList`, `RouteList` and `Stats`.
pub const POLL_PERIOD: Duration = Duration::from_secs(5);
/// The hub's timer tick.
const TICK: Duration = Duration::from_millis(50);

/// What an answer from the device means to the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Plain,
    CaptureStart,
    Reboot,
}

/// The daemon's own requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Own {
    Subscribe,
    Nodes,
    Topology,
    Rpl,
    Info,
    Ifaces,
    Routes,
    Stats,
    CaptureStop,
}

#[derive(Debug)]
enum Route {
    Client {
        cid: ClientId,
        id: u16,
        what: What,
        since: Instant,
    },
    Own(Own, Instant),
}

struct Outgoing {
    id: u16,
    frame: Vec<u8>,
    /// Answered late by design: does not hold the line.
    deferred: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct ClientCapture {
    /// Interfaces asked for (bit 0 wpan0, bit 1 eth0).
    ifaces: u8,
    frames: u64,
    dropped: [u64; 2],
}

struct Client {
    tx: SyncSender<Vec<u8>>,
    events: bool,
    logs: bool,
    capture: Option<ClientCapture>,
}

#[derive(Debug, Clone, Copy)]
struct Share {
    ifaces: u8,
    promiscuous: bool,
}

/// What a client's frame asks of the hub.
enum Ask {
    Hello,
    Subscribe(bool, bool),
    CaptureStart(u8, bool),
    CaptureStop,
    Forward(What, bool),
}

/// The multiplexer.
pub struct Hub {
    port: String,
    state: Arc<Mutex<State>>,
    dev: Sender<ToDevice>,
    device: Option<Hello>,
    clients: HashMap<ClientId, Client>,
    routes: HashMap<u16, Route>,
    queue: VecDeque<Outgoing>,
    in_flight: Option<(u16, Instant)>,
    next_id: u16,
    capture: Option<Share>,
    poll: Option<Poll>,
    next_poll: Instant,
}

fn ifaces_text(b: u8) -> String {
    match b {
        1 => "wpan0".into(),
        2 => "eth0".into(),
        3 => "wpan0,eth0".into(),
        other => format!("interfaces 0x{other:02x}"),
    }
}

impl Hub {
    /// A hub for `port` writing to the device thread through `dev`.
    pub fn new(port: &str, state: Arc<Mutex<State>>, dev: Sender<ToDevice>) -> Hub {
        Hub {
            port: port.to_string(),
            state,
            dev,
            device: None,
            clients: HashMap::new(),
            routes: HashMap::new(),
            queue: VecDeque::new(),
            in_flight: None,
            next_id: 1,
            capture: None,
            poll: None,
            next_poll: Instant::now(),
        }
    }

    /// Runs until `stop` (then says goodbye to the device and the clients) or until every
    /// sender is gone.
    pub fn run(mut self, rx: Receiver<Input>, stop: &std::sync::atomic::AtomicBool) {
        loop {
            match rx.recv_timeout(TICK) {
                Ok(i) => self.input(i),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            // Everything queued meanwhile first, so the timer sees the latest state.
            while let Ok(i) = rx.try_recv() {
                self.input(i);
            }
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                self.farewell();
                return;
            }
            self.tick();
        }
    }

    fn input(&mut self, i: Input) {
        match i {
            Input::ClientOpen(cid, tx) => {
                self.clients.insert(
                    cid,
                    Client {
                        tx,
                        events: false,
                        logs: false,
                        capture: None,
                    },
                );
                lock(&self.state).clients = self.clients.len();
            }
            Input::ClientFrame(cid, p) => self.client_frame(cid, p),
            Input::ClientClosed(cid) => {
                self.end_capture_of(cid);
                self.clients.remove(&cid);
                lock(&self.state).clients = self.clients.len();
            }
            Input::DeviceUp(h) => {
                {
                    let mut s = lock(&self.state);
                    s.device = Some(h.clone());
                    s.connections += 1;
                }
                self.device = Some(h);
                self.own(
                    &Request::Subscribe {
                        events: true,
                        logs: true,
                    },
                    Own::Subscribe,
                );
                self.next_poll = Instant::now() + Duration::from_millis(500);
            }
            Input::DeviceFrame(p) => self.device_frame(&p),
            Input::DeviceDown(why) => self.device_down(&why),
        }
    }

    // ---- to clients ----

    fn send(&mut self, cid: ClientId, frame: Vec<u8>) {
        let Some(c) = self.clients.get(&cid) else {
            return;
        };
        if let Err(TrySendError::Full(_)) = c.tx.try_send(frame) {
            lock(&self.state).client_frames_dropped += 1;
        }
    }

    fn answer(&mut self, cid: ClientId, id: u16, r: &Response<'_>) {
        let mut out = vec![0u8; MAX_FRAME];
        if let Ok(n) = mgmt::encode(Header::new(Kind::Response, id), r, &mut out) {
            out.truncate(n);
            self.send(cid, out);
        }
    }

    fn answer_error(&mut self, cid: ClientId, id: u16, why: &str) {
        let message = format!("{DAEMON_PREFIX}{why}");
        self.answer(
            cid,
            id,
            &Response::Error {
                code: ErrorCode::Busy,
                message: &message,
            },
        );
    }

    fn not_connected(&self) -> String {
        format!(
            "the device on {} is not connected (the daemon is reconnecting; try again)",
            self.port
        )
    }

    // ---- from clients ----

    fn client_frame(&mut self, cid: ClientId, p: Vec<u8>) {
        // Nothing to answer without an id (the device does the same).
        let Some(&[_, _, lo, hi]) = p.first_chunk::<4>() else {
            return;
        };
        let id = u16::from_le_bytes([lo, hi]);
        let ask = match mgmt::decode(&p) {
            Ok((h, Ok(Message::Request(r)))) if h.kind == Kind::Request => match r {
                Request::Hello { .. } => Ask::Hello,
                Request::Subscribe { events, logs } => Ask::Subscribe(events, logs),
                Request::CaptureStart {
                    ifaces,
                    promiscuous,
                } => Ask::CaptureStart(ifaces, promiscuous),
                Request::CaptureStop => Ask::CaptureStop,
                Request::Reboot => Ask::Forward(What::Reboot, false),
                Request::Ping { .. } | Request::ScanEnergy { .. } => {
                    Ask::Forward(What::Plain, true)
                }
                _ => Ask::Forward(What::Plain, false),
            },
            // Anything else (another version, a bad body, not a request) is the device's to
            // answer, as it answers a host on its line.
            _ => Ask::Forward(What::Plain, false),
        };
        match ask {
            Ask::Hello => {
                // A Hello starts the client's session afresh, as it would on the device.
                self.end_capture_of(cid);
                if let Some(c) = self.clients.get_mut(&cid) {
                    c.events = false;
                    c.logs = false;
                }
                match self.device.clone() {
                    Some(h) => self.answer(
                        cid,
                        id,
                        &Response::Hello {
                            version: h.version,
                            schema: h.schema,
                            firmware: &h.firmware,
                            board: &h.board,
                        },
                    ),
                    None => self.answer_error(cid, id, &self.not_connected()),
                }
            }
            Ask::Subscribe(events, logs) => {
                if let Some(c) = self.clients.get_mut(&cid) {
                    c.events = events;
                    c.logs = logs;
                }
                self.answer(cid, id, &Response::Ok);
            }
            Ask::CaptureStart(ifaces, promiscuous) => {
                self.capture_start(cid, id, ifaces, promiscuous, p);
            }
            Ask::CaptureStop => self.capture_stop(cid, id, p),
            Ask::Forward(what, deferred) => self.forward(cid, id, p, what, deferred),
        }
    }

    fn capture_start(&mut self, cid: ClientId, id: u16, ifaces: u8, prom: bool, p: Vec<u8>) {
        if self.device.is_none() {
            let why = self.not_connected();
            return self.answer_error(cid, id, &why);
        }
        let mine = ClientCapture {
            ifaces,
            ..ClientCapture::default()
        };
        match self.capture {
            None => {
                self.capture = Some(Share {
                    ifaces,
                    promiscuous: prom,
                });
                if let Some(c) = self.clients.get_mut(&cid) {
                    c.capture = Some(mine);
                }
                self.forward(cid, id, p, What::CaptureStart, false);
            }
            Some(s) if ifaces != 0 && ifaces & !s.ifaces == 0 && prom == s.promiscuous => {
                if let Some(c) = self.clients.get_mut(&cid) {
                    c.capture = Some(mine);
                }
                self.answer(cid, id, &Response::Ok);
            }
            Some(s) => {
                let mode = |p: bool| if p { "promiscuous" } else { "not promiscuous" };
                let message = format!(
                    "another client's capture of {} ({}) is running; the daemon shares it with \
                     captures of the same or fewer interfaces in the same mode (asked: {}, {}); \
                     wait for it to end, or ask for those",
                    ifaces_text(s.ifaces),
                    mode(s.promiscuous),
                    ifaces_text(ifaces),
                    mode(prom)
                );
                self.answer(
                    cid,
                    id,
                    &Response::Error {
                        code: ErrorCode::Busy,
                        message: &message,
                    },
                );
            }
        }
    }

    fn capture_stop(&mut self, cid: ClientId, id: u16, p: Vec<u8>) {
        let mine = self.clients.get_mut(&cid).and_then(|c| c.capture.take());
        let Some(mine) = mine else {
            // As the device answers when no capture ran.
            return self.answer(cid, id, &Response::CaptureStats(CaptureStats::default()));
        };
        if self.clients.values().any(|c| c.capture.is_some()) {
            let stats = CaptureStats {
                recorded: mine.frames,
                sent: mine.frames,
                dropped: mine.dropped,
            };
            return self.answer(cid, id, &Response::CaptureStats(stats));
        }
        // The last one: the device's own statistics answer it.
        self.capture = None;
        self.forward(cid, id, p, What::Plain, false);
    }

    /// A client that leaves or starts afresh stops its part of the capture.
    fn end_capture_of(&mut self, cid: ClientId) {
        let had = self
            .clients
            .get_mut(&cid)
            .and_then(|c| c.capture.take())
            .is_some();
        if had && self.clients.values().all(|c| c.capture.is_none()) {
            self.capture = None;
            if self.device.is_some() {
                self.own(&Request::CaptureStop, Own::CaptureStop);
            }
        }
    }

    // ---- to the device ----

    fn alloc_id(&mut self) -> u16 {
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1).max(1);
            if !self.routes.contains_key(&id) {
                return id;
            }
        }
    }

    fn forward(&mut self, cid: ClientId, id: u16, mut p: Vec<u8>, what: What, deferred: bool) {
        if self.device.is_none() {
            let why = self.not_connected();
            return self.answer_error(cid, id, &why);
        }
        let dev_id = self.alloc_id();
        let Some(h) = p.get_mut(2..4) else { return };
        h.copy_from_slice(&dev_id.to_le_bytes());
        let mut frame = vec![0u8; MAX_FRAME];
        let Ok(n) = mgmt::encode_frame(&p, &mut frame) else {
            return;
        };
        frame.truncate(n);
        self.routes.insert(
            dev_id,
            Route::Client {
                cid,
                id,
                what,
                since: Instant::now(),
            },
        );
        self.queue.push_back(Outgoing {
            id: dev_id,
            frame,
            deferred,
        });
        self.pump();
    }

    fn own(&mut self, r: &Request<'_>, what: Own) {
        let id = self.alloc_id();
        let mut frame = vec![0u8; MAX_FRAME];
        let Ok(n) = mgmt::encode(Header::new(Kind::Request, id), r, &mut frame) else {
            return;
        };
        frame.truncate(n);
        self.routes.insert(id, Route::Own(what, Instant::now()));
        self.queue.push_back(Outgoing {
            id,
            frame,
            deferred: false,
        });
        self.pump();
    }

    /// Sends queued requests while none is awaiting its answer.
    fn pump(&mut self) {
        while self.in_flight.is_none() {
            let Some(o) = self.queue.pop_front() else {
                return;
            };
            if !o.deferred {
                self.in_flight = Some((o.id, Instant::now()));
            }
            let _ = self.dev.send(ToDevice::Frame(o.frame));
        }
    }

    fn reconnect(&mut self, why: &str) {
        let _ = self.dev.send(ToDevice::Reconnect(why.to_string()));
    }

    // ---- from the device ----

    fn device_frame(&mut self, p: &[u8]) {
        let Ok((h, m)) = mgmt::decode(p) else {
            return;
        };
        match (h.kind, m) {
            (Kind::Response, m) => {
                if h.id == 0 {
                    // Another host shook hands with the device: our session is gone.
                    super::log(format_args!(
                        "the device ended the daemon's session (another program on {}?)",
                        self.port
                    ));
                    return self.reconnect("another host took the device's session over");
                }
                if self.in_flight.is_some_and(|(id, _)| id == h.id) {
                    self.in_flight = None;
                }
                let ok = matches!(m, Ok(Message::Response(Response::Ok)));
                match self.routes.remove(&h.id) {
                    Some(Route::Client { cid, id, what, .. }) => {
                        if what == What::CaptureStart && !ok {
                            self.end_capture_refused(cid);
                        }
                        let mut q = p.to_vec();
                        if let Some(x) = q.get_mut(2..4) {
                            x.copy_from_slice(&id.to_le_bytes());
                        }
                        let mut frame = vec![0u8; MAX_FRAME];
                        if let Ok(n) = mgmt::encode_frame(&q, &mut frame) {
                            frame.truncate(n);
                            self.send(cid, frame);
                        }
                        if what == What::Reboot && ok {
                            self.reconnect("the device reboots (a client asked)");
                        }
                    }
                    Some(Route::Own(o, _)) => {
                        if let Ok(Message::Response(r)) = m {
                            self.own_answer(o, r);
                        }
                    }
                    None => {}
                }
                self.pump();
            }
            (Kind::Event, Ok(Message::Event(e))) => {
                self.with_lifecycle(|s| s.event(&e, SystemTime::now()));
                self.fan_out(p, |c, _| c.events);
            }
            (Kind::Log, Ok(Message::Log(l))) => {
                lock(&self.state).log(&l, SystemTime::now());
                self.fan_out(p, |c, _| c.logs);
            }
            (Kind::Capture, Ok(Message::Capture(c))) => {
                let bit = match c.iface {
                    CaptureIface::Wpan0 => 1u8,
                    CaptureIface::Eth0 => 2u8,
                };
                let dropped = [u64::from(c.dropped[0]), u64::from(c.dropped[1])];
                for cl in self.clients.values_mut() {
                    if let Some(cc) = cl.capture.as_mut() {
                        cc.dropped = dropped;
                    }
                }
                self.fan_out(p, |cl, count| match cl.capture.as_mut() {
                    Some(cc) if cc.ifaces & bit != 0 => {
                        if count {
                            cc.frames += 1;
                        }
                        true
                    }
                    _ => false,
                });
            }
            _ => {}
        }
    }

    /// Sends one device stream frame to the clients `wants` picks (`wants(c, true)` is
    /// called once per client that gets it).
    fn fan_out(&mut self, p: &[u8], mut wants: impl FnMut(&mut Client, bool) -> bool) {
        let mut frame = vec![0u8; MAX_FRAME];
        let Ok(n) = mgmt::encode_frame(p, &mut frame) else {
            return;
        };
        frame.truncate(n);
        let mut dropped = 0;
        for c in self.clients.values_mut() {
            if wants(c, false) {
                match c.tx.try_send(frame.clone()) {
                    Ok(()) => {
                        wants(c, true);
                    }
                    Err(TrySendError::Full(_)) => dropped += 1,
                    Err(TrySendError::Disconnected(_)) => {}
                }
            }
        }
        if dropped > 0 {
            lock(&self.state).client_frames_dropped += dropped;
        }
    }

    /// Runs `f` on the state and logs the node life-cycle changes it made.
    fn with_lifecycle(&mut self, f: impl FnOnce(&mut State)) {
        let mut s = lock(&self.state);
        let seen = s.lifecycle_total;
        f(&mut s);
        let new = usize::try_from(s.lifecycle_total - seen).unwrap_or(usize::MAX);
        let skip = s.lifecycle.len().saturating_sub(new);
        for l in s.lifecycle.iter().skip(skip) {
            let parent = s.nodes.get(&l.addr).and_then(|n| n.parent);
            super::log(format_args!("node {}", l.describe(parent)));
        }
    }

    fn end_capture_refused(&mut self, cid: ClientId) {
        if let Some(c) = self.clients.get_mut(&cid) {
            c.capture = None;
        }
        if self.clients.values().all(|c| c.capture.is_none()) {
            self.capture = None;
        }
    }

    fn own_answer(&mut self, o: Own, r: Response<'_>) {
        match (o, r) {
            (
                Own::Nodes,
                Response::Nodes {
                    total,
                    start,
                    nodes,
                },
            ) => {
                if let Some(p) = self.poll.as_mut() {
                    p.add_nodes(&nodes);
                }
                match next_page(start, nodes.len(), total) {
                    Some(next) => self.own(&Request::NodesList { start: next }, Own::Nodes),
                    None => self.own(&Request::Topology { start: 0 }, Own::Topology),
                }
            }
            (
                Own::Topology,
                Response::Topology {
                    total,
                    start,
                    nodes,
                },
            ) => {
                if let Some(p) = self.poll.as_mut() {
                    p.add_topology(&nodes);
                }
                match next_page(start, nodes.len(), total) {
                    Some(next) => self.own(&Request::Topology { start: next }, Own::Topology),
                    None => self.own(&Request::RplShow, Own::Rpl),
                }
            }
            // A device without an RPL root has no topology: the registry alone.
            (Own::Topology, Response::Error { .. }) => self.own(&Request::Info, Own::Info),
            (Own::Nodes, _) => self.poll = None,
            (Own::Rpl, r) => {
                if let (Some(p), Response::Rpl(i)) = (self.poll.as_mut(), r) {
                    p.tables.root = Some(std::net::Ipv6Addr::from(i.dodag_id));
                }
                self.own(&Request::Info, Own::Info);
            }
            (Own::Info, r) => {
                if let (Some(p), Response::Info(i)) = (self.poll.as_mut(), r) {
                    p.tables.info = Some((&i).into());
                }
                self.own(&Request::IfaceList, Own::Ifaces);
            }
            (Own::Ifaces, r) => {
                if let (Some(p), Response::Ifaces(v)) = (self.poll.as_mut(), r) {
                    p.tables.ifaces = v.iter().map(Into::into).collect();
                }
                self.own(&Request::RouteList, Own::Routes);
            }
            (Own::Routes, r) => {
                if let (Some(p), Response::Routes(v)) = (self.poll.as_mut(), r) {
                    p.tables.routes = v.iter().map(Into::into).collect();
                }
                self.own(&Request::Stats { start: 0 }, Own::Stats);
            }
            (
                Own::Stats,
                Response::Stats {
                    total,
                    start,
                    list,
                    values,
                },
            ) => {
                let mut next = None;
                if let Some(p) = self.poll.as_mut()
                    && usize::from(start) == p.stats.1.len()
                {
                    p.stats.0 = list;
                    p.stats.1.extend_from_slice(&values);
                    next = next_page(start, values.len(), total);
                }
                match next {
                    Some(next) => self.own(&Request::Stats { start: next }, Own::Stats),
                    None => self.poll_end(),
                }
            }
            (Own::Stats, _) => self.poll_end(),
            (Own::Subscribe, Response::Error { message, .. }) => {
                super::log(format_args!(
                    "the device refused the subscription: {message}"
                ));
            }
            _ => {}
        }
    }

    fn poll_end(&mut self) {
        if let Some(p) = self.poll.take() {
            self.with_lifecycle(|s| s.poll_done(p, SystemTime::now()));
        }
    }

    fn device_down(&mut self, why: &str) {
        self.device = None;
        {
            let mut s = lock(&self.state);
            s.device = None;
            s.last_disconnect = Some(why.to_string());
        }
        let message = format!(
            "the device went away ({why}); the daemon is reconnecting: run the command again"
        );
        let routes: Vec<Route> = self.routes.drain().map(|(_, r)| r).collect();
        for r in routes {
            if let Route::Client { cid, id, .. } = r {
                self.answer_error(cid, id, &message);
            }
        }
        let streaming: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(_, c)| c.events || c.logs || c.capture.is_some())
            .map(|(k, _)| *k)
            .collect();
        for cid in streaming {
            // The protocol's session-ended notice (§7.1): a Response::Error under id 0.
            self.answer_error(cid, 0, &message);
            if let Some(c) = self.clients.get_mut(&cid) {
                c.events = false;
                c.logs = false;
                c.capture = None;
            }
        }
        self.capture = None;
        self.queue.clear();
        self.in_flight = None;
        self.poll = None;
    }

    fn tick(&mut self) {
        let now = Instant::now();
        if let Some((id, since)) = self.in_flight
            && now.duration_since(since) >= DEVICE_TIMEOUT
        {
            self.in_flight = None;
            match self.routes.remove(&id) {
                Some(Route::Own(..)) => {
                    return self
                        .reconnect(&format!("no answer within {} s", DEVICE_TIMEOUT.as_secs()));
                }
                Some(Route::Client { cid, id, .. }) => {
                    let why = format!(
                        "the device did not answer within {} s",
                        DEVICE_TIMEOUT.as_secs()
                    );
                    self.answer_error(cid, id, &why);
                }
                None => {}
            }
            self.pump();
        }
        self.routes.retain(|_, r| match r {
            Route::Client { since, .. } | Route::Own(_, since) => {
                now.duration_since(*since) < ROUTE_MAX_AGE
            }
        });
        if self.device.is_some() && self.poll.is_none() && now >= self.next_poll {
            self.next_poll = now + POLL_PERIOD;
            self.poll = Some(Poll::default());
            self.own(&Request::NodesList { start: 0 }, Own::Nodes);
        }
    }

    /// On shutdown: the device is left quiet (no capture, no subscription) and every client
    /// is told.
    fn farewell(&mut self) {
        if self.device.is_some() {
            if self.capture.is_some() {
                self.own(&Request::CaptureStop, Own::CaptureStop);
            }
            self.own(
                &Request::Subscribe {
                    events: false,
                    logs: false,
                },
                Own::Subscribe,
            );
            // Past the one-at-a-time rule: the port closes next.
            while let Some(o) = self.queue.pop_front() {
                let _ = self.dev.send(ToDevice::Frame(o.frame));
            }
        }
        self.device_down("the daemon stopped");
    }
}
