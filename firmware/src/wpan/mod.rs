//! `wpan0`: the IEEE 802.15.4 interface as a netif [`L2`] — the soft-MAC of `l2-15_4` below,
//! 6LoWPAN (`sixlo`) inside, and the border router's registration table for next-hop
//! resolution.
//!
//! Receive: the application copies each MPDU the MAC accepted into a pool buffer and calls
//! [`netif::Stack::receive`]; [`Wpan::recv`] copies the MPDU out, parses the MAC header and
//! feeds the payload to the reassembler (which also takes unfragmented frames) with the pool
//! as its buffer store (`PoolStore`): the frame's own buffer is the first one it gets. A
//! datagram is decompressed or assembled in a pool buffer (a FRAG1 keeps the buffer until its
//! datagram completes, times out, is discarded or evicted — at most [`REASSEMBLY_POOL_SHARE`]
//! at once, a new FRAG1 evicting the oldest datagram of the largest holder beyond it) and
//! handed to the core in that buffer (`Continue`), a fragment kept for later being `Ok`. The
//! sender's IPv6 source and link-layer address are gleaned into the registration table.
//!
//! Transmit: [`Wpan::send`] resolves the next hop's link-layer address without multicast
//! address resolution (RFC 6775): the frame's explicit link-layer destination for a packet the
//! border router originated (e.g. an NA to a registrant), the registration table, an IID that
//! embeds a short address (`::ff:fe00:XXXX`), or the EUI-64 an IID is derived from — for a
//! global next hop only if [`Wpan::set_blind_global_derivation`] (the configuration's
//! `blind_global_derivation`, off by default): otherwise the core refuses it with Destination
//! Unreachable ([`L2::reach`]). Multicast goes to the broadcast address. Datagrams wait in a shallow queue ([`WPAN_TXQ`]) and
//! [`Wpan::pump`] cuts them into frames only as fast as the MAC queue drains, so a 13-frame
//! datagram never needs 13 MAC queue entries; the core keeps the rest in its per-class queues
//! ([`netif::Stack::transmit_some`]). A fragment the MAC could not deliver (no ACK after
//! retries, channel busy) aborts the rest of its datagram — the receiver could never complete
//! it — and is counted.
//!
//! Link-layer security ([`Wpan::set_security`], `secure.rs`): with a network key every frame
//! goes out CCM*-secured (fragments cut to the room the auxiliary header and MIC leave), and a
//! received frame is verified and decrypted in its copy before anything above reads it; a
//! refused one is dropped and counted by reason in `SecurityStats`. The pool's buffer store of
//! the reassembler is `store.rs`.

use core::net::Ipv6Addr;

use heapless::Deque;
use l2_15_4::mac::{EnqueueError, SrcAddrMode, TxRequest, TxStatus};
use l2_15_4::radio::Radio;
use l2_15_4::{Address, FrameType, Mac, Repr};
use netif::l2::{EnableError, L2, L2Context, L2Flags, Reach, SendError, Verdict};
use netif::pool::{PacketHandle, PacketPool};
use netif::{Duration, Instant, LinkAddr};
use sixlo::{
    Assembled, CompressOptions, ContextTable, Continuation, Fragmenter, LinkAddr as SixLink,
    ReceiveError,
};

use crate::registry::Registry;

mod secure;
mod store;
mod tunnel;
mod unreachable;

pub use secure::{CipherFactory, HwBlock, WPAN_REPLAY, WpanCipher, WpanSecurity};
use store::PoolStore;
use tunnel::Next;
#[cfg(feature = "router-role")]
pub use tunnel::Upward;
pub use tunnel::{MESH_MTU, Tunnel, tunnel_overhead, write_tunnel_headers};
use unreachable::{Change, Unreachable};
pub use unreachable::{PROBE_EVERY, UNREACHABLE_AFTER, UNREACHABLE_NBRS};

