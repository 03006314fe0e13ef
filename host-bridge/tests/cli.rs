//! The `sixgate` CLI against a running `sixgate-sim --serial-pty` through a real
//! pseudo-terminal and the `serialport` crate: every command, human and `--json` output,
//! exit codes, a stopped device (timeout), a protocol-version mismatch, and the capture file
//! checked by tshark when it is installed.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{Sim, code, json, ok, sim_bin, sixgate};

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Every command against one simulated border router.
#[test]
fn every_command_against_the_simulator() {
    let sim = Sim::start("all", &[]);
    let p = sim.port();

    // info
    let h = ok(p, &["info"]);
    assert!(h.contains("firmware   sixgate"), "{h}");
    assert!(h.contains("prefix     2001:db8:1::/64"), "{h}");
    let j = json(p, &["info"]);
    assert_eq!(j["channel"], 26);
    assert_eq!(j["pan_id"], "0xabcd");
    assert_eq!(j["board"], "sixgate-sim");

    // iface
    let h = ok(p, &["iface", "list"]);
    assert!(h.starts_with("NAME"), "{h}");
    assert!(h.contains("wpan0") && h.contains("eth0"), "{h}");
    let j = json(p, &["iface", "list"]);
    assert_eq!(j.as_array().unwrap().len(), 2);
    let j = json(p, &["iface", "show", "wpan0"]);
    assert_eq!(j["kind"], "ieee802154");
    assert_eq!(j["mtu"], 1280);
    let h = ok(p, &["iface", "show", "eth0"]);
    assert!(h.starts_with("eth0: ethernet UP mtu 1500"), "{h}");
    let o = sixgate(p, &["iface", "show", "wlan9"]);
    // Issue 20 #10: invalid input (here an unknown interface) exits 2 wherever it is found.
    assert_eq!(code(&o), 2, "unknown interface is invalid input");
    assert_eq!(code(&sixgate(p, &["iface", "up", "wlan9"])), 2);
    ok(p, &["iface", "set", "wpan0", "tx-power", "-4"]);
    assert_eq!(json(p, &["config", "show"])["tx_power_dbm"], -4);
    assert_eq!(
        code(&sixgate(p, &["iface", "set", "wpan0", "channel", "30"])),
        2,
        "out-of-range channel is a usage error"
    );
    assert_eq!(
        code(&sixgate(p, &["iface", "set", "wpan0", "tx-power", "40"])),
        2,
        "out of the device's range: invalid input (issue 20 #10)"
    );
    assert_eq!(
        code(&sixgate(p, &["iface", "set", "eth0", "channel", "15"])),
        1,
        "eth0 has no radio"
    );
    ok(p, &["iface", "down", "eth0"]);
    assert_eq!(json(p, &["iface", "show", "eth0"])["admin_up"], false);
    ok(p, &["iface", "up", "eth0"]);
    assert_eq!(json(p, &["iface", "show", "eth0"])["admin_up"], true);

    // addr
    ok(p, &["addr", "add", "eth0", "2001:db8:77::1/64"]);
    let j = json(p, &["addr", "list"]);
    assert!(
        j.as_array()
            .unwrap()
            .iter()
            .any(|a| a["addr"] == "2001:db8:77::1" && a["iface"] == "eth0")
    );
    assert!(ok(p, &["addr", "list"]).contains("2001:db8:77::1/64"));
    ok(p, &["addr", "del", "eth0", "2001:db8:77::1"]);
    assert!(!ok(p, &["addr", "list"]).contains("2001:db8:77::1/"));
    assert_eq!(code(&sixgate(p, &["addr", "add", "eth0", "nonsense"])), 2);

    // route
    ok(
        p,
        &[
            "route",
            "add",
            "2001:db8:99::/48",
            "dev",
            "eth0",
            "via",
            "2001:db8::2",
            "metric",
            "5",
        ],
    );
    let j = json(p, &["route", "list"]);
    let r = j
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["prefix"] == "2001:db8:99::/48")
        .expect("route listed")
        .clone();
    assert_eq!(r["via"], "2001:db8::2");
    assert_eq!(r["metric"], 5);
    assert_eq!(r["origin"], "static");
    assert!(ok(p, &["route", "list"]).contains("2001:db8:99::/48"));
    ok(p, &["route", "del", "2001:db8:99::/48"]);
    assert!(!ok(p, &["route", "list"]).contains("2001:db8:99::/48"));
    assert_eq!(code(&sixgate(p, &["route", "del", "2001:db8:99::/48"])), 1);
    assert_eq!(code(&sixgate(p, &["route", "add", "2001:db8:99::/48"])), 2);

    // nodes: wait until the 8 simulated nodes have been heard.
    let t0 = Instant::now();
    let nodes = loop {
        let j = json(p, &["nodes", "list"]);
        let globals: Vec<String> = j
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|n| n["addresses"].as_array().unwrap())
            .filter_map(|a| a.as_str())
            .filter(|a| a.starts_with("2001:db8:1:"))
            .map(str::to_string)
            .collect();
        if globals.len() >= 8 {
            break globals;
        }
        assert!(t0.elapsed() < Duration::from_secs(40), "nodes: {j}");
        std::thread::sleep(Duration::from_millis(500));
    };
    let h = ok(p, &["nodes", "list"]);
    assert!(h.starts_with("LLADDR"), "{h}");
    assert!(h.contains("devices"), "{h}");

    // ping: the backbone host, then a mesh node with a fragmented 1200-byte payload.
    let j = json(p, &["ping", "2001:db8::2", "-c", "3", "-i", "0.1"]);
    assert_eq!(j["received"], 3, "{j}");
    assert!(j["rtt_ms"]["avg"].as_f64().unwrap() < 500.0, "{j}");
    let h = ok(p, &["ping", "2001:db8::2", "-c", "2", "-i", "0.1"]);
    assert!(h.contains("bytes from 2001:db8::2: icmp_seq=1"), "{h}");
    assert!(h.contains("2 packets transmitted, 2 received"), "{h}");
    let node = &nodes[0];
    let j = json(p, &["ping", node, "-c", "6", "-s", "1200", "-i", "0.2"]);
    // smoltcp drops the echoes that arrive while it resolves the border router's address
    // (it does not queue them); after that every echo comes back.
    assert!(j["received"].as_u64().unwrap() >= 3, "{j}");
    assert_eq!(j["replies"][5]["reply"], true, "{j}");
    assert_eq!(j["replies"][5]["size"], 1200, "{j}");
    let o = sixgate(p, &["ping", "2001:db8:dead::1", "-c", "1", "-W", "0.5"]);
    assert_eq!(code(&o), 1, "no reply is exit 1");
    // A link-local destination without %IFACE is invalid input (issue 20 #10).
    assert_eq!(code(&sixgate(p, &["ping", "fe80::1", "-c", "1"])), 2);
    assert_eq!(code(&sixgate(p, &["ping", "not-an-address"])), 2);

    // neigh: the host is in the cache after the pings.
    let j = json(p, &["neigh", "list"]);
    assert!(
        j.as_array()
            .unwrap()
            .iter()
            .any(|n| n["addr"] == "2001:db8::2" && n["mac"].is_string()),
        "{j}"
    );
    assert!(ok(p, &["neigh", "list"]).contains("2001:db8::2"));

    // stats: grouped by layer, per interface, resettable.
    let j = json(p, &["stats"]);
    assert!(j["wpan0"]["mac"]["tx_frames"].as_u64().unwrap() > 0, "{j}");
    assert!(j["wpan0"]["6lowpan"]["rx_frames"].is_u64(), "{j}");
    assert!(
        j["eth0"]["ethernet"]["rx_frames"].as_u64().unwrap() > 0,
        "{j}"
    );
    assert!(j["eth0"]["nd"]["tx_na"].is_u64() || j["eth0"]["nd"]["rx_na"].is_u64());
    assert!(
        j["device"]["device"]["ping_sent"].as_u64().unwrap() >= 9,
        "{j}"
    );
    let h = ok(p, &["stats", "wpan0"]);
    assert!(h.contains("wpan0 mac:") && !h.contains("eth0 "), "{h}");
    let before = j["eth0"]["ipv6"]["rx_packets"].as_u64().unwrap();
    assert!(before > 0);
    ok(p, &["stats", "eth0", "--reset"]);
    let after = json(p, &["stats", "eth0"]);
    assert!(
        after["eth0"]["ipv6"]["rx_packets"].as_u64().unwrap() < before,
        "{after}"
    );
    assert!(after.get("wpan0").is_none());
    assert_eq!(code(&sixgate(p, &["stats", "wlan9"])), 2, "invalid input");

    // scan energy
    let j = json(p, &["scan", "energy", "--channels", "11-13"]);
    assert_eq!(j.as_array().unwrap().len(), 3, "{j}");
    assert_eq!(j[0]["channel"], 11);
    let h = ok(p, &["scan", "energy", "--channels", "25,26"]);
    assert!(h.contains("channel  energy"), "{h}");
    assert_eq!(
        code(&sixgate(p, &["scan", "energy", "--channels", "5-9"])),
        2
    );
    // Traffic resumes on the configured channel after the scan.
    let j = json(p, &["ping", "2001:db8::2", "-c", "1"]);
    assert_eq!(j["received"], 1);

    // capture to a file, checked by tshark when available.
    let file = sim.dir.join("cap.pcapng");
    let f = file.display().to_string();
    let o = sixgate(p, &["capture", "-c", "30", "-w", &f]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("30 frames"), "progress line: {err}");
    let bytes = std::fs::read(&file).unwrap();
    check_pcapng(&bytes);
    if have("tshark") {
        tshark_check(&file);
    }
    // Streaming to stdout.
    let o = sixgate(p, &["capture", "-i", "wpan0", "-c", "5", "-w", "-"]);
    assert!(o.status.success());
    assert_eq!(
        &o.stdout[..4],
        &[0x0a, 0x0d, 0x0d, 0x0a],
        "pcapng on stdout"
    );
    check_pcapng(&o.stdout);
    let o = sixgate(p, &["--json", "capture", "-i", "eth0", "-c", "2", "-w", &f]);
    assert!(o.status.success());
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["frames"], 2);
    assert_eq!(j["eth0"], 2);
    assert_eq!(code(&sixgate(p, &["capture", "-i", "wlan9", "-w", "-"])), 2);

    // events and log
    let o = sixgate(p, &["events", "--duration", "0.5"]);
    assert!(o.status.success());
    let h = ok(p, &["log", "-c", "1", "--duration", "10"]);
    assert!(
        h.contains("INFO") && h.contains("log stream started"),
        "{h}"
    );
    let o = sixgate(p, &["--json", "log", "-c", "1", "--duration", "10"]);
    let line: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(line["level"], "INFO");

    // prefix
    let j = json(p, &["prefix", "show"]);
    assert_eq!(j["prefix"], "2001:db8:1::/64");
    assert_eq!(j["context_id"], 0);
    let v0 = j["abro_version"].as_u64().unwrap();
    ok(p, &["prefix", "set", "2001:db8:5::/64"]);
    let j = json(p, &["prefix", "show"]);
    assert_eq!(j["prefix"], "2001:db8:5::/64");
    assert!(j["abro_version"].as_u64().unwrap() > v0);
    assert!(ok(p, &["prefix", "show"]).starts_with("2001:db8:5::/64"));
    assert_eq!(
        code(&sixgate(p, &["prefix", "set", "fe80::/64"])),
        2,
        "invalid input"
    );

    // config save, reboot keeps it, reset brings the defaults back at the next boot.
    assert!(ok(p, &["config", "show"]).contains("prefix"));
    ok(p, &["config", "save"]);
    assert!(ok(p, &["reboot"]).contains("rebooting"));
    std::thread::sleep(Duration::from_millis(300));
    let j = json(p, &["info"]);
    assert_eq!(
        j["prefix"], "2001:db8:5::/64",
        "saved configuration survives reboot"
    );
    assert!(j["uptime_ms"].as_u64().unwrap() < 30_000);
    assert_eq!(j["tx_power_dbm"], -4);
    ok(p, &["config", "reset"]);
    ok(p, &["reboot"]);
    std::thread::sleep(Duration::from_millis(300));
    let j = json(p, &["info"]);
    assert_eq!(
        j["prefix"], "2001:db8:1::/64",
        "defaults after reset + reboot"
    );
    assert_eq!(j["tx_power_dbm"], 0);
}

