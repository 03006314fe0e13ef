//! The nRF52840 image's 64-bit division (`boards/common/divide.rs`, behind its
//! `__udivmoddi4`) against Rust's own `/` and `%`.

#[path = "../boards/common/divide.rs"]
mod divide;

use divide::div_rem;

fn check(n: u64, d: u64) {
    assert_eq!(div_rem(n, d), (n / d, n % d), "{n} / {d}");
}

#[test]
fn edges() {
    let edges = [
        0,
        1,
        2,
        3,
        999,
        1000,
        1_000_000,
        1_953_125,
        u64::from(u32::MAX) - 1,
        u64::from(u32::MAX),
        u64::from(u32::MAX) + 1,
        1 << 62,
        (1 << 63) - 1,
        1 << 63,
        (1 << 63) + 1,
        u64::MAX - 1,
        u64::MAX,
    ];
    for n in edges {
        for d in edges.into_iter().filter(|&d| d != 0) {
            check(n, d);
        }
    }
    assert_eq!(
        div_rem(7, 0),
        (u64::MAX, 7),
        "a zero divisor does not panic"
    );
}

#[test]
fn random_operands_of_every_width() {
    // xorshift64: seeded, so a failure replays.
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for _ in 0..200_000 {
        let (a, b, w) = (next(), next(), next());
        // Widths 1..=64 bits each, so quotients of every length come up.
        let n = a >> (w % 64);
        let d = (b >> ((w >> 8) % 64)).max(1);
        check(n, d);
    }
}
