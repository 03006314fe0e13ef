//! Address-Protected ND (RFC 8928) at the 6LBR (issue 19, finding 5), with real bytes: the
//! nodes build their NS, EARO with the C flag, CIPO, Nonce and NDPSO by hand (`lbr/node.rs`)
//! and sign with `ed25519-dalek` under keys from RFC 8032 §7.1, whose published signatures
//! check the primitive first.
//!
//! - a node that proves ownership of its Crypto-ID registers; its address is then protected;
//! - an attacker that replays the Crypto-ID (or the owner's old proof) from another link-layer
//!   address is challenged and fails; the owner keeps its address;
//! - wrong signatures, other keys, unsupported Crypto-Types: status 10, Validation Failed;
//! - truncated or oversized CIPO / NDPSO: dropped as invalid, unanswered;
//! - an expired or unknown NonceLR: challenged again;
//! - policy `Require` refuses registrations without proof, `Off` ignores the C flag.

#[path = "lbr/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "lbr/node.rs"]
#[allow(dead_code)]
mod node;
#[path = "lbr/sent.rs"]
#[allow(dead_code)]
mod sent;

use std::net::Ipv6Addr;

use ed25519_dalek::{Signer, SigningKey};
use firmware::app::AppEvent;
use firmware::config::{AddressProtection, Config};
use firmware::lbr::{ApStats, LbrEvent};
use firmware::registry::Origin;
use netif::{Duration, Instant};
use sha2::{Digest, Sha512};

use harness::Harness;
use node::{
    ED25519, Ip, Node, ap_signed, at, cipo_option, dar_body, earo_c_option, ndpso_option,
    nonce_option, ns_body, ns_earo_body,
};
use sent::{na_earo, na_nonce, na_target};

const STATUS_SUCCESS: u8 = 0;
const STATUS_DUPLICATE: u8 = 1;
const STATUS_VALIDATION_REQUESTED: u8 = 5;
const STATUS_VALIDATION_FAILED: u8 = 10;
/// The EARO flags octet: C (0x10) and T (0x01).
const FLAGS_C_T: u8 = 0x11;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// RFC 8032 §7.1, TEST 1 and TEST 2: secret key, public key, message, signature.
const RFC8032: [(&str, &str, &str, &str); 2] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
];

fn key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&hex(RFC8032[i].0).try_into().unwrap())
}

/// The Crypto-ID of an Ed25519 key in a ROVR of `len` bytes, computed here: the leftmost bytes
/// of SHA-512 (Ed25519's hash) over the key's CIPO, reserved and padding bits zero (RFC 8928
/// §4.1).
fn crypto_id(k: &SigningKey, len: usize) -> Vec<u8> {
    Sha512::digest(cipo_option(ED25519, k.verifying_key().as_bytes()))[..len].to_vec()
}

/// A node with an Ed25519 key whose Crypto-ID (of `rovr_len` bytes) is its ROVR.
struct ApNode {
    node: Node,
    key: SigningKey,
    rovr: Vec<u8>,
}

impl ApNode {
    fn new(k: u16, key_index: usize, rovr_len: usize) -> ApNode {
        let key = key(key_index);
        let rovr = crypto_id(&key, rovr_len);
        ApNode {
            node: Node::new(k),
            key,
            rovr,
        }
    }
}

/// The AP-ND options a node adds to prove ownership: CIPO, Nonce (NonceLN), NDPSO.
struct Proof {
    cipo: Vec<u8>,
    nonce: Vec<u8>,
    ndpso: Vec<u8>,
}

impl Proof {
    /// `signer`'s proof for `target` against the 6LBR's `nonce_lr`, with the CIPO of `shown`
    /// (normally the signer's own key), for an EARO whose ROVR has `rovr_len` bytes.
    fn new(
        signer: &SigningKey,
        shown: &SigningKey,
        target: Ipv6Addr,
        nonce_lr: &[u8],
        rovr_len: usize,
    ) -> Proof {
        let nonce_ln = [0x4e; 14];
        let cipo = cipo_option(ED25519, shown.verifying_key().as_bytes());
        let earo_len = (1 + rovr_len / 8) as u8;
        let sig = signer.sign(&ap_signed(target, &cipo, nonce_lr, &nonce_ln, earo_len));
        Proof {
            cipo,
            nonce: nonce_option(&nonce_ln),
            ndpso: ndpso_option(&sig.to_bytes()),
        }
    }
    fn bytes(&self) -> Vec<u8> {
        [&self.cipo[..], &self.nonce, &self.ndpso].concat()
    }
}

