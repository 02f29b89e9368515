//! The aggregator: turns a batch of events-stream records into counter updates.
//!
//! A batch is coalesced in memory: one write per item it touches, whatever the number of
//! events (see [`apply`](super::apply) for how each write is applied exactly once). It is
//! written in phases: the read-modify-write items (sessions, sketch parts) first, after
//! reading their counter items' markers, and what they change in those counters joins
//! the counter updates as deltas; then the month items, then the week items, then the day
//! and ranking items, so that at every instant a stored month is at least its weeks and
//! a week at least its days.
//!
//! One item that cannot be written does not cost the batch: it is set aside (logged
//! loudly, counted as `items_set_aside`), the rest is applied, and the handler reports
//! the first record not applied everywhere, so Lambda retries from it (and bisects
//! towards it) while everything before it is done. A site's records from a failed one on
//! are kept out of later phases, so its month ≥ week ≥ day order holds for them too;
//! other sites go on.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use futures::StreamExt;

use super::apply::{
    CounterRecord, DistinctRecord, Owed, SessionRecord, apply_counters, apply_distinct,
    apply_sessions, padded_seq,
};
use super::facts::{SiteInfo, Touch, realtime_touches, touches};
use super::schema::{Markers, delta_target, partition, tiers, write_phase};
use crate::events::model::Event;
use crate::store::{Db, StoreError, WriteMeter};

/// One inserted event from the stream, with its record's sequence number.
#[derive(Debug, Clone)]
pub struct StreamedEvent {
    /// As the stream gave it (what a partial batch failure names).
    pub seq: String,
    pub event: Event,
}

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BatchReport {
    pub records: usize,
    /// Events counted (others belonged to deleted sites or cleared generations).
    pub counted: usize,
    pub items_written: u64,
    pub write_units: f64,
    /// Items that could not be written this time (their records are retried).
    pub items_set_aside: usize,
}

/// A batch applied only up to a record: the records before `first_not_applied` (an index
/// into the batch's events) are applied everywhere, the rest only in part.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("batch applied up to record {first_not_applied} ({} items set aside)", report.items_set_aside)]
pub struct PartialBatch {
    pub report: BatchReport,
    pub first_not_applied: usize,
}

/// How long a site's time zone, domain and generation are trusted.
pub const SITE_TTL: Duration = Duration::from_secs(30);
/// Items written at once.
const PARALLEL: usize = 16;

pub struct Aggregator {
    db: Db,
    sites: Mutex<HashMap<u64, (Instant, Option<SiteInfo>)>>,
}

/// The INSERT records of a stream batch, decoded. Records that are not events are logged
/// and skipped: retrying them could never succeed.
pub fn inserted_events(batch: &StreamEvent) -> Vec<StreamedEvent> {
    let mut out = Vec::with_capacity(batch.records.len());
    for record in &batch.records {
        if record.event_name != "INSERT" {
            continue;
        }
        let Some(seq) = record.change.sequence_number.clone() else {
            tracing::warn!(event_id = %record.event_id, "stream record without a sequence number");
            continue;
        };
        match serde_dynamo::from_item::<_, Event>(record.change.new_image.clone()) {
            Ok(event) => out.push(StreamedEvent { seq, event }),
            Err(err) => {
                tracing::warn!(seq, error = %err, "stream record is not an event; skipped")
            }
        }
    }
    out
}

