//! Colour, only where a person reads it: `--color auto` (the default) colours a stream that is
//! a terminal, unless `NO_COLOR` is set to anything non-empty or `TERM` is `dumb`;
//! `--color always` colours even a pipe (an explicit flag wins over `NO_COLOR`, as
//! <https://no-color.org> asks); `--color never` never does.
//!
//! What is coloured, modestly: the `sixgate:` of an error and the `warning:` of a warning
//! (standard error), table header lines, the section lines of `stats` and its non-zero drop
//! counters (standard output). Nothing that a script parses changes: `--json` output is never
//! coloured, and a table's cells are never wrapped (their widths stay the text's).

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};

/// `--color`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour a terminal, unless NO_COLOR is set or TERM=dumb.
    #[default]
    Auto,
    /// Colour even a pipe or a file (wins over NO_COLOR).
    Always,
    /// No colour.
    Never,
}

/// Which output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// What a piece of text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// The program name before an error (bold red).
    Error,
    /// `warning` (bold yellow).
    Warning,
    /// A table header or section line (bold).
    Header,
    /// A drop counter that is not zero (red).
    Drop,
}

impl Style {
    /// The SGR parameters.
    fn sgr(self) -> &'static str {
        match self {
            Style::Error => "1;31",
            Style::Warning => "1;33",
            Style::Header => "1",
            Style::Drop => "31",
        }
    }
}

static STDOUT: AtomicBool = AtomicBool::new(false);
static STDERR: AtomicBool = AtomicBool::new(false);

/// Whether `choice` colours a stream, given whether it is a terminal and the environment
/// (`NO_COLOR`, `TERM`).
pub fn decide(
    choice: ColorChoice,
    terminal: bool,
    no_color: Option<&str>,
    term: Option<&str>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && no_color.is_none_or(str::is_empty) && term != Some("dumb"),
    }
}

/// Decides, once at start, whether standard output and standard error are coloured (until
/// then, neither is).
pub fn init(choice: ColorChoice) {
    let no_color = std::env::var("NO_COLOR").ok();
    let term = std::env::var("TERM").ok();
    let pick = |tty| decide(choice, tty, no_color.as_deref(), term.as_deref());
    STDOUT.store(pick(std::io::stdout().is_terminal()), Ordering::Relaxed);
    STDERR.store(pick(std::io::stderr().is_terminal()), Ordering::Relaxed);
}

/// Whether `stream` is coloured.
pub fn enabled(stream: Stream) -> bool {
    match stream {
        Stream::Stdout => STDOUT.load(Ordering::Relaxed),
        Stream::Stderr => STDERR.load(Ordering::Relaxed),
    }
}

/// `text` in `style` when `stream` is coloured, else as it is.
pub fn paint(stream: Stream, style: Style, text: &str) -> String {
    if enabled(stream) && !text.is_empty() {
        format!("\x1b[{}m{text}\x1b[0m", style.sgr())
    } else {
        text.to_string()
    }
}

/// Prints `warning: MESSAGE` on standard error.
pub fn warn(message: std::fmt::Arguments<'_>) {
    eprintln!(
        "{}: {message}",
        paint(Stream::Stderr, Style::Warning, "warning")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_a_terminal_only_and_no_color_is_respected() {
        use ColorChoice::*;
        assert!(decide(Auto, true, None, Some("xterm")));
        assert!(!decide(Auto, false, None, Some("xterm")));
        assert!(!decide(Auto, true, Some("1"), None));
        assert!(!decide(Auto, true, Some("0"), None), "any value");
        assert!(
            decide(Auto, true, Some(""), None),
            "empty is unset (no-color.org)"
        );
        assert!(!decide(Auto, true, None, Some("dumb")));
        assert!(
            decide(Always, false, Some("1"), Some("dumb")),
            "the flag wins"
        );
        assert!(!decide(Never, true, None, None));
    }

    #[test]
    fn nothing_is_painted_until_enabled() {
        assert_eq!(paint(Stream::Stdout, Style::Header, "NAME"), "NAME");
    }
}
