//! Fuzz sixlo reassembly with sequences of frames: the input is split into frames, each with a
//! source selector and a time step. Must never panic, never hold more than the buffer share
//! (below the slot count, so eviction runs), and every slot must be free after a timeout sweep.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netif::time::{Duration, Instant};
use sixlo::{ContextTable, LinkAddr, Reassembler, ReassemblyConfig};

fuzz_target!(|data: &[u8]| {
    let mut r: Reassembler<4, 1280> = Reassembler::new(ReassemblyConfig {
        timeout: Duration::from_secs(10),
        per_source_limit: 2,
        buffer_share: 3,
    });
    let ctx = ContextTable::new();
    let srcs = [
        LinkAddr::Short([0, 1]),
        LinkAddr::Short([0, 2]),
        LinkAddr::Extended([2; 8]),
        LinkAddr::Absent,
    ];
    let dst = LinkAddr::Short([0, 9]);
    let mut out = [0u8; 1280];
    let mut now = Instant::ZERO;
    let mut rest = data;
    // Each record: [len, selector, frame bytes (len)].
    while let [len, sel, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (frame, next) = tail.split_at(n);
        rest = next;
        let _ = r.receive(
            frame,
            &srcs[usize::from(sel & 3)],
            &dst,
            &ctx,
            now,
            &mut out,
        );
        assert!(r.slots_in_use() <= 3, "more buffers held than the share");
        now += Duration::from_millis(u64::from(sel >> 2) * 100);
    }
    r.expire(now + Duration::from_secs(10));
    assert_eq!(r.slots_in_use(), 0, "a reassembly slot leaked");
});
