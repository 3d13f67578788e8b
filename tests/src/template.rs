//! Compares `template.yaml` with the code: its DynamoDB tables against
//! `stratus_core::store::schema::TABLES`; each function's `CodeUri` + `Binary` against the
//! crate there (what `sam build` runs cargo-lambda on), its variables against what the
//! functions read, its secrets and permissions; the WebSocket routes against the protocol and
//! the deployment against the routes; the media fleet's task definition against what the
//! node binary reads, its roles against what a node does, and the autoscaling metric against
//! what nodes publish. Returns every difference, so a test can both require none for the
//! real template and show that a drifted one is caught.

use serde_yaml::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::Path;
use stratus_core::store::schema::{TABLES, TableSpec};

/// What the template is checked against, from the code.
pub struct Code<'a> {
    /// The repository root (where `template.yaml` and the `CodeUri` directories are).
    pub root: &'a Path,
    /// Every variable the functions read (`stratus_functions::config::ENV`).
    pub function_env: &'a [&'a str],
    /// Every variable the media node reads (`stratus_media_node::env::ALL`).
    pub node_env: &'a [&'a str],
    /// The nodes' CloudWatch namespace and the metric the fleet scales on.
    pub metrics_namespace: &'a str,
    pub scaling_metric: &'a str,
    /// The metric counting reporting nodes.
    pub nodes_metric: &'a str,
}

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

/// The `[[bin]]` names of the package whose manifest is `dir/Cargo.toml` (none for a
/// workspace root, which is what `CodeUri: .` pointed cargo-lambda at).
pub fn bins_in(dir: &Path) -> Vec<String> {
    let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else { return Vec::new() };
    let mut out = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(name) = line.strip_prefix("name = \"").and_then(|r| r.strip_suffix('"')) {
            out.push(name.to_owned());
        }
    }
    out
}

