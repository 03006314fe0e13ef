//! The RPL Option (RFC 6553), carried in a Hop-by-Hop Options header: the RPL Packet
//! Information of RFC 6550 §11.2 (down, rank error and forwarding error flags, the instance
//! and the sender's rank).
//!
//! ```text
//! | Option Type 0x23/0x63 | Opt Data Len 4 | O|R|F|0 0 0 0 0 | RPLInstanceID | SenderRank |
//! ```
//!
//! RFC 9008 §12.1 moved the option type from 0x63 (action bits 01: routers outside RPL
//! discard the packet) to 0x23 (00: they skip it); both are read, [`OPTION_9008`] is written.

use crate::{Error, Result};

/// The RPL Option type of RFC 9008.
pub const OPTION_9008: u8 = 0x23;
/// The RPL Option type of RFC 6553.
pub const OPTION_6553: u8 = 0x63;
/// The IPv6 next-header value of a Hop-by-Hop Options header.
pub const NEXT_HEADER_HBH: u8 = 0;
/// A Hop-by-Hop Options header holding only the RPL Option: 8 bytes, no padding.
pub const HBH_LEN: usize = 8;

/// The RPL Packet Information.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RplOption {
    /// O: the packet goes down the DODAG.
    pub down: bool,
    /// R: a rank error was detected on the way.
    pub rank_error: bool,
    /// F: a forwarding error (no route down) was detected.
    pub forwarding_error: bool,
    /// RPLInstanceID.
    pub instance_id: u8,
    /// SenderRank.
    pub sender_rank: u16,
}

impl RplOption {
    /// Reads the option's data (the bytes after type and length; 4 or more, sub-TLVs
    /// ignored).
    pub fn parse(data: &[u8]) -> Result<RplOption> {
        let [f, instance_id, r0, r1] = *data.first_chunk::<4>().ok_or(Error::Truncated)?;
        Ok(RplOption {
            down: f & 0x80 != 0,
            rank_error: f & 0x40 != 0,
            forwarding_error: f & 0x20 != 0,
            instance_id,
            sender_rank: u16::from_be_bytes([r0, r1]),
        })
    }

    /// The option with type `ty`: 6 bytes.
    pub fn to_bytes(&self, ty: u8) -> [u8; 6] {
        let f = (u8::from(self.down) << 7)
            | (u8::from(self.rank_error) << 6)
            | (u8::from(self.forwarding_error) << 5);
        let [r0, r1] = self.sender_rank.to_be_bytes();
        [ty, 4, f, self.instance_id, r0, r1]
    }

    /// A Hop-by-Hop Options header holding only this option (type [`OPTION_9008`]), with
    /// `next_header` after it.
    pub fn hbh_header(&self, next_header: u8) -> [u8; HBH_LEN] {
        let [t, l, f, i, r0, r1] = self.to_bytes(OPTION_9008);
        [next_header, 0, t, l, f, i, r0, r1]
    }
}

/// Finds the RPL Option in a Hop-by-Hop header `h` (its whole length): `None` when it has
/// none, `Some(Err)` when the header or the option is malformed.
pub fn find(h: &[u8]) -> Option<Result<RplOption>> {
    Some(position(h)?.and_then(|at| {
        let data = h.get(at + 2..).ok_or(Error::Truncated)?;
        let len = usize::from(*h.get(at + 1).ok_or(Error::Truncated)?);
        RplOption::parse(data.get(..len).ok_or(Error::Truncated)?)
    }))
}

/// Where the RPL Option starts in a Hop-by-Hop header `h` (the offset of its type byte, so
/// its flags byte is at + 2, for a router rewriting them in place): `None` when it has none,
/// `Some(Err)` when the header or an option before it is malformed.
pub fn position(h: &[u8]) -> Option<Result<usize>> {
    let len = (usize::from(*h.get(1)?) + 1) * 8;
    if h.len() < len {
        return Some(Err(Error::Truncated));
    }
    let mut at = 2;
    while at < len {
        let ty = *h.get(at)?;
        if ty == 0 {
            at += 1;
            continue;
        }
        let Some(&olen) = h.get(at + 1).filter(|_| at + 1 < len) else {
            return Some(Err(Error::Truncated));
        };
        let next = at + 2 + usize::from(olen);
        if next > len {
            return Some(Err(Error::Truncated));
        }
        if ty == OPTION_9008 || ty == OPTION_6553 {
            return Some(Ok(at));
        }
        at = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_both_types() {
        let o = RplOption {
            down: true,
            rank_error: false,
            forwarding_error: true,
            instance_id: 30,
            sender_rank: 256,
        };
        let h = o.hbh_header(41);
        assert_eq!(h, [41, 0, 0x23, 4, 0xa0, 30, 1, 0]);
        assert_eq!(find(&h), Some(Ok(o)));
        let mut old = h;
        old[2] = OPTION_6553;
        assert_eq!(find(&old), Some(Ok(o)));
        // After a PadN and a Pad1 in a 16-byte header.
        let h = [17, 1, 1, 1, 0, 0, 0x63, 4, 0, 7, 2, 0, 1, 2, 0, 0];
        assert_eq!(
            find(&h).and_then(Result::ok).map(|o| o.sender_rank),
            Some(512)
        );
        // None; truncated.
        assert_eq!(find(&[17, 0, 1, 4, 0, 0, 0, 0]), None);
        assert_eq!(find(&[17, 0, 0x23, 4, 0, 0]), Some(Err(Error::Truncated)));
        assert_eq!(
            find(&[17, 0, 0x23, 9, 0, 0, 0, 0]),
            Some(Err(Error::Truncated))
        );
    }
}
