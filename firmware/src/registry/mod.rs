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
//! - `index: [u16; I]`, an open-addressing hash index from the IPv6 address to the position in
//!   `entries` (`u16::MAX` marks an empty slot). `I` is a power of two and at least `2 * N`, so
//!   the load factor never exceeds ½. Lookups probe linearly from the address's home slot;
//!   deletion uses *backward shift* (Knuth's Algorithm R): the entries after the hole that may
//!   legally move back are moved, so there are no tombstones and probe sequences never grow
//!   with churn.
//!
//! The home slot comes from a two-round multiply/xor-shift mixer of the address's two 64-bit
//! halves, chosen so that addresses differing in any single byte (sequential IIDs, IIDs derived
//! from 16-bit short addresses) spread evenly; the tests bound the longest probe at full load.
//! The hash is unkeyed: a node that crafts colliding addresses can lengthen probes, but never
//! beyond `N` comparisons, as the table holds at most `N` entries.
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
//! [`register`](Registry::register) follows RFC 6775 §6.5.2/§8.2 and RFC 8505 §5.2:
//!
//! - a free address → [`RegisterOutcome::Registered`];
//! - the same ROVR → [`RegisterOutcome::Refreshed`] (link-layer address, lifetime and TID
//!   updated), unless the TID is older than the stored one → [`RegisterOutcome::StaleTid`]
//!   (entry untouched; answer with the stored state);
//! - a different ROVR → [`RegisterOutcome::Duplicate`] (ARO status 1), entry untouched —
//!   except when the entry was only gleaned: a registration always takes over from traffic;
//! - lifetime zero deregisters: [`RegisterOutcome::Removed`] with the owner's ROVR,
//!   [`RegisterOutcome::Duplicate`] with another one;
//! - no room → [`RegisterOutcome::Full`] (ARO status 2, neighbor cache full). Before answering
//!   that, expired entries are reclaimed, then the least recently heard gleaned entry is
//!   evicted; a registered entry is never evicted.
//!
//! [`glean`](Registry::glean) never overrides a registration: it only refreshes
//! `last_heard`/`rx_frames` of a registered entry. When the table is full it evicts the least
//! recently heard gleaned entry, and refuses (counted) when every entry is registered.
//!
//! ## Transaction ID
//!
//! The TID is a lollipop counter compared exactly like RPL's sequence counters (RFC 8505
//! §5.2.1 copies RFC 6550 §7.2), see [`compare_tid`]: 128..=255 is the *linear* region a node
//! starts in after a reboot (240 recommended), 0..=127 the *circular* one it enters after 255,
//! with a comparison window of 16. An ARO without a TID (RFC 6775) is always accepted, as is a
//! TID that is not comparable with the stored one (the most recently received wins). An equal
//! TID is a retransmission and refreshes.
//!
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

use core::cmp::Ordering;
use core::fmt;
use core::net::Ipv6Addr;

use l2_15_4::Address;
use netif::time::{Duration, Instant};

/// The product's registration capacity (entries in [`DefaultRegistry`]).
pub const DEFAULT_REGISTRATIONS: usize = 256;

/// Index slots of [`DefaultRegistry`]: the smallest power of two `>= 2 * DEFAULT_REGISTRATIONS`.
pub const DEFAULT_INDEX_SLOTS: usize = 512;

/// The registry the border router uses: [`DEFAULT_REGISTRATIONS`] entries.
pub type DefaultRegistry = Registry<DEFAULT_REGISTRATIONS, DEFAULT_INDEX_SLOTS>;

/// `SEQUENCE_WINDOW` of RFC 6550 §7.2 / RFC 8505 §5.2.1: how far apart two TIDs may be and
/// still be compared.
pub const TID_SEQUENCE_WINDOW: u8 = 16;

/// Marks an empty index slot.
const EMPTY: u16 = u16::MAX;

/// How an entry got into the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Origin {
    /// The node registered the address (ARO/EARO in an NS); only its ROVR may change it.
    Registered,
    /// Learned from traffic of a node that did not register; any registration takes over.
    Gleaned,
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

/// [`Stored::flags`]: the node registered (else gleaned).
const F_REGISTERED: u8 = 1 << 0;
/// [`Stored::flags`]: `rovr` is an 8-byte ROVR kept verbatim.
const F_ROVR_EUI64: u8 = 1 << 1;
/// [`Stored::flags`]: `ll` holds a short address (its first two bytes).
const F_LL_SHORT: u8 = 1 << 2;
/// [`Stored::flags`]: `tid` is present.
const F_TID: u8 = 1 << 3;

/// An [`Entry`] as the table keeps it: 56 bytes instead of 64 (a 256-entry table saves 2 KiB
/// of static RAM). The link-layer address is 8 bytes plus a flag instead of a 10-byte enum,
/// `last_heard` is whole seconds, and the origin, ROVR kind and TID presence share one byte.
#[derive(Clone, Copy)]
struct Stored {
    addr: Ipv6Addr,
    expires: Instant,
    rovr: u64,
    ll: [u8; 8],
    /// Seconds since time zero, rounded down.
    last_heard: u32,
    rx_frames: u32,
    tx_frames: u32,
    flags: u8,
    tid: u8,
}

const _: () = assert!(core::mem::size_of::<Stored>() <= 56);

/// `t` in whole seconds (rounded down, saturating at `u32::MAX`, 136 years).
fn to_secs(t: Instant) -> u32 {
    u32::try_from(t.as_micros() / 1_000_000).unwrap_or(u32::MAX)
}

impl Stored {
    /// The slot filler of an empty registry (never visible).
    const VACANT: Stored = Stored {
        addr: Ipv6Addr::UNSPECIFIED,
        expires: Instant::ZERO,
        rovr: 0,
        ll: [0; 8],
        last_heard: 0,
        rx_frames: 0,
        tx_frames: 0,
        flags: 0,
        tid: 0,
    };

    fn pack(e: &Entry) -> Stored {
        let mut flags = 0;
        if e.origin == Origin::Registered {
            flags |= F_REGISTERED;
        }
        if e.rovr_is_eui64 {
            flags |= F_ROVR_EUI64;
        }
        if e.tid.is_some() {
            flags |= F_TID;
        }
        let ll = match e.ll {
            Address::Short(a) => {
                flags |= F_LL_SHORT;
                let [b0, b1] = a.to_be_bytes();
                [b0, b1, 0, 0, 0, 0, 0, 0]
            }
            Address::Extended(x) => x,
        };
        Stored {
            addr: e.addr,
            expires: e.expires,
            rovr: e.rovr,
            ll,
            last_heard: to_secs(e.last_heard),
            rx_frames: e.rx_frames,
            tx_frames: e.tx_frames,
            flags,
            tid: e.tid.unwrap_or(0),
        }
    }

