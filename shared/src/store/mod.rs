//! DynamoDB storage. Every table, key and item shape is documented in `docs/architecture.md`.
//!
//! The app table holds users, e-mail guards, sites, tracking-id guards, id sequences,
//! attempt limits and refresh-token families under `pk`/`sk` string keys; `gsi1` lists a user's sites.

mod attempts;
mod events;
mod families;
mod keys;
mod purge;
mod sequence;
mod shares;
mod sites;
mod stats;
mod users;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::config::Tables;
use crate::events::retention::Retention;

pub use attempts::LoginAttempt;
pub use events::{Count, EventFilter, EventRange, Newest, partition as event_partition};
pub use families::Family;
pub use keys::KeyRefused;
pub use purge::PurgeJob;
pub use shares::Share;
pub use sites::{SiteChanges, SiteRefused};
pub use stats::{Condition, Outcome, ReadCost, Update, WriteMeter};

pub type Item = HashMap<String, AttributeValue>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB {op} failed: {detail}")]
    Dynamo {
        op: &'static str,
        detail: String,
        /// Throttling, a server error, a timeout or a lost connection: the same request
        /// may succeed later. Otherwise (a validation error, say) it never will.
        retryable: bool,
    },
    #[error("stored item is malformed: {0}")]
    Malformed(String),
    #[error("a transaction kept conflicting with concurrent writes")]
    Contention,
}

impl StoreError {
    fn dynamo<E, R>(op: &'static str) -> impl FnOnce(SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        move |err| {
            let retryable = match &err {
                SdkError::ServiceError(_) => matches!(
                    err.code(),
                    Some(
                        "ProvisionedThroughputExceededException"
                            | "ThrottlingException"
                            | "RequestLimitExceeded"
                            | "InternalServerError"
                            | "InternalFailure"
                            | "ServiceUnavailable"
                            | "TransactionConflictException"
                            | "LimitExceededException"
                    )
                ),
                SdkError::ConstructionFailure(_) => false,
                _ => true,
            };
            StoreError::Dynamo {
                op,
                detail: DisplayErrorContext(&err).to_string(),
                retryable,
            }
        }
    }

    /// Whether the same operation may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Dynamo { retryable, .. } => *retryable,
            StoreError::Contention => true,
            StoreError::Malformed(_) => false,
        }
    }
}

/// Sleeps before retry `attempt` (1, 2, …): exponential from 20 ms, capped at 640 ms,
/// with up to 50 % jitter so concurrent retries spread out.
pub(crate) async fn backoff(attempt: u32) {
    let base = 20u64 << attempt.clamp(1, 6).saturating_sub(1);
    let mut jitter = [0u8; 2];
    crate::ids::fill_random(&mut jitter);
    let extra = u64::from(u16::from_le_bytes(jitter)) % (base / 2 + 1);
    tokio::time::sleep(Duration::from_millis(base + extra)).await;
}

impl From<crate::stats::schema::SchemaError> for StoreError {
    fn from(err: crate::stats::schema::SchemaError) -> Self {
        StoreError::Malformed(err.to_string())
    }
}

impl From<serde_dynamo::Error> for StoreError {
    fn from(err: serde_dynamo::Error) -> Self {
        StoreError::Malformed(err.to_string())
    }
}

/// Handle on the tables. Cheap to clone (the SDK client is an `Arc`).
#[derive(Clone, Debug)]
pub struct Db {
    pub client: Client,
    pub tables: Tables,
    /// How long raw events are kept: sets their TTL on write, bounds every read.
    pub retention: Retention,
}

impl Db {
    /// A handle that keeps raw events forever ([`Db::with_retention`] to change it).
    pub fn new(client: Client, tables: Tables) -> Self {
        Db {
            client,
            tables,
            retention: Retention::FOREVER,
        }
    }

    /// The same tables, with raw events kept for `retention`.
    pub fn with_retention(self, retention: Retention) -> Self {
        Db { retention, ..self }
    }

