//! `template.yaml` deployed into moto's CloudFormation, packaged and transformed as `sam
//! deploy` would (`tests/cfn/deploy.py`: the function binaries zipped into moto's S3, the
//! SAM transform applied with aws-sam-translator, then CreateStack), with and without the
//! media fleet. Checks the stack's resources, their settings as moto describes them, and
//! the outputs. moto has no CloudFormation model for some resource types; those are listed
//! below with the reason, and the test fails if the list goes stale either way.

use serde_json::{Value, json};
use stratus_tests::aws;
use stratus_tests::node::workspace_bin;

/// Types moto 5.2 cannot create from a template (it answers CREATE_COMPLETE without them).
/// The template is not bent to suit moto: these are covered by cfn-lint, `sam validate
/// --lint` and `tests/tests/template.rs` instead.
const MOTO_LACKS: &[(&str, &str)] = &[
    ("AWS::ApiGatewayV2::Api", "moto emulates API Gateway v2's API, but has no CloudFormation model for it"),
    ("AWS::ApiGatewayV2::Stage", "no CloudFormation model (API Gateway v2)"),
    ("AWS::ApiGatewayV2::Route", "no CloudFormation model (API Gateway v2)"),
    ("AWS::ApiGatewayV2::Integration", "no CloudFormation model (API Gateway v2)"),
    ("AWS::ApiGatewayV2::Deployment", "no CloudFormation model (API Gateway v2)"),
    ("AWS::ApiGateway::Account", "no CloudFormation model for the account-level settings"),
    ("AWS::SecretsManager::Secret", "no CloudFormation model (GenerateSecretString is not emulated)"),
    ("AWS::CloudWatch::Alarm", "no CloudFormation model for alarms"),
    ("AWS::ApplicationAutoScaling::ScalableTarget", "no CloudFormation model for Application Auto Scaling"),
    ("AWS::ApplicationAutoScaling::ScalingPolicy", "no CloudFormation model for Application Auto Scaling"),
];

