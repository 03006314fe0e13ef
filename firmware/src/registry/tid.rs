//! The Transaction ID rules of RFC 8505 §5.2.1 (= RFC 6550 §7.2): the lollipop comparison
//! [`compare_tid`] with its [`TID_SEQUENCE_WINDOW`], and [`tid_stale`], the rule
//! [`Registry::register`](super::Registry::register) applies to an entry of the same owner.

use core::cmp::Ordering;

/// `SEQUENCE_WINDOW` of RFC 6550 §7.2 / RFC 8505 §5.2.1: how far apart two TIDs may be and
/// still be compared.
pub const TID_SEQUENCE_WINDOW: u8 = rpl::lollipop::SEQUENCE_WINDOW;

/// Compares two TIDs (lollipop counters) per RFC 8505 §5.2.1 (= RFC 6550 §7.2).
///
/// `Some(Greater)` means `a` is fresher than `b`; `None` means the two are not comparable
/// (desynchronised), in which case the caller should prefer the most recently received one.
///
/// - One in the linear region 128..=255 (`l`), one in the circular region 0..=127 (`c`):
///   `c` is fresher iff `256 + c - l <= 16` (the counter just wrapped from the end of the
///   linear region), otherwise `l` is fresher (the node rebooted). Always comparable.
/// - Both linear: comparable iff `|a - b| <= 16`, then the larger is fresher (the linear
///   region does not wrap: 255 is followed by 0, in the circular region).
/// - Both circular: RFC 1982 serial arithmetic in a space of 128: with `d = (a - b) mod 128`,
///   `a` is fresher iff `1 <= d <= 16`, `b` iff `1 <= 128 - d <= 16`; otherwise not
///   comparable. So 0 is fresher than 127 (the circular wrap).
pub fn compare_tid(a: u8, b: u8) -> Option<Ordering> {
    // The same counters as RPL's: one implementation, the `rpl` crate's (tested there on all
    // 65,536 pairs against a reading of RFC 6550 §7.2).
    rpl::lollipop::compare(a, b)
}

/// The TID rule of [`Registry::register`](super::Registry::register) for an entry of the
/// same owner (see the [registry documentation](super)): stale when older in the circular region 0..=127, or missing where the
/// owner used one. Older in the linear region 128..=255 is a reboot (only a node that
/// restarted its counter goes back there), and not stale.
pub(super) fn tid_stale(new: Option<u8>, stored: Option<u8>) -> bool {
    match (new, stored) {
        (None, Some(_)) => true,
        (Some(n), Some(o)) => n < 128 && compare_tid(n, o) == Some(Ordering::Less),
        _ => false,
    }
}
