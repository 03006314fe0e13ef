//! Forwarding cost: a 1280-byte IPv6/UDP packet received on one dummy interface, validated,
//! routed, queued and handed to the other interface's L2, per packet. The baseline measured in
//! the same run is the least any driver does per packet: copy the frame into a pool buffer and
//! free it again.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use netif::dummy::{self, DummyL2, TwoLinkRouter};
use netif::{IfIndex, Instant, Outcome, Resources, StackConfig};
use std::hint::black_box;

fn ip(s: &str) -> std::net::Ipv6Addr {
    s.parse().unwrap()
}

fn frame() -> Vec<u8> {
    let payload = 1280 - 40;
    let mut ipv6 = vec![0x60, 0, 0, 0, (payload >> 8) as u8, payload as u8, 17, 64];
    ipv6.extend_from_slice(&ip("2001:db8:1::ff:fe00:5").octets());
    ipv6.extend_from_slice(&ip("2001:db8:2::ff:fe00:9").octets());
    ipv6.resize(1280, 0xa5);
    let mut f = vec![0u8; ipv6.len() + dummy::HEADER_LEN];
    DummyL2::frame([0, 1], [0, 5], &ipv6, &mut f);
    f
}

fn bench(c: &mut Criterion) {
    let mut res = Resources::<16, { 1280 + 64 + dummy::HEADER_LEN }, 16, 8, 16>::new();
    let TwoLinkRouter {
        stack: mut st,
        links: [mut a, mut b],
        mesh: ia,
        backbone: ib,
    } = TwoLinkRouter::new(StackConfig::default(), &mut res, 1500).unwrap();
    let t = Instant::ZERO;
    let f = frame();

    let mut g = c.benchmark_group("netif");
    g.throughput(Throughput::Elements(1));
    g.bench_function("baseline_copy_1280_into_pool", |bch| {
        bch.iter(|| {
            let h = st.pool_mut().alloc_from(black_box(&f)).unwrap();
            black_box(st.pool().data(&h)[100]);
            st.pool_mut().free(h);
        })
    });
    g.bench_function("forward_1280_dummy_to_dummy", |bch| {
        bch.iter(|| {
            let h = st.pool_mut().alloc_from(black_box(&f)).unwrap();
            let out = st.receive(t, ia, &mut a, h);
            assert!(matches!(out, Outcome::Forwarded(IfIndex(1))));
            st.transmit(t, ib, &mut b);
            let sent = b.take_tx().unwrap();
            black_box(st.pool().data(&sent)[7]);
            st.pool_mut().free(sent);
        })
    });
    g.finish();
    assert_eq!(st.pool().available(), st.pool().capacity());
}

criterion_group!(benches, bench);
criterion_main!(benches);
