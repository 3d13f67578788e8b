//! The SFU with real WebRTC peers on loopback (the async `webrtc` crate as clients), driven
//! through the node's signed control API, with room events delivered through the Management
//! API to a recording endpoint.

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;
use stratus_protocol::media::*;
use stratus_tests::peer::{PublishOptions, Publisher, Subscriber, frame_number};
use webrtc::peer_connection::RTCIceConnectionState;

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

    // s3 unsubscribes from the audio: the node re-offers without it, delivery stops, the
    // consumer is gone from the stats.
    let (s3, s3a, _) = &subs[2];
    let res: Value = n.delete(&format!("/v1/rooms/r1/participants/s3/consumers/{}", s3a.consumer_id)).await.unwrap();
    s3.negotiate(n, res["offer"].as_str().map(str::to_owned)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = s3.got(s3a.ssrc).len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s3.got(s3a.ssrc).len(), stopped, "no audio after unsubscribe");
    let stats: NodeStats = n.get("/v1/stats").await.unwrap();
    assert_eq!(stats.consumers, 5);
    let again = n.delete(&format!("/v1/rooms/r1/participants/s3/consumers/{}", s3a.consumer_id)).await.unwrap_err();
    assert_eq!(again.1["error"]["code"], "CONSUMER_NOT_FOUND");

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
    // Their recv transports were re-offered without the closed consumers.
    events_until(&t.events, "c-s1", |t| count(t, "negotiationNeeded") >= 1).await;
    let metrics = reqwest::get(format!("{}/metrics", t.http)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("stratus_keyframe_requests_total{node=\"node-1\"}"), "{metrics}");
    assert!(t.state.sfu.metrics.keyframe_requests.load(std::sync::atomic::Ordering::Relaxed) > 0);
    publisher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consumer_gets_the_simulcast_layer_it_prefers_and_switches_on_a_keyframe() {
    let t = start_node(1).await;
    let n = &t.node;
    let _: RoomInfo = n.put("/v1/rooms/sim", &serde_json::json!({})).await.unwrap();
    join(&t, "sim", "pub", "c-pub").await;
    join(&t, "sim", "sub", "c-sub").await;
    let opts = PublishOptions { audio: false, rids: vec!["q", "h", "f"], keyframe_every: 20, ..Default::default() };
    let publisher = Publisher::start(n, "sim", "pub", opts).await;
    let video = publisher.producer(MediaKind::Video).clone();
    assert_eq!(video.rids, vec!["q", "h", "f"]);
    let sub = Subscriber::start(n, "sim", "sub").await;
    let cv = sub.subscribe(n, &video.producer_id, Some(Layers { spatial_layer: 0, temporal_layer: None })).await;
    sub.connected().await;
    eventually("layer q", Duration::from_secs(10), || sub.got(cv.ssrc).len() > 30).await;
    let layer = |p: &bytes::Bytes| p[11];
    assert!(sub.got(cv.ssrc).iter().all(|p| layer(p) == b'q'), "only the preferred layer is forwarded");

    let path = format!("/v1/rooms/sim/participants/sub/consumers/{}/layers", cv.consumer_id);
    let info: ConsumerInfo = n.put(&path, &Layers { spatial_layer: 2, temporal_layer: None }).await.unwrap();
    assert_eq!(info.preferred_layers, Some(Layers { spatial_layer: 2, temporal_layer: None }));
    eventually("layer f", Duration::from_secs(10), || {
        sub.got(cv.ssrc).iter().filter(|p| layer(p) == b'f').count() > 30
    })
    .await;
    let got = sub.got(cv.ssrc);
    let first_f = got.iter().position(|p| layer(p) == b'f').unwrap();
    assert_eq!(got[first_f][1] & 0x01, 0, "the switch happens on a keyframe of the new layer");
    assert_eq!(got[first_f][0], 0x10, "at the first packet of that keyframe");
    assert!(got[first_f..].iter().all(|p| layer(p) == b'f'), "nothing of the old layer after the switch");
    assert!(got[..first_f].iter().all(|p| layer(p) == b'q'));
    let ev = events_until(&t.events, "c-sub", |t| count(t, "consumerLayersChanged") >= 2).await;
    let last = ev.iter().rev().find(|e| e["type"] == "consumerLayersChanged").unwrap();
    assert_eq!(last["data"]["spatialLayer"], 2);
    let info: RoomInfo = n.get("/v1/rooms/sim").await.unwrap();
    assert_eq!(info.participants.len(), 2);
    // A layer the producer does not have is refused.
    let (status, body) =
        n.put::<_, Value>(&path, &Layers { spatial_layer: 3, temporal_layer: None }).await.unwrap_err();
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("VALIDATION_ERROR")));
    publisher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_participants_quality_picks_the_layers_and_the_bitrate_cap_of_what_it_receives() {
    let t = start_node(1).await;
    let n = &t.node;
    let _: RoomInfo = n.put("/v1/rooms/q", &serde_json::json!({})).await.unwrap();
    join(&t, "q", "pub", "c-pub").await;
    join(&t, "q", "sub", "c-sub").await;
    // Each layer ~1.4 Mbps of payload (6 packets of 1000 bytes, 30 frames a second).
    let opts = PublishOptions {
        audio: false,
        rids: vec!["q", "h", "f"],
        keyframe_every: 20,
        packets_per_frame: 6,
        ..Default::default()
    };
    let publisher = Publisher::start(n, "q", "pub", opts).await;
    let video = publisher.producer(MediaKind::Video).clone();
    let quality = |q: u8| async move {
        n.put::<_, QualityInfo>("/v1/rooms/q/participants/sub/quality", &QualityRequest { quality: q }).await
    };
    // Set before subscribing: the new consumer starts on quality 10's layers.
    let info = quality(10).await.unwrap();
    assert_eq!((info.spatial_layer, info.temporal_layer, info.max_bitrate), (0, Some(0), 400_000));
    assert!(info.consumers.is_empty());
    let sub = Subscriber::start(n, "q", "sub").await;
    let cv = sub.subscribe(n, &video.producer_id, None).await;
    assert_eq!(cv.preferred_layers, Some(Layers { spatial_layer: 0, temporal_layer: Some(0) }));
    sub.connected().await;
    let layer = |p: &bytes::Bytes| p[11];
    let lately = |want: u8| {
        let got = sub.got(cv.ssrc);
        got.len() > 60 && got[got.len() - 40..].iter().all(|p| layer(p) == want)
    };
    eventually("layer q at quality 10", Duration::from_secs(10), || lately(b'q')).await;

    // 90: the top layer; its ~1.4 Mbps is within 2.4 Mbps.
    let info = quality(90).await.unwrap();
    let c = info.consumers.iter().find(|c| c.consumer_id == cv.consumer_id).expect("the video consumer");
    assert_eq!(c.preferred_layers, Some(Layers { spatial_layer: 2, temporal_layer: None }));
    eventually("layer f at quality 90", Duration::from_secs(10), || lately(b'f')).await;
    // 40 asks for the middle layer, whose ~1.4 Mbps is over 40's 1.15 Mbps cap: the cap holds
    // it on the lowest layer.
    let info = quality(40).await.unwrap();
    assert_eq!((info.spatial_layer, info.max_bitrate), (1, 1_150_000));
    eventually("layer q under quality 40's cap", Duration::from_secs(10), || lately(b'q')).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(lately(b'q'), "the cap keeps holding");
    // An explicit preference overrides the quality (and its cap).
    let path = format!("/v1/rooms/q/participants/sub/consumers/{}/layers", cv.consumer_id);
    let _: ConsumerInfo = n.put(&path, &Layers { spatial_layer: 1, temporal_layer: None }).await.unwrap();
    eventually("layer h as asked", Duration::from_secs(10), || lately(b'h')).await;
    // Out of range, or a stranger: refused.
    let (status, body) = quality(101).await.unwrap_err();
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("VALIDATION_ERROR")));
    let (status, body) = n
        .put::<_, QualityInfo>("/v1/rooms/q/participants/nobody/quality", &QualityRequest { quality: 50 })
        .await
        .unwrap_err();
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("PARTICIPANT_NOT_FOUND")));
    publisher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_control_input_gets_its_error_and_changes_nothing() {
    let t = start_node(2).await;
    let n = &t.node;
    let code = |r: Result<Value, (u16, Value)>| match r {
        Ok(v) => panic!("accepted: {v}"),
        Err((s, b)) => (s, b["error"]["code"].as_str().unwrap_or_default().to_owned()),
    };
    let e = |s: u16, c: &str| (s, c.to_owned());
    assert_eq!(code(n.get("/v1/rooms/nope").await), e(404, "ROOM_NOT_FOUND"));
    assert_eq!(code(n.put("/v1/rooms/bad%20id", &serde_json::json!({})).await), e(400, "VALIDATION_ERROR"));
    assert_eq!(
        code(n.put("/v1/rooms/r", &serde_json::json!({"maxParticipants": 0})).await),
        e(400, "VALIDATION_ERROR")
    );
    assert_eq!(code(n.put("/v1/rooms/r", &serde_json::json!({"max": 2})).await), e(400, "VALIDATION_ERROR"));
    let _: RoomInfo = n.put("/v1/rooms/r", &serde_json::json!({"maxParticipants": 2})).await.unwrap();
    join(&t, "r", "a", "c-a").await;
    join(&t, "r", "b", "c-b").await;
    let third = n.put("/v1/rooms/r/participants/c", &serde_json::json!({"userId": "u"})).await;
    assert_eq!(code(third), e(409, "ROOM_FULL"));
    let other_user = n.put("/v1/rooms/r/participants/a", &serde_json::json!({"userId": "mallory"})).await;
    assert_eq!(code(other_user), e(409, "CONFLICT"));
    assert_eq!(
        code(n.post("/v1/rooms/r/participants/zz/transports", &serde_json::json!({"direction": "send"})).await),
        e(404, "PARTICIPANT_NOT_FOUND")
    );
    assert_eq!(
        code(n.post("/v1/rooms/r/participants/a/transports", &serde_json::json!({"direction": "up"})).await),
        e(400, "VALIDATION_ERROR")
    );
    let send = n.transport("r", "a", Direction::Send).await;
    let recv = n.transport("r", "b", Direction::Recv).await;
    let publish = |tid: &str, sdp: &str, mid: &str, kind: &str| serde_json::json!({"transportId": tid, "sdp": sdp, "tracks": [{"mid": mid, "kind": kind}]});
    let p = "/v1/rooms/r/participants/a/producers";
    assert_eq!(code(n.post(p, &publish(&send.transport_id, "not sdp", "0", "video")).await), e(400, "INVALID_SDP"));
    let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n";
    assert_eq!(code(n.post(p, &publish(&send.transport_id, sdp, "0", "video")).await), e(400, "VALIDATION_ERROR"));
    assert_eq!(code(n.post(p, &publish(&send.transport_id, sdp, "7", "audio")).await), e(400, "VALIDATION_ERROR"));
    // Valid shape, but no ICE/DTLS attributes: the PeerConnection refuses it.
    assert_eq!(code(n.post(p, &publish(&send.transport_id, sdp, "0", "audio")).await), e(400, "INVALID_SDP"));
    assert_eq!(code(n.post(p, &publish(&recv.transport_id, sdp, "0", "audio")).await), e(404, "TRANSPORT_NOT_FOUND"));
    assert_eq!(code(n.post(p, &publish("tr_nope", sdp, "0", "audio")).await), e(404, "TRANSPORT_NOT_FOUND"));
    let sub = serde_json::json!({"transportId": recv.transport_id, "producerId": "pr_nope"});
    assert_eq!(code(n.post("/v1/rooms/r/participants/b/consumers", &sub).await), e(404, "PRODUCER_NOT_FOUND"));
    let sub = serde_json::json!({"transportId": send.transport_id, "producerId": "pr_nope"});
    assert_eq!(code(n.post("/v1/rooms/r/participants/b/consumers", &sub).await), e(404, "TRANSPORT_NOT_FOUND"));
    let ans = format!("/v1/rooms/r/participants/b/transports/{}/answer", recv.transport_id);
    assert_eq!(code(n.post(&ans, &serde_json::json!({"sdp": sdp})).await), e(400, "VALIDATION_ERROR"));
    assert_eq!(
        code(n.post("/v1/rooms/r/participants/b/consumers/co_nope/pause", &Value::Null).await),
        e(404, "CONSUMER_NOT_FOUND")
    );
    assert_eq!(code(n.delete("/v1/rooms/r/participants/a/producers/pr_nope").await), e(404, "PRODUCER_NOT_FOUND"));
    // Nothing was created by any of it, and the node still serves a real publish in another room.
    let info: RoomInfo = n.get("/v1/rooms/r").await.unwrap();
    assert!(info.participants.iter().all(|p| p.producers.is_empty() && p.consumers == 0));
    let stats: NodeStats = n.get("/v1/stats").await.unwrap();
    assert_eq!((stats.producers, stats.consumers), (0, 0));
    let _: RoomInfo = n.put("/v1/rooms/ok", &serde_json::json!({})).await.unwrap();
    join(&t, "ok", "p", "c-p").await;
    join(&t, "ok", "s", "c-s").await;
    let publisher = Publisher::start(n, "ok", "p", PublishOptions::default()).await;
    let s = Subscriber::start(n, "ok", "s").await;
    let c = s.subscribe(n, &publisher.producer(MediaKind::Video).producer_id, None).await;
    eventually("media in the healthy room", Duration::from_secs(10), || s.got(c.ssrc).len() > 10).await;
    n.delete("/v1/rooms/r").await.unwrap();
    assert_eq!(code(n.get("/v1/rooms/r").await), e(404, "ROOM_NOT_FOUND"));
    publisher.stop().await;
}

