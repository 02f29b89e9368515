//! How each family of stats items is applied exactly once per stream record (the
//! mechanics of a single DynamoDB call are in `store::stats`, the keys and attributes in
//! [`schema`](super::schema)).
//!
//! - **Counter items** (day, week, month, ranking) change by `ADD`. Each keeps, per events
//!   write shard `s` (the events partition `site#generation#s`, whose records reach the
//!   stream in order), the last applied sequence number. An update first assumes its
//!   records are all new (`q<s> < first`); if DynamoDB says otherwise it returns the
//!   stored item, the records already applied are dropped and the rest is applied on
//!   condition that the markers are still what was read.
//! - **Read-modify-write items** (one per session, one per sketch part, each ~1 KB at
//!   most) are read consistently, changed in memory and put back on condition that their
//!   version `v` is unchanged. They keep markers too.
//!
//! What readers need of a read-modify-write item (session totals, distinct counts)
//! reaches its counter item (day, week, month) as a delta, `ADD`ed with one of the
//! records that caused it, so the counter's markers apply it exactly once. The item keeps,
//! per write shard, the delta its records up to its marker `q<s>` caused (`d<s>`). Until
//! the counter item's marker for that shard has reached the item's, the delta is pending:
//! every later batch of that shard (a retry, or the next one) reads the counter's
//! markers first and sends a pending delta again, with the record at the item's marker
//! (or folded into its own new delta, sent with its newest record). A shard's records
//! are aggregated in stream order by one batch at a time, and a batch writes a counter
//! only for records whose read-modify-write items are written, so a counter that has
//! applied a record has applied its deltas: none is lost, none counted twice.
//!
//! Ranking items stay under DynamoDB's 400 KB by bytes: once a write shows an item past
//! [`FULL_HINT_BYTES`] it is marked full (`f`), and from then on every update goes through
//! the stored item, admitting new keys only while all its keys, with counters of up to
//! 12 digits, fit in [`RANKING_BUDGET`]; the rest count as `(other)`. One update adds at
//! most [`MAX_ATTRS`] keys of at most [`MAX_KEY_BYTES`], so an item marked at 150 KB has
//! room for many concurrent unaware writers before the hard limit.

use std::collections::{BTreeMap, HashSet};

use crate::stats::sessions::{Session, SessionTotals};

use aws_sdk_dynamodb::types::AttributeValue;

use super::schema::{
    self, BucketItem, CopyFields, CounterItem, Deltas, Family, Markers, Of, PartItem, PartKey,
    attr, items::Item,
};
use crate::store::{Condition, Db, Outcome, StoreError, Update, WriteMeter};

/// Distinct attributes changed by one counter update (keeps expressions under 4 KB).
pub const MAX_ATTRS: usize = 100;
/// Longest ranking key kept, in bytes (longer keys are cut at a character boundary).
pub const MAX_KEY_BYTES: usize = 200;
/// Write size (from the consumed write units) at which a ranking item is marked full.
pub const FULL_HINT_BYTES: usize = 150 * 1024;
/// Most bytes a ranking item's keys may take with their counters at 12 digits.
pub const RANKING_BUDGET: usize = 300_000;
/// Attempts of one item's update before it is given up for this batch.
const ATTEMPTS: u32 = 12;

/// Sequence numbers compare as zero-padded strings.
pub fn padded_seq(seq: &str) -> String {
    format!("{seq:0>40}")
}

/// One stream record's additions to one counter item.
#[derive(Debug, Clone)]
pub struct CounterRecord {
    pub shard: u64,
    /// Padded ([`padded_seq`]).
    pub seq: String,
    pub adds: Vec<(String, i64)>,
    /// Values for number sets (`(attribute, value)`), idempotent.
    pub members: Vec<(String, u64)>,
}

/// One stream record's event in one session item.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub shard: u64,
    pub seq: String,
    /// The session's hash.
    pub hash: u64,
    pub at: u32,
}

/// One stream record's value for one sketch part item.
#[derive(Debug, Clone)]
pub struct DistinctRecord {
    pub shard: u64,
    pub seq: String,
    pub hash: u64,
}

