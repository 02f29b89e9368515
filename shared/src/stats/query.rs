//! Reading the counters: a day's (or a range's) figures and rankings. Every read is a
//! fixed number of small counter items (a few per day), whatever the traffic.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;

use super::facts::StatType;
use super::schema::{
    self, CounterItem, Family, Of, PartItem, SketchItem, attr, bucket_copy, day_key, field,
    month_key, partition, rank_key, week_key,
};
use super::sessions::SessionTotals;
use super::sketch::Parts;
use crate::store::{Db, Item, ReadCost, StoreError};

/// Counter items read in one batch, decoded (absent items are absent).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counters(pub HashMap<String, CounterItem>);

impl Counters {
    /// Decodes the counter items of a batch read; any malformed item is an error.
    pub fn decode(pk: &str, items: &HashMap<String, Item>) -> Result<Counters, StoreError> {
        let mut out = HashMap::new();
        for (sk, item) in items {
            if schema::Family::of(sk).map(schema::Family::kind) == Some(schema::Kind::Counter) {
                out.insert(sk.clone(), CounterItem::decode(pk, sk, item)?);
            }
        }
        Ok(Counters(out))
    }

    pub fn get(&self, sk: &str) -> Option<&CounterItem> {
        self.0.get(sk)
    }
}

pub use super::rankings::PAGE_SIZE;

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

fn copy_field(item: &CounterItem, copy: &str, name: &str) -> u64 {
    item.copy(copy).map_or(0, |c| c.get(name))
}

/// Session buckets a format-1 day item may hold copies of.
const FORMAT1_BUCKETS: u64 = 4;

