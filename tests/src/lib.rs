//! # stratus-tests
//!
//! What the behaviour tests in `tests/tests/` share. Tests drive the real entry points
//! (router, Lambda binaries, local stack) against real servers.
//!
//! Layout:
//! - [`apigw`]       — a recording stand-in for API Gateway's `@connections` API.
//! - [`aws`]         — the AWS endpoint harness: `$STRATUS_TEST_AWS_ENDPOINT`/`$AWS_ENDPOINT_URL`
//!   if set, else a `moto` server started on a free loopback port (stopped when the test
//!   process exits), or LocalStack through testcontainers (feature `localstack`).
//! - [`browser`]     — the Chromium scenarios of `clients/js/test`, run from Rust tests.
//! - [`conformance`] — the store conformance suite; `conformance_suite!` instantiates it for
//!   one `Table` factory, so the embedded and DynamoDB stores run the very same cases.
//! - [`fault`]       — `Faulty`, a store wrapper injecting errors and latency on chosen
//!   operations (the fault tests).
//! - [`lambda`]      — a Lambda Runtime API emulator that runs real function binaries, and
//!   the API Gateway event fixtures in `tests/fixtures/`.
//! - [`light_rx`]    — a cheap receive-only WebRTC peer (real handshakes, RTP counted off the
//!   socket) for load tools: the fan-out bench and `stratus load-test`.
//! - [`link`]        — an HTTP link to moto a test can cut (down, hanging) or stop at a chosen
//!   write, so a real process loses its store mid-flow.
//! - [`local`]       — the local stack binary started on a free port, as a user runs it.
//! - [`netns`]       — hosts that cannot reach each other (network namespaces, veth),
//!   sharing one address where coturn runs.
//! - [`turn`]        — coturn with the TURN REST API's shared secret, for the relay tests.
//! - [`node`]        — workspace binaries located next to the running test, and the media
//!   node started as a loopback fleet node.
//! - [`peer`]        — real WebRTC peers (the async `webrtc` crate) driving a media node's
//!   signed control API: a numbered-packet publisher and a recording subscriber.
//! - [`wsclient`]    — a WebSocket client speaking the signaling envelope.
//! - [`sfu_client`]  — a client of the WebSocket SFU dialect (requests by `requestId`, events),
//!   usable as the peers' [`peer::Signal`].
//! - [`rest`]        — `TestApi`: the real REST router on either store, called in-process.
//! - [`sink`]        — `RecordingSink`, an in-process sink for router tests.
//! - [`template`]    — `template.yaml` compared with the table definitions and binaries.

pub mod apigw;
pub mod aws;
pub mod browser;
pub mod conformance;
pub mod fault;
pub mod lambda;
pub mod light_rx;
pub mod link;
pub mod local;
pub mod netns;
pub mod node;
pub mod objects;
pub mod peer;
pub mod rest;
pub mod sfu_client;
pub mod sink;
pub mod template;
pub mod turn;
pub mod wsclient;
