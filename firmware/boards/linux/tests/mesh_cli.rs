//! A mesh of our routers from the command line (issue 23): `sixgate-sim --routers N` with a
//! fault schedule (`--kill-node`, `--revive-node`), checked from the `--summary-json` file
//! (`routers[]`: state, counters, pool accounting, history). Simulated time as fast as
//! possible: each run takes a fraction of a second.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sixgate_sim::faults::{NodeName, resolve};
use sixgate_sim::simnet::{TopologyKind, World, WorldOpts};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sixgate-sim"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sixgate-mesh-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `sixgate-sim ARGS --summary-json FILE`: the summary, after checking the exit.
fn summary(name: &str, args: &[&str]) -> Value {
    let json = scratch(name);
    let j = json.display().to_string();
    let mut all = args.to_vec();
    all.extend(["--summary-json", &j]);
    let o = run(&all);
    assert!(
        o.status.success(),
        "sixgate-sim {all:?}: {:?}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

/// The fault scenario of the issue: three routers in a line, r2 (r3's only way to the
/// border router) off from 40 s to 70 s.
const KILL_R2: &[&str] = &[
    "--routers",
    "3",
    "--nodes",
    "0",
    "--topology",
    "line",
    "--kill-node",
    "r2@40",
    "--revive-node",
    "r2@70",
    "--duration",
    "100",
];

fn history(r: &Value) -> &[Value] {
    r["history"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn t(h: &Value) -> f64 {
    h["t_s"].as_f64().unwrap()
}

/// Every router joins at rank 256 × (hops + 1); r2 is off at 40 s and boots again at 70 s
/// (its second boot), joins again; every router's packet pool is accounted for at the end,
/// the border router's too; the schedule is listed.
#[test]
fn routers_join_and_a_killed_router_reboots_and_rejoins() {
    let s = summary("kill.json", KILL_R2);
    let routers = s["routers"].as_array().unwrap();
    assert_eq!(routers.len(), 3, "{s:#}");
    let mut link_locals = Vec::new();
    for (k, r) in routers.iter().enumerate() {
        assert_eq!(r["name"], format!("r{}", k + 1));
        assert_eq!(r["radio"], k + 1);
        assert_eq!(r["powered"], true, "{r:#}");
        assert_eq!(r["phase"], "joined", "r{}: {r:#}", k + 1);
        assert_eq!(r["rank"], 256 * (k + 2), "r{}: {r:#}", k + 1);
        assert_eq!(r["pool_accounted"], true, "r{}: {r:#}", k + 1);
        assert_eq!(
            r["pool_free"],
            r["pool_size"],
            "r{}: idle at the end",
            k + 1
        );
        assert!(r["counters"]["dao_ack_rx"].as_u64().unwrap() >= 1, "{r:#}");
        let eui = r["eui64"].as_str().unwrap();
        assert_eq!(eui.len(), 23, "{eui}");
        assert!(
            r["address"].as_str().unwrap().starts_with("2001:db8:1:"),
            "{r:#}"
        );
        // Joined before the fault.
        let first_join = history(r).iter().find(|h| h["phase"] == "joined").unwrap();
        assert!(t(first_join) < 40.0, "r{}: {r:#}", k + 1);
        // The link-local address is fe80:: + the EUI-64 with the U/L bit flipped.
        let e: Vec<u8> = eui
            .split(':')
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        let mut ll = [0u8; 16];
        ll[..2].copy_from_slice(&[0xfe, 0x80]);
        ll[8..].copy_from_slice(&e);
        ll[8] ^= 2;
        link_locals.push(std::net::Ipv6Addr::from(ll).to_string());
    }
    // Each router's parent is the one before it (r1's is the border router).
    assert_eq!(routers[1]["parent"], link_locals[0], "{s:#}");
    assert_eq!(routers[2]["parent"], link_locals[1], "{s:#}");

    let r2 = &routers[1];
    assert_eq!(r2["boots"], 2, "{r2:#}");
    let h = history(r2);
    let off = h.iter().position(|x| x["phase"] == "off").unwrap();
    assert_eq!(t(&h[off]), 40.0, "{r2:#}");
    assert_eq!(h[off]["powered"], false);
    let back = h.iter().skip(off).find(|x| x["powered"] == true).unwrap();
    assert_eq!(t(back), 70.0, "{r2:#}");
    assert_eq!(back["boots"], 2, "a fresh boot: {r2:#}");
    assert_ne!(back["phase"], "joined", "fresh state: {r2:#}");
    assert!(
        h.iter().any(|x| t(x) > 70.0 && x["phase"] == "joined"),
        "r2 rejoined: {r2:#}"
    );
    for r in [&routers[0], &routers[2]] {
        assert_eq!(r["boots"], 1, "{r:#}");
    }

    let br = &s["border_router"];
    assert_eq!(br["pool_accounted"], true, "{br:#}");
    assert_eq!(
        s["faults"],
        serde_json::json!([
            {"at_s": 40.0, "node": "r2", "action": "kill"},
            {"at_s": 70.0, "node": "r2", "action": "revive"},
        ])
    );
}

/// r3's only parent (r2) dies at 40 s: r3 must notice (detach, or take another parent) and
/// join again once r2 is back. Before the parent check in `firmware/src/router.rs` (a quiet
/// parent gets a unicast DIS; frames to it that fail make it unreachable) r3 stayed "joined"
/// through r2 from 7.1 s to the end.
#[test]
fn a_router_whose_parent_dies_detaches_and_rejoins_after_the_revival() {
    let s = summary("orphan.json", KILL_R2);
    let r3 = &s["routers"][2];
    let h = history(r3);
    let parent_then = h
        .iter()
        .rev()
        .find(|x| t(x) < 40.0)
        .map(|x| x["parent"].clone())
        .unwrap();
    let lost = h
        .iter()
        .position(|x| t(x) >= 40.0 && (x["phase"] != "joined" || x["parent"] != parent_then))
        .unwrap_or_else(|| panic!("r3 kept its dead parent: {r3:#}"));
    assert!(
        h.iter().skip(lost).any(|x| x["phase"] == "joined"),
        "r3 joined again: {r3:#}"
    );
    assert_eq!(r3["phase"], "joined", "{r3:#}");
    assert_eq!(r3["pool_accounted"], true, "{r3:#}");
}

/// Names and schedules the command line refuses: exit 2 and a message that says why.
#[test]
fn bad_fault_schedules_are_refused_with_the_reason() {
    for (args, why) in [
        (
            &["--routers", "3", "--revive-node", "r2@40"][..],
            "r2 is not off then",
        ),
        (
            &[
                "--routers",
                "3",
                "--kill-node",
                "r2@40",
                "--kill-node",
                "r2@50",
            ][..],
            "r2 is already off then",
        ),
        (
            &["--routers", "3", "--kill-node", "r4@40"][..],
            "no such node (--routers 3)",
        ),
        (
            &["--nodes", "2", "--kill-node", "n3@1"][..],
            "no such node (--nodes 2)",
        ),
        (
            &["--nodes", "2", "--kill-node", "3@1"][..],
            "radio 3 is no simulated node",
        ),
        (
            &["--kill-node", "br@1", "--kill-node", "0@2"][..],
            "0 is already off then",
        ),
        (&["--kill-node", "x1@1"][..], "names no node"),
        (&["--kill-node", "r1"][..], "expected NODE@SECS"),
        (&["--routers", "65"][..], "65"),
    ] {
        let mut a = args.to_vec();
        a.extend(["--duration", "1"]);
        let o = run(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{a:?}: {err}");
        assert!(err.contains(why), "{a:?}: {err}");
    }
}

/// The names resolve to the nodes the summary lists: `br`, `rK`, `nK`, radio indices (the
/// border router 0, the routers 1..=N, then the leaves).
#[test]
fn node_names_resolve_to_radios_in_line_order() {
    let mut o = WorldOpts::new();
    o.routers = 2;
    o.nodes = 2;
    o.topology = TopologyKind::Line;
    let w = World::build(&o).unwrap();
    let r = |s: &str| resolve(&w, s.parse::<NodeName>().unwrap());
    assert_eq!(r("br"), Ok(w.br));
    assert_eq!(r("0"), Ok(w.br));
    assert_eq!(r("r1"), Ok(w.routers[0]));
    assert_eq!(r("2"), Ok(w.routers[1]));
    assert_eq!(r("n1"), Ok(w.nodes[0]));
    assert_eq!(r("3"), Ok(w.nodes[0]));
    assert_eq!(r("n2"), r("4"));
    assert!(r("5").is_err());
    assert!(r("r3").is_err());
    // In a line each radio hears only its neighbours: r2 is n1's way to the border router.
    let m = w.sim.medium_ref();
    let radio = |id| w.sim.radio_of(id).unwrap();
    assert!(m.link(radio(w.routers[1]), radio(w.nodes[0])).is_some());
    assert!(m.link(radio(w.br), radio(w.routers[1])).is_none());
}

/// Routers in a seeded random topology are radios 1..=N too, and the run is reproducible:
/// the same seed gives the same summary.
#[test]
fn random_meshes_of_routers_replay_from_their_seed() {
    let args = [
        "--routers",
        "4",
        "--nodes",
        "2",
        "--topology",
        "random",
        "--seed",
        "7",
        "--duration",
        "30",
    ];
    let a = summary("random-a.json", &args);
    let b = summary("random-b.json", &args);
    assert_eq!(a["routers"], b["routers"]);
    let routers = a["routers"].as_array().unwrap();
    assert_eq!(routers.len(), 4);
    for (k, r) in routers.iter().enumerate() {
        assert_eq!(r["radio"], k + 1);
        assert_eq!(r["phase"], "joined", "{r:#}");
        assert_eq!(r["pool_accounted"], true, "{r:#}");
    }
}

/// Leaves and the border router are killed and revived the same way: a leaf off from 5 s
/// sends no reading after that, the other one keeps sending; the border router off from
/// 10 s to 20 s (named by radio index when revived) boots a second time.
#[test]
fn leaves_and_the_border_router_power_cycle_too() {
    let s = summary(
        "leaf.json",
        &[
            "--nodes",
            "2",
            "--reading-period",
            "2",
            "--kill-node",
            "n1@5",
            "--kill-node",
            "br@10",
            "--revive-node",
            "0@20",
            "--duration",
            "40",
        ],
    );
    let n = s["nodes"].as_array().unwrap();
    assert_eq!(n[0]["powered"], false, "{s:#}");
    assert_eq!(n[1]["powered"], true, "{s:#}");
    let sent = |k: usize| n[k]["readings_sent"].as_u64().unwrap();
    assert!(sent(0) <= 3, "n1 off from 5 s: {s:#}");
    assert!(sent(1) >= 15, "n2 sends throughout: {s:#}");
    let br = &s["border_router"];
    assert_eq!(br["boots"], 2, "{br:#}");
    assert_eq!(br["powered"], true);
    assert_eq!(br["pool_accounted"], true);
}
