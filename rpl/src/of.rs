//! Objective functions (RFC 6550 §14): how a router ranks itself through a parent and which
//! parent it prefers.
//!
//! - [`Of0`] (RFC 6552, OCP 0): rank = parent's rank + (Rf × Sp + Sr) × MinHopRankIncrease,
//!   the step of rank Sp taken from the link's ETX as RFC 8180 §5.1.1 says for OF0
//!   (Sp = 3 × ETX − 2, within 1..=9), so a perfect link (ETX 1) costs one MinHopRankIncrease:
//!   under a root of rank 256 (MinHopRankIncrease 256) a router is at 512. The parent that
//!   gives the lowest rank is preferred; a tie keeps the current one.
//! - [`Mrhof`] (RFC 6719, OCP 1) with the ETX metric and no metric container: a neighbour's
//!   path cost is its advertised rank plus the ETX of the link to it (§3.1, §3.5: without a
//!   metric container the rank carries the cost); links over `MAX_LINK_METRIC` and paths
//!   over `MAX_PATH_COST` are not candidates; the preferred parent changes only for a path
//!   cheaper by at least `PARENT_SWITCH_THRESHOLD` (§3.2.2); the rank is the largest of
//!   the rank through the preferred parent (its cost, at least its rank + MinHopRankIncrease),
//!   the highest rank in the parent set rounded up to the next integral rank, and the largest
//!   rank through the parent set less MaxRankIncrease (§3.3).
//!
//! [`Objective::from_ocp`] picks by the DODAG Configuration's OCP; an OCP this crate does not
//! know falls back to OF0 (RFC 6550 §18.6: OF0 is the one every implementation has).
//!
//! ETX is a fixed-point number with 7 fractional bits ([`Etx`], RFC 6551 §4.3.5's encoding):
//! `Etx(128)` is one transmission per delivered frame.

use crate::option::{OCP_MRHOF, OCP_OF0};

/// INFINITE_RANK (RFC 6550 §17): a node advertising it has no route to the root (poison).
pub const INFINITE_RANK: u16 = 0xffff;

/// DAGRank(rank) = floor(rank / MinHopRankIncrease) (RFC 6550 §3.5.1), the integer part that
/// rank comparisons use. A MinHopRankIncrease of 0 (refused in a DODAG Configuration by the
/// router) counts as 1.
pub const fn dag_rank(rank: u16, min_hop_rank_increase: u16) -> u16 {
    let m = if min_hop_rank_increase == 0 {
        1
    } else {
        min_hop_rank_increase
    };
    rank / m
}

/// Expected transmission count of a link, × 128 (RFC 6551 §4.3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Etx(pub u16);

impl Etx {
    /// The fixed-point divisor: `Etx(DIVISOR)` is an ETX of 1.
    pub const DIVISOR: u16 = 128;
    /// A perfect link: every frame acknowledged at the first attempt.
    pub const ONE: Etx = Etx(128);
    /// A link that delivers nothing.
    pub const MAX: Etx = Etx(u16::MAX);

    /// The ETX from a MAC's counts over some window: transmission attempts per acknowledged
    /// frame ([`Etx::MAX`] when none was acknowledged, [`Etx::ONE`] when nothing was sent).
    pub fn from_counts(attempts: u32, acked: u32) -> Etx {
        if attempts == 0 {
            return Etx::ONE;
        }
        if acked == 0 {
            return Etx::MAX;
        }
        let v = u64::from(attempts) * u64::from(Self::DIVISOR) / u64::from(acked);
        Etx(u16::try_from(v).unwrap_or(u16::MAX).max(Self::DIVISOR))
    }
}

/// OF0's parameters (RFC 6552 §4.1, §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Of0 {
    /// rank_factor Rf, 1..=4 (DEFAULT_RANK_FACTOR 1).
    pub rank_factor: u16,
    /// stretch_of_rank Sr, 0..=5 (DEFAULT_RANK_STRETCH 0).
    pub stretch: u16,
}

impl Of0 {
    /// MINIMUM_STEP_OF_RANK.
    pub const MIN_STEP: u16 = 1;
    /// MAXIMUM_STEP_OF_RANK.
    pub const MAX_STEP: u16 = 9;
    /// MAXIMUM_RANK_FACTOR.
    pub const MAX_RANK_FACTOR: u16 = 4;
    /// MAXIMUM_RANK_STRETCH.
    pub const MAX_STRETCH: u16 = 5;
    /// DEFAULT_RANK_FACTOR 1, DEFAULT_RANK_STRETCH 0.
    pub const DEFAULT: Of0 = Of0 {
        rank_factor: 1,
        stretch: 0,
    };

