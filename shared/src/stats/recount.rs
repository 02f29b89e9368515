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

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Datelike, Days, NaiveDate};

use super::facts::{Of, SiteInfo, Touch, copy_target, monday_of, partition, touches};
use super::query::{Figures, days, figures_of, month_end, stored_figures};
use super::sessions::Sessions;
use super::sketch::Distinct;
use crate::events::model::Event;
use crate::store::{Db, EventFilter, EventRange, Item, MAX_BUCKET_SESSIONS, StoreError};

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
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Items as the aggregator would have built them from nothing.
#[derive(Debug, Default)]
struct Folded {
    counters: BTreeMap<String, BTreeMap<String, i64>>,
    sessions: BTreeMap<String, Sessions>,
    /// Sessions and addresses sketches per sketch item.
    sketches: BTreeMap<String, (Distinct, Distinct)>,
}

fn fold(events: &[Event], site: &SiteInfo) -> Folded {
    let mut f = Folded::default();
    for event in events {
        for touch in touches(event, site) {
            match touch {
                Touch::Add { sk, attr, by } => {
                    *f.counters.entry(sk).or_default().entry(attr).or_default() += by
                }
                // Capped as the aggregator caps it, so a rebuilt bucket stays under
                // DynamoDB's item size on the busiest days.
                Touch::Session { sk, session, at } => {
                    f.sessions.entry(sk).or_default().record_capped(
                        session,
                        at,
                        MAX_BUCKET_SESSIONS,
                    );
                }
                Touch::Distinct { sk, of, hash } => {
                    let (sessions, addresses) = f.sketches.entry(sk).or_default();
                    match of {
                        Of::Sessions => sessions.insert(hash),
                        Of::Addresses => addresses.insert(hash),
                    };
                }
            }
        }
    }
    f
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Ranking items must stay under DynamoDB's 400 KB: past [`FULL`] bytes the smallest keys
/// are counted under `<stat_type>:(other)`, as the aggregator does with late keys.
const FULL: usize = 350_000;

fn fit(attrs: &BTreeMap<String, i64>) -> Vec<(String, i64)> {
    let size: usize = attrs.keys().map(|a| a.len() + 8).sum();
    if size <= FULL {
        return attrs.iter().map(|(a, v)| (a.clone(), *v)).collect();
    }
    let mut by_count: Vec<(&String, &i64)> = attrs.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut kept = Vec::new();
    let mut others: BTreeMap<String, i64> = BTreeMap::new();
    let mut used = 0;
    for (attr, value) in by_count {
        match attr.split_once(':') {
            Some((stat, _)) if used + attr.len() + 8 > FULL => {
                *others
                    .entry(format!("{stat}:{}", crate::store::OTHER))
                    .or_default() += value;
            }
            _ => {
                used += attr.len() + 8;
                kept.push((attr.clone(), *value));
            }
        }
    }
    for (attr, value) in others {
        match kept.iter_mut().find(|(a, _)| *a == attr) {
            Some((_, v)) => *v += value,
            None => kept.push((attr, value)),
        }
    }
    kept
}

/// The folded state as stored items; `version` gives each read-modify-write item its new
/// version, `markers` are set on every counter item and session bucket.
fn items(
    f: &Folded,
    pk: &str,
    version: &dyn Fn(&str) -> u64,
    markers: &Item,
) -> BTreeMap<String, Item> {
    let base = |sk: &str| -> Item {
        let mut item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
            ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
        ]);
        item.extend(markers.clone());
        item
    };
    let mut out: BTreeMap<String, Item> = BTreeMap::new();
    for (sk, attrs) in &f.counters {
        let item = out.entry(sk.clone()).or_insert_with(|| base(sk));
        for (attr, value) in fit(attrs) {
            item.insert(attr, n(value));
        }
    }
    let copy = |sk: &str, fields: Vec<(&str, u64)>, out: &mut BTreeMap<String, Item>| {
        if let Some((target, attr)) = copy_target(sk) {
            let map = fields
                .into_iter()
                .map(|(k, v)| (k.to_owned(), n(v)))
                .collect();
            out.entry(target.clone())
                .or_insert_with(|| base(&target))
                .insert(attr, AttributeValue::M(map));
        }
    };
    for (sk, sessions) in &f.sessions {
        let v = version(sk);
        let t = sessions.totals();
        let mut item = base(sk);
        item.insert("v".into(), n(v));
        item.insert("s".into(), AttributeValue::B(sessions.to_bytes().into()));
        out.insert(sk.clone(), item);
        copy(
            sk,
            vec![
                ("v", v),
                ("s", t.sessions),
                ("b", t.bounces),
                ("d", t.duration_ms),
            ],
            &mut out,
        );
    }
    for (sk, (sessions, addresses)) in &f.sketches {
        let v = version(sk);
        let item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
            ("sk".to_owned(), AttributeValue::S(sk.clone())),
            ("v".to_owned(), n(v)),
            (
                Of::Sessions.attr().to_owned(),
                AttributeValue::B(sessions.to_bytes().into()),
            ),
            (
                Of::Addresses.attr().to_owned(),
                AttributeValue::B(addresses.to_bytes().into()),
            ),
        ]);
        out.insert(sk.clone(), item);
        copy(
            sk,
            vec![("v", v), ("u", sessions.count()), ("i", addresses.count())],
            &mut out,
        );
    }
    out
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
    let events = db.all_events(&range).await?;
    let folded = fold(&events, &info);
    let pk = partition(site_id, site.generation);
    let wanted = days(from, to);
    let expected = figures_of(
        &items(&folded, &pk, &|_| 1, &Item::new())
            .into_iter()
            .collect(),
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

    // Every stored item of the widened range, by family.
    let ymd = |d: NaiveDate| d.format("%Y%m%d").to_string();
    let ym = |d: NaiveDate| d.format("%Y%m").to_string();
    let mut existing: Vec<Item> = Vec::new();
    for (lo, hi) in [
        (
            format!("D#{}", ymd(wide_from)),
            format!("D#{}", ymd(wide_to)),
        ),
        (
            format!("R#{}", ymd(wide_from)),
            format!("R#{}~", ymd(wide_to)),
        ),
        (
            format!("S#{}", ymd(wide_from)),
            format!("S#{}~", ymd(wide_to)),
        ),
        (
            format!("U#D#{}", ymd(wide_from)),
            format!("U#D#{}", ymd(wide_to)),
        ),
        (
            format!("I#D#{}", ymd(wide_from)),
            format!("I#D#{}", ymd(wide_to)),
        ),
        (
            format!("W#{}", ymd(wide_from)),
            format!("W#{}", ymd(wide_to)),
        ),
        (
            format!("U#W#{}", ymd(wide_from)),
            format!("U#W#{}", ymd(wide_to)),
        ),
        (
            format!("I#W#{}", ymd(wide_from)),
            format!("I#W#{}", ymd(wide_to)),
        ),
        (format!("M#{}", ym(wide_from)), format!("M#{}", ym(wide_to))),
        (
            format!("U#M#{}", ym(wide_from)),
            format!("U#M#{}", ym(wide_to)),
        ),
        (
            format!("I#M#{}", ym(wide_from)),
            format!("I#M#{}", ym(wide_to)),
        ),
    ] {
        existing.extend(db.stats_range(&pk, &lo, &hi).await?);
    }
    let mut markers = Item::new();
    let mut versions: HashMap<String, u64> = HashMap::new();
    for item in &existing {
        let sk = match item.get("sk") {
            Some(AttributeValue::S(sk)) => sk.clone(),
            _ => continue,
        };
        for (attr, value) in item {
            if attr.len() == 2
                && attr.starts_with('q')
                && let AttributeValue::S(seq) = value
            {
                let newer = match markers.get(attr) {
                    Some(AttributeValue::S(m)) => seq > m,
                    _ => true,
                };
                if newer {
                    markers.insert(attr.clone(), value.clone());
                }
            }
        }
        versions.insert(
            sk,
            u64::try_from(crate::store::number(item, "v")).unwrap_or(0),
        );
    }
    let version = |sk: &str| versions.get(sk).copied().unwrap_or(0) + 1;
    let mut rebuilt = items(&folded, &pk, &version, &markers);
    // Items with nothing left to count keep their markers, and their version moves on.
    for item in &existing {
        if let Some(AttributeValue::S(sk)) = item.get("sk")
            && !rebuilt.contains_key(sk)
        {
            let mut empty = HashMap::from([
                ("pk".to_owned(), AttributeValue::S(pk.clone())),
                ("sk".to_owned(), AttributeValue::S(sk.clone())),
            ]);
            if sk.starts_with(['S', 'X']) {
                empty.insert("v".into(), n(version(sk)));
            }
            if !sk.starts_with('X') {
                empty.extend(markers.clone());
            }
            rebuilt.insert(sk.clone(), empty);
        }
    }
    report.items_written = rebuilt.len();
    db.put_stats_items(rebuilt.into_values().collect()).await?;
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
