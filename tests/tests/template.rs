//! `template.yaml` agrees with the code: the tables with the schema, each function with a
//! binary of the functions crate and with the table variables it reads.

use stratus_tests::template::{differences, template_path};

fn function_binaries() -> Vec<String> {
    let manifest =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/Cargo.toml"))
            .unwrap();
    manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("name = \"").and_then(|r| r.strip_suffix('"')))
        .filter(|n| *n != "stratus-functions")
        .map(str::to_owned)
        .collect()
}

#[test]
fn template_matches_schema() {
    let text = std::fs::read_to_string(template_path()).unwrap();
    let bins = function_binaries();
    let bins: Vec<&str> = bins.iter().map(String::as_str).collect();
    for b in ["stratus-rest", "stratus-ws", "stratus-ws-sweeper"] {
        assert!(bins.contains(&b), "{bins:?}");
    }
    let diffs = differences(&text, &bins);
    assert!(diffs.is_empty(), "template.yaml differs from the code:\n{}", diffs.join("\n"));
}

#[test]
fn a_drifted_template_is_caught() {
    let text = std::fs::read_to_string(template_path()).unwrap();
    let bins = ["stratus-rest", "stratus-ws", "stratus-ws-sweeper"];
    for (from, to, expect) in [
        ("AttributeName: ttl", "AttributeName: expires", "TTL"),
        ("IndexName: gsi1", "IndexName: byUser", "indexes"),
        (
            "          KeyType: RANGE\n      GlobalSecondaryIndexes",
            "          KeyType: HASH\n      GlobalSecondaryIndexes",
            "KeySchema",
        ),
        (
            "AttributeName: gsi1sk\n          AttributeType: S",
            "AttributeName: gsi1sk\n          AttributeType: N",
            "AttributeDefinitions",
        ),
        ("STRATUS_TABLE: !Ref MainTable", "STRATUS_TABLE: stratus-main", "STRATUS_TABLE"),
        ("Binary: stratus-rest", "Binary: stratus-gone", "binary"),
        ("  MainTable:\n", "  OtherTable:\n", "MainTable"),
        ("RouteKey: candidate", "RouteKey: ice", "websocket routes"),
        (
            "RouteSelectionExpression: \"$request.body.type\"",
            "RouteSelectionExpression: \"$request.body.action\"",
            "RouteSelectionExpression",
        ),
    ] {
        assert!(text.contains(from), "template no longer contains {from:?}; update this test");
        let diffs = differences(&text.replacen(from, to, 1), &bins);
        assert!(diffs.iter().any(|d| d.contains(expect)), "{from:?} → {to:?} not caught: {diffs:?}");
    }
}
