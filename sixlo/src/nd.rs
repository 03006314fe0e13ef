//! 6LoWPAN-ND codecs (RFC 6775, updated by RFC 8505): the Address Registration Option (ARO and
//! its extended form EARO), the 6LoWPAN Context Option (6CO), the Authoritative Border Router
//! Option (ABRO), and the Duplicate Address Request / Confirmation messages (DAR/DAC); and, in
//! `ap`, the options of Address-Protected ND (RFC 8928: CIPO, NDPSO, Nonce).
//!
//! Codecs only: each `…Repr` has `parse(&[u8])`, `buffer_len()` and `emit(&mut [u8])`
//! (writing exactly `buffer_len()` bytes). Options start at their Type octet; DAR/DAC start at
//! the ICMPv6 Type octet, and the checksum field is carried as is (the IPv6 layer computes it).
//! Lifetimes are in the option's own units (60 s), exposed raw plus a `Duration` helper.

use core::fmt;

use netif::time::{Duration, Instant};

use crate::buf::{Reader, Writer};
use crate::context::Context;

mod ap;
pub use ap::{
    CGA_TAG_AP_ND, CipoRepr, CryptoType, EARO_FLAG_C, NONCE_MIN, NdpsoRepr, NonceRepr, OPT_CIPO,
    OPT_NDPSO, OPT_NONCE, signed_message,
};

// The ND code points are netif's (one set for every ND speaker), under the names used here.
pub use netif::icmp::nd::{
    DUPLICATE_ADDRESS_CONFIRM as ICMPV6_DAC, DUPLICATE_ADDRESS_REQUEST as ICMPV6_DAR, OPT_6CO,
    OPT_ABRO, OPT_ARO,
};

/// Why an option or message could not be parsed or emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NdError {
    /// Shorter than its fixed part or than its Length field says.
    Truncated,
    /// The Type octet is not the expected one.
    WrongType(u8),
    /// The Length field is not allowed for this option.
    BadLength(u8),
    /// The output buffer is too small.
    BufferTooSmall,
}

impl fmt::Display for NdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("6LoWPAN-ND option truncated"),
            Self::WrongType(t) => write!(f, "unexpected option or message type {t}"),
            Self::BadLength(l) => write!(f, "invalid option length {l}"),
            Self::BufferTooSmall => f.write_str("output buffer too small"),
        }
    }
}

impl core::error::Error for NdError {}

/// Registration status (RFC 8505 §12.6 registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status {
    /// 0.
    Success,
    /// 1.
    DuplicateAddress,
    /// 2.
    NeighborCacheFull,
    /// 3.
    Moved,
    /// 4.
    Removed,
    /// 5.
    ValidationRequested,
    /// 6.
    DuplicateSourceAddress,
    /// 7.
    InvalidSourceAddress,
    /// 8.
    TopologicallyIncorrect,
    /// 9.
    RegistrySaturated,
    /// 10.
    ValidationFailed,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for Status {
    fn from(v: u8) -> Self {
        match v {
            0 => Self::Success,
            1 => Self::DuplicateAddress,
            2 => Self::NeighborCacheFull,
            3 => Self::Moved,
            4 => Self::Removed,
            5 => Self::ValidationRequested,
            6 => Self::DuplicateSourceAddress,
            7 => Self::InvalidSourceAddress,
            8 => Self::TopologicallyIncorrect,
            9 => Self::RegistrySaturated,
            10 => Self::ValidationFailed,
            x => Self::Unknown(x),
        }
    }
}

impl From<Status> for u8 {
    fn from(s: Status) -> u8 {
        match s {
            Status::Success => 0,
            Status::DuplicateAddress => 1,
            Status::NeighborCacheFull => 2,
            Status::Moved => 3,
            Status::Removed => 4,
            Status::ValidationRequested => 5,
            Status::DuplicateSourceAddress => 6,
            Status::InvalidSourceAddress => 7,
            Status::TopologicallyIncorrect => 8,
            Status::RegistrySaturated => 9,
            Status::ValidationFailed => 10,
            Status::Unknown(x) => x,
        }
    }
}

