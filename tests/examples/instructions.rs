//! Runs one benchmarked path a given number of times, for instruction counting under
//! callgrind (`scripts/instructions.sh` runs it twice with different counts and subtracts, so
//! the setup cancels out).
//!
//! ```text
//! instructions MODE ITERATIONS
//! ```
//!
//! Modes (see `tests::endpoint` and `tests::router` for what each side does):
//! - `udp-ours-WORK`, `udp-smoltcp-WORK` with WORK `full`, `full-same-fcs`, `hw-fcs` or
//!   `bare`: one 1232-byte UDP payload from endpoint to endpoint (send, then receive);
//! - `fcs`: computing and checking the FCS of the 12 frames of one datagram (the part of
//!   `full` that `hw-fcs` leaves to the radio), with `l2-15_4`'s code; `fcs-crc-default`: the
//!   same with the `crc` crate's default one-table CRC (smoltcp's device in `full`);
//! - `fwd-down`, `fwd-up`: the border router forwarding one 1280-byte packet Ethernet →
//!   802.15.4 or back;
//! - `wire-down`, `wire-up`: the smoltcp wire-codec baseline for the same packets;
//! - `memcpy`: copying the 1280-byte packet;
//! - `scale-N` (N from 1 to 256): `fwd-down` with N mesh nodes registered (NS + ARO) and the
//!   packet going to the last one registered (`Router::with_registrations`);
//! - `route-N-dD` (N 16, 256 or 1024 RPL targets; D 1, 4, 8 or 16): the RPL root's per-packet
//!   work for a non-storing target at depth D: the source route from the registry's parent
//!   chain and the tunnel's headers (the same table as `cargo bench -p firmware --bench
//!   source_route`).
//! - `hop-down-8138-off`, `hop-down-8138-on`, `hop-up-8138-off`, `hop-up-8138-on` (built
//!   with `--features router-role`): one of our mesh routers relaying one packet, frames in
//!   to frames out (`tests::mesh`): down, the root's source-routed tunnel packet (a 1280-byte
//!   echo request inside) on to the next router; up, that router's 1280-byte echo reply on
//!   along the default route; RFC 8138 off or on in the DODAG.
//!
//! - `ccm-secure-127`, `ccm-both-127`, `ccm-secure-40`, `ccm-both-40`: CCM* (link-layer
//!   security, level 5 ENC-MIC-32, the `aes` crate as the host builds it: AES-NI where the CPU
//!   has it) on one 802.15.4 data frame (2006, extended addresses, key identifier mode 1: a
//!   27-byte header) of a 127-byte PSDU (94-byte payload) or a 40-byte payload: `secure`
//!   writes the next frame counter and secures the frame (`l2_15_4::security::secure`);
//!   `both` also opens it (`LinkSecurity::receive`: key lookup, replay check, decryption, MIC
//!   check), so open = both - secure. The same frames as the Cortex-M4 figure
//!   (firmware/boards/qemu-m4/src/ccm.rs, `scripts/qemu-m4.sh --bench`).
//!
//! Each mode checks its path once before the loop and once after it; a failure exits with
//! status 1.

use std::hint::black_box;
use std::process::ExitCode;

use firmware::app::AppResources;
use tests::endpoint::{self, DriverFcs, OursReceiver, OursSender, SmolReceiver, SmolSender, Work};
use tests::router::{PACKET_LEN, Router, WireBaseline};
use tests::{Air, Failure};

fn work(name: &str) -> Option<Work> {
    Work::ALL.into_iter().find(|w| w.name() == name)
}

fn udp(ours: bool, work: Work, iterations: u64) -> Result<(), Failure> {
    let payload = endpoint::payload();
    endpoint::check(work, &payload)?;
    let mut air = Air::new(endpoint::MAX_FRAMES);
    let mut out = vec![0u8; 2048];
    let mut last = 0;
    if ours {
        let mut s = OursSender::new(work);
        let mut r = OursReceiver::new(work);
        for _ in 0..iterations {
            s.send(black_box(&payload), &mut air)?;
            last = r.receive(&air, black_box(&mut out))?;
        }
    } else {
        let mut s = SmolSender::new(work, &payload)?;
        let mut r = SmolReceiver::new(work)?;
        for _ in 0..iterations {
            s.send(black_box(&payload), &mut air)?;
            last = r.receive(&air, black_box(&mut out))?;
        }
    }
    tests::ensure(iterations == 0 || out[..last] == payload[..], || {
        "the last payload differs".into()
    })
}

