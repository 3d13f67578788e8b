//! The local stack as a user runs it: the real binary on a free loopback port, its banner
//! read for the URL and the development credentials, its JSON logs readable line by line.

use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

pub struct LocalStack {
    pub base: String,
    pub app_key: String,
    pub app_secret: String,
    /// The stack's stdout (its JSON logs), read as it comes so the stack never blocks on a
    /// full pipe; `log_line` takes from here.
    stdout: tokio::sync::mpsc::UnboundedReceiver<String>,
    _child: Child,
}

fn drain(mut lines: tokio::io::Lines<BufReader<ChildStdout>>) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).is_err() {
                // Nobody reads the logs any more; keep draining so the stack keeps running.
                while let Ok(Some(_)) = lines.next_line().await {}
                return;
            }
        }
    });
    rx
}

impl LocalStack {
    /// Starts the `stratus-local` binary at `bin` on a free loopback port and reads its banner.
    pub async fn start(bin: &str, args: &[&str], envs: &[(&str, &str)]) -> LocalStack {
        Self::start_on(bin, "127.0.0.1:0", args, envs).await
    }

    /// [`Self::start`] listening on `listen` (e.g. `0.0.0.0:0`, for hosts in namespaces).
    pub async fn start_on(bin: &str, listen: &str, args: &[&str], envs: &[(&str, &str)]) -> LocalStack {
        let mut child = Command::new(bin)
            .args(["--listen", listen])
            .args(args)
            .envs(envs.iter().copied())
            .env_remove("STRATUS_DEV_APP_SECRET")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn stratus-local");
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let stdout = drain(BufReader::new(child.stdout.take().unwrap()).lines());
        let (mut base, mut key, mut secret) = (None, None, None);
        let read = async {
            while let Some(line) = stderr.next_line().await.unwrap() {
                if let Some(url) = line.trim().strip_prefix("listening on ") {
                    base = Some(url.to_owned());
                }
                if let Some(rest) = line.split("key=").nth(1) {
                    let mut parts = rest.split(" secret=");
                    key = parts.next().map(str::to_owned);
                    secret = parts.next().map(|s| s.trim().to_owned());
                }
                if line.starts_with("Health:") {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), read).await.expect("banner within 30 s");
        // Keep draining stderr so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });
        LocalStack {
            base: base.expect("banner names the URL"),
            app_key: key.expect("banner names the app key"),
            app_secret: secret.expect("banner names the app secret"),
            stdout,
            _child: child,
        }
    }

    pub async fn mint_response(&self, http: &reqwest::Client, user: &str) -> reqwest::Response {
        http.post(format!("{}/auth/token", self.base))
            .json(&json!({"app_key": self.app_key, "app_secret": self.app_secret, "user_id": user}))
            .send()
            .await
            .unwrap()
    }

    /// An access token for `user`.
    pub async fn token(&self, user: &str) -> String {
        let res = self.mint_response(&reqwest::Client::new(), user).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// An access token for `user` with these grants (`{"canPublish": true, ...}`).
    pub async fn token_with(&self, user: &str, grants: Value) -> String {
        let res = reqwest::Client::new()
            .post(format!("{}/auth/token", self.base))
            .json(&json!({"app_key": self.app_key, "app_secret": self.app_secret, "user_id": user, "grants": grants}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A client of the SFU dialect for `user` with these grants.
    pub async fn sfu_client(&self, user: &str, grants: Value) -> crate::sfu_client::SfuClient {
        let token = self.token_with(user, grants).await;
        crate::sfu_client::SfuClient::connect(&self.ws_url(&token)).await.expect("connect accepted")
    }

    /// An access token for `user` of another app of the stack (started with
    /// `--app KEY=SECRET`).
    pub async fn token_in(&self, app_key: &str, app_secret: &str, user: &str, grants: Value) -> String {
        let body = json!({"app_key": app_key, "app_secret": app_secret, "user_id": user, "grants": grants});
        let res = reqwest::Client::new().post(format!("{}/auth/token", self.base)).json(&body).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `GET path` as `user`; the JSON body, whatever the status.
    pub async fn get_as(&self, user: &str, path: &str) -> Value {
        let token = self.token(user).await;
        let res = reqwest::Client::new().get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        res.json().await.unwrap()
    }

    /// The WebSocket URL for a token.
    pub fn ws_url(&self, token: &str) -> String {
        format!("{}/ws?token={token}", self.base.replacen("http://", "ws://", 1))
    }

    /// The next JSON log line matching `pred`, within 10 s.
    pub async fn log_line(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        let find = async {
            while let Some(line) = self.stdout.recv().await {
                let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("non-JSON log line: {line}"));
                if pred(&v) {
                    return v;
                }
            }
            panic!("log ended");
        };
        tokio::time::timeout(Duration::from_secs(10), find).await.expect("log line within 10 s")
    }
}
