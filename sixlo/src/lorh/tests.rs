//! Byte tables of every 6LoRH form, laid out as the RFC 8138 figures draw them, parsed and
//! emitted both ways.

use super::*;

const A16: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0x07,
];

/// (name, wire bytes, meaning). Emitting the meaning gives the bytes back: every vector is in
/// the shortest form the emitter chooses.
fn table() -> [(&'static str, &'static [u8], Repr<'static>); 12] {
    [
        (
            // RFC 8138 §6.3.3, I=1 K=1: 100 O R F I K = 100 0 0 0 1 1, type 5, SenderRank (1).
            "RPI-6LoRH, instance and rank high byte elided",
            &[0x83, 0x05, 0x12],
            Repr::Rpi(Rpi {
                instance: 0,
                sender_rank: 0x12,
                ..Rpi::default()
            }),
        ),
        (
            // I=0 K=0, O=1: 100 1 0 0 0 0, type 5, RPLInstanceID, SenderRank (2).
            "RPI-6LoRH, everything inline, down",
            &[0x90, 0x05, 0x1e, 0x01, 0x02],
            Repr::Rpi(Rpi {
                down: true,
                instance: 0x1e,
                sender_rank: 0x0102,
                ..Rpi::default()
            }),
        ),
        (
            // I=1 K=0, R=1: 100 0 1 0 1 0, type 5, SenderRank (2).
            "RPI-6LoRH, instance elided, rank error",
            &[0x8a, 0x05, 0x04, 0x00],
            Repr::Rpi(Rpi {
                rank_error: true,
                instance: 0,
                sender_rank: 0x0400,
                ..Rpi::default()
            }),
        ),
        (
            // I=0 K=1, F=1: 100 0 0 1 0 1, type 5, RPLInstanceID, SenderRank (1).
            "RPI-6LoRH, rank in one byte, forwarding error",
            &[0x85, 0x05, 0x07, 0x03],
            Repr::Rpi(Rpi {
                forwarding_error: true,
                instance: 7,
                sender_rank: 3,
                ..Rpi::default()
            }),
        ),
        (
            // RFC 8138 §6.1: 100 Size=2 (3 hops), type 0 (1 byte each), Hop1..Hop3.
            "SRH-6LoRH type 0, three 1-byte addresses",
            &[0x82, 0x00, 0x03, 0x05, 0x07],
            Repr::Srh {
                size: AddrSize::B1,
                addrs: &[0x03, 0x05, 0x07],
            },
        ),
        (
            "SRH-6LoRH type 1, one 2-byte address",
            &[0x80, 0x01, 0xab, 0xcd],
            Repr::Srh {
                size: AddrSize::B2,
                addrs: &[0xab, 0xcd],
            },
        ),
        (
            "SRH-6LoRH type 2, two 4-byte addresses",
            &[0x81, 0x02, 0, 0, 0, 1, 0, 0, 0, 2],
            Repr::Srh {
                size: AddrSize::B4,
                addrs: &[0, 0, 0, 1, 0, 0, 0, 2],
            },
        ),
        (
            "SRH-6LoRH type 3, one 8-byte address",
            &[0x80, 0x03, 0x02, 0, 0, 0, 0, 0, 0, 0x07],
            Repr::Srh {
                size: AddrSize::B8,
                addrs: &[0x02, 0, 0, 0, 0, 0, 0, 0x07],
            },
        ),
        (
            // RFC 8138 §7: 101 Length=1, type 6, Hop Limit; encapsulator elided (the root).
            "IP-in-IP-6LoRH, encapsulator elided",
            &[0xa1, 0x06, 0x40],
            Repr::IpInIp {
                hop_limit: 64,
                encapsulator: &[],
            },
        ),
        (
            // Length 3: the encapsulator compressed to 2 bytes against the root.
            "IP-in-IP-6LoRH, 2-byte encapsulator",
            &[0xa3, 0x06, 0x3f, 0x00, 0x09],
            Repr::IpInIp {
                hop_limit: 63,
                encapsulator: &[0x00, 0x09],
            },
        ),
        (
            // Length 17: the whole encapsulator address.
            "IP-in-IP-6LoRH, inline encapsulator",
            &[
                0xb1, 0x06, 0xff, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0x07,
            ],
            Repr::IpInIp {
                hop_limit: 255,
                encapsulator: &A16,
            },
        ),
        (
            // RFC 8138 §5.1: an elective 6LoRH of an unknown type, skipped by its Length.
            "unknown elective 6LoRH",
            &[0xa2, 0x1f, 0x01, 0x02],
            Repr::Elective {
                lorh_type: 0x1f,
                data: &[0x01, 0x02],
            },
        ),
    ]
}

#[test]
fn vectors_parse_and_emit() {
    for (name, bytes, repr) in table() {
        let p = Packet::new_checked(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.header_len(), Ok(bytes.len()), "{name}");
        assert_eq!(Repr::parse(&p), Ok(repr), "{name}");
        assert_eq!(repr.buffer_len(), bytes.len(), "{name}");
        let mut out = [0u8; 40];
        let mut q = Packet::new_unchecked(&mut out[..bytes.len()]);
        repr.emit(&mut q).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&out[..bytes.len()], bytes, "{name}");
    }
}