    fn view(&self) -> Entry {
        let [b0, b1, ..] = self.ll;
        Entry {
            addr: self.addr,
            ll: if self.flags & F_LL_SHORT != 0 {
                Address::Short(u16::from_be_bytes([b0, b1]))
            } else {
                Address::Extended(self.ll)
            },
            rovr: self.rovr,
            rovr_is_eui64: self.flags & F_ROVR_EUI64 != 0,
            origin: if self.flags & F_REGISTERED != 0 {
                Origin::Registered
            } else {
                Origin::Gleaned
            },
            tid: (self.flags & F_TID != 0).then_some(self.tid),
            expires: self.expires,
            last_heard: Instant::from_secs(u64::from(self.last_heard)),
            rx_frames: self.rx_frames,
            tx_frames: self.tx_frames,
        }
    }

    fn is_gleaned(&self) -> bool {
        self.flags & F_REGISTERED == 0
    }
}

/// The ROVR as stored: 64 bits plus whether they are verbatim.
#[derive(Clone, Copy, PartialEq, Eq)]
struct RovrKey {
    value: u64,
    eui64: bool,
}

impl RovrKey {
    fn of(rovr: &[u8]) -> RovrKey {
        match <[u8; 8]>::try_from(rovr) {
            Ok(eui) => RovrKey {
                value: u64::from_be_bytes(eui),
                eui64: true,
            },
            Err(_) => RovrKey {
                value: rovr_hash(rovr),
                eui64: false,
            },
        }
    }
}

