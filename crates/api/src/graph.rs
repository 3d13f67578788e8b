//! The service graph, wired in one place. The Lambda mains (REST, WebSocket, sweeper), the
//! local stack and the test harness each gather the [`Parts`] their environment provides
//! (a DynamoDB or embedded table, the Management API or an in-process sink, keys from
//! Secrets Manager or flags) and get the same services from [`Graph::build`].

use crate::state::{AppState, ServiceInfo};
use std::sync::Arc;
use stratus_core::auth::Authority;
use stratus_core::calls::CallsConfig;
use stratus_core::clock::Clock;
use stratus_core::ice::IceConfig;
use stratus_core::objects::ObjectStore;
use stratus_core::sfu::{MediaControl, SfuConfig, SfuRooms};
use stratus_core::signaling::{Signaling, SignalingConfig};
use stratus_core::sink::ConnectionSink;
use stratus_core::store::Table;

/// What the services are built from.
pub struct Parts {
    pub table: Arc<dyn Table>,
    pub sink: Arc<dyn ConnectionSink>,
    pub auth: Arc<Authority>,
    pub clock: Arc<dyn Clock>,
    pub info: ServiceInfo,
    pub calls: CallsConfig,
    /// How the functions reach media nodes; without it there are no group rooms.
    pub media: Option<Arc<dyn MediaControl>>,
    pub sfu: SfuConfig,
    pub signaling: SignalingConfig,
    pub ice: IceConfig,
    /// Where chat attachments go (S3, the embedded store); without it uploads answer 503.
    pub objects: Option<Arc<dyn ObjectStore>>,
}

impl Parts {
    /// The required parts; the rest take their defaults (no media fleet, no ICE servers).
    pub fn new(
        table: Arc<dyn Table>,
        sink: Arc<dyn ConnectionSink>,
        auth: Arc<Authority>,
        clock: Arc<dyn Clock>,
        info: ServiceInfo,
        calls: CallsConfig,
    ) -> Parts {
        Parts {
            table,
            sink,
            auth,
            clock,
            info,
            calls,
            media: None,
            sfu: SfuConfig::default(),
            signaling: SignalingConfig::default(),
            ice: IceConfig::default(),
            objects: None,
        }
    }

    pub fn with_media(mut self, media: Option<Arc<dyn MediaControl>>) -> Parts {
        self.media = media;
        self
    }

    pub fn with_objects(mut self, objects: Option<Arc<dyn ObjectStore>>) -> Parts {
        self.objects = objects;
        self
    }

    pub fn with_ice(mut self, ice: IceConfig) -> Parts {
        self.ice = ice;
        self
    }
}

/// The services: the REST state (with its calls), the WebSocket front door, group rooms.
pub struct Graph {
    pub state: AppState,
    pub signaling: Arc<Signaling>,
    pub sfu: Option<Arc<SfuRooms>>,
}

impl Graph {
    pub fn build(p: Parts) -> Graph {
        let sfu = p.media.map(|m| Arc::new(SfuRooms::new(p.table.clone(), p.sink.clone(), m, p.sfu)));
        let mut state = AppState::new(p.table.clone(), p.auth.clone(), p.clock, p.info, p.sink.clone(), p.calls)
            .with_ice(p.ice)
            .with_objects(p.objects);
        let mut signaling = Signaling::new(p.table, p.sink, p.auth, p.signaling);
        if let Some(s) = &sfu {
            state = state.with_sfu(s.clone());
            signaling = signaling.with_sfu(s.clone());
        }
        Graph { state, signaling: Arc::new(signaling), sfu }
    }
}
