//! The WebSocket function binaries, end to end from API Gateway WebSocket event fixtures
//! (`tests/fixtures/apigw-ws/`): state in DynamoDB on moto, pushes through the Management
//! API (a recording stand-in), the sweeper from a scheduled event.

use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::Arc;
use stratus_core::auth::{AuthConfig, Authority, Secret, TableRefreshTokens};
use stratus_core::clock::{Clock, ManualClock, SystemClock};
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;
use stratus_core::store::{Key, Query, SortKey, Table};
use stratus_dynamo::DynamoTable;
use stratus_protocol::auth::{Grants, TokenRequest};
use stratus_tests::apigw::ManagementApiRecorder;
use stratus_tests::aws;
use stratus_tests::lambda::{RuntimeApi, fixture};
use stratus_tests::rest::random_hex;

struct Env {
    ws: RuntimeApi,
    sweeper: RuntimeApi,
    apigw: ManagementApiRecorder,
    /// App `app`'s namespace of the function's table.
    table: Arc<dyn Table>,
    /// The whole table (connections' owners).
    root: Arc<dyn Table>,
    auth: Authority,
    _children: Vec<tokio::process::Child>,
}

/// The peer id the room sees for connection `c`.
fn peer(c: &str) -> String {
    stratus_core::p2p::peer_id(&c.into()).to_string()
}

/// The sort keys of a P2P room holding these connections, in the table's order.
fn member_keys(conns: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = conns.iter().map(|c| format!("MEMBER#{}", peer(c))).collect();
    keys.sort();
    keys
}

async fn setup() -> Env {
    let client = aws::dynamodb().await;
    let name = aws::unique_name("fn-ws");
    stratus_dynamo::create_table(&client, &MAIN, &name).await.unwrap();
    let jwt = random_hex();
    let arn =
        aws::create_secret(&json!({"jwt_secret": jwt, "apps": {"app": random_hex(), "other": random_hex()}})).await;
    let apigw = ManagementApiRecorder::start().await;
    let (ws, sweeper) = (RuntimeApi::start().await, RuntimeApi::start().await);
    let mut children = Vec::new();
    for (bin, rt) in [(env!("CARGO_BIN_EXE_stratus-ws"), &ws), (env!("CARGO_BIN_EXE_stratus-ws-sweeper"), &sweeper)] {
        let child = tokio::process::Command::new(bin)
            .envs(rt.env("stratus-ws"))
            .envs(aws::sdk_env())
            .env(MAIN.name_env, &name)
            .env("STRATUS_CREDENTIALS_SECRET", &arn)
            .env("STRATUS_WS_MANAGEMENT_ENDPOINT", &apigw.url)
            .env("STRATUS_SIGNALING_URL", "wss://abc123ws.execute-api.us-east-1.amazonaws.com/prod")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        children.push(child);
    }
    let auth = Authority::new(
        AuthConfig::new("stratus", Secret::new(jwt))
            .with_app("app", Secret::new("x".repeat(16)))
            .with_app("other", Secret::new("x".repeat(16))),
    );
    let root: Arc<dyn Table> = Arc::new(DynamoTable::new(client, name, &MAIN, Arc::new(SystemClock)));
    let table = stratus_core::tenant::table(&root, &"app".into());
    Env { ws, sweeper, apigw, table, root, auth, _children: children }
}

impl Env {
    async fn token(&self, user: &str) -> String {
        self.token_in("app", user).await
    }

    async fn token_in(&self, app: &str, user: &str) -> String {
        let mem = TableRefreshTokens(Arc::new(MemoryTable::new(&MAIN, Arc::new(ManualClock::at_system_time()))));
        let req = TokenRequest {
            app_key: app.into(),
            app_secret: "x".repeat(16),
            user_id: user.into(),
            email: None,
            full_name: None,
            role: None,
            grants: Grants::default(),
            ttl_seconds: None,
        };
        self.auth.issue(&mem, &req, SystemClock.now_secs()).await.unwrap().access_token
    }

