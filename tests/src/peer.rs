//! Real WebRTC peers on the async `webrtc` crate, negotiating through a [`Signal`]: a media
//! node's signed control API ([`Seat`]) or the platform's WebSocket SFU dialect
//! (`sfu_client::SfuClient`). A publisher that sends numbered audio and VP8-shaped video packets (a
//! keyframe every `keyframe_every` frames, optionally three simulcast layers) and a
//! subscriber that records every payload it receives, per SSRC.

use bytes::Bytes;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::RTCOfferOptions;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stratus_control::Key;
use stratus_control::client::ControlClient;
use stratus_protocol::media::*;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceConnectionState, RTCPeerConnectionState,
};

/// The control API of one node, signed with one key.
#[derive(Clone)]
pub struct Node {
    pub base: String,
    client: Arc<ControlClient>,
}

impl Node {
    pub fn new(base: &str, key: Key) -> Node {
        Node { base: base.trim_end_matches('/').to_owned(), client: Arc::new(ControlClient::new(key)) }
    }

    /// A signed request; `Err((status, error body))` when the node refuses it.
    pub async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<R, (u16, Value)> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        self.client.send(method, &format!("{}{path}", self.base), body, now).await.map_err(|e| (e.status, e.body))
    }

    pub async fn post<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: &B) -> Result<R, (u16, Value)> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: &B) -> Result<R, (u16, Value)> {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, (u16, Value)> {
        self.call::<(), R>(reqwest::Method::GET, path, None).await
    }

    /// DELETE; the body (when there is one) is returned as JSON, `Null` for 204.
    pub async fn delete(&self, path: &str) -> Result<Value, (u16, Value)> {
        match self.call::<(), Value>(reqwest::Method::DELETE, path, None).await {
            Err((s, _)) if (200..300).contains(&s) => Ok(Value::Null),
            r => r,
        }
    }

    pub async fn join(&self, room: &str, pid: &str) -> RoomInfo {
        let _: Result<RoomInfo, _> = self.put(&format!("/v1/rooms/{room}"), &serde_json::json!({})).await;
        self.put(
            &format!("/v1/rooms/{room}/participants/{pid}"),
            &serde_json::json!({ "userId": format!("user-{pid}") }),
        )
        .await
        .expect("join")
    }

    pub async fn transport(&self, room: &str, pid: &str, direction: Direction) -> TransportInfo {
        self.post(&format!("/v1/rooms/{room}/participants/{pid}/transports"), &CreateTransportRequest { direction })
            .await
            .expect("create transport")
    }

    /// Subscribes on a receive transport; the response may carry the node's offer.
    pub async fn consume(
        &self,
        room: &str,
        pid: &str,
        transport_id: &str,
        producer_id: &str,
        layers: Option<Layers>,
    ) -> SubscribeResponse {
        let req = SubscribeRequest {
            transport_id: transport_id.into(),
            producer_id: producer_id.into(),
            paused: false,
            preferred_layers: layers,
        };
        self.post(&format!("/v1/rooms/{room}/participants/{pid}/consumers"), &req).await.expect("subscribe")
    }

    /// Sends the answer to the node's offer; returns the node's next offer, if it has one.
    pub async fn answer(&self, room: &str, pid: &str, transport_id: &str, sdp: String) -> Option<String> {
        let path = format!("/v1/rooms/{room}/participants/{pid}/transports/{transport_id}/answer");
        let res: NegotiationResponse = self.post(&path, &AnswerRequest { sdp }).await.expect("answer");
        res.offer
    }
}

/// How a test peer negotiates: directly with a node's signed control API ([`Seat`]) or over
/// the platform's WebSocket SFU dialect (`crate::sfu_client::SfuClient`).
#[async_trait::async_trait]
pub trait Signal: Send + Sync {
    async fn transport(&self, direction: Direction) -> TransportInfo;
    async fn publish(&self, req: PublishRequest) -> PublishResponse;
    async fn consume(&self, transport_id: &str, producer_id: &str, layers: Option<Layers>) -> SubscribeResponse;
    /// Sends the answer to the node's offer; returns the node's next offer, if it has one.
    async fn answer(&self, transport_id: &str, sdp: String) -> Option<String>;
}

/// One participant of one room on a node, signalling with signed control requests.
pub struct Seat<'a> {
    pub node: &'a Node,
    pub room: &'a str,
    pub pid: &'a str,
}

