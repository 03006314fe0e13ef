//! One of our mesh routers (the firmware application in its router role, issue 23) relaying
//! one packet: frames in from one neighbour, frames out to the next ([`Hop::forward`]).
//!
//! The packets are real: a line of three applications on scripted radios joined by a perfect
//! channel — the border router (`App::new`, the RPL root), router 1 and router 2
//! (`App::new_router`) — forms its DODAG (both routers joined, DAOs acknowledged), then the
//! border router pings router 2 with 1232 bytes of echo data and router 2 answers. What
//! router 1 hears and sends for that exchange is recorded:
//! - [`Dir::Down`]: the border router's frames of the echo request, a 1280-byte packet inside
//!   the root's tunnel to router 2 (IPv6-in-IPv6, RPL Option, a one-address Source Routing
//!   Header; with RFC 8138, the same as 6LoRH), which router 1 reassembles, takes through its
//!   source-route step (next address, hop limit, RPL Option checked and rewritten) and sends
//!   on to router 2 in fragments;
//! - [`Dir::Up`]: router 2's frames of the echo reply (1288 bytes: the 1280-byte reply and
//!   the RPL Option in a hop-by-hop header, RFC 9008 §7, since stop 31), which router 1
//!   reassembles, checks and rewrites (the RPL Option), forwards along its default route and
//!   sends to the border router in fragments.
//!
//! The measurement then runs router 1 alone: each [`Hop::forward`] hands it the recorded
//! frames again (each ending one airtime and a short gap after the previous one, as the radio
//! reports them), ends each of its transmissions after its airtime, acknowledges each of its
//! unicast data frames with an Imm-Ack, and returns when the packet's fragments have all gone
//! out. Virtual time advances to each deadline the router asks for, so its own timers (DIO
//! Trickle, DAO refresh, ND) run inside the measurement as they would under load. The
//! radio declares no hardware help (the soft-MAC computes and checks every FCS, runs CSMA/CA,
//! sends the ACKs), as in [`crate::router`].
//!
//! [`Hop::check`] forwards once and compares the reassembled output with what router 2 (or
//! the border router) received in the recorded line, byte for byte.

use firmware::app::{App, AppResources};
use firmware::config::Config;
use l2_15_4::consts;
use l2_15_4::frame::{Address, FrameType, Repr, fcs};
use l2_15_4::radio::testing::{self, ScriptedRadio};
use l2_15_4::radio::{Channel, RadioEvent, TxOutcome};
use netif::{Duration, Instant};
use rpl::router::Phase;
use sixlo::{ContextTable, LinkAddr, Reassembler, Received};

use crate::{Air, Failure, ensure};

/// Echo data bytes of the border router's ping: a 1280-byte packet.
pub const ECHO_DATA: u16 = 1232;
/// Bound on the loops that drive the line: beyond it, the path is broken.
const SPIN_LIMIT: usize = 100_000;
/// Frames a packet may take.
const MAX_FRAMES: usize = 32;
/// Largest packet reassembled by the checks (a tunnelled 1280-byte packet is larger).
const MAX_PACKET: usize = 2048;
/// FCS bytes.
const FCS_LEN: usize = l2_15_4::frame::FCS_LEN;

/// Which way the relayed packet goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// The root's source-routed tunnel packet, on to router 2.
    Down,
    /// Router 2's packet to the root, on along the default route.
    Up,
}

/// A mesh router's Ethernet: no cable.
struct NoCable([u8; 6]);

impl ethernet::Driver for NoCable {
    type Error = core::convert::Infallible;
    fn mac(&self) -> [u8; 6] {
        self.0
    }
    fn receive(&mut self, _: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        Ok(None)
    }
    fn transmit(&mut self, _: &[u8]) -> Result<bool, Self::Error> {
        Ok(true)
    }
    fn link_up(&mut self) -> bool {
        false
    }
}

struct Node<'r> {
    app: App<'r>,
    radio: ScriptedRadio<16>,
    eth: NoCable,
}

/// Router `k`'s EUI-64 (as `sixgate-sim` numbers its routers).
fn router_eui64(k: u8) -> [u8; 8] {
    [0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x10, k]
}

/// The line: 0 hears 1, 1 hears 0 and 2, 2 hears 1.
fn neighbours(i: usize) -> impl Iterator<Item = usize> {
    [(0usize, 1usize), (1, 2)]
        .into_iter()
        .filter_map(move |(a, b)| (a == i).then_some(b).or((b == i).then_some(a)))
}

fn is_fragment(psdu: &[u8]) -> bool {
    let Some(mpdu) = psdu.get(..psdu.len().saturating_sub(FCS_LEN)) else {
        return false;
    };
    let Ok(r) = Repr::parse_bytes(mpdu) else {
        return false;
    };
    r.frame_type == FrameType::Data
        && mpdu
            .get(r.buffer_len())
            .is_some_and(|d| matches!(d & 0xf8, 0xc0 | 0xe0))
}

