//! The management server driven with bytes, in simulated time, against the border router of a
//! seeded simulated mesh: handshake, every counter page, answers to unknown, malformed and
//! mismatched requests (never silence), frame corruption counted and resynchronised, device
//! ping to a mesh node, energy scan, and capture streaming with a small transmit buffer whose
//! drops are counted and reported.

use firmware::mgmt::{Action, MAX_COUNTERS, MgmtServer};
use mgmt::{
    ErrorCode, FrameDecoder, Header, Kind, MAX_FRAME, Message, PingOutcome, Request, Response,
};
use netif::{Duration, Instant};
use sixgate_sim::simnet::{BrNode, HOST_ADDR, World, WorldOpts};

fn secs(s: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(s)
}

fn frame(id: u16, r: &Request<'_>) -> Vec<u8> {
    let mut out = vec![0u8; MAX_FRAME];
    let n = mgmt::encode(Header::new(Kind::Request, id), r, &mut out).unwrap();
    out.truncate(n);
    out
}

/// What came back: (header, message debug text) plus owned copies of interesting parts.
#[derive(Debug, Default)]
struct Host {
    dec: FrameDecoder,
    got: Vec<(Header, String)>,
    captures: Vec<(bool, [u32; 2], usize)>,
    counters: Vec<(u16, u16, usize)>,
    values: Vec<u64>,
    pings: Vec<PingOutcome>,
}

impl Host {
    fn take(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let (n, f) = self.dec.feed(rest);
            rest = &rest[n..];
            let Some(Ok(p)) = f else { continue };
            let (h, m) = mgmt::decode(p).unwrap();
            let m = m.unwrap();
            match &m {
                Message::Capture(c) => self.captures.push((c.tx, c.dropped, c.data.len())),
                Message::Response(Response::Stats {
                    total,
                    start,
                    list,
                    values,
                }) => {
                    assert_eq!(*list, mgmt::counters::FINGERPRINT);
                    self.counters.push((*total, *start, values.len()));
                    self.values.extend_from_slice(values);
                }
                Message::Response(Response::Ping(p)) => self.pings.push(*p),
                _ => {}
            }
            self.got.push((h, format!("{m:?}")));
        }
    }
    fn response(&self, id: u16) -> Option<&str> {
        self.got
            .iter()
            .find(|(h, _)| h.kind == Kind::Response && h.id == id)
            .map(|(_, s)| s.as_str())
    }
}

/// Feeds `bytes` to the server inside the border router's node and collects its output.
fn exchange<const TX: usize>(
    w: &mut World,
    s: &mut MgmtServer<TX>,
    host: &mut Host,
    bytes: &[u8],
) -> Option<Action> {
    let br = w.br;
    let mut out = Vec::new();
    let action = w
        .sim
        .with_node(br, |n: &mut BrNode, now, radio| {
            let app = n.app_mut().unwrap();
            s.receive(bytes, app, now, radio);
            s.poll(app, now, radio);
            out.extend_from_slice(s.pending());
            let k = s.pending().len();
            s.consumed(k);
            s.take_action()
        })
        .unwrap();
    host.take(&out);
    action
}

/// Runs the world for `d`, servicing the server every 10 ms.
fn run<const TX: usize>(w: &mut World, s: &mut MgmtServer<TX>, host: &mut Host, d: Duration) {
    let end = w.sim.now() + d;
    while w.sim.now() < end {
        let t = (w.sim.now() + Duration::from_millis(10)).min(end);
        w.sim.run_until(t);
        exchange(w, s, host, &[]);
    }
}

