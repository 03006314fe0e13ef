//! RFC 8138 6LoWPAN Routing Headers (6LoRH) in the page-1 dispatch space (RFC 8025).
//!
//! A page-1 packet starts with the Paging Dispatch `0xF1`; the 6LoRHs follow, then the IPHC
//! header of the (inner) packet. Two forms share the `10xxxxxx` space:
//!
//! ```text
//! Critical (6LoRHC):  |1|0|0|  TSE    |    Type     | data: length from Type and TSE
//! Elective (6LoRHE):  |1|0|1| Length  |    Type     | data: Length bytes
//! ```
//!
//! Types implemented:
//! - 0–4, critical: **SRH-6LoRH**, TSE = number of addresses − 1, each address compressed to
//!   1, 2, 4, 8 or 16 bytes (type 0, 1, 2, 3, 4). An address is *coalesced* with a reference:
//!   the reference with its rightmost N bytes replaced by the N compressed bytes. The first
//!   address of the first SRH-6LoRH takes the source of the encapsulating header (the
//!   encapsulator, or the DODAG root when it is elided) as reference, every following address
//!   the one before it, expanded. A change of size starts a new SRH-6LoRH.
//! - 5, critical: **RPI-6LoRH**, TSE = `O R F I K`; the RPLInstanceID byte is elided when I=1
//!   (instance 0), the SenderRank takes 1 byte when K=1 (its high byte is zero), else 2.
//! - 6, elective: **IP-in-IP-6LoRH**, Length = 1 + size of the encapsulator address: the hop
//!   limit of the encapsulating header, then the encapsulator address, elided (Length 1) when
//!   it is the DODAG root, otherwise coalesced with the root's address (1, 2, 4, 8 bytes) or
//!   inline (16 bytes).
//!
//! An unknown critical 6LoRH cannot be skipped (its length depends on its type) and makes the
//! packet undecodable; an unknown elective 6LoRH is skipped by its Length.
//!
//! [`Packet`] is the view of one 6LoRH, [`Repr`] its meaning. The whole-packet work is in
//! [`expand`] (page 1 → IPv6 headers, used by [`decompress`](crate::decompress())) and
//! [`pack`] (IPv6 headers → page 1, used by the compressor when
//! [`CompressOptions::rfc8138`](crate::CompressOptions::rfc8138) is set).

use core::fmt;

pub(crate) mod expand;
pub(crate) mod pack;

/// The Paging Dispatch of page 1 (RFC 8025 §3: `1111 PPPP`, page 1).
pub const DISPATCH_PAGE1: u8 = 0xF1;
/// Type of the RPI-6LoRH.
pub const TYPE_RPI: u8 = 5;
/// Type of the IP-in-IP-6LoRH.
pub const TYPE_IP_IN_IP: u8 = 6;
/// The most addresses one SRH-6LoRH holds (TSE is 5 bits).
pub const MAX_SRH_HOPS_PER_6LORH: usize = 32;
/// The most SRH-6LoRHs accepted in one packet (each change of compressed size starts one).
pub const MAX_SRH_6LORH: usize = 8;
/// The most 6LoRHs accepted in one packet, all kinds together.
pub const MAX_6LORH: usize = 12;
/// The RPL Option type written on decompression (RFC 9008 §3: `0x23`, "the RPI Option Type").
pub const RPL_OPTION_TYPE: u8 = 0x23;
/// The RPL Option type of RFC 6553, still accepted for compression.
pub const RPL_OPTION_TYPE_6553: u8 = 0x63;

mod field {
    /// The form (`100` critical, `101` elective) in the top three bits of byte 0.
    pub const FORM_MASK: u8 = 0b1110_0000;
    pub const CRITICAL: u8 = 0b1000_0000;
    pub const ELECTIVE: u8 = 0b1010_0000;
    /// TSE (critical) or Length (elective): the low five bits of byte 0.
    pub const TSE_MASK: u8 = 0b0001_1111;
    pub const FLAGS: usize = 0;
    pub const TYPE: usize = 1;
    /// The first data byte.
    pub const DATA: usize = 2;
    /// RPI-6LoRH flag bits in byte 0.
    pub const RPI_O: u8 = 0x10;
    pub const RPI_R: u8 = 0x08;
    pub const RPI_F: u8 = 0x04;
    pub const RPI_I: u8 = 0x02;
    pub const RPI_K: u8 = 0x01;
}