#[async_trait::async_trait]
impl Signal for Seat<'_> {
    async fn transport(&self, direction: Direction) -> TransportInfo {
        self.node.transport(self.room, self.pid, direction).await
    }

    async fn publish(&self, req: PublishRequest) -> PublishResponse {
        let path = format!("/v1/rooms/{}/participants/{}/producers", self.room, self.pid);
        self.node.post(&path, &req).await.expect("publish")
    }

    async fn consume(&self, transport_id: &str, producer_id: &str, layers: Option<Layers>) -> SubscribeResponse {
        self.node.consume(self.room, self.pid, transport_id, producer_id, layers).await
    }

    async fn answer(&self, transport_id: &str, sdp: String) -> Option<String> {
        self.node.answer(self.room, self.pid, transport_id, sdp).await
    }
}

/// What a peer's event handler saw: connection state, ICE states in order, remote tracks.
#[derive(Clone, Default)]
pub struct Seen {
    state: Arc<Mutex<Option<RTCPeerConnectionState>>>,
    pub ice: Arc<Mutex<Vec<RTCIceConnectionState>>>,
    tracks: Arc<Mutex<Vec<Arc<dyn TrackRemote>>>>,
}

struct Handler {
    seen: Seen,
    received: Option<Received>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        *self.seen.state.lock().unwrap() = Some(state);
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        self.seen.ice.lock().unwrap().push(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        self.seen.tracks.lock().unwrap().push(track.clone());
        let Some(received) = self.received.clone() else { return };
        tokio::spawn(async move {
            while let Some(e) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(p) = e {
                    received.lock().unwrap().entry(p.header.ssrc).or_default().push(p.payload.clone());
                }
            }
        });
    }
}

/// Hands inbound keyframe requests (PLI, FIR) to the application, where a publisher that
/// honours them reads them (`TrackLocal::poll`); other inbound RTCP ends with the interceptors
/// before it, as by default. Last in the chain, so they have all seen it.
#[derive(Default)]
struct KeyframeRequests {
    read: std::collections::VecDeque<rtc::interceptor::TaggedPacket>,
    write: std::collections::VecDeque<rtc::interceptor::TaggedPacket>,
}

impl rtc::sansio::Protocol<rtc::interceptor::TaggedPacket, rtc::interceptor::TaggedPacket, ()> for KeyframeRequests {
    type Rout = rtc::interceptor::TaggedPacket;
    type Wout = rtc::interceptor::TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = std::time::Instant;

    fn handle_read(&mut self, mut msg: rtc::interceptor::TaggedPacket) -> Result<(), Self::Error> {
        if let rtc::interceptor::Packet::Rtcp(packets) = &msg.message.packet {
            let asks: Vec<Box<dyn rtc::rtcp::Packet>> = packets
                .iter()
                .filter(|p| {
                    let any = p.as_any();
                    any.is::<PictureLossIndication>()
                        || any.is::<rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest>()
                })
                .cloned()
                .collect();
            if asks.is_empty() {
                return Ok(());
            }
            msg.message.packet = rtc::interceptor::Packet::Rtcp(asks);
            msg.message.add(rtc::interceptor::Attribute::DeliverToApplication);
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: rtc::interceptor::TaggedPacket) -> Result<(), Self::Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write.pop_front()
    }
}

impl rtc::interceptor::Interceptor for KeyframeRequests {
    fn bind_local_stream(&mut self, _: &rtc::interceptor::StreamInfo) {}
    fn unbind_local_stream(&mut self, _: &rtc::interceptor::StreamInfo) {}
    fn bind_remote_stream(&mut self, _: &rtc::interceptor::StreamInfo) {}
    fn unbind_remote_stream(&mut self, _: &rtc::interceptor::StreamInfo) {}
}

/// Payloads received, by SSRC.
pub type Received = Arc<Mutex<HashMap<u32, Vec<Bytes>>>>;

