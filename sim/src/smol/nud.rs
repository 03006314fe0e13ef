//! The default router's reachability, for the smoltcp leaves: the host side of neighbour
//! unreachability detection (RFC 4861 §7.3, which every IPv6 node must do) and of router
//! solicitation retransmission (RFC 7559), neither of which smoltcp 0.14 has. Without them a
//! leaf keeps a dead router as its default route for the whole router lifetime of its last
//! RA (1800 s from our routers) and never asks for another: when a router dies its leaves are
//! cut off for half an hour.
//!
//! What counts (RFC 4861 §7.3.1 allows link-layer hints as reachability confirmation):
//! - confirmed: a unicast frame to the router acknowledged by it, or any frame from it (with
//!   link-layer security on, only frames that passed it: [`crate::mac_node::MacPort`] passes
//!   nothing else up, so a node without the key cannot keep a dead router alive by sending
//!   from its address; an Imm-ACK, which the standard leaves unsecured, still counts);
//! - unreachable: [`MAX_NO_ACKS`] unicast frames in a row to the router that ended without ACK
//!   (each after all the MAC's retries), or [`SILENCE`] without a confirmation while at least
//!   [`SILENT_FRAMES`] frames that needed the router went out (after smoltcp's neighbour
//!   cache entry for the router lapses it sends multicast neighbour solicitations for it,
//!   which no ACK answers: that is when the silence rule decides).
//!
//! An unreachable router is withdrawn from smoltcp the only way smoltcp offers: an RA from it
//! with router lifetime 0 ([`withdrawal`]), handed to smoltcp in the node and never sent on
//! the air, which expires the route in smoltcp's SLAAC state (removing the route from
//! `Interface::routes_mut` alone would be undone by SLAAC's next sync). Then the host
//! solicits ([`solicitation`]): at once, then after [`RS_INTERVAL`], doubling up to
//! [`MAX_RS_INTERVAL`], until it has a default router again. A host that has had no default
//! router for [`NO_ROUTER_GRACE`] (smoltcp's own three solicitations at start are spent)
//! solicits the same way.

use std::net::Ipv6Addr;

use l2_15_4::{Address, PanId};
use netif::time::{Duration, Instant};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    HardwareAddress, Icmpv6Packet, Icmpv6Repr, Ieee802154Address, Ieee802154Frame,
    Ieee802154FrameType, Ieee802154FrameVersion, Ieee802154Pan, Ieee802154Repr, IpProtocol,
    NdiscRepr, NdiscRouterFlags, SixlowpanIphcPacket, SixlowpanIphcRepr, SixlowpanNextHeader,
};

/// Unicast frames in a row to the router that ended without ACK, after which it is
/// unreachable.
pub const MAX_NO_ACKS: u8 = 2;
/// This long without a confirmation from the router ...
pub const SILENCE: Duration = Duration::from_secs(30);
/// ... while at least this many frames that needed it went out makes it unreachable.
pub const SILENT_FRAMES: u32 = 3;
/// The first retransmission of a router solicitation (RFC 4861 §10
/// RTR_SOLICITATION_INTERVAL); later ones double (RFC 7559) ...
pub const RS_INTERVAL: Duration = Duration::from_secs(4);
/// ... up to this.
pub const MAX_RS_INTERVAL: Duration = Duration::from_secs(60);
/// Without a default router this long, the host solicits.
pub const NO_ROUTER_GRACE: Duration = Duration::from_secs(15);

/// The link-layer address behind a link-local address whose interface identifier was formed
/// from it (RFC 4944 §6: an EUI-64 with the U/L bit inverted, or `0000:00ff:fe00:XXXX` for a
/// short address). `None`: not such an address.
pub fn link_layer_of(ll: Ipv6Addr) -> Option<Address> {
    if !ll.is_unicast_link_local() {
        return None;
    }
    let o = ll.octets();
    Some(Address::from_iid([
        o[8], o[9], o[10], o[11], o[12], o[13], o[14], o[15],
    ]))
}

/// The router being watched.
#[derive(Debug, Clone, Copy)]
struct Watched {
    ip: Ipv6Addr,
    ll: Address,
    confirmed: Instant,
    no_acks: u8,
    frames: u32,
}

