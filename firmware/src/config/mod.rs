//! The border router's one configuration: mesh prefix, PAN ID, channel, EUI-64, backbone
//! addressing, Router Advertisement timers; its validation and its persistent encoding.
//!
//! The persistent encoding lives in `encoding.rs` ([`Config::encode`], [`Config::decode`]).
//!
//! # Persistent encoding
//!
//! ```text
//! +------+---------+--------------------+------------------+
//! | SGCF | version | postcard(Config)   | CRC-32 (LE)      |
//! | 4 B  | 1 B     | variable           | 4 B              |
//! +------+---------+--------------------+------------------+
//! ```
//!
//! The CRC is CRC-32/ISO-HDLC (the IEEE 802.3 / zlib CRC) over everything before it. postcard is
//! not self-describing, so any change to [`Config`]'s fields or their order must bump
//! [`CONFIG_FORMAT_VERSION`]; [`Config::decode`] refuses other versions with
//! [`ConfigError::Version`] instead of decoding garbage. At most [`CONFIG_MAX_ENCODED`] bytes.
//!
//! Stored bytes are hostile: [`Config::decode`] checks magic, version, CRC, that the payload
//! is exactly one postcard-encoded [`Config`] (read by hand, see `read_whole`), and finally [`Config::validate`]; it never panics.
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

use core::fmt;
use core::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

mod encoding;
mod rpl;
mod security;

pub use encoding::{CONFIG_FORMAT_VERSION, CONFIG_MAGIC, CONFIG_MAX_ENCODED};
pub use rpl::{RplConfig, RplMop, RplObjective};
pub use security::SecurityConfig;

/// Length of the mesh prefix in bits: RFC 6775 address autoconfiguration needs a /64.
pub const MESH_PREFIX_LEN: u8 = 64;

/// Why a configuration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// The mesh prefix is not a /64 global or unique-local unicast prefix.
    BadPrefix,
    /// The channel is outside 11..=26 (IEEE 802.15.4 O-QPSK 2.4 GHz).
    BadChannel,
    /// The PAN ID is the broadcast PAN ID 0xffff.
    BadPanId,
    /// The short address is the broadcast address 0xffff.
    BadShortAddress,
    /// The EUI-64 is all zeros or all ones.
    BadEui64,
    /// The Ethernet MAC address is a group address or all zeros.
    BadMac,
    /// The transmit power is outside -40..=8 dBm.
    BadTxPower,
    /// The Router Advertisement timers break RFC 4861 §6.2.1 or the lifetimes are inconsistent.
    BadRaTimers,
    /// The maximum registration lifetime is zero.
    BadRegistrationLifetime,
    /// The registrations allowed per link-layer source are outside 1..=256.
    BadRegistrationQuota,
    /// The static backbone address, prefix length or gateway is unusable, or the backbone
    /// prefix overlaps the mesh prefix.
    BadBackbone,
    /// A stored configuration asks for address protection (RFC 8928: `allow` or `require`) but
    /// this firmware was built without the `address-protection` feature.
    AddressProtectionUnsupported,
    /// The RPL settings are inconsistent (see [`RplConfig`]).
    BadRpl,
    /// The link-layer security settings are unusable (see [`SecurityConfig`]).
    BadSecurity,
    /// The output buffer is too small (or the configuration could not be serialised).
    Encoding,
    /// The stored bytes are not a configuration: bad magic, CRC mismatch, truncated or
    /// undecodable payload.
    Corrupt,
    /// The stored configuration was written in an encoding version this firmware does not read.
    Version,
}

