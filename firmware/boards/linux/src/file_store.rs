//! The configuration store of the Linux board: one file, written atomically (a temporary file
//! beside it, synced, then renamed over it), read whole. The board's flash store is
//! `firmware/boards/nrf52840/src/store.rs`; both implement [`firmware::store::ConfigStore`].

use firmware::store::{ConfigStore, CounterStore, SecurityCounter};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Error of [`FileStore`].
#[derive(Debug)]
#[non_exhaustive]
pub enum FileStoreError {
    /// Reading, writing, syncing, renaming or removing failed.
    Io(io::Error),
    /// The file is longer than the load buffer (it cannot be a configuration).
    TooLarge {
        /// Capacity of the load buffer in bytes.
        capacity: usize,
    },
    /// The file holds something else than a sixgate configuration: it is not overwritten.
    Foreign(PathBuf),
}

impl core::fmt::Display for FileStoreError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FileStoreError::Io(e) => write!(f, "configuration file: {e}"),
            FileStoreError::TooLarge { capacity } => write!(
                f,
                "configuration file is larger than {capacity} bytes; remove or replace it"
            ),
            FileStoreError::Foreign(p) => write!(
                f,
                "{} exists and is not a sixgate configuration, so it is left as it is; to start \
                 fresh, remove it or choose another file",
                p.display()
            ),
        }
    }
}

impl std::error::Error for FileStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileStoreError::Io(e) => Some(e),
            FileStoreError::TooLarge { .. } | FileStoreError::Foreign(_) => None,
        }
    }
}

impl From<io::Error> for FileStoreError {
    fn from(e: io::Error) -> Self {
        FileStoreError::Io(e)
    }
}

/// A [`ConfigStore`] in one file (the simulator's flash). `save` writes `<path>.tmp`,
/// fsyncs it, renames it over `path` and fsyncs the directory, so a crash leaves either
/// the old or the new file.
#[derive(Clone, Debug)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store in the file at `path` (created by the first `save`).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `Ok` when the file is missing, empty or a sixgate record (so `save` may replace it).
    pub fn check_ours(&self) -> Result<(), FileStoreError> {
        let mut head = Vec::new();
        match fs::File::open(&self.path) {
            Ok(f) => f.take(4).read_to_end(&mut head)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if head.is_empty() || firmware::store::is_sixgate_record(&head) {
            Ok(())
        } else {
            Err(FileStoreError::Foreign(self.path.clone()))
        }
    }

    fn tmp_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".tmp");
        PathBuf::from(p)
    }
}

impl ConfigStore for FileStore {
    type Error = FileStoreError;

    fn load(&mut self, buf: &mut [u8]) -> Result<Option<usize>, FileStoreError> {
        let file = match fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        // Read at most one byte more than fits, to tell "fits exactly" from "too long".
        let capacity = buf.len();
        let limit = u64::try_from(capacity)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let mut data = Vec::new();
        file.take(limit).read_to_end(&mut data)?;
        let dst = buf
            .get_mut(..data.len())
            .ok_or(FileStoreError::TooLarge { capacity })?;
        dst.copy_from_slice(&data);
        Ok(Some(data.len()))
    }

    /// Refuses ([`FileStoreError::Foreign`]) to replace a non-empty file that sixgate did not
    /// write.
    fn save(&mut self, data: &[u8]) -> Result<(), FileStoreError> {
        self.check_ours()?;
        let tmp = self.tmp_path();
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
        }
        if let Err(e) = fs::rename(&tmp, &self.path) {
            let _ = fs::remove_file(&tmp);
            return Err(e.into());
        }
        // Make the rename itself durable. Not every platform can open a directory; the
        // data is already safe in the renamed file there, so this is best effort.
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    fn erase(&mut self) -> Result<(), FileStoreError> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// Magic of the security counter record.
const COUNTER_MAGIC: [u8; 4] = *b"SGFC";
/// Magic, key sequence, frame counter, CRC-32.
const COUNTER_LEN: usize = 16;

impl FileStore {
    /// The security counter record's file: the configuration's path with `.counter`.
    pub fn counter_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".counter");
        PathBuf::from(p)
    }
}

/// The link-layer security counter record in its own file beside the configuration (written
/// every few hundred frames; the configuration file is not rewritten for it): 16 bytes, magic
/// `SGFC`, key sequence and frame counter (u32 LE each), CRC-32/ISO-HDLC of the 12 before it.
/// Written to a temporary file and renamed, so a crash leaves the old record or the new one.
impl CounterStore for FileStore {
    type Error = FileStoreError;

    fn load_counter(&mut self) -> Result<Option<SecurityCounter>, FileStoreError> {
        let b = match fs::read(self.counter_path()) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let bad = || {
            FileStoreError::Io(io::Error::new(
                io::ErrorKind::InvalidData,
                "security counter record is corrupt",
            ))
        };
        let rec: [u8; COUNTER_LEN] = b.as_slice().try_into().map_err(|_| bad())?;
        let (body, crc) = rec.split_at(12);
        if body.get(..4) != Some(&COUNTER_MAGIC[..]) || crc32(body).to_le_bytes().as_slice() != crc
        {
            return Err(bad());
        }
        let word = |i: usize| {
            body.get(i..i + 4)
                .and_then(|w| <[u8; 4]>::try_from(w).ok())
                .map(u32::from_le_bytes)
                .ok_or_else(bad)
        };
        Ok(Some(SecurityCounter {
            key_sequence: word(4)?,
            frame_counter: word(8)?,
        }))
    }