/// A Registration Ownership Verifier: the EUI-64 of an ARO, or 64–256 bits in an EARO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rovr {
    bytes: [u8; 32],
    len: u8,
}

impl Rovr {
    /// A ROVR from 8, 16, 24 or 32 bytes.
    pub fn new(b: &[u8]) -> Option<Self> {
        if !matches!(b.len(), 8 | 16 | 24 | 32) {
            return None;
        }
        let mut bytes = [0u8; 32];
        bytes.get_mut(..b.len())?.copy_from_slice(b);
        Some(Rovr {
            bytes,
            len: b.len() as u8,
        })
    }
    /// An EUI-64 (the RFC 6775 ARO field).
    pub const fn eui64(e: [u8; 8]) -> Self {
        let mut bytes = [0u8; 32];
        let mut i = 0;
        while i < 8 {
            bytes[i] = e[i];
            i += 1;
        }
        Rovr { bytes, len: 8 }
    }
    /// The verifier bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// Lifetime in 60-second units as a [`Duration`].
pub const fn minutes(units: u16) -> Duration {
    Duration::from_secs(units as u64 * 60)
}

/// (Extended) Address Registration Option, RFC 6775 §4.1 / RFC 8505 §4.1.
///
/// ```text
/// | Type=33 | Length | Status | Opaque | Rsvd(3) C I(2) R T | TID | Lifetime (16) | ROVR ... |
/// ```
/// An RFC 6775 ARO is the same with Opaque, flags and TID zero and a 64-bit EUI-64. The C flag
/// (RFC 8928 §4.2) says the ROVR is a Crypto-ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AroRepr {
    /// Registration status (0 in an NS).
    pub status: Status,
    /// Opaque field for the routing protocol (EARO).
    pub opaque: u8,
    /// C flag: the ROVR is a Crypto-ID (RFC 8928 §4.2).
    pub c: bool,
    /// I field: how to interpret Opaque (EARO).
    pub i: u8,
    /// R flag: the registrant requests reachability services (EARO).
    pub r: bool,
    /// T flag: the TID field is valid (set in an EARO, clear in an RFC 6775 ARO).
    pub t: bool,
    /// Transaction ID (EARO).
    pub tid: u8,
    /// Registration lifetime in 60-second units.
    pub lifetime: u16,
    /// EUI-64 or ROVR.
    pub rovr: Rovr,
}

impl AroRepr {
    /// Parse an ARO/EARO option.
    pub fn parse(data: &[u8]) -> Result<Self, NdError> {
        let mut r = Reader::new(data);
        let t = NdError::Truncated;
        let ty = r.u8().ok_or(t)?;
        if ty != OPT_ARO {
            return Err(NdError::WrongType(ty));
        }
        let len = r.u8().ok_or(t)?;
        if !(2..=5).contains(&len) {
            return Err(NdError::BadLength(len));
        }
        let status = Status::from(r.u8().ok_or(t)?);
        let opaque = r.u8().ok_or(t)?;
        let flags = r.u8().ok_or(t)?;
        let tid = r.u8().ok_or(t)?;
        let lifetime = r.u16().ok_or(t)?;
        let rovr = Rovr::new(r.take((usize::from(len) - 1) * 8).ok_or(t)?).ok_or(t)?;
        Ok(AroRepr {
            status,
            opaque,
            c: flags & EARO_FLAG_C != 0,
            i: (flags >> 2) & 3,
            r: flags & 2 != 0,
            t: flags & 1 != 0,
            tid,
            lifetime,
            rovr,
        })
    }
    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        8 + self.rovr.as_bytes().len()
    }
    /// Write the option.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, NdError> {
        let len = (self.buffer_len() / 8) as u8;
        let c = if self.c { EARO_FLAG_C } else { 0 };
        let flags = c | (self.i & 3) << 2 | u8::from(self.r) << 1 | u8::from(self.t);
        let [l0, l1] = self.lifetime.to_be_bytes();
        let mut w = Writer::new(buf);
        let e = |_| NdError::BufferTooSmall;
        w.put(&[
            OPT_ARO,
            len,
            self.status.into(),
            self.opaque,
            flags,
            self.tid,
            l0,
            l1,
        ])
        .map_err(e)?;
        w.put(self.rovr.as_bytes()).map_err(e)?;
        Ok(w.pos())
    }
}