/// A delta a read-modify-write item owes its counter item: to be added with the record
/// `(shard, seq)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed {
    pub shard: u64,
    pub seq: String,
    pub adds: BTreeMap<String, i64>,
}

/// What a read-modify-write item's markers and deltas become when `fresh` (per shard:
/// its newest record's seq and the delta of its new records) is applied, given its
/// counter item's markers `target`; and what it owes that counter now.
fn settle(
    markers: &Markers,
    deltas: &Deltas,
    target: &Markers,
    fresh: BTreeMap<u64, (String, BTreeMap<String, i64>)>,
) -> (Markers, Deltas, Vec<Owed>) {
    let mut next_markers = markers.clone();
    let mut next_deltas = Deltas::new();
    let mut owed = Vec::new();
    let shards: std::collections::BTreeSet<u64> =
        deltas.keys().chain(fresh.keys()).copied().collect();
    for shard in shards {
        let mut delta = match (deltas.get(&shard), markers.get(&shard)) {
            (Some(d), Some(m)) if !applied(target.get(&shard), m) => d.clone(),
            _ => BTreeMap::new(),
        };
        if let Some((seq, adds)) = fresh.get(&shard) {
            for (a, by) in adds {
                *delta.entry(a.clone()).or_default() += by;
            }
            advance(&mut next_markers, shard, seq);
        }
        delta.retain(|_, by| *by != 0);
        if delta.is_empty() {
            continue;
        }
        if let Some(seq) = next_markers.get(&shard) {
            owed.push(Owed {
                shard,
                seq: seq.clone(),
                adds: delta.clone(),
            });
        }
        next_deltas.insert(shard, delta);
    }
    (next_markers, next_deltas, owed)
}

/// Figures of a read-modify-write item, copied into a counter item's `attr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub attr: String,
    pub copy: CopyFields,
}

fn applied(marker: Option<&String>, seq: &str) -> bool {
    marker.is_some_and(|m| seq <= m.as_str())
}

fn decode_counter(pk: &str, sk: &str, item: &Item) -> Result<CounterItem, StoreError> {
    CounterItem::decode(pk, sk, item).map_err(StoreError::from)
}

/// Applies counter records (in stream order) and copies to one counter item, exactly
/// once per record.
pub async fn apply_counters(
    db: &Db,
    pk: &str,
    sk: &str,
    records: &[CounterRecord],
    copies: &[Copy],
    meter: &WriteMeter,
) -> Result<(), StoreError> {
    // Split into runs of records that change at most MAX_ATTRS attributes; each run
    // extends the applied prefix, so the markers stay right between runs.
    let mut runs: Vec<&[CounterRecord]> = Vec::new();
    let mut start = 0;
    let mut attrs: HashSet<&str> = HashSet::new();
    for (i, r) in records.iter().enumerate() {
        let new = r
            .adds
            .iter()
            .filter(|(a, _)| !attrs.contains(a.as_str()))
            .count();
        if attrs.len() + new > MAX_ATTRS && i > start {
            runs.push(&records[start..i]);
            start = i;
            attrs.clear();
        }
        attrs.extend(r.adds.iter().map(|(a, _)| a.as_str()));
    }
    runs.push(&records[start..]);
    let last = runs.len() - 1;
    for (i, run) in runs.into_iter().enumerate() {
        let copies = if i == last { copies } else { &[] };
        apply_counter_run(db, pk, sk, run, copies, meter).await?;
    }
    Ok(())
}

/// Where each added attribute goes: itself, or its `(other)` once the ranking item has no
/// room for new keys. Returns the sums and whether the item is (now) full.
fn placed_sums(
    known: Option<&CounterItem>,
    pending: &[&CounterRecord],
    force_full: bool,
) -> (BTreeMap<String, i64>, bool) {
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    let Some(known) = known else {
        for r in pending {
            for (a, by) in &r.adds {
                *sums.entry(a.clone()).or_default() += by;
            }
        }
        return (sums, false);
    };
    let mut budget: usize = known
        .numbers
        .keys()
        .map(|n| schema::items::counter_budget(n))
        .sum();
    let mut full = force_full || budget >= RANKING_BUDGET;
    let mut admitted: HashSet<String> = HashSet::new();
    for r in pending {
        for (a, by) in &r.adds {
            let target = match schema::other_attr(a) {
                Some(other) if !known.numbers.contains_key(a) && !admitted.contains(a) => {
                    let cost = schema::items::counter_budget(a);
                    if !full && budget + cost <= RANKING_BUDGET {
                        budget += cost;
                        admitted.insert(a.clone());
                        a.clone()
                    } else {
                        full = true;
                        if !known.numbers.contains_key(&other) && admitted.insert(other.clone()) {
                            budget += schema::items::counter_budget(&other);
                        }
                        other
                    }
                }
                _ => a.clone(),
            };
            *sums.entry(target).or_default() += by;
        }
    }
    (sums, full)
}

