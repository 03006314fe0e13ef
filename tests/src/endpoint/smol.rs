//! smoltcp's endpoints: an `Interface` with a UDP socket on `Medium::Ieee802154`, with the
//! in-memory devices that put its frames on the [`Air`] and take them off.

use core::net::Ipv6Addr;

use l2_15_4::frame::{Address, fcs};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::socket::udp;
use smoltcp::wire::{
    HardwareAddress, Icmpv6Packet, Icmpv6Repr, Ieee802154Address, Ieee802154Frame,
    Ieee802154FrameType, Ieee802154FrameVersion, Ieee802154Pan, Ieee802154Repr, IpAddress, IpCidr,
    IpEndpoint, IpProtocol, NdiscNeighborFlags, NdiscRepr, RawHardwareAddress, SixlowpanIphcPacket,
    SixlowpanIphcRepr, SixlowpanNextHeader,
};

use super::{
    DST_PORT, FCS_LEN, MAX_FRAMES, PAN, RECEIVER_EUI64, RECEIVER_IP, SENDER_IP, SRC_PORT, Work,
    receiver_ll, sender_ll,
};
use crate::{Air, Failure, PSDU_MAX, ensure};

fn smol_caps(work: Work) -> DeviceCapabilities {
    let mut caps = DeviceCapabilities::default();
    caps.medium = Medium::Ieee802154;
    caps.max_transmission_unit = PSDU_MAX - FCS_LEN;
    caps.checksum = if work.udp_checksum {
        ChecksumCapabilities::default()
    } else {
        ChecksumCapabilities::ignored()
    };
    caps
}

/// The sender's radio: every MPDU smoltcp transmits goes on `air`, followed by its FCS when
/// the work says so; `rx` (the neighbor-priming frame) is handed out once.
struct TxPhy<'a> {
    air: &'a mut Air,
    work: Work,
    rx: Option<([u8; PSDU_MAX], usize)>,
}

struct TxOnAir<'a> {
    air: &'a mut Air,
    work: Work,
}

impl phy::TxToken for TxOnAir<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let psdu_len = len + FCS_LEN;
        match self.air.slot() {
            Ok(buf) if psdu_len <= PSDU_MAX => {
                let r = f(&mut buf[..len]);
                if let Some(code) = self.work.fcs {
                    code.append(&mut buf[..psdu_len]);
                }
                self.air.commit(psdu_len);
                r
            }
            // Longer than a PSDU or no room: the radio refuses it (never in these benches).
            _ => f(&mut vec![0; len]),
        }
    }
}

/// A received MPDU (FCS stripped).
struct RxMpdu<'a>(&'a [u8]);

impl phy::RxToken for RxMpdu<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

struct OwnedRx([u8; PSDU_MAX], usize);

impl phy::RxToken for OwnedRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0[..self.1])
    }
}

impl phy::Device for TxPhy<'_> {
    type RxToken<'b>
        = OwnedRx
    where
        Self: 'b;
    type TxToken<'b>
        = TxOnAir<'b>
    where
        Self: 'b;

    fn receive(
        &mut self,
        _: smoltcp::time::Instant,
    ) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let (buf, len) = self.rx.take()?;
        let mpdu_len = len.checked_sub(FCS_LEN)?;
        if self.work.fcs.is_some_and(|code| !code.verify(&buf[..len])) {
            return None;
        }
        Some((
            OwnedRx(buf, mpdu_len),
            TxOnAir {
                air: self.air,
                work: self.work,
            },
        ))
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<Self::TxToken<'_>> {
        Some(TxOnAir {
            air: self.air,
            work: self.work,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        smol_caps(self.work)
    }
}

/// The receiver's radio: hands out the frames on `air` one per `receive`, checking and
/// stripping the FCS when the work says so (a frame with a bad FCS is dropped, as a radio
/// does). Anything smoltcp transmits is counted and discarded.
struct RxPhy<'a> {
    air: &'a Air,
    next: usize,
    work: Work,
    transmitted: &'a mut u64,
}

struct Discard<'a>(&'a mut u64);

impl phy::TxToken for Discard<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        *self.0 += 1;
        f(&mut vec![0; len])
    }
}

impl<'a> phy::Device for RxPhy<'a> {
    type RxToken<'b>
        = RxMpdu<'a>
    where
        Self: 'b;
    type TxToken<'b>
        = Discard<'b>
    where
        Self: 'b;

