//! The local stack's one run command, as a user runs it: the binary starts, prints where it
//! listens and a working set of development credentials, serves the API, and logs one JSON
//! line per request with the request id.

use serde_json::{Value, json};
use stratus_tests::local::LocalStack;

async fn start(args: &[&str], envs: &[(&str, &str)]) -> LocalStack {
    LocalStack::start(env!("CARGO_BIN_EXE_stratus-local"), args, envs).await
}

#[tokio::test]
async fn run_command_serves_health_and_mints_tokens_with_the_printed_credentials() {
    let mut local = start(&[], &[]).await;
    assert!(local.base.starts_with("http://127.0.0.1:"), "loopback only: {}", local.base);
    let http = reqwest::Client::new();
    let h: Value = http.get(format!("{}/health", local.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(h["status"], "ok");
    let d: Value = http.get(format!("{}/health/detailed", local.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(d["checks"]["store"]["target"], "memory:stratus-main", "embedded store by default");

    let res = local.mint_response(&http, "alice").await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let v = http
        .get(format!("{}/auth/validate", local.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .header("x-request-id", "local-trace-1")
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), 200);
    let line = local.log_line(|v| v["span"]["request_id"] == "local-trace-1").await;
    assert_eq!(line["status"], 200);
    assert_eq!(line["span"]["path"], "/auth/validate");
    assert!(line["latency_ms"].as_f64().is_some());

    let bad = json!({"app_key": local.app_key, "app_secret": "wrong-secret-value", "user_id": "alice"});
    let r = http.post(format!("{}/auth/token", local.base)).json(&bad).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Request bodies (and the secrets in them) never reach the logs.
    let line = local.log_line(|v| v["status"] == 401).await;
    assert_eq!(line["span"]["path"], "/auth/token");
    assert!(!line.to_string().contains("wrong-secret-value"));
}

#[tokio::test]
async fn run_command_uses_a_dynamodb_endpoint_when_given_one() {
    let ep = stratus_tests::aws::endpoint();
    let table = stratus_tests::aws::unique_name("local");
    // Once by flag, once by environment variable.
    for (args, envs) in [
        (vec!["--dynamodb-endpoint", ep.url.as_str(), "--table", table.as_str()], vec![]),
        (vec![], vec![("STRATUS_DYNAMODB_ENDPOINT", ep.url.as_str()), ("STRATUS_TABLE", table.as_str())]),
    ] {
        let local = start(&args, &envs).await;
        let http = reqwest::Client::new();
        let d: Value = http.get(format!("{}/health/detailed", local.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(d["checks"]["dynamodb"]["status"], "ok", "{d}");
        assert_eq!(d["checks"]["dynamodb"]["target"], format!("dynamodb:{table}"));
        assert_eq!(local.mint_response(&http, "bob").await.status(), 200);
    }
    // The refresh tokens minted above are items in that table on the endpoint, in the dev
    // app's namespace (beside the registry entries of the stacks' media nodes, which belong to
    // no app).
    let client = stratus_tests::aws::dynamodb().await;
    let scan = client.scan().table_name(&table).send().await.unwrap();
    let refresh = scan
        .items()
        .iter()
        .filter(|i| i.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with("APP#dev#REFRESH#")))
        .count();
    assert_eq!(refresh, 2, "one refresh-token record per mint");
    let nodes = scan
        .items()
        .iter()
        .filter(|i| i.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with("NODE#")))
        .count();
    assert_eq!(nodes, 2, "each stack registered its media node in the same table");
    assert_eq!(refresh + nodes, scan.items().len(), "nothing else, and nothing outside a namespace");
}

#[tokio::test]
async fn wrong_secrets_from_one_address_lock_that_address_only() {
    let local = start(&[], &[]).await;
    let from = |ip: [u8; 4]| reqwest::Client::builder().local_address(std::net::IpAddr::from(ip)).build().unwrap();
    let (guesser, backend) = (from([127, 0, 0, 1]), from([127, 0, 0, 2]));
    let body = |secret: &str| json!({"app_key": local.app_key, "app_secret": secret, "user_id": "alice"});
    let url = format!("{}/auth/token", local.base);
    for _ in 0..10 {
        assert_eq!(guesser.post(&url).json(&body("guess-0123456789")).send().await.unwrap().status(), 401);
    }
    let locked = guesser.post(&url).json(&body(&local.app_secret)).send().await.unwrap();
    assert_eq!(locked.status(), 429);
    assert!(locked.headers().contains_key("retry-after"));
    // The app's own back end, from another address, is not locked out by the guesser.
    assert_eq!(backend.post(&url).json(&body(&local.app_secret)).send().await.unwrap().status(), 200);
}
