//! The SFU with real WebRTC peers on loopback (the async `webrtc` crate as clients), driven
//! through the node's signed control API, with room events delivered through the Management
//! API to a recording endpoint.

use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use stratus_control::{Key, Verifier};
use stratus_core::clock::SystemClock;
use stratus_dynamo::management::ManagementApiSink;
use stratus_media_node::sfu::{Sfu, SfuConfig};
use stratus_media_node::{NodeState, app};
use stratus_protocol::media::*;
use stratus_tests::apigw::ManagementApiRecorder;
use stratus_tests::peer::{Node, PublishOptions, Publisher, Subscriber};

fn key() -> Key {
    Key::new("k1", b"k1-0123456789abcdef0123456789abcdef".to_vec()).unwrap()
}

struct TestNode {
    node: Node,
    state: Arc<NodeState>,
    events: ManagementApiRecorder,
    http: String,
}

async fn start_node(workers: usize) -> TestNode {
    let events = ManagementApiRecorder::start().await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let config = SfuConfig {
        public_ip: "127.0.0.1".parse().unwrap(),
        bind_ip: "127.0.0.1".parse().unwrap(),
        udp_port: 0,
        workers,
        max_participants_per_room: 10,
    };
    let sfu = Arc::new(Sfu::start(config, tx).unwrap());
    tokio::spawn(stratus_media_node::events::push(rx, Some(Arc::new(ManagementApiSink::local(&events.url)))));
    let state = Arc::new(NodeState::new(
        "node-1".into(),
        "local".into(),
        Verifier::new(vec![key()]),
        Arc::new(SystemClock),
        sfu,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = format!("http://{addr}");
    TestNode { node: Node::new(&http, key()), state, events, http }
}

async fn eventually(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < end {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn join(t: &TestNode, room: &str, pid: &str, connection: &str) {
    let n = &t.node;
    t.events.set_live(connection, true);
    let body = serde_json::json!({ "userId": format!("user-{pid}"), "connectionId": connection });
    let _: RoomInfo = n.put(&format!("/v1/rooms/{room}/participants/{pid}"), &body).await.expect("join");
}

/// The events `connection` got, once `done` says they are all there.
async fn events_until(rec: &ManagementApiRecorder, connection: &str, done: impl Fn(&[String]) -> bool) -> Vec<Value> {
    let mut got = vec![];
    let end = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        got.extend(rec.take(connection));
        if done(&types(&got)) {
            return got;
        }
        assert!(tokio::time::Instant::now() < end, "events on {connection}: {got:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn count(types: &[String], t: &str) -> usize {
    types.iter().filter(|x| *x == t).count()
}

fn types(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["type"].as_str().unwrap_or("").to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_subscribers_receive_the_publishers_audio_and_video_intact_and_pause_stops_delivery() {
    let t = start_node(1).await;
    let n = &t.node;
    let _: RoomInfo = n.put("/v1/rooms/r1", &serde_json::json!({})).await.unwrap();
    join(&t, "r1", "pub", "c-pub").await;
    for s in ["s1", "s2", "s3"] {
        join(&t, "r1", s, &format!("c-{s}")).await;
    }
    let publisher = Publisher::start(n, "r1", "pub", PublishOptions::default()).await;
    let (audio, video) = (publisher.producer(MediaKind::Audio).clone(), publisher.producer(MediaKind::Video).clone());
    // Everyone else heard about both producers.
    for s in ["s1", "s2", "s3"] {
        let ev = events_until(&t.events, &format!("c-{s}"), |t| count(t, "producerCreated") == 2).await;
        let created: Vec<&Value> = ev.iter().filter(|e| e["type"] == "producerCreated").collect();
        assert_eq!(created.len(), 2, "{ev:?}");
        assert_eq!(created[0]["data"]["producer"]["participantId"], "pub");
    }

    let mut subs = vec![];
    for s in ["s1", "s2", "s3"] {
        let sub = Subscriber::start(n, "r1", s).await;
        let ca = sub.subscribe(n, &audio.producer_id, None).await;
        let cv = sub.subscribe(n, &video.producer_id, None).await;
        sub.connected().await;
        subs.push((sub, ca, cv));
    }
    // Let media flow, then stop and compare.
    eventually("every subscriber receiving video", Duration::from_secs(10), || {
        subs.iter().all(|(s, _, cv)| s.got(cv.ssrc).len() > 60)
    })
    .await;
    let sent_video = publisher.sent("video");
    let sent_audio = publisher.sent("audio");
    for (sub, ca, cv) in &subs {
        let got_v = sub.got(cv.ssrc);
        let got_a = sub.got(ca.ssrc);
        assert!(got_a.len() > 20, "audio packets received: {}", got_a.len());
        // The consumer starts on a keyframe: what arrives is a contiguous run of what was
        // sent, byte for byte, from that keyframe on.
        let start = sent_video.iter().position(|p| *p == got_v[0]).expect("first video payload was sent");
        assert_eq!(got_v[0][1] & 0x01, 0, "video starts on a keyframe");
        assert_eq!(
            &sent_video[start..start + got_v.len().min(sent_video.len() - start)],
            &got_v[..got_v.len().min(sent_video.len() - start)]
        );
        let start = sent_audio.iter().position(|p| *p == got_a[0]).expect("first audio payload was sent");
        let k = got_a.len().min(sent_audio.len() - start);
        assert_eq!(&sent_audio[start..start + k], &got_a[..k]);
    }
    let stats: NodeStats = n.get("/v1/stats").await.unwrap();
    assert_eq!((stats.producers, stats.consumers, stats.participants), (2, 6, 4));
    assert!(stats.packets_out >= 3 * 60, "{stats:?}");

    // Pause s1's video: its count stops growing while s2's keeps growing; resume restarts it.
    let (s1, _, s1v) = &subs[0];
    let info: ConsumerInfo = n
        .post::<Value, _>(&format!("/v1/rooms/r1/participants/s1/consumers/{}/pause", s1v.consumer_id), &Value::Null)
        .await
        .unwrap();
    assert!(info.paused);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let frozen = s1.got(s1v.ssrc).len();
    let other = subs[1].0.got(subs[1].2.ssrc).len();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(s1.got(s1v.ssrc).len(), frozen, "a paused consumer receives nothing");
    assert!(subs[1].0.got(subs[1].2.ssrc).len() > other + 30, "other consumers keep receiving");
    let _: ConsumerInfo = n
        .post::<Value, _>(&format!("/v1/rooms/r1/participants/s1/consumers/{}/resume", s1v.consumer_id), &Value::Null)
        .await
        .unwrap();
    eventually("delivery after resume", Duration::from_secs(5), || s1.got(s1v.ssrc).len() > frozen + 30).await;
    let resumed = s1.got(s1v.ssrc);
    assert_eq!(resumed[frozen][1] & 0x01, 0, "a resumed consumer restarts on a keyframe");
    events_until(&t.events, "c-s1", |t| count(t, "consumerPaused") == 1 && count(t, "consumerResumed") == 1).await;

    // The publisher leaves: subscribers hear participantLeft and producerClosed.
    n.delete("/v1/rooms/r1/participants/pub").await.unwrap();
    for s in ["s2", "s3"] {
        events_until(&t.events, &format!("c-{s}"), |t| {
            count(t, "producerClosed") == 2 && count(t, "participantLeft") == 1
        })
        .await;
    }
    let stats: NodeStats = n.get("/v1/stats").await.unwrap();
    assert_eq!((stats.producers, stats.consumers, stats.participants), (0, 0, 3));
    let metrics = reqwest::get(format!("{}/metrics", t.http)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("stratus_keyframe_requests_total{node=\"node-1\"}"), "{metrics}");
    assert!(t.state.sfu.metrics.keyframe_requests.load(std::sync::atomic::Ordering::Relaxed) > 0);
    publisher.stop().await;
}
