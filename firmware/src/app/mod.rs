//! The border-router application: one netif [`Stack`] with `wpan0` ([`Wpan`]) and `eth0`
//! ([`EthernetL2`]), the 6LBR role ([`Lbr`]), the capture ring, and the one API the shells
//! (the `sixgate-sim` process, the nRF52840 board, the management server) use.
//!
//! The shell owns the radio and the Ethernet driver and calls, in any order:
//! - [`App::on_radio_event`] for each radio event,
//! - [`App::poll`] whenever [`App::next_deadline`] passes or the Ethernet driver has frames,
//!   and after on_radio_event batches,
//! - the query and control methods (status, tables, counters, events, capture, run-time
//!   configuration changes). A configuration change marks the configuration dirty;
//!   [`App::take_dirty_config`] hands it to the shell to persist, and it stays dirty until the
//!   shell reports a successful write with [`App::config_saved`].
//!
//! Policy: packets from the mesh must have a source in the mesh prefix or link-local
//! ([`IngressPolicy::SourcePrefixes`]); errors (Packet Too Big toward the 1280-byte mesh,
//! Time Exceeded, Destination Unreachable) come from the core. The mesh prefix is announced on
//! the backbone in Route Information Options so hosts there route to the mesh through us.

use core::net::Ipv6Addr;

use ethernet::config::{HostConfig, RouterConfig, StaticConfig};
use ethernet::{EthConfig, EthernetL2};
use heapless::{Deque, Vec};
use l2_15_4::mac::MacResources;
use l2_15_4::radio::{Channel, Radio};
use l2_15_4::{Address, MacConfig, PanId};
use netif::iface::{IfaceConfig, IngressPolicy};
use netif::{
    AddrState, Duration, Event, IfIndex, Instant, Lifetimes, LinkAddr, Prefix, Stack, StackConfig,
};
use sixlo::Context;

use crate::capture::{CaptureRing, CaptureStorage, DEFAULT_CAPTURE_BYTES};
use crate::config::{Backbone, Config, ConfigError};
use crate::lbr::{Lbr, LbrEvent, our_iid};
use crate::ping::Pinger;
use crate::root::{Root, RootEvent};
#[cfg(feature = "router-role")]
use crate::router::MeshRouter;
use crate::wpan::{Wpan, WpanReassembler, WpanRegistry};

mod control;
mod operator;
mod poll;
mod query;
mod security;
mod tap;

pub use security::{KEY_SWITCH_GUARD, SECURITY_PERSIST_STEP};

/// Packet buffers.
pub const PACKETS: usize = 16;
/// Bytes per packet buffer: the headroom, then a 1280-byte packet with the RPL root's tunnel
/// around it (40 + 8 + a source route of up to 9 hops of 8 compressed bytes and its 8-byte
/// header, RFC 9008), so the mesh carries a full 1280-byte packet to a target behind other
/// routers.
pub const PACKET_BUF: usize = netif::config::DEFAULT_HEADROOM + netif::config::IPV6_MIN_MTU + 128;
/// Routes.
pub const ROUTES: usize = 16;
/// Per-class queue depth.
pub const QUEUE_DEPTH: usize = 8;
/// Core events kept.
pub const CORE_EVENTS: usize = 16;
/// Application events kept for the management side.
pub const APP_EVENTS: usize = 32;
/// How often registrations, contexts and reassemblies are swept.
pub const HOUSEKEEPING: Duration = Duration::from_secs(1);

/// The netif storage type.
pub type NetResources = netif::Resources<PACKETS, PACKET_BUF, ROUTES, QUEUE_DEPTH, CORE_EVENTS>;

/// All storage of the application, in one place (a `static` on the board). `CAPTURE` is the
/// capture ring's size in bytes; it must hold the largest frame to be captured (1514-byte
/// Ethernet frames + a 17-byte record header), or such frames are counted as capture drops.
pub struct AppResources<const CAPTURE: usize = DEFAULT_CAPTURE_BYTES> {
    net: NetResources,
    registry: WpanRegistry,
    reassembler: WpanReassembler,
    capture: CaptureStorage<CAPTURE>,
}

