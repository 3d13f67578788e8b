//! The local stack's one run command, as a user runs it: the binary starts, prints where it
//! listens and a working set of development credentials, serves the API, and logs one JSON
//! line per request with the request id.

use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

struct Local {
    base: String,
    app_key: String,
    app_secret: String,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
    _child: Child,
}

/// Starts `stratus-local` on a free port and reads its banner.
async fn start(args: &[&str], envs: &[(&str, &str)]) -> Local {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stratus-local"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .envs(envs.iter().copied())
        .env_remove("STRATUS_DEV_APP_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn stratus-local");
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut key, mut secret) = (None, None, None);
    let read = async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if let Some(url) = line.trim().strip_prefix("listening on ") {
                base = Some(url.to_owned());
            }
            if let Some(rest) = line.split("key=").nth(1) {
                let mut parts = rest.split(" secret=");
                key = parts.next().map(str::to_owned);
                secret = parts.next().map(|s| s.trim().to_owned());
            }
            if line.starts_with("Health:") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read).await.expect("banner within 30 s");
    // Keep draining stderr so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });
    Local {
        base: base.expect("banner names the URL"),
        app_key: key.expect("banner names the app key"),
        app_secret: secret.expect("banner names the app secret"),
        stdout,
        _child: child,
    }
}

impl Local {
    async fn mint(&self, http: &reqwest::Client, user: &str) -> reqwest::Response {
        http.post(format!("{}/auth/token", self.base))
            .json(&json!({"app_key": self.app_key, "app_secret": self.app_secret, "user_id": user}))
            .send()
            .await
            .unwrap()
    }

    /// The next JSON log line matching `pred`, within 10 s.
    async fn log_line(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        let find = async {
            while let Some(line) = self.stdout.next_line().await.unwrap() {
                let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("non-JSON log line: {line}"));
                if pred(&v) {
                    return v;
                }
            }
            panic!("log ended");
        };
        tokio::time::timeout(Duration::from_secs(10), find).await.expect("log line within 10 s")
    }
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

    let res = local.mint(&http, "alice").await;
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
        assert_eq!(local.mint(&http, "bob").await.status(), 200);
    }
    // The refresh tokens minted above are items in that table on the endpoint.
    let client = stratus_tests::aws::dynamodb().await;
    let scan = client.scan().table_name(&table).send().await.unwrap();
    assert_eq!(scan.count(), 2, "one refresh-token record per mint");
}
