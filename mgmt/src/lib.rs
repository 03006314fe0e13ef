//! # mgmt — sixgate's management protocol
//!
//! The one protocol between the `sixgate` CLI (host) and the border router (device), shared by
//! both so they cannot disagree about bytes. `no_std`, no heap. The full specification, with
//! byte layouts and versioning rules, is `docs/protocol.md`.
//!
//! - [`frame`]: COBS-delimited frames with a CRC-32 trailer, and a resynchronising decoder;
//! - a frame's payload is a 4-byte [`Header`] (protocol version, [`Kind`], request id) and a
//!   postcard body: [`Request`], [`Response`], [`Event`], [`Log`] or [`Capture`] ([`msg`]);
//! - [`encode`] builds a whole frame from a header and a body; [`decode`] splits a payload
//!   into its header and body, keeping the header when the body does not decode so the device
//!   can still answer with the request's id;
//! - [`counters`]: the device's counter list (names, fingerprint, count) that `Stats`
//!   answers carry the values of;
//! - [`schema_fingerprint`], derived at compile time from the message types ([`schema`]),
//!   changes whenever any message's definition changes; peers exchange it in the `Hello`
//!   handshake.
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod counters;
pub mod frame;
pub mod msg;
mod reqdec;
pub mod schema;
pub mod wire;

pub use frame::{
    FrameDecoder, FrameError, MAX_FRAME, MAX_PAYLOAD, MAX_REQUEST_FRAME, encode_frame,
};
pub use msg::*;

use serde::Serialize;

/// The protocol version. Bumped on every change that makes old peers decode differently; the
/// `Hello` exchange makes a mismatched pair fail with a message instead of garbage.
pub const PROTOCOL_VERSION: u8 = 6;

/// Bytes of the [`Header`] at the start of every payload.
pub const HEADER_LEN: usize = 4;

/// Number of [`Request`] variants: a body whose first byte (the variant index) is at least
/// this is an unknown request rather than a malformed one.
pub const REQUEST_VARIANTS: usize = 35;

/// The kind of a message, the second header byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Kind {
    /// Host → device [`Request`].
    Request = 0,
    /// Device → host [`Response`] to the request with the same id.
    Response = 1,
    /// Device → host unsolicited [`Event`] (id 0).
    Event = 2,
    /// Device → host [`Log`] line (id 0).
    Log = 3,
    /// Device → host [`Capture`] record (id 0).
    Capture = 4,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            0 => Kind::Request,
            1 => Kind::Response,
            2 => Kind::Event,
            3 => Kind::Log,
            4 => Kind::Capture,
            _ => return None,
        })
    }
}

/// The fixed header of every payload: `[version, kind, id_lo, id_hi]`. Its layout never
/// changes between protocol versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header {
    /// Sender's [`PROTOCOL_VERSION`].
    pub version: u8,
    /// Message kind.
    pub kind: Kind,
    /// Request id (responses echo it; unsolicited messages use 0).
    pub id: u16,
}

impl Header {
    /// A header of this crate's version.
    pub const fn new(kind: Kind, id: u16) -> Header {
        Header {
            version: PROTOCOL_VERSION,
            kind,
            id,
        }
    }

    /// The 4 header bytes.
    pub fn to_bytes(self) -> [u8; HEADER_LEN] {
        let [lo, hi] = self.id.to_le_bytes();
        [self.version, self.kind as u8, lo, hi]
    }
}

/// Why a payload could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DecodeError {
    /// Shorter than the header.
    TooShort,
    /// The kind byte is not a known [`Kind`]; carries the raw byte.
    UnknownKind(u8),
    /// The sender speaks another protocol version (and the body is not a frozen `Hello`).
    Version(u8),
    /// The body does not decode as the kind's type (unknown variant, truncated, trailing
    /// bytes).
    Body,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::TooShort => f.write_str("message shorter than its header"),
            DecodeError::UnknownKind(k) => write!(f, "unknown message kind {k}"),
            DecodeError::Version(v) => write!(
                f,
                "peer speaks protocol version {v}, this side speaks {PROTOCOL_VERSION}"
            ),
            DecodeError::Body => f.write_str("message body does not decode"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// Why a message could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EncodeError {
    /// The payload (header and body) is longer than [`MAX_PAYLOAD`].
    TooLarge,
    /// The output buffer is too small for the frame.
    BufferTooSmall,
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            EncodeError::TooLarge => "message larger than the maximum payload",
            EncodeError::BufferTooSmall => "output buffer too small",
        })
    }
}

