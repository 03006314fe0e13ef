//! Arbitrary frames into both interfaces of a two-interface netif router: no panic, and the
//! pool returns to full once the queues are drained.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netif::dummy::TwoLinkRouter;
use netif::{Instant, Match, Outcome, Prefix, Resources, Route, StackConfig};

fuzz_target!(|data: &[u8]| {
    let mut res: Resources<8, { netif::config::DEFAULT_BUF_SIZE }, 8, 4, 8> = Resources::new();
    let Ok(mut r) = TwoLinkRouter::new(StackConfig::default(), &mut res, 1280) else { return };
    let _ = r.stack.add_route(Route::new(Prefix::DEFAULT, r.backbone, Some("fe80::ff:fe00:9".parse().unwrap())));
    let _ = r.stack.register_handler(Match::Icmpv6 { first: 133, last: 137 }, None);

    // Input: repeated [flags, len_hi, len_lo, frame...].
    let mut rest = data;
    let mut n = 0u64;
    while let [flags, hi, lo, tail @ ..] = rest {
        let len = (usize::from(*hi) << 8 | usize::from(*lo)).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        n += 1;
        let now = Instant::from_millis(n * 13);
        let Ok(h) = r.stack.pool_mut().alloc_from(frame) else { continue };
        if flags & 2 != 0 {
            if let Some(m) = r.stack.pool_mut().meta_mut(&h) {
                m.wire_len = u16::from(*hi) << 8 | u16::from(*lo);
            }
        }
        let i = if flags & 1 == 0 { r.mesh } else { r.backbone };
        if let Outcome::Local(d) = r.stack.receive(now, i, &mut r.links[i.get()], h) {
            r.stack.pool_mut().free(d.packet);
        }
        r.stack.poll(now);
        r.drain(now, |_, _| {});
    }
    assert_eq!(r.stack.pool().available(), r.stack.pool().capacity(), "pool leaked a buffer");
});
