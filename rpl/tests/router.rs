//! The router core (`rpl::router`) driven with real messages: every DIO it hears is written
//! by `rpl::message::emit` and read back by smoltcp 0.14 before the router reads it; every
//! DIO, DIS and DAO it sends is emitted to bytes and read by smoltcp (a reader we did not
//! write) and by our own parser, the way the root (`firmware/src/root.rs`) will read it.

use std::net::Ipv6Addr;

use proptest::prelude::*;
use rpl::hbh::RplOption;
use rpl::message::{self, DaoAck, Dio, Message, Mop, Out};
use rpl::of::{Etx, INFINITE_RANK};
use rpl::option::{DodagConfiguration, Opt, Options, PrefixInformation};
use rpl::router::{
    Action, DaoOut, DioInfo, DioOut, Direction, DisOut, Event, Phase, Router, RouterConfig,
    TargetState, Verdict, rank_consistent,
};
use smoltcp::wire::{Icmpv6Packet, RplInstanceId, RplOptionPacket, RplOptionRepr, RplRepr};

type R = Router<4, 8>;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

const ROOT_LL: &str = "fe80::1";
const DODAG_ID: &str = "2001:db8:1::1";
const OUR_LL: &str = "fe80::aa";
const OUR_GLOBAL: &str = "2001:db8:1::aa";
const INSTANCE: u8 = 30;
/// DIO Imin 2^12 ms.
const IMIN: u64 = 4096;
/// Default lifetime 4 × 60 s.
const LIFETIME_MS: u64 = 240_000;

fn conf(ocp: u16) -> DodagConfiguration {
    DodagConfiguration {
        rfc8138: false,
        authentication: false,
        path_control_size: 0,
        dio_interval_doublings: 8,
        dio_interval_min: 12,
        dio_redundancy: 10,
        max_rank_increase: 768,
        min_hop_rank_increase: 256,
        ocp,
        default_lifetime: 4,
        lifetime_unit: 60,
    }
}

fn pio() -> PrefixInformation {
    PrefixInformation {
        prefix_len: 64,
        on_link: false,
        autonomous: true,
        router_address: true,
        valid_lifetime: 86_400,
        preferred_lifetime: 14_400,
        prefix: a(DODAG_ID),
    }
}

/// A neighbour's DIO, as bytes, checked by smoltcp, read by our parser.
struct Hear {
    rank: u16,
    version: u8,
    dtsn: u8,
    ocp: u16,
    with_config: bool,
}

impl Default for Hear {
    fn default() -> Self {
        Hear {
            rank: 256,
            version: 240,
            dtsn: 240,
            ocp: 0,
            with_config: true,
        }
    }
}

fn dio_bytes(h: &Hear, from: Ipv6Addr) -> Vec<u8> {
    let dio = Dio {
        instance_id: INSTANCE,
        version: h.version,
        rank: h.rank,
        grounded: true,
        mop: Mop::NonStoring,
        preference: 0,
        dtsn: h.dtsn,
        dodag_id: a(DODAG_ID),
    };
    let opts = [
        Opt::DodagConfiguration(conf(h.ocp)),
        Opt::PrefixInformation(pio()),
    ];
    let n_opts = if h.with_config { 2 } else { 0 };
    let mut buf = [0u8; 256];
    let n = message::emit(&Out::Dio(dio), &opts[..n_opts], &mut buf).unwrap();
    message::fill_checksum(&from, &a("ff02::1a"), &mut buf[..n]);
    let p = Icmpv6Packet::new_checked(&buf[..n]).unwrap();
    let RplRepr::DodagInformationObject { rank, .. } = RplRepr::parse(&p).unwrap() else {
        panic!("smoltcp: not a DIO")
    };
    assert_eq!(rank, h.rank);
    buf[..n].to_vec()
}

fn hear(r: &mut R, now: u64, from: &str, etx: u16, h: Hear) {
    let from = a(from);
    let bytes = dio_bytes(&h, from);
    let Ok(Message::Dio(dio, opts)) = Message::parse(&bytes) else {
        panic!("our parser: not a DIO")
    };
    let info = DioInfo::read(dio, opts).unwrap();
    r.on_dio(now, from, &info, Etx(etx));
}

fn dis(r: &mut R, now: u64, from: &str, multicast: bool) {
    let mut buf = [0u8; 16];
    let n = message::emit(&Out::Dis, &[], &mut buf).unwrap();
    let Ok(Message::Dis(opts)) = Message::parse(&buf[..n]) else {
        panic!("not a DIS")
    };
    r.on_dis(now, a(from), multicast, opts);
}

fn ack(r: &mut R, now: u64, sequence: u8, status: u8) {
    r.on_dao_ack(
        now,
        &DaoAck {
            instance_id: INSTANCE,
            sequence,
            status,
            dodag_id: None,
        },
    );
}

/// Everything `poll` has at `now`.
fn drain(r: &mut R, now: u64) -> Vec<Action> {
    let mut v = Vec::new();
    while let Some(x) = r.poll(now) {
        v.push(x);
        assert!(v.len() < 64, "poll never ends: {v:?}");
    }
    v
}

