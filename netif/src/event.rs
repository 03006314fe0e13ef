//! Events: a bounded queue of state changes (interface up/down, address added/removed, route
//! added/removed) that the application drains. Overflow drops the newest event and is
//! counted; it never blocks the core.

use core::net::Ipv6Addr;

use crate::addr::Prefix;
use crate::iface::IfIndex;

/// A state change of the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// Placeholder for empty queue storage; never returned.
    None,
    /// Interface can pass traffic now.
    IfaceUp(IfIndex),
    /// Interface stopped passing traffic.
    IfaceDown(IfIndex),
    /// Address assigned.
    AddrAdded(IfIndex, Ipv6Addr),
    /// Address removed (by the operator or on lifetime expiry).
    AddrRemoved(IfIndex, Ipv6Addr),
    /// Address became deprecated (preferred lifetime over).
    AddrDeprecated(IfIndex, Ipv6Addr),
    /// Route installed.
    RouteAdded(Prefix, Option<IfIndex>),
    /// Route removed (or expired).
    RouteRemoved(Prefix, Option<IfIndex>),
}

#[derive(Debug)]
pub(crate) struct EventQueue<'r> {
    buf: &'r mut [Event],
    head: usize,
    len: usize,
    pub(crate) overflowed: u32,
}

impl<'r> EventQueue<'r> {
    pub(crate) fn new(buf: &'r mut [Event]) -> Self {
        EventQueue {
            buf,
            head: 0,
            len: 0,
            overflowed: 0,
        }
    }
    pub(crate) fn push(&mut self, e: Event) {
        let cap = self.buf.len();
        if self.len >= cap {
            self.overflowed = self.overflowed.wrapping_add(1);
            return;
        }
        if let Some(s) = self.buf.get_mut((self.head + self.len) % cap) {
            *s = e;
            self.len += 1;
        }
    }
    pub(crate) fn pop(&mut self) -> Option<Event> {
        if self.len == 0 {
            return None;
        }
        let e = self.buf.get(self.head).copied();
        self.head = (self.head + 1) % self.buf.len();
        self.len -= 1;
        e
    }
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_fifo_counts_overflow() {
        let mut st = [Event::None; 2];
        let mut q = EventQueue::new(&mut st);
        q.push(Event::IfaceUp(IfIndex(0)));
        q.push(Event::IfaceUp(IfIndex(1)));
        q.push(Event::IfaceUp(IfIndex(2)));
        assert_eq!(q.overflowed, 1);
        assert_eq!(q.pop(), Some(Event::IfaceUp(IfIndex(0))));
        q.push(Event::IfaceDown(IfIndex(0)));
        assert_eq!(q.pop(), Some(Event::IfaceUp(IfIndex(1))));
        assert_eq!(q.pop(), Some(Event::IfaceDown(IfIndex(0))));
        assert_eq!(q.pop(), None);
    }
}
