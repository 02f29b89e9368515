//! The stats table (`StatsTable`): items the aggregator keeps from the events stream.
//!
//! `pk = "<site_id>#<generation>"`; the sort keys are listed in `stats::facts`. Two kinds
//! of items, both applied exactly once per stream record:
//!
//! - **Counter items** (`D#`, `W#`, `M#`, `R#`) change by `ADD`. Each keeps, per events
//!   write shard `s` (the events partition `site#generation#s`, whose records reach the
//!   stream in order), the last applied sequence number in `q<s>`. An update first assumes
//!   its records are all new (`q<s> < first`); if DynamoDB says otherwise it returns the
//!   stored item, the records already applied are dropped and the rest is applied on
//!   condition that the markers are still what was read.
//! - **Read-modify-write items** (session buckets `S#`, sketches `U#`/`I#`) are read
//!   consistently, changed in memory and put back on condition that their version `v` is
//!   unchanged. Session buckets also keep `q<s>` markers; sketches need none (inserting a
//!   value twice changes nothing).
//!
//! What readers need of a read-modify-write item (session totals, distinct counts) is
//! copied into a counter item as a map `{v, …}`, set only when its version is newer than
//! the copy there, so readers only ever read small counter items.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, ReturnConsumedCapacity,
    ReturnValuesOnConditionCheckFailure, WriteRequest,
};

use super::{Db, Item, StoreError, conditional, key, n, s};
use crate::stats::facts::Of;
use crate::stats::sessions::Sessions;
use crate::stats::sketch::Distinct;

/// Distinct attributes changed by one counter update (keeps expressions under 4 KB).
const MAX_ATTRS: usize = 100;
const ATTEMPTS: usize = 25;
/// Sessions one bucket tracks (20 bytes each: ~300 KB of the 400 KB item limit), so a
/// site's day tracks up to `BUCKETS` × 15,000 sessions for bounce rate and duration;
/// later sessions of a busier day still count as visitors (sketches) but not there.
pub const MAX_BUCKET_SESSIONS: usize = 15_000;

/// Sequence numbers compare as zero-padded strings.
pub fn padded_seq(seq: &str) -> String {
    format!("{seq:0>40}")
}

fn marker_attr(shard: u64) -> String {
    format!("q{shard}")
}

/// One stream record's additions to one counter item.
#[derive(Debug, Clone)]
pub struct CounterRecord {
    pub shard: u64,
    /// Padded ([`padded_seq`]).
    pub seq: String,
    pub adds: Vec<(String, i64)>,
}

/// One stream record's event in one session bucket.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub shard: u64,
    pub seq: String,
    pub session: u64,
    pub at: u32,
}

/// Figures of a read-modify-write item, copied into a counter item's `attr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub attr: String,
    pub version: u64,
    pub fields: Vec<(&'static str, u64)>,
}

/// Write units and items written, summed over a batch.
#[derive(Debug, Default)]
pub struct WriteMeter {
    writes: AtomicU64,
    milli_units: AtomicU64,
}

impl WriteMeter {
    fn record(&self, units: Option<f64>) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        let milli = (units.unwrap_or(0.0) * 1000.0).round() as u64;
        self.milli_units.fetch_add(milli, Ordering::Relaxed);
    }
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
    pub fn units(&self) -> f64 {
        self.milli_units.load(Ordering::Relaxed) as f64 / 1000.0
    }
}

/// What a read cost: requests and consumed read units.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct ReadCost {
    pub requests: u32,
    pub units: f64,
}

impl std::ops::AddAssign for ReadCost {
    fn add_assign(&mut self, other: ReadCost) {
        self.requests += other.requests;
        self.units += other.units;
    }
}

fn num(item: &Item, attr: &str) -> Option<u64> {
    match item.get(attr)? {
        AttributeValue::N(v) => v.parse().ok(),
        _ => None,
    }
}

fn string<'a>(item: &'a Item, attr: &str) -> Option<&'a str> {
    match item.get(attr)? {
        AttributeValue::S(v) => Some(v),
        _ => None,
    }
}

fn blob<'a>(item: &'a Item, attr: &str) -> &'a [u8] {
    match item.get(attr) {
        Some(AttributeValue::B(b)) => b.as_ref(),
        _ => &[],
    }
}

/// One sketch of a stored sketch item.
pub fn sketch_of(item: &Item, of: Of) -> Result<Distinct, StoreError> {
    Distinct::from_bytes(blob(item, of.attr())).map_err(|e| StoreError::Malformed(e.to_string()))
}

