//! The local stack answers browsers from other origins as the deployed HTTP API does: the
//! preflight and the response headers follow `CorsConfiguration` in template.yaml.

use stratus_tests::local::LocalStack;

const BIN: &str = env!("CARGO_BIN_EXE_stratus-local");

fn template_cors() -> serde_yaml::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let doc: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"].clone()
}

fn list(v: &serde_yaml::Value) -> Vec<String> {
    v.as_sequence().unwrap().iter().map(|x| x.as_str().unwrap().to_ascii_lowercase()).collect()
}

fn header_list(r: &reqwest::Response, name: &str) -> Vec<String> {
    let mut v: Vec<String> = r
        .headers()
        .get_all(name)
        .iter()
        .flat_map(|h| h.to_str().unwrap().split(',').map(|s| s.trim().to_ascii_lowercase()).collect::<Vec<_>>())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn other_origins_get_the_http_apis_cors_answers() {
    let want = template_cors();
    let local = LocalStack::start(BIN, &[], &[]).await;
    let http = reqwest::Client::new();
    let origin = "http://localhost:5173";

    let pre = http
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/calls", local.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success(), "preflight answered {}", pre.status());
    assert_eq!(pre.headers()["access-control-allow-origin"], "*");
    let mut methods = list(&want["AllowMethods"]);
    methods.sort();
    let mut got: Vec<String> = header_list(&pre, "access-control-allow-methods");
    got.iter_mut().for_each(|m| *m = m.to_ascii_lowercase());
    assert_eq!(got, methods);
    let mut headers = list(&want["AllowHeaders"]);
    headers.sort();
    assert_eq!(header_list(&pre, "access-control-allow-headers"), headers);
    assert_eq!(pre.headers()["access-control-max-age"].to_str().unwrap(), want["MaxAge"].as_u64().unwrap().to_string());

    let get = http.get(format!("{}/health", local.base)).header("origin", origin).send().await.unwrap();
    assert_eq!(get.status(), 200);
    assert_eq!(get.headers()["access-control-allow-origin"], "*");
    let mut expose = list(&want["ExposeHeaders"]);
    expose.sort();
    assert_eq!(header_list(&get, "access-control-expose-headers"), expose);
}
