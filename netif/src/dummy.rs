//! A dummy L2 for tests, examples and benchmarks, and the template for real ones.
//!
//! Frames are `dst (2 bytes) | src (2 bytes) | IPv6 packet`, addresses are 2-byte link
//! addresses like 802.15.4 short addresses (so link-local addresses derive from them), and
//! `ff:ff` is broadcast. Sent frames wait in a bounded outbox for the test to take
//! ([`DummyL2::take_tx`]); received frames are filtered by destination like a real link.
//! The next hop's link address is derived from its IID when it has the `::ff:fe00:XXXX` form,
//! else the frame is broadcast (there is no address resolution on this link).

use heapless::Deque;

use crate::addr::LinkAddr;
use crate::l2::{EnableError, L2, L2Context, L2Flags, SendError, Verdict};
use crate::pool::PacketHandle;

/// Link header length.
pub const HEADER_LEN: usize = 4;
/// The broadcast link address.
pub const BROADCAST: [u8; 2] = [0xff, 0xff];
/// Outbox capacity.
pub const OUTBOX: usize = 16;

/// Counters of the dummy link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DummyStats {
    /// Frames received and passed up.
    pub rx_frames: u32,
    /// Frames dropped: too short.
    pub rx_short: u32,
    /// Frames dropped: not for us.
    pub rx_filtered: u32,
    /// Frames queued in the outbox.
    pub tx_frames: u32,
    /// Frames dropped: outbox full.
    pub tx_dropped: u32,
}

/// The dummy link layer.
#[derive(Debug)]
pub struct DummyL2 {
    addr: [u8; 2],
    up: bool,
    promiscuous: bool,
    outbox: Deque<PacketHandle, OUTBOX>,
    /// Counters.
    pub stats: DummyStats,
}

impl DummyL2 {
    /// A link with 2-byte address `addr`.
    pub fn new(addr: [u8; 2]) -> Self {
        DummyL2 {
            addr,
            up: false,
            promiscuous: false,
            outbox: Deque::new(),
            stats: DummyStats::default(),
        }
    }
    /// The link address as the core sees it.
    pub fn link_addr(&self) -> LinkAddr {
        LinkAddr::ieee802154_short(self.addr)
    }
    /// Accept every frame.
    pub fn set_promiscuous(&mut self, on: bool) {
        self.promiscuous = on;
    }
    /// Take the oldest sent frame (the caller owns the buffer).
    pub fn take_tx(&mut self) -> Option<PacketHandle> {
        self.outbox.pop_front()
    }
    /// Frames waiting in the outbox.
    pub fn pending_tx(&self) -> usize {
        self.outbox.len()
    }
    /// Write the link header for a frame from `src` to `dst` in front of `payload`
    /// (for tests that build received frames).
    pub fn frame(dst: [u8; 2], src: [u8; 2], payload: &[u8], out: &mut [u8]) -> usize {
        let n = HEADER_LEN + payload.len();
        if let Some(o) = out.get_mut(..n) {
            o[..2].copy_from_slice(&dst);
            o[2..4].copy_from_slice(&src);
            o[4..].copy_from_slice(payload);
            n
        } else {
            0
        }
    }
}

impl L2 for DummyL2 {
    fn recv(&mut self, cx: &mut L2Context<'_, '_>, pkt: PacketHandle) -> Verdict {
        let (dst, src) = match cx.pool.data(&pkt).get(..HEADER_LEN) {
            Some(h) => ([h[0], h[1]], [h[2], h[3]]),
            None => {
                self.stats.rx_short += 1;
                return Verdict::Drop(pkt);
            }
        };
        if dst != self.addr && dst != BROADCAST && !self.promiscuous {
            self.stats.rx_filtered += 1;
            return Verdict::Drop(pkt);
        }
        if cx.pool.pull_front(&pkt, HEADER_LEN).is_err() {
            return Verdict::Drop(pkt);
        }
        if let Some(m) = cx.pool.meta_mut(&pkt) {
            m.ll_src = LinkAddr::ieee802154_short(src);
            m.ll_dst = LinkAddr::ieee802154_short(dst);
            m.ll_multicast = dst == BROADCAST;
        }
        self.stats.rx_frames += 1;
        Verdict::Continue(pkt)
    }

