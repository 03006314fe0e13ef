//! `sixgate rpl` and `sixgate topology` against the simulator (issue 22): the root's state
//! and settings, a settings change that starts a new DODAG version and survives a save and a
//! reboot, global repair, the RPL counters, and usage errors. The DODAG with real routers in it
//! is shown by `firmware/boards/linux/tests/riot_rpl.rs` (RIOT routers).

mod common;

use common::{Sim, code, json, ok, sixgate};

#[test]
fn rpl_show_set_repair_and_topology() {
    let sim = Sim::start("rpl", &["--nodes", "2"]);
    let p = sim.port();
    let r = json(p, &["rpl"]);
    assert_eq!(r["enabled"], true);
    assert_eq!(r["mop"], 1);
    assert_eq!(r["instance_id"], 30);
    assert_eq!(r["rank"], 256);
    assert_eq!(r["version"], 240);
    assert_eq!(r["trickle"]["imin_ms"], 4096);
    assert_eq!(r["targets"]["capacity"], 256);
    let dodag_id = r["dodag_id"].as_str().unwrap().to_string();
    assert!(dodag_id.starts_with("2001:db8:1:"), "{dodag_id}");
    // The root sends DIOs (Trickle's first interval ends within 4.1 s).
    let t0 = std::time::Instant::now();
    while json(p, &["rpl"])["counters"]["dio_tx"].as_u64().unwrap() == 0 {
        assert!(t0.elapsed().as_secs() < 10, "no DIO in 10 s");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let text = ok(p, &["rpl"]);
    assert!(text.contains("mode             1 (non-storing)"), "{text}");
    // RFC 8138 is off by default (the DIOs' T flag clear).
    assert!(text.contains("RFC 8138         off"), "{text}");
    assert_eq!(
        (r["rfc8138"].as_bool(), r["settings"]["rfc8138"].as_bool()),
        (Some(false), Some(false))
    );

    // A change the nodes see: a new version; unsaved until `config save`.
    ok(
        p,
        &[
            "rpl",
            "set",
            "--mop",
            "2",
            "--lifetime",
            "2",
            "--lifetime-unit",
            "10",
        ],
    );
    let r = json(p, &["rpl"]);
    assert_eq!(
        (r["mop"].as_u64(), r["version"].as_u64()),
        (Some(2), Some(241))
    );
    assert_eq!(r["settings"]["default_lifetime"], 2);
    assert_eq!(r["settings"]["lifetime_unit_s"], 10);
    assert_eq!(json(p, &["config", "show"])["unsaved"], true);
    // max_depth alone is not seen by the nodes: no new version.
    ok(p, &["rpl", "set", "--max-depth", "4"]);
    assert_eq!(json(p, &["rpl"])["version"], 241);
    ok(p, &["rpl", "repair"]);
    assert_eq!(json(p, &["rpl"])["version"], 242);
    // RFC 8138 on: the nodes see it in the DODAG Configuration, so a new version.
    let set = json(p, &["rpl", "set", "--rfc8138", "on"]);
    assert_eq!(set["rfc8138"], true, "{set}");
    let r = json(p, &["rpl"]);
    assert_eq!(
        (
            r["rfc8138"].as_bool(),
            r["settings"]["rfc8138"].as_bool(),
            r["version"].as_u64()
        ),
        (Some(true), Some(true), Some(243))
    );
    let text = ok(p, &["rpl"]);
    assert!(text.contains("RFC 8138         on"), "{text}");
    // The other settings kept.
    assert_eq!(
        (r["mop"].as_u64(), r["settings"]["max_depth"].as_u64()),
        (Some(2), Some(4))
    );
    let events_hint = ok(p, &["stats"]);
    assert!(
        events_hint.contains("rpl_dio_tx"),
        "the RPL counters are listed"
    );

    // Saved and rebooted: the settings stay (the version starts again at 240).
    ok(p, &["config", "save"]);
    ok(p, &["reboot"]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let r = json(p, &["rpl"]);
    assert_eq!(
        (r["mop"].as_u64(), r["settings"]["max_depth"].as_u64()),
        (Some(2), Some(4))
    );
    assert_eq!(r["settings"]["rfc8138"], true, "RFC 8138 saved");
    ok(p, &["rpl", "set", "--rfc8138", "off"]);
    let r = json(p, &["rpl"]);
    assert_eq!(
        (r["rfc8138"].as_bool(), r["version"].as_u64()),
        (Some(false), Some(241))
    );

    // The smoltcp nodes are one-hop and RPL-unaware: no targets, a tree of the root alone
    // (listed as the first node, at depth 0, since issue 23).
    let t = json(p, &["topology"]);
    assert_eq!(t["root"], dodag_id.as_str());
    assert_eq!(t["nodes"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (
            t["nodes"][0]["address"].as_str(),
            t["nodes"][0]["depth"].as_u64()
        ),
        (Some(dodag_id.as_str()), Some(0))
    );
    let tree = ok(p, &["topology"]);
    assert!(
        tree.contains("(root)") && tree.contains("0 nodes"),
        "{tree}"
    );
    let dot = ok(p, &["topology", "--dot"]);
    assert!(
        dot.starts_with("digraph dodag {") && dot.trim_end().ends_with('}'),
        "{dot}"
    );

    // Disabled: no more DIOs.
    ok(p, &["rpl", "set", "--disable"]);
    let before = json(p, &["rpl"])["counters"]["dio_tx"].as_u64().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(5));
    let r = json(p, &["rpl"]);
    assert_eq!(r["enabled"], false);
    assert_eq!(r["counters"]["dio_tx"].as_u64().unwrap(), before);
}

/// The objective function the DIOs name (OCP): MRHOF by default, `rpl set --of of0|mrhof`
/// changes it (a new DODAG version: the routers see it), it survives `config save` and a
/// reboot, and `sixgate-sim --rpl-of` chooses it at start.
#[test]
fn rpl_objective_function_is_shown_set_saved_and_chosen_at_start() {
    let sim = Sim::start("rpl-of", &["--nodes", "0"]);
    let p = sim.port();
    let r = json(p, &["rpl"]);
    assert_eq!(
        (
            r["objective"].as_str(),
            r["ocp"].as_u64(),
            r["version"].as_u64()
        ),
        (Some("mrhof"), Some(1), Some(240)),
        "{r}"
    );
    assert_eq!(r["settings"]["ocp"], 1);
    let text = ok(p, &["rpl"]);
    assert!(
        text.contains("objective        MRHOF (RFC 6719, OCP 1)"),
        "{text}"
    );
    let set = json(p, &["rpl", "set", "--of", "of0"]);
    assert_eq!(set["ocp"], 0, "{set}");
    let r = json(p, &["rpl"]);
    assert_eq!(
        (r["objective"].as_str(), r["version"].as_u64()),
        (Some("of0"), Some(241))
    );
    assert!(ok(p, &["rpl"]).contains("objective        OF0 (RFC 6552, OCP 0)"));
    ok(p, &["config", "save"]);
    ok(p, &["reboot"]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(json(p, &["rpl"])["objective"], "of0", "saved");
    ok(p, &["rpl", "set", "--of", "mrhof"]);
    assert_eq!(json(p, &["rpl"])["objective"], "mrhof");
    drop(sim);

    let sim = Sim::start("rpl-of0", &["--nodes", "0", "--rpl-of", "of0"]);
    let r = json(sim.port(), &["rpl"]);
    assert_eq!(
        (r["objective"].as_str(), r["ocp"].as_u64()),
        (Some("of0"), Some(0))
    );
}

#[test]
fn rpl_usage_errors_exit_2_before_touching_the_device() {
    // No device at all: argument errors come first.
    let nowhere = std::path::Path::new("/nonexistent/sixgate-port");
    for args in [
        &["rpl", "set"][..],
        &["rpl", "set", "--mop", "3"],
        &["rpl", "set", "--instance", "128"],
        &["rpl", "set", "--max-depth", "17"],
        &["rpl", "set", "--enable", "--disable"],
        &["rpl", "set", "--rfc8138", "maybe"],
        &["rpl", "set", "--rfc8138"],
        &["rpl", "set", "--of", "etx"],
        &["rpl", "set", "--of"],
    ] {
        let o = sixgate(nowhere, args);
        assert_eq!(
            code(&o),
            2,
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
