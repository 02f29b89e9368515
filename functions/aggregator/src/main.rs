//! Lambda entry for the aggregator, fed by the events table's stream (INSERT records).
//! Answers with the partial batch failure response (`ReportBatchItemFailures`).

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use pingoo::config::TokenKey;
use pingoo::stats::aggregate::Aggregator;

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
    let aggregator = &Aggregator::new(state.db.clone());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<DynamoDbEventResponse, Error>(aggregator.handle(event.payload).await)
    }))
    .await
}
