//! Logging shims: `trace!`, `debug!`, `info!`, `warn!`, `error!` go to `defmt`, to `log`, or
//! nowhere, chosen by the crate's features (the embassy-net `fmt.rs` pattern).
#![allow(unused_macros, unused_imports)]

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("features `defmt` and `log` are mutually exclusive: enable at most one");

macro_rules! trace {
    ($($t:tt)*) => {{
        #[cfg(feature = "defmt")]
        ::defmt::trace!($($t)*);
        #[cfg(feature = "log")]
        ::log::trace!($($t)*);
        #[cfg(not(any(feature = "defmt", feature = "log")))]
        { let _ = ($crate::fmt::Ignore, $($t)*); }
    }};
}

macro_rules! debug {
    ($($t:tt)*) => {{
        #[cfg(feature = "defmt")]
        ::defmt::debug!($($t)*);
        #[cfg(feature = "log")]
        ::log::debug!($($t)*);
        #[cfg(not(any(feature = "defmt", feature = "log")))]
        { let _ = ($crate::fmt::Ignore, $($t)*); }
    }};
}

macro_rules! info {
    ($($t:tt)*) => {{
        #[cfg(feature = "defmt")]
        ::defmt::info!($($t)*);
        #[cfg(feature = "log")]
        ::log::info!($($t)*);
        #[cfg(not(any(feature = "defmt", feature = "log")))]
        { let _ = ($crate::fmt::Ignore, $($t)*); }
    }};
}

macro_rules! warn {
    ($($t:tt)*) => {{
        #[cfg(feature = "defmt")]
        ::defmt::warn!($($t)*);
        #[cfg(feature = "log")]
        ::log::warn!($($t)*);
        #[cfg(not(any(feature = "defmt", feature = "log")))]
        { let _ = ($crate::fmt::Ignore, $($t)*); }
    }};
}

#[allow(dead_code)]
/// Placeholder that lets the no-logging arms evaluate (and so type-check) their arguments.
pub(crate) struct Ignore;
