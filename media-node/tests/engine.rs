//! The SFU engine on simulated time: real `rtc` peers (ICE, DTLS, SRTP) exchange datagrams
//! with an `Engine` through plain function calls, the clock is a variable the test moves,
//! and nothing binds a socket or sleeps. Control goes through the same `Command`s the
//! node's routes send.

use bytes::Bytes;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp;
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stratus_media_node::metrics::Metrics;
use stratus_media_node::sfu::codec;
use stratus_media_node::sfu::engine::host_candidate;
use stratus_media_node::sfu::{Command, Engine};
use stratus_protocol::media::*;

const ROOM: &str = "r1";
const STEP: Duration = Duration::from_millis(2);

/// A client PeerConnection at a made-up address.
struct Peer {
    pc: RTCPeerConnection,
    addr: SocketAddr,
    connected: bool,
    /// Payloads received, by SSRC.
    got: HashMap<u32, Vec<Bytes>>,
}

impl Peer {
    fn new(addr: &str, now: Instant) -> Peer {
        let addr: SocketAddr = addr.parse().unwrap();
        let mut pc = RTCPeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_setting_engine(SettingEngineBuilder::new().build())
            .with_media_engine(codec::media_engine().unwrap())
            .build(now)
            .unwrap();
        pc.add_local_candidate(host_candidate(addr).unwrap()).unwrap();
        Peer { pc, addr, connected: false, got: HashMap::new() }
    }

    fn drain(&mut self) {
        while let Some(e) = self.pc.poll_event() {
            if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(s) = e {
                self.connected = s == RTCPeerConnectionState::Connected;
            }
        }
        while let Some(TaggedRTCMessage { message, .. }) = self.pc.poll_read() {
            if let RTCMessage::RtpPacket(_, p) = message {
                self.got.entry(p.header.ssrc).or_default().push(p.payload);
            }
        }
    }
}

/// The engine and its peers on one simulated clock.
struct Net {
    engine: Engine,
    local: SocketAddr,
    peers: Vec<Peer>,
    now: Instant,
    /// Room events the engine emitted: (connection ids, event).
    events: Vec<(Vec<String>, RoomEvent)>,
    metrics: Arc<Metrics>,
}

fn ctx(local: SocketAddr, peer: SocketAddr) -> TransportContext {
    TransportContext { local_addr: local, peer_addr: peer, ecn: None, transport_protocol: TransportProtocol::UDP }
}

impl Net {
    fn new() -> Net {
        let now = Instant::now();
        let local: SocketAddr = "10.9.0.1:40000".parse().unwrap();
        let metrics = Arc::new(Metrics::default());
        let engine = Engine::new(local, metrics.clone(), now);
        Net { engine, local, peers: vec![], now, events: vec![], metrics }
    }

    fn cmd(&mut self, cmd: Command) -> stratus_media_node::sfu::Reply {
        let r = self.engine.handle_command(ROOM, cmd, self.now).unwrap_or_else(|e| panic!("command failed: {e}"));
        self.collect();
        r
    }

    fn collect(&mut self) {
        while let Some(o) = self.engine.poll_event() {
            self.events.push((o.connection_ids, o.event));
        }
    }

    /// Moves every datagram once, runs what is due, and advances the clock by one step.
    fn step(&mut self) {
        let now = self.now;
        for i in 0..self.peers.len() {
            while let Some(out) = self.peers[i].pc.poll_write() {
                assert_eq!(out.transport.peer_addr, self.local, "peers only talk to the engine");
                let from = self.peers[i].addr;
                self.engine.handle_datagram(now, from, &out.message);
            }
        }
        while let Some(t) = self.engine.poll_transmit() {
            let local = self.local;
            if let Some(p) = self.peers.iter_mut().find(|p| p.addr == t.to) {
                let msg = TaggedBytesMut { now, transport: ctx(p.addr, local), message: t.data };
                let _ = p.pc.handle_read(msg);
            }
        }
        self.engine.transmitted(now);
        self.collect();
        for p in &mut self.peers {
            p.drain();
            if p.pc.poll_timeout().is_some_and(|d| d <= now) {
                let _ = p.pc.handle_timeout(now);
            }
        }
        if self.engine.poll_timeout() <= now {
            self.engine.handle_timeout(now);
        }
        self.now += STEP;
    }

