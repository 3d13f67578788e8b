//! `template.yaml` agrees with the code: the tables with the schema; each function with a
//! bin target of the crate at its `CodeUri`, with the variables the functions read, the
//! secrets and policies; the WebSocket routes and their deployment; the media fleet's task
//! definition, roles and autoscaling with what the node binary reads and publishes.

use stratus_tests::template::{Code, bins_in, differences, template_path};

fn code(root: &std::path::Path) -> Code<'_> {
    Code {
        root,
        function_env: stratus_functions::config::ENV,
        node_env: stratus_media_node::env::ALL,
        metrics_namespace: stratus_media_node::cloudwatch::DEFAULT_NAMESPACE,
        scaling_metric: stratus_media_node::cloudwatch::PARTICIPANTS,
        nodes_metric: stratus_media_node::cloudwatch::NODES,
    }
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn template_matches_the_code() {
    let root = root();
    let bins = bins_in(&root.join("functions"));
    for b in ["stratus-rest", "stratus-ws", "stratus-ws-sweeper"] {
        assert!(bins.contains(&b.to_owned()), "{bins:?}");
    }
    assert!(bins_in(&root).is_empty(), "the workspace root is no package: `CodeUri: .` finds no binary");
    let text = std::fs::read_to_string(template_path()).unwrap();
    let diffs = differences(&text, &code(&root));
    assert!(diffs.is_empty(), "template.yaml differs from the code:\n{}", diffs.join("\n"));
}

#[test]
fn a_drifted_template_is_caught() {
    let root = root();
    let text = std::fs::read_to_string(template_path()).unwrap();
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
        ("Value: pending", "Value: waiting", "no lifecycle rule"),
        ("        RestrictPublicBuckets: true", "        RestrictPublicBuckets: false", "RestrictPublicBuckets"),
        ("              - s3:PutObjectTagging\n", "", "s3:PutObjectTagging"),
        ("        - !Ref AttachmentsAccessPolicy\n", "", "AttachmentsAccessPolicy is not attached"),
        ("Binary: stratus-rest", "Binary: stratus-gone", "no bin target"),
        ("CodeUri: functions/", "CodeUri: .", "no bin target"),
        ("  MainTable:\n", "  OtherTable:\n", "MainTable"),
        ("RouteKey: candidate", "RouteKey: ice", "websocket routes"),
        ("RouteKey: candidate", "RouteKey: ice", "call for one named"),
        (
            "RouteSelectionExpression: \"$request.body.type\"",
            "RouteSelectionExpression: \"$request.body.action\"",
            "RouteSelectionExpression",
        ),
        ("Architectures: [!Ref Architecture]", "Architectures: [arm64]", "Architectures"),
        (
            "STRATUS_CONTROL_SECRET: !Ref ControlKeysSecret",
            "STRATUS_CONTROL_SECRETS: !Ref ControlKeysSecret",
            "no function reads",
        ),
        ("              - !Ref ControlKeysSecret\n", "", "cannot read !Ref ControlKeysSecret"),
        (
            "  ControlKeysSecret:\n    Type: AWS::SecretsManager::Secret\n    DeletionPolicy: Retain",
            "  ControlKeysSecret:\n    Type: AWS::SecretsManager::Secret\n    DeletionPolicy: Delete",
            "DeletionPolicy must be Retain",
        ),
        (
            "{ Name: STRATUS_PUBLIC_IP, Value: ecs }",
            "{ Name: STRATUS_PUBLIC_IP, Value: 127.0.0.1 }",
            "STRATUS_PUBLIC_IP",
        ),
        (
            "{ Name: STRATUS_CONTROL_TLS, Value: self-signed }",
            "{ Name: STRATUS_CONTROL_TLS, Value: \"off\" }",
            "STRATUS_CONTROL_TLS",
        ),
        (
            "{ Name: STRATUS_HEARTBEAT_SECS, Value: \"5\" }",
            "{ Name: STRATUS_HEARTBEAT_SECONDS, Value: \"5\" }",
            "does not read",
        ),
        (
            "{ Name: STRATUS_DRAIN_LINGER_SECS, Value: \"65\" }",
            "{ Name: STRATUS_DRAIN_LINGER_SECS, Value: \"95\" }",
            "StopTimeout",
        ),
        (
            "- Name: STRATUS_CONTROL_KEYS\n              ValueFrom: !Ref ControlKeysSecret",
            "- Name: STRATUS_CONTROL_KEYS\n              ValueFrom: !Ref CredentialsSecret",
            "ControlKeysSecret",
        ),
        ("Resource: !Ref ControlKeysSecret\n", "Resource: !Ref CredentialsSecret\n", "MediaExecutionRole"),
        ("dynamodb:LeadingKeys: [\"NODE#*\"]", "dynamodb:LeadingKeys: [\"*\"]", "NODE#*"),
        ("Action: ec2:DescribeNetworkInterfaces", "Action: ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces"),
        ("          MetricName: Participants", "          MetricName: Rooms", "MediaScalingPolicy"),
        (
            "Command: [\"CMD\", \"/usr/local/bin/stratus-media-node\", \"healthcheck\"]",
            "Command: [\"CMD\", \"/bin/true\"]",
            "health check",
        ),
        ("              MetricName: Nodes", "              MetricName: Rooms", "MediaNodesAlarm"),
        ("AssignPublicIp: ENABLED", "AssignPublicIp: DISABLED", "AssignPublicIp"),
        ("      NetworkMode: awsvpc", "      NetworkMode: bridge", "awsvpc"),
        ("CpuArchitecture: !If [IsArm64, ARM64, X86_64]", "CpuArchitecture: X86_64", "CpuArchitecture"),
    ] {
        assert!(text.contains(from), "template no longer contains {from:?}; update this test");
        let diffs = differences(&text.replacen(from, to, 1), &code(&root));
        assert!(diffs.iter().any(|d| d.contains(expect)), "{from:?} → {to:?} not caught: {diffs:?}");
    }
}
