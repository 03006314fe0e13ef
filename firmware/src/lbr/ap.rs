//! Address-Protected ND (RFC 8928) at the 6LBR: the challenges it hands out and the proofs it
//! verifies (behind the `address-protection` feature).
//!
//! A node that registers with the EARO's C flag says that its ROVR is a *Crypto-ID*: the
//! leftmost ROVR-length bytes of the hash of its Crypto-ID Parameters Option (CIPO, reserved
//! and padding bits zero), with the hash of the Crypto-Type (SHA-512 for Ed25519)
//! ([`crypto_id`]). The 6LBR
//! challenges such a registration when [`Registry::needs_proof`](crate::registry::Registry::needs_proof)
//! says so: it answers NA(EARO status 5, Validation Requested) with a Nonce option carrying a
//! fresh NonceLR of [`AP_NONCE_LEN`] bytes, and remembers it in [`Challenges`] for
//! [`AP_CHALLENGE_LIFETIME`]. The node proves ownership by registering again with a Crypto-ID
//! Parameters Option (its Crypto-Type and public key), a Nonce option (its NonceLN) and an NDP
//! Signature Option: its signature over the CGA tag of AP-ND, the CIPO, the Target Address,
//! NonceLR, NonceLN and the EARO's Length ([`sixlo::nd::signed_message`]). [`Challenges::check`] then
//! decides:
//!
//! - [`Verdict::Proved`]: a NonceLR of ours for this address and ROVR, not expired, used once;
//!   Crypto-Type Ed25519 (RFC 8032, strict verification); the Crypto-ID recomputed from the
//!   CIPO equals the ROVR; the signature verifies;
//! - [`Verdict::Failed`] (EARO status 10, Validation Failed): the proof was checked and is
//!   wrong — another key than the Crypto-ID's, a bad signature, a Crypto-Type this router does
//!   not implement (ECDSA256 and ECDSA25519, types 0 and 2, or any unknown one), a missing
//!   NonceLN or one longer than [`AP_NONCE_LN_MAX`];
//! - [`Verdict::NoProof`]: nothing to check — no NDPSO, or one that answers no challenge of
//!   ours (unknown or expired NonceLR), or no CIPO: the caller challenges (again).
//!
//! The table of challenges is bounded: [`AP_CHALLENGES`] entries, at most
//! [`AP_CHALLENGES_PER_SOURCE`] per link-layer source (a source's next challenge replaces its
//! oldest). When it is full, the oldest challenge is dropped and counted in
//! [`ApStats::challenge_table_full`]: a flood of challenges from spoofed sources can make an
//! honest node answer a second challenge, never block the table.
//!
//! Nonces come from [`NonceSource`]: SHA-256 over a 32-byte key, a counter and the challenge.
//! The key starts from the 6LBR's seed (derived from its EUI-64: predictable) and must be
//! mixed with real entropy by the board ([`Lbr::seed_nonces`](super::Lbr::seed_nonces)); until
//! then an attacker who knows the EUI-64 can predict NonceLRs.

use core::net::Ipv6Addr;

use ed25519_dalek::{Signature, VerifyingKey};
use l2_15_4::Address;
use netif::{Duration, Instant};
use sha2::{Digest, Sha256, Sha512};
use sixlo::nd::{CipoRepr, CryptoType, NdpsoRepr, NonceRepr, signed_message};

use super::ApStats;
use crate::registry::rovr_hash;

/// Challenges outstanding at once.
pub const AP_CHALLENGES: usize = 8;
/// Challenges one link-layer source may have outstanding; its next one replaces its oldest.
pub const AP_CHALLENGES_PER_SOURCE: usize = 2;
/// How long a NonceLR may be answered.
pub const AP_CHALLENGE_LIFETIME: Duration = Duration::from_secs(20);
/// Bytes of a NonceLR (a 16-byte Nonce option).
pub const AP_NONCE_LEN: usize = 14;
/// The longest NonceLN accepted (a 32-byte Nonce option).
pub const AP_NONCE_LN_MAX: usize = 30;
/// Ed25519 public key bytes (RFC 8032 §5.1.5).
const ED25519_KEY: usize = 32;
/// Ed25519 signature bytes (RFC 8032 §5.1.6).
const ED25519_SIG: usize = 64;
/// An Ed25519 CIPO: 6 fixed bytes, the key, 2 of padding.
const ED25519_CIPO: usize = 40;
/// The longest signed message: tag, CIPO, target, NonceLR, NonceLN, EARO Length.
const SIGNED_MAX: usize = 16 + ED25519_CIPO + 16 + AP_NONCE_LEN + AP_NONCE_LN_MAX + 1;

