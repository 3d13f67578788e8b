//! docs/openapi.yaml documents exactly the routes the router is built from
//! (`stratus_api::routes::list`), and each documented route answers on the real router (an
//! unknown path would get 404 NOT_FOUND; a wrong method 405).

use axum::http::Method;
use stratus_tests::rest::TestApi;

#[tokio::test]
async fn every_documented_route_exists_on_the_router() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("openapi parses");
    let api = TestApi::memory();
    let mut documented = std::collections::BTreeSet::new();
    for (path, ops) in doc["paths"].as_mapping().unwrap() {
        let template = path.as_str().unwrap();
        let path = template.replace("{id}", "x1").replace("{user_id}", "u1");
        for (method, _) in ops.as_mapping().unwrap() {
            let m = Method::from_bytes(method.as_str().unwrap().to_uppercase().as_bytes()).unwrap();
            documented.insert((m.to_string(), template.to_owned()));
            let r = api.call(m.clone(), &path, None, None).await;
            assert!(
                ![404u16, 405].contains(&r.status.as_u16()) || r.body["error"]["code"] == "CALL_NOT_FOUND",
                "{m} {path} is documented but the router answers {}",
                r.text
            );
        }
    }
    let served: std::collections::BTreeSet<(String, String)> =
        stratus_api::routes::list().iter().map(|r| (r.method.to_string(), r.path.to_owned())).collect();
    assert_eq!(documented, served, "documented operations are the router's");
}