/// `from` (its own MAC) sends NS(SLLAO, EARO with C, `extra` options) registering `target`
/// (also the source) with `rovr`.
fn ns_ap(
    h: &mut Harness,
    from: Node,
    target: Ipv6Addr,
    tid: u8,
    lifetime: u16,
    rovr: &[u8],
    extra: &[u8],
) {
    let ip = Ip::nd(target, h.br_link_local());
    let mut body = ns_body(&ip, target, Some(from.eui), None);
    body.extend_from_slice(&earo_c_option(tid, lifetime, rovr));
    body.extend_from_slice(extra);
    let dst = h.to_br();
    h.send(from.eui, dst, &ip.build(body));
}

/// `n` registers `target` with its Crypto-ID: the first NS is challenged (status 5 and a
/// NonceLR, checked here), the second carries the proof. Returns the final NA's status.
fn register_proved(h: &mut Harness, n: &ApNode, from: Node, target: Ipv6Addr, tid: u8) -> u8 {
    let t0 = h.now;
    ns_ap(h, from, target, tid, 60, &n.rovr, &[]);
    let na = h.one_na(t0);
    let (status, flags, rovr) = na_earo(&na);
    assert_eq!(
        (status, flags, rovr),
        (STATUS_VALIDATION_REQUESTED, FLAGS_C_T, n.rovr.clone())
    );
    let nonce_lr = na_nonce(&na).expect("a challenge carries a Nonce option");
    assert_eq!(nonce_lr.len(), 14);
    let t1 = h.now;
    let p = Proof::new(&n.key, &n.key, target, &nonce_lr, n.rovr.len());
    ns_ap(h, from, target, tid, 60, &n.rovr, &p.bytes());
    let na = h.one_na(t1);
    assert_eq!(na_target(&na), target);
    na_earo(&na).0
}

fn ap(h: &Harness) -> ApStats {
    h.app.lbr().ap_stats()
}

fn entry(h: &Harness, a: Ipv6Addr) -> Option<firmware::registry::Entry> {
    h.app.wpan().registry().lookup(&a)
}

/// Whether `a` is registered (a node's NS also gets its source address gleaned).
fn registered(h: &Harness, a: Ipv6Addr) -> bool {
    entry(h, a).is_some_and(|e| e.origin == Origin::Registered)
}

fn refusals(h: &mut Harness) -> Vec<(Ipv6Addr, u8)> {
    let mut v = Vec::new();
    while let Some(e) = h.app.pop_event() {
        if let AppEvent::Lbr(LbrEvent::Refused(a, s)) = e {
            v.push((a, s));
        }
    }
    v
}

// ----- the primitive and the Crypto-ID ----------------------------------------------------------

#[test]
fn ed25519_primitive_matches_rfc8032_vectors() {
    for (i, (_, pk, msg, sig)) in RFC8032.iter().enumerate() {
        let k = key(i);
        assert_eq!(
            k.verifying_key().as_bytes().to_vec(),
            hex(pk),
            "TEST {}",
            i + 1
        );
        assert_eq!(
            k.sign(&hex(msg)).to_bytes().to_vec(),
            hex(sig),
            "TEST {}",
            i + 1
        );
    }
}

#[test]
fn crypto_id_is_the_leftmost_sha512_of_the_cipo() {
    let k = key(0);
    let cipo = cipo_option(ED25519, k.verifying_key().as_bytes());
    assert_eq!(cipo.len(), 40);
    let id = firmware::lbr::ap::crypto_id(&cipo);
    assert_eq!(id[..32].to_vec(), crypto_id(&k, 32));
    // A ROVR of 8..=32 bytes holds the leftmost bytes.
    assert_eq!(crypto_id(&k, 8), id[..8]);
}

// ----- a node that proves ownership ---------------------------------------------------------------

