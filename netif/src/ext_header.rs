//! IPv6 extension headers (RFC 8200 §4): the walk from the fixed header to the upper layer.

use crate::stats::DropReason;

/// IPv6 header length.
const IPV6_HDR: usize = 40;
/// Longest chain of extension headers walked before giving up.
pub(crate) const MAX_EXT_HEADERS: usize = 8;

/// Result of walking the extension headers to the upper layer.
#[derive(Clone, Copy)]
pub(crate) enum Upper {
    /// Upper-layer protocol and its offset.
    At(u8, usize),
    /// Drop silently (counted).
    Drop(DropReason),
    /// Drop and answer Parameter Problem (code, pointer).
    Problem(u8, u32),
}

/// Process an options header (hop-by-hop or destination options) at `off`; returns its length.
pub(crate) fn options_header(d: &[u8], off: usize, dst_multicast: bool) -> Result<usize, Upper> {
    let bad = Upper::Drop(DropReason::BadExtensionHeader);
    let len = d
        .get(off + 1)
        .map(|&l| (usize::from(l) + 1) * 8)
        .ok_or(Upper::Drop(DropReason::Truncated))?;
    let end = off
        .checked_add(len)
        .filter(|&e| e <= d.len())
        .ok_or(Upper::Drop(DropReason::Truncated))?;
    let mut i = off + 2;
    while i < end {
        let ty = *d.get(i).ok_or(bad)?;
        if ty == 0 {
            i += 1; // Pad1
            continue;
        }
        let olen = usize::from(
            *d.get(i + 1)
                .ok_or(Upper::Drop(DropReason::BadExtensionHeader))?,
        );
        let next = i + 2 + olen;
        if next > end {
            return Err(Upper::Drop(DropReason::BadExtensionHeader));
        }
        match ty {
            1 => {}              // PadN
            5 if olen == 2 => {} // Router Alert: nothing to intercept without MLD
            _ => match ty >> 6 {
                0 => {}
                1 => return Err(Upper::Drop(DropReason::BadExtensionHeader)),
                3 if dst_multicast => return Err(Upper::Drop(DropReason::BadExtensionHeader)),
                _ => return Err(Upper::Problem(2, i as u32)),
            },
        }
        i = next;
    }
    Ok(len)
}

/// Walk from the IPv6 header to the upper layer, processing what a destination must.
pub(crate) fn walk_to_upper(d: &[u8], first: u8, dst_multicast: bool) -> Upper {
    let mut next = first;
    let mut off = IPV6_HDR;
    let mut next_ptr = 6usize; // offset of the byte that named `next`
    for n in 0..MAX_EXT_HEADERS {
        match next {
            0 if n > 0 => return Upper::Problem(1, next_ptr as u32),
            0 | 60 => match options_header(d, off, dst_multicast) {
                Ok(len) => {
                    next_ptr = off;
                    next = match d.get(off) {
                        Some(&v) => v,
                        None => return Upper::Drop(DropReason::Truncated),
                    };
                    off += len;
                }
                Err(u) => return u,
            },
            43 => {
                let (Some(&nh), Some(&l), Some(&segs_left)) =
                    (d.get(off), d.get(off + 1), d.get(off + 3))
                else {
                    return Upper::Drop(DropReason::Truncated);
                };
                if segs_left != 0 {
                    // No routing type is implemented: RFC 8200 §4.4.
                    return Upper::Problem(0, (off + 2) as u32);
                }
                next_ptr = off;
                next = nh;
                off += (usize::from(l) + 1) * 8;
            }
            _ => return Upper::At(next, off),
        }
    }
    Upper::Drop(DropReason::BadExtensionHeader)
}

/// Offset of the next-header field that named the header at `target`.
pub(crate) fn next_header_ptr(d: &[u8], first: u8, target: usize) -> u32 {
    let (mut off, mut ptr, mut next) = (IPV6_HDR, 6usize, first);
    for _ in 0..MAX_EXT_HEADERS {
        if off >= target || !matches!(next, 0 | 43 | 60) {
            break;
        }
        let (Some(&nh), Some(&l)) = (d.get(off), d.get(off + 1)) else {
            break;
        };
        ptr = off;
        next = nh;
        off += (usize::from(l) + 1) * 8;
    }
    ptr as u32
}
