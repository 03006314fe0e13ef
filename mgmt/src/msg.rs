//! Message types: the body of every frame after the 4-byte [`Header`](crate::Header).
//!
//! Bodies are postcard-encoded. postcard is not self-describing, so these types ARE the
//! schema: any change to a field, its type or the order of variants changes the bytes. Each
//! type is defined inside [`schema_types!`](crate::schema), which also derives its
//! [`Schema`](crate::schema::Schema) shape from the definition, and with it
//! [`schema_fingerprint`](crate::schema_fingerprint). Two variants are frozen for
//! ever so peers of different versions can still tell each other so: [`Request::Hello`] and
//! [`Response::Hello`] are variant 0, [`Response::Error`] is variant 1.
//!
//! Strings and byte strings borrow from the frame (`&'a str`, `&'a [u8]`) so neither side
//! needs a heap; lists are `heapless::Vec`s with named capacities.

use heapless::Vec;
use serde::{Deserialize, Serialize};

use crate::schema::schema_types;

mod rpl;
mod security;
pub use rpl::*;
pub use security::*;

/// IPv6 address bytes (network order).
pub type Ip6 = [u8; 16];

/// Interfaces in one [`Response::Ifaces`].
pub const MAX_IFACES: usize = 4;
/// Addresses in one [`Response::Addrs`].
pub const MAX_ADDRS: usize = 24;
/// Routes in one [`Response::Routes`].
pub const MAX_ROUTES: usize = 24;
/// Neighbors in one [`Response::Neighbors`].
pub const MAX_NEIGHBORS: usize = 24;
/// Nodes in one [`Response::Nodes`] page.
pub const NODES_PER_PAGE: usize = 8;
/// Counter values in one [`Response::Stats`] page (at most 10 bytes each on the wire).
pub const VALUES_PER_PAGE: usize = 64;
/// Channels in one [`Response::Energy`].
pub const MAX_CHANNELS: usize = 16;
/// Largest [`Request::Ping`] `size` (echo data bytes): the device builds an echo request in
/// one packet of at most the IPv6 minimum MTU, 1280 bytes, less the IPv6 (40) and ICMPv6 echo
/// (8) headers. It is also what fits every link unfragmented (`wpan0` and `eth0` alike).
pub const MAX_PING_SIZE: u16 = 1280 - 40 - 8;