async fn peer(received: Option<Received>, bind: std::net::IpAddr) -> (Arc<dyn PeerConnection>, Seen) {
    let mut media = MediaEngine::default();
    media.register_default_codecs().unwrap();
    let registry = register_default_interceptors(Default::default(), &mut media)
        .unwrap()
        .with(rtc::interceptor::Slot::from(14_000), KeyframeRequests::default());
    let seen = Seen::default();
    let pc = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(media)
        .with_setting_engine(SettingEngineBuilder::new().with_include_loopback_candidate(true).build())
        .with_interceptor_registry(registry)
        .with_handler(Arc::new(Handler { seen: seen.clone(), received }))
        .with_udp_addrs(vec![std::net::SocketAddr::new(bind, 0).to_string()])
        .build()
        .await
        .expect("peer connection");
    (Arc::new(pc), seen)
}

/// The local description once it lists a candidate (the node does not trickle).
/// With `STRATUS_FUZZ_SEEDS=<dir>`, keeps an SDP these peers send as a seed for the node's SDP
/// fuzz target (`<dir>/node_sdp/<kind>-<n>`, the first byte choosing the target's transport
/// direction): its corpus comes from real `webrtc` peers (scripts/fuzz.sh).
fn keep_seed(send: bool, sdp: &str) {
    let Some(dir) = std::env::var_os("STRATUS_FUZZ_SEEDS") else { return };
    let dir = std::path::Path::new(&dir).join("node_sdp");
    let _ = std::fs::create_dir_all(&dir);
    let (pick, kind) = if send { (6u8, "publish") } else { (1u8, "answer") };
    let name = format!("{kind}-{:016x}", rand::random::<u64>());
    let _ = std::fs::write(dir.join(name), [&[pick][..], sdp.as_bytes()].concat());
}

async fn local_sdp(pc: &Arc<dyn PeerConnection>) -> String {
    for _ in 0..200 {
        if let Some(d) = pc.local_description().await
            && d.sdp.contains("a=candidate")
        {
            return d.sdp;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no local candidate gathered");
}

async fn wait_connected(seen: &Seen) {
    for _ in 0..1000 {
        if *seen.state.lock().unwrap() == Some(RTCPeerConnectionState::Connected) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("peer connection never connected: {:?}", seen.state.lock().unwrap());
}

fn mid_of(sdp: &str, kind: &str) -> String {
    let mut in_kind = false;
    for l in sdp.lines() {
        if let Some(m) = l.strip_prefix("m=") {
            in_kind = m.starts_with(kind);
        } else if in_kind && let Some(mid) = l.strip_prefix("a=mid:") {
            return mid.trim().to_owned();
        }
    }
    panic!("no {kind} section in {sdp}");
}

fn extmap_id(sdp: &str, uri: &str) -> Option<u8> {
    sdp.lines().find_map(|l| {
        let rest = l.strip_prefix("a=extmap:")?;
        let (id, u) = rest.split_once(' ')?;
        (u.trim() == uri).then(|| id.split('/').next()?.parse().ok()).flatten()
    })
}

fn track(kind: RtpCodecKind, id: &str, mime: &str, clock: u32, channels: u16, rids: &[&str]) -> MediaStreamTrack {
    // One encoding without a rid, or one per simulcast rid.
    let rids: &[&str] = if rids.is_empty() { &[""] } else { rids };
    let encodings = rids
        .iter()
        .map(|rid| RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                rid: rid.to_string(),
                ssrc: Some(rand::random()),
                ..Default::default()
            },
            codec: RTCRtpCodec { mime_type: mime.into(), clock_rate: clock, channels, ..Default::default() },
            ..Default::default()
        })
        .collect();
    MediaStreamTrack::new(format!("stream-{id}"), id.to_owned(), id.to_owned(), kind, encodings)
}

/// What a publisher sent, per track (`"audio"`, `"video"` or `"video/<rid>"`).
pub type Sent = Arc<Mutex<HashMap<String, Vec<Bytes>>>>;

pub struct Publisher {
    pub pc: Arc<dyn PeerConnection>,
    pub seen: Seen,
    pub transport_id: String,
    pub producers: Vec<ProducerInfo>,
    pub sent: Sent,
    pub frames: Arc<AtomicU64>,
    /// RTP packets written, audio and video.
    pub packets_sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

pub struct PublishOptions {
    pub audio: bool,
    /// Empty: one video encoding; else simulcast rids, lowest first.
    pub rids: Vec<&'static str>,
    pub fps: u32,
    pub keyframe_every: u64,
    /// Video packets per frame.
    pub packets_per_frame: usize,
    pub payload_bytes: usize,
    /// Two VP8 temporal layers: even frames TID 0, odd frames TID 1, marked in the payload
    /// descriptor; the frame number then sits at bytes 4..12 (see `frame_number`).
    pub temporal: bool,
    /// Keep every payload sent in [`Publisher::sent`] (tests compare them); a long load run
    /// only counts them ([`Publisher::packets_sent`]).
    pub keep_sent: bool,
    /// The address the peer's UDP socket binds (loopback by default; a load test against a
    /// node on another host binds a routable one).
    pub bind: std::net::IpAddr,
    /// Answer a keyframe request (PLI or FIR) with a keyframe on the next frame, as browser
    /// encoders do (off: keyframes only every `keyframe_every` frames).
    pub honour_pli: bool,
}

/// The frame number a publisher wrote into a video payload.
pub fn frame_number(payload: &[u8], temporal: bool) -> u64 {
    let at = if temporal { 4 } else { 2 };
    u64::from_be_bytes(payload[at..at + 8].try_into().unwrap())
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            audio: true,
            rids: vec![],
            fps: 30,
            keyframe_every: 15,
            packets_per_frame: 3,
            payload_bytes: 1000,
            temporal: false,
            keep_sent: true,
            bind: std::net::Ipv4Addr::LOCALHOST.into(),
            honour_pli: false,
        }
    }
}

