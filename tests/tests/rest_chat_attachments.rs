//! Chat attachments through the real router, on the embedded store (its object store on a
//! loopback port) and on DynamoDB with S3 (moto): a ticket, the upload a client makes with
//! it, the message that attaches it, downloads for participants only, and every refusal.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use stratus_core::objects::Presigned;
use stratus_tests::objects::send as send_presigned;
use stratus_tests::rest::{APP_KEY, Resp, TestApi};

const BASE: &str = "/api/v1/chat/sessions";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n a small image, as far as this test cares";

async fn call(api: &TestApi, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
    api.call(method, path, Some(token), body).await
}

async fn group(api: &TestApi, token: &str, others: &[&str]) -> String {
    let r = call(api, Method::POST, BASE, token, Some(json!({"participants": others, "is_group": true}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["session_id"].as_str().unwrap().to_owned()
}

async fn ticket(api: &TestApi, token: &str, s: &str, name: &str, ct: &str, size: usize) -> Resp {
    let body = json!({"file_name": name, "content_type": ct, "size": size});
    call(api, Method::POST, &format!("{BASE}/{s}/attachments"), token, Some(body)).await
}

/// The PUT a client makes with a ticket.
fn presigned(t: &Value) -> Presigned {
    let headers = t["upload_headers"].as_object().unwrap().iter();
    Presigned {
        method: "PUT",
        url: t["upload_url"].as_str().unwrap().to_owned(),
        headers: headers.map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect(),
    }
}

async fn put(t: &Value, body: &[u8]) -> u16 {
    send_presigned(&presigned(t), body.to_vec()).await.status().as_u16()
}

async fn send(api: &TestApi, token: &str, s: &str, body: Value) -> Resp {
    call(api, Method::POST, &format!("{BASE}/{s}/messages"), token, Some(body)).await
}

fn object_key(s: &str, a: &str) -> String {
    stratus_core::records::chat::object_key(APP_KEY, s, a)
}

async fn usage(api: &TestApi, token: &str, s: &str) -> (u64, u64, u64) {
    let u = call(api, Method::GET, &format!("{BASE}/{s}/usage"), token, None).await;
    let n = |k: &str| u.body[k].as_u64().unwrap();
    (n("messages"), n("attachments"), n("attachment_bytes"))
}

async fn an_image_goes_up_by_ticket_and_down_to_participants_only(api: TestApi) {
    api.connect_ws("b1=", "bob").await;
    let (ta, tb, tc) = (api.token("alice").await, api.token("bob").await, api.token("carol").await);
    let s = group(&api, &ta, &["bob", "carol"]).await;
    let t = ticket(&api, &ta, &s, "cat.png", "image/png", PNG.len()).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.text);
    assert_eq!(t.body["upload_method"], "PUT");
    assert_eq!(t.body["upload_headers"]["content-type"], "image/png");
    let a = t.body["attachment_id"].as_str().unwrap().to_owned();
    assert_eq!(put(&t.body, PNG).await, 200);
    api.sink.take("b1=");

    let m = send(&api, &ta, &s, json!({"type": "image", "attachment_id": a, "text": "look"})).await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.text);
    let want = json!({"attachment_id": a, "file_name": "cat.png", "content_type": "image/png", "size": PNG.len()});
    assert_eq!((&m.body["type"], &m.body["attachment"], &m.body["text"]), (&json!("image"), &want, &json!("look")));
    let evs = api.sink.take("b1=");
    let ev = evs.iter().find(|e| e["type"] == "chat-message").expect("bob hears of it");
    assert_eq!(ev["data"]["message"]["attachment"], want);
    assert_eq!(usage(&api, &tb, &s).await, (1, 1, PNG.len() as u64));

    // A participant downloads it by a presigned GET; a stranger learns nothing.
    let path = format!("{BASE}/{s}/attachments/{a}");
    let d = call(&api, Method::GET, &path, &tb, None).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    let got = reqwest::get(d.body["download_url"].as_str().unwrap()).await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), PNG);
    let mallory = api.token("mallory").await;
    call(&api, Method::GET, &path, &mallory, None).await.assert_error(404, "CHAT_SESSION_NOT_FOUND");
    let stranger_ticket = ticket(&api, &mallory, &s, "x.png", "image/png", 3).await;
    stranger_ticket.assert_error(404, "CHAT_SESSION_NOT_FOUND");

    // One attachment, one message; another's upload is not yours to send.
    let again = send(&api, &ta, &s, json!({"type": "image", "attachment_id": a})).await;
    again.assert_error(409, "CONFLICT");
    let t2 = ticket(&api, &ta, &s, "notes.txt", "text/plain", 5).await;
    let a2 = t2.body["attachment_id"].as_str().unwrap().to_owned();
    assert_eq!(put(&t2.body, b"hello").await, 200);
    let theirs = send(&api, &tb, &s, json!({"type": "file", "attachment_id": a2})).await;
    theirs.assert_error(404, "ATTACHMENT_NOT_FOUND");
    let pending = call(&api, Method::GET, &format!("{BASE}/{s}/attachments/{a2}"), &ta, None).await;
    pending.assert_error(404, "ATTACHMENT_NOT_FOUND");
    let f = send(&api, &ta, &s, json!({"type": "file", "attachment_id": a2})).await;
    assert_eq!((f.status, f.body["text"].clone()), (StatusCode::CREATED, Value::Null), "no caption: {}", f.text);
    assert_eq!(usage(&api, &ta, &s).await, (2, 2, PNG.len() as u64 + 5));

    // Removed, carol downloads nothing more.
    call(&api, Method::GET, &path, &tc, None).await;
    let r = call(&api, Method::DELETE, &format!("{BASE}/{s}/participants/carol"), &ta, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    call(&api, Method::GET, &path, &tc, None).await.assert_error(404, "CHAT_SESSION_NOT_FOUND");

    // Deleted, the message shows no attachment, and its file is gone.
    let mid = m.body["message_id"].as_str().unwrap();
    let del = call(&api, Method::DELETE, &format!("{BASE}/{s}/messages/{mid}"), &ta, None).await;
    assert_eq!((del.status, del.body.get("attachment")), (StatusCode::OK, None), "{}", del.text);
    call(&api, Method::GET, &path, &tb, None).await.assert_error(404, "ATTACHMENT_NOT_FOUND");
    assert_eq!(api.objects.head(&object_key(&s, &a)).await.unwrap(), None);
    assert!(api.objects.head(&object_key(&s, &a2)).await.unwrap().is_some(), "the other stays");
}
stratus_tests::on_both_stores!(lifecycle, an_image_goes_up_by_ticket_and_down_to_participants_only);

