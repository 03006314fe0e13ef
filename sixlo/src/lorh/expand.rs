//! Page 1 → IPv6 headers: the 6LoRHs after the Paging Dispatch become the headers they stand
//! for, then the IPHC header (and its NHC chain) is expanded as on page 0.
//!
//! With an IP-in-IP-6LoRH the output is an encapsulating IPv6 header, a hop-by-hop header with
//! the RPL Option (from the RPI-6LoRH), a type-3 Routing Header (from the SRH-6LoRHs), then the
//! encapsulated packet:
//! - source: the encapsulator (coalesced with the DODAG root, or the root when elided);
//! - destination: the first SRH-6LoRH address, or the DODAG root without SRH-6LoRH (a tunnel
//!   up to the root, RFC 9008);
//! - traffic class and flow label 0, the hop limit of the IP-in-IP-6LoRH, the payload length
//!   filled by [`HeaderFixups`](crate::HeaderFixups) like every IPv6 header;
//! - the Routing Header holds the other SRH-6LoRH addresses with Segments Left = their
//!   number and CmprI/CmprE chosen as `rpl::srh::layout` chooses them (the bytes each address
//!   shares with the destination and with the address before it, at most 15). A single
//!   SRH-6LoRH address gives no Routing Header.
//!
//! Without an IP-in-IP-6LoRH an RPI-6LoRH becomes a hop-by-hop header right after the IPv6
//! header of the IPHC packet; an SRH-6LoRH there is refused ([`LorhError::Unsupported`]).

use super::{AddrSize, LorhError, MAX_6LORH, MAX_SRH_6LORH, Packet, Repr, Rpi, coalesce, is_6lorh};
use crate::IPV6_HEADER_LEN;
use crate::context::ContextTable;
use crate::decompress::{DecompressError, State, ipv6, push_ipv6, put};
use crate::link::LinkAddr;
use crate::nhc::proto;

/// Called with each SRH-6LoRH address (its index, expanded); one copy of the walk serves both
/// passes.
type Visit<'v> = dyn FnMut(usize, &[u8; 16]) -> Result<(), DecompressError> + 'v;

