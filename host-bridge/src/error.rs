//! CLI errors and their exit codes: 0 ok, 1 the command failed (on the device or the host),
//! 2 invalid input (a bad command line, a value out of range, an unknown interface), whether
//! `sixgate` or the device finds it, 3 no, unresponsive or incompatible device, or a session
//! another client took over.

use std::fmt;

use mgmt::ErrorCode;

/// Why a command failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CliError {
    /// Bad command line or invalid input (exit 2).
    Usage(String),
    /// The device answered with an error (exit 2 when it refused the input as invalid or
    /// named an unknown interface, else 1).
    Device {
        /// Its code.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
    /// No device, or it stopped answering (exit 3).
    NoDevice {
        /// The port.
        port: String,
        /// What happened.
        why: String,
    },
    /// Another client shook hands with the device, ending this session (exit 3).
    TakenOver {
        /// The port.
        port: String,
    },
    /// The device speaks another protocol version or schema (exit 3).
    Incompatible {
        /// The port.
        port: String,
        /// What differs and what to do.
        why: String,
    },
    /// Anything else (exit 1): files, unexpected answers.
    Other(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_)
            | CliError::Device {
                code: ErrorCode::InvalidArgument | ErrorCode::NoSuchIface,
                ..
            } => 2,
            CliError::Device { .. } | CliError::Other(_) => 1,
            CliError::NoDevice { .. }
            | CliError::TakenOver { .. }
            | CliError::Incompatible { .. } => 3,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m}"),
            CliError::Device { code, message } => {
                write!(f, "device: {} ({message})", crate::device::code_text(*code))
            }
            CliError::NoDevice { port, why } => write!(f, "{port}: {why}"),
            CliError::TakenOver { port } => write!(
                f,
                "{port}: another client took over the management session (the device ended \
                 this one: its subscriptions, capture and requests in flight are gone)"
            ),
            CliError::Incompatible { port, why } => write!(f, "{port}: incompatible device: {why}"),
            CliError::Other(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for CliError {}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Other(e.to_string())
    }
}
