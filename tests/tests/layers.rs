//! Dependencies point one way: among the modules of `stratus-core`, the top-level modules of
//! the media node, the SFU's modules and core's `records` and `store` submodules, the
//! `crate::` / `super::` references outside tests form a graph without a cycle (a cycle fails
//! with the modules on it). Also: the front door and the SFU run loop are tops nothing
//! imports, only the run loop does I/O, and only `records` spells keys and attributes.
//!
//! Run alone: `cargo test -p stratus-tests --test layers`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Each top-level module of the crate under `src` (files and directories, the crate root
/// excepted) and the code it holds, without comments and without its `#[cfg(test)]` tail.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        let mut code = String::new();
        let files: Vec<PathBuf> = if path.is_dir() {
            walk(&path)
        } else if path.extension().is_some_and(|e| e == "rs") {
            vec![path.clone()]
        } else {
            continue;
        };
        for f in files {
            code.push_str(&strip(&std::fs::read_to_string(&f).unwrap()));
            code.push('\n');
        }
        out.insert(name, code);
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// Code without line comments (doc links name modules without using them) and without the
/// unit tests, which by this project's convention close the file.
fn strip(src: &str) -> String {
    let code = match src.find("#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    };
    code.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// The modules `code` (in module `me`) refers to through `crate::`.
fn uses(me: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    uses_via("crate::", me, code, known)
}

/// The modules `code` (in module `me`) refers to through the path `prefix`.
fn uses_via(prefix: &str, me: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        rest = &rest[i + prefix.len()..];
        let names: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::C, …}`: the first segment of each entry.
            let end = group.find('}').unwrap_or(group.len());
            group[..end].split(',').map(|e| e.trim().split("::").next().unwrap_or("").to_owned()).collect()
        } else {
            vec![rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()]
        };
        out.extend(names.into_iter().filter(|n| known.contains(n) && n != me));
    }
    out
}

/// A cycle in `graph`, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_owned(), 1);
        stack.push(n.to_owned());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == m).unwrap();
                    let mut c = stack[at..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = vec![];
            if let Some(c) = visit(n, graph, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

fn graph_of(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    mods.iter().map(|(m, code)| (m.clone(), uses(m, code, &known))).collect()
}

fn assert_one_way(crate_dir: &str) {
    let g = graph_of(&root().join(crate_dir).join("src"));
    assert!(g.len() > 3, "{crate_dir}: found only {:?}", g.keys());
    if let Some(c) = cycle(&g) {
        panic!("{crate_dir}: import circle {}", c.join(" -> "));
    }
}

#[test]
fn core_modules_depend_one_way() {
    assert_one_way("crates/core");
}

#[test]
fn the_front_door_is_the_top_of_core() {
    let g = graph_of(&root().join("crates/core/src"));
    let users: Vec<&String> = g.iter().filter(|(_, deps)| deps.contains("signaling")).map(|(m, _)| m).collect();
    assert!(users.is_empty(), "signaling is imported by {users:?}");
    assert!(!g["sink"].iter().any(|m| m != "store"), "sink is a leaf: {:?}", g["sink"]);
}

#[test]
fn media_node_modules_depend_one_way() {
    assert_one_way("media-node");
}

/// The submodules of the module directory `dir` (its `mod.rs`, the parent, excepted) and
/// which of them each refers to, as `super::x` or `crate::<dir>::x`.
fn submodule_graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut mods = modules(dir);
    mods.remove("mod");
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    let through_crate = format!("crate::{}::", dir.file_name().unwrap().to_string_lossy());
    mods.iter()
        .map(|(m, code)| {
            let mut deps = uses_via("super::", m, code, &known);
            deps.extend(uses_via(&through_crate, m, code, &known));
            (m.clone(), deps)
        })
        .collect()
}

#[test]
fn the_sfu_modules_depend_one_way_and_only_the_worker_does_io() {
    let dir = root().join("media-node/src/sfu");
    let g = submodule_graph(&dir);
    assert!(g.len() > 4 && g["engine"].contains("forward"), "found {g:?}");
    if let Some(c) = cycle(&g) {
        panic!("media-node/src/sfu: import circle {}", c.join(" -> "));
    }
    let users: Vec<&String> = g.iter().filter(|(_, deps)| deps.contains("worker")).map(|(m, _)| m).collect();
    assert!(users.is_empty(), "the run loop is the top of the SFU; imported by {users:?}");
    for m in g.keys().filter(|m| *m != "worker") {
        let code = strip(&std::fs::read_to_string(dir.join(format!("{m}.rs"))).unwrap());
        for io in ["tokio::net", "std::net::UdpSocket", "tokio::time", "Instant::now", "SystemTime::now"] {
            assert!(!code.contains(io), "sfu/{m}.rs uses {io}: I/O and the clock belong to the worker");
        }
    }
}

#[test]
fn the_core_records_and_store_submodules_depend_one_way() {
    for dir in ["crates/core/src/records", "crates/core/src/store"] {
        let g = submodule_graph(&root().join(dir));
        assert!(g.len() > 3, "{dir}: found only {:?}", g.keys());
        if let Some(c) = cycle(&g) {
            panic!("{dir}: import circle {}", c.join(" -> "));
        }
    }
}

#[test]
fn the_check_finds_a_circle() {
    let known: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    let mut g = BTreeMap::new();
    g.insert("a".to_owned(), uses("a", "use crate::{b, c::X};", &known));
    g.insert("b".to_owned(), uses("b", "fn f() { crate::c::g() }", &known));
    g.insert("c".to_owned(), uses("c", &strip("// crate::b in a comment\nuse crate::a::Y;"), &known));
    assert_eq!(cycle(&g), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    g.insert("c".to_owned(), BTreeSet::new());
    assert_eq!(cycle(&g), None);
}

/// `"ABC#` string literals in `code`: key prefixes.
fn key_prefixes(code: &str) -> Vec<String> {
    let b = code.as_bytes();
    let mut out = vec![];
    for (i, _) in code.match_indices('"') {
        let caps = b[i + 1..].iter().take_while(|c| c.is_ascii_uppercase() || **c == b'_').count();
        if caps > 0 && b.get(i + 1 + caps) == Some(&b'#') {
            out.push(code[i..i + 2 + caps].to_owned());
        }
    }
    out
}

#[test]
fn key_layouts_are_spelled_only_in_the_records_modules() {
    let mut found = vec![];
    for dir in
        ["crates/core/src", "crates/api/src", "crates/dynamo/src", "functions/src", "local/src", "media-node/src"]
    {
        for f in walk(&root().join(dir)) {
            if f.components().any(|c| c.as_os_str() == "records") {
                continue;
            }
            for p in key_prefixes(&strip(&std::fs::read_to_string(&f).unwrap())) {
                found.push(format!("{}: {p}", f.strip_prefix(root()).unwrap_or(&f).display()));
            }
        }
    }
    assert!(found.is_empty(), "key prefixes outside crates/core/src/records: {found:#?}");
    assert_eq!(key_prefixes(r##"Key::new(format!("CONN#{c}"), "META"); let ph = "#n";"##), vec!["\"CONN#"]);
}

/// Places in `code` that spell an item's attributes by hand: building an item, reading an
/// attribute, or naming one in an update or a condition.
fn attribute_spellings(code: &str) -> Vec<String> {
    const PATTERNS: [&str; 9] = [
        "item([",
        "Value::S(",
        "Value::N(",
        ".get(\"",
        "Cond::eq(\"",
        "Cond::cmp(\"",
        ".set(\"",
        ".add(\"",
        ".remove(\"",
    ];
    let mut out: Vec<String> = PATTERNS.iter().filter(|p| code.contains(*p)).map(|p| (*p).to_owned()).collect();
    if code.contains("AttrNotExists(") {
        out.push("AttrNotExists(".to_owned());
    }
    out
}

#[test]
fn domain_modules_work_with_typed_records_not_attributes() {
    // The store (the table itself) and the records modules spell attributes; nothing else in
    // core does: it reads and writes typed records and asks records for updates and conditions.
    let mut found = vec![];
    for f in walk(&root().join("crates/core/src")) {
        if f.components().any(|c| c.as_os_str() == "records" || c.as_os_str() == "store") {
            continue;
        }
        for p in attribute_spellings(&strip(&std::fs::read_to_string(&f).unwrap())) {
            found.push(format!("{}: {p}", f.strip_prefix(root()).unwrap_or(&f).display()));
        }
    }
    assert!(found.is_empty(), "attributes spelled outside crates/core/src/records: {found:#?}");
    let hand = r#"let v = it.get("user_id"); Update::default().set("status", s);"#;
    assert_eq!(attribute_spellings(hand), vec![".get(\"", ".set(\""]);
}