async fn uploads_of_another_size_or_type_are_refused_and_nothing_is_attached(api: TestApi) {
    let ta = api.token("alice").await;
    let s = group(&api, &ta, &["bob"]).await;
    let t = ticket(&api, &ta, &s, "cat.png", "image/png", PNG.len()).await;
    let a = t.body["attachment_id"].as_str().unwrap().to_owned();
    let msg = json!({"type": "image", "attachment_id": a});
    let r = send(&api, &ta, &s, msg.clone()).await;
    assert!(r.assert_error(409, "ATTACHMENT_INCOMPLETE").contains("not uploaded"), "{}", r.text);

    // Longer than declared: S3 and the embedded store refuse the PUT (moto, which checks no
    // signatures, takes it); either way the message is refused and the upload is gone.
    let mut longer = PNG.to_vec();
    longer.extend_from_slice(b"and more");
    put(&t.body, &longer).await;
    send(&api, &ta, &s, msg.clone()).await.assert_error(409, "ATTACHMENT_INCOMPLETE");
    assert_eq!(api.objects.head(&object_key(&s, &a)).await.unwrap(), None);
    // Of another type.
    let mut html = presigned(&t.body);
    html.headers.retain(|(k, _)| k != "content-type");
    html.headers.push(("content-type".into(), "text/html".into()));
    send_presigned(&html, PNG.to_vec()).await;
    send(&api, &ta, &s, msg.clone()).await.assert_error(409, "ATTACHMENT_INCOMPLETE");
    assert_eq!(usage(&api, &ta, &s).await, (0, 0, 0), "nothing was sent");
    // The ticket still takes the file it was made for.
    assert_eq!(put(&t.body, PNG).await, 200);
    assert_eq!(send(&api, &ta, &s, msg).await.status, StatusCode::CREATED);
    assert_eq!(usage(&api, &ta, &s).await, (1, 1, PNG.len() as u64));
}
stratus_tests::on_both_stores!(mismatch, uploads_of_another_size_or_type_are_refused_and_nothing_is_attached);

