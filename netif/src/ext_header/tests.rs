//! A table of real extension-header chains (the bytes after the 40-byte fixed header), each
//! walked, and each header of the valid ones read back with smoltcp's wire types.

use std::vec::Vec;

use smoltcp::wire::{
    IpProtocol, Ipv6ExtHeader, Ipv6FragmentHeader, Ipv6HopByHopHeader, Ipv6HopByHopRepr,
    Ipv6OptionFailureType, Ipv6OptionRepr, Ipv6OptionRouterAlert, Ipv6OptionType,
    Ipv6RoutingHeader, Ipv6RoutingType,
};

use super::*;

const HBH: u8 = 0;
const ROUTE: u8 = 43;
const FRAG: u8 = 44;
const ICMPV6: u8 = 58;
const NO_NEXT: u8 = 59;
const OPTS: u8 = 60;
const UDP: u8 = 17;

/// Hop-by-hop, one PadN of 4 bytes.
const HBH_PADN: [u8; 8] = [
    ICMPV6, 0, // next header ICMPv6, Hdr Ext Len 0 (8 bytes)
    0x01, 0x04, 0, 0, 0, 0, // PadN, data length 4
];
/// Hop-by-hop carrying a Router Alert for MLD (RFC 2711), as Linux sends MLD reports.
const HBH_ROUTER_ALERT: [u8; 8] = [
    ICMPV6, 0, // next header ICMPv6, Hdr Ext Len 0
    0x05, 0x02, 0x00, 0x00, // Router Alert, data length 2, value 0 (MLD)
    0x01, 0x00, // PadN, data length 0
];
/// Hop-by-hop carrying the RPL Option of RFC 6553 (type 0x63, the action bits 01 "discard"
/// an RPL-unaware node applies): O=0 R=0 F=0, instance 30, sender rank 512 (0x0200), then
/// PadN 0, as a RIOT or Contiki-NG node sends it upward.
const HBH_RPL_6553: [u8; 8] = [
    ICMPV6, 0, // next header ICMPv6, Hdr Ext Len 0
    0x63, 0x04, 0x00, 0x1e, 0x02, 0x00, // RPL Option: flags, instance 30, rank 512
];
/// Destination options made of six Pad1s.
const OPTS_PAD1: [u8; 8] = [
    UDP, 0, // next header UDP, Hdr Ext Len 0
    0, 0, 0, 0, 0, 0, // six Pad1
];
/// Type 2 routing header (RFC 6275) with Segments Left 0: skipped.
const ROUTE_DONE: [u8; 24] = [
    ICMPV6, 2, // next header ICMPv6, Hdr Ext Len 2 (24 bytes)
    2, 0, // Routing Type 2, Segments Left 0
    0, 0, 0, 0, // reserved
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // home address 2001:db8::1
];
/// The same with Segments Left 1: a destination must refuse it (RFC 8200 §4.4).
const ROUTE_PENDING: [u8; 24] = [
    ICMPV6, 2, // next header ICMPv6, Hdr Ext Len 2
    2, 1, // Routing Type 2, Segments Left 1
    0, 0, 0, 0, // reserved
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // home address 2001:db8::1
];
/// First fragment of a datagram.
const FRAGMENT: [u8; 8] = [
    ICMPV6, 0, // next header ICMPv6, reserved
    0x00, 0x01, // fragment offset 0, M = 1
    0x12, 0x34, 0x56, 0x78, // identification
];
/// An echo request (the upper layer after the headers).
const ECHO: [u8; 8] = [128, 0, 0, 0, 0, 1, 0, 1]; // type, code, checksum, id 1, seq 1

/// Options header whose one option has `ty` (RFC 8200 §4.2 action bits) and 4 data bytes.
fn opts_with(ty: u8) -> [u8; 8] {
    [ICMPV6, 0, ty, 4, 0, 0, 0, 0] // next header, Hdr Ext Len 0, option type, length 4
}

