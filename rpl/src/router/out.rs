//! What a [`Router`](super::Router) asks the firmware to send, each with the addresses it
//! goes to and an `emit` that writes the ICMPv6 message with the crate's codecs (checksum
//! zero: the IPv6 layer, or [`message::fill_checksum`], sets it).

use core::net::Ipv6Addr;

use heapless::Vec;

use crate::message::{self, Dao, Dio, Out};
use crate::option::{DodagConfiguration, Opt, PrefixInformation, Solicited, Target, Transit};
use crate::{Error, Result};

/// All-RPL-nodes (RFC 6550 §20.19), where multicast DIOs and DIS go.
pub const ALL_RPL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x1a);

/// Targets one DAO carries at most: four targets, each with its own Transit Information,
/// make a 164-byte DAO.
pub const DAO_TARGETS: usize = 4;

/// A DIO to send from our link-local address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DioOut {
    /// The unicast destination (answering a unicast DIS); `None`: [`ALL_RPL_NODES`].
    pub to: Option<Ipv6Addr>,
    /// The fixed part: our rank ([`INFINITE_RANK`](crate::of::INFINITE_RANK) when poisoning).
    pub dio: Dio,
    /// The DODAG Configuration, as the root set it (RFC 6550 §6.7.6: routers pass it on).
    pub config: DodagConfiguration,
    /// The root's Prefix Information, passed on.
    pub prefix: Option<PrefixInformation>,
}

impl DioOut {
    /// The IPv6 destination.
    pub fn destination(&self) -> Ipv6Addr {
        self.to.unwrap_or(ALL_RPL_NODES)
    }

    /// Writes the ICMPv6 message into `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let c = Opt::DodagConfiguration(self.config);
        match self.prefix {
            Some(p) => message::emit(&Out::Dio(self.dio), &[c, Opt::PrefixInformation(p)], buf),
            None => message::emit(&Out::Dio(self.dio), &[c], buf),
        }
    }
}

/// A DIS to send from our link-local address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DisOut {
    /// The unicast destination (a neighbour whose DIO lacked the DODAG Configuration);
    /// `None`: [`ALL_RPL_NODES`].
    pub to: Option<Ipv6Addr>,
    /// A Solicited Information option (the unicast DIS names the instance and DODAG).
    pub solicited: Option<Solicited>,
}

impl DisOut {
    /// The IPv6 destination.
    pub fn destination(&self) -> Ipv6Addr {
        self.to.unwrap_or(ALL_RPL_NODES)
    }

    /// Writes the ICMPv6 message into `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        match self.solicited {
            Some(s) => message::emit(&Out::Dis, &[Opt::Solicited(s)], buf),
            None => message::emit(&Out::Dis, &[], buf),
        }
    }
}

/// One target of a DAO with its own Transit Information.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DaoTarget {
    /// The /128 target.
    pub address: Ipv6Addr,
    /// Its Path Sequence (a lollipop counter per target).
    pub path_sequence: u8,
    /// Its Path Lifetime in lifetime units: 0 is a No-Path, 0xff infinite.
    pub path_lifetime: u8,
    /// Its Transit Information's parent: our preferred parent's global address for our own
    /// address; our own address for a host we advertise on its behalf (an RPL-unaware leaf
    /// hangs off us, RFC 9010).
    pub parent: Ipv6Addr,
    /// The Transit Information's E flag: a host we advertise on its behalf (external to the
    /// RPL domain, RFC 9010 §9.2.1): the root's tunnel ends at us, not at it.
    pub external: bool,
}

/// A non-storing DAO (MOP 1) to send from our global address to the root.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DaoOut {
    /// The root's address: the DODAG ID.
    pub to: Ipv6Addr,
    /// The fixed part (K set when a DAO-ACK is awaited; the DODAG ID only for a local
    /// instance, where RFC 6550 §6.4.1 requires it).
    pub dao: Dao,
    /// Our preferred parent's global address (the Transit parent of our own address; each
    /// target carries its own, [`DaoTarget::parent`]).
    pub parent: Ipv6Addr,
    /// The targets, each written as a Target and a Transit Information of its own (targets
    /// in a row with the same sequence and lifetime share one Transit).
    pub targets: Vec<DaoTarget, DAO_TARGETS>,
}

impl DaoOut {
    /// Whether this DAO only withdraws (every target a No-Path).
    pub fn is_no_path(&self) -> bool {
        self.targets.iter().all(|t| t.path_lifetime == 0)
    }

    /// Writes the ICMPv6 message into `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let mut opts: Vec<Opt<'_>, { 2 * DAO_TARGETS }> = Vec::new();
        let mut it = self.targets.iter().peekable();
        while let Some(t) = it.next() {
            opts.push(Opt::Target(Target {
                prefix_len: 128,
                prefix: t.address,
            }))
            .map_err(|_| Error::Malformed)?;
            let shares = it.peek().is_some_and(|n| {
                n.path_sequence == t.path_sequence
                    && n.path_lifetime == t.path_lifetime
                    && n.parent == t.parent
                    && n.external == t.external
            });
            if !shares {
                opts.push(Opt::Transit(Transit {
                    external: t.external,
                    path_control: 0,
                    path_sequence: t.path_sequence,
                    path_lifetime: t.path_lifetime,
                    parent: Some(t.parent),
                }))
                .map_err(|_| Error::Malformed)?;
            }
        }
        message::emit(&Out::Dao(self.dao), &opts, buf)
    }
}