/// Datagrams accepted from the core and waiting for the MAC (the one being fragmented
/// included).
pub const WPAN_TXQ: usize = 4;
/// MAC transmit queue (frames).
pub const MAC_TXQ: usize = 8;
/// MAC duplicate-filter entries.
pub const MAC_DUP: usize = 32;
/// MAC neighbours with link statistics.
pub const MAC_NBR: usize = 32;
/// Concurrent reassemblies; each holds one packet-pool buffer while it is in progress.
pub const REASSEMBLY_SLOTS: usize = 8;
/// Packet-pool buffers partial datagrams may hold at once: half the pool, so a FRAG1 flood
/// leaves the other half to receive, forwarding and transmit. A FRAG1 beyond it (or beyond
/// the slots) evicts the oldest datagram of the source holding the most
/// (`sixlo::SixloStats::reassembly_evictions`).
pub const REASSEMBLY_POOL_SHARE: usize = crate::app::PACKETS / 2;
const _: () = assert!(REASSEMBLY_POOL_SHARE <= REASSEMBLY_SLOTS);
/// How long a datagram may take to complete, from its FRAG1.
pub const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(10);
/// Reassembly slots one link-layer source may hold.
pub const REASSEMBLY_PER_SOURCE: usize = 4;
/// Largest datagram reassembled: a 1280-byte packet in the RPL root's tunnel is larger
/// (RFC 9008); as much as a pool buffer holds after its headroom, up to what 6LoWPAN
/// fragments can count (RFC 4944: 11 bits, 2040 bytes in whole 8-byte units).
pub const REASSEMBLY_MAX: usize = sixlo::reassembly::MAX_DATAGRAM;
/// Registration-table entries.
pub const REGISTRATIONS: usize = 256;
/// Registration-table index slots (a power of two ≥ 2 × [`REGISTRATIONS`]).
pub const REGISTRY_INDEX: usize = 512;
/// How long a gleaned (unregistered) node stays resolvable after its last frame.
pub const GLEAN_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The soft-MAC type of `wpan0`.
pub type WpanMac = Mac<MAC_TXQ, MAC_DUP, MAC_NBR>;
/// The reassembler of `wpan0`: [`REASSEMBLY_SLOTS`] datagrams assembled in packet-pool
/// buffers (its own state is about 2 KiB; the buffers are the pool's).
pub type WpanReassembler = sixlo::PooledReassembler<PacketHandle, REASSEMBLY_SLOTS>;
/// The registration table type.
pub type WpanRegistry = Registry<REGISTRATIONS, REGISTRY_INDEX>;

/// Largest PSDU.
const PSDU_MAX: usize = 127;
/// FCS bytes.
const FCS_LEN: usize = 2;

/// Counters of the adaptation between the MAC and the core (the MAC and `sixlo` have their
/// own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WpanStats {
    /// Frames handed to [`Wpan::recv`].
    pub rx_frames: u64,
    /// Datagrams completed and handed to the core.
    pub rx_datagrams: u64,
    /// Frames whose MAC header did not parse.
    pub rx_bad_frame: u64,
    /// Secured frames dropped because no network key is configured (with one, link-layer
    /// security counts its own outcomes: `SecurityStats`).
    pub rx_secured: u64,
    /// Non-data frames (MAC commands, beacons) reaching the IPv6 layer.
    pub rx_not_data: u64,
    /// Frames the 6LoWPAN layer dropped (reasons in `sixlo`'s statistics).
    pub rx_6lowpan_drop: u64,
    /// Frames dropped because the pool had no buffer for their datagram (also counted by
    /// `sixlo` as `no_buffer`).
    pub rx_no_buffer: u64,
    /// Datagrams accepted for transmission.
    pub tx_datagrams: u64,
    /// Datagrams whose every frame was handed to the MAC.
    pub tx_datagrams_done: u64,
    /// Frames handed to the MAC.
    pub tx_frames: u64,
    /// Frames the MAC reported delivered (acknowledged, or broadcast sent).
    pub tx_frames_ok: u64,
    /// Frames the MAC reported failed (no ACK, channel busy, radio error).
    pub tx_frames_failed: u64,
    /// Datagrams whose remaining fragments were dropped after a failed fragment.
    pub tx_aborted: u64,
    /// Datagrams refused because [`WPAN_TXQ`] was full.
    pub tx_queue_full: u64,
    /// Datagrams that could not be compressed or fragmented.
    pub tx_adapt_error: u64,
    /// Datagrams refused while the interface was down.
    pub tx_down: u64,
    /// Datagrams sent into an RPL tunnel: the root's source-routing tunnel to a target behind
    /// other nodes, or a mesh router's tunnel up to the root (a host's packet, RFC 9008).
    pub tx_tunnelled: u64,
    /// Datagrams for such a tunnel dropped: no room for the outer headers, or no route.
    pub tx_tunnel_failed: u64,
    /// Datagrams whose RPL Option showed a rank error (RFC 6550 §11.2): at the root, one from
    /// the mesh said "down"; at a mesh router, one going up came from a lower rank. Dropped
    /// when R was already set.
    pub rx_rpl_rank_error: u64,
    /// Datagrams from the mesh with the RPL Option's forwarding-error flag: dropped, and the
    /// root's route to their destination forgotten.
    pub rx_rpl_forwarding_error: u64,
    /// Neighbours found unreachable: [`UNREACHABLE_AFTER`] frames in a row without ACK.
    pub nbr_unreachable: u64,
    /// Datagrams dropped from the queue, or refused when handed over, because their next hop
    /// was unreachable (the core refuses most before: it counts those as address
    /// unreachable).
    pub tx_unreachable: u64,
    /// Failing neighbours forgotten to make room in the [`UNREACHABLE_NBRS`] table.
    pub nbr_unreachable_evictions: u64,
}

