//! The 6LoWPAN border router (6LBR) role on `wpan0` (RFC 6775, RFC 8505, RFC 4861).
//!
//! - **Router Solicitation** → a unicast Router Advertisement to the soliciting node (to
//!   all-nodes when it had no address), carrying SLLAO (our EUI-64), PIO (the mesh prefix,
//!   A=1, L=0: 6LoWPAN-ND hosts do not assume on-link prefixes, RFC 6775 §5.4), 6CO (context
//!   0 = the mesh prefix, C=1) and ABRO (version, lifetime, our mesh address).
//! - **Periodic multicast RAs**: [`MAX_INITIAL_RTR_ADVERTISEMENTS`] at most
//!   [`MAX_INITIAL_RTR_ADVERT_INTERVAL`] apart after start or a prefix change, then at a
//!   uniformly drawn interval in the configured `[min, max]`, never closer than
//!   [`MIN_DELAY_BETWEEN_RAS`] (10 s, RFC 6775 §9, which raises RFC 4861's 3 s).
//! - **Neighbor Solicitation with ARO/EARO** → the registration table: success, duplicate
//!   (another owner's ROVR), table full (status 2), topologically incorrect (an address
//!   outside the mesh prefix and not link-local, RFC 8505 status 8), removal (lifetime 0);
//!   answered with an NA carrying the ARO and the status, sent to the registrant's link-layer
//!   address from its SLLAO (so a duplicate is told even though its address is not ours to
//!   resolve). The Registered Address is the NS target (RFC 8505 §5.5), or its source when
//!   the target is ours (RFC 6775 hosts such as RIOT OS name the router there); the NA
//!   carries the NS's target either way. Lifetimes above the configured maximum are
//!   clamped and the NA says so.
//! - **Plain Neighbor Solicitation** for one of our `wpan0` addresses (hosts without
//!   6LoWPAN-ND resolving their router) → a solicited NA with TLLAO.
//! - **Duplicate Address Request** from a 6LR → the same registration logic, answered with
//!   a Duplicate Address Confirmation.
//!
//! Every message is validated (hop limit 255, code 0, length, option lengths, checksum) and
//! every rejection is counted in [`LbrStats`].
//!
//! Against hostile neighbours (no link-layer security): the registration rules of the
//! [`registry`](crate::registry) (an address in use is not given to another link-layer
//! address; stale TIDs are answered status 3, Moved), and here: the SLLAO of an NS+ARO must
//! be the frame's link-layer source (else dropped unanswered); registrations (NS+ARO, DAR) are
//! rate-limited per link-layer source ([`REG_RATE_BURST`], one more every
//! [`REG_RATE_REFILL_S`] s, [`REG_RATE_SOURCES`] sources tracked); one source holds at most
//! `Config::max_registrations_per_source` registrations (status 2 beyond).
//!
//! Address-Protected ND (RFC 8928; the `ap` module, in a build with the
//! `address-protection` feature), under `Config::address_protection`:
//! - **Off**: the EARO's C flag is ignored, the ROVR is opaque (the rules above alone);
//! - **Allow** (the default where the feature is built): an NS+EARO with the C flag is
//!   challenged — NA(EARO status 5, Validation Requested) with a Nonce option — when the
//!   registry says it needs a proof (first registration of the address with that Crypto-ID,
//!   another link-layer address, a deregistration); the node's next NS carries CIPO, Nonce and
//!   NDPSO; a valid proof registers (and protects) the address, a wrong one is answered status
//!   10 (Validation Failed, raised as a refusal event). A proof that answers no outstanding
//!   challenge, or lacks its CIPO, is challenged again. Registrations without the C flag are
//!   handled as with `Off`, but never change a protected entry;
//! - **Require**: as `Allow`, and a registration without the C flag, or any DAR, is refused
//!   with status 10.
//!
//! Malformed CIPO, NDPSO or Nonce options drop the message ([`LbrStats::rx_invalid`]); the
//! counters are in [`ApStats`] (`ap_*` in `sixgate stats`). Only Crypto-Type 1 (Ed25519) is
//! verified: a proof with ECDSA256 (0), ECDSA25519 (2) or an unknown type is answered
//! status 10.

