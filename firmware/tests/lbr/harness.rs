//! The harness: the border router (`App`) on `l2_15_4`'s `ScriptedRadio` and a null Ethernet
//! driver, with time advanced only when the test says so. It completes every transmission as a
//! perfect channel would (TX done, an Imm-Ack for a frame that asks), checks the FCS, reassembles
//! RFC 4944 fragments and decompresses what the border router sent into the `Sent` log, and
//! hands it the nodes' frames.

use ethernet::driver::NullDriver;
use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use firmware::app::{App, AppResources};
use firmware::config::Config;
use l2_15_4::frame::{Address, Frame, FrameType};
use l2_15_4::radio::testing::{self, ScriptedRadio};
use l2_15_4::radio::{Channel, RadioEvent, TxOutcome};
use netif::{Duration, Instant};
use sixlo::{CompressOptions, ContextTable, LinkAddr};
use smoltcp::wire::Ipv6Packet;

use crate::node::{Ip, LINK_LOCAL, MESH, NA, Node, addr, crc16_kermit, data_frame, iid, ns_body};
use crate::sent::Sent;

// ----- the test radio, the null Ethernet driver ---------------------------------------------

/// The border router's radio: no hardware help; records what it transmits.
type TestRadio = ScriptedRadio<16>;

/// A datagram being reassembled from the border router's fragments (RFC 4944 §5.3).
#[derive(Default)]
struct Partial {
    size: usize,
    first: Option<Vec<u8>>,
    rest: BTreeMap<u8, Vec<u8>>,
}

// ----- the harness ---------------------------------------------------------------------------

pub(crate) struct Harness {
    pub(crate) app: App<'static>,
    radio: TestRadio,
    eth: NullDriver,
    pub(crate) now: Instant,
    seq: u8,
    contexts: ContextTable,
    partial: BTreeMap<(Address, u16), Partial>,
    sent: Vec<Sent>,
}

impl Harness {
    pub(crate) fn new() -> Harness {
        Self::with_config(Config::default())
    }

    pub(crate) fn with_config(cfg: Config) -> Harness {
        let res: &mut AppResources = Box::leak(Box::new(AppResources::new()));
        let mut radio = TestRadio::default();
        let eth = NullDriver {
            mac: cfg.eth_mac,
            link: true,
        };
        let app = App::new(cfg, res, Instant::ZERO, &mut radio).unwrap();
        let contexts = app.wpan().contexts().clone();
        let mut h = Harness {
            app,
            radio,
            eth,
            now: Instant::ZERO,
            seq: 0,
            contexts,
            partial: BTreeMap::new(),
            sent: Vec::new(),
        };
        h.run_until(Instant::ZERO);
        h
    }

    pub(crate) fn cfg(&self) -> &Config {
        self.app.config()
    }

    pub(crate) fn br_eui(&self) -> [u8; 8] {
        self.cfg().eui64
    }
    pub(crate) fn br_link_local(&self) -> Ipv6Addr {
        addr(LINK_LOCAL, iid(self.br_eui()))
    }
    pub(crate) fn br_global(&self) -> Ipv6Addr {
        addr(MESH, iid(self.br_eui()))
    }

    /// Complete every transmission the radio started: TX done at the end of its airtime, and
    /// an Imm-Ack (IEEE 802.15.4-2006 §7.2.2.3) 12 symbols later for a frame that asked.
    fn drain_tx(&mut self) {
        for _ in 0..100_000 {
            let Some(rec) = self.radio.pop_sent() else {
                return;
            };
            let (start, psdu) = (rec.at, rec.psdu.to_vec());
            // Preamble, SFD and PHR (6 bytes) plus the PSDU, 32 µs per byte.
            let end = start + Duration::from_micros((6 + psdu.len() as u64) * 32);
            self.now = self.now.max(end);
            let ev = RadioEvent::TxDone {
                end,
                outcome: TxOutcome::Sent,
            };
            self.app.on_radio_event(self.now, ev, &mut self.radio);
            let n = psdu.len();
            assert_eq!(
                crc16_kermit(&psdu[..n - 2]).to_le_bytes(),
                [psdu[n - 2], psdu[n - 1]],
                "the border router sent a bad FCS"
            );
            let frame = Frame::new_checked(&psdu[..n - 2]).unwrap();
            if frame.frame_type() == FrameType::Ack {
                continue;
            }
            if frame.ack_request() {
                let seq = frame.sequence_number().unwrap();
                let mut ack = vec![0x02, 0x00, seq];
                ack.extend_from_slice(&crc16_kermit(&ack).to_le_bytes());
                self.now = end + Duration::from_micros(12 * 16 + 11 * 32);
                self.receive(&ack);
            }
            self.decode(start, &frame);
        }
        panic!("the border router never stops transmitting");
    }