impl Publisher {
    pub async fn start(node: &Node, room: &str, pid: &str, opts: PublishOptions) -> Publisher {
        Publisher::start_with(&Seat { node, room, pid }, opts).await
    }

    /// Publishes audio (optional) and video through any signalling path.
    pub async fn start_with(signal: &dyn Signal, opts: PublishOptions) -> Publisher {
        let t = signal.transport(Direction::Send).await;
        let (pc, seen) = peer(None, opts.bind).await;
        let audio =
            Arc::new(TrackLocalStaticRTP::new(track(RtpCodecKind::Audio, "audio", "audio/opus", 48000, 2, &[])));
        let video =
            Arc::new(TrackLocalStaticRTP::new(track(RtpCodecKind::Video, "video", "video/VP8", 90000, 0, &opts.rids)));
        if opts.audio {
            pc.add_track(audio.clone() as Arc<dyn TrackLocal>).await.unwrap();
        }
        pc.add_track(video.clone() as Arc<dyn TrackLocal>).await.unwrap();
        // Keyframe requests not answered yet (the peer's `KeyframeRequests` interceptor hands
        // them to the track).
        let asked = Arc::new(AtomicBool::new(false));
        if opts.honour_pli {
            let (video, asked) = (video.clone(), asked.clone());
            tokio::spawn(async move {
                while let Some(ev) = video.poll().await {
                    let TrackLocalEvent::OnRtcpPacket(_) = ev else { continue };
                    asked.store(true, Ordering::Relaxed);
                }
            });
        }
        let offer = pc.create_offer(None).await.unwrap();
        pc.set_local_description(offer).await.unwrap();
        let sdp = local_sdp(&pc).await;
        keep_seed(true, &sdp);
        let mut tracks = vec![];
        if opts.audio {
            tracks.push(PublishTrack {
                mid: mid_of(&sdp, "audio"),
                kind: MediaKind::Audio,
                rids: vec![],
                source: Some("mic".into()),
            });
        }
        tracks.push(PublishTrack {
            mid: mid_of(&sdp, "video"),
            kind: MediaKind::Video,
            rids: opts.rids.iter().map(|r| r.to_string()).collect(),
            source: Some("camera".into()),
        });
        let res = signal.publish(PublishRequest { transport_id: t.transport_id.clone(), sdp, tracks }).await;
        let rid_ext = extmap_id(&res.sdp, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id");
        let mid_ext = extmap_id(&res.sdp, "urn:ietf:params:rtp-hdrext:sdes:mid");
        let video_mid = mid_of(&res.sdp, "video");
        pc.set_remote_description(RTCSessionDescription::answer(res.sdp).unwrap()).await.unwrap();
        wait_connected(&seen).await;
        let sent: Sent = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let frames = Arc::new(AtomicU64::new(0));
        let packets_sent = Arc::new(AtomicU64::new(0));
        let video_ssrcs: Vec<(String, u32)> = {
            let t = video.track().await;
            let mut v = vec![];
            for ssrc in t.ssrcs() {
                v.push((t.rid(ssrc).map(|r| r.to_string()).unwrap_or_default(), ssrc));
            }
            v
        };
        let audio_ssrc = audio.track().await.ssrcs().next().unwrap_or(0);
        // Media: one task, a frame per tick; audio every 20 ms.
        {
            let (sent, stop, frames, count) = (sent.clone(), stop.clone(), frames.clone(), packets_sent.clone());
            let (with_audio, keep) = (opts.audio, opts.keep_sent);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(1000 / opts.fps as u64));
                let mut seq: HashMap<u32, u16> = HashMap::new();
                let mut audio_due = tokio::time::Instant::now();
                let mut n: u64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    let key = n.is_multiple_of(opts.keyframe_every) | asked.swap(false, Ordering::Relaxed);
                    for (rid, ssrc) in &video_ssrcs {
                        for part in 0..opts.packets_per_frame {
                            let mut payload = vec![0u8; opts.payload_bytes.max(16)];
                            // VP8 descriptor: S=1 on the first packet of a frame; frame tag P=0 on keyframes.
                            payload[0] = if part == 0 { 0x10 } else { 0x00 };
                            payload[1] = if key { 0x00 } else { 0x01 };
                            payload[2..10].copy_from_slice(&n.to_be_bytes());
                            payload[10] = part as u8;
                            payload[11] = rid.as_bytes().first().copied().unwrap_or(b'-');
                            if opts.temporal {
                                // X=1 with T=1: TID in the top two bits of the third byte.
                                payload[0] |= 0x80;
                                payload[1] = 0x20;
                                payload[2] = ((n % 2) as u8) << 6;
                                payload[3] = if key { 0x00 } else { 0x01 };
                                payload[4..12].copy_from_slice(&n.to_be_bytes());
                                payload[12] = part as u8;
                            }
                            let s = seq.entry(*ssrc).or_insert(1000);
                            *s = s.wrapping_add(1);
                            let mut header = rtp::header::Header {
                                version: 2,
                                payload_type: 96,
                                sequence_number: *s,
                                timestamp: (n as u32).wrapping_mul(3000),
                                ssrc: *ssrc,
                                marker: part + 1 == opts.packets_per_frame,
                                ..Default::default()
                            };
                            if !rid.is_empty() {
                                if let Some(id) = rid_ext {
                                    let _ = header.set_extension(id, Bytes::from(rid.clone().into_bytes()));
                                }
                                if let Some(id) = mid_ext {
                                    let _ = header.set_extension(id, Bytes::from(video_mid.clone().into_bytes()));
                                }
                            }
                            let payload = Bytes::from(payload);
                            let label = if rid.is_empty() { "video".to_owned() } else { format!("video/{rid}") };
                            if video.write_rtp(rtp::Packet { header, payload: payload.clone() }).await.is_ok() {
                                count.fetch_add(1, Ordering::Relaxed);
                                if keep {
                                    sent.lock().unwrap().entry(label).or_default().push(payload);
                                }
                            }
                        }
                    }
                    frames.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                    while with_audio && tokio::time::Instant::now() >= audio_due {
                        audio_due += Duration::from_millis(20);
                        let mut payload = vec![0u8; 80];
                        payload[0..8].copy_from_slice(&n.to_be_bytes());
                        payload[8] = 0xa0;
                        let s = seq.entry(audio_ssrc).or_insert(5000);
                        *s = s.wrapping_add(1);
                        let s = *s;
                        let header = rtp::header::Header {
                            version: 2,
                            payload_type: 111,
                            sequence_number: s,
                            timestamp: (s as u32).wrapping_mul(960),
                            ssrc: audio_ssrc,
                            ..Default::default()
                        };
                        // Make each audio payload unique.
                        payload[9..11].copy_from_slice(&s.to_be_bytes());
                        let payload = Bytes::from(payload);
                        if audio.write_rtp(rtp::Packet { header, payload: payload.clone() }).await.is_ok() {
                            count.fetch_add(1, Ordering::Relaxed);
                            if keep {
                                sent.lock().unwrap().entry("audio".into()).or_default().push(payload);
                            }
                        }
                    }
                }
            });
        }
        Publisher { pc, seen, transport_id: t.transport_id, producers: res.producers, sent, frames, packets_sent, stop }
    }

    /// Restarts ICE on the send transport: an `iceRestart` offer sent as a publish with no
    /// tracks, answered by the node with new credentials. Returns the node's answer.
    pub async fn restart_ice(&self, node: &Node, room: &str, pid: &str) -> String {
        let offer = self.pc.create_offer(Some(RTCOfferOptions { ice_restart: true })).await.unwrap();
        self.pc.set_local_description(offer).await.unwrap();
        let sdp = local_sdp(&self.pc).await;
        let res: PublishResponse = node
            .post(
                &format!("/v1/rooms/{room}/participants/{pid}/producers"),
                &PublishRequest { transport_id: self.transport_id.clone(), sdp, tracks: vec![] },
            )
            .await
            .expect("ice restart offer");
        self.pc.set_remote_description(RTCSessionDescription::answer(res.sdp.clone()).unwrap()).await.unwrap();
        res.sdp
    }

    pub fn producer(&self, kind: MediaKind) -> &ProducerInfo {
        self.producers.iter().find(|p| p.kind == kind).expect("producer of that kind")
    }

    pub fn sent(&self, label: &str) -> Vec<Bytes> {
        self.sent.lock().unwrap().get(label).cloned().unwrap_or_default()
    }

    pub async fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.pc.close().await;
    }
}

