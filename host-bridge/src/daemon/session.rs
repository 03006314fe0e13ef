//! The device session: one thread owns the serial port. It opens it and shakes hands (the
//! CLI's [`crate::device::open`], so an incompatible device is refused the same way), then
//! moves bytes: frames read go to the hub as payloads, frames the hub sends are written. When
//! the line fails (unplug, a restarted simulator, a reboot) or the hub asks, it closes the port,
//! tells the hub, and opens it again after a backoff (doubling from [`BACKOFF_MIN`] to
//! [`BACKOFF_MAX`]), logging each attempt.

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};

use super::Input;
use crate::device;

/// First wait before reopening the port.
pub const BACKOFF_MIN: Duration = Duration::from_millis(200);
/// Longest wait between attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Handshake timeout of each attempt.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

/// What the hub asks of the device thread.
#[derive(Debug)]
pub enum ToDevice {
    /// An encoded frame to write.
    Frame(Vec<u8>),
    /// Close the port and open it again (the device rebooted, or stopped answering).
    Reconnect(String),
}

/// Runs the device thread until `stop`.
pub fn run(
    port: String,
    baud: u32,
    hub: Sender<Input>,
    rx: Receiver<ToDevice>,
    stop: Arc<AtomicBool>,
) {
    let mut backoff = BACKOFF_MIN;
    let mut last_error = String::new();
    while !stop.load(Ordering::SeqCst) {
        // Frames meant for the previous session are stale.
        while rx.try_recv().is_ok() {}
        let dev = match device::open(&port, baud, HANDSHAKE_TIMEOUT) {
            Ok(d) => d,
            Err(e) => {
                let why = e.to_string();
                // The same failure again is logged once a backoff cycle, not at every attempt.
                if why != last_error || backoff == BACKOFF_MAX {
                    super::log(format_args!(
                        "device not reachable: {why}; next attempt in {:.1} s",
                        backoff.as_secs_f64()
                    ));
                }
                last_error = why;
                sleep_unless(&stop, backoff);
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        last_error.clear();
        backoff = BACKOFF_MIN;
        let Some(hello) = dev.hello().cloned() else {
            continue;
        };
        super::log(format_args!(
            "connected to {port}: {} on {}",
            hello.firmware, hello.board
        ));
        if hub.send(Input::DeviceUp(hello)).is_err() {
            return;
        }
        let why = pump(dev, &hub, &rx, &stop);
        if stop.load(Ordering::SeqCst) {
            return;
        }
        super::log(format_args!(
            "device session ended: {why}; reconnecting in {:.1} s",
            BACKOFF_MIN.as_secs_f64()
        ));
        if hub.send(Input::DeviceDown(why)).is_err() {
            return;
        }
        sleep_unless(&stop, BACKOFF_MIN);
    }
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Moves frames both ways until the line fails; returns why it ended.
fn pump(
    dev: device::Device,
    hub: &Sender<Input>,
    rx: &Receiver<ToDevice>,
    stop: &AtomicBool,
) -> String {
    let (mut link, mut dec, mut pending) = dev.into_parts();
    let mut buf = vec![0u8; 4096];
    loop {
        if stop.load(Ordering::SeqCst) {
            // Last words from the hub (unsubscribe, stop a capture) go out first.
            while let Ok(ToDevice::Frame(f)) = rx.try_recv() {
                let _ = link.write_all(&f).and_then(|()| link.flush());
            }
            return "the daemon is stopping".into();
        }
        let mut rest: &[u8] = &pending;
        while !rest.is_empty() {
            let (n, frame) = dec.feed(rest);
            if let Some(Ok(p)) = frame
                && hub.send(Input::DeviceFrame(p.to_vec())).is_err()
            {
                return "the daemon is stopping".into();
            }
            rest = rest.get(n.max(1)..).unwrap_or_default();
        }
        pending.clear();
        loop {
            match rx.try_recv() {
                Ok(ToDevice::Frame(f)) => {
                    if let Err(e) = link.write_all(&f).and_then(|()| link.flush()) {
                        return format!("write failed: {e}");
                    }
                }
                Ok(ToDevice::Reconnect(why)) => return why,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return "the daemon is stopping".into(),
            }
        }
        match link.read(&mut buf) {
            Ok(0) => return "the line was closed".into(),
            Ok(n) => pending.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return format!("read failed: {e}"),
        }
    }
}
