//! The ND options the 6LBR reads and writes: [`parse_opts`] and the link-layer address
//! option.

use core::net::Ipv6Addr;

use l2_15_4::Address;
use netif::icmp::nd::{OPT_ARO, OPT_SLLAO};
use sixlo::nd::AroRepr;

#[cfg(feature = "address-protection")]
use super::ap;

/// A parsed ND option set (only what the 6LBR uses).
#[derive(Default)]
pub(super) struct Opts<'a> {
    pub(super) sllao: Option<Address>,
    pub(super) aro: Option<AroRepr>,
    #[cfg(feature = "address-protection")]
    pub(super) proof: ap::ProofOpts<'a>,
    #[cfg(not(feature = "address-protection"))]
    pub(super) proof: core::marker::PhantomData<&'a ()>,
}

/// The options of an ND message; `None` when one is malformed (a zero or overlong length, an
/// SLLAO, ARO or, with address protection, CIPO, NDPSO or Nonce option that does not parse).
pub(super) fn parse_opts(mut o: &[u8]) -> Option<Opts<'_>> {
    let mut out = Opts::default();
    while !o.is_empty() {
        let ty = *o.first()?;
        let len = usize::from(*o.get(1)?) * 8;
        if len == 0 {
            return None;
        }
        let opt = o.get(..len)?;
        match ty {
            OPT_SLLAO => {
                out.sllao = match opt.get(2..) {
                    // 802.15.4 SLLAO (RFC 4944 §8): 8-byte EUI-64 in a 16-byte option, or a
                    // 2-byte short address in an 8-byte option.
                    Some(b) if len == 16 => {
                        <[u8; 8]>::try_from(b.get(..8)?).ok().map(Address::Extended)
                    }
                    Some([a, b, ..]) if len == 8 => {
                        Some(Address::Short(u16::from_be_bytes([*a, *b])))
                    }
                    _ => return None,
                };
            }
            OPT_ARO => out.aro = Some(AroRepr::parse(opt).ok()?),
            #[cfg(feature = "address-protection")]
            sixlo::nd::OPT_CIPO => out.proof.cipo = Some(sixlo::nd::CipoRepr::parse(opt).ok()?),
            #[cfg(feature = "address-protection")]
            sixlo::nd::OPT_NDPSO => out.proof.ndpso = Some(sixlo::nd::NdpsoRepr::parse(opt).ok()?),
            #[cfg(feature = "address-protection")]
            sixlo::nd::OPT_NONCE => out.proof.nonce = Some(sixlo::nd::NonceRepr::parse(opt).ok()?),
            _ => {}
        }
        o = o.get(len..)?;
    }
    Some(out)
}

pub(super) fn addr16(b: &[u8]) -> Option<Ipv6Addr> {
    Some(Ipv6Addr::from(<[u8; 16]>::try_from(b.get(..16)?).ok()?))
}

/// Link-layer address option bytes for `a` (RFC 4944 §8), `ty` = SLLAO or TLLAO.
pub(super) fn lla_option(ty: u8, a: &Address) -> ([u8; 16], usize) {
    let mut o = [0u8; 16];
    o[0] = ty;
    match a {
        Address::Extended(e) => {
            o[1] = 2;
            o[2..10].copy_from_slice(e);
            (o, 16)
        }
        Address::Short(s) => {
            o[1] = 1;
            o[2..4].copy_from_slice(&s.to_be_bytes());
            (o, 8)
        }
    }
}
