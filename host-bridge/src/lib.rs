//! # host-bridge — the `sixgate` command-line tool
//!
//! - [`daemon`]: `sixgate daemon`, which owns the serial line and shares it over a socket;
//! - [`device`]: the serial transport (handshake, requests with timeouts, unsolicited
//!   messages) over the `mgmt` protocol;
//! - [`cmd`]: one module per command, human tables or `--json`;
//! - [`color`]: colour on terminals only (`--color`, `NO_COLOR`);
//! - [`error`]: errors and exit codes;
//! - [`pcap_decode`]: offline 802.15.4 capture → raw IPv6 capture (no device needed).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

/// Standard output for everything the CLI prints. Like `print!`, except that a closed pipe
/// (`sixgate stats | head`) ends the program quietly with status 0 instead of panicking;
/// any other write error is reported and exits 1.
#[doc(hidden)]
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("sixgate: standard output: {e}");
        std::process::exit(1);
    }
}

/// `print!` through [`write_stdout`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::write_stdout(format_args!($($arg)*)) };
}

/// `println!` through [`write_stdout`].
#[macro_export]
macro_rules! outln {
    () => { $crate::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// A progress line on standard error, rewritten in place (`\r`), only when standard error is
/// a terminal: redirected to a file or a pipe it would be a heap of `\r`-joined lines.
pub fn progress(line: std::fmt::Arguments<'_>) {
    use std::io::IsTerminal as _;
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    if err.is_terminal() {
        let _ = write!(err, "\r{line}   ");
        let _ = err.flush();
        PROGRESS_OPEN.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Ends an open [`progress`] line, so what is printed next starts on a line of its own.
pub fn progress_end() {
    if PROGRESS_OPEN.swap(false, std::sync::atomic::Ordering::Relaxed) {
        eprintln!();
    }
}

/// The last line of a [`progress`]: it replaces the open progress line on a terminal, and is
/// a line of its own anywhere else.
pub fn progress_done(line: std::fmt::Arguments<'_>) {
    if PROGRESS_OPEN.swap(false, std::sync::atomic::Ordering::Relaxed) {
        eprint!("\r");
    }
    eprintln!("{line}");
}

static PROGRESS_OPEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub mod cmd;
pub mod color;
pub mod daemon;
pub mod device;
pub mod error;
pub mod pcap_decode;
