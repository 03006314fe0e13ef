//! The data-path checks of RFC 6550 §11.2 on the RPL Option (RFC 6553) of packets a router
//! forwards.

use super::{Phase, Router};
use crate::hbh::RplOption;
use crate::of::dag_rank;

/// Which way a forwarded packet goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// Toward the root (to our preferred parent).
    Up,
    /// Away from the root (along a source route).
    Down,
}

/// What to do with a packet being forwarded ([`Router::forward`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Verdict {
    /// Forward it with this RPL Option in place of the one it came with.
    Forward(RplOption),
    /// Drop it (not our instance, not joined, or a loop confirmed; the Trickle timer was
    /// reset for the loop).
    Drop,
}

/// RFC 6550 §11.2.2.2: whether a packet's RPL Option agrees with our rank. A packet marked
/// down (O) must not come from a higher rank, one going up not from a lower rank
/// (compared as DAGRank). SenderRank 0 is the packet's source (RFC 6553 §3), not a router:
/// nothing to compare.
pub fn rank_consistent(rpi: &RplOption, our_rank: u16, min_hop_rank_increase: u16) -> bool {
    if rpi.sender_rank == 0 {
        return true;
    }
    let sender = dag_rank(rpi.sender_rank, min_hop_rank_increase);
    let ours = dag_rank(our_rank, min_hop_rank_increase);
    if rpi.down {
        sender <= ours
    } else {
        sender >= ours
    }
}

impl<const PARENTS: usize, const TARGETS: usize> Router<PARENTS, TARGETS> {
    /// RFC 6550 §11.2.2: a packet of an RPL instance with RPL Option `rpi` that we forward
    /// in `direction`. Not our instance, or not joined: drop (§11.2.2.1). A rank
    /// inconsistency (see [`rank_consistent`]) sets the Rank-Error bit; one found on a
    /// packet that had it already is a loop: drop, and the Trickle timer resets. The option
    /// to forward with carries our rank and our direction (O), the R and F bits kept.
    pub fn forward(&mut self, now: u64, rpi: &RplOption, direction: Direction) -> Verdict {
        let Some(dg) = self.dodag.filter(|_| self.phase == Phase::Joined) else {
            return Verdict::Drop;
        };
        if rpi.instance_id != dg.instance_id {
            return Verdict::Drop;
        }
        let mut out = *rpi;
        if !rank_consistent(rpi, self.rank, dg.min_hop()) {
            if rpi.rank_error {
                self.stats.rank_error_drops = self.stats.rank_error_drops.wrapping_add(1);
                let r = self.rand();
                self.trickle.hear_inconsistent(now, r);
                return Verdict::Drop;
            }
            out.rank_error = true;
        }
        out.down = direction == Direction::Down;
        out.sender_rank = self.rank;
        Verdict::Forward(out)
    }

    /// The RPL Option for a packet we send up into the DODAG (RFC 6553): our instance and
    /// rank, O = 0. `None` unless joined. sixgate writes the full rank into SenderRank, as
    /// its root does, and compares DAGRanks.
    pub fn rpi(&self) -> Option<RplOption> {
        let d = self.dodag.filter(|_| self.phase == Phase::Joined)?;
        Some(RplOption {
            down: false,
            rank_error: false,
            forwarding_error: false,
            instance_id: d.instance_id,
            sender_rank: self.rank,
        })
    }
}