fn fcs_only(code: DriverFcs, iterations: u64) -> Result<(), Failure> {
    let payload = endpoint::payload();
    let mut air = Air::new(endpoint::MAX_FRAMES);
    OursSender::new(Work::FULL).send(&payload, &mut air)?;
    let mut frames: Vec<Vec<u8>> = air.frames().map(<[u8]>::to_vec).collect();
    let mut ok = true;
    for _ in 0..iterations {
        for f in frames.iter_mut() {
            code.append(black_box(&mut f[..]));
            ok &= code.verify(black_box(&f[..]));
        }
    }
    tests::ensure(ok, || "an FCS did not verify".into())
}

fn forward(mode: &str, iterations: u64) -> Result<(), Failure> {
    let mut res = Box::new(AppResources::new());
    let mut r = Router::new(&mut res)?;
    r.check()?;
    let start = r.now();
    match mode {
        "fwd-down" => {
            for _ in 0..iterations {
                black_box(r.forward_down()?);
            }
        }
        "fwd-up" => {
            for _ in 0..iterations {
                black_box(r.forward_up()?);
            }
        }
        "wire-down" | "wire-up" => {
            let mut b = WireBaseline::new(&r);
            b.check(&r)?;
            let mut air = Air::new(32);
            let mut out = vec![0u8; 14 + PACKET_LEN];
            for _ in 0..iterations {
                if mode == "wire-down" {
                    black_box(b.down(black_box(r.down_frame()), &mut air)?);
                } else {
                    black_box(b.up(black_box(r.up_frames()), &mut out)?);
                }
            }
            b.check(&r)?;
        }
        _ => {
            let src = r.packets().0.to_vec();
            let mut dst = vec![0u8; PACKET_LEN];
            for _ in 0..iterations {
                dst.copy_from_slice(black_box(&src));
                black_box(&mut dst);
            }
        }
    }
    let virtual_s = r.now().saturating_since(start).as_micros() as f64 / 1e6;
    r.check()?;
    eprintln!(
        "{mode}: {iterations} iterations, {virtual_s:.1} s of virtual time, {} NS answered",
        r.ns_answered()
    );
    Ok(())
}

fn scale(n: u16, iterations: u64) -> Result<(), Failure> {
    let mut res = Box::new(AppResources::new());
    let mut r = Router::with_registrations(&mut res, n)?;
    r.check()?;
    let entries = |r: &Router<'_>| {
        let len = r.table_len();
        tests::ensure(len == usize::from(n), || {
            format!("{len} table entries, {n} registered")
        })
    };
    entries(&r)?;
    let start = r.now();
    for _ in 0..iterations {
        black_box(r.forward_down()?);
    }
    let virtual_s = r.now().saturating_since(start).as_micros() as f64 / 1e6;
    r.check()?;
    entries(&r)?;
    eprintln!("scale-{n}: {iterations} iterations, {virtual_s:.1} s of virtual time");
    Ok(())
}

const ROOT: std::net::Ipv6Addr =
    std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0x0200, 0x5eff, 0xfe00, 1);

fn target(i: u32) -> std::net::Ipv6Addr {
    let [a, b, c, d] = i.to_be_bytes();
    std::net::Ipv6Addr::new(
        0x2001,
        0xdb8,
        1,
        0,
        0x0212,
        0x4b00,
        u16::from_be_bytes([a, b]),
        u16::from_be_bytes([c, d]),
    )
}

