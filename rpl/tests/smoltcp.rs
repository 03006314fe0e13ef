//! Our RPL messages against smoltcp 0.14's RPL wire types, a reference we did not write: what
//! we emit, smoltcp reads with the same values; what smoltcp emits, we read.
//!
//! Where smoltcp departs from RFC 6550 we follow the RFC, and these tests stay away from it:
//! smoltcp's Target option parser insists on a full 16-byte prefix (it panics on the shorter
//! encodings §6.7.7 allows). We write every Target with 16 bytes (so targets of any length
//! cross here) and read the short forms too (the option tests in `src/option.rs`).

use std::net::Ipv6Addr;

use proptest::prelude::*;
use rpl::message::{self, Dao, DaoAck, Dio, Message, Mop, Out};
use rpl::option::{
    DodagConfiguration, Opt, Options, PrefixInformation, Solicited, Target, Transit,
};
use smoltcp::wire::{Icmpv6Packet, RplInstanceId, RplOptionPacket, RplOptionRepr, RplRepr};

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// smoltcp's options, parsed one by one from an options area.
fn their_options(mut area: &[u8]) -> Vec<RplOptionRepr<'_>> {
    let mut v = Vec::new();
    while !area.is_empty() {
        let p = RplOptionPacket::new_checked(area).expect("option packet");
        let r = RplOptionRepr::parse(&p).expect("option repr");
        let n = r.buffer_len();
        v.push(r);
        area = &area[n..];
    }
    v
}