async fn bad_tickets_and_messages_get_clear_errors(api: TestApi) {
    let ta = api.token("alice").await;
    let s = group(&api, &ta, &["bob"]).await;
    let max = stratus_protocol::chat::MAX_ATTACHMENT_BYTES as usize;
    ticket(&api, &ta, &s, "big.bin", "application/octet-stream", max + 1)
        .await
        .assert_error(413, "ATTACHMENT_TOO_LARGE");
    ticket(&api, &ta, &s, "page.html", "text/html", 10).await.assert_error(415, "ATTACHMENT_TYPE_NOT_ALLOWED");
    ticket(&api, &ta, &s, "empty.txt", "text/plain", 0).await.assert_error(400, "VALIDATION_ERROR");
    ticket(&api, &ta, &s, "../etc/passwd", "text/plain", 3).await.assert_error(400, "VALIDATION_ERROR");
    ticket(&api, &ta, &s, " ", "text/plain", 3).await.assert_error(400, "VALIDATION_ERROR");
    let r = call(&api, Method::POST, &format!("{BASE}/{s}/attachments"), &ta, Some(json!({"file_name": "a"}))).await;
    r.assert_error(400, "VALIDATION_ERROR");
    ticket(&api, &ta, &s, "max.bin", "application/octet-stream", max).await;

    let pdf = ticket(&api, &ta, &s, "doc.pdf", "application/pdf", 4).await;
    let a = pdf.body["attachment_id"].as_str().unwrap().to_owned();
    assert_eq!(put(&pdf.body, b"%PDF").await, 200);
    for (body, status, code) in [
        (json!({"type": "image", "attachment_id": a}), 400, "VALIDATION_ERROR"),
        (json!({"type": "text", "text": "hi", "attachment_id": a}), 400, "VALIDATION_ERROR"),
        (json!({"type": "file"}), 400, "VALIDATION_ERROR"),
        (json!({"type": "file", "attachment_id": "01NOSUCHTHING"}), 404, "ATTACHMENT_NOT_FOUND"),
        (json!({"type": "file", "attachment_id": "not an id!"}), 404, "ATTACHMENT_NOT_FOUND"),
    ] {
        send(&api, &ta, &s, body.clone()).await.assert_error(status, code);
    }
    let unknown = call(&api, Method::GET, &format!("{BASE}/{s}/attachments/01NOSUCH"), &ta, None).await;
    unknown.assert_error(404, "ATTACHMENT_NOT_FOUND");
    assert_eq!(usage(&api, &ta, &s).await, (0, 0, 0), "nothing was sent");
    // Tickets are rate limited per user: 20 requests a minute, refused ones included (seven
    // reached the route above).
    let mut last = None;
    for _ in 0..13 {
        last = Some(ticket(&api, &ta, &s, "n.txt", "text/plain", 1).await);
    }
    assert_eq!(last.unwrap().status, StatusCode::CREATED);
    ticket(&api, &ta, &s, "n.txt", "text/plain", 1).await.assert_error(429, "RATE_LIMITED");
}
stratus_tests::on_both_stores!(bad_input, bad_tickets_and_messages_get_clear_errors);

