//! The statistics endpoints end to end: events in through the API, through DynamoDB
//! Local's stream and the local poller into the aggregator, figures out through
//! `/api/events/:site_id/summary` and `/stats`.

mod support;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use pingoo_stack::testkit::{Reply, Visitor};
use serde_json::{Value, json};

const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

struct Stack {
    app: support::Streaming,
    token: String,
}

async fn stack() -> Stack {
    let app = support::streaming().await;
    let (token, _) = app.user("owner@example.com").await;
    Stack { app, token }
}

async fn post(s: &Stack, body: Value) {
    s.app
        .call_as(
            Method::POST,
            "/api/events",
            Some(&s.token),
            &Visitor::default(),
            Some(body.to_string().into_bytes()),
        )
        .await
        .expect(StatusCode::OK);
}

fn page_view(site: u64, session: &str, ip: &str, url: &str) -> Value {
    json!({"site_id": site, "session_id": session, "ip": ip, "url": url,
           "event_type": "page_view", "user_agent": CHROME})
}

async fn get(s: &Stack, path: &str) -> Reply {
    s.app.call(Method::GET, path, Some(&s.token), None).await
}

/// Polls GET `path` until `done` holds of its data (the stream delivers within about a
/// second, and one batch's counters land in several writes).
async fn when(s: &Stack, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let data = get(s, path).await.expect(StatusCode::OK)["data"].clone();
        if done(&data) {
            return data;
        }
        assert!(Instant::now() < deadline, "{path} never got there: {data}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls the summary until `done` holds.
async fn summary_when(s: &Stack, site: u64, done: impl Fn(&Value) -> bool) -> Value {
    when(s, &format!("/api/events/{site}/summary"), done).await
}

async fn ranking(s: &Stack, site: u64, query: &str) -> Value {
    get(s, &format!("/api/events/{site}/stats?{query}"))
        .await
        .expect(StatusCode::OK)["data"]
        .clone()
}

/// Polls a ranking until `done` holds of its rows: ranking items are written beside the
/// day items, not with them.
async fn ranking_when(
    s: &Stack,
    site: u64,
    query: &str,
    done: impl Fn(&[(String, u64)]) -> bool,
) -> Value {
    when(s, &format!("/api/events/{site}/stats?{query}"), |data| {
        done(&rows(data))
    })
    .await
}

/// The rows of a ranking once they are `expected` (or a failure naming the last seen).
async fn ranking_is(s: &Stack, site: u64, query: &str, expected: &[(&str, u64)]) -> Value {
    let expected: Vec<(String, u64)> = expected.iter().map(|(k, c)| ((*k).into(), *c)).collect();
    ranking_when(s, site, query, |rows| rows == expected.as_slice()).await
}

fn rows(ranking: &Value) -> Vec<(String, u64)> {
    ranking["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn three_sessions_two_addresses_a_custom_event_and_a_bot() {
    let s = stack().await;
    let site = s.app.site(&s.token, "https://example.com").await.id;
    let (a, b) = ("203.0.113.10", "198.51.100.20");
    for (session, ip, url) in [
        ("A", a, "/"),
        ("A", a, "/pricing?plan=pro"),
        ("A", a, "https://example.com/docs#install"),
        ("B", b, "/"),
        ("B", b, "/pricing"),
        ("C", a, "/"),
    ] {
        post(&s, page_view(site, session, ip, url)).await;
    }
    post(
        &s,
        json!({"site_id": site, "session_id": "B", "ip": b, "url": "/pricing",
                    "event_type": "custom", "event_value": "signup", "user_agent": CHROME}),
    )
    .await;
    post(
        &s,
        json!({"site_id": site, "session_id": "bot", "ip": "66.249.66.1", "url": "/",
                    "event_type": "page_view", "user_agent": GOOGLEBOT}),
    )
    .await;

    // Day, week and month items, distinct counts and session items are separate writes:
    // wait until every one asserted below has the batch.
    let data = summary_when(&s, site, |d| {
        d["pv"] == 6
            && d["event_count"] == 1
            && d["week_pv"] == 6
            && d["month_pv"] == 6
            && d["uv"] == 3
            && d["ip_count"] == 2
            && d["bounce_rate"] == 33.3
            && d["month_uv"] == 3
    })
    .await;
    assert_eq!(data["uv"], 3);
    assert_eq!(data["ip_count"], 2);
    assert_eq!(data["bounce_rate"], 33.3);
    assert_eq!(data["week_pv"], 6);
    assert_eq!(data["month_uv"], 3);
    let hourly: u64 = data["hourly_stats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["count"].as_u64().unwrap())
        .sum();
    assert_eq!(hourly, 6);

    let urls = ranking_is(&s, site, "", &[("/", 3), ("/pricing", 2), ("/docs", 1)]).await;
    assert_eq!(
        (
            urls["total"].clone(),
            urls["page"].clone(),
            urls["page_size"].clone()
        ),
        (json!(3), json!(1), json!(10))
    );
    for stat in [
        "url", "referrer", "browser", "os", "device", "country", "city", "isp", "screen",
    ] {
        // Waits for the sum to reach the page views, then checks it does not pass them.
        let sum = |rows: &[(String, u64)]| rows.iter().map(|r| r.1).sum::<u64>();
        let r = ranking_when(&s, site, &format!("stat_type={stat}"), |r| sum(r) >= 6).await;
        assert_eq!(
            sum(&rows(&r)),
            6,
            "the {stat} ranking sums to the page views"
        );
    }
    ranking_is(&s, site, "stat_type=referrer", &[("direct", 6)]).await;
    ranking_is(&s, site, "stat_type=bot", &[("Googlebot", 1)]).await;
    ranking_is(&s, site, "event_type=custom", &[("signup", 1)]).await;
    ranking_is(&s, site, "stat_type=event_type", &[("signup", 1)]).await;
}

#[tokio::test]
async fn two_hundred_concurrent_ingests_count_exactly_two_hundred() {
    let s = stack().await;
    let site = s.app.site(&s.token, "https://example.com").await.id;
    let posts = (0..200).map(|i| {
        let s = &s;
        async move {
            post(
                s,
                page_view(
                    site,
                    &format!("c{}", i % 40),
                    &format!("203.0.{}.1", i % 50),
                    &format!("/p{}", i % 7),
                ),
            )
            .await
        }
    });
    futures::future::join_all(posts).await;
    let data = summary_when(&s, site, |d| {
        d["pv"].as_u64() >= Some(200)
            && d["month_pv"].as_u64() >= Some(200)
            && d["uv"].as_u64() >= Some(40)
            && d["ip_count"].as_u64() >= Some(50)
    })
    .await;
    assert_eq!(data["pv"], 200);
    assert_eq!(data["uv"], 40);
    assert_eq!(data["ip_count"], 50);
    let today = chrono::Utc::now().date_naive();
    let report = pingoo::stats::recount::recount(
        &s.app.state.db,
        site,
        today,
        today,
        pingoo::stats::recount::Mode::Compare,
    )
    .await
    .unwrap();
    assert_eq!(report.events, 200);
    assert!(report.differences.is_empty(), "{:?}", report.differences);
}

#[tokio::test]
async fn bad_parameters_are_400_and_other_peoples_sites_403() {
    let s = stack().await;
    let site = s.app.site(&s.token, "https://example.com").await.id;
    let bad = [
        format!("/api/events/{site}/summary?date=2025-13-01"),
        format!("/api/events/{site}/summary?date=yesterday"),
        format!("/api/events/{site}/summary?start_date=20250910&end_date=20250901"),
        format!("/api/events/{site}/summary?start_date=20240101&end_date=20250601"),
        format!("/api/events/{site}/summary?date=20250901&start_date=20250901"),
        format!("/api/events/{site}/stats?date=15/09/2025"),
        format!("/api/events/{site}/stats?page=0"),
        format!("/api/events/{site}/stats?page=two"),
        format!("/api/events/{site}/stats?event_type=click"),
    ];
    for path in bad {
        get(&s, &path).await.expect_error(StatusCode::BAD_REQUEST);
    }
    let msg = get(&s, &format!("/api/events/{site}/stats?stat_type=pages"))
        .await
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(
        msg.contains(
            "url, referrer, browser, os, device, country, city, isp, screen, event_type, bot"
        ),
        "{msg}"
    );

    let (stranger, _) = s.app.user("stranger@example.com").await;
    for path in [
        format!("/api/events/{site}/summary"),
        format!("/api/events/{site}/stats"),
    ] {
        s.app
            .call(Method::GET, &path, Some(&stranger), None)
            .await
            .expect_error(StatusCode::FORBIDDEN);
    }
    get(&s, "/api/events/987654/summary")
        .await
        .expect_error(StatusCode::NOT_FOUND);
    assert_eq!(
        (s.app
            .call(
                Method::GET,
                &format!("/api/events/{site}/summary"),
                None,
                None
            )
            .await)
            .status,
        StatusCode::UNAUTHORIZED
    );

    // A day without data is zeros and empty lists, in both date spellings.
    for date in ["20250915", "2025-09-15"] {
        let data = get(&s, &format!("/api/events/{site}/summary?date={date}"))
            .await
            .expect(StatusCode::OK)["data"]
            .clone();
        assert_eq!(data["pv"], 0);
        assert_eq!(data["bounce_rate"], 0.0);
        assert_eq!(data["hourly_stats"], json!([]));
        assert_eq!(
            (data["start_time"].clone(), data["end_time"].clone()),
            (json!("20250915"), json!("20250915"))
        );
        let r = ranking(&s, site, &format!("date={date}&stat_type=city&page=3")).await;
        assert_eq!(
            (r["list"].clone(), r["total"].clone(), r["page"].clone()),
            (json!([]), json!(0), json!(3))
        );
    }
    let range = get(
        &s,
        &format!("/api/events/{site}/summary?start_date=2025-09-01&end_date=2025-09-03"),
    )
    .await
    .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(range["daily"].as_array().unwrap().len(), 3);
    assert_eq!(
        (range["start_time"].clone(), range["end_time"].clone()),
        (json!("20250901"), json!("20250903"))
    );
}

#[tokio::test]
async fn clearing_stats_starts_from_zero_at_once_and_leaves_other_sites_alone() {
    let s = stack().await;
    let site = s.app.site(&s.token, "https://example.com").await.id;
    let other = s.app.site(&s.token, "https://other.example").await.id;
    for i in 0..3 {
        post(&s, page_view(site, "s", "203.0.113.1", &format!("/{i}"))).await;
    }
    post(&s, page_view(other, "o", "203.0.113.1", "/")).await;
    summary_when(&s, site, |d| d["pv"] == 3).await;
    summary_when(&s, other, |d| d["pv"] == 1).await;

    s.app
        .call(
            Method::DELETE,
            &format!("/api/sites/{site}/stats"),
            Some(&s.token),
            None,
        )
        .await
        .expect(StatusCode::OK);
    let cleared = get(&s, &format!("/api/events/{site}/summary"))
        .await
        .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(
        (
            cleared["pv"].clone(),
            cleared["uv"].clone(),
            cleared["week_pv"].clone()
        ),
        (json!(0), json!(0), json!(0))
    );
    assert_eq!(rows(&ranking(&s, site, "").await), []);
    let listed = get(&s, &format!("/api/events/{site}"))
        .await
        .expect(StatusCode::OK)["data"]
        .clone();
    assert_eq!(listed["total"], 0);

    post(&s, page_view(site, "s", "203.0.113.1", "/after")).await;
    let data = summary_when(&s, site, |d| d["pv"] == 1 && d["uv"] == 1).await;
    assert_eq!(data["uv"], 1);
    ranking_is(&s, site, "", &[("/after", 1)]).await;
    assert_eq!(
        get(&s, &format!("/api/events/{other}/summary"))
            .await
            .expect(StatusCode::OK)["data"]["pv"],
        1
    );

    // The janitor removes the old generation's counters and events.
    let report = pingoo::purge::run(&s.app.state.db, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(report.events_deleted, 3);
    assert!(report.counters_deleted > 0);
    let db = &s.app.state.db;
    assert_eq!(
        db.delete_stats(site, 0, 10).await.unwrap(),
        0,
        "nothing of generation 0 is left"
    );

    // Deleting the site removes the current counters too.
    s.app
        .call(
            Method::DELETE,
            &format!("/api/sites/{site}"),
            Some(&s.token),
            None,
        )
        .await
        .expect(StatusCode::OK);
    pingoo::purge::run(db, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(db.delete_stats(site, 1, 10).await.unwrap(), 0);
    assert_eq!(
        get(&s, &format!("/api/events/{other}/summary"))
            .await
            .expect(StatusCode::OK)["data"]["pv"],
        1
    );
}