    fn receive(
        &mut self,
        _: smoltcp::time::Instant,
    ) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let air: &'a Air = self.air;
        loop {
            let psdu = air.frame(self.next)?;
            self.next += 1;
            let Some(mpdu_len) = psdu.len().checked_sub(FCS_LEN) else {
                continue;
            };
            if self.work.fcs.is_some_and(|code| !code.verify(psdu)) {
                continue;
            }
            return Some((RxMpdu(&psdu[..mpdu_len]), Discard(self.transmitted)));
        }
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<Self::TxToken<'_>> {
        Some(Discard(self.transmitted))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        smol_caps(self.work)
    }
}

fn sm_addr(a: Address) -> Ieee802154Address {
    match a {
        Address::Short(s) => Ieee802154Address::Short(s.to_be_bytes()),
        Address::Extended(e) => Ieee802154Address::Extended(e),
    }
}

/// A Neighbor Advertisement (solicited, override) from the receiver to the sender, as a PSDU
/// with an IPHC header and inline ICMPv6, FCS appended: fills smoltcp's neighbor cache with
/// the receiver's EUI-64 (see the module documentation).
fn neighbor_advert() -> Result<([u8; PSDU_MAX], usize), Failure> {
    let mhr = Ieee802154Repr {
        frame_type: Ieee802154FrameType::Data,
        security_enabled: false,
        frame_pending: false,
        ack_request: false,
        sequence_number: Some(0),
        pan_id_compression: true,
        frame_version: Ieee802154FrameVersion::Ieee802154_2006,
        dst_pan_id: Some(Ieee802154Pan(PAN)),
        dst_addr: Some(sm_addr(sender_ll())),
        src_pan_id: Some(Ieee802154Pan(PAN)),
        src_addr: Some(sm_addr(receiver_ll())),
    };
    let iphc = SixlowpanIphcRepr {
        src_addr: RECEIVER_IP,
        ll_src_addr: Some(sm_addr(receiver_ll())),
        dst_addr: SENDER_IP,
        ll_dst_addr: Some(sm_addr(sender_ll())),
        next_header: SixlowpanNextHeader::Uncompressed(IpProtocol::Icmpv6),
        hop_limit: 255,
        ecn: None,
        dscp: None,
        flow_label: None,
    };
    let na = Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
        flags: NdiscNeighborFlags::OVERRIDE | NdiscNeighborFlags::SOLICITED,
        target_addr: RECEIVER_IP,
        lladdr: Some(RawHardwareAddress::from_bytes(&RECEIVER_EUI64)),
    });
    let mut buf = [0u8; PSDU_MAX];
    let ml = mhr.buffer_len();
    let hl = iphc.buffer_len();
    let il = na.buffer_len();
    let len = ml + hl + il + FCS_LEN;
    ensure(len <= PSDU_MAX, || "neighbor advertisement too long".into())?;
    mhr.emit(&mut Ieee802154Frame::new_unchecked(&mut buf[..ml]));
    iphc.emit(&mut SixlowpanIphcPacket::new_unchecked(
        &mut buf[ml..ml + hl],
    ));
    na.emit(
        &RECEIVER_IP,
        &SENDER_IP,
        &mut Icmpv6Packet::new_unchecked(&mut buf[ml + hl..ml + hl + il]),
        &ChecksumCapabilities::default(),
    );
    fcs::append(&mut buf[..len]);
    Ok((buf, len))
}

fn udp_socket(port: u16) -> Result<udp::Socket<'static>, Failure> {
    let mut s = udp::Socket::new(
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4], vec![0u8; 4096]),
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4], vec![0u8; 4096]),
    );
    s.bind(port)
        .map_err(|e| Failure(format!("UDP bind: {e}")))?;
    Ok(s)
}

fn interface(work: Work, ll: Address, ip: Ipv6Addr) -> Result<Interface, Failure> {
    let mut cfg = Config::new(HardwareAddress::Ieee802154(sm_addr(ll)));
    cfg.pan_id = Some(Ieee802154Pan(PAN));
    let mut scratch = Air::new(1);
    let mut dev = TxPhy {
        air: &mut scratch,
        work,
        rx: None,
    };
    let mut iface = Interface::new(cfg, &mut dev, smoltcp::time::Instant::ZERO);
    let mut pushed = Ok(());
    iface.update_ip_addrs(|a| {
        pushed = a.push(IpCidr::new(IpAddress::Ipv6(ip), 64));
    });
    pushed.map_err(|_| Failure::new("smoltcp address table full"))?;
    Ok(iface)
}

/// smoltcp's sending endpoint: an `Interface` and a UDP socket bound to [`SRC_PORT`].
pub struct SmolSender {
    work: Work,
    iface: Interface,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    /// Frames one datagram takes (learnt at setup).
    frames: usize,
}

