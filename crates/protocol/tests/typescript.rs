//! The SDK's committed wire types (clients/js/src/wire.ts) are what the Rust types render to.

use std::path::PathBuf;

#[test]
fn the_sdk_wire_types_match_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../clients/js/src/wire.ts");
    let want = stratus_protocol::typescript::render();
    if std::env::var_os("STRATUS_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        let line = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(have.lines().count().min(want.lines().count()));
        panic!(
            "clients/js/src/wire.ts differs from the Rust protocol types from line {}:\n  committed: {:?}\n  generated: {:?}\n\
             regenerate with `STRATUS_BLESS=1 cargo test -p stratus-protocol --test typescript`, then rebuild the SDK (npm run build in clients/js)",
            line + 1,
            have.lines().nth(line).unwrap_or("<end>"),
            want.lines().nth(line).unwrap_or("<end>"),
        );
    }
}