impl<const CAPTURE: usize> Default for AppResources<CAPTURE> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CAPTURE: usize> AppResources<CAPTURE> {
    /// Empty storage.
    pub fn new() -> Self {
        AppResources {
            net: NetResources::new(),
            registry: WpanRegistry::new(),
            reassembler: WpanReassembler::default(),
            capture: CaptureStorage::new(),
        }
    }
}

/// Why the application could not start or a change was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AppError {
    /// The configuration is invalid.
    Config(ConfigError),
    /// The radio refused a setting.
    Radio,
    /// The interface core refused (table full, bad address).
    Core,
    /// No such interface.
    NoSuchIface,
    /// Link-layer security is off, or this board runs none.
    SecurityUnavailable,
    /// A key rotation waits for its sequence to be persisted, or the last key switch was
    /// within the guard time.
    SecurityBusy,
}

impl AppError {
    /// The message [`core::fmt::Display`] prints, as a prefix and a message, for callers that
    /// avoid `core::fmt` (the management server on the board).
    pub const fn parts(&self) -> (&'static str, &'static str) {
        match self {
            AppError::Config(e) => ("invalid configuration: ", e.as_str()),
            AppError::Radio => ("", "the radio refused the setting"),
            AppError::Core => ("", "the interface core refused the change"),
            AppError::NoSuchIface => ("", "no such interface"),
            AppError::SecurityUnavailable => {
                ("", "security is off (no network key) or not on this board")
            }
            AppError::SecurityBusy => (
                "",
                "key rotation being saved, or last key switch under an hour ago",
            ),
        }
    }
}

impl core::fmt::Display for AppError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (prefix, message) = self.parts();
        f.write_str(prefix)?;
        f.write_str(message)
    }
}

/// A configuration item that changed at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConfigItem {
    /// Radio channel.
    Channel(u8),
    /// PAN ID.
    PanId(u16),
    /// Mesh prefix (the /64's first 8 bytes).
    Prefix([u8; 8]),
    /// Transmit power, dBm.
    TxPower(i8),
}

/// Something the management side reports to the operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AppEvent {
    /// From the interface core (interfaces, addresses, routes).
    Net(Event),
    /// From the 6LBR (registrations).
    Lbr(LbrEvent),
    /// From the RPL root (targets, DODAG versions).
    Root(RootEvent),
    /// From backbone neighbor discovery.
    Backbone(ethernet::NdEvent),
    /// A run-time configuration change was applied.
    Config(ConfigItem),
    /// An energy-detect result.
    Energy {
        /// Channel.
        channel: u8,
        /// Peak energy, dBm.
        dbm: i8,
    },
}

/// Application-level counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AppStats {
    /// Received frames dropped because the pool was empty.
    pub rx_no_buffer_wpan: u64,
    /// Ethernet driver errors.
    pub eth_driver_errors: u64,
    /// Local deliveries nobody handled (freed).
    pub unhandled_local: u64,
    /// Application events dropped because nobody took them.
    pub events_lost: u64,
    /// Frames lost from the MAC queue by a PAN ID change.
    pub mac_reset_drops: u64,
}

/// A snapshot for the one-screen status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Status {
    /// Time since start.
    pub uptime: Duration,
    /// Mesh devices (link-layer addresses) with at least one registered address.
    pub registered: usize,
    /// Mesh devices known only from gleaned (unregistered) addresses.
    pub gleaned: usize,
    /// Packets forwarded mesh → backbone.
    pub forwarded_up: u64,
    /// Packets forwarded backbone → mesh.
    pub forwarded_down: u64,
    /// Drops of every kind on both interfaces.
    pub drops: u64,
    /// Free packet buffers.
    pub pool_free: usize,
    /// Packet buffers in all.
    pub pool_size: usize,
    /// Deepest stack use seen, in bytes, as the board measured it
    /// ([`App::set_stack_high_water`]; 0 on a board that does not paint its stack).
    pub stack_high_water: u32,
}

/// One mesh node as the management side lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// Its IPv6 address.
    pub addr: Ipv6Addr,
    /// Its link-layer address.
    pub ll: Address,
    /// EUI-64 (registered with an EUI-64 ROVR, or carried as the extended address).
    pub eui64: Option<[u8; 8]>,
    /// Registered (6LoWPAN-ND) rather than gleaned.
    pub registered: bool,
    /// Registration (or gleaned-entry) lifetime left.
    pub lifetime_left: Duration,
    /// Since its last frame.
    pub last_heard_ago: Duration,
    /// Link statistics from the MAC, when it is a direct neighbour we have heard.
    pub rssi: Option<i8>,
    /// LQI average.
    pub lqi: Option<u8>,
    /// Expected transmission count × 100.
    pub etx_x100: Option<u32>,
    /// Datagrams received from it.
    pub rx: u32,
    /// Datagrams sent to it.
    pub tx: u32,
}

