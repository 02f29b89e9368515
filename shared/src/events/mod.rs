//! Events: ids, validation, enrichment on ingest, listing.

pub mod id;
pub mod ingest;
pub mod model;
pub mod retention;
pub mod service;
pub mod validate;

pub use model::{Event, EventView, ListedEvent};
