//! The local event source mapping against DynamoDB Local's real stream: delivery, partial
//! batch failures, and restarts from the checkpoint.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use pingoo::events::Event;
use pingoo_local::stream::{self, PollerConfig, StreamHandler};
use pingoo_stack::testkit;

/// Records the URL of every event it is handed; fails the record whose URL is `fail_once`
/// the first time it sees it.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<String>>>,
    fail_once: Arc<Mutex<Option<String>>>,
    /// A poison record: failed every time.
    fail_always: Arc<Mutex<Option<String>>>,
    /// Records per batch handed over.
    batches: Arc<Mutex<Vec<usize>>>,
}

impl StreamHandler for Recorder {
    async fn handle(&self, event: StreamEvent) -> Result<DynamoDbEventResponse, String> {
        let mut response = DynamoDbEventResponse::default();
        self.batches.lock().unwrap().push(event.records.len());
        for record in event.records {
            assert_eq!(record.event_name, "INSERT");
            let stored: Event = serde_dynamo::from_item(record.change.new_image)
                .map_err(|e| format!("a stored event: {e}"))?;
            self.seen.lock().unwrap().push(stored.url.clone());
            let mut fail = self.fail_once.lock().unwrap();
            let poison = self.fail_always.lock().unwrap().as_deref() == Some(stored.url.as_str());
            if poison || fail.as_deref() == Some(stored.url.as_str()) {
                if !poison {
                    *fail = None;
                }
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = record.change.sequence_number.clone();
                response.batch_item_failures.push(failure);
                break; // as Lambda does: report the first failure, stop the batch
            }
        }
        Ok(response)
    }
}

async fn wait_until(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Stack {
    app: testkit::TestApp,
    streams: aws_sdk_dynamodbstreams::Client,
    config: PollerConfig,
}

async fn stack() -> Stack {
    let app = testkit::TestApp::new(pingoo_local::app).await;
    let sdk = pingoo::aws::sdk_config(&app.state.config).await;
    let streams = stream::client(&sdk, &app.state.config);
    let arn = stream::stream_arn(&streams, &app.state.config.tables.events)
        .await
        .unwrap();
    let checkpoint_file =
        std::env::temp_dir().join(format!("pingoo-stream-{}.json", pingoo::ids::tracking_id()));
    Stack {
        app,
        streams,
        config: PollerConfig {
            stream_arn: arn,
            batch_size: 100,
            idle: Duration::from_millis(100),
            failure_file: checkpoint_file.with_extension("failures.jsonl"),
            checkpoint_file,
            max_retries: 3,
        },
    }
}

async fn store(app: &testkit::TestApp, site: &pingoo::model::Site, url: &str) {
    let input = pingoo::events::validate::EventInput {
        session_id: "s".into(),
        url: url.into(),
        event_type: "page_view".into(),
        ..Default::default()
    };
    pingoo::events::ingest::ingest(&app.state, site, input, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn records_arrive_in_order_and_a_restart_resumes_after_the_checkpoint() {
    let s = stack().await;
    let (token, _) = s.app.user("owner@example.com").await;
    let site = s.app.site(&token, "example.com").await;
    for i in 0..5 {
        store(&s.app, &site, &format!("/p{i}")).await;
    }
    let first = Recorder::default();
    let poller = tokio::spawn(stream::run(
        s.streams.clone(),
        s.config.clone(),
        first.clone(),
    ));
    wait_until("5 records", || first.seen.lock().unwrap().len() >= 5).await;

    // A write made while polling arrives too; note the latency (not asserted).
    let written = std::time::Instant::now();
    store(&s.app, &site, "/live").await;
    wait_until("the live record", || first.seen.lock().unwrap().len() >= 6).await;
    println!("stream delivery latency: {:?}", written.elapsed());
    assert_eq!(
        *first.seen.lock().unwrap(),
        ["/p0", "/p1", "/p2", "/p3", "/p4", "/live"]
    );
    poller.abort();
    let _ = poller.await;

    // A new poller with the same checkpoint starts after what was handled.
    let second = Recorder::default();
    let poller = tokio::spawn(stream::run(
        s.streams.clone(),
        s.config.clone(),
        second.clone(),
    ));
    store(&s.app, &site, "/after-restart").await;
    wait_until("the new record", || !second.seen.lock().unwrap().is_empty()).await;
    assert_eq!(*second.seen.lock().unwrap(), ["/after-restart"]);
    poller.abort();
    let _ = std::fs::remove_file(&s.config.checkpoint_file);
}

#[tokio::test]
async fn a_partial_batch_failure_redelivers_from_the_failed_record() {
    let s = stack().await;
    let (token, _) = s.app.user("owner@example.com").await;
    let site = s.app.site(&token, "example.com").await;
    for url in ["/a", "/b", "/fail", "/c"] {
        store(&s.app, &site, url).await;
    }
    let recorder = Recorder::default();
    *recorder.fail_once.lock().unwrap() = Some("/fail".into());
    let poller = tokio::spawn(stream::run(
        s.streams.clone(),
        s.config.clone(),
        recorder.clone(),
    ));
    wait_until("/c", || {
        recorder.seen.lock().unwrap().contains(&"/c".to_owned())
    })
    .await;
    poller.abort();
    // Before the failure: once. The failed record: again. After it: delivered.
    assert_eq!(
        *recorder.seen.lock().unwrap(),
        ["/a", "/b", "/fail", "/fail", "/c"]
    );
    let _ = std::fs::remove_file(&s.config.checkpoint_file);
}

#[tokio::test]
async fn a_poison_record_is_bisected_to_and_set_aside_after_its_retries() {
    let s = stack().await;
    let (token, _) = s.app.user("owner@example.com").await;
    let site = s.app.site(&token, "example.com").await;
    for url in ["/a", "/poison", "/b", "/c", "/d", "/e", "/f"] {
        store(&s.app, &site, url).await;
    }
    let recorder = Recorder::default();
    *recorder.fail_always.lock().unwrap() = Some("/poison".into());
    let poller = tokio::spawn(stream::run(
        s.streams.clone(),
        s.config.clone(),
        recorder.clone(),
    ));
    wait_until("/f", || {
        recorder.seen.lock().unwrap().contains(&"/f".to_owned())
    })
    .await;
    poller.abort();
    let seen = recorder.seen.lock().unwrap().clone();
    // Each retry starts at the poison with half the batch, down to the poison alone,
    // which is retried until max_retries (3) is spent; then the rest is delivered once.
    assert_eq!(*recorder.batches.lock().unwrap(), [7, 3, 1, 1, 5]);
    assert_eq!(seen.iter().filter(|u| *u == "/poison").count(), 4);
    for url in ["/a", "/b", "/c", "/d", "/e", "/f"] {
        assert_eq!(
            seen.iter().filter(|u| *u == url).count(),
            1,
            "{url}: {seen:?}"
        );
    }
    let failures = std::fs::read_to_string(&s.config.failure_file).unwrap();
    assert_eq!(failures.lines().count(), 1, "{failures}");
    assert!(failures.contains("RetryAttemptsExhausted"));
    let _ = std::fs::remove_file(&s.config.checkpoint_file);
    let _ = std::fs::remove_file(&s.config.failure_file);
}