async fn a_retried_attachment_send_makes_one_message_and_an_expired_session_takes_no_uploads(api: TestApi) {
    let ta = api.token("alice").await;
    let s = group(&api, &ta, &["bob"]).await;
    let t = ticket(&api, &ta, &s, "cat.png", "image/png", PNG.len()).await;
    let a = t.body["attachment_id"].as_str().unwrap().to_owned();
    assert_eq!(put(&t.body, PNG).await, 200);
    let msg = json!({"type": "image", "attachment_id": a, "client_message_id": "c-1"});
    let first = send(&api, &ta, &s, msg.clone()).await;
    let again = send(&api, &ta, &s, msg).await;
    assert_eq!((first.status, again.status), (StatusCode::CREATED, StatusCode::OK), "{}", again.text);
    assert_eq!(first.body["message_id"], again.body["message_id"]);
    assert_eq!(usage(&api, &ta, &s).await, (1, 1, PNG.len() as u64));

    let r = call(
        &api,
        Method::POST,
        BASE,
        &ta,
        Some(json!({"participants": ["bob"], "is_group": true, "duration_seconds": 60})),
    )
    .await;
    let short = r.body["session_id"].as_str().unwrap().to_owned();
    api.clock.advance_secs(61);
    ticket(&api, &ta, &short, "late.png", "image/png", 3).await.assert_error(409, "CHAT_SESSION_EXPIRED");
}
stratus_tests::on_both_stores!(
    retry_expiry,
    a_retried_attachment_send_makes_one_message_and_an_expired_session_takes_no_uploads
);

#[tokio::test]
async fn without_an_object_store_uploads_answer_service_unavailable() {
    let api = TestApi::memory_with(|s| s.with_objects(None));
    let ta = api.token("alice").await;
    let s = group(&api, &ta, &["bob"]).await;
    ticket(&api, &ta, &s, "a.txt", "text/plain", 1).await.assert_error(503, "SERVICE_UNAVAILABLE");
    let r = send(&api, &ta, &s, json!({"text": "text still works"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

/// S3 cut off (a link to moto that the test cuts): a message naming an upload answers 503
/// and writes nothing; the same send succeeds once S3 is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_object_store_answers_503_and_nothing_is_sent() {
    use stratus_tests::link::{Link, Mode};
    let link = Link::start(&stratus_tests::aws::endpoint().url).await;
    let sdk = stratus_tests::aws::sdk_config().await;
    let s3 =
        stratus_dynamo::s3::S3Objects::new(&sdk, stratus_tests::aws::unique_name("stratus-cut"), Some(&link.url()));
    s3.client().create_bucket().bucket(s3.bucket()).send().await.expect("create bucket");
    let clock = stratus_core::clock::ManualClock::at_system_time();
    let table = std::sync::Arc::new(stratus_core::store::memory::MemoryTable::new(
        &stratus_core::store::schema::MAIN,
        std::sync::Arc::new(clock.clone()),
    ));
    let api = TestApi::on_objects(table, clock, std::sync::Arc::new(s3), |s| s);
    let ta = api.token("alice").await;
    let s = group(&api, &ta, &["bob"]).await;
    let t = ticket(&api, &ta, &s, "cat.png", "image/png", PNG.len()).await;
    assert_eq!(put(&t.body, PNG).await, 200);
    let msg = json!({"type": "image", "attachment_id": t.body["attachment_id"]});
    link.set(Mode::Down);
    let r = send(&api, &ta, &s, msg.clone()).await;
    r.assert_error(503, "SERVICE_UNAVAILABLE");
    assert!(r.headers.contains_key("retry-after"), "{:?}", r.headers);
    assert_eq!(usage(&api, &ta, &s).await, (0, 0, 0), "nothing was sent");
    link.set(Mode::Up);
    assert_eq!(send(&api, &ta, &s, msg).await.status, StatusCode::CREATED);
    assert_eq!(usage(&api, &ta, &s).await, (1, 1, PNG.len() as u64));
}
