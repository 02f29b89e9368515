//! The janitor: works through queued purges (see `store::purge`) within a time budget:
//! the events and the counters of deleted sites and cleared generations.

use std::time::{Duration, Instant};

use crate::store::{Db, StoreError};

/// Events deleted per round of one job (8 shard queries, then batches of 25).
const ROUND: usize = 1000;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PurgeReport {
    pub events_deleted: usize,
    pub counters_deleted: usize,
    pub jobs_finished: usize,
    pub jobs_pending: usize,
}

/// Purges until every job is done or `budget` is spent; what is left waits for the next run.
pub async fn run(db: &Db, budget: Duration) -> Result<PurgeReport, StoreError> {
    let deadline = Instant::now() + budget;
    let mut report = PurgeReport::default();
    let jobs = db.purge_jobs().await?;
    for (index, job) in jobs.iter().enumerate() {
        loop {
            if Instant::now() >= deadline {
                report.jobs_pending = jobs.len() - index;
                return Ok(report);
            }
            let deleted = db.delete_events(job.site_id, job.generation, ROUND).await?;
            report.events_deleted += deleted;
            let counters = db.delete_stats(job.site_id, job.generation, ROUND).await?;
            report.counters_deleted += counters;
            if deleted == 0 && counters == 0 {
                db.finish_purge(*job).await?;
                report.jobs_finished += 1;
                break;
            }
        }
    }
    Ok(report)
}
