//! What a smoltcp leaf is made of ([`SmolNodeConfig`]): its radio, addressing, sensor
//! schedule, services and link-layer key, and the addresses derived from them.

use super::*;

/// Periodic UDP sensor readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SensorConfig {
    /// Where readings go.
    pub collector: Ipv6Addr,
    /// Collector UDP port.
    pub collector_port: u16,
    /// Our source port.
    pub local_port: u16,
    /// Reading period.
    pub period: Duration,
    /// Each period is lengthened by a uniform random 0..jitter.
    pub jitter: Duration,
    /// Reading size, bytes (≥ 12: node index, sequence number, timestamp).
    pub payload_len: usize,
}

/// How the node gets its global address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `prefix::IID` from the configured /64 mesh prefix (first 8 bytes).
    Static([u8; 8]),
    /// SLAAC from router advertisements (smoltcp sends router solicitations).
    Slaac,
    /// Link-local only.
    LinkLocalOnly,
}

/// Every knob of a smoltcp node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmolNodeConfig {
    /// Node index: EUI-64 ([`eui64`]) and PRNG sub-stream.
    pub index: u16,
    /// Seed for the MAC backoffs and application jitter.
    pub seed: u64,
    /// Channel.
    pub channel: Channel,
    /// PAN ID.
    pub pan_id: PanId,
    /// Global address.
    pub addressing: Addressing,
    /// Periodic readings, if any.
    pub sensor: Option<SensorConfig>,
    /// UDP echo service port, if any.
    pub echo_port: Option<u16>,
    /// UDP sink port (logs datagrams, see [`SmolNode::sink_log`]), if any.
    pub sink_port: Option<u16>,
    /// Port of the general-purpose socket behind [`SmolNode::send_udp`].
    pub app_port: u16,
    /// UDP socket buffers: payload bytes per direction.
    pub udp_buffer: usize,
    /// UDP socket buffers: datagrams per direction.
    pub udp_packets: usize,
    /// Frames buffered between smoltcp and the MAC queue.
    pub mac_backlog: usize,
    /// The soft-MAC's retransmissions of a frame without ACK (macMaxFrameRetries).
    pub mac_frame_retries: u8,
    /// Entries kept in the sink log (older ones are dropped, and counted).
    pub sink_log: usize,
    /// 6LoWPAN compression context 0 (a 64-bit prefix), as a node that processes the
    /// 6LoWPAN Context Option of router advertisements would hold it: smoltcp ignores 6CO,
    /// so it is provisioned here.
    pub context0: Option<[u8; 8]>,
    /// The mesh's network key: link-layer security on (every frame secured, only frames
    /// that pass security heard). `None`: off.
    pub network_key: Option<NetworkKey>,
}

impl SmolNodeConfig {
    /// Defaults for node `index` on `channel` / `pan_id` with a static address in `prefix`.
    pub fn new(index: u16, channel: Channel, pan_id: PanId, prefix: [u8; 8]) -> Self {
        SmolNodeConfig {
            index,
            seed: 1,
            channel,
            pan_id,
            addressing: Addressing::Static(prefix),
            sensor: None,
            echo_port: Some(7),
            sink_port: None,
            app_port: 49152,
            udp_buffer: 4096,
            udp_packets: 8,
            mac_backlog: 8,
            // 802.15.4's default macMaxFrameRetries, as `MacConfig::new`.
            mac_frame_retries: 3,
            sink_log: 1024,
            context0: None,
            network_key: None,
        }
    }

    /// The interface identifier (EUI-64 with the U/L bit flipped).
    pub fn iid(&self) -> [u8; 8] {
        let mut iid = eui64(self.index);
        iid[0] ^= 0x02;
        iid
    }

    /// The link-local address.
    pub fn link_local(&self) -> Ipv6Addr {
        with_iid([0xfe, 0x80, 0, 0, 0, 0, 0, 0], self.iid())
    }

    /// The static global address, if configured.
    pub fn global(&self) -> Option<Ipv6Addr> {
        match self.addressing {
            Addressing::Static(p) => Some(with_iid(p, self.iid())),
            _ => None,
        }
    }
}

fn with_iid(prefix: [u8; 8], iid: [u8; 8]) -> Ipv6Addr {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&prefix);
    b[8..].copy_from_slice(&iid);
    Ipv6Addr::from(b)
}
