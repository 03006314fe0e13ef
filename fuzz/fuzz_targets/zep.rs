//! Fuzz the ZEP v2 parser (the simulator's bridge to foreign nodes reads every datagram from a
//! UDP socket): it never panics, and what it accepts re-encodes to the same bytes (the
//! reserved bytes and the LQI/CRC mode, which it ignores, aside).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::zep;

fuzz_target!(|data: &[u8]| {
    let Ok(f) = zep::parse(data) else {
        return;
    };
    let mut again = Vec::new();
    zep::encode(&f.header, f.psdu, &mut again).expect("an accepted PSDU re-encodes");
    assert_eq!(again.len(), data.len());
    assert_eq!(again[..7], data[..7]);
    assert_eq!(again[8..21], data[8..21]);
    assert_eq!(again[31..], data[31..]);
    assert_eq!(zep::parse(&again).map(|g| (g.header, g.psdu)), Ok((f.header, f.psdu)));
});