/// Reachability of the default router smoltcp uses, and the solicitation schedule.
#[derive(Debug, Clone)]
pub struct RouterWatch {
    router: Option<Watched>,
    no_router_since: Option<Instant>,
    next_rs: Option<Instant>,
    /// The wait after the next solicitation.
    rs_interval: Duration,
}

impl Default for RouterWatch {
    fn default() -> Self {
        RouterWatch {
            router: None,
            no_router_since: None,
            next_rs: None,
            rs_interval: RS_INTERVAL,
        }
    }
}

impl RouterWatch {
    /// The default router smoltcp routes through now (`None`: it has none).
    pub fn track(&mut self, now: Instant, router: Option<Ipv6Addr>) {
        match router {
            Some(ip) => {
                self.no_router_since = None;
                self.next_rs = None;
                self.rs_interval = RS_INTERVAL;
                if self.router.is_some_and(|w| w.ip == ip) {
                    return;
                }
                // A router whose link-layer address we cannot tell is not watched.
                self.router = link_layer_of(ip).map(|ll| Watched {
                    ip,
                    ll,
                    confirmed: now,
                    no_acks: 0,
                    frames: 0,
                });
            }
            None => {
                self.router = None;
                self.no_router_since.get_or_insert(now);
            }
        }
    }

    /// A frame went to the MAC for `dst`.
    pub fn frame_out(&mut self, dst: Address) {
        if let Some(w) = &mut self.router
            && (dst == w.ll || dst == Address::BROADCAST)
        {
            w.frames = w.frames.saturating_add(1);
        }
    }

    /// The MAC finished a unicast frame to `dst`: acknowledged or not.
    pub fn tx_outcome(&mut self, now: Instant, dst: Address, acked: bool) {
        if let Some(w) = &mut self.router
            && dst == w.ll
        {
            if acked {
                w.confirmed = now;
                w.no_acks = 0;
                w.frames = 0;
            } else {
                w.no_acks = w.no_acks.saturating_add(1);
            }
        }
    }

    /// A frame arrived from `src`.
    pub fn heard(&mut self, now: Instant, src: Address) {
        if let Some(w) = &mut self.router
            && src == w.ll
        {
            w.confirmed = now;
            w.no_acks = 0;
            w.frames = 0;
        }
    }

    /// The router, if it has just become unreachable (it is forgotten, and soliciting
    /// starts at once).
    pub fn unreachable(&mut self, now: Instant) -> Option<Ipv6Addr> {
        let w = self.router?;
        let silent = now.saturating_since(w.confirmed) >= SILENCE && w.frames >= SILENT_FRAMES;
        if w.no_acks < MAX_NO_ACKS && !silent {
            return None;
        }
        self.router = None;
        self.no_router_since = Some(now);
        self.next_rs = Some(now);
        self.rs_interval = RS_INTERVAL;
        Some(w.ip)
    }

    /// Whether a router solicitation is due now (the schedule then moves on).
    pub fn solicit(&mut self, now: Instant) -> bool {
        if self.router.is_some() {
            return false;
        }
        let Some(since) = self.no_router_since else {
            return false;
        };
        let due = *self.next_rs.get_or_insert(since + NO_ROUTER_GRACE);
        if now < due {
            return false;
        }
        self.next_rs = Some(now + self.rs_interval);
        self.rs_interval = Duration::from_micros(
            (self.rs_interval.as_micros() * 2).min(MAX_RS_INTERVAL.as_micros()),
        );
        true
    }

    /// When [`RouterWatch::unreachable`] or [`RouterWatch::solicit`] may next say yes.
    pub fn next_wake(&self) -> Option<Instant> {
        match (&self.router, self.no_router_since) {
            (Some(w), _) if w.frames >= SILENT_FRAMES => Some(w.confirmed + SILENCE),
            (Some(_), _) => None,
            (None, Some(since)) => Some(self.next_rs.unwrap_or(since + NO_ROUTER_GRACE)),
            (None, None) => None,
        }
    }
}

fn smol_ll(a: Address) -> Ieee802154Address {
    match a {
        Address::Short(s) => Ieee802154Address::Short(s.to_be_bytes()),
        Address::Extended(e) => Ieee802154Address::Extended(e),
    }
}

