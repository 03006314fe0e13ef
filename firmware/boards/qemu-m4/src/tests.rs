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
