//! What the aggregator's tests share: a world (the local app, a user, a site, the events
//! stream), deterministic test events, stream reads and the recount oracle.
#![allow(dead_code)] // each test binary uses its own part

use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use pingoo::events::Event;
use pingoo::model::Site;
use pingoo::stats::aggregate::{StreamedEvent, inserted_events};
use pingoo::stats::query;
use pingoo::stats::recount::{self, Mode};
use pingoo::store::Db;
use pingoo_local::stream;
use pingoo_stack::testkit::TestApp;

pub struct World {
    pub app: TestApp,
    pub site: Site,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub arn: String,
}

pub async fn world() -> World {
    let app = TestApp::new(pingoo_local::app).await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let sdk = pingoo::aws::sdk_config(&app.state.config).await;
    let streams = stream::client(&sdk, &app.state.config);
    let arn = stream::stream_arn(&streams, &app.state.config.tables.events)
        .await
        .unwrap();
    World {
        app,
        site,
        streams,
        arn,
    }
}

/// A deterministic sequence for test data.
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

pub fn event(
    site: &Site,
    at: DateTime<Utc>,
    session: &str,
    ip: &str,
    url: &str,
    kind: &str,
) -> Event {
    Event {
        id: pingoo::events::id::new_id(at),
        site_id: site.id,
        generation: site.generation,
        created_at: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        session_id: session.into(),
        user_id: String::new(),
        ip: ip.into(),
        url: url.into(),
        referrer: String::new(),
        user_agent: "test".into(),
        device: "desktop".into(),
        browser: "Chrome".into(),
        os: "Linux".into(),
        screen: "1920x1080".into(),
        is_bot: kind == "bot",
        bot_name: if kind == "bot" {
            "Googlebot".into()
        } else {
            String::new()
        },
        country: "FR".into(),
        subdivision: String::new(),
        city: "Paris".into(),
        isp: String::new(),
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
    }
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn at(d: NaiveDate, secs: i64) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap()) + Duration::seconds(secs)
}

/// `n` events over 2025-09-28..=2025-10-01 (a week and a month boundary): 12 sessions from
/// 5 addresses, mostly page views, some custom events and bots. Their ids are distinct:
/// events in whole seconds share milliseconds, and 20,000 of them drew the same 12 random
/// bits about one run in eight (a real clash, which the API retries with new bits and a
/// bulk load here would not), so a clash moves to the next free low bits of its
/// millisecond.
pub fn mixed(site: &Site, n: usize, seed: u64) -> Vec<Event> {
    let mut events = mixed_events(site, n, seed);
    let mut seen = std::collections::HashSet::new();
    for e in &mut events {
        while !seen.insert(e.id) {
            e.id = (e.id & !0xfff) | ((e.id + 1) & 0xfff);
        }
    }
    events
}

fn mixed_events(site: &Site, n: usize, seed: u64) -> Vec<Event> {
    let mut rng = Lcg(seed);
    let days = [
        day(2025, 9, 28),
        day(2025, 9, 29),
        day(2025, 9, 30),
        day(2025, 10, 1),
    ];
    (0..n)
        .map(|i| {
            let d = days[rng.next(4) as usize];
            let session = format!("s{}", rng.next(12));
            let ip = format!("203.0.113.{}", rng.next(5));
            let url = format!("/page/{}?q={i}", rng.next(7));
            let kind = match rng.next(10) {
                0 => "custom",
                1 => "bot",
                _ => "page_view",
            };
            event(
                site,
                at(d, rng.next(86_400) as i64),
                &session,
                &ip,
                &url,
                kind,
            )
        })
        .collect()
}

pub async fn put(db: &Db, events: &[Event]) {
    for e in events {
        assert!(db.put_event(e).await.unwrap());
    }
}

/// Every INSERT on the events stream so far, in stream order.
pub async fn stream_events(w: &World) -> Vec<StreamedEvent> {
    let shards = w
        .streams
        .describe_stream()
        .stream_arn(&w.arn)
        .send()
        .await
        .unwrap();
    let mut records = Vec::new();
    for shard in shards.stream_description().unwrap().shards() {
        let mut iterator = w
            .streams
            .get_shard_iterator()
            .stream_arn(&w.arn)
            .shard_id(shard.shard_id().unwrap())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator;
        while let Some(it) = iterator {
            let out = w
                .streams
                .get_records()
                .shard_iterator(it)
                .send()
                .await
                .unwrap();
            if out.records().is_empty() {
                break;
            }
            records.extend(out.records().iter().cloned());
            iterator = out.next_shard_iterator;
        }
    }
    let event = stream::lambda_event(&records, &w.arn).unwrap();
    inserted_events(&event)
}

pub async fn assert_matches_recount(w: &World, from: NaiveDate, to: NaiveDate) {
    let report = recount::recount(&w.app.state.db, w.site.id, from, to, Mode::Compare)
        .await
        .unwrap();
    assert!(
        report.differences.is_empty(),
        "counters differ from a recount:\n{}",
        report.differences.join("\n")
    );
    assert!(report.events > 0);
}

