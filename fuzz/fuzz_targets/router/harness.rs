//! The harness: the router, its two drivers, virtual time, and the operations the input
//! drives (frames on both interfaces, time, channel, carrier, run-time changes).

use std::net::Ipv6Addr;

use crate::drivers::{Air, FuzzEth, FuzzRadio};
use crate::packets::{data_frame, ipv6, wants_ack};
use crate::{
    ALL_NODES, BACKBONE, ETH_MAX, FOREIGN, Input, LINK_LOCAL, MAX_TIME, MULTICAST, SPIN_LIMIT,
    capture_filter, eui_iid, host_mac, mac_iid, node_eui, node_short, short_iid, with_iid,
};
use firmware::app::App;
use l2_15_4::frame::{Address, fcs};
use l2_15_4::radio::{Channel, RadioError, RadioEvent, TxOutcome, testing};
use netif::{Duration, IfIndex, Instant};
use sixlo::{CompressOptions, Fragmenter, LinkAddr};

/// The router, its two drivers, virtual time, and what was fed (for the invariants).
pub(crate) struct Harness<'r> {
    pub(crate) app: App<'r>,
    pub(crate) radio: FuzzRadio,
    /// The channel's behaviour.
    pub(crate) air: Air,
    pub(crate) eth: FuzzEth,
    pub(crate) now: Instant,
    pub(crate) seq: u8,
    /// PSDUs handed to the MAC since it was last rebuilt.
    pub(crate) radio_fed: u64,
    /// PSDUs fed in all.
    pub(crate) radio_fed_total: u64,
    /// Ethernet frames queued in the driver in all.
    pub(crate) eth_fed: u64,
    /// `rx_no_buffer_wpan` + `wpan0` frames when the MAC was last rebuilt.
    pub(crate) wpan_rx_base: u64,
    /// `wpan0` / `eth0` were administratively down at some point.
    pub(crate) wpan_was_down: bool,
    pub(crate) eth_was_down: bool,
    pub(crate) wpan_up: bool,
    pub(crate) eth_up: bool,
    /// The MAC was promiscuous at some point (it then passes ACK frames up uncounted).
    pub(crate) was_promiscuous: bool,
    /// Capture records popped.
    pub(crate) popped: u64,
    /// The largest snap length any capture filter had.
    pub(crate) max_snaplen: u16,
    /// The Ethernet cable is plugged in (no cable: a mesh router's `eth0`).
    pub(crate) cable: bool,
}

impl<'r> Harness<'r> {
    /// The harness around a started `app` whose Ethernet has a cable (`cable`) or not, set
    /// up as the input's first byte says (bit 1 capture running on both interfaces, bit 2
    /// promiscuous records too, bit 3 explicit context IDs in IPHC, bits 4-7 the capture
    /// snap length in units of 16 bytes, 0: whole frames), run up to time zero and checked.
    pub(crate) fn start(app: App<'r>, radio: FuzzRadio, cable: bool, setup: u8) -> Self {
        let eth = FuzzEth {
            mac: app.config().eth_mac,
            rx: std::collections::VecDeque::new(),
            delivered: 0,
            carrier: cable,
            busy: false,
            fail_next: false,
        };
        let mut h = Harness {
            app,
            radio,
            air: Air::Perfect,
            eth,
            now: Instant::ZERO,
            seq: 0,
            radio_fed: 0,
            radio_fed_total: 0,
            eth_fed: 0,
            wpan_rx_base: 0,
            wpan_was_down: false,
            eth_was_down: false,
            wpan_up: true,
            eth_up: true,
            was_promiscuous: false,
            popped: 0,
            max_snaplen: 0,
            cable,
        };
        if setup & 2 != 0 {
            // wpan0 and eth0, promiscuous records if bit 2, snap length from bits 4-7.
            h.max_snaplen = capture_filter(&mut h.app, 3 | (setup & 4) | (setup & 0xf0));
        }
        h.app.set_explicit_context_id(setup & 8 != 0);
        h.run_until(Instant::ZERO);
        h.check();
        h
    }

    pub(crate) fn wpan_i(&self) -> IfIndex {
        self.app.wpan_index()
    }
    pub(crate) fn eth_i(&self) -> IfIndex {
        self.app.eth_index()
    }
    pub(crate) fn mesh_prefix(&self) -> [u8; 8] {
        self.app.config().mesh_prefix
    }
    pub(crate) fn br_eui(&self) -> [u8; 8] {
        self.app.config().eui64
    }

