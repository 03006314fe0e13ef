//! The RPL Source Routing Header (RFC 6554): an IPv6 routing header of type 3 whose
//! addresses are compressed against the packet's IPv6 Destination Address.
//!
//! ```text
//! | Next Header | Hdr Ext Len | Routing Type 3 | Segments Left |
//! | CmprI | CmprE | Pad |           Reserved (20 bits)           |
//! | Addresses[1..n-1]: 16 - CmprI bytes each | Address[n]: 16 - CmprE | Pad |
//! ```
//!
//! n = ((Hdr Ext Len × 8 − Pad − (16 − CmprE)) / (16 − CmprI)) + 1 (RFC 6554 §3). A
//! compressed address takes its first CmprI (CmprE for the last) bytes from the IPv6
//! Destination Address of the packet as the router reading it sees it.
//!
//! - [`Srh::parse`] checks every length and that n is a whole number of addresses;
//! - [`Srh::address`] expands address i against a destination;
//! - [`build`] writes the header for a path, choosing the largest CmprI and CmprE that expand
//!   correctly at every hop (each address shares them with the destination it is expanded
//!   against), and the padding to a multiple of 8 bytes;
//! - [`process`] is RFC 6554 §4.2 for a router receiving the header: the next hop, the new
//!   destination and segments left, or the ICMPv6 Parameter Problem to send.

use core::net::Ipv6Addr;

use crate::{Error, Result};

/// The IPv6 routing type of the RPL Source Routing Header.
pub const ROUTING_TYPE: u8 = 3;
/// The IPv6 next-header value of a routing header.
pub const NEXT_HEADER_ROUTING: u8 = 43;
/// The most addresses [`build`] writes (the root's deepest source route).
pub const MAX_ADDRESSES: usize = 64;

/// A parsed Source Routing Header, borrowing its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Srh<'a> {
    /// Next Header.
    pub next_header: u8,
    /// Segments Left.
    pub segments_left: u8,
    /// CmprI: prefix bytes elided from addresses 1..n-1.
    pub cmpr_i: u8,
    /// CmprE: prefix bytes elided from address n.
    pub cmpr_e: u8,
    /// Pad bytes after the last address.
    pub pad: u8,
    /// Number of addresses (n).
    pub n: usize,
    addrs: &'a [u8],
}

impl<'a> Srh<'a> {
    /// Parses the header at the start of `b` (at least its Hdr Ext Len × 8 + 8 bytes).
    /// Refuses a routing type other than 3, and lengths that do not make a whole number of
    /// addresses.
    pub fn parse(b: &'a [u8]) -> Result<Srh<'a>> {
        let get = |i: usize| b.get(i).copied().ok_or(Error::Truncated);
        let next_header = get(0)?;
        let len = (usize::from(get(1)?) + 1) * 8;
        if get(2)? != ROUTING_TYPE {
            return Err(Error::Malformed);
        }
        let segments_left = get(3)?;
        let c = get(4)?;
        let cmpr_i = c >> 4;
        let cmpr_e = c & 0x0f;
        let pad = get(5)? >> 4;
        let addrs = b.get(8..len).ok_or(Error::Truncated)?;
        let (per, last) = (16 - usize::from(cmpr_i), 16 - usize::from(cmpr_e));
        let body = addrs
            .len()
            .checked_sub(usize::from(pad))
            .and_then(|x| x.checked_sub(last))
            .ok_or(Error::Malformed)?;
        if body % per != 0 {
            return Err(Error::Malformed);
        }
        Ok(Srh {
            next_header,
            segments_left,
            cmpr_i,
            cmpr_e,
            pad,
            n: body / per + 1,
            addrs,
        })
    }

    /// The header's length in bytes.
    pub fn len(&self) -> usize {
        self.addrs.len() + 8
    }

    /// Whether the header holds no address (never: n ≥ 1).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Address `i` (1-based, as RFC 6554 numbers them) expanded against `dst`.
    pub fn address(&self, i: usize, dst: &Ipv6Addr) -> Option<Ipv6Addr> {
        if i == 0 || i > self.n {
            return None;
        }
        let per = 16 - usize::from(self.cmpr_i);
        let (cmpr, start, len) = if i == self.n {
            (
                self.cmpr_e,
                (self.n - 1) * per,
                16 - usize::from(self.cmpr_e),
            )
        } else {
            (self.cmpr_i, (i - 1) * per, per)
        };
        let mut o = dst.octets();
        o.get_mut(usize::from(cmpr)..)?
            .copy_from_slice(self.addrs.get(start..start + len)?);
        Some(Ipv6Addr::from(o))
    }
}

/// Bytes shared at the start of `a` and `b`, at most 15 (a compressed address keeps at
/// least one byte).
fn common(a: &Ipv6Addr, b: &Ipv6Addr) -> u8 {
    let n = a
        .octets()
        .iter()
        .zip(b.octets().iter())
        .take_while(|(x, y)| x == y)
        .count();
    n.min(15) as u8
}

/// The header [`build`] writes for the path `hops` (the addresses after the first hop, the
/// final destination last) under the IPv6 destination `first` (the first hop): its CmprI,
/// CmprE, Pad and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// CmprI.
    pub cmpr_i: u8,
    /// CmprE.
    pub cmpr_e: u8,
    /// Pad.
    pub pad: u8,
    /// Header length in bytes (a multiple of 8).
    pub len: usize,
}

