//! The container image definition builds this binary, in two stages, and runs it as a
//! non-root user. (This machine has no Docker engine, so the image itself is not built here.)

#[test]
fn the_image_is_multi_stage_non_root_and_runs_the_media_node() {
    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/Dockerfile.media-node")).unwrap();
    let froms: Vec<&str> = dockerfile.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "a build stage and a runtime stage");
    assert!(froms[1].contains("distroless") && froms[1].contains("nonroot"), "{}", froms[1]);
    assert!(dockerfile.contains(&format!("cargo build --release -p {}", env!("CARGO_PKG_NAME"))));
    let user = dockerfile.lines().rfind(|l| l.starts_with("USER ")).expect("a USER line");
    assert!(!user.contains("root") && !user.contains(" 0"), "{user}");
    assert!(dockerfile.contains(&format!("ENTRYPOINT [\"/usr/local/bin/{}\"]", "stratus-media-node")));
    assert!(
        dockerfile.contains("CMD [\"/usr/local/bin/stratus-media-node\", \"healthcheck\"]"),
        "the health check runs the binary's own check (no shell in distroless)"
    );
}
