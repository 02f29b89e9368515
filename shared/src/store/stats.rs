//! The stats table's DynamoDB mechanics: conditional updates, versioned puts, consistent
//! reads, batch reads and writes. What the items mean (keys, attributes, how each family
//! is applied exactly once) lives in `stats::schema` and `stats::apply`; nothing here
//! knows a stats key.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, ReturnConsumedCapacity,
    ReturnValuesOnConditionCheckFailure, WriteRequest,
};

use super::{Db, Item, StoreError, key, n, s};

/// Rounds of unprocessed keys a batch read retries before giving up.
const MAX_ATTEMPTS: u32 = 8;

/// Write units and items written, summed over a batch.
#[derive(Debug, Default)]
pub struct WriteMeter {
    writes: AtomicU64,
    milli_units: AtomicU64,
}

impl WriteMeter {
    pub fn record(&self, units: Option<f64>) {
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

/// One condition of a conditional update.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The string attribute is absent or sorts below `value`.
    AbsentOrBelow { attr: String, value: String },
    /// The attribute equals `value`.
    Equals { attr: String, value: AttributeValue },
    /// The attribute is absent.
    Absent { attr: String },
    /// The map attribute is absent or its `v` field is below `version`.
    AbsentOrVersionBelow { attr: String, version: u64 },
    /// The map attribute's `v` field equals `version`.
    VersionEquals { attr: String, version: u64 },
}

/// `SET` and `ADD` actions on one item, applied only if every condition holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Vec<(String, AttributeValue)>,
    pub add: Vec<(String, i64)>,
    /// Values added to number sets (idempotent: a set keeps each value once).
    pub add_to_sets: Vec<(String, Vec<u64>)>,
    pub conditions: Vec<Condition>,
}

/// How a conditional update ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Written; the write units it consumed.
    Applied { units: Option<f64> },
    /// A condition failed: the item as stored (empty when absent).
    ConditionFailed(Item),
    /// DynamoDB refused it because the item would pass 400 KB.
    TooLarge,
}

fn is_too_large<R>(err: &aws_sdk_dynamodb::error::SdkError<UpdateItemError, R>) -> bool {
    err.code() == Some("ValidationException")
        && err
            .message()
            .is_some_and(|m| m.contains("maximum allowed size"))
}

