//! The site list with each site's recent figures, and a month's usage, through DynamoDB
//! Local's stream and the local poller.

mod support;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use chrono::{Datelike, Utc};
use pingoo_stack::testkit::TestApp;
use serde_json::Value;
use support::{at, event, put};

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    app.call(Method::GET, path, Some(token), None)
        .await
        .expect(StatusCode::OK)["data"]
        .clone()
}

#[tokio::test]
async fn the_site_list_carries_each_sites_week_and_usage_counts_the_month() {
    let app = support::streaming().await;
    let (token, _) = app.user("owner@example.com").await;
    let busy = app.site(&token, "https://busy.example").await;
    let quiet = app.site(&token, "https://quiet.example").await;
    let today = Utc::now().date_naive();
    let three_ago = today - chrono::Duration::days(3);
    let mut events = Vec::new();
    for (d, n) in [(today, 4), (three_ago, 2)] {
        for i in 0..n {
            events.push(event(
                &busy,
                at(d, 60 + i),
                &format!("s{i}"),
                "203.0.113.1",
                "/",
                "page_view",
            ));
        }
    }
    events.push(event(
        &busy,
        at(today, 600),
        "s0",
        "203.0.113.1",
        "/",
        "custom",
    ));
    events.push(event(&busy, at(today, 700), "g", "66.249.66.1", "/", "bot"));
    put(&app.state.db, &events).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let listed = loop {
        let list = get(&app, &token, "/api/sites?include=summary").await;
        let busy_row = list["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == busy.id)
            .cloned()
            .unwrap();
        if busy_row["summary"]["pv"] == 4 {
            break list;
        }
        assert!(Instant::now() < deadline, "never counted: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let rows = listed["list"].as_array().unwrap();
    assert_eq!(rows[0]["id"], quiet.id, "newest first");
    let quiet_row = &rows[0]["summary"];
    assert_eq!(
        (quiet_row["pv"].clone(), quiet_row["uv"].clone()),
        (0.into(), 0.into())
    );
    assert_eq!(quiet_row["daily"].as_array().unwrap().len(), 7);
    let busy_row = &rows[1]["summary"];
    assert_eq!(busy_row["uv"], 4);
    let daily = busy_row["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 7);
    assert_eq!(daily[6]["date"], today.format("%Y%m%d").to_string());
    assert_eq!(daily[6]["pv"], 4);
    assert_eq!(daily[3]["date"], three_ago.format("%Y%m%d").to_string());
    assert_eq!(daily[3]["pv"], 2);
    // Without include, the original shape.
    let plain = get(&app, &token, "/api/sites").await;
    assert!(plain["list"][0].get("summary").is_none());
    app.call(
        Method::GET,
        "/api/sites?include=everything",
        Some(&token),
        None,
    )
    .await
    .expect_error(StatusCode::BAD_REQUEST);

    // This month's usage: page views, custom events and bots (the 3-days-ago views
    // count when they fall in this month).
    let usage = get(&app, &token, &format!("/api/sites/{}/usage", busy.id)).await;
    let earlier_in_month = if three_ago.month() == today.month() {
        2
    } else {
        0
    };
    assert_eq!(usage["page_views"], 4 + earlier_in_month);
    assert_eq!(usage["custom_events"], 1);
    assert_eq!(usage["bot_events"], 1);
    let events = usage["events"].as_u64().unwrap();
    assert_eq!(events, 6 + earlier_in_month);
    let cost = usage["estimated_cost_usd"].as_f64().unwrap();
    assert!((cost - (events as f64 * 2.21e-6 * 1e4).round() / 1e4).abs() < 1e-9);
    assert!(
        usage["price_basis"]
            .as_str()
            .unwrap()
            .contains("docs/cost.md")
    );
    assert_eq!(usage["month"], today.format("%Y%m").to_string());
    let last_year = get(
        &app,
        &token,
        &format!("/api/sites/{}/usage?month=2025-01", busy.id),
    )
    .await;
    assert_eq!(
        (last_year["events"].clone(), last_year["month"].clone()),
        (0.into(), "202501".into())
    );
    for bad in ["2025", "202513", "abcdef", "2025-1"] {
        let msg = app
            .call(
                Method::GET,
                &format!("/api/sites/{}/usage?month={bad}", busy.id),
                Some(&token),
                None,
            )
            .await
            .expect_error(StatusCode::BAD_REQUEST);
        assert!(msg.contains("month"), "{bad}: {msg}");
    }
    let (other, _) = app.user("other@example.com").await;
    app.call(
        Method::GET,
        &format!("/api/sites/{}/usage", busy.id),
        Some(&other),
        None,
    )
    .await
    .expect_error(StatusCode::FORBIDDEN);
}
