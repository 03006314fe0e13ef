//! Issue 24's evidence end to end through the simulated mesh: link-layer security
//! (IEEE 802.15.4 CCM*, Thread key derivation) on the border router, our routers and the
//! smoltcp leaves, under one network key (`sixgate-sim --network-key FILE`, or
//! `WorldOpts::overrides.network_key` in the library).
//!
//! - Stock tshark, given only the network key ("Thread hash"), decrypts a capture of a
//!   secured run: every data frame secured, its MIC verified, 6LoWPAN and IPv6 decoded,
//!   nothing malformed; without the key it decodes no 6LoWPAN.
//! - Attacks through `sixgate-sim --inject` (frames from the run's own capture, replayed,
//!   bit-flipped, under an unknown key index; an unsecured frame; the registration flood and
//!   address takeover of issue 19): each dropped and counted by its `sec_` counter, nothing
//!   forwarded to the backbone.
//! - Reboots: no (source, key index, frame counter) goes on the air twice across a reboot of
//!   the border router or a router, and the neighbours keep accepting their frames.
//! - Rotation in the 100-node mesh: every node ends on the new key sequence and ≥ 99 % of the
//!   readings are delivered across the switch.
//! - Goodput of 1232-byte payloads over one hop, security on and off (figures, not asserts).

mod common;
use common::{fcs, l4_checksum};

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use l2_15_4::frame::{KeyId, Security};
use l2_15_4::{Address, Repr};
use netif::{Duration, Instant};
use sixgate_sim::simnet::router_node::RouterNode;
use sixgate_sim::simnet::{BrNode, TopologyKind, World, WorldOpts};

/// The mesh's network key (the 32 hex digits of the key file).
const KEY: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];

fn key_hex() -> String {
    KEY.iter().map(|b| format!("{b:02x}")).collect()
}

fn secs(s: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(s)
}

/// A scratch directory for one test, removed by the test when it passes.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sixgate-security-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn secured_opts(routers: usize, nodes: usize, topology: TopologyKind) -> WorldOpts {
    let mut o = WorldOpts::new();
    o.routers = routers;
    o.nodes = nodes;
    o.topology = topology;
    o.overrides.network_key = Some(KEY);
    o
}

fn router(w: &World, k: usize) -> &RouterNode {
    w.sim.node::<RouterNode>(w.routers[k]).unwrap()
}

fn leaf_global(w: &World, k: usize) -> Option<Ipv6Addr> {
    w.node(k)?
        .addresses()
        .into_iter()
        .find(|a| !a.is_unicast_link_local())
}

fn host_ping(w: &mut World, dst: Ipv6Addr, seq: u16, len: usize) {
    let br = w.br;
    w.sim
        .with_node(br, |n: &mut BrNode, now, _| {
            assert!(n.host_mut().unwrap().ping(now, dst, seq, len), "ping {dst}")
        })
        .unwrap();
}

// ----- tshark -----------------------------------------------------------------------------------

/// Is `tshark` here? Without it a test says so and passes (unless `CI=true`).
fn have_tshark() -> bool {
    let ok = Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "tshark is required when CI=true"
        );
        eprintln!("skipping: `tshark` not found (install tshark)");
    }
    ok
}