/// The pcapng has a section header, interface blocks, packets and interface statistics
/// blocks with a drop counter (isb_ifdrop) for every interface.
fn check_pcapng(b: &[u8]) {
    let mut off = 0usize;
    let (mut idbs, mut epbs, mut isbs_with_drop) = (0, 0, 0);
    while off + 12 <= b.len() {
        let ty = u32::from_le_bytes(b[off..off + 4].try_into().unwrap());
        let len = u32::from_le_bytes(b[off + 4..off + 8].try_into().unwrap()) as usize;
        assert!(len >= 12 && off + len <= b.len(), "block at {off}");
        let body = &b[off + 8..off + len - 4];
        match ty {
            1 => idbs += 1,
            6 => epbs += 1,
            5 => {
                // Options after interface id and timestamp (12 bytes).
                let mut o = 12;
                while o + 4 <= body.len() {
                    let code = u16::from_le_bytes([body[o], body[o + 1]]);
                    let l = u16::from_le_bytes([body[o + 2], body[o + 3]]) as usize;
                    if code == 5 && l == 8 {
                        isbs_with_drop += 1;
                    }
                    if code == 0 {
                        break;
                    }
                    o += 4 + l.div_ceil(4) * 4;
                }
            }
            _ => {}
        }
        off += len;
    }
    assert_eq!(off, b.len(), "whole blocks");
    assert!(idbs >= 1 && epbs >= 1, "idb {idbs} epb {epbs}");
    assert_eq!(isbs_with_drop, idbs, "every interface has its drop counter");
}

