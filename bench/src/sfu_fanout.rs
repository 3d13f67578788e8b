//! SFU fan-out: one publisher (VP8-shaped video at about 1 Mbps plus 50 pps audio) to N
//! subscribers on loopback, the node in this process on one worker. The publisher is a full
//! `webrtc` peer; the subscribers are light `rtc` peers (real ICE, DTLS and SRTP handshakes,
//! RTP counted off the socket without decryption, see `stratus_tests::light_rx`) so that hundreds of them
//! leave the node a core of its own.
//! For each N: packets forwarded per CPU-second of the worker thread (the forwarding core,
//! measured from /proc, so the clients' own CPU is not counted), loss at the subscribers and
//! the node's p99 forwarding delay. N grows until loss passes 1% or the list ends.
//!
//! `cargo run --release -p stratus-bench --bin sfu-fanout -- 100 200 400 800`

use std::sync::Arc;
use std::time::{Duration, Instant};
use stratus_control::{Key, Verifier};
use stratus_core::clock::SystemClock;
use stratus_media_node::sfu::{Sfu, SfuConfig};
use stratus_media_node::{NodeState, app};
use stratus_protocol::media::MediaKind;
use stratus_tests::light_rx::LightSubscriber;
use stratus_tests::peer::{Node, PublishOptions, Publisher, Seat};

/// CPU seconds used so far by this process's thread named `name` (schedstat: nanoseconds
/// on CPU, not jiffies).
fn thread_cpu(name: &str) -> f64 {
    for entry in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim() == name {
            let stat = std::fs::read_to_string(entry.path().join("schedstat")).unwrap_or_default();
            return stat.split_whitespace().next().and_then(|n| n.parse::<f64>().ok()).unwrap_or(0.0) / 1e9;
        }
    }
    0.0
}

#[tokio::main]
async fn main() {
    let ns: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let ns = if ns.is_empty() { vec![10, 25, 50] } else { ns };
    let key = Key::new("bench", b"bench-0123456789abcdef0123456789abcdef".to_vec()).unwrap();
    println!("| subscribers (connected) | forwarded pkt/s | worker CPU | pkt/s per core | loss | p99 delay |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for n in ns {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let config = SfuConfig {
            public_ip: "127.0.0.1".parse().unwrap(),
            bind_ip: "127.0.0.1".parse().unwrap(),
            udp_port: 0,
            workers: 1,
            max_participants_per_room: 10_000,
        };
        let sfu = Arc::new(Sfu::start(config, tx).unwrap());
        let worker = sfu.thread_names()[0].clone();
        let state = Arc::new(NodeState::new(
            "bench".into(),
            "local".into(),
            Verifier::new(vec![key.clone()]),
            Arc::new(SystemClock),
            sfu.clone(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum_serve(listener, app(state)).await });
        let node = Node::new(&http, key.clone());
        node.join("bench", "pub").await;
        let opts = PublishOptions {
            fps: 30,
            packets_per_frame: 4,
            payload_bytes: 1050,
            keyframe_every: 60,
            ..Default::default()
        };
        let publisher = Publisher::start(&node, "bench", "pub", opts).await;
        let (audio, video) =
            (publisher.producer(MediaKind::Audio).clone(), publisher.producer(MediaKind::Video).clone());
        let mut subs = vec![];
        for i in 0..n {
            let pid = format!("s{i}");
            node.join("bench", &pid).await;
            let seat = Seat { node: &node, room: "bench", pid: &pid };
            let s = LightSubscriber::start(&seat, std::net::Ipv4Addr::LOCALHOST.into()).await;
            s.subscribe(&seat, &audio.producer_id).await;
            s.subscribe(&seat, &video.producer_id).await;
            subs.push(s);
        }
        // Past the knee a saturated worker may not finish every handshake; the window then
        // measures the subscribers that did connect (the table says how many).
        let mut connected = vec![];
        for s in subs {
            if s.connected(Duration::from_secs(20)).await {
                connected.push(s);
            }
        }
        let subs = connected;
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Measure a 10 s window.
        let m = &sfu.metrics;
        let count = |subs: &[LightSubscriber]| -> usize {
            subs.iter().map(|s| s.counters.packets.load(std::sync::atomic::Ordering::Relaxed) as usize).sum()
        };
        let sent_before = publisher.sent("video").len() + publisher.sent("audio").len();
        let (recv_before, out_before, cpu_before) =
            (count(&subs), m.packets_out.load(std::sync::atomic::Ordering::Relaxed), thread_cpu(&worker));
        let delays_before = m.delay_snapshot();
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(10)).await;
        let secs = t0.elapsed().as_secs_f64();
        let out = m.packets_out.load(std::sync::atomic::Ordering::Relaxed) - out_before;
        let cpu = thread_cpu(&worker) - cpu_before;
        // Packets still in flight at the window's end are counted by a short grace period.
        let sent = publisher.sent("video").len() + publisher.sent("audio").len() - sent_before;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let recv = count(&subs) - recv_before;
        let expected = sent * subs.len();
        let loss = 1.0 - (recv as f64 / expected as f64).min(1.0);
        let p99 = m
            .delay_snapshot()
            .since(&delays_before)
            .quantile_us(0.99)
            .map(|us| format!("≤{:.2} ms", us as f64 / 1000.0))
            .unwrap_or("-".into());
        println!(
            "| {n} ({}) | {:.0} | {:.0}% | {:.0} | {:.2}% | {p99} |",
            subs.len(),
            out as f64 / secs,
            cpu / secs * 100.0,
            if cpu > 0.0 { out as f64 / cpu } else { 0.0 },
            loss * 100.0
        );
        publisher.stop().await;
        drop(subs);
        if loss > 0.01 {
            break;
        }
    }
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) {
    let _ = axum::serve(listener, router).await;
}