/// Whether `b` starts a 6LoRH (`10xxxxxx` in page 1).
pub const fn is_6lorh(b: u8) -> bool {
    b & 0b1100_0000 == 0b1000_0000
}

/// Why a 6LoRH (or a chain of them) could not be read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum LorhError {
    /// The 6LoRH runs past the end of the frame.
    Truncated,
    /// A critical 6LoRH of a type this crate does not know: the packet must be dropped.
    UnknownCritical(u8),
    /// A length this format cannot express (IP-in-IP Length 0 or not 1 + 0/1/2/4/8/16,
    /// an elective 6LoRH over 31 bytes, an empty or oversized SRH-6LoRH).
    BadLength,
    /// A second RPI-6LoRH or IP-in-IP-6LoRH, or an SRH-6LoRH after a different 6LoRH.
    Duplicate,
    /// A combination this crate does not rebuild: an SRH-6LoRH without an IP-in-IP-6LoRH.
    Unsupported,
    /// The encapsulator or the tunnel's destination is the DODAG root, whose address the
    /// context table does not hold ([`ContextTable::set_rpl_root`](crate::ContextTable::set_rpl_root)).
    MissingRoot,
    /// More 6LoRHs or SRH-6LoRHs than [`MAX_6LORH`] / [`MAX_SRH_6LORH`].
    TooMany,
}

impl fmt::Display for LorhError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("6LoRH runs past the end of the frame"),
            Self::UnknownCritical(t) => write!(f, "unknown critical 6LoRH type {t}"),
            Self::BadLength => f.write_str("6LoRH length impossible for its type"),
            Self::Duplicate => f.write_str("6LoRH repeated or out of order"),
            Self::Unsupported => f.write_str("SRH-6LoRH without an IP-in-IP-6LoRH"),
            Self::MissingRoot => f.write_str("6LoRH refers to an unknown DODAG root address"),
            Self::TooMany => f.write_str("too many 6LoRHs"),
        }
    }
}

impl core::error::Error for LorhError {}

/// The compressed size of the addresses of an SRH-6LoRH (its type, 0–4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AddrSize {
    /// Type 0: one byte.
    B1,
    /// Type 1: two bytes.
    B2,
    /// Type 2: four bytes.
    B4,
    /// Type 3: eight bytes.
    B8,
    /// Type 4: the whole address.
    B16,
}

impl AddrSize {
    /// Every size, smallest first.
    pub const ALL: [AddrSize; 5] = [Self::B1, Self::B2, Self::B4, Self::B8, Self::B16];

    /// The size for SRH-6LoRH type `t`, if `t` is 0–4.
    pub const fn from_type(t: u8) -> Option<Self> {
        match t {
            0 => Some(Self::B1),
            1 => Some(Self::B2),
            2 => Some(Self::B4),
            3 => Some(Self::B8),
            4 => Some(Self::B16),
            _ => None,
        }
    }
    /// The size for `n` bytes, if `n` is 1, 2, 4, 8 or 16.
    pub const fn from_len(n: usize) -> Option<Self> {
        match n {
            1 => Some(Self::B1),
            2 => Some(Self::B2),
            4 => Some(Self::B4),
            8 => Some(Self::B8),
            16 => Some(Self::B16),
            _ => None,
        }
    }
    /// The SRH-6LoRH type.
    pub const fn lorh_type(self) -> u8 {
        self as u8
    }
    /// Bytes per address.
    pub const fn bytes(self) -> usize {
        1 << (self as usize)
    }
    /// The smallest size that rebuilds `addr` from `reference` by [`coalesce`].
    pub fn elide(addr: &[u8; 16], reference: &[u8; 16]) -> Self {
        let same = addr
            .iter()
            .zip(reference.iter())
            .take_while(|(a, r)| a == r)
            .count();
        // The smallest n in 1,2,4,8,16 with addr[..16-n] == reference[..16-n].
        for s in Self::ALL {
            if same >= 16 - s.bytes() {
                return s;
            }
        }
        Self::B16
    }
}

