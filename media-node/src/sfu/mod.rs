//! The SFU engine, on the sans-I/O `rtc` core of webrtc-rs 0.21 (the core beneath the async
//! `webrtc` crate), driven by our own I/O loop.
//!
//! Why not the async `webrtc` layer: it binds one UDP socket per PeerConnection and its UDP
//! mux is a todo, so a node would need a port per participant. Driving the sans-I/O core
//! ourselves gives one UDP port per worker for every peer (demultiplexed by the ICE username
//! of STUN requests, then by remote address), no task or lock per packet, and a loop we can
//! measure. See docs/media-node.md.
//!
//! Layout:
//! - [`Sfu`]       — the handle the control API uses: room → worker placement, jobs sent to
//!   the worker that owns a room, node-wide stats.
//! - [`engine`]    — the sans-I/O engine: every PeerConnection of a worker's rooms, the room
//!   bookkeeping, negotiation and forwarding; datagrams, timeouts and commands in, datagrams
//!   and events out, `now` passed in.
//! - [`command`]   — control operations as data ([`Command`]) and their answers ([`Reply`]).
//! - `worker`      — one thread per worker: the run loop that owns the UDP socket and the clock.
//! - `forward`     — the per-consumer forwarding decision (layers, keyframes, rewriting).
//! - `codec`       — codecs and extensions negotiated; keyframe and temporal-layer parsing.
//! - `demux`       — which PeerConnection an incoming datagram belongs to.
//! - `feedback`    — the interceptor that lets subscribers' keyframe requests reach us.

pub mod codec;
pub mod command;
mod demux;
pub mod engine;
mod feedback;
pub mod forward;
mod worker;

use crate::metrics::Metrics;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use stratus_protocol::error::ErrorCode;
use stratus_protocol::media::RoomEvent;
use tokio::sync::{mpsc, oneshot};

pub use command::{Command, Reply};
pub use engine::Engine;

#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// The address advertised in ICE candidates (what peers send to).
    pub public_ip: IpAddr,
    /// The address the UDP sockets bind to.
    pub bind_ip: IpAddr,
    /// The first worker's UDP port (worker `i` uses `udp_port + i`); 0 picks free ports.
    pub udp_port: u16,
    pub workers: usize,
    /// Per-room participant limit when a room is created without one.
    pub max_participants_per_room: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SfuError {
    pub code: ErrorCode,
    pub message: String,
}

impl SfuError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> SfuError {
        SfuError { code, message: message.into() }
    }
}

impl std::fmt::Display for SfuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

/// An event for some participants' WebSocket connections.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub connection_ids: Vec<String>,
    pub event: RoomEvent,
}

/// What a worker's run loop takes besides datagrams.
enum Job {
    Room { room: String, cmd: Command, reply: oneshot::Sender<Result<Reply, SfuError>> },
    Ping(oneshot::Sender<()>),
    Footprint(oneshot::Sender<[usize; 8]>),
}

impl Job {
    fn run(self, engine: &mut Engine, now: Instant) {
        match self {
            Job::Room { room, cmd, reply } => {
                let _ = reply.send(engine.handle_command(&room, cmd, now));
            }
            Job::Ping(reply) => {
                let _ = reply.send(());
            }
            Job::Footprint(reply) => {
                let _ = reply.send(engine.footprint());
            }
        }
    }
}

struct WorkerHandle {
    jobs: mpsc::UnboundedSender<Job>,
    addr: SocketAddr,
    rooms: usize,
    thread: String,
}

/// Numbers the engines of one process, so worker thread names are unique (benchmarks read
/// each worker's CPU time by name).
static ENGINES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub struct Sfu {
    workers: Mutex<Vec<WorkerHandle>>,
    /// Which worker owns each room. Touched by control requests only, never per packet.
    rooms: Mutex<HashMap<String, usize>>,
    pub metrics: Arc<Metrics>,
    pub config: SfuConfig,
}

