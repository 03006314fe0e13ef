//! The simulated Ethernet cable: [`EthLink`], its two ends ([`End`], [`EthPort`]) and its
//! knobs ([`EthLinkConfig`]); frames, per-direction counters and the capture tap. How it
//! behaves is told in the [`backbone` module documentation](super).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::rc::Rc;

use netif::time::{Duration, Instant};

/// Default frames queued per direction of an [`EthLink`].
pub const DEFAULT_QUEUE_CAP: usize = 64;

/// Default largest frame an [`EthLink`] carries, bytes without FCS: 14-byte header, 4-byte
/// 802.1Q tag, 1500-byte payload.
pub const DEFAULT_MAX_FRAME: usize = 1518;

/// One end of an [`EthLink`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    /// End A (by convention the border router's `eth0`).
    A,
    /// End B (by convention the backbone host).
    B,
}

impl End {
    /// The other end.
    pub const fn peer(self) -> End {
        match self {
            End::A => End::B,
            End::B => End::A,
        }
    }

    const fn idx(self) -> usize {
        match self {
            End::A => 0,
            End::B => 1,
        }
    }
}

/// The knobs of an [`EthLink`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthLinkConfig {
    /// Frames queued per direction; a full queue makes the sender's `transmit` busy.
    pub queue_cap: usize,
    /// Larger frames are taken and dropped (counted in [`EthDirCounters::oversize`]).
    pub max_frame: usize,
    /// One-way delay: a frame sent at `t` can be received from `t + latency` on.
    pub latency: Duration,
}

impl Default for EthLinkConfig {
    fn default() -> Self {
        EthLinkConfig {
            queue_cap: DEFAULT_QUEUE_CAP,
            max_frame: DEFAULT_MAX_FRAME,
            latency: Duration::ZERO,
        }
    }
}

/// A frame on the cable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthFrame {
    /// The end that sent it.
    pub from: End,
    /// When it was sent (the link's virtual time).
    pub at: Instant,
    /// The Ethernet frame, without FCS.
    pub data: Vec<u8>,
}

/// Counters of one direction of an [`EthLink`] (indexed by the sending end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EthDirCounters {
    /// Frames that entered the cable (and were tapped).
    pub sent: u64,
    /// Bytes of those frames.
    pub bytes: u64,
    /// Transmit attempts refused because the queue was full (`Ok(false)`).
    pub busy: u64,
    /// Frames taken but dropped for exceeding [`EthLinkConfig::max_frame`].
    pub oversize: u64,
    /// Frames lost because the link was down (sent while down, or queued when it went down).
    pub lost_link_down: u64,
    /// Frames the receiving end read.
    pub delivered: u64,
    /// Of those, frames read into a buffer too small for them ([`ethernet::Driver::receive`]
    /// then reports the real length).
    pub truncated: u64,
}

/// A callback that sees every frame entering the cable.
pub type EthTap = Box<dyn FnMut(&EthFrame)>;

struct LinkInner {
    cfg: EthLinkConfig,
    now: Instant,
    up: bool,
    /// Indexed by the receiving end.
    queues: [VecDeque<EthFrame>; 2],
    /// Indexed by the sending end.
    counters: [EthDirCounters; 2],
    capture: Option<Vec<EthFrame>>,
    tap: Option<EthTap>,
}

/// A point-to-point Ethernet cable in memory (see the [module docs](super)). Cloning gives
/// another handle to the same cable.
#[derive(Clone)]
pub struct EthLink {
    inner: Rc<RefCell<LinkInner>>,
}

impl fmt::Debug for EthLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.inner.borrow();
        f.debug_struct("EthLink")
            .field("cfg", &i.cfg)
            .field("now", &i.now)
            .field("up", &i.up)
            .field("queued", &[i.queues[0].len(), i.queues[1].len()])
            .field("counters", &i.counters)
            .finish()
    }
}

/// What became of a frame handed to the cable.
enum SendOutcome {
    Queued,
    Busy,
    Lost,
}

