//! The node binary as ECS runs it, against stand-ins for what AWS gives a task: the ECS task
//! metadata endpoint and the ECS agent (fakes served here, shaped as AWS documents them;
//! fixtures in `tests/fixtures/`), IMDSv2 (a fake that insists on the session token), and
//! EC2, DynamoDB and CloudWatch on moto.

mod common;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use common::process::{self, control, registered, spawn};
use reqwest::Method;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stratus_control::client::ControlClient;
use stratus_core::nodes;
use stratus_tests::aws;

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn fixture(name: &str) -> &'static str {
    match name {
        "fargate" => include_str!("fixtures/ecs-container-metadata-fargate.json"),
        "ec2-host" => include_str!("fixtures/ecs-container-metadata-ec2-host.json"),
        _ => unreachable!(),
    }
}

/// The task metadata endpoint (`${ECS_CONTAINER_METADATA_URI_V4}` answers for the container).
async fn task_metadata(which: &'static str) -> String {
    let path = "/v4/5f2d0c1e9b7a4c3d8e6f1a2b3c4d5e6f-1234567890";
    let app =
        Router::new().route(path, get(move || async move { ([("content-type", "application/json")], fixture(which)) }));
    format!("http://{}{path}", serve(app).await)
}

/// In moto's EC2: a VPC, a subnet, a network interface holding `private`, and an Elastic IP
/// associated with it, as a Fargate task with a public IP has. Returns the public IP.
fn interface_with_public_ip(private: &str) -> String {
    let script = r#"
import sys, boto3
ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
eni = ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress=sys.argv[2])["NetworkInterface"]
eip = ec2.allocate_address(Domain="vpc")
ec2.associate_address(AllocationId=eip["AllocationId"], NetworkInterfaceId=eni["NetworkInterfaceId"])
print(eip["PublicIp"])
"#;
    let python = std::env::var("STRATUS_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(python)
        .args(["-c", script, &aws::endpoint().url, private])
        .output()
        .expect("python3 with boto3 (moto's dependency)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn member(base: &str, room: &str, pin: Option<&str>) -> Value {
    let c = ControlClient::new(process::key());
    control(&c, Method::PUT, base, &format!("/v1/rooms/{room}"), pin, Some(json!({}))).await.expect("room");
    let p = json!({ "userId": "u1", "canPublish": true, "canSubscribe": true });
    control(&c, Method::PUT, base, &format!("/v1/rooms/{room}/participants/p1"), pin, Some(p))
        .await
        .expect("participant");
    let t = json!({ "direction": "recv" });
    control(&c, Method::POST, base, &format!("/v1/rooms/{room}/participants/p1/transports"), pin, Some(t))
        .await
        .expect("transport")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_fargate_the_node_announces_its_interfaces_public_ip_and_serves_control_over_pinned_tls() {
    let public = interface_with_public_ip("10.0.1.5");
    let (table, name) = process::table().await;
    let _node = spawn(
        "fargate-1",
        &[
            ("STRATUS_PUBLIC_IP", "ecs".into()),
            ("ECS_CONTAINER_METADATA_URI_V4", task_metadata("fargate").await),
            ("STRATUS_CONTROL_TLS", "self-signed".into()),
            ("STRATUS_TABLE", name),
        ],
    );
    let rec = registered(table.as_ref(), "fargate-1").await;
    assert_eq!(rec.public_ip, public, "the interface's public IP, not its private 10.0.1.5");
    let port = _node.port;
    assert_eq!(rec.control_url, format!("https://{public}:{port}"));
    let pin = rec.control_cert_sha256.clone().expect("a TLS node registers its certificate's fingerprint");

    // Control over TLS, pinned to the registered fingerprint (reached over loopback here).
    let base = format!("https://127.0.0.1:{port}");
    let transport = member(&base, "r1", Some(&pin)).await;
    let candidates = transport["iceCandidates"].as_array().unwrap();
    assert!(!candidates.is_empty());
    assert!(candidates.iter().all(|c| c["ip"] == public.as_str()), "ICE candidates announce {public}: {candidates:?}");

    // Any other certificate is refused before a request is sent, as is plain HTTP.
    let c = ControlClient::new(process::key());
    let wrong = "0".repeat(64);
    let e = control(&c, Method::GET, &base, "/v1/rooms/r1", Some(&wrong), None).await.unwrap_err();
    assert!(e.unreachable && e.status == 0, "{e:?}");
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true), "plain HTTP is not served");
    let room = control(&c, Method::GET, &base, "/v1/rooms/r1", Some(&pin), None).await.unwrap();
    assert_eq!(room["participants"].as_array().unwrap().len(), 1, "{room}");
}