impl Sfu {
    /// Binds every worker's socket and starts its thread.
    pub fn start(config: SfuConfig, events: mpsc::UnboundedSender<Outbound>) -> std::io::Result<Sfu> {
        let metrics = Arc::new(Metrics::default());
        let engine = ENGINES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut workers = vec![];
        for i in 0..config.workers.max(1) {
            let port = if config.udp_port == 0 { 0 } else { config.udp_port + i as u16 };
            let socket = std::net::UdpSocket::bind(SocketAddr::new(config.bind_ip, port))?;
            socket.set_nonblocking(true)?;
            let bound = socket.local_addr()?;
            let advertised = SocketAddr::new(config.public_ip, bound.port());
            let (tx, rx) = mpsc::unbounded_channel();
            let (metrics, events) = (metrics.clone(), events.clone());
            // Linux keeps 15 bytes of a thread name.
            let thread = format!("sfu{engine}-w{i}");
            std::thread::Builder::new().name(thread.clone()).spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("worker runtime");
                rt.block_on(async move {
                    let socket = tokio::net::UdpSocket::from_std(socket).expect("worker socket");
                    worker::run(i, socket, advertised, metrics, events, rx).await;
                });
            })?;
            workers.push(WorkerHandle { jobs: tx, addr: advertised, rooms: 0, thread });
        }
        Ok(Sfu { workers: Mutex::new(workers), rooms: Mutex::new(HashMap::new()), metrics, config })
    }

    /// The worker threads' names, worker 0 first.
    pub fn thread_names(&self) -> Vec<String> {
        self.workers.lock().unwrap().iter().map(|w| w.thread.clone()).collect()
    }

    /// The UDP addresses peers send media to, one per worker.
    pub fn media_addrs(&self) -> Vec<SocketAddr> {
        self.workers.lock().unwrap().iter().map(|w| w.addr).collect()
    }

    fn owner(&self, room: &str) -> Result<usize, SfuError> {
        self.rooms
            .lock()
            .unwrap()
            .get(room)
            .copied()
            .ok_or_else(|| SfuError::new(ErrorCode::RoomNotFound, format!("room {room} is not on this node")))
    }

    async fn on_worker<T>(&self, worker: usize, job: impl FnOnce(oneshot::Sender<T>) -> Job) -> Result<T, SfuError> {
        let (tx, rx) = oneshot::channel();
        let sent = self.workers.lock().unwrap()[worker].jobs.send(job(tx));
        if sent.is_err() {
            return Err(SfuError::new(ErrorCode::InternalError, "media worker stopped"));
        }
        rx.await.map_err(|_| SfuError::new(ErrorCode::InternalError, "media worker stopped"))
    }

    /// Runs `cmd` on the engine that owns `room`.
    pub async fn command(&self, room: &str, cmd: Command) -> Result<Reply, SfuError> {
        self.command_on(self.owner(room)?, room, cmd).await
    }

    async fn command_on(&self, worker: usize, room: &str, cmd: Command) -> Result<Reply, SfuError> {
        let room = room.to_owned();
        self.on_worker(worker, |reply| Job::Room { room, cmd, reply }).await?
    }

    /// Opens `room` on the least-loaded worker (or returns the existing one's info).
    pub async fn create_room(
        &self,
        room: &str,
        max_participants: Option<u32>,
        name: Option<&str>,
    ) -> Result<(bool, stratus_protocol::media::RoomInfo), SfuError> {
        let (w, created) = {
            let mut rooms = self.rooms.lock().unwrap();
            match rooms.get(room) {
                Some(&w) => (w, false),
                None => {
                    let mut workers = self.workers.lock().unwrap();
                    let (w, _) = workers.iter().enumerate().min_by_key(|(_, h)| h.rooms).expect("one worker");
                    workers[w].rooms += 1;
                    rooms.insert(room.to_owned(), w);
                    (w, true)
                }
            }
        };
        let max = max_participants.unwrap_or(self.config.max_participants_per_room);
        let name = name.unwrap_or(room).to_owned();
        let info = self.command_on(w, room, Command::CreateRoom { max_participants: max, name }).await?.room()?;
        Ok((created, info))
    }

    pub async fn close_room(&self, room: &str) -> Result<(), SfuError> {
        let w = self.owner(room)?;
        self.command_on(w, room, Command::CloseRoom).await?.done()?;
        if self.rooms.lock().unwrap().remove(room).is_some() {
            self.workers.lock().unwrap()[w].rooms -= 1;
        }
        Ok(())
    }

    /// Every worker answers a job; returns how many there are.
    pub async fn ping(&self) -> Result<usize, SfuError> {
        let n = self.workers.lock().unwrap().len();
        for w in 0..n {
            self.on_worker(w, Job::Ping).await?;
        }
        Ok(n)
    }

    /// The summed sizes of every worker's maps (see `Engine::footprint`).
    pub async fn footprint(&self) -> Result<[usize; 8], SfuError> {
        let n = self.workers.lock().unwrap().len();
        let mut total = [0; 8];
        for w in 0..n {
            let f = self.on_worker(w, Job::Footprint).await?;
            for (t, v) in total.iter_mut().zip(f) {
                *t += v;
            }
        }
        Ok(total)
    }

    pub fn has_room(&self, room: &str) -> bool {
        self.rooms.lock().unwrap().contains_key(room)
    }

    pub fn room_count(&self) -> usize {
        self.rooms.lock().unwrap().len()
    }
}
