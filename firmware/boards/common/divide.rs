//! 64-bit unsigned division in a few dozen instructions: the body of the nRF52840 image's
//! `__udivmoddi4` (see `nrf52840/src/intrinsics.rs`), here without `unsafe` so that the host
//! tests (`firmware/tests/board_divide.rs`) check it against Rust's own division.

/// `n / d` and `n % d` by shift and subtract: one step per quotient bit, so small quotients
/// (the usual unit conversions) take few. `d == 0` gives `(u64::MAX, n)` (Rust checks for a
/// zero divisor before it calls the intrinsic: that never reaches here).
pub fn div_rem(n: u64, d: u64) -> (u64, u64) {
    if d == 0 {
        return (u64::MAX, n);
    }
    if n < d {
        return (0, n);
    }
    // Line d's top bit up with n's (n >= d > 0: the shift is 0..=63), then one quotient bit
    // per step, highest first.
    let mut steps = d.leading_zeros() - n.leading_zeros();
    let mut d = d << steps;
    let (mut q, mut r) = (0u64, n);
    loop {
        q <<= 1;
        if r >= d {
            r -= d;
            q |= 1;
        }
        if steps == 0 {
            return (q, r);
        }
        steps -= 1;
        d >>= 1;
    }
}