fn deploy(stack: &str, params: Value) -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let artifacts = json!({
        "RestFunction": workspace_bin("stratus-rest"),
        "WsFunction": workspace_bin("stratus-ws"),
        "WsSweeperFunction": workspace_bin("stratus-ws-sweeper"),
    });
    let python = std::env::var("STRATUS_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(python)
        .arg(root.join("tests/cfn/deploy.py"))
        .arg(&aws::endpoint().url)
        .arg(root.join("template.yaml"))
        .arg(stack)
        .arg(params.to_string())
        .arg(artifacts.to_string())
        .output()
        .expect("python3 with cfn-lint (aws-sam-translator) and boto3, as scripts/test.sh installs");
    assert!(out.status.success(), "deploy.py failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn env_of(container: &Value) -> Vec<(String, String)> {
    container["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_owned(), e["value"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// Every resource missing from the stack is of a type moto lacks (or off by its
/// condition), and every type moto lacks is really missing.
fn check_not_created(report: &Value, conditions_off: &[&str]) {
    let missing = report["not_created"].as_array().unwrap();
    for m in missing {
        let (id, ty, cond) = (m[0].as_str().unwrap(), m[1].as_str().unwrap(), m[2].as_str());
        let off = cond.is_some_and(|c| conditions_off.contains(&c));
        assert!(off || MOTO_LACKS.iter().any(|(t, _)| *t == ty), "{id} ({ty}) was not created: {report}");
    }
    for (ty, why) in MOTO_LACKS {
        let in_template = report["transformed_types"].as_array().unwrap().iter().any(|t| t == ty);
        let created = report["resources"].as_object().unwrap().values().any(|r| r["type"] == *ty);
        assert!(!created, "moto now creates {ty} ({why}): take it off MOTO_LACKS and check it");
        assert!(in_template || !conditions_off.is_empty(), "{ty} is no longer in the template: take it off MOTO_LACKS");
    }
}

#[test]
fn the_template_deploys_with_its_media_fleet() {
    let image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/stratus-media-node:1";
    let report = deploy(&aws::unique_name("stratus-fleet"), json!({ "MediaNodeImage": image }));
    assert_eq!(report["status"], "CREATE_COMPLETE", "{report}");
    check_not_created(&report, &[]);
    let res = &report["resources"];
    let d = &report["details"];
    let table = res["MainTable"]["physical"].as_str().unwrap();

    // The table as the code expects it.
    let keys: Vec<&str> =
        d["MainTable"]["KeySchema"].as_array().unwrap().iter().map(|k| k["AttributeName"].as_str().unwrap()).collect();
    assert_eq!(keys, ["pk", "sk"]);
    assert_eq!(d["MainTable"]["GlobalSecondaryIndexes"][0]["IndexName"], "gsi1");
    assert_eq!(d["MainTable"]["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");

    // Three functions from the packaged binaries, on arm64 by default, wired to the table.
    assert_eq!(report["parameters"]["Architecture"], "arm64");
    for f in ["RestFunction", "WsFunction", "WsSweeperFunction"] {
        let fd = &d[f];
        assert_eq!(
            (fd["runtime"].as_str(), fd["handler"].as_str()),
            (Some("provided.al2023"), Some("bootstrap")),
            "{f}"
        );
        // moto's Lambda ignores Architectures from a template: check what the template says.
        assert_eq!(report["architectures"][f], json!([{ "Ref": "Architecture" }]), "{f}");
        assert!(fd["code_size"].as_u64().unwrap() > 1_000_000, "{f}: the zipped binary");
        assert_eq!(fd["env"]["STRATUS_TABLE"], table, "{f}");
        // (The secrets' and the WebSocket API's references are among moto's gaps above.)
        let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
        assert_eq!(text(&fd["env"]["STRATUS_ISSUER"]), "stratus", "{f}");
        assert_eq!(text(&fd["env"]["STRATUS_RING_TIMEOUT_SECS"]), "45", "{f}");
    }
    assert_eq!(d["WsSweeperFunction"]["timeout"], 60);

    // Chat attachments: an encrypted bucket, named to the REST function. (moto's CloudFormation
    // applies neither the public access block, CORS nor the lifecycle: `template.rs` checks
    // the template says them.)
    let bucket = res["AttachmentsBucket"]["physical"].as_str().unwrap();
    assert_eq!(d["RestFunction"]["env"]["STRATUS_ATTACHMENTS_BUCKET"], bucket);
    let b = &d["AttachmentsBucket"];
    assert_eq!(b["encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256", "{b}");
    assert_eq!(res["WsSweeperFunctionEveryMinute"]["type"], "AWS::Events::Rule");

    // The fleet: the node's container with its settings and its key. (moto's ECS model keeps
    // container definitions and the desired count, but drops the task's launch type,
    // network mode, size and platform and the service's network configuration: those are
    // checked on the template in tests/tests/template.rs.)
    let td = &d["MediaTaskDefinition"];
    let c = &td["containerDefinitions"][0];
    assert_eq!(c["image"], image);
    assert_eq!(c["stopTimeout"], 120);
    let env = env_of(c);
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("STRATUS_TABLE"), Some(table));
    assert_eq!(get("STRATUS_PUBLIC_IP"), Some("ecs"));
    assert_eq!(get("STRATUS_CONTROL_TLS"), Some("self-signed"));
    assert_eq!(get("STRATUS_MEDIA_WORKERS"), Some("1"), "one worker per vCPU");
    assert_eq!(c["secrets"][0]["name"], "STRATUS_CONTROL_KEYS");
    assert_eq!(c["healthCheck"]["command"], json!(["CMD", "/usr/local/bin/stratus-media-node", "healthcheck"]));
    assert_eq!(c["logConfiguration"]["logDriver"], "awslogs");
    assert_eq!(d["MediaService"]["desiredCount"], 1, "MediaMinNodes");
    let open: Vec<(String, i64, i64)> = d["MediaSecurityGroup"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["IpProtocol"].as_str().unwrap().to_owned(),
                p["FromPort"].as_i64().unwrap(),
                p["ToPort"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(open.contains(&("udp".into(), 50000, 50015)) && open.contains(&("tcp".into(), 7880, 7880)), "{open:?}");
    for r in ["MediaDynamoDbEndpoint", "MediaTaskRole", "MediaExecutionRole", "MediaDefaultRoute"] {
        assert_eq!(res[r]["status"], "CREATE_COMPLETE", "{r}");
    }

    // Outputs that moto can resolve.
    let out = &report["outputs"];
    assert_eq!(out["TableName"], table);
    assert_eq!(out["MediaClusterName"], res["MediaCluster"]["physical"]);
    assert!(res["MediaService"]["physical"].as_str().unwrap().ends_with(out["MediaServiceName"].as_str().unwrap()));
    assert!(out["ApiUrl"].as_str().unwrap().starts_with("https://"));
    assert!(out["WebSocketUrl"].as_str().unwrap().starts_with("wss://"));
}

#[test]
fn without_an_image_the_template_deploys_signaling_only_and_on_x86_64_when_asked() {
    let report = deploy(&aws::unique_name("stratus-signaling"), json!({ "Architecture": "x86_64" }));
    assert_eq!(report["status"], "CREATE_COMPLETE", "{report}");
    check_not_created(&report, &["HasMediaFleet", "HasMinNodes"]);
    let res = report["resources"].as_object().unwrap();
    assert!(!res.keys().any(|k| k.starts_with("Media")), "no fleet: {:?}", res.keys().collect::<Vec<_>>());
    assert_eq!(report["parameters"]["Architecture"], "x86_64");
    assert!(report["outputs"].get("MediaClusterName").is_none());
}