/// The deployment id suffix for a set of route keys: the first 8 hex digits of the SHA-256
/// of the sorted keys, one per line.
pub fn routes_hash(keys: &BTreeSet<String>) -> String {
    let joined = keys.iter().cloned().collect::<Vec<_>>().join("\n");
    Sha256::digest(joined.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// Every statement of an inline or managed policy document under `res`.
fn statements(doc: &Value) -> Vec<Value> {
    doc["Statement"].as_sequence().cloned().unwrap_or_default()
}

fn actions(st: &Value) -> Vec<String> {
    match &st["Action"] {
        Value::Sequence(seq) => seq.iter().map(s).collect(),
        v => vec![s(v)],
    }
}

fn resources_of(st: &Value) -> Vec<String> {
    match &st["Resource"] {
        Value::Sequence(seq) => seq.iter().map(s).collect(),
        v => vec![s(v)],
    }
}

fn role_statements(role: &Value) -> Vec<Value> {
    role["Properties"]["Policies"]
        .as_sequence()
        .map(|ps| ps.iter().flat_map(|p| statements(&p["PolicyDocument"])).collect())
        .unwrap_or_default()
}

fn function_diffs(id: &str, r: &Value, code: &Code, out: &mut Vec<String>) {
    let uri = s(&r["Properties"]["CodeUri"]);
    let bin = s(&r["Metadata"]["BuildProperties"]["Binary"]);
    let bins = bins_in(&code.root.join(&uri));
    if !bins.contains(&bin) {
        out.push(format!("function {id}: CodeUri {uri} has no bin target `{bin}` (it has {bins:?})"));
    }
    let vars = r["Properties"]["Environment"]["Variables"].as_mapping().cloned().unwrap_or_default();
    for (k, _) in &vars {
        let k = s(k);
        if k.starts_with("STRATUS_") && !code.function_env.contains(&k.as_str()) {
            out.push(format!("function {id}: sets {k}, which no function reads"));
        }
    }
    let var = |k: &str| vars.get(k).map(s).unwrap_or_default();
    for spec in TABLES {
        let want = format!("!Ref {}", spec.logical_id);
        if var(spec.name_env) != want {
            out.push(format!("function {id}: {} must be {want}", spec.name_env));
        }
    }
    for (k, want) in
        [("STRATUS_CREDENTIALS_SECRET", "!Ref CredentialsSecret"), ("STRATUS_CONTROL_SECRET", "!Ref ControlKeysSecret")]
    {
        if var(k) != want {
            out.push(format!("function {id}: {k} must be {want}"));
        }
    }
    for k in ["STRATUS_WS_MANAGEMENT_ENDPOINT", "STRATUS_SIGNALING_URL"] {
        if var(k).is_empty() {
            out.push(format!("function {id}: {k} is not set"));
        }
    }
    let policies: Vec<String> =
        r["Properties"]["Policies"].as_sequence().map(|p| p.iter().map(s).collect()).unwrap_or_default();
    for p in ["!Ref TableAccessPolicy", "!Ref ManageConnectionsPolicy"] {
        if !policies.iter().any(|x| x == p) {
            out.push(format!("function {id}: policies {policies:?} lack {p}"));
        }
    }
}

fn secrets_diffs(resources: &serde_yaml::Mapping, out: &mut Vec<String>) {
    let reads: Vec<String> = resources
        .get("TableAccessPolicy")
        .map(|p| statements(&p["Properties"]["PolicyDocument"]))
        .unwrap_or_default()
        .iter()
        .filter(|st| actions(st).iter().any(|a| a == "secretsmanager:GetSecretValue"))
        .flat_map(resources_of)
        .collect();
    for secret in ["!Ref CredentialsSecret", "!Ref ControlKeysSecret"] {
        if !reads.iter().any(|r| r == secret) {
            out.push(format!("TableAccessPolicy: functions cannot read {secret}"));
        }
    }
    for id in ["MainTable", "CredentialsSecret", "ControlKeysSecret"] {
        let Some(r) = resources.get(id) else {
            out.push(format!("no resource {id}"));
            continue;
        };
        for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
            if s(&r[policy]) != "Retain" {
                out.push(format!("{id}: {policy} must be Retain"));
            }
        }
    }
}

fn fleet_diffs(resources: &serde_yaml::Mapping, code: &Code, out: &mut Vec<String>) {
    let Some(td) = resources.get("MediaTaskDefinition") else {
        out.push("no MediaTaskDefinition (the media fleet)".into());
        return;
    };
    let tp = &td["Properties"];
    let fargate = (s(&tp["RequiresCompatibilities"][0]), s(&tp["NetworkMode"]));
    if fargate != ("FARGATE".to_owned(), "awsvpc".to_owned()) {
        out.push(format!("MediaTaskDefinition: {fargate:?}; the fleet is Fargate with awsvpc networking"));
    }
    if !s(&tp["RuntimePlatform"]["CpuArchitecture"]).contains("IsArm64") {
        out.push("MediaTaskDefinition: CpuArchitecture must follow the Architecture parameter".into());
    }
    let vpc = resources
        .get("MediaService")
        .map(|r| r["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"].clone())
        .unwrap_or(Value::Null);
    if s(&vpc["AssignPublicIp"]) != "ENABLED" {
        out.push("MediaService: tasks need public IPs (AssignPublicIp: ENABLED): clients send media to them".into());
    }
    let Some(c) = td["Properties"]["ContainerDefinitions"].as_sequence().and_then(|c| c.first()).cloned() else {
        out.push("MediaTaskDefinition: no container".into());
        return;
    };
    let env: Vec<(String, String)> = c["Environment"]
        .as_sequence()
        .map(|e| e.iter().map(|v| (s(&v["Name"]), s(&v["Value"]))).collect())
        .unwrap_or_default();
    let secrets: Vec<(String, String)> = c["Secrets"]
        .as_sequence()
        .map(|e| e.iter().map(|v| (s(&v["Name"]), s(&v["ValueFrom"]))).collect())
        .unwrap_or_default();
    for (k, _) in env.iter().chain(&secrets) {
        if k.starts_with("STRATUS_") && !code.node_env.contains(&k.as_str()) {
            out.push(format!("media node: sets {k}, which the node does not read"));
        }
    }
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    for (k, want) in [
        ("STRATUS_TABLE", "!Ref MainTable"),
        ("STRATUS_PUBLIC_IP", "ecs"),
        ("STRATUS_CONTROL_TLS", "self-signed"),
        ("STRATUS_MEDIA_BIND_IP", "0.0.0.0"),
    ] {
        if get(k) != want {
            out.push(format!("media node: {k} must be {want}, is {:?}", get(k)));
        }
    }
    if get("STRATUS_WS_MANAGEMENT_ENDPOINT").is_empty() {
        out.push("media node: STRATUS_WS_MANAGEMENT_ENDPOINT is not set (room events)".into());
    }
    if !secrets.iter().any(|(k, v)| k == "STRATUS_CONTROL_KEYS" && v == "!Ref ControlKeysSecret") {
        out.push("media node: STRATUS_CONTROL_KEYS must come from ControlKeysSecret".into());
    }
    let health: Vec<String> =
        c["HealthCheck"]["Command"].as_sequence().map(|v| v.iter().map(s).collect()).unwrap_or_default();
    if health.last().map(String::as_str) != Some("healthcheck") {
        out.push(format!("media node: health check {health:?} must run `stratus-media-node healthcheck`"));
    }
    let secs = |k: &str| get(k).parse::<i64>().unwrap_or(0);
    let stop = c["StopTimeout"].as_i64().unwrap_or(30);
    if secs("STRATUS_DRAIN_SECS") + secs("STRATUS_DRAIN_LINGER_SECS") >= stop {
        out.push(format!("media node: the drain (wait + linger) must end before StopTimeout {stop}"));
    }
    // The scaling metric and the alarm read what nodes publish, under their service name.
    let service = get("STRATUS_METRICS_SERVICE");
    if service.is_empty() {
        out.push("media node: STRATUS_METRICS_SERVICE is not set (no load metrics, no autoscaling)".into());
    }
    let m = resources
        .get("MediaScalingPolicy")
        .map(|p| p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"].clone())
        .unwrap_or(Value::Null);
    let dim = m["Dimensions"].as_sequence().and_then(|d| d.first()).map(|d| (s(&d["Name"]), s(&d["Value"])));
    if s(&m["Namespace"]) != code.metrics_namespace
        || s(&m["MetricName"]) != code.scaling_metric
        || dim != Some(("Service".into(), service.clone()))
    {
        out.push(format!(
            "MediaScalingPolicy: must track {}/{} for Service={service}",
            code.metrics_namespace, code.scaling_metric
        ));
    }
    // The task role: its registry item, room events, metrics, its own address; nothing else.
    let Some(role) = resources.get("MediaTaskRole") else {
        out.push("no MediaTaskRole".into());
        return;
    };
    let sts = role_statements(role);
    let has = |action: &str| sts.iter().find(|st| actions(st).iter().any(|a| a == action)).cloned();
    match has("dynamodb:PutItem") {
        Some(st) => {
            let lead = &st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            let lead: Vec<String> = lead.as_sequence().map(|v| v.iter().map(s).collect()).unwrap_or_default();
            if lead != ["NODE#*"] || !actions(&st).contains(&"dynamodb:DeleteItem".to_owned()) {
                out.push("MediaTaskRole: PutItem/DeleteItem only on NODE#* items".into());
            }
        }
        None => out.push("MediaTaskRole: nodes cannot write their registry item".into()),
    }
    for a in ["execute-api:ManageConnections", "cloudwatch:PutMetricData", "ec2:DescribeNetworkInterfaces"] {
        if has(a).is_none() {
            out.push(format!("MediaTaskRole: lacks {a}"));
        }
    }
    if let Some(st) = has("cloudwatch:PutMetricData")
        && s(&st["Condition"]["StringEquals"]["cloudwatch:namespace"]) != code.metrics_namespace
    {
        out.push(format!("MediaTaskRole: PutMetricData must be limited to {}", code.metrics_namespace));
    }
    let all_actions: Vec<String> = sts.iter().flat_map(actions).collect();
    if all_actions.iter().any(|a| a.starts_with("secretsmanager:")) {
        out.push("MediaTaskRole: a running node reads no secret".into());
    }
    // The execution role injects the control key, and only it.
    let exec = resources.get("MediaExecutionRole").map(role_statements).unwrap_or_default();
    let readable: Vec<String> = exec
        .iter()
        .filter(|st| actions(st).iter().any(|a| a == "secretsmanager:GetSecretValue"))
        .flat_map(resources_of)
        .collect();
    if readable != ["!Ref ControlKeysSecret"] {
        out.push(format!("MediaExecutionRole: may read secrets {readable:?}; only ControlKeysSecret"));
    }
    let alarm = resources.get("MediaNodesAlarm").map(|a| a["Properties"]["Metrics"].clone()).unwrap_or(Value::Null);
    let counted = alarm.as_sequence().and_then(|ms| ms.iter().find(|m| !m["MetricStat"].is_null())).cloned();
    let counted = counted.map(|m| m["MetricStat"]["Metric"].clone()).unwrap_or(Value::Null);
    if s(&counted["Namespace"]) != code.metrics_namespace || s(&counted["MetricName"]) != code.nodes_metric {
        out.push(format!("MediaNodesAlarm: must count {}/{}", code.metrics_namespace, code.nodes_metric));
    }
}

/// Every difference between `template` (YAML text) and the code.
pub fn differences(template: &str, code: &Code) -> Vec<String> {
    let doc: Value = match serde_yaml::from_str(template) {
        Ok(d) => d,
        Err(e) => return vec![format!("template does not parse: {e}")],
    };
    let mut out = Vec::new();
    let resources = doc["Resources"].as_mapping().cloned().unwrap_or_default();
    let mut route_keys = BTreeSet::new();
    let mut deployments = Vec::new();
    for spec in TABLES {
        match resources.get(spec.logical_id) {
            Some(r) if s(&r["Type"]) == "AWS::DynamoDB::Table" => table_diffs(spec, r, &mut out),
            _ => out.push(format!("no AWS::DynamoDB::Table named {}", spec.logical_id)),
        }
    }
    if s(&doc["Globals"]["Function"]["Architectures"][0]) != "!Ref Architecture" {
        out.push("Globals: Architectures must be [!Ref Architecture]".into());
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
            "AWS::ApiGatewayV2::Deployment" => deployments.push(id.clone()),
            "AWS::ApiGatewayV2::Api"
                if s(&r["Properties"]["ProtocolType"]) == "WEBSOCKET"
                    && s(&r["Properties"]["RouteSelectionExpression"]) != "$request.body.type" =>
            {
                out.push(format!("websocket api {id}: RouteSelectionExpression must be $request.body.type"));
            }
            "AWS::Serverless::Function" => function_diffs(&id, r, code, &mut out),
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
    let want_deployment = format!("WsDeployment{}", routes_hash(&route_keys));
    if deployments != [want_deployment.clone()] {
        out.push(format!("websocket deployments {deployments:?}: the routes call for one named {want_deployment}"));
    }
    let stage = resources.get("WsStage").map(|r| s(&r["Properties"]["DeploymentId"])).unwrap_or_default();
    if stage != format!("!Ref {want_deployment}") {
        out.push(format!("WsStage: DeploymentId {stage} must be !Ref {want_deployment}"));
    }
    secrets_diffs(&resources, &mut out);
    fleet_diffs(&resources, code, &mut out);
    attachments_diffs(&resources, &mut out);
    out
}

/// The attachments bucket as `stratus_dynamo::s3` needs it: private, encrypted, kept, CORS for
/// browsers, the pending lifecycle on the tag uploads carry; the REST function names it and
/// may do what the store does.
fn attachments_diffs(resources: &serde_yaml::Mapping, out: &mut Vec<String>) {
    let Some(b) = resources.get("AttachmentsBucket").filter(|b| s(&b["Type"]) == "AWS::S3::Bucket") else {
        out.push("no AWS::S3::Bucket named AttachmentsBucket".into());
        return;
    };
    let p = &b["Properties"];
    let sse = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"];
    if !matches!(s(&sse["SSEAlgorithm"]).as_str(), "AES256" | "aws:kms") {
        out.push("AttachmentsBucket: not encrypted".into());
    }
    for k in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
        if p["PublicAccessBlockConfiguration"][k].as_bool() != Some(true) {
            out.push(format!("AttachmentsBucket: {k} must be true"));
        }
    }
    for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
        if s(&b[policy]) != "Retain" {
            out.push(format!("AttachmentsBucket: {policy} must be Retain"));
        }
    }
    let cors = p["CorsConfiguration"]["CorsRules"].as_sequence().cloned().unwrap_or_default();
    let methods: Vec<String> = cors
        .iter()
        .flat_map(|r| r["AllowedMethods"].as_sequence().cloned().unwrap_or_default())
        .map(|m| s(&m))
        .collect();
    if !["GET", "PUT"].iter().all(|m| methods.iter().any(|x| x == m)) {
        out.push("AttachmentsBucket: CORS must allow browsers' GET and PUT".into());
    }
    let rules = p["LifecycleConfiguration"]["Rules"].as_sequence().cloned().unwrap_or_default();
    let pending = rules.iter().any(|r| {
        let tag = &r["TagFilters"][0];
        format!("{}={}", s(&tag["Key"]), s(&tag["Value"])) == stratus_dynamo::s3::PENDING_TAG
            && r["ExpirationInDays"].as_u64() == Some(1)
            && s(&r["Status"]) == "Enabled"
    });
    if !pending {
        out.push(format!(
            "AttachmentsBucket: no lifecycle rule expiring {} after a day",
            stratus_dynamo::s3::PENDING_TAG
        ));
    }
    let rest = resources.get("RestFunction").map(|f| &f["Properties"]);
    if rest.map(|r| s(&r["Environment"]["Variables"]["STRATUS_ATTACHMENTS_BUCKET"])).as_deref()
        != Some("!Ref AttachmentsBucket")
    {
        out.push("RestFunction: STRATUS_ATTACHMENTS_BUCKET must be !Ref AttachmentsBucket".into());
    }
    let attached = rest
        .and_then(|r| r["Policies"].as_sequence().cloned())
        .is_some_and(|ps| ps.iter().any(|x| s(x) == "!Ref AttachmentsAccessPolicy"));
    if !attached {
        out.push("RestFunction: AttachmentsAccessPolicy is not attached".into());
    }
    let granted: Vec<String> = resources
        .get("AttachmentsAccessPolicy")
        .map(|p| statements(&p["Properties"]["PolicyDocument"]))
        .unwrap_or_default()
        .iter()
        .flat_map(actions)
        .collect();
    // HEAD is s3:GetObject; a PUT with a tag needs s3:PutObjectTagging too.
    for a in ["s3:PutObject", "s3:PutObjectTagging", "s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectTagging"] {
        if !granted.iter().any(|g| g == a) {
            out.push(format!("AttachmentsAccessPolicy: {a} is not granted"));
        }
    }
}
