//! compress+fragment and reassemble+decompress of a 1280-byte IPv6/UDP datagram, ns per
//! datagram, sixlo side by side with smoltcp 0.14's wire-level equivalent
//! (`SixlowpanIphcRepr` + `SixlowpanUdpNhcRepr` + `SixlowpanFragRepr`, the way smoltcp's own
//! interface compresses into a buffer and then cuts fragments).
//!
//! MAC payload budget: 116 bytes (127-byte PSDU, short addresses, PAN ID compression, no
//! security: 9-byte MHR + 2-byte FCS). UDP checksum handling is skipped on both sides (carried
//! inline, neither computed nor verified), so both do the same work.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-sixlo cargo bench -p sixlo`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use netif::time::Instant;
use sixlo::{CompressOptions, ContextTable, Fragmenter, LinkAddr, Reassembler, Received};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    Ieee802154Address, IpAddress, Ipv6Packet, Ipv6Repr, SixlowpanFragPacket, SixlowpanFragRepr,
    SixlowpanIphcPacket, SixlowpanIphcRepr, SixlowpanNextHeader, SixlowpanUdpNhcPacket,
    SixlowpanUdpNhcRepr, UdpPacket, UdpRepr,
};

const BUDGET: usize = 116;
const SRC: LinkAddr = LinkAddr::Short([0x00, 0x01]);
const DST: LinkAddr = LinkAddr::Short([0x00, 0x02]);
const SM_SRC: Ieee802154Address = Ieee802154Address::Short([0x00, 0x01]);
const SM_DST: Ieee802154Address = Ieee802154Address::Short([0x00, 0x02]);

type Frames = Vec<([u8; 127], usize)>;

fn datagram() -> Vec<u8> {
    let src = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 1];
    let dst = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 2];
    let payload_len = 1280 - 48;
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&((payload_len + 8) as u16).to_be_bytes());
    p.extend_from_slice(&[17, 64]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[0x16, 0x33, 0x16, 0x34]);
    p.extend_from_slice(&((payload_len + 8) as u16).to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34]);
    p.extend((0..payload_len).map(|i| i as u8));
    p
}

fn ours_tx(p: &[u8], ctx: &ContextTable, frames: &mut Frames) -> usize {
    let mut f = Fragmenter::new(p, SRC, DST, ctx, CompressOptions::default(), 7, BUDGET).unwrap();
    let mut n = 0;
    while let Some(len) = f.next_frame(&mut frames[n].0).unwrap() {
        frames[n].1 = len;
        n += 1;
    }
    n
}

fn ours_rx(
    r: &mut Reassembler,
    ctx: &ContextTable,
    frames: &Frames,
    n: usize,
    out: &mut [u8],
) -> usize {
    let mut got = 0;
    for (f, len) in &frames[..n] {
        if let Received::Complete(m) = r
            .receive(&f[..*len], &SRC, &DST, ctx, Instant::ZERO, out)
            .unwrap()
        {
            got = m;
        }
    }
    got
}

fn smol_tx(p: &[u8], scratch: &mut [u8], frames: &mut Frames) -> usize {
    let caps = ChecksumCapabilities::ignored();
    let ip = Ipv6Packet::new_checked(p).unwrap();
    let ipr = Ipv6Repr::parse(&ip).unwrap();
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    let (s, d) = (IpAddress::Ipv6(ipr.src_addr), IpAddress::Ipv6(ipr.dst_addr));
    let udpr = UdpRepr::parse(&udp, &s, &d, &caps).unwrap();
    let iphc = SixlowpanIphcRepr {
        src_addr: ipr.src_addr,
        ll_src_addr: Some(SM_SRC),
        dst_addr: ipr.dst_addr,
        ll_dst_addr: Some(SM_DST),
        next_header: SixlowpanNextHeader::Compressed,
        hop_limit: ipr.hop_limit,
        ecn: None,
        dscp: None,
        flow_label: None,
    };
    let hl = iphc.buffer_len();
    iphc.emit(&mut SixlowpanIphcPacket::new_unchecked(&mut scratch[..hl]));
    let nhc = SixlowpanUdpNhcRepr(udpr);
    let nl = nhc.header_len();
    let payload = udp.payload();
    let clen = hl + nl + payload.len();
    nhc.emit(
        &mut SixlowpanUdpNhcPacket::new_unchecked(&mut scratch[hl..clen]),
        &ipr.src_addr,
        &ipr.dst_addr,
        payload.len(),
        |b| b[..payload.len()].copy_from_slice(payload),
        &caps,
    );
    // Cut fragments as smoltcp's interface does: FRAG1 with the compressed headers and an
    // 8-aligned share of payload, then FRAGNs.
    let size = p.len() as u16;
    let unc_hdr = 48;
    let first_payload = ((BUDGET - 4 - (hl + nl) + unc_hdr) / 8 * 8) - unc_hdr;
    let f1 = SixlowpanFragRepr::FirstFragment { size, tag: 7 };
    let (buf, len) = &mut frames[0];
    f1.emit(&mut SixlowpanFragPacket::new_unchecked(&mut buf[..]));
    let first_end = hl + nl + first_payload;
    buf[4..4 + first_end].copy_from_slice(&scratch[..first_end]);
    *len = 4 + first_end;
    let mut sent = unc_hdr + first_payload;
    let mut pos = first_end;
    let per = (BUDGET - 5) / 8 * 8;
    let mut n = 1;
    while sent < p.len() {
        let chunk = per.min(p.len() - sent);
        let fr = SixlowpanFragRepr::Fragment {
            size,
            tag: 7,
            offset: (sent / 8) as u8,
        };
        let (buf, len) = &mut frames[n];
        fr.emit(&mut SixlowpanFragPacket::new_unchecked(&mut buf[..]));
        buf[5..5 + chunk].copy_from_slice(&scratch[pos..pos + chunk]);
        *len = 5 + chunk;
        pos += chunk;
        sent += chunk;
        n += 1;
    }
    n
}

