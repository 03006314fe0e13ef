//! A pseudo-terminal for the management protocol: `sixgate-sim --serial-pty
//! PATH` opens a PTY pair, puts the line in raw mode (no echo, no newline translation, every
//! byte passes), and symlinks the slave's device name at PATH, so `sixgate --port PATH` opens
//! it like a USB serial adapter. The simulator keeps only the master, non-blocking. While no
//! program has the slave open, the master reports EIO: reads then return nothing, writes are
//! discarded (nobody would read them; the kernel flushes a closed line's buffers anyway), and
//! [`Pty::connected`] turns false so the server can end a session whose client vanished.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::pty::openpty;
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};

/// The simulator's end of the management line.
#[derive(Debug)]
pub struct Pty {
    master: File,
    link: PathBuf,
    connected: bool,
    device: PathBuf,
}

impl Pty {
    /// Opens the pair and creates the symlink at `link` (replacing an existing symlink; a
    /// regular file or directory there is an error).
    pub fn open(link: &Path) -> io::Result<Pty> {
        let p = openpty(None, None).map_err(io::Error::from)?;
        let mut t = tcgetattr(&p.slave).map_err(io::Error::from)?;
        cfmakeraw(&mut t);
        tcsetattr(&p.slave, SetArg::TCSANOW, &t).map_err(io::Error::from)?;
        let flags = fcntl(&p.master, FcntlArg::F_GETFL).map_err(io::Error::from)?;
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        fcntl(&p.master, FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
        let device = nix::unistd::ttyname(&p.slave).map_err(io::Error::from)?;
        match std::fs::symlink_metadata(link) {
            Ok(m) if m.file_type().is_symlink() => std::fs::remove_file(link)?,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a symlink", link.display()),
                ));
            }
            Err(_) => {}
        }
        std::os::unix::fs::symlink(&device, link)?;
        drop(p.slave);
        Ok(Pty {
            master: File::from(p.master),
            link: link.to_path_buf(),
            connected: false,
            device,
        })
    }

    /// The PTY device (e.g. `/dev/pts/3`).
    pub fn device(&self) -> &Path {
        &self.device
    }

    /// Whether a program had the slave open at the last read or write.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// Reads what is available (0 when nothing is).
    pub fn read_some(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.master.read(buf) {
            Ok(n) => {
                self.connected = true;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.connected = true;
                Ok(0)
            }
            // Nobody has the slave open.
            Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => {
                self.connected = false;
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes what the line takes now (0 when its buffer is full).
    pub fn write_some(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        match self.master.write(data) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => {
                self.connected = false;
                Ok(data.len())
            }
            Err(e) => Err(e),
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.link);
    }
}
