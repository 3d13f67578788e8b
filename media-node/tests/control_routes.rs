//! Every control route crates/protocol declares is served by the node: a signed request on
//! it reaches its handler (which answers, or refuses in the shared error shape), never the
//! router's bare 404 or 405.

mod common;

use common::start_node;
use serde_json::{Value, json};
use stratus_protocol::control::ALL;

#[tokio::test]
async fn every_declared_control_route_reaches_its_handler() {
    let t = start_node(1).await;
    for route in ALL {
        let args = vec!["nope"; route.arity()];
        let path = route.path(&args);
        let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
        let body = (route.method != "GET" && route.method != "DELETE").then(|| json!({}));
        let res: Result<Value, (u16, Value)> = t.node.call(method, &path, body.as_ref()).await;
        match res {
            Ok(_) => {}
            // 2xx without a JSON body (204) comes back as an error with that status.
            Err((s, _)) if (200..300).contains(&s) => {}
            Err((s, b)) => {
                assert_ne!(s, 405, "{} {path}: method not served", route.method);
                assert!(b["error"]["code"].is_string(), "{} {path}: {s} without the error shape: {b}", route.method);
            }
        }
    }
    // And the router does answer 404 without the handler's error shape off the declared routes,
    // so the check above can tell the two apart.
    let res: Result<Value, (u16, Value)> = t.node.get("/v1/rooms/nope/participants/nope/elsewhere").await;
    let (s, b) = res.unwrap_err();
    assert_eq!(s, 404);
    assert!(!b["error"]["code"].is_string(), "{b}");
}