/// IMDSv2: a token first (PUT with a TTL header), then metadata only with that token.
async fn imds(public: &'static str, private: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let meta = |value: &'static str, seen: Arc<Mutex<Vec<String>>>, what: &'static str| {
        move |h: HeaderMap| async move {
            seen.lock().unwrap().push(what.to_owned());
            match h.get("x-aws-ec2-metadata-token").and_then(|v| v.to_str().ok()) {
                Some("imds-session-token") => (StatusCode::OK, value),
                _ => (StatusCode::UNAUTHORIZED, ""),
            }
        }
    };
    let s = seen.clone();
    let app = Router::new()
        .route(
            "/latest/api/token",
            put(move |h: HeaderMap| async move {
                s.lock().unwrap().push("token".into());
                match h.get("x-aws-ec2-metadata-token-ttl-seconds") {
                    Some(_) => (StatusCode::OK, "imds-session-token"),
                    None => (StatusCode::BAD_REQUEST, ""),
                }
            }),
        )
        .route("/latest/meta-data/public-ipv4", get(meta(public, seen.clone(), "public-ipv4")))
        .route("/latest/meta-data/local-ipv4", get(meta(private, seen.clone(), "local-ipv4")));
    (format!("http://{}", serve(app).await), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_ecs_with_host_networking_the_node_asks_imdsv2_for_the_instances_public_ip() {
    let (endpoint, seen) = imds("198.51.100.23", "10.0.9.9").await;
    let (table, name) = process::table().await;
    let _node = spawn(
        "ec2-host-1",
        &[
            ("STRATUS_PUBLIC_IP", "ecs".into()),
            ("ECS_CONTAINER_METADATA_URI_V4", task_metadata("ec2-host").await),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint),
            ("STRATUS_TABLE", name),
        ],
    );
    let rec = registered(table.as_ref(), "ec2-host-1").await;
    assert_eq!(rec.public_ip, "198.51.100.23");
    assert_eq!(rec.control_url, format!("http://127.0.0.1:{}", _node.port), "no TLS asked for");
    assert_eq!(rec.control_cert_sha256, None);
    assert_eq!(seen.lock().unwrap()[0], "token", "the session token comes first");
}

#[tokio::test]
async fn a_node_told_to_discover_its_address_outside_ecs_refuses_to_start() {
    let mut node = spawn("nowhere-1", &[("STRATUS_PUBLIC_IP", "ecs".into())]);
    let out = tokio::time::timeout(Duration::from_secs(10), node.child.wait()).await.expect("exits").unwrap();
    assert_eq!(out.code(), Some(2));
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(node.child.stderr.as_mut().unwrap(), &mut err).await.unwrap();
    assert!(err.contains("ECS_CONTAINER_METADATA_URI_V4"), "{err}");
}

/// The ECS agent's task-protection endpoint: records each PUT body; the first is refused.
async fn ecs_agent() -> (String, Arc<Mutex<Vec<Value>>>) {
    let calls: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
    let c = calls.clone();
    let app = Router::new().route(
        "/api/5f2d0c1e9b7a4c3d8e6f1a2b3c4d5e6f-1234567890/task-protection/v1/state",
        put(move |body: axum::Json<Value>| async move {
            let mut calls = c.lock().unwrap();
            calls.push(body.0.clone());
            let arn = "arn:aws:ecs:us-east-1:111122223333:task/stratus-media/5f2d0c1e9b7a4c3d8e6f1a2b3c4d5e6f";
            if calls.len() == 1 {
                let e = json!({ "error": { "Arn": arn, "Code": "ServerException", "Message": "try again" } });
                return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(e));
            }
            let p = json!({ "protection": {
                "ExpirationDate": "2026-12-01T23:00:00Z",
                "ProtectionEnabled": body.0["ProtectionEnabled"],
                "TaskArn": arn,
            }});
            (StatusCode::OK, axum::Json(p))
        }),
    );
    (format!("http://{}/api/5f2d0c1e9b7a4c3d8e6f1a2b3c4d5e6f-1234567890", serve(app).await), calls)
}

