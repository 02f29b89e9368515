//! The aggregator against DynamoDB Local's real stream: every way Lambda may deliver a
//! batch (twice, overlapping, cut short by a crash, two shards at once, one event at a
//! time) leaves counters equal to a recount of the stored events.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use pingoo::events::Event;
use pingoo::stats::aggregate::{Aggregator, StreamedEvent};
use pingoo::stats::query;
use pingoo::stats::recount::{self, Mode};
use pingoo::store::Db;
use support::*;

#[tokio::test]
async fn the_same_records_twice_count_once() {
    let w = world().await;
    let mut events = mixed(&w.site, 120, 1);
    events.extend(scenario(&w.site));
    put(&w.app.state.db, &events).await;
    let records = stream_events(&w).await;
    assert_eq!(records.len(), 129);
    let aggregator = Aggregator::new(w.app.state.db.clone());
    let first = aggregator.apply(&records).await.unwrap();
    assert_eq!(first.counted, 129);
    assert!(first.items_written > 0);
    let again = aggregator.apply(&records).await.unwrap();
    assert_eq!(again.items_written, 0, "a replay writes nothing");
    assert_matches_recount(&w, day(2025, 9, 28), day(2025, 10, 1)).await;
    assert_scenario_figures(&w).await;
    let d = day(2025, 9, 30);
    assert_eq!(day_figures(&w, d).await.pv, page_views(&events, d));
}

#[tokio::test]
async fn overlapping_batches_after_a_bisect_or_partial_failure_count_once() {
    let w = world().await;
    let mut events = mixed(&w.site, 150, 2);
    events.extend(scenario(&w.site));
    put(&w.app.state.db, &events).await;
    let records = stream_events(&w).await;
    let aggregator = Aggregator::new(w.app.state.db.clone());
    // Bisect: the first half, then (after a partial failure at 40) from 40 on, then a
    // stale retry of an early slice.
    let all = records.len();
    for range in [0..75, 40..all, 10..60, 0..all] {
        aggregator.apply(&records[range]).await.unwrap();
    }
    assert_matches_recount(&w, day(2025, 9, 28), day(2025, 10, 1)).await;
    assert_scenario_figures(&w).await;
}

/// Fails every DynamoDB write from the `n`th on: the process died there.
#[derive(Debug)]
struct CrashAfter(Arc<AtomicI64>);

impl Intercept for CrashAfter {
    fn name(&self) -> &'static str {
        "CrashAfter"
    }
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        if (target.ends_with("UpdateItem") || target.ends_with("PutItem"))
            && self.0.fetch_sub(1, Ordering::SeqCst) <= 0
        {
            return Err("injected crash".into());
        }
        Ok(())
    }
}

fn crashing_db(db: &Db, writes: i64) -> Db {
    let config = db
        .client
        .config()
        .to_builder()
        .interceptor(CrashAfter(Arc::new(AtomicI64::new(writes))))
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    Db::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        db.tables.clone(),
    )
}

#[tokio::test]
async fn a_crash_in_the_middle_of_a_batch_then_the_retry_counts_once() {
    let w = world().await;
    let mut events = mixed(&w.site, 160, 3);
    events.extend(scenario(&w.site));
    put(&w.app.state.db, &events).await;
    let records = stream_events(&w).await;
    let healthy = Aggregator::new(w.app.state.db.clone());
    for (batch, crashes) in records
        .chunks(40)
        .zip([&[0, 5][..], &[1, 8, 14], &[9], &[3, 12], &[2]])
    {
        for &after in crashes {
            let crashing = Aggregator::new(crashing_db(&w.app.state.db, after));
            assert!(
                crashing.apply(batch).await.is_err(),
                "the crash after {after} writes must fail the batch"
            );
        }
        healthy.apply(batch).await.unwrap();
    }
    assert_matches_recount(&w, day(2025, 9, 28), day(2025, 10, 1)).await;
    assert_scenario_figures(&w).await;
}

#[tokio::test]
async fn two_shards_for_the_same_site_and_day_applied_concurrently_count_once() {
    let w = world().await;
    let mut events = mixed(&w.site, 200, 4);
    events.extend(scenario(&w.site));
    put(&w.app.state.db, &events).await;
    let records = stream_events(&w).await;
    // Two stream shards: each holds some events partitions, in order.
    let (even, odd): (Vec<_>, Vec<_>) = records
        .into_iter()
        .partition(|r| pingoo::events::id::shard(r.event.id).is_multiple_of(2));
    let a = Aggregator::new(w.app.state.db.clone());
    let b = Aggregator::new(w.app.state.db.clone());
    let run = |agg: Aggregator, records: Vec<StreamedEvent>| async move {
        for batch in records.chunks(25) {
            agg.apply(batch).await.unwrap();
        }
        agg
    };
    let (a, b) = tokio::join!(run(a, even.clone()), run(b, odd.clone()));
    // And again at once, as a retry storm would.
    tokio::join!(run(a, even), run(b, odd));
    assert_matches_recount(&w, day(2025, 9, 28), day(2025, 10, 1)).await;
    assert_scenario_figures(&w).await;
}