fn emit(m: &Out, opts: &[Opt<'_>]) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let n = message::emit(m, opts, &mut buf).unwrap();
    let mut v = buf[..n].to_vec();
    message::fill_checksum(&a("fe80::1"), &a("ff02::1a"), &mut v);
    v
}

fn conf() -> DodagConfiguration {
    DodagConfiguration {
        rfc8138: false,
        authentication: false,
        path_control_size: 0,
        dio_interval_doublings: 8,
        dio_interval_min: 12,
        dio_redundancy: 10,
        max_rank_increase: 0,
        min_hop_rank_increase: 256,
        ocp: 0,
        default_lifetime: 30,
        lifetime_unit: 60,
    }
}

#[test]
fn our_dio_is_smoltcps_dio() {
    let dio = Dio {
        instance_id: 30,
        version: 240,
        rank: 256,
        grounded: true,
        mop: Mop::NonStoring,
        preference: 0,
        dtsn: 241,
        dodag_id: a("2001:db8:1::1"),
    };
    let pio = PrefixInformation {
        prefix_len: 64,
        on_link: false,
        autonomous: true,
        router_address: true,
        valid_lifetime: 86_400,
        preferred_lifetime: 14_400,
        prefix: a("2001:db8:1::1"),
    };
    let bytes = emit(
        &Out::Dio(dio),
        &[Opt::DodagConfiguration(conf()), Opt::PrefixInformation(pio)],
    );
    assert!(message::verify_checksum(
        &a("fe80::1"),
        &a("ff02::1a"),
        &bytes
    ));
    let p = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
    assert!(
        p.verify_checksum(&a("fe80::1"), &a("ff02::1a")),
        "smoltcp agrees on the checksum"
    );
    let RplRepr::DodagInformationObject {
        rpl_instance_id,
        version_number,
        rank,
        grounded,
        mode_of_operation,
        dodag_preference,
        dtsn,
        dodag_id,
        options,
    } = RplRepr::parse(&p).unwrap()
    else {
        panic!("not a DIO");
    };
    assert_eq!(rpl_instance_id, RplInstanceId::Global(30));
    assert_eq!(
        (version_number, rank, grounded, dodag_preference, dtsn),
        (240, 256, true, 0, 241)
    );
    // smoltcp does not export its ModeOfOperation type; its name says it.
    assert_eq!(format!("{mode_of_operation:?}"), "NonStoringMode");
    assert_eq!(dodag_id, a("2001:db8:1::1"));
    let opts = their_options(options);
    assert_eq!(
        opts[0],
        RplOptionRepr::DodagConfiguration {
            authentication_enabled: false,
            path_control_size: 0,
            dio_interval_doublings: 8,
            dio_interval_min: 12,
            dio_redundancy_constant: 10,
            max_rank_increase: 0,
            minimum_hop_rank_increase: 256,
            objective_code_point: 0,
            default_lifetime: 30,
            lifetime_unit: 60,
        }
    );
    let RplOptionRepr::PrefixInformation {
        prefix_length,
        on_link,
        autonomous_address_configuration,
        router_address,
        valid_lifetime,
        preferred_lifetime,
        destination_prefix,
    } = opts[1]
    else {
        panic!("not a PIO: {:?}", opts[1]);
    };
    assert_eq!(
        (
            prefix_length,
            on_link,
            autonomous_address_configuration,
            router_address
        ),
        (64, false, true, true)
    );
    assert_eq!((valid_lifetime, preferred_lifetime), (86_400, 14_400));
    assert_eq!(destination_prefix, &a("2001:db8:1::1").octets());
}

#[test]
fn smoltcps_dao_is_our_dao() {
    let mut opts = [0u8; 64];
    let target = RplOptionRepr::RplTarget {
        prefix_length: 128,
        prefix: a("2001:db8:1::abcd"),
    };
    let transit = RplOptionRepr::TransitInformation {
        external: false,
        path_control: 0,
        path_sequence: 7,
        path_lifetime: 30,
        parent_address: Some(a("2001:db8:1::2")),
    };
    let n1 = target.buffer_len();
    target.emit(&mut RplOptionPacket::new_unchecked(&mut opts[..n1]));
    let n2 = transit.buffer_len();
    transit.emit(&mut RplOptionPacket::new_unchecked(&mut opts[n1..n1 + n2]));
    let repr = RplRepr::DestinationAdvertisementObject {
        rpl_instance_id: RplInstanceId::Global(30),
        expect_ack: true,
        sequence: 9,
        dodag_id: Some(a("2001:db8:1::1")),
        options: &opts[..n1 + n2],
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv6Packet::new_unchecked(&mut buf[..]));
    let Message::Dao(dao, opts) = Message::parse(&buf).unwrap() else {
        panic!("not a DAO");
    };
    assert_eq!(
        dao,
        Dao {
            instance_id: 30,
            ack_requested: true,
            sequence: 9,
            dodag_id: Some(a("2001:db8:1::1")),
        }
    );
    let opts: Vec<_> = opts.collect();
    assert_eq!(
        opts,
        vec![
            Ok(Opt::Target(Target {
                prefix_len: 128,
                prefix: a("2001:db8:1::abcd")
            })),
            Ok(Opt::Transit(Transit {
                external: false,
                path_control: 0,
                path_sequence: 7,
                path_lifetime: 30,
                parent: Some(a("2001:db8:1::2")),
            })),
        ]
    );
}

#[test]
fn dis_with_solicited_information_both_ways() {
    let sol = Solicited {
        instance_id: 30,
        version_predicate: true,
        instance_predicate: true,
        dodag_id_predicate: true,
        dodag_id: a("2001:db8:1::1"),
        version: 241,
    };
    let bytes = emit(&Out::Dis, &[Opt::Solicited(sol)]);
    let p = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
    let RplRepr::DodagInformationSolicitation { options } = RplRepr::parse(&p).unwrap() else {
        panic!("not a DIS");
    };
    assert_eq!(
        their_options(options),
        vec![RplOptionRepr::SolicitedInformation {
            rpl_instance_id: RplInstanceId::Global(30),
            version_predicate: true,
            instance_id_predicate: true,
            dodag_id_predicate: true,
            dodag_id: a("2001:db8:1::1"),
            version_number: 241,
        }]
    );
    let Message::Dis(mut o) = Message::parse(&bytes).unwrap() else {
        panic!("not a DIS");
    };
    assert_eq!(o.next(), Some(Ok(Opt::Solicited(sol))));
}

proptest! {
    /// DAO-ACKs and DAOs with any field values: smoltcp reads ours as we wrote them.
    #[test]
    fn dao_ack_fields(instance in 0u8..128, seq: u8, status: u8, with_id: bool) {
        let ack = DaoAck {
            instance_id: instance,
            sequence: seq,
            status,
            dodag_id: with_id.then(|| a("2001:db8:1::1")),
        };
        let bytes = emit(&Out::DaoAck(ack), &[]);
        let p = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(
            RplRepr::parse(&p).unwrap(),
            RplRepr::DestinationAdvertisementObjectAck {
                rpl_instance_id: RplInstanceId::Global(instance),
                sequence: seq,
                status,
                dodag_id: with_id.then(|| a("2001:db8:1::1")),
            }
        );
        let Message::DaoAck(back, _) = Message::parse(&bytes).unwrap() else {
            panic!("not a DAO-ACK");
        };
        prop_assert_eq!(back, ack);
    }

    #[test]
    fn dao_with_targets(instance in 0u8..128, seq: u8, k: bool, path_seq: u8, life: u8,
                        targets in proptest::collection::vec((any::<u64>(), 0u8..=128), 1..6),
                        parent: Option<u64>) {
        // Targets of any length: we write every one with a 16-byte prefix field, which is
        // what smoltcp reads (its parser takes no other size).
        let mut opts = Vec::new();
        let mut want = Vec::new();
        for (iid, len) in &targets {
            let mut o = a("2001:db8:1::").octets();
            o[8..].copy_from_slice(&iid.to_be_bytes());
            let keep = u128::MAX.checked_shl(128 - u32::from(*len)).unwrap_or(0);
            let masked = Ipv6Addr::from(u128::from_be_bytes(o) & keep);
            opts.push(Opt::Target(Target { prefix_len: *len, prefix: Ipv6Addr::from(o) }));
            want.push(Opt::Target(Target { prefix_len: *len, prefix: masked }));
        }
        let parent = parent.map(|p| {
            let mut o = a("2001:db8:1::").octets();
            o[8..].copy_from_slice(&p.to_be_bytes());
            Ipv6Addr::from(o)
        });
        opts.push(Opt::Transit(Transit { external: false, path_control: 0, path_sequence: path_seq,
            path_lifetime: life, parent }));
        let dao = Dao { instance_id: instance, ack_requested: k, sequence: seq, dodag_id: None };
        let bytes = emit(&Out::Dao(dao), &opts);
        let p = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
        let RplRepr::DestinationAdvertisementObject { rpl_instance_id, expect_ack, sequence, dodag_id, options } =
            RplRepr::parse(&p).unwrap() else { panic!("not a DAO") };
        prop_assert_eq!((rpl_instance_id, expect_ack, sequence, dodag_id),
            (RplInstanceId::Global(instance), k, seq, None));
        let theirs = their_options(options);
        prop_assert_eq!(theirs.len(), opts.len());
        for (t, w) in theirs.iter().zip(&want) {
            let RplOptionRepr::RplTarget { prefix_length, prefix } = t else { panic!("{t:?}") };
            let Opt::Target(w) = w else { unreachable!() };
            prop_assert_eq!((*prefix_length, *prefix), (w.prefix_len, w.prefix));
        }
        prop_assert_eq!(theirs.last().unwrap(), &RplOptionRepr::TransitInformation {
            external: false, path_control: 0, path_sequence: path_seq, path_lifetime: life,
            parent_address: parent });
        let Message::Dao(back, o) = Message::parse(&bytes).unwrap() else { panic!("not a DAO") };
        prop_assert_eq!(back, dao);
        let ours: Vec<_> = o.map(|x| x.unwrap()).collect();
        want.push(*opts.last().unwrap());
        prop_assert_eq!(ours, want);
    }
}

#[test]
fn truncated_messages_are_refused_not_panicked_on() {
    let dio = emit(
        &Out::Dio(Dio {
            instance_id: 1,
            version: 1,
            rank: 256,
            grounded: true,
            mop: Mop::Storing,
            preference: 0,
            dtsn: 0,
            dodag_id: a("2001:db8::1"),
        }),
        &[Opt::DodagConfiguration(conf())],
    );
    for n in 0..dio.len() {
        match Message::parse(&dio[..n]) {
            Ok(Message::Dio(_, opts)) => {
                // The fixed part fits: the options area is cut, so the walk reports it.
                let _ = Options::clone(&opts).count();
            }
            Ok(other) => panic!("{n}: {other:?}"),
            Err(_) => {}
        }
    }
}

mod headers {
    use super::*;
    use rpl::hbh::{self, RplOption};
    use rpl::srh::{self, Srh};
    use smoltcp::wire::{
        Ipv6ExtHeader, Ipv6HopByHopHeader, Ipv6HopByHopRepr, Ipv6OptionRepr, Ipv6RoutingHeader,
        Ipv6RoutingRepr, RplHopByHopRepr,
    };

    /// An address in 2001:db8:1::/64 whose IID is `iid`, or a foreign one for `iid` 0.
    fn node(iid: u64) -> Ipv6Addr {
        let mut o = a("2001:db8:1::").octets();
        if iid == 0 {
            o[2] = 0xaa;
        }
        o[8..].copy_from_slice(&iid.to_be_bytes());
        Ipv6Addr::from(o)
    }

    proptest! {
        /// smoltcp reads every SRH we build with our CmprI, CmprE, Pad and address bytes, and
        /// expands them back to the path.
        #[test]
        fn smoltcp_reads_our_source_routes(
            first in 1u64..u64::MAX,
            iids in proptest::collection::vec(prop_oneof![
                1u64..=0xff, 0x0212_4b00_0000_0000u64..0x0212_4b00_0000_ffff, Just(0u64), any::<u64>()], 1..=16)
        ) {
            let first = node(first);
            let hops: Vec<Ipv6Addr> = iids.iter().map(|&i| node(i)).collect();
            let mut buf = [0u8; 512];
            let n = srh::build(&first, &hops, 41, &mut buf).unwrap();
            prop_assert_eq!(n % 8, 0);
            let ext = Ipv6ExtHeader::new_checked(&buf[..n]).unwrap();
            prop_assert_eq!(u8::from(ext.next_header()), 41);
            let rh = Ipv6RoutingHeader::new_checked(ext.payload()).unwrap();
            let Ipv6RoutingRepr::Rpl { segments_left, cmpr_i, cmpr_e, pad, addresses } =
                Ipv6RoutingRepr::parse(&rh).unwrap() else { panic!("not type 3") };
            let ours = Srh::parse(&buf[..n]).unwrap();
            prop_assert_eq!((segments_left as usize, cmpr_i, cmpr_e, pad),
                (hops.len(), ours.cmpr_i, ours.cmpr_e, ours.pad));
            prop_assert_eq!(addresses, &buf[8..n]);
            prop_assert_eq!(ours.n, hops.len());
            // Expanded against the destination each router sees, every address comes back.
            let mut dst = first;
            for (k, h) in hops.iter().enumerate() {
                prop_assert_eq!(ours.address(k + 1, &dst), Some(*h));
                dst = *h;
            }
        }
    }

    #[test]
    fn we_read_smoltcps_source_route() {
        // Two addresses with CmprI 15, CmprE 15 and 6 bytes of padding, as smoltcp emits it.
        let repr = Ipv6RoutingRepr::Rpl {
            segments_left: 2,
            cmpr_i: 15,
            cmpr_e: 15,
            pad: 6,
            addresses: &[0x02, 0x03, 0, 0, 0, 0, 0, 0],
        };
        let mut b = vec![0u8; 2 + repr.buffer_len()];
        b[0] = 41;
        b[1] = ((b.len() / 8) - 1) as u8;
        repr.emit(&mut Ipv6RoutingHeader::new_unchecked(&mut b[2..]));
        let h = Srh::parse(&b).unwrap();
        let dst = a("2001:db8:1::1");
        assert_eq!((h.n, h.segments_left), (2, 2));
        assert_eq!(h.address(1, &dst), Some(a("2001:db8:1::2")));
        assert_eq!(h.address(2, &dst), Some(a("2001:db8:1::3")));
    }

    #[test]
    fn smoltcp_reads_our_rpl_option_and_we_read_its() {
        let o = RplOption {
            down: true,
            rank_error: false,
            forwarding_error: false,
            instance_id: 30,
            sender_rank: 256,
        };
        let h = o.hbh_header(41);
        let ext = Ipv6ExtHeader::new_checked(&h[..]).unwrap();
        let hbh = Ipv6HopByHopHeader::new_checked(ext.payload()).unwrap();
        let repr = Ipv6HopByHopRepr::parse(&hbh).unwrap();
        let opts: Vec<_> = repr.options.iter().collect();
        // smoltcp knows the option under RFC 6553's type 0x63 only: it reads our 0x23 (RFC
        // 9008) as an unknown option of 4 data bytes, which it skips. The bytes are the same.
        assert_eq!(opts.len(), 1);
        assert!(
            matches!(opts[0], Ipv6OptionRepr::Unknown { type_, length: 4, .. } if u8::from(*type_) == 0x23),
            "{opts:?}"
        );
        // Under 0x63, smoltcp reads the RPL fields.
        let mut old = h;
        old[2] = hbh::OPTION_6553;
        let ext = Ipv6ExtHeader::new_checked(&old[..]).unwrap();
        let hbh6553 = Ipv6HopByHopHeader::new_checked(ext.payload()).unwrap();
        let repr = Ipv6HopByHopRepr::parse(&hbh6553).unwrap();
        let opts: Vec<_> = repr.options.iter().collect();
        assert_eq!(
            *opts[0],
            Ipv6OptionRepr::Rpl(RplHopByHopRepr {
                down: true,
                rank_error: false,
                forwarding_error: false,
                instance_id: RplInstanceId::Global(30),
                sender_rank: 256,
            })
        );
        assert_eq!(hbh::find(&old), Some(Ok(o)));
    }
}