    /// Address `k` of interface `i` as its stack lists it (`fallback` when it has none).
    pub(crate) fn own_addr(&self, i: IfIndex, k: usize, fallback: Ipv6Addr) -> Ipv6Addr {
        let a = self.app.stack().iface(i).map(|x| x.addrs()).unwrap_or(&[]);
        a.get(k % a.len().max(1)).map_or(fallback, |a| a.addr)
    }

    /// Multicast group `k` interface `i` has joined.
    pub(crate) fn own_group(&self, i: IfIndex, k: usize) -> Ipv6Addr {
        let g = self
            .app
            .stack()
            .iface(i)
            .map(|x| x.multicast_groups())
            .unwrap_or(&[]);
        g.get(k % g.len().max(1)).map_or(ALL_NODES, |g| g.addr)
    }

    /// A destination address: category in the low 3 bits of `sel`, index in the rest.
    pub(crate) fn dst_addr(&self, sel: u8) -> Ipv6Addr {
        let k = usize::from(sel >> 3);
        match sel & 7 {
            0 => self.own_addr(self.wpan_i(), k, FOREIGN),
            1 => self.own_addr(self.eth_i(), k, FOREIGN),
            2 => self.own_group(self.wpan_i(), k),
            3 => MULTICAST[k % MULTICAST.len()],
            4 => with_iid(self.mesh_prefix(), eui_iid(node_eui(k))),
            5 => {
                let [a, b, c, d] = BACKBONE;
                Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0x10 + k as u16)
            }
            6 => self.own_group(self.eth_i(), k),
            _ => with_iid(LINK_LOCAL, eui_iid(node_eui(k))),
        }
    }

    /// A source address for mesh node `node`: category in the low 3 bits of `sel`.
    pub(crate) fn mesh_src(&self, sel: u8, node: usize) -> Ipv6Addr {
        let k = usize::from(sel >> 3);
        match sel & 7 {
            0 => with_iid(LINK_LOCAL, eui_iid(node_eui(node))),
            1 => with_iid(self.mesh_prefix(), eui_iid(node_eui(node))),
            2 => with_iid(self.mesh_prefix(), short_iid(node_short(node))),
            3 => with_iid(LINK_LOCAL, short_iid(node_short(node))),
            4 => Ipv6Addr::UNSPECIFIED,
            5 => FOREIGN,
            6 => self.dst_addr(5 | (sel & 0xf8)),
            _ => self.own_addr(self.wpan_i(), k, FOREIGN),
        }
    }

    /// A source address for backbone host `host`.
    pub(crate) fn eth_src(&self, sel: u8, host: usize) -> Ipv6Addr {
        let k = usize::from(sel >> 3);
        match sel & 7 {
            0 => with_iid(LINK_LOCAL, mac_iid(host_mac(host))),
            1 => self.dst_addr(5 | ((host as u8) << 3)),
            2 => Ipv6Addr::UNSPECIFIED,
            3 => with_iid(self.mesh_prefix(), eui_iid(node_eui(k))),
            4 => self.own_addr(self.eth_i(), k, FOREIGN),
            5 => FOREIGN,
            6 => Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
            _ => with_iid(LINK_LOCAL, eui_iid(self.br_eui())),
        }
    }

    /// Hand a PSDU to the router as received now.
    pub(crate) fn receive_psdu(&mut self, psdu: &[u8]) {
        let Some(channel) = Channel::new(self.app.config().channel) else {
            return;
        };
        let rx = testing::received(psdu, self.now, channel);
        self.radio_fed += 1;
        self.radio_fed_total += 1;
        self.app
            .on_radio_event(self.now, RadioEvent::Received(rx), &mut self.radio);
    }

    /// End every transmission the radio started, as the channel's behaviour says; a perfect
    /// channel acknowledges unicast frames that ask.
    pub(crate) fn complete_tx(&mut self) {
        for _ in 0..SPIN_LIMIT {
            let Some(rec) = self.radio.pop_sent() else {
                return;
            };
            let (start, psdu) = (rec.at, rec.psdu);
            // Preamble, SFD and PHR (6 bytes) plus the PSDU, 32 µs per byte.
            let end = start + Duration::from_micros((6 + psdu.len() as u64) * 32);
            self.now = self.now.max(end);
            let outcome = match self.air {
                Air::Perfect | Air::NoAck | Air::Refusing => TxOutcome::Sent,
                Air::Busy => TxOutcome::ChannelBusy,
                Air::Failing => TxOutcome::Failed(RadioError::Hardware),
            };
            let ev = RadioEvent::TxDone { end, outcome };
            self.app.on_radio_event(self.now, ev, &mut self.radio);
            if self.air == Air::Perfect
                && let Some(seq) = wants_ack(&psdu)
            {
                // Imm-Ack 12 symbols after the frame (IEEE 802.15.4-2006 §7.5.6.4.2).
                self.now = self.now.max(end + Duration::from_micros(12 * 16 + 11 * 32));
                let mut ack = vec![0x02, 0x00, seq];
                ack.extend_from_slice(&fcs::compute(&ack).to_le_bytes());
                self.receive_psdu(&ack);
            }
        }
        panic!("the border router never stops transmitting");
    }

    pub(crate) fn poll(&mut self) {
        self.app.poll(self.now, &mut self.radio, &mut self.eth);
    }

    /// Run every timer up to `t`, as a shell does.
    pub(crate) fn run_until(&mut self, t: Instant) {
        for _ in 0..SPIN_LIMIT {
            self.complete_tx();
            match self.app.next_deadline() {
                Some(d) if d <= t => {
                    self.now = self.now.max(d);
                    self.poll();
                }
                _ => {
                    self.now = self.now.max(t);
                    self.poll();
                    self.complete_tx();
                    return;
                }
            }
        }
        panic!("the border router's deadlines never pass {t:?}");
    }

    /// After input: the shell polls, transmissions end.
    pub(crate) fn settle(&mut self) {
        self.poll();
        self.complete_tx();
        while self.app.pop_event().is_some() {}
        while self.app.pop_ping().is_some() {}
    }

    pub(crate) fn mac_rebuilt(&mut self) {
        self.radio_fed = 0;
        self.wpan_rx_base = self.app.stats().rx_no_buffer_wpan + self.app.wpan().stats().rx_frames;
    }

    // ----- operations ------------------------------------------------------------------

    pub(crate) fn radio_psdu(&mut self, arg: u8, inp: &mut Input<'_>) {
        let len = usize::from(inp.byte());
        let mut psdu = inp.bytes(len).to_vec();
        if arg & 1 == 0 {
            psdu.extend_from_slice(&fcs::compute(&psdu).to_le_bytes());
        }
        self.receive_psdu(&psdu);
    }

    /// `ll`: bits 0-1 node, bit 2 short source, bits 3-4 destination (router extended,
    /// router short, broadcast, another node), bit 5 ACK request, bit 6 a foreign PAN,
    /// bit 7 repeat the last sequence number (a duplicate).
    pub(crate) fn link_addrs(&mut self, ll: u8) -> (Address, Address, u16, bool, u8) {
        let node = usize::from(ll & 3);
        let src = if ll & 4 != 0 {
            Address::Short(node_short(node))
        } else {
            Address::Extended(node_eui(node))
        };
        let cfg = self.app.config();
        let dst = match (ll >> 3) & 3 {
            0 => Address::Extended(cfg.eui64),
            1 => Address::Short(cfg.short_address),
            2 => Address::BROADCAST,
            _ => Address::Extended(node_eui(node + 1)),
        };
        let pan = if ll & 0x40 != 0 {
            cfg.pan_id ^ 0x5555
        } else {
            cfg.pan_id
        };
        if ll & 0x80 == 0 {
            self.seq = self.seq.wrapping_add(1);
        }
        (src, dst, pan, ll & 0x20 != 0, self.seq)
    }

    pub(crate) fn radio_data(&mut self, inp: &mut Input<'_>) {
        let ll = inp.byte();
        let len = usize::from(inp.byte());
        let payload = inp.bytes(len);
        let (src, dst, pan, ack, seq) = self.link_addrs(ll);
        let f = data_frame(seq, pan, dst, src, ack, payload);
        self.receive_psdu(&f);
    }

    /// `frag`: bit 0 reversed order, bit 1 no checksum fix-up, bits 2-7 drop frame 0-5.
    pub(crate) fn radio_datagram(&mut self, arg: u8, inp: &mut Input<'_>) {
        let ll = inp.byte();
        let (src_sel, dst_sel, next, hops, frag) =
            (inp.byte(), inp.byte(), inp.byte(), inp.byte(), inp.byte());
        let len = usize::from(inp.byte());
        let payload = inp.bytes(len).repeat(usize::from(arg) + 1);
        let node = usize::from(ll & 3);
        let src_ip = self.mesh_src(src_sel, node);
        let dst_ip = self.dst_addr(dst_sel);
        let dgram = ipv6(src_ip, dst_ip, next, hops, &payload, frag & 2 == 0, 1280);
        let (src, dst, pan, ack, _) = self.link_addrs(ll & 0x7f);
        let contexts = self.app.wpan().contexts().clone();
        let tag = u16::from(self.seq) << 8 | u16::from(hops);
        let budget = firmware::wpan::payload_budget(&dst);
        let Ok(mut f) = Fragmenter::new(
            &dgram,
            LinkAddr::from(src),
            LinkAddr::from(dst),
            &contexts,
            CompressOptions::default(),
            tag,
            budget,
        ) else {
            return;
        };
        let mut frames = Vec::new();
        let mut buf = [0u8; 127];
        while let Ok(Some(n)) = f.next_frame(&mut buf) {
            if frames.len() >= 64 {
                break;
            }
            frames.push(buf[..n].to_vec());
        }
        if frag & 1 != 0 {
            frames.reverse();
        }
        for (k, p) in frames.iter().enumerate() {
            if k < 6 && frag & (4 << k) != 0 {
                continue;
            }
            self.seq = self.seq.wrapping_add(1);
            let psdu = data_frame(self.seq, pan, dst, src, ack, p);
            self.receive_psdu(&psdu);
        }
    }

    pub(crate) fn eth_raw(&mut self, inp: &mut Input<'_>) {
        let len = usize::from(inp.u16()).min(ETH_MAX);
        let f = inp.bytes(len).to_vec();
        self.eth.rx.push_back(f);
        self.eth_fed += 1;
    }

    /// `mac`: bits 0-1 host, bits 2-4 destination MAC (router, the IPv6 destination's
    /// multicast MAC, broadcast, another host, all-nodes), bit 5 multicast source, bit 6
    /// the router's own source (a loop), bit 7 an 802.1Q tag.
    pub(crate) fn eth_ipv6(&mut self, inp: &mut Input<'_>) {
        let mac = inp.byte();
        let (src_sel, dst_sel, next, hops, fix) =
            (inp.byte(), inp.byte(), inp.byte(), inp.byte(), inp.byte());
        let len = usize::from(inp.u16());
        let payload = inp.bytes(len);
        let host = usize::from(mac & 3);
        let src_ip = self.eth_src(src_sel, host);
        let dst_ip = self.dst_addr(dst_sel);
        let ours = self.app.config().eth_mac;
        let d = dst_ip.octets();
        let dst_mac = match (mac >> 2) & 7 {
            0 | 5 => ours,
            1 | 6 => [0x33, 0x33, d[12], d[13], d[14], d[15]],
            2 => [0xff; 6],
            3 => host_mac(host + 1),
            _ => [0x33, 0x33, 0, 0, 0, 1],
        };
        let src_mac = if mac & 0x20 != 0 {
            [0x33, 0x33, 0, 0, 0, 1]
        } else if mac & 0x40 != 0 {
            ours
        } else {
            host_mac(host)
        };
        let mut f = dst_mac.to_vec();
        f.extend_from_slice(&src_mac);
        if mac & 0x80 != 0 {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        }
        f.extend_from_slice(&[0x86, 0xdd]);
        f.extend(ipv6(
            src_ip,
            dst_ip,
            next,
            hops,
            payload,
            fix & 1 == 0,
            ETH_MAX - f.len(),
        ));
        self.eth.rx.push_back(f);
        self.eth_fed += 1;
    }

    /// 1 ms to 63 ms, 20 ms steps to 1.26 s, 0.5 s steps to 31.5 s, 10 s steps to 630 s.
    pub(crate) fn advance(&mut self, inp: &mut Input<'_>) {
        let b = inp.byte();
        let unit = [1, 20, 500, 10_000][usize::from(b >> 6)];
        let d = Duration::from_millis(u64::from(b & 0x3f).max(1) * unit);
        if self.now + d <= Instant::ZERO + MAX_TIME {
            self.run_until(self.now + d);
        }
    }

    pub(crate) fn air(&mut self, arg: u8) {
        self.set_air(match arg % 5 {
            0 => Air::Perfect,
            1 => Air::NoAck,
            2 => Air::Busy,
            3 => Air::Failing,
            _ => Air::Refusing,
        });
    }

    /// The channel's behaviour, and the radio's CCA answer and refusal that go with it.
    pub(crate) fn set_air(&mut self, air: Air) {
        self.air = air;
        self.radio.cca_idle = air != Air::Busy;
        self.radio.refuse_tx = (air == Air::Refusing).then_some(RadioError::Busy);
    }

    /// `arg`: bit 0 toggle the carrier, bit 1 toggle back-pressure, bit 2 fail the next
    /// receive.
    pub(crate) fn link(&mut self, arg: u8) {
        self.eth.carrier ^= arg & 1 != 0;
        self.eth.busy ^= arg & 2 != 0;
        self.eth.fail_next |= arg & 4 != 0;
    }

    pub(crate) fn config_change(&mut self, arg: u8, inp: &mut Input<'_>) {
        let b = inp.byte();
        let now = self.now;
        // Refusals (invalid values) are outcomes, not failures.
        match arg % 9 {
            0 => {
                let _ = self.app.set_channel(now, 11 + b % 17, &mut self.radio);
            }
            1 => {
                let pan = u16::from_be_bytes([b, inp.byte()]);
                if self.app.set_pan_id(now, pan, &mut self.radio).is_ok() {
                    self.mac_rebuilt();
                }
            }
            2 => {
                let a = if b == 0xff {
                    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0)
                } else {
                    Ipv6Addr::new(0x2001, 0xdb8, u16::from(b), 0, 0, 0, 0, 0)
                };
                let len = if b & 0x80 != 0 { b & 0x7f } else { 64 };
                let _ = self.app.set_prefix(now, a, len);
            }
            3 => {
                let _ = self.app.set_tx_power(b as i8);
            }
            4 => self.app.set_explicit_context_id(b & 1 != 0),
            5 => {
                let on = b & 1 != 0;
                if self.app.set_promiscuous(&mut self.radio, on).is_ok() && on {
                    self.was_promiscuous = true;
                }
            }
            6 => {
                let up = b & 1 != 0;
                if self.app.set_iface_admin(now, self.wpan_i(), up).is_ok() {
                    self.wpan_up = up;
                    self.wpan_was_down |= !up;
                }
            }
            7 => {
                let up = b & 1 != 0;
                if self.app.set_iface_admin(now, self.eth_i(), up).is_ok() {
                    self.eth_up = up;
                    self.eth_was_down |= !up;
                }
            }
            _ => {
                let snaplen = capture_filter(&mut self.app, b);
                self.max_snaplen = self.max_snaplen.max(snaplen);
            }
        }
    }

    pub(crate) fn ping(&mut self, inp: &mut Input<'_>) {
        let (sel, size, seq) = (inp.byte(), inp.byte(), inp.byte());
        let dst = self.dst_addr(sel);
        let _ = self
            .app
            .ping_send(self.now, dst, None, u16::from(seq), u16::from(size) * 8);
    }

    pub(crate) fn capture_pop(&mut self, arg: u8) {
        let snaplen = usize::from(self.max_snaplen);
        let mut buf = [0u8; ETH_MAX];
        for _ in 0..=arg {
            let Some((meta, n)) = self.app.capture_mut().pop(&mut buf) else {
                break;
            };
            self.popped += 1;
            assert!(n <= snaplen, "a capture record longer than the snap length");
            assert!(
                usize::from(meta.orig_len) >= n,
                "orig_len below the captured length"
            );
        }
    }

    /// A perfect channel, carrier up (if there is a cable), both interfaces up, 20 s:
    /// everything must drain.
    pub(crate) fn drain(&mut self) {
        self.set_air(Air::Perfect);
        self.eth.carrier = self.cable;
        self.eth.busy = false;
        let now = self.now;
        if !self.wpan_up {
            let _ = self.app.set_iface_admin(now, self.wpan_i(), true);
        }
        if !self.eth_up {
            let _ = self.app.set_iface_admin(now, self.eth_i(), true);
        }
        self.run_until(self.now + Duration::from_secs(20));
        self.check();
        let app = &self.app;
        let pool = app.stack().pool();
        assert_eq!(
            pool.available(),
            pool.capacity(),
            "the pool did not return to full: wpan0 holds {}, eth0 {}, queues {:?} {:?}",
            app.wpan().held_buffers(),
            app.eth().held_buffers(),
            app.stack().queue_lens(app.wpan_index()),
            app.stack().queue_lens(app.eth_index()),
        );
        assert_eq!(app.wpan().reassembler().slots_in_use(), 0);
    }
}