#[derive(Debug)]
struct InFlight {
    pkt: PacketHandle,
    dst: Address,
    tag: u16,
    /// The fragmentation after the first frame was handed to the MAC (planned once per
    /// datagram; the later frames come from it).
    cont: Option<Continuation>,
    first_handle: Option<u16>,
}

/// The `wpan0` L2. Generic parameters are fixed by the crate's capacity constants.
#[derive(Debug)]
pub struct Wpan<'r> {
    mac: WpanMac,
    reassembler: &'r mut WpanReassembler,
    contexts: ContextTable,
    registry: &'r mut WpanRegistry,
    queue: Deque<(PacketHandle, Address), WPAN_TXQ>,
    current: Option<InFlight>,
    next_tag: u16,
    up: bool,
    /// Send to a global next hop that is neither registered nor gleaned at the link-layer
    /// address its IID derives from ([`Wpan::set_blind_global_derivation`]).
    blind_global: bool,
    /// The RPL root's source-routing tunnel (MOP 1), when the root runs.
    tunnel: Option<Tunnel>,
    /// A mesh router's preferred parent ([`Wpan::set_uplink`]).
    uplink: Option<Address>,
    /// Frames to the uplink that failed in a row, each after the MAC's retries.
    uplink_failures: u8,
    /// Neighbours that stopped acknowledging.
    unreachable: Unreachable,
    /// The latest time we were given (for [`L2::reach`], which is not).
    now: Instant,
    /// Link-layer security, when a network key is configured.
    security: Option<WpanSecurity>,
    /// A mesh router's way up to the root ([`Wpan::set_upward`]).
    #[cfg(feature = "router-role")]
    upward: Option<Upward>,
    opts: CompressOptions,
    stats: WpanStats,
}

/// The link-layer address an IPv6 address's IID was derived from (RFC 4944 §6 / RFC 6282
/// §3.2.2): `::ff:fe00:XXXX` is short address XXXX; any other IID is an EUI-64 with the U/L
/// bit flipped.
pub fn derive_link(a: &Ipv6Addr) -> Address {
    let o = a.octets();
    Address::from_iid([o[8], o[9], o[10], o[11], o[12], o[13], o[14], o[15]])
}

/// The 802.15.4 MAC payload room for a 2006 data frame from our extended address to `dst`
/// in our PAN (PAN ID compressed), no security.
pub const fn payload_budget(dst: &Address) -> usize {
    let dst_len = match dst {
        Address::Short(_) => 2,
        Address::Extended(_) => 8,
    };
    // Frame control 2 + sequence number 1 + destination PAN 2 + destination + source 8.
    PSDU_MAX - FCS_LEN - 5 - dst_len - 8
}

fn ipv6_src(d: &[u8]) -> Option<Ipv6Addr> {
    let s: [u8; 16] = d.get(8..24)?.try_into().ok()?;
    Some(Ipv6Addr::from(s))
}

impl<'r> Wpan<'r> {
    /// `wpan0` over `mac`, with its reassembly buffers and registration table in `res`
    /// storage (large: kept out of the stack frame that builds the interface). The
    /// reassembler gets `wpan0`'s rules ([`REASSEMBLY_TIMEOUT`], [`REASSEMBLY_PER_SOURCE`],
    /// [`REASSEMBLY_POOL_SHARE`]).
    pub fn new(
        mac: WpanMac,
        reassembler: &'r mut WpanReassembler,
        registry: &'r mut WpanRegistry,
    ) -> Self {
        reassembler.set_config(sixlo::ReassemblyConfig {
            timeout: REASSEMBLY_TIMEOUT,
            per_source_limit: REASSEMBLY_PER_SOURCE,
            buffer_share: REASSEMBLY_POOL_SHARE,
        });
        Wpan {
            mac,
            reassembler,
            contexts: ContextTable::new(),
            registry,
            queue: Deque::new(),
            current: None,
            next_tag: 1,
            up: true,
            blind_global: false,
            uplink: None,
            uplink_failures: 0,
            unreachable: Unreachable::default(),
            now: Instant::ZERO,
            security: None,
            #[cfg(feature = "router-role")]
            upward: None,
            tunnel: None,
            opts: CompressOptions::default(),
            stats: WpanStats::default(),
        }
    }

