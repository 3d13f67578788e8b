//! Control operations on a room, as data: the node's routes build a [`Command`], the room's
//! worker hands it to its engine, and the answer comes back as a [`Reply`] that the handle
//! turns into the route's response type.

use super::SfuError;
use stratus_protocol::error::ErrorCode;
use stratus_protocol::media::*;

#[derive(Debug, Clone)]
pub enum Command {
    CreateRoom { max_participants: u32, name: String },
    RoomInfo,
    CloseRoom,
    Join { participant: String, req: CreateParticipantRequest },
    Leave { participant: String },
    CreateTransport { participant: String, direction: Direction },
    Answer { participant: String, transport: String, sdp: String },
    RestartIce { participant: String, transport: String },
    Publish { participant: String, req: PublishRequest },
    Unpublish { participant: String, producer: String },
    PauseProducer { participant: String, producer: String, paused: bool },
    Subscribe { participant: String, req: SubscribeRequest },
    Unsubscribe { participant: String, consumer: String },
    PauseConsumer { participant: String, consumer: String, paused: bool },
    SetLayers { participant: String, consumer: String, layers: Layers },
    SetQuality { participant: String, quality: u8 },
}

#[derive(Debug, Clone)]
pub enum Reply {
    Room(RoomInfo),
    Joined { created: bool, room: RoomInfo },
    Transport(TransportInfo),
    Negotiation(NegotiationResponse),
    Published(PublishResponse),
    Producer(ProducerInfo),
    Subscribed(SubscribeResponse),
    Consumer(ConsumerInfo),
    Quality(QualityInfo),
    Done,
}

macro_rules! take {
    ($($fn:ident -> $t:ty = $pat:pat => $v:expr;)*) => {
        impl Reply {
            $(
                /// This reply as the type its command answers with.
                pub fn $fn(self) -> Result<$t, SfuError> {
                    match self {
                        $pat => Ok($v),
                        other => Err(mismatch(stringify!($fn), &other)),
                    }
                }
            )*
        }
    };
}

take! {
    room -> RoomInfo = Reply::Room(r) => r;
    joined -> (bool, RoomInfo) = Reply::Joined { created, room } => (created, room);
    transport -> TransportInfo = Reply::Transport(t) => t;
    negotiation -> NegotiationResponse = Reply::Negotiation(n) => n;
    published -> PublishResponse = Reply::Published(p) => p;
    producer -> ProducerInfo = Reply::Producer(p) => p;
    subscribed -> SubscribeResponse = Reply::Subscribed(s) => s;
    consumer -> ConsumerInfo = Reply::Consumer(c) => c;
    quality -> QualityInfo = Reply::Quality(q) => q;
    done -> () = Reply::Done => ();
}

fn mismatch(wanted: &str, got: &Reply) -> SfuError {
    // A command answered with another command's reply is a bug in the engine's dispatch.
    tracing::error!(wanted, got = ?got, "engine reply does not match its command");
    SfuError::new(ErrorCode::InternalError, "unexpected engine reply")
}
