//! The 6LoWPAN compression context table (RFC 6282 §3.1.2, RFC 6775 §4.2 / 6CO).
//!
//! Sixteen slots indexed by context identifier (CID 0–15). Each holds a prefix, its length in
//! bits, the "compression allowed" (C) flag and an expiry instant. Decompression uses every
//! present context (a context whose C flag is clear is still valid for decompression, as RFC 6775
//! requires); compression uses only contexts with C set. Lifetimes are enforced by calling
//! [`ContextTable::expire`] with the current time, so compression and decompression stay pure
//! functions of the table.

use netif::time::{Duration, Instant};

/// Number of contexts addressable by the 4-bit SCI/DCI fields.
pub const CONTEXT_COUNT: usize = 16;

/// One compression context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Context {
    /// The prefix; bits past `prefix_len` are ignored.
    pub prefix: [u8; 16],
    /// Prefix length in bits, 0–128.
    pub prefix_len: u8,
    /// The C flag: the context may be used for compression, not only decompression.
    pub compress: bool,
    /// When the context stops being valid; `None` means it never expires.
    pub valid_until: Option<Instant>,
}

impl Context {
    /// A context valid for compression and decompression that never expires.
    pub const fn new(prefix: [u8; 16], prefix_len: u8) -> Self {
        Context {
            prefix,
            prefix_len: if prefix_len > 128 { 128 } else { prefix_len },
            compress: true,
            valid_until: None,
        }
    }

    /// A context with a lifetime starting at `now` (as carried by a 6CO option).
    pub fn with_lifetime(mut self, now: Instant, lifetime: Duration) -> Self {
        self.valid_until = now.checked_add(lifetime);
        self
    }

    /// Whether the first `prefix_len` bits of `addr` equal the context prefix.
    pub fn matches(&self, addr: &[u8; 16]) -> bool {
        let bits = usize::from(self.prefix_len.min(128));
        let full = bits / 8;
        let rem = bits % 8;
        if addr.get(..full) != self.prefix.get(..full) {
            return false;
        }
        if rem == 0 {
            return true;
        }
        let mask = 0xffu8 << (8 - rem);
        match (addr.get(full), self.prefix.get(full)) {
            (Some(a), Some(p)) => a & mask == p & mask,
            _ => false,
        }
    }

    /// Overlay the context prefix onto `addr` (the first `prefix_len` bits are replaced).
    pub fn apply(&self, addr: &mut [u8; 16]) {
        let bits = usize::from(self.prefix_len.min(128));
        let full = bits / 8;
        let rem = bits % 8;
        for (a, p) in addr.iter_mut().zip(self.prefix.iter()).take(full) {
            *a = *p;
        }
        if rem != 0 {
            let mask = 0xffu8 << (8 - rem);
            if let (Some(a), Some(p)) = (addr.get_mut(full), self.prefix.get(full)) {
                *a = (*a & !mask) | (p & mask);
            }
        }
    }
}

/// The 16-entry context table, and the DODAG root's address that RFC 8138 elides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContextTable {
    entries: [Option<Context>; CONTEXT_COUNT],
    rpl_root: Option<[u8; 16]>,
}

impl ContextTable {
    /// An empty table (stateless compression only).
    pub const fn new() -> Self {
        ContextTable {
            entries: [None; CONTEXT_COUNT],
            rpl_root: None,
        }
    }

    /// The DODAG root's address (the DODAGID), the reference RFC 8138 compresses against: an
    /// IP-in-IP-6LoRH without encapsulator address names it, an inline encapsulator is
    /// coalesced with it, and a tunnel without SRH-6LoRH ends at it.
    pub const fn rpl_root(&self) -> Option<&[u8; 16]> {
        self.rpl_root.as_ref()
    }

    /// Set (or forget, with `None`) the DODAG root's address; see [`rpl_root`](Self::rpl_root).
    pub fn set_rpl_root(&mut self, root: Option<[u8; 16]>) {
        self.rpl_root = root;
    }

    /// The context with identifier `cid`, if present.
    pub fn get(&self, cid: u8) -> Option<&Context> {
        self.entries.get(usize::from(cid))?.as_ref()
    }

    /// Install or replace context `cid` (0–15). Returns `false` for a CID out of range.
    pub fn set(&mut self, cid: u8, ctx: Context) -> bool {
        match self.entries.get_mut(usize::from(cid)) {
            Some(e) => {
                *e = Some(ctx);
                true
            }
            None => false,
        }
    }

    /// Remove context `cid`.
    pub fn remove(&mut self, cid: u8) {
        if let Some(e) = self.entries.get_mut(usize::from(cid)) {
            *e = None;
        }
    }

    /// Remove every context whose lifetime ended at or before `now`; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut n = 0;
        for e in self.entries.iter_mut() {
            if let Some(Context {
                valid_until: Some(t),
                ..
            }) = e
                && *t <= now
            {
                *e = None;
                n += 1;
            }
        }
        n
    }

    /// Iterate over `(cid, context)` for the contexts usable for compression.
    pub fn compressible(&self) -> impl Iterator<Item = (u8, &Context)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().filter(|c| c.compress).map(|c| (i as u8, c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_and_apply_odd_length() {
        let mut p = [0u8; 16];
        p[0] = 0x20;
        p[1] = 0x01;
        p[2] = 0xab;
        let c = Context::new(p, 20);
        let mut a = [0u8; 16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0xaf;
        assert!(c.matches(&a));
        a[2] = 0xbb;
        assert!(!c.matches(&a));
        let mut z = [0xffu8; 16];
        c.apply(&mut z);
        assert_eq!(&z[..3], &[0x20, 0x01, 0xaf]);
    }

    #[test]
    fn expiry() {
        let mut t = ContextTable::new();
        t.set(
            3,
            Context::new([0; 16], 64).with_lifetime(Instant::ZERO, Duration::from_secs(60)),
        );
        assert_eq!(t.expire(Instant::from_secs(59)), 0);
        assert!(t.get(3).is_some());
        assert_eq!(t.expire(Instant::from_secs(60)), 1);
        assert!(t.get(3).is_none());
        assert!(!t.set(16, Context::new([0; 16], 64)));
    }
}