async fn until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "{what} did not happen within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_in_protection_is_held_while_rooms_exist_and_cleared_after_drain() {
    let (agent, calls) = ecs_agent().await;
    let (table, name) = process::table().await;
    let mut node = spawn(
        "protected-1",
        &[
            ("ECS_AGENT_URI", agent),
            ("STRATUS_TABLE", name),
            ("STRATUS_DRAIN_SECS", "1".into()),
            ("STRATUS_DRAIN_LINGER_SECS", "1".into()),
        ],
    );
    registered(table.as_ref(), "protected-1").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(calls.lock().unwrap().is_empty(), "no protection asked for while the node is empty");
    let enable = json!({ "ProtectionEnabled": true, "ExpiresInMinutes": 60 });
    let disable = json!({ "ProtectionEnabled": false });
    let c = ControlClient::new(process::key());
    let base = format!("http://127.0.0.1:{}", node.port);
    let n = |calls: &Arc<Mutex<Vec<Value>>>| calls.lock().unwrap().len();

    // A room: protection is asked for at once; refused, it is asked for again.
    control(&c, Method::PUT, &base, "/v1/rooms/r1", None, Some(json!({}))).await.unwrap();
    until("protection retried after a refusal", Duration::from_secs(5), || n(&calls) >= 2).await;
    assert_eq!(calls.lock().unwrap()[..2], [enable.clone(), enable.clone()]);
    // Held (not re-asked every heartbeat) while the room lasts.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(n(&calls), 2, "{:?}", calls.lock().unwrap());
    // The room closes: protection is cleared.
    control(&c, Method::DELETE, &base, "/v1/rooms/r1", None, None).await.unwrap();
    until("protection cleared", Duration::from_secs(5), || n(&calls) >= 3).await;
    assert_eq!(calls.lock().unwrap()[2], disable);

    // Rooms again, then SIGTERM: draining, the room handed over, protection cleared, exit.
    control(&c, Method::PUT, &base, "/v1/rooms/r2", None, Some(json!({}))).await.unwrap();
    until("protection taken again", Duration::from_secs(5), || n(&calls) >= 4).await;
    assert_eq!(calls.lock().unwrap()[3], enable);
    let pid = node.child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503, "not ready while draining");
    let status = tokio::time::timeout(Duration::from_secs(15), node.child.wait()).await.expect("exits").unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(calls.lock().unwrap().last(), Some(&disable), "{:?}", calls.lock().unwrap());
    assert!(nodes::live(table.as_ref()).await.unwrap().iter().all(|n| n.id != "protected-1"), "left the registry");
}

#[tokio::test]
async fn the_health_check_command_answers_for_a_running_tls_node_and_fails_without_one() {
    let node = spawn("health-1", &[("STRATUS_CONTROL_TLS", "self-signed".into())]);
    let check = |port: u16| {
        std::process::Command::new(env!("CARGO_BIN_EXE_stratus-media-node"))
            .arg("healthcheck")
            .env("STRATUS_MEDIA_ADDR", format!("0.0.0.0:{port}"))
            .env("STRATUS_CONTROL_TLS", "self-signed")
            .output()
            .unwrap()
    };
    let mut ok = false;
    for _ in 0..50 {
        if check(node.port).status.success() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "healthcheck never succeeded against the running node");
    let none = check(process::free_port());
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("healthz"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_load_reaches_cloudwatch_for_autoscaling() {
    let service = aws::unique_name("media");
    let node =
        spawn("metrics-1", &[("STRATUS_METRICS_SERVICE", service.clone()), ("STRATUS_METRICS_SECS", "1".into())]);
    let base = format!("http://127.0.0.1:{}", node.port);
    let mut joined = None;
    for _ in 0..50 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            joined = Some(member(&base, "busy", None).await);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    joined.expect("the node answered");
    // Read back with a query of our own (moto does not check signatures; the credential
    // scope in the header routes the request to its CloudWatch).
    let stat = |metric: &'static str, statistic: &'static str| {
        let service = service.clone();
        async move {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            let iso =
                |t: u64| humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(t)).to_string();
            let body = form_urlencoded::Serializer::new(String::new())
                .append_pair("Action", "GetMetricStatistics")
                .append_pair("Version", "2010-08-01")
                .append_pair("Namespace", "Stratus/MediaNodes")
                .append_pair("MetricName", metric)
                .append_pair("Dimensions.member.1.Name", "Service")
                .append_pair("Dimensions.member.1.Value", &service)
                .append_pair("StartTime", &iso(now - 600))
                .append_pair("EndTime", &iso(now + 60))
                .append_pair("Period", "60")
                .append_pair("Statistics.member.1", statistic)
                .finish();
            let xml = reqwest::Client::new()
                .post(format!("{}/", aws::endpoint().url))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("authorization", "AWS4-HMAC-SHA256 Credential=test/20261201/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=0")
                .body(body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            xml.split(&format!("<{statistic}>"))
                .skip(1)
                .filter_map(|rest| rest.split('<').next()?.trim().parse::<f64>().ok())
                .fold(0.0, f64::max)
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let participants = stat("Participants", "Maximum").await;
        let nodes = stat("Nodes", "Sum").await;
        if participants >= 1.0 && nodes >= 1.0 {
            break;
        }
        assert!(Instant::now() < deadline, "Participants {participants}, Nodes {nodes} after 10 s");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