#[test]
fn requests_answers_and_errors() {
    let mut w = World::build(&WorldOpts::new()).unwrap();
    w.sim.run_until(secs(30));
    let mut s: Box<MgmtServer<8192>> = Box::new(MgmtServer::new("test"));
    let mut h = Host::default();

    // Handshake.
    let hello = frame(
        1,
        &Request::Hello {
            version: mgmt::PROTOCOL_VERSION,
            schema: mgmt::schema_fingerprint(),
            client: "test",
        },
    );
    exchange(&mut w, &mut s, &mut h, &hello);
    let r = h.response(1).unwrap();
    assert!(r.starts_with("Response(Hello"), "{r}");
    assert!(
        r.contains(&format!("schema: {}", mgmt::schema_fingerprint())),
        "{r}"
    );

    // Every counter page: totals agree, pages tile, all fit the reset baselines.
    h.values.clear();
    let mut start = 0u16;
    let mut id = 10;
    loop {
        exchange(
            &mut w,
            &mut s,
            &mut h,
            &frame(id, &Request::Stats { start }),
        );
        let (total, st, n) = *h.counters.last().unwrap();
        assert_eq!(st, start);
        start += n as u16;
        id += 1;
        if usize::from(start) >= usize::from(total) {
            assert_eq!(start, total);
            // Every counter has a reset baseline but the gauges at the end of the list.
            assert!(
                usize::from(total) <= MAX_COUNTERS + mgmt::counters::GAUGES_AT_END,
                "{total} counters, {MAX_COUNTERS} resettable"
            );
            assert!(total > 150, "every layer's counters: {total}");
            break;
        }
    }
    // The values named with the host's list: the server counted the requests before these
    // pages, and the mesh's traffic reached the MAC.
    let mut names = Vec::new();
    mgmt::counters::for_each_name(&mut |layer, iface, name| names.push((layer, iface, name)));
    assert_eq!(names.len(), h.values.len());
    let value = |layer, iface, name| {
        let i = names
            .iter()
            .position(|&n| n == (layer, iface, name))
            .unwrap_or_else(|| panic!("{name} not listed"));
        h.values[i]
    };
    assert!(value(mgmt::Layer::Device, None, "mgmt_requests") >= 2);
    assert!(value(mgmt::Layer::Mac, Some("wpan0"), "rx_frames") > 0);
    assert_eq!(value(mgmt::Layer::Device, None, "mgmt_frame_crc_errors"), 0);

    // An unknown request variant: an error with its id, not silence.
    let p = [mgmt::PROTOCOL_VERSION, 0, 0x34, 0x12, 120];
    let mut enc = vec![0u8; 64];
    let n = mgmt::encode_frame(&p, &mut enc).unwrap();
    enc.truncate(n);
    exchange(&mut w, &mut s, &mut h, &enc);
    let r = h.response(0x1234).unwrap();
    assert!(r.contains("UnknownRequest"), "{r}");

    // A known request with bytes that do not decode: Malformed.
    let p = [mgmt::PROTOCOL_VERSION, 0, 0x35, 0x12, 3, 0xff];
    let mut enc = vec![0u8; 64];
    let n = mgmt::encode_frame(&p, &mut enc).unwrap();
    exchange(&mut w, &mut s, &mut h, &enc[..n]);
    assert!(h.response(0x1235).unwrap().contains("Malformed"));

    // Another protocol version: VersionMismatch.
    let mut out = vec![0u8; MAX_FRAME];
    let n = mgmt::encode(
        Header {
            version: 7,
            kind: Kind::Request,
            id: 77,
        },
        &Request::Info,
        &mut out,
    )
    .unwrap();
    exchange(&mut w, &mut s, &mut h, &out[..n]);
    assert!(h.response(77).unwrap().contains("VersionMismatch"));

    // Corrupted and truncated frames are counted; the next good one is answered.
    let good = frame(80, &Request::Info);
    let mut bad = good.clone();
    bad[3] ^= 0x40;
    let mut stream = bad;
    stream.extend_from_slice(&good[..good.len() / 2]);
    stream.push(0);
    stream.extend_from_slice(&good);
    exchange(&mut w, &mut s, &mut h, &stream);
    assert!(h.response(80).unwrap().starts_with("Response(Info"));
    assert!(s.frame_stats().discarded() >= 2, "{:?}", s.frame_stats());

    // Errors carry codes.
    exchange(
        &mut w,
        &mut s,
        &mut h,
        &frame(
            90,
            &Request::IfaceAdmin {
                iface: "nope",
                up: true,
            },
        ),
    );
    assert!(
        h.response(90)
            .unwrap()
            .contains(&format!("{:?}", ErrorCode::NoSuchIface))
    );

    // Reboot and config actions go to the shell.
    assert_eq!(
        exchange(&mut w, &mut s, &mut h, &frame(91, &Request::ConfigSave)),
        Some(Action::SaveConfig)
    );
    // (The shell reports the write; until then no other request is taken.)
    s.action_done(None);
    assert_eq!(
        exchange(&mut w, &mut s, &mut h, &frame(92, &Request::Reboot)),
        Some(Action::Reboot)
    );
    assert!(h.response(92).unwrap().contains("Ok"));
}

