//! The SFU engine, sans I/O (the shape of str0m's `handle_input` / `poll_output`): it takes
//! datagrams, timeouts and control [`Command`]s with `now` passed in, and yields datagrams
//! to send ([`Engine::poll_transmit`]), room events ([`Engine::poll_event`]) and its next
//! deadline ([`Engine::poll_timeout`]). It owns the PeerConnections of the rooms placed on
//! one worker and every record of them; the worker (`super::worker`) is the run loop that
//! owns the socket. Everything runs on that worker's thread: plain maps, no locks.
//!
//! Per packet: datagram → transport (by address, or by STUN username) → `handle_read`
//! (ICE/DTLS/SRTP/interceptors inside `rtc`) → RTP out of `poll_read` → for each consumer
//! of its producer, the forwarding decision and a rewritten copy through `write_rtp` →
//! every touched transport's `poll_write`, handed out by `poll_transmit`.

use super::codec::{self, Format, PayloadInfo};
use super::command::{Command, Reply};
use super::forward::{Forwarder, Verdict, pick_layer};
use super::{Outbound, SfuError};
use super::{demux, feedback};
use crate::metrics::Metrics;
use bytes::BytesMut;
use rand::Rng;
use rtc::interceptor::{Registry, Slot};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::event::{RTCPeerConnectionEvent, RTCTrackEvent};
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate, RTCIceCandidateInit};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use rtc::rtp_transceiver::{
    RTCRtpReceiverId, RTCRtpSenderId, RTCRtpTransceiverDirection, RTCRtpTransceiverId, RTCRtpTransceiverInit,
};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use stratus_protocol::error::ErrorCode;
use stratus_protocol::media::*;

/// Keyframe requests to one publisher: while one is unanswered (no keyframe since), no
/// other for this long.
const KEYFRAME_INTERVAL: Duration = Duration::from_secs(1);
/// Keyframe requests for a consumer that waits for its first keyframe (joined, resumed,
/// switching layers), when the last request was answered: at once, but no closer together
/// than this (a burst of joins asks for a few keyframes, not one each). A subscriber's own
/// PLIs keep the interval, so a lossy subscriber cannot make a publisher send keyframes
/// faster than one a second.
const KEYFRAME_SPACING: Duration = Duration::from_millis(100);
const TICK: Duration = Duration::from_millis(100);

/// Typed handles into the engine's maps: a transport's key cannot index producers.
macro_rules! keys {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        struct $name(u64);
    )*};
}
keys!(TransportKey, ProducerKey, ConsumerKey);

/// Transports one participant may hold: a send and a recv transport, and a replacement of
/// each while the old one closes. Each costs a peer connection (~18 KB and DTLS state), so
/// this also bounds a room's: `max_participants` times this.
pub const MAX_TRANSPORTS_PER_PARTICIPANT: usize = 4;

struct Room {
    /// What its participants call it (events carry this, not the node's id for it).
    name: String,
    max_participants: u32,
    participants: HashMap<String, Participant>,
}

struct Participant {
    user_id: String,
    connection_id: Option<String>,
    can_publish: bool,
    can_subscribe: bool,
    transports: Vec<TransportKey>,
    producers: Vec<ProducerKey>,
    consumers: Vec<ConsumerKey>,
    /// Receive quality 0–100 (`setQuality`): its layers and bitrate cap go to every video
    /// consumer, present and future.
    quality: Option<u8>,
}

struct Transport {
    id: String,
    room: String,
    participant: String,
    direction: Direction,
    pc: RTCPeerConnection,
    ufrags: Vec<String>,
    addrs: Vec<SocketAddr>,
    deadline: Option<Instant>,
    /// Send transports: producers by the `rtc` track id their RTP arrives on, and by mid.
    by_track: HashMap<String, ProducerKey>,
    by_mid: HashMap<String, ProducerKey>,
    /// Recv transports: consumers by the track id of their sender (RTCP feedback names it).
    consumers_by_track: HashMap<String, ConsumerKey>,
    /// Recv transports: where our offer/answer stands.
    negotiation: Negotiation,
    /// DTLS is up: packets written now reach the peer (before, they would be lost, and a
    /// consumer's first keyframe with them).
    connected: bool,
    /// Listed in `Engine::dirty` (a flag, so the fan-out loop never searches that list).
    dirty: bool,
}

/// Where a recv transport's offer/answer stands. Send transports stay `Stable`: their
/// client offers and the node answers at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Negotiation {
    Stable,
    /// Our offer awaits the client's answer; `then` is what to do once it is in.
    Offered {
        then: Then,
    },
}

/// What a recv transport owes its client after the outstanding answer. Ordered: a wanted
/// ICE restart is not lost to a later plain renegotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Then {
    Nothing,
    Offer,
    RestartIce,
}

struct Producer {
    id: String,
    room: String,
    participant: String,
    user_id: String,
    transport: TransportKey,
    kind: MediaKind,
    mid: String,
    rids: Vec<String>,
    source: Option<String>,
    receiver: Option<RTCRtpReceiverId>,
    /// (payload type, format, MIME type) as negotiated on the publisher's leg.
    codecs: Vec<(u8, Format, String)>,
    /// (extension id on the publisher's leg, uri).
    extensions: Vec<(u8, String)>,
    /// SSRC → spatial layer and the highest sequence number seen (loss accounting).
    streams: Vec<Stream>,
    consumers: Vec<ConsumerKey>,
    /// Layers whose keyframe a consumer waits for (bit per layer), and when we last asked.
    keyframe_wanted: u32,
    last_keyframe_request: Option<Instant>,
    /// The last keyframe that arrived: a request made before it was answered.
    last_keyframe: Option<Instant>,
    /// A consumer waits for its first keyframe (not only a subscriber's PLI).
    keyframe_urgent: bool,
    /// Paused by the publisher (mute): nothing is forwarded.
    paused: bool,
}

impl Producer {
    /// The highest spatial layer (0 without simulcast).
    fn top_layer(&self) -> u8 {
        self.rids.len().saturating_sub(1) as u8
    }

    /// Layers a consumer of this producer may ask for.
    fn check_layers(&self, field: &str, l: Layers) -> Result<(), SfuError> {
        if self.kind != MediaKind::Video || l.spatial_layer > self.top_layer() {
            let n = self.top_layer() + 1;
            return Err(err(ErrorCode::ValidationError, format!("{field}: the producer has {n} spatial layer(s)")));
        }
        Ok(())
    }
}

struct Stream {
    ssrc: u32,
    layer: u8,
    last_seq: Option<u16>,
    last_seen: Instant,
    /// Payload bits since `since`; `bps` is the last full window's rate.
    bits: u64,
    since: Instant,
    bps: u64,
}

/// How long a layer's bitrate is measured over.
const BITRATE_WINDOW: Duration = Duration::from_secs(1);

impl Stream {
    fn new(ssrc: u32, layer: u8, at: Instant) -> Stream {
        Stream { ssrc, layer, last_seq: None, last_seen: at, bits: 0, since: at, bps: 0 }
    }

    fn count(&mut self, bytes: usize, at: Instant) {
        self.bits += bytes as u64 * 8;
        let elapsed = at.saturating_duration_since(self.since);
        if elapsed >= BITRATE_WINDOW {
            self.bps = self.bits * 1_000_000 / elapsed.as_micros().max(1) as u64;
            self.bits = 0;
            self.since = at;
        }
    }
}

struct Consumer {
    id: String,
    producer: ProducerKey,
    transport: TransportKey,
    participant: String,
    transceiver: RTCRtpTransceiverId,
    sender: RTCRtpSenderId,
    mid: Option<String>,
    ssrc: u32,
    preferred: Option<Layers>,
    /// The participant's quality's cap (bits per second); none after an explicit
    /// `setPreferredLayers`.
    max_bitrate: Option<u64>,
    fwd: Forwarder,
    /// Publisher payload type → subscriber payload type; publisher extension id → subscriber id.
    /// Filled once the subscriber's answer is in.
    pt_map: Vec<(u8, u8)>,
    ext_map: Vec<(u8, u8)>,
    negotiated: bool,
}

