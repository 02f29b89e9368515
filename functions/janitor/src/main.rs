//! Lambda entry for the janitor, run on a schedule: purges deleted sites' and cleared
//! generations' events and counters, finishing a job only after the purge grace period
//! (`PURGE_STREAM_LAG_SECONDS` plus the aggregator's site cache lifetime).

use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use pingoo::config::TokenKey;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    pingoo::telemetry::init(pingoo::telemetry::mode_from_env());
    let state = match pingoo::AppState::from_env_with(TokenKey::Unused).await {
        Ok(state) => state,
        Err(err) => {
            tracing::error!(error = %err, "refusing to start: bad configuration");
            std::process::exit(1);
        }
    };
    let db = &state.db;
    let grace = state.config.purge_grace();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // Stop well before the invocation's deadline; the rest waits for the next run.
        let left = event
            .context
            .deadline()
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        let budget = left.saturating_sub(Duration::from_secs(5));
        let report = pingoo::purge::run_at(db, budget, std::time::SystemTime::now(), grace).await?;
        tracing::info!(?report, "purge round done");
        Ok::<Value, Error>(serde_json::to_value(report)?)
    }))
    .await
}