/// A number attribute of a stored item (0 when absent).
pub fn number(item: &Item, attr: &str) -> i64 {
    match item.get(attr) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

/// A field of a copy map (`attr.field`), 0 when absent.
pub fn copy_field(item: &Item, attr: &str, field: &str) -> u64 {
    match item.get(attr) {
        Some(AttributeValue::M(m)) => num(m, field).unwrap_or(0),
        _ => 0,
    }
}

fn copy_version(item: &Item, attr: &str) -> Option<u64> {
    match item.get(attr)? {
        AttributeValue::M(m) => num(m, "v"),
        _ => None,
    }
}

/// Where ranking keys go once their item is full.
pub const OTHER: &str = "(other)";

fn is_too_large<R>(err: &aws_sdk_dynamodb::error::SdkError<UpdateItemError, R>) -> bool {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    err.code() == Some("ValidationException")
        && err
            .message()
            .is_some_and(|m| m.contains("maximum allowed size"))
}

fn is_condition_failure(err: &UpdateItemError) -> Option<Item> {
    match err {
        UpdateItemError::ConditionalCheckFailedException(e) => {
            Some(e.item().cloned().unwrap_or_default())
        }
        _ => None,
    }
}

impl Db {
    /// Applies counter records (in stream order) and copies to one counter item, exactly
    /// once per record.
    pub async fn apply_counters(
        &self,
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
        let mut attrs: std::collections::HashSet<&str> = Default::default();
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
            self.apply_counter_run(pk, sk, run, copies, meter).await?;
        }
        Ok(())
    }

    async fn apply_counter_run(
        &self,
        pk: &str,
        sk: &str,
        records: &[CounterRecord],
        copies: &[Copy],
        meter: &WriteMeter,
    ) -> Result<(), StoreError> {
        // None: assume nothing was applied yet; Some: the stored item as last seen.
        let mut known: Option<Item> = None;
        // Set once the item hit DynamoDB's 400 KB limit: ranking keys it does not have yet
        // are counted under `<stat_type>:(other)` instead.
        let mut full = false;
        for _ in 0..ATTEMPTS {
            let pending: Vec<&CounterRecord> = records
                .iter()
                .filter(|r| match &known {
                    None => true,
                    Some(old) => {
                        string(old, &marker_attr(r.shard)).is_none_or(|m| r.seq.as_str() > m)
                    }
                })
                .collect();
            let due: Vec<&Copy> = copies
                .iter()
                .filter(|c| match &known {
                    None => true,
                    Some(old) => copy_version(old, &c.attr).is_none_or(|v| c.version > v),
                })
                .collect();
            if pending.is_empty() && due.is_empty() {
                return Ok(());
            }

            let mut request = self
                .client
                .update_item()
                .table_name(&self.tables.stats)
                .set_key(Some(key(pk, sk)))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            let mut sets = Vec::new();
            let mut conditions = Vec::new();

            let mut sums: BTreeMap<String, i64> = BTreeMap::new();
            let mut shards: BTreeMap<u64, (&str, &str)> = BTreeMap::new();
            for r in &pending {
                for (attr, by) in &r.adds {
                    let attr = match (&known, attr.split_once(':')) {
                        (Some(old), Some((stat, _))) if full && !old.contains_key(attr) => {
                            format!("{stat}:{OTHER}")
                        }
                        _ => attr.clone(),
                    };
                    *sums.entry(attr).or_default() += by;
                }
                let e = shards.entry(r.shard).or_insert((&r.seq, &r.seq));
                if r.seq.as_str() < e.0 {
                    e.0 = &r.seq;
                }
                if r.seq.as_str() > e.1 {
                    e.1 = &r.seq;
                }
            }
            let mut adds = Vec::new();
            for (i, (attr, by)) in sums.iter().enumerate() {
                if *by == 0 {
                    continue;
                }
                adds.push(format!("#a{i} :a{i}"));
                request = request
                    .expression_attribute_names(format!("#a{i}"), attr)
                    .expression_attribute_values(format!(":a{i}"), n(by));
            }
            for (shard, (first, last)) in &shards {
                let attr = marker_attr(*shard);
                sets.push(format!("#q{shard} = :ql{shard}"));
                request = request
                    .expression_attribute_names(format!("#q{shard}"), &attr)
                    .expression_attribute_values(format!(":ql{shard}"), s(*last));
                match &known {
                    None => {
                        conditions.push(format!(
                            "(attribute_not_exists(#q{shard}) OR #q{shard} < :qf{shard})"
                        ));
                        request =
                            request.expression_attribute_values(format!(":qf{shard}"), s(*first));
                    }
                    Some(old) => match string(old, &attr) {
                        Some(m) => {
                            conditions.push(format!("#q{shard} = :qo{shard}"));
                            request =
                                request.expression_attribute_values(format!(":qo{shard}"), s(m));
                        }
                        None => conditions.push(format!("attribute_not_exists(#q{shard})")),
                    },
                }
            }
            let mut uses_version = false;
            for (i, c) in due.iter().enumerate() {
                let map: HashMap<String, AttributeValue> = c
                    .fields
                    .iter()
                    .map(|(f, v)| ((*f).to_owned(), n(v)))
                    .collect();
                sets.push(format!("#c{i} = :c{i}"));
                request = request
                    .expression_attribute_names(format!("#c{i}"), &c.attr)
                    .expression_attribute_values(format!(":c{i}"), AttributeValue::M(map));
                match &known {
                    None => {
                        conditions.push(format!(
                            "(attribute_not_exists(#c{i}) OR #c{i}.#v < :cv{i})"
                        ));
                        uses_version = true;
                        request =
                            request.expression_attribute_values(format!(":cv{i}"), n(c.version));
                    }
                    Some(old) => match copy_version(old, &c.attr) {
                        Some(v) => {
                            conditions.push(format!("#c{i}.#v = :cv{i}"));
                            uses_version = true;
                            request = request.expression_attribute_values(format!(":cv{i}"), n(v));
                        }
                        None => conditions.push(format!("attribute_not_exists(#c{i})")),
                    },
                }
            }
            if uses_version {
                request = request.expression_attribute_names("#v", "v");
            }
            let mut expression = String::new();
            if !sets.is_empty() {
                expression.push_str("SET ");
                expression.push_str(&sets.join(", "));
            }
            if !adds.is_empty() {
                expression.push_str(" ADD ");
                expression.push_str(&adds.join(", "));
            }
            request = request.update_expression(expression.trim());
            if !conditions.is_empty() {
                request = request.condition_expression(conditions.join(" AND "));
            }
            match request.send().await {
                Ok(out) => {
                    meter.record(out.consumed_capacity().and_then(|c| c.capacity_units()));
                    return Ok(());
                }
                Err(err) => {
                    if let Some(stored) = err.as_service_error().and_then(is_condition_failure) {
                        known = Some(stored);
                    } else if !full && is_too_large(&err) {
                        full = true;
                        known = Some(self.get_stats_item(pk, sk).await?);
                        tracing::warn!(pk, sk, "counter item is full: new keys count as (other)");
                    } else {
                        return Err(StoreError::dynamo("UpdateItem")(err));
                    }
                }
            }
        }
        Err(StoreError::Contention)
    }

    async fn get_stats_item(&self, pk: &str, sk: &str) -> Result<Item, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.stats)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::dynamo("GetItem"))?;
        Ok(out.item.unwrap_or_default())
    }

    /// Puts `item` if the stored version is still `version` (absent when `None`).
    async fn put_versioned(
        &self,
        item: Item,
        version: Option<u64>,
        meter: &WriteMeter,
    ) -> Result<bool, StoreError> {
        let request = self
            .client
            .put_item()
            .table_name(&self.tables.stats)
            .set_item(Some(item))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let request = match version {
            Some(v) => request
                .condition_expression("v = :v")
                .expression_attribute_values(":v", n(v)),
            None => request.condition_expression("attribute_not_exists(pk)"),
        };
        match conditional("PutItem", request.send().await)? {
            Some(out) => {
                meter.record(out.consumed_capacity().and_then(|c| c.capacity_units()));
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Applies session records to one session bucket, exactly once per record; returns
    /// the bucket's version and totals.
    pub async fn apply_sessions(
        &self,
        pk: &str,
        sk: &str,
        records: &[SessionRecord],
        meter: &WriteMeter,
    ) -> Result<(u64, crate::stats::sessions::SessionTotals), StoreError> {
        for _ in 0..ATTEMPTS {
            let stored = self.get_stats_item(pk, sk).await?;
            let version = num(&stored, "v");
            let mut sessions = Sessions::from_bytes(blob(&stored, "s"))
                .map_err(|e| StoreError::Malformed(format!("{pk}/{sk}: {e}")))?;
            let pending: Vec<&SessionRecord> = records
                .iter()
                .filter(|r| {
                    string(&stored, &marker_attr(r.shard)).is_none_or(|m| r.seq.as_str() > m)
                })
                .collect();
            if pending.is_empty() {
                return Ok((version.unwrap_or(0), sessions.totals()));
            }
            let mut item = stored.clone();
            let mut dropped = 0usize;
            for r in &pending {
                if !sessions.record_capped(r.session, r.at, MAX_BUCKET_SESSIONS) {
                    dropped += 1;
                }
                let attr = marker_attr(r.shard);
                if string(&item, &attr).is_none_or(|m| r.seq.as_str() > m) {
                    item.insert(attr, s(&r.seq));
                }
            }
            if dropped > 0 {
                // uv and pv still count these; bounce rate and duration leave them out.
                tracing::warn!(
                    pk,
                    sk,
                    dropped,
                    "session bucket is full: new sessions are left out of bounce rate and duration"
                );
            }
            let next = version.unwrap_or(0) + 1;
            item.extend(key(pk, sk));
            item.insert("v".into(), n(next));
            item.insert("s".into(), AttributeValue::B(sessions.to_bytes().into()));
            if self.put_versioned(item, version, meter).await? {
                return Ok((next, sessions.totals()));
            }
        }
        Err(StoreError::Contention)
    }

    /// Adds hashed values to a sketch item's sketches; returns its version and the counts
    /// of its session (`u`) and address (`i`) sketches. Writes nothing when every value
    /// was already in them.
    pub async fn apply_distinct(
        &self,
        pk: &str,
        sk: &str,
        values: &[(Of, u64)],
        meter: &WriteMeter,
    ) -> Result<(u64, u64, u64), StoreError> {
        let decode = |item: &Item, of: Of| {
            Distinct::from_bytes(blob(item, of.attr()))
                .map_err(|e| StoreError::Malformed(format!("{pk}/{sk}: {e}")))
        };
        for _ in 0..ATTEMPTS {
            let stored = self.get_stats_item(pk, sk).await?;
            let version = num(&stored, "v");
            let mut sessions = decode(&stored, Of::Sessions)?;
            let mut addresses = decode(&stored, Of::Addresses)?;
            let mut changed = false;
            for (of, h) in values {
                changed |= match of {
                    Of::Sessions => sessions.insert(*h),
                    Of::Addresses => addresses.insert(*h),
                };
            }
            if !changed {
                return Ok((version.unwrap_or(0), sessions.count(), addresses.count()));
            }
            let next = version.unwrap_or(0) + 1;
            let mut item = key(pk, sk);
            item.insert("v".into(), n(next));
            for (of, sketch) in [(Of::Sessions, &sessions), (Of::Addresses, &addresses)] {
                item.insert(
                    of.attr().into(),
                    AttributeValue::B(sketch.to_bytes().into()),
                );
            }
            if self.put_versioned(item, version, meter).await? {
                return Ok((next, sessions.count(), addresses.count()));
            }
        }
        Err(StoreError::Contention)
    }

    /// Stats items of one partition by sort key (missing ones are absent from the map).
    pub async fn stats_items(
        &self,
        pk: &str,
        sks: &[String],
        cost: &mut ReadCost,
    ) -> Result<HashMap<String, Item>, StoreError> {
        let mut found = HashMap::new();
        let mut unique: Vec<&String> = sks.iter().collect();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(100) {
            let mut keys: Vec<Item> = chunk.iter().map(|sk| key(pk, sk)).collect();
            let mut attempt = 0u32;
            while !keys.is_empty() {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .build()
                    .map_err(|e| StoreError::Malformed(e.to_string()))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.tables.stats, request)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(StoreError::dynamo("BatchGetItem"))?;
                cost.requests += 1;
                cost.units += out
                    .consumed_capacity()
                    .iter()
                    .filter_map(|c| c.capacity_units())
                    .sum::<f64>();
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.tables.stats))
                    .unwrap_or_default()
                {
                    if let Some(sk) = string(&item, "sk") {
                        found.insert(sk.to_owned(), item);
                    }
                }
                keys = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.tables.stats))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if !keys.is_empty() {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(5)))
                        .await;
                }
            }
        }
        Ok(found)
    }

    /// Every stats item of a partition whose sort key lies in `[from, to]`.
    pub async fn stats_range(
        &self,
        pk: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.client
            .query()
            .table_name(&self.tables.stats)
            .key_condition_expression("pk = :pk AND sk BETWEEN :a AND :b")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":a", s(from))
            .expression_attribute_values(":b", s(to))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(StoreError::dynamo("Query"))
    }

    /// Puts stats items as they are (recount).
    pub async fn put_stats_items(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let requests = items
            .into_iter()
            .map(|item| {
                aws_sdk_dynamodb::types::PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map(|p| WriteRequest::builder().put_request(p).build())
                    .map_err(|e| StoreError::Malformed(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for chunk in requests.chunks(25) {
            self.batch_write(&self.tables.stats, chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// Deletes up to `max` stats items of one site generation; returns how many.
    pub async fn delete_stats(
        &self,
        site_id: u64,
        generation: u64,
        max: usize,
    ) -> Result<usize, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.tables.stats)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                s(crate::stats::facts::partition(site_id, generation)),
            )
            .projection_expression("pk, sk")
            .limit(i32::try_from(max).unwrap_or(1000))
            .send()
            .await
            .map_err(StoreError::dynamo("Query"))?;
        let keys = out.items.unwrap_or_default();
        let deleted = keys.len();
        for chunk in keys.chunks(25) {
            let requests = chunk
                .iter()
                .map(|key| {
                    DeleteRequest::builder()
                        .set_key(Some(key.clone()))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                        .map_err(|e| StoreError::Malformed(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.batch_write(&self.tables.stats, requests).await?;
        }
        Ok(deleted)
    }
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
}
