//! Settings given on the command line ([`Overrides`]): they win over a stored configuration,
//! which is then saved with them.

use std::net::Ipv6Addr;

use firmware::config::{Backbone, Config, RplMop, RplObjective};

/// Settings given explicitly (on the command line): they win over a stored configuration,
/// which is then saved with them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Radio channel.
    pub channel: Option<u8>,
    /// PAN ID.
    pub pan_id: Option<u16>,
    /// Mesh prefix and its length.
    pub prefix: Option<(Ipv6Addr, u8)>,
    /// Backbone addressing.
    pub backbone: Option<Backbone>,
    /// The RPL root's mode of operation.
    pub rpl_mop: Option<RplMop>,
    /// Whether the RPL root runs.
    pub rpl_enabled: Option<bool>,
    /// The objective function the RPL root's DIOs name.
    pub rpl_objective: Option<RplObjective>,
    /// The link-layer network key (never printed).
    pub network_key: Option<[u8; 16]>,
}

impl Overrides {
    /// Puts the settings into `c`; returns one line per setting that changed `c`, e.g.
    /// `--channel 15 overrides the stored channel 20`.
    pub fn apply(&self, c: &mut Config) -> Result<Vec<String>, String> {
        let mut notes = Vec::new();
        if let Some(ch) = self.channel
            && ch != c.channel
        {
            notes.push(format!(
                "--channel {ch} overrides the stored channel {}",
                c.channel
            ));
            c.channel = ch;
        }
        if let Some(p) = self.pan_id
            && p != c.pan_id
        {
            notes.push(format!(
                "--pan-id 0x{p:04x} overrides the stored PAN ID 0x{:04x}",
                c.pan_id
            ));
            c.pan_id = p;
        }
        if let Some((a, l)) = self.prefix {
            let mut n = c.clone();
            n.set_mesh_prefix_from(a, l).map_err(|e| e.to_string())?;
            if n.mesh_prefix != c.mesh_prefix {
                notes.push(format!(
                    "--prefix {}/64 overrides the stored prefix {}/64",
                    n.mesh_prefix_addr(),
                    c.mesh_prefix_addr()
                ));
                n.bump_abro_version();
                *c = n;
            }
        }
        if let Some(b) = &self.backbone
            && *b != c.backbone
        {
            notes.push(format!(
                "--backbone {} overrides the stored backbone {}",
                backbone_text(b),
                backbone_text(&c.backbone)
            ));
            c.backbone = b.clone();
        }
        if let Some(m) = self.rpl_mop
            && m != c.rpl.mop
        {
            notes.push(format!(
                "--rpl-mop {} overrides the stored mode of operation {}",
                m.value(),
                c.rpl.mop.value()
            ));
            c.rpl.mop = m;
        }
        if let Some(of) = self.rpl_objective
            && of != c.rpl.objective
        {
            notes.push(format!(
                "--rpl-of {} overrides the stored objective function {}",
                objective_text(of),
                objective_text(c.rpl.objective)
            ));
            c.rpl.objective = of;
        }
        if let Some(on) = self.rpl_enabled
            && on != c.rpl.enabled
        {
            notes.push(if on {
                "--rpl-mop enables the RPL root the stored configuration disabled".into()
            } else {
                "--no-rpl disables the RPL root of the stored configuration".into()
            });
            c.rpl.enabled = on;
        }
        if let Some(k) = self.network_key
            && c.security.network_key != Some(k)
        {
            notes.push(if c.security.network_key.is_some() {
                "--network-key replaces the stored network key".into()
            } else {
                "--network-key turns on link-layer security".into()
            });
            c.security.network_key = Some(k);
        }
        c.validate()
            .map_err(|e| format!("invalid configuration with the command line: {e}"))?;
        Ok(notes)
    }
}

/// `mrhof` or `of0`, as `--rpl-of` takes it.
fn objective_text(o: RplObjective) -> &'static str {
    match o {
        RplObjective::Mrhof => "mrhof",
        RplObjective::Of0 => "of0",
    }
}

/// `slaac` or `static:ADDR/LEN`, as `--backbone` takes it.
fn backbone_text(b: &Backbone) -> String {
    match b {
        Backbone::Slaac => "slaac".into(),
        Backbone::Static {
            addr, prefix_len, ..
        } => format!("static:{}/{prefix_len}", Ipv6Addr::from(*addr)),
    }
}
