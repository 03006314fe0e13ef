//! The persistent encoding of a [`Config`]: [`Config::encode`], [`Config::decode`], the
//! CRC and the hand-written postcard reader behind them. The format is described in the
//! [`config` module documentation](super).

use super::{
    AddressProtection, Backbone, Config, ConfigError, RaConfig, RplConfig, RplMop, RplObjective,
    SecurityConfig,
};

/// Magic bytes that open an encoded configuration.
pub const CONFIG_MAGIC: [u8; 4] = *b"SGCF";
/// Version of the encoding written by [`Config::encode`]. [`Config::decode`] reads it and the
/// older ones: version 1 lacks `max_registrations_per_source` (read as its default), versions 1
/// and 2 lack `blind_global_derivation` and `trust_backbone_dscp` (read as off) and
/// `address_protection` (read as [`AddressProtection::DEFAULT`]), versions 1 to 3 lack `rpl`
/// (read as [`RplConfig::default`]), versions 1 to 6 lack `security` (read as
/// [`SecurityConfig::OFF`]).
pub const CONFIG_FORMAT_VERSION: u8 = 7;
/// The oldest version [`Config::decode`] still reads.
const CONFIG_OLDEST_VERSION: u8 = 1;
/// Largest encoded configuration in bytes (header, payload and CRC). The largest possible
/// payload today is about 100 bytes; the rest is headroom for future fields.
pub const CONFIG_MAX_ENCODED: usize = 160;

/// Magic + version.
const HEADER_LEN: usize = CONFIG_MAGIC.len() + 1;
/// CRC-32 trailer.
const CRC_LEN: usize = 4;
/// CRC-32/ISO-HDLC (polynomial 0x04C11DB7 reflected, init and xorout 0xFFFFFFFF). Bitwise:
/// a record is checked once per boot and save, and a lookup table would cost 1 KiB of flash.
const CRC32: crc::Crc<u32, crc::NoTable> =
    crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// CRC-32/ISO-HDLC of `data`: the checksum of the persistent encoding.
fn crc32(data: &[u8]) -> u32 {
    CRC32.checksum(data)
}

impl Config {
    /// Validates, then writes the persistent encoding (see the module docs) into `buf` and
    /// returns its length (at most [`CONFIG_MAX_ENCODED`]). An invalid configuration is refused
    /// with its validation error, since [`Config::decode`] could not read it back; a short
    /// `buf` gives [`ConfigError::Encoding`].
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, ConfigError> {
        self.validate()?;
        let (header, rest) = buf
            .split_first_chunk_mut::<HEADER_LEN>()
            .ok_or(ConfigError::Encoding)?;
        let [m0, m1, m2, m3] = CONFIG_MAGIC;
        *header = [m0, m1, m2, m3, CONFIG_FORMAT_VERSION];
        let used = postcard::to_slice(self, rest)
            .map_err(|_| ConfigError::Encoding)?
            .len();
        let body_len = HEADER_LEN.checked_add(used).ok_or(ConfigError::Encoding)?;
        let end = body_len.checked_add(CRC_LEN).ok_or(ConfigError::Encoding)?;
        let crc = crc32(buf.get(..body_len).ok_or(ConfigError::Encoding)?);
        buf.get_mut(body_len..end)
            .ok_or(ConfigError::Encoding)?
            .copy_from_slice(&crc.to_le_bytes());
        Ok(end)
    }

