//! The border router inside the simulator: [`BrNode`] runs [`App`] as a
//! [`SimNode`] over a simulated radio, with `eth0` on a simulated backbone cable to a
//! [`BackboneHost`] (or on a Linux TAP device), its configuration persisted in a file or in
//! memory, and an optional pcapng recording of both interfaces; [`World`] builds a whole
//! scenario (border router, smoltcp mesh nodes sending readings to the collector on the
//! backbone) from [`WorldOpts`]. `sixgate-sim` and the end-to-end tests are thin layers over
//! it. Files: `br_node.rs` (the border router node and its store), `router_node.rs` (our
//! mesh routers), `overrides.rs` (command-line settings over a stored configuration).
//!
//! Leaf nodes are smoltcp's IPv6/6LoWPAN stack over our soft-MAC. smoltcp speaks RFC 4861
//! (no 6LoWPAN-ND registration), so the border router gleans them; it ignores the 6CO of our
//! RAs, so each node is provisioned with context 0 = the mesh prefix, as a 6CO-aware node
//! would learn it; it rejects stateful addresses without an explicit context ID (RFC 6282
//! makes context 0 implicit), so the border router names the context
//! ([`App::set_explicit_context_id`]); and it has no mesh routing, so only nodes within radio range of the
//! border router (every node in a star) are reachable.

use std::fs::File;
use std::io::{self, BufWriter};
use std::net::{Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use l2_15_4::PanId;
use l2_15_4::radio::Channel;
use netif::{Duration, Instant};
use sim::backbone::{
    BackboneHost, BackboneHostConfig, End, EthLink, EthLinkConfig, EthPort, HostRa,
};
use sim::smol::{Addressing, SensorConfig, SmolNode, SmolNodeConfig};
use sim::zep_bridge::{LinkRule, ZepBridge, ZepBridgeConfig};
use sim::{
    Link, NodeId, PathLoss, RadioConfig, RadioId, SimConfig, SimEvent, SimNode, SimRadio,
    Simulator, Topology,
};

use capture_file::{
    InterfaceDesc, LINKTYPE_ETHERNET, LINKTYPE_IEEE802_15_4_TAP, PcapngWriter, TapInfo,
};
use firmware::app::{App, AppResources};
use firmware::capture::{CaptureFilter, CaptureIface, Direction};
use firmware::config::{Backbone, Config};
use firmware::store::{
    ConfigStore, CounterStore, LoadOutcome, MemCounterStore, MemStore, OperatorState,
    SecurityCounter, load_state, save_state,
};

mod br_node;
mod overrides;
pub mod router_node;

pub use br_node::{BrNode, EthSide, Store};
pub(crate) use br_node::{persist_security, start_security};
pub use overrides::Overrides;
use router_node::RouterNode;

use crate::file_store::FileStore;

/// Mesh shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopologyKind {
    /// Every node one hop from the border router; the nodes do not hear each other (every
    /// pair is a hidden-terminal pair).
    Star,
    /// Every radio hears every other (one room): one hop to the border router, and CSMA/CA
    /// sees every transmission.
    FullMesh,
    /// A chain starting at the border router.
    Line,
    /// A square-ish grid with the border router in a corner.
    Grid,
    /// Random positions around the border router (path-loss model).
    Random,
}

/// The backbone of a [`World`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EthMode {
    /// The simulated host.
    Sim,
    /// A Linux TAP device of this name (needs CAP_NET_ADMIN).
    Tap(String),
}