/// Chooses the compression for `hops` under the destination `first`. Address i is expanded by
/// the router whose address is the destination at that point (`first` for address 1, then
/// address i − 1), so it may elide only the bytes it shares with that address; tshark and
/// smoltcp expand every address against the destination the packet carries, so the bytes
/// shared with `first` bound them too. `None` when `hops` is empty or longer than
/// [`MAX_ADDRESSES`].
pub fn layout(first: &Ipv6Addr, hops: &[Ipv6Addr]) -> Option<Layout> {
    let (last, middle) = hops.split_last()?;
    if hops.len() > MAX_ADDRESSES {
        return None;
    }
    let mut cmpr_i = 15u8;
    let mut prev = first;
    for a in middle {
        cmpr_i = cmpr_i.min(common(a, first)).min(common(a, prev));
        prev = a;
    }
    let cmpr_e = common(last, first).min(common(last, prev));
    if middle.is_empty() {
        // No address uses CmprI: RFC 6554 leaves it free; the same as CmprE.
        cmpr_i = cmpr_e;
    }
    let body = middle.len() * (16 - usize::from(cmpr_i)) + 16 - usize::from(cmpr_e);
    let pad = (8 - body % 8) % 8;
    Some(Layout {
        cmpr_i,
        cmpr_e,
        pad: pad as u8,
        len: 8 + body + pad,
    })
}

/// Writes the Source Routing Header for `hops` under the destination `first` (see
/// [`layout`]) with `next_header`, Segments Left = `hops.len()`, into `buf`; returns its
/// length.
pub fn build(
    first: &Ipv6Addr,
    hops: &[Ipv6Addr],
    next_header: u8,
    buf: &mut [u8],
) -> Result<usize> {
    let l = layout(first, hops).ok_or(Error::Malformed)?;
    let out = buf.get_mut(..l.len).ok_or(Error::Truncated)?;
    out.fill(0);
    let segs = u8::try_from(hops.len()).map_err(|_| Error::Malformed)?;
    let ext = u8::try_from(l.len / 8 - 1).map_err(|_| Error::Malformed)?;
    let head = [
        next_header,
        ext,
        ROUTING_TYPE,
        segs,
        (l.cmpr_i << 4) | l.cmpr_e,
        l.pad << 4,
        0,
        0,
    ];
    out.get_mut(..8)
        .ok_or(Error::Truncated)?
        .copy_from_slice(&head);
    let mut at = 8;
    let n = hops.len();
    for (k, a) in hops.iter().enumerate() {
        let cmpr = usize::from(if k + 1 == n { l.cmpr_e } else { l.cmpr_i });
        let o = a.octets();
        let part = o.get(cmpr..).ok_or(Error::Malformed)?;
        out.get_mut(at..at + part.len())
            .ok_or(Error::Truncated)?
            .copy_from_slice(part);
        at += part.len();
    }
    Ok(l.len)
}