/// 6LoWPAN Context Option, RFC 6775 §4.2.
///
/// ```text
/// | Type=34 | Length | Context Length | Res C CID | Reserved (16) | Valid Lifetime (16) | Prefix |
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SixCoRepr {
    /// Context length in bits (0–128).
    pub context_len: u8,
    /// C flag: valid for compression.
    pub compress: bool,
    /// Context identifier 0–15.
    pub cid: u8,
    /// Valid lifetime in 60-second units.
    pub lifetime: u16,
    /// The prefix (bits past `context_len` are zero on the wire when it fits 8 bytes).
    pub prefix: [u8; 16],
}

impl SixCoRepr {
    /// Parse a 6CO.
    pub fn parse(data: &[u8]) -> Result<Self, NdError> {
        let mut r = Reader::new(data);
        let t = NdError::Truncated;
        let ty = r.u8().ok_or(t)?;
        if ty != OPT_6CO {
            return Err(NdError::WrongType(ty));
        }
        let len = r.u8().ok_or(t)?;
        if !(2..=3).contains(&len) {
            return Err(NdError::BadLength(len));
        }
        let context_len = r.u8().ok_or(t)?;
        let b = r.u8().ok_or(t)?;
        r.take(2).ok_or(t)?;
        let lifetime = r.u16().ok_or(t)?;
        let p = r.take((usize::from(len) - 1) * 8).ok_or(t)?;
        if context_len > 128 || (len == 2 && context_len > 64) {
            return Err(NdError::BadLength(len));
        }
        let mut prefix = [0u8; 16];
        prefix.get_mut(..p.len()).ok_or(t)?.copy_from_slice(p);
        Ok(SixCoRepr {
            context_len,
            compress: b & 0x10 != 0,
            cid: b & 0x0f,
            lifetime,
            prefix,
        })
    }
    /// Bytes [`emit`](Self::emit) writes (16 or 24).
    pub const fn buffer_len(&self) -> usize {
        if self.context_len > 64 { 24 } else { 16 }
    }
    /// Write the option.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, NdError> {
        let n = self.buffer_len();
        let [l0, l1] = self.lifetime.to_be_bytes();
        let mut w = Writer::new(buf);
        let e = |_| NdError::BufferTooSmall;
        w.put(&[
            OPT_6CO,
            (n / 8) as u8,
            self.context_len.min(128),
            u8::from(self.compress) << 4 | (self.cid & 0x0f),
            0,
            0,
            l0,
            l1,
        ])
        .map_err(e)?;
        w.put(self.prefix.get(..n - 8).unwrap_or(&[])).map_err(e)?;
        Ok(w.pos())
    }
    /// The context this option installs, valid from `now` for its lifetime.
    pub fn to_context(&self, now: Instant) -> Context {
        let mut c = Context::new(self.prefix, self.context_len);
        c.compress = self.compress;
        c.with_lifetime(now, minutes(self.lifetime))
    }
}

/// Authoritative Border Router Option, RFC 6775 §4.3.
///
/// ```text
/// | Type=35 | Length=3 | Version Low (16) | Version High (16) | Valid Lifetime (16) | 6LBR Address (128) |
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AbroRepr {
    /// 32-bit version number (high and low halves joined).
    pub version: u32,
    /// Valid lifetime in 60-second units (0 means the default of 10000).
    pub lifetime: u16,
    /// The border router's address.
    pub address: [u8; 16],
}

impl AbroRepr {
    /// Bytes of the option.
    pub const LEN: usize = 24;