/// The border router.
pub struct App<'r> {
    cfg: Config,
    stack: Stack<'r>,
    wpan: Wpan<'r>,
    eth: EthernetL2,
    lbr: Lbr,
    root: Root,
    /// The mesh-router role ([`App::new_router`]); `None` in the border router.
    #[cfg(feature = "router-role")]
    router: Option<MeshRouter>,
    ping: Pinger,
    capture: &'r mut CaptureRing,
    wpan_i: IfIndex,
    eth_i: IfIndex,
    boot: Instant,
    now: Instant,
    next_housekeeping: Instant,
    /// Run-time changes not in storage yet: cleared only by [`App::config_saved`].
    dirty: bool,
    /// The dirty configuration was handed to the shell ([`App::take_dirty_config`]).
    save_offered: bool,
    events: Deque<AppEvent, APP_EVENTS>,
    stats: AppStats,
    link_up: bool,
    /// Link-layer security beside `wpan0`'s ([`App::start_security`]).
    security: security::AppSecurity,
    /// [`Status::stack_high_water`] in 32-bit words (the measurement is word-aligned; 16 bits
    /// cover 256 KiB, and fit the `App`'s padding on the nRF52840, whose RAM is full).
    stack_high_water_words: u16,
}

impl core::fmt::Debug for App<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("App")
            .field("cfg", &self.cfg)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn mesh_prefix(cfg: &Config) -> Option<Prefix> {
    Prefix::new(cfg.mesh_prefix_addr(), 64)
}

/// Retransmissions of a frame whose ACK is missing: the most 802.15.4 allows (7,
/// macMaxFrameRetries; Contiki-NG's CSMA default too) rather than the standard's default 3.
/// In the 100-node mesh (`mesh_scale`, seeds 1–5; the simulated leaves run our soft-MAC
/// with the same setting) the hidden-terminal collisions that exhaust 3 retries lost up to
/// 2.8 % of the readings and 2.6 % of the replies; with 7, at most 0.13 % and 0.71 %. The
/// cost: a parent that is gone is given up after three frames of eight attempts each
/// instead of four (about 0.1 s more).
pub const MAC_FRAME_RETRIES: u8 = 7;

fn mac_config(cfg: &Config) -> Result<MacConfig, AppError> {
    let ch = Channel::new(cfg.channel).ok_or(AppError::Config(ConfigError::BadChannel))?;
    let mut m = MacConfig::new(ch, PanId(cfg.pan_id), cfg.eui64);
    m.short_address = cfg.short_address;
    m.pan_coordinator = true;
    m.max_frame_retries = MAC_FRAME_RETRIES;
    // wpan0 records a neighbour's link statistics only for frames that passed its checks
    // (link-layer security first): a forged frame moves no RSSI and evicts no ETX.
    m.rx_stats_from_above = true;
    let e = cfg.eui64;
    m.seed = u32::from_be_bytes([e[4], e[5], e[6], e[7]]) | 1;
    Ok(m)
}