/// Runs from `from` to `to` deadline by deadline; every action with its time.
fn run(r: &mut R, from: u64, to: u64) -> Vec<(u64, Action)> {
    let mut out = Vec::new();
    let mut now = from;
    loop {
        out.extend(drain(r, now).into_iter().map(|x| (now, x)));
        match r.next_deadline() {
            Some(d) if d <= to => now = d.max(now),
            _ => break,
        }
        assert!(out.len() < 10_000);
    }
    out
}

fn events(v: &[(u64, Action)]) -> Vec<Event> {
    v.iter()
        .filter_map(|(_, x)| match x {
            Action::Event(e) => Some(*e),
            _ => None,
        })
        .collect()
}

fn dios(v: &[(u64, Action)]) -> Vec<(u64, DioOut)> {
    v.iter()
        .filter_map(|(t, x)| match x {
            Action::Dio(d) => Some((*t, *d)),
            _ => None,
        })
        .collect()
}

fn daos(v: &[(u64, Action)]) -> Vec<(u64, DaoOut)> {
    v.iter()
        .filter_map(|(t, x)| match x {
            Action::Dao(d) => Some((*t, d.clone())),
            _ => None,
        })
        .collect()
}

fn diss(v: &[(u64, Action)]) -> Vec<(u64, DisOut)> {
    v.iter()
        .filter_map(|(t, x)| match x {
            Action::Dis(d) => Some((*t, *d)),
            _ => None,
        })
        .collect()
}

/// Our DIO as bytes, read by smoltcp: (rank, version, dtsn).
fn smoltcp_reads_dio(d: &DioOut) -> (u16, u8, u8) {
    let mut buf = [0u8; 256];
    let n = d.emit(&mut buf).unwrap();
    message::fill_checksum(&a(OUR_LL), &d.destination(), &mut buf[..n]);
    let p = Icmpv6Packet::new_checked(&buf[..n]).unwrap();
    assert!(p.verify_checksum(&a(OUR_LL), &d.destination()));
    let RplRepr::DodagInformationObject {
        rpl_instance_id,
        version_number,
        rank,
        grounded,
        dtsn,
        dodag_id,
        options,
        mode_of_operation,
        ..
    } = RplRepr::parse(&p).unwrap()
    else {
        panic!("not a DIO")
    };
    assert_eq!(rpl_instance_id, RplInstanceId::Global(INSTANCE));
    assert!(grounded);
    assert_eq!(format!("{mode_of_operation:?}"), "NonStoringMode");
    assert_eq!(dodag_id, a(DODAG_ID));
    // The root's DODAG Configuration passed on unchanged.
    let o = RplOptionRepr::parse(&RplOptionPacket::new_checked(options).unwrap()).unwrap();
    let RplOptionRepr::DodagConfiguration {
        minimum_hop_rank_increase,
        max_rank_increase,
        ..
    } = o
    else {
        panic!("{o:?}")
    };
    assert_eq!((minimum_hop_rank_increase, max_rank_increase), (256, 768));
    (rank, version_number, dtsn)
}

/// Our DAO as bytes, read by smoltcp and by our parser as the root reads it: (DAOSequence,
/// K, [(target, path sequence, path lifetime, parent)]).
type DaoRead = (u8, bool, Vec<(Ipv6Addr, u8, u8, Option<Ipv6Addr>)>);

fn smoltcp_reads_dao(d: &DaoOut) -> DaoRead {
    assert_eq!(d.to, a(DODAG_ID), "DAOs go to the DODAG ID");
    let mut buf = [0u8; 512];
    let n = d.emit(&mut buf).unwrap();
    message::fill_checksum(&a(OUR_GLOBAL), &d.to, &mut buf[..n]);
    let p = Icmpv6Packet::new_checked(&buf[..n]).unwrap();
    let RplRepr::DestinationAdvertisementObject {
        rpl_instance_id,
        expect_ack,
        sequence,
        dodag_id,
        mut options,
    } = RplRepr::parse(&p).unwrap()
    else {
        panic!("not a DAO")
    };
    assert_eq!(rpl_instance_id, RplInstanceId::Global(INSTANCE));
    assert_eq!(dodag_id, None);
    let mut theirs = Vec::new();
    let mut pending = Vec::new();
    while !options.is_empty() {
        let o = RplOptionRepr::parse(&RplOptionPacket::new_checked(options).unwrap()).unwrap();
        options = &options[o.buffer_len()..];
        match o {
            RplOptionRepr::RplTarget {
                prefix_length,
                prefix,
            } => {
                assert_eq!(prefix_length, 128);
                pending.push(prefix);
            }
            RplOptionRepr::TransitInformation {
                path_sequence,
                path_lifetime,
                parent_address,
                external,
                ..
            } => {
                // A host we advertise hangs off us and is external (RFC 9010); our own
                // address hangs off our parent.
                assert_eq!(external, parent_address == Some(a(OUR_GLOBAL)));
                for t in pending.drain(..) {
                    theirs.push((t, path_sequence, path_lifetime, parent_address));
                }
            }
            o => panic!("unexpected {o:?}"),
        }
    }
    assert!(pending.is_empty(), "a Target without Transit");
    // Our parser, as the root: Targets then their Transit.
    let Ok(Message::Dao(dao, opts)) = Message::parse(&buf[..n]) else {
        panic!("not a DAO")
    };
    assert_eq!((dao.sequence, dao.ack_requested), (sequence, expect_ack));
    let mut ours = Vec::new();
    let mut group = Vec::new();
    for o in opts {
        match o.unwrap() {
            Opt::Target(t) => group.push(t.prefix),
            Opt::Transit(tr) => {
                for t in group.drain(..) {
                    ours.push((t, tr.path_sequence, tr.path_lifetime, tr.parent));
                }
            }
            o => panic!("{o:?}"),
        }
    }
    assert_eq!(ours, theirs);
    (sequence, expect_ack, theirs)
}