/// The 6LoRHs of one packet, read before anything is written (the IP-in-IP-6LoRH that gives
/// the reference of the SRH-6LoRH addresses comes after them).
#[derive(Default)]
struct Chain<'a> {
    srh: [(u8, &'a [u8]); MAX_SRH_6LORH],
    n_srh: usize,
    rpi: Option<Rpi>,
    tunnel: Option<(u8, &'a [u8])>,
}

impl Chain<'_> {
    /// Every SRH-6LoRH address in order, expanded: the first against `src`, each next one
    /// against the one before.
    fn addresses(&self, src: &[u8; 16], f: &mut Visit<'_>) -> Result<usize, DecompressError> {
        let mut reference = *src;
        let mut i = 0;
        for (t, addrs) in self.srh.iter().take(self.n_srh) {
            let size = AddrSize::from_type(*t).ok_or(LorhError::BadLength)?;
            for c in addrs.chunks_exact(size.bytes()) {
                reference = coalesce(&reference, c).ok_or(LorhError::BadLength)?;
                f(i, &reference)?;
                i += 1;
            }
        }
        Ok(i)
    }
}

/// Leading bytes `a` and `b` share, at most 15 (a CmprI/CmprE value).
fn common(a: &[u8; 16], b: &[u8; 16]) -> u8 {
    a.iter().zip(b).take(15).take_while(|(x, y)| x == y).count() as u8
}

/// Expand a page-1 packet at the reader's position (the Paging Dispatch).
pub(crate) fn page1(
    st: &mut State<'_, '_>,
    ll_src: &LinkAddr,
    ll_dst: &LinkAddr,
    ctx: &ContextTable,
) -> Result<(), DecompressError> {
    st.r.take(1).ok_or(DecompressError::Truncated)?;
    let mut c = Chain::default();
    let mut count = 0;
    let mut last_srh = false;
    while st.r.peek().is_some_and(is_6lorh) {
        count += 1;
        if count > MAX_6LORH {
            return Err(LorhError::TooMany.into());
        }
        let p = Packet::new_checked(st.r.rest())?;
        let repr = Repr::parse(&p)?;
        st.r.take(p.header_len()?)
            .ok_or(DecompressError::Truncated)?;
        let srh = matches!(repr, Repr::Srh { .. });
        match repr {
            Repr::Srh { size, addrs } => {
                if c.n_srh > 0 && !last_srh {
                    return Err(LorhError::Duplicate.into());
                }
                let slot = c.srh.get_mut(c.n_srh).ok_or(LorhError::TooMany)?;
                *slot = (size.lorh_type(), addrs);
                c.n_srh += 1;
            }
            Repr::Rpi(r) => {
                if c.rpi.replace(r).is_some() {
                    return Err(LorhError::Duplicate.into());
                }
            }
            Repr::IpInIp {
                hop_limit,
                encapsulator,
            } => {
                if c.tunnel.replace((hop_limit, encapsulator)).is_some() {
                    return Err(LorhError::Duplicate.into());
                }
            }
            Repr::Elective { .. } => {}
        }
        last_srh = srh;
    }
    let Some((hop_limit, encap)) = c.tunnel else {
        if c.n_srh > 0 {
            return Err(LorhError::Unsupported.into());
        }
        st.hbh = c.rpi.map(|r| r.hop_by_hop(0));
        return ipv6(st, ll_src, ll_dst, ctx);
    };
    let root = ctx.rpl_root();
    let src = match (encap.len(), root) {
        (16, _) => coalesce(&[0; 16], encap).ok_or(LorhError::BadLength)?,
        (_, Some(root)) => coalesce(root, encap).ok_or(LorhError::BadLength)?,
        (_, None) => return Err(LorhError::MissingRoot.into()),
    };
    // First pass: the destination, the number of Routing Header addresses and their CmprI
    // and CmprE, as rpl::srh::layout chooses them.
    let mut dst = [0u8; 16];
    let (mut prev, mut cmpr_i, mut pending) = ([0u8; 16], 15u8, None::<u8>);
    let n = c.addresses(&src, &mut |i, a| {
        if i == 0 {
            dst = *a;
        } else {
            if let Some(p) = pending {
                cmpr_i = cmpr_i.min(p);
            }
            pending = Some(common(a, &dst).min(common(a, &prev)));
        }
        prev = *a;
        Ok(())
    })?;
    if n == 0 {
        dst = *root.ok_or(LorhError::MissingRoot)?;
    }
    let hops = n.saturating_sub(1);
    let cmpr_e = pending.unwrap_or(15);
    if hops == 1 {
        cmpr_i = cmpr_e;
    }
    let after_hbh = if hops > 0 {
        proto::ROUTING
    } else {
        proto::IPV6
    };
    let nh = if c.rpi.is_some() {
        proto::HOP_BY_HOP
    } else {
        after_hbh
    };
    let at = st.w.pos();
    push_ipv6(st, at)?;
    put(&mut st.w, &[0x60, 0, 0, 0, 0, 0, nh, hop_limit])?;
    put(&mut st.w, &src)?;
    put(&mut st.w, &dst)?;
    if let Some(r) = c.rpi {
        put(&mut st.w, &r.hop_by_hop(after_hbh))?;
    }
    if hops > 0 {
        let (ci, ce) = (usize::from(cmpr_i), usize::from(cmpr_e));
        let body = (hops - 1) * (16 - ci) + 16 - ce;
        let pad = (8 - body % 8) % 8;
        let ext = u8::try_from((8 + body + pad) / 8 - 1).map_err(|_| LorhError::BadLength)?;
        let segs = u8::try_from(hops).map_err(|_| LorhError::BadLength)?;
        put(
            &mut st.w,
            &[
                proto::IPV6,
                ext,
                3,
                segs,
                (cmpr_i << 4) | cmpr_e,
                (pad as u8) << 4,
                0,
                0,
            ],
        )?;
        let w = &mut st.w;
        c.addresses(&src, &mut |i, a| match i {
            0 => Ok(()),
            i if i == hops => put(w, a.get(ce..).unwrap_or(&[])),
            _ => put(w, a.get(ci..).unwrap_or(&[])),
        })?;
        put(w, [0u8; 8].get(..pad).unwrap_or(&[]))?;
    }
    debug_assert!(st.w.pos() >= at + IPV6_HEADER_LEN);
    ipv6(st, ll_src, ll_dst, ctx)
}