use core::net::Ipv6Addr;

use heapless::Deque;
use l2_15_4::Address;
use netif::addr::ALL_NODES;
use netif::icmp::{
    self,
    nd::{
        DUPLICATE_ADDRESS_REQUEST, NA_OVERRIDE, NA_ROUTER, NA_SOLICITED, NEIGHBOR_ADVERT,
        NEIGHBOR_SOLICIT, OPT_PREFIX_INFO, OPT_SLLAO, OPT_TLLAO, ROUTER_ADVERT, ROUTER_SOLICIT,
    },
};
use netif::stack::IfaceError;
use netif::{Duration, HandlerId, IfIndex, Instant, LinkAddr, LocalDelivery, Match, Stack};
use sixlo::nd::{AbroRepr, AroRepr, DaKind, DaRepr, SixCoRepr, Status};

use crate::config::Config;
use crate::registry::{RegisterOutcome, Registration};
use crate::wpan::Wpan;

#[cfg(feature = "address-protection")]
pub mod ap;
mod out;
mod rate;
mod wire;

use rate::SourceRate;
use wire::{addr16, lla_option, parse_opts};

/// RFC 4861 §10 MAX_INITIAL_RTR_ADVERTISEMENTS.
pub const MAX_INITIAL_RTR_ADVERTISEMENTS: u32 = 3;
/// RFC 4861 §10 MAX_INITIAL_RTR_ADVERT_INTERVAL.
pub const MAX_INITIAL_RTR_ADVERT_INTERVAL: Duration = Duration::from_secs(16);
/// RFC 6775 §9 MIN_DELAY_BETWEEN_RAS.
pub const MIN_DELAY_BETWEEN_RAS: Duration = Duration::from_secs(10);
/// Solicited RAs waiting to be sent.
pub const PENDING_RAS: usize = 8;
/// Solicited RAs allowed per second (burst of the same size), against RS floods.
pub const SOLICITED_RA_RATE: u32 = 10;
/// Link-layer sources whose registration rate is tracked at once; a new source takes the slot
/// of the most idle one (counted in [`LbrStats::reg_rate_evicted`]).
pub const REG_RATE_SOURCES: usize = 4;
/// Registrations (NS with ARO/EARO, DAR) one link-layer source may send in a burst.
pub const REG_RATE_BURST: u8 = 8;
/// Seconds per registration a source regains after its burst.
pub const REG_RATE_REFILL_S: u32 = 2;