fn smoltcp_reads_dis(d: &DisOut) -> Option<(bool, Ipv6Addr)> {
    let mut buf = [0u8; 64];
    let n = d.emit(&mut buf).unwrap();
    message::fill_checksum(&a(OUR_LL), &d.destination(), &mut buf[..n]);
    let p = Icmpv6Packet::new_checked(&buf[..n]).unwrap();
    let RplRepr::DodagInformationSolicitation { options } = RplRepr::parse(&p).unwrap() else {
        panic!("not a DIS")
    };
    if options.is_empty() {
        return None;
    }
    let RplOptionRepr::SolicitedInformation {
        instance_id_predicate,
        dodag_id,
        ..
    } = RplOptionRepr::parse(&RplOptionPacket::new_checked(options).unwrap()).unwrap()
    else {
        panic!("not Solicited Information")
    };
    Some((instance_id_predicate, dodag_id))
}

/// A router joined under the root (OF0), its own address a target, the first DAO sent and
/// acknowledged; returns the time.
fn joined(r: &mut R) -> u64 {
    r.set_target(0, a(OUR_GLOBAL), None).unwrap();
    hear(r, 10, ROOT_LL, 128, Hear::default());
    let v = run(r, 10, 3_000);
    let d = daos(&v);
    assert_eq!(d.len(), 1, "{v:?}");
    ack(r, d[0].0 + 5, d[0].1.dao.sequence, 0);
    d[0].0 + 5
}

#[test]
fn joins_at_rank_512_under_a_root_of_256_and_advertises_itself() {
    let mut r = R::new(RouterConfig::DEFAULT, 7);
    r.set_target(0, a(OUR_GLOBAL), None).unwrap();
    // Unjoined: a multicast DIS within dis_min (1 s).
    let v = run(&mut r, 0, 1_000);
    let d = diss(&v);
    assert!(!d.is_empty() && d[0].0 < 1_000, "{d:?}");
    assert_eq!(d[0].1.to, None);
    assert_eq!(smoltcp_reads_dis(&d[0].1), None);
    hear(&mut r, 1_000, ROOT_LL, 128, Hear::default());
    let v = run(&mut r, 1_000, 1_000 + IMIN);
    assert_eq!(
        events(&v),
        [Event::Joined {
            dodag_id: a(DODAG_ID),
            version: 240,
            rank: 512,
            parent: a(ROOT_LL),
        }]
    );
    assert_eq!(r.phase(), Phase::Joined);
    // OF0 with ETX 1: 256 + 1 × 256.
    assert_eq!(r.rank(), 512);
    // The first DIO within Imin, rank 512, the root's configuration passed on.
    let d = dios(&v);
    assert!(!d.is_empty() && d[0].0 < 1_000 + IMIN, "{d:?}");
    assert_eq!(smoltcp_reads_dio(&d[0].1), (512, 240, 240));
    // The DAO after DelayDAO (0.5..1 s): our address, the root as Transit parent (its
    // global address from the PIO prefix and its link-local IID), lifetime 4 units.
    let d = daos(&v);
    assert_eq!(d.len(), 1);
    assert!(d[0].0 >= 1_500 && d[0].0 <= 2_000, "{}", d[0].0);
    let (seq, k, t) = smoltcp_reads_dao(&d[0].1);
    assert!(k);
    assert_eq!(seq, 241);
    assert_eq!(t, [(a(OUR_GLOBAL), 241, 4, Some(a(DODAG_ID)))]);
    assert_eq!(r.preferred_parent_global(), Some(a(DODAG_ID)));
    // No more DIS once joined.
    assert!(diss(&run(&mut r, 2_000, 600_000)).is_empty());
}

#[test]
fn a_dio_without_configuration_gets_a_unicast_dis() {
    let mut r = R::new(RouterConfig::DEFAULT, 7);
    hear(
        &mut r,
        0,
        ROOT_LL,
        128,
        Hear {
            with_config: false,
            ..Hear::default()
        },
    );
    let v = drain(&mut r, 0);
    let Some(Action::Dis(d)) = v.first() else {
        panic!("{v:?}")
    };
    assert_eq!(d.to, Some(a(ROOT_LL)));
    assert_eq!(smoltcp_reads_dis(d), Some((true, a(DODAG_ID))));
    assert_eq!(r.phase(), Phase::Unjoined);
}