/// Everything a scenario needs.
#[derive(Debug, Clone)]
pub struct WorldOpts {
    /// Our mesh routers (the firmware in its router role, issue 23), radios 1..=routers:
    /// in a line, right after the border router.
    pub routers: usize,
    /// Mesh nodes (smoltcp leaves, besides the border router and the routers).
    pub nodes: usize,
    /// Shape.
    pub topology: TopologyKind,
    /// Extra frame loss probability on every link.
    pub loss: f64,
    /// Seed of everything random.
    pub seed: u64,
    /// The border router's configuration when none is stored.
    pub config: Config,
    /// Backbone.
    pub eth: EthMode,
    /// Configuration file (`None`: memory).
    pub config_file: Option<PathBuf>,
    /// Reading period of each node.
    pub reading_period: Duration,
    /// Collector replies to each reading.
    pub collector_replies: bool,
    /// Explicit settings that win over a stored configuration (and are saved).
    pub overrides: Overrides,
    /// Entropy for the border router's AP-ND challenge nonces (RFC 8928): `None` derives it
    /// from [`WorldOpts::seed`], so a simulated run stays reproducible; `sixgate-sim` passes
    /// the operating system's randomness when it runs in real time against the outside
    /// (`--serial-pty`, a TAP device), where predictable nonces would weaken the protection.
    pub entropy: Option<[u8; 32]>,
    /// Foreign nodes over ZEP (`--zep`): `None`, none.
    pub zep: Option<ZepOpts>,
}

/// The ZEP bridge of a [`World`] (see [`sim::zep_bridge`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ZepOpts {
    /// The UDP address to bind, e.g. `[::1]:17754`.
    pub addr: SocketAddr,
    /// `--zep-links`: only these links (`None`: every peer hears the border router and every
    /// simulated node, and is heard by them). A node index is a radio index: the routers
    /// 1..=`routers`, then the leaves.
    pub links: Option<Vec<LinkRule>>,
}

/// The simulated backbone host's address.
pub const HOST_ADDR: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
/// The backbone's /64: the host's on-link prefix, advertised in its RAs (L=1, A=1) when the
/// border router's backbone is [`Backbone::Slaac`].
pub const BACKBONE_PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0);
/// The border router's static backbone address in simulated scenarios.
pub const BR_BACKBONE_ADDR: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// The collector's UDP port. Neither this nor [`READING_PORT`] is claimed by a Wireshark
/// dissector (4000 and 5000 were: ICQ, and TAPA, which called every reading malformed), and
/// both stay outside 6LoWPAN's compressible 0xF0xx range (smoltcp 0.14 garbles 0xF0Bx pairs).
pub const COLLECTOR_PORT: u16 = 42000;
/// The nodes' reading source port.
pub const READING_PORT: u16 = 42001;
/// The nodes' UDP echo port.
pub const ECHO_PORT: u16 = 7;

/// The modified EUI-64 interface identifier of an Ethernet MAC (RFC 4291 appendix A).
fn eui64_iid(mac: [u8; 6]) -> [u8; 8] {
    [
        mac[0] ^ 2,
        mac[1],
        mac[2],
        0xff,
        0xfe,
        mac[3],
        mac[4],
        mac[5],
    ]
}

fn with_iid(prefix: Ipv6Addr, iid: [u8; 8]) -> Ipv6Addr {
    let mut a = prefix.octets();
    a[8..].copy_from_slice(&iid);
    Ipv6Addr::from(a)
}

/// The border router's global backbone address with configuration `cfg` in a simulated
/// scenario: the static one, or the one SLAAC forms from [`BACKBONE_PREFIX`] and `eth0`'s MAC.
pub fn br_backbone_addr(cfg: &Config) -> Ipv6Addr {
    match cfg.backbone {
        Backbone::Static { addr, .. } => Ipv6Addr::from(addr),
        Backbone::Slaac => with_iid(BACKBONE_PREFIX, eui64_iid(cfg.eth_mac)),
    }
}

/// The border router's link-local backbone address (from `eth0`'s MAC).
pub fn br_link_local(cfg: &Config) -> Ipv6Addr {
    with_iid(
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        eui64_iid(cfg.eth_mac),
    )
}

impl WorldOpts {
    /// Defaults: 8 nodes in a star, no extra loss, seed 1, the default configuration with
    /// a static backbone address ([`BR_BACKBONE_ADDR`]; [`WorldOpts::slaac`] for the product
    /// default), simulated backbone, readings every 10 s with replies.
    pub fn new() -> Self {
        let config = Config {
            backbone: Backbone::Static {
                addr: BR_BACKBONE_ADDR.octets(),
                prefix_len: 64,
                gateway: None,
            },
            ..Config::default()
        };
        WorldOpts {
            routers: 0,
            nodes: 8,
            topology: TopologyKind::Star,
            loss: 0.0,
            seed: 1,
            config,
            eth: EthMode::Sim,
            config_file: None,
            reading_period: Duration::from_secs(10),
            collector_replies: true,
            overrides: Overrides::default(),
            entropy: None,
            zep: None,
        }
    }
}

