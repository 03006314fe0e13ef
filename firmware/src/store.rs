//! Where the encoded [`Config`] lives: a tiny [`ConfigStore`] trait (flash on the board, a file
//! on the simulator, memory in tests), and [`load_config`] / [`save_config`] on top of it.
//!
//! A store holds opaque bytes; the encoding, its CRC and its validation are
//! [`Config::encode`] / [`Config::decode`]'s business. Loading never fails: a missing, corrupt
//! or unreadable configuration gives the caller's fallback and a [`LoadOutcome`] that says why.
//!
//! What the operator configured beyond [`Config`] — static routes and interface addresses,
//! [`OperatorState`] — is a separate record in front of the configuration (written by
//! [`save_state`], read by [`load_state`]):
//!
//! | bytes | field |
//! | --- | --- |
//! | 4 | magic [`OPERATOR_MAGIC`] (`"SGOP"`) |
//! | 1 | format version, 1 |
//! | 1, 1 | number of routes (≤ [`OPERATOR_ROUTES`]), number of addresses (≤ [`OPERATOR_ADDRS`]) |
//! | 37 each | route: prefix (16), length, interface (0 `wpan0`, 1 `eth0`), has gateway (0/1), gateway (16, zeros if none), metric (u16 LE) |
//! | 18 each | address: interface, address (16), prefix length |
//! | 4 | CRC-32/ISO-HDLC of the bytes before it (LE) |
//!
//! then the encoded configuration. A store without the record (written by older firmware, or
//! by [`save_config`]) loads with an empty [`OperatorState`].
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

use core::fmt;

use core::net::Ipv6Addr;

use heapless::Vec;

use crate::config::{CONFIG_MAX_ENCODED, Config, ConfigError};

/// Magic bytes that open the operator record.
pub const OPERATOR_MAGIC: [u8; 4] = *b"SGOP";
/// Version of the operator record.
const OPERATOR_VERSION: u8 = 1;
/// Static routes the operator record keeps.
pub const OPERATOR_ROUTES: usize = 4;
/// Interface addresses the operator record keeps.
pub const OPERATOR_ADDRS: usize = 4;
/// Magic, version, two counts.
const OP_HEADER: usize = 7;
/// One route in the record.
const OP_ROUTE: usize = 37;
/// One address in the record.
const OP_ADDR: usize = 18;
/// Largest operator record.
pub const OPERATOR_MAX_ENCODED: usize =
    OP_HEADER + OPERATOR_ROUTES * OP_ROUTE + OPERATOR_ADDRS * OP_ADDR + 4;
/// Largest thing a store holds: the operator record and the configuration.
pub const STORE_MAX: usize = OPERATOR_MAX_ENCODED + CONFIG_MAX_ENCODED;

const CRC32: crc::Crc<u32, crc::NoTable> =
    crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// A static route the operator added (`sixgate route add`), as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StoredRoute {
    /// Destination prefix.
    pub prefix: Ipv6Addr,
    /// Its length, 0..=128.
    pub len: u8,
    /// Egress interface: 0 `wpan0`, 1 `eth0`.
    pub iface: u8,
    /// Gateway (`None`: on-link).
    pub via: Option<Ipv6Addr>,
    /// Metric.
    pub metric: u16,
}

/// An interface address the operator added (`sixgate addr add`), as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StoredAddr {
    /// Interface: 0 `wpan0`, 1 `eth0`.
    pub iface: u8,
    /// The address.
    pub addr: Ipv6Addr,
    /// On-link prefix length, 1..=128.
    pub len: u8,
}

/// What the operator configured at run time beyond [`Config`]: persisted with it, applied
/// after boot (`App::restore_operator_state`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorState {
    /// Static routes.
    pub routes: Vec<StoredRoute, OPERATOR_ROUTES>,
    /// Interface addresses.
    pub addrs: Vec<StoredAddr, OPERATOR_ADDRS>,
}

/// Appends `bytes` at `*at` in `buf`; `None` when it does not fit.
fn put(buf: &mut [u8], at: &mut usize, bytes: &[u8]) -> Option<()> {
    let end = at.checked_add(bytes.len())?;
    buf.get_mut(*at..end)?.copy_from_slice(bytes);
    *at = end;
    Some(())
}

