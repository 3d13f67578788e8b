//! Calls through the real router, on the embedded store and on DynamoDB (moto): every
//! route's success and failure paths, races settled in the store, missed calls, history.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use stratus_core::calls::{Calls, CallsConfig};
use stratus_core::clock::Clock;
use stratus_tests::rest::{Resp, TestApi};

async fn call(api: &TestApi, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
    api.call(method, path, Some(token), body).await
}

async fn initiate(api: &TestApi, token: &str, caller: &str, callee: &str, kind: &str) -> Resp {
    let body = json!({"caller_id": caller, "callee_id": callee, "call_type": kind});
    call(api, Method::POST, "/api/v1/calls/initiate", token, Some(body)).await
}

fn types(api: &TestApi, conn: &str) -> Vec<String> {
    api.sink.take(conn).iter().map(|m| m["type"].as_str().unwrap_or("?").to_owned()).collect()
}

async fn a_call_goes_from_ringing_to_answered_to_ended_with_history(api: TestApi) {
    api.connect_ws("a1=", "alice").await;
    api.connect_ws("b1=", "bob").await;
    let (ta, tb) = (api.token("alice").await, api.token("bob").await);

    let r = initiate(&api, &ta, "alice", "bob", "video").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["call_id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["status"], "connecting");
    assert_eq!(r.body["call_type"], "video");
    assert_eq!(r.body["signaling_url"], "ws://test/ws");
    assert_eq!(r.body["room"], format!("call:{id}"));
    assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));
    let incoming = api.sink.take("b1=");
    assert_eq!(incoming.len(), 1);
    assert_eq!(incoming[0]["type"], "incoming-call");
    assert_eq!(
        (incoming[0]["data"]["callId"].as_str(), incoming[0]["data"]["callerId"].as_str()),
        (Some(id.as_str()), Some("alice"))
    );
    assert_eq!(types(&api, "a1="), ["call-status"]);

    let s = call(&api, Method::GET, &format!("/api/v1/calls/{id}/status"), &tb, None).await;
    assert_eq!(s.status, StatusCode::OK);
    assert_eq!(s.body["participants"][0]["role"], "caller");
    assert_eq!(s.body["participants"][1]["role"], "callee");
    assert_eq!(s.body["participants"][1]["connection_status"], "ringing");
    assert!(s.body["participants"][1]["joined_at"].is_null());
    let act = call(&api, Method::GET, "/api/v1/calls/user/alice/active", &ta, None).await;
    assert_eq!(act.body["calls"].as_array().unwrap().len(), 1);

    let ans = call(&api, Method::PUT, &format!("/api/v1/calls/{id}/answer"), &tb, None).await;
    assert_eq!(ans.status, StatusCode::OK, "{}", ans.text);
    assert_eq!(ans.body["status"], "active");
    assert!(ans.body["participants"][1]["joined_at"].as_str().is_some());
    for c in ["a1=", "b1="] {
        let m = api.sink.take(c);
        assert_eq!((m[0]["type"].as_str(), m[0]["data"]["status"].as_str()), (Some("call-status"), Some("active")));
    }

    api.clock.advance_secs(65);
    let end =
        call(&api, Method::DELETE, &format!("/api/v1/calls/{id}"), &ta, Some(json!({"reason": "user_hangup"}))).await;
    assert_eq!(end.status, StatusCode::OK, "{}", end.text);
    assert_eq!(end.body["status"], "ended");
    assert_eq!(end.body["outcome"], "completed");
    assert_eq!(end.body["duration_seconds"], 65);
    assert_eq!(end.body["end_reason"], "user_hangup");
    for c in ["a1=", "b1="] {
        let m = api.sink.take(c);
        assert_eq!(
            (m[0]["data"]["status"].as_str(), m[0]["data"]["durationSeconds"].as_u64()),
            (Some("ended"), Some(65))
        );
    }
    for (user, token, peer, role) in [("alice", &ta, "bob", "caller"), ("bob", &tb, "alice", "callee")] {
        let h = call(&api, Method::GET, &format!("/api/v1/calls/user/{user}/history"), token, None).await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.text);
        let e = &h.body["calls"][0];
        assert_eq!(
            (e["call_id"].as_str(), e["status"].as_str(), e["role"].as_str()),
            (Some(id.as_str()), Some("completed"), Some(role))
        );
        assert_eq!((e["peer_id"].as_str(), e["duration_seconds"].as_u64()), (Some(peer), Some(65)));
        assert_eq!(h.body["pagination"], json!({"total": 1, "limit": 50, "offset": 0, "has_more": false}));
        let act = call(&api, Method::GET, &format!("/api/v1/calls/user/{user}/active"), token, None).await;
        assert_eq!(act.body["calls"], json!([]));
    }
}
stratus_tests::on_both_stores!(call_lifecycle, a_call_goes_from_ringing_to_answered_to_ended_with_history);