impl Update {
    /// The update and condition expressions with their names and values.
    fn expressions(
        &self,
    ) -> (
        String,
        Option<String>,
        HashMap<String, String>,
        HashMap<String, AttributeValue>,
    ) {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut sets = Vec::new();
        for (i, (attr, value)) in self.set.iter().enumerate() {
            names.insert(format!("#s{i}"), attr.clone());
            values.insert(format!(":s{i}"), value.clone());
            sets.push(format!("#s{i} = :s{i}"));
        }
        let mut adds = Vec::new();
        for (i, (attr, by)) in self.add.iter().enumerate() {
            names.insert(format!("#a{i}"), attr.clone());
            values.insert(format!(":a{i}"), n(by));
            adds.push(format!("#a{i} :a{i}"));
        }
        for (i, (attr, members)) in self.add_to_sets.iter().enumerate() {
            if members.is_empty() {
                continue;
            }
            names.insert(format!("#n{i}"), attr.clone());
            values.insert(
                format!(":n{i}"),
                AttributeValue::Ns(members.iter().map(u64::to_string).collect()),
            );
            adds.push(format!("#n{i} :n{i}"));
        }
        let mut conditions = Vec::new();
        for (i, c) in self.conditions.iter().enumerate() {
            let (attr, text, value) = match c {
                Condition::AbsentOrBelow { attr, value } => (
                    attr,
                    format!("(attribute_not_exists(#c{i}) OR #c{i} < :c{i})"),
                    Some(s(value)),
                ),
                Condition::Equals { attr, value } => {
                    (attr, format!("#c{i} = :c{i}"), Some(value.clone()))
                }
                Condition::Absent { attr } => (attr, format!("attribute_not_exists(#c{i})"), None),
                Condition::AbsentOrVersionBelow { attr, version } => (
                    attr,
                    format!("(attribute_not_exists(#c{i}) OR #c{i}.#v < :c{i})"),
                    Some(n(version)),
                ),
                Condition::VersionEquals { attr, version } => {
                    (attr, format!("#c{i}.#v = :c{i}"), Some(n(version)))
                }
            };
            if text.contains("#v") {
                names.insert("#v".into(), "v".into());
            }
            names.insert(format!("#c{i}"), attr.clone());
            if let Some(value) = value {
                values.insert(format!(":c{i}"), value);
            }
            conditions.push(text);
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
        let condition = (!conditions.is_empty()).then(|| conditions.join(" AND "));
        (expression.trim().to_owned(), condition, names, values)
    }
}

impl Db {
    /// Applies one conditional update to a stats item.
    pub async fn stats_update(
        &self,
        pk: &str,
        sk: &str,
        update: &Update,
    ) -> Result<Outcome, StoreError> {
        let (expression, condition, names, values) = update.expressions();
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.stats)
            .set_key(Some(key(pk, sk)))
            .update_expression(expression)
            .set_condition_expression(condition)
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Outcome::Applied {
                units: out.consumed_capacity().and_then(|c| c.capacity_units()),
            }),
            Err(err) => {
                if let Some(UpdateItemError::ConditionalCheckFailedException(e)) =
                    err.as_service_error()
                {
                    return Ok(Outcome::ConditionFailed(
                        e.item().cloned().unwrap_or_default(),
                    ));
                }
                if is_too_large(&err) {
                    return Ok(Outcome::TooLarge);
                }
                Err(StoreError::dynamo("UpdateItem")(err))
            }
        }
    }

    /// One stats item, strongly consistent (empty when absent).
    pub async fn stats_get(&self, pk: &str, sk: &str) -> Result<Item, StoreError> {
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

    /// Puts `item` if its stored `v` is still `version` (absent when 0). `Some(units)`
    /// when written, `None` when the version moved on.
    pub async fn stats_put_versioned(
        &self,
        item: Item,
        version: u64,
    ) -> Result<Option<Option<f64>>, StoreError> {
        let request = self
            .client
            .put_item()
            .table_name(&self.tables.stats)
            .set_item(Some(item))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let request = if version > 0 {
            request
                .condition_expression("v = :v")
                .expression_attribute_values(":v", n(version))
        } else {
            request.condition_expression("attribute_not_exists(pk)")
        };
        Ok(super::conditional("PutItem", request.send().await)?
            .map(|out| out.consumed_capacity().and_then(|c| c.capacity_units())))
    }

    /// Stats items of one partition by sort key (missing ones are absent from the map).
    pub async fn stats_items(
        &self,
        pk: &str,
        sks: &[String],
        cost: &mut ReadCost,
    ) -> Result<HashMap<String, Item>, StoreError> {
        let keys: Vec<(String, String)> =
            sks.iter().map(|sk| (pk.to_owned(), sk.clone())).collect();
        Ok(self
            .stats_items_of(&keys, cost)
            .await?
            .into_iter()
            .map(|((_, sk), item)| (sk, item))
            .collect())
    }

    /// Stats items of any partitions by `(pk, sk)`, in batches of 100 read concurrently
    /// (missing ones are absent from the map).
    pub async fn stats_items_of(
        &self,
        keys: &[(String, String)],
        cost: &mut ReadCost,
    ) -> Result<HashMap<(String, String), Item>, StoreError> {
        let mut unique: Vec<&(String, String)> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let chunks: Vec<Vec<Item>> = unique
            .chunks(100)
            .map(|chunk| chunk.iter().map(|(pk, sk)| key(pk.as_str(), sk)).collect())
            .collect();
        let reads = chunks.into_iter().map(|keys| self.batch_get_stats(keys));
        let mut found = HashMap::new();
        for (items, part) in futures::future::try_join_all(reads).await? {
            *cost += part;
            for item in items {
                if let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) =
                    (item.get("pk"), item.get("sk"))
                {
                    found.insert((pk.clone(), sk.clone()), item);
                }
            }
        }
        Ok(found)
    }

    /// One BatchGetItem of up to 100 keys, retrying unprocessed keys with backoff.
    async fn batch_get_stats(
        &self,
        mut keys: Vec<Item>,
    ) -> Result<(Vec<Item>, ReadCost), StoreError> {
        let mut cost = ReadCost::default();
        let mut found = Vec::new();
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
            found.extend(
                out.responses
                    .and_then(|mut r| r.remove(&self.tables.stats))
                    .unwrap_or_default(),
            );
            keys = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.tables.stats))
                .map(|k| k.keys)
                .unwrap_or_default();
            if !keys.is_empty() {
                attempt += 1;
                if attempt > MAX_ATTEMPTS {
                    return Err(StoreError::Contention);
                }
                super::backoff(attempt).await;
            }
        }
        Ok((found, cost))
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

    /// Like [`Db::stats_range`], eventually consistent, for readers: adds what it cost.
    pub async fn stats_range_read(
        &self,
        pk: &str,
        from: &str,
        to: &str,
        cost: &mut ReadCost,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.tables.stats)
                .key_condition_expression("pk = :pk AND sk BETWEEN :a AND :b")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":a", s(from))
                .expression_attribute_values(":b", s(to))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(StoreError::dynamo("Query"))?;
            cost.requests += 1;
            cost.units += out
                .consumed_capacity()
                .and_then(|c| c.capacity_units())
                .unwrap_or(0.0);
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
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
        // A rebuild of a busy day writes thousands of tier items: 8 batches at a time.
        let writes = requests
            .chunks(25)
            .map(|chunk| self.batch_write(&self.tables.stats, chunk.to_vec()));
        let results: Vec<Result<_, StoreError>> = futures::StreamExt::collect(
            futures::StreamExt::buffer_unordered(futures::stream::iter(writes), 8),
        )
        .await;
        results.into_iter().collect::<Result<Vec<_>, _>>()?;
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
                s(crate::stats::schema::partition(site_id, generation)),
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
