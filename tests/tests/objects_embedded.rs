//! The object-store suite on the embedded store (served on a loopback port as the local stack
//! serves it), and what only it can show here: it refuses what S3 refuses for a presigned
//! request, and runs the pending lifecycle.

use std::sync::Arc;
use stratus_core::clock::{Clock, ManualClock};
use stratus_core::objects::memory::MemoryObjects;
use stratus_core::objects::{ObjectStore, PENDING_LIFETIME_MS, Upload};
use stratus_tests::objects::{Store, send, upload};
use stratus_tests::rest::embedded_objects;

async fn embedded(clock: ManualClock) -> Store {
    embedded_objects(Arc::new(clock))
}

stratus_tests::objects_suite!(embedded);

fn store(clock: &ManualClock) -> Arc<MemoryObjects> {
    embedded_objects(Arc::new(clock.clone()))
}

async fn s3_code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let code = text.split("<Code>").nth(1).and_then(|t| t.split("</Code>").next()).unwrap_or("").to_owned();
    (status, code)
}

#[tokio::test]
async fn a_put_of_another_type_or_length_than_signed_is_refused_and_nothing_is_stored() {
    let clock = ManualClock::at_system_time();
    let s = store(&clock);
    let now = clock.now_ms();
    let p = s.presign_put(&Upload { key: "a/b", content_type: "image/png", size: 4 }, now, now + 60_000).await.unwrap();
    assert_eq!(s3_code(send(&p, b"12345".to_vec()).await).await, (403, "SignatureDoesNotMatch".into()), "longer");
    assert_eq!(s3_code(send(&p, b"123".to_vec()).await).await, (403, "SignatureDoesNotMatch".into()), "shorter");
    let mut other = p.clone();
    other.headers.retain(|(k, _)| k != "content-type");
    other.headers.push(("content-type".into(), "text/html".into()));
    assert_eq!(s3_code(send(&other, b"1234".to_vec()).await).await, (403, "SignatureDoesNotMatch".into()), "type");
    let tampered = stratus_core::objects::Presigned { url: p.url.replace("a/b", "a/c"), ..p.clone() };
    assert_eq!(s3_code(send(&tampered, b"1234".to_vec()).await).await, (403, "SignatureDoesNotMatch".into()), "key");
    assert!(s.is_empty(), "nothing stored");
    assert!(send(&p, b"1234".to_vec()).await.status().is_success(), "the signed file goes in");
    assert_eq!(s.head("a/b").await.unwrap().map(|i| i.size), Some(4));
}

#[tokio::test]
async fn presigned_urls_stop_working_when_they_expire_and_unsigned_ones_never_do() {
    let clock = ManualClock::at_system_time();
    let s = store(&clock);
    let now = clock.now_ms();
    let p = s.presign_put(&Upload { key: "k", content_type: "text/plain", size: 2 }, now, now + 1000).await.unwrap();
    clock.advance_ms(1000);
    assert_eq!(s3_code(send(&p, b"hi".to_vec()).await).await, (403, "AccessDenied".into()));
    let s2: Store = s.clone();
    assert!(upload(&s2, &clock, "k", "text/plain", b"hi").await.status().is_success());
    let now = clock.now_ms();
    let get = s.presign_get("k", "k é.txt", now, now + 1000).await.unwrap();
    let res = reqwest::get(&get).await.unwrap();
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"].to_str().unwrap_or("").to_owned();
    assert_eq!(disposition, "attachment; filename*=UTF-8''k%20%C3%A9.txt", "downloads under its name");
    assert_eq!(s3_code(reqwest::get(s.object_url("k")).await.unwrap()).await.0, 403, "no signature, no file");
    let forged = get.replace("k%20%C3%A9.txt", "other.txt");
    assert_eq!(s3_code(reqwest::get(&forged).await.unwrap()).await, (403, "SignatureDoesNotMatch".into()));
    clock.advance_ms(1000);
    assert_eq!(s3_code(reqwest::get(&get).await.unwrap()).await, (403, "AccessDenied".into()));
}

#[tokio::test]
async fn pending_uploads_leave_a_day_after_they_arrive_unless_kept() {
    let clock = ManualClock::at_system_time();
    let s = store(&clock);
    let st: Store = s.clone();
    assert!(upload(&st, &clock, "orphan", "text/plain", b"x").await.status().is_success());
    assert!(upload(&st, &clock, "kept", "text/plain", b"y").await.status().is_success());
    s.keep("kept").await.unwrap();
    clock.advance_ms(PENDING_LIFETIME_MS - 1);
    s.expire_pending(clock.now_ms());
    assert!(s.head("orphan").await.unwrap().is_some(), "not yet");
    clock.advance_ms(1);
    s.expire_pending(clock.now_ms());
    assert_eq!(s.head("orphan").await.unwrap(), None, "an orphan goes");
    assert!(s.head("kept").await.unwrap().is_some(), "a kept object stays");
}
