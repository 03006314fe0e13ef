//! RPL control-message options (RFC 6550 §6.7): an iterator over an options area that
//! yields each option as a typed [`Opt`] (or refuses the first malformed one), and an
//! [`emit`] for the ones the root sends.
//!
//! Layout: Pad1 is one zero byte; every other option is Type (1), Option Length (1, the bytes
//! after these two) and its data. Fixed-length options must have exactly their length; a
//! length that runs past the end of the area, or a variable-length option shorter than its
//! fixed part, is [`Error::Malformed`](crate::Error::Malformed) / truncated.

use core::net::Ipv6Addr;

use crate::{Error, Result};

/// The option type codes (RFC 6550 §6.7.1, IANA "RPL Control Message Options").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OptionType {
    /// 0x00
    Pad1,
    /// 0x01
    PadN,
    /// 0x02 (RFC 6551)
    DagMetricContainer,
    /// 0x03
    RouteInformation,
    /// 0x04
    DodagConfiguration,
    /// 0x05
    RplTarget,
    /// 0x06
    TransitInformation,
    /// 0x07
    SolicitedInformation,
    /// 0x08
    PrefixInformation,
    /// 0x09
    RplTargetDescriptor,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for OptionType {
    fn from(v: u8) -> Self {
        match v {
            0x00 => OptionType::Pad1,
            0x01 => OptionType::PadN,
            0x02 => OptionType::DagMetricContainer,
            0x03 => OptionType::RouteInformation,
            0x04 => OptionType::DodagConfiguration,
            0x05 => OptionType::RplTarget,
            0x06 => OptionType::TransitInformation,
            0x07 => OptionType::SolicitedInformation,
            0x08 => OptionType::PrefixInformation,
            0x09 => OptionType::RplTargetDescriptor,
            v => OptionType::Unknown(v),
        }
    }
}

impl From<OptionType> for u8 {
    fn from(v: OptionType) -> u8 {
        match v {
            OptionType::Pad1 => 0x00,
            OptionType::PadN => 0x01,
            OptionType::DagMetricContainer => 0x02,
            OptionType::RouteInformation => 0x03,
            OptionType::DodagConfiguration => 0x04,
            OptionType::RplTarget => 0x05,
            OptionType::TransitInformation => 0x06,
            OptionType::SolicitedInformation => 0x07,
            OptionType::PrefixInformation => 0x08,
            OptionType::RplTargetDescriptor => 0x09,
            OptionType::Unknown(v) => v,
        }
    }
}

/// Objective Code Point of OF0 (RFC 6552).
pub const OCP_OF0: u16 = 0;
/// Objective Code Point of MRHOF (RFC 6719).
pub const OCP_MRHOF: u16 = 1;

/// The DODAG Configuration option (RFC 6550 §6.7.6), 14 data bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DodagConfiguration {
    /// T: RFC 8138 compression is on in the DODAG (RFC 9035 §3, bit 2 of the flags: 0x20).
    pub rfc8138: bool,
    /// A: authentication (secure RPL) enabled.
    pub authentication: bool,
    /// PCS: Path Control Size, 0..=7.
    pub path_control_size: u8,
    /// DIOIntervalDoublings.
    pub dio_interval_doublings: u8,
    /// DIOIntervalMin (Imin = 2^this ms).
    pub dio_interval_min: u8,
    /// DIORedundancyConstant (k).
    pub dio_redundancy: u8,
    /// MaxRankIncrease.
    pub max_rank_increase: u16,
    /// MinHopRankIncrease.
    pub min_hop_rank_increase: u16,
    /// Objective Code Point.
    pub ocp: u16,
    /// Default Lifetime (in lifetime units).
    pub default_lifetime: u8,
    /// Lifetime Unit, seconds.
    pub lifetime_unit: u16,
}

/// The Prefix Information option (RFC 6550 §6.7.10), 30 data bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PrefixInformation {
    /// Prefix length, 0..=128.
    pub prefix_len: u8,
    /// L: on-link.
    pub on_link: bool,
    /// A: autonomous address configuration.
    pub autonomous: bool,
    /// R: the prefix field holds the sender's full address (the DODAG root's).
    pub router_address: bool,
    /// Valid lifetime, seconds (0xffffffff infinite).
    pub valid_lifetime: u32,
    /// Preferred lifetime, seconds.
    pub preferred_lifetime: u32,
    /// The prefix (or, with R, the router's address).
    pub prefix: Ipv6Addr,
}

