//! `sixgate pcap decode` against captures built by scapy's 802.15.4 / 6LoWPAN layers (not by
//! our code): the decoded IPv6 packets must be byte-identical to the ones scapy started from.
//! The vectors are generated once by `tests/gen_scapy_vectors.py` and committed under
//! `tests/data/`, so this test needs no Python (the generator's docstring lists the scapy
//! quirks worked around and the cases excluded). Damaged and malformed inputs are derived from
//! the same capture.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use host_bridge::pcap_decode::{
    ContextArg, DecodeError, DecodeReport, Decoded, DecodedPacket, decode_bytes, decode_file,
    ipv6_pcap, parse_context_arg,
};

fn data(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One record of a little-endian classic pcap with µs timestamps.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rec {
    ts_us: u64,
    data: Vec<u8>,
}

/// A tiny independent reader of classic little-endian pcap files: (linktype, records).
fn read_pcap(b: &[u8]) -> (u32, Vec<Rec>) {
    assert_eq!(&b[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian µs pcap");
    let u = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let lt = u(20);
    let mut off = 24;
    let mut v = Vec::new();
    while off < b.len() {
        let (sec, usec, incl) = (u(off), u(off + 4), u(off + 8) as usize);
        v.push(Rec {
            ts_us: u64::from(sec) * 1_000_000 + u64::from(usec),
            data: b[off + 16..off + 16 + incl].to_vec(),
        });
        off += 16 + incl;
    }
    (lt, v)
}

/// A classic little-endian pcap of `recs`.
fn write_pcap(lt: u32, recs: &[Rec]) -> Vec<u8> {
    let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    v.extend_from_slice(&65535u32.to_le_bytes());
    v.extend_from_slice(&lt.to_le_bytes());
    for r in recs {
        v.extend_from_slice(&((r.ts_us / 1_000_000) as u32).to_le_bytes());
        v.extend_from_slice(&((r.ts_us % 1_000_000) as u32).to_le_bytes());
        v.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        v.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        v.extend_from_slice(&r.data);
    }
    v
}

/// The counts and contexts the generator recorded.
struct Expected {
    counts: BTreeMap<String, u64>,
    contexts: Vec<ContextArg>,
    packets: Vec<Rec>,
}

fn expected() -> Expected {
    let text = String::from_utf8(data("scapy_expected.txt")).unwrap();
    let mut counts = BTreeMap::new();
    let mut contexts = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (k, v) = line.split_once(' ').unwrap();
        if k == "context" {
            contexts.push(parse_context_arg(v).unwrap());
        } else {
            counts.insert(k.to_string(), v.parse().unwrap());
        }
    }
    let (lt, packets) = read_pcap(&data("scapy_expected_ipv6.pcap"));
    assert_eq!(lt, 229);
    assert_eq!(packets.len() as u64, counts["datagrams"]);
    Expected {
        counts,
        contexts,
        packets,
    }
}

fn recs(d: &Decoded) -> Vec<Rec> {
    d.packets
        .iter()
        .map(|p| Rec {
            ts_us: p.ts_us,
            data: p.data.clone(),
        })
        .collect()
}

fn assert_accounted(r: &DecodeReport) {
    assert_eq!(
        r.frames,
        r.frames_decoded + r.skipped_total() + r.malformed_total(),
        "every frame is counted once: {r:?}"
    );
}

/// Index of the first record whose 6LoWPAN payload (after a 9-byte short/short PAN-compressed
/// MAC header) starts with `dispatch`.
fn find_frame(frames: &[Rec], dispatch: u8) -> usize {
    frames
        .iter()
        .position(|r| r.data.get(9) == Some(&dispatch) && r.data[0] == 0x41)
        .expect("frame present")
}

#[test]
fn scapy_frames_decode_to_the_ipv6_packets_scapy_started_from() {
    let exp = expected();
    let d = decode_bytes(&data("scapy_15_4.pcap"), &exp.contexts).unwrap();
    let got = recs(&d);
    assert_eq!(got.len(), exp.packets.len());
    for (i, (g, e)) in got.iter().zip(&exp.packets).enumerate() {
        assert_eq!(g.data, e.data, "datagram {i}: IPv6 bytes differ");
        assert_eq!(
            g.ts_us, e.ts_us,
            "datagram {i}: timestamp of the completing frame"
        );
    }
    let r = &d.report;
    assert_accounted(r);
    assert_eq!(r.frames, exp.counts["frames"]);
    assert_eq!(r.datagrams, exp.counts["datagrams"]);
    assert_eq!(r.skipped_total(), exp.counts["skipped"]);
    assert_eq!(r.malformed_total(), exp.counts["malformed"]);
    assert_eq!(r.malformed.get("bad FCS"), Some(&1));
    for reason in [
        "802.15.4 acknowledgment",
        "802.15.4 beacon",
        "802.15.4 MAC command",
        "not a LoWPAN frame (NALP dispatch)",
    ] {
        assert_eq!(r.skipped.get(reason), Some(&1), "{reason}: {r:?}");
    }
    // Two 1280-byte datagrams of 14 fragments each (uncompressed; IPHC-compressed headers).
    assert_eq!(
        (r.reassembled, r.fragments, r.incomplete_datagrams),
        (2, 28, 0)
    );
    assert!(d.packets.iter().filter(|p| p.data.len() == 1280).count() == 2);

    let text = r.to_string();
    assert!(
        text.starts_with("52 frames: 47 decoded, 4 skipped, 1 malformed"),
        "{text}"
    );
    assert!(text.contains("bad FCS"));
    assert!(!text.contains("hint:"));
    let j = r.to_json();
    assert_eq!(j["datagrams"], 21);
    assert_eq!(j["malformed"]["total"], 1);
    assert_eq!(j["malformed"]["by_reason"]["bad FCS"], 1);
    assert_eq!(j["skipped"]["by_reason"]["802.15.4 acknowledgment"], 1);
}

#[test]
fn pcapng_without_fcs_decodes_the_same() {
    // The same frames without FCS (linktype 230, pcapng): nothing to check the FCS against, so
    // the frame whose FCS scapy spoiled decodes too — one packet more, nothing else changes.
    let exp = expected();
    let d = decode_bytes(&data("scapy_15_4_nofcs.pcapng"), &exp.contexts).unwrap();
    let got = recs(&d);
    assert_accounted(&d.report);
    assert_eq!(d.report.malformed_total(), 0, "{:?}", d.report);
    assert_eq!(got.len(), exp.packets.len() + 1);
    let extra: Vec<_> = got.iter().filter(|g| !exp.packets.contains(g)).collect();
    assert_eq!(extra.len(), 1);
    assert_eq!(extra[0].data.last(), Some(&b'x'));
    assert_eq!(
        got.iter()
            .filter(|g| exp.packets.contains(g))
            .collect::<Vec<_>>(),
        exp.packets.iter().collect::<Vec<_>>()
    );
}

#[test]
fn context_frames_without_context_are_malformed_with_the_reason() {
    let exp = expected();
    let d = decode_bytes(&data("scapy_15_4.pcap"), &[]).unwrap();
    let r = &d.report;
    assert_accounted(r);
    assert_eq!(r.malformed.get("unknown context 0"), Some(&1), "{r:?}");
    assert_eq!(r.malformed.get("unknown context 5"), Some(&2), "{r:?}");
    assert_eq!(r.datagrams, exp.counts["datagrams"] - 3);
    assert!(
        r.to_string()
            .contains("hint: give the compression contexts")
    );
    // Only context 0: the context-5 frames stay malformed.
    let only0: Vec<_> = exp.contexts.iter().copied().filter(|c| c.0 == 0).collect();
    let d = decode_bytes(&data("scapy_15_4.pcap"), &only0).unwrap();
    assert_eq!(d.report.malformed.get("unknown context 0"), None);
    assert_eq!(d.report.malformed.get("unknown context 5"), Some(&2));
}

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("sixgate-pcap-decode-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn decode_file_writes_a_linktype_229_pcap_that_tshark_reads() {
    let exp = expected();
    let dir = Scratch::new("write");
    let input = dir.path("in.pcap");
    let output = dir.path("out.pcap");
    std::fs::write(&input, data("scapy_15_4.pcap")).unwrap();
    let r = decode_file(&input, &output, &exp.contexts).unwrap();
    assert_eq!(r.datagrams, exp.counts["datagrams"]);
    let written = std::fs::read(&output).unwrap();
    let (lt, got) = read_pcap(&written);
    assert_eq!(lt, 229);
    assert_eq!(got, exp.packets);
    assert!(matches!(
        decode_file(&input, &input, &exp.contexts),
        Err(DecodeError::SameFile(_))
    ));
    let missing = decode_file(&dir.path("nope.pcap"), &output, &[]).unwrap_err();
    assert!(missing.to_string().contains("nope.pcap"), "{missing}");

    // Optional: tshark decodes every output packet as IPv6 and finds nothing malformed and
    // no bad checksum.
    let tshark = |args: &[&str]| {
        Command::new("tshark")
            .args(["-n", "-r"])
            .arg(&output)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let Some(protocols) = tshark(&["-T", "fields", "-e", "frame.protocols"]) else {
        eprintln!("tshark not available: skipping the tshark check");
        return;
    };
    let lines: Vec<&str> = protocols.lines().collect();
    assert_eq!(lines.len(), got.len(), "{protocols}");
    for l in &lines {
        assert!(l.starts_with("ipv6:"), "not decoded as IPv6: {l}");
    }
    let expert = tshark(&["-q", "-z", "expert"]).unwrap_or_default();
    for bad in ["Malformed", "Bad checksum", "Error"] {
        assert!(!expert.contains(bad), "tshark: {expert}");
    }
}

#[test]
fn truncated_and_corrupt_captures_are_errors_that_keep_the_intact_part() {
    let exp = expected();
    let full = data("scapy_15_4.pcap");
    // Cut inside the last record: the last fragment of datagram B is lost.
    let cut = &full[..full.len() - 30];
    match decode_bytes(cut, &exp.contexts) {
        Err(DecodeError::Damaged {
            offset, partial, ..
        }) => {
            assert!(offset < cut.len());
            let r = &partial.report;
            assert_eq!(r.frames, exp.counts["frames"] - 1);
            assert_eq!(r.datagrams, exp.counts["datagrams"] - 1);
            assert_eq!(r.incomplete_datagrams, 1);
            assert_eq!(recs(&partial)[..], exp.packets[..exp.packets.len() - 1]);
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
    // decode_file writes the intact part and says so.
    let dir = Scratch::new("damaged");
    let input = dir.path("cut.pcap");
    let output = dir.path("cut-out.pcap");
    std::fs::write(&input, cut).unwrap();
    let e = decode_file(&input, &output, &exp.contexts).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("truncated or corrupt at byte"), "{msg}");
    assert!(msg.contains("written to"), "{msg}");
    assert_eq!(read_pcap(&std::fs::read(&output).unwrap()).1.len(), 20);
    // A record length that cannot be: corrupt, not a frame.
    let mut bad = full.clone();
    bad[24 + 8..24 + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    assert!(matches!(
        decode_bytes(&bad, &[]),
        Err(DecodeError::Damaged { offset: 24, .. })
    ));
    // Cut inside the file header: nothing to decode, a clear error.
    let e = decode_bytes(&full[..10], &[]).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    // Not a capture / not 802.15.4.
    let e = decode_bytes(b"GIF89a, certainly not a capture", &[]).unwrap_err();
    assert!(e.to_string().contains("not a pcap or pcapng"), "{e}");
    let e = decode_bytes(&data("scapy_expected_ipv6.pcap"), &[]).unwrap_err();
    assert!(e.to_string().contains("802.15.4"), "{e}");
    // pcapng cut inside its last block.
    let ng = data("scapy_15_4_nofcs.pcapng");
    assert!(matches!(
        decode_bytes(&ng[..ng.len() - 7], &exp.contexts),
        Err(DecodeError::Damaged { .. })
    ));
}

#[test]
fn prefixes_and_flipped_bytes_are_handled_without_panic() {
    // A debug-build sweep kept to a few seconds: every third prefix of both captures, every
    // third byte flipped in the FCS capture (mostly caught by the FCS) and every second byte
    // flipped in the NOFCS capture (where nothing guards the MAC and 6LoWPAN parsers).
    let exp = expected();
    for (name, flip_step) in [("scapy_15_4.pcap", 3), ("scapy_15_4_nofcs.pcapng", 2)] {
        let full = data(name);
        for n in (0..full.len()).step_by(3) {
            if let Ok(d) = decode_bytes(&full[..n], &exp.contexts) {
                assert_accounted(&d.report);
            }
        }
        for i in (0..full.len()).step_by(flip_step) {
            let mut b = full.clone();
            b[i] ^= 0xa5;
            match decode_bytes(&b, &exp.contexts) {
                Ok(d) => assert_accounted(&d.report),
                Err(DecodeError::Damaged { partial, .. }) => assert_accounted(&partial.report),
                Err(_) => {}
            }
        }
    }
}

#[test]
fn fragn_without_frag1_bad_fcs_ack_and_retransmissions_are_counted() {
    let exp = expected();
    let (lt, frames) = read_pcap(&data("scapy_15_4.pcap"));
    assert_eq!(lt, 195);

    // Drop the FRAG1 (datagram_size 1280 → 0xc5 0x00) of the short-address datagram: its 13
    // FRAGNs are malformed, the rest still decodes.
    let mut v = frames.clone();
    v.remove(find_frame(&v, 0xc5));
    let d = decode_bytes(&write_pcap(195, &v), &exp.contexts).unwrap();
    assert_accounted(&d.report);
    assert_eq!(d.report.malformed.get("FRAGN before its FRAG1"), Some(&13));
    assert_eq!(d.report.datagrams, exp.counts["datagrams"] - 1);

    // One more bad FCS: a data frame with a flipped payload bit.
    let mut v = frames.clone();
    let i = find_frame(&v, 0x7e);
    v[i].data[12] ^= 0x01;
    let d = decode_bytes(&write_pcap(195, &v), &exp.contexts).unwrap();
    assert_eq!(d.report.malformed.get("bad FCS"), Some(&2));
    assert_eq!(d.report.datagrams, exp.counts["datagrams"] - 1);

    // A lone ACK (FC 0x0002, seq 5, FCS) and a bare 3-byte ACK in a NOFCS capture.
    let ack = Rec {
        ts_us: 7,
        data: vec![0x02, 0x00, 0x05, 0x00, 0x00],
    };
    let mut with_fcs = ack.clone();
    let crc = crc16_kermit(&with_fcs.data[..3]);
    with_fcs.data[3..].copy_from_slice(&crc.to_le_bytes());
    let d = decode_bytes(&write_pcap(195, &[with_fcs]), &[]).unwrap();
    assert_eq!(d.report.skipped.get("802.15.4 acknowledgment"), Some(&1));
    assert_eq!((d.report.frames, d.report.datagrams), (1, 0));
    let mut bare = ack;
    bare.data.truncate(3);
    let d = decode_bytes(&write_pcap(230, &[bare]), &[]).unwrap();
    assert_eq!(d.report.skipped.get("802.15.4 acknowledgment"), Some(&1));

    // A MAC retransmission (same frame twice) is skipped, not decoded twice; a 6LoWPAN-level
    // repeat of a fragment under a new sequence number is a duplicate fragment.
    let mut v = frames.clone();
    let i = find_frame(&v, 0x7e);
    v.insert(i + 1, v[i].clone());
    let j = find_frame(&v, 0xe5) + 2; // a FRAGN of the short-address datagram
    let mut again = v[j - 2].clone();
    again.data[2] = again.data[2].wrapping_add(100);
    let crc = crc16_kermit(&again.data[..again.data.len() - 2]);
    let n = again.data.len();
    again.data[n - 2..].copy_from_slice(&crc.to_le_bytes());
    v.insert(j, again);
    let d = decode_bytes(&write_pcap(195, &v), &exp.contexts).unwrap();
    assert_accounted(&d.report);
    assert_eq!(
        d.report
            .skipped
            .get("MAC retransmission (same source, sequence number and bytes)"),
        Some(&1),
        "{:?}",
        d.report
    );
    assert_eq!(
        d.report.skipped.get("duplicate 6LoWPAN fragment"),
        Some(&1),
        "{:?}",
        d.report
    );
    assert_eq!(recs(&d), exp.packets);
}

#[test]
fn output_pcap_round_trips_through_the_test_reader() {
    let p = vec![
        DecodedPacket {
            ts_us: 1_700_000_000_123_456,
            data: vec![0x60; 40],
        },
        DecodedPacket {
            ts_us: 0,
            data: vec![],
        },
    ];
    let (lt, r) = read_pcap(&ipv6_pcap(&p));
    assert_eq!(lt, 229);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].ts_us, 1_700_000_000_123_456);
    assert_eq!(r[0].data, vec![0x60; 40]);
}

/// CRC-16/KERMIT (the 802.15.4 FCS), written out here so the test does not trust our codec.
fn crc16_kermit(b: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &x in b {
        crc ^= u16::from(x);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x8408
            } else {
                crc >> 1
            };
        }
    }
    crc
}