impl core::error::Error for EncodeError {}

/// A decoded message body.
#[allow(clippy::large_enum_variant)] // no heap to box into; short-lived
#[derive(Clone, Debug, PartialEq)]
pub enum Message<'a> {
    /// [`Kind::Request`].
    Request(Request<'a>),
    /// [`Kind::Response`].
    Response(Response<'a>),
    /// [`Kind::Event`].
    Event(Event<'a>),
    /// [`Kind::Log`].
    Log(Log<'a>),
    /// [`Kind::Capture`].
    Capture(Capture<'a>),
}

/// Encodes `header` + postcard(`body`) as one complete frame (delimiter included) into `out`;
/// returns its length. The payload is COBS-encoded as postcard produces it, so no buffer for
/// the payload is needed (a device's transmit buffer is the only copy).
pub fn encode<T: Serialize + ?Sized>(
    header: Header,
    body: &T,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let mut w = frame::FrameWriter::new(&mut *out);
    let fail = |w: &frame::FrameWriter<'_>| {
        if w.too_large() {
            EncodeError::TooLarge
        } else {
            EncodeError::BufferTooSmall
        }
    };
    if w.push(&header.to_bytes()).is_err() {
        return Err(fail(&w));
    }
    if postcard::serialize_with_flavor(body, PayloadSink(&mut w)).is_err() {
        return Err(fail(&w));
    }
    let n = w.finish().map_err(|_| EncodeError::BufferTooSmall)?;
    *out.get_mut(n).ok_or(EncodeError::BufferTooSmall)? = 0;
    Ok(n + 1)
}

/// postcard's output, fed to a [`frame::FrameWriter`].
struct PayloadSink<'w, 'a>(&'w mut frame::FrameWriter<'a>);

impl postcard::ser_flavors::Flavor for PayloadSink<'_, '_> {
    type Output = ();

    #[inline(never)]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.try_extend(&[data])
    }

    #[inline(never)]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0
            .push(data)
            .map_err(|_| postcard::Error::SerializeBufferFull)
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Reads the header of a payload.
pub fn decode_header(payload: &[u8]) -> Result<(Header, &[u8]), DecodeError> {
    let Some((&[version, kind, lo, hi], body)) = payload.split_first_chunk::<HEADER_LEN>() else {
        return Err(DecodeError::TooShort);
    };
    let kind = Kind::from_u8(kind).ok_or(DecodeError::UnknownKind(kind))?;
    Ok((
        Header {
            version,
            kind,
            id: u16::from_le_bytes([lo, hi]),
        },
        body,
    ))
}

/// Splits a frame payload into its header and body. The header is returned even when the
/// body fails, so a device can answer an undecodable request with an error carrying its id.
/// A message of another protocol version decodes only if it is a `Hello` (request or
/// response) or an `Error` response, whose encodings are frozen; otherwise
/// [`DecodeError::Version`].
pub fn decode(payload: &[u8]) -> Result<(Header, Result<Message<'_>, DecodeError>), DecodeError> {
    let (h, body) = decode_header(payload)?;
    let msg = decode_body(h, body);
    let msg = match msg {
        Ok(m) if h.version != PROTOCOL_VERSION && !frozen(&m) => {
            Err(DecodeError::Version(h.version))
        }
        Err(_) if h.version != PROTOCOL_VERSION => Err(DecodeError::Version(h.version)),
        other => other,
    };
    Ok((h, msg))
}

/// [`decode`] for a device, which only ever receives requests: the body is decoded only when
/// the header says [`Kind::Request`] (anything else is [`DecodeError::Body`] with the header
/// still returned). Same version rules as [`decode`]. A device links just the request
/// decoder this way, not those of every response, event and record.
pub fn decode_request(
    payload: &[u8],
) -> Result<(Header, Result<Request<'_>, DecodeError>), DecodeError> {
    let (h, body) = decode_header(payload)?;
    let req = match h.kind {
        // By hand, not serde: see `reqdec`.
        Kind::Request => reqdec::decode(body).ok_or(DecodeError::Body),
        _ => Err(DecodeError::Body),
    };
    let req = match req {
        Ok(r) if h.version != PROTOCOL_VERSION && !matches!(r, Request::Hello { .. }) => {
            Err(DecodeError::Version(h.version))
        }
        Err(_) if h.version != PROTOCOL_VERSION => Err(DecodeError::Version(h.version)),
        other => other,
    };
    Ok((h, req))
}

fn whole<'a, T: serde::Deserialize<'a>>(b: &'a [u8]) -> Result<T, DecodeError> {
    match postcard::take_from_bytes::<T>(b) {
        Ok((v, [])) => Ok(v),
        _ => Err(DecodeError::Body),
    }
}

fn frozen(m: &Message<'_>) -> bool {
    matches!(
        m,
        Message::Request(Request::Hello { .. })
            | Message::Response(Response::Hello { .. } | Response::Error { .. })
    )
}

fn decode_body(h: Header, body: &[u8]) -> Result<Message<'_>, DecodeError> {
    Ok(match h.kind {
        Kind::Request => Message::Request(whole(body)?),
        Kind::Response => Message::Response(whole(body)?),
        Kind::Event => Message::Event(whole(body)?),
        Kind::Log => Message::Log(whole(body)?),
        Kind::Capture => Message::Capture(whole(body)?),
    })
}

/// The schema fingerprint of this build (see [`schema`]): a hash of every message type's
/// definition (type, field and variant names, primitive widths, variant order, array lengths
/// and list capacities) and of [`MAX_PAYLOAD`], computed at compile time. Peers exchange it
/// in `Hello`; a host refuses a device whose fingerprint differs from its own.
pub const SCHEMA_FINGERPRINT: u32 = schema::fingerprint();

/// [`SCHEMA_FINGERPRINT`] as a function (what the host calls).
pub const fn schema_fingerprint() -> u32 {
    SCHEMA_FINGERPRINT
}

/// One sample of every message variant, with every optional field present.
pub mod samples {
    use super::*;
    use heapless::Vec;

    const A: Ip6 = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];

    fn one<T, const N: usize>(t: T) -> Vec<T, N> {
        let mut v = Vec::new();
        let _ = v.push(t);
        v
    }

    /// Every [`Request`] variant, in variant order.
    pub fn requests() -> [Request<'static>; 37] {
        [
            Request::Hello {
                version: PROTOCOL_VERSION,
                schema: 0x1234_5678,
                client: "sixgate 0.1.0",
            },
            Request::Info,
            Request::IfaceList,
            Request::IfaceAdmin {
                iface: "wpan0",
                up: true,
            },
            Request::IfaceSet {
                iface: "wpan0",
                setting: IfaceSetting::Channel(15),
            },
            Request::AddrList,
            Request::AddrAdd {
                iface: "eth0",
                addr: A,
                prefix_len: 64,
            },
            Request::AddrDel {
                iface: "eth0",
                addr: A,
            },
            Request::RouteList,
            Request::RouteAdd {
                prefix: A,
                len: 48,
                iface: "eth0",
                via: Some(A),
                metric: 10,
            },
            Request::RouteDel { prefix: A, len: 48 },
            Request::NeighList,
            Request::NodesList { start: 8 },
            Request::PrefixShow,
            Request::PrefixSet { prefix: A, len: 64 },
            Request::Stats { start: 64 },
            Request::StatsReset {
                iface: Some("eth0"),
            },
            Request::Ping {
                dst: A,
                size: 56,
                seq: 3,
                timeout_ms: 2000,
                iface: Some("wpan0"),
            },
            Request::ScanEnergy {
                channels: 0x07ff_f800,
                duration_ms: 10,
            },
            Request::CaptureStart {
                ifaces: 3,
                promiscuous: true,
            },
            Request::CaptureStop,
            Request::Subscribe {
                events: true,
                logs: false,
            },
            Request::ConfigShow,
            Request::ConfigSave,
            Request::ConfigReset,
            Request::Reboot,
            Request::RplShow,
            Request::RplSet(RPL_SETTINGS),
            Request::RplRepair,
            Request::Topology { start: 8 },
            Request::SecurityShow,
            Request::SecuritySetKey { key: [0x5a; 16] },
            Request::SecuritySet(SECURITY_SETTINGS),
            Request::SecurityRotate,
            Request::SecurityOff,
            Request::IfaceSet {
                iface: "wpan0",
                setting: IfaceSetting::TxPower(-4),
            },
            Request::IfaceSet {
                iface: "wpan0",
                setting: IfaceSetting::PanId(0x1234),
            },
        ]
    }

    /// RPL settings for the samples.
    const RPL_SETTINGS: RplSettings = RplSettings {
        enabled: true,
        mop: 1,
        instance_id: 30,
        dio_interval_min: 12,
        dio_interval_doublings: 8,
        dio_redundancy: 10,
        default_lifetime: 30,
        lifetime_unit_s: 60,
        max_depth: 8,
        min_hop_rank_increase: 256,
        rfc8138: true,
        ocp: 1,
    };

    /// Security settings for the samples.
    const SECURITY_SETTINGS: SecuritySettings = SecuritySettings {
        level: 5,
        unsecured_allowed: 0,
        rotate_period_h: 672,
    };

    /// Every [`Response`] variant, in variant order.
    pub fn responses() -> [Response<'static>; 21] {
        let iface = IfaceInfo {
            name: "wpan0",
            kind: IfaceKind::Wpan,
            admin_up: true,
            link_up: true,
            mtu: 1280,
            forwarding: true,
            ll_addr: &[2, 0, 0x5e, 0xff, 0xfe, 0, 0, 1],
            wpan: Some(WpanInfo {
                channel: 26,
                pan_id: 0xabcd,
                short_addr: 0,
                tx_power: 0,
            }),
            rx_packets: 1,
            tx_packets: 2,
            forwarded: 3,
            drops: 4,
        };
        [
            Response::Hello {
                version: PROTOCOL_VERSION,
                schema: 0x1234_5678,
                firmware: "sixgate 0.1.0",
                board: "sim",
            },
            Response::Error {
                code: ErrorCode::NoSuchIface,
                message: "no interface wlan9",
            },
            Response::Ok,
            Response::Info(Info {
                firmware: "sixgate 0.1.0",
                board: "sim",
                protocol: PROTOCOL_VERSION,
                uptime_ms: 123_456,
                eui64: [2, 0, 0x5e, 0xff, 0xfe, 0, 0, 1],
                short_addr: 0,
                channel: 26,
                pan_id: 0xabcd,
                tx_power: 0,
                prefix: A,
                prefix_len: 64,
                registered: 5,
                gleaned: 3,
                pool_free: 15,
                pool_size: 16,
            }),
            Response::Ifaces(one(iface)),
            Response::Addrs(one(AddrInfo {
                iface: "eth0",
                addr: A,
                prefix_len: 64,
                state: AddrState::Preferred,
                valid_s: Some(3600),
            })),
            Response::Routes(one(RouteInfo {
                prefix: A,
                len: 64,
                iface: Some("wpan0"),
                via: Some(A),
                metric: 1,
                origin: RouteOrigin::Learned,
                expires_s: Some(1800),
            })),
            Response::Neighbors(one(NeighborInfo {
                addr: A,
                mac: Some([2, 0, 0, 0, 0, 2]),
                state: NeighState::Reachable,
                router: true,
            })),
            Response::Nodes {
                total: 9,
                start: 8,
                nodes: one(NodeInfo {
                    addr: A,
                    eui64: Some([2, 0, 0, 0, 0, 0, 0, 7]),
                    short_addr: Some(7),
                    registered: true,
                    lifetime_s: 86_000,
                    last_heard_ms: Some(1500),
                    rssi: Some(-61),
                    lqi: Some(200),
                    etx_x100: Some(125),
                    rx_frames: 40,
                    tx_frames: 12,
                    parent: Some(A),
                    depth: Some(1),
                }),
            },
            Response::Prefix {
                prefix: A,
                len: 64,
                context_id: 0,
                abro_version: 2,
            },
            Response::Stats {
                total: 230,
                start: 64,
                list: 0x8badf00d,
                values: one(99),
            },
            Response::Ping(PingOutcome::Reply {
                rtt_us: 15_000,
                hop_limit: 64,
                size: 56,
            }),
            Response::Energy(one(ChannelEnergy {
                channel: 11,
                dbm: -90,
            })),
            Response::CaptureStats(CaptureStats {
                recorded: 10,
                sent: 9,
                dropped: [1, 0],
            }),
            Response::Config(ConfigInfo {
                prefix: A,
                prefix_len: 64,
                pan_id: 0xabcd,
                channel: 26,
                eui64: [2, 0, 0x5e, 0xff, 0xfe, 0, 0, 1],
                short_addr: 0,
                tx_power: 0,
                eth_mac: [2, 0x5e, 0xff, 0xfe, 0, 1],
                backbone_static: Some((A, 64)),
                backbone_gateway: Some(A),
                ra_interval_s: (200, 600),
                router_lifetime_s: 1800,
                prefix_lifetimes_s: (86_400, 14_400),
                abro_version: 1,
                max_registration_min: 1440,
                unsaved: true,
                routes_saved: true,
            }),
            Response::Rpl(RplInfo {
                settings: RPL_SETTINGS,
                dodag_id: A,
                version: 240,
                rank: 256,
                dtsn: 240,
                trickle_interval_ms: 8192,
                trickle_heard: 1,
                next_dio_ms: Some(5000),
                dio: (3, 1),
                dis_rx: 2,
                dao_rx: 7,
                dao_ack_tx: 7,
                dao_rejected: 1,
                rx_invalid: 0,
                targets: (5, 256),
            }),
            Response::Topology {
                total: 9,
                start: 8,
                nodes: one(TopoNode {
                    addr: A,
                    parent: Some(A),
                    depth: Some(2),
                    lifetime_s: 1800,
                    storing: false,
                    registered: false,
                    etx_x100: Some(150),
                    external: true,
                }),
            },
            Response::Security(SecurityInfo {
                enabled: true,
                settings: SECURITY_SETTINGS,
                key_sequence: 3,
                key_index: 4,
                frame_counter: 1234,
                rotation_pending: false,
                next_rotation_s: Some(3600),
                neighbours: (5, 64),
                frames: (100, 90),
                tx_no_counter: 0,
                rotations: 1,
                replay_evictions: 0,
                drops: SecurityDrops {
                    no_key: 1,
                    mic: 2,
                    replay: 3,
                    duplicate: 4,
                    unsecured: 5,
                    unsupported: 6,
                },
            }),
            Response::Ping(PingOutcome::Error {
                icmp_type: 1,
                code: 3,
                from: A,
            }),
            Response::Ping(PingOutcome::Timeout),
            Response::Ping(PingOutcome::NotSent),
        ]
    }

    /// Every [`EventKind`] variant, in variant order.
    pub fn events() -> [Event<'static>; 27] {
        let k = [
            EventKind::IfaceUp("eth0"),
            EventKind::IfaceDown("eth0"),
            EventKind::AddrAdded("eth0", A),
            EventKind::AddrRemoved("eth0", A),
            EventKind::AddrDeprecated("eth0", A),
            EventKind::RouteAdded(A, 64, Some("wpan0")),
            EventKind::RouteRemoved(A, 64, None),
            EventKind::NodeRegistered(A),
            EventKind::NodeRefused(A, 1),
            EventKind::NodeDeregistered(A),
            EventKind::DadSucceeded(A),
            EventKind::DadFailed(A),
            EventKind::ResolutionFailed(A),
            EventKind::AddressFormed(A),
            EventKind::RouterLearned(A),
            EventKind::PrefixConflict(A, 64),
            EventKind::ChannelChanged(15),
            EventKind::PanIdChanged(0x1234),
            EventKind::PrefixChanged(A),
            EventKind::TxPowerChanged(-8),
            EventKind::Energy(11, -85),
            EventKind::Lost(3),
            EventKind::TargetAdded(A),
            EventKind::TargetRemoved(A),
            EventKind::TargetExpired(A),
            EventKind::DaoRejected(A, 130),
            EventKind::DodagVersion(241),
        ];
        k.map(|kind| Event { ts_ms: 42, kind })
    }

    /// A [`Log`] line.
    pub fn log() -> Log<'static> {
        Log {
            ts_ms: 42,
            level: Level::Warn,
            target: "firmware::lbr",
            text: "registration table full",
        }
    }

    /// A [`Capture`] record.
    pub fn capture() -> Capture<'static> {
        Capture {
            ts_us: 42_000_001,
            iface: CaptureIface::Wpan0,
            tx: false,
            channel: 26,
            rssi: -50,
            lqi: 255,
            orig_len: 5,
            dropped: [1, 2],
            data: &[0x02, 0x00, 0x07, 0xaa, 0xbb],
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod protocol_doc;
