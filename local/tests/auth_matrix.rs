//! The authorization matrix, through the local stack's real entry points.
//!
//! REST: every route the router serves (`stratus_api::routes::list`, the table the router is
//! built from) with every kind of bad token, another user's resource, another app's token for
//! the same user id, and a token whose grants do not allow it.
//!
//! WebSocket: `$connect` with every kind of bad token, then every client message the protocol
//! declares (`ws::MESSAGE_ROUTES`, `sfu::SFU_TYPES` and `ws::CHAT_TYPES`) naming another user's peer, transport,
//! producer or consumer, from another app, and under a limiting grant.
//!
//! A route or message added without a row fails its test. Cells that do not apply say why
//! (printed with `--nocapture`). Bad requests change nothing: what they aim at is checked
//! after, and each REST row's control (a valid token of the right user) still succeeds.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use stratus_api::routes::{Access, list};
use stratus_tests::local::LocalStack;
use stratus_tests::sfu_client::SfuClient;

const BIN: &str = env!("CARGO_BIN_EXE_stratus-local");
const JWT: &str = "matrix-jwt-secret-0123456789abcdef";
const OTHER: &str = "other-app";
const OTHER_SECRET: &str = "other-app-secret-0123456789";

/// What a request of one column must get (WebSocket cells put 0 for the status).
#[derive(Clone)]
enum Expect {
    /// This status and error code.
    Error(u16, &'static str),
    /// This status, and the JSON at `pointer` equal to this (the request is served, but what
    /// it sees is only its own).
    Sees(u16, &'static str, Value),
    /// This status, and nothing of this resource anywhere in the answer.
    Lacks(u16, &'static str),
    /// The column does not apply to this route; the reason says why.
    NotApplicable(&'static str),
}
use Expect::{Error, Lacks, NotApplicable, Sees};

struct Row {
    method: Method,
    /// The route as listed (`{id}` and all).
    route: &'static str,
    /// The concrete path requested.
    path: String,
    body: Option<Value>,
    /// Who the control request is made as, and what it gets.
    control_user: &'static str,
    control: u16,
    other_user: Expect,
    other_app: Expect,
    grants: Expect,
}

struct Http {
    base: String,
    http: reqwest::Client,
}

impl Http {
    async fn send(&self, method: &Method, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// An upload ticket of `token`'s for a 4-byte text file in session `path`, and the file
    /// put to the store with it.
    async fn uploaded(&self, token: &str, path: &str) -> Value {
        let req = json!({"file_name": "note.txt", "content_type": "text/plain", "size": 4});
        let (s, t) = self.send(&Method::POST, &format!("{path}/attachments"), Some(token), Some(&req)).await;
        assert_eq!(s, 201, "{t}");
        let put = self.http.put(t["upload_url"].as_str().unwrap()).header("content-type", "text/plain").body("note");
        assert_eq!(put.send().await.unwrap().status(), 200);
        t
    }
}

fn claims(user: &str, overrides: Value) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let mut c = json!({
        "iss": "stratus-local", "sub": user, "user_id": user, "role": "user",
        "grants": {"canPublish": true, "canSubscribe": true, "admin": false},
        "app": "dev", "token_type": "access", "jti": format!("j-{user}-{now}"),
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

/// Every kind of token that is not a valid access token of a configured app, with the code
/// it gets (401 each).
async fn bad_tokens(local: &LocalStack, user: &str) -> Vec<(&'static str, Option<String>, &'static str)> {
    let now = claims(user, json!({}))["iat"].as_i64().unwrap();
    let res = local.mint_response(&reqwest::Client::new(), user).await;
    let refresh = res.json::<Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_owned();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let alg_none = format!("{none_header}.{}.", URL_SAFE_NO_PAD.encode(claims(user, json!({})).to_string()));
    let jwt = JWT.as_bytes();
    vec![
        ("no token", None, "AUTH_TOKEN_MISSING"),
        (
            "expired",
            Some(sign(jwt, &claims(user, json!({"iat": now - 700, "nbf": now - 700, "exp": now - 60})))),
            "AUTH_TOKEN_EXPIRED",
        ),
        (
            "not yet valid",
            Some(sign(jwt, &claims(user, json!({"nbf": now + 3600, "exp": now + 7200})))),
            "AUTH_TOKEN_INVALID",
        ),
        (
            "forged signature",
            Some(sign(b"not-the-deployments-key-0123456789", &claims(user, json!({})))),
            "AUTH_TOKEN_INVALID",
        ),
        ("alg none", Some(alg_none), "AUTH_TOKEN_INVALID"),
        ("refresh token as access token", Some(refresh), "AUTH_TOKEN_INVALID"),
        (
            "an app the deployment does not have",
            Some(sign(jwt, &claims(user, json!({"app": "removed-app"})))),
            "AUTH_TOKEN_INVALID",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_what_it_must_and_serves_only_the_callers_own() {
    let local = LocalStack::start(BIN, &["--jwt-secret", JWT, "--app", &format!("{OTHER}={OTHER_SECRET}")], &[]).await;
    let api = Http { base: local.base.clone(), http: reqwest::Client::new() };
    let token = |user: &'static str| {
        let local = &local;
        async move { local.token(user).await }
    };

    // The world: alice calling bob (ringing), alice's room `matrix-room`, erin and dave
    // online for the initiate control; carol a stranger of the same app; app B's alice.
    let mut online = Vec::new();
    for user in ["alice", "bob", "dave", "erin"] {
        online.push(SfuClient::connect(&local.ws_url(&token(user).await)).await.expect("connect"));
    }
    let alice = token("alice").await;
    let body = json!({"caller_id": "alice", "callee_id": "bob", "call_type": "voice"});
    let (s, call) = api.send(&Method::POST, "/api/v1/calls/initiate", Some(&alice), Some(&body)).await;
    assert_eq!(s, 201, "{call}");
    let call_id = call["call_id"].as_str().unwrap().to_owned();
    let (s, room) =
        api.send(&Method::POST, "/api/v1/rooms", Some(&alice), Some(&json!({"roomId": "matrix-room"}))).await;
    assert_eq!(s, 201, "{room}");
    let (s, room) =
        api.send(&Method::POST, "/api/v1/rooms", Some(&alice), Some(&json!({"roomId": "a-only-room"}))).await;
    assert_eq!(s, 201, "{room}");
    let carol = token("carol").await;
    let b_alice = local.token_in(OTHER, OTHER_SECRET, "alice", json!({"canPublish": true, "canSubscribe": true})).await;
    let mint = json!({"app_key": local.app_key, "app_secret": local.app_secret, "user_id": "frank"});
    let (_, minted) = api.send(&Method::POST, "/auth/token", None, Some(&mint)).await;
    let refresh = json!({"refresh_token": minted["refresh_token"]});

    // Chat: alice's group with bob, her message `m1` (edited, reacted to, read) and `m2`
    // (deleted by the delete row's control).
    let (st, chat) = api
        .send(
            &Method::POST,
            "/api/v1/chat/sessions",
            Some(&alice),
            Some(&json!({"participants": ["bob"], "is_group": true})),
        )
        .await;
    assert_eq!(st, 201, "{chat}");
    let chat_id = chat["session_id"].as_str().unwrap().to_owned();
    let mut chat_msgs = Vec::new();
    for text in ["m1 stays", "m2 goes"] {
        let path = format!("/api/v1/chat/sessions/{chat_id}/messages");
        let (st, m) = api.send(&Method::POST, &path, Some(&alice), Some(&json!({"text": text}))).await;
        assert_eq!(st, 201, "{m}");
        chat_msgs.push(m["message_id"].as_str().unwrap().to_owned());
    }
    let chat_path = |suffix: &str| format!("/api/v1/chat/sessions/{chat_id}{suffix}");
    let (m1, m2) = (chat_msgs[0].clone(), chat_msgs[1].clone());
    // Her file message (attachment `a1`), and her file message `m4` whose upload the seed's
    // `/chat/attachment` row attaches.
    let a1 = api.uploaded(&alice, &chat_path("")).await["attachment_id"].as_str().unwrap().to_owned();
    let body = json!({"type": "file", "attachment_id": a1});
    let (st, m) = api.send(&Method::POST, &chat_path("/messages"), Some(&alice), Some(&body)).await;
    assert_eq!(st, 201, "{m}");
    let seed_upload = api.uploaded(&alice, &chat_path("")).await;
    let body = json!({"sessionID": chat_id, "senderID": "alice", "message": "m4 picture", "type": "file"});
    let (st, m) = api.send(&Method::POST, "/chat/message", Some(&alice), Some(&body)).await;
    assert_eq!(st, 201, "{m}");
    let m4 = m["data"]["message_id"].as_str().unwrap().to_owned();
    let chat_grants = "no grant governs chat: participation does";

    let not_own = "the route has no resource of one user that another could name";
    let no_grant = "no grant governs this route";
    let presence = "presence is visible to every user of the app, by design (docs/api.md)";
    let call_path = |suffix: &str| format!("/api/v1/calls/{call_id}{suffix}");
    let row = |method: Method, route: &'static str, path: String, body: Option<Value>| Row {
        method,
        route,
        path,
        body,
        control_user: "alice",
        control: 200,
        other_user: NotApplicable(not_own),
        other_app: NotApplicable(not_own),
        grants: NotApplicable(no_grant),
    };
    // A chat route of alice's session: anyone else, here or in app B, finds no such session.
    let chat_row = |r: Row| Row {
        other_user: Error(404, "CHAT_SESSION_NOT_FOUND"),
        other_app: Error(404, "CHAT_SESSION_NOT_FOUND"),
        grants: NotApplicable(chat_grants),
        ..r
    };
    // A seed route naming alice (`senderID`, `reaction.userId`): another user is refused for
    // naming someone else (403), app B's alice finds no such session (404).
    let seed_row = |r: Row| Row {
        other_user: Sees(403, "/status", json!(403)),
        other_app: Sees(404, "/status", json!(404)),
        grants: NotApplicable(chat_grants),
        ..r
    };
    let chat_id_static: &'static str = Box::leak(chat_id.clone().into_boxed_str());
    let rows = vec![
        row(Method::GET, "/health", "/health".into(), None),
        row(Method::GET, "/health/live", "/health/live".into(), None),
        row(Method::GET, "/health/ready", "/health/ready".into(), None),
        row(Method::GET, "/health/detailed", "/health/detailed".into(), None),
        row(Method::GET, "/api/version", "/api/version".into(), None),
        row(Method::POST, "/auth/token", "/auth/token".into(), Some(mint.clone())),
        row(Method::POST, "/auth/refresh", "/auth/refresh".into(), Some(refresh)),
        Row {
            other_app: Sees(200, "/claims/app", json!(OTHER)),
            ..row(Method::GET, "/auth/validate", "/auth/validate".into(), None)
        },
        Row {
            control_user: "erin",
            control: 201,
            other_user: Error(403, "FORBIDDEN"),
            // App B has no dave online; app A's dave is not app B's.
            other_app: Error(409, "USER_NOT_AVAILABLE"),
            ..row(
                Method::POST,
                "/api/v1/calls/initiate",
                "/api/v1/calls/initiate".into(),
                Some(json!({"caller_id": "erin", "callee_id": "dave", "call_type": "video"})),
            )
        },
        Row {
            other_user: Error(404, "CALL_NOT_FOUND"),
            other_app: Error(404, "CALL_NOT_FOUND"),
            ..row(Method::GET, "/api/v1/calls/{id}/status", call_path("/status"), None)
        },
        Row {
            other_user: Error(403, "FORBIDDEN"),
            other_app: Sees(200, "/calls", json!([])),
            ..row(Method::GET, "/api/v1/calls/user/{user_id}/active", "/api/v1/calls/user/alice/active".into(), None)
        },
        Row {
            other_user: Error(403, "FORBIDDEN"),
            other_app: Sees(200, "/pagination/total", json!(0)),
            ..row(Method::GET, "/api/v1/calls/user/{user_id}/history", "/api/v1/calls/user/alice/history".into(), None)
        },
        Row {
            control_user: "bob",
            other_user: Error(404, "CALL_NOT_FOUND"),
            other_app: Error(404, "CALL_NOT_FOUND"),
            ..row(Method::PUT, "/api/v1/calls/{id}/answer", call_path("/answer"), None)
        },
        Row {
            other_user: Error(404, "CALL_NOT_FOUND"),
            other_app: Error(404, "CALL_NOT_FOUND"),
            ..row(Method::DELETE, "/api/v1/calls/{id}", call_path(""), None)
        },
        row(Method::PUT, "/api/v1/presence/status", "/api/v1/presence/status".into(), Some(json!({"status": "away"}))),
        Row {
            other_user: NotApplicable(presence),
            other_app: Sees(200, "/online", json!(false)),
            ..row(Method::GET, "/api/v1/presence/status/{user_id}", "/api/v1/presence/status/alice".into(), None)
        },
        Row {
            other_user: NotApplicable(presence),
            other_app: Sees(200, "/status", json!("offline")),
            ..row(Method::GET, "/api/v1/presence/check/{user_id}", "/api/v1/presence/check/alice".into(), None)
        },
        row(Method::GET, "/api/v1/ice-servers", "/api/v1/ice-servers".into(), None),
        Row {
            control: 201,
            // The same name is free in app B (in app A it is taken: 409).
            other_app: Sees(201, "/owner", json!("alice")),
            grants: Error(403, "FORBIDDEN"),
            ..row(Method::POST, "/api/v1/rooms", "/api/v1/rooms".into(), Some(json!({"roomId": "matrix-room-2"})))
        },
        Row {
            other_user: Lacks(200, "a-only-room"),
            other_app: Lacks(200, "a-only-room"),
            ..row(Method::GET, "/api/v1/rooms", "/api/v1/rooms".into(), None)
        },
        Row {
            other_user: NotApplicable("any user of the app may join a room by name; a room grant limits it"),
            // Joins app B's own `matrix-room`, made by the create row above.
            other_app: Sees(200, "/roomId", json!("matrix-room")),
            grants: Error(403, "FORBIDDEN"),
            ..row(
                Method::POST,
                "/api/v1/rooms/join",
                "/api/v1/rooms/join".into(),
                Some(json!({"roomId": "matrix-room"})),
            )
        },
        Row {
            other_user: Error(404, "ROOM_NOT_FOUND"),
            other_app: Error(404, "ROOM_NOT_FOUND"),
            ..row(Method::GET, "/api/v1/rooms/{id}", "/api/v1/rooms/a-only-room".into(), None)
        },
        // Before the leave row: their controls need alice's connection in the room.
        Row {
            other_user: Error(404, "PARTICIPANT_NOT_FOUND"),
            other_app: Error(404, "ROOM_NOT_FOUND"),
            ..row(
                Method::PUT,
                "/api/v1/rooms/{id}/quality",
                "/api/v1/rooms/a-only-room/quality".into(),
                Some(json!({"quality": 50})),
            )
        },
        Row {
            other_user: Sees(403, "/status", json!(403)),
            other_app: Sees(404, "/status", json!(404)),
            ..row(
                Method::POST,
                "/call/quality",
                "/call/quality".into(),
                Some(json!({"sessionId": "a-only-room", "participantId": "alice", "quality": 50})),
            )
        },
        Row {
            // Alice's connection joins first (below), so leaving has something to leave.
            control: 204,
            // Room ids are not secret (anyone of the app may join by id): a stranger is told
            // they are not in it; in another app there is no such room.
            other_user: Error(404, "PARTICIPANT_NOT_FOUND"),
            other_app: Error(404, "ROOM_NOT_FOUND"),
            ..row(Method::POST, "/api/v1/rooms/{id}/leave", "/api/v1/rooms/a-only-room/leave".into(), Some(json!({})))
        },
        Row {
            control: 201,
            grants: NotApplicable(chat_grants),
            ..row(
                Method::POST,
                "/api/v1/chat/sessions",
                "/api/v1/chat/sessions".into(),
                Some(json!({"participants": ["dave"], "is_group": true})),
            )
        },
        Row {
            other_user: Lacks(200, chat_id_static),
            other_app: Lacks(200, chat_id_static),
            ..row(Method::GET, "/api/v1/chat/sessions", "/api/v1/chat/sessions".into(), None)
        },
        chat_row(row(Method::GET, "/api/v1/chat/sessions/{id}", chat_path(""), None)),
        Row {
            control: 201,
            ..chat_row(row(
                Method::POST,
                "/api/v1/chat/sessions/{id}/participants",
                chat_path("/participants"),
                Some(json!({"user_id": "erin"})),
            ))
        },
        chat_row(row(
            Method::PUT,
            "/api/v1/chat/sessions/{id}/participants/{user_id}",
            chat_path("/participants/bob"),
            Some(json!({"role": "admin"})),
        )),
        Row {
            // Removes erin, whom the add row's control put in.
            control: 204,
            ..chat_row(row(
                Method::DELETE,
                "/api/v1/chat/sessions/{id}/participants/{user_id}",
                chat_path("/participants/erin"),
                None,
            ))
        },
        Row {
            control: 201,
            ..chat_row(row(
                Method::POST,
                "/api/v1/chat/sessions/{id}/messages",
                chat_path("/messages"),
                Some(json!({"text": "from the matrix"})),
            ))
        },
        chat_row(row(Method::GET, "/api/v1/chat/sessions/{id}/messages", chat_path("/messages"), None)),
        chat_row(row(
            Method::PATCH,
            "/api/v1/chat/sessions/{id}/messages/{message_id}",
            chat_path(&format!("/messages/{m1}")),
            Some(json!({"text": "m1 edited"})),
        )),
        chat_row(row(
            Method::DELETE,
            "/api/v1/chat/sessions/{id}/messages/{message_id}",
            chat_path(&format!("/messages/{m2}")),
            None,
        )),
        chat_row(row(
            Method::PUT,
            "/api/v1/chat/sessions/{id}/messages/{message_id}/reactions/{emoji}",
            chat_path(&format!("/messages/{m1}/reactions/ok")),
            None,
        )),
        chat_row(row(
            Method::DELETE,
            "/api/v1/chat/sessions/{id}/messages/{message_id}/reactions/{emoji}",
            chat_path(&format!("/messages/{m1}/reactions/ok")),
            None,
        )),
        chat_row(row(
            Method::PUT,
            "/api/v1/chat/sessions/{id}/read",
            chat_path("/read"),
            Some(json!({"message_id": m1})),
        )),
        chat_row(row(Method::GET, "/api/v1/chat/sessions/{id}/usage", chat_path("/usage"), None)),
        Row {
            control: 201,
            ..chat_row(row(
                Method::POST,
                "/api/v1/chat/sessions/{id}/attachments",
                chat_path("/attachments"),
                Some(json!({"file_name": "x.png", "content_type": "image/png", "size": 10})),
            ))
        },
        chat_row(row(
            Method::GET,
            "/api/v1/chat/sessions/{id}/attachments/{attachment_id}",
            chat_path(&format!("/attachments/{a1}")),
            None,
        )),
        // Seed 003's chat routes answer in its envelope: the status is in `/status`.
        Row {
            control: 201,
            other_user: Sees(403, "/status", json!(403)),
            other_app: Sees(201, "/data/created_by", json!("alice")),
            grants: NotApplicable(chat_grants),
            ..row(
                Method::POST,
                "/chat/session",
                "/chat/session".into(),
                Some(json!({"creatorId": "alice", "participants": ["bob"], "isGroup": true})),
            )
        },
        Row {
            control: 201,
            ..seed_row(row(
                Method::POST,
                "/chat/message",
                "/chat/message".into(),
                Some(json!({"sessionID": chat_id, "senderID": "alice", "message": "seed hello", "type": "text"})),
            ))
        },
        seed_row(row(
            Method::POST,
            "/chat/reaction",
            "/chat/reaction".into(),
            Some(json!({"sessionId": chat_id, "messageId": m1, "reaction": {"type": "seed", "userId": "alice"}})),
        )),
        Row {
            other_user: Sees(404, "/status", json!(404)),
            ..seed_row(row(Method::GET, "/chat/messages/{id}", format!("/chat/messages/{chat_id}"), None))
        },
        // The body names no acting user: a stranger finds no session.
        Row {
            other_user: Sees(404, "/status", json!(404)),
            ..seed_row(row(
                Method::POST,
                "/chat/attachment",
                "/chat/attachment".into(),
                Some(json!({"sessionId": chat_id, "messageId": m4, "attachment": {
                    "type": "file", "url": seed_upload["url"], "name": "note.txt", "size": 4, "mimeType": "text/plain"
                }})),
            ))
        },
        Row {
            other_user: Sees(404, "/status", json!(404)),
            ..seed_row(row(Method::GET, "/chat/usage/{id}", format!("/chat/usage/{chat_id}"), None))
        },
    ];

    // Every route of the router has a row, and every row a route.
    let served: BTreeSet<(String, &str)> = list().iter().map(|r| (r.method.to_string(), r.path)).collect();
    let covered: BTreeSet<(String, &str)> = rows.iter().map(|r| (r.method.to_string(), r.route)).collect();
    assert_eq!(served, covered, "the matrix covers exactly the router's routes");
    let access = |row: &Row| {
        list().into_iter().find(|r| r.method.as_str() == row.method.as_str() && r.path == row.route).unwrap().access
    };

    // The create row's other-app case makes app B's `matrix-room` before the join row needs it.
    let b_room =
        api.send(&Method::POST, "/api/v1/rooms", Some(&b_alice), Some(&json!({"roomId": "matrix-room"}))).await;
    assert_eq!(b_room.0, 201, "app A's `matrix-room` does not take the name in app B: {}", b_room.1);

    let bad = bad_tokens(&local, "alice").await;
    let mut checked = 0;
    for row in &rows {
        let what = format!("{} {}", row.method, row.route);
        if access(row) == Access::Public {
            continue;
        }
        for (kind, token, code) in &bad {
            let (s, e) = api.send(&row.method, &row.path, token.as_deref(), row.body.as_ref()).await;
            if row.route.starts_with("/chat/") || row.route.starts_with("/call/") {
                // The seed's envelope has no code, only the status.
                assert_eq!((s, &e["status"], &e["data"]), (401, &json!(401), &Value::Null), "{what} with {kind}: {e}");
            } else {
                assert_eq!((s, e["error"]["code"].as_str()), (401, Some(*code)), "{what} with {kind}: {e}");
            }
            checked += 1;
        }
        // The other app's token and the limited token are for the same user id as the control.
        let grants = json!({"canPublish": true, "canSubscribe": true});
        let b_same = local.token_in(OTHER, OTHER_SECRET, row.control_user, grants).await;
        let elsewhere = json!({"room": "elsewhere", "canPublish": true, "canSubscribe": true});
        let limited = local.token_with(row.control_user, elsewhere).await;
        for (column, expect, token) in [
            ("another user", &row.other_user, &carol),
            ("another app", &row.other_app, &b_same),
            ("grants", &row.grants, &limited),
        ] {
            let (s, v) = match expect {
                NotApplicable(why) => {
                    eprintln!("{what}, {column}: not applicable: {why}");
                    continue;
                }
                _ => api.send(&row.method, &row.path, Some(token), row.body.as_ref()).await,
            };
            match expect {
                Error(status, code) => {
                    assert_eq!((s, v["error"]["code"].as_str()), (*status, Some(*code)), "{what}, {column}: {v}")
                }
                Sees(status, pointer, want) => {
                    assert_eq!((s, v.pointer(pointer)), (*status, Some(want)), "{what}, {column}: {v}")
                }
                Lacks(status, needle) => {
                    assert_eq!(s, *status, "{what}, {column}: {v}");
                    assert!(!v.to_string().contains(needle), "{what}, {column}: {v}");
                }
                NotApplicable(_) => unreachable!(),
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} denials checked");

    // None of it changed app A's call or room.
    let (_, c) = api.send(&Method::GET, &call_path("/status"), Some(&alice), None).await;
    assert_eq!((&c["status"], &c["participants"]), (&call["status"], &call["participants"]), "{c}");
    let (_, r) = api.send(&Method::GET, "/api/v1/rooms/a-only-room", Some(&alice), None).await;
    assert_eq!((r["owner"].as_str(), r["participants"].as_i64()), (Some("alice"), Some(0)), "{r}");

    let (_, page) = api.send(&Method::GET, &chat_path("/messages"), Some(&alice), None).await;
    let texts: Vec<&str> = page["messages"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, ["m4 picture", "m2 goes", "m1 stays", "alice created the session"], "{page}");
    assert_eq!(page["messages"][3]["reactions"], json!([]), "{page}");
    assert_eq!(page["messages"][0].get("attachment"), None, "m4 has no attachment yet: {page}");
    let (_, usage) = api.send(&Method::GET, &chat_path("/usage"), Some(&alice), None).await;
    assert_eq!(
        (usage["messages"].as_u64(), usage["participants"].as_u64(), usage["attachments"].as_u64()),
        (Some(4), Some(2), Some(1)),
        "{usage}"
    );

    // Each row's control succeeds, so the denials above were for their own reason.
    online[0].ok("joinRoom", json!({"roomId": "a-only-room"})).await;
    for row in &rows {
        let t = token(row.control_user).await;
        let (s, v) = api.send(&row.method, &row.path, Some(&t), row.body.as_ref()).await;
        assert_eq!(s, row.control, "{} {} as {}: {v}", row.method, row.route, row.control_user);
    }
    for c in &online {
        c.close();
    }
}

/// Sends `{type, requestId, data}` as it is and waits for the answer carrying that request id
/// (an `error`, or whatever the message is answered with).
async fn answer(c: &SfuClient, kind: &str, data: &Value) -> Value {
    let rid = format!("m-{kind}-{}", rand_suffix());
    c.send_text(&json!({"type": kind, "requestId": rid, "data": data}).to_string());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(v) = c.events().into_iter().find(|v| v["requestId"] == rid.as_str()) {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "no answer to {kind} {data}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

fn rand_suffix() -> String {
    stratus_tests::rest::random_hex()[..12].to_owned()
}

/// One cell of the WebSocket matrix: who sends, what, and what they must get.
struct Cell<'a> {
    column: &'static str,
    who: &'a SfuClient,
    data: Value,
    expect: Expect,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_websocket_message_refuses_what_it_must_and_reaches_only_the_senders_own() {
    use stratus_tests::peer::{PublishOptions, Publisher, Subscriber};
    let local = LocalStack::start(BIN, &["--jwt-secret", JWT, "--app", &format!("{OTHER}={OTHER_SECRET}")], &[]).await;
    let all = json!({"canPublish": true, "canSubscribe": true});

    // $connect: every message needs a connection, and no bad token gets one.
    for (kind, token, code) in bad_tokens(&local, "alice").await {
        let url = local.ws_url(token.as_deref().unwrap_or(""));
        match SfuClient::connect(&url).await {
            Err((status, body)) => {
                assert_eq!((status, body["error"]["code"].as_str()), (401, Some(code)), "$connect with {kind}: {body}")
            }
            Ok(_) => panic!("$connect with {kind} was accepted"),
        }
    }

    // The world. App A: alice and bob in P2P room `p2p-room` and SFU room `sfu-room`, alice
    // publishing video, bob subscribed. carol (A) is in `sfu-room` but owns nothing in it;
    // stranger (A) is in P2P room `stranger-room` only. App B: alice (same user id) in B's own `sfu-room`. lim (A)
    // holds a token limited to room `elsewhere` that may neither publish nor subscribe.
    let alice = local.sfu_client("alice", all.clone()).await;
    let bob = local.sfu_client("bob", all.clone()).await;
    let carol = local.sfu_client("carol", all.clone()).await;
    let stranger = local.sfu_client("stranger", all.clone()).await;
    let b_alice = SfuClient::connect(&local.ws_url(&local.token_in(OTHER, OTHER_SECRET, "alice", all.clone()).await))
        .await
        .unwrap();
    let lim = local.sfu_client("lim", json!({"room": "elsewhere", "canPublish": false, "canSubscribe": false})).await;
    let joined = answer(&alice, "join", &json!({"room": "p2p-room"})).await;
    let alice_peer = joined["data"]["peerId"].as_str().expect("peer id").to_owned();
    assert_eq!(answer(&bob, "join", &json!({"room": "p2p-room"})).await["type"], "joined");
    assert_eq!(answer(&stranger, "join", &json!({"room": "stranger-room"})).await["type"], "joined");
    alice.ok("createRoom", json!({"roomId": "sfu-room"})).await;
    for c in [&alice, &bob, &carol] {
        c.ok("joinRoom", json!({"roomId": "sfu-room"})).await;
    }
    b_alice.ok("createRoom", json!({"roomId": "sfu-room"})).await;
    b_alice.ok("joinRoom", json!({"roomId": "sfu-room"})).await;
    lim.ok("createRoom", json!({"roomId": "elsewhere"})).await;
    lim.ok("joinRoom", json!({"roomId": "elsewhere"})).await;
    let publisher = Publisher::start_with(&alice, PublishOptions { audio: false, ..Default::default() }).await;
    let video = publisher.producers[0].producer_id.clone();
    let sub = Subscriber::start_with(&bob).await;
    let consumer = sub.subscribe_with(&bob, &video, None).await;
    // App B's alice has a transport of her own, so her refusal is about the producer named.
    let b_recv = b_alice.ok("createWebRtcTransport", json!({"direction": "recv"})).await;
    let b_t = &b_recv["transportId"];
    for c in [&alice, &bob, &carol, &b_alice] {
        let _ = c.events();
    }

    let pt = publisher.transport_id.clone();
    let st = sub.transport_id.clone();
    let cid = consumer.consumer_id.clone();
    // A chat session of alice and bob, for `chat-typing`.
    let alice_token = local.token("alice").await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/chat/sessions", local.base))
        .bearer_auth(&alice_token)
        .json(&json!({"participants": ["bob"], "is_group": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let chat_id = res.json::<Value>().await.unwrap()["session_id"].as_str().unwrap().to_owned();
    let na = |column, why| Cell { column, who: &carol, data: Value::Null, expect: NotApplicable(why) };
    let open = "rooms are open by name to every user of the app; a room grant limits them";
    let own = "acts on the sender's own connection only";
    let relay = |to: &str| json!({"to": to, "sdp": "v=0", "candidate": {"candidate": "c"}});
    let typing = json!({"session_id": chat_id});
    let mut rows: Vec<(&str, Vec<Cell>)> = vec![
        ("ping", vec![na("another user", own), na("another app", own), na("grants", own)]),
        (
            "chat-typing",
            vec![
                Cell {
                    column: "another user",
                    who: &carol,
                    data: typing.clone(),
                    expect: Error(0, "CHAT_SESSION_NOT_FOUND"),
                },
                Cell {
                    column: "another app",
                    who: &b_alice,
                    data: typing.clone(),
                    expect: Error(0, "CHAT_SESSION_NOT_FOUND"),
                },
                na("grants", "no grant governs chat: participation does"),
            ],
        ),
        (
            "join",
            vec![
                na("another user", open),
                Cell {
                    column: "another app",
                    who: &b_alice,
                    data: json!({"room": "p2p-room"}),
                    expect: Sees(0, "/data/peers", json!([])),
                },
                Cell { column: "grants", who: &lim, data: json!({"room": "p2p-room"}), expect: Error(0, "FORBIDDEN") },
            ],
        ),
        (
            "leave",
            vec![
                Cell {
                    column: "another user",
                    who: &stranger,
                    data: json!({"room": "p2p-room"}),
                    expect: Error(0, "NOT_IN_ROOM"),
                },
                Cell {
                    column: "another app",
                    who: &b_alice,
                    data: json!({"room": "standalone"}),
                    expect: Error(0, "NOT_IN_ROOM"),
                },
                na("grants", own),
            ],
        ),
    ];
    for kind in ["offer", "answer", "candidate", "bye", "custom"] {
        rows.push((
            kind,
            vec![
                Cell {
                    column: "another user",
                    who: &stranger,
                    data: relay(&alice_peer),
                    expect: Error(0, "PEER_NOT_FOUND"),
                },
                Cell {
                    column: "another app",
                    who: &b_alice,
                    data: relay(&alice_peer),
                    expect: Error(0, "PEER_NOT_FOUND"),
                },
                na("grants", "no grant governs relaying; sharing a room does"),
            ],
        ));
    }
    let sfu_rows: Vec<(&str, Vec<Cell>)> = vec![
        (
            "createRoom",
            vec![
                Cell {
                    column: "another user",
                    who: &stranger,
                    data: json!({"roomId": "sfu-room"}),
                    expect: Error(0, "CONFLICT"),
                },
                Cell {
                    column: "another app",
                    who: &b_alice,
                    data: json!({"roomId": "p2p-only"}),
                    expect: Sees(0, "/data/owner", json!("alice")),
                },
                Cell {
                    column: "grants",
                    who: &lim,
                    data: json!({"roomId": "sfu-room-2"}),
                    expect: Error(0, "FORBIDDEN"),
                },
            ],
        ),
        (
            "joinRoom",
            vec![
                na("another user", open),
                na("another app", "each app's `sfu-room` is joined above; the answers list only that app's members"),
                Cell {
                    column: "grants",
                    who: &lim,
                    data: json!({"roomId": "sfu-room"}),
                    expect: Error(0, "FORBIDDEN"),
                },
            ],
        ),
        ("leaveRoom", vec![na("another user", own), na("another app", own), na("grants", own)]),
        (
            "setQuality",
            vec![
                na("another user", own),
                na("another app", own),
                na("grants", "no grant governs it: it only shapes what the caller itself receives"),
            ],
        ),
        (
            "getRouterRtpCapabilities",
            vec![
                na("another user", "codec capabilities are the same for every room"),
                na("another app", "the same"),
                na("grants", "the same"),
            ],
        ),
        (
            "createWebRtcTransport",
            vec![
                na("another user", own),
                na("another app", own),
                Cell { column: "grants", who: &lim, data: json!({"direction": "recv"}), expect: Error(0, "FORBIDDEN") },
                Cell { column: "grants", who: &lim, data: json!({"direction": "send"}), expect: Error(0, "FORBIDDEN") },
            ],
        ),
        (
            "connectWebRtcTransport",
            vec![
                Cell {
                    column: "another user",
                    who: &carol,
                    data: json!({"transportId": st, "sdp": "v=0"}),
                    expect: Error(0, "TRANSPORT_NOT_FOUND"),
                },
                Cell {
                    column: "another app",
                    who: &b_alice,
                    data: json!({"transportId": st, "sdp": "v=0"}),
                    expect: Error(0, "TRANSPORT_NOT_FOUND"),
                },
                na("grants", own),
            ],
        ),
        (
            "restartIce",
            vec![
                Cell {
                    column: "another user",
                    who: &carol,
                    data: json!({"transportId": pt}),
                    expect: Error(0, "TRANSPORT_NOT_FOUND"),
                },
                Cell {
                    column: "another app",
                    who: &b_alice,
                    data: json!({"transportId": pt}),
                    expect: Error(0, "TRANSPORT_NOT_FOUND"),
                },
                na("grants", own),
            ],
        ),
        (
            "publish",
            vec![
                Cell {
                    column: "another user",
                    who: &carol,
                    data: json!({"transportId": pt, "sdp": "v=0", "tracks": []}),
                    expect: Error(0, "TRANSPORT_NOT_FOUND"),
                },
                Cell {
                    column: "another app",
                    who: &b_alice,
                    data: json!({"transportId": pt, "sdp": "v=0", "tracks": []}),
                    expect: Error(0, "TRANSPORT_NOT_FOUND"),
                },
                na(
                    "grants",
                    "enforced where the transport is made (createWebRtcTransport); lim has none to publish on",
                ),
            ],
        ),
        (
            "subscribe",
            vec![
                Cell {
                    column: "another user",
                    who: &carol,
                    data: json!({"transportId": st, "producerId": video}),
                    expect: Error(0, "TRANSPORT_NOT_FOUND"),
                },
                Cell {
                    column: "another app",
                    who: &b_alice,
                    data: json!({"transportId": b_t, "producerId": video}),
                    expect: Error(0, "PRODUCER_NOT_FOUND"),
                },
                na(
                    "grants",
                    "enforced where the transport is made (createWebRtcTransport); lim has none to receive on",
                ),
            ],
        ),
    ];
    rows.extend(sfu_rows);
    for kind in ["unpublish", "pauseProducer", "resumeProducer"] {
        rows.push((
            kind,
            vec![
                Cell {
                    column: "another user",
                    who: &carol,
                    data: json!({"producerId": video}),
                    expect: Error(0, "PRODUCER_NOT_FOUND"),
                },
                Cell {
                    column: "another app",
                    who: &b_alice,
                    data: json!({"producerId": video}),
                    expect: Error(0, "PRODUCER_NOT_FOUND"),
                },
                na("grants", "only the producer's own participant can name it"),
            ],
        ));
    }
    for kind in ["unsubscribe", "pause", "resume", "setPreferredLayers"] {
        let data = json!({"consumerId": cid, "spatialLayer": 0});
        let data = if kind == "setPreferredLayers" { data } else { json!({"consumerId": cid}) };
        rows.push((
            kind,
            vec![
                Cell {
                    column: "another user",
                    who: &carol,
                    data: data.clone(),
                    expect: Error(0, "CONSUMER_NOT_FOUND"),
                },
                Cell { column: "another app", who: &b_alice, data, expect: Error(0, "CONSUMER_NOT_FOUND") },
                na("grants", "only the consumer's own participant can name it"),
            ],
        ));
    }

    // Every client message type the protocol declares has a row, and every row a type.
    let declared: BTreeSet<&str> = stratus_protocol::ws::MESSAGE_ROUTES
        .iter()
        .chain(stratus_protocol::sfu::SFU_TYPES)
        .chain(stratus_protocol::ws::CHAT_TYPES)
        .copied()
        .collect();
    let covered: BTreeSet<&str> = rows.iter().map(|(k, _)| *k).collect();
    assert_eq!(declared, covered, "the matrix covers exactly the protocol's client messages");

    let mut checked = 0;
    for (kind, cells) in &rows {
        for cell in cells {
            let what = format!("{kind}, {}", cell.column);
            if let NotApplicable(why) = &cell.expect {
                eprintln!("{what}: not applicable: {why}");
                continue;
            }
            let v = answer(cell.who, kind, &cell.data).await;
            match &cell.expect {
                Error(_, code) => {
                    assert_eq!(
                        (v["type"].as_str(), v["data"]["code"].as_str()),
                        (Some("error"), Some(*code)),
                        "{what}: {v}"
                    )
                }
                Sees(_, pointer, want) => assert_eq!(v.pointer(pointer), Some(want), "{what}: {v}"),
                Lacks(_, needle) => assert!(!v.to_string().contains(needle), "{what}: {v}"),
                NotApplicable(_) => unreachable!(),
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} cells checked");

    // App A is as it was: alice heard no relay, bob still receives her video, and nobody
    // left A's rooms.
    let relayed = ["offer", "answer", "candidate", "bye", "custom"];
    assert!(
        alice.events().iter().all(|e| !relayed.contains(&e["type"].as_str().unwrap_or(""))),
        "{:?}",
        alice.events()
    );
    assert!(
        bob.events().iter().all(|e| e["type"] != "participantLeft" && e["type"] != "producerClosed"),
        "{:?}",
        bob.events()
    );
    let before = sub.got(consumer.ssrc).len();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while sub.got(consumer.ssrc).len() < before + 20 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(sub.got(consumer.ssrc).len() >= before + 20, "bob's consumer still receives");
    publisher.stop().await;
    for c in [&alice, &bob, &carol, &stranger, &b_alice, &lim] {
        c.close();
    }
}
