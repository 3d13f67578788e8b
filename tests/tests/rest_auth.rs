//! Auth through the real router: minting, validation, refresh rotation, and every kind of
//! bad token refused with 401 in the error shape.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use stratus_core::clock::Clock;
use stratus_tests::rest::{APP_KEY, ISSUER, TestApi};

fn claims(api: &TestApi, overrides: Value) -> Value {
    let now = api.clock.now_secs();
    let mut c = json!({
        "iss": ISSUER, "sub": "mallory", "user_id": "mallory", "role": "user",
        "grants": {"canPublish": true, "canSubscribe": true, "admin": true},
        "app": APP_KEY, "token_type": "access", "jti": "j1",
        "iat": now, "nbf": now, "exp": now + 600,
    });
    for (k, v) in overrides.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn sign(secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret)).unwrap()
}

#[tokio::test]
async fn app_credentials_mint_a_token_that_validates_with_its_claims() {
    let api = TestApi::memory();
    let mut req = api.token_request("alice");
    req["email"] = json!("alice@example.com");
    req["full_name"] = json!("Alice Liddell");
    req["role"] = json!("moderator");
    req["grants"] = json!({"room": "standup", "canPublish": true, "canSubscribe": false, "admin": false});
    req["ttl_seconds"] = json!(120);
    let r = api.post("/auth/token", req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 120);
    let access = r.body["access_token"].as_str().unwrap();

    let v = api.get("/auth/validate", Some(access)).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    let c = &v.body["claims"];
    assert_eq!(v.body["valid"], true);
    assert_eq!(c["user_id"], "alice");
    assert_eq!(c["sub"], "alice");
    assert_eq!(c["email"], "alice@example.com");
    assert_eq!(c["full_name"], "Alice Liddell");
    assert_eq!(c["role"], "moderator");
    assert_eq!(c["token_type"], "access");
    assert_eq!(c["grants"], json!({"room": "standup", "canPublish": true, "canSubscribe": false, "admin": false}));
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 120);
    assert!(c["jti"].as_str().is_some_and(|j| !j.is_empty()));
}

#[tokio::test]
async fn wrong_app_credentials_are_refused() {
    let api = TestApi::memory();
    let mut bad_secret = api.token_request("alice");
    bad_secret["app_secret"] = json!("not-the-secret");
    api.post("/auth/token", bad_secret).await.assert_error(401, "INVALID_CREDENTIALS");
    let mut bad_key = api.token_request("alice");
    bad_key["app_key"] = json!("other-app");
    api.post("/auth/token", bad_key).await.assert_error(401, "INVALID_CREDENTIALS");
}

