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
//!   [`App::take_dirty_config`] hands it to the shell to persist.
//!
//! Policy: packets from the mesh must have a source in the mesh prefix or link-local
//! ([`IngressPolicy::SourcePrefixes`]); errors (Packet Too Big toward the 1280-byte mesh,
//! Time Exceeded, Destination Unreachable) come from the core. The mesh prefix is announced on
//! the backbone in Route Information Options so hosts there route to the mesh through us.

use core::net::Ipv6Addr;

use ethernet::config::{HostConfig, RouterConfig, StaticConfig};
use ethernet::{Driver, EthConfig, EthernetL2};
use heapless::{Deque, Vec};
use l2_15_4::mac::MacResources;
use l2_15_4::radio::{Capabilities, Channel, Radio, RadioError, RadioEvent, TxMode};
use l2_15_4::{Address, MacConfig, MacIndication, PanId};
use netif::iface::{IfaceConfig, IngressPolicy};
use netif::stats::IfaceStats;
use netif::{
    AddrState, Duration, Event, IfIndex, Instant, Lifetimes, LinkAddr, Outcome, Prefix, Stack,
    StackConfig,
};
use sixlo::Context;

use crate::capture::{
    CaptureIface, CaptureMeta, CaptureRing, CaptureStorage, DEFAULT_CAPTURE_BYTES, Direction,
};
use crate::config::{Backbone, Config, ConfigError};
use crate::lbr::{Lbr, LbrEvent, our_iid};
use crate::ping::{PingError, PingReply, PingStats, Pinger};
use crate::wpan::{Wpan, WpanReassembler, WpanRegistry};

/// Packet buffers.
pub const PACKETS: usize = 16;
/// Bytes per packet buffer (1280 + headroom).
pub const PACKET_BUF: usize = netif::config::DEFAULT_BUF_SIZE;
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
    /// Registered nodes.
    pub registered: usize,
    /// Gleaned (unregistered) nodes.
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

/// Radio wrapper that records every PSDU we transmit (ACKs included) into the capture ring.
struct Tap<'a, R: Radio> {
    radio: &'a mut R,
    capture: &'a mut CaptureRing,
    channel: u8,
}

impl<R: Radio> Radio for Tap<'_, R> {
    fn capabilities(&self) -> Capabilities {
        self.radio.capabilities()
    }
    fn set_channel(&mut self, channel: Channel) -> Result<(), RadioError> {
        self.radio.set_channel(channel)
    }
    fn set_pan_id(&mut self, pan: PanId) {
        self.radio.set_pan_id(pan)
    }
    fn set_short_address(&mut self, addr: u16) {
        self.radio.set_short_address(addr)
    }
    fn set_extended_address(&mut self, addr: [u8; 8]) {
        self.radio.set_extended_address(addr)
    }
    fn set_pan_coordinator(&mut self, on: bool) {
        self.radio.set_pan_coordinator(on)
    }
    fn set_promiscuous(&mut self, on: bool) -> Result<(), RadioError> {
        self.radio.set_promiscuous(on)
    }
    fn energy_detect(&mut self, now: Instant, duration: Duration) -> Result<(), RadioError> {
        self.radio.energy_detect(now, duration)
    }
    fn cca(&mut self, now: Instant) -> Result<bool, RadioError> {
        self.radio.cca(now)
    }
    fn transmit(&mut self, now: Instant, psdu: &[u8], mode: TxMode) -> Result<(), RadioError> {
        if self.capture.wants(CaptureIface::Wpan0, Direction::Tx) {
            let meta = CaptureMeta {
                timestamp_us: now.as_micros(),
                iface: CaptureIface::Wpan0,
                direction: Direction::Tx,
                channel: self.channel,
                rssi: i8::MIN,
                lqi: 0,
                orig_len: psdu.len() as u16,
            };
            self.capture.record(meta, psdu);
        }
        self.radio.transmit(now, psdu, mode)
    }
}

/// Ethernet driver wrapper that records frames in both directions.
struct EthTap<'a, D: Driver> {
    drv: &'a mut D,
    capture: &'a mut CaptureRing,
    now: Instant,
}