schema_types! {
    /// A request from the host. Every request gets exactly one response with its id.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum Request<'a> {
        /// Variant 0, frozen: the handshake. The device answers [`Response::Hello`] whatever the
        /// version, and resets the session (stops a capture, cancels subscriptions).
        Hello {
            /// The host's [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION).
            version: u8,
            /// The host's [`schema_fingerprint`](crate::schema_fingerprint).
            schema: u32,
            /// The host tool's name and version, for the device's log.
            client: &'a str,
        },
        /// Firmware, board, uptime and a configuration summary → [`Response::Info`].
        Info,
        /// Every interface → [`Response::Ifaces`].
        IfaceList,
        /// Administratively up or down → [`Response::Ok`].
        IfaceAdmin {
            /// Interface name.
            iface: &'a str,
            /// Up (true) or down.
            up: bool,
        },
        /// Change a radio setting of `wpan0` → [`Response::Ok`].
        IfaceSet {
            /// Interface name.
            iface: &'a str,
            /// What to change.
            setting: IfaceSetting,
        },
        /// Every address of every interface → [`Response::Addrs`].
        AddrList,
        /// Add a static address → [`Response::Ok`].
        AddrAdd {
            /// Interface name.
            iface: &'a str,
            /// Address.
            addr: Ip6,
            /// On-link prefix length.
            prefix_len: u8,
        },
        /// Remove an address → [`Response::Ok`].
        AddrDel {
            /// Interface name.
            iface: &'a str,
            /// Address.
            addr: Ip6,
        },
        /// The routing table → [`Response::Routes`].
        RouteList,
        /// Add a static route → [`Response::Ok`].
        RouteAdd {
            /// Destination prefix.
            prefix: Ip6,
            /// Its length.
            len: u8,
            /// Egress interface.
            iface: &'a str,
            /// Next hop, or on-link.
            via: Option<Ip6>,
            /// Lower wins.
            metric: u16,
        },
        /// Remove the route to this prefix → [`Response::Ok`].
        RouteDel {
            /// Destination prefix.
            prefix: Ip6,
            /// Its length.
            len: u8,
        },
        /// The backbone neighbor cache → [`Response::Neighbors`].
        NeighList,
        /// Mesh nodes from index `start` → [`Response::Nodes`].
        NodesList {
            /// First node index of the page.
            start: u16,
        },
        /// → [`Response::Prefix`].
        PrefixShow,
        /// Change the mesh prefix → [`Response::Ok`].
        PrefixSet {
            /// Prefix.
            prefix: Ip6,
            /// Its length (64).
            len: u8,
        },
        /// Counter values from index `start` → [`Response::Stats`]. The host names (and filters)
        /// them: see [`Response::Stats`].
        Stats {
            /// First counter index of the page.
            start: u16,
        },
        /// Zero the counters → [`Response::Ok`].
        StatsReset {
            /// Only this interface's.
            #[serde(borrow)]
            iface: Option<&'a str>,
        },
        /// Send one ICMPv6 echo request from the device → [`Response::Ping`] when the reply
        /// arrives or `timeout_ms` passes.
        Ping {
            /// Destination.
            dst: Ip6,
            /// Echo data bytes, at most [`MAX_PING_SIZE`].
            size: u16,
            /// Sequence number.
            seq: u16,
            /// How long to wait for the reply.
            timeout_ms: u32,
            /// Egress interface (required for link-local destinations).
            #[serde(borrow)]
            iface: Option<&'a str>,
        },
        /// Energy detection on each channel set in `channels` (bit N = channel N, 11..=26) →
        /// [`Response::Energy`].
        ScanEnergy {
            /// Channel mask.
            channels: u32,
            /// Time per channel.
            duration_ms: u16,
        },
        /// Start streaming [`Capture`] messages → [`Response::Ok`].
        CaptureStart {
            /// Bit 0 `wpan0`, bit 1 `eth0`.
            ifaces: u8,
            /// Also frames the MAC filtered out (radio promiscuous mode).
            promiscuous: bool,
        },
        /// Stop streaming → [`Response::CaptureStats`].
        CaptureStop,
        /// Stream [`Event`] and/or [`Log`] messages → [`Response::Ok`].
        Subscribe {
            /// Events.
            events: bool,
            /// Log lines.
            logs: bool,
        },
        /// The running configuration → [`Response::Config`].
        ConfigShow,
        /// Persist the running configuration → [`Response::Ok`].
        ConfigSave,
        /// Restore and persist the defaults (applied at the next reboot) → [`Response::Ok`].
        ConfigReset,
        /// Restart the device after answering → [`Response::Ok`].
        Reboot,
        /// The RPL root's state and settings → [`Response::Rpl`].
        RplShow,
        /// Change the RPL root's settings (applied at once; a new DODAG version when the
        /// DODAG's parameters change) → [`Response::Ok`].
        RplSet(RplSettings),
        /// Global repair: a new DODAG version → [`Response::Ok`].
        RplRepair,
        /// The DODAG from node index `start` → [`Response::Topology`].
        Topology {
            /// First node index of the page.
            start: u16,
        },
        /// Link-layer security state and counters → [`Response::Security`].
        SecurityShow,
        /// Set the network key (write-only: no response ever returns it) and secure `wpan0`
        /// with it, at once; persisted with `ConfigSave` → [`Response::Ok`].
        SecuritySetKey {
            /// The 16-byte network key.
            key: [u8; 16],
        },
        /// Change the security settings → [`Response::Ok`].
        SecuritySet(SecuritySettings),
        /// Rotate to the next key sequence → [`Response::Ok`].
        SecurityRotate,
        /// Forget the network key: `wpan0` sends and accepts unsecured frames again →
        /// [`Response::Ok`].
        SecurityOff,
    }
}

schema_types! {
    /// A setting of an IEEE 802.15.4 interface.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum IfaceSetting {
        /// Channel 11..=26.
        Channel(u8),
        /// PAN ID.
        PanId(u16),
        /// Transmit power, dBm.
        TxPower(i8),
    }
}

