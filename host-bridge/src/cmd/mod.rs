//! One module per command (the device ones take an open [`Device`]); shared formatting here.

pub mod capture;
pub mod config;
pub mod follow;
pub mod generate;
pub mod iface;
pub mod info;
pub mod nodes;
pub mod ping;
pub mod rpl;
pub mod scan;
pub mod security;
pub mod stats;
pub mod tables;
pub mod topology;
pub mod watch;

use std::net::Ipv6Addr;

use crate::device::Device;
use crate::error::CliError;

/// Output mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Out {
    /// One JSON document per command instead of human text.
    pub json: bool,
}

impl Out {
    /// Prints a JSON document.
    pub fn json(&self, v: &serde_json::Value) {
        crate::outln!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    }
}

/// An IPv6 address from bytes.
pub fn ip(a: &[u8; 16]) -> Ipv6Addr {
    Ipv6Addr::from(*a)
}

/// Colon-separated hex (EUI-64, MAC).
pub fn hex_colon(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Aligned columns; the last column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cols = headers.len();
    let mut w: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (k, c) in r.iter().enumerate().take(cols) {
            if let Some(x) = w.get_mut(k) {
                *x = (*x).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (k, c) in cells.iter().enumerate() {
            if k + 1 == cells.len() {
                s.push_str(c);
            } else {
                let pad = w.get(k).copied().unwrap_or(0);
                s.push_str(&format!("{c:<pad$}  "));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = crate::color::paint(
        crate::color::Stream::Stdout,
        crate::color::Style::Header,
        &line(headers.to_vec()),
    );
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// Parses `ADDR/LEN`.
pub fn parse_prefix(s: &str) -> Result<(Ipv6Addr, u8), String> {
    let (a, l) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}`: expected ADDRESS/LENGTH, e.g. 2001:db8:1::/64"))?;
    let a: Ipv6Addr = a
        .parse()
        .map_err(|_| format!("`{a}` is not an IPv6 address"))?;
    let l: u8 = l
        .parse()
        .ok()
        .filter(|l| *l <= 128)
        .ok_or_else(|| format!("`{l}` is not a prefix length (0..=128)"))?;
    Ok((a, l))
}

/// `a` with the bits past the first `len` cleared.
pub fn mask(a: Ipv6Addr, len: u8) -> Ipv6Addr {
    let bits = u128::from(a);
    let keep = u128::MAX
        .checked_shl(128 - u32::from(len.min(128)))
        .unwrap_or(0);
    Ipv6Addr::from(bits & keep)
}

/// Parses a number in decimal or `0x` hex.
pub fn parse_u16(s: &str) -> Result<u16, String> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u16::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|_| format!("`{s}` is not a number (decimal or 0x hex, up to 0xffff)"))
}

/// Human duration from milliseconds.
pub fn dur_ms(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 86_400 {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    } else if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}.{}s", s, (ms % 1000) / 100)
    }
}

/// The error for a response of the wrong kind.
pub fn unexpected<T>(r: mgmt::Response<'_>) -> Result<T, CliError> {
    Err(CliError::Other(format!("unexpected answer: {r:?}")))
}

/// A JSON value as table text: strings bare, `null` as `none`, anything else as JSON.
pub fn text(v: &serde_json::Value, none: &str) -> String {
    match v {
        serde_json::Value::Null => none.to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every page of a paged list (nodes, counters): `req(start)` asks for the page at `start`,
/// `take` returns the total and the page's items.
pub fn pages<'a, T>(
    dev: &mut Device,
    req: impl Fn(u16) -> mgmt::Request<'a>,
    take: impl Fn(mgmt::Response<'_>) -> Result<(u16, Vec<T>), CliError>,
) -> Result<Vec<T>, CliError> {
    let mut all = Vec::new();
    let mut start: u16 = 0;
    loop {
        let (total, got) = dev.request(&req(start), &take)??;
        let n = got.len();
        all.extend(got);
        match next_page(start, n, total) {
            Some(next) => start = next,
            None => return Ok(all),
        }
    }
}

/// Where the page after the one at `start` (of `n` entries) of a `total`-entry table starts,
/// if there is one: the paging rule of every list request (`NodesList`, `Topology`, `Stats`).
pub fn next_page(start: u16, n: usize, total: u16) -> Option<u16> {
    let next = start.saturating_add(u16::try_from(n).unwrap_or(u16::MAX));
    (n > 0 && next < total).then_some(next)
}

impl Out {
    /// A list: the JSON array, or a table with one row per item.
    pub fn list(
        &self,
        items: &[serde_json::Value],
        headers: &[&str],
        row: impl Fn(&serde_json::Value) -> Vec<String>,
    ) {
        if self.json {
            self.json(&serde_json::Value::Array(items.to_vec()));
        } else {
            let rows: Vec<Vec<String>> = items.iter().map(row).collect();
            crate::out!("{}", table(headers, &rows));
        }
    }
}

/// `Ok` when the response is `Ok`.
pub fn simple(
    dev: &mut Device,
    out: Out,
    req: &mgmt::Request<'_>,
    done: &str,
) -> Result<(), CliError> {
    dev.request_ok(req)?;
    if out.json {
        out.json(&serde_json::json!({ "ok": true }));
    } else if !done.is_empty() {
        crate::outln!("{done}");
    }
    Ok(())
}
