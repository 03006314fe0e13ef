//! RFC 6282 §4 next-header compression (NHC).
//!
//! - UDP (`11110CPP`, §4.3): ports inline, `0xF0xx` (8 bits) or `0xF0Bx` (4 bits), checksum
//!   inline or elided (C=1; only when the caller allows it, recomputed on decompression); the UDP
//!   length is always elided and recomputed.
//! - IPv6 extension headers (`1110EEEN`, §4.2): hop-by-hop, routing, fragment, destination
//!   options, mobility; next header inline (N=0) or NHC-compressed (N=1); a length byte followed
//!   by the header bytes after its first two octets. EID 7 is IPv6-in-IPv6: an IPHC header
//!   follows directly.

use crate::buf::{Reader, Writer};
use crate::decompress::DecompressError;
use crate::iphc::NextHeader;

/// IPv6 protocol numbers used here.
pub mod proto {
    /// Hop-by-hop options.
    pub const HOP_BY_HOP: u8 = 0;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 encapsulated in IPv6.
    pub const IPV6: u8 = 41;
    /// Routing header.
    pub const ROUTING: u8 = 43;
    /// Fragment header.
    pub const FRAGMENT: u8 = 44;
    /// Destination options.
    pub const DEST_OPTS: u8 = 60;
    /// Mobility header.
    pub const MOBILITY: u8 = 135;
}

/// The extension header identifier (EID) of an extension-header NHC byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ExtHeaderId {
    /// EID 0.
    HopByHop,
    /// EID 1.
    Routing,
    /// EID 2.
    Fragment,
    /// EID 3.
    DestinationOptions,
    /// EID 4.
    Mobility,
    /// EID 7: an IPHC-compressed IPv6 header follows.
    Ipv6,
    /// EID 5 or 6 (reserved).
    Unknown(u8),
}

impl From<u8> for ExtHeaderId {
    fn from(eid: u8) -> Self {
        match eid {
            0 => Self::HopByHop,
            1 => Self::Routing,
            2 => Self::Fragment,
            3 => Self::DestinationOptions,
            4 => Self::Mobility,
            7 => Self::Ipv6,
            x => Self::Unknown(x),
        }
    }
}

impl From<ExtHeaderId> for u8 {
    fn from(e: ExtHeaderId) -> u8 {
        match e {
            ExtHeaderId::HopByHop => 0,
            ExtHeaderId::Routing => 1,
            ExtHeaderId::Fragment => 2,
            ExtHeaderId::DestinationOptions => 3,
            ExtHeaderId::Mobility => 4,
            ExtHeaderId::Ipv6 => 7,
            ExtHeaderId::Unknown(x) => x & 7,
        }
    }
}

impl ExtHeaderId {
    /// The IPv6 protocol number of this header.
    pub const fn protocol(self) -> Option<u8> {
        match self {
            Self::HopByHop => Some(proto::HOP_BY_HOP),
            Self::Routing => Some(proto::ROUTING),
            Self::Fragment => Some(proto::FRAGMENT),
            Self::DestinationOptions => Some(proto::DEST_OPTS),
            Self::Mobility => Some(proto::MOBILITY),
            Self::Ipv6 => Some(proto::IPV6),
            Self::Unknown(_) => None,
        }
    }
    /// The EID for an IPv6 protocol number, if NHC can carry it.
    pub const fn from_protocol(p: u8) -> Option<Self> {
        match p {
            proto::HOP_BY_HOP => Some(Self::HopByHop),
            proto::ROUTING => Some(Self::Routing),
            proto::FRAGMENT => Some(Self::Fragment),
            proto::DEST_OPTS => Some(Self::DestinationOptions),
            proto::MOBILITY => Some(Self::Mobility),
            proto::IPV6 => Some(Self::Ipv6),
            _ => None,
        }
    }
}

/// What an NHC dispatch byte announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NhcDispatch {
    /// `11110CPP`.
    Udp,
    /// `1110EEEN`.
    Ext(ExtHeaderId),
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for NhcDispatch {
    fn from(b: u8) -> Self {
        if b & 0xf8 == 0xf0 {
            Self::Udp
        } else if b & 0xf0 == 0xe0 {
            Self::Ext(ExtHeaderId::from((b >> 1) & 7))
        } else {
            Self::Unknown(b)
        }
    }
}

impl NhcDispatch {
    /// The IPv6 protocol number the NHC header stands for.
    pub fn protocol(self) -> Result<u8, DecompressError> {
        match self {
            Self::Udp => Ok(proto::UDP),
            Self::Ext(e) => e
                .protocol()
                .ok_or(DecompressError::UnsupportedNhc(u8::from(e) << 1 | 0xe0)),
            Self::Unknown(b) => Err(DecompressError::UnsupportedNhc(b)),
        }
    }
}

/// A UDP header as carried by the UDP NHC (length always elided).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The checksum, or `None` when elided (C=1).
    pub checksum: Option<u16>,
}

