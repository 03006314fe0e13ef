//! Fuzz the Source Routing Header (RFC 6554) parser and router processing: arbitrary header
//! bytes and a destination never panic; a header that parses expands to n addresses, and a
//! router's step (forward and swap) keeps it parseable with Segments Left one less. The
//! builder turns any path into a header that expands back to that path.
#![no_main]

use std::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use rpl::srh::{self, Srh, Step};

fuzz_target!(|data: &[u8]| {
    let Some((dst, rest)) = data.split_first_chunk::<16>() else {
        return;
    };
    let dst = Ipv6Addr::from(*dst);
    // The header as received.
    if let Ok(h) = Srh::parse(rest) {
        assert!(h.n >= 1);
        for i in 1..=h.n {
            assert!(h.address(i, &dst).is_some(), "address {i} of {}", h.n);
        }
        if let Step::Forward { next, i } = srh::process(&h, &dst, |a| *a == dst) {
            let mut b = rest[..h.len()].to_vec();
            if srh::swap(&mut b, i, &dst, &next).is_ok() {
                let h2 = Srh::parse(&b).expect("a swapped header parses");
                assert_eq!(h2.segments_left + 1, h.segments_left);
                assert_eq!(h2.address(i, &next), Some(dst));
            }
        }
    }
    // The same bytes as a path of addresses.
    let hops: Vec<Ipv6Addr> = rest
        .chunks_exact(16)
        .take(srh::MAX_ADDRESSES)
        .map(|c| Ipv6Addr::from(<[u8; 16]>::try_from(c).unwrap()))
        .collect();
    if hops.is_empty() {
        return;
    }
    let mut buf = vec![0u8; 8 + 16 * hops.len() + 8];
    let n = srh::build(&dst, &hops, 41, &mut buf).expect("any path builds");
    let h = Srh::parse(&buf[..n]).expect("and parses");
    assert_eq!(h.n, hops.len());
    let mut at = dst;
    for (k, a) in hops.iter().enumerate() {
        assert_eq!(h.address(k + 1, &at), Some(*a));
        at = *a;
    }
});
