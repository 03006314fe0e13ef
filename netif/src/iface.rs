//! The interface table's entries: name, link-layer address, MTU, admin/oper state, IPv6
//! unicast addresses with lifetimes, joined multicast groups, ingress policy and counters.
//!
//! Interfaces are created and changed through [`crate::Stack`] (which emits the events);
//! this module holds the per-interface state and its read accessors.

use core::fmt;
use core::net::Ipv6Addr;

use heapless::{String, Vec};

use crate::addr::{self, LinkAddr, Prefix};
use crate::config::{MAX_INGRESS_PREFIXES, MAX_MULTICAST_PER_IFACE, MAX_UNICAST_PER_IFACE};
use crate::l2::L2Flags;
use crate::stats::IfaceStats;
use crate::time::Instant;

/// Index of an interface in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IfIndex(pub u8);

impl IfIndex {
    /// As a table index.
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for IfIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// State of an assigned address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AddrState {
    /// Duplicate address detection has not finished: only ND may use it.
    Tentative,
    /// Usable.
    Preferred,
    /// Usable for existing traffic, not chosen as a source for new traffic.
    Deprecated,
}

/// An IPv6 unicast address on an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IfAddr {
    /// The address.
    pub addr: Ipv6Addr,
    /// On-link prefix length.
    pub prefix_len: u8,
    /// State.
    pub state: AddrState,
    /// When the address stops being valid (`None`: never).
    pub valid_until: Option<Instant>,
    /// When the address becomes deprecated (`None`: never).
    pub preferred_until: Option<Instant>,
}

impl IfAddr {
    /// The on-link prefix of this address.
    pub fn prefix(&self) -> Prefix {
        Prefix::new(self.addr, self.prefix_len).unwrap_or(Prefix::DEFAULT)
    }
}

/// Lifetimes for a new address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Lifetimes {
    /// Valid lifetime (`None`: infinite).
    pub valid: Option<crate::time::Duration>,
    /// Preferred lifetime (`None`: infinite).
    pub preferred: Option<crate::time::Duration>,
}

impl Lifetimes {
    /// Infinite lifetimes (static configuration).
    pub const INFINITE: Lifetimes = Lifetimes {
        valid: None,
        preferred: None,
    };
}

/// A joined multicast group, reference-counted (several addresses can share one
/// solicited-node group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct McastGroup {
    /// Group address.
    pub addr: Ipv6Addr,
    /// Number of reasons the group is joined.
    pub refs: u8,
}

/// What an interface accepts as a source address of packets it receives (after the core's own
/// sanity checks). Link-local sources, and the unspecified source of ND, are always accepted.
#[derive(Clone, Debug, Default)]
pub enum IngressPolicy {
    /// Accept any source.
    #[default]
    Open,
    /// Accept only sources inside one of these prefixes (the border router's mesh prefix).
    SourcePrefixes(Vec<Prefix, MAX_INGRESS_PREFIXES>),
    /// Ask a function (e.g. for sources learned at run time).
    Custom(fn(&IngressInfo) -> bool),
}

/// What a [`IngressPolicy::Custom`] function sees.
#[derive(Clone, Copy, Debug)]
pub struct IngressInfo {
    /// Receiving interface.
    pub iface: IfIndex,
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Link-layer source of the frame.
    pub ll_src: LinkAddr,
}

impl IngressPolicy {
    /// Whether a packet passes.
    pub fn allows(&self, info: &IngressInfo) -> bool {
        if info.src.is_unicast_link_local() || info.src.is_unspecified() {
            return true;
        }
        match self {
            IngressPolicy::Open => true,
            IngressPolicy::SourcePrefixes(p) => p.iter().any(|p| p.contains(&info.src)),
            IngressPolicy::Custom(f) => f(info),
        }
    }
}

/// Configuration of a new interface.
#[derive(Clone, Copy, Debug)]
pub struct IfaceConfig<'a> {
    /// Name (`wpan0`, `eth0`; at most 8 bytes).
    pub name: &'a str,
    /// Link-layer address (also the source of the link-local address's IID).
    pub ll_addr: LinkAddr,
    /// IPv6 MTU of the link.
    pub mtu: u16,
    /// Capabilities of the L2.
    pub flags: L2Flags,
    /// Forward packets received here that are not for us (router role).
    pub forwarding: bool,
    /// Configure `fe80::IID` from the link-layer address when created.
    pub auto_link_local: bool,
}

/// One interface.
#[derive(Clone, Debug)]
pub struct Iface {
    pub(crate) index: IfIndex,
    pub(crate) name: String<8>,
    pub(crate) ll_addr: LinkAddr,
    pub(crate) mtu: u16,
    pub(crate) flags: L2Flags,
    pub(crate) admin_up: bool,
    pub(crate) oper_up: bool,
    pub(crate) forwarding: bool,
    /// The DSCP of packets received here chooses their class when forwarded.
    pub(crate) trust_dscp: bool,
    pub(crate) addrs: Vec<IfAddr, MAX_UNICAST_PER_IFACE>,
    pub(crate) mcast: Vec<McastGroup, MAX_MULTICAST_PER_IFACE>,
    pub(crate) ingress: IngressPolicy,
    pub(crate) stats: IfaceStats,
}