    /// Decodes and validates a stored configuration. Checks, in order: magic
    /// ([`ConfigError::Corrupt`]), format version ([`ConfigError::Version`]), CRC and postcard
    /// payload, which must fill the space up to the CRC exactly ([`ConfigError::Corrupt`]), then
    /// [`Config::validate`]. Never panics, whatever `bytes` holds.
    pub fn decode(bytes: &[u8]) -> Result<Config, ConfigError> {
        let (magic, rest) = bytes.split_first_chunk::<4>().ok_or(ConfigError::Corrupt)?;
        if *magic != CONFIG_MAGIC {
            return Err(ConfigError::Corrupt);
        }
        let (&version, _) = rest.split_first().ok_or(ConfigError::Corrupt)?;
        if !(CONFIG_OLDEST_VERSION..=CONFIG_FORMAT_VERSION).contains(&version) {
            return Err(ConfigError::Version);
        }
        let (body, trailer) = bytes
            .split_last_chunk::<CRC_LEN>()
            .ok_or(ConfigError::Corrupt)?;
        let payload = body.get(HEADER_LEN..).ok_or(ConfigError::Corrupt)?;
        if crc32(body) != u32::from_le_bytes(*trailer) {
            return Err(ConfigError::Corrupt);
        }
        let cfg = read_whole(payload, version).ok_or(ConfigError::Corrupt)??;
        cfg.validate()?;
        Ok(cfg)
    }
}
/// The postcard encoding of a [`Config`] that fills `b` exactly, read by hand: what
/// `postcard::take_from_bytes::<Config>` accepts, byte for byte (tests compare the two), for
/// about 1.5 KB less flash on the board than serde's derived decoder. Field order is
/// [`Config`]'s, which [`CONFIG_FORMAT_VERSION`] already pins; `version` 1 ends before
/// `max_registrations_per_source`, `version` 2 before `blind_global_derivation`, 3 before
/// `rpl`, 4 before `rpl.rfc8138`, 5 before `rpl.objective`, 6 before `security`.
///
/// `Some(Err(..))` only for an `address_protection` this build does not implement.
fn read_whole(b: &[u8], version: u8) -> Option<Result<Config, ConfigError>> {
    let mut r = mgmt::wire::Reader::new(b);
    let cfg = Config {
        mesh_prefix: r.array()?,
        pan_id: r.u16()?,
        channel: r.byte()?,
        eui64: r.array()?,
        short_address: r.u16()?,
        tx_power_dbm: r.i8()?,
        eth_mac: r.array()?,
        backbone: match r.u32()? {
            0 => Backbone::Slaac,
            1 => Backbone::Static {
                addr: r.array()?,
                prefix_len: r.byte()?,
                gateway: if r.some()? { Some(r.array()?) } else { None },
            },
            _ => return None,
        },
        ra: RaConfig {
            min_interval_s: r.u16()?,
            max_interval_s: r.u16()?,
            router_lifetime_s: r.u16()?,
            prefix_valid_s: r.u32()?,
            prefix_preferred_s: r.u32()?,
            context_lifetime_min: r.u16()?,
            abro_valid_lifetime_min: r.u16()?,
        },
        abro_version: r.u32()?,
        max_registration_lifetime_min: r.u16()?,
        max_registrations_per_source: if version >= 2 {
            r.u16()?
        } else {
            super::DEFAULT_MAX_REGISTRATIONS_PER_SOURCE
        },
        blind_global_derivation: version >= 3 && r.bool()?,
        trust_backbone_dscp: version >= 3 && r.bool()?,
        address_protection: if version >= 3 {
            match AddressProtection::from_index(r.u32()?)? {
                Ok(p) => p,
                // Read the rest: still the whole payload, or it is corrupt rather than
                // unsupported.
                Err(e) => {
                    if version >= 4 {
                        read_rpl(&mut r, version)?;
                    }
                    if version >= 7 {
                        read_security(&mut r)?;
                    }
                    return r.is_empty().then_some(Err(e));
                }
            }
        } else {
            AddressProtection::DEFAULT
        },
        rpl: if version >= 4 {
            read_rpl(&mut r, version)?
        } else {
            RplConfig::default()
        },
        security: if version >= 7 {
            read_security(&mut r)?
        } else {
            SecurityConfig::OFF
        },
    };
    r.is_empty().then_some(Ok(cfg))
}

