//! Our RPL codec (`rpl::message`, `rpl::option`, the one the firmware uses) against messages
//! of a stack we did not write: RIOT OS's gnrc_rpl (`zep_rpl.elf` of `../shared/peers/riot`),
//! its radio a ZEP socket pointed at a UDP socket this test binds on [::1]. Each datagram is
//! decoded with our crates (sim::zep, l2-15_4, sixlo) into IPv6, and every RPL message in it
//! with `rpl::message::Message::parse`, its checksum checked with `verify_checksum`; each is
//! re-emitted with `rpl::message::emit` and compared byte for byte.
//!
//! - After `rpl init IF` RIOT sends a DIS to ff02::1a padded with a PadN of 2 (4 bytes), no
//!   Solicited Information. No DIS leaves at boot (only router solicitations).
//! - Made a DODAG root (`ifconfig IF add 2001:db8::1/64`, `rpl root 1 2001:db8::1`) it sends
//!   DIOs: instance 1, version 240 (RIOT's lollipop start), rank 256, grounded, MOP 2 (storing
//!   without multicast), DTSN 1, the DODAG ID, a DODAG Configuration with RIOT's defaults
//!   (`sys/include/net/gnrc/rpl.h`: DIOIntDoubl. 20, DIOIntMin. 3, DIORedun. 10,
//!   MaxRankIncrease 0, MinHopRankIncrease 256, OCP 0, Default Lifetime 5, Lifetime Unit 60)
//!   listed before a PIO for 2001:db8::/64 (A, infinite lifetimes).
//! - Under a DIO of ours it joins (its own DIOs then say rank 512 in our DODAG) and sends a
//!   storing-style DAO to our link-local address: K=1, no DODAGID, Target /128 of the address
//!   it formed from our PIO, Transit without a parent address, lifetime 5.
//!
//! Re-emission: every DIO and DAO comes back byte-identical. A DIS does not from its parsed
//! value: `Opt::Pad` stands for Pad1 and PadN alike and emits one Pad1, so RIOT's 10-byte DIS
//! re-emits as a 7-byte one with the same meaning; written with its PadN as
//! `Opt::Other(OptionType::PadN, &[0, 0])` it is byte-identical. The three messages are kept
//! as unit-test vectors in `rpl/src/message.rs` and as seeds in `fuzz/corpus/rpl_message`.
//!
//! The RIOT peers are built when missing; the test skips with the reason when they cannot be,
//! and fails when `CI=true`. Dropping a `RiotNode` kills its process group, also when an
//! assertion fails. `RPL_RIOT_DEBUG=1` prints the start of every datagram received.

use std::net::{Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use l2_15_4::frame::Repr as FrameRepr;
use rpl::message::{self, Dao, DaoAck, Dio, Message, Mop, Out};
use rpl::option::{DodagConfiguration, Opt, OptionType, PrefixInformation, Target, Transit};
use sim::peers::{RiotNode, riot_bin};
use sim::zep;
use sixlo::{ContextTable, LinkAddr};

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

const ROOT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const ALL_RPL: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x1a);

/// One RPL message seen on the air: IPv6 source and destination, the ICMPv6 bytes.
#[derive(Debug, Clone)]
struct Seen {
    src: Ipv6Addr,
    dst: Ipv6Addr,
    icmp: Vec<u8>,
}