/// Coalesce `compressed` (1–16 bytes) with `reference`: the reference with its rightmost
/// `compressed.len()` bytes replaced (RFC 8138 "Coalescence"). `None` for more than 16 bytes.
pub fn coalesce(reference: &[u8; 16], compressed: &[u8]) -> Option<[u8; 16]> {
    let mut a = *reference;
    let at = 16usize.checked_sub(compressed.len())?;
    a.get_mut(at..)?.copy_from_slice(compressed);
    Some(a)
}

/// The RPL Option carried by an RPI-6LoRH (RFC 6553 §3 fields).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rpi {
    /// O: the packet is expected to progress down.
    pub down: bool,
    /// R: a rank error was detected.
    pub rank_error: bool,
    /// F: a forwarding error was detected.
    pub forwarding_error: bool,
    /// RPLInstanceID.
    pub instance: u8,
    /// SenderRank (the DAGRank of the sender, RFC 6553 §3).
    pub sender_rank: u16,
}

impl Rpi {
    /// Read the 6 bytes of an RPL Option (type, length, flags, instance, rank) of type 0x23 or
    /// 0x63 whose flags carry nothing but O, R and F; `None` for any other option.
    pub fn from_option(o: &[u8]) -> Option<Rpi> {
        let [ty, len, flags, instance, r0, r1] = *o.first_chunk::<6>()?;
        if (ty != RPL_OPTION_TYPE && ty != RPL_OPTION_TYPE_6553) || len != 4 || flags & 0x1f != 0 {
            return None;
        }
        Some(Rpi {
            down: flags & 0x80 != 0,
            rank_error: flags & 0x40 != 0,
            forwarding_error: flags & 0x20 != 0,
            instance,
            sender_rank: u16::from_be_bytes([r0, r1]),
        })
    }
    /// The hop-by-hop header carrying this RPL Option (type [`RPL_OPTION_TYPE`]) before
    /// `next_header`: 2 + 6 bytes, a multiple of 8 without padding (RFC 8200 §4.3).
    pub fn hop_by_hop(&self, next_header: u8) -> [u8; 8] {
        let flags = (u8::from(self.down) << 7)
            | (u8::from(self.rank_error) << 6)
            | (u8::from(self.forwarding_error) << 5);
        let [r0, r1] = self.sender_rank.to_be_bytes();
        [
            next_header,
            0,
            RPL_OPTION_TYPE,
            4,
            flags,
            self.instance,
            r0,
            r1,
        ]
    }
    /// I flag: the instance is elided (instance 0).
    const fn elide_instance(&self) -> bool {
        self.instance == 0
    }
    /// K flag: the rank fits one byte.
    const fn short_rank(&self) -> bool {
        self.sender_rank <= 0xff
    }
    fn data_len(&self) -> usize {
        usize::from(!self.elide_instance()) + if self.short_rank() { 1 } else { 2 }
    }
    /// The whole RPI-6LoRH in its shortest form: the bytes and how many of them are used.
    pub(crate) fn wire(&self) -> ([u8; 5], usize) {
        let b0 = field::CRITICAL
            | if self.down { field::RPI_O } else { 0 }
            | if self.rank_error { field::RPI_R } else { 0 }
            | if self.forwarding_error {
                field::RPI_F
            } else {
                0
            }
            | if self.elide_instance() {
                field::RPI_I
            } else {
                0
            }
            | if self.short_rank() { field::RPI_K } else { 0 };
        let [hi, lo] = self.sender_rank.to_be_bytes();
        let mut b = [b0, TYPE_RPI, 0, 0, 0];
        let mut n = field::DATA;
        for (keep, v) in [
            (!self.elide_instance(), self.instance),
            (!self.short_rank(), hi),
            (true, lo),
        ] {
            if keep && let Some(slot) = b.get_mut(n) {
                *slot = v;
                n += 1;
            }
        }
        (b, n)
    }
}