/// Takes `N` bytes at `*at` from `b`.
fn take<const N: usize>(b: &[u8], at: &mut usize) -> Option<[u8; N]> {
    let end = at.checked_add(N)?;
    let v = b.get(*at..end)?.try_into().ok()?;
    *at = end;
    Some(v)
}

impl OperatorState {
    /// Nothing configured.
    pub const fn new() -> Self {
        OperatorState {
            routes: Vec::new(),
            addrs: Vec::new(),
        }
    }

    /// Writes the record (see the module docs) into `buf`; returns its length.
    pub fn encode(&self, buf: &mut [u8]) -> Option<usize> {
        let mut at = 0;
        let [m0, m1, m2, m3] = OPERATOR_MAGIC;
        let counts = [self.routes.len(), self.addrs.len()].map(|n| n as u8);
        put(buf, &mut at, &[m0, m1, m2, m3, OPERATOR_VERSION])?;
        put(buf, &mut at, &counts)?;
        for r in &self.routes {
            put(buf, &mut at, &r.prefix.octets())?;
            put(buf, &mut at, &[r.len, r.iface, u8::from(r.via.is_some())])?;
            put(
                buf,
                &mut at,
                &r.via.unwrap_or(Ipv6Addr::UNSPECIFIED).octets(),
            )?;
            put(buf, &mut at, &r.metric.to_le_bytes())?;
        }
        for a in &self.addrs {
            put(buf, &mut at, &[a.iface])?;
            put(buf, &mut at, &a.addr.octets())?;
            put(buf, &mut at, &[a.len])?;
        }
        let crc = CRC32.checksum(buf.get(..at)?);
        put(buf, &mut at, &crc.to_le_bytes())?;
        Some(at)
    }

    /// Reads a record from the start of `b`: the state and the record's length, or `None`
    /// when `b` does not start with a valid one. Never panics, whatever `b` holds.
    pub fn decode(b: &[u8]) -> Option<(OperatorState, usize)> {
        let mut at = 0;
        let [m0, m1, m2, m3, version, routes, addrs] = take::<OP_HEADER>(b, &mut at)?;
        if [m0, m1, m2, m3] != OPERATOR_MAGIC || version != OPERATOR_VERSION {
            return None;
        }
        let mut s = OperatorState::new();
        for _ in 0..routes {
            let prefix = Ipv6Addr::from(take::<16>(b, &mut at)?);
            let [len, iface, has_via] = take::<3>(b, &mut at)?;
            let via = Ipv6Addr::from(take::<16>(b, &mut at)?);
            let metric = u16::from_le_bytes(take::<2>(b, &mut at)?);
            let via = match has_via {
                0 => None,
                1 => Some(via),
                _ => return None,
            };
            let r = StoredRoute {
                prefix,
                len,
                iface,
                via,
                metric,
            };
            if len > 128 || iface > 1 {
                return None;
            }
            s.routes.push(r).ok()?;
        }
        for _ in 0..addrs {
            let [iface] = take::<1>(b, &mut at)?;
            let addr = Ipv6Addr::from(take::<16>(b, &mut at)?);
            let [len] = take::<1>(b, &mut at)?;
            if len == 0 || len > 128 || iface > 1 {
                return None;
            }
            s.addrs.push(StoredAddr { iface, addr, len }).ok()?;
        }
        let body = b.get(..at)?;
        let crc = u32::from_le_bytes(take::<4>(b, &mut at)?);
        (CRC32.checksum(body) == crc).then_some((s, at))
    }
}

/// Persistent storage for one encoded configuration.
pub trait ConfigStore {
    /// What went wrong in the storage itself.
    type Error: core::fmt::Debug;

    /// Copies the stored bytes into `buf` and returns their length, or `None` when nothing is
    /// stored. Stored data longer than `buf` is an error (never silently truncated).
    fn load(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Self::Error>;

    /// Replaces the stored bytes with `data`. Implementations should be atomic: after a power
    /// cut, `load` returns either the old or the new bytes.
    fn save(&mut self, data: &[u8]) -> Result<(), Self::Error>;

    /// Removes the stored bytes, so that `load` returns `None`. Erasing an empty store is fine.
    fn erase(&mut self) -> Result<(), Self::Error>;
}

/// The outgoing frame counter of link-layer security and its key sequence, as persisted
/// ahead (`l2_15_4::security::FrameCounter`): every counter used so far is below
/// `frame_counter` + the persist step, under key sequence `key_sequence`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SecurityCounter {
    /// Key sequence in use.
    pub key_sequence: u32,
    /// Frame counter persisted ahead.
    pub frame_counter: u32,
}

