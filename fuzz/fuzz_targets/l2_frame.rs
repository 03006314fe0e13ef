//! Fuzz the IEEE 802.15.4 frame parser: parse → emit → parse must agree, the view's accessors
//! must never panic, and the FCS helpers must accept any length.
#![no_main]

use l2_15_4::frame::{fcs, Frame, HeaderIes, PayloadIes, Repr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fcs::verify(data);
    let view = Frame::new_unchecked(data);
    let _ = (view.sequence_number(), view.dst_pan_id(), view.dst_addr(), view.src_pan_id());
    let _ = (view.src_addr(), view.security(), view.payload_ies(), view.header_len());
    let Ok(repr) = Repr::parse_bytes(data) else {
        return;
    };
    let _ = HeaderIes::new(repr.header_ies).count();
    let _ = PayloadIes::new(repr.payload_ies).count();
    let payload = view.payload().unwrap_or(&[]);
    let mut buf = [0u8; 127];
    let n = repr.emit_bytes(&mut buf).expect("a parsed header re-emits");
    assert_eq!(n, repr.buffer_len());
    let end = n + payload.len();
    assert!(end <= 125, "re-emitted frame longer than the original");
    buf[n..end].copy_from_slice(payload);
    let again = Repr::parse_bytes(&buf[..end]).expect("re-emitted frame parses");
    assert_eq!(again, repr);
    let again_view = Frame::new_unchecked(&buf[..end]);
    assert_eq!(again_view.payload(), Some(payload));
});