schema_types! {
    /// A response to the request with the same id.
    // No heap to box the large variants into; a response lives briefly on the stack.
    #[allow(clippy::large_enum_variant)]
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub enum Response<'a> {
        /// Variant 0, frozen: the device's half of the handshake.
        Hello {
            /// The device's protocol version.
            version: u8,
            /// The device's schema fingerprint.
            schema: u32,
            /// Firmware name and version.
            firmware: &'a str,
            /// Board name.
            board: &'a str,
        },
        /// Variant 1, frozen: the request failed.
        Error {
            /// What kind of failure.
            code: ErrorCode,
            /// For the operator.
            message: &'a str,
        },
        /// Done.
        Ok,
        /// See [`Request::Info`].
        Info(#[serde(borrow)] Info<'a>),
        /// See [`Request::IfaceList`].
        Ifaces(#[serde(borrow)] Vec<IfaceInfo<'a>, MAX_IFACES>),
        /// See [`Request::AddrList`].
        Addrs(#[serde(borrow)] Vec<AddrInfo<'a>, MAX_ADDRS>),
        /// See [`Request::RouteList`].
        Routes(#[serde(borrow)] Vec<RouteInfo<'a>, MAX_ROUTES>),
        /// See [`Request::NeighList`].
        Neighbors(Vec<NeighborInfo, MAX_NEIGHBORS>),
        /// One page of [`Request::NodesList`].
        Nodes {
            /// Nodes in all.
            total: u16,
            /// Index of the first node of this page.
            start: u16,
            /// The page.
            nodes: Vec<NodeInfo, NODES_PER_PAGE>,
        },
        /// See [`Request::PrefixShow`].
        Prefix {
            /// Mesh prefix.
            prefix: Ip6,
            /// Its length.
            len: u8,
            /// 6LoWPAN context carrying it.
            context_id: u8,
            /// Current ABRO version.
            abro_version: u32,
        },
        /// One page of [`Request::Stats`]: values only. The device's counter list (each
        /// counter's layer, interface and name, in a fixed order) is [`crate::counters`], which
        /// the host is built with; `list` tells whether that list is the device's.
        Stats {
            /// Counters in all.
            total: u16,
            /// Index of the first counter of this page.
            start: u16,
            /// Fingerprint of the device's counter list
            /// ([`counters::FINGERPRINT`](crate::counters::FINGERPRINT)).
            list: u32,
            /// The values of counters `start..start + values.len()`.
            values: Vec<u64, VALUES_PER_PAGE>,
        },
        /// See [`Request::Ping`].
        Ping(PingOutcome),
        /// See [`Request::ScanEnergy`].
        Energy(Vec<ChannelEnergy, MAX_CHANNELS>),
        /// See [`Request::CaptureStop`].
        CaptureStats(CaptureStats),
        /// See [`Request::ConfigShow`].
        Config(ConfigInfo),
        /// See [`Request::RplShow`].
        Rpl(RplInfo),
        /// One page of [`Request::Topology`].
        Topology {
            /// Nodes in all.
            total: u16,
            /// Index of the first node of this page.
            start: u16,
            /// The page.
            nodes: Vec<TopoNode, NODES_PER_PAGE>,
        },
        /// See [`Request::SecurityShow`].
        Security(SecurityInfo),
    }
}

schema_types! {
    /// Why a request failed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[non_exhaustive]
    pub enum ErrorCode {
        /// The device does not know this request (newer host?).
        UnknownRequest,
        /// The request's body did not decode.
        Malformed,
        /// The request's protocol version is not the device's.
        VersionMismatch,
        /// No interface of that name.
        NoSuchIface,
        /// A value is out of range or inconsistent.
        InvalidArgument,
        /// The device is busy with an earlier request of this kind.
        Busy,
        /// Not supported by this device or interface.
        Unsupported,
        /// A table is full.
        Full,
        /// Not found.
        NotFound,
        /// Something failed inside the device.
        Internal,
    }
}

schema_types! {
    /// See [`Request::Info`].
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Info<'a> {
        /// Firmware name and version.
        pub firmware: &'a str,
        /// Board name.
        pub board: &'a str,
        /// Device protocol version.
        pub protocol: u8,
        /// Since boot.
        pub uptime_ms: u64,
        /// Radio EUI-64.
        pub eui64: [u8; 8],
        /// Short address (0xfffe: none).
        pub short_addr: u16,
        /// Channel.
        pub channel: u8,
        /// PAN ID.
        pub pan_id: u16,
        /// Transmit power, dBm.
        pub tx_power: i8,
        /// Mesh prefix.
        pub prefix: Ip6,
        /// Its length.
        pub prefix_len: u8,
        /// Registered nodes.
        pub registered: u16,
        /// Gleaned nodes.
        pub gleaned: u16,
        /// Free packet buffers.
        pub pool_free: u16,
        /// Packet buffers in all.
        pub pool_size: u16,
    }
}

schema_types! {
    /// Interface kind.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum IfaceKind {
        /// IEEE 802.15.4 + 6LoWPAN.
        Wpan,
        /// Ethernet.
        Ethernet,
        /// Something else.
        Other,
    }
}

schema_types! {
    /// One interface.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct IfaceInfo<'a> {
        /// Name.
        pub name: &'a str,
        /// Kind.
        pub kind: IfaceKind,
        /// Administratively up.
        pub admin_up: bool,
        /// Link up (carrier).
        pub link_up: bool,
        /// IPv6 MTU.
        pub mtu: u16,
        /// Forwards packets.
        pub forwarding: bool,
        /// Link-layer address (8 bytes EUI-64 on 802.15.4, 6 bytes MAC on Ethernet).
        pub ll_addr: &'a [u8],
        /// 802.15.4 specifics.
        pub wpan: Option<WpanInfo>,
        /// Packets received.
        pub rx_packets: u64,
        /// Packets sent.
        pub tx_packets: u64,
        /// Packets forwarded out of it.
        pub forwarded: u64,
        /// Drops of every reason.
        pub drops: u64,
    }
}

