//! The local bootstrap creates exactly the tables `template.yaml` declares: each table's
//! `DescribeTable` (and `DescribeTimeToLive`) from DynamoDB Local, field by field, against
//! the template's YAML read here on its own, not through `pingoo_stack::template` (which the
//! bootstrap itself uses, so comparing with it would be a round trip).

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::KeySchemaElement;
use pingoo::config::Tables;
use pingoo_stack::bootstrap::ensure_tables;
use pingoo_stack::template::{TEMPLATE, stream_triggers, template_tables};
use pingoo_stack::testkit;
use serde_yaml_ng::Value;

/// Table properties this test checks against DynamoDB Local, and those the stand-in cannot
/// show (AWS applies them; cfn-lint checks their form). Any other property fails the test
/// until it is checked here.
const CHECKED: [&str; 6] = [
    "BillingMode",
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "StreamSpecification",
    "TimeToLiveSpecification",
];
const NOT_LOCAL: [&str; 3] = [
    "TableName", // the configuration names tables (prefix per test, per stage)
    "PointInTimeRecoverySpecification",
    "SSESpecification",
];

/// An index: name, key schema, projection type.
type Index = (String, Vec<(String, String)>, String);

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v:?}"))
}

fn yaml_keys(v: &Value) -> Vec<(String, String)> {
    v.as_sequence()
        .expect("a KeySchema list")
        .iter()
        .map(|k| (text(k, "AttributeName").into(), text(k, "KeyType").into()))
        .collect()
}

fn live_keys(keys: &[KeySchemaElement]) -> Vec<(String, String)> {
    keys.iter()
        .map(|k| (k.attribute_name().into(), k.key_type().as_str().into()))
        .collect()
}

async fn described(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
) -> aws_sdk_dynamodb::types::TableDescription {
    client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
}

#[tokio::test]
async fn bootstrapped_tables_match_the_template() {
    let (config, client) = testkit::config().await;
    let template: Value = serde_yaml_ng::from_str(TEMPLATE).unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let mut seen = 0;
    for (id, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::DynamoDB::Table") {
            continue;
        }
        seen += 1;
        let id = id.as_str().unwrap();
        let props = &resource["Properties"];
        for (key, _) in props.as_mapping().unwrap() {
            let key = key.as_str().unwrap();
            assert!(
                CHECKED.contains(&key) || NOT_LOCAL.contains(&key),
                "{id}.{key} is not checked against DynamoDB Local: add it to this test"
            );
        }
        let name = config
            .tables
            .by_logical_id(id)
            .unwrap_or_else(|| panic!("{id} has no configured name"));
        let live = described(&client, name).await;

        assert_eq!(
            live.billing_mode_summary()
                .and_then(|b| b.billing_mode())
                .map(|m| m.as_str()),
            Some(text(props, "BillingMode")),
            "{id}: BillingMode"
        );
        let yaml_attrs: BTreeSet<(String, String)> = props["AttributeDefinitions"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    text(a, "AttributeName").into(),
                    text(a, "AttributeType").into(),
                )
            })
            .collect();
        let live_attrs: BTreeSet<(String, String)> = live
            .attribute_definitions()
            .iter()
            .map(|a| {
                (
                    a.attribute_name().into(),
                    a.attribute_type().as_str().into(),
                )
            })
            .collect();
        assert_eq!(live_attrs, yaml_attrs, "{id}: AttributeDefinitions");
        assert_eq!(
            live_keys(live.key_schema()),
            yaml_keys(&props["KeySchema"]),
            "{id}: KeySchema"
        );

        let yaml_indexes: BTreeSet<Index> = props["GlobalSecondaryIndexes"]
            .as_sequence()
            .map(|list| {
                list.iter()
                    .map(|g| {
                        (
                            text(g, "IndexName").into(),
                            yaml_keys(&g["KeySchema"]),
                            text(&g["Projection"], "ProjectionType").into(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let live_indexes: BTreeSet<Index> = live
            .global_secondary_indexes()
            .iter()
            .map(|g| {
                (
                    g.index_name().unwrap_or_default().into(),
                    live_keys(g.key_schema()),
                    g.projection()
                        .and_then(|p| p.projection_type())
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(live_indexes, yaml_indexes, "{id}: GlobalSecondaryIndexes");

        let live_stream = live
            .stream_specification()
            .filter(|s| s.stream_enabled())
            .and_then(|s| s.stream_view_type())
            .map(|v| v.as_str());
        assert_eq!(
            live_stream,
            props["StreamSpecification"]["StreamViewType"].as_str(),
            "{id}: StreamSpecification"
        );

        let ttl = client
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .unwrap();
        let live_ttl = ttl
            .time_to_live_description()
            .filter(|d| {
                d.time_to_live_status()
                    .is_some_and(|s| matches!(s.as_str(), "ENABLED" | "ENABLING"))
            })
            .and_then(|d| d.attribute_name());
        let yaml_ttl = &props["TimeToLiveSpecification"];
        let want_ttl =
            (yaml_ttl["Enabled"].as_bool() == Some(true)).then(|| text(yaml_ttl, "AttributeName"));
        assert_eq!(live_ttl, want_ttl, "{id}: TimeToLiveSpecification");
    }
    assert_eq!(seen, 3, "the template's tables: app, events, stats");
    // What the code relies on, pinned literally too: the events stream carries new images
    // and events are keyed by partition and id.
    let events = described(&client, &config.tables.events).await;
    assert_eq!(
        events
            .stream_specification()
            .and_then(|s| s.stream_view_type())
            .map(|v| v.as_str()),
        Some("NEW_IMAGE")
    );
    assert_eq!(
        live_keys(events.key_schema()),
        [("pk".into(), "HASH".into()), ("id".into(), "RANGE".into())]
    );
}

#[tokio::test]
async fn bootstrap_is_idempotent() {
    let (config, client) = testkit::config().await;
    ensure_tables(&client, &config.tables).await.unwrap();
    ensure_tables(&client, &config.tables).await.unwrap();
}

#[test]
fn every_template_table_has_a_configured_name() {
    let tables = Tables::with_prefix("x-");
    for spec in template_tables().unwrap() {
        assert!(
            tables.by_logical_id(&spec.logical_id).is_some(),
            "{} has no name in pingoo::config::Tables",
            spec.logical_id
        );
    }
}

/// The counters' per-shard sequence markers rely on each events partition's records
/// arriving in order, one batch at a time per stream shard: every stream trigger (the
/// events table has the only stream) must say `ParallelizationFactor: 1` explicitly.
#[test]
fn the_events_stream_is_read_with_parallelization_factor_1() {
    let triggers = stream_triggers(TEMPLATE).unwrap();
    assert!(
        triggers
            .iter()
            .any(|t| t.table.as_deref() == Some("EventsTable")),
        "no trigger on EventsTable's stream found in {triggers:?}"
    );
    for trigger in &triggers {
        assert_eq!(
            trigger.parallelization_factor,
            Some(1),
            "{} must set ParallelizationFactor: 1",
            trigger.name
        );
    }
}