/// An 802.15.4 data frame (no FCS, no ACK request) carrying an ICMPv6 message in IPHC.
fn frame(
    pan: PanId,
    (src_ll, src): (Address, Ipv6Addr),
    (dst_ll, dst): (Address, Ipv6Addr),
    icmp: &Icmpv6Repr<'_>,
) -> Vec<u8> {
    let (ll_src, ll_dst) = (smol_ll(src_ll), smol_ll(dst_ll));
    let mac = Ieee802154Repr {
        frame_type: Ieee802154FrameType::Data,
        security_enabled: false,
        frame_pending: false,
        ack_request: false,
        sequence_number: Some(0),
        pan_id_compression: true,
        frame_version: Ieee802154FrameVersion::Ieee802154_2006,
        dst_pan_id: Some(Ieee802154Pan(pan.0)),
        dst_addr: Some(ll_dst),
        src_pan_id: None,
        src_addr: Some(ll_src),
    };
    let iphc = SixlowpanIphcRepr {
        src_addr: src,
        ll_src_addr: Some(ll_src),
        dst_addr: dst,
        ll_dst_addr: Some(ll_dst),
        next_header: SixlowpanNextHeader::Uncompressed(IpProtocol::Icmpv6),
        hop_limit: 255,
        ecn: None,
        dscp: None,
        flow_label: None,
    };
    let (m, h, i) = (mac.buffer_len(), iphc.buffer_len(), icmp.buffer_len());
    let mut buf = vec![0u8; m + h + i];
    let (mac_buf, rest) = buf.split_at_mut(m);
    mac.emit(&mut Ieee802154Frame::new_unchecked(mac_buf));
    let (iphc_buf, icmp_buf) = rest.split_at_mut(h);
    iphc.emit(&mut SixlowpanIphcPacket::new_unchecked(iphc_buf));
    icmp.emit(
        &src,
        &dst,
        &mut Icmpv6Packet::new_unchecked(icmp_buf),
        &ChecksumCapabilities::default(),
    );
    buf
}

/// The router solicitation a host with EUI-64 `eui` and link-local `ll` sends (to
/// all-routers, with its link-layer address), as the MPDU smoltcp would hand the MAC.
pub fn solicitation(pan: PanId, eui: [u8; 8], ll: Ipv6Addr) -> Vec<u8> {
    let rs = Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit {
        lladdr: Some(HardwareAddress::Ieee802154(Ieee802154Address::Extended(eui)).into()),
    });
    let all_routers = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
    frame(
        pan,
        (Address::Extended(eui), ll),
        (Address::BROADCAST, all_routers),
        &rs,
    )
}

