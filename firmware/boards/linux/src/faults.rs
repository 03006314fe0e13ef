//! The fault schedule of `sixgate-sim` (`--kill-node K@SECS`, `--revive-node K@SECS`): how a
//! node is named on the command line ([`NodeName`]), the parsed schedule ([`FaultSpec`]), its
//! checks, and its translation into the simulator's [`Fault::PowerOff`] / [`Fault::PowerOn`]
//! for the nodes of a [`World`].
//!
//! Names, as the summary and the live status print them:
//! - `br`: the border router (radio 0);
//! - `rK`: our mesh router K, 1..=`--routers` (radio K);
//! - `nK`: smoltcp leaf K, 1..=`--nodes` (radio `--routers` + K; the summary's `nodes[].index`);
//! - `K`: radio index K (0 the border router, then the routers, then the leaves; with no
//!   routers the same numbers as the leaves; `--zep-links` counts the same way).

use std::fmt;

use netif::{Duration, Instant};
use serde_json::{Value, json};
use sim::{Fault, NodeId, RadioId};

use crate::simnet::World;

/// A node as the user names it (see the [module](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeName {
    /// `br`.
    BorderRouter,
    /// `rK`, K from 1.
    Router(u16),
    /// `nK`, K from 1.
    Leaf(u16),
    /// `K`, a radio index.
    Radio(u16),
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeName::BorderRouter => f.write_str("br"),
            NodeName::Router(k) => write!(f, "r{k}"),
            NodeName::Leaf(k) => write!(f, "n{k}"),
            NodeName::Radio(k) => write!(f, "{k}"),
        }
    }
}

