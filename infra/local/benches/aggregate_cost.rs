//! What the aggregator costs in DynamoDB write units per event (from
//! `ReturnConsumedCapacity`, against DynamoDB Local), and what a summary or ranking read
//! costs. Prints a table; asserts nothing (targets belong in the README, not in tests).
//!
//! Needs `DYNAMODB_ENDPOINT` (run through `scripts/bench`, or next to `scripts/dev`:
//! `DYNAMODB_ENDPOINT=http://127.0.0.1:8000 cargo bench -p pingoo-local --bench aggregate_cost`).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use pingoo::events::Event;
use pingoo::model::Site;
use pingoo::stats::aggregate::{Aggregator, StreamedEvent};
use pingoo::stats::facts::StatType;
use pingoo::stats::query;
use pingoo_stack::testkit::TestApp;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

const DAY: (i32, u32, u32) = (2025, 9, 16);

/// Traffic of one day shaped like a small site's: sessions of about four events, most of
/// them page views over 30 pages, a few custom events and bots.
struct Traffic {
    rng: Lcg,
    sessions: u64,
    seq: u64,
}

impl Traffic {
    fn new(seed: u64) -> Self {
        Traffic {
            rng: Lcg(seed),
            sessions: 0,
            seq: 0,
        }
    }

    fn next(&mut self, site: &Site) -> StreamedEvent {
        let r = &mut self.rng;
        let session = if self.sessions == 0 || r.next(4) == 0 {
            self.sessions += 1;
            self.sessions
        } else {
            self.sessions.saturating_sub(r.next(20))
        };
        let day = NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).unwrap_or_default();
        let at: DateTime<Utc> = Utc
            .from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
            + Duration::milliseconds(r.next(86_400_000) as i64);
        let kind = match r.next(20) {
            0 => "custom",
            1 => "bot",
            _ => "page_view",
        };
        let browsers = ["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet"];
        let countries = ["FR", "DE", "US", "JP", "BR", "GB", "IN", "CN"];
        self.seq += 1;
        StreamedEvent {
            seq: format!("{:021}", self.seq * 100),
            event: Event {
                id: pingoo::events::id::new_id(at),
                site_id: site.id,
                generation: site.generation,
                created_at: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                session_id: format!("session-{session}"),
                user_id: String::new(),
                ip: format!("203.0.{}.0", session % 200),
                url: format!("https://example.com/page/{}?ref={}", r.next(30), r.next(5)),
                referrer: [
                    "",
                    "https://www.google.com/",
                    "https://news.ycombinator.com/",
                ][r.next(3) as usize]
                    .into(),
                user_agent: "bench".into(),
                device: ["desktop", "mobile", "tablet"][r.next(3) as usize].into(),
                browser: browsers[r.next(5) as usize].into(),
                os: ["Linux", "Windows", "macOS", "iOS", "Android"][r.next(5) as usize].into(),
                screen: ["1920x1080", "390x844", "1440x900"][r.next(3) as usize].into(),
                is_bot: kind == "bot",
                bot_name: if kind == "bot" {
                    "Googlebot".into()
                } else {
                    String::new()
                },
                country: countries[r.next(8) as usize].into(),
                subdivision: String::new(),
                city: format!("City {}", r.next(40)),
                isp: format!("ISP {}", r.next(10)),
                event_type: if kind == "bot" {
                    "page_view".into()
                } else {
                    kind.into()
                },
                event_value: if kind == "custom" {
                    "signup".into()
                } else {
                    String::new()
                },
            },
        }
    }
}

/// Figures for `scripts/bench`'s JSON (written to `BENCH_JSON` when set).
static RESULTS: std::sync::Mutex<Vec<serde_json::Value>> = std::sync::Mutex::new(Vec::new());

/// `event` moved to `at` (its id follows its time).
fn moved(mut e: Event, at: DateTime<Utc>) -> Event {
    e.created_at = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    e.id = pingoo::events::id::new_id(at);
    e
}

