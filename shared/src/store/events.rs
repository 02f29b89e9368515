//! The events table.
//!
//! Key: `pk = "<site_id>#<generation>#<shard>"` (S), `id` (N). The shard is `id % 8`, so
//! a busy site's writes spread over 8 partitions; reads query the 8 partitions in parallel
//! and merge by id. Ids grow with time, so a time range is an `id BETWEEN` key condition
//! and a Query with `ScanIndexForward = false` returns newest first.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, Select, WriteRequest};
use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt};

use super::{Db, Item, StoreError, conditional, n, s};
use crate::events::id::SHARDS;
use crate::events::model::Event;

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
    /// Stores a new event; `false` if an event with this id already exists (pick a new id).
    pub async fn put_event(&self, event: &Event) -> Result<bool, StoreError> {
        let mut item: Item = serde_dynamo::to_item(event)?;
        item.insert(
            "pk".into(),
            s(partition(
                event.site_id,
                event.generation,
                crate::events::id::shard(event.id),
            )),
        );
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
            let mut item: Item = serde_dynamo::to_item(event)?;
            item.insert(
                "pk".into(),
                s(partition(
                    event.site_id,
                    event.generation,
                    crate::events::id::shard(event.id),
                )),
            );
            let put = aws_sdk_dynamodb::types::PutRequest::builder()
                .set_item(Some(item))
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

    fn events_query(
        &self,
        range: &EventRange,
        shard: u64,
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
            .scan_index_forward(false);
        if let Some((expression, names, values)) = range.filter.expression() {
            query = query
                .filter_expression(expression)
                .set_expression_attribute_names(Some(names));
            for (k, v) in values {
                query = query.expression_attribute_values(k, v);
            }
        }
        query
    }

    /// Every event of the range (all shards, all pages), in no particular order.
    pub async fn all_events(&self, range: &EventRange) -> Result<Vec<Event>, StoreError> {
        let per_shard = (0..SHARDS).map(|shard| async move {
            let items = self
                .events_query(range, shard)
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
        if want == 0 {
            return Ok(Vec::new());
        }
        let per_shard = (0..SHARDS).map(|shard| self.newest_in_shard(range, shard, want));
        let mut events: Vec<Event> = try_join_all(per_shard)
            .await?
            .into_iter()
            .flatten()
            .collect();
        events.sort_unstable_by_key(|e| std::cmp::Reverse(e.id));
        events.truncate(want);
        Ok(events)
    }

    async fn newest_in_shard(
        &self,
        range: &EventRange,
        shard: u64,
        want: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        // Without a filter every item read matches: ask for exactly what is wanted.
        // With one, read in larger pages since the filter drops items after the read.
        let page = if range.filter.expression().is_some() {
            want.max(200)
        } else {
            want
        };
        loop {
            let out = self
                .events_query(range, shard)
                .limit(i32::try_from(page).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(StoreError::dynamo("Query"))?;
            for item in out.items.unwrap_or_default() {
                found.push(serde_dynamo::from_item::<_, Event>(item)?);
                if found.len() == want {
                    return Ok(found);
                }
            }
            match out.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(found),
            }
        }
    }

    /// How many events the range holds (reads every matching item's key range).
    pub async fn count_events(&self, range: &EventRange) -> Result<u64, StoreError> {
        let per_shard = (0..SHARDS).map(|shard| async move {
            let mut total = 0u64;
            let mut start: Option<Item> = None;
            loop {
                let out = self
                    .events_query(range, shard)
                    .select(Select::Count)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(StoreError::dynamo("Query"))?;
                total += u64::try_from(out.count).unwrap_or(0);
                match out.last_evaluated_key {
                    Some(key) => start = Some(key),
                    None => return Ok::<u64, StoreError>(total),
                }
            }
        });
        Ok(try_join_all(per_shard).await?.into_iter().sum())
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