#[test]
fn srh_16_byte_addresses() {
    let mut b = [0u8; 34];
    b[..2].copy_from_slice(&[0x81, 0x04]);
    b[2..18].copy_from_slice(&A16);
    b[18..].copy_from_slice(&A16);
    let p = Packet::new_checked(&b[..]).unwrap();
    let Ok(Repr::Srh { size, addrs }) = Repr::parse(&p) else {
        panic!("not an SRH-6LoRH");
    };
    assert_eq!((size, addrs.len()), (AddrSize::B16, 32));
}

#[test]
fn hostile_6lorhs_are_refused() {
    let cases: &[(&[u8], LorhError)] = &[
        // Critical type 9: unknown, its length unknowable.
        (&[0x80, 0x09, 0, 0], LorhError::UnknownCritical(9)),
        // IP-in-IP Length 0: no hop limit.
        (&[0xa0, 0x06], LorhError::BadLength),
        // IP-in-IP Length 4: a 3-byte encapsulator is no compressed form.
        (&[0xa4, 0x06, 1, 2, 3, 4], LorhError::BadLength),
        // SRH-6LoRH Size 3 (4 hops of 2 bytes) with 3 bytes present.
        (&[0x83, 0x01, 1, 2, 3], LorhError::Truncated),
        // RPI-6LoRH I=0 K=0 with one byte.
        (&[0x80, 0x05, 1], LorhError::Truncated),
        // An elective Length past the end.
        (&[0xbf, 0x07, 1], LorhError::Truncated),
        // Not a 6LoRH at all (IPHC).
        (&[0x7a, 0x33], LorhError::Truncated),
        (&[0x80], LorhError::Truncated),
    ];
    for (bytes, e) in cases {
        let r = Packet::new_checked(*bytes).and_then(|p| Repr::parse(&p));
        assert_eq!(r, Err(*e), "{bytes:02x?}");
    }
}

#[test]
fn emit_refuses_what_parse_cannot_read() {
    let mut out = [0u8; 64];
    let bad = [
        Repr::Srh {
            size: AddrSize::B2,
            addrs: &[1, 2, 3],
        },
        Repr::Srh {
            size: AddrSize::B1,
            addrs: &[],
        },
        Repr::IpInIp {
            hop_limit: 1,
            encapsulator: &[1, 2, 3],
        },
        Repr::Elective {
            lorh_type: TYPE_IP_IN_IP,
            data: &[1],
        },
    ];
    for r in bad {
        assert_eq!(
            r.emit(&mut Packet::new_unchecked(&mut out[..])),
            Err(LorhError::BadLength),
            "{r:?}"
        );
    }
    let short = Repr::IpInIp {
        hop_limit: 1,
        encapsulator: &A16,
    };
    assert_eq!(
        short.emit(&mut Packet::new_unchecked(&mut out[..10])),
        Err(LorhError::Truncated)
    );
}

#[test]
fn coalesce_and_elide() {
    let mut b = A16;
    b[15] = 0x09;
    assert_eq!(AddrSize::elide(&b, &A16), AddrSize::B1);
    assert_eq!(coalesce(&A16, &[0x09]), Some(b));
    b[14] = 0x01;
    assert_eq!(AddrSize::elide(&b, &A16), AddrSize::B2);
    b[9] = 0x01;
    assert_eq!(AddrSize::elide(&b, &A16), AddrSize::B8);
    b[0] = 0xfd;
    assert_eq!(AddrSize::elide(&b, &A16), AddrSize::B16);
    assert_eq!(AddrSize::elide(&A16, &A16), AddrSize::B1);
    assert_eq!(coalesce(&A16, &[0; 17]), None);
}

#[test]
fn rpl_option_both_ways() {
    let r = Rpi::from_option(&[0x63, 4, 0xa0, 0x1e, 0x01, 0x00]).unwrap();
    assert_eq!(
        r,
        Rpi {
            down: true,
            rank_error: false,
            forwarding_error: true,
            instance: 0x1e,
            sender_rank: 0x0100
        }
    );
    assert_eq!(r.hop_by_hop(41), [41, 0, 0x23, 4, 0xa0, 0x1e, 0x01, 0x00]);
    // Other flags, another length or another option: not an RPI-6LoRH.
    assert_eq!(Rpi::from_option(&[0x23, 4, 0x10, 0, 0, 0]), None);
    assert_eq!(Rpi::from_option(&[0x23, 5, 0, 0, 0, 0]), None);
    assert_eq!(Rpi::from_option(&[0x01, 4, 0, 0, 0, 0]), None);
}
