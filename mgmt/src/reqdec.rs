//! A hand-written decoder for [`Request`] bodies, byte for byte what postcard's serde decoding
//! accepts and rejects (tests compare the two on every sample and on random bytes).
//!
//! Why by hand: it is the only decoder a device links, and serde's derived visitors cost the
//! nRF52840 image about 2 KB of flash more than this reader (the board's budget is 128 KiB).
//! Hosts, tests and fuzzing keep using serde ([`crate::decode`]).
//!
//! The encoding rules are in [`crate::wire`].

use crate::msg::{IfaceSetting, Request, RplSettings, SecuritySettings};
use crate::wire::Reader;

/// Decodes one request that fills `b` exactly; `None` when postcard would refuse it.
pub(crate) fn decode(b: &[u8]) -> Option<Request<'_>> {
    let mut r = Reader::new(b);
    let req = request(&mut r)?;
    r.is_empty().then_some(req)
}

fn request<'a>(r: &mut Reader<'a>) -> Option<Request<'a>> {
    // The arms follow `Request`'s variant order (a test checks every variant).
    Some(match r.u32()? {
        0 => Request::Hello {
            version: r.byte()?,
            schema: r.u32()?,
            client: r.str()?,
        },
        1 => Request::Info,
        2 => Request::IfaceList,
        3 => Request::IfaceAdmin {
            iface: r.str()?,
            up: r.bool()?,
        },
        4 => Request::IfaceSet {
            iface: r.str()?,
            setting: match r.u32()? {
                0 => IfaceSetting::Channel(r.byte()?),
                1 => IfaceSetting::PanId(r.u16()?),
                // postcard writes an i8 as its two's-complement byte.
                2 => IfaceSetting::TxPower(r.i8()?),
                _ => return None,
            },
        },
        5 => Request::AddrList,
        6 => Request::AddrAdd {
            iface: r.str()?,
            addr: r.array::<16>()?,
            prefix_len: r.byte()?,
        },
        7 => Request::AddrDel {
            iface: r.str()?,
            addr: r.array::<16>()?,
        },
        8 => Request::RouteList,
        9 => Request::RouteAdd {
            prefix: r.array::<16>()?,
            len: r.byte()?,
            iface: r.str()?,
            via: if r.some()? {
                Some(r.array::<16>()?)
            } else {
                None
            },
            metric: r.u16()?,
        },
        10 => Request::RouteDel {
            prefix: r.array::<16>()?,
            len: r.byte()?,
        },
        11 => Request::NeighList,
        12 => Request::NodesList { start: r.u16()? },
        13 => Request::PrefixShow,
        14 => Request::PrefixSet {
            prefix: r.array::<16>()?,
            len: r.byte()?,
        },
        15 => Request::Stats { start: r.u16()? },
        16 => Request::StatsReset {
            iface: r.opt_str()?,
        },
        17 => Request::Ping {
            dst: r.array::<16>()?,
            size: r.u16()?,
            seq: r.u16()?,
            timeout_ms: r.u32()?,
            iface: r.opt_str()?,
        },
        18 => Request::ScanEnergy {
            channels: r.u32()?,
            duration_ms: r.u16()?,
        },
        19 => Request::CaptureStart {
            ifaces: r.byte()?,
            promiscuous: r.bool()?,
        },
        20 => Request::CaptureStop,
        21 => Request::Subscribe {
            events: r.bool()?,
            logs: r.bool()?,
        },
        22 => Request::ConfigShow,
        23 => Request::ConfigSave,
        24 => Request::ConfigReset,
        25 => Request::Reboot,
        26 => Request::RplShow,
        27 => Request::RplSet(RplSettings {
            enabled: r.bool()?,
            mop: r.byte()?,
            instance_id: r.byte()?,
            dio_interval_min: r.byte()?,
            dio_interval_doublings: r.byte()?,
            dio_redundancy: r.byte()?,
            default_lifetime: r.byte()?,
            lifetime_unit_s: r.u16()?,
            max_depth: r.byte()?,
            min_hop_rank_increase: r.u16()?,
            rfc8138: r.bool()?,
            ocp: r.u16()?,
        }),
        28 => Request::RplRepair,
        29 => Request::Topology { start: r.u16()? },
        30 => Request::SecurityShow,
        31 => Request::SecuritySetKey {
            key: r.array::<16>()?,
        },
        32 => Request::SecuritySet(SecuritySettings {
            level: r.byte()?,
            unsecured_allowed: r.byte()?,
            rotate_period_h: r.u32()?,
        }),
        33 => Request::SecurityRotate,
        34 => Request::SecurityOff,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use crate::{REQUEST_VARIANTS, samples};
    use proptest::prelude::*;

    /// What postcard's serde decoding makes of `b` (the reference).
    fn serde(b: &[u8]) -> Option<Request<'_>> {
        match postcard::take_from_bytes::<Request<'_>>(b) {
            Ok((r, [])) => Some(r),
            _ => None,
        }
    }

    fn variant(r: &Request<'_>) -> u8 {
        let mut b = [0u8; 64];
        postcard::to_slice(r, &mut b).unwrap()[0]
    }

    #[test]
    fn every_sample_request_decodes_as_serde_does() {
        let mut seen = [false; REQUEST_VARIANTS];
        let mut buf = [0u8; 256];
        for r in samples::requests() {
            let b = postcard::to_slice(&r, &mut buf).unwrap();
            assert_eq!(decode(b), Some(r.clone()), "{r:?}");
            seen[usize::from(variant(&r))] = true;
            // Every truncation and every trailing byte is refused, as serde refuses them.
            for n in 0..b.len() {
                assert_eq!(decode(&b[..n]), serde(&b[..n]), "{r:?} cut at {n}");
            }
            let mut long: Vec<u8> = b.into();
            long.push(0);
            assert_eq!(decode(&long), None);
        }
        assert!(
            seen.iter().all(|&s| s),
            "samples cover every variant: {seen:?}"
        );
    }

    #[test]
    fn edge_values_decode_as_serde_does() {
        let cases: &[&[u8]] = &[
            // NodesList { start }: varint u16 limits and overlong forms.
            &[12, 0xff, 0xff, 0x03],
            &[12, 0xff, 0xff, 0x04],
            &[12, 0x80, 0x80, 0x00],
            &[12, 0x80, 0x80, 0x80, 0x00],
            &[12, 0x80, 0x00],
            // ScanEnergy { channels: u32, duration_ms }
            &[18, 0xff, 0xff, 0xff, 0xff, 0x0f, 0],
            &[18, 0xff, 0xff, 0xff, 0xff, 0x10, 0],
            // Variant index as a multi-byte varint, and past the last variant.
            &[0x81, 0x00],
            &[0x80, 0x80, 0x80, 0x80, 0x10],
            &[26],
            &[0xff, 0x7f],
            // Booleans and option tags other than 0/1.
            &[3, 1, b'a', 2],
            &[16, 2],
            &[16, 1, 1, 0xff],
            &[16, 1, 2, 0xc3, 0xa9],
            // IfaceSet with each setting, a negative power, an unknown setting.
            &[4, 0, 0, 11],
            &[4, 0, 1, 0xcd, 0xab, 0x02],
            &[4, 0, 2, 0xf6],
            &[4, 0, 3, 0],
            // A string length far past the end.
            &[0, 1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f],
        ];
        for &b in cases {
            assert_eq!(decode(b), serde(b), "{b:02x?}");
        }
        assert_eq!(
            decode(&[4, 0, 2, 0xf6]),
            Some(Request::IfaceSet {
                iface: "",
                setting: IfaceSetting::TxPower(-10)
            })
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8_000))]

        /// Random bodies: accepted and refused exactly as serde does, with the same value.
        #[test]
        fn random_bytes_decode_as_serde_does(
            variant in 0u8..28,
            rest in proptest::collection::vec(
                prop_oneof![Just(0u8), Just(1u8), Just(0x80u8), any::<u8>()], 0..40),
        ) {
            let mut b = std::vec![variant];
            b.extend(rest);
            prop_assert_eq!(decode(&b), serde(&b));
        }
    }
}
