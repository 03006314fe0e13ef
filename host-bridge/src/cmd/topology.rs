//! `sixgate topology`: the DODAG under the RPL root, from the root's targets (`Topology`
//! pages) and its own address (`RplShow`): a tree with depth, parent and link ETX columns,
//! `--json` (every node, the root first at depth 0) or `--dot` (Graphviz).

use std::collections::{BTreeMap, HashSet};

use mgmt::{Request, Response, TopoNode};
use serde_json::{Value, json};

use super::{Out, dur_ms, ip, pages, table, text, unexpected};
use crate::device::Device;
use crate::error::CliError;

/// How `topology` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopoFormat {
    /// An indented tree.
    Tree,
    /// Graphviz.
    Dot,
}

/// `topology`: the DODAG as a tree (`--json`: a list of nodes; `--dot`: Graphviz).
pub fn topology(dev: &mut Device, out: Out, format: TopoFormat) -> Result<(), CliError> {
    let root = ip(&super::rpl::fetch(dev)?.dodag_id).to_string();
    let targets: Vec<Value> = pages(
        dev,
        |start| Request::Topology { start },
        |r| match r {
            Response::Topology { total, nodes, .. } => {
                Ok((total, nodes.iter().map(|n| node_json(&root, n)).collect()))
            }
            other => unexpected(other),
        },
    )?;
    let mut nodes = vec![root_json(&root)];
    nodes.extend(targets);
    if out.json {
        out.json(&json!({"root": root, "nodes": nodes}));
        return Ok(());
    }
    match format {
        TopoFormat::Dot => crate::out!("{}", dot(&nodes)),
        TopoFormat::Tree => crate::out!("{}", tree(&root, &nodes)),
    }
    Ok(())
}

/// The border router itself: the DODAG root, depth 0.
fn root_json(root: &str) -> Value {
    json!({
        "address": root,
        "parent": Value::Null,
        "depth": 0,
        "etx": Value::Null,
        "external": false,
        "role": "root",
        "lifetime_s": Value::Null,
        "storing": Value::Null,
        "registered": Value::Null,
    })
}

/// One target of the root: `parent` is the root's address when the device says `None`.
fn node_json(root: &str, n: &TopoNode) -> Value {
    json!({
        "address": ip(&n.addr).to_string(),
        "parent": n.parent.map_or(root.to_string(), |p| ip(&p).to_string()),
        "depth": n.depth,
        "etx": n.etx_x100.map(|e| f64::from(e) / 100.0),
        "external": n.external,
        "role": if n.external { "host" } else { "router" },
        "lifetime_s": n.lifetime_s,
        "storing": n.storing,
        "registered": n.registered,
    })
}

/// `ETX 1.25`, or `None` when the link was not measured.
fn etx_text(n: &Value) -> Option<String> {
    n["etx"].as_f64().map(|e| format!("{e:.2}"))
}

/// Graphviz: the root on top, an edge from each parent to its child (drawn pointing at the
/// parent), labelled with the link's ETX when known; hosts (external targets) as boxes.
fn dot(nodes: &[Value]) -> String {
    let mut s = String::from("digraph dodag {\n  edge [dir=back];\n");
    for n in nodes {
        let a = text(&n["address"], "?");
        let depth = text(&n["depth"], "?");
        let (shape, what) = match n["role"].as_str() {
            Some("root") => ("doublecircle", "root".to_string()),
            Some("host") => ("box", format!("host, depth {depth}")),
            _ => ("ellipse", format!("depth {depth}")),
        };
        s.push_str(&format!(
            "  \"{a}\" [shape={shape}, label=\"{a}\\n{what}\"];\n"
        ));
    }
    for n in nodes.iter().filter(|n| !n["parent"].is_null()) {
        let a = text(&n["address"], "?");
        let p = text(&n["parent"], "?");
        match etx_text(n) {
            Some(e) => s.push_str(&format!("  \"{p}\" -> \"{a}\" [label=\"ETX {e}\"];\n")),
            None => s.push_str(&format!("  \"{p}\" -> \"{a}\";\n")),
        }
    }
    s.push_str("}\n");
    s
}

/// The table row of a target.
fn row(n: &Value, level: usize, note: &str) -> Vec<String> {
    let a = text(&n["address"], "?");
    let host = if n["external"] == true { " (host)" } else { "" };
    vec![
        format!("{}{a}{host}{note}", "  ".repeat(level)),
        text(&n["depth"], "?"),
        text(&n["parent"], "-"),
        etx_text(n).unwrap_or_else(|| "-".into()),
        n["lifetime_s"]
            .as_u64()
            .map_or("-".into(), |s| dur_ms(s * 1000)),
        match n["storing"].as_bool() {
            Some(true) => "storing".into(),
            Some(false) => "non-storing".into(),
            None => String::new(),
        },
        match n["registered"].as_bool() {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => String::new(),
        },
    ]
}

