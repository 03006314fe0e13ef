//! Air efficiency: one-hop goodput of back-to-back 1232-byte UDP payloads, in simulated time.
//!
//! A sender compresses and fragments 1280-byte IPv6/UDP datagrams with `sixlo` (short
//! addresses, PAN ID compression, 116-byte MAC payloads, as the border router's `wpan0`
//! does) and keeps its soft-MAC's queue full; one hop away, with no other traffic and no loss,
//! a receiver reassembles and decompresses them with `sixlo` and checks every byte. The
//! simulated medium charges the real 802.15.4 timing: CSMA-CA backoffs, CCA, turnaround,
//! preamble, every byte at 32 µs, the ACK and the interframe space.
//!
//! Goodput is UDP payload bits delivered per second of simulated time between the first and
//! the last completed datagram (so the start-up is not counted). It is compared with two
//! ceilings: DESIGN.md's "about 118 kb/s" for short addresses, and the standard's own figure
//! for these exact frames — per frame the mean initial backoff ((2^macMinBE − 1) / 2 unit
//! backoff periods), CCA, turnaround, the frame, turnaround, the ACK and the interframe space.
//!
//! One gap in the simulated radio is charged by hand: after an idle CCA the soft-MAC calls
//! `transmit` and a real radio spends its RX→TX turnaround (up to aTurnaroundTime, 192 µs)
//! before the preamble, but the simulated medium starts the frame at once. The figures below
//! add 192 µs per frame to the measured time, so they are what a radio that uses the whole
//! aTurnaroundTime would get; the raw simulated figure is printed too.
//!
//! Simulated time is deterministic (seeded), so this is an exact measurement, not a timed
//! test; `docs/performance.md` records the figures (`cargo test -p sixgate-sim --test air --
//! --nocapture`).

use std::collections::HashMap;

use l2_15_4::consts::{
    BYTE_US, CCA_SYMBOLS, IMM_ACK_PSDU_LEN, SHR_PHR_LEN, SYMBOL_US, TURNAROUND_SYMBOLS,
    UNIT_BACKOFF_SYMBOLS, ifs,
};
use l2_15_4::radio::Channel;
use l2_15_4::{Address, MacConfig, PanId};
use netif::time::{Duration, Instant};
use sim::mac_node::{MacNode, MacNodeConfig, eui64};
use sim::{Link, NodeId, RadioConfig, SimConfig, Simulator, Topology};
use sixlo::{CompressOptions, ContextTable, Fragmenter, LinkAddr, Reassembler, Received};

/// MAC payload budget of a frame with short addresses and PAN ID compression (127 − 9 − 2).
const BUDGET: usize = 116;
/// DESIGN.md, "Numbers that matter": one hop, no contention, 1232-byte payloads, short
/// addresses.
const DESIGN_CEILING_BPS: f64 = 118_000.0;
const PAYLOAD: usize = 1232;
const DATAGRAMS: usize = 60;

fn datagram(seq: usize) -> Vec<u8> {
    let src = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 1];
    let dst = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 2];
    let udp_len = (PAYLOAD + 8) as u16;
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&udp_len.to_be_bytes());
    p.extend_from_slice(&[17, 64]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[0x16, 0x33, 0x16, 0x34]);
    p.extend_from_slice(&udp_len.to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34]);
    p.extend((0..PAYLOAD).map(|i| (i * 31 + seq * 7) as u8));
    p
}

fn fragments(p: &[u8], tag: u16, ctx: &ContextTable) -> Vec<Vec<u8>> {
    let src = LinkAddr::Short([0, 1]);
    let dst = LinkAddr::Short([0, 2]);
    let mut f = Fragmenter::new(p, src, dst, ctx, CompressOptions::default(), tag, BUDGET)
        .expect("a 1280-byte datagram fragments");
    let mut out = Vec::new();
    let mut buf = [0u8; 127];
    while let Some(n) = f.next_frame(&mut buf).expect("fragment fits the budget") {
        out.push(buf[..n].to_vec());
    }
    out
}

fn node(i: u16) -> MacNodeConfig {
    let mut mac = MacConfig::new(Channel::new(15).unwrap(), PanId(0xabcd), eui64(i));
    mac.short_address = i + 1;
    mac.seed = u32::from(i) + 77;
    MacNodeConfig {
        mac,
        backlog: 16,
        keep_received: 100_000,
    }
}

/// The standard's time for one frame of `psdu` bytes (MAC payload + 9-byte MHR + FCS) with
/// its ACK, in µs, with the mean initial backoff and no retries.
fn ideal_frame_us(psdu: usize) -> f64 {
    let min_be = 3u32;
    let mean_backoff =
        f64::from((1u32 << min_be) - 1) / 2.0 * (UNIT_BACKOFF_SYMBOLS * SYMBOL_US) as f64;
    let cca = (CCA_SYMBOLS * SYMBOL_US) as f64;
    let turnaround = (TURNAROUND_SYMBOLS * SYMBOL_US) as f64;
    let frame = ((SHR_PHR_LEN + psdu) as u64 * BYTE_US) as f64;
    let ack = ((SHR_PHR_LEN + IMM_ACK_PSDU_LEN) as u64 * BYTE_US) as f64;
    let ifs = ifs(psdu).as_micros() as f64;
    mean_backoff + cca + turnaround + frame + turnaround + ack + ifs
}