fn smol_rx(frames: &Frames, n: usize, out: &mut [u8]) -> usize {
    let caps = ChecksumCapabilities::ignored();
    let mut received = 0;
    let mut total = 0;
    for (f, len) in &frames[..n] {
        let fp = SixlowpanFragPacket::new_checked(&f[..*len]).unwrap();
        match SixlowpanFragRepr::parse(&fp).unwrap() {
            SixlowpanFragRepr::FirstFragment { size, .. } => {
                total = usize::from(size);
                let data = fp.payload();
                let ip = SixlowpanIphcPacket::new_checked(data).unwrap();
                let r = SixlowpanIphcRepr::parse(&ip, Some(SM_SRC), Some(SM_DST), &[]).unwrap();
                let hl = r.buffer_len();
                let nhcp = SixlowpanUdpNhcPacket::new_checked(&data[hl..]).unwrap();
                let u = SixlowpanUdpNhcRepr::parse(&nhcp, &r.src_addr, &r.dst_addr, &caps).unwrap();
                let ipr = Ipv6Repr {
                    src_addr: r.src_addr,
                    dst_addr: r.dst_addr,
                    next_header: smoltcp::wire::IpProtocol::Udp,
                    payload_len: total - 40,
                    hop_limit: r.hop_limit,
                };
                ipr.emit(&mut Ipv6Packet::new_unchecked(&mut out[..40]));
                let mut up = UdpPacket::new_unchecked(&mut out[40..48]);
                up.set_src_port(u.src_port);
                up.set_dst_port(u.dst_port);
                up.set_len((total - 40) as u16);
                up.set_checksum(nhcp.checksum().unwrap_or(0));
                let pl = nhcp.payload();
                out[48..48 + pl.len()].copy_from_slice(pl);
                received += 48 + pl.len();
            }
            SixlowpanFragRepr::Fragment { offset, .. } => {
                let data = fp.payload();
                let at = usize::from(offset) * 8;
                out[at..at + data.len()].copy_from_slice(data);
                received += data.len();
            }
        }
    }
    assert_eq!(received, total);
    total
}

fn bench(c: &mut Criterion) {
    let p = datagram();
    let ctx = ContextTable::new();
    let mut frames: Frames = vec![([0u8; 127], 0); 20];
    let mut scratch = vec![0u8; 1400];
    let mut out = vec![0u8; 1280];

    // Cross-check once: both sides produce frames the other side reassembles to `p`.
    let n = ours_tx(&p, &ctx, &mut frames);
    assert_eq!(smol_rx(&frames, n, &mut out), 1280);
    assert!(out == p);
    let m = smol_tx(&p, &mut scratch, &mut frames);
    let mut r: Reassembler = Reassembler::default();
    assert_eq!(ours_rx(&mut r, &ctx, &frames, m, &mut out), 1280);
    // smoltcp with checksums ignored leaves the UDP checksum field zero.
    assert!(out[..46] == p[..46] && out[48..] == p[48..]);
    assert_eq!(n, m, "same frame count");

    let mut g = c.benchmark_group("compress+fragment 1280B");
    g.bench_function("sixlo", |b| {
        b.iter(|| ours_tx(black_box(&p), &ctx, &mut frames))
    });
    g.bench_function("smoltcp", |b| {
        b.iter(|| smol_tx(black_box(&p), &mut scratch, &mut frames))
    });
    g.finish();

    let n = ours_tx(&p, &ctx, &mut frames);
    let mut g = c.benchmark_group("reassemble+decompress 1280B");
    g.bench_function("sixlo", |b| {
        b.iter(|| ours_rx(&mut r, &ctx, black_box(&frames), n, &mut out))
    });
    g.bench_function("smoltcp", |b| {
        b.iter(|| smol_rx(black_box(&frames), n, &mut out))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
