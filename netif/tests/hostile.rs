//! Every received byte is hostile: arbitrary frames and mutated valid packets into the core
//! never panic and never leak a buffer (the pool returns to full once the queues drain).

use netif::dummy::{self, DummyL2, TwoLinkRouter};
use netif::{Instant, Resources, Route, StackConfig};
use proptest::prelude::*;

type Res = Resources<8, { netif::config::DEFAULT_BUF_SIZE }, 8, 4, 8>;

fn ip(s: &str) -> std::net::Ipv6Addr {
    s.parse().unwrap()
}

fn setup(res: &mut Res) -> TwoLinkRouter<'_> {
    let mut r = TwoLinkRouter::new(StackConfig::default(), res, 1280).unwrap();
    r.stack
        .add_route(Route::new(
            netif::Prefix::DEFAULT,
            r.backbone,
            Some(ip("fe80::ff:fe00:9")),
        ))
        .unwrap();
    let _ = r.stack.register_handler(
        netif::Match::Icmpv6 {
            first: 133,
            last: 137,
        },
        None,
    );
    r
}

/// Feed `frames` alternately to both interfaces, draining queues as a driver would, and free
/// whatever a handler got. Returns the pool's free count at the end.
fn run(frames: &[(bool, Vec<u8>, u16)]) -> (usize, usize) {
    let mut res = Res::new();
    let mut r = setup(&mut res);
    for (n, (on_a, bytes, wire_len)) in frames.iter().enumerate() {
        let now = Instant::from_millis(n as u64 * 7);
        let Ok(h) = r.stack.pool_mut().alloc_from(bytes) else {
            continue;
        };
        if *wire_len as usize > bytes.len() {
            r.stack.pool_mut().meta_mut(&h).unwrap().wire_len = *wire_len;
        }
        let i = if *on_a { r.mesh } else { r.backbone };
        if let netif::Outcome::Local(d) = r.stack.receive(now, i, &mut r.links[i.get()], h) {
            r.stack.pool_mut().free(d.packet);
        }
        r.stack.poll(now);
        r.drain(now, |_, _| {});
    }
    (r.stack.pool().available(), r.stack.pool().capacity())
}

/// A valid packet to mutate: UDP from a mesh host to a backbone host, with a hop-by-hop
/// header, in a dummy frame.
fn seed_frame() -> Vec<u8> {
    let mut ipv6 = vec![0x60, 0, 0, 0, 0, 24, 0, 64];
    ipv6.extend_from_slice(&ip("2001:db8:1::ff:fe00:5").octets());
    ipv6.extend_from_slice(&ip("2001:db8:2::ff:fe00:9").octets());
    ipv6.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]); // HBH: PadN
    ipv6.extend_from_slice(&[0x16, 0x33, 0xf0, 0xb0, 0, 16, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    let mut f = vec![0u8; ipv6.len() + dummy::HEADER_LEN];
    DummyL2::frame([0, 1], [0, 5], &ipv6, &mut f);
    f
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_frames_never_panic_or_leak(frames in prop::collection::vec(
        (any::<bool>(), prop::collection::vec(any::<u8>(), 0..1400), 0u16..2000), 1..24)) {
        let (free, cap) = run(&frames);
        prop_assert_eq!(free, cap);
    }

    #[test]
    fn mutated_packets_never_panic_or_leak(
        edits in prop::collection::vec((0usize..80, any::<u8>()), 1..8),
        cut in 0usize..80,
        on_a in any::<bool>(),
    ) {
        let mut f = seed_frame();
        for (pos, v) in edits {
            if let Some(b) = f.get_mut(pos) { *b = v; }
        }
        f.truncate(f.len().saturating_sub(cut % 8));
        let frames: Vec<_> = (0..4).map(|k| (on_a ^ (k % 2 == 1), f.clone(), 0u16)).collect();
        let (free, cap) = run(&frames);
        prop_assert_eq!(free, cap);
    }
}