/// The RPL Target option (RFC 6550 §6.7.7): a prefix of `prefix_len` bits. Read from any
/// prefix field of the bytes the length needs up to 16; written with a 16-byte prefix field
/// (the bits past `prefix_len` zero), the only size every reference reads: smoltcp 0.14 and
/// RIOT's gnrc_rpl read 16 bytes, tshark 4.0 calls any size but 0, 8 and 16 malformed
/// (`rpl/tests/tshark.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Target {
    /// Prefix length, 0..=128.
    pub prefix_len: u8,
    /// The prefix, bits past `prefix_len` zero.
    pub prefix: Ipv6Addr,
}

/// The Transit Information option (RFC 6550 §6.7.8): 4 data bytes, 20 with a parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transit {
    /// E: the targets are external to the RPL domain (the parent redistributes them).
    pub external: bool,
    /// Path Control.
    pub path_control: u8,
    /// Path Sequence (a lollipop counter).
    pub path_sequence: u8,
    /// Path Lifetime in lifetime units (0: No-Path; 0xff: infinite).
    pub path_lifetime: u8,
    /// Parent Address (non-storing mode).
    pub parent: Option<Ipv6Addr>,
}

/// The Solicited Information option (RFC 6550 §6.7.9), 19 data bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Solicited {
    /// RPLInstanceID.
    pub instance_id: u8,
    /// V: the version predicate applies.
    pub version_predicate: bool,
    /// I: the instance predicate applies.
    pub instance_predicate: bool,
    /// D: the DODAG ID predicate applies.
    pub dodag_id_predicate: bool,
    /// DODAGID.
    pub dodag_id: Ipv6Addr,
    /// Version Number.
    pub version: u8,
}

/// One option of an options area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Opt<'a> {
    /// Pad1 or PadN (skipped by callers).
    Pad,
    /// DODAG Configuration.
    DodagConfiguration(DodagConfiguration),
    /// Prefix Information.
    PrefixInformation(PrefixInformation),
    /// RPL Target.
    Target(Target),
    /// Transit Information.
    Transit(Transit),
    /// Solicited Information.
    Solicited(Solicited),
    /// Any other option (DAG Metric Container, Route Information, Target Descriptor,
    /// unknown types): its type and data, uninterpreted.
    Other(OptionType, &'a [u8]),
}

fn addr(b: &[u8]) -> Result<Ipv6Addr> {
    <[u8; 16]>::try_from(b)
        .map(Ipv6Addr::from)
        .map_err(|_| Error::Malformed)
}

fn be16(b: &[u8], at: usize) -> Result<u16> {
    match (b.get(at), b.get(at.wrapping_add(1))) {
        (Some(&h), Some(&l)) => Ok(u16::from_be_bytes([h, l])),
        _ => Err(Error::Truncated),
    }
}

fn be32(b: &[u8], at: usize) -> Result<u32> {
    b.get(at..at.saturating_add(4))
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_be_bytes)
        .ok_or(Error::Truncated)
}

fn byte(b: &[u8], at: usize) -> Result<u8> {
    b.get(at).copied().ok_or(Error::Truncated)
}