/// A parsed message with its options collected (main's `Message` holds an iterator).
#[derive(Debug, Clone, PartialEq)]
enum Parsed<'a> {
    Dis(Vec<Opt<'a>>),
    Dio(Dio, Vec<Opt<'a>>),
    Dao(Dao, Vec<Opt<'a>>),
    DaoAck(DaoAck, Vec<Opt<'a>>),
}

impl Parsed<'_> {
    fn opts(&self) -> &[Opt<'_>] {
        match self {
            Parsed::Dis(o) | Parsed::Dio(_, o) | Parsed::Dao(_, o) | Parsed::DaoAck(_, o) => o,
        }
    }

    fn out(&self) -> Out {
        match self {
            Parsed::Dis(_) => Out::Dis,
            Parsed::Dio(d, _) => Out::Dio(*d),
            Parsed::Dao(d, _) => Out::Dao(*d),
            Parsed::DaoAck(a, _) => Out::DaoAck(*a),
        }
    }

    fn dio(&self) -> Option<&Dio> {
        match self {
            Parsed::Dio(d, _) => Some(d),
            _ => None,
        }
    }
}

impl Seen {
    /// Checks the checksum, parses with our codec; panics with the bytes on refusal.
    fn parse<'a>(&'a self) -> Parsed<'a> {
        assert!(
            message::verify_checksum(&self.src, &self.dst, &self.icmp),
            "bad checksum on RIOT's {}",
            self.hex()
        );
        let m = Message::parse(&self.icmp)
            .unwrap_or_else(|e| panic!("our parser refuses RIOT's {}: {e:?}", self.hex()));
        let all = |o: rpl::option::Options<'a>| -> Vec<Opt<'a>> {
            o.map(|o| o.unwrap_or_else(|e| panic!("option of {}: {e:?}", self.hex())))
                .collect()
        };
        match m {
            Message::Dis(o) => Parsed::Dis(all(o)),
            Message::Dio(d, o) => Parsed::Dio(d, all(o)),
            Message::Dao(d, o) => Parsed::Dao(d, all(o)),
            Message::DaoAck(a, o) => Parsed::DaoAck(a, all(o)),
            Message::Other(code, _) => panic!("RIOT sent RPL code {code:?}: {}", self.hex()),
        }
    }

    fn hex(&self) -> String {
        let b: Vec<String> = self.icmp.iter().map(|b| format!("0x{b:02x}")).collect();
        format!("{} -> {}: [{}]", self.src, self.dst, b.join(", "))
    }
}