async fn apply_counter_run(
    db: &Db,
    pk: &str,
    sk: &str,
    records: &[CounterRecord],
    copies: &[Copy],
    meter: &WriteMeter,
) -> Result<(), StoreError> {
    let ranking = Family::of(sk) == Some(Family::Ranking);
    // None: assume nothing was applied yet; Some: the stored item as last seen.
    let mut known: Option<CounterItem> = None;
    let mut refused_as_too_large = false;
    for attempt in 1..=ATTEMPTS {
        let pending: Vec<&CounterRecord> = records
            .iter()
            .filter(|r| {
                known
                    .as_ref()
                    .is_none_or(|k| !applied(k.markers.get(&r.shard), &r.seq))
            })
            .collect();
        let due: Vec<&Copy> = copies
            .iter()
            .filter(|c| {
                known.as_ref().is_none_or(|k| {
                    k.copy(&c.attr)
                        .is_none_or(|stored| c.copy.version > stored.version)
                })
            })
            .collect();
        if pending.is_empty() && due.is_empty() {
            return Ok(());
        }

        let mut update = Update::default();
        let (sums, full) = placed_sums(known.as_ref(), &pending, refused_as_too_large);
        update.add = sums.into_iter().filter(|(_, by)| *by != 0).collect();
        let mut sets: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for r in &pending {
            for (attr, value) in &r.members {
                sets.entry(attr).or_default().push(*value);
            }
        }
        update.add_to_sets = sets
            .into_iter()
            .map(|(a, mut v)| {
                v.sort_unstable();
                v.dedup();
                (a.to_owned(), v)
            })
            .collect();
        if let Some(expires) = schema::realtime_expiry(sk) {
            update.set.push((
                attr::EXPIRES.to_owned(),
                AttributeValue::N(expires.to_string()),
            ));
        }
        if full && known.as_ref().is_some_and(|k| !k.full) {
            update
                .set
                .push((attr::FULL.to_owned(), AttributeValue::Bool(true)));
        }
        if ranking && known.is_none() {
            // Once marked full, go through the stored item (the condition returns it).
            update.conditions.push(Condition::Absent {
                attr: attr::FULL.to_owned(),
            });
        }
        let mut shards: BTreeMap<u64, (&str, &str)> = BTreeMap::new();
        for r in &pending {
            let e = shards.entry(r.shard).or_insert((&r.seq, &r.seq));
            e.0 = e.0.min(r.seq.as_str());
            e.1 = e.1.max(r.seq.as_str());
        }
        for (shard, (first, last)) in &shards {
            let marker = attr::marker(*shard);
            update
                .set
                .push((marker.clone(), AttributeValue::S((*last).to_owned())));
            update.conditions.push(match &known {
                None => Condition::AbsentOrBelow {
                    attr: marker,
                    value: (*first).to_owned(),
                },
                Some(k) => match k.markers.get(shard) {
                    Some(m) => Condition::Equals {
                        attr: marker,
                        value: AttributeValue::S(m.clone()),
                    },
                    None => Condition::Absent { attr: marker },
                },
            });
        }
        for c in &due {
            update.set.push((
                c.attr.clone(),
                AttributeValue::M(schema::items::copy_map(&c.copy)),
            ));
            update.conditions.push(match &known {
                None => Condition::AbsentOrVersionBelow {
                    attr: c.attr.clone(),
                    version: c.copy.version,
                },
                Some(k) => match k.copy(&c.attr) {
                    Some(stored) => Condition::VersionEquals {
                        attr: c.attr.clone(),
                        version: stored.version,
                    },
                    None => Condition::Absent {
                        attr: c.attr.clone(),
                    },
                },
            });
        }
        match db.stats_update(pk, sk, &update).await? {
            Outcome::Applied { units } => {
                meter.record(units);
                let size = units.unwrap_or(0.0) * 1024.0;
                if ranking && known.is_none() && size >= FULL_HINT_BYTES as f64 {
                    mark_full(db, pk, sk, meter).await?;
                }
                return Ok(());
            }
            Outcome::ConditionFailed(stored) => {
                let stored = decode_counter(pk, sk, &stored)?;
                // Another writer moved the markers: back off before the next try.
                if known.as_ref().is_some_and(|k| k.markers != stored.markers) {
                    crate::store::backoff(attempt).await;
                }
                known = Some(stored);
            }
            Outcome::TooLarge => {
                if refused_as_too_large {
                    return Err(StoreError::Malformed(format!(
                        "stats item {pk}/{sk} cannot grow past DynamoDB's 400 KB"
                    )));
                }
                refused_as_too_large = true;
                let stored = decode_counter(pk, sk, &db.stats_get(pk, sk).await?)?;
                tracing::warn!(pk, sk, "counter item hit 400 KB: new keys count as (other)");
                known = Some(stored);
            }
        }
    }
    Err(StoreError::Contention)
}

