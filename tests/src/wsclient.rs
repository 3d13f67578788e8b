//! A WebSocket client for tests: connects, sends JSON, and reads the next message with a
//! deadline (so a missing message fails the test instead of hanging it).

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

pub struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What came instead of a message.
#[derive(Debug)]
pub enum Ended {
    Closed(Option<CloseFrame>),
    Timeout,
}

impl WsClient {
    /// Connects; `Err` carries the HTTP status of a refused handshake.
    pub async fn connect(url: &str) -> Result<WsClient, u16> {
        match connect_async(url).await {
            Ok((ws, _)) => Ok(WsClient { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
            Err(e) => panic!("websocket connect to {url}: {e}"),
        }
    }

    pub async fn send(&mut self, v: Value) {
        self.ws.send(Message::Text(v.to_string().into())).await.expect("send");
    }

    pub async fn send_text(&mut self, t: &str) {
        self.ws.send(Message::Text(t.to_owned().into())).await.expect("send");
    }

    /// The next text message as JSON, or how the wait ended.
    pub async fn next(&mut self, within: Duration) -> Result<Value, Ended> {
        loop {
            match tokio::time::timeout(within, self.ws.next()).await {
                Err(_) => return Err(Ended::Timeout),
                Ok(None) | Ok(Some(Err(_))) => return Err(Ended::Closed(None)),
                Ok(Some(Ok(Message::Close(f)))) => return Err(Ended::Closed(f)),
                Ok(Some(Ok(Message::Text(t)))) => return Ok(serde_json::from_str(&t).expect("server sends JSON")),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next message, which must arrive within 5 s.
    pub async fn recv(&mut self) -> Value {
        match self.next(Duration::from_secs(5)).await {
            Ok(v) => v,
            Err(e) => panic!("expected a message, got {e:?}"),
        }
    }

    /// The next message, which must have type `t`.
    pub async fn expect(&mut self, t: &str) -> Value {
        let v = self.recv().await;
        assert_eq!(v["type"], t, "expected `{t}`, got {v}");
        v
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        // Drain until the server completes the close.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_secs(2), self.ws.next()).await {}
    }
}