#[test]
fn node_proves_ownership_and_refreshes_without_a_new_proof() {
    for rovr_len in [8, 16, 32] {
        let mut h = Harness::new();
        h.run_until(at(1_000));
        let n = ApNode::new(1, 0, rovr_len);
        let a = n.node.global();
        assert_eq!(
            register_proved(&mut h, &n, n.node, a, 1),
            STATUS_SUCCESS,
            "ROVR {rovr_len}"
        );
        let e = entry(&h, a).expect("registered");
        assert!(e.crypto);
        assert_eq!(e.ll, n.node.ll());
        let s = ap(&h);
        assert_eq!(
            (s.challenges, s.proofs_accepted, s.proofs_failed),
            (1, 1, 0)
        );
        // A refresh from the same link-layer address needs no new proof.
        let t = h.now;
        ns_ap(&mut h, n.node, a, 2, 60, &n.rovr, &[]);
        let na = h.one_na(t);
        assert_eq!(na_earo(&na).0, STATUS_SUCCESS);
        assert_eq!(na_nonce(&na), None);
        assert_eq!(ap(&h).challenges, 1);
        h.assert_pool();
    }
}

#[test]
fn proved_owner_moves_to_another_link_address_with_a_new_proof() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let n = ApNode::new(1, 0, 16);
    let a = n.node.global();
    assert_eq!(register_proved(&mut h, &n, n.node, a, 1), STATUS_SUCCESS);
    // The same key on another radio (a replaced board, a new MAC): challenged, proves, moves.
    let other = Node::new(2);
    assert_eq!(register_proved(&mut h, &n, other, a, 2), STATUS_SUCCESS);
    assert_eq!(entry(&h, a).unwrap().ll, other.ll());
}

// ----- attackers ------------------------------------------------------------------------------------

#[test]
fn replayed_crypto_id_without_the_key_is_challenged_and_fails() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let owner = ApNode::new(1, 0, 16);
    let a = owner.node.global();
    // The owner registers; the attacker overhears everything, including the proof.
    let t0 = h.now;
    ns_ap(&mut h, owner.node, a, 1, 60, &owner.rovr, &[]);
    let lr = na_nonce(&h.one_na(t0)).unwrap();
    let owners_proof = Proof::new(&owner.key, &owner.key, a, &lr, owner.rovr.len());
    let t1 = h.now;
    ns_ap(
        &mut h,
        owner.node,
        a,
        1,
        60,
        &owner.rovr,
        &owners_proof.bytes(),
    );
    assert_eq!(na_earo(&h.one_na(t1)).0, STATUS_SUCCESS);
    refusals(&mut h);

    let attacker = Node::new(66);
    let mallory = key(1);
    // 1. The Crypto-ID alone, from the attacker's MAC: a challenge, nothing changes.
    let t = h.now;
    ns_ap(&mut h, attacker, a, 2, 60, &owner.rovr, &[]);
    let na = h.one_na(t);
    assert_eq!(na.ll_dst, Some(attacker.ll()));
    assert_eq!(na_earo(&na).0, STATUS_VALIDATION_REQUESTED);
    let lr2 = na_nonce(&na).unwrap();
    assert_ne!(lr2, lr);
    // 2. The owner's old proof, replayed: signed over the old NonceLR.
    let t = h.now;
    ns_ap(
        &mut h,
        attacker,
        a,
        2,
        60,
        &owner.rovr,
        &owners_proof.bytes(),
    );
    assert_eq!(na_earo(&h.one_na(t)).0, STATUS_VALIDATION_FAILED);
    // 3. The owner's public key in the CIPO, signed with the attacker's key.
    let t = h.now;
    ns_ap(&mut h, attacker, a, 2, 60, &owner.rovr, &[]);
    let lr3 = na_nonce(&h.one_na(t)).unwrap();
    let t = h.now;
    let forged = Proof::new(&mallory, &owner.key, a, &lr3, owner.rovr.len());
    ns_ap(&mut h, attacker, a, 2, 60, &owner.rovr, &forged.bytes());
    assert_eq!(na_earo(&h.one_na(t)).0, STATUS_VALIDATION_FAILED);
    // 4. The attacker's own key and a valid signature, under the owner's Crypto-ID.
    let t = h.now;
    ns_ap(&mut h, attacker, a, 2, 60, &owner.rovr, &[]);
    let lr4 = na_nonce(&h.one_na(t)).unwrap();
    let t = h.now;
    let own = Proof::new(&mallory, &mallory, a, &lr4, owner.rovr.len());
    ns_ap(&mut h, attacker, a, 2, 60, &owner.rovr, &own.bytes());
    assert_eq!(na_earo(&h.one_na(t)).0, STATUS_VALIDATION_FAILED);
    // 5. Its own Crypto-ID, proved: the address is in use by another owner.
    let m = ApNode {
        node: attacker,
        key: key(1),
        rovr: crypto_id(&key(1), 16),
    };
    assert_eq!(
        register_proved(&mut h, &m, attacker, a, 2),
        STATUS_DUPLICATE
    );

    let e = entry(&h, a).unwrap();
    assert_eq!((e.ll, e.crypto), (owner.node.ll(), true));
    let s = ap(&h);
    assert_eq!((s.proofs_accepted, s.proofs_failed), (2, 3));
    assert_eq!(
        refusals(&mut h),
        vec![(a, 10), (a, 10), (a, 10), (a, STATUS_DUPLICATE)],
        "each refusal is an event"
    );
    // The attacker spoofing the owner's MAC can refresh but not remove it without a proof.
    let t = h.now;
    ns_ap(&mut h, owner.node, a, 3, 0, &owner.rovr, &[]);
    assert_eq!(na_earo(&h.one_na(t)).0, STATUS_VALIDATION_REQUESTED);
    assert!(entry(&h, a).is_some());
    // Nor with a plain EARO (no C flag) carrying the Crypto-ID.
    let t = h.now;
    let ip = Ip::nd(a, h.br_link_local());
    let rovr8: [u8; 8] = owner.rovr[..8].try_into().unwrap();
    let body = ns_earo_body(&ip, a, owner.node.eui, Some(3), 0, rovr8);
    let dst = h.to_br();
    h.send(owner.node.eui, dst, &ip.build(body));
    assert_eq!(na_earo(&h.one_na(t)).0, STATUS_DUPLICATE);
    assert!(entry(&h, a).is_some());
    h.assert_pool();
}

