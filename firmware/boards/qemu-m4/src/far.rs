//! Both far ends together, and the order in which the board (and the tests) drive them with
//! the application; the [`Meter`] that times the application's calls in the measurement mode.

use firmware::app::App;
use netif::{Duration, Instant};

use crate::backbone::Backbone;
use crate::bench::{Bench, Leg};
use crate::mesh::{Mesh, MeshRadio};

/// Times the application's calls (the measurement mode, [`crate::bench`]): the clock is read
/// before and after each call and the differences are summed. The clock is a wrapping 32-bit
/// counter (the board's free-running timer under QEMU's `-icount`), so each call must take
/// less than one wrap; [`Meter::off`] reads 0, so nothing is counted.
#[derive(Debug, Clone, Copy)]
pub struct Meter {
    clock: fn() -> u32,
    /// Clock ticks inside the timed calls.
    pub busy: u64,
    /// Timed calls; each adds about one [`Meter::calibrate`] figure of the clock's own cost.
    pub calls: u64,
}

impl Meter {
    /// A meter on `clock` (any monotonic unit).
    pub const fn new(clock: fn() -> u32) -> Self {
        Meter {
            clock,
            busy: 0,
            calls: 0,
        }
    }

    /// A meter that counts nothing (the clock reads 0).
    pub const fn off() -> Self {
        Meter::new(|| 0)
    }

    /// Runs `f`, adding its time to [`Meter::busy`].
    pub fn time<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let t0 = (self.clock)();
        let r = f();
        let t1 = (self.clock)();
        self.busy = self.busy.wrapping_add(u64::from(t1.wrapping_sub(t0)));
        self.calls = self.calls.wrapping_add(1);
        r
    }

    /// The clock now (with [`Meter::stop`], for a call that cannot be wrapped in a closure).
    pub fn start(&self) -> u32 {
        (self.clock)()
    }

    /// Adds the time since `t0` (from [`Meter::start`]).
    pub fn stop(&mut self, t0: u32) {
        let t1 = (self.clock)();
        self.busy = self.busy.wrapping_add(u64::from(t1.wrapping_sub(t0)));
        self.calls = self.calls.wrapping_add(1);
    }

    /// What timing an empty call measures, in clock ticks × 1024 (the clock's own cost, to
    /// subtract per timed call): `n` empty calls, each after a delay of `delay(k)`, `k` counting
    /// up, so that a coarse clock's ticks fall at every phase.
    pub fn calibrate(clock: fn() -> u32, n: u32, delay: impl Fn(u32)) -> u64 {
        let mut m = Meter::new(clock);
        for k in 0..n {
            delay(k);
            m.time(|| ());
        }
        m.busy.saturating_mul(1024) / u64::from(n.max(1))
    }
}

/// The mesh nodes and the backbone host, and in the measurement mode the script that sends
/// the measured packets.
pub struct FarEnds {
    /// The mesh side (owns the radio the application drives).
    pub mesh: Mesh,
    /// The backbone side (the application's Ethernet driver).
    pub backbone: Backbone,
    /// The measurement script ([`FarEnds::bench`]), if any.
    pub bench: Option<Bench>,
    /// The application's calls, timed (far-end work they call back into excluded).
    pub meter: Meter,
}

impl FarEnds {
    /// Far ends starting at `now`, cabled to a router whose `eth0` has `router_mac`.
    pub fn new(router_mac: [u8; 6], now: Instant) -> Self {
        FarEnds {
            mesh: Mesh::new(now),
            backbone: Backbone::new(router_mac, now),
            bench: None,
            meter: Meter::off(),
        }
    }

    /// The measurement mode: quiet far ends (one node, which registers; a host that sends no
    /// RA) and a [`Bench`] of `packets` packets each way, the application's calls timed on
    /// `clock`. The application must have a static backbone address in
    /// [`crate::backbone::BACKBONE_PREFIX`] ([`crate::bench::config`]).
    pub fn bench(router_mac: [u8; 6], now: Instant, packets: u32, clock: fn() -> u32) -> Self {
        FarEnds {
            mesh: Mesh::quiet(now),
            backbone: Backbone::quiet(router_mac, clock),
            bench: Some(Bench::new(now, packets)),
            meter: Meter::new(clock),
        }
    }

    /// The radio, for [`App::new`].
    pub fn radio(&mut self) -> &mut MeshRadio {
        self.mesh.radio()
    }

    /// One turn at `now`: the measurement script, radio events and the nodes' frames (each
    /// stamped with its own instant), the host's RA, then the application's poll (Ethernet
    /// input, timers, output), then the radio again for what the poll sent.
    pub fn step(&mut self, now: Instant, app: &mut App<'_>) {
        let total = self.meter_total();
        if let Some(b) = &mut self.bench {
            b.drive(now, app, &mut self.mesh, &mut self.backbone, total);
        }
        self.mesh.pump(now, app, &mut self.meter);
        self.backbone.pump(now);
        let (mesh, backbone) = (&mut self.mesh, &mut self.backbone);
        self.meter
            .time(|| app.poll(now, mesh.radio(), &mut *backbone));
        self.mesh.pump(now, app, &mut self.meter);
    }

    /// What the application's calls took so far: the meter's total less the far-end work they
    /// called back into (the host reading the router's Ethernet frames), and the clock reads
    /// of both.
    pub fn meter_total(&self) -> Leg {
        let far = self.backbone.meter();
        Leg {
            packets: 0,
            busy: self.meter.busy.wrapping_sub(far.busy),
            clock_reads: self.meter.calls.wrapping_add(far.calls),
            frames: 0,
        }
    }

    /// When [`FarEnds::step`] must run next: the application's deadline or a far end's.
    pub fn next_deadline(&self, app: &App<'_>) -> Instant {
        let mut t = self.backbone.next_deadline();
        for d in [
            app.next_deadline(),
            self.mesh.next_deadline(),
            self.bench
                .as_ref()
                .and_then(|b| b.next_deadline(app, &self.mesh, &self.backbone)),
        ]
        .into_iter()
        .flatten()
        {
            t = Some(t.map_or(d, |t| t.min(d)));
        }
        if self.backbone.has_rx() {
            t = Some(t.map_or(app.now(), |t| t.min(app.now())));
        }
        // The application's housekeeping is always due; should nothing be, look again in 1 s.
        t.unwrap_or_else(|| app.now() + Duration::from_secs(1))
    }
}
