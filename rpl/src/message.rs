//! The RPL control messages (RFC 6550 §6): ICMPv6 type 155 with the code naming the message.
//!
//! [`Message::parse`] reads a whole ICMPv6 message (type, code, checksum, body) into the
//! message's fixed fields and an [`Options`] iterator over the rest; [`emit`] writes one with
//! its options and a zero checksum, which [`fill_checksum`] (or the caller's IPv6 layer) then
//! sets over the pseudo-header. Secure RPL (codes 0x80..=0x83) and the Consistency Check are
//! recognised but not interpreted: this implementation does not do secure RPL.

use core::net::Ipv6Addr;

use crate::option::{Opt, Options};
use crate::{Error, Result};

/// The ICMPv6 type of RPL control messages.
pub const ICMPV6_TYPE: u8 = 155;

/// The message codes (RFC 6550 §6, RFC 9009).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Code {
    /// 0x00 DODAG Information Solicitation.
    Dis,
    /// 0x01 DODAG Information Object.
    Dio,
    /// 0x02 Destination Advertisement Object.
    Dao,
    /// 0x03 DAO acknowledgement.
    DaoAck,
    /// 0x04 Destination Cleanup Object (RFC 9009).
    Dco,
    /// 0x05 DCO acknowledgement (RFC 9009).
    DcoAck,
    /// 0x8A Consistency Check.
    ConsistencyCheck,
    /// 0x80..=0x83 secure variants.
    Secure(u8),
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for Code {
    fn from(v: u8) -> Self {
        match v {
            0x00 => Code::Dis,
            0x01 => Code::Dio,
            0x02 => Code::Dao,
            0x03 => Code::DaoAck,
            0x04 => Code::Dco,
            0x05 => Code::DcoAck,
            0x8a => Code::ConsistencyCheck,
            0x80..=0x83 => Code::Secure(v),
            v => Code::Unknown(v),
        }
    }
}

impl From<Code> for u8 {
    fn from(c: Code) -> u8 {
        match c {
            Code::Dis => 0x00,
            Code::Dio => 0x01,
            Code::Dao => 0x02,
            Code::DaoAck => 0x03,
            Code::Dco => 0x04,
            Code::DcoAck => 0x05,
            Code::ConsistencyCheck => 0x8a,
            Code::Secure(v) | Code::Unknown(v) => v,
        }
    }
}

/// The Mode of Operation (RFC 6550 §6.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Mop {
    /// 0: no downward routes.
    NoDownward,
    /// 1: non-storing.
    NonStoring,
    /// 2: storing without multicast.
    Storing,
    /// 3: storing with multicast.
    StoringMulticast,
    /// 4..=7: unassigned or later specifications.
    Unknown(u8),
}

impl From<u8> for Mop {
    fn from(v: u8) -> Self {
        match v & 0x07 {
            0 => Mop::NoDownward,
            1 => Mop::NonStoring,
            2 => Mop::Storing,
            3 => Mop::StoringMulticast,
            v => Mop::Unknown(v),
        }
    }
}

impl From<Mop> for u8 {
    fn from(m: Mop) -> u8 {
        match m {
            Mop::NoDownward => 0,
            Mop::NonStoring => 1,
            Mop::Storing => 2,
            Mop::StoringMulticast => 3,
            Mop::Unknown(v) => v & 0x07,
        }
    }
}

/// A DIO's fixed part (RFC 6550 §6.3.1), 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dio {
    /// RPLInstanceID.
    pub instance_id: u8,
    /// Version Number.
    pub version: u8,
    /// The sender's rank.
    pub rank: u16,
    /// G: grounded.
    pub grounded: bool,
    /// MOP.
    pub mop: Mop,
    /// Prf: DODAG preference, 0..=7.
    pub preference: u8,
    /// DTSN.
    pub dtsn: u8,
    /// DODAGID.
    pub dodag_id: Ipv6Addr,
}

/// A DAO's fixed part (RFC 6550 §6.4.1), 4 bytes (20 with the DODAGID).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dao {
    /// RPLInstanceID.
    pub instance_id: u8,
    /// K: a DAO-ACK is expected.
    pub ack_requested: bool,
    /// DAOSequence.
    pub sequence: u8,
    /// DODAGID, when the D flag is set (required for a local instance).
    pub dodag_id: Option<Ipv6Addr>,
}

