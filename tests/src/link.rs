//! A link to a DynamoDB endpoint (moto) that a test can cut: an HTTP proxy on a loopback
//! port that forwards while [`Mode::Up`], refuses connections while [`Mode::Down`] (as a
//! stopped server does: accepted then closed, and every open keep-alive connection cut), and
//! swallows requests while [`Mode::Hang`] (accepted, never answered: a store that hangs).
//!
//! Moto keeps its tables in memory, so stopping the server itself would lose them; cutting
//! the link between the stack and moto is how these tests stop "the store" and bring it back
//! with its data. [`Link::hold_write`] also stops the link at one chosen write: the request
//! is held unanswered (the test then kills the process that sent it, between two writes of
//! a flow).

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Up,
    Down,
    Hang,
}

struct Shared {
    upstream: String,
    mode: watch::Sender<Mode>,
    http: reqwest::Client,
    /// Write requests (PutItem, UpdateItem, DeleteItem, TransactWriteItems, BatchWriteItem)
    /// forwarded so far.
    writes: AtomicU64,
    /// Hold the write with this number (0-based) and every request after it.
    hold_at: Mutex<Option<u64>>,
    /// Set once that write came: from then on nothing is answered.
    holding: std::sync::atomic::AtomicBool,
    held: Notify,
}

pub struct Link {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Link({} → {}, {:?})", self.addr, self.shared.upstream, *self.shared.mode.borrow())
    }
}

const WRITES: [&str; 5] = ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"];

impl Link {
    /// A link to `upstream` (e.g. `http://127.0.0.1:5000`), up.
    pub async fn start(upstream: &str) -> Link {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the link");
        let addr = listener.local_addr().unwrap();
        let (mode, _) = watch::channel(Mode::Up);
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            mode,
            http: reqwest::Client::new(),
            writes: AtomicU64::new(0),
            hold_at: Mutex::new(None),
            holding: std::sync::atomic::AtomicBool::new(false),
            held: Notify::new(),
        });
        tokio::spawn(accept(listener, shared.clone()));
        Link { addr, shared }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, mode: Mode) {
        self.shared.mode.send_replace(mode);
    }

    /// Lets `k` more writes through, then holds the next request that writes, and everything
    /// after it, unanswered. The future it returns ends once that write is held.
    pub fn hold_write(&self, k: u64) -> impl Future<Output = ()> + '_ {
        let held = self.shared.held.notified();
        let at = self.shared.writes.load(Ordering::SeqCst) + k;
        *self.shared.hold_at.lock().unwrap() = Some(at);
        async move {
            if !self.shared.holding.load(Ordering::SeqCst) {
                held.await
            }
        }
    }

    /// Writes forwarded so far.
    pub fn writes(&self) -> u64 {
        self.shared.writes.load(Ordering::SeqCst)
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        let mode = *shared.mode.borrow();
        match mode {
            // Closed at once: the client sees its connection end, as with a stopped server.
            Mode::Down => drop(stream),
            Mode::Hang => {
                tokio::spawn(async move {
                    let _held = stream;
                    std::future::pending::<()>().await
                });
            }
            Mode::Up => {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let mut changed = shared.mode.subscribe();
                    let svc = hyper::service::service_fn({
                        let shared = shared.clone();
                        move |req| forward(shared.clone(), req)
                    });
                    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
                    // A connection lives while the link stays up; going down cuts it.
                    tokio::select! {
                        _ = conn => {}
                        _ = changed.wait_for(|m| *m == Mode::Down) => {}
                    }
                });
            }
        }
    }
}

async fn forward(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let mode = *shared.mode.borrow();
    match mode {
        Mode::Up => {}
        Mode::Hang => std::future::pending::<()>().await,
        Mode::Down => return Err(std::io::Error::other("link down")),
    }
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let is_write = WRITES.iter().any(|w| target.ends_with(&format!(".{w}")));
    if is_write && shared.hold_at.lock().unwrap().is_some_and(|at| shared.writes.load(Ordering::SeqCst) >= at) {
        shared.holding.store(true, Ordering::SeqCst);
        shared.held.notify_waiters();
    }
    if shared.holding.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    let mut out = shared.http.request(parts.method, format!("{}{}", shared.upstream, parts.uri));
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST {
            out = out.header(name, value);
        }
    }
    let res = out.body(body).send().await.map_err(std::io::Error::other)?;
    if is_write {
        shared.writes.fetch_add(1, Ordering::SeqCst);
    }
    let mut back = Response::builder().status(res.status());
    for (name, value) in res.headers() {
        back = back.header(name, value);
    }
    let bytes = res.bytes().await.map_err(std::io::Error::other)?;
    Ok(back.body(Full::new(bytes)).expect("a response from upstream's parts"))
}