/// A zero-copy view of one 6LoRH.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap without checks; accessors return `0` for missing bytes (they never panic).
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }
    /// Wrap and [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self, LorhError> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// The first byte is a 6LoRH form and the whole 6LoRH ([`header_len`](Self::header_len))
    /// is present. An unknown critical type fails here: its length cannot be known.
    pub fn check_len(&self) -> Result<(), LorhError> {
        let b = self.buffer.as_ref();
        if b.len() < field::DATA || !is_6lorh(self.byte(field::FLAGS)) {
            return Err(LorhError::Truncated);
        }
        let n = self.header_len()?;
        if b.len() < n {
            return Err(LorhError::Truncated);
        }
        Ok(())
    }
    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    fn byte(&self, i: usize) -> u8 {
        self.buffer.as_ref().get(i).copied().unwrap_or(0)
    }
    /// Critical form (`100`), as opposed to elective (`101`).
    pub fn is_critical(&self) -> bool {
        self.byte(field::FLAGS) & field::FORM_MASK == field::CRITICAL
    }
    /// TSE (critical) or Length (elective).
    pub fn tse(&self) -> u8 {
        self.byte(field::FLAGS) & field::TSE_MASK
    }
    /// The 6LoRH type.
    pub fn lorh_type(&self) -> u8 {
        self.byte(field::TYPE)
    }
    /// Length of the whole 6LoRH; for an unknown critical type, the error.
    pub fn header_len(&self) -> Result<usize, LorhError> {
        let tse = usize::from(self.tse());
        if !self.is_critical() {
            return Ok(field::DATA + tse);
        }
        let t = self.lorh_type();
        if let Some(s) = AddrSize::from_type(t) {
            return Ok(field::DATA + (tse + 1) * s.bytes());
        }
        if t == TYPE_RPI {
            let f = self.byte(field::FLAGS);
            let inst = usize::from(f & field::RPI_I == 0);
            let rank = if f & field::RPI_K != 0 { 1 } else { 2 };
            return Ok(field::DATA + inst + rank);
        }
        Err(LorhError::UnknownCritical(t))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_head(&mut self, b0: u8, ty: u8) -> Result<&mut [u8], LorhError> {
        let b = self.buffer.as_mut();
        let (h, rest) = b.split_first_chunk_mut::<2>().ok_or(LorhError::Truncated)?;
        *h = [b0, ty];
        Ok(rest)
    }
}

