//! coturn (Debian's `turnserver`) started for a test with the TURN REST API's shared-secret
//! authentication (`use-auth-secret`), on a free port, stopped when dropped.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::Stdio;
use std::time::{Duration, Instant};

pub struct Coturn {
    pub addr: SocketAddr,
    pub secret: String,
    pub log: std::path::PathBuf,
    _child: tokio::process::Child,
}

impl Coturn {
    /// Listens and relays on `ip`; `allow_loopback` lets it relay to 127.0.0.0/8 peers (where
    /// the local stack's in-process media node listens).
    pub async fn start(ip: IpAddr, secret: &str, allow_loopback: bool) -> Coturn {
        assert!(
            std::path::Path::new("/usr/bin/turnserver").exists(),
            "coturn is missing: apt-get install coturn (scripts/test.sh does)"
        );
        // A port free now may be taken before coturn binds it (another test's socket, a relay
        // allocation): try a few.
        for _ in 0..2 {
            if let Some(c) = Self::try_start(ip, secret, allow_loopback).await {
                return c;
            }
        }
        Self::try_start(ip, secret, allow_loopback).await.expect("coturn did not start on three ports")
    }

    async fn try_start(ip: IpAddr, secret: &str, allow_loopback: bool) -> Option<Coturn> {
        // Free for UDP and TCP both, since coturn listens on both.
        let port = loop {
            let p = UdpSocket::bind((ip, 0)).and_then(|s| s.local_addr()).expect("a free UDP port").port();
            if std::net::TcpListener::bind((ip, p)).is_ok() {
                break p;
            }
        };
        let log = std::env::temp_dir().join(format!("stratus-coturn-{port}.log"));
        let mut args = vec![
            "-n".to_owned(),
            format!("--listening-ip={ip}"),
            format!("--relay-ip={ip}"),
            format!("--listening-port={port}"),
            "--use-auth-secret".into(),
            format!("--static-auth-secret={secret}"),
            "--realm=stratus.test".into(),
            "--fingerprint".into(),
            "--no-tls".into(),
            "--no-dtls".into(),
            "--no-cli".into(),
            "--no-software-attribute".into(),
            "--min-port=49152".into(),
            "--max-port=65535".into(),
            format!("--pidfile={}", std::env::temp_dir().join(format!("stratus-coturn-{port}.pid")).display()),
            "--simple-log".into(),
            format!("--log-file={}", log.display()),
            "--verbose".into(),
        ];
        if allow_loopback {
            args.push("--allow-loopback-peers".into());
        }
        let child = tokio::process::Command::new("/usr/bin/turnserver")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn turnserver");
        let addr = SocketAddr::new(ip, port);
        // Ready once it listens on TCP too (coturn serves TURN over both).
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            if Instant::now() > deadline {
                eprintln!("coturn did not listen on {addr} within 10 s (log: {})", log.display());
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(Coturn { addr, secret: secret.to_owned(), log, _child: child })
    }

    /// The URLs a client is handed: TURN over UDP and TCP, STUN.
    pub fn turn_urls(&self) -> Vec<String> {
        vec![format!("turn:{}?transport=udp", self.addr), format!("turn:{}?transport=tcp", self.addr)]
    }

    pub fn stun_url(&self) -> String {
        format!("stun:{}", self.addr)
    }

    /// Its log so far (coturn logs every allocation, refusal and relayed peer).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
