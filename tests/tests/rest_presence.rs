//! Presence routes and per-user rate limits through the real router, on both stores.

use axum::http::{Method, StatusCode};
use serde_json::json;
use stratus_core::clock::Clock;
use stratus_tests::rest::TestApi;

async fn presence_follows_connections_status_and_calls(api: TestApi) {
    let (ta, tb) = (api.token("alice").await, api.token("bob").await);
    let get = |path: String, t: String| {
        let api = &api;
        async move { api.call(Method::GET, &path, Some(&t), None).await }
    };
    let p = get("/api/v1/presence/status/alice".into(), tb.clone()).await;
    assert_eq!((p.body["status"].as_str(), p.body["online"].as_bool()), (Some("offline"), Some(false)));
    assert!(p.body["last_seen"].is_null(), "never seen");

    api.connect_ws("a1=", "alice").await;
    let p = get("/api/v1/presence/status/alice".into(), tb.clone()).await;
    assert_eq!((p.body["status"].as_str(), p.body["online"].as_bool()), (Some("online"), Some(true)));
    assert!(p.body["last_seen"].as_str().is_some(), "connecting counts as seen");
    let c = get("/api/v1/presence/check/alice".into(), tb.clone()).await;
    assert_eq!(c.body["available"], true);

    let put = api
        .call(Method::PUT, "/api/v1/presence/status", Some(&ta), Some(json!({"status": "away", "message": "lunch"})))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let p = get("/api/v1/presence/status/alice".into(), tb.clone()).await;
    assert_eq!((p.body["status"].as_str(), p.body["message"].as_str()), (Some("away"), Some("lunch")));
    for bad in
        [json!({"status": "sleeping"}), json!({"status": "away", "message": "x".repeat(141)}), json!({"mood": "ok"})]
    {
        api.call(Method::PUT, "/api/v1/presence/status", Some(&ta), Some(bad))
            .await
            .assert_error(400, "VALIDATION_ERROR");
    }
    api.call(Method::PUT, "/api/v1/presence/status", Some(&ta), Some(json!({"status": "online"}))).await;

    // In a call: online but not available.
    api.connect_ws("b1=", "bob").await;
    let init = api
        .call(
            Method::POST,
            "/api/v1/calls/initiate",
            Some(&tb),
            Some(json!({"caller_id": "bob", "callee_id": "alice", "call_type": "voice"})),
        )
        .await;
    assert_eq!(init.status, StatusCode::CREATED);
    let c = get("/api/v1/presence/check/alice".into(), tb.clone()).await;
    assert_eq!((c.body["available"].as_bool(), c.body["in_call"].as_bool()), (Some(false), Some(true)));
    api.call(Method::PUT, "/api/v1/presence/status", Some(&ta), Some(json!({"status": "dnd"}))).await;
    let id = init.body["call_id"].as_str().unwrap();
    api.call(Method::DELETE, &format!("/api/v1/calls/{id}"), Some(&tb), None).await;
    let c = get("/api/v1/presence/check/alice".into(), tb.clone()).await;
    assert_eq!(
        (c.body["available"].as_bool(), c.body["status"].as_str()),
        (Some(false), Some("dnd")),
        "dnd is not available"
    );

    // Disconnecting the last connection: offline, last seen then.
    api.clock.advance_secs(30);
    api.signaling.disconnect(&"a1=".into(), api.clock.now_ms()).await;
    let p = get("/api/v1/presence/status/alice".into(), tb.clone()).await;
    assert_eq!(p.body["status"], "offline");
    let seen = p.body["last_seen"].as_str().unwrap().to_owned();
    assert_eq!(seen, stratus_core::clock::rfc3339_ms(api.clock.now_ms()));

    get("/api/v1/presence/status/bad%20id".into(), tb.clone()).await.assert_error(400, "VALIDATION_ERROR");
    api.call(Method::GET, "/api/v1/presence/status/alice", None, None).await.assert_error(401, "AUTH_TOKEN_MISSING");
}
stratus_tests::on_both_stores!(presence, presence_follows_connections_status_and_calls);

async fn rate_limits_hold_across_instances_and_reset_each_minute(api: TestApi) {
    // A second API instance on the same table (another Lambda instance).
    let other = TestApi::on(api.table.clone(), api.clock.clone());
    api.connect_ws("b1=", "bob").await;
    let (t1, t2) = (api.token("alice").await, other.token("alice").await);
    let minute_start = (api.clock.now_ms() / 60_000 + 1) * 60_000;
    api.clock.advance_ms(minute_start - api.clock.now_ms());
    let body = json!({"caller_id": "alice", "callee_id": "bob", "call_type": "voice"});
    for i in 0..10 {
        let (inst, t) = if i % 2 == 0 { (&api, &t1) } else { (&other, &t2) };
        let r = inst.call(Method::POST, "/api/v1/calls/initiate", Some(t), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::CREATED, "initiation {i}: {}", r.text);
        let id = r.body["call_id"].as_str().unwrap();
        inst.call(Method::DELETE, &format!("/api/v1/calls/{id}"), Some(t), None).await;
    }
    api.clock.advance_secs(20);
    let r = other.call(Method::POST, "/api/v1/calls/initiate", Some(&t2), Some(body.clone())).await;
    r.assert_error(429, "RATE_LIMITED");
    assert_eq!(r.headers["retry-after"], "40");
    api.clock.advance_secs(40);
    assert_eq!(
        api.call(Method::POST, "/api/v1/calls/initiate", Some(&t1), Some(body)).await.status,
        StatusCode::CREATED
    );

    // 100 presence updates and 100 history queries a minute.
    let minute_start = (api.clock.now_ms() / 60_000 + 1) * 60_000;
    api.clock.advance_ms(minute_start - api.clock.now_ms());
    for _ in 0..100 {
        let r = api.call(Method::PUT, "/api/v1/presence/status", Some(&t1), Some(json!({"status": "online"}))).await;
        assert_eq!(r.status, StatusCode::OK);
        let h = api.call(Method::GET, "/api/v1/calls/user/alice/history?limit=1", Some(&t1), None).await;
        assert_eq!(h.status, StatusCode::OK);
    }
    api.call(Method::PUT, "/api/v1/presence/status", Some(&t1), Some(json!({"status": "online"})))
        .await
        .assert_error(429, "RATE_LIMITED");
    api.call(Method::GET, "/api/v1/calls/user/alice/history", Some(&t1), None).await.assert_error(429, "RATE_LIMITED");
    // Another user is not limited by alice's use.
    let tb = api.token("bob").await;
    assert_eq!(api.call(Method::GET, "/api/v1/calls/user/bob/history", Some(&tb), None).await.status, StatusCode::OK);
}
stratus_tests::on_both_stores!(rate_limits, rate_limits_hold_across_instances_and_reset_each_minute);