impl<'r> App<'r> {
    /// Start the border router with `cfg` over `res`, programming `radio`.
    pub fn new<const CAPTURE: usize>(
        cfg: Config,
        res: &'r mut AppResources<CAPTURE>,
        now: Instant,
        radio: &mut impl Radio,
    ) -> Result<Self, AppError> {
        cfg.validate().map_err(AppError::Config)?;
        let mut stack = Stack::new(StackConfig::default(), &mut res.net);
        let mac = l2_15_4::Mac::new(mac_config(&cfg)?, MacResources::new(), radio)
            .map_err(|_| AppError::Radio)?;
        let mut wpan = Wpan::new(mac, &mut res.reassembler, &mut res.registry);
        wpan.set_blind_global_derivation(cfg.blind_global_derivation);
        let core = |_| AppError::Core;
        use netif::l2::L2 as _;
        let wpan_i = stack
            .add_iface(
                now,
                &IfaceConfig {
                    name: "wpan0",
                    ll_addr: LinkAddr::ieee802154_extended(cfg.eui64),
                    mtu: 1280,
                    flags: wpan.flags(),
                    forwarding: true,
                    auto_link_local: true,
                },
            )
            .map_err(core)?;
        let mut ecfg = EthConfig::new(cfg.eth_mac);
        let pfx = mesh_prefix(&cfg).ok_or(AppError::Config(ConfigError::BadPrefix))?;
        ecfg.router = Some(RouterConfig::announcing(pfx));
        ecfg.host = match cfg.backbone {
            Backbone::Slaac => Some(HostConfig::default()),
            Backbone::Static { .. } => None,
        };
        ecfg.seed = u32::from_be_bytes([cfg.eui64[4], cfg.eui64[5], cfg.eui64[6], cfg.eui64[7]]);
        let mut eth = EthernetL2::new(ecfg);
        let eth_i = stack
            .add_iface(now, &eth.iface_config("eth0", true))
            .map_err(core)?;
        eth.attach(&mut stack, eth_i).map_err(core)?;
        stack
            .set_trust_dscp(eth_i, cfg.trust_backbone_dscp)
            .map_err(core)?;
        let mut lbr = Lbr::new(u32::from_be_bytes([
            cfg.eui64[0],
            cfg.eui64[1],
            cfg.eui64[6],
            cfg.eui64[7],
        ]));
        lbr.attach(&mut stack, wpan_i, now).map_err(core)?;
        let mut ping = Pinger::default();
        ping.attach(&mut stack).map_err(core)?;
        let mut root = Root::new();
        root.attach(&mut stack, wpan_i).map_err(core)?;
        let [.., e4, e5, e6, e7] = cfg.eui64;
        root.seed(u32::from_be_bytes([e4, e5, e6, e7]).rotate_left(7));
        let mut app = App {
            cfg,
            stack,
            wpan,
            eth,
            lbr,
            root,
            #[cfg(feature = "router-role")]
            router: None,
            ping,
            capture: &mut res.capture,
            wpan_i,
            eth_i,
            boot: now,
            now,
            next_housekeeping: now,
            dirty: false,
            save_offered: false,
            events: Deque::new(),
            stats: AppStats::default(),
            link_up: false,
            security: security::AppSecurity::default(),
            stack_high_water_words: 0,
        };
        app.apply_prefix(now, None)?;
        app.apply_backbone(now)?;
        app.stack
            .set_admin(now, wpan_i, &mut app.wpan, true)
            .map_err(core)?;
        app.stack.set_link_up(wpan_i, true).map_err(core)?;
        app.stack
            .set_admin(now, eth_i, &mut app.eth, true)
            .map_err(core)?;
        Ok(app)
    }

    /// Start a mesh router (6LR, issue 23) with `cfg` over `res`: the border router's
    /// application without the root, whose `wpan0` joins a DODAG from DIOs, advertises its
    /// address in DAOs, forwards along source routes and sends what it does not know to its
    /// preferred parent (see [`crate::router`]). The Ethernet interface stays down: pass a
    /// driver whose link is down to [`App::poll`]. The mesh prefix of `cfg` must be the
    /// DODAG's (it gives our global address and the 6LoWPAN context 0).
    #[cfg(feature = "router-role")]
    pub fn new_router<const CAPTURE: usize>(
        mut cfg: Config,
        res: &'r mut AppResources<CAPTURE>,
        now: Instant,
        radio: &mut impl Radio,
    ) -> Result<Self, AppError> {
        cfg.rpl.enabled = false;
        let mut app = App::new(cfg, res, now, radio)?;
        let [.., e4, e5, e6, e7] = app.cfg.eui64;
        let mut r = MeshRouter::new(u32::from_be_bytes([e4, e5, e6, e7]).rotate_left(11));
        r.attach(&mut app.stack, app.wpan_i)
            .map_err(|_| AppError::Core)?;
        r.set_own_address(now, crate::root::mesh_address(&app.cfg));
        app.router = Some(r);
        app.lbr.set_6lr();
        app.stack
            .set_ingress_policy(app.wpan_i, IngressPolicy::Open)
            .map_err(|_| AppError::Core)?;
        Ok(app)
    }

