//! The packed stored form of a registry entry: the [`Stored`] slot (56 bytes instead of the
//! 64 of an [`Entry`]) with its flag bits, and the ROVR as the table keeps it ([`RovrKey`],
//! [`rovr_hash`]).

use core::net::Ipv6Addr;

use l2_15_4::Address;
use netif::time::Instant;

use super::{Entry, Origin, Target};

/// [`Stored::flags`]: the node registered (else gleaned).
pub(super) const F_REGISTERED: u8 = 1 << 0;
/// [`Stored::flags`]: `rovr` is an 8-byte ROVR kept verbatim.
pub(super) const F_ROVR_EUI64: u8 = 1 << 1;
/// [`Stored::flags`]: `ll` holds a short address (its first two bytes).
pub(super) const F_LL_SHORT: u8 = 1 << 2;
/// [`Stored::flags`]: `tid` is present.
pub(super) const F_TID: u8 = 1 << 3;
/// [`Stored::flags`]: the owner proved that its ROVR is its Crypto-ID (RFC 8928).
pub(super) const F_CRYPTO: u8 = 1 << 4;
/// [`Stored::flags`]: the address is an RPL target (`parent`, `path_seq`, `path_until` hold
/// its DAO state).
pub(super) const F_TARGET: u8 = 1 << 5;
/// [`Stored::flags`]: the entry exists only as an RPL target ([`Origin::Dao`]).
pub(super) const F_DAO_ONLY: u8 = 1 << 6;
/// [`Stored::flags`]: the target was learnt in storing mode (`ll` is the child it came from).
pub(super) const F_STORING: u8 = 1 << 7;
/// [`Stored::flags2`]: the target is external (the Transit E flag, RFC 9010).
pub(super) const F2_EXTERNAL: u8 = 1 << 0;

/// An [`Entry`] as the table keeps it: 72 bytes instead of the view's 96 (a 256-entry table
/// saves 6 KiB of static RAM). The link-layer address is 8 bytes plus a flag instead of a
/// 10-byte enum, `last_heard` and the RPL path lifetime are whole seconds, the RPL parent is
/// its 8-byte interface identifier (the parent shares the target's /64), and the origin,
/// ROVR kind, TID presence and RPL state share one byte of flags.
#[derive(Clone, Copy)]
pub(super) struct Stored {
    pub(super) addr: Ipv6Addr,
    pub(super) expires: Instant,
    pub(super) rovr: u64,
    pub(super) ll: [u8; 8],
    /// Seconds since time zero, rounded down.
    pub(super) last_heard: u32,
    pub(super) rx_frames: u32,
    pub(super) tx_frames: u32,
    /// RPL: the interface identifier of the target's parent (all zero: the root).
    pub(super) parent: [u8; 8],
    /// RPL: when the DAO path lifetime runs out, in seconds since time zero (rounded up).
    pub(super) path_until: u32,
    pub(super) flags: u8,
    /// More flags: [`F2_EXTERNAL`].
    pub(super) flags2: u8,
    pub(super) tid: u8,
    /// RPL: the DAO's Path Sequence.
    pub(super) path_seq: u8,
}

const _: () = assert!(core::mem::size_of::<Stored>() <= 72);

/// A link-layer address as [`Stored::ll`] keeps it, with its [`F_LL_SHORT`] flag.
pub(super) fn pack_ll(ll: &Address) -> ([u8; 8], u8) {
    match *ll {
        Address::Short(a) => {
            let [b0, b1] = a.to_be_bytes();
            ([b0, b1, 0, 0, 0, 0, 0, 0], F_LL_SHORT)
        }
        Address::Extended(x) => (x, 0),
    }
}

/// `t` in whole seconds (rounded down, saturating at `u32::MAX`, 136 years).
pub(super) fn to_secs(t: Instant) -> u32 {
    u32::try_from(t.as_micros() / 1_000_000).unwrap_or(u32::MAX)
}

/// `t` in whole seconds, rounded up (a path lifetime never ends early), saturating.
pub(super) fn to_secs_up(t: Instant) -> u32 {
    u32::try_from(t.as_micros().div_ceil(1_000_000)).unwrap_or(u32::MAX)
}

impl Stored {
    /// The slot filler of an empty registry (never visible).
    pub(super) const VACANT: Stored = Stored {
        addr: Ipv6Addr::UNSPECIFIED,
        expires: Instant::ZERO,
        rovr: 0,
        ll: [0; 8],
        last_heard: 0,
        rx_frames: 0,
        tx_frames: 0,
        parent: [0; 8],
        path_until: 0,
        flags: 0,
        flags2: 0,
        tid: 0,
        path_seq: 0,
    };

    pub(super) fn pack(e: &Entry) -> Stored {
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
        if e.crypto {
            flags |= F_CRYPTO;
        }
        if e.origin == Origin::Dao {
            flags |= F_DAO_ONLY;
        }
        let mut flags2 = 0;
        let (parent, path_until, path_seq) = match e.target {
            Some(t) => {
                flags |= F_TARGET;
                if t.storing {
                    flags |= F_STORING;
                }
                if t.external {
                    flags2 |= F2_EXTERNAL;
                }
                (
                    t.parent.unwrap_or([0; 8]),
                    to_secs_up(t.expires),
                    t.path_seq,
                )
            }
            None => ([0; 8], 0, 0),
        };
        let (ll, short) = pack_ll(&e.ll);
        flags |= short;
        Stored {
            addr: e.addr,
            expires: e.expires,
            rovr: e.rovr,
            ll,
            last_heard: to_secs(e.last_heard),
            rx_frames: e.rx_frames,
            tx_frames: e.tx_frames,
            parent,
            path_until,
            flags,
            flags2,
            tid: e.tid.unwrap_or(0),
            path_seq,
        }
    }

    pub(super) fn view(&self) -> Entry {
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
            } else if self.flags & F_DAO_ONLY != 0 {
                Origin::Dao
            } else {
                Origin::Gleaned
            },
            tid: (self.flags & F_TID != 0).then_some(self.tid),
            crypto: self.flags & F_CRYPTO != 0,
            expires: self.expires,
            last_heard: Instant::from_secs(u64::from(self.last_heard)),
            rx_frames: self.rx_frames,
            tx_frames: self.tx_frames,
            target: (self.flags & F_TARGET != 0).then(|| Target {
                parent: (self.parent != [0; 8]).then_some(self.parent),
                path_seq: self.path_seq,
                expires: Instant::from_secs(u64::from(self.path_until)),
                storing: self.flags & F_STORING != 0,
                external: self.flags2 & F2_EXTERNAL != 0,
            }),
        }
    }

    pub(super) fn is_gleaned(&self) -> bool {
        self.flags & (F_REGISTERED | F_DAO_ONLY) == 0
    }
}

/// The ROVR as stored: 64 bits plus whether they are verbatim.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct RovrKey {
    pub(super) value: u64,
    pub(super) eui64: bool,
}

impl RovrKey {
    pub(super) fn of(rovr: &[u8]) -> RovrKey {
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
