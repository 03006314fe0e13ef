//! Lollipop sequence counters (RFC 6550 §7.2): the DODAG Version Number, the DTSN, the
//! DAOSequence and the Path Sequence.
//!
//! The 8-bit space is a linear region 128..=255, where a counter starts after a reboot
//! (RFC 6550 recommends 256 − [`SEQUENCE_WINDOW`] = 240), followed by a circular region
//! 0..=127 that it enters after 255 and never leaves. Two values are compared within
//! [`SEQUENCE_WINDOW`]; values further apart in the same region are not comparable (the
//! counters are desynchronised) and the caller decides (usually: the one received last wins).
//! In the circular region the distance is taken modulo 128 (RFC 1982 arithmetic), so 0 is
//! newer than 127, as a counter that wrapped expects.

use core::cmp::Ordering;

/// SEQUENCE_WINDOW of RFC 6550 §7.2.
pub const SEQUENCE_WINDOW: u8 = 16;

/// Where a lollipop counter starts: 256 − [`SEQUENCE_WINDOW`] (RFC 6550 §7.2).
pub const INITIAL: u8 = 240;

/// A lollipop counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Lollipop(pub u8);

impl Default for Lollipop {
    fn default() -> Self {
        Lollipop(INITIAL)
    }
}

impl Lollipop {
    /// The next value: +1, except that 255 is followed by 0 and 127 by 0 (the circular
    /// region wraps onto itself).
    pub const fn next(self) -> Lollipop {
        Lollipop(match self.0 {
            127 | 255 => 0,
            v => v + 1,
        })
    }

    /// Moves to the next value and returns it.
    pub fn increment(&mut self) -> Lollipop {
        *self = self.next();
        *self
    }

    /// RFC 6550 §7.2: `Some(Greater)` when `self` is newer than `other`, `Some(Less)` when
    /// older, `Some(Equal)` when the same, `None` when the two cannot be compared.
    pub fn compare(self, other: Lollipop) -> Option<Ordering> {
        compare(self.0, other.0)
    }

    /// Whether `self` is strictly newer than `other` (not comparable counts as not newer).
    pub fn is_newer_than(self, other: Lollipop) -> bool {
        self.compare(other) == Some(Ordering::Greater)
    }
}

/// The comparison of RFC 6550 §7.2 on raw counter values; see [`Lollipop::compare`].
///
/// - `a` linear (128..=255) and `b` circular (0..=127): `b` is newer iff
///   `256 + b − a <= SEQUENCE_WINDOW` (the counter just wrapped out of the linear region);
///   otherwise `a` is newer (the node rebooted). Always comparable.
/// - Both linear: comparable iff `|a − b| <= SEQUENCE_WINDOW`, the larger newer.
/// - Both circular: serial arithmetic modulo 128: with `d = (a − b) mod 128`, `a` is newer
///   iff `1 <= d <= SEQUENCE_WINDOW`, older iff `1 <= 128 − d <= SEQUENCE_WINDOW`, else not
///   comparable.
pub fn compare(a: u8, b: u8) -> Option<Ordering> {
    const LINEAR: u8 = 128;
    let window = u16::from(SEQUENCE_WINDOW);
    match (a >= LINEAR, b >= LINEAR) {
        (true, false) => {
            // 256 + b − a with a in 128..=255, b in 0..=127: 1..=255.
            let gap = 256u16 - u16::from(a) + u16::from(b);
            Some(if gap <= window {
                Ordering::Less
            } else {
                Ordering::Greater
            })
        }
        (false, true) => compare(b, a).map(Ordering::reverse),
        (true, true) => (a.abs_diff(b) <= SEQUENCE_WINDOW).then(|| a.cmp(&b)),
        (false, false) => {
            let d = a.wrapping_sub(b) & 0x7f;
            if d == 0 {
                Some(Ordering::Equal)
            } else if d <= SEQUENCE_WINDOW {
                Some(Ordering::Greater)
            } else if 128 - d <= SEQUENCE_WINDOW {
                Some(Ordering::Less)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cmp::Ordering::*;

    /// An independent reading of RFC 6550 §7.2, written case by case with integer arithmetic
    /// in i32. One choice: in the circular region the difference is taken modulo 128 (RFC 1982
    /// serial arithmetic with 7 bits), so 0 follows 127 as the counter wraps; the RFC's
    /// "absolute magnitude of the difference" read literally would make 127 and 0
    /// incomparable right after every wrap. Contiki-NG's RPL_LOLLIPOP_GREATER_THAN reads it
    /// the same way.
    fn rfc(a: u8, b: u8) -> Option<Ordering> {
        let (ai, bi, w) = (i32::from(a), i32::from(b), i32::from(SEQUENCE_WINDOW));
        if a == b {
            return Some(Equal);
        }
        if ai >= 128 && bi <= 127 {
            // "If A is in [128..255] and B in [0..127]: if 256 + B − A <= W, B > A, else A > B"
            return Some(if 256 + bi - ai <= w { Less } else { Greater });
        }
        if bi >= 128 && ai <= 127 {
            return Some(if 256 + ai - bi <= w { Greater } else { Less });
        }
        if ai >= 128 {
            // Both in the linear region: "If |A − B| > W, not comparable"; else plain order.
            return if (ai - bi).abs() > w {
                None
            } else {
                Some(ai.cmp(&bi))
            };
        }
        // Both in the circular region: serial number arithmetic (RFC 1982) with SERIAL_BITS 7.
        let d = (ai - bi).rem_euclid(128);
        if d > 0 && d <= w {
            Some(Greater)
        } else if d > 0 && 128 - d <= w {
            Some(Less)
        } else {
            None
        }
    }

    #[test]
    fn every_pair_agrees_with_the_rfc_reading() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(compare(a, b), rfc(a, b), "{a} vs {b}");
                assert_eq!(
                    compare(a, b),
                    compare(b, a).map(Ordering::reverse),
                    "antisymmetric {a} {b}"
                );
            }
        }
    }

    #[test]
    fn named_cases_of_the_rfc() {
        // Just wrapped: 0 follows 255.
        assert_eq!(compare(0, 255), Some(Greater));
        assert_eq!(compare(0, 240), Some(Greater), "16 steps after 240");
        assert_eq!(
            compare(1, 240),
            Some(Less),
            "17 steps: a reboot back to 240 wins"
        );
        // The circular region wraps at 127.
        assert_eq!(compare(0, 127), Some(Greater));
        assert_eq!(compare(16, 0), Some(Greater));
        assert_eq!(compare(17, 0), None, "beyond the window");
        assert_eq!(compare(200, 240), None, "linear, too far apart");
        assert_eq!(compare(241, 240), Some(Greater));
    }

    #[test]
    fn increments_walk_out_of_the_linear_region_and_around_the_circle() {
        let mut c = Lollipop::default();
        assert_eq!(c.0, 240);
        for _ in 0..15 {
            let before = c;
            assert!(c.increment().is_newer_than(before));
        }
        assert_eq!(c.0, 255);
        assert_eq!(c.increment().0, 0);
        let mut c = Lollipop(127);
        assert_eq!(c.increment().0, 0);
        // Every step is newer than the previous one, all the way round twice.
        let mut c = Lollipop(128);
        for _ in 0..512 {
            let before = c;
            assert!(c.increment().is_newer_than(before), "{before:?}");
        }
    }
}