pub mod counter_log;

/// Where [`SecurityCounter`] lives: a record apart from the configuration, written every few
/// hundred frames (so it must not rewrite the configuration's flash page), never erased by a
/// configuration reset (a counter must never be sent twice under one key).
pub trait CounterStore {
    /// What went wrong in the storage itself.
    type Error: core::fmt::Debug;

    /// The last record saved, `None` when none was (a node that never sent a secured frame).
    fn load_counter(&mut self) -> Result<Option<SecurityCounter>, Self::Error>;

    /// Saves `c`; after a power cut `load_counter` returns this record or the previous one.
    fn save_counter(&mut self, c: SecurityCounter) -> Result<(), Self::Error>;
}

/// A [`CounterStore`] in RAM: for tests and the simulator's nodes without a file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemCounterStore(pub Option<SecurityCounter>);

impl CounterStore for MemCounterStore {
    type Error = core::convert::Infallible;

    fn load_counter(&mut self) -> Result<Option<SecurityCounter>, Self::Error> {
        Ok(self.0)
    }

    fn save_counter(&mut self, c: SecurityCounter) -> Result<(), Self::Error> {
        self.0 = Some(c);
        Ok(())
    }
}

/// Error of [`MemStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MemStoreError {
    /// `save` got more than [`STORE_MAX`] bytes.
    TooLarge,
    /// `load`'s buffer is shorter than the stored bytes.
    BufferTooSmall,
}

impl fmt::Display for MemStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemStoreError::TooLarge => "data larger than the memory store",
            MemStoreError::BufferTooSmall => "load buffer shorter than the stored data",
        })
    }
}

impl core::error::Error for MemStoreError {}

/// A [`ConfigStore`] in RAM (`no_std`, no heap): for tests and for boards without flash, where
/// the configuration lives until the next reset.
#[derive(Clone, Debug)]
pub struct MemStore {
    data: [u8; STORE_MAX],
    /// Length of the stored bytes; `None` when empty. Always at most `STORE_MAX`.
    len: Option<usize>,
}

impl MemStore {
    /// An empty store.
    pub const fn new() -> Self {
        MemStore {
            data: [0; STORE_MAX],
            len: None,
        }
    }

    /// The stored bytes, or `None` when empty.
    pub fn contents(&self) -> Option<&[u8]> {
        self.len.and_then(|n| self.data.get(..n))
    }
}

impl Default for MemStore {
    fn default() -> Self {
        MemStore::new()
    }
}

impl ConfigStore for MemStore {
    type Error = MemStoreError;

    fn load(&mut self, buf: &mut [u8]) -> Result<Option<usize>, MemStoreError> {
        let Some(stored) = self.contents() else {
            return Ok(None);
        };
        let dst = buf
            .get_mut(..stored.len())
            .ok_or(MemStoreError::BufferTooSmall)?;
        dst.copy_from_slice(stored);
        Ok(Some(stored.len()))
    }

    fn save(&mut self, data: &[u8]) -> Result<(), MemStoreError> {
        let dst = self
            .data
            .get_mut(..data.len())
            .ok_or(MemStoreError::TooLarge)?;
        dst.copy_from_slice(data);
        self.len = Some(data.len());
        Ok(())
    }

    fn erase(&mut self) -> Result<(), MemStoreError> {
        self.len = None;
        Ok(())
    }
}

/// Whether `bytes` (the start of what a store holds) is something sixgate wrote: a store
/// that holds anything else is not ours to overwrite (the Linux board's file store refuses).
pub fn is_sixgate_record(bytes: &[u8]) -> bool {
    bytes.starts_with(&crate::config::CONFIG_MAGIC) || bytes.starts_with(&OPERATOR_MAGIC)
}

/// What [`load_config`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum LoadOutcome {
    /// The stored configuration was read and is valid.
    Loaded,
    /// Nothing is stored; the fallback is in use.
    Missing,
    /// Something is stored but it is not a valid configuration (corrupt, another format
    /// version, or failing validation); the fallback is in use.
    Invalid(ConfigError),
    /// The store itself failed (see the store's own logs); the fallback is in use.
    StoreError,
}

