//! The invariants checked after every operation (see the target's documentation).

use crate::harness::Harness;
use rpl::of::INFINITE_RANK;

impl Harness<'_> {
    pub(crate) fn check(&self) {
        let app = &self.app;
        assert!(app.pool_accounted(), "a packet buffer leaked");

        // 3. The MAC.
        let m = app.wpan().mac().counters();
        assert_eq!(
            u64::from(m.rx_frames),
            self.radio_fed & 0xffff_ffff,
            "MAC rx_frames differs from the PSDUs fed"
        );
        let outcomes = [
            m.rx_delivered,
            m.rx_invalid,
            m.rx_fcs_errors,
            m.rx_filtered,
            m.rx_duplicates,
        ];
        let sum: u64 = outcomes.iter().map(|c| u64::from(*c)).sum();
        assert!(
            sum <= u64::from(m.rx_frames),
            "MAC outcomes exceed its frames: {m:?}"
        );

        // 4. MAC → wpan0.
        let w = app.wpan().stats();
        let up = app.stats().rx_no_buffer_wpan + w.rx_frames - self.wpan_rx_base;
        if !self.was_promiscuous {
            let delivered = u64::from(m.rx_delivered);
            if self.wpan_was_down {
                assert!(
                    up <= delivered,
                    "wpan0 saw more frames than the MAC delivered"
                );
            } else {
                assert_eq!(up, delivered, "a frame the MAC delivered went missing");
            }
        }

        // 5. wpan0 receive.
        let drops = w.rx_bad_frame
            + w.rx_secured
            + w.rx_not_data
            + w.rx_6lowpan_drop
            + w.rx_no_buffer
            + w.rx_datagrams;
        assert!(
            drops <= w.rx_frames,
            "wpan0 outcomes exceed its frames: {w:?}"
        );
        let wi = app.iface_stats(app.wpan_index()).unwrap_or_default();
        // A packet that leaves a tunnel here (at the root or a mesh router) enters the core
        // a second time, as the inner packet.
        let router = app.mesh_router().map(|r| r.stats()).unwrap_or_default();
        let decapsulated =
            u64::from(app.root().stats().decapsulated) + u64::from(router.decapsulated);
        assert_eq!(
            u64::from(wi.rx_packets),
            w.rx_datagrams + decapsulated,
            "the core's wpan0 packets differ from the datagrams completed and decapsulated"
        );

        // 6. eth0 receive.
        let e = app.eth().stats();
        let ei = app.iface_stats(app.eth_index()).unwrap_or_default();
        let counted: u64 = [
            e.rx_frames,
            e.rx_short,
            e.rx_vlan_dropped,
            e.rx_not_ipv6,
            e.rx_bad_src,
            e.rx_filtered,
        ]
        .iter()
        .map(|c| u64::from(*c))
        .sum();
        if self.eth_was_down {
            assert!(
                counted <= self.eth.delivered,
                "eth0 counted frames it never got"
            );
        } else {
            assert_eq!(
                counted, self.eth.delivered,
                "an Ethernet frame went uncounted"
            );
        }
        assert_eq!(
            ei.rx_packets, e.rx_frames,
            "the core's eth0 packets differ from eth0's"
        );

        // 7. Per interface and together.
        assert!(u64::from(wi.rx_packets) <= self.radio_fed_total + decapsulated);
        assert!(u64::from(ei.rx_packets) <= self.eth_fed);
        let rx = u64::from(wi.rx_packets) + u64::from(ei.rx_packets);
        let out: u64 = [wi.forwarded, wi.delivered, ei.forwarded, ei.delivered]
            .iter()
            .map(|c| u64::from(*c))
            .sum();
        assert!(
            out <= rx,
            "forwarded + delivered ({out}) exceed received ({rx})"
        );

        // 8. wpan0 transmit.
        assert!(w.tx_frames_ok + w.tx_frames_failed <= w.tx_frames, "{w:?}");
        assert!(
            w.tx_datagrams_done + w.tx_aborted + w.tx_adapt_error <= w.tx_datagrams,
            "{w:?}"
        );

        // 9. Capture.
        let c = app.capture().stats();
        assert_eq!(
            c.captured,
            self.popped + u64::from(c.pending_records),
            "{c:?}"
        );
        assert!(
            c.pending_bytes as usize <= app.capture().capacity(),
            "{c:?}"
        );

        // 10. The mesh-router role: every RPL message, source-routed and tunnelled packet it
        // took was delivered to it by the core on wpan0 (a malformed DIO counts both in
        // dio_rx and in rx_invalid, so each is bounded apart); it advertises INFINITE_RANK
        // or a rank above its preferred parent's.
        if let Some(r) = app.mesh_router() {
            let paths = u64::from(router.dao_ack_rx)
                + u64::from(router.srh_forwarded)
                + u64::from(router.srh_dropped)
                + u64::from(router.decapsulated)
                + u64::from(router.decap_dropped);
            for (what, n) in [("DIOs", router.dio_rx), ("refusals", router.rx_invalid)] {
                let taken = paths + u64::from(n);
                assert!(
                    taken <= u64::from(wi.delivered),
                    "the router took more packets ({taken}, with {what}) than wpan0 delivered: \
                     {router:?} {wi:?}"
                );
            }
            let core = r.core();
            let rank = core.rank();
            if rank != INFINITE_RANK {
                let parent = core
                    .preferred_parent()
                    .and_then(|p| core.parents().iter().find(|x| x.address == p));
                assert!(
                    parent.is_some_and(|p| rank > p.rank),
                    "rank {rank} not above the preferred parent's {parent:?}: {r:?}"
                );
            }
        }
    }
}