    /// Steps until `done` holds, at most `within` of simulated time.
    fn run_until(&mut self, what: &str, within: Duration, mut done: impl FnMut(&Net) -> bool) {
        let end = self.now + within;
        while !done(self) {
            assert!(self.now < end, "{what}: not within {within:?} of simulated time");
            self.step();
        }
    }
}

fn video_track(ssrc: u32) -> MediaStreamTrack {
    let encodings = vec![RTCRtpEncodingParameters {
        rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
        codec: RTCRtpCodec { mime_type: "video/VP8".into(), clock_rate: 90000, ..Default::default() },
        ..Default::default()
    }];
    MediaStreamTrack::new("s-video".into(), "video".into(), "video".into(), RtpCodecKind::Video, encodings)
}

fn mid_of(sdp: &str) -> String {
    sdp.lines().find_map(|l| l.strip_prefix("a=mid:")).expect("a mid").trim().to_owned()
}

/// One VP8 packet of frame `n`: a keyframe when `key`.
fn vp8(n: u64, key: bool) -> Bytes {
    let mut p = vec![0u8; 64];
    p[0] = 0x10; // S=1: the first packet of a frame
    p[1] = if key { 0x00 } else { 0x01 }; // frame tag: P=0 on keyframes
    p[2..10].copy_from_slice(&n.to_be_bytes());
    Bytes::from(p)
}

fn join(net: &mut Net, pid: &str) {
    let req = CreateParticipantRequest {
        user_id: format!("user-{pid}"),
        connection_id: Some(format!("conn-{pid}")),
        can_publish: true,
        can_subscribe: true,
    };
    net.cmd(Command::Join { participant: pid.into(), req }).joined().unwrap();
}

/// Alice publishes VP8 in room r1; returns her peer's index, sender and producer.
fn publisher(net: &mut Net) -> (usize, RTCRtpSenderId, ProducerInfo) {
    net.cmd(Command::CreateRoom { max_participants: 4, name: "r1".into() }).room().unwrap();
    join(net, "alice");
    let send = net
        .cmd(Command::CreateTransport { participant: "alice".into(), direction: Direction::Send })
        .transport()
        .unwrap();
    let mut alice = Peer::new("10.9.0.2:50000", net.now);
    let sender = alice.pc.add_track(video_track(0x1111)).unwrap();
    let offer = alice.pc.create_offer(None).unwrap();
    alice.pc.set_local_description(net.now, offer).unwrap();
    let sdp = alice.pc.local_description().unwrap().sdp;
    let track = PublishTrack { mid: mid_of(&sdp), kind: MediaKind::Video, rids: vec![], source: Some("camera".into()) };
    let req = PublishRequest { transport_id: send.transport_id, sdp, tracks: vec![track] };
    let res = net.cmd(Command::Publish { participant: "alice".into(), req }).published().unwrap();
    alice.pc.set_remote_description(net.now, RTCSessionDescription::answer(res.sdp).unwrap()).unwrap();
    net.peers.push(alice);
    let i = net.peers.len() - 1;
    net.run_until("alice connects", Duration::from_secs(5), |n| n.peers[i].connected);
    (i, sender, res.producers.into_iter().next().unwrap())
}

/// Bob subscribes to `producer`; returns his peer's index and the consumer.
fn subscriber(net: &mut Net, producer: &str) -> (usize, ConsumerInfo) {
    subscriber_as(net, "bob", "10.9.0.3:50000", producer)
}