/// The header bytes after a fixed header (whose content the walk never reads).
fn packet(parts: &[&[u8]]) -> Vec<u8> {
    let mut p = std::vec![0u8; IPV6_HEADER_LEN];
    for part in parts {
        p.extend_from_slice(part);
    }
    p
}

struct Case {
    name: &'static str,
    first: u8,
    bytes: Vec<u8>,
    dst_multicast: bool,
    want: Upper,
}

fn at(p: IpProtocol, off: usize) -> Upper {
    Upper::At(u8::from(p), off)
}

fn cases() -> Vec<Case> {
    let case = |name, first, parts: &[&[u8]], dst_multicast, want| Case {
        name,
        first,
        bytes: packet(parts),
        dst_multicast,
        want,
    };
    let drop = Upper::Drop;
    let mut chain_of_9 = Vec::new();
    for _ in 0..MAX_EXT_HEADERS + 1 {
        chain_of_9.extend_from_slice(&[OPTS, 0, 1, 4, 0, 0, 0, 0]); // options, one PadN
    }
    let mut hbh_long = HBH_PADN;
    hbh_long[1] = 1; // says 16 bytes, has 8
    let mut padn_past_end = HBH_PADN;
    padn_past_end[3] = 6; // PadN of 6 data bytes in 6 bytes of room minus its 2-byte head
    let mut hbh_then_hbh = OPTS_PAD1;
    hbh_then_hbh[0] = HBH; // a second hop-by-hop header
    let mut chain_hbh = HBH_PADN;
    chain_hbh[0] = OPTS;
    let mut chain_opts = OPTS_PAD1;
    chain_opts[0] = ROUTE;
    let mut chain_route = ROUTE_DONE;
    chain_route[0] = NO_NEXT;
    std::vec![
        case(
            "no extension header",
            ICMPV6,
            &[&ECHO],
            false,
            at(IpProtocol::Icmpv6, 40)
        ),
        case(
            "hop-by-hop PadN",
            HBH,
            &[&HBH_PADN, &ECHO],
            false,
            at(IpProtocol::Icmpv6, 48)
        ),
        case(
            "hop-by-hop router alert",
            HBH,
            &[&HBH_ROUTER_ALERT, &ECHO],
            true,
            at(IpProtocol::Icmpv6, 48)
        ),
        case(
            "hop-by-hop RPL Option 0x63 (RFC 6553) is known",
            HBH,
            &[&HBH_RPL_6553, &ECHO],
            false,
            at(IpProtocol::Icmpv6, 48)
        ),
        case(
            "hop-by-hop RPL Option 0x23 (RFC 9008) is known",
            HBH,
            &[
                &{
                    let mut h = HBH_RPL_6553;
                    h[2] = 0x23;
                    h
                },
                &ECHO
            ],
            false,
            at(IpProtocol::Icmpv6, 48)
        ),
        case(
            "a 0x63 option too short for the RPL Option is unrecognised: discard",
            HBH,
            &[&[ICMPV6, 0, 0x63, 0x02, 0, 0, 0x01, 0x00], &ECHO],
            false,
            drop(DropReason::BadExtensionHeader)
        ),
        case(
            "destination options Pad1",
            OPTS,
            &[&OPTS_PAD1, &[0; 8]],
            false,
            at(IpProtocol::Udp, 48)
        ),
        case(
            "routing, segments left 0",
            ROUTE,
            &[&ROUTE_DONE, &ECHO],
            false,
            at(IpProtocol::Icmpv6, 64)
        ),
        case(
            "routing, segments left 1",
            ROUTE,
            &[&ROUTE_PENDING, &ECHO],
            false,
            Upper::Routing(ROUTE_PENDING[2], 40)
        ),
        case(
            "fragment is handed on",
            FRAG,
            &[&FRAGMENT, &ECHO],
            false,
            at(IpProtocol::Ipv6Frag, 40)
        ),
        case(
            "chain hop-by-hop, options, routing, no next header",
            HBH,
            &[&chain_hbh, &chain_opts, &chain_route],
            false,
            at(IpProtocol::Ipv6NoNxt, 80),
        ),
        case(
            "hop-by-hop not first",
            OPTS,
            &[&hbh_then_hbh, &HBH_PADN],
            false,
            Upper::Problem(1, 40)
        ),
        case(
            "longer chain than walked",
            OPTS,
            &[&chain_of_9],
            false,
            drop(DropReason::BadExtensionHeader)
        ),
        case(
            "hop-by-hop missing",
            HBH,
            &[],
            false,
            drop(DropReason::Truncated)
        ),
        case(
            "hop-by-hop longer than the packet",
            HBH,
            &[&hbh_long],
            false,
            drop(DropReason::Truncated)
        ),
        case(
            "option past its header",
            HBH,
            &[&padn_past_end],
            false,
            drop(DropReason::BadExtensionHeader)
        ),
        case(
            "routing header cut short",
            ROUTE,
            &[&ROUTE_DONE[..3]],
            false,
            drop(DropReason::Truncated)
        ),
        case(
            "unknown option, action skip",
            OPTS,
            &[&opts_with(0x1e)],
            false,
            at(IpProtocol::Icmpv6, 48)
        ),
        case(
            "unknown option, action discard",
            OPTS,
            &[&opts_with(0x5e)],
            false,
            drop(DropReason::BadExtensionHeader)
        ),
        case(
            "unknown option, action report",
            OPTS,
            &[&opts_with(0x9e)],
            true,
            Upper::Problem(2, 42)
        ),
        case(
            "unknown option, report if unicast",
            OPTS,
            &[&opts_with(0xde)],
            false,
            Upper::Problem(2, 42)
        ),
        case(
            "unknown option, unicast-only to multicast",
            OPTS,
            &[&opts_with(0xde)],
            true,
            drop(DropReason::BadExtensionHeader)
        ),
    ]
}