impl<'a> Opt<'a> {
    /// Interprets one option's data (`ty` and the bytes after the length byte).
    pub fn parse(ty: OptionType, d: &'a [u8]) -> Result<Opt<'a>> {
        Ok(match ty {
            OptionType::Pad1 | OptionType::PadN => Opt::Pad,
            OptionType::DodagConfiguration => {
                if d.len() != 14 {
                    return Err(Error::Malformed);
                }
                let f = byte(d, 0)?;
                Opt::DodagConfiguration(DodagConfiguration {
                    rfc8138: f & 0x20 != 0,
                    authentication: f & 0x08 != 0,
                    path_control_size: f & 0x07,
                    dio_interval_doublings: byte(d, 1)?,
                    dio_interval_min: byte(d, 2)?,
                    dio_redundancy: byte(d, 3)?,
                    max_rank_increase: be16(d, 4)?,
                    min_hop_rank_increase: be16(d, 6)?,
                    ocp: be16(d, 8)?,
                    default_lifetime: byte(d, 11)?,
                    lifetime_unit: be16(d, 12)?,
                })
            }
            OptionType::PrefixInformation => {
                if d.len() != 30 {
                    return Err(Error::Malformed);
                }
                let prefix_len = byte(d, 0)?;
                if prefix_len > 128 {
                    return Err(Error::Malformed);
                }
                let f = byte(d, 1)?;
                Opt::PrefixInformation(PrefixInformation {
                    prefix_len,
                    on_link: f & 0x80 != 0,
                    autonomous: f & 0x40 != 0,
                    router_address: f & 0x20 != 0,
                    valid_lifetime: be32(d, 2)?,
                    preferred_lifetime: be32(d, 6)?,
                    prefix: addr(d.get(14..30).ok_or(Error::Truncated)?)?,
                })
            }
            OptionType::RplTarget => {
                let prefix_len = byte(d, 1)?;
                if prefix_len > 128 {
                    return Err(Error::Malformed);
                }
                let need = usize::from(prefix_len).div_ceil(8);
                let bytes = d.get(2..).ok_or(Error::Truncated)?;
                if bytes.len() < need || bytes.len() > 16 {
                    return Err(Error::Malformed);
                }
                let mut o = [0u8; 16];
                for (k, b) in bytes.iter().take(need).enumerate() {
                    if let Some(x) = o.get_mut(k) {
                        *x = *b;
                    }
                }
                mask(&mut o, prefix_len);
                Opt::Target(Target {
                    prefix_len,
                    prefix: Ipv6Addr::from(o),
                })
            }
            OptionType::TransitInformation => {
                let parent = match d.len() {
                    4 => None,
                    20 => Some(addr(d.get(4..20).ok_or(Error::Truncated)?)?),
                    _ => return Err(Error::Malformed),
                };
                Opt::Transit(Transit {
                    external: byte(d, 0)? & 0x80 != 0,
                    path_control: byte(d, 1)?,
                    path_sequence: byte(d, 2)?,
                    path_lifetime: byte(d, 3)?,
                    parent,
                })
            }
            OptionType::SolicitedInformation => {
                if d.len() != 19 {
                    return Err(Error::Malformed);
                }
                let f = byte(d, 1)?;
                Opt::Solicited(Solicited {
                    instance_id: byte(d, 0)?,
                    version_predicate: f & 0x80 != 0,
                    instance_predicate: f & 0x40 != 0,
                    dodag_id_predicate: f & 0x20 != 0,
                    dodag_id: addr(d.get(2..18).ok_or(Error::Truncated)?)?,
                    version: byte(d, 18)?,
                })
            }
            other => Opt::Other(other, d),
        })
    }

    /// Bytes this option takes when emitted (type and length included). `Pad` is one Pad1.
    pub fn buffer_len(&self) -> usize {
        2 + match self {
            Opt::Pad => return 1,
            Opt::DodagConfiguration(_) => 14,
            Opt::PrefixInformation(_) => 30,
            Opt::Target(_) => 2 + 16,
            Opt::Transit(t) => {
                if t.parent.is_some() {
                    20
                } else {
                    4
                }
            }
            Opt::Solicited(_) => 19,
            Opt::Other(_, d) => d.len().min(255),
        }
    }

    /// Writes the option at the start of `buf`; returns its length, or
    /// [`Error::Truncated`] when `buf` is too short.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let n = self.buffer_len();
        let out = buf.get_mut(..n).ok_or(Error::Truncated)?;
        out.fill(0);
        let (ty, data_len) = match self {
            Opt::Pad => return Ok(1),
            Opt::DodagConfiguration(_) => (OptionType::DodagConfiguration, 14),
            Opt::PrefixInformation(_) => (OptionType::PrefixInformation, 30),
            Opt::Target(_) => (OptionType::RplTarget, n - 2),
            Opt::Transit(_) => (OptionType::TransitInformation, n - 2),
            Opt::Solicited(_) => (OptionType::SolicitedInformation, 19),
            Opt::Other(t, _) => (*t, n - 2),
        };
        let (head, d) = out.split_at_mut(2);
        head.copy_from_slice(&[u8::from(ty), data_len as u8]);
        let put = |d: &mut [u8], at: usize, v: &[u8]| {
            if let Some(s) = d.get_mut(at..at + v.len()) {
                s.copy_from_slice(v);
            }
        };
        match self {
            Opt::Pad => {}
            Opt::DodagConfiguration(c) => {
                let flags = (u8::from(c.rfc8138) << 5)
                    | (u8::from(c.authentication) << 3)
                    | (c.path_control_size & 0x07);
                put(
                    d,
                    0,
                    &[
                        flags,
                        c.dio_interval_doublings,
                        c.dio_interval_min,
                        c.dio_redundancy,
                    ],
                );
                put(d, 4, &c.max_rank_increase.to_be_bytes());
                put(d, 6, &c.min_hop_rank_increase.to_be_bytes());
                put(d, 8, &c.ocp.to_be_bytes());
                put(d, 11, &[c.default_lifetime]);
                put(d, 12, &c.lifetime_unit.to_be_bytes());
            }
            Opt::PrefixInformation(p) => {
                let flags = (u8::from(p.on_link) << 7)
                    | (u8::from(p.autonomous) << 6)
                    | (u8::from(p.router_address) << 5);
                put(d, 0, &[p.prefix_len, flags]);
                put(d, 2, &p.valid_lifetime.to_be_bytes());
                put(d, 6, &p.preferred_lifetime.to_be_bytes());
                put(d, 14, &p.prefix.octets());
            }
            Opt::Target(t) => {
                let mut o = t.prefix.octets();
                let len = t.prefix_len.min(128);
                mask(&mut o, len);
                put(d, 0, &[0, len]);
                put(d, 2, o.get(..n - 4).unwrap_or(&[]));
            }
            Opt::Transit(t) => {
                put(
                    d,
                    0,
                    &[
                        u8::from(t.external) << 7,
                        t.path_control,
                        t.path_sequence,
                        t.path_lifetime,
                    ],
                );
                if let Some(p) = t.parent {
                    put(d, 4, &p.octets());
                }
            }
            Opt::Solicited(s) => {
                let flags = (u8::from(s.version_predicate) << 7)
                    | (u8::from(s.instance_predicate) << 6)
                    | (u8::from(s.dodag_id_predicate) << 5);
                put(d, 0, &[s.instance_id, flags]);
                put(d, 2, &s.dodag_id.octets());
                put(d, 18, &[s.version]);
            }
            Opt::Other(_, data) => put(d, 0, data.get(..n - 2).unwrap_or(&[])),
        }
        Ok(n)
    }
}

