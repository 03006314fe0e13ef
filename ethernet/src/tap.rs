//! Linux TAP driver (feature `std`): a [`Driver`] over a TAP interface, for `sixgate-sim` and
//! for tests against the real Linux kernel.
//!
//! [`Tap::open`] opens `/dev/net/tun` non-blocking and attaches to (or creates) the TAP
//! interface of that name with `TUNSETIFF` (`IFF_TAP | IFF_NO_PI`: plain Ethernet frames).
//! The kernel's interface is one host on the link; this driver is the other one, with its
//! own MAC. [`Tap::open_in_netns`] does the same inside a named network namespace
//! (`/run/netns/NAME`, as `ip netns add` creates), switching only the calling thread and
//! switching it back.
//!
//! This is the only module with `unsafe` (two `ioctl`/`setns` calls through `libc`), each
//! block with its `// SAFETY:` comment.
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::string::String;
use std::vec;
use std::vec::Vec;

use crate::driver::Driver;

/// Largest frame read at once (a TAP never exceeds 64 KiB).
const READ_BUF: usize = 65536;

/// Why a TAP interface could not be opened.
#[derive(Debug)]
#[non_exhaustive]
pub enum TapError {
    /// `/dev/net/tun` does not exist.
    NoTunDevice,
    /// Not allowed to open or create the interface.
    PermissionDenied(String),
    /// The name is empty or longer than 15 bytes.
    BadName(String),
    /// The network namespace could not be entered.
    Netns(String, io::Error),
    /// Another I/O error.
    Io(io::Error),
}

impl core::fmt::Display for TapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TapError::NoTunDevice => f.write_str(
                "/dev/net/tun is missing: load the tun module (`modprobe tun`), or pass \
                 /dev/net/tun into the container (`--device /dev/net/tun`)",
            ),
            TapError::PermissionDenied(n) => write!(
                f,
                "permission denied opening TAP interface `{n}`: run as root or with \
                 CAP_NET_ADMIN, or create it for your user first with \
                 `ip tuntap add dev {n} mode tap user $USER`"
            ),
            TapError::BadName(n) => {
                write!(f, "bad TAP interface name `{n}`: 1 to 15 bytes, no NUL")
            }
            TapError::Netns(n, e) => write!(
                f,
                "cannot enter network namespace `{n}` ({e}): does `ip netns list` show it, \
                 and are you root?"
            ),
            TapError::Io(e) => write!(f, "TAP I/O error: {e}"),
        }
    }
}

impl std::error::Error for TapError {}

/// `struct ifreq` as `TUNSETIFF` reads it: name, flags, padding to 40 bytes.
#[repr(C)]
struct IfReq {
    name: [u8; 16],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// A TAP interface (see the module docs).
#[derive(Debug)]
pub struct Tap {
    file: File,
    name: String,
    mac: [u8; 6],
    buf: Vec<u8>,
}

impl Tap {
    /// Open (creating if needed) the TAP interface `name`; our side uses MAC `mac`.
    pub fn open(name: &str, mac: [u8; 6]) -> Result<Tap, TapError> {
        if name.is_empty() || name.len() > 15 || name.contains('\0') {
            return Err(TapError::BadName(name.into()));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => TapError::NoTunDevice,
                ErrorKind::PermissionDenied => TapError::PermissionDenied(name.into()),
                _ => TapError::Io(e),
            })?;
        let mut req = IfReq {
            name: [0; 16],
            flags: (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short,
            _pad: [0; 22],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: `file` is an open /dev/net/tun descriptor; TUNSETIFF reads (and may write
        // back the name into) a `struct ifreq`, which `IfReq` matches in layout and size and
        // which lives for the whole call.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req as *mut IfReq) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::EPERM) | Some(libc::EACCES) => TapError::PermissionDenied(name.into()),
                _ => TapError::Io(e),
            });
        }
        Ok(Tap {
            file,
            name: name.into(),
            mac,
            buf: vec![0; READ_BUF],
        })
    }

    /// [`Tap::open`] inside the network namespace `netns` (a name under `/run/netns`, or a
    /// path). Only the calling thread enters it, and it returns to its own namespace before
    /// this returns; the TAP interface stays in `netns`.
    pub fn open_in_netns(netns: &str, name: &str, mac: [u8; 6]) -> Result<Tap, TapError> {
        let path = if netns.contains('/') {
            String::from(netns)
        } else {
            std::format!("/run/netns/{netns}")
        };
        let ns_err = |e| TapError::Netns(netns.into(), e);
        let target = File::open(&path).map_err(ns_err)?;
        let home = File::open("/proc/thread-self/ns/net").map_err(ns_err)?;
        enter(&target).map_err(ns_err)?;
        let r = Tap::open(name, mac);
        // Going home can only fail if the kernel revokes our own namespace: report it.
        enter(&home).map_err(ns_err)?;
        r
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Move the calling thread into the network namespace `ns`.
fn enter(ns: &File) -> io::Result<()> {
    // SAFETY: `ns` is an open namespace file; setns only changes this thread's network
    // namespace and touches no memory of ours.
    let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Driver for Tap {
    type Error = io::Error;

    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn receive(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self.file.read(&mut self.buf) {
            Ok(n) => {
                let frame = self.buf.get(..n).unwrap_or(&[]);
                let k = n.min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..k), frame.get(..k)) {
                    dst.copy_from_slice(src);
                }
                Ok(Some(n))
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn transmit(&mut self, frame: &[u8]) -> io::Result<bool> {
        match self.file.write(frame) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(false),
            // The kernel interface is down: the frame is lost, like on a cable with no peer.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => Ok(true),
            Err(e) => Err(e),
        }
    }
}
