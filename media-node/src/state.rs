//! The node's shared state: who it is, the keys it verifies control requests with, the SFU,
//! the drain flag and the load it reports.

use crate::sfu::Sfu;
use std::sync::atomic::{AtomicBool, Ordering, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use stratus_control::Verifier;
use stratus_core::clock::Clock;
use stratus_core::nodes::Load;
use stratus_protocol::media::NodeStats;

pub struct NodeState {
    pub id: String,
    pub region: String,
    pub verifier: Verifier,
    pub clock: Arc<dyn Clock>,
    pub started_ms: i64,
    /// Set on SIGTERM: the node takes no new rooms and reports not ready.
    pub draining: AtomicBool,
    /// Poked when a room is made, so the heartbeat task updates scale-in protection now.
    pub load_changed: tokio::sync::Notify,
    pub sfu: Arc<Sfu>,
    /// (when, bytes in, bytes out, bps in, bps out) of the last bitrate sample.
    rate: Mutex<(Instant, u64, u64, u64, u64)>,
}

impl NodeState {
    pub fn new(id: String, region: String, verifier: Verifier, clock: Arc<dyn Clock>, sfu: Arc<Sfu>) -> NodeState {
        NodeState {
            id,
            region,
            verifier,
            started_ms: clock.now_ms(),
            clock,
            draining: AtomicBool::new(false),
            load_changed: tokio::sync::Notify::new(),
            sfu,
            rate: Mutex::new((Instant::now(), 0, 0, 0, 0)),
        }
    }

    pub fn stats(&self) -> NodeStats {
        let m = &self.sfu.metrics;
        let (bytes_in, bytes_out) = (m.bytes_in.load(Relaxed), m.bytes_out.load(Relaxed));
        let (bps_in, bps_out) = {
            let mut r = self.rate.lock().unwrap();
            let secs = r.0.elapsed().as_secs_f64();
            // Rates over at least a second; callers in between see the last sample.
            if secs >= 1.0 {
                *r = (
                    Instant::now(),
                    bytes_in,
                    bytes_out,
                    ((bytes_in - r.1) as f64 * 8.0 / secs) as u64,
                    ((bytes_out - r.2) as f64 * 8.0 / secs) as u64,
                );
            }
            (r.3, r.4)
        };
        NodeStats {
            rooms: m.rooms.load(Relaxed),
            participants: m.participants.load(Relaxed),
            transports: m.transports.load(Relaxed),
            producers: m.producers.load(Relaxed),
            consumers: m.consumers.load(Relaxed),
            packets_in: m.packets_in.load(Relaxed),
            packets_out: m.packets_out.load(Relaxed),
            bytes_in,
            bytes_out,
            packets_lost: m.packets_lost.load(Relaxed),
            bitrate_in_bps: bps_in,
            bitrate_out_bps: bps_out,
        }
    }

    /// What the node carries now, for the registry.
    pub fn load(&self) -> Load {
        let s = self.stats();
        Load {
            rooms: s.rooms as i64,
            participants: s.participants as i64,
            producers: s.producers as i64,
            consumers: s.consumers as i64,
            bitrate_bps: (s.bitrate_in_bps + s.bitrate_out_bps) as i64,
        }
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}