/// `m` with `opts` emitted by our codec and checksummed for `src` → `dst`.
fn emit(m: &Out, opts: &[Opt<'_>], src: &Ipv6Addr, dst: &Ipv6Addr) -> Vec<u8> {
    let mut buf = [0u8; 1280];
    let n = message::emit(m, opts, &mut buf).unwrap();
    let mut v = buf[..n].to_vec();
    message::fill_checksum(src, dst, &mut v);
    v
}

/// Re-emits every message seen: byte-identical, except where the message holds a PadN
/// (`Opt::Pad` re-emits one Pad1; see the module docs), where the re-emitted message must
/// parse to the same value. Returns (identical, padded).
fn reemit_all(seen: &[Seen]) -> (usize, usize) {
    let (mut same, mut padded) = (0, 0);
    for s in seen {
        let p = s.parse();
        let again = emit(&p.out(), p.opts(), &s.src, &s.dst);
        if again == s.icmp {
            same += 1;
            continue;
        }
        assert!(
            p.opts().contains(&Opt::Pad),
            "re-emitted {:02x?}\n differs from {}",
            again,
            s.hex()
        );
        let back = Seen {
            icmp: again,
            ..s.clone()
        };
        assert_eq!(
            back.parse(),
            p,
            "re-emitted {} from {}",
            back.hex(),
            s.hex()
        );
        padded += 1;
    }
    (same, padded)
}

/// Decodes one ZEP datagram down to an RPL message, if it carries one (unfragmented).
fn decode(dgram: &[u8], fragments: &mut usize) -> Option<Seen> {
    let f = zep::parse(dgram).expect("RIOT's ZEP datagram parses");
    let mpdu = f.psdu.get(..f.psdu.len().checked_sub(2)?)?;
    let (repr, payload) = FrameRepr::parse_frame(mpdu).expect("RIOT's 802.15.4 frame parses");
    let first = *payload.first()?;
    if first & 0xf8 == 0xc0 || first & 0xf8 == 0xe0 {
        *fragments += 1;
        return None;
    }
    let src = repr.src_addr.map_or(LinkAddr::Absent, LinkAddr::from);
    let dst = repr.dst_addr.map_or(LinkAddr::Absent, LinkAddr::from);
    let mut out = [0u8; 1280];
    let n = sixlo::decompress(payload, &src, &dst, &ContextTable::new(), &mut out)
        .unwrap_or_else(|e| panic!("RIOT's 6LoWPAN {payload:02x?}: {e:?}"));
    let ip = &out[..n];
    assert!(n >= 40 && ip[0] >> 4 == 6, "not IPv6: {ip:02x?}");
    let icmp = &ip[40..];
    if std::env::var_os("RPL_RIOT_DEBUG").is_some() {
        eprintln!(
            "datagram: next header {}, {:02x?}",
            ip[6],
            &icmp[..icmp.len().min(8)]
        );
    }
    if ip[6] != 58 || icmp.first() != Some(&message::ICMPV6_TYPE) {
        return None;
    }
    let addr = |r: std::ops::Range<usize>| Ipv6Addr::from(<[u8; 16]>::try_from(&ip[r]).unwrap());
    Some(Seen {
        src: addr(8..24),
        dst: addr(24..40),
        icmp: icmp.to_vec(),
    })
}

/// Receives RPL messages until `done` says enough or `timeout` passes.
fn collect(
    sock: &UdpSocket,
    timeout: Duration,
    seen: &mut Vec<Seen>,
    fragments: &mut usize,
    done: impl Fn(&[Seen]) -> bool,
) {
    let end = Instant::now() + timeout;
    let mut buf = [0u8; 2048];
    while !done(seen) {
        let Some(left) = end.checked_duration_since(Instant::now()) else {
            return;
        };
        sock.set_read_timeout(Some(left.max(Duration::from_millis(10))))
            .unwrap();
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        assert!(from.ip().is_loopback());
        if let Some(s) = decode(&buf[..n], fragments) {
            seen.push(s);
        }
    }
}

fn is_dis(s: &Seen) -> bool {
    matches!(s.parse(), Parsed::Dis(_))
}

fn is_dio_with_conf(s: &Seen) -> bool {
    match s.parse() {
        Parsed::Dio(_, o) => o.iter().any(|o| matches!(o, Opt::DodagConfiguration(_))),
        _ => false,
    }
}

/// The interface number `ifconfig` prints.
fn iface(node: &mut RiotNode) -> u32 {
    node.shell("ifconfig").unwrap();
    let line = node
        .wait_for("Iface", Duration::from_secs(5))
        .expect("ifconfig lists an interface");
    line.split_whitespace()
        .skip_while(|w| *w != "Iface")
        .nth(1)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("interface number in {line:?}"))
}

/// RIOT's DODAG Configuration defaults.
const RIOT_CONF: DodagConfiguration = DodagConfiguration {
    rfc8138: false,
    authentication: false,
    path_control_size: 0,
    dio_interval_doublings: 20,
    dio_interval_min: 3,
    dio_redundancy: 10,
    max_rank_increase: 0,
    min_hop_rank_increase: 256,
    ocp: 0,
    default_lifetime: 5,
    lifetime_unit: 60,
};

