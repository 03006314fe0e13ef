//! The daemon's HTTP side (`sixgate daemon --http ADDR:PORT`): a small threaded HTTP/1.1
//! server on std alone. One thread accepts; each connection gets a thread of its own, at most
//! [`MAX_CONNECTIONS`] at once ([`MAX_STREAMS`] of them event streams), the next ones are
//! answered `503` and closed. One request per connection (`Connection: close`), `GET` and
//! `HEAD` only, the request head at most [`MAX_HEAD`] bytes, read within [`READ_TIMEOUT`].
//!
//! - `/`: the dashboard (one page, [`DASHBOARD`]);
//! - `/metrics`: Prometheus text format 0.0.4 ([`super::metrics`]);
//! - `/api/...`: JSON ([`super::api`]), `/api/stream` server-sent events,
//!   `/api/openapi.json` the API's description ([`OPENAPI`]).
//!
//! Access: on a loopback address only, unless `--http-public`; then a bearer token (read from
//! `--token-file`) is required on every request: `Authorization: Bearer TOKEN`, or the
//! `sixgate_token` cookie, which `?token=TOKEN` sets (a browser's `EventSource` cannot send a
//! header). Without a token the `Host` header must name a loopback host (no DNS rebinding).

use std::io::{BufRead as _, BufReader, Read as _, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::State;
use crate::error::CliError;

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 32;
/// Event streams (`/api/stream`) open at once (part of [`MAX_CONNECTIONS`]).
pub const MAX_STREAMS: usize = 16;
/// Longest request head (request line and headers).
pub const MAX_HEAD: usize = 8192;
/// A request head must arrive within this.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// A response (or a stream's chunk) must be taken within this.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The dashboard page, served at `/`.
pub const DASHBOARD: &str = include_str!("dashboard.html");
/// The REST API's OpenAPI 3.0 description, served at `/api/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// What `--http`, `--http-public` and `--token-file` ask for.
#[derive(Debug, Clone)]
pub struct HttpOpts {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Listening on a non-loopback address is allowed.
    pub public: bool,
    /// The bearer token's file.
    pub token_file: Option<PathBuf>,
}

/// What the connection threads share.
#[derive(Debug)]
pub struct Shared {
    /// The daemon's state.
    pub state: Arc<Mutex<State>>,
    /// The token every request must carry (`None`: none needed).
    pub token: Option<String>,
    /// Stop.
    pub stop: Arc<AtomicBool>,
    /// Connections open now.
    pub connections: AtomicUsize,
    /// Streams open now.
    pub streams: AtomicUsize,
    /// Connections refused for lack of room.
    pub refused: AtomicU64,
    /// Requests refused for a missing or wrong token.
    pub unauthorized: AtomicU64,
    /// Node series left out of `/metrics` over all scrapes ([`super::metrics::MAX_NODE_SERIES`]).
    pub node_series_omitted: AtomicU64,
}

fn other(m: String) -> CliError {
    CliError::Other(m)
}

/// Checks the options, reads the token and binds. The listener and what its threads share.
pub fn bind(
    o: &HttpOpts,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
) -> Result<(TcpListener, Arc<Shared>), CliError> {
    if !o.addr.ip().is_loopback() && !o.public {
        return Err(CliError::Usage(format!(
            "--http {} is not a loopback address: the dashboard and API would be open to the \
             network; pass --http-public with --token-file FILE to require a token, or use \
             127.0.0.1 / [::1]",
            o.addr
        )));
    }
    if o.public && o.token_file.is_none() {
        return Err(CliError::Usage(
            "--http-public needs --token-file FILE (the bearer token every request must carry)"
                .into(),
        ));
    }
    let token = match &o.token_file {
        Some(f) => {
            let t = std::fs::read_to_string(f)
                .map_err(|e| other(format!("cannot read the token file {}: {e}", f.display())))?;
            let t = t.trim().to_string();
            if t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(CliError::Usage(format!(
                    "the token in {} must be at least 16 printable characters without spaces \
                     (e.g. `head -c 24 /dev/urandom | base64 > {}`)",
                    f.display(),
                    f.display()
                )));
            }
            Some(t)
        }
        None => None,
    };
    let listener = TcpListener::bind(o.addr)
        .map_err(|e| other(format!("cannot listen on http://{}: {e}", o.addr)))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| other(format!("cannot listen on http://{}: {e}", o.addr)))?;
    let shared = Arc::new(Shared {
        state,
        token,
        stop,
        connections: AtomicUsize::new(0),
        streams: AtomicUsize::new(0),
        refused: AtomicU64::new(0),
        unauthorized: AtomicU64::new(0),
        node_series_omitted: AtomicU64::new(0),
    });
    Ok((listener, shared))
}