impl WorldOpts {
    /// [`WorldOpts::new`] with the product's backbone: SLAAC from the simulated host's RAs.
    pub fn slaac() -> Self {
        let mut o = Self::new();
        o.config.backbone = Backbone::Slaac;
        o
    }
}

impl Default for WorldOpts {
    fn default() -> Self {
        Self::new()
    }
}

/// A running scenario.
pub struct World {
    /// The simulator (medium and every node).
    pub sim: Simulator,
    /// The border router.
    pub br: NodeId,
    /// Our mesh routers, in order ([`router_eui64`]).
    pub routers: Vec<NodeId>,
    /// The mesh nodes, in index order (node `k` has EUI-64 index `k + 1`).
    pub nodes: Vec<NodeId>,
    /// What the explicit settings changed in the stored configuration (saved).
    overridden: Vec<String>,
    /// The nodes' channel, PAN ID and mesh prefix (the border router's at the start).
    node_radio: (u8, u16, [u8; 8]),
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

/// The EUI-64 of our mesh router `k` (from 1): the border router's default with the
/// router's number in its last two bytes' place.
pub fn router_eui64(k: u16) -> [u8; 8] {
    let [hi, lo] = k.to_be_bytes();
    [0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x10 | (hi & 0x0f), lo]
}

/// Mesh router `k`'s configuration: the border router's (channel, PAN ID, mesh prefix, RPL
/// and ND settings) with its own EUI-64 and Ethernet MAC, no short address and no backbone
/// address (its Ethernet has no cable).
pub fn router_config(br: &Config, k: u16) -> Config {
    let e = router_eui64(k);
    Config {
        eui64: e,
        short_address: 0xfffe,
        eth_mac: [0x02, e[3], e[4], e[5], e[6], e[7]],
        backbone: Backbone::Slaac,
        ..br.clone()
    }
}

fn topology(o: &WorldOpts) -> Topology {
    let n = o.routers + o.nodes + 1;
    let good = Link::good();
    match o.topology {
        TopologyKind::Star => Topology::star(n, good),
        TopologyKind::FullMesh => Topology::full_mesh(n, good),
        TopologyKind::Line => Topology::line(n, good),
        TopologyKind::Grid => {
            let w = (n as f64).sqrt().ceil().max(1.0) as usize;
            let h = n.div_ceil(w);
            let mut t = Topology::grid(w, h, good);
            t.resize(n);
            t
        }
        TopologyKind::Random => Topology::random(n, 60.0, o.seed, &PathLoss::default()),
    }
}

/// The most a reading interval varies around [`WorldOpts::reading_period`] (half either way).
const READING_JITTER: Duration = Duration::from_secs(2);

/// Readings every `period` on average: each interval is uniform in `period` ± half the jitter
/// (the jitter is [`READING_JITTER`], or `period` itself when shorter), so nodes drift apart
/// rather than keep one phase. (The node adds its jitter on top of its configured period, so
/// that period is the mean minus half the jitter.)
fn reading_schedule(period: Duration) -> SensorConfig {
    let jitter = Duration::from_micros(period.as_micros().min(READING_JITTER.as_micros()));
    SensorConfig {
        collector: HOST_ADDR,
        collector_port: COLLECTOR_PORT,
        local_port: READING_PORT,
        period: Duration::from_micros(period.as_micros() - jitter.as_micros() / 2),
        jitter,
        payload_len: 24,
    }
}

impl World {
    /// Build the scenario: the border router first (radio 0), then the nodes.
    ///
    /// The border router runs the stored configuration if there is a valid one (else
    /// `o.config`), with `o.overrides` on top (saved when they change it); the backbone host
    /// and the nodes are set up for what it runs (channel, PAN ID, prefix, backbone).
    pub fn build(o: &WorldOpts) -> Result<World, String> {
        o.config
            .validate()
            .map_err(|e| format!("invalid configuration: {e}"))?;
        let mut store = match &o.config_file {
            Some(p) => Store::File(FileStore::new(p.clone())),
            None => Store::Mem(Box::new(MemStore::new()), MemCounterStore::default()),
        };
        let (mut config, why, op) = store.load(o.config.clone());
        let overridden = o.overrides.apply(&mut config)?;
        if why == "loaded" && !overridden.is_empty() {
            store.save(&config, &op)?;
        }
        let config = &config;
        let mut scfg = SimConfig::default();
        scfg.medium.seed = o.seed;
        scfg.medium.extra_loss = o.loss;
        let mut sim = Simulator::new(scfg, topology(o));
        let channel = Channel::new(config.channel).ok_or("bad channel")?;
        let now = sim.now();
        let eth = match &o.eth {
            EthMode::Sim => {
                let link = EthLink::new(EthLinkConfig::default());
                let port = link.port(End::A, config.eth_mac);
                let mesh = config.mesh_prefix_addr();
                let mut hc = BackboneHostConfig::new([0x02, 0x00, 0x5e, 0, 0, 2], HOST_ADDR, 64);
                // The mesh through the border router: its static address, or (SLAAC, the
                // product default) its link-local one, with the host advertising the backbone
                // prefix as the backbone's router does.
                let via = match config.backbone {
                    Backbone::Static { addr, .. } => Ipv6Addr::from(addr),
                    Backbone::Slaac => {
                        hc.ra = Some(HostRa::slaac(BACKBONE_PREFIX));
                        br_link_local(config)
                    }
                };
                hc.routes.push((mesh, 64, via));
                hc.reply_to_readings = o.collector_replies;
                hc.collector_port = COLLECTOR_PORT;
                let host = BackboneHost::new(hc, &link, End::B, now).map_err(|e| e.to_string())?;
                EthSide::Sim {
                    link,
                    port,
                    host: Box::new(host),
                }
            }
            EthMode::Tap(name) => {
                let t = ethernet::tap::Tap::open(name, config.eth_mac).map_err(|e| {
                    format!("cannot open TAP device {name}: {e} (this needs root or CAP_NET_ADMIN)")
                })?;
                EthSide::Tap(t)
            }
        };
        let rc = RadioConfig { channel };
        let cfg = config.clone();
        let entropy = o.entropy.unwrap_or_else(|| {
            let mut e = [0u8; 32];
            for (i, c) in e.chunks_exact_mut(8).enumerate() {
                c.copy_from_slice(&o.seed.rotate_left(i as u32 * 16).to_le_bytes());
            }
            e
        });
        let br = sim.spawn(rc, |id, r| BrNode::new(id, r, cfg, store, eth, entropy))?;
        let br_radio = sim
            .node::<BrNode>(br)
            .map(|b| b.radio_id())
            .ok_or("no border router")?;
        let mut routers = Vec::new();
        // The ZEP bridge's simulated nodes, by radio index: the routers, then the leaves.
        let mut node_radios = Vec::new();
        for k in 1..=o.routers {
            let k16 = u16::try_from(k).map_err(|_| "too many routers")?;
            let rc_k = router_config(config, k16);
            let id = sim
                .spawn(rc, |id, r| RouterNode::new(id, r, rc_k))
                .map_err(|e| format!("router {k}: {e}"))?;
            if let Some(r) = sim.node::<RouterNode>(id) {
                node_radios.push(r.radio_id());
            }
            routers.push(id);
        }
        let mut nodes = Vec::new();
        let pan = PanId(config.pan_id);
        for k in 0..o.nodes {
            let index = u16::try_from(k + 1).map_err(|_| "too many nodes")?;
            let mut c = SmolNodeConfig::new(index, channel, pan, config.mesh_prefix);
            c.seed = o.seed;
            c.addressing = Addressing::Slaac;
            c.echo_port = Some(ECHO_PORT);
            c.context0 = Some(config.mesh_prefix);
            c.sensor = Some(reading_schedule(o.reading_period));
            // The leaves' radios run our soft-MAC: with the retries our firmware uses.
            c.mac_frame_retries = firmware::app::MAC_FRAME_RETRIES;
            // The whole mesh shares the border router's network key.
            c.network_key = config.security.network_key.map(Into::into);
            let id = sim
                .spawn(rc, |id, r| SmolNode::new(id, c, r))
                .map_err(|e| format!("node {index}: {e:?}"))?;
            if let Some(n) = sim.node::<SmolNode>(id) {
                node_radios.push(n.radio_id());
            }
            nodes.push(id);
        }
        if let Some(z) = &o.zep {
            let mut zc = ZepBridgeConfig::new(br_radio, node_radios);
            zc.links = z.links.clone();
            let bridge = ZepBridge::bind(z.addr, zc)
                .map_err(|e| format!("--zep {}: cannot bind: {e}", z.addr))?;
            sim.attach_zep(bridge);
        }
        Ok(World {
            sim,
            br,
            routers,
            nodes,
            overridden,
            node_radio: (config.channel, config.pan_id, config.mesh_prefix),
        })
    }