pub struct Subscriber {
    pub pc: Arc<dyn PeerConnection>,
    pub transport_id: String,
    pub received: Received,
    pub seen: Seen,
    room: String,
    pid: String,
}

impl Subscriber {
    pub async fn start(node: &Node, room: &str, pid: &str) -> Subscriber {
        let mut s = Subscriber::start_with(&Seat { node, room, pid }).await;
        (s.room, s.pid) = (room.into(), pid.into());
        s
    }

    /// A receive transport through any signalling path.
    pub async fn start_with(signal: &dyn Signal) -> Subscriber {
        let t = signal.transport(Direction::Recv).await;
        let received: Received = Arc::default();
        let (pc, seen) = peer(Some(received.clone()), std::net::Ipv4Addr::LOCALHOST.into()).await;
        Subscriber { pc, transport_id: t.transport_id, received, seen, room: String::new(), pid: String::new() }
    }

    /// Answers `offer`, and any offer the node sends back, until the transport is stable.
    pub async fn negotiate(&self, node: &Node, offer: Option<String>) {
        self.negotiate_with(&Seat { node, room: &self.room, pid: &self.pid }, offer).await
    }

    pub async fn negotiate_with(&self, signal: &dyn Signal, mut offer: Option<String>) {
        while let Some(sdp) = offer.take() {
            self.pc
                .set_remote_description(RTCSessionDescription::offer(sdp).unwrap())
                .await
                .expect("node offer accepted");
            let answer = self.pc.create_answer(None).await.unwrap();
            self.pc.set_local_description(answer).await.unwrap();
            let sdp = local_sdp(&self.pc).await;
            keep_seed(false, &sdp);
            offer = signal.answer(&self.transport_id, sdp).await;
        }
    }

