//! What the 6LBR (and a mesh router's 6LR) sends: RAs with PIO, 6CO and ABRO, NAs answering
//! registrations, DACs answering DARs, through one ICMPv6 sender.

use super::*;

impl Lbr {
    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        ll: Address,
        write: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
        icmp_max: usize,
    ) -> bool {
        let Some(i) = self.iface else { return false };
        let pool = stack.pool_mut();
        let Some(h) = icmp::build_message(pool, &src, &dst, icmp::nd::HOP_LIMIT, icmp_max, write)
        else {
            self.stats.no_buffer += 1;
            return false;
        };
        if let Some(m) = stack.pool_mut().meta_mut(&h) {
            m.ll_dst = LinkAddr::from(ll);
        }
        if stack.send_on(now, i, dst, h).is_err() {
            self.stats.send_failed += 1;
            return false;
        }
        true
    }

    fn our_ll(stack: &Stack<'_>, i: IfIndex) -> Option<Ipv6Addr> {
        stack.iface(i).and_then(|x| x.link_local())
    }

    pub(super) fn send_ra(
        &mut self,
        stack: &mut Stack<'_>,
        wpan: &Wpan<'_>,
        cfg: &Config,
        now: Instant,
        to: Ipv6Addr,
        ll: Address,
    ) {
        let Some(i) = self.iface else { return };
        if self.six_lr && self.border.is_none() {
            return;
        }
        let Some(src) = Self::our_ll(stack, i) else {
            return;
        };
        let our = Address::Extended(wpan.mac().config().extended_address);
        let prefix = cfg.mesh_prefix_addr();
        let br = self
            .border
            .unwrap_or_else(|| netif::addr::with_iid(prefix, our_iid(cfg)));
        let ra = &cfg.ra;
        let mut write = |b: &mut [u8]| -> Option<usize> {
            let [l0, l1] = ra.router_lifetime_s.to_be_bytes();
            let ty = ROUTER_ADVERT;
            b.get_mut(..16)?
                .copy_from_slice(&[ty, 0, 0, 0, 64, 0, l0, l1, 0, 0, 0, 0, 0, 0, 0, 0]);
            let mut off = 16;
            let (o, n) = lla_option(OPT_SLLAO, &our);
            b.get_mut(off..off + n)?.copy_from_slice(o.get(..n)?);
            off += n;
            let pio = b.get_mut(off..off + 32)?;
            pio.fill(0);
            pio[0] = OPT_PREFIX_INFO;
            pio[1] = 4;
            pio[2] = 64;
            pio[3] = 0x40; // A=1, L=0
            pio[4..8].copy_from_slice(&ra.prefix_valid_s.to_be_bytes());
            pio[8..12].copy_from_slice(&ra.prefix_preferred_s.to_be_bytes());
            pio[16..32].copy_from_slice(&prefix.octets());
            off += 32;
            let co = SixCoRepr {
                context_len: 64,
                compress: true,
                cid: 0,
                lifetime: ra.context_lifetime_min,
                prefix: prefix.octets(),
            };
            off += co.emit(b.get_mut(off..)?).ok()?;
            let abro = AbroRepr {
                version: cfg.abro_version,
                lifetime: ra.abro_valid_lifetime_min,
                address: br.octets(),
            };
            off += abro.emit(b.get_mut(off..)?).ok()?;
            Some(off)
        };
        self.send(stack, now, src, to, ll, &mut write, 16 + 16 + 32 + 24 + 24);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_na(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        to: Ipv6Addr,
        ll: Address,
        target: Ipv6Addr,
        aro: Option<&AroRepr>,
        tllao: bool,
        extra: &[u8],
    ) {
        let Some(i) = self.iface else { return };
        // Our address on the link: the link-local one (the NA's source for registrations,
        // RFC 6775 §6.5.2), or the target itself when it is ours.
        let src = if stack.iface(i).is_some_and(|x| x.has_addr(&target)) {
            target
        } else {
            match Self::our_ll(stack, i) {
                Some(a) => a,
                None => return,
            }
        };
        let our = stack
            .iface(i)
            .and_then(|x| Address::try_from(x.ll_addr()).ok());
        let solicited = !to.is_multicast();
        let mut write = |b: &mut [u8]| -> Option<usize> {
            // R=1 (we route), S when answering a unicast solicitation, O=1.
            let flags = NA_ROUTER | if solicited { NA_SOLICITED } else { 0 } | NA_OVERRIDE;
            b.get_mut(..8)?
                .copy_from_slice(&[NEIGHBOR_ADVERT, 0, 0, 0, flags, 0, 0, 0]);
            b.get_mut(8..24)?.copy_from_slice(&target.octets());
            let mut off = 24;
            if tllao && let Some(our) = our {
                let (o, n) = lla_option(OPT_TLLAO, &our);
                b.get_mut(off..off + n)?.copy_from_slice(o.get(..n)?);
                off += n;
            }
            if let Some(a) = aro {
                off += a.emit(b.get_mut(off..)?).ok()?;
            }
            // A challenge's Nonce option (address protection only: no code without it).
            #[cfg(feature = "address-protection")]
            {
                let end = off.checked_add(extra.len())?;
                b.get_mut(off..end)?.copy_from_slice(extra);
                off = end;
            }
            Some(off)
        };
        #[cfg(not(feature = "address-protection"))]
        let max = {
            let _ = extra;
            24 + 16 + 40
        };
        #[cfg(feature = "address-protection")]
        let max = 24 + 16 + 40 + extra.len();
        if self.send(stack, now, src, to, ll, &mut write, max) {
            self.stats.tx_na += 1;
        }
    }

    pub(super) fn send_dac(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        to: Ipv6Addr,
        ll: Address,
        dac: &DaRepr,
    ) {
        let Some(i) = self.iface else { return };
        let mesh_src = stack.iface(i).and_then(|x| {
            x.addrs()
                .iter()
                .find(|a| !a.addr.is_unicast_link_local())
                .map(|a| a.addr)
        });
        let Some(src) = mesh_src.or_else(|| Self::our_ll(stack, i)) else {
            return;
        };
        let mut write = |b: &mut [u8]| dac.emit(b).ok();
        if self.send(stack, now, src, to, ll, &mut write, dac.buffer_len()) {
            self.stats.tx_dac += 1;
        }
    }
}
