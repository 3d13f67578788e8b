//! A node that is gone costs a caller its connect timeout, not its request timeout, and is
//! reported unreachable (the domain moves its room); a node that answers, even with an
//! error, is not.

use std::time::{Duration, Instant};
use stratus_control::Key;
use stratus_control::client::{ControlClient, Timeouts};

fn client() -> ControlClient {
    let key = Key::new("k1", b"k1-0123456789abcdef0123456789abcdef".to_vec()).unwrap();
    ControlClient::with_timeouts(
        key,
        Timeouts { connect: Duration::from_millis(300), request: Duration::from_secs(30) },
    )
}

/// A listener that accepts connections and never writes a byte (a frozen process).
async fn silent() -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    addr
}

async fn get(c: &ControlClient, url: &str, pin: Option<&str>) -> (stratus_control::client::ControlError, Duration) {
    let t = Instant::now();
    let e =
        c.send_pinned::<(), serde_json::Value>(reqwest::Method::GET, url, pin, None, 1_800_000_000).await.unwrap_err();
    (e, t.elapsed())
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (e, _) = get(&client(), &format!("http://127.0.0.1:{port}/v1/node"), None).await;
    assert!(e.unreachable && e.status == 0, "{e:?}");
}

#[tokio::test]
async fn a_node_that_accepts_but_never_answers_the_handshake_is_unreachable_after_the_connect_timeout() {
    // The kernel completes the TCP handshake; nothing ever speaks TLS (a frozen process).
    let addr = silent().await;
    let (e, took) = get(&client(), &format!("https://{addr}/v1/node"), Some(&"ab".repeat(32))).await;
    assert!(e.unreachable && e.status == 0, "{e:?}");
    assert!(took < Duration::from_secs(5), "ended by the 300 ms connect timeout, not the 30 s request one: {took:?}");
}

#[tokio::test]
async fn a_node_that_takes_the_request_and_never_replies_is_unreachable_after_the_request_timeout() {
    let addr = silent().await;
    let key = Key::new("k1", b"k1-0123456789abcdef0123456789abcdef".to_vec()).unwrap();
    let c = ControlClient::with_timeouts(
        key,
        Timeouts { connect: Duration::from_secs(30), request: Duration::from_millis(300) },
    );
    let (e, took) = get(&c, &format!("http://{addr}/v1/node"), None).await;
    assert!(e.unreachable && e.status == 0, "{e:?}");
    assert!(took < Duration::from_secs(5), "ended by the 300 ms request timeout: {took:?}");
}

#[tokio::test]
async fn a_node_that_answers_an_error_is_not_unreachable() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let body = r#"{"error":{"code":"INTERNAL_ERROR","message":"boom"}}"#;
            let reply = format!(
                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes()).await;
        }
    });
    let (e, _) = get(&client(), &format!("http://{addr}/v1/node"), None).await;
    assert!(!e.unreachable, "{e:?}");
    assert_eq!(e.status, 500);
    assert_eq!(e.body["error"]["code"], "INTERNAL_ERROR");
}