/// `a=ice-ufrag` and `a=ice-pwd` of a description.
fn ice_credentials(sdp: &str) -> (String, String) {
    let find = |p: &str| sdp.lines().find_map(|l| l.trim().strip_prefix(p)).unwrap_or_default().to_owned();
    (find("a=ice-ufrag:"), find("a=ice-pwd:"))
}

/// After `from`, the client's ICE agent went back to checking and then connected again:
/// its checks with the new credentials were answered.
fn reconnected_after(states: &[RTCIceConnectionState], from: usize) -> bool {
    let after = &states[from.min(states.len())..];
    after.iter().position(|s| *s == RTCIceConnectionState::Checking).is_some_and(|i| {
        after[i..].contains(&RTCIceConnectionState::Connected)
            && after.last() == Some(&RTCIceConnectionState::Connected)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ice_restart_on_either_transport_renews_credentials_and_media_keeps_flowing() {
    let t = start_node(1).await;
    let n = &t.node;
    let _: RoomInfo = n.put("/v1/rooms/ice", &serde_json::json!({})).await.unwrap();
    join(&t, "ice", "pub", "c-pub").await;
    join(&t, "ice", "sub", "c-sub").await;
    let publisher = Publisher::start(n, "ice", "pub", PublishOptions::default()).await;
    let video = publisher.producer(MediaKind::Video).clone();
    let sub = Subscriber::start(n, "ice", "sub").await;
    let cv = sub.subscribe(n, &video.producer_id, None).await;
    sub.connected().await;
    eventually("video before the restart", Duration::from_secs(10), || sub.got(cv.ssrc).len() > 30).await;

    // Receive side: the node offers new credentials, the subscriber answers and re-checks.
    let old = ice_credentials(&sub.pc.remote_description().await.unwrap().sdp);
    let path = format!("/v1/rooms/ice/participants/sub/transports/{}/restart-ice", sub.transport_id);
    let res: NegotiationResponse = n.post(&path, &serde_json::json!({})).await.unwrap();
    let offer = res.offer.expect("a receive transport restarts with a node offer");
    let new = ice_credentials(&offer);
    assert!(new.0 != old.0 && new.1 != old.1 && !new.0.is_empty(), "{old:?} -> {new:?}");
    let mark = sub.seen.ice.lock().unwrap().len();
    sub.negotiate(n, Some(offer)).await;
    eventually("subscriber ICE checking then connected", Duration::from_secs(10), || {
        reconnected_after(&sub.seen.ice.lock().unwrap(), mark)
    })
    .await;
    let before = sub.got(cv.ssrc).len();
    eventually("video after the receive restart", Duration::from_secs(10), || sub.got(cv.ssrc).len() > before + 30)
        .await;

    // Send side: the publisher re-offers with iceRestart; the node answers with new credentials.
    let old = ice_credentials(&publisher.pc.remote_description().await.unwrap().sdp);
    let mark = publisher.seen.ice.lock().unwrap().len();
    let answer = publisher.restart_ice(n, "ice", "pub").await;
    let new = ice_credentials(&answer);
    assert!(new.0 != old.0 && new.1 != old.1 && !new.0.is_empty(), "{old:?} -> {new:?}");
    eventually("publisher ICE checking then connected", Duration::from_secs(10), || {
        reconnected_after(&publisher.seen.ice.lock().unwrap(), mark)
    })
    .await;
    let before = sub.got(cv.ssrc).len();
    eventually("video after the send restart", Duration::from_secs(10), || sub.got(cv.ssrc).len() > before + 30).await;
    // The restart offer carried no tracks and created no producers.
    let stats: NodeStats = n.get("/v1/stats").await.unwrap();
    assert_eq!((stats.producers, stats.consumers), (2, 1));
    publisher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscribers_keyframe_requests_reach_the_publisher_at_most_about_once_a_second() {
    let t = start_node(1).await;
    let n = &t.node;
    let _: RoomInfo = n.put("/v1/rooms/kf", &serde_json::json!({})).await.unwrap();
    join(&t, "kf", "pub", "c-pub").await;
    join(&t, "kf", "sub", "c-sub").await;
    // A publisher that answers every request: the node's limit, not its silence, bounds them.
    let opts = PublishOptions { audio: false, keyframe_every: 60, honour_pli: true, ..Default::default() };
    let publisher = Publisher::start(n, "kf", "pub", opts).await;
    let video = publisher.producer(MediaKind::Video).clone();
    let sub = Subscriber::start(n, "kf", "sub").await;
    let cv = sub.subscribe(n, &video.producer_id, None).await;
    sub.connected().await;
    eventually("video", Duration::from_secs(15), || sub.got(cv.ssrc).len() > 10).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let requests = || t.state.sfu.metrics.keyframe_requests.load(std::sync::atomic::Ordering::Relaxed);
    let start = requests();
    let t0 = std::time::Instant::now();
    // Twenty PLIs a second for three seconds.
    while t0.elapsed() < Duration::from_secs(3) {
        sub.send_pli(cv.ssrc).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let sent = requests() - start;
    let secs = t0.elapsed().as_secs_f64();
    eprintln!("{sent} keyframe requests to the publisher in {secs:.1} s from 60 PLIs");
    assert!(sent >= 2, "the publisher was asked for keyframes: {sent}");
    assert!(sent as f64 <= secs.ceil() + 1.0, "{sent} requests in {secs:.1} s from 60 PLIs");
    publisher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_temporal_layer_cap_forwards_only_the_base_layer_until_it_is_lifted() {
    let t = start_node(1).await;
    let n = &t.node;
    let _: RoomInfo = n.put("/v1/rooms/tl", &serde_json::json!({})).await.unwrap();
    join(&t, "tl", "pub", "c-pub").await;
    join(&t, "tl", "sub", "c-sub").await;
    let opts = PublishOptions { audio: false, temporal: true, keyframe_every: 30, ..Default::default() };
    let publisher = Publisher::start(n, "tl", "pub", opts).await;
    let video = publisher.producer(MediaKind::Video).clone();
    let sub = Subscriber::start(n, "tl", "sub").await;
    let base = Layers { spatial_layer: 0, temporal_layer: Some(0) };
    let cv = sub.subscribe(n, &video.producer_id, Some(base)).await;
    sub.connected().await;
    eventually("base-layer video", Duration::from_secs(10), || sub.got(cv.ssrc).len() > 45).await;
    let frame = |p: &bytes::Bytes| frame_number(p, true);
    let got = sub.got(cv.ssrc);
    assert!(got.iter().all(|p| frame(p) % 2 == 0), "only TID 0 (even frames) under a cap of 0");
    let frames: std::collections::BTreeSet<u64> = got.iter().map(frame).collect();
    assert!(frames.len() > 10, "{} frames", frames.len());
    assert!(frames.iter().zip(frames.iter().skip(1)).all(|(a, b)| b - a == 2), "no base frame missing");

    let path = format!("/v1/rooms/tl/participants/sub/consumers/{}/layers", cv.consumer_id);
    let all = Layers { spatial_layer: 0, temporal_layer: Some(1) };
    let _: ConsumerInfo = n.put(&path, &all).await.unwrap();
    let seen = got.len();
    eventually("odd frames after the cap is lifted", Duration::from_secs(10), || {
        sub.got(cv.ssrc)[seen..].iter().filter(|p| frame(p) % 2 == 1).count() > 20
    })
    .await;
    publisher.stop().await;
}
