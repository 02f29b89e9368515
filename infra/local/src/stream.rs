//! A local stand-in for Lambda's DynamoDB-Streams event source mapping.
//!
//! It polls every shard of a table's stream with `GetRecords`, turns each batch into the
//! JSON a Lambda receives (`{"Records": [...]}`, attribute values in DynamoDB JSON),
//! deserializes that into `aws_lambda_events`' `dynamodb::Event` exactly as the Lambda
//! runtime would, and hands it to a handler. Like the real mapping (with
//! `ReportBatchItemFailures`) it honours a partial batch failure: records before the
//! first failed one are done, delivery resumes at the failed one. Like the template's
//! mapping (`BisectBatchOnFunctionError`, `MaximumRetryAttempts`), each retry of a failing
//! record halves the batch it starts, and a record that still fails alone after
//! `max_retries` retries goes to the on-failure destination (a JSON-lines file here) and
//! is skipped. A handler error retries the whole batch. Progress is checkpointed per shard in a JSON file written atomically,
//! so a restart neither skips nor loses records (it may repeat the last batch, as Lambda
//! may: handlers must be idempotent).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::error::DisplayErrorContext;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine;
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("{op} failed: {detail}")]
    Aws { op: &'static str, detail: String },
    #[error("table {0} has no stream")]
    NoStream(String),
    #[error("checkpoint file {path}: {detail}")]
    Checkpoint { path: PathBuf, detail: String },
    #[error("building the Lambda event: {0}")]
    Event(#[from] serde_json::Error),
}

fn aws<E: std::error::Error>(op: &'static str) -> impl FnOnce(E) -> StreamError {
    move |e| StreamError::Aws {
        op,
        detail: DisplayErrorContext(&e).to_string(),
    }
}

/// The batch a handler answers for, and how: `Ok` with the failed records' sequence
/// numbers (empty: all done), or `Err` to retry the whole batch.
pub trait StreamHandler: Send + Sync {
    fn handle(
        &self,
        event: Event,
    ) -> impl Future<Output = Result<DynamoDbEventResponse, String>> + Send;
}

/// Poller settings.
#[derive(Debug, Clone)]
pub struct PollerConfig {
    pub stream_arn: String,
    /// Most records per batch (Lambda's `BatchSize`).
    pub batch_size: i32,
    /// Pause when a shard has nothing new.
    pub idle: Duration,
    /// Per-shard last processed sequence numbers.
    pub checkpoint_file: PathBuf,
    /// Retries of a failing record before it is set aside (Lambda's
    /// `MaximumRetryAttempts`; the template says 10).
    pub max_retries: u32,
    /// Where set-aside records are written, one JSON line each (Lambda's on-failure
    /// destination).
    pub failure_file: PathBuf,
}

/// A record that keeps failing on one shard: how often, and how many records the next
/// batch starting at it may hold (halved at every retry, as Lambda's bisection does).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failing {
    seq: String,
    retries: u32,
    size: usize,
}

/// A DynamoDB Streams client for the same endpoint as DynamoDB (DynamoDB Local serves
/// both).
pub fn client(sdk: &aws_config::SdkConfig, config: &pingoo::config::Config) -> Client {
    let mut builder = aws_sdk_dynamodbstreams::config::Builder::from(sdk);
    if let Some(endpoint) = &config.dynamodb_endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}

/// The latest stream of `table`.
pub async fn stream_arn(
    dynamodb: &aws_sdk_dynamodbstreams::Client,
    table: &str,
) -> Result<String, StreamError> {
    let out = dynamodb
        .list_streams()
        .table_name(table)
        .send()
        .await
        .map_err(aws("ListStreams"))?;
    out.streams()
        .last()
        .and_then(|s| s.stream_arn())
        .map(str::to_owned)
        .ok_or_else(|| StreamError::NoStream(table.to_owned()))
}

/// Checkpoints: shard id → last sequence number handled.
type Checkpoints = BTreeMap<String, String>;

fn load_checkpoints(path: &PathBuf) -> Result<Checkpoints, StreamError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| StreamError::Checkpoint {
            path: path.clone(),
            detail: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Checkpoints::new()),
        Err(e) => Err(StreamError::Checkpoint {
            path: path.clone(),
            detail: e.to_string(),
        }),
    }
}