    /// Turn the RPL root's source-routing tunnel on (`Some`) or off: with it, a packet whose
    /// next hop is a non-storing target behind other nodes goes out encapsulated (see
    /// [`Tunnel`]) to the route the registry's parent chain gives.
    pub fn set_tunnel(&mut self, t: Option<Tunnel>) {
        self.tunnel = t;
    }

    /// A mesh router's preferred parent (its link-layer address), or `None`. A router knows
    /// its own neighbours (the hosts registered or gleaned here, its children); a global next
    /// hop it does not know is somewhere else in the mesh or beyond, and goes up to the
    /// parent, which knows more (the root knows every target).
    pub fn set_uplink(&mut self, parent: Option<Address>) {
        self.uplink = parent;
        self.uplink_failures = 0;
    }

    /// Frames to the uplink that went unacknowledged in a row (after the MAC's retries): the
    /// parent may be gone. Frames that found no free channel do not count.
    pub fn uplink_failures(&self) -> u8 {
        self.uplink_failures
    }

    /// The RPL root's tunnel settings (`None`: no tunnel; targets behind other nodes are
    /// unreachable).
    pub fn tunnel(&self) -> Option<Tunnel> {
        self.tunnel
    }

    /// Whether a global (non-link-local) next hop that is neither registered nor gleaned is
    /// sent to the link-layer address its IID derives from (RFC 4944 §6). Off (the default,
    /// and the configuration's default): such a packet is refused with Destination
    /// Unreachable, address unreachable (the core's `address_unreachable` drop count), because
    /// a backbone host flooding random addresses of the mesh prefix would otherwise cost full
    /// MAC retries per packet on a link that carries a few hundred frames a second. On suits
    /// a mesh of nodes that neither register nor send first. Link-local next hops always
    /// derive.
    pub fn set_blind_global_derivation(&mut self, on: bool) {
        self.blind_global = on;
    }

    /// Secure every frame sent and require secured frames (`Some`), or neither. The counters
    /// carry over from the security state replaced.
    pub fn set_security(&mut self, security: Option<WpanSecurity>) {
        let stats = self.security.as_ref().map(|s| *s.stats());
        self.security = security;
        if let (Some(s), Some(stats)) = (self.security.as_mut(), stats) {
            s.set_stats(stats);
        }
    }
    /// Link-layer security, if on.
    pub fn security(&self) -> Option<&WpanSecurity> {
        self.security.as_ref()
    }
    /// Link-layer security, mutably (rotation, persistence).
    pub fn security_mut(&mut self) -> Option<&mut WpanSecurity> {
        self.security.as_mut()
    }

    /// The MAC.
    pub fn mac(&self) -> &WpanMac {
        &self.mac
    }
    /// The MAC, mutably (channel changes, event handling).
    pub fn mac_mut(&mut self) -> &mut WpanMac {
        &mut self.mac
    }
    /// Replace the MAC (PAN ID change); frames queued in the old one are lost (counted by
    /// the caller).
    pub fn replace_mac(&mut self, mac: WpanMac) {
        self.mac = mac;
    }
    /// Compression choices for frames we send (e.g. explicit context IDs for peers that
    /// need them).
    pub fn set_compress_options(&mut self, opts: CompressOptions) {
        self.opts = opts;
    }
    /// The compression choices in use.
    pub fn compress_options(&self) -> CompressOptions {
        self.opts
    }

