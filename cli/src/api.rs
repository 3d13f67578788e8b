//! The REST API as an app's backend calls it. Every failure reads the shared error shape, so
//! the user sees the server's code and message (`403 FORBIDDEN: …`), not a status alone.

use crate::Target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;
use stratus_protocol::auth::{Grants, TokenRequest, TokenResponse};
use stratus_protocol::sfu::{RoomDetail, RoomList};

/// A request that did not succeed: the server's status and error, or why none came.
#[derive(Debug)]
pub struct Failure {
    /// 0 when no response came.
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            0 => write!(f, "{}", self.message),
            s => write!(f, "{s} {}: {}", self.code, self.message),
        }
    }
}

impl From<Failure> for String {
    fn from(f: Failure) -> String {
        f.to_string()
    }
}

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    key: String,
    secret: String,
}

/// The user the CLI's own admin tokens are minted for.
const CLI_USER: &str = "stratus-cli";

impl Api {
    pub fn new(t: &Target) -> Result<Api, String> {
        let secret = t
            .api_secret
            .clone()
            .ok_or("the app's secret is needed: --api-secret or STRATUS_API_SECRET (the local stack prints its own)")?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Api { base: t.url.trim_end_matches('/').to_owned(), http, key: t.api_key.clone(), secret })
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T, Failure> {
        let res = req.send().await.map_err(|e| Failure {
            status: 0,
            code: String::new(),
            message: format!("{}: {e}", self.base),
        })?;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return serde_json::from_value(body).map_err(|e| Failure {
                status,
                code: "UNEXPECTED_RESPONSE".into(),
                message: e.to_string(),
            });
        }
        let err = &body["error"];
        Err(Failure {
            status,
            code: err["code"].as_str().unwrap_or("HTTP_ERROR").to_owned(),
            message: err["message"].as_str().unwrap_or("(no error body)").to_owned(),
        })
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        token: Option<&str>,
        path: &str,
        body: &B,
    ) -> Result<T, Failure> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn put<T: DeserializeOwned>(&self, token: &str, path: &str) -> Result<T, Failure> {
        self.send(self.http.put(format!("{}{path}", self.base)).bearer_auth(token).json(&serde_json::json!({}))).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, token: &str, path: &str) -> Result<T, Failure> {
        self.send(self.http.delete(format!("{}{path}", self.base)).bearer_auth(token)).await
    }

    pub async fn get<T: DeserializeOwned>(&self, token: &str, path: &str) -> Result<T, Failure> {
        self.send(self.http.get(format!("{}{path}", self.base)).bearer_auth(token)).await
    }

    /// `POST /auth/token` with the app's credentials.
    pub async fn mint(&self, user: &str, grants: Grants, ttl: Option<Duration>) -> Result<TokenResponse, Failure> {
        let req = TokenRequest {
            app_key: self.key.clone(),
            app_secret: self.secret.clone(),
            user_id: user.to_owned(),
            email: None,
            full_name: None,
            role: None,
            grants,
            ttl_seconds: ttl.map(|d| d.as_secs().max(1)),
        };
        self.post(None, "/auth/token", &req).await
    }

    async fn admin(&self) -> Result<String, Failure> {
        let grants = Grants { admin: true, ..Grants::default() };
        Ok(self.mint(CLI_USER, grants, Some(Duration::from_secs(300))).await?.access_token)
    }

    pub async fn print_rooms(&self, json: bool) -> Result<(), String> {
        let token = self.admin().await?;
        let list: RoomList = self.get(&token, "/api/v1/rooms").await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&list).expect("serializes"));
            return Ok(());
        }
        let mut t = crate::report::Table::new(["room", "participants", "max", "node", "owner", "created"]);
        for d in &list.rooms {
            let r = &d.room;
            t.row([
                r.room_id.clone(),
                r.participants.to_string(),
                r.max_participants.to_string(),
                r.node_id.clone().unwrap_or_else(|| "-".into()),
                r.owner.clone(),
                r.created_at.clone(),
            ]);
        }
        print!("{t}");
        println!("{} rooms, {} participants", list.total_rooms, list.total_participants);
        Ok(())
    }

    pub async fn print_room(&self, room: &str, json: bool) -> Result<(), String> {
        if !stratus_protocol::ids::is_valid_id(room) {
            return Err(format!("{room:?} is not a room id: 1-128 of A-Z a-z 0-9 . _ @ : -"));
        }
        let token = self.admin().await?;
        let d: RoomDetail = self.get(&token, &format!("/api/v1/rooms/{room}")).await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&d).expect("serializes"));
            return Ok(());
        }
        let r = &d.room;
        println!("room {}  owner {}  node {}", r.room_id, r.owner, r.node_id.as_deref().unwrap_or("-"));
        println!("{} of {} participants, created {}", r.participants, r.max_participants, r.created_at);
        let mut t = crate::report::Table::new(["participant", "user", "joined"]);
        for m in &d.members {
            t.row([m.participant_id.clone(), m.user_id.clone(), m.joined_at.clone()]);
        }
        print!("{t}");
        Ok(())
    }
}
