//! The 6LoWPAN border router's registration table (RFC 6775 / RFC 8505).
//!
//! Every mesh node that registers an address with an Address Registration Option (ARO, RFC 6775
//! §4.1) or an Extended ARO (EARO, RFC 8505 §4.1) gets one [`Entry`]: the IPv6 address, the
//! link-layer address to reach it, who owns it (the ROVR), the Transaction ID, the lifetime and a
//! few counters for the management view. Nodes that never register but send traffic are
//! *gleaned* (RFC 6775 §6.5.5 lets a router learn neighbours from traffic) into the same table
//! with [`Origin::Gleaned`], always subordinate to registrations.
//!
//! # Data structure
//!
//! A [`Registry<N, I>`](Registry) holds, inline and without heap:
//!
//! - `entries: [Stored; N]`, dense: the first [`len`](Registry::len) slots are in use. Removing
//!   an entry moves the last one into its place, so inserting is O(1) and a sweep visits only
//!   the slots in use. A stored entry is the packed form (56 bytes) of the [`Entry`] the
//!   methods hand out by value (64 bytes);
//! - `index: Index<I>`, an open-addressing hash index from the IPv6 address to the position in
//!   `entries` (`I` slots of `u16`, see the `index` submodule: linear probing from a mixed
//!   home slot, deletion by backward shift, so no tombstones). `I` is a power of two and at
//!   least `2 * N`, so the load factor never exceeds ½. The tests bound the longest probe at
//!   full load. The hash is unkeyed: a node that crafts colliding addresses can lengthen
//!   probes, but never beyond `N` comparisons, as the table holds at most `N` entries.
//!
//! Stable Rust cannot write `[u16; 2 * N]`, hence the second const generic; `new` checks
//! `N < u16::MAX`, `I >= 2 * N` and `I.is_power_of_two()` at compile time. [`DefaultRegistry`]
//! is the product's size: 256 entries of 56 bytes plus 512 index slots of 2 bytes, 15.4 KiB.
//!
//! | operation | cost |
//! |---|---|
//! | [`lookup`](Registry::lookup), [`remove`](Registry::remove), refresh | O(1) expected |
//! | [`register`](Registry::register), [`glean`](Registry::glean) of a new address | O(1) expected; O(N) when the table is full (expiry sweep, eviction choice) |
//! | [`expire`](Registry::expire), [`next_expiry`](Registry::next_expiry), [`remove_where`](Registry::remove_where) | O(N) |
//!
//! # Rules implemented
//!
//! [`register`](Registry::register) follows RFC 6775 §6.5.2/§8.2 and RFC 8505 §5.2, with one
//! rule above them all: **an address in use is not given to another link-layer address.** In
//! use means a live entry, registered or gleaned (a gleaned entry lives while its node is
//! heard). Without link-layer security the link-layer source is the one thing a neighbour
//! cannot claim without also receiving the traffic it redirects, and an ROVR alone proves
//! nothing (an RFC 6775 ROVR is the EUI-64 every frame of the node carries).
//!
//! - a free (or expired) address → [`RegisterOutcome::Registered`];
//! - a live entry reached at another link-layer address, or registered by another ROVR →
//!   [`RegisterOutcome::Duplicate`] (ARO status 1), entry untouched. So the owner of a
//!   registration changes only with the same ROVR *and* the same link-layer address, or after
//!   the entry expired, and lifetime zero from anyone else deletes nothing;
//! - a gleaned entry at the same link-layer address → [`RegisterOutcome::Registered`] (the node
//!   started registering);
//! - the same ROVR and link-layer address → [`RegisterOutcome::Refreshed`] (lifetime and TID
//!   updated), unless the TID is stale → [`RegisterOutcome::StaleTid`] (entry untouched; EARO
//!   status 3, Moved), see below;
//! - lifetime zero from the owner deregisters: [`RegisterOutcome::Removed`];
//! - no room → [`RegisterOutcome::Full`] (ARO status 2, neighbor cache full). Before answering
//!   that, expired entries are reclaimed, then the least recently heard gleaned entry is
//!   evicted; a registered entry is never evicted;
//! - [`register_within`](Registry::register_within) also refuses a new registration that
//!   would give one link-layer address more than a quota of registered entries →
//!   [`RegisterOutcome::OverQuota`] (ARO status 2): one neighbour cannot fill the table.
//!
//! [`glean`](Registry::glean) never overrides a registration: it only refreshes
//! `last_heard`/`rx_frames` of a registered entry. A live gleaned entry belongs to the
//! link-layer address it was learnt from: a frame from another one claiming the address is
//! ignored (counted in [`RegistryStats::glean_conflicts`]) and refreshes nothing, so the entry
//! lapses 30 minutes after its own node went silent, not while a spoofer talks. When the table
//! is full it evicts the least recently heard gleaned entry, and refuses (counted) when every
//! entry is registered.
//!
//! ## Address protection (RFC 8928)
//!
//! An ROVR alone proves nothing. What proves ownership is a *proof*: a registration whose ROVR
//! is a Crypto-ID (the leftmost bytes of the Crypto-Type's hash over the Crypto-ID Parameters
//! Option that carries a public key), carrying that option (CIPO) and a signature (NDPSO) made
//! with the matching private key over the AP-ND tag, the CIPO, the registered address and two
//! fresh nonces, one of them (NonceLR) handed out by
//! the 6LBR in a challenge and valid once and briefly. The 6LBR verifies it
//! ([`lbr::ap`](crate::lbr)) and passes [`Registration::proved`]; the registry only keeps the
//! outcome, the entry's [`Entry::crypto`] flag. A *protected* entry (`crypto` set):
//!
//! - is changed only by its own Crypto-ID: any other ROVR is [`RegisterOutcome::Duplicate`],
//!   proved or not (another Crypto-ID proves another key, not this address);
//! - without a new proof, is only refreshed, by its ROVR from its own link-layer address; a
//!   claim from another link-layer address or a deregistration (lifetime zero) needs a proof
//!   ([`needs_proof`](Registry::needs_proof) says when the 6LBR must challenge), else
//!   [`RegisterOutcome::Duplicate`];
//! - with a proof, follows its owner to a new link-layer address (a node that changed radios
//!   or MAC addresses keeps its address), the only case where a live entry moves;
//! - otherwise obeys the rules above (TIDs, quota, expiry: a protected entry that expired is
//!   free like any other).
//!
//! An unprotected entry becomes protected when its owner (same link-layer address and ROVR)
//! proves its Crypto-ID; a proof never takes an address in use from another link-layer
//! address. Gleaning never touches a registered entry, protected or not.
//!
//! ## Transaction ID
//!
//! The TID is a lollipop counter compared exactly like RPL's sequence counters (RFC 8505
//! §5.2.1 copies RFC 6550 §7.2), see [`compare_tid`]: 128..=255 is the *linear* region a node
//! starts in after a reboot (240 recommended), 0..=127 the *circular* one it enters after 255,
//! with a comparison window of 16. For an entry of the same owner:
//!
//! - a fresher TID, an equal one (a retransmission) or one that is not comparable (the most
//!   recently received wins) refreshes;
//! - an older TID in the circular region is stale: [`RegisterOutcome::StaleTid`], answered
//!   with EARO status 3 (Moved: "another more recent registration was done, as indicated by
//!   the same ROVR and a more recent TID", RFC 8505 §4.1) rather than success with the stored
//!   lifetime, which would let a delayed message pass for a confirmation;
//! - an older TID in the linear region is a reboot: a node only goes back there by restarting
//!   its counter (the linear region is never re-entered by counting), so it is accepted. A
//!   delayed message from the node's first 16
//!   registrations after a boot is taken for a reboot too; at the 6LBR, where an NS comes from
//!   the node itself one hop away, there is nothing to reorder it;
//! - no TID (an RFC 6775 ARO) where the owner registered with one is stale: a plain ARO does
//!   not bypass the TID. An owner without TID refreshes with or without one.

