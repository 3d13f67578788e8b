//! Every REST route (from the router's own table) with any body, with and without a valid
//! token, through the real router on the embedded store: refused with a 4xx (or 503 where a
//! fleet is needed), never a 500 or a panic.

#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tower::ServiceExt;

#[path = "common.rs"]
mod common;

struct World {
    router: axum::Router,
    token: String,
    routes: Vec<stratus_api::routes::Route>,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let (graph, clock) = common::graph();
        let token = common::access_token(&clock, "fuzzer");
        World { router: stratus_api::router(graph.state), token, routes: stratus_api::routes::list() }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let w = world();
    let route = &w.routes[usize::from(pick & 0x7f) % w.routes.len()];
    // Path parameters from the input's first line, the body after it.
    let (param, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&b"x"[..], rest),
    };
    let param: String = String::from_utf8_lossy(param)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.~".contains(c) { c } else { 'x' })
        .take(200)
        .collect();
    let param = if param.is_empty() { "x".to_owned() } else { param };
    let mut path = String::new();
    for seg in route.path.split('/').filter(|s| !s.is_empty()) {
        path.push('/');
        path.push_str(if seg.starts_with('{') { &param } else { seg });
    }
    let mut req = http::Request::builder().method(route.method.clone()).uri(&path);
    if pick & 0x80 != 0 {
        req = req.header("authorization", format!("Bearer {}", w.token));
    }
    let req = req.header("content-type", "application/json").body(axum::body::Body::from(body.to_vec())).unwrap();
    let res = common::runtime().block_on(w.router.clone().oneshot(req)).unwrap();
    let status = res.status().as_u16();
    assert!(status < 500 || status == 503, "{} {path} answered {status}", route.method);
});