#[test]
fn device_ping_scan_and_capture_flow_control() {
    let mut w = World::build(&WorldOpts::new()).unwrap();
    w.sim.run_until(secs(60));
    // A small transmit buffer: room for responses plus about one capture record.
    let mut s: Box<MgmtServer<4096>> = Box::new(MgmtServer::new("test"));
    let mut h = Host::default();
    let node = w
        .node(0)
        .unwrap()
        .addresses()
        .into_iter()
        .find(|a| !a.is_unicast_link_local())
        .unwrap();

    // Ping the backbone host and a mesh node (1200 bytes, fragmented both ways).
    for (id, dst, size) in [(1, HOST_ADDR, 56), (2, node, 1200), (3, node, 1200)] {
        exchange(
            &mut w,
            &mut s,
            &mut h,
            &frame(
                id,
                &Request::Ping {
                    dst: dst.octets(),
                    size,
                    seq: id,
                    timeout_ms: 2000,
                    iface: None,
                },
            ),
        );
        run(&mut w, &mut s, &mut h, Duration::from_millis(2100));
        assert!(h.response(id).is_some(), "ping {id} answered");
    }
    assert!(
        matches!(h.pings[0], PingOutcome::Reply { size: 56, .. }),
        "{:?}",
        h.pings
    );
    assert!(
        h.pings[1..]
            .iter()
            .any(|p| matches!(p, PingOutcome::Reply { size: 1200, .. })),
        "{:?}",
        h.pings
    );
    // A second ping while one is in flight is refused as busy.
    let p = |id, seq| {
        frame(
            id,
            &Request::Ping {
                dst: HOST_ADDR.octets(),
                size: 8,
                seq,
                timeout_ms: 1000,
                iface: None,
            },
        )
    };
    let mut two = p(10, 10);
    two.extend_from_slice(&p(11, 11));
    exchange(&mut w, &mut s, &mut h, &two);
    assert!(h.response(11).unwrap().contains("Busy"));
    run(&mut w, &mut s, &mut h, Duration::from_millis(1100));
    assert!(h.response(10).is_some());

    // Energy scan of three channels, then traffic continues on the configured channel.
    exchange(
        &mut w,
        &mut s,
        &mut h,
        &frame(
            20,
            &Request::ScanEnergy {
                channels: (1 << 11) | (1 << 12) | (1 << 26),
                duration_ms: 5,
            },
        ),
    );
    run(&mut w, &mut s, &mut h, Duration::from_secs(2));
    let r = h.response(20).unwrap();
    assert!(r.starts_with("Response(Energy"), "{r}");
    assert_eq!(r.matches("channel:").count(), 3, "{r}");

    // Capture: streamed while the host keeps reading; drops counted and reported when not.
    exchange(
        &mut w,
        &mut s,
        &mut h,
        &frame(
            30,
            &Request::CaptureStart {
                ifaces: 3,
                promiscuous: false,
            },
        ),
    );
    assert!(h.response(30).unwrap().contains("Ok"));
    run(&mut w, &mut s, &mut h, Duration::from_secs(20));
    assert!(
        h.captures.iter().all(|c| c.1 == [0, 0]),
        "no drops while drained"
    );
    // Now the host stops reading for 30 s: the device's ring fills, and when the line
    // is read again the records that did not fit are counted and reported.
    let t = w.sim.now() + Duration::from_secs(30);
    w.sim.run_until(t);
    exchange(&mut w, &mut s, &mut h, &[]);
    run(&mut w, &mut s, &mut h, Duration::from_secs(2));
    let last = h.captures.last().unwrap().1;
    assert!(last[0] > 0, "wpan0 drops reported in the records: {last:?}");
    exchange(&mut w, &mut s, &mut h, &frame(31, &Request::CaptureStop));
    let r = h.response(31).unwrap().to_string();
    assert!(r.starts_with("Response(CaptureStats"), "{r}");
    assert!(!r.contains("dropped: [0, 0]"), "{r}");
    assert!(h.captures.len() > 20, "{} records", h.captures.len());
    assert!(h.captures.iter().any(|c| c.0), "transmitted frames too");
    // After stopping, nothing more is streamed.
    let before = h.captures.len();
    run(&mut w, &mut s, &mut h, Duration::from_secs(5));
    assert_eq!(h.captures.len(), before);
    assert!(s.stats().capture_sent as usize >= before);
}

