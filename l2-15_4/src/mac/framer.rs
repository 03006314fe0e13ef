//! The MAC header of a [`TxRequest`], planned once per request shape ([`Framer`]).

use crate::frame::{
    Address, AuxSecurityHeader, FrameType, FrameVersion, HeaderPlan, KeyId, PanId, Repr, Security,
    SecurityLevel,
};

use super::{EnqueueError, MacConfig, SrcAddrMode, TxRequest};

/// The MAC header the soft-MAC puts on a [`TxRequest`] ([`Mac::enqueue`](super::Mac::enqueue)), kept as a
/// [`HeaderPlan`] for the last request shape so that consecutive frames to one destination
/// (the fragments of a datagram) are stamped from it instead of being built and validated
/// field by field.
///
/// The header: a data or MAC command frame of `cfg.frame_version`; destination `req.dst` in
/// `req.dst_pan` (our PAN when `None`); source our short address, or our extended address
/// when `req.src` asks for it or we have none (`0xfffe`/`0xffff`), in our PAN; the source PAN
/// ID compressed away when both PANs are the same; ACK requested for unicast. The plan is
/// reused only while all of these are the same, so a configuration change (PAN, addresses,
/// frame version) takes effect on the next frame. A secured request's header ends with its
/// auxiliary security header (security control, frame counter, key identifier).
///
/// Public so that code framing outside a [`Mac`](super::Mac) (benchmarks, tools) builds
/// exactly the MAC's headers.
#[derive(Debug, Clone, Default)]
pub struct Framer {
    last: Option<(PlanKey, HeaderPlan)>,
}

/// What a [`Framer`]'s plan was made for, packed so that the check on every frame is a few
/// integer comparisons: both addresses as 64-bit values, both PAN IDs, the frame version, and
/// the frame type and both addressing modes (which tell a short address from an extended one
/// of the same value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PlanKey {
    dst: u64,
    src: u64,
    pans: u32,
    /// Bit 0: MAC command (else data); bit 1: extended destination; bit 2: extended source.
    shape: u8,
    version: FrameVersion,
    /// The auxiliary security header's level and key identifier (its frame counter is
    /// stamped per frame).
    security: Option<(SecurityLevel, KeyId)>,
}

impl PlanKey {
    /// The key of a data (`command == false`) or MAC command frame.
    fn new(
        command: bool,
        version: FrameVersion,
        dst_pan: PanId,
        dst: Address,
        src_pan: PanId,
        src: Address,
    ) -> Self {
        let packed = |a: Address| match a {
            Address::Short(v) => (u64::from(v), 0),
            Address::Extended(e) => (u64::from_ne_bytes(e), 1),
        };
        let (d, dm) = packed(dst);
        let (s, sm) = packed(src);
        PlanKey {
            dst: d,
            src: s,
            pans: u32::from(dst_pan.0) << 16 | u32::from(src_pan.0),
            shape: u8::from(command) | dm << 1 | sm << 2,
            version,
            security: None,
        }
    }
}

impl Framer {
    /// A framer with no plan yet.
    pub const fn new() -> Self {
        Framer { last: None }
    }

    /// The header of `req` sent by a node configured as `cfg`; stamp it into a frame with
    /// [`HeaderPlan::emit`] and the frame's sequence number. Fails with
    /// [`EnqueueError::InvalidParameter`] for a frame type other than data or MAC command, or
    /// an address/PAN combination with no encoding in `cfg.frame_version`.
    pub fn plan(
        &mut self,
        cfg: &MacConfig,
        req: &TxRequest<'_>,
    ) -> Result<&HeaderPlan, EnqueueError> {
        if !matches!(req.frame_type, FrameType::Data | FrameType::MacCommand) {
            return Err(EnqueueError::InvalidParameter);
        }
        let src = match req.src {
            SrcAddrMode::Short if cfg.short_address < 0xfffe => Address::Short(cfg.short_address),
            _ => Address::Extended(cfg.extended_address),
        };
        let dst_pan = req.dst_pan.unwrap_or(cfg.pan_id);
        let mut key = PlanKey::new(
            req.frame_type == FrameType::MacCommand,
            cfg.frame_version,
            dst_pan,
            req.dst,
            cfg.pan_id,
            src,
        );
        key.security = req.security.map(|s| (s.level, s.key_id));
        if !matches!(&self.last, Some((k, _)) if *k == key) {
            self.replan(key, req, dst_pan, cfg, src)?;
        }
        self.last
            .as_ref()
            .map(|(_, p)| p)
            .ok_or(EnqueueError::InvalidParameter)
    }

    /// Builds and validates the header for a new request shape or configuration (out of
    /// line: the frames of a datagram only take the check above).
    #[cold]
    #[inline(never)]
    fn replan(
        &mut self,
        key: PlanKey,
        req: &TxRequest<'_>,
        dst_pan: PanId,
        cfg: &MacConfig,
        src: Address,
    ) -> Result<(), EnqueueError> {
        let mut repr = Repr::new(
            req.frame_type,
            cfg.frame_version,
            Some(0),
            Some((dst_pan, req.dst)),
            Some((cfg.pan_id, src)),
        )
        .map_err(|_| EnqueueError::InvalidParameter)?;
        repr.ack_request = req.dst.is_unicast();
        if let Some((level, key_id)) = key.security {
            // Levels 0 and 4 are refused here as on receive; the counter is stamped per frame.
            if level.raw() == 0 || level.raw() == 4 {
                return Err(EnqueueError::InvalidParameter);
            }
            repr.security = Some(Security::Aux(AuxSecurityHeader {
                level,
                key_id,
                frame_counter: Some(0),
                asn_in_nonce: false,
            }));
        }
        let plan = HeaderPlan::new(&repr).map_err(|_| EnqueueError::InvalidParameter)?;
        self.last = Some((key, plan));
        Ok(())
    }
}