//! ## ROVR storage
//!
//! An ROVR is 8 bytes (the EUI-64 of an RFC 6775 ARO) or 8..=32 bytes (RFC 8505 EARO). To keep
//! entries small, [`Entry::rovr`] holds 64 bits: an 8-byte ROVR verbatim (exact, and shown as
//! an EUI-64 by [`Entry::eui64`]); a longer one as its FNV-1a 64 hash ([`rovr_hash`]). Two
//! different long ROVRs that hash alike would be taken for the same owner (a refresh instead of
//! a duplicate); by accident that is a 2⁻⁶⁴ event per conflicting registration. FNV is not
//! collision resistant against a deliberate attacker, but an ROVR alone proves nothing either —
//! any node that overhears a registration can replay it — so ownership proofs (RFC 8928 AP-ND)
//! must be verified before calling [`register`](Registry::register).
//!
//! ## Time
//!
//! Every call that takes `now` advances the registry's clock (to the latest `now` seen; a
//! `now` that goes backwards is treated as the latest). `expires` is kept exactly;
//! `last_heard` to the second (rounded down), which is all eviction and the management view
//! need. An entry whose `expires <= clock` is
//! dead even before [`expire`](Registry::expire) reclaims it: [`lookup`](Registry::lookup),
//! [`iter`](Registry::iter) and [`remove_where`](Registry::remove_where) skip it, and
//! `register`/`glean` treat its slot as free. Reclaiming an entry, lazily or in `expire`,
//! counts it in [`RegistryStats::expired`].