/// The board's configuration: a transmit buffer of exactly one frame, with capture and events
/// streaming into a line slower than the traffic (500 bytes/s against readings every second
/// from 8 nodes, captured on both interfaces). A burst of requests sent in one write is
/// answered completely and in order, the shell offering bytes only when the server wants
/// them (as the board does): each request waits until its answer has room, and the streams
/// yield to it instead of refilling the buffer forever.
#[test]
fn one_frame_transmit_buffer_answers_every_request() {
    let mut opts = WorldOpts::new();
    opts.reading_period = Duration::from_secs(1);
    let mut w = World::build(&opts).unwrap();
    w.sim.run_until(secs(30));
    let mut s: Box<MgmtServer<MAX_FRAME>> = Box::new(MgmtServer::new("test"));
    let mut h = Host::default();
    let mut line_in: Vec<u8> = Vec::new();
    let mut service = |w: &mut World, s: &mut MgmtServer<MAX_FRAME>, h: &mut Host, add: &[u8]| {
        line_in.extend_from_slice(add);
        let br = w.br;
        let mut out = Vec::new();
        w.sim
            .with_node(br, |n: &mut BrNode, now, radio| {
                let app = n.app_mut().unwrap();
                // As the board does: offer the line's bytes only when the server wants them.
                let taken = if s.wants_input() {
                    s.receive(&line_in, app, now, radio)
                } else {
                    0
                };
                line_in.drain(..taken);
                s.poll(app, now, radio);
                let k = s.pending().len().min(5);
                out.extend_from_slice(&s.pending()[..k]);
                s.consumed(k);
            })
            .unwrap();
        h.take(&out);
    };
    let mut burst = frame(
        1,
        &Request::Hello {
            version: mgmt::PROTOCOL_VERSION,
            schema: mgmt::schema_fingerprint(),
            client: "test",
        },
    );
    burst.extend(frame(
        2,
        &Request::CaptureStart {
            ifaces: 3,
            promiscuous: false,
        },
    ));
    burst.extend(frame(
        3,
        &Request::Subscribe {
            events: true,
            logs: false,
        },
    ));
    service(&mut w, &mut s, &mut h, &burst);
    // Let the capture fill the line, then send 40 requests at once, the counter pages among
    // them (the largest answers).
    let mut t = w.sim.now();
    for _ in 0..200 {
        t += Duration::from_millis(10);
        w.sim.run_until(t);
        service(&mut w, &mut s, &mut h, &[]);
    }
    let mut burst = Vec::new();
    for id in 10..50u16 {
        let r = match id % 4 {
            0 => Request::Stats { start: 0 },
            1 => Request::Info,
            2 => Request::NodesList { start: 0 },
            _ => Request::Stats { start: 64 },
        };
        burst.extend(frame(id, &r));
    }
    service(&mut w, &mut s, &mut h, &burst);
    for _ in 0..12000 {
        t += Duration::from_millis(10);
        w.sim.run_until(t);
        service(&mut w, &mut s, &mut h, &[]);
    }
    let answered: Vec<u16> = h
        .got
        .iter()
        .filter(|(hd, _)| hd.kind == Kind::Response)
        .map(|(hd, _)| hd.id)
        .collect();
    let want: Vec<u16> = [1, 2, 3].into_iter().chain(10..50).collect();
    assert_eq!(answered, want, "every request answered once, in order");
    for id in 10..50u16 {
        assert!(
            !h.response(id).unwrap().contains("Error"),
            "{id}: {}",
            h.response(id).unwrap()
        );
    }
    assert_eq!(s.stats().responses_lost, 0);
    assert!(h.captures.len() > 50, "{} records", h.captures.len());
    // The line could not carry every frame: the ring's drops reach the host in the records.
    let last = h.captures.last().unwrap().1;
    assert!(last[0] + last[1] > 0, "drops reported: {last:?}");
}