/// What a router does with a Source Routing Header (RFC 6554 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Segments Left is 0: go on with the next header (the packet is for this node).
    Done,
    /// Forward to `next` (the new IPv6 destination): write it to the destination field, the
    /// old destination in place of address `i` (see [`swap`]), and Segments Left − 1.
    Forward {
        /// The new destination (address `i` expanded).
        next: Ipv6Addr,
        /// The 1-based index of that address in the header.
        i: usize,
    },
    /// Drop and send ICMPv6 Parameter Problem code 0 with this pointer (from the start of
    /// the routing header).
    ParameterProblem(u32),
    /// Drop silently (a multicast address in the header or as destination).
    Drop,
}

/// RFC 6554 §4.2 at a router whose destination address `dst` the packet carries. `is_mine`
/// says whether an address belongs to this router (to catch a loop: one of its addresses
/// appearing in the header separated from the next hop by another address).
pub fn process(h: &Srh<'_>, dst: &Ipv6Addr, is_mine: impl Fn(&Ipv6Addr) -> bool) -> Step {
    if h.segments_left == 0 {
        return Step::Done;
    }
    let segs = usize::from(h.segments_left);
    if segs > h.n {
        // The pointer names Segments Left.
        return Step::ParameterProblem(3);
    }
    let i = h.n - segs + 1;
    let Some(next) = h.address(i, dst) else {
        return Step::ParameterProblem(3);
    };
    if next.is_multicast() || dst.is_multicast() {
        return Step::Drop;
    }
    // A loop: an address of ours appears in the rest of the route, not adjacent to us.
    for k in (i + 1)..=h.n {
        if let Some(a) = h.address(k, dst)
            && is_mine(&a)
        {
            return Step::ParameterProblem(4);
        }
    }
    Step::Forward { next, i }
}