/// Participant `pid` at `addr` subscribes to `producer`.
fn subscriber_as(net: &mut Net, pid: &str, addr: &str, producer: &str) -> (usize, ConsumerInfo) {
    join(net, pid);
    let recv =
        net.cmd(Command::CreateTransport { participant: pid.into(), direction: Direction::Recv }).transport().unwrap();
    let req = SubscribeRequest {
        transport_id: recv.transport_id.clone(),
        producer_id: producer.into(),
        paused: false,
        preferred_layers: None,
    };
    let sub = net.cmd(Command::Subscribe { participant: pid.into(), req }).subscribed().unwrap();
    let mut peer = Peer::new(addr, net.now);
    let mut offer = sub.offer;
    while let Some(o) = offer.take() {
        peer.pc.set_remote_description(net.now, RTCSessionDescription::offer(o).unwrap()).unwrap();
        let answer = peer.pc.create_answer(None).unwrap();
        peer.pc.set_local_description(net.now, answer).unwrap();
        let sdp = peer.pc.local_description().unwrap().sdp;
        let cmd = Command::Answer { participant: pid.into(), transport: recv.transport_id.clone(), sdp };
        offer = net.cmd(cmd).negotiation().unwrap().offer;
    }
    net.peers.push(peer);
    let i = net.peers.len() - 1;
    net.run_until("the subscriber connects", Duration::from_secs(5), |n| n.peers[i].connected);
    (i, sub.consumer)
}

/// Alice sends frame `n` (one packet; a keyframe when `key`), then 33 ms pass.
fn send_frame(net: &mut Net, alice: usize, sender: RTCRtpSenderId, n: u64, key: bool) {
    let header = rtp::header::Header {
        version: 2,
        payload_type: 96,
        sequence_number: 1000 + n as u16,
        timestamp: (n as u32) * 3000,
        ssrc: 0x1111,
        marker: true,
        ..Default::default()
    };
    let now = net.now;
    let mut s = net.peers[alice].pc.rtp_sender(sender).unwrap();
    s.write_rtp(now, rtp::packet::Packet { header, payload: vp8(n, key) }).unwrap();
    for _ in 0..(33 / STEP.as_millis() as u64) {
        net.step();
    }
}

/// Alice sends frames `from..to` (one packet each, a keyframe every 10), one per 33 ms.
fn send_frames(net: &mut Net, alice: usize, sender: RTCRtpSenderId, frames: std::ops::Range<u64>) {
    for n in frames {
        send_frame(net, alice, sender, n, n % 10 == 0);
    }
}

fn frame_numbers(payloads: &[Bytes]) -> Vec<u64> {
    payloads.iter().map(|p| u64::from_be_bytes(p[2..10].try_into().unwrap())).collect()
}

#[test]
fn a_published_track_reaches_a_subscriber_from_a_keyframe_on() {
    let mut net = Net::new();
    let (alice, sender, producer) = publisher(&mut net);
    let (bob, consumer) = subscriber(&mut net, &producer.producer_id);
    assert!(
        net.events.iter().any(|(to, e)| to == &["conn-alice"]
            && matches!(e, RoomEvent::ParticipantJoined { participant_id, .. } if participant_id == "bob")),
        "alice hears bob join: {:?}",
        net.events
    );
    send_frames(&mut net, alice, sender, 1..40);
    let got = frame_numbers(net.peers[bob].got.get(&consumer.ssrc).map(Vec::as_slice).unwrap_or(&[]));
    // Forwarding starts on a keyframe (frame 10) and then carries every frame, in order.
    assert_eq!(got.first(), Some(&10), "first frame forwarded: {got:?}");
    assert_eq!(got, (10..40).collect::<Vec<_>>());
}

