//! Fuzz sixlo decompression: arbitrary frame bytes with every link-address form and a context
//! table, into buffers of several sizes. Must never panic; a decompressed datagram must
//! compress again and decompress back to the same bytes (parse → emit → parse).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sixlo::{CompressOptions, Context, ContextTable, LinkAddr, compress, decompress};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, frame)) = data.split_first() else {
        return;
    };
    let link = |k: u8| match k & 3 {
        0 => LinkAddr::Short([0x12, 0x34]),
        1 => LinkAddr::Extended([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]),
        2 => LinkAddr::Short([0xff, 0xff]),
        _ => LinkAddr::Absent,
    };
    let (src, dst) = (link(sel), link(sel >> 2));
    let mut ctx = ContextTable::new();
    if sel & 0x10 != 0 {
        ctx.set(
            0,
            Context::new(
                [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                64,
            ),
        );
        ctx.set(
            7,
            Context::new([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 40),
        );
    }
    let mut out = [0u8; 1400];
    let small_len = usize::from(sel >> 5) * 8;
    let mut small = [0u8; 64];
    let _ = decompress(frame, &src, &dst, &ctx, &mut small[..small_len]);
    if let Ok(n) = decompress(frame, &src, &dst, &ctx, &mut out) {
        let dgram = &out[..n];
        let mut again = [0u8; 1500];
        if let Ok(m) = compress(
            dgram,
            &src,
            &dst,
            &ctx,
            CompressOptions::default(),
            &mut again,
        ) {
            let mut back = [0u8; 1400];
            let k = decompress(&again[..m], &src, &dst, &ctx, &mut back)
                .expect("our own compression must decompress");
            assert_eq!(&back[..k], dgram, "round trip changed the datagram");
        }
    }
});
