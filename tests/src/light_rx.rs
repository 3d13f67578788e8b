//! A cheap receive-only WebRTC peer for load tests: the sans-I/O `rtc` core negotiates ICE,
//! DTLS and SRTP like any subscriber, but RTP datagrams are counted straight off the socket
//! (the RTP header is plaintext under SRTP) instead of being decrypted, so a few hundred of
//! them fit beside the node on this machine. Everything else (STUN, DTLS, SRTCP) goes
//! through the peer connection as usual, so the node sees a real, consenting peer.
//!
//! Counted per SSRC from the plaintext header: packets, the span of extended sequence numbers
//! seen (so loss is what a receiver report would say) and frames (RTP marker bits).

use crate::peer::Signal;
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
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stratus_protocol::media::*;
use tokio::net::UdpSocket;
use tokio::sync::Notify;

#[derive(Default)]
pub struct Counters {
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    pub connected: AtomicBool,
    /// When the first RTP packet arrived, if one did.
    pub first_packet: Mutex<Option<Instant>>,
    pub streams: Mutex<HashMap<u32, Stream>>,
}

/// One SSRC as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stream {
    pub packets: u64,
    /// RTP marker bits: the last packet of each video frame.
    pub frames: u64,
    first_seq: u64,
    highest_seq: u64,
}

impl Stream {
    /// Packets the sender sent between the first and the highest sequence number seen.
    pub fn expected(&self) -> u64 {
        self.highest_seq - self.first_seq + 1
    }

    fn record(&mut self, seq: u16, marker: bool) {
        // Extend the 16-bit sequence number against the highest so far (RFC 3550 A.1).
        let ext = if self.packets == 0 {
            u64::from(seq) + (1 << 16)
        } else {
            let high = self.highest_seq;
            let cand = (high & !0xffff) | u64::from(seq);
            if cand + 0x8000 < high {
                cand + (1 << 16)
            } else if cand > high + 0x8000 {
                cand.saturating_sub(1 << 16)
            } else {
                cand
            }
        };
        if self.packets == 0 {
            (self.first_seq, self.highest_seq) = (ext, ext);
        }
        self.first_seq = self.first_seq.min(ext);
        self.highest_seq = self.highest_seq.max(ext);
        self.packets += 1;
        self.frames += u64::from(marker);
    }
}

impl Counters {
    fn rtp(&self, d: &[u8]) {
        self.packets.fetch_add(1, Relaxed);
        self.bytes.fetch_add(d.len() as u64, Relaxed);
        let ssrc = u32::from_be_bytes([d[8], d[9], d[10], d[11]]);
        let seq = u16::from_be_bytes([d[2], d[3]]);
        let mut first = self.first_packet.lock().unwrap();
        first.get_or_insert_with(Instant::now);
        drop(first);
        self.streams.lock().unwrap().entry(ssrc).or_default().record(seq, d[1] & 0x80 != 0);
    }

    pub fn streams(&self) -> Vec<(u32, Stream)> {
        self.streams.lock().unwrap().iter().map(|(k, v)| (*k, *v)).collect()
    }
}

pub struct LightSubscriber {
    pc: Arc<Mutex<RTCPeerConnection>>,
    kick: Arc<Notify>,
    pub counters: Arc<Counters>,
    transport_id: String,
    task: tokio::task::JoinHandle<()>,
}

impl LightSubscriber {
    /// A receive transport through any signalling path, its socket bound on `bind`.
    pub async fn start(signal: &dyn Signal, bind: IpAddr) -> LightSubscriber {
        let t = signal.transport(Direction::Recv).await;
        let socket = UdpSocket::bind(SocketAddr::new(bind, 0)).await.expect("udp socket");
        let local = socket.local_addr().unwrap();
        let mut media = MediaEngine::default();
        media.register_default_codecs().unwrap();
        let mut pc = RTCPeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(media)
            .build(Instant::now())
            .expect("peer connection");
        pc.add_local_candidate(host_candidate(local)).unwrap();
        pc.add_local_candidate(RTCIceCandidateInit::default()).unwrap();
        let pc = Arc::new(Mutex::new(pc));
        let kick = Arc::new(Notify::new());
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(run(socket, local, pc.clone(), kick.clone(), counters.clone()));
        LightSubscriber { pc, kick, counters, transport_id: t.transport_id, task }
    }

    /// Subscribes to `producer_id` and answers the node's offers until the transport is stable.
    pub async fn subscribe(&self, signal: &dyn Signal, producer_id: &str) -> ConsumerInfo {
        let res = signal.consume(&self.transport_id, producer_id, None).await;
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
            offer = signal.answer(&self.transport_id, answer).await;
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

/// A host candidate for `addr`, as the media node builds its own (`sfu::engine::host_candidate`;
/// this crate does not depend on the node).
fn host_candidate(addr: SocketAddr) -> RTCIceCandidateInit {
    use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
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
    .new_candidate_host()
    .expect("a host candidate of a bound address");
    RTCIceCandidate::from(&host).to_json().expect("a candidate as JSON")
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
                    counters.rtp(&buf[..n]);
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

#[cfg(test)]
mod tests {
    use super::Stream;

    #[test]
    fn loss_is_the_gap_in_sequence_numbers_across_a_wrap() {
        let mut s = Stream::default();
        for seq in (65530u16..=65535).chain(0..5).filter(|s| *s != 2 && *s != 65533) {
            s.record(seq, seq % 3 == 0);
        }
        assert_eq!((s.packets, s.expected()), (9, 11), "two of 65530..=4 missing");
        s.record(65534, false); // late, from before the wrap
        assert_eq!(s.expected(), 11);
    }
}