async fn initiate_refuses_bad_input_unavailable_and_busy_users(api: TestApi) {
    api.connect_ws("b1=", "bob").await;
    api.connect_ws("c1=", "carol").await;
    api.connect_ws("d1=", "dave").await;
    let ta = api.token("alice").await;
    initiate(&api, &ta, "mallory", "bob", "voice").await.assert_error(403, "FORBIDDEN");
    initiate(&api, &ta, "alice", "bob", "fax").await.assert_error(400, "INVALID_CALL_TYPE");
    initiate(&api, &ta, "alice", "alice", "voice").await.assert_error(400, "VALIDATION_ERROR");
    initiate(&api, &ta, "alice", "bad id", "voice").await.assert_error(400, "VALIDATION_ERROR");
    let missing = call(
        &api,
        Method::POST,
        "/api/v1/calls/initiate",
        &ta,
        Some(json!({"caller_id": "alice", "call_type": "voice"})),
    )
    .await;
    missing.assert_error(400, "VALIDATION_ERROR");
    api.call(Method::POST, "/api/v1/calls/initiate", None, Some(json!({})))
        .await
        .assert_error(401, "AUTH_TOKEN_MISSING");
    initiate(&api, &ta, "alice", "erin", "voice").await.assert_error(409, "USER_NOT_AVAILABLE");
    let td = api.token("dave").await;
    let dnd = call(&api, Method::PUT, "/api/v1/presence/status", &td, Some(json!({"status": "dnd"}))).await;
    assert_eq!(dnd.status, StatusCode::OK);
    initiate(&api, &ta, "alice", "dave", "voice").await.assert_error(409, "USER_NOT_AVAILABLE");

    assert_eq!(initiate(&api, &ta, "alice", "bob", "voice").await.status, StatusCode::CREATED);
    // Either side busy: the callee, or the caller.
    let tc = api.token("carol").await;
    initiate(&api, &tc, "carol", "bob", "voice").await.assert_error(409, "USER_ALREADY_IN_CALL");
    initiate(&api, &ta, "alice", "carol", "voice").await.assert_error(409, "USER_ALREADY_IN_CALL");
}
stratus_tests::on_both_stores!(initiate_failures, initiate_refuses_bad_input_unavailable_and_busy_users);