impl ConfigError {
    /// The message [`fmt::Display`] prints, for callers that avoid `core::fmt`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            ConfigError::BadPrefix => {
                "mesh prefix must be a /64 unicast prefix (not multicast, link-local or ::)"
            }
            ConfigError::BadChannel => "channel must be in 11..=26",
            ConfigError::BadPanId => "PAN ID 0xffff (broadcast) is not allowed",
            ConfigError::BadShortAddress => "short address 0xffff (broadcast) is not allowed",
            ConfigError::BadEui64 => "EUI-64 must not be all zeros or all ones",
            ConfigError::BadMac => "Ethernet MAC must be unicast and not all zeros",
            ConfigError::BadTxPower => "transmit power must be in -40..=8 dBm",
            ConfigError::BadRaTimers => "router advertisement timers violate RFC 4861 6.2.1",
            ConfigError::BadRegistrationLifetime => {
                "maximum registration lifetime must be non-zero"
            }
            ConfigError::BadRegistrationQuota => "registrations per source must be in 1..=256",
            ConfigError::BadBackbone => "static backbone invalid or overlapping the mesh prefix",
            ConfigError::AddressProtectionUnsupported => {
                "address protection needs a firmware built with the address-protection feature"
            }
            ConfigError::BadRpl => {
                "RPL settings invalid: instance 0..=127, DIO interval min 1..=24 with min + \
                 doublings <= 31, non-zero lifetime and unit, max depth 1..=16, non-zero \
                 MinHopRankIncrease"
            }
            ConfigError::BadSecurity => {
                "security level must be 1-3 or 5-7; unsecured types only beacon 0, data 1, command 3"
            }
            ConfigError::Encoding => "configuration does not fit the output buffer",
            ConfigError::Corrupt => "stored configuration is corrupt",
            ConfigError::Version => "stored configuration has an unsupported format version",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for ConfigError {}

/// How the border router gets its own address on the backbone (`eth0`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Backbone {
    /// Autoconfigure (RFC 4862) from the prefixes in the backbone routers' advertisements, and
    /// use the advertising router as the default gateway.
    Slaac,
    /// A fixed address.
    Static {
        /// The global (or unique-local) address of `eth0`.
        addr: [u8; 16],
        /// On-link prefix length of `addr`, 1..=128.
        prefix_len: u8,
        /// Default gateway on the backbone (may be link-local); `None` for no default route.
        gateway: Option<[u8; 16]>,
    },
}

/// What the 6LBR does with Address-Protected ND (RFC 8928): registrations whose ROVR is a
/// Crypto-ID (the EARO's C flag) and the proofs of ownership that come with them.
///
/// - `Off`: the C flag is ignored and the ROVR is opaque (the RFC 8505 rules alone).
/// - `Allow`: a node that registers with a Crypto-ID is challenged and, once it proved that it
///   holds the key, its address cannot be taken over, refreshed from another link-layer address
///   or removed without a new proof; nodes without Crypto-ID register as with `Off`.
/// - `Require`: every registration must come with a valid proof; one without the C flag (and
///   every DAR, whose proof the 6LBR cannot see) is refused with status 10, Validation Failed.
///
/// The default is `Allow` in a firmware built with the `address-protection` feature. Without
/// the feature the type has the one variant `Off` (zero bytes: the nRF52840 board has no
/// static RAM to spare), encoded like `Off` of the full type, and a stored configuration that
/// asks for `Allow` or `Require` is refused by [`Config::decode`] with
/// [`ConfigError::AddressProtectionUnsupported`]. Added in encoding version 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AddressProtection {
    /// Crypto-IDs are not looked at.
    Off,
    /// Nodes that use Crypto-IDs are protected; the others register as without.
    #[cfg(feature = "address-protection")]
    Allow,
    /// Only registrations with a valid proof of ownership are accepted.
    #[cfg(feature = "address-protection")]
    Require,
}

impl AddressProtection {
    /// The default of this build: `Allow` with the `address-protection` feature, else `Off`.
    #[cfg(feature = "address-protection")]
    pub const DEFAULT: AddressProtection = AddressProtection::Allow;
    /// The default of this build: `Allow` with the `address-protection` feature, else `Off`.
    #[cfg(not(feature = "address-protection"))]
    pub const DEFAULT: AddressProtection = AddressProtection::Off;

    /// The policy of its encoding (a postcard variant index): `Some(Err(..))` for `Allow` (1)
    /// and `Require` (2) in a build without the feature, `None` for anything else.
    pub(crate) fn from_index(i: u32) -> Option<Result<AddressProtection, ConfigError>> {
        match i {
            0 => Some(Ok(AddressProtection::Off)),
            #[cfg(feature = "address-protection")]
            1 => Some(Ok(AddressProtection::Allow)),
            #[cfg(feature = "address-protection")]
            2 => Some(Ok(AddressProtection::Require)),
            #[cfg(not(feature = "address-protection"))]
            1 | 2 => Some(Err(ConfigError::AddressProtectionUnsupported)),
            _ => None,
        }
    }
}

