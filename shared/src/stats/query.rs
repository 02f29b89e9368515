//! Reading the counters: a day's (or a range's) figures and rankings. Every read is a
//! fixed number of small counter items (a few per day), whatever the traffic.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;

use super::facts::{
    Of, StatType, Window, day_key, month_key, partition, rank_key, sketch_key, week_key,
};
use super::sessions::{BUCKETS, SessionTotals};
use super::sketch::Distinct;
use crate::store::{Db, Item, ReadCost, StoreError, copy_field, number};

/// Rows per ranking page (as the original product).
pub const PAGE_SIZE: usize = 10;

/// What one day's counter item says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayFigures {
    pub pv: u64,
    pub event_count: u64,
    pub bots: u64,
    /// Sessions tracked for bounce rate and duration (see `MAX_BUCKET_SESSIONS`).
    pub sessions: SessionTotals,
    /// Distinct session ids.
    pub uv: u64,
    pub ip_count: u64,
    /// Page views per hour of the site's day.
    pub hourly: [u64; 24],
}

fn count(item: &Item, attr: &str) -> u64 {
    u64::try_from(number(item, attr)).unwrap_or(0)
}

impl DayFigures {
    pub fn from_item(item: Option<&Item>) -> DayFigures {
        let Some(item) = item else {
            return DayFigures::default();
        };
        let mut figures = DayFigures {
            pv: count(item, "pv"),
            event_count: count(item, "ev"),
            bots: count(item, "bot"),
            uv: copy_field(item, "dx", "u"),
            ip_count: copy_field(item, "dx", "i"),
            ..DayFigures::default()
        };
        for b in 0..BUCKETS {
            let attr = format!("b{b}");
            figures.sessions += SessionTotals {
                sessions: copy_field(item, &attr, "s"),
                bounces: copy_field(item, &attr, "b"),
                duration_ms: copy_field(item, &attr, "d"),
            };
        }
        for (h, slot) in figures.hourly.iter_mut().enumerate() {
            *slot = count(item, &format!("h{h:02}"));
        }
        figures
    }
}

/// A week's or month's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeriodFigures {
    pub pv: u64,
    pub uv: u64,
    pub ip: u64,
}

