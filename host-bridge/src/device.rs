//! The serial transport: open the port, shake hands, send requests, wait for their
//! responses (with a timeout), and read the device's unsolicited messages.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use mgmt::{
    DecodeError, ErrorCode, FrameDecoder, Header, Kind, MAX_FRAME, Message, PROTOCOL_VERSION,
    Request, Response,
};

use crate::error::CliError;

/// What the device said about itself in the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Device protocol version.
    pub version: u8,
    /// Device schema fingerprint.
    pub schema: u32,
    /// Firmware name and version.
    pub firmware: String,
    /// Board name.
    pub board: String,
}

/// A byte stream to a device: a serial port, or anything else in tests.
pub trait Link: Read + Write + Send {}
impl<T: Read + Write + Send> Link for T {}

/// An open management session.
pub struct Device {
    link: Box<dyn Link>,
    port: String,
    dec: Box<FrameDecoder>,
    buf: Vec<u8>,
    /// Unprocessed input after the last frame.
    pending: Vec<u8>,
    next_id: u16,
    timeout: Duration,
    hello: Option<Hello>,
    /// Frames that failed CRC/COBS so far.
    pub bad_frames: u64,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device").field("port", &self.port).finish()
    }
}

/// Opens `port` at `baud` and shakes hands; every failure names the port.
pub fn open(port: &str, baud: u32, timeout: Duration) -> Result<Device, CliError> {
    let p = serialport::new(port, baud)
        .timeout(Duration::from_millis(20))
        .open()
        .map_err(|e| CliError::NoDevice {
            port: port.to_string(),
            why: format!("cannot open: {e}"),
        })?;
    let _ = p.clear(serialport::ClearBuffer::All);
    let mut d = Device::new(Box::new(p), port, timeout);
    d.handshake()?;
    Ok(d)
}

impl Device {
    /// A session over any link (no handshake yet).
    pub fn new(link: Box<dyn Link>, port: &str, timeout: Duration) -> Device {
        Device {
            link,
            port: port.to_string(),
            dec: Box::new(FrameDecoder::new()),
            buf: vec![0; 4096],
            pending: Vec::new(),
            next_id: 1,
            timeout,
            hello: None,
            bad_frames: 0,
        }
    }

    /// The port name.
    pub fn port(&self) -> &str {
        &self.port
    }

    /// The handshake's result.
    pub fn hello(&self) -> Option<&Hello> {
        self.hello.as_ref()
    }

    /// The link, the frame decoder (which may hold the start of a frame) and the bytes read
    /// but not yet decoded: what a program that goes on reading raw frames after the
    /// handshake (the daemon) needs.
    pub fn into_parts(self) -> (Box<dyn Link>, Box<FrameDecoder>, Vec<u8>) {
        (self.link, self.dec, self.pending)
    }

    fn no_device(&self, why: impl Into<String>) -> CliError {
        CliError::NoDevice {
            port: self.port.clone(),
            why: why.into(),
        }
    }

    /// Sends `Hello` and checks the device's version and schema.
    pub fn handshake(&mut self) -> Result<Hello, CliError> {
        // A lone delimiter ends whatever partial frame the device may hold.
        self.write_raw(&[0])?;
        let client = concat!("sixgate ", env!("CARGO_PKG_VERSION"));
        let schema = mgmt::schema_fingerprint();
        let h = self.request(
            &Request::Hello {
                version: PROTOCOL_VERSION,
                schema,
                client,
            },
            |r| match r {
                Response::Hello {
                    version,
                    schema,
                    firmware,
                    board,
                } => Ok(Hello {
                    version,
                    schema,
                    firmware: firmware.to_string(),
                    board: board.to_string(),
                }),
                other => Err(format!("unexpected answer to Hello: {other:?}")),
            },
        );
        let h = match h {
            Ok(Ok(h)) => h,
            Ok(Err(why)) => return Err(self.no_device(why)),
            Err(CliError::Device { message, .. }) => {
                return Err(self.no_device(format!("handshake refused: {message}")));
            }
            Err(e) => return Err(e),
        };
        if h.version != PROTOCOL_VERSION {
            return Err(CliError::Incompatible {
                port: self.port.clone(),
                why: format!(
                    "the device ({}, board {}) speaks management protocol version {}, this sixgate \
                     speaks version {}; use the sixgate release that matches the firmware, or \
                     update the firmware",
                    h.firmware, h.board, h.version, PROTOCOL_VERSION
                ),
            });
        }
        if h.schema != schema {
            return Err(CliError::Incompatible {
                port: self.port.clone(),
                why: format!(
                    "the device ({}) speaks protocol version {} but with a different message \
                     schema (fingerprint {:08x}, ours {:08x}): the firmware and this sixgate \
                     were built from different sources",
                    h.firmware, h.version, h.schema, schema
                ),
            });
        }
        self.hello = Some(h.clone());
        Ok(h)
    }