fn dst_of(psdu: &[u8]) -> Option<Address> {
    Repr::parse_bytes(psdu.get(..psdu.len().checked_sub(FCS_LEN)?)?)
        .ok()?
        .dst_addr
}

/// PSDUs router 1 heard, and sent.
type Recording = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// Router 1 relaying one packet (see the module documentation).
pub struct Hop<'r> {
    nodes: Vec<Node<'r>>,
    now: Instant,
    dir: Dir,
    /// What router 1 hears of the packet (PSDUs, FCS included), in order.
    input: Vec<Vec<u8>>,
    /// Router 1's unicast data frames of the last forwarded packet.
    sent: Air,
    /// The next hop's link address.
    next: Address,
    /// What the next hop reassembled in the recorded line.
    expected: Vec<u8>,
    /// Fragments one packet takes out (from the recording).
    out_frames: usize,
    /// Frames router 1 heard while recording, and sent (recording on while `Some`).
    heard: Option<Recording>,
}

impl core::fmt::Debug for Hop<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hop")
            .field("now", &self.now)
            .field("dir", &self.dir)
            .field("input", &self.input.len())
            .field("out_frames", &self.out_frames)
            .finish_non_exhaustive()
    }
}

impl<'r> Hop<'r> {
    /// The line over `res` (one set of storage per node), RFC 8138 on or off in the root's
    /// configuration (the routers follow its DIOs' T flag), joined, and the exchange recorded
    /// for `dir`.
    pub fn new(res: [&'r mut AppResources; 3], rfc8138: bool, dir: Dir) -> Result<Self, Failure> {
        let mut root_cfg = Config::default();
        root_cfg.rpl.rfc8138 = rfc8138;
        let [r0, r1, r2] = res;
        let mut nodes = Vec::new();
        for (k, res) in [(0u8, r0), (1, r1), (2, r2)] {
            let mut radio = ScriptedRadio::new();
            let app = if k == 0 {
                App::new(root_cfg.clone(), res, Instant::ZERO, &mut radio)
            } else {
                let cfg = Config {
                    short_address: 0xfffe,
                    ..Config::default_for(router_eui64(k))
                };
                App::new_router(cfg, res, Instant::ZERO, &mut radio)
            }
            .map_err(|e| Failure(format!("node {k} did not start: {e:?}")))?;
            let eth = NoCable(app.config().eth_mac);
            nodes.push(Node { app, radio, eth });
        }
        let mut h = Hop {
            nodes,
            now: Instant::ZERO,
            dir,
            input: Vec::new(),
            sent: Air::new(MAX_FRAMES),
            next: Address::Extended([0; 8]),
            expected: Vec::new(),
            out_frames: 0,
            heard: None,
        };
        for _ in 0..120 {
            h.run_line(Duration::from_secs(1))?;
            if h.phase(1) == Some(Phase::Joined) && h.phase(2) == Some(Phase::Joined) {
                break;
            }
        }
        h.run_line(Duration::from_secs(5))?;
        ensure(
            h.phase(1) == Some(Phase::Joined) && h.phase(2) == Some(Phase::Joined),
            || {
                format!(
                    "the routers did not join: {:?} {:?}",
                    h.phase(1),
                    h.phase(2)
                )
            },
        )?;
        for k in 1..3 {
            let on = h.nodes[k].app.wpan().compress_options().rfc8138;
            ensure(on == rfc8138, || format!("router {k}: RFC 8138 {on}"))?;
        }
        // The exchange, recorded at router 1.
        h.heard = Some((Vec::new(), Vec::new()));
        let r2 = firmware::root::mesh_address(h.nodes[2].app.config());
        let now = h.now;
        h.nodes[0]
            .app
            .ping_send(now, r2, None, 1, ECHO_DATA)
            .map_err(|e| Failure(format!("the border router's ping: {e:?}")))?;
        h.run_line(Duration::from_secs(3))?;
        let replied = core::iter::from_fn(|| h.nodes[0].app.pop_ping()).count();
        ensure(replied == 1, || "router 2 did not answer the ping".into())?;
        let (heard, sent) = h.heard.take().unwrap_or_default();
        let (from, to) = match dir {
            Dir::Down => (0, 2),
            Dir::Up => (2, 0),
        };
        let from_addr = Address::Extended(h.nodes[from].app.config().eui64);
        h.next = Address::Extended(h.nodes[to].app.config().eui64);
        h.input = heard
            .into_iter()
            .filter(|f| is_fragment(f) && src_of(f) == Some(from_addr))
            .collect();
        let out: Vec<Vec<u8>> = sent
            .into_iter()
            .filter(|f| is_fragment(f) && dst_of(f) == Some(h.next))
            .collect();
        h.out_frames = out.len();
        let mut air = Air::new(MAX_FRAMES);
        for f in &out {
            air.slot()?[..f.len()].copy_from_slice(f);
            air.commit(f.len());
        }
        h.expected = reassemble(&air, h.next, h.nodes[to].app.wpan().contexts())?;
        ensure(!h.input.is_empty() && h.out_frames > 0, || {
            format!("recorded {} frames in, {} out", h.input.len(), h.out_frames)
        })?;
        Ok(h)
    }

    fn phase(&self, k: usize) -> Option<Phase> {
        Some(self.nodes.get(k)?.app.mesh_router()?.core().phase())
    }

    /// Frames router 1 hears per packet (in), and sends (out).
    pub fn frames(&self) -> (usize, usize) {
        (self.input.len(), self.out_frames)
    }

    /// The relayed packet as the next hop reassembles it.
    pub fn packet(&self) -> &[u8] {
        &self.expected
    }

    /// Virtual time now.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Router 1's application (for its counters).
    pub fn router(&self) -> &App<'r> {
        &self.nodes[1].app
    }

