//! The crate graph drawn in `docs/architecture.md` is the real one: the list of edges between
//! sixgate's crates (normal dependencies) there must equal what `cargo metadata` reports for the
//! workspace and the nRF52840 board package. And the host CLI stays free of the simulator and of
//! the firmware (issue 18): `host-bridge` reaches neither `sim` nor `firmware`, directly or
//! through another of our crates.
//!
//! On a mismatch the test prints the block to paste into the document.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BEGIN: &str = "<!-- crate-graph: begin (checked by tests/tests/architecture.rs) -->";
const END: &str = "<!-- crate-graph: end -->";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `cargo metadata` (without resolving dependencies) of the manifest's workspace.
fn cargo_metadata(manifest: &Path) -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(manifest)
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata JSON")
}

/// Normal (not dev, not build) dependencies of each package in the manifest's workspace.
fn metadata(manifest: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let m = cargo_metadata(manifest);
    let mut g = BTreeMap::new();
    for p in m["packages"].as_array().expect("packages") {
        let deps = p["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().expect("name").to_string())
            .collect();
        g.insert(p["name"].as_str().expect("name").to_string(), deps);
    }
    g
}

/// Our crates and the edges between them.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut g = metadata(&root().join("Cargo.toml"));
    g.extend(metadata(
        &root().join("firmware/boards/nrf52840/Cargo.toml"),
    ));
    let ours: BTreeSet<String> = g.keys().cloned().collect();
    for deps in g.values_mut() {
        deps.retain(|d| ours.contains(d));
    }
    g
}

/// Level of a crate: 0 for one that uses none of ours, else one above the highest it uses.
fn level(g: &BTreeMap<String, BTreeSet<String>>, name: &str) -> usize {
    g.get(name)
        .into_iter()
        .flatten()
        .map(|d| level(g, d) + 1)
        .max()
        .unwrap_or(0)
}

/// The graph as a Markdown table, highest level first: every crate only uses crates of lower
/// levels, so the table is the layer drawing, arrows included.
fn render(g: &BTreeMap<String, BTreeSet<String>>) -> String {
    let mut rows: Vec<(usize, &str)> = g.keys().map(|n| (level(g, n), n.as_str())).collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let mut s = String::from("| level | crate | uses (our crates) |\n| ---: | --- | --- |\n");
    for (lvl, name) in rows {
        let deps: Vec<String> = g[name].iter().map(|d| format!("`{d}`")).collect();
        let rhs = if deps.is_empty() {
            "—".to_string()
        } else {
            deps.join(", ")
        };
        s.push_str(&format!("| {lvl} | `{name}` | {rhs} |\n"));
    }
    s
}

#[test]
fn architecture_doc_lists_the_real_crate_graph() {
    let want = render(&graph());
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).expect("read doc");
    let block = doc
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(b, _)| b.trim_start_matches('\n').to_string())
        .unwrap_or_default();
    assert_eq!(
        block, want,
        "docs/architecture.md's crate graph is not the code's; put this between the markers:\n{want}"
    );
}

#[test]
fn host_cli_depends_on_neither_the_simulator_nor_the_firmware() {
    let g = graph();
    let mut seen = BTreeSet::new();
    let mut todo = vec!["host-bridge".to_string()];
    while let Some(c) = todo.pop() {
        for d in g.get(&c).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    assert!(seen.contains("mgmt"), "host-bridge reaches {seen:?}");
    for banned in ["sim", "firmware", "sixgate-sim"] {
        assert!(
            !seen.contains(banned),
            "host-bridge reaches {banned}: {seen:?}"
        );
    }
}

#[test]
fn firmware_library_has_no_default_features() {
    // Both boards link the same library: the default build is the bare no_std one.
    let m = cargo_metadata(&root().join("Cargo.toml"));
    let fw = m["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "firmware")
        .expect("firmware package");
    assert_eq!(fw["features"]["default"], serde_json::json!([]));
}
