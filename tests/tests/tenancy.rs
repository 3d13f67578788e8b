//! Apps are tenants: two apps of one deployment (one table, one signing key) with the same
//! user ids and room names. Everything one app's users do, driven through the REST router and
//! the WebSocket front door with that app's tokens, finds nothing of the other app and
//! changes nothing of it (its partitions are read before and after). On both stores.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use stratus_core::clock::Clock;
use stratus_core::store::{Item, Query, query_all};
use stratus_core::tenant;
use stratus_protocol::ids::AppId;
use stratus_tests::on_both_stores;
use stratus_tests::rest::{APP_KEY as A, OTHER_APP_KEY as B, TestApi};

fn types(api: &TestApi, conn: &str) -> Vec<String> {
    api.sink.take(conn).iter().map(|m| m["type"].as_str().unwrap_or("?").to_owned()).collect()
}

/// Every item of app `app`'s partitions a user `user` and room `room` touch.
async fn partitions(api: &TestApi, app: &str, user: &str, room: &str, conns: &[&str]) -> Vec<Item> {
    let t = tenant::table(&api.table, &AppId::from(app));
    let mut pks =
        vec![format!("USER#{user}"), format!("HIST#{user}"), format!("HISTCOUNT#{user}"), format!("ROOM#{room}")];
    pks.extend(conns.iter().map(|c| format!("CONN#{c}")));
    let mut out = vec![];
    for pk in pks {
        out.extend(query_all(t.as_ref(), Query::table(pk)).await.expect("query"));
    }
    out
}

async fn ws(api: &TestApi, conn: &str, msg: Value) {
    api.signaling.message(&conn.into(), &msg.to_string(), api.clock.now_ms()).await;
}