    /// The whole line: ends every transmission, its neighbours receive it (and may answer
    /// at once: an ACK), until the air is quiet.
    fn line_air(&mut self) -> Result<(), Failure> {
        for _ in 0..SPIN_LIMIT {
            let mut any = false;
            for i in 0..self.nodes.len() {
                while let Some(rec) = self.nodes[i].radio.pop_sent() {
                    any = true;
                    let psdu = rec.psdu.to_vec();
                    let end = rec.at + consts::airtime(psdu.len());
                    self.now = self.now.max(end);
                    let now = self.now;
                    let n = &mut self.nodes[i];
                    let ev = RadioEvent::TxDone {
                        end,
                        outcome: TxOutcome::Sent,
                    };
                    n.app.on_radio_event(now, ev, &mut n.radio);
                    if let Some((heard, sent)) = self.heard.as_mut() {
                        if i == 1 {
                            sent.push(psdu.clone());
                        } else {
                            heard.push(psdu.clone());
                        }
                    }
                    for j in neighbours(i) {
                        let n = &mut self.nodes[j];
                        let ch = channel(&n.app)?;
                        let rx = testing::received(&psdu, now, ch);
                        n.app
                            .on_radio_event(now, RadioEvent::Received(rx), &mut n.radio);
                    }
                }
            }
            if !any {
                return Ok(());
            }
        }
        Err(Failure::new("the line never stops transmitting"))
    }

    fn run_line(&mut self, d: Duration) -> Result<(), Failure> {
        let t = self.now + d;
        for _ in 0..SPIN_LIMIT {
            self.line_air()?;
            let next = self
                .nodes
                .iter()
                .filter_map(|n| n.app.next_deadline())
                .min();
            let now = match next {
                Some(d) if d <= t => d,
                _ => t,
            };
            self.now = self.now.max(now);
            let now = self.now;
            for n in &mut self.nodes {
                n.app.poll(now, &mut n.radio, &mut n.eth);
            }
            if now >= t {
                return self.line_air();
            }
        }
        Err(Failure(format!("the line's deadlines never pass {t:?}")))
    }

    /// Router 1 alone: ends each of its transmissions; a unicast data frame is acknowledged
    /// (and recorded in `sent` when it is a fragment to the next hop). Returns those
    /// fragments.
    fn complete_tx(&mut self) -> Result<usize, Failure> {
        let mut out = 0;
        for _ in 0..SPIN_LIMIT {
            let n = &mut self.nodes[1];
            let Some(rec) = n.radio.pop_sent() else {
                return Ok(out);
            };
            let len = rec.psdu.len();
            let end = rec.at + consts::airtime(len);
            self.now = self.now.max(end);
            let ev = RadioEvent::TxDone {
                end,
                outcome: TxOutcome::Sent,
            };
            n.app.on_radio_event(self.now, ev, &mut n.radio);
            let buf = &rec.psdu[..];
            // Frame control: type in bits 0-2 (1 = data), ACK request bit 5.
            let fc = u16::from_le_bytes([buf[0], buf[1]]);
            if fc & 0x7 != 1 || fc & (1 << 5) == 0 {
                continue;
            }
            if is_fragment(buf) && dst_of(buf) == Some(self.next) {
                out += 1;
                if let Ok(slot) = self.sent.slot() {
                    slot[..len].copy_from_slice(buf);
                    self.sent.commit(len);
                }
            }
            let mut ack = [0x02, 0x00, buf[2], 0, 0];
            fcs::append(&mut ack);
            self.now =
                end + consts::symbols(consts::TURNAROUND_SYMBOLS) + consts::airtime(ack.len());
            let rx = testing::received(&ack, self.now, channel(&n.app)?);
            n.app
                .on_radio_event(self.now, RadioEvent::Received(rx), &mut n.radio);
        }
        Err(Failure::new("router 1 never stops transmitting"))
    }

