//! The races around purges, against DynamoDB Local:
//!
//! - the aggregator may keep counting into a cleared or deleted generation for a while
//!   (its site cache, events late on the stream): the janitor keeps purging a job until
//!   it is older than the grace period, so those late counters go too.
//!
//! The janitor's clock is injected (`purge::run_at`'s `now`); nothing here sleeps.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use pingoo::events::Event;
use pingoo::model::Site;
use pingoo::purge::{self, PurgeReport};
use pingoo::stats::aggregate::{Aggregator, StreamedEvent};
use pingoo::store::{Db, EventRange};
use pingoo_stack::testkit::TestApp;

/// A human page view of `site` in `generation`, now.
fn page_view(site: &Site, generation: u64, url: &str) -> Event {
    let now = chrono::Utc::now();
    Event {
        id: pingoo::events::id::new_id(now),
        site_id: site.id,
        generation,
        created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        session_id: "s1".into(),
        user_id: String::new(),
        ip: "203.0.113.0".into(),
        url: url.into(),
        referrer: String::new(),
        user_agent: "test".into(),
        device: "desktop".into(),
        browser: "Chrome".into(),
        os: "Linux".into(),
        screen: "1920x1080".into(),
        is_bot: false,
        bot_name: String::new(),
        country: "FR".into(),
        subdivision: String::new(),
        city: "Paris".into(),
        isp: String::new(),
        event_type: "page_view".into(),
        event_value: String::new(),
    }
}

/// Stores `event` and hands it to `aggregator` as its stream record number `seq` would.
async fn ingest(db: &Db, aggregator: &Aggregator, event: Event, seq: u64) -> usize {
    assert!(db.put_event(&event).await.unwrap());
    let record = StreamedEvent {
        seq: format!("{seq:021}"),
        event,
    };
    aggregator.apply(&[record]).await.unwrap().counted
}

async fn events_in(db: &Db, site_id: u64, generation: u64) -> u64 {
    db.count_events(&EventRange {
        site_id,
        generation,
        first_id: 0,
        last_id: pingoo::events::id::MAX_ID,
        filter: Default::default(),
    })
    .await
    .unwrap()
}

/// Stats items of one site generation (counted without deleting them).
async fn counters_in(db: &Db, site_id: u64, generation: u64) -> i32 {
    db.client
        .query()
        .table_name(&db.tables.stats)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(pingoo::stats::facts::partition(
                site_id, generation,
            )),
        )
        .select(aws_sdk_dynamodb::types::Select::Count)
        .send()
        .await
        .unwrap()
        .count()
}

/// The generations that have a purge job queued, for one site.
async fn queued(db: &Db, site_id: u64) -> BTreeSet<u64> {
    db.purge_jobs()
        .await
        .unwrap()
        .into_iter()
        .filter(|job| job.site_id == site_id)
        .map(|job| job.generation)
        .collect()
}

async fn janitor(db: &Db, now: SystemTime, grace: Duration) -> PurgeReport {
    purge::run_at(db, Duration::from_secs(30), now, grace)
        .await
        .unwrap()
}

async fn owner(app: &TestApp, site: &Site) -> pingoo::model::User {
    app.state.db.get_user(site.user_id).await.unwrap().unwrap()
}

