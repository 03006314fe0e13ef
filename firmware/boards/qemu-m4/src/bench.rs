//! The measurement mode (the board's `bench` feature, `scripts/qemu-m4.sh --bench`): the
//! instructions the application spends per forwarded 1280-byte packet on the Cortex-M4, the
//! two paths of `cargo bench -p tests` (docs/performance.md, section 2).
//!
//! The far ends are quiet ([`crate::far::FarEnds::bench`]: node 0 registers, the host sends no
//! RA, the router has a static backbone address, [`config`]). After [`SETTLE`], the backbone
//! host sends [`WARMUP`] + `packets` IPv6/UDP packets of 1280 bytes ([`BENCH_PAYLOAD`](crate::packet::BENCH_PAYLOAD)
//! of payload) to node 0 (**down**: Ethernet → IPv6 forwarding → 6LoWPAN fragmentation → the MAC,
//! each frame acknowledged by the scripted radio), one at a time: the next leaves when the
//! node has reassembled the last one intact and the air is idle (the router's last frame and
//! its ACK handled). Then node 0 sends as many to the host (**up**: the MAC's receive and ACKs,
//! reassembly, forwarding, Ethernet), the next when the host has the last one intact.
//!
//! What is counted ([`Leg`]): the time of the application's calls (`App::poll`,
//! `App::on_radio_event`, the radio and Ethernet driver calls they make), from just before the
//! first measured packet leaves to when the last one has arrived and the air is idle, less
//! what the backbone host does when the router hands it a frame (it reads it inside
//! `App::poll`). Not counted: the far ends' own work (building, fragmenting and reassembling
//! the node's and host's packets), the management server, the stack measurement, the loop and
//! sleep. Every timer of the application that falls due meanwhile is counted, as in the host
//! figure.

use firmware::app::App;
use firmware::config::{Backbone as BackboneConfig, Config};
use netif::{Duration, Instant};

use crate::backbone::{Backbone, HOST_GLOBAL};
use crate::mesh::Mesh;

/// From boot until the first packet: node 0 registers, the router's start-up ND settles (as the
/// host bench's 5 s).
pub const SETTLE: Duration = Duration::from_secs(5);
/// Packets each way before the measured ones (the first one resolves the host's address).
pub const WARMUP: u32 = 3;
/// A packet not delivered within this fails the run.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The router's configuration in the measurement mode: `cfg` with the static backbone address
/// 2001:db8::1/64 and no gateway, as the host bench's (the host 2001:db8::2 is on-link).
pub fn config(cfg: Config) -> Config {
    let mut addr = HOST_GLOBAL.octets();
    addr[15] = 1;
    Config {
        backbone: BackboneConfig::Static {
            addr,
            prefix_len: 64,
            gateway: None,
        },
        ..cfg
    }
}

/// One direction's measurement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Leg {
    /// Packets delivered.
    pub packets: u32,
    /// Clock ticks in the application's calls (far-end work inside them taken out).
    pub busy: u64,
    /// Clock reads taken for it (each adds the clock's own cost, [`crate::far::Meter::calibrate`]).
    pub clock_reads: u64,
    /// 802.15.4 data frames carrying the packets (the router's down, the node's up).
    pub frames: u32,
}