    async fn connect(&self, conn: &str, token: &str) -> Value {
        let mut ev = fixture("apigw-ws/connect.json");
        ev["queryStringParameters"]["token"] = json!(token);
        ev["multiValueQueryStringParameters"]["token"] = json!([token]);
        ev["requestContext"]["connectionId"] = json!(conn);
        let res = self.ws.invoke(ev).await.expect("connect response");
        if res["statusCode"] == 200 {
            self.apigw.set_live(conn, true);
        }
        res
    }

    async fn send(&self, conn: &str, msg: Value) {
        let mut ev = fixture("apigw-ws/message.json");
        ev["requestContext"]["connectionId"] = json!(conn);
        ev["requestContext"]["routeKey"] = msg["type"].clone();
        ev["body"] = json!(msg.to_string());
        let res = self.ws.invoke(ev).await.expect("message response");
        assert_eq!(res["statusCode"], 200);
    }

    async fn disconnect(&self, conn: &str) {
        self.apigw.set_live(conn, false);
        let mut ev = fixture("apigw-ws/disconnect.json");
        ev["requestContext"]["connectionId"] = json!(conn);
        assert_eq!(self.ws.invoke(ev).await.expect("disconnect response")["statusCode"], 200);
    }

    /// Types of the messages posted to `conn` since last asked.
    fn types(&self, conn: &str) -> Vec<String> {
        self.apigw.take(conn).iter().map(|m| m["type"].as_str().unwrap_or("?").to_owned()).collect()
    }

    async fn items(&self, pk: &str) -> Vec<String> {
        let page = self.table.query(&Query::table(pk).limit(100)).await.unwrap();
        page.items.iter().map(|i| i["sk"].as_str().unwrap().to_owned()).collect()
    }
}