/// Loads the stored configuration, or returns `fallback` and why it was needed. Never panics,
/// whatever the store returns. An operator record in front is skipped unread ([`load_state`]
/// reads it; the nRF52840 image, which does not persist one, links only this).
pub fn load_config<S: ConfigStore>(store: &mut S, fallback: Config) -> (Config, LoadOutcome) {
    let mut buf = [0u8; STORE_MAX];
    let decoded = match store.load(&mut buf) {
        Err(_) => {
            warn!("config store: load failed, using the fallback configuration");
            return (fallback, LoadOutcome::StoreError);
        }
        Ok(None) => {
            debug!("config store: empty, using the fallback configuration");
            return (fallback, LoadOutcome::Missing);
        }
        // A misbehaving store could claim more bytes than the buffer holds.
        Ok(Some(n)) => buf
            .get(..n)
            .and_then(|b| b.get(operator_len(b)?..))
            .ok_or(ConfigError::Corrupt)
            .and_then(Config::decode),
    };
    match decoded {
        Ok(cfg) => (cfg, LoadOutcome::Loaded),
        Err(e) => {
            warn!(
                "config store: stored configuration invalid ({}), using the fallback",
                e
            );
            (fallback, LoadOutcome::Invalid(e))
        }
    }
}

/// The length of the operator record at the start of `b` (0 when there is none), from its
/// counts alone (the configuration behind it has a CRC of its own); `None` when the counts
/// exceed the capacities.
fn operator_len(b: &[u8]) -> Option<usize> {
    if !b.starts_with(&OPERATOR_MAGIC) {
        return Some(0);
    }
    let (r, a) = (usize::from(*b.get(5)?), usize::from(*b.get(6)?));
    (r <= OPERATOR_ROUTES && a <= OPERATOR_ADDRS).then_some(())?;
    // At most 7 + 4 * 37 + 4 * 18 + 4: no overflow.
    #[allow(clippy::arithmetic_side_effects)]
    Some(OP_HEADER + r * OP_ROUTE + a * OP_ADDR + 4)
}

/// [`load_config`] and the [`OperatorState`] stored with it (empty unless the configuration
/// loaded). A damaged operator record makes the whole store invalid.
pub fn load_state<S: ConfigStore>(
    store: &mut S,
    fallback: Config,
) -> (Config, LoadOutcome, OperatorState) {
    let mut buf = [0u8; STORE_MAX];
    match store.load(&mut buf) {
        Err(_) => {
            warn!("config store: load failed, using the fallback configuration");
            (fallback, LoadOutcome::StoreError, OperatorState::new())
        }
        Ok(None) => {
            debug!("config store: empty, using the fallback configuration");
            (fallback, LoadOutcome::Missing, OperatorState::new())
        }
        Ok(Some(n)) => {
            // A misbehaving store could claim more bytes than the buffer holds.
            let decoded = buf.get(..n).ok_or(ConfigError::Corrupt).and_then(|b| {
                if !b.starts_with(&OPERATOR_MAGIC) {
                    return Ok((Config::decode(b)?, OperatorState::new()));
                }
                let (op, k) = OperatorState::decode(b).ok_or(ConfigError::Corrupt)?;
                let rest = b.get(k..).ok_or(ConfigError::Corrupt)?;
                Ok((Config::decode(rest)?, op))
            });
            match decoded {
                Ok((cfg, op)) => (cfg, LoadOutcome::Loaded, op),
                Err(e) => {
                    warn!(
                        "config store: stored configuration invalid ({}), using the fallback",
                        e
                    );
                    (fallback, LoadOutcome::Invalid(e), OperatorState::new())
                }
            }
        }
    }
}

/// Why [`save_config`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SaveError<E> {
    /// The configuration is invalid (it would not load back) or could not be encoded.
    Config(ConfigError),
    /// The store failed.
    Store(E),
    /// More static routes or addresses than the store keeps ([`OPERATOR_ROUTES`],
    /// [`OPERATOR_ADDRS`]).
    TooMany,
}

impl<E: fmt::Debug> fmt::Display for SaveError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::Config(e) => write!(f, "configuration not saved: {e}"),
            SaveError::Store(e) => write!(f, "configuration store failed: {e:?}"),
            SaveError::TooMany => write!(
                f,
                "configuration not saved: the store keeps at most {OPERATOR_ROUTES} static \
                 routes and {OPERATOR_ADDRS} addresses"
            ),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for SaveError<E> {}