    /// Parse an ABRO.
    pub fn parse(data: &[u8]) -> Result<Self, NdError> {
        let mut r = Reader::new(data);
        let t = NdError::Truncated;
        let ty = r.u8().ok_or(t)?;
        if ty != OPT_ABRO {
            return Err(NdError::WrongType(ty));
        }
        let len = r.u8().ok_or(t)?;
        if len != 3 {
            return Err(NdError::BadLength(len));
        }
        let low = r.u16().ok_or(t)?;
        let high = r.u16().ok_or(t)?;
        let lifetime = r.u16().ok_or(t)?;
        let address = r.array::<16>().ok_or(t)?;
        Ok(AbroRepr {
            version: u32::from(high) << 16 | u32::from(low),
            lifetime,
            address,
        })
    }
    /// Bytes [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        Self::LEN
    }
    /// Write the option.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, NdError> {
        let [h0, h1, l0, l1] = self.version.to_be_bytes();
        let [t0, t1] = self.lifetime.to_be_bytes();
        let mut w = Writer::new(buf);
        let e = |_| NdError::BufferTooSmall;
        w.put(&[OPT_ABRO, 3, l0, l1, h0, h1, t0, t1]).map_err(e)?;
        w.put(&self.address).map_err(e)?;
        Ok(w.pos())
    }
}

/// Which duplicate-address message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DaKind {
    /// Duplicate Address Request (157), 6LR → 6LBR.
    Request,
    /// Duplicate Address Confirmation (158), 6LBR → 6LR.
    Confirmation,
}

/// DAR / DAC message, RFC 6775 §4.4 as extended by RFC 8505 §6.
///
/// ```text
/// | Type | Code (suffix = ROVR size) | Checksum (16) | Status | TID | Registration Lifetime (16) |
/// | ROVR / EUI-64 (64–256) | Registered Address (128) |
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DaRepr {
    /// DAR or DAC.
    pub kind: DaKind,
    /// The ICMPv6 checksum as carried (computed by the IPv6 layer).
    pub checksum: u16,
    /// Status (0 in a DAR).
    pub status: Status,
    /// Transaction ID (RFC 8505; reserved zero in RFC 6775).
    pub tid: u8,
    /// Registration lifetime in 60-second units.
    pub lifetime: u16,
    /// EUI-64 or ROVR; its size is the Code Suffix (0: 64 bits … 3: 256 bits).
    pub rovr: Rovr,
    /// The address being registered.
    pub registered: [u8; 16],
}