impl<D: Driver> EthTap<'_, D> {
    fn record(&mut self, direction: Direction, frame: &[u8], orig_len: usize) {
        if self.capture.wants(CaptureIface::Eth0, direction) {
            let meta = CaptureMeta {
                timestamp_us: self.now.as_micros(),
                iface: CaptureIface::Eth0,
                direction,
                channel: 0,
                rssi: i8::MIN,
                lqi: 0,
                orig_len: u16::try_from(orig_len).unwrap_or(u16::MAX),
            };
            self.capture.record(meta, frame);
        }
    }
}

impl<D: Driver> Driver for EthTap<'_, D> {
    type Error = D::Error;
    fn mac(&self) -> [u8; 6] {
        self.drv.mac()
    }
    fn receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, D::Error> {
        let r = self.drv.receive(buf)?;
        if let Some(n) = r {
            let have = n.min(buf.len());
            self.record(Direction::Rx, buf.get(..have).unwrap_or(&[]), n);
        }
        Ok(r)
    }
    fn transmit(&mut self, frame: &[u8]) -> Result<bool, D::Error> {
        let sent = self.drv.transmit(frame)?;
        if sent {
            self.record(Direction::Tx, frame, frame.len());
        }
        Ok(sent)
    }
    fn link_up(&mut self) -> bool {
        self.drv.link_up()
    }
}

/// The border router.
pub struct App<'r> {
    cfg: Config,
    stack: Stack<'r>,
    wpan: Wpan<'r>,
    eth: EthernetL2,
    lbr: Lbr,
    ping: Pinger,
    capture: &'r mut CaptureRing,
    wpan_i: IfIndex,
    eth_i: IfIndex,
    boot: Instant,
    now: Instant,
    next_housekeeping: Instant,
    dirty: bool,
    events: Deque<AppEvent, APP_EVENTS>,
    stats: AppStats,
    link_up: bool,
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