/// The AP-ND options of one NS.
#[derive(Clone, Copy, Default)]
pub(crate) struct ProofOpts<'a> {
    pub(crate) cipo: Option<CipoRepr<'a>>,
    pub(crate) ndpso: Option<NdpsoRepr<'a>>,
    pub(crate) nonce: Option<NonceRepr<'a>>,
}

/// What [`Challenges::check`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The registrant holds the key of the ROVR's Crypto-ID.
    Proved,
    /// A proof was checked and is wrong (EARO status 10).
    Failed,
    /// No proof to check: challenge.
    NoProof,
}

/// The Crypto-ID behind an Ed25519 CIPO (RFC 8928 §4.1): the hash of the Crypto-Type
/// (SHA-512 for Ed25519, RFC 8928's Crypto-Type table) over the option as sent with its
/// reserved and padding bits zero (`cipo`, as [`CipoRepr::emit`] writes it); a ROVR of n
/// bytes holds the leftmost n.
pub fn crypto_id(cipo: &[u8]) -> [u8; 64] {
    Sha512::digest(cipo).into()
}

/// Verifies an Ed25519 `proof` of `rovr` for `target`, given our `nonce_lr`.
fn verify(target: &Ipv6Addr, rovr: &[u8], nonce_lr: &[u8], p: &ProofOpts<'_>) -> Verdict {
    let (Some(cipo), Some(ndpso)) = (p.cipo, p.ndpso) else {
        return Verdict::NoProof;
    };
    let Some(nonce_ln) = p.nonce.map(|n| n.nonce) else {
        return Verdict::Failed;
    };
    if cipo.crypto_type != CryptoType::Ed25519 || nonce_ln.len() > AP_NONCE_LN_MAX {
        return Verdict::Failed;
    }
    // The CIPO as the node hashed and signed it: reserved and padding bits zero.
    let mut cipo_bytes = [0u8; ED25519_CIPO];
    let Ok(cipo_len) = cipo.emit(&mut cipo_bytes) else {
        return Verdict::Failed;
    };
    let Some(cipo_bytes) = cipo_bytes.get(..cipo_len) else {
        return Verdict::Failed;
    };
    let id = crypto_id(cipo_bytes);
    if id.get(..rovr.len()) != Some(rovr) {
        return Verdict::Failed;
    }
    // The EARO's Length: 8 fixed bytes and the ROVR, in units of 8 bytes.
    let Ok(earo_len) = u8::try_from(1 + rovr.len() / 8) else {
        return Verdict::Failed;
    };
    let (Ok(key), Ok(sig)) = (
        <&[u8; ED25519_KEY]>::try_from(cipo.public_key),
        <&[u8; ED25519_SIG]>::try_from(ndpso.signature),
    ) else {
        return Verdict::Failed;
    };
    let Ok(key) = VerifyingKey::from_bytes(key) else {
        return Verdict::Failed;
    };
    let mut msg = [0u8; SIGNED_MAX];
    let signed = signed_message(
        &target.octets(),
        cipo_bytes,
        nonce_lr,
        nonce_ln,
        earo_len,
        &mut msg,
    );
    match signed.ok().and_then(|n| msg.get(..n)) {
        Some(m) if key.verify_strict(m, &Signature::from_bytes(sig)).is_ok() => Verdict::Proved,
        _ => Verdict::Failed,
    }
}

/// The NonceLR generator: SHA-256 over a secret key, a counter and the challenge.
#[derive(Debug)]
pub(crate) struct NonceSource {
    key: [u8; 32],
    counter: u64,
}

impl NonceSource {
    pub(crate) fn new(seed: u32) -> Self {
        let mut h = Sha256::new();
        h.update(b"sixgate AP-ND nonce key");
        h.update(seed.to_be_bytes());
        NonceSource {
            key: h.finalize().into(),
            counter: 0,
        }
    }

    /// Mixes `entropy` into the key.
    pub(crate) fn seed(&mut self, entropy: &[u8]) {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(entropy);
        self.key = h.finalize().into();
    }