impl DaRepr {
    /// Parse a DAR or DAC starting at the ICMPv6 Type octet.
    pub fn parse(data: &[u8]) -> Result<Self, NdError> {
        let mut r = Reader::new(data);
        let t = NdError::Truncated;
        let kind = match r.u8().ok_or(t)? {
            ICMPV6_DAR => DaKind::Request,
            ICMPV6_DAC => DaKind::Confirmation,
            x => return Err(NdError::WrongType(x)),
        };
        let code = r.u8().ok_or(t)?;
        if code & 0xf0 != 0 || code & 0x0f > 3 {
            return Err(NdError::BadLength(code));
        }
        let checksum = r.u16().ok_or(t)?;
        let status = Status::from(r.u8().ok_or(t)?);
        let tid = r.u8().ok_or(t)?;
        let lifetime = r.u16().ok_or(t)?;
        let rovr = Rovr::new(r.take((usize::from(code) + 1) * 8).ok_or(t)?).ok_or(t)?;
        let registered = r.array::<16>().ok_or(t)?;
        Ok(DaRepr {
            kind,
            checksum,
            status,
            tid,
            lifetime,
            rovr,
            registered,
        })
    }
    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        8 + self.rovr.as_bytes().len() + 16
    }
    /// Write the message (checksum field as given).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, NdError> {
        let ty = match self.kind {
            DaKind::Request => ICMPV6_DAR,
            DaKind::Confirmation => ICMPV6_DAC,
        };
        let code = (self.rovr.as_bytes().len() / 8 - 1) as u8;
        let [c0, c1] = self.checksum.to_be_bytes();
        let [l0, l1] = self.lifetime.to_be_bytes();
        let mut w = Writer::new(buf);
        let e = |_| NdError::BufferTooSmall;
        w.put(&[ty, code, c0, c1, self.status.into(), self.tid, l0, l1])
            .map_err(e)?;
        w.put(self.rovr.as_bytes()).map_err(e)?;
        w.put(&self.registered).map_err(e)?;
        Ok(w.pos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aro_rfc6775_bytes() {
        // Type 33, Length 2, Status 0, Reserved 24 bits, Lifetime 0x0e10 (60 h), EUI-64.
        let b = [
            33, 2, 0, 0, 0, 0, 0x0e, 0x10, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55,
        ];
        let a = AroRepr::parse(&b).unwrap();
        assert_eq!(a.status, Status::Success);
        assert!(!a.t);
        assert_eq!(a.lifetime, 3600);
        assert_eq!(a.rovr.as_bytes(), &b[8..]);
        let mut o = [0u8; 16];
        assert_eq!(a.emit(&mut o), Ok(16));
        assert_eq!(o, b);
    }

    #[test]
    fn earo_rfc8505_round_trip() {
        let a = AroRepr {
            status: Status::Moved,
            opaque: 7,
            c: true,
            i: 1,
            r: true,
            t: true,
            tid: 0xab,
            lifetime: 10,
            rovr: Rovr::new(&[0x5a; 32]).unwrap(),
        };
        let mut o = [0u8; 40];
        assert_eq!(a.emit(&mut o), Ok(40));
        assert_eq!(&o[..6], &[33, 5, 3, 7, 0b0001_0111, 0xab]);
        assert_eq!(AroRepr::parse(&o), Ok(a));
        assert_eq!(AroRepr::parse(&o[..39]), Err(NdError::Truncated));
        assert_eq!(Status::from(200), Status::Unknown(200));
    }

    #[test]
    fn six_co_and_context() {
        // 6CO: Length 2, context length 64, C=1 CID=3, lifetime 0x0101 minutes, prefix 2001:db8::/64.
        let b = [
            34, 2, 64, 0x13, 0, 0, 0x01, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
        ];
        let c = SixCoRepr::parse(&b).unwrap();
        assert_eq!(
            (c.context_len, c.compress, c.cid, c.lifetime),
            (64, true, 3, 257)
        );
        let mut o = [0u8; 16];
        assert_eq!(c.emit(&mut o), Ok(16));
        assert_eq!(o, b);
        let ctx = c.to_context(Instant::ZERO);
        assert_eq!(ctx.valid_until, Some(Instant::from_secs(257 * 60)));
        assert_eq!(SixCoRepr::parse(&[34, 4, 0, 0]), Err(NdError::BadLength(4)));
        let long = SixCoRepr {
            context_len: 96,
            ..c
        };
        let mut o = [0u8; 24];
        assert_eq!(long.emit(&mut o), Ok(24));
        assert_eq!(SixCoRepr::parse(&o), Ok(long));
    }

    #[test]
    fn abro_and_da_messages() {
        let a = AbroRepr {
            version: 0x0001_0002,
            lifetime: 0,
            address: [0x20; 16],
        };
        let mut o = [0u8; 24];
        assert_eq!(a.emit(&mut o), Ok(24));
        // Version Low comes first on the wire.
        assert_eq!(&o[..8], &[35, 3, 0, 2, 0, 1, 0, 0]);
        assert_eq!(AbroRepr::parse(&o), Ok(a));
        let d = DaRepr {
            kind: DaKind::Confirmation,
            checksum: 0x1234,
            status: Status::DuplicateAddress,
            tid: 9,
            lifetime: 60,
            rovr: Rovr::eui64([1, 2, 3, 4, 5, 6, 7, 8]),
            registered: [0xfe; 16],
        };
        let mut o = [0u8; 32];
        assert_eq!(d.emit(&mut o), Ok(32));
        assert_eq!(&o[..8], &[158, 0, 0x12, 0x34, 1, 9, 0, 60]);
        assert_eq!(DaRepr::parse(&o), Ok(d));
        assert_eq!(DaRepr::parse(&o[..31]), Err(NdError::Truncated));
        assert_eq!(DaRepr::parse(&[1, 0]), Err(NdError::WrongType(1)));
    }
}