impl Aggregator {
    pub fn new(db: Db) -> Self {
        Aggregator {
            db,
            sites: Mutex::new(HashMap::new()),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The Lambda handler: applies the batch and reports the first record not applied
    /// (Lambda retries from there; a retry is harmless: every update is exactly-once).
    pub async fn handle(&self, batch: StreamEvent) -> DynamoDbEventResponse {
        let events = inserted_events(&batch);
        let started = Instant::now();
        let mut response = DynamoDbEventResponse::default();
        let (report, first) = match self.apply(&events).await {
            Ok(report) => (report, None),
            Err(partial) => (partial.report, events.get(partial.first_not_applied)),
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        match first {
            None => tracing::info!(
                records = batch.records.len(),
                counted = report.counted,
                items_written = report.items_written,
                write_units = report.write_units,
                latency_ms,
                "batch aggregated"
            ),
            Some(first) => {
                tracing::error!(
                    records = batch.records.len(),
                    counted = report.counted,
                    items_written = report.items_written,
                    items_set_aside = report.items_set_aside,
                    retry_from = %first.seq,
                    latency_ms,
                    "batch partly applied; Lambda retries from the first record not applied"
                );
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(first.seq.clone());
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    async fn site(&self, id: u64, generation: u64) -> Result<Option<SiteInfo>, StoreError> {
        if let Ok(cache) = self.sites.lock()
            && let Some((at, info)) = cache.get(&id)
            && at.elapsed() < SITE_TTL
            && info.as_ref().is_none_or(|i| i.generation >= generation)
        {
            return Ok(info.clone());
        }
        let info = self.db.get_site(id).await?.map(|s| SiteInfo::from(&s));
        if let Ok(mut cache) = self.sites.lock() {
            cache.insert(id, (Instant::now(), info.clone()));
        }
        Ok(info)
    }

    /// Applies a batch of events in stream order, as far as it can (see [`PartialBatch`]).
    pub async fn apply(&self, events: &[StreamedEvent]) -> Result<BatchReport, PartialBatch> {
        let mut placed = Vec::with_capacity(events.len());
        let mut cut = None;
        for (index, e) in events.iter().enumerate() {
            let site = match self.site(e.event.site_id, e.event.generation).await {
                Ok(Some(site)) => site,
                Ok(None) => continue,
                Err(err) => {
                    tracing::error!(site_id = e.event.site_id, error = %err, "site lookup failed");
                    cut = Some(index);
                    break;
                }
            };
            if e.event.generation < site.generation {
                continue; // statistics cleared since
            }
            placed.push(Placed {
                index,
                shard: crate::events::id::shard(e.event.id),
                seq: padded_seq(&e.seq),
                event: &e.event,
                site,
            });
        }
        let meter = WriteMeter::default();
        let outcome = apply_placed(&self.db, &placed, chrono::Utc::now(), &meter).await;
        let report = BatchReport {
            records: events.len(),
            counted: placed.len(),
            items_written: meter.writes(),
            write_units: meter.units(),
            items_set_aside: outcome.set_aside,
        };
        match (cut, outcome.first_not_applied) {
            (None, None) => Ok(report),
            (a, b) => Err(PartialBatch {
                report,
                first_not_applied: a.into_iter().chain(b).min().unwrap_or(0),
            }),
        }
    }
}

/// One event matched with its site, its write shard and padded sequence number, and its
/// index in the batch.
#[derive(Debug, Clone)]
pub(crate) struct Placed<'a> {
    pub index: usize,
    pub shard: u64,
    pub seq: String,
    pub event: &'a Event,
    pub site: SiteInfo,
}

/// What applying some placed events did.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// The index of the first event not applied to every item it touches.
    pub first_not_applied: Option<usize>,
    pub set_aside: usize,
}

type ItemId = (String, String);

/// One item's records, each with its event's batch index.
struct Job<R> {
    records: Vec<(usize, R)>,
}

impl<R> Default for Job<R> {
    fn default() -> Self {
        Job {
            records: Vec::new(),
        }
    }
}

impl<R: Clone> Job<R> {
    fn all(&self) -> Vec<R> {
        self.records.iter().map(|(_, r)| r.clone()).collect()
    }
    fn first(&self) -> Option<usize> {
        self.records.iter().map(|(i, _)| *i).min()
    }
}

/// Applies one counter item's records; when that fails for good (not a throttle or a
/// conflict), finds by bisection the longest prefix of records that applies and applies
/// it, so the record reported is the one that cannot be applied. `Err((i, error))`: the
/// records before `i` are applied.
async fn apply_isolating(
    db: &Db,
    pk: &str,
    sk: &str,
    records: &[(usize, CounterRecord)],
    meter: &WriteMeter,
) -> Result<(), (usize, StoreError)> {
    let plain: Vec<CounterRecord> = records.iter().map(|(_, r)| r.clone()).collect();
    let err = match apply_counters(db, pk, sk, &plain, &[], meter).await {
        Ok(()) => return Ok(()),
        Err(err) => err,
    };
    if err.is_retryable() || plain.len() < 2 {
        return Err((0, err));
    }
    // plain[..good] applies, plain[..bad] does not.
    let (mut good, mut bad) = (0, plain.len());
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        match apply_counters(db, pk, sk, &plain[..mid], &[], meter).await {
            Ok(()) => good = mid,
            Err(e) if e.is_retryable() => return Err((good, e)),
            Err(_) => bad = mid,
        }
    }
    Err((good, err))
}

/// Per site partition, the first record not applied everywhere: later phases leave it and
/// the site's later records out (so a site's month ≥ week ≥ day holds for them too),
/// while other sites go on.
#[derive(Debug, Default)]
struct Cuts(BTreeMap<String, usize>);

impl Cuts {
    fn lower(&mut self, pk: &str, index: Option<usize>) {
        if let Some(i) = index {
            let c = self.0.entry(pk.to_owned()).or_insert(i);
            *c = (*c).min(i);
        }
    }
    fn keeps(&self, pk: &str, index: usize) -> bool {
        self.0.get(pk).is_none_or(|c| index < *c)
    }
    fn first(&self) -> Option<usize> {
        self.0.values().copied().min()
    }
}

fn set_aside(pk: &str, sk: &str, records: usize, err: &StoreError) {
    // A metric filter on this message feeds the StatsItemsSetAside alarm.
    tracing::error!(
        pk,
        sk,
        records,
        retryable = err.is_retryable(),
        error = %err,
        metric = "StatsItemsSetAside",
        "stats item set aside: its records are reported for a retry"
    );
}

/// Applies placed events, in phases (see the module's doc); `now` places them in the
/// realtime window.
pub(crate) async fn apply_placed(
    db: &Db,
    placed: &[Placed<'_>],
    now: chrono::DateTime<chrono::Utc>,
    meter: &WriteMeter,
) -> Applied {
    let mut counters: BTreeMap<ItemId, Job<CounterRecord>> = BTreeMap::new();
    let mut sessions: BTreeMap<ItemId, Job<SessionRecord>> = BTreeMap::new();
    let mut distinct: BTreeMap<ItemId, Job<DistinctRecord>> = BTreeMap::new();
    // Per (site partition, write shard): the batch's records, by seq, with their index.
    let mut batch_seqs: BTreeMap<(String, u64), BTreeMap<String, usize>> = BTreeMap::new();
    for p in placed {
        let pk = partition(p.site.id, p.event.generation);
        batch_seqs
            .entry((pk.clone(), p.shard))
            .or_default()
            .insert(p.seq.clone(), p.index);
        let mut adds: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
        let mut members: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
        for touch in touches(p.event, &p.site)
            .into_iter()
            .chain(realtime_touches(p.event, now))
        {
            match touch {
                Touch::Add { sk, attr, by } => adds.entry(sk).or_default().push((attr, by)),
                Touch::Member { sk, attr, value } => {
                    adds.entry(sk.clone()).or_default();
                    members.entry(sk).or_default().push((attr, value));
                }
                Touch::Session { base, hash, at } => {
                    let sk = tiers::item_key(&base, hash, 0);
                    sessions.entry((pk.clone(), sk)).or_default().records.push((
                        p.index,
                        SessionRecord {
                            shard: p.shard,
                            seq: p.seq.clone(),
                            hash,
                            at,
                        },
                    ))
                }
                Touch::Distinct { base, hash } => {
                    let sk = tiers::item_key(&base, hash, 0);
                    distinct.entry((pk.clone(), sk)).or_default().records.push((
                        p.index,
                        DistinctRecord {
                            shard: p.shard,
                            seq: p.seq.clone(),
                            hash,
                        },
                    ))
                }
            }
        }
        for (sk, adds) in adds {
            let members = members.remove(&sk).unwrap_or_default();
            counters.entry((pk.clone(), sk)).or_default().records.push((
                p.index,
                CounterRecord {
                    shard: p.shard,
                    seq: p.seq.clone(),
                    adds,
                    members,
                },
            ));
        }
    }

    let mut out = Applied::default();
    let mut cuts = Cuts::default();

    // Phase 0: the markers of the counter items the read-modify-write items send deltas
    // to (what those counters have applied decides what is still owed).
    let mut targets: BTreeMap<ItemId, Option<Markers>> = BTreeMap::new();
    for (pk, sk) in sessions.keys().chain(distinct.keys()) {
        if let Some(target) = delta_target(sk) {
            targets.insert((pk.clone(), target), None);
        }
    }
    let reads: Vec<_> = targets
        .keys()
        .map(|(pk, sk)| async move {
            let item = db.stats_get(pk, sk).await;
            ((pk.clone(), sk.clone()), item)
        })
        .collect();
    let read: Vec<_> = futures::stream::iter(reads)
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    for (id, item) in read {
        match item {
            Ok(item) => {
                targets.insert(id, Some(super::schema::items::markers_and_version(&item).0));
            }
            Err(err) => set_aside(&id.0, &id.1, 0, &err),
        }
    }
    let no_markers = Markers::new();
    // A read-modify-write item whose counter could not be read waits for the retry.
    let target_of = |pk: &str, sk: &str| -> Option<&Markers> {
        let target = delta_target(sk)?;
        targets
            .get(&(pk.to_owned(), target))
            .map(|m| m.as_ref())
            .unwrap_or(Some(&no_markers))
    };

    // Phase 1: read-modify-write items, tier by tier (see `schema::tiers`): each item
    // applies the records of values it holds or admits, and sends the others one tier
    // down; collect what they owe their counter items.
    let deepest = tiers::SESSIONS.deepest.max(tiers::SKETCH.deepest);
    for tier in 0..=deepest {
        if sessions.is_empty() && distinct.is_empty() {
            break;
        }
        // (Futures are built in loops, not closures, so the batch future stays `Send`.)
        let mut jobs = Vec::with_capacity(sessions.len() + distinct.len());
        for ((pk, sk), job) in &sessions {
            let records = job.all();
            let target = target_of(pk, sk);
            jobs.push(futures::future::Either::Left(async move {
                let result = match target {
                    Some(target) => apply_sessions(db, pk, sk, tier, &records, target, meter).await,
                    None => Err(StoreError::Contention),
                };
                (true, pk, sk, result)
            }));
        }
        for ((pk, sk), job) in &distinct {
            let records = job.all();
            let target = target_of(pk, sk);
            jobs.push(futures::future::Either::Right(async move {
                let result = match target {
                    Some(target) => apply_distinct(db, pk, sk, tier, &records, target, meter).await,
                    None => Err(StoreError::Contention),
                };
                (false, pk, sk, result)
            }));
        }
        let results: Vec<_> = futures::stream::iter(jobs)
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        let mut next_sessions: BTreeMap<ItemId, Job<SessionRecord>> = BTreeMap::new();
        let mut next_distinct: BTreeMap<ItemId, Job<DistinctRecord>> = BTreeMap::new();
        for (is_session, pk, sk, result) in results {
            let id = (pk.clone(), sk.clone());
            let (first, records) = if is_session {
                let job = sessions.get(&id);
                (job.and_then(Job::first), job.map_or(0, |j| j.records.len()))
            } else {
                let job = distinct.get(&id);
                (job.and_then(Job::first), job.map_or(0, |j| j.records.len()))
            };
            let outcome = match result {
                Ok(outcome) => outcome,
                Err(err) => {
                    set_aside(pk, sk, records, &err);
                    out.set_aside += 1;
                    cuts.lower(pk, first);
                    continue;
                }
            };
            if let Some(target) = delta_target(sk) {
                let job = counters.entry((pk.clone(), target)).or_default();
                for o in outcome.owed {
                    let batch = batch_seqs.get(&(pk.clone(), o.shard));
                    attach(job, o, batch, first);
                }
            }
            for i in outcome.spilled {
                if is_session {
                    if let Some((index, r)) = sessions.get(&id).and_then(|j| j.records.get(i)) {
                        let down = (
                            pk.clone(),
                            tiers::item_key(sk_base(sk, tier), r.hash, tier + 1),
                        );
                        next_sessions
                            .entry(down)
                            .or_default()
                            .records
                            .push((*index, r.clone()));
                    }
                } else if let Some((index, r)) = distinct.get(&id).and_then(|j| j.records.get(i)) {
                    let down = (
                        pk.clone(),
                        tiers::item_key(sk_base(sk, tier), r.hash, tier + 1),
                    );
                    next_distinct
                        .entry(down)
                        .or_default()
                        .records
                        .push((*index, r.clone()));
                }
            }
        }
        sessions = next_sessions;
        distinct = next_distinct;
    }
    for job in counters.values_mut() {
        job.records.sort_by(|a, b| a.1.seq.cmp(&b.1.seq));
    }

    // Phases 2-4: months, weeks, then days and rankings.
    for phase in 0..=2u8 {
        let mut jobs = Vec::new();
        for ((pk, sk), job) in counters
            .iter()
            .filter(|((_, sk), _)| write_phase(sk) == phase)
        {
            let records: Vec<(usize, CounterRecord)> = job
                .records
                .iter()
                .filter(|(i, _)| cuts.keeps(pk, *i))
                .cloned()
                .collect();
            if records.is_empty() {
                continue;
            }
            jobs.push(async move {
                let result = apply_isolating(db, pk, sk, &records, meter).await;
                let failed_at = match &result {
                    Ok(()) => None,
                    Err((at, _)) => records.get(*at).map(|(i, _)| *i),
                };
                (
                    pk,
                    sk,
                    failed_at,
                    records.len(),
                    result.err().map(|(_, e)| e),
                )
            });
        }
        let results: Vec<_> = futures::stream::iter(jobs)
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        for (pk, sk, failed_at, records, err) in results {
            if let Some(err) = err {
                set_aside(pk, sk, records, &err);
                out.set_aside += 1;
                cuts.lower(pk, failed_at);
            }
        }
    }
    out.first_not_applied = cuts.first();
    out
}

/// The base key of a tier item of tier `tier` (its key without the tier's hex digits).
fn sk_base(sk: &str, tier: usize) -> &str {
    sk.get(..sk.len().saturating_sub(tier)).unwrap_or(sk)
}

/// Adds a delta a read-modify-write item owes to its counter item's job, with the record
/// it names: merged into that record's additions when the batch has it, else as a record
/// of its own. A delta named by a record beyond this batch's last of that shard waits
/// for the batch that has it (a bisected retry ends before it).
fn attach(
    job: &mut Job<CounterRecord>,
    owed: Owed,
    batch: Option<&BTreeMap<String, usize>>,
    first: Option<usize>,
) {
    let Some(batch) = batch else {
        return; // no record of that shard here: its own retry sends it
    };
    if batch
        .keys()
        .next_back()
        .is_none_or(|last| owed.seq.as_str() > last.as_str())
    {
        return;
    }
    let adds: Vec<(String, i64)> = owed.adds.into_iter().collect();
    if let Some((_, record)) = job
        .records
        .iter_mut()
        .find(|(_, r)| r.shard == owed.shard && r.seq == owed.seq)
    {
        record.adds.extend(adds);
        return;
    }
    let index = batch.get(&owed.seq).copied().or(first).unwrap_or_default();
    job.records.push((
        index,
        CounterRecord {
            shard: owed.shard,
            seq: owed.seq,
            adds,
            members: Vec::new(),
        },
    ));
}
