//! Real browsers through the local stack: headless Chromium (Debian's `/usr/bin/chromium`,
//! fake camera and microphone) driven by Playwright runs the demo pages, which use the
//! browser SDK (`clients/js`). The scenarios live in `clients/js/test/scenarios.mjs` and
//! assert what the pages show and what `getStats` reports; this file starts the stack, runs
//! them, and plays the Rust side where there is one.
//!
//! Needs Node.js, the npm packages of clients/js (`npm ci`) and Chromium: `scripts/test.sh`
//! installs them. Screenshots land in `target/browser-screenshots/`.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use stratus_media_node::sfu::codec::{Format, inspect};
use stratus_tests::browser::{finish, scenario};
use stratus_tests::local::LocalStack;
use stratus_tests::peer::{PublishOptions, Publisher};
use stratus_tests::sfu_client::receive_from_user;

const BIN: &str = env!("CARGO_BIN_EXE_stratus-local");

/// One browser at a time: three pages with video already keep both cores busy.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs a scenario to the end; its summary (the last stdout line) when it passed.
async fn run(name: &str, base: &str) -> Value {
    finish(name, scenario(name, base, &[]).spawn().expect("node runs"), 150).await
}

#[tokio::test(flavor = "multi_thread")]
async fn three_browser_pages_in_a_room_decode_each_other_see_a_mute_and_a_leave() {
    let _one = BROWSER.lock().await;
    let local = LocalStack::start(BIN, &[], &[]).await;
    let s = run("room", &local.base).await;
    // The scenario asserted each of these; the summary says what it saw.
    for (me, others) in [("alice", ["bob", "carol"]), ("bob", ["alice", "carol"]), ("carol", ["alice", "bob"])] {
        for o in others {
            let got = &s["decoded"][me][o];
            assert!(
                got["framesDecoded"].as_u64().unwrap() > 0 && got["audioPackets"].as_u64().unwrap() > 0,
                "{me} from {o}: {got}"
            );
        }
    }
    assert!(s["mutedAudioPackets"].as_u64().unwrap() <= 5, "{s}");
    assert!(PathBuf::from(s["screenshot"].as_str().unwrap()).exists(), "the screenshot was saved: {s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_browser_pages_make_a_p2p_call_and_hang_up() {
    let _one = BROWSER.lock().await;
    let local = LocalStack::start(BIN, &[], &[]).await;
    let s = run("call", &local.base).await;
    for side in ["alice", "bob"] {
        assert!(s["decoded"][side]["framesDecoded"].as_u64().unwrap() > 0, "{s}");
        assert_eq!(s["ended"][side]["reason"], "user_hangup", "{s}");
    }
    // The platform agrees: the call is over, answered then ended.
    let call = local.get_as("alice", &format!("/api/v1/calls/{}/status", s["callId"].as_str().unwrap())).await;
    assert_eq!((call["status"].as_str(), call["outcome"].as_str()), (Some("ended"), Some("completed")), "{call}");
    // The call pages chatted in the two's 1:1 session.
    let sid = s["chatSession"].as_str().unwrap();
    let page = local.get_as("alice", &format!("/api/v1/chat/sessions/{sid}/messages")).await;
    assert_eq!(page["messages"][0]["text"], "can you hear me?", "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_surfaces_server_errors_as_typed_errors_and_subscribes_selectively_to_a_chosen_layer() {
    let _one = BROWSER.lock().await;
    let local = LocalStack::start(BIN, &[], &[]).await;
    let s = run("sdk", &local.base).await;
    assert_eq!(s["badToken"]["code"], "AUTH_TOKEN_INVALID", "{s}");
    assert_eq!(s["full"]["code"], "ROOM_FULL", "{s}");
    // Simulcast from Chrome: the lowest layer is a quarter of the top one's width.
    let (low, high) = (s["lowWidth"].as_u64().unwrap(), s["highWidth"].as_u64().unwrap());
    assert!(low < high, "{s}");
    // setQuality(10) brought the lower layer back.
    assert!(s["quality10Width"].as_u64().unwrap() < high, "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_chats_sends_reacts_types_and_pages_through_the_stack() {
    let _one = BROWSER.lock().await;
    let local = LocalStack::start(BIN, &[], &[]).await;
    let s = run("chat-sdk", &local.base).await;
    assert_eq!((s["role"].as_str(), s["eventMessageId"].as_bool()), (Some("owner"), Some(true)), "{s}");
    assert_eq!((s["typingFrom"].as_str(), s["reactionEvent"].as_str()), (Some("ann"), Some("🎉")), "{s}");
    assert_eq!(s["afterAdd"], serde_json::json!([{"emoji": "🎉", "count": 1, "me": true}]), "{s}");
    assert_eq!(s["afterToggle"], serde_json::json!([]), "{s}");
    assert_eq!(s["sameId"], true, "a repeated client message id is one message: {s}");
    assert_eq!(s["texts"], serde_json::json!(["once", "hello ben", "ann created the session"]), "{s}");
    assert_eq!((s["unreadBefore"].as_u64(), s["unreadAfter"].as_u64()), (Some(2), Some(0)), "{s}");
    assert_eq!(s["memberAdds"], serde_json::json!({"typed": true, "code": "FORBIDDEN", "status": 403}), "{s}");
    assert_eq!(s["usage"]["messages"], 2, "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_room_pages_chat_with_typing_an_image_a_reaction_and_upload_progress() {
    let _one = BROWSER.lock().await;
    let local = LocalStack::start(BIN, &[], &[]).await;
    let s = run("chat-panel", &local.base).await;
    assert_eq!(s["decodedWidth"], 1, "bob's page decoded the 1x1 image: {s}");
    assert_eq!(s["fileSize"], 300000, "{s}");
    // The platform agrees: two attachments in the room's session, and alice's messages.
    let sid = s["session"].as_str().unwrap();
    let usage = local.get_as("bob", &format!("/api/v1/chat/sessions/{sid}/usage")).await;
    assert_eq!(
        (usage["attachments"].as_u64(), usage["attachment_bytes"].as_u64()),
        (Some(2), Some(300_070)),
        "{usage}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_pages_whose_connections_hit_the_gateway_lifetime_reconnect_and_see_each_other_again() {
    let _one = BROWSER.lock().await;
    // API Gateway ends every connection after 2 hours; here after 8 seconds.
    let local = LocalStack::start(BIN, &["--ws-max-lifetime-secs", "8"], &[]).await;
    let s = run("reconnect", &local.base).await;
    let ids = s["participantIds"].as_array().unwrap();
    assert_ne!(ids[0], ids[1], "{s}");
    assert!(s["decoded"]["bob"]["alice"]["framesDecoded"].as_u64().unwrap() > 0, "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_and_a_rust_peer_in_one_room_receive_each_other() {
    let _one = BROWSER.lock().await;
    let local = LocalStack::start(BIN, &[], &[]).await;
    let room = format!("mixed-{}", rand::random::<u32>());
    let rusty = local.sfu_client("rusty", json!({"canPublish": true, "canSubscribe": true})).await;
    rusty.ok("createRoom", json!({ "roomId": room })).await;
    rusty.ok("joinRoom", json!({ "roomId": room })).await;
    let publisher = Publisher::start_with(&rusty, PublishOptions::default()).await;

    // The browser joins and waits for the Rust peer's media (asserted in the scenario).
    let browser =
        scenario("rust-peer", &local.base, &[("STRATUS_ROOM", room.clone()), ("STRATUS_HOLD_MS", "8000".into())])
            .spawn()
            .expect("node runs");

    // The Rust peer subscribes to what the browser publishes.
    let (audio, video) = receive_from_user(&rusty, "browser", 50, Duration::from_secs(30)).await;
    assert!(
        audio.len() >= 50 && video.len() >= 50,
        "from the browser: {} audio, {} video packets",
        audio.len(),
        video.len()
    );
    // Real VP8 from Chrome's encoder, starting on a keyframe the node asked for.
    assert!(inspect(Format::Vp8, &video[0]).keyframe, "the first forwarded video packet starts a keyframe");

    let s = finish("rust-peer", browser, 90).await;
    let got = &s["receivedFromRust"];
    assert!(got["audioPackets"].as_u64().unwrap() > 20 && got["videoPackets"].as_u64().unwrap() > 20, "{s}");
    publisher.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_pointed_at_another_deployment_joins_a_room_there_across_origins() {
    let _one = BROWSER.lock().await;
    // `deployment` stands for a stack on AWS: no demo route; the pages come from `site`.
    let site = LocalStack::start(BIN, &[], &[]).await;
    let deployment = LocalStack::start(BIN, &["--no-demo"], &[]).await;
    let grants = json!({ "canPublish": true, "canSubscribe": true });
    let remote = json!({
        "api": deployment.base,
        "tokens": {
            "alice": deployment.token_with("alice", grants.clone()).await,
            "bob": deployment.token_with("bob", grants).await,
        },
    });
    let child = scenario("remote-room", &site.base, &[("STRATUS_REMOTE", remote.to_string())]).spawn().unwrap();
    let s = finish("remote-room", child, 150).await;
    assert_eq!(s["pageOrigin"], site.base.as_str(), "the pages came from the other origin");
    for (me, other) in [("alice", "bob"), ("bob", "alice")] {
        assert!(s["decoded"][me][other]["framesDecoded"].as_u64().unwrap() > 0, "{s}");
    }
    let room = s["room"].as_str().unwrap();
    let there = deployment.get_as("alice", &format!("/api/v1/rooms/{room}")).await;
    // (The pages have closed by now; the room they made stays.)
    assert_eq!((there["roomId"].as_str(), there["owner"].as_str()), (Some(room), Some("alice")), "{there}");
    let here = site.get_as("alice", &format!("/api/v1/rooms/{room}")).await;
    assert_eq!(here["error"]["code"], "ROOM_NOT_FOUND", "and not on the site: {here}");
}