    fn send(&mut self, cx: &mut L2Context<'_, '_>, pkt: PacketHandle) -> Result<usize, SendError> {
        if !self.up {
            cx.pool.free(pkt);
            return Err(SendError::Down);
        }
        let nh = cx.pool.meta(&pkt).next_hop.octets();
        let dst = if nh[0] != 0xff && nh[8..14] == [0, 0, 0, 0xff, 0xfe, 0] {
            [nh[14], nh[15]]
        } else {
            BROADCAST
        };
        let src = self.addr;
        match cx.pool.push_front(&pkt, HEADER_LEN) {
            Ok(h) => {
                h[..2].copy_from_slice(&dst);
                h[2..].copy_from_slice(&src);
            }
            Err(_) => {
                cx.pool.free(pkt);
                return Err(SendError::NoBuffer);
            }
        }
        let len = cx.pool.len(&pkt);
        match self.outbox.push_back(pkt) {
            Ok(()) => {
                self.stats.tx_frames += 1;
                Ok(len)
            }
            Err(p) => {
                self.stats.tx_dropped += 1;
                cx.pool.free(p);
                Err(SendError::QueueFull)
            }
        }
    }

    fn enable(&mut self, _cx: &mut L2Context<'_, '_>, up: bool) -> Result<(), EnableError> {
        self.up = up;
        Ok(())
    }

    fn flags(&self) -> L2Flags {
        L2Flags::MULTICAST
    }
}

/// A router with two dummy links, the set-up tests, benchmarks, examples and fuzz targets
/// share: `wpan0` (link address `00:01`, MTU `mesh_mtu`, `2001:db8:1::1/64`) and `eth0`
/// (`00:02`, MTU 1500, `2001:db8:2::1/64`), both forwarding, up, with link-local addresses.
pub struct TwoLinkRouter<'r> {
    /// The core.
    pub stack: crate::Stack<'r>,
    /// The links: `[wpan0, eth0]`.
    pub links: [DummyL2; 2],
    /// `wpan0`.
    pub mesh: crate::IfIndex,
    /// `eth0`.
    pub backbone: crate::IfIndex,
}

impl<'r> TwoLinkRouter<'r> {
    /// Build it over `res`.
    pub fn new<const P: usize, const B: usize, const R: usize, const Q: usize, const E: usize>(
        config: crate::StackConfig,
        res: &'r mut crate::Resources<P, B, R, Q, E>,
        mesh_mtu: u16,
    ) -> Result<Self, crate::stack::IfaceError> {
        use crate::{AddrState, IfaceConfig, Lifetimes};
        use core::net::Ipv6Addr;
        let t = crate::Instant::ZERO;
        let mut stack = crate::Stack::new(config, res);
        let mut links = [DummyL2::new([0, 1]), DummyL2::new([0, 2])];
        let mut idx = [crate::IfIndex(0); 2];
        let setup = [
            (
                "wpan0",
                mesh_mtu,
                Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1),
            ),
            ("eth0", 1500, Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1)),
        ];
        for ((l2, slot), (name, mtu, addr)) in links.iter_mut().zip(idx.iter_mut()).zip(setup) {
            let cfg = IfaceConfig {
                name,
                ll_addr: l2.link_addr(),
                mtu,
                flags: L2Flags::MULTICAST,
                forwarding: true,
                auto_link_local: true,
            };
            let i = stack.add_iface(t, &cfg)?;
            stack.set_admin(t, i, l2, true)?;
            stack.add_addr(t, i, addr, 64, Lifetimes::INFINITE, AddrState::Preferred)?;
            *slot = i;
        }
        Ok(TwoLinkRouter {
            stack,
            links,
            mesh: idx[0],
            backbone: idx[1],
        })
    }

    /// Hand the frame in `frame` (dummy link header included) to interface `on`. `None` when
    /// the pool has no buffer for it.
    pub fn receive(
        &mut self,
        now: crate::Instant,
        on: crate::IfIndex,
        frame: &[u8],
    ) -> Option<crate::Outcome> {
        let h = self.stack.pool_mut().alloc_from(frame).ok()?;
        let l2 = self.links.get_mut(on.get())?;
        Some(self.stack.receive(now, on, l2, h))
    }

    /// Transmit everything queued on every interface, pass each frame sent to `f` with its
    /// interface, and free it.
    pub fn drain(&mut self, now: crate::Instant, mut f: impl FnMut(crate::IfIndex, &[u8])) {
        for (n, l2) in self.links.iter_mut().enumerate() {
            let i = crate::IfIndex(n as u8);
            self.stack.transmit(now, i, l2);
            while let Some(h) = l2.take_tx() {
                f(i, self.stack.pool().data(&h));
                self.stack.pool_mut().free(h);
            }
        }
    }
}