impl SmolSender {
    /// A sender doing `work`, its neighbor cache primed and its frame count learnt by sending
    /// `payload` once.
    pub fn new(work: Work, payload: &[u8]) -> Result<Self, Failure> {
        let mut iface = interface(work, sender_ll(), SENDER_IP)?;
        let mut sockets = SocketSet::new(vec![]);
        let handle = sockets.add(udp_socket(SRC_PORT)?);
        let mut air = Air::new(MAX_FRAMES);
        let mut dev = TxPhy {
            air: &mut air,
            work,
            rx: Some(neighbor_advert()?),
        };
        iface.poll(smoltcp::time::Instant::ZERO, &mut dev, &mut sockets);
        ensure(dev.rx.is_none(), || "the advert was not taken".into())?;
        let mut s = SmolSender {
            work,
            iface,
            sockets,
            handle,
            frames: MAX_FRAMES,
        };
        // Learn the frame count: send once, poll until nothing more comes out.
        air.clear();
        s.sockets
            .get_mut::<udp::Socket<'_>>(handle)
            .send_slice(payload, receiver_endpoint())
            .map_err(|e| Failure(format!("UDP send: {e}")))?;
        for _ in 0..64 {
            let before = air.len();
            let mut dev = TxPhy {
                air: &mut air,
                work,
                rx: None,
            };
            s.iface
                .poll(smoltcp::time::Instant::ZERO, &mut dev, &mut s.sockets);
            if air.len() == before {
                break;
            }
        }
        ensure(!air.is_empty(), || {
            "smoltcp sent nothing (neighbor discovery?)".into()
        })?;
        s.frames = air.len();
        Ok(s)
    }

    /// Frames one datagram takes.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Put the frames of one datagram carrying `payload` on `air` (cleared first); returns
    /// how many.
    pub fn send(&mut self, payload: &[u8], air: &mut Air) -> Result<usize, Failure> {
        air.clear();
        self.sockets
            .get_mut::<udp::Socket<'_>>(self.handle)
            .send_slice(payload, receiver_endpoint())
            .map_err(|e| Failure(format!("UDP send: {e}")))?;
        let mut dev = TxPhy {
            air,
            work: self.work,
            rx: None,
        };
        for _ in 0..64 {
            self.iface
                .poll(smoltcp::time::Instant::ZERO, &mut dev, &mut self.sockets);
            if dev.air.len() >= self.frames {
                return Ok(dev.air.len());
            }
        }
        Err(Failure(format!(
            "smoltcp stalled at {} frames",
            dev.air.len()
        )))
    }
}

fn receiver_endpoint() -> IpEndpoint {
    IpEndpoint::new(IpAddress::Ipv6(RECEIVER_IP), DST_PORT)
}

/// smoltcp's receiving endpoint: an `Interface` and a UDP socket bound to [`DST_PORT`].
pub struct SmolReceiver {
    work: Work,
    iface: Interface,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    /// Frames smoltcp tried to transmit (a receiver should send nothing).
    pub transmitted: u64,
}

impl SmolReceiver {
    /// A receiver doing `work`.
    pub fn new(work: Work) -> Result<Self, Failure> {
        let iface = interface(work, receiver_ll(), RECEIVER_IP)?;
        let mut sockets = SocketSet::new(vec![]);
        let handle = sockets.add(udp_socket(DST_PORT)?);
        Ok(SmolReceiver {
            work,
            iface,
            sockets,
            handle,
            transmitted: 0,
        })
    }

    /// Receive every frame on `air`; the UDP payload of the datagram they complete goes to
    /// `out`. Returns its length.
    pub fn receive(&mut self, air: &Air, out: &mut [u8]) -> Result<usize, Failure> {
        let mut dev = RxPhy {
            air,
            next: 0,
            work: self.work,
            transmitted: &mut self.transmitted,
        };
        for _ in 0..=MAX_FRAMES {
            self.iface
                .poll(smoltcp::time::Instant::ZERO, &mut dev, &mut self.sockets);
            let sock = self.sockets.get_mut::<udp::Socket<'_>>(self.handle);
            if sock.can_recv() {
                let (n, meta) = sock
                    .recv_slice(out)
                    .map_err(|e| Failure(format!("UDP recv: {e}")))?;
                ensure(meta.endpoint.port == SRC_PORT, || "source port".into())?;
                return Ok(n);
            }
            if dev.next >= air.len() {
                break;
            }
        }
        Err(Failure::new("smoltcp delivered nothing"))
    }
}