#[tokio::test]
async fn ws_function_keeps_state_in_dynamodb_and_posts_to_the_right_connections() {
    let env = setup().await;
    let (ta, tb, tc) = (env.token("alice").await, env.token("bob").await, env.token("carol").await);
    for (c, t) in [("connA=", &ta), ("connB=", &tb), ("connC=", &tc)] {
        assert_eq!(env.connect(c, t).await["statusCode"], 200);
    }
    assert_eq!(env.items("CONN#connA=").await, ["META"]);
    let owner = env.root.query(&Query::table("CONN#connA=")).await.unwrap();
    assert_eq!(owner.items.len(), 1, "outside the app's namespace, only the connection's owner");
    assert_eq!(owner.items[0]["app"].as_str(), Some("app"));
    assert_eq!(env.items("USER#alice").await, ["PRESENCE", "SLOT#0"], "a slot, and presence's last-seen");

    let refused = env.connect("connBad=", "not-a-token").await;
    assert_eq!(refused["statusCode"], 401);
    let body: Value = serde_json::from_str(refused["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "AUTH_TOKEN_INVALID");
    assert!(env.items("CONN#connBad=").await.is_empty(), "a refused connect writes nothing");

    env.send("connA=", json!({"type": "join", "requestId": "j1", "data": {"room": "r1"}})).await;
    let posted = env.apigw.take("connA=");
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0]["type"], "joined");
    assert_eq!(posted[0]["requestId"], "j1");
    assert_eq!(posted[0]["data"]["peerId"], peer("connA="));
    env.send("connB=", json!({"type": "join", "data": {"room": "r1"}})).await;
    let b = env.apigw.take("connB=");
    assert_eq!(b[0]["data"]["peers"], json!([{"peerId": peer("connA="), "userId": "alice"}]));
    assert_eq!(env.types("connA="), ["user-joined"]);
    env.send("connC=", json!({"type": "join-room", "roomId": "r1"})).await;
    assert_eq!(env.types("connA="), ["user-joined"]);
    assert_eq!(env.types("connB="), ["user-joined"]);
    assert_eq!(env.types("connC="), ["joined"]);
    assert_eq!(env.items("ROOM#r1").await, member_keys(&["connA=", "connB=", "connC="]));
    assert_eq!(env.items("CONN#connB=").await, ["META", "ROOM#r1"]);

    // An offer to B reaches B only, with A as the sender.
    env.send("connA=", json!({"type": "offer", "to": peer("connB="), "sdp": "v=0 offer"})).await;
    let offer = env.apigw.take("connB=");
    assert_eq!(offer.len(), 1);
    assert_eq!(offer[0]["data"]["from"], peer("connA="));
    assert_eq!(offer[0]["data"]["fromUser"], "alice");
    assert_eq!(offer[0]["data"]["sdp"], "v=0 offer");
    assert!(env.types("connC=").is_empty() && env.types("connA=").is_empty());
    // A connection id is no address: peers are named by their peer ids only.
    env.send("connA=", json!({"type": "offer", "to": "connB=", "sdp": "v=0 offer"})).await;
    assert!(env.types("connB=").is_empty());
    assert_eq!(env.apigw.take("connA=")[0]["data"]["code"], "PEER_NOT_FOUND");
    // A broadcast candidate reaches B and C.
    env.send("connA=", json!({"type": "candidate", "data": {"candidate": {"candidate": "c1", "sdpMid": "0"}}})).await;
    assert_eq!(env.types("connB="), ["candidate"]);
    assert_eq!(env.types("connC="), ["candidate"]);
    assert!(env.types("connA=").is_empty());

    // Leave: state removed, others told.
    env.send("connB=", json!({"type": "leave", "data": {"room": "r1"}})).await;
    assert_eq!(env.types("connB="), ["left"]);
    assert_eq!(env.types("connA="), ["user-left"]);
    assert_eq!(env.types("connC="), ["user-left"]);
    assert_eq!(env.items("CONN#connB=").await, ["META"]);
    // Disconnect: everything of C goes, A is told.
    env.disconnect("connC=").await;
    assert!(env.items("CONN#connC=").await.is_empty());
    assert_eq!(env.items("USER#carol").await, ["PRESENCE"], "the slot is freed; last-seen stays");
    assert_eq!(env.items("ROOM#r1").await, member_keys(&["connA="]));
    let left = env.apigw.take("connA=");
    assert_eq!(left[0]["type"], "user-left");
    assert_eq!(left[0]["data"]["peerId"], peer("connC="));

    // A user's sixth concurrent connection is refused.
    let td = env.token("dave").await;
    for i in 0..5 {
        assert_eq!(env.connect(&format!("dave{i}="), &td).await["statusCode"], 200);
    }
    assert_eq!(env.connect("dave5=", &td).await["statusCode"], 429);
    assert!(env.table.get(&Key::new("CONN#dave5=", "META")).await.unwrap().is_none());
    assert!(env.root.get(&Key::new("CONN#dave5=", "APP")).await.unwrap().is_none(), "no owner left behind");
    env.disconnect("dave0=").await;
    assert_eq!(env.connect("dave5=", &td).await["statusCode"], 200, "a freed slot is reusable");
}

#[tokio::test]
async fn stale_connections_are_removed_on_410_and_by_the_sweeper() {
    let env = setup().await;
    let t = env.token("erin").await;
    for c in ["sA=", "sX=", "sY="] {
        assert_eq!(env.connect(c, &t).await["statusCode"], 200);
        env.send(c, json!({"type": "join", "data": {"room": "r2"}})).await;
    }
    for c in ["sA=", "sX=", "sY="] {
        env.apigw.take(c);
    }
    // X vanishes without $disconnect; the next post to it answers 410.
    env.apigw.set_live("sX=", false);
    env.send("sA=", json!({"type": "custom", "data": {"payload": {"hello": 1}}})).await;
    assert!(env.items("CONN#sX=").await.is_empty(), "410 removed X");
    assert_eq!(env.items("ROOM#r2").await, member_keys(&["sA=", "sY="]));
    let a = env.apigw.take("sA=");
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0]["type"].as_str(), a[0]["data"]["peerId"].as_str()),
        (Some("user-left"), Some(peer("sX=").as_str()))
    );
    assert_eq!(a[0]["data"]["reason"], "gone");

    // Y vanishes too, and nobody posts to it: the sweeper finds it.
    env.apigw.set_live("sY=", false);
    let report = env.sweeper.invoke(fixture("scheduled-event.json")).await.expect("sweeper response");
    assert_eq!(report["removed"], 1, "{report}");
    assert!(report["checked"].as_u64().unwrap() >= 2);
    assert!(env.items("CONN#sY=").await.is_empty());
    assert_eq!(env.items("ROOM#r2").await, member_keys(&["sA="]));
    let slots = env.table.query(&Query::table("USER#erin").sk(SortKey::BeginsWith("SLOT#".into()))).await.unwrap();
    assert_eq!(slots.items.len(), 1, "only A still holds a slot");
    assert_eq!(env.types("sA="), ["user-left"]);
}

