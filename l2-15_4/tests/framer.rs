//! `mac::Framer` (the soft-MAC's headers, planned once per request shape) against smoltcp's
//! independent `Ieee802154Repr` emission, and its plan kept or rebuilt as the request or the
//! configuration changes.

use l2_15_4::frame::HeaderPlan;
use l2_15_4::mac::{EnqueueError, Framer, MacConfig, SrcAddrMode, TxRequest};
use l2_15_4::{Address, Channel, FrameType, FrameVersion, PanId, Repr};
use smoltcp::wire::{
    Ieee802154Address as SAddr, Ieee802154Frame as SFrame, Ieee802154FrameType as SType,
    Ieee802154FrameVersion as SVersion, Ieee802154Pan as SPan, Ieee802154Repr as SRepr,
};

const EXT: [u8; 8] = [0x02, 0x12, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x01];
const PEER: [u8; 8] = [0x02, 0, 0, 0xff, 0xfe, 0, 0, 0x02];

fn cfg(short: u16) -> MacConfig {
    let mut c = MacConfig::new(Channel::new(26).unwrap(), PanId(0xabcd), EXT);
    c.short_address = short;
    c
}

fn saddr(a: Address) -> SAddr {
    match a {
        Address::Short(s) => SAddr::Short(s.to_be_bytes()),
        Address::Extended(e) => SAddr::Extended(e),
    }
}

/// smoltcp's bytes for a 2006 data frame, PAN ID compressed when both PANs are equal.
fn smoltcp_header(seq: u8, dst: Address, dst_pan: u16, src: Address, src_pan: u16) -> Vec<u8> {
    let r = SRepr {
        frame_type: SType::Data,
        security_enabled: false,
        frame_pending: false,
        ack_request: dst.is_unicast(),
        sequence_number: Some(seq),
        pan_id_compression: dst_pan == src_pan,
        frame_version: SVersion::Ieee802154_2006,
        dst_pan_id: Some(SPan(dst_pan)),
        dst_addr: Some(saddr(dst)),
        src_pan_id: Some(SPan(src_pan)),
        src_addr: Some(saddr(src)),
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut SFrame::new_unchecked(&mut b[..]));
    b
}

fn emit(f: &mut Framer, c: &MacConfig, req: &TxRequest<'_>, seq: u8) -> Vec<u8> {
    let mut b = [0u8; 127];
    let n = f.plan(c, req).unwrap().emit(seq, &mut b).unwrap();
    b[..n].to_vec()
}

#[test]
fn headers_match_smoltcp_and_follow_the_configuration() {
    let mut f = Framer::new();
    let c = cfg(0x0001);
    // Short source to an extended destination (the endpoint benchmark's shape), several
    // sequence numbers from one plan.
    let req = TxRequest::data(Address::Extended(PEER), &[]);
    for seq in [0u8, 1, 200, 255] {
        let ours = emit(&mut f, &c, &req, seq);
        let theirs = smoltcp_header(seq, req.dst, 0xabcd, Address::Short(1), 0xabcd);
        assert_eq!(ours, theirs);
        let (r, p) = Repr::parse_frame(&ours).unwrap();
        assert_eq!(r.sequence_number, Some(seq));
        assert!(p.is_empty());
    }
    // Extended source asked for; then broadcast (no ACK request); then another PAN.
    let ext = TxRequest {
        src: SrcAddrMode::Extended,
        ..req
    };
    assert_eq!(
        emit(&mut f, &c, &ext, 9),
        smoltcp_header(9, req.dst, 0xabcd, Address::Extended(EXT), 0xabcd)
    );
    let bcast = TxRequest::data(Address::BROADCAST, &[]);
    assert_eq!(
        emit(&mut f, &c, &bcast, 10),
        smoltcp_header(10, Address::BROADCAST, 0xabcd, Address::Short(1), 0xabcd)
    );
    let other_pan = TxRequest {
        dst_pan: Some(PanId(0x1234)),
        ..req
    };
    assert_eq!(
        emit(&mut f, &c, &other_pan, 11),
        smoltcp_header(11, req.dst, 0x1234, Address::Short(1), 0xabcd)
    );
    // A configuration change takes effect on the next frame: new short address, no short
    // address (extended source), new PAN.
    let c2 = cfg(0x0042);
    assert_eq!(
        emit(&mut f, &c2, &req, 12),
        smoltcp_header(12, req.dst, 0xabcd, Address::Short(0x42), 0xabcd)
    );
    let c3 = cfg(0xfffe);
    assert_eq!(
        emit(&mut f, &c3, &req, 13),
        smoltcp_header(13, req.dst, 0xabcd, Address::Extended(EXT), 0xabcd)
    );
    let mut c4 = cfg(0x0001);
    c4.pan_id = PanId(0x7777);
    assert_eq!(
        emit(&mut f, &c4, &req, 14),
        smoltcp_header(14, req.dst, 0x7777, Address::Short(1), 0x7777)
    );
    // Each equals what Repr::new + emit_bytes write for the same header.
    let mut repr = Repr::new(
        FrameType::Data,
        FrameVersion::Ieee2006,
        Some(14),
        Some((PanId(0x7777), req.dst)),
        Some((PanId(0x7777), Address::Short(1))),
    )
    .unwrap();
    repr.ack_request = true;
    let mut b = [0u8; 127];
    let n = repr.emit_bytes(&mut b).unwrap();
    assert_eq!(emit(&mut f, &c4, &req, 14), b[..n].to_vec());
    assert_eq!(HeaderPlan::new(&repr).unwrap().buffer_len(), n);
}

#[test]
fn refuses_what_the_mac_refuses() {
    let mut f = Framer::new();
    let c = cfg(0x0001);
    let beacon = TxRequest {
        frame_type: FrameType::Beacon,
        ..TxRequest::data(Address::Extended(PEER), &[])
    };
    assert_eq!(
        f.plan(&c, &beacon).err(),
        Some(EnqueueError::InvalidParameter)
    );
    // 2015, extended to extended across two PANs: no encoding.
    let mut c15 = cfg(0xfffe);
    c15.frame_version = FrameVersion::Ieee2015;
    let across = TxRequest {
        dst_pan: Some(PanId(0x1234)),
        src: SrcAddrMode::Extended,
        ..TxRequest::data(Address::Extended(PEER), &[])
    };
    assert_eq!(
        f.plan(&c15, &across).err(),
        Some(EnqueueError::InvalidParameter)
    );
    // A good request after a refused one is planned.
    let ok = TxRequest::data(Address::Extended(PEER), &[]);
    assert!(f.plan(&c, &ok).is_ok());
}