fn route<const N: usize, const I: usize>(depth: u32, iterations: u64) -> Result<(), Failure> {
    use firmware::registry::{Dao, DaoOutcome, Registry};
    use netif::time::{Duration, Instant};
    let mut r: Box<Registry<N, I>> = Box::new(Registry::new());
    for i in 1..=N as u32 {
        let parent = if (2..=16).contains(&i) {
            target(i - 1)
        } else {
            ROOT
        };
        let d = Dao {
            target: target(i),
            parent: Some(parent),
            child: None,
            path_seq: 240,
            lifetime: Duration::from_secs(1800),
            root: ROOT,
            max_depth: 16,
            external: false,
        };
        tests::ensure(r.dao(Instant::ZERO, &d) == DaoOutcome::Added, || {
            format!("target {i}")
        })?;
    }
    let t = firmware::wpan::Tunnel {
        src: ROOT,
        instance: 30,
        rank: 256,
    };
    let dst = target(depth);
    let mut out = [0u8; 512];
    let check = |r: &Registry<N, I>| {
        let hops = r.source_route(&dst).map(|s| s.hops.len());
        tests::ensure(hops == Some(depth as usize), || format!("{hops:?} hops"))
    };
    check(&r)?;
    for _ in 0..iterations {
        let route = r
            .source_route(black_box(&dst))
            .ok_or_else(|| Failure("no route".into()))?;
        if route.hops.len() > 1 {
            black_box(firmware::wpan::write_tunnel_headers(
                &t,
                &route.hops,
                [0x60, 0, 0, 0],
                1100,
                &mut out,
            ));
        }
        black_box(route.first_hop);
    }
    check(&r)
}

/// `ccm-WHAT-LEN`: CCM* on one frame per iteration (see the module docs).
fn ccm(what: &str, len: &str, iterations: u64) -> Option<Result<(), Failure>> {
    use aes::Aes128;
    use l2_15_4::frame::{AuxSecurityHeader, KeyId, Security, SecurityLevel};
    use l2_15_4::security::{
        FrameCounter, Inbound, Key, KeyTable, LinkSecurity, ReplayTable, SecurityPolicy, key_index,
        secure,
    };
    use l2_15_4::{Address, FrameType, FrameVersion, PanId, Repr};
    const KEY: [u8; 16] = [0x42; 16];
    /// The frame counter's place: 21-byte MAC header, then the security control byte.
    const COUNTER: std::ops::Range<usize> = 22..26;
    let open = match what {
        "secure" => false,
        "both" => true,
        _ => return None,
    };
    let payload = match len {
        "127" => 127 - 2 - 27 - 4,
        "40" => 40,
        _ => return None,
    };
    let run = || -> Result<(), Failure> {
        let pan = PanId(0xabcd);
        let mut repr = Repr::new(
            FrameType::Data,
            FrameVersion::Ieee2006,
            Some(1),
            Some((pan, Address::Extended([2, 0, 0, 0xff, 0xfe, 0, 0, 1]))),
            Some((pan, Address::Extended([2, 0, 0, 0xff, 0xfe, 0, 0, 2]))),
        )
        .map_err(|e| Failure(format!("{e:?}")))?;
        repr.security = Some(Security::Aux(AuxSecurityHeader {
            level: SecurityLevel::new(5),
            key_id: KeyId::Index(key_index(0)),
            frame_counter: Some(0),
            asn_in_nonce: false,
        }));
        let mut frame = vec![0u8; 27 + payload + 4];
        let h = repr
            .emit_bytes(&mut frame)
            .map_err(|e| Failure(format!("{e:?}")))?;
        tests::ensure(h == 27, || format!("a {h}-byte header"))?;
        for (i, b) in frame[h..h + payload].iter_mut().enumerate() {
            *b = i as u8;
        }
        let plain = frame.clone();
        let keys = KeyTable::<Aes128>::new(Key::new(KEY), 0);
        let mut rx = LinkSecurity::<Aes128, 4>::new(
            KeyTable::new(Key::new(KEY), 0),
            FrameCounter::restart(1024),
            ReplayTable::new(),
            SecurityPolicy::DEFAULT,
        );
        let mut step = |counter: u32, frame: &mut [u8]| -> Result<bool, Failure> {
            frame[COUNTER].copy_from_slice(&counter.to_le_bytes());
            secure(keys.current(), black_box(&mut *frame), None)
                .map_err(|e| Failure(format!("secure: {e}")))?;
            if !open {
                return Ok(true);
            }
            let r = rx
                .receive(black_box(&mut *frame), None)
                .map_err(|e| Failure(format!("open: {e}")))?;
            Ok(
                matches!(r, Inbound::Secured(r) if frame[r.payload.clone()] == plain[h..h + payload]),
            )
        };
        // Checked once before and once after the loop (counters 0 and iterations + 1).
        tests::ensure(step(0, &mut frame)?, || "the frame did not open".into())?;
        for i in 0..iterations {
            black_box(step(i as u32 + 1, &mut frame)?);
        }
        tests::ensure(step(iterations as u32 + 1, &mut frame)?, || {
            "the last frame did not open".into()
        })?;
        tests::ensure(frame[..COUNTER.start] == plain[..COUNTER.start], || {
            "the MAC header changed".into()
        })
    };
    Some(run())
}