/// The UDP host candidate at `addr` (the one candidate of a sans-I/O peer that does not gather).
pub fn host_candidate(addr: SocketAddr) -> Result<RTCIceCandidateInit, rtc::shared::error::Error> {
    let host = CandidateHostConfig {
        base_config: CandidateConfig {
            network: "udp".to_owned(),
            address: addr.ip().to_string(),
            port: addr.port(),
            component: 1,
            ..Default::default()
        },
        ..Default::default()
    }
    .new_candidate_host()?;
    RTCIceCandidate::from(&host).to_json()
}

/// A datagram to send.
#[derive(Debug)]
pub struct Transmit {
    pub to: SocketAddr,
    pub data: BytesMut,
}

pub struct Engine {
    local: SocketAddr,
    metrics: Arc<Metrics>,
    events: VecDeque<Outbound>,
    /// Datagrams taken from transports (and what closed ones queued, DTLS close_notify),
    /// handed out by `poll_transmit`.
    ready: VecDeque<Transmit>,
    next_key: u64,
    rooms: HashMap<String, Room>,
    transports: HashMap<TransportKey, Transport>,
    transport_ids: HashMap<String, TransportKey>,
    producers: HashMap<ProducerKey, Producer>,
    producer_ids: HashMap<String, ProducerKey>,
    consumers: HashMap<ConsumerKey, Consumer>,
    consumer_ids: HashMap<String, ConsumerKey>,
    by_ufrag: HashMap<String, TransportKey>,
    by_addr: HashMap<SocketAddr, TransportKey>,
    /// Transports with output waiting, in the order they got it.
    dirty: VecDeque<TransportKey>,
    /// Arrival instants of the packets forwarded since the last flush (delay histogram).
    arrivals: Vec<Instant>,
    next_tick: Instant,
}

fn err(code: ErrorCode, message: impl Into<String>) -> SfuError {
    SfuError::new(code, message)
}

fn random_token(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..n).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_token(16))
}

/// The `a=ice-ufrag` of a description (every m-section shares it under BUNDLE).
fn sdp_ufrag(sdp: &str) -> Option<String> {
    sdp.lines().find_map(|l| l.trim().strip_prefix("a=ice-ufrag:")).map(|s| s.to_owned())
}

/// (mid, kind) of every m-section of an offer; a malformed one is an `INVALID_SDP` error.
fn sdp_media(sdp: &str) -> Result<Vec<(String, Option<MediaKind>)>, SfuError> {
    if !sdp.trim_start().starts_with("v=0") {
        return Err(err(ErrorCode::InvalidSdp, "an SDP description starts with v=0"));
    }
    let mut out: Vec<(String, Option<MediaKind>)> = vec![];
    let mut kind: Option<Option<MediaKind>> = None;
    for line in sdp.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            kind = Some(match m.split(' ').next() {
                Some("audio") => Some(MediaKind::Audio),
                Some("video") => Some(MediaKind::Video),
                _ => None,
            });
        } else if let (Some(mid), Some(k)) = (line.strip_prefix("a=mid:"), kind) {
            out.push((mid.to_owned(), k));
        }
    }
    Ok(out)
}

impl Engine {
    /// An engine whose transports receive on `local` (the address in their candidates).
    pub fn new(local: SocketAddr, metrics: Arc<Metrics>, now: Instant) -> Engine {
        Engine {
            local,
            metrics,
            events: VecDeque::new(),
            ready: VecDeque::new(),
            next_key: 1,
            rooms: HashMap::new(),
            transports: HashMap::new(),
            transport_ids: HashMap::new(),
            producers: HashMap::new(),
            producer_ids: HashMap::new(),
            consumers: HashMap::new(),
            consumer_ids: HashMap::new(),
            by_ufrag: HashMap::new(),
            by_addr: HashMap::new(),
            dirty: VecDeque::new(),
            arrivals: vec![],
            next_tick: now + TICK,
        }
    }

    /// One control command on `room`.
    pub fn handle_command(&mut self, room: &str, cmd: Command, now: Instant) -> Result<Reply, SfuError> {
        Ok(match cmd {
            Command::CreateRoom { max_participants, name } => {
                Reply::Room(self.create_room(room, max_participants, name)?)
            }
            Command::RoomInfo => Reply::Room(self.room_info(room)?),
            Command::CloseRoom => {
                self.close_room(room, now)?;
                Reply::Done
            }
            Command::Join { participant, req } => {
                let (created, info) = self.join(room, &participant, req)?;
                Reply::Joined { created, room: info }
            }
            Command::Leave { participant } => {
                self.leave(room, &participant, now)?;
                Reply::Done
            }
            Command::CreateTransport { participant, direction } => {
                Reply::Transport(self.create_transport(room, &participant, direction, now)?)
            }
            Command::Answer { participant, transport, sdp } => {
                Reply::Negotiation(self.answer(room, &participant, &transport, sdp, now)?)
            }
            Command::RestartIce { participant, transport } => {
                Reply::Negotiation(self.restart_ice(room, &participant, &transport, now)?)
            }
            Command::Publish { participant, req } => Reply::Published(self.publish(room, &participant, req, now)?),
            Command::Unpublish { participant, producer } => {
                self.unpublish(room, &participant, &producer, now)?;
                Reply::Done
            }
            Command::PauseProducer { participant, producer, paused } => {
                Reply::Producer(self.set_producer_paused(room, &participant, &producer, paused, now)?)
            }
            Command::Subscribe { participant, req } => {
                Reply::Subscribed(self.subscribe(room, &participant, req, now)?)
            }
            Command::Unsubscribe { participant, consumer } => {
                Reply::Negotiation(self.unsubscribe(room, &participant, &consumer, now)?)
            }
            Command::PauseConsumer { participant, consumer, paused } => {
                Reply::Consumer(self.set_paused(room, &participant, &consumer, paused, now)?)
            }
            Command::SetLayers { participant, consumer, layers } => {
                Reply::Consumer(self.set_layers(room, &participant, &consumer, layers, now)?)
            }
            Command::SetQuality { participant, quality } => {
                Reply::Quality(self.set_quality(room, &participant, quality, now)?)
            }
        })
    }

    /// When the engine next needs [`handle_timeout`](Self::handle_timeout).
    pub fn poll_timeout(&self) -> Instant {
        self.transports.values().filter_map(|t| t.deadline).fold(self.next_tick, Instant::min)
    }

