//! `sixgate capture`: live capture from the device to pcapng (format in DESIGN.md): `wpan0`
//! as LINKTYPE_IEEE802_15_4_TAP with channel, RSSI, LQI and the FCS, `eth0` as Ethernet;
//! timestamps in microseconds (host wall clock, aligned at the first record); an Interface
//! Statistics Block per interface at the end carries the device-side drops. Frames are kept as
//! they were on the air: with link-layer security on they stay encrypted, and the capture
//! prints the tshark option that decrypts them given the network key.

use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use capture_file::{
    InterfaceDesc, LINKTYPE_ETHERNET, LINKTYPE_IEEE802_15_4_TAP, PcapngWriter, TapInfo,
};
use mgmt::{CaptureIface, Message, Request, Response};
use serde_json::json;

use super::Out;
use crate::device::Device;
use crate::error::CliError;

/// Options.
#[derive(Debug, Clone)]
pub struct CaptureOpts {
    /// Capture `wpan0`.
    pub wpan0: bool,
    /// Capture `eth0`.
    pub eth0: bool,
    /// Radio promiscuous mode.
    pub promiscuous: bool,
    /// Stop after this many frames.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

/// Writes each block straight through (so `-w - | wireshark -k -i -` sees frames at once).
struct FlushEach<W: Write>(W);

impl<W: Write> Write for FlushEach<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(b)?;
        self.0.flush()?;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Runs the capture into `sink` until `stop()`, the count or the duration.
pub fn run(
    dev: &mut Device,
    out: Out,
    opts: &CaptureOpts,
    sink: Box<dyn Write>,
    sink_is_stdout: bool,
    stop: &dyn Fn() -> bool,
) -> Result<(), CliError> {
    // Interface ids in the file: in the order asked.
    let mut descs = Vec::new();
    let mut id_of = [None, None];
    if opts.wpan0 {
        id_of[0] = Some(descs.len() as u32);
        descs.push(InterfaceDesc {
            linktype: LINKTYPE_IEEE802_15_4_TAP,
            name: "wpan0".into(),
            snaplen: 0,
        });
    }
    if opts.eth0 {
        id_of[1] = Some(descs.len() as u32);
        descs.push(InterfaceDesc {
            linktype: LINKTYPE_ETHERNET,
            name: "eth0".into(),
            snaplen: 0,
        });
    }
    // With link-layer security on, the frames are captured as they were on the air
    // (encrypted): say how the holder of the network key decrypts them.
    let security = if opts.wpan0 {
        match super::security::fetch(dev) {
            Ok(i) if i.enabled => Some(i),
            Ok(_) | Err(CliError::Device { .. }) => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    if let Some(i) = &security {
        crate::progress_end();
        eprintln!("{}", super::security::capture_note(i));
    }
    let mut w = PcapngWriter::new(FlushEach(sink), &descs)?;
    let ifaces = u8::from(opts.wpan0) | (u8::from(opts.eth0) << 1);
    dev.request_ok(&Request::CaptureStart {
        ifaces,
        promiscuous: opts.promiscuous,
    })?;
    let start_wall = now_us();
    let t0 = Instant::now();
    let mut offset: Option<i128> = None;
    let mut frames = [0u64; 2];
    let mut bytes = 0u64;
    let mut dropped = [0u64; 2];
    let mut io_err: Option<std::io::Error> = None;
    let mut last_progress = Instant::now();
    let progress = !out.json;
    let total = |f: &[u64; 2]| f[0] + f[1];
    while !stop()
        && io_err.is_none()
        && opts.count.is_none_or(|c| total(&frames) < c)
        && opts.duration.is_none_or(|d| t0.elapsed() < d)
    {
        let deadline = Instant::now() + Duration::from_millis(200);
        dev.next_frame(deadline, &mut |_, m| {
            let Ok(Message::Capture(c)) = m else { return };
            if opts.count.is_some_and(|n| total(&frames) >= n) || io_err.is_some() {
                return;
            }
            let off = *offset.get_or_insert(i128::from(now_us()) - i128::from(c.ts_us));
            let ts = u64::try_from(i128::from(c.ts_us) + off).unwrap_or(0);
            let slot = match c.iface {
                CaptureIface::Wpan0 => 0,
                CaptureIface::Eth0 => 1,
            };
            dropped = [u64::from(c.dropped[0]), u64::from(c.dropped[1])];
            let Some(id) = id_of[slot] else { return };
            let r = match c.iface {
                CaptureIface::Wpan0 => {
                    let air_us = (c.data.len() as u64 + 6) * 32;
                    w.write_15_4(
                        id,
                        c.data,
                        &TapInfo {
                            channel: c.channel,
                            rssi_dbm: (!c.tx && c.rssi != i8::MIN).then_some(c.rssi),
                            lqi: (!c.tx).then_some(c.lqi),
                            start_us: ts.saturating_sub(air_us),
                            end_us: ts,
                        },
                    )
                }
                CaptureIface::Eth0 => w.write_packet(id, ts, c.data),
            };
            match r {
                Ok(()) => {
                    frames[slot] += 1;
                    bytes += c.data.len() as u64;
                }
                Err(e) => io_err = Some(e),
            }
        })?;
        if progress && last_progress.elapsed() >= Duration::from_millis(500) {
            last_progress = Instant::now();
            crate::progress(format_args!(
                "{} frames ({} wpan0, {} eth0), {} bytes, device drops {}",
                total(&frames),
                frames[0],
                frames[1],
                bytes,
                dropped[0] + dropped[1]
            ));
        }
    }
    let stats = dev.request(&Request::CaptureStop, |r| match r {
        Response::CaptureStats(s) => Ok(s),
        other => super::unexpected(other),
    })??;
    let end_wall = now_us();
    // Records that arrived between our last read and the stop are not written; the device's
    // final counters are the truth for drops.
    let drops = [
        stats.dropped[0].max(dropped[0]),
        stats.dropped[1].max(dropped[1]),
    ];
    for slot in 0..2 {
        if let Some(id) = id_of[slot] {
            w.write_stats(id, start_wall, end_wall, frames[slot], drops[slot])?;
        }
    }
    let _ = w.finish()?;
    if let Some(e) = io_err {
        // A closed pipe (the reader quit) ends the capture; anything else is an error.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(CliError::Other(format!("writing the capture: {e}")));
        }
    }
    if progress {
        crate::progress_done(format_args!(
            "{} frames ({} wpan0, {} eth0), {} bytes, device drops {} (wpan0 {}, eth0 {})",
            total(&frames),
            frames[0],
            frames[1],
            bytes,
            drops[0] + drops[1],
            drops[0],
            drops[1]
        ));
    } else {
        let mut doc = json!({"frames": total(&frames), "wpan0": frames[0], "eth0": frames[1], "bytes": bytes,
                   "device_drops": {"wpan0": drops[0], "eth0": drops[1]}});
        if let (Some(i), Some(m)) = (&security, doc.as_object_mut()) {
            m.insert(
                "link_security".into(),
                json!({"key_sequence": i.key_sequence, "key_index": i.key_index,
                       "level": i.settings.level}),
            );
        }
        // With `-w -` stdout carries the capture, so the summary goes to stderr.
        if sink_is_stdout {
            eprintln!("{doc}");
        } else {
            out.json(&doc);
        }
    }
    Ok(())
}