/// The postcard encoding of an [`RplConfig`] (encoding version 4; `rfc8138` from 5,
/// `objective` from 6: older records had OF0).
fn read_rpl(r: &mut mgmt::wire::Reader<'_>, version: u8) -> Option<RplConfig> {
    Some(RplConfig {
        enabled: r.bool()?,
        mop: match r.u32()? {
            0 => RplMop::NonStoring,
            1 => RplMop::Storing,
            _ => return None,
        },
        instance_id: r.byte()?,
        dio_interval_min: r.byte()?,
        dio_interval_doublings: r.byte()?,
        dio_redundancy: r.byte()?,
        default_lifetime: r.byte()?,
        lifetime_unit_s: r.u16()?,
        max_depth: r.byte()?,
        min_hop_rank_increase: r.u16()?,
        rfc8138: version >= 5 && r.bool()?,
        objective: if version >= 6 {
            match r.u32()? {
                0 => RplObjective::Of0,
                1 => RplObjective::Mrhof,
                _ => return None,
            }
        } else {
            RplObjective::Of0
        },
    })
}

/// The postcard encoding of a [`SecurityConfig`] (encoding version 7).
fn read_security(r: &mut mgmt::wire::Reader<'_>) -> Option<SecurityConfig> {
    Some(SecurityConfig {
        network_key: if r.some()? { Some(r.array()?) } else { None },
        level: r.byte()?,
        unsecured_allowed: r.byte()?,
        rotate_period_h: r.u32()?,
    })
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "std"))]
    extern crate std;
    use std::{vec, vec::Vec};

    use super::*;
    use crate::config::tests::{samples, static_cfg};
    use proptest::prelude::*;

    fn encode_vec(cfg: &Config) -> Vec<u8> {
        let mut buf = [0u8; CONFIG_MAX_ENCODED];
        let n = cfg.encode(&mut buf).unwrap();
        buf[..n].to_vec()
    }

    #[test]
    fn round_trip() {
        for cfg in samples() {
            let bytes = encode_vec(&cfg);
            assert!(bytes.len() <= CONFIG_MAX_ENCODED);
            assert_eq!(&bytes[..4], b"SGCF");
            assert_eq!(bytes[4], CONFIG_FORMAT_VERSION);
            assert_eq!(Config::decode(&bytes).unwrap(), cfg);
        }
    }

    #[test]
    fn largest_config_fits() {
        // Every varint at its widest, the largest backbone variant: an upper bound on any
        // configuration (this one does not validate, so serialise it directly).
        let worst = Config {
            mesh_prefix: [0xff; 8],
            pan_id: u16::MAX,
            channel: u8::MAX,
            eui64: [0xff; 8],
            short_address: u16::MAX,
            tx_power_dbm: i8::MIN,
            eth_mac: [0xff; 6],
            backbone: Backbone::Static {
                addr: [0xff; 16],
                prefix_len: u8::MAX,
                gateway: Some([0xff; 16]),
            },
            ra: RaConfig {
                min_interval_s: u16::MAX,
                max_interval_s: u16::MAX,
                router_lifetime_s: u16::MAX,
                prefix_valid_s: u32::MAX,
                prefix_preferred_s: u32::MAX,
                context_lifetime_min: u16::MAX,
                abro_valid_lifetime_min: u16::MAX,
            },
            abro_version: u32::MAX,
            max_registration_lifetime_min: u16::MAX,
            max_registrations_per_source: u16::MAX,
            blind_global_derivation: true,
            trust_backbone_dscp: true,
            address_protection: AddressProtection::DEFAULT,
            rpl: RplConfig {
                enabled: true,
                mop: RplMop::Storing,
                instance_id: u8::MAX,
                dio_interval_min: u8::MAX,
                dio_interval_doublings: u8::MAX,
                dio_redundancy: u8::MAX,
                default_lifetime: u8::MAX,
                lifetime_unit_s: u16::MAX,
                max_depth: u8::MAX,
                min_hop_rank_increase: u16::MAX,
                rfc8138: true,
                objective: RplObjective::Mrhof,
            },
            security: SecurityConfig {
                network_key: Some([0xff; 16]),
                level: u8::MAX,
                unsecured_allowed: u8::MAX,
                rotate_period_h: u32::MAX,
            },
        };
        let mut buf = [0u8; 512];
        let n = postcard::to_slice(&worst, &mut buf).unwrap().len();
        assert!(HEADER_LEN + n + CRC_LEN <= CONFIG_MAX_ENCODED, "{n}");
    }

    #[test]
    fn encode_short_buffer_refused() {
        let cfg = static_cfg();
        let n = encode_vec(&cfg).len();
        for len in 0..n {
            let mut buf = vec![0u8; len];
            assert_eq!(
                cfg.encode(&mut buf),
                Err(ConfigError::Encoding),
                "len {len}"
            );
        }
    }

    #[test]
    fn encode_refuses_invalid() {
        let cfg = Config {
            channel: 5,
            ..Config::default()
        };
        let mut buf = [0u8; CONFIG_MAX_ENCODED];
        assert_eq!(cfg.encode(&mut buf), Err(ConfigError::BadChannel));
    }

    #[test]
    fn every_bit_flip_rejected() {
        for cfg in samples() {
            let bytes = encode_vec(&cfg);
            for i in 0..bytes.len() {
                for bit in 0..8 {
                    let mut b = bytes.clone();
                    b[i] ^= 1 << bit;
                    let r = Config::decode(&b);
                    match r {
                        Err(ConfigError::Corrupt) => {}
                        Err(ConfigError::Version) => assert_eq!(i, 4),
                        other => panic!("byte {i} bit {bit}: {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn every_truncation_rejected() {
        for cfg in samples() {
            let bytes = encode_vec(&cfg);
            for len in 0..bytes.len() {
                assert!(Config::decode(&bytes[..len]).is_err(), "len {len}");
            }
        }
    }

    #[test]
    fn trailing_bytes_rejected() {
        // Payload followed by extra bytes, CRC recomputed: postcard must consume exactly.
        let bytes = encode_vec(&Config::default());
        let mut body = bytes[..bytes.len() - CRC_LEN].to_vec();
        body.push(0);
        let crc = crc32(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(Config::decode(&body), Err(ConfigError::Corrupt));
    }

    #[test]
    fn unknown_version_and_magic() {
        let mut bytes = encode_vec(&Config::default());
        bytes[4] = CONFIG_FORMAT_VERSION + 1;
        // Fix the CRC so that only the version is wrong.
        let n = bytes.len() - CRC_LEN;
        let crc = crc32(&bytes[..n]);
        bytes[n..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(Config::decode(&bytes), Err(ConfigError::Version));
        let mut bytes = encode_vec(&Config::default());
        bytes[0] = b'X';
        assert_eq!(Config::decode(&bytes), Err(ConfigError::Corrupt));
        assert_eq!(Config::decode(&[]), Err(ConfigError::Corrupt));
        assert_eq!(Config::decode(b"SGCF"), Err(ConfigError::Corrupt));
        assert_eq!(Config::decode(b"SGCF\x01"), Err(ConfigError::Corrupt));
        assert_eq!(Config::decode(b"SGCF\x08"), Err(ConfigError::Version));
    }

    #[test]
    fn decode_validates() {
        // A well-formed encoding (right magic, version, CRC) of an invalid configuration.
        let cfg = Config {
            channel: 27,
            ..Config::default()
        };
        let mut buf = [0u8; CONFIG_MAX_ENCODED];
        buf[..5].copy_from_slice(&[b'S', b'G', b'C', b'F', CONFIG_FORMAT_VERSION]);
        let n = 5 + postcard::to_slice(&cfg, &mut buf[5..]).unwrap().len();
        let crc = crc32(&buf[..n]);
        buf[n..n + 4].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(Config::decode(&buf[..n + 4]), Err(ConfigError::BadChannel));
    }

    #[test]
    fn crc_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        // The trailer is that CRC, little-endian, over header + payload.
        let bytes = encode_vec(&Config::default());
        let n = bytes.len() - 4;
        assert_eq!(bytes[n..], crc32(&bytes[..n]).to_le_bytes());
    }

    /// postcard's own decoding of a whole payload: the reference for `read_whole`.
    fn serde_whole(b: &[u8]) -> Option<Result<Config, ConfigError>> {
        match postcard::take_from_bytes::<Config>(b) {
            Ok((c, [])) => Some(Ok(c)),
            _ => None,
        }
    }

    #[test]
    fn hand_reader_matches_postcard_on_real_encodings() {
        for cfg in [Config::default(), static_cfg()] {
            let mut buf = [0u8; CONFIG_MAX_ENCODED];
            let b = postcard::to_slice(&cfg, &mut buf).unwrap();
            assert_eq!(read_whole(b, CONFIG_FORMAT_VERSION), Some(Ok(cfg.clone())));
            for n in 0..b.len() {
                assert_eq!(
                    read_whole(&b[..n], CONFIG_FORMAT_VERSION),
                    serde_whole(&b[..n]),
                    "cut at {n}"
                );
            }
            let mut long = b.to_vec();
            long.push(0);
            assert_eq!(read_whole(&long, CONFIG_FORMAT_VERSION), None);
            // Every single-byte change: accepted or refused as postcard does, same value.
            for i in 0..b.len() {
                for v in [0u8, 1, 2, 0x7f, 0x80, 0xff] {
                    let mut m = b.to_vec();
                    m[i] = v;
                    assert_eq!(
                        read_whole(&m, CONFIG_FORMAT_VERSION),
                        serde_whole(&m),
                        "byte {i} = {v:#x}"
                    );
                }
            }
        }
    }

    /// A record of an older `version` (1 to 5), as the firmware of that version wrote it: the
    /// same postcard fields without those added later (the last ones: version 5 lacks
    /// `rpl.objective`, version 4 also `rpl.rfc8138`, version 3 all of `rpl`, version 2 also the two bools and the
    /// address-protection policy of version 3, version 1 also `max_registrations_per_source`).
    /// Bytes of `cfg.security` at the end of the payload.
    fn security_len(cfg: &Config) -> usize {
        let mut sec = [0u8; 32];
        postcard::to_slice(&cfg.security, &mut sec).unwrap().len()
    }

    /// The samples as firmware before version 7 saw them: security off.
    fn samples_without_security() -> Vec<Config> {
        samples()
            .into_iter()
            .map(|c| Config {
                security: SecurityConfig::OFF,
                ..c
            })
            .collect()
    }

    fn old_record(cfg: &Config, version: u8) -> Vec<u8> {
        let mut b = vec![b'S', b'G', b'C', b'F', version];
        let mut buf = [0u8; CONFIG_MAX_ENCODED];
        let payload = postcard::to_slice(cfg, &mut buf).unwrap();
        // The RPL settings (version 4; the rfc8138 bool version 5, the objective's variant
        // index, one byte, version 6), before them blind_global_derivation,
        // trust_backbone_dscp, address_protection (a variant index below 128): one byte each.
        let mut rpl = [0u8; 32];
        let mut cut = match version {
            ..=3 => postcard::to_slice(&cfg.rpl, &mut rpl).unwrap().len(),
            4 => 2,
            5 => 1,
            _ => 0,
        };
        // The security settings (version 7) after them.
        if version < 7 {
            cut += security_len(cfg);
        }
        if version < 3 {
            cut += 3;
        }
        if version == 1 {
            let mut tail = [0u8; 3];
            cut += postcard::to_slice(&cfg.max_registrations_per_source, &mut tail)
                .unwrap()
                .len();
        }
        b.extend_from_slice(&payload[..payload.len() - cut]);
        let crc = crc32(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    /// The policy is the byte before the RPL settings, a variant index: Off 0, Allow 1, Require 2. A
    /// build without `address-protection` refuses a record asking for 1 or 2 with a clear
    /// error; any other index is corrupt.
    #[test]
    fn address_protection_policy_bytes() {
        let bytes = encode_vec(&Config::default());
        let mut rpl = [0u8; 32];
        let rpl_len = postcard::to_slice(&Config::default().rpl, &mut rpl)
            .unwrap()
            .len();
        let last = bytes.len() - CRC_LEN - security_len(&Config::default()) - rpl_len - 1;
        let want = if cfg!(feature = "address-protection") {
            1
        } else {
            0
        };
        assert_eq!(bytes[last], want, "the default policy");
        let with = |v: u8| {
            let mut b = bytes.clone();
            b[last] = v;
            let n = b.len() - CRC_LEN;
            let crc = crc32(&b[..n]);
            b[n..].copy_from_slice(&crc.to_le_bytes());
            Config::decode(&b)
        };
        assert_eq!(with(0).unwrap().address_protection, AddressProtection::Off);
        #[cfg(feature = "address-protection")]
        {
            assert_eq!(
                with(1).unwrap().address_protection,
                AddressProtection::Allow
            );
            assert_eq!(
                with(2).unwrap().address_protection,
                AddressProtection::Require
            );
        }
        #[cfg(not(feature = "address-protection"))]
        for v in [1, 2] {
            assert_eq!(with(v), Err(ConfigError::AddressProtectionUnsupported));
        }
        assert_eq!(with(3), Err(ConfigError::Corrupt));
        assert_eq!(with(0x80), Err(ConfigError::Corrupt));
    }

    #[test]
    fn older_records_still_load() {
        let v1 = old_record(&Config::default(), 1);
        assert_eq!(&v1[..5], b"SGCF\x01");
        for cfg in samples_without_security() {
            for version in [1, 2, 3] {
                let old = Config {
                    max_registrations_per_source: if version == 1 {
                        4
                    } else {
                        cfg.max_registrations_per_source
                    },
                    blind_global_derivation: version >= 3 && cfg.blind_global_derivation,
                    trust_backbone_dscp: version >= 3 && cfg.trust_backbone_dscp,
                    address_protection: if version >= 3 {
                        cfg.address_protection
                    } else {
                        AddressProtection::DEFAULT
                    },
                    rpl: RplConfig::default(),
                    ..cfg.clone()
                };
                let loaded = Config::decode(&old_record(&cfg, version)).unwrap();
                assert_eq!(
                    loaded, old,
                    "version {version}: its fields kept, the newer ones defaulted"
                );
                // Saved again, it is a record of the current version.
                assert_eq!(encode_vec(&loaded)[4], CONFIG_FORMAT_VERSION);
            }
        }
        // A current payload under an older header is too long.
        for version in [1, 2, 3, 4, 5, 6] {
            let mut b = encode_vec(&Config::default());
            b[4] = version;
            let n = b.len() - CRC_LEN;
            let crc = crc32(&b[..n]);
            b[n..].copy_from_slice(&crc.to_le_bytes());
            assert_eq!(
                Config::decode(&b),
                Err(ConfigError::Corrupt),
                "version {version}"
            );
        }
    }

    /// Version 4 (the RPL settings without `rfc8138`) loads with RFC 8138 off and every other
    /// RPL setting kept; version 5 keeps either value.
    #[test]
    fn rfc8138_is_off_in_a_version_4_record_and_kept_from_version_5() {
        for cfg in samples_without_security() {
            for on in [false, true] {
                let cfg = Config {
                    rpl: RplConfig {
                        rfc8138: on,
                        objective: RplObjective::Of0,
                        ..cfg.rpl
                    },
                    ..cfg.clone()
                };
                let v4 = old_record(&cfg, 4);
                assert_eq!(v4[4], 4);
                let v5 = old_record(&cfg, 5);
                assert_eq!(v4.len() + 1, v5.len(), "one byte shorter");
                let loaded = Config::decode(&v4).unwrap();
                assert_eq!(
                    loaded,
                    Config {
                        rpl: RplConfig {
                            rfc8138: false,
                            ..cfg.rpl
                        },
                        ..cfg.clone()
                    }
                );
                assert_eq!(v5[4], 5);
                assert_eq!(Config::decode(&v5).unwrap().rpl.rfc8138, on);
                assert_eq!(Config::decode(&v5).unwrap(), cfg);
                // The bool is the last payload byte.
                assert_eq!(v5[v5.len() - CRC_LEN - 1], u8::from(on));
            }
        }
        // The default record's RPL settings as version 4 wrote them, byte by byte.
        let v4 = old_record(&Config::default(), 4);
        let rpl = [
            0x01, // enabled
            0x00, // mop: variant 0, non-storing
            0x1e, // instance_id 30
            0x0c, // dio_interval_min 12
            0x08, // dio_interval_doublings 8
            0x0a, // dio_redundancy 10
            0x1e, // default_lifetime 30
            0x3c, // lifetime_unit_s 60 (varint)
            0x08, // max_depth 8
            0x80, 0x02, // min_hop_rank_increase 256 (varint); nothing after it in version 4
        ];
        assert_eq!(v4[v4.len() - CRC_LEN - rpl.len()..v4.len() - CRC_LEN], rpl);
        assert!(!Config::decode(&v4).unwrap().rpl.rfc8138);
    }

    /// Version 5 and older (their firmware always advertised OF0) load with OF0 and every other
    /// setting kept; version 6 keeps either objective, a variant index after `rfc8138`:
    /// 0 OF0, 1 MRHOF; another index is corrupt.
    #[test]
    fn the_objective_is_of0_in_a_version_5_record_and_kept_from_version_6() {
        assert_eq!(RplConfig::default().objective, RplObjective::Mrhof);
        for cfg in samples_without_security() {
            for (objective, byte) in [(RplObjective::Of0, 0u8), (RplObjective::Mrhof, 1)] {
                let cfg = Config {
                    rpl: RplConfig {
                        objective,
                        ..cfg.rpl
                    },
                    ..cfg.clone()
                };
                let of0 = Config {
                    rpl: RplConfig {
                        objective: RplObjective::Of0,
                        ..cfg.rpl
                    },
                    ..cfg.clone()
                };
                let v5 = old_record(&cfg, 5);
                assert_eq!(Config::decode(&v5).unwrap(), of0);
                let v6 = old_record(&cfg, 6);
                assert_eq!((v6[4], v6.len()), (6, v5.len() + 1));
                assert_eq!(v6[v6.len() - CRC_LEN - 1], byte, "the last payload byte");
                assert_eq!(Config::decode(&v6).unwrap(), cfg);
                let mut bad = v6.clone();
                let n = bad.len() - CRC_LEN;
                bad[n - 1] = 2;
                let crc = crc32(&bad[..n]);
                bad[n..].copy_from_slice(&crc.to_le_bytes());
                assert_eq!(Config::decode(&bad), Err(ConfigError::Corrupt));
            }
        }
        assert_eq!(RplObjective::from_ocp(1), Some(RplObjective::Mrhof));
        assert_eq!(RplObjective::from_ocp(0).map(RplObjective::ocp), Some(0));
        assert_eq!(RplObjective::from_ocp(2), None);
    }

    proptest! {
        #[test]
        fn hand_reader_matches_postcard_on_random_payloads(
            payload in prop::collection::vec(
                prop_oneof![Just(0u8), Just(1u8), Just(0x80u8), any::<u8>()], 0..120),
        ) {
            prop_assert_eq!(read_whole(&payload, CONFIG_FORMAT_VERSION), serde_whole(&payload));
        }

        #[test]
        fn decode_arbitrary_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = Config::decode(&bytes);
        }

        #[test]
        fn decode_framed_arbitrary_never_panics(
            payload in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            // Right magic, version and CRC around random bytes: exercises postcard and validate.
            let mut b = vec![b'S', b'G', b'C', b'F', CONFIG_FORMAT_VERSION];
            b.extend_from_slice(&payload);
            let crc = crc32(&b);
            b.extend_from_slice(&crc.to_le_bytes());
            if let Ok(cfg) = Config::decode(&b) {
                prop_assert!(cfg.validate().is_ok());
                prop_assert_eq!(Config::decode(&encode_vec(&cfg)).unwrap(), cfg);
            }
        }

        #[test]
        fn valid_mutations_round_trip(
            ch in 11u8..=26, pan in 0u16..0xffff, tx in -40i8..=8, v in any::<u32>(),
            short in 0u16..0xffff,
        ) {
            let mut c = static_cfg();
            c.channel = ch;
            c.pan_id = pan;
            c.tx_power_dbm = tx;
            c.abro_version = v;
            c.short_address = short;
            prop_assert_eq!(Config::decode(&encode_vec(&c)).unwrap(), c);
        }
    }
}