fn mac_config(cfg: &Config) -> Result<MacConfig, AppError> {
    let ch = Channel::new(cfg.channel).ok_or(AppError::Config(ConfigError::BadChannel))?;
    let mut m = MacConfig::new(ch, PanId(cfg.pan_id), cfg.eui64);
    m.short_address = cfg.short_address;
    m.pan_coordinator = true;
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
        let wpan = Wpan::new(mac, &mut res.reassembler, &mut res.registry);
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
        let mut lbr = Lbr::new(u32::from_be_bytes([
            cfg.eui64[0],
            cfg.eui64[1],
            cfg.eui64[6],
            cfg.eui64[7],
        ]));
        lbr.attach(&mut stack, wpan_i, now).map_err(core)?;
        let mut ping = Pinger::default();
        ping.attach(&mut stack).map_err(core)?;
        let mut app = App {
            cfg,
            stack,
            wpan,
            eth,
            lbr,
            ping,
            capture: &mut res.capture,
            wpan_i,
            eth_i,
            boot: now,
            now,
            next_housekeeping: now,
            dirty: false,
            events: Deque::new(),
            stats: AppStats::default(),
            link_up: false,
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
        let mut allowed = Vec::new();
        let _ = allowed.push(pfx);
        self.stack
            .set_ingress_policy(self.wpan_i, IngressPolicy::SourcePrefixes(allowed))
            .map_err(core)?;
        self.wpan
            .contexts_mut()
            .set(0, Context::new(pfx.addr().octets(), 64));
        self.eth
            .set_router(Some(RouterConfig::announcing(pfx)), now);
        self.lbr.restart(now);
        Ok(())
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

    // ----- driving -----------------------------------------------------------------------

    /// A radio event: run the MAC, capture, and feed a received frame to the stack.
    pub fn on_radio_event(&mut self, now: Instant, ev: RadioEvent<'_>, radio: &mut impl Radio) {
        self.now = now;
        let channel = self.cfg.channel;
        let raw = match ev {
            RadioEvent::Received(f) => Some(f),
            _ => None,
        };
        // The MAC may answer at once (an ACK): through the tap, so the capture sees it.
        let mut tap = Tap {
            radio: &mut *radio,
            capture: &mut *self.capture,
            channel,
        };
        let ind = self.wpan.mac_mut().handle_event(now, ev, &mut tap);
        match ind {
            Some(MacIndication::Frame(f)) => {
                if let Some(r) = raw {
                    self.record_wpan_rx(Direction::Rx, r.psdu, r.rssi, r.lqi, now);
                }
                self.deliver_frame(now, f.mpdu);
            }
            Some(MacIndication::EnergyDetect { channel, dbm }) => {
                self.push_event(AppEvent::Energy {
                    channel: channel.number(),
                    dbm,
                });
            }
            None => {
                if let Some(r) = raw
                    && self.capture.wants(CaptureIface::Wpan0, Direction::Promisc)
                {
                    self.record_wpan_rx(Direction::Promisc, r.psdu, r.rssi, r.lqi, now);
                }
            }
        }
        let mut tap = Tap {
            radio,
            capture: self.capture,
            channel,
        };
        self.wpan.pump(now, self.stack.pool_mut(), &mut tap);
    }

    fn record_wpan_rx(&mut self, d: Direction, psdu: &[u8], rssi: i8, lqi: u8, now: Instant) {
        if self.capture.wants(CaptureIface::Wpan0, d) {
            let meta = CaptureMeta {
                timestamp_us: now.as_micros(),
                iface: CaptureIface::Wpan0,
                direction: d,
                channel: self.cfg.channel,
                rssi,
                lqi,
                orig_len: psdu.len() as u16,
            };
            self.capture.record(meta, psdu);
        }
    }

    fn deliver_frame(&mut self, now: Instant, mpdu: &[u8]) {
        let Ok(h) = self.stack.pool_mut().alloc_from(mpdu) else {
            self.stats.rx_no_buffer_wpan += 1;
            return;
        };
        let out = self.stack.receive(now, self.wpan_i, &mut self.wpan, h);
        self.dispatch(now, out);
    }

    fn dispatch(&mut self, now: Instant, out: Outcome) {
        if let Outcome::Local(d) = out {
            if self.lbr.owns(&d) {
                self.lbr
                    .handle(&mut self.stack, &mut self.wpan, &self.cfg, now, d);
            } else if self.ping.owns(&d) {
                self.ping.handle(self.stack.pool_mut(), now, d);
            } else if let Some(d) = self.eth.handle_local(&mut self.stack, now, d) {
                self.stats.unhandled_local += 1;
                self.stack.pool_mut().free(d.packet);
            }
        }
    }

    /// Run everything that is due: Ethernet input, timers (ND, RAs, registrations),
    /// transmission on both interfaces.
    pub fn poll<R: Radio, D: Driver>(&mut self, now: Instant, radio: &mut R, eth: &mut D) {
        self.now = now;
        let up = eth.link_up();
        if up != self.link_up {
            self.link_up = up;
            let _ = self.stack.set_link_up(self.eth_i, up);
        }
        // Ethernet input, bounded per poll so the radio side is never starved.
        let mut got: Vec<netif::PacketHandle, PACKETS> = Vec::new();
        {
            let mut drv = EthTap {
                drv: &mut *eth,
                capture: &mut *self.capture,
                now,
            };
            while !got.is_full() {
                match EthernetL2::receive_from(self.stack.pool_mut(), &mut drv) {
                    Ok(Some(h)) => {
                        if let Err(h) = got.push(h) {
                            self.stack.pool_mut().free(h);
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        self.stats.eth_driver_errors += 1;
                        break;
                    }
                }
            }
        }
        for h in got {
            let out = self.stack.receive(now, self.eth_i, &mut self.eth, h);
            self.dispatch(now, out);
        }
        self.eth.poll(now, &mut self.stack);
        self.lbr.poll(&mut self.stack, &self.wpan, &self.cfg, now);
        if now >= self.next_housekeeping {
            self.stack.poll(now);
            self.wpan.expire(now, self.stack.pool_mut());
            self.next_housekeeping = now + HOUSEKEEPING;
        }
        self.stack.transmit(now, self.eth_i, &mut self.eth);
        let mut drv = EthTap {
            drv: eth,
            capture: &mut *self.capture,
            now,
        };
        if self.eth.flush_to(self.stack.pool_mut(), &mut drv).is_err() {
            self.stats.eth_driver_errors += 1;
        }
        let room = self.wpan.room();
        self.stack
            .transmit_some(now, self.wpan_i, &mut self.wpan, room);
        let mut tap = Tap {
            radio,
            capture: self.capture,
            channel: self.cfg.channel,
        };
        self.wpan.pump(now, self.stack.pool_mut(), &mut tap);
        self.collect_events();
    }

    fn push_event(&mut self, e: AppEvent) {
        if self.events.push_back(e).is_err() {
            self.events.pop_front();
            let _ = self.events.push_back(e);
            self.stats.events_lost += 1;
        }
    }

    fn collect_events(&mut self) {
        while let Some(e) = self.stack.pop_event() {
            self.push_event(AppEvent::Net(e));
        }
        while let Some(e) = self.lbr.pop_event() {
            self.push_event(AppEvent::Lbr(e));
        }
        while let Some(e) = self.eth.pop_event() {
            self.push_event(AppEvent::Backbone(e));
        }
    }

    /// When [`App::poll`] must run next (`None`: only on input).
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut t = Some(self.next_housekeeping);
        for d in [
            self.wpan.next_deadline(),
            self.eth.poll_at(),
            self.lbr.next_deadline(),
        ]
        .into_iter()
        .flatten()
        {
            t = Some(t.map_or(d, |x| x.min(d)));
        }
        if self.wpan.backlog() > 0 && self.wpan.mac().queue_len() == 0 {
            t = Some(self.now);
        }
        // Packets queued in the core from outside a poll (a management ping, an ND reply)
        // go out at once when their interface can take them.
        let queued = |i: IfIndex| self.stack.queue_lens(i).iter().any(|n| *n > 0);
        if (queued(self.eth_i) && self.link_up) || (queued(self.wpan_i) && self.wpan.room() > 0) {
            t = Some(self.now);
        }
        t
    }

    // ----- queries -----------------------------------------------------------------------

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// The interface core (interfaces, addresses, routes, counters).
    pub fn stack(&self) -> &Stack<'r> {
        &self.stack
    }
    /// `wpan0` (MAC counters and neighbours, 6LoWPAN counters, registrations).
    pub fn wpan(&self) -> &Wpan<'r> {
        &self.wpan
    }
    /// `eth0` (Ethernet and ND counters, neighbor cache).
    pub fn eth(&self) -> &EthernetL2 {
        &self.eth
    }
    /// The 6LBR role (its counters).
    pub fn lbr(&self) -> &Lbr {
        &self.lbr
    }
    /// Application counters.
    pub fn stats(&self) -> AppStats {
        self.stats
    }
    /// Interface index of `wpan0`.
    pub fn wpan_index(&self) -> IfIndex {
        self.wpan_i
    }
    /// Interface index of `eth0`.
    pub fn eth_index(&self) -> IfIndex {
        self.eth_i
    }
    /// Counters of interface `i`.
    pub fn iface_stats(&self, i: IfIndex) -> Option<IfaceStats> {
        self.stack.stats(i)
    }

    /// The one-screen status.
    pub fn status(&self) -> Status {
        let reg = self.wpan.registry();
        let registered = reg
            .iter()
            .filter(|e| e.origin == crate::registry::Origin::Registered && e.expires > self.now)
            .count();
        let gleaned = reg
            .iter()
            .filter(|e| e.origin == crate::registry::Origin::Gleaned && e.expires > self.now)
            .count();
        let w = self.stack.stats(self.wpan_i).unwrap_or_default();
        let e = self.stack.stats(self.eth_i).unwrap_or_default();
        let pool = self.stack.pool();
        Status {
            uptime: self.now.saturating_since(self.boot),
            registered,
            gleaned,
            forwarded_up: u64::from(e.forwarded),
            forwarded_down: u64::from(w.forwarded),
            drops: w.dropped_total() + e.dropped_total(),
            pool_free: pool.available(),
            pool_size: pool.capacity(),
        }
    }

    /// Mesh nodes: registered and gleaned entries with link statistics.
    pub fn nodes(&self) -> impl Iterator<Item = NodeInfo> + '_ {
        let now = self.now;
        self.wpan
            .registry()
            .iter()
            .filter(move |e| e.expires > now)
            .map(move |e| {
                let link = self.wpan.mac().neighbor(&e.ll);
                let eui64 = e.eui64().or(match e.ll {
                    Address::Extended(x) => Some(x),
                    Address::Short(_) => None,
                });
                NodeInfo {
                    addr: e.addr,
                    ll: e.ll,
                    eui64,
                    registered: e.origin == crate::registry::Origin::Registered,
                    lifetime_left: e.expires.saturating_since(now),
                    last_heard_ago: now.saturating_since(e.last_heard),
                    rssi: link.map(|l| l.rssi()),
                    lqi: link.map(|l| l.lqi()),
                    etx_x100: link.and_then(|l| l.etx_x100()),
                    rx: e.rx_frames,
                    tx: e.tx_frames,
                }
            })
    }

    /// The next event for the management side.
    pub fn pop_event(&mut self) -> Option<AppEvent> {
        self.events.pop_front()
    }

    /// The capture ring (start/stop, drain records).
    pub fn capture_mut(&mut self) -> &mut CaptureRing {
        self.capture
    }
    /// The capture ring.
    pub fn capture(&self) -> &CaptureRing {
        self.capture
    }

    /// The configuration, once, after a run-time change (for the shell to persist).
    pub fn take_dirty_config(&mut self) -> Option<Config> {
        if self.dirty {
            self.dirty = false;
            Some(self.cfg.clone())
        } else {
            None
        }
    }

    /// Whether every packet buffer is back in the pool, counting those `wpan0` holds by
    /// design (its queue, the datagram in flight, reassemblies in progress) and the ones
    /// Ethernet ND keeps.
    pub fn pool_accounted(&self) -> bool {
        let pool = self.stack.pool();
        let queued: usize = [self.wpan_i, self.eth_i]
            .iter()
            .map(|i| {
                self.stack
                    .queue_lens(*i)
                    .iter()
                    .map(|n| usize::from(*n))
                    .sum::<usize>()
            })
            .sum();
        pool.available() + queued + self.wpan.held_buffers() + self.eth.held_buffers()
            == pool.capacity()
    }

    // ----- run-time configuration --------------------------------------------------------

    /// Change the radio channel.
    pub fn set_channel(
        &mut self,
        now: Instant,
        channel: u8,
        radio: &mut impl Radio,
    ) -> Result<(), AppError> {
        let ch = Channel::new(channel).ok_or(AppError::Config(ConfigError::BadChannel))?;
        self.wpan
            .mac_mut()
            .set_channel(radio, ch)
            .map_err(|_| AppError::Radio)?;
        self.cfg.channel = channel;
        self.changed(ConfigItem::Channel(channel));
        self.lbr.restart(now);
        Ok(())
    }

    /// Change the PAN ID (the MAC is rebuilt; frames it had queued are lost and counted).
    pub fn set_pan_id(
        &mut self,
        now: Instant,
        pan: u16,
        radio: &mut impl Radio,
    ) -> Result<(), AppError> {
        let mut next = self.cfg.clone();
        next.pan_id = pan;
        next.validate().map_err(AppError::Config)?;
        let mac = l2_15_4::Mac::new(mac_config(&next)?, MacResources::new(), radio)
            .map_err(|_| AppError::Radio)?;
        self.stats.mac_reset_drops += self.wpan.mac().queue_len() as u64;
        self.wpan.replace_mac(mac);
        self.cfg = next;
        self.changed(ConfigItem::PanId(pan));
        self.lbr.restart(now);
        Ok(())
    }

    /// Change the mesh prefix: address, context 0 (with a new ABRO version), ingress
    /// policy, RIO on the backbone, registrations outside it dropped, RAs restarted.
    pub fn set_prefix(&mut self, now: Instant, addr: Ipv6Addr, len: u8) -> Result<(), AppError> {
        let mut next = self.cfg.clone();
        next.set_mesh_prefix_from(addr, len)
            .map_err(AppError::Config)?;
        if next.mesh_prefix == self.cfg.mesh_prefix {
            return Ok(());
        }
        next.bump_abro_version();
        let old = self.cfg.mesh_prefix;
        self.cfg = next;
        self.apply_prefix(now, Some(old))?;
        self.changed(ConfigItem::Prefix(self.cfg.mesh_prefix));
        Ok(())
    }

    /// Change the transmit power (recorded; applied by radios that support it).
    pub fn set_tx_power(&mut self, dbm: i8) -> Result<(), AppError> {
        let mut next = self.cfg.clone();
        next.tx_power_dbm = dbm;
        next.validate().map_err(AppError::Config)?;
        self.cfg = next;
        self.changed(ConfigItem::TxPower(dbm));
        Ok(())
    }

    fn changed(&mut self, item: ConfigItem) {
        info!("configuration changed: {:?}", item);
        self.dirty = true;
        self.push_event(AppEvent::Config(item));
    }

    /// Interoperability: name context 0 explicitly in IPHC headers sent to the mesh (one
    /// byte more per frame that uses it), for nodes whose decompressor only accepts explicit
    /// context IDs (smoltcp 0.14). Not persisted.
    pub fn set_explicit_context_id(&mut self, on: bool) {
        let mut o = self.wpan.compress_options();
        o.explicit_context_id = on;
        self.wpan.set_compress_options(o);
    }

    /// Start an energy-detect measurement on the current channel (result as an
    /// [`AppEvent::Energy`]).
    pub fn energy_detect(
        &mut self,
        now: Instant,
        radio: &mut impl Radio,
        duration: Duration,
    ) -> Result<(), AppError> {
        radio
            .energy_detect(now, duration)
            .map_err(|_| AppError::Radio)
    }

    // ----- management control ------------------------------------------------------------

    /// Mutable access to the interface core's tables for the management server's
    /// operator commands (addresses, routes, counters). Interfaces are brought up and down
    /// with [`App::set_iface_admin`], which also tells the L2.
    pub fn stack_mut(&mut self) -> &mut Stack<'r> {
        &mut self.stack
    }

    /// Bring interface `i` administratively up or down.
    pub fn set_iface_admin(&mut self, now: Instant, i: IfIndex, up: bool) -> Result<(), AppError> {
        let r = if i == self.wpan_i {
            self.stack.set_admin(now, i, &mut self.wpan, up)
        } else if i == self.eth_i {
            self.stack.set_admin(now, i, &mut self.eth, up)
        } else {
            return Err(AppError::NoSuchIface);
        };
        r.map_err(|_| AppError::Core)
    }

    /// Send an ICMPv6 echo request from the border router (see [`crate::ping`]).
    pub fn ping_send(
        &mut self,
        now: Instant,
        dst: Ipv6Addr,
        iface: Option<IfIndex>,
        seq: u16,
        size: u16,
    ) -> Result<IfIndex, PingError> {
        self.ping.send(&mut self.stack, now, dst, iface, seq, size)
    }

    /// Whether an echo reply or error is waiting in [`App::pop_ping`].
    pub fn has_ping_reply(&self) -> bool {
        self.ping.has_reply()
    }

    /// The next echo reply or error for our echo requests.
    pub fn pop_ping(&mut self) -> Option<PingReply> {
        self.ping.pop()
    }

    /// Forget echo replies not taken yet.
    pub fn clear_pings(&mut self) {
        self.ping.clear();
    }

    /// Echo counters.
    pub fn ping_stats(&self) -> PingStats {
        self.ping.stats()
    }

    /// Switch radio promiscuous mode (frames the MAC filters out reach the capture ring as
    /// [`Direction::Promisc`] while a capture asks for them).
    pub fn set_promiscuous(&mut self, radio: &mut impl Radio, on: bool) -> Result<(), AppError> {
        self.wpan
            .mac_mut()
            .set_promiscuous(radio, on)
            .map_err(|_| AppError::Radio)
    }

    /// Tune the radio to `channel` (without changing the configured channel) and start an
    /// energy measurement there; [`App::restore_channel`] returns to the configured channel.
    /// Frames sent or arriving meanwhile are lost and retried by the MAC.
    pub fn energy_detect_on(
        &mut self,
        now: Instant,
        radio: &mut impl Radio,
        channel: u8,
        duration: Duration,
    ) -> Result<(), AppError> {
        let ch = Channel::new(channel).ok_or(AppError::Config(ConfigError::BadChannel))?;
        radio.set_channel(ch).map_err(|_| AppError::Radio)?;
        self.energy_detect(now, radio, duration)
    }

    /// Tune the radio back to the configured channel.
    pub fn restore_channel(&mut self, radio: &mut impl Radio) -> Result<(), AppError> {
        let ch = Channel::new(self.cfg.channel).ok_or(AppError::Config(ConfigError::BadChannel))?;
        radio.set_channel(ch).map_err(|_| AppError::Radio)
    }

    /// The time of the last call into the application.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Time since boot.
    pub fn uptime(&self) -> Duration {
        self.now.saturating_since(self.boot)
    }

    /// Whether a run-time change is waiting to be persisted.
    pub fn config_dirty(&self) -> bool {
        self.dirty
    }
}