impl UdpRepr {
    /// Parse a UDP NHC header; returns it and its length.
    pub fn parse(data: &[u8]) -> Result<(UdpRepr, usize), DecompressError> {
        let t = DecompressError::Truncated;
        let mut r = Reader::new(data);
        let b = r.u8().ok_or(t)?;
        if NhcDispatch::from(b) != NhcDispatch::Udp {
            return Err(DecompressError::UnsupportedNhc(b));
        }
        let (src_port, dst_port) = match b & 0b11 {
            0 => (r.u16().ok_or(t)?, r.u16().ok_or(t)?),
            1 => (r.u16().ok_or(t)?, 0xf000 | u16::from(r.u8().ok_or(t)?)),
            2 => (0xf000 | u16::from(r.u8().ok_or(t)?), r.u16().ok_or(t)?),
            _ => {
                let p = r.u8().ok_or(t)?;
                (0xf0b0 | u16::from(p >> 4), 0xf0b0 | u16::from(p & 0x0f))
            }
        };
        let checksum = if b & 0b100 != 0 {
            None
        } else {
            Some(r.u16().ok_or(t)?)
        };
        Ok((
            UdpRepr {
                src_port,
                dst_port,
                checksum,
            },
            r.pos(),
        ))
    }

    #[inline]
    fn ports_mode(&self) -> u8 {
        let short = |p: u16| p & 0xfff0 == 0xf0b0;
        let byte = |p: u16| p & 0xff00 == 0xf000;
        if short(self.src_port) && short(self.dst_port) {
            3
        } else if byte(self.dst_port) {
            1
        } else if byte(self.src_port) {
            2
        } else {
            0
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    #[inline]
    pub fn buffer_len(&self) -> usize {
        let ports = match self.ports_mode() {
            0 => 4,
            1 | 2 => 3,
            _ => 1,
        };
        1 + ports + if self.checksum.is_some() { 2 } else { 0 }
    }

    /// Write the header with the smallest port encoding; `None` if `buf` is too short.
    pub fn emit(&self, buf: &mut [u8]) -> Option<usize> {
        let mut w = Writer::new(buf);
        self.emit_to(&mut w).ok()?;
        Some(w.pos())
    }

    #[inline]
    pub(crate) fn emit_to(&self, w: &mut Writer<'_>) -> Result<(), ()> {
        let mode = self.ports_mode();
        let (s, d) = (self.src_port.to_be_bytes(), self.dst_port.to_be_bytes());
        // One store per shape (port mode × checksum carried or elided).
        match (mode, self.checksum.map(u16::to_be_bytes)) {
            (0, Some(c)) => w.put(&[0xf0, s[0], s[1], d[0], d[1], c[0], c[1]]),
            (0, None) => w.put(&[0xf4, s[0], s[1], d[0], d[1]]),
            (1, Some(c)) => w.put(&[0xf1, s[0], s[1], d[1], c[0], c[1]]),
            (1, None) => w.put(&[0xf5, s[0], s[1], d[1]]),
            (2, Some(c)) => w.put(&[0xf2, s[1], d[0], d[1], c[0], c[1]]),
            (2, None) => w.put(&[0xf6, s[1], d[0], d[1]]),
            (_, Some(c)) => w.put(&[0xf3, (s[1] & 0x0f) << 4 | (d[1] & 0x0f), c[0], c[1]]),
            (_, None) => w.put(&[0xf7, (s[1] & 0x0f) << 4 | (d[1] & 0x0f)]),
        }
    }
}

/// A compressed IPv6 extension header (EID 0–4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExtRepr<'a> {
    /// Which header.
    pub id: ExtHeaderId,
    /// Its next header: inline or NHC-compressed (N bit).
    pub next_header: NextHeader,
    /// The header bytes after its next-header and length octets.
    pub data: &'a [u8],
}

impl<'a> ExtRepr<'a> {
    /// Parse an extension-header NHC (not EID 7); returns it and its length.
    pub fn parse(data: &'a [u8]) -> Result<(ExtRepr<'a>, usize), DecompressError> {
        let t = DecompressError::Truncated;
        let mut r = Reader::new(data);
        let b = r.u8().ok_or(t)?;
        let id = match NhcDispatch::from(b) {
            NhcDispatch::Ext(id) if id != ExtHeaderId::Ipv6 && id.protocol().is_some() => id,
            _ => return Err(DecompressError::UnsupportedNhc(b)),
        };
        let next_header = if b & 1 != 0 {
            NextHeader::Compressed
        } else {
            NextHeader::Inline(r.u8().ok_or(t)?)
        };
        let len = r.u8().ok_or(t)?;
        let data = r.take(usize::from(len)).ok_or(t)?;
        Ok((
            ExtRepr {
                id,
                next_header,
                data,
            },
            r.pos(),
        ))
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        2 + usize::from(matches!(self.next_header, NextHeader::Inline(_))) + self.data.len()
    }

    /// Write the header; `None` if `buf` is too short or the data exceeds 255 bytes.
    pub fn emit(&self, buf: &mut [u8]) -> Option<usize> {
        let mut w = Writer::new(buf);
        self.emit_to(&mut w).ok()?;
        Some(w.pos())
    }

    pub(crate) fn emit_to(&self, w: &mut Writer<'_>) -> Result<(), ()> {
        let len = u8::try_from(self.data.len()).map_err(|_| ())?;
        let n = matches!(self.next_header, NextHeader::Compressed);
        w.u8(0xe0 | (u8::from(self.id) & 7) << 1 | u8::from(n))?;
        if let NextHeader::Inline(p) = self.next_header {
            w.u8(p)?;
        }
        w.u8(len)?;
        w.put(self.data)
    }
}

/// The NHC byte announcing an IPHC-compressed inner IPv6 header (EID 7, N=0).
pub const NHC_IPV6: u8 = 0xee;
