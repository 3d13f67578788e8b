//! # stratus — the command line of a Stratus deployment
//!
//! Thin: each command parses its arguments here and calls one module.
//!
//! Layout:
//! - [`api`]   — the REST API as an app's backend calls it: minting tokens with app
//!   credentials, reading rooms; errors in the shared JSON shape become [`api::Failure`].
//! - [`nodes`] — the media-node registry read and marked through the deployment's table
//!   (operator access: AWS credentials, not an app's).
//! - [`load`]  — `load-test`: rooms of WebRTC peers, P2P relay pairs and call churn for a
//!   duration, measured.
//! - [`report`] — percentiles and the table / JSON a load test prints.

mod api;
mod load;
mod nodes;
mod report;

use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "stratus",
    version,
    about = "Tokens, rooms, media nodes and load tests for a Stratus deployment",
    long_about = "Tokens, rooms, media nodes and load tests for a Stratus deployment.\n\n\
        Point it at a deployment with --url (the REST API's base URL: the local stack's \
        http://127.0.0.1:8080 by default, or the ApiUrl output of `sam deploy`) and the \
        app's credentials (--api-key / --api-secret, or STRATUS_API_KEY / STRATUS_API_SECRET). \
        `nodes` reads the deployment's table instead, with AWS credentials."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the REST API is and which app to act as.
#[derive(Args, Clone, Debug)]
pub struct Target {
    /// The REST API's base URL.
    #[arg(long, env = "STRATUS_URL", default_value = "http://127.0.0.1:8080", global = true)]
    pub url: String,
    /// The app's key (the local stack's development app is `dev`).
    #[arg(long, env = "STRATUS_API_KEY", default_value = "dev", global = true)]
    pub api_key: String,
    /// The app's secret (the local stack prints its development app's secret at start).
    #[arg(long, env = "STRATUS_API_SECRET", hide_env_values = true, global = true)]
    pub api_secret: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Access tokens for an app's users.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Group rooms of the app (as an admin of it).
    #[command(subcommand)]
    Rooms(RoomsCmd),
    /// The media-node fleet, from the deployment's table.
    #[command(subcommand)]
    Nodes(NodesCmd),
    /// Rooms of WebRTC peers, P2P relay and call churn against a deployment, for a while.
    LoadTest(Box<load::Plan>),
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Mint an access token (and its refresh token) for a user.
    Create {
        #[command(flatten)]
        target: Target,
        /// The user the token is for.
        #[arg(long)]
        user: String,
        /// May publish media in SFU rooms.
        #[arg(long)]
        publish: bool,
        /// May subscribe to media in SFU rooms.
        #[arg(long)]
        subscribe: bool,
        /// Limit the token to this one room.
        #[arg(long)]
        room: Option<String>,
        /// An admin of the app: sees all its rooms.
        #[arg(long)]
        admin: bool,
        /// Access-token lifetime (e.g. `15m`, `1h`); the server's default when absent, capped
        /// by its maximum.
        #[arg(long, value_parser = humantime::parse_duration)]
        ttl: Option<Duration>,
        /// Print the whole response (access and refresh token, expiry) as JSON instead of
        /// the access token alone.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum RoomsCmd {
    /// Every room of the app with its participant count and node.
    List {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        json: bool,
    },
    /// One room and its members.
    Show {
        #[command(flatten)]
        target: Target,
        room: String,
        #[arg(long)]
        json: bool,
    },
}

/// The deployment's table: DynamoDB with the ambient AWS credentials, or a compatible
/// endpoint (moto, DynamoDB Local).
#[derive(Args, Clone, Debug)]
pub struct Store {
    /// The table (the stack's `TableName` output).
    #[arg(long, env = "STRATUS_TABLE", default_value = stratus_core::store::schema::MAIN.default_name)]
    pub table: String,
    /// A DynamoDB-compatible endpoint instead of AWS's.
    #[arg(long, env = "STRATUS_DYNAMODB_ENDPOINT")]
    pub dynamodb_endpoint: Option<String>,
}

#[derive(Subcommand)]
enum NodesCmd {
    /// Registered nodes: load, capacity, draining, last heartbeat, and whether the functions
    /// could reach them.
    List {
        #[command(flatten)]
        store: Store,
        #[arg(long)]
        json: bool,
    },
    /// Ask a node to drain: it takes no new rooms, hands its rooms over and exits (as on
    /// SIGTERM), at its next heartbeat.
    Drain {
        #[command(flatten)]
        store: Store,
        node: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::LoadTest(plan) => return load::run(*plan).await,
        other => run(other).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stratus: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Token(TokenCmd::Create { target, user, publish, subscribe, room, admin, ttl, json }) => {
            let grants = stratus_protocol::auth::Grants {
                room: room.map(Into::into),
                can_publish: publish,
                can_subscribe: subscribe,
                admin,
            };
            let t = api::Api::new(&target)?.mint(&user, grants, ttl).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&t).expect("a token response serializes"));
            } else {
                println!("{}", t.access_token);
            }
            Ok(())
        }
        Command::Rooms(RoomsCmd::List { target, json }) => api::Api::new(&target)?.print_rooms(json).await,
        Command::Rooms(RoomsCmd::Show { target, room, json }) => api::Api::new(&target)?.print_room(&room, json).await,
        Command::Nodes(NodesCmd::List { store, json }) => nodes::list(&store, json).await,
        Command::Nodes(NodesCmd::Drain { store, node }) => nodes::drain(&store, &node).await,
        Command::LoadTest(_) => unreachable!("handled by main"),
    }
}