#[test]
fn walk_table() {
    for c in cases() {
        assert_eq!(
            walk_to_upper(&c.bytes, c.first, c.dst_multicast),
            c.want,
            "{}",
            c.name
        );
        // Never a panic on any prefix of the case.
        for n in 0..c.bytes.len() {
            let _ = walk_to_upper(&c.bytes[..n], c.first, c.dst_multicast);
            let _ = next_header_ptr(&c.bytes[..n], c.first, n);
        }
    }
}

#[test]
fn next_header_pointer_names_the_field() {
    let mut hbh = HBH_PADN;
    hbh[0] = OPTS;
    let mut opts = OPTS_PAD1;
    opts[0] = 253; // experimental, unknown upper layer
    let p = packet(&[&hbh, &opts, &ECHO]);
    assert_eq!(
        walk_to_upper(&p, HBH, false),
        at(IpProtocol::Unknown(253), 56)
    );
    assert_eq!(next_header_ptr(&p, HBH, 56), 48); // next header of the options header
    assert_eq!(next_header_ptr(&p, HBH, 48), 40); // next header of the hop-by-hop header
    assert_eq!(next_header_ptr(&p, 253, 40), 6); // the fixed header's
}

/// The vectors are what smoltcp reads: next header, length, options, routing and fragment
/// fields.
#[test]
fn vectors_agree_with_smoltcp() {
    for (bytes, next, kind) in [
        (&HBH_PADN[..], IpProtocol::Icmpv6, HBH),
        (&HBH_ROUTER_ALERT[..], IpProtocol::Icmpv6, HBH),
        (&HBH_RPL_6553[..], IpProtocol::Icmpv6, HBH),
        (&OPTS_PAD1[..], IpProtocol::Udp, OPTS),
        (&ROUTE_DONE[..], IpProtocol::Icmpv6, ROUTE),
        (&ROUTE_PENDING[..], IpProtocol::Icmpv6, ROUTE),
    ] {
        let h = Ipv6ExtHeader::new_checked(bytes).unwrap();
        assert_eq!(h.next_header(), next);
        assert_eq!(header_len(h.header_len()), bytes.len());
        let payload = h.payload();
        match kind {
            ROUTE => {
                let r = Ipv6RoutingHeader::new_checked(payload).unwrap();
                assert_eq!(r.routing_type(), Ipv6RoutingType::Type2);
                assert_eq!(r.segments_left(), bytes[field::SEGMENTS_LEFT]);
            }
            _ => {
                let o = Ipv6HopByHopHeader::new_checked(payload).unwrap();
                Ipv6HopByHopRepr::parse(&o).unwrap();
            }
        }
    }
    // smoltcp emits the MLD router alert header byte for byte like ours.
    let repr = Ipv6HopByHopRepr::mldv2_router_alert();
    let mut buf = [0u8; 6];
    repr.emit(&mut Ipv6HopByHopHeader::new_unchecked(&mut buf[..]));
    assert_eq!(buf[..4], HBH_ROUTER_ALERT[2..6]);
    assert_eq!(
        repr.options[0],
        Ipv6OptionRepr::RouterAlert(Ipv6OptionRouterAlert::MulticastListenerDiscovery)
    );
    // Fragment header: smoltcp reads it after the next-header and reserved bytes.
    let f = Ipv6FragmentHeader::new_checked(&FRAGMENT[2..]).unwrap();
    assert_eq!(
        (f.frag_offset(), f.more_frags(), f.ident()),
        (0, true, 0x1234_5678)
    );
    assert_eq!(
        IpProtocol::from(FRAGMENT[field::NEXT_HEADER]),
        IpProtocol::Icmpv6
    );
    // The numbers this table spells out are smoltcp's.
    for (raw, p) in [
        (HBH, IpProtocol::HopByHop),
        (ROUTE, IpProtocol::Ipv6Route),
        (FRAG, IpProtocol::Ipv6Frag),
        (NO_NEXT, IpProtocol::Ipv6NoNxt),
        (OPTS, IpProtocol::Ipv6Opts),
        (ICMPV6, IpProtocol::Icmpv6),
        (UDP, IpProtocol::Udp),
    ] {
        assert_eq!(IpProtocol::from(raw), p);
    }
}