use core::fmt;
use core::net::Ipv6Addr;

use l2_15_4::Address;
use netif::time::{Duration, Instant};

mod index;
mod stored;
mod targets;
mod tid;

use index::{EMPTY, Index, Probe};
pub use stored::rovr_hash;
use stored::{F_LL_SHORT, F_REGISTERED, RovrKey, Stored, pack_ll};
pub use targets::{Dao, DaoOutcome, MAX_RPL_DEPTH, SourceRoute, TargetStats};
use tid::tid_stale;
pub use tid::{TID_SEQUENCE_WINDOW, compare_tid};

/// The product's registration capacity (entries in [`DefaultRegistry`]).
pub const DEFAULT_REGISTRATIONS: usize = 256;

/// Index slots of [`DefaultRegistry`]: the smallest power of two `>= 2 * DEFAULT_REGISTRATIONS`.
pub const DEFAULT_INDEX_SLOTS: usize = 512;

/// The registry the border router uses: [`DEFAULT_REGISTRATIONS`] entries.
pub type DefaultRegistry = Registry<DEFAULT_REGISTRATIONS, DEFAULT_INDEX_SLOTS>;

/// How an entry got into the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Origin {
    /// The node registered the address (ARO/EARO in an NS); only its ROVR may change it.
    Registered,
    /// Learned from traffic of a node that did not register; any registration takes over.
    Gleaned,
    /// Known only as an RPL target (a DAO named it; RFC 6550 §9): the node is reached through
    /// its parents ([`Entry::target`]), not necessarily as a neighbour. The address is in use:
    /// a registration takes over (keeping the RPL state) only from the entry's own link-layer
    /// address, and a glean only marks it heard.
    Dao,
}

/// One registered (or gleaned) address, as [`Registry`] hands it out (by value; the table
/// stores it packed in 56 bytes).
///
/// Sized for a 256-entry table: an 8-byte ROVR is kept in `rovr` itself (so the EUI-64 is a
/// method, [`eui64`](Entry::eui64), not a second field), and there is no registration
/// timestamp (the lifetime left is `expires - now`). The data path counts frames sent with
/// [`Registry::note_tx`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Entry {
    /// The registered IPv6 address.
    pub addr: Ipv6Addr,
    /// The link-layer address to send to (the source of the last registration, or of the
    /// gleaned traffic).
    pub ll: Address,
    /// The owner's ROVR in 64 bits: an 8-byte ROVR (EUI-64) verbatim as a big-endian integer,
    /// a longer one as its FNV-1a 64 hash ([`rovr_hash`]); 0 for a gleaned entry. See the
    /// module documentation for the collision trade-off.
    pub rovr: u64,
    /// Whether `rovr` is an 8-byte ROVR kept verbatim rather than a hash.
    rovr_is_eui64: bool,
    /// Whether the node registered or was gleaned.
    pub origin: Origin,
    /// The TID of the last accepted registration; `None` for an RFC 6775 ARO or a gleaned
    /// entry.
    pub tid: Option<u8>,
    /// The owner proved that its ROVR is its Crypto-ID (RFC 8928): the entry is *protected*
    /// (see the module documentation).
    pub crypto: bool,
    /// When the registration (or the gleaned entry) lapses; the entry is dead from this
    /// instant on.
    pub expires: Instant,
    /// Last registration or frame from the node, to the second (rounded down); chooses which
    /// gleaned entry to evict.
    pub last_heard: Instant,
    /// Frames received from the address (counted by [`Registry::glean`]). Wraps.
    pub rx_frames: u32,
    /// Frames sent to the address (counted by the data path with [`Registry::note_tx`]).
    /// Wraps.
    pub tx_frames: u32,
    /// The RPL state when the address is a live DAO target (see the `targets` submodule).
    pub target: Option<Target>,
}

/// The RPL state of an address that a DAO advertised as a target (RFC 6550 §6.4, §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Target {
    /// The interface identifier of the target's parent, in the target's /64: the Transit
    /// Information's parent address in non-storing mode, the child the DAO came from in
    /// storing mode; `None` when the parent is the root.
    pub parent: Option<[u8; 8]>,
    /// The Path Sequence of the DAO that installed the state (a lollipop counter).
    pub path_seq: u8,
    /// When the path lifetime runs out (to the second, rounded up); the target state is
    /// dead from then on.
    pub expires: Instant,
    /// Learnt in storing mode (MOP 2): the entry's `ll` is the child to forward to.
    pub storing: bool,
    /// The Transit Information's E flag (non-storing): a host outside the RPL domain that
    /// its parent, a 6LR, advertised (RFC 9010); the root's tunnel ends at the parent.
    pub external: bool,
}