/// Clears the bits of `o` past the first `len`.
fn mask(o: &mut [u8; 16], len: u8) {
    for (k, b) in o.iter_mut().enumerate() {
        let start = (k * 8) as u32;
        let len = u32::from(len);
        if len <= start {
            *b = 0;
        } else if len < start + 8 {
            *b &= 0xffu8 << (8 - (len - start));
        }
    }
}

/// An iterator over the options of an options area: yields `Ok(option)` for each, and
/// `Err` for the first malformed one, after which it ends.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Options<'a> {
    /// Iterates over `area` (the bytes after a message's fixed part).
    pub fn new(area: &'a [u8]) -> Options<'a> {
        Options {
            rest: area,
            failed: false,
        }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<Opt<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let (&ty, after) = self.rest.split_first()?;
        let ty = OptionType::from(ty);
        if ty == OptionType::Pad1 {
            self.rest = after;
            return Some(Ok(Opt::Pad));
        }
        let item = (|| {
            let (&len, data) = after.split_first().ok_or(Error::Truncated)?;
            let (d, rest) = data
                .split_at_checked(usize::from(len))
                .ok_or(Error::Truncated)?;
            let o = Opt::parse(ty, d)?;
            self.rest = rest;
            Ok(o)
        })();
        if item.is_err() {
            self.failed = true;
        }
        Some(item)
    }
}

