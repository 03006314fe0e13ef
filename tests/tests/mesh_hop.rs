//! The mesh-router hop of `scripts/instructions.sh` (`tests::mesh`) relays the right bytes,
//! both ways, RFC 8138 off and on (`cargo test -p tests --features router-role --test
//! mesh_hop`; without the feature there is nothing to test).
#![cfg(feature = "router-role")]

use firmware::app::AppResources;
use tests::mesh::{Dir, Hop};

#[test]
fn a_mesh_router_relays_the_recorded_packet_byte_for_byte() {
    for dir in [Dir::Down, Dir::Up] {
        for rfc8138 in [false, true] {
            let mut res: [Box<AppResources>; 3] =
                core::array::from_fn(|_| Box::new(AppResources::new()));
            let [a, b, c] = &mut res;
            let mut h = Hop::new([a, b, c], rfc8138, dir).unwrap();
            h.check().unwrap();
            for _ in 0..50 {
                h.forward().unwrap();
            }
            h.check().unwrap();
            let (fin, fout) = h.frames();
            let len = h.packet().len();
            assert_eq!(
                len,
                // Up: the reply carries router 2's RPL Option (RFC 9008 §7.1.1).
                if dir == Dir::Down { 1344 } else { 1288 },
                "{dir:?} {rfc8138}"
            );
            assert!(
                fin >= 13 && fout >= 13,
                "{dir:?} {rfc8138}: {fin} in, {fout} out"
            );
        }
    }
}