async fn answer_and_end_refuse_what_their_state_forbids(api: TestApi) {
    api.connect_ws("b1=", "bob").await;
    let (ta, tb) = (api.token("alice").await, api.token("bob").await);
    let id = initiate(&api, &ta, "alice", "bob", "voice").await.body["call_id"].as_str().unwrap().to_owned();
    let answer = |t: String| {
        let path = format!("/api/v1/calls/{id}/answer");
        let api = &api;
        async move { call(api, Method::PUT, &path, &t, None).await }
    };
    answer(ta.clone()).await.assert_error(403, "FORBIDDEN");
    call(&api, Method::PUT, "/api/v1/calls/nope/answer", &tb, None).await.assert_error(404, "CALL_NOT_FOUND");
    assert_eq!(answer(tb.clone()).await.status, StatusCode::OK);
    answer(tb.clone()).await.assert_error(409, "CONFLICT");
    let bad = call(&api, Method::DELETE, &format!("/api/v1/calls/{id}?reason=boredom"), &ta, None).await;
    bad.assert_error(400, "VALIDATION_ERROR");
    let failed = call(&api, Method::DELETE, &format!("/api/v1/calls/{id}?reason=connection_failed"), &tb, None).await;
    assert_eq!((failed.body["status"].as_str(), failed.body["outcome"].as_str()), (Some("failed"), Some("failed")));
    call(&api, Method::DELETE, &format!("/api/v1/calls/{id}"), &ta, None).await.assert_error(409, "CALL_ALREADY_ENDED");
    answer(tb.clone()).await.assert_error(409, "CALL_ALREADY_ENDED");
    call(&api, Method::DELETE, "/api/v1/calls/nope", &ta, None).await.assert_error(404, "CALL_NOT_FOUND");
    // Hanging up before an answer is a missed call for both.
    let id2 = initiate(&api, &ta, "alice", "bob", "video").await.body["call_id"].as_str().unwrap().to_owned();
    let gone = call(&api, Method::DELETE, &format!("/api/v1/calls/{id2}"), &ta, None).await;
    assert_eq!((gone.body["outcome"].as_str(), gone.body["duration_seconds"].as_u64()), (Some("missed"), Some(0)));
}
stratus_tests::on_both_stores!(answer_end_failures, answer_and_end_refuse_what_their_state_forbids);

async fn unanswered_calls_become_missed_by_reads_and_by_the_sweeper(api: TestApi) {
    api.connect_ws("a1=", "alice").await;
    api.connect_ws("b1=", "bob").await;
    let (ta, tb) = (api.token("alice").await, api.token("bob").await);
    let id = initiate(&api, &ta, "alice", "bob", "voice").await.body["call_id"].as_str().unwrap().to_owned();
    api.clock.advance_secs(46);
    let s = call(&api, Method::GET, &format!("/api/v1/calls/{id}/status"), &tb, None).await;
    assert_eq!((s.body["status"].as_str(), s.body["outcome"].as_str()), (Some("ended"), Some("missed")));
    assert_eq!(s.body["end_reason"], "timeout");
    let h = call(&api, Method::GET, "/api/v1/calls/user/bob/history?status=missed", &tb, None).await;
    assert_eq!(h.body["pagination"]["total"], 1);
    // The callee is free again.
    let id2 = initiate(&api, &ta, "alice", "bob", "voice").await;
    assert_eq!(id2.status, StatusCode::CREATED, "{}", id2.text);
    let id2 = id2.body["call_id"].as_str().unwrap().to_owned();
    api.sink.take("a1=");
    api.sink.take("b1=");
    // Nobody reads this one: the sweeper finds it and tells both sides.
    api.clock.advance_secs(46);
    let calls = Calls::new(api.table.clone(), api.sink.clone(), CallsConfig::default());
    assert_eq!(
        calls
            .expire_due(&[stratus_protocol::ids::AppId::from(stratus_tests::rest::APP_KEY)], api.clock.now_ms())
            .await
            .unwrap(),
        1
    );
    for c in ["a1=", "b1="] {
        let m = api.sink.take(c);
        assert_eq!(
            (m[0]["data"]["callId"].as_str(), m[0]["data"]["outcome"].as_str()),
            (Some(id2.as_str()), Some("missed"))
        );
    }
    assert_eq!(
        calls
            .expire_due(&[stratus_protocol::ids::AppId::from(stratus_tests::rest::APP_KEY)], api.clock.now_ms())
            .await
            .unwrap(),
        0,
        "once"
    );
}
stratus_tests::on_both_stores!(missed_calls, unanswered_calls_become_missed_by_reads_and_by_the_sweeper);