    /// What the explicit settings changed in the stored configuration (and saved), one line
    /// each.
    pub fn overridden(&self) -> &[String] {
        &self.overridden
    }

    /// Why the nodes cannot reach the border router, when it runs on another channel, PAN
    /// ID or prefix than they were given (a run-time change: the nodes do not follow it).
    pub fn nodes_mismatch(&self) -> Option<String> {
        let c = self.br()?.app()?.config();
        let (ch, pan, prefix) = self.node_radio;
        if self.nodes.is_empty() || (c.channel, c.pan_id, c.mesh_prefix) == (ch, pan, prefix) {
            return None;
        }
        let mut p = [0u8; 16];
        p[..8].copy_from_slice(&prefix);
        Some(format!(
            "the border router is on channel {}, PAN 0x{:04x}, prefix {}/64 but the simulated \
             nodes on channel {ch}, PAN 0x{pan:04x}, prefix {}/64 (they do not follow run-time \
             changes): their readings cannot arrive",
            c.channel,
            c.pan_id,
            c.mesh_prefix_addr(),
            Ipv6Addr::from(p)
        ))
    }

    /// The border router.
    pub fn br(&self) -> Option<&BrNode> {
        self.sim.node::<BrNode>(self.br)
    }
    /// The border router, mutably.
    pub fn br_mut(&mut self) -> Option<&mut BrNode> {
        self.sim.node_mut::<BrNode>(self.br)
    }
    /// Mesh node `k` (0-based).
    pub fn node(&self, k: usize) -> Option<&SmolNode> {
        self.sim.node::<SmolNode>(*self.nodes.get(k)?)
    }
    /// Mesh node `k`, mutably.
    pub fn node_mut(&mut self, k: usize) -> Option<&mut SmolNode> {
        let id = *self.nodes.get(k)?;
        self.sim.node_mut::<SmolNode>(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a star the leaves are hidden terminals to each other; in a full mesh every radio
    /// hears every other. Both reach the collector.
    #[test]
    fn star_hides_leaves_from_each_other_full_mesh_does_not() {
        for (kind, leaves_hear_each_other) in
            [(TopologyKind::Star, false), (TopologyKind::FullMesh, true)]
        {
            let mut o = WorldOpts::new();
            o.nodes = 3;
            o.topology = kind;
            let mut w = World::build(&o).unwrap();
            let br = w.br().unwrap().radio_id();
            let leaves: Vec<RadioId> = (0..3).map(|k| w.node(k).unwrap().radio_id()).collect();
            let m = w.sim.medium_ref();
            for (i, &a) in leaves.iter().enumerate() {
                assert!(
                    m.link(br, a).is_some(),
                    "{kind:?}: border router ↔ leaf {i}"
                );
                for &b in &leaves[i + 1..] {
                    assert_eq!(m.link(a, b).is_some(), leaves_hear_each_other, "{kind:?}");
                }
            }
            w.sim.run_until(Instant::ZERO + Duration::from_secs(40));
            let host = w.br().unwrap().host().unwrap();
            for k in 0..3 {
                let n = w.node(k).unwrap();
                let g = n
                    .addresses()
                    .into_iter()
                    .find(|a| !a.is_unicast_link_local());
                let got = g.and_then(|g| host.readings_by_source().get(&g).copied());
                assert!(got.unwrap_or(0) >= 2, "{kind:?}: node {k} readings {got:?}");
            }
        }
    }
}