    /// The next datagram to send, until there is none.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        loop {
            if let Some(t) = self.ready.pop_front() {
                return Some(t);
            }
            // One transport at a time, all of its output at once (one map lookup each).
            let key = self.dirty.pop_front()?;
            let Some(t) = self.transports.get_mut(&key) else { continue };
            t.dirty = false;
            while let Some(out) = t.pc.poll_write() {
                self.ready.push_back(Transmit { to: out.transport.peer_addr, data: out.message });
            }
            t.deadline = t.pc.poll_timeout();
        }
    }

    /// After the transmits are out: the forwarding delay of what they carried, at `now`.
    pub fn transmitted(&mut self, now: Instant) {
        for at in self.arrivals.drain(..) {
            self.metrics.observe_delay_us(now.saturating_duration_since(at).as_micros() as u64);
        }
    }

    /// The next room event for participants' connections.
    pub fn poll_event(&mut self) -> Option<Outbound> {
        self.events.pop_front()
    }

    /// How many transports have output waiting (the run loop flushes before reading more
    /// when a fan-out made many).
    pub fn pending_transports(&self) -> usize {
        self.dirty.len()
    }

    fn key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key
    }

    fn touch(&mut self, key: TransportKey) {
        if let Some(t) = self.transports.get_mut(&key)
            && !t.dirty
        {
            t.dirty = true;
            self.dirty.push_back(key);
        }
    }

    // ---------------------------------------------------------------- I/O

    /// A datagram that arrived from `from`.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        let key = match demux::local_ufrag(data).and_then(|u| self.by_ufrag.get(u)).copied() {
            Some(key) => {
                if self.by_addr.insert(from, key) != Some(key)
                    && let Some(t) = self.transports.get_mut(&key)
                {
                    t.addrs.push(from);
                }
                key
            }
            None => match self.by_addr.get(&from) {
                Some(&key) => key,
                None => return,
            },
        };
        let Some(t) = self.transports.get_mut(&key) else { return };
        let msg = TaggedBytesMut {
            now,
            transport: TransportContext {
                local_addr: self.local,
                peer_addr: from,
                ecn: None,
                transport_protocol: TransportProtocol::UDP,
            },
            message: BytesMut::from(data),
        };
        if let Err(e) = t.pc.handle_read(msg) {
            tracing::debug!(transport = %t.id, error = %e, "datagram refused");
        }
        self.touch(key);
        self.drain(key, now);
    }

    /// Handles what a PeerConnection produced for us: state changes, tracks, RTP and RTCP.
    fn drain(&mut self, key: TransportKey, now: Instant) {
        let mut events = vec![];
        let mut rtp = vec![];
        let mut feedback = vec![];
        {
            let Some(t) = self.transports.get_mut(&key) else { return };
            while let Some(e) = t.pc.poll_event() {
                events.push(e);
            }
            while let Some(TaggedRTCMessage { now: at, message }) = t.pc.poll_read() {
                match message {
                    RTCMessage::RtpPacket(track, packet) => rtp.push((at, track, packet)),
                    RTCMessage::RtcpPacket(track, packets) => feedback.push((track, packets)),
                    _ => {}
                }
            }
        }
        for e in events {
            self.on_event(key, e, now);
        }
        for (at, track, packet) in rtp {
            self.forward(key, &track, packet, at);
        }
        for (track, packets) in feedback {
            self.on_feedback(key, &track, packets, now);
        }
    }

    /// Runs what is due at `now` (PeerConnection timers, keyframe requests).
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<TransportKey> =
            self.transports.iter().filter(|(_, t)| t.deadline.is_some_and(|d| d <= now)).map(|(k, _)| *k).collect();
        for key in due {
            if let Some(t) = self.transports.get_mut(&key) {
                t.deadline = None;
                if let Err(e) = t.pc.handle_timeout(now) {
                    tracing::debug!(transport = %t.id, error = %e, "timeout handling failed");
                }
            }
            self.touch(key);
            self.drain(key, now);
        }
        if now >= self.next_tick {
            self.next_tick = now + TICK;
            let wanting: Vec<ProducerKey> =
                self.producers.iter().filter(|(_, p)| p.keyframe_wanted != 0).map(|(k, _)| *k).collect();
            for pk in wanting {
                self.request_keyframe(pk, now);
            }
        }
    }

    fn on_event(&mut self, key: TransportKey, event: RTCPeerConnectionEvent, now: Instant) {
        match event {
            RTCPeerConnectionEvent::OnTrack(RTCTrackEvent::OnOpen(init)) => {
                self.bind_track(key, init.receiver_id, init.track_id)
            }
            RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) => {
                let Some(t) = self.transports.get_mut(&key) else { return };
                tracing::debug!(transport = %t.id, %state, "transport state");
                t.connected = state == RTCPeerConnectionState::Connected;
                match state {
                    RTCPeerConnectionState::Connected if t.direction == Direction::Recv => {
                        let consumers: Vec<ConsumerKey> = t.consumers_by_track.values().copied().collect();
                        for ck in consumers {
                            if let Some(c) = self.consumers.get_mut(&ck) {
                                c.fwd.restart();
                            }
                            self.consumer_wants_keyframe(ck, true, now);
                        }
                    }
                    RTCPeerConnectionState::Failed => {
                        tracing::info!(transport = %t.id, "transport failed; closing it");
                        self.close_transport(key, now);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// A publisher's track started: tie its `rtc` track id to the producer of its mid.
    fn bind_track(&mut self, key: TransportKey, receiver: RTCRtpReceiverId, track_id: String) {
        let Some(t) = self.transports.get_mut(&key) else { return };
        let mid = t.pc.get_transceivers().collect::<Vec<_>>().into_iter().find_map(|tid| {
            let tr = t.pc.rtp_transceiver(tid)?;
            (tr.receiver() == Some(receiver)).then(|| tr.mid().clone()).flatten()
        });
        let Some(pk) = mid.and_then(|m| t.by_mid.get(&m).copied()) else {
            tracing::debug!(transport = %t.id, "track for an unpublished mid ignored");
            return;
        };
        let (codecs, extensions) = match t.pc.rtp_receiver(receiver) {
            Some(mut r) => {
                let params = r.get_parameters();
                let codecs = params
                    .rtp_parameters
                    .codecs
                    .iter()
                    .map(|c| {
                        let format = Format::from_mime(&c.rtp_codec.mime_type);
                        (c.payload_type, format, c.rtp_codec.mime_type.clone())
                    })
                    .collect();
                let exts =
                    params.rtp_parameters.header_extensions.iter().map(|e| (e.id as u8, e.uri.clone())).collect();
                (codecs, exts)
            }
            None => (vec![], vec![]),
        };
        t.by_track.insert(track_id, pk);
        if let Some(p) = self.producers.get_mut(&pk) {
            p.receiver = Some(receiver);
            p.codecs = codecs;
            p.extensions = extensions;
        }
    }

    // ---------------------------------------------------------------- forwarding

    fn forward(&mut self, from: TransportKey, track: &str, mut packet: rtc::rtp::Packet, at: Instant) {
        let Some(&pk) = self.transports.get(&from).and_then(|t| t.by_track.get(track)) else { return };
        let Some(p) = self.producers.get_mut(&pk) else { return };
        self.metrics.packets_in.fetch_add(1, Relaxed);
        self.metrics.bytes_in.fetch_add(packet.payload.len() as u64, Relaxed);
        let ssrc = packet.header.ssrc;
        let si = match p.streams.iter().position(|s| s.ssrc == ssrc) {
            Some(i) => i,
            None => {
                // A new SSRC: its rid says which simulcast layer it is.
                let rid = p.receiver.and_then(|r| {
                    let t = self.transports.get_mut(&from)?;
                    let recv = t.pc.rtp_receiver(r)?;
                    recv.track().rid(ssrc).map(|s| s.to_string())
                });
                let layer = rid.and_then(|r| p.rids.iter().position(|x| *x == r)).unwrap_or(0) as u8;
                p.streams.push(Stream::new(ssrc, layer, at));
                p.streams.len() - 1
            }
        };
        let seq = packet.header.sequence_number;
        let stream = &mut p.streams[si];
        stream.last_seen = at;
        stream.count(packet.payload.len(), at);
        if let Some(last) = stream.last_seq {
            let gap = seq.wrapping_sub(last);
            if gap == 0 || gap >= 0x8000 {
                // Duplicate or late (a retransmission): not new, not loss.
            } else {
                self.metrics.packets_lost.fetch_add(gap as u64 - 1, Relaxed);
                stream.last_seq = Some(seq);
            }
        } else {
            stream.last_seq = Some(seq);
        }
        let layer = stream.layer;
        if p.paused {
            return;
        }
        let pt = packet.header.payload_type;
        let format = p.codecs.iter().find(|c| c.0 == pt).map(|c| c.1).unwrap_or(Format::Other);
        let info = if p.kind == MediaKind::Audio {
            PayloadInfo { keyframe: true, temporal: None }
        } else {
            let info = codec::inspect(format, &packet.payload);
            if info.keyframe {
                p.last_keyframe = Some(at);
            }
            info
        };
        let top = p.top_layer();
        // Layers the publisher actually sends (a simulcast encoding can be off), once per
        // packet rather than per consumer.
        let mut bps = [0u64; 8];
        let mut active = 0u32;
        for s in p.streams.iter().filter(|s| at.saturating_duration_since(s.last_seen) < Duration::from_secs(2)) {
            active |= 1 << s.layer;
            if let Some(b) = bps.get_mut(s.layer as usize) {
                *b = s.bps;
            }
        }
        let ext_in = std::mem::take(&mut packet.header.extensions);
        // The publisher's padding belongs to its extension block, not the copies' rewritten
        // ones: kept, it makes `rtp` size a header larger than it writes, and SRTP refuses
        // the packet (Chrome pads its audio extensions). Cleared once, before the copies.
        packet.header.extensions_padding = 0;
        let mut need_keyframe = 0u32;
        let mut forwarded = false;
        let mut switched_events = vec![];
        for &ck in &p.consumers {
            let Some(c) = self.consumers.get_mut(&ck) else { continue };
            let Some(t) = self.transports.get_mut(&c.transport) else { continue };
            if !c.negotiated || !t.connected {
                continue;
            }
            let want = c.preferred.map(|l| l.spatial_layer).unwrap_or(top);
            let target = pick_layer(want, top, active, c.max_bitrate, &bps);
            match c.fwd.on_packet(layer, target, seq, packet.header.timestamp, info, at) {
                Verdict::Drop => {}
                Verdict::NeedKeyframe => need_keyframe |= 1 << target,
                Verdict::Forward { seq, ts, switched } => {
                    let Some(&(_, out_pt)) = c.pt_map.iter().find(|m| m.0 == pt) else { continue };
                    let mut out = packet.clone();
                    out.header.ssrc = c.ssrc;
                    out.header.payload_type = out_pt;
                    out.header.sequence_number = seq;
                    out.header.timestamp = ts;
                    out.header.extensions = ext_in
                        .iter()
                        .filter_map(|e| {
                            let id = c.ext_map.iter().find(|m| m.0 == e.id)?.1;
                            Some(rtc::rtp::header::Extension { id, payload: e.payload.clone() })
                        })
                        .collect();
                    out.header.extension = !out.header.extensions.is_empty();
                    let len = out.payload.len() as u64;
                    let Some(mut sender) = t.pc.rtp_sender(c.sender) else { continue };
                    match sender.write_rtp(at, out) {
                        Ok(()) => {
                            self.metrics.packets_out.fetch_add(1, Relaxed);
                            self.metrics.bytes_out.fetch_add(len, Relaxed);
                            forwarded = true;
                            if !t.dirty {
                                t.dirty = true;
                                self.dirty.push_back(c.transport);
                            }
                        }
                        Err(e) => tracing::trace!(consumer = %c.id, error = %e, "write_rtp refused"),
                    }
                    if switched && p.kind == MediaKind::Video && p.rids.len() > 1 {
                        switched_events.push((ck, layer));
                    }
                }
            }
        }
        if forwarded {
            self.arrivals.push(at);
        }
        if need_keyframe != 0 {
            let p = self.producers.get_mut(&pk).expect("producer");
            p.keyframe_wanted |= need_keyframe;
            p.keyframe_urgent = true;
            self.request_keyframe(pk, at);
        }
        for (ck, layer) in switched_events {
            self.emit_to_consumer_owner(ck, |room, c| RoomEvent::ConsumerLayersChanged {
                room_id: room.into(),
                consumer_id: c.id.clone(),
                spatial_layer: layer,
                temporal_layer: c.fwd.max_temporal,
            });
        }
    }

    /// Subscriber feedback: a PLI or FIR on a consumer asks its publisher for a keyframe (NACKs
    /// are answered by the consumer leg's own retransmission buffer inside `rtc`).
    fn on_feedback(&mut self, key: TransportKey, track: &str, packets: Vec<Box<dyn rtc::rtcp::Packet>>, now: Instant) {
        let Some(&ck) = self.transports.get(&key).and_then(|t| t.consumers_by_track.get(track)) else { return };
        let wants = packets.iter().any(|p| {
            let any = p.as_any();
            any.downcast_ref::<PictureLossIndication>().is_some() || any.downcast_ref::<FullIntraRequest>().is_some()
        });
        if wants {
            self.consumer_wants_keyframe(ck, false, now);
        }
    }

    /// `waiting`: the consumer waits for its first keyframe (else a subscriber's PLI).
    fn consumer_wants_keyframe(&mut self, ck: ConsumerKey, waiting: bool, now: Instant) {
        let Some(c) = self.consumers.get(&ck) else { return };
        let pk = c.producer;
        let layer = c.fwd.current().or(c.preferred.map(|l| l.spatial_layer));
        if let Some(p) = self.producers.get_mut(&pk) {
            if p.kind != MediaKind::Video {
                return;
            }
            let top = p.top_layer();
            p.keyframe_wanted |= 1 << layer.unwrap_or(top).min(top);
            p.keyframe_urgent |= waiting;
        }
        self.request_keyframe(pk, now);
    }

    /// Sends the PLIs the producer's consumers are waiting for, unless one went out less than
    /// `KEYFRAME_INTERVAL` ago (then the tick sends them when the interval has passed).
    fn request_keyframe(&mut self, pk: ProducerKey, now: Instant) {
        let Some(p) = self.producers.get_mut(&pk) else { return };
        // A consumer waiting for its first keyframe must not wait out the interval for one an
        // earlier consumer already got: an answered request frees its request at once (after a
        // short spacing). An unanswered request, or a subscriber's PLI, holds for the interval.
        let held = p.last_keyframe_request.is_some_and(|t| {
            let since = now.saturating_duration_since(t);
            let answered = p.last_keyframe.is_some_and(|k| k > t);
            since < KEYFRAME_SPACING || (!(p.keyframe_urgent && answered) && since < KEYFRAME_INTERVAL)
        });
        if p.keyframe_wanted == 0 || held {
            return;
        }
        let Some(receiver) = p.receiver else { return };
        let plis: Vec<Box<dyn rtc::rtcp::Packet>> = p
            .streams
            .iter()
            .filter(|s| p.keyframe_wanted & (1 << s.layer) != 0)
            .map(|s| {
                Box::new(PictureLossIndication { sender_ssrc: 0, media_ssrc: s.ssrc }) as Box<dyn rtc::rtcp::Packet>
            })
            .collect();
        if plis.is_empty() {
            return;
        }
        p.keyframe_wanted = 0;
        p.keyframe_urgent = false;
        p.last_keyframe_request = Some(now);
        self.metrics.keyframe_requests.fetch_add(1, Relaxed);
        let tk = p.transport;
        if let Some(t) = self.transports.get_mut(&tk)
            && let Some(mut r) = t.pc.rtp_receiver(receiver)
            && r.write_rtcp(now, plis).is_ok()
        {
            self.touch(tk);
        }
    }

    // ---------------------------------------------------------------- events

    fn room_connections(&self, room: &str, except: Option<&str>) -> Vec<String> {
        self.rooms
            .get(room)
            .map(|r| {
                r.participants
                    .iter()
                    .filter(|(id, _)| Some(id.as_str()) != except)
                    .filter_map(|(_, p)| p.connection_id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn connection_of(&self, room: &str, participant: &str) -> Vec<String> {
        self.rooms
            .get(room)
            .and_then(|r| r.participants.get(participant))
            .and_then(|p| p.connection_id.clone())
            .into_iter()
            .collect()
    }

    fn emit(&mut self, connection_ids: Vec<String>, mut event: RoomEvent) {
        if !connection_ids.is_empty() {
            // Built with the node's id for the room; participants know it by its name.
            let id = event.room_id_mut();
            if let Some(r) = self.rooms.get(id.as_str()) {
                id.clone_from(&r.name);
            }
            self.events.push_back(Outbound { connection_ids, event });
        }
    }

    fn emit_to_consumer_owner(&mut self, ck: ConsumerKey, f: impl FnOnce(&str, &Consumer) -> RoomEvent) {
        let Some(c) = self.consumers.get(&ck) else { return };
        let Some(t) = self.transports.get(&c.transport) else { return };
        let (to, event) = (self.connection_of(&t.room, &c.participant), f(&t.room, c));
        self.emit(to, event);
    }

    // ---------------------------------------------------------------- control

    fn participant(&mut self, room: &str, pid: &str) -> Result<&mut Participant, SfuError> {
        self.rooms
            .get_mut(room)
            .ok_or_else(|| err(ErrorCode::RoomNotFound, format!("room {room} is not on this node")))?
            .participants
            .get_mut(pid)
            .ok_or_else(|| err(ErrorCode::ParticipantNotFound, format!("participant {pid} is not in room {room}")))
    }

    fn owned_transport(&mut self, room: &str, pid: &str, transport_id: &str) -> Result<TransportKey, SfuError> {
        self.participant(room, pid)?;
        let key = self.transport_ids.get(transport_id).copied();
        match key.and_then(|k| self.transports.get(&k).map(|t| (k, t))) {
            Some((k, t)) if t.room == room && t.participant == pid => Ok(k),
            _ => Err(err(ErrorCode::TransportNotFound, format!("transport {transport_id} is not this participant's"))),
        }
    }

    fn owned_producer(&mut self, room: &str, pid: &str, producer_id: &str) -> Result<ProducerKey, SfuError> {
        self.participant(room, pid)?;
        match self.producer_ids.get(producer_id).copied() {
            Some(pk) if self.producers.get(&pk).is_some_and(|p| p.participant == pid && p.room == room) => Ok(pk),
            _ => Err(err(ErrorCode::ProducerNotFound, format!("producer {producer_id} is not this participant's"))),
        }
    }

    fn owned_consumer(&mut self, room: &str, pid: &str, consumer_id: &str) -> Result<ConsumerKey, SfuError> {
        self.participant(room, pid)?;
        match self.consumer_ids.get(consumer_id).copied() {
            Some(k) if self.consumers.get(&k).is_some_and(|c| c.participant == pid) => Ok(k),
            _ => Err(err(ErrorCode::ConsumerNotFound, format!("consumer {consumer_id} is not this participant's"))),
        }
    }

    fn create_room(&mut self, room: &str, max_participants: u32, name: String) -> Result<RoomInfo, SfuError> {
        if !self.rooms.contains_key(room) {
            self.rooms.insert(room.to_owned(), Room { name, max_participants, participants: HashMap::new() });
            Metrics::add(&self.metrics.rooms, 1);
        }
        self.room_info(room)
    }

    fn room_info(&self, room: &str) -> Result<RoomInfo, SfuError> {
        let r = self
            .rooms
            .get(room)
            .ok_or_else(|| err(ErrorCode::RoomNotFound, format!("room {room} is not on this node")))?;
        let mut participants: Vec<ParticipantInfo> = r
            .participants
            .iter()
            .map(|(pid, p)| ParticipantInfo {
                participant_id: pid.clone(),
                user_id: p.user_id.clone(),
                producers: p.producers.iter().filter_map(|k| self.producer_info(*k)).collect(),
                consumers: p.consumers.len() as u32,
                transports: p.transports.len() as u32,
            })
            .collect();
        participants.sort_by(|a, b| a.participant_id.cmp(&b.participant_id));
        Ok(RoomInfo { room_id: r.name.clone(), max_participants: r.max_participants, participants })
    }

    fn producer_info(&self, pk: ProducerKey) -> Option<ProducerInfo> {
        let p = self.producers.get(&pk)?;
        Some(ProducerInfo {
            producer_id: p.id.clone(),
            participant_id: p.participant.clone(),
            user_id: p.user_id.clone(),
            kind: p.kind,
            mid: p.mid.clone(),
            rids: p.rids.clone(),
            source: p.source.clone(),
            paused: p.paused,
        })
    }

    fn close_room(&mut self, room: &str, now: Instant) -> Result<(), SfuError> {
        let Some(r) = self.rooms.get(room) else {
            return Err(err(ErrorCode::RoomNotFound, format!("room {room} is not on this node")));
        };
        let pids: Vec<String> = r.participants.keys().cloned().collect();
        for pid in pids {
            let _ = self.leave(room, &pid, now);
        }
        self.rooms.remove(room);
        Metrics::add(&self.metrics.rooms, -1);
        Ok(())
    }

    fn join(&mut self, room: &str, pid: &str, req: CreateParticipantRequest) -> Result<(bool, RoomInfo), SfuError> {
        let r = self
            .rooms
            .get_mut(room)
            .ok_or_else(|| err(ErrorCode::RoomNotFound, format!("room {room} is not on this node")))?;
        if let Some(p) = r.participants.get_mut(pid) {
            if p.user_id != req.user_id {
                return Err(err(ErrorCode::Conflict, format!("participant {pid} belongs to another user")));
            }
            // A rejoin (new connection, new grants) keeps the participant's media.
            p.connection_id = req.connection_id;
            p.can_publish = req.can_publish;
            p.can_subscribe = req.can_subscribe;
            return Ok((false, self.room_info(room)?));
        }
        if r.participants.len() as u32 >= r.max_participants {
            return Err(err(
                ErrorCode::RoomFull,
                format!("room {room} has {} participants already", r.max_participants),
            ));
        }
        let user_id = req.user_id.clone();
        r.participants.insert(
            pid.to_owned(),
            Participant {
                user_id: req.user_id,
                connection_id: req.connection_id,
                can_publish: req.can_publish,
                can_subscribe: req.can_subscribe,
                transports: vec![],
                producers: vec![],
                consumers: vec![],
                quality: None,
            },
        );
        Metrics::add(&self.metrics.participants, 1);
        self.emit(
            self.room_connections(room, Some(pid)),
            RoomEvent::ParticipantJoined { room_id: room.into(), participant_id: pid.into(), user_id },
        );
        Ok((true, self.room_info(room)?))
    }

    fn leave(&mut self, room: &str, pid: &str, now: Instant) -> Result<(), SfuError> {
        let p = self.participant(room, pid)?;
        let transports = p.transports.clone();
        let producers = p.producers.clone();
        let consumers = p.consumers.clone();
        for pk in producers {
            self.close_producer(pk, now);
        }
        for ck in consumers {
            self.close_consumer(ck, false, now);
        }
        for tk in transports {
            self.close_transport(tk, now);
        }
        let user_id =
            self.rooms.get_mut(room).and_then(|r| r.participants.remove(pid)).map(|p| p.user_id).unwrap_or_default();
        Metrics::add(&self.metrics.participants, -1);
        self.emit(
            self.room_connections(room, None),
            RoomEvent::ParticipantLeft { room_id: room.into(), participant_id: pid.into(), user_id },
        );
        Ok(())
    }

    fn create_transport(
        &mut self,
        room: &str,
        pid: &str,
        direction: Direction,
        now: Instant,
    ) -> Result<TransportInfo, SfuError> {
        let p = self.participant(room, pid)?;
        if p.transports.len() >= MAX_TRANSPORTS_PER_PARTICIPANT {
            return Err(err(
                ErrorCode::TooManyTransports,
                format!("a participant holds at most {MAX_TRANSPORTS_PER_PARTICIPANT} transports; close one or rejoin"),
            ));
        }
        match direction {
            Direction::Send if !p.can_publish => {
                return Err(err(ErrorCode::Forbidden, "this participant may not publish"));
            }
            Direction::Recv if !p.can_subscribe => {
                return Err(err(ErrorCode::Forbidden, "this participant may not subscribe"));
            }
            _ => {}
        }
        let pc = self
            .new_peer_connection(now)
            .map_err(|e| err(ErrorCode::InternalError, format!("peer connection: {e}")))?;
        let key = TransportKey(self.key());
        let id = new_id("tr");
        self.transports.insert(
            key,
            Transport {
                id: id.clone(),
                room: room.into(),
                participant: pid.into(),
                direction,
                pc,
                // Learnt from each local description (the first one, then each ICE restart's).
                ufrags: vec![],
                addrs: vec![],
                deadline: None,
                by_track: HashMap::new(),
                by_mid: HashMap::new(),
                consumers_by_track: HashMap::new(),
                negotiation: Negotiation::Stable,
                connected: false,
                dirty: false,
            },
        );
        self.transport_ids.insert(id.clone(), key);
        self.participant(room, pid)?.transports.push(key);
        Metrics::add(&self.metrics.transports, 1);
        self.touch(key);
        Ok(TransportInfo {
            transport_id: id,
            direction,
            ice_candidates: vec![IceCandidate {
                ip: self.local.ip().to_string(),
                port: self.local.port(),
                protocol: "udp".into(),
            }],
        })
    }

    fn new_peer_connection(&self, now: Instant) -> Result<RTCPeerConnection, rtc::shared::error::Error> {
        // No fixed ICE credentials: `rtc` would reuse configured ones on an ICE restart, so
        // it draws them, and `learn_ufrag` reads each from the local description.
        let setting = SettingEngineBuilder::new()
            .with_lite(true)
            .with_srtp_protection_profiles(vec![
                rtc::dtls::extension::extension_use_srtp::SrtpProtectionProfile::Srtp_Aead_Aes_128_Gcm,
                rtc::dtls::extension::extension_use_srtp::SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_80,
            ])
            .build();
        let mut media = codec::media_engine()?;
        let registry = register_default_interceptors(Registry::new(), &mut media)?
            .with(Slot::from(feedback::SLOT), feedback::KeyframeRequests::default());
        let mut pc = RTCPeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_setting_engine(setting)
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .build(now)?;
        pc.add_local_candidate(host_candidate(self.local)?)?;
        pc.add_local_candidate(RTCIceCandidateInit::default())?;
        Ok(pc)
    }

    /// Registers the ufrag of the transport's current local description (new after an ICE
    /// restart) so STUN for it finds the transport.
    fn learn_ufrag(&mut self, key: TransportKey) {
        let Some(t) = self.transports.get_mut(&key) else { return };
        if let Some(u) = t.pc.local_description().and_then(|d| sdp_ufrag(&d.sdp))
            && !t.ufrags.contains(&u)
        {
            t.ufrags.push(u.clone());
            self.by_ufrag.insert(u, key);
        }
    }

    fn publish(
        &mut self,
        room: &str,
        pid: &str,
        req: PublishRequest,
        now: Instant,
    ) -> Result<PublishResponse, SfuError> {
        let key = self.owned_transport(room, pid, &req.transport_id)?;
        let p = self.participant(room, pid)?;
        if !p.can_publish {
            return Err(err(ErrorCode::Forbidden, "this participant may not publish"));
        }
        let user_id = p.user_id.clone();
        let t = self.transports.get(&key).expect("transport");
        if t.direction != Direction::Send {
            return Err(err(ErrorCode::ValidationError, "publish needs a send transport"));
        }
        // Validate everything before touching the PeerConnection: a refused publish changes nothing.
        let media = sdp_media(&req.sdp)?;
        for (i, track) in req.tracks.iter().enumerate() {
            match media.iter().find(|(mid, _)| *mid == track.mid) {
                None => {
                    return Err(err(
                        ErrorCode::ValidationError,
                        format!("tracks[{i}]: mid {} is not in the offer", track.mid),
                    ));
                }
                Some((_, kind)) if *kind != Some(track.kind) => {
                    return Err(err(
                        ErrorCode::ValidationError,
                        format!("tracks[{i}]: mid {} is not a {:?} section", track.mid, track.kind),
                    ));
                }
                _ => {}
            }
            if t.by_mid.contains_key(&track.mid) || req.tracks[..i].iter().any(|o| o.mid == track.mid) {
                return Err(err(
                    ErrorCode::ValidationError,
                    format!("tracks[{i}]: mid {} is already published", track.mid),
                ));
            }
            if track.rids.len() > 3 || (track.kind == MediaKind::Audio && !track.rids.is_empty()) {
                return Err(err(ErrorCode::ValidationError, format!("tracks[{i}]: up to 3 rids, video only")));
            }
        }
        let offer = RTCSessionDescription::offer(req.sdp).map_err(|e| err(ErrorCode::InvalidSdp, e.to_string()))?;
        let t = self.transports.get_mut(&key).expect("transport");
        t.pc.set_remote_description(now, offer).map_err(|e| err(ErrorCode::InvalidSdp, e.to_string()))?;
        let answer = t.pc.create_answer(None).map_err(|e| err(ErrorCode::InvalidSdp, e.to_string()))?;
        t.pc.set_local_description(now, answer).map_err(|e| err(ErrorCode::InternalError, e.to_string()))?;
        let sdp = t.pc.local_description().map(|d| d.sdp).unwrap_or_default();
        self.learn_ufrag(key);
        self.touch(key);
        let mut producers = vec![];
        for track in req.tracks {
            let pk = ProducerKey(self.key());
            let id = new_id("pr");
            self.producers.insert(
                pk,
                Producer {
                    id: id.clone(),
                    room: room.into(),
                    participant: pid.into(),
                    user_id: user_id.clone(),
                    transport: key,
                    kind: track.kind,
                    mid: track.mid.clone(),
                    rids: track.rids,
                    source: track.source,
                    receiver: None,
                    codecs: vec![],
                    extensions: vec![],
                    streams: vec![],
                    consumers: vec![],
                    keyframe_wanted: 0,
                    last_keyframe_request: None,
                    last_keyframe: None,
                    keyframe_urgent: false,
                    paused: false,
                },
            );
            self.producer_ids.insert(id, pk);
            self.transports.get_mut(&key).expect("transport").by_mid.insert(track.mid, pk);
            self.participant(room, pid)?.producers.push(pk);
            Metrics::add(&self.metrics.producers, 1);
            let info = self.producer_info(pk).expect("producer");
            self.emit(
                self.room_connections(room, Some(pid)),
                RoomEvent::ProducerCreated { room_id: room.into(), producer: info.clone() },
            );
            producers.push(info);
        }
        Ok(PublishResponse { sdp, producers })
    }

    fn unpublish(&mut self, room: &str, pid: &str, producer_id: &str, now: Instant) -> Result<(), SfuError> {
        let pk = self.owned_producer(room, pid, producer_id)?;
        self.close_producer(pk, now);
        Ok(())
    }

    /// The publisher pauses (mutes) or resumes one of its producers. Its consumers restart
    /// on a keyframe when it resumes; the room's other participants hear
    /// `producerPaused` / `producerResumed`.
    fn set_producer_paused(
        &mut self,
        room: &str,
        pid: &str,
        producer_id: &str,
        paused: bool,
        now: Instant,
    ) -> Result<ProducerInfo, SfuError> {
        let pk = self.owned_producer(room, pid, producer_id)?;
        let p = self.producers.get_mut(&pk).expect("producer");
        if p.paused != paused {
            p.paused = paused;
            if !paused {
                for ck in p.consumers.clone() {
                    if let Some(c) = self.consumers.get_mut(&ck) {
                        c.fwd.restart();
                    }
                    self.consumer_wants_keyframe(ck, true, now);
                }
            }
            let (room_id, producer_id, participant_id) = (room.to_owned(), producer_id.to_owned(), pid.to_owned());
            let event = if paused {
                RoomEvent::ProducerPaused { room_id, producer_id, participant_id }
            } else {
                RoomEvent::ProducerResumed { room_id, producer_id, participant_id }
            };
            self.emit(self.room_connections(room, Some(pid)), event);
        }
        Ok(self.producer_info(pk).expect("producer"))
    }

    fn subscribe(
        &mut self,
        room: &str,
        pid: &str,
        req: SubscribeRequest,
        now: Instant,
    ) -> Result<SubscribeResponse, SfuError> {
        let key = self.owned_transport(room, pid, &req.transport_id)?;
        if !self.participant(room, pid)?.can_subscribe {
            return Err(err(ErrorCode::Forbidden, "this participant may not subscribe"));
        }
        if self.transports[&key].direction != Direction::Recv {
            return Err(err(ErrorCode::ValidationError, "subscribe needs a recv transport"));
        }
        let pk = match self.producer_ids.get(&req.producer_id).copied() {
            Some(pk) if self.producers.get(&pk).is_some_and(|p| p.room == room) => pk,
            _ => {
                return Err(err(
                    ErrorCode::ProducerNotFound,
                    format!("producer {} is not in room {room}", req.producer_id),
                ));
            }
        };
        let quality = self.participant(room, pid)?.quality;
        let p = &self.producers[&pk];
        if let Some(l) = req.preferred_layers {
            p.check_layers("preferredLayers", l)?;
        }
        // The subscriber's quality, unless this subscription names its layers.
        let (preferred, max_bitrate) = match (req.preferred_layers, quality) {
            (Some(l), _) => (Some(l), None),
            (None, Some(q)) if p.kind == MediaKind::Video => {
                (Some(quality_layers(q, p.top_layer())), Some(quality_max_bitrate(q)))
            }
            _ => (None, None),
        };
        let (kind, stream, clock) =
            (p.kind, p.participant.clone(), if p.kind == MediaKind::Audio { 48000 } else { 90000 });
        let codec = p.codecs.first().map(|c| c.2.clone());
        let ck = ConsumerKey(self.key());
        let id = new_id("co");
        let ssrc = rand::rng().random::<u32>();
        let (rtc_kind, default_codec) = match kind {
            MediaKind::Audio => (RtpCodecKind::Audio, "audio/opus"),
            MediaKind::Video => (RtpCodecKind::Video, "video/VP8"),
        };
        let track = MediaStreamTrack::new(
            stream,
            id.clone(),
            req.producer_id.clone(),
            rtc_kind,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                codec: RTCRtpCodec {
                    mime_type: codec.unwrap_or_else(|| default_codec.into()),
                    clock_rate: clock,
                    channels: if kind == MediaKind::Audio { 2 } else { 0 },
                    ..Default::default()
                },
                ..Default::default()
            }],
        );
        let t = self.transports.get_mut(&key).expect("transport");
        let init = RTCRtpTransceiverInit {
            direction: RTCRtpTransceiverDirection::Sendonly,
            streams: vec![],
            send_encodings: vec![],
        };
        let transceiver =
            t.pc.add_transceiver_from_track(track, Some(init))
                .map_err(|e| err(ErrorCode::InternalError, e.to_string()))?;
        let sender =
            t.pc.rtp_transceiver(transceiver)
                .and_then(|tr| tr.sender())
                .ok_or_else(|| err(ErrorCode::InternalError, "new transceiver has no sender"))?;
        t.consumers_by_track.insert(id.clone(), ck);
        let max_temporal = preferred.and_then(|l| l.temporal_layer);
        self.consumers.insert(
            ck,
            Consumer {
                id: id.clone(),
                producer: pk,
                transport: key,
                participant: pid.into(),
                transceiver,
                sender,
                mid: None,
                ssrc,
                preferred,
                max_bitrate,
                fwd: Forwarder::new(clock, req.paused, max_temporal),
                pt_map: vec![],
                ext_map: vec![],
                negotiated: false,
            },
        );
        self.consumer_ids.insert(id, ck);
        self.producers.get_mut(&pk).expect("producer").consumers.push(ck);
        self.participant(room, pid)?.consumers.push(ck);
        Metrics::add(&self.metrics.consumers, 1);
        let offer = self.offer(key, false, now)?;
        Ok(SubscribeResponse { consumer: self.consumer_info(ck).expect("consumer"), offer })
    }

    fn consumer_info(&self, ck: ConsumerKey) -> Option<ConsumerInfo> {
        let c = self.consumers.get(&ck)?;
        let p = self.producers.get(&c.producer);
        Some(ConsumerInfo {
            consumer_id: c.id.clone(),
            producer_id: p.map(|p| p.id.clone()).unwrap_or_default(),
            transport_id: self.transports.get(&c.transport).map(|t| t.id.clone()).unwrap_or_default(),
            kind: p.map(|p| p.kind).unwrap_or(MediaKind::Audio),
            mid: c.mid.clone(),
            ssrc: c.ssrc,
            paused: c.fwd.paused,
            preferred_layers: c.preferred,
            current_spatial_layer: c.fwd.current(),
        })
    }

    /// A new offer on a recv transport (with new ICE credentials when `restart_ice`), or
    /// `None` and a note to offer after the answer when one is already outstanding.
    fn offer(&mut self, key: TransportKey, restart_ice: bool, now: Instant) -> Result<Option<String>, SfuError> {
        let t = self.transports.get_mut(&key).expect("transport");
        if let Negotiation::Offered { then } = t.negotiation {
            let want = if restart_ice { Then::RestartIce } else { Then::Offer };
            t.negotiation = Negotiation::Offered { then: then.max(want) };
            return Ok(None);
        }
        if restart_ice {
            t.pc.restart_ice();
        }
        let offer = t.pc.create_offer(None).map_err(|e| err(ErrorCode::InternalError, e.to_string()))?;
        t.pc.set_local_description(now, offer).map_err(|e| err(ErrorCode::InternalError, e.to_string()))?;
        t.negotiation = Negotiation::Offered { then: Then::Nothing };
        let sdp = t.pc.local_description().map(|d| d.sdp);
        let mids: Vec<(ConsumerKey, Option<String>)> = t
            .consumers_by_track
            .values()
            .map(|ck| {
                (
                    *ck,
                    self.consumers
                        .get(ck)
                        .and_then(|c| t.pc.rtp_transceiver(c.transceiver))
                        .and_then(|tr| tr.mid().clone()),
                )
            })
            .collect();
        for (ck, mid) in mids {
            if let Some(c) = self.consumers.get_mut(&ck) {
                c.mid = mid;
            }
        }
        self.learn_ufrag(key);
        self.touch(key);
        Ok(sdp)
    }

    fn answer(
        &mut self,
        room: &str,
        pid: &str,
        transport_id: &str,
        sdp: String,
        now: Instant,
    ) -> Result<NegotiationResponse, SfuError> {
        let key = self.owned_transport(room, pid, transport_id)?;
        let t = self.transports.get_mut(&key).expect("transport");
        // Only recv transports ever offer, so this also refuses answers on send transports.
        let Negotiation::Offered { then } = t.negotiation else {
            return Err(err(ErrorCode::ValidationError, "no offer on this transport awaits an answer"));
        };
        sdp_media(&sdp)?;
        let answer = RTCSessionDescription::answer(sdp).map_err(|e| err(ErrorCode::InvalidSdp, e.to_string()))?;
        t.pc.set_remote_description(now, answer).map_err(|e| err(ErrorCode::InvalidSdp, e.to_string()))?;
        t.negotiation = Negotiation::Stable;
        self.touch(key);
        // The subscriber's payload types and extension ids are known now.
        let cks: Vec<ConsumerKey> = self.transports[&key].consumers_by_track.values().copied().collect();
        for ck in cks {
            self.map_consumer(ck);
            self.consumer_wants_keyframe(ck, true, now);
        }
        let offer = match then {
            Then::Nothing => None,
            Then::Offer => self.offer(key, false, now)?,
            Then::RestartIce => self.offer(key, true, now)?,
        };
        Ok(NegotiationResponse { offer })
    }

    fn map_consumer(&mut self, ck: ConsumerKey) {
        let Some(c) = self.consumers.get_mut(&ck) else { return };
        let Some(p) = self.producers.get(&c.producer) else { return };
        let Some(t) = self.transports.get_mut(&c.transport) else { return };
        let Some(mut sender) = t.pc.rtp_sender(c.sender) else { return };
        let params = sender.get_parameters();
        let out_codecs = &params.rtp_parameters.codecs;
        // Publisher codecs are bound when its first packet arrives; map every codec we know.
        let mut pt_map = vec![];
        let source: Vec<(u8, String)> = if p.codecs.is_empty() {
            codec::capabilities().codecs.iter().map(|c| (c.payload_type, c.mime_type.clone())).collect()
        } else {
            p.codecs.iter().map(|c| (c.0, c.2.clone())).collect()
        };
        for (in_pt, mime) in source {
            if let Some(o) = out_codecs.iter().find(|o| o.rtp_codec.mime_type.eq_ignore_ascii_case(&mime)) {
                pt_map.push((in_pt, o.payload_type));
            }
        }
        let mut ext_map = vec![];
        for (in_id, uri) in &p.extensions {
            if codec::LEG_LOCAL_URIS.contains(&uri.as_str()) {
                continue;
            }
            if let Some(o) = params.rtp_parameters.header_extensions.iter().find(|o| o.uri == *uri) {
                ext_map.push((*in_id, o.id as u8));
            }
        }
        c.pt_map = pt_map;
        c.ext_map = ext_map;
        c.negotiated = true;
    }

    fn unsubscribe(
        &mut self,
        room: &str,
        pid: &str,
        consumer_id: &str,
        now: Instant,
    ) -> Result<NegotiationResponse, SfuError> {
        let ck = self.owned_consumer(room, pid, consumer_id)?;
        let offer = self.close_consumer(ck, true, now);
        Ok(NegotiationResponse { offer })
    }

    fn set_paused(
        &mut self,
        room: &str,
        pid: &str,
        consumer_id: &str,
        paused: bool,
        now: Instant,
    ) -> Result<ConsumerInfo, SfuError> {
        let ck = self.owned_consumer(room, pid, consumer_id)?;
        let c = self.consumers.get_mut(&ck).expect("consumer");
        if c.fwd.paused != paused {
            c.fwd.paused = paused;
            if !paused {
                c.fwd.restart();
                self.consumer_wants_keyframe(ck, true, now);
            }
            let producer_id =
                self.producers.get(&self.consumers[&ck].producer).map(|p| p.id.clone()).unwrap_or_default();
            self.emit_to_consumer_owner(ck, |room, c| {
                let (room_id, consumer_id) = (room.to_owned(), c.id.clone());
                if paused {
                    RoomEvent::ConsumerPaused { room_id, consumer_id, producer_id }
                } else {
                    RoomEvent::ConsumerResumed { room_id, consumer_id, producer_id }
                }
            });
        }
        Ok(self.consumer_info(ck).expect("consumer"))
    }

    fn set_layers(
        &mut self,
        room: &str,
        pid: &str,
        consumer_id: &str,
        layers: Layers,
        now: Instant,
    ) -> Result<ConsumerInfo, SfuError> {
        let ck = self.owned_consumer(room, pid, consumer_id)?;
        let c = &self.consumers[&ck];
        self.producers[&c.producer].check_layers("spatialLayer", layers)?;
        let c = self.consumers.get_mut(&ck).expect("consumer");
        c.preferred = Some(layers);
        c.max_bitrate = None;
        c.fwd.max_temporal = layers.temporal_layer;
        if c.fwd.current() != Some(layers.spatial_layer) {
            let pk = c.producer;
            if let Some(p) = self.producers.get_mut(&pk) {
                p.keyframe_wanted |= 1 << layers.spatial_layer;
                p.keyframe_urgent = true;
            }
            self.request_keyframe(pk, now);
        }
        Ok(self.consumer_info(ck).expect("consumer"))
    }

    /// Quality `q` for everything `pid` receives: each video consumer gets its layers and
    /// bitrate cap (a switch waits for the new layer's keyframe, asked for now), and so does
    /// every later one.
    fn set_quality(&mut self, room: &str, pid: &str, q: u8, now: Instant) -> Result<QualityInfo, SfuError> {
        if q > MAX_QUALITY {
            return Err(err(ErrorCode::ValidationError, format!("quality is 0 to {MAX_QUALITY}")));
        }
        let p = self.participant(room, pid)?;
        p.quality = Some(q);
        let consumers = p.consumers.clone();
        let mut infos = vec![];
        for ck in consumers {
            let Some(c) = self.consumers.get_mut(&ck) else { continue };
            let Some(producer) = self.producers.get_mut(&c.producer) else { continue };
            if producer.kind != MediaKind::Video {
                continue;
            }
            let layers = quality_layers(q, producer.top_layer());
            c.preferred = Some(layers);
            c.max_bitrate = Some(quality_max_bitrate(q));
            c.fwd.max_temporal = layers.temporal_layer;
            if c.fwd.current().is_some_and(|l| l != layers.spatial_layer) {
                producer.keyframe_wanted |= 1 << layers.spatial_layer;
                producer.keyframe_urgent = true;
                let pk = c.producer;
                self.request_keyframe(pk, now);
            }
            infos.extend(self.consumer_info(ck));
        }
        let asked = quality_layers(q, 2);
        Ok(QualityInfo {
            quality: q,
            spatial_layer: asked.spatial_layer,
            temporal_layer: asked.temporal_layer,
            max_bitrate: quality_max_bitrate(q),
            consumers: infos,
        })
    }

    fn restart_ice(
        &mut self,
        room: &str,
        pid: &str,
        transport_id: &str,
        now: Instant,
    ) -> Result<NegotiationResponse, SfuError> {
        let key = self.owned_transport(room, pid, transport_id)?;
        let t = self.transports.get_mut(&key).expect("transport");
        if t.direction == Direction::Send {
            // The publisher offers on its send transport: it restarts with an iceRestart offer
            // (a publish with no new tracks), which this node answers with new credentials.
            return Ok(NegotiationResponse { offer: None });
        }
        Ok(NegotiationResponse { offer: self.offer(key, true, now)? })
    }

    // ---------------------------------------------------------------- teardown

    fn close_producer(&mut self, pk: ProducerKey, now: Instant) {
        let Some(p) = self.producers.remove(&pk) else { return };
        self.producer_ids.remove(&p.id);
        Metrics::add(&self.metrics.producers, -1);
        if let Some(t) = self.transports.get_mut(&p.transport) {
            t.by_mid.remove(&p.mid);
            t.by_track.retain(|_, k| *k != pk);
        }
        if let Ok(owner) = self.participant(&p.room, &p.participant) {
            owner.producers.retain(|k| *k != pk);
        }
        for ck in p.consumers {
            let subscriber = self.consumers.get(&ck).map(|c| (c.participant.clone(), c.transport));
            let offer = self.close_consumer(ck, true, now);
            if let (Some(offer), Some((participant, tk))) = (offer, subscriber) {
                let transport_id = self.transports.get(&tk).map(|t| t.id.clone()).unwrap_or_default();
                self.emit(
                    self.connection_of(&p.room, &participant),
                    RoomEvent::NegotiationNeeded { room_id: p.room.clone(), transport_id, offer },
                );
            }
        }
        self.emit(
            self.room_connections(&p.room, Some(&p.participant)),
            RoomEvent::ProducerClosed { room_id: p.room.clone(), producer_id: p.id, participant_id: p.participant },
        );
    }

    /// Removes a consumer; with `renegotiate`, its transceiver stops and the subscriber gets a
    /// new offer (returned, or deferred while another is outstanding).
    fn close_consumer(&mut self, ck: ConsumerKey, renegotiate: bool, now: Instant) -> Option<String> {
        let c = self.consumers.remove(&ck)?;
        self.consumer_ids.remove(&c.id);
        Metrics::add(&self.metrics.consumers, -1);
        if let Some(p) = self.producers.get_mut(&c.producer) {
            p.consumers.retain(|k| *k != ck);
        }
        if let Some(t) = self.transports.get(&c.transport)
            && let Some(r) = self.rooms.get_mut(&t.room)
            && let Some(owner) = r.participants.get_mut(&c.participant)
        {
            owner.consumers.retain(|k| *k != ck);
        }
        let t = self.transports.get_mut(&c.transport)?;
        t.consumers_by_track.remove(&c.id);
        if t.pc.remove_track(c.sender).is_err() || !renegotiate {
            return None;
        }
        self.offer(c.transport, false, now).ok().flatten()
    }

    fn close_transport(&mut self, key: TransportKey, now: Instant) {
        let Some(t) = self.transports.get(&key) else { return };
        let producers: Vec<ProducerKey> = t.by_mid.values().copied().collect();
        let consumers: Vec<ConsumerKey> = t.consumers_by_track.values().copied().collect();
        for pk in producers {
            self.close_producer(pk, now);
        }
        for ck in consumers {
            self.close_consumer(ck, false, now);
        }
        let Some(mut t) = self.transports.remove(&key) else { return };
        let _ = t.pc.close();
        // Whatever close queued (DTLS close_notify) is sent now; the PeerConnection goes with it.
        while let Some(out) = t.pc.poll_write() {
            self.ready.push_back(Transmit { to: out.transport.peer_addr, data: out.message });
        }
        for u in &t.ufrags {
            self.by_ufrag.remove(u);
        }
        for a in &t.addrs {
            if self.by_addr.get(a) == Some(&key) {
                self.by_addr.remove(a);
            }
        }
        self.transport_ids.remove(&t.id);
        self.dirty.retain(|k| *k != key);
        if let Some(r) = self.rooms.get_mut(&t.room)
            && let Some(p) = r.participants.get_mut(&t.participant)
        {
            p.transports.retain(|k| *k != key);
        }
        Metrics::add(&self.metrics.transports, -1);
    }

    /// Sizes of the worker's maps, to prove teardown leaves nothing behind.
    pub fn footprint(&self) -> [usize; 8] {
        [
            self.transports.len(),
            self.transport_ids.len(),
            self.producers.len(),
            self.consumers.len(),
            self.by_ufrag.len(),
            self.by_addr.len(),
            self.producer_ids.len() + self.consumer_ids.len(),
            self.rooms.values().map(|r| r.participants.len()).sum(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_are_read_for_their_media_sections() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:2\r\n";
        let m = sdp_media(sdp).unwrap();
        assert_eq!(
            m,
            vec![("0".into(), Some(MediaKind::Audio)), ("1".into(), Some(MediaKind::Video)), ("2".into(), None)]
        );
        assert_eq!(sdp_media("hello").unwrap_err().code, ErrorCode::InvalidSdp);
        assert_eq!(sdp_ufrag("v=0\r\na=ice-ufrag:abc\r\n"), Some("abc".into()));
    }
}
