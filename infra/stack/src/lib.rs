//! The local stand-in stack, with `template.yaml` as the one source of truth for tables.
//!
//! - [`template`]: reads the DynamoDB tables declared in `template.yaml`.
//! - [`bootstrap`]: creates those tables (and the GeoIP bucket) on DynamoDB Local and moto.
//! - [`testkit`]: per-test tables and an HTTP driver for integration tests.

pub mod bootstrap;
pub mod template;
pub mod testkit;
