//! The client server: accepts connections on the daemon's UNIX socket. Each client gets a
//! reader thread (frames in, decoded with the device's own limit, [`mgmt::MAX_REQUEST_FRAME`],
//! handed to the hub) and a writer thread fed by a bounded queue ([`CLIENT_QUEUE`] frames), so
//! a client that stops reading never blocks the hub or another client: what does not fit its
//! queue is dropped (and counted).

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, sync_channel};
use std::time::Duration;

use mgmt::{FrameDecoder, MAX_REQUEST_FRAME};

use super::Input;

/// Frames queued for one client before more are dropped.
pub const CLIENT_QUEUE: usize = 4096;
/// Clients connected at once; more are refused (the connection is closed).
pub const MAX_CLIENTS: usize = 64;

/// A client, by the order it connected.
pub type ClientId = u64;

/// Accepts clients until `stop`.
pub fn run(
    listener: UnixListener,
    hub: Sender<Input>,
    stop: Arc<AtomicBool>,
    clients: Arc<std::sync::atomic::AtomicUsize>,
) {
    let _ = listener.set_nonblocking(true);
    let mut next: ClientId = 1;
    while !stop.load(Ordering::SeqCst) {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(e) => {
                super::log(format_args!("accept failed: {e}"));
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
        };
        if clients.load(Ordering::SeqCst) >= MAX_CLIENTS {
            super::log(format_args!(
                "refused a client: {MAX_CLIENTS} are connected already"
            ));
            continue;
        }
        let id = next;
        next += 1;
        if let Err(e) = serve(id, stream, &hub, &clients) {
            super::log(format_args!("client {id}: {e}"));
        }
    }
}

fn serve(
    id: ClientId,
    stream: UnixStream,
    hub: &Sender<Input>,
    clients: &Arc<std::sync::atomic::AtomicUsize>,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    let mut writer = stream.try_clone()?;
    let mut reader = stream;
    let (tx, rx) = sync_channel::<Vec<u8>>(CLIENT_QUEUE);
    // Registered before its first frame can arrive.
    if hub.send(Input::ClientOpen(id, tx)).is_err() {
        return Ok(());
    }
    clients.fetch_add(1, Ordering::SeqCst);
    std::thread::Builder::new()
        .name(format!("client-{id}-tx"))
        .spawn(move || {
            for f in rx {
                if writer.write_all(&f).is_err() {
                    break;
                }
            }
            let _ = writer.shutdown(std::net::Shutdown::Both);
        })?;
    let hub = hub.clone();
    let clients = clients.clone();
    std::thread::Builder::new()
        .name(format!("client-{id}-rx"))
        .spawn(move || {
            let mut dec = Box::new(FrameDecoder::<MAX_REQUEST_FRAME>::new());
            let mut buf = [0u8; 1024];
            'read: loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                let mut rest = buf.get(..n).unwrap_or_default();
                while !rest.is_empty() {
                    let (used, frame) = dec.feed(rest);
                    if let Some(Ok(p)) = frame
                        && hub.send(Input::ClientFrame(id, p.to_vec())).is_err()
                    {
                        break 'read;
                    }
                    rest = rest.get(used.max(1)..).unwrap_or_default();
                }
            }
            clients.fetch_sub(1, Ordering::SeqCst);
            let _ = hub.send(Input::ClientClosed(id));
        })?;
    Ok(())
}