/// Marks a ranking item full, so later writers go through its stored keys.
async fn mark_full(db: &Db, pk: &str, sk: &str, meter: &WriteMeter) -> Result<(), StoreError> {
    let update = Update {
        set: vec![(attr::FULL.to_owned(), AttributeValue::Bool(true))],
        ..Update::default()
    };
    if let Outcome::Applied { units } = db.stats_update(pk, sk, &update).await? {
        meter.record(units);
    }
    tracing::info!(pk, sk, "ranking item marked full");
    Ok(())
}

/// What applying records to one tier item did: what it owes its counter item, and which
/// records (indices into the records given) it had no room for: their values go one tier
/// down.
#[derive(Debug, Default)]
pub struct TierOutcome {
    pub owed: Vec<Owed>,
    pub spilled: Vec<usize>,
}

/// Applies session records (in stream order) to one session bucket of tier `tier`,
/// exactly once per record; returns what it owes its day item (`target`: the day item's
/// markers, read before) and the records of sessions it neither holds nor admits.
///
/// A session the bucket holds takes the records past the bucket's marker for their shard
/// (earlier ones were applied with it). A session it does not hold is admitted while the
/// bucket has room; once full, the bucket never admits again, so a record of a session it
/// does not hold was never applied here, whatever the markers say, and goes down.
pub async fn apply_sessions(
    db: &Db,
    pk: &str,
    sk: &str,
    tier: usize,
    records: &[SessionRecord],
    target: &Markers,
    meter: &WriteMeter,
) -> Result<TierOutcome, StoreError> {
    let layout = schema::tiers::SESSIONS;
    for attempt in 1..=ATTEMPTS {
        let stored = BucketItem::decode(pk, sk, &db.stats_get(pk, sk).await?)?;
        let mut sessions = stored.sessions.clone();
        let mut spilled = Vec::new();
        let mut by_shard: BTreeMap<u64, Vec<&SessionRecord>> = BTreeMap::new();
        for (i, r) in records.iter().enumerate() {
            let held = stored.sessions.contains_key(&r.hash);
            if held && applied(stored.markers.get(&r.shard), &r.seq) {
                continue;
            }
            if !held && !sessions.contains_key(&r.hash) {
                if !layout.admits(tier, sessions.len()) {
                    spilled.push(i);
                    continue;
                }
                // Admitted: counts towards the bucket's room from now on.
                sessions.insert(r.hash, Session::new(r.at));
            }
            by_shard.entry(r.shard).or_default().push(r);
        }
        // Deltas per shard: the touched sessions' totals before and after its records.
        let mut fresh = BTreeMap::new();
        let mut current = stored.sessions.clone();
        for (shard, rs) in &by_shard {
            let touched: std::collections::BTreeSet<u64> = rs.iter().map(|r| r.hash).collect();
            let mut before = SessionTotals::default();
            for h in &touched {
                before += SessionTotals::of(current.get(h));
            }
            for r in rs {
                let mut s = current.get(&r.hash).copied();
                crate::stats::sessions::record(&mut s, r.at);
                if let Some(s) = s {
                    current.insert(r.hash, s);
                }
            }
            let mut after = SessionTotals::default();
            for h in &touched {
                after += SessionTotals::of(current.get(h));
            }
            let last = rs.iter().map(|r| r.seq.as_str()).max().unwrap_or_default();
            fresh.insert(
                *shard,
                (
                    last.to_owned(),
                    schema::items::session_adds(before.delta_to(&after)),
                ),
            );
        }
        let written = !fresh.is_empty();
        let (markers, deltas, owed) = settle(&stored.markers, &stored.deltas, target, fresh);
        if !written {
            return Ok(TierOutcome { owed, spilled });
        }
        let next = BucketItem {
            version: stored.version + 1,
            markers,
            deltas,
            sessions: current,
        };
        if let Some(units) = db
            .stats_put_versioned(next.encode(pk, sk), stored.version)
            .await?
        {
            meter.record(units);
            return Ok(TierOutcome { owed, spilled });
        }
        crate::store::backoff(attempt).await;
    }
    Err(StoreError::Contention)
}

