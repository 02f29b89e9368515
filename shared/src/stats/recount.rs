//! Recount: a site's counters rebuilt from its raw events, or compared with them.
//!
//! The oracle of the aggregator's tests, and the operator's tool after an incident
//! (`pingoo-local recount`, see the README). It folds the stored events through the same
//! [`touches`](super::facts::touches) as the aggregator, so it counts what the aggregator
//! should have counted.
//!
//! Weeks and months need all their days: the range is widened to whole weeks and months
//! before events are read. A rebuild rewrites every counter item of the widened range and
//! keeps the highest stream markers found there, so records the aggregator already
//! applied are never applied again. Run it when the aggregator has caught up (iterator
//! age near zero); events still in flight on the stream would be counted twice.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};

use super::facts::{SiteInfo, Touch, touches};
use super::query::{Counters, Figures, days, figures_of, month_end, stored_figures};
use super::schema::{
    self, BucketItem, CounterItem, Family, Kind, Markers, Of, PartItem, PartKey, SketchItem, attr,
    delta_target, monday_of, partition, tiers,
};
use crate::events::model::Event;
use crate::store::{Db, EventFilter, EventRange, Item, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Report differences only.
    Compare,
    /// Rewrite the counters from the events.
    Rebuild,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RecountReport {
    pub from: String,
    pub to: String,
    pub events: usize,
    pub items_written: usize,
    /// What differs between the counters and the events (`Compare`), or differed before
    /// the rebuild (`Rebuild`).
    pub differences: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecountError {
    #[error("site {0} not found")]
    NoSite(u64),
    #[error("the range must not end before it starts")]
    BadRange,
    /// Raw events are kept for `days` days and the recount needs older ones.
    #[error(
        "cannot recount {from}..{to}: it needs the raw events from {needs} on (whole weeks and months), but events older than {days} days (before {cutoff}) are no longer kept. The counters of those days stay as they are"
    )]
    PastRetention {
        from: NaiveDate,
        to: NaiveDate,
        needs: NaiveDate,
        days: u32,
        cutoff: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Items as the aggregator would have built them from nothing.
#[derive(Debug, Default)]
struct Folded {
    counters: BTreeMap<String, CounterItem>,
    sessions: BTreeMap<String, BucketItem>,
    parts: BTreeMap<String, PartItem>,
}

fn fold(events: &[Event], site: &SiteInfo) -> Folded {
    let mut f = Folded::default();
    for event in events {
        for touch in touches(event, site) {
            match touch {
                Touch::Add { sk, attr, by } => {
                    *f.counters
                        .entry(sk)
                        .or_default()
                        .numbers
                        .entry(attr)
                        .or_default() += by
                }
                Touch::Session { base, hash, at } => {
                    let bucket = place(&base, hash, &tiers::SESSIONS, |sk| {
                        f.sessions
                            .get(sk)
                            .map(|b| (b.sessions.contains_key(&hash), b.sessions.len()))
                    });
                    let sessions = &mut f.sessions.entry(bucket).or_default().sessions;
                    let mut s = sessions.get(&hash).copied();
                    super::sessions::record(&mut s, at);
                    if let Some(s) = s {
                        sessions.insert(hash, s);
                    }
                }
                // Realtime minutes are not rebuilt (and `touches` never gives these).
                Touch::Member { .. } => {}
                Touch::Distinct { base, hash } => {
                    let sk = place(&base, hash, &tiers::SKETCH, |sk| {
                        f.parts
                            .get(sk)
                            .map(|p| (p.part.lists(hash), p.part.listed().unwrap_or(usize::MAX)))
                    });
                    let shallow = schema::part_of_key(&sk).is_some_and(|k| k.index.is_none());
                    let part = &mut f.parts.entry(sk).or_default().part;
                    if shallow {
                        part.list(hash);
                    } else {
                        part.insert(hash);
                    }
                }
            }
        }
    }
    for counter in f.counters.values_mut() {
        fit(&mut counter.numbers);
    }
    f
}

/// The item of `hash`'s path (see [`tiers`]) that holds it, or would admit it now;
/// `held(sk)`: whether that item holds the value, and how many values it holds (`None`
/// when the item does not exist yet).
fn place(
    base: &str,
    hash: u64,
    layout: &tiers::Layout,
    held: impl Fn(&str) -> Option<(bool, usize)>,
) -> String {
    for tier in 0..layout.deepest {
        let sk = tiers::item_key(base, hash, tier);
        match held(&sk) {
            Some((true, _)) => return sk,
            Some((false, n)) if !layout.admits(tier, n) => continue,
            _ => return sk,
        }
    }
    tiers::item_key(base, hash, layout.deepest)
}

/// Ranking items must stay within the aggregator's byte budget: past it the smallest
/// keys are counted under `<stat_type>:(other)`, as the aggregator does with late keys.
fn fit(attrs: &mut BTreeMap<String, i64>) {
    let size: usize = attrs.keys().map(|a| schema::items::counter_budget(a)).sum();
    if size <= super::apply::RANKING_BUDGET {
        return;
    }
    let mut by_count: Vec<(String, i64)> = std::mem::take(attrs).into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    // Room for the `(other)` keys themselves.
    let reserve: usize = StatReserve::BYTES;
    let mut used = 0;
    for (attr, value) in by_count {
        let cost = schema::items::counter_budget(&attr);
        match schema::other_attr(&attr) {
            Some(other) if used + cost + reserve > super::apply::RANKING_BUDGET => {
                *attrs.entry(other).or_default() += value;
            }
            _ => {
                used += cost;
                *attrs.entry(attr).or_default() += value;
            }
        }
    }
}

/// Bytes kept free for the `(other)` key of every stat type.
struct StatReserve;
impl StatReserve {
    const BYTES: usize = 11 * 40;
}

/// Gives the folded state its totals, versions and markers, as a rebuild stores it: the
/// sessions' and sketch parts' figures are their counter items' counters, and nothing is
/// pending.
fn finish(f: &mut Folded, version: &dyn Fn(&str) -> u64, markers: &Markers) {
    let mut totals: Vec<(String, &'static str, i64)> = Vec::new();
    let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    for (sk, item) in &mut f.sessions {
        item.version = version(sk);
        item.markers = markers.clone();
        if let Some(target) = delta_target(sk) {
            let t = item.totals();
            totals.push((target.clone(), attr::SESSION_COUNT, int(t.sessions)));
            totals.push((target.clone(), attr::BOUNCES, int(t.bounces)));
            totals.push((target, attr::DURATION, int(t.duration_ms)));
        }
    }
    for (sk, item) in &mut f.parts {
        item.version = version(sk);
        item.markers = markers.clone();
        let counter = match schema::part_of_key(sk) {
            Some(PartKey {
                of: Of::Sessions, ..
            }) => attr::UV,
            Some(PartKey {
                of: Of::Addresses, ..
            }) => attr::IP,
            None => continue,
        };
        if let Some(target) = delta_target(sk) {
            totals.push((target, counter, int(item.part.count())));
        }
    }
    for (target, name, value) in totals {
        if value != 0 {
            *f.counters
                .entry(target)
                .or_default()
                .numbers
                .entry(name.to_owned())
                .or_default() += value;
        }
    }
    for item in f.counters.values_mut() {
        item.markers = markers.clone();
    }
}

fn differences(expected: &Figures, stored: &Figures) -> Vec<String> {
    let mut out = Vec::new();
    for (d, e) in &expected.days {
        let s = stored.days.get(d).cloned().unwrap_or_default();
        if *e != s {
            out.push(format!("day {d}: expected {e:?}, stored {s:?}"));
        }
    }
    for (w, e) in &expected.weeks {
        let s = stored.weeks.get(w).copied().unwrap_or_default();
        if *e != s {
            out.push(format!("week of {w}: expected {e:?}, stored {s:?}"));
        }
    }
    for (m, e) in &expected.months {
        let s = stored.months.get(m).copied().unwrap_or_default();
        if *e != s {
            out.push(format!(
                "month {}-{:02}: expected {e:?}, stored {s:?}",
                m.0, m.1
            ));
        }
    }
    for (k, e) in &expected.rankings {
        let s = stored.rankings.get(k).cloned().unwrap_or_default();
        if *e != s {
            out.push(format!(
                "{} ranking of {}: expected {e:?}, stored {s:?}",
                k.1.as_str(),
                k.0
            ));
        }
    }
    out
}

/// Whole weeks and months around `from..=to`.
fn widened(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = monday_of(from).min(from.with_day(1).unwrap_or(from));
    let sunday = monday_of(to).checked_add_days(Days::new(6)).unwrap_or(to);
    (first, sunday.max(month_end(to)))
}

/// Recounts `site_id`'s current statistics for the days `from..=to` of its time zone.
pub async fn recount(
    db: &Db,
    site_id: u64,
    from: NaiveDate,
    to: NaiveDate,
    mode: Mode,
) -> Result<RecountReport, RecountError> {
    if to < from {
        return Err(RecountError::BadRange);
    }
    let site = db
        .get_site(site_id)
        .await?
        .ok_or(RecountError::NoSite(site_id))?;
    let info = SiteInfo::from(&site);
    let (wide_from, wide_to) = widened(from, to);
    let needs_since = crate::time::day_start(wide_from, info.tz);
    if let (Some(days), Some(cutoff)) = (
        db.retention.kept_days(),
        db.retention.cutoff(chrono::Utc::now()),
    ) && needs_since < cutoff
    {
        return Err(RecountError::PastRetention {
            from,
            to,
            needs: wide_from,
            days,
            cutoff: cutoff.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
    }
    let range = EventRange {
        site_id,
        generation: site.generation,
        first_id: crate::events::id::first_id_at(crate::time::day_start(wide_from, info.tz)),
        last_id: crate::events::id::first_id_at(crate::time::day_start(
            wide_to.checked_add_days(Days::new(1)).unwrap_or(wide_to),
            info.tz,
        ))
        .saturating_sub(1),
        filter: EventFilter::default(),
    };
    let mut events = db.all_events(&range).await?;
    // In time order, so that a rebuild places values in tier items the same way each time.
    events.sort_by_key(|e| e.id);
    let pk = partition(site_id, site.generation);
    let wanted = days(from, to);
    let mut expected_items = fold(&events, &info);
    finish(&mut expected_items, &|_| 1, &Markers::new());
    let expected = figures_of(
        &Counters(expected_items.counters.into_iter().collect()),
        &wanted,
    );
    let stored = stored_figures(db, site_id, site.generation, &wanted).await?;
    let mut report = RecountReport {
        from: from.to_string(),
        to: to.to_string(),
        events: events.len(),
        items_written: 0,
        differences: differences(&expected, &stored),
    };
    if mode == Mode::Compare {
        return Ok(report);
    }

    // Every stored item of the widened range, family by family. Only their markers
    // and versions are kept (leniently: a rebuild is how corrupted items are repaired).
    let mut existing: Vec<(String, Family)> = Vec::new();
    let mut markers = Markers::new();
    let mut versions: BTreeMap<String, u64> = BTreeMap::new();
    for family in Family::ALL.into_iter().filter(|f| f.rebuilt()) {
        let (lo, hi) = family.range(wide_from, wide_to);
        for item in db.stats_range(&pk, &lo, &hi).await? {
            let Some(sk) = schema::items::sk_of(&item).map(str::to_owned) else {
                continue;
            };
            let (found, version) = schema::items::markers_and_version(&item);
            for (shard, seq) in found {
                let m = markers.entry(shard).or_default();
                if seq > *m {
                    *m = seq;
                }
            }
            versions.insert(sk.clone(), version);
            existing.push((sk, family));
        }
    }
    let version = |sk: &str| versions.get(sk).copied().unwrap_or(0) + 1;
    let mut rebuilt = fold(&events, &info);
    finish(&mut rebuilt, &version, &markers);
    let mut items: BTreeMap<String, Item> = BTreeMap::new();
    for (sk, item) in &rebuilt.counters {
        items.insert(sk.clone(), item.encode(&pk, sk));
    }
    for (sk, item) in &rebuilt.sessions {
        items.insert(sk.clone(), item.encode(&pk, sk));
    }
    for (sk, item) in &rebuilt.parts {
        items.insert(sk.clone(), item.encode(&pk, sk));
    }
    // Items with nothing left to count keep their markers, and their version moves on.
    for (sk, family) in &existing {
        if items.contains_key(sk) {
            continue;
        }
        let empty = match family.kind() {
            Kind::Counter => CounterItem {
                markers: markers.clone(),
                ..CounterItem::default()
            }
            .encode(&pk, sk),
            Kind::Sessions => BucketItem {
                version: version(sk),
                markers: markers.clone(),
                ..BucketItem::default()
            }
            .encode(&pk, sk),
            Kind::Sketch if schema::part_of_key(sk).is_some() => PartItem {
                version: version(sk),
                markers: markers.clone(),
                ..PartItem::default()
            }
            .encode(&pk, sk),
            // A format-1 whole sketch: emptied (its day's parts now hold everything).
            Kind::Sketch => SketchItem {
                version: version(sk),
                ..SketchItem::default()
            }
            .encode(&pk, sk),
        };
        items.insert(sk.clone(), empty);
    }
    report.items_written = items.len();
    db.put_stats_items(items.into_values().collect()).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_covers_weeks_and_months() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        // 2025-09-15 is a Monday; September 2025 starts on a Monday and ends on a Tuesday.
        assert_eq!(
            widened(d(2025, 9, 15), d(2025, 9, 15)),
            (d(2025, 9, 1), d(2025, 9, 30))
        );
        assert_eq!(
            widened(d(2025, 9, 30), d(2025, 9, 30)),
            (d(2025, 9, 1), d(2025, 10, 5))
        );
    }
}