/// `hop-DIR-8138-ON` (`rest` = `DIR-8138-ON`): the mesh router relaying one packet.
#[cfg(feature = "router-role")]
fn hop(rest: &str, iterations: u64) -> Option<Result<(), Failure>> {
    use tests::mesh::{Dir, Hop};
    let (dir, rfc8138) = match rest {
        "down-8138-off" => (Dir::Down, false),
        "down-8138-on" => (Dir::Down, true),
        "up-8138-off" => (Dir::Up, false),
        "up-8138-on" => (Dir::Up, true),
        _ => return None,
    };
    let mut res: [Box<AppResources>; 3] = core::array::from_fn(|_| Box::new(AppResources::new()));
    let [a, b, c] = &mut res;
    let mut run = || -> Result<(), Failure> {
        let mut h = Hop::new([a, b, c], rfc8138, dir)?;
        h.check()?;
        let start = h.now();
        for _ in 0..iterations {
            black_box(h.forward()?);
        }
        let virtual_s = h.now().saturating_since(start).as_micros() as f64 / 1e6;
        h.check()?;
        let (fin, fout) = h.frames();
        let s = h.router().mesh_router().map(|r| r.stats());
        eprintln!(
            "hop-{rest}: {iterations} iterations, {virtual_s:.1} s of virtual time, {fin} \
             frames in, {fout} out, {} bytes relayed; router 1: {s:?}",
            h.packet().len()
        );
        Ok(())
    };
    Some(run())
}

#[cfg(not(feature = "router-role"))]
fn hop(_: &str, _: u64) -> Option<Result<(), Failure>> {
    Some(Err(Failure::new(
        "the hop-* modes need the router role: build with --features router-role",
    )))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(n_iter)) = (args.get(1), args.get(2).and_then(|n| n.parse::<u64>().ok()))
    else {
        eprintln!("usage: instructions MODE ITERATIONS (modes: see the source's documentation)");
        return ExitCode::from(2);
    };
    let r = if let Some(w) = mode.strip_prefix("udp-ours-") {
        work(w).map(|w| udp(true, w, n_iter))
    } else if let Some(w) = mode.strip_prefix("udp-smoltcp-") {
        work(w).map(|w| udp(false, w, n_iter))
    } else if let Some(n) = mode.strip_prefix("scale-") {
        n.parse::<u16>()
            .ok()
            .filter(|n| (1..=256).contains(n))
            .map(|k| scale(k, n_iter))
    } else if let Some(rest) = mode.strip_prefix("route-") {
        let (n, d) = rest.split_once("-d").unwrap_or(("", ""));
        match (n, d.parse::<u32>().ok().filter(|d| (1..=16).contains(d))) {
            ("16", Some(d)) => Some(route::<16, 32>(d, n_iter)),
            ("256", Some(d)) => Some(route::<256, 512>(d, n_iter)),
            ("1024", Some(d)) => Some(route::<1024, 2048>(d, n_iter)),
            _ => None,
        }
    } else if let Some(rest) = mode.strip_prefix("ccm-") {
        let (what, len) = rest.split_once('-').unwrap_or(("", ""));
        ccm(what, len, n_iter)
    } else if let Some(rest) = mode.strip_prefix("hop-") {
        hop(rest, n_iter)
    } else if mode == "fcs" {
        Some(fcs_only(DriverFcs::Ours, n_iter))
    } else if mode == "fcs-crc-default" {
        Some(fcs_only(DriverFcs::CrcDefault, n_iter))
    } else if ["fwd-down", "fwd-up", "wire-down", "wire-up", "memcpy"].contains(&mode.as_str()) {
        Some(forward(mode, n_iter))
    } else {
        None
    };
    match r {
        Some(Ok(())) => ExitCode::SUCCESS,
        Some(Err(e)) => {
            eprintln!("{mode}: {e}");
            ExitCode::from(1)
        }
        None => {
            eprintln!("unknown mode {mode}");
            ExitCode::from(2)
        }
    }
}