/// A busy day (60,000 sessions already counted: bulk loaded, counters rebuilt), then
/// batches of 1, 10, 100 and 1,000 events; and a flood of 10,000 beacons from new sessions
/// on a fresh day, in batches of 100.
async fn busy_day_cost() {
    let app = TestApp::new(pingoo_local::app).await;
    let (token, _) = app.user("bench@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let db = &app.state.db;
    let busy = NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).unwrap_or_default();
    let midnight = Utc.from_utc_datetime(&busy.and_hms_opt(0, 0, 0).unwrap_or_default());
    let mut traffic = Traffic::new(77);
    let mut events = Vec::with_capacity(90_000);
    for s in 0..60_000i64 {
        for k in 0..(1 + s % 2) {
            let mut e = traffic.next(&site).event;
            e.session_id = format!("busy-{s}");
            e.is_bot = false;
            e.bot_name = String::new();
            e.event_type = "page_view".into();
            events.push(moved(
                e,
                midnight + Duration::milliseconds(s * 1_400 + k * 700),
            ));
        }
    }
    let started = std::time::Instant::now();
    db.put_events_bulk(&events).await.expect("bulk load");
    pingoo::stats::recount::recount(
        db,
        site.id,
        busy,
        busy,
        pingoo::stats::recount::Mode::Rebuild,
    )
    .await
    .expect("rebuild");
    println!();
    println!(
        "{:<46} {:>7} {:>10} {:>13} {:>11}   (60,000 sessions loaded in {:.1} s)",
        "busy day (60,000 sessions)",
        "events",
        "WCU",
        "WCU/event",
        "items/100ev",
        started.elapsed().as_secs_f64()
    );
    let agg = Aggregator::new(db.clone());
    let mut n = 0i64;
    for (size, count) in [(1usize, 20usize), (10, 10), (100, 5), (1000, 2)] {
        let batches: Vec<Vec<StreamedEvent>> = (0..count)
            .map(|_| {
                (0..size)
                    .map(|_| {
                        let mut e = traffic.next(&site);
                        n += 1;
                        e.event = moved(e.event, midnight + Duration::milliseconds(n * 37 + 11));
                        e
                    })
                    .collect()
            })
            .collect();
        row(
            &format!("busy day: batch {size}"),
            &apply(&agg, &batches).await,
        );
    }

    // The worst single event: a new session from a new address, a custom event (so every
    // window's sketch parts may change), one at a time.
    let batches: Vec<Vec<StreamedEvent>> = (0..20)
        .map(|k| {
            let mut e = traffic.next(&site);
            n += 1;
            e.event.session_id = format!("worst-{k}");
            e.event.ip = format!("192.0.2.{k}");
            e.event.is_bot = false;
            e.event.event_type = "page_view".into();
            e.event = moved(e.event, midnight + Duration::milliseconds(n * 37 + 11));
            vec![e]
        })
        .collect();
    row(
        "busy day: batch 1, worst case (all new)",
        &apply(&agg, &batches).await,
    );

    // A flood: 10,000 beacons, every one from a new session, one site, batches of 100.
    let app = TestApp::new(pingoo_local::app).await;
    let (token, _) = app.user("bench@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let agg = Aggregator::new(app.state.db.clone());
    let mut traffic = Traffic::new(78);
    let mut i = 0i64;
    let batches: Vec<Vec<StreamedEvent>> = (0..100)
        .map(|_| {
            (0..100)
                .map(|_| {
                    let mut e = traffic.next(&site);
                    i += 1;
                    e.event.session_id = format!("flood-{i}");
                    e.event.ip = format!("198.51.{}.{}", i % 250, i % 200);
                    e.event = moved(e.event, midnight + Duration::milliseconds(i * 13));
                    e
                })
                .collect()
        })
        .collect();
    row(
        "flood: 10,000 new sessions, batch 100",
        &apply(&agg, &batches).await,
    );
}

/// Stats API v2 reads over 30 days of 200 events a day (bulk loaded, recounted).
async fn v2_read_cost() {
    let app = TestApp::new(pingoo_local::app).await;
    let (token, _) = app.user("bench@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let db = &app.state.db;
    let first = NaiveDate::from_ymd_opt(2025, 8, 1).unwrap_or_default();
    let mut traffic = Traffic::new(5);
    let mut events = Vec::new();
    for day in 0..60u64 {
        let d = first
            .checked_add_days(chrono::Days::new(day))
            .unwrap_or(first);
        for i in 0..200i64 {
            let at = Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
                + Duration::seconds(i * 400);
            events.push(moved(traffic.next(&site).event, at));
        }
    }
    let last = first
        .checked_add_days(chrono::Days::new(59))
        .unwrap_or(first);
    db.put_events_bulk(&events).await.expect("bulk load");
    pingoo::stats::recount::recount(
        db,
        site.id,
        first,
        last,
        pingoo::stats::recount::Mode::Rebuild,
    )
    .await
    .expect("rebuild");
    let from = first
        .checked_add_days(chrono::Days::new(30))
        .unwrap_or(first);
    println!();
    println!(
        "{:<46} {:>8} {:>10} {:>8}",
        "reads, 30 days of 200 events a day", "requests", "RCU", "ms"
    );
    let report = |label: &str, cost: pingoo::store::ReadCost, ms: f64| {
        println!(
            "{label:<46} {:>8} {:>10.1} {:>8.1}",
            cost.requests, cost.units, ms
        );
        record(
            serde_json::json!({"what": label, "requests": cost.requests, "read_units": cost.units, "ms": ms}),
        );
    };
    let t = std::time::Instant::now();
    let (now, previous) = futures::join!(
        query::summary(db, site.id, site.generation, from, last),
        query::summary(
            db,
            site.id,
            site.generation,
            first,
            from.pred_opt().unwrap_or(from)
        ),
    );
    let mut cost = now.expect("summary").1;
    cost += previous.expect("previous").1;
    report(
        "summary, 30 days, compare=previous",
        cost,
        t.elapsed().as_secs_f64() * 1000.0,
    );
    let t = std::time::Instant::now();
    let (_, cost) = pingoo::stats::rankings::ranking_range(
        db,
        site.id,
        site.generation,
        from,
        last,
        StatType::Url,
        1,
        10,
    )
    .await
    .expect("ranking");
    report(
        "stats (url), 30 days",
        cost,
        t.elapsed().as_secs_f64() * 1000.0,
    );
    let t = std::time::Instant::now();
    let (_, cost) = pingoo::stats::rankings::breakdown(
        db,
        site.id,
        site.generation,
        from,
        last,
        &StatType::ALL,
        10,
    )
    .await
    .expect("breakdown");
    report(
        "breakdown (all 11 types), 30 days",
        cost,
        t.elapsed().as_secs_f64() * 1000.0,
    );
}

/// What realtime adds to the aggregator's writes (events now against the same events two
/// days ago, outside the realtime window), and what a realtime read costs.
async fn realtime_cost() {
    println!();
    println!(
        "{:<46} {:>7} {:>10} {:>13}",
        "realtime", "events", "WCU", "extra/event"
    );
    for batch_size in [1usize, 100] {
        let mut units = [0.0f64; 2];
        for (slot, age_hours) in [(0usize, 0i64), (1, 48)] {
            let app = TestApp::new(pingoo_local::app).await;
            let (token, _) = app.user("bench@example.com").await;
            let site = app.site(&token, "https://example.com").await;
            let agg = Aggregator::new(app.state.db.clone());
            let mut traffic = Traffic::new(21);
            let base = Utc::now() - Duration::hours(age_hours) - Duration::seconds(30);
            let mut n = 0i64;
            let batches: Vec<Vec<StreamedEvent>> = (0..(200 / batch_size).max(10))
                .map(|_| {
                    (0..batch_size)
                        .map(|_| {
                            let mut e = traffic.next(&site);
                            n += 1;
                            e.event = moved(e.event, base + Duration::milliseconds(n * 10));
                            e
                        })
                        .collect()
                })
                .collect();
            let run = apply(&agg, &batches).await;
            units[slot] = run.units / run.events as f64;
            if slot == 0 && batch_size == 100 {
                let (_, cost) = pingoo::stats::realtime::realtime(
                    &app.state.db,
                    site.id,
                    site.generation,
                    Utc::now(),
                )
                .await
                .expect("realtime");
                println!(
                    "{:<46} {:>7} {:>10.1} {:>13}",
                    "realtime read (30 minute items)",
                    "",
                    cost.units,
                    format!("{} request", cost.requests)
                );
                record(
                    serde_json::json!({"what": "realtime read", "requests": cost.requests, "read_units": cost.units}),
                );
            }
        }
        let extra = units[0] - units[1];
        println!(
            "{:<46} {:>7} {:>10.3} {:>13.3}",
            format!("batch {batch_size}: WCU/event with realtime"),
            "",
            units[0],
            extra
        );
        record(
            serde_json::json!({"what": format!("realtime extra WCU per event, batch {batch_size}"), "with": units[0], "without": units[1], "extra_per_event": extra}),
        );
    }
}

fn record(value: serde_json::Value) {
    if let Ok(mut results) = RESULTS.lock() {
        results.push(value);
    }
}

struct Run {
    events: usize,
    items: u64,
    units: f64,
}

async fn apply(agg: &Aggregator, batches: &[Vec<StreamedEvent>]) -> Run {
    let mut run = Run {
        events: 0,
        items: 0,
        units: 0.0,
    };
    for batch in batches {
        let report = agg.apply(batch).await.expect("aggregation");
        run.events += batch.len();
        run.items += report.items_written;
        run.units += report.write_units;
    }
    run
}

fn row(label: &str, run: &Run) {
    record(serde_json::json!({
        "what": label,
        "events": run.events,
        "write_units": run.units,
        "write_units_per_event": run.units / run.events as f64,
        "items_per_100_events": run.items as f64 / run.events as f64 * 100.0,
    }));
    println!(
        "{label:<46} {:>7} {:>10.1} {:>13.3} {:>11.1}",
        run.events,
        run.units,
        run.units / run.events as f64,
        run.items as f64 / run.events as f64 * 100.0,
    );
}

#[tokio::main]
async fn main() {
    if std::env::var_os("DYNAMODB_ENDPOINT").is_none() {
        println!(
            "aggregate_cost: skipped (DYNAMODB_ENDPOINT is not set; scripts/bench starts DynamoDB Local)"
        );
        return;
    }
    // `AGGREGATE_COST_ONLY=busy`: only the busy-day figures (a quicker loop while working
    // on write cost); `quiet`: only the quiet days'.
    if std::env::var("AGGREGATE_COST_ONLY").as_deref() == Ok("busy") {
        busy_day_cost().await;
        return;
    }
    println!(
        "{:<46} {:>7} {:>10} {:>13} {:>11}",
        "counter writes", "events", "WCU", "WCU/event", "items/100ev"
    );
    for batch_size in [1usize, 10, 100, 1000] {
        let app = TestApp::new(pingoo_local::app).await;
        let (token, _) = app.user("bench@example.com").await;
        let site = app.site(&token, "https://example.com").await;
        let agg = Aggregator::new(app.state.db.clone());
        let mut traffic = Traffic::new(batch_size as u64);
        let total = (batch_size * 20).clamp(200, 5000);
        let batches: Vec<Vec<StreamedEvent>> = (0..total / batch_size)
            .map(|_| (0..batch_size).map(|_| traffic.next(&site)).collect())
            .collect();
        let first = apply(&agg, &batches[..1]).await;
        let rest = apply(&agg, &batches[1..]).await;
        row(
            &format!("batch {batch_size}: first batch of the day"),
            &first,
        );
        row(
            &format!("batch {batch_size}: next {} batches", batches.len() - 1),
            &rest,
        );
    }

    // Single events on quiet days whose first tier is filling (about 4 events a session):
    // what a site whose events arrive one per batch pays as its day grows.
    for warm_events in [600usize, 1_400, 2_400] {
        let app = TestApp::new(pingoo_local::app).await;
        let (token, _) = app.user("bench@example.com").await;
        let site = app.site(&token, "https://example.com").await;
        let agg = Aggregator::new(app.state.db.clone());
        let mut traffic = Traffic::new(31);
        let warm: Vec<Vec<StreamedEvent>> = (0..warm_events / 100)
            .map(|_| (0..100).map(|_| traffic.next(&site)).collect())
            .collect();
        apply(&agg, &warm).await;
        let batches: Vec<Vec<StreamedEvent>> = (0..20).map(|_| vec![traffic.next(&site)]).collect();
        row(
            &format!(
                "batch 1 on a day of {warm_events} events (~{} sessions)",
                traffic.sessions
            ),
            &apply(&agg, &batches).await,
        );
    }

    // A busy day: 20,000 events already counted (dense sketches), then batches of 100.
    {
        let app = TestApp::new(pingoo_local::app).await;
        let (token, _) = app.user("bench@example.com").await;
        let site = app.site(&token, "https://example.com").await;
        let agg = Aggregator::new(app.state.db.clone());
        let mut traffic = Traffic::new(99);
        let warm: Vec<Vec<StreamedEvent>> = (0..20)
            .map(|_| (0..1000).map(|_| traffic.next(&site)).collect())
            .collect();
        apply(&agg, &warm).await;
        let batches: Vec<Vec<StreamedEvent>> = (0..10)
            .map(|_| (0..100).map(|_| traffic.next(&site)).collect())
            .collect();
        row(
            "batch 100 on a day with 20,000 events",
            &apply(&agg, &batches).await,
        );
        let batches: Vec<Vec<StreamedEvent>> = (0..20).map(|_| vec![traffic.next(&site)]).collect();
        row(
            "batch 1 on a day with 21,000 events",
            &apply(&agg, &batches).await,
        );
        let batches: Vec<Vec<StreamedEvent>> = (0..3)
            .map(|_| (0..1000).map(|_| traffic.next(&site)).collect())
            .collect();
        row(
            "batch 1000 on a day with 21,020 events",
            &apply(&agg, &batches).await,
        );

        println!();
        println!(
            "{:<46} {:>8} {:>10}",
            "reads (that busy day)", "requests", "RCU"
        );
        let day = NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).unwrap_or_default();
        let db = &app.state.db;
        let (_, cost) = query::summary(db, site.id, site.generation, day, day)
            .await
            .expect("summary");
        println!(
            "{:<46} {:>8} {:>10.1}",
            "summary, one day", cost.requests, cost.units
        );
        for stat in [StatType::Url, StatType::City] {
            let (_, cost) = query::ranking(db, site.id, site.generation, day, stat, 1)
                .await
                .expect("ranking");
            println!(
                "{:<46} {:>8} {:>10.1}",
                format!("stats, {} ranking", stat.as_str()),
                cost.requests,
                cost.units
            );
        }
    }

    // `AGGREGATE_COST_ONLY=quiet`: only the write figures of quiet days (above and the
    // 50-site batch below).
    if std::env::var("AGGREGATE_COST_ONLY").as_deref() != Ok("quiet") {
        raw_event_cost().await;
        read_cost().await;
        v2_read_cost().await;
        realtime_cost().await;
        busy_day_cost().await;
    }

    // One batch of 100 spread over 50 sites.
    {
        let app = TestApp::new(pingoo_local::app).await;
        let (token, _) = app.user("bench@example.com").await;
        let mut sites = Vec::new();
        for i in 0..50 {
            sites.push(app.site(&token, &format!("https://site{i}.example")).await);
        }
        let agg = Aggregator::new(app.state.db.clone());
        let mut traffic = Traffic::new(7);
        let batches: Vec<Vec<StreamedEvent>> = (0..5)
            .map(|b| {
                (0..100)
                    .map(|i| traffic.next(&sites[(i * 7 + b) % 50]))
                    .collect()
            })
            .collect();
        println!();
        row(
            "batch 100 spread over 50 sites",
            &apply(&agg, &batches).await,
        );
    }
    if let Some(path) = std::env::var_os("BENCH_JSON") {
        let results = RESULTS.lock().map(|r| r.clone()).unwrap_or_default();
        let json = serde_json::to_string_pretty(&results).unwrap_or_default();
        if let Err(err) = std::fs::write(&path, json) {
            eprintln!("aggregate_cost: cannot write {path:?}: {err}");
        }
    }
}

/// What storing one raw event costs (the API's `PutItem`), for the total per event.
async fn raw_event_cost() {
    let app = TestApp::new(pingoo_local::app).await;
    let (token, _) = app.user("bench@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let mut traffic = Traffic::new(3);
    let mut units = 0.0;
    let n = 100;
    for _ in 0..n {
        let event = traffic.next(&site).event;
        let mut item: pingoo::store::Item = serde_dynamo::to_item(&event).expect("event item");
        item.insert(
            "pk".into(),
            aws_sdk_dynamodb::types::AttributeValue::S(pingoo::store::event_partition(
                event.site_id,
                event.generation,
                pingoo::events::id::shard(event.id),
            )),
        );
        let out = app
            .state
            .db
            .client
            .put_item()
            .table_name(&app.state.db.tables.events)
            .set_item(Some(item))
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .send()
            .await
            .expect("PutItem");
        units += out
            .consumed_capacity()
            .and_then(|c| c.capacity_units())
            .unwrap_or(0.0);
    }
    println!();
    println!(
        "{:<46} {:>7} {:>10.1} {:>13.3}",
        "raw event PutItem (the API's write)",
        n,
        units,
        units / f64::from(n)
    );
    record(serde_json::json!({
        "what": "raw event PutItem",
        "events": n,
        "write_units": units,
        "write_units_per_event": units / f64::from(n),
    }));
}

/// A summary and a ranking of a day with 10 events and of one with 100,000 (bulk loaded,
/// counters rebuilt by recount): requests, read units, time.
async fn read_cost() {
    let app = TestApp::new(pingoo_local::app).await;
    let (token, _) = app.user("bench@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let db = &app.state.db;
    let quiet = NaiveDate::from_ymd_opt(2025, 9, 15).unwrap_or_default();
    let busy = NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).unwrap_or_default();
    let mut traffic = Traffic::new(11);
    let mut events: Vec<Event> = (0..100_000).map(|_| traffic.next(&site).event).collect();
    for (i, e) in events.iter_mut().enumerate() {
        e.id = (e.id & !0xFFF) | (i as u64 & 0xFFF);
    }
    for (i, e) in (0..10).map(|_| traffic.next(&site).event).enumerate() {
        let at = Utc.from_utc_datetime(&quiet.and_hms_opt(12, 0, 0).unwrap_or_default())
            + Duration::seconds(i as i64);
        let mut e = e;
        e.created_at = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        e.id = pingoo::events::id::new_id(at);
        events.push(e);
    }
    let started = std::time::Instant::now();
    db.put_events_bulk(&events).await.expect("bulk load");
    pingoo::stats::recount::recount(
        db,
        site.id,
        quiet,
        busy,
        pingoo::stats::recount::Mode::Rebuild,
    )
    .await
    .expect("rebuild");
    let loaded = started.elapsed();
    println!();
    println!(
        "{:<46} {:>8} {:>10} {:>8}   (100,010 events loaded and recounted in {:.1} s)",
        "reads",
        "requests",
        "RCU",
        "ms",
        loaded.as_secs_f64()
    );
    for (label, d) in [("10 events", quiet), ("100,000 events", busy)] {
        let t = std::time::Instant::now();
        let (summary, cost) = query::summary(db, site.id, site.generation, d, d)
            .await
            .expect("summary");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "{:<46} {:>8} {:>10.1} {:>8.1}",
            format!("summary, day of {label} (pv {})", summary.pv),
            cost.requests,
            cost.units,
            ms
        );
        record(
            serde_json::json!({"what": format!("summary, day of {label}"), "requests": cost.requests, "read_units": cost.units, "ms": ms}),
        );
        let t = std::time::Instant::now();
        let (_, cost) = query::ranking(db, site.id, site.generation, d, StatType::Url, 1)
            .await
            .expect("ranking");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "{:<46} {:>8} {:>10.1} {:>8.1}",
            format!("stats (url), day of {label}"),
            cost.requests,
            cost.units,
            ms
        );
        record(
            serde_json::json!({"what": format!("stats url, day of {label}"), "requests": cost.requests, "read_units": cost.units, "ms": ms}),
        );
    }
}
