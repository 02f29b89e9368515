//! The local runner: every function's routes on one port, plus the background work AWS
//! would do (the janitor's schedule, the aggregator's stream trigger), against the local
//! stand-ins.

pub mod stream;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::streams::DynamoDbEventResponse;

use axum::Router;
use pingoo::AppState;
use pingoo::stats::aggregate::Aggregator;
use pingoo::store::Db;

/// Every HTTP function's routes (the dashboard's too), merged, with the common layers applied once: exactly the
/// routers the Lambdas run.
pub fn app(state: AppState) -> Router {
    let routes = pingoo_auth::routes()
        .merge(pingoo_sites::routes())
        .merge(pingoo_events::routes())
        .merge(pingoo_collect::routes(state.config.beacon_log_sample))
        .merge(pingoo_web::routes());
    pingoo::http::service(routes, state)
}

/// The API's whole OpenAPI description, from every HTTP function's routes: what
/// `docs/openapi.json` must hold (`pingoo-local openapi` prints it;
/// `tests/openapi.rs` compares).
pub fn openapi() -> utoipa::openapi::OpenApi {
    pingoo::openapi::document([
        pingoo_auth::openapi(),
        pingoo_sites::openapi(),
        pingoo_events::openapi(),
        pingoo_collect::openapi(),
    ])
}

/// [`openapi`] as `docs/openapi.json` holds it: pretty JSON, one trailing newline.
pub fn openapi_json() -> String {
    // Serialising a document of plain maps and strings cannot fail.
    let mut text = openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// What the scheduled janitor Lambda does on AWS, every `every`, finishing jobs only once
/// they are older than `grace` (`Config::purge_grace`).
pub async fn janitor_loop(db: Db, grace: Duration, every: Duration) {
    loop {
        let now = std::time::SystemTime::now();
        match pingoo::purge::run_at(&db, Duration::from_secs(20), now, grace).await {
            Ok(report) if report.events_deleted > 0 || report.jobs_finished > 0 => {
                tracing::info!(?report, "janitor purged");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "janitor round failed"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The aggregator as the local stream poller's handler.
#[derive(Clone)]
pub struct AggregatorHandler(pub Arc<Aggregator>);

impl stream::StreamHandler for AggregatorHandler {
    fn handle(
        &self,
        event: StreamEvent,
    ) -> impl Future<Output = Result<DynamoDbEventResponse, String>> + Send {
        let aggregator = self.0.clone();
        async move { Ok(aggregator.handle(event).await) }
    }
}

/// What AWS's event source mapping does for the aggregator: polls the events table's
/// stream and feeds the same handler the same event type. Returns once the stream is
/// found; the poller runs in the background.
pub async fn start_aggregator(
    sdk: &aws_config::SdkConfig,
    state: &AppState,
    checkpoint_file: PathBuf,
) -> Result<tokio::task::JoinHandle<()>, stream::StreamError> {
    let client = stream::client(sdk, &state.config);
    let stream_arn = stream::stream_arn(&client, &state.config.tables.events).await?;
    let config = stream::PollerConfig {
        stream_arn,
        batch_size: 1000,
        idle: Duration::from_millis(100),
        failure_file: checkpoint_file.with_file_name("stream-failures.jsonl"),
        checkpoint_file,
        max_retries: 10,
    };
    let handler = AggregatorHandler(Arc::new(Aggregator::new(state.db.clone())));
    Ok(tokio::spawn(stream::run(client, config, handler)))
}