/// tshark on `cap` with a configuration directory of its own (`XDG_CONFIG_HOME` in `dir`):
/// with `key`, its `ieee802154_keys` table holds only the network key, index 0, "Thread
/// hash"; without, no key at all. One line per frame of `filter`, the `fields` tab-separated.
fn tshark(dir: &Path, cap: &Path, key: bool, filter: &str, fields: &[&str]) -> Vec<String> {
    let home = dir.join(if key { "xdg-key" } else { "xdg-nokey" });
    let ws = home.join("wireshark");
    std::fs::create_dir_all(&ws).unwrap();
    if key {
        std::fs::write(
            ws.join("ieee802154_keys"),
            format!("\"{}\",\"0\",\"Thread hash\"\n", key_hex()),
        )
        .unwrap();
    }
    let mut c = Command::new("tshark");
    c.env("XDG_CONFIG_HOME", &home)
        .env("HOME", &home)
        .arg("-r")
        .arg(cap)
        // The mesh prefix as 6LoWPAN context 0, as the border router's RAs carry it in a 6CO
        // (a frame sent before tshark saw an RA would otherwise decompress without it).
        .args(["-o", "6lowpan.context0:2001:db8:1::/64"])
        .args(["-Y", filter, "-T", "fields", "-E", "occurrence=a"]);
    for f in fields {
        c.args(["-e", f]);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A secured run (two routers and four leaves around the border router, key sequence 0)
/// recorded at the border router, with 1232-byte pings both ways so that datagrams travel in
/// fragments. Returns the capture.
fn secured_capture(dir: &Path) -> PathBuf {
    let mut w = World::build(&secured_opts(2, 4, TopologyKind::Star)).unwrap();
    let cap = dir.join("secured.pcapng");
    w.br_mut()
        .unwrap()
        .record_to(cap.clone(), "security", 0)
        .unwrap();
    w.sim.run_until(secs(50));
    let leaf = leaf_global(&w, 0).expect("leaf n1 has a global address");
    let r1 = firmware::root::mesh_address(router(&w, 0).app().unwrap().config());
    for (i, dst) in [leaf, r1].into_iter().enumerate() {
        host_ping(&mut w, dst, 100 + i as u16, 1232);
        w.sim.run_for(Duration::from_secs(3));
    }
    w.sim.run_until(secs(60));
    w.br_mut().unwrap().finish_recording().unwrap();
    let pings = w.br().unwrap().host().unwrap().pings().to_vec();
    assert_eq!(
        pings.iter().filter(|p| p.2.is_some()).count(),
        2,
        "1232-byte pings answered: {pings:?}"
    );
    let br = w.br().unwrap().app().unwrap();
    let s = br.wpan().security().expect("security on").stats();
    assert_eq!(br.wpan().security().unwrap().key_sequence(), 0);
    assert!(s.tx_secured > 50 && s.rx_secured > 50, "{s:?}");
    cap
}

/// Stock tshark (4.0) with only the network key ("Thread hash") in its `ieee802154_keys`
/// table: every data frame the border router sent or received is secured (ENC-MIC-32, key
/// identifier mode 1, key index 1: key sequence 0), decrypted with that key (its key number
/// 0: tshark tries each key and keeps the first whose MIC verifies, and says "no key"
/// otherwise), carries 6LoWPAN, and the unfragmented ones and first fragments decode to IPv6
/// (the 1232-byte pings reassembled into IPv6 packets of 1280 bytes and more, both ways); no frame is
/// malformed and tshark raises no warning or error (no decryption error among them). The
/// same capture without the key: no frame decodes as 6LoWPAN, each says the key is missing.
#[test]
fn tshark_decrypts_a_secured_run_given_only_the_network_key() {
    let dir = scratch("tshark");
    let cap = secured_capture(&dir);
    if !have_tshark() {
        return;
    }
    let fields = [
        "frame.number",
        "wpan.security",
        "wpan.aux_sec.sec_level",
        "wpan.aux_sec.key_id_mode",
        "wpan.aux_sec.key_index",
        "wpan.key_number",
        "6lowpan.pattern",
        "6lowpan.frag.size",
        "6lowpan.frag.offset",
        "6lowpan.src",
        "ipv6.src",
    ];
    let data = tshark(&dir, &cap, true, "wpan.frame_type == 1", &fields);
    assert!(data.len() > 100, "{} data frames", data.len());
    let (mut unfragmented, mut first, mut later) = (0, 0, 0);
    for l in &data {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(&f[1..6], &["1", "0x05", "0x01", "0x01", "0"], "{l}");
        assert!(!f[6].is_empty(), "no 6LoWPAN: {l}");
        match (f[7].is_empty(), f[8].is_empty()) {
            (true, _) => {
                assert!(!f[10].is_empty(), "no IPv6: {l}");
                unfragmented += 1;
            }
            (false, true) => {
                assert!(!f[9].is_empty(), "FRAG1 without its IPv6 header: {l}");
                first += 1;
            }
            (false, false) => later += 1,
        }
    }
    // Every other frame is an Imm-ACK (unsecured, as the standard allows).
    let others = tshark(
        &dir,
        &cap,
        true,
        "wpan && wpan.frame_type != 1",
        &["wpan.frame_type"],
    );
    assert!(others.iter().all(|t| t == "0x0002"), "{others:?}");
    let bad = tshark(
        &dir,
        &cap,
        true,
        "_ws.malformed || wpan.decrypt_error || _ws.expert.severity >= 0x600000",
        &["frame.number", "_ws.expert.message"],
    );
    assert!(bad.is_empty(), "malformed or warned: {bad:?}");
    let big = tshark(
        &dir,
        &cap,
        true,
        "wpan && ipv6.plen >= 1240 && (icmpv6.type == 128 || icmpv6.type == 129)",
        &["icmpv6.type"],
    );
    assert_eq!(big.len(), 4, "1232-byte echo requests and replies: {big:?}");
    eprintln!(
        "tshark with the network key: {} data frames decrypted and verified ({unfragmented} \
         unfragmented, {first} FRAG1, {later} FRAGN), {} ACKs, nothing malformed",
        data.len(),
        others.len()
    );
    // Without the key: nothing decodes.
    let blind = tshark(
        &dir,
        &cap,
        false,
        "wpan.frame_type == 1",
        &["6lowpan.pattern", "ipv6.src", "_ws.expert.message"],
    );
    assert_eq!(blind.len(), data.len());
    for l in &blind {
        assert!(l.starts_with("\t\t"), "decoded without the key: {l}");
        assert!(l.contains("No encryption key set"), "{l}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- attacks through `sixgate-sim --inject` ---------------------------------------------------

const SIM: &str = env!("CARGO_BIN_EXE_sixgate-sim");
/// The attacker's extended address (locally administered); flood sources vary the last byte.
const EVIL: [u8; 8] = [0x02, 0xee, 0xee, 0xee, 0x00, 0x00, 0x00, 0x01];
/// The default configuration's mesh prefix, PAN ID and border router (`sixgate-sim` with no
/// settings).
const MESH: [u8; 8] = [0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00];

fn in_mesh(iid: [u8; 8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a[..8].copy_from_slice(&MESH);
    a[8..].copy_from_slice(&iid);
    Ipv6Addr::from(a)
}

/// The global address of leaf `k` (from 1): the mesh prefix and its EUI-64, U/L bit flipped.
fn leaf_address(k: u8) -> Ipv6Addr {
    let mut e = sim::mac_node::eui64(u16::from(k));
    e[0] ^= 2;
    in_mesh(e)
}

/// `sixgate-sim ARGS --summary-json FILE`: the summary, after checking the exit.
fn run_sim(dir: &Path, name: &str, args: &[&str]) -> serde_json::Value {
    let json = dir.join(format!("{name}.json"));
    let out = Command::new(SIM)
        .args(args)
        .arg("--summary-json")
        .arg(&json)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sixgate-sim {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

/// The border router's counter `layer/name` on `wpan0` in a summary.
fn counter(s: &serde_json::Value, layer: &str, name: &str) -> u64 {
    s["border_router"]["counters"]["wpan0"][layer][name]
        .as_u64()
        .unwrap_or_else(|| panic!("no counter wpan0/{layer}/{name}"))
}

fn sec(s: &serde_json::Value, name: &str) -> u64 {
    counter(s, "mac", &format!("sec_{name}"))
}

/// `psdu` with its FCS recomputed (after an edit).
fn refcs(mut psdu: Vec<u8>) -> Vec<u8> {
    let n = psdu.len() - 2;
    let c = fcs(&psdu[..n]);
    psdu[n..].copy_from_slice(&c);
    psdu
}

/// An unsecured data frame (IEEE 802.15.4-2006 §7.2.1.1: type 001, ACK request, PAN ID
/// compression, extended destination and source, version 2006) from `src` to the border
/// router: FC, sequence number, PAN, destination, source (little-endian), `payload`, FCS.
fn plain_frame(src: [u8; 8], seq: u8, payload: &[u8]) -> Vec<u8> {
    let cfg = firmware::config::Config::default();
    let fc: u16 = 0b001 | 1 << 5 | 1 << 6 | 0b11 << 10 | 0b01 << 12 | 0b11 << 14;
    let mut f = fc.to_le_bytes().to_vec();
    f.push(seq);
    f.extend_from_slice(&cfg.pan_id.to_le_bytes());
    f.extend(cfg.eui64.iter().rev());
    f.extend(src.iter().rev());
    f.extend_from_slice(payload);
    let c = fcs(&f);
    f.extend_from_slice(&c);
    f
}

/// An uncompressed IPv6 packet in 6LoWPAN (RFC 4944 §5.1: dispatch 0x41, then the header
/// of RFC 8200 §3 — version 6, `next`, `hlim` — and `body` with its checksum at `ck`).
fn lowpan_ipv6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next: u8,
    hlim: u8,
    mut body: Vec<u8>,
    ck: usize,
) -> Vec<u8> {
    let c = l4_checksum(&src, &dst, next, &body);
    body[ck..ck + 2].copy_from_slice(&c);
    let mut p = vec![0x41, 0x60, 0, 0, 0];
    p.extend_from_slice(&(body.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, hlim]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&body);
    p
}

/// A UDP reading to the backbone collector from `src` (RFC 768).
fn evil_reading(src: Ipv6Addr) -> Vec<u8> {
    let mut u = 42001u16.to_be_bytes().to_vec();
    u.extend_from_slice(&sixgate_sim::simnet::COLLECTOR_PORT.to_be_bytes());
    u.extend_from_slice(&14u16.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(b"evil!!");
    lowpan_ipv6(src, sixgate_sim::simnet::HOST_ADDR, 17, 64, u, 6)
}

/// A Neighbor Solicitation (RFC 4861 §4.3) from `src` to the border router's link-local
/// address registering `target` (RFC 8505 §5.1): SLLAO `sllao` (RFC 4861 §4.6.1, an
/// EUI-64: length 2) and an EARO (RFC 8505 §4.1: type 33, length 2, status 0, opaque 0, T
/// flag, TID `tid`, lifetime 60 min, ROVR `sllao`).
fn ns_earo(src: Ipv6Addr, target: Ipv6Addr, sllao: [u8; 8], tid: u8) -> Vec<u8> {
    let br = firmware::config::Config::default();
    let mut ll = [0u8; 16];
    ll[..2].copy_from_slice(&[0xfe, 0x80]);
    ll[8..].copy_from_slice(&br.eui64);
    ll[8] ^= 2;
    let mut b = vec![135, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&target.octets());
    b.extend_from_slice(&[1, 2]);
    b.extend_from_slice(&sllao);
    b.extend_from_slice(&[0; 6]);
    b.extend_from_slice(&[33, 2, 0, 0, 0x01, tid, 0, 60]);
    b.extend_from_slice(&sllao);
    lowpan_ipv6(src, Ipv6Addr::from(ll), 58, 255, b, 2)
}

/// A secured data frame from a capture: (source, key index, frame counter, offset of the
/// payload after the auxiliary security header), or `None`.
fn secured_of(psdu: &[u8]) -> Option<([u8; 8], u8, u32, usize)> {
    let mpdu = psdu.get(..psdu.len().checked_sub(2)?)?;
    let (repr, payload) = Repr::parse_frame(mpdu).ok()?;
    let Some(Address::Extended(src)) = repr.src_addr else {
        return None;
    };
    let Some(Security::Aux(a)) = repr.security else {
        return None;
    };
    let KeyId::Index(i) = a.key_id else {
        return None;
    };
    Some((src, i, a.frame_counter?, mpdu.len() - payload.len()))
}

/// The packets of pcapng interface `iface` in `file` (Enhanced Packet Blocks), with their
/// timestamps in µs.
fn pcapng_packets(file: &[u8], iface: u32) -> Vec<(u64, Vec<u8>)> {
    let u32_at = |o: usize| u32::from_le_bytes(file[o..o + 4].try_into().unwrap());
    let mut out = Vec::new();
    let mut o = 0;
    while o + 12 <= file.len() {
        let (ty, len) = (u32_at(o), u32_at(o + 4) as usize);
        assert!(len >= 12 && o + len <= file.len(), "pcapng block at {o}");
        if ty == 6 && u32_at(o + 8) == iface {
            let ts = u64::from(u32_at(o + 12)) << 32 | u64::from(u32_at(o + 16));
            let cap = u32_at(o + 20) as usize;
            out.push((ts, file[o + 28..o + 28 + cap].to_vec()));
        }
        o += len;
    }
    out
}

/// The IPv6 packets the border router's `eth0` carried (both ways) in a `--capture` file.
fn eth0_ipv6(cap: &Path) -> Vec<Vec<u8>> {
    pcapng_packets(&std::fs::read(cap).unwrap(), 1)
        .into_iter()
        .filter(|(_, f)| f.get(12..14) == Some(&[0x86, 0xdd]))
        .map(|(_, f)| f[14..].to_vec())
        .collect()
}

/// (leaf index, sequence number) of every reading on `eth0` toward the collector.
fn readings_on_eth0(cap: &Path) -> Vec<(u16, u32)> {
    eth0_ipv6(cap)
        .iter()
        .filter(|p| {
            p.get(6) == Some(&17)
                && p.get(42..44) == Some(&sixgate_sim::simnet::COLLECTOR_PORT.to_be_bytes())
        })
        .filter_map(|p| {
            let i = u16::from_be_bytes(p.get(48..50)?.try_into().ok()?);
            let s = u32::from_be_bytes(p.get(50..54)?.try_into().ok()?);
            Some((i, s))
        })
        .collect()
}

/// The attacks, in a pcap for `--inject` (replayed at their offsets from the first frame),
/// built from a capture `a` of the same secured run (same seed) without them:
///
/// - 0 s and 40 s: an unsecured reading to the collector from an attacker in the mesh prefix;
/// - 45 s: leaf n1's first secured frame after 15 s of run A, replayed as captured (an old
///   counter: by 45 s the border router has accepted later ones from n1);
/// - 50 s: leaf n2's last secured frame of run A (a counter n2 reaches only later) with one
///   bit of its encrypted payload flipped (FCS recomputed);
/// - 55 s: leaf n3's last secured frame of run A under key index 0x50 (key sequence 79; the
///   mesh uses index 1, and accepts 2 and 16 as next and previous);
/// - 60 s to 64 s: 40 registrations (NS + EARO) from 40 attacker addresses, one each;
/// - 66 s: an address takeover: the attacker registers leaf n1's address under its own MAC.
///
/// Returns the file and the number of unsecured frames in it.
fn attack_pcap(a: &Path, out: &Path) -> usize {
    let c = capture_file::read_15_4(&std::fs::read(a).unwrap()).unwrap();
    let t0 = c.frames.first().unwrap().ts_us;
    let from = |k: u16| -> Vec<(u64, Vec<u8>, usize)> {
        let eui = sim::mac_node::eui64(k);
        c.frames
            .iter()
            .filter_map(|f| {
                let (src, _, _, off) = secured_of(&f.psdu)?;
                (src == eui).then(|| (f.ts_us - t0, f.psdu.clone(), off))
            })
            .collect()
    };
    let s = 1_000_000u64;
    let mut frames: Vec<(u64, Vec<u8>)> = Vec::new();
    let evil = in_mesh([0, 0xee, 0xee, 0xee, 0, 0, 0, 1]);
    frames.push((0, plain_frame(EVIL, 1, &evil_reading(evil))));
    frames.push((40 * s, plain_frame(EVIL, 2, &evil_reading(evil))));
    let (_, old, _) = from(1)
        .into_iter()
        .find(|(t, _, _)| *t > 15 * s)
        .expect("a frame from n1 after 15 s");
    frames.push((45 * s, old));
    let (_, mut flipped, off) = from(2).pop().expect("a frame from n2");
    flipped[off] ^= 0x10;
    frames.push((50 * s, refcs(flipped)));
    let (_, mut other, off) = from(3).pop().expect("a frame from n3");
    other[off - 1] = 0x50;
    frames.push((55 * s, refcs(other)));
    for i in 0..40u8 {
        let mut mac = EVIL;
        mac[7] = 0x10 + i;
        let mut iid = mac;
        iid[0] ^= 2;
        let p = ns_earo(in_mesh(iid), in_mesh(iid), mac, 1);
        frames.push((
            60 * s + u64::from(i) * 100_000,
            plain_frame(mac, 10 + i, &p),
        ));
    }
    let victim = leaf_address(1);
    let p = ns_earo(victim, victim, EVIL, 1);
    frames.push((66 * s, plain_frame(EVIL, 99, &p)));
    let records = frames
        .iter()
        .map(|(t, d)| capture_file::pcap::Record { ts_us: *t, data: d });
    let f = std::fs::File::create(out).unwrap();
    capture_file::pcap::write(195, records, f).unwrap();
    2 + 40 + 1
}

/// Through `sixgate-sim --network-key FILE --inject FILE`: each attack is dropped before
/// anything reads it and counted by its reason (`sec_rx_unsecured`, `sec_rx_replays`,
/// `sec_rx_mic_failures`, `sec_rx_no_key`); nothing reaches the backbone (no packet from
/// the attacker on `eth0`, no reading twice); the registration flood and the takeover change
/// nothing (no registration, the 6LBR never even sees them) and the victim's readings keep
/// arriving. The control: the same file against the same mesh without a key registers the
/// flood, answers the takeover as a duplicate and forwards the attacker's reading.
#[test]
fn attacks_without_the_key_are_dropped_and_counted_through_inject() {
    let dir = scratch("inject");
    let key = dir.join("network.key");
    std::fs::write(&key, key_hex() + "\n").unwrap();
    let key = key.display().to_string();
    let path = |n: &str| dir.join(n).display().to_string();
    // Run A: the secured run the attacker records.
    let a = run_sim(
        &dir,
        "a",
        &[
            "--network-key",
            &key,
            "--duration",
            "90",
            "--capture",
            &path("a.pcapng"),
        ],
    );
    for what in ["rx_unsecured", "rx_replays", "rx_mic_failures", "rx_no_key"] {
        assert_eq!(sec(&a, what), 0, "run A without attacks: sec_{what}");
    }
    let unsecured = attack_pcap(&dir.join("a.pcapng"), &dir.join("attacks.pcap"));
    // Run B: the same mesh (same seed), attacked.
    let b = run_sim(
        &dir,
        "b",
        &[
            "--network-key",
            &key,
            "--duration",
            "90",
            "--inject",
            &path("attacks.pcap"),
            "--capture",
            &path("b.pcapng"),
        ],
    );
    let got = |n| sec(&b, n);
    eprintln!(
        "secured, attacked: sec_rx_unsecured {}, sec_rx_replays {}, sec_rx_duplicates {}, \
         sec_rx_mic_failures {}, sec_rx_no_key {}, sec_rx_secured {}; registered {}, gleaned {}",
        got("rx_unsecured"),
        got("rx_replays"),
        got("rx_duplicates"),
        got("rx_mic_failures"),
        got("rx_no_key"),
        got("rx_secured"),
        b["border_router"]["registered"],
        b["border_router"]["gleaned"],
    );
    assert_eq!(got("rx_unsecured"), unsecured as u64);
    assert_eq!(got("rx_replays"), 1, "the old frame of n1");
    assert_eq!(got("rx_mic_failures"), 1, "the flipped bit");
    assert_eq!(got("rx_no_key"), 1, "key index 0x50");
    assert_eq!(
        b["injected"]["frames"].as_u64(),
        Some(unsecured as u64 + 3),
        "{:#}",
        b["injected"]
    );
    // Nothing reached the 6LBR or the backbone.
    for c in [
        "lbr_reg_success",
        "lbr_reg_duplicate",
        "lbr_reg_over_quota",
        "lbr_reg_rate_limited",
    ] {
        assert_eq!(counter(&b, "nd", c), 0, "{c}");
    }
    assert_eq!(b["border_router"]["registered"], 0);
    assert_eq!(b["border_router"]["gleaned"], 8, "the leaves, no attacker");
    let evil = in_mesh([0, 0xee, 0xee, 0xee, 0, 0, 0, 1]);
    let eth = eth0_ipv6(&dir.join("b.pcapng"));
    assert!(!eth.is_empty());
    assert!(
        eth.iter().all(|p| p[8..24] != evil.octets()[..]),
        "the attacker's packet on the backbone"
    );
    let readings = readings_on_eth0(&dir.join("b.pcapng"));
    let unique: BTreeSet<_> = readings.iter().collect();
    assert_eq!(unique.len(), readings.len(), "a reading forwarded twice");
    // The victim of the takeover (n1) is still delivered, every leaf is.
    for n in b["nodes"].as_array().unwrap() {
        let (sent, got) = (
            n["readings_sent"].as_u64().unwrap(),
            n["readings_delivered"].as_u64().unwrap(),
        );
        assert!(sent >= 8 && got + 1 >= sent, "{n}");
    }

    // The control: no key, the same attacks.
    let c = run_sim(
        &dir,
        "c",
        &[
            "--duration",
            "90",
            "--inject",
            &path("attacks.pcap"),
            "--capture",
            &path("c.pcapng"),
        ],
    );
    let regs = counter(&c, "nd", "lbr_reg_success");
    eprintln!(
        "unsecured control: registrations {regs}, duplicates {}, registered {}",
        counter(&c, "nd", "lbr_reg_duplicate"),
        c["border_router"]["registered"]
    );
    assert!(regs >= 30, "the flood registered {regs} without security");
    assert!(
        counter(&c, "nd", "lbr_reg_duplicate") >= 1,
        "the takeover reached the 6LBR"
    );
    assert!(
        eth0_ipv6(&dir.join("c.pcapng"))
            .iter()
            .any(|p| p[8..24] == evil.octets()[..]),
        "without security the attacker's reading reaches the backbone"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- reboots ------------------------------------------------------------------------------------

/// Every secured frame on the air: (source, key index, frame counter) → the distinct MPDUs
/// sent under it (a retransmission repeats its MPDU, sequence number included) and when each
/// was first sent (µs of simulated time).
type AirLog = BTreeMap<([u8; 8], u8, u32), BTreeMap<Vec<u8>, u64>>;

fn air_log(buf: &capture_file::SharedBuf) -> AirLog {
    let c = capture_file::read_15_4(&buf.bytes()).unwrap();
    let mut log = AirLog::new();
    for f in &c.frames {
        if let Some((src, idx, ctr, _)) = secured_of(&f.psdu) {
            log.entry((src, idx, ctr))
                .or_default()
                .entry(f.psdu[..f.psdu.len() - 2].to_vec())
                .or_insert(f.ts_us);
        }
    }
    log
}

/// The border router reboots at 40 s, router r1 at 70 s (their counter records persisted
/// ahead: the border router's in its store, r1's in its flash), in a secured star of two
/// routers and four leaves recorded from the air: no (source, key index, frame counter)
/// carries two different frames, each restarts beyond every counter it sent before, and the
/// neighbours accept them (no replay refused anywhere, the leaves' readings delivered after
/// the reboots, r1 joined again).
#[test]
fn a_rebooted_node_never_sends_a_frame_counter_twice_and_is_still_heard() {
    let mut w = World::build(&secured_opts(2, 4, TopologyKind::Star)).unwrap();
    let buf = capture_file::SharedBuf::default();
    w.sim
        .medium()
        .start_capture(Box::new(buf.clone()), sim::CaptureMode::Air)
        .unwrap();
    let (br, r1) = (w.br, w.routers[0]);
    w.sim.schedule_fault(secs(40), sim::Fault::Reboot(br));
    w.sim.schedule_fault(secs(70), sim::Fault::Reboot(r1));
    w.sim.run_until(secs(80));
    let delivered = |w: &World| -> Vec<(u64, u64)> {
        let host = w.br().unwrap().host().unwrap();
        (0..w.nodes.len())
            .map(|k| {
                let got = leaf_global(w, k)
                    .and_then(|a| host.readings_by_source().get(&a).copied())
                    .unwrap_or(0);
                (got, w.node(k).unwrap().counters().readings_sent)
            })
            .collect()
    };
    let before = delivered(&w);
    w.sim.run_until(secs(150));
    let after = delivered(&w);
    w.sim.medium().finish_capture().unwrap();
    assert_eq!(w.br().unwrap().boots(), 2);
    assert_eq!(router(&w, 0).boots(), 2);

    let log = air_log(&buf);
    // (source's last two bytes, key index, counter, when each different frame went out).
    let reused: Vec<_> = log
        .iter()
        .filter(|(_, m)| m.len() > 1)
        .map(|((s, i, c), m)| {
            (
                format!("{:02x}{:02x}", s[6], s[7]),
                *i,
                *c,
                m.values().collect::<Vec<_>>(),
            )
        })
        .collect();
    assert!(reused.is_empty(), "frame counters reused: {reused:?}");
    let br_eui = w.br().unwrap().app().unwrap().config().eui64;
    let r1_eui = router(&w, 0).app().unwrap().config().eui64;
    for (name, eui, at) in [("br", br_eui, 40_000_000u64), ("r1", r1_eui, 70_000_000)] {
        let sent: Vec<(u64, u32)> = log
            .iter()
            .filter(|((s, _, _), _)| *s == eui)
            .flat_map(|((_, _, c), m)| m.values().map(move |t| (*t, *c)))
            .collect();
        let last_before = sent.iter().filter(|(t, _)| *t < at).map(|(_, c)| *c).max();
        let first_after = sent.iter().filter(|(t, _)| *t >= at).map(|(_, c)| *c).min();
        eprintln!(
            "{name}: {} secured frames; last counter before the reboot {last_before:?}, first \
             after {first_after:?}",
            sent.len()
        );
        let (Some(b), Some(a)) = (last_before, first_after) else {
            panic!("{name}: frames before and after the reboot: {sent:?}");
        };
        assert!(a > b, "{name} restarted its counter at {a}, had sent {b}");
    }
    // The neighbours took them: no replay refused, readings delivered after the reboots.
    let br_sec = *br_security(&w).stats();
    assert_eq!(br_sec.rx_replays, 0, "border router {br_sec:?}");
    for k in 0..2 {
        let s = *router(&w, k)
            .app()
            .unwrap()
            .wpan()
            .security()
            .unwrap()
            .stats();
        assert_eq!(s.rx_replays, 0, "r{} {s:?}", k + 1);
    }
    for k in 0..w.nodes.len() {
        let s = w.node(k).unwrap().port().security_stats().unwrap();
        assert_eq!(s.rx_replays, 0, "n{} {s:?}", k + 1);
        let (got, sent) = (after[k].0 - before[k].0, after[k].1 - before[k].1);
        assert!(
            sent >= 5 && got + 1 >= sent,
            "n{}: {got} of {sent} delivered",
            k + 1
        );
    }
    let joined = router(&w, 0)
        .app()
        .unwrap()
        .mesh_router()
        .is_some_and(|m| m.core().phase() == rpl::router::Phase::Joined);
    assert!(joined, "r1 joined again");
}

/// `sixgate-sim --config FILE --network-key FILE` stopped and started again on the same
/// configuration (the key now stored there, the counter record in `FILE.counter`): the border
/// router's second run starts beyond every counter of its first, recorded in each run's
/// capture, and the leaves' readings are delivered in the second run.
#[test]
fn a_restarted_sixgate_sim_resumes_its_frame_counter_ahead() {
    let dir = scratch("restart");
    let key = dir.join("network.key");
    std::fs::write(&key, key_hex()).unwrap();
    let key = key.display().to_string();
    let path = |n: &str| dir.join(n).display().to_string();
    let cfg = path("br.cfg");
    let args = |cap: &str| -> Vec<String> {
        [
            "--config",
            &cfg,
            "--duration",
            "40",
            "--capture",
            &path(cap),
        ]
        .map(String::from)
        .to_vec()
    };
    let mut first = args("1.pcapng");
    first.extend(["--network-key".to_string(), key]);
    let one: Vec<&str> = first.iter().map(String::as_str).collect();
    run_sim(&dir, "1", &one);
    assert!(
        dir.join("br.cfg.counter").exists(),
        "no counter record beside the configuration after the first run: nothing persisted"
    );
    let second = args("2.pcapng");
    let two: Vec<&str> = second.iter().map(String::as_str).collect();
    let s = run_sim(&dir, "2", &two);
    let br = firmware::config::Config::default().eui64;
    let counters = |cap: &str| -> Vec<u32> {
        let c = capture_file::read_15_4(&std::fs::read(dir.join(cap)).unwrap()).unwrap();
        c.frames
            .iter()
            .filter_map(|f| secured_of(&f.psdu))
            .filter(|(src, _, _, _)| *src == br)
            .map(|(_, _, c, _)| c)
            .collect()
    };
    let (c1, c2) = (counters("1.pcapng"), counters("2.pcapng"));
    let (max1, min2) = (c1.iter().max().unwrap(), c2.iter().min().unwrap());
    eprintln!(
        "restart: first run sent counters {}..={max1} ({} frames), the second {min2}..={} ({} \
         frames)",
        c1.iter().min().unwrap(),
        c1.len(),
        c2.iter().max().unwrap(),
        c2.len()
    );
    assert!(
        min2 > max1,
        "counter {min2} after a run that reached {max1}"
    );
    assert!(
        sec(&s, "tx_secured") > 0,
        "the second run is secured (key from the store)"
    );
    for n in s["nodes"].as_array().unwrap() {
        let (sent, got) = (
            n["readings_sent"].as_u64().unwrap(),
            n["readings_delivered"].as_u64().unwrap(),
        );
        assert!(sent >= 3 && got + 1 >= sent, "{n}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- rotation in the 100-node mesh --------------------------------------------------------------

/// (leaf index, sequence number) of a reading's first bytes.
fn reading_id(head: &[u8]) -> Option<(u16, u32)> {
    let i = u16::from_be_bytes(head.get(0..2)?.try_into().ok()?);
    let s = u32::from_be_bytes(head.get(2..6)?.try_into().ok()?);
    Some((i, s))
}

/// Readings leaf `k` generated so far (each takes a sequence number).
fn generated(w: &World, k: usize) -> u32 {
    let c = w.node(k).unwrap().counters();
    u32::try_from(c.readings_sent + c.readings_dropped).unwrap()
}

/// The key sequence of every node: border router, routers, leaves.
/// The border router's link-layer security.
fn br_security(w: &World) -> &firmware::wpan::WpanSecurity {
    w.br().unwrap().app().unwrap().wpan().security().unwrap()
}

fn key_sequences(w: &World) -> Vec<(String, u32)> {
    let mut v = vec![("br".to_string(), br_security(w).key_sequence())];
    for k in 0..w.routers.len() {
        let s = router(w, k).app().unwrap().wpan().security().unwrap();
        v.push((format!("r{}", k + 1), s.key_sequence()));
    }
    for k in 0..w.nodes.len() {
        let s = w.node(k).unwrap().port().security().unwrap();
        v.push((format!("n{}", k + 1), s.key_sequence()));
    }
    v
}

/// The 100-node mesh of `mesh_scale.rs` (20 of our routers, 80 leaves at seeded random
/// positions, seed 1), secured: once every router is joined and every leaf has an address,
/// the root rotates to key sequence 1. The rotation spreads through the mesh (every node
/// hears an authenticated frame under the next key and follows; the previous key is still
/// accepted meanwhile): every node ends on sequence 1, and ≥ 99 % of the readings generated
/// from a minute before the switch to two minutes after it reach the collector.
#[test]
fn a_key_rotation_at_the_root_spreads_through_100_nodes_and_readings_keep_arriving() {
    const ROUTERS: usize = 20;
    const LEAVES: usize = 80;
    let mut o = secured_opts(ROUTERS, LEAVES, TopologyKind::Random);
    o.seed = 1;
    let mut w = World::build(&o).unwrap();
    let wall = std::time::Instant::now();
    let mut t = 0;
    loop {
        t += 10;
        assert!(t <= 700, "the mesh did not form in 700 s");
        w.sim.run_until(secs(t));
        let joined = (0..ROUTERS).all(|k| {
            router(&w, k)
                .app()
                .unwrap()
                .mesh_router()
                .is_some_and(|r| r.core().phase() == rpl::router::Phase::Joined)
        });
        if joined && (0..LEAVES).all(|k| leaf_global(&w, k).is_some()) {
            break;
        }
    }
    let start = t + 20;
    w.sim.run_until(secs(start));
    let s0: Vec<u32> = (0..LEAVES).map(|k| generated(&w, k)).collect();
    let switch = start + 60;
    w.sim.run_until(secs(switch));
    let br = w.br;
    w.sim
        .with_node(br, |n: &mut BrNode, now, _| {
            n.app_mut().unwrap().rotate_key(now)
        })
        .unwrap()
        .expect("rotation at the root");
    let end = switch + 120;
    w.sim.run_until(secs(end));
    let s1: Vec<u32> = (0..LEAVES).map(|k| generated(&w, k)).collect();
    w.sim.run_until(secs(end + 30));
    let got: BTreeSet<(u16, u32)> = w
        .br()
        .unwrap()
        .host()
        .unwrap()
        .readings()
        .filter_map(|r| reading_id(&r.head))
        .collect();
    let (mut sent, mut delivered) = (0u64, 0u64);
    for k in 0..LEAVES {
        let index = u16::try_from(k + 1).unwrap();
        sent += u64::from(s1[k] - s0[k]);
        delivered += (s0[k]..s1[k])
            .filter(|s| got.contains(&(index, *s)))
            .count() as u64;
    }
    let seqs = key_sequences(&w);
    let behind: Vec<_> = seqs.iter().filter(|(_, s)| *s != 1).collect();
    let br_sec = *br_security(&w).stats();
    eprintln!(
        "rotation in the 100-node mesh (seed 1): joined at {t} s, rotated at {switch} s; \
         readings generated {start}..{end} s: {delivered}/{sent} delivered ({:.2} %); nodes on \
         key sequence 1: {}/{}; border router {br_sec:?}; {:.1} wall s",
        100.0 * delivered as f64 / sent.max(1) as f64,
        seqs.len() - behind.len(),
        seqs.len(),
        wall.elapsed().as_secs_f64()
    );
    assert!(behind.is_empty(), "not on key sequence 1: {behind:?}");
    assert!(sent >= 80 * 15, "{sent} readings");
    assert!(
        delivered * 100 >= sent * 99,
        "{delivered}/{sent} readings across the switch"
    );
}

/// Two rotations in a row used to strand the routers: the border router went to sequence 2
/// before r1 and r2 had heard a frame under 1, and they accept only the previous, current and
/// next keys. A rotation within `KEY_SWITCH_GUARD` of the last switch is now refused (as
/// Thread's key switch guard time); after it, the next rotation spreads as the first did.
#[test]
fn a_second_rotation_within_the_guard_time_is_refused_and_no_router_is_stranded() {
    let mut w = World::build(&secured_opts(2, 0, TopologyKind::Line)).unwrap();
    w.sim.run_until(secs(60));
    let br = w.br;
    let rotate = |w: &mut World| {
        w.sim
            .with_node(br, |n: &mut BrNode, now, _| {
                n.app_mut().unwrap().rotate_key(now)
            })
            .unwrap()
    };
    rotate(&mut w).expect("the first rotation");
    w.sim.run_until(secs(61));
    assert_eq!(
        rotate(&mut w),
        Err(firmware::app::AppError::SecurityBusy),
        "a second rotation a second later"
    );
    w.sim.run_until(secs(120));
    let seqs = key_sequences(&w);
    assert!(seqs.iter().all(|(_, s)| *s == 1), "{seqs:?}");
    let guard = firmware::app::KEY_SWITCH_GUARD.as_secs();
    w.sim.run_until(secs(61 + guard));
    rotate(&mut w).expect("a rotation after the guard time");
    w.sim.run_until(secs(61 + guard + 120));
    let seqs = key_sequences(&w);
    assert!(seqs.iter().all(|(_, s)| *s == 2), "{seqs:?}");
}

// ----- goodput, security on and off -----------------------------------------------------------------

/// Back-to-back 1232-byte UDP payloads over one hop (border router and one leaf), one in
/// flight, 40 of them, as `mesh_goodput.rs` measures: (goodput in kb/s between the first and
/// the last delivery, data frames per datagram sent by the first hop's sender, retries not
/// counted). Simulated time, seed 1: exact figures, asserted only to arrive.
fn one_hop_goodput(secured: bool, down: bool) -> (f64, f64) {
    const N: u32 = 40;
    let mut o = WorldOpts::new();
    o.nodes = 1;
    o.topology = TopologyKind::Line;
    if secured {
        o.overrides.network_key = Some(KEY);
    }
    let mut w = World::build(&o).unwrap();
    w.sim.run_for(Duration::from_secs(90));
    let leaf = leaf_global(&w, 0).expect("the leaf's address");
    let (br, leaf_id) = (w.br, w.nodes[0]);
    let sender = if down { br } else { leaf_id };
    let radio = |w: &World| w.sim.medium_ref().counters(w.sim.radio_of(sender).unwrap());
    let acks = |w: &World| -> (u64, u64) {
        let m = if down {
            *w.br().unwrap().app().unwrap().wpan().mac().counters()
        } else {
            *w.node(0).unwrap().port().mac_counters()
        };
        (u64::from(m.acks_sent), u64::from(m.tx_retries))
    };
    let (r0, a0) = (radio(&w), acks(&w));
    let payload = |i: u32| -> Vec<u8> {
        let mut d = i.to_be_bytes().to_vec();
        d.resize(1232, i as u8);
        d
    };
    let mut times = Vec::new();
    for i in 0..N {
        let d = payload(i);
        let ok = if down {
            w.sim
                .with_node(br, |n: &mut BrNode, _, _| {
                    n.host_mut().unwrap().send_udp(leaf, 49152, &d)
                })
                .unwrap()
        } else {
            w.sim
                .with_node(leaf_id, |n: &mut sim::smol::SmolNode, _, _| {
                    n.send_udp(sixgate_sim::simnet::HOST_ADDR, 49153, &d)
                })
                .unwrap()
        };
        assert!(ok, "datagram {i} not taken");
        let deadline = w.sim.now() + Duration::from_secs(5);
        let mut got = None;
        while got.is_none() && w.sim.now() < deadline {
            w.sim.run_for(Duration::from_millis(1));
            let now = w.sim.now();
            let arrived: Vec<Vec<u8>> = if down {
                w.sim
                    .node_mut::<sim::smol::SmolNode>(leaf_id)
                    .unwrap()
                    .udp_app_received()
                    .into_iter()
                    .map(|(_, d)| d)
                    .collect()
            } else {
                w.br_mut()
                    .unwrap()
                    .host_mut()
                    .unwrap()
                    .udp_received()
                    .into_iter()
                    .map(|d| d.data)
                    .collect()
            };
            if arrived.contains(&d) {
                got = Some(now);
            }
        }
        times.push(got.unwrap_or_else(|| panic!("datagram {i} lost (secured {secured})")));
    }
    let (r1, a1) = (radio(&w), acks(&w));
    let frames = (r1.tx_frames - r0.tx_frames) - (a1.0 - a0.0) - (a1.1 - a0.1);
    let secs = times[times.len() - 1]
        .saturating_since(times[0])
        .as_micros() as f64
        / 1e6;
    let kbps = f64::from((N - 1) * 1232 * 8) / secs / 1000.0;
    (kbps, frames as f64 / f64::from(N))
}

/// Issue 24, "Performance": the goodput of 1232-byte payloads over one hop with security on
/// and off, measured in the same run, and the frames each datagram takes (the auxiliary
/// security header and the MIC cost 10 bytes a frame). Printed for `docs/performance.md`.
#[test]
fn goodput_over_one_hop_with_and_without_security() {
    for down in [true, false] {
        let (plain, plain_frames) = one_hop_goodput(false, down);
        let (secured, secured_frames) = one_hop_goodput(true, down);
        eprintln!(
            "one hop {}: unsecured {plain:.1} kb/s, {plain_frames:.1} frames per datagram; \
             secured {secured:.1} kb/s ({:.3} × unsecured), {secured_frames:.1} frames per \
             datagram",
            if down { "down" } else { "up" },
            secured / plain
        );
        assert!(secured > 0.0 && plain > 0.0);
    }
}