impl EthLink {
    /// A new cable, link up, virtual time zero.
    pub fn new(cfg: EthLinkConfig) -> Self {
        EthLink {
            inner: Rc::new(RefCell::new(LinkInner {
                cfg,
                now: Instant::ZERO,
                up: true,
                queues: [VecDeque::new(), VecDeque::new()],
                counters: [EthDirCounters::default(); 2],
                capture: None,
                tap: None,
            })),
        }
    }

    /// A handle on `end` with MAC address `mac` (what [`ethernet::Driver::mac`] returns).
    /// Several handles on one end share its receive queue.
    pub fn port(&self, end: End, mac: [u8; 6]) -> EthPort {
        EthPort {
            link: self.clone(),
            end,
            mac,
        }
    }

    /// The configuration.
    pub fn config(&self) -> EthLinkConfig {
        self.inner.borrow().cfg
    }

    /// Moves the link's virtual time forward to `now` (never backward).
    pub fn advance_to(&self, now: Instant) {
        let mut i = self.inner.borrow_mut();
        i.now = i.now.max(now);
    }

    /// The link's virtual time.
    pub fn now(&self) -> Instant {
        self.inner.borrow().now
    }

    /// Carrier state.
    pub fn is_up(&self) -> bool {
        self.inner.borrow().up
    }

    /// Plugs (`true`) or unplugs the cable. Unplugging loses the frames in flight (counted in
    /// [`EthDirCounters::lost_link_down`]); while down, sent frames are taken and lost.
    pub fn set_link_up(&self, up: bool) {
        let mut i = self.inner.borrow_mut();
        i.up = up;
        if !up {
            for to in [End::A, End::B] {
                let n = i.queues[to.idx()].len() as u64;
                i.queues[to.idx()].clear();
                i.counters[to.peer().idx()].lost_link_down += n;
            }
        }
    }

    /// Counters of the direction whose sender is `from`.
    pub fn counters(&self, from: End) -> EthDirCounters {
        self.inner.borrow().counters[from.idx()]
    }

    /// Frames that entered the cable, both directions.
    pub fn frames_sent(&self) -> u64 {
        let i = self.inner.borrow();
        i.counters[0].sent + i.counters[1].sent
    }

    /// Frames waiting for `to` to read them (delivered or still in flight).
    pub fn queued(&self, to: End) -> usize {
        self.inner.borrow().queues[to.idx()].len()
    }

    /// When the next frame for `to` can be read (`None`: nothing queued). May be in the past.
    pub fn next_delivery(&self, to: End) -> Option<Instant> {
        let i = self.inner.borrow();
        i.queues[to.idx()].front().map(|f| f.at + i.cfg.latency)
    }

