//! The local bootstrap creates exactly the tables `template.yaml` declares.

use pingoo::config::Tables;
use pingoo_stack::bootstrap::{describe, ensure_tables};
use pingoo_stack::template::{TEMPLATE, stream_triggers, template_tables};
use pingoo_stack::testkit;

#[tokio::test]
async fn bootstrapped_tables_match_the_template() {
    let (config, client) = testkit::config().await;
    let specs = template_tables().unwrap();
    assert!(!specs.is_empty());
    for spec in &specs {
        let name = config.tables.by_logical_id(&spec.logical_id).unwrap();
        let live = describe(&client, name, &spec.logical_id).await.unwrap();
        assert_eq!(
            &live, spec,
            "table {} differs from template.yaml",
            spec.logical_id
        );
    }
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