/// The accept loop: until `stop`.
pub fn run(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((s, _)) => {
                let n = shared.connections.fetch_add(1, Ordering::SeqCst);
                if n >= MAX_CONNECTIONS {
                    shared.connections.fetch_sub(1, Ordering::SeqCst);
                    shared.refused.fetch_add(1, Ordering::Relaxed);
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
                    let mut s = s;
                    let _ = respond(
                        &mut s,
                        &Response::text(503, "too many connections; try again\n"),
                        false,
                    );
                    continue;
                }
                let sh = shared.clone();
                let spawned = std::thread::Builder::new()
                    .name("http".into())
                    .spawn(move || {
                        connection(s, &sh);
                        sh.connections.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    shared.connections.fetch_sub(1, Ordering::SeqCst);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// A parsed request.
#[derive(Debug, Default)]
pub struct Request {
    /// `GET` or `HEAD`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query, undecoded.
    pub query: String,
    /// `Authorization` header.
    pub authorization: Option<String>,
    /// `Cookie` header.
    pub cookie: Option<String>,
    /// `Host` header.
    pub host: Option<String>,
}

impl Request {
    /// A query parameter (undecoded: the API's values need no escaping).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then_some(v)
        })
    }
}

/// Why a request head is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum HeadError {
    /// Longer than [`MAX_HEAD`].
    TooLong,
    /// Not `METHOD TARGET HTTP/1.x`, or a header without a colon.
    Malformed,
}

/// Parses a request head (the bytes up to the empty line, the line ends included).
pub fn parse_head(head: &str) -> Result<Request, HeadError> {
    let mut lines = head.split("\r\n").flat_map(|l| l.split('\n'));
    let line = lines.next().ok_or(HeadError::Malformed)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed);
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') || method.is_empty() {
        return Err(HeadError::Malformed);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut r = Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        ..Request::default()
    };
    for l in lines.filter(|l| !l.is_empty()) {
        let (k, v) = l.split_once(':').ok_or(HeadError::Malformed)?;
        let v = v.trim().to_string();
        match k.trim().to_ascii_lowercase().as_str() {
            "authorization" => r.authorization = Some(v),
            "cookie" => r.cookie = Some(v),
            "host" => r.host = Some(v),
            _ => {}
        }
    }
    Ok(r)
}

/// Reads a request head from `s` (at most [`MAX_HEAD`] bytes).
fn read_head(s: &TcpStream) -> Result<String, HeadError> {
    let mut r = BufReader::new(s.take(MAX_HEAD as u64 + 1));
    let mut head = Vec::new();
    loop {
        let before = head.len();
        match r.read_until(b'\n', &mut head) {
            Ok(0) | Err(_) => return Err(HeadError::Malformed),
            Ok(_) => {}
        }
        if head.len() > MAX_HEAD {
            return Err(HeadError::TooLong);
        }
        let line = head.get(before..).unwrap_or_default();
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    String::from_utf8(head).map_err(|_| HeadError::Malformed)
}

/// A response.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
    /// A `Set-Cookie` header.
    pub set_cookie: Option<String>,
}