/// Router Advertisement and 6LoWPAN-ND option timers advertised on the mesh.
///
/// Defaults:
/// - `min_interval_s` 200, `max_interval_s` 600: RFC 4861 §6.2.1 defaults (MaxRtrAdvInterval
///   600 s, MinRtrAdvInterval 0.33 × Max). RFC 6775 §5.5 / §8.1 hosts mostly solicit RAs, so
///   unsolicited RAs are rare on the mesh;
/// - `router_lifetime_s` 1800: RFC 4861 AdvDefaultLifetime default, 3 × MaxRtrAdvInterval;
/// - `prefix_valid_s` 86 400 (1 day), `prefix_preferred_s` 14 400 (4 h): shorter than RFC 4861's
///   30 d / 7 d defaults so a renumbered mesh converges within a day;
/// - `context_lifetime_min` 60: 6LoWPAN Context Option valid lifetime (RFC 6775 §4.2, units of
///   60 s), well above MIN_CONTEXT_CHANGE_DELAY (300 s, RFC 6775 §9);
/// - `abro_valid_lifetime_min` 10 000: the RFC 6775 §4.3 default of the Authoritative Border
///   Router Option (units of 60 s; 0 also means 10 000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RaConfig {
    /// MinRtrAdvInterval in seconds: at least 3 and at most 0.75 × `max_interval_s`.
    pub min_interval_s: u16,
    /// MaxRtrAdvInterval in seconds: 4..=1800.
    pub max_interval_s: u16,
    /// AdvDefaultLifetime in seconds: 0 (not a default router) or `max_interval_s..=9000`.
    pub router_lifetime_s: u16,
    /// Valid lifetime of the mesh prefix (Prefix Information Option), seconds, non-zero.
    pub prefix_valid_s: u32,
    /// Preferred lifetime of the mesh prefix, seconds, at most `prefix_valid_s`.
    pub prefix_preferred_s: u32,
    /// Valid lifetime of the 6LoWPAN Context Option for the mesh prefix, units of 60 s,
    /// non-zero.
    pub context_lifetime_min: u16,
    /// Valid lifetime of the Authoritative Border Router Option, units of 60 s.
    pub abro_valid_lifetime_min: u16,
}

impl Default for RaConfig {
    fn default() -> Self {
        RaConfig {
            min_interval_s: 200,
            max_interval_s: 600,
            router_lifetime_s: 1800,
            prefix_valid_s: 86_400,
            prefix_preferred_s: 14_400,
            context_lifetime_min: 60,
            abro_valid_lifetime_min: 10_000,
        }
    }
}

impl RaConfig {
    /// Checks the RFC 4861 §6.2.1 limits and the lifetimes' consistency.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let min = u32::from(self.min_interval_s);
        let max = u32::from(self.max_interval_s);
        let rl = self.router_lifetime_s;
        let ok = (4..=1800).contains(&max)
            && min >= 3
            // min <= 0.75 * max, in integers; both are at most 65 535, so no overflow.
            && min.saturating_mul(4) <= max.saturating_mul(3)
            && (rl == 0 || (self.max_interval_s..=9000).contains(&rl))
            && self.prefix_valid_s != 0
            && self.prefix_preferred_s <= self.prefix_valid_s
            && self.context_lifetime_min != 0;
        if ok {
            Ok(())
        } else {
            Err(ConfigError::BadRaTimers)
        }
    }
}