/// tshark decodes every frame (802.15.4 / 6LoWPAN / IPv6 / Ethernet), with good FCS and no
/// malformed packets.
fn tshark_check(file: &Path) {
    let f = file.display().to_string();
    let out = Command::new("tshark")
        .args([
            "-r",
            &f,
            "-T",
            "fields",
            "-e",
            "frame.protocols",
            "-e",
            "wpan.fcs_ok",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let protos = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = protos.lines().collect();
    assert!(!lines.is_empty());
    let mut sixlo = 0;
    for l in &lines {
        let (stack, fcs_ok) = l.split_once('\t').unwrap_or((l, ""));
        if stack.starts_with("wpan-tap") {
            assert_eq!(fcs_ok, "1", "802.15.4 FCS good: {l}");
        } else {
            assert!(
                stack.starts_with("eth:ethertype:ipv6"),
                "unexpected stack {l}"
            );
        }
        if stack.contains("6lowpan:ipv6") {
            sixlo += 1;
        }
        assert!(!stack.contains("_ws.malformed"), "malformed: {l}");
    }
    assert!(sixlo > 0, "some 6LoWPAN frames: {protos}");
    let out = Command::new("tshark")
        .args([
            "-r",
            &f,
            "-Y",
            "_ws.malformed || wpan.fcs.bad || _ws.expert.severity >= error",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = String::from_utf8_lossy(&out.stdout);
    assert!(bad.trim().is_empty(), "tshark flags: {bad}");
}

/// A stopped device: exit 3 after the timeout, naming the port.
#[test]
fn stopped_device_times_out() {
    let sim = Sim::start("stopped", &[]);
    let p = sim.port();
    ok(p, &["info"]);
    let st = Command::new("kill")
        .args(["-STOP", &sim.pid().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let t0 = Instant::now();
    let o = sixgate(p, &["--timeout", "1", "info"]);
    assert_eq!(code(&o), 3);
    assert!(t0.elapsed() < Duration::from_secs(10));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&p.display().to_string()), "{err}");
    assert!(err.contains("no answer"), "{err}");
}

/// A device speaking another protocol version: exit 3 with a clear message.
#[test]
fn protocol_version_mismatch() {
    let sim = Sim::start("mismatch", &["--mgmt-protocol-version", "9"]);
    let o = sixgate(sim.port(), &["info"]);
    assert_eq!(code(&o), 3);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("incompatible device"), "{err}");
    assert!(err.contains("version 9"), "{err}");
}

/// No device at all, and usage errors.
#[test]
fn no_device_and_usage() {
    let o = sixgate(Path::new("/nonexistent/tty"), &["info"]);
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/tty"));
    let o = Command::new(env!("CARGO_BIN_EXE_sixgate"))
        .arg("info")
        .env_remove("SIXGATE_PORT")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--port"));
    let o = sixgate(Path::new("/nonexistent/tty"), &["frobnicate"]);
    assert_eq!(code(&o), 2);
    let o = Command::new(env!("CARGO_BIN_EXE_sixgate"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    let help = String::from_utf8_lossy(&o.stdout);
    for c in [
        "info", "iface", "addr", "route", "neigh", "nodes", "prefix", "stats", "ping", "scan",
        "capture", "events", "log", "config", "reboot", "pcap",
    ] {
        assert!(help.contains(c), "--help lists {c}");
    }
}

/// Issue 19, finding 9a: `config save` against a store that fails exits 1 and says what
/// failed; the change stays unsaved until a save succeeds.
#[test]
fn failed_config_save_exits_non_zero() {
    let sim = Sim::start("save-fails", &[]);
    let p = sim.port();
    // A directory where the write's temporary file goes: every save fails (even for root).
    let tmp = sim.dir.join("config.bin.tmp");
    std::fs::create_dir(&tmp).unwrap();
    ok(p, &["iface", "set", "wpan0", "channel", "20"]);
    assert_eq!(json(p, &["config", "show"])["unsaved"], true);
    // sixgate-sim saves routes and addresses with the configuration, and says so.
    assert_eq!(json(p, &["config", "show"])["routes_saved"], true);
    let o = sixgate(p, &["config", "save"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 1, "{err}");
    assert!(
        err.contains("configuration not saved") && err.contains("Is a directory"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).is_empty());
    assert_eq!(json(p, &["config", "show"])["unsaved"], true);
    let j = json(p, &["stats"]);
    assert_eq!(j["device"]["device"]["mgmt_store_failures"], 1, "{j}");
    // Repaired: saved, and nothing left unsaved.
    std::fs::remove_dir(&tmp).unwrap();
    assert!(ok(p, &["config", "save"]).contains("configuration saved"));
    assert_eq!(json(p, &["config", "show"])["unsaved"], false);
}

/// Issue 19, finding 9b: another client's handshake ends a running `sixgate events` with a
/// clear error (exit 3) instead of leaving it waiting for events that no longer come.
#[test]
fn second_client_takes_over_the_session() {
    use mgmt::{Header, Kind, Request};
    use std::io::Write;
    let sim = Sim::start("takeover", &[]);
    let p = sim.port();
    // The second client opens the line first (a port opened exclusively refuses later opens
    // unless root), and never reads: what the device sends goes to the first client.
    let mut intruder = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(p)
        .unwrap();
    let first = Command::new(env!("CARGO_BIN_EXE_sixgate"))
        .arg("--port")
        .arg(p)
        .args(["events", "--duration", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Subscribed by then (one request and answer).
    std::thread::sleep(Duration::from_secs(2));
    let mut hello = vec![0u8; mgmt::MAX_FRAME];
    let n = mgmt::encode(
        Header::new(Kind::Request, 1),
        &Request::Hello {
            version: mgmt::PROTOCOL_VERSION,
            schema: mgmt::schema_fingerprint(),
            client: "intruder",
        },
        &mut hello,
    )
    .unwrap();
    intruder.write_all(&[0]).unwrap();
    intruder.write_all(&hello[..n]).unwrap();
    let t0 = Instant::now();
    let mut first = first;
    while first.try_wait().unwrap().is_none() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = first.kill();
    let o = first.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 3, "{err}");
    assert!(
        err.contains("another client took over the management session"),
        "{err}"
    );
    assert!(err.contains(&p.display().to_string()), "{err}");
    drop(intruder);
    let j = json(p, &["stats"]);
    assert_eq!(j["device"]["device"]["mgmt_sessions_taken_over"], 1, "{j}");
}

/// Events over the same PTY and transport the CLI uses: a run-time change made in the session
/// arrives as an event.
#[test]
fn events_follow_changes() {
    use host_bridge::device;
    use mgmt::{EventKind, IfaceSetting, Message, Request};
    let sim = Sim::start("events", &[]);
    let port = sim.port().display().to_string();
    let mut d = device::open(&port, 115_200, Duration::from_secs(3)).unwrap();
    d.request_ok(&Request::Subscribe {
        events: true,
        logs: false,
    })
    .unwrap();
    d.request_ok(&Request::IfaceSet {
        iface: "wpan0",
        setting: IfaceSetting::Channel(15),
    })
    .unwrap();
    let mut got = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.is_none() && Instant::now() < deadline {
        d.next_frame(deadline, &mut |_, m| {
            if let Ok(Message::Event(e)) = m
                && let EventKind::ChannelChanged(c) = e.kind
            {
                got = Some(c);
            }
        })
        .unwrap();
    }
    assert_eq!(got, Some(15));
}

/// `sixgate pcap decode` (no device): scapy-built 802.15.4 frames to the IPv6 packets scapy
/// started from, human and `--json`, and its usage errors.
#[test]
fn pcap_decode_command() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let dir = std::env::temp_dir().join(format!("sixgate-cli-{}-decode", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.pcap");
    let run = |json: bool, ctx: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sixgate"));
        if json {
            c.arg("--json");
        }
        c.args(["pcap", "decode"])
            .arg(data.join("scapy_15_4.pcap"))
            .arg(&out)
            .args(ctx)
            .env_remove("SIXGATE_PORT")
            .output()
            .unwrap()
    };
    let ctx = [
        "--context",
        "0=2001:db8:1::/64",
        "--context",
        "5=2001:db8:cafe::/48",
    ];
    let o = run(false, &ctx);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("decoded"), "{text}");
    assert!(
        std::fs::read(&out).unwrap()
            == std::fs::read(data.join("scapy_expected_ipv6.pcap")).unwrap(),
        "byte-identical to scapy's packets"
    );
    let o = run(true, &ctx);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(j.is_object(), "{j}");
    // Without the contexts, context-compressed frames are malformed, not guessed.
    let o = run(true, &[]);
    assert!(o.status.success());
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(j.to_string().contains("unknown context"), "{j}");
    let o = run(false, &["--context", "16=2001:db8::/64"]);
    assert_eq!(code(&o), 2);
    let o = Command::new(env!("CARGO_BIN_EXE_sixgate"))
        .args(["pcap", "decode", "/nonexistent.pcap"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent.pcap"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the simulator alone (no PTY) for `secs` simulated seconds with `extra` arguments.
fn sim_run(dir: &Path, secs: &str, extra: &[&str]) {
    let o = Command::new(sim_bin())
        .args(["--duration", secs, "--reading-period", "3"])
        .arg("--config")
        .arg(dir.join("config.bin"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Issue 20 #3: the connected mesh route cannot be deleted; `route add` refuses an off-link
/// next hop and a duplicate (unless `--replace`), says when it masks host bits, and takes
/// `default`.
#[test]
fn route_del_keeps_connected_routes_and_route_add_checks() {
    let sim = Sim::start("routes", &[]);
    let p = sim.port();
    let mesh_routes = |p: &Path| {
        json(p, &["route", "list"])
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["prefix"] == "2001:db8:1::/64")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(mesh_routes(p).len(), 1);
    let o = sixgate(p, &["route", "del", "2001:db8:1::/64"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("connected"), "{}", stderr(&o));
    let r = mesh_routes(p);
    assert_eq!(r.len(), 1, "the connected route is still there");
    assert_eq!(r[0]["origin"], "connected");

    // An off-link next hop is refused.
    let o = sixgate(
        p,
        &[
            "route",
            "add",
            "2001:db8:99::/48",
            "dev",
            "eth0",
            "via",
            "2001:db8:7::1",
        ],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("on-link"), "{}", stderr(&o));
    assert!(!ok(p, &["route", "list"]).contains("2001:db8:99::/48"));

    // Host bits are masked, and said so.
    let o = sixgate(
        p,
        &[
            "route",
            "add",
            "2001:db8:99::1/48",
            "dev",
            "eth0",
            "via",
            "2001:db8::2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("host bits"), "{}", stderr(&o));
    assert!(ok(p, &["route", "list"]).contains("2001:db8:99::/48"));

    // A duplicate is refused; --replace replaces it.
    let o = sixgate(
        p,
        &[
            "route",
            "add",
            "2001:db8:99::/48",
            "dev",
            "eth0",
            "metric",
            "7",
        ],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("--replace"), "{}", stderr(&o));
    ok(
        p,
        &[
            "route",
            "add",
            "2001:db8:99::/48",
            "dev",
            "eth0",
            "metric",
            "7",
            "--replace",
        ],
    );
    let j = json(p, &["route", "list"]);
    let r: Vec<&Value> = j
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["prefix"] == "2001:db8:99::/48")
        .collect();
    assert_eq!(r.len(), 1, "{j}");
    assert_eq!(r[0]["metric"], 7, "{j}");
    assert!(r[0]["via"].is_null(), "{j}");
    // A static route over the connected mesh prefix is refused too.
    let o = sixgate(p, &["route", "add", "2001:db8:1::/64", "dev", "wpan0"]);
    assert_ne!(code(&o), 0, "{}", stderr(&o));

    // `default` is ::/0.
    ok(
        p,
        &["route", "add", "default", "dev", "eth0", "via", "fe80::1"],
    );
    let j = json(p, &["route", "list"]);
    assert!(
        j.as_array()
            .unwrap()
            .iter()
            .any(|r| r["prefix"] == "::/0" && r["origin"] == "static" && r["via"] == "fe80::1"),
        "{j}"
    );
    ok(p, &["route", "del", "default"]);
    assert!(!ok(p, &["route", "list"]).contains("fe80::1"));
}

/// Issue 20 #6: `stats --reset` clears counters only; gauges keep their value and are marked.
#[test]
fn stats_reset_keeps_gauges() {
    let sim = Sim::start("gauges", &[]);
    let p = sim.port();
    let t0 = Instant::now();
    while json(p, &["info"])["nodes_gleaned"].as_u64().unwrap_or(0)
        + json(p, &["info"])["nodes_registered"].as_u64().unwrap_or(0)
        == 0
    {
        assert!(t0.elapsed() < Duration::from_secs(40), "no nodes heard");
        std::thread::sleep(Duration::from_millis(500));
    }
    ok(p, &["stats", "--reset"]);
    let info = json(p, &["info"]);
    let j = json(p, &["stats"]);
    let d = &j["device"]["device"];
    assert!(d["pool_free"].as_u64().unwrap() > 0, "{j}");
    assert!(
        d["pool_free"].as_u64().unwrap() + 4 >= info["pool_free"].as_u64().unwrap(),
        "{j} vs {info}"
    );
    assert!(
        d["nodes_gleaned"].as_u64().unwrap() + d["nodes_registered"].as_u64().unwrap() > 0,
        "{j}"
    );
    let gauges: Vec<&str> = j["gauges"]
        .as_array()
        .unwrap_or_else(|| panic!("no gauges list: {j}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(gauges.contains(&"pool_free"), "{gauges:?}");
    assert!(gauges.contains(&"nodes_gleaned"), "{gauges:?}");
    assert!(!gauges.contains(&"ping_sent"), "{gauges:?}");
    let h = ok(p, &["stats"]);
    let line = h.lines().find(|l| l.contains("pool_free")).unwrap();
    assert!(line.contains("(gauge)"), "{line}");
    let line = h.lines().find(|l| l.contains("ping_sent")).unwrap();
    assert!(!line.contains("gauge"), "{line}");
}

/// Issue 20 #7: one `ping -s` limit, what the device can send (a 1280-byte packet), stated
/// in `--help`; the CLI and the device refuse more with the same range.
#[test]
fn ping_size_limit_is_what_the_device_sends() {
    let o = Command::new(env!("CARGO_BIN_EXE_sixgate"))
        .args(["ping", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    let limit = mgmt::MAX_PING_SIZE.to_string();
    assert!(help.contains(&limit), "{help}");
    let sim = Sim::start("pingsize", &[]);
    let p = sim.port();
    let j = json(p, &["ping", "2001:db8::2", "-c", "1", "-s", &limit]);
    assert_eq!(j["received"], 1, "{j}");
    let over = (mgmt::MAX_PING_SIZE + 1).to_string();
    let o = sixgate(p, &["ping", "2001:db8::2", "-c", "1", "-s", &over]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains(&limit), "{}", stderr(&o));
    // The device refuses it by itself too (another client, the same limit).
    let mut d =
        host_bridge::device::open(&p.display().to_string(), 115_200, Duration::from_secs(3))
            .unwrap();
    let e = d
        .request(
            &mgmt::Request::Ping {
                dst: "2001:db8::2"
                    .parse::<std::net::Ipv6Addr>()
                    .unwrap()
                    .octets(),
                size: mgmt::MAX_PING_SIZE + 1,
                seq: 1,
                timeout_ms: 500,
                iface: None,
            },
            |_| (),
        )
        .unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    assert!(e.to_string().contains(&limit), "{e}");
}

/// Issue 20 #10: invalid input exits 2 wherever it is found (CLI or device), and the
/// message gives the valid range.
#[test]
fn invalid_input_exits_2_with_the_valid_range() {
    let sim = Sim::start("ranges", &[]);
    let p = sim.port();
    let cases: &[(&[&str], &str)] = &[
        (&["iface", "set", "wpan0", "channel", "27"], "11..=26"),
        (&["iface", "set", "wpan0", "tx-power", "9"], "-40..=8"),
        (&["iface", "set", "wpan0", "pan-id", "0xffff"], "0xfffe"),
        (&["iface", "set", "wpan0", "pan-id", "70000"], "0xfffe"),
        (&["prefix", "set", "2001:db8:5::/48"], "/64"),
        (&["iface", "show", "wlan9"], "wlan9"),
        (&["stats", "wlan9"], "wlan9"),
    ];
    for (args, range) in cases {
        let o = sixgate(p, args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(range), "{args:?}: {}", stderr(&o));
    }
    // Nothing changed.
    let j = json(p, &["info"]);
    assert_eq!(j["channel"], 26);
    assert_eq!(j["pan_id"], "0xabcd");
}

/// Issue 20 #12: the `\r` progress line only on a terminal; binary capture to a terminal is
/// refused.
#[test]
fn progress_line_only_on_a_terminal_and_no_binary_to_a_terminal() {
    let sim = Sim::start("tty", &[]);
    let p = sim.port();
    let file = sim.dir.join("cap.pcapng");
    let o = sixgate(
        p,
        &["capture", "-c", "5", "-w", &file.display().to_string()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains('\r'), "{:?}", stderr(&o));
    assert!(stderr(&o).contains("5 frames"), "{:?}", stderr(&o));
    // A second simulator's PTY stands for the user's terminal.
    let term = Sim::start("tty-term", &[]);
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(term.port())
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_sixgate"))
        .arg("--port")
        .arg(p)
        .args(["capture", "-c", "5", "-w", "-"])
        .stdout(Stdio::from(tty))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("terminal"), "{}", stderr(&o));
}

/// Issue 20 #13: `pcap decode` learns the mesh's contexts from the 6COs of the router
/// advertisements in the capture; `-` is standard input or output.
#[test]
fn pcap_decode_learns_contexts_from_ras_and_takes_dash() {
    let dir = std::env::temp_dir().join(format!("sixgate-cli-{}-6co", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("run.pcapng");
    sim_run(&dir, "30", &["--capture", &cap.display().to_string()]);
    let out = dir.join("out.pcap");
    let o = Command::new(env!("CARGO_BIN_EXE_sixgate"))
        .args(["--json", "pcap", "decode"])
        .arg(&cap)
        .arg(&out)
        .env_remove("SIXGATE_PORT")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["malformed"]["total"], 0, "{j}");
    assert!(j["datagrams"].as_u64().unwrap() > 20, "{j}");
    assert_eq!(j["contexts_learned"][0]["prefix"], "2001:db8:1::/64", "{j}");
    // Standard input and output.
    let o = Command::new(env!("CARGO_BIN_EXE_sixgate"))
        .args(["pcap", "decode", "-", "-"])
        .stdin(Stdio::from(std::fs::File::open(&cap).unwrap()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("SIXGATE_PORT")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        o.stdout,
        std::fs::read(&out).unwrap(),
        "same packets on stdout"
    );
    assert!(
        stderr(&o).contains("decoded"),
        "the report goes to stderr: {}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 20 #14: `nodes list` has one row per device (link-layer address) with its
/// addresses; the status counts devices.
#[test]
fn nodes_are_listed_per_device() {
    let sim = Sim::start("devices", &[]);
    let p = sim.port();
    let t0 = Instant::now();
    let j = loop {
        let j = json(p, &["nodes", "list"]);
        let globals = j
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| {
                n["addresses"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|a| a.as_str().unwrap().starts_with("2001:")))
            })
            .count();
        if globals >= 8 {
            break j;
        }
        assert!(t0.elapsed() < Duration::from_secs(40), "nodes: {j}");
        std::thread::sleep(Duration::from_millis(500));
    };
    let devs = j.as_array().unwrap();
    assert_eq!(devs.len(), 8, "{j}");
    for d in devs {
        assert!(d["lladdr"].is_string(), "{d}");
        let a = d["addresses"].as_array().unwrap();
        assert!(
            a.iter().any(|a| a.as_str().unwrap().starts_with("fe80::")),
            "{d}"
        );
    }
    let h = ok(p, &["nodes", "list"]);
    assert!(h.contains("8 devices"), "{h}");
    let info = json(p, &["info"]);
    assert_eq!(
        info["nodes_registered"].as_u64().unwrap() + info["nodes_gleaned"].as_u64().unwrap(),
        8,
        "{info}"
    );
    // The simulator's status counts devices too.
    let dir = sim.dir.join("run");
    std::fs::create_dir_all(&dir).unwrap();
    let summary = dir.join("summary.json");
    sim_run(
        &dir,
        "30",
        &["--summary-json", &summary.display().to_string()],
    );
    let s: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let br = &s["border_router"];
    let (reg, gl) = (br["registered"].as_u64(), br["gleaned"].as_u64());
    assert_eq!(reg.unwrap_or(0) + gl.unwrap_or(0), 8, "{s}");
}
