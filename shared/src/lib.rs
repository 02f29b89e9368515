//! Pingoo's shared library: what every Lambda function uses.
//!
//! - [`config`]: environment variables, with safe local defaults and strict production rules.
//! - [`error`]: the one error type, mapped to HTTP status and the `{code, msg, data}` envelope.
//! - [`auth`]: passwords (argon2id), tokens (JWT), account operations.
//! - [`sites`]: site validation and operations.
//! - [`store`]: DynamoDB tables and items.
//! - [`http`]: extractors, common layers, the Lambda entry point.

pub mod auth;
pub mod aws;
pub mod clock;
pub mod collect;
pub mod config;
pub mod enrich;
pub mod envelope;
pub mod error;
pub mod events;
pub mod export;
pub mod http;
pub mod ids;
pub mod model;
pub mod openapi;
pub mod purge;
pub mod shares;
pub mod sites;
pub mod state;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod time;

pub use error::ApiError;
pub use state::AppState;
