//! Group rooms end to end through the local stack: real WebSocket clients speak the SFU
//! dialect to the emulated API Gateway, the WebSocket handlers place the room on the media
//! node and drive it over signed HTTP, and real WebRTC peers (the `webrtc` crate) publish and
//! receive through that node. On the embedded store and on DynamoDB (moto).

use serde_json::{Value, json};
use std::time::Duration;
use stratus_protocol::media::MediaKind;
use stratus_tests::local::LocalStack;
use stratus_tests::peer::{PublishOptions, Publisher, Subscriber};
use stratus_tests::sfu_client::SfuClient;

const BIN: &str = env!("CARGO_BIN_EXE_stratus-local");

async fn member(local: &LocalStack, user: &str) -> SfuClient {
    local.sfu_client(user, json!({"canPublish": true, "canSubscribe": true})).await
}

/// Waits until `sub` has at least `n` packets on `ssrc`; returns how many it has.
async fn packets(sub: &Subscriber, ssrc: u32, n: usize, within: Duration) -> usize {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let got = sub.got(ssrc).len();
        if got >= n || tokio::time::Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn producer_of(ev: &Value, pid: &str, kind: &str) -> bool {
    ev["producer"]["participantId"] == pid && ev["producer"]["kind"] == kind
}

async fn three_participants_publish_receive_and_hear_a_leave(local: &LocalStack) {
    let room = format!("standup-{}", rand::random::<u32>());
    let users = ["alice", "bob", "carol"];
    let mut clients = Vec::new();
    for u in users {
        clients.push(member(local, u).await);
    }
    let created = clients[0].ok("createRoom", json!({"roomId": room, "maxParticipants": 3})).await;
    assert_eq!((created["owner"].as_str(), created["participants"].as_i64()), (Some("alice"), Some(0)));
    let mut pids = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        let j = c.ok("joinRoom", json!({ "roomId": room })).await;
        assert_eq!(j["participants"].as_array().unwrap().len(), i + 1, "{j}");
        pids.push(j["participantId"].as_str().unwrap().to_owned());
    }
    // Everyone publishes audio and video over the WebSocket.
    let mut publishers = Vec::new();
    for c in &clients {
        publishers.push(Publisher::start_with(c, PublishOptions::default()).await);
    }
    // Everyone learns the others' producers from `producerCreated` and subscribes to them.
    let mut subs = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        let sub = Subscriber::start_with(c).await;
        let mut consumers = Vec::new();
        for (j, other) in pids.iter().enumerate().filter(|(j, _)| *j != i) {
            for kind in ["audio", "video"] {
                let ev = c
                    .event("producerCreated", |d| producer_of(d, other, kind), Duration::from_secs(10))
                    .await
                    .unwrap_or_else(|| panic!("{} never heard of {}'s {kind}", users[i], users[j]));
                let producer = ev["data"]["producer"]["producerId"].as_str().unwrap().to_owned();
                let consumer = sub.subscribe_with(c, &producer, None).await;
                consumers.push((users[j], kind, consumer.ssrc));
            }
        }
        subs.push((sub, consumers));
    }
    for (i, (sub, consumers)) in subs.iter().enumerate() {
        assert_eq!(consumers.len(), 4);
        for (from, kind, ssrc) in consumers {
            let got = packets(sub, *ssrc, 20, Duration::from_secs(15)).await;
            assert!(got >= 20, "{} got {got} {kind} packets from {from}", users[i]);
        }
    }
    // Alice mutes her audio: only she may, the others hear it, and
    // her audio stops reaching Bob until she resumes.
    let alice_audio = publishers[0].producers.iter().find(|p| p.kind == MediaKind::Audio).unwrap().producer_id.clone();
    let err = clients[1].request("pauseProducer", json!({ "producerId": alice_audio })).await.unwrap_err();
    assert_eq!(err["code"], "PRODUCER_NOT_FOUND", "not Bob's producer");
    let paused = clients[0].ok("pauseProducer", json!({ "producerId": alice_audio })).await;
    assert_eq!(paused["paused"], true, "{paused}");
    for c in &clients[1..] {
        let ev = c.event("producerPaused", |d| d["producerId"] == alice_audio.as_str(), Duration::from_secs(5)).await;
        assert!(ev.is_some(), "producerPaused missing; events: {:?}", c.events());
    }
    let bob_from_alice = subs[1].1.iter().find(|(from, kind, _)| *from == "alice" && *kind == "audio").unwrap().2;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = subs[1].0.got(bob_from_alice).len();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(subs[1].0.got(bob_from_alice).len() <= before + 2, "audio kept flowing while paused");
    clients[0].ok("resumeProducer", json!({ "producerId": alice_audio })).await;
    let ev =
        clients[1].event("producerResumed", |d| d["producerId"] == alice_audio.as_str(), Duration::from_secs(5)).await;
    assert!(ev.is_some(), "producerResumed missing");
    assert!(
        packets(&subs[1].0, bob_from_alice, before + 20, Duration::from_secs(10)).await >= before + 20,
        "audio resumed"
    );

    // The room as REST sees it, by its owner.
    let r = local.get_as("alice", &format!("/api/v1/rooms/{room}")).await;
    assert_eq!(r["participants"], 3, "{r}");
    assert_eq!(r["members"].as_array().unwrap().len(), 3);

    // A fourth is refused: the room holds three.
    let dave = member(local, "dave").await;
    let full = dave.request("joinRoom", json!({ "roomId": room })).await.unwrap_err();
    assert_eq!(full["code"], "ROOM_FULL");

    // Carol leaves: Alice and Bob hear it, and her producers close.
    let carol_producers: Vec<String> = publishers[2].producers.iter().map(|p| p.producer_id.clone()).collect();
    let left = clients[2].ok("leaveRoom", json!({})).await;
    assert_eq!(left["roomId"], room.as_str());
    for c in &clients[..2] {
        let ev = c.event("participantLeft", |d| d["participantId"] == pids[2].as_str(), Duration::from_secs(5)).await;
        assert!(ev.is_some(), "participantLeft missing; events: {:?}", c.events());
        for p in &carol_producers {
            let ev = c.event("producerClosed", |d| d["producerId"] == p.as_str(), Duration::from_secs(5)).await;
            assert!(ev.is_some(), "producerClosed {p} missing");
        }
    }
    // Her seat is free again.
    let dave_pid = dave.ok("joinRoom", json!({ "roomId": room })).await["participantId"].clone();
    // A dropped connection leaves the room too ($disconnect), and the others hear it.
    dave.close();
    let gone = clients[0].event("participantLeft", |d| d["participantId"] == dave_pid, Duration::from_secs(5)).await;
    assert!(gone.is_some(), "no participantLeft after dave disconnected");
    for p in &publishers {
        p.stop().await;
    }
    for c in &clients {
        c.close();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_participants_publish_receive_and_hear_a_leave_on_the_embedded_store() {
    let local = LocalStack::start(BIN, &[], &[]).await;
    three_participants_publish_receive_and_hear_a_leave(&local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_participants_publish_receive_and_hear_a_leave_on_dynamodb() {
    let ep = stratus_tests::aws::endpoint();
    let table = stratus_tests::aws::unique_name("sfu-e2e");
    let env = stratus_tests::aws::sdk_env();
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let local = LocalStack::start(BIN, &["--dynamodb-endpoint", &ep.url, "--table", &table], &envs).await;
    three_participants_publish_receive_and_hear_a_leave(&local).await;
}
