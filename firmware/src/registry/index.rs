//! An open-addressing hash index from an IPv6 address to a position in someone else's array.
//!
//! [`Index<I>`](Index) is `I` slots of `u16` ([`EMPTY`] marks a free slot), inline and without
//! heap. It stores positions, not keys: every method that needs the key at a position asks the
//! caller through a `key_at` closure, so the owner keeps its records wherever it likes (the
//! registration table keeps them dense in an array) and the index knows nothing about them.
//!
//! - `I` is a power of two ([`Index::new`] checks it at compile time); the owner keeps the
//!   load factor low (at most ½ for the registration table), so a probe always ends on an
//!   empty slot.
//! - Lookups probe linearly from the key's home slot ([`Index::probe`]).
//! - Deletion uses *backward shift* (Knuth's Algorithm R, [`Index::unlink`]): the entries
//!   after the hole that may legally move back are moved, so there are no tombstones and
//!   probe sequences never grow with churn.
//!
//! The home slot comes from a two-round multiply/xor-shift mixer of the address's two 64-bit
//! halves, chosen so that addresses differing in any single byte (sequential IIDs, IIDs derived
//! from 16-bit short addresses) spread evenly; the registry's tests bound the longest probe at
//! full load. The hash is unkeyed: whoever crafts colliding addresses can lengthen probes, but
//! never beyond the number of positions stored.

use core::net::Ipv6Addr;

/// Marks an empty index slot (so a position is at most `u16::MAX - 1`).
pub(super) const EMPTY: u16 = u16::MAX;

/// Where a key is, or would go, in the index.
pub(super) enum Probe {
    /// The key at position `pos` is the key looked for.
    Found { pos: usize },
    /// Not present; slot `slot` is the empty slot ending its probe sequence.
    Vacant { slot: usize },
}

/// `I` slots, each empty or holding a position (see the [module documentation](self)).
pub(super) struct Index<const I: usize> {
    slots: [u16; I],
}

impl<const I: usize> Index<I> {
    /// An empty index; `const`, so it can initialise a `static`.
    ///
    /// Fails to compile unless `I` is a power of two.
    pub(super) const fn new() -> Self {
        const {
            assert!(I.is_power_of_two(), "Registry: I must be a power of two");
        }
        Index { slots: [EMPTY; I] }
    }