/// Rewrites the header bytes `b` for [`Step::Forward`]: address `i` becomes `old_dst`
/// (compressed as address `i` is) and Segments Left decreases. The caller writes the new
/// destination into the IPv6 header. Fails when `old_dst` does not share the elided prefix
/// of address `i` with the new destination, which RFC 6554 §4.2 answers with a Parameter
/// Problem.
pub fn swap(b: &mut [u8], i: usize, old_dst: &Ipv6Addr, next: &Ipv6Addr) -> Result<()> {
    let h = Srh::parse(b)?;
    if i == 0 || i > h.n {
        return Err(Error::Malformed);
    }
    let cmpr = usize::from(if i == h.n { h.cmpr_e } else { h.cmpr_i });
    if old_dst.octets().get(..cmpr) != next.octets().get(..cmpr) {
        return Err(Error::Malformed);
    }
    let per = 16 - usize::from(h.cmpr_i);
    let start = 8 + (i - 1) * per;
    let part = old_dst.octets();
    let part = part.get(cmpr..).ok_or(Error::Malformed)?;
    b.get_mut(start..start + part.len())
        .ok_or(Error::Truncated)?
        .copy_from_slice(part);
    let sl = b.get_mut(3).ok_or(Error::Truncated)?;
    *sl = sl.saturating_sub(1);
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap_or(Ipv6Addr::UNSPECIFIED)
    }

    #[test]
    fn a_mesh_path_elides_the_shared_prefix() {
        let first = a("2001:db8:1::212:4b00:0:1");
        let hops = [a("2001:db8:1::212:4b00:0:2"), a("2001:db8:1::212:4b00:0:3")];
        let l = layout(&first, &hops).unwrap_or(Layout {
            cmpr_i: 0,
            cmpr_e: 0,
            pad: 0,
            len: 0,
        });
        // The three share 15 bytes: 1 byte per address, 2 bytes + 6 of padding.
        assert_eq!(
            l,
            Layout {
                cmpr_i: 15,
                cmpr_e: 15,
                pad: 6,
                len: 16
            }
        );
        let mut buf = [0u8; 64];
        let n = build(&first, &hops, 41, &mut buf).unwrap_or(0);
        assert_eq!(
            &buf[..n],
            &[41, 1, 3, 2, 0xff, 0x60, 0, 0, 2, 3, 0, 0, 0, 0, 0, 0]
        );
        let h = Srh::parse(&buf[..n]).unwrap();
        assert_eq!(h.n, 2);
        assert_eq!(h.address(1, &first), Some(hops[0]));
        assert_eq!(h.address(2, &first), Some(hops[1]));
    }

    #[test]
    fn addresses_are_compressed_only_as_far_as_each_hop_shares_them() {
        // The second hop differs from the first hop in byte 9 (an IID from another OUI).
        let first = a("2001:db8:1::212:4b00:0:1");
        let hops = [a("2001:db8:1::9999:0:0:2"), a("2001:db8:1::212:4b00:0:3")];
        let l = layout(&first, &hops).unwrap();
        assert_eq!((l.cmpr_i, l.cmpr_e), (8, 8), "{l:?}");
        // A single address: CmprI = CmprE.
        let l = layout(&first, &hops[1..]).unwrap();
        assert_eq!((l.cmpr_i, l.cmpr_e, l.len), (15, 15, 16));
    }

    #[test]
    fn bad_lengths_are_refused() {
        // CmprI 8, CmprE 8, Pad 0: 8 bytes of addresses = one address; 12 would not divide.
        let mut h = [41u8, 1, 3, 1, 0x88, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(Srh::parse(&h).map(|s| s.n), Ok(1));
        h[5] = 0x40; // Pad 4: 4 bytes for an 8-byte last address
        assert_eq!(Srh::parse(&h), Err(Error::Malformed));
        h[5] = 0;
        h[2] = 2; // another routing type
        assert_eq!(Srh::parse(&h), Err(Error::Malformed));
        h[2] = 3;
        assert_eq!(Srh::parse(&h[..12]), Err(Error::Truncated));
        h[1] = 3; // says 32 bytes
        assert_eq!(Srh::parse(&h), Err(Error::Truncated));
    }

    #[test]
    fn processing_walks_the_route_and_stops_loops() {
        let r1 = a("2001:db8:1::1");
        let hops = [a("2001:db8:1::2"), a("2001:db8:1::3"), a("2001:db8:1::4")];
        let mut buf = [0u8; 64];
        let n = build(&r1, &hops, 17, &mut buf).unwrap_or(0);
        let mut dst = r1;
        let mut visited = Vec::new();
        loop {
            let h = Srh::parse(&buf[..n]).unwrap();
            match process(&h, &dst, |x| *x == dst) {
                Step::Done => break,
                Step::Forward { next, i } => {
                    swap(&mut buf[..n], i, &dst, &next).unwrap();
                    dst = next;
                    visited.push(next);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(visited, hops);
        // The header now lists the route backwards (RFC 6554 §4.2's swap).
        let h = Srh::parse(&buf[..n]).unwrap();
        assert_eq!(h.segments_left, 0);
        assert_eq!(h.address(1, &dst), Some(r1));
        // A loop: the router at hop 1 appears again at hop 3.
        let looped = [a("2001:db8:1::2"), a("2001:db8:1::3"), a("2001:db8:1::1")];
        let n = build(&r1, &looped, 17, &mut buf).unwrap_or(0);
        let h = Srh::parse(&buf[..n]).unwrap();
        let r2 = looped[0];
        assert_eq!(
            process(&h, &r1, |x| *x == r1 || *x == r2),
            Step::ParameterProblem(4)
        );
        // Segments Left beyond n.
        buf[3] = 9;
        let h = Srh::parse(&buf[..n]).unwrap();
        assert_eq!(process(&h, &r1, |_| false), Step::ParameterProblem(3));
    }
}
