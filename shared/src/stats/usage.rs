//! Per-site figures for the site list (today and the last 7 days) and a month's usage
//! with its estimated cost, all from day counter items (no raw events).

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;

use super::query::{Counters, DailyPoint, DayFigures};
use super::schema::{self, day_key, partition};
use crate::store::{Db, ReadCost, StoreError};

/// Days of figures each listed site carries.
pub const RECENT_DAYS: u64 = 7;

/// What docs/cost.md puts a million ingested events at, with the template's defaults:
/// API Gateway, Lambda, the raw event's and the counters' writes, logs.
pub const USD_PER_MILLION_EVENTS: f64 = 2.21;
/// Where that figure comes from and what it leaves out.
pub const PRICE_BASIS: &str = "docs/cost.md, us-east-1 prices of 2026-11-24: $2.21 per million \
ingested events with the beacon behind API Gateway (API Gateway, Lambda, the site lookup, \
DynamoDB writes of the event and its counters, CloudWatch logs; $1.11 with \
BeaconEndpoint=FunctionUrl); excludes storage, dashboard reads, the fixed monthly alarms and \
secret, and any free tier";

/// A listed site's recent figures (`GET /api/sites?include=summary`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct RecentFigures {
    /// Today's, in the site's time zone.
    pub pv: u64,
    pub uv: u64,
    /// The last [`RECENT_DAYS`] days, oldest first, today last.
    pub daily: Vec<DailyPoint>,
}

/// The recent figures of several sites (`(id, generation, today)` each), read in
/// concurrent batch reads of 100 items for the whole list.
pub async fn recent(
    db: &Db,
    sites: &[(u64, u64, NaiveDate)],
) -> Result<(HashMap<u64, RecentFigures>, ReadCost), StoreError> {
    let mut keys = Vec::with_capacity(sites.len() * RECENT_DAYS as usize);
    let mut wanted = Vec::with_capacity(sites.len());
    for (id, generation, today) in sites {
        let pk = partition(*id, *generation);
        let from = today
            .checked_sub_days(Days::new(RECENT_DAYS - 1))
            .unwrap_or(*today);
        let days: Vec<NaiveDate> = from.iter_days().take_while(|d| d <= today).collect();
        for d in &days {
            keys.push((pk.clone(), day_key(*d)));
        }
        wanted.push((*id, pk, days));
    }
    let mut cost = ReadCost::default();
    let raw = db.stats_items_of(&keys, &mut cost).await?;
    let mut out = HashMap::new();
    for (id, pk, days) in wanted {
        let mut figures = RecentFigures::default();
        for d in &days {
            let sk = day_key(*d);
            let item = match raw.get(&(pk.clone(), sk.clone())) {
                Some(item) => Some(schema::CounterItem::decode(&pk, &sk, item)?),
                None => None,
            };
            let f = DayFigures::from_item(item.as_ref());
            figures.pv = f.pv;
            figures.uv = f.uv;
            figures.daily.push(DailyPoint {
                date: d.format("%Y%m%d").to_string(),
                pv: f.pv,
                uv: f.uv,
            });
        }
        out.insert(id, figures);
    }
    Ok((out, cost))
}

/// `GET /api/sites/:id/usage`.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Usage {
    /// `yyyymm`.
    pub month: String,
    /// Every event stored: page views, custom events and bots.
    pub events: u64,
    pub page_views: u64,
    pub custom_events: u64,
    pub bot_events: u64,
    pub estimated_cost_usd: f64,
    pub price_basis: &'static str,
}

/// The usage of the month starting on `first` (one batch read of its day items).
pub async fn usage(
    db: &Db,
    site_id: u64,
    generation: u64,
    first: NaiveDate,
) -> Result<(Usage, ReadCost), StoreError> {
    let pk = partition(site_id, generation);
    let days: Vec<NaiveDate> = first
        .iter_days()
        .take_while(|d| d.month() == first.month())
        .collect();
    let sks: Vec<String> = days.iter().map(|d| day_key(*d)).collect();
    let mut cost = ReadCost::default();
    let items = Counters::decode(&pk, &db.stats_items(&pk, &sks, &mut cost).await?)?;
    let (mut pv, mut ev, mut bot) = (0, 0, 0);
    for sk in &sks {
        let f = DayFigures::from_item(items.get(sk));
        pv += f.pv;
        ev += f.event_count;
        bot += f.bots;
    }
    let events = pv + ev + bot;
    let cost_usd = (events as f64 * USD_PER_MILLION_EVENTS / 1e6 * 10_000.0).round() / 10_000.0;
    Ok((
        Usage {
            month: first.format("%Y%m").to_string(),
            events,
            page_views: pv,
            custom_events: ev,
            bot_events: bot,
            estimated_cost_usd: cost_usd,
            price_basis: PRICE_BASIS,
        },
        cost,
    ))
}