#[test]
fn mrhof_switches_parent_only_past_the_hysteresis() {
    let mut r = R::new(RouterConfig::DEFAULT, 3);
    let mrhof = || Hear {
        ocp: 1,
        ..Hear::default()
    };
    // A: the root over ETX 2.25 (288): cost 256 + 288 = 544 -> rank 544.
    hear(&mut r, 0, ROOT_LL, 288, mrhof());
    assert_eq!(r.rank(), 544);
    // B: another node at rank 256 (a second root-rank neighbour) over ETX 1 (cost 384):
    // 160 better, under PARENT_SWITCH_THRESHOLD (192): kept.
    hear(&mut r, 10, "fe80::b", 128, mrhof());
    assert_eq!(r.preferred_parent(), Some(a(ROOT_LL)));
    // A's link worsens to ETX 2.5 (320): cost 576, B 192 better: switch.
    r.on_link_etx(20, a(ROOT_LL), Etx(320));
    assert_eq!(r.preferred_parent(), Some(a("fe80::b")));
    assert_eq!(r.rank(), 512);
    let v = run(&mut r, 20, 25);
    assert!(events(&v).contains(&Event::ParentChanged {
        from: a(ROOT_LL),
        to: a("fe80::b"),
        rank: 512
    }));
    // A's link beyond MAX_LINK_METRIC and B's gone: no candidate left, detach.
    r.on_link_etx(30, a(ROOT_LL), Etx(600));
    r.on_parent_unreachable(31, a("fe80::b"));
    assert_eq!(r.phase(), Phase::Poisoning);
}

#[test]
fn a_descendant_is_never_taken_as_parent() {
    let mut r = R::new(RouterConfig::DEFAULT, 5);
    let t = joined(&mut r);
    // C, a child of ours (rank 768), over a perfect link.
    hear(
        &mut r,
        t,
        "fe80::c",
        128,
        Hear {
            rank: 768,
            ..Hear::default()
        },
    );
    assert_eq!(r.preferred_parent(), Some(a(ROOT_LL)));
    // The root's link degrades to ETX 4 (OF0 step 9: rank 2560, past 512 + MaxRankIncrease
    // 768): C (DAGRank 3, not below our 2) is refused; we detach instead of looping.
    r.on_link_etx(t + 1, a(ROOT_LL), Etx(512));
    assert_eq!(r.phase(), Phase::Poisoning);
    let v = run(&mut r, t + 1, t + 2);
    assert_eq!(events(&v), [Event::Detached]);
    assert!(r.parents().is_empty(), "C is forgotten with the parent set");
}

#[test]
fn parent_loss_poisons_then_rejoins() {
    let mut r = R::new(RouterConfig::DEFAULT, 9);
    let t = joined(&mut r);
    let seq_before = r.targets()[0].path_sequence;
    r.on_parent_unreachable(t, a(ROOT_LL));
    let v = run(&mut r, t, t + 3 * IMIN);
    assert_eq!(events(&v)[0], Event::Detached);
    // Three DIOs of infinite rank, Imin apart, then DIS.
    let p = dios(&v);
    assert_eq!(p.len(), 3, "{p:?}");
    for (k, (at, d)) in p.iter().enumerate() {
        assert_eq!(*at, t + k as u64 * IMIN);
        assert_eq!(smoltcp_reads_dio(d).0, INFINITE_RANK);
    }
    assert_eq!(r.phase(), Phase::Unjoined);
    assert!(!diss(&v).is_empty());
    // The root heard again: joined, the DAO again with a newer path sequence.
    let t2 = t + 3 * IMIN;
    hear(&mut r, t2, ROOT_LL, 128, Hear::default());
    let v = run(&mut r, t2, t2 + 3_000);
    assert!(matches!(events(&v)[..], [Event::Joined { rank: 512, .. }]));
    let d = daos(&v);
    let (_, _, targets) = smoltcp_reads_dao(&d[0].1);
    assert_eq!(targets[0].1, seq_before.wrapping_add(1));
}

#[test]
fn local_repair_moves_to_the_other_parent_of_lower_rank() {
    let mut r = R::new(RouterConfig::DEFAULT, 11);
    r.set_target(0, a(OUR_GLOBAL), None).unwrap();
    // The root over ETX 2 (OF0: 256 + 4 × 256 = 1280) and B (rank 512) over ETX 1 (768).
    hear(&mut r, 0, ROOT_LL, 256, Hear::default());
    hear(
        &mut r,
        1,
        "fe80::b",
        128,
        Hear {
            rank: 512,
            ..Hear::default()
        },
    );
    assert_eq!(r.preferred_parent(), Some(a("fe80::b")));
    assert_eq!(r.rank(), 768);
    let v = run(&mut r, 1, 3_000);
    let (_, _, t) = smoltcp_reads_dao(&daos(&v)[0].1);
    assert_eq!(t[0].3, Some(a("2001:db8:1::b")));
    // B lost: the root (DAGRank 1 < 3) takes over at 1280 (within 768 + 768), no detach.
    r.on_parent_unreachable(3_000, a("fe80::b"));
    assert_eq!(r.phase(), Phase::Joined);
    assert_eq!(r.rank(), 1280);
    let v = run(&mut r, 3_000, 6_000);
    assert!(matches!(
        events(&v)[..],
        [Event::ParentChanged { rank: 1280, .. }]
    ));
    let (_, _, t) = smoltcp_reads_dao(&daos(&v)[0].1);
    assert_eq!(t[0].3, Some(a(DODAG_ID)), "a new DAO with the new parent");
}

