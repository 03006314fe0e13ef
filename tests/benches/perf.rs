//! sixgate against smoltcp 0.14, measured side by side in one run (criterion; time per
//! datagram or packet). `cargo bench -p tests`; figures and their discussion:
//! `docs/performance.md`.
//!
//! Groups:
//! - `udp1232/full`, `udp1232/full-same-fcs`, `udp1232/hw-fcs`, `udp1232/bare`: one 1232-byte
//!   UDP payload from one 6LoWPAN endpoint to another over an in-memory 802.15.4 link, sender
//!   and receiver, `ours` (sixlo + l2-15_4's frame code) and `smoltcp` (two
//!   `iface::Interface`s with UDP sockets). `full`: UDP checksum computed and verified, FCS
//!   computed and checked in software; ours with `l2_15_4::frame::fcs` (slice-by-16), smoltcp
//!   (which has no FCS code) in its in-memory device, as a driver for a radio without hardware
//!   FCS would, with the `crc` crate's default one-table CRC. `full-same-fcs`: the same, with
//!   smoltcp's device running our FCS code, so only the stacks differ. `hw-fcs`: UDP checksum,
//!   the radio does the FCS (nRF52840). `bare`: neither. What each side does in detail:
//!   `tests::endpoint`'s documentation. 12 frames of at most 127 bytes on both sides (15-byte
//!   MAC header: short source, extended destination, because smoltcp only learns 8-byte
//!   link-layer addresses).
//! - `fcs12`: computing and checking the FCS of those 12 frames (the difference between
//!   `full` and `hw-fcs`), with l2-15_4's CRC (the `crc` crate's 16-table, slice-by-16
//!   implementation on hosted targets) and with the `crc` crate's default one-table,
//!   byte-at-a-time implementation of the same CRC-16/KERMIT (smoltcp's device in `full`).
//! - `forward1280/eth-to-wpan`, `forward1280/wpan-to-eth`: the border router
//!   (`firmware::app::App`, soft-MAC with CSMA/CA, ACKs and FCS, virtual time) forwarding one
//!   1280-byte packet from a backbone host to a mesh node (14 frames), and one from the node
//!   (14 frames in, acknowledged) to the host; baselines: `smoltcp wire` (smoltcp's codecs
//!   doing the least a stateless forwarder does with the same packets: parse, compress or
//!   decompress, fragment or gather, MAC header, FCS; see `tests::router::WireBaseline`) and
//!   `memcpy` (copying the 1280-byte packet once). What the router does per packet:
//!   `tests::router`'s documentation.
//! - `scale/forward_eth_to_wpan/{8,64,256}`: the `forward1280/eth-to-wpan` path with 8, 64 and
//!   256 (`firmware::registry::DEFAULT_REGISTRATIONS`, a full table) mesh nodes registered
//!   through NS + ARO (`Router::with_registrations`), forwarding to the last node registered:
//!   how the cost grows with the registration table.
//!
//! Every path is run and its output bytes checked once before it is timed and again after
//! (the receiver got the payload unchanged; the forwarded frames reassemble to the sent
//! packet; the Ethernet frame carries it), so a broken path cannot produce a figure.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use firmware::app::AppResources;
use l2_15_4::frame::fcs;
use tests::Air;
use tests::endpoint::{self, DriverFcs, OursReceiver, OursSender, SmolReceiver, SmolSender, Work};
use tests::router::{PACKET_LEN, Router, WireBaseline};

fn udp(c: &mut Criterion) {
    let payload = endpoint::payload();
    for work in Work::ALL {
        let checked = endpoint::check(work, &payload)
            .unwrap_or_else(|e| panic!("{}: a path is broken: {e}", work.name()));
        if work == Work::FULL {
            let (o, s) = endpoint::frame_lengths(work, &payload).expect("frame lengths");
            println!(
                "udp1232: ours {} frames {o:?}; smoltcp {} frames {s:?}; smoltcp verifies \
                 the UDP checksum on receive: {}",
                checked.ours_frames, checked.smoltcp_frames, checked.smoltcp_verifies_udp_checksum
            );
        }
        let mut air = Air::new(endpoint::MAX_FRAMES);
        let mut out = vec![0u8; 2048];
        let mut os = OursSender::new(work);
        let mut or = OursReceiver::new(work);
        let mut ss = SmolSender::new(work, &payload).expect("smoltcp sender");
        let mut sr = SmolReceiver::new(work).expect("smoltcp receiver");

        let mut g = c.benchmark_group(format!("udp1232/{}", work.name()));
        g.throughput(Throughput::Elements(1));
        g.bench_function("ours", |b| {
            b.iter(|| {
                os.send(black_box(&payload), &mut air)
                    .and_then(|_| or.receive(&air, black_box(&mut out)))
                    .expect("ours delivers")
            })
        });
        // One more pass outside the timer, so the check holds when a filter skipped the bench.
        out.fill(0);
        os.send(&payload, &mut air)
            .and_then(|_| or.receive(&air, &mut out))
            .expect("ours delivers");
        assert!(out[..payload.len()] == payload[..], "ours: payload differs");
        out.fill(0);
        g.bench_function("smoltcp", |b| {
            b.iter(|| {
                ss.send(black_box(&payload), &mut air)
                    .and_then(|_| sr.receive(&air, black_box(&mut out)))
                    .expect("smoltcp delivers")
            })
        });
        out.fill(0);
        ss.send(&payload, &mut air)
            .and_then(|_| sr.receive(&air, &mut out))
            .expect("smoltcp delivers");
        assert!(
            out[..payload.len()] == payload[..],
            "smoltcp: payload differs"
        );
        g.finish();
    }
}

