//! `cargo run -p stratus-local` (or plain `cargo run`): the platform on loopback.

use clap::Parser;

#[tokio::main]
async fn main() {
    stratus_api::telemetry::init();
    let opts = stratus_local::Options::parse();
    let demo = !opts.no_demo;
    let running = match stratus_local::start(opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("stratus-local: {e}");
            std::process::exit(1);
        }
    };
    let base = format!("http://{}", running.addr);
    // The banner goes to stderr so stdout stays one JSON log line per event.
    eprintln!(
        "\nStratus local stack\n\
         \x20 listening on {base}\n\
         \x20 websocket: ws://{addr}/ws?token=<access token>\n\
         \x20 management API: {base}/ws/@connections/{{id}}, SigV4 with access key {mgmt} \
         (secret: --ws-management-credentials)\n\
         \x20 store: {store}\n\
         \x20 media nodes: {media}\n\
         \x20 development app (this mode only): key={key} secret={secret}\n\
         \x20 demo app: {demo}\n\n\
         Mint a token:\n\
         \x20 curl -s {base}/auth/token -H 'content-type: application/json' \\\n\
         \x20   -d '{{\"app_key\":\"{key}\",\"app_secret\":\"{secret}\",\"user_id\":\"alice\",\"grants\":{{\"canPublish\":true,\"canSubscribe\":true}}}}'\n\
         Health: curl -s {base}/health\n",
        addr = running.addr,
        store = running.store,
        media = if running.media_nodes.is_empty() {
            "none in this process (--media-nodes 0)".to_owned()
        } else {
            running
                .media_nodes
                .iter()
                .map(|n| {
                    let udp: Vec<String> = n.media.iter().map(|a| a.to_string()).collect();
                    let reach = if n.media.iter().all(|a| a.ip().is_loopback()) {
                        "; reachable from this machine only: --media-public-ip <address> for other hosts"
                    } else {
                        ""
                    };
                    format!("{} (control http://{}, media udp {}{reach})", n.id, n.control, udp.join(","))
                })
                .collect::<Vec<_>>()
                .join("; ")
        },
        demo = match (demo, running.demo_token) {
            (false, _) => "off (--no-demo)".to_owned(),
            (true, true) if !running.addr.ip().is_loopback() => format!(
                "{base}/  (1:1 calls: {base}/demo/call.html)\n  WARNING: /demo/token mints publishing tokens for \
                 anyone who can reach {addr} (--public-demo-token)",
                addr = running.addr
            ),
            (true, true) => format!("{base}/  (1:1 calls: {base}/demo/call.html)"),
            (true, false) => format!(
                "{base}/  (its token route /demo/token is refused: {addr} is not a loopback address; \
                 --public-demo-token serves it to anyone who can reach the port)",
                addr = running.addr
            ),
        },
        key = running.app_key,
        mgmt = running.management.access_key,
        secret = running.app_secret,
    );
    match running.server.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("stratus-local: server error: {e}");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("stratus-local: server task failed: {e}");
            std::process::exit(1);
        }
    }
}