#[test]
fn wrong_signature_and_unsupported_crypto_type_fail() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let n = ApNode::new(1, 0, 8);
    let a = n.node.global();
    for case in 0..3 {
        let t = h.now;
        ns_ap(&mut h, n.node, a, 1, 60, &n.rovr, &[]);
        let lr = na_nonce(&h.one_na(t)).unwrap();
        let mut p = Proof::new(&n.key, &n.key, a, &lr, n.rovr.len());
        match case {
            // One bit of the signature.
            0 => p.ndpso[20] ^= 0x01,
            // Signed over another target.
            1 => {
                let other = Node::new(9).global();
                p = Proof::new(&n.key, &n.key, other, &lr, n.rovr.len());
            }
            // Crypto-Type 0 (ECDSA256), not implemented here: status 10.
            _ => p.cipo[4] = 0,
        }
        let t = h.now;
        ns_ap(&mut h, n.node, a, 1, 60, &n.rovr, &p.bytes());
        assert_eq!(
            na_earo(&h.one_na(t)).0,
            STATUS_VALIDATION_FAILED,
            "case {case}"
        );
        assert!(!registered(&h, a));
    }
    assert_eq!(ap(&h).proofs_failed, 3);
}

#[test]
fn truncated_or_oversized_cipo_and_ndpso_are_dropped() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let n = ApNode::new(1, 0, 8);
    let a = n.node.global();
    let t = h.now;
    ns_ap(&mut h, n.node, a, 1, 60, &n.rovr, &[]);
    let lr = na_nonce(&h.one_na(t)).unwrap();
    let good = Proof::new(&n.key, &n.key, a, &lr, n.rovr.len());
    let mut cases: Vec<Vec<u8>> = Vec::new();
    // CIPO whose Public Key Length (40) runs past its Length (5).
    let mut c = good.cipo.clone();
    c[3] = 40;
    cases.push([&c[..], &good.nonce, &good.ndpso].concat());
    // CIPO one 8-byte unit longer than the key needs.
    let mut c = good.cipo.clone();
    c[1] += 1;
    c.extend_from_slice(&[0; 8]);
    cases.push([&c[..], &good.nonce, &good.ndpso].concat());
    // NDPSO whose Signature Length (80) runs past its Length (9).
    let mut s = good.ndpso.clone();
    s[3] = 80;
    cases.push([&good.cipo[..], &good.nonce, &s].concat());
    // NDPSO with 16 bytes of padding.
    let mut s = good.ndpso.clone();
    s[1] += 2;
    s.extend_from_slice(&[0; 16]);
    cases.push([&good.cipo[..], &good.nonce, &s].concat());
    // A Nonce option of 8 bytes holding a 6-byte nonce is fine; one of Length 0 is not.
    cases.push([&good.cipo[..], &[14, 0], &good.ndpso].concat());
    // The message ends inside the NDPSO.
    cases.push([&good.cipo[..], &good.nonce, &good.ndpso[..40]].concat());
    for (i, extra) in cases.iter().enumerate() {
        let invalid = h.app.lbr().stats().rx_invalid;
        let t = h.now;
        ns_ap(&mut h, n.node, a, 1, 60, &n.rovr, extra);
        assert!(h.sent_icmp(node::NA, t).is_empty(), "case {i}: answered");
        assert_eq!(
            h.app.lbr().stats().rx_invalid,
            invalid + 1,
            "case {i}: not counted"
        );
    }
    // The challenge was not used up by malformed messages: the good proof still works.
    let t = h.now;
    ns_ap(&mut h, n.node, a, 1, 60, &n.rovr, &good.bytes());
    assert_eq!(na_earo(&h.one_na(t)).0, STATUS_SUCCESS);
    h.assert_pool();
}

