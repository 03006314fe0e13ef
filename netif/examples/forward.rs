//! The data flow of the interface core, end to end, on two dummy links: a mesh-side
//! interface (`wpan0`, MTU 1280) and a backbone-side interface (`eth0`, MTU 1500).
//!
//! It pings the router, forwards a UDP reading from a mesh host to a backbone host, shows a
//! Time Exceeded and a Packet Too Big, and prints every interface's counters.
//!
//! Run: `cargo run --release -p netif --example forward`

use std::net::Ipv6Addr;

use netif::dummy::{self, DummyL2, TwoLinkRouter};
use netif::{IfIndex, Instant, Outcome, Resources, Stack, StackConfig};

fn ip(s: &str) -> Ipv6Addr {
    s.parse().expect("literal address")
}

/// A UDP or ICMPv6 echo packet, by hand (the core's tests build them with smoltcp).
fn packet(src: Ipv6Addr, dst: Ipv6Addr, next: u8, hop_limit: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, hop_limit]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    if next == 58 {
        netif::icmp::fill_checksum(&mut p[40..], &src, &dst);
    }
    p
}

fn hexdump(b: &[u8]) -> String {
    b.iter()
        .take(48)
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join("")
        + if b.len() > 48 { "…" } else { "" }
}

struct Demo<'r> {
    st: Stack<'r>,
    links: [DummyL2; 2],
    now: Instant,
}

impl Demo<'_> {
    fn receive(&mut self, on: IfIndex, from_ll: [u8; 2], ipv6: &[u8], what: &str) {
        let mut frame = vec![0u8; ipv6.len() + dummy::HEADER_LEN];
        let to = if on.0 == 0 { [0, 1] } else { [0, 2] };
        DummyL2::frame(to, from_ll, ipv6, &mut frame);
        let name = self
            .st
            .iface(on)
            .map(|i| i.name().to_string())
            .unwrap_or_default();
        println!("\n>> {what}: {} bytes arrive on {name}", ipv6.len());
        // Like a real L2, keep what fits a pool buffer and record the length on the wire.
        let keep = frame.len().min(self.st.pool().max_packet());
        let Ok(h) = self.st.pool_mut().alloc_from(&frame[..keep]) else {
            println!("   (no free buffer)");
            return;
        };
        if keep < frame.len() {
            println!("   (larger than a pool buffer: {keep} bytes kept, wire length recorded)");
            if let Some(m) = self.st.pool_mut().meta_mut(&h) {
                m.wire_len = ipv6.len() as u16;
            }
        }
        let outcome = self.st.receive(self.now, on, &mut self.links[on.get()], h);
        match &outcome {
            Outcome::Local(d) => println!("   outcome: for handler {:?}", d.handler),
            o => println!("   outcome: {o:?}"),
        }
        if let Outcome::Local(d) = outcome {
            self.st.pool_mut().free(d.packet);
        }
        self.drain();
    }

    fn drain(&mut self) {
        for i in 0..2u8 {
            let idx = IfIndex(i);
            self.st
                .transmit(self.now, idx, &mut self.links[usize::from(i)]);
            while let Some(h) = self.links[usize::from(i)].take_tx() {
                let d = self.st.pool().data(&h);
                let ipv6 = &d[dummy::HEADER_LEN..];
                let kind = match (ipv6[6], ipv6.get(40)) {
                    (58, Some(1)) => "ICMPv6 Destination Unreachable",
                    (58, Some(2)) => "ICMPv6 Packet Too Big",
                    (58, Some(3)) => "ICMPv6 Time Exceeded",
                    (58, Some(129)) => "ICMPv6 Echo Reply",
                    (17, _) => "UDP",
                    _ => "IPv6",
                };
                let name = self
                    .st
                    .iface(idx)
                    .map(|x| x.name().to_string())
                    .unwrap_or_default();
                println!(
                    "<< {name} sends {kind}, {} bytes to link {:02x}{:02x}: {}",
                    ipv6.len(),
                    d[0],
                    d[1],
                    hexdump(ipv6)
                );
                self.st.pool_mut().free(h);
            }
        }
    }
}

fn main() {
    let mut res: Resources = Resources::new();
    let now = Instant::from_secs(1);
    let TwoLinkRouter {
        stack: mut st,
        links,
        mesh: wpan,
        backbone: eth,
    } = TwoLinkRouter::new(StackConfig::default(), &mut res, 1280).expect("router set-up");

    println!("sixgate netif demo: two interfaces, one core");
    for i in st.ifaces() {
        let addrs: Vec<String> = i
            .addrs()
            .iter()
            .map(|a| format!("{}/{}", a.addr, a.prefix_len))
            .collect();
        println!(
            "  {} ll {} mtu {} addrs {}",
            i.name(),
            i.ll_addr(),
            i.mtu(),
            addrs.join(", ")
        );
    }
    println!("  routes:");
    for r in st.routes().iter() {
        println!("    {} {:?}", r.prefix, r.action);
    }
    while let Some(e) = st.pop_event() {
        println!("  event: {e:?}");
    }

    let mut demo = Demo { st, links, now };
    let mesh_host = ip("2001:db8:1::ff:fe00:5");
    let backbone_host = ip("2001:db8:2::ff:fe00:9");
    let echo = [128, 0, 0, 0, 0x12, 0x34, 0, 1, b'h', b'i'];
    demo.receive(
        wpan,
        [0, 5],
        &packet(mesh_host, ip("2001:db8:1::1"), 58, 64, &echo),
        "ping to the router",
    );
    let udp = [0x16, 0x33, 0xf0, 0xb0, 0, 12, 0, 0, b'2', b'1', b'.', b'5'];
    demo.receive(
        wpan,
        [0, 5],
        &packet(mesh_host, backbone_host, 17, 64, &udp),
        "UDP reading to the backbone",
    );
    demo.receive(
        wpan,
        [0, 5],
        &packet(mesh_host, backbone_host, 17, 1, &udp),
        "hop limit 1",
    );
    let big = vec![0u8; 1300 - 40];
    demo.receive(
        eth,
        [0, 9],
        &packet(backbone_host, mesh_host, 17, 64, &big),
        "1300 bytes toward the mesh",
    );

    println!("\ncounters:");
    for i in demo.st.ifaces() {
        let s = i.stats();
        let drops: Vec<String> = s
            .drops_by_reason()
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| format!("{r}={n}"))
            .collect();
        println!(
            "  {}: rx {} tx {} forwarded {} delivered {} icmp_errors {} drops [{}]",
            i.name(),
            s.rx_packets,
            s.tx_packets,
            s.forwarded,
            s.delivered,
            s.icmp_errors_sent,
            drops.join(" ")
        );
    }
    println!(
        "  pool: {}/{} buffers free",
        demo.st.pool().available(),
        demo.st.pool().capacity()
    );
}
