//! Counters the forwarding loop bumps (relaxed atomics: no locks on the packet path) and
//! their Prometheus text rendering.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Forwarding-delay histogram bounds, microseconds (socket arrival to the last copy sent).
pub const DELAY_BUCKETS_US: [u64; 13] =
    [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000];

#[derive(Default)]
pub struct Metrics {
    pub rooms: AtomicU64,
    pub participants: AtomicU64,
    pub transports: AtomicU64,
    pub producers: AtomicU64,
    pub consumers: AtomicU64,
    pub packets_in: AtomicU64,
    pub bytes_in: AtomicU64,
    pub packets_out: AtomicU64,
    pub bytes_out: AtomicU64,
    pub packets_lost: AtomicU64,
    pub keyframe_requests: AtomicU64,
    pub send_errors: AtomicU64,
    pub delay_buckets: [AtomicU64; DELAY_BUCKETS_US.len()],
    pub delay_sum_us: AtomicU64,
    pub delay_count: AtomicU64,
}

impl Metrics {
    pub fn observe_delay_us(&self, us: u64) {
        if let Some(i) = DELAY_BUCKETS_US.iter().position(|&b| us <= b) {
            self.delay_buckets[i].fetch_add(1, Relaxed);
        }
        self.delay_sum_us.fetch_add(us, Relaxed);
        self.delay_count.fetch_add(1, Relaxed);
    }

    pub fn add(gauge: &AtomicU64, delta: i64) {
        if delta >= 0 {
            gauge.fetch_add(delta as u64, Relaxed);
        } else {
            gauge.fetch_sub(delta.unsigned_abs(), Relaxed);
        }
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self, node_id: &str, draining: bool) -> String {
        let mut s = String::with_capacity(4096);
        let node = node_id.replace(['"', '\\', '\n'], "_");
        let label = format!("{{node=\"{node}\"}}");
        let mut one = |name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{label} {v}");
        };
        one("stratus_rooms", "gauge", "Rooms open on this node.", self.rooms.load(Relaxed));
        one("stratus_participants", "gauge", "Participants in those rooms.", self.participants.load(Relaxed));
        one("stratus_transports", "gauge", "WebRTC transports (PeerConnections).", self.transports.load(Relaxed));
        one("stratus_producers", "gauge", "Published tracks.", self.producers.load(Relaxed));
        one(
            "stratus_consumers",
            "gauge",
            "Subscriptions (a producer forwarded to one subscriber).",
            self.consumers.load(Relaxed),
        );
        one("stratus_draining", "gauge", "1 while the node drains.", draining as u64);
        one(
            "stratus_packets_in_total",
            "counter",
            "RTP packets received from publishers.",
            self.packets_in.load(Relaxed),
        );
        one(
            "stratus_bytes_in_total",
            "counter",
            "RTP payload bytes received from publishers.",
            self.bytes_in.load(Relaxed),
        );
        one(
            "stratus_packets_out_total",
            "counter",
            "RTP packets forwarded to subscribers.",
            self.packets_out.load(Relaxed),
        );
        one(
            "stratus_bytes_out_total",
            "counter",
            "RTP payload bytes forwarded to subscribers.",
            self.bytes_out.load(Relaxed),
        );
        one(
            "stratus_packets_lost_total",
            "counter",
            "Publisher packets never received (sequence gaps).",
            self.packets_lost.load(Relaxed),
        );
        one(
            "stratus_keyframe_requests_total",
            "counter",
            "PLIs sent to publishers.",
            self.keyframe_requests.load(Relaxed),
        );
        one("stratus_send_errors_total", "counter", "UDP sends that failed.", self.send_errors.load(Relaxed));
        let name = "stratus_forwarding_delay_seconds";
        let _ = writeln!(s, "# HELP {name} Socket arrival of a publisher packet to the last forwarded copy sent.");
        let _ = writeln!(s, "# TYPE {name} histogram");
        for (b, cumulative) in self.cumulative_buckets() {
            let _ = writeln!(s, "{name}_bucket{{node=\"{node}\",le=\"{}\"}} {cumulative}", b as f64 / 1e6);
        }
        let count = self.delay_count.load(Relaxed);
        let _ = writeln!(s, "{name}_bucket{{node=\"{node}\",le=\"+Inf\"}} {count}");
        let _ = writeln!(s, "{name}_sum{label} {}", self.delay_sum_us.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(s, "{name}_count{label} {count}");
        s
    }

    /// The delay below which `q` of all observations fall, in microseconds.
    pub fn delay_quantile_us(&self, q: f64) -> Option<u64> {
        self.delay_snapshot().quantile_us(q)
    }

    /// The histogram as it is now; two snapshots give the delays of the window between them.
    pub fn delay_snapshot(&self) -> DelaySnapshot {
        DelaySnapshot {
            buckets: std::array::from_fn(|i| self.delay_buckets[i].load(Relaxed)),
            count: self.delay_count.load(Relaxed),
        }
    }

    /// (bucket upper bound in µs, observations at or below it).
    fn cumulative_buckets(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        DELAY_BUCKETS_US.iter().zip(&self.delay_buckets).scan(0, |total, (b, n)| {
            *total += n.load(Relaxed);
            Some((*b, *total))
        })
    }
}

/// Forwarding-delay observations per bucket (not cumulative) and in all.
#[derive(Clone, Copy, Debug)]
pub struct DelaySnapshot {
    pub buckets: [u64; DELAY_BUCKETS_US.len()],
    pub count: u64,
}

impl DelaySnapshot {
    /// The observations made after `earlier`.
    pub fn since(&self, earlier: &DelaySnapshot) -> DelaySnapshot {
        DelaySnapshot {
            buckets: std::array::from_fn(|i| self.buckets[i] - earlier.buckets[i]),
            count: self.count - earlier.count,
        }
    }

    /// The upper bound of the bucket holding the `q` quantile (`u64::MAX` past the last bound).
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let want = (self.count as f64 * q).ceil() as u64;
        let mut total = 0;
        for (b, n) in DELAY_BUCKETS_US.iter().zip(&self.buckets) {
            total += n;
            if total >= want {
                return Some(*b);
            }
        }
        Some(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_quantiles_come_from_its_buckets() {
        let m = Metrics::default();
        for us in [10, 40, 90, 300, 2_000_000] {
            m.observe_delay_us(us);
        }
        let text = m.render("n1", false);
        assert!(text.contains("stratus_forwarding_delay_seconds_bucket{node=\"n1\",le=\"0.00005\"} 2"), "{text}");
        assert!(text.contains("stratus_forwarding_delay_seconds_bucket{node=\"n1\",le=\"0.0005\"} 4"));
        assert!(text.contains("stratus_forwarding_delay_seconds_bucket{node=\"n1\",le=\"+Inf\"} 5"));
        assert!(text.contains("stratus_forwarding_delay_seconds_count{node=\"n1\"} 5"));
        assert_eq!(m.delay_quantile_us(0.5), Some(100));
        assert_eq!(m.delay_quantile_us(0.99), Some(u64::MAX));
        let before = m.delay_snapshot();
        m.observe_delay_us(3000);
        m.observe_delay_us(4000);
        let window = m.delay_snapshot().since(&before);
        assert_eq!((window.count, window.quantile_us(0.99)), (2, Some(5000)));
    }
}
