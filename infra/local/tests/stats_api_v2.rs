//! Stats API v2 end to end, through DynamoDB Local's stream and the local poller: rankings
//! over a range, every panel in one breakdown, comparison with an earlier period, and
//! realtime figures (with an injected clock).

mod support;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use pingoo::events::Event;
use pingoo::model::Site;
use pingoo_stack::testkit::{Reply, Visitor};
use serde_json::{Value, json};
use support::{at, day, event, put};

struct Stack {
    app: support::Streaming,
    token: String,
}

async fn stack() -> Stack {
    let app = support::streaming().await;
    let (token, _) = app.user("owner@example.com").await;
    Stack { app, token }
}

async fn get(s: &Stack, path: &str) -> Reply {
    s.app.call(Method::GET, path, Some(&s.token), None).await
}

async fn data(s: &Stack, path: &str) -> Value {
    get(s, path).await.expect(StatusCode::OK)["data"].clone()
}

/// Polls `path` until `done` holds (the stream delivers within about a second).
async fn when(s: &Stack, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let d = data(s, path).await;
        if done(&d) {
            return d;
        }
        assert!(Instant::now() < deadline, "{path} never got there: {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn rows(list: &Value) -> Vec<(String, u64)> {
    list.as_array()
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

/// Page views over 2025-09-14..=17: each day its own mix of pages and countries.
fn traffic(site: &Site) -> Vec<Event> {
    let mut out = Vec::new();
    for (d, n) in [(14, 3), (15, 5), (16, 7), (17, 4)] {
        for i in 0..n {
            let mut e = event(
                site,
                at(day(2025, 9, d), 3600 + i64::from(i) * 60),
                &format!("s{d}-{}", i % 3),
                &format!("203.0.113.{}", i % 2),
                &format!("/p{}", (i + d) % 4),
                if i == 0 { "custom" } else { "page_view" },
            );
            e.country = ["FR", "DE", "JP"][(i as usize + d as usize) % 3].into();
            out.push(e);
        }
    }
    out
}

async fn loaded(s: &Stack) -> Site {
    let site = s.app.site(&s.token, "https://example.com").await;
    put(&s.app.state.db, &traffic(&site)).await;
    // Every day's figures, worked out by hand: day items, hours, distinct visitors and
    // addresses and session items are separate writes, so wait for each of them. (Three
    // sessions a day from two addresses; one custom event a day, the first.)
    for (d, pv, bounce, duration) in [
        (14, 2, 100.0, 0),  // three one-event sessions
        (15, 4, 33.3, 120), // sessions of 180 s, 180 s and one event
        (16, 6, 0.0, 240),  // 360 s, 180 s, 180 s
        (17, 3, 66.7, 60),  // 180 s and two one-event sessions
    ] {
        when(
            s,
            &format!("/api/events/{}/summary?date=202509{d}", site.id),
            |x| {
                x["pv"] == pv
                    && x["event_count"] == 1
                    && x["uv"] == 3
                    && x["ip_count"] == 2
                    && x["bounce_rate"] == bounce
                    && x["avg_duration"] == duration
            },
        )
        .await;
    }
    // Ranking items are written beside the day items: wait for them too.
    let sum = |list: &Value| rows(list).iter().map(|(_, c)| c).sum::<u64>();
    when(
        s,
        &format!(
            "/api/events/{}/breakdown?start_date=20250914&end_date=20250917&limit=100",
            site.id
        ),
        |d| {
            [
                "url", "referrer", "browser", "os", "device", "country", "city", "isp", "screen",
            ]
            .iter()
            .all(|t| sum(&d[*t]["list"]) == 15)
                && sum(&d["event_type"]["list"]) == 4
        },
    )
    .await;
    site
}

#[tokio::test]
async fn a_range_ranking_is_the_sum_of_its_days_and_the_breakdown_agrees() {
    let s = stack().await;
    let site = loaded(&s).await;
    let id = site.id;
    let range = "start_date=20250915&end_date=2025-09-17";

    for stat in ["url", "country", "browser"] {
        let whole = data(
            &s,
            &format!("/api/events/{id}/stats?{range}&stat_type={stat}&page_size=100"),
        )
        .await;
        let mut sum: std::collections::BTreeMap<String, u64> = Default::default();
        for d in 15..=17 {
            let one = data(
                &s,
                &format!("/api/events/{id}/stats?date=202509{d}&stat_type={stat}&page_size=100"),
            )
            .await;
            for (k, c) in rows(&one["list"]) {
                *sum.entry(k).or_default() += c;
            }
        }
        let mut expected: Vec<(String, u64)> = sum.into_iter().collect();
        expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        assert_eq!(rows(&whole["list"]), expected, "{stat}");
        assert_eq!(whole["total"], expected.len());
        assert_eq!(whole["page_size"], 100);
    }
    // By hand (page views are i ≥ 1, url (i + day) % 4): the 15th /p0 /p1 /p2 /p3, the
    // 16th /p1 /p2 /p3 /p0 /p1 /p2, the 17th /p2 /p3 /p0: /p2 4, then /p0 /p1 /p3 3 each.
    let url = data(&s, &format!("/api/events/{id}/stats?{range}&page_size=2")).await;
    assert_eq!(rows(&url["list"]), [("/p2".into(), 4), ("/p0".into(), 3)]);
    assert_eq!(
        (url["total"].clone(), url["page"].clone()),
        (json!(4), json!(1))
    );
    let page2 = data(
        &s,
        &format!("/api/events/{id}/stats?{range}&page_size=2&page=2"),
    )
    .await;
    assert_eq!(rows(&page2["list"]), [("/p1".into(), 3), ("/p3".into(), 3)]);

    // Every panel in one request, with the per-type endpoint's counts.
    let b = data(
        &s,
        &format!("/api/events/{id}/breakdown?{range}&stat_types=url,country,event_type&limit=2"),
    )
    .await;
    assert_eq!(
        b.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["country", "event_type", "url"]
    );
    assert_eq!(rows(&b["url"]["list"]), rows(&url["list"]));
    assert_eq!(b["url"]["total"], 4);
    assert_eq!(rows(&b["event_type"]["list"]), [("signup".into(), 3)]);
    let all = data(&s, &format!("/api/events/{id}/breakdown?{range}")).await;
    assert_eq!(all.as_object().unwrap().len(), 11);
    assert_eq!(all["url"]["list"].as_array().unwrap().len(), 4);
    // The original one-day form still answers as before.
    let one = data(&s, &format!("/api/events/{id}/stats?date=20250916")).await;
    assert_eq!(one["page_size"], 10);

    for (query, names) in [
        (format!("stats?date=20250916&{range}"), "date"),
        (format!("stats?{range}&page_size=101"), "page_size"),
        (format!("stats?{range}&page_size=0"), "page_size"),
        (
            "stats?start_date=20250917&end_date=20250915".into(),
            "start_date",
        ),
        ("stats?start_date=20240101&end_date=20250915".into(), "366"),
        (format!("breakdown?{range}&stat_types=url,url"), "url"),
        (format!("breakdown?{range}&stat_types=url,nope"), "nope"),
        (format!("breakdown?{range}&limit=0"), "limit"),
        ("breakdown?date=yesterday".into(), "date"),
    ] {
        let msg = get(&s, &format!("/api/events/{id}/{query}"))
            .await
            .expect_error(StatusCode::BAD_REQUEST);
        assert!(msg.contains(names), "{query}: {msg}");
    }
}

#[tokio::test]
async fn compare_gives_the_previous_period_as_its_own_summary_would() {
    let s = stack().await;
    let site = loaded(&s).await;
    let id = site.id;
    let now = data(
        &s,
        &format!("/api/events/{id}/summary?start_date=20250916&end_date=20250917&compare=previous"),
    )
    .await;
    let before = data(
        &s,
        &format!("/api/events/{id}/summary?start_date=20250914&end_date=20250915"),
    )
    .await;
    for field in [
        "pv",
        "uv",
        "ip_count",
        "event_count",
        "bounce_rate",
        "avg_duration",
        "hourly_stats",
        "daily",
        "start_time",
        "end_time",
    ] {
        assert_eq!(now["previous"][field], before[field], "{field}");
    }
    assert_eq!(
        (now["pv"].clone(), now["previous"]["pv"].clone()),
        (json!(9), json!(6))
    );
    // One day against the day before.
    let day = data(
        &s,
        &format!("/api/events/{id}/summary?date=20250915&compare=previous"),
    )
    .await;
    assert_eq!(day["previous"]["start_time"], "20250914");
    assert_eq!(day["previous"]["pv"], 2);
    assert!(day["previous"]["hourly_stats"].is_array());
    // A year back: nothing then.
    let year = data(
        &s,
        &format!("/api/events/{id}/summary?date=20250915&compare=year"),
    )
    .await;
    assert_eq!(year["previous"]["start_time"], "20240915");
    assert_eq!(year["previous"]["pv"], 0);
    // No compare: the original shape, without `previous`.
    let plain = data(&s, &format!("/api/events/{id}/summary?date=20250915")).await;
    assert!(plain.get("previous").is_none());
    let msg = get(&s, &format!("/api/events/{id}/summary?compare=week"))
        .await
        .expect_error(StatusCode::BAD_REQUEST);
    assert!(msg.contains("compare"), "{msg}");
}

#[tokio::test]
async fn realtime_counts_the_last_five_minutes_of_sessions_and_thirty_of_page_views() {
    let s = stack().await;
    let site = s.app.site(&s.token, "https://example.com").await;
    let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
    let googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    for (session, kind, agent) in [
        ("A", "page_view", chrome),
        ("A", "page_view", chrome),
        ("B", "page_view", chrome),
        ("C", "custom", chrome),
        ("bot", "page_view", googlebot),
    ] {
        let body = json!({"site_id": site.id, "session_id": session, "url": "/", "ip": "203.0.113.9",
                          "event_type": kind, "user_agent": agent});
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
    let path = format!("/api/events/{}/realtime", site.id);
    let r = when(&s, &path, |d| d["visitors"] == 3).await;
    let minutes = r["pageviews"].as_array().unwrap();
    assert_eq!(minutes.len(), 30);
    let total: u64 = minutes.iter().map(|m| m["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 3, "human page views only: {r}");
    assert!(
        minutes
            .windows(2)
            .all(|w| w[0]["minute"].as_str() < w[1]["minute"].as_str())
    );
    assert!(minutes[29]["minute"].as_str().unwrap().ends_with(":00Z"));

    // The same items read later: visitors are gone after 5 minutes, page views after 30.
    let db = &s.app.state.db;
    let now = chrono::Utc::now();
    let later = |m| now + chrono::Duration::minutes(m);
    let (r6, _) = pingoo::stats::realtime::realtime(db, site.id, site.generation, later(6))
        .await
        .unwrap();
    assert_eq!(r6.visitors, 0);
    assert_eq!(r6.pageviews.iter().map(|m| m.count).sum::<u64>(), 3);
    let (r31, cost) = pingoo::stats::realtime::realtime(db, site.id, site.generation, later(31))
        .await
        .unwrap();
    assert_eq!(r31.pageviews.iter().map(|m| m.count).sum::<u64>(), 0);
    assert_eq!(cost.requests, 1, "30 minute items in one batch read");

    // Someone else's site: 403; no site: 404.
    let (other, _) = s.app.user("other@example.com").await;
    let reply = s.app.call(Method::GET, &path, Some(&other), None).await;
    reply.expect_error(StatusCode::FORBIDDEN);
    get(&s, "/api/events/999999/realtime")
        .await
        .expect_error(StatusCode::NOT_FOUND);
    get(&s, &format!("/api/events/{}/breakdown", site.id))
        .await
        .expect(StatusCode::OK);
    s.app
        .call(
            Method::GET,
            &format!("/api/events/{}/breakdown", site.id),
            Some(&other),
            None,
        )
        .await
        .expect_error(StatusCode::FORBIDDEN);
}