    /// The compression contexts (fed by the 6LBR's prefix configuration).
    pub fn contexts(&self) -> &ContextTable {
        &self.contexts
    }
    /// The compression contexts, mutably.
    pub fn contexts_mut(&mut self) -> &mut ContextTable {
        &mut self.contexts
    }
    /// The registration table.
    pub fn registry(&self) -> &WpanRegistry {
        self.registry
    }
    /// The registration table, mutably.
    pub fn registry_mut(&mut self) -> &mut WpanRegistry {
        self.registry
    }
    /// The reassembler (its statistics are the 6LoWPAN counters).
    pub fn reassembler(&self) -> &WpanReassembler {
        self.reassembler
    }
    /// The reassembler, mutably (statistics reset).
    pub fn reassembler_mut(&mut self) -> &mut WpanReassembler {
        self.reassembler
    }
    /// Adaptation counters.
    pub fn stats(&self) -> WpanStats {
        self.stats
    }
    /// Zero the adaptation counters.
    pub fn reset_stats(&mut self) {
        self.stats = WpanStats::default();
    }
    /// Datagrams waiting (the one in flight included); each holds a pool buffer until sent.
    pub fn backlog(&self) -> usize {
        self.queue.len() + usize::from(self.current.is_some())
    }
    /// Pool buffers this interface holds: the [`Wpan::backlog`] and one per reassembly in
    /// progress (released on completion, discard, or timeout by [`Wpan::expire`]).
    pub fn held_buffers(&self) -> usize {
        self.backlog() + self.reassembler.slots_in_use()
    }
    /// Room for more datagrams from the core.
    pub fn room(&self) -> usize {
        WPAN_TXQ.saturating_sub(self.backlog())
    }

    /// Our source address in frames we build.
    fn our_link(&self) -> Address {
        Address::Extended(self.mac.config().extended_address)
    }

    /// Resolve the link-layer destination of a packet leaving on this link: `None` for a
    /// global next hop that is neither registered nor gleaned (unless
    /// [`Wpan::set_blind_global_derivation`]).
    fn resolve(&self, pool: &PacketPool<'_>, pkt: &PacketHandle) -> Option<Address> {
        let meta = pool.meta(pkt);
        if meta.next_hop.is_multicast() {
            return Some(Address::BROADCAST);
        }
        // A packet we originated may name its link-layer destination (an NA answering a
        // registration whose address is not, or not yet, in the table).
        if meta.rx_iface.is_none()
            && let Ok(a) = Address::try_from(meta.ll_dst)
        {
            return Some(a);
        }
        if let Some(e) = self.registry.lookup(&meta.next_hop) {
            // A non-storing RPL target behind another node is no neighbour: it is reached by
            // a source route from the root (issue 22), not at a link-layer address.
            return e.neighbour();
        }
        if meta.next_hop.is_unicast_link_local() || self.blind_global {
            return Some(derive_link(&meta.next_hop));
        }
        self.uplink
    }

    /// Free every queued datagram (interface down, reset). Returns how many.
    pub fn flush(&mut self, pool: &mut PacketPool<'_>) -> usize {
        let mut n = 0;
        while let Some((p, _)) = self.queue.pop_front() {
            pool.free(p);
            n += 1;
        }
        if let Some(c) = self.current.take() {
            pool.free(c.pkt);
            n += 1;
        }
        n
    }

    /// Move frames of waiting datagrams into the MAC while it has room, run the MAC, and
    /// account its transmit reports.
    pub fn pump(&mut self, now: Instant, pool: &mut PacketPool<'_>, radio: &mut impl Radio) {
        self.now = self.now.max(now);
        self.fill_mac(pool);
        self.mac.poll(now, radio);
        self.take_reports(pool);
        // A failure may have freed the in-flight slot.
        self.fill_mac(pool);
    }

    /// Account MAC transmit reports (call after [`Mac::handle_event`] too).
    pub fn take_reports(&mut self, pool: &mut PacketPool<'_>) {
        while let Some(r) = self.mac.pop_tx_report() {
            // Only an ACK or its absence says anything of the neighbour: a busy channel
            // (CSMA/CA gave up) or a cancelled frame does not.
            let acked = match r.status {
                TxStatus::Success { .. } => Some(true),
                TxStatus::NoAck => Some(false),
                _ => None,
            };
            if let Some(acked) = acked {
                if self.uplink == Some(r.dst) {
                    self.uplink_failures = if acked {
                        0
                    } else {
                        self.uplink_failures.saturating_add(1)
                    };
                }
                match self.unreachable.tx_outcome(self.now, r.dst, acked) {
                    Change::Unreachable => {
                        self.stats.nbr_unreachable += 1;
                        // Its frames still in the MAC's queue go (reported cancelled, which
                        // aborts a datagram of it being sent), and the datagrams waiting.
                        let n = self.mac.cancel_queued(r.dst);
                        self.stats.tx_unreachable += n as u64;
                        self.drop_queued_for(r.dst, pool);
                    }
                    Change::Evicted => self.stats.nbr_unreachable_evictions += 1,
                    Change::None => {}
                }
            }
            if acked == Some(true) {
                self.stats.tx_frames_ok += 1;
                continue;
            }
            self.stats.tx_frames_failed += 1;
            let abort = self.current.as_ref().is_some_and(|c| {
                c.first_handle
                    .is_some_and(|f| r.handle.0.wrapping_sub(f) < 0x8000 && c.dst == r.dst)
            });
            if abort && let Some(c) = self.current.take() {
                debug!("wpan0: fragment lost, datagram aborted");
                self.stats.tx_aborted += 1;
                pool.free(c.pkt);
            }
        }
    }

