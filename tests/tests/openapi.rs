//! docs/openapi.yaml documents every REST route, and each documented route answers on the
//! real router (an unknown path would get 404 NOT_FOUND; a wrong method 405).

use axum::http::Method;
use stratus_tests::rest::TestApi;

#[tokio::test]
async fn every_documented_route_exists_on_the_router() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("openapi parses");
    let api = TestApi::memory();
    let mut count = 0;
    for (path, ops) in doc["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap().replace("{id}", "x1").replace("{user_id}", "u1");
        for (method, _) in ops.as_mapping().unwrap() {
            let m = Method::from_bytes(method.as_str().unwrap().to_uppercase().as_bytes()).unwrap();
            let r = api.call(m.clone(), &path, None, None).await;
            assert!(
                ![404u16, 405].contains(&r.status.as_u16()) || r.body["error"]["code"] == "CALL_NOT_FOUND",
                "{m} {path} is documented but the router answers {}",
                r.text
            );
            count += 1;
        }
    }
    assert_eq!(count, 23, "documented operations");
}