/// Counters of the 6LBR role.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LbrStats {
    /// Router Solicitations received.
    pub rx_rs: u64,
    /// Neighbor Solicitations received (with and without ARO).
    pub rx_ns: u64,
    /// Neighbor Solicitations carrying an ARO/EARO.
    pub rx_ns_aro: u64,
    /// Duplicate Address Requests received.
    pub rx_dar: u64,
    /// Messages dropped as invalid (hop limit, code, length, options, checksum).
    pub rx_invalid: u64,
    /// NS for an address that is not ours and carries no ARO (ignored).
    pub rx_ns_not_ours: u64,
    /// Multicast RAs sent.
    pub tx_ra_multicast: u64,
    /// Solicited (unicast) RAs sent.
    pub tx_ra_solicited: u64,
    /// Solicited RAs refused by the rate limit or a full pending queue.
    pub ra_rate_limited: u64,
    /// NAs sent.
    pub tx_na: u64,
    /// DACs sent.
    pub tx_dac: u64,
    /// Registrations accepted (new or refreshed).
    pub reg_success: u64,
    /// Registrations refused as duplicates.
    pub reg_duplicate: u64,
    /// Registrations refused because the table is full.
    pub reg_full: u64,
    /// Registrations refused as topologically incorrect.
    pub reg_topology: u64,
    /// Deregistrations (lifetime 0).
    pub reg_removed: u64,
    /// Registrations refused as stale (an older TID, or none where the owner uses one):
    /// status 3, Moved.
    pub reg_stale_tid: u64,
    /// Registrations refused because their link-layer source holds its quota
    /// (`Config::max_registrations_per_source`): status 2.
    pub reg_over_quota: u64,
    /// NS with ARO/EARO and DARs dropped unanswered: their source exceeded its registration
    /// rate.
    pub reg_rate_limited: u64,
    /// Sources whose rate state was dropped to track a new one (more than
    /// [`REG_RATE_SOURCES`] registering at once).
    pub reg_rate_evicted: u64,
    /// NS with ARO/EARO dropped unanswered: the SLLAO is not the frame's link-layer source.
    pub reg_sllao_mismatch: u64,
    /// Messages we could not build (pool empty).
    pub no_buffer: u64,
    /// Messages the core refused to send.
    pub send_failed: u64,
}

/// Counters of Address-Protected ND (RFC 8928, see `ap` in a build with the
/// `address-protection` feature; all zero without it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ApStats {
    /// Challenges sent: NA(EARO status 5, Validation Requested) with a NonceLR.
    pub challenges: u64,
    /// Proofs of ownership verified: registrations accepted as holding their Crypto-ID's key.
    pub proofs_accepted: u64,
    /// Registrations refused with status 10 (Validation Failed): a wrong proof (another key,
    /// a bad signature, an unsupported Crypto-Type), or none where the policy requires one.
    pub proofs_failed: u64,
    /// Outstanding challenges dropped to make room for a new one (the table was full).
    pub challenge_table_full: u64,
}

/// Something the 6LBR did that the management side reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LbrEvent {
    /// A node registered (or re-registered after expiry) this address.
    Registered(Ipv6Addr),
    /// A registration was refused with this status.
    Refused(Ipv6Addr, u8),
    /// A node removed its registration.
    Deregistered(Ipv6Addr),
}

/// Events kept until taken.
pub const LBR_EVENTS: usize = 8;

/// The 6LBR state.
#[derive(Debug)]
pub struct Lbr {
    iface: Option<IfIndex>,
    handlers: Option<(HandlerId, HandlerId)>,
    next_ra: Option<Instant>,
    last_multicast_ra: Option<Instant>,
    initial_left: u32,
    pending: Deque<(Ipv6Addr, Address), PENDING_RAS>,
    bucket: icmp::TokenBucket,
    reg_rate: [SourceRate; REG_RATE_SOURCES],
    rng: u32,
    stats: LbrStats,
    events: Deque<LbrEvent, LBR_EVENTS>,
    events_lost: u64,
    /// The 6LBR our RAs name in their ABRO when we are a 6LR ([`Lbr::set_border_router`]).
    border: Option<Ipv6Addr>,
    /// We are a 6LR (a mesh router): no RA until we know our border router.
    six_lr: bool,
    #[cfg(feature = "address-protection")]
    ap: ap::Challenges,
}

impl Default for Lbr {
    fn default() -> Self {
        Self::new(0x6c62_7231)
    }
}

impl Lbr {
    /// A 6LBR whose RA jitter is drawn from `seed`.
    pub fn new(seed: u32) -> Self {
        Lbr {
            iface: None,
            handlers: None,
            next_ra: None,
            last_multicast_ra: None,
            initial_left: MAX_INITIAL_RTR_ADVERTISEMENTS,
            pending: Deque::new(),
            bucket: icmp::TokenBucket::new(SOLICITED_RA_RATE, SOLICITED_RA_RATE),
            reg_rate: [SourceRate { key: 0, tat: 0 }; REG_RATE_SOURCES],
            rng: seed | 1,
            stats: LbrStats::default(),
            events: Deque::new(),
            events_lost: 0,
            border: None,
            six_lr: false,
            #[cfg(feature = "address-protection")]
            ap: ap::Challenges::new(seed),
        }
    }