impl PeriodFigures {
    /// A week (`wx` copies) or month (`mx`) item.
    pub fn from_item(item: Option<&Item>, copy: &str) -> PeriodFigures {
        item.map(|item| PeriodFigures {
            pv: count(item, "pv"),
            uv: copy_field(item, copy, "u"),
            ip: copy_field(item, copy, "i"),
        })
        .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HourCount {
    pub hour: u32,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DailyPoint {
    pub date: String,
    pub pv: u64,
    pub uv: u64,
}

/// `GET /api/events/:site_id/summary`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub site_id: u64,
    pub pv: u64,
    pub uv: u64,
    pub ip_count: u64,
    pub event_count: u64,
    /// Percentage of sessions with a single event, one decimal.
    pub bounce_rate: f64,
    /// Mean session length in seconds (first to last event), rounded.
    pub avg_duration: u64,
    pub week_ip: u64,
    pub week_pv: u64,
    pub week_uv: u64,
    pub month_ip: u64,
    pub month_pv: u64,
    pub month_uv: u64,
    pub hourly_stats: Vec<HourCount>,
    pub start_time: String,
    pub end_time: String,
    /// Only for a range: one point per day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily: Option<Vec<DailyPoint>>,
}

pub fn bounce_rate(t: &SessionTotals) -> f64 {
    if t.sessions == 0 {
        return 0.0;
    }
    (t.bounces as f64 * 1000.0 / t.sessions as f64).round() / 10.0
}

pub fn avg_duration(t: &SessionTotals) -> u64 {
    if t.sessions == 0 {
        return 0;
    }
    (t.duration_ms as f64 / t.sessions as f64 / 1000.0).round() as u64
}

fn ymd(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

/// Every day from `from` to `to`, inclusive.
pub fn days(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|d| *d <= to).collect()
}

/// The summary of one site generation for the days `from..=to`, and what reading it cost.
/// One day reads 3 small items (day, week, month); a range reads one day item and one
/// sketch item per day, plus the week and month of its last day.
pub async fn summary(
    db: &Db,
    site_id: u64,
    generation: u64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Summary, ReadCost), StoreError> {
    let pk = partition(site_id, generation);
    let range = days(from, to);
    let single = range.len() == 1;
    let mut sks: Vec<String> = range.iter().map(|d| day_key(*d)).collect();
    sks.push(week_key(to));
    sks.push(month_key(to));
    if !single {
        for d in &range {
            sks.push(sketch_key(Window::Day, *d));
        }
    }
    let mut cost = ReadCost::default();
    let items = db.stats_items(&pk, &sks, &mut cost).await?;

    let mut total = DayFigures::default();
    let mut daily = Vec::with_capacity(range.len());
    for d in &range {
        let f = DayFigures::from_item(items.get(&day_key(*d)));
        total.pv += f.pv;
        total.event_count += f.event_count;
        total.bots += f.bots;
        total.sessions += f.sessions;
        for (t, h) in total.hourly.iter_mut().zip(f.hourly) {
            *t += h;
        }
        if single {
            total.uv = f.uv;
            total.ip_count = f.ip_count;
        }
        daily.push(DailyPoint {
            date: ymd(*d),
            pv: f.pv,
            uv: f.uv,
        });
    }
    let (uv, ip_count) = if single {
        (total.uv, total.ip_count)
    } else {
        let merged = |of: Of| -> Result<u64, StoreError> {
            let mut sketch = Distinct::new();
            for d in &range {
                if let Some(item) = items.get(&sketch_key(Window::Day, *d)) {
                    sketch.merge(&crate::store::sketch_of(item, of)?);
                }
            }
            Ok(sketch.count())
        };
        (merged(Of::Sessions)?, merged(Of::Addresses)?)
    };
    let week = PeriodFigures::from_item(items.get(&week_key(to)), "wx");
    let month = PeriodFigures::from_item(items.get(&month_key(to)), "mx");
    let summary = Summary {
        site_id,
        pv: total.pv,
        uv,
        ip_count,
        event_count: total.event_count,
        bounce_rate: bounce_rate(&total.sessions),
        avg_duration: avg_duration(&total.sessions),
        week_ip: week.ip,
        week_pv: week.pv,
        week_uv: week.uv,
        month_ip: month.ip,
        month_pv: month.pv,
        month_uv: month.uv,
        hourly_stats: total
            .hourly
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(h, c)| HourCount {
                hour: h as u32,
                count: *c,
            })
            .collect(),
        start_time: ymd(from),
        end_time: ymd(to),
        daily: (!single).then_some(daily),
    };
    Ok((summary, cost))
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KeyCount {
    pub key: String,
    pub count: u64,
}

/// `GET /api/events/:site_id/stats`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ranking {
    pub list: Vec<KeyCount>,
    pub total: usize,
    pub page: usize,
    pub page_size: usize,
}

/// Every key of one stat type in a ranking item with its count, counts descending, ties
/// by key.
pub fn ranked(item: Option<&Item>, stat: StatType) -> Vec<KeyCount> {
    let prefix = format!("{}:", stat.as_str());
    let mut rows: Vec<KeyCount> = item
        .map(|item| {
            item.keys()
                .filter_map(|attr| {
                    let key = attr.strip_prefix(&prefix)?;
                    let count = count(item, attr);
                    (count > 0).then(|| KeyCount {
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
    let pk = partition(site_id, generation);
    let sk = rank_key(day, stat);
    let mut cost = ReadCost::default();
    let items = db
        .stats_items(&pk, std::slice::from_ref(&sk), &mut cost)
        .await?;
    let rows = ranked(items.get(&sk), stat);
    let total = rows.len();
    let list = rows
        .into_iter()
        .skip((page - 1).saturating_mul(PAGE_SIZE))
        .take(PAGE_SIZE)
        .collect();
    Ok((
        Ranking {
            list,
            total,
            page,
            page_size: PAGE_SIZE,
        },
        cost,
    ))
}

/// Every figure of some days, as the API would show them: what recount compares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub days: BTreeMap<NaiveDate, DayFigures>,
    pub weeks: BTreeMap<NaiveDate, PeriodFigures>,
    pub months: BTreeMap<(i32, u32), PeriodFigures>,
    pub rankings: BTreeMap<(NaiveDate, StatType), Vec<KeyCount>>,
}

/// The stored figures of `days` and of their weeks and months.
pub async fn stored_figures(
    db: &Db,
    site_id: u64,
    generation: u64,
    days: &[NaiveDate],
) -> Result<Figures, StoreError> {
    let pk = partition(site_id, generation);
    let mut sks = Vec::new();
    for d in days {
        sks.push(day_key(*d));
        sks.push(week_key(*d));
        sks.push(month_key(*d));
        for t in StatType::ALL {
            sks.push(rank_key(*d, t));
        }
    }
    let mut cost = ReadCost::default();
    let items: HashMap<String, Item> = db.stats_items(&pk, &sks, &mut cost).await?;
    Ok(figures_of(&items, days))
}

/// The figures of `days` (and their weeks and months) that counter items give.
pub fn figures_of(items: &HashMap<String, Item>, days: &[NaiveDate]) -> Figures {
    let mut figures = Figures::default();
    for d in days {
        figures
            .days
            .insert(*d, DayFigures::from_item(items.get(&day_key(*d))));
        figures.weeks.insert(
            super::facts::monday_of(*d),
            PeriodFigures::from_item(items.get(&week_key(*d)), "wx"),
        );
        figures.months.insert(
            (d.year(), d.month()),
            PeriodFigures::from_item(items.get(&month_key(*d)), "mx"),
        );
        for t in StatType::ALL {
            figures
                .rankings
                .insert((*d, t), ranked(items.get(&rank_key(*d, t)), t));
        }
    }
    figures
}

/// The last day of `day`'s month.
pub fn month_end(day: NaiveDate) -> NaiveDate {
    let first_next = if day.month() == 12 {
        NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1)
    };
    first_next
        .and_then(|d| d.checked_sub_days(Days::new(1)))
        .unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_like_the_original() {
        let t = SessionTotals {
            sessions: 3,
            bounces: 1,
            duration_ms: 6_500,
        };
        assert_eq!(bounce_rate(&t), 33.3);
        assert_eq!(avg_duration(&t), 2);
        assert_eq!(bounce_rate(&SessionTotals::default()), 0.0);
        assert_eq!(avg_duration(&SessionTotals::default()), 0);
    }

    #[test]
    fn rankings_sort_by_count_then_key() {
        let mut item = Item::new();
        for (k, c) in [
            ("url:/b", "2"),
            ("url:/a", "2"),
            ("url:/c", "5"),
            ("os:Linux", "9"),
            ("q0", "9"),
            ("v", "1"),
        ] {
            item.insert(
                k.into(),
                aws_sdk_dynamodb::types::AttributeValue::N(c.into()),
            );
        }
        let keys: Vec<_> = ranked(Some(&item), StatType::Url)
            .into_iter()
            .map(|r| r.key)
            .collect();
        assert_eq!(keys, ["/c", "/a", "/b"]);
    }

    #[test]
    fn month_ends() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert_eq!(month_end(d(2024, 2, 10)), d(2024, 2, 29));
        assert_eq!(month_end(d(2025, 12, 31)), d(2025, 12, 31));
    }
}