impl Entry {
    /// The EUI-64 the node registered with, when its ROVR was 8 bytes (every RFC 6775 ARO,
    /// and EAROs with a 64-bit ROVR); `None` for longer ROVRs and for gleaned entries.
    pub fn eui64(&self) -> Option<[u8; 8]> {
        self.rovr_is_eui64.then(|| self.rovr.to_be_bytes())
    }

    /// Whether `rovr` (the raw ROVR bytes of an ARO/EARO) names this entry's owner. Always
    /// false for a gleaned entry.
    pub fn is_owned_by(&self, rovr: &[u8]) -> bool {
        self.origin == Origin::Registered && RovrKey::of(rovr) == self.rovr_key()
    }

    fn rovr_key(&self) -> RovrKey {
        RovrKey {
            value: self.rovr,
            eui64: self.rovr_is_eui64,
        }
    }
}

/// What [`Registry::register`] did; maps to the ARO status of the reply with
/// [`aro_status`](RegisterOutcome::aro_status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RegisterOutcome {
    /// A new entry (the address was free, expired, or only gleaned).
    Registered,
    /// The owner renewed its registration: link-layer address, lifetime and TID updated.
    Refreshed,
    /// Another ROVR owns the address; the entry is untouched (ARO status 1).
    Duplicate,
    /// No room, even after reclaiming expired and gleaned entries (ARO status 2).
    Full,
    /// The TID is older than the stored one (RFC 8505 §5.2), or missing while the owner uses
    /// TIDs: ignored, entry untouched (EARO status 3, Moved: a fresher registration exists).
    StaleTid,
    /// The link-layer address already holds its quota of registrations (ARO status 2).
    OverQuota,
    /// Lifetime zero from the owner: the entry is gone (also returned when there was no entry
    /// to remove: deregistering an unknown address succeeds).
    Removed,
}

impl RegisterOutcome {
    /// The ARO/EARO status for the NA reply (RFC 6775 §4.1, RFC 8505 §4.1): 0 success,
    /// 1 duplicate address, 2 neighbor cache full (also over quota), 3 moved (stale TID).
    pub fn aro_status(self) -> u8 {
        match self {
            RegisterOutcome::Registered | RegisterOutcome::Refreshed | RegisterOutcome::Removed => {
                0
            }
            RegisterOutcome::Duplicate => 1,
            RegisterOutcome::Full | RegisterOutcome::OverQuota => 2,
            RegisterOutcome::StaleTid => 3,
        }
    }
}

/// One registration as [`Registry::register_with`] takes it.
#[derive(Clone, Copy, Debug)]
pub struct Registration<'a> {
    /// The Registered Address.
    pub addr: Ipv6Addr,
    /// The registrant's link-layer address (the frame's source).
    pub ll: Address,
    /// The raw ROVR: an EUI-64 (RFC 6775 ARO) or 8..=32 bytes (EARO; a Crypto-ID with C set).
    pub rovr: &'a [u8],
    /// The EARO's TID; `None` for an RFC 6775 ARO.
    pub tid: Option<u8>,
    /// The registration lifetime; zero deregisters.
    pub lifetime: Duration,
    /// Live registered entries `ll` may hold ([`RegisterOutcome::OverQuota`] beyond).
    pub quota: usize,
    /// The caller verified a proof that the registrant holds the key of the Crypto-ID `rovr`
    /// (RFC 8928).
    pub proved: bool,
}

/// Counters of a [`Registry`] since creation or [`Registry::reset_stats`]. All wrap (32 bits:
/// the table lives in the board's static RAM, where each counter costs its size).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RegistryStats {
    /// [`RegisterOutcome::Registered`] answers.
    pub registrations: u32,
    /// [`RegisterOutcome::Refreshed`] answers.
    pub refreshes: u32,
    /// [`RegisterOutcome::Duplicate`] answers.
    pub duplicates: u32,
    /// [`RegisterOutcome::Full`] answers.
    pub full: u32,
    /// [`RegisterOutcome::StaleTid`] answers.
    pub stale_tid: u32,
    /// Entries deleted by a deregistration (lifetime zero); not [`Registry::remove`] or
    /// [`Registry::remove_where`].
    pub removed: u32,
    /// Entries reclaimed after their lifetime ran out (by [`Registry::expire`] or lazily).
    pub expired: u32,
    /// Gleaned entries created.
    pub gleaned: u32,
    /// Gleans refused because every entry was registered.
    pub glean_refused_full: u32,
    /// Gleaned entries evicted to make room (for a glean or a registration).
    pub glean_evicted: u32,
    /// Frames claiming a live gleaned address from another link-layer address (ignored).
    pub glean_conflicts: u32,
}