/// The one configuration of the border router.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// The /64 mesh prefix (upper 64 bits); see [`Config::set_mesh_prefix_from`].
    pub mesh_prefix: [u8; 8],
    /// IEEE 802.15.4 PAN ID of the mesh; 0xffff (broadcast) is refused.
    pub pan_id: u16,
    /// IEEE 802.15.4 channel, 11..=26 (2.4 GHz O-QPSK).
    pub channel: u8,
    /// The border router's extended address on the mesh.
    pub eui64: [u8; 8],
    /// The border router's short address on the mesh; 0xfffe means "none, use the EUI-64",
    /// 0xffff (broadcast) is refused.
    pub short_address: u16,
    /// Radio transmit power in dBm, -40..=8.
    pub tx_power_dbm: i8,
    /// MAC address of `eth0`: unicast (group bit clear) and not all zeros.
    pub eth_mac: [u8; 6],
    /// How `eth0` is addressed.
    pub backbone: Backbone,
    /// Router Advertisement timers on the mesh.
    pub ra: RaConfig,
    /// ABRO version number (RFC 6775 §4.3): the application bumps it with
    /// [`Config::bump_abro_version`] whenever the prefix or context information changes, so
    /// routers in the mesh pick up the new information.
    pub abro_version: u32,
    /// Upper bound, in units of 60 s, on the lifetime granted to an Address Registration
    /// Option (RFC 6775 §4.1 / RFC 8505); longer requested lifetimes are clamped so that a
    /// node that vanished frees its entry within this time. Non-zero; default 1440 (one day).
    pub max_registration_lifetime_min: u16,
    /// Registrations one link-layer source may hold at once (a node registers its own few
    /// addresses; a 6LR relaying DARs for the nodes behind it needs more): a neighbour that
    /// registers more gets status 2 and the table stays usable for the others.
    /// 1..=[`DEFAULT_REGISTRATIONS`](crate::registry::DEFAULT_REGISTRATIONS); default 4.
    /// Added in encoding version 2 (a version 1 record loads with the default).
    pub max_registrations_per_source: u16,
    /// Send a packet whose next hop is a global address of the mesh that is neither
    /// registered nor gleaned to the link-layer address its IID derives from (RFC 4944 §6).
    /// Off by default: such a packet is refused with Destination Unreachable (address
    /// unreachable), so a backbone host flooding random mesh addresses costs no airtime (see
    /// `docs/security.md`). Link-local next hops always derive. Added in encoding version 3.
    pub blind_global_derivation: bool,
    /// Let the DSCP of packets from the backbone pick their traffic class on the mesh. Off by
    /// default: they are queued as DSCP 0 (default forwarding), so a backbone host cannot buy
    /// the mesh's priority classes (nor fill all of them). Added in encoding version 3.
    pub trust_backbone_dscp: bool,
    /// Address-Protected ND (RFC 8928) policy; see [`AddressProtection`]. Default
    /// [`AddressProtection::DEFAULT`]. Added in encoding version 3 (older records load with
    /// the default).
    pub address_protection: AddressProtection,
    /// The RPL root on `wpan0`; see [`RplConfig`]. Added in encoding version 4 (older
    /// records load with [`RplConfig::default`]).
    pub rpl: RplConfig,
    /// Link-layer security of `wpan0`; see [`SecurityConfig`]. Added in encoding version 7
    /// (older records load with security off).
    pub security: SecurityConfig,
}

/// Default mesh prefix 2001:db8:1::/64 (documentation prefix, RFC 3849).
const DEFAULT_MESH_PREFIX: [u8; 8] = [0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00];
/// Default PAN ID.
const DEFAULT_PAN_ID: u16 = 0xabcd;
/// Default channel: 26, in the gap above Wi-Fi channel 11 in most regions (channels 15, 20, 25
/// and 26 fall between Wi-Fi channels 1/6/11).
const DEFAULT_CHANNEL: u8 = 26;
/// Default EUI-64 of [`Config::default`]: 02:00:5e:ff:fe:00:00:01, the IANA OUI with the
/// universal/local bit set, so it is locally administered and cannot clash with a factory
/// EUI-64. Boards use [`Config::default_for`] with the radio's own EUI-64.
const DEFAULT_EUI64: [u8; 8] = [0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x00, 0x01];
/// Default maximum registration lifetime, units of 60 s (one day).
const DEFAULT_MAX_REGISTRATION_LIFETIME_MIN: u16 = 24 * 60;
/// Default registrations per link-layer source: a node's link-local and global addresses,
/// with room for two more.
pub const DEFAULT_MAX_REGISTRATIONS_PER_SOURCE: u16 = 4;

/// True for a /64 prefix usable for the mesh: not ::/64, not multicast (ff00::/8), not
/// link-local (fe80::/10).
fn mesh_prefix_ok(p: &[u8; 8]) -> bool {
    let [b0, b1, ..] = *p;
    *p != [0; 8] && b0 != 0xff && !(b0 == 0xfe && b1 & 0xc0 == 0x80)
}

