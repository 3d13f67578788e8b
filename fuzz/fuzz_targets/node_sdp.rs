//! SDP at the media node: any publish offer on a send transport, and any answer on a recv
//! transport, through the engine (the sans-I/O core the node's workers run). Refused with
//! an error, never a panic.

#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;
use std::time::Instant;
use stratus_media_node::sfu::Command;
use stratus_protocol::media::{Direction, MediaKind, PublishRequest, PublishTrack};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, sdp)) = data.split_first() else { return };
    let sdp = String::from_utf8_lossy(sdp).into_owned();
    let now = Instant::now();
    let mut e = common::engine(now);
    let direction = if pick & 1 == 0 { Direction::Send } else { Direction::Recv };
    let t = e
        .handle_command("r", Command::CreateTransport { participant: "p".into(), direction }, now)
        .unwrap()
        .transport()
        .unwrap();
    let cmd = match direction {
        Direction::Send => {
            let kind = if pick & 2 == 0 { MediaKind::Audio } else { MediaKind::Video };
            let rids = if pick & 4 == 0 { vec![] } else { vec!["q".into(), "h".into(), "f".into()] };
            let tracks = vec![PublishTrack { mid: "0".into(), kind, rids, source: None }];
            Command::Publish {
                participant: "p".into(),
                req: PublishRequest { transport_id: t.transport_id, sdp, tracks },
            }
        }
        Direction::Recv => Command::Answer { participant: "p".into(), transport: t.transport_id, sdp },
    };
    let _ = e.handle_command("r", cmd, now);
    while e.poll_transmit().is_some() {}
    e.handle_timeout(now + std::time::Duration::from_secs(1));
});