schema_types! {
    /// IEEE 802.15.4 settings.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct WpanInfo {
        /// Channel.
        pub channel: u8,
        /// PAN ID.
        pub pan_id: u16,
        /// Short address.
        pub short_addr: u16,
        /// Transmit power, dBm.
        pub tx_power: i8,
    }
}

schema_types! {
    /// Address state.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum AddrState {
        /// Duplicate address detection running.
        Tentative,
        /// Usable.
        Preferred,
        /// Usable, not for new communication.
        Deprecated,
    }
}

schema_types! {
    /// One address.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct AddrInfo<'a> {
        /// Interface name.
        pub iface: &'a str,
        /// Address.
        pub addr: Ip6,
        /// On-link prefix length.
        pub prefix_len: u8,
        /// State.
        pub state: AddrState,
        /// Valid lifetime left, seconds (`None`: forever).
        pub valid_s: Option<u32>,
    }
}

schema_types! {
    /// Where a route came from.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum RouteOrigin {
        /// Prefix of an address on the interface.
        Connected,
        /// Configured.
        Static,
        /// Learned from the network.
        Learned,
    }
}

schema_types! {
    /// One route.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RouteInfo<'a> {
        /// Destination prefix.
        pub prefix: Ip6,
        /// Its length.
        pub len: u8,
        /// Egress interface name (`None`: a discard/unreachable route).
        #[serde(borrow)]
        pub iface: Option<&'a str>,
        /// Next hop (`None`: on-link).
        pub via: Option<Ip6>,
        /// Metric.
        pub metric: u16,
        /// Origin.
        pub origin: RouteOrigin,
        /// Lifetime left, seconds (`None`: permanent).
        pub expires_s: Option<u32>,
    }
}

schema_types! {
    /// Neighbor Unreachability Detection state (RFC 4861 §7.3.2).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum NeighState {
        /// Resolution in progress.
        Incomplete,
        /// Confirmed recently.
        Reachable,
        /// Not confirmed recently.
        Stale,
        /// Waiting before probing.
        Delay,
        /// Probing.
        Probe,
    }
}

schema_types! {
    /// One backbone neighbor.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct NeighborInfo {
        /// Its IPv6 address.
        pub addr: Ip6,
        /// Its MAC address (`None` while incomplete).
        pub mac: Option<[u8; 6]>,
        /// NUD state.
        pub state: NeighState,
        /// It is a router.
        pub router: bool,
    }
}