    /// The mesh-router role, when this is a router.
    #[cfg(feature = "router-role")]
    pub fn mesh_router(&self) -> Option<&MeshRouter> {
        self.router.as_ref()
    }

    /// Whether this is a mesh router ([`App::new_router`]).
    pub fn is_mesh_router(&self) -> bool {
        #[cfg(feature = "router-role")]
        return self.router.is_some();
        #[cfg(not(feature = "router-role"))]
        false
    }

    /// Install the mesh prefix: our address in it, the ingress policy, context 0, the RIO
    /// on the backbone. `old` is the previous prefix to withdraw.
    fn apply_prefix(&mut self, now: Instant, old: Option<[u8; 8]>) -> Result<(), AppError> {
        let core = |_| AppError::Core;
        let iid = our_iid(&self.cfg);
        if let Some(old) = old {
            let mut o = [0u8; 16];
            o[..8].copy_from_slice(&old);
            let old_addr = netif::addr::with_iid(Ipv6Addr::from(o), iid);
            let _ = self.stack.remove_addr(self.wpan_i, old_addr);
            // Registrations and gleaned entries outside the new prefix are gone.
            let new = self.cfg.mesh_prefix;
            self.wpan
                .registry_mut()
                .remove_where(|e| !e.addr.is_unicast_link_local() && e.addr.octets()[..8] != new);
        }
        let pfx = mesh_prefix(&self.cfg).ok_or(AppError::Config(ConfigError::BadPrefix))?;
        let ours = netif::addr::with_iid(pfx.addr(), iid);
        self.stack
            .add_addr(
                now,
                self.wpan_i,
                ours,
                64,
                Lifetimes::INFINITE,
                AddrState::Preferred,
            )
            .map_err(core)?;
        // The border router takes from the mesh only sources of the mesh (anti-spoofing
        // toward the backbone); a mesh router forwards the backbone's packets too (they
        // come down the root's tunnels), so it takes any source.
        let policy = if self.is_mesh_router() {
            IngressPolicy::Open
        } else {
            let mut allowed = Vec::new();
            let _ = allowed.push(pfx);
            IngressPolicy::SourcePrefixes(allowed)
        };
        self.stack
            .set_ingress_policy(self.wpan_i, policy)
            .map_err(core)?;
        self.wpan
            .contexts_mut()
            .set(0, Context::new(pfx.addr().octets(), 64));
        self.eth
            .set_router(Some(RouterConfig::announcing(pfx)), now);
        // The backbone may have given eth0 an address or route in the new mesh prefix.
        self.eth.forget_prefix(&mut self.stack, pfx);
        self.lbr.restart(now);
        // A new prefix is a new DODAG ID: the DIO timer starts again.
        self.root.reconfigure();
        self.apply_rpl();
        Ok(())
    }

    /// The RPL root's tunnel on `wpan0` follows the configuration (on while the root runs).
    /// So does RFC 8138 compression on `wpan0` (the setting; decompression is always on,
    /// against the root's address). A mesh router takes both from its DODAG instead.
    pub(super) fn apply_rpl(&mut self) {
        if self.is_mesh_router() {
            return;
        }
        let r = &self.cfg.rpl;
        let root = crate::root::mesh_address(&self.cfg);
        let t = r.enabled.then_some(crate::wpan::Tunnel {
            src: root,
            instance: r.instance_id,
            rank: r.min_hop_rank_increase,
        });
        self.wpan.set_tunnel(t);
        let mut o = self.wpan.compress_options();
        o.rfc8138 = r.enabled && r.rfc8138;
        self.wpan.set_compress_options(o);
        self.wpan.contexts_mut().set_rpl_root(Some(root.octets()));
    }

    fn apply_backbone(&mut self, now: Instant) -> Result<(), AppError> {
        if let Backbone::Static {
            addr,
            prefix_len,
            gateway,
        } = self.cfg.backbone
        {
            let c = StaticConfig {
                addr: Ipv6Addr::from(addr),
                prefix_len,
                gateway: gateway.map(Ipv6Addr::from),
                dad: true,
            };
            self.eth
                .configure_static(&mut self.stack, now, &c)
                .map_err(|_| AppError::Core)?;
        }
        Ok(())
    }
}
