//! Where the encoded [`Config`] lives: a tiny [`ConfigStore`] trait (flash on the board, a file
//! on the simulator, memory in tests), and [`load_config`] / [`save_config`] on top of it.
//!
//! A store holds opaque bytes; the encoding, its CRC and its validation are
//! [`Config::encode`] / [`Config::decode`]'s business. Loading never fails: a missing, corrupt
//! or unreadable configuration gives the caller's fallback and a [`LoadOutcome`] that says why.
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

use core::fmt;

use crate::config::{CONFIG_MAX_ENCODED, Config, ConfigError};

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

/// Error of [`MemStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MemStoreError {
    /// `save` got more than [`CONFIG_MAX_ENCODED`] bytes.
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
    data: [u8; CONFIG_MAX_ENCODED],
    /// Length of the stored bytes; `None` when empty. Always at most `CONFIG_MAX_ENCODED`.
    len: Option<usize>,
}

impl MemStore {
    /// An empty store.
    pub const fn new() -> Self {
        MemStore {
            data: [0; CONFIG_MAX_ENCODED],
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
    bytes.starts_with(&crate::config::CONFIG_MAGIC)
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
/// whatever the store returns.
pub fn load_config<S: ConfigStore>(store: &mut S, fallback: Config) -> (Config, LoadOutcome) {
    let mut buf = [0u8; CONFIG_MAX_ENCODED];
    match store.load(&mut buf) {
        Err(_) => {
            warn!("config store: load failed, using the fallback configuration");
            (fallback, LoadOutcome::StoreError)
        }
        Ok(None) => {
            debug!("config store: empty, using the fallback configuration");
            (fallback, LoadOutcome::Missing)
        }
        Ok(Some(n)) => {
            // A misbehaving store could claim more bytes than the buffer holds.
            let decoded = buf
                .get(..n)
                .ok_or(ConfigError::Corrupt)
                .and_then(Config::decode);
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
}

impl<E: fmt::Debug> fmt::Display for SaveError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::Config(e) => write!(f, "configuration not saved: {e}"),
            SaveError::Store(e) => write!(f, "configuration store failed: {e:?}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for SaveError<E> {}

/// Validates and encodes `cfg`, then saves it to `store`.
pub fn save_config<S: ConfigStore>(store: &mut S, cfg: &Config) -> Result<(), SaveError<S::Error>> {
    let mut buf = [0u8; CONFIG_MAX_ENCODED];
    let n = cfg.encode(&mut buf).map_err(SaveError::Config)?;
    let data = buf
        .get(..n)
        .ok_or(SaveError::Config(ConfigError::Encoding))?;
    store.save(data).map_err(SaveError::Store)
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
        assert_eq!(
            s.save(&[0; CONFIG_MAX_ENCODED + 1]),
            Err(MemStoreError::TooLarge)
        );
        s.save(&[7; CONFIG_MAX_ENCODED]).unwrap();
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