/// Writes `opts` one after another into `buf`; returns the bytes written.
pub fn emit(opts: &[Opt<'_>], buf: &mut [u8]) -> Result<usize> {
    let mut at = 0usize;
    for o in opts {
        let n = o.emit(buf.get_mut(at..).ok_or(Error::Truncated)?)?;
        at += n;
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap_or(Ipv6Addr::UNSPECIFIED)
    }

    #[test]
    fn every_option_round_trips() {
        let opts = [
            Opt::DodagConfiguration(DodagConfiguration {
                rfc8138: true,
                authentication: false,
                path_control_size: 3,
                dio_interval_doublings: 8,
                dio_interval_min: 12,
                dio_redundancy: 10,
                max_rank_increase: 2048,
                min_hop_rank_increase: 256,
                ocp: OCP_MRHOF,
                default_lifetime: 30,
                lifetime_unit: 60,
            }),
            Opt::PrefixInformation(PrefixInformation {
                prefix_len: 64,
                on_link: false,
                autonomous: true,
                router_address: true,
                valid_lifetime: 86_400,
                preferred_lifetime: 14_400,
                prefix: a("2001:db8:1::1"),
            }),
            Opt::Target(Target {
                prefix_len: 128,
                prefix: a("2001:db8:1::abcd"),
            }),
            Opt::Target(Target {
                prefix_len: 60,
                prefix: a("2001:db8:1:10::"),
            }),
            Opt::Transit(Transit {
                external: true,
                path_control: 0x80,
                path_sequence: 241,
                path_lifetime: 30,
                parent: Some(a("2001:db8:1::2")),
            }),
            Opt::Transit(Transit {
                external: false,
                path_control: 0,
                path_sequence: 3,
                path_lifetime: 0,
                parent: None,
            }),
            Opt::Solicited(Solicited {
                instance_id: 30,
                version_predicate: true,
                instance_predicate: true,
                dodag_id_predicate: false,
                dodag_id: a("2001:db8:1::1"),
                version: 241,
            }),
            Opt::Pad,
            Opt::Other(
                OptionType::RouteInformation,
                &[64, 0, 0, 0, 1, 0, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0],
            ),
        ];
        let mut buf = [0u8; 256];
        let n = emit(&opts, &mut buf).unwrap_or(0);
        let back: std::vec::Vec<_> = Options::new(&buf[..n]).collect();
        assert_eq!(back.len(), opts.len());
        for (o, b) in opts.iter().zip(back) {
            assert_eq!(b, Ok(*o));
        }
    }

    #[test]
    fn malformed_options_stop_the_walk() {
        // DODAG Configuration with 13 data bytes.
        let bad = [0x04, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut it = Options::new(&bad);
        assert_eq!(it.next(), Some(Err(Error::Malformed)));
        assert_eq!(it.next(), None);
        // A length past the end.
        assert_eq!(
            Options::new(&[0x01, 5, 0, 0]).next(),
            Some(Err(Error::Truncated))
        );
        assert_eq!(Options::new(&[0x05]).next(), Some(Err(Error::Truncated)));
        // A target of 64 bits in 7 bytes; one of 129 bits.
        assert_eq!(
            Options::new(&[0x05, 9, 0, 64, 1, 2, 3, 4, 5, 6, 7]).next(),
            Some(Err(Error::Malformed))
        );
        assert_eq!(
            Options::new(&[0x05, 2, 0, 129]).next(),
            Some(Err(Error::Malformed))
        );
        // Transit of 5 bytes.
        assert_eq!(
            Options::new(&[0x06, 5, 0, 0, 0, 0, 0]).next(),
            Some(Err(Error::Malformed))
        );
        // Pad1s and an empty PadN are fine.
        assert_eq!(Options::new(&[0, 0, 1, 0]).filter(|o| o.is_ok()).count(), 3);
    }

    #[test]
    fn target_bits_past_the_length_are_cleared() {
        let mut buf = [0u8; 32];
        let t = Opt::Target(Target {
            prefix_len: 12,
            prefix: a("2001:ffff::"),
        });
        let n = t.emit(&mut buf).unwrap_or(0);
        // A 16-byte prefix field whatever the length (see `Target`).
        assert_eq!(
            &buf[..n],
            &[
                0x05, 18, 0, 12, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ]
        );
        assert_eq!(
            Options::new(&buf[..n]).next(),
            Some(Ok(Opt::Target(Target {
                prefix_len: 12,
                prefix: a("2000::"),
            })))
        );
        // The shortest form (Contiki-NG writes it) still reads, its stray bits cleared.
        assert_eq!(
            Options::new(&[0x05, 4, 0, 12, 0x20, 0x0f]).next(),
            Some(Ok(Opt::Target(Target {
                prefix_len: 12,
                prefix: a("2000::"),
            })))
        );
    }
}
