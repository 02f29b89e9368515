//! The events table.
//!
//! Key: `pk = "<site_id>#<generation>#<shard>"` (S), `id` (N). The shard is `id % 8`, so
//! a busy site's writes spread over 8 partitions; reads query the 8 partitions in parallel
//! and merge by id. Ids grow with time, so a time range is an `id BETWEEN` key condition
//! and a Query with `ScanIndexForward = false` returns newest first.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, ReturnConsumedCapacity, Select, WriteRequest,
};
use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt};

use super::{Db, Item, ReadCost, StoreError, conditional, n, s};
use crate::events::id::SHARDS;
use crate::events::model::Event;
use crate::events::retention::TTL_ATTRIBUTE;

/// The partition key of one shard of a site's events.
pub fn partition(site_id: u64, generation: u64, shard: u64) -> String {
    format!("{site_id}#{generation}#{shard}")
}

/// Conditions on event attributes, applied as a DynamoDB filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub event_type: Option<String>,
    /// Substring of the URL.
    pub url: Option<String>,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub is_bot: Option<bool>,
}

impl EventFilter {
    /// Whether nothing but the time range is asked for.
    pub fn is_empty(&self) -> bool {
        self.expression().is_none()
    }

    /// `(expression, names, values)`, or `None` when nothing is filtered.
    fn expression(&self) -> Option<(String, HashMap<String, String>, Item)> {
        let mut parts = Vec::new();
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let equal = [
            ("session_id", &self.session_id),
            ("user_id", &self.user_id),
            ("event_type", &self.event_type),
            ("device", &self.device),
            ("browser", &self.browser),
            ("os", &self.os),
        ];
        for (attr, value) in equal {
            if let Some(value) = value {
                parts.push(format!("#{attr} = :{attr}"));
                names.insert(format!("#{attr}"), attr.to_owned());
                values.insert(format!(":{attr}"), s(value));
            }
        }
        if let Some(url) = &self.url {
            parts.push("contains(#url, :url)".to_owned());
            names.insert("#url".to_owned(), "url".to_owned());
            values.insert(":url".to_owned(), s(url));
        }
        if let Some(is_bot) = self.is_bot {
            parts.push("#is_bot = :is_bot".to_owned());
            names.insert("#is_bot".to_owned(), "is_bot".to_owned());
            values.insert(":is_bot".to_owned(), AttributeValue::Bool(is_bot));
        }
        (!parts.is_empty()).then(|| (parts.join(" AND "), names, values))
    }
}

/// What [`Db::newest_events_within`] found.
#[derive(Debug, Default)]
pub struct Newest {
    pub events: Vec<Event>,
    pub frontier: Option<u64>,
    pub cost: ReadCost,
}

/// What [`Db::count_events_up_to`] counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Count {
    pub counted: u64,
    pub complete: bool,
    pub cost: ReadCost,
}

/// Which events: one site generation, an inclusive id range, a filter.
#[derive(Debug, Clone)]
pub struct EventRange {
    pub site_id: u64,
    pub generation: u64,
    pub first_id: u64,
    pub last_id: u64,
    pub filter: EventFilter,
}

impl Db {
    /// The item of an event: its attributes, the partition key and, when events are
    /// not kept forever, the TTL attribute.
    fn event_item(&self, event: &Event) -> Result<Item, StoreError> {
        let mut item: Item = serde_dynamo::to_item(event)?;
        item.insert(
            "pk".into(),
            s(partition(
                event.site_id,
                event.generation,
                crate::events::id::shard(event.id),
            )),
        );
        if let Some(expires) = self
            .retention
            .expires_at(crate::events::id::time_of(event.id))
        {
            item.insert(TTL_ATTRIBUTE.into(), n(expires));
        }
        Ok(item)
    }

