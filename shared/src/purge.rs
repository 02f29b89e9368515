//! The janitor: works through queued purges (see `store::purge`) within a time budget:
//! the events and the counters of deleted sites and cleared generations.
//!
//! A job is marked done only once nothing of it is left *and* it is older than the grace
//! period ([`crate::config::Config::purge_grace`]): for a while after a clear or a delete,
//! the aggregator may still count into the purged generation (its site cache, events late
//! on the stream), so until the grace has passed every run purges the job again.

use std::time::{Duration, Instant, SystemTime};

use crate::store::{Db, StoreError};

/// Events deleted per round of one job (8 shard queries, then batches of 25).
const ROUND: usize = 1000;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PurgeReport {
    pub events_deleted: usize,
    pub counters_deleted: usize,
    pub jobs_finished: usize,
    /// Jobs with nothing left that are still within the grace period: purged again on
    /// the next runs, marked done once old enough.
    pub jobs_waiting: usize,
    /// Jobs not reached (or not emptied) before the budget ran out.
    pub jobs_pending: usize,
}

/// The janitor's run: purges until every job is done or `budget` is spent, marking a job
/// done only when it is older than `grace` at `now` (the Lambda and the local runner pass
/// the wall clock and [`crate::config::Config::purge_grace`]). What is left waits for the
/// next run.
pub async fn run_at(
    db: &Db,
    budget: Duration,
    now: SystemTime,
    grace: Duration,
) -> Result<PurgeReport, StoreError> {
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
                if job.is_older_than(grace, now) {
                    db.finish_purge(*job).await?;
                    report.jobs_finished += 1;
                } else {
                    report.jobs_waiting += 1;
                }
                break;
            }
        }
    }
    Ok(report)
}

/// [`run_at`] with no grace period: a job is marked done as soon as nothing of it is left.
/// Only for callers that know nothing can still write into the purged generations (tests
/// that drive the aggregator themselves, tools run while it is stopped); the janitor uses
/// [`run_at`].
pub async fn run(db: &Db, budget: Duration) -> Result<PurgeReport, StoreError> {
    run_at(db, budget, SystemTime::now(), Duration::ZERO).await
}