impl Iface {
    /// Table index.
    pub fn index(&self) -> IfIndex {
        self.index
    }
    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Link-layer address.
    pub fn ll_addr(&self) -> LinkAddr {
        self.ll_addr
    }
    /// IPv6 MTU.
    pub fn mtu(&self) -> u16 {
        self.mtu
    }
    /// L2 flags.
    pub fn flags(&self) -> L2Flags {
        self.flags
    }
    /// Administratively up.
    pub fn is_admin_up(&self) -> bool {
        self.admin_up
    }
    /// Link (carrier) up.
    pub fn is_oper_up(&self) -> bool {
        self.oper_up
    }
    /// Both admin and oper up: traffic flows.
    pub fn is_up(&self) -> bool {
        self.admin_up && self.oper_up
    }
    /// Forwarding enabled.
    pub fn is_forwarding(&self) -> bool {
        self.forwarding
    }
    /// Unicast addresses.
    pub fn addrs(&self) -> &[IfAddr] {
        &self.addrs
    }
    /// Joined multicast groups.
    pub fn multicast_groups(&self) -> &[McastGroup] {
        &self.mcast
    }
    /// Ingress policy.
    pub fn ingress_policy(&self) -> &IngressPolicy {
        &self.ingress
    }
    /// Counters.
    pub fn stats(&self) -> &IfaceStats {
        &self.stats
    }

    /// The assigned address equal to `a`, if any.
    pub fn addr(&self, a: &Ipv6Addr) -> Option<&IfAddr> {
        self.addrs.iter().find(|x| x.addr == *a)
    }
    /// True when `a` is one of our usable (non-tentative) unicast addresses.
    pub fn has_addr(&self, a: &Ipv6Addr) -> bool {
        self.addr(a)
            .is_some_and(|x| x.state != AddrState::Tentative)
    }
    /// True when `a` is a joined multicast group.
    pub fn has_group(&self, a: &Ipv6Addr) -> bool {
        self.mcast.iter().any(|g| g.addr == *a)
    }
    /// True when `a` is on-link here (inside the prefix of one of our addresses).
    pub fn is_on_link(&self, a: &Ipv6Addr) -> bool {
        self.addrs
            .iter()
            .any(|x| x.prefix_len < 128 && x.prefix().contains(a))
    }
    /// Source address selection (RFC 6724, simplified to the rules that matter on a router:
    /// same scope as the destination, preferred over deprecated, longest matching prefix).
    pub fn select_source(&self, dst: &Ipv6Addr) -> Option<Ipv6Addr> {
        let want = addr::scope(dst);
        self.addrs
            .iter()
            .filter(|a| a.state != AddrState::Tentative)
            .max_by_key(|a| {
                let s = addr::scope(&a.addr);
                let scope_ok = if want <= addr::Scope::LinkLocal {
                    s == addr::Scope::LinkLocal
                } else {
                    s >= want
                };
                (
                    scope_ok,
                    a.state == AddrState::Preferred,
                    addr::common_prefix_len(&a.addr, dst),
                )
            })
            .map(|a| a.addr)
    }
    /// The link-local address, if configured.
    pub fn link_local(&self) -> Option<Ipv6Addr> {
        self.addrs
            .iter()
            .find(|a| a.addr.is_unicast_link_local())
            .map(|a| a.addr)
    }

    pub(crate) fn new(index: IfIndex, cfg: &IfaceConfig<'_>) -> Option<Self> {
        let mut name = String::new();
        name.push_str(cfg.name).ok()?;
        Some(Iface {
            index,
            name,
            ll_addr: cfg.ll_addr,
            mtu: cfg.mtu,
            flags: cfg.flags,
            admin_up: false,
            oper_up: true,
            forwarding: cfg.forwarding,
            trust_dscp: true,
            addrs: Vec::new(),
            mcast: Vec::new(),
            ingress: IngressPolicy::Open,
            stats: IfaceStats::default(),
        })
    }

    /// Join (or take one more reference on) a group; `false` if the table is full.
    pub(crate) fn join(&mut self, group: Ipv6Addr) -> bool {
        if let Some(g) = self.mcast.iter_mut().find(|g| g.addr == group) {
            g.refs = g.refs.saturating_add(1);
            return true;
        }
        self.mcast
            .push(McastGroup {
                addr: group,
                refs: 1,
            })
            .is_ok()
    }
    /// Drop one reference on a group; leaves it at zero. `false` if not joined.
    pub(crate) fn leave(&mut self, group: Ipv6Addr) -> bool {
        let Some(i) = self.mcast.iter().position(|g| g.addr == group) else {
            return false;
        };
        if let Some(g) = self.mcast.get_mut(i) {
            g.refs = g.refs.saturating_sub(1);
            if g.refs == 0 {
                self.mcast.swap_remove(i);
            }
        }
        true
    }
    pub(crate) fn auto_solicited(&self) -> bool {
        !self.flags.contains(L2Flags::NO_AUTO_JOIN_SOLICITED)
    }
}
