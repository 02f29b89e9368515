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
}