    /// The earliest [`EthLink::next_delivery`] of both ends.
    pub fn next_event(&self) -> Option<Instant> {
        match (self.next_delivery(End::A), self.next_delivery(End::B)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Starts (`true`) or stops and discards (`false`) the in-memory log of every frame that
    /// enters the cable.
    pub fn set_capture(&self, on: bool) {
        let mut i = self.inner.borrow_mut();
        match (on, i.capture.is_some()) {
            (true, false) => i.capture = Some(Vec::new()),
            (false, _) => i.capture = None,
            (true, true) => {}
        }
    }

    /// Takes the frames logged since the last call (the log keeps running).
    pub fn take_captured(&self) -> Vec<EthFrame> {
        self.inner
            .borrow_mut()
            .capture
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Installs (or removes, with `None`) the callback that sees every frame entering the
    /// cable; returns the previous one. The callback may use the link (it is called with no
    /// borrow held).
    pub fn set_tap(&self, tap: Option<EthTap>) -> Option<EthTap> {
        std::mem::replace(&mut self.inner.borrow_mut().tap, tap)
    }

    fn send(&self, from: End, at: Option<Instant>, data: &[u8]) -> SendOutcome {
        let (frame, tap) = {
            let mut i = self.inner.borrow_mut();
            let at = at.map_or(i.now, |t| t.max(i.now));
            i.now = at;
            let (cap, max) = (i.cfg.queue_cap, i.cfg.max_frame);
            let to = from.peer().idx();
            if data.len() > max {
                i.counters[from.idx()].oversize += 1;
                return SendOutcome::Lost;
            }
            if !i.up {
                i.counters[from.idx()].lost_link_down += 1;
                return SendOutcome::Lost;
            }
            if i.queues[to].len() >= cap {
                i.counters[from.idx()].busy += 1;
                return SendOutcome::Busy;
            }
            let c = &mut i.counters[from.idx()];
            c.sent += 1;
            c.bytes += data.len() as u64;
            let frame = EthFrame {
                from,
                at,
                data: data.to_vec(),
            };
            if let Some(log) = i.capture.as_mut() {
                log.push(frame.clone());
            }
            let tap = i.tap.take();
            let copy = tap.as_ref().map(|_| frame.clone());
            i.queues[to].push_back(frame);
            (copy, tap)
        };
        if let (Some(frame), Some(mut tap)) = (frame, tap) {
            tap(&frame);
            let mut i = self.inner.borrow_mut();
            if i.tap.is_none() {
                i.tap = Some(tap);
            }
        }
        SendOutcome::Queued
    }

    fn has_room(&self, from: End) -> bool {
        let i = self.inner.borrow();
        i.queues[from.peer().idx()].len() < i.cfg.queue_cap
    }

    /// Pops the next frame for `to` if it has arrived.
    fn recv(&self, to: End) -> Option<EthFrame> {
        let mut i = self.inner.borrow_mut();
        let (now, latency) = (i.now, i.cfg.latency);
        let q = &mut i.queues[to.idx()];
        if q.front().is_none_or(|f| f.at + latency > now) {
            return None;
        }
        let f = q.pop_front()?;
        i.counters[to.peer().idx()].delivered += 1;
        Some(f)
    }

    fn count_truncated(&self, to: End) {
        self.inner.borrow_mut().counters[to.peer().idx()].truncated += 1;
    }
}

/// One end of an [`EthLink`]: an [`ethernet::Driver`] for the border router, or the
/// backbone host's device.
#[derive(Debug, Clone)]
pub struct EthPort {
    link: EthLink,
    end: End,
    mac: [u8; 6],
}

impl EthPort {
    /// Which end this is.
    pub fn end(&self) -> End {
        self.end
    }

    /// The MAC address given to [`EthLink::port`].
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// The cable.
    pub fn link(&self) -> &EthLink {
        &self.link
    }

    /// Sends `frame` at `now` (moving the link's time forward to it). `false`: the queue is
    /// full, try later. `true`: the cable took it (delivered in time, or lost and counted if
    /// the link is down or the frame too large).
    pub fn send(&mut self, now: Instant, frame: &[u8]) -> bool {
        !matches!(
            self.link.send(self.end, Some(now), frame),
            SendOutcome::Busy
        )
    }

    /// Whether a frame sent now would be queued rather than refused.
    pub fn has_room(&self) -> bool {
        self.link.has_room(self.end)
    }

    /// The next frame that has arrived at this end, whole.
    pub fn recv(&mut self) -> Option<EthFrame> {
        self.link.recv(self.end)
    }

    /// Frames waiting for this end (arrived or still in flight).
    pub fn pending(&self) -> usize {
        self.link.queued(self.end)
    }

    /// When the next frame for this end can be read (`None`: nothing queued).
    pub fn next_delivery(&self) -> Option<Instant> {
        self.link.next_delivery(self.end)
    }
}

impl ethernet::Driver for EthPort {
    type Error = Infallible;

    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        let Some(f) = self.link.recv(self.end) else {
            return Ok(None);
        };
        let n = f.data.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), f.data.get(..n)) {
            dst.copy_from_slice(src);
        }
        if n < f.data.len() {
            self.link.count_truncated(self.end);
        }
        Ok(Some(f.data.len()))
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<bool, Self::Error> {
        Ok(!matches!(
            self.link.send(self.end, None, frame),
            SendOutcome::Busy
        ))
    }

    fn link_up(&mut self) -> bool {
        self.link.is_up()
    }
}
