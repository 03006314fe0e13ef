//! `--watch [SECS]` of `nodes list`, `stats`, `iface list|show`: the command again every
//! interval until Ctrl-C (then exit 0), like watch(1).
//!
//! On a terminal each refresh replaces the last one in place (cursor home and clear screen,
//! then a title line and the output), so nothing scrolls. Anywhere else (a pipe, a file) each
//! refresh is printed after the last, human refreshes separated by a line `--- HH:MM:SS`
//! (UTC) and `--json` refreshes as one JSON document each (a stream that `jq` reads).

use std::io::IsTerminal as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::Out;
use crate::color::{Stream, Style, paint};
use crate::error::CliError;

/// The default interval of a bare `--watch`.
pub const DEFAULT_SECS: &str = "2";

/// Cursor home, then clear the screen.
const CLEAR: &str = "\x1b[H\x1b[2J";

/// How often a wait looks at Ctrl-C.
const TICK: Duration = Duration::from_millis(50);

/// Runs `once` now and every `every` until `stopped()`; `title` names the command.
pub fn run(
    out: Out,
    every: Duration,
    title: &str,
    stopped: &dyn Fn() -> bool,
    mut once: impl FnMut() -> Result<(), CliError>,
) -> Result<(), CliError> {
    let terminal = std::io::stdout().is_terminal();
    let mut first = true;
    while !stopped() {
        let started = Instant::now();
        let head = format!(
            "every {}s: sixgate {title}   {} UTC",
            every.as_secs_f64(),
            clock()
        );
        if terminal {
            crate::out!("{CLEAR}");
            if !out.json {
                crate::outln!(
                    "{}  (Ctrl-C ends)\n",
                    paint(Stream::Stdout, Style::Header, &head)
                );
            }
        } else if !out.json && !first {
            crate::outln!("--- {}", clock());
        }
        first = false;
        once()?;
        while !stopped() && started.elapsed() < every {
            std::thread::sleep(TICK.min(every.saturating_sub(started.elapsed())));
        }
    }
    Ok(())
}

/// The time of day, UTC, as `HH:MM:SS`.
fn clock() -> String {
    let s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{:02}:{:02}:{:02}", s / 3600 % 24, s / 60 % 60, s % 60)
}
