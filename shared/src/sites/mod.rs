//! Sites: the websites a user tracks.

pub mod cache;
pub mod domain;
pub mod service;

pub use service::{SiteList, SiteView};