/// Our small enums name the values smoltcp names, both ways, for every byte.
#[test]
fn enums_agree_with_smoltcp() {
    for (ours, theirs) in [
        (NextHeader::HopByHop, IpProtocol::HopByHop),
        (NextHeader::Routing, IpProtocol::Ipv6Route),
        (NextHeader::Fragment, IpProtocol::Ipv6Frag),
        (NextHeader::NoNextHeader, IpProtocol::Ipv6NoNxt),
        (NextHeader::DestinationOptions, IpProtocol::Ipv6Opts),
    ] {
        assert_eq!(u8::from(ours), u8::from(theirs));
    }
    for (ours, theirs) in [
        (OptionType::Pad1, Ipv6OptionType::Pad1),
        (OptionType::PadN, Ipv6OptionType::PadN),
        (OptionType::RouterAlert, Ipv6OptionType::RouterAlert),
    ] {
        assert_eq!(u8::from(ours), u8::from(theirs));
    }
    for b in 0..=u8::MAX {
        assert_eq!(u8::from(NextHeader::from(b)), b);
        assert_eq!(u8::from(OptionType::from(b)), b);
        let theirs = match Ipv6OptionFailureType::from(b) {
            Ipv6OptionFailureType::Skip => OptionAction::Skip,
            Ipv6OptionFailureType::Discard => OptionAction::Discard,
            Ipv6OptionFailureType::DiscardSendAll => OptionAction::DiscardSendAll,
            Ipv6OptionFailureType::DiscardSendUnicast => OptionAction::DiscardSendUnicast,
        };
        assert_eq!(OptionType::from(b).action(), theirs, "{b}");
    }
}
