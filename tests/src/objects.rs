//! The object-store conformance suite: the presigned flow a client goes through (a PUT of
//! exactly the signed file, a HEAD, a GET that downloads under a name), over real HTTP.
//! [`objects_suite!`](crate::objects_suite) turns every case into a `#[tokio::test]` for one
//! store: the embedded one on a loopback listener, and S3 on the harness's endpoint (moto).
//!
//! What only one of them can show lives beside its own store's tests: moto does not check
//! presigned signatures or expiry, nor run lifecycle rules; the embedded store does all three
//! (`tests/tests/objects_embedded.rs`), and on S3 the pending tag is read back
//! (`tests/tests/objects_s3.rs`).

use std::sync::Arc;
use stratus_core::clock::{Clock, ManualClock};
use stratus_core::objects::{ObjectStore, Presigned, Upload};

pub type Store = Arc<dyn ObjectStore>;

/// Sends a presigned request with `body` (and the headers it was signed with, except the
/// length, which the client sets from the body as a browser does).
pub async fn send(p: &Presigned, body: Vec<u8>) -> reqwest::Response {
    let http = reqwest::Client::new();
    let mut req = http.request(p.method.parse().expect("a method"), &p.url).body(body);
    for (k, v) in &p.headers {
        if k != "content-length" && k != "host" {
            req = req.header(k, v);
        }
    }
    req.send().await.expect("the store answers")
}

/// Uploads `body` as `content_type` through a fresh presigned PUT.
pub async fn upload(s: &Store, clock: &ManualClock, key: &str, content_type: &str, body: &[u8]) -> reqwest::Response {
    let now = clock.now_ms();
    let up = Upload { key, content_type, size: body.len() as u64 };
    let p = s.presign_put(&up, now, now + 60_000).await.expect("presign put");
    send(&p, body.to_vec()).await
}

fn key(name: &str) -> String {
    format!("chat/app/{}/{name}", &crate::rest::random_hex()[..16])
}

pub async fn a_presigned_put_stores_the_file_and_a_presigned_get_serves_it(s: Store, clock: ManualClock) {
    let k = key("01A");
    let body = b"\x89PNG fake image bytes".to_vec();
    let res = upload(&s, &clock, &k, "image/png", &body).await;
    assert!(res.status().is_success(), "PUT: {} {}", res.status(), res.text().await.unwrap_or_default());
    let info = s.head(&k).await.expect("head").expect("stored");
    assert_eq!(info.size, body.len() as u64);
    assert_eq!(info.content_type.as_deref(), Some("image/png"));
    let now = clock.now_ms();
    let url = s.presign_get(&k, "holiday photo é.png", now, now + 60_000).await.expect("presign get");
    let res = reqwest::get(&url).await.expect("GET");
    assert_eq!(res.status(), 200);
    // (The name it downloads under: each store's own tests; moto ignores S3's override.)
    assert_eq!(res.bytes().await.expect("body").to_vec(), body);
}

pub async fn the_signature_names_the_type_and_length_it_was_made_for(s: Store, _clock: ManualClock) {
    let up = Upload { key: "k", content_type: "application/pdf", size: 1234 };
    let p = s.presign_put(&up, 0, 60_000).await.expect("presign put");
    assert_eq!(p.method, "PUT");
    let header = |name: &str| p.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(header("content-type"), Some("application/pdf"), "{:?}", p.headers);
    assert_eq!(header("content-length"), Some("1234"), "{:?}", p.headers);
    assert!(p.url.starts_with(&s.object_url("k")), "{} is {}", p.url, s.object_url("k"));
}

/// What the domain relies on whichever store: HEAD says what really arrived, so a file of
/// another length or type than declared is seen before anything refers to it (S3 and the
/// embedded store refuse the PUT outright; moto, which checks no signatures, stores it).
pub async fn head_reports_what_arrived_not_what_was_declared(s: Store, clock: ManualClock) {
    let k = key("01B");
    let now = clock.now_ms();
    let p = s.presign_put(&Upload { key: &k, content_type: "image/png", size: 4 }, now, now + 60_000).await.unwrap();
    let mut wrong = p.clone();
    for (name, v) in &mut wrong.headers {
        if name == "content-type" {
            *v = "text/html".into();
        }
    }
    let res = send(&wrong, b"<script>alert(1)</script>".to_vec()).await;
    match s.head(&k).await.expect("head") {
        None => assert_eq!(res.status(), 403, "refused, so nothing is stored"),
        Some(info) => {
            assert!(res.status().is_success());
            assert_ne!((info.size, info.content_type.as_deref()), (4, Some("image/png")), "HEAD tells the truth");
        }
    }
}

pub async fn head_of_nothing_is_none_and_delete_tolerates_it(s: Store, clock: ManualClock) {
    let k = key("01C");
    assert_eq!(s.head(&k).await.expect("head"), None);
    s.delete(&k).await.expect("deleting nothing is not an error");
    assert!(upload(&s, &clock, &k, "text/plain", b"hello").await.status().is_success());
    s.keep(&k).await.expect("keep");
    assert!(s.head(&k).await.expect("head").is_some(), "kept, still there");
    s.delete(&k).await.expect("delete");
    assert_eq!(s.head(&k).await.expect("head"), None, "deleted");
}

#[macro_export]
macro_rules! objects_suite {
    ($make:path) => {
        $crate::objects_suite!(@cases $make;
            a_presigned_put_stores_the_file_and_a_presigned_get_serves_it,
            the_signature_names_the_type_and_length_it_was_made_for,
            head_reports_what_arrived_not_what_was_declared,
            head_of_nothing_is_none_and_delete_tolerates_it,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let clock = ::stratus_core::clock::ManualClock::at_system_time();
                let store = $make(clock.clone()).await;
                $crate::objects::$case(store, clock).await;
            }
        )*
    };
}
