//! WebSocket signaling end to end through the local stack's API Gateway emulator, with
//! real WebSocket clients, on both ways the handlers reach connections (the emulated
//! Management API over HTTP, and in-process).

use serde_json::{Value, json};
use std::time::Duration;
use stratus_tests::local::LocalStack;
use stratus_tests::wsclient::{Ended, WsClient};

async fn start(args: &[&str]) -> LocalStack {
    LocalStack::start(env!("CARGO_BIN_EXE_stratus-local"), args, &[]).await
}

async fn client(local: &LocalStack, user: &str) -> WsClient {
    WsClient::connect(&local.ws_url(&local.token(user).await)).await.expect("connect accepted")
}

/// Joins `room`; returns the peer id.
async fn join(c: &mut WsClient, room: &str) -> (String, Value) {
    c.send(json!({"type": "join", "requestId": "join-1", "data": {"room": room}})).await;
    let j = c.expect("joined").await;
    assert_eq!(j["requestId"], "join-1");
    (j["data"]["peerId"].as_str().unwrap().to_owned(), j)
}

async fn three_clients_join_relay_and_leave(local: &LocalStack) {
    let (mut a, mut b, mut c) =
        (client(local, "alice").await, client(local, "bob").await, client(local, "carol").await);
    let (pa, ja) = join(&mut a, "r1").await;
    assert_eq!(ja["data"]["peers"], json!([]));
    let (pb, jb) = join(&mut b, "r1").await;
    assert_eq!(jb["data"]["peers"], json!([{"peerId": pa, "userId": "alice"}]));
    let uj = a.expect("user-joined").await;
    assert_eq!((uj["data"]["peerId"].as_str(), uj["data"]["userId"].as_str()), (Some(pb.as_str()), Some("bob")));
    let (pc, jc) = join(&mut c, "r1").await;
    assert_eq!(jc["data"]["peers"].as_array().unwrap().len(), 2);
    a.expect("user-joined").await;
    b.expect("user-joined").await;

    // An offer from A reaches only B, with A as the sender.
    a.send(json!({"type": "offer", "data": {"to": pb, "sdp": {"type": "offer", "sdp": "v=0\r\n"}}})).await;
    let offer = b.expect("offer").await;
    assert_eq!(offer["data"]["from"], pa.as_str());
    assert_eq!(offer["data"]["fromUser"], "alice");
    assert_eq!(offer["data"]["room"], "r1");
    assert_eq!(offer["data"]["sdp"]["sdp"], "v=0\r\n");
    // A broadcast candidate reaches B and C; C's first message being the candidate shows
    // it never got the offer (A's messages are handled in order).
    a.send(
        json!({"type": "candidate", "data": {"candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"}}}),
    )
    .await;
    assert_eq!(b.expect("candidate").await["data"]["from"], pa.as_str());
    assert_eq!(c.expect("candidate").await["data"]["from"], pa.as_str());
    // The flat dialect: fields beside `type`.
    b.send(json!({"type": "answer", "to": pa, "sdp": "v=0 answer"})).await;
    let answer = a.expect("answer").await;
    assert_eq!(
        (answer["data"]["from"].as_str(), answer["data"]["sdp"].as_str()),
        (Some(pb.as_str()), Some("v=0 answer"))
    );
    c.send(json!({"type": "custom", "data": {"payload": {"mute": true}}})).await;
    assert_eq!(a.expect("custom").await["data"]["payload"]["mute"], true);
    assert_eq!(b.expect("custom").await["data"]["from"], pc.as_str());
    // Nothing reached the sender of a broadcast: its next message is the pong.
    c.send(json!({"type": "ping", "requestId": 7})).await;
    assert_eq!(c.expect("pong").await["requestId"], "7");

    // Leave and disconnect produce user-left for the others.
    b.send(json!({"type": "leave", "data": {"room": "r1"}})).await;
    b.expect("left").await;
    for x in [&mut a, &mut c] {
        let ul = x.expect("user-left").await;
        assert_eq!((ul["data"]["peerId"].as_str(), ul["data"]["reason"].as_str()), (Some(pb.as_str()), Some("left")));
    }
    c.close().await;
    let ul = a.expect("user-left").await;
    assert_eq!(
        (ul["data"]["peerId"].as_str(), ul["data"]["reason"].as_str()),
        (Some(pc.as_str()), Some("disconnected"))
    );
    // B, out of the room, can no longer reach A.
    b.send(json!({"type": "offer", "requestId": "late", "to": pa, "sdp": "x"})).await;
    let e = b.expect("error").await;
    assert_eq!(e["data"]["code"], "NOT_IN_ROOM");
}