impl Response {
    /// A plain-text response.
    pub fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
            set_cookie: None,
        }
    }

    /// A JSON response.
    pub fn json(v: &serde_json::Value) -> Response {
        Response {
            status: 200,
            content_type: "application/json",
            body: v.to_string().into_bytes(),
            set_cookie: None,
        }
    }

    /// A JSON error, `{"error": why}`.
    pub fn error(status: u16, why: &str) -> Response {
        Response {
            status,
            ..Response::json(&serde_json::json!({ "error": why }))
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

fn respond(s: &mut TcpStream, r: &Response, head_only: bool) -> std::io::Result<()> {
    let mut h = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    if r.status == 401 {
        h.push_str("WWW-Authenticate: Bearer realm=\"sixgate\"\r\n");
    }
    if let Some(c) = &r.set_cookie {
        h.push_str(&format!("Set-Cookie: {c}\r\n"));
    }
    h.push_str("\r\n");
    s.write_all(h.as_bytes())?;
    if !head_only {
        s.write_all(&r.body)?;
    }
    s.flush()
}

/// Constant-time comparison.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The loopback host names and addresses a `Host` header may carry without a token.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `r` may be served; `Err(response)` otherwise. `Ok(Some(cookie))` when the token
/// came in the query (the browser keeps it as a cookie).
fn authorize(sh: &Shared, r: &Request) -> Result<Option<String>, Response> {
    let Some(token) = &sh.token else {
        return match &r.host {
            Some(h) if loopback_host(h) => Ok(None),
            _ => Err(Response::error(
                403,
                "the Host header must name a loopback host (localhost, 127.0.0.1, [::1])",
            )),
        };
    };
    let bearer = r
        .authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(str::trim);
    let cookie = r.cookie.as_deref().and_then(|c| {
        c.split(';')
            .find_map(|kv| kv.trim().strip_prefix("sixgate_token="))
    });
    if bearer.or(cookie).is_some_and(|t| same(t, token)) {
        return Ok(None);
    }
    if r.param("token").is_some_and(|t| same(t, token)) {
        return Ok(Some(format!(
            "sixgate_token={token}; Path=/; HttpOnly; SameSite=Strict"
        )));
    }
    sh.unauthorized.fetch_add(1, Ordering::Relaxed);
    Err(Response::error(
        401,
        "a bearer token is required: `Authorization: Bearer TOKEN` (the daemon's --token-file)",
    ))
}

fn connection(mut s: TcpStream, sh: &Shared) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(READ_TIMEOUT));
    let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
    let r = match read_head(&s).and_then(|h| parse_head(&h)) {
        Ok(r) => r,
        Err(HeadError::TooLong) => {
            let _ = respond(
                &mut s,
                &Response::text(431, "request head too long\n"),
                false,
            );
            return;
        }
        Err(HeadError::Malformed) => {
            let _ = respond(&mut s, &Response::text(400, "bad request\n"), false);
            return;
        }
    };
    let head_only = r.method == "HEAD";
    if r.method != "GET" && !head_only {
        let _ = respond(&mut s, &Response::error(405, "only GET and HEAD"), false);
        return;
    }
    let cookie = match authorize(sh, &r) {
        Ok(c) => c,
        Err(resp) => {
            let _ = respond(&mut s, &resp, head_only);
            return;
        }
    };
    if r.path == "/api/stream" && !head_only {
        if sh.streams.fetch_add(1, Ordering::SeqCst) >= MAX_STREAMS {
            sh.streams.fetch_sub(1, Ordering::SeqCst);
            let _ = respond(&mut s, &Response::error(503, "too many streams"), false);
            return;
        }
        super::api::stream(&mut s, sh);
        sh.streams.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let mut resp = route(sh, &r);
    resp.set_cookie = cookie;
    let _ = respond(&mut s, &resp, head_only);
}

/// The answer to a (authorized) request.
pub fn route(sh: &Shared, r: &Request) -> Response {
    match r.path.as_str() {
        "/" | "/index.html" => Response {
            content_type: "text/html; charset=utf-8",
            ..Response::text(200, DASHBOARD)
        },
        "/metrics" => Response {
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            ..Response::text(200, &super::metrics::render(sh))
        },
        "/api/openapi.json" => Response {
            content_type: "application/json",
            ..Response::text(200, OPENAPI)
        },
        p if p.starts_with("/api/") => super::api::get(sh, r),
        _ => Response::error(404, "no such page: see /api/openapi.json"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads_are_parsed_or_refused() {
        let r = parse_head(
            "GET /api/events?since=4&x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\
             Authorization: Bearer abc\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/api/events"));
        assert_eq!(r.param("since"), Some("4"));
        assert_eq!(r.param("x"), Some(""));
        assert_eq!(r.param("y"), None);
        assert_eq!(r.authorization.as_deref(), Some("Bearer abc"));
        for bad in [
            "",
            "GET\r\n\r\n",
            "GET / SPDY\r\n\r\n",
            "GET x HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nno colon\r\n\r\n",
            "GET / HTTP/1.1 extra\r\n\r\n",
        ] {
            assert_eq!(parse_head(bad).err(), Some(HeadError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:80",
            "127.0.0.1:8080",
            "[::1]:8080",
            "[::1]",
        ] {
            assert!(loopback_host(h), "{h}");
        }
        for h in [
            "evil.example",
            "evil.example:8080",
            "10.0.0.1:80",
            "[2001:db8::1]:80",
        ] {
            assert!(!loopback_host(h), "{h}");
        }
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