/// The indented tree: the root's row first, each node under its parent; a node whose parent
/// is neither the root nor a known node is listed last with that parent named.
fn tree(root: &str, nodes: &[Value]) -> String {
    let targets: Vec<&Value> = nodes.iter().filter(|n| n["role"] != "root").collect();
    let mut children: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for n in &targets {
        children.entry(text(&n["parent"], "?")).or_default().push(n);
    }
    let known: HashSet<String> = targets.iter().map(|n| text(&n["address"], "?")).collect();
    fn walk(
        at: &str,
        level: usize,
        children: &BTreeMap<String, Vec<&Value>>,
        rows: &mut Vec<Vec<String>>,
        seen: &mut HashSet<String>,
    ) {
        for n in children.get(at).map(Vec::as_slice).unwrap_or_default() {
            let a = text(&n["address"], "?");
            if !seen.insert(a.clone()) {
                continue;
            }
            rows.push(row(n, level, ""));
            walk(&a, level + 1, children, rows, seen);
        }
    }
    let mut rows = vec![row(&root_json(root), 0, " (root)")];
    let mut seen = HashSet::new();
    walk(root, 1, &children, &mut rows, &mut seen);
    for (parent, kids) in &children {
        if parent != root && !known.contains(parent) {
            for n in kids {
                rows.push(row(n, 1, &format!(" (parent {parent} unknown)")));
            }
        }
    }
    let mut s = table(
        &[
            "NODE",
            "DEPTH",
            "PARENT",
            "ETX",
            "LIFETIME",
            "MODE",
            "REGISTERED",
        ],
        &rows,
    );
    s.push_str(&format!("{} nodes below the root\n", targets.len()));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "2001:db8:1::1";

    fn a(last: u8) -> [u8; 16] {
        let mut x: [u8; 16] = "2001:db8:1::"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets();
        x[15] = last;
        x
    }

    /// r1 (below the root, ETX measured), r2 below r1, a host below r2.
    fn line() -> Vec<Value> {
        let n = |addr, parent, depth, etx, external| TopoNode {
            addr: a(addr),
            parent,
            depth: Some(depth),
            lifetime_s: 1800,
            storing: false,
            registered: depth == 1,
            etx_x100: etx,
            external,
        };
        let mut v = vec![root_json(ROOT)];
        for t in [
            n(0x10, None, 1, Some(125), false),
            n(0x20, Some(a(0x10)), 2, None, false),
            n(0x30, Some(a(0x20)), 3, None, true),
        ] {
            v.push(node_json(ROOT, &t));
        }
        v
    }

    #[test]
    fn json_nodes_carry_address_parent_depth_etx_external() {
        let v = line();
        assert_eq!(v[0]["address"], ROOT);
        assert_eq!(
            (v[0]["depth"].as_u64(), v[0]["parent"].is_null()),
            (Some(0), true)
        );
        assert_eq!(v[1]["parent"], ROOT);
        assert_eq!(v[1]["etx"], 1.25);
        assert_eq!(v[2]["parent"], "2001:db8:1::10");
        assert!(v[2]["etx"].is_null());
        assert_eq!(
            (&v[3]["external"], &v[3]["role"]),
            (&json!(true), &json!("host"))
        );
    }

    #[test]
    fn dot_labels_known_etx_and_marks_hosts() {
        let d = dot(&line());
        assert!(
            d.starts_with("digraph dodag {\n") && d.ends_with("}\n"),
            "{d}"
        );
        assert!(
            d.contains("\"2001:db8:1::1\" -> \"2001:db8:1::10\" [label=\"ETX 1.25\"];"),
            "{d}"
        );
        assert!(
            d.contains("\"2001:db8:1::10\" -> \"2001:db8:1::20\";"),
            "{d}"
        );
        assert!(d.contains("\"2001:db8:1::30\" [shape=box"), "{d}");
        assert!(d.contains("\"2001:db8:1::1\" [shape=doublecircle"), "{d}");
        assert_eq!(d.matches("->").count(), 3, "no edge for the root: {d}");
    }

    #[test]
    fn tree_nests_children_with_depth_parent_and_etx() {
        let t = tree(ROOT, &line());
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].starts_with("NODE") && lines[0].contains("ETX"),
            "{t}"
        );
        assert!(lines[1].starts_with("2001:db8:1::1 (root)"), "{t}");
        assert!(
            lines[2].starts_with("  2001:db8:1::10 ") && lines[2].contains("1.25"),
            "{t}"
        );
        assert!(lines[3].starts_with("    2001:db8:1::20 "), "{t}");
        assert!(lines[4].starts_with("      2001:db8:1::30 (host)"), "{t}");
        assert!(lines[4].contains("2001:db8:1::20"), "parent column: {t}");
        assert!(t.ends_with("3 nodes below the root\n"), "{t}");
    }

    #[test]
    fn a_node_under_an_unknown_parent_is_listed_apart() {
        let mut v = line();
        v.remove(2); // r2 gone: the host's parent is unknown
        let t = tree(ROOT, &v);
        assert!(
            t.contains("2001:db8:1::30 (host) (parent 2001:db8:1::20 unknown)"),
            "{t}"
        );
    }
}