/// What the aggregator does to a purged generation while its cache still holds the site,
/// after a clear (`clear: true`) or a delete.
async fn late_counters_are_purged_before_the_job_is_done(clear: bool) {
    let app = TestApp::new(pingoo_local::app).await;
    let db = &app.state.db;
    let grace = app.state.config.purge_grace();
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let aggregator = Aggregator::new(db.clone());

    // The aggregator counts an event of generation 0 and caches the site.
    assert_eq!(
        ingest(db, &aggregator, page_view(&site, 0, "/a"), 1).await,
        1
    );
    assert!(counters_in(db, site.id, 0).await > 0);

    let user = owner(&app, &site).await;
    if clear {
        pingoo::sites::service::clear_stats(&app.state, &user, site.id)
            .await
            .unwrap();
    } else {
        pingoo::sites::service::delete(&app.state, &user, site.id)
            .await
            .unwrap();
    }
    let changed = SystemTime::now();
    assert_eq!(queued(db, site.id).await, BTreeSet::from([0]));

    // A janitor run within the grace purges everything there is, but keeps the job.
    let first = janitor(db, changed, grace).await;
    assert_eq!(first.events_deleted, 1);
    assert!(first.counters_deleted > 0);
    assert_eq!((first.jobs_finished, first.jobs_waiting), (0, 1));
    assert_eq!(counters_in(db, site.id, 0).await, 0);
    assert_eq!(queued(db, site.id).await, BTreeSet::from([0]));

    // A record of generation 0 late on the stream: the aggregator still trusts its cached
    // site (30 s) and counts it into the purged generation.
    assert_eq!(
        ingest(db, &aggregator, page_view(&site, 0, "/late"), 2).await,
        1,
        "the aggregator's cache should still hold generation 0"
    );
    let late = counters_in(db, site.id, 0).await;
    assert!(late > 0);

    // Still within the grace: purged again, still not done.
    let within = janitor(db, changed + grace - Duration::from_secs(1), grace).await;
    assert_eq!(within.events_deleted, 1);
    assert_eq!(within.counters_deleted, late as usize);
    assert_eq!((within.jobs_finished, within.jobs_waiting), (0, 1));

    // The same once more, and then the grace has passed: the late counters go, and only
    // then the job.
    assert_eq!(
        ingest(db, &aggregator, page_view(&site, 0, "/later"), 3).await,
        1
    );
    let done = janitor(db, changed + grace, grace).await;
    assert_eq!(done.events_deleted, 1);
    assert!(done.counters_deleted > 0);
    assert_eq!((done.jobs_finished, done.jobs_waiting), (1, 0));
    assert_eq!(counters_in(db, site.id, 0).await, 0);
    assert_eq!(events_in(db, site.id, 0).await, 0);
    assert!(queued(db, site.id).await.is_empty());
}

#[tokio::test]
async fn counters_written_from_a_stale_site_cache_after_a_clear_are_purged() {
    late_counters_are_purged_before_the_job_is_done(true).await;
}

#[tokio::test]
async fn counters_written_from_a_stale_site_cache_after_a_delete_are_purged() {
    late_counters_are_purged_before_the_job_is_done(false).await;
}

#[tokio::test]
async fn an_empty_job_waits_for_its_grace_and_a_job_without_a_time_does_not() {
    let app = TestApp::with_config(pingoo_local::app, |config| {
        config.purge_stream_lag = Duration::from_secs(5);
    })
    .await;
    let db = &app.state.db;
    let grace = app.state.config.purge_grace();
    assert_eq!(
        grace,
        pingoo::stats::aggregate::SITE_TTL + Duration::from_secs(5)
    );
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let user = owner(&app, &site).await;
    pingoo::sites::service::delete(&app.state, &user, site.id)
        .await
        .unwrap();
    let deleted = SystemTime::now();

    // Nothing to purge at all, yet the job stays until it is older than the grace.
    let early = janitor(db, deleted, grace).await;
    assert_eq!(
        early,
        PurgeReport {
            jobs_waiting: 1,
            ..PurgeReport::default()
        }
    );
    assert_eq!(queued(db, site.id).await, BTreeSet::from([0]));
    // The job's own time counts, not when the test looked: a minute later it is done.
    let late = janitor(db, deleted + Duration::from_secs(60), grace).await;
    assert_eq!(late.jobs_finished, 1);
    assert!(queued(db, site.id).await.is_empty());

    // A job queued before jobs carried their time is old enough at once.
    let mut item = std::collections::HashMap::new();
    let s = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.into());
    let n = |v: u64| aws_sdk_dynamodb::types::AttributeValue::N(v.to_string());
    item.insert("pk".to_owned(), s(&format!("PURGE#{}#7", site.id)));
    item.insert("sk".to_owned(), s("PURGE"));
    item.insert("site_id".to_owned(), n(site.id));
    item.insert("generation".to_owned(), n(7));
    item.insert("gsi1pk".to_owned(), s("PURGE"));
    item.insert(
        "gsi1sk".to_owned(),
        s(&format!("{:020}#{:020}", site.id, 7)),
    );
    db.client
        .put_item()
        .table_name(&db.tables.app)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let legacy = janitor(db, SystemTime::now(), grace).await;
    assert_eq!(legacy.jobs_finished, 1);
    assert!(queued(db, site.id).await.is_empty());
}
