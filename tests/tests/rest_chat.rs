//! Chat through the real router, on the embedded store and on DynamoDB (moto): a session's
//! whole life, who may do what, idempotent sends, pagination both ways, concurrent
//! reactions, expiry and retention, bad input, and the events each participant's connections
//! get.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use stratus_core::clock::Clock;
use stratus_tests::rest::{Resp, TestApi};

const BASE: &str = "/api/v1/chat/sessions";

async fn call(api: &TestApi, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
    api.call(method, path, Some(token), body).await
}

async fn create(api: &TestApi, token: &str, body: Value) -> Resp {
    call(api, Method::POST, BASE, token, Some(body)).await
}

async fn group(api: &TestApi, token: &str, others: &[&str]) -> String {
    let r = create(api, token, json!({"participants": others, "is_group": true, "title": "team"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["session_id"].as_str().unwrap().to_owned()
}

async fn send(api: &TestApi, token: &str, s: &str, text: &str) -> Resp {
    call(api, Method::POST, &format!("{BASE}/{s}/messages"), token, Some(json!({"text": text}))).await
}

/// The chat events (type, data) posted to `conn` since the last look, typing included.
fn events(api: &TestApi, conn: &str) -> Vec<(String, Value)> {
    api.sink
        .take(conn)
        .into_iter()
        .filter(|m| m["type"].as_str().is_some_and(|t| t.starts_with("chat-")))
        .map(|m| (m["type"].as_str().unwrap().to_owned(), m["data"].clone()))
        .collect()
}

fn kinds(evs: &[(String, Value)]) -> Vec<&str> {
    evs.iter().map(|(t, _)| t.as_str()).collect()
}

async fn a_group_session_lives_through_messages_edits_reactions_reads_and_usage(api: TestApi) {
    api.connect_ws("a1=", "alice").await;
    api.connect_ws("a2=", "alice").await;
    api.connect_ws("b1=", "bob").await;
    api.connect_ws("c1=", "carol").await;
    let (ta, tb, tc) = (api.token("alice").await, api.token("bob").await, api.token("carol").await);

    let r = create(&api, &ta, json!({"participants": ["bob"], "is_group": true, "title": " team "})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let s = r.body["session_id"].as_str().unwrap().to_owned();
    assert_eq!((r.body["title"].as_str(), r.body["role"].as_str()), (Some("team"), Some("owner")));
    let roles: Vec<(&str, &str)> = r.body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["user_id"].as_str().unwrap(), p["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("alice", "owner"), ("bob", "member")]);
    assert_eq!(kinds(&events(&api, "b1=")), ["chat-participant-added"], "bob hears he is in");
    events(&api, "a1=");
    events(&api, "a2=");

    // A message reaches every connection of every participant, and no one else.
    let m = send(&api, &tb, &s, "hello").await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.text);
    let mid = m.body["message_id"].as_str().unwrap().to_owned();
    assert_eq!((m.body["sender_id"].as_str(), m.body["type"].as_str()), (Some("bob"), Some("text")));
    for conn in ["a1=", "a2=", "b1="] {
        let evs = events(&api, conn);
        assert_eq!(kinds(&evs), ["chat-message"], "{conn}");
        assert_eq!(evs[0].1["message"]["text"], "hello");
        assert_eq!(evs[0].1["session_id"], s.as_str());
    }
    assert!(events(&api, "c1=").is_empty(), "carol is not in the session");

    // Unread for alice, not for bob (who sent it); reading clears it and tells the others.
    let v = call(&api, Method::GET, &format!("{BASE}/{s}"), &ta, None).await;
    assert_eq!(
        (v.body["unread_count"].as_u64(), v.body["unread_more"].as_bool()),
        (Some(1), Some(false)),
        "{}",
        v.text
    );
    let v = call(&api, Method::GET, &format!("{BASE}/{s}"), &tb, None).await;
    assert_eq!(v.body["unread_count"], 0);
    let rd = call(&api, Method::PUT, &format!("{BASE}/{s}/read"), &ta, Some(json!({"message_id": mid}))).await;
    assert_eq!(rd.status, StatusCode::OK, "{}", rd.text);
    assert_eq!((rd.body["last_read"].as_str(), rd.body["unread_count"].as_u64()), (Some(mid.as_str()), Some(0)));
    assert_eq!(kinds(&events(&api, "b1=")), ["chat-read"]);
    events(&api, "a1=");
    events(&api, "a2=");

    // Edits by the sender only.
    let path = format!("{BASE}/{s}/messages/{mid}");
    call(&api, Method::PATCH, &path, &ta, Some(json!({"text": "hijack"}))).await.assert_error(403, "FORBIDDEN");
    let e = call(&api, Method::PATCH, &path, &tb, Some(json!({"text": "hello all"}))).await;
    assert_eq!((e.status, e.body["text"].as_str()), (StatusCode::OK, Some("hello all")), "{}", e.text);
    assert!(e.body["edited_at"].as_str().is_some());
    assert_eq!(kinds(&events(&api, "a1=")), ["chat-message-edited"]);
    assert_eq!(kinds(&events(&api, "a2=")), ["chat-message-edited"]);

    // Reactions: counted once per user and emoji, `me` per reader, taken back.
    let react = format!("{path}/reactions/%F0%9F%91%8D");
    for _ in 0..2 {
        let r = call(&api, Method::PUT, &react, &ta, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["reactions"], json!([{"emoji": "👍", "count": 1, "me": true}]));
    }
    let r = call(&api, Method::PUT, &react, &tb, None).await;
    assert_eq!(r.body["reactions"], json!([{"emoji": "👍", "count": 2, "me": true}]));
    assert_eq!(kinds(&events(&api, "a2=")), ["chat-reaction", "chat-reaction"], "the repeat told no one");
    let page = call(&api, Method::GET, &format!("{BASE}/{s}/messages"), &tc, None).await;
    page.assert_error(404, "CHAT_SESSION_NOT_FOUND");
    let r = call(&api, Method::DELETE, &react, &ta, None).await;
    assert_eq!(r.body["reactions"], json!([{"emoji": "👍", "count": 1, "me": false}]));

    // Group changes: the owner adds carol, who sees the history and a system message.
    let add = format!("{BASE}/{s}/participants");
    let r = call(&api, Method::POST, &add, &ta, Some(json!({"user_id": "carol"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["participants"].as_array().unwrap().len(), 3);
    let evs = events(&api, "c1=");
    assert_eq!(kinds(&evs), ["chat-participant-added", "chat-message"]);
    assert_eq!(evs[1].1["message"]["system"], json!({"kind": "joined", "user_id": "carol", "by": "alice"}));
    let page = call(&api, Method::GET, &format!("{BASE}/{s}/messages"), &tc, None).await;
    let texts: Vec<&str> =
        page.body["messages"].as_array().unwrap().iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(texts, ["system", "text", "system"], "newest first: joined, hello, created");
    assert_eq!(page.body["messages"][1]["reactions"], json!([{"emoji": "👍", "count": 1, "me": false}]));

    // Deleting: the sender's own, or anyone's by an admin; it stays as deleted.
    let d = call(&api, Method::DELETE, &path, &tc, None).await;
    d.assert_error(403, "FORBIDDEN");
    let d = call(&api, Method::DELETE, &path, &ta, None).await;
    assert_eq!(
        (d.status, d.body["deleted"].as_bool(), d.body.get("text")),
        (StatusCode::OK, Some(true), None),
        "{}",
        d.text
    );
    assert_eq!(d.body["deleted_by"], "alice");
    let again = call(&api, Method::DELETE, &path, &ta, None).await;
    assert_eq!(again.status, StatusCode::OK, "deleting twice is no error");
    call(&api, Method::PATCH, &path, &tb, Some(json!({"text": "x"}))).await.assert_error(409, "CONFLICT");
    call(&api, Method::PUT, &react, &tb, None).await.assert_error(409, "CONFLICT");

    // Usage.
    let u = call(&api, Method::GET, &format!("{BASE}/{s}/usage"), &tb, None).await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.text);
    assert_eq!(
        (u.body["messages"].as_u64(), u.body["system_messages"].as_u64(), u.body["participants"].as_u64()),
        (Some(1), Some(2), Some(3))
    );
    assert!(u.body["last_activity_at"].as_str().unwrap() >= u.body["first_activity_at"].as_str().unwrap());

    // Carol leaves; bob is removed by alice; each is out (404) and the others hear it.
    events(&api, "a1=");
    let leave = call(&api, Method::DELETE, &format!("{BASE}/{s}/participants/carol"), &tc, None).await;
    assert_eq!(leave.status, StatusCode::NO_CONTENT, "{}", leave.text);
    call(&api, Method::GET, &format!("{BASE}/{s}"), &tc, None).await.assert_error(404, "CHAT_SESSION_NOT_FOUND");
    assert_eq!(kinds(&events(&api, "a1=")), ["chat-participant-removed", "chat-message"]);
    events(&api, "b1=");
    let rm = call(&api, Method::DELETE, &format!("{BASE}/{s}/participants/bob"), &ta, None).await;
    assert_eq!(rm.status, StatusCode::NO_CONTENT, "{}", rm.text);
    assert_eq!(kinds(&events(&api, "b1=")), ["chat-participant-removed"], "bob is told, and told nothing after");
    send(&api, &tb, &s, "still here?").await.assert_error(404, "CHAT_SESSION_NOT_FOUND");
    let list = call(&api, Method::GET, BASE, &tb, None).await;
    assert_eq!(list.body["sessions"], json!([]), "{}", list.text);
    let list = call(&api, Method::GET, BASE, &ta, None).await;
    assert_eq!(list.body["sessions"][0]["session_id"], s.as_str());
}
stratus_tests::on_both_stores!(group_lifecycle, a_group_session_lives_through_messages_edits_reactions_reads_and_usage);

async fn roles_decide_who_adds_removes_and_deletes(api: TestApi) {
    let (ta, tb, tc, td) =
        (api.token("alice").await, api.token("bob").await, api.token("carol").await, api.token("dave").await);
    let s = group(&api, &ta, &["bob", "carol"]).await;
    let add = format!("{BASE}/{s}/participants");
    // A member adds no one; the owner makes bob an admin; an admin adds members, not admins.
    call(&api, Method::POST, &add, &tb, Some(json!({"user_id": "dave"}))).await.assert_error(403, "FORBIDDEN");
    let r = call(&api, Method::PUT, &format!("{add}/bob"), &tc, Some(json!({"role": "admin"}))).await;
    r.assert_error(403, "FORBIDDEN");
    let r = call(&api, Method::PUT, &format!("{add}/bob"), &ta, Some(json!({"role": "admin"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    call(&api, Method::POST, &add, &tb, Some(json!({"user_id": "dave", "role": "admin"})))
        .await
        .assert_error(403, "FORBIDDEN");
    let r = call(&api, Method::POST, &add, &tb, Some(json!({"user_id": "dave"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    call(&api, Method::POST, &add, &tb, Some(json!({"user_id": "dave"}))).await.assert_error(409, "CONFLICT");
    // An admin removes members but not the owner; no one removes the owner; the owner does not leave.
    call(&api, Method::DELETE, &format!("{add}/alice"), &tb, None).await.assert_error(403, "FORBIDDEN");
    call(&api, Method::DELETE, &format!("{add}/alice"), &ta, None).await.assert_error(403, "FORBIDDEN");
    call(&api, Method::DELETE, &format!("{add}/bob"), &tc, None).await.assert_error(403, "FORBIDDEN");
    call(&api, Method::DELETE, &format!("{add}/nobody"), &tb, None).await.assert_error(404, "PARTICIPANT_NOT_FOUND");
    // An admin deletes a member's message; a member deletes only their own.
    let m = send(&api, &td, &s, "from dave").await.body["message_id"].as_str().unwrap().to_owned();
    let mpath = format!("{BASE}/{s}/messages/{m}");
    call(&api, Method::DELETE, &mpath, &tc, None).await.assert_error(403, "FORBIDDEN");
    let d = call(&api, Method::DELETE, &mpath, &tb, None).await;
    assert_eq!((d.status, d.body["deleted_by"].as_str()), (StatusCode::OK, Some("bob")), "{}", d.text);
    let r = call(&api, Method::DELETE, &format!("{add}/dave"), &tb, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // Demoted, bob can no longer moderate.
    let r = call(&api, Method::PUT, &format!("{add}/bob"), &ta, Some(json!({"role": "member"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    call(&api, Method::DELETE, &format!("{add}/carol"), &tb, None).await.assert_error(403, "FORBIDDEN");
    // A 1:1 session's participants do not change.
    let dm = create(&api, &ta, json!({"participants": ["bob"]})).await;
    let dm = dm.body["session_id"].as_str().unwrap().to_owned();
    let r =
        call(&api, Method::POST, &format!("{BASE}/{dm}/participants"), &ta, Some(json!({"user_id": "carol"}))).await;
    r.assert_error(400, "VALIDATION_ERROR");
}
stratus_tests::on_both_stores!(roles, roles_decide_who_adds_removes_and_deletes);

async fn a_stranger_sees_nothing_of_a_session_and_changes_nothing(api: TestApi) {
    let (ta, tm) = (api.token("alice").await, api.token("mallory").await);
    let s = group(&api, &ta, &["bob"]).await;
    let m = send(&api, &ta, &s, "secret plans").await.body["message_id"].as_str().unwrap().to_owned();
    let other_app = api.token_in(stratus_tests::rest::OTHER_APP_KEY, "alice").await;
    for token in [&tm, &other_app] {
        for (method, path, body) in [
            (Method::GET, format!("{BASE}/{s}"), None),
            (Method::GET, format!("{BASE}/{s}/messages"), None),
            (Method::GET, format!("{BASE}/{s}/usage"), None),
            (Method::POST, format!("{BASE}/{s}/messages"), Some(json!({"text": "hi"}))),
            (Method::POST, format!("{BASE}/{s}/participants"), Some(json!({"user_id": "mallory"}))),
            (Method::PUT, format!("{BASE}/{s}/participants/mallory"), Some(json!({"role": "admin"}))),
            (Method::DELETE, format!("{BASE}/{s}/participants/bob"), None),
            (Method::PATCH, format!("{BASE}/{s}/messages/{m}"), Some(json!({"text": "x"}))),
            (Method::DELETE, format!("{BASE}/{s}/messages/{m}"), None),
            (Method::PUT, format!("{BASE}/{s}/messages/{m}/reactions/x"), None),
            (Method::DELETE, format!("{BASE}/{s}/messages/{m}/reactions/x"), None),
            (Method::PUT, format!("{BASE}/{s}/read"), Some(json!({"message_id": m}))),
        ] {
            let r = call(&api, method.clone(), &path, token, body).await;
            let msg = r.assert_error(404, "CHAT_SESSION_NOT_FOUND");
            assert!(!r.text.contains("secret") && !msg.contains("alice"), "{method} {path}: {}", r.text);
        }
        let list = call(&api, Method::GET, BASE, token, None).await;
        assert_eq!(list.body["sessions"], json!([]));
    }
    // Nothing changed.
    let page = call(&api, Method::GET, &format!("{BASE}/{s}/messages"), &ta, None).await;
    let msgs = page.body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2, "{}", page.text);
    assert_eq!(
        (msgs[0]["text"].as_str(), msgs[0]["reactions"].as_array().map(Vec::len)),
        (Some("secret plans"), Some(0))
    );
    let v = call(&api, Method::GET, &format!("{BASE}/{s}"), &ta, None).await;
    assert_eq!(v.body["participants"].as_array().unwrap().len(), 2);
}
stratus_tests::on_both_stores!(strangers, a_stranger_sees_nothing_of_a_session_and_changes_nothing);

async fn a_retried_send_creates_one_message_and_a_direct_session_is_found_again(api: TestApi) {
    let (ta, tb) = (api.token("alice").await, api.token("bob").await);
    let first = create(&api, &ta, json!({"participants": ["bob"]})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let s = first.body["session_id"].as_str().unwrap().to_owned();
    let again = create(&api, &tb, json!({"participants": ["alice"], "is_group": false})).await;
    assert_eq!(again.body["session_id"], s.as_str(), "bob opening a 1:1 with alice finds the same session");

    let body = json!({"text": "once", "client_message_id": "c-1"});
    let path = format!("{BASE}/{s}/messages");
    let a = call(&api, Method::POST, &path, &ta, Some(body.clone())).await;
    let b = call(&api, Method::POST, &path, &ta, Some(body.clone())).await;
    assert_eq!((a.status, b.status), (StatusCode::CREATED, StatusCode::OK), "{} / {}", a.text, b.text);
    assert_eq!(a.body["message_id"], b.body["message_id"]);
    // Another user's same client id is their own message.
    let c = call(&api, Method::POST, &path, &tb, Some(body.clone())).await;
    assert_eq!(c.status, StatusCode::CREATED);
    // Concurrent retries: one message.
    let body = json!({"text": "racing", "client_message_id": "c-2"});
    let rs =
        futures_util::future::join_all((0..5).map(|_| call(&api, Method::POST, &path, &ta, Some(body.clone())))).await;
    let ids: std::collections::BTreeSet<&str> = rs.iter().map(|r| r.body["message_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 1, "{:?}", rs.iter().map(|r| &r.text).collect::<Vec<_>>());
    assert_eq!(rs.iter().filter(|r| r.status == StatusCode::CREATED).count(), 1);
    let u = call(&api, Method::GET, &format!("{BASE}/{s}/usage"), &ta, None).await;
    assert_eq!(u.body["messages"], 3, "{}", u.text);
}
stratus_tests::on_both_stores!(idempotent, a_retried_send_creates_one_message_and_a_direct_session_is_found_again);

async fn concurrent_reactions_of_one_user_count_once(api: TestApi) {
    let (ta, tb) = (api.token("alice").await, api.token("bob").await);
    let s = group(&api, &ta, &["bob"]).await;
    let m = send(&api, &ta, &s, "react").await.body["message_id"].as_str().unwrap().to_owned();
    let path = format!("{BASE}/{s}/messages/{m}/reactions/🎉");
    let rs = futures_util::future::join_all((0..6).map(|i| {
        let t = if i % 2 == 0 { &ta } else { &tb };
        call(&api, Method::PUT, &path, t, None)
    }))
    .await;
    for r in &rs {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let page = call(&api, Method::GET, &format!("{BASE}/{s}/messages?limit=1"), &ta, None).await;
    assert_eq!(
        page.body["messages"][0]["reactions"],
        json!([{"emoji": "🎉", "count": 2, "me": true}]),
        "{}",
        page.text
    );
    let rs = futures_util::future::join_all((0..4).map(|_| call(&api, Method::DELETE, &path, &ta, None))).await;
    assert!(rs.iter().all(|r| r.status == StatusCode::OK));
    let page = call(&api, Method::GET, &format!("{BASE}/{s}/messages?limit=1"), &tb, None).await;
    assert_eq!(page.body["messages"][0]["reactions"], json!([{"emoji": "🎉", "count": 1, "me": true}]));
}
stratus_tests::on_both_stores!(reactions_race, concurrent_reactions_of_one_user_count_once);

async fn pages_walk_a_thousand_messages_both_ways(api: TestApi) {
    let ta = api.token("alice").await;
    let s = group(&api, &ta, &["bob"]).await;
    // One per millisecond, written as stored (the API's send limit is per minute).
    let mut sent = Vec::new();
    for i in 0..1000 {
        api.clock.advance_ms(1);
        let r = send_unlimited(&api, &s, &format!("m{i}")).await;
        sent.push(r);
    }
    let walk = |param: &'static str, start: Option<String>| {
        let (api, ta, s) = (&api, &ta, &s);
        async move {
            let mut seen = Vec::new();
            let mut cursor = start;
            loop {
                let q = match &cursor {
                    Some(c) => format!("?limit=200&{param}={c}"),
                    None => "?limit=200".to_owned(),
                };
                let p = call(api, Method::GET, &format!("{BASE}/{s}/messages{q}"), ta, None).await;
                assert_eq!(p.status, StatusCode::OK, "{}", p.text);
                for m in p.body["messages"].as_array().unwrap() {
                    if m["type"] == "text" {
                        seen.push(m["text"].as_str().unwrap().to_owned());
                    }
                }
                match p.body["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => return seen,
                }
            }
        }
    };
    let back = walk("before", None).await;
    let want: Vec<String> = (0..1000).rev().map(|i| format!("m{i}")).collect();
    assert_eq!(back, want, "newest first, every message once");
    let fwd = walk("after", Some(sent[0].clone())).await;
    let want: Vec<String> = (1..1000).map(|i| format!("m{i}")).collect();
    assert_eq!(fwd, want, "oldest first after the first message");
    let v = call(&api, Method::GET, &format!("{BASE}/{s}"), &api.token("bob").await, None).await;
    assert_eq!((v.body["unread_count"].as_u64(), v.body["unread_more"].as_bool()), (Some(99), Some(true)));
}
stratus_tests::on_both_stores!(pagination, pages_walk_a_thousand_messages_both_ways);

/// A message from alice at the clock's time, written as the store holds one. (The pages are
/// what this test is about; sending goes through the domain in every other test, and a
/// thousand transactions on moto take minutes: it copies its tables for each.)
async fn send_unlimited(api: &TestApi, s: &str, text: &str) -> String {
    use stratus_core::records::chat as rec;
    let ns = stratus_core::tenant::Namespace::new(&api.table, &stratus_tests::rest::APP_KEY.into());
    let session = ns.table.get(&rec::meta(s)).await.unwrap().as_ref().and_then(rec::decode_session).unwrap();
    let now = api.clock.now_ms();
    let id = ulid::Ulid::from_parts(now as u64, rand::random::<u128>() >> 48).to_string();
    let m = rec::Message::new(
        id.clone().into(),
        "alice".into(),
        stratus_protocol::chat::MessageType::Text,
        text.to_owned(),
        now,
    );
    ns.table.put(rec::encode_message(&session, &m), Some(stratus_core::store::Cond::NotExists)).await.unwrap();
    id
}

async fn an_expired_session_is_read_only_until_its_retention_ends(api: TestApi) {
    let (ta, tb) = (api.token("alice").await, api.token("bob").await);
    let r = create(&api, &ta, json!({"participants": ["bob"], "is_group": true, "duration_seconds": 60})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["expired"], false);
    let s = r.body["session_id"].as_str().unwrap().to_owned();
    let m = send(&api, &tb, &s, "before the end").await.body["message_id"].as_str().unwrap().to_owned();
    api.clock.advance_secs(61);
    send(&api, &tb, &s, "too late").await.assert_error(409, "CHAT_SESSION_EXPIRED");
    let path = format!("{BASE}/{s}/messages/{m}");
    call(&api, Method::PATCH, &path, &tb, Some(json!({"text": "x"}))).await.assert_error(409, "CHAT_SESSION_EXPIRED");
    call(&api, Method::PUT, &format!("{path}/reactions/x"), &ta, None).await.assert_error(409, "CHAT_SESSION_EXPIRED");
    let add = call(&api, Method::POST, &format!("{BASE}/{s}/participants"), &ta, Some(json!({"user_id": "c"}))).await;
    add.assert_error(409, "CHAT_SESSION_EXPIRED");
    // Still readable, and read markers still move.
    let v = call(&api, Method::GET, &format!("{BASE}/{s}"), &ta, None).await;
    assert_eq!((v.body["expired"].as_bool(), v.body["unread_count"].as_u64()), (Some(true), Some(1)), "{}", v.text);
    let page = call(&api, Method::GET, &format!("{BASE}/{s}/messages"), &ta, None).await;
    assert_eq!(page.body["messages"][0]["text"], "before the end");
    let rd = call(&api, Method::PUT, &format!("{BASE}/{s}/read"), &ta, Some(json!({"message_id": m}))).await;
    assert_eq!(rd.status, StatusCode::OK, "{}", rd.text);
    // After the retention (30 days by default) the whole session is gone.
    api.clock.advance_secs(30 * 24 * 3600 + 5);
    let ta = api.token("alice").await;
    call(&api, Method::GET, &format!("{BASE}/{s}"), &ta, None).await.assert_error(404, "CHAT_SESSION_NOT_FOUND");
    let list = call(&api, Method::GET, BASE, &ta, None).await;
    assert_eq!(list.body["sessions"], json!([]), "{}", list.text);
}
stratus_tests::on_both_stores!(expiry, an_expired_session_is_read_only_until_its_retention_ends);

async fn bad_input_gets_clear_errors_and_writes_nothing(api: TestApi) {
    let ta = api.token("alice").await;
    for (body, why) in [
        (json!({"participants": []}), "1:1 needs one other"),
        (json!({"participants": ["b", "c"]}), "1:1 with two others"),
        (json!({"participants": ["alice"], "is_group": true}), "a group of one"),
        (json!({"participants": ["bad id"], "is_group": true}), "an invalid id"),
        (json!({"participants": ["b"], "title": "   "}), "an empty title"),
        (json!({"participants": ["b"], "title": "x".repeat(201)}), "a long title"),
        (json!({"participants": ["b"], "duration_seconds": 0}), "no duration"),
        (json!({"participants": ["b"], "creatorId": "mallory"}), "an unknown field"),
    ] {
        create(&api, &ta, body).await.assert_error(400, "VALIDATION_ERROR");
        let _ = why;
    }
    let many: Vec<String> = (0..50).map(|i| format!("u{i}")).collect();
    create(&api, &ta, json!({"participants": many, "is_group": true})).await.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(call(&api, Method::GET, BASE, &ta, None).await.body["sessions"], json!([]), "nothing was created");

    let s = group(&api, &ta, &["bob"]).await;
    let path = format!("{BASE}/{s}/messages");
    for body in [
        json!({"text": ""}),
        json!({"text": "x".repeat(4001)}),
        json!({"text": "a\u{0}b"}),
        json!({"type": "system", "text": "forged"}),
        json!({"type": "image", "text": "no attachment"}),
        json!({"type": "video", "text": "?"}),
        json!({"text": "x", "client_message_id": "has space"}),
        json!({"text": "x", "sender_id": "bob"}),
    ] {
        call(&api, Method::POST, &path, &ta, Some(body.clone())).await.assert_error(400, "VALIDATION_ERROR");
    }
    let r = call(&api, Method::POST, &path, &ta, Some(json!({"text": "x".repeat(4000)}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "4000 characters fit");
    let m = r.body["message_id"].as_str().unwrap().to_owned();
    for emoji in ["a%20b", "x%23y", &"x".repeat(33)] {
        let r = call(&api, Method::PUT, &format!("{path}/{m}/reactions/{emoji}"), &ta, None).await;
        r.assert_error(400, "VALIDATION_ERROR");
    }
    call(&api, Method::GET, &format!("{path}?before=a&after=b"), &ta, None).await.assert_error(400, "VALIDATION_ERROR");
    call(&api, Method::GET, &format!("{path}?limit=0"), &ta, None).await.assert_error(400, "VALIDATION_ERROR");
    call(&api, Method::GET, &format!("{path}?page=2"), &ta, None).await.assert_error(400, "VALIDATION_ERROR");
    call(&api, Method::GET, &format!("{BASE}?cursor=nope"), &ta, None).await.assert_error(400, "VALIDATION_ERROR");
    call(&api, Method::PATCH, &format!("{path}/NOPE"), &ta, Some(json!({"text": "x"})))
        .await
        .assert_error(404, "MESSAGE_NOT_FOUND");
    call(&api, Method::PUT, &format!("{BASE}/{s}/read"), &ta, Some(json!({"message_id": "NOPE"})))
        .await
        .assert_error(404, "MESSAGE_NOT_FOUND");
    let u = call(&api, Method::GET, &format!("{BASE}/{s}/usage"), &ta, None).await;
    assert_eq!(u.body["messages"], 1, "only the valid message counted: {}", u.text);
}
stratus_tests::on_both_stores!(bad_input, bad_input_gets_clear_errors_and_writes_nothing);

async fn typing_is_told_to_the_others_and_stored_nowhere(api: TestApi) {
    api.connect_ws("a1=", "alice").await;
    api.connect_ws("b1=", "bob").await;
    api.connect_ws("c1=", "carol").await;
    let ta = api.token("alice").await;
    let s = group(&api, &ta, &["bob"]).await;
    for c in ["a1=", "b1=", "c1="] {
        api.sink.take(c);
    }
    let now = api.clock.now_ms();
    let typing = json!({"type": "chat-typing", "data": {"session_id": s}}).to_string();
    api.signaling.message(&"a1=".into(), &typing, now).await;
    let evs = events(&api, "b1=");
    assert_eq!(kinds(&evs), ["chat-typing"]);
    assert_eq!((evs[0].1["user_id"].as_str(), evs[0].1["session_id"].as_str()), (Some("alice"), Some(s.as_str())));
    assert!(api.sink.take("a1=").is_empty(), "not echoed to the typist");
    // Carol is not in the session: she is told nothing, and her typing there is refused.
    assert!(events(&api, "c1=").is_empty());
    api.signaling.message(&"c1=".into(), &typing, now).await;
    let err = api.sink.take("c1=");
    assert_eq!(
        (err[0]["type"].as_str(), err[0]["data"]["code"].as_str()),
        (Some("error"), Some("CHAT_SESSION_NOT_FOUND"))
    );
    assert!(events(&api, "b1=").is_empty());
    let missing = json!({"type": "chat-typing", "data": {}}).to_string();
    api.signaling.message(&"a1=".into(), &missing, now).await;
    assert_eq!(api.sink.take("a1=")[0]["data"]["code"], "VALIDATION_ERROR");
    let page = call(&api, Method::GET, &format!("{BASE}/{s}/messages"), &ta, None).await;
    assert_eq!(page.body["messages"].as_array().unwrap().len(), 1, "only the created note");
}
stratus_tests::on_both_stores!(typing, typing_is_told_to_the_others_and_stored_nowhere);