/// FNV-1a 64 of `bytes`: how an ROVR longer than 8 bytes is stored in [`Entry::rovr`].
pub fn rovr_hash(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET_BASIS, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// Compares two TIDs (lollipop counters) per RFC 8505 §5.2.1 (= RFC 6550 §7.2).
///
/// `Some(Greater)` means `a` is fresher than `b`; `None` means the two are not comparable
/// (desynchronised), in which case the caller should prefer the most recently received one.
///
/// - One in the linear region 128..=255 (`l`), one in the circular region 0..=127 (`c`):
///   `c` is fresher iff `256 + c - l <= 16` (the counter just wrapped from the end of the
///   linear region), otherwise `l` is fresher (the node rebooted). Always comparable.
/// - Both linear: comparable iff `|a - b| <= 16`, then the larger is fresher (the linear
///   region does not wrap: 255 is followed by 0, in the circular region).
/// - Both circular: RFC 1982 serial arithmetic in a space of 128: with `d = (a - b) mod 128`,
///   `a` is fresher iff `1 <= d <= 16`, `b` iff `1 <= 128 - d <= 16`; otherwise not
///   comparable. So 0 is fresher than 127 (the circular wrap).
pub fn compare_tid(a: u8, b: u8) -> Option<Ordering> {
    const LINEAR: u8 = 128;
    let window = u16::from(TID_SEQUENCE_WINDOW);
    match (a >= LINEAR, b >= LINEAR) {
        (true, false) => {
            // 256 + b - a with a >= 128, b <= 127: in 1..=255, no overflow.
            let gap = 256u16 - u16::from(a) + u16::from(b);
            Some(if gap <= window {
                Ordering::Less
            } else {
                Ordering::Greater
            })
        }
        (false, true) => compare_tid(b, a).map(Ordering::reverse),
        (true, true) => (a.abs_diff(b) <= TID_SEQUENCE_WINDOW).then(|| a.cmp(&b)),
        (false, false) => {
            let d = a.wrapping_sub(b) & 0x7f;
            if d == 0 {
                Some(Ordering::Equal)
            } else if d <= TID_SEQUENCE_WINDOW {
                Some(Ordering::Greater)
            } else if 128 - d <= TID_SEQUENCE_WINDOW {
                Some(Ordering::Less)
            } else {
                None
            }
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
    /// The TID is older than the stored one (RFC 8505 §5.2): ignored, entry untouched; reply
    /// with the stored state.
    StaleTid,
    /// Lifetime zero from the owner: the entry is gone (also returned when there was no entry
    /// to remove: deregistering an unknown address succeeds).
    Removed,
}

impl RegisterOutcome {
    /// The ARO/EARO status for the NA reply (RFC 6775 §4.1): 0 success, 1 duplicate address,
    /// 2 neighbor cache full. [`StaleTid`](RegisterOutcome::StaleTid) answers 0 with the
    /// stored lifetime.
    pub fn aro_status(self) -> u8 {
        match self {
            RegisterOutcome::Registered
            | RegisterOutcome::Refreshed
            | RegisterOutcome::StaleTid
            | RegisterOutcome::Removed => 0,
            RegisterOutcome::Duplicate => 1,
            RegisterOutcome::Full => 2,
        }
    }
}

/// Counters of a [`Registry`] since creation or [`Registry::reset_stats`]. All wrap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RegistryStats {
    /// [`RegisterOutcome::Registered`] answers.
    pub registrations: u64,
    /// [`RegisterOutcome::Refreshed`] answers.
    pub refreshes: u64,
    /// [`RegisterOutcome::Duplicate`] answers.
    pub duplicates: u64,
    /// [`RegisterOutcome::Full`] answers.
    pub full: u64,
    /// [`RegisterOutcome::StaleTid`] answers.
    pub stale_tid: u64,
    /// Entries deleted by a deregistration (lifetime zero); not [`Registry::remove`] or
    /// [`Registry::remove_where`].
    pub removed: u64,
    /// Entries reclaimed after their lifetime ran out (by [`Registry::expire`] or lazily).
    pub expired: u64,
    /// Gleaned entries created.
    pub gleaned: u64,
    /// Gleans refused because every entry was registered.
    pub glean_refused_full: u64,
    /// Gleaned entries evicted to make room (for a glean or a registration).
    pub glean_evicted: u64,
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
    };
}

/// Where an address is, or would go, in the index.
enum Probe {
    /// `entries[pos].addr` is the address.
    Found { pos: usize },
    /// Not present; `index[slot]` is the empty slot ending its probe sequence.
    Vacant { slot: usize },
}

/// The registration table: at most `N` entries, an index of `I` slots (a power of two
/// `>= 2 * N`). See the [module documentation](self) for the structure and the rules.
pub struct Registry<const N: usize, const I: usize> {
    entries: [Stored; N],
    len: usize,
    index: [u16; I],
    clock: Instant,
    stats: RegistryStats,
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
            assert!(I.is_power_of_two(), "Registry: I must be a power of two");
        }
        Registry {
            entries: [Stored::VACANT; N],
            len: 0,
            index: [EMPTY; I],
            clock: Instant::ZERO,
            stats: RegistryStats::ZERO,
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
        let now = self.advance(now);
        let key = RovrKey::of(rovr);
        let outcome = self.register_inner(now, addr, ll, key, tid, lifetime);
        let s = &mut self.stats;
        let counter = match outcome {
            RegisterOutcome::Registered => &mut s.registrations,
            RegisterOutcome::Refreshed => &mut s.refreshes,
            RegisterOutcome::Duplicate => &mut s.duplicates,
            RegisterOutcome::Full => &mut s.full,
            RegisterOutcome::StaleTid => &mut s.stale_tid,
            // Counted where an entry is actually deleted.
            RegisterOutcome::Removed => return outcome,
        };
        *counter = counter.wrapping_add(1);
        outcome
    }

    fn register_inner(
        &mut self,
        now: Instant,
        addr: Ipv6Addr,
        ll: Address,
        key: RovrKey,
        tid: Option<u8>,
        lifetime: Duration,
    ) -> RegisterOutcome {
        if let Some(pos) = self.live_position(&addr) {
            let Some(stored) = self.entries.get(pos) else {
                return RegisterOutcome::Full;
            };
            let mut e = stored.view();
            let take_over = match e.origin {
                Origin::Gleaned => true,
                Origin::Registered if e.rovr_key() != key => return RegisterOutcome::Duplicate,
                Origin::Registered => false,
            };
            if !take_over
                && let (Some(new), Some(old)) = (tid, e.tid)
                && compare_tid(new, old) == Some(Ordering::Less)
            {
                return RegisterOutcome::StaleTid;
            }
            if lifetime == Duration::ZERO {
                self.remove_at(pos);
                self.stats.removed = self.stats.removed.wrapping_add(1);
                return RegisterOutcome::Removed;
            }
            e.ll = ll;
            e.rovr = key.value;
            e.rovr_is_eui64 = key.eui64;
            e.origin = Origin::Registered;
            e.tid = tid;
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
        let entry = Entry {
            addr,
            ll,
            rovr: key.value,
            rovr_is_eui64: key.eui64,
            origin: Origin::Registered,
            tid,
            expires: now + lifetime,
            last_heard: now,
            rx_frames: 0,
            tx_frames: 0,
        };
        if self.insert(now, entry) {
            RegisterOutcome::Registered
        } else {
            RegisterOutcome::Full
        }
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
            e.last_heard = now;
            e.rx_frames = e.rx_frames.wrapping_add(1);
            if e.origin == Origin::Gleaned {
                e.ll = ll;
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
            expires: now + lifetime,
            last_heard: now,
            rx_frames: 1,
            tx_frames: 0,
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
        self.stats.expired = self.stats.expired.wrapping_add(n as u64);
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
    }

    /// The longest probe sequence in the index: how many slots the slowest successful lookup
    /// examines (0 when empty). A health figure for the management view. O(I).
    pub fn max_probe_len(&self) -> usize {
        let mask = I.wrapping_sub(1);
        self.index
            .iter()
            .enumerate()
            .filter_map(|(slot, &p)| {
                let e = self.entries.get(usize::from(p))?;
                Some((slot.wrapping_sub(Self::home(&e.addr)) & mask).wrapping_add(1))
            })
            .max()
            .unwrap_or(0)
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

    /// The address's home slot in the index.
    fn home(addr: &Ipv6Addr) -> usize {
        let bits = addr.to_bits();
        let (hi, lo) = ((bits >> 64) as u64, bits as u64);
        // A bijection of either half when the other is fixed (odd multiplier, xor), so a
        // family that varies in one half never collides before the finaliser ...
        let mut h = hi.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ lo;
        // ... and MurmurHash3's fmix64, whose every output bit depends on every input bit.
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^= h >> 33;
        (h as usize) & I.wrapping_sub(1)
    }

    /// Finds `addr` in the index. `None` only if the index is corrupt (full, or out of
    /// range), which the load factor rules out.
    fn probe(&self, addr: &Ipv6Addr) -> Option<Probe> {
        let mask = I.wrapping_sub(1);
        let mut slot = Self::home(addr);
        for _ in 0..I {
            let p = *self.index.get(slot)?;
            if p == EMPTY {
                return Some(Probe::Vacant { slot });
            }
            let pos = usize::from(p);
            if self.stored().get(pos).is_some_and(|e| e.addr == *addr) {
                return Some(Probe::Found { pos });
            }
            slot = slot.wrapping_add(1) & mask;
        }
        None
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
        let target = u16::try_from(pos).ok()?;
        let mask = I.wrapping_sub(1);
        let mut slot = Self::home(&self.entries.get(pos)?.addr);
        for _ in 0..I {
            match *self.index.get(slot)? {
                EMPTY => break,
                p if p == target => return Some(slot),
                _ => slot = slot.wrapping_add(1) & mask,
            }
        }
        self.index.iter().position(|&p| p == target)
    }

    /// Empties index slot `hole` by backward shift: each following entry of the cluster that
    /// may legally sit at the hole (its home is not between the hole and its slot) moves
    /// back, leaving no tombstone.
    fn unlink(&mut self, mut hole: usize) {
        let mask = I.wrapping_sub(1);
        let mut j = hole;
        for _ in 0..I {
            j = j.wrapping_add(1) & mask;
            let Some(&p) = self.index.get(j) else { break };
            if p == EMPTY {
                break;
            }
            let Some(e) = self.entries.get(usize::from(p)) else {
                break;
            };
            let from_home = j.wrapping_sub(Self::home(&e.addr)) & mask;
            let from_hole = j.wrapping_sub(hole) & mask;
            if from_home >= from_hole {
                if let Some(h) = self.index.get_mut(hole) {
                    *h = p;
                }
                hole = j;
            }
        }
        if let Some(h) = self.index.get_mut(hole) {
            *h = EMPTY;
        }
    }

    /// Deletes the entry at `pos`: unlinks it and moves the last entry into its place.
    fn remove_at(&mut self, pos: usize) -> Option<Stored> {
        let last = self.len.checked_sub(1)?;
        let removed = *self.stored().get(pos)?;
        let slot = self.slot_of(pos)?;
        self.unlink(slot);
        if pos != last {
            let moved_slot = self.slot_of(last)?;
            let moved = *self.entries.get(last)?;
            *self.entries.get_mut(pos)? = moved;
            *self.index.get_mut(moved_slot)? = u16::try_from(pos).ok()?;
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
        let (Ok(p), Some(s), Some(e)) = (
            u16::try_from(pos),
            self.index.get_mut(slot),
            self.entries.get_mut(pos),
        ) else {
            return false;
        };
        *s = p;
        *e = Stored::pack(&entry);
        self.len = pos.wrapping_add(1);
        true
    }
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "std"))]
    extern crate std;

    use super::*;
    use std::collections::BTreeMap;
    use std::vec::Vec;

    const R1: [u8; 8] = [0x02, 0x12, 0x4b, 0, 0, 0, 0, 1];
    const R2: [u8; 8] = [0x02, 0x12, 0x4b, 0, 0, 0, 0, 2];
    const LONG: [u8; 16] = [7; 16];

    fn a(i: u16) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i)
    }
    fn t(s: u64) -> Instant {
        Instant::from_secs(s)
    }
    fn d(s: u64) -> Duration {
        Duration::from_secs(s)
    }
    fn ll(i: u16) -> Address {
        Address::Short(i)
    }

    type Small = Registry<16, 32>;

    /// Index and storage agree: every stored entry is reachable from its home slot, every
    /// occupied slot points at a distinct stored entry, addresses are unique.
    fn check_invariants<const N: usize, const I: usize>(r: &Registry<N, I>) {
        assert!(r.len <= N);
        let occupied: Vec<u16> = r.index.iter().copied().filter(|&p| p != EMPTY).collect();
        assert_eq!(occupied.len(), r.len, "index slots vs entries");
        let mut seen = std::vec![false; r.len];
        for p in occupied {
            let p = usize::from(p);
            assert!(p < r.len, "index points past the entries");
            assert!(!seen[p], "two slots point at entry {p}");
            seen[p] = true;
        }
        for (pos, e) in r.stored().iter().enumerate() {
            match r.probe(&e.addr) {
                Some(Probe::Found { pos: found }) => assert_eq!(found, pos),
                _ => panic!("entry {pos} ({}) unreachable", e.addr),
            }
        }
    }

    #[test]
    fn register_refresh_duplicate_remove() {
        let mut r = Small::new();
        assert_eq!(
            r.register(t(0), a(1), ll(1), &R1, None, d(60)),
            RegisterOutcome::Registered
        );
        let e = r.lookup(&a(1)).unwrap();
        assert_eq!(e.origin, Origin::Registered);
        assert_eq!(e.eui64(), Some(R1));
        assert!(e.is_owned_by(&R1) && !e.is_owned_by(&R2));
        assert_eq!((e.expires, e.last_heard), (t(60), t(0)));

        // Same ROVR: refresh, new link-layer address, lifetime and TID.
        assert_eq!(
            r.register(t(10), a(1), ll(9), &R1, Some(3), d(100)),
            RegisterOutcome::Refreshed
        );
        let e = r.lookup(&a(1)).unwrap();
        assert_eq!(
            (e.ll, e.tid, e.expires, e.last_heard),
            (ll(9), Some(3), t(110), t(10))
        );

        // Another ROVR: duplicate, untouched, even with a zero lifetime.
        assert_eq!(
            r.register(t(11), a(1), ll(2), &R2, None, d(100)),
            RegisterOutcome::Duplicate
        );
        assert_eq!(
            r.register(t(11), a(1), ll(2), &R2, None, Duration::ZERO),
            RegisterOutcome::Duplicate
        );
        assert_eq!(r.lookup(&a(1)).unwrap(), e);

        // The owner deregisters.
        assert_eq!(
            r.register(t(12), a(1), ll(9), &R1, Some(4), Duration::ZERO),
            RegisterOutcome::Removed
        );
        assert!(r.lookup(&a(1)).is_none() && r.is_empty());
        // Deregistering an unknown address succeeds and deletes nothing.
        assert_eq!(
            r.register(t(12), a(1), ll(9), &R1, None, Duration::ZERO),
            RegisterOutcome::Removed
        );
        let s = r.stats();
        assert_eq!(
            (s.registrations, s.refreshes, s.duplicates, s.removed),
            (1, 1, 2, 1)
        );
        assert_eq!(RegisterOutcome::Duplicate.aro_status(), 1);
        assert_eq!(RegisterOutcome::Full.aro_status(), 2);
        assert_eq!(RegisterOutcome::Refreshed.aro_status(), 0);
        check_invariants(&r);
    }

    #[test]
    fn long_rovr_is_hashed() {
        let mut r = Small::new();
        r.register(t(0), a(1), ll(1), &LONG, Some(240), d(60));
        let e = r.lookup(&a(1)).unwrap();
        assert_eq!(e.rovr, rovr_hash(&LONG));
        assert_eq!(e.eui64(), None);
        assert!(e.is_owned_by(&LONG));
        let mut other = LONG;
        other[15] ^= 1;
        assert_eq!(
            r.register(t(1), a(1), ll(1), &other, Some(241), d(60)),
            RegisterOutcome::Duplicate
        );
        // An 8-byte ROVR whose value equals the hash is still another owner.
        let lookalike = rovr_hash(&LONG).to_be_bytes();
        assert_eq!(
            r.register(t(1), a(1), ll(1), &lookalike, None, d(60)),
            RegisterOutcome::Duplicate
        );
        // FNV-1a 64 reference values.
        assert_eq!(rovr_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(rovr_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    /// The lollipop successor of a TID (RFC 6550 §7.2 rule 2).
    fn next_tid(t: u8) -> u8 {
        match t {
            127 | 255 => 0,
            t => t + 1,
        }
    }

    #[test]
    fn tid_comparison_follows_rfc_8505() {
        use Ordering::{Equal, Greater, Less};
        let cases: &[(u8, u8, Option<Ordering>, &str)] = &[
            (
                240,
                5,
                Some(Greater),
                "RFC example: 256+5-240 = 21 > 16, the reboot wins",
            ),
            (
                250,
                5,
                Some(Less),
                "RFC example: 256+5-250 = 11 <= 16, 5 wrapped past 250",
            ),
            (240, 0, Some(Less), "256+0-240 = 16: edge of the window"),
            (239, 0, Some(Greater), "256+0-239 = 17: just outside"),
            (255, 0, Some(Less), "linear 255 is followed by circular 0"),
            (
                128,
                127,
                Some(Greater),
                "256+127-128 = 255: a linear value wins",
            ),
            (240, 241, Some(Less), "linear, in window"),
            (128, 144, Some(Less), "linear, |d| = 16"),
            (128, 145, None, "linear, |d| = 17: desynchronised"),
            (255, 128, None, "the linear region does not wrap"),
            (0, 16, Some(Less), "circular, d = 16"),
            (0, 17, None, "circular, d = 17"),
            (127, 0, Some(Less), "circular wrap: 0 follows 127"),
            (120, 8, Some(Less), "circular wrap, d = 16"),
            (120, 9, None, "circular wrap, d = 17"),
            (60, 60, Some(Equal), "equal"),
            (200, 200, Some(Equal), "equal, linear"),
        ];
        for &(x, y, want, why) in cases {
            assert_eq!(compare_tid(x, y), want, "{x} vs {y}: {why}");
        }
        for x in 0..=255u8 {
            assert_eq!(compare_tid(x, x), Some(Equal));
            for y in 0..=255u8 {
                assert_eq!(compare_tid(x, y), compare_tid(y, x).map(Ordering::reverse));
            }
            // Up to a window's worth of increments is always fresher, across both wraps.
            let mut later = x;
            for k in 1..=TID_SEQUENCE_WINDOW {
                later = next_tid(later);
                assert_eq!(compare_tid(later, x), Some(Greater), "{x} + {k}");
            }
        }
    }

    #[test]
    fn stale_tid_is_ignored() {
        let mut r = Small::new();
        assert_eq!(
            r.register(t(0), a(1), ll(1), &R1, Some(250), d(60)),
            RegisterOutcome::Registered
        );
        let stored = r.lookup(&a(1)).unwrap();
        for old in [249, 240, 234] {
            assert_eq!(
                r.register(t(1), a(1), ll(7), &R1, Some(old), d(600)),
                RegisterOutcome::StaleTid,
                "{old}"
            );
        }
        // A stale deregistration is ignored too.
        assert_eq!(
            r.register(t(1), a(1), ll(7), &R1, Some(249), Duration::ZERO),
            RegisterOutcome::StaleTid
        );
        assert_eq!(r.lookup(&a(1)).unwrap(), stored);
        let accepted: &[(Option<u8>, &str)] = &[
            (Some(250), "equal: retransmission"),
            (Some(2), "wrapped into the circular region"),
            (Some(60), "not comparable: the newest wins"),
            (None, "RFC 6775 ARO without TID"),
            (Some(3), "after no TID, anything"),
            (Some(240), "a reboot (240 vs 3: 256+3-240 = 19 > 16)"),
        ];
        for (i, &(tid, why)) in accepted.iter().enumerate() {
            assert_eq!(
                r.register(t(2 + i as u64), a(1), ll(7), &R1, tid, d(60)),
                RegisterOutcome::Refreshed,
                "{why}"
            );
            assert_eq!(r.lookup(&a(1)).unwrap().tid, tid);
        }
        assert_eq!(r.stats().stale_tid, 4);
    }

    #[test]
    fn glean_never_overrides_a_registration() {
        let mut r = Small::new();
        r.register(t(0), a(1), ll(1), &R1, Some(5), d(60));
        let before = r.lookup(&a(1)).unwrap();
        assert!(r.glean(t(5), a(1), ll(66), d(600)));
        let after = r.lookup(&a(1)).unwrap();
        assert_eq!(after.origin, Origin::Registered);
        assert_eq!(
            (after.ll, after.expires, after.tid),
            (ll(1), t(60), Some(5))
        );
        assert_eq!(
            (after.last_heard, after.rx_frames),
            (t(5), before.rx_frames + 1)
        );
        assert_eq!(r.stats().gleaned, 0);
    }

    #[test]
    fn registration_takes_over_a_gleaned_entry() {
        let mut r = Small::new();
        assert!(r.glean(t(0), a(1), ll(1), d(30)));
        let g = r.lookup(&a(1)).unwrap();
        assert_eq!(
            (g.origin, g.rx_frames, g.eui64()),
            (Origin::Gleaned, 1, None)
        );
        assert!(!g.is_owned_by(&[0; 8]));
        // A gleaned entry follows the node's link-layer address and extends, never shortens.
        assert!(r.glean(t(10), a(1), ll(2), d(5)));
        let g = r.lookup(&a(1)).unwrap();
        assert_eq!(
            (g.ll, g.expires, g.rx_frames, g.last_heard),
            (ll(2), t(30), 2, t(10))
        );
        assert!(r.glean(t(11), a(1), ll(2), d(100)));
        assert_eq!(r.lookup(&a(1)).unwrap().expires, t(111));

        assert_eq!(
            r.register(t(12), a(1), ll(3), &R2, Some(1), d(60)),
            RegisterOutcome::Registered
        );
        let e = r.lookup(&a(1)).unwrap();
        assert_eq!(
            (e.origin, e.ll, e.tid, e.expires),
            (Origin::Registered, ll(3), Some(1), t(72))
        );
        assert_eq!(e.rx_frames, 3, "traffic counters survive the takeover");
        assert_eq!(r.len(), 1);

        // Lifetime zero for an address that is only gleaned removes it.
        r.glean(t(13), a(2), ll(4), d(30));
        assert_eq!(
            r.register(t(13), a(2), ll(4), &R1, None, Duration::ZERO),
            RegisterOutcome::Removed
        );
        assert!(r.lookup(&a(2)).is_none());
        let s = r.stats();
        assert_eq!((s.gleaned, s.registrations, s.removed), (2, 1, 1));
    }

    #[test]
    fn glean_evicts_least_recently_heard_gleaned_entry() {
        let mut r = Registry::<4, 8>::new();
        r.register(t(0), a(1), ll(1), &R1, None, d(1000));
        r.glean(t(1), a(2), ll(2), d(1000));
        r.glean(t(2), a(3), ll(3), d(1000));
        r.glean(t(3), a(4), ll(4), d(1000));
        // a(2) heard again: a(3) becomes the least recently heard gleaned entry. a(1), older
        // still, is registered and stays.
        r.glean(t(4), a(2), ll(2), d(1000));
        assert!(r.glean(t(5), a(5), ll(5), d(1000)));
        assert!(r.lookup(&a(3)).is_none());
        for i in [1, 2, 4, 5] {
            assert!(r.lookup(&a(i)).is_some(), "a({i})");
        }
        assert_eq!(r.stats().glean_evicted, 1);
        // Registrations evict gleaned entries too (a(4) is now the oldest).
        assert_eq!(
            r.register(t(6), a(6), ll(6), &R2, None, d(1000)),
            RegisterOutcome::Registered
        );
        assert!(r.lookup(&a(4)).is_none());
        assert_eq!(r.stats().glean_evicted, 2);
        check_invariants(&r);
    }

    #[test]
    fn eviction_ties_go_to_the_lowest_address() {
        let mut r = Registry::<3, 8>::new();
        r.glean(t(1), a(3), ll(3), d(1000));
        r.glean(t(1), a(1), ll(1), d(1000));
        r.glean(t(1), a(2), ll(2), d(1000));
        r.glean(t(2), a(4), ll(4), d(1000));
        assert!(r.lookup(&a(1)).is_none());
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn full_of_registrations() {
        let mut r = Registry::<4, 8>::new();
        for i in 1..=4 {
            assert_eq!(
                r.register(t(0), a(i), ll(i), &R1, None, d(100 + u64::from(i))),
                RegisterOutcome::Registered
            );
        }
        assert_eq!(
            r.register(t(1), a(5), ll(5), &R2, None, d(100)),
            RegisterOutcome::Full
        );
        assert!(!r.glean(t(1), a(6), ll(6), d(100)));
        // Refreshing is possible when full.
        assert_eq!(
            r.register(t(2), a(4), ll(4), &R1, None, d(100)),
            RegisterOutcome::Refreshed
        );
        // a(1) expires at 101: its slot is free before expire() runs.
        assert_eq!(
            r.register(t(101), a(5), ll(5), &R2, None, d(100)),
            RegisterOutcome::Registered
        );
        assert!(r.lookup(&a(1)).is_none());
        let s = r.stats();
        assert_eq!((s.full, s.glean_refused_full, s.expired), (1, 1, 1));
        check_invariants(&r);
    }

    #[test]
    fn expiry() {
        let mut r = Small::new();
        r.register(t(0), a(1), ll(1), &R1, None, d(10));
        r.register(t(0), a(2), ll(2), &R1, None, d(20));
        r.glean(t(0), a(3), ll(3), d(15));
        assert_eq!(r.next_expiry(), Some(t(10)));
        // The clock moves with any call that takes `now`: at 10 s a(1) is dead for lookup
        // even though nothing reclaimed it yet.
        r.glean(t(10), a(9), ll(9), d(100));
        assert!(r.lookup(&a(1)).is_none());
        assert!(!r.note_tx(&a(1)));
        assert_eq!(r.iter().count(), 3);
        assert_eq!(r.len(), 4, "stored until reclaimed");
        assert_eq!(r.next_expiry(), Some(t(10)), "overdue: expire() now");
        assert_eq!(r.expire(t(10)), 1);
        assert_eq!(r.len(), 3);
        assert_eq!(r.next_expiry(), Some(t(15)));
        assert_eq!(r.expire(t(20)), 2);
        assert_eq!(r.stats().expired, 3);
        assert_eq!(r.next_expiry(), Some(t(110)));

        // An expired owner no longer blocks another ROVR.
        r.register(t(20), a(5), ll(5), &R1, None, d(10));
        assert_eq!(
            r.register(t(30), a(5), ll(6), &R2, None, d(10)),
            RegisterOutcome::Registered
        );
        assert_eq!(r.lookup(&a(5)).unwrap().eui64(), Some(R2));
        // remove() of an expired entry reclaims it and finds nothing.
        r.register(t(30), a(6), ll(6), &R1, None, d(1));
        r.expire(t(31));
        r.register(t(31), a(7), ll(7), &R1, None, d(1));
        r.glean(t(32), a(9), ll(9), d(1));
        let expired = r.stats().expired;
        assert_eq!(r.remove(&a(7)), None);
        assert_eq!(r.stats().expired, expired + 1);
        assert_eq!(r.expire(Instant::ZERO), 0, "time does not run backwards");
        check_invariants(&r);
    }

    #[test]
    fn remove_and_remove_where() {
        let mut r = Small::new();
        let other = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
        for i in 1..=10 {
            r.register(t(0), a(i), ll(i), &R1, None, d(100));
        }
        r.glean(t(0), other, ll(99), d(100));
        let e = r.remove(&a(3)).unwrap();
        assert_eq!(e.addr, a(3));
        assert_eq!(r.remove(&a(3)), None);
        let prefix = |x: &Ipv6Addr| x.segments()[0] == 0x2001;
        assert_eq!(r.remove_where(|e| !prefix(&e.addr)), 1);
        assert_eq!(r.remove_where(|e| e.addr.segments()[7] % 2 == 0), 5);
        let mut left: Vec<u16> = r.iter().map(|e| e.addr.segments()[7]).collect();
        left.sort();
        assert_eq!(left, [1, 5, 7, 9]);
        assert_eq!(
            r.stats().removed,
            0,
            "administrative removals are not deregistrations"
        );
        for _ in 0..3 {
            assert!(r.note_tx(&a(5)));
        }
        assert!(!r.note_tx(&a(3)), "removed");
        assert_eq!(r.lookup(&a(5)).unwrap().tx_frames, 3);
        r.reset_stats();
        assert_eq!(r.stats(), RegistryStats::default());
        check_invariants(&r);
    }

    #[test]
    fn a_corrupted_key_keeps_the_table_consistent() {
        // Defence in depth: the API cannot change a stored address any more, but should one
        // change (a bug), removal still finds its index slot by a scan.
        let mut r = Registry::<8, 16>::new();
        for i in 1..=8 {
            r.register(t(0), a(i), ll(i), &R1, None, d(100));
        }
        let Some(Probe::Found { pos }) = r.probe(&a(2)) else {
            panic!("a(2) stored");
        };
        r.entries[pos].addr = a(200);
        // a(2)'s entry can no longer be found by address, but everything else works, and the
        // sweeps still reclaim it.
        assert!(r.lookup(&a(2)).is_none());
        for i in [1, 3, 4, 5, 6, 7, 8] {
            assert!(r.remove(&a(i)).is_some(), "a({i})");
        }
        assert_eq!(r.remove_where(|_| true), 1);
        assert!(r.is_empty());
        assert!(r.index.iter().all(|&p| p == EMPTY));
    }

    #[test]
    fn churn_keeps_the_index_consistent() {
        // Remove and re-add many times in a full, colliding table (xorshift, fixed seed).
        let mut r = Small::new();
        let mut x: u32 = 0x1234_5678;
        for round in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let addr = a((x % 40) as u16);
            if x & 0x100 == 0 {
                r.register(t(round), addr, ll(1), &R1, None, d(1_000_000));
            } else {
                r.remove(&addr);
            }
            if round % 97 == 0 {
                check_invariants(&r);
            }
        }
        check_invariants(&r);
        assert!(r.max_probe_len() <= r.len().max(1));
    }

    static STATIC_REGISTRY: Registry<4, 8> = Registry::new();

    #[test]
    fn usable_in_a_static() {
        assert_eq!(STATIC_REGISTRY.capacity(), 4);
        assert!(STATIC_REGISTRY.is_empty());
        assert!(STATIC_REGISTRY.lookup(&a(1)).is_none());
        assert_eq!(STATIC_REGISTRY.next_expiry(), None);
    }

    #[test]
    fn size() {
        let entry = core::mem::size_of::<Entry>();
        let registry = core::mem::size_of::<DefaultRegistry>();
        std::eprintln!("size_of::<Entry>() = {entry}, size_of::<DefaultRegistry>() = {registry}");
        assert!(entry <= 64);
        assert!(
            registry <= DEFAULT_REGISTRATIONS * 64 + DEFAULT_INDEX_SLOTS * 2 + 128,
            "{registry}"
        );
    }

    /// Fills a `DefaultRegistry` with `addrs` and returns the longest probe.
    fn fill(addrs: impl Iterator<Item = Ipv6Addr>) -> usize {
        let mut r = DefaultRegistry::new();
        for addr in addrs {
            assert_eq!(
                r.register(t(0), addr, ll(0), &R1, None, d(100)),
                RegisterOutcome::Registered
            );
        }
        assert_eq!(r.len(), DEFAULT_REGISTRATIONS);
        check_invariants(&r);
        r.max_probe_len()
    }

    #[test]
    fn probe_length_stays_small_at_full_load() {
        const BOUND: usize = 16;
        let n = DEFAULT_REGISTRATIONS as u16;
        let sequential = fill((1..=n).map(a));
        let short_iids = fill((0..n).map(|i| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, i)));
        let spread_iids = fill(
            (0..n)
                .map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0xff, 0xfe00, i.wrapping_mul(257))),
        );
        std::eprintln!(
            "max probe at 256/512: sequential {sequential}, short-address IIDs {short_iids}, \
             spread short IIDs {spread_iids}"
        );
        assert!(sequential <= BOUND && short_iids <= BOUND && spread_iids <= BOUND);
        // 256 addresses sharing 15 of 16 bytes, for each position of the varying byte.
        let base = Ipv6Addr::new(
            0x2001, 0xdb8, 0x1234, 0x5678, 0x9abc, 0xdef0, 0x1357, 0x2468,
        )
        .octets();
        let mut worst = 0;
        for k in 0..16 {
            let probe = fill((0..=255u8).map(|b| {
                let mut o = base;
                o[k] = b;
                Ipv6Addr::from(o)
            }));
            std::eprintln!("  varying byte {k:2}: max probe {probe}");
            assert!(probe <= BOUND, "byte {k}: {probe}");
            worst = worst.max(probe);
        }
        std::eprintln!("max probe over one-byte families: {worst}");
    }

    #[test]
    fn entries_are_stored_packed_and_read_back_exactly() {
        assert_eq!(core::mem::size_of::<Stored>(), 56);
        let mut r = Small::new();
        let ext = Address::Extended([0x02, 0x12, 0x4b, 0, 1, 2, 3, 4]);
        let at = Instant::from_micros(5_750_001);
        r.register(at, a(1), ext, &LONG, Some(240), d(60));
        r.register(at, a(2), ll(0xabcd), &R1, None, d(60));
        r.glean(at, a(3), ll(7), d(60));
        let e = r.lookup(&a(1)).unwrap();
        assert_eq!(
            (e.ll, e.tid, e.origin),
            (ext, Some(240), Origin::Registered)
        );
        assert_eq!((e.rovr, e.eui64()), (rovr_hash(&LONG), None));
        assert_eq!(e.expires, at + d(60), "expiry is exact");
        assert_eq!(e.last_heard, t(5), "last heard to the second, rounded down");
        let e = r.lookup(&a(2)).unwrap();
        assert_eq!((e.ll, e.tid, e.eui64()), (ll(0xabcd), None, Some(R1)));
        let e = r.lookup(&a(3)).unwrap();
        assert_eq!(
            (e.ll, e.origin, e.rovr, e.rx_frames),
            (ll(7), Origin::Gleaned, 0, 1)
        );
        assert_eq!(to_secs(Instant::from_secs(u64::MAX / 2_000_000)), u32::MAX);
    }

    // ---- model-based test ----

    /// The reference: the same rules on a `BTreeMap`, written for clarity.
    struct Model {
        cap: usize,
        map: BTreeMap<Ipv6Addr, Entry>,
        clock: Instant,
        stats: RegistryStats,
    }

    impl Model {
        fn new(cap: usize) -> Self {
            Model {
                cap,
                map: BTreeMap::new(),
                clock: Instant::ZERO,
                stats: RegistryStats::default(),
            }
        }

        fn live(&self) -> Vec<Entry> {
            self.map
                .values()
                .filter(|e| e.expires > self.clock)
                .copied()
                .collect()
        }

        /// Whether `addr` is live; an expired entry is reclaimed.
        fn present(&mut self, addr: Ipv6Addr) -> bool {
            match self.map.get(&addr) {
                Some(e) if e.expires > self.clock => true,
                Some(_) => {
                    self.map.remove(&addr);
                    self.stats.expired += 1;
                    false
                }
                None => false,
            }
        }

        fn expire(&mut self, now: Instant) -> usize {
            self.clock = self.clock.max(now);
            let clock = self.clock;
            let before = self.map.len();
            self.map.retain(|_, e| e.expires > clock);
            let n = before - self.map.len();
            self.stats.expired += n as u64;
            n
        }

        fn room(&mut self) -> bool {
            if self.map.len() >= self.cap {
                self.expire(self.clock);
            }
            if self.map.len() < self.cap {
                return true;
            }
            let victim = self
                .map
                .values()
                .filter(|e| e.origin == Origin::Gleaned)
                .min_by_key(|e| (e.last_heard, e.addr))
                .map(|e| e.addr);
            match victim {
                Some(v) => {
                    self.map.remove(&v);
                    self.stats.glean_evicted += 1;
                    true
                }
                None => false,
            }
        }

        fn register(
            &mut self,
            now: Instant,
            addr: Ipv6Addr,
            ll: Address,
            rovr: &[u8],
            tid: Option<u8>,
            life: Duration,
        ) -> RegisterOutcome {
            self.clock = self.clock.max(now);
            let now = self.clock;
            let key = RovrKey::of(rovr);
            let fresh = Entry {
                addr,
                ll,
                rovr: key.value,
                rovr_is_eui64: key.eui64,
                origin: Origin::Registered,
                tid,
                expires: now + life,
                last_heard: now,
                rx_frames: 0,
                tx_frames: 0,
            };
            if self.present(addr) {
                let old = self.map[&addr];
                if old.origin == Origin::Registered {
                    if old.rovr_key() != key {
                        self.stats.duplicates += 1;
                        return RegisterOutcome::Duplicate;
                    }
                    if let (Some(n), Some(o)) = (tid, old.tid)
                        && compare_tid(n, o) == Some(Ordering::Less)
                    {
                        self.stats.stale_tid += 1;
                        return RegisterOutcome::StaleTid;
                    }
                }
                if life == Duration::ZERO {
                    self.map.remove(&addr);
                    self.stats.removed += 1;
                    return RegisterOutcome::Removed;
                }
                let e = Entry {
                    rx_frames: old.rx_frames,
                    tx_frames: old.tx_frames,
                    ..fresh
                };
                self.map.insert(addr, e);
                return if old.origin == Origin::Registered {
                    self.stats.refreshes += 1;
                    RegisterOutcome::Refreshed
                } else {
                    self.stats.registrations += 1;
                    RegisterOutcome::Registered
                };
            }
            if life == Duration::ZERO {
                return RegisterOutcome::Removed;
            }
            if !self.room() {
                self.stats.full += 1;
                return RegisterOutcome::Full;
            }
            self.map.insert(addr, fresh);
            self.stats.registrations += 1;
            RegisterOutcome::Registered
        }

        fn glean(&mut self, now: Instant, addr: Ipv6Addr, ll: Address, life: Duration) -> bool {
            self.clock = self.clock.max(now);
            let now = self.clock;
            if self.present(addr) {
                let e = self.map.get_mut(&addr).unwrap();
                e.last_heard = now;
                e.rx_frames += 1;
                if e.origin == Origin::Gleaned {
                    e.ll = ll;
                    e.expires = e.expires.max(now + life);
                }
                return true;
            }
            if life == Duration::ZERO {
                return false;
            }
            if !self.room() {
                self.stats.glean_refused_full += 1;
                return false;
            }
            self.map.insert(
                addr,
                Entry {
                    addr,
                    ll,
                    rovr: 0,
                    rovr_is_eui64: false,
                    origin: Origin::Gleaned,
                    tid: None,
                    expires: now + life,
                    last_heard: now,
                    rx_frames: 1,
                    tx_frames: 0,
                },
            );
            self.stats.gleaned += 1;
            true
        }

        fn remove(&mut self, addr: Ipv6Addr) -> Option<Entry> {
            if self.present(addr) {
                self.map.remove(&addr)
            } else {
                None
            }
        }

        fn remove_where(&mut self, mut f: impl FnMut(&Entry) -> bool) -> usize {
            let clock = self.clock;
            let before = self.map.len();
            self.map.retain(|_, e| e.expires <= clock || !f(e));
            before - self.map.len()
        }
    }

    /// A small pool so that addresses repeat and collide in a 32-slot index: sequential
    /// addresses, short-address IIDs and addresses differing in one high byte.
    fn pool(i: u8) -> Ipv6Addr {
        let i = u16::from(i);
        match i % 3 {
            0 => a(i),
            1 => Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, i),
            _ => Ipv6Addr::new(0x2001, 0xdb8 + i, 0, 0, 0, 0, 0, 1),
        }
    }
    const POOL: u8 = 24;
    const ROVRS: [&[u8]; 3] = [&R1, &R2, &LONG];

    #[derive(Clone, Debug)]
    enum Op {
        Register {
            addr: u8,
            ll: u16,
            rovr: usize,
            tid: Option<u8>,
            life: u64,
        },
        Glean {
            addr: u8,
            ll: u16,
            life: u64,
        },
        Remove {
            addr: u8,
        },
        Expire,
        Advance {
            secs: u64,
        },
        RemoveWhere {
            mask: u32,
        },
        CountTx {
            addr: u8,
        },
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let addr = 0..POOL;
        let tid = proptest::sample::select(std::vec![
            None,
            Some(0),
            Some(1),
            Some(3),
            Some(20),
            Some(126),
            Some(127),
            Some(128),
            Some(240),
            Some(241),
            Some(250),
            Some(255),
        ]);
        prop_oneof![
            4 => (addr.clone(), 0..4u16, 0..3usize, tid, 0..6u64).prop_map(
                |(addr, ll, rovr, tid, life)| Op::Register { addr, ll, rovr, tid, life }
            ),
            3 => (addr.clone(), 0..4u16, 0..6u64)
                .prop_map(|(addr, ll, life)| Op::Glean { addr, ll, life }),
            1 => addr.clone().prop_map(|addr| Op::Remove { addr }),
            1 => Just(Op::Expire),
            2 => (0..3u64).prop_map(|secs| Op::Advance { secs }),
            1 => any::<u32>().prop_map(|mask| Op::RemoveWhere { mask: mask & mask.rotate_left(7) }),
            1 => addr.prop_map(|addr| Op::CountTx { addr }),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn matches_the_model(ops in proptest::collection::vec(op(), 1..200)) {
            let mut r = Small::new();
            let mut m = Model::new(16);
            let mut now = Instant::ZERO;
            for op in ops {
                match op {
                    Op::Register { addr, ll, rovr, tid, life } => {
                        let (addr, ll, rovr, life) =
                            (pool(addr), Address::Short(ll), ROVRS[rovr], d(life));
                        proptest::prop_assert_eq!(
                            r.register(now, addr, ll, rovr, tid, life),
                            m.register(now, addr, ll, rovr, tid, life)
                        );
                    }
                    Op::Glean { addr, ll, life } => {
                        let (addr, ll, life) = (pool(addr), Address::Short(ll), d(life));
                        proptest::prop_assert_eq!(
                            r.glean(now, addr, ll, life),
                            m.glean(now, addr, ll, life)
                        );
                    }
                    Op::Remove { addr } => {
                        proptest::prop_assert_eq!(r.remove(&pool(addr)), m.remove(pool(addr)));
                    }
                    Op::Expire => proptest::prop_assert_eq!(r.expire(now), m.expire(now)),
                    Op::Advance { secs } => now += d(secs),
                    Op::RemoveWhere { mask } => {
                        let hit = |e: &Entry| (0..POOL).any(|i| mask & (1 << i) != 0 && pool(i) == e.addr);
                        proptest::prop_assert_eq!(r.remove_where(hit), m.remove_where(hit));
                    }
                    Op::CountTx { addr } => {
                        let clock = m.clock;
                        r.note_tx(&pool(addr));
                        if let Some(e) = m.map.get_mut(&pool(addr)).filter(|e| e.expires > clock) {
                            e.tx_frames += 1;
                        }
                    }
                }
                check_invariants(&r);
                let mut live: Vec<Entry> = r.iter().collect();
                live.sort_by_key(|e| e.addr);
                proptest::prop_assert_eq!(&live, &m.live());
                proptest::prop_assert_eq!(r.len(), m.map.len());
                proptest::prop_assert_eq!(r.stats(), m.stats);
                proptest::prop_assert_eq!(r.next_expiry(), m.map.values().map(|e| e.expires).min());
                for i in 0..POOL {
                    let want = m.map.get(&pool(i)).filter(|e| e.expires > m.clock);
                    proptest::prop_assert_eq!(r.lookup(&pool(i)), want.copied());
                }
            }
        }
    }
}
