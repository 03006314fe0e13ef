//! `sixgate security [show]`, `security set-key`, `security set …`, `security rotate`,
//! `security off`: link-layer security of `wpan0` (IEEE 802.15.4 AES-CCM*, keys derived from
//! a network key as Thread derives them).
//!
//! The network key is write-only: `set-key` reads it from a file or a redirected standard
//! input (never the command line, so it stays out of shell history and the process list),
//! sends it to the device, and never prints it — no message here, not even an error about
//! its form, contains the key's text. No device response carries it.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use mgmt::{Request, Response, SecurityInfo, SecuritySettings};
use serde_json::{Value, json};
use zeroize::Zeroize;

use super::{Out, unexpected};
use crate::device::Device;
use crate::error::CliError;

/// Frame types that may arrive unsecured, by name: bit N of `unsecured_allowed` is frame
/// type N.
pub const FRAME_TYPES: [(&str, u8); 3] = [("beacon", 0), ("data", 1), ("command", 3)];

/// Input longer than this is not a key file (a key is 32 hex digits and some whitespace).
const MAX_KEY_INPUT: u64 = 4096;

/// A network key on its way to the device: never printed (`Debug` is redacted), wiped when
/// dropped.
pub struct NetworkKey([u8; 16]);

impl std::fmt::Debug for NetworkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetworkKey(<redacted>)")
    }
}

impl Drop for NetworkKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Where `set-key` reads the key.
#[derive(Debug, Clone, Copy)]
pub enum KeySource<'a> {
    /// A file.
    File(&'a Path),
    /// Standard input (which must not be a terminal: the key would be shown as typed).
    Stdin,
}

/// Parses a network key: exactly 32 hex digits, whitespace (spaces, tabs, newlines) allowed
/// anywhere. The error says what is wrong without repeating any of the input.
pub fn parse_key(text: &str) -> Result<NetworkKey, String> {
    let mut key = NetworkKey([0; 16]);
    let mut digits = 0usize;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        let Some(v) = c.to_digit(16) else {
            return Err(
                "the network key must be 32 hex digits (0-9, a-f; whitespace allowed): the \
                 input holds another character (no `0x`, `:` or quotes)"
                    .into(),
            );
        };
        if let Some(b) = key.0.get_mut(digits / 2) {
            // `v` < 16.
            *b = (*b << 4) | v as u8;
        }
        digits += 1;
    }
    if digits != 32 {
        return Err(format!(
            "the network key must be 32 hex digits (16 bytes); the input holds {digits}"
        ));
    }
    Ok(key)
}

/// Reads and parses the key from `src`. Usage errors name the source, never the content.
pub fn read_key(src: KeySource<'_>) -> Result<NetworkKey, CliError> {
    let usage = |m: String| CliError::Usage(m);
    let (mut text, from) = match src {
        KeySource::File(p) => {
            let f = std::fs::File::open(p)
                .map_err(|e| usage(format!("--key-file {}: {e}", p.display())))?;
            warn_if_readable_by_others(&f, p);
            (
                read_limited(f).map_err(|e| usage(format!("{}: {e}", p.display())))?,
                p.display().to_string(),
            )
        }
        KeySource::Stdin => {
            use std::io::IsTerminal as _;
            if std::io::stdin().is_terminal() {
                return Err(usage(
                    "security set-key reads the network key from --key-file FILE or from \
                     standard input redirected from a file or pipe (`sixgate security set-key \
                     < key.hex`), never typed at a terminal (it would be shown) nor given on \
                     the command line"
                        .into(),
                ));
            }
            (
                read_limited(std::io::stdin().lock())
                    .map_err(|e| usage(format!("standard input: {e}")))?,
                "standard input".to_string(),
            )
        }
    };
    let key = parse_key(&text).map_err(|m| usage(format!("{from}: {m}")));
    text.zeroize();
    key
}

/// At most [`MAX_KEY_INPUT`] bytes of UTF-8 text.
fn read_limited(r: impl Read) -> Result<String, String> {
    let mut buf = Vec::new();
    let mut r = r.take(MAX_KEY_INPUT + 1);
    let read = r.read_to_end(&mut buf);
    let res = match read {
        Err(e) => Err(e.to_string()),
        Ok(n) if n as u64 > MAX_KEY_INPUT => Err(format!(
            "more than {MAX_KEY_INPUT} bytes: not a network key (32 hex digits)"
        )),
        Ok(_) => match std::str::from_utf8(&buf) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => Err("not text: the network key must be 32 hex digits".into()),
        },
    };
    buf.zeroize();
    res
}