    /// Make this a 6LR (a mesh router): its RAs name the 6LBR given by
    /// [`set_border_router`](Self::set_border_router), and it sends none before it knows it
    /// (a router that has not joined a DODAG has no route to offer).
    pub fn set_6lr(&mut self) {
        self.six_lr = true;
    }

    /// As a 6LR, the 6LBR our RAs name in their ABRO: the DODAG root (RFC 6775 §4.3: a 6LR
    /// passes the border router's ABRO on); `None` while we know none.
    pub fn set_border_router(&mut self, br: Option<Ipv6Addr>) {
        self.border = br;
    }

    /// Register the ND handler (RS..NA and DAR) on `wpan0` and schedule the first RA.
    pub fn attach(
        &mut self,
        stack: &mut Stack<'_>,
        i: IfIndex,
        now: Instant,
    ) -> Result<(), IfaceError> {
        let h = stack.register_handler(
            Match::Icmpv6 {
                first: ROUTER_SOLICIT,
                last: NEIGHBOR_ADVERT,
            },
            Some(i),
        )?;
        let dar = stack.register_handler(
            Match::Icmpv6 {
                first: DUPLICATE_ADDRESS_REQUEST,
                last: DUPLICATE_ADDRESS_REQUEST,
            },
            Some(i),
        )?;
        self.iface = Some(i);
        self.handlers = Some((h, dar));
        self.restart(now);
        Ok(())
    }

    /// Start the initial RA burst again (start-up, prefix or PAN change).
    pub fn restart(&mut self, now: Instant) {
        self.initial_left = MAX_INITIAL_RTR_ADVERTISEMENTS;
        self.last_multicast_ra = None;
        self.next_ra = Some(now);
    }

