//! A cheap receive-only WebRTC peer for load tests: the sans-I/O `rtc` core negotiates ICE,
//! DTLS and SRTP like any subscriber, but RTP datagrams are counted straight off the socket
//! (the RTP header is plaintext under SRTP) instead of being decrypted, so a few hundred of
//! them fit beside the node on this machine. Everything else (STUN, DTLS, SRTCP) goes
//! through the peer connection as usual, so the node sees a real, consenting peer.

use bytes::BytesMut;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::RTCIceCandidateInit;
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stratus_protocol::media::*;
use stratus_tests::peer::Node;
use tokio::net::UdpSocket;
use tokio::sync::Notify;

#[derive(Default)]
pub struct Counters {
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    pub connected: AtomicBool,
}

pub struct LightSubscriber {
    pc: Arc<Mutex<RTCPeerConnection>>,
    kick: Arc<Notify>,
    pub counters: Arc<Counters>,
    transport_id: String,
    room: String,
    pid: String,
    task: tokio::task::JoinHandle<()>,
}

impl LightSubscriber {
    pub async fn start(node: &Node, room: &str, pid: &str) -> LightSubscriber {
        let t = node.transport(room, pid, Direction::Recv).await;
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("udp socket");
        let local = socket.local_addr().unwrap();
        let mut media = MediaEngine::default();
        media.register_default_codecs().unwrap();
        let mut pc = RTCPeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(media)
            .build(Instant::now())
            .expect("peer connection");
        pc.add_local_candidate(stratus_media_node::sfu::engine::host_candidate(local).unwrap()).unwrap();
        pc.add_local_candidate(RTCIceCandidateInit::default()).unwrap();
        let pc = Arc::new(Mutex::new(pc));
        let kick = Arc::new(Notify::new());
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(run(socket, local, pc.clone(), kick.clone(), counters.clone()));
        LightSubscriber { pc, kick, counters, transport_id: t.transport_id, room: room.into(), pid: pid.into(), task }
    }

    /// Subscribes to `producer_id` and answers the node's offers until the transport is stable.
    pub async fn subscribe(&self, node: &Node, producer_id: &str) -> ConsumerInfo {
        let res = node.consume(&self.room, &self.pid, &self.transport_id, producer_id, None).await;
        let mut offer = res.offer;
        while let Some(sdp) = offer.take() {
            let answer = {
                let mut pc = self.pc.lock().unwrap();
                let now = Instant::now();
                pc.set_remote_description(now, RTCSessionDescription::offer(sdp).unwrap()).expect("offer");
                let answer = pc.create_answer(None).unwrap();
                pc.set_local_description(now, answer).unwrap();
                pc.local_description().unwrap().sdp
            };
            self.kick.notify_one();
            offer = node.answer(&self.room, &self.pid, &self.transport_id, answer).await;
        }
        res.consumer
    }

    /// Waits up to `limit` for DTLS to be up; false if it never came.
    pub async fn connected(&self, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if self.counters.connected.load(Relaxed) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }
}

impl Drop for LightSubscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn is_rtp(d: &[u8]) -> bool {
    // RFC 7983: 128..=191 is RTP or RTCP; RTCP packet types 192..=223 sit in the second byte.
    d.len() >= 12 && (128..=191).contains(&d[0]) && !(192..=223).contains(&d[1])
}

async fn run(
    socket: UdpSocket,
    local: SocketAddr,
    pc: Arc<Mutex<RTCPeerConnection>>,
    kick: Arc<Notify>,
    counters: Arc<Counters>,
) {
    let mut buf = vec![0u8; 2048];
    loop {
        let deadline = pc.lock().unwrap().poll_timeout().unwrap_or_else(|| Instant::now() + Duration::from_millis(200));
        let mut input = None;
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                let Ok((n, from)) = r else { continue };
                if is_rtp(&buf[..n]) {
                    counters.packets.fetch_add(1, Relaxed);
                    counters.bytes.fetch_add(n as u64, Relaxed);
                    continue;
                }
                input = Some((BytesMut::from(&buf[..n]), from));
            }
            _ = tokio::time::sleep_until(deadline.into()) => {}
            _ = kick.notified() => {}
        }
        let out = {
            let mut pc = pc.lock().unwrap();
            let now = Instant::now();
            match input {
                Some((message, peer_addr)) => {
                    let transport = TransportContext {
                        local_addr: local,
                        peer_addr,
                        ecn: None,
                        transport_protocol: TransportProtocol::UDP,
                    };
                    let _ = pc.handle_read(TaggedBytesMut { now, transport, message });
                }
                None => {
                    let _ = pc.handle_timeout(now);
                }
            }
            while let Some(e) = pc.poll_event() {
                if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(s) = e {
                    counters.connected.store(s == RTCPeerConnectionState::Connected, Relaxed);
                }
            }
            while pc.poll_read().is_some() {}
            let mut out = vec![];
            while let Some(w) = pc.poll_write() {
                out.push(w);
            }
            out
        };
        for w in out {
            let _ = socket.send_to(&w.message, w.transport.peer_addr).await;
        }
    }
}
