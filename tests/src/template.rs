//! Compares `template.yaml` with the code: its DynamoDB tables against
//! `stratus_core::store::schema::TABLES`, and its functions' binaries and table variables
//! against the workspace. Returns every difference, so a test can both require none for the
//! real template and show that a drifted one is caught.

use serde_yaml::Value;
use std::collections::BTreeSet;
use stratus_core::store::schema::{TABLES, TableSpec};

pub fn template_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Tagged(t) => format!("{} {}", t.tag, s(&t.value)),
        other => format!("{other:?}"),
    }
}

fn key_schema(v: &Value) -> Vec<(String, String)> {
    v.as_sequence()
        .map(|seq| seq.iter().map(|k| (s(&k["AttributeName"]), s(&k["KeyType"]))).collect())
        .unwrap_or_default()
}

fn table_diffs(spec: &TableSpec, res: &Value, out: &mut Vec<String>) {
    let id = spec.logical_id;
    let p = &res["Properties"];
    let want_keys = vec![(spec.pk.to_owned(), "HASH".to_owned()), (spec.sk.to_owned(), "RANGE".to_owned())];
    if key_schema(&p["KeySchema"]) != want_keys {
        out.push(format!("{id}: KeySchema {:?} != {want_keys:?}", key_schema(&p["KeySchema"])));
    }
    let attrs: BTreeSet<(String, String)> = p["AttributeDefinitions"]
        .as_sequence()
        .map(|seq| seq.iter().map(|a| (s(&a["AttributeName"]), s(&a["AttributeType"]))).collect())
        .unwrap_or_default();
    let want_attrs: BTreeSet<(String, String)> =
        spec.key_attrs().iter().map(|a| ((*a).to_owned(), "S".to_owned())).collect();
    if attrs != want_attrs {
        out.push(format!("{id}: AttributeDefinitions {attrs:?} != {want_attrs:?}"));
    }
    let gsis = p["GlobalSecondaryIndexes"].as_sequence().cloned().unwrap_or_default();
    let names: BTreeSet<String> = gsis.iter().map(|g| s(&g["IndexName"])).collect();
    let want_names: BTreeSet<String> = spec.indexes.iter().map(|i| i.name.to_owned()).collect();
    if names != want_names {
        out.push(format!("{id}: indexes {names:?} != {want_names:?}"));
    }
    for ix in spec.indexes {
        let Some(g) = gsis.iter().find(|g| s(&g["IndexName"]) == ix.name) else { continue };
        let want = vec![(ix.pk.to_owned(), "HASH".to_owned()), (ix.sk.to_owned(), "RANGE".to_owned())];
        if key_schema(&g["KeySchema"]) != want {
            out.push(format!("{id}.{}: KeySchema {:?} != {want:?}", ix.name, key_schema(&g["KeySchema"])));
        }
        if s(&g["Projection"]["ProjectionType"]) != "ALL" {
            out.push(format!("{id}.{}: projection must be ALL", ix.name));
        }
    }
    let ttl = &p["TimeToLiveSpecification"];
    if s(&ttl["AttributeName"]) != spec.ttl_attr || ttl["Enabled"] != Value::Bool(true) {
        out.push(format!("{id}: TTL must be enabled on `{}`", spec.ttl_attr));
    }
}

/// Every difference between `template` (YAML text) and the code's definitions.
pub fn differences(template: &str, binaries: &[&str]) -> Vec<String> {
    let doc: Value = match serde_yaml::from_str(template) {
        Ok(d) => d,
        Err(e) => return vec![format!("template does not parse: {e}")],
    };
    let mut out = Vec::new();
    let resources = doc["Resources"].as_mapping().cloned().unwrap_or_default();
    let mut route_keys = BTreeSet::new();
    for spec in TABLES {
        match resources.get(spec.logical_id) {
            Some(r) if s(&r["Type"]) == "AWS::DynamoDB::Table" => table_diffs(spec, r, &mut out),
            _ => out.push(format!("no AWS::DynamoDB::Table named {}", spec.logical_id)),
        }
    }
    for (id, r) in &resources {
        let id = s(id);
        match s(&r["Type"]).as_str() {
            "AWS::DynamoDB::Table" if !TABLES.iter().any(|t| t.logical_id == id) => {
                out.push(format!("table {id} is not in stratus_core::store::schema::TABLES"));
            }
            "AWS::ApiGatewayV2::Route" => {
                route_keys.insert(s(&r["Properties"]["RouteKey"]));
            }
            "AWS::ApiGatewayV2::Api" if s(&r["Properties"]["ProtocolType"]) == "WEBSOCKET" => {
                if s(&r["Properties"]["RouteSelectionExpression"]) != "$request.body.type" {
                    out.push(format!("websocket api {id}: RouteSelectionExpression must be $request.body.type"));
                }
            }
            "AWS::Serverless::Function" => {
                let bin = s(&r["Metadata"]["BuildProperties"]["Binary"]);
                if !binaries.contains(&bin.as_str()) {
                    out.push(format!("function {id} builds binary `{bin}`, which the workspace does not have"));
                }
                let vars = &r["Properties"]["Environment"]["Variables"];
                for spec in TABLES {
                    let want = format!("!Ref {}", spec.logical_id);
                    if s(&vars[spec.name_env]) != want {
                        out.push(format!("function {id}: {} must be {want}", spec.name_env));
                    }
                }
            }
            _ => {}
        }
    }
    let want_routes: BTreeSet<String> = ["$connect", "$disconnect", "$default"]
        .iter()
        .chain(stratus_protocol::ws::MESSAGE_ROUTES)
        .map(|r| (*r).to_owned())
        .collect();
    if route_keys != want_routes {
        out.push(format!("websocket routes {route_keys:?} != {want_routes:?}"));
    }
    out
}