    /// Decode one data frame of the border router into the datagram log.
    fn decode(&mut self, t: Instant, frame: &Frame<&[u8]>) {
        assert_eq!(frame.frame_type(), FrameType::Data, "unexpected frame type");
        let src = frame.src_addr().unwrap();
        assert_eq!(src, Address::Extended(self.br_eui()));
        let dst = frame.dst_addr();
        let payload = frame.payload().unwrap();
        let (ls, ld) = (
            LinkAddr::from(src),
            dst.map_or(LinkAddr::Absent, LinkAddr::from),
        );
        let b0 = payload[0];
        let mut out = vec![0u8; 2048];
        let complete = match b0 & 0xf8 {
            // FRAG1: 11000, datagram_size (11 bits), datagram_tag (16 bits).
            0xc0 | 0xe0 => {
                let size = usize::from(u16::from_be_bytes([b0 & 7, payload[1]]));
                let tag = u16::from_be_bytes([payload[2], payload[3]]);
                let p = self.partial.entry((dst.unwrap(), tag)).or_default();
                p.size = size;
                if b0 & 0xf8 == 0xc0 {
                    p.first = Some(payload[4..].to_vec());
                } else {
                    // FRAGN: ... plus datagram_offset (8 bits, units of 8 octets).
                    p.rest.insert(payload[4], payload[5..].to_vec());
                }
                let Some(first) = p.first.clone() else { return };
                let mut len =
                    sixlo::decompress(&first, &ls, &ld, &self.contexts, &mut out).unwrap();
                let mut compressed = first;
                for (off, data) in &p.rest {
                    if usize::from(*off) * 8 != len {
                        return; // a hole: more to come
                    }
                    len += data.len();
                    compressed.extend_from_slice(data);
                }
                if len != size {
                    return;
                }
                self.partial.remove(&(dst.unwrap(), tag));
                let n = sixlo::decompress(&compressed, &ls, &ld, &self.contexts, &mut out).unwrap();
                assert_eq!(n, size, "datagram_size disagrees with the datagram");
                n
            }
            _ => sixlo::decompress(payload, &ls, &ld, &self.contexts, &mut out).unwrap(),
        };
        out.truncate(complete);
        let ip = Ipv6Packet::new_checked(&out[..]).unwrap();
        assert_eq!(usize::from(ip.payload_len()) + 40, out.len());
        self.sent.push(Sent {
            at: t,
            ll_dst: dst,
            ip: out,
        });
    }

    /// Hand a PSDU to the border router as received now.
    fn receive(&mut self, psdu: &[u8]) {
        let rx = testing::received(psdu, self.now, Channel::new(26).unwrap());
        self.app
            .on_radio_event(self.now, RadioEvent::Received(rx), &mut self.radio);
    }

    /// Run every timer of the border router up to `t`.
    pub(crate) fn run_until(&mut self, t: Instant) {
        for _ in 0..1_000_000 {
            self.drain_tx();
            match self.app.next_deadline() {
                Some(d) if d <= t => {
                    self.now = self.now.max(d);
                    self.app.poll(self.now, &mut self.radio, &mut self.eth);
                }
                _ => {
                    self.now = self.now.max(t);
                    self.app.poll(self.now, &mut self.radio, &mut self.eth);
                    self.drain_tx();
                    return;
                }
            }
        }
        panic!("the border router's deadlines never pass {t:?}");
    }

