//! Creates the template's tables and the GeoIP bucket on the local stand-ins. Idempotent:
//! `scripts/dev` runs it at every start.

use std::path::Path;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use pingoo::config::Tables;

use crate::template::{TableSpec, template_tables};

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Template(#[from] crate::template::TemplateError),
    #[error("template.yaml declares table {0}, which the configuration does not name")]
    UnknownTable(String),
    #[error("{op} failed: {detail}")]
    Aws { op: String, detail: String },
}

fn aws_err<E: std::error::Error>(op: impl Into<String>) -> impl FnOnce(E) -> BootstrapError {
    let op = op.into();
    move |e| BootstrapError::Aws {
        op,
        detail: DisplayErrorContext(&e).to_string(),
    }
}

fn key_schema(keys: &[(String, String)]) -> Result<Vec<KeySchemaElement>, BootstrapError> {
    keys.iter()
        .map(|(name, kind)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(KeyType::from(kind.as_str()))
                .build()
                .map_err(aws_err("key schema"))
        })
        .collect()
}

/// Creates every table of `template.yaml` that does not exist yet, named per `tables`.
pub async fn ensure_tables(client: &Client, tables: &Tables) -> Result<(), BootstrapError> {
    for spec in template_tables()? {
        let name = tables
            .by_logical_id(&spec.logical_id)
            .ok_or_else(|| BootstrapError::UnknownTable(spec.logical_id.clone()))?;
        let exists = match client.describe_table().table_name(name).send().await {
            Ok(_) => true,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                false
            }
            Err(e) => return Err(aws_err("DescribeTable")(e)),
        };
        if !exists {
            create_table(client, name, &spec).await?;
        }
    }
    Ok(())
}

async fn create_table(client: &Client, name: &str, spec: &TableSpec) -> Result<(), BootstrapError> {
    let attributes = spec
        .attributes
        .iter()
        .map(|(attr, kind)| {
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .map_err(aws_err("attribute definition"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = spec
        .indexes
        .iter()
        .map(|index| {
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key_schema(&index.key_schema)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(index.projection_type.as_str()))
                        .build(),
                )
                .build()
                .map_err(aws_err("index definition"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&spec.key_schema)?));
    if !indexes.is_empty() {
        request = request.set_global_secondary_indexes(Some(indexes));
    }
    if let Some(view) = &spec.stream_view_type {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view.as_str()))
                .build()
                .map_err(aws_err("stream specification"))?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        // Another process created it meanwhile: fine.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(e) => return Err(aws_err(format!("CreateTable {name}"))(e)),
    }
    client
        .wait_until_table_exists()
        .table_name(name)
        .wait(Duration::from_secs(30))
        .await
        .map_err(aws_err(format!("waiting for table {name}")))?;
    if let Some(attr) = &spec.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attr)
                    .enabled(true)
                    .build()
                    .map_err(aws_err("TTL specification"))?,
            )
            .send()
            .await
            .map_err(aws_err(format!("UpdateTimeToLive {name}")))?;
    }
    Ok(())
}

/// Creates the bucket if missing.
pub async fn ensure_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(), BootstrapError> {
    if s3.head_bucket().bucket(bucket).send().await.is_ok() {
        return Ok(());
    }
    match s3.create_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error().is_some_and(|e| {
                e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
            }) =>
        {
            Ok(())
        }
        Err(e) => Err(aws_err(format!("CreateBucket {bucket}"))(e)),
    }
}

/// Uploads `file` as `key` unless an object of the same size is already there.
/// Returns whether it uploaded.
pub async fn upload_if_missing(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    file: &Path,
) -> Result<bool, BootstrapError> {
    let size = std::fs::metadata(file)
        .map_err(|e| BootstrapError::Aws {
            op: format!("reading {}", file.display()),
            detail: e.to_string(),
        })?
        .len();
    if let Ok(head) = s3.head_object().bucket(bucket).key(key).send().await
        && head.content_length() == Some(size as i64)
    {
        return Ok(false);
    }
    let body = aws_sdk_s3::primitives::ByteStream::from_path(file)
        .await
        .map_err(|e| BootstrapError::Aws {
            op: format!("reading {}", file.display()),
            detail: e.to_string(),
        })?;
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body)
        .send()
        .await
        .map_err(aws_err(format!("PutObject {bucket}/{key}")))?;
    Ok(true)
}