#[test]
fn a_new_version_is_a_global_repair() {
    let mut r = R::new(RouterConfig::DEFAULT, 13);
    let t = joined(&mut r);
    let seq = r.targets()[0].path_sequence;
    // An older version heard: not a parent, the Trickle timer resets.
    let _ = run(&mut r, t, t + 60_000);
    assert!(r.trickle().interval_ms() > IMIN);
    hear(
        &mut r,
        t + 60_000,
        "fe80::d",
        128,
        Hear {
            version: 239,
            rank: 256,
            ..Hear::default()
        },
    );
    assert_eq!(r.trickle().interval_ms(), IMIN);
    assert_eq!(r.preferred_parent(), Some(a(ROOT_LL)));
    // Version 241: rejoin in it, DAOs again.
    let t2 = t + 60_000;
    hear(
        &mut r,
        t2,
        ROOT_LL,
        128,
        Hear {
            version: 241,
            ..Hear::default()
        },
    );
    let v = run(&mut r, t2, t2 + 3_000);
    assert_eq!(
        events(&v)[..2],
        [
            Event::GlobalRepair { version: 241 },
            Event::Joined {
                dodag_id: a(DODAG_ID),
                version: 241,
                rank: 512,
                parent: a(ROOT_LL)
            }
        ]
    );
    assert_eq!(smoltcp_reads_dio(&dios(&v)[0].1).1, 241);
    let (_, _, targets) = smoltcp_reads_dao(&daos(&v)[0].1);
    assert_eq!(targets[0].1, seq.wrapping_add(1));
}

#[test]
fn daos_are_refreshed_at_half_to_three_quarters_of_their_lifetime() {
    for seed in [1, 2, 3, 4, 5] {
        let mut r = R::new(RouterConfig::DEFAULT, seed);
        let t = joined(&mut r);
        let sent = t - 5;
        let refresh = r.targets()[0].refresh_ms;
        assert!(
            refresh >= sent + LIFETIME_MS / 2 && refresh < sent + LIFETIME_MS * 3 / 4,
            "{refresh} for a DAO at {sent}"
        );
        assert_eq!(r.targets()[0].advertised_until_ms, sent + LIFETIME_MS);
        let v = run(&mut r, t, refresh);
        let d = daos(&v);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0, refresh);
        let (seq, _, targets) = smoltcp_reads_dao(&d[0].1);
        assert_eq!(seq, 242, "a new DAOSequence");
        assert_eq!(targets[0].1, 242, "and a new path sequence");
    }
}

#[test]
fn a_dao_without_ack_is_sent_again_then_given_up() {
    let cfg = RouterConfig::DEFAULT;
    let mut r = R::new(cfg, 17);
    r.set_target(0, a(OUR_GLOBAL), None).unwrap();
    hear(&mut r, 0, ROOT_LL, 128, Hear::default());
    let v = run(&mut r, 0, 30_000);
    let d = daos(&v);
    // 1 + 3 retries, 5 s apart, the same bytes.
    assert_eq!(d.len(), 4, "{d:?}");
    for w in d.windows(2) {
        assert_eq!(w[1].0 - w[0].0, 5_000);
        assert_eq!(w[1].1, w[0].1);
    }
    assert!(events(&v).contains(&Event::DaoFailed { sequence: 241 }));
    assert_eq!(r.stats().dao_retransmitted, 3);
    // Four timeouts later: a new DAO.
    let last = d[3].0;
    let v = run(&mut r, 30_000, last + 5_000 + 20_000);
    let d = daos(&v);
    assert_eq!(d[0].0, last + 5_000 + 20_000);
    assert_eq!(d[0].1.dao.sequence, 242);
    // An ACK for another sequence is not ours; a rejection is reported.
    ack(&mut r, d[0].0 + 1, 7, 0);
    assert_eq!(r.stats().dao_ack_ignored, 1);
    ack(&mut r, d[0].0 + 1, 242, 0xc2);
    assert_eq!(
        drain(&mut r, d[0].0 + 1),
        [Action::Event(Event::DaoRejected {
            sequence: 242,
            status: 0xc2
        })]
    );
}

#[test]
fn registration_lifetimes_bound_the_dao_lifetime() {
    let mut r = R::new(RouterConfig::DEFAULT, 19);
    let t = joined(&mut r);
    let host = a("2001:db8:1::4:5");
    let short = a("2001:db8:1::4:6");
    let long = a("2001:db8:1::4:7");
    // 150 s left: 2 units of 60 s (never 3). 30 s left: not advertised at all. 1 h left:
    // the default lifetime, 4.
    r.set_target(t, host, Some(t + 150_000)).unwrap();
    r.set_target(t, short, Some(t + 30_000)).unwrap();
    r.set_target(t, long, Some(t + 3_600_000)).unwrap();
    let v = run(&mut r, t, t + 1_000);
    let d = daos(&v);
    assert_eq!(d.len(), 1);
    let (seq, _, targets) = smoltcp_reads_dao(&d[0].1);
    let life: Vec<_> = targets.iter().map(|x| (x.0, x.2)).collect();
    assert_eq!(life, [(host, 2), (long, 4)]);
    ack(&mut r, d[0].0, seq, 0);
    // The host's route ends no later than its registration.
    let h = r.targets().iter().find(|x| x.address == host).unwrap();
    assert!(h.advertised_until_ms <= t + 150_000);
    // A re-registration that ends sooner than the route given: advertised again, shorter.
    let t2 = d[0].0 + 10;
    r.set_target(t2, host, Some(t2 + 70_000)).unwrap();
    let v = run(&mut r, t2, t2 + 1_000);
    let (seq, _, targets) = smoltcp_reads_dao(&daos(&v)[0].1);
    // A host hangs off us (RFC 9010): its Transit parent is our own address.
    assert_eq!(targets, [(host, targets[0].1, 1, Some(a(OUR_GLOBAL)))]);
    ack(&mut r, t2 + 1_000, seq, 0);
    // The short one expired with its registration, silently (nothing was advertised).
    let _ = run(&mut r, t2 + 1_000, t + 31_000);
    assert!(r.targets().iter().all(|x| x.address != short));
    // The host deregisters: a No-Path (lifetime 0) with a newer path sequence.
    let t3 = t + 40_000;
    let before = r
        .targets()
        .iter()
        .find(|x| x.address == host)
        .unwrap()
        .path_sequence;
    r.remove_target(t3, &host);
    let v = run(&mut r, t3, t3 + 1_000);
    let d = daos(&v);
    let (seq, _, targets) = smoltcp_reads_dao(&d[0].1);
    assert_eq!(
        targets,
        [(host, before.wrapping_add(1), 0, Some(a(OUR_GLOBAL)))]
    );
    assert!(d[0].1.is_no_path());
    ack(&mut r, t3 + 1_000, seq, 0);
    assert!(r.targets().iter().all(|x| x.address != host));
    // A full table is an error, not a panic.
    for k in 0..8u16 {
        let _ = r.set_target(t3, Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 9, k), None);
    }
    assert!(
        r.set_target(t3, a("2001:db8:1::9:ff"), None).is_err(),
        "8 targets at most"
    );
}

