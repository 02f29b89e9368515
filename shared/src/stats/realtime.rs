//! Realtime figures from the aggregator's per-minute items: visitors now (distinct
//! sessions with a human event in the last [`VISITOR_MINUTES`] minutes) and page views per
//! minute over the last [`MINUTES`]. One batch read of [`MINUTES`] small items, whatever
//! the site's traffic; the figures lag the stream by its batching window.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, DurationRound, SecondsFormat, Utc};
use serde::Serialize;

use super::query::Counters;
use super::schema::{attr, minute_key, partition};
use crate::store::{Db, ReadCost, StoreError};

/// Minutes of page views shown.
pub const MINUTES: i64 = 30;
/// Minutes a visitor counts as "now".
pub const VISITOR_MINUTES: i64 = 5;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct MinuteCount {
    /// The minute's start, RFC 3339 in UTC.
    pub minute: String,
    pub count: u64,
}

/// `GET /api/events/:site_id/realtime`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Realtime {
    pub visitors: u64,
    /// Oldest first, zeros included.
    pub pageviews: Vec<MinuteCount>,
    pub as_of: String,
}

/// The realtime figures of a site generation at `now`.
pub async fn realtime(
    db: &Db,
    site_id: u64,
    generation: u64,
    now: DateTime<Utc>,
) -> Result<(Realtime, ReadCost), StoreError> {
    let pk = partition(site_id, generation);
    let this_minute = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    let minutes: Vec<DateTime<Utc>> = (0..MINUTES)
        .rev()
        .map(|back| this_minute - Duration::minutes(back))
        .collect();
    let sks: Vec<String> = minutes.iter().map(|m| minute_key(*m)).collect();
    let mut cost = ReadCost::default();
    let raw = db.stats_items(&pk, &sks, &mut cost).await?;
    let items = Counters::decode(&pk, &raw)?;
    let mut sessions: BTreeSet<u64> = BTreeSet::new();
    let mut pageviews = Vec::with_capacity(minutes.len());
    for (minute, sk) in minutes.iter().zip(&sks) {
        let item = items.get(sk);
        if this_minute - *minute < Duration::minutes(VISITOR_MINUTES)
            && let Some(set) = item.and_then(|i| i.sets.get(attr::MINUTE_SESSIONS))
        {
            sessions.extend(set);
        }
        pageviews.push(MinuteCount {
            minute: minute.to_rfc3339_opts(SecondsFormat::Secs, true),
            count: item.map_or(0, |i| i.count(attr::PV)),
        });
    }
    Ok((
        Realtime {
            visitors: sessions.len() as u64,
            pageviews,
            as_of: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        },
        cost,
    ))
}
