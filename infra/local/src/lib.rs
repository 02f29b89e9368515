//! The local runner: every function's routes on one port, plus the background work AWS
//! would do (the janitor's schedule), against the local stand-ins.

pub mod stream;

use std::time::Duration;

use axum::Router;
use pingoo::AppState;
use pingoo::store::Db;

/// Every HTTP function's routes, merged, with the common layers applied once: exactly the
/// routers the Lambdas run.
pub fn app(state: AppState) -> Router {
    let routes = pingoo_auth::routes()
        .merge(pingoo_sites::routes())
        .merge(pingoo_events::routes())
        .merge(pingoo_collect::routes());
    pingoo::http::service(routes, state)
}

/// What the scheduled janitor Lambda does on AWS, every `every`.
pub async fn janitor_loop(db: Db, every: Duration) {
    loop {
        match pingoo::purge::run(&db, Duration::from_secs(20)).await {
            Ok(report) if report.events_deleted > 0 || report.jobs_finished > 0 => {
                tracing::info!(?report, "janitor purged");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "janitor round failed"),
        }
        tokio::time::sleep(every).await;
    }
}
