//! `sixgate scan energy [--channels 11-26]`.

use std::time::Duration;

use mgmt::{Request, Response};
use serde_json::json;

use super::Out;
use crate::device::Device;
use crate::error::CliError;

/// Parses `11-26`, `15`, `11,15,20-22` into a channel mask (bit N = channel N).
pub fn parse_channels(s: &str) -> Result<u32, String> {
    let mut mask = 0u32;
    for part in s.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part.trim(), part.trim()),
        };
        let p = |x: &str| {
            x.parse::<u8>()
                .ok()
                .filter(|c| (11..=26).contains(c))
                .ok_or_else(|| format!("`{x}` is not a channel 11..=26"))
        };
        let (a, b) = (p(a)?, p(b)?);
        if a > b {
            return Err(format!("`{part}`: empty range"));
        }
        for c in a..=b {
            mask |= 1 << c;
        }
    }
    Ok(mask)
}

/// Energy per channel, as a bar chart (-100 dBm .. -20 dBm).
pub fn run(dev: &mut Device, out: Out, mask: u32, per_channel_ms: u16) -> Result<(), CliError> {
    let n = mask.count_ones();
    let wait = Duration::from_millis(u64::from(per_channel_ms) + 300) * n + Duration::from_secs(2);
    let v = dev.request_with(
        &Request::ScanEnergy {
            channels: mask,
            duration_ms: per_channel_ms,
        },
        Some(wait),
        &mut |_| {},
        |r| match r {
            Response::Energy(v) => Ok(v.iter().map(|c| (c.channel, c.dbm)).collect::<Vec<_>>()),
            other => super::unexpected(other),
        },
    )??;
    if out.json {
        out.json(&json!(
            v.iter()
                .map(|(c, d)| json!({"channel": c, "dbm": if *d == i8::MIN { json!(null) } else { json!(d) }}))
                .collect::<Vec<_>>()
        ));
        return Ok(());
    }
    crate::outln!("channel  energy (dBm)");
    for (c, d) in v {
        if d == i8::MIN {
            crate::outln!("{c:>7}  (no measurement)");
            continue;
        }
        let width = ((i32::from(d) + 100).clamp(0, 80) / 2) as usize;
        crate::outln!("{c:>7}  {:>4} {}", d, "#".repeat(width.max(1)));
    }
    Ok(())
}
