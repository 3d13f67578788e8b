//! One worker's run loop: the only code that touches the UDP socket and the clock. It feeds
//! the engine datagrams, timeouts and control jobs, then sends what the engine yields and
//! forwards its room events. No forwarding or negotiation logic lives here.

use super::engine::Engine;
use super::{Job, Outbound};
use crate::metrics::Metrics;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Datagrams read per wake before the touched transports are flushed.
const READ_BATCH: usize = 64;
/// ...unless this many transports already have output waiting: with a large fan-out one
/// datagram is a batch of its own, so its copies leave before the next one is read.
const FLUSH_AT_TRANSPORTS: usize = 64;

pub(super) async fn run(
    index: usize,
    socket: UdpSocket,
    local: SocketAddr,
    metrics: Arc<Metrics>,
    events: mpsc::UnboundedSender<Outbound>,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    let mut engine = Engine::new(local, metrics.clone(), Instant::now());
    let mut buf = vec![0u8; 2048];
    loop {
        let deadline = engine.poll_timeout();
        tokio::select! {
            biased;
            job = jobs.recv() => match job {
                Some(job) => job.run(&mut engine, Instant::now()),
                None => break,
            },
            r = socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = r {
                    engine.handle_datagram(Instant::now(), from, &buf[..n]);
                    for _ in 1..READ_BATCH {
                        if engine.pending_transports() >= FLUSH_AT_TRANSPORTS {
                            break;
                        }
                        match socket.try_recv_from(&mut buf) {
                            Ok((n, from)) => engine.handle_datagram(Instant::now(), from, &buf[..n]),
                            Err(_) => break,
                        }
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline.into()) => engine.handle_timeout(Instant::now()),
        }
        while let Some(t) = engine.poll_transmit() {
            let r = match socket.try_send_to(&t.data, t.to) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => socket.send_to(&t.data, t.to).await,
                r => r,
            };
            if r.is_err() {
                metrics.send_errors.fetch_add(1, Relaxed);
            }
        }
        engine.transmitted(Instant::now());
        while let Some(e) = engine.poll_event() {
            let _ = events.send(e);
        }
    }
    tracing::info!(worker = index, "media worker stopped");
}