impl std::str::FromStr for NodeName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{s}` names no node: use `br`, `rK` (our router K, from 1), `nK` (smoltcp leaf \
                 K, from 1) or a radio index"
            )
        };
        let number = |t: &str| t.parse::<u16>().map_err(|_| bad());
        if s == "br" {
            return Ok(NodeName::BorderRouter);
        }
        let n = match (s.strip_prefix('r'), s.strip_prefix('n')) {
            (Some(k), _) => NodeName::Router(number(k)?),
            (_, Some(k)) => NodeName::Leaf(number(k)?),
            _ => NodeName::Radio(number(s)?),
        };
        if matches!(n, NodeName::Router(0) | NodeName::Leaf(0)) {
            return Err(format!("`{s}`: routers and leaves count from 1"));
        }
        Ok(n)
    }
}

/// What a scheduled fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Power off (`--kill-node`).
    Kill,
    /// Power on: a fresh boot (`--revive-node`).
    Revive,
}

impl Action {
    /// The word of the summary: `kill` or `revive`.
    pub fn word(self) -> &'static str {
        match self {
            Action::Kill => "kill",
            Action::Revive => "revive",
        }
    }
    fn flag(self) -> &'static str {
        match self {
            Action::Kill => "--kill-node",
            Action::Revive => "--revive-node",
        }
    }
}

/// One scheduled fault: `node` at `at_s` simulated seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaultSpec {
    /// Which node.
    pub node: NodeName,
    /// When, simulated seconds from the start.
    pub at_s: f64,
    /// What happens.
    pub action: Action,
}

/// Parses `K@SECS` (the value of `--kill-node` and `--revive-node`).
pub fn parse_at(s: &str) -> Result<(NodeName, f64), String> {
    let (k, t) = s
        .split_once('@')
        .ok_or("expected NODE@SECS, e.g. r2@40 (router 2 at 40 simulated seconds)")?;
    let node: NodeName = k.parse()?;
    let at: f64 = t
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0 && *v <= 1e9)
        .ok_or_else(|| format!("`{t}` is not a time in seconds (0 or more)"))?;
    Ok((node, at))
}

/// The schedule from the two flags' values, in time order (the order given at one instant).
pub fn schedule(kills: &[(NodeName, f64)], revives: &[(NodeName, f64)]) -> Vec<FaultSpec> {
    let mut all: Vec<FaultSpec> = kills
        .iter()
        .map(|&(node, at_s)| FaultSpec {
            node,
            at_s,
            action: Action::Kill,
        })
        .chain(revives.iter().map(|&(node, at_s)| FaultSpec {
            node,
            at_s,
            action: Action::Revive,
        }))
        .collect();
    all.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    all
}

/// Checks that every node's faults alternate, starting with a kill, with no two at one
/// instant; `keys[i]` is the node of `faults[i]` (`faults` in time order), so that two names
/// of one node (`br` and `0`) count as one. `Err` says which flag breaks the rule.
pub fn check<K: PartialEq>(faults: &[FaultSpec], keys: &[K]) -> Result<(), String> {
    for (i, (f, key)) in faults.iter().zip(keys).enumerate() {
        let last = faults
            .iter()
            .zip(keys)
            .take(i)
            .rev()
            .find(|(_, k)| *k == key)
            .map(|(e, _)| e);
        let (flag, name, at) = (f.action.flag(), f.node, f.at_s);
        if last.is_some_and(|l| l.at_s == at) {
            return Err(format!(
                "{flag} {name}@{at}: {name} already has a fault at that instant"
            ));
        }
        let off_before = last.is_some_and(|l| l.action == Action::Kill);
        match (f.action, off_before) {
            (Action::Kill, true) => {
                return Err(format!(
                    "{flag} {name}@{at}: {name} is already off then (revive it first with \
                     --revive-node {name}@SECS)"
                ));
            }
            (Action::Revive, false) => {
                return Err(format!(
                    "{flag} {name}@{at}: {name} is not off then (kill it earlier with \
                     --kill-node {name}@SECS)"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The simulator node `name` stands for in `w`.
pub fn resolve(w: &World, name: NodeName) -> Result<NodeId, String> {
    let count = |flag: &str, n: usize| format!("`{name}`: no such node ({flag} {n})");
    match name {
        NodeName::BorderRouter => Ok(w.br),
        NodeName::Router(k) => usize::from(k)
            .checked_sub(1)
            .and_then(|i| w.routers.get(i))
            .copied()
            .ok_or_else(|| count("--routers", w.routers.len())),
        NodeName::Leaf(k) => usize::from(k)
            .checked_sub(1)
            .and_then(|i| w.nodes.get(i))
            .copied()
            .ok_or_else(|| count("--nodes", w.nodes.len())),
        NodeName::Radio(k) => w.sim.node_of(RadioId(usize::from(k))).ok_or_else(|| {
            format!(
                "`{name}`: radio {k} is no simulated node (radios 0..={} are: the border \
                 router, the routers, the leaves)",
                w.routers.len() + w.nodes.len()
            )
        }),
    }
}

/// Puts `faults` (in time order, from [`schedule`]) on `w`'s schedule; `Err` names a node
/// that `w` does not have, or breaks the rule of [`check`].
pub fn apply(w: &mut World, faults: &[FaultSpec]) -> Result<(), String> {
    let ids = faults
        .iter()
        .map(|f| resolve(w, f.node))
        .collect::<Result<Vec<_>, _>>()?;
    check(faults, &ids)?;
    for (f, &id) in faults.iter().zip(&ids) {
        let at = Instant::ZERO + Duration::from_micros((f.at_s * 1e6) as u64);
        let fault = match f.action {
            Action::Kill => Fault::PowerOff(id),
            Action::Revive => Fault::PowerOn(id),
        };
        w.sim.schedule_fault(at, fault);
    }
    Ok(())
}

/// The schedule as the summary lists it: `[{"at_s", "node", "action"}]`.
pub fn to_json(faults: &[FaultSpec]) -> Value {
    faults
        .iter()
        .map(|f| json!({"at_s": f.at_s, "node": f.node.to_string(), "action": f.action.word()}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_back() {
        for (s, n) in [
            ("br", NodeName::BorderRouter),
            ("r3", NodeName::Router(3)),
            ("n12", NodeName::Leaf(12)),
            ("0", NodeName::Radio(0)),
            ("7", NodeName::Radio(7)),
        ] {
            assert_eq!(s.parse::<NodeName>(), Ok(n));
            assert_eq!(n.to_string(), s);
        }
        for bad in ["", "r", "r0", "n0", "x1", "r-1", "r1.5", "70000", "BR"] {
            assert!(bad.parse::<NodeName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn times_parse() {
        assert_eq!(parse_at("r2@40"), Ok((NodeName::Router(2), 40.0)));
        assert_eq!(parse_at("n1@0.5"), Ok((NodeName::Leaf(1), 0.5)));
        for bad in ["r2", "r2@", "r2@-1", "r2@nan", "r2@inf", "@3", "r2@1e12"] {
            assert!(parse_at(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_nodes_faults_alternate_from_a_kill() {
        let by_name = |kills: &[(NodeName, f64)], revives: &[(NodeName, f64)]| {
            let s = schedule(kills, revives);
            let names: Vec<NodeName> = s.iter().map(|f| f.node).collect();
            check(&s, &names).map(|()| s)
        };
        let r2 = NodeName::Router(2);
        let s = by_name(&[(r2, 40.0), (r2, 90.0)], &[(r2, 70.0)]).unwrap();
        let seq: Vec<_> = s.iter().map(|f| (f.at_s, f.action)).collect();
        assert_eq!(
            seq,
            [
                (40.0, Action::Kill),
                (70.0, Action::Revive),
                (90.0, Action::Kill)
            ]
        );
        let e = by_name(&[(r2, 40.0)], &[(r2, 30.0)]).unwrap_err();
        assert!(e.contains("is not off then"), "{e}");
        let e = by_name(&[(r2, 40.0), (r2, 50.0)], &[]).unwrap_err();
        assert!(e.contains("already off"), "{e}");
        let e = by_name(&[(r2, 40.0)], &[(r2, 40.0)]).unwrap_err();
        assert!(e.contains("at that instant"), "{e}");
        // Different nodes do not interfere.
        assert!(by_name(&[(r2, 40.0), (NodeName::Router(1), 40.0)], &[]).is_ok());
    }
}