#[test]
fn leaving_sends_no_paths_then_poison() {
    let mut r = R::new(RouterConfig::DEFAULT, 23);
    let t = joined(&mut r);
    r.set_target(t, a("2001:db8:1::4:5"), Some(t + 600_000))
        .unwrap();
    let v = run(&mut r, t, t + 1_000);
    let (seq, _, _) = smoltcp_reads_dao(&daos(&v)[0].1);
    ack(&mut r, t + 1_000, seq, 0);
    r.leave(t + 2_000);
    assert_eq!(r.phase(), Phase::Leaving);
    let v = run(&mut r, t + 2_000, t + 2_000 + 4 * IMIN);
    let d = daos(&v);
    assert_eq!(d.len(), 1);
    let (_, k, targets) = smoltcp_reads_dao(&d[0].1);
    assert!(!k, "no DAO-ACK awaited on the way out");
    let mut lifetimes: Vec<_> = targets.iter().map(|x| (x.0, x.2)).collect();
    lifetimes.sort();
    assert_eq!(lifetimes, [(a(OUR_GLOBAL), 0), (a("2001:db8:1::4:5"), 0)]);
    let p = dios(&v);
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|(_, d)| d.dio.rank == INFINITE_RANK));
    assert!(p[0].0 >= d[0].0, "the No-Paths go before the poison");
    assert_eq!(events(&v), [Event::Left]);
    assert_eq!(r.phase(), Phase::Left);
    assert!(r.targets().is_empty());
    assert_eq!(r.next_deadline(), None);
    // Deaf until started again.
    hear(&mut r, t + 30_000, ROOT_LL, 128, Hear::default());
    assert_eq!(r.phase(), Phase::Left);
    r.start(t + 30_000);
    hear(&mut r, t + 30_001, ROOT_LL, 128, Hear::default());
    assert_eq!(r.phase(), Phase::Joined);
}

#[test]
fn trickle_resets_on_inconsistency_and_dis() {
    let mut r = R::new(RouterConfig::DEFAULT, 29);
    let t = joined(&mut r);
    let _ = run(&mut r, t, t + 120_000);
    assert!(r.trickle().interval_ms() >= 8 * IMIN);
    // A multicast DIS: back to Imin, a DIO within it.
    dis(&mut r, t + 120_000, "fe80::77", true);
    assert_eq!(r.trickle().interval_ms(), IMIN);
    let v = run(&mut r, t + 120_000, t + 120_000 + IMIN);
    assert_eq!(dios(&v).len(), 1);
    // A unicast DIS: a unicast DIO at once.
    dis(&mut r, t + 130_000, "fe80::77", false);
    let v = drain(&mut r, t + 130_000);
    let Some(Action::Dio(d)) = v.first() else {
        panic!("{v:?}")
    };
    assert_eq!(d.to, Some(a("fe80::77")));
    assert_eq!(smoltcp_reads_dio(d).0, 512);
    // Consistent DIOs (k = 10) suppress ours.
    let _ = run(&mut r, t + 130_000, t + 400_000);
    let i = r.trickle().interval_ms();
    let start = t + 400_000;
    let mut sent = 0;
    let mut now = start;
    while now < start + 4 * i {
        for k in 0..10 {
            hear(&mut r, now, &format!("fe80::e{k}"), 128, Hear::default());
        }
        sent += dios(&run(&mut r, now, now + i / 4)).len();
        now += i / 4;
    }
    assert_eq!(sent, 0, "suppressed by k consistent DIOs");
    // The parent's DTSN incremented: new DAOs, our DTSN too, Trickle reset.
    let dtsn = r.dtsn();
    hear(
        &mut r,
        now,
        ROOT_LL,
        128,
        Hear {
            dtsn: 241,
            ..Hear::default()
        },
    );
    assert_eq!(r.dtsn(), dtsn.wrapping_add(1));
    assert_eq!(r.trickle().interval_ms(), IMIN);
    assert_eq!(r.targets()[0].state, TargetState::Due);
    let v = run(&mut r, now, now + 1_000);
    assert_eq!(daos(&v).len(), 1);
}

