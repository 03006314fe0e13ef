//! A small `__udivmoddi4`: 64-bit division in about 150 bytes of flash instead of
//! compiler-builtins' 900 (its `u64_div_rem` is unrolled for speed).
//!
//! compiler-builtins exports `__udivmoddi4` as a weak symbol; this strong definition replaces
//! it, and its weak `__aeabi_uldivmod` (what LLVM calls for every `u64` `/` and `%` on this
//! target) calls it. Callers: embassy-time's nanosecond conversion (SPI delays), smoltcp's
//! `Instant` seconds and milliseconds, registration lifetimes, the main loop's timers: a few
//! per packet at most, none per byte. The division itself is `divide::div_rem` (shared,
//! tested on the host).

#[path = "../../common/divide.rs"]
mod divide;

/// The C intrinsic: `a / b`, with `a % b` stored through `rem` when it is not null.
///
/// # Safety
/// `rem` is null or valid for a `u64` write (compiler-builtins' `__aeabi_uldivmod` passes a
/// stack slot).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __udivmoddi4(a: u64, b: u64, rem: *mut u64) -> u64 {
    let (q, r) = divide::div_rem(a, b);
    if !rem.is_null() {
        // SAFETY: the caller's contract (above).
        unsafe { rem.write(r) };
    }
    q
}
