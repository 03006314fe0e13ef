//! ZEP v2 against references we did not write: Wireshark's `zep` dissector reads the
//! datagrams `sim::zep::encode` writes (tshark; required when `CI=true`), and `sim::zep::parse`
//! reads what a RIOT OS node sends at boot (its RS, through its `socket_zep` radio; the RIOT
//! peers are built from `../shared/peers/riot` when missing, required when `CI=true`).

use std::net::{Ipv6Addr, SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use capture_file::{InterfaceDesc, PcapngWriter};
use l2_15_4::frame::{Address, PanId, Repr, fcs};
use sim::peers::{RiotNode, riot_bin};
use sim::zep::{self, ZepHeader};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{IpAddress, IpProtocol, Ipv6Packet, Ipv6Repr, UdpPacket, UdpRepr};

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `payload` in IPv6/UDP from `[::1]:40000` to `[::1]:17754`, checksummed (smoltcp).
fn udp6(payload: &[u8]) -> Vec<u8> {
    let lo = Ipv6Addr::LOCALHOST;
    let udp = UdpRepr {
        src_port: 40000,
        dst_port: zep::DEFAULT_PORT,
    };
    let ip = Ipv6Repr {
        src_addr: lo,
        dst_addr: lo,
        next_header: IpProtocol::Udp,
        payload_len: 8 + payload.len(),
        hop_limit: 64,
    };
    let mut b = vec![0u8; 40 + 8 + payload.len()];
    let mut p = Ipv6Packet::new_unchecked(&mut b[..]);
    ip.emit(&mut p);
    let mut u = UdpPacket::new_unchecked(p.payload_mut());
    udp.emit(
        &mut u,
        &IpAddress::Ipv6(lo),
        &IpAddress::Ipv6(lo),
        payload.len(),
        |d| d.copy_from_slice(payload),
        &ChecksumCapabilities::default(),
    );
    b
}

#[test]
fn wireshark_reads_our_zep_datagrams() {
    // A data frame, 2006, intra-PAN 0x0023, extended source → broadcast, with its FCS.
    let mut psdu = vec![
        0x41, 0xd8, 0x2a, 0x23, 0x00, 0xff, 0xff, 8, 7, 6, 5, 4, 3, 2, 1, 0xde, 0xad, 0, 0,
    ];
    assert!(fcs::append(&mut psdu));
    let h = ZepHeader {
        channel: 26,
        device_id: 0x0102,
        lqi: 200,
        ntp_timestamp: zep::ntp_from_unix_micros(1_765_000_000_000_000),
        sequence: 77,
    };
    let mut dgram = Vec::new();
    zep::encode(&h, &psdu, &mut dgram).unwrap();
    // LINKTYPE_IPV6 (229): raw IPv6 packets.
    let ifs = [InterfaceDesc {
        linktype: 229,
        name: "lo".into(),
        snaplen: 0,
    }];
    let mut w = PcapngWriter::new(Vec::new(), &ifs).unwrap();
    w.write_packet(0, 1_000_000, &udp6(&dgram)).unwrap();
    let pcap = w.finish().unwrap();
    let path = std::env::temp_dir().join(format!("sim-zep-{}.pcapng", std::process::id()));
    std::fs::write(&path, &pcap).unwrap();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-T", "fields", "-E", "separator=,"])
        .args([
            "-e",
            "zep.version",
            "-e",
            "zep.type",
            "-e",
            "zep.channel_id",
        ])
        .args(["-e", "zep.device_id", "-e", "zep.lqi", "-e", "zep.seqno"])
        .args([
            "-e",
            "zep.length",
            "-e",
            "wpan.fcs_ok",
            "-e",
            "wpan.dst_pan",
        ])
        .args(["-e", "wpan.seq_no", "-e", "_ws.malformed"])
        .output();
    let _ = std::fs::remove_file(&path);
    let o = match out {
        Ok(o) => o,
        Err(e) => {
            assert!(!ci(), "tshark is required when CI=true: {e}");
            eprintln!("tshark not installed, skipping ({e})");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let fields: Vec<&str> = stdout.trim().split(',').collect();
    assert_eq!(
        fields,
        [
            "2",
            "1",
            "26",
            "258",
            // CRC mode (byte 7 = 1): Wireshark checks the real FCS and shows no LQI (in LQI
            // mode it read the FCS as CC24xx metadata: "Bad FCS" for half of all frames).
            "",
            "77",
            &psdu.len().to_string(),
            "1",
            "0x0023",
            "42",
            ""
        ],
        "tshark: {stdout}"
    );
}

#[test]
fn riot_node_datagrams_parse() {
    let bin = match riot_bin() {
        Ok(b) => b,
        Err(why) => {
            assert!(!ci(), "the RIOT peers are required when CI=true: {why}");
            eprintln!("skipping: {why}");
            return;
        }
    };
    let sock = UdpSocket::bind("[::1]:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let addr: SocketAddr = sock.local_addr().unwrap();
    let eui = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, 0x01];
    let _node = RiotNode::start(&bin.join("zep_6ln_noack.elf"), addr, eui).unwrap();
    // Its first datagrams (an RS, to the broadcast address) within 10 s.
    let mut buf = [0u8; 512];
    let (n, from) = sock
        .recv_from(&mut buf)
        .expect("a datagram from the RIOT node");
    assert!(from.ip().is_loopback());
    let f = zep::parse(&buf[..n]).unwrap_or_else(|e| panic!("RIOT's datagram: {e}"));
    assert_eq!(f.header.channel, 26, "RIOT's default channel");
    let (repr, payload) = Repr::parse_frame(&f.psdu[..f.psdu.len() - 2]).unwrap();
    assert_eq!(repr.dst_pan_id, Some(PanId(0x0023)), "RIOT's default PAN");
    assert_eq!(repr.dst_addr, Some(Address::Short(0xffff)));
    assert_eq!(repr.src_addr, Some(Address::Extended(eui)));
    assert!(!payload.is_empty());
    eprintln!(
        "RIOT sent {n} bytes: ZEP seq {}, {:?}",
        f.header.sequence, repr.frame_version
    );
}