#[tokio::test]
async fn three_clients_signal_through_the_emulated_management_api() {
    three_clients_join_relay_and_leave(&start(&[]).await).await;
}

#[tokio::test]
async fn three_clients_signal_with_the_in_process_sink() {
    three_clients_join_relay_and_leave(&start(&["--ws-sink", "direct"]).await).await;
}

#[tokio::test]
async fn every_bad_message_gets_its_error_and_the_connection_stays_usable() {
    let local = start(&[]).await;
    let (mut a, mut b) = (client(&local, "alice").await, client(&local, "bob").await);
    // Before joining anything.
    a.send(json!({"type": "offer", "requestId": "n1", "sdp": "x"})).await;
    let e = a.expect("error").await;
    assert_eq!((e["data"]["code"].as_str(), e["data"]["requestId"].as_str()), (Some("NOT_IN_ROOM"), Some("n1")));
    let (pa, _) = join(&mut a, "r").await;
    let (pb, _) = join(&mut b, "r").await;
    a.expect("user-joined").await;

    let oversized = format!(r#"{{"type":"custom","requestId":"big","blob":"{}"}}"#, "x".repeat(70 * 1024));
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "INVALID_MESSAGE"),
        ("[1,2,3]".into(), "INVALID_MESSAGE"),
        (json!({"data": {"room": "r"}}).to_string(), "INVALID_MESSAGE"),
        (json!({"type": "teleport", "requestId": "t1"}).to_string(), "UNKNOWN_MESSAGE_TYPE"),
        (json!({"type": "offer", "requestId": "o1", "to": pb}).to_string(), "VALIDATION_ERROR"),
        (json!({"type": "join", "data": {"room": "bad room"}}).to_string(), "VALIDATION_ERROR"),
        (json!({"type": "offer", "to": "nobody=", "sdp": "x"}).to_string(), "PEER_NOT_FOUND"),
        (json!({"type": "offer", "room": "elsewhere", "sdp": "x"}).to_string(), "NOT_IN_ROOM"),
        (json!({"type": "leave", "data": {"room": "elsewhere"}}).to_string(), "NOT_IN_ROOM"),
        (oversized, "MESSAGE_TOO_LARGE"),
    ];
    for (i, (msg, code)) in cases.into_iter().enumerate() {
        a.send_text(&msg).await;
        let e = a.expect("error").await;
        assert_eq!(e["data"]["code"], code, "{msg:.80}");
        assert!(e["data"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        if let Ok(v) = serde_json::from_str::<Value>(&msg)
            && let Some(rid) = v.get("requestId")
        {
            assert_eq!(&e["data"]["requestId"], rid);
            assert_eq!(&e["requestId"], rid);
        }
        // Still usable: a ping is answered, and B still gets A's messages.
        a.send(json!({"type": "ping", "requestId": format!("p{i}")})).await;
        assert_eq!(a.expect("pong").await["requestId"], format!("p{i}"));
    }
    a.send(json!({"type": "offer", "to": pb, "sdp": "still works"})).await;
    let o = b.expect("offer").await;
    assert_eq!((o["data"]["from"].as_str(), o["data"]["sdp"].as_str()), (Some(pa.as_str()), Some("still works")));
}

#[tokio::test]
async fn connects_are_authenticated_and_limited_to_five_per_user() {
    let local = start(&[]).await;
    let bare = format!("{}/ws", local.base.replacen("http://", "ws://", 1));
    assert_eq!(WsClient::connect(&bare).await.err(), Some(401));
    assert_eq!(WsClient::connect(&local.ws_url("garbage")).await.err(), Some(401));
    let t = local.token("dave").await;
    let mut open = Vec::new();
    for _ in 0..5 {
        open.push(WsClient::connect(&local.ws_url(&t)).await.expect("within the limit"));
    }
    assert_eq!(WsClient::connect(&local.ws_url(&t)).await.err(), Some(429));
    // Another user is unaffected; closing one of dave's frees a slot.
    let _other = client(&local, "erin").await;
    open.pop().unwrap().close().await;
    let mut again = None;
    for _ in 0..50 {
        // The slot is freed by $disconnect, which runs right after the close completes.
        if let Ok(c) = WsClient::connect(&local.ws_url(&t)).await {
            again = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "a freed slot is reusable");
}

#[tokio::test]
async fn api_gateway_limits_close_connections_and_send_disconnect() {
    let local = start(&["--ws-idle-secs", "1", "--ws-max-lifetime-secs", "3"]).await;
    let (mut a, mut b, mut c) = (client(&local, "a").await, client(&local, "b").await, client(&local, "c").await);
    join(&mut a, "lim").await;
    let (pb, _) = join(&mut b, "lim").await;
    let (pc, _) = join(&mut c, "lim").await;
    a.expect("user-joined").await;
    a.expect("user-joined").await;
    b.expect("user-joined").await;

    // Over 128 KB: API Gateway closes with 1009.
    c.send_text(&format!(r#"{{"type":"custom","x":"{}"}}"#, "y".repeat(130 * 1024))).await;
    match c.next(Duration::from_secs(5)).await {
        Err(Ended::Closed(Some(f))) => assert_eq!(u16::from(f.code), 1009),
        other => panic!("expected a 1009 close, got {other:?}"),
    }
    // A and B keep talking (pings count as activity); B then goes silent past the idle limit.
    let mut saw_c = false;
    let mut saw_b = false;
    for i in 0..20 {
        a.send(json!({"type": "ping"})).await;
        loop {
            match a.next(Duration::from_millis(300)).await {
                Ok(m) if m["type"] == "user-left" && m["data"]["peerId"] == pc.as_str() => saw_c = true,
                Ok(m) if m["type"] == "user-left" && m["data"]["peerId"] == pb.as_str() => saw_b = true,
                Ok(m) if m["type"] == "pong" => break,
                Ok(m) => panic!("unexpected {m}"),
                Err(e) => panic!("a is closed early at step {i}: {e:?}"),
            }
        }
        if saw_b && saw_c {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_c, "the oversized sender's $disconnect told A");
    assert!(saw_b, "the idle client's $disconnect told A");
    let b_end = loop {
        match b.next(Duration::from_secs(1)).await {
            Ok(m) => assert_eq!(m["type"], "user-left", "B only hears of C leaving"),
            Err(e) => break e,
        }
    };
    match b_end {
        Ended::Closed(Some(f)) => assert_eq!(u16::from(f.code), 1001, "idle close is Going Away"),
        other => panic!("expected B closed as idle, got {other:?}"),
    }
    // A, active all along, is closed at the maximum lifetime (3 s here).
    let ended = loop {
        a.send(json!({"type": "ping"})).await;
        match a.next(Duration::from_millis(500)).await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(e) => break e,
        }
    };
    match ended {
        Ended::Closed(Some(f)) => assert_eq!(u16::from(f.code), 1001),
        other => panic!("expected the lifetime close, got {other:?}"),
    }
}

/// What the tests' stacks require on `@connections`.
const MANAGEMENT: (&str, &str) = ("test-backend", "management-secret-for-tests");

/// A request to `url` signed with SigV4 as the AWS SDK signs Management API calls, at `time`.
fn signed(
    method: reqwest::Method,
    url: &str,
    body: &str,
    (key, secret): (&str, &str),
    time: std::time::SystemTime,
) -> reqwest::RequestBuilder {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let parsed = reqwest::Url::parse(url).unwrap();
    let host = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
    let identity = aws_credential_types::Credentials::new(key, secret, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("execute-api")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let path = &url[url.find(parsed.path()).unwrap()..];
    let request = SignableRequest::new(
        method.as_str(),
        path,
        [("host", host.as_str())].into_iter(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut req = reqwest::Client::new().request(method, url).body(body.to_owned());
    for (name, value) in instructions.headers() {
        req = req.header(name, value);
    }
    req
}

/// The connection id the stack logged for `user`'s (latest) connect.
async fn connection_of(local: &mut LocalStack, user: &str) -> String {
    let line = local.log_line(|v| v["message"] == "connected" && v["user_id"] == user).await;
    line["connection_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_management_api_posts_describes_and_closes_connections_for_signed_requests() {
    let creds = format!("{}:{}", MANAGEMENT.0, MANAGEMENT.1);
    let mut local = start(&["--ws-management-credentials", &creds]).await;
    let (mut a, mut b) = (client(&local, "alice").await, client(&local, "bob").await);
    let ca = connection_of(&mut local, "alice").await;
    let (pa, _) = join(&mut a, "m").await;
    join(&mut b, "m").await;
    a.expect("user-joined").await;
    let url = |id: &str| format!("{}/ws/@connections/{id}", local.base);
    let now = std::time::SystemTime::now;
    use reqwest::Method;

    // The peer id the room sees is not a handle on the socket, even to the back end.
    assert_ne!(pa, ca);
    assert!(!pa.contains(ca.trim_end_matches('=')), "{pa} {ca}");
    assert_eq!(signed(Method::GET, &url(&pa), "", MANAGEMENT, now()).send().await.unwrap().status(), 410);
    let info: Value = signed(Method::GET, &url(&ca), "", MANAGEMENT, now()).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["identity"]["sourceIp"], "127.0.0.1");
    assert!(info["connectedAt"].as_str().unwrap().ends_with('Z'));
    let note = r#"{"type":"server-note","data":{"n":1}}"#;
    let r = signed(Method::POST, &url(&ca), note, MANAGEMENT, now()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(a.expect("server-note").await["data"]["n"], 1);

    let r = signed(Method::DELETE, &url(&ca), "", MANAGEMENT, now()).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(matches!(a.next(Duration::from_secs(5)).await, Err(Ended::Closed(_))));
    let ul = b.expect("user-left").await;
    assert_eq!(ul["data"]["peerId"], pa.as_str());
    for r in [
        signed(Method::GET, &url(&ca), "", MANAGEMENT, now()).send().await.unwrap(),
        signed(Method::POST, &url(&ca), "x", MANAGEMENT, now()).send().await.unwrap(),
    ] {
        assert_eq!(r.status(), 410);
        assert_eq!(r.headers()["x-amzn-errortype"], "GoneException");
    }
}

#[tokio::test]
async fn the_management_api_refuses_whoever_does_not_hold_the_stacks_credentials() {
    let creds = format!("{}:{}", MANAGEMENT.0, MANAGEMENT.1);
    let mut local = start(&["--ws-management-credentials", &creds]).await;
    let (mut a, mut b) = (client(&local, "alice").await, client(&local, "bob").await);
    let ca = connection_of(&mut local, "alice").await;
    join(&mut a, "m").await;
    join(&mut b, "m").await;
    a.expect("user-joined").await;
    let url = format!("{}/ws/@connections/{ca}", local.base);
    let forged = r#"{"type":"offer","data":{"from":"someone","fromUser":"carol"}}"#;
    let now = std::time::SystemTime::now();
    use reqwest::Method;
    let http = reqwest::Client::new();

    let tries: Vec<(&str, reqwest::RequestBuilder, &str)> = vec![
        ("unsigned GET", http.get(&url), "MissingAuthenticationTokenException"),
        ("unsigned POST", http.post(&url).body(forged), "MissingAuthenticationTokenException"),
        ("unsigned DELETE", http.delete(&url), "MissingAuthenticationTokenException"),
        (
            "bearer token",
            http.post(&url).bearer_auth(local.token("bob").await).body(forged),
            "MissingAuthenticationTokenException",
        ),
        (
            "another key",
            signed(Method::POST, &url, forged, ("someone", MANAGEMENT.1), now),
            "UnrecognizedClientException",
        ),
        (
            "wrong secret",
            signed(Method::POST, &url, forged, (MANAGEMENT.0, "not-the-secret-at-all"), now),
            "InvalidSignatureException",
        ),
        (
            "signed an hour ago",
            signed(Method::DELETE, &url, "", MANAGEMENT, now - Duration::from_secs(3600)),
            "InvalidSignatureException",
        ),
    ];
    for (what, req, error_type) in tries {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403, "{what}");
        assert_eq!(r.headers()["x-amzn-errortype"], error_type, "{what}");
        let body: Value = r.json().await.unwrap();
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {body}");
    }
    // A signed request whose body or path was changed after signing.
    let good = signed(Method::POST, &url, r#"{"type":"server-note"}"#, MANAGEMENT, now).build().unwrap();
    let mut tampered = reqwest::Request::new(Method::POST, good.url().clone());
    *tampered.headers_mut() = good.headers().clone();
    *tampered.body_mut() = Some(forged.into());
    let r = http.execute(tampered).await.unwrap();
    assert_eq!(
        (r.status().as_u16(), r.headers()["x-amzn-errortype"].to_str().unwrap()),
        (403, "InvalidSignatureException")
    );
    let other =
        signed(Method::DELETE, &format!("{}/ws/@connections/other", local.base), "", MANAGEMENT, now).build().unwrap();
    let mut moved = reqwest::Request::new(Method::DELETE, url.parse().unwrap());
    *moved.headers_mut() = other.headers().clone();
    let r = http.execute(moved).await.unwrap();
    assert_eq!(r.status(), 403, "a signature for another path");

    // Alice got none of it and is still connected: her next message is the pong.
    a.send(json!({"type": "ping", "requestId": "p"})).await;
    assert_eq!(a.expect("pong").await["requestId"], "p");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_its_room_hears_every_message() {
    let local = start(&["--ws-max-queue-bytes", "262144"]).await;
    let (mut a, mut b, mut c) =
        (client(&local, "alice").await, client(&local, "bob").await, client(&local, "carol").await);
    join(&mut a, "busy").await;
    join(&mut b, "busy").await;
    let (pc, _) = join(&mut c, "busy").await;
    a.expect("user-joined").await;
    a.expect("user-joined").await;
    b.expect("user-joined").await;

    // Carol stops reading. Alice sends ~9 MB: more than the kernel buffers and carol's queue.
    // Bob reads as they come.
    let pad = "x".repeat(60_000);
    let n = 150;
    let sender = tokio::spawn(async move {
        for i in 0..n {
            a.send(json!({"type": "custom", "data": {"i": i, "pad": pad}})).await;
        }
        a
    });
    // Bob gets every message, in order, and hears carol was dropped.
    let (mut next, mut carol_left) = (0, false);
    while next < n || !carol_left {
        let m = b.next(Duration::from_secs(10)).await.unwrap_or_else(|e| panic!("at {next}: {e:?}"));
        match m["type"].as_str() {
            Some("custom") => {
                assert_eq!(m["data"]["i"], next);
                next += 1;
            }
            Some("user-left") => {
                assert_eq!(m["data"]["peerId"].as_str(), Some(pc.as_str()));
                // Whichever cleanup comes first: the failed post's, or the dropped socket's
                // `$disconnect`.
                let reason = m["data"]["reason"].as_str().unwrap();
                assert!(["gone", "disconnected"].contains(&reason), "{m}");
                carol_left = true;
            }
            other => panic!("unexpected {other:?}: {m}"),
        }
    }
    // Alice's own connection is untouched.
    let mut a = sender.await.unwrap();
    a.send(json!({"type": "ping", "requestId": "still"})).await;
    let ul = a.expect("user-left").await;
    assert_eq!(ul["data"]["peerId"].as_str(), Some(pc.as_str()));
    assert_eq!(a.expect("pong").await["requestId"], "still");
    // Carol's socket was closed: what the kernel held, then the end.
    let mut read = 0;
    loop {
        match c.next(Duration::from_secs(10)).await {
            Ok(_) => read += 1,
            Err(Ended::Closed(_)) => break,
            Err(Ended::Timeout) => panic!("carol's socket is still open after {read} messages"),
        }
    }
    assert!(read < n, "carol was dropped before all {n} messages reached her ({read})");
}

#[tokio::test]
async fn a_connection_that_floods_is_rate_limited_and_no_one_else_is() {
    let local = start(&[]).await;
    let (mut a, mut b) = (client(&local, "alice").await, client(&local, "bob").await);
    let n = 400;
    for i in 0..n {
        a.send(json!({"type": "ping", "requestId": format!("f{i}")})).await;
    }
    let (mut pongs, mut limited) = (0, 0);
    for _ in 0..n {
        let m = a.recv().await;
        match m["type"].as_str() {
            Some("pong") => pongs += 1,
            Some("error") => {
                assert_eq!(m["data"]["code"], "RATE_LIMITED", "{m}");
                assert!(m["data"]["message"].as_str().unwrap().contains("retry in"), "{m}");
                assert!(m["requestId"].as_str().unwrap().starts_with('f'), "the error names its message: {m}");
                limited += 1;
            }
            _ => panic!("unexpected {m}"),
        }
    }
    // The burst (200) goes through, then the rate (50/s) for as long as the flood lasts.
    assert!(pongs >= 200 && limited > 0, "{pongs} pongs, {limited} limited");
    // Bob's budget is his own; alice's refills.
    b.send(json!({"type": "ping", "requestId": "b"})).await;
    assert_eq!(b.expect("pong").await["requestId"], "b");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    a.send(json!({"type": "ping", "requestId": "later"})).await;
    assert_eq!(a.expect("pong").await["requestId"], "later");

    // SFU requests have a budget of their own on top (40 at once, 10/s).
    let sfu = local.sfu_client("carol", json!({"canPublish": true, "canSubscribe": true})).await;
    let answers = futures_util::future::join_all((0..60).map(|_| sfu.request("leaveRoom", json!({})))).await;
    let codes: Vec<String> =
        answers.iter().map(|r| r.clone().unwrap_err()["code"].as_str().unwrap().to_owned()).collect();
    let limited = codes.iter().filter(|c| *c == "RATE_LIMITED").count();
    assert!(limited > 0 && codes.iter().filter(|c| *c == "PARTICIPANT_NOT_FOUND").count() >= 40, "{codes:?}");
}

#[tokio::test]
async fn a_sign_in_revoked_for_a_reused_refresh_token_opens_no_connection() {
    let local = start(&[]).await;
    let http = reqwest::Client::new();
    let minted: Value = local.mint_response(&http, "alice").await.json().await.unwrap();
    let refresh =
        |t: Value| http.post(format!("{}/auth/refresh", local.base)).json(&json!({"refresh_token": t})).send();
    let second: Value = refresh(minted["refresh_token"].clone()).await.unwrap().json().await.unwrap();
    let access = second["access_token"].as_str().unwrap();
    // Before the reuse the new access token connects; after it, not.
    WsClient::connect(&local.ws_url(access)).await.expect("connects").close().await;
    assert_eq!(refresh(minted["refresh_token"].clone()).await.unwrap().status(), 401);
    assert_eq!(WsClient::connect(&local.ws_url(access)).await.err(), Some(401));
    // Another sign-in of the same user is untouched.
    client(&local, "alice").await;
}