#[tokio::test]
async fn sessions_split_across_batches_bounce_and_last_exactly() {
    let w = world().await;
    let d = day(2025, 9, 30);
    let events = vec![
        event(
            &w.site,
            at(d, 1_000),
            "long",
            "203.0.113.1",
            "/",
            "page_view",
        ),
        event(
            &w.site,
            at(d, 1_010),
            "long",
            "203.0.113.1",
            "/a",
            "page_view",
        ),
        event(
            &w.site,
            at(d, 500),
            "bounce",
            "203.0.113.2",
            "/",
            "page_view",
        ),
        event(&w.site, at(d, 1_070), "long", "203.0.113.1", "/b", "custom"),
        event(
            &w.site,
            at(d, 600),
            "short",
            "203.0.113.2",
            "/",
            "page_view",
        ),
        event(
            &w.site,
            at(d, 605),
            "short",
            "203.0.113.2",
            "/x",
            "page_view",
        ),
    ];
    put(&w.app.state.db, &events).await;
    let records = stream_events(&w).await;
    let aggregator = Aggregator::new(w.app.state.db.clone());
    for record in &records {
        aggregator
            .apply(std::slice::from_ref(record))
            .await
            .unwrap();
    }
    let s = day_figures(&w, d).await;
    assert_eq!((s.pv, s.event_count, s.uv, s.ip_count), (5, 1, 3, 2));
    assert_eq!(s.bounce_rate, 33.3);
    // (70 s + 0 s + 5 s) / 3 sessions = 25 s.
    assert_eq!(s.avg_duration, 25);
    assert_eq!(s.week_pv, 5);
    assert_eq!((s.week_uv, s.week_ip, s.month_uv, s.month_ip), (3, 2, 3, 2));
    assert_matches_recount(&w, d, d).await;
}

#[tokio::test]
async fn week_and_month_distinct_counts_are_unions_not_sums() {
    let w = world().await;
    // The same visitor on Monday and Tuesday of one week, and on the 1st of next month.
    let events = vec![
        event(
            &w.site,
            at(day(2025, 9, 29), 10),
            "v1",
            "203.0.113.1",
            "/",
            "page_view",
        ),
        event(
            &w.site,
            at(day(2025, 9, 30), 10),
            "v1",
            "203.0.113.1",
            "/",
            "page_view",
        ),
        event(
            &w.site,
            at(day(2025, 9, 30), 20),
            "v2",
            "203.0.113.9",
            "/",
            "page_view",
        ),
        event(
            &w.site,
            at(day(2025, 10, 1), 10),
            "v1",
            "203.0.113.1",
            "/",
            "page_view",
        ),
    ];
    put(&w.app.state.db, &events).await;
    let records = stream_events(&w).await;
    Aggregator::new(w.app.state.db.clone())
        .apply(&records)
        .await
        .unwrap();
    let tuesday = day_figures(&w, day(2025, 9, 30)).await;
    assert_eq!(
        (tuesday.week_pv, tuesday.week_uv, tuesday.week_ip),
        (4, 2, 2)
    );
    assert_eq!(
        (tuesday.month_pv, tuesday.month_uv, tuesday.month_ip),
        (3, 2, 2)
    );
    let october = day_figures(&w, day(2025, 10, 1)).await;
    assert_eq!((october.month_pv, october.month_uv), (1, 1));
    let (range, _) = query::summary(
        &w.app.state.db,
        w.site.id,
        w.site.generation,
        day(2025, 9, 29),
        day(2025, 10, 1),
    )
    .await
    .unwrap();
    assert_eq!((range.pv, range.uv, range.ip_count), (4, 2, 2));
    let daily: Vec<_> = range
        .daily
        .unwrap()
        .into_iter()
        .map(|p| (p.pv, p.uv))
        .collect();
    assert_eq!(daily, [(1, 1), (2, 2), (1, 1)]);
}

#[tokio::test]
async fn rebuild_restores_lost_counters_and_keeps_markers() {
    let w = world().await;
    let events = mixed(&w.site, 80, 5);
    put(&w.app.state.db, &events).await;
    let records = stream_events(&w).await;
    let aggregator = Aggregator::new(w.app.state.db.clone());
    aggregator.apply(&records).await.unwrap();
    // An incident: a day's counters are lost and a week's are corrupted.
    let db = &w.app.state.db;
    let pk = pingoo::stats::schema::partition(w.site.id, w.site.generation);
    for sk in ["D#20250930", "R#20250930#url", "S#20250930#1"] {
        db.client
            .delete_item()
            .table_name(&db.tables.stats)
            .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.clone()))
            .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(sk.into()))
            .send()
            .await
            .unwrap();
    }
    db.client
        .update_item()
        .table_name(&db.tables.stats)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.clone()))
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("W#20250929".into()),
        )
        .update_expression("ADD pv :n")
        .expression_attribute_values(":n", aws_sdk_dynamodb::types::AttributeValue::N("7".into()))
        .send()
        .await
        .unwrap();
    let (from, to) = (day(2025, 9, 28), day(2025, 10, 1));
    let before = recount::recount(db, w.site.id, from, to, Mode::Compare)
        .await
        .unwrap();
    assert!(!before.differences.is_empty());
    recount::recount(db, w.site.id, from, to, Mode::Rebuild)
        .await
        .unwrap();
    assert_matches_recount(&w, from, to).await;
    // The aggregator re-delivering old records after the rebuild changes nothing.
    aggregator.apply(&records).await.unwrap();
    assert_matches_recount(&w, from, to).await;
}