#[test]
fn data_path_validation_follows_rfc_6550_11_2() {
    let rpi = |down, rank_error, sender_rank| RplOption {
        down,
        rank_error,
        forwarding_error: false,
        instance_id: INSTANCE,
        sender_rank,
    };
    // We are at 512 (DAGRank 2). Down from the root (256): fine; down from 768: a rank
    // error; up from 768: fine; up from 256: error; equal DAGRank either way: fine; sender
    // rank 0 is the source.
    assert!(rank_consistent(&rpi(true, false, 256), 512, 256));
    assert!(!rank_consistent(&rpi(true, false, 768), 512, 256));
    assert!(rank_consistent(&rpi(false, false, 768), 512, 256));
    assert!(!rank_consistent(&rpi(false, false, 256), 512, 256));
    assert!(rank_consistent(&rpi(false, false, 600), 512, 256));
    assert!(rank_consistent(&rpi(true, false, 600), 512, 256));
    assert!(rank_consistent(&rpi(false, false, 0), 512, 256));

    let mut r = R::new(RouterConfig::DEFAULT, 31);
    // Not joined: drop.
    assert_eq!(
        r.forward(0, &rpi(false, false, 768), Direction::Up),
        Verdict::Drop
    );
    let t = joined(&mut r);
    // Up from a child, consistent: forwarded with our rank.
    assert_eq!(
        r.forward(t, &rpi(false, false, 768), Direction::Up),
        Verdict::Forward(rpi(false, false, 512))
    );
    // Down from the root, forwarded down.
    assert_eq!(
        r.forward(t, &rpi(true, false, 256), Direction::Down),
        Verdict::Forward(rpi(true, false, 512))
    );
    // A first inconsistency: R set, forwarded.
    assert_eq!(
        r.forward(t, &rpi(false, false, 256), Direction::Up),
        Verdict::Forward(rpi(false, true, 512))
    );
    // A second one: dropped, Trickle reset.
    let _ = run(&mut r, t, t + 60_000);
    assert!(r.trickle().interval_ms() > IMIN);
    assert_eq!(
        r.forward(t + 60_000, &rpi(true, true, 768), Direction::Down),
        Verdict::Drop
    );
    assert_eq!(r.trickle().interval_ms(), IMIN);
    assert_eq!(r.stats().rank_error_drops, 1);
    // Another instance: dropped; F is carried on.
    let mut other = rpi(false, false, 768);
    other.instance_id = 1;
    assert_eq!(r.forward(t, &other, Direction::Up), Verdict::Drop);
    let mut f = rpi(false, false, 768);
    f.forwarding_error = true;
    let Verdict::Forward(out) = r.forward(t, &f, Direction::Up) else {
        panic!()
    };
    assert!(out.forwarding_error);
    // The RPL Option of packets we originate.
    assert_eq!(r.rpi(), Some(rpi(false, false, 512)));
}

#[test]
fn foreign_and_malformed_dios_are_ignored() {
    let mut r = R::new(RouterConfig::DEFAULT, 37);
    // Storing mode, floating, MinHopRankIncrease 0: not joined.
    let mut dio = Dio {
        instance_id: INSTANCE,
        version: 240,
        rank: 256,
        grounded: true,
        mop: Mop::Storing,
        preference: 0,
        dtsn: 240,
        dodag_id: a(DODAG_ID),
    };
    let mut c = conf(0);
    let info = |dio, c| DioInfo {
        dio,
        config: Some(c),
        prefix: None,
    };
    r.on_dio(0, a(ROOT_LL), &info(dio, c), Etx::ONE);
    dio.mop = Mop::NonStoring;
    dio.grounded = false;
    r.on_dio(0, a(ROOT_LL), &info(dio, c), Etx::ONE);
    dio.grounded = true;
    c.min_hop_rank_increase = 0;
    r.on_dio(0, a(ROOT_LL), &info(dio, c), Etx::ONE);
    assert_eq!(r.phase(), Phase::Unjoined);
    assert_eq!(r.stats().dio_ignored, 3);
    // A malformed option refuses the DIO.
    let mut bytes = dio_bytes(&Hear::default(), a(ROOT_LL));
    bytes.truncate(bytes.len() - 3);
    let Ok(Message::Dio(d, o)) = Message::parse(&bytes) else {
        panic!()
    };
    assert!(DioInfo::read(d, o).is_err());
    // An options area that is only a Pad1.
    assert!(DioInfo::read(d, Options::new(&[0])).is_ok());
}

