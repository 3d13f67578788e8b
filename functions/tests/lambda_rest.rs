//! The REST function binary, end to end: its real `main` initialises against moto
//! (DynamoDB table, Secrets Manager credentials), then serves API Gateway HTTP API (v2)
//! events from `tests/fixtures/apigw-http/` handed to it through the Lambda Runtime API.

use serde_json::{Value, json};
use std::process::Stdio;
use stratus_core::store::schema::MAIN;
use stratus_tests::aws;
use stratus_tests::lambda::{RuntimeApi, fixture};
use stratus_tests::rest::random_hex;

struct Function {
    runtime: RuntimeApi,
    _child: tokio::process::Child,
}

async fn start_function(table: &str, secret_arn: &str) -> Function {
    let runtime = RuntimeApi::start().await;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_stratus-rest"));
    cmd.envs(runtime.env("stratus-rest"))
        .envs(aws::sdk_env())
        .env(MAIN.name_env, table)
        .env("STRATUS_CREDENTIALS_SECRET", secret_arn)
        .env("STRATUS_WS_MANAGEMENT_ENDPOINT", "http://127.0.0.1:9/prod")
        .env("STRATUS_SIGNALING_URL", "wss://abc123ws.execute-api.us-east-1.amazonaws.com/prod")
        .stdout(Stdio::null())
        .kill_on_drop(true);
    let child = cmd.spawn().expect("spawn stratus-rest");
    Function { runtime, _child: child }
}

/// The API Gateway v2 response body, parsed.
fn body(res: &Value) -> Value {
    let raw = res["body"].as_str().unwrap_or("");
    serde_json::from_str(raw).unwrap_or(Value::Null)
}