async fn one_apps_users_never_reach_another_apps_user_of_the_same_name(api: TestApi) {
    // bob exists in both apps, online in both; app B's bob is busy.
    api.connect_ws_in(A, "a-bob", "bob").await;
    api.connect_ws_in(B, "b-bob", "bob").await;
    let (a_alice, b_bob) = (api.token_in(A, "alice").await, api.token_in(B, "bob").await);
    let r = api.call(Method::PUT, "/api/v1/presence/status", Some(&b_bob), Some(json!({"status": "busy"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // B's bob has a call history of his own, with B's carol.
    api.connect_ws_in(B, "b-carol", "carol").await;
    let b_carol = api.token_in(B, "carol").await;
    let body = json!({"caller_id": "carol", "callee_id": "bob", "call_type": "voice"});
    let r = api.call(Method::POST, "/api/v1/calls/initiate", Some(&b_carol), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let b_call = r.body["call_id"].as_str().unwrap().to_owned();
    let r = api.call(Method::DELETE, &format!("/api/v1/calls/{b_call}"), Some(&b_carol), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // B's carol is in B's room `standup`.
    ws(&api, "b-carol", json!({"type": "join", "room": "standup"})).await;
    for c in ["a-bob", "b-bob", "b-carol"] {
        api.sink.take(c);
    }
    let before = partitions(&api, B, "bob", "standup", &["b-bob", "b-carol"]).await;
    assert!(!before.is_empty());

    // App A's alice sees app A's bob: online and available, not B's busy bob.
    let r = api.get("/api/v1/presence/status/bob", Some(&a_alice)).await;
    assert_eq!((r.body["online"].clone(), r.body["status"].clone()), (json!(true), json!("online")), "{}", r.text);
    let r = api.get("/api/v1/presence/check/bob", Some(&a_alice)).await;
    assert_eq!((r.body["available"].clone(), r.body["status"].clone()), (json!(true), json!("online")), "{}", r.text);
    // Her call to `bob` rings A's bob only.
    api.connect_ws_in(A, "a-alice", "alice").await;
    let body = json!({"caller_id": "alice", "callee_id": "bob", "call_type": "video"});
    let r = api.call(Method::POST, "/api/v1/calls/initiate", Some(&a_alice), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let a_call = r.body["call_id"].as_str().unwrap().to_owned();
    assert_eq!(types(&api, "a-bob"), ["incoming-call"]);
    assert!(types(&api, "b-bob").is_empty(), "app B's bob was not rung");
    // B's bob cannot see, answer or end A's call, nor find it among his calls.
    for (m, path) in [
        (Method::GET, format!("/api/v1/calls/{a_call}/status")),
        (Method::PUT, format!("/api/v1/calls/{a_call}/answer")),
        (Method::DELETE, format!("/api/v1/calls/{a_call}")),
    ] {
        api.call(m, &path, Some(&b_bob), None).await.assert_error(404, "CALL_NOT_FOUND");
    }
    let r = api.get("/api/v1/calls/user/bob/active", Some(&b_bob)).await;
    assert_eq!(r.body["calls"], json!([]), "{}", r.text);
    // A's token for `bob` lists A's bob's calls (the ringing one), never B's bob's.
    let a_bob = api.token_in(A, "bob").await;
    let r = api.get("/api/v1/calls/user/bob/history", Some(&a_bob)).await;
    assert_eq!(r.body["pagination"]["total"], 1, "nothing of app B's history: {}", r.text);
    assert_eq!(
        (r.body["calls"][0]["call_id"].clone(), r.body["calls"][0]["peer_id"].clone()),
        (json!(a_call), json!("alice"))
    );
    // And A's alice cannot see B's call by id.
    api.get(&format!("/api/v1/calls/{b_call}/status"), Some(&a_alice)).await.assert_error(404, "CALL_NOT_FOUND");

    // P2P: the same room name in two apps is two rooms.
    ws(&api, "a-alice", json!({"type": "join", "room": "standup"})).await;
    let joined = api.sink.take("a-alice");
    let joined = joined.iter().find(|m| m["type"] == "joined").expect("joined");
    assert_eq!(joined["data"]["peers"], json!([]), "app B's carol is not in app A's standup");
    assert!(types(&api, "b-carol").is_empty(), "carol heard nothing of alice");
    // A relay aimed at another app's connection finds no such peer and reaches nobody.
    let offer = json!({"type": "offer", "to": "b-carol", "sdp": "v=0"});
    ws(&api, "a-alice", offer).await;
    let got = api.sink.take("a-alice");
    assert_eq!(got[0]["data"]["code"], "PEER_NOT_FOUND", "{got:?}");
    assert!(api.sink.take("b-carol").is_empty());
    let room_msg = json!({"type": "offer", "room": "standup", "sdp": "v=0"});
    ws(&api, "a-alice", room_msg).await;
    assert!(api.sink.take("b-carol").is_empty(), "a room relay stays in its app");
    // Leaving and disconnecting in app A leave app B's room and connections alone.
    ws(&api, "a-alice", json!({"type": "leave", "room": "standup"})).await;
    api.signaling.disconnect(&"a-bob".into(), api.clock.now_ms()).await;
    assert!(types(&api, "b-carol").is_empty());

    // Nothing of app B changed, item for item.
    let after = partitions(&api, B, "bob", "standup", &["b-bob", "b-carol"]).await;
    assert_eq!(after, before, "app B's partitions are as they were");
    // B's bob is still busy, online, and sees his own history only.
    let r = api.get("/api/v1/presence/status/bob", Some(&b_bob)).await;
    assert_eq!((r.body["online"].clone(), r.body["status"].clone()), (json!(true), json!("busy")), "{}", r.text);
    let r = api.get("/api/v1/presence/check/bob", Some(&b_carol)).await;
    assert_eq!(r.body["status"], "busy", "{}", r.text);
    let r = api.get("/api/v1/calls/user/bob/history", Some(&b_bob)).await;
    assert_eq!(r.body["pagination"]["total"], 1, "{}", r.text);
    assert_eq!(r.body["calls"][0]["call_id"], json!(b_call), "{}", r.text);
}
on_both_stores!(
    one_apps_users_never_reach_another_apps_user,
    one_apps_users_never_reach_another_apps_user_of_the_same_name
);

async fn nothing_is_stored_outside_an_apps_namespace_but_connection_owners(api: TestApi) {
    api.connect_ws_in(A, "a-1", "alice").await;
    let t = api.token_in(A, "alice").await;
    let r = api.call(Method::PUT, "/api/v1/presence/status", Some(&t), Some(json!({"status": "away"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for pk in ["USER#alice", "CONN#a-1", "RATE#alice#presence"] {
        let items = query_all(api.table.as_ref(), Query::table(pk)).await.unwrap();
        let sks: Vec<String> =
            items.iter().filter_map(|i| i.get("sk").and_then(|v| v.as_str()).map(str::to_owned)).collect();
        let want: &[&str] = if pk.starts_with("CONN#") { &["APP"] } else { &[] };
        assert_eq!(sks, want, "{pk} on the whole table");
    }
    let scoped = tenant::table(&api.table, &AppId::from(A));
    assert!(scoped.get(&stratus_core::records::connection::meta("a-1")).await.unwrap().is_some());
}
on_both_stores!(
    only_connection_owners_are_deployment_wide,
    nothing_is_stored_outside_an_apps_namespace_but_connection_owners
);

async fn an_apps_open_connections_are_refused_once_it_is_removed(api: TestApi) {
    api.connect_ws_in(B, "b-1", "carol").await;
    ws(&api, "b-1", json!({"type": "ping"})).await;
    assert_eq!(types(&api, "b-1"), ["pong"]);
    // The same deployment after an operator took app B out of the credentials secret.
    let mut cfg = api.auth.config().clone();
    cfg.apps.remove(B);
    let auth = std::sync::Arc::new(stratus_core::auth::Authority::new(cfg));
    let sig = stratus_core::signaling::Signaling::new(api.table.clone(), api.sink.clone(), auth, Default::default());
    sig.message(&"b-1".into(), &json!({"type": "ping"}).to_string(), api.clock.now_ms()).await;
    let got = api.sink.take("b-1");
    assert_eq!(
        (got[0]["type"].as_str(), got[0]["data"]["code"].as_str()),
        (Some("error"), Some("UNAUTHORIZED")),
        "{got:?}"
    );
    // App A is untouched.
    api.connect_ws_in(A, "a-1", "alice").await;
    sig.message(&"a-1".into(), &json!({"type": "ping"}).to_string(), api.clock.now_ms()).await;
    assert_eq!(types(&api, "a-1"), ["pong"]);
}
on_both_stores!(removed_apps_connections_are_refused, an_apps_open_connections_are_refused_once_it_is_removed);

async fn each_app_gets_its_own_limits(api: TestApi) {
    // The other app allows two connections per user, this one the deployment's five.
    for n in 0..2 {
        api.connect_ws_in(B, &format!("b-dave{n}"), "dave").await;
    }
    let t = api.token_in(B, "dave").await;
    let refused = api.signaling.connect(&"b-dave2".into(), Some(&t), api.clock.now_ms()).await.unwrap_err();
    assert_eq!((refused.status, refused.code.as_str()), (429, "TOO_MANY_CONNECTIONS"), "{refused:?}");
    for n in 0..3 {
        api.connect_ws_in(A, &format!("a-dave{n}"), "dave").await;
    }
    // Three presence updates a minute there, a hundred here.
    let (a, b) = (api.token_in(A, "erin").await, api.token_in(B, "erin").await);
    let update = |t: String| {
        let api = &api;
        async move { api.call(Method::PUT, "/api/v1/presence/status", Some(&t), Some(json!({"status": "away"}))).await }
    };
    for _ in 0..3 {
        assert_eq!(update(b.clone()).await.status, StatusCode::OK);
    }
    update(b.clone()).await.assert_error(429, "RATE_LIMITED");
    for _ in 0..4 {
        assert_eq!(update(a.clone()).await.status, StatusCode::OK);
    }
}
on_both_stores!(per_app_limits, each_app_gets_its_own_limits);

async fn a_connection_is_unknown_once_cleaned_up_though_its_app_was_remembered(api: TestApi) {
    api.connect_ws_in(B, "b-gone", "carol").await;
    ws(&api, "b-gone", json!({"type": "ping"})).await;
    assert_eq!(types(&api, "b-gone"), ["pong"]);
    api.signaling.disconnect(&"b-gone".into(), api.clock.now_ms()).await;
    ws(&api, "b-gone", json!({"type": "join", "room": "standup"})).await;
    let got = api.sink.take("b-gone");
    assert_eq!(got[0]["data"]["code"], "UNAUTHORIZED", "{got:?}");
    let t = tenant::table(&api.table, &AppId::from(B));
    assert!(query_all(t.as_ref(), Query::table("ROOM#standup")).await.unwrap().is_empty(), "nothing joined");
}
on_both_stores!(
    cleaned_up_connections_are_unknown,
    a_connection_is_unknown_once_cleaned_up_though_its_app_was_remembered
);