#[tokio::test]
async fn a_day_of_ten_thousand_events_reads_as_cheaply_as_a_day_of_ten() {
    let w = world().await;
    let db = &w.app.state.db;
    let (quiet, busy) = (day(2025, 9, 15), day(2025, 9, 16));
    let mut rng = Lcg(7);
    let mut events = Vec::new();
    for (d, n) in [(quiet, 10), (busy, 10_000)] {
        for i in 0..n {
            let session = format!("s{}", rng.next(300));
            let ip = format!("203.0.{}.1", rng.next(200));
            let url = format!("/page/{}", i % 5);
            let mut e = event(
                &w.site,
                at(d, rng.next(86_400) as i64),
                &session,
                &ip,
                &url,
                "page_view",
            );
            // Unique ids however many events share a second.
            e.id = (e.id & !0xFFF) | (i & 0xFFF);
            events.push(e);
        }
    }
    // Bulk load: the events, then their counters rebuilt by recount.
    db.put_events_bulk(&events).await.unwrap();
    recount::recount(db, w.site.id, quiet, busy, Mode::Rebuild)
        .await
        .unwrap();

    let g = w.site.generation;
    let (q, quiet_cost) = query::summary(db, w.site.id, g, quiet, quiet)
        .await
        .unwrap();
    let (b, busy_cost) = query::summary(db, w.site.id, g, busy, busy).await.unwrap();
    assert_eq!((q.pv, b.pv), (10, 10_000));
    assert_eq!(quiet_cost, busy_cost, "summary cost");
    assert_eq!(quiet_cost.requests, 1);
    let stat = pingoo::stats::facts::StatType::Url;
    let (qr, quiet_cost) = query::ranking(db, w.site.id, g, quiet, stat, 1)
        .await
        .unwrap();
    let (br, busy_cost) = query::ranking(db, w.site.id, g, busy, stat, 1)
        .await
        .unwrap();
    assert_eq!((qr.total, br.total), (5, 5));
    assert_eq!(quiet_cost, busy_cost, "ranking cost");
    assert_eq!(quiet_cost.requests, 1);
}

#[tokio::test]
async fn a_full_ranking_item_counts_new_keys_as_other_instead_of_failing() {
    let w = world().await;
    let d = day(2025, 9, 15);
    // 2,000 distinct 240-character paths: more than one 400 KB item holds.
    let events: Vec<Event> = (0..2000)
        .map(|i| {
            let url = format!("/{i:04}/{}", "x".repeat(234));
            let mut e = event(
                &w.site,
                at(d, i64::from(i)),
                "s",
                "203.0.113.1",
                &url,
                "page_view",
            );
            e.id = (e.id & !0xFFF) | u64::from(i as u16 & 0xFFF);
            e
        })
        .collect();
    w.app.state.db.put_events_bulk(&events).await.unwrap();
    let records = stream_events(&w).await;
    let aggregator = Aggregator::new(w.app.state.db.clone());
    for batch in records.chunks(250) {
        aggregator.apply(batch).await.unwrap();
    }
    let db = &w.app.state.db;
    let (urls, _) = query::ranking(
        db,
        w.site.id,
        w.site.generation,
        d,
        pingoo::stats::facts::StatType::Url,
        1,
    )
    .await
    .unwrap();
    assert!(urls.total < 2000, "{} keys", urls.total);
    assert_eq!(urls.list[0].key, "(other)");
    let (all, _) = query::summary(db, w.site.id, w.site.generation, d, d)
        .await
        .unwrap();
    assert_eq!(all.pv, 2000);
    // Every page view is still in the ranking.
    let mut sum = 0;
    for page in 1..=urls.total.div_ceil(10) {
        let (p, _) = query::ranking(
            db,
            w.site.id,
            w.site.generation,
            d,
            pingoo::stats::facts::StatType::Url,
            page,
        )
        .await
        .unwrap();
        sum += p.list.iter().map(|r| r.count).sum::<u64>();
    }
    assert_eq!(sum, 2000);
    // Recount folds the smallest keys the same way, so a rebuild fits too.
    recount::recount(db, w.site.id, d, d, Mode::Rebuild)
        .await
        .unwrap();
    let (rebuilt, _) = query::ranking(
        db,
        w.site.id,
        w.site.generation,
        d,
        pingoo::stats::facts::StatType::Url,
        1,
    )
    .await
    .unwrap();
    assert!(rebuilt.total < 2000);
    assert_eq!(rebuilt.list[0].key, "(other)");
}