    /// Counters.
    pub fn stats(&self) -> LbrStats {
        self.stats
    }
    /// Zero the counters.
    pub fn reset_stats(&mut self) {
        self.stats = LbrStats::default();
        #[cfg(feature = "address-protection")]
        {
            self.ap.stats = ApStats::default();
        }
    }
    /// Address-Protected ND counters (zero in a build without `address-protection`).
    pub fn ap_stats(&self) -> ApStats {
        #[cfg(feature = "address-protection")]
        return self.ap.stats;
        #[cfg(not(feature = "address-protection"))]
        ApStats::default()
    }
    /// Mixes `entropy` (from the board's random source) into the key the NonceLRs of
    /// Address-Protected ND are drawn from. Without it they derive from the EUI-64 and can be
    /// predicted; a board with the `address-protection` feature calls this once at start-up.
    #[cfg(feature = "address-protection")]
    pub fn seed_nonces(&mut self, entropy: &[u8]) {
        self.ap.seed(entropy);
    }
    /// The next event, if any.
    pub fn pop_event(&mut self) -> Option<LbrEvent> {
        self.events.pop_front()
    }
    /// Events dropped because nobody took them.
    pub fn events_lost(&self) -> u64 {
        self.events_lost
    }
    /// When the next multicast RA is due.
    pub fn next_ra(&self) -> Option<Instant> {
        self.next_ra
    }
    /// When [`Lbr::poll`] has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.pending.is_empty() {
            self.next_ra
        } else {
            Some(Instant::ZERO)
        }
    }

    fn event(&mut self, e: LbrEvent) {
        if self.events.push_back(e).is_err() {
            self.events.pop_front();
            let _ = self.events.push_back(e);
            self.events_lost += 1;
        }
    }

    fn rand(&mut self) -> u32 {
        xorshift32(&mut self.rng)
    }

    /// Whether `d` is for the 6LBR (else it is given back).
    pub fn owns(&self, d: &LocalDelivery) -> bool {
        self.handlers
            .is_some_and(|(a, b)| d.handler == a || d.handler == b)
    }

    /// Handle an ND message delivered by the core (the packet is freed).
    pub fn handle(
        &mut self,
        stack: &mut Stack<'_>,
        wpan: &mut Wpan<'_>,
        cfg: &Config,
        now: Instant,
        d: LocalDelivery,
    ) {
        let mut copy = [0u8; 256];
        let parsed = {
            let data = stack.pool().data(&d.packet);
            let meta = stack.pool().meta(&d.packet);
            let hdr = (
                data.get(7).copied(),
                data.get(8..24).and_then(addr16),
                data.get(24..40).and_then(addr16),
            );
            let body = data.get(d.upper_offset..).unwrap_or(&[]);
            let n = body.len().min(copy.len());
            let fits = body.len() <= copy.len();
            if let (Some(c), Some(b)) = (copy.get_mut(..n), body.get(..n)) {
                c.copy_from_slice(b);
            }
            (hdr, n, fits, meta.ll_src)
        };
        stack.pool_mut().free(d.packet);
        let ((Some(hl), Some(src), Some(dst)), n, true, ll_src) = parsed else {
            self.stats.rx_invalid += 1;
            return;
        };
        let Some(icmp) = copy.get(..n) else {
            self.stats.rx_invalid += 1;
            return;
        };
        let (Some(&ty), Some(&code)) = (icmp.first(), icmp.get(1)) else {
            self.stats.rx_invalid += 1;
            return;
        };
        if !icmp::checksum_ok(icmp, &src, &dst) {
            self.stats.rx_invalid += 1;
            return;
        }
        let frame_src = Address::try_from(ll_src).ok();
        match ty {
            ROUTER_SOLICIT => {
                self.stats.rx_rs += 1;
                let opts = icmp.get(8..).and_then(parse_opts);
                let (true, 0, Some(opts)) = (hl == icmp::nd::HOP_LIMIT, code, opts) else {
                    self.stats.rx_invalid += 1;
                    return;
                };
                if src.is_unspecified() && opts.sllao.is_some() {
                    self.stats.rx_invalid += 1;
                    return;
                }
                let ll = opts.sllao.or(frame_src);
                let to = if src.is_unspecified() { ALL_NODES } else { src };
                match ll {
                    Some(ll)
                        if self.bucket.take(now) && self.pending.push_back((to, ll)).is_ok() => {}
                    _ => self.stats.ra_rate_limited += 1,
                }
            }
            NEIGHBOR_SOLICIT => {
                self.stats.rx_ns += 1;
                let target = icmp.get(8..24).and_then(addr16);
                let opts = icmp.get(24..).and_then(parse_opts);
                let (true, 0, Some(target), Some(opts)) =
                    (hl == icmp::nd::HOP_LIMIT, code, target, opts)
                else {
                    self.stats.rx_invalid += 1;
                    return;
                };
                if target.is_multicast() || (src.is_unspecified() && opts.sllao.is_some()) {
                    self.stats.rx_invalid += 1;
                    return;
                }
                if let Some(aro) = opts.aro {
                    self.stats.rx_ns_aro += 1;
                    // RFC 6775 §6.5: an ARO needs a SLLAO and a real source.
                    let Some(ll) = opts.sllao else {
                        self.stats.rx_invalid += 1;
                        return;
                    };
                    if src.is_unspecified() {
                        self.stats.rx_invalid += 1;
                        return;
                    }
                    // The registrant is the neighbour that sent the frame (an NS is one hop):
                    // an SLLAO naming anyone else would register (and answer) a third party.
                    if frame_src != Some(ll) {
                        self.stats.reg_sllao_mismatch += 1;
                        return;
                    }
                    if !self.reg_rate_take(ll, now) {
                        return;
                    }
                    let own = stack.iface_of_addr(&target).is_some();
                    let registered = if own { src } else { target };
                    #[cfg(feature = "address-protection")]
                    let mut nonce_opt = [0u8; 16];
                    #[cfg(feature = "address-protection")]
                    let (status, lifetime, c, extra) = {
                        let (status, lifetime, nonce) =
                            self.register_ap(wpan, cfg, now, registered, ll, &aro, &opts.proof);
                        let extra = nonce
                            .and_then(|n| {
                                sixlo::nd::NonceRepr { nonce: &n }.emit(&mut nonce_opt).ok()
                            })
                            .unwrap_or(0);
                        let ap = cfg.address_protection != crate::config::AddressProtection::Off;
                        (
                            status,
                            lifetime,
                            aro.c && ap,
                            nonce_opt.get(..extra).unwrap_or(&[]),
                        )
                    };
                    #[cfg(not(feature = "address-protection"))]
                    let (status, lifetime, c, extra) = {
                        let _ = opts.proof;
                        let (s, l) = self.register(wpan, cfg, now, registered, ll, &aro, false);
                        (s, l, false, &[][..])
                    };
                    let reply = AroRepr {
                        status,
                        lifetime,
                        c,
                        ..aro
                    };
                    // The NA answers the NS: same target (RFC 4861 §7.2.4), which RFC 6775
                    // hosts such as RIOT OS set to the router's address and look up.
                    self.send_na(stack, now, src, ll, target, Some(&reply), false, extra);
                } else if stack.iface(d.iface).is_some_and(|x| x.has_addr(&target)) {
                    let ll = opts.sllao.or(frame_src);
                    let (to, ll) = if src.is_unspecified() {
                        (ALL_NODES, Address::BROADCAST)
                    } else {
                        match ll {
                            Some(ll) => (src, ll),
                            None => (src, crate::wpan::derive_link(&src)),
                        }
                    };
                    self.send_na(stack, now, to, ll, target, None, true, &[]);
                } else {
                    self.stats.rx_ns_not_ours += 1;
                }
            }
            DUPLICATE_ADDRESS_REQUEST => {
                self.stats.rx_dar += 1;
                let Ok(dar) = DaRepr::parse(icmp) else {
                    self.stats.rx_invalid += 1;
                    return;
                };
                if dar.kind != DaKind::Request || src.is_unspecified() || src.is_multicast() {
                    self.stats.rx_invalid += 1;
                    return;
                }
                let registered = Ipv6Addr::from(dar.registered);
                let ll = frame_src.unwrap_or_else(|| crate::wpan::derive_link(&src));
                if !self.reg_rate_take(ll, now) {
                    return;
                }
                let aro = AroRepr {
                    status: Status::Success,
                    opaque: 0,
                    c: false,
                    i: 0,
                    r: false,
                    t: dar.tid != 0,
                    tid: dar.tid,
                    lifetime: dar.lifetime,
                    rovr: dar.rovr,
                };
                // Under `Require` a DAR is refused: its proof, if any, was the 6LR's to check.
                #[cfg(feature = "address-protection")]
                let (status, lifetime) =
                    if cfg.address_protection == crate::config::AddressProtection::Require {
                        self.refuse_unproved(registered, aro.lifetime)
                    } else {
                        self.register(wpan, cfg, now, registered, ll, &aro, false)
                    };
                #[cfg(not(feature = "address-protection"))]
                let (status, lifetime) = self.register(wpan, cfg, now, registered, ll, &aro, false);
                let dac = DaRepr {
                    kind: DaKind::Confirmation,
                    checksum: 0,
                    status,
                    lifetime,
                    ..dar
                };
                self.send_dac(stack, now, src, ll, &dac);
            }
            // RA and NA from other routers/nodes: nothing to do for a 6LBR.
            _ => {}
        }
    }

    /// The address-protection step of an NS with EARO (see `ap` and
    /// [`AddressProtection`](crate::config::AddressProtection)), then the registration
    /// decision; returns the status and lifetime for the reply, and the NonceLR of a challenge.
    #[cfg(feature = "address-protection")]
    #[allow(clippy::too_many_arguments)]
    fn register_ap(
        &mut self,
        wpan: &mut Wpan<'_>,
        cfg: &Config,
        now: Instant,
        addr: Ipv6Addr,
        ll: Address,
        aro: &AroRepr,
        proof: &ap::ProofOpts<'_>,
    ) -> (Status, u16, Option<[u8; ap::AP_NONCE_LEN]>) {
        use crate::config::AddressProtection as Policy;
        let policy = cfg.address_protection;
        if policy == Policy::Off || (!aro.c && policy == Policy::Allow) {
            let (s, l) = self.register(wpan, cfg, now, addr, ll, aro, false);
            return (s, l, None);
        }
        if let Some(refused) = self.topology(cfg, addr, aro.lifetime) {
            return (refused.0, refused.1, None);
        }
        if !aro.c {
            let (s, l) = self.refuse_unproved(addr, aro.lifetime);
            return (s, l, None);
        }
        let rovr = aro.rovr.as_bytes();
        match self.ap.check(now, &addr, rovr, proof) {
            ap::Verdict::Proved => {
                self.ap.stats.proofs_accepted += 1;
                let (s, l) = self.register(wpan, cfg, now, addr, ll, aro, true);
                (s, l, None)
            }
            ap::Verdict::Failed => {
                let (s, l) = self.refuse_unproved(addr, aro.lifetime);
                (s, l, None)
            }
            ap::Verdict::NoProof => {
                let lifetime = sixlo::nd::minutes(aro.lifetime);
                if !wpan.registry().needs_proof(now, &addr, &ll, rovr, lifetime) {
                    let (s, l) = self.register(wpan, cfg, now, addr, ll, aro, false);
                    return (s, l, None);
                }
                let nonce = self.ap.issue(now, addr, rovr, ll);
                (Status::ValidationRequested, aro.lifetime, Some(nonce))
            }
        }
    }

    /// Status 10 (Validation Failed) for a registration of `addr` without a valid proof
    /// (counted, and raised as a refusal event).
    #[cfg(feature = "address-protection")]
    fn refuse_unproved(&mut self, addr: Ipv6Addr, lifetime: u16) -> (Status, u16) {
        self.ap.stats.proofs_failed += 1;
        self.event(LbrEvent::Refused(addr, Status::ValidationFailed.into()));
        (Status::ValidationFailed, lifetime)
    }

    /// Status 8 (topologically incorrect, counted) for an address outside the mesh prefix and
    /// not link-local.
    fn topology(&mut self, cfg: &Config, addr: Ipv6Addr, lifetime: u16) -> Option<(Status, u16)> {
        let mesh = cfg.mesh_prefix_addr();
        let in_mesh = addr.octets()[..8] == mesh.octets()[..8];
        if !(in_mesh || addr.is_unicast_link_local()) || addr.is_multicast() {
            self.stats.reg_topology += 1;
            self.event(LbrEvent::Refused(addr, 8));
            return Some((Status::TopologicallyIncorrect, lifetime));
        }
        None
    }

    /// The registration decision (`proved`: the registrant proved its Crypto-ID); returns the
    /// status and lifetime for the reply.
    #[allow(clippy::too_many_arguments)]
    fn register(
        &mut self,
        wpan: &mut Wpan<'_>,
        cfg: &Config,
        now: Instant,
        addr: Ipv6Addr,
        ll: Address,
        aro: &AroRepr,
        proved: bool,
    ) -> (Status, u16) {
        if let Some(refused) = self.topology(cfg, addr, aro.lifetime) {
            return refused;
        }
        let lifetime = aro.lifetime.min(cfg.max_registration_lifetime_min);
        let out = wpan.registry_mut().register_with(
            now,
            &Registration {
                addr,
                ll,
                rovr: aro.rovr.as_bytes(),
                tid: aro.t.then_some(aro.tid),
                lifetime: sixlo::nd::minutes(lifetime),
                quota: usize::from(cfg.max_registrations_per_source),
                proved,
            },
        );
        let s = &mut self.stats;
        let (counter, status) = match out {
            RegisterOutcome::Registered | RegisterOutcome::Refreshed => {
                s.reg_success += 1;
                if out == RegisterOutcome::Registered {
                    debug!("6LBR: registered a node");
                    self.event(LbrEvent::Registered(addr));
                }
                return (Status::Success, lifetime);
            }
            RegisterOutcome::Removed => {
                s.reg_removed += 1;
                self.event(LbrEvent::Deregistered(addr));
                return (Status::Success, 0);
            }
            RegisterOutcome::Duplicate => (&mut s.reg_duplicate, Status::DuplicateAddress),
            RegisterOutcome::Full => (&mut s.reg_full, Status::NeighborCacheFull),
            RegisterOutcome::OverQuota => (&mut s.reg_over_quota, Status::NeighborCacheFull),
            RegisterOutcome::StaleTid => (&mut s.reg_stale_tid, Status::Moved),
        };
        *counter += 1;
        self.event(LbrEvent::Refused(addr, status.into()));
        (status, aro.lifetime)
    }

    /// Send due RAs: solicited ones first, then the periodic multicast one.
    pub fn poll(&mut self, stack: &mut Stack<'_>, wpan: &Wpan<'_>, cfg: &Config, now: Instant) {
        while let Some((to, ll)) = self.pending.pop_front() {
            self.send_ra(stack, wpan, cfg, now, to, ll);
            self.stats.tx_ra_solicited += 1;
        }
        let Some(due) = self.next_ra else { return };
        if due > now {
            return;
        }
        if let Some(last) = self.last_multicast_ra
            && now < last + MIN_DELAY_BETWEEN_RAS
        {
            self.next_ra = Some(last + MIN_DELAY_BETWEEN_RAS);
            return;
        }
        self.send_ra(stack, wpan, cfg, now, ALL_NODES, Address::BROADCAST);
        self.stats.tx_ra_multicast += 1;
        self.last_multicast_ra = Some(now);
        let lo = u64::from(cfg.ra.min_interval_s) * 1_000_000;
        let hi = u64::from(cfg.ra.max_interval_s) * 1_000_000;
        let span = hi.saturating_sub(lo);
        let r = u64::from(self.rand());
        let mut next = Duration::from_micros(
            lo + (u128::from(span) * u128::from(r) / u128::from(u32::MAX)) as u64,
        );
        // The first MAX_INITIAL_RTR_ADVERTISEMENTS RAs are at most 16 s apart; the interval
        // after the last of them is an ordinary one (RFC 4861 §6.2.4).
        if self.initial_left > 0 {
            self.initial_left -= 1;
            if self.initial_left > 0 && next > MAX_INITIAL_RTR_ADVERT_INTERVAL {
                next = MAX_INITIAL_RTR_ADVERT_INTERVAL;
            }
        }
        self.next_ra = Some(now + next);
    }
}

/// The next number of a xorshift32 generator (Marsaglia 2003; `state` non-zero): timer
/// jitter for RAs and DIOs, not secrets.
pub(crate) fn xorshift32(state: &mut u32) -> u32 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    x
}

/// Our interface identifier on the mesh: netif's 802.15.4 mapping of the EUI-64 (U/L bit
/// flipped, RFC 4944 §6).
pub fn our_iid(cfg: &Config) -> [u8; 8] {
    netif::LinkAddr::ieee802154_extended(cfg.eui64)
        .to_iid()
        .unwrap_or(cfg.eui64)
}
