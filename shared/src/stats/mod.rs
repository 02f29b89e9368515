//! Statistics: what the aggregator counts from the events stream, and how it is read.
//!
//! - [`facts`]: what one event adds (the single definition of every figure);
//! - [`schema`]: the stats table's item families, keys, attributes and typed items;
//! - [`apply`]: how each family is written exactly once per stream record;
//! - [`aggregate`]: the stream handler, one coalesced write per item per batch;
//! - [`query`]: summaries from a fixed number of items;
//! - [`rankings`]: rankings of a day or a range, one type or a breakdown;
//! - [`realtime`]: visitors now and page views per minute;
//! - [`usage`]: the site list's recent figures and a month's usage and cost;
//! - [`service`]: the two endpoints' parameters and ownership checks;
//! - [`recount`]: rebuild or check counters from raw events;
//! - [`sessions`], [`sketch`]: a day's sessions and distinct counts (in tier items, see
//!   [`schema::tiers`]).

pub mod aggregate;
pub mod apply;
pub mod facts;
pub mod query;
pub mod rankings;
pub mod realtime;
pub mod recount;
pub mod schema;
pub mod service;
pub mod sessions;
pub mod sketch;
pub mod usage;