fn advance(markers: &mut Markers, shard: u64, seq: &str) {
    let m = markers.entry(shard).or_default();
    if seq > m.as_str() {
        *m = seq.to_owned();
    }
}

/// Adds hashed values to one sketch part item of tier `tier`; returns what it owes its
/// counter item (`target`: that item's markers, read before) and the records of values
/// it neither lists nor has room for. Writes nothing when every value was already
/// counted.
pub async fn apply_distinct(
    db: &Db,
    pk: &str,
    sk: &str,
    tier: usize,
    records: &[DistinctRecord],
    target: &Markers,
    meter: &WriteMeter,
) -> Result<TierOutcome, StoreError> {
    let layout = schema::tiers::SKETCH;
    let counter = match schema::part_of_key(sk) {
        Some(PartKey {
            of: Of::Sessions, ..
        }) => attr::UV,
        Some(PartKey {
            of: Of::Addresses, ..
        }) => attr::IP,
        None => {
            return Err(StoreError::Malformed(format!("{sk} is not a sketch part")));
        }
    };
    for attempt in 1..=ATTEMPTS {
        let stored = PartItem::decode(pk, sk, &db.stats_get(pk, sk).await?)?;
        let mut part = stored.part.clone();
        let mut fresh = BTreeMap::new();
        let mut spilled = Vec::new();
        let mut by_shard: BTreeMap<u64, Vec<(usize, &DistinctRecord)>> = BTreeMap::new();
        for (i, r) in records.iter().enumerate() {
            by_shard.entry(r.shard).or_default().push((i, r));
        }
        for (shard, rs) in &by_shard {
            let before = part.count();
            let mut changed = false;
            for (i, r) in rs {
                let room = part.listed().is_none_or(|held| layout.admits(tier, held));
                if part.lists(r.hash) {
                    continue;
                }
                if !room {
                    spilled.push(*i);
                    continue;
                }
                changed |= if tier < layout.deepest {
                    part.list(r.hash)
                } else {
                    part.insert(r.hash)
                };
            }
            if changed {
                let last = rs
                    .iter()
                    .map(|(_, r)| r.seq.as_str())
                    .max()
                    .unwrap_or_default();
                let by = i64::try_from(part.count()).unwrap_or(i64::MAX)
                    - i64::try_from(before).unwrap_or(i64::MAX);
                fresh.insert(
                    *shard,
                    (last.to_owned(), BTreeMap::from([(counter.to_owned(), by)])),
                );
            }
        }
        spilled.sort_unstable();
        let written = !fresh.is_empty();
        let (markers, deltas, owed) = settle(&stored.markers, &stored.deltas, target, fresh);
        if !written {
            return Ok(TierOutcome { owed, spilled });
        }
        let next = PartItem {
            version: stored.version + 1,
            markers,
            deltas,
            part,
        };
        if let Some(units) = db
            .stats_put_versioned(next.encode(pk, sk), stored.version)
            .await?
        {
            meter.record(units);
            return Ok(TierOutcome { owed, spilled });
        }
        crate::store::backoff(attempt).await;
    }
    Err(StoreError::Contention)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert!(padded_seq("900") < padded_seq("1000"));
        assert!(padded_seq("000000000000000000021") > padded_seq("3"));
        assert_eq!(padded_seq("5").len(), 40);
    }

    fn record(adds: &[(&str, i64)]) -> CounterRecord {
        CounterRecord {
            shard: 0,
            seq: padded_seq("1"),
            adds: adds.iter().map(|(a, b)| ((*a).to_owned(), *b)).collect(),
            members: Vec::new(),
        }
    }

    #[test]
    fn a_full_ranking_item_admits_known_keys_and_counts_new_ones_as_other() {
        let mut known = CounterItem::default();
        // Fill the budget with long keys.
        let long = "x".repeat(MAX_KEY_BYTES);
        let mut i = 0;
        while known
            .numbers
            .keys()
            .map(|n| schema::items::counter_budget(n))
            .sum::<usize>()
            < RANKING_BUDGET
        {
            known.numbers.insert(format!("url:/{i}{long}"), 1);
            i += 1;
        }
        known.numbers.insert("url:/old".into(), 3);
        let r = record(&[
            ("url:/old", 1),
            ("url:/new", 1),
            ("referrer:new.com", 2),
            ("pv", 1),
        ]);
        let (sums, full) = placed_sums(Some(&known), &[&r], false);
        assert!(full);
        assert_eq!(sums.get("url:/old"), Some(&1));
        assert_eq!(sums.get("url:(other)"), Some(&1));
        assert_eq!(sums.get("referrer:(other)"), Some(&2));
        assert_eq!(sums.get("pv"), Some(&1));
        assert!(!sums.contains_key("url:/new"));
    }

    fn adds(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(a, b)| ((*a).to_owned(), *b)).collect()
    }

    #[test]
    fn a_pending_delta_is_owed_until_its_counter_has_the_record() {
        let seq = |n: u64| padded_seq(&n.to_string());
        let markers = Markers::from([(0, seq(10))]);
        let deltas = Deltas::from([(0, adds(&[("uv", 1)]))]);
        // The counter has not applied record 10: still owed, with record 10.
        let (m, d, owed) = settle(
            &markers,
            &deltas,
            &Markers::from([(0, seq(9))]),
            BTreeMap::new(),
        );
        assert_eq!((m, d.clone()), (markers.clone(), deltas.clone()));
        assert_eq!(
            owed,
            vec![Owed {
                shard: 0,
                seq: seq(10),
                adds: adds(&[("uv", 1)])
            }]
        );
        // It has: nothing owed, and the delta is dropped with the next write.
        let applied = Markers::from([(0, seq(10))]);
        let (_, d, owed) = settle(&markers, &deltas, &applied, BTreeMap::new());
        assert!(owed.is_empty() && d.is_empty());
        // New records fold a pending delta into theirs, sent with the newest record.
        let fresh = BTreeMap::from([(0, (seq(12), adds(&[("uv", 2)])))]);
        let (m, _, owed) = settle(&markers, &deltas, &Markers::new(), fresh.clone());
        assert_eq!(m.get(&0), Some(&seq(12)));
        assert_eq!(
            owed,
            vec![Owed {
                shard: 0,
                seq: seq(12),
                adds: adds(&[("uv", 3)])
            }]
        );
        let (_, _, owed) = settle(&markers, &deltas, &applied, fresh);
        assert_eq!(owed[0].adds, adds(&[("uv", 2)]));
        // Other shards are their own.
        let fresh = BTreeMap::from([(1, (seq(3), adds(&[("uv", 1)])))]);
        let (_, d, owed) = settle(&markers, &deltas, &Markers::new(), fresh);
        assert_eq!(owed.len(), 2);
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn an_item_with_room_admits_new_keys() {
        let known = CounterItem::default();
        let r = record(&[("url:/new", 1)]);
        let (sums, full) = placed_sums(Some(&known), &[&r], false);
        assert!(!full);
        assert_eq!(sums.get("url:/new"), Some(&1));
    }
}