    /// Sp for a link: 3 × ETX − 2 (RFC 8180 §5.1.1, ETX rounded down), within
    /// MINIMUM_STEP_OF_RANK..=MAXIMUM_STEP_OF_RANK.
    pub fn step_of_rank(etx: Etx) -> u16 {
        let three = u32::from(etx.0) * 3 / u32::from(Etx::DIVISOR);
        let sp = three
            .saturating_sub(2)
            .clamp(u32::from(Self::MIN_STEP), u32::from(Self::MAX_STEP));
        sp as u16
    }

    /// rank_increase = (Rf × Sp + Sr) × MinHopRankIncrease, with Rf and Sr held to their
    /// RFC ranges.
    pub fn rank_increase(&self, etx: Etx, min_hop_rank_increase: u16) -> u32 {
        let rf = u32::from(self.rank_factor.clamp(1, Self::MAX_RANK_FACTOR));
        let sr = u32::from(self.stretch.min(Self::MAX_STRETCH));
        (rf * u32::from(Self::step_of_rank(etx)) + sr) * u32::from(min_hop_rank_increase.max(1))
    }
}

/// MRHOF's parameters (RFC 6719 §5), ETX × 128.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Mrhof {
    /// MAX_LINK_METRIC: a link costing more is not a candidate (512: ETX 4).
    pub max_link_metric: u16,
    /// MAX_PATH_COST: a path costing more is not a candidate (32768: ETX 256).
    pub max_path_cost: u32,
    /// PARENT_SWITCH_THRESHOLD: the smallest gain that changes the preferred parent (192:
    /// ETX 1.5).
    pub parent_switch_threshold: u32,
}

impl Mrhof {
    /// The values RFC 6719 §5 recommends for ETX.
    pub const DEFAULT: Mrhof = Mrhof {
        max_link_metric: 512,
        max_path_cost: 32768,
        parent_switch_threshold: 192,
    };
}

/// The objective function of a DODAG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Objective {
    /// OF0 (OCP 0).
    Of0(Of0),
    /// MRHOF with ETX (OCP 1).
    Mrhof(Mrhof),
}

/// A member of the parent set as the objective function sees it: the rank it advertises
/// and the ETX of our link to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Link {
    /// The neighbour's advertised rank.
    pub rank: u16,
    /// Our link's ETX to it.
    pub etx: Etx,
}

impl Objective {
    /// The objective function named by a DODAG Configuration's OCP, with RFC default
    /// parameters; OF0 for an OCP we do not implement.
    pub fn from_ocp(ocp: u16) -> Objective {
        match ocp {
            OCP_MRHOF => Objective::Mrhof(Mrhof::DEFAULT),
            _ => Objective::Of0(Of0::DEFAULT),
        }
    }

    /// The OCP of this objective function.
    pub fn ocp(&self) -> u16 {
        match self {
            Objective::Of0(_) => OCP_OF0,
            Objective::Mrhof(_) => OCP_MRHOF,
        }
    }

    /// The cost the parent choice minimises for a path through `n`: OF0 the rank we would
    /// have, MRHOF the ETX path cost (its rank + the link's ETX). `None` when `n` is no
    /// candidate: it advertises infinite rank, or (MRHOF) the link or the path costs more
    /// than allowed.
    pub fn path_cost(&self, n: Link, min_hop_rank_increase: u16) -> Option<u32> {
        if n.rank == INFINITE_RANK {
            return None;
        }
        match self {
            Objective::Of0(o) => {
                let r = u32::from(n.rank) + o.rank_increase(n.etx, min_hop_rank_increase);
                (r < u32::from(INFINITE_RANK)).then_some(r)
            }
            Objective::Mrhof(m) => {
                if n.etx.0 > m.max_link_metric {
                    return None;
                }
                let c = u32::from(n.rank) + u32::from(n.etx.0);
                (c <= m.max_path_cost).then_some(c)
            }
        }
    }

    /// The rank of a path through `n` (RFC 6719 §3.3: the larger of its cost and its rank +
    /// MinHopRankIncrease; OF0: its rank + the rank increase). `None` when `n` is no
    /// candidate or the rank would reach [`INFINITE_RANK`]. Always greater than `n.rank` by
    /// at least MinHopRankIncrease.
    pub fn rank_via(&self, n: Link, min_hop_rank_increase: u16) -> Option<u16> {
        let cost = self.path_cost(n, min_hop_rank_increase)?;
        let floor = u32::from(n.rank) + u32::from(min_hop_rank_increase.max(1));
        let r = cost.max(floor);
        u16::try_from(r).ok().filter(|&r| r < INFINITE_RANK)
    }