    /// Datagrams waiting for a neighbour just found unreachable are dropped (the one being
    /// sent finishes or fails on its own): each would cost the radio every retry.
    fn drop_queued_for(&mut self, dst: Address, pool: &mut PacketPool<'_>) {
        for _ in 0..self.queue.len() {
            let Some((p, a)) = self.queue.pop_front() else {
                break;
            };
            if a == dst {
                self.stats.tx_unreachable += 1;
                pool.free(p);
            } else {
                let _ = self.queue.push_back((p, a));
            }
        }
    }

    fn fill_mac(&mut self, pool: &mut PacketPool<'_>) {
        let src = SixLink::from(self.our_link());
        let opts = self.opts;
        loop {
            if self.current.is_none() {
                let Some((pkt, dst)) = self.queue.pop_front() else {
                    return;
                };
                let tag = self.next_tag;
                self.next_tag = self.next_tag.wrapping_add(1);
                self.current = Some(InFlight {
                    pkt,
                    dst,
                    tag,
                    cont: None,
                    first_handle: None,
                });
            }
            if self.mac.queue_len() >= MAC_TXQ {
                return;
            }
            let Some(c) = self.current.as_mut() else {
                return;
            };
            let mut frame = [0u8; PSDU_MAX];
            let step = {
                let data = pool.data(&c.pkt);
                match c.cont {
                    // Every frame but the first: from the continuation (a copy, kept only
                    // once the MAC took the frame).
                    Some(mut cont) => match cont.next_frame(data, &mut frame) {
                        Ok(Some(n)) => Ok(Some((n, cont))),
                        Ok(None) => Ok(None),
                        Err(_) => Err(()),
                    },
                    None => match Fragmenter::new(
                        data,
                        src,
                        SixLink::from(c.dst),
                        &self.contexts,
                        opts,
                        c.tag,
                        payload_budget(&c.dst)
                            .saturating_sub(self.security.as_ref().map_or(0, |s| s.tx_overhead())),
                    ) {
                        Ok(mut f) => match (f.next_frame(&mut frame), f.continuation()) {
                            (Ok(Some(n)), Some(cont)) => Ok(Some((n, cont))),
                            (Ok(None), _) => Ok(None),
                            _ => Err(()),
                        },
                        Err(_) => Err(()),
                    },
                }
            };
            match step {
                Ok(Some((n, cont))) => {
                    // With security on, a frame that gets no frame counter is not sent at all
                    // (its datagram is dropped, counted by security as `tx_no_counter`).
                    let security = match self.security.as_mut() {
                        None => None,
                        Some(s) => match s.tx() {
                            Some(t) => Some(t),
                            None => {
                                if let Some(c) = self.current.take() {
                                    pool.free(c.pkt);
                                }
                                continue;
                            }
                        },
                    };
                    let req = TxRequest {
                        dst: c.dst,
                        dst_pan: None,
                        src: SrcAddrMode::Extended,
                        frame_type: FrameType::Data,
                        payload: frame.get(..n).unwrap_or(&[]),
                        security,
                    };
                    match self.mac.enqueue(&req) {
                        Ok(h) => {
                            self.stats.tx_frames += 1;
                            c.cont = Some(cont);
                            c.first_handle.get_or_insert(h.0);
                            if cont.is_done() {
                                self.stats.tx_datagrams_done += 1;
                                if let Some(c) = self.current.take() {
                                    pool.free(c.pkt);
                                }
                            }
                        }
                        Err(EnqueueError::QueueFull) => return,
                        Err(_) => {
                            self.stats.tx_adapt_error += 1;
                            if let Some(c) = self.current.take() {
                                pool.free(c.pkt);
                            }
                        }
                    }
                }
                Ok(None) => {
                    self.stats.tx_datagrams_done += 1;
                    if let Some(c) = self.current.take() {
                        pool.free(c.pkt);
                    }
                }
                Err(()) => {
                    self.stats.tx_adapt_error += 1;
                    if let Some(c) = self.current.take() {
                        pool.free(c.pkt);
                    }
                }
            }
        }
    }