schema_types! {
    /// One mesh node.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct NodeInfo {
        /// IPv6 address.
        pub addr: Ip6,
        /// EUI-64 (registration owner or extended address).
        pub eui64: Option<[u8; 8]>,
        /// Short address, when it uses one.
        pub short_addr: Option<u16>,
        /// Registered with 6LoWPAN-ND (false: gleaned from its traffic).
        pub registered: bool,
        /// Registration (or gleaned-entry) lifetime left, seconds.
        pub lifetime_s: u32,
        /// Since its last frame, milliseconds (`None`: never heard directly).
        pub last_heard_ms: Option<u32>,
        /// Average RSSI, dBm.
        pub rssi: Option<i8>,
        /// Average LQI.
        pub lqi: Option<u8>,
        /// Expected transmission count × 100 (`None`: nothing sent yet).
        pub etx_x100: Option<u16>,
        /// Frames received from it.
        pub rx_frames: u32,
        /// Frames sent to it.
        pub tx_frames: u32,
        /// Its RPL parent, when it is a live RPL target (the border router's own address when
        /// the parent is the root; `None`: no target).
        pub parent: Option<Ip6>,
        /// Its depth in the DODAG, when it is a live RPL target (`None`: no target, or the
        /// parent chain is broken).
        pub depth: Option<u8>,
    }
}

schema_types! {
    /// Counter group.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum Layer {
        /// IEEE 802.15.4 MAC.
        Mac,
        /// 6LoWPAN adaptation.
        SixLowpan,
        /// Ethernet.
        Ethernet,
        /// IPv6 core.
        Ipv6,
        /// Neighbor discovery (backbone NDP and 6LoWPAN-ND).
        Nd,
        /// The device as a whole (pool, capture, management).
        Device,
        /// RPL (the DODAG root and its targets).
        Rpl,
    }
}

schema_types! {
    /// What became of one echo request.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum PingOutcome {
        /// The echo reply came back.
        Reply {
            /// Round trip, microseconds.
            rtt_us: u32,
            /// Hop limit of the reply.
            hop_limit: u8,
            /// Echo data bytes in the reply.
            size: u16,
        },
        /// No reply in time.
        Timeout,
        /// An ICMPv6 error came back instead (type, code).
        Error {
            /// ICMPv6 type.
            icmp_type: u8,
            /// ICMPv6 code.
            code: u8,
            /// Who sent it.
            from: Ip6,
        },
        /// The device could not send it (no route, no buffer).
        NotSent,
    }
}

schema_types! {
    /// One channel's energy.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ChannelEnergy {
        /// Channel.
        pub channel: u8,
        /// Peak energy, dBm.
        pub dbm: i8,
    }
}

schema_types! {
    /// Capture counters.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct CaptureStats {
        /// Frames recorded on the device.
        pub recorded: u64,
        /// Frames sent to the host.
        pub sent: u64,
        /// Frames the device dropped (ring full or link too slow), per interface: wpan0, eth0.
        pub dropped: [u64; 2],
    }
}

schema_types! {
    /// The running configuration.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ConfigInfo {
        /// Mesh prefix.
        pub prefix: Ip6,
        /// Its length.
        pub prefix_len: u8,
        /// PAN ID.
        pub pan_id: u16,
        /// Channel.
        pub channel: u8,
        /// EUI-64.
        pub eui64: [u8; 8],
        /// Short address.
        pub short_addr: u16,
        /// Transmit power, dBm.
        pub tx_power: i8,
        /// `eth0` MAC.
        pub eth_mac: [u8; 6],
        /// `eth0` static address and prefix length (`None`: SLAAC).
        pub backbone_static: Option<(Ip6, u8)>,
        /// Default gateway of a static backbone.
        pub backbone_gateway: Option<Ip6>,
        /// RA interval bounds, seconds.
        pub ra_interval_s: (u16, u16),
        /// Router lifetime, seconds.
        pub router_lifetime_s: u16,
        /// Prefix lifetimes (valid, preferred), seconds.
        pub prefix_lifetimes_s: (u32, u32),
        /// ABRO version.
        pub abro_version: u32,
        /// Maximum registration lifetime, minutes.
        pub max_registration_min: u16,
        /// The running configuration differs from the stored one.
        pub unsaved: bool,
        /// Routes and addresses added by the operator are saved with the configuration
        /// (false: they last until the next reboot).
        pub routes_saved: bool,
    }
}