#[test]
fn riot_rpl_messages_parse() {
    let bin = match riot_bin() {
        Ok(b) => b,
        Err(why) => {
            assert!(!ci(), "the RIOT peers are required when CI=true: {why}");
            eprintln!("skipping: {why}");
            return;
        }
    };
    let sock = UdpSocket::bind("[::1]:0").unwrap();
    let addr: SocketAddr = sock.local_addr().unwrap();
    let eui = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, 0x0a];
    let mut node = RiotNode::start(&bin.join("zep_rpl.elf"), addr, eui).unwrap();
    let mut seen = Vec::new();
    let mut fragments = 0;

    // 1. Boot: any DIS that comes is checked like the others (none was seen so far).
    node.wait_for("All up", Duration::from_secs(10));
    collect(
        &sock,
        Duration::from_secs(2),
        &mut seen,
        &mut fragments,
        |s| s.iter().any(is_dis),
    );
    let at_boot = seen.iter().filter(|s| is_dis(s)).count();
    eprintln!("{at_boot} DIS from RIOT at boot");

    // 2. `rpl init` sends a DIS.
    let iface = iface(&mut node);
    node.shell(&format!("rpl init {iface}")).unwrap();
    collect(
        &sock,
        Duration::from_secs(10),
        &mut seen,
        &mut fragments,
        |s| s.iter().filter(|x| is_dis(x)).count() > at_boot,
    );
    let dis = seen
        .iter()
        .filter(|s| is_dis(s))
        .nth(at_boot)
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "a DIS after `rpl init {iface}`; node output: {:?}",
                node.output()
            )
        });
    eprintln!("RIOT DIS after rpl init: {}", dis.hex());
    assert_eq!(dis.dst, ALL_RPL, "to all-RPL-nodes");
    assert!(dis.src.is_unicast_link_local());
    // A PadN of 2 (4 bytes), no Solicited Information: our parser yields one `Opt::Pad`.
    assert_eq!(dis.parse(), Parsed::Dis(vec![Opt::Pad]));
    assert_eq!(
        &dis.icmp[4..],
        &[0, 0, 1, 2, 0, 0],
        "flags, reserved, PadN 2"
    );
    assert_eq!(
        emit(
            &Out::Dis,
            &[Opt::Other(OptionType::PadN, &[0, 0])],
            &dis.src,
            &dis.dst
        ),
        dis.icmp,
        "our DIS with RIOT's PadN is RIOT's DIS"
    );

    // 3. Root of 2001:db8::1: DIOs.
    node.shell(&format!("ifconfig {iface} add {ROOT}/64"))
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    node.shell(&format!("rpl root 1 {ROOT}")).unwrap();
    collect(
        &sock,
        Duration::from_secs(20),
        &mut seen,
        &mut fragments,
        |s| s.iter().any(is_dio_with_conf),
    );
    let dio_seen = seen
        .iter()
        .find(|s| is_dio_with_conf(s))
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "a DIO with a DODAG Configuration within 20 s of `rpl root`; {} RPL messages, \
                 {fragments} fragments seen; node output: {:?}",
                seen.len(),
                node.output()
            )
        });
    eprintln!("RIOT DIO as root: {}", dio_seen.hex());
    assert!(dio_seen.src.is_unicast_link_local());
    assert_eq!(dio_seen.dst, ALL_RPL);
    let Parsed::Dio(dio, opts) = dio_seen.parse() else {
        unreachable!()
    };
    assert_eq!(
        dio,
        Dio {
            instance_id: 1,
            version: 240,      // GNRC_RPL_COUNTER_INIT
            rank: 256,         // GNRC_RPL_ROOT_RANK
            grounded: true,    // GNRC_RPL_GROUNDED
            mop: Mop::Storing, // GNRC_RPL_DEFAULT_MOP
            preference: 0,
            dtsn: 1,
            dodag_id: ROOT,
        }
    );
    assert_eq!(
        opts,
        vec![
            Opt::DodagConfiguration(RIOT_CONF),
            Opt::PrefixInformation(PrefixInformation {
                prefix_len: 64,
                on_link: false,
                autonomous: true,
                router_address: false,
                valid_lifetime: u32::MAX,
                preferred_lifetime: u32::MAX,
                prefix: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
            }),
        ]
    );
    // Every RPL message seen re-emits (the DIS with a Pad1 for its PadN).
    let (same, padded) = reemit_all(&seen);
    assert!(
        same >= 1 && padded >= 1,
        "{same} identical, {padded} padded"
    );
    eprintln!(
        "{} RPL messages from RIOT parsed ({} DIS, {} DIO), {same} re-emitted byte-identical, \
         {padded} with Pad1 for PadN; {fragments} fragments skipped",
        seen.len(),
        seen.iter().filter(|s| is_dis(s)).count(),
        seen.iter().filter(|s| s.parse().dio().is_some()).count()
    );
}

