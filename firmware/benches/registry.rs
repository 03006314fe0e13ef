//! Registration-table lookup cost at 8, 64 and 256 entries.
//!
//! `registry/hit` and `registry/miss` look addresses up in a [`DefaultRegistry`] (256 entries,
//! 512 index slots) holding `n` registrations; `linear_scan/hit` searches the same addresses in
//! a plain array, the baseline a hash index is meant to beat. The registry's figures should
//! stay flat as `n` grows while the scan's grow with `n`.
//!
//! Run with `cargo bench -p firmware --bench registry`.

use core::net::Ipv6Addr;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use firmware::registry::{DEFAULT_REGISTRATIONS, DefaultRegistry, RegisterOutcome};
use l2_15_4::Address;
use netif::time::{Duration, Instant};

const SIZES: [usize; 3] = [8, 64, DEFAULT_REGISTRATIONS];

/// `n` mesh addresses with IIDs spread like EUI-64-derived ones (xorshift, fixed seed).
fn addresses(n: usize, salt: u64) -> Vec<Ipv6Addr> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ salt;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Ipv6Addr::from((0x2001_0db8_0000_0001u128 << 64) | u128::from(x))
        })
        .collect()
}

fn filled(addrs: &[Ipv6Addr]) -> Box<DefaultRegistry> {
    let mut r = Box::new(DefaultRegistry::new());
    for (i, &addr) in addrs.iter().enumerate() {
        let rovr = (i as u64).to_be_bytes();
        let out = r.register(
            Instant::ZERO,
            addr,
            Address::Short(i as u16),
            &rovr,
            None,
            Duration::from_secs(3600),
        );
        assert_eq!(out, RegisterOutcome::Registered);
    }
    r
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry");
    for n in SIZES {
        let addrs = addresses(n, 0);
        let absent = addresses(n, 1);
        let reg = filled(&addrs);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("hit", n), &addrs, |b, addrs| {
            b.iter(|| {
                for a in addrs {
                    black_box(reg.lookup(black_box(a)));
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("miss", n), &absent, |b, absent| {
            b.iter(|| {
                for a in absent {
                    black_box(reg.lookup(black_box(a)));
                }
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("linear_scan");
    for n in SIZES {
        let addrs = addresses(n, 0);
        let table: Vec<(Ipv6Addr, Address)> = addrs
            .iter()
            .enumerate()
            .map(|(i, &a)| (a, Address::Short(i as u16)))
            .collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("hit", n), &addrs, |b, addrs| {
            b.iter(|| {
                for a in addrs {
                    black_box(table.iter().find(|(x, _)| x == black_box(a)));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