/// A key file others can read is worth a warning (the key is the whole mesh's secret).
#[cfg(unix)]
fn warn_if_readable_by_others(f: &std::fs::File, p: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(m) = f.metadata()
        && m.is_file()
        && m.permissions().mode() & 0o077 != 0
    {
        crate::color::warn(format_args!(
            "{} is readable by other users (mode {:04o}): `chmod 600 {}`",
            p.display(),
            m.permissions().mode() & 0o7777,
            p.display()
        ));
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &std::fs::File, _: &Path) {}

/// Parses `--allow-unsecured`: `none`, or a comma-separated list of `beacon`, `data`,
/// `command`.
pub fn parse_unsecured(s: &str) -> Result<u8, String> {
    if s.trim() == "none" {
        return Ok(0);
    }
    let mut bits = 0u8;
    for t in s.split(',').map(str::trim) {
        let Some((_, n)) = FRAME_TYPES.iter().find(|(name, _)| *name == t) else {
            return Err(format!(
                "--allow-unsecured: unknown frame type `{t}`: expected none, or some of \
                 beacon,data,command (Imm-ACKs are always accepted unsecured)"
            ));
        };
        bits |= 1 << n;
    }
    Ok(bits)
}

/// The frame types in `bits`, by name (`type N` for others).
fn unsecured_names(bits: u8) -> Vec<String> {
    (0..8u8)
        .filter(|n| bits & (1 << n) != 0)
        .map(|n| match FRAME_TYPES.iter().find(|(_, t)| *t == n) {
            Some((name, _)) => (*name).to_string(),
            None => format!("type {n}"),
        })
        .collect()
}

/// The name of a security level.
pub fn level_name(level: u8) -> &'static str {
    match level {
        0 => "none",
        1 => "MIC-32",
        2 => "MIC-64",
        3 => "MIC-128",
        4 => "ENC",
        5 => "ENC-MIC-32",
        6 => "ENC-MIC-64",
        7 => "ENC-MIC-128",
        _ => "?",
    }
}

/// The device's security state (`SecurityShow`).
pub(super) fn fetch(dev: &mut Device) -> Result<SecurityInfo, CliError> {
    dev.request(&Request::SecurityShow, |r| match r {
        Response::Security(i) => Ok(i),
        other => unexpected(other),
    })?
}

fn settings_json(s: &SecuritySettings) -> Value {
    json!({
        "level": s.level,
        "level_name": level_name(s.level),
        "unsecured_allowed": unsecured_names(s.unsecured_allowed),
        "rotate_period_h": s.rotate_period_h,
    })
}

fn info_json(i: &SecurityInfo) -> Value {
    json!({
        "enabled": i.enabled,
        "settings": settings_json(&i.settings),
        "key_sequence": i.key_sequence,
        "key_index": i.key_index,
        "frame_counter": i.frame_counter,
        "rotation_pending": i.rotation_pending,
        "next_rotation_s": i.next_rotation_s,
        "neighbours": {"tracked": i.neighbours.0, "capacity": i.neighbours.1},
        "frames": {"secured_sent": i.frames.0, "secured_accepted": i.frames.1},
        "tx_no_counter": i.tx_no_counter,
        "rotations": i.rotations,
        "replay_evictions": i.replay_evictions,
        "drops": {
            "no_key": i.drops.no_key,
            "mic": i.drops.mic,
            "replay": i.drops.replay,
            "duplicate": i.drops.duplicate,
            "unsecured": i.drops.unsecured,
            "unsupported": i.drops.unsupported,
        },
    })
}

fn unsecured_text(bits: u8) -> String {
    let names = unsecured_names(bits);
    if names.is_empty() {
        "none (Imm-ACKs only)".into()
    } else {
        format!("{} (and Imm-ACKs)", names.join(", "))
    }
}

fn period_text(h: u32) -> String {
    if h == 0 {
        "on command only".into()
    } else {
        format!("every {h} h")
    }
}