impl RegistryStats {
    const ZERO: RegistryStats = RegistryStats {
        registrations: 0,
        refreshes: 0,
        duplicates: 0,
        full: 0,
        stale_tid: 0,
        removed: 0,
        expired: 0,
        gleaned: 0,
        glean_refused_full: 0,
        glean_evicted: 0,
        glean_conflicts: 0,
    };
}

/// The registration table: at most `N` entries, an index of `I` slots (a power of two
/// `>= 2 * N`). See the [module documentation](self) for the structure and the rules.
pub struct Registry<const N: usize, const I: usize> {
    entries: [Stored; N],
    len: usize,
    index: Index<I>,
    clock: Instant,
    stats: RegistryStats,
    target_stats: TargetStats,
}

impl<const N: usize, const I: usize> Default for Registry<N, I> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const I: usize> fmt::Debug for Registry<N, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("len", &self.len)
            .field("capacity", &N)
            .field("clock", &self.clock)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<const N: usize, const I: usize> Registry<N, I> {
    /// An empty registry; `const`, so it can initialise a `static`.
    ///
    /// Fails to compile unless `N < 65535`, `I >= 2 * N` and `I` is a power of two.
    pub const fn new() -> Self {
        const {
            assert!(N < EMPTY as usize, "Registry: N must be below 65535");
            assert!(I >= 2 * N, "Registry: I must be at least 2 * N");
        }
        Registry {
            entries: [Stored::VACANT; N],
            len: 0,
            index: Index::new(),
            clock: Instant::ZERO,
            stats: RegistryStats::ZERO,
            target_stats: TargetStats::ZERO,
        }
    }

    /// Maximum number of entries (`N`).
    pub fn capacity(&self) -> usize {
        N
    }

    /// Entries stored, including any that have expired but were not reclaimed yet (call
    /// [`expire`](Self::expire) first for the live count).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entry is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The live entry for `addr`. O(1) expected.
    ///
    /// An entry that expired by the latest `now` passed to the registry is not returned.
    pub fn lookup(&self, addr: &Ipv6Addr) -> Option<Entry> {
        match self.probe(addr)? {
            Probe::Found { pos } => self
                .entries
                .get(pos)
                .filter(|e| e.expires > self.clock)
                .map(Stored::view),
            Probe::Vacant { .. } => None,
        }
    }

    /// Counts a frame sent to `addr` ([`Entry::tx_frames`]); false when it has no live entry.
    /// O(1) expected.
    pub fn note_tx(&mut self, addr: &Ipv6Addr) -> bool {
        let clock = self.clock;
        let Some(Probe::Found { pos }) = self.probe(addr) else {
            return false;
        };
        match self.entries.get_mut(pos).filter(|e| e.expires > clock) {
            Some(e) => {
                e.tx_frames = e.tx_frames.wrapping_add(1);
                true
            }
            None => false,
        }
    }

    /// Handles an address registration (ARO/EARO) for `addr` from link-layer address `ll`.
    ///
    /// `rovr` is the raw ROVR (the EUI-64 of an RFC 6775 ARO, 8..=32 bytes in an EARO), `tid`
    /// the EARO's Transaction ID (`None` for an RFC 6775 ARO: always accepted), `lifetime` the
    /// registration lifetime (zero deregisters). See the module documentation for the rules;
    /// in addition, a zero lifetime for an address that is only gleaned deletes the gleaned
    /// entry ([`RegisterOutcome::Removed`], counted in [`RegistryStats::removed`]).
    pub fn register(
        &mut self,
        now: Instant,
        addr: Ipv6Addr,
        ll: Address,
        rovr: &[u8],
        tid: Option<u8>,
        lifetime: Duration,
    ) -> RegisterOutcome {
        self.register_within(now, addr, ll, rovr, tid, lifetime, usize::MAX)
    }

    /// [`register`](Self::register) with a quota: a registration that would give `ll` more
    /// than `quota` live registered entries is refused with [`RegisterOutcome::OverQuota`]
    /// (a refresh of an entry `ll` already holds is not a new one). O(N) for a new entry.
    #[allow(clippy::too_many_arguments)]
    pub fn register_within(
        &mut self,
        now: Instant,
        addr: Ipv6Addr,
        ll: Address,
        rovr: &[u8],
        tid: Option<u8>,
        lifetime: Duration,
        quota: usize,
    ) -> RegisterOutcome {
        self.register_with(
            now,
            &Registration {
                addr,
                ll,
                rovr,
                tid,
                lifetime,
                quota,
                proved: false,
            },
        )
    }

    /// [`register_within`](Self::register_within) for a registration whose ownership proof
    /// (RFC 8928) the caller may have verified (`r.proved`): see "Address protection" in the
    /// module documentation.
    pub fn register_with(&mut self, now: Instant, r: &Registration<'_>) -> RegisterOutcome {
        let now = self.advance(now);
        let outcome = self.register_inner(now, r);
        let s = &mut self.stats;
        let counter = match outcome {
            RegisterOutcome::Registered => &mut s.registrations,
            RegisterOutcome::Refreshed => &mut s.refreshes,
            RegisterOutcome::Duplicate => &mut s.duplicates,
            RegisterOutcome::Full => &mut s.full,
            RegisterOutcome::StaleTid => &mut s.stale_tid,
            // Counted by the caller, which chose the quota.
            RegisterOutcome::OverQuota => return outcome,
            // Counted where an entry is actually deleted.
            RegisterOutcome::Removed => return outcome,
        };
        *counter = counter.wrapping_add(1);
        outcome
    }

    /// Whether a registration of `addr` from `ll` with the Crypto-ID `rovr` needs a proof of
    /// ownership (RFC 8928 §6.1) at `now`: always, unless it refreshes (non-zero `lifetime`) a
    /// live protected entry of that Crypto-ID from the entry's own link-layer address. So the first
    /// registration of an address with a Crypto-ID, one from another link-layer address, a
    /// deregistration and a claim on another owner's address are all challenged.
    pub fn needs_proof(
        &self,
        now: Instant,
        addr: &Ipv6Addr,
        ll: &Address,
        rovr: &[u8],
        lifetime: Duration,
    ) -> bool {
        let now = self.clock.max(now);
        !self.lookup(addr).is_some_and(|e| {
            e.crypto
                && e.expires > now
                && e.ll == *ll
                && e.rovr_key() == RovrKey::of(rovr)
                && lifetime != Duration::ZERO
        })
    }

    fn register_inner(&mut self, now: Instant, r: &Registration<'_>) -> RegisterOutcome {
        let key = RovrKey::of(r.rovr);
        let (addr, ll, tid, lifetime, quota) = (r.addr, r.ll, r.tid, r.lifetime, r.quota);
        if let Some(pos) = self.live_position(&addr) {
            let Some(stored) = self.entries.get(pos) else {
                return RegisterOutcome::Full;
            };
            let mut e = stored.view();
            let moves = e.ll != ll;
            if cfg!(feature = "address-protection") && e.crypto {
                // Protected: only its Crypto-ID, and without a new proof only a refresh from
                // its own link-layer address.
                if e.rovr_key() != key || (!r.proved && (moves || lifetime == Duration::ZERO)) {
                    return RegisterOutcome::Duplicate;
                }
            } else if moves || (e.origin == Origin::Registered && e.rovr_key() != key) {
                // In use by another link-layer address (or, registered, by another owner).
                return RegisterOutcome::Duplicate;
            }
            let take_over = e.origin != Origin::Registered;
            if !take_over && tid_stale(tid, e.tid) {
                return RegisterOutcome::StaleTid;
            }
            if lifetime == Duration::ZERO {
                self.remove_at(pos);
                self.stats.removed = self.stats.removed.wrapping_add(1);
                return RegisterOutcome::Removed;
            }
            // Only a proved owner moves (never without the feature).
            let moves = cfg!(feature = "address-protection") && moves;
            if (take_over || moves) && self.registered_by(&ll) >= quota {
                return RegisterOutcome::OverQuota;
            }
            e.ll = ll;
            e.rovr = key.value;
            e.rovr_is_eui64 = key.eui64;
            e.origin = Origin::Registered;
            e.tid = tid;
            e.crypto |= r.proved;
            e.expires = now + lifetime;
            e.last_heard = now;
            if let Some(slot) = self.entries.get_mut(pos) {
                *slot = Stored::pack(&e);
            }
            return if take_over {
                RegisterOutcome::Registered
            } else {
                RegisterOutcome::Refreshed
            };
        }
        if lifetime == Duration::ZERO {
            return RegisterOutcome::Removed;
        }
        if self.registered_by(&ll) >= quota {
            return RegisterOutcome::OverQuota;
        }
        let entry = Entry {
            addr,
            ll,
            rovr: key.value,
            rovr_is_eui64: key.eui64,
            origin: Origin::Registered,
            tid,
            crypto: r.proved,
            expires: now + lifetime,
            last_heard: now,
            rx_frames: 0,
            tx_frames: 0,
            target: None,
        };
        if self.insert(now, entry) {
            RegisterOutcome::Registered
        } else {
            RegisterOutcome::Full
        }
    }

    /// Live registered entries reached at `ll`. O(N).
    pub fn registered_by(&self, ll: &Address) -> usize {
        let clock = self.clock;
        let (bytes, short) = pack_ll(ll);
        let mask = F_REGISTERED | F_LL_SHORT;
        self.stored()
            .iter()
            .filter(|e| {
                e.flags & mask == F_REGISTERED | short && e.ll == bytes && e.expires > clock
            })
            .count()
    }

    /// Learns `addr` at `ll` from a frame of a node that did not register it.
    ///
    /// - A registered entry is never overridden: only its `last_heard` and `rx_frames` are
    ///   refreshed.
    /// - A gleaned entry is refreshed: `ll` updated, `rx_frames` counted, `last_heard` set,
    ///   `expires` extended to `now + lifetime` (never shortened).
    /// - A new address gets a gleaned entry (`rx_frames` 1). When the table is full, expired
    ///   entries are reclaimed, then the least recently heard gleaned entry is evicted (ties:
    ///   the lowest address); when every entry is registered the glean is refused.
    ///
    /// Returns whether `addr` has a live entry afterwards (false when refused, or for a new
    /// address with a zero `lifetime`).
    pub fn glean(&mut self, now: Instant, addr: Ipv6Addr, ll: Address, lifetime: Duration) -> bool {
        let now = self.advance(now);
        if let Some(pos) = self.live_position(&addr) {
            let Some(stored) = self.entries.get_mut(pos) else {
                return false;
            };
            let mut e = stored.view();
            if e.origin == Origin::Gleaned && e.ll != ll {
                // In use by another link-layer address: not moved, not refreshed.
                self.stats.glean_conflicts = self.stats.glean_conflicts.wrapping_add(1);
                return true;
            }
            e.last_heard = now;
            e.rx_frames = e.rx_frames.wrapping_add(1);
            if targets::host_heard_directly(&mut e, ll, now, lifetime) {
                self.stats.gleaned = self.stats.gleaned.wrapping_add(1);
            }
            if e.origin == Origin::Gleaned {
                e.expires = e.expires.max(now + lifetime);
            }
            *stored = Stored::pack(&e);
            return true;
        }
        if lifetime == Duration::ZERO {
            return false;
        }
        let entry = Entry {
            addr,
            ll,
            rovr: 0,
            rovr_is_eui64: false,
            origin: Origin::Gleaned,
            tid: None,
            crypto: false,
            expires: now + lifetime,
            last_heard: now,
            rx_frames: 1,
            tx_frames: 0,
            target: None,
        };
        let inserted = self.insert(now, entry);
        let s = &mut self.stats;
        if inserted {
            s.gleaned = s.gleaned.wrapping_add(1);
        } else {
            s.glean_refused_full = s.glean_refused_full.wrapping_add(1);
        }
        inserted
    }

    /// A frame from `ll` carried `addr` as its source without being gleaned (its IID is not
    /// formed from `ll`: forwarded traffic, or a spoofer). Counts a
    /// [`RegistryStats::glean_conflicts`] when `addr` is a live gleaned entry of another
    /// link-layer address; changes nothing. Returns whether it counted.
    pub fn note_foreign_source(&mut self, addr: &Ipv6Addr, ll: &Address) -> bool {
        let conflict = self
            .lookup(addr)
            .is_some_and(|e| e.origin == Origin::Gleaned && e.ll != *ll);
        if conflict {
            self.stats.glean_conflicts = self.stats.glean_conflicts.wrapping_add(1);
        }
        conflict
    }

    /// Removes the entry for `addr` (administratively; not counted in the stats) and returns
    /// it; `None` if there is no live entry (an expired one is reclaimed and counted expired).
    pub fn remove(&mut self, addr: &Ipv6Addr) -> Option<Entry> {
        let Some(Probe::Found { pos }) = self.probe(addr) else {
            return None;
        };
        let removed = self.remove_at(pos)?;
        if removed.expires > self.clock {
            Some(removed.view())
        } else {
            self.stats.expired = self.stats.expired.wrapping_add(1);
            None
        }
    }

    /// Reclaims every entry with `expires <= now` and returns how many (also counted in
    /// [`RegistryStats::expired`]). O(N).
    pub fn expire(&mut self, now: Instant) -> usize {
        let now = self.advance(now);
        let n = self.retain(|e| e.expires > now);
        self.stats.expired = self.stats.expired.wrapping_add(n as u32);
        n
    }

    /// The earliest `expires` of the stored entries (in the past if an expired entry awaits
    /// [`expire`](Self::expire)); `None` when empty. When to call `expire` next. O(N): a scan,
    /// as registrations refresh far more often than this is asked.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.stored().iter().map(|e| e.expires).min()
    }

    /// The live entries, in storage order (which changes as entries come and go).
    pub fn iter(&self) -> impl Iterator<Item = Entry> + '_ {
        let clock = self.clock;
        self.stored()
            .iter()
            .filter(move |e| e.expires > clock)
            .map(Stored::view)
    }

    /// Removes every live entry for which `f` returns true (e.g. entries outside a new mesh
    /// prefix) and returns how many; not counted in the stats. O(N).
    pub fn remove_where(&mut self, mut f: impl FnMut(&Entry) -> bool) -> usize {
        let clock = self.clock;
        self.retain(|e| e.expires <= clock || !f(&e.view()))
    }

    /// The counters.
    pub fn stats(&self) -> RegistryStats {
        self.stats
    }

    /// Zeroes the counters.
    pub fn reset_stats(&mut self) {
        self.stats = RegistryStats::ZERO;
        self.target_stats = TargetStats::ZERO;
    }

    /// The longest probe sequence in the index: how many slots the slowest successful lookup
    /// examines (0 when empty). A health figure for the management view. O(I).
    pub fn max_probe_len(&self) -> usize {
        self.index
            .max_probe_len(|pos| self.entries.get(pos).map(|e| &e.addr))
    }

    // ---- internals ----

    /// Moves the clock to `max(clock, now)` and returns it.
    fn advance(&mut self, now: Instant) -> Instant {
        self.clock = self.clock.max(now);
        self.clock
    }

    fn stored(&self) -> &[Stored] {
        self.entries.get(..self.len).unwrap_or(&[])
    }

    /// Finds `addr` in the index. `None` only if the index is corrupt (full, or out of
    /// range), which the load factor rules out.
    fn probe(&self, addr: &Ipv6Addr) -> Option<Probe> {
        self.index
            .probe(addr, |pos| self.stored().get(pos).map(|e| &e.addr))
    }

    /// Position of the live entry for `addr`; an expired one is reclaimed (counted) first.
    fn live_position(&mut self, addr: &Ipv6Addr) -> Option<usize> {
        let Some(Probe::Found { pos }) = self.probe(addr) else {
            return None;
        };
        if self.entries.get(pos)?.expires > self.clock {
            return Some(pos);
        }
        self.remove_at(pos);
        self.stats.expired = self.stats.expired.wrapping_add(1);
        None
    }

    /// The index slot that points at `pos`: along `entries[pos]`'s probe sequence, or by a
    /// scan of the whole index should a caller have changed the entry's address.
    fn slot_of(&self, pos: usize) -> Option<usize> {
        self.index.slot_of(&self.entries.get(pos)?.addr, pos)
    }

    /// Deletes the entry at `pos`: unlinks it and moves the last entry into its place.
    fn remove_at(&mut self, pos: usize) -> Option<Stored> {
        let last = self.len.checked_sub(1)?;
        let removed = *self.stored().get(pos)?;
        let slot = self.slot_of(pos)?;
        let entries = &self.entries;
        self.index.unlink(slot, |p| entries.get(p).map(|e| &e.addr));
        if pos != last {
            let moved_slot = self.slot_of(last)?;
            let moved = *self.entries.get(last)?;
            *self.entries.get_mut(pos)? = moved;
            self.index.point(moved_slot, pos)?;
        }
        self.len = last;
        Some(removed)
    }

    /// Deletes every entry for which `keep` is false; returns how many.
    fn retain(&mut self, mut keep: impl FnMut(&Stored) -> bool) -> usize {
        let mut removed = 0;
        let mut pos = 0;
        while let Some(e) = self.stored().get(pos) {
            if keep(e) {
                pos += 1;
            } else if self.remove_at(pos).is_some() {
                removed += 1;
            } else {
                break;
            }
        }
        removed
    }

    /// Position of the least recently heard gleaned entry (ties: the lowest address).
    fn eviction_candidate(&self) -> Option<usize> {
        self.stored()
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_gleaned())
            .min_by_key(|(_, e)| (e.last_heard, e.addr))
            .map(|(pos, _)| pos)
    }

    /// Stores a new entry (its address is known absent), making room if needed: expired
    /// entries first, then the least recently heard gleaned one. False when full.
    fn insert(&mut self, now: Instant, entry: Entry) -> bool {
        if self.len >= N {
            self.expire(now);
        }
        if self.len >= N {
            let Some(pos) = self.eviction_candidate() else {
                return false;
            };
            if self.remove_at(pos).is_none() {
                return false;
            }
            self.stats.glean_evicted = self.stats.glean_evicted.wrapping_add(1);
        }
        let Some(Probe::Vacant { slot }) = self.probe(&entry.addr) else {
            return false;
        };
        let pos = self.len;
        let Some(e) = self.entries.get_mut(pos) else {
            return false;
        };
        if self.index.point(slot, pos).is_none() {
            return false;
        }
        *e = Stored::pack(&entry);
        self.len = pos.wrapping_add(1);
        true
    }
}

#[cfg(test)]
mod tests;
