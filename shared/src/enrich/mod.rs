//! Server-side enrichment of events: user agent → device, browser, os, bot; IP → location.

pub mod geo;
pub mod ip;
pub mod user_agent;