async fn history_filters_paginates_and_validates(api: TestApi) {
    api.connect_ws("b1=", "bob").await;
    let (ta, tb) = (api.token("alice").await, api.token("bob").await);
    // Seven calls, oldest first: (type, how it ends).
    let plan = [
        ("voice", "completed"),
        ("video", "missed"),
        ("voice", "failed"),
        ("video", "completed"),
        ("voice", "missed"),
        ("video", "completed"),
        ("voice", "completed"),
    ];
    let mut ids = Vec::new();
    for (i, (kind, how)) in plan.iter().enumerate() {
        if i == 5 {
            api.clock.advance_secs(61); // stay under 10 initiations a minute
        }
        let id = initiate(&api, &ta, "alice", "bob", kind).await.body["call_id"].as_str().unwrap().to_owned();
        if *how != "missed" {
            call(&api, Method::PUT, &format!("/api/v1/calls/{id}/answer"), &tb, None).await;
        }
        let reason = if *how == "failed" { "connection_failed" } else { "user_hangup" };
        let r = call(&api, Method::DELETE, &format!("/api/v1/calls/{id}?reason={reason}"), &ta, None).await;
        assert_eq!(r.body["outcome"], *how);
        ids.push(id);
        api.clock.advance_secs(1);
    }
    let hist = |q: &str| {
        let path = format!("/api/v1/calls/user/alice/history{q}");
        let (api, ta) = (&api, ta.clone());
        async move { call(api, Method::GET, &path, &ta, None).await }
    };
    let all = hist("").await;
    let got: Vec<&str> = all.body["calls"].as_array().unwrap().iter().map(|c| c["call_id"].as_str().unwrap()).collect();
    let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(got, newest_first);
    assert_eq!(all.body["pagination"], json!({"total": 7, "limit": 50, "offset": 0, "has_more": false}));

    let page = hist("?limit=3&offset=2").await;
    let got: Vec<&str> =
        page.body["calls"].as_array().unwrap().iter().map(|c| c["call_id"].as_str().unwrap()).collect();
    assert_eq!(got, newest_first[2..5]);
    assert_eq!(page.body["pagination"], json!({"total": 7, "limit": 3, "offset": 2, "has_more": true}));

    let completed = hist("?status=completed").await;
    assert_eq!(completed.body["pagination"]["total"], 4);
    assert!(completed.body["calls"].as_array().unwrap().iter().all(|c| c["status"] == "completed"));
    let video = hist("?call_type=video&limit=1").await;
    assert_eq!(video.body["pagination"], json!({"total": 3, "limit": 1, "offset": 0, "has_more": true}));
    assert_eq!(video.body["calls"][0]["call_id"], ids[5].as_str());
    let voice_missed = hist("?call_type=voice&status=missed").await;
    assert_eq!(voice_missed.body["pagination"]["total"], 1);
    assert_eq!(voice_missed.body["calls"][0]["call_id"], ids[4].as_str());
    assert_eq!(hist("?offset=7").await.body["calls"], json!([]));

    for (q, code) in [
        ("?limit=0", "VALIDATION_ERROR"),
        ("?limit=201", "VALIDATION_ERROR"),
        ("?limit=ten", "VALIDATION_ERROR"),
        ("?offset=-1", "VALIDATION_ERROR"),
        ("?status=lost", "VALIDATION_ERROR"),
        ("?call_type=fax", "INVALID_CALL_TYPE"),
        ("?sort=asc", "VALIDATION_ERROR"),
    ] {
        hist(q).await.assert_error(400, code);
    }
    assert_eq!(hist("?limit=200").await.status, StatusCode::OK);
}
stratus_tests::on_both_stores!(history, history_filters_paginates_and_validates);