/// An RA from `router` (link-local) with router lifetime 0 to the host (`eui`, `ll`): what
/// makes smoltcp drop that router from its default routes.
pub fn withdrawal(pan: PanId, router: Ipv6Addr, eui: [u8; 8], ll: Ipv6Addr) -> Option<Vec<u8>> {
    let ra = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
        hop_limit: 0,
        flags: NdiscRouterFlags::empty(),
        router_lifetime: smoltcp::time::Duration::ZERO,
        reachable_time: smoltcp::time::Duration::ZERO,
        retrans_time: smoltcp::time::Duration::ZERO,
        lladdr: None,
        mtu: None,
        prefix_info: None,
    });
    Some(frame(
        pan,
        (link_layer_of(router)?, router),
        (Address::Extended(eui), ll),
        &ra,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::ZERO + Duration::from_millis(ms)
    }

    const R: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x0200, 0, 0, 0x0007);
    const R_LL: Address = Address::Extended([0, 0, 0, 0, 0, 0, 0, 7]);

    #[test]
    fn link_layer_addresses_come_from_the_interface_identifier() {
        assert_eq!(link_layer_of(R), Some(R_LL));
        let short = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0x1234);
        assert_eq!(link_layer_of(short), Some(Address::Short(0x1234)));
        assert_eq!(link_layer_of("2001:db8::1".parse().unwrap()), None);
    }

    #[test]
    fn two_unacknowledged_frames_in_a_row_make_the_router_unreachable() {
        let mut w = RouterWatch::default();
        w.track(at(0), Some(R));
        w.tx_outcome(at(1), R_LL, false);
        assert_eq!(w.unreachable(at(1)), None);
        w.tx_outcome(at(2), R_LL, true);
        w.tx_outcome(at(3), R_LL, false);
        assert_eq!(
            w.unreachable(at(3)),
            None,
            "an ACK in between resets the count"
        );
        w.tx_outcome(at(4), Address::Extended([9; 8]), false);
        w.tx_outcome(at(5), R_LL, false);
        assert_eq!(w.unreachable(at(5)), Some(R));
        assert!(w.solicit(at(5)), "soliciting starts at once");
        assert!(!w.solicit(at(6)));
        assert!(w.solicit(at(5 + 4000)));
        assert!(!w.solicit(at(5 + 4000 + 7999)));
        assert!(w.solicit(at(5 + 4000 + 8000)), "the interval doubles");
    }

    #[test]
    fn silence_while_frames_need_the_router_makes_it_unreachable() {
        let mut w = RouterWatch::default();
        w.track(at(0), Some(R));
        for k in 0..3 {
            w.frame_out(Address::BROADCAST);
            assert_eq!(w.unreachable(at(10_000 * k)), None);
        }
        assert_eq!(w.next_wake(), Some(at(30_000)));
        assert_eq!(w.unreachable(at(29_999)), None);
        w.heard(at(29_999), R_LL);
        assert_eq!(
            w.unreachable(at(30_000)),
            None,
            "a frame from it confirms it"
        );
        assert_eq!(w.next_wake(), None, "nothing sent since");
        w.frame_out(Address::BROADCAST);
        w.frame_out(R_LL);
        w.frame_out(Address::Extended([9; 8]));
        assert_eq!(w.unreachable(at(60_000)), None, "only two frames needed it");
        w.frame_out(R_LL);
        assert_eq!(w.next_wake(), Some(at(59_999)));
        assert_eq!(w.unreachable(at(59_998)), None);
        assert_eq!(w.unreachable(at(59_999)), Some(R));
    }

    #[test]
    fn a_host_without_a_router_solicits_after_the_grace() {
        let mut w = RouterWatch::default();
        w.track(at(0), None);
        assert!(!w.solicit(at(14_999)));
        assert!(w.solicit(at(15_000)));
        assert!(!w.solicit(at(15_000)), "once");
        assert!(w.solicit(at(19_000)));
        w.track(at(15_500), Some(R));
        assert!(!w.solicit(at(60_000)), "a router again: no more");
    }

    #[test]
    fn the_frames_are_what_smoltcp_reads() {
        let pan = PanId(0xabcd);
        let eui = [0x02, 0, 0, 0, 0, 0, 0, 9];
        let ll: Ipv6Addr = "fe80::9".parse().unwrap();
        for (f, src_ll) in [
            (solicitation(pan, eui, ll), Ieee802154Address::Extended(eui)),
            (withdrawal(pan, R, eui, ll).unwrap(), smol_ll(R_LL)),
        ] {
            let mac = Ieee802154Frame::new_checked(&f[..]).unwrap();
            let repr = Ieee802154Repr::parse(&mac).unwrap();
            assert_eq!(repr.src_addr, Some(src_ll));
            let iphc = SixlowpanIphcPacket::new_checked(mac.payload().unwrap()).unwrap();
            let r = SixlowpanIphcRepr::parse(&iphc, repr.src_addr, repr.dst_addr, &[]).unwrap();
            let icmp = Icmpv6Packet::new_checked(iphc.payload()).unwrap();
            let parsed = Icmpv6Repr::parse(
                &r.src_addr,
                &r.dst_addr,
                &icmp,
                &ChecksumCapabilities::default(),
            )
            .unwrap();
            match parsed {
                Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit { lladdr }) => {
                    assert_eq!(r.dst_addr, Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2));
                    assert!(lladdr.is_some());
                }
                Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
                    router_lifetime, ..
                }) => {
                    assert_eq!(r.src_addr, R);
                    assert_eq!(router_lifetime, smoltcp::time::Duration::ZERO);
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