    fn poll(&mut self) {
        let n = &mut self.nodes[1];
        n.app.poll(self.now, &mut n.radio, &mut n.eth);
    }

    /// Router 1 relays the packet once: returns the fragments it sent to the next hop.
    pub fn forward(&mut self) -> Result<usize, Failure> {
        self.sent.clear();
        let mut out = 0;
        for k in 0..self.input.len() {
            let len = self.input[k].len();
            // The frame ends one airtime (and a short gap) after the previous step.
            self.now = self.now + consts::airtime(len) + Duration::from_micros(640);
            let n = &mut self.nodes[1];
            let rx = testing::received(&self.input[k], self.now, channel(&n.app)?);
            n.app
                .on_radio_event(self.now, RadioEvent::Received(rx), &mut n.radio);
            // Its ACK, and whatever falls due before the next frame.
            let next = self.now + Duration::from_millis(1);
            for _ in 0..SPIN_LIMIT {
                out += self.complete_tx()?;
                match self.nodes[1].app.next_deadline() {
                    Some(d) if d <= next => {
                        self.now = self.now.max(d);
                        self.poll();
                    }
                    _ => break,
                }
            }
        }
        self.poll();
        for _ in 0..SPIN_LIMIT {
            out += self.complete_tx()?;
            if out >= self.out_frames {
                return Ok(out);
            }
            let d = self.nodes[1]
                .app
                .next_deadline()
                .ok_or_else(|| Failure(format!("router 1 stalled after {out} fragments")))?;
            self.now = self.now.max(d);
            self.poll();
        }
        Err(Failure(format!("no end after {out} fragments")))
    }

    /// Forward once and compare: the fragments router 1 sent reassemble to the packet the
    /// next hop received in the recorded line (the hop limit, the RPL Option and the source
    /// route are router 1's own work, the same each time).
    pub fn check(&mut self) -> Result<(), Failure> {
        let n = self.forward()?;
        ensure(n == self.out_frames, || {
            format!("{n} fragments out, {} recorded", self.out_frames)
        })?;
        let to = if self.dir == Dir::Down { 2 } else { 0 };
        let got = reassemble(&self.sent, self.next, self.nodes[to].app.wpan().contexts())?;
        ensure(got == self.expected, || {
            format!(
                "the relayed packet differs ({} bytes, {} recorded)",
                got.len(),
                self.expected.len()
            )
        })?;
        ensure(self.nodes[1].app.pool_accounted(), || {
            "a packet buffer leaked".into()
        })
    }
}

fn channel(app: &App<'_>) -> Result<Channel, Failure> {
    Channel::new(app.config().channel).ok_or_else(|| Failure::new("bad channel"))
}

fn src_of(psdu: &[u8]) -> Option<Address> {
    Repr::parse_bytes(psdu.get(..psdu.len().checked_sub(FCS_LEN)?)?)
        .ok()?
        .src_addr
}

/// Reassemble the fragments on `air` addressed to `dst` into one IPv6 packet.
fn reassemble(air: &Air, dst: Address, contexts: &ContextTable) -> Result<Vec<u8>, Failure> {
    let mut r: Box<Reassembler<2, MAX_PACKET>> = Box::default();
    let mut out = vec![0u8; MAX_PACKET];
    let mut got = None;
    for psdu in air.frames() {
        ensure(fcs::verify(psdu), || "a frame with a bad FCS".into())?;
        let mpdu = &psdu[..psdu.len() - FCS_LEN];
        let repr = Repr::parse_bytes(mpdu).map_err(|e| Failure(format!("MAC header: {e}")))?;
        if repr.frame_type != FrameType::Data || repr.dst_addr != Some(dst) {
            continue;
        }
        let src = repr
            .src_addr
            .ok_or_else(|| Failure::new("no source address"))?;
        let payload = mpdu
            .get(repr.buffer_len()..)
            .ok_or_else(|| Failure::new("MAC header past the frame"))?;
        match r.receive(
            payload,
            &LinkAddr::from(src),
            &LinkAddr::from(dst),
            contexts,
            Instant::ZERO,
            &mut out,
        ) {
            Ok(Received::Complete(n)) => got = Some(n),
            Ok(Received::Pending) => {}
            Err(e) => return Err(Failure(format!("6LoWPAN: {e:?}"))),
        }
    }
    let n = got.ok_or_else(|| Failure::new("the frames complete no packet"))?;
    out.truncate(n);
    Ok(out)
}