#[tokio::test]
async fn rest_function_serves_api_gateway_http_events_from_fixtures() {
    let client = aws::dynamodb().await;
    let table = aws::unique_name("fn-rest");
    stratus_dynamo::create_table(&client, &MAIN, &table).await.unwrap();
    let app_secret = random_hex();
    let arn = aws::create_secret(&json!({"jwt_secret": random_hex(), "apps": {"fixture-app": app_secret}})).await;
    let f = start_function(&table, &arn).await;

    // Health: the function reached DynamoDB on moto.
    let res = f.runtime.invoke(fixture("apigw-http/get-health-detailed.json")).await.expect("health response");
    assert_eq!(res["statusCode"], 200, "{res}");
    let h = body(&res);
    assert_eq!(h["checks"]["dynamodb"]["status"], "ok");
    assert_eq!(h["checks"]["dynamodb"]["target"], format!("dynamodb:{table}"));

    // Mint with the app credentials from Secrets Manager.
    let mut ev = fixture("apigw-http/post-auth-token.json");
    let req = json!({"app_key": "fixture-app", "app_secret": app_secret, "user_id": "lambda-user",
                     "grants": {"room": "r1", "canPublish": true}});
    ev["body"] = json!(req.to_string());
    let res = f.runtime.invoke(ev.clone()).await.expect("token response");
    assert_eq!(res["statusCode"], 200, "{res}");
    let access = body(&res)["access_token"].as_str().expect("access token").to_owned();

    // The same body base64-encoded, as API Gateway sends some payloads.
    use base64::Engine;
    ev["isBase64Encoded"] = json!(true);
    ev["body"] = json!(base64::engine::general_purpose::STANDARD.encode(req.to_string()));
    let res = f.runtime.invoke(ev.clone()).await.expect("token response");
    assert_eq!(res["statusCode"], 200, "{res}");

    // Validate, and API Gateway's request id becomes ours.
    let mut ev = fixture("apigw-http/get-auth-validate.json");
    ev["headers"]["authorization"] = json!(format!("Bearer {access}"));
    let res = f.runtime.invoke(ev.clone()).await.expect("validate response");
    assert_eq!(res["statusCode"], 200, "{res}");
    let v = body(&res);
    assert_eq!(v["claims"]["user_id"], "lambda-user");
    assert_eq!(v["claims"]["grants"]["room"], "r1");
    assert_eq!(res["headers"]["x-request-id"], "Cx9dWk2BoAMEb2R=");

    // Failures keep the error shape through the Lambda response too.
    ev["headers"]["authorization"] = json!("Bearer not-a-token");
    let res = f.runtime.invoke(ev).await.expect("validate response");
    assert_eq!(res["statusCode"], 401);
    let e = body(&res);
    assert_eq!(e["error"]["code"], "AUTH_TOKEN_INVALID");
    assert_eq!(e["request_id"], "Cx9dWk2BoAMEb2R=");

    // Wrong secrets are counted per the event's sourceIp: ten from one address lock it for the
    // minute, another address is not locked.
    let guess = |ip: &str, secret: &str| {
        let mut ev = fixture("apigw-http/post-auth-token.json");
        ev["requestContext"]["http"]["sourceIp"] = json!(ip);
        ev["body"] = json!(json!({"app_key": "fixture-app", "app_secret": secret, "user_id": "u"}).to_string());
        ev
    };
    for _ in 0..10 {
        let res = f.runtime.invoke(guess("198.51.100.66", "wrong-secret-0123456789")).await.expect("response");
        assert_eq!(res["statusCode"], 401);
    }
    let res = f.runtime.invoke(guess("198.51.100.66", &app_secret)).await.expect("response");
    assert_eq!((res["statusCode"].as_u64(), body(&res)["error"]["code"].as_str()), (Some(429), Some("RATE_LIMITED")));
    let res = f.runtime.invoke(guess("203.0.113.7", &app_secret)).await.expect("response");
    assert_eq!(res["statusCode"], 200, "{res}");

    let mut ev = fixture("apigw-http/post-auth-token.json");
    ev["body"] = json!("{not json");
    let res = f.runtime.invoke(ev.clone()).await.expect("response");
    assert_eq!(res["statusCode"], 400);
    assert_eq!(body(&res)["error"]["code"], "INVALID_REQUEST");

    ev["rawPath"] = json!("/nowhere");
    ev["requestContext"]["http"]["path"] = json!("/nowhere");
    let res = f.runtime.invoke(ev).await.expect("response");
    assert_eq!(res["statusCode"], 404);
    assert_eq!(body(&res)["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn rest_function_reports_an_init_error_without_revealing_secrets() {
    let secret_value = random_hex();
    // A document with a too-short signing secret and a real-looking app secret.
    let arn = aws::create_secret(&json!({"jwt_secret": "short", "apps": {"a": secret_value}})).await;
    let runtime = RuntimeApi::start().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_stratus-rest"))
        .envs(runtime.env("stratus-rest"))
        .envs(aws::sdk_env())
        .env(MAIN.name_env, "unused")
        .env("STRATUS_CREDENTIALS_SECRET", &arn)
        .output()
        .await
        .expect("run stratus-rest");
    assert!(!out.status.success(), "init must fail");
    let logs = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(logs.contains("jwt_secret must be at least 32 bytes"), "{logs}");
    assert!(!logs.contains(&secret_value), "the app secret must not be logged");
}

#[tokio::test]
async fn rest_function_keeps_each_apps_users_apart() {
    let client = aws::dynamodb().await;
    let table = aws::unique_name("fn-rest");
    stratus_dynamo::create_table(&client, &MAIN, &table).await.unwrap();
    let (a_secret, b_secret) = (random_hex(), random_hex());
    let arn =
        aws::create_secret(&json!({"jwt_secret": random_hex(), "apps": {"app-a": a_secret, "app-b": b_secret}})).await;
    let f = start_function(&table, &arn).await;
    let call = |method: &str, path: &str, token: Option<&str>, payload: Option<Value>| {
        let mut ev = fixture("apigw-http/get-auth-validate.json");
        ev["rawPath"] = json!(path);
        ev["requestContext"]["http"]["path"] = json!(path);
        ev["requestContext"]["http"]["method"] = json!(method);
        match token {
            Some(t) => ev["headers"]["authorization"] = json!(format!("Bearer {t}")),
            None => drop(ev["headers"].as_object_mut().unwrap().remove("authorization")),
        }
        if let Some(b) = payload {
            ev["headers"]["content-type"] = json!("application/json");
            ev["body"] = json!(b.to_string());
        }
        let f = &f;
        async move {
            let res = f.runtime.invoke(ev).await.expect("response");
            (res["statusCode"].as_u64().unwrap_or(0), body(&res))
        }
    };
    let token = |app: &'static str, secret: String, user: &'static str| {
        let call = &call;
        async move {
            let req = json!({"app_key": app, "app_secret": secret, "user_id": user});
            let (s, b) = call("POST", "/auth/token", None, Some(req)).await;
            assert_eq!(s, 200, "{b}");
            b["access_token"].as_str().unwrap().to_owned()
        }
    };
    let (a_alice, b_bob, b_carol) = (
        token("app-a", a_secret.clone(), "alice").await,
        token("app-b", b_secret.clone(), "bob").await,
        token("app-b", b_secret.clone(), "carol").await,
    );
    // App B's bob sets himself busy; app A's alice asking after `bob` learns of A's bob only.
    let (s, b) = call("PUT", "/api/v1/presence/status", Some(&b_bob), Some(json!({"status": "busy"}))).await;
    assert_eq!(s, 200, "{b}");
    // (Offline, both show `offline`; only B's bob has been seen, by his update.)
    let (_, p) = call("GET", "/api/v1/presence/status/bob", Some(&a_alice), None).await;
    assert_eq!((p["status"].as_str(), p.get("last_seen")), (Some("offline"), None), "A's bob was never seen: {p}");
    let (_, p) = call("GET", "/api/v1/presence/status/bob", Some(&b_carol), None).await;
    assert!(p["last_seen"].is_string(), "B's bob was: {p}");
    // One app's key with the other's secret mints nothing.
    let req = json!({"app_key": "app-a", "app_secret": b_secret, "user_id": "mallory"});
    let (s, e) = call("POST", "/auth/token", None, Some(req)).await;
    assert_eq!((s, e["error"]["code"].as_str()), (401, Some("INVALID_CREDENTIALS")), "{e}");
}

/// An API Gateway v2 event for `method path` with a bearer token and a JSON body.
fn event(method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let mut ev = fixture("apigw-http/post-auth-token.json");
    ev["rawPath"] = json!(path);
    ev["requestContext"]["http"]["path"] = json!(path);
    ev["requestContext"]["http"]["method"] = json!(method);
    ev["headers"]["authorization"] = json!(format!("Bearer {token}"));
    ev["body"] = json!(body.map(|b| b.to_string()).unwrap_or_default());
    ev
}

#[tokio::test]
async fn rest_function_signs_attachment_uploads_and_downloads_for_its_bucket() {
    let client = aws::dynamodb().await;
    let table = aws::unique_name("fn-chat");
    stratus_dynamo::create_table(&client, &MAIN, &table).await.unwrap();
    let objects = aws::s3_objects().await;
    let app_secret = random_hex();
    let arn = aws::create_secret(&json!({"jwt_secret": random_hex(), "apps": {"fixture-app": app_secret}})).await;
    let runtime = RuntimeApi::start().await;
    let _child = tokio::process::Command::new(env!("CARGO_BIN_EXE_stratus-rest"))
        .envs(runtime.env("stratus-rest"))
        .envs(aws::sdk_env())
        .env(MAIN.name_env, &table)
        .env("STRATUS_CREDENTIALS_SECRET", &arn)
        .env("STRATUS_WS_MANAGEMENT_ENDPOINT", "http://127.0.0.1:9/prod")
        .env("STRATUS_SIGNALING_URL", "wss://abc123ws.execute-api.us-east-1.amazonaws.com/prod")
        .env("STRATUS_ATTACHMENTS_BUCKET", objects.bucket())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn stratus-rest");
    let mut mint = fixture("apigw-http/post-auth-token.json");
    mint["body"] = json!(json!({"app_key": "fixture-app", "app_secret": app_secret, "user_id": "ann"}).to_string());
    let token = body(&runtime.invoke(mint).await.expect("token"))["access_token"].as_str().unwrap().to_owned();

    let ok = |res: &Value, status: u64| {
        assert_eq!(res["statusCode"], status, "{res}");
        body(res)
    };
    let s = ok(
        &runtime
            .invoke(event(
                "POST",
                "/api/v1/chat/sessions",
                &token,
                Some(json!({"participants": ["ben"], "is_group": true})),
            ))
            .await
            .unwrap(),
        201,
    )["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = b"%PDF-1.4 the minutes".to_vec();
    let req = json!({"file_name": "minutes.pdf", "content_type": "application/pdf", "size": file.len()});
    let t = ok(
        &runtime
            .invoke(event("POST", &format!("/api/v1/chat/sessions/{s}/attachments"), &token, Some(req)))
            .await
            .unwrap(),
        201,
    );
    // The ticket points into the bucket the template names, on the SDK's endpoint (moto).
    assert!(
        t["upload_url"].as_str().unwrap().starts_with(&format!(
            "{}/{}/chat/fixture-app/{s}/",
            aws::endpoint().url,
            objects.bucket()
        )),
        "{t}"
    );
    let headers = t["upload_headers"].as_object().unwrap();
    let mut put = reqwest::Client::new().put(t["upload_url"].as_str().unwrap()).body(file.clone());
    for (k, v) in headers.iter().filter(|(k, _)| *k != "content-length") {
        put = put.header(k.as_str(), v.as_str().unwrap());
    }
    assert!(put.send().await.unwrap().status().is_success());
    let a = t["attachment_id"].as_str().unwrap();
    let msg = json!({"type": "file", "attachment_id": a});
    ok(
        &runtime
            .invoke(event("POST", &format!("/api/v1/chat/sessions/{s}/messages"), &token, Some(msg)))
            .await
            .unwrap(),
        201,
    );
    let d = ok(
        &runtime
            .invoke(event("GET", &format!("/api/v1/chat/sessions/{s}/attachments/{a}"), &token, None))
            .await
            .unwrap(),
        200,
    );
    let got = reqwest::get(d["download_url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(got.to_vec(), file);
}