    fn write_raw(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        self.link
            .write_all(bytes)
            .and_then(|_| self.link.flush())
            .map_err(|e| CliError::NoDevice {
                port: self.port.clone(),
                why: format!("write failed: {e}"),
            })
    }

    /// Sends a request without waiting; returns its id.
    pub fn send(&mut self, req: &Request<'_>) -> Result<u16, CliError> {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let mut out = vec![0u8; MAX_FRAME];
        let n = mgmt::encode(Header::new(Kind::Request, id), req, &mut out)
            .map_err(|e| CliError::Other(format!("cannot encode the request: {e}")))?;
        let sent = self.write_raw(out.get(..n).unwrap_or_default());
        // The encoded request may hold a network key (`SecuritySetKey`): wiped, not just freed.
        zeroize::Zeroize::zeroize(&mut out);
        sent?;
        Ok(id)
    }

    /// Sends `req` and waits for its response, handing it to `f` (responses borrow from the
    /// receive buffer). An `Error` response becomes [`CliError::Device`]; unsolicited
    /// messages arriving meanwhile are passed to `other`. `wait` overrides the timeout (for
    /// requests that take time on the device, like ping).
    pub fn request_with<T>(
        &mut self,
        req: &Request<'_>,
        wait: Option<Duration>,
        other: &mut dyn FnMut(&Message<'_>),
        f: impl FnOnce(Response<'_>) -> T,
    ) -> Result<T, CliError> {
        let id = self.send(req)?;
        let port = self.port.clone();
        let deadline = Instant::now() + wait.unwrap_or(self.timeout);
        let mut f = Some(f);
        let mut result: Option<Result<T, CliError>> = None;
        while result.is_none() {
            let got = self.next_frame(deadline, &mut |h, m| match m {
                Ok(Message::Response(r)) if h.id == id => {
                    result = Some(match r {
                        Response::Error { code, message } => {
                            Err(device_error(&port, code, message))
                        }
                        r => match f.take() {
                            Some(f) => Ok(f(r)),
                            None => Err(CliError::Other("response handled twice".into())),
                        },
                    });
                }
                Err(DecodeError::Version(v)) if h.id == id => {
                    result = Some(Err(CliError::Incompatible {
                        port: port.clone(),
                        why: format!("the device answered in protocol version {v}"),
                    }));
                }
                Ok(m) => other(&m),
                Err(_) => {}
            })?;
            if !got {
                return Err(self.no_device(format!(
                    "no answer within {:.1} s (is the device running and is this its \
                     management port?)",
                    wait.unwrap_or(self.timeout).as_secs_f64()
                )));
            }
        }
        result.unwrap_or_else(|| Err(CliError::Other("no result".into())))
    }

    /// [`Device::request_with`] with the default timeout, ignoring unsolicited messages.
    pub fn request<T>(
        &mut self,
        req: &Request<'_>,
        f: impl FnOnce(Response<'_>) -> T,
    ) -> Result<T, CliError> {
        self.request_with(req, None, &mut |_| {}, f)
    }

    /// A request whose only good answer is `Ok`.
    pub fn request_ok(&mut self, req: &Request<'_>) -> Result<(), CliError> {
        self.request(req, |r| match r {
            Response::Ok => Ok(()),
            other => crate::cmd::unexpected(other),
        })?
    }

    /// Waits until one frame arrives (true) or `deadline` passes (false), and hands it to
    /// `f` with its header.
    pub fn next_frame(
        &mut self,
        deadline: Instant,
        f: &mut dyn FnMut(Header, Result<Message<'_>, DecodeError>),
    ) -> Result<bool, CliError> {
        loop {
            // Frames already buffered first.
            while !self.pending.is_empty() {
                let (n, frame) = self.dec.feed(&self.pending);
                let frame = match frame {
                    Some(Ok(p)) => Some(p.to_vec()),
                    Some(Err(_)) => {
                        self.bad_frames += 1;
                        None
                    }
                    None => None,
                };
                self.pending.drain(..n.min(self.pending.len()));
                if let Some(p) = frame {
                    if let Ok((h, m)) = mgmt::decode(&p) {
                        if self.hello.is_some() && ends_session(&h, &m) {
                            return Err(match &m {
                                // The daemon's notice says why (the device went away).
                                Ok(Message::Response(Response::Error { message, .. }))
                                    if message.starts_with(DAEMON_PREFIX) =>
                                {
                                    self.no_device(*message)
                                }
                                _ => CliError::TakenOver {
                                    port: self.port.clone(),
                                },
                            });
                        }
                        f(h, m);
                    } else {
                        self.bad_frames += 1;
                    }
                    return Ok(true);
                }
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            match self.link.read(&mut self.buf) {
                // A serial port times out instead; end of file is a socket (the daemon's)
                // or a line that was closed.
                Ok(0) => return Err(self.no_device("the line was closed (end of file)")),
                Ok(n) => self
                    .pending
                    .extend_from_slice(self.buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.no_device(format!("read failed: {e}"))),
            }
        }
    }
}

/// How the daemon (`sixgate daemon`) starts the message of an error it answers itself about
/// the device (not connected, went away): the CLI reports it as no device (exit 3).
pub const DAEMON_PREFIX: &str = "sixgate daemon: ";

/// A device's error answer as a [`CliError`]; the daemon's own about the device is
/// [`CliError::NoDevice`].
fn device_error(port: &str, code: ErrorCode, message: &str) -> CliError {
    match message.strip_prefix(DAEMON_PREFIX) {
        Some(why) => CliError::NoDevice {
            port: port.to_string(),
            why: format!("(through the daemon) {why}"),
        },
        None => CliError::Device {
            code,
            message: message.to_string(),
        },
    }
}

/// Whether a message, arriving after our handshake, says another client took the session
/// over (docs/protocol.md §7.1): the device's notice (a `Response::Error` under id 0, which
/// no request has), or the `Hello` answer of another client's handshake (seen when this
/// client reads first on a shared line, or from a device that sends no notice).
fn ends_session(h: &Header, m: &Result<Message<'_>, DecodeError>) -> bool {
    match m {
        Ok(Message::Response(Response::Error { .. })) => h.id == 0,
        Ok(Message::Response(Response::Hello { .. })) => true,
        _ => false,
    }
}

/// Human text for a device error code.
pub fn code_text(c: ErrorCode) -> &'static str {
    match c {
        ErrorCode::UnknownRequest => "unknown request",
        ErrorCode::Malformed => "malformed request",
        ErrorCode::VersionMismatch => "protocol version mismatch",
        ErrorCode::NoSuchIface => "no such interface",
        ErrorCode::InvalidArgument => "invalid argument",
        ErrorCode::Busy => "busy",
        ErrorCode::Unsupported => "not supported",
        ErrorCode::Full => "table full",
        ErrorCode::NotFound => "not found",
        ErrorCode::Internal => "internal error",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link that answers with prepared bytes and swallows what is written.
    struct Script(std::io::Cursor<Vec<u8>>);
    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(buf)
        }
    }
    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn response(id: u16, r: &Response<'_>) -> Vec<u8> {
        let mut out = vec![0u8; MAX_FRAME];
        let n = mgmt::encode(Header::new(Kind::Response, id), r, &mut out).unwrap();
        out.truncate(n);
        out
    }

    fn hello() -> Response<'static> {
        Response::Hello {
            version: PROTOCOL_VERSION,
            schema: mgmt::schema_fingerprint(),
            firmware: "sixgate 0.1.0",
            board: "test",
        }
    }

    fn notice() -> Response<'static> {
        Response::Error {
            code: ErrorCode::Busy,
            message: "another client took over the management session",
        }
    }

    fn device(bytes: Vec<u8>) -> Device {
        let link = Script(std::io::Cursor::new(bytes));
        Device::new(Box::new(link), "test-port", Duration::from_millis(200))
    }

    fn next(d: &mut Device) -> Result<bool, CliError> {
        d.next_frame(Instant::now() + Duration::from_millis(50), &mut |_, _| {})
    }

    /// A notice ahead of our own handshake's answer ends the session before (not ours); after
    /// it, the notice or another client's `Hello` answer ends ours.
    #[test]
    fn another_clients_handshake_ends_the_session() {
        for after in [response(0, &notice()), response(1, &hello())] {
            let mut bytes = response(0, &notice());
            bytes.extend(response(1, &hello()));
            bytes.extend(after);
            let mut d = device(bytes);
            d.handshake().unwrap();
            let e = next(&mut d).unwrap_err();
            assert!(matches!(e, CliError::TakenOver { .. }), "{e}");
            assert_eq!(e.exit_code(), 3);
            assert!(
                e.to_string()
                    .starts_with("test-port: another client took over")
            );
        }
        // An error answering a request of ours is not a takeover.
        let mut bytes = response(1, &hello());
        bytes.extend(response(2, &notice()));
        let mut d = device(bytes);
        d.handshake().unwrap();
        assert!(next(&mut d).unwrap());
    }
}