/// `security show`.
pub fn show(dev: &mut Device, out: Out) -> Result<(), CliError> {
    let i = fetch(dev)?;
    if out.json {
        out.json(&info_json(&i));
        return Ok(());
    }
    let s = &i.settings;
    if !i.enabled {
        crate::outln!(
            "link-layer security  off: no network key, wpan0 sends and accepts unsecured frames"
        );
        crate::outln!(
            "level                {} ({}) once a key is set",
            s.level,
            level_name(s.level)
        );
        crate::outln!(
            "unsecured accepted   {}",
            unsecured_text(s.unsecured_allowed)
        );
        crate::outln!("rotation             {}", period_text(s.rotate_period_h));
        crate::outln!("(`sixgate security set-key --key-file FILE` turns it on)");
        return Ok(());
    }
    crate::outln!("link-layer security  on (wpan0)");
    crate::outln!("level                {} ({})", s.level, level_name(s.level));
    crate::outln!(
        "unsecured accepted   {}",
        unsecured_text(s.unsecured_allowed)
    );
    crate::outln!(
        "key sequence         {} (key index {})",
        i.key_sequence,
        i.key_index
    );
    crate::outln!(
        "frame counter        {} (the next frame sent)",
        i.frame_counter
    );
    let next = match i.next_rotation_s {
        Some(sec) => format!(", next in {}", super::dur_ms(u64::from(sec) * 1000)),
        None => String::new(),
    };
    crate::outln!(
        "rotation             {}{next}{}; {} since boot",
        period_text(s.rotate_period_h),
        if i.rotation_pending {
            "; one pending (waits for its key sequence to be persisted)"
        } else {
            ""
        },
        i.rotations
    );
    crate::outln!(
        "neighbours tracked   {} of {} (replay protection; {} evicted)",
        i.neighbours.0,
        i.neighbours.1,
        i.replay_evictions
    );
    crate::outln!(
        "frames               {} secured and sent, {} secured accepted, {} not sent (no frame counter)",
        i.frames.0,
        i.frames.1,
        i.tx_no_counter
    );
    let d = &i.drops;
    crate::outln!(
        "drops                no key {}, MIC failure {}, replay {}, duplicate {}, unsecured {}, unsupported {}",
        d.no_key,
        d.mic,
        d.replay,
        d.duplicate,
        d.unsecured,
        d.unsupported
    );
    Ok(())
}

/// Whether the running configuration is stored (`ConfigShow`'s `unsaved` is false): a board
/// that persists every change at once (`sixgate-sim`) has it saved already.
fn saved(dev: &mut Device) -> Result<bool, CliError> {
    dev.request(&Request::ConfigShow, |r| match r {
        Response::Config(c) => Ok(!c.unsaved),
        other => unexpected(other),
    })?
}

/// `security set-key`: the key (already read) to the device, then its state.
pub fn set_key(dev: &mut Device, out: Out, key: NetworkKey) -> Result<(), CliError> {
    dev.request_ok(&Request::SecuritySetKey { key: key.0 })?;
    drop(key);
    let i = fetch(dev)?;
    let saved = saved(dev)?;
    if out.json {
        out.json(&json!({
            "ok": true,
            "enabled": i.enabled,
            "key_sequence": i.key_sequence,
            "key_index": i.key_index,
            "saved": saved,
        }));
    } else {
        crate::outln!(
            "link-layer security on: level {} ({}), key sequence {}, key index {}",
            i.settings.level,
            level_name(i.settings.level),
            i.key_sequence,
            i.key_index
        );
        if saved {
            crate::outln!("the key is saved with the configuration (no command shows it again)");
        } else {
            crate::outln!(
                "the key is in the running configuration only: `sixgate config save` keeps it \
                 across reboots (no command shows it again)"
            );
        }
    }
    Ok(())
}

/// Changes asked for by `security set` (unset fields keep the device's value).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecurityChanges {
    /// Security level of frames sent (the device checks it).
    pub level: Option<u8>,
    /// Frame types accepted unsecured (bits).
    pub unsecured_allowed: Option<u8>,
    /// Rotation period, hours (0: on command only).
    pub rotate_period_h: Option<u32>,
}

/// `security set`: read the settings, change what was asked, write them back.
pub fn set(dev: &mut Device, out: Out, c: &SecurityChanges) -> Result<(), CliError> {
    let mut s = fetch(dev)?.settings;
    s.level = c.level.unwrap_or(s.level);
    s.unsecured_allowed = c.unsecured_allowed.unwrap_or(s.unsecured_allowed);
    s.rotate_period_h = c.rotate_period_h.unwrap_or(s.rotate_period_h);
    dev.request_ok(&Request::SecuritySet(s))?;
    if out.json {
        out.json(&settings_json(&s));
    } else {
        crate::outln!(
            "security settings changed: level {} ({}), unsecured accepted {}, rotation {} \
             (`sixgate config save` keeps them)",
            s.level,
            level_name(s.level),
            unsecured_text(s.unsecured_allowed),
            period_text(s.rotate_period_h)
        );
    }
    Ok(())
}