#[test]
fn a_paused_consumer_gets_nothing_until_resumed_and_restarts_on_a_keyframe() {
    let mut net = Net::new();
    let (alice, sender, producer) = publisher(&mut net);
    let (bob, consumer) = subscriber(&mut net, &producer.producer_id);
    send_frames(&mut net, alice, sender, 1..15);
    let cmd =
        Command::PauseConsumer { participant: "bob".into(), consumer: consumer.consumer_id.clone(), paused: true };
    assert!(net.cmd(cmd).consumer().unwrap().paused);
    let before = net.peers[bob].got[&consumer.ssrc].len();
    send_frames(&mut net, alice, sender, 15..25);
    assert_eq!(net.peers[bob].got[&consumer.ssrc].len(), before, "nothing while paused");
    let cmd =
        Command::PauseConsumer { participant: "bob".into(), consumer: consumer.consumer_id.clone(), paused: false };
    net.cmd(cmd).consumer().unwrap();
    send_frames(&mut net, alice, sender, 25..45);
    let got = frame_numbers(&net.peers[bob].got[&consumer.ssrc]);
    let resumed: Vec<u64> = got.into_iter().filter(|n| *n >= 25).collect();
    assert_eq!(resumed.first(), Some(&30), "resumes on the next keyframe: {resumed:?}");
    // The subscriber heard about its own pause and resume as events.
    let mine =
        |t: &str| net.events.iter().filter(|(to, e)| to == &["conn-bob"] && format!("{e:?}").starts_with(t)).count();
    assert_eq!((mine("ConsumerPaused"), mine("ConsumerResumed")), (1, 1));
}

#[test]
fn leaving_tears_everything_down() {
    let mut net = Net::new();
    let (_alice, _sender, producer) = publisher(&mut net);
    let (_bob, _consumer) = subscriber(&mut net, &producer.producer_id);
    net.cmd(Command::Leave { participant: "alice".into() }).done().unwrap();
    net.cmd(Command::Leave { participant: "bob".into() }).done().unwrap();
    // Close notifications go out; then nothing is left but the (empty) room.
    net.step();
    assert_eq!(net.engine.footprint(), [0; 8]);
    assert!(net.events.iter().any(|(to, e)| to == &["conn-bob"]
        && matches!(e, RoomEvent::ProducerClosed { producer_id, .. } if *producer_id == producer.producer_id)));
}

fn ufrag(sdp: &str) -> String {
    sdp.lines().find_map(|l| l.strip_prefix("a=ice-ufrag:")).expect("a ufrag").trim().to_owned()
}

/// Bob answers `offer` on his recv transport; returns the engine's next offer.
fn bob_answers(net: &mut Net, bob: usize, transport: &str, offer: String) -> Option<String> {
    let pc = &mut net.peers[bob].pc;
    pc.set_remote_description(net.now, RTCSessionDescription::offer(offer).unwrap()).unwrap();
    let answer = pc.create_answer(None).unwrap();
    pc.set_local_description(net.now, answer).unwrap();
    let sdp = pc.local_description().unwrap().sdp;
    let cmd = Command::Answer { participant: "bob".into(), transport: transport.into(), sdp };
    net.cmd(cmd).negotiation().unwrap().offer
}