    pub(crate) fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// `from` sends the IPv6 datagram `ip` to `ll_dst`: in one IPHC-compressed frame when it
    /// fits, else uncompressed (IPv6 dispatch 0x41) in RFC 4944 fragments built by hand; the
    /// border router then runs for 100 ms.
    pub(crate) fn send(&mut self, from: [u8; 8], ll_dst: Address, ip: &[u8]) {
        // 127 bytes of PSDU less the frame's header (21 bytes with PAN ID compression, an
        // extended source and at most an extended destination) and FCS (2).
        const ROOM: usize = 127 - 21 - 2;
        let mut payload = [0u8; 1280];
        let n = sixlo::compress(
            ip,
            &LinkAddr::Extended(from),
            &LinkAddr::from(ll_dst),
            &self.contexts,
            CompressOptions::default(),
            &mut payload,
        )
        .unwrap();
        let pan = self.cfg().pan_id;
        if n <= ROOM {
            self.seq = self.seq.wrapping_add(1);
            let psdu = data_frame(self.seq, pan, from, ll_dst, &payload[..n]);
            self.receive(&psdu);
        } else {
            // FRAG1: 11000 + datagram_size (11 bits), datagram_tag, then the dispatch and
            // the first bytes; FRAGN: 11100 + size, tag, datagram_offset (units of 8 bytes),
            // the next bytes. Every fragment but the last carries a multiple of 8 bytes.
            let size = ip.len() as u16;
            let tag = u16::from(self.seq) ^ 0x5a5a;
            let mut off = 0usize;
            while off < ip.len() {
                let first = off == 0;
                let take = (ROOM - 5) / 8 * 8;
                let end = (off + take).min(ip.len());
                let [s0, s1] = size.to_be_bytes();
                let [t0, t1] = tag.to_be_bytes();
                let mut f = if first {
                    vec![0xc0 | s0, s1, t0, t1, sixlo::DISPATCH_IPV6]
                } else {
                    vec![0xe0 | s0, s1, t0, t1, (off / 8) as u8]
                };
                f.extend_from_slice(&ip[off..end]);
                self.seq = self.seq.wrapping_add(1);
                let psdu = data_frame(self.seq, pan, from, ll_dst, &f);
                self.receive(&psdu);
                off = end;
            }
        }
        // The shell polls after a batch of radio events (see `App`).
        self.app.poll(self.now, &mut self.radio, &mut self.eth);
        self.run_for(Duration::from_millis(100));
    }

    pub(crate) fn to_br(&self) -> Address {
        Address::Extended(self.br_eui())
    }

    /// `node` registers its global address (RFC 6775 §5.5: source and target are the address,
    /// destination the router's link-local address) for `lifetime` minutes with `rovr`.
    pub(crate) fn register(&mut self, node: Node, rovr: [u8; 8], lifetime: u16) {
        self.register_addr(node, node.global(), rovr, lifetime);
    }

    pub(crate) fn register_addr(&mut self, node: Node, a: Ipv6Addr, rovr: [u8; 8], lifetime: u16) {
        let ip = Ip::nd(a, self.br_link_local());
        let body = ns_body(&ip, a, Some(node.eui), Some((lifetime, rovr)));
        let dst = self.to_br();
        self.send(node.eui, dst, &ip.build(body));
    }

    /// Every datagram sent since `since`.
    #[allow(dead_code)] // used by rpl_root.rs
    pub(crate) fn sent_ip(&self, since: Instant) -> Vec<Sent> {
        self.sent
            .iter()
            .filter(|s| s.at >= since)
            .cloned()
            .collect()
    }

    /// Datagrams of ICMPv6 type `ty` sent since `since`.
    pub(crate) fn sent_icmp(&self, ty: u8, since: Instant) -> Vec<Sent> {
        self.sent
            .iter()
            .filter(|s| s.at >= since && s.icmp_type() == Some(ty))
            .cloned()
            .collect()
    }

    /// The one NA sent since `since`.
    pub(crate) fn one_na(&self, since: Instant) -> Sent {
        let v = self.sent_icmp(NA, since);
        assert_eq!(v.len(), 1, "expected one NA, got {v:#?}");
        v.into_iter().next().unwrap()
    }

    pub(crate) fn assert_pool(&self) {
        assert!(self.app.pool_accounted(), "packet buffers leaked");
    }
}
