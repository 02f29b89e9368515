//! The aggregator: turns a batch of events-stream records into counter updates.
//!
//! A batch is coalesced in memory: one write per item it touches, whatever the number of
//! events (see `store::stats` for how each write is applied exactly once). The
//! read-modify-write items (session buckets, sketches) go first; their figures are then
//! copied into the counter items with the counters' own update.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use futures::{StreamExt, TryStreamExt};

use super::facts::{Of, SiteInfo, Touch, copy_target, partition, touches};
use crate::events::model::Event;
use crate::store::{Copy, CounterRecord, Db, SessionRecord, StoreError, WriteMeter, padded_seq};

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

    /// The Lambda handler: applies the batch, or asks for all of it again (a retry is
    /// harmless: every update is exactly-once).
    pub async fn handle(&self, batch: StreamEvent) -> DynamoDbEventResponse {
        let events = inserted_events(&batch);
        let started = Instant::now();
        let mut response = DynamoDbEventResponse::default();
        match self.apply(&events).await {
            Ok(report) => tracing::info!(
                records = batch.records.len(),
                counted = report.counted,
                items_written = report.items_written,
                write_units = report.write_units,
                latency_ms = started.elapsed().as_millis() as u64,
                "batch aggregated"
            ),
            Err(err) => {
                tracing::error!(records = batch.records.len(), error = %err, "batch failed; it will be retried");
                if let Some(first) = batch
                    .records
                    .iter()
                    .find_map(|r| r.change.sequence_number.clone())
                {
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure.item_identifier = Some(first);
                    response.batch_item_failures.push(failure);
                }
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

    /// Applies a batch of events in stream order.
    pub async fn apply(&self, events: &[StreamedEvent]) -> Result<BatchReport, StoreError> {
        let mut placed = Vec::with_capacity(events.len());
        for e in events {
            let Some(site) = self.site(e.event.site_id, e.event.generation).await? else {
                continue;
            };
            if e.event.generation < site.generation {
                continue; // statistics cleared since
            }
            placed.push((
                crate::events::id::shard(e.event.id),
                padded_seq(&e.seq),
                &e.event,
                site,
            ));
        }
        let meter = WriteMeter::default();
        apply_placed(&self.db, &placed, &meter).await?;
        Ok(BatchReport {
            records: events.len(),
            counted: placed.len(),
            items_written: meter.writes(),
            write_units: meter.units(),
        })
    }
}

type ItemId = (String, String);

/// Applies events already matched with their site, each with its write shard and padded
/// sequence number. Also used by recount with synthetic sequence numbers.
pub(crate) async fn apply_placed(
    db: &Db,
    placed: &[(u64, String, &Event, SiteInfo)],
    meter: &WriteMeter,
) -> Result<(), StoreError> {
    let mut counters: BTreeMap<ItemId, Vec<CounterRecord>> = BTreeMap::new();
    let mut sessions: BTreeMap<ItemId, Vec<SessionRecord>> = BTreeMap::new();
    let mut distinct: BTreeMap<ItemId, Vec<(Of, u64)>> = BTreeMap::new();
    for (shard, seq, event, site) in placed {
        let pk = partition(site.id, event.generation);
        let mut adds: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
        for touch in touches(event, site) {
            match touch {
                Touch::Add { sk, attr, by } => adds.entry(sk).or_default().push((attr, by)),
                Touch::Session { sk, session, at } => sessions
                    .entry((pk.clone(), sk))
                    .or_default()
                    .push(SessionRecord {
                        shard: *shard,
                        seq: seq.clone(),
                        session,
                        at,
                    }),
                Touch::Distinct { sk, of, hash } => distinct
                    .entry((pk.clone(), sk))
                    .or_default()
                    .push((of, hash)),
            }
        }
        for (sk, adds) in adds {
            counters
                .entry((pk.clone(), sk))
                .or_default()
                .push(CounterRecord {
                    shard: *shard,
                    seq: seq.clone(),
                    adds,
                });
        }
    }

    // Read-modify-write items first; collect what they copy into counter items. (Futures
    // are built in loops, not closures, so the batch future stays `Send`.)
    let mut session_jobs = Vec::with_capacity(sessions.len());
    for ((pk, sk), records) in &sessions {
        session_jobs.push(session_job(db, pk, sk, records, meter));
    }
    let session_copies = futures::stream::iter(session_jobs)
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<_>>()
        .await?;
    let mut distinct_jobs = Vec::with_capacity(distinct.len());
    for ((pk, sk), hashes) in &distinct {
        distinct_jobs.push(distinct_job(db, pk, sk, hashes, meter));
    }
    let distinct_copies = futures::stream::iter(distinct_jobs)
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<_>>()
        .await?;
    let mut copies: BTreeMap<ItemId, Vec<Copy>> = BTreeMap::new();
    for (target, copy) in session_copies.into_iter().chain(distinct_copies).flatten() {
        copies.entry(target).or_default().push(copy);
    }
    for target in copies.keys() {
        counters.entry(target.clone()).or_default();
    }

    let mut counter_jobs = Vec::with_capacity(counters.len());
    for ((pk, sk), records) in &counters {
        let copies = copies
            .get(&(pk.clone(), sk.clone()))
            .map_or(&[][..], Vec::as_slice);
        counter_jobs.push(db.apply_counters(pk, sk, records, copies, meter));
    }
    futures::stream::iter(counter_jobs)
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

async fn session_job(
    db: &Db,
    pk: &str,
    sk: &str,
    records: &[SessionRecord],
    meter: &WriteMeter,
) -> Result<Option<(ItemId, Copy)>, StoreError> {
    let (version, totals) = db.apply_sessions(pk, sk, records, meter).await?;
    Ok(copy_target(sk).map(|(target, attr)| {
        (
            (pk.to_owned(), target),
            Copy {
                attr,
                version,
                fields: vec![
                    ("v", version),
                    ("s", totals.sessions),
                    ("b", totals.bounces),
                    ("d", totals.duration_ms),
                ],
            },
        )
    }))
}

async fn distinct_job(
    db: &Db,
    pk: &str,
    sk: &str,
    values: &[(Of, u64)],
    meter: &WriteMeter,
) -> Result<Option<(ItemId, Copy)>, StoreError> {
    let (version, visitors, addresses) = db.apply_distinct(pk, sk, values, meter).await?;
    Ok(copy_target(sk).map(|(target, attr)| {
        (
            (pk.to_owned(), target),
            Copy {
                attr,
                version,
                fields: vec![("v", version), ("u", visitors), ("i", addresses)],
            },
        )
    }))
}