    fn next(&mut self, now: Instant, addr: &Ipv6Addr, ll: &Address) -> [u8; AP_NONCE_LEN] {
        self.counter = self.counter.wrapping_add(1);
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(self.counter.to_be_bytes());
        h.update(now.as_micros().to_be_bytes());
        h.update(addr.octets());
        h.update(super::rate::rate_key(*ll).to_be_bytes());
        let d: [u8; 32] = h.finalize().into();
        let mut n = [0u8; AP_NONCE_LEN];
        if let Some(src) = d.get(..AP_NONCE_LEN) {
            n.copy_from_slice(src);
        }
        n
    }
}

/// One outstanding challenge.
#[derive(Clone, Copy, Debug)]
struct Challenge {
    addr: Ipv6Addr,
    /// [`rovr_hash`] of the challenged ROVR.
    rovr: u64,
    ll: Address,
    nonce: [u8; AP_NONCE_LEN],
    expires: Instant,
}

/// The outstanding challenges (see the module documentation) and the AP-ND counters.
#[derive(Debug)]
pub(crate) struct Challenges {
    slots: [Option<Challenge>; AP_CHALLENGES],
    nonces: NonceSource,
    pub(crate) stats: ApStats,
}

impl Challenges {
    pub(crate) fn new(seed: u32) -> Self {
        Challenges {
            slots: [None; AP_CHALLENGES],
            nonces: NonceSource::new(seed),
            stats: ApStats::default(),
        }
    }

    pub(crate) fn seed(&mut self, entropy: &[u8]) {
        self.nonces.seed(entropy);
    }

    /// Hands out a NonceLR for `addr` registered with `rovr` from `ll` (counted in
    /// [`ApStats::challenges`]): it replaces an outstanding challenge for the same address and
    /// ROVR, else the source's oldest when it holds [`AP_CHALLENGES_PER_SOURCE`], else takes a
    /// free or expired slot, else the oldest one (counted in
    /// [`ApStats::challenge_table_full`]).
    pub(crate) fn issue(
        &mut self,
        now: Instant,
        addr: Ipv6Addr,
        rovr: &[u8],
        ll: Address,
    ) -> [u8; AP_NONCE_LEN] {
        let key = rovr_hash(rovr);
        let live = |c: &Option<Challenge>| c.filter(|c| c.expires > now);
        let oldest = |f: &dyn Fn(&Challenge) -> bool, slots: &[Option<Challenge>]| {
            (0..AP_CHALLENGES)
                .filter(|&i| slots.get(i).and_then(live).is_some_and(|c| f(&c)))
                .min_by_key(|&i| slots.get(i).and_then(live).map(|c| c.expires))
        };
        let same = oldest(&|c| c.addr == addr && c.rovr == key, &self.slots);
        let own = self
            .slots
            .iter()
            .filter_map(live)
            .filter(|c| c.ll == ll)
            .count();
        let i = same
            .or_else(|| {
                (own >= AP_CHALLENGES_PER_SOURCE)
                    .then(|| oldest(&|c| c.ll == ll, &self.slots))
                    .flatten()
            })
            .or_else(|| self.slots.iter().position(|c| live(c).is_none()))
            .unwrap_or_else(|| {
                self.stats.challenge_table_full += 1;
                oldest(&|_| true, &self.slots).unwrap_or(0)
            });
        let nonce = self.nonces.next(now, &addr, &ll);
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = Some(Challenge {
                addr,
                rovr: key,
                ll,
                nonce,
                expires: now + AP_CHALLENGE_LIFETIME,
            });
        }
        self.stats.challenges += 1;
        nonce
    }

    /// Checks the proof `p` of a registration of `target` with the Crypto-ID `rovr` (see
    /// [`Verdict`]). A challenge that a proof answered is used up, whatever the verdict.
    pub(crate) fn check(
        &mut self,
        now: Instant,
        target: &Ipv6Addr,
        rovr: &[u8],
        p: &ProofOpts<'_>,
    ) -> Verdict {
        if p.ndpso.is_none() {
            return Verdict::NoProof;
        }
        let key = rovr_hash(rovr);
        let Some(slot) = self
            .slots
            .iter_mut()
            .find(|c| c.is_some_and(|c| c.addr == *target && c.rovr == key && c.expires > now))
        else {
            return Verdict::NoProof;
        };
        let Some(c) = slot.take() else {
            return Verdict::NoProof;
        };
        verify(target, rovr, &c.nonce, p)
    }
}
