//! Every received byte is hostile: arbitrary frames and mutated valid packets into the core
//! never panic and never leak a buffer (the pool returns to full once the queues drain).

use netif::dummy::{self, DummyL2};
use netif::{
    AddrState, IfaceConfig, Instant, L2Flags, Lifetimes, Resources, Route, Stack, StackConfig,
};
use proptest::prelude::*;

type Res = Resources<8, { netif::config::DEFAULT_BUF_SIZE }, 8, 4, 8>;

fn ip(s: &str) -> std::net::Ipv6Addr {
    s.parse().unwrap()
}

fn setup(res: &mut Res) -> (Stack<'_>, DummyL2, DummyL2) {
    let mut st = Stack::new(StackConfig::default(), res);
    let mut a = DummyL2::new([0, 1]);
    let mut b = DummyL2::new([0, 2]);
    let cfg = |name, ll, mtu| IfaceConfig {
        name,
        ll_addr: ll,
        mtu,
        flags: L2Flags::MULTICAST,
        forwarding: true,
        auto_link_local: true,
    };
    let t = Instant::ZERO;
    let ia = st.add_iface(t, &cfg("wpan0", a.link_addr(), 1280)).unwrap();
    let ib = st.add_iface(t, &cfg("eth0", b.link_addr(), 1500)).unwrap();
    st.set_admin(t, ia, &mut a, true).unwrap();
    st.set_admin(t, ib, &mut b, true).unwrap();
    st.add_addr(
        t,
        ia,
        ip("2001:db8:1::1"),
        64,
        Lifetimes::INFINITE,
        AddrState::Preferred,
    )
    .unwrap();
    st.add_addr(
        t,
        ib,
        ip("2001:db8:2::1"),
        64,
        Lifetimes::INFINITE,
        AddrState::Preferred,
    )
    .unwrap();
    st.add_route(Route::new(
        netif::Prefix::DEFAULT,
        ib,
        Some(ip("fe80::ff:fe00:9")),
    ))
    .unwrap();
    let _ = st.register_handler(
        netif::Match::Icmpv6 {
            first: 133,
            last: 137,
        },
        None,
    );
    (st, a, b)
}

/// Feed `frames` alternately to both interfaces, draining queues as a driver would, and free
/// whatever a handler got. Returns the pool's free count at the end.
fn run(frames: &[(bool, Vec<u8>, u16)]) -> (usize, usize) {
    let mut res = Res::new();
    let (mut st, mut a, mut b) = setup(&mut res);
    let (ia, ib) = (netif::IfIndex(0), netif::IfIndex(1));
    for (n, (on_a, bytes, wire_len)) in frames.iter().enumerate() {
        let now = Instant::from_millis(n as u64 * 7);
        let Ok(h) = st.pool_mut().alloc_from(bytes) else {
            continue;
        };
        if *wire_len as usize > bytes.len() {
            st.pool_mut().meta_mut(&h).unwrap().wire_len = *wire_len;
        }
        let (i, l2) = if *on_a { (ia, &mut a) } else { (ib, &mut b) };
        if let netif::Outcome::Local(d) = st.receive(now, i, l2, h) {
            st.pool_mut().free(d.packet);
        }
        st.poll(now);
        for (i, l2) in [(ia, &mut a), (ib, &mut b)] {
            st.transmit(now, i, l2);
            while let Some(h) = l2.take_tx() {
                st.pool_mut().free(h);
            }
        }
    }
    (st.pool().available(), st.pool().capacity())
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