/// Human page views of `d` among `events`.
pub fn page_views(events: &[Event], d: NaiveDate) -> u64 {
    events
        .iter()
        .filter(|e| {
            !e.is_bot
                && e.event_type == "page_view"
                && pingoo::stats::facts::event_day(e, chrono_tz::UTC) == d
        })
        .count() as u64
}

pub async fn day_figures(w: &World, d: NaiveDate) -> query::Summary {
    query::summary(&w.app.state.db, w.site.id, w.site.generation, d, d)
        .await
        .unwrap()
        .0
}

/// The local app with the aggregator following the events stream, as `scripts/dev` runs
/// it. It derefs to the app; the poller stops when this is dropped.
pub struct Streaming {
    pub app: TestApp,
    poller: tokio::task::JoinHandle<()>,
}

impl Drop for Streaming {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

impl std::ops::Deref for Streaming {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

pub async fn streaming() -> Streaming {
    let app = TestApp::new(pingoo_local::app).await;
    let sdk = pingoo::aws::sdk_config(&app.state.config).await;
    let checkpoints =
        std::env::temp_dir().join(format!("pingoo-agg-{}.json", pingoo::ids::tracking_id()));
    let poller = pingoo_local::start_aggregator(&sdk, &app.state, checkpoints)
        .await
        .expect("the local stream poller starts");
    Streaming { app, poller }
}

/// The day of [`scenario`]: alone in its Monday week (2025-11-10..16) and its month.
pub fn scenario_day() -> NaiveDate {
    day(2025, 11, 12)
}

/// Nine events whose figures [`assert_scenario_figures`] knows by hand, not from the
/// aggregator's own code: three human sessions from two addresses and a bot.
pub fn scenario(site: &Site) -> Vec<Event> {
    let d = scenario_day();
    let hour = 3600;
    vec![
        // a: two pages and a custom event over 300 s (10:00 to 10:05).
        event(
            site,
            at(d, 10 * hour),
            "a",
            "203.0.113.1",
            "/home",
            "page_view",
        ),
        event(
            site,
            at(d, 10 * hour + 100),
            "a",
            "203.0.113.1",
            "https://example.com/pricing?plan=pro",
            "page_view",
        ),
        event(
            site,
            at(d, 10 * hour + 300),
            "a",
            "203.0.113.1",
            "/pricing",
            "custom",
        ),
        // b: one page (a bounce), from a's address.
        event(
            site,
            at(d, 11 * hour),
            "b",
            "203.0.113.1",
            "/home",
            "page_view",
        ),
        // c: two pages 30 s apart.
        event(
            site,
            at(d, 12 * hour),
            "c",
            "203.0.113.2",
            "/home",
            "page_view",
        ),
        event(
            site,
            at(d, 12 * hour + 30),
            "c",
            "203.0.113.2",
            "/docs#intro",
            "page_view",
        ),
        // A bot's pages count as bot visits only.
        event(site, at(d, 13 * hour), "d", "198.51.100.9", "/home", "bot"),
        event(
            site,
            at(d, 13 * hour + 1),
            "d",
            "198.51.100.9",
            "/docs",
            "bot",
        ),
        event(
            site,
            at(d, 13 * hour + 2),
            "d",
            "198.51.100.9",
            "/pricing",
            "bot",
        ),
    ]
}

/// The figures of [`scenario`], worked out by hand.
pub async fn assert_scenario_figures(w: &World) {
    let d = scenario_day();
    let s = day_figures(w, d).await;
    let hours: Vec<(u32, u64)> = s
        .hourly_stats
        .iter()
        .filter(|h| h.count > 0)
        .map(|h| (h.hour, h.count))
        .collect();
    assert_eq!(
        (s.pv, s.uv, s.ip_count, s.event_count),
        (5, 3, 2, 1),
        "pv, uv, ip, events"
    );
    // One session in three bounced; sessions last 300, 0 and 30 s: 110 s on average.
    assert_eq!((s.bounce_rate, s.avg_duration), (33.3, 110));
    assert_eq!(hours, [(10, 2), (11, 1), (12, 2)]);
    assert_eq!((s.week_pv, s.week_uv, s.week_ip), (5, 3, 2), "week");
    assert_eq!((s.month_pv, s.month_uv, s.month_ip), (5, 3, 2), "month");
    let ranking = |stat| async move {
        let (r, _) = pingoo::stats::rankings::ranking(
            &w.app.state.db,
            w.site.id,
            w.site.generation,
            d,
            stat,
            1,
        )
        .await
        .unwrap();
        r.list
            .into_iter()
            .map(|row| (row.key, row.count))
            .collect::<Vec<_>>()
    };
    use pingoo::stats::facts::StatType;
    let owned = |rows: &[(&str, u64)]| -> Vec<(String, u64)> {
        rows.iter().map(|(k, c)| ((*k).to_owned(), *c)).collect()
    };
    assert_eq!(
        ranking(StatType::Url).await,
        owned(&[("/home", 3), ("/docs", 1), ("/pricing", 1)])
    );
    assert_eq!(ranking(StatType::EventType).await, owned(&[("signup", 1)]));
    assert_eq!(ranking(StatType::Bot).await, owned(&[("Googlebot", 3)]));
}
