//! Cost of link-layer security on the simulator's leaves.
//!
//! 1. CCM* (ENC-MIC-32, software AES: `aes::Aes128`) on a full 127-byte PSDU (21-byte MAC
//!    header, 6-byte auxiliary security header, 94-byte payload, 4-byte MIC, FCS): securing
//!    and opening one frame, timed by criterion.
//! 2. Printed first: the frames one 1232-byte UDP datagram takes over one hop between two
//!    smoltcp leaves, security off and on (smoltcp's fragments re-cut to the secured room).
//!
//! `cargo bench -p sim --bench security -- --measurement-time 2`

use std::net::Ipv6Addr;

use aes::Aes128;
use capture_file::SharedBuf;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use l2_15_4::frame::{AuxSecurityHeader, KeyId, Security, SecurityLevel};
use l2_15_4::radio::Channel;
use l2_15_4::security::{Key, KeyedCipher, derive_thread_keys, secure, unsecure};
use l2_15_4::{Address, FrameType, FrameVersion, PanId, Repr};
use netif::time::Instant;
use sim::mac_node::{NetworkKey, eui64};
use sim::smol::{SmolNode, SmolNodeConfig};
use sim::{CaptureMode, Link, NodeId, RadioConfig, SimConfig, Simulator, Topology};
use std::hint::black_box;

const PAN: PanId = PanId(0xabcd);
const PREFIX: [u8; 8] = [0xfd, 0, 0, 0, 0, 0, 0, 1];
const NETWORK_KEY: [u8; 16] = [0x42; 16];

/// A secured-layout 125-byte MPDU (the MIC's room at the end, not yet secured).
fn frame() -> Vec<u8> {
    let mut repr = Repr::new(
        FrameType::Data,
        FrameVersion::Ieee2006,
        Some(7),
        Some((PAN, Address::Extended(eui64(2)))),
        Some((PAN, Address::Extended(eui64(1)))),
    )
    .unwrap_or_else(|_| unreachable!());
    repr.security = Some(Security::Aux(AuxSecurityHeader {
        level: SecurityLevel::new(5),
        key_id: KeyId::Index(1),
        frame_counter: Some(1000),
        asn_in_nonce: false,
    }));
    let mut f = vec![0u8; 125];
    let h = repr.emit_bytes(&mut f).unwrap_or_else(|_| unreachable!());
    for (i, b) in f[h..121].iter_mut().enumerate() {
        *b = i as u8;
    }
    f
}

/// Frames node 1 puts on the air for one 1232-byte datagram to node 0.
fn frames_per_datagram(key: Option<NetworkKey>) -> usize {
    let mut sim = Simulator::new(SimConfig::default(), Topology::full_mesh(2, Link::good()));
    for i in 0..2u16 {
        let mut c = SmolNodeConfig::new(
            i,
            Channel::new(15).unwrap_or_else(|| unreachable!()),
            PAN,
            PREFIX,
        );
        c.network_key = key;
        c.echo_port = None;
        sim.spawn(RadioConfig::default(), |id, r| SmolNode::new(id, c, r))
            .unwrap_or_else(|_| unreachable!());
    }
    let dst: Ipv6Addr = SmolNodeConfig::new(
        0,
        Channel::new(15).unwrap_or_else(|| unreachable!()),
        PAN,
        PREFIX,
    )
    .global()
    .unwrap_or_else(|| unreachable!());
    // Neighbour discovery first, so that the capture holds only the datagram.
    sim.with_node::<SmolNode, _>(NodeId(1), |n, _, _| n.send_udp(dst, 9, b"nd"));
    sim.run_until(Instant::from_secs(1));
    let buf = SharedBuf::default();
    let _ = sim
        .medium()
        .start_capture(Box::new(buf.clone()), CaptureMode::Air);
    sim.with_node::<SmolNode, _>(NodeId(1), |n, _, _| n.send_udp(dst, 9, &[0x5a; 1232]));
    sim.run_until(Instant::from_secs(3));
    let _ = sim.medium().finish_capture();
    let Ok(c) = capture_file::read_15_4(&buf.bytes()) else {
        return 0;
    };
    c.frames
        .iter()
        .filter(|f| {
            Repr::parse_bytes(&f.psdu[..f.psdu.len() - 2])
                .is_ok_and(|r| r.src_addr == Some(Address::Extended(eui64(1))))
        })
        .count()
}

fn bench(c: &mut Criterion) {
    let off = frames_per_datagram(None);
    let on = frames_per_datagram(Some(NetworkKey(NETWORK_KEY)));
    println!("one 1232-byte UDP datagram over one hop: {off} frames unsecured, {on} secured");

    let key = derive_thread_keys(&Key::new(NETWORK_KEY), 0).mac;
    let aes = Aes128::with_key(&key);
    let plain = frame();
    let mut sealed = plain.clone();
    let _ = secure(&aes, &mut sealed, None);
    let mut g = c.benchmark_group("ccm_star_127_byte_psdu");
    g.bench_function("secure", |b| {
        b.iter_batched_ref(
            || plain.clone(),
            |f| secure(&aes, black_box(f), None).is_ok(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("open", |b| {
        b.iter_batched_ref(
            || sealed.clone(),
            |f| unsecure(&aes, black_box(f), None).is_ok(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