    /// The raw slots, for invariant checks.
    #[cfg(test)]
    pub(super) fn iter(&self) -> core::slice::Iter<'_, u16> {
        self.slots.iter()
    }

    /// The key's home slot.
    pub(super) fn home(key: &Ipv6Addr) -> usize {
        let bits = key.to_bits();
        let (hi, lo) = ((bits >> 64) as u64, bits as u64);
        // A bijection of either half when the other is fixed (odd multiplier, xor), so a
        // family that varies in one half never collides before the finaliser ...
        let mut h = hi.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ lo;
        // ... and MurmurHash3's fmix64, whose every output bit depends on every input bit.
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^= h >> 33;
        (h as usize) & I.wrapping_sub(1)
    }

    /// Finds `key`; `key_at(pos)` is the key stored at `pos` (`None` for no such position).
    /// `None` only if the index is corrupt (full, or out of range), which the owner's load
    /// factor rules out.
    pub(super) fn probe<'k>(
        &self,
        key: &Ipv6Addr,
        key_at: impl Fn(usize) -> Option<&'k Ipv6Addr>,
    ) -> Option<Probe> {
        let mask = I.wrapping_sub(1);
        let mut slot = Self::home(key);
        for _ in 0..I {
            let p = *self.slots.get(slot)?;
            if p == EMPTY {
                return Some(Probe::Vacant { slot });
            }
            let pos = usize::from(p);
            if key_at(pos).is_some_and(|k| k == key) {
                return Some(Probe::Found { pos });
            }
            slot = slot.wrapping_add(1) & mask;
        }
        None
    }

    /// The slot that points at `pos`, whose key is `key`: along `key`'s probe sequence, or by
    /// a scan of the whole index should the key stored at `pos` have changed.
    pub(super) fn slot_of(&self, key: &Ipv6Addr, pos: usize) -> Option<usize> {
        let target = u16::try_from(pos).ok()?;
        let mask = I.wrapping_sub(1);
        let mut slot = Self::home(key);
        for _ in 0..I {
            match *self.slots.get(slot)? {
                EMPTY => break,
                p if p == target => return Some(slot),
                _ => slot = slot.wrapping_add(1) & mask,
            }
        }
        self.slots.iter().position(|&p| p == target)
    }

    /// Makes `slot` point at `pos`; `None` (nothing written) when `slot` is out of range or
    /// `pos` does not fit a slot.
    pub(super) fn point(&mut self, slot: usize, pos: usize) -> Option<()> {
        let s = self.slots.get_mut(slot)?;
        *s = u16::try_from(pos).ok()?;
        Some(())
    }

    /// Empties slot `hole` by backward shift: each following entry of the cluster that may
    /// legally sit at the hole (its home is not between the hole and its slot) moves back,
    /// leaving no tombstone. `key_at(pos)` is the key stored at `pos`.
    pub(super) fn unlink<'k>(
        &mut self,
        mut hole: usize,
        key_at: impl Fn(usize) -> Option<&'k Ipv6Addr>,
    ) {
        let mask = I.wrapping_sub(1);
        let mut j = hole;
        for _ in 0..I {
            j = j.wrapping_add(1) & mask;
            let Some(&p) = self.slots.get(j) else { break };
            if p == EMPTY {
                break;
            }
            let Some(key) = key_at(usize::from(p)) else {
                break;
            };
            let from_home = j.wrapping_sub(Self::home(key)) & mask;
            let from_hole = j.wrapping_sub(hole) & mask;
            if from_home >= from_hole {
                if let Some(h) = self.slots.get_mut(hole) {
                    *h = p;
                }
                hole = j;
            }
        }
        if let Some(h) = self.slots.get_mut(hole) {
            *h = EMPTY;
        }
    }

    /// The longest probe sequence: how many slots the slowest successful lookup examines (0
    /// when empty). `key_at(pos)` is the key stored at `pos`. O(I).
    pub(super) fn max_probe_len<'k>(
        &self,
        key_at: impl Fn(usize) -> Option<&'k Ipv6Addr>,
    ) -> usize {
        let mask = I.wrapping_sub(1);
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(slot, &p)| {
                let key = key_at(usize::from(p))?;
                Some((slot.wrapping_sub(Self::home(key)) & mask).wrapping_add(1))
            })
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "std"))]
    extern crate std;

    use super::*;
    use std::vec::Vec;

    type Small = Index<8>;

    /// The index plus the owner's array of keys (position = index in `keys`).
    struct Table {
        index: Small,
        keys: Vec<Ipv6Addr>,
    }

    impl Table {
        fn new() -> Table {
            Table {
                index: Small::new(),
                keys: Vec::new(),
            }
        }
        fn find(&self, key: &Ipv6Addr) -> Option<Probe> {
            let keys = &self.keys;
            self.index.probe(key, |pos| keys.get(pos))
        }
        fn insert(&mut self, key: Ipv6Addr) {
            let Some(Probe::Vacant { slot }) = self.find(&key) else {
                panic!("{key} present or index full");
            };
            self.index.point(slot, self.keys.len()).unwrap();
            self.keys.push(key);
        }
        /// Removes `key` the way the registration table does: unlink its slot, move the last
        /// key into its position.
        fn remove(&mut self, key: &Ipv6Addr) {
            let Some(Probe::Found { pos }) = self.find(key) else {
                panic!("{key} absent");
            };
            let slot = self.index.slot_of(key, pos).unwrap();
            let keys = &self.keys;
            self.index.unlink(slot, |p| keys.get(p));
            let last = self.keys.len() - 1;
            if pos != last {
                let moved = self.keys[last];
                let moved_slot = self.index.slot_of(&moved, last).unwrap();
                self.keys[pos] = moved;
                self.index.point(moved_slot, pos).unwrap();
            }
            self.keys.pop();
        }
        fn check(&self) {
            let occupied = self.index.iter().filter(|&&p| p != EMPTY).count();
            assert_eq!(occupied, self.keys.len(), "no tombstones, no lost slots");
            for (pos, key) in self.keys.iter().enumerate() {
                assert!(matches!(self.find(key), Some(Probe::Found { pos: p }) if p == pos));
            }
        }
    }

    fn key(i: u16) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i)
    }

    /// The first `n` keys whose home slot in [`Small`] is `home`.
    fn colliding(home: usize, n: usize) -> Vec<Ipv6Addr> {
        (0..u16::MAX)
            .map(key)
            .filter(|k| Small::home(k) == home)
            .take(n)
            .collect()
    }

    #[test]
    fn empty_index_finds_nothing() {
        let t = Table::new();
        assert!(
            matches!(t.find(&key(1)), Some(Probe::Vacant { slot }) if slot == Small::home(&key(1)))
        );
        assert_eq!(t.index.max_probe_len(|_| None), 0);
        t.check();
    }

    #[test]
    fn inserted_keys_are_found_at_their_positions() {
        let mut t = Table::new();
        for i in 1..=4 {
            t.insert(key(i));
            t.check();
        }
        assert!(matches!(t.find(&key(5)), Some(Probe::Vacant { .. })));
    }

    #[test]
    fn collisions_probe_linearly_and_backward_shift_leaves_no_tombstone() {
        let ks = colliding(6, 4);
        let mut t = Table::new();
        for k in &ks {
            t.insert(*k);
        }
        // Home 6 of 8 slots: the cluster wraps around to slots 0 and 1.
        let keys = &t.keys;
        assert_eq!(t.index.max_probe_len(|p| keys.get(p)), 4);
        t.check();
        t.remove(&ks[0]);
        t.check();
        let keys = &t.keys;
        assert_eq!(t.index.max_probe_len(|p| keys.get(p)), 3, "shifted back");
        t.remove(&ks[2]);
        t.remove(&ks[3]);
        t.check();
        t.remove(&ks[1]);
        assert!(t.index.iter().all(|&p| p == EMPTY));
    }

    #[test]
    fn slot_of_scans_when_the_key_changed() {
        let mut t = Table::new();
        t.insert(key(1));
        t.insert(key(2));
        let Some(Probe::Found { pos }) = t.find(&key(2)) else {
            panic!("key(2) stored");
        };
        let slot = t.index.slot_of(&key(2), pos).unwrap();
        assert_eq!(t.index.slot_of(&key(999), pos), Some(slot));
        assert_eq!(t.index.slot_of(&key(2), 7), None, "no slot points at 7");
    }

    #[test]
    fn point_refuses_what_does_not_fit() {
        let mut index = Small::new();
        assert_eq!(index.point(8, 0), None, "slot out of range");
        assert_eq!(index.point(0, 70_000), None, "position beyond u16");
        assert!(index.iter().all(|&p| p == EMPTY), "nothing written");
        assert_eq!(index.point(0, 3), Some(()));
        assert_eq!(index.iter().next(), Some(&3));
    }
}
