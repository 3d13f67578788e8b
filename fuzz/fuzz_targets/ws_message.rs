//! Every WebSocket client message, from the envelope parser through the front door's
//! dispatch (joins, leaves, relays, calls' rooms, the SFU dialect) on the embedded store.
//! A message may be refused; none may panic.

#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use stratus_core::clock::Clock;
use stratus_core::signaling::Signaling;
use stratus_protocol::ids::ConnectionId;

#[path = "common.rs"]
mod common;

struct World {
    sig: std::sync::Arc<Signaling>,
    clock: stratus_core::clock::ManualClock,
    conn: ConnectionId,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let (graph, clock) = common::graph();
        let sig = graph.signaling;
        let conn = ConnectionId::from("fuzzConn=");
        let token = common::access_token(&clock, "fuzzer");
        common::runtime().block_on(sig.connect(&conn, Some(&token), clock.now_ms())).expect("connect");
        World { sig, clock, conn }
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = stratus_protocol::ws::parse_client(&text);
    let w = world();
    // A second apart: the connection's message budget refills, so every input is dispatched.
    w.clock.advance_ms(1000);
    common::runtime().block_on(w.sig.message(&w.conn, &text, w.clock.now_ms()));
});
