//! Fuzz the backbone input: the Ethernet header and Route Information Option codecs
//! (parse → emit → parse must agree), the ND validator, and whole frames through
//! `EthernetL2` + the netif core + the ND handler and its timers. The first byte picks the
//! mode: raw frame, or an ICMPv6 message wrapped in a valid Ethernet + IPv6 header with a
//! correct checksum (so the fuzzer reaches the ND logic). Nothing may panic or leak a buffer.
#![no_main]

use std::net::Ipv6Addr;

use ethernet::nd::NdMessage;
use ethernet::wire::{EthHeader, RouteInfo};
use ethernet::{EthConfig, EthernetL2, HostConfig, RouterConfig};
use libfuzzer_sys::fuzz_target;
use netif::{Duration, Instant, Lifetimes, Outcome, Prefix, Resources, Stack, StackConfig};

const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if let Ok(h) = EthHeader::parse(rest) {
        let mut out = [0u8; 18];
        h.emit(&mut out).expect("a parsed header re-emits");
        assert_eq!(EthHeader::parse(&out[..h.buffer_len()]), Ok(h));
    }
    if let Ok(r) = RouteInfo::parse(rest) {
        let mut out = [0u8; 24];
        if r.emit(&mut out).is_ok() {
            assert_eq!(RouteInfo::parse(&out[..r.buffer_len()]), Ok(r));
        }
    }
    let ll: Ipv6Addr = "fe80::1".parse().unwrap();
    let _ = NdMessage::parse(&ll, &"ff02::1".parse().unwrap(), 255, rest);

    let mut res = Resources::<8, 1600, 8, 4, 8>::new();
    let mut st = Stack::new(StackConfig::default(), &mut res);
    let mut cfg = EthConfig::new(MAC);
    cfg.router = Some(RouterConfig::announcing(
        Prefix::new("2001:db8:100::".parse().unwrap(), 64).unwrap(),
    ));
    cfg.host = Some(HostConfig { accept_rio: true, ..HostConfig::default() });
    let mut eth = EthernetL2::new(cfg);
    let t = Instant::from_secs(1);
    let i = st.add_iface(t, &eth.iface_config("eth0", true)).unwrap();
    eth.attach(&mut st, i).unwrap();
    st.set_admin(t, i, &mut eth, true).unwrap();
    let ours: Ipv6Addr = "2001:db8:2::2".parse().unwrap();
    let _ = eth.add_addr(&mut st, t, ours, 64, Lifetimes::INFINITE);

    let mut frame = Vec::new();
    if mode & 1 == 0 {
        frame.extend_from_slice(rest);
    } else {
        // Ethernet to us (or all-nodes), IPv6 hop limit 255 from a link-local neighbor.
        let dst = if mode & 2 == 0 { ours } else { "ff02::1".parse().unwrap() };
        let dst_mac = if mode & 2 == 0 { MAC } else { [0x33, 0x33, 0, 0, 0, 1] };
        frame.extend_from_slice(&dst_mac);
        frame.extend_from_slice(&[0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x86, 0xdd]);
        let len = rest.len().min(1400) as u16;
        frame.extend_from_slice(&[0x60, 0, 0, 0]);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(&[58, 255]);
        frame.extend_from_slice(&ll.octets());
        frame.extend_from_slice(&dst.octets());
        let start = frame.len();
        frame.extend_from_slice(&rest[..usize::from(len)]);
        netif::icmp::fill_checksum(&mut frame[start..], &ll, &dst);
    }
    for step in 0..3u64 {
        let now = t + Duration::from_secs(step * 2);
        if let Some(h) = EthernetL2::load_frame(st.pool_mut(), &frame) {
            if let Outcome::Local(d) = st.receive(now, i, &mut eth, h) {
                if let Some(d) = eth.handle_local(&mut st, now, d) {
                    st.pool_mut().free(d.packet);
                }
            }
        }
        eth.poll(now, &mut st);
        st.poll(now);
        st.transmit(now, i, &mut eth);
        while let Some(h) = eth.take_tx() {
            st.pool_mut().free(h);
        }
    }
});