    /// Whether a candidate path of cost `best` should replace the current preferred parent's
    /// path of cost `current`: OF0 when it gives a lower rank; MRHOF when it is cheaper by at
    /// least PARENT_SWITCH_THRESHOLD.
    pub fn should_switch(&self, current: u32, best: u32) -> bool {
        match self {
            Objective::Of0(_) => best < current,
            Objective::Mrhof(m) => current.saturating_sub(best) >= m.parent_switch_threshold,
        }
    }

    /// Our rank with `preferred` as preferred parent and `others` the rest of the parent set.
    /// OF0: the rank through the preferred parent. MRHOF (RFC 6719 §3.3): the largest of (1)
    /// the rank through the preferred parent, (2) the highest advertised rank in the parent
    /// set rounded up to the next integral rank, MinHopRankIncrease × (1 + DAGRank), and (3)
    /// the largest rank through a member of the parent set less MaxRankIncrease. `None` when
    /// the preferred parent is no candidate or the rank reaches [`INFINITE_RANK`].
    pub fn rank(
        &self,
        preferred: Link,
        others: impl Iterator<Item = Link>,
        min_hop_rank_increase: u16,
        max_rank_increase: u16,
    ) -> Option<u16> {
        let mhri = u32::from(min_hop_rank_increase.max(1));
        let mut rank = u32::from(self.rank_via(preferred, min_hop_rank_increase)?);
        if let Objective::Mrhof(_) = self {
            let mut highest = u32::from(preferred.rank);
            let mut largest_path = rank;
            for n in others {
                highest = highest.max(u32::from(n.rank));
                if let Some(r) = self.rank_via(n, min_hop_rank_increase) {
                    largest_path = largest_path.max(u32::from(r));
                }
            }
            rank = rank
                .max(mhri * (1 + highest / mhri))
                .max(largest_path.saturating_sub(u32::from(max_rank_increase)));
        }
        u16::try_from(rank).ok().filter(|&r| r < INFINITE_RANK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: u16 = 256;
    const MHRI: u16 = 256;

    fn link(rank: u16, etx: u16) -> Link {
        Link {
            rank,
            etx: Etx(etx),
        }
    }

    #[test]
    fn etx_from_mac_counts() {
        assert_eq!(Etx::from_counts(10, 10), Etx::ONE);
        assert_eq!(Etx::from_counts(15, 10), Etx(192), "ETX 1.5");
        assert_eq!(Etx::from_counts(4, 1), Etx(512), "ETX 4");
        assert_eq!(Etx::from_counts(5, 0), Etx::MAX);
        assert_eq!(Etx::from_counts(0, 0), Etx::ONE);
        assert_eq!(Etx::from_counts(u32::MAX, 1), Etx::MAX);
        assert_eq!(Etx::from_counts(1, 5), Etx::ONE, "never below one");
    }

    /// RFC 6552 §4.1 with the step of rank of RFC 8180 §5.1.1: Sp = 3 × ETX − 2.
    #[test]
    fn of0_worked_numbers() {
        let of0 = Objective::Of0(Of0::DEFAULT);
        // ETX 1: Sp = 1, rank increase 1 × 256: a router under the root is at 512.
        assert_eq!(Of0::step_of_rank(Etx::ONE), 1);
        assert_eq!(of0.rank_via(link(ROOT, 128), MHRI), Some(512));
        // ETX 2: Sp = 4, +1024.
        assert_eq!(Of0::step_of_rank(Etx(256)), 4);
        assert_eq!(of0.rank_via(link(ROOT, 256), MHRI), Some(1280));
        // ETX 1.5: 3 × 1.5 − 2 = 2.5, rounded down to 2.
        assert_eq!(Of0::step_of_rank(Etx(192)), 2);
        // ETX 4 and worse: MAXIMUM_STEP_OF_RANK 9.
        assert_eq!(Of0::step_of_rank(Etx(512)), 9);
        assert_eq!(Of0::step_of_rank(Etx::MAX), 9);
        // Rf 2, Sr 1 (RFC 6552's ranges): (2 × 1 + 1) × 256 = 768.
        let o = Objective::Of0(Of0 {
            rank_factor: 2,
            stretch: 1,
        });
        assert_eq!(o.rank_via(link(ROOT, 128), MHRI), Some(1024));
        // Out-of-range parameters are held to the RFC's bounds: Rf 4, Sr 5.
        let o = Of0 {
            rank_factor: 100,
            stretch: 100,
        };
        assert_eq!(o.rank_increase(Etx::ONE, MHRI), (4 + 5) * 256);
        // The lower rank wins, a tie keeps the parent.
        assert!(of0.should_switch(1280, 768));
        assert!(!of0.should_switch(768, 768));
        // Near infinity: no rank.
        assert_eq!(of0.rank_via(link(0xff00, 128), MHRI), None);
        assert_eq!(of0.rank_via(link(INFINITE_RANK, 128), MHRI), None);
    }

    /// RFC 6719 §3.1–§3.3 and §5 with ETX.
    #[test]
    fn mrhof_worked_numbers() {
        let m = Objective::Mrhof(Mrhof::DEFAULT);
        // Path cost = advertised rank + link ETX: 256 + 128 = 384; the rank is at least the
        // parent's + MinHopRankIncrease: 512.
        assert_eq!(m.path_cost(link(ROOT, 128), MHRI), Some(384));
        assert_eq!(m.rank_via(link(ROOT, 128), MHRI), Some(512));
        // ETX 3 (384): cost 640 > 512, the rank is the cost.
        assert_eq!(m.rank_via(link(ROOT, 384), MHRI), Some(640));
        // MAX_LINK_METRIC 512 (ETX 4) still a candidate, 513 not.
        assert_eq!(m.path_cost(link(ROOT, 512), MHRI), Some(768));
        assert_eq!(m.path_cost(link(ROOT, 513), MHRI), None);
        // MAX_PATH_COST 32768.
        assert_eq!(m.path_cost(link(32768 - 128, 128), MHRI), Some(32768));
        assert_eq!(m.path_cost(link(32768 - 127, 128), MHRI), None);
        // PARENT_SWITCH_THRESHOLD 192: 640 → 449 keeps, 640 → 448 switches.
        assert!(!m.should_switch(640, 449));
        assert!(m.should_switch(640, 448));
        assert!(!m.should_switch(448, 640));
    }

    #[test]
    fn mrhof_rank_is_the_largest_of_three() {
        let m = Objective::Mrhof(Mrhof::DEFAULT);
        let pref = link(256, 128); // rank via: max(384, 512) = 512
        // (1) alone.
        assert_eq!(m.rank(pref, [].into_iter(), MHRI, 768), Some(512));
        // (2): a parent-set member advertising 300 rounds up to 256 × (1 + 1) = 512; one at
        // 600 to 256 × (1 + 2) = 768.
        assert_eq!(
            m.rank(pref, [link(300, 128)].into_iter(), MHRI, 768),
            Some(512)
        );
        assert_eq!(
            m.rank(pref, [link(600, 128)].into_iter(), MHRI, 768),
            Some(768)
        );
        // (3): a member whose path ranks 1600 (rank 1100 + ETX 4 = 1612) less MaxRankIncrease
        // 512 gives 1100; (2) gives 256 × (1 + 4) = 1280, the larger.
        assert_eq!(
            m.rank(pref, [link(1100, 512)].into_iter(), MHRI, 512),
            Some(1280)
        );
        // With MaxRankIncrease 0, (3) is the largest path rank itself: 1612.
        assert_eq!(
            m.rank(pref, [link(1100, 512)].into_iter(), MHRI, 0),
            Some(1612)
        );
        // OF0 ignores the rest of the set.
        let o = Objective::Of0(Of0::DEFAULT);
        assert_eq!(
            o.rank(pref, [link(1100, 512)].into_iter(), MHRI, 0),
            Some(512)
        );
    }

    #[test]
    fn the_ocp_chooses_and_of0_is_the_fallback() {
        assert_eq!(Objective::from_ocp(0), Objective::Of0(Of0::DEFAULT));
        assert_eq!(Objective::from_ocp(1), Objective::Mrhof(Mrhof::DEFAULT));
        assert_eq!(Objective::from_ocp(7), Objective::Of0(Of0::DEFAULT));
        assert_eq!(Objective::from_ocp(1).ocp(), 1);
        assert_eq!(Objective::from_ocp(9).ocp(), 0);
    }

    #[test]
    fn the_rank_through_a_parent_is_always_above_it() {
        for of in [Objective::from_ocp(0), Objective::from_ocp(1)] {
            for rank in (0..=u16::MAX).step_by(97) {
                for etx in [0u16, 1, 128, 200, 512, 600, u16::MAX] {
                    for mhri in [1u16, 16, 256, 1024, u16::MAX] {
                        if let Some(r) = of.rank_via(link(rank, etx), mhri) {
                            assert!(
                                u32::from(r) >= u32::from(rank) + u32::from(mhri),
                                "{of:?} {rank} {etx} {mhri} -> {r}"
                            );
                        }
                    }
                }
            }
        }
        assert_eq!(dag_rank(767, 256), 2);
        assert_eq!(dag_rank(768, 0), 768);
    }
}
