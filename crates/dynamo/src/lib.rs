//! # stratus-dynamo
//!
//! The production store: [`DynamoTable`] implements `stratus_core::store::Table` on DynamoDB
//! with the same semantics as the embedded twin (the conformance suite in `stratus-tests`
//! runs against both, the DynamoDB run against moto or any LocalStack-compatible endpoint).
//!
//! Layout:
//! - [`convert`] — `Value` ⇄ `AttributeValue`.
//! - [`expr`]    — condition, update and key expressions with their name/value placeholders,
//!   including the TTL guard that makes DynamoDB's lazy expiry exact.
//! - [`table`]   — `DynamoTable`, the `Table` implementation.
//! - [`admin`]   — SDK client construction and table creation from the schema (local stack,
//!   tests; production tables come from `template.yaml`).
//! - [`management`] — `ConnectionSink` on the API Gateway Management API, shared by the
//!   functions and the media nodes (both push to clients' WebSocket connections).
//! - [`s3`]      — `ObjectStore` on S3: presigned uploads and downloads, the pending tag.

pub mod admin;
pub mod convert;
pub mod expr;
pub mod management;
pub mod s3;
pub mod table;

pub use admin::{client, client_from, create_table};
pub use table::DynamoTable;
