//! Rankings read from the counters: one day's or a range's, one type or a breakdown of
//! several. A range sums its days' ranking items; every read is one item per ranking item
//! and day, whatever the traffic.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use super::facts::StatType;
use super::query::Counters;
use super::schema::{self, CounterItem, partition, rank_key};
use crate::store::{Db, ReadCost, StoreError};

/// Rows per ranking page by default (as the original product).
pub const PAGE_SIZE: usize = 10;
/// Most rows per page, and most keys per breakdown panel.
pub const MAX_PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct KeyCount {
    pub key: String,
    pub count: u64,
}

/// `GET /api/events/:site_id/stats`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Ranking {
    pub list: Vec<KeyCount>,
    pub total: usize,
    pub page: usize,
    pub page_size: usize,
}

/// Every key of one stat type in a ranking item with its count, counts descending, ties
/// by key.
pub fn ranked(item: Option<&CounterItem>, stat: StatType) -> Vec<KeyCount> {
    let mut rows: Vec<KeyCount> = item
        .map(|item| {
            item.numbers
                .iter()
                .filter_map(|(attr, count)| {
                    let key = schema::rank_key_of(attr, stat)?;
                    let count = u64::try_from(*count).ok().filter(|c| *c > 0)?;
                    Some(KeyCount {
                        key: key.to_owned(),
                        count,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    rows
}

/// One page of one day's ranking: a single item read.
pub async fn ranking(
    db: &Db,
    site_id: u64,
    generation: u64,
    day: NaiveDate,
    stat: StatType,
    page: usize,
) -> Result<(Ranking, ReadCost), StoreError> {
    ranking_range(db, site_id, generation, day, day, stat, page, PAGE_SIZE).await
}

/// One page of a ranking over the days `from..=to`: one item read per day.
#[allow(clippy::too_many_arguments)]
pub async fn ranking_range(
    db: &Db,
    site_id: u64,
    generation: u64,
    from: NaiveDate,
    to: NaiveDate,
    stat: StatType,
    page: usize,
    page_size: usize,
) -> Result<(Ranking, ReadCost), StoreError> {
    let (mut all, cost) = rankings(db, site_id, generation, from, to, &[stat]).await?;
    let rows = all.remove(&stat).unwrap_or_default();
    let total = rows.len();
    let list = rows
        .into_iter()
        .skip(page.saturating_sub(1).saturating_mul(page_size))
        .take(page_size)
        .collect();
    Ok((
        Ranking {
            list,
            total,
            page,
            page_size,
        },
        cost,
    ))
}

/// Every key of each asked ranking over the days `from..=to`, counts summed over the days
/// (exact; keys a day counted under `(other)` stay there), counts descending, ties by key.
/// Reads each ranking item once per day (the small rankings share one), in batches of
/// 100 keys.
pub async fn rankings(
    db: &Db,
    site_id: u64,
    generation: u64,
    from: NaiveDate,
    to: NaiveDate,
    stats: &[StatType],
) -> Result<(BTreeMap<StatType, Vec<KeyCount>>, ReadCost), StoreError> {
    let pk = partition(site_id, generation);
    let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    let mut sks: Vec<String> = Vec::new();
    for d in &days {
        for stat in stats {
            sks.push(rank_key(*d, *stat));
        }
    }
    sks.sort();
    sks.dedup();
    let mut cost = ReadCost::default();
    let raw = db.stats_items(&pk, &sks, &mut cost).await?;
    let items = Counters::decode(&pk, &raw)?;
    let mut out = BTreeMap::new();
    for stat in stats {
        let mut sums: HashMap<String, u64> = HashMap::new();
        for d in &days {
            for row in ranked(items.get(&rank_key(*d, *stat)), *stat) {
                *sums.entry(row.key).or_default() += row.count;
            }
        }
        let mut rows: Vec<KeyCount> = sums
            .into_iter()
            .map(|(key, count)| KeyCount { key, count })
            .collect();
        rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        out.insert(*stat, rows);
    }
    Ok((out, cost))
}

/// One asked ranking of a breakdown: its top keys and its number of keys.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Top {
    pub list: Vec<KeyCount>,
    pub total: usize,
}

/// `GET /api/events/:site_id/breakdown`: the top `limit` keys of each asked ranking.
pub type Breakdown = BTreeMap<&'static str, Top>;

/// Every asked ranking's top `limit` keys over `from..=to`, from one batch read.
pub async fn breakdown(
    db: &Db,
    site_id: u64,
    generation: u64,
    from: NaiveDate,
    to: NaiveDate,
    stats: &[StatType],
    limit: usize,
) -> Result<(Breakdown, ReadCost), StoreError> {
    let (all, cost) = rankings(db, site_id, generation, from, to, stats).await?;
    let out = all
        .into_iter()
        .map(|(stat, rows)| {
            let total = rows.len();
            (
                stat.as_str(),
                Top {
                    list: rows.into_iter().take(limit).collect(),
                    total,
                },
            )
        })
        .collect();
    Ok((out, cost))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rankings_sort_by_count_then_key() {
        let mut item = CounterItem::default();
        for (k, c) in [
            ("url:/b", 2),
            ("url:/a", 2),
            ("url:/c", 5),
            ("os:Linux", 9),
            ("urlx:/d", 9),
            ("pv", 1),
        ] {
            item.numbers.insert(k.into(), c);
        }
        let keys: Vec<_> = ranked(Some(&item), StatType::Url)
            .into_iter()
            .map(|r| r.key)
            .collect();
        assert_eq!(keys, ["/c", "/a", "/b"]);
    }
}
