//! The per-consumer forwarding decision: which packets reach a subscriber and with which
//! sequence number and timestamp. Pure state, no I/O, no room bookkeeping: the worker asks,
//! once per (packet, consumer), and applies the answer.
//!
//! A consumer forwards one spatial layer at a time. It starts, resumes or switches only on a
//! keyframe of the layer it wants, so the subscriber's decoder never sees a delta frame
//! without its reference. Sequence numbers and timestamps are rewritten into one continuous
//! stream across switches and dropped temporal layers, so the subscriber sees no gaps to NACK.

use super::codec::PayloadInfo;
use std::time::Instant;

/// The layer a consumer should be on: the highest active layer not above `want` whose
/// measured bitrate (`bps[layer]`, 0 while unmeasured) fits `cap`; else the lowest active
/// one; else 0. `active` has a bit per layer the publisher sends now.
pub fn pick_layer(want: u8, top: u8, active: u32, cap: Option<u64>, bps: &[u64; 8]) -> u8 {
    let is_active = |l: u8| active & (1 << l) != 0;
    let fits = |l: u8| cap.is_none_or(|c| bps[l as usize] <= c);
    (0..=want.min(top))
        .rev()
        .find(|&l| is_active(l) && fits(l))
        .or_else(|| (0..=top).find(|&l| is_active(l)))
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Drop,
    /// Dropped, and the layer the consumer wants needs a keyframe from the publisher.
    NeedKeyframe,
    Forward {
        seq: u16,
        ts: u32,
        switched: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Forwarder {
    pub paused: bool,
    /// Highest temporal layer to forward (all when `None`).
    pub max_temporal: Option<u8>,
    current: Option<u8>,
    seq_off: u16,
    ts_off: u32,
    last: Option<(u16, u32, Instant)>,
    clock_rate: u32,
}

impl Forwarder {
    pub fn new(clock_rate: u32, paused: bool, max_temporal: Option<u8>) -> Forwarder {
        Forwarder { paused, max_temporal, current: None, seq_off: 0, ts_off: 0, last: None, clock_rate }
    }

    /// The spatial layer being forwarded now.
    pub fn current(&self) -> Option<u8> {
        self.current
    }

    /// Stop forwarding until the next keyframe (after a resume, or a new transport).
    pub fn restart(&mut self) {
        self.current = None;
    }

    /// `layer` is the packet's spatial layer, `target` the layer this consumer should end up
    /// on (its preference, bounded by what the publisher sends).
    pub fn on_packet(&mut self, layer: u8, target: u8, seq: u16, ts: u32, info: PayloadInfo, now: Instant) -> Verdict {
        if self.paused {
            return Verdict::Drop;
        }
        let switched = if self.current == Some(layer) {
            false
        } else if layer == target {
            if !info.keyframe {
                return Verdict::NeedKeyframe;
            }
            self.switch_to(layer, seq, ts, now);
            true
        } else {
            // Another layer's packet: the current one keeps flowing until the target's
            // keyframe arrives.
            return Verdict::Drop;
        };
        if let (Some(max), Some(t)) = (self.max_temporal, info.temporal)
            && t > max
        {
            // Hide the dropped packet from the subscriber's sequence space.
            self.seq_off = self.seq_off.wrapping_sub(1);
            return Verdict::Drop;
        }
        let out = (seq.wrapping_add(self.seq_off), ts.wrapping_add(self.ts_off));
        self.last = Some((out.0, out.1, now));
        Verdict::Forward { seq: out.0, ts: out.1, switched }
    }

    fn switch_to(&mut self, layer: u8, seq: u16, ts: u32, now: Instant) {
        self.current = Some(layer);
        if let Some((last_seq, last_ts, at)) = self.last {
            // Continue where the subscriber's stream left off; the timestamp advances by the
            // time that passed since the last forwarded packet.
            let elapsed = now.saturating_duration_since(at);
            let ticks = ((elapsed.as_micros() as u64 * self.clock_rate as u64) / 1_000_000).max(1) as u32;
            self.seq_off = last_seq.wrapping_add(1).wrapping_sub(seq);
            self.ts_off = last_ts.wrapping_add(ticks).wrapping_sub(ts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const KEY: PayloadInfo = PayloadInfo { keyframe: true, temporal: None };
    const DELTA: PayloadInfo = PayloadInfo { keyframe: false, temporal: None };

    #[test]
    fn the_layer_picked_is_the_best_active_one_within_the_preference_and_the_cap() {
        let all = 0b111;
        let bps = [200_000, 700_000, 2_500_000, 0, 0, 0, 0, 0];
        assert_eq!(pick_layer(2, 2, all, None, &bps), 2, "no cap: the preference");
        assert_eq!(pick_layer(1, 2, all, None, &bps), 1);
        assert_eq!(pick_layer(2, 2, all, Some(1_000_000), &bps), 1, "layer 2 is over the cap");
        assert_eq!(pick_layer(2, 2, all, Some(100_000), &bps), 0, "nothing fits: the lowest");
        assert_eq!(pick_layer(2, 2, 0b011, Some(3_000_000), &bps), 1, "layer 2 is off");
        assert_eq!(pick_layer(0, 2, 0b110, None, &bps), 1, "the wanted layer is off: the lowest active");
        let unmeasured = [0; 8];
        assert_eq!(pick_layer(2, 2, all, Some(1), &unmeasured), 2, "an unmeasured layer is not held back");
        assert_eq!(pick_layer(5, 0, 0b1, None, &bps), 0, "never above the publisher's top");
    }

    #[test]
    fn starts_only_on_a_keyframe_of_the_target_layer() {
        let t0 = Instant::now();
        let mut f = Forwarder::new(90000, false, None);
        assert_eq!(f.on_packet(2, 2, 10, 1000, DELTA, t0), Verdict::NeedKeyframe);
        assert_eq!(f.on_packet(0, 2, 500, 1000, KEY, t0), Verdict::Drop);
        assert_eq!(f.on_packet(2, 2, 11, 4000, KEY, t0), Verdict::Forward { seq: 11, ts: 4000, switched: true });
        assert_eq!(f.on_packet(2, 2, 12, 4000, DELTA, t0), Verdict::Forward { seq: 12, ts: 4000, switched: false });
        assert_eq!(f.current(), Some(2));
    }

    #[test]
    fn a_switch_waits_for_the_new_layers_keyframe_and_keeps_the_stream_continuous() {
        let t0 = Instant::now();
        let mut f = Forwarder::new(90000, false, None);
        assert!(matches!(f.on_packet(2, 2, 100, 9000, KEY, t0), Verdict::Forward { .. }));
        // The preference drops to layer 0: layer 2 keeps flowing until layer 0 has a keyframe.
        assert_eq!(f.on_packet(0, 0, 7000, 50, DELTA, t0), Verdict::NeedKeyframe);
        assert!(matches!(f.on_packet(2, 0, 101, 9000, DELTA, t0), Verdict::Forward { seq: 101, .. }));
        let t1 = t0 + Duration::from_millis(100);
        let v = f.on_packet(0, 0, 7001, 3050, KEY, t1);
        // 100 ms at 90 kHz = 9000 ticks after the last forwarded timestamp.
        assert_eq!(v, Verdict::Forward { seq: 102, ts: 18000, switched: true });
        assert_eq!(f.on_packet(2, 0, 102, 12000, DELTA, t1), Verdict::Drop);
        assert_eq!(f.on_packet(0, 0, 7002, 6050, DELTA, t1), Verdict::Forward { seq: 103, ts: 21000, switched: false });
    }

    #[test]
    fn dropped_temporal_layers_leave_no_sequence_gap() {
        let t0 = Instant::now();
        let mut f = Forwarder::new(90000, false, Some(0));
        let tl = |t| PayloadInfo { keyframe: false, temporal: Some(t) };
        assert!(matches!(
            f.on_packet(0, 0, 1, 0, PayloadInfo { keyframe: true, temporal: Some(0) }, t0),
            Verdict::Forward { seq: 1, .. }
        ));
        assert_eq!(f.on_packet(0, 0, 2, 3000, tl(1), t0), Verdict::Drop);
        assert_eq!(f.on_packet(0, 0, 3, 6000, tl(0), t0), Verdict::Forward { seq: 2, ts: 6000, switched: false });
        f.max_temporal = None;
        assert_eq!(f.on_packet(0, 0, 4, 9000, tl(1), t0), Verdict::Forward { seq: 3, ts: 9000, switched: false });
    }

    #[test]
    fn paused_drops_and_a_restart_resumes_on_the_next_keyframe() {
        let t0 = Instant::now();
        let mut f = Forwarder::new(48000, false, None);
        assert!(matches!(f.on_packet(0, 0, 65535, 0, KEY, t0), Verdict::Forward { seq: 65535, .. }));
        f.paused = true;
        assert_eq!(f.on_packet(0, 0, 0, 960, KEY, t0), Verdict::Drop);
        f.paused = false;
        f.restart();
        let v = f.on_packet(0, 0, 50, 48960, KEY, t0 + Duration::from_secs(1));
        // Wraps: the next number after 65535 is 0.
        assert_eq!(v, Verdict::Forward { seq: 0, ts: 48000, switched: true });
    }
}