/// Validates and encodes `cfg`, then saves it to `store` (without an operator record: what
/// was stored of it is gone; [`save_state`] keeps one).
pub fn save_config<S: ConfigStore>(store: &mut S, cfg: &Config) -> Result<(), SaveError<S::Error>> {
    save_state(store, cfg, &OperatorState::new())
}

/// Saves `cfg` and, when it is not empty, the operator record `op` in front of it.
pub fn save_state<S: ConfigStore>(
    store: &mut S,
    cfg: &Config,
    op: &OperatorState,
) -> Result<(), SaveError<S::Error>> {
    let mut buf = [0u8; STORE_MAX];
    let k = if op.routes.is_empty() && op.addrs.is_empty() {
        0
    } else {
        op.encode(&mut buf).unwrap_or(usize::MAX)
    };
    let n = match buf.get_mut(k..) {
        Some(rest) => cfg.encode(rest).map_err(SaveError::Config)?,
        None => return Err(SaveError::Config(ConfigError::Encoding)),
    };
    match buf.get(..k.saturating_add(n)) {
        Some(data) => store.save(data).map_err(SaveError::Store),
        None => Err(SaveError::Config(ConfigError::Encoding)),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "std"))]
    extern crate std;
    use std::format;

    use super::*;
    use crate::config::Backbone;

    fn custom() -> Config {
        let mut c = Config::default_for([0x00, 0x12, 0x4b, 0, 1, 2, 3, 4]);
        c.channel = 15;
        c.pan_id = 0x1234;
        c.backbone = Backbone::Static {
            addr: [0x20, 1, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            prefix_len: 64,
            gateway: None,
        };
        c
    }

    /// A store whose every operation fails.
    struct Broken;
    impl ConfigStore for Broken {
        type Error = ();
        fn load(&mut self, _: &mut [u8]) -> Result<Option<usize>, ()> {
            Err(())
        }
        fn save(&mut self, _: &[u8]) -> Result<(), ()> {
            Err(())
        }
        fn erase(&mut self) -> Result<(), ()> {
            Err(())
        }
    }

    /// A store that claims more bytes than the buffer holds.
    struct Liar;
    impl ConfigStore for Liar {
        type Error = ();
        fn load(&mut self, _: &mut [u8]) -> Result<Option<usize>, ()> {
            Ok(Some(usize::MAX))
        }
        fn save(&mut self, _: &[u8]) -> Result<(), ()> {
            Ok(())
        }
        fn erase(&mut self) -> Result<(), ()> {
            Ok(())
        }
    }

    #[test]
    fn mem_round_trip() {
        let mut s = MemStore::new();
        assert_eq!(
            load_config(&mut s, Config::default()),
            (Config::default(), LoadOutcome::Missing)
        );
        save_config(&mut s, &custom()).unwrap();
        assert_eq!(
            load_config(&mut s, Config::default()),
            (custom(), LoadOutcome::Loaded)
        );
        s.erase().unwrap();
        s.erase().unwrap();
        assert_eq!(s.contents(), None);
        assert_eq!(
            load_config(&mut s, Config::default()).1,
            LoadOutcome::Missing
        );
    }

    #[test]
    fn mem_limits() {
        let mut s = MemStore::default();
        assert_eq!(s.save(&[0; STORE_MAX + 1]), Err(MemStoreError::TooLarge));
        s.save(&[7; STORE_MAX]).unwrap();
        let mut small = [0u8; 10];
        assert_eq!(s.load(&mut small), Err(MemStoreError::BufferTooSmall));
        s.save(&[]).unwrap();
        assert_eq!(s.load(&mut small), Ok(Some(0)));
        assert_eq!(
            load_config(&mut s, Config::default()).1,
            LoadOutcome::Invalid(ConfigError::Corrupt)
        );
    }

    #[test]
    fn corrupt_falls_back() {
        let mut s = MemStore::new();
        save_config(&mut s, &custom()).unwrap();
        let mut bytes = s.contents().unwrap().to_vec();
        for i in 0..bytes.len() {
            bytes[i] ^= 0x10;
            s.save(&bytes).unwrap();
            let (cfg, why) = load_config(&mut s, Config::default());
            assert_eq!(cfg, Config::default());
            assert!(
                matches!(
                    why,
                    LoadOutcome::Invalid(ConfigError::Corrupt | ConfigError::Version)
                ),
                "{why:?}"
            );
            bytes[i] ^= 0x10;
        }
    }

    #[test]
    fn store_errors_fall_back() {
        assert_eq!(
            load_config(&mut Broken, custom()),
            (custom(), LoadOutcome::StoreError)
        );
        assert_eq!(
            save_config(&mut Broken, &custom()),
            Err(SaveError::Store(()))
        );
        assert_eq!(
            load_config(&mut Liar, custom()),
            (custom(), LoadOutcome::Invalid(ConfigError::Corrupt))
        );
    }

    fn operator() -> OperatorState {
        let a = |s: &str| s.parse::<Ipv6Addr>().unwrap();
        let mut op = OperatorState::new();
        for (k, via) in [(0u8, Some(a("2001:db8::2"))), (1, None)] {
            op.routes
                .push(StoredRoute {
                    prefix: a("2001:db8:99::"),
                    len: 48,
                    iface: k,
                    via,
                    metric: 5,
                })
                .unwrap();
        }
        op.addrs
            .push(StoredAddr {
                iface: 1,
                addr: a("2001:db8:77::1"),
                len: 64,
            })
            .unwrap();
        op
    }

    #[test]
    fn operator_state_round_trips_beside_the_configuration() {
        let mut s = MemStore::new();
        save_state(&mut s, &custom(), &operator()).unwrap();
        assert!(s.contents().unwrap().starts_with(b"SGOP"));
        assert!(is_sixgate_record(s.contents().unwrap()));
        assert_eq!(
            load_state(&mut s, Config::default()),
            (custom(), LoadOutcome::Loaded, operator())
        );
        assert_eq!(
            load_config(&mut s, Config::default()),
            (custom(), LoadOutcome::Loaded)
        );
        // The largest record fits the store.
        let mut full = OperatorState::new();
        while full.routes.push(operator().routes[0]).is_ok() {}
        while full.addrs.push(operator().addrs[0]).is_ok() {}
        let mut buf = [0u8; OPERATOR_MAX_ENCODED];
        assert_eq!(full.encode(&mut buf), Some(OPERATOR_MAX_ENCODED));
        save_state(&mut s, &custom(), &full).unwrap();
        assert_eq!(load_state(&mut s, Config::default()).2, full);
        // save_config writes the configuration alone, as older firmware did.
        save_config(&mut s, &custom()).unwrap();
        assert!(s.contents().unwrap().starts_with(b"SGCF"));
        assert_eq!(
            load_state(&mut s, Config::default()),
            (custom(), LoadOutcome::Loaded, OperatorState::new())
        );
    }

    #[test]
    fn damaged_operator_record_invalidates_the_store() {
        let mut s = MemStore::new();
        save_state(&mut s, &custom(), &operator()).unwrap();
        let bytes = s.contents().unwrap().to_vec();
        // Every single-bit flip and every truncation: fallback, no panic.
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            s.save(&b).unwrap();
            let (cfg, why, op) = load_state(&mut s, Config::default());
            assert_eq!(
                (cfg, op),
                (Config::default(), OperatorState::new()),
                "bit {i}"
            );
            assert!(matches!(why, LoadOutcome::Invalid(_)), "{why:?}");
            s.save(&bytes[..i]).unwrap();
            assert_ne!(load_state(&mut s, Config::default()).1, LoadOutcome::Loaded);
        }
        // Counts beyond the capacities, bad interface or length: refused.
        let mut buf = [0u8; OPERATOR_MAX_ENCODED];
        let n = operator().encode(&mut buf).unwrap();
        for (at, v) in [(5, 9), (6, 9), (7 + 17, 2), (7 + 16, 129), (7 + 18, 2)] {
            let mut b = buf;
            b[at] = v;
            let crc = CRC32.checksum(&b[..n - 4]).to_le_bytes();
            b[n - 4..n].copy_from_slice(&crc);
            assert_eq!(OperatorState::decode(&b[..n]), None, "byte {at} = {v}");
        }
        assert!(OperatorState::decode(&buf[..n]).is_some());
    }

    #[test]
    fn save_refuses_invalid() {
        let mut s = MemStore::new();
        let mut c = custom();
        c.pan_id = 0xffff;
        assert_eq!(
            save_config(&mut s, &c),
            Err(SaveError::Config(ConfigError::BadPanId))
        );
        assert_eq!(s.contents(), None);
        let e: SaveError<MemStoreError> = SaveError::Store(MemStoreError::TooLarge);
        assert!(format!("{e}").contains("TooLarge"));
    }
}