schema_types! {
    /// An unsolicited event (sent while subscribed).
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Event<'a> {
        /// Device time, milliseconds since boot.
        pub ts_ms: u64,
        /// What happened.
        #[serde(borrow)]
        pub kind: EventKind<'a>,
    }
}

schema_types! {
    /// What happened.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum EventKind<'a> {
        /// Interface up.
        IfaceUp(&'a str),
        /// Interface down.
        IfaceDown(&'a str),
        /// Address assigned.
        AddrAdded(&'a str, Ip6),
        /// Address removed.
        AddrRemoved(&'a str, Ip6),
        /// Address deprecated.
        AddrDeprecated(&'a str, Ip6),
        /// Route installed (prefix, length, interface).
        RouteAdded(Ip6, u8, #[serde(borrow)] Option<&'a str>),
        /// Route removed.
        RouteRemoved(Ip6, u8, #[serde(borrow)] Option<&'a str>),
        /// A mesh node registered this address.
        NodeRegistered(Ip6),
        /// A registration was refused with this ARO status.
        NodeRefused(Ip6, u8),
        /// A mesh node removed its registration.
        NodeDeregistered(Ip6),
        /// Backbone DAD succeeded.
        DadSucceeded(Ip6),
        /// Backbone DAD failed: the address was removed.
        DadFailed(Ip6),
        /// A backbone next hop did not answer.
        ResolutionFailed(Ip6),
        /// A backbone SLAAC address was formed.
        AddressFormed(Ip6),
        /// A backbone default router was learned.
        RouterLearned(Ip6),
        /// A backbone router advertised a prefix inside the mesh prefix (or another prefix
        /// of ours): refused (prefix, length).
        PrefixConflict(Ip6, u8),
        /// Channel changed.
        ChannelChanged(u8),
        /// PAN ID changed.
        PanIdChanged(u16),
        /// Mesh prefix changed (its /64).
        PrefixChanged(Ip6),
        /// Transmit power changed.
        TxPowerChanged(i8),
        /// Energy detected on a channel (channel, dBm).
        Energy(u8, i8),
        /// This many events were lost before this one (device queue full or link too slow).
        Lost(u32),
        /// A DAO made this address an RPL target.
        TargetAdded(Ip6),
        /// A No-Path removed this RPL target.
        TargetRemoved(Ip6),
        /// This RPL target's path lifetime ran out.
        TargetExpired(Ip6),
        /// A DAO for this target was rejected with this DAO-ACK status (≥ 128).
        DaoRejected(Ip6, u8),
        /// The root started a new DODAG version (global repair).
        DodagVersion(u8),
    }
}

schema_types! {
    /// Log severity.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    pub enum Level {
        /// Errors.
        Error,
        /// Warnings.
        Warn,
        /// Information.
        Info,
        /// Debugging.
        Debug,
        /// Tracing.
        Trace,
    }
}

schema_types! {
    /// A log line (sent while subscribed).
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Log<'a> {
        /// Device time, milliseconds since boot.
        pub ts_ms: u64,
        /// Severity.
        pub level: Level,
        /// Module.
        pub target: &'a str,
        /// Text.
        pub text: &'a str,
    }
}

schema_types! {
    /// Capture interface.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub enum CaptureIface {
        /// The 802.15.4 radio; the data is the PSDU including the FCS.
        Wpan0,
        /// Ethernet; the data is the frame without FCS.
        Eth0,
    }
}

schema_types! {
    /// One captured frame (sent while a capture runs).
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Capture<'a> {
        /// Device time, microseconds since boot.
        pub ts_us: u64,
        /// Interface.
        pub iface: CaptureIface,
        /// Transmitted (true) or received.
        pub tx: bool,
        /// Radio channel (wpan0).
        pub channel: u8,
        /// RSSI, dBm (`i8::MIN`: unknown, e.g. transmitted frames).
        pub rssi: i8,
        /// LQI.
        pub lqi: u8,
        /// Length on the wire (the data may be truncated).
        pub orig_len: u16,
        /// Frames the device has dropped from this capture so far, per interface (wpan0, eth0).
        pub dropped: [u32; 2],
        /// The frame.
        pub data: &'a [u8],
    }
}