/// Our DIO (instance 1, rank 256, MOP 2, DODAG Configuration, PIO 2001:db8::/64), emitted by
/// our codec, from `ll_src` (EUI-64 `eui`) to ff02::1a, as a ZEP datagram: 6LoWPAN-compressed,
/// in a broadcast 802.15.4 data frame on RIOT's PAN 0x0023, with its FCS.
fn our_dio_datagram(eui: [u8; 8], seq: u8) -> Vec<u8> {
    use l2_15_4::frame::{Address, FrameType, FrameVersion, PanId, fcs};
    let mut ll = [0u8; 16];
    ll[..2].copy_from_slice(&[0xfe, 0x80]);
    ll[8..].copy_from_slice(&eui);
    ll[8] ^= 0x02;
    let ll = Ipv6Addr::from(ll);
    let opts = [
        Opt::DodagConfiguration(DodagConfiguration {
            dio_interval_doublings: 8,
            dio_interval_min: 12,
            ..RIOT_CONF
        }),
        Opt::PrefixInformation(PrefixInformation {
            prefix_len: 64,
            on_link: false,
            autonomous: true,
            router_address: false,
            valid_lifetime: 86400,
            preferred_lifetime: 14400,
            prefix: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        }),
    ];
    let dio = Out::Dio(Dio {
        instance_id: 1,
        version: 240,
        rank: 256,
        grounded: true,
        mop: Mop::Storing,
        preference: 0,
        dtsn: 240,
        dodag_id: ROOT,
    });
    let icmp = emit(&dio, &opts, &ll, &ALL_RPL);
    let mut ip = vec![0x60, 0, 0, 0];
    ip.extend_from_slice(&u16::try_from(icmp.len()).unwrap().to_be_bytes());
    ip.extend_from_slice(&[58, 255]);
    ip.extend_from_slice(&ll.octets());
    ip.extend_from_slice(&ALL_RPL.octets());
    ip.extend_from_slice(&icmp);
    let repr = FrameRepr::new(
        FrameType::Data,
        FrameVersion::Ieee2006,
        Some(seq),
        Some((PanId(0x0023), Address::Short(0xffff))),
        Some((PanId(0x0023), Address::Extended(eui))),
    )
    .unwrap();
    let mut psdu = vec![0u8; 127];
    let h = repr.emit_bytes(&mut psdu).unwrap();
    let n = sixlo::compress(
        &ip,
        &LinkAddr::Extended(eui),
        &LinkAddr::Short([0xff, 0xff]),
        &ContextTable::new(),
        sixlo::CompressOptions::default(),
        &mut psdu[h..],
    )
    .unwrap();
    psdu.truncate(h + n + 2);
    assert!(fcs::append(&mut psdu) && psdu.len() <= 127);
    let zh = zep::ZepHeader {
        channel: 26,
        device_id: 1,
        lqi: 255,
        ntp_timestamp: 0,
        sequence: u32::from(seq),
    };
    let mut d = Vec::new();
    zep::encode(&zh, &psdu, &mut d).unwrap();
    d
}