/// The meaning of one 6LoRH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Repr<'a> {
    /// SRH-6LoRH: `addrs` holds the compressed addresses, `size` bytes each, in path order.
    Srh {
        /// Compressed size of each address.
        size: AddrSize,
        /// The compressed addresses, back to back (1 to 32 of them).
        addrs: &'a [u8],
    },
    /// RPI-6LoRH.
    Rpi(Rpi),
    /// IP-in-IP-6LoRH.
    IpInIp {
        /// Hop limit of the encapsulating header.
        hop_limit: u8,
        /// The encapsulator's address compressed against the DODAG root: empty (it is the
        /// root), 1, 2, 4, 8 or 16 bytes.
        encapsulator: &'a [u8],
    },
    /// An elective 6LoRH of a type this crate does not know (skipped on receive).
    Elective {
        /// Its type.
        lorh_type: u8,
        /// Its data (0–31 bytes).
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Parse a checked view. Fails for an unknown critical type and for an IP-in-IP-6LoRH
    /// whose Length is not 1 + 0, 1, 2, 4, 8 or 16.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &Packet<&'a T>) -> Result<Repr<'a>, LorhError> {
        p.check_len()?;
        let all: &'a [u8] = p.buffer.as_ref();
        let end = p.header_len()?;
        let data = all.get(field::DATA..end).ok_or(LorhError::Truncated)?;
        let t = p.lorh_type();
        if p.is_critical() {
            if let Some(size) = AddrSize::from_type(t) {
                return Ok(Repr::Srh { size, addrs: data });
            }
            // header_len() refused every other critical type.
            let f = p.byte(field::FLAGS);
            let mut d = data.iter().copied();
            let instance = if f & field::RPI_I != 0 {
                0
            } else {
                d.next().ok_or(LorhError::Truncated)?
            };
            let hi = if f & field::RPI_K != 0 {
                0
            } else {
                d.next().ok_or(LorhError::Truncated)?
            };
            let lo = d.next().ok_or(LorhError::Truncated)?;
            return Ok(Repr::Rpi(Rpi {
                down: f & field::RPI_O != 0,
                rank_error: f & field::RPI_R != 0,
                forwarding_error: f & field::RPI_F != 0,
                instance,
                sender_rank: u16::from_be_bytes([hi, lo]),
            }));
        }
        if t == TYPE_IP_IN_IP {
            let (&hop_limit, encapsulator) = data.split_first().ok_or(LorhError::BadLength)?;
            if !encapsulator.is_empty() && AddrSize::from_len(encapsulator.len()).is_none() {
                return Err(LorhError::BadLength);
            }
            return Ok(Repr::IpInIp {
                hop_limit,
                encapsulator,
            });
        }
        Ok(Repr::Elective { lorh_type: t, data })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        field::DATA
            + match self {
                Repr::Srh { addrs, .. } => addrs.len(),
                Repr::Rpi(r) => r.data_len(),
                Repr::IpInIp { encapsulator, .. } => 1 + encapsulator.len(),
                Repr::Elective { data, .. } => data.len(),
            }
    }

    /// Write exactly [`buffer_len`](Self::buffer_len) bytes; refuses what [`parse`](Self::parse)
    /// could not read back (an SRH-6LoRH of 0 or more than 32 addresses or a partial one, an
    /// encapsulator of another size than 0/1/2/4/8/16, elective data over 31 bytes, an
    /// [`Repr::Elective`] of type [`TYPE_IP_IN_IP`]).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) -> Result<(), LorhError> {
        let len = self.buffer_len();
        if p.buffer.as_ref().len() < len {
            return Err(LorhError::Truncated);
        }
        match *self {
            Repr::Srh { size, addrs } => {
                let n = addrs.len() / size.bytes();
                if n == 0 || n > MAX_SRH_HOPS_PER_6LORH || addrs.len() % size.bytes() != 0 {
                    return Err(LorhError::BadLength);
                }
                let rest = p.set_head(field::CRITICAL | (n - 1) as u8, size.lorh_type())?;
                put(rest, addrs)
            }
            Repr::Rpi(r) => {
                let (b, n) = r.wire();
                put(p.buffer.as_mut(), b.get(..n).unwrap_or(&[]))
            }
            Repr::IpInIp {
                hop_limit,
                encapsulator,
            } => {
                if !encapsulator.is_empty() && AddrSize::from_len(encapsulator.len()).is_none() {
                    return Err(LorhError::BadLength);
                }
                let rest = p.set_head(
                    field::ELECTIVE | (1 + encapsulator.len()) as u8,
                    TYPE_IP_IN_IP,
                )?;
                let (h, rest) = rest.split_first_mut().ok_or(LorhError::Truncated)?;
                *h = hop_limit;
                put(rest, encapsulator)
            }
            Repr::Elective { lorh_type, data } => {
                if data.len() > usize::from(field::TSE_MASK) || lorh_type == TYPE_IP_IN_IP {
                    return Err(LorhError::BadLength);
                }
                let rest = p.set_head(field::ELECTIVE | data.len() as u8, lorh_type)?;
                put(rest, data)
            }
        }
    }
}

fn put(dst: &mut [u8], src: &[u8]) -> Result<(), LorhError> {
    dst.get_mut(..src.len())
        .ok_or(LorhError::Truncated)?
        .copy_from_slice(src);
    Ok(())
}

#[cfg(test)]
mod tests;
