//! A hand-written decoder for [`Request`] bodies, byte for byte what postcard's serde decoding
//! accepts and rejects (tests compare the two on every sample and on random bytes).
//!
//! Why by hand: it is the only decoder a device links, and serde's derived visitors cost the
//! nRF52840 image about 2 KB of flash more than this reader (the board's budget is 128 KiB).
//! Hosts, tests and fuzzing keep using serde ([`crate::decode`]).
//!
//! postcard's encoding, as far as requests use it: unsigned integers wider than a byte are
//! LEB128 varints of at most `ceil(bits / 7)` bytes whose last byte may not carry bits past
//! the type; `u8` and `i8` are one byte; `bool` is 0 or 1; an `Option` is a 0 or 1 tag and the
//! value; a `&str` is a varint `usize` length and UTF-8 bytes; `[u8; 16]` is 16 bytes; an enum
//! is a varint `u32` variant index and the variant's fields in order.

use crate::msg::{IfaceSetting, Ip6, Request};

/// Decodes one request that fills `b` exactly; `None` when postcard would refuse it.
pub(crate) fn decode(b: &[u8]) -> Option<Request<'_>> {
    let mut r = Reader(b);
    let req = r.request()?;
    r.0.is_empty().then_some(req)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// A varint of an unsigned type `bits` wide.
    #[inline(never)]
    fn varint(&mut self, bits: u32) -> Option<u64> {
        let max = bits.div_ceil(7);
        let mut out = 0u64;
        for i in 0..max {
            let b = self.byte()?;
            out |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                // The last possible byte may only carry the type's remaining bits.
                let last_bits = bits - 7 * (max - 1);
                return (i + 1 < max || u32::from(b) < (1 << last_bits)).then_some(out);
            }
        }
        None
    }

    fn u16(&mut self) -> Option<u16> {
        self.varint(16).and_then(|v| u16::try_from(v).ok())
    }

    fn u32(&mut self) -> Option<u32> {
        self.varint(32).and_then(|v| u32::try_from(v).ok())
    }

    #[inline(never)]
    fn bool(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    /// An `Option`'s tag: whether a value follows.
    fn some(&mut self) -> Option<bool> {
        self.bool()
    }

    #[inline(never)]
    fn str(&mut self) -> Option<&'a str> {
        let len = self
            .varint(usize::BITS)
            .and_then(|v| usize::try_from(v).ok())?;
        let bytes = self.0.get(..len)?;
        self.0 = self.0.get(len..)?;
        core::str::from_utf8(bytes).ok()
    }

    fn opt_str(&mut self) -> Option<Option<&'a str>> {
        Some(if self.some()? {
            Some(self.str()?)
        } else {
            None
        })
    }

    #[inline(never)]
    fn ip6(&mut self) -> Option<Ip6> {
        let (a, rest) = self.0.split_first_chunk::<16>()?;
        self.0 = rest;
        Some(*a)
    }

    fn request(&mut self) -> Option<Request<'a>> {
        // The arms follow `Request`'s variant order (a test checks every variant).
        Some(match self.u32()? {
            0 => Request::Hello {
                version: self.byte()?,
                schema: self.u32()?,
                client: self.str()?,
            },
            1 => Request::Info,
            2 => Request::IfaceList,
            3 => Request::IfaceAdmin {
                iface: self.str()?,
                up: self.bool()?,
            },
            4 => Request::IfaceSet {
                iface: self.str()?,
                setting: match self.u32()? {
                    0 => IfaceSetting::Channel(self.byte()?),
                    1 => IfaceSetting::PanId(self.u16()?),
                    // postcard writes an i8 as its two's-complement byte.
                    2 => IfaceSetting::TxPower(self.byte()?.cast_signed()),
                    _ => return None,
                },
            },
            5 => Request::AddrList,
            6 => Request::AddrAdd {
                iface: self.str()?,
                addr: self.ip6()?,
                prefix_len: self.byte()?,
            },
            7 => Request::AddrDel {
                iface: self.str()?,
                addr: self.ip6()?,
            },
            8 => Request::RouteList,
            9 => Request::RouteAdd {
                prefix: self.ip6()?,
                len: self.byte()?,
                iface: self.str()?,
                via: if self.some()? {
                    Some(self.ip6()?)
                } else {
                    None
                },
                metric: self.u16()?,
            },
            10 => Request::RouteDel {
                prefix: self.ip6()?,
                len: self.byte()?,
            },
            11 => Request::NeighList,
            12 => Request::NodesList { start: self.u16()? },
            13 => Request::PrefixShow,
            14 => Request::PrefixSet {
                prefix: self.ip6()?,
                len: self.byte()?,
            },
            15 => Request::Stats { start: self.u16()? },
            16 => Request::StatsReset {
                iface: self.opt_str()?,
            },
            17 => Request::Ping {
                dst: self.ip6()?,
                size: self.u16()?,
                seq: self.u16()?,
                timeout_ms: self.u32()?,
                iface: self.opt_str()?,
            },
            18 => Request::ScanEnergy {
                channels: self.u32()?,
                duration_ms: self.u16()?,
            },
            19 => Request::CaptureStart {
                ifaces: self.byte()?,
                promiscuous: self.bool()?,
            },
            20 => Request::CaptureStop,
            21 => Request::Subscribe {
                events: self.bool()?,
                logs: self.bool()?,
            },
            22 => Request::ConfigShow,
            23 => Request::ConfigSave,
            24 => Request::ConfigReset,
            25 => Request::Reboot,
            _ => return None,
        })
    }
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
