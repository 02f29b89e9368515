//! Purge jobs: the events (and, later, counters) of a deleted site or of a cleared site
//! generation are removed in the background, so a delete answers at once whatever the
//! volume.
//!
//! `PURGE#<site_id>#<generation>`/`PURGE` records a job; `gsi1pk = PURGE` lists them. The
//! janitor works through the jobs in bounded batches and deletes a job when nothing of it
//! is left. Until then the data is unreachable: a deleted site answers 404, and a cleared
//! site reads only its new generation.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use serde::Deserialize;

use super::{Db, Item, StoreError, key, n, s};

fn job_key(site_id: u64, generation: u64) -> Item {
    key(format!("PURGE#{site_id}#{generation}"), "PURGE")
}

/// The transaction action that queues a purge of one site generation.
pub(crate) fn purge_job(
    table: &str,
    site_id: u64,
    generation: u64,
) -> Result<TransactWriteItem, StoreError> {
    let mut item = job_key(site_id, generation);
    item.insert("site_id".into(), n(site_id));
    item.insert("generation".into(), n(generation));
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