impl Config {
    /// The default configuration for a border router whose radio has extended address `eui64`:
    /// mesh prefix 2001:db8:1::/64, PAN ID 0xabcd, channel 26, short address 0x0000, 0 dBm,
    /// `eth0` MAC 02:xx:xx:xx:xx:xx from the last five bytes of the EUI-64 (locally
    /// administered unicast), backbone by SLAAC, [`RaConfig::default`] timers, ABRO version 1,
    /// maximum registration lifetime one day, 4 registrations per link-layer source, no blind
    /// derivation of global next hops, the backbone's DSCP not trusted, address protection
    /// [`AddressProtection::DEFAULT`], the RPL root as [`RplConfig::default`].
    pub fn default_for(eui64: [u8; 8]) -> Config {
        let [_, _, _, e3, e4, e5, e6, e7] = eui64;
        Config {
            mesh_prefix: DEFAULT_MESH_PREFIX,
            pan_id: DEFAULT_PAN_ID,
            channel: DEFAULT_CHANNEL,
            eui64,
            short_address: 0x0000,
            tx_power_dbm: 0,
            eth_mac: [0x02, e3, e4, e5, e6, e7],
            backbone: Backbone::Slaac,
            ra: RaConfig::default(),
            abro_version: 1,
            max_registration_lifetime_min: DEFAULT_MAX_REGISTRATION_LIFETIME_MIN,
            max_registrations_per_source: DEFAULT_MAX_REGISTRATIONS_PER_SOURCE,
            blind_global_derivation: false,
            trust_backbone_dscp: false,
            address_protection: AddressProtection::DEFAULT,
            rpl: RplConfig::default(),
            security: SecurityConfig::OFF,
        }
    }

    /// The mesh prefix as an address (lower 64 bits zero).
    pub fn mesh_prefix_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        let (hi, _) = a.split_at_mut(8);
        hi.copy_from_slice(&self.mesh_prefix);
        Ipv6Addr::from(a)
    }

    /// Sets the mesh prefix from `addr/len`. Refuses (with [`ConfigError::BadPrefix`], leaving
    /// the configuration unchanged) a length other than 64 and multicast, link-local or
    /// unspecified prefixes; bits of `addr` past the first 64 are ignored. Does not bump the
    /// ABRO version: the caller does, once the change is committed.
    pub fn set_mesh_prefix_from(&mut self, addr: Ipv6Addr, len: u8) -> Result<(), ConfigError> {
        if len != MESH_PREFIX_LEN {
            return Err(ConfigError::BadPrefix);
        }
        let [a0, a1, a2, a3, a4, a5, a6, a7, ..] = addr.octets();
        let hi = [a0, a1, a2, a3, a4, a5, a6, a7];
        if !mesh_prefix_ok(&hi) {
            return Err(ConfigError::BadPrefix);
        }
        self.mesh_prefix = hi;
        Ok(())
    }

    /// Increments the ABRO version number (wrapping), to be called whenever the advertised
    /// prefix or context information changes.
    pub fn bump_abro_version(&mut self) {
        self.abro_version = self.abro_version.wrapping_add(1);
    }

    /// Checks every field; the first failing rule gives the error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !mesh_prefix_ok(&self.mesh_prefix) {
            return Err(ConfigError::BadPrefix);
        }
        if self.pan_id == 0xffff {
            return Err(ConfigError::BadPanId);
        }
        if !(11..=26).contains(&self.channel) {
            return Err(ConfigError::BadChannel);
        }
        if self.eui64 == [0; 8] || self.eui64 == [0xff; 8] {
            return Err(ConfigError::BadEui64);
        }
        if self.short_address == 0xffff {
            return Err(ConfigError::BadShortAddress);
        }
        if !(-40..=8).contains(&self.tx_power_dbm) {
            return Err(ConfigError::BadTxPower);
        }
        let [m0, ..] = self.eth_mac;
        if m0 & 0x01 != 0 || self.eth_mac == [0; 6] {
            return Err(ConfigError::BadMac);
        }
        if let Backbone::Static {
            addr,
            prefix_len,
            gateway,
        } = &self.backbone
        {
            let a = Ipv6Addr::from(*addr);
            let addr_ok = !a.is_multicast() && !a.is_unspecified() && !a.is_loopback();
            let gw_ok = gateway.is_none_or(|g| {
                let g = Ipv6Addr::from(g);
                !g.is_multicast() && !g.is_unspecified() && !g.is_loopback()
            });
            // The backbone prefix and the mesh /64 overlap when they agree on the shorter of
            // the two lengths: one prefix would then be connected on both interfaces.
            let [a0, a1, a2, a3, a4, a5, a6, a7, ..] = *addr;
            let diff = u64::from_be_bytes([a0, a1, a2, a3, a4, a5, a6, a7])
                ^ u64::from_be_bytes(self.mesh_prefix);
            let shorter = u32::from((*prefix_len).min(MESH_PREFIX_LEN));
            let overlaps = diff.checked_shr(64u32.saturating_sub(shorter)).unwrap_or(0) == 0;
            if !addr_ok || !(1..=128).contains(prefix_len) || !gw_ok || overlaps {
                return Err(ConfigError::BadBackbone);
            }
        }
        self.ra.validate()?;
        if self.max_registration_lifetime_min == 0 {
            return Err(ConfigError::BadRegistrationLifetime);
        }
        let quota = usize::from(self.max_registrations_per_source);
        if !(1..=crate::registry::DEFAULT_REGISTRATIONS).contains(&quota) {
            return Err(ConfigError::BadRegistrationQuota);
        }
        if !self.rpl.is_valid() {
            return Err(ConfigError::BadRpl);
        }
        if !self.security.is_valid() {
            return Err(ConfigError::BadSecurity);
        }
        Ok(())
    }
}

