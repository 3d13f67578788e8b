//! `GET /api/v1/ice-servers` through the real router: TURN credentials in the TURN REST API
//! style that coturn checks, never expired when handed out, only for a signed-in user, rate
//! limited; STUN only (and saying so) without TURN.

use stratus_api::AppState;
use stratus_core::auth::Secret;
use stratus_core::clock::Clock;
use stratus_core::ice::{IceConfig, turn_credential};
use stratus_tests::rest::TestApi;

const SECRET: &str = "coturn-static-auth-secret";

fn turn(s: AppState) -> AppState {
    s.with_ice(
        IceConfig::new(
            vec!["stun:198.51.100.7:3478".into()],
            vec![
                "turn:198.51.100.7:3478?transport=udp".into(),
                "turn:198.51.100.7:3478?transport=tcp".into(),
                "turns:turn.example.com:443?transport=tcp".into(),
            ],
            Some(Secret::new(SECRET)),
            3600,
        )
        .unwrap(),
    )
}

async fn hands_out_turn_credentials_for_the_caller_that_have_not_expired(api: TestApi) {
    let alice = api.token("alice").await;
    let r = api.get("/api/v1/ice-servers", Some(&alice)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["relay"].as_bool(), r.body["ttl_seconds"].as_i64()), (Some(true), Some(3600)));
    assert!(r.body.get("note").is_none());
    let servers = r.body["ice_servers"].as_array().unwrap();
    assert_eq!(servers[0]["urls"][0], "stun:198.51.100.7:3478");
    assert!(servers[0].get("credential").is_none());
    let t = &servers[1];
    assert_eq!(t["urls"].as_array().unwrap().len(), 3);
    let username = t["username"].as_str().unwrap();
    let (expiry, user) = username.split_once(':').unwrap();
    assert_eq!(user, "alice", "the token's user, not a name from the request");
    let expiry: i64 = expiry.parse().unwrap();
    assert_eq!(expiry, api.clock.now_secs() + 3600);
    assert_eq!(t["credential"].as_str().unwrap(), turn_credential(SECRET.as_bytes(), username));
    assert!(!r.text.contains(SECRET), "the secret never leaves the server");

    // Later, a fresh one: never an expired credential.
    api.clock.advance_secs(3000);
    let later = api.get("/api/v1/ice-servers", Some(&api.token("alice").await)).await;
    let u = later.body["ice_servers"][1]["username"].as_str().unwrap().to_owned();
    let exp: i64 = u.split_once(':').unwrap().0.parse().unwrap();
    assert!(exp > api.clock.now_secs() + 3000, "{u}");
}
stratus_tests::on_both_stores_with!(credentials, turn, hands_out_turn_credentials_for_the_caller_that_have_not_expired);

async fn refuses_callers_without_a_valid_token_and_limits_the_rate(api: TestApi) {
    api.get("/api/v1/ice-servers", None).await.assert_error(401, "AUTH_TOKEN_MISSING");
    let good = api.token("bob").await;
    let forged = format!("{}x", &good[..good.len() - 1]);
    api.get("/api/v1/ice-servers", Some(&forged)).await.assert_error(401, "AUTH_TOKEN_INVALID");
    api.clock.advance_secs(2 * 24 * 3600);
    api.get("/api/v1/ice-servers", Some(&good)).await.assert_error(401, "AUTH_TOKEN_EXPIRED");

    let t = api.token("bob").await;
    for i in 0..stratus_core::ratelimit::ICE_SERVERS.per_minute {
        let r = api.get("/api/v1/ice-servers", Some(&t)).await;
        assert_eq!(r.status, 200, "request {i}: {}", r.text);
    }
    let r = api.get("/api/v1/ice-servers", Some(&t)).await;
    r.assert_error(429, "RATE_LIMITED");
    assert!(r.headers.get("retry-after").is_some());
    // Another user is not limited by bob's requests.
    assert_eq!(api.get("/api/v1/ice-servers", Some(&api.token("carol").await)).await.status, 200);
}
stratus_tests::on_both_stores_with!(
    authorization_and_rate,
    turn,
    refuses_callers_without_a_valid_token_and_limits_the_rate
);

#[tokio::test]
async fn without_turn_the_route_answers_stun_only_and_says_so() {
    let api = TestApi::memory_with(|s| {
        s.with_ice(IceConfig::new(vec!["stun:stun.example.com:3478".into()], vec![], None, 600).unwrap())
    });
    let r = api.get("/api/v1/ice-servers", Some(&api.token("alice").await)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["relay"], false);
    assert!(r.body["note"].as_str().unwrap().contains("STUN only"));
    assert_eq!(r.body["ice_servers"].as_array().unwrap().len(), 1);
    assert!(r.body["ice_servers"][0].get("username").is_none());
    let none = TestApi::memory();
    let r = none.get("/api/v1/ice-servers", Some(&none.token("alice").await)).await;
    assert_eq!((r.body["relay"].as_bool(), r.body["ice_servers"].as_array().map(Vec::len)), (Some(false), Some(0)));
}
