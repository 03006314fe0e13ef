//! The RPL root's per-packet work for a target behind other nodes (issue 22): the source
//! route from the registry's parent chain ([`Registry::source_route`]) and the tunnel's
//! headers ([`write_tunnel_headers`]: IPv6, the RPL Option, the Source Routing Header), at 8,
//! 256 and 1024 targets and at depths 1, 4, 8 and 16.
//!
//! The table holds a chain of 16 non-storing targets under a neighbour of the root, the rest
//! are children of the root. The cost should be flat in the number of targets (each hop is
//! one hash lookup) and linear in the depth. Run with
//! `cargo bench -p firmware --bench source_route`.

use core::net::Ipv6Addr;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use firmware::registry::{Dao, DaoOutcome, Registry};
use firmware::wpan::{Tunnel, write_tunnel_headers};
use netif::time::{Duration, Instant};

const ROOT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0x0200, 0x5eff, 0xfe00, 1);

fn node(i: u32) -> Ipv6Addr {
    let [a, b, c, d] = i.to_be_bytes();
    Ipv6Addr::new(
        0x2001,
        0xdb8,
        1,
        0,
        0x0212,
        0x4b00,
        u16::from_be_bytes([a, b]),
        u16::from_be_bytes([c, d]),
    )
}

/// A table of `n` targets: node(1) under the root, node(k+1) under node(k) up to depth 16,
/// the others children of the root.
fn table<const N: usize, const I: usize>(n: usize) -> Box<Registry<N, I>> {
    let mut r: Box<Registry<N, I>> = Box::new(Registry::new());
    for i in 1..=n as u32 {
        let parent = if (2..=16).contains(&i) {
            node(i - 1)
        } else {
            ROOT
        };
        let d = Dao {
            target: node(i),
            parent: Some(parent),
            child: None,
            path_seq: 240,
            lifetime: Duration::from_secs(1800),
            root: ROOT,
            max_depth: 16,
            external: false,
        };
        assert_eq!(r.dao(Instant::ZERO, &d), DaoOutcome::Added, "{i}");
    }
    r
}

fn run<const N: usize, const I: usize>(c: &mut Criterion, n: usize) {
    let r = table::<N, I>(n);
    let t = Tunnel {
        src: ROOT,
        instance: 30,
        rank: 256,
    };
    let mut g = c.benchmark_group(format!("source_route/{n}_targets"));
    for depth in [1u32, 4, 8, 16] {
        let dst = node(depth);
        assert_eq!(
            r.source_route(&dst).map(|s| s.hops.len()),
            Some(depth as usize)
        );
        g.bench_with_input(BenchmarkId::new("route+headers", depth), &dst, |b, dst| {
            let mut out = [0u8; 512];
            b.iter(|| {
                let route = r.source_route(black_box(dst)).unwrap();
                if route.hops.len() > 1 {
                    black_box(write_tunnel_headers(
                        &t,
                        &route.hops,
                        [0x60, 0, 0, 0],
                        1100,
                        &mut out,
                    ));
                }
                route.first_hop
            })
        });
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    run::<16, 32>(c, 16); // 8 would not hold the 16-deep chain: 16 is the small table
    run::<256, 512>(c, 256);
    run::<1024, 2048>(c, 1024);
}

criterion_group!(benches, bench);
criterion_main!(benches);