    fn save_counter(&mut self, c: SecurityCounter) -> Result<(), FileStoreError> {
        let mut rec = Vec::with_capacity(COUNTER_LEN);
        rec.extend_from_slice(&COUNTER_MAGIC);
        rec.extend_from_slice(&c.key_sequence.to_le_bytes());
        rec.extend_from_slice(&c.frame_counter.to_le_bytes());
        let crc = crc32(&rec);
        rec.extend_from_slice(&crc.to_le_bytes());
        let path = self.counter_path();
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&rec)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })?;
        Ok(())
    }
}

fn crc32(b: &[u8]) -> u32 {
    crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use firmware::config::{CONFIG_MAX_ENCODED, Config, ConfigError};
    use firmware::store::{LoadOutcome, STORE_MAX, SaveError, load_config, save_config};

    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A configuration other than the default.
    fn custom() -> Config {
        let mut c = Config::default_for([0x00, 0x12, 0x4b, 0, 1, 2, 3, 4]);
        (c.channel, c.pan_id) = (15, 0x1234);
        c
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);
    impl TempDir {
        fn new() -> Self {
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "sixgate-store-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn survives_reboot() {
        let dir = TempDir::new();
        let path = dir.0.join("config.bin");
        let mut s = FileStore::new(&path);
        assert_eq!(s.path(), path);
        save_config(&mut s, &custom()).unwrap();
        assert!(!dir.0.join("config.bin.tmp").exists());
        drop(s);
        // "Reboot": a new instance on the same file.
        let mut s = FileStore::new(&path);
        assert_eq!(
            load_config(&mut s, Config::default()),
            (custom(), LoadOutcome::Loaded)
        );
        // Overwrite with another configuration.
        save_config(&mut s, &Config::default()).unwrap();
        let mut s = FileStore::new(&path);
        assert_eq!(
            load_config(&mut s, custom()),
            (Config::default(), LoadOutcome::Loaded)
        );
        s.erase().unwrap();
        assert!(!path.exists());
        s.erase().unwrap();
        assert_eq!(load_config(&mut s, custom()).1, LoadOutcome::Missing);
    }

    #[test]
    fn missing_file() {
        let dir = TempDir::new();
        let mut s = FileStore::new(dir.0.join("nothing-here"));
        let mut buf = [0u8; 16];
        assert_eq!(s.load(&mut buf).unwrap(), None);
        assert_eq!(
            load_config(&mut s, custom()),
            (custom(), LoadOutcome::Missing)
        );
    }

    #[test]
    fn corrupt_file_falls_back() {
        let dir = TempDir::new();
        let path = dir.0.join("config.bin");
        let mut s = FileStore::new(&path);
        save_config(&mut s, &custom()).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let mut s = FileStore::new(&path);
        assert_eq!(
            load_config(&mut s, Config::default()),
            (
                Config::default(),
                LoadOutcome::Invalid(ConfigError::Corrupt)
            )
        );
        std::fs::write(&path, b"hello").unwrap();
        assert_eq!(
            load_config(&mut s, Config::default()).1,
            LoadOutcome::Invalid(ConfigError::Corrupt)
        );
    }

    #[test]
    fn a_foreign_file_is_never_overwritten() {
        let dir = TempDir::new();
        let path = dir.0.join("notes.txt");
        std::fs::write(&path, b"my notes").unwrap();
        let mut s = FileStore::new(&path);
        let e = save_config(&mut s, &custom()).unwrap_err();
        let SaveError::Store(e @ FileStoreError::Foreign(_)) = e else {
            panic!("{e:?}")
        };
        assert!(e.to_string().contains("not a sixgate configuration"));
        assert_eq!(std::fs::read(&path).unwrap(), b"my notes");
        // Short foreign content too; an empty file is fair game, and so is our own.
        std::fs::write(&path, b"SG").unwrap();
        assert!(s.check_ours().is_err());
        std::fs::write(&path, b"").unwrap();
        save_config(&mut s, &custom()).unwrap();
        save_config(&mut s, &Config::default()).unwrap();
        assert_eq!(load_config(&mut s, custom()).1, LoadOutcome::Loaded);
    }

    #[test]
    fn oversized_file_is_an_error() {
        let dir = TempDir::new();
        let path = dir.0.join("config.bin");
        std::fs::write(&path, vec![0u8; CONFIG_MAX_ENCODED + 1]).unwrap();
        let mut s = FileStore::new(&path);
        let mut buf = [0u8; CONFIG_MAX_ENCODED];
        let e = s.load(&mut buf).unwrap_err();
        assert!(
            matches!(e, FileStoreError::TooLarge { capacity } if capacity == CONFIG_MAX_ENCODED)
        );
        assert!(e.to_string().contains("larger than"));
        // load_config's buffer holds the operator record and the configuration.
        std::fs::write(&path, vec![0u8; STORE_MAX + 1]).unwrap();
        assert_eq!(
            load_config(&mut s, custom()),
            (custom(), LoadOutcome::StoreError)
        );
        // Exactly the buffer size is fine.
        std::fs::write(&path, vec![9u8; CONFIG_MAX_ENCODED]).unwrap();
        assert_eq!(s.load(&mut buf).unwrap(), Some(CONFIG_MAX_ENCODED));
        assert_eq!(buf, [9u8; CONFIG_MAX_ENCODED]);
    }

    #[test]
    fn unreadable_path_is_an_error() {
        let dir = TempDir::new();
        // A directory where the file should be: open succeeds on Linux but reading fails,
        // or open fails; either way an error, not a panic, and saving fails too.
        let sub = dir.0.join("sub");
        std::fs::create_dir(&sub).unwrap();
        let mut s = FileStore::new(&sub);
        let mut buf = [0u8; 16];
        assert!(s.load(&mut buf).is_err());
        assert!(matches!(
            save_config(&mut s, &custom()),
            Err(SaveError::Store(FileStoreError::Io(_)))
        ));
        assert!(!dir.0.join("sub.tmp").exists());
    }
}