#[derive(Clone, Debug)]
enum Input {
    Dio {
        who: u8,
        rank: u16,
        version: u8,
        dtsn: u8,
        etx: u16,
        ocp: u16,
    },
    Ack {
        seq: u8,
        status: u8,
    },
    Lost(u8),
    Etx(u8, u16),
    Dis(u8, bool),
    Target(u8, Option<u32>),
    Remove(u8),
    Leave,
    Start,
    Wait(u32),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => (0u8..6, prop_oneof![4 => 256u16..2048, 1 => any::<u16>(), 1 => Just(INFINITE_RANK)], 236u8..246, 238u8..244, 100u16..700, 0u16..3).prop_map(
            |(who, rank, version, dtsn, etx, ocp)| Input::Dio { who, rank, version, dtsn, etx, ocp }
        ),
        1 => (236u8..250, prop_oneof![Just(0u8), any::<u8>()])
            .prop_map(|(seq, status)| Input::Ack { seq, status }),
        1 => (0u8..6).prop_map(Input::Lost),
        1 => (0u8..6, 64u16..800).prop_map(|(w, e)| Input::Etx(w, e)),
        1 => (0u8..6, any::<bool>()).prop_map(|(w, m)| Input::Dis(w, m)),
        1 => (0u8..10, proptest::option::of(0u32..1_000_000)).prop_map(|(k, e)| Input::Target(k, e)),
        1 => (0u8..10).prop_map(Input::Remove),
        1 => Just(Input::Leave),
        1 => Just(Input::Start),
        3 => (0u32..200_000).prop_map(Input::Wait),
    ]
}

fn neighbour(k: u8) -> Ipv6Addr {
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(k) + 1)
}

proptest! {
    /// Random DIOs, DAO-ACKs, losses, ETX changes, DIS, targets and time never panic, and
    /// the rank we hold and advertise is always above the preferred parent's.
    #[test]
    fn never_a_rank_at_or_below_the_parent(inputs in proptest::collection::vec(input(), 1..80), seed: u32) {
        let mut r = R::new(RouterConfig::DEFAULT, seed);
        let mut now = 0u64;
        for i in inputs {
            match i {
                Input::Dio { who, rank, version, dtsn, etx, ocp } => {
                    let from = neighbour(who);
                    let bytes = dio_bytes(&Hear { rank, version, dtsn, ocp, with_config: true }, from);
                    let Ok(Message::Dio(d, o)) = Message::parse(&bytes) else { panic!() };
                    r.on_dio(now, from, &DioInfo::read(d, o).unwrap(), Etx(etx));
                }
                Input::Ack { seq, status } => ack(&mut r, now, seq, status),
                Input::Lost(w) => r.on_parent_unreachable(now, neighbour(w)),
                Input::Etx(w, e) => r.on_link_etx(now, neighbour(w), Etx(e)),
                Input::Dis(w, m) => dis(&mut r, now, &neighbour(w).to_string(), m),
                Input::Target(k, e) => {
                    let addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, u16::from(k));
                    let _ = r.set_target(now, addr, e.map(|e| now + u64::from(e)));
                }
                Input::Remove(k) => {
                    r.remove_target(now, &Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, u16::from(k)));
                }
                Input::Leave => r.leave(now),
                Input::Start => r.start(now),
                Input::Wait(ms) => {
                    // Deadline by deadline, checking each DIO against the parent of the
                    // moment.
                    let end = now + u64::from(ms);
                    loop {
                        while let Some(x) = r.poll(now) {
                            check(&r, &x)?;
                        }
                        match r.next_deadline() {
                            Some(d) if d <= end => now = d.max(now),
                            _ => break,
                        }
                    }
                    now = end;
                }
            }
            while let Some(x) = r.poll(now) {
                check(&r, &x)?;
            }
            if r.phase() == Phase::Joined {
                let p = r.preferred_parent().unwrap();
                let p = r.parents().iter().find(|x| x.address == p).unwrap();
                prop_assert!(r.rank() > p.rank, "rank {} parent {:?}", r.rank(), p);
                prop_assert!(r.rank() != INFINITE_RANK);
            }
        }
    }
}

/// Every message emits; a DIO of finite rank only while joined, above the preferred
/// parent's rank.
fn check(r: &R, x: &Action) -> Result<(), TestCaseError> {
    match x {
        Action::Dio(d) => {
            let mut buf = [0u8; 256];
            prop_assert!(d.emit(&mut buf).is_ok());
            if d.dio.rank != INFINITE_RANK {
                prop_assert_eq!(r.phase(), Phase::Joined);
                let p = r
                    .preferred_parent()
                    .and_then(|p| r.parents().iter().find(|x| x.address == p).copied());
                prop_assert!(p.is_some_and(|p| d.dio.rank > p.rank), "{:?} {:?}", d, p);
            }
        }
        Action::Dao(d) => {
            let mut buf = [0u8; 512];
            prop_assert!(d.emit(&mut buf).is_ok());
        }
        Action::Dis(d) => {
            let mut buf = [0u8; 64];
            prop_assert!(d.emit(&mut buf).is_ok());
        }
        Action::Event(_) => {}
    }
    Ok(())
}

/// The router's RAM for the capacities a board would pick (printed with `--nocapture`), and
/// a bound that catches a careless field.
#[test]
fn router_sizes() {
    let sizes = [
        ("Router<4, 8>", std::mem::size_of::<Router<4, 8>>()),
        ("Router<4, 16>", std::mem::size_of::<Router<4, 16>>()),
        ("Router<8, 32>", std::mem::size_of::<Router<8, 32>>()),
        ("DaoOut", std::mem::size_of::<DaoOut>()),
        ("TargetView", std::mem::size_of::<rpl::router::TargetView>()),
        ("Parent", std::mem::size_of::<rpl::router::Parent>()),
        ("Action", std::mem::size_of::<Action>()),
    ];
    for (name, n) in sizes {
        println!("size_of::<{name}>() = {n} bytes");
    }
    assert!(std::mem::size_of::<Router<4, 16>>() < 2048);
}
