//! Changing the border router at run time: configuration items (channel, PAN ID, mesh
//! prefix, transmit power; marked dirty for the shell to persist) and the management
//! server's operator commands (interfaces up/down, ping, promiscuous mode, energy scans).

use core::net::Ipv6Addr;

use l2_15_4::mac::MacResources;
use l2_15_4::radio::{Channel, Radio};
use netif::{Duration, IfIndex, Instant, Stack};

use super::{App, AppError, AppEvent, ConfigItem, mac_config};
use crate::config::{ConfigError, RplConfig};
use crate::ping::{PingError, PingReply, PingStats};

impl<'r> App<'r> {
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
        // Checked before anything is applied: a prefix overlapping eth0's static one is refused.
        next.validate().map_err(AppError::Config)?;
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

    /// A mesh router takes the DODAG's prefix (the DIO's Prefix Information with the A flag,
    /// RFC 6550 §6.7.10, a /64 or shorter) as its mesh prefix when it differs from the
    /// configured one: its address, context 0, its hosts' RAs and its own DAO target follow
    /// (`set_prefix`; stored, so a reboot starts from it).
    #[cfg(feature = "router-role")]
    pub(crate) fn follow_dodag_prefix(&mut self, now: Instant) {
        let Some(r) = self.router.as_ref() else {
            return;
        };
        let Some(p) = r
            .core()
            .dodag()
            .filter(|_| r.core().phase() == rpl::router::Phase::Joined)
            .and_then(|d| d.prefix)
            .filter(|p| p.autonomous && (1..=64).contains(&p.prefix_len))
        else {
            return;
        };
        let mut o = p.prefix.octets();
        o[8..].fill(0);
        if o[..8] == self.cfg.mesh_prefix {
            return;
        }
        if self.set_prefix(now, Ipv6Addr::from(o), 64).is_ok() {
            let ours = crate::root::mesh_address(&self.cfg);
            if let Some(r) = self.router.as_mut() {
                r.set_own_address(now, ours);
            }
        }
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

    /// Change the RPL root's settings. A change the DODAG's nodes see (anything but
    /// `max_depth`) starts a new DODAG version; disabling the root keeps its targets until
    /// their lifetimes run out.
    pub fn set_rpl(&mut self, now: Instant, rpl: RplConfig) -> Result<(), AppError> {
        if !rpl.is_valid() {
            return Err(AppError::Config(ConfigError::BadRpl));
        }
        let visible = RplConfig {
            max_depth: self.cfg.rpl.max_depth,
            ..rpl
        } != self.cfg.rpl;
        self.cfg.rpl = rpl;
        self.dirty = true;
        self.save_offered = false;
        self.root.reconfigure();
        self.apply_rpl();
        if visible {
            self.root.repair(now);
        }
        Ok(())
    }

    /// Global repair: a new DODAG version.
    pub fn rpl_repair(&mut self, now: Instant) {
        self.root.repair(now);
    }

    fn changed(&mut self, item: ConfigItem) {
        info!("configuration changed: {:?}", item);
        self.dirty = true;
        self.save_offered = false;
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

    /// Mixes `entropy` from the board's random source into the key Address-Protected ND
    /// draws its challenge nonces from ([`crate::lbr::Lbr::seed_nonces`]); call it after every
    /// [`App::new`].
    #[cfg(feature = "address-protection")]
    pub fn seed_nonces(&mut self, entropy: &[u8]) {
        self.lbr.seed_nonces(entropy);
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
    /// [`Direction::Promisc`](crate::capture::Direction::Promisc) while a capture asks for them).
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
}