#[tokio::test]
async fn two_apps_served_by_one_function_never_meet() {
    let env = setup().await;
    let (a_bob, b_bob, b_carol) =
        (env.token("bob").await, env.token_in("other", "bob").await, env.token_in("other", "carol").await);
    for (c, t) in [("aBob=", &a_bob), ("bBob=", &b_bob), ("bCarol=", &b_carol)] {
        assert_eq!(env.connect(c, t).await["statusCode"], 200);
    }
    let other = stratus_core::tenant::table(&env.root, &"other".into());
    let owner = env.root.get(&Key::new("CONN#bBob=", "APP")).await.unwrap().expect("owner");
    assert_eq!(owner["app"].as_str(), Some("other"));
    assert!(other.get(&Key::new("CONN#bBob=", "META")).await.unwrap().is_some(), "in the other app's namespace");
    assert!(env.table.get(&Key::new("CONN#bBob=", "META")).await.unwrap().is_none());

    // Both apps have a room `r1`: two rooms.
    env.send("bCarol=", json!({"type": "join", "data": {"room": "r1"}})).await;
    assert_eq!(env.types("bCarol="), ["joined"]);
    env.send("aBob=", json!({"type": "join", "data": {"room": "r1"}})).await;
    let joined = env.apigw.take("aBob=");
    assert_eq!(joined[0]["data"]["peers"], json!([]), "app B's carol is not in app A's r1");
    assert!(env.types("bCarol=").is_empty());
    // Relays to the other app's connection or room reach nobody.
    env.send("aBob=", json!({"type": "offer", "to": peer("bCarol="), "sdp": "v=0"})).await;
    let refused = env.apigw.take("aBob=");
    assert_eq!(refused[0]["data"]["code"], "PEER_NOT_FOUND", "{refused:?}");
    env.send("aBob=", json!({"type": "candidate", "data": {"candidate": {"candidate": "c1"}}})).await;
    assert!(env.types("bCarol=").is_empty() && env.types("bBob=").is_empty());
    let b_room: Vec<String> = other
        .query(&Query::table("ROOM#r1"))
        .await
        .unwrap()
        .items
        .iter()
        .map(|i| i["sk"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(b_room, member_keys(&["bCarol="]));
    assert_eq!(env.items("ROOM#r1").await, member_keys(&["aBob="]));

    // One sweep covers every app: a stale connection of each is found and removed.
    env.apigw.set_live("aBob=", false);
    env.apigw.set_live("bCarol=", false);
    let report = env.sweeper.invoke(fixture("scheduled-event.json")).await.expect("sweeper response");
    assert_eq!(report["removed"], 2, "{report}");
    assert!(env.items("ROOM#r1").await.is_empty());
    assert!(other.query(&Query::table("ROOM#r1")).await.unwrap().items.is_empty());
    assert!(env.root.get(&Key::new("CONN#bCarol=", "APP")).await.unwrap().is_none(), "its owner is gone too");
    assert!(other.get(&Key::new("CONN#bBob=", "META")).await.unwrap().is_some(), "B's live bob stays");
}