/// Under a DIO of ours, a RIOT router joins (its DIOs then say rank 512 in our DODAG) and
/// sends a DAO to our link-local address: our parser reads it, and every message re-emits
/// byte-identical.
#[test]
fn riot_router_dao_under_our_dio_parses() {
    let bin = match riot_bin() {
        Ok(b) => b,
        Err(why) => {
            assert!(!ci(), "the RIOT peers are required when CI=true: {why}");
            eprintln!("skipping: {why}");
            return;
        }
    };
    let sock = UdpSocket::bind("[::1]:0").unwrap();
    let addr: SocketAddr = sock.local_addr().unwrap();
    let riot_eui = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, 0x0b];
    let our_eui = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
    let mut node = RiotNode::start(&bin.join("zep_rpl.elf"), addr, riot_eui).unwrap();
    // The node's port, from its first datagram (an RS).
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 2048];
    let (_, riot) = sock.recv_from(&mut buf).expect("a datagram from RIOT");
    node.wait_for("All up", Duration::from_secs(10));
    // No MAC ACKs asked of us (we send none), so RIOT does not retransmit.
    let iface = iface(&mut node);
    node.shell(&format!("ifconfig {iface} -ack_req")).unwrap();
    node.shell(&format!("rpl init {iface}")).unwrap();
    let mut seen = Vec::new();
    let mut fragments = 0;
    let is_dao = |s: &Seen| matches!(s.parse(), Parsed::Dao(..));
    for seq in 0..20u8 {
        // Leave RIOT ~15 ms after its own frames (its ZEP radio drops what arrives meanwhile).
        std::thread::sleep(Duration::from_millis(20));
        sock.send_to(&our_dio_datagram(our_eui, seq), riot).unwrap();
        collect(
            &sock,
            Duration::from_secs(1),
            &mut seen,
            &mut fragments,
            |s| s.iter().any(is_dao),
        );
        if seen.iter().any(is_dao) {
            break;
        }
    }
    let dao_seen = seen.iter().find(|s| is_dao(s)).cloned().unwrap_or_else(|| {
        panic!(
            "a DAO from RIOT within 20 DIOs; {} RPL messages seen; node output: {:?}",
            seen.len(),
            node.output()
        )
    });
    eprintln!("RIOT DAO: {}", dao_seen.hex());
    let mut our_ll = [0u8; 16];
    our_ll[..2].copy_from_slice(&[0xfe, 0x80]);
    our_ll[8..].copy_from_slice(&our_eui);
    our_ll[8] ^= 0x02;
    assert_eq!(dao_seen.dst, Ipv6Addr::from(our_ll), "to our link-local");
    assert!(dao_seen.src.is_unicast_link_local());
    let Parsed::Dao(dao, opts) = dao_seen.parse() else {
        unreachable!()
    };
    assert_eq!(dao.instance_id, 1);
    assert!(dao.ack_requested, "RIOT asks for a DAO-ACK");
    assert_eq!(dao.dodag_id, None, "global instance: no DODAGID");
    let riot_global = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x00aa, 0xbbcc, 0xddee, 0x000b);
    assert!(
        opts.contains(&Opt::Target(Target {
            prefix_len: 128,
            prefix: riot_global,
        })),
        "RIOT advertises its PIO address: {opts:?}"
    );
    let Some(Opt::Transit(t)) = opts.iter().find(|o| matches!(o, Opt::Transit(_))) else {
        panic!("a Transit Information in RIOT's DAO: {opts:?}")
    };
    assert_eq!(
        *t,
        Transit {
            external: false,
            path_control: 0,
            path_sequence: t.path_sequence,
            path_lifetime: 5,
            parent: None,
        },
        "storing-mode DAO: no parent address; lifetime = our Default Lifetime"
    );
    // RIOT joined our DODAG: its own DIOs carry our DODAG ID and its rank under ours (OF0,
    // one MinHopRankIncrease per hop: 512).
    let joined = seen.iter().find_map(|s| {
        s.parse()
            .dio()
            .filter(|d| d.dodag_id == ROOT)
            .map(|d| (d.instance_id, d.version, d.rank, d.mop))
    });
    assert_eq!(
        joined,
        Some((1, 240, 512, Mop::Storing)),
        "RIOT's DIO under ours"
    );
    let (same, padded) = reemit_all(&seen);
    eprintln!(
        "{} RPL messages from RIOT, {same} re-emitted byte-identical, {padded} with Pad1 for \
         PadN",
        seen.len()
    );
    assert!(
        same >= 2,
        "at least the DAO and a DIO re-emit byte-identical"
    );
}