/// Carries out what the server asked the shell for, as `sixgate-sim` does, and collects the
/// answer that follows.
fn carry_out<const TX: usize>(
    w: &mut World,
    s: &mut MgmtServer<TX>,
    host: &mut Host,
    action: Option<Action>,
) {
    let br = w.br;
    let mut out = Vec::new();
    w.sim
        .with_node(br, |n: &mut BrNode, now, radio| {
            match action {
                Some(Action::SaveConfig) => s.action_done(n.save_config().err().as_deref()),
                Some(Action::ResetConfig) => s.action_done(n.erase_config().err().as_deref()),
                _ => {}
            }
            let app = n.app_mut().unwrap();
            s.poll(app, now, radio);
            out.extend_from_slice(s.pending());
            let k = s.pending().len();
            s.consumed(k);
        })
        .unwrap();
    host.take(&out);
}

fn hello(id: u16) -> Vec<u8> {
    frame(
        id,
        &Request::Hello {
            version: mgmt::PROTOCOL_VERSION,
            schema: mgmt::schema_fingerprint(),
            client: "test",
        },
    )
}

/// Issue 19, finding 9a: a configuration write that fails is answered with its failure (not
/// `Ok` before the write), and the change stays marked unsaved until a write succeeds.
#[test]
fn failed_config_save_is_reported_and_the_change_stays_unsaved() {
    let dir = std::env::temp_dir().join(format!("sixgate-mgmt-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.bin");
    let mut opts = WorldOpts::new();
    opts.config_file = Some(path.clone());
    let mut w = World::build(&opts).unwrap();
    w.sim.run_until(secs(5));
    assert!(path.exists(), "the first boot stored its configuration");
    // The store breaks: a directory sits where the write's temporary file goes (this holds
    // for root too, unlike a read-only mode).
    let tmp = dir.join("config.bin.tmp");
    std::fs::create_dir(&tmp).unwrap();

    let mut s: Box<MgmtServer<8192>> = Box::new(MgmtServer::new("test"));
    let mut h = Host::default();
    exchange(&mut w, &mut s, &mut h, &hello(1));
    let set = Request::IfaceSet {
        iface: "wpan0",
        setting: mgmt::IfaceSetting::Channel(20),
    };
    exchange(&mut w, &mut s, &mut h, &frame(2, &set));
    assert_eq!(h.response(2), Some("Response(Ok)"));
    // The shell's automatic save of the change fails: the change is still unsaved.
    run(&mut w, &mut s, &mut h, Duration::from_secs(1));
    exchange(&mut w, &mut s, &mut h, &frame(3, &Request::ConfigShow));
    let show = h.response(3).unwrap();
    assert!(show.contains("unsaved: true"), "{show}");

    // An explicit save fails too, and says so after the write.
    let a = exchange(&mut w, &mut s, &mut h, &frame(4, &Request::ConfigSave));
    assert_eq!(a, Some(Action::SaveConfig));
    carry_out(&mut w, &mut s, &mut h, a);
    let r = h.response(4).unwrap();
    assert!(
        r.contains("Internal") && r.contains("Is a directory"),
        "{r}"
    );
    assert_eq!(s.stats().store_failures, 1);
    exchange(&mut w, &mut s, &mut h, &frame(5, &Request::ConfigShow));
    let show = h.response(5).unwrap();
    assert!(show.contains("unsaved: true"), "{show}");

    // Repaired, the next save goes through, is answered Ok, and nothing is left unsaved.
    std::fs::remove_dir(&tmp).unwrap();
    let a = exchange(&mut w, &mut s, &mut h, &frame(6, &Request::ConfigSave));
    carry_out(&mut w, &mut s, &mut h, a);
    assert_eq!(h.response(6), Some("Response(Ok)"));
    exchange(&mut w, &mut s, &mut h, &frame(7, &Request::ConfigShow));
    let show = h.response(7).unwrap();
    assert!(show.contains("unsaved: false"), "{show}");
    let mut store = sixgate_sim::file_store::FileStore::new(path);
    let (stored, _) = firmware::store::load_config(&mut store, opts.config.clone());
    assert_eq!(stored.channel, 20, "the change reached the store");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 19, finding 9b: a `Hello` from another client while the session still streams (or
/// waits for a ping or scan) tells the old session, before the new one's answer, that it
/// ended: a `Response::Error` with id 0 (no request has id 0; `Error` is frozen, so hosts of
/// every version decode it), counted in `mgmt_sessions_taken_over`.
#[test]
fn second_client_hello_tells_the_old_session_it_ended() {
    let mut w = World::build(&WorldOpts::new()).unwrap();
    w.sim.run_until(secs(30));
    let mut s: Box<MgmtServer<8192>> = Box::new(MgmtServer::new("test"));
    let mut h = Host::default();
    exchange(&mut w, &mut s, &mut h, &hello(1));
    let sub = Request::Subscribe {
        events: true,
        logs: false,
    };
    exchange(&mut w, &mut s, &mut h, &frame(2, &sub));
    assert_eq!(h.response(2), Some("Response(Ok)"));
    // Nothing told yet: a session without anything running is not "taken over".
    assert!(
        h.got
            .iter()
            .all(|(hd, _)| hd.id != 0 || hd.kind != Kind::Response)
    );

    // Another client shakes hands.
    let before = h.got.len();
    exchange(&mut w, &mut s, &mut h, &hello(1));
    let answers: Vec<&(Header, String)> = h.got[before..]
        .iter()
        .filter(|(hd, _)| hd.kind == Kind::Response)
        .collect();
    assert_eq!(answers.len(), 2, "{:?}", &h.got[before..]);
    let (notice_h, notice) = answers[0];
    assert_eq!(notice_h.id, 0, "{notice}");
    assert!(
        notice.contains("Busy") && notice.contains(firmware::mgmt::TAKEN_OVER),
        "{notice}"
    );
    assert!(
        answers[1].1.starts_with("Response(Hello"),
        "{}",
        answers[1].1
    );
    assert_eq!(s.stats().sessions_taken_over, 1);

    // The new session has nothing running: the next Hello (the same client's next command)
    // ends it without a notice.
    let before = h.got.len();
    exchange(&mut w, &mut s, &mut h, &hello(1));
    let ids: Vec<u16> = h.got[before..].iter().map(|(hd, _)| hd.id).collect();
    assert_eq!(ids, [1]);
    assert_eq!(s.stats().sessions_taken_over, 1);
}

/// A static route that would take a connected prefix onto another interface (the mesh prefix via
/// eth0) is refused by the routing table; the answer says it is a bad argument, not a full table.
#[test]
fn route_for_the_mesh_prefix_via_eth0_is_an_invalid_argument() {
    let mut w = World::build(&WorldOpts::new()).unwrap();
    w.sim.run_until(secs(5));
    let mut s: Box<MgmtServer<8192>> = Box::new(MgmtServer::new("test"));
    let mut h = Host::default();
    exchange(&mut w, &mut s, &mut h, &hello(1));
    let mesh: std::net::Ipv6Addr = "2001:db8:1::".parse().unwrap();
    let add = Request::RouteAdd {
        prefix: mesh.octets(),
        len: 64,
        iface: "eth0",
        via: None,
        metric: 1,
    };
    exchange(&mut w, &mut s, &mut h, &frame(2, &add));
    let r = h.response(2).unwrap();
    assert!(r.contains("InvalidArgument"), "{r}");
    assert!(r.contains("connected on another interface"), "{r}");
}

/// `config show` says whether routes and addresses are saved with the configuration: not by
/// default (the nRF52840 image), where a route change then does not claim to be unsaved; yes
/// where the board saves them (`sixgate-sim`: `set_routes_saved`), where it does.
#[test]
fn config_show_says_whether_routes_are_saved() {
    for saved in [false, true] {
        let mut w = World::build(&WorldOpts::new()).unwrap();
        w.sim.run_until(secs(5));
        let mut s: Box<MgmtServer<8192>> = Box::new(MgmtServer::new("test"));
        s.set_routes_saved(saved);
        let mut h = Host::default();
        exchange(&mut w, &mut s, &mut h, &hello(1));
        exchange(&mut w, &mut s, &mut h, &frame(2, &Request::ConfigShow));
        let r = h.response(2).unwrap();
        assert!(r.contains(&format!("routes_saved: {saved}")), "{r}");
        let dst: std::net::Ipv6Addr = "2001:db8:99::".parse().unwrap();
        let add = Request::RouteAdd {
            prefix: dst.octets(),
            len: 48,
            iface: "eth0",
            via: None,
            metric: 1,
        };
        exchange(&mut w, &mut s, &mut h, &frame(3, &add));
        assert!(h.response(3).unwrap().contains("Ok"), "{:?}", h.response(3));
        assert_eq!(
            w.br().unwrap().app().unwrap().config_dirty(),
            saved,
            "a route change is unsaved only where routes are saved"
        );
    }
}