#[test]
fn one_hop_goodput_of_back_to_back_1232_byte_payloads() {
    let mut sim = Simulator::new(SimConfig::default(), Topology::full_mesh(2, Link::good()));
    for i in 0..2u16 {
        let c = node(i);
        sim.spawn(RadioConfig::default(), |id, r| MacNode::new(id, c, r))
            .unwrap();
    }
    let ctx = ContextTable::new();
    let sent: Vec<Vec<u8>> = (0..DATAGRAMS).map(datagram).collect();
    let mut queue: Vec<Vec<u8>> = Vec::new();
    for (k, p) in sent.iter().enumerate() {
        queue.extend(fragments(p, k as u16, &ctx));
    }
    let frames_per_datagram = queue.len() / DATAGRAMS;
    let psdus: Vec<usize> = fragments(&sent[0], 0, &ctx)
        .iter()
        .map(|f| f.len() + 9 + 2)
        .collect();
    queue.reverse();
    // Keep the sender's backlog full until every frame is handed over.
    let deadline = Instant::ZERO + Duration::from_secs(60);
    while sim.now() < deadline {
        if !queue.is_empty() {
            sim.with_node::<MacNode, _>(NodeId(0), |n, _, _| {
                while let Some(f) = queue.last() {
                    if !n.send(Address::Short(2), f) {
                        break;
                    }
                    queue.pop();
                }
            });
        }
        sim.run_for(Duration::from_millis(2));
        let tx = sim.node::<MacNode>(NodeId(0)).unwrap();
        if queue.is_empty() && tx.port().queued() == 0 {
            break;
        }
    }
    sim.run_for(Duration::from_millis(50));
    let rx = sim.node::<MacNode>(NodeId(1)).unwrap();
    let tx = sim.node::<MacNode>(NodeId(0)).unwrap();
    let txc = *tx.port().mac_counters();
    assert_eq!(
        txc.tx_no_ack, 0,
        "no frame may fail on a clean link: {txc:?}"
    );

    // Reassemble what arrived, in order, and note when each datagram completed.
    let mut r: Reassembler = Reassembler::default();
    let mut done: HashMap<usize, Instant> = HashMap::new();
    let mut out = [0u8; 1280];
    let (src, dst) = (LinkAddr::Short([0, 1]), LinkAddr::Short([0, 2]));
    for d in rx.received() {
        match r.receive(&d.payload, &src, &dst, &ctx, d.timestamp, &mut out) {
            Ok(Received::Complete(n)) => {
                let k = sent
                    .iter()
                    .position(|p| p.as_slice() == &out[..n])
                    .expect("a reassembled datagram is one that was sent, byte for byte");
                assert!(done.insert(k, d.timestamp).is_none(), "datagram {k} twice");
            }
            Ok(_) => {}
            Err(e) => panic!("reassembly refused a fragment: {e:?}"),
        }
    }
    assert_eq!(done.len(), DATAGRAMS, "every datagram arrives");
    let first = done[&0];
    let last = done[&(DATAGRAMS - 1)];
    let raw_secs = last.saturating_since(first).as_micros() as f64 / 1e6;
    let turnarounds = ((DATAGRAMS - 1) * frames_per_datagram) as f64;
    let secs = raw_secs + turnarounds * (TURNAROUND_SYMBOLS * SYMBOL_US) as f64 / 1e6;
    let bits = ((DATAGRAMS - 1) * PAYLOAD * 8) as f64;
    let raw_goodput = bits / raw_secs;
    let goodput = bits / secs;
    let ideal_us: f64 = psdus.iter().map(|&p| ideal_frame_us(p)).sum();
    let ideal_bps = (PAYLOAD * 8) as f64 / (ideal_us / 1e6);
    let of_design = goodput / DESIGN_CEILING_BPS * 100.0;
    let of_ideal = goodput / ideal_bps * 100.0;
    println!(
        "air efficiency: {DATAGRAMS} datagrams of {PAYLOAD} B, {frames_per_datagram} frames each \
         (PSDUs {psdus:?}); goodput {:.1} kb/s = {of_design:.1} % of DESIGN.md's 118 kb/s, \
         {of_ideal:.1} % of the standard's ceiling for these frames ({:.1} kb/s: {:.2} ms per \
         datagram); MAC: {} frames, {} retries, {} channel-access failures; raw simulated \
         goodput (no RX→TX turnaround) {:.1} kb/s",
        goodput / 1000.0,
        ideal_bps / 1000.0,
        ideal_us / 1000.0,
        txc.tx_frames,
        txc.tx_retries,
        txc.tx_channel_access_failures,
        raw_goodput / 1000.0,
    );
    // The target: at least 95 % of the theoretical figure in DESIGN.md; and, since
    // that figure is approximate, also of the standard's ceiling for these exact frames.
    assert!(
        of_design >= 95.0 && of_ideal >= 95.0,
        "goodput {:.1} kb/s is {of_design:.1} % of DESIGN.md's figure and {of_ideal:.1} % of \
         the ceiling for these frames",
        goodput / 1000.0
    );
}
