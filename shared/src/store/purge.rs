//! Purge jobs: the events and counters of a deleted site or of a cleared site generation
//! are removed in the background, so a delete answers at once whatever the volume.
//!
//! `PURGE#<site_id>#<generation>`/`PURGE` records a job, with `queued_at_ms` (epoch
//! milliseconds) for the janitor's grace period; `gsi1pk = PURGE` lists them. The janitor
//! works through the jobs in bounded batches and deletes a job once nothing of it is left
//! and it is older than the grace (see `crate::purge`). Until then the data is
//! unreachable: a deleted site answers 404, and a cleared site reads only its new
//! generation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use serde::Deserialize;

use super::{Db, Item, StoreError, key, n, s};

fn job_key(site_id: u64, generation: u64) -> Item {
    key(format!("PURGE#{site_id}#{generation}"), "PURGE")
}

/// The transaction action that queues a purge of one site generation, queued at `now`.
pub(crate) fn purge_job(
    table: &str,
    site_id: u64,
    generation: u64,
    now: SystemTime,
) -> Result<TransactWriteItem, StoreError> {
    let mut item = job_key(site_id, generation);
    item.insert("site_id".into(), n(site_id));
    item.insert("generation".into(), n(generation));
    let queued_at_ms = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    item.insert("queued_at_ms".into(), n(queued_at_ms));
    item.insert("gsi1pk".into(), s("PURGE"));
    item.insert(
        "gsi1sk".into(),
        s(format!("{site_id:020}#{generation:020}")),
    );
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .build()
        .map_err(|e| StoreError::Malformed(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// One queued purge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PurgeJob {
    pub site_id: u64,
    pub generation: u64,
    /// When the job was queued (epoch milliseconds). Jobs queued before this was recorded
    /// have none and count as old enough.
    #[serde(default)]
    pub queued_at_ms: Option<i64>,
}

impl PurgeJob {
    /// Whether the job is older than `grace` at `now`: only then may the janitor mark it
    /// done (writers that read the site before it was cleared or deleted may still add to
    /// the purged generation until then).
    pub fn is_older_than(&self, grace: Duration, now: SystemTime) -> bool {
        let Some(queued) = self.queued_at_ms else {
            return true;
        };
        let millis = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let now_ms = now.duration_since(UNIX_EPOCH).map_or(0, millis);
        queued.saturating_add(millis(grace)) <= now_ms
    }
}

impl Db {
    /// Queued purges, lowest site id first (eventually consistent).
    pub async fn purge_jobs(&self) -> Result<Vec<PurgeJob>, StoreError> {
        self.query_gsi1("PURGE".to_owned()).await
    }

    /// Marks a purge as done.
    pub async fn finish_purge(&self, job: PurgeJob) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.tables.app)
            .set_key(Some(job_key(job.site_id, job.generation)))
            .send()
            .await
            .map_err(StoreError::dynamo("DeleteItem"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(queued_at_ms: Option<i64>) -> PurgeJob {
        PurgeJob {
            site_id: 1,
            generation: 0,
            queued_at_ms,
        }
    }

    #[test]
    fn a_job_is_old_enough_only_after_its_grace() {
        let queued_ms = 1_760_000_000_000;
        let grace = Duration::from_secs(300);
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(queued_ms as u64 + ms);
        let queued_job = job(Some(queued_ms));
        assert!(!queued_job.is_older_than(grace, at(0)));
        assert!(!queued_job.is_older_than(grace, at(299_999)));
        assert!(queued_job.is_older_than(grace, at(300_000)));
        assert!(queued_job.is_older_than(Duration::ZERO, at(0)));
        assert!(!queued_job.is_older_than(Duration::MAX, at(10 * 365 * 86_400_000)));
        // A clock before 1970 is never past a grace.
        assert!(!queued_job.is_older_than(grace, UNIX_EPOCH - Duration::from_secs(1)));
    }

    #[test]
    fn jobs_queued_without_a_time_count_as_old_enough() {
        let old: PurgeJob = serde_json::from_str(r#"{"site_id": 7, "generation": 2}"#).unwrap();
        assert_eq!(
            old,
            PurgeJob {
                site_id: 7,
                generation: 2,
                queued_at_ms: None
            }
        );
        assert!(old.is_older_than(Duration::from_secs(300), SystemTime::now()));
    }
}