/// `security rotate`: the device starts the rotation and switches once the new key sequence
/// is persisted; this waits (up to the request timeout) to report the switch.
pub fn rotate(dev: &mut Device, out: Out, wait: Duration) -> Result<(), CliError> {
    let before = fetch(dev)?;
    dev.request_ok(&Request::SecurityRotate)?;
    let want = before.key_sequence.wrapping_add(1);
    let t0 = Instant::now();
    let now = loop {
        let i = fetch(dev)?;
        if i.key_sequence != before.key_sequence || t0.elapsed() >= wait {
            break i;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let done = now.key_sequence != before.key_sequence;
    if out.json {
        out.json(&json!({
            "ok": true,
            "key_sequence_before": before.key_sequence,
            "key_sequence": now.key_sequence,
            "key_index": now.key_index,
            "pending": !done,
        }));
    } else if done {
        crate::outln!(
            "key sequence {} -> {} (key index {})",
            before.key_sequence,
            now.key_sequence,
            now.key_index
        );
    } else {
        crate::outln!(
            "rotation to key sequence {want} started; it takes effect once persisted \
             (`sixgate security show`)"
        );
    }
    Ok(())
}

/// `security off`.
pub fn off(dev: &mut Device, out: Out) -> Result<(), CliError> {
    dev.request_ok(&Request::SecurityOff)?;
    let saved = saved(dev)?;
    if out.json {
        out.json(&json!({ "ok": true, "saved": saved }));
    } else {
        crate::outln!("link-layer security off: wpan0 sends and accepts unsecured frames");
        if !saved {
            crate::outln!(
                "the stored configuration still holds the key: `sixgate config save` removes it"
            );
        }
    }
    Ok(())
}

/// What `capture` prints when the device secures `wpan0`: the capture holds the frames as
/// they were on the air, and only the holder of the network key can decrypt them, with
/// Wireshark's IEEE 802.15.4 "Thread hash" key option. Wireshark takes the key sequence from
/// a frame's key index (its low 7 bits, Thread's rule) plus the `thread.thr_seq_ctr`
/// preference for the bits above.
pub fn capture_note(i: &SecurityInfo) -> String {
    let mut opts = String::from(r#"-o 'uat:ieee802154_keys:"<network key>","0","Thread hash"'"#);
    if i.key_sequence >= 128 {
        opts.push_str(&format!(" -o thread.thr_seq_ctr:{:08x}", i.key_sequence));
    }
    let mut s = format!(
        "note: link-layer security is on (key sequence {}, key index {}, level {} {}): the \
         capture keeps the frames as sent on the air, encrypted. To decrypt it, give Wireshark \
         the network key (32 hex digits; sixgate never knows it):\n  tshark {opts} -r FILE\n  \
         (or the line `\"<network key>\",\"0\",\"Thread hash\"` in \
         ~/.config/wireshark/ieee802154_keys)",
        i.key_sequence,
        i.key_index,
        i.settings.level,
        level_name(i.settings.level)
    );
    if u32::from(i.key_index) != (i.key_sequence & 0x7f) + 1 {
        s.push_str(&format!(
            "\nwarning: the device numbers key sequence {} as key index {}, Thread (and \
             Wireshark) as {}: Wireshark will not find the key for these frames",
            i.key_sequence,
            i.key_index,
            (i.key_sequence & 0x7f) + 1
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_forms() {
        let k = parse_key("000102030405060708090a0b0c0d0e0f\n").unwrap();
        assert_eq!(k.0, core::array::from_fn(|i| i as u8));
        let k = parse_key(" 00010203 04050607\n08090A0B 0C0D0E0F ").unwrap();
        assert_eq!(k.0, core::array::from_fn(|i| i as u8));
        for bad in [
            "",
            "\n",
            "000102030405060708090a0b0c0d0e0",
            "000102030405060708090a0b0c0d0e0f0",
            "0x000102030405060708090a0b0c0d0e0f",
            "00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f",
            "g00102030405060708090a0b0c0d0e0f",
            "\"000102030405060708090a0b0c0d0e0f\"",
        ] {
            let e = parse_key(bad).unwrap_err();
            assert!(e.contains("32 hex digits"), "{e}");
            assert!(!e.contains("0102"), "the error repeats no input: {e}");
        }
        assert_eq!(format!("{k:?}"), "NetworkKey(<redacted>)");
    }

    #[test]
    fn unsecured_lists() {
        assert_eq!(parse_unsecured("none"), Ok(0));
        assert_eq!(parse_unsecured("beacon"), Ok(1));
        assert_eq!(parse_unsecured("beacon,data,command"), Ok(0b1011));
        assert!(parse_unsecured("ack").is_err());
        assert!(parse_unsecured("").is_err());
        assert_eq!(unsecured_names(0b1011), ["beacon", "data", "command"]);
        assert_eq!(unsecured_names(0b100), ["type 2"]);
    }
}