impl Leg {
    fn since(self, start: Leg) -> Leg {
        Leg {
            packets: self.packets.wrapping_sub(start.packets),
            busy: self.busy.wrapping_sub(start.busy),
            clock_reads: self.clock_reads.wrapping_sub(start.clock_reads),
            frames: self.frames.wrapping_sub(start.frames),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Settle,
    Down,
    Up,
    Done,
    Failed(&'static str),
}

/// The measurement script; see the module docs.
#[derive(Debug, Clone)]
pub struct Bench {
    phase: Phase,
    packets: u32,
    start: Instant,
    /// Packets sent in this phase.
    sent: u32,
    /// When the last one left.
    sent_at: Instant,
    /// The meter, the delivered packets and frames when the measured packets began.
    mark: Leg,
    down: Option<Leg>,
    up: Option<Leg>,
}

/// The outcome: both legs, or why the run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Down (backbone → node) and up (node → backbone).
    Done { down: Leg, up: Leg },
    /// A packet was lost, refused or late.
    Failed(&'static str),
}

impl Bench {
    /// A run of `packets` measured packets each way, starting at `now`.
    pub fn new(now: Instant, packets: u32) -> Self {
        Bench {
            phase: Phase::Settle,
            packets: packets.max(1),
            start: now,
            sent: 0,
            sent_at: now,
            mark: Leg::default(),
            down: None,
            up: None,
        }
    }

    /// The outcome once the run is over.
    pub fn outcome(&self) -> Option<Outcome> {
        match (self.phase, self.down, self.up) {
            (Phase::Failed(why), ..) => Some(Outcome::Failed(why)),
            (Phase::Done, Some(down), Some(up)) => Some(Outcome::Done { down, up }),
            _ => None,
        }
    }

    /// (delivered, frames) of the current phase's direction.
    fn delivered(&self, mesh: &Mesh, backbone: &Backbone) -> (u32, u32) {
        let (m, b) = (mesh.stats(), backbone.stats());
        match self.phase {
            Phase::Up => (b.bench_rx, m.frames_sent),
            _ => (m.bench_rx, m.frames_heard),
        }
    }

    /// Whether the last packet sent has arrived and nothing is left on the air or the cable.
    fn ready(&self, mesh: &Mesh, backbone: &Backbone) -> bool {
        let (got, _) = self.delivered(mesh, backbone);
        // The counters of this phase started at 0 (down) or count only this phase (up).
        got >= self.sent && mesh.idle() && !backbone.has_rx()
    }

    /// When the script must act: at the end of the settling time, when it is ready to send the
    /// next packet (now), or when the one in flight is late.
    pub fn next_deadline(
        &self,
        app: &App<'_>,
        mesh: &Mesh,
        backbone: &Backbone,
    ) -> Option<Instant> {
        match self.phase {
            Phase::Settle => Some(self.start + SETTLE),
            Phase::Down | Phase::Up if self.ready(mesh, backbone) => Some(app.now()),
            Phase::Down | Phase::Up => Some(self.sent_at + TIMEOUT),
            Phase::Done | Phase::Failed(_) => None,
        }
    }

    /// Acts at `now` (before the far ends and the application): ends the settling time, sends
    /// the next packet when the last one arrived, records a leg. `total` is what the meter and
    /// the far ends counted so far ([`crate::far::FarEnds::meter_total`]).
    pub fn drive(
        &mut self,
        now: Instant,
        app: &App<'_>,
        mesh: &mut Mesh,
        backbone: &mut Backbone,
        total: Leg,
    ) {
        match self.phase {
            Phase::Settle => {
                if now < self.start + SETTLE {
                    return;
                }
                if app.status().registered < 1 {
                    self.phase = Phase::Failed("node 0 did not register");
                    return;
                }
                self.begin(Phase::Down, now);
            }
            Phase::Down | Phase::Up => {}
            Phase::Done | Phase::Failed(_) => return,
        }
        if !self.ready(mesh, backbone) {
            if now >= self.sent_at + TIMEOUT {
                self.phase = Phase::Failed(if self.phase == Phase::Down {
                    "a packet to the node was lost"
                } else {
                    "a packet to the backbone host was lost"
                });
            }
            return;
        }
        let (got, frames) = self.delivered(mesh, backbone);
        let here = Leg {
            packets: got,
            frames,
            ..total
        };
        if self.sent == WARMUP {
            self.mark = here;
        }
        if self.sent == WARMUP + self.packets {
            let leg = here.since(self.mark);
            if self.phase == Phase::Down {
                self.down = Some(leg);
                self.begin(Phase::Up, now);
            } else {
                self.up = Some(leg);
                self.phase = Phase::Done;
                return;
            }
        }
        // The payload counts up from the packet's number, so each packet differs.
        let seed = self.sent as u8;
        let ok = match self.phase {
            Phase::Down => backbone.send_bench(Mesh::node_addr(app, 0), seed),
            _ => mesh.send_bench(app, seed),
        };
        if !ok {
            self.phase = Phase::Failed("the far end could not queue a packet");
            return;
        }
        self.sent += 1;
        self.sent_at = now;
    }

    fn begin(&mut self, phase: Phase, now: Instant) {
        self.phase = phase;
        self.sent = 0;
        self.sent_at = now;
    }
}