/// A DAO-ACK's fixed part (RFC 6550 §6.5.1), 4 bytes (20 with the DODAGID).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DaoAck {
    /// RPLInstanceID.
    pub instance_id: u8,
    /// The DAOSequence acknowledged.
    pub sequence: u8,
    /// Status: 0 unqualified acceptance, 1..=127 accepted with a note, 128..=255 rejected.
    pub status: u8,
    /// DODAGID, when the D flag is set.
    pub dodag_id: Option<Ipv6Addr>,
}

/// DAO-ACK status: unqualified acceptance.
pub const STATUS_ACCEPTED: u8 = 0;
/// DAO-ACK status: unqualified rejection (RFC 6550 §6.5.1: 128..=255 reject; RFC 9010 §6.1
/// reads the byte as E (0x80, error) | A (0x40, the rest is an RFC 8505 ND status)).
pub const STATUS_REJECTED: u8 = 0x80;
/// DAO-ACK status: rejected, the root's table is full (E | A | ND status 2, "Neighbor Cache
/// Full").
pub const STATUS_TABLE_FULL: u8 = 0xc2;
/// DAO-ACK status: rejected, the target is outside the DODAG's prefix (E | A | ND status 8,
/// "Registered Address Topologically Incorrect").
pub const STATUS_TOPOLOGICALLY_INCORRECT: u8 = 0xc8;