    pub async fn subscribe(&self, node: &Node, producer_id: &str, layers: Option<Layers>) -> ConsumerInfo {
        self.subscribe_with(&Seat { node, room: &self.room, pid: &self.pid }, producer_id, layers).await
    }

    pub async fn subscribe_with(&self, signal: &dyn Signal, producer_id: &str, layers: Option<Layers>) -> ConsumerInfo {
        let res = signal.consume(&self.transport_id, producer_id, layers).await;
        self.negotiate_with(signal, res.offer).await;
        res.consumer
    }

    /// Payloads received so far from all consumers, counted.
    pub fn total_received(&self) -> usize {
        self.received.lock().unwrap().values().map(Vec::len).sum()
    }

    pub async fn connected(&self) {
        wait_connected(&self.seen).await;
    }

    /// Sends a picture loss indication for the consumer whose SSRC is `ssrc`.
    pub async fn send_pli(&self, ssrc: u32) {
        let track = self.seen.tracks.lock().unwrap().first().cloned().expect("a remote track");
        let pli = PictureLossIndication { sender_ssrc: 0, media_ssrc: ssrc };
        track.write_rtcp(vec![Box::new(pli)]).await.expect("PLI sent");
    }

    pub fn got(&self, ssrc: u32) -> Vec<Bytes> {
        self.received.lock().unwrap().get(&ssrc).cloned().unwrap_or_default()
    }
}
