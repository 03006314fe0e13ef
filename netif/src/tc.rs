//! Traffic classes: a DSCP → class map and per-interface, per-class bounded TX queues with
//! strict-priority dequeue (the highest class first) and counted tail drop.
//!
//! The default map groups DSCPs like RFC 8325 groups them into the eight 802.11 user
//! priorities, then orders those by 802.1D priority (background lowest, network control
//! highest), so class 0 is the least urgent.

use crate::config::{MAX_CLASSES, MAX_IFACES};
use crate::iface::IfIndex;
use crate::pool::PacketHandle;

/// DSCP (0..=63) → traffic class (0 = lowest priority).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DscpMap {
    map: [u8; 64],
}

impl DscpMap {
    /// Every DSCP to class 0.
    pub const fn single() -> Self {
        DscpMap { map: [0; 64] }
    }

    /// The RFC 8325 grouping folded into `classes` classes (1..=8).
    ///
    /// RFC 8325 §4 maps DSCP to 802.11 user priority (UP): CS1 and LE → UP 1 (background);
    /// DF, AF1x, CS2 → UP 0 (best effort); AF2x → UP 3; CS3, AF3x, CS4, AF4x → UP 4; CS5 → UP 5;
    /// EF and VOICE-ADMIT → UP 6; CS6 → UP 7; CS7 and unlisted code points → UP 0. The UPs are
    /// then ranked by 802.1D priority (1 < 0 < 2 < … < 7) and scaled to `classes`.
    pub fn rfc8325(classes: u8) -> Self {
        let classes = classes.clamp(1, MAX_CLASSES as u8);
        let mut map = [0u8; 64];
        for (dscp, slot) in map.iter_mut().enumerate() {
            let up: u8 = match dscp {
                1 | 8 => 1,
                18 | 20 | 22 => 3,
                24 | 26 | 28 | 30 | 32 | 34 | 36 | 38 => 4,
                40 => 5,
                44 | 46 => 6,
                48 => 7,
                _ => 0,
            };
            // 802.1D rank: UP1 (BK) lowest, then UP0 (BE), then UP2..UP7.
            let rank = match up {
                1 => 0,
                0 => 1,
                n => n,
            };
            *slot = rank * classes / MAX_CLASSES as u8;
        }
        DscpMap { map }
    }

    /// Set one code point's class.
    pub fn set(&mut self, dscp: u8, class: u8) {
        if let Some(c) = self.map.get_mut(usize::from(dscp)) {
            *c = class.min(MAX_CLASSES as u8 - 1);
        }
    }

    /// The class of a DSCP (the 6 high bits of the IPv6 traffic class).
    pub fn class_of(&self, dscp: u8) -> u8 {
        self.map.get(usize::from(dscp & 0x3f)).copied().unwrap_or(0)
    }
}

impl Default for DscpMap {
    fn default() -> Self {
        Self::rfc8325(MAX_CLASSES as u8)
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Ring {
    head: u16,
    len: u16,
}

/// Per-interface, per-class rings of packet handles, over storage from
/// [`crate::Resources`].
#[derive(Debug)]
pub(crate) struct TxQueues<'r> {
    slots: &'r mut [Option<PacketHandle>],
    depth: usize,
    /// Packets one interface may have queued, all classes together.
    limit: usize,
    queued: [usize; MAX_IFACES],
    rings: [[Ring; MAX_CLASSES]; MAX_IFACES],
}

impl<'r> TxQueues<'r> {
    /// Queues over `slots`, at most `limit` packets per interface.
    pub(crate) fn new(slots: &'r mut [Option<PacketHandle>], limit: usize) -> Self {
        let depth = slots.len() / (MAX_IFACES * MAX_CLASSES);
        TxQueues {
            slots,
            depth,
            limit,
            queued: [0; MAX_IFACES],
            rings: [[Ring::default(); MAX_CLASSES]; MAX_IFACES],
        }
    }

    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    fn base(&self, iface: IfIndex, class: usize) -> usize {
        (iface.get() * MAX_CLASSES + class) * self.depth
    }

    /// Queue `pkt`; gives it back when the class queue is full (or the indices are bad).
    pub(crate) fn push(
        &mut self,
        iface: IfIndex,
        class: u8,
        pkt: PacketHandle,
    ) -> Result<(), PacketHandle> {
        let c = usize::from(class).min(MAX_CLASSES - 1);
        let base = self.base(iface, c);
        let depth = self.depth;
        let (Some(ring), Some(queued)) = (
            self.rings.get_mut(iface.get()).and_then(|r| r.get_mut(c)),
            self.queued.get_mut(iface.get()),
        ) else {
            return Err(pkt);
        };
        if usize::from(ring.len) >= depth || *queued >= self.limit {
            return Err(pkt);
        }
        let pos = base + (usize::from(ring.head) + usize::from(ring.len)) % depth;
        match self.slots.get_mut(pos) {
            Some(s @ None) => {
                *s = Some(pkt);
                ring.len += 1;
                *queued += 1;
                Ok(())
            }
            _ => Err(pkt),
        }
    }

    /// Dequeue from the highest non-empty class.
    pub(crate) fn pop(&mut self, iface: IfIndex) -> Option<PacketHandle> {
        let depth = self.depth;
        let rings = self.rings.get_mut(iface.get())?;
        let queued = self.queued.get_mut(iface.get())?;
        for c in (0..MAX_CLASSES).rev() {
            let ring = rings.get_mut(c)?;
            if ring.len == 0 {
                continue;
            }
            let pos = (iface.get() * MAX_CLASSES + c) * depth + usize::from(ring.head);
            let pkt = self.slots.get_mut(pos)?.take();
            ring.head = ((usize::from(ring.head) + 1) % depth) as u16;
            ring.len -= 1;
            *queued = queued.saturating_sub(1);
            if pkt.is_some() {
                return pkt;
            }
        }
        None
    }

    /// Packets queued on an interface, per class.
    pub(crate) fn lens(&self, iface: IfIndex) -> [u16; MAX_CLASSES] {
        let mut out = [0; MAX_CLASSES];
        if let Some(r) = self.rings.get(iface.get()) {
            for (o, ring) in out.iter_mut().zip(r) {
                *o = ring.len;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8325_grouping() {
        let m = DscpMap::rfc8325(8);
        // EF (46) above AF41 (34) above AF21 (18) above DF (0) above CS1 (8).
        let (ef, af41, af21, df, cs1) = (
            m.class_of(46),
            m.class_of(34),
            m.class_of(18),
            m.class_of(0),
            m.class_of(8),
        );
        assert!(
            ef > af41 && af41 > af21 && af21 > df && df > cs1,
            "{ef} {af41} {af21} {df} {cs1}"
        );
        assert_eq!(m.class_of(48), 7); // CS6: network control, top class.
        assert_eq!(m.class_of(8), 0);
        let two = DscpMap::rfc8325(2);
        assert_eq!((two.class_of(46), two.class_of(0)), (1, 0));
        assert_eq!(DscpMap::rfc8325(1).class_of(48), 0);
    }
}
