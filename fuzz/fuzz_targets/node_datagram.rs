//! Datagrams at the media node's socket: any bytes from an unknown address, and any STUN
//! attributes behind a binding request header naming a transport (the path a new peer's
//! first packet takes), through the engine's demultiplexer. Dropped or answered, never a
//! panic.

#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;
use std::time::Instant;
use stratus_media_node::sfu::Command;
use stratus_protocol::media::Direction;

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let mut e = common::engine(now);
    let _ =
        e.handle_command("r", Command::CreateTransport { participant: "p".into(), direction: Direction::Recv }, now);
    let from = "192.0.2.1:5000".parse().unwrap();
    e.handle_datagram(now, from, data);
    // The same bytes as the attributes of a STUN binding request (RFC 5389 header, magic
    // cookie, transaction id), so they reach the STUN attribute walk.
    let mut stun = vec![0x00, 0x01];
    stun.extend_from_slice(&(data.len().min(0xffff) as u16).to_be_bytes());
    stun.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
    stun.extend_from_slice(&[7; 12]);
    stun.extend_from_slice(&data[..data.len().min(0xffff)]);
    e.handle_datagram(now, from, &stun);
    while e.poll_transmit().is_some() {}
    e.handle_timeout(now + std::time::Duration::from_secs(1));
});