fn save_checkpoints(path: &PathBuf, checkpoints: &Checkpoints) -> Result<(), StreamError> {
    let err = |e: std::io::Error| StreamError::Checkpoint {
        path: path.clone(),
        detail: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(checkpoints)?).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// DynamoDB JSON of one attribute value (`{"S": "…"}`, `{"N": "1"}`, …).
fn attribute_json(value: &AttributeValue) -> Value {
    let b64 = |b: &aws_sdk_dynamodbstreams::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": b64(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::Bs(v) => json!({ "BS": v.iter().map(b64).collect::<Vec<_>>() }),
        AttributeValue::L(v) => json!({ "L": v.iter().map(attribute_json).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": item_json(m) }),
        _ => json!({ "NULL": true }),
    }
}

fn item_json(item: &std::collections::HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), attribute_json(v)))
            .collect(),
    )
}

/// The Lambda event for a batch, as the event source mapping sends it.
pub fn lambda_event(records: &[Record], stream_arn: &str) -> Result<Event, StreamError> {
    let records: Vec<Value> = records
        .iter()
        .map(|r| {
            let change = r.dynamodb();
            let mut dynamodb = serde_json::Map::new();
            if let Some(t) = change.and_then(|c| c.approximate_creation_date_time()) {
                dynamodb.insert("ApproximateCreationDateTime".into(), json!(t.secs()));
            }
            if let Some(keys) = change.and_then(|c| c.keys()) {
                dynamodb.insert("Keys".into(), item_json(keys));
            }
            if let Some(image) = change.and_then(|c| c.new_image()) {
                dynamodb.insert("NewImage".into(), item_json(image));
            }
            if let Some(image) = change.and_then(|c| c.old_image()) {
                dynamodb.insert("OldImage".into(), item_json(image));
            }
            dynamodb.insert(
                "SequenceNumber".into(),
                json!(change.and_then(|c| c.sequence_number()).unwrap_or_default()),
            );
            dynamodb.insert(
                "SizeBytes".into(),
                json!(change.and_then(|c| c.size_bytes()).unwrap_or_default()),
            );
            dynamodb.insert(
                "StreamViewType".into(),
                json!(
                    change
                        .and_then(|c| c.stream_view_type())
                        .map(|v| v.as_str())
                        .unwrap_or("NEW_IMAGE")
                ),
            );
            json!({
                "eventID": r.event_id().unwrap_or_default(),
                "eventName": r.event_name().map(|n| n.as_str()).unwrap_or_default(),
                "eventVersion": r.event_version().unwrap_or("1.1"),
                "eventSource": "aws:dynamodb",
                "awsRegion": r.aws_region().unwrap_or("ddblocal"),
                "dynamodb": Value::Object(dynamodb),
                "eventSourceARN": stream_arn,
            })
        })
        .collect();
    Ok(serde_json::from_value(json!({ "Records": records }))?)
}