#[test]
fn stale_or_unknown_nonce_is_challenged_again() {
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let n = ApNode::new(1, 0, 8);
    let a = n.node.global();
    let t = h.now;
    ns_ap(&mut h, n.node, a, 1, 60, &n.rovr, &[]);
    let lr = na_nonce(&h.one_na(t)).unwrap();
    // Answered after the challenge's lifetime (20 s).
    h.run_for(Duration::from_secs(21));
    let t = h.now;
    let late = Proof::new(&n.key, &n.key, a, &lr, n.rovr.len());
    ns_ap(&mut h, n.node, a, 1, 60, &n.rovr, &late.bytes());
    let na = h.one_na(t);
    assert_eq!(na_earo(&na).0, STATUS_VALIDATION_REQUESTED);
    let fresh = na_nonce(&na).unwrap();
    assert_ne!(fresh, lr);
    assert!(!registered(&h, a));
    // A proof over a nonce the router never handed out (the fresh one is outstanding).
    let t = h.now;
    let made_up = Proof::new(&n.key, &n.key, a, &[0x11; 14], n.rovr.len());
    ns_ap(&mut h, n.node, a, 1, 60, &n.rovr, &made_up.bytes());
    assert_eq!(na_earo(&h.one_na(t)).0, STATUS_VALIDATION_FAILED);
    assert!(!registered(&h, a));
    // And a proof when no challenge is outstanding at all: challenged.
    let t = h.now;
    ns_ap(&mut h, n.node, a, 1, 60, &n.rovr, &made_up.bytes());
    assert_eq!(na_earo(&h.one_na(t)).0, STATUS_VALIDATION_REQUESTED);
}

#[test]
fn challenge_table_is_bounded_and_counts_exhaustion() {
    use firmware::lbr::ap::{AP_CHALLENGES, AP_CHALLENGES_PER_SOURCE};
    let mut h = Harness::new();
    h.run_until(at(1_000));
    let attacker = Node::new(66);
    // One source: at most AP_CHALLENGES_PER_SOURCE outstanding, its own oldest replaced.
    for i in 0..6u16 {
        let target = Node::new(100 + i).global();
        ns_ap(&mut h, attacker, target, 1, 60, &[i as u8; 8], &[]);
    }
    assert_eq!(ap(&h).challenge_table_full, 0);
    // Many sources (spoofed MACs): the table stays at AP_CHALLENGES, the oldest dropped.
    let sources = AP_CHALLENGES + 3;
    for i in 0..sources as u16 {
        let from = Node::new(200 + i);
        ns_ap(
            &mut h,
            from,
            from.global(),
            1,
            60,
            &[0xa0 ^ i as u8; 8],
            &[],
        );
    }
    let s = ap(&h);
    assert_eq!(s.challenge_table_full, 3 + AP_CHALLENGES_PER_SOURCE as u64);
    assert_eq!(s.challenges, 6 + sources as u64);
    // The latest challenges are answerable.
    let n = ApNode::new(1, 0, 8);
    assert_eq!(
        register_proved(&mut h, &n, n.node, n.node.global(), 1),
        STATUS_SUCCESS
    );
}