    /// One app-table item by key, decoded; strongly consistent when `consistent`.
    pub(crate) async fn get_app_item<T: serde::de::DeserializeOwned>(
        &self,
        key: Item,
        consistent: bool,
    ) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.app)
            .set_key(Some(key))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(StoreError::dynamo("GetItem"))?;
        Ok(match out.item {
            Some(item) => Some(serde_dynamo::from_item(item)?),
            None => None,
        })
    }

    /// Every app-table item of one `gsi1` partition, decoded (eventually consistent).
    pub(crate) async fn query_gsi1<T: serde::de::DeserializeOwned>(
        &self,
        partition: String,
    ) -> Result<Vec<T>, StoreError> {
        let items = self
            .client
            .query()
            .table_name(&self.tables.app)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", s(partition))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(StoreError::dynamo("Query"))?;
        Ok(serde_dynamo::from_items(items)?)
    }

    /// The id a guard item points at (`EMAIL#…` → `user_id`, `TRACK#…` → `site_id`).
    pub(crate) async fn guard_target(
        &self,
        key: Item,
        consistent: bool,
    ) -> Result<Option<u64>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Guard {
            user_id: Option<u64>,
            site_id: Option<u64>,
        }
        let guard: Option<Guard> = self.get_app_item(key, consistent).await?;
        Ok(guard.and_then(|g| g.user_id.or(g.site_id)))
    }
}

/// A conditional write's outcome: `Some(output)` when it happened, `None` when its
/// condition failed; any other failure is an error.
pub(crate) fn conditional<T, E, R>(
    op: &'static str,
    result: Result<T, SdkError<E, R>>,
) -> Result<Option<T>, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(None),
        Err(err) => Err(StoreError::dynamo(op)(err)),
    }
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn key(pk: impl Into<String>, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// How a transaction ended when DynamoDB cancelled it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Cancelled {
    /// The condition of the action at this index failed.
    Condition(usize),
    /// Another transaction held one of the items: worth retrying.
    Conflict,
}

pub(crate) fn cancellation(err: &SdkError<TransactWriteItemsError>) -> Option<Cancelled> {
    let TransactWriteItemsError::TransactionCanceledException(e) = err.as_service_error()? else {
        return None;
    };
    let reasons = e.cancellation_reasons();
    if let Some(index) = reasons
        .iter()
        .position(|r| r.code() == Some("ConditionalCheckFailed"))
    {
        return Some(Cancelled::Condition(index));
    }
    reasons
        .iter()
        .any(|r| r.code() == Some("TransactionConflict"))
        .then_some(Cancelled::Conflict)
}

/// Runs a transaction, retrying with jittered backoff while concurrent transactions on the
/// same items make DynamoDB cancel it. Returns the index of a failed condition, if any.
pub(crate) async fn transact(
    client: &Client,
    actions: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
) -> Result<Result<(), usize>, StoreError> {
    const ATTEMPTS: u32 = 8;
    for attempt in 0..ATTEMPTS {
        let result = client
            .transact_write_items()
            .set_transact_items(Some(actions.clone()))
            .send()
            .await;
        match result {
            Ok(_) => return Ok(Ok(())),
            Err(err) => match cancellation(&err) {
                Some(Cancelled::Condition(index)) => return Ok(Err(index)),
                Some(Cancelled::Conflict) if attempt + 1 < ATTEMPTS => {
                    let mut jitter = [0u8; 1];
                    crate::ids::fill_random(&mut jitter);
                    let millis = (10u64 << attempt.min(5)) + u64::from(jitter[0] % 20);
                    tokio::time::sleep(Duration::from_millis(millis)).await;
                }
                Some(Cancelled::Conflict) => return Err(StoreError::Contention),
                None => return Err(StoreError::dynamo("TransactWriteItems")(err)),
            },
        }
    }
    Err(StoreError::Contention)
}