    /// Stores a new event; `false` if an event with this id already exists (pick a new id).
    pub async fn put_event(&self, event: &Event) -> Result<bool, StoreError> {
        let item = self.event_item(event)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.events)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        Ok(conditional("PutItem", result)?.is_some())
    }

    /// Stores many events at once, unconditionally (bulk loads for recount tests and
    /// benchmarks; the API uses [`Db::put_event`]).
    pub async fn put_events_bulk(&self, events: &[Event]) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(events.len());
        for event in events {
            let put = aws_sdk_dynamodb::types::PutRequest::builder()
                .set_item(Some(self.event_item(event)?))
                .build()
                .map_err(|e| StoreError::Malformed(e.to_string()))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        let chunks = requests
            .chunks(25)
            .map(|c| self.batch_write(&self.tables.events, c.to_vec()));
        futures::stream::iter(chunks)
            .buffer_unordered(16)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// The part of `range` still within the retention (`None` when nothing of it is).
    /// Every read of raw events goes through this.
    fn kept(&self, range: &EventRange) -> Option<EventRange> {
        let floor = self
            .retention
            .cutoff(chrono::Utc::now())
            .map_or(0, crate::events::id::first_id_at);
        let first_id = range.first_id.max(floor);
        (first_id <= range.last_id).then(|| EventRange {
            first_id,
            ..range.clone()
        })
    }

    /// A newest-first Query of one shard of the range. Items whose TTL has passed are
    /// filtered out: DynamoDB deletes them only up to a few days later. `skip_expired` is
    /// false only for reads of one item (a filter applies after `Limit`).
    fn events_query(
        &self,
        range: &EventRange,
        shard: u64,
        skip_expired: bool,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let mut query = self
            .client
            .query()
            .table_name(&self.tables.events)
            .key_condition_expression("pk = :pk AND id BETWEEN :first AND :last")
            .expression_attribute_values(
                ":pk",
                s(partition(range.site_id, range.generation, shard)),
            )
            .expression_attribute_values(":first", n(range.first_id))
            .expression_attribute_values(":last", n(range.last_id))
            .scan_index_forward(false)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let mut conditions = Vec::new();
        if let Some((expression, names, values)) = range.filter.expression() {
            conditions.push(expression);
            query = query.set_expression_attribute_names(Some(names));
            for (k, v) in values {
                query = query.expression_attribute_values(k, v);
            }
        }
        if skip_expired {
            conditions.push("(attribute_not_exists(#ttl) OR #ttl > :now)".to_owned());
            query = query
                .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                .expression_attribute_values(":now", n(chrono::Utc::now().timestamp()));
        }
        if !conditions.is_empty() {
            query = query.filter_expression(conditions.join(" AND "));
        }
        query
    }

    /// Every event of the range (all shards, all pages), in no particular order.
    pub async fn all_events(&self, range: &EventRange) -> Result<Vec<Event>, StoreError> {
        let Some(range) = self.kept(range) else {
            return Ok(Vec::new());
        };
        let range = &range;
        let per_shard = (0..SHARDS).map(|shard| async move {
            let items = self
                .events_query(range, shard, true)
                .consistent_read(true)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(StoreError::dynamo("Query"))?;
            Ok::<Vec<Event>, StoreError>(serde_dynamo::from_items(items)?)
        });
        Ok(try_join_all(per_shard)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    /// The newest `want` events of the range, newest first.
    pub async fn newest_events(
        &self,
        range: &EventRange,
        want: usize,
    ) -> Result<Vec<Event>, StoreError> {
        Ok(self
            .newest_events_within(range, want, usize::MAX)
            .await?
            .events)
    }

    /// The newest `want` events of the range, newest first, evaluating at most
    /// `budget_per_shard` items of each shard (a filter drops items only after they are
    /// read and billed). Where a shard's budget ran out, `frontier` is the highest id
    /// below which some events may be missing: every event returned is above it, and
    /// everything above it was seen.
    pub async fn newest_events_within(
        &self,
        range: &EventRange,
        want: usize,
        budget_per_shard: usize,
    ) -> Result<Newest, StoreError> {
        let Some(range) = self.kept(range).filter(|_| want > 0) else {
            return Ok(Newest::default());
        };
        let range = &range;
        let per_shard =
            (0..SHARDS).map(|shard| self.newest_in_shard(range, shard, want, budget_per_shard));
        let shards = try_join_all(per_shard).await?;
        let frontier = shards
            .iter()
            .filter_map(|(_, stopped_at, _)| *stopped_at)
            .max();
        let mut cost = ReadCost::default();
        for (_, _, shard_cost) in &shards {
            cost += *shard_cost;
        }
        let mut events: Vec<Event> = shards
            .into_iter()
            .flat_map(|(events, _, _)| events)
            .filter(|e| frontier.is_none_or(|f| e.id > f))
            .collect();
        events.sort_unstable_by_key(|e| std::cmp::Reverse(e.id));
        events.truncate(want);
        Ok(Newest {
            events,
            frontier,
            cost,
        })
    }

    /// A shard's newest matches, and the id where its budget stopped the read (if it did).
    async fn newest_in_shard(
        &self,
        range: &EventRange,
        shard: u64,
        want: usize,
        budget: usize,
    ) -> Result<(Vec<Event>, Option<u64>, ReadCost), StoreError> {
        let mut found = Vec::new();
        let mut cost = ReadCost::default();
        let mut evaluated = 0usize;
        let mut start: Option<Item> = None;
        // Without a filter every item read matches: ask for exactly what is wanted.
        // With one, read in larger pages since the filter drops items after the read.
        let page = if range.filter.expression().is_some() {
            want.max(1_000)
        } else {
            want
        };
        loop {
            let limit = page.min(budget.saturating_sub(evaluated)).max(1);
            let out = self
                .events_query(range, shard, true)
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(StoreError::dynamo("Query"))?;
            evaluated += usize::try_from(out.scanned_count).unwrap_or(limit);
            cost += cost_of(out.consumed_capacity.as_ref());
            for item in out.items.unwrap_or_default() {
                found.push(serde_dynamo::from_item::<_, Event>(item)?);
                if found.len() == want {
                    return Ok((found, None, cost));
                }
            }
            match out.last_evaluated_key {
                Some(key) if evaluated >= budget => {
                    let stopped_at = key
                        .get("id")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| {
                            StoreError::Malformed("a Query's last key has no numeric id".into())
                        })?;
                    return Ok((found, Some(stopped_at), cost));
                }
                Some(key) => start = Some(key),
                None => return Ok((found, None, cost)),
            }
        }
    }

    /// How many events the range holds, evaluating at most `cap_per_shard` items of each
    /// shard: `complete` is false when some shard has more to read.
    pub async fn count_events_up_to(
        &self,
        range: &EventRange,
        cap_per_shard: usize,
    ) -> Result<Count, StoreError> {
        let Some(range) = self.kept(range) else {
            return Ok(Count {
                counted: 0,
                complete: true,
                cost: ReadCost::default(),
            });
        };
        let range = &range;
        let per_shard = (0..SHARDS).map(|shard| async move {
            let mut counted = 0u64;
            let mut cost = ReadCost::default();
            let mut evaluated = 0usize;
            let mut start: Option<Item> = None;
            loop {
                let limit = cap_per_shard.saturating_sub(evaluated).max(1);
                let out = self
                    .events_query(range, shard, true)
                    .select(Select::Count)
                    .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(StoreError::dynamo("Query"))?;
                counted += u64::try_from(out.count).unwrap_or(0);
                evaluated += usize::try_from(out.scanned_count).unwrap_or(limit);
                cost += cost_of(out.consumed_capacity.as_ref());
                match out.last_evaluated_key {
                    Some(_) if evaluated >= cap_per_shard => {
                        return Ok::<_, StoreError>((counted, false, cost));
                    }
                    Some(key) => start = Some(key),
                    None => return Ok((counted, true, cost)),
                }
            }
        });
        let shards = try_join_all(per_shard).await?;
        let mut cost = ReadCost::default();
        for (_, _, shard_cost) in &shards {
            cost += *shard_cost;
        }
        Ok(Count {
            counted: shards.iter().map(|(n, _, _)| n).sum(),
            complete: shards.iter().all(|(_, complete, _)| *complete),
            cost,
        })
    }

    /// The ids of the range's oldest and newest events (`None` when it has none): 2 reads
    /// of one item per shard.
    pub async fn event_id_span(
        &self,
        range: &EventRange,
    ) -> Result<(Option<(u64, u64)>, ReadCost), StoreError> {
        let Some(kept) = self.kept(range) else {
            return Ok((None, ReadCost::default()));
        };
        let unfiltered = EventRange {
            filter: EventFilter::default(),
            ..kept
        };
        let ends = (0..SHARDS).flat_map(|shard| [(shard, true), (shard, false)]);
        let per_end = ends.map(|(shard, oldest)| {
            let unfiltered = &unfiltered;
            async move {
                let out = self
                    .events_query(unfiltered, shard, false)
                    .scan_index_forward(oldest)
                    .projection_expression("id")
                    .limit(1)
                    .send()
                    .await
                    .map_err(StoreError::dynamo("Query"))?;
                let id = out
                    .items
                    .unwrap_or_default()
                    .first()
                    .and_then(|item| item.get("id"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<u64>().ok());
                Ok::<_, StoreError>((id, cost_of(out.consumed_capacity.as_ref())))
            }
        });
        let mut cost = ReadCost::default();
        let mut ids = Vec::new();
        for (id, end_cost) in try_join_all(per_end).await? {
            cost += end_cost;
            ids.extend(id);
        }
        let span = ids
            .iter()
            .min()
            .zip(ids.iter().max())
            .map(|(a, b)| (*a, *b));
        Ok((span, cost))
    }

    /// How many events the range holds (reads every matching item's key range).
    pub async fn count_events(&self, range: &EventRange) -> Result<u64, StoreError> {
        Ok(self.count_events_up_to(range, usize::MAX).await?.counted)
    }

    /// Deletes up to `max` events of one site generation; returns how many it deleted
    /// (0 when none are left). Unprocessed batch items are retried with backoff.
    pub async fn delete_events(
        &self,
        site_id: u64,
        generation: u64,
        max: usize,
    ) -> Result<usize, StoreError> {
        let per_shard = (0..SHARDS).map(|shard| async move {
            let out = self
                .client
                .query()
                .table_name(&self.tables.events)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(partition(site_id, generation, shard)))
                .projection_expression("pk, id")
                .limit(
                    i32::try_from(max.div_ceil(SHARDS as usize))
                        .unwrap_or(100)
                        .max(25),
                )
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
                self.batch_write(&self.tables.events, requests).await?;
            }
            Ok::<usize, StoreError>(deleted)
        });
        Ok(try_join_all(per_shard).await?.into_iter().sum())
    }

    /// BatchWriteItem until every request is processed, backing off on leftovers.
    pub(crate) async fn batch_write(
        &self,
        table: &str,
        mut requests: Vec<WriteRequest>,
    ) -> Result<(), StoreError> {
        let mut attempt = 0u32;
        while !requests.is_empty() {
            let out = self
                .client
                .batch_write_item()
                .request_items(table, std::mem::take(&mut requests))
                .send()
                .await
                .map_err(StoreError::dynamo("BatchWriteItem"))?;
            requests = out
                .unprocessed_items
                .and_then(|mut left| left.remove(table))
                .unwrap_or_default();
            if !requests.is_empty() {
                attempt += 1;
                if attempt > 10 {
                    return Err(StoreError::Contention);
                }
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt.min(6))).await;
            }
        }
        Ok(())
    }
}

/// One request's consumed read units.
fn cost_of(capacity: Option<&aws_sdk_dynamodb::types::ConsumedCapacity>) -> ReadCost {
    ReadCost {
        requests: 1,
        units: capacity.and_then(|c| c.capacity_units()).unwrap_or(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_keys_name_site_generation_and_shard() {
        assert_eq!(partition(42, 0, 7), "42#0#7");
        assert_eq!(partition(42, 3, 0), "42#3#0");
    }

    #[test]
    fn filters_alias_every_attribute() {
        assert_eq!(EventFilter::default().expression(), None);
        let filter = EventFilter {
            url: Some("/blog".into()),
            os: Some("Linux".into()),
            is_bot: Some(false),
            ..EventFilter::default()
        };
        let (expression, names, values) = filter.expression().unwrap();
        assert_eq!(
            expression,
            "#os = :os AND contains(#url, :url) AND #is_bot = :is_bot"
        );
        assert_eq!(names.len(), 3);
        assert_eq!(values[":is_bot"], AttributeValue::Bool(false));
    }
}