/// A parsed RPL control message.
#[derive(Clone, Debug)]
pub enum Message<'a> {
    /// DIS (its Flags and Reserved bytes ignored).
    Dis(Options<'a>),
    /// DIO.
    Dio(Dio, Options<'a>),
    /// DAO.
    Dao(Dao, Options<'a>),
    /// DAO-ACK.
    DaoAck(DaoAck, Options<'a>),
    /// Any other code (the body after the checksum, uninterpreted).
    Other(Code, &'a [u8]),
}

fn addr_at(b: &[u8], at: usize) -> Result<Ipv6Addr> {
    b.get(at..at.saturating_add(16))
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
        .map(Ipv6Addr::from)
        .ok_or(Error::Truncated)
}

impl<'a> Message<'a> {
    /// Parses a whole ICMPv6 message (type, code, checksum, body). The checksum is not
    /// checked here (the IPv6 layer does, or [`verify_checksum`]).
    pub fn parse(icmp: &'a [u8]) -> Result<Message<'a>> {
        let (&ty, rest) = icmp.split_first().ok_or(Error::Truncated)?;
        if ty != ICMPV6_TYPE {
            return Err(Error::Malformed);
        }
        let (&code, rest) = rest.split_first().ok_or(Error::Truncated)?;
        let body = rest.get(2..).ok_or(Error::Truncated)?;
        let byte = |at: usize| body.get(at).copied().ok_or(Error::Truncated);
        let after = |at: usize| body.get(at..).ok_or(Error::Truncated);
        Ok(match Code::from(code) {
            Code::Dis => Message::Dis(Options::new(after(2)?)),
            Code::Dio => {
                let f = byte(4)?;
                let dio = Dio {
                    instance_id: byte(0)?,
                    version: byte(1)?,
                    rank: u16::from_be_bytes([byte(2)?, byte(3)?]),
                    grounded: f & 0x80 != 0,
                    mop: Mop::from((f >> 3) & 0x07),
                    preference: f & 0x07,
                    dtsn: byte(5)?,
                    dodag_id: addr_at(body, 8)?,
                };
                Message::Dio(dio, Options::new(after(24)?))
            }
            Code::Dao => {
                let f = byte(1)?;
                let d = f & 0x40 != 0;
                let dao = Dao {
                    instance_id: byte(0)?,
                    ack_requested: f & 0x80 != 0,
                    sequence: byte(3)?,
                    dodag_id: if d { Some(addr_at(body, 4)?) } else { None },
                };
                Message::Dao(dao, Options::new(after(if d { 20 } else { 4 })?))
            }
            Code::DaoAck => {
                let d = byte(1)? & 0x80 != 0;
                let ack = DaoAck {
                    instance_id: byte(0)?,
                    sequence: byte(2)?,
                    status: byte(3)?,
                    dodag_id: if d { Some(addr_at(body, 4)?) } else { None },
                };
                Message::DaoAck(ack, Options::new(after(if d { 20 } else { 4 })?))
            }
            other => Message::Other(other, body),
        })
    }
}

/// A message to [`emit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Out {
    /// DIS.
    Dis,
    /// DIO.
    Dio(Dio),
    /// DAO.
    Dao(Dao),
    /// DAO-ACK.
    DaoAck(DaoAck),
}

impl Out {
    fn code(&self) -> Code {
        match self {
            Out::Dis => Code::Dis,
            Out::Dio(_) => Code::Dio,
            Out::Dao(_) => Code::Dao,
            Out::DaoAck(_) => Code::DaoAck,
        }
    }

    /// Bytes of the ICMPv6 header and the fixed part.
    pub fn fixed_len(&self) -> usize {
        4 + match self {
            Out::Dis => 2,
            Out::Dio(_) => 24,
            Out::Dao(d) => {
                if d.dodag_id.is_some() {
                    20
                } else {
                    4
                }
            }
            Out::DaoAck(a) => {
                if a.dodag_id.is_some() {
                    20
                } else {
                    4
                }
            }
        }
    }
}

/// Writes the ICMPv6 message `m` with `opts` into `buf` (checksum zero); returns its length.
pub fn emit(m: &Out, opts: &[Opt<'_>], buf: &mut [u8]) -> Result<usize> {
    let fixed = m.fixed_len();
    let head = buf.get_mut(..fixed).ok_or(Error::Truncated)?;
    head.fill(0);
    let mut w = [0u8; 24];
    match m {
        Out::Dis => {}
        Out::Dio(d) => {
            w[0] = d.instance_id;
            w[1] = d.version;
            w[2..4].copy_from_slice(&d.rank.to_be_bytes());
            w[4] = (u8::from(d.grounded) << 7) | (u8::from(d.mop) << 3) | (d.preference & 0x07);
            w[5] = d.dtsn;
            w[8..24].copy_from_slice(&d.dodag_id.octets());
        }
        Out::Dao(d) => {
            w[0] = d.instance_id;
            w[1] = (u8::from(d.ack_requested) << 7) | (u8::from(d.dodag_id.is_some()) << 6);
            w[3] = d.sequence;
            if let Some(id) = d.dodag_id {
                w[4..20].copy_from_slice(&id.octets());
            }
        }
        Out::DaoAck(a) => {
            w[0] = a.instance_id;
            w[1] = u8::from(a.dodag_id.is_some()) << 7;
            w[2] = a.sequence;
            w[3] = a.status;
            if let Some(id) = a.dodag_id {
                w[4..20].copy_from_slice(&id.octets());
            }
        }
    }
    head[0] = ICMPV6_TYPE;
    head[1] = u8::from(m.code());
    if let (Some(dst), Some(src)) = (head.get_mut(4..fixed), w.get(..fixed - 4)) {
        dst.copy_from_slice(src);
    }
    let n = crate::option::emit(opts, buf.get_mut(fixed..).ok_or(Error::Truncated)?)?;
    Ok(fixed + n)
}

/// The ICMPv6 checksum of `icmp` (its checksum field read as zero) from `src` to `dst`.
pub fn checksum(src: &Ipv6Addr, dst: &Ipv6Addr, icmp: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |b: &[u8]| {
        for pair in b.chunks(2) {
            let hi = u32::from(pair.first().copied().unwrap_or(0)) << 8;
            let lo = u32::from(pair.get(1).copied().unwrap_or(0));
            sum = sum.wrapping_add(hi | lo);
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&(icmp.len() as u32).to_be_bytes());
    add(&[0, 0, 0, 58]);
    add(icmp.get(..2).unwrap_or(&[]));
    add(icmp.get(4..).unwrap_or(&[]));
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Sets the checksum field of `icmp`.
pub fn fill_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, icmp: &mut [u8]) {
    let c = checksum(src, dst, icmp);
    if let Some(f) = icmp.get_mut(2..4) {
        f.copy_from_slice(&c.to_be_bytes());
    }
}

/// Whether the checksum field of `icmp` is right.
pub fn verify_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, icmp: &[u8]) -> bool {
    icmp.get(2..4)
        .is_some_and(|f| f == checksum(src, dst, icmp).to_be_bytes())
}

/// Converts a path lifetime in lifetime units to seconds: 0xff is infinity (`u32::MAX`),
/// otherwise `lifetime × unit`.
pub fn lifetime_secs(lifetime: u8, unit: u16) -> u32 {
    if lifetime == 0xff {
        u32::MAX
    } else {
        u32::from(lifetime) * u32::from(unit)
    }
}

/// Real messages of a stack we did not write: RIOT OS gnrc_rpl (`zep_rpl.elf`, captured by
/// `tests/tests/rpl_riot.rs` through its ZEP radio; also seeds in `fuzz/corpus/rpl_message`).
#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::*;
    use crate::option::{DodagConfiguration, OptionType, PrefixInformation, Target, Transit};

    /// RIOT's link-local address as root (EUI-64 02:aa:bb:cc:dd:ee:00:0a).
    const RIOT_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x00aa, 0xbbcc, 0xddee, 0x000a);
    /// RIOT's link-local address as a router (EUI-64 02:aa:bb:cc:dd:ee:00:0b).
    const RIOT_ROUTER_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x00aa, 0xbbcc, 0xddee, 0x000b);
    /// Our link-local address in the DAO test (EUI-64 02:11:22:33:44:55:66:77).
    const OUR_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x0011, 0x2233, 0x4455, 0x6677);
    const ALL_RPL: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x1a);
    const DODAG_ID: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);

    /// RIOT's DIS after `rpl init IF`, to ff02::1a.
    const RIOT_DIS: [u8; 10] = [
        0x9b, 0x00, 0xcb, 0xab, // ICMPv6 type 155, code DIS, checksum
        0x00, 0x00, // flags, reserved
        0x01, 0x02, 0x00, 0x00, // PadN, 2 zero bytes
    ];

    /// RIOT's DIO as root (`ifconfig IF add 2001:db8::1/64`, `rpl root 1 2001:db8::1`), to
    /// ff02::1a.
    const RIOT_DIO: [u8; 76] = [
        0x9b, 0x01, 0x8d, 0x3a, // ICMPv6 type 155, code DIO, checksum
        0x01, 0xf0, 0x01, 0x00, // instance 1, version 240, rank 256
        0x90, 0x01, 0x00, 0x00, // G=1 MOP=2 Prf=0, DTSN 1, flags, reserved
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, // DODAGID 2001:db8::1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, //
        0x04, 0x0e, 0x00, 0x14, 0x03, 0x0a, // DODAG Conf: flags 0, doublings 20, Imin 3, k 10
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // MaxRankInc 0, MinHopRankInc 256, OCP 0
        0x00, 0x05, 0x00, 0x3c, // reserved, default lifetime 5, lifetime unit 60
        0x08, 0x1e, 0x40, 0x40, // PIO, length 30, /64, flags A
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // valid, preferred: infinite
        0x00, 0x00, 0x00, 0x00, // reserved
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, // prefix 2001:db8::
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    ];

    /// RIOT's DAO as a router after joining a DIO of ours, to our link-local address.
    const RIOT_DAO: [u8; 34] = [
        0x9b, 0x02, 0x29, 0xe9, // ICMPv6 type 155, code DAO, checksum
        0x01, 0x80, 0x00, 0xf0, // instance 1, K=1 D=0, reserved, DAOSequence 240
        0x05, 0x12, 0x00, 0x80, // RPL Target, length 18, flags, /128
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, // 2001:db8::aa:bbcc:ddee:b
        0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, 0x0b, //
        0x06, 0x04, 0x00, 0x00, 0x00, 0x05, // Transit: E=0, path control 0, seq 0, lifetime 5
    ];

    fn opts(o: Options<'_>) -> Vec<Opt<'_>> {
        o.map(|o| o.unwrap()).collect()
    }

    fn emit_checksummed(m: &Out, o: &[Opt<'_>], src: &Ipv6Addr, dst: &Ipv6Addr) -> Vec<u8> {
        let mut buf = [0u8; 128];
        let n = emit(m, o, &mut buf).unwrap();
        fill_checksum(src, dst, &mut buf[..n]);
        buf[..n].to_vec()
    }

    #[test]
    fn riot_dis_parses_and_reemits_with_its_padn() {
        assert!(verify_checksum(&RIOT_LL, &ALL_RPL, &RIOT_DIS));
        let Ok(Message::Dis(o)) = Message::parse(&RIOT_DIS) else {
            panic!("a DIS")
        };
        // `Opt::Pad` stands for the PadN: re-emitted from the parsed value, one Pad1.
        assert_eq!(opts(o), [Opt::Pad]);
        let padn = [Opt::Other(OptionType::PadN, &[0, 0])];
        assert_eq!(
            emit_checksummed(&Out::Dis, &padn, &RIOT_LL, &ALL_RPL),
            RIOT_DIS
        );
        let short = emit_checksummed(&Out::Dis, &[Opt::Pad], &RIOT_LL, &ALL_RPL);
        assert_eq!(short.len(), 7);
        assert_eq!(short[4..], [0, 0, 0]);
        assert!(verify_checksum(&RIOT_LL, &ALL_RPL, &short));
    }

    #[test]
    fn riot_dio_parses_and_reemits() {
        assert!(verify_checksum(&RIOT_LL, &ALL_RPL, &RIOT_DIO));
        let Ok(Message::Dio(dio, o)) = Message::parse(&RIOT_DIO) else {
            panic!("a DIO")
        };
        assert_eq!(
            dio,
            Dio {
                instance_id: 1,
                version: 240,
                rank: 256,
                grounded: true,
                mop: Mop::Storing,
                preference: 0,
                dtsn: 1,
                dodag_id: DODAG_ID,
            }
        );
        let o = opts(o);
        assert_eq!(
            o,
            [
                Opt::DodagConfiguration(DodagConfiguration {
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
                }),
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
        assert_eq!(
            emit_checksummed(&Out::Dio(dio), &o, &RIOT_LL, &ALL_RPL),
            RIOT_DIO
        );
    }

    #[test]
    fn riot_dao_parses_and_reemits() {
        assert!(verify_checksum(&RIOT_ROUTER_LL, &OUR_LL, &RIOT_DAO));
        let Ok(Message::Dao(dao, o)) = Message::parse(&RIOT_DAO) else {
            panic!("a DAO")
        };
        assert_eq!(
            dao,
            Dao {
                instance_id: 1,
                ack_requested: true,
                sequence: 240,
                dodag_id: None,
            }
        );
        let o = opts(o);
        assert_eq!(
            o,
            [
                Opt::Target(Target {
                    prefix_len: 128,
                    prefix: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0x00aa, 0xbbcc, 0xddee, 0x000b),
                }),
                Opt::Transit(Transit {
                    external: false,
                    path_control: 0,
                    path_sequence: 0,
                    path_lifetime: 5,
                    parent: None,
                }),
            ]
        );
        assert_eq!(
            emit_checksummed(&Out::Dao(dao), &o, &RIOT_ROUTER_LL, &OUR_LL),
            RIOT_DAO
        );
    }

    #[test]
    fn riot_checksums_bind_the_addresses() {
        for (v, src, dst) in [
            (&RIOT_DIS[..], RIOT_LL, ALL_RPL),
            (&RIOT_DIO[..], RIOT_LL, ALL_RPL),
            (&RIOT_DAO[..], RIOT_ROUTER_LL, OUR_LL),
        ] {
            assert!(verify_checksum(&src, &dst, v));
            // (Swapping source and destination keeps a ones'-complement sum: another source.)
            assert!(!verify_checksum(&DODAG_ID, &dst, v));
            let mut bad = v.to_vec();
            if let Some(b) = bad.last_mut() {
                *b ^= 0x01;
            }
            assert!(!verify_checksum(&src, &dst, &bad));
        }
    }

    #[test]
    fn every_prefix_of_riots_messages_is_refused_or_shorter() {
        for v in [&RIOT_DIS[..], &RIOT_DIO[..], &RIOT_DAO[..]] {
            for k in 0..v.len() {
                let Some(cut) = v.get(..k) else { continue };
                let ok = match Message::parse(cut) {
                    Err(_) => false,
                    Ok(Message::Dis(o) | Message::Dio(_, o) | Message::Dao(_, o)) => {
                        o.into_iter().all(|o| o.is_ok())
                    }
                    Ok(_) => true,
                };
                // A cut inside an option is refused; only cuts between options parse whole.
                let whole_options = match v.get(1) {
                    Some(0x00) => [6, 10].contains(&k),
                    Some(0x01) => [28, 44].contains(&k),
                    _ => [8, 28].contains(&k),
                };
                assert_eq!(ok, whole_options, "{:02x?} cut at {k}", v);
            }
        }
    }
}