fn fcs12(c: &mut Criterion) {
    let payload = endpoint::payload();
    let mut air = Air::new(endpoint::MAX_FRAMES);
    OursSender::new(Work::FULL)
        .send(&payload, &mut air)
        .expect("ours sends");
    let mut frames: Vec<Vec<u8>> = air.frames().map(<[u8]>::to_vec).collect();
    for f in &frames {
        assert!(fcs::verify(f), "our frame has a bad FCS");
        assert!(DriverFcs::CrcDefault.verify(f), "same CRC");
    }
    let mut g = c.benchmark_group("fcs12");
    g.throughput(Throughput::Elements(1));
    for (name, code) in [
        ("l2-15_4 fcs (crc Table<16>)", DriverFcs::Ours),
        ("crc default (Table<1>)", DriverFcs::CrcDefault),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut ok = true;
                for f in frames.iter_mut() {
                    code.append(black_box(&mut f[..]));
                    ok &= code.verify(black_box(&f[..]));
                }
                assert!(ok)
            })
        });
    }
    g.finish();
}

fn forward(c: &mut Criterion) {
    let mut res = Box::new(AppResources::new());
    let mut r = Router::new(&mut res).expect("the border router starts");
    let (down_frames, up_len) = r.check().expect("the border router forwards both ways");
    let mut base = WireBaseline::new(&r);
    let base_frames = base.check(&r).expect("the baseline forwards both ways");
    println!(
        "forward1280: router {down_frames} frames to the node, {} from it, {up_len}-byte \
         Ethernet frame; smoltcp wire baseline {base_frames} frames to the node",
        r.up_frames().len()
    );
    let packet = r.packets().0.to_vec();
    let mut copy = vec![0u8; PACKET_LEN];
    let mut air = Air::new(32);
    let mut out = vec![0u8; 14 + PACKET_LEN];

    let mut g = c.benchmark_group("forward1280/eth-to-wpan");
    g.throughput(Throughput::Elements(1));
    g.bench_function("border router (App)", |b| {
        b.iter(|| r.forward_down().expect("the router forwards down"))
    });
    g.bench_function("smoltcp wire", |b| {
        b.iter(|| {
            base.down(black_box(r.down_frame()), &mut air)
                .expect("the baseline forwards down")
        })
    });
    g.bench_function("memcpy", |b| {
        b.iter(|| copy.copy_from_slice(black_box(&packet)))
    });
    g.finish();

    let mut g = c.benchmark_group("forward1280/wpan-to-eth");
    g.throughput(Throughput::Elements(1));
    g.bench_function("border router (App)", |b| {
        b.iter(|| r.forward_up().expect("the router forwards up"))
    });
    g.bench_function("smoltcp wire", |b| {
        b.iter(|| {
            base.up(black_box(r.up_frames()), &mut out)
                .expect("the baseline forwards up")
        })
    });
    g.bench_function("memcpy", |b| {
        b.iter(|| copy.copy_from_slice(black_box(&packet)))
    });
    g.finish();

    // Still right after hours of virtual time (timers, NUD probes answered).
    r.check()
        .expect("the border router still forwards both ways");
    base.check(&r)
        .expect("the baseline still forwards both ways");
    println!(
        "forward1280: {:.0} s of virtual time, {} neighbor solicitations answered",
        r.now().as_micros() as f64 / 1e6,
        r.ns_answered()
    );
}

/// Registration-table sizes of the `scale` group.
const SCALE: [u16; 3] = [8, 64, 256];

fn scale(c: &mut Criterion) {
    assert_eq!(
        usize::from(SCALE[2]),
        firmware::registry::DEFAULT_REGISTRATIONS,
        "the largest size fills the table"
    );
    let mut g = c.benchmark_group("scale/forward_eth_to_wpan");
    g.throughput(Throughput::Elements(1));
    for n in SCALE {
        let mut res = Box::new(AppResources::new());
        let mut r = Router::with_registrations(&mut res, n).expect("the nodes register");
        let (frames, _) = r
            .check()
            .expect("the border router forwards to the last node registered");
        assert_eq!(r.table_len(), usize::from(n), "table entries");
        println!(
            "scale: {n} registered, {frames} frames to node {:02x?} (the last registered)",
            r.node()
        );
        g.bench_function(n.to_string(), |b| {
            b.iter(|| r.forward_down().expect("the router forwards down"))
        });
        // Still the same table, still the right node, after the run's virtual time.
        r.check()
            .expect("the border router still forwards to the last node registered");
        assert_eq!(r.table_len(), usize::from(n), "table entries after the run");
        println!(
            "scale {n}: {:.0} s of virtual time, {} entries",
            r.now().as_micros() as f64 / 1e6,
            r.table_len()
        );
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = udp, fcs12, forward, scale
}
criterion_main!(benches);