    /// When [`Wpan::pump`] has timed work (MAC timers; reassembly timeouts are checked on
    /// every received frame and by [`Wpan::expire`]).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.mac.next_deadline()
    }

    /// Expire reassemblies (their buffers go back to `pool`), compression contexts and
    /// registrations.
    pub fn expire(&mut self, now: Instant, pool: &mut PacketPool<'_>) {
        self.reassembler
            .expire(now, &mut PoolStore::pool_only(pool));
        self.contexts.expire(now);
        self.registry.expire(now);
    }
}

impl L2 for Wpan<'_> {
    fn recv(&mut self, cx: &mut L2Context<'_, '_>, pkt: PacketHandle) -> Verdict {
        self.stats.rx_frames += 1;
        self.now = self.now.max(cx.now);
        // Copy the MPDU out so its buffer can take the datagram (decompressed in place would
        // overwrite the frame while it is read).
        let mut mpdu = [0u8; PSDU_MAX];
        let n = {
            let d = cx.pool.data(&pkt);
            let n = d.len().min(PSDU_MAX);
            if let (Some(dst), Some(src)) = (mpdu.get_mut(..n), d.get(..n)) {
                dst.copy_from_slice(src);
            }
            n
        };
        let Some(mpdu) = mpdu.get_mut(..n) else {
            return Verdict::Drop(pkt);
        };
        // Link-layer security first: nothing below looks at a frame that did not pass it.
        let open = match self.security.as_mut() {
            Some(s) => secure::open(s, mpdu),
            None => Ok(None),
        };
        let Ok(plaintext) = open else {
            return Verdict::Drop(pkt);
        };
        let mpdu = &*mpdu;
        // One walk of the MAC header gives it and the payload.
        let Ok((repr, payload)) = Repr::parse_frame(mpdu) else {
            self.stats.rx_bad_frame += 1;
            return Verdict::Drop(pkt);
        };
        let payload = match plaintext {
            // A secured frame's payload is the plaintext before its MIC.
            Some(range) => mpdu.get(range).unwrap_or(&[]),
            None if repr.is_secured() => {
                self.stats.rx_secured += 1;
                return Verdict::Drop(pkt);
            }
            None => payload,
        };
        if repr.frame_type != FrameType::Data {
            self.stats.rx_not_data += 1;
            return Verdict::Drop(pkt);
        }
        let Some(src) = repr.src_addr else {
            self.stats.rx_bad_frame += 1;
            return Verdict::Drop(pkt);
        };
        self.unreachable.heard(&src);
        let dst = repr.dst_addr;
        let ll_src = SixLink::from(src);
        let ll_dst = dst.map_or(SixLink::Absent, SixLink::from);
        let multicast = dst.is_none_or(|d| d.is_broadcast());
        let mut store = PoolStore::with_frame(cx.pool, pkt);
        let r = self.reassembler.receive(
            &mut store,
            payload,
            &ll_src,
            &ll_dst,
            &self.contexts,
            cx.now,
        );
        // The frame's buffer, unless a datagram kept it.
        let spare = store.spare.take();
        match r {
            Ok(Assembled::Pending) => {
                if let Some(s) = spare {
                    cx.pool.free(s);
                }
                Verdict::Ok
            }
            Ok(Assembled::Datagram { buf, len }) => {
                if let Some(s) = spare {
                    cx.pool.free(s);
                }
                cx.pool.truncate(&buf, len);
                if let Some(m) = cx.pool.meta_mut(&buf) {
                    m.ll_src = LinkAddr::from(src);
                    m.ll_dst = dst.map_or(LinkAddr::NONE, LinkAddr::from);
                    m.ll_multicast = multicast;
                    m.wire_len = 0;
                }
                self.stats.rx_datagrams += 1;
                // Glean only sources the ingress policy will accept (link-local or the mesh
                // prefix, which is context 0): a spoofed foreign source must not take a
                // registration-table slot. And only a neighbour's own address, whose IID is
                // formed from the frame's link-layer source (RFC 4944 §6): a packet an RPL
                // router forwards from further away carries another node's address, which
                // must not be bound to the router's link-layer address (the DAOs say where
                // that node is).
                if let Some(s) = ipv6_src(cx.pool.data(&buf))
                    && (s.is_unicast_link_local()
                        || self.contexts.get(0).is_some_and(|c| c.matches(&s.octets())))
                {
                    if derive_link(&s) == src {
                        self.registry.glean(cx.now, s, src, GLEAN_LIFETIME);
                    } else {
                        // Not gleaned; but a claim on a live gleaned neighbour's address
                        // from another link-layer address is counted as a conflict.
                        self.registry.note_foreign_source(&s, &src);
                    }
                }
                if !self.check_rpl_option(cx.pool, &buf) {
                    return Verdict::Drop(buf);
                }
                Verdict::Continue(buf)
            }
            Err(e) => {
                trace!("wpan0: 6LoWPAN drop {:?}", e);
                if e == ReceiveError::NoBuffer {
                    self.stats.rx_no_buffer += 1;
                } else {
                    self.stats.rx_6lowpan_drop += 1;
                }
                // Every buffer taken for a refused frame was given back: the frame's is here.
                spare.map_or(Verdict::Ok, Verdict::Drop)
            }
        }
    }

    fn send(&mut self, cx: &mut L2Context<'_, '_>, pkt: PacketHandle) -> Result<usize, SendError> {
        if !self.up {
            self.stats.tx_down += 1;
            cx.pool.free(pkt);
            return Err(SendError::Down);
        }
        let dst = match self.next(cx.pool, &pkt) {
            // A mesh router's packet up to the root: its RPL Option, or a tunnel (RFC 9008).
            #[cfg(feature = "router-role")]
            Some(Next::Link(a)) if Some(a) == self.uplink => {
                if !self.go_up(cx.pool, &pkt) {
                    cx.pool.free(pkt);
                    return Err(SendError::Unresolved);
                }
                a
            }
            Some(Next::Link(a)) => a,
            Some(Next::Tunnel(route)) => {
                if !self.encapsulate(cx.pool, &pkt, &route) {
                    self.stats.tx_tunnel_failed += 1;
                    cx.pool.free(pkt);
                    return Err(SendError::Unresolved);
                }
                self.stats.tx_tunnelled += 1;
                route.first_hop
            }
            None => {
                cx.pool.free(pkt);
                return Err(SendError::Unresolved);
            }
        };
        self.now = self.now.max(cx.now);
        if self.unreachable.refuses(self.now, &dst) {
            self.stats.tx_unreachable += 1;
            cx.pool.free(pkt);
            return Err(SendError::Unresolved);
        }
        self.unreachable.sending(self.now, &dst);
        let len = cx.pool.len(&pkt);
        let next_hop = cx.pool.meta(&pkt).next_hop;
        match self.queue.push_back((pkt, dst)) {
            Ok(()) => {
                self.stats.tx_datagrams += 1;
                self.registry.note_tx(&next_hop);
                Ok(len)
            }
            Err((p, _)) => {
                self.stats.tx_queue_full += 1;
                cx.pool.free(p);
                Err(SendError::QueueFull)
            }
        }
    }

    fn enable(&mut self, cx: &mut L2Context<'_, '_>, up: bool) -> Result<(), EnableError> {
        self.up = up;
        if !up {
            self.flush(cx.pool);
        }
        Ok(())
    }

    fn reach(&self, pool: &PacketPool<'_>, pkt: &PacketHandle) -> Reach {
        let first_hop = |n: &Next| match n {
            Next::Link(a) => *a,
            Next::Tunnel(route) => route.first_hop,
        };
        match self.next(pool, pkt) {
            None => Reach::Unresolved,
            // A neighbour that stopped acknowledging, and no probe due (`send` lets the probe
            // through and counts what it refuses).
            Some(n) if self.unreachable.refuses(self.now, &first_hop(&n)) => Reach::Unresolved,
            Some(Next::Link(_)) => Reach::Resolved { mtu: None },
            // The tunnel's headers go around a packet of up to the mesh MTU: the mesh
            // carries the larger datagram (6LoWPAN fragments count up to 2047 bytes) as far as
            // a packet buffer holds it; beyond that, Packet Too Big at what still fits.
            Some(Next::Tunnel(route)) => Reach::Resolved {
                mtu: tunnel_overhead(&route.hops).and_then(|over| {
                    u16::try_from(MESH_MTU.min(pool.max_packet().saturating_sub(over))).ok()
                }),
            },
        }
    }

    fn flags(&self) -> L2Flags {
        // Solicited-node groups are joined: hosts that do not speak 6LoWPAN-ND (RFC 4861
        // only, e.g. smoltcp) resolve the router with multicast NS, and are answered.
        L2Flags::MULTICAST
    }
}