#[test]
fn an_ice_restart_asked_for_while_an_offer_is_out_comes_after_the_answer() {
    let mut net = Net::new();
    let (alice, sender, producer) = publisher(&mut net);
    let (bob, consumer) = subscriber(&mut net, &producer.producer_id);
    let restart = || Command::RestartIce { participant: "bob".into(), transport: consumer.transport_id.clone() };
    let first = net.cmd(restart()).negotiation().unwrap().offer.expect("an offer with new credentials");
    // A second restart while that offer awaits its answer is owed, not lost.
    assert_eq!(net.cmd(restart()).negotiation().unwrap().offer, None);
    let second = bob_answers(&mut net, bob, &consumer.transport_id, first.clone()).expect("the owed restart");
    assert_ne!(ufrag(&second), ufrag(&first), "the owed offer restarts ICE again");
    assert_eq!(bob_answers(&mut net, bob, &consumer.transport_id, second), None, "nothing more is owed");
    // An answer with no offer out is refused.
    let stale = net.engine.handle_command(
        ROOM,
        Command::Answer { participant: "bob".into(), transport: consumer.transport_id.clone(), sdp: "v=0".into() },
        net.now,
    );
    assert_eq!(stale.unwrap_err().code, stratus_protocol::error::ErrorCode::ValidationError);
    // Media flows over the restarted transport, once ICE has checked the new credentials
    // (a second of simulated time).
    let settled = net.now + Duration::from_secs(1);
    net.run_until("ICE re-checks", Duration::from_secs(2), |n| n.now >= settled);
    assert!(net.peers[bob].connected);
    let before = net.peers[bob].got.get(&consumer.ssrc).map_or(0, Vec::len);
    send_frames(&mut net, alice, sender, 1..30);
    assert!(net.peers[bob].got[&consumer.ssrc].len() >= before + 19, "frames after the restarts");
}

#[test]
fn participants_hear_a_room_by_its_name_not_the_nodes_id_for_it() {
    let mut net = Net::new();
    let info = net.cmd(Command::CreateRoom { max_participants: 4, name: "standup".into() }).room().unwrap();
    assert_eq!(info.room_id, "standup");
    join(&mut net, "alice");
    join(&mut net, "bob");
    let joined: Vec<&String> = net
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            RoomEvent::ParticipantJoined { room_id, .. } => Some(room_id),
            _ => None,
        })
        .collect();
    assert!(!joined.is_empty() && joined.iter().all(|r| *r == "standup"), "{joined:?} (node id {ROOM})");
}

/// The keyframe requests the engine has sent its publishers.
fn keyframe_requests(net: &Net) -> u64 {
    net.metrics.keyframe_requests.load(std::sync::atomic::Ordering::Relaxed)
}

/// Alice sends frames `frames` as a publisher that honours keyframe requests: delta frames,
/// and a keyframe for the first frame after each request the engine sent (its count stands
/// for her PLIs: the simulated peer does not surface RTCP it receives as a sender).
/// `answered` is how many requests she has answered so far.
fn send_frames_on_request(
    net: &mut Net,
    alice: usize,
    sender: RTCRtpSenderId,
    frames: std::ops::Range<u64>,
    answered: &mut u64,
) {
    for n in frames {
        let key = keyframe_requests(net) > *answered;
        *answered = keyframe_requests(net);
        send_frame(net, alice, sender, n, key);
    }
}

#[test]
fn a_later_subscriber_gets_its_keyframe_at_once_when_the_last_request_was_answered() {
    let mut net = Net::new();
    let (alice, sender, producer) = publisher(&mut net);
    let (bob, cb) = subscriber(&mut net, &producer.producer_id);
    let mut answered = 0;
    send_frames_on_request(&mut net, alice, sender, 1..10, &mut answered);
    let got = frame_numbers(net.peers[bob].got.get(&cb.ssrc).map(Vec::as_slice).unwrap_or(&[]));
    assert!(!got.is_empty() && keyframe_requests(&net) == 1, "bob starts on the keyframe he asked for: {got:?}");
    // Carol subscribes a few hundred milliseconds after bob's request was answered: hers goes
    // out at once, not when the second since bob's has passed.
    let (carol, cc) = subscriber_as(&mut net, "carol", "10.9.0.4:50000", &producer.producer_id);
    send_frames_on_request(&mut net, alice, sender, 10..40, &mut answered);
    let asked = keyframe_requests(&net);
    assert!((2..=4).contains(&asked), "carol's request went out, and no storm of them: {asked}");
    let got = frame_numbers(net.peers[carol].got.get(&cc.ssrc).map(Vec::as_slice).unwrap_or(&[]));
    assert!(got.first().is_some_and(|&f| f <= 12), "carol's first frame within two frames of asking: {got:?}");
}
