//! The scripted far ends against the application, on the host: what the QEMU image runs,
//! minus the MMIO. A failure here is a scenario bug, not an emulator one.

extern crate std;

use std::boxed::Box;

use firmware::app::{App, AppResources};
use firmware::config::Config;
use netif::{Duration, Instant};

use crate::far::FarEnds;
use crate::mesh::{HOP_LIMIT_1_READING, Mesh, NODES};

const EUI64: [u8; 8] = [0x02, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01];

/// Runs `app` with `far` from `t` to `until`, jumping from deadline to deadline (at most 10 ms
/// apart, as the board's timer does).
fn run(app: &mut App<'_>, far: &mut FarEnds, t: &mut Instant, until: Instant) {
    while *t < until {
        far.step(*t, app);
        let next = far.next_deadline(app).min(*t + Duration::from_millis(10));
        *t = next.max(*t + Duration::from_micros(50)).min(until);
    }
}

#[test]
fn nodes_register_send_readings_and_get_time_exceeded() {
    let cfg = Config::default_for(EUI64);
    let mac = cfg.eth_mac;
    let res = Box::leak(Box::new(AppResources::<1600>::new()));
    let mut t = Instant::from_millis(1);
    let mut far = FarEnds::new(mac, t);
    let mut app = App::new(cfg, res, t, far.radio()).unwrap();
    run(&mut app, &mut far, &mut t, Instant::from_secs(30));

    let m = far.mesh.stats();
    let b = far.backbone.stats();
    let s = app.status();
    assert_eq!(s.registered, NODES, "{m:?}");
    assert!(m.registered >= NODES as u32, "{m:?}");
    assert_eq!(m.refused, 0, "{m:?}");
    // Every node's hop-limit-1 reading came back as Time Exceeded, none reached the host.
    assert!(
        m.readings > 4 * NODES as u32 * (HOP_LIMIT_1_READING + 1),
        "{m:?}"
    );
    assert_eq!(m.time_exceeded, NODES as u32, "{m:?}");
    assert_eq!(b.readings, m.readings - NODES as u32, "{m:?} {b:?}");
    assert!(b.na_sent >= 1 && b.ra_sent >= 1, "{b:?}");
    assert_eq!(m.rx_errors, 0, "{m:?}");
    assert_eq!(m.outbox_full, 0, "{m:?}");
    assert_eq!(s.forwarded_up, u64::from(b.readings), "{s:?}");
    assert_eq!(app.stats().rx_no_buffer_wpan, 0);
    assert!(app.pool_accounted());

    // The router pings node 0 (one frame and a fragmented 1000-byte echo); the node answers.
    for (seq, size) in [(1u16, 56u16), (2, 1000)] {
        app.ping_send(t, Mesh::node_addr(&app, 0), None, seq, size)
            .unwrap();
        let until = t + Duration::from_secs(1);
        run(&mut app, &mut far, &mut t, until);
        let r = app.pop_ping().expect("an answer");
        assert!(
            matches!(r, firmware::ping::PingReply::Reply { .. }),
            "{r:?}"
        );
    }
    assert_eq!(far.mesh.stats().echo_replies, 2);
}

/// The measurement mode's script against the application on the host: every packet arrives
/// intact each way, one at a time, with nothing else on the air (the frames are the packets'
/// own, none retried); the meter counts (a clock that counts its own reads).
#[test]
fn bench_forwards_every_packet_both_ways() {
    use core::sync::atomic::{AtomicU32, Ordering};

    use crate::bench::{self, Outcome, WARMUP};
    use crate::far::Meter;

    static READS: AtomicU32 = AtomicU32::new(0);
    fn clock() -> u32 {
        READS.fetch_add(1, Ordering::Relaxed)
    }
    // An empty timed call reads the clock twice, one tick apart.
    assert_eq!(Meter::calibrate(clock, 100, |_| ()), 1024);

    const PACKETS: u32 = 5;
    let cfg = bench::config(Config::default_for(EUI64));
    let mac = cfg.eth_mac;
    let res = Box::leak(Box::new(AppResources::<1600>::new()));
    let mut t = Instant::from_millis(1);
    let mut far = FarEnds::bench(mac, t, PACKETS, clock);
    let mut app = App::new(cfg, res, t, far.radio()).unwrap();
    run(&mut app, &mut far, &mut t, Instant::from_secs(30));

    let outcome = far.bench.as_ref().and_then(|b| b.outcome());
    let Some(Outcome::Done { down, up }) = outcome else {
        panic!(
            "{outcome:?} {:?} {:?}",
            far.mesh.stats(),
            far.backbone.stats()
        );
    };
    let (m, b) = (far.mesh.stats(), far.backbone.stats());
    let n = WARMUP + PACKETS;
    assert_eq!((m.bench_rx, m.bench_sent), (n, n), "{m:?}");
    assert_eq!((b.bench_rx, b.bench_sent), (n, n), "{b:?}");
    assert_eq!((down.packets, up.packets), (PACKETS, PACKETS));
    // 1280 bytes in 104-byte frames: the router's and the node's alike.
    assert_eq!(down.frames, 14 * PACKETS, "{down:?}");
    assert_eq!(up.frames, 14 * PACKETS, "{up:?}");
    // Quiet far ends: node 0 alone registered, no RA, no reading.
    assert_eq!(app.status().registered, 1);
    assert_eq!((m.readings, b.ra_sent, b.readings), (0, 0, 0));
    let s = app.status();
    assert_eq!(s.forwarded_down, u64::from(n), "{s:?}");
    assert_eq!(s.forwarded_up, u64::from(n), "{s:?}");
    assert_eq!(app.stats().rx_no_buffer_wpan, 0);
    assert!(app.pool_accounted());
    // With a clock that ticks once per read, a timed call counts at least one tick; every
    // frame took at least one call (its radio event).
    for leg in [down, up] {
        assert!(leg.clock_reads > u64::from(PACKETS) * 14, "{leg:?}");
        assert!(leg.busy > 0, "{leg:?}");
    }
}