impl DayFigures {
    pub fn from_item(item: Option<&CounterItem>) -> DayFigures {
        let Some(item) = item else {
            return DayFigures::default();
        };
        let mut figures = DayFigures {
            pv: item.count(attr::PV),
            event_count: item.count(attr::EV),
            bots: item.count(attr::BOT),
            uv: item.count(attr::UV) + copy_field(item, schema::DAY_SKETCH_COPY, field::VISITORS),
            ip_count: item.count(attr::IP)
                + copy_field(item, schema::DAY_SKETCH_COPY, field::ADDRESSES),
            sessions: SessionTotals {
                sessions: item.count(attr::SESSION_COUNT),
                bounces: item.count(attr::BOUNCES),
                duration_ms: item.count(attr::DURATION),
            },
            ..DayFigures::default()
        };
        // Format 1: the copies of the day's session buckets.
        for b in 0..FORMAT1_BUCKETS {
            let copy = bucket_copy(b);
            figures.sessions += SessionTotals {
                sessions: copy_field(item, &copy, field::SESSIONS),
                bounces: copy_field(item, &copy, field::BOUNCES),
                duration_ms: copy_field(item, &copy, field::DURATION),
            };
        }
        for (h, slot) in (0u32..).zip(figures.hourly.iter_mut()) {
            *slot = item.count(&attr::hour(h));
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
    /// A week or month item (`copy`: its format-1 sketch copy, `wx` or `mx`).
    pub fn from_item(item: Option<&CounterItem>, copy: &str) -> PeriodFigures {
        item.map(|item| PeriodFigures {
            pv: item.count(attr::PV),
            uv: item.count(attr::UV) + copy_field(item, copy, field::VISITORS),
            ip: item.count(attr::IP) + copy_field(item, copy, field::ADDRESSES),
        })
        .unwrap_or_default()
    }

    /// Raised to at least `floor`: a window's figures are never below those of a part
    /// of it. Every stored figure only grows, so each read is a lower bound of the truth,
    /// and so is the larger of two; this keeps a read that raced a batch (the day item
    /// already updated, the week's not yet read back) from showing "today 5, this week 3".
    pub fn at_least(self, floor: PeriodFigures) -> PeriodFigures {
        PeriodFigures {
            pv: self.pv.max(floor.pv),
            uv: self.uv.max(floor.uv),
            ip: self.ip.max(floor.ip),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct HourCount {
    pub hour: u32,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct DailyPoint {
    pub date: String,
    pub pv: u64,
    pub uv: u64,
}

/// `GET /api/events/:site_id/summary`.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
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
    /// Only with `compare`: the same figures for the period compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Box<Comparison>>,
}

/// A summary's figures for the period it is compared with (`compare=previous|year`).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Comparison {
    pub pv: u64,
    pub uv: u64,
    pub ip_count: u64,
    pub event_count: u64,
    pub bounce_rate: f64,
    pub avg_duration: u64,
    pub hourly_stats: Vec<HourCount>,
    pub start_time: String,
    pub end_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily: Option<Vec<DailyPoint>>,
}

impl From<Summary> for Comparison {
    fn from(s: Summary) -> Self {
        Comparison {
            pv: s.pv,
            uv: s.uv,
            ip_count: s.ip_count,
            event_count: s.event_count,
            bounce_rate: s.bounce_rate,
            avg_duration: s.avg_duration,
            hourly_stats: s.hourly_stats,
            start_time: s.start_time,
            end_time: s.end_time,
            daily: s.daily,
        }
    }
}

/// Adds a day to a window's floor: page views add up, distinct counts are at least the
/// largest day's.
fn add_part(sum: PeriodFigures, day: PeriodFigures) -> PeriodFigures {
    PeriodFigures {
        pv: sum.pv + day.pv,
        uv: sum.uv.max(day.uv),
        ip: sum.ip.max(day.ip),
    }
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
/// One day reads 3 small items (day, week, month); a range reads one day item per day,
/// the week and month of its last day, and (one query) the days' sketch parts.
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
    let mut cost = ReadCost::default();
    let mut sketch_cost = ReadCost::default();
    let (raw, sketches) = futures::future::try_join(db.stats_items(&pk, &sks, &mut cost), async {
        if single {
            return Ok((Parts::default(), Parts::default()));
        }
        day_sketches(db, &pk, from, to, &mut sketch_cost).await
    })
    .await?;
    cost += sketch_cost;
    let items = Counters::decode(&pk, &raw)?;

    let mut total = DayFigures::default();
    // What the asked days show of `to`'s week and month: their figures floor those.
    let (monday, month) = (schema::monday_of(to), (to.year(), to.month()));
    let mut in_week = PeriodFigures::default();
    let mut in_month = PeriodFigures::default();
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
        let part = PeriodFigures {
            pv: f.pv,
            uv: f.uv,
            ip: f.ip_count,
        };
        if schema::monday_of(*d) == monday {
            in_week = add_part(in_week, part);
        }
        if (d.year(), d.month()) == month {
            in_month = add_part(in_month, part);
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
        (sketches.0.count(), sketches.1.count())
    };
    let week = PeriodFigures::from_item(items.get(&week_key(to)), schema::WEEK_SKETCH_COPY)
        .at_least(in_week);
    let month = PeriodFigures::from_item(items.get(&month_key(to)), schema::MONTH_SKETCH_COPY)
        .at_least(in_month);
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
        previous: None,
    };
    Ok((summary, cost))
}

/// The union of the sessions and of the addresses sketches of the days `from..=to`: their
/// parts and any format-1 whole sketches, in one query.
async fn day_sketches(
    db: &Db,
    pk: &str,
    from: NaiveDate,
    to: NaiveDate,
    cost: &mut ReadCost,
) -> Result<(Parts, Parts), StoreError> {
    let (lo, hi) = Family::DaySketch.range(from, to);
    let mut sessions = Parts::default();
    let mut addresses = Parts::default();
    for item in db.stats_range_read(pk, &lo, &hi, cost).await? {
        let Some(sk) = schema::items::sk_of(&item) else {
            continue;
        };
        match schema::part_of_key(sk) {
            Some(key) => {
                let part = PartItem::decode(pk, sk, &item)?.part;
                let into = match key.of {
                    Of::Sessions => &mut sessions,
                    Of::Addresses => &mut addresses,
                };
                match key.index {
                    Some(index) => into.merge_part(index, &part),
                    // A shallower tier's part lists its hashes.
                    None => into.merge_hashes(part.hashes()),
                }
            }
            None => {
                let whole = SketchItem::decode(pk, sk, &item)?;
                sessions.merge_whole(whole.sketch(Of::Sessions));
                addresses.merge_whole(whole.sketch(Of::Addresses));
            }
        }
    }
    Ok((sessions, addresses))
}

pub use super::rankings::{KeyCount, Ranking, ranked, ranking};

/// Each day's figures of `from..=to` (zeros for days without data), in one batch read.
pub async fn day_figures(
    db: &Db,
    site_id: u64,
    generation: u64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, DayFigures)>, StoreError> {
    let pk = partition(site_id, generation);
    let range = days(from, to);
    let sks: Vec<String> = range.iter().map(|d| day_key(*d)).collect();
    let mut cost = ReadCost::default();
    let items = Counters::decode(&pk, &db.stats_items(&pk, &sks, &mut cost).await?)?;
    Ok(range
        .into_iter()
        .map(|d| (d, DayFigures::from_item(items.get(&day_key(d)))))
        .collect())
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
    let raw = db.stats_items(&pk, &sks, &mut cost).await?;
    Ok(figures_of(&Counters::decode(&pk, &raw)?, days))
}

/// How many events the daily counters hold for `days` (page views, other events and
/// bots), with what the read cost.
pub async fn stored_event_total(
    db: &Db,
    site_id: u64,
    generation: u64,
    days: &[NaiveDate],
) -> Result<(u64, ReadCost), StoreError> {
    let pk = partition(site_id, generation);
    let sks: Vec<String> = days.iter().map(|d| day_key(*d)).collect();
    let mut cost = ReadCost::default();
    let raw = db.stats_items(&pk, &sks, &mut cost).await?;
    let items = Counters::decode(&pk, &raw)?;
    let total = days
        .iter()
        .map(|d| {
            let day = DayFigures::from_item(items.get(&day_key(*d)));
            day.pv + day.event_count + day.bots
        })
        .sum();
    Ok((total, cost))
}

/// The figures of `days` (and their weeks and months) that counter items give.
pub fn figures_of(items: &Counters, days: &[NaiveDate]) -> Figures {
    let mut figures = Figures::default();
    for d in days {
        figures
            .days
            .insert(*d, DayFigures::from_item(items.get(&day_key(*d))));
        figures.weeks.insert(
            schema::monday_of(*d),
            PeriodFigures::from_item(items.get(&week_key(*d)), schema::WEEK_SKETCH_COPY),
        );
        figures.months.insert(
            (d.year(), d.month()),
            PeriodFigures::from_item(items.get(&month_key(*d)), schema::MONTH_SKETCH_COPY),
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
    fn month_ends() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert_eq!(month_end(d(2024, 2, 10)), d(2024, 2, 29));
        assert_eq!(month_end(d(2025, 12, 31)), d(2025, 12, 31));
    }
}