// ----- policies ---------------------------------------------------------------------------------------

fn with_policy(p: AddressProtection) -> Harness {
    let cfg = Config {
        address_protection: p,
        ..Config::default()
    };
    let mut h = Harness::with_config(cfg);
    h.run_until(at(1_000));
    h
}

#[test]
fn default_policy_is_allow_and_plain_nodes_register_as_before() {
    assert_eq!(
        Config::default().address_protection,
        AddressProtection::Allow
    );
    let mut h = with_policy(AddressProtection::Allow);
    let plain = Node::new(3);
    let a = plain.global();
    let t = h.now;
    let ip = Ip::nd(a, h.br_link_local());
    let body = ns_earo_body(&ip, a, plain.eui, Some(1), 60, plain.eui);
    let dst = h.to_br();
    h.send(plain.eui, dst, &ip.build(body));
    let na = h.one_na(t);
    assert_eq!(na_earo(&na), (STATUS_SUCCESS, 0x01, plain.eui.to_vec()));
    assert!(!entry(&h, a).unwrap().crypto);
    assert_eq!(ap(&h), ApStats::default());
}

#[test]
fn require_refuses_registrations_without_proof() {
    let mut h = with_policy(AddressProtection::Require);
    let plain = Node::new(3);
    let a = plain.global();
    let t = h.now;
    let ip = Ip::nd(a, h.br_link_local());
    let body = ns_earo_body(&ip, a, plain.eui, Some(1), 60, plain.eui);
    let dst = h.to_br();
    h.send(plain.eui, dst, &ip.build(body));
    assert_eq!(na_earo(&h.one_na(t)).0, STATUS_VALIDATION_FAILED);
    assert!(!registered(&h, a));
    // A DAR (a 6LR's relayed registration) carries no proof the 6LBR can check.
    let relay = Node::new(4);
    let behind = Node::new(5).global();
    let t = h.now;
    let ip = Ip::nd(relay.global(), h.br_global());
    let dst = h.to_br();
    h.send(relay.eui, dst, &ip.build(dar_body(60, [5; 8], behind)));
    let dac = h.sent_icmp(node::DAC, t);
    assert_eq!(dac.len(), 1);
    assert_eq!(dac[0].icmp().unwrap()[4], STATUS_VALIDATION_FAILED);
    assert!(!registered(&h, behind));
    assert_eq!(refusals(&mut h), vec![(a, 10), (behind, 10)]);
    assert_eq!(ap(&h).proofs_failed, 2);
    // With a proof, the registration goes through.
    let n = ApNode::new(1, 0, 8);
    assert_eq!(
        register_proved(&mut h, &n, n.node, n.node.global(), 1),
        STATUS_SUCCESS
    );
}

#[test]
fn off_ignores_the_c_flag() {
    let mut h = with_policy(AddressProtection::Off);
    let n = ApNode::new(1, 0, 8);
    let a = n.node.global();
    let t = h.now;
    ns_ap(&mut h, n.node, a, 1, 60, &n.rovr, &[]);
    let na = h.one_na(t);
    // Registered at once, the ROVR as opaque bytes; no C flag, no nonce in the answer.
    assert_eq!(na_earo(&na), (STATUS_SUCCESS, 0x01, n.rovr.clone()));
    assert_eq!(na_nonce(&na), None);
    assert!(!entry(&h, a).unwrap().crypto);
    assert_eq!(ap(&h), ApStats::default());
    // And a proof is not even looked at.
    let t = h.now;
    let p = Proof::new(&key(1), &key(1), a, &[0; 14], n.rovr.len());
    ns_ap(&mut h, n.node, a, 2, 60, &n.rovr, &p.bytes());
    assert_eq!(na_earo(&h.one_na(t)).0, STATUS_SUCCESS);
}

/// The instants used: keeps `Instant` imported for helpers shared with other test files.
#[allow(dead_code)]
fn _t(_: Instant) {}
