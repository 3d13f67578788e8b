//! A client written from seed 003's chat section, run as written against its paths on the
//! local stack: the bodies are the document's (`fixtures/seed003-chat.json`, with the ids
//! the service made put in), answers come in its `{status, message, data}` envelope, errors
//! too, and chat notifications arrive on `/chat/notifications`.

use serde_json::{Value, json};
use std::time::Duration;
use stratus_tests::local::LocalStack;
use stratus_tests::sfu_client::SfuClient;

const BIN: &str = env!("CARGO_BIN_EXE_stratus-local");

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/seed003-chat.json")).unwrap()
}

async fn send(
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_owned());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, serde_json::from_str(&res.text().await.unwrap()).unwrap_or(Value::Null))
}

/// The seed's error shape, exactly.
#[track_caller]
fn assert_seed_error(got: &(u16, Value), status: u16) {
    assert_eq!(got.0, status, "{}", got.1);
    let keys: Vec<&String> = got.1.as_object().expect("an object").keys().collect();
    assert_eq!(keys, ["data", "message", "status"], "{}", got.1);
    assert_eq!((got.1["status"].as_u64(), &got.1["data"]), (Some(status as u64), &Value::Null));
    assert!(!got.1["message"].as_str().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_of_the_seed_chat_contract_works_as_written() {
    use reqwest::Method;
    let local = LocalStack::start(BIN, &[], &[]).await;
    let base = local.base.clone();
    let (t123, t456, t999) = (local.token("user123").await, local.token("user456").await, local.token("user999").await);
    let ws = local.ws_url(&t456).replacen("/ws?", "/chat/notifications?", 1);
    let user456 = SfuClient::connect(&ws).await.expect("the seed's notifications socket");
    let f = fixture();

    // POST /chat/session, the body as written.
    let created =
        send(&base, Method::POST, "/chat/session", Some(&t123), Some(&f["POST /chat/session"].to_string())).await;
    assert_eq!(created.0, 201, "{}", created.1);
    assert_eq!((created.1["status"].as_u64(), created.1["message"].is_string()), (Some(201), true));
    let session = &created.1["data"];
    let sid = session["session_id"].as_str().unwrap().to_owned();
    assert_eq!(session["is_group"], true);
    let users: Vec<&str> =
        session["participants"].as_array().unwrap().iter().map(|p| p["user_id"].as_str().unwrap()).collect();
    assert_eq!(users, ["user123", "user456", "user789"]);
    let (c, e) = (session["created_at"].as_str().unwrap(), session["expires_at"].as_str().unwrap());
    let secs = |t: &str| chrono_secs(t);
    assert_eq!(secs(e) - secs(c), 3600, "duration 3600000000000 ns is an hour: {c} → {e}");

    // POST /chat/message: the document's body with the session's id.
    let mut body = f["POST /chat/message"].clone();
    body["sessionID"] = json!(sid);
    let sent = send(&base, Method::POST, "/chat/message", Some(&t123), Some(&body.to_string())).await;
    assert_eq!(sent.0, 201, "{}", sent.1);
    let mid = sent.1["data"]["message_id"].as_str().unwrap().to_owned();
    assert_eq!(
        (sent.1["data"]["text"].as_str(), sent.1["data"]["sender_id"].as_str()),
        (Some("Hello!"), Some("user123"))
    );
    let ev = user456.event("chat-message", |d| d["message"]["text"] == "Hello!", Duration::from_secs(5)).await;
    assert!(ev.is_some(), "user456 is told on /chat/notifications: {:?}", user456.events());

    // POST /chat/reaction.
    let mut body = f["POST /chat/reaction"].clone();
    body["sessionId"] = json!(sid);
    body["messageId"] = json!(mid);
    let reacted = send(&base, Method::POST, "/chat/reaction", Some(&t123), Some(&body.to_string())).await;
    assert_eq!(reacted.0, 200, "{}", reacted.1);
    assert_eq!(reacted.1["data"]["reactions"], json!([{"emoji": "👍", "count": 1, "me": true}]));
    assert!(user456.event("chat-reaction", |d| d["emoji"] == "👍", Duration::from_secs(5)).await.is_some());

    // GET /chat/messages/:sessionID and /chat/usage/:sessionID.
    let page = send(&base, Method::GET, &format!("/chat/messages/{sid}"), Some(&t456), None).await;
    assert_eq!(page.0, 200, "{}", page.1);
    let texts: Vec<&str> =
        page.1["data"]["messages"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, ["Hello!", "user123 created the session"]);
    let usage = send(&base, Method::GET, &format!("/chat/usage/{sid}"), Some(&t456), None).await;
    assert_eq!(usage.0, 200, "{}", usage.1);
    assert_eq!((usage.1["data"]["messages"].as_u64(), usage.1["data"]["participants"].as_u64()), (Some(1), Some(3)));

    // The acting user a body names is the token's: refused, not obeyed.
    let mut forged = f["POST /chat/message"].clone();
    forged["sessionID"] = json!(sid);
    forged["senderID"] = json!("user456");
    assert_seed_error(&send(&base, Method::POST, "/chat/message", Some(&t123), Some(&forged.to_string())).await, 403);
    let forged_session = f["POST /chat/session"].to_string();
    assert_seed_error(&send(&base, Method::POST, "/chat/session", Some(&t456), Some(&forged_session)).await, 403);
    let mut forged_reaction = body.clone();
    forged_reaction["reaction"]["userId"] = json!("user456");
    let r = send(&base, Method::POST, "/chat/reaction", Some(&t123), Some(&forged_reaction.to_string())).await;
    assert_seed_error(&r, 403);
    // A stranger finds no session; no token, bad JSON, unknown fields: the seed's shape.
    assert_seed_error(&send(&base, Method::GET, &format!("/chat/messages/{sid}"), Some(&t999), None).await, 404);
    assert_seed_error(&send(&base, Method::GET, &format!("/chat/usage/{sid}"), Some(&t999), None).await, 404);
    assert_seed_error(&send(&base, Method::GET, &format!("/chat/usage/{sid}"), None, None).await, 401);
    assert_seed_error(&send(&base, Method::POST, "/chat/message", Some(&t123), Some("{\"sessionID\":")).await, 400);
    let mut extra = f["POST /chat/message"].clone();
    extra["sessionID"] = json!(sid);
    extra["priority"] = json!("high");
    assert_seed_error(&send(&base, Method::POST, "/chat/message", Some(&t123), Some(&extra.to_string())).await, 400);
    let mut stranger = f["POST /chat/message"].clone();
    stranger["sessionID"] = json!(sid);
    stranger["receiverID"] = json!("user999");
    assert_seed_error(&send(&base, Method::POST, "/chat/message", Some(&t123), Some(&stranger.to_string())).await, 400);
    // None of it was sent.
    let usage = send(&base, Method::GET, &format!("/chat/usage/{sid}"), Some(&t123), None).await;
    assert_eq!(usage.1["data"]["messages"], 1, "{}", usage.1);
    user456.close();
}

/// Seconds since the epoch of an RFC 3339 time.
fn chrono_secs(t: &str) -> i64 {
    let at = humantime::parse_rfc3339(t).unwrap();
    at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Seed 003's attachment flow on the local stack: an image message first (`type: image`),
/// the file uploaded by a ticket to the embedded object store, then `POST /chat/attachment`
/// with the document's body naming that upload; the document's own example URL (outside the
/// service) is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_client_attaches_an_uploaded_image_to_its_message() {
    use reqwest::Method;
    let local = LocalStack::start(BIN, &[], &[]).await;
    let base = local.base.clone();
    let (t123, t456) = (local.token("user123").await, local.token("user456").await);
    let f = fixture();
    let created =
        send(&base, Method::POST, "/chat/session", Some(&t123), Some(&f["POST /chat/session"].to_string())).await;
    let sid = created.1["data"]["session_id"].as_str().unwrap().to_owned();
    let mut body = f["POST /chat/message"].clone();
    body["sessionID"] = json!(sid);
    body["type"] = json!("image");
    body["message"] = json!("from the beach");
    let sent = send(&base, Method::POST, "/chat/message", Some(&t123), Some(&body.to_string())).await;
    assert_eq!((sent.0, sent.1["data"]["type"].as_str()), (201, Some("image")), "{}", sent.1);
    let mid = sent.1["data"]["message_id"].as_str().unwrap().to_owned();

    // The document's example, as written: an outside URL is not an upload of this service.
    let mut attach = f["POST /chat/attachment"].clone();
    attach["sessionId"] = json!(sid);
    attach["messageId"] = json!(mid);
    assert_seed_error(
        &send(&base, Method::POST, "/chat/attachment", Some(&t123), Some(&attach.to_string())).await,
        400,
    );

    // Upload by a ticket (the project's route), then attach it with the seed's body.
    let image = vec![0xffu8; 1024];
    let req = json!({"file_name": "vacation.jpg", "content_type": "image/jpeg", "size": image.len()});
    let t = send(
        &base,
        Method::POST,
        &format!("/api/v1/chat/sessions/{sid}/attachments"),
        Some(&t123),
        Some(&req.to_string()),
    )
    .await;
    assert_eq!(t.0, 201, "{}", t.1);
    let mut put = reqwest::Client::new().put(t.1["upload_url"].as_str().unwrap()).body(image.clone());
    put = put.header("content-type", "image/jpeg");
    assert_eq!(put.send().await.unwrap().status(), 200);
    attach["attachment"]["url"] = t.1["url"].clone();
    attach["attachment"]["size"] = json!(image.len());
    // Another user's message, or a size that is not the upload's: refused.
    let theirs = send(&base, Method::POST, "/chat/attachment", Some(&t456), Some(&attach.to_string())).await;
    assert_seed_error(&theirs, 403);
    let mut wrong = attach.clone();
    wrong["attachment"]["size"] = json!(1024000);
    assert_seed_error(&send(&base, Method::POST, "/chat/attachment", Some(&t123), Some(&wrong.to_string())).await, 400);
    let done = send(&base, Method::POST, "/chat/attachment", Some(&t123), Some(&attach.to_string())).await;
    assert_eq!(done.0, 200, "{}", done.1);
    let a = &done.1["data"]["attachment"];
    assert_eq!((a["file_name"].as_str(), a["size"].as_u64()), (Some("vacation.jpg"), Some(1024)), "{}", done.1);
    // A participant downloads it; the usage counts it once; attaching again is a conflict.
    let aid = a["attachment_id"].as_str().unwrap();
    let d =
        send(&base, Method::GET, &format!("/api/v1/chat/sessions/{sid}/attachments/{aid}"), Some(&t456), None).await;
    let got = reqwest::get(d.1["download_url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(got.to_vec(), image);
    let usage = send(&base, Method::GET, &format!("/chat/usage/{sid}"), Some(&t456), None).await;
    assert_eq!(
        (usage.1["data"]["attachments"].as_u64(), usage.1["data"]["attachment_bytes"].as_u64()),
        (Some(1), Some(1024))
    );
    assert_seed_error(
        &send(&base, Method::POST, "/chat/attachment", Some(&t123), Some(&attach.to_string())).await,
        409,
    );
}