impl Default for Config {
    /// [`Config::default_for`] the fixed, locally administered EUI-64 02:00:5e:ff:fe:00:00:01
    /// (for the simulator and tests; a board uses its radio's EUI-64).
    fn default() -> Self {
        Config::default_for(DEFAULT_EUI64)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "std"))]
    extern crate std;
    use std::{format, vec, vec::Vec};

    use super::*;

    pub(super) fn static_cfg() -> Config {
        let mut c = Config::default_for([0x00, 0x12, 0x4b, 0x00, 0x14, 0x15, 0x92, 0x65]);
        c.backbone = Backbone::Static {
            addr: "2001:db8:ffff::1".parse::<Ipv6Addr>().unwrap().octets(),
            prefix_len: 64,
            gateway: Some("fe80::1".parse::<Ipv6Addr>().unwrap().octets()),
        };
        c
    }

    pub(super) fn samples() -> Vec<Config> {
        let mut v = vec![Config::default(), static_cfg()];
        let mut c = static_cfg();
        c.backbone = Backbone::Static {
            addr: [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7],
            prefix_len: 128,
            gateway: None,
        };
        c.channel = 11;
        c.pan_id = 0;
        c.short_address = 0xfffe;
        c.tx_power_dbm = -40;
        c.abro_version = u32::MAX;
        c.ra.prefix_valid_s = u32::MAX;
        c.ra.prefix_preferred_s = u32::MAX;
        v.push(c);
        v.push(Config {
            mesh_prefix: [0xfd, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde],
            tx_power_dbm: 8,
            ra: RaConfig {
                min_interval_s: 3,
                max_interval_s: 4,
                router_lifetime_s: 0,
                prefix_valid_s: 1,
                prefix_preferred_s: 0,
                context_lifetime_min: 1,
                abro_valid_lifetime_min: 0,
            },
            max_registration_lifetime_min: u16::MAX,
            max_registrations_per_source: 256,
            blind_global_derivation: true,
            ..Config::default()
        });
        v.push(Config {
            trust_backbone_dscp: true,
            address_protection: AddressProtection::Off,
            rpl: RplConfig {
                enabled: false,
                mop: RplMop::Storing,
                instance_id: 127,
                dio_interval_min: 24,
                dio_interval_doublings: 7,
                dio_redundancy: 0,
                default_lifetime: 255,
                lifetime_unit_s: u16::MAX,
                max_depth: 16,
                min_hop_rank_increase: u16::MAX,
                rfc8138: true,
                objective: RplObjective::Of0,
            },
            security: SecurityConfig {
                network_key: Some([0xa5; 16]),
                level: 7,
                unsecured_allowed: 0b1011,
                rotate_period_h: u32::MAX,
            },
            ..static_cfg()
        });
        #[cfg(feature = "address-protection")]
        v.push(Config {
            address_protection: AddressProtection::Require,
            ..static_cfg()
        });
        v
    }

    #[test]
    fn defaults_validate() {
        Config::default().validate().unwrap();
        static_cfg().validate().unwrap();
        RaConfig::default().validate().unwrap();
        let c = Config::default();
        assert_eq!(c.eui64, DEFAULT_EUI64);
        assert_eq!(c.eth_mac, [0x02, 0xff, 0xfe, 0x00, 0x00, 0x01]);
        assert_eq!(
            c.mesh_prefix_addr(),
            "2001:db8:1::".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(c.channel, 26);
        assert_eq!(c.pan_id, 0xabcd);
        assert_eq!(c.short_address, 0);
        assert_eq!(c.backbone, Backbone::Slaac);
        assert_eq!(c.max_registrations_per_source, 4);
        assert_eq!(c.address_protection, AddressProtection::DEFAULT);
        #[cfg(feature = "address-protection")]
        assert_eq!(AddressProtection::DEFAULT, AddressProtection::Allow);
        for s in samples() {
            s.validate().unwrap();
        }
    }

    #[test]
    fn default_for_derives_local_unicast_mac() {
        let c = Config::default_for([0xff, 0xff, 0xff, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5]);
        assert_eq!(c.eth_mac, [0x02, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5]);
        c.validate().unwrap();
    }

    fn refused(f: impl FnOnce(&mut Config), want: ConfigError) {
        let mut c = Config::default();
        f(&mut c);
        assert_eq!(c.validate(), Err(want), "{c:?}");
    }

    #[test]
    fn validate_refuses() {
        use ConfigError::*;
        refused(|c| c.max_registrations_per_source = 0, BadRegistrationQuota);
        refused(|c| c.rpl.instance_id = 128, BadRpl);
        refused(|c| c.rpl.dio_interval_min = 0, BadRpl);
        refused(|c| c.rpl.dio_interval_doublings = 20, BadRpl);
        refused(|c| c.rpl.default_lifetime = 0, BadRpl);
        refused(|c| c.rpl.lifetime_unit_s = 0, BadRpl);
        refused(|c| c.rpl.max_depth = 0, BadRpl);
        refused(|c| c.rpl.max_depth = 17, BadRpl);
        refused(|c| c.rpl.min_hop_rank_increase = 0, BadRpl);
        refused(|c| c.security.level = 0, BadSecurity);
        refused(|c| c.security.level = 4, BadSecurity);
        refused(|c| c.security.level = 8, BadSecurity);
        refused(|c| c.security.unsecured_allowed = 1 << 2, BadSecurity);
        refused(
            |c| c.max_registrations_per_source = 257,
            BadRegistrationQuota,
        );
        refused(|c| c.mesh_prefix = [0; 8], BadPrefix);
        refused(|c| c.mesh_prefix = [0xff, 2, 0, 0, 0, 0, 0, 0], BadPrefix);
        refused(
            |c| c.mesh_prefix = [0xfe, 0x80, 0, 0, 0, 0, 0, 0],
            BadPrefix,
        );
        refused(
            |c| c.mesh_prefix = [0xfe, 0xbf, 0, 0, 0, 0, 0, 1],
            BadPrefix,
        );
        refused(|c| c.pan_id = 0xffff, BadPanId);
        refused(|c| c.channel = 10, BadChannel);
        refused(|c| c.channel = 27, BadChannel);
        refused(|c| c.channel = 0, BadChannel);
        refused(|c| c.eui64 = [0; 8], BadEui64);
        refused(|c| c.eui64 = [0xff; 8], BadEui64);
        refused(|c| c.short_address = 0xffff, BadShortAddress);
        refused(|c| c.tx_power_dbm = 9, BadTxPower);
        refused(|c| c.tx_power_dbm = -41, BadTxPower);
        refused(|c| c.eth_mac = [0; 6], BadMac);
        refused(|c| c.eth_mac = [0x01, 0, 0x5e, 0, 0, 1], BadMac);
        refused(|c| c.eth_mac = [0x33, 0x33, 0, 0, 0, 1], BadMac);
        refused(|c| c.ra.min_interval_s = 2, BadRaTimers);
        refused(|c| c.ra.min_interval_s = 451, BadRaTimers); // > 0.75 * 600
        refused(|c| c.ra.max_interval_s = 1801, BadRaTimers);
        refused(
            |c| {
                c.ra.max_interval_s = 3;
                c.ra.min_interval_s = 3;
            },
            BadRaTimers,
        );
        refused(|c| c.ra.router_lifetime_s = 599, BadRaTimers);
        refused(|c| c.ra.router_lifetime_s = 9001, BadRaTimers);
        refused(|c| c.ra.prefix_valid_s = 0, BadRaTimers);
        refused(|c| c.ra.prefix_preferred_s = 86_401, BadRaTimers);
        refused(|c| c.ra.context_lifetime_min = 0, BadRaTimers);
        refused(
            |c| c.max_registration_lifetime_min = 0,
            BadRegistrationLifetime,
        );
        let st = |addr: &str, len: u8, gw: Option<&str>| {
            let addr = addr.parse::<Ipv6Addr>().unwrap().octets();
            let gateway = gw.map(|g| g.parse::<Ipv6Addr>().unwrap().octets());
            move |c: &mut Config| {
                c.backbone = Backbone::Static {
                    addr,
                    prefix_len: len,
                    gateway,
                }
            }
        };
        refused(st("ff02::1", 64, None), BadBackbone);
        refused(st("::", 64, None), BadBackbone);
        refused(st("::1", 128, None), BadBackbone);
        refused(st("2001:db8::1", 129, None), BadBackbone);
        refused(st("2001:db8::1", 0, None), BadBackbone);
        refused(st("2001:db8::1", 64, Some("ff02::2")), BadBackbone);
        refused(st("2001:db8::1", 64, Some("::")), BadBackbone);
        // Accepted edge values.
        let mut c = Config::default();
        st("2001:db8::1", 128, Some("2001:db8::ffff"))(&mut c);
        c.ra.router_lifetime_s = 9000;
        c.ra.min_interval_s = 450;
        c.ra.max_interval_s = 600;
        c.validate().unwrap();
        c.ra.max_interval_s = 1800;
        c.ra.router_lifetime_s = 1800;
        c.validate().unwrap();
    }

    #[test]
    fn set_mesh_prefix_rules() {
        let mut c = Config::default();
        let p = |s: &str| s.parse::<Ipv6Addr>().unwrap();
        c.set_mesh_prefix_from(p("2001:db8:aa:bb:1:2:3:4"), 64)
            .unwrap();
        assert_eq!(c.mesh_prefix_addr(), p("2001:db8:aa:bb::"));
        assert_eq!(c.mesh_prefix, [0x20, 0x01, 0x0d, 0xb8, 0, 0xaa, 0, 0xbb]);
        c.set_mesh_prefix_from(p("fd00:1::"), 64).unwrap();
        assert_eq!(c.mesh_prefix_addr(), p("fd00:1::"));
        let before = c.clone();
        for (a, len) in [
            ("2001:db8::", 48),
            ("2001:db8::", 128),
            ("2001:db8::", 0),
            ("ff02::", 64),
            ("ff3e:40:2001:db8::", 64),
            ("fe80::", 64),
            ("febf:1::", 64),
            ("::", 64),
            ("::1", 64),
            ("::ffff:192.0.2.1", 64),
        ] {
            assert_eq!(
                c.set_mesh_prefix_from(p(a), len),
                Err(ConfigError::BadPrefix),
                "{a}/{len}"
            );
            assert_eq!(c, before);
        }
        // fec0::/10 (deprecated site-local) is not link-local.
        c.set_mesh_prefix_from(p("fec0::"), 64).unwrap();
    }

    #[test]
    fn bump_wraps() {
        let mut c = Config::default();
        let v = c.abro_version;
        c.bump_abro_version();
        assert_eq!(c.abro_version, v + 1);
        c.abro_version = u32::MAX;
        c.bump_abro_version();
        assert_eq!(c.abro_version, 0);
    }

    /// A static backbone prefix that overlaps the mesh prefix would put one prefix on both
    /// interfaces: the routing table refuses the second connected route (a route for a prefix
    /// connected on another interface), so such a configuration must never be accepted, or the
    /// border router could not start from it.
    #[test]
    fn static_backbone_overlapping_the_mesh_prefix_is_refused() {
        let mesh: Ipv6Addr = "2001:db8:1::".parse().unwrap();
        let validate = |addr: &str, prefix_len: u8| {
            let mut c = static_cfg();
            c.set_mesh_prefix_from(mesh, 64).unwrap();
            c.backbone = Backbone::Static {
                addr: addr.parse::<Ipv6Addr>().unwrap().octets(),
                prefix_len,
                gateway: None,
            };
            c.validate()
        };
        for (addr, len) in [
            ("2001:db8:1::1", 64),     // inside the mesh /64
            ("2001:db8:1::1", 128),    // one address inside it
            ("2001:db8:1:0:8::1", 80), // a longer prefix inside it
            ("2001:db8::1", 32),       // a shorter prefix covering it
            ("2000::1", 3),
        ] {
            assert_eq!(
                validate(addr, len),
                Err(ConfigError::BadBackbone),
                "{addr}/{len}"
            );
        }
        for (addr, len) in [
            ("2001:db8:2::1", 64),
            ("2001:db8:1:1::1", 64),
            ("2001:db8:0:1::1", 48),
        ] {
            assert_eq!(validate(addr, len), Ok(()), "{addr}/{len}");
        }
    }

    #[test]
    fn errors_display() {
        let e = ConfigError::BadChannel;
        assert_eq!(format!("{e}"), "channel must be in 11..=26");
        let _: &dyn core::error::Error = &e;
    }
}
