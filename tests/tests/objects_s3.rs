//! The object-store suite on S3 at the harness's endpoint (moto unless told otherwise), and
//! the pending lifecycle's tag as S3 holds it.

use stratus_tests::aws;
use stratus_tests::objects::{Store, upload};

async fn s3(_clock: stratus_core::clock::ManualClock) -> Store {
    aws::s3_objects().await
}

stratus_tests::objects_suite!(s3);

#[tokio::test]
async fn an_upload_carries_the_pending_tag_until_it_is_kept() {
    use stratus_core::objects::ObjectStore;
    let clock = stratus_core::clock::ManualClock::at_system_time();
    let s = aws::s3_objects().await;
    let st: Store = s.clone();
    assert!(upload(&st, &clock, "chat/a/s/01X", "text/plain", b"hello").await.status().is_success());
    let tags = |s: std::sync::Arc<stratus_dynamo::s3::S3Objects>| async move {
        let out = s.client().get_object_tagging().bucket(s.bucket()).key("chat/a/s/01X").send().await.expect("tags");
        out.tag_set().iter().map(|t| format!("{}={}", t.key(), t.value())).collect::<Vec<_>>()
    };
    assert_eq!(tags(s.clone()).await, vec![stratus_dynamo::s3::PENDING_TAG.to_owned()]);
    s.keep("chat/a/s/01X").await.expect("keep");
    assert!(tags(s.clone()).await.is_empty(), "kept: the lifecycle rule no longer matches");
}

#[tokio::test]
async fn a_download_url_asks_s3_to_save_under_the_attachments_name() {
    use stratus_core::objects::ObjectStore;
    let s = aws::s3_objects().await;
    let url = s.presign_get("chat/a/s/01Y", "report é.pdf", 0, 60_000).await.expect("presign get");
    let want = "response-content-disposition=attachment%3B%20filename%2A%3DUTF-8%27%27report%2520%25C3%25A9.pdf";
    assert!(url.contains(want), "{url}");
}