/// Polls until the process ends. Errors are logged and retried after a pause.
pub async fn run<H: StreamHandler>(client: Client, config: PollerConfig, handler: H) {
    loop {
        if let Err(err) = poll_all(&client, &config, &handler).await {
            tracing::warn!(error = %err, "stream poller: retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Delivers everything currently in the stream, then keeps following it. Returns only
/// on an error.
async fn poll_all<H: StreamHandler>(
    client: &Client,
    config: &PollerConfig,
    handler: &H,
) -> Result<(), StreamError> {
    let mut checkpoints = load_checkpoints(&config.checkpoint_file)?;
    let mut failing: BTreeMap<String, Failing> = BTreeMap::new();
    // Shard id → current iterator (None once a closed shard is drained).
    let mut iterators: BTreeMap<String, Option<String>> = BTreeMap::new();
    loop {
        let stream = client
            .describe_stream()
            .stream_arn(&config.stream_arn)
            .send()
            .await
            .map_err(aws("DescribeStream"))?;
        for shard in stream
            .stream_description()
            .map(|d| d.shards())
            .unwrap_or_default()
        {
            let Some(id) = shard.shard_id() else { continue };
            if !iterators.contains_key(id) {
                let iterator = iterator(client, config, id, checkpoints.get(id)).await?;
                iterators.insert(id.to_owned(), iterator);
            }
        }
        let mut busy = false;
        let shards: Vec<String> = iterators.keys().cloned().collect();
        for shard in shards {
            let Some(Some(current)) = iterators.get(&shard).cloned() else {
                continue;
            };
            let out = client
                .get_records()
                .shard_iterator(current)
                .limit(config.batch_size)
                .send()
                .await
                .map_err(aws("GetRecords"))?;
            let mut records = out.records();
            let mut next = out.next_shard_iterator().map(str::to_owned);
            if !records.is_empty() {
                busy = true;
                if let Some(f) = failing.get(&shard)
                    && sequence_of(&records[0]).as_deref() == Some(f.seq.as_str())
                {
                    records = &records[..f.size.min(records.len())];
                }
                let (mut delivered, failed) = deliver(config, handler, records).await?;
                if let Some(i) = failed {
                    let seq = sequence_of(&records[i]).unwrap_or_default();
                    let left = records.len() - i;
                    let f = failing.entry(shard.clone()).or_insert(Failing {
                        seq: seq.clone(),
                        retries: 0,
                        size: left,
                    });
                    if f.seq != seq {
                        *f = Failing {
                            seq: seq.clone(),
                            retries: 0,
                            size: left,
                        };
                    }
                    f.retries += 1;
                    f.size = (left / 2).max(1);
                    if f.retries > config.max_retries && left == 1 {
                        set_aside(config, &records[i])?;
                        failing.remove(&shard);
                        delivered = Some(seq);
                    }
                } else {
                    failing.remove(&shard);
                }
                if let Some(last_done) = &delivered {
                    checkpoints.insert(shard.clone(), last_done.clone());
                    save_checkpoints(&config.checkpoint_file, &checkpoints)?;
                }
                let all_done = failed.is_none()
                    && delivered.as_deref()
                        == out
                            .records()
                            .last()
                            .and_then(|r| r.dynamodb()?.sequence_number());
                if !all_done {
                    // Resume right after what is done (or at the start of the batch).
                    next = iterator(client, config, &shard, checkpoints.get(&shard)).await?;
                }
            }
            iterators.insert(shard, next);
        }
        if !busy {
            tokio::time::sleep(config.idle).await;
        }
    }
}

/// A shard iterator after `checkpoint`, or from the oldest record without one.
async fn iterator(
    client: &Client,
    config: &PollerConfig,
    shard: &str,
    checkpoint: Option<&String>,
) -> Result<Option<String>, StreamError> {
    let request = client
        .get_shard_iterator()
        .stream_arn(&config.stream_arn)
        .shard_id(shard);
    let request = match checkpoint {
        Some(sequence) => request
            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
            .sequence_number(sequence),
        None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
    };
    let out = request.send().await.map_err(aws("GetShardIterator"))?;
    Ok(out.shard_iterator().map(str::to_owned))
}

fn sequence_of(r: &Record) -> Option<String> {
    r.dynamodb()
        .and_then(|c| c.sequence_number())
        .map(str::to_owned)
}

/// Writes a record that kept failing to the failure file, as Lambda sends it to the
/// on-failure destination.
fn set_aside(config: &PollerConfig, record: &Record) -> Result<(), StreamError> {
    use std::io::Write;
    let line = json!({
        "sequenceNumber": sequence_of(record),
        "eventID": record.event_id(),
        "reason": "RetryAttemptsExhausted",
    });
    tracing::error!(seq = ?sequence_of(record), "stream record failed every retry: set aside");
    let write = || -> std::io::Result<()> {
        if let Some(dir) = config.failure_file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.failure_file)?;
        writeln!(file, "{line}")
    };
    write().map_err(|e| StreamError::Checkpoint {
        path: config.failure_file.clone(),
        detail: e.to_string(),
    })
}

/// Hands one batch to the handler; returns the sequence number of the last record done
/// (`None` if none is) and the index of the first failed record, if any.
async fn deliver<H: StreamHandler>(
    config: &PollerConfig,
    handler: &H,
    records: &[Record],
) -> Result<(Option<String>, Option<usize>), StreamError> {
    let event = lambda_event(records, &config.stream_arn)?;
    let sequence = sequence_of;
    match handler.handle(event).await {
        Ok(response) => {
            let failed: Vec<&str> = response
                .batch_item_failures
                .iter()
                .filter_map(|f| f.item_identifier.as_deref())
                .collect();
            // Everything before the first failed record is done.
            let first_failed = records
                .iter()
                .position(|r| sequence(r).is_some_and(|s| failed.contains(&s.as_str())));
            let done = match first_failed {
                Some(0) => None,
                Some(i) => sequence(&records[i - 1]),
                None => records.last().and_then(sequence),
            };
            if first_failed.is_some() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok((done, first_failed))
        }
        Err(err) => {
            tracing::warn!(error = %err, "stream handler failed; retrying the batch");
            tokio::time::sleep(Duration::from_millis(500)).await;
            Ok((None, Some(0)))
        }
    }
}
