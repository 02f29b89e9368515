//! The races around purges, against DynamoDB Local:
//!
//! - a site delete racing a statistics clear must leave a purge job for every generation
//!   the site reached (the delete is conditional on the generation it read);
//! - the aggregator may keep counting into a cleared or deleted generation for a while
//!   (its site cache, events late on the stream): the janitor keeps purging a job until
//!   it is older than the grace period, so those late counters go too.
//!
//! The janitor's clock is injected (`purge::run_at`'s `now`); nothing here sleeps.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use axum::http::{Method, StatusCode};
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
            aws_sdk_dynamodb::types::AttributeValue::S(pingoo::stats::schema::partition(
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

/// The delete read the site at generation 0; a clear moved it to generation 1 before the
/// delete's write. That write must fail (the purge job it carries names generation 0,
/// which the clear already queued, and generation 1 would be left without one); the
/// service then reads the site again and queues generation 1.
#[tokio::test]
async fn a_delete_that_read_an_older_generation_than_a_clear_left_does_not_apply() {
    let app = TestApp::new(pingoo_local::app).await;
    let db = &app.state.db;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let user = owner(&app, &site).await;

    let read_by_delete = db.get_site(site.id).await.unwrap().unwrap();
    assert_eq!(read_by_delete.generation, 0);
    pingoo::sites::service::clear_stats(&app.state, &user, site.id)
        .await
        .unwrap();
    // An event arrives in the new generation.
    assert!(db.put_event(&page_view(&site, 1, "/new")).await.unwrap());

    assert!(
        !db.delete_site(&read_by_delete).await.unwrap(),
        "a delete of generation 0 applied to a site at generation 1"
    );
    let still = db.get_site(site.id).await.unwrap().unwrap();
    assert_eq!(still.generation, 1);

    pingoo::sites::service::delete(&app.state, &user, site.id)
        .await
        .unwrap();
    assert!(db.get_site(site.id).await.unwrap().is_none());
    assert_eq!(queued(db, site.id).await, BTreeSet::from([0, 1]));
    let far = SystemTime::now() + Duration::from_secs(24 * 3600);
    let report = janitor(db, far, app.state.config.purge_grace()).await;
    assert_eq!((report.events_deleted, report.jobs_finished), (1, 2));
    assert_eq!(events_in(db, site.id, 1).await, 0);
}

/// `DELETE /api/sites/{id}` and two `DELETE /api/sites/{id}/stats` at once, many times:
/// whichever order they land in, every generation the site reached has a purge job, and
/// the janitor leaves nothing of any of them.
#[tokio::test]
async fn a_delete_racing_clears_leaves_a_purge_job_for_every_generation() {
    const ROUNDS: usize = 24;
    let app = TestApp::new(pingoo_local::app).await;
    let db = &app.state.db;
    let (token, _) = app.user("owner@example.com").await;
    let mut cleared_first = 0;
    for round in 0..ROUNDS {
        let site = app.site(&token, &format!("r{round}.example.com")).await;
        // An event in each generation the site may reach: ingestion between the requests
        // would write there.
        for generation in 0..=2 {
            assert!(
                db.put_event(&page_view(&site, generation, "/"))
                    .await
                    .unwrap()
            );
        }
        // The three requests start in a different order each round (the one polled first
        // sends its read first), so every interleaving of reads and writes comes up.
        let delete = format!("/api/sites/{}", site.id);
        let clear = format!("/api/sites/{}/stats", site.id);
        let mut paths = [delete.as_str(), clear.as_str(), clear.as_str()];
        let shift = round % paths.len();
        paths.rotate_left(shift);
        let replies = futures::future::join_all(
            paths
                .iter()
                .map(|path| app.call(Method::DELETE, path, Some(&token), None)),
        )
        .await;
        // The delete always succeeds; each clear either landed before it (200, one
        // generation more) or found the site gone (404).
        let mut reached = 0;
        for (path, reply) in paths.iter().zip(&replies) {
            match (*path == delete, reply.status) {
                (true, StatusCode::OK) => {}
                (false, StatusCode::OK) => reached += 1,
                (false, StatusCode::NOT_FOUND) => {}
                (_, other) => panic!("DELETE {path} answered {other}: {}", reply.body),
            }
        }
        cleared_first += usize::from(reached > 0);
        assert!(db.get_site(site.id).await.unwrap().is_none());
        assert_eq!(
            queued(db, site.id).await,
            (0..=reached).collect::<BTreeSet<u64>>(),
            "round {round}: {reached} clear(s) landed before the delete"
        );

        let far = SystemTime::now() + Duration::from_secs(24 * 3600);
        janitor(db, far, app.state.config.purge_grace()).await;
        for generation in 0..=reached {
            assert_eq!(
                events_in(db, site.id, generation).await,
                0,
                "round {round}: generation {generation} was not purged"
            );
        }
        assert!(queued(db, site.id).await.is_empty());
    }
    // The race was really run both ways.
    assert!(
        cleared_first > 0,
        "no clear ever landed before the delete in {ROUNDS} rounds"
    );
}
