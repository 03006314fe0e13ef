//! Fuzz RFC 8138 (page 1): one 6LoRH parsed, emitted and parsed again to the same meaning;
//! then the bytes as a whole page-1 frame (the Paging Dispatch prepended), with and without a
//! DODAG root in the context table, decompressed into buffers of two sizes. Must never panic;
//! a decompressed datagram must compress again on page 1 and decompress back to the same
//! bytes (parse → emit → parse).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sixlo::lorh::{DISPATCH_PAGE1, Packet, Repr};
use sixlo::{CompressOptions, Context, ContextTable, LinkAddr, compress, decompress};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    // One 6LoRH: parse -> emit -> parse.
    if let Ok(p) = Packet::new_checked(body)
        && let Ok(r) = Repr::parse(&p)
    {
        let mut buf = [0u8; 2 + 32 * 16];
        let n = r.buffer_len();
        let out = &mut buf[..n];
        r.emit(&mut Packet::new_unchecked(&mut *out))
            .expect("a parsed 6LoRH emits");
        let again = Packet::new_checked(&*out).expect("an emitted 6LoRH checks");
        assert_eq!(Repr::parse(&again), Ok(r), "6LoRH changed meaning");
    }
    // The whole page-1 frame.
    let (src, dst) = (LinkAddr::Short([0, 1]), LinkAddr::Short([0, 2]));
    let mut ctx = ContextTable::new();
    ctx.set(
        0,
        Context::new([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 64),
    );
    if sel & 1 != 0 {
        ctx.set_rpl_root(Some([
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        ]));
    }
    let mut frame = [0u8; 256];
    let len = body.len().min(frame.len() - 1);
    frame[0] = DISPATCH_PAGE1;
    frame[1..=len].copy_from_slice(&body[..len]);
    let frame = &frame[..=len];
    let mut small = [0u8; 96];
    let _ = decompress(frame, &src, &dst, &ctx, &mut small[..usize::from(sel >> 1) % 96]);
    let mut out = [0u8; 1400];
    if let Ok(n) = decompress(frame, &src, &dst, &ctx, &mut out) {
        let dgram = &out[..n];
        let opts = CompressOptions {
            rfc8138: true,
            ..CompressOptions::default()
        };
        let mut again = [0u8; 2048];
        if let Ok(m) = compress(dgram, &src, &dst, &ctx, opts, &mut again) {
            let mut back = [0u8; 1400];
            let k = decompress(&again[..m], &src, &dst, &ctx, &mut back)
                .expect("our own page-1 compression must decompress");
            // The one change page 1 makes: an RPL Option of RFC 6553's type 0x63 in the
            // hop-by-hop header after the first IPv6 header comes back as RFC 9008's 0x23.
            let mut want = [0u8; 1400];
            let want = &mut want[..n];
            want.copy_from_slice(dgram);
            if want[6] == 0 && want.get(41..44) == Some(&[0, 0x63, 4]) && back[..k].get(42) == Some(&0x23) {
                want[42] = 0x23;
            }
            assert_eq!(&back[..k], &*want, "round trip changed the datagram");
        }
    }
});