async fn a_stranger_sees_no_call_and_no_one_elses_lists(api: TestApi) {
    api.connect_ws("b1=", "bob").await;
    let (ta, ts) = (api.token("alice").await, api.token("stranger").await);
    let id = initiate(&api, &ta, "alice", "bob", "voice").await.body["call_id"].as_str().unwrap().to_owned();
    let cases: Vec<(Method, String, u16, &str)> = vec![
        (Method::GET, format!("/api/v1/calls/{id}/status"), 404, "CALL_NOT_FOUND"),
        (Method::PUT, format!("/api/v1/calls/{id}/answer"), 404, "CALL_NOT_FOUND"),
        (Method::DELETE, format!("/api/v1/calls/{id}"), 404, "CALL_NOT_FOUND"),
        (Method::GET, "/api/v1/calls/user/alice/active".into(), 403, "FORBIDDEN"),
        (Method::GET, "/api/v1/calls/user/alice/history".into(), 403, "FORBIDDEN"),
        (Method::GET, "/api/v1/calls/user/bob/history".into(), 403, "FORBIDDEN"),
    ];
    for (m, path, status, code) in &cases {
        call(&api, m.clone(), path, &ts, None).await.assert_error(*status, code);
        api.call(m.clone(), path, None, None).await.assert_error(401, "AUTH_TOKEN_MISSING");
    }
    // Nothing the stranger did changed the call.
    let s = call(&api, Method::GET, &format!("/api/v1/calls/{id}/status"), &ta, None).await;
    assert_eq!(s.body["status"], "connecting");
}
stratus_tests::on_both_stores!(authorization, a_stranger_sees_no_call_and_no_one_elses_lists);

async fn simultaneous_initiates_towards_one_callee_yield_exactly_one_call(api: TestApi) {
    api.connect_ws("b1=", "bob").await;
    let api = Arc::new(api);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let caller = format!("caller{i}");
            let t = api.token(&caller).await;
            initiate(&api, &t, &caller, "bob", "voice").await
        }));
    }
    let mut created = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::CREATED => created += 1,
            _ => {
                r.assert_error(409, "USER_ALREADY_IN_CALL");
            }
        }
    }
    assert_eq!(created, 1);
}
stratus_tests::on_both_stores!(initiate_race, simultaneous_initiates_towards_one_callee_yield_exactly_one_call);

async fn two_answers_at_once_make_one_active_call(api: TestApi) {
    api.connect_ws("b1=", "bob").await;
    let (ta, tb) = (api.token("alice").await, api.token("bob").await);
    let id = initiate(&api, &ta, "alice", "bob", "voice").await.body["call_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/calls/{id}/answer");
    let (r1, r2) = tokio::join!(call(&api, Method::PUT, &path, &tb, None), call(&api, Method::PUT, &path, &tb, None));
    let mut statuses = [r1.status.as_u16(), r2.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    // Answer against hang-up: whichever lands first decides; the call ends either way.
    let id = {
        call(&api, Method::DELETE, &format!("/api/v1/calls/{id}"), &ta, None).await;
        initiate(&api, &ta, "alice", "bob", "voice").await.body["call_id"].as_str().unwrap().to_owned()
    };
    let (answer_path, end_path) = (format!("/api/v1/calls/{id}/answer"), format!("/api/v1/calls/{id}"));
    let (ans, hang) = tokio::join!(
        call(&api, Method::PUT, &answer_path, &tb, None),
        call(&api, Method::DELETE, &end_path, &ta, None)
    );
    assert_eq!(hang.status, StatusCode::OK, "a hang-up always ends the call: {}", hang.text);
    let outcome = hang.body["outcome"].as_str().unwrap();
    match ans.status.as_u16() {
        200 => assert_eq!(outcome, "completed"),
        409 => assert_eq!(outcome, "missed"),
        s => panic!("answer got {s}: {}", ans.text),
    }
}
stratus_tests::on_both_stores!(answer_races, two_answers_at_once_make_one_active_call);