async fn wrong_secrets_past_ten_a_minute_lock_the_key_for_that_minute(api: TestApi) {
    let mut bad = api.token_request("alice");
    bad["app_secret"] = json!("not-the-secret");
    for _ in 0..10 {
        api.post("/auth/token", bad.clone()).await.assert_error(401, "INVALID_CREDENTIALS");
    }
    // The eleventh try, and the right secret too, wait for the minute to turn.
    api.post("/auth/token", bad.clone()).await.assert_error(429, "RATE_LIMITED");
    let locked = api.post("/auth/token", api.token_request("alice")).await;
    locked.assert_error(429, "RATE_LIMITED");
    let wait: u64 = locked.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Another app key is counted apart.
    let mut other = api.token_request("alice");
    other["app_key"] = json!("other-app");
    api.post("/auth/token", other).await.assert_error(401, "INVALID_CREDENTIALS");
    api.clock.advance_secs(wait as i64);
    assert_eq!(api.post("/auth/token", api.token_request("alice")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn credential_guessing_is_limited_on_the_embedded_store() {
    wrong_secrets_past_ten_a_minute_lock_the_key_for_that_minute(TestApi::memory()).await;
}

#[tokio::test]
async fn credential_guessing_is_limited_on_dynamodb() {
    wrong_secrets_past_ten_a_minute_lock_the_key_for_that_minute(TestApi::dynamodb().await).await;
}

#[tokio::test]
async fn token_requests_with_bad_fields_get_validation_errors() {
    let api = TestApi::memory();
    for (field, value) in [
        ("user_id", json!("")),
        ("user_id", json!("has#hash")),
        ("user_id", json!("x".repeat(129))),
        ("ttl_seconds", json!(0)),
        ("ttl_seconds", json!(24 * 3600 + 1)),
        ("email", json!("e".repeat(300))),
    ] {
        let mut req = api.token_request("alice");
        req[field] = value;
        let msg = api.post("/auth/token", req).await.assert_error(400, "VALIDATION_ERROR");
        assert!(msg.contains(field), "{field}: {msg}");
    }
    let mut room = api.token_request("alice");
    room["grants"]["room"] = json!("bad room");
    api.post("/auth/token", room).await.assert_error(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn every_bad_token_kind_gets_401_in_the_error_shape() {
    let api = TestApi::memory();
    let minted = api.mint("alice").await;
    let access = minted["access_token"].as_str().unwrap().to_owned();
    let refresh = minted["refresh_token"].as_str().unwrap().to_owned();
    let secret = api.jwt_secret.as_bytes();

    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none_body = URL_SAFE_NO_PAD.encode(claims(&api, json!({})).to_string());
    let alg_none = format!("{none_header}.{none_body}.");
    let (h, rest) = access.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let tampered =
        format!("{h}.{}.{sig}", URL_SAFE_NO_PAD.encode(claims(&api, json!({"user_id": "root"})).to_string()));
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(&api, json!({})),
        &EncodingKey::from_secret(secret),
    )
    .unwrap();

    let cases: Vec<(&str, String, &str)> = vec![
        ("garbage", "not.a.jwt".into(), "AUTH_TOKEN_INVALID"),
        ("alg none", alg_none, "AUTH_TOKEN_INVALID"),
        ("other algorithm", hs512, "AUTH_TOKEN_INVALID"),
        ("wrong key", sign(b"another-secret-of-32-bytes-or-more!!", &claims(&api, json!({}))), "AUTH_TOKEN_INVALID"),
        ("tampered payload", tampered, "AUTH_TOKEN_INVALID"),
        ("wrong issuer", sign(secret, &claims(&api, json!({"iss": "someone-else"}))), "AUTH_TOKEN_INVALID"),
        (
            "not yet valid",
            sign(secret, &claims(&api, json!({"nbf": api.clock.now_secs() + 3600}))),
            "AUTH_TOKEN_INVALID",
        ),
        (
            "already expired",
            sign(secret, &claims(&api, json!({"exp": api.clock.now_secs() - 60}))),
            "AUTH_TOKEN_EXPIRED",
        ),
        ("refresh as access", refresh, "AUTH_TOKEN_INVALID"),
    ];
    for (kind, token, code) in cases {
        let r = api.get("/auth/validate", Some(&token)).await;
        r.assert_error(401, code);
        assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer", "{kind}");
    }
    // A correctly signed token of ours passes, so the cases above fail for their own reason.
    api.get("/auth/validate", Some(&sign(secret, &claims(&api, json!({})))))
        .await
        .status
        .is_success()
        .then_some(())
        .unwrap();

    api.get("/auth/validate", None).await.assert_error(401, "AUTH_TOKEN_MISSING");
    let basic = api
        .send(
            axum::http::Request::get("/auth/validate")
                .header("authorization", "Basic YTpi")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    basic.assert_error(401, "AUTH_TOKEN_MISSING");
}

#[tokio::test]
async fn access_tokens_expire_on_the_clock() {
    let api = TestApi::memory();
    let mut req = api.token_request("alice");
    req["ttl_seconds"] = json!(30);
    let access = api.post("/auth/token", req).await.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(api.get("/auth/validate", Some(&access)).await.status, StatusCode::OK);
    // Past `exp` and the clock-skew leeway (10 s).
    api.clock.advance_secs(30 + 10);
    api.get("/auth/validate", Some(&access)).await.assert_error(401, "AUTH_TOKEN_EXPIRED");
}

async fn refresh_rotates_and_each_refresh_token_works_once(api: TestApi) {
    let first = api.mint("carol").await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let second = api.post("/auth/refresh", json!({"refresh_token": r1})).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let access2 = second.body["access_token"].as_str().unwrap();
    let v = api.get("/auth/validate", Some(access2)).await;
    assert_eq!(v.body["claims"]["user_id"], "carol");
    assert_eq!(v.body["claims"]["grants"]["canPublish"], true, "grants carry over");

    api.post("/auth/refresh", json!({"refresh_token": r1})).await.assert_error(401, "AUTH_TOKEN_INVALID");
    let access1 = first["access_token"].as_str().unwrap();
    api.post("/auth/refresh", json!({"refresh_token": access1})).await.assert_error(401, "AUTH_TOKEN_INVALID");
    // That reuse ended the sign-in: the token minted from r1 is refused too, and a new
    // sign-in is not affected.
    let r2 = second.body["refresh_token"].as_str().unwrap();
    api.post("/auth/refresh", json!({"refresh_token": r2})).await.assert_error(401, "AUTH_TOKEN_INVALID");
    let again = api.mint("carol").await;
    let fresh = api.post("/auth/refresh", json!({"refresh_token": again["refresh_token"]})).await;
    assert_eq!(fresh.status, StatusCode::OK);
    let r = fresh.body["refresh_token"].as_str().unwrap();
    assert_eq!(api.post("/auth/refresh", json!({"refresh_token": r})).await.status, StatusCode::OK);

    // An expired refresh token is refused even though it was never used.
    let third = api.mint("carol").await;
    api.clock.advance_secs(31 * 24 * 3600);
    let r3 = third["refresh_token"].as_str().unwrap();
    api.post("/auth/refresh", json!({"refresh_token": r3})).await.assert_error(401, "AUTH_TOKEN_EXPIRED");
}

#[tokio::test]
async fn refresh_rotates_on_the_embedded_store() {
    refresh_rotates_and_each_refresh_token_works_once(TestApi::memory()).await;
}

#[tokio::test]
async fn refresh_rotates_on_dynamodb() {
    refresh_rotates_and_each_refresh_token_works_once(TestApi::dynamodb().await).await;
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_yield_one_new_pair() {
    let api = std::sync::Arc::new(TestApi::dynamodb().await);
    let minted = api.mint("dave").await;
    let token = minted["refresh_token"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (api, token) = (api.clone(), token.clone());
        tasks.push(tokio::spawn(async move { api.post("/auth/refresh", json!({"refresh_token": token})).await }));
    }
    let mut won = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        if r.status == StatusCode::OK {
            won.push(r.body);
        }
    }
    assert_eq!(won.len(), 1, "exactly one of the racing refreshes wins");
    // The others were reuses of a spent token: the sign-in is over, the winner's pair with it.
    let next = api.post("/auth/refresh", json!({"refresh_token": won[0]["refresh_token"]})).await;
    next.assert_error(401, "AUTH_TOKEN_INVALID");
}
